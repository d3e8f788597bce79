/*
 * ctl_rows.c - the RULE and EVENT lines of the RULES and EVENTS replies;
 * see ctl_rows.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "common/ctl_rows.h"

int
ctl_rule_format(const struct rule *r, int64_t n_names, char *buf, size_t cap)
{
	char *text;
	struct ctl_line l;
	int n = -1;

	text = malloc(RULE_LINE_MAX);
	if (text == NULL)
		return -1;
	rule_format(r, text, RULE_LINE_MAX);
	ctl_line_init(&l, buf, cap);
	ctl_put_word(&l, "RULE");
	if (n_names >= 0)
		ctl_put_kvf(&l, "names", "%lld", (long long)n_names);
	else
		ctl_put_kv(&l, "names", "-");
	if (strncmp(text, "rule ", 5) == 0) {
		ctl_put_raw(&l, text + 5);
		n = ctl_line_end(&l);
	}
	free(text);
	return n;
}

int
ctl_rule_parse(const char *line, size_t len, struct rule *r, int64_t *n_names,
               char *err, size_t errlen)
{
	const char *p = line, *end = line + len, *sp;
	char *text;
	long long v;
	int rc;

	if (len < 12 || memcmp(p, "RULE names=", 11) != 0)
		goto bad;
	p += 11;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		goto bad;
	if (sp - p == 1 && *p == '-')
		*n_names = -1;
	else if (sscanf(p, "%lld", &v) == 1 && v >= 0)
		*n_names = v;
	else
		goto bad;
	/* "rule " and the fields after the space. */
	text = malloc((size_t)(end - sp) + 5);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(text, "rule", 4);
	memcpy(text + 4, sp, (size_t)(end - sp));
	text[4 + (end - sp)] = '\0';
	rc = rule_parse_line(r, text, err, errlen);
	free(text);
	return rc;
bad:
	snprintf(err, errlen, "not a RULE line: \"%.*s\"",
	         (int)(len < 64 ? len : 64), line);
	return -1;
}

/* The fields of struct event_row that are plain strings or numbers. */
enum ctl_ev_type { EV_T_STR, EV_T_I64, EV_T_U16 };

static const struct {
	const char *key;
	enum ctl_ev_type type;
	size_t off, size;
} ctl_ev_fields[] = {
#define S(k, f)                                                                \
	{                                                                      \
		k, EV_T_STR, offsetof(struct event_row, f),                    \
		    sizeof(((struct event_row *)0)->f)                         \
	}
#define I(k, f)                                                                \
	{                                                                      \
		k, EV_T_I64, offsetof(struct event_row, f), 8                  \
	}
    I("conn", conn_id),
    I("time_ms", time_ms),
    S("user", user),
    S("exe", exe),
    S("cmdline", cmdline),
    S("sha256", sha256),
    S("proto", proto),
    S("src", src_ip),
    {"sport", EV_T_U16, offsetof(struct event_row, src_port), 2},
    S("dst", dst_ip),
    {"dport", EV_T_U16, offsetof(struct event_row, dst_port), 2},
    S("name", name),
    S("source", name_source),
    I("rule", rule_id),
    S("upstream", upstream),
    I("bytes_up", bytes_up),
    I("bytes_down", bytes_down),
    I("duration_ms", duration_ms),
    I("lost", n_lost),
    I("lost_first", lost_first_ms),
    I("lost_last", lost_last_ms),
#undef S
#undef I
};

#define CTL_EV_N (sizeof(ctl_ev_fields) / sizeof(ctl_ev_fields[0]))

int
ctl_event_format(const struct event_row *ev, char *buf, size_t cap)
{
	const char *base = (const char *)ev;
	struct ctl_line l;
	int64_t i64;
	uint16_t u16;
	size_t i;

	ctl_line_init(&l, buf, cap);
	ctl_put_word(&l, "EVENT");
	ctl_put_kvf(&l, "id", "%lld", (long long)ev->id);
	ctl_put_kv(&l, "kind", ev->kind == EVENT_GAP ? "gap" : "decision");
	ctl_put_kvf(&l, "pid", "%d", (int)ev->pid);
	if (ev->has_uid)
		ctl_put_kvf(&l, "uid", "%u", (unsigned)ev->uid);
	else
		ctl_put_kv(&l, "uid", "-");
	ctl_put_kv(&l, "verdict", action_name(ev->verdict));
	ctl_put_kv(&l, "decider", event_decider_str(ev->decider));
	ctl_put_kvf(&l, "flags", "%u", ev->flags);
	for (i = 0; i < CTL_EV_N; i++) {
		switch (ctl_ev_fields[i].type) {
		case EV_T_STR:
			ctl_put_kv(&l, ctl_ev_fields[i].key,
			           base + ctl_ev_fields[i].off);
			break;
		case EV_T_I64:
			memcpy(&i64, base + ctl_ev_fields[i].off, 8);
			ctl_put_kvf(&l, ctl_ev_fields[i].key, "%lld",
			            (long long)i64);
			break;
		case EV_T_U16:
			memcpy(&u16, base + ctl_ev_fields[i].off, 2);
			ctl_put_kvf(&l, ctl_ev_fields[i].key, "%u",
			            (unsigned)u16);
			break;
		}
	}
	return ctl_line_end(&l);
}

/* A signed decimal number from lo to hi; -1 when s is none. */
static int
ctl_ev_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	if (*s == '\0')
		return -1;
	*out = strtoll(s, &end, 10);
	return *end == '\0' && *out >= lo && *out <= hi ? 0 : -1;
}

static int
ctl_ev_decider(const char *s)
{
	int d;

	for (d = DECIDER_RULE; d <= DECIDER_SHARED; d++)
		if (strcmp(event_decider_str((enum event_decider)d), s) == 0)
			return d;
	return -1;
}

/* key=value of an EVENT line into ev; 0, or -1 when the value is bad. */
static int
ctl_event_word(struct event_row *ev, const char *key, const char *v)
{
	char *base = (char *)ev;
	long long n;
	int64_t i64;
	uint16_t u16;
	size_t i;
	int d;

	if (strcmp(key, "id") == 0)
		return ctl_ev_num(v, 1, INT64_MAX, &n) == -1 ? -1
		                                             : (ev->id = n, 0);
	if (strcmp(key, "kind") == 0) {
		if (strcmp(v, "gap") != 0 && strcmp(v, "decision") != 0)
			return -1;
		ev->kind = strcmp(v, "gap") == 0 ? EVENT_GAP : EVENT_DECISION;
		return 0;
	}
	if (strcmp(key, "pid") == 0)
		return ctl_ev_num(v, 0, INT32_MAX, &n) == -1
		           ? -1
		           : (ev->pid = (pid_t)n, 0);
	if (strcmp(key, "uid") == 0) {
		if (strcmp(v, "-") == 0) {
			ev->has_uid = false;
			ev->uid = 0;
			return 0;
		}
		if (ctl_ev_num(v, 0, UINT32_MAX - 1, &n) == -1)
			return -1;
		ev->has_uid = true;
		ev->uid = (uid_t)n;
		return 0;
	}
	if (strcmp(key, "verdict") == 0) {
		if ((d = action_parse(v)) == -1)
			return -1;
		ev->verdict = (enum action)d;
		return 0;
	}
	if (strcmp(key, "decider") == 0) {
		if ((d = ctl_ev_decider(v)) == -1)
			return -1;
		ev->decider = (enum event_decider)d;
		return 0;
	}
	if (strcmp(key, "flags") == 0)
		return ctl_ev_num(v, 0, UINT32_MAX, &n) == -1
		           ? -1
		           : (ev->flags = (unsigned)n, 0);
	for (i = 0; i < CTL_EV_N; i++) {
		if (strcmp(key, ctl_ev_fields[i].key) != 0)
			continue;
		switch (ctl_ev_fields[i].type) {
		case EV_T_STR:
			if (strlen(v) >= ctl_ev_fields[i].size)
				return -1;
			/* All of it: a key given twice leaves nothing of
			 * the first value. */
			memset(base + ctl_ev_fields[i].off, 0,
			       ctl_ev_fields[i].size);
			memcpy(base + ctl_ev_fields[i].off, v, strlen(v));
			return 0;
		case EV_T_I64:
			if (ctl_ev_num(v, INT64_MIN, INT64_MAX, &n) == -1)
				return -1;
			i64 = n;
			memcpy(base + ctl_ev_fields[i].off, &i64, 8);
			return 0;
		case EV_T_U16:
			if (ctl_ev_num(v, 0, 65535, &n) == -1)
				return -1;
			u16 = (uint16_t)n;
			memcpy(base + ctl_ev_fields[i].off, &u16, 2);
			return 0;
		}
	}
	return 0; /* a newer daemon's key */
}

int
ctl_event_parse(const char *line, size_t len, struct event_row *ev, char *err,
                size_t errlen)
{
	struct ctl_word w[CTL_WORDS_MAX];
	char *copy;
	int n, i, rc = -1;

	memset(ev, 0, sizeof(*ev));
	copy = malloc(len + 1);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, line, len);
	n = ctl_split(copy, len, w, CTL_WORDS_MAX, err, errlen);
	if (n < 1 || w[0].key != NULL || strcmp(w[0].value, "EVENT") != 0) {
		if (n != -1)
			snprintf(err, errlen, "not an EVENT line: \"%.*s\"",
			         (int)(len < 64 ? len : 64), line);
		goto out;
	}
	for (i = 1; i < n; i++) {
		if (w[i].key == NULL ||
		    ctl_event_word(ev, w[i].key, w[i].value) == -1) {
			snprintf(err, errlen, "EVENT line: bad word \"%.64s\"",
			         w[i].key != NULL ? w[i].key : w[i].value);
			goto out;
		}
	}
	if (ev->id == 0) {
		snprintf(err, errlen, "EVENT line without an id");
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}
