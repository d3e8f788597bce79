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
#include "proxyd/denials.h"

TAILQ_HEAD(parked_list, broker_waiter);

struct prompt {
	TAILQ_ENTRY(prompt) entry;
	struct broker *b;
	struct ctl_prompt info; /* what agents are told; key fields too */
	bool has_uid;
	struct parked_list conns;
	unsigned n_conns;
	struct event *timer;          /* prompt_timeout */
	int verdict;                  /* answered: the answer's */
	int64_t repin;                /* broker_ask.repin, or 0 */
	char digest[DIGEST_HEX_LEN];  /* with repin: the new SHA-256 */
	char repin_app[RULE_APP_MAX]; /* with repin: the program's path */
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
	struct broker_sink sink; /* the agents; all NULL: none */
	struct denials *denials; /* DENIED lines' rate limit */
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
	b->denials = denials_new();
	if (b->denials == NULL) {
		snprintf(err, errlen, "prompts: denials: calloc: %s",
		         strerror(errno));
		free(b);
		return -1;
	}
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
		denials_free(b->denials);
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
	struct broker_waiter *w;

	if (b == NULL)
		return;
	while ((p = TAILQ_FIRST(&b->prompts)) != NULL) {
		while ((w = TAILQ_FIRST(&p->conns)) != NULL) {
			TAILQ_REMOVE(&p->conns, w, entry);
			w->prompt = NULL;
		}
		prompt_free(b, p);
	}
	while ((p = TAILQ_FIRST(&b->answered)) != NULL)
		answered_free(b, p->info.id);
	if (b->psl_owned)
		psl_free(b->psl);
	denials_free(b->denials);
	free(b);
	pd->broker = NULL;
}

void
broker_set_sink(struct proxyd *pd, const struct broker_sink *sink)
{
	struct broker *b = pd->broker;

	if (b == NULL)
		return;
	if (sink != NULL)
		b->sink = *sink;
	else
		memset(&b->sink, 0, sizeof(b->sink));
}

static bool
broker_has_agent(const struct broker *b, bool has_uid, uid_t uid)
{
	return b->sink.has_agent != NULL &&
	       b->sink.has_agent(b->sink.arg, has_uid, uid);
}

/* What agents are told of p now: its description, connections counted. */
static void
prompt_view(const struct prompt *p, struct ctl_prompt *view)
{
	*view = p->info;
	view->connections = p->n_conns;
}

static void
prompt_announce(struct broker *b, struct prompt *p)
{
	struct ctl_prompt view;

	if (b->sink.announce == NULL)
		return;
	prompt_view(p, &view);
	b->sink.announce(b->sink.arg, &view, p->has_uid);
}

/*
 * End p: withdraw it from the agents, give every parked connection the
 * verdict (its owner may free it), and free p, or with keep move it to
 * the answered list until its rule is in force.  Returns how many
 * connections it decided.
 */
static unsigned
prompt_end(struct broker *b, struct prompt *p, int verdict, enum reason reason,
           const char *why, bool keep)
{
	struct parked_list conns;
	struct broker_waiter *w;
	struct ctl_prompt view;
	unsigned n = 0;

	if (p->n_conns > 0)
		log_info("prompt %llu: %s: %s for %u connection%s",
		         (unsigned long long)p->info.id, why,
		         action_name((enum action)verdict), p->n_conns,
		         p->n_conns == 1 ? "" : "s");
	else
		log_info("prompt %llu: withdrawn (%s)",
		         (unsigned long long)p->info.id, why);
	if (b->sink.withdraw != NULL) {
		prompt_view(p, &view);
		b->sink.withdraw(b->sink.arg, &view, p->has_uid, why,
		                 p->n_conns > 0 ? verdict : -1);
	}
	/* Off the broker before any connection moves on: nothing below
	 * may find p again. */
	TAILQ_INIT(&conns);
	TAILQ_CONCAT(&conns, &p->conns, entry);
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
	while ((w = TAILQ_FIRST(&conns)) != NULL) {
		TAILQ_REMOVE(&conns, w, entry);
		w->prompt = NULL;
		n++;
		w->ops->decided(w, (enum action)verdict, reason);
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

/* What agents are told about ask's prompt (id, times and counts aside). */
static void
prompt_describe(struct broker *b, const struct broker_ask *ask,
                struct ctl_prompt *d, bool *has_uid)
{
	const struct app *app = ask->app;
	const char *reg;

	memset(d, 0, sizeof(*d));
	*has_uid = app->uid_known;
	if (app->uid_known) {
		d->uid = app->uid;
		snprintf(d->user, sizeof(d->user), "%s", app->user);
	}
	if (app->known) {
		d->pid = app->pid;
		attr_app_label(app, &b->pd->cfg, d->app, sizeof(d->app));
		snprintf(d->cmdline, sizeof(d->cmdline), "%s", app->cmdline);
	}
	if (ask->name != NULL && ask->source != NAME_NONE)
		snprintf(d->name, sizeof(d->name), "%s", ask->name);
	snprintf(d->source, sizeof(d->source), "%s",
	         name_source_str(ask->source));
	if (ask->dst->sa_family != AF_UNSPEC)
		addr_fmt_ip(ask->dst, d->dst, sizeof(d->dst));
	d->port = ask->port;
	snprintf(d->proto, sizeof(d->proto), "tcp");
	d->deflt = b->pd->cfg.default_action;
	d->scopes = 1u << CTL_SCOPE_APP | 1u << CTL_SCOPE_PORT;
	if (d->dst[0] != '\0')
		d->scopes |= 1u << CTL_SCOPE_IP;
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
	/* A rule needs an app: an unknown process, or one no rule for its
	 * exe may match (attr_rule_exe()), is answered once. */
	d->durations = 1u << CTL_DUR_ONCE;
	if (ask->repin != 0)
		/* Its program changed since its rule was pinned: "forever"
		 * is that rule pinned anew (broker_answer()). */
		d->durations |= 1u << CTL_DUR_FOREVER;
	else if (app->known && app->uid_known &&
	         attr_rule_exe(app->exe, app->flags, &b->pd->cfg) != NULL)
		d->durations |= 1u << CTL_DUR_RESTART | 1u << CTL_DUR_HOUR |
		                1u << CTL_DUR_HALF_HOUR | 1u << CTL_DUR_FOREVER;
}

static void
prompt_add_conn(struct broker *b, struct prompt *p, struct broker_waiter *w)
{
	TAILQ_INSERT_TAIL(&p->conns, w, entry);
	w->prompt = p;
	w->prompt_id = p->info.id;
	p->n_conns++;
	b->n_parked++;
}

/* Open prompts of one uid (has_uid false: of unknown users) and the
 * connections parked on them, into *prompts and *parked. */
static void
broker_of_uid(const struct broker *b, bool has_uid, uid_t uid,
              unsigned *prompts, unsigned *parked)
{
	const struct config *cfg = &b->pd->cfg;
	const struct prompt *p;

	/* A user's subordinate uids share its share. */
	uid = config_uid_owner(cfg, uid);
	*prompts = *parked = 0;
	TAILQ_FOREACH(p, &b->prompts, entry)
	if (p->has_uid == has_uid &&
	    (!has_uid || config_uid_owner(cfg, p->info.uid) == uid)) {
		(*prompts)++;
		*parked += p->n_conns;
	}
}

bool
broker_share_ok(bool new_prompt, unsigned mine_prompts, unsigned mine_parked,
                unsigned parked_max)
{
	if (new_prompt && mine_prompts >= BROKER_PROMPTS_PER_UID)
		return false;
	return mine_parked < (parked_max + 1) / 2;
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
broker_park(struct proxyd *pd, struct broker_waiter *w,
            const struct broker_ask *ask, enum action *verdict)
{
	char whobuf[BROKER_WHO_MAX];
	const char *who;
	struct broker *b = pd->broker;
	struct ctl_prompt want;
	struct timeval tv;
	struct timespec now;
	struct prompt *p;
	unsigned mine_prompts, mine_parked;
	bool has_uid;

	/* no_agent_action = default: while an agent may see a prompt, it
	 * lasts, and with none for this user there is nothing to join
	 * either.  Asked first, as it is cheap and the usual case of a
	 * daemon nobody is asked through.  With wait, the prompt is raised
	 * for an agent that comes later, or an admin's tollgate answer. */
	if (b == NULL ||
	    (!pd->cfg.no_agent_wait &&
	     !broker_has_agent(b, ask->app->uid_known, ask->app->uid)))
		return BROKER_NO_AGENT;
	who = ask->who(ask->owner, whobuf, sizeof(whobuf));
	prompt_describe(b, ask, &want, &has_uid);
	p = prompt_find(&b->answered, &want, has_uid);
	if (p != NULL) {
		*verdict = (enum action)p->verdict;
		w->prompt_id = p->info.id;
		return BROKER_ANSWERED;
	}
	broker_of_uid(b, has_uid, want.uid, &mine_prompts, &mine_parked);
	p = prompt_find(&b->prompts, &want, has_uid);
	if (p != NULL) {
		if (p->n_conns >= BROKER_PARKED_PER_PROMPT ||
		    b->n_parked >= parked_max(pd) ||
		    !broker_share_ok(false, mine_prompts, mine_parked,
		                     parked_max(pd))) {
			log_info("%s: prompt %llu: %u connections wait on "
			         "it, %u in all: not parked",
			         who, (unsigned long long)p->info.id,
			         p->n_conns, b->n_parked);
			return BROKER_FULL;
		}
		prompt_add_conn(b, p, w);
		log_debug("%s: joins prompt %llu (%u waiting)", who,
		          (unsigned long long)p->info.id, p->n_conns);
		return BROKER_PARKED;
	}
	if (b->n_prompts >= BROKER_PROMPTS_MAX ||
	    b->n_parked >= parked_max(pd) ||
	    prompts_of_app(b, &want, has_uid) >= BROKER_PROMPTS_PER_APP ||
	    !broker_share_ok(true, mine_prompts, mine_parked, parked_max(pd))) {
		log_info("%s: %u prompts pending (%u connections), %u of "
		         "them (%u) this user's: not asking",
		         who, b->n_prompts, b->n_parked, mine_prompts,
		         mine_parked);
		return BROKER_FULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		log_error("%s: prompt: calloc: %s", who, strerror(errno));
		return BROKER_FULL;
	}
	p->b = b;
	p->info = want;
	p->has_uid = has_uid;
	if (ask->repin != 0 && ask->app->has_digest) {
		p->repin = ask->repin;
		digest_hex(ask->app->digest, p->digest);
		snprintf(p->repin_app, sizeof(p->repin_app), "%s",
		         ask->app->exe);
	}
	TAILQ_INIT(&p->conns);
	p->timer = evtimer_new(pd->base, prompt_timeout_cb, p);
	tv.tv_sec = pd->cfg.prompt_timeout_ms / 1000;
	tv.tv_usec = (pd->cfg.prompt_timeout_ms % 1000) * 1000;
	if (p->timer == NULL || evtimer_add(p->timer, &tv) == -1) {
		log_error("%s: prompt: cannot arm its timer", who);
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
	prompt_add_conn(b, p, w);
	log_info("%s: prompt %llu: asking about %s (%s) -> %s port %u, %u s",
	         who, (unsigned long long)p->info.id,
	         p->info.app[0] != '\0' ? p->info.app : "an unknown process",
	         p->info.user[0] != '\0' ? p->info.user : "unknown user",
	         p->info.name[0] != '\0' ? p->info.name : p->info.dst,
	         p->info.port, pd->cfg.prompt_timeout_ms / 1000);
	prompt_announce(b, p);
	return BROKER_PARKED;
}

void
broker_unpark(struct broker_waiter *w, const char *why)
{
	struct prompt *p = w->prompt;
	struct broker *b;

	if (p == NULL)
		return;
	b = p->b;
	TAILQ_REMOVE(&p->conns, w, entry);
	w->prompt = NULL;
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
	struct broker_waiter *w, *wnext;

	if (b == NULL)
		return;
	for (p = TAILQ_FIRST(&b->prompts); p != NULL; p = pnext) {
		/* The last connection of p leaving frees p: step on first,
		 * and count how many remain rather than touch p after. */
		unsigned left = p->n_conns;

		pnext = TAILQ_NEXT(p, entry);
		for (w = TAILQ_FIRST(&p->conns); w != NULL && left > 0;
		     w = wnext) {
			wnext = TAILQ_NEXT(w, entry);
			left--;
			/* May unpark w (and free p with its last one). */
			w->ops->rejudge(w);
		}
	}
}

void
broker_agents_changed(struct proxyd *pd)
{
	struct broker *b = pd->broker;
	struct prompt *p, *next;

	/* With wait, a prompt outlives its agents: the next one, or an
	 * admin, or the timeout decides it. */
	if (b == NULL || pd->cfg.no_agent_wait)
		return;
	for (p = TAILQ_FIRST(&b->prompts); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (!broker_has_agent(b, p->has_uid, p->info.uid))
			prompt_end(b, p, pd->cfg.default_action,
			           REASON_NO_AGENT, "no-agent", false);
	}
}

unsigned
broker_list(struct proxyd *pd, int64_t uid,
            void (*each)(void *arg, const struct ctl_prompt *p), void *arg)
{
	struct broker *b = pd->broker;
	struct ctl_prompt view;
	struct prompt *p;
	unsigned n = 0;

	if (b == NULL)
		return 0;
	TAILQ_FOREACH(p, &b->prompts, entry)
	{
		if (uid != -1 && (!p->has_uid || p->info.uid != uid))
			continue;
		prompt_view(p, &view);
		each(arg, &view);
		n++;
	}
	return n;
}

unsigned
broker_answer_durations(const struct config *cfg, bool admin)
{
	unsigned once = 1u << CTL_DUR_ONCE, bounded;

	bounded = once | 1u << CTL_DUR_RESTART | 1u << CTL_DUR_HOUR |
	          1u << CTL_DUR_HALF_HOUR;
	switch (cfg->prompt_answers) {
	case PROMPT_ANSWERS_ONCE_ONLY:
		return once;
	case PROMPT_ANSWERS_ADMIN_FOREVER:
		if (!admin)
			return bounded;
		break;
	case PROMPT_ANSWERS_ALL:
		break;
	}
	return bounded | 1u << CTL_DUR_FOREVER;
}

void
broker_refused(struct proxyd *pd, struct ctl_denied *d)
{
	struct broker *b = pd->broker;

	if (b == NULL || !pd->cfg.notify_denials || b->sink.denied == NULL ||
	    b->sink.told == NULL || !b->sink.told(b->sink.arg, (uid_t)d->uid))
		return;
	if (!denials_take(b->denials, (uid_t)d->uid, d->app,
	                  d->name[0] != '\0' ? d->name : d->dst, d->time,
	                  &d->count))
		return;
	b->sink.denied(b->sink.arg, d);
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
	case CTL_DUR_HALF_HOUR:
		r->duration = DUR_UNTIL;
		r->expires = time(NULL) + CTL_HALF_HOUR_S;
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
		pa->res.code = res->code;
		snprintf(pa->res.err, sizeof(pa->res.err),
		         "prompt %llu answered, but its rule was not added: "
		         "%s",
		         (unsigned long long)pa->res.id, res->err);
	}
	pa->done(pa->arg, &pa->res);
	free(pa);
}

static void answer_fail(void (*done)(void *, const struct broker_result *),
                        void *arg, uint64_t id, enum rulesvc_error code,
                        const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
answer_fail(void (*done)(void *, const struct broker_result *), void *arg,
            uint64_t id, enum rulesvc_error code, const char *fmt, ...)
{
	struct broker_result r = {.ok = false, .code = code, .id = id};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.err, sizeof(r.err), fmt, ap);
	va_end(ap);
	done(arg, &r);
}

/* An answer that would last longer than prompt_answers lets answerer's
 * (the only place that decides it; control.c relays the text). */
static void
answer_refuse(struct proxyd *pd, uint64_t id, uid_t answerer,
              enum ctl_duration duration,
              void (*done)(void *, const struct broker_result *), void *arg)
{
	const struct config *cfg = &pd->cfg;

	log_info("prompt %llu: uid %u may not answer %s (prompt_answers = "
	         "%s)",
	         (unsigned long long)id, (unsigned)answerer,
	         ctl_duration_name(duration),
	         prompt_answers_name(cfg->prompt_answers));
	if (cfg->prompt_answers == PROMPT_ANSWERS_ONCE_ONLY)
		answer_fail(done, arg, id, RULESVC_E_PERM,
		            "prompt_answers = once-only: an answer decides the "
		            "waiting connections only (once); rules come from "
		            "tollgate rules add");
	else
		answer_fail(done, arg, id, RULESVC_E_PERM,
		            "prompt_answers = admin-forever: you may answer "
		            "once, 30m, 1h or restart; %s answers need "
		            "root%s%s",
		            ctl_duration_name(duration),
		            cfg->admin_group[0] != '\0' ? " or group " : "",
		            cfg->admin_group);
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
		answer_fail(done, arg, id, RULESVC_E_NOTFOUND,
		            "no pending prompt %llu (answered, timed out or "
		            "withdrawn)",
		            (unsigned long long)id);
		return;
	}
	if (!(broker_answer_durations(&pd->cfg, uid == -1) & 1u << duration)) {
		answer_refuse(pd, id, answerer, duration, done, arg);
		return;
	}
	if (!(p->info.scopes & 1u << scope) ||
	    !(p->info.durations & 1u << duration)) {
		answer_fail(
		    done, arg, id, RULESVC_E_INVALID,
		    "prompt %llu offers scopes %s%s%s%s%s and "
		    "durations %s%s%s%s%s, not %s %s",
		    (unsigned long long)id,
		    p->info.scopes & 1u << CTL_SCOPE_NAME ? "name " : "",
		    p->info.scopes & 1u << CTL_SCOPE_DOMAIN ? "domain " : "",
		    p->info.scopes & 1u << CTL_SCOPE_APP ? "app " : "",
		    p->info.scopes & 1u << CTL_SCOPE_IP ? "ip " : "",
		    p->info.scopes & 1u << CTL_SCOPE_PORT ? "port" : "",
		    p->info.durations & 1u << CTL_DUR_ONCE ? "once " : "",
		    p->info.durations & 1u << CTL_DUR_RESTART ? "restart " : "",
		    p->info.durations & 1u << CTL_DUR_HALF_HOUR ? "30m " : "",
		    p->info.durations & 1u << CTL_DUR_HOUR ? "1h " : "",
		    p->info.durations & 1u << CTL_DUR_FOREVER ? "forever" : "",
		    ctl_scope_name(scope), ctl_duration_name(duration));
		return;
	}
	if (p->repin != 0 && duration == CTL_DUR_FOREVER && uid != -1) {
		answer_fail(done, arg, id, RULESVC_E_INVALID,
		            "prompt %llu: pinning rule %lld anew is for root "
		            "or admin_group (it decides for whom the rule "
		            "does); this answer may only be once",
		            (unsigned long long)id, (long long)p->repin);
		return;
	}
	if (p->repin != 0 && duration == CTL_DUR_FOREVER &&
	    verdict != ACTION_ALLOW) {
		answer_fail(done, arg, id, RULESVC_E_INVALID,
		            "prompt %llu: its program changed since rule %lld "
		            "was made; for good it takes only allow, which "
		            "pins that rule anew",
		            (unsigned long long)id, (long long)p->repin);
		return;
	}
	change = NULL;
	if (duration != CTL_DUR_ONCE) {
		change = calloc(1, sizeof(*change));
		if (change == NULL) {
			answer_fail(done, arg, id, RULESVC_E_INTERNAL,
			            "out of memory");
			return;
		}
		change->op = RULESVC_ADD;
		if (p->repin != 0) {
			/* The changed program's rule, pinned to its new
			 * file: the user confirmed the change. */
			change->op = RULESVC_PIN;
			change->id = p->repin;
			snprintf(change->rule.app, sizeof(change->rule.app),
			         "%s", p->repin_app);
			snprintf(change->rule.digest,
			         sizeof(change->rule.digest), "%s", p->digest);
		} else if (answer_rule(&p->info, verdict, scope, duration,
		                       answerer, &change->rule, err,
		                       sizeof(err)) == -1) {
			free(change);
			answer_fail(done, arg, id, RULESVC_E_INTERNAL,
			            "cannot make the rule: %s", err);
			return;
		}
	}
	pa = calloc(1, sizeof(*pa));
	if (pa == NULL) {
		free(change);
		answer_fail(done, arg, id, RULESVC_E_INTERNAL, "out of memory");
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
