/*
 * fuzz_peek_http.c - the HTTP peek on arbitrary bytes: the contract of
 * peek.h holds on the input and on prefixes of it, peek_name() routes
 * upper-case starts to peek_http(), and a name found is in normal form.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_peek.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peek_info a, b;
	enum peek_result ra, rb;

	fuzz_check_prefixes(peek_http, data, size);
	fuzz_check_prefixes(peek_name, data, size);
	ra = fuzz_peek(peek_http, data, size, &a);
	rb = fuzz_peek(peek_name, data, size, &b);
	if (size > 0 && data[0] >= 'A' && data[0] <= 'Z' &&
	    !fuzz_same(ra, &a, rb, &b))
		fuzz_fail("peek_name() and peek_http() disagree", size);
	if (ra == PEEK_DONE && a.source == NAME_HTTP &&
	    strcmp(a.proto, "http") != 0)
		fuzz_fail("a Host name outside HTTP", size);
	return 0;
}
