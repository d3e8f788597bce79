/*
 * ctl.c - the control protocol's lines: words, requests, replies; see
 * ctl.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/errbuf.h"
#include "common/quote.h"

static const struct {
	const char *name;
	enum ctl_access access;
} ctl_verbs[] = {
    [CTL_STATUS] = {"STATUS", CTL_ACCESS_ANY},
    [CTL_RULE_ADD] = {"RULE-ADD", CTL_ACCESS_ADMIN},
    [CTL_RULE_DEL] = {"RULE-DEL", CTL_ACCESS_OWN},
    [CTL_RULE_ENABLE] = {"RULE-ENABLE", CTL_ACCESS_OWN},
    [CTL_RULE_DISABLE] = {"RULE-DISABLE", CTL_ACCESS_OWN},
    [CTL_RULE_EDIT] = {"RULE-EDIT", CTL_ACCESS_ADMIN},
    [CTL_IMPORT] = {"IMPORT", CTL_ACCESS_ADMIN},
    [CTL_RELOAD] = {"RELOAD", CTL_ACCESS_ADMIN},
    /* Checked by the server itself: who may subscribe and answer is
     * more than "admin or not" (docs/control.md). */
    [CTL_SUBSCRIBE] = {"SUBSCRIBE", CTL_ACCESS_ANY},
    [CTL_PROMPTS] = {"PROMPTS", CTL_ACCESS_ANY},
    [CTL_ANSWER] = {"ANSWER", CTL_ACCESS_ANY},
    [CTL_RULE_DURATION] = {"RULE-DURATION", CTL_ACCESS_OWN},
    [CTL_RULES] = {"RULES", CTL_ACCESS_OWN},
    [CTL_EVENTS] = {"EVENTS", CTL_ACCESS_OWN},
};

/* The verbs, for a request that names none of them. */
#define CTL_VERB_LIST                                                          \
	"STATUS, RULE-ADD, RULE-DEL, RULE-ENABLE, RULE-DISABLE, RULE-EDIT, "   \
	"RULE-DURATION, IMPORT, RELOAD, SUBSCRIBE, PROMPTS, ANSWER, RULES "    \
	"or EVENTS"

static const char *const ctl_scopes[CTL_N_SCOPES] = {
    [CTL_SCOPE_NAME] = "name", [CTL_SCOPE_DOMAIN] = "domain",
    [CTL_SCOPE_APP] = "app",   [CTL_SCOPE_IP] = "ip",
    [CTL_SCOPE_PORT] = "port",
};

static const char *const ctl_durations[CTL_N_DURATIONS] = {
    [CTL_DUR_ONCE] = "once",
    [CTL_DUR_RESTART] = "restart",
    [CTL_DUR_HOUR] = "1h",
    [CTL_DUR_FOREVER] = "forever",
    /* Added last: the numbers before it stay. */
    [CTL_DUR_HALF_HOUR] = "30m",
};

const int ctl_duration_order[CTL_N_DURATIONS] = {
    CTL_DUR_ONCE,    CTL_DUR_HALF_HOUR, CTL_DUR_HOUR,
    CTL_DUR_RESTART, CTL_DUR_FOREVER,
};

#define CTL_N_VERBS (sizeof(ctl_verbs) / sizeof(ctl_verbs[0]))

static const char *const ctl_codes[] = {
    [CTL_E_PERM] = "perm",         [CTL_E_USAGE] = "usage",
    [CTL_E_NOTFOUND] = "notfound", [CTL_E_INVALID] = "invalid",
    [CTL_E_INTERNAL] = "internal", [CTL_E_TOOLONG] = "toolong",
};

#define CTL_N_CODES (sizeof(ctl_codes) / sizeof(ctl_codes[0]))

static int
ctl_word_index(const char *const *words, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(words[i], s) == 0)
			return (int)i;
	return -1;
}

const char *
ctl_scope_name(enum ctl_scope s)
{
	return (unsigned)s < CTL_N_SCOPES ? ctl_scopes[s] : "?";
}

const char *
ctl_duration_name(enum ctl_duration d)
{
	return (unsigned)d < CTL_N_DURATIONS ? ctl_durations[d] : "?";
}

int
ctl_scope_parse(const char *s)
{
	return ctl_word_index(ctl_scopes, CTL_N_SCOPES, s);
}

int
ctl_duration_parse(const char *s)
{
	return ctl_word_index(ctl_durations, CTL_N_DURATIONS, s);
}

const char *
ctl_verb_name(enum ctl_verb v)
{
	if ((size_t)v >= CTL_N_VERBS)
		return "?";
	return ctl_verbs[v].name;
}

enum ctl_access
ctl_verb_access(enum ctl_verb v)
{
	/* An unknown verb changes nothing, but is refused all the same. */
	if ((size_t)v >= CTL_N_VERBS)
		return CTL_ACCESS_ADMIN;
	return ctl_verbs[v].access;
}

bool
ctl_verb_needs_admin(enum ctl_verb v)
{
	return ctl_verb_access(v) == CTL_ACCESS_ADMIN;
}

const char *
ctl_code_name(enum ctl_code c)
{
	if ((size_t)c >= CTL_N_CODES)
		return "internal";
	return ctl_codes[c];
}

int
ctl_code_parse(const char *s)
{
	size_t i;

	for (i = 0; i < CTL_N_CODES; i++)
		if (strcmp(s, ctl_codes[i]) == 0)
			return (int)i;
	return -1;
}

/* What a byte that may not be in a word is called, for errors. */
static const char *
ctl_byte_desc(unsigned char c, char *buf, size_t len)
{
	if (quote_is_ctrl(c))
		snprintf(buf, len, "control byte 0x%02x", c);
	else
		snprintf(buf, len, "'%c'", c);
	return buf;
}

/*
 * Read the key or value at line[*r] to line[*w], unquoting in place, and
 * move both past it.  0, or -1 + err saying what is wrong at which column.
 */
static int
ctl_read(char *line, size_t len, size_t *r, size_t *w, unsigned flags,
         char *err, size_t errlen)
{
	size_t at, n;
	char what[32];
	unsigned char c;

	switch (quote_read(line + *r, len - *r, flags, line + *w, len - *w, &at,
	                   &n)) {
	case QUOTE_OK:
		*r += at;
		*w += n;
		return 0;
	case QUOTE_BARE_BYTE:
		c = (unsigned char)line[*r + at];
		if (quote_is_ctrl(c))
			snprintf(err, errlen,
			         "control byte 0x%02x at column %zu "
			         "(write it as \\x%02x in quotes)",
			         c, *r + at + 1, c);
		else
			snprintf(err, errlen,
			         "'%c' at column %zu (quote the word)", c,
			         *r + at + 1);
		return -1;
	case QUOTE_UNCLOSED:
		snprintf(err, errlen,
		         "quote opened at column %zu is not closed",
		         *r + at + 1);
		return -1;
	case QUOTE_CTRL:
		snprintf(err, errlen, "control byte 0x%02x at column %zu",
		         (unsigned char)line[*r + at], *r + at + 1);
		return -1;
	case QUOTE_BAD_ESCAPE:
	case QUOTE_BAD_HEX:
		snprintf(err, errlen,
		         "bad escape at column %zu (expected \\\", \\\\ or "
		         "\\xHH, not \\x00)",
		         *r + at + 1);
		return -1;
	case QUOTE_AFTER_CLOSE:
		snprintf(err, errlen,
		         "%s right after a closing quote at column %zu "
		         "(expected a space)",
		         ctl_byte_desc(line[*r + at], what, sizeof(what)),
		         *r + at + 1);
		return -1;
	case QUOTE_TOOLONG:
		break;
	}
	/* Unquoted, a word is never longer than the line it was. */
	snprintf(err, errlen, "internal: word at column %zu", *r + 1);
	return -1;
}

/*
 * The words are unquoted in place: the write index w never passes the
 * read index r, and each word's NUL goes where its separator (or the
 * line's end, line[len]) was.
 */
int
ctl_split(char *line, size_t len, struct ctl_word *words, size_t max, char *err,
          size_t errlen)
{
	size_t r = 0, w = 0, n = 0, start;
	const char *key;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	for (;;) {
		while (r < len && line[r] == ' ')
			r++;
		if (r == len)
			break;
		if (n == max) {
			snprintf(err, errlen, "more than %zu words", max);
			return -1;
		}
		/* The word, or its key when a bare '=' follows. */
		start = w;
		key = NULL;
		if (ctl_read(line, len, &r, &w, QUOTE_STOP_EQ, err, errlen) ==
		    -1)
			return -1;
		if (r < len && line[r] == '=') {
			if (w == start) {
				snprintf(err, errlen,
				         "empty key before '=' at column %zu",
				         r + 1);
				return -1;
			}
			line[w++] = '\0';
			key = &line[start];
			start = w;
			r++;
			if (ctl_read(line, len, &r, &w, 0, err, errlen) == -1)
				return -1;
		}
		if (r < len)
			r++; /* the space, so that the NUL below is behind r */
		line[w++] = '\0';
		words[n].key = key;
		words[n].value = &line[start];
		n++;
	}
	return (int)n;
}

/* A positive decimal id without sign or leading zeros; -1 when bad. */
static int64_t
ctl_parse_id(const char *s)
{
	int64_t v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Skip n words of already checked raw text; returns what follows. */
static const char *
ctl_skip_words(const char *s, size_t n)
{
	bool quoted = false;

	while (n > 0) {
		while (*s == ' ')
			s++;
		for (; *s != '\0'; s++) {
			if (quoted && *s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				quoted = !quoted;
			else if (*s == ' ' && !quoted)
				break;
		}
		n--;
	}
	while (*s == ' ')
		s++;
	return s;
}

/* A number from lo to hi, decimal, no sign; -1 when s is none. */
static int
ctl_parse_num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The keys of struct ctl_query; RULES takes the first two. */
enum ctl_qkey {
	CTL_Q_AFTER,
	CTL_Q_LIMIT,
	CTL_Q_APP,
	CTL_Q_DOMAIN,
	CTL_Q_VERDICT,
	CTL_Q_PROTO,
	CTL_Q_SINCE,
	CTL_Q_UNTIL,
	CTL_Q_PID,
	CTL_Q_UID,
	CTL_Q_GAPS,
	CTL_N_QKEYS,
};

static const char *const ctl_qkeys[CTL_N_QKEYS] = {
    "after", "limit", "app", "domain", "verdict", "proto",
    "since", "until", "pid", "uid",    "gaps",
};

/* One key=value word of a query into q; 0, or -1 + err. */
static int
ctl_query_word(struct ctl_query *q, enum ctl_qkey k, const char *v, char *err,
               size_t errlen)
{
	int64_t n;

	switch (k) {
	case CTL_Q_AFTER:
		if (ctl_parse_num(v, 0, INT64_MAX / 2, &n) == -1)
			goto bad;
		q->has_after = true;
		q->after = n;
		return 0;
	case CTL_Q_LIMIT:
		if (ctl_parse_num(v, 0, INT64_MAX / 2, &n) == -1)
			goto bad;
		/* Bounded here: nobody makes the daemon build more. */
		q->limit = n == 0 || n > CTL_ROWS_MAX ? CTL_ROWS_MAX
		                                      : (unsigned long)n;
		return 0;
	case CTL_Q_APP:
		q->app = v;
		return v[0] != '\0' ? 0 : -1;
	case CTL_Q_DOMAIN:
		q->domain = v;
		return v[0] != '\0' ? 0 : -1;
	case CTL_Q_VERDICT:
		if (action_parse(v) == -1)
			goto bad;
		q->verdict = v;
		return 0;
	case CTL_Q_PROTO:
		if (strcmp(v, "tcp") != 0 && strcmp(v, "udp") != 0 &&
		    strcmp(v, "dns") != 0)
			goto bad;
		q->proto = v;
		return 0;
	case CTL_Q_SINCE:
	case CTL_Q_UNTIL:
		if (ctl_parse_num(v, 1, INT64_MAX / 2, &n) == -1)
			goto bad;
		*(k == CTL_Q_SINCE ? &q->since_ms : &q->until_ms) = n;
		return 0;
	case CTL_Q_PID:
		if (ctl_parse_num(v, 1, INT32_MAX, &n) == -1)
			goto bad;
		q->pid = (long)n;
		return 0;
	case CTL_Q_UID:
		if (ctl_parse_num(v, 0, UINT32_MAX - 1, &n) == -1)
			goto bad;
		q->has_uid = true;
		q->uid = (uint32_t)n;
		return 0;
	case CTL_Q_GAPS:
		if (strcmp(v, "no") != 0 && strcmp(v, "yes") != 0)
			goto bad;
		q->no_gaps = strcmp(v, "no") == 0;
		return 0;
	default:
		break;
	}
bad:
	snprintf(err, errlen, "%s=\"%.64s\": not a value it takes",
	         ctl_qkeys[k], v);
	return -1;
}

/* The words after RULES or EVENTS into q; 0, or -1 + err. */
static int
ctl_query_parse(enum ctl_verb verb, const struct ctl_word *w, size_t n,
                struct ctl_query *q, char *err, size_t errlen)
{
	size_t n_keys = verb == CTL_RULES ? CTL_Q_APP : CTL_N_QKEYS, i, k;
	unsigned seen = 0;

	memset(q, 0, sizeof(*q));
	q->limit = CTL_ROWS_MAX;
	for (i = 0; i < n; i++) {
		for (k = 0; w[i].key != NULL && k < n_keys; k++)
			if (strcmp(w[i].key, ctl_qkeys[k]) == 0)
				break;
		if (w[i].key == NULL || k == n_keys || (seen & (1U << k))) {
			snprintf(err, errlen,
			         "usage: %s [KEY=VALUE]... (keys: %s; each "
			         "once)",
			         ctl_verb_name(verb),
			         verb == CTL_RULES
			             ? "after, limit"
			             : "after, limit, app, domain, verdict, "
			               "proto, since, until, pid, uid, gaps");
			return -1;
		}
		seen |= 1U << k;
		if (ctl_query_word(q, (enum ctl_qkey)k, w[i].value, err,
		                   errlen) == -1) {
			if (w[i].value[0] == '\0')
				snprintf(err, errlen, "%s: empty", w[i].key);
			return -1;
		}
	}
	return 0;
}

void
ctl_put_query(struct ctl_line *l, const struct ctl_query *q)
{
	if (q->has_after)
		ctl_put_kvf(l, "after", "%lld", (long long)q->after);
	if (q->limit > 0)
		ctl_put_kvf(l, "limit", "%lu", q->limit);
	if (q->app != NULL)
		ctl_put_kv(l, "app", q->app);
	if (q->domain != NULL)
		ctl_put_kv(l, "domain", q->domain);
	if (q->verdict != NULL)
		ctl_put_kv(l, "verdict", q->verdict);
	if (q->proto != NULL)
		ctl_put_kv(l, "proto", q->proto);
	if (q->since_ms != 0)
		ctl_put_kvf(l, "since", "%lld", (long long)q->since_ms);
	if (q->until_ms != 0)
		ctl_put_kvf(l, "until", "%lld", (long long)q->until_ms);
	if (q->pid != 0)
		ctl_put_kvf(l, "pid", "%ld", q->pid);
	if (q->has_uid)
		ctl_put_kvf(l, "uid", "%u", (unsigned)q->uid);
	if (q->no_gaps)
		ctl_put_kv(l, "gaps", "no");
}

static int ctl_req_fail(enum ctl_code *code, enum ctl_code c, char *err,
                        size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
ctl_req_fail(enum ctl_code *code, enum ctl_code c, char *err, size_t errlen,
             const char *fmt, ...)
{
	va_list ap;

	*code = c;
	va_start(ap, fmt);
	errbuf_vset(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
ctl_req_parse(const char *line, size_t len, struct ctl_req *req,
              enum ctl_code *code, char *err, size_t errlen)
{
	struct ctl_word words[CTL_WORDS_MAX];
	char serr[CTL_ERRLEN];
	char *raw, *scratch;
	const char *verb;
	size_t i, first_field;
	int n;

	memset(req, 0, sizeof(*req));
	if (len > CTL_LINE_MAX)
		return ctl_req_fail(code, CTL_E_TOOLONG, err, errlen,
		                    "line of %zu bytes, over the %d-byte "
		                    "limit",
		                    len, CTL_LINE_MAX);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	raw = malloc(2 * (len + 1));
	if (raw == NULL)
		return ctl_req_fail(code, CTL_E_INTERNAL, err, errlen,
		                    "out of memory");
	scratch = raw + len + 1;
	memcpy(raw, line, len);
	raw[len] = '\0';
	memcpy(scratch, line, len);
	n = ctl_split(scratch, len, words, CTL_WORDS_MAX, serr, sizeof(serr));
	if (n == -1) {
		free(raw);
		return ctl_req_fail(code, CTL_E_USAGE, err, errlen, "%s", serr);
	}
	if (n == 0) {
		free(raw);
		return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
		                    "empty request (expected a verb: "
		                    "%s)",
		                    CTL_VERB_LIST);
	}
	verb = words[0].value;
	for (i = 0; i < CTL_N_VERBS; i++)
		if (words[0].key == NULL &&
		    strcasecmp(verb, ctl_verbs[i].name) == 0)
			break;
	if (i == CTL_N_VERBS) {
		/* The words point into raw: say it before freeing. */
		ctl_req_fail(code, CTL_E_USAGE, err, errlen,
		             "unknown verb \"%.64s\" (expected %s)",
		             words[0].key != NULL ? words[0].key : verb,
		             CTL_VERB_LIST);
		free(raw);
		return -1;
	}
	req->verb = (enum ctl_verb)i;
	req->buf = raw;
	verb = ctl_verbs[i].name;

	switch (req->verb) {
	case CTL_STATUS:
	case CTL_RELOAD:
	case CTL_SUBSCRIBE:
	case CTL_PROMPTS:
		if (n != 1)
			goto usage_noargs;
		return 0;
	case CTL_RULE_DEL:
	case CTL_RULE_ENABLE:
	case CTL_RULE_DISABLE:
		if (n != 2)
			goto usage_id;
		/* FALLTHROUGH */
	case CTL_RULE_EDIT:
		if (n < 2 || words[1].key != NULL ||
		    (req->id = ctl_parse_id(words[1].value)) == -1)
			goto usage_id;
		if (req->verb != CTL_RULE_EDIT)
			return 0;
		first_field = 2;
		break;
	case CTL_RULE_ADD:
		first_field = 1;
		break;
	case CTL_IMPORT:
		if (n != 2 || words[1].key != NULL ||
		    words[1].value[0] == '\0' ||
		    strspn(words[1].value, "0123456789") !=
		        strlen(words[1].value)) {
			ctl_req_free(req);
			return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
			                    "usage: IMPORT N, then N lines "
			                    "of export text");
		}
		if (strlen(words[1].value) > 9)
			goto toomany;
		req->n = strtoul(words[1].value, NULL, 10);
		if (req->n > CTL_IMPORT_LINES_MAX)
			goto toomany;
		return 0;
	case CTL_ANSWER:
		if (n != 5 || words[1].key != NULL || words[2].key != NULL ||
		    words[3].key != NULL || words[4].key != NULL ||
		    (req->id = ctl_parse_id(words[1].value)) == -1 ||
		    (req->verdict = action_parse(words[2].value)) == -1 ||
		    ctl_scope_parse(words[3].value) == -1 ||
		    ctl_duration_parse(words[4].value) == -1) {
			ctl_req_free(req);
			return ctl_req_fail(
			    code, CTL_E_USAGE, err, errlen,
			    "usage: ANSWER ID allow|deny|reject "
			    "name|domain|app|ip|port once|restart|1h|forever");
		}
		req->scope = (enum ctl_scope)ctl_scope_parse(words[3].value);
		req->duration =
		    (enum ctl_duration)ctl_duration_parse(words[4].value);
		return 0;
	case CTL_RULE_DURATION:
		if (n != 3 || words[1].key != NULL || words[2].key != NULL ||
		    (req->id = ctl_parse_id(words[1].value)) == -1) {
			ctl_req_free(req);
			return ctl_req_fail(
			    code, CTL_E_USAGE, err, errlen,
			    "usage: RULE-DURATION ID once|restart|forever|"
			    "until:TIME|30m|2h|7d");
		}
		req->duration_text = words[2].value;
		return 0;
	case CTL_RULES:
	case CTL_EVENTS:
		if (ctl_query_parse(req->verb, words + 1, (size_t)n - 1,
		                    &req->query, serr, sizeof(serr)) == -1) {
			ctl_req_free(req);
			return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
			                    "%s", serr);
		}
		return 0;
	default:
		ctl_req_free(req);
		return ctl_req_fail(code, CTL_E_INTERNAL, err, errlen,
		                    "verb without a parser");
	}

	/* RULE-ADD and RULE-EDIT: the rest is the rule's fields. */
	if ((size_t)n <= first_field) {
		ctl_req_free(req);
		return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
		                    "usage: %s %sKEY=VALUE... (the fields of "
		                    "a rule, as in \"tollgate rules export\")",
		                    verb, first_field == 2 ? "ID " : "");
	}
	for (i = first_field; i < (size_t)n; i++)
		if (words[i].key == NULL) {
			ctl_req_fail(code, CTL_E_USAGE, err, errlen,
			             "%s: \"%.64s\" is not a KEY=VALUE field",
			             verb, words[i].value);
			ctl_req_free(req);
			return -1;
		}
	req->fields = ctl_skip_words(raw, first_field);
	return 0;

usage_noargs:
	ctl_req_free(req);
	return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
	                    "usage: %s takes no arguments", verb);
usage_id:
	ctl_req_free(req);
	return ctl_req_fail(code, CTL_E_USAGE, err, errlen,
	                    "usage: %s ID%s (ID a rule id, a positive "
	                    "number)",
	                    verb,
	                    req->verb == CTL_RULE_EDIT ? " KEY=VALUE..." : "");
toomany:
	ctl_req_free(req);
	return ctl_req_fail(code, CTL_E_TOOLONG, err, errlen,
	                    "IMPORT of more than %d lines",
	                    CTL_IMPORT_LINES_MAX);
}

void
ctl_req_free(struct ctl_req *req)
{
	free(req->buf);
	req->buf = NULL;
	req->fields = NULL;
}

void
ctl_line_init(struct ctl_line *l, char *buf, size_t cap)
{
	l->buf = buf;
	l->cap = cap;
	l->len = 0;
	l->over = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

/* Room for n more bytes and the NUL, within the line's limit. */
static bool
ctl_room(struct ctl_line *l, size_t n)
{
	if (l->over || l->len + n >= l->cap || l->len + n > CTL_LINE_MAX) {
		l->over = true;
		return false;
	}
	return true;
}

static void
ctl_putc(struct ctl_line *l, char c)
{
	if (!ctl_room(l, 1))
		return;
	l->buf[l->len++] = c;
	l->buf[l->len] = '\0';
}

static void
ctl_puts(struct ctl_line *l, const char *s)
{
	for (; *s != '\0' && !l->over; s++)
		ctl_putc(l, *s);
}

/* Append value, quoted when it must be (common/quote.h). */
static void
ctl_put_value(struct ctl_line *l, const char *value, bool positional)
{
	size_t n;

	if (l->over)
		return;
	n = quote_write(l->buf + l->len, l->cap - l->len, value,
	                positional ? QUOTE_EQ : 0);
	if (!ctl_room(l, n)) {
		l->buf[l->len] = '\0';
		return;
	}
	l->len += n;
}

void
ctl_put_word(struct ctl_line *l, const char *word)
{
	if (l->len > 0)
		ctl_putc(l, ' ');
	ctl_put_value(l, word, true);
}

void
ctl_put_kv(struct ctl_line *l, const char *key, const char *value)
{
	if (l->len > 0)
		ctl_putc(l, ' ');
	ctl_puts(l, key);
	ctl_putc(l, '=');
	ctl_put_value(l, value, false);
}

void
ctl_put_kvf(struct ctl_line *l, const char *key, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	ctl_put_kv(l, key, value);
}

void
ctl_put_raw(struct ctl_line *l, const char *text)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++)
		if (quote_is_ctrl(*p)) {
			/* It could not be sent as one line. */
			l->over = true;
			return;
		}
	if (l->len > 0)
		ctl_putc(l, ' ');
	ctl_puts(l, text);
}

int
ctl_line_end(struct ctl_line *l)
{
	if (l->over || l->len + 1 >= l->cap) {
		l->over = true;
		return -1;
	}
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
	return (int)l->len;
}

size_t
ctl_fmt_err(char *buf, size_t cap, enum ctl_code code, const char *fmt, ...)
{
	char msg[CTL_MSG_MAX];
	va_list ap;
	size_t i;
	int n;

	if (cap == 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; msg[i] != '\0'; i++)
		if (quote_is_ctrl((unsigned char)msg[i]))
			msg[i] = '?';
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "%s", ctl_code_name(code));
	n = snprintf(buf, cap, "ERR %s %s", ctl_code_name(code), msg);
	if (n < 0)
		n = 0;
	if ((size_t)n > cap - 2)
		n = (int)(cap - 2);
	buf[n++] = '\n';
	buf[n] = '\0';
	return (size_t)n;
}

int
ctl_reply_parse(const char *line, size_t len, struct ctl_reply *rep, char *err,
                size_t errlen)
{
	const char *sp;
	size_t i, clen;
	int n;

	memset(rep, 0, sizeof(*rep));
	rep->code = -1;
	if (len > CTL_LINE_MAX) {
		snprintf(err, errlen, "reply of %zu bytes, over the limit",
		         len);
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if (quote_is_ctrl((unsigned char)line[i])) {
			snprintf(err, errlen, "reply holds control byte 0x%02x",
			         (unsigned char)line[i]);
			return -1;
		}
	if (len >= 2 && memcmp(line, "OK", 2) == 0 &&
	    (len == 2 || line[2] == ' ')) {
		rep->buf = malloc(len + 1);
		if (rep->buf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(rep->buf, line + 2, len - 2);
		n = ctl_split(rep->buf, len - 2, rep->kv, CTL_WORDS_MAX, err,
		              errlen);
		if (n == -1)
			goto bad;
		rep->n = (size_t)n;
		for (i = 0; i < rep->n; i++)
			if (rep->kv[i].key == NULL) {
				snprintf(err, errlen,
				         "OK reply with \"%.64s\", not "
				         "KEY=VALUE",
				         rep->kv[i].value);
				goto bad;
			}
		rep->ok = true;
		return 0;
	}
	if (len > 4 && memcmp(line, "ERR ", 4) == 0) {
		line += 4;
		len -= 4;
		sp = memchr(line, ' ', len);
		clen = sp != NULL ? (size_t)(sp - line) : len;
		if (clen == 0 || clen >= sizeof(rep->codestr)) {
			snprintf(err, errlen, "ERR reply without a code");
			return -1;
		}
		memcpy(rep->codestr, line, clen);
		rep->codestr[clen] = '\0';
		rep->code = ctl_code_parse(rep->codestr);
		if (sp != NULL) {
			len -= clen + 1;
			if (len >= sizeof(rep->msg))
				len = sizeof(rep->msg) - 1;
			memcpy(rep->msg, sp + 1, len);
			rep->msg[len] = '\0';
		}
		return 0;
	}
	snprintf(err, errlen, "reply is neither OK nor ERR: \"%.*s\"",
	         (int)(len < 64 ? len : 64), line);
	return -1;
bad:
	free(rep->buf);
	rep->buf = NULL;
	rep->n = 0;
	return -1;
}

void
ctl_reply_free(struct ctl_reply *rep)
{
	free(rep->buf);
	rep->buf = NULL;
	rep->n = 0;
}

const char *
ctl_reply_get(const struct ctl_reply *rep, const char *key)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (strcmp(rep->kv[i].key, key) == 0)
			return rep->kv[i].value;
	return NULL;
}
