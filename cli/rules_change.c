/*
 * rules_change.c - "tollgate rules add, del, enable, disable, edit": one
 * rule changed, through tollgated when it runs, else in the database
 * (rules.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/rows.h"
#include "cli/rules.h"
#include "cli/values.h"
#include "common/ctl_client.h"
#include "store/store.h"

/* A rule id: a positive number.  0 or -1. */
static int
rules_parse_id(const struct rules_ctx *ctx, const char *s, int64_t *id)
{
	long long v;

	if (cli_parse_num(s, 1, LONG_MAX, &v) == -1)
		return cli_bad_value(&ctx->who,
		                     "\"%s\" is not a rule id (a positive "
		                     "number; see " CLI_PROG " rules list)",
		                     s);
	*id = v;
	return 0;
}

static int
rules_store_add(struct store *s, void *r, char *err, size_t errlen)
{
	return store_rule_add(s, r, NULL, 0, err, errlen);
}

static int
rules_store_edit(struct store *s, void *r, char *err, size_t errlen)
{
	return store_rule_edit(s, r, NULL, 0, err, errlen);
}

int
rules_add(struct rules_ctx *ctx)
{
	char fields[RULE_LINE_MAX], req[RULE_LINE_MAX + 32];
	char down[CTL_ERRLEN], err[STORE_ERRLEN];
	struct ctl_reply rep;
	struct rule r;
	int rc;

	if (ctx->a.app == NULL)
		return cli_usage(&ctx->who,
		                 "--app is missing (a program's path, "
		                 "or '*' for every program)");
	if (ctx->a.dest == NULL)
		return cli_usage(&ctx->who,
		                 "--dest is missing (a name, *.name, "
		                 "an IP, a CIDR, or '*')");
	if (ctx->a.action == NULL)
		return cli_usage(&ctx->who,
		                 "--action is missing (allow, deny or "
		                 "reject)");
	if (strncmp(ctx->a.dest, "list:", 5) == 0)
		return cli_usage(&ctx->who,
		                 "--dest \"%s\": a list rule comes "
		                 "with its names: use " CLI_PROG
		                 " rules import FILE",
		                 ctx->a.dest);
	rule_init(&r);
	if (rules_apply_opts(ctx, &r) == -1)
		return CLI_EXIT_USAGE;
	snprintf(req, sizeof(req), "RULE-ADD %s",
	         rules_fields(&r, fields, sizeof(fields)));
	rc = rules_change(ctx, rules_call(ctx, req, &rep, down, sizeof(down)),
	                  &rep, down, rules_store_add, &r, err, sizeof(err));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	if (rc == 0) {
		printf("added rule %lld\n", (long long)r.id);
		return CLI_EXIT_OK;
	}
	printf("added rule %s\n", ctl_reply_get(&rep, "id") != NULL
	                              ? ctl_reply_get(&rep, "id")
	                              : "?");
	ctl_reply_free(&rep);
	return CLI_EXIT_OK;
}

/* del, enable, disable: one id, one verb, one store call. */
struct rules_by_id {
	enum ctl_verb verb;
	int64_t id;
};

static int
rules_store_by_id(struct store *s, void *arg, char *err, size_t errlen)
{
	const struct rules_by_id *b = arg;

	if (b->verb == CTL_RULE_DEL)
		return store_rule_delete(s, b->id, err, errlen);
	return store_rule_enable(s, b->id, b->verb == CTL_RULE_ENABLE, err,
	                         errlen);
}

/*
 * One change by id; 0, or -1 after the error naming the rule (tollgated's
 * ERR says "no rule N", the database's likewise).
 */
static int
rules_one_by_id(struct rules_ctx *ctx, struct rules_by_id *b)
{
	char req[64], down[CTL_ERRLEN], err[STORE_ERRLEN];
	struct ctl_reply rep;
	int rc;

	snprintf(req, sizeof(req), "%s %lld", ctl_verb_name(b->verb),
	         (long long)b->id);
	rc = rules_change(ctx, rules_call(ctx, req, &rep, down, sizeof(down)),
	                  &rep, down, rules_store_by_id, b, err, sizeof(err));
	if (rc == -1)
		return -1;
	if (rc == 1)
		ctl_reply_free(&rep);
	return 0;
}

/*
 * del, enable, disable ID...: every id is checked before anything is
 * changed; then each is changed and reported on its own line, and a
 * failure does not stop the others.  The exit status is CLI_EXIT_FAIL
 * when one failed, after a last line naming those that did.
 */
static int
rules_by_id(struct rules_ctx *ctx, enum ctl_verb verb, const char *done)
{
	struct rules_by_id b = {verb, 0};
	char failed[256];
	size_t off = 0;
	int64_t id;
	int i, n_failed = 0;

	for (i = 0; i < ctx->a.n_pos; i++)
		if (rules_parse_id(ctx, ctx->a.pos[i], &id) == -1)
			return CLI_EXIT_USAGE;
	failed[0] = '\0';
	for (i = 0; i < ctx->a.n_pos; i++) {
		rules_parse_id(ctx, ctx->a.pos[i], &b.id);
		if (rules_one_by_id(ctx, &b) == 0) {
			printf("%s rule %lld\n", done, (long long)b.id);
			continue;
		}
		n_failed++;
		if (off < sizeof(failed))
			off += (size_t)snprintf(
			    failed + off, sizeof(failed) - off, "%s%lld",
			    n_failed > 1 ? ", " : "", (long long)b.id);
	}
	if (n_failed == 0)
		return CLI_EXIT_OK;
	if (ctx->a.n_pos > 1)
		cli_fail(&ctx->who, "%d of %d rules not %s: %s%s", n_failed,
		         ctx->a.n_pos, done, failed,
		         off >= sizeof(failed) ? "..." : "");
	return CLI_EXIT_FAIL;
}

int
rules_del(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_DEL, "deleted");
}

int
rules_enable(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_ENABLE, "enabled");
}

int
rules_disable(struct rules_ctx *ctx)
{
	return rules_by_id(ctx, CTL_RULE_DISABLE, "disabled");
}

/*
 * edit --duration alone, by one who may not read the database (a guarded
 * user, on a rule bound to their uid): RULE-DURATION, which needs no
 * reading first.  True with *rc the exit status when it was that case.
 */
static bool
rules_edit_duration(struct rules_ctx *ctx, int64_t id, int *rc)
{
	const struct rules_args *a = &ctx->a;
	char req[256], down[CTL_ERRLEN], num[24];
	struct ctl_reply rep;
	struct ctl_line l;

	if (a->duration == NULL || a->app != NULL || a->dest != NULL ||
	    a->uid != NULL || a->port != NULL || a->proto != NULL ||
	    a->action != NULL || a->priority != NULL || a->note != NULL ||
	    a->via != NULL || a->digest != NULL ||
	    cli_source(&ctx->cfg) != CLI_SOURCE_SOCKET)
		return false;
	snprintf(num, sizeof(num), "%lld", (long long)id);
	ctl_line_init(&l, req, sizeof(req));
	ctl_put_word(&l, "RULE-DURATION");
	ctl_put_word(&l, num);
	ctl_put_word(&l, a->duration);
	if (l.over) {
		*rc = cli_usage(&ctx->who, "--duration: too long");
		return true;
	}
	*rc = CLI_EXIT_FAIL;
	switch (rules_call(ctx, req, &rep, down, sizeof(down))) {
	case CTL_DOWN:
		cli_fail(&ctx->who,
		         "%s; the database %s is not yours to change", down,
		         ctx->cfg.database);
		return true;
	case -1:
		return true;
	}
	if (!rep.ok)
		cli_fail(&ctx->who, "tollgated refused: %s (%s)", rep.msg,
		         rep.codestr);
	else {
		printf("edited rule %lld\n", (long long)id);
		*rc = CLI_EXIT_OK;
	}
	ctl_reply_free(&rep);
	return true;
}

/*
 * edit: the stored rule with the given options on top; the whole rule
 * goes to the daemon (RULE-EDIT replaces every field).
 */
int
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
	    a->duration == NULL && a->priority == NULL && a->note == NULL &&
	    a->via == NULL && a->digest == NULL && a->script == NULL &&
	    a->cmdline == NULL)
		return cli_usage(&ctx->who,
		                 "nothing to change: give at least one "
		                 "option");
	if (rules_edit_duration(ctx, id, &rc))
		return rc;
	s = rules_store_ro(ctx, &missing);
	if (s == NULL)
		return missing ? cli_fail(&ctx->who,
		                          "no rule %lld (no database "
		                          "yet at %s)",
		                          (long long)id, ctx->cfg.database)
		               : CLI_EXIT_FAIL;
	rc = store_rule_get(s, id, &r, err, sizeof(err));
	store_close(s);
	if (rc != STORE_OK)
		return cli_fail(&ctx->who, "%s", err);
	if (a->dest != NULL && strncmp(a->dest, "list:", 5) == 0 &&
	    !(r.dest_kind == DEST_LIST && strcmp(r.dest, a->dest + 5) == 0))
		return cli_usage(&ctx->who,
		                 "--dest \"%s\": a list comes with its "
		                 "names: use " CLI_PROG " rules import FILE",
		                 a->dest);
	if (rules_apply_opts(ctx, &r) == -1)
		return CLI_EXIT_USAGE;
	snprintf(req, sizeof(req), "RULE-EDIT %lld %s", (long long)id,
	         rules_fields(&r, fields, sizeof(fields)));
	rc = rules_change(ctx, rules_call(ctx, req, &rep, down, sizeof(down)),
	                  &rep, down, rules_store_edit, &r, err, sizeof(err));
	if (rc == -1)
		return CLI_EXIT_FAIL;
	if (rc == 1)
		ctl_reply_free(&rep);
	printf("edited rule %lld\n", (long long)id);
	return CLI_EXIT_OK;
}
