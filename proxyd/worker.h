/*
 * worker.h - one thread that runs blocking jobs off the event loop.
 *
 * The loop submits a job; the thread runs job->run(job, ctx) (ctx is the
 * thread's own context, made by the init function on the thread); then the
 * loop calls job->done(job) from its own thread.  Jobs are run and finished
 * in the order submitted.  The job's memory belongs to the submitter, who
 * must keep it alive until done() is called.
 */
#ifndef TG_WORKER_H
#define TG_WORKER_H

#include <stdbool.h>

#include <event2/event.h>

struct worker_job {
	struct worker_job *next;
	void (*run)(struct worker_job *job, void *ctx); /* on the thread */
	void (*done)(struct worker_job *job);           /* on the loop */
};

struct worker;

/*
 * Start the thread.  init() runs on it first and returns the ctx passed to
 * every run(); when init() returns NULL the worker still runs, with a NULL
 * ctx.  fini(ctx) runs on the thread when it stops.  NULL on failure, with
 * the reason logged.
 */
struct worker *worker_new(struct event_base *base, void *(*init)(void),
                          void (*fini)(void *));

void worker_submit(struct worker *w, struct worker_job *job);

/*
 * Stop the thread after it has run the jobs already queued.  With finish,
 * done() is then called, on the caller's thread, for every job whose
 * done() the loop has not called yet; without, those jobs are dropped
 * (their owner frees them).
 */
void worker_free(struct worker *w, bool finish);

#endif
