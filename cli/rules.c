/*
 * rules.c - "tollgate rules ACTION ...": the actions and their options as
 * tables, dispatch, and what the actions share: their arguments made
 * into a rule, and the way to tollgated or to the database (rules.h).
 * tollgate(8) says what the user sees.
 *
 * Changes (add, del, enable, disable, edit, import) go to tollgated over
 * the control socket (common/ctl.h), so they are live when it answers.
 * When it does not run (no socket, or nothing listening), they are
 * written to the database directly, which needs root; tollgated reads
 * them when it starts.  Queries (list, test, export) read the database
 * read-only (rules/store.h) and work whether tollgated runs or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/apps.h"
#include "common/ctl_client.h"
#include "common/digest.h"
#include "cli/opts.h"
#include "cli/rows.h"
#include "cli/rules.h"
#include "cli/values.h"
#include "rules/interp.h"
#include "store/store.h"

/* The options of every action; each action takes some (rules_actions[]). */
enum {
	RO_APP,
	RO_DEST,
	RO_UID,
	RO_PORT,
	RO_PROTO,
	RO_ACTION,
	RO_DURATION,
	RO_PRIORITY,
	RO_NOTE,
	RO_VIA,
	RO_DIGEST,
	RO_SCRIPT,
	RO_CMDLINE,
	RO_LIST_NAME,
	RO_JSON,
	RO_WIDE,
};

#define RO_BIT(o) (UINT32_C(1) << (o))
/* The fields of a rule that add and edit set. */
#define RO_RULE                                                                \
	(RO_BIT(RO_APP) | RO_BIT(RO_DEST) | RO_BIT(RO_UID) | RO_BIT(RO_PORT) | \
	 RO_BIT(RO_PROTO) | RO_BIT(RO_ACTION) | RO_BIT(RO_DURATION) |          \
	 RO_BIT(RO_PRIORITY) | RO_BIT(RO_NOTE) | RO_BIT(RO_VIA))
/* What an interpreter runs: add, edit and test. */
#define RO_INTERP (RO_BIT(RO_SCRIPT) | RO_BIT(RO_CMDLINE))

#define RULES_FIELD(f) offsetof(struct rules_args, f)
#define RULES_N(a)     (sizeof(a) / sizeof((a)[0]))

/* Each row's help is what the option means to add and edit; the actions
 * where it means something else say so in rules_opt_helps[]. */
static const struct cli_opt rules_opts[] = {
    [RO_APP] = {"app", 0, "EXE",
                "the program: its path (one not installed yet\n"
                "too), or a command found in the guarded users'\n"
                "PATH (ENV_PATH of " APPS_LOGIN_DEFS "); '*': every\n"
                "program.  The path chosen is printed",
                RULES_FIELD(app)},
    [RO_DEST] = {"dest", 0, "DEST",
                 "a name (example.com), *.example.com (it and every\n"
                 "name under it), an IP, a CIDR, or '*'",
                 RULES_FIELD(dest)},
    [RO_UID] = {"uid", 0, "N|USER",
                "only this user's connections (default: any user)",
                RULES_FIELD(uid)},
    [RO_PORT] = {"port", 0, "N|N-M", "only this port or range (default any)",
                 RULES_FIELD(port)},
    [RO_PROTO] = {"proto", 0, "PROTO", "tcp, udp, dns or any (default any)",
                  RULES_FIELD(proto)},
    [RO_ACTION] = {"action", 0, "ACTION", "allow, deny or reject",
                   RULES_FIELD(action)},
    [RO_DURATION] = {"duration", 0, "DURATION",
                     "once, restart (until tollgated restarts), 30m,\n"
                     "2h, 7d, or forever (default)",
                     RULES_FIELD(duration)},
    [RO_PRIORITY] = {"priority", 0, "N",
                     "the higher wins, before any other precedence\n"
                     "(default 0)",
                     RULES_FIELD(priority)},
    [RO_NOTE] = {"note", 0, "TEXT", "a note shown in rules list",
                 RULES_FIELD(note)},
    [RO_VIA] = {"via", 0, "ROUTE",
                "allow only: direct, upstream, or the NAME of an\n"
                "upstream.NAME key of tollgate.conf",
                RULES_FIELD(via)},
    [RO_DIGEST] = {"digest", 0, "pin|none",
                   "pin: only while the app's file has the SHA-256 it\n"
                   "has now; none: drop a pin",
                   RULES_FIELD(digest)},
    [RO_SCRIPT] = {"script", 0, "PATH",
                   "an interpreter's script (--app python3, perl,\n"
                   "ruby, node, sh, bash, dash): only while it runs\n"
                   "this file; '' drops it.  A label, not a security\n"
                   "boundary: a program can rewrite its argv",
                   RULES_FIELD(script)},
    [RO_CMDLINE] = {"cmdline", 0, "GLOB",
                    "only while its command line (argv joined by\n"
                    "spaces, as events show it) matches GLOB\n"
                    "(fnmatch: * also matches '/'); '' drops it",
                    RULES_FIELD(cmdline)},
    [RO_LIST_NAME] = {"list-name", 0, "NAME",
                      "the list's name (default: the file's); a list\n"
                      "of that name is replaced",
                      RULES_FIELD(list_name)},
    [RO_JSON] = {"json", 0, NULL, "JSON instead of a table", RULES_FIELD(json)},
    [RO_WIDE] = {"wide", 0, NULL, "full paths, uid, priority and times",
                 RULES_FIELD(wide)},
};

static const struct cli_optset rules_optset = {
    .opts = rules_opts,
    .n_opts = sizeof(rules_opts) / sizeof(rules_opts[0]),
    .help_col = 23,
};

/* Where an option means something else than in add and edit. */
static const struct {
	const char *action;
	int opt;
	const char *help;
} rules_opt_helps[] = {
    {"list", RO_APP,
     "only this program's rules: its path, or its name\n"
     "(python3 finds /usr/bin/python3 and /usr/bin/python3.11)"},
    {"export", RO_APP, "only this program's rules: its path, or its name"},
    {"test", RO_APP,
     "the program that connects: its path, or a command\n"
     "found in the guarded users' PATH"},
    {"test", RO_DEST, "the name or IP it connects to"},
    {"test", RO_PORT, "the port it connects to"},
    {"test", RO_PROTO, "tcp (default), udp or dns"},
    {"test", RO_UID,
     "as this user (default: each guarded user, one line\n"
     "each where their answers differ)"},
    {"test", RO_JSON,
     "one JSON object; one a line, with uid and user,\n"
     "when the answers differ by user"},
    {"test", RO_SCRIPT, "the script the interpreter runs"},
    {"test", RO_CMDLINE, "its command line, argv joined by spaces"},
    {"add", RO_DIGEST,
     "pin: only while the app's file has the SHA-256 it\n"
     "has now"},
    {"import", RO_APP,
     "a name list's program (default '*'); export text\n"
     "keeps its own"},
    {"import", RO_ACTION, "a name list's verdict (default deny)"},
};

#define RULE_OPTS                                                              \
	"[--uid N] [--port N|N-M] [--proto tcp|udp|dns] "                      \
	"[--duration once|restart|30m|2h|7d|forever] [--priority N] "          \
	"[--note TEXT] [--via direct|upstream|NAME]"

static const struct rules_action rules_actions[] = {
    {"list", "[--app EXE] [--wide] [--json]",
     "show the rules (--wide: full paths, uid, priority, times)",
     RO_BIT(RO_APP) | RO_BIT(RO_WIDE) | RO_BIT(RO_JSON), NULL, false,
     rules_list},
    {"add",
     "--app EXE|'*' --dest NAME|*.NAME|IP|CIDR|'*' "
     "--action allow|deny|reject " RULE_OPTS " [--digest pin] "
     "[--script PATH] [--cmdline GLOB]",
     "add a rule (--digest pin: only while the app's file has the SHA-256 "
     "it has now; --script, --cmdline: only while the interpreter runs "
     "that)",
     RO_RULE | RO_BIT(RO_DIGEST) | RO_INTERP, NULL, false, rules_add},
    {"del", "ID...", "delete rules", 0, "ID", true, rules_del},
    {"enable", "ID...", "enable rules", 0, "ID", true, rules_enable},
    {"disable", "ID...", "disable rules (kept, but they decide nothing)", 0,
     "ID", true, rules_disable},
    {"edit",
     "ID [--app EXE] [--dest DEST] [--action ACTION] " RULE_OPTS
     " [--digest pin|none] [--script PATH] [--cmdline GLOB]",
     "change the given fields of a rule (--digest pin: to the app's file "
     "as it is now)",
     RO_RULE | RO_BIT(RO_DIGEST) | RO_INTERP, "ID", false, rules_edit},
    {"test",
     "--app EXE --dest NAME|IP --port N [--proto tcp|udp|dns] [--uid N] "
     "[--script PATH] [--cmdline TEXT] [--json]",
     "which rule decides this connection, and why",
     RO_BIT(RO_APP) | RO_BIT(RO_DEST) | RO_BIT(RO_UID) | RO_BIT(RO_PORT) |
         RO_BIT(RO_PROTO) | RO_BIT(RO_JSON) | RO_INTERP,
     NULL, false, rules_test},
    {"import",
     "FILE [--app EXE|'*'] [--action ACTION] [--list-name NAME] " RULE_OPTS,
     "import export text, or a hosts file or name list as one list rule",
     (RO_RULE & ~RO_BIT(RO_DEST)) | RO_BIT(RO_LIST_NAME), "FILE", false,
     rules_import},
    {"export", "[--app EXE]", "print the rules as export text (for import)",
     RO_BIT(RO_APP), NULL, false, rules_export},
};

#define RULES_N_ACTIONS (sizeof(rules_actions) / sizeof(rules_actions[0]))

/* --------------------------------------------------------------------
 * Arguments
 */

int
rules_resolve_app(const struct rules_ctx *ctx, const char *in, char *out,
                  size_t len, bool quiet)
{
	char cand[PATH_MAX], real[PATH_MAX], path[APPS_PATH_MAX];
	char how[PATH_MAX + 64];

	how[0] = '\0';
	if (strcmp(in, "*") == 0 || in[0] == '/') {
		snprintf(cand, sizeof(cand), "%s", in);
	} else if (strchr(in, '/') != NULL) {
		if (realpath(in, real) == NULL)
			return cli_bad_value(&ctx->who, "--app \"%s\": %s", in,
			                     strerror(errno));
		snprintf(cand, sizeof(cand), "%s", real);
	} else {
		apps_user_path(path, sizeof(path));
		if (apps_find(in, path, cand, sizeof(cand)) == -1)
			return cli_bad_value(
			    &ctx->who,
			    "--app \"%s\": no such command in the guarded "
			    "users' PATH (%s); give the program's absolute "
			    "path (it may be one not installed yet), or '*'",
			    in, path);
		snprintf(how, sizeof(how), " (%s in the guarded users' PATH)",
		         in);
	}
	if (strcmp(cand, "*") != 0 && realpath(cand, real) != NULL &&
	    strcmp(real, cand) != 0) {
		/* /proc/PID/exe names the file, not the link. */
		if (strchr(in, '/') == NULL)
			snprintf(how, sizeof(how),
			         " (%s in the guarded users' PATH: %s, a link "
			         "to it)",
			         in, cand);
		else
			snprintf(how, sizeof(how), " (%s is a link to it)",
			         cand);
		snprintf(cand, sizeof(cand), "%s", real);
	}
	if (strlen(cand) >= len) {
		return cli_bad_value(
		    &ctx->who, "--app: path longer than %zu bytes", len - 1);
	}
	snprintf(out, len, "%s", cand);
	if (quiet || strcmp(cand, "*") == 0)
		return 0;
	printf("app: %s%s\n", cand, how);
	if (access(cand, F_OK) == -1)
		cli_warn(&ctx->who,
		         "%s does not exist (yet); the rule will match it once "
		         "installed",
		         cand);
	return 0;
}

int
rules_resolve_script(const struct rules_ctx *ctx, const char *in, char *out,
                     size_t len, bool quiet)
{
	char cand[PATH_MAX + 1], real[PATH_MAX], cwd[PATH_MAX];
	bool found = false;

	if (in[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	if (in[0] == '/')
		snprintf(cand, sizeof(cand), "%s", in);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return cli_bad_value(&ctx->who,
		                     "--script \"%s\": the current directory: "
		                     "%s; give an absolute path",
		                     in, strerror(errno));
	else if (snprintf(cand, sizeof(cand), "%s/%s", cwd, in) >=
	         (int)sizeof(cand))
		goto toolong;
	/* tollgated names the file as realpath(3) does (rules/interp.h). */
	if (realpath(cand, real) != NULL) {
		snprintf(cand, sizeof(cand), "%s", real);
		found = true;
	} else
		interp_clean(cand);
	if (strlen(cand) >= len)
		goto toolong;
	snprintf(out, len, "%s", cand);
	if (quiet)
		return 0;
	printf("script: %s\n", cand);
	if (!found)
		cli_warn(&ctx->who,
		         "%s does not exist (yet); the rule will match it once "
		         "it does",
		         cand);
	return 0;
toolong:
	return cli_bad_value(&ctx->who, "--script: path longer than %zu bytes",
	                     len - 1);
}

int
rules_app_filter(const struct rules_ctx *ctx, const char *want, char *real,
                 size_t len)
{
	char path[APPS_PATH_MAX], cand[PATH_MAX], r[PATH_MAX];

	real[0] = '\0';
	if (want[0] == '\0' || strlen(want) >= RULE_APP_MAX)
		return cli_bad_value(&ctx->who,
		                     "--app \"%s\": expected a program's path "
		                     "or name",
		                     want);
	if (strcmp(want, "*") == 0)
		return 0;
	if (strchr(want, '/') == NULL) {
		apps_user_path(path, sizeof(path));
		if (apps_find(want, path, cand, sizeof(cand)) == -1)
			return 0;
	} else
		snprintf(cand, sizeof(cand), "%s", want);
	if (realpath(cand, r) != NULL && strlen(r) < len)
		snprintf(real, len, "%s", r);
	return 0;
}

int
rules_parse_uid(struct rules_ctx *ctx, struct rule *r, const char *s)
{
	char err[RULES_ERRLEN], num[32];
	struct passwd *pw;

	if (rule_parse_uid(r, s, err, sizeof(err)) == 0)
		return 0;
	pw = getpwnam(s);
	if (pw == NULL) {
		return cli_bad_value(&ctx->who,
		                     "--uid \"%s\": not a number, any, or a "
		                     "user",
		                     s);
	}
	snprintf(num, sizeof(num), "%u", (unsigned)pw->pw_uid);
	return rule_parse_uid(r, num, err, sizeof(err));
}

/*
 * --digest: "pin" puts the SHA-256 of r's app file as it is now in r,
 * "none" drops a pin.  0, or -1 (said).
 */
static int
rules_pin(struct rules_ctx *ctx, struct rule *r, const char *how)
{
	struct digest_cache *dc;
	uint8_t md[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN];
	int fd, rc;

	if (strcmp(how, "none") == 0) {
		r->digest[0] = '\0';
		return 0;
	}
	if (strcmp(how, "pin") != 0)
		return cli_bad_value(
		    &ctx->who, "--digest \"%s\": expected pin or none", how);
	if (strcmp(r->app, "*") == 0)
		return cli_bad_value(&ctx->who,
		                     "--digest pin: pins one app's file; give "
		                     "--app EXE");
	if ((fd = open(r->app, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		cli_fail(&ctx->who, "--digest pin: opening %s: %s", r->app,
		         strerror(errno));
		return -1;
	}
	if ((dc = digest_cache_new()) == NULL) {
		close(fd);
		cli_fail(&ctx->who, "--digest pin: out of memory");
		return -1;
	}
	rc = digest_file(dc, fd, r->app, md, NULL);
	digest_cache_free(dc);
	close(fd);
	if (rc != 0) {
		cli_fail(&ctx->who, "--digest pin: %s cannot be hashed (%s)",
		         r->app,
		         rc == 1 ? "not a regular file, or too large"
		                 : "a read failed");
		return -1;
	}
	snprintf(r->digest, sizeof(r->digest), "%s", digest_hex(md, hex));
	return 0;
}

int
rules_apply_opts(struct rules_ctx *ctx, struct rule *r)
{
	const struct rules_args *a = &ctx->a;
	char err[RULES_ERRLEN], app[RULE_APP_MAX], path[RULE_SCRIPT_MAX];
	long long v;
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
		return cli_bad_value(&ctx->who, "--dest \"%s\": %s", a->dest,
		                     err);
	if (a->uid != NULL && rules_parse_uid(ctx, r, a->uid) == -1)
		return -1;
	if (a->port != NULL &&
	    rule_parse_port(r, a->port, err, sizeof(err)) == -1)
		return cli_bad_value(&ctx->who, "--port \"%s\": %s", a->port,
		                     err);
	if (a->proto != NULL &&
	    rule_parse_proto(r, a->proto, err, sizeof(err)) == -1)
		return cli_bad_value(&ctx->who, "--proto \"%s\": %s", a->proto,
		                     err);
	if (a->action != NULL) {
		act = action_parse(a->action);
		if (act == -1)
			return cli_bad_value(&ctx->who,
			                     "--action \"%s\": expected allow, "
			                     "deny or reject",
			                     a->action);
		r->action = (enum action)act;
	}
	if (a->duration != NULL &&
	    rule_parse_duration(r, a->duration, time(NULL), err, sizeof(err)) ==
	        -1)
		return cli_bad_value(&ctx->who, "--duration \"%s\": %s",
		                     a->duration, err);
	if (a->priority != NULL) {
		if (cli_parse_num(a->priority, RULE_PRIORITY_MIN,
		                  RULE_PRIORITY_MAX, &v) == -1)
			return cli_bad_value(&ctx->who,
			                     "--priority \"%s\": expected a "
			                     "number from %d to %d",
			                     a->priority, RULE_PRIORITY_MIN,
			                     RULE_PRIORITY_MAX);
		r->priority = (int)v;
	}
	if (a->note != NULL) {
		if (strlen(a->note) >= RULE_NOTE_MAX)
			return cli_bad_value(
			    &ctx->who, "--note: %zu bytes, at most %d",
			    strlen(a->note), RULE_NOTE_MAX - 1);
		for (i = 0; a->note[i] != '\0'; i++)
			if ((unsigned char)a->note[i] < 0x20 ||
			    a->note[i] == 0x7f)
				return cli_bad_value(&ctx->who,
				                     "--note: a control "
				                     "character in the text");
		snprintf(r->note, sizeof(r->note), "%s", a->note);
	}
	if (a->via != NULL) {
		if (rule_parse_via(r, a->via, err, sizeof(err)) == -1)
			return cli_bad_value(&ctx->who, "--via \"%s\": %s",
			                     a->via, err);
		if (config_upstream_find(&ctx->cfg, a->via) == NULL)
			return cli_bad_value(
			    &ctx->who,
			    "--via \"%s\": no upstream named '%s' in %s "
			    "(expected direct, upstream or the NAME of an "
			    "upstream.NAME key)",
			    a->via, a->via,
			    ctx->cfg.path[0] ? ctx->cfg.path : "tollgate.conf");
	}
	if (a->digest != NULL && rules_pin(ctx, r, a->digest) == -1)
		return -1;
	if (a->script != NULL) {
		if (a->script[0] != '\0' && strcmp(r->app, "*") == 0)
			return cli_bad_value(&ctx->who,
			                     "--script goes with one "
			                     "interpreter's --app (python3, "
			                     "perl, ruby, node, sh, bash, "
			                     "dash), not '*'");
		if (rules_resolve_script(ctx, a->script, path, sizeof(path),
		                         false) == -1)
			return -1;
		if (a->script[0] != '\0' && !interp_known(r->app))
			cli_warn(
			    &ctx->who,
			    "%s is no interpreter tollgated knows (python, "
			    "perl, ruby, node, sh, bash, dash): its "
			    "processes have no script, and the rule "
			    "matches none of them",
			    r->app);
		if (rule_parse_script(r, path, err, sizeof(err)) == -1)
			return cli_bad_value(&ctx->who, "--script \"%s\": %s",
			                     a->script, err);
	}
	if (a->cmdline != NULL &&
	    rule_parse_cmdline(r, a->cmdline, err, sizeof(err)) == -1)
		return cli_bad_value(&ctx->who, "--cmdline \"%s\": %s",
		                     a->cmdline, err);
	if (rule_check(r, err, sizeof(err)) == -1) {
		if (a->digest != NULL && r->digest[0] != '\0')
			return cli_bad_value(&ctx->who, "--digest: %s", err);
		if ((r->script[0] != '\0' || r->cmdline[0] != '\0') &&
		    strcmp(r->app, "*") == 0)
			return cli_bad_value(&ctx->who, "%s", err);
		if (a->via != NULL)
			return cli_bad_value(&ctx->who,
			                     "--via only goes with allow");
		return cli_bad_value(&ctx->who,
		                     "the rule goes via %s, which only goes "
		                     "with allow: add --via '' to drop the "
		                     "route",
		                     r->via);
	}
	return 0;
bad_app:
	return cli_bad_value(&ctx->who, "--app \"%s\": %s", a->app, err);
}

/* --------------------------------------------------------------------
 * The daemon and the database
 */

int
rules_call(struct rules_ctx *ctx, const char *request, struct ctl_reply *rep,
           char *down, size_t downlen)
{
	int rc;

	rc = ctl_call(ctx->cfg.control_socket, request, rep, down, downlen);
	if (rc == -1)
		cli_fail(&ctx->who, "%s", down);
	return rc;
}

/* An ERR from the daemon, as this command's error: frees rep, returns
 * CLI_EXIT_FAIL. */
static int
rules_refused(struct rules_ctx *ctx, struct ctl_reply *rep)
{
	cli_fail(&ctx->who, "tollgated refused: %s (%s)", rep->msg,
	         rep->codestr);
	ctl_reply_free(rep);
	return CLI_EXIT_FAIL;
}

struct store *
rules_store_rw(struct rules_ctx *ctx, const char *down)
{
	char err[STORE_ERRLEN];
	struct store *s;

	if (geteuid() != 0) {
		cli_fail(&ctx->who,
		         "%s; changing the database %s without it needs "
		         "root",
		         down, ctx->cfg.database);
		return NULL;
	}
	s = store_open(ctx->cfg.database, STORE_READWRITE, err, sizeof(err));
	if (s == NULL) {
		cli_fail(&ctx->who, "%s", err);
		return NULL;
	}
	if (!ctx->said_direct)
		cli_note(&ctx->who,
		         "%s; changed %s directly (tollgated reads it when it "
		         "starts)",
		         down, ctx->cfg.database);
	ctx->said_direct = true;
	return s;
}

struct store *
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
		cli_fail(&ctx->who, "%s", err);
	return s;
}

const char *
rules_fields(const struct rule *r, char *buf, size_t len)
{
	rule_format(r, buf, len);
	return strncmp(buf, "rule ", 5) == 0 ? buf + 5 : buf;
}

int
rules_change(struct rules_ctx *ctx, int sent, struct ctl_reply *rep,
             const char *down, rules_apply_fn apply, void *arg, char *err,
             size_t errlen)
{
	struct store *s;
	int rc;

	if (sent == -1)
		return -1;
	if (sent == 0) {
		if (!rep->ok) {
			rules_refused(ctx, rep);
			return -1;
		}
		return 1;
	}
	s = rules_store_rw(ctx, down);
	if (s == NULL)
		return -1;
	rc = apply(s, arg, err, errlen);
	store_close(s);
	if (rc != 0) {
		cli_fail(&ctx->who, "%s", err);
		return -1;
	}
	return 0;
}

int
rules_load(struct rules_ctx *ctx, struct rules_set *set)
{
	char err[STORE_ERRLEN];
	struct store *s;
	bool missing;
	int rc = 0;

	if (cli_source(&ctx->cfg) == CLI_SOURCE_SOCKET) {
		/* tollgated serves this user their own rules only, and every
		 * rule can decide their connections: no partial answer. */
		cli_fail(&ctx->who,
		         "%s needs every rule, in %s, which this user may not "
		         "read: run it as root or as a member of admin_group "
		         "(\"tollgate rules list\" shows your own rules)",
		         ctx->who.name, ctx->cfg.database);
		return -1;
	}
	s = rules_store_ro(ctx, &missing);
	if (s == NULL)
		return missing ? 0 : -1;
	if (store_load(s, set, err, sizeof(err)) == -1) {
		cli_fail(&ctx->who, "%s", err);
		rc = -1;
	}
	store_close(s);
	return rc;
}

/* --------------------------------------------------------------------
 * Dispatch
 */

/* What each positional argument is, for an action's --help. */
static const struct {
	const char *pos;
	const char *help;
} rules_pos_helps[] = {
    {"ID", "a rule's id, as rules list shows it"},
    {"FILE", "export text, a hosts file or a list of names\n"
             "('-': standard input)"},
};

/* "tollgate rules ACTION --help": the synopsis, then one line an option. */
static void
rules_action_help(const struct rules_action *act, const char *name)
{
	const char *text;
	char left[64];
	size_t i, j;

	cli_help_head(name, act->args, act->help);
	printf("\n");
	for (i = 0; act->pos != NULL && i < RULES_N(rules_pos_helps); i++)
		if (strcmp(rules_pos_helps[i].pos, act->pos) == 0) {
			snprintf(left, sizeof(left), "%s%s", act->pos,
			         act->pos_many ? "..." : "");
			cli_help_row(stdout, rules_optset.help_col, left,
			             rules_pos_helps[i].help);
		}
	for (i = 0; i < rules_optset.n_opts; i++) {
		if (!(act->opts & RO_BIT(i)))
			continue;
		text = rules_opts[i].help;
		for (j = 0; j < RULES_N(rules_opt_helps); j++)
			if ((int)i == rules_opt_helps[j].opt &&
			    strcmp(rules_opt_helps[j].action, act->name) == 0)
				text = rules_opt_helps[j].help;
		snprintf(left, sizeof(left), "--%s%s%s", rules_opts[i].name,
		         rules_opts[i].arg != NULL ? " " : "",
		         rules_opts[i].arg != NULL ? rules_opts[i].arg : "");
		cli_help_row(stdout, rules_optset.help_col, left, text);
	}
	if (act->run == rules_list || act->run == rules_test ||
	    act->run == rules_export)
		printf("\nReads the database read-only; works while tollgated "
		       "is down.\nSee tollgate(8).\n");
	else
		printf("\nChanges go through tollgated when it runs (live at "
		       "once);\nwithout it they are written to the database "
		       "(root only).\nSee tollgate(8).\n");
}

static void
rules_help(const struct cli_cmd *cmd)
{
	size_t i;

	printf("usage: " CLI_PROG " [-c FILE] %s ACTION [OPTIONS]\n\n",
	       cmd->name);
	for (i = 0; i < RULES_N_ACTIONS; i++)
		printf("  %s %s\n      %s\n", rules_actions[i].name,
		       rules_actions[i].args, rules_actions[i].help);
	printf("\n" CLI_PROG " rules ACTION --help lists an action's options.\n"
	       "Changes go through tollgated when it runs (live at once);\n"
	       "without it they are written to the database (root only).\n"
	       "See tollgate(8).\n");
}

int
cli_rules(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
          char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	struct rules_ctx ctx;
	int rc, next, n_pos;
	size_t i;

	if (argc < 2)
		return cli_usage(&who, "missing action");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		rules_help(cmd);
		return CLI_EXIT_OK;
	}
	memset(&ctx, 0, sizeof(ctx));
	for (i = 0; i < RULES_N_ACTIONS; i++)
		if (strcmp(argv[1], rules_actions[i].name) == 0)
			break;
	if (i == RULES_N_ACTIONS)
		return cli_usage(&who,
		                 "unknown action \"%s\" (expected list, add, "
		                 "del, enable, disable, edit, test, import or "
		                 "export)",
		                 argv[1]);
	ctx.act = &rules_actions[i];
	snprintf(ctx.name, sizeof(ctx.name), "%s %s", cmd->name, ctx.act->name);
	ctx.who.name = ctx.name;
	ctx.who.args = ctx.act->args;

	/* Options and positional arguments may come in any order; argv[1]
	 * is the action. */
	rc = cli_opts_parse(&rules_optset, ctx.act->opts, &ctx.who, argc - 1,
	                    argv + 1, &ctx.a, &next);
	if (rc == CLI_OPTS_HELP) {
		rules_action_help(ctx.act, ctx.name);
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	ctx.a.pos = argv + 1 + next;
	ctx.a.n_pos = argc - 1 - next;
	n_pos = ctx.act->pos != NULL ? 1 : 0;
	if (ctx.a.n_pos < n_pos)
		return cli_usage(&ctx.who, "missing %s", ctx.act->pos);
	if (ctx.a.n_pos > n_pos && !ctx.act->pos_many)
		return cli_usage(&ctx.who, "unexpected argument \"%s\"",
		                 ctx.a.pos[n_pos]);
	if (cli_config_load(opts, "rules", &ctx.cfg) == -1)
		return CLI_EXIT_FAIL;
	return ctx.act->run(&ctx);
}
