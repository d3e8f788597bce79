/*
 * json.c - JSON strings for the --json output of the tollgate command.
 *
 * RFC 8259: '"' and '\' escaped, control bytes as \uXXXX (with the short
 * forms for \n, \r, \t), everything else as UTF-8.  Paths and notes are
 * bytes, not necessarily UTF-8: a byte that does not start a valid,
 * shortest-form sequence is written as U+FFFD, so the output always
 * parses.
 */
#include <stdio.h>

#include "cli/cli.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when not valid. */
static int
utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
cli_json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	putc('"', out);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			putc('\\', out);
			putc(*s++, out);
		} else if (*s == '\n') {
			fputs("\\n", out);
			s++;
		} else if (*s == '\r') {
			fputs("\\r", out);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", out);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s++);
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\\ufffd", out);
			s++;
		} else {
			fwrite(s, 1, (size_t)n, out);
			s += n;
		}
	}
	putc('"', out);
}
