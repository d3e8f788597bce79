/*
 * control_read.c - RULES and EVENTS (docs/control.md): the rules and the
 * events a peer may see, read from the database on a thread of their own
 * with a read-only handle of their own, so that the loop never waits for
 * a query and neither the rule writer's nor the event writer's handle is
 * touched.  An admin sees every row; a guarded user the rules bound to a
 * uid of theirs and the events of a uid of theirs (control_access.h).
 *
 * Bounds: a reply holds at most CTL_ROWS_MAX rows and CTL_ROWS_BYTES_MAX
 * bytes of them (the request's limit is cut to it when parsed); a client
 * has one request in flight; the users who are not admins take turns on
 * the thread (worker_submit_share()), so one user's queries do not hold
 * back another's.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "common/ctl_rows.h"
#include "common/log.h"
#include "proxyd/control_int.h"
#include "proxyd/worker.h"
#include "store/events.h"
#include "store/store.h"

struct read_job;
TAILQ_HEAD(read_jobs, read_job);

struct control_reader {
	struct worker *w;
	struct store *store;   /* the thread's; opened by its first job */
	char path[4096];       /* the database */
	struct read_jobs jobs; /* submitted, done() not called yet */
};

struct read_job {
	struct worker_job job; /* first: the job is the struct */
	TAILQ_ENTRY(read_job) entry;
	struct control_reader *rd;
	struct control_pending *p;
	struct control_peer peer;
	enum ctl_verb verb;
	struct ctl_query q; /* its strings point into qbuf */
	char *qbuf;
	/* On the thread: */
	char *line;       /* one row's line (CTL_LINE_MAX + 2 bytes) */
	char **ring;      /* EVENTS without after: the newest rows held */
	int64_t *ring_id; /* and their ids */
	size_t ring_n, ring_head;
	bool exact; /* the query selects only rows the peer may see */
	/* The answer: */
	char *rows;
	size_t len, cap;
	unsigned count;
	bool more;
	int64_t last;
	int64_t top; /* EVENTS: the largest id before the query */
	bool failed;
	enum ctl_code code;
	char err[CTL_ERRLEN];
};

/* Copy the strings of q into j->qbuf, j->q pointing there.  0 or -1. */
static int
read_job_query(struct read_job *j, const struct ctl_query *q)
{
	const char *const *src[] = {&q->app, &q->domain, &q->verdict,
	                            &q->proto};
	const char **dst[] = {&j->q.app, &j->q.domain, &j->q.verdict,
	                      &j->q.proto};
	size_t i, n = 0, off = 0;

	j->q = *q;
	for (i = 0; i < 4; i++)
		if (*src[i] != NULL)
			n += strlen(*src[i]) + 1;
	j->qbuf = malloc(n + 1);
	if (j->qbuf == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		if (*src[i] == NULL)
			continue;
		memcpy(j->qbuf + off, *src[i], strlen(*src[i]) + 1);
		*dst[i] = j->qbuf + off;
		off += strlen(*src[i]) + 1;
	}
	return 0;
}

static void
read_job_free(struct read_job *j)
{
	size_t i;

	if (j->ring != NULL)
		for (i = 0; i < j->q.limit; i++)
			free(j->ring[i]);
	free(j->ring);
	free(j->ring_id);
	free(j->line);
	free(j->rows);
	free(j->qbuf);
	free(j);
}

static int read_fail(struct read_job *j, enum ctl_code code, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

static int
read_fail(struct read_job *j, enum ctl_code code, const char *fmt, ...)
{
	va_list ap;

	j->failed = true;
	j->code = code;
	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Append n bytes of line to the answer.  0, or -1 (out of memory). */
static int
read_append(struct read_job *j, const char *line, size_t n)
{
	char *p;
	size_t cap;

	if (j->len + n > j->cap) {
		cap = j->cap == 0 ? 16384 : j->cap;
		while (cap < j->len + n)
			cap *= 2;
		p = realloc(j->rows, cap);
		if (p == NULL)
			return read_fail(j, CTL_E_INTERNAL, "out of memory");
		j->rows = p;
		j->cap = cap;
	}
	memcpy(j->rows + j->len, line, n);
	j->len += n;
	return 0;
}

/*
 * A row's line (j->line[n]) for an answer that goes oldest first: 0 to
 * go on, 1 when the answer is full (more rows follow), -1 on failure.
 */
static int
read_take(struct read_job *j, int64_t id, size_t n)
{
	if (j->count == j->q.limit || j->len + n > CTL_ROWS_BYTES_MAX) {
		j->more = true;
		return 1;
	}
	if (read_append(j, j->line, n) == -1)
		return -1;
	j->count++;
	j->last = id;
	return 0;
}

/* --------------------------------------------------------------------
 * RULES
 */

static void
read_rules(struct read_job *j, struct store *st)
{
	struct rule *rules = NULL;
	int64_t names;
	size_t n = 0, i;
	int len;

	if (store_rule_list(st, NULL, &rules, &n, j->err, sizeof(j->err)) ==
	    -1) {
		read_fail(j, CTL_E_INTERNAL, "%s", j->err);
		return;
	}
	for (i = 0; i < n; i++) {
		if (rules[i].id <= j->q.after ||
		    !control_may_see_rule(&j->peer, &rules[i]))
			continue;
		names = -1;
		if (rules[i].dest_kind == DEST_LIST &&
		    (names = store_list_count(st, rules[i].id, j->err,
		                              sizeof(j->err))) == -1) {
			read_fail(j, CTL_E_INTERNAL, "%s", j->err);
			break;
		}
		len = ctl_rule_format(&rules[i], names, j->line,
		                      CTL_LINE_MAX + 2);
		if (len == -1) {
			read_fail(j, CTL_E_INTERNAL,
			          "rule %lld: too long a line",
			          (long long)rules[i].id);
			break;
		}
		if (read_take(j, rules[i].id, (size_t)len) != 0)
			break;
	}
	free(rules);
}

/* --------------------------------------------------------------------
 * EVENTS
 */

/* Whether the peer may see row r: its own uid's, or a gap row (which
 * stands for events of anyone and names nobody). */
static bool
read_sees(const struct read_job *j, const struct event_row *r)
{
	if (j->peer.admin || r->kind == EVENT_GAP)
		return true;
	return r->has_uid && control_peer_owns(&j->peer, r->uid);
}

/* The ring of the newest rows: keep this one (row id), dropping the
 * oldest while there are too many or too many bytes.  0 or -1. */
static int
read_ring_add(struct read_job *j, int64_t id, size_t n)
{
	size_t slot;
	char *copy;

	copy = malloc(n + 1);
	if (copy == NULL)
		return read_fail(j, CTL_E_INTERNAL, "out of memory");
	memcpy(copy, j->line, n + 1);
	while (j->ring_n > 0 &&
	       (j->ring_n == j->q.limit || j->len + n > CTL_ROWS_BYTES_MAX)) {
		slot = j->ring_head;
		j->len -= strlen(j->ring[slot]);
		free(j->ring[slot]);
		j->ring[slot] = NULL;
		j->ring_head = (j->ring_head + 1) % j->q.limit;
		j->ring_n--;
		j->more = true;
	}
	slot = (j->ring_head + j->ring_n) % j->q.limit;
	j->ring[slot] = copy;
	j->ring_id[slot] = id;
	j->ring_n++;
	j->len += n;
	return 0;
}

/* events_query()'s callback. */
static int
read_event(const struct event_row *r, void *arg)
{
	struct read_job *j = arg;
	int n;

	if (!read_sees(j, r))
		return 0;
	n = ctl_event_format(r, j->line, CTL_LINE_MAX + 2);
	if (n == -1) {
		read_fail(j, CTL_E_INTERNAL, "event %lld: too long a line",
		          (long long)r->id);
		return 1;
	}
	if (j->ring != NULL)
		return read_ring_add(j, r->id, (size_t)n) == -1 ? 1 : 0;
	return read_take(j, r->id, (size_t)n) != 0 ? 1 : 0;
}

/* The ring's rows, oldest first, as the answer. */
static void
read_ring_out(struct read_job *j)
{
	size_t i, slot;

	j->len = 0;
	for (i = 0; i < j->ring_n; i++) {
		slot = (j->ring_head + i) % j->q.limit;
		if (read_append(j, j->ring[slot], strlen(j->ring[slot])) == -1)
			return;
		j->count++;
		j->last = j->ring_id[slot];
	}
}

/* The request's words into f; 0, or -1 with the refusal said. */
static int
read_filter(struct read_job *j, struct events_filter *f)
{
	const struct ctl_query *q = &j->q;

	memset(f, 0, sizeof(*f));
	f->app = q->app;
	f->domain = q->domain;
	if (q->verdict != NULL) {
		f->has_verdict = true;
		f->verdict = (enum action)action_parse(q->verdict);
	}
	f->proto = q->proto;
	f->since_ms = q->since_ms;
	f->until_ms = q->until_ms;
	f->pid = (pid_t)q->pid;
	f->no_gaps = q->no_gaps;
	if (q->has_uid) {
		if (!j->peer.admin && !control_peer_owns(&j->peer, q->uid))
			return read_fail(j, CTL_E_PERM,
			                 "uid=%u is not yours: a guarded user "
			                 "sees only their own events",
			                 (unsigned)q->uid);
		f->has_uid = true;
		f->uid = q->uid;
	} else if (!j->peer.admin && j->peer.n_sub == 0) {
		/* One uid: the database selects it. */
		f->has_uid = true;
		f->uid = j->peer.owner;
	}
	j->exact = j->peer.admin || f->has_uid;
	return 0;
}

static void
read_events(struct read_job *j, struct store *st)
{
	struct events_filter f;
	char err[CTL_ERRLEN];

	if (read_filter(j, &f) == -1)
		return;
	/* Before the query, so that every row up to it is in the query's
	 * picture: a follower may go on from there. */
	j->top = events_max_id(st, err, sizeof(err));
	if (j->top == -1) {
		read_fail(j, CTL_E_INTERNAL, "%s", err);
		return;
	}
	if (!j->q.has_after) {
		/* The newest rows: the database picks them when it selects
		 * only the peer's; else they are the last the ring holds. */
		f.limit = j->exact ? j->q.limit + 1 : 0; /* +1: more? */
		j->ring = calloc(j->q.limit, sizeof(*j->ring));
		j->ring_id = calloc(j->q.limit, sizeof(*j->ring_id));
		if (j->ring == NULL || j->ring_id == NULL) {
			read_fail(j, CTL_E_INTERNAL, "out of memory");
			return;
		}
	} else
		f.after_id = j->q.after; /* 0: from the first row */
	if (events_query(st, &f, read_event, j, err, sizeof(err)) == -1) {
		/* A bad domain is the asker's; anything else the store's. */
		read_fail(j,
		          j->q.domain != NULL && strstr(err, "domain") != NULL
		              ? CTL_E_INVALID
		              : CTL_E_INTERNAL,
		          "%s", err);
		return;
	}
	if (j->ring != NULL && !j->failed)
		read_ring_out(j);
}

/* --------------------------------------------------------------------
 * The thread and the loop
 */

static void
read_run(struct worker_job *job, void *ctx)
{
	struct read_job *j = (struct read_job *)job;
	struct control_reader *rd = j->rd;

	j->line = malloc(CTL_LINE_MAX + 2);
	if (j->line == NULL) {
		read_fail(j, CTL_E_INTERNAL, "out of memory");
		return;
	}
	if (rd->store == NULL) {
		rd->store = store_open(rd->path, STORE_READONLY, j->err,
		                       sizeof(j->err));
		if (rd->store == NULL) {
			read_fail(j, CTL_E_INTERNAL, "%s", j->err);
			return;
		}
	}
	if (j->verb == CTL_RULES)
		read_rules(j, rd->store);
	else
		read_events(j, rd->store);
}

static void
read_done(struct worker_job *job)
{
	struct read_job *j = (struct read_job *)job;
	char buf[CONTROL_REPLY_MAX], d[64];
	struct ctl_line l;

	TAILQ_REMOVE(&j->rd->jobs, j, entry);
	if (j->failed) {
		log_info("control: uid %u: %s failed: %s",
		         (unsigned)j->peer.uid, ctl_verb_name(j->verb), j->err);
		control_pending_reply(j->p, NULL, j->code, j->err);
		read_job_free(j);
		return;
	}
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "count", "%u", j->count);
	ctl_put_kv(&l, "more", j->more ? "yes" : "no");
	ctl_put_kvf(&l, "last", "%lld", (long long)j->last);
	if (j->verb == CTL_EVENTS)
		ctl_put_kvf(&l, "top", "%lld", (long long)j->top);
	if (j->p->client != NULL)
		log_debug("control: %s: %s: %u rows, %zu bytes",
		          control_client_desc(j->p->client, d, sizeof(d)),
		          ctl_verb_name(j->verb), j->count, j->len);
	control_pending_reply_rows(j->p, &l, j->rows, j->len, CTL_E_INTERNAL,
	                           NULL);
	read_job_free(j);
}

/* The reader of ctl, started at its first use; NULL (logged) when it
 * cannot be. */
static struct control_reader *
read_reader(struct control *ctl)
{
	struct control_reader *rd = ctl->reader;

	if (rd != NULL)
		return rd;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL) {
		log_error("control: calloc: %s", strerror(errno));
		return NULL;
	}
	snprintf(rd->path, sizeof(rd->path), "%s", ctl->pd->cfg.database);
	TAILQ_INIT(&rd->jobs);
	rd->w = worker_new(ctl->pd->base, NULL, NULL);
	if (rd->w == NULL) {
		free(rd);
		return NULL;
	}
	ctl->reader = rd;
	return rd;
}

/* RULES and EVENTS: the query goes to the reader's thread; the reply
 * comes from read_done(). */
static void
control_read(struct control_client *c, const struct ctl_req *req)
{
	struct control_reader *rd;
	struct read_job *j;

	rd = read_reader(c->ctl);
	if (rd == NULL) {
		control_reply_err(c, CTL_E_INTERNAL,
		                  "cannot start the reading thread");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || read_job_query(j, &req->query) == -1) {
		free(j);
		control_reply_err(c, CTL_E_INTERNAL, "out of memory");
		return;
	}
	j->rd = rd;
	j->verb = req->verb;
	control_client_peer(c, &j->peer);
	j->p = control_client_wait(c, req->verb, 0);
	if (j->p == NULL) {
		read_job_free(j);
		return;
	}
	j->job.run = read_run;
	j->job.done = read_done;
	TAILQ_INSERT_TAIL(&rd->jobs, j, entry);
	if (j->peer.admin)
		worker_submit(rd->w, &j->job);
	else
		worker_submit_share(rd->w, &j->job, j->peer.owner);
}

void
control_rules_list(struct control_client *c, const struct ctl_req *req)
{
	control_read(c, req);
}

void
control_events(struct control_client *c, const struct ctl_req *req)
{
	control_read(c, req);
}

void
control_read_close(struct control *ctl)
{
	struct control_reader *rd = ctl->reader;
	struct read_job *j;

	if (rd == NULL)
		return;
	/* The thread stops after its job; no done() is called. */
	worker_free(rd->w, false);
	while ((j = TAILQ_FIRST(&rd->jobs)) != NULL) {
		TAILQ_REMOVE(&rd->jobs, j, entry);
		free(j->p); /* its client is gone already */
		read_job_free(j);
	}
	store_close(rd->store);
	free(rd);
	ctl->reader = NULL;
}
