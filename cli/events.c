/*
 * events.c - "tollgate events": what tollgated decided, as a table, as
 * JSON lines, or live (--follow); "tollgate events stats" is in
 * events_stats.c, the terminal helpers in events_fmt.c.  tollgate(8) and
 * docs/events.md say what the user sees.
 *
 * The events are read from the database (store/events.h), read-only: it
 * works with tollgated down and never blocks its writer.  A follower polls
 * by id every EVENTS_POLL_MS; it reopens the database when the file is
 * replaced or fails, and waits for it when it is missing.  Memory is
 * bounded whatever comes: a listing holds at most EVENTS_MEASURE_MAX rows
 * (to fit the columns to them) and streams beyond that; a follower prints
 * each row as it reads it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/name.h"
#include "store/events.h"
#include "store/store.h"

#define EVENTS_POLL_MS     200  /* --follow: how often to look */
#define EVENTS_POLL_BATCH  1000 /* --follow: rows per look, at most */
#define EVENTS_LIMIT_PIPE  50   /* default --limit when not a terminal */
#define EVENTS_LIMIT_MIN   10   /* default --limit on a small terminal */
#define EVENTS_ROWS_SPARE  4    /* terminal rows left for the prompt */
#define EVENTS_MEASURE_MAX 5000 /* rows held to fit the columns */
#define EVENTS_LIMIT_MAX   10000000
#define EVENTS_STATS_TOP   10 /* default top apps and domains */
#define EVENTS_ERRLEN      5120
#define EVENTS_DEST_MIN    16 /* the name column's width, at least */

/* The options of one invocation; NULL or false when not given. */
struct ev_args {
	const char *app, *domain, *verdict, *since, *until, *pid, *uid;
	const char *limit;
	bool wide, json, follow, ascii;
};

/* The columns of one table: the short one or --wide. */
enum { EV_COLS_MAX = 20 };

struct ev_col {
	const char *head;
	size_t stream; /* width when rows are not measured first */
	size_t max;    /* at most this wide; 0: no limit (or flex) */
	bool right;    /* numbers */
	bool cut_left; /* keep the end (a host name) */
	bool flex;     /* takes what the others leave of the width */
	bool soft;     /* text whose width the rows shown predict well */
};

/* One row ready to print: cells, or the text of a gap. */
struct ev_line {
	bool gap;
	bool has_verdict;
	enum action verdict;
	char *cell[EV_COLS_MAX];
};

struct ev_table {
	const struct ev_col *cols;
	size_t n_cols;
	size_t width[EV_COLS_MAX];
	size_t floor[EV_COLS_MAX]; /* the least width of each column */
	size_t verdict_col;        /* which column to colour */
	bool header_printed;
	struct ev_line *lines; /* held rows (measured mode) */
	size_t n_lines, cap;
};

struct ev_ctx {
	const struct cli_cmd *cmd;
	const struct cli_opts *opts;
	const char *what; /* "events" or "events stats" */
	struct config cfg;
	struct ev_args a;
	struct cli_term term;
	struct events_filter f;
	char app[PATH_MAX];
	char domain[NAME_MAX_LEN + 1];
	time_t now;
	struct ev_table t;
	bool hold;       /* hold rows to measure the columns */
	int64_t max_id;  /* the largest id shown */
	int64_t last_ms; /* the newest time shown */
	size_t n_shown;
	int cb_error; /* errno of a failed write */
};

static volatile sig_atomic_t ev_stop;

static const struct ev_col ev_short_cols[] = {
    {.head = "TIME", .stream = 8, .max = 12},
    {.head = "APP", .stream = 12, .max = 14, .soft = true},
    {.head = "PID", .stream = 7, .max = 7, .right = true},
    {.head = "USER", .stream = 8, .max = 10, .soft = true},
    {.head = "DEST", .stream = 20, .cut_left = true, .flex = true},
    {.head = "PORT", .stream = 5, .max = 5, .right = true},
    {.head = "VERDICT", .stream = 7, .max = 7},
    {.head = "BY", .stream = 8, .max = 10},
    {.head = "UP", .stream = 5, .max = 5, .right = true},
    {.head = "DOWN", .stream = 5, .max = 5, .right = true},
    {.head = "DUR", .stream = 5, .max = 6, .right = true},
};
#define EV_SHORT_VERDICT 6

static const struct ev_col ev_wide_cols[] = {
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
    {.head = "VERDICT", .stream = 7},
    {.head = "BY", .stream = 8},
    {.head = "UPSTREAM", .stream = 8},
    {.head = "UP", .stream = 8, .right = true},
    {.head = "DOWN", .stream = 8, .right = true},
    {.head = "DUR", .stream = 8, .right = true},
    {.head = "FLAGS", .stream = 5},
    {.head = "CMDLINE", .stream = 0},
};
#define EV_WIDE_VERDICT 11

_Static_assert(sizeof(ev_wide_cols) / sizeof(ev_wide_cols[0]) <= EV_COLS_MAX,
               "EV_COLS_MAX holds the wide table");

static const struct option ev_longopts[] = {
    {"app", required_argument, NULL, 'a'},
    {"domain", required_argument, NULL, 'd'},
    {"verdict", required_argument, NULL, 'v'},
    {"since", required_argument, NULL, 's'},
    {"until", required_argument, NULL, 'U'},
    {"pid", required_argument, NULL, 'p'},
    {"uid", required_argument, NULL, 'u'},
    {"limit", required_argument, NULL, 'n'},
    {"wide", no_argument, NULL, 'w'},
    {"json", no_argument, NULL, 'j'},
    {"follow", no_argument, NULL, 'f'},
    {"ascii", no_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define EV_LIST_ARGS                                                           \
	"[--app EXE] [--domain NAME] [--verdict allow|deny|reject] "           \
	"[--since 10m|2h|3d|TIME] [--until TIME] [--pid N] [--uid N|USER] "    \
	"[--limit N] [--wide] [--json] [--follow]"
#define EV_STATS_ARGS                                                          \
	"stats [--since 1d|TIME] [--until TIME] [--limit N] "                  \
	"[--json] [--ascii]"

/* --------------------------------------------------------------------
 * Errors
 */

static void ev_vmsg(const struct ev_ctx *ctx, const char *fmt, va_list ap,
                    const char *tail) __attribute__((format(printf, 2, 0)));

static void
ev_vmsg(const struct ev_ctx *ctx, const char *fmt, va_list ap, const char *tail)
{
	fflush(stdout);
	fprintf(stderr, CLI_PROG ": %s: ", ctx->what);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "%s\n", tail);
}

/* "tollgate: events: ..." and exit status 1. */
static int ev_fail(const struct ev_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
ev_fail(const struct ev_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vmsg(ctx, fmt, ap, "");
	va_end(ap);
	return CLI_EXIT_FAIL;
}

/* The same, pointing at the help, and exit status 2. */
static int ev_usage(const struct ev_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
ev_usage(const struct ev_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vmsg(ctx, fmt, ap, " (see " CLI_PROG " events --help)");
	va_end(ap);
	return CLI_EXIT_USAGE;
}

/* A note on stderr that does not end the command. */
static void ev_note(const struct ev_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ev_note(const struct ev_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vmsg(ctx, fmt, ap, "");
	va_end(ap);
}

/* --------------------------------------------------------------------
 * Arguments
 */

static int64_t
ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n decimal digits at *p, moved past them.  0 or -1. */
static int
ev_digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* "HH:MM[:SS[.fff]]" at *p into tm and *ms.  0 or -1. */
static int
ev_parse_clock(const char **p, struct tm *tm, int *ms)
{
	int frac, n;

	if (ev_digits(p, 2, &tm->tm_hour) == -1 || **p != ':')
		return -1;
	(*p)++;
	if (ev_digits(p, 2, &tm->tm_min) == -1)
		return -1;
	tm->tm_sec = 0;
	*ms = 0;
	if (**p == ':') {
		(*p)++;
		if (ev_digits(p, 2, &tm->tm_sec) == -1)
			return -1;
		if (**p == '.' || **p == ',') {
			(*p)++;
			for (n = 0, frac = 0; **p >= '0' && **p <= '9'; n++) {
				if (n < 3)
					frac = frac * 10 + (**p - '0');
				(*p)++;
			}
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				frac *= 10;
			*ms = frac;
		}
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	return 0;
}

/*
 * A point in time, as Unix ms:
 *   30s, 10m, 2h, 3d, 1w   that long before now
 *   now, today, yesterday  (midnight, local time)
 *   HH:MM[:SS]             today, local time
 *   YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]
 *                          local time unless a zone is given
 * 0 or -1.
 */
static int
ev_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000},
	             {'m', 60000},
	             {'h', 3600000},
	             {'d', 86400000},
	             {'w', 604800000}};
	time_t now = (time_t)(now_ms / 1000), t;
	const char *p = s;
	struct tm tm;
	char *end;
	long long n;
	int ms = 0, zh, zm, sign;
	bool zone = false, has_date = false;
	int64_t off = 0;
	size_t i;

	if (strcmp(s, "now") == 0) {
		*out = now_ms;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && strchr(s, ':') == NULL &&
	    strchr(s, '-') == NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || n < 0 || end[0] == '\0' || end[1] != '\0')
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == end[0])
				break;
		if (i == sizeof(units) / sizeof(units[0]) ||
		    n > now_ms / units[i].ms)
			return -1;
		*out = now_ms - n * units[i].ms;
		return 0;
	}
	if (localtime_r(&now, &tm) == NULL)
		return -1;
	tm.tm_isdst = -1;
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*out = (int64_t)t * 1000;
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-') {
		has_date = true;
		if (ev_digits(&p, 4, &tm.tm_year) == -1 || *p++ != '-' ||
		    ev_digits(&p, 2, &tm.tm_mon) == -1 || *p++ != '-' ||
		    ev_digits(&p, 2, &tm.tm_mday) == -1)
			return -1;
		if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		    tm.tm_mday > 31 || tm.tm_year < 1970)
			return -1;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (*p == 'T' || *p == 't' || *p == ' ') {
			p++;
			if (ev_parse_clock(&p, &tm, &ms) == -1)
				return -1;
		}
	} else if (ev_parse_clock(&p, &tm, &ms) == -1)
		return -1;
	if (*p == 'Z' || *p == 'z') {
		zone = true;
		p++;
	} else if (has_date && (*p == '+' || *p == '-')) {
		zone = true;
		sign = *p++ == '-' ? -1 : 1;
		if (ev_digits(&p, 2, &zh) == -1)
			return -1;
		if (*p == ':')
			p++;
		if (ev_digits(&p, 2, &zm) == -1 || zh > 23 || zm > 59)
			return -1;
		off = sign * ((int64_t)zh * 3600 + zm * 60);
	}
	if (*p != '\0')
		return -1;
	t = zone ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

/* A decimal number in [lo, hi] and nothing else.  0 or -1. */
static int
ev_parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/*
 * The options into ctx->f.  stats takes only the time span and the
 * output options.  An enum cli_exit: 0, or 2 after the error.
 */
static int
ev_build_filter(struct ev_ctx *ctx, bool stats)
{
	const struct ev_args *a = &ctx->a;
	struct events_filter *f = &ctx->f;
	int64_t now_ms = ev_now_ms();
	struct passwd *pw;
	long long v;
	int act;

	memset(f, 0, sizeof(*f));
	if (stats) {
		if (a->app != NULL || a->domain != NULL || a->verdict != NULL ||
		    a->pid != NULL || a->uid != NULL || a->wide || a->follow)
			return ev_usage(
			    ctx, "stats takes --since, --until, --limit, "
			         "--json and --ascii only");
	}
	if (a->follow && a->until != NULL)
		return ev_usage(ctx, "--until and --follow do not go together "
		                     "(a follower waits for what comes)");
	if (a->app != NULL) {
		if (a->app[0] == '\0')
			return ev_usage(ctx, "--app \"\": expected a program's "
			                     "path or its name");
		/* The kernel reports real paths: resolve links when the
		 * path exists, keep it as given when it does not. */
		if (strchr(a->app, '/') != NULL &&
		    realpath(a->app, ctx->app) != NULL)
			f->app = ctx->app;
		else if (strlen(a->app) < sizeof(ctx->app)) {
			snprintf(ctx->app, sizeof(ctx->app), "%s", a->app);
			f->app = ctx->app;
		} else
			return ev_usage(ctx, "--app: longer than %zu bytes",
			                sizeof(ctx->app) - 1);
	}
	if (a->domain != NULL) {
		if (name_is_ip_literal(a->domain))
			return ev_usage(ctx,
			                "--domain \"%s\": an address, not a "
			                "name (--wide shows each event's IP)",
			                a->domain);
		if (strlen(a->domain) >= sizeof(ctx->domain))
			return ev_usage(ctx,
			                "--domain: longer than a host name "
			                "(%d bytes)",
			                NAME_MAX_LEN);
		snprintf(ctx->domain, sizeof(ctx->domain), "%s", a->domain);
		if (ctx->domain[0] == '*' && ctx->domain[1] == '.')
			memmove(ctx->domain, ctx->domain + 2,
			        strlen(ctx->domain + 2) + 1);
		if (name_normalise(ctx->domain) == -1)
			return ev_usage(ctx, "--domain \"%s\": not a host name",
			                a->domain);
		f->domain = ctx->domain;
	}
	if (a->verdict != NULL) {
		act = action_parse(a->verdict);
		if (act == -1)
			return ev_usage(
			    ctx,
			    "--verdict \"%s\": expected allow, deny "
			    "or reject",
			    a->verdict);
		f->has_verdict = true;
		f->verdict = (enum action)act;
	}
	if (a->since != NULL &&
	    ev_parse_time(a->since, now_ms, &f->since_ms) == -1)
		return ev_usage(ctx,
		                "--since \"%s\": expected a time back from now "
		                "(30s, 10m, 2h, 3d, 1w), today, yesterday, "
		                "HH:MM or YYYY-MM-DD[THH:MM[:SS]][Z]",
		                a->since);
	if (a->until != NULL &&
	    ev_parse_time(a->until, now_ms, &f->until_ms) == -1)
		return ev_usage(
		    ctx,
		    "--until \"%s\": expected a time back from now "
		    "(30s, 10m, 2h, 3d, 1w), now, today, "
		    "yesterday, HH:MM or YYYY-MM-DD[THH:MM[:SS]][Z]",
		    a->until);
	if (f->since_ms != 0 && f->until_ms != 0 && f->until_ms <= f->since_ms)
		return ev_usage(ctx,
		                "--until \"%s\" is not after --since \"%s\"",
		                a->until, a->since);
	if (a->pid != NULL) {
		if (ev_parse_num(a->pid, 1, INT_MAX, &v) == -1)
			return ev_usage(
			    ctx,
			    "--pid \"%s\": expected a process id (a "
			    "positive number)",
			    a->pid);
		f->pid = (pid_t)v;
	}
	if (a->uid != NULL) {
		if (ev_parse_num(a->uid, 0, 4294967294LL, &v) == 0) {
			f->uid = (uid_t)v;
		} else if ((pw = getpwnam(a->uid)) != NULL) {
			f->uid = pw->pw_uid;
		} else
			return ev_usage(ctx,
			                "--uid \"%s\": not a number or a user",
			                a->uid);
		f->has_uid = true;
	}
	if (a->limit != NULL) {
		if (ev_parse_num(a->limit, 0, EVENTS_LIMIT_MAX, &v) == -1)
			return ev_usage(
			    ctx,
			    "--limit \"%s\": expected a number from "
			    "0 (all) to %d",
			    a->limit, EVENTS_LIMIT_MAX);
		f->limit = (size_t)v;
	} else if (stats)
		f->limit = EVENTS_STATS_TOP;
	else if (ctx->term.tty && ctx->term.rows > 0)
		f->limit = ctx->term.rows > EVENTS_LIMIT_MIN + EVENTS_ROWS_SPARE
		               ? (size_t)ctx->term.rows - EVENTS_ROWS_SPARE
		               : EVENTS_LIMIT_MIN;
	else
		f->limit = EVENTS_LIMIT_PIPE;
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * The database
 */

enum ev_open_rc {
	EV_OPEN_OK,
	EV_OPEN_MISSING, /* no file at the path */
	EV_OPEN_ERROR,   /* err says why */
};

/*
 * Open the database read-only, and tell which file it is (*sb), so that
 * a follower sees when it is replaced.
 */
static enum ev_open_rc
ev_open(struct ev_ctx *ctx, struct store **s, struct stat *sb, char *err,
        size_t errlen)
{
	struct stat after;

	*s = NULL;
	if (stat(ctx->cfg.database, sb) == -1) {
		if (errno == ENOENT)
			return EV_OPEN_MISSING;
		snprintf(err, errlen, "cannot read database %s: %s",
		         ctx->cfg.database, strerror(errno));
		return EV_OPEN_ERROR;
	}
	*s = store_open(ctx->cfg.database, STORE_READONLY, err, errlen);
	if (*s == NULL)
		return EV_OPEN_ERROR;
	/* Replaced between the stat and the open: the next look sees it. */
	if (stat(ctx->cfg.database, &after) == 0)
		*sb = after;
	return EV_OPEN_OK;
}

/* Whether path is no longer the file that sb describes. */
static bool
ev_replaced(const char *path, const struct stat *sb)
{
	struct stat now;

	if (stat(path, &now) == -1)
		return true;
	return now.st_dev != sb->st_dev || now.st_ino != sb->st_ino;
}

/* --------------------------------------------------------------------
 * One event, as cells, as a line of text, as JSON
 */

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

static const char *
ev_flags(unsigned flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags & EVENT_F_ECH ? "ech," : "",
	         flags & EVENT_F_MISMATCH ? "mismatch," : "",
	         flags & EVENT_F_UNKNOWN ? "unknown," : "",
	         flags == 0 ? "-" : "");
	if (buf[0] != '\0' && buf[strlen(buf) - 1] == ',')
		buf[strlen(buf) - 1] = '\0';
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

static void
ev_line_free(struct ev_line *l)
{
	size_t i;

	for (i = 0; i < EV_COLS_MAX; i++)
		free(l->cell[i]);
	memset(l, 0, sizeof(*l));
}

/* Set cell i to the safe form of s (not cut yet).  0 or -1. */
static int
ev_set(const struct ev_ctx *ctx, struct ev_line *l, size_t i, const char *s)
{
	size_t len = strlen(s) + 1;

	l->cell[i] = malloc(len);
	if (l->cell[i] == NULL)
		return -1;
	cli_ev_text(&ctx->term, s, 0, false, l->cell[i], len);
	return 0;
}

/* The cells of row r for the table of ctx.  0 or -1 (out of memory). */
static int
ev_line_make(const struct ev_ctx *ctx, const struct event_row *r,
             struct ev_line *l)
{
	char buf[EVENT_EXE_MAX + 64], num[64];
	const char *user;
	size_t i = 0;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	if (r->kind == EVENT_GAP) {
		l->gap = true;
		ev_gap_text(ctx, r, buf, sizeof(buf));
		return ev_set(ctx, l, 0, buf);
	}
	l->has_verdict = true;
	l->verdict = r->verdict;
	user = r->user[0] != '\0' ? r->user : "-";
	if (!ctx->a.wide) {
		rc |= ev_set(
		    ctx, l, i++,
		    cli_ev_time_short(r->time_ms, ctx->now, buf, sizeof(buf)));
		rc |= ev_set(ctx, l, i++,
		             r->exe[0] != '\0' ? ev_base(r->exe) : "?");
		snprintf(num, sizeof(num), "%ld", (long)r->pid);
		rc |= ev_set(ctx, l, i++, r->pid > 0 ? num : "-");
		if (r->user[0] == '\0' && r->has_uid)
			snprintf(num, sizeof(num), "%u", (unsigned)r->uid);
		else
			snprintf(num, sizeof(num), "%s", user);
		rc |= ev_set(ctx, l, i++, num);
		rc |= ev_set(ctx, l, i++,
		             r->name[0] != '\0'     ? r->name
		             : r->dst_ip[0] != '\0' ? r->dst_ip
		                                    : "-");
		snprintf(num, sizeof(num), "%u", (unsigned)r->dst_port);
		rc |= ev_set(ctx, l, i++, num);
		rc |= ev_set(ctx, l, i++, action_name(r->verdict));
		rc |= ev_set(ctx, l, i++, ev_decider(r, buf, sizeof(buf)));
		rc |= ev_set(ctx, l, i++,
		             cli_ev_bytes(r->bytes_up, num, sizeof(num)));
		rc |= ev_set(ctx, l, i++,
		             cli_ev_bytes(r->bytes_down, num, sizeof(num)));
		rc |= ev_set(ctx, l, i++,
		             cli_ev_duration(r->duration_ms, num, sizeof(num)));
		return rc == 0 ? 0 : -1;
	}
	snprintf(num, sizeof(num), "%lld", (long long)r->id);
	rc |= ev_set(ctx, l, i++, num);
	rc |=
	    ev_set(ctx, l, i++, cli_ev_time_long(r->time_ms, buf, sizeof(buf)));
	snprintf(num, sizeof(num), "%ld", (long)r->pid);
	rc |= ev_set(ctx, l, i++, r->pid > 0 ? num : "-");
	snprintf(num, sizeof(num), "%u", (unsigned)r->uid);
	rc |= ev_set(ctx, l, i++, r->has_uid ? num : "-");
	rc |= ev_set(ctx, l, i++, user);
	rc |= ev_set(ctx, l, i++, r->exe[0] != '\0' ? r->exe : "?");
	rc |= ev_set(ctx, l, i++, r->name[0] != '\0' ? r->name : "-");
	rc |= ev_set(ctx, l, i++,
	             r->name_source[0] != '\0' ? r->name_source : "-");
	rc |= ev_set(ctx, l, i++,
	             ev_addr(r->dst_ip, r->dst_port, buf, sizeof(buf)));
	rc |= ev_set(ctx, l, i++,
	             ev_addr(r->src_ip, r->src_port, buf, sizeof(buf)));
	rc |= ev_set(ctx, l, i++, r->proto[0] != '\0' ? r->proto : "-");
	rc |= ev_set(ctx, l, i++, action_name(r->verdict));
	rc |= ev_set(ctx, l, i++, ev_decider(r, buf, sizeof(buf)));
	rc |= ev_set(ctx, l, i++, r->upstream[0] != '\0' ? r->upstream : "-");
	snprintf(num, sizeof(num), "%lld", (long long)r->bytes_up);
	rc |= ev_set(ctx, l, i++, r->bytes_up >= 0 ? num : "-");
	snprintf(num, sizeof(num), "%lld", (long long)r->bytes_down);
	rc |= ev_set(ctx, l, i++, r->bytes_down >= 0 ? num : "-");
	snprintf(num, sizeof(num), "%lldms", (long long)r->duration_ms);
	rc |= ev_set(ctx, l, i++, r->duration_ms >= 0 ? num : "-");
	rc |= ev_set(ctx, l, i++, ev_flags(r->flags, buf, sizeof(buf)));
	rc |= ev_set(ctx, l, i++, r->cmdline[0] != '\0' ? r->cmdline : "-");
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

/* One event as one line of JSON: every field. */
static void
ev_json(const struct event_row *r)
{
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
	printf(",\"flags\":[%s%s%s]", r->flags & EVENT_F_ECH ? "\"ech\"" : "",
	       r->flags & EVENT_F_MISMATCH
	           ? (r->flags & EVENT_F_ECH ? ",\"mismatch\"" : "\"mismatch\"")
	           : "",
	       r->flags & EVENT_F_UNKNOWN
	           ? (r->flags & (EVENT_F_ECH | EVENT_F_MISMATCH)
	                  ? ",\"unknown\""
	                  : "\"unknown\"")
	           : "");
	ev_json_int_or_null("bytes_up", r->bytes_up, r->bytes_up >= 0);
	ev_json_int_or_null("bytes_down", r->bytes_down, r->bytes_down >= 0);
	ev_json_int_or_null("duration_ms", r->duration_ms, r->duration_ms >= 0);
	printf("}\n");
}

/* --------------------------------------------------------------------
 * The table
 */

/*
 * Fit the columns: each as wide as its header and widest held cell,
 * within its bounds; with floor, no narrower than t->floor (rows that are
 * not held are not measured).  The flexible column gets what is left of
 * the terminal's width, and the app and user columns give some back when
 * the terminal is narrow.
 */
static void
ev_table_fit(struct ev_ctx *ctx, bool floor)
{
	struct ev_table *t = &ctx->t;
	size_t i, j, w, take, used = 0, flex = SIZE_MAX, widest = 0;
	size_t cols = (size_t)ctx->term.cols;

	for (i = 0; i < t->n_cols; i++) {
		w = cli_ev_width(t->cols[i].head);
		for (j = 0; j < t->n_lines; j++)
			if (!t->lines[j].gap && t->lines[j].cell[i] != NULL &&
			    cli_ev_width(t->lines[j].cell[i]) > w)
				w = cli_ev_width(t->lines[j].cell[i]);
		if (t->cols[i].flex) {
			flex = i;
			widest = w;
			continue;
		}
		if (floor && w < t->floor[i] &&
		    !(t->cols[i].soft && t->n_lines > 0))
			w = t->floor[i];
		if (t->cols[i].max > 0 && w > t->cols[i].max)
			w = t->cols[i].max;
		t->width[i] = w;
		used += w + 1;
	}
	if (flex == SIZE_MAX)
		return;
	for (i = 0; i < t->n_cols && used + EVENTS_DEST_MIN > cols; i++) {
		if (strcmp(t->cols[i].head, "APP") != 0 &&
		    strcmp(t->cols[i].head, "USER") != 0)
			continue;
		take = t->width[i] > 6 ? t->width[i] - 6 : 0;
		if (take > used + EVENTS_DEST_MIN - cols)
			take = used + EVENTS_DEST_MIN - cols;
		t->width[i] -= take;
		used -= take;
	}
	w = cols > used ? cols - used : 0;
	if (w < EVENTS_DEST_MIN)
		w = EVENTS_DEST_MIN;
	if (!floor && widest < w)
		w = widest;
	t->width[flex] = w;
}

static void
ev_table_init(struct ev_ctx *ctx)
{
	struct ev_table *t = &ctx->t;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (ctx->a.wide) {
		t->cols = ev_wide_cols;
		t->n_cols = sizeof(ev_wide_cols) / sizeof(ev_wide_cols[0]);
		t->verdict_col = EV_WIDE_VERDICT;
	} else {
		t->cols = ev_short_cols;
		t->n_cols = sizeof(ev_short_cols) / sizeof(ev_short_cols[0]);
		t->verdict_col = EV_SHORT_VERDICT;
	}
	for (i = 0; i < t->n_cols; i++)
		t->floor[i] = t->cols[i].stream;
	/* Rows streamed from the past may be of other days; a follower's
	 * new rows are today's. */
	if (!ctx->a.wide && !ctx->a.follow)
		t->floor[0] = t->cols[0].max;
	ev_table_fit(ctx, true);
}

static void
ev_table_header(struct ev_ctx *ctx)
{
	struct ev_table *t = &ctx->t;
	size_t i;

	if (t->header_printed)
		return;
	t->header_printed = true;
	if (ctx->term.color)
		fputs("\033[1m", stdout);
	for (i = 0; i < t->n_cols; i++) {
		if (i + 1 == t->n_cols && !t->cols[i].right) {
			fputs(t->cols[i].head, stdout);
			break;
		}
		cli_ev_pad(stdout, t->cols[i].head, t->width[i],
		           t->cols[i].right);
		if (i + 1 < t->n_cols)
			putchar(' ');
	}
	if (ctx->term.color)
		fputs("\033[0m", stdout);
	putchar('\n');
}

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

static void
ev_line_print(struct ev_ctx *ctx, const struct ev_line *l)
{
	struct ev_table *t = &ctx->t;
	char cut[EVENT_EXE_MAX + 64];
	size_t i, w;

	if (l->gap) {
		cli_ev_text(&ctx->term, l->cell[0],
		            ctx->a.wide ? 0 : (size_t)ctx->term.cols, false,
		            cut, sizeof(cut));
		printf("%s%s%s\n", ctx->term.color ? "\033[33m" : "", cut,
		       ctx->term.color ? "\033[0m" : "");
		return;
	}
	for (i = 0; i < t->n_cols; i++) {
		/* Numbers are never cut: a wider one pushes its row. */
		w = ctx->a.wide || t->cols[i].right ? 0 : t->width[i];
		cli_ev_text(&ctx->term, l->cell[i] != NULL ? l->cell[i] : "", w,
		            t->cols[i].cut_left, cut, sizeof(cut));
		if (ctx->term.color && i == t->verdict_col && l->has_verdict)
			fputs(ev_verdict_colour(l->verdict), stdout);
		if (i + 1 == t->n_cols && !t->cols[i].right)
			fputs(cut, stdout);
		else
			cli_ev_pad(stdout, cut, t->width[i], t->cols[i].right);
		if (ctx->term.color && i == t->verdict_col && l->has_verdict)
			fputs("\033[0m", stdout);
		if (i + 1 < t->n_cols)
			putchar(' ');
	}
	putchar('\n');
}

static void
ev_table_free(struct ev_table *t)
{
	size_t i;

	for (i = 0; i < t->n_lines; i++)
		ev_line_free(&t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->n_lines = t->cap = 0;
}

/* Print and drop the held rows: a follower's columns keep room for what
 * comes later. */
static void
ev_table_flush(struct ev_ctx *ctx)
{
	struct ev_table *t = &ctx->t;
	size_t i;

	ev_table_fit(ctx, ctx->a.follow);
	if (t->n_lines > 0 || ctx->a.follow)
		ev_table_header(ctx);
	for (i = 0; i < t->n_lines; i++)
		ev_line_print(ctx, &t->lines[i]);
	ev_table_free(t);
}

/* --------------------------------------------------------------------
 * Listing and following
 */

/* events_query()'s callback: show one row, or hold it to measure. */
static int
ev_row(const struct event_row *r, void *arg)
{
	struct ev_ctx *ctx = arg;
	struct ev_table *t = &ctx->t;
	struct ev_line l, *grown;
	size_t cap;

	if (r->id > ctx->max_id)
		ctx->max_id = r->id;
	if (r->time_ms > ctx->last_ms)
		ctx->last_ms = r->time_ms;
	ctx->n_shown++;
	if (ctx->a.json) {
		ev_json(r);
		goto out;
	}
	if (ev_line_make(ctx, r, &l) == -1) {
		ev_line_free(&l);
		ctx->cb_error = ENOMEM;
		return 1;
	}
	if (!ctx->hold) {
		ev_table_header(ctx);
		ev_line_print(ctx, &l);
		ev_line_free(&l);
		goto out;
	}
	if (t->n_lines == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		grown = reallocarray(t->lines, cap, sizeof(*t->lines));
		if (grown == NULL) {
			ev_line_free(&l);
			ctx->cb_error = ENOMEM;
			return 1;
		}
		t->lines = grown;
		t->cap = cap;
	}
	t->lines[t->n_lines++] = l;
out:
	if (ferror(stdout)) {
		ctx->cb_error = errno != 0 ? errno : EIO;
		return 1;
	}
	return 0;
}

/*
 * Show what f selects (after_id 0: the newest f.limit rows, oldest
 * first).  Returns 0; -1 with err set when the database failed; or
 * EV_WRITE_FAILED after saying why stdout failed (the command is over).
 */
#define EV_WRITE_FAILED (-2)

static int
ev_show(struct ev_ctx *ctx, struct store *s, const struct events_filter *f,
        char *err, size_t errlen)
{
	int rc;

	ctx->hold = !ctx->a.json && f->after_id == 0 && f->limit > 0 &&
	            f->limit <= EVENTS_MEASURE_MAX;
	ctx->cb_error = 0;
	ctx->now = time(NULL);
	rc = events_query(s, f, ev_row, ctx, err, errlen);
	if (ctx->hold)
		ev_table_flush(ctx);
	ctx->hold = false;
	if (fflush(stdout) == EOF && ctx->cb_error == 0)
		ctx->cb_error = errno;
	if (ctx->cb_error == EPIPE)
		exit(CLI_EXIT_OK);
	if (ctx->cb_error != 0) {
		ev_fail(ctx, "writing the events: %s", strerror(ctx->cb_error));
		return EV_WRITE_FAILED;
	}
	return rc == -1 ? -1 : 0;
}

static void
ev_missing(const struct ev_ctx *ctx)
{
	/* Not a failure: nothing has happened yet. */
	fprintf(ctx->a.json ? stderr : stdout,
	        "no events yet: no database at %s (tollgated has not run)\n",
	        ctx->cfg.database);
}

static int
ev_list(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN];
	struct store *s = NULL;
	struct stat sb;
	int rc;

	switch (ev_open(ctx, &s, &sb, err, sizeof(err))) {
	case EV_OPEN_MISSING:
		ev_missing(ctx);
		return CLI_EXIT_OK;
	case EV_OPEN_ERROR:
		return ev_fail(ctx, "%s", err);
	case EV_OPEN_OK:
		break;
	}
	ev_table_init(ctx);
	rc = ev_show(ctx, s, &ctx->f, err, sizeof(err));
	if (rc == -1)
		ev_fail(ctx, "%s", err);
	if (rc == 0 && ctx->n_shown == 0 && !ctx->a.json)
		printf("no events%s\n",
		       events_max_id(s, err, sizeof(err)) == 0
		           ? " yet"
		           : " match (fewer options, or an earlier --since, "
		             "show more)");
	store_close(s);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void
ev_on_signal(int sig)
{
	(void)sig;
	ev_stop = 1;
}

static void
ev_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (!ev_stop)
		nanosleep(&ts, NULL);
}

/* Say msg on stderr, unless it is what was said last. */
static void
ev_say_once(const struct ev_ctx *ctx, char *said, size_t len, const char *msg)
{
	if (strcmp(said, msg) == 0)
		return;
	ev_note(ctx, "%s", msg);
	snprintf(said, len, "%s", msg);
}

/*
 * Catch up with a database just opened: the newest rows as a table (the
 * first time), or every row since resume_ms (a database that came back or
 * was replaced).  Sets ctx->max_id to where polling goes on.  As
 * ev_show().
 */
static int
ev_follow_start(struct ev_ctx *ctx, struct store *s, bool first,
                int64_t resume_ms, char *err, size_t errlen)
{
	struct events_filter f = ctx->f;
	int64_t top;
	int rc;

	top = events_max_id(s, err, errlen);
	if (top == -1)
		return -1;
	f.after_id = 0;
	if (!first) {
		f.limit = 0;
		if (resume_ms > f.since_ms)
			f.since_ms = resume_ms;
	}
	ctx->max_id = 0;
	rc = ev_show(ctx, s, &f, err, errlen);
	if (rc != 0)
		return rc;
	if (top > ctx->max_id)
		ctx->max_id = top;
	return 0;
}

/* One look for new rows, in as many batches as there are.  As ev_show();
 * -1 with err "" when the ids went back (a new database in place). */
static int
ev_follow_poll(struct ev_ctx *ctx, struct store *s, char *err, size_t errlen)
{
	struct events_filter f = ctx->f;
	int64_t top;
	size_t before;
	int rc;

	top = events_max_id(s, err, errlen);
	if (top == -1)
		return -1;
	if (top < ctx->max_id) {
		err[0] = '\0';
		return -1;
	}
	while (!ev_stop && top > ctx->max_id) {
		/* From an empty table every row is new: all of them, as
		 * they stream (after_id 0 would mean "the newest"). */
		f.after_id = ctx->max_id;
		f.limit = ctx->max_id == 0 ? 0 : EVENTS_POLL_BATCH;
		before = ctx->n_shown;
		rc = ev_show(ctx, s, &f, err, errlen);
		if (rc != 0)
			return rc;
		if (ctx->n_shown - before < EVENTS_POLL_BATCH) {
			/* Every row up to top has been seen, matching or
			 * not: the mark moves past those that did not. */
			if (top > ctx->max_id)
				ctx->max_id = top;
			break;
		}
	}
	return 0;
}

/*
 * --follow: the newest rows, then every new one within EVENTS_POLL_MS,
 * across restarts of tollgated and replacements of the database, until
 * SIGINT or SIGTERM (exit 0).
 */
static int
ev_follow(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN], msg[EVENTS_ERRLEN + 64];
	char said[sizeof(msg)] = "";
	struct sigaction sa;
	struct store *s = NULL;
	struct stat sb;
	bool first = true, was_open = false, waited = false;
	int64_t resume_ms = 0;
	int rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ev_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ev_table_init(ctx);

	while (!ev_stop) {
		if (s == NULL) {
			switch (ev_open(ctx, &s, &sb, err, sizeof(err))) {
			case EV_OPEN_MISSING:
				snprintf(msg, sizeof(msg),
				         was_open
				             ? "%s is gone; waiting for it "
				               "to come back"
				             : "no database at %s yet "
				               "(tollgated has not run); "
				               "waiting for it",
				         ctx->cfg.database);
				ev_say_once(ctx, said, sizeof(said), msg);
				waited = true;
				ev_sleep_ms(EVENTS_POLL_MS);
				continue;
			case EV_OPEN_ERROR:
				/* At the start it is for the user to fix
				 * (permissions, a wrong path); later, or
				 * while tollgated creates it, it passes. */
				if (first && !waited) {
					ev_fail(ctx, "%s", err);
					ev_table_free(&ctx->t);
					return CLI_EXIT_FAIL;
				}
				snprintf(msg, sizeof(msg), "%s; trying again",
				         err);
				ev_say_once(ctx, said, sizeof(said), msg);
				waited = true;
				ev_sleep_ms(EVENTS_POLL_MS);
				continue;
			case EV_OPEN_OK:
				break;
			}
			if (waited) {
				snprintf(msg, sizeof(msg), "%s is there%s",
				         ctx->cfg.database,
				         was_open ? " again" : " now");
				ev_say_once(ctx, said, sizeof(said), msg);
			}
			said[0] = '\0';
			waited = false;
			rc = ev_follow_start(ctx, s, first, resume_ms, err,
			                     sizeof(err));
			first = false;
			was_open = true;
		} else if (ev_replaced(ctx->cfg.database, &sb)) {
			snprintf(err, sizeof(err), "%s was replaced or removed",
			         ctx->cfg.database);
			rc = -1;
		} else
			rc = ev_follow_poll(ctx, s, err, sizeof(err));
		if (rc == EV_WRITE_FAILED)
			break;
		if (rc == -1) {
			/* Go on from the newest time shown, in whatever
			 * file comes next. */
			if (err[0] != '\0') {
				snprintf(msg, sizeof(msg), "%s; reopening it",
				         err);
				ev_say_once(ctx, said, sizeof(said), msg);
			}
			resume_ms =
			    ctx->last_ms > 0 ? ctx->last_ms + 1 : ev_now_ms();
			store_close(s);
			s = NULL;
			continue;
		}
		ev_sleep_ms(EVENTS_POLL_MS);
	}
	store_close(s);
	ev_table_free(&ctx->t);
	return rc == EV_WRITE_FAILED ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * Stats
 */

static int
ev_stats(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN];
	struct store *s = NULL;
	struct stat sb;
	int64_t since, until = ctx->f.until_ms;
	int rc;

	if (until == 0)
		until = ev_now_ms();
	since = ctx->f.since_ms != 0 ? ctx->f.since_ms
	                             : until - (int64_t)86400 * 1000;
	/* Clock hours: the first bucket starts on the hour. */
	since -= since % EVENTS_HOUR_MS;
	if (until <= since)
		return ev_usage(ctx, "--until is before --since");
	if ((until - since + EVENTS_HOUR_MS - 1) / EVENTS_HOUR_MS >
	    EVENTS_HOURS_MAX)
		return ev_usage(ctx,
		                "--since \"%s\": at most %d days at a glance",
		                ctx->a.since != NULL ? ctx->a.since : "",
		                EVENTS_HOURS_MAX / 24);
	if (ctx->f.limit == 0 || ctx->f.limit > EVENTS_TOP_MAX)
		return ev_usage(ctx,
		                "--limit: stats shows 1 to %d apps and "
		                "domains",
		                EVENTS_TOP_MAX);
	switch (ev_open(ctx, &s, &sb, err, sizeof(err))) {
	case EV_OPEN_MISSING:
		ev_missing(ctx);
		return CLI_EXIT_OK;
	case EV_OPEN_ERROR:
		return ev_fail(ctx, "%s", err);
	case EV_OPEN_OK:
		break;
	}
	rc = cli_events_stats(s, since, until, ctx->f.limit, &ctx->term,
	                      ctx->a.json, err, sizeof(err));
	store_close(s);
	if (rc == -1)
		return ev_fail(ctx, "%s", err);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * Dispatch
 */

static void
ev_help(void)
{
	printf(
	    "usage: " CLI_PROG " [-c FILE] events [OPTIONS]\n"
	    "       " CLI_PROG " [-c FILE] events " EV_STATS_ARGS "\n"
	    "\n"
	    "What tollgated decided, newest last: one row per connection.\n"
	    "\n"
	    "  --app EXE         one program: its path, or its name "
	    "(firefox-esr)\n"
	    "  --domain NAME     one name and every name under it\n"
	    "  --verdict V       allow, deny or reject\n"
	    "  --since T         from T: 30s, 10m, 2h, 3d, 1w ago, today, "
	    "yesterday,\n"
	    "                    HH:MM, or YYYY-MM-DD[THH:MM[:SS]][Z] (local "
	    "time\n"
	    "                    unless Z or +HH:MM)\n"
	    "  --until T         before T (same forms, and now)\n"
	    "  --pid N           one process\n"
	    "  --uid N|USER      one user\n"
	    "  --limit N         the newest N (default: a screenful, or %d; "
	    "0: all);\n"
	    "                    stats: the top N apps and domains (10)\n"
	    "  --wide            every field, in full\n"
	    "  --json            one JSON object a line, every field\n"
	    "  --follow          then show new events as they come (Ctrl-C "
	    "stops)\n"
	    "  --ascii           no Unicode in the output\n"
	    "\n"
	    "  stats             a glance: top apps and domains, denied, "
	    "connections\n"
	    "                    per hour (default --since 1d)\n"
	    "\n"
	    "Examples:\n"
	    "  " CLI_PROG " events --app firefox-esr --since 1h\n"
	    "  " CLI_PROG " events --verdict deny --since today\n"
	    "  " CLI_PROG " events --follow\n"
	    "  " CLI_PROG " events --json --since 1d --limit 0 | jq -r .name\n"
	    "\n"
	    "Reads the database read-only; works while tollgated is down.  "
	    "See\n"
	    "tollgate(8).\n",
	    EVENTS_LIMIT_PIPE);
}

static const char **
ev_slot(struct ev_args *a, int ch)
{
	switch (ch) {
	case 'a':
		return &a->app;
	case 'd':
		return &a->domain;
	case 'v':
		return &a->verdict;
	case 's':
		return &a->since;
	case 'U':
		return &a->until;
	case 'p':
		return &a->pid;
	case 'u':
		return &a->uid;
	case 'n':
		return &a->limit;
	default:
		return NULL;
	}
}

static const char *
ev_optname(int ch)
{
	const struct option *o;

	for (o = ev_longopts; o->name != NULL; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

int
cli_events(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv)
{
	struct ev_ctx ctx;
	const char **slot;
	bool stats = false;
	int ch, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = cmd;
	ctx.opts = opts;
	ctx.what = "events";
	if (argc >= 2 && strcmp(argv[1], "stats") == 0) {
		stats = true;
		ctx.what = "events stats";
		argc--;
		argv++;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", ev_longopts, NULL)) != -1) {
		if (ch == 'h') {
			ev_help();
			return CLI_EXIT_OK;
		}
		if (ch == ':')
			return ev_usage(&ctx, "%s needs a value",
			                argv[optind - 1]);
		if (ch == '?')
			return ev_usage(&ctx, "unknown option %s",
			                argv[optind - 1]);
		if (ch == 'w')
			ctx.a.wide = true;
		else if (ch == 'j')
			ctx.a.json = true;
		else if (ch == 'f')
			ctx.a.follow = true;
		else if (ch == 'A')
			ctx.a.ascii = true;
		else if ((slot = ev_slot(&ctx.a, ch)) != NULL) {
			if (*slot != NULL)
				return ev_usage(&ctx, "--%s given twice",
				                ev_optname(ch));
			*slot = optarg;
		}
	}
	if (optind < argc)
		return ev_usage(&ctx, "unexpected argument \"%s\"%s",
		                argv[optind],
		                stats ? "" : " (the only action is stats)");
	cli_term_get(&ctx.term, ctx.a.ascii);
	rc = ev_build_filter(&ctx, stats);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli_config_load(opts, ctx.what, &ctx.cfg) == -1)
		return CLI_EXIT_FAIL;
	if (stats)
		return ev_stats(&ctx);
	if (ctx.a.follow)
		return ev_follow(&ctx);
	return ev_list(&ctx);
}
