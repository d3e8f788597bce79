/*
 * test_log.c - repeated warnings held back (common/log.h): of one shape
 * within the window only the first few are printed, and then one line
 * says how many more there were; info lines are never held back.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

static time_t fake_now;
static char out_path[] = "/tmp/test_log.XXXXXX";
static int saved_err = -1;

static time_t
fake_clock(void)
{
	return fake_now;
}

/* stderr into a fresh file. */
static int
setup(void **state)
{
	int fd;

	fd = mkstemp(out_path);
	if (fd == -1)
		return -1;
	saved_err = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_init("t", LOG_INFO);
	log_set_clock(fake_clock);
	fake_now = 1000;
	return 0;
}

static int
teardown(void **state)
{
	log_flush_repeats();
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	unlink(out_path);
	strcpy(out_path, "/tmp/test_log.XXXXXX");
	return 0;
}

/* What was written so far, NUL-terminated, in buf. */
static const char *
written(char *buf, size_t len)
{
	int fd = open(out_path, O_RDONLY);
	ssize_t n;

	assert_true(fd != -1);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static unsigned
count_lines(const char *s, const char *needle)
{
	unsigned n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
test_repeats_are_counted_once_the_window_ends(void **state)
{
	char buf[8192];
	int i;

	for (i = 0; i < 1000; i++)
		log_warn("accept: Too many open files; pausing %dms", i);
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "t: warning: accept: Too many"),
	                 LOG_REPEAT_SHOWN);
	assert_null(strstr(buf, "more like this"));
	/* Lines of another shape are not held back by these. */
	log_warn("attr: /proc: Permission denied");
	written(buf, sizeof(buf));
	assert_non_null(strstr(buf, "t: warning: attr: /proc: Permission"));
	/* Window over: the next line of any kind says the count first. */
	fake_now += LOG_REPEAT_WINDOW;
	log_info("decision conn=1");
	written(buf, sizeof(buf));
	assert_non_null(strstr(buf,
	                       "t: warning: ... and 997 more like this in "
	                       "the last 10 s: accept: Too many open files; "
	                       "pausing 999ms\n"
	                       "t: info: decision conn=1\n"));
	/* A new window shows the first ones again. */
	log_warn("accept: Too many open files; pausing %dms", 5);
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "t: warning: accept: Too many"),
	                 LOG_REPEAT_SHOWN + 1);
}

static void
test_info_lines_are_never_held_back(void **state)
{
	char buf[65536];
	int i;

	for (i = 0; i < 500; i++)
		log_info("decision conn=%d verdict=allow", i);
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "t: info: decision conn="), 500);
	assert_null(strstr(buf, "more like this"));
}

static void
test_flush_says_what_is_held(void **state)
{
	char buf[8192];
	int i;

	for (i = 0; i < LOG_REPEAT_SHOWN + 2; i++)
		log_error("store: disk full (%d)", i);
	log_flush_repeats();
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "t: error: store: disk full"),
	                 LOG_REPEAT_SHOWN);
	assert_non_null(strstr(buf, "t: error: ... and 2 more like this in "
	                            "the last 10 s: store: disk full (4)\n"));
	/* Said once only. */
	log_flush_repeats();
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "more like this"), 1);
}

static void
test_different_messages_are_all_shown(void **state)
{
	char buf[8192];

	log_warn("listener a: accept: No buffer space available");
	log_warn("listener b: accept: Cannot allocate memory");
	log_warn("listener c: bind: Address in use");
	log_warn("listener d: socket: Too many open files");
	log_warn("listener e: SO_REUSEADDR: Bad file descriptor");
	written(buf, sizeof(buf));
	assert_int_equal(count_lines(buf, "t: warning: listener "), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_repeats_are_counted_once_the_window_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_lines_are_never_held_back,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_says_what_is_held, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_different_messages_are_all_shown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
