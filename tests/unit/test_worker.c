/*
 * test_worker.c - the worker thread's order (proxyd/worker.h): plain jobs
 * first, in the order submitted; then the uids' shares in turn, one job
 * each, a uid's own in the order submitted; done() on the loop in the
 * order the jobs ran.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "proxyd/worker.h"

#define N_JOBS 16

struct tjob {
	struct worker_job job; /* first: the job is the struct */
	char name[8];
};

/* What ran, and what was finished, in order: written by one thread each. */
static char ran[N_JOBS][8], finished[N_JOBS][8];
static size_t n_ran, n_finished, n_expected;
static struct event_base *base;

/* The first job holds the thread until every other one is queued. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static void
tjob_run(struct worker_job *job, void *ctx)
{
	struct tjob *t = (struct tjob *)job;

	if (strcmp(t->name, "gate") == 0) {
		pthread_mutex_lock(&gate_lock);
		while (!gate_open)
			pthread_cond_wait(&gate_cond, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
	if (n_ran < N_JOBS)
		strcpy(ran[n_ran++], t->name);
}

static void
tjob_done(struct worker_job *job)
{
	struct tjob *t = (struct tjob *)job;

	if (n_finished < N_JOBS)
		strcpy(finished[n_finished++], t->name);
	if (n_finished == n_expected)
		event_base_loopbreak(base);
}

static void
tjob_init(struct tjob *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->job.run = tjob_run;
	t->job.done = tjob_done;
	strcpy(t->name, name);
}

/*
 * uid 1000 queues three jobs, then 1001 two, then a plain job comes, then
 * 1002 one: the plain job runs first, then 1000, 1001 and 1002 take turns
 * (a newcomer's first turn after those already waiting), and 1000's third
 * job runs last, though it was queued before every other uid's.
 */
static void
test_plain_first_then_uids_in_turn(void **state)
{
	static const struct {
		const char *name;
		int uid; /* -1: a plain job */
	} submit[] = {
	    {"a1", 1000}, {"a2", 1000}, {"a3", 1000}, {"b1", 1001},
	    {"b2", 1001}, {"p1", -1},   {"c1", 1002},
	};
	static const char *const want[] = {"gate", "p1", "a1", "b1",
	                                   "c1",   "a2", "b2", "a3"};
	struct tjob gate, jobs[sizeof(submit) / sizeof(submit[0])];
	struct worker *w;
	size_t i;

	base = event_base_new();
	assert_non_null(base);
	w = worker_new(base, NULL, NULL);
	assert_non_null(w);
	n_ran = n_finished = 0;
	n_expected = sizeof(want) / sizeof(want[0]);
	gate_open = false;

	tjob_init(&gate, "gate");
	worker_submit(w, &gate.job);
	for (i = 0; i < sizeof(submit) / sizeof(submit[0]); i++) {
		tjob_init(&jobs[i], submit[i].name);
		if (submit[i].uid < 0)
			worker_submit(w, &jobs[i].job);
		else
			worker_submit_share(w, &jobs[i].job,
			                    (uid_t)submit[i].uid);
	}
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);

	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(n_finished, n_expected);
	for (i = 0; i < n_expected; i++) {
		assert_string_equal(ran[i], want[i]);
		assert_string_equal(finished[i], want[i]);
	}
	worker_free(w, true);
	event_base_free(base);
}

/* Jobs still queued at worker_free() are run, and finished with finish. */
static void
test_free_runs_what_is_queued(void **state)
{
	struct tjob gate, a, b;
	struct worker *w;

	base = event_base_new();
	assert_non_null(base);
	w = worker_new(base, NULL, NULL);
	assert_non_null(w);
	n_ran = n_finished = 0;
	n_expected = 0; /* no loop runs */
	gate_open = false;

	tjob_init(&gate, "gate");
	tjob_init(&a, "a");
	tjob_init(&b, "b");
	worker_submit(w, &gate.job);
	worker_submit_share(w, &a.job, 1000);
	worker_submit_share(w, &b.job, 1001);
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	worker_free(w, true);
	assert_int_equal(n_ran, 3);
	assert_int_equal(n_finished, 3);
	assert_string_equal(finished[1], "a");
	assert_string_equal(finished[2], "b");
	event_base_free(base);
}

/* What worker_idle() told each job of test_idle, in the order they ran. */
static struct worker *idle_w;
static bool idle_seen[4];
static size_t n_idle;

static void
idle_run(struct worker_job *job, void *ctx)
{
	tjob_run(job, ctx); /* the gate waits first */
	if (n_idle < 4)
		idle_seen[n_idle++] = worker_idle(idle_w);
}

/*
 * A job is told the thread is idle when no other job waits and the
 * shortcut is on: not while another waits behind it, nor with the
 * shortcut off.
 */
static void
test_idle(void **state)
{
	struct tjob gate, p, q;

	base = event_base_new();
	assert_non_null(base);
	idle_w = worker_new(base, NULL, NULL);
	assert_non_null(idle_w);
	n_ran = n_finished = n_idle = 0;
	n_expected = 0;
	gate_open = false;
	tjob_init(&gate, "gate");
	tjob_init(&p, "p");
	gate.job.run = p.job.run = idle_run;
	worker_submit(idle_w, &gate.job);
	worker_submit_share(idle_w, &p.job, 1000);
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	worker_free(idle_w, true);
	assert_int_equal(n_idle, 2);
	assert_false(idle_seen[0]); /* p waited behind the gate */
	assert_true(idle_seen[1]);  /* nothing waited behind p */

	idle_w = worker_new(base, NULL, NULL);
	assert_non_null(idle_w);
	worker_set_shortcut(idle_w, false);
	tjob_init(&q, "q");
	q.job.run = idle_run;
	worker_submit(idle_w, &q.job);
	worker_free(idle_w, true);
	assert_int_equal(n_idle, 3);
	assert_false(idle_seen[2]); /* alone, but the shortcut is off */
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_first_then_uids_in_turn),
	    cmocka_unit_test(test_free_runs_what_is_queued),
	    cmocka_unit_test(test_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
