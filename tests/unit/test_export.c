/*
 * test_export.c - the export text (rules/export.h): what "tollgate rules
 * export" writes, "tollgate rules import" and IMPORT read back to the same
 * rules and lists; every bad line fails the whole read and is named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/export.h"
#include "rules/rule.h"

static int
read_text(const char *text, struct rules_set *set, size_t *n_rules,
          size_t *n_names, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(f);
	rules_set_init(set);
	rc = export_read_file(f, set, n_rules, n_names, err, errlen);
	fclose(f);
	return rc;
}

static void
test_read(void **state)
{
	struct rules_set set;
	size_t n_rules, n_names;
	char err[EXPORT_ERRLEN];

	assert_int_equal(
	    read_text("# tollgate rules v1\r\n"
	              "\n"
	              "# blocked ads\n"
	              "rule id=4 app=* dest=list:ads action=deny\n"
	              "list ads ads.example.com\n"
	              "list ads\tTracker.Example.\n"
	              "list ads ads.example.com\n"
	              "rule id=7 app=/usr/bin/curl dest=*.example.com "
	              "port=443 proto=tcp action=allow note=\"work proxy\"\n"
	              "rule app=* dest=list:ads action=reject uid=1000\n",
	              &set, &n_rules, &n_names, err, sizeof(err)),
	    0);
	assert_int_equal(n_rules, 3);
	assert_int_equal(n_names, 2); /* duplicates folded, names normalised */
	assert_int_equal(set.n_rules, 3);
	assert_int_equal(set.rules[0].dest_kind, DEST_LIST);
	assert_int_equal(set.lists[0].n, 2);
	assert_string_equal(set.lists[0].names[1], "tracker.example");
	assert_string_equal(set.rules[1].note, "work proxy");
	assert_int_equal(set.rules[1].port_lo, 443);
	/* Both rules naming the list get its names. */
	assert_int_equal(set.lists[2].n, 2);
	rules_set_free(&set);
}

static void
test_bad_texts(void **state)
{
	static const struct {
		const char *text;
		const char *says;
	} bad[] = {
	    {"", "empty"},
	    {"rule app=* action=deny\n", "line 1: not tollgate export text"},
	    {"# tollgate rules v2\n", "line 1: \"# tollgate rules v2\" is from "
	                              "a newer tollgate"},
	    {"# tollgate rules v1\nrule app=* colour=red\n", "line 2: colour"},
	    {"# tollgate rules v1\nallow everything\n", "line 2: expected"},
	    {"# tollgate rules v1\nlist ads\n", "line 2: expected \"list NAME"},
	    {"# tollgate rules v1\nlist ads a.example b.example\n",
	     "line 2: expected \"list NAME"},
	    {"# tollgate rules v1\nlist a/b x.example\n", "line 2: list name"},
	    {"# tollgate rules v1\nlist ads not..valid\n", "line 2: list ads"},
	    {"# tollgate rules v1\nlist ads x.example\n",
	     "list ads: no rule has dest=list:ads"},
	    {"# tollgate rules v1\nrule app=* action=deny via=mail\n",
	     "line 2: via: only goes with action=allow"},
	    {"# tollgate rules v1\nrule action=allow via=MAIL\n",
	     "line 2: via: \"MAIL\" is not direct, upstream or an upstream "
	     "NAME"},
	};
	struct rules_set set;
	size_t n_rules, n_names, i;
	char err[EXPORT_ERRLEN];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(read_text(bad[i].text, &set, &n_rules,
		                           &n_names, err, sizeof(err)),
		                 -1);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("text %zu: \"%s\" does not say \"%s\"", i, err,
			         bad[i].says);
		assert_int_equal(set.n_rules, 0);
	}
}

static void
test_round_trip(void **state)
{
	const char *names[] = {"a.example", "b.example", "xn--caf-dma.example"};
	struct rules_set set, back;
	struct rule r;
	char err[EXPORT_ERRLEN], *text = NULL;
	size_t len = 0, n_rules, n_names, i;
	FILE *m;

	rules_set_init(&set);
	rule_init(&r);
	assert_int_equal(rule_parse_app(&r, "/usr/bin/curl", err, sizeof(err)),
	                 0);
	assert_int_equal(rule_parse_dest(&r, "192.0.2.0/24", err, sizeof(err)),
	                 0);
	r.id = 3;
	r.action = ACTION_ALLOW;
	r.priority = -5;
	r.enabled = false;
	r.created = 1764000000;
	r.hits = 42;
	snprintf(r.note, sizeof(r.note), "say \"hi\"\\ \x01");
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);
	rule_init(&r);
	assert_int_equal(rule_parse_dest(&r, "list:block", err, sizeof(err)),
	                 0);
	assert_int_equal(rules_set_add(&set, &r, names, 3, err, sizeof(err)),
	                 0);

	m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(export_write(m, &set), 1 + 2 + 3);
	fclose(m);
	assert_true(strncmp(text, EXPORT_HEADER "\n", 20) == 0);
	assert_true(export_is_export(text, len));

	assert_int_equal(
	    read_text(text, &back, &n_rules, &n_names, err, sizeof(err)), 0);
	assert_int_equal(n_rules, 2);
	assert_int_equal(n_names, 3);
	for (i = 0; i < 2; i++)
		assert_true(rule_equal(&set.rules[i], &back.rules[i]));
	assert_int_equal(back.lists[1].n, 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(back.lists[1].names[i], names[i]);
	rules_set_free(&back);
	rules_set_free(&set);
	free(text);
}

/* A rule's route goes out and comes back; a rule without one is
 * written as before. */
static void
test_via_round_trip(void **state)
{
	const char *names[] = {"lists.debian.org", "deb.debian.org"};
	struct rules_set set, back;
	struct rule r;
	char err[EXPORT_ERRLEN], *text = NULL;
	size_t len = 0, n_rules, n_names, i;
	FILE *m;

	rules_set_init(&set);
	rule_init(&r);
	r.id = 1;
	r.action = ACTION_ALLOW;
	assert_int_equal(
	    rule_parse_dest(&r, "*.mail.example", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_via(&r, "mail", err, sizeof(err)), 0);
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);
	rule_init(&r);
	r.id = 2;
	r.action = ACTION_ALLOW;
	assert_int_equal(rule_parse_dest(&r, "list:apt", err, sizeof(err)), 0);
	assert_int_equal(rule_parse_via(&r, "direct", err, sizeof(err)), 0);
	assert_int_equal(rules_set_add(&set, &r, names, 2, err, sizeof(err)),
	                 0);
	rule_init(&r);
	r.id = 3;
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);

	m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(export_write(m, &set), 1 + 3 + 2);
	fclose(m);
	assert_non_null(strstr(text,
	                       "\nrule id=1 app=* uid=any "
	                       "dest=*.mail.example port=any proto=any "
	                       "action=allow via=mail duration=forever "));
	assert_non_null(strstr(text, " dest=list:apt port=any proto=any "
	                             "action=allow via=direct duration="));
	assert_non_null(strstr(text, "\nrule id=3 app=* uid=any dest=* "
	                             "port=any proto=any action=deny "
	                             "duration=forever "));
	assert_int_equal(
	    read_text(text, &back, &n_rules, &n_names, err, sizeof(err)), 0);
	assert_int_equal(n_rules, 3);
	for (i = 0; i < 3; i++)
		assert_true(rule_equal(&set.rules[i], &back.rules[i]));
	assert_string_equal(back.rules[0].via, "mail");
	assert_string_equal(back.rules[1].via, "direct");
	assert_string_equal(back.rules[2].via, "");
	rules_set_free(&back);
	rules_set_free(&set);
	free(text);
}

static void
test_streaming_and_limits(void **state)
{
	struct export_reader *rd = export_reader_new();
	struct rules_set set;
	size_t n_rules, n_names;
	char err[EXPORT_ERRLEN], *big;

	assert_non_null(rd);
	assert_int_equal(
	    export_reader_line(rd, EXPORT_HEADER, 19, err, sizeof(err)), 0);
	/* A line with a NUL in it is refused, not cut short. */
	assert_int_equal(
	    export_reader_line(rd, "rule app=*\0x", 12, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: NUL"));
	/* After an error the reader takes nothing more. */
	assert_int_equal(export_reader_line(rd, "# ok", 4, err, sizeof(err)),
	                 -1);
	rules_set_init(&set);
	assert_int_equal(export_reader_finish(rd, &set, &n_rules, &n_names, err,
	                                      sizeof(err)),
	                 -1);
	export_reader_free(rd);

	rd = export_reader_new();
	big = malloc(RULE_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', RULE_LINE_MAX + 1);
	assert_int_equal(
	    export_reader_line(rd, EXPORT_HEADER, 19, err, sizeof(err)), 0);
	assert_int_equal(
	    export_reader_line(rd, big, RULE_LINE_MAX + 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
	export_reader_free(rd);
}

/* A system of two users, for the users by name. */
static const char *
two_names(uid_t uid, char *buf, size_t len)
{
	if (uid != 1001 && uid != 1002)
		return NULL; /* a subordinate uid: no name */
	snprintf(buf, len, "%s", uid == 1001 ? "alice" : "bob");
	return buf;
}

static int
two_uids(const char *name, uid_t *uid)
{
	if (strcmp(name, "alice") == 0 || strcmp(name, "bob") == 0) {
		*uid = name[0] == 'a' ? 1001 : 1002;
		return 0;
	}
	return -1;
}

static const struct rule_users two_users = {two_names, two_uids};

/* Export text for people names users; it reads back to the same uids,
 * old text with numbers still reads, and an unknown user is named with
 * its line. */
static void
test_users_by_name(void **state)
{
	struct rules_set set, back;
	size_t n_rules, n_names;
	char err[EXPORT_ERRLEN], *text = NULL;
	const char *bad = "# tollgate rules v1\n"
	                  "rule app=* dest=a.test action=deny uid=alice\n"
	                  "rule app=* dest=b.test action=deny uid=carol\n";
	size_t len = 0;
	struct rule r;
	FILE *m;

	(void)state;
	rules_set_init(&set);
	rule_init(&r);
	assert_int_equal(rule_parse_line(&r,
	                                 "rule app=* dest=a.test "
	                                 "action=deny uid=1001",
	                                 err, sizeof(err)),
	                 0);
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);
	r.uid = 100000;
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);
	m = open_memstream(&text, &len);
	assert_non_null(m);
	assert_int_equal(export_write_users(m, &set, &two_users), 3);
	fclose(m);
	assert_non_null(strstr(text, " uid=alice "));
	assert_non_null(strstr(text, " uid=100000 "));
	assert_null(strstr(text, "uid=1001"));

	m = fmemopen(text, len, "r");
	rules_set_init(&back);
	assert_int_equal(export_read_file_users(m, &two_users, &back, &n_rules,
	                                        &n_names, err, sizeof(err)),
	                 0);
	fclose(m);
	assert_int_equal(back.n_rules, 2);
	assert_true(back.rules[0].has_uid && back.rules[0].uid == 1001);
	assert_true(back.rules[1].has_uid && back.rules[1].uid == 100000);
	rules_set_free(&back);

	/* Without users, a name is not a uid (the control socket's IMPORT). */
	assert_int_equal(
	    read_text(text, &back, &n_rules, &n_names, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2: uid"));
	rules_set_free(&back);

	m = fmemopen((void *)bad, strlen(bad), "r");
	rules_set_init(&back);
	assert_int_equal(export_read_file_users(m, &two_users, &back, &n_rules,
	                                        &n_names, err, sizeof(err)),
	                 -1);
	fclose(m);
	assert_string_equal(err, "line 3: uid: no user \"carol\"");
	rules_set_free(&back);
	free(text);
	rules_set_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_bad_texts),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_via_round_trip),
	    cmocka_unit_test(test_streaming_and_limits),
	    cmocka_unit_test(test_users_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
