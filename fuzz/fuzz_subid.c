/*
 * fuzz_subid.c - the /etc/subuid line parser (common/subid.h) on arbitrary
 * bytes: it never crashes or reads past the input; every line it reads is
 * whole (ends in '\n', or at the end of input); fed in growing prefixes, as
 * a reader does byte by byte, it cuts and judges the lines as one read
 * does; and a range it accepts is sound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/subid.h"

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_subid: %s\n", what);
	abort();
}

static void
fuzz_check(const struct subid_line *l)
{
	size_t i, n;

	if (l->kind != SUBID_RANGE)
		return;
	n = strlen(l->owner);
	if (n == 0 || n > SUBID_OWNER_MAX)
		fuzz_fail("an accepted owner of a bad length");
	for (i = 0; i < n; i++)
		if ((unsigned char)l->owner[i] <= ' ' || l->owner[i] == ':')
			fuzz_fail("an accepted owner holds a blank or ':'");
	if (l->first > l->last || l->last == UINT32_MAX)
		fuzz_fail("an accepted range is not sound");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct subid_line whole, part;
	size_t off, used, have, got;

	for (off = 0; off < size; off += used) {
		used = subid_parse_line(buf + off, size - off, true, &whole);
		if (used == 0 || used > size - off)
			fuzz_fail("a line of no length, or past the input");
		if (off + used < size && buf[off + used - 1] != '\n')
			fuzz_fail("a line that does not end in a newline");
		fuzz_check(&whole);
		/* The same line, its bytes arriving one at a time. */
		for (have = 1; have <= used; have++) {
			got = subid_parse_line(buf + off, have,
			                       off + have == size, &part);
			if (got != 0)
				break;
		}
		if (got != used || part.kind != whole.kind ||
		    (whole.kind == SUBID_RANGE &&
		     (strcmp(part.owner, whole.owner) != 0 ||
		      part.first != whole.first || part.last != whole.last)))
			fuzz_fail("byte by byte and one read disagree");
	}
	return 0;
}
