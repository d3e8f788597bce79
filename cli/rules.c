/*
 * rules.c - "tollgate rules ...": show, change, test, import and export
 * the rules (tollgate(8)).
 *
 * Changes (add, del, enable, disable, edit, import) go to tollgated over
 * the control socket (common/ctl.h), so they are live when it answers.
 * When it does not run (no socket, or nothing listening), they are
 * written to the database directly, which needs root; tollgated reads
 * them when it starts.  Queries (list, test, export) read the database
 * read-only (store/store.h) and work whether tollgated runs or not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/ctl.h"
#include "common/ctl_client.h"
#include "common/name.h"
#include "rules/export.h"
#include "rules/list.h"
#include "rules/match.h"
#include "rules/rule.h"
#include "store/store.h"

/* An import may be big: a million names are parsed, stored and indexed
 * before the daemon answers. */
#define RULES_IMPORT_TIMEOUT_MS 300000
#define RULES_ERRLEN            1024

/* What the options of one invocation said; NULL when not given. */
struct rules_args {
	const char *app, *dest, *uid, *port, *proto, *action, *duration;
	const char *priority, *note, *list_name;
	bool json, wide;
	char **pos; /* positional arguments after the action */
	int n_pos;
};

struct rules_ctx {
	const struct cli_cmd *cmd;
	const struct rules_action *act;
	const struct cli_opts *opts;
	struct config cfg;
	struct rules_args a;
};

struct rules_action {
	const char *name;
	const char *args; /* synopsis */
	const char *help;
	const char *optchars; /* the short codes of the options it takes */
	int n_pos;            /* positional arguments it needs */
	int (*run)(struct rules_ctx *ctx);
};

static int rules_list(struct rules_ctx *ctx);
static int rules_add(struct rules_ctx *ctx);
static int rules_del(struct rules_ctx *ctx);
static int rules_enable(struct rules_ctx *ctx);
static int rules_disable(struct rules_ctx *ctx);
static int rules_edit(struct rules_ctx *ctx);
static int rules_test(struct rules_ctx *ctx);
static int rules_import(struct rules_ctx *ctx);
static int rules_export(struct rules_ctx *ctx);

#define RULE_OPTS                                                              \
	"[--uid N] [--port N|N-M] [--proto tcp|udp|dns] "                      \
	"[--duration once|restart|30m|2h|7d|forever] [--priority N] "          \
	"[--note TEXT]"

static const struct rules_action rules_actions[] = {
    {"list", "[--app EXE] [--wide] [--json]",
     "show the rules (--wide: full paths, uid, priority, times)", "awj", 0,
     rules_list},
    {"add",
     "--app EXE|'*' --dest NAME|*.NAME|IP|CIDR|'*' "
     "--action allow|deny|reject " RULE_OPTS,
     "add a rule", "adupPADrn", 0, rules_add},
    {"del", "ID", "delete a rule", "", 1, rules_del},
    {"enable", "ID", "enable a rule", "", 1, rules_enable},
    {"disable", "ID", "disable a rule (kept, but it decides nothing)", "", 1,
     rules_disable},
    {"edit", "ID [--app EXE] [--dest DEST] [--action ACTION] " RULE_OPTS,
     "change the given fields of a rule", "adupPADrn", 1, rules_edit},
    {"test",
     "--app EXE --dest NAME|IP --port N [--proto tcp|udp|dns] [--uid N] "
     "[--json]",
     "which rule decides this connection, and why", "adupPj", 0, rules_test},
    {"import",
     "FILE [--app EXE|'*'] [--action ACTION] [--list-name NAME] " RULE_OPTS,
     "import export text, or a hosts file or name list as one list rule",
     "aupPADrnl", 1, rules_import},
    {"export", "[--app EXE]", "print the rules as export text (for import)",
     "a", 0, rules_export},
};

#define RULES_N_ACTIONS (sizeof(rules_actions) / sizeof(rules_actions[0]))

static const struct option rules_longopts[] = {
    {"app", required_argument, NULL, 'a'},
    {"dest", required_argument, NULL, 'd'},
    {"uid", required_argument, NULL, 'u'},
    {"port", required_argument, NULL, 'p'},
    {"proto", required_argument, NULL, 'P'},
    {"action", required_argument, NULL, 'A'},
    {"duration", required_argument, NULL, 'D'},
    {"priority", required_argument, NULL, 'r'},
    {"note", required_argument, NULL, 'n'},
    {"list-name", required_argument, NULL, 'l'},
    {"json", no_argument, NULL, 'j'},
    {"wide", no_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *
rules_optname(int ch)
{
	const struct option *o;

	for (o = rules_longopts; o->name != NULL; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

/* "tollgate: rules ACTION: MESSAGE" and a tail (with its newline): the
 * one printer of the three below. */
static void
rules_vsay(const struct rules_ctx *ctx, const char *tail, const char *fmt,
           va_list ap)
{
	fflush(stdout);
	fprintf(stderr, CLI_PROG ": rules %s: ", ctx->act->name);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

/* "tollgate: rules ACTION: ..." and exit status 1. */
static int rules_fail(const struct rules_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rules_fail(const struct rules_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rules_vsay(ctx, "\n", fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

/* The same with the action's synopsis, and exit status 2. */
static int rules_usage(const struct rules_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rules_usage(const struct rules_ctx *ctx, const char *fmt, ...)
{
	char tail[512];
	va_list ap;

	snprintf(tail, sizeof(tail),
	         " (usage: " CLI_PROG " [-c FILE] rules %s %s)\n",
	         ctx->act->name, ctx->act->args);
	va_start(ap, fmt);
	rules_vsay(ctx, tail, fmt, ap);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

/* A bad option value, for helpers that return -1: the error names the
 * option, the help has the rest. */
static int rules_badarg(const struct rules_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rules_badarg(const struct rules_ctx *ctx, const char *fmt, ...)
{
	char tail[128];
	va_list ap;

	snprintf(tail, sizeof(tail), " (see " CLI_PROG " rules %s --help)\n",
	         ctx->act->name);
	va_start(ap, fmt);
	rules_vsay(ctx, tail, fmt, ap);
	va_end(ap);
	return -1;
}

static void rules_note(const struct rules_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rules_note(const struct rules_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, CLI_PROG ": rules %s: note: ", ctx->act->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --------------------------------------------------------------------
 * Arguments
 */

/*
 * The app as the daemon will see it: /proc/PID/exe is the real path, so
 * a bare command is looked up in PATH and symbolic links are resolved.
 * A path that does not exist is kept as given (a rule for a program not
 * installed yet).  0 or -1 (reported).
 */
static int
rules_resolve_app(const struct rules_ctx *ctx, const char *in, char *out,
                  size_t len, bool quiet)
{
	char cand[PATH_MAX], real[PATH_MAX], *path, *dir, *save = NULL;
	const char *env;

	if (strcmp(in, "*") == 0 || in[0] == '/') {
		snprintf(cand, sizeof(cand), "%s", in);
	} else if (strchr(in, '/') != NULL) {
		if (realpath(in, real) == NULL)
			return rules_badarg(ctx, "--app \"%s\": %s", in,
			                    strerror(errno));
		snprintf(cand, sizeof(cand), "%s", real);
	} else {
		env = getenv("PATH");
		path = strdup(env != NULL ? env : "/usr/bin:/bin");
		if (path == NULL) {
			rules_fail(ctx, "out of memory");
			return -1;
		}
		cand[0] = '\0';
		for (dir = strtok_r(path, ":", &save); dir != NULL;
		     dir = strtok_r(NULL, ":", &save)) {
			snprintf(cand, sizeof(cand), "%s/%s", dir, in);
			if (cand[0] == '/' && access(cand, X_OK) == 0)
				break;
			cand[0] = '\0';
		}
		free(path);
		if (cand[0] == '\0') {
			return rules_badarg(ctx,
			                    "--app \"%s\": no such command in "
			                    "PATH (give the program's absolute "
			                    "path, or '*')",
			                    in);
		}
	}
	if (strcmp(cand, "*") != 0 && realpath(cand, real) != NULL &&
	    strcmp(real, cand) != 0) {
		if (!quiet)
			rules_note(ctx,
			           "%s is %s; the rule names the latter, as "
			           "the kernel reports it",
			           cand, real);
		snprintf(cand, sizeof(cand), "%s", real);
	} else if (strcmp(cand, "*") != 0 && !quiet && access(cand, F_OK) == -1)
		rules_note(ctx, "%s does not exist (yet); the rule is kept",
		           cand);
	if (strlen(cand) >= len) {
		return rules_badarg(ctx, "--app: path longer than %zu bytes",
		                    len - 1);
	}
	snprintf(out, len, "%s", cand);
	return 0;
}

/* A decimal number in [lo, hi], and nothing else.  0 or -1. */
static int
rules_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
rules_parse_id(const struct rules_ctx *ctx, const char *s, int64_t *id)
{
	long v;

	if (rules_parse_long(s, 1, LONG_MAX, &v) == -1)
		return rules_badarg(ctx,
		                    "\"%s\" is not a rule id (a positive "
		                    "number; see " CLI_PROG " rules list)",
		                    s);
	*id = v;
	return 0;
}

/* A uid: a number, "any", or a user name. */
static int
rules_parse_uid(struct rules_ctx *ctx, struct rule *r, const char *s)
{
	char err[RULES_ERRLEN], num[32];
	struct passwd *pw;

	if (rule_parse_uid(r, s, err, sizeof(err)) == 0)
		return 0;
	pw = getpwnam(s);
	if (pw == NULL) {
		return rules_badarg(ctx,
		                    "--uid \"%s\": not a number, any, or a "
		                    "user",
		                    s);
	}
	snprintf(num, sizeof(num), "%u", (unsigned)pw->pw_uid);
	return rule_parse_uid(r, num, err, sizeof(err));
}

/*
 * Put the options that were given into r, each through the rule's own
 * parser.  0, or -1 after a usage error naming the option.
 */
static int
rules_apply_opts(struct rules_ctx *ctx, struct rule *r)
{
	const struct rules_args *a = &ctx->a;
	char err[RULES_ERRLEN], app[RULE_APP_MAX];
	long v;
	int act;
	size_t i;

	if (a->app != NULL) {
		if (rules_resolve_app(ctx, a->app, app, sizeof(app), false) ==
		    -1)
			return -1;
		if (rule_parse_app(r, app, err, sizeof(err)) == -1)
			goto bad_app;
	}
	if (a->dest != NULL &&
	    rule_parse_dest(r, a->dest, err, sizeof(err)) == -1)
		return rules_badarg(ctx, "--dest \"%s\": %s", a->dest, err);
	if (a->uid != NULL && rules_parse_uid(ctx, r, a->uid) == -1)
		return -1;
	if (a->port != NULL &&
	    rule_parse_port(r, a->port, err, sizeof(err)) == -1)
		return rules_badarg(ctx, "--port \"%s\": %s", a->port, err);
	if (a->proto != NULL &&
	    rule_parse_proto(r, a->proto, err, sizeof(err)) == -1)
		return rules_badarg(ctx, "--proto \"%s\": %s", a->proto, err);
	if (a->action != NULL) {
		act = action_parse(a->action);
		if (act == -1)
			return rules_badarg(ctx,
			                    "--action \"%s\": expected allow, "
			                    "deny or reject",
			                    a->action);
		r->action = (enum action)act;
	}
	if (a->duration != NULL &&
	    rule_parse_duration(r, a->duration, time(NULL), err, sizeof(err)) ==
	        -1)
		return rules_badarg(ctx, "--duration \"%s\": %s", a->duration,
		                    err);
	if (a->priority != NULL) {
		if (rules_parse_long(a->priority, RULE_PRIORITY_MIN,
		                     RULE_PRIORITY_MAX, &v) == -1)
			return rules_badarg(ctx,
			                    "--priority \"%s\": expected a "
			                    "number from %d to %d",
			                    a->priority, RULE_PRIORITY_MIN,
			                    RULE_PRIORITY_MAX);
		r->priority = (int)v;
	}
	if (a->note != NULL) {
		if (strlen(a->note) >= RULE_NOTE_MAX)
			return rules_badarg(ctx,
			                    "--note: %zu bytes, at most %d",
			                    strlen(a->note), RULE_NOTE_MAX - 1);
		for (i = 0; a->note[i] != '\0'; i++)
			if ((unsigned char)a->note[i] < 0x20 ||
			    a->note[i] == 0x7f)
				return rules_badarg(ctx,
				                    "--note: a control "
				                    "character in the text");
		snprintf(r->note, sizeof(r->note), "%s", a->note);
	}
	return 0;
bad_app:
	return rules_badarg(ctx, "--app \"%s\": %s", a->app, err);
}

/* --------------------------------------------------------------------
 * The daemon and the database
 */

/*
 * Send one request line (without "\n").  Returns 0 with *rep filled (OK or
 * ERR), CTL_DOWN with down holding why, or -1 (reported).
 */
static int
rules_call(struct rules_ctx *ctx, const char *request, struct ctl_reply *rep,
           char *down, size_t downlen)
{
	int rc;

	rc = ctl_call(ctx->cfg.control_socket, request, rep, down, downlen);
	if (rc == -1)
		rules_fail(ctx, "%s", down);
	return rc;
}

/* An ERR from the daemon, as this command's error; exit 1. */
static int
rules_refused(struct rules_ctx *ctx, struct ctl_reply *rep)
{
	rules_fail(ctx, "tollgated refused: %s (%s)", rep->msg, rep->codestr);
	ctl_reply_free(rep);
	return CLI_EXIT_FAIL;
}

/*
 * The database for writing when tollgated does not run: root only, since
 * the file is tollgated's.  NULL after reporting.
 */
static struct store *
rules_store_rw(struct rules_ctx *ctx, const char *down)
{
	char err[STORE_ERRLEN];
	struct store *s;

	if (geteuid() != 0) {
		rules_fail(ctx,
		           "%s; changing the database %s without it needs "
		           "root",
		           down, ctx->cfg.database);
		return NULL;
	}
	s = store_open(ctx->cfg.database, STORE_READWRITE, err, sizeof(err));
	if (s == NULL) {
		rules_fail(ctx, "%s", err);
		return NULL;
	}
	rules_note(ctx,
	           "%s; changed %s directly (tollgated reads it when it "
	           "starts)",
	           down, ctx->cfg.database);
	return s;
}

/*
 * The database for reading.  NULL with *missing set when there is none
 * yet (no rules); NULL otherwise after reporting.
 */
static struct store *
rules_store_ro(struct rules_ctx *ctx, bool *missing)
{
	char err[STORE_ERRLEN];
	struct store *s;

	*missing = false;
	if (access(ctx->cfg.database, F_OK) == -1 && errno == ENOENT) {
		*missing = true;
		return NULL;
	}
	s = store_open(ctx->cfg.database, STORE_READONLY, err, sizeof(err));
	if (s == NULL)
		rules_fail(ctx, "%s", err);
	return s;
}

/* The rule's fields as the control socket takes them (no "rule"). */
static const char *
rules_fields(const struct rule *r, char *buf, size_t len)
{
	rule_format(r, buf, len);
	return strncmp(buf, "rule ", 5) == 0 ? buf + 5 : buf;
}

/* --------------------------------------------------------------------
 * Showing rules
 */

static const char *const rules_dest_kinds[] = {
    [DEST_ANY] = "any", [DEST_NAME] = "name", [DEST_WILDCARD] = "wildcard",
    [DEST_IP] = "ip",   [DEST_CIDR] = "cidr", [DEST_LIST] = "list",
};

static const char *
rules_port_str(const struct rule *r, char *buf, size_t len)
{
	if (r->port_lo == 0 && r->port_hi == 0)
		snprintf(buf, len, "any");
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "%u", r->port_lo);
	else
		snprintf(buf, len, "%u-%u", r->port_lo, r->port_hi);
	return buf;
}

static void
rules_json_time(FILE *out, time_t t)
{
	char buf[64];

	if (t == 0) {
		fputs("null", out);
		return;
	}
	cli_json_str(out, rule_time_str(t, buf, sizeof(buf)));
}

/* One rule as a JSON object; n_names < 0 when not a list rule. */
static void
rules_json_rule(FILE *out, const struct rule *r, int64_t n_names)
{
	char buf[NAME_MAX_LEN + 64];

	fprintf(out, "{\"id\":%lld,\"app\":", (long long)r->id);
	cli_json_str(out, r->app);
	if (r->has_uid)
		fprintf(out, ",\"uid\":%u", (unsigned)r->uid);
	else
		fputs(",\"uid\":null", out);
	fputs(",\"dest\":", out);
	cli_json_str(out, rule_dest_str(r, buf, sizeof(buf)));
	fprintf(out, ",\"dest_kind\":\"%s\"", rules_dest_kinds[r->dest_kind]);
	if (n_names >= 0)
		fprintf(out, ",\"list_names\":%lld", (long long)n_names);
	fprintf(out, ",\"port\":\"%s\"", rules_port_str(r, buf, sizeof(buf)));
	fprintf(out, ",\"port_lo\":%u,\"port_hi\":%u", r->port_lo, r->port_hi);
	fprintf(out, ",\"proto\":\"%s\",\"action\":\"%s\",\"duration\":",
	        rule_proto_str(r->proto), action_name(r->action));
	cli_json_str(out, rule_duration_str(r, buf, sizeof(buf)));
	fputs(",\"expires\":", out);
	rules_json_time(out, r->duration == DUR_UNTIL ? r->expires : 0);
	fprintf(out,
	        ",\"priority\":%d,\"enabled\":%s,\"created\":", r->priority,
	        r->enabled ? "true" : "false");
	rules_json_time(out, r->created);
	fputs(",\"updated\":", out);
	rules_json_time(out, r->updated);
	fprintf(out,
	        ",\"hits\":%llu,\"last_hit\":", (unsigned long long)r->hits);
	rules_json_time(out, r->last_hit);
	fputs(",\"note\":", out);
	cli_json_str(out, r->note);
	fputc('}', out);
}

/* A table: rows of cells, columns padded to their widest cell. */
#define TABLE_COLS_MAX 16

struct table {
	size_t n_cols, n_rows, cap;
	char **cells; /* n_rows * n_cols, row 0 the header */
	size_t width[TABLE_COLS_MAX];
};

static int
table_row(struct table *t, const char *const *cols)
{
	char **grown;
	size_t i, cap;

	if (t->n_rows == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		grown = reallocarray(t->cells, cap * t->n_cols, sizeof(char *));
		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	for (i = 0; i < t->n_cols; i++) {
		t->cells[t->n_rows * t->n_cols + i] = strdup(cols[i]);
		if (t->cells[t->n_rows * t->n_cols + i] == NULL) {
			while (i-- > 0)
				free(t->cells[t->n_rows * t->n_cols + i]);
			return -1;
		}
		if (strlen(cols[i]) > t->width[i])
			t->width[i] = strlen(cols[i]);
	}
	t->n_rows++;
	return 0;
}

static void
table_print(const struct table *t, FILE *out)
{
	size_t r, c;
	const char *cell;

	for (r = 0; r < t->n_rows; r++) {
		for (c = 0; c < t->n_cols; c++) {
			cell = t->cells[r * t->n_cols + c];
			if (c + 1 == t->n_cols)
				fprintf(out, "%s\n", cell);
			else
				fprintf(out, "%-*s  ", (int)t->width[c], cell);
		}
	}
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* The human form of one rule's cells, in the columns of rules_list(). */
static int
rules_table_row(struct table *t, const struct rule *r, int64_t n_names,
                bool wide)
{
	char id[24], app[RULE_APP_MAX + 32], dest[NAME_MAX_LEN + 64];
	char port[16], action[32], dur[64], hits[24], uid[16], prio[16];
	char created[32], last[32], tmp[NAME_MAX_LEN + 8];
	const char *base;

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	base = strrchr(r->app, '/');
	base = wide || base == NULL || base[1] == '\0' ? r->app : base + 1;
	if (r->has_uid && !wide)
		snprintf(app, sizeof(app), "%s (uid %u)", base,
		         (unsigned)r->uid);
	else
		snprintf(app, sizeof(app), "%s", base);
	rule_dest_str(r, tmp, sizeof(tmp));
	if (n_names >= 0)
		snprintf(dest, sizeof(dest), "%s (%lld names)", tmp,
		         (long long)n_names);
	else
		snprintf(dest, sizeof(dest), "%s", tmp);
	rules_port_str(r, port, sizeof(port));
	snprintf(action, sizeof(action), "%s%s", action_name(r->action),
	         r->enabled ? "" : " (off)");
	rule_duration_str(r, dur, sizeof(dur));
	snprintf(hits, sizeof(hits), "%llu", (unsigned long long)r->hits);
	if (!wide) {
		const char *row[] = {
		    id,     app, dest, port,   rule_proto_str(r->proto),
		    action, dur, hits, r->note};

		return table_row(t, row);
	} else {
		const char *row[] = {
		    id,
		    app,
		    uid,
		    dest,
		    port,
		    rule_proto_str(r->proto),
		    action,
		    prio,
		    dur,
		    hits,
		    rule_time_str(r->last_hit, last, sizeof(last)),
		    rule_time_str(r->created, created, sizeof(created)),
		    r->note};

		if (r->has_uid)
			snprintf(uid, sizeof(uid), "%u", (unsigned)r->uid);
		else
			snprintf(uid, sizeof(uid), "any");
		snprintf(prio, sizeof(prio), "%d", r->priority);
		return table_row(t, row);
	}
}

static int
rules_list(struct rules_ctx *ctx)
{
	static const char *const head[] = {"ID",       "APP",   "DEST",
	                                   "PORT",     "PROTO", "ACTION",
	                                   "DURATION", "HITS",  "NOTE"};
	static const char *const head_wide[] = {
	    "ID",       "APP",     "UID",      "DEST",     "PORT",
	    "PROTO",    "ACTION",  "PRIORITY", "DURATION", "HITS",
	    "LAST HIT", "CREATED", "NOTE"};
	char err[STORE_ERRLEN], app[RULE_APP_MAX];
	struct rule *rules = NULL;
	struct table t;
	struct store *s;
	int64_t *counts = NULL;
	size_t n = 0, i;
	bool missing;
	int rc = CLI_EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	if (ctx->a.app != NULL &&
	    rules_resolve_app(ctx, ctx->a.app, app, sizeof(app), true) == -1)
		return CLI_EXIT_USAGE;
	s = rules_store_ro(ctx, &missing);
	if (s == NULL && !missing)
		return CLI_EXIT_FAIL;
	if (s != NULL) {
		if (store_rule_list(s, ctx->a.app != NULL ? app : NULL, &rules,
		                    &n, err, sizeof(err)) == -1) {
			rules_fail(ctx, "%s", err);
			goto out;
		}
		counts = calloc(n + 1, sizeof(*counts));
		if (counts == NULL) {
			rules_fail(ctx, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			counts[i] = -1;
			if (rules[i].dest_kind != DEST_LIST)
				continue;
			counts[i] =
			    store_list_count(s, rules[i].id, err, sizeof(err));
			if (counts[i] == -1) {
				rules_fail(ctx, "%s", err);
				goto out;
			}
		}
	}
	if (ctx->a.json) {
		putchar('[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				putchar(',');
			rules_json_rule(stdout, &rules[i], counts[i]);
		}
		printf("]\n");
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (n == 0) {
		printf("no rules%s%s\n", ctx->a.app != NULL ? " for " : "",
		       ctx->a.app != NULL ? app : "");
		rc = CLI_EXIT_OK;
		goto out;
	}
	t.n_cols = ctx->a.wide ? sizeof(head_wide) / sizeof(head_wide[0])
	                       : sizeof(head) / sizeof(head[0]);
	if (table_row(&t, ctx->a.wide ? head_wide : head) == -1)
		goto nomem;
	for (i = 0; i < n; i++)
		if (rules_table_row(&t, &rules[i], counts[i], ctx->a.wide) ==
		    -1)
			goto nomem;
	table_print(&t, stdout);
	rc = CLI_EXIT_OK;
	goto out;
nomem:
	rules_fail(ctx, "out of memory");
out:
	table_free(&t);
	free(counts);
	free(rules);
	store_close(s);
	return rc;
}

/* --------------------------------------------------------------------
 * Changing rules
 */

static int
rules_add(struct rules_ctx *ctx)
{
	char fields[RULE_LINE_MAX], req[RULE_LINE_MAX + 32];
	char down[CTL_ERRLEN], err[STORE_ERRLEN];
	struct ctl_reply rep;
	struct store *s;
	struct rule r;
	int rc;

	if (ctx->a.app == NULL)
		return rules_usage(ctx, "--app is missing (a program's path, "
		                        "or '*' for every program)");
	if (ctx->a.dest == NULL)
		return rules_usage(ctx, "--dest is missing (a name, *.name, "
		                        "an IP, a CIDR, or '*')");
	if (ctx->a.action == NULL)
		return rules_usage(ctx, "--action is missing (allow, deny or "
		                        "reject)");
	if (strncmp(ctx->a.dest, "list:", 5) == 0)
		return rules_usage(ctx,
		                   "--dest \"%s\": a list rule comes "
		                   "with its names: use " CLI_PROG
		                   " rules import FILE",
		                   ctx->a.dest);
	rule_init(&r);
	if (rules_apply_opts(ctx, &r) == -1)
		return CLI_EXIT_USAGE;
	snprintf(req, sizeof(req), "RULE-ADD %s",
	         rules_fields(&r, fields, sizeof(fields)));
	rc = rules_call(ctx, req, &rep, down, sizeof(down));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	if (rc == 0) {
		if (!rep.ok)
			return rules_refused(ctx, &rep);
		printf("added rule %s\n", ctl_reply_get(&rep, "id") != NULL
		                              ? ctl_reply_get(&rep, "id")
		                              : "?");
		ctl_reply_free(&rep);
		return CLI_EXIT_OK;
	}
	s = rules_store_rw(ctx, down);
	if (s == NULL)
		return CLI_EXIT_FAIL;
	rc = store_rule_add(s, &r, NULL, 0, err, sizeof(err));
	store_close(s);
	if (rc == -1)
		return rules_fail(ctx, "%s", err);
	printf("added rule %lld\n", (long long)r.id);
	return CLI_EXIT_OK;
}

/* del, enable, disable: one id, one verb, one store call. */
static int
rules_by_id(struct rules_ctx *ctx, enum ctl_verb verb, const char *done)
{
	char req[64], down[CTL_ERRLEN], err[STORE_ERRLEN];
	struct ctl_reply rep;
	struct store *s;
	int64_t id = 0;
	int rc;

	if (rules_parse_id(ctx, ctx->a.pos[0], &id) == -1)
		return CLI_EXIT_USAGE;
	snprintf(req, sizeof(req), "%s %lld", ctl_verb_name(verb),
	         (long long)id);
	rc = rules_call(ctx, req, &rep, down, sizeof(down));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	if (rc == 0) {
		if (!rep.ok)
			return rules_refused(ctx, &rep);
		ctl_reply_free(&rep);
		printf("%s rule %lld\n", done, (long long)id);
		return CLI_EXIT_OK;
	}
	s = rules_store_rw(ctx, down);
	if (s == NULL)
		return CLI_EXIT_FAIL;
	if (verb == CTL_RULE_DEL)
		rc = store_rule_delete(s, id, err, sizeof(err));
	else
		rc = store_rule_enable(s, id, verb == CTL_RULE_ENABLE, err,
		                       sizeof(err));
	store_close(s);
	if (rc != STORE_OK)
		return rules_fail(ctx, "%s", err);
	printf("%s rule %lld\n", done, (long long)id);
	return CLI_EXIT_OK;
}

static int
rules_del(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_DEL, "deleted");
}

static int
rules_enable(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_ENABLE, "enabled");
}

static int
rules_disable(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_DISABLE, "disabled");
}

/*
 * edit: the stored rule with the given options on top; the whole rule
 * goes to the daemon (RULE-EDIT replaces every field).
 */
static int
rules_edit(struct rules_ctx *ctx)
{
	char fields[RULE_LINE_MAX], req[RULE_LINE_MAX + 64];
	char down[CTL_ERRLEN], err[STORE_ERRLEN];
	const struct rules_args *a = &ctx->a;
	struct ctl_reply rep;
	struct store *s;
	struct rule r;
	int64_t id = 0;
	bool missing;
	int rc;

	if (rules_parse_id(ctx, a->pos[0], &id) == -1)
		return CLI_EXIT_USAGE;
	if (a->app == NULL && a->dest == NULL && a->uid == NULL &&
	    a->port == NULL && a->proto == NULL && a->action == NULL &&
	    a->duration == NULL && a->priority == NULL && a->note == NULL)
		return rules_usage(ctx, "nothing to change: give at least one "
		                        "option");
	s = rules_store_ro(ctx, &missing);
	if (s == NULL)
		return missing ? rules_fail(ctx,
		                            "no rule %lld (no database "
		                            "yet at %s)",
		                            (long long)id, ctx->cfg.database)
		               : CLI_EXIT_FAIL;
	rc = store_rule_get(s, id, &r, err, sizeof(err));
	store_close(s);
	if (rc != STORE_OK)
		return rules_fail(ctx, "%s", err);
	if (a->dest != NULL && strncmp(a->dest, "list:", 5) == 0 &&
	    !(r.dest_kind == DEST_LIST && strcmp(r.dest, a->dest + 5) == 0))
		return rules_usage(ctx,
		                   "--dest \"%s\": a list comes with its "
		                   "names: use " CLI_PROG " rules import FILE",
		                   a->dest);
	if (rules_apply_opts(ctx, &r) == -1)
		return CLI_EXIT_USAGE;
	snprintf(req, sizeof(req), "RULE-EDIT %lld %s", (long long)id,
	         rules_fields(&r, fields, sizeof(fields)));
	rc = rules_call(ctx, req, &rep, down, sizeof(down));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	if (rc == 0) {
		if (!rep.ok)
			return rules_refused(ctx, &rep);
		ctl_reply_free(&rep);
		printf("edited rule %lld\n", (long long)id);
		return CLI_EXIT_OK;
	}
	s = rules_store_rw(ctx, down);
	if (s == NULL)
		return CLI_EXIT_FAIL;
	rc = store_rule_edit(s, &r, NULL, 0, err, sizeof(err));
	store_close(s);
	if (rc != STORE_OK)
		return rules_fail(ctx, "%s", err);
	printf("edited rule %lld\n", (long long)id);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * test
 */

static int
rules_test(struct rules_ctx *ctx)
{
	char app[RULE_APP_MAX], name[NAME_MAX_LEN + 1], err[STORE_ERRLEN];
	char line[RULE_LINE_MAX], dest[NAME_MAX_LEN + 64], portbuf[16];
	const struct rules_args *a = &ctx->a;
	const struct rules_entry *e;
	struct rules_explain why;
	struct rules_index *idx = NULL;
	struct rules_query q;
	struct rules_set set;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct store *s;
	struct rule tmp, r;
	bool missing;
	long port;
	int rc = CLI_EXIT_FAIL;

	if (a->app == NULL || a->dest == NULL || a->port == NULL)
		return rules_usage(ctx, "--%s is missing",
		                   a->app == NULL    ? "app"
		                   : a->dest == NULL ? "dest"
		                                     : "port");
	memset(&q, 0, sizeof(q));
	memset(&ss, 0, sizeof(ss));
	rule_init(&tmp);
	if (rules_resolve_app(ctx, a->app, app, sizeof(app), true) == -1)
		return CLI_EXIT_USAGE;
	q.app = strcmp(app, "*") == 0 ? NULL : app;
	if (a->uid != NULL) {
		if (rules_parse_uid(ctx, &tmp, a->uid) == -1)
			return CLI_EXIT_USAGE;
		q.has_uid = tmp.has_uid;
		q.uid = tmp.uid;
	}
	if (inet_pton(AF_INET6, a->dest, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		q.addr = (struct sockaddr *)&ss;
	} else if (name_is_ip_literal(a->dest) &&
	           inet_aton(a->dest, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		q.addr = (struct sockaddr *)&ss;
	} else if (rule_parse_name(name, a->dest, err, sizeof(err)) == 0)
		q.name = name;
	else
		return rules_usage(ctx,
		                   "--dest \"%s\": not a name or an IP: %s",
		                   a->dest, err);
	if (rules_parse_long(a->port, 1, 65535, &port) == -1)
		return rules_usage(ctx,
		                   "--port \"%s\": expected a port, 1 to "
		                   "65535",
		                   a->port);
	q.port = (uint16_t)port;
	q.proto = RPROTO_TCP;
	if (a->proto != NULL &&
	    (rule_parse_proto(&tmp, a->proto, err, sizeof(err)) == -1 ||
	     tmp.proto == RPROTO_ANY))
		return rules_usage(ctx,
		                   "--proto \"%s\": expected tcp, udp or "
		                   "dns",
		                   a->proto);
	if (a->proto != NULL)
		q.proto = tmp.proto;
	q.now = time(NULL);

	rules_set_init(&set);
	s = rules_store_ro(ctx, &missing);
	if (s == NULL && !missing)
		return CLI_EXIT_FAIL;
	if (s != NULL && store_load(s, &set, err, sizeof(err)) == -1) {
		rules_fail(ctx, "%s", err);
		goto out;
	}
	idx = rules_index_build(&set, q.now, err, sizeof(err));
	if (idx == NULL) {
		rules_fail(ctx, "building the index: %s", err);
		goto out;
	}
	memset(&why, 0, sizeof(why));
	e = rules_match(idx, &q, &why);
	if (e != NULL)
		rules_entry_rule(e, &r);
	if (ctx->a.json) {
		printf("{\"verdict\":\"%s\",\"default\":%s,\"step\":",
		       action_name(e != NULL ? e->action
		                             : ctx->cfg.default_action),
		       e != NULL ? "false" : "true");
		cli_json_str(stdout, rules_step_name(why.step));
		printf(",\"matches\":%zu,\"why\":", why.n_matches);
		cli_json_str(stdout, e != NULL ? why.text : "no rule matches");
		printf(",\"rule\":");
		if (e != NULL)
			rules_json_rule(stdout, &r, -1);
		else
			printf("null");
		printf("}\n");
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (e == NULL) {
		printf("no rule: default_action (%s)\n",
		       action_name(ctx->cfg.default_action));
		rc = CLI_EXIT_OK;
		goto out;
	}
	rule_format(&r, line, sizeof(line));
	printf("%s by rule %lld (app %s, dest %s, port %s, proto %s)\n",
	       action_name(r.action), (long long)r.id, r.app,
	       rule_dest_str(&r, dest, sizeof(dest)),
	       rules_port_str(&r, portbuf, sizeof(portbuf)),
	       rule_proto_str(r.proto));
	printf("  step:    %d (%s)\n", (int)why.step,
	       rules_step_name(why.step));
	printf("  why:     %s\n", why.text);
	printf("  matches: %zu rule%s\n", why.n_matches,
	       why.n_matches == 1 ? "" : "s");
	printf("  %s\n", line);
	rc = CLI_EXIT_OK;
out:
	rules_index_free(idx);
	rules_set_free(&set);
	store_close(s);
	return rc;
}

/* --------------------------------------------------------------------
 * import and export
 */

/* Read all of path ("-": standard input), at most max bytes. */
static char *
rules_slurp(struct rules_ctx *ctx, const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf = NULL, *grown;
	size_t cap = 0, n;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		rules_fail(ctx, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				rules_fail(ctx, "%s: out of memory", path);
				goto fail;
			}
			buf = grown;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (*len > max) {
			rules_fail(ctx, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rules_fail(ctx, "%s: %s", path, strerror(errno));
		goto fail;
	}
	buf[*len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

/* A list name from the file's name: its letters, digits, '.', '_', '-'.
 */
static void
rules_list_name_from(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX];
	const char *base;
	size_t i, o = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	base = strcmp(path, "-") == 0 ? "stdin" : basename(copy);
	for (i = 0; base[i] != '\0' && o + 1 < len; i++)
		if ((base[i] >= 'a' && base[i] <= 'z') ||
		    (base[i] >= 'A' && base[i] <= 'Z') ||
		    (base[i] >= '0' && base[i] <= '9') || base[i] == '.' ||
		    base[i] == '_' || base[i] == '-')
			out[o++] = base[i];
	out[o] = '\0';
	if (o == 0)
		snprintf(out, len, "list");
}

/*
 * Send set as IMPORT.  Returns 0 with *rep filled, CTL_DOWN with down
 * set, or -1 (reported).
 */
static int
rules_send_import(struct rules_ctx *ctx, const struct rules_set *set,
                  struct ctl_reply *rep, char *down, size_t downlen)
{
	char head[64], serr[CTL_ERRLEN], rerr[CTL_ERRLEN];
	char *text = NULL;
	size_t len = 0;
	long lines;
	FILE *m;
	int fd, rc = -1, sent;

	m = open_memstream(&text, &len);
	if (m == NULL) {
		rules_fail(ctx, "open_memstream: %s", strerror(errno));
		return -1;
	}
	lines = export_write(m, set);
	if (fclose(m) == EOF || lines == -1) {
		free(text);
		rules_fail(ctx, "writing the import: %s", strerror(errno));
		return -1;
	}
	if (len > CTL_IMPORT_BYTES_MAX || lines > CTL_IMPORT_LINES_MAX) {
		rules_fail(ctx,
		           "%zu bytes in %ld lines: more than the control "
		           "socket takes in one IMPORT (%lu bytes, %d lines)",
		           len, lines, (unsigned long)CTL_IMPORT_BYTES_MAX,
		           CTL_IMPORT_LINES_MAX);
		free(text);
		return -1;
	}
	fd = ctl_connect(ctx->cfg.control_socket, down, downlen);
	if (fd < 0) {
		free(text);
		if (fd == -1)
			rules_fail(ctx, "%s", down);
		return fd;
	}
	snprintf(head, sizeof(head), "IMPORT %ld\n", lines);
	sent = ctl_send(fd, head, strlen(head), CTL_TIMEOUT_MS, serr,
	                sizeof(serr));
	if (sent == 0)
		sent = ctl_send(fd, text, len, RULES_IMPORT_TIMEOUT_MS, serr,
		                sizeof(serr));
	/* Refused early, the daemon has closed: its reply still waits. */
	rc = ctl_recv_reply(fd, rep, RULES_IMPORT_TIMEOUT_MS, rerr,
	                    sizeof(rerr));
	if (rc == -1)
		rules_fail(ctx, "%s", sent == 0 ? rerr : serr);
	close(fd);
	free(text);
	return rc;
}

static int
rules_import(struct rules_ctx *ctx)
{
	const struct rules_args *a = &ctx->a;
	const char *path = a->pos[0];
	char err[RULES_ERRLEN], down[CTL_ERRLEN], lname[RULE_LIST_NAME_MAX];
	char dest[RULE_LIST_NAME_MAX + 8];
	struct rules_list *list = NULL;
	struct rules_set set;
	struct ctl_reply rep;
	struct store *s;
	struct rule r;
	size_t len, n_rules = 0, n_names = 0;
	char *buf;
	FILE *m;
	int rc = CLI_EXIT_FAIL, sent;

	rules_set_init(&set);
	buf = rules_slurp(ctx, path, CTL_IMPORT_BYTES_MAX, &len);
	if (buf == NULL)
		return CLI_EXIT_FAIL;
	if (export_is_export(buf, len)) {
		if (a->app != NULL || a->action != NULL ||
		    a->list_name != NULL || a->uid != NULL || a->port != NULL ||
		    a->proto != NULL || a->duration != NULL ||
		    a->priority != NULL || a->note != NULL) {
			free(buf);
			return rules_usage(
			    ctx,
			    "%s is export text, imported as it "
			    "is: the options are for a name list",
			    path);
		}
		m = fmemopen(buf, len, "r");
		if (m == NULL) {
			rules_fail(ctx, "fmemopen: %s", strerror(errno));
			goto out;
		}
		if (export_read_file(m, &set, &n_rules, &n_names, err,
		                     sizeof(err)) == -1) {
			fclose(m);
			rules_fail(ctx, "%s: %s", path, err);
			goto out;
		}
		fclose(m);
	} else {
		/* A hosts file or a plain list: one list rule. */
		rule_init(&r);
		if (a->list_name != NULL &&
		    strlen(a->list_name) >= RULE_LIST_NAME_MAX) {
			rc = rules_usage(
			    ctx, "--list-name: %zu bytes, at most %d",
			    strlen(a->list_name), RULE_LIST_NAME_MAX - 1);
			goto out;
		}
		if (a->list_name != NULL)
			snprintf(lname, sizeof(lname), "%s", a->list_name);
		else
			rules_list_name_from(path, lname, sizeof(lname));
		snprintf(dest, sizeof(dest), "list:%s", lname);
		if (rule_parse_dest(&r, dest, err, sizeof(err)) == -1) {
			rc = rules_usage(ctx, "--list-name \"%s\": %s", lname,
			                 err);
			goto out;
		}
		if (a->note == NULL)
			snprintf(r.note, sizeof(r.note), "imported from %s",
			         strcmp(path, "-") == 0 ? "stdin" : path);
		if (rules_apply_opts(ctx, &r) == -1) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		list = rules_list_read_buf(buf, len, err, sizeof(err));
		if (list == NULL) {
			rules_fail(ctx, "%s: %s", path, err);
			goto out;
		}
		if (rules_set_add(&set, &r, rules_list_names(list),
		                  rules_list_count(list), err,
		                  sizeof(err)) == -1) {
			rules_fail(ctx, "%s: %s", path, err);
			goto out;
		}
		n_rules = 1;
		n_names = rules_list_count(list);
	}
	free(buf);
	buf = NULL;
	if (n_rules == 0) {
		printf("imported 0 rules, 0 names (%s has none)\n", path);
		rc = CLI_EXIT_OK;
		goto out;
	}

	sent = rules_send_import(ctx, &set, &rep, down, sizeof(down));
	if (sent == -1)
		goto out;
	if (sent == 0) {
		if (!rep.ok) {
			rc = rules_refused(ctx, &rep);
			goto out;
		}
		printf("imported %s rules, %s names\n",
		       ctl_reply_get(&rep, "rules") != NULL
		           ? ctl_reply_get(&rep, "rules")
		           : "?",
		       ctl_reply_get(&rep, "names") != NULL
		           ? ctl_reply_get(&rep, "names")
		           : "?");
		ctl_reply_free(&rep);
		rc = CLI_EXIT_OK;
		goto out;
	}
	s = rules_store_rw(ctx, down);
	if (s == NULL)
		goto out;
	if (store_import(s, &set, false, err, sizeof(err)) == -1) {
		store_close(s);
		rules_fail(ctx, "%s", err);
		goto out;
	}
	store_close(s);
	printf("imported %zu rules, %zu names\n", n_rules, n_names);
	rc = CLI_EXIT_OK;
out:
	free(buf);
	rules_list_free(list);
	rules_set_free(&set);
	return rc;
}

static int
rules_export(struct rules_ctx *ctx)
{
	char err[STORE_ERRLEN], app[RULE_APP_MAX];
	struct rules_set set, picked;
	const struct rules_set *out = &set;
	struct store *s;
	bool missing;
	size_t i;
	int rc = CLI_EXIT_FAIL;

	rules_set_init(&set);
	rules_set_init(&picked);
	if (ctx->a.app != NULL &&
	    rules_resolve_app(ctx, ctx->a.app, app, sizeof(app), true) == -1)
		return CLI_EXIT_USAGE;
	s = rules_store_ro(ctx, &missing);
	if (s == NULL && !missing)
		return CLI_EXIT_FAIL;
	if (s != NULL && store_load(s, &set, err, sizeof(err)) == -1) {
		rules_fail(ctx, "%s", err);
		goto out;
	}
	if (ctx->a.app != NULL) {
		for (i = 0; i < set.n_rules; i++) {
			if (strcmp(set.rules[i].app, app) != 0)
				continue;
			if (rules_set_add(
			        &picked, &set.rules[i],
			        set.lists != NULL ? set.lists[i].names : NULL,
			        set.lists != NULL ? set.lists[i].n : 0, err,
			        sizeof(err)) == -1) {
				rules_fail(ctx, "%s", err);
				goto out;
			}
		}
		out = &picked;
	}
	if (export_write(stdout, out) == -1) {
		rules_fail(ctx, "writing: %s", strerror(errno));
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	rules_set_free(&picked);
	rules_set_free(&set);
	store_close(s);
	return rc;
}

/* --------------------------------------------------------------------
 * Dispatch
 */

static void
rules_help(const struct cli_cmd *cmd)
{
	size_t i;

	printf("usage: " CLI_PROG " [-c FILE] %s ACTION [OPTIONS]\n\n",
	       cmd->name);
	for (i = 0; i < RULES_N_ACTIONS; i++)
		printf("  %s %s\n      %s\n", rules_actions[i].name,
		       rules_actions[i].args, rules_actions[i].help);
	printf("\nChanges go through tollgated when it runs (live at once);\n"
	       "without it they are written to the database (root only).\n"
	       "See tollgate(8).\n");
}

static const char **
rules_slot(struct rules_args *a, int ch)
{
	switch (ch) {
	case 'a':
		return &a->app;
	case 'd':
		return &a->dest;
	case 'u':
		return &a->uid;
	case 'p':
		return &a->port;
	case 'P':
		return &a->proto;
	case 'A':
		return &a->action;
	case 'D':
		return &a->duration;
	case 'r':
		return &a->priority;
	case 'n':
		return &a->note;
	case 'l':
		return &a->list_name;
	default:
		return NULL;
	}
}

int
cli_rules(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
          char **argv)
{
	struct rules_ctx ctx;
	const char **slot;
	char **sub;
	size_t i;
	int ch;

	if (argc < 2)
		return cli_usage_error(cmd, "missing action");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		rules_help(cmd);
		return CLI_EXIT_OK;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = cmd;
	ctx.opts = opts;
	for (i = 0; i < RULES_N_ACTIONS; i++)
		if (strcmp(argv[1], rules_actions[i].name) == 0)
			break;
	if (i == RULES_N_ACTIONS)
		return cli_usage_error(cmd,
		                       "unknown action \"%s\" (expected list, "
		                       "add, del, enable, disable, edit, test, "
		                       "import or export)",
		                       argv[1]);
	ctx.act = &rules_actions[i];

	/* Options and positional arguments may come in any order; sub[0]
	 * is the action. */
	sub = argv + 1;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc - 1, sub, ":h", rules_longopts, NULL)) !=
	       -1) {
		if (ch == 'h') {
			printf("usage: " CLI_PROG " [-c FILE] rules %s %s\n\n"
			       "%s.\n",
			       ctx.act->name, ctx.act->args, ctx.act->help);
			return CLI_EXIT_OK;
		}
		if (ch == ':')
			return rules_usage(&ctx, "%s needs a value",
			                   sub[optind - 1]);
		if (ch == '?')
			return rules_usage(&ctx, "unknown option %s",
			                   sub[optind - 1]);
		if (strchr(ctx.act->optchars, ch) == NULL)
			return rules_usage(&ctx, "--%s does not apply here",
			                   rules_optname(ch));
		if (ch == 'j')
			ctx.a.json = true;
		else if (ch == 'w')
			ctx.a.wide = true;
		else if ((slot = rules_slot(&ctx.a, ch)) != NULL) {
			if (*slot != NULL)
				return rules_usage(&ctx, "--%s given twice",
				                   rules_optname(ch));
			*slot = optarg;
		}
	}
	ctx.a.pos = sub + optind;
	ctx.a.n_pos = argc - 1 - optind;
	if (ctx.a.n_pos < ctx.act->n_pos)
		return rules_usage(&ctx, "missing %s",
		                   ctx.act->n_pos == 1 &&
		                           strcmp(ctx.act->name, "import") == 0
		                       ? "FILE"
		                       : "ID");
	if (ctx.a.n_pos > ctx.act->n_pos)
		return rules_usage(&ctx, "unexpected argument \"%s\"",
		                   ctx.a.pos[ctx.act->n_pos]);
	if (cli_config_load(opts, "rules", &ctx.cfg) == -1)
		return CLI_EXIT_FAIL;
	return ctx.act->run(&ctx);
}
