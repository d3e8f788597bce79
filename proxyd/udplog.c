/*
 * udplog.c - events for refused guarded UDP; see udplog.h.
 *
 * Read top to bottom as a datagram goes: the event, the table that
 * coalesces events, the sender found (the cache, else the worker
 * thread), a datagram read from the group, the group itself.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/eventlog.h"
#include "proxyd/srccache.h"
#include "proxyd/udplog.h"
#include "proxyd/worker.h"
#include "redirect/nflog.h"

#define UDPLOG_SEEN_BUCKETS 1024 /* hash buckets of the coalescing table */

/* A datagram waiting for its sender to be found. */
struct udpq {
	struct worker_job job;
	TAILQ_ENTRY(udpq) entry;
	struct udplog *ul;
	struct nflog_pkt pkt;
	struct app app; /* written by the worker thread only */
};

/* An (app, destination) recorded at at_ms. */
struct udplog_seen {
	TAILQ_ENTRY(udplog_seen) age; /* oldest recorded first */
	LIST_ENTRY(udplog_seen) bucket;
	uint32_t hash;
	bool has_uid;
	uid_t uid;
	struct sockaddr_storage dst; /* with its port */
	int64_t at_ms;
	char exe[]; /* "" for an unknown process */
};

struct udplog_stats {
	uint64_t datagrams;    /* refused guarded datagrams read */
	uint64_t events;       /* events recorded */
	uint64_t coalesced;    /* datagrams only counted */
	uint64_t unattributed; /* past UDPLOG_MAX_PENDING: uid only */
	uint64_t read_errors;  /* reads that failed (ENOBUFS: the kernel
	                        * dropped log messages) */
};

struct udplog {
	struct proxyd *pd;
	struct nflog *nf;
	uint16_t group;
	struct event *ev;
	TAILQ_HEAD(udpq_list, udpq) pending;
	size_t n_pending;
	struct srccache srcs; /* who sent from a port, lately */
	TAILQ_HEAD(, udplog_seen) seen_age;
	LIST_HEAD(, udplog_seen) seen[UDPLOG_SEEN_BUCKETS];
	size_t n_seen;
	int64_t warned_ms; /* the last read error logged */
	uint64_t unlogged; /* read errors since, not logged */
	struct udplog_stats st;
};

/* The app when nothing but the packet tells: its uid, if the kernel knew. */
static void
udplog_app_of_pkt(const struct nflog_pkt *p, struct app *app)
{
	memset(app, 0, sizeof(*app));
	if (!p->has_uid)
		return;
	app->uid_known = true;
	app->uid = p->uid;
	snprintf(app->user, sizeof(app->user), "%u", (unsigned)p->uid);
}

/* --- the event ------------------------------------------------------------ */

static void
udplog_record(struct udplog *ul, const struct nflog_pkt *p,
              const struct app *app)
{
	struct peek_info none = {.source = NAME_NONE, .proto = "udp"};
	struct decision d = {
	    .id = ul->pd->next_conn_id++,
	    .verdict = ACTION_REJECT,
	    .reason = REASON_UDP_NOT_PROXIED,
	    .app = app,
	    .client = (const struct sockaddr *)&p->src,
	    .dst = (const struct sockaddr *)&p->dst,
	    .port = addr_port((const struct sockaddr *)&p->dst),
	    .peek = &none,
	    .flags = app->known ? 0 : EVENT_F_UNKNOWN,
	    .proto = "udp",
	    .upstream = "",
	};

	ul->st.events++;
	(void)eventlog_decision(ul->pd, &d);
}

/* --- coalescing ----------------------------------------------------------- */

static uint32_t
udplog_hash_bytes(uint32_t h, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	size_t i;

	/* FNV-1a: the key is not chosen by a remote peer, only by local
	 * apps, and a collision costs a longer bucket, never a wrong merge. */
	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t
udplog_hash(const struct app *app, const struct sockaddr *dst)
{
	uint32_t h = 2166136261u;

	if (app->uid_known)
		h = udplog_hash_bytes(h, &app->uid, sizeof(app->uid));
	if (app->known)
		h = udplog_hash_bytes(h, app->exe, strlen(app->exe));
	return udplog_hash_bytes(h, dst, addr_len(dst));
}

static struct udplog_seen *
udplog_seen_find(struct udplog *ul, uint32_t hash, const struct app *app,
                 const struct sockaddr *dst)
{
	struct udplog_seen *s;
	const char *exe = app->known ? app->exe : "";

	LIST_FOREACH(s, &ul->seen[hash % UDPLOG_SEEN_BUCKETS], bucket)
	{
		if (s->hash == hash && s->has_uid == app->uid_known &&
		    (!s->has_uid || s->uid == app->uid) &&
		    strcmp(s->exe, exe) == 0 &&
		    addr_equal((const struct sockaddr *)&s->dst, dst))
			return s;
	}
	return NULL;
}

static void
udplog_seen_remove(struct udplog *ul, struct udplog_seen *s)
{
	TAILQ_REMOVE(&ul->seen_age, s, age);
	LIST_REMOVE(s, bucket);
	ul->n_seen--;
	free(s);
}

/* Remember (app, dst) as recorded now; the oldest goes when full.  Out of
 * memory, nothing is remembered: the next datagram is recorded too. */
static void
udplog_seen_add(struct udplog *ul, uint32_t hash, const struct app *app,
                const struct sockaddr *dst, int64_t now)
{
	struct udplog_seen *s;
	const char *exe = app->known ? app->exe : "";
	size_t n = strlen(exe) + 1;

	if (ul->n_seen >= UDPLOG_SEEN_MAX)
		udplog_seen_remove(ul, TAILQ_FIRST(&ul->seen_age));
	if ((s = calloc(1, sizeof(*s) + n)) == NULL)
		return;
	s->hash = hash;
	s->has_uid = app->uid_known;
	s->uid = app->uid;
	memcpy(&s->dst, dst, addr_len(dst));
	s->at_ms = now;
	memcpy(s->exe, exe, n);
	TAILQ_INSERT_TAIL(&ul->seen_age, s, age);
	LIST_INSERT_HEAD(&ul->seen[hash % UDPLOG_SEEN_BUCKETS], s, bucket);
	ul->n_seen++;
}

/* A datagram whose app is known: its event, unless the same app's to the
 * same destination was recorded within the window. */
static void
udplog_note(struct udplog *ul, const struct nflog_pkt *p, const struct app *app)
{
	const struct sockaddr *dst = (const struct sockaddr *)&p->dst;
	struct udplog_seen *s;
	uint32_t hash = udplog_hash(app, dst);
	int64_t now = mono_ms();

	if ((s = udplog_seen_find(ul, hash, app, dst)) != NULL) {
		if (now - s->at_ms < UDPLOG_WINDOW_MS) {
			ul->st.coalesced++;
			return;
		}
		udplog_seen_remove(ul, s);
	}
	udplog_seen_add(ul, hash, app, dst, now);
	udplog_record(ul, p, app);
}

/* --- who sent it ---------------------------------------------------------- */

/* The app that sent from p's source lately, if the packet's uid agrees
 * (a port the kernel gave to another socket since is not its). */
static const struct app *
udplog_src_find(struct udplog *ul, const struct nflog_pkt *p)
{
	const struct app *app = srccache_find(
	    &ul->srcs, (const struct sockaddr *)&p->src, mono_ms());

	if (app != NULL && p->has_uid && app->uid != p->uid)
		return NULL;
	return app;
}

static void
udpq_run(struct worker_job *job, void *ctx)
{
	struct udpq *q = (struct udpq *)job;

	/* On the worker thread: only q->app is written. */
	if (ctx != NULL)
		attr_lookup_udp(ctx, (const struct sockaddr *)&q->pkt.src,
		                &q->app);
}

static void
udpq_done(struct worker_job *job)
{
	struct udpq *q = (struct udpq *)job;
	struct udplog *ul = q->ul;

	TAILQ_REMOVE(&ul->pending, q, entry);
	ul->n_pending--;
	/* The socket is gone (or its port is another user's now): the
	 * packet's uid is all that is known. */
	if (!q->app.uid_known || (q->pkt.has_uid && q->app.uid != q->pkt.uid))
		udplog_app_of_pkt(&q->pkt, &q->app);
	else
		srccache_add(&ul->srcs, (const struct sockaddr *)&q->pkt.src,
		             &q->app, mono_ms());
	udplog_note(ul, &q->pkt, &q->app);
	free(q);
}

/* --- a datagram ----------------------------------------------------------- */

static void
udplog_pkt(void *arg, const struct nflog_pkt *p)
{
	struct udplog *ul = arg;
	const struct app *known;
	struct udpq *q;
	struct app app;

	if (p->proto != IPPROTO_UDP)
		return; /* the table logs UDP only */
	ul->st.datagrams++;
	/* A later fragment: no source port to find the socket by. */
	if (!p->has_ports) {
		udplog_app_of_pkt(p, &app);
		udplog_note(ul, p, &app);
		return;
	}
	if ((known = udplog_src_find(ul, p)) != NULL) {
		udplog_note(ul, p, known);
		return;
	}
	/* The datagram before it, from the same socket to the same
	 * destination, waits already: its event will say it. */
	q = TAILQ_LAST(&ul->pending, udpq_list);
	if (q != NULL &&
	    addr_equal((const struct sockaddr *)&q->pkt.src,
	               (const struct sockaddr *)&p->src) &&
	    addr_equal((const struct sockaddr *)&q->pkt.dst,
	               (const struct sockaddr *)&p->dst) &&
	    q->pkt.has_uid == p->has_uid && q->pkt.uid == p->uid) {
		ul->st.coalesced++;
		return;
	}
	if (ul->n_pending >= UDPLOG_MAX_PENDING ||
	    (q = calloc(1, sizeof(*q))) == NULL) {
		ul->st.unattributed++;
		udplog_app_of_pkt(p, &app);
		udplog_note(ul, p, &app);
		return;
	}
	q->job.run = udpq_run;
	q->job.done = udpq_done;
	q->ul = ul;
	q->pkt = *p;
	TAILQ_INSERT_TAIL(&ul->pending, q, entry);
	ul->n_pending++;
	worker_submit(ul->pd->worker, &q->job);
}

static void
udplog_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udplog *ul = arg;
	int64_t now;

	if (nflog_read(ul->nf, udplog_pkt, ul) == 0)
		return;
	ul->st.read_errors++;
	/* At most one line per window: a failing socket must not flood
	 * the log either. */
	now = mono_ms();
	if (ul->warned_ms != 0 && now - ul->warned_ms < UDPLOG_WINDOW_MS) {
		ul->unlogged++;
		return;
	}
	log_warn("udp events: reading nflog group %u: %s%s (%llu more read "
	         "errors since the last report)",
	         (unsigned)ul->group, strerror(errno),
	         errno == ENOBUFS ? ": the kernel dropped refused datagrams "
	                            "before they were read, their events are "
	                            "missing"
	                          : "",
	         (unsigned long long)ul->unlogged);
	ul->warned_ms = now;
	ul->unlogged = 0;
}

/* --- the group ------------------------------------------------------------ */

int
udplog_open(struct proxyd *pd, uint16_t group, char *err, size_t errlen)
{
	struct udplog *ul;
	int error;
	size_t i;

	if ((ul = calloc(1, sizeof(*ul))) == NULL) {
		snprintf(err, errlen, "udp events: %s", strerror(errno));
		return -1;
	}
	if ((ul->nf = nflog_open(group, err, errlen)) == NULL) {
		error = errno;
		free(ul);
		errno = error;
		return -1;
	}
	ul->pd = pd;
	ul->group = group;
	TAILQ_INIT(&ul->pending);
	TAILQ_INIT(&ul->seen_age);
	srccache_init(&ul->srcs, UDPLOG_ATTR_CACHE_MS);
	for (i = 0; i < UDPLOG_SEEN_BUCKETS; i++)
		LIST_INIT(&ul->seen[i]);
	pd->udplog = ul;
	return 0;
}

int
udplog_start(struct proxyd *pd)
{
	struct udplog *ul = pd->udplog;

	if (ul == NULL)
		return 0;
	ul->ev = event_new(pd->base, nflog_fd(ul->nf), EV_READ | EV_PERSIST,
	                   udplog_read_cb, ul);
	if (ul->ev == NULL || event_add(ul->ev, NULL) == -1) {
		log_error("udp events: cannot add the nflog socket's event");
		return -1;
	}
	return 0;
}

void
udplog_close(struct proxyd *pd)
{
	struct udplog *ul = pd->udplog;
	struct udplog_seen *s;
	struct udpq *q;

	if (ul == NULL)
		return;
	if (ul->ev != NULL)
		event_free(ul->ev);
	nflog_close(ul->nf);
	/* The worker has stopped: what it did not finish is ours. */
	while ((q = TAILQ_FIRST(&ul->pending)) != NULL) {
		TAILQ_REMOVE(&ul->pending, q, entry);
		free(q);
	}
	while ((s = TAILQ_FIRST(&ul->seen_age)) != NULL)
		udplog_seen_remove(ul, s);
	log_info("udp events: %llu refused datagrams, %llu events, %llu "
	         "coalesced, %llu past the attribution bound, %llu read errors",
	         (unsigned long long)ul->st.datagrams,
	         (unsigned long long)ul->st.events,
	         (unsigned long long)ul->st.coalesced,
	         (unsigned long long)ul->st.unattributed,
	         (unsigned long long)ul->st.read_errors);
	free(ul);
	pd->udplog = NULL;
}
