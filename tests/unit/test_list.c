/*
 * test_list.c - a user imports a hosts file or a plain domain list for a
 * list rule: what is taken, what is skipped, and that one bad line stops
 * the whole import with its line number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/list.h"

/* The names of text, joined by ',' (static buffer), or "error: ...". */
static const char *
names_of(const char *text)
{
	static char out[4096];
	struct rules_list *l;
	const char *const *names;
	char err[256];
	size_t i, off = 0;

	l = rules_list_read_buf(text, strlen(text), err, sizeof(err));
	if (l == NULL) {
		snprintf(out, sizeof(out), "error: %s", err);
		return out;
	}
	out[0] = '\0';
	names = rules_list_names(l);
	for (i = 0; i < rules_list_count(l); i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s",
		                        i > 0 ? "," : "", names[i]);
	rules_list_free(l);
	return out;
}

static void
test_hosts_file(void **state)
{
	assert_string_equal(
	    names_of("# a hosts file\n"
	             "127.0.0.1 localhost\n"
	             "127.0.0.1\tlocalhost.localdomain local\n"
	             "255.255.255.255 broadcasthost\n"
	             "::1 localhost ip6-localhost ip6-loopback\n"
	             "fe80::1%lo0 localhost\n"
	             "ff02::1 ip6-allnodes\n"
	             "0.0.0.0 0.0.0.0\n"
	             "\n"
	             "0.0.0.0 ads.example.com tracker.example  # two\n"
	             "127.0.0.1 Metrics.Example.NET.\n"
	             "::1 v6.example\n"
	             "   0.0.0.0   indented.example   \n"),
	    "ads.example.com,tracker.example,metrics.example.net,v6.example,"
	    "indented.example");
}

static void
test_plain_list(void **state)
{
	assert_string_equal(
	    names_of("# a plain list\n"
	             "ads.example.com\n"
	             "*.wild.example\n"
	             "UPPER.example.\n"
	             "bücher.de # IDN\n"
	             "\t\n"
	             "_dmarc.example\n"),
	    "ads.example.com,wild.example,upper.example,xn--bcher-kva.de,"
	    "_dmarc.example");
}

static void
test_crlf_and_no_final_newline(void **state)
{
	assert_string_equal(names_of("a.example\r\n0.0.0.0 b.example\r\n"
	                             "c.example"),
	                    "a.example,b.example,c.example");
	assert_string_equal(names_of(""), "");
	assert_string_equal(names_of("# only a comment"), "");
}

static void
test_duplicates_are_folded(void **state)
{
	assert_string_equal(names_of("a.example\n0.0.0.0 A.example b.example\n"
	                             "a.example.\n*.a.example\nb.example\n"),
	                    "a.example,b.example");
}

static void
test_bad_line_fails_all_with_its_number(void **state)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
	    {"a.example\nb.example c.example\n",
	     "error: line 2: more than one word"},
	    {"a.example\n\n# c\nnot_a_name!\n", "error: line 4: name:"},
	    {"0.0.0.0\n", "error: line 1: an address without names"},
	    {"192.0.2.1\n", "error: line 1: an address without names"},
	    {"0.0.0.0 a.example 10.0.0.1\n", "error: line 1: name:"},
	    {"a..example\n", "error: line 1: name:"},
	    {"x.123\n", "error: line 1: name:"},
	    {"||ads.example^\n", "error: line 1: name:"},
	    {"a.example\nb.\xff.example\n", "error: line 2: name:"},
	};
	struct rules_list *l;
	char err[256];
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (strstr(names_of(cases[i].text), cases[i].says) == NULL)
			fail_msg("\"%s\": %s", cases[i].text,
			         names_of(cases[i].text));
	}
	/* The NUL case for real (strlen() stops at it above). */
	len = sizeof("a.example\nb\0.example\n") - 1;
	l = rules_list_read_buf("a.example\nb\0.example\n", len, err,
	                        sizeof(err));
	assert_null(l);
	assert_string_equal(err, "line 2: a NUL byte");
}

static void
test_long_line(void **state)
{
	char *text = malloc(RULES_LIST_LINE_MAX + 32);
	const char *got;

	assert_non_null(text);
	strcpy(text, "a.example\n# ");
	memset(text + 12, 'x', RULES_LIST_LINE_MAX - 2);
	strcpy(text + 10 + RULES_LIST_LINE_MAX, "\nb.example\n");
	/* Line 2 is RULES_LIST_LINE_MAX bytes: fine. */
	assert_string_equal(names_of(text), "a.example,b.example");
	text[10 + RULES_LIST_LINE_MAX] = 'x';
	got = names_of(text);
	assert_non_null(strstr(got, "error: line 2: longer than 4096 bytes"));
	free(text);
}

static void
test_streaming_any_split(void **state)
{
	const char *text = "# list\r\n0.0.0.0 a.example b.example\r\n"
	                   "c.example\n\nd.example";
	struct rules_list_reader *rd;
	struct rules_list *l;
	size_t i, step, len = strlen(text);
	char err[256];

	for (step = 1; step <= len; step++) {
		rd = rules_list_reader_new();
		assert_non_null(rd);
		for (i = 0; i < len; i += step)
			assert_int_equal(rules_list_reader_feed(
			                     rd, text + i,
			                     i + step > len ? len - i : step,
			                     err, sizeof(err)),
			                 0);
		l = rules_list_reader_finish(rd, err, sizeof(err));
		assert_non_null(l);
		assert_int_equal(rules_list_count(l), 4);
		assert_string_equal(rules_list_names(l)[3], "d.example");
		rules_list_free(l);
		/* Finished: the reader gave its list away. */
		assert_null(rules_list_reader_finish(rd, err, sizeof(err)));
		rules_list_reader_free(rd);
	}
}

static void
test_streaming_error_sticks(void **state)
{
	struct rules_list_reader *rd = rules_list_reader_new();
	char err[256];

	assert_non_null(rd);
	assert_int_equal(rules_list_reader_feed(rd, "a.example\nb c\n", 14, err,
	                                        sizeof(err)),
	                 -1);
	assert_string_equal(err, "line 2: more than one word; expected one "
	                         "name, or an address and names");
	err[0] = '\0';
	assert_int_equal(
	    rules_list_reader_feed(rd, "d.example\n", 10, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 2:"));
	assert_null(rules_list_reader_finish(rd, err, sizeof(err)));
	assert_non_null(strstr(err, "line 2:"));
	rules_list_reader_free(rd);
	/* A bad last line without a newline fails at finish. */
	rd = rules_list_reader_new();
	assert_non_null(rd);
	assert_int_equal(
	    rules_list_reader_feed(rd, "a.example\nb c", 13, err, sizeof(err)),
	    0);
	assert_null(rules_list_reader_finish(rd, err, sizeof(err)));
	assert_non_null(strstr(err, "line 2:"));
	rules_list_reader_free(rd);
}

static void
test_read_file(void **state)
{
	FILE *f = tmpfile();
	struct rules_list *l;
	char err[256];
	int i;

	assert_non_null(f);
	for (i = 0; i < 100000; i++)
		fprintf(f, "%sn%d.example\n", i % 2 ? "0.0.0.0 " : "",
		        i % 60000);
	rewind(f);
	l = rules_list_read_file(f, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(rules_list_count(l), 60000);
	assert_true(rules_list_contains(l, "n59999.example"));
	assert_true(rules_list_contains(l, "n0.example"));
	assert_false(rules_list_contains(l, "n60000.example"));
	assert_string_equal(rules_list_names(l)[12345], "n12345.example");
	rules_list_free(l);
	fclose(f);
}

static void
test_add(void **state)
{
	struct rules_list *l = rules_list_new();
	char err[256];

	assert_non_null(l);
	assert_false(rules_list_contains(l, "a.example"));
	assert_int_equal(rules_list_add(l, "A.example.", err, sizeof(err)), 1);
	assert_int_equal(rules_list_add(l, "a.example", err, sizeof(err)), 0);
	assert_int_equal(rules_list_add(l, "*.a.example", err, sizeof(err)), 0);
	assert_int_equal(rules_list_add(l, "a b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name:"));
	assert_int_equal(rules_list_count(l), 1);
	assert_true(rules_list_contains(l, "a.example"));
	rules_list_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_file),
	    cmocka_unit_test(test_plain_list),
	    cmocka_unit_test(test_crlf_and_no_final_newline),
	    cmocka_unit_test(test_duplicates_are_folded),
	    cmocka_unit_test(test_bad_line_fails_all_with_its_number),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_streaming_any_split),
	    cmocka_unit_test(test_streaming_error_sticks),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
