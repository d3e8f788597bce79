/*
 * test_denials.c - the rate limit of DENIED lines (proxyd/denials.h): one
 * line per (uid, app, name) a window, the refusals in between counted into
 * the next; a cap per uid; pairs of other uids and names independent; a
 * full table forgets the pairs told longest ago, never one told within
 * the window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "proxyd/denials.h"

#define T0 1764340000

static void
test_one_line_a_window(void **state)
{
	struct denials *d = denials_new();
	unsigned count = 0;
	int i;

	(void)state;
	assert_non_null(d);
	assert_true(
	    denials_take(d, 1000, "/usr/bin/curl", "a.test", T0, &count));
	assert_int_equal(count, 1);
	/* Nine more in a row: counted, not told. */
	for (i = 1; i < 10; i++)
		assert_false(denials_take(d, 1000, "/usr/bin/curl", "a.test",
		                          T0 + i, &count));
	assert_false(denials_take(d, 1000, "/usr/bin/curl", "a.test",
	                          T0 + DENIALS_WINDOW_S - 1, &count));
	/* The window over: the next one tells all eleven since the line. */
	assert_true(denials_take(d, 1000, "/usr/bin/curl", "a.test",
	                         T0 + DENIALS_WINDOW_S, &count));
	assert_int_equal(count, 11);
	/* Other pairs, other uids: their own limits. */
	assert_true(
	    denials_take(d, 1000, "/usr/bin/curl", "b.test", T0 + 61, &count));
	assert_int_equal(count, 1);
	assert_true(
	    denials_take(d, 1000, "/usr/bin/wget", "a.test", T0 + 61, &count));
	assert_true(
	    denials_take(d, 1001, "/usr/bin/curl", "a.test", T0 + 61, &count));
	/* app and name are not one string: "ab"+"c" is not "a"+"bc". */
	assert_true(denials_take(d, 1002, "ab", "c", T0, &count));
	assert_true(denials_take(d, 1002, "a", "bc", T0, &count));
	denials_free(d);
}

static void
test_cap_per_uid(void **state)
{
	struct denials *d = denials_new();
	char name[32];
	unsigned count = 0, told = 0;
	int i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "t%d.test", i);
		told +=
		    denials_take(d, 1000, "/usr/bin/firefox", name, T0, &count);
	}
	assert_int_equal(told, DENIALS_PER_UID);
	/* Another user is not held back by the first. */
	assert_true(
	    denials_take(d, 1001, "/usr/bin/firefox", "t49.test", T0, &count));
	/* A pair held back by the cap is told in the next window, with
	 * every refusal since its first: three. */
	assert_false(denials_take(d, 1000, "/usr/bin/firefox", "t49.test",
	                          T0 + 1, &count));
	assert_true(denials_take(d, 1000, "/usr/bin/firefox", "t49.test",
	                         T0 + DENIALS_WINDOW_S, &count));
	assert_int_equal(count, 3);
	denials_free(d);
}

static void
test_full_table(void **state)
{
	struct denials *d = denials_new();
	char name[32];
	unsigned count = 0;
	int i;

	(void)state;
	/* DENIALS_MAX pairs of as many uids, each told now. */
	for (i = 0; i < DENIALS_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		assert_true(denials_take(d, (uid_t)(2000 + i), "/bin/x", name,
		                         T0, &count));
	}
	/* Every pair told within the window: a new one is not told (and
	 * none told is forgotten, so none is told twice). */
	assert_false(
	    denials_take(d, 9999, "/bin/x", "new.test", T0 + 1, &count));
	assert_false(
	    denials_take(d, 2000, "/bin/x", "n0.test", T0 + 1, &count));
	/* The window over: there is room again. */
	assert_true(denials_take(d, 9999, "/bin/x", "new.test",
	                         T0 + DENIALS_WINDOW_S, &count));
	assert_int_equal(count, 1);
	denials_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_line_a_window),
	    cmocka_unit_test(test_cap_per_uid),
	    cmocka_unit_test(test_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
