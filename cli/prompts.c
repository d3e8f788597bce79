/*
 * prompts.c - "tollgate prompts" and "tollgate answer": the prompts
 * tollgated is waiting on, and answering one from the command line
 * (tollgate(8); the protocol is docs/control.md, Prompts).
 *
 * A prompt lives in the daemon's memory and nowhere else, so both need
 * tollgated running; there is no database fallback.  PROMPTS is the one
 * request whose reply is more than a line ("OK count=N", then N PROMPT
 * lines), so it is sent on a connection of its own instead of through
 * ctl_call().  Who may see and answer which prompt is the daemon's to
 * decide: its ERR is passed on as it is.
 *
 * Everything shown comes from the programs being asked about (a path, a
 * command line, a name), so the table goes through cli_ev_text() like
 * "tollgate events": no control byte reaches the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/ctl.h"
#include "common/ctl_client.h"
#include "common/ctl_prompt.h"

/* More prompts than tollgated ever holds (256 pending in all): a reply
 * that claims more is not believed. */
#define PROMPTS_MAX      4096
#define PROMPTS_DEST_MIN 16 /* the DESTINATION column, at least */

/* --------------------------------------------------------------------
 * tollgate prompts
 */

enum {
	COL_ID,
	COL_APP,
	COL_USER,
	COL_DEST,
	COL_AGE,
	COL_LEFT,
	COL_CONNS,
	N_COLS
};

static const struct {
	const char *head;
	size_t max;    /* at most this wide (not with --wide); 0: no limit */
	bool right;    /* numbers */
	bool cut_left; /* keep the end (a host name) */
} prompts_cols[N_COLS] = {
    [COL_ID] = {"ID", 0, true, false},
    [COL_APP] = {"APP", 20, false, false},
    [COL_USER] = {"USER", 12, false, false},
    [COL_DEST] = {"DESTINATION", 0, false, true},
    [COL_AGE] = {"AGE", 0, true, false},
    [COL_LEFT] = {"LEFT", 0, true, false},
    [COL_CONNS] = {"CONNS", 0, true, false},
};

/* One prompt's cells, made safe to print but not yet cut: cell[] points
 * into the buffers. */
struct prompts_row {
	char app[CTL_PROMPT_APP_MAX + 16];
	char dest[CTL_PROMPT_NAME_MAX + 80];
	char small[N_COLS][64];
	const char *cell[N_COLS];
};

/* A positive decimal without sign or leading zeros, as the protocol's
 * ids are; -1 when s is not one or is over max. */
static int
prompts_parse_num(const char *s, unsigned long long max,
                  unsigned long long *out)
{
	size_t len = strlen(s);

	if (len == 0 || len > 19 || s[0] == '0' ||
	    strspn(s, "0123456789") != len)
		return -1;
	*out = strtoull(s, NULL, 10);
	return *out <= max ? 0 : -1;
}

/*
 * Ask tollgated for its pending prompts.  0 with *ps (the caller frees
 * it) and *n, or -1 after saying why: not running, refused, or a reply
 * that is not what docs/control.md says.
 */
static int
prompts_fetch(const char *path, struct ctl_prompt **ps, size_t *n)
{
	static const char request[] = "PROMPTS\n";
	char err[CTL_ERRLEN], perr[CTL_ERRLEN], *line;
	struct ctl_reply rep;
	unsigned long long count = 0;
	const char *v;
	size_t len, i;
	int fd, rc = -1;

	*ps = NULL;
	*n = 0;
	fd = ctl_connect(path, err, sizeof(err));
	if (fd < 0) {
		cli_error("prompts: %s", err);
		return -1;
	}
	/* When the daemon closed early, its ERR may still be there. */
	if ((ctl_send(fd, request, sizeof(request) - 1, CTL_TIMEOUT_MS, err,
	              sizeof(err)) == -1 &&
	     errno != EPIPE && errno != ECONNRESET) ||
	    ctl_recv_reply(fd, &rep, CTL_TIMEOUT_MS, err, sizeof(err)) == -1) {
		cli_error("prompts: %s", err);
		close(fd);
		return -1;
	}
	if (!rep.ok) {
		cli_error("prompts: tollgated refused: %s (%s)", rep.msg,
		          rep.codestr);
		goto out;
	}
	v = ctl_reply_get(&rep, "count");
	if (v == NULL || (strcmp(v, "0") != 0 &&
	                  prompts_parse_num(v, PROMPTS_MAX, &count) == -1)) {
		cli_error("prompts: tollgated answered PROMPTS without a "
		          "count of at most %d (count=%s)",
		          PROMPTS_MAX, v != NULL ? v : "missing");
		goto out;
	}
	*ps = calloc(count > 0 ? count : 1, sizeof(**ps));
	if (*ps == NULL) {
		cli_error("prompts: out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (ctl_recv_line(fd, &line, &len, CTL_TIMEOUT_MS, err,
		                  sizeof(err)) == -1) {
			cli_error("prompts: prompt %zu of %llu: %s", i + 1,
			          count, err);
			goto out;
		}
		if (ctl_prompt_parse(line, len, &(*ps)[i], perr,
		                     sizeof(perr)) == -1) {
			cli_error("prompts: prompt %zu of %llu from "
			          "tollgated: %s",
			          i + 1, count, perr);
			free(line);
			goto out;
		}
		free(line);
	}
	*n = (size_t)count;
	rc = 0;
out:
	if (rc == -1) {
		free(*ps);
		*ps = NULL;
	}
	ctl_reply_free(&rep);
	close(fd);
	return rc;
}

/* Whole seconds, as the protocol's times are: "7s", then as the events
 * table shows durations ("5m03s", "1h02m"); never negative. */
static const char *
prompts_secs(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s > INT64_MAX / 1000) /* a daemon's nonsense, not an overflow */
		s = INT64_MAX / 1000;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else
		cli_ev_duration(s * 1000, buf, len);
	return buf;
}

/* NAME:PORT, or IP:PORT when no name was read ([IPv6]:PORT). */
static const char *
prompts_dest(const struct ctl_prompt *p, char *buf, size_t len)
{
	if (p->name[0] != '\0')
		snprintf(buf, len, "%s:%u", p->name, p->port);
	else if (strchr(p->dst, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", p->dst, p->port);
	else
		snprintf(buf, len, "%s:%u", p->dst, p->port);
	return buf;
}

static void
prompts_row_fill(const struct cli_term *t, const struct ctl_prompt *p,
                 time_t now, bool wide, struct prompts_row *r)
{
	char dest[CTL_PROMPT_NAME_MAX + 80];
	const char *app = p->app, *base;
	size_t c;

	for (c = 0; c < N_COLS; c++)
		r->cell[c] = r->small[c];
	r->cell[COL_APP] = r->app;
	r->cell[COL_DEST] = r->dest;
	if (app[0] == '\0')
		app = "(unknown)";
	else if (!wide && (base = strrchr(app, '/')) != NULL && base[1] != '\0')
		app = base + 1;
	snprintf(r->small[COL_ID], sizeof(r->small[COL_ID]), "%llu",
	         (unsigned long long)p->id);
	cli_ev_text(t, app, 0, false, r->app, sizeof(r->app));
	if (p->user[0] != '\0')
		cli_ev_text(t, p->user, 0, false, r->small[COL_USER],
		            sizeof(r->small[COL_USER]));
	else
		snprintf(r->small[COL_USER], sizeof(r->small[COL_USER]), "%u",
		         p->uid);
	cli_ev_text(t, prompts_dest(p, dest, sizeof(dest)), 0, false, r->dest,
	            sizeof(r->dest));
	prompts_secs((int64_t)now - p->created, r->small[COL_AGE],
	             sizeof(r->small[COL_AGE]));
	prompts_secs(p->expires - (int64_t)now, r->small[COL_LEFT],
	             sizeof(r->small[COL_LEFT]));
	snprintf(r->small[COL_CONNS], sizeof(r->small[COL_CONNS]), "%u",
	         p->connections);
}

/*
 * Each column as wide as its header and widest cell, within its bound;
 * DESTINATION gets what the others leave of the terminal's width (at
 * least PROMPTS_DEST_MIN), and keeps the end of a long name.  With
 * --wide nothing is cut.
 */
static void
prompts_table(const struct cli_term *t, const struct prompts_row *rows,
              size_t n, bool wide)
{
	char cut[CTL_PROMPT_APP_MAX + 64];
	size_t width[N_COLS], used = 0, w, c, i;

	for (c = 0; c < N_COLS; c++) {
		width[c] = cli_ev_width(prompts_cols[c].head);
		for (i = 0; i < n; i++)
			if (cli_ev_width(rows[i].cell[c]) > width[c])
				width[c] = cli_ev_width(rows[i].cell[c]);
		if (!wide && prompts_cols[c].max > 0 &&
		    width[c] > prompts_cols[c].max)
			width[c] = prompts_cols[c].max;
		if (c != COL_DEST)
			used += width[c] + 2;
	}
	w = (size_t)t->cols > used + PROMPTS_DEST_MIN ? (size_t)t->cols - used
	                                              : PROMPTS_DEST_MIN;
	if (!wide && width[COL_DEST] > w)
		width[COL_DEST] = w;
	for (i = 0; i <= n; i++) {
		for (c = 0; c < N_COLS; c++) {
			if (i == 0)
				snprintf(cut, sizeof(cut), "%s",
				         prompts_cols[c].head);
			else
				cli_ev_text(
				    t, rows[i - 1].cell[c], wide ? 0 : width[c],
				    prompts_cols[c].cut_left, cut, sizeof(cut));
			cli_ev_pad(stdout, cut, width[c],
			           prompts_cols[c].right);
			fputs(c + 1 < N_COLS ? "  " : "\n", stdout);
		}
	}
}

/* ,"key":"value", or null for a value the line gave as "-". */
static void
prompts_json_str(const char *key, const char *v)
{
	printf(",\"%s\":", key);
	if (v[0] != '\0')
		cli_json_str(stdout, v);
	else
		fputs("null", stdout);
}

/* ,"scopes":["name",...] or ,"durations":["once",...]: the names whose
 * bit is set. */
static void
prompts_json_set(bool scopes, unsigned set)
{
	size_t i, n = scopes ? CTL_N_SCOPES : CTL_N_DURATIONS;
	const char *sep = "";

	printf(",\"%s\":[", scopes ? "scopes" : "durations");
	for (i = 0; i < n; i++) {
		if (!(set & (1u << i)))
			continue;
		printf("%s\"%s\"", sep,
		       scopes ? ctl_scope_name((enum ctl_scope)i)
		              : ctl_duration_name((enum ctl_duration)i));
		sep = ",";
	}
	putchar(']');
}

/* One prompt as one line of JSON: every field of its PROMPT line, and
 * its age and the seconds left as the table shows them. */
static void
prompts_json(const struct ctl_prompt *p, time_t now)
{
	printf("{\"id\":%llu,\"uid\":%u", (unsigned long long)p->id, p->uid);
	prompts_json_str("user", p->user);
	if (p->pid > 0)
		printf(",\"pid\":%ld", p->pid);
	else
		fputs(",\"pid\":null", stdout);
	prompts_json_str("app", p->app);
	prompts_json_str("cmdline", p->cmdline);
	prompts_json_str("name", p->name);
	prompts_json_str("source", p->source);
	prompts_json_str("dst", p->dst);
	printf(",\"port\":%u", p->port);
	prompts_json_str("proto", p->proto);
	printf(",\"created\":%lld,\"expires\":%lld,\"age\":%lld,\"left\":%lld",
	       (long long)p->created, (long long)p->expires,
	       (long long)((int64_t)now - p->created),
	       (long long)(p->expires > (int64_t)now ? p->expires - (int64_t)now
	                                             : 0));
	printf(",\"connections\":%u", p->connections);
	prompts_json_str(
	    "default", p->deflt >= 0 ? action_name((enum action)p->deflt) : "");
	prompts_json_str("domain", p->domain);
	prompts_json_set(true, p->scopes);
	prompts_json_set(false, p->durations);
	fputs("}\n", stdout);
}

int
cli_prompts(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
            char **argv)
{
	struct prompts_row *rows = NULL;
	struct ctl_prompt *ps;
	struct cli_term term;
	struct config cfg;
	bool json = false, wide = false;
	time_t now;
	size_t n, i;
	int rc;

	rc = cli_flags(
	    cmd, argc, argv,
	    "\n"
	    "  --wide   the program's full path, nothing cut\n"
	    "  --json   one JSON object a line, every field\n"
	    "\n"
	    "Columns: ID (for " CLI_PROG " answer), APP, USER, DESTINATION (the\n"
	    "name asked for, or the address), AGE, LEFT (until default_action\n"
	    "decides), CONNS (connections waiting).  Anyone may look; who is "
	    "not\n"
	    "root or in admin_group sees only their own prompts.  See "
	    "tollgate(8).\n",
	    &json, &wide);
	if (rc != -1)
		return rc;
	if (cli_config_load(opts, "prompts", &cfg) == -1)
		return CLI_EXIT_FAIL;
	if (prompts_fetch(cfg.control_socket, &ps, &n) == -1)
		return CLI_EXIT_FAIL;
	now = time(NULL);
	if (json) {
		for (i = 0; i < n; i++)
			prompts_json(&ps[i], now);
		free(ps);
		return CLI_EXIT_OK;
	}
	if (n == 0) {
		printf("no pending prompts\n");
		free(ps);
		return CLI_EXIT_OK;
	}
	rows = calloc(n, sizeof(*rows));
	if (rows == NULL) {
		free(ps);
		cli_error("prompts: out of memory");
		return CLI_EXIT_FAIL;
	}
	cli_term_get(&term, false);
	for (i = 0; i < n; i++)
		prompts_row_fill(&term, &ps[i], now, wide, &rows[i]);
	prompts_table(&term, rows, n, wide);
	free(rows);
	free(ps);
	return CLI_EXIT_OK;
}

/* --------------------------------------------------------------------
 * tollgate answer
 */

static void
answer_help(const struct cli_cmd *cmd)
{
	printf("usage: " CLI_PROG " [-c FILE] %s %s\n"
	       "\n"
	       "%s.\n"
	       "\n"
	       "  ID            the prompt, as " CLI_PROG " prompts shows it\n"
	       "  VERDICT       allow, deny or reject\n"
	       "  --scope S     what the rule it adds covers:\n"
	       "                  name    the name asked for (default)\n"
	       "                  domain  *.DOMAIN, its registrable domain\n"
	       "                  app     this program, anywhere\n"
	       "                  ip      the address\n"
	       "                  port    anywhere on this port\n"
	       "  --duration D  once (default: no rule, only the connections\n"
	       "                waiting now), restart (until tollgated "
	       "restarts),\n"
	       "                1h, or forever\n"
	       "\n"
	       "Every connection waiting on the prompt is decided at once, "
	       "and the\n"
	       "prompt leaves every tollgate-prompt showing it.  Needs root "
	       "or\n"
	       "admin_group.  See tollgate(8).\n",
	       cmd->name, cmd->args, cmd->help);
}

int
cli_answer(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv)
{
	static const struct option longopts[] = {
	    {"scope", required_argument, NULL, 's'},
	    {"duration", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *scope_arg = NULL, *duration_arg = NULL, *v, *conns, *rule;
	char req[128], err[CTL_ERRLEN];
	unsigned long long id;
	struct ctl_reply rep;
	struct config cfg;
	int ch, verdict, scope = CTL_SCOPE_NAME, duration = CTL_DUR_ONCE;

	optind = 0;
	opterr = 0;
	/* Options may come before, between or after ID and VERDICT. */
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			scope_arg = optarg;
			break;
		case 'd':
			duration_arg = optarg;
			break;
		case 'h':
			answer_help(cmd);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(cmd, "%s needs a value",
			                       argv[optind - 1]);
		default:
			return cli_usage_error(cmd, "unknown option %s",
			                       argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return cli_usage_error(cmd, "missing %s",
		                       argc == optind ? "ID and VERDICT"
		                                      : "VERDICT");
	if (argc - optind > 2)
		return cli_usage_error(cmd, "unexpected argument \"%s\"",
		                       argv[optind + 2]);
	if (prompts_parse_num(argv[optind], INT64_MAX, &id) == -1)
		return cli_usage_error(cmd,
		                       "\"%s\" is not a prompt id (a positive "
		                       "number, as " CLI_PROG " prompts shows)",
		                       argv[optind]);
	if ((verdict = action_parse(argv[optind + 1])) == -1)
		return cli_usage_error(cmd,
		                       "unknown verdict \"%s\" (expected "
		                       "allow, deny or reject)",
		                       argv[optind + 1]);
	if (scope_arg != NULL && (scope = ctl_scope_parse(scope_arg)) == -1)
		return cli_usage_error(cmd,
		                       "--scope \"%s\": expected name, domain, "
		                       "app, ip or port",
		                       scope_arg);
	if (duration_arg != NULL &&
	    (duration = ctl_duration_parse(duration_arg)) == -1)
		return cli_usage_error(cmd,
		                       "--duration \"%s\": expected once, "
		                       "restart, 1h or forever",
		                       duration_arg);
	if (cli_config_load(opts, "answer", &cfg) == -1)
		return CLI_EXIT_FAIL;

	snprintf(req, sizeof(req), "%s %llu %s %s %s",
	         ctl_verb_name(CTL_ANSWER), id,
	         action_name((enum action)verdict),
	         ctl_scope_name((enum ctl_scope)scope),
	         ctl_duration_name((enum ctl_duration)duration));
	if (ctl_call(cfg.control_socket, req, &rep, err, sizeof(err)) != 0) {
		cli_error("answer: %s", err);
		return CLI_EXIT_FAIL;
	}
	if (!rep.ok) {
		/* A prompt without a name is not offered the default scope. */
		cli_error("answer: tollgated refused: %s (%s)%s", rep.msg,
		          rep.codestr,
		          rep.code == CTL_E_INVALID && scope_arg == NULL
		              ? "; the default --scope is name: "
		                "see the prompt's scopes in " CLI_PROG
		                " prompts --json"
		              : "");
		ctl_reply_free(&rep);
		return CLI_EXIT_FAIL;
	}
	v = ctl_reply_get(&rep, "verdict");
	conns = ctl_reply_get(&rep, "connections");
	rule = ctl_reply_get(&rep, "rule");
	printf("prompt %llu: %s (%s connection%s); ", id,
	       v != NULL ? v : action_name((enum action)verdict),
	       conns != NULL ? conns : "?",
	       conns != NULL && strcmp(conns, "1") == 0 ? "" : "s");
	if (rule != NULL && strcmp(rule, "0") != 0)
		printf("rule %s added\n", rule);
	else if (duration == CTL_DUR_ONCE)
		printf("no rule added (once)\n");
	else
		printf("no rule added\n");
	ctl_reply_free(&rep);
	return CLI_EXIT_OK;
}
