/*
 * ctl_prompt.c - the prompt lines of the control protocol: PROMPT and
 * DENIED written and read, WITHDRAW read; see ctl_prompt.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/ctl_prompt.h"

/* The names of the sets' members: scopes and durations, by number. */
static const char *
ctl_scope_word(unsigned i)
{
	return ctl_scope_name((enum ctl_scope)i);
}

static const char *
ctl_duration_word(unsigned i)
{
	return ctl_duration_name((enum ctl_duration)i);
}

/* "name,domain,app" from a bit set over word(0..n), in the order of
 * order[0..n) (NULL: by number). */
static void
ctl_put_set(struct ctl_line *l, const char *key, unsigned set,
            const char *(*word)(unsigned), const int *order, size_t n)
{
	char buf[128];
	size_t i, off = 0;
	unsigned b;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		b = order != NULL ? (unsigned)order[i] : (unsigned)i;
		if (set & (1u << b))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
			                off > 0 ? "," : "", word(b));
	}
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
	ctl_put_set(l, "scopes", p->scopes, ctl_scope_word, NULL, CTL_N_SCOPES);
	ctl_put_set(l, "durations", p->durations, ctl_duration_word,
	            ctl_duration_order, CTL_N_DURATIONS);
}

/* "a,b,c" into a bit set, each word's bit as parse() numbers it; -1 on
 * a word it does not know. */
static int
ctl_parse_set(const char *v, int (*parse)(const char *), unsigned *set)
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
		if ((k = parse(tok)) == -1)
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

/* How a key's value is read, and where it goes. */
enum ctl_field_kind {
	CTL_F_NUM,       /* unsigned, at most max; 0 refused with nonzero */
	CTL_F_STR,       /* "-" is ""; "" refused with nonzero */
	CTL_F_ACTION,    /* allow, deny or reject, as an int */
	CTL_F_SCOPES,    /* a set of scope words */
	CTL_F_DURATIONS, /* a set of duration words */
};

struct ctl_field {
	const char *key;
	enum ctl_field_kind kind;
	size_t off;  /* in the struct filled */
	size_t size; /* the member's: a string's array, a number's type */
	unsigned long long max;
	bool nonzero;
	unsigned need; /* its bit among the keys a line must have, or 0 */
};

/* clang-format off */
#define CTL_FIELD(type, member, kind, max, nonzero, need)                      \
	{#member, kind, offsetof(type, member), sizeof(((type *)0)->member),   \
	 max, nonzero, need}
/* clang-format on */

/* Store num in the member of size bytes at dst (an integer type). */
static void
ctl_field_num(void *dst, size_t size, unsigned long long num)
{
	uint64_t u64 = num;
	uint32_t u32 = (uint32_t)num;

	if (size == sizeof(u64))
		memcpy(dst, &u64, sizeof(u64));
	else
		memcpy(dst, &u32, sizeof(u32));
}

/* One value v of field f into obj; -1 when it is bad. */
static int
ctl_field_read(const struct ctl_field *f, const char *v, void *obj)
{
	char *dst = (char *)obj + f->off;
	unsigned long long num;
	unsigned set;
	int a;

	switch (f->kind) {
	case CTL_F_NUM:
		if (ctl_get_num(v, f->max, &num) == -1 ||
		    (f->nonzero && num == 0))
			return -1;
		ctl_field_num(dst, f->size, num);
		return 0;
	case CTL_F_STR:
		return ctl_get_str(dst, f->size, v) == -1 ||
		               (f->nonzero && dst[0] == '\0')
		           ? -1
		           : 0;
	case CTL_F_ACTION:
		if ((a = action_parse(v)) == -1)
			return -1;
		memcpy(dst, &a, sizeof(a));
		return 0;
	case CTL_F_SCOPES:
	case CTL_F_DURATIONS:
		if (ctl_parse_set(v,
		                  f->kind == CTL_F_SCOPES ? ctl_scope_parse
		                                          : ctl_duration_parse,
		                  &set) == -1)
			return -1;
		memcpy(dst, &set, sizeof(set));
		return 0;
	}
	return -1;
}

/*
 * A whole line "WORD k=v..." whose keys are the n fields of f, into obj
 * (its unset members left as they are).  Unknown keys are skipped.  0,
 * or -1 + err: not such a line, a bad value, or a key of need_all
 * missing (err then says "WORD line without " and needs).
 */
static int
ctl_fields_parse(const char *line, size_t len, const char *word,
                 const struct ctl_field *f, size_t n, unsigned need_all,
                 const char *needs, void *obj, char *err, size_t errlen)
{
	struct ctl_word w[CTL_WORDS_MAX];
	unsigned need = 0;
	char *buf;
	int nw, i;
	size_t j;

	if ((nw = ctl_split_event(line, len, word, &buf, w, err, errlen)) == -1)
		return -1;
	for (i = 1; i < nw; i++) {
		if (w[i].key == NULL)
			continue;
		for (j = 0; j < n && strcmp(w[i].key, f[j].key) != 0; j++)
			;
		if (j == n)
			continue;
		if (ctl_field_read(&f[j], w[i].value, obj) == -1) {
			snprintf(err, errlen, "%s line: bad %s=%.64s", word,
			         w[i].key, w[i].value);
			free(buf);
			return -1;
		}
		need |= f[j].need;
	}
	free(buf);
	if (need != need_all) {
		snprintf(err, errlen, "%s line without %s", word, needs);
		return -1;
	}
	return 0;
}

#define NUM(t, m, max, nz, need) CTL_FIELD(t, m, CTL_F_NUM, max, nz, need)
#define STR(t, m, nz, need)      CTL_FIELD(t, m, CTL_F_STR, 0, nz, need)
#define KIND(t, m, kind, need)   CTL_FIELD(t, m, kind, 0, false, need)

/* The keys of a PROMPT line ("default" is struct ctl_prompt's deflt). */
static const struct ctl_field prompt_fields[] = {
    NUM(struct ctl_prompt, id, UINT64_MAX, true, 1),
    NUM(struct ctl_prompt, uid, UINT32_MAX - 1, false, 2),
    NUM(struct ctl_prompt, pid, INT32_MAX, false, 0),
    NUM(struct ctl_prompt, port, 65535, false, 4),
    NUM(struct ctl_prompt, created, INT64_MAX, false, 0),
    NUM(struct ctl_prompt, expires, INT64_MAX, false, 0),
    NUM(struct ctl_prompt, connections, UINT32_MAX, false, 0),
    {"default", CTL_F_ACTION, offsetof(struct ctl_prompt, deflt), sizeof(int),
     0, false, 0},
    KIND(struct ctl_prompt, scopes, CTL_F_SCOPES, 8),
    KIND(struct ctl_prompt, durations, CTL_F_DURATIONS, 16),
    STR(struct ctl_prompt, dst, false, 32),
    STR(struct ctl_prompt, user, false, 0),
    STR(struct ctl_prompt, app, false, 0),
    STR(struct ctl_prompt, cmdline, false, 0),
    STR(struct ctl_prompt, name, false, 0),
    STR(struct ctl_prompt, source, false, 0),
    STR(struct ctl_prompt, proto, false, 0),
    STR(struct ctl_prompt, domain, false, 0),
};

/* The keys of a DENIED line. */
static const struct ctl_field denied_fields[] = {
    NUM(struct ctl_denied, uid, UINT32_MAX - 1, false, 1),
    STR(struct ctl_denied, app, false, 2),
    NUM(struct ctl_denied, port, 65535, false, 4),
    KIND(struct ctl_denied, verdict, CTL_F_ACTION, 8),
    STR(struct ctl_denied, decider, true, 16),
    NUM(struct ctl_denied, count, UINT32_MAX, true, 32),
    NUM(struct ctl_denied, rule, INT64_MAX, false, 0),
    NUM(struct ctl_denied, time, INT64_MAX, false, 0),
    STR(struct ctl_denied, name, false, 0),
    STR(struct ctl_denied, dst, false, 0),
    STR(struct ctl_denied, proto, false, 0),
};

#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

int
ctl_prompt_parse(const char *line, size_t len, struct ctl_prompt *p, char *err,
                 size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->deflt = -1;
	return ctl_fields_parse(
	    line, len, "PROMPT", prompt_fields, NFIELDS(prompt_fields), 63,
	    "id, uid, port, scopes, durations or dst", p, err, errlen);
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

void
ctl_denied_put(struct ctl_line *l, const struct ctl_denied *d)
{
	ctl_put_kvf(l, "uid", "%u", d->uid);
	ctl_put_str(l, "app", d->app);
	ctl_put_str(l, "name", d->name);
	ctl_put_str(l, "dst", d->dst);
	ctl_put_kvf(l, "port", "%u", d->port);
	ctl_put_str(l, "proto", d->proto);
	ctl_put_kv(l, "verdict", action_name((enum action)d->verdict));
	ctl_put_str(l, "decider", d->decider);
	ctl_put_kvf(l, "rule", "%lld", (long long)d->rule);
	ctl_put_kvf(l, "count", "%u", d->count);
	ctl_put_kvf(l, "time", "%lld", (long long)d->time);
}

int
ctl_denied_parse(const char *line, size_t len, struct ctl_denied *d, char *err,
                 size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->verdict = -1;
	return ctl_fields_parse(
	    line, len, "DENIED", denied_fields, NFIELDS(denied_fields), 63,
	    "uid, app, port, verdict, decider or count", d, err, errlen);
}
