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
#include "common/utf8.h"

void
cli_json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;
	size_t n;

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
		} else if ((n = utf8_decode(s, &cp)) == 0) {
			fputs("\\ufffd", out);
			s++;
		} else {
			fwrite(s, 1, n, out);
			s += n;
		}
	}
	putc('"', out);
}
