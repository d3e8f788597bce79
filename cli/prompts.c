/*
 * prompts.c - "tollgate prompts": the prompts tollgated is waiting on
 * (tollgate(8); the protocol is docs/control.md, Prompts).  Answering one
 * is answer.c.
 *
 * A prompt lives in the daemon's memory and nowhere else, so this needs
 * tollgated running; there is no database fallback.  PROMPTS is the one
 * request whose reply is more than a line ("OK count=N", then N PROMPT
 * lines), so it is sent on a connection of its own instead of through
 * ctl_call().  Who may see and answer which prompt is the daemon's to
 * decide: its ERR is passed on as it is.
 *
 * Everything shown comes from the programs being asked about (a path, a
 * command line, a name), so the table (table.h) shows them in their
 * safe form, like "tollgate events": no control byte reaches the
 * terminal.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "cli/values.h"
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

/* Each column as wide as its header and widest cell, within its bound
 * (not with --wide); DESTINATION gets what the others leave of the
 * terminal's width, and keeps the end of a long name. */
static const struct table_col prompts_cols[N_COLS] = {
    [COL_ID] = {.head = "ID", .right = true},
    [COL_APP] = {.head = "APP", .max = 20},
    [COL_USER] = {.head = "USER", .max = 12},
    [COL_DEST] = {.head = "DESTINATION", .cut_left = true, .flex = true},
    [COL_AGE] = {.head = "AGE", .right = true},
    [COL_LEFT] = {.head = "LEFT", .right = true},
    [COL_CONNS] = {.head = "CONNS", .right = true},
};

/* What the options said. */
struct prompts_args {
	bool wide, json;
};

static const struct cli_opt prompts_opts[] = {
    {"wide", 0, NULL, "the program's full path, nothing cut",
     offsetof(struct prompts_args, wide)},
    {"json", 'j', NULL, "one JSON object a line, every field",
     offsetof(struct prompts_args, json)},
};

static const struct cli_optset prompts_optset = {
    .opts = prompts_opts,
    .n_opts = sizeof(prompts_opts) / sizeof(prompts_opts[0]),
    .in_order = true,
    .help_col = 11,
};

/* cli.h: the pending prompts, for this command and tollgate ui. */
int
cli_prompts_fetch(const struct cli_who *who, const char *path,
                  struct ctl_prompt **ps, size_t *n)
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
		cli_fail(who, "%s", err);
		return -1;
	}
	/* When the daemon closed early, its ERR may still be there. */
	if ((ctl_send(fd, request, sizeof(request) - 1, CTL_TIMEOUT_MS, err,
	              sizeof(err)) == -1 &&
	     errno != EPIPE && errno != ECONNRESET) ||
	    ctl_recv_reply(fd, &rep, CTL_TIMEOUT_MS, err, sizeof(err)) == -1) {
		cli_fail(who, "%s", err);
		close(fd);
		return -1;
	}
	if (!rep.ok) {
		cli_fail(who, "tollgated refused: %s (%s)", rep.msg,
		         rep.codestr);
		goto out;
	}
	v = ctl_reply_get(&rep, "count");
	if (v == NULL || (strcmp(v, "0") != 0 &&
	                  cli_parse_id(v, PROMPTS_MAX, &count) == -1)) {
		cli_fail(who,
		         "tollgated answered PROMPTS without a "
		         "count of at most %d (count=%s)",
		         PROMPTS_MAX, v != NULL ? v : "missing");
		goto out;
	}
	*ps = calloc(count > 0 ? count : 1, sizeof(**ps));
	if (*ps == NULL) {
		cli_fail(who, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (ctl_recv_line(fd, &line, &len, CTL_TIMEOUT_MS, err,
		                  sizeof(err)) == -1) {
			cli_fail(who, "prompt %zu of %llu: %s", i + 1, count,
			         err);
			goto out;
		}
		if (ctl_prompt_parse(line, len, &(*ps)[i], perr,
		                     sizeof(perr)) == -1) {
			cli_fail(who,
			         "prompt %zu of %llu from "
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

/* One prompt as a row of t: its cells, not cut yet.  0, or -1 when out
 * of memory. */
static int
prompts_row(struct table *t, const struct ctl_prompt *p, time_t now, bool wide)
{
	char dest[CTL_PROMPT_NAME_MAX + 80], id[32], user[32], age[64];
	char left[64], conns[32];
	const char *app = p->app, *base;
	const char *cells[N_COLS] = {
	    [COL_ID] = id,   [COL_USER] = user, [COL_DEST] = dest,
	    [COL_AGE] = age, [COL_LEFT] = left, [COL_CONNS] = conns,
	};

	if (app[0] == '\0')
		app = "(unknown)";
	else if (!wide && (base = strrchr(app, '/')) != NULL && base[1] != '\0')
		app = base + 1;
	cells[COL_APP] = app;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
	if (p->user[0] != '\0')
		cells[COL_USER] = p->user;
	else
		snprintf(user, sizeof(user), "%u", p->uid);
	prompts_dest(p, dest, sizeof(dest));
	prompts_secs((int64_t)now - p->created, age, sizeof(age));
	prompts_secs(p->expires - (int64_t)now, left, sizeof(left));
	snprintf(conns, sizeof(conns), "%u", p->connections);
	return table_add(t, cells, NULL);
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
	int b;

	printf(",\"%s\":[", scopes ? "scopes" : "durations");
	for (i = 0; i < n; i++) {
		b = scopes ? (int)i : ctl_duration_order[i];
		if (!(set & (1u << b)))
			continue;
		printf("%s\"%s\"", sep,
		       scopes ? ctl_scope_name((enum ctl_scope)b)
		              : ctl_duration_name((enum ctl_duration)b));
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

static void
prompts_help(const struct cli_cmd *cmd)
{
	cli_help_head(cmd->name, cmd->args, cmd->help);
	printf("\n");
	cli_opts_help(stdout, &prompts_optset);
	printf("\n"
	       "Columns: ID (for " CLI_PROG " answer), APP, USER, DESTINATION "
	       "(the\n"
	       "name asked for, or the address), AGE, LEFT (until "
	       "default_action\n"
	       "decides), CONNS (connections waiting).  Anyone may look; who "
	       "is not\n"
	       "root or in admin_group sees only their own prompts.  See "
	       "tollgate(8).\n");
}

int
cli_prompts(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
            char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	struct prompts_args a = {false, false};
	struct ctl_prompt *ps;
	struct cli_term term;
	struct config cfg;
	struct table t;
	time_t now;
	size_t n, i;
	int rc, next;

	rc = cli_opts_parse(&prompts_optset, CLI_OPTS_ALL, &who, argc, argv, &a,
	                    &next);
	if (rc == CLI_OPTS_HELP) {
		prompts_help(cmd);
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (next < argc)
		return cli_usage(&who, "unexpected argument \"%s\"",
		                 argv[next]);
	if (cli_config_load(opts, "prompts", &cfg) == -1)
		return CLI_EXIT_FAIL;
	if (cli_prompts_fetch(&who, cfg.control_socket, &ps, &n) == -1)
		return CLI_EXIT_FAIL;
	now = time(NULL);
	if (a.json) {
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
	cli_term_get(&term, false);
	table_init(&t, prompts_cols, N_COLS, 2, PROMPTS_DEST_MIN, &term,
	           a.wide ? 0 : TABLE_FIT);
	for (i = 0; i < n; i++) {
		if (prompts_row(&t, &ps[i], now, a.wide) == -1) {
			table_free(&t);
			free(ps);
			return cli_fail(&who, "out of memory");
		}
	}
	table_print(&t, false);
	free(ps);
	return CLI_EXIT_OK;
}
