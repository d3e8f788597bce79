/*
 * events_row.c - one event of "tollgate events" as a row of its table (the
 * short columns, or every field with --wide) or as a line of JSON
 * (events.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/events.h"

#define EV_GAP_COLOUR "\033[33m"

static const struct table_col ev_short_cols[] = {
    {.head = "TIME", .stream = 8, .max = 12},
    {.head = "APP", .stream = 12, .max = 14, .shrink = true, .soft = true},
    {.head = "PID", .stream = 7, .max = 7, .right = true},
    {.head = "USER", .stream = 8, .max = 10, .shrink = true, .soft = true},
    {.head = "DEST", .stream = 20, .cut_left = true, .flex = true},
    {.head = "PORT", .stream = 5, .max = 5, .right = true},
    {.head = "VERDICT", .stream = 7, .max = 7, .paint = true},
    {.head = "BY", .stream = 8, .max = 10},
    {.head = "UP", .stream = 5, .max = 5, .right = true},
    {.head = "DOWN", .stream = 5, .max = 5, .right = true},
    {.head = "DUR", .stream = 5, .max = 6, .right = true},
};

static const struct table_col ev_wide_cols[] = {
    {.head = "ID", .stream = 6, .right = true},
    {.head = "TIME", .stream = 23},
    {.head = "PID", .stream = 7, .right = true},
    {.head = "UID", .stream = 5, .right = true},
    {.head = "USER", .stream = 8},
    {.head = "EXE", .stream = 24},
    {.head = "NAME", .stream = 24},
    {.head = "FROM", .stream = 6},
    {.head = "DST", .stream = 21},
    {.head = "SRC", .stream = 21},
    {.head = "PROTO", .stream = 5},
    {.head = "VERDICT", .stream = 7, .paint = true},
    {.head = "BY", .stream = 8},
    {.head = "UPSTREAM", .stream = 8},
    {.head = "UP", .stream = 8, .right = true},
    {.head = "DOWN", .stream = 8, .right = true},
    {.head = "DUR", .stream = 8, .right = true},
    {.head = "FLAGS", .stream = 5},
    {.head = "SHA256", .stream = 64},
    {.head = "CMDLINE", .stream = 0},
};

_Static_assert(sizeof(ev_wide_cols) / sizeof(ev_wide_cols[0]) <= TABLE_COLS_MAX,
               "TABLE_COLS_MAX holds the wide table");

static const char *
ev_verdict_colour(enum action v)
{
	switch (v) {
	case ACTION_ALLOW:
		return "\033[32m";
	case ACTION_DENY:
		return "\033[31m";
	case ACTION_REJECT:
		return "\033[1;31m";
	}
	return "";
}

static const char *
ev_base(const char *exe)
{
	const char *b = strrchr(exe, '/');

	return b != NULL && b[1] != '\0' ? b + 1 : exe;
}

static const char *
ev_decider(const struct event_row *r, char *buf, size_t len)
{
	if (r->decider == DECIDER_RULE)
		snprintf(buf, len, "rule %lld", (long long)r->rule_id);
	else
		snprintf(buf, len, "%s", event_decider_str(r->decider));
	return buf;
}

/* The words of an event's flags, "," between them, into a buffer. */
struct ev_words {
	char *buf;
	size_t len, used;
	const char *quote; /* around each word: "" or "\"" (JSON) */
};

static void
ev_add_word(const char *word, void *arg)
{
	struct ev_words *w = arg;
	int n;

	if (w->used >= w->len)
		return;
	n = snprintf(w->buf + w->used, w->len - w->used, "%s%s%s%s",
	             w->used > 0 ? "," : "", w->quote, word, w->quote);
	if (n > 0)
		w->used += (size_t)n;
}

/* "ech,encrypted-dns" (quote "") or "\"ech\",\"encrypted-dns\"";
 * "" when none. */
static const char *
ev_flag_words(unsigned flags, const char *quote, char *buf, size_t len)
{
	struct ev_words w = {buf, len, 0, quote};

	buf[0] = '\0';
	event_flags_each(flags, ev_add_word, &w);
	return buf;
}

static const char *
ev_flags(unsigned flags, char *buf, size_t len)
{
	ev_flag_words(flags, "", buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

/* "192.0.2.1:443", "[2001:db8::1]:443". */
static const char *
ev_addr(const char *ip, unsigned port, char *buf, size_t len)
{
	if (ip[0] == '\0')
		snprintf(buf, len, "-");
	else if (strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else
		snprintf(buf, len, "%s:%u", ip, port);
	return buf;
}

/* The gap's words: "… 37 events not recorded between T1 and T2 …". */
static void
ev_gap_text(const struct ev_ctx *ctx, const struct event_row *r, char *buf,
            size_t len)
{
	char t1[64], t2[64];
	const char *ell = ctx->term.utf8 ? "\xe2\x80\xa6" : "...";

	if (ctx->a.wide) {
		cli_ev_time_long(r->lost_first_ms, t1, sizeof(t1));
		cli_ev_time_long(r->lost_last_ms, t2, sizeof(t2));
	} else {
		cli_ev_time_short(r->lost_first_ms, ctx->now, t1, sizeof(t1));
		cli_ev_time_short(r->lost_last_ms, ctx->now, t2, sizeof(t2));
	}
	snprintf(buf, len, "%s %lld event%s not recorded between %s and %s %s",
	         ell, (long long)r->n_lost, r->n_lost == 1 ? "" : "s", t1, t2,
	         ell);
}

int
ev_row_cells(const struct ev_ctx *ctx, const struct event_row *r,
             struct table_row *l)
{
	char buf[EVENT_EXE_MAX + 64], num[64];
	const char *user;
	size_t i = 0;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (r->kind == EVENT_GAP) {
		l->line = true;
		l->paint = EV_GAP_COLOUR;
		ev_gap_text(ctx, r, buf, sizeof(buf));
		return table_cell(&ctx->t, l, 0, buf);
	}
	l->paint = ev_verdict_colour(r->verdict);
	user = r->user[0] != '\0' ? r->user : "-";
	if (!ctx->a.wide) {
		rc |= table_cell(
		    &ctx->t, l, i++,
		    cli_ev_time_short(r->time_ms, ctx->now, buf, sizeof(buf)));
		rc |= table_cell(&ctx->t, l, i++,
		                 r->exe[0] != '\0' ? ev_base(r->exe) : "?");
		snprintf(num, sizeof(num), "%ld", (long)r->pid);
		rc |= table_cell(&ctx->t, l, i++, r->pid > 0 ? num : "-");
		if (r->user[0] == '\0' && r->has_uid)
			snprintf(num, sizeof(num), "%u", (unsigned)r->uid);
		else
			snprintf(num, sizeof(num), "%s", user);
		rc |= table_cell(&ctx->t, l, i++, num);
		rc |= table_cell(&ctx->t, l, i++,
		                 r->name[0] != '\0'     ? r->name
		                 : r->dst_ip[0] != '\0' ? r->dst_ip
		                                        : "-");
		snprintf(num, sizeof(num), "%u", (unsigned)r->dst_port);
		rc |= table_cell(&ctx->t, l, i++, num);
		rc |= table_cell(&ctx->t, l, i++, action_name(r->verdict));
		rc |= table_cell(&ctx->t, l, i++,
		                 ev_decider(r, buf, sizeof(buf)));
		rc |= table_cell(&ctx->t, l, i++,
		                 cli_ev_bytes(r->bytes_up, num, sizeof(num)));
		rc |= table_cell(&ctx->t, l, i++,
		                 cli_ev_bytes(r->bytes_down, num, sizeof(num)));
		rc |= table_cell(
		    &ctx->t, l, i++,
		    cli_ev_duration(r->duration_ms, num, sizeof(num)));
		return rc == 0 ? 0 : -1;
	}
	snprintf(num, sizeof(num), "%lld", (long long)r->id);
	rc |= table_cell(&ctx->t, l, i++, num);
	rc |= table_cell(&ctx->t, l, i++,
	                 cli_ev_time_long(r->time_ms, buf, sizeof(buf)));
	snprintf(num, sizeof(num), "%ld", (long)r->pid);
	rc |= table_cell(&ctx->t, l, i++, r->pid > 0 ? num : "-");
	snprintf(num, sizeof(num), "%u", (unsigned)r->uid);
	rc |= table_cell(&ctx->t, l, i++, r->has_uid ? num : "-");
	rc |= table_cell(&ctx->t, l, i++, user);
	rc |= table_cell(&ctx->t, l, i++, r->exe[0] != '\0' ? r->exe : "?");
	rc |= table_cell(&ctx->t, l, i++, r->name[0] != '\0' ? r->name : "-");
	rc |= table_cell(&ctx->t, l, i++,
	                 r->name_source[0] != '\0' ? r->name_source : "-");
	rc |= table_cell(&ctx->t, l, i++,
	                 ev_addr(r->dst_ip, r->dst_port, buf, sizeof(buf)));
	rc |= table_cell(&ctx->t, l, i++,
	                 ev_addr(r->src_ip, r->src_port, buf, sizeof(buf)));
	rc |= table_cell(&ctx->t, l, i++, r->proto[0] != '\0' ? r->proto : "-");
	rc |= table_cell(&ctx->t, l, i++, action_name(r->verdict));
	rc |= table_cell(&ctx->t, l, i++, ev_decider(r, buf, sizeof(buf)));
	rc |= table_cell(&ctx->t, l, i++,
	                 r->upstream[0] != '\0' ? r->upstream : "-");
	snprintf(num, sizeof(num), "%lld", (long long)r->bytes_up);
	rc |= table_cell(&ctx->t, l, i++, r->bytes_up >= 0 ? num : "-");
	snprintf(num, sizeof(num), "%lld", (long long)r->bytes_down);
	rc |= table_cell(&ctx->t, l, i++, r->bytes_down >= 0 ? num : "-");
	snprintf(num, sizeof(num), "%lldms", (long long)r->duration_ms);
	rc |= table_cell(&ctx->t, l, i++, r->duration_ms >= 0 ? num : "-");
	rc |= table_cell(&ctx->t, l, i++, ev_flags(r->flags, buf, sizeof(buf)));
	rc |=
	    table_cell(&ctx->t, l, i++, r->sha256[0] != '\0' ? r->sha256 : "-");
	rc |= table_cell(&ctx->t, l, i++,
	                 r->cmdline[0] != '\0' ? r->cmdline : "-");
	return rc == 0 ? 0 : -1;
}

static void
ev_json_int_or_null(const char *key, int64_t v, bool known)
{
	if (known)
		printf(",\"%s\":%lld", key, (long long)v);
	else
		printf(",\"%s\":null", key);
}

static void
ev_json_key_str(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	cli_json_str(stdout, s);
}

static void
ev_json_key_time(const char *key, int64_t ms)
{
	char buf[64];

	printf(",\"%s\":", key);
	cli_json_str(stdout, cli_ev_time_iso(ms, buf, sizeof(buf)));
	printf(",\"%s_ms\":%lld", key, (long long)ms);
}

void
ev_row_json(const struct event_row *r)
{
	char flags[192];

	printf("{\"id\":%lld,\"kind\":\"%s\"", (long long)r->id,
	       r->kind == EVENT_GAP ? "gap" : "decision");
	ev_json_key_time("time", r->time_ms);
	if (r->kind == EVENT_GAP) {
		printf(",\"n_lost\":%lld", (long long)r->n_lost);
		ev_json_key_time("lost_first", r->lost_first_ms);
		ev_json_key_time("lost_last", r->lost_last_ms);
		printf("}\n");
		return;
	}
	printf(",\"conn_id\":%lld", (long long)r->conn_id);
	ev_json_int_or_null("pid", r->pid, r->pid > 0);
	ev_json_int_or_null("uid", r->uid, r->has_uid);
	ev_json_key_str("user", r->user);
	ev_json_key_str("exe", r->exe);
	ev_json_key_str("app", ev_base(r->exe));
	ev_json_key_str("cmdline", r->cmdline);
	if (r->sha256[0] != '\0')
		ev_json_key_str("sha256", r->sha256);
	else
		printf(",\"sha256\":null");
	ev_json_key_str("proto", r->proto);
	ev_json_key_str("src_ip", r->src_ip);
	printf(",\"src_port\":%u", (unsigned)r->src_port);
	ev_json_key_str("dst_ip", r->dst_ip);
	printf(",\"dst_port\":%u", (unsigned)r->dst_port);
	if (r->name[0] != '\0')
		ev_json_key_str("name", r->name);
	else
		printf(",\"name\":null");
	ev_json_key_str("name_source", r->name_source);
	printf(",\"verdict\":\"%s\"", action_name(r->verdict));
	ev_json_key_str("decider", event_decider_str(r->decider));
	ev_json_int_or_null("rule_id", r->rule_id, r->decider == DECIDER_RULE);
	ev_json_key_str("upstream", r->upstream);
	printf(",\"flags\":[%s]",
	       ev_flag_words(r->flags, "\"", flags, sizeof(flags)));
	ev_json_int_or_null("bytes_up", r->bytes_up, r->bytes_up >= 0);
	ev_json_int_or_null("bytes_down", r->bytes_down, r->bytes_down >= 0);
	ev_json_int_or_null("duration_ms", r->duration_ms, r->duration_ms >= 0);
	printf("}\n");
}

void
ev_table_init(struct ev_ctx *ctx)
{
	unsigned colour = ctx->term.color ? TABLE_COLOR : 0;

	if (ctx->a.wide)
		table_init(&ctx->t, ev_wide_cols,
		           sizeof(ev_wide_cols) / sizeof(ev_wide_cols[0]), 1,
		           EVENTS_DEST_MIN, &ctx->term, colour);
	else
		table_init(&ctx->t, ev_short_cols,
		           sizeof(ev_short_cols) / sizeof(ev_short_cols[0]), 1,
		           EVENTS_DEST_MIN, &ctx->term, TABLE_FIT | colour);
	/* Rows streamed from the past may be of other days; a follower's
	 * new rows are today's. */
	if (!ctx->a.wide && !ctx->a.follow) {
		ctx->t.floor[0] = ev_short_cols[0].max;
		table_fit(&ctx->t, true);
	}
}
