/*
 * test_appcache.c - the event loop's memory of recent connections'
 * processes (proxyd/appcache.h): when a kept answer may name a new
 * connection's process, and when it must not (another uid, too old, a
 * connect from before the process started, an exec since it was kept or
 * after the connect, an exec record forgotten, the process gone); the
 * user names it keeps for refusals, and asks of the worker.
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/clock.h"
#include "proxyd/appcache.h"
#include "proxyd/attr.h"
#include "proxyd/worker.h"

/* An entry kept at 10,000 ms for pid 42 of uid 1000, started at 100 ns,
 * last exec'd at 200 ns. */
static void
ent_init(struct appcache_ent *e)
{
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->tgid = 42;
	e->pidfd = -1;
	e->start_ns = 100;
	e->exec_ns = 200;
	e->kept_ms = 10000;
	e->app.known = e->app.uid_known = true;
	e->app.uid = 1000;
	e->app.pid = 42;
	snprintf(e->app.exe, sizeof(e->app.exe), "/usr/bin/curl");
}

/* A connect of pid 42's, uid 1000, at 500 ns. */
static void
rec_init(struct connbpf_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->tgid = 42;
	r->sk_uid = 1000;
	r->uid = 1000;
	r->boot_ns = 500;
}

static void
test_fits_cheap(void **state)
{
	struct appcache_ent e;
	struct connbpf_rec r;

	(void)state;
	ent_init(&e);
	rec_init(&r);
	assert_true(appcache_fits_cheap(&e, &r, 10000));
	assert_true(appcache_fits_cheap(&e, &r, 10000 + APPCACHE_TTL_MS - 1));
	/* Too old: read again. */
	assert_false(appcache_fits_cheap(&e, &r, 10000 + APPCACHE_TTL_MS));
	/* A clock that went back is not trusted either. */
	assert_false(appcache_fits_cheap(&e, &r, 9999));
	/* Another uid's socket: its user is another. */
	r.sk_uid = 1001;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
	rec_init(&r);
	/* A connect from before the process started was another's. */
	r.boot_ns = 99;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
	r.boot_ns = 100;
	assert_true(appcache_fits_cheap(&e, &r, 10000));
	/* A start known to the clock tick: a connect within the tick of
	 * the start may be from before it. */
	e.tick_ns = 10;
	r.boot_ns = 109;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
	r.boot_ns = 110;
	assert_true(appcache_fits_cheap(&e, &r, 10000));
	e.tick_ns = 0;
	/* Another pid, an unknown process, an unused slot. */
	rec_init(&r);
	r.tgid = 43;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
	rec_init(&r);
	e.app.known = false;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
	ent_init(&e);
	e.used = false;
	assert_false(appcache_fits_cheap(&e, &r, 10000));
}

static void
test_fits_process(void **state)
{
	struct appcache_ent e;
	struct connbpf_rec r;

	(void)state;
	ent_init(&e);
	rec_init(&r);
	/* The exec it was kept with, before the connect, still running. */
	assert_true(appcache_fits_process(&e, &r, 1, 200, false));
	/* Gone, or not asked. */
	assert_false(appcache_fits_process(&e, &r, 1, 200, true));
	assert_false(appcache_fits_process(&e, &r, -1, 0, false));
	/* An exec since it was kept: another program perhaps. */
	assert_false(appcache_fits_process(&e, &r, 1, 300, false));
	/* An exec after the connect: the program that connected is gone
	 * (and the entry, if kept after that exec, is the new one's). */
	e.exec_ns = 600;
	assert_false(appcache_fits_process(&e, &r, 1, 600, false));
	/* The exec record forgotten: it cannot be told. */
	ent_init(&e);
	assert_false(appcache_fits_process(&e, &r, 0, 0, false));
	/* None ever recorded (it exec'd before tollgated started), none
	 * now. */
	e.exec_ns = 0;
	assert_true(appcache_fits_process(&e, &r, 0, 0, false));
	assert_false(appcache_fits_process(&e, &r, 1, 300, false));
}

/* put and get with a real pidfd: a child kept, found while it runs,
 * dropped once it has exited; cb NULL records no exec. */
static void
test_put_get(void **state)
{
	struct appcache *ac = appcache_new();
	struct appcache_stats st;
	struct attr_ident id;
	struct connbpf_rec r;
	struct app app, got;
	int go[2], status;
	pid_t child;
	char c;

	(void)state;
	assert_non_null(ac);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(go[1]);
		(void)read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	memset(&app, 0, sizeof(app));
	app.known = app.uid_known = true;
	app.uid = getuid();
	app.pid = child;
	snprintf(app.exe, sizeof(app.exe), "/usr/bin/child");
	id.tgid = child;
	id.start_ns = 1;
	id.tick_ns = 10;
	id.exec_ns = 0;
	id.read_ms = mono_ms();
	id.pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	assert_true(id.pidfd >= 0);
	appcache_put(ac, &id, &app);

	rec_init(&r);
	r.tgid = child;
	r.sk_uid = getuid();
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 1);
	assert_string_equal(got.exe, "/usr/bin/child");
	assert_int_equal(got.pid, child);
	/* Another pid: nothing. */
	r.tgid = child + 100000;
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 0);
	r.tgid = child;

	/* The child exits: its pid may be another's now. */
	close(go[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 0);
	/* And the entry is gone, not asked again. */
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 0);
	appcache_stats(ac, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.stale, 1);

	/* An answer without a process, or without a pidfd, is not kept. */
	id.pidfd = -1;
	appcache_put(ac, &id, &app);
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 0);
	appcache_free(ac);
}

/* More processes than it holds: the least recently used goes. */
static void
test_lru(void **state)
{
	struct appcache *ac = appcache_new();
	struct attr_ident id;
	struct connbpf_rec r;
	struct app app, got;
	pid_t me = getpid();
	int i;

	(void)state;
	assert_non_null(ac);
	memset(&app, 0, sizeof(app));
	app.known = app.uid_known = true;
	app.uid = getuid();
	rec_init(&r);
	r.sk_uid = getuid();
	/* Entries for pids that all stand for this process (its pidfd):
	 * only the key differs. */
	for (i = 0; i <= APPCACHE_SIZE; i++) {
		id.tgid = (pid_t)(1000000 + i);
		id.start_ns = 1;
		id.tick_ns = 10;
		id.exec_ns = 0;
		id.read_ms = mono_ms();
		id.pidfd = (int)syscall(SYS_pidfd_open, me, 0);
		assert_true(id.pidfd >= 0);
		snprintf(app.exe, sizeof(app.exe), "/p/%d", i);
		appcache_put(ac, &id, &app);
		if (i == 0) {
			/* The first is used again after the second is kept,
			 * so the second is the least recently used. */
			continue;
		}
		if (i == 1) {
			r.tgid = 1000000;
			assert_int_equal(appcache_get(ac, NULL, &r, &got), 1);
		}
	}
	r.tgid = 1000001;
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 0);
	r.tgid = 1000000;
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 1);
	assert_string_equal(got.exe, "/p/0");
	r.tgid = (pid_t)(1000000 + APPCACHE_SIZE);
	assert_int_equal(appcache_get(ac, NULL, &r, &got), 1);
	appcache_free(ac);
}

/* User names the worker gave, for refusals on the loop. */
static void
test_users(void **state)
{
	struct appcache *ac = appcache_new();
	char user[64];
	unsigned i;

	(void)state;
	assert_non_null(ac);
	assert_int_equal(appcache_user(ac, NULL, 1000, user, sizeof(user)), 0);
	assert_string_equal(user, "1000");
	appcache_note_user(ac, 1000, "alice");
	appcache_note_user(ac, 1001, "");
	assert_int_equal(appcache_user(ac, NULL, 1000, user, sizeof(user)), 1);
	assert_string_equal(user, "alice");
	appcache_user(ac, NULL, 1001, user, sizeof(user));
	assert_string_equal(user, "1001");
	/* Renamed: the newest name. */
	appcache_note_user(ac, 1000, "alicia");
	appcache_user(ac, NULL, 1000, user, sizeof(user));
	assert_string_equal(user, "alicia");
	/* More uids than it holds: the oldest goes. */
	for (i = 0; i < APPCACHE_USERS; i++)
		appcache_note_user(ac, 2000 + i, "x");
	appcache_user(ac, NULL, 1000, user, sizeof(user));
	assert_string_equal(user, "1000");
	appcache_user(ac, NULL, 2000 + APPCACHE_USERS - 1, user, sizeof(user));
	assert_string_equal(user, "x");
	appcache_free(ac);
}

static void *
ask_init(void)
{
	return attr_new();
}

static void
ask_fini(void *ctx)
{
	attr_free(ctx);
}

/* A name not known is the uid's digits at once, and asked of the worker
 * (once while it is on its way); its answer serves from then on. */
static void
test_users_asked(void **state)
{
	struct event_base *base = event_base_new();
	struct appcache *ac = appcache_new();
	struct timeval tick = {0, 100000};
	struct worker *w;
	char user[64];
	int i;

	(void)state;
	assert_non_null(base);
	assert_non_null(ac);
	w = worker_new(base, ask_init, ask_fini);
	assert_non_null(w);
	assert_int_equal(appcache_user(ac, w, 0, user, sizeof(user)), 0);
	assert_string_equal(user, "0");
	appcache_ask_user(ac, w, 0); /* on its way already: no harm */
	/* Up to 20 s, 0.1 s a turn: a worker that never answers fails the
	 * test instead of hanging it. */
	for (i = 0;
	     i < 200 && appcache_user(ac, NULL, 0, user, sizeof(user)) == 0;
	     i++) {
		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_int_equal(appcache_user(ac, NULL, 0, user, sizeof(user)), 1);
	assert_string_equal(user, "root");
	worker_free(w, true);
	appcache_free(ac);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits_cheap),
	    cmocka_unit_test(test_fits_process),
	    cmocka_unit_test(test_put_get),
	    cmocka_unit_test(test_lru),
	    cmocka_unit_test(test_users),
	    cmocka_unit_test(test_users_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
