/*
 * test_cli_values.c - the values the tollgate command's options take
 * (cli/values.h): a time back from now in every spelling a user types
 * ("1h", "90s", "1 hour", "30 min", "2 days ago"), and what is refused;
 * and what --app NAME means (cli/apps.h): the guarded users' PATH from
 * login.defs, a command found in it and not in another, and a filter's
 * name matching what the tables show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/apps.h"
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

static void
test_login_path(void **state)
{
	char out[APPS_PATH_MAX];

	(void)state;
	assert_int_equal(apps_login_path("# ENV_PATH PATH=/no\n"
	                                 "ENV_SUPATH\tPATH=/sbin:/bin\n"
	                                 "ENV_PATH\tPATH=/usr/local/bin:"
	                                 "/usr/bin:/bin:/usr/games\n",
	                                 out, sizeof(out)),
	                 1);
	assert_string_equal(out, "/usr/local/bin:/usr/bin:/bin:/usr/games");
	assert_int_equal(
	    apps_login_path("  ENV_PATH /opt/bin:/bin  \r\n", out, sizeof(out)),
	    1);
	assert_string_equal(out, "/opt/bin:/bin");
	/* None: Debian's default. */
	assert_int_equal(
	    apps_login_path("ENV_PATHS /x\nUMASK 022\n", out, sizeof(out)), 0);
	assert_string_equal(out, APPS_USER_PATH);
	assert_int_equal(
	    apps_login_path("ENV_PATH /a-rather-long-path\n", out, 8), -1);
}

/* A command is found in the PATH given, the first executable file of
 * that name; a directory, a file without x, a relative entry are not. */
static void
test_find(void **state)
{
	char dir[] = "/tmp/test_cli_apps.XXXXXX", p[256], path[1024];
	char out[512];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/b", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/tool", dir); /* not executable */
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(chmod(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/a/sub", dir); /* a directory */
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/b/tool", dir);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(chmod(p, 0755), 0);

	snprintf(path, sizeof(path), "relative::%s/a:%s/b", dir, dir);
	assert_int_equal(apps_find("tool", path, out, sizeof(out)), 0);
	snprintf(p, sizeof(p), "%s/b/tool", dir);
	assert_string_equal(out, p);
	assert_int_equal(apps_find("sub", path, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	snprintf(path, sizeof(path), "%s/a", dir);
	assert_int_equal(apps_find("tool", path, out, sizeof(out)), -1);

	snprintf(p, sizeof(p), "%s/b/tool", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/tool", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/sub", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/b", dir);
	rmdir(p);
	rmdir(dir);
}

static void
test_match(void **state)
{
	(void)state;
	/* A name: the app's last component, or that of what it runs. */
	assert_true(apps_match("/usr/bin/python3.11", "python3.11", NULL));
	assert_true(apps_match("/usr/bin/python3.11", "python3",
	                       "/usr/bin/python3.11"));
	assert_true(apps_match("/opt/py/bin/python3.11", "python3",
	                       "/usr/bin/python3.11"));
	assert_false(apps_match("/usr/bin/python3.11", "python3", ""));
	assert_false(apps_match("/usr/bin/python3.11", "python", NULL));
	assert_true(apps_match("/usr/bin/curl", "curl", NULL));
	/* A path: that path, or its real one. */
	assert_true(apps_match("/usr/bin/curl", "/usr/bin/curl", ""));
	assert_true(apps_match("/usr/bin/python3.11", "/usr/bin/python3",
	                       "/usr/bin/python3.11"));
	assert_false(apps_match("/usr/local/bin/curl", "/usr/bin/curl", ""));
	assert_false(apps_match("*", "curl", NULL));
	assert_string_equal(apps_base("/usr/bin/curl"), "curl");
	assert_string_equal(apps_base("curl"), "curl");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short_forms),
	    cmocka_unit_test(test_spelt_out),
	    cmocka_unit_test(test_other_forms_still_taken),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_login_path),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
