/*
 * eventlog.c - the event writer; see eventlog.h.
 *
 * The queue is a ring of items under one mutex, shared by the loop (the
 * only producer) and the writer thread (the only consumer).  An item is a
 * decision (an event row, packed: event_row_pack()) or a close; the writer
 * stores runs of each kind in order, so a connection's close never overtakes
 * its decision.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/broker.h"
#include "proxyd/eventlog.h"
#include "store/store.h"
#include "store/unwritten.h"

#define EVENTLOG_FLAGS_MAX 160 /* the log line's flags=, every word */

struct evitem {
	void *row; /* a decision or a gap, packed; NULL: a close */
	struct event_close close;
};

struct eventlog {
	struct store *store; /* the writer thread's */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct evitem *ring;
	size_t cap, head, n; /* items at head .. head + n - 1 */
	bool stopping;
	/* the loop's count of what it could not queue */
	int64_t lost, lost_first_ms, lost_last_ms;
	int64_t lost_closes;
	int64_t max_age_s, max_rows;
	/* PATH-unwritten: what the exit could not write, for the next start */
	int unwritten_fd;
	char unwritten_path[4096 + sizeof(UNWRITTEN_SUFFIX)];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A gap row of n events, first_ms..last_ms, stamped now. */
static void
gap_row(struct event_row *r, int64_t n, int64_t first_ms, int64_t last_ms)
{
	memset(r, 0, sizeof(*r));
	r->kind = EVENT_GAP;
	r->time_ms = now_ms();
	r->n_lost = n;
	r->lost_first_ms = first_ms;
	r->lost_last_ms = last_ms;
	r->bytes_up = r->bytes_down = r->duration_ms = -1;
}

/* Count n events of first_ms..last_ms as not written; the caller holds
 * the lock. */
static void
lose_span_locked(struct eventlog *el, int64_t n, int64_t first_ms,
                 int64_t last_ms)
{
	if (n <= 0)
		return;
	if (el->lost == 0 || first_ms < el->lost_first_ms)
		el->lost_first_ms = first_ms;
	if (el->lost == 0 || last_ms > el->lost_last_ms)
		el->lost_last_ms = last_ms;
	el->lost += n;
}

/*
 * What the last run left behind: its connections still open (flagged
 * interrupted) and the events its exit could not write (a gap row now;
 * when that cannot be written either, the writer's first gap row carries
 * them).  Nothing here stops the start: the log says what failed.
 */
static void
eventlog_recover(struct eventlog *el, const char *db)
{
	static const struct unwritten none;
	struct unwritten u;
	struct event_row gap;
	char err[STORE_ERRLEN];
	int64_t n;

	n = events_interrupt_open(el->store, err, sizeof(err));
	if (n == -1)
		log_warn("events: %s", err);
	else if (n > 0)
		log_info("events: %lld connections open when tollgated last "
		         "stopped flagged interrupted",
		         (long long)n);
	snprintf(el->unwritten_path, sizeof(el->unwritten_path),
	         "%s" UNWRITTEN_SUFFIX, db);
	el->unwritten_fd = unwritten_open(db, &u, err, sizeof(err));
	if (el->unwritten_fd == -1) {
		log_warn("events: %s; events not written at exit will be "
		         "in the log only",
		         err);
		return;
	}
	if (err[0] != '\0')
		log_warn("events: %s", err);
	if (u.n <= 0)
		return;
	gap_row(&gap, u.n, u.first_ms, u.last_ms);
	if (events_insert(el->store, &gap, 1, err, sizeof(err)) == 0)
		log_info("events: %lld events not written at the last exit "
		         "recorded as a gap",
		         (long long)u.n);
	else {
		log_warn("events: %s; the %lld events not written at the "
		         "last exit go into the next gap row",
		         err, (long long)u.n);
		lose_span_locked(el, u.n, u.first_ms, u.last_ms);
	}
	if (unwritten_put(el->unwritten_fd, el->unwritten_path, &none, err,
	                  sizeof(err)) == -1)
		log_warn("events: %s", err);
}

int
eventlog_open(struct proxyd *pd, char *err, size_t errlen)
{
	char derr[STORE_ERRLEN];
	struct eventlog *el;

	el = calloc(1, sizeof(*el));
	if (el == NULL) {
		snprintf(err, errlen, "events: calloc: %s", strerror(errno));
		return -1;
	}
	el->unwritten_fd = -1;
	el->cap = pd->cfg.event_queue;
	el->ring = calloc(el->cap, sizeof(*el->ring));
	if (el->ring == NULL) {
		snprintf(err, errlen, "events: queue of %zu: %s", el->cap,
		         strerror(errno));
		free(el);
		return -1;
	}
	el->store = store_open(pd->cfg.database, STORE_READWRITE, err, errlen);
	if (el->store == NULL) {
		free(el->ring);
		free(el);
		return -1;
	}
	el->max_age_s = pd->cfg.event_max_age_s;
	el->max_rows = pd->cfg.event_max_rows;
	eventlog_recover(el, pd->cfg.database);
	/* Only this thread writes events through it: synchronous=NORMAL and
	 * the checkpoint interval once, not around each batch. */
	if (events_dedicate(el->store, derr, sizeof(derr)) == -1)
		log_warn("events: %s; each batch sets them itself", derr);
	pthread_mutex_init(&el->lock, NULL);
	pthread_cond_init(&el->cond, NULL);
	pd->events = el;
	return 0;
}

/*
 * Store a batch: its rows, then its connection ends, in one transaction
 * (a connection's decision always comes before its end, in this batch or
 * an earlier one).  On failure wait and try again until it works or the
 * daemon stops; then the batch is given up, and said so.
 */
/*
 * A connection that ended within the batch of its decision: its end goes
 * into the row before it is written, instead of updating it after.  True
 * when rows[0..n) held its decision row (the newest of its conn id and
 * time).
 */
static bool
fold_close(struct event_row *rows, size_t n, const struct event_close *c)
{
	struct event_row *r;

	while (n > 0) {
		r = &rows[--n];
		if (r->kind != EVENT_DECISION || r->conn_id != c->conn_id ||
		    r->time_ms != c->time_ms)
			continue;
		r->bytes_up = c->bytes_up;
		r->bytes_down = c->bytes_down;
		r->duration_ms = c->duration_ms;
		if (c->dst_ip[0] != '\0') {
			memcpy(r->dst_ip, c->dst_ip, sizeof(r->dst_ip));
			r->dst_port = c->dst_port;
		}
		return true;
	}
	return false;
}

/* A batch given up at exit: its decisions, and the events of its gap
 * rows, count as not written. */
static void
give_up(struct eventlog *el, const struct event_row *rows, size_t nr, size_t nc)
{
	size_t i;

	pthread_mutex_lock(&el->lock);
	for (i = 0; i < nr; i++) {
		if (rows[i].kind == EVENT_GAP)
			lose_span_locked(el, rows[i].n_lost,
			                 rows[i].lost_first_ms,
			                 rows[i].lost_last_ms);
		else
			lose_span_locked(el, 1, rows[i].time_ms,
			                 rows[i].time_ms);
	}
	el->lost_closes += (int64_t)nc;
	pthread_mutex_unlock(&el->lock);
}

static void
drain_once(struct eventlog *el, struct evitem *items, size_t n)
{
	static struct event_row rows[EVENTLOG_BATCH];
	struct event_close closes[EVENTLOG_BATCH];
	char err[STORE_ERRLEN];
	size_t i, nr = 0, nc = 0;
	bool warned = false;

	for (i = 0; i < n; i++) {
		if (items[i].row != NULL) {
			event_row_unpack(&rows[nr++], items[i].row);
			free(items[i].row);
		} else if (!fold_close(rows, nr, &items[i].close))
			closes[nc++] = items[i].close;
	}
	while (events_write(el->store, rows, nr, closes, nc, err,
	                    sizeof(err)) == -1) {
		if (!warned)
			log_warn("events: %s; retrying", err);
		warned = true;
		pthread_mutex_lock(&el->lock);
		if (el->stopping) {
			pthread_mutex_unlock(&el->lock);
			give_up(el, rows, nr, nc);
			return;
		}
		pthread_mutex_unlock(&el->lock);
		usleep(EVENTLOG_RETRY_MS * 1000);
	}
	if (warned)
		log_info("events: writing again");
}

static void
prune(struct eventlog *el)
{
	char err[STORE_ERRLEN];
	int64_t n;
	int steps;

	/* A few steps at a time; the next idle wake-up goes on. */
	for (steps = 0; steps < 5; steps++) {
		n = events_prune(el->store, el->max_age_s, el->max_rows,
		                 now_ms(), EVENTLOG_PRUNE_STEP, err,
		                 sizeof(err));
		if (n == -1) {
			log_warn("events: pruning: %s", err);
			return;
		}
		if (n < EVENTLOG_PRUNE_STEP)
			return;
	}
}

static void *
eventlog_main(void *arg)
{
	struct eventlog *el = arg;
	struct evitem items[EVENTLOG_BATCH];
	struct timespec deadline;
	time_t last_prune = 0;
	bool lingered = false;
	long linger_ms = EVENTLOG_LINGER_MS;
	size_t n, i;

	pthread_mutex_lock(&el->lock);
	for (;;) {
		if (el->n == 0 && el->stopping)
			break;
		if (time(NULL) - last_prune >= EVENTLOG_PRUNE_EVERY_S) {
			/* Retention, in small steps: first thing after start,
			 * then every EVENTLOG_PRUNE_EVERY_S, busy or not. */
			pthread_mutex_unlock(&el->lock);
			prune(el);
			last_prune = time(NULL);
			pthread_mutex_lock(&el->lock);
			continue;
		}
		if (el->n == 0) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += EVENTLOG_PRUNE_EVERY_S;
			pthread_cond_timedwait(&el->cond, &el->lock, &deadline);
			lingered = false;
			continue;
		}
		if (!lingered && !el->stopping && el->n < EVENTLOG_BATCH) {
			/* Let a burst gather: one transaction for many rows,
			 * not one each (a transaction costs a dozen system
			 * calls, whatever its size).  A full batch or the
			 * stop ends the wait early. */
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += linger_ms * 1000000L;
			while (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&el->cond, &el->lock, &deadline);
			lingered = true;
			continue;
		}
		lingered = false;
		n = el->n < EVENTLOG_BATCH ? el->n : EVENTLOG_BATCH;
		/* A busy stream of events: longer batches, fewer
		 * transactions (each costs about as much as ten rows). */
		linger_ms = n >= EVENTLOG_BUSY_ITEMS ? EVENTLOG_LINGER_BUSY_MS
		                                     : EVENTLOG_LINGER_MS;
		for (i = 0; i < n; i++)
			items[i] = el->ring[(el->head + i) % el->cap];
		el->head = (el->head + n) % el->cap;
		el->n -= n;
		pthread_mutex_unlock(&el->lock);
		drain_once(el, items, n);
		pthread_mutex_lock(&el->lock);
	}
	pthread_mutex_unlock(&el->lock);
	return NULL;
}

int
eventlog_start(struct proxyd *pd)
{
	struct eventlog *el = pd->events;
	int rc;

	rc = pthread_create(&el->thread, NULL, eventlog_main, el);
	if (rc != 0) {
		log_error("events: pthread_create: %s", strerror(rc));
		return -1;
	}
	el->running = true;
	return 0;
}

/*
 * At exit: the events not written become a gap row now if the database
 * takes one, else the record of PATH-unwritten, for the next start.  The
 * ends not written leave their rows open: the next start flags them
 * interrupted.
 */
static void
eventlog_owe(struct eventlog *el)
{
	struct unwritten u = {el->lost, el->lost_first_ms, el->lost_last_ms};
	struct event_row gap;
	char err[STORE_ERRLEN];

	if (el->lost_closes > 0)
		log_warn("events: %lld connection ends not written at exit: "
		         "their rows are flagged interrupted at the next start",
		         (long long)el->lost_closes);
	if (el->lost <= 0)
		return;
	gap_row(&gap, u.n, u.first_ms, u.last_ms);
	if (events_insert(el->store, &gap, 1, err, sizeof(err)) == 0) {
		log_warn("events: %lld events not written at exit, recorded "
		         "as a gap",
		         (long long)u.n);
		return;
	}
	if (el->unwritten_fd != -1 &&
	    unwritten_put(el->unwritten_fd, el->unwritten_path, &u, err,
	                  sizeof(err)) == 0) {
		log_warn("events: %lld events not written at exit: counted "
		         "in %s, a gap row at the next start",
		         (long long)u.n, el->unwritten_path);
		return;
	}
	log_error("events: %lld events not written at exit, and not "
	          "counted for the next start (%s)",
	          (long long)u.n, el->unwritten_fd != -1 ? err : "no file");
}

void
eventlog_stop(struct proxyd *pd)
{
	struct eventlog *el = pd->events;
	size_t i;

	if (el == NULL)
		return;
	if (el->running) {
		pthread_mutex_lock(&el->lock);
		el->stopping = true;
		pthread_cond_signal(&el->cond);
		pthread_mutex_unlock(&el->lock);
		pthread_join(el->thread, NULL);
	}
	for (i = 0; i < el->n; i++)
		free(el->ring[(el->head + i) % el->cap].row);
	eventlog_owe(el);
	if (el->unwritten_fd != -1)
		close(el->unwritten_fd);
	store_close(el->store);
	pthread_mutex_destroy(&el->lock);
	pthread_cond_destroy(&el->cond);
	free(el->ring);
	free(el);
	pd->events = NULL;
}

/* Put it on the ring if there is room; the caller holds the lock. */
static bool
push_locked(struct eventlog *el, const struct evitem *it)
{
	if (el->n == el->cap)
		return false;
	el->ring[(el->head + el->n) % el->cap] = *it;
	el->n++;
	return true;
}

/*
 * After pushing onto a ring that held was items: wake the writer when it
 * sleeps on an empty ring, or lingers short of a full batch that is now
 * there.  Otherwise it is awake or will wake by itself: no system call.
 */
static void
wake_locked(struct eventlog *el, size_t was)
{
	if (was == 0 || (was < EVENTLOG_BATCH && el->n >= EVENTLOG_BATCH))
		pthread_cond_signal(&el->cond);
}

/* Count what was not queued; the caller holds the lock. */
static void
lose_locked(struct eventlog *el, int64_t n, int64_t t)
{
	lose_span_locked(el, n, t, t);
}

void
eventlog_lost(struct proxyd *pd, int64_t n)
{
	struct eventlog *el = pd->events;

	if (el == NULL)
		return;
	pthread_mutex_lock(&el->lock);
	lose_locked(el, n, now_ms());
	pthread_mutex_unlock(&el->lock);
}

/* Queue a copy of a row (packed: a few hundred bytes, not its 5 KiB).
 * False when it could not be queued (it is counted for a gap row). */
static bool
eventlog_queue(struct proxyd *pd, const struct event_row *ev)
{
	struct eventlog *el = pd->events;
	struct evitem it = {0}, gap = {0};
	struct event_row g;
	int64_t t = ev->time_ms;
	bool queued = true;
	size_t was;

	if (el == NULL)
		return false;
	if ((it.row = event_row_pack(ev)) == NULL) {
		eventlog_lost(pd, 1);
		return false;
	}
	pthread_mutex_lock(&el->lock);
	was = el->n;
	/* A gap first: the events lost before this one, in their place. */
	if (el->lost > 0 && el->n < el->cap) {
		gap_row(&g, el->lost, el->lost_first_ms, el->lost_last_ms);
		g.time_ms = t;
		if ((gap.row = event_row_pack(&g)) != NULL) {
			push_locked(el, &gap);
			el->lost = 0;
		}
	}
	if (el->lost > 0 || !push_locked(el, &it)) {
		lose_locked(el, 1, t);
		free(it.row);
		queued = false;
	}
	wake_locked(el, was);
	pthread_mutex_unlock(&el->lock);
	return queued;
}

/* Queue the end of a connection whose decision row was queued. */
static void
eventlog_queue_close(struct proxyd *pd, int64_t conn_id, int64_t row_time_ms,
                     const struct sockaddr *dst, uint64_t bytes_up,
                     uint64_t bytes_down, int64_t duration_ms)
{
	struct eventlog *el = pd->events;
	struct evitem it = {0};
	size_t was;

	if (el == NULL)
		return;
	it.close.conn_id = conn_id;
	it.close.time_ms = row_time_ms;
	if (dst != NULL) {
		addr_fmt_ip(dst, it.close.dst_ip, sizeof(it.close.dst_ip));
		it.close.dst_port = addr_port(dst);
	}
	it.close.bytes_up = bytes_up;
	it.close.bytes_down = bytes_down;
	it.close.duration_ms = duration_ms;
	pthread_mutex_lock(&el->lock);
	was = el->n;
	/* An end that does not fit leaves its row without bytes; the
	 * decision itself is recorded, so nothing is hidden. */
	if (!push_locked(el, &it))
		el->lost_closes++;
	wake_locked(el, was);
	pthread_mutex_unlock(&el->lock);
}

/* The flags of a decision: its own, and what attribution found. */
static unsigned
decision_flags(const struct decision *d)
{
	unsigned f = d->flags, af;

	if (d->app == NULL || !d->app->known)
		return f;
	af = d->app->flags;
	f |= af & APP_F_NOT_INSTALLED ? EVENT_F_NOT_INSTALLED : 0;
	f |= af & APP_F_PRELOAD ? EVENT_F_PRELOAD : 0;
	f |= af & APP_F_USERNS ? EVENT_F_USERNS : 0;
	f |= af & APP_F_SHARED ? EVENT_F_SHARED : 0;
	return f;
}

/* The event row of a decision, in ev. */
static void
decision_row(const struct decision *d, struct event_row *ev)
{
	struct timespec now;

	memset(ev, 0, sizeof(*ev));
	clock_gettime(CLOCK_REALTIME, &now);
	ev->kind = EVENT_DECISION;
	ev->conn_id = d->id;
	ev->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (d->app != NULL && d->app->known) {
		ev->pid = d->app->pid;
		snprintf(ev->exe, sizeof(ev->exe), "%s", d->app->exe);
		snprintf(ev->cmdline, sizeof(ev->cmdline), "%s",
		         d->app->cmdline);
		if (d->app->has_digest)
			digest_hex(d->app->digest, ev->sha256);
	}
	if (d->app != NULL && d->app->uid_known) {
		ev->has_uid = true;
		ev->uid = d->app->uid;
		snprintf(ev->user, sizeof(ev->user), "%s", d->app->user);
	}
	snprintf(ev->proto, sizeof(ev->proto), "%s",
	         d->proto != NULL ? d->proto : "tcp");
	if (d->client->sa_family != AF_UNSPEC) /* a unix socket's client */
		addr_fmt_ip(d->client, ev->src_ip, sizeof(ev->src_ip));
	ev->src_port = addr_port(d->client);
	if (d->dst->sa_family != AF_UNSPEC)
		addr_fmt_ip(d->dst, ev->dst_ip, sizeof(ev->dst_ip));
	ev->dst_port = d->port;
	if (d->peek != NULL && d->peek->source != NAME_NONE)
		snprintf(ev->name, sizeof(ev->name), "%s", d->peek->name);
	snprintf(
	    ev->name_source, sizeof(ev->name_source), "%s",
	    name_source_str(d->peek != NULL ? d->peek->source : NAME_NONE));
	ev->verdict = d->verdict;
	ev->decider = reason_decider(d->reason);
	ev->rule_id = d->rule_id;
	snprintf(ev->upstream, sizeof(ev->upstream), "%s", d->upstream);
	ev->flags = decision_flags(d);
	ev->bytes_up = ev->bytes_down = ev->duration_ms = -1;
}

/* Append a flag's word to the log line's flags (EVENTLOG_FLAGS_MAX bytes): the
 * event's words, but "unknown-process" as the log has always said. */
static void
decision_flag_word(const char *word, void *arg)
{
	char *flags = arg;
	size_t off = strlen(flags);

	snprintf(flags + off, EVENTLOG_FLAGS_MAX - off, "%s%s",
	         off > 0 ? "," : "",
	         strcmp(word, "unknown") == 0 ? "unknown-process" : word);
}

/* A decision's log line.  d->app and d->peek may be NULL. */
static void
decision_log(const struct decision *d)
{
	char line[EVENTLOG_LINE_MAX], num[32], a[ADDR_STRLEN],
	    flags[EVENTLOG_FLAGS_MAX];
	const struct app *app = d->app;
	const struct peek_info *peek = d->peek;
	size_t off = 0;

	line[0] = '\0';
	snprintf(num, sizeof(num), "%llu", (unsigned long long)d->id);
	log_kv(line, sizeof(line), &off, "decision conn", num);
	log_kv(line, sizeof(line), &off, "verdict", action_name(d->verdict));
	log_kv(line, sizeof(line), &off, "reason", reason_word(d->reason));
	if (d->reason == REASON_RULE) {
		snprintf(num, sizeof(num), "%lld", (long long)d->rule_id);
		log_kv(line, sizeof(line), &off, "rule", num);
	}
	if (d->prompt_id != 0) {
		snprintf(num, sizeof(num), "%llu",
		         (unsigned long long)d->prompt_id);
		log_kv(line, sizeof(line), &off, "prompt", num);
	}
	if (app != NULL && app->known)
		snprintf(num, sizeof(num), "%ld", (long)app->pid);
	else
		snprintf(num, sizeof(num), "-");
	log_kv(line, sizeof(line), &off, "pid", num);
	if (app != NULL && app->uid_known)
		snprintf(num, sizeof(num), "%u", (unsigned)app->uid);
	else
		snprintf(num, sizeof(num), "-");
	log_kv(line, sizeof(line), &off, "uid", num);
	log_kv(line, sizeof(line), &off, "user",
	       app != NULL && app->uid_known ? app->user : "-");
	log_kv(line, sizeof(line), &off, "exe",
	       app != NULL && app->known ? app->exe : "-");
	if (d->dst->sa_family == AF_UNSPEC)
		snprintf(a, sizeof(a), "-:%u", d->port);
	else
		addr_fmt(d->dst, a, sizeof(a));
	log_kv(line, sizeof(line), &off, "dst", a);
	log_kv(line, sizeof(line), &off, "name",
	       peek != NULL && peek->source != NAME_NONE ? peek->name : "-");
	log_kv(line, sizeof(line), &off, "source",
	       name_source_str(peek != NULL ? peek->source : NAME_NONE));
	log_kv(line, sizeof(line), &off, "proto",
	       peek != NULL && peek->proto != NULL ? peek->proto : "none");
	flags[0] = '\0';
	event_flags_each(decision_flags(d), decision_flag_word, flags);
	if (flags[0] != '\0')
		log_kv(line, sizeof(line), &off, "flags", flags);
	if (app != NULL && app->known)
		log_kv(line, sizeof(line), &off, "cmdline", app->cmdline);
	if (d->error != NULL)
		log_kv(line, sizeof(line), &off, "error", d->error);
	log_info("%s", line);
}

/*
 * A refusal of a known user, as its agents may be told of it
 * (notify_denials).  Not the refusals the user made: an answer to a
 * prompt, a client that gave up waiting on one.
 */
static void
decision_notify(struct proxyd *pd, const struct decision *d,
                const struct event_row *ev)
{
	static struct ctl_denied dn; /* 5 KB: the loop's, one at a time */

	if (!pd->cfg.notify_denials || d->verdict == ACTION_ALLOW ||
	    !ev->has_uid || d->reason == REASON_PROMPT ||
	    d->reason == REASON_ABANDONED)
		return;
	memset(&dn, 0, sizeof(dn));
	dn.uid = ev->uid;
	snprintf(dn.app, sizeof(dn.app), "%s", ev->exe);
	snprintf(dn.name, sizeof(dn.name), "%s", ev->name);
	snprintf(dn.dst, sizeof(dn.dst), "%s", ev->dst_ip);
	dn.port = ev->dst_port;
	snprintf(dn.proto, sizeof(dn.proto), "%s", ev->proto);
	dn.verdict = d->verdict;
	snprintf(dn.decider, sizeof(dn.decider), "%s",
	         event_decider_str(ev->decider));
	dn.rule = d->reason == REASON_RULE ? d->rule_id : 0;
	dn.time = ev->time_ms / 1000;
	broker_refused(pd, &dn);
}

int64_t
eventlog_decision(struct proxyd *pd, const struct decision *d)
{
	static struct event_row ev; /* 5 KiB: the loop's, one at a time */

	/* The line costs microseconds to build: only when it is printed. */
	if (log_get_level() >= LOG_INFO)
		decision_log(d);
	decision_row(d, &ev);
	decision_notify(pd, d, &ev);
	return eventlog_queue(pd, &ev) ? ev.time_ms : 0;
}

void
eventlog_end(struct proxyd *pd, uint64_t conn_id, int64_t row_time_ms,
             const struct sockaddr *dst, uint64_t bytes_up, uint64_t bytes_down,
             int64_t duration_ms, const char *error)
{
	char line[256], num[32];
	size_t off = 0;

	if (row_time_ms != 0)
		eventlog_queue_close(pd, (int64_t)conn_id, row_time_ms, dst,
		                     bytes_up, bytes_down, duration_ms);
	if (log_get_level() < LOG_INFO)
		return;
	line[0] = '\0';
	snprintf(num, sizeof(num), "%llu", (unsigned long long)conn_id);
	log_kv(line, sizeof(line), &off, "close conn", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)bytes_up);
	log_kv(line, sizeof(line), &off, "up", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)bytes_down);
	log_kv(line, sizeof(line), &off, "down", num);
	snprintf(num, sizeof(num), "%lld", (long long)duration_ms);
	log_kv(line, sizeof(line), &off, "duration_ms", num);
	if (error != NULL)
		log_kv(line, sizeof(line), &off, "error", error);
	log_info("%s", line);
}
