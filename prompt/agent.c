/*
 * agent.c - the prompt agent's connection to tollgated: connect,
 * SUBSCRIBE, read PROMPT, WITHDRAW, DENIED and reply lines, send ANSWER, and
 * try again every AGENT_RETRY_MS while the daemon is away; see agent.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "common/ctl_client.h"
#include "prompt/agent.h"
#include "prompt/denied.h"

static void agent_connect(struct agent *a);
static void agent_drop(struct agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int64_t
agent_now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/*
 * Tell the user msg.  A state of the connection is told only when it is
 * not what they were last told: a daemon that stays away for an hour is
 * one line, not 1800.
 */
static void
agent_vtell(struct agent *a, bool state, int level, const char *fmt, va_list ap)
{
	char msg[AGENT_NOTE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (state && strcmp(msg, a->note) == 0)
		return;
	if (state)
		snprintf(a->note, sizeof(a->note), "%s", msg);
	if (a->ui->note != NULL)
		a->ui->note(a, level, msg);
}

static void __attribute__((format(printf, 3, 4)))
agent_tell(struct agent *a, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	agent_vtell(a, false, level, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
agent_tell_state(struct agent *a, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	agent_vtell(a, true, level, fmt, ap);
	va_end(ap);
}

static long
agent_index(const struct agent *a, uint64_t id)
{
	size_t i;

	for (i = 0; i < a->n_prompts; i++)
		if (a->prompts[i]->p.id == id)
			return (long)i;
	return -1;
}

struct agent_prompt *
agent_find(struct agent *a, uint64_t id)
{
	long i = agent_index(a, id);

	return i >= 0 ? a->prompts[i] : NULL;
}

/* Forget prompt i: it leaves a->prompts before removed() hears of it. */
static void
agent_remove_at(struct agent *a, size_t i, const char *why)
{
	struct agent_prompt *ap = a->prompts[i];

	memmove(&a->prompts[i], &a->prompts[i + 1],
	        (a->n_prompts - i - 1) * sizeof(a->prompts[0]));
	a->n_prompts--;
	a->ui->removed(a, ap, why);
	free(ap);
}

static void
agent_unwatch(guint *id)
{
	if (*id != 0)
		g_source_remove(*id);
	*id = 0;
}

/*
 * Close the connection and forget what hung on it: answers whose replies
 * will not come now, and every prompt (the daemon sends the pending ones
 * again after the next SUBSCRIBE).
 */
static void
agent_close(struct agent *a, const char *why)
{
	struct agent_req req;
	struct agent_prompt *p;

	agent_unwatch(&a->in_watch);
	agent_unwatch(&a->out_watch);
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	a->in_len = 0;
	a->out_len = 0;
	a->state = AGENT_DOWN;
	while (a->n_reqs > 0) {
		req = a->reqs[a->req_head];
		a->req_head = (a->req_head + 1) % AGENT_REQS_MAX;
		a->n_reqs--;
		if (req.verb != CTL_ANSWER)
			continue;
		p = agent_find(a, req.id);
		if (p != NULL)
			p->answering = false;
		if (a->ui->answered != NULL)
			a->ui->answered(a, p, req.id, AGENT_LOST,
			                "not confirmed: the connection to "
			                "tollgated was lost");
	}
	while (a->n_prompts > 0)
		agent_remove_at(a, a->n_prompts - 1, why);
}

static gboolean
agent_on_retry(gpointer data)
{
	struct agent *a = data;

	a->retry_timer = 0;
	agent_connect(a);
	return G_SOURCE_REMOVE;
}

static void
agent_retry_later(struct agent *a)
{
	if (a->retry_timer == 0)
		a->retry_timer =
		    g_timeout_add(AGENT_RETRY_MS, agent_on_retry, a);
}

/* Lose the connection for the reason given, and try again later. */
static void
agent_drop(struct agent *a, const char *fmt, ...)
{
	char why[AGENT_NOTE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	agent_close(a, "disconnected");
	agent_tell_state(a, LOG_WARNING,
	                 "lost the connection to tollgated at %s: %s; "
	                 "trying again every %d s",
	                 a->path, why, AGENT_RETRY_MS / 1000);
	agent_retry_later(a);
}

/* A send failed for good: drop, but from the loop, never from inside a
 * front end's call to agent_answer(), which still holds its prompt. */
static gboolean
agent_on_send_failed(gpointer data)
{
	struct agent *a = data;

	if (a->fd != -1)
		agent_drop(a, "sending to tollgated failed");
	return G_SOURCE_REMOVE;
}

static gboolean agent_on_output(int fd, GIOCondition cond, gpointer data);

/* Send what waits in a->out, as far as the socket takes it now. */
static void
agent_flush(struct agent *a)
{
	ssize_t n;

	while (a->out_len > 0) {
		n = send(a->fd, a->out, a->out_len,
		         MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			memmove(a->out, a->out + n, a->out_len - (size_t)n);
			a->out_len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (a->out_watch == 0)
				a->out_watch = g_unix_fd_add(
				    a->fd, G_IO_OUT, agent_on_output, a);
			return;
		}
		a->out_len = 0;
		/* A daemon that closed may have said why in a line still
		 * waiting to be read: the reading side ends the connection
		 * once it has read that. */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return;
		agent_tell(a, LOG_WARNING, "sending to tollgated at %s: %s",
		           a->path, n == -1 ? strerror(errno) : "nothing sent");
		g_idle_add(agent_on_send_failed, a);
		return;
	}
}

static gboolean
agent_on_output(int fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;

	a->out_watch = 0;
	agent_flush(a);
	return G_SOURCE_REMOVE;
}

/* Send one request line (with its "\n") and remember what its reply will
 * answer.  0, or -1 + err. */
static int
agent_request(struct agent *a, enum ctl_verb verb, uint64_t id,
              const char *line, size_t len, char *err, size_t errlen)
{
	struct agent_req *req;

	if (a->fd == -1) {
		snprintf(err, errlen, "not connected to tollgated");
		return -1;
	}
	if (a->n_reqs == AGENT_REQS_MAX) {
		snprintf(err, errlen,
		         "%d requests wait for tollgated's reply already",
		         AGENT_REQS_MAX);
		return -1;
	}
	if (len > sizeof(a->out) - a->out_len) {
		snprintf(err, errlen,
		         "tollgated does not take what was sent to it");
		return -1;
	}
	memcpy(a->out + a->out_len, line, len);
	a->out_len += len;
	req = &a->reqs[(a->req_head + a->n_reqs) % AGENT_REQS_MAX];
	req->verb = verb;
	req->id = id;
	a->n_reqs++;
	agent_flush(a);
	return 0;
}

int
agent_answer(struct agent *a, struct agent_prompt *p,
             const struct actions_def *def, char *err, size_t errlen)
{
	struct actions_choice c;
	struct ctl_line l;
	char buf[128], id[24];
	int len;

	if (!actions_resolve(&p->p, def, &c)) {
		snprintf(err, errlen, "prompt %llu does not offer %s",
		         (unsigned long long)p->p.id, def->id);
		return -1;
	}
	if (p->answering) {
		snprintf(err, errlen,
		         "prompt %llu is answered already; waiting for "
		         "tollgated's reply",
		         (unsigned long long)p->p.id);
		return -1;
	}
	snprintf(id, sizeof(id), "%llu", (unsigned long long)p->p.id);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, ctl_verb_name(CTL_ANSWER));
	ctl_put_word(&l, id);
	ctl_put_word(&l, action_name(def->verdict));
	ctl_put_word(&l, ctl_scope_name(c.scope));
	ctl_put_word(&l, ctl_duration_name(c.duration));
	len = ctl_line_end(&l);
	if (len == -1) {
		snprintf(err, errlen, "ANSWER line too long");
		return -1;
	}
	if (agent_request(a, CTL_ANSWER, p->p.id, buf, (size_t)len, err,
	                  errlen) == -1)
		return -1;
	p->answering = true;
	return 0;
}

/* The reply to SUBSCRIBE. */
static void
agent_on_subscribed(struct agent *a, const struct ctl_reply *rep)
{
	const char *v;

	if (!rep->ok && rep->code == CTL_E_PERM) {
		/* Asking again cannot help: who we are will not change. */
		agent_tell(a, LOG_ERR,
		           "tollgated at %s refused the subscription (ERR "
		           "perm): %s; only the program that prompt_program "
		           "in tollgate.conf(5) names may subscribe, run by a "
		           "guarded user or an admin",
		           a->path, rep->msg);
		agent_quit(a, 1);
		return;
	}
	if (!rep->ok) {
		agent_drop(a, "SUBSCRIBE refused: %s %s", rep->codestr,
		           rep->msg);
		return;
	}
	v = ctl_reply_get(rep, "agent");
	a->agent_id = v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
	v = ctl_reply_get(rep, "uid");
	a->uid = v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
	v = ctl_reply_get(rep, "timeout");
	a->timeout_s = v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
	v = ctl_reply_get(rep, "default_action");
	a->default_action = v != NULL ? action_parse(v) : -1;
	/* prompt_answers: which answers of ours may outlive the prompt is
	 * in each PROMPT's durations=; this is only said. */
	v = ctl_reply_get(rep, "answers");
	snprintf(a->answers, sizeof(a->answers), "%s",
	         v != NULL && strlen(v) < sizeof(a->answers) ? v : "");
	a->state = AGENT_SUBSCRIBED;
	agent_tell_state(
	    a, LOG_INFO,
	    "subscribed to tollgated at %s as agent %u of uid "
	    "%u (no answer in %u s: %s)%s%s",
	    a->path, a->agent_id, a->uid, a->timeout_s,
	    a->default_action >= 0 ? action_name((enum action)a->default_action)
	                           : "?",
	    v != NULL && strcmp(v, "all") != 0 ? "; prompt_answers = " : "",
	    v != NULL && strcmp(v, "all") != 0 ? v : "");
}

/*
 * What the reply rep to our answer of p (NULL when gone) says became of
 * it.  An ERR after the daemon withdrew p as answered, other than
 * notfound (someone answered first), is about our answer's rule: the
 * connections have their verdict already (docs/control.md, ANSWER).
 */
static enum agent_outcome
agent_outcome(const struct agent_prompt *p, const struct ctl_reply *rep)
{
	if (rep->ok)
		return AGENT_TAKEN;
	if (p != NULL && p->decided && rep->code != CTL_E_NOTFOUND)
		return AGENT_NO_RULE;
	return AGENT_REFUSED;
}

/* The reply to our ANSWER of prompt req->id. */
static void
agent_on_answered(struct agent *a, const struct agent_req *req,
                  const struct ctl_reply *rep)
{
	char text[AGENT_NOTE_MAX];
	long i = agent_index(a, req->id);
	struct agent_prompt *p = i >= 0 ? a->prompts[i] : NULL;
	enum agent_outcome outcome = agent_outcome(p, rep);

	/* The daemon's own words say what was done and what was not. */
	if (outcome == AGENT_NO_RULE)
		actions_clean(rep->msg, false, text, sizeof(text));
	else
		actions_reply(rep, text, sizeof(text));
	if (p != NULL)
		p->answering = false;
	if (a->ui->answered != NULL)
		a->ui->answered(a, p, req->id, outcome, text);
	/* Decided by us, or gone (notfound, withdrawn): nothing is left
	 * to ask. */
	if (p == NULL || (i = agent_index(a, req->id)) < 0)
		return;
	if (outcome == AGENT_TAKEN || outcome == AGENT_NO_RULE)
		agent_remove_at(a, (size_t)i, "answered");
	else if (p->withdrawn[0] != '\0')
		agent_remove_at(a, (size_t)i, p->withdrawn);
	else if (rep->code == CTL_E_NOTFOUND)
		agent_remove_at(a, (size_t)i, "gone");
}

static void
agent_on_reply(struct agent *a, const char *line, size_t len)
{
	struct ctl_reply rep;
	struct agent_req req;
	char err[CTL_ERRLEN];

	if (ctl_reply_parse(line, len, &rep, err, sizeof(err)) == -1) {
		agent_drop(a, "a bad reply: %s", err);
		return;
	}
	if (a->n_reqs == 0) {
		ctl_reply_free(&rep);
		agent_drop(a, "a reply to no request: %.64s", line);
		return;
	}
	req = a->reqs[a->req_head];
	a->req_head = (a->req_head + 1) % AGENT_REQS_MAX;
	a->n_reqs--;
	if (req.verb == CTL_SUBSCRIBE)
		agent_on_subscribed(a, &rep);
	else
		agent_on_answered(a, &req, &rep);
	ctl_reply_free(&rep);
}

static void
agent_on_prompt(struct agent *a, const char *line, size_t len)
{
	struct agent_prompt *ap;
	char err[CTL_ERRLEN];
	long i;

	ap = calloc(1, sizeof(*ap));
	if (ap == NULL) {
		agent_tell(a, LOG_ERR, "out of memory: a prompt is not shown");
		return;
	}
	if (ctl_prompt_parse(line, len, &ap->p, err, sizeof(err)) == -1) {
		/* Its default applies in time; the others still count. */
		agent_tell(a, LOG_WARNING, "ignored a PROMPT line: %s", err);
		free(ap);
		return;
	}
	ap->seen = agent_now();
	if ((i = agent_index(a, ap->p.id)) >= 0)
		agent_remove_at(a, (size_t)i, "sent again");
	if (a->n_prompts == AGENT_PROMPTS_MAX) {
		agent_tell(a, LOG_WARNING,
		           "%d prompts pending already: prompt %llu is left "
		           "to its default",
		           AGENT_PROMPTS_MAX, (unsigned long long)ap->p.id);
		free(ap);
		return;
	}
	a->prompts[a->n_prompts++] = ap;
	a->ui->added(a, ap);
}

static void
agent_on_withdraw(struct agent *a, const char *line, size_t len)
{
	struct ctl_withdraw w;
	char err[CTL_ERRLEN],
	    why[sizeof(((struct agent_prompt *)0)->withdrawn)];
	long i;

	if (ctl_withdraw_parse(line, len, &w, err, sizeof(err)) == -1) {
		agent_tell(a, LOG_WARNING, "ignored a WITHDRAW line: %s", err);
		return;
	}
	/* None when it is gone already (expired here). */
	if ((i = agent_index(a, w.id)) < 0)
		return;
	actions_withdrawn(&w, why, sizeof(why));
	/* Most likely by our own answer: its reply says, and comes next. */
	if (a->prompts[i]->answering) {
		snprintf(a->prompts[i]->withdrawn,
		         sizeof(a->prompts[i]->withdrawn), "%s", why);
		a->prompts[i]->decided = strcmp(w.reason, "answered") == 0;
		return;
	}
	agent_remove_at(a, (size_t)i, why);
}

/* A refusal of our user's (notify_denials): shown, never answered. */
static void
agent_on_denied(struct agent *a, const char *line, size_t len)
{
	struct ctl_denied *d;
	char err[CTL_ERRLEN];

	/* 5 KB: not on the stack of a GLib callback. */
	d = malloc(sizeof(*d));
	if (d == NULL) {
		agent_tell(a, LOG_ERR, "out of memory: a refusal is not shown");
		return;
	}
	if (ctl_denied_parse(line, len, d, err, sizeof(err)) == -1)
		agent_tell(a, LOG_WARNING, "ignored a DENIED line: %s", err);
	else
		denied_show(a, d);
	free(d);
}

/* True when line[0..len) starts with the word w. */
static bool
agent_word_is(const char *line, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && memcmp(line, w, n) == 0 &&
	       (len == n || line[n] == ' ');
}

/* One line from the daemon (without "\n"), told apart by its first word:
 * PROMPT, WITHDRAW and DENIED come unasked, OK and ERR answer our
 * requests. */
static void
agent_line(struct agent *a, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (agent_word_is(line, len, "OK") || agent_word_is(line, len, "ERR"))
		agent_on_reply(a, line, len);
	else if (a->state != AGENT_SUBSCRIBED)
		agent_drop(a, "\"%.*s\" before the reply to SUBSCRIBE",
		           (int)(len < 64 ? len : 64), line);
	else if (agent_word_is(line, len, "PROMPT"))
		agent_on_prompt(a, line, len);
	else if (agent_word_is(line, len, "WITHDRAW"))
		agent_on_withdraw(a, line, len);
	else if (agent_word_is(line, len, "DENIED"))
		agent_on_denied(a, line, len);
	else
		/* A newer daemon may say more; what we do not know we skip. */
		agent_tell(a, LOG_DEBUG, "skipped a line: %.*s",
		           (int)(len < 64 ? len : 64), line);
}

/* Handle every whole line read.  False when the connection is gone or
 * the program ends: the caller must not touch it any more. */
static bool
agent_take_lines(struct agent *a)
{
	size_t start = 0, len;
	char *nl;

	while ((nl = memchr(a->in + start, '\n', a->in_len - start)) != NULL) {
		len = (size_t)(nl - (a->in + start));
		agent_line(a, a->in + start, len);
		if (a->fd == -1 || a->quitting)
			return false;
		start += len + 1;
	}
	memmove(a->in, a->in + start, a->in_len - start);
	a->in_len -= start;
	if (a->in_len == AGENT_IN_MAX) {
		agent_drop(a, "a line longer than %d bytes", CTL_LINE_MAX);
		return false;
	}
	return true;
}

static gboolean
agent_on_input(int fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;
	ssize_t n;

	for (;;) {
		n = recv(fd, a->in + a->in_len, AGENT_IN_MAX - a->in_len,
		         MSG_DONTWAIT);
		if (n > 0) {
			a->in_len += (size_t)n;
			/* Closed: agent_close() removed this watch already.
			 * Quitting: agent_stop() removes it, so it must stay
			 * alive until then. */
			if (!agent_take_lines(a))
				return a->fd == -1 ? G_SOURCE_REMOVE
				                   : G_SOURCE_CONTINUE;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		a->in_watch = 0;
		if (n == 0)
			agent_drop(a, "tollgated closed it");
		else
			agent_drop(a, "reading: %s", strerror(errno));
		return G_SOURCE_REMOVE;
	}
}

static void
agent_connect(struct agent *a)
{
	char err[CTL_ERRLEN], line[32];
	struct ctl_line l;
	int fd, len, flags;

	fd = ctl_connect(a->path, err, sizeof(err));
	a->down = fd == CTL_DOWN;
	if (fd < 0) {
		agent_tell_state(a, LOG_WARNING, "%s; trying again every %d s",
		                 err, AGENT_RETRY_MS / 1000);
		agent_retry_later(a);
		return;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		agent_tell_state(a, LOG_ERR,
		                 "fcntl(O_NONBLOCK) on the control socket: %s; "
		                 "trying again every %d s",
		                 strerror(errno), AGENT_RETRY_MS / 1000);
		close(fd);
		agent_retry_later(a);
		return;
	}
	a->fd = fd;
	a->state = AGENT_SUBSCRIBING;
	a->in_watch =
	    g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, agent_on_input, a);
	ctl_line_init(&l, line, sizeof(line));
	ctl_put_word(&l, ctl_verb_name(CTL_SUBSCRIBE));
	len = ctl_line_end(&l);
	if (agent_request(a, CTL_SUBSCRIBE, 0, line, (size_t)len, err,
	                  sizeof(err)) == -1)
		agent_drop(a, "%s", err);
}

static gboolean
agent_on_tick(gpointer data)
{
	struct agent *a = data;
	int64_t now = agent_now();
	size_t i;

	/* The daemon withdraws these itself, and an answer counts until
	 * it does: a prompt at 0 s stays.  This is for a WITHDRAW that
	 * never comes, so that nothing is offered for long that can no
	 * longer count. */
	for (i = a->n_prompts; i-- > 0;)
		if (a->prompts[i]->p.expires > 0 &&
		    now >= a->prompts[i]->p.expires + AGENT_EXPIRE_GRACE_S)
			agent_remove_at(a, i, "expired");
	if (a->ui->tick != NULL)
		a->ui->tick(a);
	return G_SOURCE_CONTINUE;
}

int
agent_init(struct agent *a, const char *path, const struct agent_ui *ui,
           GMainLoop *loop)
{
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->ui = ui;
	a->loop = loop;
	a->fd = -1;
	a->default_action = -1;
	a->in = malloc(AGENT_IN_MAX);
	return a->in != NULL ? 0 : -1;
}

int
agent_start(struct agent *a)
{
	if (a->ui->start != NULL && a->ui->start(a) == -1)
		return -1;
	a->tick_timer = g_timeout_add(1000, agent_on_tick, a);
	agent_connect(a);
	return 0;
}

void
agent_stop(struct agent *a)
{
	agent_unwatch(&a->retry_timer);
	agent_unwatch(&a->tick_timer);
	/* Nothing is answered by leaving: the daemon applies the default
	 * when its timeout comes, or at once when no other agent is left. */
	a->n_reqs = 0;
	agent_close(a, "quitting");
	if (a->ui->stop != NULL)
		a->ui->stop(a);
}

void
agent_free(struct agent *a)
{
	free(a->in);
	a->in = NULL;
}

void
agent_quit(struct agent *a, int status)
{
	a->status = status;
	a->quitting = true;
	g_main_loop_quit(a->loop);
}
