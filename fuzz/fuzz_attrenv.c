/*
 * fuzz_attrenv.c - the environment scanner on arbitrary bytes.
 *
 * The first byte picks where the rest is cut in two; the scanner must
 * answer the same fed whole, in those two pieces and byte by byte, and
 * the same as a plain reading of the strings: some NUL-separated string
 * starts with LD_PRELOAD=, LD_LIBRARY_PATH= or LD_AUDIT= and has a byte
 * after the '='.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyd/attrenv.h"

static bool
fuzz_plain(const uint8_t *b, size_t n)
{
	static const char *const names[] = {
	    "LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_AUDIT="};
	size_t start = 0, end, k, nl;

	while (start < n) {
		for (end = start; end < n && b[end] != '\0'; end++)
			;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			nl = strlen(names[k]);
			if (end - start > nl &&
			    memcmp(b + start, names[k], nl) == 0)
				return true;
		}
		start = end + 1;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attrenv whole, two, bytes;
	size_t cut, i;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	attrenv_init(&whole);
	attrenv_feed(&whole, data, size);
	attrenv_init(&two);
	attrenv_feed(&two, data, cut);
	attrenv_feed(&two, data + cut, size - cut);
	attrenv_init(&bytes);
	for (i = 0; i < size; i++)
		attrenv_feed(&bytes, data + i, 1);
	if (attrenv_found(&whole) != attrenv_found(&two) ||
	    attrenv_found(&whole) != attrenv_found(&bytes) ||
	    attrenv_found(&whole) != fuzz_plain(data, size))
		abort();
	return 0;
}
