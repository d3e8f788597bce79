/*
 * worker.c - the blocking-job thread; see worker.h.
 *
 * Two singly linked FIFOs under one mutex: todo (loop → thread) and done
 * (thread → loop).  The thread wakes the loop through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
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

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job_fifo todo, done;
	int stopping;
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
fifo_take_all(struct job_fifo *f)
{
	struct worker_job *j = f->head;

	f->head = f->tail = NULL;
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
		while (w->todo.head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->todo.head == NULL && w->stopping)
			break;
		j = w->todo.head;
		w->todo.head = j->next;
		if (w->todo.head == NULL)
			w->todo.tail = NULL;
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
worker_free(struct worker *w, bool finish)
{
	struct worker_job *j, *next;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
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
