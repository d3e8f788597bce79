/*
 * control.c - the control server: its socket, its clients, the line loop
 * and dispatch; see control.h.  The verbs are the handlers' of the verb
 * table (control_int.h); this file names none.
 *
 * A client's states are control_int.h's.  Lines are taken
 * CONTROL_LINES_PER_TURN at a time; when more are buffered, the client's
 * `more` event continues on the next turn.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/ctl.h"
#include "common/log.h"
#include "proxyd/accept.h"
#include "proxyd/broker.h"
#include "proxyd/control.h"
#include "proxyd/control_access.h"
#include "proxyd/control_agent.h"
#include "proxyd/control_int.h"

/* A failing accept pauses the socket this long (accept.h). */
#define CONTROL_ACCEPT_BACKOFF_MS 1000
#define CONTROL_GROUPS_MAX        65536 /* NGROUPS_MAX of Linux */
/* Replies a client has not taken yet: past this, its requests wait. */
#define CONTROL_OUTPUT_MAX ((size_t)256 * 1024)
#define CONTROL_READ_CHUNK 16384

unsigned
control_agents(const struct control *ctl)
{
	const struct control_client *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &ctl->clients, entry)
	if (c->agent.subscribed && c->state != CLIENT_CLOSING)
		n++;
	return n;
}

/* Whether agent c may see a prompt of uid (has_uid false: of an unknown
 * user, which only admins see). */
static bool
agent_sees(const struct control_client *c, bool has_uid, uid_t uid)
{
	return c->agent.subscribed && c->state != CLIENT_CLOSING &&
	       (c->admin || (has_uid && c->uid == uid));
}

/* Whether agent c is told of uid's refusals (notify_denials): the agent
 * of uid's own user, that is of uid or of the guarded user whose
 * subordinate uid it is; an admin's agent of its own user's only. */
static bool
agent_told(const struct control_client *c, uid_t uid)
{
	return c->agent.subscribed && c->state != CLIENT_CLOSING &&
	       (c->uid == uid ||
	        c->uid == config_uid_owner(&c->ctl->pd->cfg, uid));
}

/* Whether agent c is among who (control_int.h) for uid. */
static bool
agent_is(const struct control_client *c, enum control_agents who, bool has_uid,
         uid_t uid)
{
	return who == CONTROL_TOLD ? has_uid && agent_told(c, uid)
	                           : agent_sees(c, has_uid, uid);
}

static void client_process(struct control_client *c);
static void client_resume(struct control_client *c);

const char *
control_client_desc(const struct control_client *c, char *buf, size_t len)
{
	snprintf(buf, len, "client %llu (uid %u, pid %d)",
	         (unsigned long long)c->id, (unsigned)c->uid, (int)c->pid);
	return buf;
}

/* Stop reading c and free it once its last reply is out: by
 * client_write_cb(), or by client_more_cb() when nothing is queued. */
static void
client_close_soon(struct control_client *c)
{
	c->state = CLIENT_CLOSING;
	event_del(c->rev);
	event_active(c->more, EV_TIMEOUT, 1);
}

static void
client_free(struct control_client *c)
{
	struct control *ctl = c->ctl;
	bool agent = c->agent.subscribed;

	if (c->pending != NULL)
		c->pending->client = NULL;
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->n_clients--;
	if (c->admin)
		ctl->n_admin--;
	event_free(c->rev);
	bufferevent_free(c->bev); /* closes the socket */
	evbuffer_free(c->in);
	event_free(c->more);
	if (c->body != NULL)
		c->body->free(c->body_arg);
	free(c);
	/* Last: the broker may write to the other agents. */
	if (agent && !ctl->closing)
		broker_agents_changed(ctl->pd);
}

void
control_reply_raw(struct control_client *c, const char *line, size_t len)
{
	char d[64];

	if (bufferevent_write(c->bev, line, len) == -1) {
		log_warn("control: %s: cannot queue the reply; closing",
		         control_client_desc(c, d, sizeof(d)));
		client_close_soon(c);
	}
}

void
control_reply_err(struct control_client *c, enum ctl_code code, const char *msg)
{
	char buf[CONTROL_REPLY_MAX];
	size_t n;

	n = ctl_fmt_err(buf, sizeof(buf), code, "%s", msg);
	control_reply_raw(c, buf, n);
}

void
control_reply_fail(struct control_client *c, enum ctl_code code,
                   const char *msg)
{
	char d[64];

	log_info("control: %s: ERR %s %s; closing",
	         control_client_desc(c, d, sizeof(d)), ctl_code_name(code),
	         msg);
	control_reply_err(c, code, msg);
	client_close_soon(c);
}

void
control_reply_ok(struct control_client *c, struct ctl_line *l)
{
	int n = ctl_line_end(l);

	if (n == -1) {
		control_reply_err(c, CTL_E_INTERNAL, "reply too long");
		return;
	}
	control_reply_raw(c, l->buf, (size_t)n);
}

void
control_client_timeouts(struct control_client *c, bool idle_counts)
{
	struct timeval idle = {CONTROL_IDLE_S, 0}, wr = {CONTROL_WRITE_S, 0};

	/* An agent waits for prompts: it is never idle. */
	c->idle_counts = idle_counts && !c->agent.subscribed;
	bufferevent_set_timeouts(c->bev, NULL, &wr);
	/* event_add() with no timeout leaves a pending one in place: take
	 * the event off first, or a new agent is dropped as idle after
	 * all, CONTROL_IDLE_S after its SUBSCRIBE. */
	if (c->state != CLIENT_CLOSING && !c->eof && !c->paused &&
	    (event_del(c->rev) == -1 ||
	     event_add(c->rev, c->idle_counts ? &idle : NULL) == -1))
		log_error("control: cannot wait for a client's requests");
}

/* The control protocol's code for a change or an answer that failed. */
enum ctl_code
control_code(enum rulesvc_error e)
{
	switch (e) {
	case RULESVC_E_NOTFOUND:
		return CTL_E_NOTFOUND;
	case RULESVC_E_INVALID:
		return CTL_E_INVALID;
	case RULESVC_E_PERM:
		return CTL_E_PERM;
	default:
		return CTL_E_INTERNAL;
	}
}

void
control_pending_reply(struct control_pending *p, struct ctl_line *ok,
                      enum ctl_code code, const char *err)
{
	control_pending_reply_rows(p, ok, NULL, 0, code, err);
}

void
control_pending_reply_rows(struct control_pending *p, struct ctl_line *ok,
                           const char *rows, size_t len, enum ctl_code code,
                           const char *err)
{
	struct control_client *c = p->client;

	free(p);
	if (c == NULL)
		return;
	c->pending = NULL;
	control_client_timeouts(c, true);
	if (ok != NULL) {
		control_reply_ok(c, ok);
		if (len > 0 && c->state != CLIENT_CLOSING)
			control_reply_raw(c, rows, len);
	} else
		control_reply_err(c, code, err);
	if (c->state == CLIENT_WAITING) {
		c->state = CLIENT_READY;
		event_active(c->more, EV_TIMEOUT, 1);
	}
}

struct control_pending *
control_client_wait(struct control_client *c, enum ctl_verb verb, int64_t id)
{
	struct control_pending *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		log_error("control: calloc: %s", strerror(errno));
		control_reply_err(c, CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	p->client = c;
	p->client_id = c->id;
	p->uid = c->uid;
	p->pid = c->pid;
	p->verb = verb;
	p->id = id;
	c->pending = p;
	c->state = CLIENT_WAITING;
	/* A slow change (a big import behind others) is not idleness: no
	 * read timeout until its reply is out. */
	control_client_timeouts(c, false);
	return p;
}

/* The body is over: the client reads requests again, and the handler
 * replies. */
static void
client_body_end(struct control_client *c)
{
	const struct control_body *body = c->body;
	void *arg = c->body_arg;

	c->body = NULL;
	c->body_arg = NULL;
	c->state = CLIENT_READY;
	body->end(c, arg);
	body->free(arg);
}

void
control_client_body(struct control_client *c, const struct control_body *body,
                    void *arg, unsigned long n)
{
	c->body = body;
	c->body_arg = arg;
	c->body_left = n;
	c->state = CLIENT_BODY;
	if (n == 0)
		client_body_end(c);
}

static void
client_body_line(struct control_client *c, const char *line, size_t len)
{
	c->body->line(c, c->body_arg, line, len);
	/* line() may have failed the client (CLOSING): no end then. */
	if (c->state == CLIENT_BODY && --c->body_left == 0)
		client_body_end(c);
}

/* Refused (why says so).  A request that lines follow closes, for those
 * lines would be read as requests. */
static void
client_refuse(struct control_client *c, const struct control_verb *v,
              const char *d, const char *why)
{
	if (v->flags & CONTROL_VERB_BODY)
		control_reply_fail(c, CTL_E_PERM, why);
	else {
		log_info("control: %s: %s refused: %s", d,
		         ctl_verb_name(v->verb), why);
		control_reply_err(c, CTL_E_PERM, why);
	}
}

void
control_client_peer(const struct control_client *c, struct control_peer *p)
{
	char d[64];
	size_t left;

	left = control_peer_init(p, &c->ctl->pd->cfg, c->uid, c->admin);
	if (left > 0)
		log_warn("control: %s: %zu subordinate uid ranges of uid %u "
		         "are not counted as theirs (%d at most)",
		         control_client_desc(c, d, sizeof(d)), left,
		         (unsigned)p->owner, CONTROL_PEER_SUBIDS);
}

static void
client_request(struct control_client *c, const char *line, size_t len)
{
	const struct control_verb *v;
	struct control_peer peer;
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN], d[64];

	if (ctl_req_parse(line, len, &req, &code, err, sizeof(err)) == -1) {
		control_reply_fail(c, code, err);
		return;
	}
	log_debug("control: %s: %s", control_client_desc(c, d, sizeof(d)),
	          ctl_verb_name(req.verb));
	v = control_verb_find(req.verb);
	if (v == NULL)
		control_reply_fail(c, CTL_E_INTERNAL, "verb without a handler");
	else {
		control_client_peer(c, &peer);
		if (!control_may_send(&peer, req.verb, err, sizeof(err)))
			client_refuse(c, v, d, err);
		else
			v->exec(c, &req);
	}
	ctl_req_free(&req);
}

/*
 * A client that has said all it will say (it shut its side down, as socat
 * does at the end of its input) still gets every reply; then it is closed.
 */
static void
client_settle(struct control_client *c)
{
	if (!c->eof || (c->state != CLIENT_READY && c->state != CLIENT_BODY) ||
	    evbuffer_get_length(c->in) > 0)
		return;
	if (c->state == CLIENT_BODY) {
		c->body->cut(c, c->body_arg, c->body_left, false);
		return;
	}
	client_close_soon(c);
}

static void client_process_lines(struct control_client *c);

/* Take what lines can be taken now; then read on if reading had paused
 * (whatever stopped the taking: a reply to wait for, unread replies). */
static void
client_process(struct control_client *c)
{
	client_process_lines(c);
	client_resume(c);
}

static void
client_process_lines(struct control_client *c)
{
	struct evbuffer *in = c->in;
	char *line, err[CTL_ERRLEN];
	size_t len;
	unsigned i;

	for (i = 0; i < CONTROL_LINES_PER_TURN; i++) {
		if (c->state != CLIENT_READY && c->state != CLIENT_BODY)
			return;
		/* A client that asks without reading the answers waits
		 * until it has read them (client_write_cb). */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CONTROL_OUTPUT_MAX)
			return;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL && c->eof &&
		    (len = evbuffer_get_length(in)) > 0 &&
		    len <= CTL_LINE_MAX + 1) {
			/* The client's last words, without a "\n". */
			line = malloc(len + 1);
			if (line == NULL ||
			    evbuffer_remove(in, line, len) != (int)len) {
				free(line);
				control_reply_fail(c, CTL_E_INTERNAL,
				                   "out of memory");
				return;
			}
			line[len] = '\0';
		}
		if (line == NULL) {
			/* No "\n" yet: a line over the limit will not get
			 * one in time. */
			if (evbuffer_get_length(in) > CTL_LINE_MAX + 1) {
				snprintf(err, sizeof(err),
				         "line over the %d-byte limit",
				         CTL_LINE_MAX);
				control_reply_fail(c, CTL_E_TOOLONG, err);
			} else
				client_settle(c);
			return;
		}
		if (len > CTL_LINE_MAX + 1) {
			snprintf(err, sizeof(err),
			         "line of %zu bytes, over the %d-byte limit",
			         len, CTL_LINE_MAX);
			control_reply_fail(c, CTL_E_TOOLONG, err);
		} else if (c->state == CLIENT_BODY)
			client_body_line(c, line, len);
		else
			client_request(c, line, len);
		free(line);
	}
	if (evbuffer_get_length(in) > 0)
		event_active(c->more, EV_TIMEOUT, 1);
}

static void
client_more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *c = arg;

	if (c->state == CLIENT_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			client_free(c);
		return;
	}
	client_process(c);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;

	/* Called when the output has drained.  A client that sent all it
	 * will send and waited for a long reply (RULES, EVENTS) is closed
	 * now that it has it. */
	if (c->state == CLIENT_CLOSING)
		client_free(c);
	else if (evbuffer_get_length(c->in) > 0 || c->eof)
		client_process(c);
}

/* The client is gone (error, timeout) or must go: say so and free it. */
static void
client_drop(struct control_client *c, const char *why)
{
	char d[64];

	log_info("control: %s: %s; closing",
	         control_client_desc(c, d, sizeof(d)), why);
	if (c->state == CLIENT_BODY)
		c->body->cut(c, c->body_arg, c->body_left, true);
	client_free(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *c = arg;

	/* Only writing is the bufferevent's. */
	if (what & BEV_EVENT_TIMEOUT)
		client_drop(c, "write timeout");
	else
		client_drop(c, what & BEV_EVENT_ERROR
		                   ? strerror(EVUTIL_SOCKET_ERROR())
		                   : "closed");
}

/* Readable: take what came, with who wrote it; or idle too long. */
static void
client_recv_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *c = arg;
	char buf[CONTROL_READ_CHUNK], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg;
	struct cmsghdr *cm;
	struct ucred cred;
	char why[128];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		client_drop(c, "idle timeout");
		return;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_drop(c, strerror(errno));
		return;
	}
	if (n == 0) {
		/* Answer what was sent (client_process() takes a last line
		 * without its "\n" too), then close. */
		log_debug("control: client %llu sends no more",
		          (unsigned long long)c->id);
		c->eof = true;
		event_del(c->rev);
		if (c->state == CLIENT_READY || c->state == CLIENT_BODY)
			client_process(c);
		return;
	}
	/* Who wrote it (SO_PASSCRED; no credentials: pid 0). */
	memset(&cred, 0, sizeof(cred));
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(cred)))
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
	if (!control_agent_writer(&c->agent, c->ctl->pd->cfg.prompt_program,
	                          cred.pid)) {
		snprintf(why, sizeof(why),
		         "pid %d, not tollgate-prompt, wrote on a prompt "
		         "agent's connection",
		         (int)cred.pid);
		client_drop(c, why);
		return;
	}
	if (evbuffer_add(c->in, buf, (size_t)n) == -1) {
		client_drop(c, "out of memory");
		return;
	}
	/* A line longer than the limit is not read further. */
	if (evbuffer_get_length(c->in) > CTL_LINE_MAX + 2) {
		c->paused = true;
		event_del(c->rev);
	}
	client_process(c);
}

/* After lines were taken: read again if reading had paused. */
static void
client_resume(struct control_client *c)
{
	if (!c->paused || c->eof || c->state == CLIENT_CLOSING ||
	    evbuffer_get_length(c->in) > CTL_LINE_MAX + 2)
		return;
	c->paused = false;
	control_client_timeouts(c, c->idle_counts);
}

/* The peer's uid, gid, pid and groups; whether it may change rules. */
static int
client_identify(struct control *ctl, struct control_client *c, int fd)
{
	const struct config *cfg = &ctl->pd->cfg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t small[64], *groups = small;
	size_t i, n;
	int rc = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: getsockopt(SO_PEERCRED): %s",
		         strerror(errno));
		return -1;
	}
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->admin = cred.uid == 0;
	if (c->admin || cfg->admin_group[0] == '\0')
		return 0;
	if (cred.gid == cfg->admin_gid) {
		c->admin = true;
		return 0;
	}
	len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE ||
		    len > CONTROL_GROUPS_MAX * sizeof(gid_t)) {
			log_warn("control: getsockopt(SO_PEERGROUPS): %s",
			         strerror(errno));
			return -1;
		}
		groups = malloc(len);
		if (groups == NULL) {
			log_warn("control: malloc: %s", strerror(errno));
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    -1) {
			log_warn("control: getsockopt(SO_PEERGROUPS): %s",
			         strerror(errno));
			goto out;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n; i++)
		if (groups[i] == cfg->admin_gid)
			c->admin = true;
	rc = 0;
out:
	if (groups != small)
		free(groups);
	return rc;
}

/* Tell a client we cannot take it, without waiting for it. */
static void
control_turn_away(int fd, const char *why)
{
	char buf[CONTROL_REPLY_MAX];
	size_t n;

	n = ctl_fmt_err(buf, sizeof(buf), CTL_E_INTERNAL, "%s", why);
	if (send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("control: telling a client \"%s\": %s", why,
		          strerror(errno));
	close(fd);
}

enum control_admit
control_share_admit(bool admin, unsigned n_admin, unsigned total, unsigned mine,
                    unsigned top)
{
	if (admin)
		return n_admin < CONTROL_MAX_ADMIN ? CONTROL_ADMIT
		                                   : CONTROL_REFUSE_ADMIN;
	if (mine >= CONTROL_MAX_PER_UID)
		return CONTROL_REFUSE_UID;
	if (total < CONTROL_MAX_CLIENTS)
		return CONTROL_ADMIT;
	return top > mine + 1 ? CONTROL_ADMIT_EVICT : CONTROL_REFUSE_FULL;
}

/* A client that may be closed to make room: not an admin's, not a
 * subscribed agent, not leaving already (nor in an IMPORT's lines,
 * which only admins send). */
static bool
client_evictable(const struct control_client *c)
{
	return !c->admin && !c->agent.subscribed &&
	       (c->state == CLIENT_READY || c->state == CLIENT_WAITING);
}

/* Clients of uid that are not admins'. */
static unsigned
clients_of(const struct control *ctl, uid_t uid)
{
	const struct config *cfg = &ctl->pd->cfg;
	const struct control_client *c;
	unsigned n = 0;

	/* A user's subordinate uids share its share. */
	uid = config_uid_owner(cfg, uid);
	TAILQ_FOREACH(c, &ctl->clients, entry)
	if (!c->admin && config_uid_owner(cfg, c->uid) == uid)
		n++;
	return n;
}

/* The oldest client that may make room, of the uid holding most among
 * those that have one; *top, how many that uid holds (0: none). */
static struct control_client *
clients_top(const struct control *ctl, unsigned *top)
{
	struct control_client *c, *best = NULL;
	unsigned n;

	*top = 0;
	TAILQ_FOREACH(c, &ctl->clients, entry)
	{
		if (!client_evictable(c))
			continue;
		n = clients_of(ctl, c->uid);
		if (n > *top) {
			*top = n;
			best = c;
		}
	}
	return best;
}

/*
 * Whether newcomer c (identified, not in the list yet) gets a slot; when
 * it takes one of another uid's, that client is closed.  0, or -1 when
 * it was told why not and fd is closed.
 */
static int
control_share_take(struct control *ctl, struct control_client *c, int fd)
{
	struct control_client *victim;
	unsigned top, mine;
	char why[160], d[64];

	mine = c->admin ? 0 : clients_of(ctl, c->uid);
	victim = c->admin ? NULL : clients_top(ctl, &top);
	if (victim == NULL)
		top = 0;
	switch (control_share_admit(c->admin, ctl->n_admin,
	                            ctl->n_clients - ctl->n_admin, mine, top)) {
	case CONTROL_ADMIT:
		return 0;
	case CONTROL_ADMIT_EVICT:
		snprintf(why, sizeof(why),
		         "closed to make room for another user: uid %u holds "
		         "%u of the %d control slots",
		         (unsigned)victim->uid, top, CONTROL_MAX_CLIENTS);
		log_warn("control: %s: %s",
		         control_client_desc(victim, d, sizeof(d)), why);
		control_reply_err(victim, CTL_E_INTERNAL, why);
		client_close_soon(victim);
		/* Its slot is the newcomer's now, though its last words
		 * may still be on their way out. */
		return 0;
	case CONTROL_REFUSE_UID:
		snprintf(why, sizeof(why),
		         "too many control clients of uid %u (%d at most); "
		         "close some and try again",
		         (unsigned)c->uid, CONTROL_MAX_PER_UID);
		break;
	case CONTROL_REFUSE_ADMIN:
		snprintf(why, sizeof(why),
		         "too many control clients of root and admin_group "
		         "(%d at most); try again",
		         CONTROL_MAX_ADMIN);
		break;
	case CONTROL_REFUSE_FULL:
		snprintf(why, sizeof(why),
		         "too many control clients (%d of users who are not "
		         "admins, fairly shared); try again",
		         CONTROL_MAX_CLIENTS);
		break;
	}
	log_warn("control: uid %u, pid %d: turned away: %s", (unsigned)c->uid,
	         (int)c->pid, why);
	control_turn_away(fd, why);
	return -1;
}

static void
control_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                  struct sockaddr *sa, int salen, void *arg)
{
	struct control *ctl = arg;
	struct control_client *c;
	char d[64];
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("control: calloc: %s", strerror(errno));
		control_turn_away(fd, "out of memory");
		return;
	}
	if (client_identify(ctl, c, fd) == -1) {
		free(c);
		control_turn_away(fd, "cannot tell who you are");
		return;
	}
	if (control_share_take(ctl, c, fd) == -1) {
		free(c);
		return;
	}
	c->ctl = ctl;
	c->id = ++ctl->next_id;
	control_agent_init(&c->agent);
	/* Every read then says who wrote it; also what was sent before. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		log_error("control: setsockopt(SO_PASSCRED): %s",
		          strerror(errno));
		free(c);
		control_turn_away(fd, "cannot tell who writes");
		return;
	}
	c->bev =
	    bufferevent_socket_new(ctl->pd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->rev = event_new(ctl->pd->base, fd, EV_READ | EV_PERSIST,
	                   client_recv_cb, c);
	c->in = evbuffer_new();
	c->more = event_new(ctl->pd->base, -1, 0, client_more_cb, c);
	if (c->bev == NULL || c->rev == NULL || c->in == NULL ||
	    c->more == NULL) {
		log_error("control: cannot set up a client's events");
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->more != NULL)
			event_free(c->more);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->n_clients++;
	if (c->admin)
		ctl->n_admin++;
	bufferevent_setcb(c->bev, NULL, client_write_cb, client_event_cb, c);
	control_client_timeouts(c, true);
	if (bufferevent_enable(c->bev, EV_WRITE) == -1) {
		log_error("control: cannot write to a client");
		client_free(c);
		return;
	}
	log_debug("control: %s connected%s",
	          control_client_desc(c, d, sizeof(d)),
	          c->admin ? " (may change rules)" : "");
}

static void
control_error_cb(struct evconnlistener *evl, void *arg)
{
	struct control *ctl = arg;
	int err = EVUTIL_SOCKET_ERROR(), ms;

	ms = accept_backoff_pause(&ctl->backoff);
	log_warn("control: accept on %s: %s; pausing %u ms", ctl->path,
	         strerror(err), ctl->backoff.ms);
	if (ms == -1)
		log_error("control: cannot arm the accept timer; accepting "
		          "goes on without a pause");
}

/* mkdir -p of path's directory; only a directory made here is chowned. */
static int
control_mkdir(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0; /* in "/" */
	*p = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, CONTROL_DIR_MODE) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			         strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, CONTROL_DIR_MODE) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Exactly CONTROL_DIR_MODE whatever the umask; and ours to clean. */
	if (chmod(dir, CONTROL_DIR_MODE) == -1 || chown(dir, uid, gid) == -1) {
		snprintf(err, errlen, "setting up %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove a socket file nothing answers on; refuse anything else. */
static int
control_clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "%s exists and is not a socket (remove it, or set "
		         "control_socket)",
		         sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		snprintf(err, errlen,
		         "another tollgated answers on %s (stop it first)",
		         sun->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "probing %s: %s", sun->sun_path,
		         strerror(errno));
		return -1;
	}
	if (unlink(sun->sun_path) == -1) {
		snprintf(err, errlen, "removing the stale socket %s: %s",
		         sun->sun_path, strerror(errno));
		return -1;
	}
	log_info("control: replaced the stale socket %s", sun->sun_path);
	return 0;
}

struct control *
control_open(struct proxyd *pd, char *err, size_t errlen)
{
	struct control *ctl;
	struct sockaddr_un sun;
	struct passwd *pw;
	const char *path = pd->cfg.control_socket;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	ctl->pd = pd;
	ctl->fd = -1;
	TAILQ_INIT(&ctl->clients);
	ctl->started = time(NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control_socket %s is too long", path);
		goto fail;
	}
	memcpy(sun.sun_path, path, strlen(path));
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	pw = getpwnam(pd->cfg.user);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s does not exist", pd->cfg.user);
		goto fail;
	}
	if (control_mkdir(path, pw->pw_uid, pw->pw_gid, err, errlen) == -1 ||
	    control_clear_stale(&sun, err, errlen) == -1)
		goto fail;
	ctl->fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		goto fail;
	}
	/* Accepted sockets inherit it: every read says who wrote. */
	if (setsockopt(ctl->fd, SOL_SOCKET, SO_PASSCRED, &(int){1},
	               sizeof(int)) == -1) {
		snprintf(err, errlen, "setsockopt(SO_PASSCRED): %s",
		         strerror(errno));
		goto fail;
	}
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	/* fchmod() does not reach a socket's file; until this chmod the
	 * file is only narrower than it will be. */
	if (chmod(path, CONTROL_SOCK_MODE) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	if (listen(ctl->fd, CONTROL_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return ctl;
fail_unlink:
	if (unlink(path) == -1)
		log_warn("control: removing %s: %s", path, strerror(errno));
fail:
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl);
	return NULL;
}

int
control_start(struct control *ctl)
{
	/* Backlog 0: listen() was called by control_open(). */
	ctl->evl = evconnlistener_new(
	    ctl->pd->base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, ctl->fd);
	if (ctl->evl == NULL) {
		log_error("control: cannot listen on %s", ctl->path);
		return -1;
	}
	ctl->fd = -1; /* evl's now */
	if (accept_backoff_init(&ctl->backoff, ctl->pd->base, ctl->evl,
	                        CONTROL_ACCEPT_BACKOFF_MS,
	                        CONTROL_ACCEPT_BACKOFF_MS) == -1) {
		log_error("control: cannot make the accept timer");
		return -1;
	}
	evconnlistener_set_error_cb(ctl->evl, control_error_cb);
	log_info("control: listening on %s", ctl->path);
	return 0;
}

void
control_close(struct control *ctl)
{
	struct control_client *c;

	if (ctl == NULL)
		return;
	ctl->closing = true;
	ctl->pd->control = NULL;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		client_free(c);
	if (ctl->evl != NULL)
		evconnlistener_free(ctl->evl);
	if (ctl->fd != -1)
		close(ctl->fd);
	accept_backoff_free(&ctl->backoff);
	control_read_close(ctl);
	if (unlink(ctl->path) == -1) {
		if (errno == EACCES || errno == EPERM)
			log_info("control: %s stays (its directory is not "
			         "writable by %s); the next start replaces it",
			         ctl->path, ctl->pd->cfg.user);
		else if (errno != ENOENT)
			log_warn("control: removing %s: %s", ctl->path,
			         strerror(errno));
	}
	free(ctl);
}

bool
control_has_agent(struct control *ctl, bool has_uid, uid_t uid)
{
	return control_has_agents(ctl, CONTROL_SEE, has_uid, uid);
}

bool
control_has_agents(struct control *ctl, enum control_agents who, bool has_uid,
                   uid_t uid)
{
	struct control_client *c;

	if (ctl == NULL)
		return false;
	TAILQ_FOREACH(c, &ctl->clients, entry)
	if (agent_is(c, who, has_uid, uid))
		return true;
	return false;
}

void
control_notify_each(struct control *ctl, enum control_agents who, bool has_uid,
                    uid_t uid,
                    void (*send)(struct control_client *c, void *arg),
                    void *arg)
{
	struct control_client *c;
	char d[64];

	if (ctl == NULL)
		return;
	TAILQ_FOREACH(c, &ctl->clients, entry)
	{
		if (!agent_is(c, who, has_uid, uid))
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CONTROL_OUTPUT_MAX) {
			/* Closed on the next turn, not here: its leaving
			 * may end prompts, which notifies again. */
			log_warn("control: %s: a prompt agent that does not "
			         "read its prompts; closing",
			         control_client_desc(c, d, sizeof(d)));
			client_close_soon(c);
			continue;
		}
		send(c, arg);
	}
}

/* control_notify()'s line, the same for every agent. */
struct notify_line {
	const char *line;
	size_t len;
};

static void
notify_send(struct control_client *c, void *arg)
{
	const struct notify_line *nl = arg;

	control_reply_raw(c, nl->line, nl->len);
}

void
control_notify(struct control *ctl, enum control_agents who, bool has_uid,
               uid_t uid, const char *line, size_t len)
{
	struct notify_line nl = {line, len};

	control_notify_each(ctl, who, has_uid, uid, notify_send, &nl);
}
