/*
 * broker.c - the prompt broker; see broker.h.
 *
 * There are few prompts (at most BROKER_PROMPTS_MAX), so they are kept in
 * one list, oldest first, and found by walking it.  A prompt keeps the
 * description it is sent with (struct ctl_prompt) and its parked
 * connections; the connections keep their sockets, peeked bytes and
 * attribution until the prompt ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <libpsl.h>

#include "common/addr.h"
#include "common/ctl_prompt.h"
#include "common/log.h"
#include "common/name.h"
#include "proxyd/broker.h"
#include "proxyd/conn.h"
#include "proxyd/control.h"
#include "proxyd/rulesvc.h"

/*
 * The one buffer PROMPT lines are made in (on the loop; each is sent
 * before the next is made).  A line of the longest values, every byte
 * escaped as \xHH, fits a control line (tests/unit/test_ctl_prompt.c).
 */
static char prompt_buf[CTL_LINE_MAX + 2];

TAILQ_HEAD(parked_list, conn);

struct prompt {
	TAILQ_ENTRY(prompt) entry;
	struct broker *b;
	struct ctl_prompt info; /* what agents are told; key fields too */
	bool has_uid;
	struct parked_list conns;
	unsigned n_conns;
	struct event *timer; /* prompt_timeout */
	int verdict;         /* answered: the answer's */
};

TAILQ_HEAD(prompt_list, prompt);

struct broker {
	struct proxyd *pd;
	psl_ctx_t *psl;
	bool psl_owned; /* psl_latest() (ours to free) or psl_builtin() */
	struct prompt_list prompts;
	unsigned n_prompts;
	/* Answered, their rule on its way to the store: a connection that
	 * comes meanwhile gets the answer instead of a second prompt. */
	struct prompt_list answered;
	unsigned n_parked;
	uint64_t next_id;
};

/* An ANSWER whose rule is being stored: its reply waits for rulesvc. */
struct broker_pending_answer {
	struct proxyd *pd;
	struct broker_result res;
	void (*done)(void *arg, const struct broker_result *r);
	void *arg;
};

int
broker_open(struct proxyd *pd, char *err, size_t errlen)
{
	struct broker *b;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		snprintf(err, errlen, "prompts: calloc: %s", strerror(errno));
		return -1;
	}
	b->pd = pd;
	TAILQ_INIT(&b->prompts);
	TAILQ_INIT(&b->answered);
	b->next_id = 1;
	/* Debian's publicsuffix package, kept current by apt; libpsl's
	 * built-in copy when it is missing. */
	b->psl = psl_latest(NULL);
	b->psl_owned = b->psl != NULL;
	if (b->psl == NULL) {
		b->psl = (psl_ctx_t *)psl_builtin();
		log_warn("prompts: no public suffix list file; using the copy "
		         "built into libpsl");
	}
	if (b->psl == NULL) {
		snprintf(err, errlen, "prompts: no public suffix list");
		free(b);
		return -1;
	}
	pd->broker = b;
	return 0;
}

static void
prompt_free(struct broker *b, struct prompt *p)
{
	TAILQ_REMOVE(&b->prompts, p, entry);
	b->n_prompts--;
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

/* An answered prompt whose rule is in force now (or failed). */
static void
answered_free(struct broker *b, uint64_t id)
{
	struct prompt *p;

	TAILQ_FOREACH(p, &b->answered, entry)
	if (p->info.id == id) {
		TAILQ_REMOVE(&b->answered, p, entry);
		free(p);
		return;
	}
}

void
broker_close(struct proxyd *pd)
{
	struct broker *b = pd->broker;
	struct prompt *p;
	struct conn *c;

	if (b == NULL)
		return;
	while ((p = TAILQ_FIRST(&b->prompts)) != NULL) {
		while ((c = TAILQ_FIRST(&p->conns)) != NULL) {
			TAILQ_REMOVE(&p->conns, c, park_entry);
			c->prompt = NULL;
		}
		prompt_free(b, p);
	}
	while ((p = TAILQ_FIRST(&b->answered)) != NULL)
		answered_free(b, p->info.id);
	if (b->psl_owned)
		psl_free(b->psl);
	free(b);
	pd->broker = NULL;
}

/* p's "PROMPT ..." line with its "\n" in prompt_buf; its length, or -1
 * (logged). */
static int
prompt_line(const struct prompt *p)
{
	struct ctl_prompt info = p->info;
	struct ctl_line l;
	int n;

	info.connections = p->n_conns;
	ctl_line_init(&l, prompt_buf, sizeof(prompt_buf));
	ctl_put_word(&l, "PROMPT");
	ctl_prompt_put(&l, &info);
	if ((n = ctl_line_end(&l)) == -1)
		log_error("prompt %llu: its line is too long",
		          (unsigned long long)p->info.id);
	return n;
}

static void
prompt_announce(struct broker *b, struct prompt *p)
{
	int n = prompt_line(p);

	if (n > 0)
		control_notify(b->pd->control, p->has_uid, p->info.uid,
		               prompt_buf, (size_t)n);
}

/*
 * End p: withdraw it from the agents, give every parked connection the
 * verdict (conn_prompt_done() may free them), and free p, or with keep
 * move it to the answered list until its rule is in force.  Returns how
 * many connections it decided.
 */
static unsigned
prompt_end(struct broker *b, struct prompt *p, int verdict,
           enum conn_reason reason, const char *why, bool keep)
{
	struct parked_list conns;
	struct ctl_line l;
	struct conn *c;
	char buf[256];
	unsigned n = 0;
	int len;

	if (p->n_conns > 0)
		log_info("prompt %llu: %s: %s for %u connection%s",
		         (unsigned long long)p->info.id, why,
		         action_name((enum action)verdict), p->n_conns,
		         p->n_conns == 1 ? "" : "s");
	else
		log_info("prompt %llu: withdrawn (%s)",
		         (unsigned long long)p->info.id, why);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "WITHDRAW");
	ctl_put_kvf(&l, "id", "%llu", (unsigned long long)p->info.id);
	ctl_put_kv(&l, "reason", why);
	if (p->n_conns > 0)
		ctl_put_kv(&l, "verdict", action_name((enum action)verdict));
	if ((len = ctl_line_end(&l)) > 0)
		control_notify(b->pd->control, p->has_uid, p->info.uid, buf,
		               (size_t)len);
	/* Off the broker before any connection moves on: nothing below
	 * may find p again. */
	TAILQ_INIT(&conns);
	TAILQ_CONCAT(&conns, &p->conns, park_entry);
	b->n_parked -= p->n_conns;
	p->n_conns = 0;
	if (keep) {
		TAILQ_REMOVE(&b->prompts, p, entry);
		b->n_prompts--;
		event_free(p->timer);
		p->timer = NULL;
		p->verdict = verdict;
		TAILQ_INSERT_TAIL(&b->answered, p, entry);
	} else
		prompt_free(b, p);
	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		TAILQ_REMOVE(&conns, c, park_entry);
		c->prompt = NULL;
		n++;
		conn_prompt_done(c, (enum action)verdict, reason);
	}
	return n;
}

static void
prompt_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prompt *p = arg;

	prompt_end(p->b, p, p->b->pd->cfg.default_action, REASON_PROMPT_TIMEOUT,
	           "timeout", false);
}

/* The prompt of list c joins: same uid, app, destination and port. */
static struct prompt *
prompt_find(struct prompt_list *list, const struct ctl_prompt *want,
            bool has_uid)
{
	struct prompt *p;

	TAILQ_FOREACH(p, list, entry)
	{
		if (p->has_uid != has_uid || p->info.uid != want->uid ||
		    p->info.port != want->port ||
		    strcmp(p->info.app, want->app) != 0 ||
		    strcmp(p->info.name, want->name) != 0)
			continue;
		/* Without a name, the address is the destination. */
		if (want->name[0] == '\0' &&
		    strcmp(p->info.dst, want->dst) != 0)
			continue;
		return p;
	}
	return NULL;
}

/* Prompts open for this app (executable and uid). */
static unsigned
prompts_of_app(struct broker *b, const struct ctl_prompt *want, bool has_uid)
{
	struct prompt *p;
	unsigned n = 0;

	TAILQ_FOREACH(p, &b->prompts, entry)
	if (p->has_uid == has_uid && p->info.uid == want->uid &&
	    strcmp(p->info.app, want->app) == 0)
		n++;
	return n;
}

/* What agents are told about c's prompt (id, times and counts aside). */
static void
prompt_describe(struct broker *b, const struct conn *c, struct ctl_prompt *d,
                bool *has_uid)
{
	const struct app *app = c->app;
	const char *reg;

	memset(d, 0, sizeof(*d));
	*has_uid = app->uid_known;
	if (app->uid_known) {
		d->uid = app->uid;
		snprintf(d->user, sizeof(d->user), "%s", app->user);
	}
	if (app->known) {
		d->pid = app->pid;
		snprintf(d->app, sizeof(d->app), "%s", app->exe);
		snprintf(d->cmdline, sizeof(d->cmdline), "%s", app->cmdline);
	}
	if (c->peek.source != NAME_NONE)
		snprintf(d->name, sizeof(d->name), "%s", c->peek.name);
	snprintf(d->source, sizeof(d->source), "%s",
	         name_source_str(c->peek.source));
	addr_fmt_ip((const struct sockaddr *)&c->dst, d->dst, sizeof(d->dst));
	d->port = addr_port((const struct sockaddr *)&c->dst);
	snprintf(d->proto, sizeof(d->proto), "tcp");
	d->deflt = b->pd->cfg.default_action;
	d->scopes =
	    1u << CTL_SCOPE_APP | 1u << CTL_SCOPE_IP | 1u << CTL_SCOPE_PORT;
	if (d->name[0] != '\0') {
		d->scopes |= 1u << CTL_SCOPE_NAME;
		reg = name_is_ip_literal(d->name)
		          ? NULL
		          : psl_registrable_domain(b->psl, d->name);
		if (reg != NULL) {
			snprintf(d->domain, sizeof(d->domain), "%s", reg);
			d->scopes |= 1u << CTL_SCOPE_DOMAIN;
		}
	}
	/* A rule needs an app: an unknown process is answered once. */
	d->durations = 1u << CTL_DUR_ONCE;
	if (app->known && app->uid_known)
		d->durations |= 1u << CTL_DUR_RESTART | 1u << CTL_DUR_HOUR |
		                1u << CTL_DUR_FOREVER;
}

static void
prompt_add_conn(struct broker *b, struct prompt *p, struct conn *c)
{
	TAILQ_INSERT_TAIL(&p->conns, c, park_entry);
	c->prompt = p;
	c->prompt_id = p->info.id;
	p->n_conns++;
	b->n_parked++;
}

/* Connections that may wait in all: BROKER_PARKED_MAX, and never more
 * than half of max_connections, so that waiting ones cannot push the
 * connections rules decide into overload. */
static unsigned
parked_max(const struct proxyd *pd)
{
	unsigned half = pd->cfg.max_connections / 2;

	return half < BROKER_PARKED_MAX ? half : BROKER_PARKED_MAX;
}

enum broker_park
broker_park(struct proxyd *pd, struct conn *c)
{
	struct broker *b = pd->broker;
	struct ctl_prompt want;
	struct timeval tv;
	struct timespec now;
	struct prompt *p;
	bool has_uid;

	/* While an agent may see a prompt, it lasts: with none for this
	 * user there is nothing to join either.  Asked first, as it is
	 * cheap and the usual case of a daemon nobody is asked through. */
	if (b == NULL ||
	    !control_has_agent(pd->control, c->app->uid_known, c->app->uid))
		return BROKER_NO_AGENT;
	prompt_describe(b, c, &want, &has_uid);
	p = prompt_find(&b->answered, &want, has_uid);
	if (p != NULL) {
		c->verdict = (enum action)p->verdict;
		c->prompt_id = p->info.id;
		return BROKER_ANSWERED;
	}
	p = prompt_find(&b->prompts, &want, has_uid);
	if (p != NULL) {
		if (p->n_conns >= BROKER_PARKED_PER_PROMPT ||
		    b->n_parked >= parked_max(pd)) {
			conn_log(c, LOG_INFO,
			         "prompt %llu: %u connections wait on it, %u "
			         "in all: not parked",
			         (unsigned long long)p->info.id, p->n_conns,
			         b->n_parked);
			return BROKER_FULL;
		}
		prompt_add_conn(b, p, c);
		conn_log(c, LOG_DEBUG, "joins prompt %llu (%u waiting)",
		         (unsigned long long)p->info.id, p->n_conns);
		return BROKER_PARKED;
	}
	if (b->n_prompts >= BROKER_PROMPTS_MAX ||
	    b->n_parked >= parked_max(pd) ||
	    prompts_of_app(b, &want, has_uid) >= BROKER_PROMPTS_PER_APP) {
		conn_log(c, LOG_INFO,
		         "%u prompts pending (%u connections): not asking",
		         b->n_prompts, b->n_parked);
		return BROKER_FULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		conn_log(c, LOG_ERR, "prompt: calloc: %s", strerror(errno));
		return BROKER_FULL;
	}
	p->b = b;
	p->info = want;
	p->has_uid = has_uid;
	TAILQ_INIT(&p->conns);
	p->timer = evtimer_new(pd->base, prompt_timeout_cb, p);
	tv.tv_sec = pd->cfg.prompt_timeout_ms / 1000;
	tv.tv_usec = (pd->cfg.prompt_timeout_ms % 1000) * 1000;
	if (p->timer == NULL || evtimer_add(p->timer, &tv) == -1) {
		conn_log(c, LOG_ERR, "prompt: cannot arm its timer");
		if (p->timer != NULL)
			event_free(p->timer);
		free(p);
		return BROKER_FULL;
	}
	p->info.id = b->next_id++;
	clock_gettime(CLOCK_REALTIME, &now);
	p->info.created = now.tv_sec;
	p->info.expires = now.tv_sec + pd->cfg.prompt_timeout_ms / 1000;
	TAILQ_INSERT_TAIL(&b->prompts, p, entry);
	b->n_prompts++;
	prompt_add_conn(b, p, c);
	conn_log(c, LOG_INFO,
	         "prompt %llu: asking about %s (%s) -> %s port %u, %u s",
	         (unsigned long long)p->info.id,
	         p->info.app[0] != '\0' ? p->info.app : "an unknown process",
	         p->info.user[0] != '\0' ? p->info.user : "unknown user",
	         p->info.name[0] != '\0' ? p->info.name : p->info.dst,
	         p->info.port, pd->cfg.prompt_timeout_ms / 1000);
	prompt_announce(b, p);
	return BROKER_PARKED;
}

void
broker_unpark(struct conn *c, const char *why)
{
	struct prompt *p = c->prompt;
	struct broker *b;

	if (p == NULL)
		return;
	b = p->b;
	TAILQ_REMOVE(&p->conns, c, park_entry);
	c->prompt = NULL;
	p->n_conns--;
	b->n_parked--;
	if (p->n_conns == 0)
		prompt_end(b, p, b->pd->cfg.default_action, REASON_DEFAULT, why,
		           false);
}

void
broker_rules_changed(struct proxyd *pd)
{
	struct broker *b = pd->broker;
	struct prompt *p, *pnext;
	struct conn *c, *cnext;

	if (b == NULL)
		return;
	for (p = TAILQ_FIRST(&b->prompts); p != NULL; p = pnext) {
		/* The last connection of p leaving frees p: step on first,
		 * and count how many remain rather than touch p after. */
		unsigned left = p->n_conns;

		pnext = TAILQ_NEXT(p, entry);
		for (c = TAILQ_FIRST(&p->conns); c != NULL && left > 0;
		     c = cnext) {
			cnext = TAILQ_NEXT(c, park_entry);
			left--;
			/* May unpark c (and free p with its last one). */
			conn_prompt_rejudge(c);
		}
	}
}

void
broker_agents_changed(struct proxyd *pd)
{
	struct broker *b = pd->broker;
	struct prompt *p, *next;

	if (b == NULL)
		return;
	for (p = TAILQ_FIRST(&b->prompts); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (!control_has_agent(pd->control, p->has_uid, p->info.uid))
			prompt_end(b, p, pd->cfg.default_action,
			           REASON_NO_AGENT, "no-agent", false);
	}
}

unsigned
broker_list(struct proxyd *pd, int64_t uid,
            void (*emit)(void *arg, const char *line, size_t len), void *arg)
{
	struct broker *b = pd->broker;
	struct prompt *p;
	unsigned n = 0;
	int len;

	if (b == NULL)
		return 0;
	TAILQ_FOREACH(p, &b->prompts, entry)
	{
		if (uid != -1 && (!p->has_uid || p->info.uid != uid))
			continue;
		if ((len = prompt_line(p)) > 0) {
			emit(arg, prompt_buf, (size_t)len);
			n++;
		}
	}
	return n;
}

unsigned
broker_pending(const struct proxyd *pd)
{
	return pd->broker != NULL ? pd->broker->n_prompts : 0;
}

unsigned
broker_parked(const struct proxyd *pd)
{
	return pd->broker != NULL ? pd->broker->n_parked : 0;
}

/* The rule an answer adds.  0, or -1 + err. */
static int
answer_rule(const struct ctl_prompt *info, int verdict, enum ctl_scope scope,
            enum ctl_duration duration, uid_t answerer, struct rule *r,
            char *err, size_t errlen)
{
	char dest[CTL_PROMPT_NAME_MAX + 2];

	rule_init(r);
	if (rule_parse_app(r, info->app, err, errlen) == -1)
		return -1;
	r->has_uid = true;
	r->uid = info->uid;
	switch (scope) {
	case CTL_SCOPE_NAME:
		snprintf(dest, sizeof(dest), "%s", info->name);
		break;
	case CTL_SCOPE_DOMAIN:
		snprintf(dest, sizeof(dest), "*.%s", info->domain);
		break;
	case CTL_SCOPE_IP:
		snprintf(dest, sizeof(dest), "%s", info->dst);
		break;
	case CTL_SCOPE_APP:
	case CTL_SCOPE_PORT:
		snprintf(dest, sizeof(dest), "*");
		break;
	}
	if (rule_parse_dest(r, dest, err, errlen) == -1)
		return -1;
	if (scope == CTL_SCOPE_PORT)
		r->port_lo = r->port_hi = (uint16_t)info->port;
	r->proto = RPROTO_TCP;
	r->action = (enum action)verdict;
	switch (duration) {
	case CTL_DUR_RESTART:
		r->duration = DUR_RESTART;
		break;
	case CTL_DUR_HOUR:
		r->duration = DUR_UNTIL;
		r->expires = time(NULL) + CTL_HOUR_S;
		break;
	default:
		r->duration = DUR_FOREVER;
		break;
	}
	snprintf(r->note, sizeof(r->note), "prompt %llu, answered by uid %u",
	         (unsigned long long)info->id, (unsigned)answerer);
	return 0;
}

static void
answer_stored(void *arg, const struct rulesvc_result *res)
{
	struct broker_pending_answer *pa = arg;

	/* The rule decides from now on (or failed to be stored: then the
	 * next connection is asked again). */
	if (pa->pd->broker != NULL)
		answered_free(pa->pd->broker, pa->res.id);
	if (res->ok)
		pa->res.rule_id = res->id;
	else {
		/* The connections have their verdict; only the rule is
		 * missing, and the reply says so. */
		pa->res.ok = false;
		pa->res.code = rulesvc_code(res);
		snprintf(pa->res.err, sizeof(pa->res.err),
		         "prompt %llu answered, but its rule was not added: "
		         "%s",
		         (unsigned long long)pa->res.id, res->err);
	}
	pa->done(pa->arg, &pa->res);
	free(pa);
}

static void answer_fail(void (*done)(void *, const struct broker_result *),
                        void *arg, uint64_t id, enum ctl_code code,
                        const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
answer_fail(void (*done)(void *, const struct broker_result *), void *arg,
            uint64_t id, enum ctl_code code, const char *fmt, ...)
{
	struct broker_result r = {.ok = false, .code = code, .id = id};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.err, sizeof(r.err), fmt, ap);
	va_end(ap);
	done(arg, &r);
}

void
broker_answer(struct proxyd *pd, uint64_t id, int64_t uid, uid_t answerer,
              int verdict, enum ctl_scope scope, enum ctl_duration duration,
              void (*done)(void *arg, const struct broker_result *r), void *arg)
{
	struct broker *b = pd->broker;
	struct broker_pending_answer *pa;
	struct rulesvc_change *change;
	struct prompt *p = NULL;
	char err[256];

	if (b != NULL)
		TAILQ_FOREACH(p, &b->prompts, entry)
	if (p->info.id == id)
		break;
	if (p == NULL || (uid != -1 && (!p->has_uid || p->info.uid != uid))) {
		/* Someone else's prompt is as good as none. */
		answer_fail(done, arg, id, CTL_E_NOTFOUND,
		            "no pending prompt %llu (answered, timed out or "
		            "withdrawn)",
		            (unsigned long long)id);
		return;
	}
	if (!(p->info.scopes & 1u << scope) ||
	    !(p->info.durations & 1u << duration)) {
		answer_fail(
		    done, arg, id, CTL_E_INVALID,
		    "prompt %llu offers scopes %s%s%s%s%s and "
		    "durations %s%s%s%s, not %s %s",
		    (unsigned long long)id,
		    p->info.scopes & 1u << CTL_SCOPE_NAME ? "name " : "",
		    p->info.scopes & 1u << CTL_SCOPE_DOMAIN ? "domain " : "",
		    p->info.scopes & 1u << CTL_SCOPE_APP ? "app " : "",
		    p->info.scopes & 1u << CTL_SCOPE_IP ? "ip " : "",
		    p->info.scopes & 1u << CTL_SCOPE_PORT ? "port" : "",
		    p->info.durations & 1u << CTL_DUR_ONCE ? "once " : "",
		    p->info.durations & 1u << CTL_DUR_RESTART ? "restart " : "",
		    p->info.durations & 1u << CTL_DUR_HOUR ? "1h " : "",
		    p->info.durations & 1u << CTL_DUR_FOREVER ? "forever" : "",
		    ctl_scope_name(scope), ctl_duration_name(duration));
		return;
	}
	change = NULL;
	if (duration != CTL_DUR_ONCE) {
		change = calloc(1, sizeof(*change));
		if (change == NULL) {
			answer_fail(done, arg, id, CTL_E_INTERNAL,
			            "out of memory");
			return;
		}
		change->op = RULESVC_ADD;
		if (answer_rule(&p->info, verdict, scope, duration, answerer,
		                &change->rule, err, sizeof(err)) == -1) {
			free(change);
			answer_fail(done, arg, id, CTL_E_INTERNAL,
			            "cannot make the rule: %s", err);
			return;
		}
	}
	pa = calloc(1, sizeof(*pa));
	if (pa == NULL) {
		free(change);
		answer_fail(done, arg, id, CTL_E_INTERNAL, "out of memory");
		return;
	}
	pa->pd = pd;
	pa->done = done;
	pa->arg = arg;
	pa->res.ok = true;
	pa->res.id = id;
	pa->res.verdict = verdict;
	log_info("prompt %llu: uid %u answers %s %s %s", (unsigned long long)id,
	         (unsigned)answerer, action_name((enum action)verdict),
	         ctl_scope_name(scope), ctl_duration_name(duration));
	/* The waiting connections go first: nobody waits on the store. */
	/* Until its rule is in force, a connection to the same key gets the
	 * answer: unless the rule is narrower than the key (an IP, where
	 * the key is a name that may have other addresses). */
	pa->res.connections =
	    prompt_end(b, p, verdict, REASON_PROMPT, "answered",
	               change != NULL &&
	                   !(scope == CTL_SCOPE_IP && p->info.name[0] != '\0'));
	if (change == NULL) {
		done(arg, &pa->res);
		free(pa);
		return;
	}
	rulesvc_apply(pd, change, answer_stored, pa);
	free(change);
}
