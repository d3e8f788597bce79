/*
 * ctl_prompt.c - the prompt lines of the control protocol: PROMPT and
 * DENIED written and read, WITHDRAW read; see ctl_prompt.h.
 */
#include <errno.h>
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

/* "name,domain,app" from a bit set over word(0..n). */
static void
ctl_put_set(struct ctl_line *l, const char *key, unsigned set,
            const char *(*word)(unsigned), size_t n)
{
	char buf[128];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if (set & (1u << i))
			off += snprintf(buf + off, sizeof(buf) - off, "%s%s",
			                off > 0 ? "," : "", word(i));
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
	ctl_put_set(l, "scopes", p->scopes, ctl_scope_word, CTL_N_SCOPES);
	ctl_put_set(l, "durations", p->durations, ctl_duration_word,
	            CTL_N_DURATIONS);
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
			bad =
			    ctl_parse_set(v, ctl_scope_parse, &p->scopes) == -1;
			need |= 8;
		} else if (strcmp(k, "durations") == 0) {
			bad = ctl_parse_set(v, ctl_duration_parse,
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
	struct ctl_word w[CTL_WORDS_MAX];
	unsigned long long num = 0;
	unsigned need = 0;
	char *buf;
	const char *k, *v;
	int n, i, bad = 0;

	memset(d, 0, sizeof(*d));
	d->verdict = -1;
	if ((n = ctl_split_event(line, len, "DENIED", &buf, w, err, errlen)) ==
	    -1)
		return -1;
	for (i = 1; i < n && !bad; i++) {
		k = w[i].key;
		v = w[i].value;
		if (k == NULL)
			continue;
		if (strcmp(k, "uid") == 0) {
			bad = ctl_get_num(v, UINT32_MAX - 1, &num) == -1;
			d->uid = (unsigned)num;
			need |= 1;
		} else if (strcmp(k, "app") == 0) {
			bad = ctl_get_str(d->app, sizeof(d->app), v);
			need |= 2;
		} else if (strcmp(k, "port") == 0) {
			bad = ctl_get_num(v, 65535, &num) == -1;
			d->port = (unsigned)num;
			need |= 4;
		} else if (strcmp(k, "verdict") == 0) {
			d->verdict = action_parse(v);
			bad = d->verdict == -1;
			need |= 8;
		} else if (strcmp(k, "decider") == 0) {
			bad = ctl_get_str(d->decider, sizeof(d->decider), v) ||
			      d->decider[0] == '\0';
			need |= 16;
		} else if (strcmp(k, "count") == 0) {
			bad =
			    ctl_get_num(v, UINT32_MAX, &num) == -1 || num == 0;
			d->count = (unsigned)num;
			need |= 32;
		} else if (strcmp(k, "rule") == 0) {
			bad = ctl_get_num(v, INT64_MAX, &num) == -1;
			d->rule = (int64_t)num;
		} else if (strcmp(k, "time") == 0) {
			bad = ctl_get_num(v, INT64_MAX, &num) == -1;
			d->time = (int64_t)num;
		} else if (strcmp(k, "name") == 0)
			bad = ctl_get_str(d->name, sizeof(d->name), v);
		else if (strcmp(k, "dst") == 0)
			bad = ctl_get_str(d->dst, sizeof(d->dst), v);
		else if (strcmp(k, "proto") == 0)
			bad = ctl_get_str(d->proto, sizeof(d->proto), v);
	}
	if (bad)
		snprintf(err, errlen, "DENIED line: bad %s=%.64s", w[i - 1].key,
		         w[i - 1].value);
	else if (need != 63)
		snprintf(err, errlen,
		         "DENIED line without uid, app, port, verdict, decider "
		         "or count");
	free(buf);
	return bad || need != 63 ? -1 : 0;
}
