/*
 * worker.c - the blocking-job thread; see worker.h.
 *
 * Singly linked FIFOs under one mutex: todo (loop → thread, plain jobs),
 * one per uid with share jobs waiting, and done (thread → loop).  The
 * uids' queues form a ring: the next one to run a job is last->next, and
 * a queue that empties leaves the ring and is freed.  The thread wakes
 * the loop through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/worker.h"

struct job_fifo {
	struct worker_job *head, *tail;
};

/* A uid's share jobs waiting, in the ring of those that have some. */
struct worker_share {
	struct worker_share *next;
	uid_t uid;
	struct job_fifo jobs;
};

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_fifo todo, done;
	struct worker_share *last; /* the ring; its turn is over; NULL: empty */
	int stopping;
	int drop; /* with stopping: the queued jobs are not run */
	atomic_bool no_shortcut; /* worker_set_shortcut(w, false) */
	int efd;
	struct event *ev;
	void *(*init)(void);
	void (*fini)(void *);
};

static void
fifo_push(struct job_fifo *f, struct worker_job *j)
{
	j->next = NULL;
	if (f->tail != NULL)
		f->tail->next = j;
	else
		f->head = j;
	f->tail = j;
}

static struct worker_job *
fifo_take(struct job_fifo *f)
{
	struct worker_job *j = f->head;

	f->head = j->next;
	if (f->head == NULL)
		f->tail = NULL;
	return j;
}

static struct worker_job *
fifo_take_all(struct job_fifo *f)
{
	struct worker_job *j = f->head;

	f->head = f->tail = NULL;
	return j;
}

/*
 * The next job to run, taken off its queue (under the lock): a plain one,
 * else the first of the uid whose turn it is, which ends that uid's turn.
 * NULL when there is none.
 */
static struct worker_job *
worker_next(struct worker *w)
{
	struct worker_share *s;
	struct worker_job *j;

	if (w->todo.head != NULL)
		return fifo_take(&w->todo);
	if (w->last == NULL)
		return NULL;
	s = w->last->next;
	j = fifo_take(&s->jobs);
	if (s->jobs.head != NULL)
		w->last = s;
	else {
		if (s == w->last)
			w->last = NULL;
		else
			w->last->next = s->next;
		free(s);
	}
	return j;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_job *j;
	void *ctx = w->init != NULL ? w->init() : NULL;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		/* Stopping without finish: what is queued is dropped. */
		j = NULL;
		while (!(w->stopping && w->drop) &&
		       (j = worker_next(w)) == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (j == NULL)
			break;
		pthread_mutex_unlock(&w->lock);

		j->run(j, ctx);

		pthread_mutex_lock(&w->lock);
		/* The loop takes every finished job when woken: only the
		 * first one since it last did needs to wake it. */
		if (w->done.head == NULL &&
		    write(w->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			log_error("worker: eventfd write: %s", strerror(errno));
		fifo_push(&w->done, j);
	}
	pthread_mutex_unlock(&w->lock);
	if (w->fini != NULL)
		w->fini(ctx);
	return NULL;
}

static void
worker_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_job *j, *next;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_error("worker: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&w->lock);
	j = fifo_take_all(&w->done);
	pthread_mutex_unlock(&w->lock);
	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j);
	}
}

struct worker *
worker_new(struct event_base *base, void *(*init)(void), void (*fini)(void *))
{
	struct worker *w;
	int rc;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		log_error("worker: calloc: %s", strerror(errno));
		return NULL;
	}
	w->init = init;
	w->fini = fini;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd == -1) {
		log_error("worker: eventfd: %s", strerror(errno));
		goto fail;
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, worker_wake, w);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1) {
		log_error("worker: cannot add eventfd event");
		goto fail;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		log_error("worker: pthread_create: %s", strerror(rc));
		goto fail;
	}
	return w;
fail:
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->efd != -1)
		close(w->efd);
	free(w);
	return NULL;
}

void
worker_submit(struct worker *w, struct worker_job *job)
{
	pthread_mutex_lock(&w->lock);
	fifo_push(&w->todo, job);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
worker_submit_share(struct worker *w, struct worker_job *job, uid_t uid)
{
	struct worker_share *s = NULL;

	pthread_mutex_lock(&w->lock);
	if (w->last != NULL) {
		s = w->last;
		do
			s = s->next;
		while (s->uid != uid && s != w->last);
		if (s->uid != uid)
			s = NULL;
	}
	if (s == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
		/* Last in the ring: its first turn comes after every other
		 * uid's next one. */
		s->uid = uid;
		if (w->last != NULL) {
			s->next = w->last->next;
			w->last->next = s;
		} else
			s->next = s;
		w->last = s;
	}
	if (s != NULL)
		fifo_push(&s->jobs, job);
	else {
		log_error("worker: a queue for uid %u: %s; its job runs as a "
		          "plain one",
		          (unsigned)uid, strerror(errno));
		fifo_push(&w->todo, job);
	}
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

bool
worker_idle(struct worker *w)
{
	bool idle;

	if (atomic_load_explicit(&w->no_shortcut, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&w->lock);
	idle = w->todo.head == NULL && w->last == NULL;
	pthread_mutex_unlock(&w->lock);
	return idle;
}

void
worker_set_shortcut(struct worker *w, bool on)
{
	if (w == NULL)
		return;
	atomic_store_explicit(&w->no_shortcut, !on, memory_order_relaxed);
}

void
worker_free(struct worker *w, bool finish)
{
	struct worker_job *j, *next;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	w->drop = !finish;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* Dropped unrun (their owners free them): the uids' queues go. */
	while (w->last != NULL) {
		struct worker_share *s = w->last->next;

		if (s == w->last)
			w->last = NULL;
		else
			w->last->next = s->next;
		free(s);
	}
	if (finish)
		for (j = fifo_take_all(&w->done); j != NULL; j = next) {
			next = j->next;
			j->done(j);
		}
	event_free(w->ev);
	close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
