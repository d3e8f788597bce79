/*
 * fuzz_list.c - the list reader on arbitrary bytes: it never crashes; fed
 * in two pieces (split where the first byte says) it gives what one read
 * gives, the same names or the same error; and every name it keeps is
 * normalised and kept once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/name.h"
#include "rules/list.h"
#include "rules/rule.h"

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_list: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct rules_list_reader *rd;
	struct rules_list *whole, *split;
	char err1[256] = "", err2[256] = "", norm[NAME_MAX_LEN + 1];
	const char *const *a, *const *b;
	size_t cut, i;

	whole = rules_list_read_buf(buf, size, err1, sizeof(err1));
	cut = size > 0 ? data[0] % (size + 1) : 0;
	if ((rd = rules_list_reader_new()) == NULL)
		fuzz_fail("out of memory");
	split = NULL;
	if (rules_list_reader_feed(rd, buf, cut, err2, sizeof(err2)) == 0 &&
	    rules_list_reader_feed(rd, buf + cut, size - cut, err2,
	                           sizeof(err2)) == 0)
		split = rules_list_reader_finish(rd, err2, sizeof(err2));
	rules_list_reader_free(rd);

	if ((whole == NULL) != (split == NULL))
		fuzz_fail("one read and two feeds disagree");
	if (whole == NULL) {
		if (strcmp(err1, err2) != 0)
			fuzz_fail("one read and two feeds fail differently");
		return 0;
	}
	if (rules_list_count(whole) != rules_list_count(split))
		fuzz_fail("one read and two feeds count differently");
	a = rules_list_names(whole);
	b = rules_list_names(split);
	for (i = 0; i < rules_list_count(whole); i++) {
		if (strcmp(a[i], b[i]) != 0)
			fuzz_fail("one read and two feeds name differently");
		if (rule_parse_name(norm, a[i], err1, sizeof(err1)) == -1 ||
		    strcmp(norm, a[i]) != 0)
			fuzz_fail("a name kept is not normalised");
		if (rules_list_add(whole, a[i], err1, sizeof(err1)) != 0)
			fuzz_fail("a name kept twice");
	}
	rules_list_free(whole);
	rules_list_free(split);
	return 0;
}
