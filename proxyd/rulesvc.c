/*
 * rulesvc.c - the daemon's rules; see rulesvc.h.
 *
 * Threads: the store is opened on the main thread before the privilege
 * drop and used afterwards only by the rule worker thread.  The live index
 * and the hit counters belong to the event loop.  A job carries a change
 * (or a batch of hits) to the thread and comes back with the new index.
 * The fake-IP map's changes travel the same way: queued on the loop by
 * the map's observer, a batch of them is one job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "proxyd/fakeip.h"
#include "proxyd/fakeipq.h"
#include "proxyd/rulesvc.h"
#include "proxyd/worker.h"
#include "store/fakeip.h"
#include "store/store.h"

struct rulesvc_hit {
	uint64_t hits;
	time_t last;
	bool used; /* a "once" rule that has decided already */
};

struct rulesvc {
	struct store *store; /* the worker thread's, after start */
	struct worker *worker;
	struct rules_index *idx;  /* live; the loop's */
	struct rulesvc_hit *hits; /* one per slot of idx */
	size_t n_slots;
	struct event *flush_ev;
	unsigned jobs_in_flight;
	bool stopping;                /* no new jobs: the worker is going */
	void (*on_change)(void *arg); /* rulesvc_on_change() */
	void *on_change_arg;
	struct fakeipq *fq;  /* fake-IP changes to store; the loop's */
	struct event *fq_ev; /* their flush timer */
	unsigned fq_batches; /* of them on their way to the thread */
	uint64_t fq_dropped; /* not stored, since the last warning */
};

struct rulesvc_job {
	struct worker_job job; /* first: the job is the struct */
	struct proxyd *pd;
	bool is_flush;
	bool is_fakeip; /* a flush of fake-IP changes: `fakeips` */
	struct rulesvc_change change;
	struct rulesvc_result result;
	struct rules_index *new_idx; /* built on the thread */
	struct store_hit *hits;      /* a flush's batch */
	size_t n_hits;
	struct fakeipq_batch fakeips;
	void (*done)(void *, const struct rulesvc_result *);
	void *arg;
};

/* Load every rule and build an index; on the thread (or before start). */
static struct rules_index *
rulesvc_build(struct store *st, char *err, size_t errlen)
{
	struct rules_set set;
	struct rules_index *idx;

	rules_set_init(&set);
	if (store_load(st, &set, err, errlen) == -1)
		return NULL;
	idx = rules_index_build(&set, time(NULL), err, errlen);
	rules_set_free(&set);
	return idx;
}

/* Put idx in force on the loop; the hits of the old one are flushed. */
static int
rulesvc_swap(struct rulesvc *rs, struct rules_index *idx)
{
	struct rulesvc_hit *hits;
	size_t n = rules_index_count(idx), i, j;

	hits = calloc(n > 0 ? n : 1, sizeof(*hits));
	if (hits == NULL)
		return -1;
	/* A used "once" rule stays used in the new index until its own
	 * deletion lands: another change may come first. */
	for (i = 0; i < rs->n_slots; i++) {
		int64_t id;

		if (!rs->hits[i].used)
			continue;
		id = rules_index_entry(rs->idx, i)->id;
		for (j = 0; j < n; j++)
			if (rules_index_entry(idx, j)->id == id) {
				hits[j].used = true;
				break;
			}
	}
	rules_index_free(rs->idx);
	free(rs->hits);
	rs->idx = idx;
	rs->hits = hits;
	rs->n_slots = n;
	return 0;
}

int
rulesvc_open(struct proxyd *pd, uid_t owner, gid_t group, char *err,
             size_t errlen)
{
	const struct rules_entry *e;
	struct rulesvc *rs;
	struct rules_index *idx;
	size_t i;
	int n;

	rs = calloc(1, sizeof(*rs));
	if (rs == NULL) {
		snprintf(err, errlen, "rules: calloc: %s", strerror(errno));
		return -1;
	}
	rs->store = store_open(pd->cfg.database, STORE_READWRITE, err, errlen);
	if (rs->store == NULL)
		goto fail;
	if (store_chown(rs->store, owner, group, err, errlen) == -1)
		goto fail;
	n = store_start_run(rs->store, err, errlen);
	if (n == -1)
		goto fail;
	if (n > 0)
		log_info("rules: removed %d once/until-restart rules of the "
		         "last run",
		         n);
	idx = rulesvc_build(rs->store, err, errlen);
	if (idx == NULL || rulesvc_swap(rs, idx) == -1) {
		if (idx != NULL) {
			rules_index_free(idx);
			snprintf(err, errlen, "rules: out of memory");
		}
		goto fail;
	}
	pd->rules = rs;
	log_info("rules: %zu in force from %s", rs->n_slots, pd->cfg.database);
	/* Stored while another tollgate.conf was in force, maybe. */
	for (i = 0; i < rs->n_slots; i++) {
		e = rules_index_entry(rs->idx, i);
		if (config_upstream_find(&pd->cfg, e->via) == NULL)
			log_warn(
			    "rules: rule %lld goes via %s, but there is no "
			    "upstream named '%s' in %s",
			    (long long)e->id, e->via, e->via,
			    pd->cfg.path[0] ? pd->cfg.path : "tollgate.conf");
	}
	return 0;
fail:
	if (rs->store != NULL)
		store_close(rs->store);
	free(rs);
	return -1;
}

/*
 * On the worker thread: whether the change's may() lets it go on, with
 * the rule as stored; a DURATION's rule becomes the stored one with the
 * new duration.  0, or -1 with res filled.
 */
static int
rulesvc_job_may(struct rulesvc *rs, struct rulesvc_change *ch,
                struct rulesvc_result *res)
{
	struct rule stored;
	int rc;

	if (ch->may == NULL && ch->op != RULESVC_DURATION)
		return 0;
	rc = store_rule_get(rs->store, ch->id, &stored, res->err,
	                    sizeof(res->err));
	if (rc != STORE_OK) {
		res->code = rc == STORE_NOTFOUND ? RULESVC_E_NOTFOUND
		                                 : RULESVC_E_INTERNAL;
		return -1;
	}
	if (ch->may != NULL &&
	    !ch->may(ch->may_arg, &stored, res->err, sizeof(res->err))) {
		res->code = RULESVC_E_PERM;
		return -1;
	}
	if (ch->op == RULESVC_DURATION) {
		stored.duration = ch->rule.duration;
		stored.expires = ch->rule.expires;
		ch->rule = stored;
	}
	return 0;
}

/* On the worker thread: apply the change, then rebuild the index. */
static void
rulesvc_job_run(struct worker_job *job, void *ctx)
{
	struct rulesvc_job *j = (struct rulesvc_job *)job;
	struct rulesvc *rs = j->pd->rules;
	struct rulesvc_change *ch = &j->change;
	struct rulesvc_result *res = &j->result;
	int rc = 0;

	res->ok = false;
	res->code = RULESVC_E_INTERNAL;
	if (j->is_fakeip) {
		if (store_fakeip_put(rs->store, j->fakeips.m, j->fakeips.n,
		                     res->err, sizeof(res->err)) == -1)
			log_warn("fake IPs: %s", res->err);
		return;
	}
	if (j->is_flush) {
		if (j->n_hits > 0 &&
		    store_add_hits(rs->store, j->hits, j->n_hits, res->err,
		                   sizeof(res->err)) == -1)
			log_warn("rules: writing hit counts: %s", res->err);
		if (store_delete_expired(rs->store, time(NULL), res->err,
		                         sizeof(res->err)) == -1)
			log_warn("rules: removing expired rules: %s", res->err);
		return;
	}
	if (rulesvc_job_may(rs, ch, res) == -1)
		return;
	switch (ch->op) {
	case RULESVC_DURATION:
		/* ch->rule is the stored rule now (rulesvc_job_may()). */
		rc = store_rule_edit(rs->store, &ch->rule, NULL, 0, res->err,
		                     sizeof(res->err));
		res->id = ch->id;
		break;
	case RULESVC_ADD:
		rc = store_rule_add(rs->store, &ch->rule, NULL, 0, res->err,
		                    sizeof(res->err));
		res->id = ch->rule.id;
		break;
	case RULESVC_DEL:
		rc = store_rule_delete(rs->store, ch->id, res->err,
		                       sizeof(res->err));
		break;
	case RULESVC_ENABLE:
	case RULESVC_DISABLE:
		rc = store_rule_enable(rs->store, ch->id,
		                       ch->op == RULESVC_ENABLE, res->err,
		                       sizeof(res->err));
		break;
	case RULESVC_EDIT:
		ch->rule.id = ch->id;
		rc = store_rule_edit(rs->store, &ch->rule, NULL, 0, res->err,
		                     sizeof(res->err));
		res->id = ch->id;
		break;
	case RULESVC_PIN:
		rc =
		    store_rule_pin(rs->store, ch->id, ch->rule.app,
		                   ch->rule.digest, res->err, sizeof(res->err));
		res->id = ch->id;
		break;
	case RULESVC_IMPORT:
		rc = ch->import == NULL
		         ? 0
		         : store_import(rs->store, ch->import, false, res->err,
		                        sizeof(res->err));
		break;
	case RULESVC_RELOAD:
		break;
	}
	if (rc == STORE_NOTFOUND) {
		res->code = RULESVC_E_NOTFOUND;
		return;
	}
	if (rc != 0) {
		/* The control server checked the rule before it came here;
		 * what fails now is the database itself. */
		res->code = RULESVC_E_INTERNAL;
		return;
	}
	j->new_idx = rulesvc_build(rs->store, res->err, sizeof(res->err));
	if (j->new_idx == NULL)
		return;
	res->ok = true;
	res->code = RULESVC_OK;
	res->rules = rules_index_count(j->new_idx);
}

static void rulesvc_flush(struct proxyd *pd);

/* On the loop: put the new index in force and answer. */
static void
rulesvc_job_done(struct worker_job *job)
{
	struct rulesvc_job *j = (struct rulesvc_job *)job;
	struct proxyd *pd = j->pd;
	struct rulesvc *rs = pd->rules;

	rs->jobs_in_flight--;
	if (j->is_fakeip)
		rs->fq_batches--;
	if (j->new_idx != NULL) {
		/* The old slots' hits go to the store before they vanish. */
		if (!rs->stopping)
			rulesvc_flush(pd);
		if (rulesvc_swap(rs, j->new_idx) == -1) {
			rules_index_free(j->new_idx);
			j->result.ok = false;
			j->result.code = RULESVC_E_INTERNAL;
			snprintf(j->result.err, sizeof(j->result.err),
			         "out of memory");
		}
	}
	if (!j->is_flush && j->result.ok)
		log_info("rules: %zu in force", rs->n_slots);
	else if (!j->is_flush)
		log_warn("rules: change refused: %s", j->result.err);
	if (j->done != NULL)
		j->done(j->arg, &j->result);
	/* Whoever holds connections waiting for a rule looks again. */
	if (j->new_idx != NULL && j->result.ok && rs->on_change != NULL)
		rs->on_change(rs->on_change_arg);
	if (j->change.import != NULL) {
		rules_set_free(j->change.import);
		free(j->change.import);
	}
	free(j->hits);
	fakeipq_batch_free(&j->fakeips);
	free(j);
}

static void
rulesvc_submit(struct proxyd *pd, struct rulesvc_job *j)
{
	j->pd = pd;
	j->job.run = rulesvc_job_run;
	j->job.done = rulesvc_job_done;
	pd->rules->jobs_in_flight++;
	worker_submit(pd->rules->worker, &j->job);
}

/*
 * A rule's via must name an upstream of this daemon's tollgate.conf: a
 * rule no connection could follow is refused before it is stored.  0, or
 * -1 with res filled (RULESVC_E_INVALID).
 */
static int
rulesvc_check_via(const struct proxyd *pd, const struct rulesvc_change *ch,
                  struct rulesvc_result *res)
{
	const struct rule *r = NULL;
	size_t i, n = 0;

	if (ch->op == RULESVC_ADD || ch->op == RULESVC_EDIT) {
		r = &ch->rule;
		n = 1;
	} else if (ch->op == RULESVC_IMPORT && ch->import != NULL) {
		r = ch->import->rules;
		n = ch->import->n_rules;
	}
	for (i = 0; i < n; i++) {
		if (config_upstream_find(&pd->cfg, r[i].via) != NULL)
			continue;
		memset(res, 0, sizeof(*res));
		res->code = RULESVC_E_INVALID;
		if (ch->op == RULESVC_IMPORT)
			snprintf(res->err, sizeof(res->err),
			         "rule %zu of the import: no upstream named "
			         "'%s' in tollgate.conf",
			         i + 1, r[i].via);
		else
			snprintf(res->err, sizeof(res->err),
			         "no upstream named '%s' in tollgate.conf",
			         r[i].via);
		return -1;
	}
	return 0;
}

/* A change that never reaches the thread: its import freed, done()
 * told at once. */
static void
rulesvc_refuse(const struct rulesvc_change *change,
               void (*done)(void *, const struct rulesvc_result *), void *arg,
               const struct rulesvc_result *res)
{
	if (change->import != NULL) {
		rules_set_free(change->import);
		free(change->import);
	}
	if (done != NULL)
		done(arg, res);
}

void
rulesvc_apply(struct proxyd *pd, const struct rulesvc_change *change,
              void (*done)(void *, const struct rulesvc_result *), void *arg)
{
	struct rulesvc_job *j;
	struct rulesvc_result res;

	if (rulesvc_check_via(pd, change, &res) == -1) {
		log_warn("rules: change refused: %s", res.err);
		rulesvc_refuse(change, done, arg, &res);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		memset(&res, 0, sizeof(res));
		res.code = RULESVC_E_INTERNAL;
		snprintf(res.err, sizeof(res.err), "out of memory");
		rulesvc_refuse(change, done, arg, &res);
		return;
	}
	j->change = *change;
	j->done = done;
	j->arg = arg;
	rulesvc_submit(pd, j);
}

/* Hand the counted hits to the thread; nothing to do when none. */
static void
rulesvc_flush(struct proxyd *pd)
{
	struct rulesvc *rs = pd->rules;
	struct rulesvc_job *j;
	size_t i, n = 0;

	for (i = 0; i < rs->n_slots; i++)
		if (rs->hits[i].hits > 0)
			n++;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return; /* the counts stay for the next try */
	j->is_flush = true;
	if (n > 0) {
		j->hits = calloc(n, sizeof(*j->hits));
		if (j->hits == NULL) {
			free(j);
			return;
		}
	}
	for (i = 0; i < rs->n_slots && j->n_hits < n; i++) {
		const struct rules_entry *e;

		if (rs->hits[i].hits == 0)
			continue;
		e = rules_index_entry(rs->idx, i);
		j->hits[j->n_hits].id = e->id;
		j->hits[j->n_hits].hits = rs->hits[i].hits;
		j->hits[j->n_hits].last_hit = rs->hits[i].last;
		j->n_hits++;
		rs->hits[i].hits = 0;
	}
	rulesvc_submit(pd, j);
}

static void
rulesvc_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	rulesvc_flush(arg);
}

/*
 * Hand the queued fake-IP changes to the thread, or write them here
 * before it runs.  Unless forced (at stop), not while
 * RULESVC_FAKEIP_BATCHES are on their way: they stay queued.
 */
static void
rulesvc_fakeip_flush(struct proxyd *pd, bool force)
{
	struct rulesvc *rs = pd->rules;
	struct rulesvc_job *j;
	struct fakeipq_batch b;
	char err[256];

	if (rs->fq_dropped > 0) {
		log_warn("fake IPs: %llu changes not stored: the database "
		         "is behind; those names get other addresses after "
		         "a restart",
		         (unsigned long long)rs->fq_dropped);
		rs->fq_dropped = 0;
	}
	if (fakeipq_len(rs->fq) == 0 ||
	    (!force && rs->fq_batches >= RULESVC_FAKEIP_BATCHES))
		return;
	if (rs->worker == NULL) {
		if (fakeipq_take(rs->fq, &b) == -1)
			return;
		if (store_fakeip_put(rs->store, b.m, b.n, err, sizeof(err)) ==
		    -1)
			log_warn("fake IPs: %s", err);
		fakeipq_batch_free(&b);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return; /* they stay for the next try */
	if (fakeipq_take(rs->fq, &j->fakeips) == -1) {
		free(j);
		return;
	}
	j->is_flush = j->is_fakeip = true;
	rs->fq_batches++;
	rulesvc_submit(pd, j);
}

static void
rulesvc_fakeip_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	rulesvc_fakeip_flush(arg, false);
}

/* The map's observer, on the loop: queue the change; a full queue goes
 * early, and when it cannot, its oldest change is given up. */
static void
rulesvc_fakeip_changed(void *arg, enum fakeip_change what,
                       const struct fakeip_entry *e)
{
	struct proxyd *pd = arg;
	struct rulesvc *rs = pd->rules;

	if (fakeipq_push(rs->fq, what, e) != -1 || errno != ENOBUFS)
		return;
	rulesvc_fakeip_flush(pd, false);
	if (fakeipq_len(rs->fq) > 0 && fakeipq_drop_oldest(rs->fq))
		rs->fq_dropped++;
	(void)fakeipq_push(rs->fq, what, e);
}

/* The stored mappings, copied out of the read: they are put back after
 * it, since putting one back may write to the store (a full queue). */
struct rulesvc_fakeip_rows {
	struct store_fakeip *m; /* names owned */
	size_t n, cap;
};

/* store_fakeip_load()'s callback: keep a copy of m.  0, or 1 when out of
 * memory. */
static int
rulesvc_fakeip_copy(void *arg, const struct store_fakeip *m)
{
	struct rulesvc_fakeip_rows *r = arg;
	struct store_fakeip *grown;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap > 0 ? r->cap * 2 : 256;
		if ((grown = reallocarray(r->m, cap, sizeof(*grown))) == NULL)
			return 1;
		r->m = grown;
		r->cap = cap;
	}
	r->m[r->n] = *m;
	if ((r->m[r->n].name = strdup(m->name)) == NULL)
		return 1;
	r->n++;
	return 0;
}

static void
rulesvc_fakeip_rows_free(struct rulesvc_fakeip_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free((char *)r->m[i].name);
	free(r->m);
}

int
rulesvc_fakeip_restore(struct proxyd *pd, struct fakeip *f, size_t max,
                       char *err, size_t errlen)
{
	struct rulesvc *rs = pd->rules;
	struct rulesvc_fakeip_rows rows = {NULL, 0, 0};
	const struct store_fakeip *m;
	int64_t pruned;
	size_t i;
	int rc;

	if (rs->fq == NULL && (rs->fq = fakeipq_new(FAKEIPQ_MAX)) == NULL) {
		snprintf(err, errlen, "fake IPs: %s", strerror(errno));
		return -1;
	}
	/* Watched first: a mapping the range no longer holds gets a new
	 * address, and that is stored below. */
	fakeip_set_observer(f, rulesvc_fakeip_changed, pd);
	rc = store_fakeip_load(rs->store, rulesvc_fakeip_copy, &rows, err,
	                       errlen);
	if (rc != 0) {
		if (rc > 0)
			snprintf(err, errlen, "fake IPs: out of memory");
		rulesvc_fakeip_rows_free(&rows);
		return -1;
	}
	for (i = 0; i < rows.n; i++) {
		m = &rows.m[i];
		if (fakeip_restore(f, m->name, m->v4, m->has_v6 ? &m->v6 : NULL,
		                   (time_t)m->last_used) == -1)
			log_warn("fake IPs: putting %s back: out of memory",
			         m->name);
	}
	rulesvc_fakeip_rows_free(&rows);
	rulesvc_fakeip_flush(pd, true);
	pruned = store_fakeip_prune(rs->store, max, err, errlen);
	if (pruned == -1)
		return -1;
	if (pruned > 0)
		log_info("fake IPs: %lld stored mappings past fake_ip_max "
		         "forgotten",
		         (long long)pruned);
	return (int)fakeip_count(f);
}

int
rulesvc_secret(struct proxyd *pd, const char *name, uint8_t *out, size_t len,
               char *err, size_t errlen)
{
	return store_secret(pd->rules->store, name, out, len, err, errlen);
}

int
rulesvc_start(struct proxyd *pd)
{
	struct rulesvc *rs = pd->rules;
	struct timeval tv = {.tv_sec = RULESVC_FLUSH_S, .tv_usec = 0};

	rs->worker = worker_new(pd->base, NULL, NULL);
	if (rs->worker == NULL)
		return -1;
	rs->flush_ev =
	    event_new(pd->base, -1, EV_PERSIST, rulesvc_flush_cb, pd);
	if (rs->flush_ev == NULL || event_add(rs->flush_ev, &tv) == -1) {
		log_error("rules: cannot add the flush timer");
		return -1;
	}
	if (rs->fq == NULL)
		return 0; /* no fake-IP map watched */
	tv.tv_sec = RULESVC_FAKEIP_FLUSH_S;
	rs->fq_ev =
	    event_new(pd->base, -1, EV_PERSIST, rulesvc_fakeip_flush_cb, pd);
	if (rs->fq_ev == NULL || event_add(rs->fq_ev, &tv) == -1) {
		log_error("fake IPs: cannot add the flush timer");
		return -1;
	}
	return 0;
}

void
rulesvc_stop(struct proxyd *pd)
{
	struct rulesvc *rs = pd->rules;

	if (rs == NULL)
		return;
	/* The last fake-IP changes: on the thread, or here without one. */
	if (rs->fq != NULL)
		rulesvc_fakeip_flush(pd, true);
	if (rs->worker != NULL) {
		/* The last counts, then every job runs to its end, done()
		 * included, on this thread: the loop no longer runs. */
		rulesvc_flush(pd);
		rs->stopping = true;
		worker_free(rs->worker, true);
	}
	if (rs->flush_ev != NULL)
		event_free(rs->flush_ev);
	if (rs->fq_ev != NULL)
		event_free(rs->fq_ev);
	fakeipq_free(rs->fq);
	store_close(rs->store);
	rules_index_free(rs->idx);
	free(rs->hits);
	free(rs);
	pd->rules = NULL;
}

const struct rules_entry *
rulesvc_match(struct proxyd *pd, const struct rules_query *q,
              struct rules_explain *why)
{
	struct rulesvc *rs = pd->rules;
	const struct rules_entry *e;
	struct rules_explain local;

	if (rs == NULL || rs->idx == NULL)
		return NULL;
	if (why == NULL)
		why = &local;
	e = rules_match(rs->idx, q, why);
	if (e != NULL && rs->hits[e->slot].used)
		/* A "once" rule already used, until its deletion lands: the
		 * next rule in line decides, if it is not one too. */
		e = why->runner_up != NULL &&
		            !rs->hits[why->runner_up->slot].used
		        ? why->runner_up
		        : NULL;
	return e;
}

void
rulesvc_use(struct proxyd *pd, const struct rules_entry *e, time_t now)
{
	struct rulesvc *rs = pd->rules;
	struct rulesvc_change ch;
	struct rulesvc_hit *h;

	if (rs == NULL || e == NULL)
		return;
	h = &rs->hits[e->slot];
	h->hits++;
	h->last = now;
	if (e->duration != DUR_ONCE || h->used)
		return;
	h->used = true;
	memset(&ch, 0, sizeof(ch));
	ch.op = RULESVC_DEL;
	ch.id = e->id;
	if (!rs->stopping)
		rulesvc_apply(pd, &ch, NULL, NULL);
}

const struct rules_entry *
rulesvc_decide(struct proxyd *pd, const struct rules_query *q,
               struct rules_explain *why)
{
	const struct rules_entry *e = rulesvc_match(pd, q, why);

	rulesvc_use(pd, e, q->now);
	return e;
}

unsigned
rulesvc_count(const struct proxyd *pd)
{
	return pd->rules != NULL ? pd->rules->n_slots : 0;
}

void
rulesvc_on_change(struct proxyd *pd, void (*fn)(void *arg), void *arg)
{
	pd->rules->on_change = fn;
	pd->rules->on_change_arg = arg;
}
