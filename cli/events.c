/*
 * events.c - "tollgate events": what tollgated decided, as a table or as
 * JSON lines; its options, and dispatch to the glance ("events stats",
 * events_stats.c) and to --follow (events_follow.c).  One event as a row
 * is events_row.c; the terminal helpers are events_fmt.c.  tollgate(8)
 * and docs/events.md say what the user sees.
 *
 * The events are read from the database (rules/events.h), read-only: it
 * works with tollgated down and never blocks its writer.  A user who may
 * not read it (a guarded user) gets their own events from tollgated over
 * the control socket instead, shown the same way (cli_events_load(),
 * rows.h).  Memory is
 * bounded whatever comes: a listing holds at most EVENTS_MEASURE_MAX rows
 * (to fit the columns to them) and streams beyond that.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/apps.h"
#include "cli/events.h"
#include "cli/opts.h"
#include "cli/rows.h"
#include "common/ctl.h"
#include "cli/values.h"

#define EVENTS_LIMIT_PIPE 50 /* default --limit when not a terminal */
#define EVENTS_LIMIT_MIN  10 /* default --limit on a small terminal */
#define EVENTS_ROWS_SPARE 4  /* terminal rows left for the prompt */
#define EVENTS_LIMIT_MAX  10000000
#define EVENTS_STATS_TOP  10 /* default top apps and domains */

/* A number in the help's text. */
#define EV_STR(n)  EV_STR1(n)
#define EV_STR1(n) #n

#define EV_FIELD(f) offsetof(struct ev_args, f)

/* clang-format off */
#define EV_LIMIT_HELP                                                          \
	"the newest N (default: a screenful, or " EV_STR(EVENTS_LIMIT_PIPE)    \
	"; 0: all);\n"                                                         \
	"stats: the top N apps and domains (" EV_STR(EVENTS_STATS_TOP) ")"
/* clang-format on */

static const struct cli_opt ev_opts[] = {
    {"app", 0, "EXE",
     "one program: its path, or its name (firefox-esr;\n"
     "python3 shows python3.11's when it runs that)",
     EV_FIELD(app)},
    {"domain", 0, "NAME", "one name and every name under it", EV_FIELD(domain)},
    {"verdict", 0, "V", "allow, deny or reject", EV_FIELD(verdict)},
    {"proto", 0, "P", "tcp, udp or dns", EV_FIELD(proto)},
    {"since", 0, "T",
     "from T: 90s, 30m, 2h, 3d, 1w ago (or \"30 min\",\n"
     "\"1 hour\", \"2 days\"), today, yesterday, HH:MM, or\n"
     "YYYY-MM-DD[THH:MM[:SS]][Z] (local time unless Z\n"
     "or +HH:MM)",
     EV_FIELD(since)},
    {"until", 0, "T", "before T (same forms, and now)", EV_FIELD(until)},
    {"pid", 0, "N", "one process", EV_FIELD(pid)},
    {"uid", 0, "N|USER", "one user", EV_FIELD(uid)},
    {"limit", 0, "N", EV_LIMIT_HELP, EV_FIELD(limit)},
    {"wide", 0, NULL, "every field, in full", EV_FIELD(wide)},
    {"json", 0, NULL, "one JSON object a line, every field", EV_FIELD(json)},
    {"follow", 0, NULL, "then show new events as they come (Ctrl-C stops)",
     EV_FIELD(follow)},
    {"ascii", 0, NULL, "no Unicode in the output", EV_FIELD(ascii)},
};

static const struct cli_optset ev_optset = {
    .opts = ev_opts,
    .n_opts = sizeof(ev_opts) / sizeof(ev_opts[0]),
    .help_col = 20,
};

#define EV_STATS_ARGS                                                          \
	"stats [--since 1d|TIME] [--until TIME] [--limit N] "                  \
	"[--json] [--ascii]"

static void
ev_help(void)
{
	printf("usage: " CLI_PROG " [-c FILE] events [OPTIONS]\n"
	       "       " CLI_PROG " [-c FILE] events " EV_STATS_ARGS "\n"
	       "\n"
	       "What tollgated decided, newest last: one row per connection.\n"
	       "\n");
	cli_opts_help(stdout, &ev_optset);
	printf("\n");
	cli_help_row(stdout, ev_optset.help_col, "stats",
	             "a glance: top apps and domains, denied, connections\n"
	             "per hour (default --since 1d)");
	printf("\n"
	       "Examples:\n"
	       "  " CLI_PROG " events --app firefox-esr --since 1h\n"
	       "  " CLI_PROG " events --verdict deny --since today\n"
	       "  " CLI_PROG " events --proto dns --verdict deny\n"
	       "  " CLI_PROG " events --follow\n"
	       "  " CLI_PROG
	       " events --json --since 1d --limit 0 | jq -r .name\n"
	       "\n"
	       "Reads the database read-only; works while tollgated is down.  "
	       "See\n"
	       "tollgate(8).\n");
}

/* --------------------------------------------------------------------
 * Arguments
 */

/*
 * --app NAME where NAME runs a file of another name in the guarded users'
 * PATH (python3 -> /usr/bin/python3.11): the kernel names the file, so
 * the filter becomes its name, said in a note.  True with ctx->app set.
 */
static bool
ev_app_runs(struct ev_ctx *ctx, const char *name)
{
	char path[APPS_PATH_MAX], found[PATH_MAX], real[PATH_MAX];

	if (strchr(name, '/') != NULL)
		return false;
	apps_user_path(path, sizeof(path));
	if (apps_find(name, path, found, sizeof(found)) == -1 ||
	    realpath(found, real) == NULL || strcmp(apps_base(real), name) == 0)
		return false;
	snprintf(ctx->app, sizeof(ctx->app), "%s", apps_base(real));
	cli_note(&ctx->who, "%s is %s: showing %s's events", found, real,
	         ctx->app);
	return true;
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
	int64_t now_ms = cli_now_ms();
	struct passwd *pw;
	long long v;
	int act;

	memset(f, 0, sizeof(*f));
	if (stats) {
		if (a->app != NULL || a->domain != NULL || a->verdict != NULL ||
		    a->proto != NULL || a->pid != NULL || a->uid != NULL ||
		    a->wide || a->follow)
			return cli_usage(
			    &ctx->who, "stats takes --since, --until, --limit, "
			               "--json and --ascii only");
	}
	if (a->follow && a->until != NULL)
		return cli_usage(&ctx->who,
		                 "--until and --follow do not go together "
		                 "(a follower waits for what comes)");
	if (a->app != NULL) {
		if (a->app[0] == '\0')
			return cli_usage(&ctx->who,
			                 "--app \"\": expected a program's "
			                 "path or its name");
		/* The kernel reports real paths: resolve links when the
		 * path exists, keep it as given when it does not. */
		if (strchr(a->app, '/') != NULL &&
		    realpath(a->app, ctx->app) != NULL)
			f->app = ctx->app;
		else if (ev_app_runs(ctx, a->app))
			f->app = ctx->app;
		else if (strlen(a->app) < sizeof(ctx->app)) {
			snprintf(ctx->app, sizeof(ctx->app), "%s", a->app);
			f->app = ctx->app;
		} else
			return cli_usage(&ctx->who,
			                 "--app: longer than %zu bytes",
			                 sizeof(ctx->app) - 1);
	}
	if (a->domain != NULL) {
		if (name_is_ip_literal(a->domain))
			return cli_usage(&ctx->who,
			                 "--domain \"%s\": an address, not a "
			                 "name (--wide shows each event's IP)",
			                 a->domain);
		if (strlen(a->domain) >= sizeof(ctx->domain))
			return cli_usage(&ctx->who,
			                 "--domain: longer than a host name "
			                 "(%d bytes)",
			                 NAME_MAX_LEN);
		snprintf(ctx->domain, sizeof(ctx->domain), "%s", a->domain);
		if (ctx->domain[0] == '*' && ctx->domain[1] == '.')
			memmove(ctx->domain, ctx->domain + 2,
			        strlen(ctx->domain + 2) + 1);
		if (name_normalise(ctx->domain) == -1)
			return cli_usage(&ctx->who,
			                 "--domain \"%s\": not a host name",
			                 a->domain);
		f->domain = ctx->domain;
	}
	if (a->verdict != NULL) {
		act = action_parse(a->verdict);
		if (act == -1)
			return cli_usage(
			    &ctx->who,
			    "--verdict \"%s\": expected allow, deny "
			    "or reject",
			    a->verdict);
		f->has_verdict = true;
		f->verdict = (enum action)act;
	}
	if (a->proto != NULL) {
		if (!event_proto_ok(a->proto))
			return cli_usage(&ctx->who,
			                 "--proto \"%s\": expected tcp, udp or "
			                 "dns",
			                 a->proto);
		f->proto = a->proto;
	}
	if (a->since != NULL &&
	    cli_parse_time(a->since, now_ms, &f->since_ms) == -1)
		return cli_usage(&ctx->who,
		                 "--since \"%s\": expected " CLI_TIME_FORMS,
		                 a->since);
	if (a->until != NULL &&
	    cli_parse_time(a->until, now_ms, &f->until_ms) == -1)
		return cli_usage(&ctx->who,
		                 "--until \"%s\": expected " CLI_TIME_FORMS,
		                 a->until);
	if (f->since_ms != 0 && f->until_ms != 0 && f->until_ms <= f->since_ms)
		return cli_usage(&ctx->who,
		                 "--until \"%s\" is not after --since \"%s\"",
		                 a->until, a->since);
	if (a->pid != NULL) {
		if (cli_parse_num(a->pid, 1, INT_MAX, &v) == -1)
			return cli_usage(
			    &ctx->who,
			    "--pid \"%s\": expected a process id (a "
			    "positive number)",
			    a->pid);
		f->pid = (pid_t)v;
	}
	if (a->uid != NULL) {
		if (cli_parse_num(a->uid, 0, 4294967294LL, &v) == 0) {
			f->uid = (uid_t)v;
		} else if ((pw = getpwnam(a->uid)) != NULL) {
			f->uid = pw->pw_uid;
		} else
			return cli_usage(&ctx->who,
			                 "--uid \"%s\": not a number or a user",
			                 a->uid);
		f->has_uid = true;
	}
	if (a->limit != NULL) {
		if (cli_parse_num(a->limit, 0, EVENTS_LIMIT_MAX, &v) == -1)
			return cli_usage(
			    &ctx->who,
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

/* The files path is now, as struct ev_files has them; -1 and errno when
 * the database's own file cannot be stat'ed. */
static int
ev_files_stat(const char *path, struct ev_files *files)
{
	static const char *const suffix[EV_FILES] = {"", "-wal", "-shm"};
	char name[PATH_MAX];
	struct stat sb;
	size_t i;

	memset(files, 0, sizeof(*files));
	for (i = 0; i < EV_FILES; i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", path,
		                     suffix[i]) >= sizeof(name)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (stat(name, &sb) == -1) {
			if (i == 0)
				return -1;
			continue;
		}
		files->dev[i] = sb.st_dev;
		files->ino[i] = sb.st_ino;
	}
	return 0;
}

enum ev_open_rc
ev_open(struct ev_ctx *ctx, struct store **s, struct ev_files *files, char *err,
        size_t errlen)
{
	*s = NULL;
	/* Before the open: a file replaced while SQLite opens it is seen
	 * as replaced at the next look, never taken for the one it has. */
	if (ev_files_stat(ctx->cfg.database, files) == -1) {
		if (errno == ENOENT)
			return EV_OPEN_MISSING;
		snprintf(err, errlen, "cannot read database %s: %s",
		         ctx->cfg.database, strerror(errno));
		return EV_OPEN_ERROR;
	}
	*s = store_open(ctx->cfg.database, STORE_READONLY, err, errlen);
	if (*s == NULL)
		return EV_OPEN_ERROR;
	return EV_OPEN_OK;
}

bool
ev_replaced(const char *path, const struct ev_files *files)
{
	struct ev_files now;
	size_t i;

	if (ev_files_stat(path, &now) == -1)
		return true;
	for (i = 0; i < EV_FILES; i++) {
		/* A -wal or -shm that went is no change (SQLite removes
		 * them at a clean close); one that came is: tollgated
		 * started, and its WAL index is to be shared. */
		if (i > 0 && now.ino[i] == 0)
			continue;
		if (now.dev[i] != files->dev[i] || now.ino[i] != files->ino[i])
			return true;
	}
	return false;
}

/* --------------------------------------------------------------------
 * Listing
 */

/* events_query()'s callback: show one row, or hold it to measure. */
static int
ev_row(const struct event_row *r, void *arg)
{
	struct ev_ctx *ctx = arg;
	struct table_row l;

	if (r->id > ctx->max_id)
		ctx->max_id = r->id;
	if (r->time_ms > ctx->last_ms)
		ctx->last_ms = r->time_ms;
	ctx->n_shown++;
	if (ctx->a.json) {
		ev_row_json(r);
		goto out;
	}
	memset(&l, 0, sizeof(l));
	if (ev_row_cells(ctx, r, &l) == -1) {
		table_row_free(&l);
		ctx->cb_error = ENOMEM;
		return 1;
	}
	if (!ctx->hold) {
		table_header(&ctx->t);
		table_print_row(&ctx->t, &l);
		table_row_free(&l);
		goto out;
	}
	if (table_hold(&ctx->t, &l) == -1) {
		table_row_free(&l);
		ctx->cb_error = ENOMEM;
		return 1;
	}
out:
	if (ferror(stdout)) {
		ctx->cb_error = errno != 0 ? errno : EIO;
		return 1;
	}
	return 0;
}

int
cli_events_load(const struct config *cfg, const struct events_filter *f,
                int (*fn)(const struct event_row *row, void *arg), void *arg,
                bool *cut, char *err, size_t errlen)
{
	struct store *s;
	int rc;

	if (cut != NULL)
		*cut = false;
	switch (cli_source(cfg)) {
	case CLI_SOURCE_MISSING:
		return 0;
	case CLI_SOURCE_SOCKET:
		return cli_events_sock(cfg, f, fn, arg, cut, NULL, err, errlen);
	case CLI_SOURCE_DB:
		break;
	}
	s = store_open(cfg->database, STORE_READONLY, err, errlen);
	if (s == NULL)
		return -1;
	rc = events_query(s, f, fn, arg, err, errlen);
	store_close(s);
	return rc;
}

int
ev_show(struct ev_ctx *ctx, struct store *s, const struct events_filter *f,
        char *err, size_t errlen)
{
	bool cut = false;
	int rc;

	ctx->hold = !ctx->a.json && f->after_id == 0 && f->limit > 0 &&
	            f->limit <= EVENTS_MEASURE_MAX;
	ctx->cb_error = 0;
	ctx->now = time(NULL);
	/* No store: tollgated serves them. */
	if (s != NULL)
		rc = events_query(s, f, ev_row, ctx, err, errlen);
	else
		rc = cli_events_sock(&ctx->cfg, f, ev_row, ctx, &cut,
		                     &ctx->sock_top, err, errlen);
	if (cut)
		cli_note(&ctx->who,
		         "tollgated serves at most %d events a request: the "
		         "newest %d are shown (--limit 0 shows all)",
		         CTL_ROWS_MAX, CTL_ROWS_MAX);
	/* A follower's columns keep room for what comes later. */
	if (ctx->hold)
		table_print(&ctx->t, ctx->a.follow);
	ctx->hold = false;
	if (fflush(stdout) == EOF && ctx->cb_error == 0)
		ctx->cb_error = errno;
	if (ctx->cb_error == EPIPE)
		exit(CLI_EXIT_OK);
	if (ctx->cb_error != 0) {
		cli_fail(&ctx->who, "writing the events: %s",
		         strerror(ctx->cb_error));
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

/* --------------------------------------------------------------------
 * Through tollgated: a user who may not read the database
 */

/*
 * --follow through tollgated: the newest rows, then a look for new ones
 * every EVENTS_SOCK_POLL_MS until SIGINT or SIGTERM (exit 0).  While
 * tollgated is down it says so once and keeps trying.
 */
static int
ev_sock_follow(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN], said[EVENTS_ERRLEN] = "";
	struct events_filter f = ctx->f;
	int rc;

	ev_catch_stop();
	ev_table_init(ctx);
	f.after_id = 0;
	rc = ev_show(ctx, NULL, &f, err, sizeof(err));
	if (rc == -1) {
		table_free(&ctx->t);
		return cli_fail(&ctx->who, "%s", err);
	}
	while (rc != EV_WRITE_FAILED && !ev_stopped()) {
		ev_sleep_ms(EVENTS_SOCK_POLL_MS);
		if (ev_stopped())
			break;
		/* From nothing seen, every row (after_id 0 and no limit). */
		f.after_id =
		    ctx->max_id > ctx->sock_top ? ctx->max_id : ctx->sock_top;
		f.limit = 0;
		rc = ev_show(ctx, NULL, &f, err, sizeof(err));
		if (rc == -1 && strcmp(err, said) != 0) {
			cli_say(&ctx->who, "%s; trying again", err);
			snprintf(said, sizeof(said), "%s", err);
		} else if (rc == 0)
			said[0] = '\0';
	}
	table_free(&ctx->t);
	return rc == EV_WRITE_FAILED ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
ev_list_sock(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN];
	int rc;

	ev_table_init(ctx);
	rc = ev_show(ctx, NULL, &ctx->f, err, sizeof(err));
	if (rc == -1)
		cli_fail(&ctx->who, "%s", err);
	if (rc == 0 && ctx->n_shown == 0 && !ctx->a.json)
		printf("no events of yours%s\n",
		       ctx->a.app != NULL || ctx->a.domain != NULL ||
		               ctx->a.verdict != NULL || ctx->a.since != NULL
		           ? " match (fewer options, or an earlier --since, "
		             "show more)"
		           : " yet");
	table_free(&ctx->t);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int
ev_list(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN];
	struct store *s = NULL;
	struct ev_files files;
	int rc;

	if (cli_source(&ctx->cfg) == CLI_SOURCE_SOCKET)
		return ev_list_sock(ctx);
	switch (ev_open(ctx, &s, &files, err, sizeof(err))) {
	case EV_OPEN_MISSING:
		ev_missing(ctx);
		return CLI_EXIT_OK;
	case EV_OPEN_ERROR:
		return cli_fail(&ctx->who, "%s", err);
	case EV_OPEN_OK:
		break;
	}
	ev_table_init(ctx);
	rc = ev_show(ctx, s, &ctx->f, err, sizeof(err));
	if (rc == -1)
		cli_fail(&ctx->who, "%s", err);
	if (rc == 0 && ctx->n_shown == 0 && !ctx->a.json)
		printf("no events%s\n",
		       events_max_id(s, err, sizeof(err)) == 0
		           ? " yet"
		           : " match (fewer options, or an earlier --since, "
		             "show more)");
	store_close(s);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --------------------------------------------------------------------
 * Stats
 */

static int
ev_stats(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN];
	struct store *s = NULL;
	struct ev_files files;
	int64_t since, until = ctx->f.until_ms;
	int rc;

	if (until == 0)
		until = cli_now_ms();
	since = ctx->f.since_ms != 0 ? ctx->f.since_ms
	                             : until - (int64_t)86400 * 1000;
	/* Clock hours: the first bucket starts on the hour. */
	since -= since % EVENTS_HOUR_MS;
	if (until <= since)
		return cli_usage(&ctx->who, "--until is before --since");
	if ((until - since + EVENTS_HOUR_MS - 1) / EVENTS_HOUR_MS >
	    EVENTS_HOURS_MAX)
		return cli_usage(&ctx->who,
		                 "--since \"%s\": at most %d days at a glance",
		                 ctx->a.since != NULL ? ctx->a.since : "",
		                 EVENTS_HOURS_MAX / 24);
	if (ctx->f.limit == 0 || ctx->f.limit > EVENTS_TOP_MAX)
		return cli_usage(&ctx->who,
		                 "--limit: stats shows 1 to %d apps and "
		                 "domains",
		                 EVENTS_TOP_MAX);
	if (cli_source(&ctx->cfg) == CLI_SOURCE_SOCKET)
		return cli_fail(&ctx->who,
		                "the database %s is not readable to you, and "
		                "the glance needs it (root or admin_group); "
		                "your own events: " CLI_PROG " events",
		                ctx->cfg.database);
	switch (ev_open(ctx, &s, &files, err, sizeof(err))) {
	case EV_OPEN_MISSING:
		ev_missing(ctx);
		return CLI_EXIT_OK;
	case EV_OPEN_ERROR:
		return cli_fail(&ctx->who, "%s", err);
	case EV_OPEN_OK:
		break;
	}
	rc = cli_events_stats(s, since, until, ctx->f.limit, &ctx->term,
	                      ctx->a.json, err, sizeof(err));
	store_close(s);
	if (rc == -1)
		return cli_fail(&ctx->who, "%s", err);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * Dispatch
 */

int
cli_events(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv)
{
	struct ev_ctx ctx;
	bool stats = false;
	int next, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.who.name = "events";
	ctx.who.help = "events";
	if (argc >= 2 && strcmp(argv[1], "stats") == 0) {
		stats = true;
		ctx.who.name = "events stats";
		argc--;
		argv++;
	}
	rc = cli_opts_parse(&ev_optset, CLI_OPTS_ALL, &ctx.who, argc, argv,
	                    &ctx.a, &next);
	if (rc == CLI_OPTS_HELP) {
		ev_help();
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (next < argc)
		return cli_usage(&ctx.who, "unexpected argument \"%s\"%s",
		                 argv[next],
		                 stats ? "" : " (the only action is stats)");
	cli_term_get(&ctx.term, ctx.a.ascii);
	rc = ev_build_filter(&ctx, stats);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (cli_config_load(opts, ctx.who.name, &ctx.cfg) == -1)
		return CLI_EXIT_FAIL;
	if (stats)
		return ev_stats(&ctx);
	if (ctx.a.follow)
		return cli_source(&ctx.cfg) == CLI_SOURCE_SOCKET
		           ? ev_sock_follow(&ctx)
		           : ev_follow(&ctx);
	return ev_list(&ctx);
}
