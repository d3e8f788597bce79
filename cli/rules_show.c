/*
 * rules_show.c - "tollgate rules list" and "tollgate rules test": the
 * rules as a table or as JSON, and which rule decides a connection
 * (rules.h).  Both read the database read-only; a list of a user who may
 * not read it comes from tollgated (cli_rules_load(), rows.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/apps.h"
#include "cli/rows.h"
#include "cli/rules.h"
#include "cli/table.h"
#include "cli/values.h"
#include "common/name.h"
#include "rules/match.h"
#include "store/store.h"

/* rules test without --uid: at most this many users, the accounts from
 * this uid on when every user is guarded, never nobody. */
#define RULES_TEST_USERS_MAX 256
#define RULES_TEST_UID_MIN   1000
#define RULES_TEST_NOBODY    65534

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
	fputs(",\"via\":", out);
	if (r->via[0] != '\0')
		cli_json_str(out, r->via);
	else
		fputs("null", out);
	fputs(",\"digest\":", out);
	if (r->digest[0] != '\0')
		cli_json_str(out, r->digest);
	else
		fputs("null", out);
	fputs(",\"script\":", out);
	if (r->script[0] != '\0')
		cli_json_str(out, r->script);
	else
		fputs("null", out);
	fputs(",\"cmdline\":", out);
	if (r->cmdline[0] != '\0')
		cli_json_str(out, r->cmdline);
	else
		fputs("null", out);
	fputc('}', out);
}

/* The columns of rules_list(), and of rules_list() --wide. */
static const struct table_col rules_cols[] = {
    {.head = "ID"},       {.head = "APP"},   {.head = "DEST"},
    {.head = "PORT"},     {.head = "PROTO"}, {.head = "ACTION"},
    {.head = "DURATION"}, {.head = "HITS"},  {.head = "NOTE"},
};

static const struct table_col rules_wide_cols[] = {
    {.head = "ID"},     {.head = "APP"},      {.head = "UID"},
    {.head = "DEST"},   {.head = "PORT"},     {.head = "PROTO"},
    {.head = "ACTION"}, {.head = "PRIORITY"}, {.head = "DURATION"},
    {.head = "HITS"},   {.head = "LAST HIT"}, {.head = "CREATED"},
    {.head = "NOTE"},
};

/* The human form of one rule's cells, in the columns of rules_list(). */
static int
rules_table_row(struct table *t, const struct rule *r, int64_t n_names,
                bool wide)
{
	char id[24], dest[NAME_MAX_LEN + 64];
	char app[RULE_APP_MAX + RULE_SCRIPT_MAX + RULE_CMDLINE_MAX + 64];
	char port[16], action[64], dur[64], hits[24], uid[64], prio[16];
	char created[32], last[32], tmp[NAME_MAX_LEN + 8];
	const char *base, *sbase;
	int off;

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	base = strrchr(r->app, '/');
	base = wide || base == NULL || base[1] == '\0' ? r->app : base + 1;
	/* an interpreter's script (its file name) and command line glob */
	sbase = strrchr(r->script, '/');
	sbase = wide || sbase == NULL ? r->script : sbase + 1;
	off = snprintf(app, sizeof(app), "%s%s%s%s%s%s", base,
	               sbase[0] != '\0' ? " " : "", sbase,
	               r->cmdline[0] != '\0' ? " [" : "", r->cmdline,
	               r->cmdline[0] != '\0' ? "]" : "");
	if (r->has_uid && !wide && off > 0 && (size_t)off < sizeof(app))
		snprintf(app + off, sizeof(app) - (size_t)off, " (%s%s)",
		         cli_user_name(r->uid, uid, sizeof(uid)) ? "" : "uid ",
		         uid);
	rule_dest_str(r, tmp, sizeof(tmp));
	if (n_names >= 0)
		snprintf(dest, sizeof(dest), "%s (%lld names)", tmp,
		         (long long)n_names);
	else
		snprintf(dest, sizeof(dest), "%s", tmp);
	rules_port_str(r, port, sizeof(port));
	snprintf(action, sizeof(action), "%s%s%s%s", action_name(r->action),
	         r->via[0] != '\0' ? " via " : "", r->via,
	         r->enabled ? "" : " (off)");
	rule_duration_str(r, dur, sizeof(dur));
	snprintf(hits, sizeof(hits), "%llu", (unsigned long long)r->hits);
	if (!wide) {
		const char *row[] = {
		    id,     app, dest, port,   rule_proto_str(r->proto),
		    action, dur, hits, r->note};

		return table_add(t, row, NULL);
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
			cli_user_name(r->uid, uid, sizeof(uid));
		else
			snprintf(uid, sizeof(uid), "any");
		snprintf(prio, sizeof(prio), "%d", r->priority);
		return table_add(t, row, NULL);
	}
}

int
cli_rules_load(const struct config *cfg, struct cli_rules *out, char *err,
               size_t errlen)
{
	struct store *s;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	switch (cli_source(cfg)) {
	case CLI_SOURCE_MISSING:
		return 0;
	case CLI_SOURCE_SOCKET:
		return cli_rules_sock(cfg, out, err, errlen);
	case CLI_SOURCE_DB:
		break;
	}
	s = store_open(cfg->database, STORE_READONLY, err, errlen);
	if (s == NULL)
		return -1;
	if (store_rule_list(s, NULL, &out->rules, &out->n, err, errlen) == -1)
		goto out;
	out->n_names = calloc(out->n + 1, sizeof(*out->n_names));
	if (out->n_names == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < out->n; i++) {
		out->n_names[i] = -1;
		if (out->rules[i].dest_kind == DEST_LIST &&
		    (out->n_names[i] = store_list_count(s, out->rules[i].id,
		                                        err, errlen)) == -1)
			goto out;
	}
	rc = 0;
out:
	store_close(s);
	return rc;
}

void
cli_rules_free(struct cli_rules *out)
{
	free(out->rules);
	free(out->n_names);
	memset(out, 0, sizeof(*out));
}

int
rules_list(struct rules_ctx *ctx)
{
	char err[CLI_ROWS_ERRLEN], real[RULE_APP_MAX];
	struct cli_rules got;
	struct rule *rules;
	int64_t *counts;
	struct table t;
	size_t n, i, kept;
	int rc = CLI_EXIT_FAIL;

	real[0] = '\0';
	/* As it has always been: cells as stored, widths in bytes, the
	 * terminal's width not looked at. */
	if (ctx->a.wide)
		table_init(&t, rules_wide_cols,
		           sizeof(rules_wide_cols) / sizeof(rules_wide_cols[0]),
		           2, 0, NULL, TABLE_RAW);
	else
		table_init(&t, rules_cols,
		           sizeof(rules_cols) / sizeof(rules_cols[0]), 2, 0,
		           NULL, TABLE_RAW);
	if (ctx->a.app != NULL &&
	    rules_app_filter(ctx, ctx->a.app, real, sizeof(real)) == -1) {
		table_free(&t);
		return CLI_EXIT_USAGE;
	}
	if (cli_rules_load(&ctx->cfg, &got, err, sizeof(err)) == -1) {
		cli_fail(&ctx->who, "%s", err);
		goto out;
	}
	rules = got.rules;
	counts = got.n_names;
	n = got.n;
	if (ctx->a.app != NULL) {
		for (i = 0, kept = 0; i < n; i++)
			if (apps_match(rules[i].app, ctx->a.app, real)) {
				counts[kept] = counts[i];
				rules[kept++] = rules[i];
			}
		n = kept;
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
		printf("no rules%s%s%s%s%s%s\n",
		       got.via_socket ? " of yours" : "",
		       ctx->a.app != NULL ? " for " : "",
		       ctx->a.app != NULL ? ctx->a.app : "",
		       real[0] != '\0' ? " (" : "", real,
		       real[0] != '\0' ? ")" : "");
		rc = CLI_EXIT_OK;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (rules_table_row(&t, &rules[i], counts[i], ctx->a.wide) ==
		    -1)
			goto nomem;
	table_print(&t, false);
	rc = CLI_EXIT_OK;
	goto out;
nomem:
	cli_fail(&ctx->who, "out of memory");
out:
	table_free(&t);
	cli_rules_free(&got);
	return rc;
}

/* --------------------------------------------------------------------
 * test
 */

/*
 * Where an allowed connection goes, by the route via names, into buf:
 * "upstream (direct)", "direct", "mail (socks5://10.152.152.10:9102)",
 * or what is wrong when tollgate.conf has no such upstream.
 */
static const char *
rules_route(const struct rules_ctx *ctx, const char *via, char *buf, size_t len)
{
	char at[CONFIG_UPSTREAM_STRLEN];
	const struct config_upstream *u;

	u = config_upstream_find(&ctx->cfg, via);
	if (u == NULL)
		snprintf(buf, len, "%s (no upstream named '%s' in %s)", via,
		         via,
		         ctx->cfg.path[0] ? ctx->cfg.path : "tollgate.conf");
	else if (strcmp(u->name, "direct") == 0)
		snprintf(buf, len, "direct");
	else
		snprintf(buf, len, "%s (%s)", u->name,
		         config_upstream_fmt(u, at, sizeof(at)));
	return buf;
}

/* One user's answer: the rule that decides, or none (default_action). */
struct rules_answer {
	const struct rules_entry *e;
	struct rules_explain why;
};

/* A uid as "alice (uid 1001)", or "uid 100000" without a name. */
static const char *
rules_user_str(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

static bool
rules_uid_in(const uid_t *uids, size_t n, uid_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (uids[i] == uid)
			return true;
	return false;
}

/*
 * The users "rules test" without --uid answers for, into uids[max]: the
 * guarded users (with guard_users = *, the accounts from UID 1000 that
 * are guarded), and every guarded uid a rule is bound to.  Returns how
 * many, in that order.
 */
static size_t
rules_test_uids(const struct rules_ctx *ctx, const struct rules_set *set,
                uid_t *uids, size_t max)
{
	const struct config *cfg = &ctx->cfg;
	struct passwd *pw;
	size_t i, n = 0;

	for (i = 0; i < cfg->n_guard && n < max; i++)
		if (!rules_uid_in(uids, n, cfg->guard_uids[i]))
			uids[n++] = cfg->guard_uids[i];
	if (cfg->guard_all) {
		setpwent();
		while (n < max && (pw = getpwent()) != NULL)
			if (pw->pw_uid >= RULES_TEST_UID_MIN &&
			    pw->pw_uid != RULES_TEST_NOBODY &&
			    config_uid_guarded(cfg, pw->pw_uid) &&
			    !rules_uid_in(uids, n, pw->pw_uid))
				uids[n++] = pw->pw_uid;
		endpwent();
	}
	for (i = 0; i < set->n_rules && n < max; i++)
		if (set->rules[i].has_uid &&
		    config_uid_guarded(cfg, set->rules[i].uid) &&
		    !rules_uid_in(uids, n, set->rules[i].uid))
			uids[n++] = set->rules[i].uid;
	return n;
}

/* The whole explanation of one answer, as text or one JSON object (with
 * "uid" and "user" when user is not NULL). */
static void
rules_test_print(const struct rules_ctx *ctx, const struct rules_answer *ans,
                 const uid_t *uid)
{
	char line[RULE_LINE_MAX], dest[NAME_MAX_LEN + 64], portbuf[16];
	char route[CONFIG_UPSTREAM_STRLEN + 2 * CONFIG_UPSTREAM_NAME_MAX + 64];
	char routeat[CONFIG_UPSTREAM_STRLEN];
	const struct config_upstream *u;
	const struct rules_entry *e = ans->e;
	struct passwd *pw;
	enum action verdict;
	const char *via;
	struct rule r;

	if (e != NULL)
		rules_entry_rule(e, &r);
	verdict = e != NULL ? e->action : ctx->cfg.default_action;
	via = e != NULL ? e->via : "";
	rules_route(ctx, via, route, sizeof(route));
	if (ctx->a.json) {
		printf("{");
		if (uid != NULL) {
			printf("\"uid\":%u,\"user\":", (unsigned)*uid);
			pw = getpwuid(*uid);
			if (pw != NULL)
				cli_json_str(stdout, pw->pw_name);
			else
				printf("null");
			printf(",");
		}
		printf("\"verdict\":\"%s\",\"default\":%s,\"step\":",
		       action_name(verdict), e != NULL ? "false" : "true");
		cli_json_str(stdout, rules_step_name(ans->why.step));
		printf(",\"matches\":%zu,\"why\":", ans->why.n_matches);
		cli_json_str(stdout,
		             e != NULL ? ans->why.text : "no rule matches");
		printf(",\"rule\":");
		if (e != NULL)
			rules_json_rule(stdout, &r, -1);
		else
			printf("null");
		/* route: the upstream's name ("direct" for the direct row);
		 * upstream: where it is, null when tollgate.conf lacks it. */
		u = config_upstream_find(&ctx->cfg, via);
		printf(",\"route\":");
		if (verdict != ACTION_ALLOW)
			printf("null,\"upstream\":null");
		else {
			cli_json_str(stdout, u != NULL ? u->name : via);
			printf(",\"upstream\":");
			if (u != NULL)
				cli_json_str(stdout,
				             config_upstream_fmt(
				                 u, routeat, sizeof(routeat)));
			else
				printf("null");
		}
		printf("}\n");
		return;
	}
	if (e == NULL) {
		printf("no rule: default_action (%s)\n",
		       action_name(ctx->cfg.default_action));
		if (verdict == ACTION_ALLOW)
			printf("  route:   %s\n", route);
		return;
	}
	rule_format(&r, line, sizeof(line));
	printf("%s by rule %lld (app %s, dest %s, port %s, proto %s)\n",
	       action_name(r.action), (long long)r.id, r.app,
	       rule_dest_str(&r, dest, sizeof(dest)),
	       rules_port_str(&r, portbuf, sizeof(portbuf)),
	       rule_proto_str(r.proto));
	printf("  step:    %d (%s)\n", (int)ans->why.step,
	       rules_step_name(ans->why.step));
	printf("  why:     %s\n", ans->why.text);
	printf("  matches: %zu rule%s\n", ans->why.n_matches,
	       ans->why.n_matches == 1 ? "" : "s");
	if (verdict == ACTION_ALLOW)
		printf("  route:   %s\n", route);
	printf("  %s\n", line);
}

/* One line of an answer that differs by user: "alice (uid 1001): deny by
 * rule 3 (app ..., uid 1001, dest ..., port ...)". */
static void
rules_test_line(const struct rules_ctx *ctx, uid_t uid,
                const struct rules_answer *ans)
{
	char who[128], dest[NAME_MAX_LEN + 64], portbuf[16], ruid[16];
	struct rule r;

	rules_user_str(uid, who, sizeof(who));
	if (ans->e == NULL) {
		printf("%s: %s: no rule, default_action\n", who,
		       action_name(ctx->cfg.default_action));
		return;
	}
	rules_entry_rule(ans->e, &r);
	if (r.has_uid)
		snprintf(ruid, sizeof(ruid), "%u", (unsigned)r.uid);
	else
		snprintf(ruid, sizeof(ruid), "any");
	printf("%s: %s by rule %lld (app %s, uid %s, dest %s, port %s, "
	       "proto %s)\n",
	       who, action_name(r.action), (long long)r.id, r.app, ruid,
	       rule_dest_str(&r, dest, sizeof(dest)),
	       rules_port_str(&r, portbuf, sizeof(portbuf)),
	       rule_proto_str(r.proto));
}

int
rules_test(struct rules_ctx *ctx)
{
	char app[RULE_APP_MAX], name[NAME_MAX_LEN + 1], err[STORE_ERRLEN];
	char who[128], script[RULE_SCRIPT_MAX];
	const struct rules_args *a = &ctx->a;
	struct rules_answer *ans = NULL, one;
	struct rules_index *idx = NULL;
	struct rules_query q;
	struct rules_set set;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct rule tmp;
	uid_t uids[RULES_TEST_USERS_MAX];
	size_t n_uids = 0, i;
	bool differ = false;
	long long port;
	int rc = CLI_EXIT_FAIL;

	if (a->app == NULL || a->dest == NULL || a->port == NULL)
		return cli_usage(&ctx->who, "--%s is missing",
		                 a->app == NULL    ? "app"
		                 : a->dest == NULL ? "dest"
		                                   : "port");
	memset(&q, 0, sizeof(q));
	memset(&ss, 0, sizeof(ss));
	rule_init(&tmp);
	if (rules_resolve_app(ctx, a->app, app, sizeof(app), a->json) == -1)
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
		return cli_usage(&ctx->who,
		                 "--dest \"%s\": not a name or an IP: %s",
		                 a->dest, err);
	if (cli_parse_num(a->port, 1, 65535, &port) == -1)
		return cli_usage(&ctx->who,
		                 "--port \"%s\": expected a port, 1 to "
		                 "65535",
		                 a->port);
	q.port = (uint16_t)port;
	q.proto = RPROTO_TCP;
	if (a->proto != NULL &&
	    (rule_parse_proto(&tmp, a->proto, err, sizeof(err)) == -1 ||
	     tmp.proto == RPROTO_ANY))
		return cli_usage(&ctx->who,
		                 "--proto \"%s\": expected tcp, udp or "
		                 "dns",
		                 a->proto);
	if (a->proto != NULL)
		q.proto = tmp.proto;
	q.now = time(NULL);
	if (a->script != NULL &&
	    rules_resolve_script(ctx, a->script, script, sizeof(script),
	                         true) == -1)
		return CLI_EXIT_USAGE;
	q.script = a->script != NULL ? script : NULL;
	q.cmdline = a->cmdline;

	rules_set_init(&set);
	if (rules_load(ctx, &set) == -1)
		goto out;
	idx = rules_index_build(&set, q.now, err, sizeof(err));
	if (idx == NULL) {
		cli_fail(&ctx->who, "building the index: %s", err);
		goto out;
	}
	/* tollgated asks with the connection's uid: without --uid, ask as
	 * each guarded user. */
	if (a->uid == NULL) {
		/* A rule bound to a subordinate uid is a guarded user's. */
		if (config_load_subids(&ctx->cfg, NULL, NULL, err,
		                       sizeof(err)) == -1)
			cli_note(&ctx->who,
			         "%s; rules for subordinate uids are left out",
			         err);
		n_uids = rules_test_uids(ctx, &set, uids, RULES_TEST_USERS_MAX);
	}
	if (n_uids == 0) {
		memset(&one.why, 0, sizeof(one.why));
		one.e = rules_match(idx, &q, &one.why);
		rules_test_print(ctx, &one, NULL);
		rc = CLI_EXIT_OK;
		goto out;
	}
	ans = calloc(n_uids, sizeof(*ans));
	if (ans == NULL) {
		cli_fail(&ctx->who, "out of memory");
		goto out;
	}
	q.has_uid = true;
	for (i = 0; i < n_uids; i++) {
		q.uid = uids[i];
		ans[i].e = rules_match(idx, &q, &ans[i].why);
		if ((ans[i].e == NULL) != (ans[0].e == NULL) ||
		    (ans[i].e != NULL && ans[i].e->id != ans[0].e->id))
			differ = true;
	}
	if (!differ) {
		rules_test_print(ctx, &ans[0], NULL);
		if (!a->json) {
			printf("  users:   the same for every guarded user (");
			for (i = 0; i < n_uids; i++)
				printf(
				    "%s%s", i > 0 ? ", " : "",
				    rules_user_str(uids[i], who, sizeof(who)));
			printf(")\n");
		}
	} else if (a->json) {
		for (i = 0; i < n_uids; i++)
			rules_test_print(ctx, &ans[i], &uids[i]);
	} else {
		printf("the answer differs by user:\n");
		for (i = 0; i < n_uids; i++)
			rules_test_line(ctx, uids[i], &ans[i]);
	}
	rc = CLI_EXIT_OK;
out:
	free(ans);
	rules_index_free(idx);
	rules_set_free(&set);
	return rc;
}
