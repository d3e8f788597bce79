/*
 * test_fdbudget.c - the descriptor budget's arithmetic (proxyd/fdbudget.h):
 * the connections a limit holds leave the reserve and the pipes' share
 * free, and the limit the start line tells to raise to holds what was
 * asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxyd/fdbudget.h"
#include "proxyd/relay.h"

static void
test_a_limit_below_the_reserve_holds_nothing(void **state)
{
	assert_int_equal(fdbudget_connections(0), 0);
	assert_int_equal(fdbudget_connections(FDBUDGET_FIXED), 0);
	assert_true(fdbudget_connections(FDBUDGET_FIXED + 8) >= 1);
}

static void
test_connections_leave_the_reserve_free(void **state)
{
	unsigned long nofile;

	for (nofile = FDBUDGET_FIXED + 1; nofile < 200000; nofile += 97) {
		unsigned long n = fdbudget_connections(nofile);

		assert_true(n * FDBUDGET_PER_CONN + FDBUDGET_FIXED <= nofile);
		/* The pipes get a share too (up to RELAY_POOL_MAX of
		 * them), unless the limit is tiny. */
		if (nofile > 4 * FDBUDGET_FIXED) {
			unsigned long pipes = nofile / 8;

			if (pipes > 2UL * RELAY_POOL_MAX)
				pipes = 2UL * RELAY_POOL_MAX;
			assert_true(n * FDBUDGET_PER_CONN + FDBUDGET_FIXED +
			                pipes <=
			            nofile);
		}
		/* Never more from a smaller limit. */
		assert_true(fdbudget_connections(nofile - 1) <= n);
	}
}

static void
test_known_limits(void **state)
{
	/* Test 96's limit, and the default max_connections' need. */
	assert_int_equal(fdbudget_connections(1024), 198);
	assert_true(fdbudget_connections(20000) > 9000);
	assert_true(fdbudget_connections(20000) < 10000);
	assert_true(fdbudget_connections(1048576) >= 16384);
}

static void
test_the_limit_told_holds_what_was_asked(void **state)
{
	unsigned n;

	for (n = 1; n < 300000; n = n * 3 / 2 + 1) {
		assert_true(fdbudget_connections(fdbudget_needs(n)) >= n);
		/* The smallest such limit: the two cannot disagree. */
		assert_true(fdbudget_connections(fdbudget_needs(n) - 1) < n);
	}
	assert_true(fdbudget_connections(fdbudget_needs(16384)) >= 16384);
	/* And not wastefully more: within the pipes' share. */
	assert_true(fdbudget_needs(16384) <= 16384UL * FDBUDGET_PER_CONN +
	                                         FDBUDGET_FIXED +
	                                         2UL * RELAY_POOL_MAX + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_limit_below_the_reserve_holds_nothing),
	    cmocka_unit_test(test_connections_leave_the_reserve_free),
	    cmocka_unit_test(test_known_limits),
	    cmocka_unit_test(test_the_limit_told_holds_what_was_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
