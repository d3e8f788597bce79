/*
 * test_control_agent.c - who may become a prompt agent on the control
 * socket (proxyd/control_agent.h), and the accept back-off that the
 * control socket shares with the listeners (proxyd/accept.h).
 *
 * The test binary plays the installed tollgate-prompt: prompt_program is
 * its own executable, so this process is a writer that runs it and its
 * parent (the test runner's shell) one that does not.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/config.h"
#include "proxyd/accept.h"
#include "proxyd/control_agent.h"

static struct config cfg;

/* prompt_program: this test's executable; this uid guarded. */
static int
setup(void **state)
{
	ssize_t n;

	config_defaults(&cfg);
	n = readlink("/proc/self/exe", cfg.prompt_program,
	             sizeof(cfg.prompt_program) - 1);
	if (n <= 0)
		return -1;
	cfg.prompt_program[n] = '\0';
	cfg.guard_uids[0] = getuid();
	cfg.n_guard = 1;
	return 0;
}

static int
subscribe(struct control_agent *a, bool admin, char *err, size_t errlen)
{
	return control_agent_subscribe(a, &cfg, getpid(), getuid(), getgid(),
	                               admin, err, errlen);
}

static void
test_prompt_program_subscribes(void **state)
{
	struct control_agent a;
	char err[512];
	struct stat st;

	control_agent_init(&a);
	assert_true(control_agent_writer(&a, cfg.prompt_program, getpid()));
	assert_int_equal(subscribe(&a, false, err, sizeof(err)), 0);
	assert_true(a.subscribed);
	assert_int_equal(stat(cfg.prompt_program, &st), 0);
	assert_true(a.dev == st.st_dev && a.ino == st.st_ino);
	/* An agent's connection is the prompt program's alone. */
	assert_true(control_agent_writer(&a, cfg.prompt_program, getpid()));
	assert_false(control_agent_writer(&a, cfg.prompt_program, getppid()));
	assert_false(control_agent_writer(&a, cfg.prompt_program, 0));
}

static void
test_other_program_is_refused(void **state)
{
	struct control_agent a;
	char err[512];

	control_agent_init(&a);
	/* Before SUBSCRIBE anyone may write; it is remembered. */
	assert_true(control_agent_writer(&a, cfg.prompt_program, getppid()));
	assert_int_equal(subscribe(&a, true, err, sizeof(err)), -1);
	assert_false(a.subscribed);
	assert_non_null(strstr(err, "SUBSCRIBE is for the installed "
	                            "tollgate-prompt"));
	assert_non_null(strstr(err, "; you are "));
}

static void
test_earlier_writer_is_remembered(void **state)
{
	struct control_agent a;
	char err[512];

	control_agent_init(&a);
	assert_true(control_agent_writer(&a, cfg.prompt_program, getppid()));
	assert_true(control_agent_writer(&a, cfg.prompt_program, getpid()));
	assert_int_equal(subscribe(&a, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "other programs wrote on this "
	                            "connection before"));
}

static void
test_unguarded_uid_needs_admin(void **state)
{
	struct control_agent a;
	char err[512];

	cfg.n_guard = 0;
	control_agent_init(&a);
	assert_true(control_agent_writer(&a, cfg.prompt_program, getpid()));
	assert_int_equal(subscribe(&a, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not guarded (guard_users)"));
	assert_false(a.subscribed);
	assert_int_equal(subscribe(&a, true, err, sizeof(err)), 0);
	assert_true(a.subscribed);
	cfg.n_guard = 1;
}

static void
test_missing_program(void **state)
{
	struct control_agent a;
	char err[512];

	snprintf(cfg.prompt_program, sizeof(cfg.prompt_program),
	         "/nonexistent/tollgate-prompt");
	control_agent_init(&a);
	assert_true(control_agent_writer(&a, cfg.prompt_program, getpid()));
	assert_int_equal(subscribe(&a, true, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no agent can subscribe"));
	assert_int_equal(setup(NULL), 0);
}

/* A setgid prompt_program: the gid the peer connected with must be its
 * group, whatever runs. */
static void
test_setgid_group(void **state)
{
	char path[] = "/tmp/tg-setgid-XXXXXX", err[512];
	struct control_agent a;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 02755), 0);
	close(fd);
	snprintf(cfg.prompt_program, sizeof(cfg.prompt_program), "%s", path);
	control_agent_init(&a);
	assert_int_equal(control_agent_subscribe(&a, &cfg, getpid(), getuid(),
	                                         getgid() + 1, true, err,
	                                         sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "setgid to gid"));
	assert_non_null(strstr(err, "you connected with gid"));
	unlink(path);
	assert_int_equal(setup(NULL), 0);
}

static void
accepted(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
         int salen, void *arg)
{
	close(fd);
}

/* Pauses double from min to max; a client taken starts them over; the
 * timer's end resumes. */
static void
test_accept_backoff(void **state)
{
	struct sockaddr_in sin;
	struct accept_backoff ab;
	struct evconnlistener *evl;
	struct event_base *base;

	base = event_base_new();
	assert_non_null(base);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	evl =
	    evconnlistener_new_bind(base, accepted, NULL, LEV_OPT_CLOSE_ON_FREE,
	                            -1, (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(evl);
	assert_int_equal(accept_backoff_init(&ab, base, evl, 10, 40), 0);
	assert_int_equal(accept_backoff_pause(&ab), 10);
	assert_true(evtimer_pending(ab.timer, NULL));
	assert_int_equal(accept_backoff_pause(&ab), 20);
	assert_int_equal(accept_backoff_pause(&ab), 40);
	assert_int_equal(accept_backoff_pause(&ab), 40);
	accept_backoff_reset(&ab);
	assert_int_equal(accept_backoff_pause(&ab), 10);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_false(evtimer_pending(ab.timer, NULL));
	accept_backoff_free(&ab);
	assert_null(ab.timer);
	accept_backoff_free(&ab);
	evconnlistener_free(evl);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prompt_program_subscribes),
	    cmocka_unit_test(test_other_program_is_refused),
	    cmocka_unit_test(test_earlier_writer_is_remembered),
	    cmocka_unit_test(test_unguarded_uid_needs_admin),
	    cmocka_unit_test(test_missing_program),
	    cmocka_unit_test(test_setgid_group),
	    cmocka_unit_test(test_accept_backoff),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
