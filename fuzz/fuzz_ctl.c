/*
 * fuzz_ctl.c - the control protocol's parsers (common/ctl.h) on arbitrary
 * bytes, as a client of the control socket may send them.  Promises:
 *   - ctl_req_parse() either gives a request of a known verb with the
 *     fields its verb needs, or an error with a code and a message; it
 *     never reads past the line and leaves nothing to free on error;
 *   - a line ctl_split() accepts has words that, written again with
 *     ctl_put_word()/ctl_put_kv(), split back to the same words;
 *   - ctl_reply_parse() is as careful with the daemon's side;
 *   - ctl_prompt_parse() and ctl_withdraw_parse(), which agents and the
 *     tollgate command run on the daemon's PROMPT and WITHDRAW lines,
 *     give values within their bounds, and a prompt they read is written
 *     by ctl_prompt_put() to a line that reads back the same;
 *   - ctl_denied_parse() likewise for DENIED lines (notify_denials);
 *   - ctl_event_parse(), which the tollgate command runs on the daemon's
 *     EVENT lines, gives terminated strings, and an event it read is
 *     written by ctl_event_format() to a line that reads back the same.
 * A broken promise aborts with the reason, which libFuzzer reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_prompt.h"
#include "common/ctl_rows.h"

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
	case CTL_ANSWER:
		if (req.id <= 0)
			fuzz_fail("prompt id not positive", size);
		if (req.verdict != ACTION_ALLOW && req.verdict != ACTION_DENY &&
		    req.verdict != ACTION_REJECT)
			fuzz_fail("ANSWER with an unknown verdict", size);
		if ((unsigned)req.scope >= CTL_N_SCOPES ||
		    (unsigned)req.duration >= CTL_N_DURATIONS)
			fuzz_fail("ANSWER with an unknown scope or duration",
			          size);
		break;
	case CTL_RULE_DURATION:
		if (req.id <= 0 || req.duration_text == NULL ||
		    req.duration_text[0] == '\0')
			fuzz_fail("RULE-DURATION without id or duration", size);
		break;
	case CTL_RULES:
	case CTL_EVENTS:
		if (req.query.limit == 0 || req.query.limit > CTL_ROWS_MAX)
			fuzz_fail("a query's limit out of its bounds", size);
		break;
	case CTL_STATUS:
	case CTL_RELOAD:
	case CTL_SUBSCRIBE:
	case CTL_PROMPTS:
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

static bool
fuzz_str_ok(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* A prompt's values within their bounds, every string terminated. */
static void
fuzz_prompt_check(const struct ctl_prompt *p, size_t size)
{
	if (p->id == 0 || p->port > 65535 || p->pid < 0 ||
	    p->scopes >= 1u << CTL_N_SCOPES ||
	    p->durations >= 1u << CTL_N_DURATIONS || p->deflt < -1 ||
	    p->deflt > ACTION_REJECT)
		fuzz_fail("PROMPT value out of its bounds", size);
	if (!fuzz_str_ok(p->user, sizeof(p->user)) ||
	    !fuzz_str_ok(p->app, sizeof(p->app)) ||
	    !fuzz_str_ok(p->cmdline, sizeof(p->cmdline)) ||
	    !fuzz_str_ok(p->name, sizeof(p->name)) ||
	    !fuzz_str_ok(p->source, sizeof(p->source)) ||
	    !fuzz_str_ok(p->dst, sizeof(p->dst)) ||
	    !fuzz_str_ok(p->proto, sizeof(p->proto)) ||
	    !fuzz_str_ok(p->domain, sizeof(p->domain)))
		fuzz_fail("PROMPT string not terminated", size);
}

static void
fuzz_prompt(const uint8_t *data, size_t size)
{
	static struct ctl_prompt p, q;
	static char line[CTL_LINE_MAX + 2];
	char err[CTL_ERRLEN];
	struct ctl_line l;

	err[0] = '\0';
	if (ctl_prompt_parse((const char *)data, size, &p, err, sizeof(err)) ==
	    -1) {
		if (err[0] == '\0')
			fuzz_fail("PROMPT refused without a message", size);
		return;
	}
	fuzz_prompt_check(&p, size);
	/* The daemon always says what no answer means. */
	if (p.deflt == -1)
		p.deflt = ACTION_DENY;
	ctl_line_init(&l, line, sizeof(line));
	ctl_put_word(&l, "PROMPT");
	ctl_prompt_put(&l, &p);
	if (l.over)
		return;
	if (ctl_prompt_parse(line, l.len, &q, err, sizeof(err)) == -1)
		fuzz_fail("a written PROMPT line does not read back", size);
	if (p.id != q.id || p.uid != q.uid || p.pid != q.pid ||
	    p.port != q.port || p.created != q.created ||
	    p.expires != q.expires || p.connections != q.connections ||
	    p.deflt != q.deflt || p.scopes != q.scopes ||
	    p.durations != q.durations || strcmp(p.user, q.user) != 0 ||
	    strcmp(p.app, q.app) != 0 || strcmp(p.cmdline, q.cmdline) != 0 ||
	    strcmp(p.name, q.name) != 0 || strcmp(p.source, q.source) != 0 ||
	    strcmp(p.dst, q.dst) != 0 || strcmp(p.proto, q.proto) != 0 ||
	    strcmp(p.domain, q.domain) != 0)
		fuzz_fail("a PROMPT changed on the round trip", size);
}

static void
fuzz_withdraw(const uint8_t *data, size_t size)
{
	struct ctl_withdraw w;
	char err[CTL_ERRLEN];

	if (ctl_withdraw_parse((const char *)data, size, &w, err,
	                       sizeof(err)) == -1)
		return;
	if (w.id == 0)
		fuzz_fail("WITHDRAW without an id accepted", size);
	if (!fuzz_str_ok(w.reason, sizeof(w.reason)))
		fuzz_fail("WITHDRAW reason not terminated", size);
	if (w.verdict < -1 || w.verdict > ACTION_REJECT)
		fuzz_fail("WITHDRAW with an unknown verdict", size);
}

/* A DENIED line: values within their bounds, and what it reads is
 * written to a line that reads back the same. */
static void
fuzz_denied(const uint8_t *data, size_t size)
{
	static struct ctl_denied d, e;
	static char line[CTL_LINE_MAX + 2];
	char err[CTL_ERRLEN];
	struct ctl_line l;

	err[0] = '\0';
	if (ctl_denied_parse((const char *)data, size, &d, err, sizeof(err)) ==
	    -1) {
		if (err[0] == '\0')
			fuzz_fail("DENIED refused without a message", size);
		return;
	}
	if (d.port > 65535 || d.count == 0 || d.rule < 0 || d.time < 0 ||
	    d.verdict < ACTION_ALLOW || d.verdict > ACTION_REJECT ||
	    d.decider[0] == '\0')
		fuzz_fail("DENIED value out of its bounds", size);
	if (!fuzz_str_ok(d.app, sizeof(d.app)) ||
	    !fuzz_str_ok(d.name, sizeof(d.name)) ||
	    !fuzz_str_ok(d.dst, sizeof(d.dst)) ||
	    !fuzz_str_ok(d.proto, sizeof(d.proto)) ||
	    !fuzz_str_ok(d.decider, sizeof(d.decider)))
		fuzz_fail("DENIED string not terminated", size);
	ctl_line_init(&l, line, sizeof(line));
	ctl_put_word(&l, "DENIED");
	ctl_denied_put(&l, &d);
	if (l.over)
		return;
	if (ctl_denied_parse(line, l.len, &e, err, sizeof(err)) == -1)
		fuzz_fail("a written DENIED line does not read back", size);
	if (d.uid != e.uid || d.port != e.port || d.verdict != e.verdict ||
	    d.rule != e.rule || d.count != e.count || d.time != e.time ||
	    strcmp(d.app, e.app) != 0 || strcmp(d.name, e.name) != 0 ||
	    strcmp(d.dst, e.dst) != 0 || strcmp(d.proto, e.proto) != 0 ||
	    strcmp(d.decider, e.decider) != 0)
		fuzz_fail("a DENIED changed on the round trip", size);
}

/* An EVENT line (RULES and EVENTS replies): terminated strings, and what
 * it reads is written to a line that reads back the same. */
static void
fuzz_event(const uint8_t *data, size_t size)
{
	static struct event_row a, b;
	static char line[CTL_LINE_MAX + 2];
	char err[CTL_ERRLEN];
	int n;

	if (ctl_event_parse((const char *)data, size, &a, err, sizeof(err)) ==
	    -1)
		return;
	if (!fuzz_str_ok(a.exe, sizeof(a.exe)) ||
	    !fuzz_str_ok(a.cmdline, sizeof(a.cmdline)) ||
	    !fuzz_str_ok(a.name, sizeof(a.name)) ||
	    !fuzz_str_ok(a.user, sizeof(a.user)))
		fuzz_fail("EVENT string not terminated", size);
	n = ctl_event_format(&a, line, sizeof(line));
	if (n == -1)
		fuzz_fail("an EVENT read cannot be written", size);
	if (ctl_event_parse(line, (size_t)n - 1, &b, err, sizeof(err)) == -1 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		fuzz_fail("an EVENT changed on the round trip", size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_words(data, size);
	fuzz_reply(data, size);
	fuzz_prompt(data, size);
	fuzz_denied(data, size);
	fuzz_withdraw(data, size);
	fuzz_event(data, size);
	return 0;
}
