/*
 * test_cli_values.c - the values the tollgate command's options take
 * (cli/values.h): a time back from now in every spelling a user types
 * ("1h", "90s", "1 hour", "30 min", "2 days ago"), and what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/values.h"

#define NOW_MS INT64_C(1796300000000) /* 2026-12-03, a Thursday */

/* s taken as a time back from NOW_MS: that many ms before. */
static void
ago(const char *s, int64_t ms)
{
	int64_t t = 0;

	if (cli_parse_time(s, NOW_MS, &t) != 0)
		fail_msg("\"%s\" refused", s);
	if (t != NOW_MS - ms)
		fail_msg("\"%s\": %lld ms back, expected %lld", s,
		         (long long)(NOW_MS - t), (long long)ms);
}

static void
refused(const char *s)
{
	int64_t t = 0;

	if (cli_parse_time(s, NOW_MS, &t) != -1)
		fail_msg("\"%s\" taken, as %lld ms back", s,
		         (long long)(NOW_MS - t));
}

static void
test_short_forms(void **state)
{
	(void)state;
	ago("90s", 90000);
	ago("1h", 3600000);
	ago("10m", 600000);
	ago("3d", 3 * 86400000LL);
	ago("1w", 604800000LL);
	ago("0s", 0);
}

static void
test_spelt_out(void **state)
{
	(void)state;
	ago("1 hour", 3600000);
	ago("2 hours", 7200000);
	ago("30 min", 1800000);
	ago("30 mins", 1800000);
	ago("30 minutes", 1800000);
	ago("2 days", 2 * 86400000LL);
	ago("1 day", 86400000LL);
	ago("90 sec", 90000);
	ago("90 seconds", 90000);
	ago("1 week", 604800000LL);
	ago("3hr", 3 * 3600000LL);
	ago("1 Hour", 3600000);
	ago("2 days ago", 2 * 86400000LL);
	ago("15m ago", 900000);
}

static void
test_other_forms_still_taken(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(cli_parse_time("now", NOW_MS, &t), 0);
	assert_true(t == NOW_MS);
	assert_int_equal(cli_parse_time("today", NOW_MS, &t), 0);
	assert_true(t <= NOW_MS && t > NOW_MS - 86400000LL - 3600000);
	assert_int_equal(cli_parse_time("12:30", NOW_MS, &t), 0);
	assert_int_equal(cli_parse_time("2026-12-01T10:00:00Z", NOW_MS, &t), 0);
	assert_true(t == INT64_C(1796119200000));
}

static void
test_refused(void **state)
{
	(void)state;
	refused("");
	refused("30");      /* no unit */
	refused("1 hourz"); /* no such unit */
	refused("1 fortnight");
	refused("hour"); /* no number */
	refused("1 hour later");
	refused("1 h 30 m");
	refused("-1h");
	refused("99999999999999999999h");
	refused("999999999 weeks"); /* before 1970 */
	refused("1.5h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short_forms),
	    cmocka_unit_test(test_spelt_out),
	    cmocka_unit_test(test_other_forms_still_taken),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
