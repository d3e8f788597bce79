/*
 * worker.h - one thread that runs blocking jobs off the event loop.
 *
 * The loop submits a job; the thread runs job->run(job, ctx) (ctx is the
 * thread's own context, made by the init function on the thread); then the
 * loop calls job->done(job) from its own thread.  The job's memory belongs
 * to the submitter, who must keep it alive until done() is called.
 *
 * Two kinds of job, so that one user's many cannot hold back another
 * user's: plain jobs (worker_submit), meant to be cheap, run first, in
 * the order submitted; a uid's share of the rest (worker_submit_share)
 * waits in a queue of that uid's, and the queues take turns, one job
 * each.  A uid's jobs run in the order submitted; jobs are finished in
 * the order they ran.
 */
#ifndef TG_WORKER_H
#define TG_WORKER_H

#include <stdbool.h>
#include <sys/types.h>

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

/* A plain job: run before any share's, in the order submitted. */
void worker_submit(struct worker *w, struct worker_job *job);

/*
 * A job of uid's share: run after the plain jobs, when uid's turn comes
 * (each uid with jobs waiting runs one, then the next uid's turn).
 * Finding uid's queue walks those of the uids with jobs waiting (one per
 * user whose connections are being attributed).  When a queue of its
 * own cannot be had (out of memory, logged), the job is run as a plain
 * one.
 */
void worker_submit_share(struct worker *w, struct worker_job *job, uid_t uid);

/*
 * From a job's run(), on the thread: true when no other job waits, plain
 * or share, and the loop has not turned the shortcut off.  Then the job
 * may do in the same turn the work it would otherwise submit as its
 * uid's share (one trip to the thread instead of two); false: it
 * submits it from done() as a share job, to wait its uid's turn.
 */
bool worker_idle(struct worker *w);

/*
 * From the loop: the shortcut of worker_idle() on (the default) or off
 * (a uid is at its bound, and its share work must wait for the loop to
 * count it first).  w NULL (stopped already): nothing.
 */
void worker_set_shortcut(struct worker *w, bool on);

/*
 * Stop the thread.  With finish, it first runs every job queued, and
 * done() is then called, on the caller's thread, for every job whose
 * done() the loop has not called yet.  Without, it stops after the job
 * it is running: the jobs not started are dropped unrun, and no done()
 * is called (their owners free them).
 */
void worker_free(struct worker *w, bool finish);

#endif
