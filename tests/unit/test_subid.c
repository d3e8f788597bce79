/*
 * test_subid.c - the subordinate id files (common/subid.h) fed hostile
 * lines, whole and one byte at a time; and guard_users with "* except",
 * config_uid_guarded() over users, ranges and exemptions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/log.h"
#include "common/subid.h"

/* Write text to a temporary file; returns its path (static buffer). */
static const char *
tmp_file(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/tg-test-subid-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (int)len);
	close(fd);
	return path;
}

/* Parse one line given whole (with eof as said). */
static enum subid_kind
kind_of(const char *text, size_t len, struct subid_line *out)
{
	size_t used = subid_parse_line(text, len, true, out);

	assert_int_equal(used, len);
	return out->kind;
}

static void
test_valid_lines(void **state)
{
	struct subid_line l;

	assert_int_equal(kind_of("alice:100000:65536\n", 19, &l), SUBID_RANGE);
	assert_string_equal(l.owner, "alice");
	assert_int_equal(l.first, 100000);
	assert_int_equal(l.last, 165535);
	/* A uid as owner; the last line may lack its newline. */
	assert_int_equal(kind_of("1001:5:1", 8, &l), SUBID_RANGE);
	assert_string_equal(l.owner, "1001");
	assert_int_equal(l.first, 5);
	assert_int_equal(l.last, 5);
	/* The highest range that ends below 4294967295. */
	assert_int_equal(kind_of("u:4294967294:1\n", 15, &l), SUBID_RANGE);
	assert_int_equal(l.last, 4294967294u);
	assert_int_equal(kind_of("\n", 1, &l), SUBID_BLANK);
	assert_int_equal(kind_of("  \t\n", 4, &l), SUBID_BLANK);
}

static void
test_hostile_lines(void **state)
{
	static const char *const bad[] = {
	    "alice\n",                       /* no fields */
	    "alice:100000\n",                /* no count */
	    ":100000:65536\n",               /* no owner */
	    "alice::65536\n",                /* no start */
	    "alice:100000:\n",               /* empty count */
	    "alice:100000:0\n",              /* count 0 */
	    "alice:-1:10\n",                 /* a sign */
	    "alice:+1:10\n",                 /* a sign */
	    "alice: 100000:10\n",            /* a blank in a number */
	    "alice:100000:10 \n",            /* a trailing blank */
	    "alice:100000:10:x\n",           /* a fourth field */
	    "alice:0x10:10\n",               /* hex */
	    "alice:4294967296:1\n",          /* start beyond 32 bits */
	    "alice:4294967295:1\n",          /* the "no id" */
	    "alice:4294967290:6\n",          /* ends on it */
	    "alice:4294967290:4294967295\n", /* wraps */
	    "alice:99999999999:1\n",         /* eleven digits */
	    "al ice:1:1\n",                  /* a blank in the owner */
	    "al\x01ice:1:1\n",               /* a control byte */
	    "alice:1:1\r\n",                 /* a CR */
	    "#alice:1:1x\n",                 /* junk after the count */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ":1:1\n", /* owner of 65 bytes */
	};
	struct subid_line l;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kind_of(bad[i], strlen(bad[i]), &l) != SUBID_INVALID)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* A NUL inside the line. */
	assert_int_equal(kind_of("ali\0e:1:1\n", 10, &l), SUBID_INVALID);
}

/* A whole file fed one byte at a time reads as when fed all at once. */
static void
test_byte_at_a_time(void **state)
{
	static const char text[] = "alice:100000:65536\n"
	                           "junk\n"
	                           "\n"
	                           "bob:200000:10\n"
	                           "1001:300000:5";
	const size_t len = sizeof(text) - 1;
	enum subid_kind whole[8], bytes[8];
	struct subid_line l;
	size_t off, used, n_whole = 0, n_bytes = 0, have, start;

	for (off = 0; off < len; off += used) {
		used = subid_parse_line(text + off, len - off, true, &l);
		assert_true(used > 0);
		whole[n_whole++] = l.kind;
	}
	/* Bytes arrive one by one: need more until a newline or the end. */
	for (start = 0, have = 1; start < len; have++) {
		bool eof = start + have == len;

		used = subid_parse_line(text + start, have, eof, &l);
		if (used == 0) {
			assert_false(eof);
			continue;
		}
		assert_int_equal(used, have);
		bytes[n_bytes++] = l.kind;
		start += used;
		have = 0;
	}
	assert_int_equal(n_whole, 5);
	assert_int_equal(n_bytes, n_whole);
	assert_memory_equal(whole, bytes, n_whole * sizeof(whole[0]));
	assert_int_equal(whole[0], SUBID_RANGE);
	assert_int_equal(whole[1], SUBID_INVALID);
	assert_int_equal(whole[2], SUBID_BLANK);
	assert_int_equal(whole[4], SUBID_RANGE);
	/* No newline and no eof: need more; nothing at eof: nothing. */
	assert_int_equal(subid_parse_line("alice:1:1", 9, false, &l), 0);
	assert_int_equal(subid_parse_line("", 0, true, &l), 0);
}

static void
test_load_picks_owners(void **state)
{
	static const char text[] = "1001:100000:65536\n"
	                           "1002:200000:65536\n"
	                           "garbage line\n"
	                           "root:300000:10\n"
	                           "1001:400000:10\n";
	const uid_t uids[] = {1001, 0};
	struct subid_range r[8];
	char err[256];
	const char *path = tmp_file(text, sizeof(text) - 1);
	size_t n;

	assert_int_equal(subid_load(path, uids, 2, r, 8, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].first, 100000);
	assert_int_equal(r[0].last, 165535);
	assert_int_equal(r[0].owner, 1001);
	/* root by name */
	assert_int_equal(r[1].first, 300000);
	assert_int_equal(r[1].owner, 0);
	assert_int_equal(r[2].first, 400000);
	assert_true(subid_contains(r, n, 165535));
	assert_false(subid_contains(r, n, 165536));
	assert_false(subid_contains(r, n, 200000));

	/* More ranges than room: refused, never cut short. */
	assert_int_equal(subid_load(path, uids, 2, r, 2, &n, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "more than 2 subordinate ranges"));
	unlink(path);

	/* A missing file is no ranges. */
	assert_int_equal(subid_load("/nonexistent/subuid", uids, 2, r, 8, &n,
	                            err, sizeof(err)),
	                 0);
	assert_int_equal(n, 0);
}

static int
load_conf(struct config *cfg, const char *text, char *err, size_t errlen)
{
	const char *path = tmp_file(text, strlen(text));
	int rc;

	config_defaults(cfg);
	rc = config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

static void
test_guard_all(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));
	char err[CONFIG_ERRLEN], *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(cfg);
	assert_int_equal(load_conf(cfg, "guard_users = * except root, 1234\n",
	                           err, sizeof(err)),
	                 0);
	assert_true(cfg->guard_all);
	assert_int_equal(cfg->n_exempt, 2);
	assert_int_equal(cfg->n_guard, 0);
	cfg->user_uid_known = true;
	cfg->user_uid = 999;
	assert_false(config_uid_guarded(cfg, 0));
	assert_false(config_uid_guarded(cfg, 1234));
	assert_false(config_uid_guarded(cfg, 999)); /* tollgated's own */
	assert_true(config_uid_guarded(cfg, 1000));
	assert_true(config_uid_guarded(cfg, 100000)); /* a subordinate uid */

	f = open_memstream(&text, &len);
	assert_non_null(f);
	config_print(cfg, f);
	fclose(f);
	assert_non_null(strstr(text, "guard_users = * except root, 1234\n"));
	free(text);

	/* Root must be among the exempt; "*" alone is not enough. */
	assert_int_equal(
	    load_conf(cfg, "\nguard_users = *\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: bad value \"*\" for guard_users"));
	assert_non_null(strstr(err, "root among them"));
	assert_int_equal(
	    load_conf(cfg, "guard_users = * except 1234\n", err, sizeof(err)),
	    -1);
	assert_int_equal(
	    load_conf(cfg, "guard_users = * root\n", err, sizeof(err)), -1);
	assert_int_equal(
	    load_conf(cfg, "guard_users = * exceptroot\n", err, sizeof(err)),
	    -1);
	assert_int_equal(
	    load_conf(cfg, "guard_users = alice, *\n", err, sizeof(err)), -1);
	assert_int_equal(load_conf(cfg,
	                           "guard_users = * except root, "
	                           "no-such-user-here\n",
	                           err, sizeof(err)),
	                 -1);
	/* The list form still works, and root stays out of it. */
	assert_int_equal(
	    load_conf(cfg, "guard_users = 1001, 1002\n", err, sizeof(err)), 0);
	assert_false(cfg->guard_all);
	assert_true(config_uid_guarded(cfg, 1002));
	assert_false(config_uid_guarded(cfg, 1003));
	assert_int_equal(
	    load_conf(cfg, "guard_users = 1001, root\n", err, sizeof(err)), -1);
	free(cfg);
}

static void
test_guarded_ranges(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));
	char err[CONFIG_ERRLEN], desc[512], uidpath[64], gidpath[64];

	assert_non_null(cfg);
	assert_int_equal(
	    load_conf(cfg, "guard_users = 1001\n", err, sizeof(err)), 0);
	snprintf(uidpath, sizeof(uidpath), "%s",
	         tmp_file("1001:100000:65536\n1002:200000:10\n", 34));
	snprintf(gidpath, sizeof(gidpath), "%s",
	         tmp_file("1001:300000:10\nnope\n", 20));
	assert_int_equal(
	    config_load_subids(cfg, uidpath, gidpath, err, sizeof(err)), 0);
	assert_int_equal(cfg->n_guard_subuid, 1);
	assert_int_equal(cfg->n_guard_subgid, 1);
	assert_true(config_uid_guarded(cfg, 1001));
	assert_true(config_uid_guarded(cfg, 100000));
	assert_true(config_uid_guarded(cfg, 165535));
	assert_false(config_uid_guarded(cfg, 165536));
	assert_false(config_uid_guarded(cfg, 200000)); /* 1002's */
	config_describe_guarded(cfg, desc, sizeof(desc));
	assert_non_null(strstr(desc, "subordinate uids 100000-165535"));
	assert_non_null(strstr(desc, "subordinate gids 300000-300009"));
	unlink(uidpath);
	unlink(gidpath);
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_lines),
	    cmocka_unit_test(test_hostile_lines),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_load_picks_owners),
	    cmocka_unit_test(test_guard_all),
	    cmocka_unit_test(test_guarded_ranges),
	};

	log_init("test_subid", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
