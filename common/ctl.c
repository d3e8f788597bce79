/*
 * ctl.c - the control protocol: words, requests, replies, and the client's
 * connection; see ctl.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/ctl.h"

static const struct {
	const char *name;
	bool admin;
} ctl_verbs[] = {
    [CTL_STATUS] = {"STATUS", false},
    [CTL_RULE_ADD] = {"RULE-ADD", true},
    [CTL_RULE_DEL] = {"RULE-DEL", true},
    [CTL_RULE_ENABLE] = {"RULE-ENABLE", true},
    [CTL_RULE_DISABLE] = {"RULE-DISABLE", true},
    [CTL_RULE_EDIT] = {"RULE-EDIT", true},
    [CTL_IMPORT] = {"IMPORT", true},
    [CTL_RELOAD] = {"RELOAD", true},
    /* Checked by the server itself: who may subscribe and answer is
     * more than "admin or not" (docs/control.md). */
    [CTL_SUBSCRIBE] = {"SUBSCRIBE", false},
    [CTL_PROMPTS] = {"PROMPTS", false},
    [CTL_ANSWER] = {"ANSWER", false},
};

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

bool
ctl_verb_needs_admin(enum ctl_verb v)
{
	/* An unknown verb changes nothing, but is refused all the same. */
	if ((size_t)v >= CTL_N_VERBS)
		return true;
	return ctl_verbs[v].admin;
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

static bool
ctl_is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
ctl_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* What a byte that may not be in a word is called, for errors. */
static const char *
ctl_byte_desc(unsigned char c, char *buf, size_t len)
{
	if (ctl_is_ctrl(c))
		snprintf(buf, len, "control byte 0x%02x", c);
	else
		snprintf(buf, len, "'%c'", c);
	return buf;
}

/*
 * Unquote the quoted string at line[*r] (its opening '"') to line[*w].
 * 0, or -1 + err.
 */
static int
ctl_unquote(char *line, size_t len, size_t *r, size_t *w, char *err,
            size_t errlen)
{
	size_t start = *r;
	unsigned char c;
	int hi, lo;

	(*r)++;
	for (;;) {
		if (*r >= len) {
			snprintf(err, errlen,
			         "quote opened at column %zu is not closed",
			         start + 1);
			return -1;
		}
		c = line[*r];
		if (c == '"') {
			(*r)++;
			return 0;
		}
		if (ctl_is_ctrl(c)) {
			snprintf(err, errlen,
			         "control byte 0x%02x at column %zu", c,
			         *r + 1);
			return -1;
		}
		if (c != '\\') {
			line[(*w)++] = c;
			(*r)++;
			continue;
		}
		if (*r + 1 < len &&
		    (line[*r + 1] == '"' || line[*r + 1] == '\\')) {
			line[(*w)++] = line[*r + 1];
			*r += 2;
			continue;
		}
		if (*r + 3 < len && line[*r + 1] == 'x' &&
		    (hi = ctl_hex(line[*r + 2])) >= 0 &&
		    (lo = ctl_hex(line[*r + 3])) >= 0 && (hi != 0 || lo != 0)) {
			line[(*w)++] = (char)(hi * 16 + lo);
			*r += 4;
			continue;
		}
		snprintf(err, errlen,
		         "bad escape at column %zu (expected \\\", \\\\ or "
		         "\\xHH, not \\x00)",
		         *r + 1);
		return -1;
	}
}

/*
 * The word is unquoted in place: the write index w never passes the read
 * index r, and each word's NUL goes where its separator (or the line's
 * end, line[len]) was.
 */
int
ctl_split(char *line, size_t len, struct ctl_word *words, size_t max, char *err,
          size_t errlen)
{
	size_t r = 0, w = 0, n = 0, start;
	const char *key;
	char what[32];
	unsigned char c;

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
		start = w;
		key = NULL;
		for (;;) {
			if (r == len || line[r] == ' ')
				break;
			c = line[r];
			if (c == '"' && w == start) {
				/* A quoted word, or a quoted value. */
				if (ctl_unquote(line, len, &r, &w, err,
				                errlen) == -1)
					return -1;
				if (r < len && line[r] != ' ') {
					snprintf(
					    err, errlen,
					    "%s right after a closing quote "
					    "at column %zu (expected a space)",
					    ctl_byte_desc(line[r], what,
					                  sizeof(what)),
					    r + 1);
					return -1;
				}
				break;
			}
			if (c == '=' && key == NULL && start != w) {
				line[w++] = '\0';
				key = &line[start];
				start = w;
				r++;
				continue;
			}
			if (c == '=' && key == NULL) {
				snprintf(err, errlen,
				         "empty key before '=' at column %zu",
				         r + 1);
				return -1;
			}
			if (ctl_is_ctrl(c)) {
				snprintf(err, errlen,
				         "control byte 0x%02x at column %zu "
				         "(write it as \\x%02x in quotes)",
				         c, r + 1, c);
				return -1;
			}
			if (c == '"' || c == '\\') {
				snprintf(err, errlen,
				         "'%c' at column %zu (quote the word)",
				         c, r + 1);
				return -1;
			}
			line[w++] = c;
			r++;
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
	vsnprintf(err, errlen, fmt, ap);
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
		                    "empty request (expected a verb: STATUS, "
		                    "RULE-ADD, RULE-DEL, RULE-ENABLE, "
		                    "RULE-DISABLE, RULE-EDIT, IMPORT, RELOAD, "
		                    "SUBSCRIBE, PROMPTS, ANSWER)");
	}
	verb = words[0].value;
	for (i = 0; i < CTL_N_VERBS; i++)
		if (words[0].key == NULL &&
		    strcasecmp(verb, ctl_verbs[i].name) == 0)
			break;
	if (i == CTL_N_VERBS) {
		/* The words point into raw: say it before freeing. */
		ctl_req_fail(code, CTL_E_USAGE, err, errlen,
		             "unknown verb \"%.64s\" (expected STATUS, "
		             "RULE-ADD, RULE-DEL, RULE-ENABLE, RULE-DISABLE, "
		             "RULE-EDIT, IMPORT, RELOAD, SUBSCRIBE, PROMPTS "
		             "or ANSWER)",
		             words[0].key != NULL ? words[0].key : verb);
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

/* Append value, quoted when it must be; as log_kv() does. */
static void
ctl_put_value(struct ctl_line *l, const char *value, bool positional)
{
	const unsigned char *p;
	bool quote = value[0] == '\0';
	char hex[5];

	for (p = (const unsigned char *)value; *p != '\0' && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '\\' || ctl_is_ctrl(*p) ||
		    (positional && *p == '='))
			quote = true;
	if (quote)
		ctl_putc(l, '"');
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			ctl_putc(l, '\\');
			ctl_putc(l, *p);
		} else if (ctl_is_ctrl(*p)) {
			snprintf(hex, sizeof(hex), "\\x%02x", *p);
			ctl_puts(l, hex);
		} else
			ctl_putc(l, *p);
	}
	if (quote)
		ctl_putc(l, '"');
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
		if (ctl_is_ctrl(*p)) {
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
		if (ctl_is_ctrl((unsigned char)msg[i]))
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
		if (ctl_is_ctrl((unsigned char)line[i])) {
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

int
ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
		         "control socket path %s is longer than %zu bytes",
		         path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -1;
	}
	/* A unix connect waits for room in the backlog this long at most. */
	tv.tv_sec = CTL_TIMEOUT_MS / 1000;
	tv.tv_usec = (CTL_TIMEOUT_MS % 1000) * 1000L;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "setsockopt(SO_SNDTIMEO): %s",
		         strerror(errno));
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	saved = errno;
	close(fd);
	switch (saved) {
	case ENOENT:
		snprintf(err, errlen,
		         "tollgated is not running (no socket at %s)", path);
		return CTL_DOWN;
	case ECONNREFUSED:
		snprintf(err, errlen,
		         "tollgated is not running (nothing listens on %s)",
		         path);
		return CTL_DOWN;
	case EAGAIN:
		snprintf(err, errlen,
		         "tollgated is busy: %s accepted no connection within "
		         "%d s",
		         path, CTL_TIMEOUT_MS / 1000);
		break;
	default:
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		         strerror(saved));
		break;
	}
	errno = saved;
	return -1;
}

static int64_t
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline.  1 ready, 0 timed out, -1 error. */
static int
ctl_wait(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - ctl_now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1) {
			snprintf(err, errlen, "poll on the control socket: %s",
			         strerror(errno));
			return -1;
		}
		if (rc == 0)
			snprintf(err, errlen,
			         "tollgated did not answer in time "
			         "(control socket timeout)");
		return rc;
	}
}

int
ctl_send(int fd, const char *buf, size_t len, int timeout_ms, char *err,
         size_t errlen)
{
	int64_t deadline = ctl_now_ms() + timeout_ms;
	ssize_t n;
	int rc;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = ctl_wait(fd, POLLOUT, deadline, err, errlen);
			if (rc == 1)
				continue;
			if (rc == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			snprintf(err, errlen,
			         "tollgated closed the control connection");
			return -1;
		}
		snprintf(err, errlen, "sending to tollgated: %s",
		         n == -1 ? strerror(errno) : "nothing sent");
		return -1;
	}
	return 0;
}

int
ctl_recv_line(int fd, char **line, size_t *len, int timeout_ms, char *err,
              size_t errlen)
{
	int64_t deadline = ctl_now_ms() + timeout_ms;
	size_t have = 0, cap = CTL_LINE_MAX + 2, want;
	char *buf, *nl;
	ssize_t n;

	*line = NULL;
	*len = 0;
	buf = malloc(cap);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		/* Look without taking, so nothing after the line is read. */
		n = recv(fd, buf + have, cap - have, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ctl_wait(fd, POLLIN, deadline, err, errlen) != 1)
				goto out;
			continue;
		}
		if (n == -1 && errno == ECONNRESET) {
			snprintf(err, errlen,
			         "tollgated closed the control connection "
			         "without a reply (reset)");
			goto out;
		}
		if (n == -1) {
			snprintf(err, errlen, "reading from tollgated: %s",
			         strerror(errno));
			goto out;
		}
		if (n == 0) {
			snprintf(err, errlen,
			         "tollgated closed the control connection "
			         "without a reply");
			goto out;
		}
		nl = memchr(buf + have, '\n', (size_t)n);
		want = nl != NULL ? (size_t)(nl - (buf + have)) + 1 : (size_t)n;
		n = recv(fd, buf + have, want, MSG_DONTWAIT);
		if (n != (ssize_t)want) {
			snprintf(err, errlen, "reading from tollgated: %s",
			         n == -1 ? strerror(errno) : "short read");
			goto out;
		}
		have += want;
		if (nl != NULL)
			break;
		if (have >= cap) {
			snprintf(err, errlen,
			         "reply longer than %d bytes from tollgated",
			         CTL_LINE_MAX);
			goto out;
		}
	}
	buf[have - 1] = '\0';
	*line = buf;
	*len = have - 1;
	return 0;
out:
	free(buf);
	return -1;
}

int
ctl_recv_reply(int fd, struct ctl_reply *rep, int timeout_ms, char *err,
               size_t errlen)
{
	char *line;
	size_t len;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (ctl_recv_line(fd, &line, &len, timeout_ms, err, errlen) == -1)
		return -1;
	rc = ctl_reply_parse(line, len, rep, err, errlen);
	free(line);
	return rc;
}

int
ctl_call(const char *path, const char *request, struct ctl_reply *rep,
         char *err, size_t errlen)
{
	struct ctl_line l;
	char *buf;
	int fd, len, rc = -1;

	memset(rep, 0, sizeof(*rep));
	buf = malloc(CTL_LINE_MAX + 2);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl_line_init(&l, buf, CTL_LINE_MAX + 2);
	ctl_put_raw(&l, request);
	len = ctl_line_end(&l);
	if (len == -1) {
		snprintf(err, errlen,
		         "request too long or not one line (%zu bytes)",
		         strlen(request));
		free(buf);
		return -1;
	}
	fd = ctl_connect(path, err, errlen);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	/* When the daemon closed early, its ERR may still be there. */
	if (ctl_send(fd, buf, (size_t)len, CTL_TIMEOUT_MS, err, errlen) == 0 ||
	    errno == EPIPE || errno == ECONNRESET)
		rc = ctl_recv_reply(fd, rep, CTL_TIMEOUT_MS, err, errlen);
	close(fd);
	free(buf);
	return rc;
}

/* "name,domain,app" from a bit set over words[]. */
static void
ctl_put_set(struct ctl_line *l, const char *key, unsigned set,
            const char *const *words, size_t n)
{
	char buf[128];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if (set & (1u << i))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
			                off > 0 ? "," : "", words[i]);
	ctl_put_kv(l, key, off > 0 ? buf : "-");
}

static void
ctl_put_str(struct ctl_line *l, const char *key, const char *v)
{
	ctl_put_kv(l, key, v[0] != '\0' ? v : "-");
}

void
ctl_prompt_put(struct ctl_line *l, const struct ctl_prompt *p)
{
	ctl_put_kvf(l, "id", "%llu", (unsigned long long)p->id);
	ctl_put_kvf(l, "uid", "%u", p->uid);
	ctl_put_str(l, "user", p->user);
	ctl_put_kvf(l, "pid", "%ld", p->pid);
	ctl_put_str(l, "app", p->app);
	ctl_put_str(l, "cmdline", p->cmdline);
	ctl_put_str(l, "name", p->name);
	ctl_put_str(l, "source", p->source);
	ctl_put_kv(l, "dst", p->dst);
	ctl_put_kvf(l, "port", "%u", p->port);
	ctl_put_str(l, "proto", p->proto);
	ctl_put_kvf(l, "created", "%lld", (long long)p->created);
	ctl_put_kvf(l, "expires", "%lld", (long long)p->expires);
	ctl_put_kvf(l, "connections", "%u", p->connections);
	ctl_put_kv(l, "default", action_name((enum action)p->deflt));
	ctl_put_str(l, "domain", p->domain);
	ctl_put_set(l, "scopes", p->scopes, ctl_scopes, CTL_N_SCOPES);
	ctl_put_set(l, "durations", p->durations, ctl_durations,
	            CTL_N_DURATIONS);
}

/* "a,b,c" of words[] into a bit set; -1 on an unknown word. */
static int
ctl_parse_set(const char *v, const char *const *words, size_t n, unsigned *set)
{
	char buf[128], *tok, *save = NULL;
	int k;

	*set = 0;
	if (strcmp(v, "-") == 0)
		return 0;
	if (strlen(v) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((k = ctl_word_index(words, n, tok)) == -1)
			return -1;
		*set |= 1u << k;
	}
	return 0;
}

/* A string value: "-" is "", too long is an error. */
static int
ctl_get_str(char *dst, size_t cap, const char *v)
{
	if (strcmp(v, "-") == 0)
		v = "";
	if (strlen(v) >= cap)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* An unsigned number of at most max; -1 when not one. */
static int
ctl_get_num(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -1;
	return 0;
}

/* Split "WORD k=v..." whose first word is want; words after it in w. */
static int
ctl_split_event(const char *line, size_t len, const char *want, char **buf,
                struct ctl_word *w, char *err, size_t errlen)
{
	int n;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	*buf = malloc(len + 1);
	if (*buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*buf, line, len);
	n = ctl_split(*buf, len, w, CTL_WORDS_MAX, err, errlen);
	if (n == -1)
		goto fail;
	if (n == 0 || w[0].key != NULL || strcmp(w[0].value, want) != 0) {
		snprintf(err, errlen, "not a %s line", want);
		goto fail;
	}
	return n;
fail:
	free(*buf);
	*buf = NULL;
	return -1;
}

int
ctl_prompt_parse(const char *line, size_t len, struct ctl_prompt *p, char *err,
                 size_t errlen)
{
	struct ctl_word w[CTL_WORDS_MAX];
	unsigned long long num = 0;
	unsigned need = 0;
	char *buf;
	const char *k, *v;
	int n, i, bad = 0, a;

	memset(p, 0, sizeof(*p));
	p->deflt = -1;
	if ((n = ctl_split_event(line, len, "PROMPT", &buf, w, err, errlen)) ==
	    -1)
		return -1;
	for (i = 1; i < n && !bad; i++) {
		k = w[i].key;
		v = w[i].value;
		if (k == NULL)
			continue;
		if (strcmp(k, "id") == 0) {
			bad =
			    ctl_get_num(v, UINT64_MAX, &num) == -1 || num == 0;
			p->id = num;
			need |= 1;
		} else if (strcmp(k, "uid") == 0) {
			bad = ctl_get_num(v, UINT32_MAX - 1, &num) == -1;
			p->uid = (unsigned)num;
			need |= 2;
		} else if (strcmp(k, "pid") == 0) {
			bad = ctl_get_num(v, INT32_MAX, &num) == -1;
			p->pid = (long)num;
		} else if (strcmp(k, "port") == 0) {
			bad = ctl_get_num(v, 65535, &num) == -1;
			p->port = (unsigned)num;
			need |= 4;
		} else if (strcmp(k, "created") == 0 ||
		           strcmp(k, "expires") == 0) {
			bad = ctl_get_num(v, INT64_MAX, &num) == -1;
			*(k[0] == 'c' ? &p->created : &p->expires) =
			    (int64_t)num;
		} else if (strcmp(k, "connections") == 0) {
			bad = ctl_get_num(v, UINT32_MAX, &num) == -1;
			p->connections = (unsigned)num;
		} else if (strcmp(k, "default") == 0) {
			bad = (a = action_parse(v)) == -1;
			p->deflt = a;
		} else if (strcmp(k, "scopes") == 0) {
			bad = ctl_parse_set(v, ctl_scopes, CTL_N_SCOPES,
			                    &p->scopes) == -1;
			need |= 8;
		} else if (strcmp(k, "durations") == 0) {
			bad = ctl_parse_set(v, ctl_durations, CTL_N_DURATIONS,
			                    &p->durations) == -1;
			need |= 16;
		} else if (strcmp(k, "dst") == 0) {
			bad = ctl_get_str(p->dst, sizeof(p->dst), v);
			need |= 32;
		} else if (strcmp(k, "user") == 0)
			bad = ctl_get_str(p->user, sizeof(p->user), v);
		else if (strcmp(k, "app") == 0)
			bad = ctl_get_str(p->app, sizeof(p->app), v);
		else if (strcmp(k, "cmdline") == 0)
			bad = ctl_get_str(p->cmdline, sizeof(p->cmdline), v);
		else if (strcmp(k, "name") == 0)
			bad = ctl_get_str(p->name, sizeof(p->name), v);
		else if (strcmp(k, "source") == 0)
			bad = ctl_get_str(p->source, sizeof(p->source), v);
		else if (strcmp(k, "proto") == 0)
			bad = ctl_get_str(p->proto, sizeof(p->proto), v);
		else if (strcmp(k, "domain") == 0)
			bad = ctl_get_str(p->domain, sizeof(p->domain), v);
	}
	if (bad)
		snprintf(err, errlen, "PROMPT line: bad %s=%.64s", w[i - 1].key,
		         w[i - 1].value);
	else if (need != 63)
		snprintf(err, errlen,
		         "PROMPT line without id, uid, port, scopes, "
		         "durations or dst");
	free(buf);
	return bad || need != 63 ? -1 : 0;
}

int
ctl_withdraw_parse(const char *line, size_t len, struct ctl_withdraw *w,
                   char *err, size_t errlen)
{
	struct ctl_word words[CTL_WORDS_MAX];
	unsigned long long num = 0;
	char *buf;
	int n, i, rc = 0;

	memset(w, 0, sizeof(*w));
	w->verdict = -1;
	if ((n = ctl_split_event(line, len, "WITHDRAW", &buf, words, err,
	                         errlen)) == -1)
		return -1;
	for (i = 1; i < n && rc == 0; i++) {
		if (words[i].key == NULL)
			continue;
		if (strcmp(words[i].key, "id") == 0) {
			if (ctl_get_num(words[i].value, UINT64_MAX, &num) == -1)
				rc = -1;
			w->id = num;
		} else if (strcmp(words[i].key, "reason") == 0)
			rc = ctl_get_str(w->reason, sizeof(w->reason),
			                 words[i].value);
		else if (strcmp(words[i].key, "verdict") == 0)
			w->verdict = action_parse(words[i].value);
	}
	if (rc == 0 && w->id == 0)
		rc = -1;
	if (rc == -1)
		snprintf(err, errlen, "WITHDRAW line without a valid id");
	free(buf);
	return rc;
}
