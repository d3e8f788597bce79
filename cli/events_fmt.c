/*
 * events_fmt.c - how "tollgate events" shows things on a terminal: what
 * the terminal can do (size, colour, UTF-8), text made safe and cut to a
 * width, human byte counts, durations and local times.  Shared by the
 * listing (events.c) and the glance (events_stats.c); declared in cli.h.
 *
 * Everything shown comes from the database, and much of it from the
 * programs being watched (an executable's name, its command line), so
 * every string goes through cli_ev_text(): a control byte or a byte that
 * is not UTF-8 is shown as '?', and no program can write escape
 * sequences to the user's terminal by naming itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/utf8.h"

/* Whether the locale's character set is UTF-8, from the variables
 * setlocale() would read (LC_ALL, then LC_CTYPE, then LANG). */
static bool
term_utf8(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
	const char *v = NULL;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		v = getenv(vars[i]);
		if (v != NULL && v[0] != '\0')
			break;
		v = NULL;
	}
	return v != NULL && (strcasestr(v, "UTF-8") != NULL ||
	                     strcasestr(v, "UTF8") != NULL);
}

void
cli_term_get(struct cli_term *t, bool ascii)
{
	struct winsize ws;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	memset(t, 0, sizeof(*t));
	t->tty = isatty(STDOUT_FILENO) == 1;
	t->utf8 = !ascii && term_utf8();
	t->color = t->tty && (nc == NULL || nc[0] == '\0') &&
	           (term == NULL || strcmp(term, "dumb") != 0);
	t->cols = CLI_TERM_WIDTH;
	t->rows = 0;
	if (t->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		if (ws.ws_col > 0 && ws.ws_col < CLI_TERM_WIDTH)
			t->cols = ws.ws_col;
		t->rows = ws.ws_row;
	}
}

/* Length of the UTF-8 sequence at s (1-4) when it is valid and shortest
 * and not a C1 control (U+0080-U+009F), else 0. */
static int
utf8_seq(const unsigned char *s)
{
	unsigned cp;
	size_t n = utf8_decode(s, &cp);

	return n > 0 && !(cp >= 0x80 && cp < 0xa0) ? (int)n : 0;
}

size_t
cli_ev_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * Make s safe to show: at most width columns (0: no limit), every
 * control byte, invalid UTF-8 (or any non-ASCII byte when the terminal
 * is not UTF-8) replaced by '?'.  When s is wider it is cut and marked
 * with an ellipsis at the end, or at the start with cut_left (a host
 * name, whose end says the most).  Every character counts as one column.
 */
const char *
cli_ev_text(const struct cli_term *t, const char *s, size_t width,
            bool cut_left, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *ell = t->utf8 ? "\xe2\x80\xa6" : "~";
	size_t o = 0, w = 0, total, skip = 0, keep;
	char *safe;
	int n;

	if (outlen == 0)
		return out;
	/* First the safe form, then the cut: cutting counts columns. */
	safe = malloc(strlen(s) + 1);
	if (safe == NULL) {
		snprintf(out, outlen, "?");
		return out;
	}
	while (*p != '\0') {
		n = utf8_seq(p);
		if (*p < 0x20 || *p == 0x7f || n == 0 || (n > 1 && !t->utf8)) {
			safe[o++] = '?';
			p += n > 0 ? n : 1;
		} else {
			memcpy(safe + o, p, (size_t)n);
			o += (size_t)n;
			p += n;
		}
	}
	safe[o] = '\0';
	total = cli_ev_width(safe);
	if (width == 0 || total <= width) {
		snprintf(out, outlen, "%s", safe);
		free(safe);
		return out;
	}
	keep = width > 1 ? width - 1 : 0;
	skip = cut_left ? total - keep : 0;
	o = 0;
	if (cut_left)
		o = (size_t)snprintf(out, outlen, "%s", ell);
	for (p = (const unsigned char *)safe; *p != '\0'; p += n, w++) {
		for (n = 1; (p[n] & 0xc0) == 0x80; n++)
			;
		if (w < skip)
			continue;
		if (w >= skip + keep || o + (size_t)n >= outlen)
			break;
		memcpy(out + o, p, (size_t)n);
		o += (size_t)n;
	}
	if (!cut_left && o + strlen(ell) < outlen) {
		memcpy(out + o, ell, strlen(ell));
		o += strlen(ell);
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	free(safe);
	return out;
}

/* Print s padded with spaces to width columns, on the left or right. */
void
cli_ev_pad(FILE *out, const char *s, size_t width, bool right)
{
	size_t w = cli_ev_width(s);

	if (right)
		for (; w < width; w++)
			putc(' ', out);
	fputs(s, out);
	if (!right)
		for (; w < width; w++)
			putc(' ', out);
}

/* 0-1023 as they are, then 1.0K-9.9K, 10K-1023K, 1.0M... (at most 5
 * characters); "-" for -1 (not known yet). */
const char *
cli_ev_bytes(int64_t b, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v;
	size_t u;

	if (b < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (b < 1024) {
		snprintf(buf, len, "%lld", (long long)b);
		return buf;
	}
	v = (double)b / 1024;
	for (u = 0; v >= 1024 && u + 1 < sizeof(units) - 1; u++)
		v /= 1024;
	if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v < 1023.5 ? v : 1023, units[u]);
	return buf;
}

/* 340ms, 4.2s, 42s, 5m03s, 42m, 3h05m, 42h, 3d (at most 5 characters);
 * "-" for -1. */
const char *
cli_ev_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms < 9950)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 600)
		snprintf(buf, len, "%lldm%02llds", (long long)s / 60,
		         (long long)s % 60);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)s / 60);
	else if (s < 36000)
		snprintf(buf, len, "%lldh%02lldm", (long long)s / 3600,
		         (long long)s % 3600 / 60);
	else if (s < 100 * 3600)
		snprintf(buf, len, "%lldh", (long long)s / 3600);
	else
		snprintf(buf, len, "%lldd", (long long)s / 86400);
	return buf;
}

/* Local time of ms: "13:02:11" when it is today, "Nov 27 13:02" in this
 * year, "2025-11-27" before. */
const char *
cli_ev_time_short(int64_t ms, time_t now, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000), n = now;
	struct tm tm, tn;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&n, &tn) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tm);
	else if (tm.tm_year == tn.tm_year)
		strftime(buf, len, "%b %e %H:%M", &tm);
	else
		strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

/* Local time of ms in full: "2026-11-28 13:02:11.123". */
const char *
cli_ev_time_long(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	char sec[32];
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	strftime(sec, sizeof(sec), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lld", sec, (long long)(ms % 1000));
	return buf;
}

/* ISO 8601 in UTC with milliseconds: "2026-11-28T12:02:11.123Z". */
const char *
cli_ev_time_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	char sec[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lldZ", sec, (long long)(ms % 1000));
	return buf;
}
