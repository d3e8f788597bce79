/*
 * fuzz_ctl.c - the control protocol's parsers (common/ctl.h) on arbitrary
 * bytes, as a client of the control socket may send them.  Promises:
 *   - ctl_req_parse() either gives a request of a known verb with the
 *     fields its verb needs, or an error with a code and a message; it
 *     never reads past the line and leaves nothing to free on error;
 *   - a line ctl_split() accepts has words that, written again with
 *     ctl_put_word()/ctl_put_kv(), split back to the same words;
 *   - ctl_reply_parse() is as careful with the daemon's side.
 * A broken promise aborts with the reason, which libFuzzer reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"

static void
fuzz_fail(const char *what, size_t len)
{
	fprintf(stderr, "ctl contract broken at %zu bytes: %s\n", len, what);
	abort();
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	struct ctl_req req;
	enum ctl_code code = (enum ctl_code) - 1;
	char err[CTL_ERRLEN];

	err[0] = '\0';
	if (ctl_req_parse((const char *)data, size, &req, &code, err,
	                  sizeof(err)) == -1) {
		if (req.buf != NULL)
			fuzz_fail("buffer kept after an error", size);
		if (code != CTL_E_USAGE && code != CTL_E_TOOLONG &&
		    code != CTL_E_INTERNAL)
			fuzz_fail("error without a request's code", size);
		if (err[0] == '\0')
			fuzz_fail("error without a message", size);
		return;
	}
	switch (req.verb) {
	case CTL_RULE_DEL:
	case CTL_RULE_ENABLE:
	case CTL_RULE_DISABLE:
		if (req.id <= 0)
			fuzz_fail("rule id not positive", size);
		break;
	case CTL_RULE_EDIT:
		if (req.id <= 0)
			fuzz_fail("rule id not positive", size);
		/* FALLTHROUGH */
	case CTL_RULE_ADD:
		if (req.fields == NULL || req.fields[0] == '\0' ||
		    req.fields[0] == ' ')
			fuzz_fail("rule verb without its fields", size);
		if (strlen(req.fields) > size)
			fuzz_fail("fields longer than the line", size);
		break;
	case CTL_IMPORT:
		if (req.n > CTL_IMPORT_LINES_MAX)
			fuzz_fail("IMPORT over the limit accepted", size);
		break;
	case CTL_STATUS:
	case CTL_RELOAD:
		break;
	default:
		fuzz_fail("unknown verb accepted", size);
	}
	ctl_req_free(&req);
}

static void
fuzz_words(const uint8_t *data, size_t size)
{
	struct ctl_word a[CTL_WORDS_MAX], b[CTL_WORDS_MAX];
	char *line, *again, err[CTL_ERRLEN];
	struct ctl_line l;
	size_t cap = 4 * size + 64, i;
	int n, m;

	if (size > 4096)
		return;
	line = malloc(size + 1);
	again = malloc(cap);
	if (line == NULL || again == NULL)
		goto out;
	memcpy(line, data, size);
	n = ctl_split(line, size, a, CTL_WORDS_MAX, err, sizeof(err));
	if (n == -1)
		goto out;
	ctl_line_init(&l, again, cap);
	for (i = 0; i < (size_t)n; i++) {
		if (a[i].key != NULL && a[i].key[0] == '\0')
			fuzz_fail("empty key", size);
		if (a[i].key != NULL)
			ctl_put_kv(&l, a[i].key, a[i].value);
		else
			ctl_put_word(&l, a[i].value);
	}
	if (l.over)
		fuzz_fail("words do not fit four times their line", size);
	m = ctl_split(again, l.len, b, CTL_WORDS_MAX, err, sizeof(err));
	if (m != n)
		fuzz_fail("written words split differently", size);
	for (i = 0; i < (size_t)n; i++) {
		if ((a[i].key == NULL) != (b[i].key == NULL) ||
		    (a[i].key != NULL && strcmp(a[i].key, b[i].key) != 0) ||
		    strcmp(a[i].value, b[i].value) != 0)
			fuzz_fail("a word changed on the round trip", size);
	}
out:
	free(line);
	free(again);
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
	struct ctl_reply rep;
	char err[CTL_ERRLEN];
	size_t i;

	if (ctl_reply_parse((const char *)data, size, &rep, err, sizeof(err)) ==
	    -1) {
		if (rep.buf != NULL)
			fuzz_fail("reply buffer kept after an error", size);
		return;
	}
	if (rep.ok) {
		for (i = 0; i < rep.n; i++)
			if (rep.kv[i].key == NULL ||
			    ctl_reply_get(&rep, rep.kv[i].key) == NULL)
				fuzz_fail("OK word without its key", size);
	} else if (rep.codestr[0] == '\0' ||
	           memchr(rep.msg, '\0', sizeof(rep.msg)) == NULL)
		fuzz_fail("ERR without a code or message", size);
	ctl_reply_free(&rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_words(data, size);
	fuzz_reply(data, size);
	return 0;
}
