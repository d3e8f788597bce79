/*
 * conn.c - one connection's state machine; see conn.h.
 *
 * Read top to bottom as a connection goes: the state table, accept, peek
 * and attribution, the decision (and the prompt it may wait on), the way
 * onward (resolve, connect and the upstream's SOCKS5 exchange are in
 * conn_onward.c; conn_granted() here goes on), the watch of a silent
 * client, the relay, and the end.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "proxyd/appcache.h"
#include "proxyd/conn_int.h"
#include "proxyd/ctorig.h"
#include "proxyd/encdns.h"
#include "proxyd/fairshare.h"
#include "proxyd/fakeip.h"
#include "proxyd/eventlog.h"
#include "proxyd/rulesvc.h"

/* The peek buffer starts small and doubles up to PEEK_MAX_BYTES. */
#define CONN_PEEK_INITIAL 4096
/* A parked client that half-closed: how often its process is looked at. */
#define CONN_PARKED_CHECK_MS 500

/* --- the state machine ---------------------------------------------------- */

static const struct {
	const char *name;
	unsigned next; /* CONN_BIT()s of the states it may go to */
} conn_states[CONN_STATE_COUNT] = {
    [CONN_REQUEST] = {"request",
                      CONN_BIT(CONN_PEEK) | CONN_BIT(CONN_ATTR_WAIT) |
                          CONN_BIT(CONN_DECIDE) | CONN_BIT(CONN_DEAD)},
    [CONN_PEEK] = {"peek", CONN_BIT(CONN_ATTR_WAIT) | CONN_BIT(CONN_DECIDE) |
                               CONN_BIT(CONN_DEAD)},
    [CONN_ATTR_WAIT] = {"attr-wait",
                        CONN_BIT(CONN_DECIDE) | CONN_BIT(CONN_DEAD)},
    [CONN_DECIDE] = {"decide",
                     CONN_BIT(CONN_ATTR_WAIT) | CONN_BIT(CONN_PARKED) |
                         CONN_BIT(CONN_RESOLVE) | CONN_BIT(CONN_CONNECT) |
                         CONN_BIT(CONN_SEND_PEEKED) | CONN_BIT(CONN_DEAD)},
    [CONN_PARKED] = {"parked", CONN_BIT(CONN_DECIDE) | CONN_BIT(CONN_DEAD)},
    [CONN_RESOLVE] = {"resolve", CONN_BIT(CONN_CONNECT) | CONN_BIT(CONN_DEAD)},
    [CONN_CONNECT] = {"connect", CONN_BIT(CONN_UPSTREAM) |
                                     CONN_BIT(CONN_SEND_PEEKED) |
                                     CONN_BIT(CONN_DEAD)},
    [CONN_UPSTREAM] = {"upstream",
                       CONN_BIT(CONN_SEND_PEEKED) | CONN_BIT(CONN_DEAD)},
    [CONN_SEND_PEEKED] = {"send-peeked", CONN_BIT(CONN_WATCH) |
                                             CONN_BIT(CONN_RELAY) |
                                             CONN_BIT(CONN_DEAD)},
    [CONN_WATCH] = {"watch", CONN_BIT(CONN_DECIDE) |
                                 CONN_BIT(CONN_SEND_PEEKED) |
                                 CONN_BIT(CONN_RELAY) | CONN_BIT(CONN_DEAD)},
    [CONN_RELAY] = {"relay", CONN_BIT(CONN_DEAD)},
    [CONN_DEAD] = {"dead", 0},
};

const char *
conn_state_name(enum conn_state s)
{
	if ((unsigned)s >= CONN_STATE_COUNT)
		return "?";
	return conn_states[s].name;
}

bool
conn_state_allowed(enum conn_state from, enum conn_state to)
{
	if ((unsigned)from >= CONN_STATE_COUNT ||
	    (unsigned)to >= CONN_STATE_COUNT)
		return false;
	return (conn_states[from].next & CONN_BIT(to)) != 0;
}

/* --- fair shares of the peek and attribution stages --------------------- */

/* The states max_pending_per_user counts. */
#define CONN_PENDING_STATES                                                    \
	(CONN_BIT(CONN_REQUEST) | CONN_BIT(CONN_PEEK) |                        \
	 CONN_BIT(CONN_ATTR_WAIT))

/*
 * c's uid is known and c has not left those stages: count it against the
 * uid, or, when the uid holds max_pending_per_user already, mark it
 * over_share (the caller ends its peek; conn_decide() refuses it).
 */
static void
conn_share_take(struct conn *c, uid_t uid)
{
	struct proxyd *pd = c->pd;
	int rc;

	if (c->pending_held || !(CONN_BIT(c->state) & CONN_PENDING_STATES))
		return;
	if (pd->pending == NULL &&
	    (pd->pending = fairshare_new(pd->cfg.max_pending_per_user)) ==
	        NULL) {
		conn_log(c, LOG_ERR,
		         "counting connections per user: out of "
		         "memory");
		return;
	}
	uid = config_uid_owner(&pd->cfg, uid); /* subordinate uids: its own */
	rc = fairshare_take(pd->pending, uid);
	if (rc == 0) {
		c->pending_held = true;
		c->pending_uid = uid;
		if (fairshare_full(pd->pending) > 0)
			worker_set_shortcut(pd->worker, false);
	} else if (rc == 1) {
		c->over_share = true;
		conn_log(c, LOG_DEBUG,
		         "uid %u has %u connections being read or attributed "
		         "(max_pending_per_user)",
		         (unsigned)uid, pd->cfg.max_pending_per_user);
	} else
		conn_log(c, LOG_ERR,
		         "counting connections per user: out of "
		         "memory");
}

/* c leaves the peek and attribution stages: its uid's count goes down. */
static void
conn_share_put(struct conn *c)
{
	if (!c->pending_held)
		return;
	c->pending_held = false;
	fairshare_put(c->pd->pending, c->pending_uid);
	if (fairshare_full(c->pd->pending) == 0)
		worker_set_shortcut(c->pd->worker, true);
}

/*
 * The one writer of c->state.  A step the table does not allow is a bug
 * that would leave a connection half in one state and half in another:
 * tollgated stops (its nftables table stays, so traffic fails closed)
 * rather than go on with it.
 */
void
conn_set_state(struct conn *c, enum conn_state to)
{
	if (!conn_state_allowed(c->state, to)) {
		conn_log(c, LOG_ERR, "no step from state %s to %s",
		         conn_state_name(c->state), conn_state_name(to));
		abort();
	}
	conn_log(c, LOG_DEBUG, "%s -> %s", conn_state_name(c->state),
	         conn_state_name(to));
	c->state = to;
	if (!(CONN_BIT(to) & CONN_PENDING_STATES))
		conn_share_put(c);
}

/* What a callback checks first: c is in one of the states of mask
 * (CONN_BIT()s).  As conn_set_state(): anything else is a bug. */
void
conn_expect(const struct conn *c, unsigned mask, const char *where)
{
	if (mask & CONN_BIT(c->state))
		return;
	conn_log(c, LOG_ERR, "%s in state %s", where,
	         conn_state_name(c->state));
	abort();
}

/* --- helpers -------------------------------------------------------------- */

static void conn_attr_uid_run(struct worker_job *job, void *ctx);
static void conn_attr_uid_done(struct worker_job *job);
static void conn_attr_joined_done(struct worker_job *job);
static void conn_attr_proc_submit(struct conn *c, uid_t uid);
static void conn_attr_proc_run(struct worker_job *job, void *ctx);
static void conn_attr_done(struct worker_job *job);
static enum conn_syn conn_attr_by_syn(struct conn *c);
static void conn_attr_rec_run(struct worker_job *job, void *ctx);
static void conn_refuse_share(struct conn *c, uid_t uid);
static void conn_attr_rec_done(struct worker_job *job);

/* What conn_attr_by_syn() did. */
enum conn_syn {
	CONN_SYN_NONE,  /* no SYN record: attribution as before */
	CONN_SYN_READ,  /* attributed or on its way: read the first message */
	CONN_SYN_ENDED, /* over its user's share: decided (c may be gone) */
};
static void conn_peek_finish(struct conn *c);
static void conn_client_cb(evutil_socket_t fd, short what, void *arg);
static void conn_server_cb(evutil_socket_t fd, short what, void *arg);
static void conn_request_read(struct conn *c);
static void conn_peek_readable(struct conn *c);
static void conn_watch_client(struct conn *c);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_decide(struct conn *c);
static void conn_digest_ready(struct hashq_waiter *w);
static void conn_act(struct conn *c);
static void conn_park(struct conn *c);
static void conn_parked_gone(struct conn *c);
static void conn_settle(struct conn *c);
static void conn_resolve_fake(struct conn *c, const struct front_ask *ask);
static void conn_send_peeked(struct conn *c);
static void conn_send_late(struct conn *c);
static void conn_watch_start(struct conn *c);
static void conn_watch_decide(struct conn *c);
static void conn_relay_begin(struct conn *c);
static void conn_end(struct conn *c, bool reset, const char *error);
static void conn_abort(struct conn *c, const char *error);
static void conn_free(struct conn *c);
static void conn_prompt_decided(struct broker_waiter *w, enum action verdict,
                                enum reason reason);
static void conn_prompt_rejudge(struct broker_waiter *w);

/* How the broker hands a parked connection back. */
static const struct broker_waiter_ops conn_waiter_ops = {
    .decided = conn_prompt_decided,
    .rejudge = conn_prompt_rejudge,
};

static time_t
now_coarse(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* The name c is judged by: the one its request told (a proxy front),
 * else the one its first message carries; NULL for none. */
const char *
conn_name(const struct conn *c)
{
	if (c->ask != NULL && c->ask->name[0] != '\0')
		return c->ask->name;
	return c->peek.source != NAME_NONE ? c->peek.name : NULL;
}

static enum name_source
conn_source(const struct conn *c)
{
	if (c->ask != NULL && c->ask->name[0] != '\0')
		return c->ask->source;
	return c->peek.source;
}

/*
 * Whether c's destination is only a name: a proxy client named a host, or
 * its address is one tollgated made up for a name.  Going direct, such a
 * name is resolved; the made-up address is never connected to.
 */
static bool
conn_named_only(const struct conn *c)
{
	return c->dst.ss_family == AF_UNSPEC ||
	       (c->ask != NULL && c->ask->source == NAME_FAKEIP);
}

/* "conn N CLIENT -> DST" into buf: a unix client as "unix pid P", a
 * destination known by name as "NAME:PORT". */
static const char *
conn_who(const struct conn *c, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[PEEK_NAME_MAX + 8];

	if (c->has_cred)
		snprintf(a, sizeof(a), "unix pid %ld", (long)c->peer_pid);
	else
		addr_fmt((const struct sockaddr *)&c->client, a, sizeof(a));
	if (c->dst.ss_family != AF_UNSPEC)
		addr_fmt((const struct sockaddr *)&c->dst, b, sizeof(b));
	else if (c->ask != NULL && c->ask->name[0] != '\0')
		snprintf(b, sizeof(b), "%s:%u", c->ask->name, c->port);
	else if (c->peek.source != NAME_NONE) /* relaying: ask is gone */
		snprintf(b, sizeof(b), "%s:%u", c->peek.name, c->port);
	else
		snprintf(b, sizeof(b), "?");
	snprintf(buf, len, "conn %llu %s -> %s", (unsigned long long)c->id, a,
	         b);
	return buf;
}

void
conn_log(const struct conn *c, int level, const char *fmt, ...)
{
	char msg[1024], who[ADDR_STRLEN + PEEK_NAME_MAX + 48];
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s: %s", conn_who(c, who, sizeof(who)), msg);
}

/* Arm c's timer for ms.  0, or -1 (logged) when libevent cannot. */
int
conn_arm(struct conn *c, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	if (evtimer_add(c->timer, &tv) == -1) {
		conn_log(c, LOG_ERR, "cannot arm a timer");
		return -1;
	}
	return 0;
}

/* Free c's events (the relay has its own). */
static void
conn_events_free(struct conn *c)
{
	if (c->cev != NULL)
		event_free(c->cev);
	if (c->sev != NULL)
		event_free(c->sev);
	if (c->timer != NULL)
		event_free(c->timer);
	c->cev = c->sev = c->timer = NULL;
}

/*
 * Watch fd (c's client or onward socket) for what with cb, on the one
 * event that socket has for its life (c->cev or c->sev).  Already so and
 * pending: nothing to do, no system call; the same but not pending:
 * added; else assigned anew (deleted first).  0, or -1.
 */
int
conn_watch_fd(struct conn *c, int fd, short what, event_callback_fn cb)
{
	struct event **ev = fd == c->cfd ? &c->cev : &c->sev;

	if (*ev == NULL) {
		*ev = event_new(c->pd->base, fd, what, cb, c);
		if (*ev == NULL)
			return -1;
	} else if (event_get_callback(*ev) != cb ||
	           event_get_events(*ev) != what) {
		event_del(*ev);
		if (event_assign(*ev, c->pd->base, fd, what, cb, c) == -1)
			return -1;
	} else if (event_pending(*ev, EV_READ | EV_WRITE | EV_CLOSED, NULL))
		return 0;
	return event_add(*ev, NULL);
}

/* --- accept --------------------------------------------------------------- */

/*
 * A transparent client connecting to an address the DNS stub made up for
 * a name: the name is what it meant (source fakeip), judged and sent on
 * as a proxy client's request would be.  No mapping: conn_decide()
 * refuses it.  An allocation failure leaves it unnamed, so refused too.
 */
static void
conn_fake_name(struct conn *c)
{
	const char *name;

	if (c->pd->fakeip == NULL ||
	    (name = fakeip_use(c->pd->fakeip,
	                       (const struct sockaddr *)&c->dst)) == NULL ||
	    (c->ask = calloc(1, sizeof(*c->ask))) == NULL)
		return;
	snprintf(c->ask->name, sizeof(c->ask->name), "%s", name);
	c->ask->source = NAME_FAKEIP;
	memcpy(&c->ask->dst, &c->dst, sizeof(c->ask->dst));
	c->ask->port = c->port;
}

void
conn_refuse_early(struct proxyd *pd, int fd, const struct sockaddr *client,
                  const struct sockaddr *dst, enum reason reason)
{
	struct decision d = {
	    .id = pd->next_conn_id++,
	    .verdict = ACTION_REJECT,
	    .reason = reason,
	    .client = client,
	    .dst = dst,
	    .port = addr_port(dst),
	    .upstream = upstream_direct.name,
	};

	pd->stats.refused++;
	eventlog_decision(pd, &d);
	front_reset(fd);
}

void
conn_accept(struct proxyd *pd, const struct front *front, int fd,
            const struct conn_origin *o)
{
	struct conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("accept: calloc: %s", strerror(errno));
		front_reset(fd);
		return;
	}
	c->pd = pd;
	c->id = pd->next_conn_id++;
	c->state = front->request != NULL ? CONN_REQUEST : CONN_PEEK;
	c->front = front;
	c->up = &upstream_direct;
	c->wait.ops = &conn_waiter_ops;
	c->digest_wait.ready = conn_digest_ready;
	c->cfd = fd;
	c->sfd = -1;
	c->ident.pidfd = -1;
	if (o->client != NULL)
		memcpy(&c->client, o->client, addr_len(o->client));
	if (o->local != NULL)
		memcpy(&c->local, o->local, addr_len(o->local));
	if (o->self != NULL)
		memcpy(&c->self, o->self, addr_len(o->self));
	if (o->dst != NULL) {
		memcpy(&c->dst, o->dst, addr_len(o->dst));
		c->port = addr_port(o->dst);
		conn_fake_name(c);
	}
	if (o->via != NULL)
		snprintf(c->front_via, sizeof(c->front_via), "%s", o->via);
	c->has_cred = o->has_cred;
	c->peer_pid = o->pid;
	c->peer_uid = o->uid;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->last_active = c->started.tv_sec;
	TAILQ_INSERT_TAIL(&pd->conns, c, entry);
	pd->n_conns++;
	pd->stats.accepted++;
	/* TCP_NODELAY: inherited from the listening socket (listener.c). */

	c->app = calloc(1, sizeof(*c->app));
	c->timer = evtimer_new(pd->base, conn_timer_cb, c);
	if (front->state_size > 0 &&
	    (c->fstate = calloc(1, front->state_size)) != NULL)
		front->init(c->fstate);
	if (c->app == NULL || c->timer == NULL ||
	    (front->state_size > 0 && c->fstate == NULL) ||
	    conn_watch_fd(c, fd, EV_READ | EV_PERSIST, conn_client_cb) == -1) {
		conn_log(c, LOG_ERR, "cannot add client events");
		conn_abort(c, NULL);
		return;
	}
	if (conn_arm(c, pd->cfg.peek_timeout_ms) == -1) {
		conn_abort(c, NULL);
		return;
	}
	c->attr_pending = true;
	if (!o->has_cred) {
		switch (conn_attr_by_syn(c)) {
		case CONN_SYN_ENDED:
			return;
		case CONN_SYN_NONE:
			c->job.run = conn_attr_uid_run;
			c->job.done = conn_attr_uid_done;
			worker_submit(pd->worker, &c->job);
			break;
		case CONN_SYN_READ:
			break;
		}
		/* Most clients send their first message with the handshake's
		 * end (HTTP, TLS): read it now rather than after one more
		 * turn of the loop.  Nothing there: the event reads it. */
		if (c->state == CONN_PEEK)
			conn_peek_readable(c);
		return;
	}
	/* A unix client's uid is the kernel's word: counted from now, and
	 * one over its share is refused without the /proc work. */
	conn_share_take(c, o->uid);
	if (c->over_share) {
		conn_refuse_share(c, o->uid);
		return;
	}
	conn_attr_proc_submit(c, o->uid);
}

/*
 * The loop's memory of recent processes and user names (appcache.h),
 * made by conn_prepare() or when first needed; it then asks the worker
 * for the guarded users' names.  NULL when out of memory (logged).
 */
static struct appcache *
conn_appcache(struct proxyd *pd)
{
	size_t i;

	if (pd->appcache != NULL)
		return pd->appcache;
	if ((pd->appcache = appcache_new()) == NULL) {
		log_error("attribution cache: out of memory");
		return NULL;
	}
	for (i = 0; i < pd->cfg.n_guard && i < APPCACHE_USERS; i++)
		appcache_ask_user(pd->appcache, pd->worker,
		                  pd->cfg.guard_uids[i]);
	return pd->appcache;
}

void
conn_prepare(struct proxyd *pd)
{
	conn_appcache(pd);
}

/*
 * c, of uid, is over its user's max_pending_per_user: refused now, with
 * no trip to the worker, not even for its user's name
 * (appcache_user()).  A guarded user's subordinate uid is shown by its
 * number, not asked: the password database seldom names one, and a
 * container's many would push the guarded users' names out of the
 * table.  c may be gone on return.
 */
static void
conn_refuse_share(struct conn *c, uid_t uid)
{
	struct appcache *ac = conn_appcache(c->pd);

	c->attr_pending = false;
	memset(c->app, 0, sizeof(*c->app));
	c->app->uid_known = true;
	c->app->uid = uid;
	if (ac != NULL && config_uid_owner(&c->pd->cfg, uid) == uid)
		appcache_user(ac, c->pd->worker, uid, c->app->user,
		              sizeof(c->app->user));
	else
		snprintf(c->app->user, sizeof(c->app->user), "%u",
		         (unsigned)uid);
	conn_peek_finish(c);
}

/* --- peek and attribution ------------------------------------------------- */

/*
 * Attribution is two stages on the worker thread, so that one user's many
 * connections cannot hold back another user's: the uid, from sock_diag
 * (cheap; plain jobs, in the order the connections came), then the
 * process, from /proc (the costly part; each uid's jobs wait their turn,
 * worker.h).  Between them the loop counts the connection against its
 * uid's max_pending_per_user: one over it is refused without the /proc
 * work.  When nothing else waits for the thread and no uid is at its
 * bound (worker_idle()), there is no turn to wait for: the uid stage
 * goes on with the process in the same job, and the loop counts the
 * connection when it comes back (conn_attr_joined_done()); one trip to
 * the thread instead of two.  (The loop turns that shortcut off when a
 * uid reaches its bound; a job already running may not see it yet, and
 * its connection, refused all the same, has had its /proc work.)  While
 * attr_pending the worker owns c->app, c->job and the addresses.
 */
static void
conn_attr_uid_run(struct worker_job *job, void *ctx)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));
	const struct sockaddr *client;
	struct sockaddr_storage orig;

	memset(c->app, 0, sizeof(*c->app));
	if (ctx == NULL)
		return;
	/* A redirected client's port may have been rewritten by conntrack
	 * (ctorig.h): its socket is known by the original one. */
	client = (const struct sockaddr *)&c->client;
	if (c->self.ss_family != AF_UNSPEC) {
		if (ctorig_source(client, (const struct sockaddr *)&c->self,
		                  &orig) == 0)
			client = (const struct sockaddr *)&orig;
		else
			/* Rate-limited by log.c when it repeats. */
			log_warn("attr: conntrack has no original source for "
			         "a redirected client: %s; looked up as it "
			         "reached us",
			         strerror(errno));
	}
	if (attr_lookup_uid(ctx, client, (const struct sockaddr *)&c->local,
	                    &c->attr_sock, c->app) == 0 &&
	    worker_idle(c->pd->worker)) {
		attr_lookup_proc(ctx, &c->attr_sock, c->app);
		c->job.done = conn_attr_joined_done;
	}
}

/*
 * With the SYN record of c (connbpf_syn_take()) its uid is known at
 * accept, with no sock_diag: counted now, one over its share refused
 * at once; then its process, from pd->appcache when a recent answer
 * for it still holds (no worker trip at all), else in one job on the
 * worker in its user's turn, whose answer is kept for the next one.
 */
static enum conn_syn
conn_attr_by_syn(struct conn *c)
{
	struct proxyd *pd = c->pd;

	if (pd->connbpf == NULL ||
	    connbpf_syn_take(pd->connbpf, c->cfd,
	                     (const struct sockaddr *)&c->client,
	                     (const struct sockaddr *)&c->local, &c->rec) != 1)
		return CONN_SYN_NONE;
	if (conn_appcache(pd) == NULL)
		return CONN_SYN_NONE;
	conn_share_take(c, c->rec.sk_uid);
	if (c->over_share) {
		conn_refuse_share(c, c->rec.sk_uid);
		return CONN_SYN_ENDED;
	}
	/* Kept answers only with the exec program: else an exec since
	 * could not be told (appcache.h). */
	if (connbpf_exec_tracked(pd->connbpf) &&
	    appcache_get(pd->appcache, pd->connbpf, &c->rec, c->app) == 1) {
		connbpf_note(pd->connbpf, true);
		c->attr_pending = false;
		return CONN_SYN_READ;
	}
	c->job.run = conn_attr_rec_run;
	c->job.done = conn_attr_rec_done;
	worker_submit_share(pd->worker, &c->job,
	                    config_uid_owner(&pd->cfg, c->rec.sk_uid));
	return CONN_SYN_READ;
}

static void
conn_attr_rec_run(struct worker_job *job, void *ctx)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	c->ident.pidfd = -1;
	if (ctx == NULL) {
		memset(c->app, 0, sizeof(*c->app));
		c->app->uid_known = true;
		c->app->uid = c->rec.sk_uid;
		return;
	}
	/* A pidfd for the cache (only with the exec program: appcache.h),
	 * unless many are on their way already (the descriptor budget
	 * counts APPCACHE_INFLIGHT_MAX). */
	c->ident_counted =
	    connbpf_exec_tracked(c->pd->connbpf) &&
	    __atomic_add_fetch(&c->pd->idents_inflight, 1, __ATOMIC_RELAXED) <=
	        APPCACHE_INFLIGHT_MAX;
	if (!c->ident_counted && connbpf_exec_tracked(c->pd->connbpf))
		__atomic_sub_fetch(&c->pd->idents_inflight, 1,
		                   __ATOMIC_RELAXED);
	attr_lookup_rec(ctx, &c->rec, c->app,
	                c->ident_counted ? &c->ident : NULL);
}

static void
conn_attr_rec_done(struct worker_job *job)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	/* pd->appcache was made before the job was submitted. */
	if (c->app->uid_known)
		appcache_note_user(c->pd->appcache, c->app->uid, c->app->user);
	if (c->ident.pidfd != -1) {
		appcache_put(c->pd->appcache, &c->ident, c->app);
		c->ident.pidfd = -1;
	}
	if (c->ident_counted) {
		c->ident_counted = false;
		__atomic_sub_fetch(&c->pd->idents_inflight, 1,
		                   __ATOMIC_RELAXED);
	}
	conn_attr_done(job);
}

static void
conn_attr_uid_done(struct worker_job *job)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	if (c->state != CONN_DEAD && c->app->uid_known) {
		conn_share_take(c, c->app->uid);
		if (!c->over_share) {
			conn_attr_proc_submit(c, c->app->uid);
			return;
		}
	}
	conn_attr_done(job);
}

/* Both stages in one job: the uid is counted now (one over its share is
 * refused, its /proc work done already). */
static void
conn_attr_joined_done(struct worker_job *job)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	if (c->state != CONN_DEAD)
		conn_share_take(c, c->app->uid);
	conn_attr_done(job);
}

/* The second job: the process, in the turn of uid's owner. */
static void
conn_attr_proc_submit(struct conn *c, uid_t uid)
{
	c->job.run = conn_attr_proc_run;
	c->job.done = conn_attr_done;
	worker_submit_share(c->pd->worker, &c->job,
	                    config_uid_owner(&c->pd->cfg, uid));
}

static void
conn_attr_proc_run(struct worker_job *job, void *ctx)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	if (c->has_cred) {
		memset(c->app, 0, sizeof(*c->app));
		if (ctx != NULL)
			attr_lookup_pid(ctx, c->peer_pid, c->peer_uid, c->app);
	} else if (ctx != NULL)
		attr_lookup_proc(ctx, &c->attr_sock, c->app);
}

static void
conn_attr_done(struct worker_job *job)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	c->attr_pending = false;
	switch (c->state) {
	case CONN_DEAD:
		conn_free(c);
		break;
	case CONN_ATTR_WAIT:
		conn_set_state(c, CONN_DECIDE);
		conn_decide(c);
		break;
	default:
		/* Still reading: the peek's end decides. */
		conn_expect(c, CONN_BIT(CONN_REQUEST) | CONN_BIT(CONN_PEEK),
		            "attribution done");
		/* Its uid was counted when it was known (conn_attr_uid_done,
		 * or at accept): one over its share is refused now. */
		if (c->over_share)
			conn_peek_finish(c);
		break;
	}
}

/* The first message is complete (or will not be): decide once the
 * attribution is back too. */
static void
conn_peek_finish(struct conn *c)
{
	/* The client's event stays: it is the relay's later, and should the
	 * client send more meanwhile, conn_client_cb() stops watching it
	 * then (a delete and an add saved for a client that waits). */
	evtimer_del(c->timer);
	if (c->attr_pending) {
		conn_set_state(c, CONN_ATTR_WAIT);
		return;
	}
	conn_set_state(c, CONN_DECIDE);
	conn_decide(c);
}

/* Look at the bytes in the peek buffer: 0 when more are needed, 1 when
 * the peek is done (c->peek_res set). */
static int
conn_peek_look(struct conn *c)
{
	c->peek_res = c->front->peek(c->peek_buf, c->peek_len, &c->peek);
	if (c->peek_res == PEEK_NEED_MORE && c->peek_len < PEEK_MAX_BYTES)
		return 0;
	if (c->peek_res == PEEK_NEED_MORE) {
		c->peek_res = PEEK_INVALID;
		c->peek.error = "first message longer than the peek limit";
	}
	return 1;
}

/*
 * Read what the client sent onto the end of the peek buffer.  Returns the
 * bytes read, 0 when the client closed, -2 when there is nothing to read
 * now (or the buffer is full), and -1 when the connection was ended (c is
 * gone).
 */
static ssize_t
conn_read_client(struct conn *c)
{
	ssize_t n;

	if (c->peek_len == c->peek_cap) {
		size_t cap =
		    c->peek_cap == 0 ? CONN_PEEK_INITIAL : c->peek_cap * 2;
		uint8_t *nb;

		if (cap > PEEK_MAX_BYTES)
			cap = PEEK_MAX_BYTES;
		nb = realloc(c->peek_buf, cap);
		if (nb == NULL) {
			conn_log(c, LOG_ERR, "peek buffer: %s",
			         strerror(errno));
			conn_abort(c, "out of memory");
			return -1;
		}
		c->peek_buf = nb;
		c->peek_cap = cap;
	}
	if (c->peek_len == c->peek_cap)
		return -2;
	n = read(c->cfd, c->peek_buf + c->peek_len, c->peek_cap - c->peek_len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return -2;
		conn_log(c, LOG_INFO, "client gone while reading: %s",
		         strerror(errno));
		conn_abort(c, "client gone");
		return -1;
	}
	return n;
}

/*
 * Read what the client sent into the peek buffer and look at it.
 * Returns 0 when more is needed, 1 when the peek is done (c->peek_res
 * set), 2 when the client closed without sending anything, and -1 when
 * the connection was ended (c is gone).
 */
static int
conn_peek_read(struct conn *c)
{
	ssize_t n;

	n = conn_read_client(c);
	if (n == -1)
		return -1;
	if (n == -2)
		return c->peek_len < PEEK_MAX_BYTES ? 0 : conn_peek_look(c);
	if (n == 0) {
		if (c->peek_len == 0)
			return 2;
		/* Half-closed after a partial message: judge what we have. */
		c->peek_res =
		    c->front->peek(c->peek_buf, c->peek_len, &c->peek);
		if (c->peek_res == PEEK_NEED_MORE) {
			c->peek_res = PEEK_INVALID;
			c->peek.error =
			    "client closed in the middle of a message";
		}
		return 1;
	}
	c->peek_len += n;
	return conn_peek_look(c);
}

/* CONN_PEEK: the client sent bytes (or closed). */
static void
conn_peek_readable(struct conn *c)
{
	switch (conn_peek_read(c)) {
	case 1:
		conn_peek_finish(c);
		break;
	case 2:
		conn_log(c, LOG_DEBUG, "client closed before sending");
		conn_free(c);
		break;
	default:
		break;
	}
}

/* --- a proxy front's request --------------------------------------------- */

/*
 * CONN_REQUEST -> CONN_PEEK: the client's first message, as far as it
 * came with the request, is looked at; the rest is read under a fresh
 * peek_timeout.
 */
static void
conn_peek_start(struct conn *c)
{
	conn_set_state(c, CONN_PEEK);
	if (c->peek_len > 0 && conn_peek_look(c) == 1) {
		conn_peek_finish(c);
		return;
	}
	if (conn_watch_fd(c, c->cfd, EV_READ | EV_PERSIST, conn_client_cb) ==
	        -1 ||
	    conn_arm(c, c->pd->cfg.peek_timeout_ms) == -1) {
		conn_log(c, LOG_ERR, "cannot add client events");
		conn_abort(c, NULL);
	}
}

/*
 * CONN_REQUEST -> CONN_PEEK, ATTR_WAIT or DECIDE: the request is whole.
 * Its destination and name are c's; bytes after it (still in the peek
 * buffer) are the client's first message, peeked as a transparent
 * client's.  A client that named a host and waits for its reply first,
 * as most do, is decided on that name and watched once connected
 * (CONN_WATCH), so that its first message may still be checked against
 * the name it asked for.
 */
static void
conn_request_done(struct conn *c, const struct front_ask *ask)
{
	const char *name;

	if (ask->resolve) {
		conn_resolve_fake(c, ask);
		return;
	}
	c->ask = malloc(sizeof(*c->ask));
	if (c->ask == NULL) {
		conn_log(c, LOG_ERR, "request: %s", strerror(errno));
		conn_abort(c, "out of memory");
		return;
	}
	*c->ask = *ask;
	memcpy(&c->dst, &ask->dst, sizeof(c->dst));
	c->port = ask->port;
	if (c->ask->name[0] == '\0' && c->pd->fakeip != NULL &&
	    (name = fakeip_use(c->pd->fakeip,
	                       (const struct sockaddr *)&c->dst)) != NULL) {
		/* An address we made up for a name: the name is meant, and
		 * the made-up address leads nowhere.  Forget it, so that a
		 * direct route resolves the name and a SOCKS5 one sends it,
		 * and the fake address is never contacted. */
		snprintf(c->ask->name, sizeof(c->ask->name), "%s", name);
		c->ask->source = NAME_FAKEIP;
		memset(&c->dst, 0, sizeof(c->dst));
	}
	memset(&c->peek, 0, sizeof(c->peek));
	if (c->ask->name[0] == '\0' &&
	    !addr_is_loopback((const struct sockaddr *)&c->dst) &&
	    (c->pd->fakeip == NULL ||
	     !fakeip_in_range(c->pd->fakeip,
	                      (const struct sockaddr *)&c->dst))) {
		/* Only an address, and one that may be allowed: the name,
		 * if any, is in what the client sends once it is told
		 * "granted".  It is told now, and then goes as a transparent
		 * client does (a failure onward is a reset from here on).
		 * An address that is refused whatever the rules say (our
		 * own, an unmapped fake one) is decided now, and told. */
		if (c->front->granted(c->fstate, c->cfd) == -1) {
			conn_log(c, LOG_INFO, "client gone before its reply");
			conn_abort(c, NULL);
			return;
		}
		conn_peek_start(c);
		return;
	}
	if (c->peek_len > 0) {
		conn_peek_start(c);
		return;
	}
	c->peek.source = NAME_NONE;
	c->peek.proto = "none";
	c->peek_res = PEEK_DONE;
	conn_peek_finish(c);
}

/*
 * CONN_REQUEST: Tor's RESOLVE (torsocks asks it for every name): the
 * answer is the name's address in the fake-IP map, at once and without a
 * verdict: nothing goes anywhere yet, and the CONNECT that follows brings
 * the name back to be judged.
 */
static void
conn_resolve_fake(struct conn *c, const struct front_ask *ask)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const char *name = ask->name;

	if (name[0] == '\0') {
		/* An address to resolve is its own answer, as Tor gives it;
		 * it must not take a slot of the map as the name "". */
		conn_log(c, LOG_DEBUG, "RESOLVE of an address: answered as is");
		c->front->resolved(c->fstate, c->cfd,
		                   (const struct sockaddr *)&ask->dst);
		c->cfd = -1;
		conn_free(c);
		return;
	}
	if (c->pd->fakeip == NULL ||
	    fakeip_addr(c->pd->fakeip, name, &sin.sin_addr) == -1) {
		conn_log(c, LOG_WARNING, "RESOLVE %s: no fake address", name);
		c->front->failed(c->fstate, c->cfd, FRONT_GENERAL);
		c->cfd = -1;
		conn_free(c);
		return;
	}
	conn_log(c, LOG_DEBUG, "RESOLVE %s: answered from the fake-IP map",
	         name);
	c->front->resolved(c->fstate, c->cfd, (const struct sockaddr *)&sin);
	c->cfd = -1;
	conn_free(c);
}

/* CONN_REQUEST: a broken request.  It is decided (and recorded) like a
 * malformed first message; the front's refusal tells the client. */
static void
conn_request_invalid(struct conn *c, const char *error)
{
	memset(&c->peek, 0, sizeof(c->peek));
	c->peek.proto = c->front->name;
	c->peek.error = error;
	c->peek_res = PEEK_INVALID;
	c->peek_len = 0;
	conn_peek_finish(c);
}

/*
 * CONN_REQUEST: feed the front what the client sent, answer what it
 * answers on the way (SOCKS5's method and authentication replies), until
 * the request is whole or broken.
 */
static void
conn_request_read(struct conn *c)
{
	struct front_ask ask;
	const uint8_t *out;
	const char *error = NULL;
	size_t used, outlen;
	ssize_t n;

	n = conn_read_client(c);
	if (n == -1)
		return;
	if (n == 0) {
		conn_log(c, LOG_DEBUG,
		         "client closed before its request was "
		         "whole");
		conn_free(c);
		return;
	}
	if (n > 0)
		c->peek_len += n;
	for (;;) {
		enum front_step step;

		used = 0;
		step = c->front->request(c->fstate, c->peek_buf, c->peek_len,
		                         &used, &ask, &out, &outlen, &error);
		if (used > c->peek_len)
			used = c->peek_len;
		memmove(c->peek_buf, c->peek_buf + used, c->peek_len - used);
		c->peek_len -= used;
		switch (step) {
		case FRONT_NEED_MORE:
			if (c->peek_len >= PEEK_MAX_BYTES)
				conn_request_invalid(c, "request too long");
			return;
		case FRONT_REPLY:
			if (front_write(c->cfd, out, outlen) == -1) {
				conn_log(c, LOG_INFO,
				         "client gone during its "
				         "request");
				conn_free(c);
				return;
			}
			continue;
		case FRONT_INVALID:
			conn_request_invalid(c, error);
			return;
		case FRONT_ASKED:
			conn_request_done(c, &ask);
			return;
		}
	}
}

/* CONN_PEEK: peek_timeout passed. */
static void
conn_peek_timeout(struct conn *c)
{
	if (c->peek_len == 0) {
		/* Server speaks first: go on without a name, and watch who
		 * speaks first once connected. */
		memset(&c->peek, 0, sizeof(c->peek));
		c->peek.source = NAME_NONE;
		c->peek.proto = "none";
		c->peek_res = PEEK_DONE;
	}
	/* else peek_res stays PEEK_NEED_MORE: a peek timeout */
	conn_peek_finish(c);
}

/* The one timer of a connection: what it means depends on the state. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_expect(c,
	            CONN_BIT(CONN_REQUEST) | CONN_BIT(CONN_PEEK) |
	                CONN_BIT(CONN_ATTR_WAIT) | CONN_BIT(CONN_WATCH) |
	                CONN_BIT(CONN_PARKED) | CONN_BIT(CONN_RESOLVE) |
	                CONN_BIT(CONN_CONNECT) | CONN_BIT(CONN_UPSTREAM) |
	                CONN_BIT(CONN_SEND_PEEKED),
	            "timer");
	switch (c->state) {
	case CONN_REQUEST:
		/* Nowhere to go, nothing to judge: no event. */
		conn_log(c, LOG_INFO, "no whole %s request within peek_timeout",
		         c->front->name);
		conn_abort(c, NULL);
		break;
	case CONN_PEEK:
		conn_peek_timeout(c);
		break;
	case CONN_ATTR_WAIT:
		/* Its file's digest is late: judged without it. */
		hashq_unwait(c->pd->hashq, &c->digest_wait);
		conn_log(c, LOG_INFO, "no digest of %s within %u ms",
		         c->app->exe, HASHQ_WAIT_MS);
		conn_set_state(c, CONN_DECIDE);
		conn_decide(c);
		break;
	case CONN_WATCH:
		/* The late first message is still incomplete. */
		conn_watch_decide(c);
		break;
	case CONN_PARKED:
		/* Half-closed while waiting: gone with its process. */
		if (!attr_app_alive(c->app) ||
		    conn_arm(c, CONN_PARKED_CHECK_MS) == -1)
			conn_parked_gone(c);
		break;
	case CONN_RESOLVE:
	case CONN_CONNECT:
	case CONN_UPSTREAM:
		conn_fail(c, FRONT_TIMEOUT, "connect timeout");
		break;
	default: /* CONN_SEND_PEEKED */
		conn_abort(c, "destination not reading within "
		              "connect_timeout");
		break;
	}
}

/* --- the decision --------------------------------------------------------- */

/*
 * A socket that other programs hold too (attr.h APP_F_SHARED): each of
 * them is judged as c's app was (q, which e would decide), and the
 * connection goes only where a rule allows every one.  True when that
 * settles it (a deny, verdict and reason set; a rule of another holder
 * that denies is the one used); false when e's verdict stands (the
 * caller uses e: the other holders' rules were only looked at).
 */
static bool
conn_judge_shared(struct conn *c, struct rules_query *q,
                  const struct rules_entry *e)
{
	const struct app *app = c->app;
	const struct rules_entry *o = NULL;
	size_t i;

	if (!app->known || !(app->flags & APP_F_SHARED) ||
	    (e != NULL && e->action != ACTION_ALLOW))
		return false;
	for (i = 0; i < app->n_others && e != NULL; i++) {
		q->app = attr_rule_exe(app->others[i].exe, app->others[i].flags,
		                       &c->pd->cfg);
		/* Looked at, not used: only the rule that decides counts. */
		if ((o = rulesvc_match(c->pd, q, NULL)) == NULL ||
		    o->action != ACTION_ALLOW)
			break;
	}
	if (e != NULL && i == app->n_others &&
	    !(app->flags & APP_F_HOLDERS_MORE))
		return false;
	c->verdict = ACTION_DENY;
	c->reason = REASON_SHARED_SOCKET;
	c->rule_id = o != NULL && o->action != ACTION_ALLOW ? o->id : 0;
	if (c->rule_id != 0)
		rulesvc_use(c->pd, o, q->now);
	return true;
}

/* What c asks the rules: its app's own question, with its digest when
 * known; pin_missed as rules_query's. */
static void
conn_query(struct conn *c, struct rules_query *q, int64_t *pin_missed)
{
	memset(q, 0, sizeof(*q));
	q->app = c->app->known
	             ? attr_rule_exe(c->app->exe, c->app->flags, &c->pd->cfg)
	             : NULL;
	q->has_uid = c->app->uid_known;
	q->uid = c->app->uid;
	q->name = conn_name(c);
	q->addr = c->dst.ss_family != AF_UNSPEC
	              ? (const struct sockaddr *)&c->dst
	              : NULL;
	q->port = c->port;
	q->proto = RPROTO_TCP;
	q->now = time(NULL);
	q->digest = c->app->known && c->app->has_digest ? c->app->digest : NULL;
	q->script = c->app->known ? c->app->script : NULL;
	q->cmdline = c->app->known ? c->app->cmdline : NULL;
	q->pin_missed = pin_missed;
}

/* The digest of c's file, if the hash queue has it by now. */
static void
conn_digest_fetch(struct conn *c)
{
	struct app *app = c->app;

	if (app->known && !app->has_digest && app->has_file &&
	    c->pd->hashq != NULL &&
	    hashq_cached(c->pd->hashq, &app->file, app->digest) == 0)
		app->has_digest = true;
}

/*
 * CONN_DECIDE -> CONN_ATTR_WAIT: c's file is still being hashed
 * (hashq.h) and a rule pinned to a digest would decide c but for that:
 * the digest is part of its attribution, waited for at most
 * HASHQ_WAIT_MS, once.  A pinned rule never matches without the digest;
 * this wait only spares the pinned program a refusal while its file is
 * read.  True when c waits (conn_digest_ready() or the timer goes on).
 */
static bool
conn_digest_wait(struct conn *c)
{
	struct rules_query q;
	int64_t pin_missed = 0;

	conn_digest_fetch(c);
	if (!c->app->known || c->app->has_digest || !c->app->digest_pending ||
	    c->digest_waited)
		return false;
	c->digest_waited = true;
	conn_query(c, &q, &pin_missed);
	(void)rulesvc_match(c->pd, &q, NULL); /* looked at, not used */
	if (pin_missed == 0)
		return false;
	if (hashq_wait(c->pd->hashq, &c->digest_wait, &c->app->file) == -1) {
		conn_digest_fetch(c); /* hashed just now, or dropped */
		return false;
	}
	if (conn_arm(c, HASHQ_WAIT_MS) == -1) {
		hashq_unwait(c->pd->hashq, &c->digest_wait);
		return false;
	}
	conn_set_state(c, CONN_ATTR_WAIT);
	return true;
}

/* CONN_ATTR_WAIT -> CONN_DECIDE: the file is hashed (or could not be). */
static void
conn_digest_ready(struct hashq_waiter *w)
{
	struct conn *c =
	    (struct conn *)((char *)w - offsetof(struct conn, digest_wait));

	conn_expect(c, CONN_BIT(CONN_ATTR_WAIT), "digest ready");
	evtimer_del(c->timer);
	conn_digest_fetch(c);
	conn_set_state(c, CONN_DECIDE);
	conn_decide(c);
}

/* Ask the rules about a connection that peeked cleanly: true when a rule
 * decides (verdict, reason and rule_id set). */
static bool
conn_judge(struct conn *c)
{
	const struct rules_entry *e;
	struct rules_query q;
	int64_t pin_missed = 0;

	/* judged anew after a change, with the digest if it came since */
	c->app->flags &= ~(APP_F_CHANGED | APP_F_UNHASHED);
	conn_digest_fetch(c);
	conn_query(c, &q, &pin_missed);
	e = rulesvc_match(c->pd, &q, NULL);
	q.digest = NULL; /* the other holders' files are not hashed */
	q.script = q.cmdline = NULL; /* nor their argv read */
	q.pin_missed = NULL;
	c->repin = 0;
	if (e == NULL && pin_missed != 0 && c->app->known) {
		c->app->flags |= APP_F_CHANGED; /* the prompt says so */
		if (c->app->has_digest)
			c->repin = pin_missed; /* an answer may pin it anew */
		else
			c->app->flags |= APP_F_UNHASHED;
	}
	if (conn_judge_shared(c, &q, e))
		return true;
	if (e == NULL)
		return false;
	rulesvc_use(c->pd, e, q.now);
	c->verdict = e->action;
	c->reason = REASON_RULE;
	c->rule_id = e->id;
	snprintf(c->via, sizeof(c->via), "%s", e->via != NULL ? e->via : "");
	return true;
}

/* broker_ask.who: the prefix of c's log lines. */
static const char *
conn_ask_who(const void *owner, char *buf, size_t len)
{
	return conn_who(owner, buf, len);
}

/* Ask the broker: park c, or take the verdict it gives at once. */
static bool
conn_ask(struct conn *c)
{
	struct broker_ask ask = {
	    .app = c->app,
	    .name = conn_name(c),
	    .source = conn_source(c),
	    .dst = (const struct sockaddr *)&c->dst,
	    .port = c->port,
	    .who = conn_ask_who,
	    .owner = c,
	    .repin = c->repin,
	};

	c->via[0] = '\0';
	switch (broker_park(c->pd, &c->wait, &ask, &c->verdict)) {
	case BROKER_PARKED:
		return false;
	case BROKER_ANSWERED: /* the verdict is the answer's */
		c->reason = REASON_PROMPT;
		break;
	case BROKER_NO_AGENT:
		c->verdict = c->pd->cfg.default_action;
		c->reason = REASON_NO_AGENT;
		break;
	case BROKER_FULL:
		c->verdict = c->pd->cfg.default_action;
		c->reason = REASON_PROMPT_FULL;
		break;
	}
	return true;
}

/* Record c's verdict: its log line and event row. */
static void
conn_record(struct conn *c)
{
	struct decision d = {0};
	struct peek_info shown = c->peek;
	char error[PEEK_NAME_MAX + 64];

	d.id = c->id;
	d.verdict = c->verdict;
	d.reason = c->reason;
	d.rule_id = c->rule_id;
	d.prompt_id = c->reason == REASON_PROMPT ||
	                      c->reason == REASON_PROMPT_TIMEOUT ||
	                      c->reason == REASON_ABANDONED
	                  ? c->wait.prompt_id
	                  : 0;
	d.app = c->app;
	d.client = (const struct sockaddr *)&c->client;
	d.dst = (const struct sockaddr *)&c->dst;
	d.port = c->port;
	/* The name judged is the one the request told, with its source;
	 * the protocol is what the first message turned out to be. */
	if (c->ask != NULL && c->ask->name[0] != '\0') {
		shown.source = c->ask->source;
		snprintf(shown.name, sizeof(shown.name), "%s", c->ask->name);
	}
	if (c->ask != NULL && c->ask->proto != NULL && c->peek_len == 0 &&
	    c->peek_res != PEEK_INVALID)
		shown.proto = c->ask->proto;
	d.peek = &shown;
	d.flags = (c->peek.ech ? EVENT_F_ECH : 0) |
	          (c->app->known ? 0 : EVENT_F_UNKNOWN);
	if (encdns_match(c->pd->encdns, conn_name(c), c->port))
		d.flags |= EVENT_F_ENCDNS;
	d.error = c->peek_res == PEEK_INVALID ? c->peek.error : NULL;
	if (c->reason == REASON_NAME_MISMATCH) {
		d.flags |= EVENT_F_MISMATCH;
		/* c->peek is the first message's; shown, the request's. */
		snprintf(error, sizeof(error), "its first message names %s",
		         c->peek.name);
		d.error = error;
	}
	d.upstream = upstream_route_name(c->route);
	c->event_time_ms = eventlog_decision(c->pd, &d);
}

/*
 * CONN_DECIDE: take the verdict from what the peek found and the rules
 * say, record it and act on it.  For the first decision and for a silent
 * client's second one alike.  When no rule decides, the user is asked:
 * c is parked and comes back here with the broker's verdict
 * (conn_prompt_decided()).
 */
static void
conn_decide(struct conn *c)
{
	conn_expect(c, CONN_BIT(CONN_DECIDE), "decide");
	if (c->over_share) {
		c->verdict = ACTION_REJECT;
		c->reason = REASON_OVERLOAD_USER;
	} else if (c->peek_res == PEEK_INVALID) {
		c->verdict = ACTION_REJECT;
		c->reason = REASON_PEEK_INVALID;
	} else if (c->peek_res == PEEK_NEED_MORE) {
		c->verdict = ACTION_REJECT;
		c->reason = REASON_PEEK_TIMEOUT;
	} else if (c->pd->fakeip != NULL &&
	           fakeip_in_range(c->pd->fakeip,
	                           (const struct sockaddr *)&c->dst) &&
	           (c->ask == NULL || c->ask->source != NAME_FAKEIP)) {
		/* Made up by us and forgotten (or never made): it leads
		 * nowhere real, and must not be sent on. */
		c->verdict = ACTION_REJECT;
		c->reason = REASON_FAKEIP_UNMAPPED;
	} else if (c->ask != NULL && c->dst.ss_family != AF_UNSPEC &&
	           addr_is_loopback((const struct sockaddr *)&c->dst)) {
		/* A proxy client asking for this host: tollgated itself,
		 * or services that are not on the way out. */
		c->verdict = ACTION_REJECT;
		c->reason = REASON_LOOP;
	} else if (c->ask != NULL && c->ask->name[0] != '\0' &&
	           c->peek.source != NAME_NONE && !c->peek.ech &&
	           strcmp(c->ask->name, c->peek.name) != 0) {
		/* Asked for one host, speaking to another: whatever a rule
		 * says of either name, this is not what it allowed.  (With
		 * ECH the SNI seen is only the outer, public name.) */
		c->verdict = ACTION_DENY;
		c->reason = REASON_NAME_MISMATCH;
	} else if (c->pd->cfg.block_encrypted_dns &&
	           encdns_match(c->pd->encdns, conn_name(c), c->port)) {
		/* DNS tollgate cannot see: names no rule would judge. */
		c->verdict = ACTION_DENY;
		c->reason = REASON_ENCRYPTED_DNS;
	} else if (conn_digest_wait(c)) {
		return;
	} else if (!conn_judge(c) && !conn_ask(c)) {
		conn_park(c);
		return;
	}
	conn_settle(c);
}

/*
 * CONN_DECIDE, allowed: find the way onward (its rule's --via, else
 * `upstream`).  A route naming an upstream that tollgate.conf no longer
 * has refuses the connection rather than send it another way; so does a
 * connection decided again on its late first message (connected already)
 * whose new verdict routes it another way than it went.
 */
static void
conn_route(struct conn *c)
{
	const struct config_upstream *route;
	const char *via = c->via[0] != '\0' ? c->via : c->front_via;

	route = config_upstream_find(&c->pd->cfg, via);
	if (route == NULL) {
		/* A front's route is checked at start: this is a rule's. */
		conn_log(c, LOG_WARNING,
		         "rule %lld routes via '%s', which tollgate.conf "
		         "does not name",
		         (long long)c->rule_id, via);
		c->verdict = ACTION_REJECT;
		c->reason = REASON_NO_ROUTE;
	} else if (c->sfd == -1) {
		c->route = route;
		c->up = upstream_of(route);
	} else if (strcmp(upstream_route_name(route),
	                  upstream_route_name(c->route)) != 0) {
		conn_log(c, LOG_WARNING,
		         "allowed via %s on its first message, but connected "
		         "via %s already",
		         upstream_route_name(route),
		         upstream_route_name(c->route));
		c->verdict = ACTION_REJECT;
		c->reason = REASON_NO_ROUTE;
	}
}

/* CONN_DECIDE, a verdict taken: route it, record it and act on it. */
static void
conn_settle(struct conn *c)
{
	if (c->verdict == ACTION_ALLOW)
		conn_route(c);
	conn_record(c);
	conn_act(c);
}

/*
 * CONN_DECIDE, the verdict recorded: connect, or refuse the client.  A
 * connection decided again on its late first message (from CONN_WATCH)
 * is connected already: its message is sent on, or both sides reset.
 */
static void
conn_act(struct conn *c)
{
	struct proxyd *pd = c->pd;
	bool connected = c->sfd != -1;

	if (c->verdict == ACTION_ALLOW && !connected && c->up->socks5 &&
	    conn_upstream_prepare(c) == -1) {
		conn_fail(c, FRONT_GENERAL, "cannot make the upstream request");
		return;
	}
	/* Who it was is in the log now; a relayed connection need not carry
	 * its 5 KB of paths for hours.  A silent one may be decided again. */
	if (c->peek_len > 0) {
		free(c->app);
		c->app = NULL;
	}
	if (c->verdict != ACTION_ALLOW) {
		pd->stats.refused++;
		event_del(c->cev); /* before its descriptor goes */
		c->front->refuse(c->fstate, c->cfd, c->verdict);
		c->cfd = -1;
		conn_abort(c, connected ? "refused on its first message, sent "
		                          "late"
		                        : NULL);
		return;
	}
	if (connected) {
		conn_send_late(c);
		return;
	}
	pd->stats.allowed++;
	if (!c->up->socks5 && conn_named_only(c)) {
		conn_resolve(c);
		return;
	}
	conn_connect(c);
}

/* --- waiting on a prompt -------------------------------------------------- */

/* CONN_PARKED: the client left; nothing was sent onward.  Its event
 * row says so: a refusal nobody answered (reason abandoned). */
static void
conn_parked_gone(struct conn *c)
{
	conn_log(c, LOG_INFO, "client left while waiting on prompt %llu",
	         (unsigned long long)c->wait.prompt_id);
	c->verdict = ACTION_DENY;
	c->reason = REASON_ABANDONED;
	c->rule_id = 0;
	conn_record(c);
	conn_end(c, true, "client left while waiting for an answer");
}

/* CONN_PARKED: the client closed or reset its connection. */
static void
conn_parked_closed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	conn_expect(c, CONN_BIT(CONN_PARKED), "parked client closed");
	/* A reset, or a FIN from a process that is gone, ends it.  A FIN
	 * alone may be a half-close (the request sent, the answer awaited:
	 * "shutdown(SHUT_WR)"); the connection then stays, and its process
	 * is looked at now and then (conn_timer_cb) until its prompt ends.
	 * A unix socket's client has no TCP state to tell a reset by: its
	 * process alone says. */
	if ((!c->has_cred &&
	     (getsockopt(c->cfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	      ti.tcpi_state == TCP_CLOSE)) ||
	    !attr_app_alive(c->app)) {
		conn_parked_gone(c);
		return;
	}
	conn_log(c, LOG_DEBUG,
	         "client half-closed while waiting on prompt "
	         "%llu",
	         (unsigned long long)c->wait.prompt_id);
	event_del(c->cev);
	if (conn_arm(c, CONN_PARKED_CHECK_MS) == -1)
		conn_parked_gone(c);
}

/*
 * CONN_DECIDE -> CONN_PARKED: nothing to do until the broker answers, but
 * a client that goes away is noticed (EV_CLOSED: its FIN or reset; data
 * it sends meanwhile waits in the socket).  Without that feature in
 * libevent's backend, a client that left is found when its prompt ends.
 */
static void
conn_park(struct conn *c)
{
	struct proxyd *pd = c->pd;

	conn_set_state(c, CONN_PARKED);
	event_del(c->cev);
	if (c->sev != NULL)
		event_del(c->sev);
	evtimer_del(c->timer);
	if (!(event_base_get_features(pd->base) & EV_FEATURE_EARLY_CLOSE))
		return;
	if (conn_watch_fd(c, c->cfd, EV_CLOSED, conn_parked_closed_cb) == -1)
		conn_log(c, LOG_WARNING,
		         "cannot watch the parked client; a client that leaves "
		         "is noticed when its prompt ends");
}

/* CONN_PARKED -> CONN_DECIDE with a verdict: record it and act. */
static void
conn_unpark(struct conn *c)
{
	if (c->cev != NULL)
		event_del(c->cev);
	evtimer_del(c->timer);
	conn_set_state(c, CONN_DECIDE);
	conn_settle(c);
}

/* The broker: c's prompt ended with a verdict (c is off it). */
static void
conn_prompt_decided(struct broker_waiter *w, enum action verdict,
                    enum reason reason)
{
	struct conn *c =
	    (struct conn *)((char *)w - offsetof(struct conn, wait));

	conn_expect(c, CONN_BIT(CONN_PARKED), "prompt ended");
	c->verdict = verdict;
	c->reason = reason;
	c->rule_id = 0;
	conn_unpark(c);
}

/* The broker: the rules changed; when one decides c now, c leaves its
 * prompt with that verdict. */
static void
conn_prompt_rejudge(struct broker_waiter *w)
{
	struct conn *c =
	    (struct conn *)((char *)w - offsetof(struct conn, wait));

	conn_expect(c, CONN_BIT(CONN_PARKED), "rules changed");
	if (!conn_judge(c))
		return;
	broker_unpark(&c->wait, "rule");
	conn_unpark(c);
}

/* --- onward --------------------------------------------------------------- */

/*
 * The way onward failed: the client is told (a proxy front's reply with
 * code; a transparent client's reset), the onward socket reset, and the
 * error recorded as the connection's end.
 */
void
conn_fail(struct conn *c, uint8_t code, const char *error)
{
	event_del(c->cev); /* before its descriptor goes */
	c->front->failed(c->fstate, c->cfd, code);
	c->cfd = -1;
	conn_abort(c, error);
}

/*
 * CONN_CONNECT or CONN_UPSTREAM -> CONN_SEND_PEEKED: the way onward is
 * open.  A proxy client is told so, then what it sent already goes on.
 * The connect timer runs on: a destination that accepts but does not
 * read the peeked bytes is given up after it too.
 */
void
conn_granted(struct conn *c)
{
	conn_set_state(c, CONN_SEND_PEEKED);
	if (c->front->granted != NULL &&
	    c->front->granted(c->fstate, c->cfd) == -1) {
		conn_abort(c, "client gone before its reply");
		return;
	}
	conn_send_peeked(c);
}

/* CONN_SEND_PEEKED: the destination takes more. */
static void
conn_send_peeked_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_expect(c, CONN_BIT(CONN_SEND_PEEKED), "onward writable");
	conn_send_peeked(c);
}

/*
 * CONN_SEND_PEEKED: hand the destination what the client already sent;
 * then relay, or, for a client that sent nothing, watch who speaks
 * first.
 */
static void
conn_send_peeked(struct conn *c)
{
	ssize_t n;

	while (c->peek_sent < c->peek_len) {
		n = write(c->sfd, c->peek_buf + c->peek_sent,
		          c->peek_len - c->peek_sent);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (conn_watch_fd(c, c->sfd, EV_WRITE,
			                  conn_send_peeked_cb) == -1) {
				conn_log(c, LOG_ERR, "cannot add write event");
				conn_abort(c,
				           "cannot wait for the destination");
			}
			return;
		}
		if (n < 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "sending peeked bytes: %s",
			         strerror(errno));
			conn_abort(c, msg);
			return;
		}
		c->peek_sent += n;
	}
	if (c->peek_len == 0) {
		conn_watch_start(c);
		return;
	}
	conn_relay_begin(c);
}

/* CONN_DECIDE (decided again) or CONN_WATCH -> CONN_SEND_PEEKED: send
 * the late first message on, under the connect timer like any peeked
 * bytes. */
static void
conn_send_late(struct conn *c)
{
	conn_set_state(c, CONN_SEND_PEEKED);
	c->peek_sent = 0;
	if (conn_arm(c, c->pd->cfg.connect_timeout_ms) == -1) {
		conn_abort(c, "cannot arm the connect timer");
		return;
	}
	conn_send_peeked(c);
}

/* --- a silent client: who speaks first? ----------------------------------- */

/* CONN_WATCH: the client spoke first after all: peek at it. */
static void
conn_watch_client(struct conn *c)
{
	switch (conn_peek_read(c)) {
	case 0:
		if (c->peek_len > 0 && evtimer_pending(c->timer, NULL) == 0) {
			/* Its message decides now, not the server. */
			event_del(c->sev);
			if (conn_arm(c, c->pd->cfg.peek_timeout_ms) == -1)
				conn_abort(c, "cannot arm the peek timer");
		}
		break;
	case 1:
		conn_watch_decide(c);
		break;
	case 2:
		/* Closed without a word: pass the close on. */
		conn_relay_begin(c);
		break;
	default:
		break;
	}
}

/* CONN_SEND_PEEKED -> CONN_WATCH: connected, nothing sent either way. */
static void
conn_watch_start(struct conn *c)
{
	conn_set_state(c, CONN_WATCH);
	c->last_active = now_coarse();
	evtimer_del(c->timer);
	if (conn_watch_fd(c, c->cfd, EV_READ | EV_PERSIST, conn_client_cb) ==
	        -1 ||
	    conn_watch_fd(c, c->sfd, EV_READ | EV_PERSIST, conn_server_cb) ==
	        -1) {
		conn_log(c, LOG_ERR, "cannot add watch events");
		conn_abort(c, "cannot watch the connection");
	}
}

/*
 * CONN_WATCH: the late first message is complete (or timed out): decide
 * again with what it says, and either send it on or reset both sides.
 */
static void
conn_watch_decide(struct conn *c)
{
	event_del(c->cev);
	event_del(c->sev);
	evtimer_del(c->timer);
	if (c->peek_res == PEEK_DONE &&
	    (c->peek.source == NAME_NONE ||
	     (c->ask != NULL && strcmp(c->ask->name, c->peek.name) == 0))) {
		/* No name in it either, or the very name its request told:
		 * the verdict stands. */
		conn_send_late(c);
		return;
	}
	conn_set_state(c, CONN_DECIDE);
	conn_decide(c);
}

/* --- the sockets' events ---------------------------------------------- */

/*
 * The client socket's one event, EV_READ | EV_PERSIST from accept to the
 * end (a parked client's EV_CLOSED watch aside): what its bytes mean
 * depends on the state.  In a state that does not read the client
 * (attributing, deciding, connecting, ...) the event was left pending to
 * save a delete and an add: should the client send more or close there,
 * it stops being watched until a state that reads it adds it again.
 * Nothing the client sends is read, let alone sent on, before a verdict.
 */
static void
conn_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_expect(c, ~CONN_BIT(CONN_DEAD), "client readable");
	switch (c->state) {
	case CONN_REQUEST:
		conn_request_read(c);
		break;
	case CONN_PEEK:
		conn_peek_readable(c);
		break;
	case CONN_WATCH:
		conn_watch_client(c);
		break;
	case CONN_RELAY:
		relay_readable(&c->relay, true);
		break;
	default:
		event_del(c->cev);
		break;
	}
}

/*
 * The onward socket's event once connected (the connect and the
 * upstream's exchange have their own callbacks, conn_onward.c):
 * EV_READ | EV_PERSIST from the watch of a silent client on, then the
 * relay's.
 */
static void
conn_server_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_expect(c, CONN_BIT(CONN_WATCH) | CONN_BIT(CONN_RELAY),
	            "onward readable");
	if (c->state == CONN_WATCH)
		conn_relay_begin(c); /* the destination spoke first */
	else
		relay_readable(&c->relay, false);
}

/* --- relay ---------------------------------------------------------------- */

static void
conn_relay_activity(void *arg)
{
	struct conn *c = arg;

	c->last_active = now_coarse();
}

/* The relay ended itself (it is stopped already). */
static void
conn_relay_end(struct relay *r, enum relay_end how, int err, void *arg)
{
	struct conn *c = arg;

	conn_expect(c, CONN_BIT(CONN_RELAY), "relay ended");
	if (how == RELAY_END_EOF)
		conn_end(c, false, NULL);
	else
		conn_abort(c, strerror(err));
}

/* CONN_SEND_PEEKED or CONN_WATCH -> CONN_RELAY: splice both ways. */
static void
conn_relay_begin(struct conn *c)
{
	struct proxyd *pd = c->pd;

	free(c->peek_buf);
	c->peek_buf = NULL;
	c->peek_cap = 0;
	free(c->app);
	c->app = NULL;
	free(c->fstate);
	c->fstate = NULL;
	if (c->ask != NULL && c->ask->name[0] != '\0') {
		/* Its log lines keep the name it went to. */
		snprintf(c->peek.name, sizeof(c->peek.name), "%s",
		         c->ask->name);
		c->peek.source = c->ask->source;
	}
	free(c->ask);
	c->ask = NULL;
	/* The sockets' events go on as the relay's read events (added
	 * already unless a state before stopped or never made them); no
	 * timer is needed any more. */
	event_free(c->timer);
	c->timer = NULL;
	c->last_active = now_coarse();
	if (conn_watch_fd(c, c->cfd, EV_READ | EV_PERSIST, conn_client_cb) ==
	        -1 ||
	    conn_watch_fd(c, c->sfd, EV_READ | EV_PERSIST, conn_server_cb) ==
	        -1 ||
	    relay_start(&c->relay, pd->base, pd->pipes, c->cfd, c->sfd, c->cev,
	                c->sev, conn_relay_end, conn_relay_activity, c) == -1) {
		conn_log(c, LOG_ERR, "cannot start relay");
		conn_abort(c, "cannot start relay");
		return;
	}
	conn_set_state(c, CONN_RELAY);
	/* The peeked bytes count as sent up. */
	c->relay.up.bytes = c->peek_len;
}

/* --- the end -------------------------------------------------------------- */

/*
 * Whether c was allowed and went onward, so that its end gets a close
 * line: resolving, connecting, or holding an onward socket (also when
 * decided again on a late first message).
 */
static bool
conn_went_onward(const struct conn *c)
{
	return c->state == CONN_RESOLVE || c->state == CONN_CONNECT ||
	       c->sfd != -1;
}

/*
 * End a connection.  With reset, both peers see a TCP reset instead of an
 * orderly close.  error says why it ended when it was not an orderly close
 * (NULL otherwise).  A connection that went onward gets its close line.
 */
static void
conn_end(struct conn *c, bool reset, const char *error)
{
	struct proxyd *pd = c->pd;
	uint64_t up = c->peek_sent, down = 0;
	struct timespec now;
	int64_t ms;

	if (conn_went_onward(c)) {
		if (c->state == CONN_RELAY) {
			up = c->relay.up.bytes;
			down = c->relay.down.bytes;
		}
		pd->stats.bytes_up += up;
		pd->stats.bytes_down += down;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - c->started.tv_sec) * 1000LL +
		     (now.tv_nsec - c->started.tv_nsec) / 1000000;
		eventlog_end(pd, c->id, c->event_time_ms,
		             c->dst_resolved ? (const struct sockaddr *)&c->dst
		                             : NULL,
		             up, down, ms, error);
	}
	if (reset) {
		/* Events go before their descriptors: libevent told of a
		 * descriptor already closed warns (epoll's EBADF). */
		if (c->state == CONN_RELAY)
			relay_stop(&c->relay);
		conn_events_free(c);
		front_reset(c->cfd);
		front_reset(c->sfd);
		c->cfd = c->sfd = -1;
	}
	conn_free(c);
}

/* End a connection abortively: both peers see a reset. */
static void
conn_abort(struct conn *c, const char *error)
{
	conn_end(c, true, error);
}

/*
 * Let go of everything c holds and make it CONN_DEAD; free it unless the
 * worker still has its attribution job (conn_attr_done() frees it then).
 */
static void
conn_free(struct conn *c)
{
	struct proxyd *pd = c->pd;

	if (c->state != CONN_DEAD) {
		if (c->state == CONN_PARKED)
			broker_unpark(&c->wait, "gone");
		if (c->pd->hashq != NULL)
			hashq_unwait(c->pd->hashq, &c->digest_wait);
		if (c->state == CONN_RELAY)
			relay_stop(&c->relay);
		conn_events_free(c);
		if (c->cfd != -1)
			close(c->cfd);
		if (c->sfd != -1)
			close(c->sfd);
		c->cfd = c->sfd = -1;
		free(c->peek_buf);
		c->peek_buf = NULL;
		if (c->dns != NULL)
			evdns_getaddrinfo_cancel(c->dns);
		c->dns = NULL;
		if (c->dns_res != NULL)
			evutil_freeaddrinfo(c->dns_res);
		c->dns_res = NULL;
		free(c->s5);
		c->s5 = NULL;
		free(c->fstate);
		c->fstate = NULL;
		free(c->ask);
		c->ask = NULL;
		conn_set_state(c, CONN_DEAD);
	}
	if (c->attr_pending)
		return; /* the worker still writes c->app */
	free(c->app);
	TAILQ_REMOVE(&pd->conns, c, entry);
	pd->n_conns--;
	free(c);
}

void
conn_sweep_idle(struct proxyd *pd)
{
	struct conn *c, *next;
	time_t now = now_coarse();
	time_t idle = pd->cfg.idle_timeout_ms / 1000;

	for (c = TAILQ_FIRST(&pd->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if ((c->state == CONN_RELAY || c->state == CONN_WATCH) &&
		    now - c->last_active >= idle)
			conn_abort(c, "idle timeout");
	}
}

void
conn_close_all(struct proxyd *pd)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&pd->conns)) != NULL) {
		/* The worker has stopped: no job is in flight any more. */
		c->attr_pending = false;
		if (c->state == CONN_DEAD) {
			conn_free(c);
			continue;
		}
		if (c->state == CONN_PARKED) {
			/* A refusal like any other: its row is queued now and
			 * written by eventlog_stop(), which runs after. */
			c->verdict = ACTION_DENY;
			c->reason = REASON_SHUTDOWN;
			c->rule_id = 0;
			conn_record(c);
		}
		conn_abort(c, "tollgated stopping");
	}
	fairshare_free(pd->pending);
	pd->pending = NULL;
	appcache_free(pd->appcache);
	pd->appcache = NULL;
}
