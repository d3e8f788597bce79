/*
 * fuzz_rule_line.c - rule_parse_line() on arbitrary bytes: it never
 * crashes, and whatever it accepts comes back the same through
 * rule_format() and rule_parse_line() again, in a RULE_LINE_MAX buffer.
 * The first bytes up to a newline, if any, also go through the parsers a
 * user types into (dest, port, duration).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rule.h"

#define FUZZ_NOW ((time_t)1795867200)

static void
fuzz_fail(const char *what, const char *line)
{
	fprintf(stderr, "fuzz_rule_line: %s\n  %s\n", what, line);
	abort();
}

/* A typed part: when it parses, the rule it makes round-trips too. */
static void
fuzz_typed(const char *s, struct rule *r, struct rule *back, char *line)
{
	char err[256];

	rule_init(r);
	if (rule_parse_dest(r, s, err, sizeof(err)) == 0 ||
	    rule_parse_port(r, s, err, sizeof(err)) == 0 ||
	    rule_parse_duration(r, s, FUZZ_NOW, err, sizeof(err)) == 0 ||
	    rule_parse_app(r, s, err, sizeof(err)) == 0) {
		rule_format(r, line, RULE_LINE_MAX);
		if (rule_parse_line(back, line, err, sizeof(err)) == -1)
			fuzz_fail(err, line);
		if (!rule_equal(r, back))
			fuzz_fail("the round trip changed a typed rule", line);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rule r, back;
	static char line[RULE_LINE_MAX];
	char err[256], *in, *nl;

	if (size > 2 * RULE_LINE_MAX)
		return 0;
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (rule_parse_line(&r, in, err, sizeof(err)) == 0) {
		rule_format(&r, line, sizeof(line));
		if (strlen(line) >= sizeof(line) - 1)
			fuzz_fail("rule_format() filled its buffer", in);
		if (rule_parse_line(&back, line, err, sizeof(err)) == -1)
			fuzz_fail(err, line);
		if (!rule_equal(&r, &back))
			fuzz_fail("the round trip changed the rule", line);
	}
	if ((nl = strchr(in, '\n')) != NULL) {
		*nl = '\0';
		fuzz_typed(in, &r, &back, line);
	}
	free(in);
	return 0;
}
