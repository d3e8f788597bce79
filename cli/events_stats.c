/*
 * events_stats.c - "tollgate events stats": the event log at a glance.
 * The top apps and domains as bars (allowed and denied parts), what was
 * denied most, and the connections per hour as a bar chart; or all of it
 * as one JSON object.  The counting is events_stats() (store/events.h);
 * this file only draws.  Denied means deny or reject throughout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "store/events.h"

#define STATS_LABEL_MAX  28 /* app and domain labels, in columns */
#define STATS_BAR_MAX    40 /* the longest bar */
#define STATS_CHART_ROWS 8  /* the height of the hourly chart */
#define STATS_DENIED_TOP 5  /* domains named in the denied line */
#define STATS_YLABEL     6  /* "12.3K " left of the chart */

/* How to draw: colour codes and glyphs for this terminal. */
struct stats_pen {
	const struct cli_term *t;
	const char *allow, *deny; /* a bar cell of each kind */
	const char *on_allow, *on_deny, *on_chart, *on_head, *off;
};

static void
stats_pen_init(struct stats_pen *p, const struct cli_term *t)
{
	p->t = t;
	if (t->utf8) {
		p->allow = "\xe2\x96\x88";                            /* █ */
		p->deny = t->color ? "\xe2\x96\x88" : "\xe2\x96\x91"; /* █ ░ */
	} else {
		p->allow = "#";
		p->deny = t->color ? "#" : "x";
	}
	p->on_allow = t->color ? "\033[32m" : "";
	p->on_deny = t->color ? "\033[31m" : "";
	p->on_chart = t->color ? "\033[36m" : "";
	p->on_head = t->color ? "\033[1m" : "";
	p->off = t->color ? "\033[0m" : "";
}

/* 1234567 as "1,234,567". */
static const char *
stats_num(int64_t v, char *buf, size_t len)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%lld", (long long)(v < 0 ? -v : v));
	n = strlen(digits);
	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* 412, 9.9K, 12K, 1.2M: fits the chart's y labels. */
static const char *
stats_short(int64_t v, char *buf, size_t len)
{
	if (v < 10000)
		snprintf(buf, len, "%lld", (long long)v);
	else if (v < 1000000)
		snprintf(buf, len, "%lldK", (long long)(v / 1000));
	else
		snprintf(buf, len, "%.1fM", (double)v / 1e6);
	return buf;
}

static void
stats_repeat(const char *s, size_t n)
{
	while (n-- > 0)
		fputs(s, stdout);
}

/* Cells of a bar for count out of max, at most width; never 0 for a
 * count that is not 0. */
static size_t
stats_cells(int64_t count, int64_t max, size_t width)
{
	size_t n;

	if (count <= 0 || max <= 0)
		return 0;
	n = (size_t)((count * (int64_t)width + max / 2) / max);
	return n == 0 ? 1 : n;
}

/* "firefox-esr", or the whole path when two apps share that name. */
static const char *
stats_app_label(const struct events_stats *st, size_t i)
{
	const char *base = strrchr(st->apps[i].key, '/'), *other;
	size_t j;

	base = base != NULL && base[1] != '\0' ? base + 1 : st->apps[i].key;
	for (j = 0; j < st->n_apps; j++) {
		if (j == i)
			continue;
		other = strrchr(st->apps[j].key, '/');
		other = other != NULL ? other + 1 : st->apps[j].key;
		if (strcmp(base, other) == 0)
			return st->apps[i].key;
	}
	return base[0] != '\0' ? base : "(unknown process)";
}

/*
 * One bar per entry: the label, the allowed part, the denied part, the
 * count and how many were denied.
 */
static void
stats_bars(const struct stats_pen *p, const char *title,
           const struct events_top *top, size_t n,
           const struct events_stats *st, bool apps)
{
	char label[EVENT_EXE_MAX + 16], num[32], den[32];
	size_t i, a, d, lw = 0, bar, lmax;
	int64_t max = 0;

	printf("%s%s%s\n", p->on_head, title, p->off);
	if (n == 0) {
		printf("  (none)\n");
		return;
	}
	/* A narrow terminal: shorter labels first, then shorter bars. */
	lmax = (size_t)p->t->cols / 3;
	if (lmax > STATS_LABEL_MAX)
		lmax = STATS_LABEL_MAX;
	for (i = 0; i < n; i++) {
		if (top[i].count > max)
			max = top[i].count;
		cli_ev_text(p->t, apps ? stats_app_label(st, i) : top[i].key,
		            lmax, !apps || strchr(top[i].key, '/'), label,
		            sizeof(label));
		if (cli_ev_width(label) > lw)
			lw = cli_ev_width(label);
	}
	/* Room for "  LABEL  BAR COUNT  N denied". */
	bar = (size_t)p->t->cols > lw + 36 ? (size_t)p->t->cols - lw - 36 : 0;
	if (bar < 10)
		bar = 10;
	if (bar > STATS_BAR_MAX)
		bar = STATS_BAR_MAX;
	for (i = 0; i < n; i++) {
		cli_ev_text(p->t, apps ? stats_app_label(st, i) : top[i].key,
		            lmax, !apps || strchr(top[i].key, '/'), label,
		            sizeof(label));
		d = stats_cells(top[i].denied, max, bar);
		a = stats_cells(top[i].count, max, bar);
		a = a > d ? a - d : 0;
		if (top[i].count > top[i].denied && a == 0)
			a = 1;
		fputs("  ", stdout);
		cli_ev_pad(stdout, label, lw, false);
		fputs("  ", stdout);
		fputs(p->on_allow, stdout);
		stats_repeat(p->allow, a);
		fputs(p->off, stdout);
		fputs(p->on_deny, stdout);
		stats_repeat(p->deny, d);
		fputs(p->off, stdout);
		stats_repeat(" ", (a + d < bar ? bar - (a + d) : 0) + 1);
		printf("%8s", stats_num(top[i].count, num, sizeof(num)));
		if (top[i].denied > 0)
			printf("  %s%s denied%s", p->on_deny,
			       stats_num(top[i].denied, den, sizeof(den)),
			       p->off);
		putchar('\n');
	}
}

static int
stats_by_denied(const void *a, const void *b)
{
	const struct events_top *x = a, *y = b;

	if (x->denied != y->denied)
		return x->denied > y->denied ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* "Denied 87 of 1,234 (7.1%), most often:" and the names denied most,
 * one a line. */
static void
stats_denied(const struct stats_pen *p, const struct events_stats *st)
{
	struct events_top *by = NULL;
	char num[32], all[32], name[STATS_LABEL_MAX * 4 + 8];
	size_t i, n = 0, lw = 0, lmax;

	printf("%sDenied%s %s%s%s of %s", p->on_head, p->off, p->on_deny,
	       stats_num(st->denied, num, sizeof(num)), p->off,
	       stats_num(st->total, all, sizeof(all)));
	if (st->total > 0)
		printf(" (%.1f%%)",
		       100.0 * (double)st->denied / (double)st->total);
	if (st->n_domains > 0)
		by = malloc(st->n_domains * sizeof(*by));
	if (by != NULL) {
		memcpy(by, st->domains, st->n_domains * sizeof(*by));
		qsort(by, st->n_domains, sizeof(*by), stats_by_denied);
		while (n < st->n_domains && n < STATS_DENIED_TOP &&
		       by[n].denied > 0)
			n++;
	}
	printf("%s\n", n > 0 ? ", most often:" : "");
	lmax = (size_t)p->t->cols - 16;
	if (lmax > STATS_LABEL_MAX * 2)
		lmax = STATS_LABEL_MAX * 2;
	for (i = 0; i < n; i++) {
		cli_ev_text(p->t, by[i].key, lmax, true, name, sizeof(name));
		if (cli_ev_width(name) > lw)
			lw = cli_ev_width(name);
	}
	for (i = 0; i < n; i++) {
		cli_ev_text(p->t, by[i].key, lmax, true, name, sizeof(name));
		fputs("  ", stdout);
		cli_ev_pad(stdout, name, lw, false);
		printf("  %s%8s%s\n", p->on_deny,
		       stats_num(by[i].denied, num, sizeof(num)), p->off);
	}
	free(by);
}

/*
 * Connections per hour, as columns of block characters (eighths of a cell
 * with UTF-8, '#' and '.' without), STATS_CHART_ROWS high, with the
 * local hour under them.  Hours are merged into one column when there
 * are more than the width holds.
 */
static void
stats_chart(const struct stats_pen *p, const struct events_stats *st)
{
	static const char *const eighths[] = {
	    " ",
	    "\xe2\x96\x81",
	    "\xe2\x96\x82",
	    "\xe2\x96\x83",
	    "\xe2\x96\x84",
	    "\xe2\x96\x85",
	    "\xe2\x96\x86",
	    "\xe2\x96\x87",
	    "\xe2\x96\x88",
	};
	static const int steps[] = {1, 2, 3, 4, 6, 12, 24, 48, 168};
	size_t avail, per, n, colw, c, i, r, k, x, last_end;
	int64_t *col = NULL, max = 0, level, lo;
	char lab[32];
	time_t t;
	struct tm tm;
	int step = 24;

	if (st->n_hours == 0)
		return;
	avail = (size_t)p->t->cols > STATS_YLABEL + 4
	            ? (size_t)p->t->cols - STATS_YLABEL - 4
	            : 20;
	per = (st->n_hours + avail - 1) / avail;
	n = (st->n_hours + per - 1) / per;
	colw = avail / n >= 3 ? 3 : avail / n >= 2 ? 2 : 1;
	col = calloc(n, sizeof(*col));
	if (col == NULL)
		return;
	for (i = 0; i < st->n_hours; i++)
		col[i / per] += st->hours[i];
	for (c = 0; c < n; c++)
		if (col[c] > max)
			max = col[c];

	if (per == 1)
		printf("%sConnections per hour%s", p->on_head, p->off);
	else
		printf("%sConnections per %zu hours%s", p->on_head, per,
		       p->off);
	printf(" (most %lld)\n", (long long)max);
	for (r = STATS_CHART_ROWS; r > 0; r--) {
		if (r == STATS_CHART_ROWS)
			printf("%*s %s", STATS_YLABEL - 1,
			       stats_short(max, lab, sizeof(lab)),
			       p->t->utf8 ? "\xe2\x94\xa4" : "|");
		else
			printf("%*s %s", STATS_YLABEL - 1, "",
			       p->t->utf8 ? "\xe2\x94\x82" : "|");
		fputs(p->on_chart, stdout);
		for (c = 0; c < n; c++) {
			/* In eighths of a cell: how much of row r is full. */
			level =
			    max > 0
			        ? (col[c] * STATS_CHART_ROWS * 8 + max - 1) /
			              max
			        : 0;
			lo = (int64_t)(r - 1) * 8;
			level = level - lo;
			if (level < 0)
				level = 0;
			if (level > 8)
				level = 8;
			for (k = 0; k + (colw > 1 ? 1 : 0) < colw; k++) {
				if (p->t->utf8)
					fputs(eighths[level], stdout);
				else
					putchar(level >= 8   ? '#'
					        : level >= 4 ? '.'
					                     : ' ');
			}
			if (colw > 1)
				putchar(' ');
		}
		fputs(p->off, stdout);
		putchar('\n');
	}
	printf("%*s %s", STATS_YLABEL - 1, "0",
	       p->t->utf8 ? "\xe2\x94\x94" : "+");
	for (x = 0; x < n * colw; x++)
		fputs(p->t->utf8 ? "\xe2\x94\x80" : "-", stdout);
	putchar('\n');

	/* Labels: the local hour (or weekday) every step hours, where
	 * they do not run into each other. */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((size_t)steps[i] >= per &&
		    (size_t)steps[i] * colw / per >= 4) {
			step = steps[i];
			break;
		}
	printf("%*s", STATS_YLABEL + 1, "");
	last_end = 0;
	for (i = 0; i < st->n_hours; i += per) {
		t = (time_t)((st->since_ms + (int64_t)i * EVENTS_HOUR_MS) /
		             1000);
		if (localtime_r(&t, &tm) == NULL)
			break;
		if (step < 24 ? tm.tm_hour % step != 0
		              : tm.tm_hour != 0 ||
		                    (step > 24 && tm.tm_yday % (step / 24)))
			continue;
		x = i / per * colw;
		if (x < last_end)
			continue;
		if (step < 24)
			strftime(lab, sizeof(lab), "%H", &tm);
		else
			strftime(lab, sizeof(lab), "%a", &tm);
		if (x + strlen(lab) > n * colw + 2)
			break;
		printf("%*s%s", (int)(x - last_end), "", lab);
		last_end = x + strlen(lab);
	}
	putchar('\n');
	free(col);
}

static void
stats_json_top(const char *key, const struct events_top *top, size_t n,
               bool apps)
{
	const char *base;
	size_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		printf("%s{\"%s\":", i > 0 ? "," : "", apps ? "exe" : "name");
		cli_json_str(stdout, top[i].key);
		if (apps) {
			base = strrchr(top[i].key, '/');
			printf(",\"app\":");
			cli_json_str(stdout,
			             base != NULL ? base + 1 : top[i].key);
		}
		printf(",\"count\":%lld,\"allowed\":%lld,\"denied\":%lld}",
		       (long long)top[i].count,
		       (long long)(top[i].count - top[i].denied),
		       (long long)top[i].denied);
	}
	putchar(']');
}

static void
stats_json(const struct events_stats *st, size_t n_apps, size_t n_domains)
{
	char buf[64];
	size_t i;

	printf("{\"since\":");
	cli_json_str(stdout, cli_ev_time_iso(st->since_ms, buf, sizeof(buf)));
	printf(",\"since_ms\":%lld,\"until\":", (long long)st->since_ms);
	cli_json_str(stdout, cli_ev_time_iso(st->until_ms, buf, sizeof(buf)));
	printf(",\"until_ms\":%lld", (long long)st->until_ms);
	printf(",\"total\":%lld,\"allowed\":%lld,\"denied\":%lld,"
	       "\"unnamed\":%lld,\"gaps\":%lld,\"lost\":%lld",
	       (long long)st->total, (long long)(st->total - st->denied),
	       (long long)st->denied, (long long)st->unnamed,
	       (long long)st->gaps, (long long)st->lost);
	stats_json_top("apps", st->apps, n_apps, true);
	stats_json_top("domains", st->domains, n_domains, false);
	printf(",\"hours\":[");
	for (i = 0; i < st->n_hours; i++) {
		printf("%s{\"time\":", i > 0 ? "," : "");
		cli_json_str(
		    stdout,
		    cli_ev_time_iso(st->since_ms + (int64_t)i * EVENTS_HOUR_MS,
		                    buf, sizeof(buf)));
		printf(",\"time_ms\":%lld,\"count\":%lld}",
		       (long long)(st->since_ms + (int64_t)i * EVENTS_HOUR_MS),
		       (long long)st->hours[i]);
	}
	printf("]}\n");
}

int
cli_events_stats(struct store *s, int64_t since_ms, int64_t until_ms,
                 size_t n_top, const struct cli_term *t, bool json, char *err,
                 size_t errlen)
{
	struct events_stats st;
	struct stats_pen p;
	char t1[64], num[32], den[32], hours[32];
	size_t n_apps, n_domains;

	memset(&st, 0, sizeof(st));
	/* Ask for every top entry the store keeps: the denied line ranks
	 * domains by denials, which need not be the busiest. */
	if (events_stats(s, since_ms, until_ms, EVENTS_TOP_MAX, &st, err,
	                 errlen) == -1) {
		events_stats_free(&st);
		return -1;
	}
	n_apps = st.n_apps < n_top ? st.n_apps : n_top;
	n_domains = st.n_domains < n_top ? st.n_domains : n_top;
	if (json) {
		stats_json(&st, n_apps, n_domains);
		events_stats_free(&st);
		return 0;
	}
	stats_pen_init(&p, t);
	cli_ev_time_short(since_ms, time(NULL), t1, sizeof(t1));
	snprintf(hours, sizeof(hours), "%zu hour%s", st.n_hours,
	         st.n_hours == 1 ? "" : "s");
	printf("%sSince %s%s (%s): %s connections, %s denied", p.on_head, t1,
	       p.off, hours, stats_num(st.total, num, sizeof(num)),
	       stats_num(st.denied, den, sizeof(den)));
	if (st.unnamed > 0)
		printf(", %s without a name",
		       stats_num(st.unnamed, num, sizeof(num)));
	putchar('\n');
	if (st.lost > 0)
		printf("%s%s events were not recorded (tollgated fell "
		       "behind %lld time%s)%s\n",
		       t->color ? "\033[33m" : "",
		       stats_num(st.lost, num, sizeof(num)), (long long)st.gaps,
		       st.gaps == 1 ? "" : "s", p.off);
	if (st.total == 0) {
		printf("no connections in that time\n");
		events_stats_free(&st);
		return 0;
	}
	printf("%s%s%s allowed  %s%s%s denied\n\n", p.on_allow, p.allow, p.off,
	       p.on_deny, p.deny, p.off);
	stats_bars(&p, "Apps", st.apps, n_apps, &st, true);
	putchar('\n');
	stats_bars(&p, "Domains", st.domains, n_domains, &st, false);
	putchar('\n');
	stats_denied(&p, &st);
	putchar('\n');
	stats_chart(&p, &st);
	events_stats_free(&st);
	return 0;
}
