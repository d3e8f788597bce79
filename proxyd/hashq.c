/*
 * hashq.c - executables hashed on a thread of their own; see hashq.h.
 *
 * A queued file is a job of a worker (worker.h): run() hashes it on the
 * queue's thread and keeps its digest in the shared cache; done(), on the
 * loop, takes it off the pending list and wakes the waiters of its key.
 * The pending list and the cache are under one lock (submitters run on
 * the attribution thread); the waiters are the loop's alone.  A waiter
 * that comes after run() kept the digest but before done() ran finds
 * the file still pending and is woken by done(): none is missed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/hashq.h"
#include "proxyd/worker.h"

struct hashq_job {
	struct worker_job job; /* first: the job is the struct */
	struct hashq *hq;
	TAILQ_ENTRY(hashq_job) entry; /* on hq->pending, under hq->lock */
	int fd;
	struct stat st;
	struct digest_key key;
	char what[64];
};

TAILQ_HEAD(hashq_jobs, hashq_job);
TAILQ_HEAD(hashq_waiters, hashq_waiter);

struct hashq {
	struct worker *worker;
	pthread_mutex_t lock; /* cache, pending, n_pending, st, stopping */
	struct digest_cache *cache;
	struct hashq_jobs pending;
	unsigned n_pending;
	bool stopping;
	struct hashq_stats st;
	struct hashq_waiters waiters; /* the loop's */
};

struct hashq *
hashq_new(struct event_base *base)
{
	struct hashq *hq;

	if ((hq = calloc(1, sizeof(*hq))) == NULL) {
		log_error("hashq: calloc: %s", strerror(errno));
		return NULL;
	}
	TAILQ_INIT(&hq->pending);
	TAILQ_INIT(&hq->waiters);
	pthread_mutex_init(&hq->lock, NULL);
	if ((hq->cache = digest_cache_new()) == NULL)
		goto fail;
	if ((hq->worker = worker_new(base, NULL, NULL)) == NULL)
		goto fail;
	return hq;
fail:
	digest_cache_free(hq->cache);
	pthread_mutex_destroy(&hq->lock);
	free(hq);
	errno = ENOMEM;
	return NULL;
}

void
hashq_free(struct hashq *hq)
{
	struct hashq_waiter *w;

	if (hq == NULL)
		return;
	while ((w = TAILQ_FIRST(&hq->waiters)) != NULL) {
		TAILQ_REMOVE(&hq->waiters, w, entry);
		w->waiting = false;
	}
	pthread_mutex_lock(&hq->lock);
	hq->stopping = true; /* what is still queued is not read */
	pthread_mutex_unlock(&hq->lock);
	worker_free(hq->worker, true); /* every job's done(): freed */
	digest_cache_free(hq->cache);
	pthread_mutex_destroy(&hq->lock);
	free(hq);
}

int
hashq_cached(struct hashq *hq, const struct digest_key *k,
             uint8_t out[DIGEST_LEN])
{
	int rc;

	pthread_mutex_lock(&hq->lock);
	rc = digest_cache_get(hq->cache, k, out);
	pthread_mutex_unlock(&hq->lock);
	return rc;
}

int
hashq_now(struct hashq *hq, int fd, const struct stat *st, const char *what,
          uint8_t out[DIGEST_LEN])
{
	struct digest_key k;
	bool same = false;

	if (digest_fd(fd, what, st, out, &same) != 0 || !same)
		return -1;
	digest_key_of(st, &k);
	pthread_mutex_lock(&hq->lock);
	digest_cache_put(hq->cache, &k, out);
	hq->st.hashed++;
	pthread_mutex_unlock(&hq->lock);
	return 0;
}

/* On the queue's thread: hash the file, keep its digest. */
static void
hashq_run(struct worker_job *job, void *ctx)
{
	struct hashq_job *j = (struct hashq_job *)job;
	struct hashq *hq = j->hq;
	uint8_t md[DIGEST_LEN];
	bool stopping, same = false;
	int rc;

	pthread_mutex_lock(&hq->lock);
	stopping = hq->stopping;
	pthread_mutex_unlock(&hq->lock);
	if (stopping)
		return;
	rc = digest_fd(j->fd, j->what, &j->st, md, &same);
	pthread_mutex_lock(&hq->lock);
	if (rc == 0 && same) {
		digest_cache_put(hq->cache, &j->key, md);
		hq->st.hashed++;
	} else
		hq->st.failed++;
	pthread_mutex_unlock(&hq->lock);
}

/* On the loop: the file is done; its waiters are told. */
static void
hashq_done(struct worker_job *job)
{
	struct hashq_job *j = (struct hashq_job *)job;
	struct hashq *hq = j->hq;
	struct hashq_waiter *w, *next;

	pthread_mutex_lock(&hq->lock);
	TAILQ_REMOVE(&hq->pending, j, entry);
	hq->n_pending--;
	pthread_mutex_unlock(&hq->lock);
	close(j->fd);
	for (w = TAILQ_FIRST(&hq->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (!digest_key_equal(&w->key, &j->key))
			continue;
		TAILQ_REMOVE(&hq->waiters, w, entry);
		w->waiting = false;
		w->ready(w); /* may unwait others: next is checked anew */
		next = TAILQ_FIRST(&hq->waiters);
	}
	free(j);
}

/* Under hq->lock: the job of key k, or NULL. */
static struct hashq_job *
hashq_pending(struct hashq *hq, const struct digest_key *k)
{
	struct hashq_job *j;

	TAILQ_FOREACH(j, &hq->pending, entry)
	if (digest_key_equal(&j->key, k))
		return j;
	return NULL;
}

int
hashq_submit(struct hashq *hq, int fd, const struct stat *st, const char *what)
{
	struct hashq_job *j = NULL;
	struct digest_key k;
	uint8_t md[DIGEST_LEN];
	bool full = false;
	int rc = 0;

	if (!S_ISREG(st->st_mode) || st->st_size > DIGEST_FILE_MAX) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	digest_key_of(st, &k);
	pthread_mutex_lock(&hq->lock);
	if (digest_cache_get(hq->cache, &k, md) == 0 ||
	    hashq_pending(hq, &k) != NULL)
		goto out; /* known, or on its way */
	if (hq->n_pending >= HASHQ_MAX) {
		hq->st.dropped++;
		full = true;
		rc = -1;
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		errno = ENOMEM;
		rc = -1;
		goto out;
	}
	j->job.run = hashq_run;
	j->job.done = hashq_done;
	j->hq = hq;
	j->fd = fd;
	j->st = *st;
	j->key = k;
	snprintf(j->what, sizeof(j->what), "%s", what);
	TAILQ_INSERT_TAIL(&hq->pending, j, entry);
	hq->n_pending++;
out:
	pthread_mutex_unlock(&hq->lock);
	if (j == NULL) {
		close(fd);
		if (full) {
			log_info("hashq: %d files wait to be hashed: %s is "
			         "not; its connections have no digest",
			         HASHQ_MAX, what);
			errno = ENOBUFS;
		} else if (rc == -1)
			errno = ENOMEM;
		return rc;
	}
	worker_submit(hq->worker, &j->job);
	return 0;
}

int
hashq_wait(struct hashq *hq, struct hashq_waiter *w, const struct digest_key *k)
{
	bool pending;

	pthread_mutex_lock(&hq->lock);
	pending = hashq_pending(hq, k) != NULL;
	pthread_mutex_unlock(&hq->lock);
	if (!pending)
		return -1;
	w->key = *k;
	w->waiting = true;
	TAILQ_INSERT_TAIL(&hq->waiters, w, entry);
	return 0;
}

void
hashq_unwait(struct hashq *hq, struct hashq_waiter *w)
{
	if (!w->waiting)
		return;
	TAILQ_REMOVE(&hq->waiters, w, entry);
	w->waiting = false;
}

void
hashq_stats(struct hashq *hq, struct hashq_stats *st)
{
	pthread_mutex_lock(&hq->lock);
	*st = hq->st;
	pthread_mutex_unlock(&hq->lock);
}
