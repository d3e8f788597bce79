/*
 * rules_io.c - "tollgate rules import" and "tollgate rules export": the
 * rules as export text (rules/export.h), and a hosts file or a list of
 * names made into one list rule (rules/list.h) (rules.h).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctl_client.h"
#include "cli/apps.h"
#include "cli/rules.h"
#include "cli/values.h"
#include "rules/export.h"
#include "rules/list.h"
#include "store/store.h"

/* An import may be big: a million names are parsed, stored and indexed
 * before the daemon answers. */
#define RULES_IMPORT_TIMEOUT_MS 300000

/* Export text for people names users (getpwuid(3)); a uid without a
 * name, a subordinate uid, stays a number.  Import maps them back. */
static const char *
rules_user_name(uid_t uid, char *buf, size_t len)
{
	return cli_user_name(uid, buf, len) ? buf : NULL;
}

static int
rules_user_uid(const char *name, uid_t *uid)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

static const struct rule_users rules_users = {rules_user_name, rules_user_uid};

/* Read all of path ("-": standard input), at most max bytes. */
static char *
rules_slurp(struct rules_ctx *ctx, const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf = NULL, *grown;
	size_t cap = 0, n;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		cli_fail(&ctx->who, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				cli_fail(&ctx->who, "%s: out of memory", path);
				goto fail;
			}
			buf = grown;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (*len > max) {
			cli_fail(&ctx->who, "%s: larger than %zu bytes", path,
			         max);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		cli_fail(&ctx->who, "%s: %s", path, strerror(errno));
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
 * Returns out. */
static const char *
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
	return out;
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
		cli_fail(&ctx->who, "open_memstream: %s", strerror(errno));
		return -1;
	}
	lines = export_write(m, set);
	if (fclose(m) == EOF || lines == -1) {
		free(text);
		cli_fail(&ctx->who, "writing the import: %s", strerror(errno));
		return -1;
	}
	if (len > CTL_IMPORT_BYTES_MAX || lines > CTL_IMPORT_LINES_MAX) {
		cli_fail(&ctx->who,
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
			cli_fail(&ctx->who, "%s", down);
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
		cli_fail(&ctx->who, "%s", sent == 0 ? rerr : serr);
	close(fd);
	free(text);
	return rc;
}

/* r's destination becomes list:NAME.  0, or -1 after a usage message. */
static int
rules_list_dest(struct rules_ctx *ctx, const char *name, struct rule *r)
{
	char dest[RULE_LIST_NAME_MAX + 8], err[RULES_ERRLEN];

	if (strlen(name) >= RULE_LIST_NAME_MAX) {
		cli_usage(&ctx->who, "--list-name: %zu bytes, at most %d",
		          strlen(name), RULE_LIST_NAME_MAX - 1);
		return -1;
	}
	snprintf(dest, sizeof(dest), "list:%s", name);
	if (rule_parse_dest(r, dest, err, sizeof(err)) == -1) {
		cli_usage(&ctx->who, "--list-name \"%s\": %s", name, err);
		return -1;
	}
	return 0;
}

/*
 * --list-name NAME for export text: the text must use exactly one list,
 * whose rules then use NAME instead (and so replace a stored list NAME:
 * store_import()).  0, or -1 after a usage message.
 */
static int
rules_rename_list(struct rules_ctx *ctx, const char *path,
                  struct rules_set *set, const char *name)
{
	const char *first = NULL;
	struct rule probe;
	size_t i;

	for (i = 0; i < set->n_rules; i++) {
		if (set->rules[i].dest_kind != DEST_LIST)
			continue;
		if (first != NULL && strcmp(first, set->rules[i].dest) != 0) {
			cli_usage(&ctx->who,
			          "--list-name: %s uses more than one list "
			          "(%s, %s)",
			          path, first, set->rules[i].dest);
			return -1;
		}
		first = set->rules[i].dest;
	}
	if (first == NULL) {
		cli_usage(&ctx->who, "--list-name: %s uses no list", path);
		return -1;
	}
	rule_init(&probe);
	if (rules_list_dest(ctx, name, &probe) == -1)
		return -1;
	for (i = 0; i < set->n_rules; i++)
		if (set->rules[i].dest_kind == DEST_LIST)
			memcpy(set->rules[i].dest, probe.dest,
			       sizeof(probe.dest));
	return 0;
}

static int
rules_store_import(struct store *s, void *set, char *err, size_t errlen)
{
	return store_import(s, set, false, err, errlen);
}

int
rules_import(struct rules_ctx *ctx)
{
	const struct rules_args *a = &ctx->a;
	const char *path = a->pos[0];
	char err[RULES_ERRLEN], down[CTL_ERRLEN], lname[RULE_LIST_NAME_MAX];
	const char *name;
	struct rules_list *list = NULL;
	struct rules_set set;
	struct ctl_reply rep;
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
		if (a->app != NULL || a->action != NULL || a->uid != NULL ||
		    a->port != NULL || a->proto != NULL ||
		    a->duration != NULL || a->priority != NULL ||
		    a->note != NULL || a->via != NULL) {
			free(buf);
			return cli_usage(&ctx->who,
			                 "%s is export text, imported as it "
			                 "is: the options but --list-name are "
			                 "for a name list",
			                 path);
		}
		m = fmemopen(buf, len, "r");
		if (m == NULL) {
			cli_fail(&ctx->who, "fmemopen: %s", strerror(errno));
			goto out;
		}
		if (export_read_file_users(m, &rules_users, &set, &n_rules,
		                           &n_names, err, sizeof(err)) == -1) {
			fclose(m);
			cli_fail(&ctx->who, "%s: %s", path, err);
			goto out;
		}
		fclose(m);
		if (a->list_name != NULL &&
		    rules_rename_list(ctx, path, &set, a->list_name) == -1) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	} else {
		/* A hosts file or a plain list: one list rule. */
		rule_init(&r);
		name = a->list_name;
		if (name == NULL)
			name = rules_list_name_from(path, lname, sizeof(lname));
		if (rules_list_dest(ctx, name, &r) == -1) {
			rc = CLI_EXIT_USAGE;
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
			cli_fail(&ctx->who, "%s: %s", path, err);
			goto out;
		}
		if (rules_set_add(&set, &r, rules_list_names(list),
		                  rules_list_count(list), err,
		                  sizeof(err)) == -1) {
			cli_fail(&ctx->who, "%s: %s", path, err);
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

	sent = rules_change(
	    ctx, rules_send_import(ctx, &set, &rep, down, sizeof(down)), &rep,
	    down, rules_store_import, &set, err, sizeof(err));
	if (sent == -1)
		goto out;
	if (sent == 0)
		printf("imported %zu rules, %zu names\n", n_rules, n_names);
	else {
		printf("imported %s rules, %s names\n",
		       ctl_reply_get(&rep, "rules") != NULL
		           ? ctl_reply_get(&rep, "rules")
		           : "?",
		       ctl_reply_get(&rep, "names") != NULL
		           ? ctl_reply_get(&rep, "names")
		           : "?");
		ctl_reply_free(&rep);
	}
	rc = CLI_EXIT_OK;
out:
	free(buf);
	rules_list_free(list);
	rules_set_free(&set);
	return rc;
}

int
rules_export(struct rules_ctx *ctx)
{
	char err[STORE_ERRLEN], real[RULE_APP_MAX];
	struct rules_set set, picked;
	const struct rules_set *out = &set;
	size_t i;
	int rc = CLI_EXIT_FAIL;

	rules_set_init(&set);
	rules_set_init(&picked);
	if (ctx->a.app != NULL &&
	    rules_app_filter(ctx, ctx->a.app, real, sizeof(real)) == -1)
		return CLI_EXIT_USAGE;
	if (rules_load(ctx, &set) == -1)
		goto out;
	if (ctx->a.app != NULL) {
		for (i = 0; i < set.n_rules; i++) {
			if (!apps_match(set.rules[i].app, ctx->a.app, real))
				continue;
			if (rules_set_add(
			        &picked, &set.rules[i],
			        set.lists != NULL ? set.lists[i].names : NULL,
			        set.lists != NULL ? set.lists[i].n : 0, err,
			        sizeof(err)) == -1) {
				cli_fail(&ctx->who, "%s", err);
				goto out;
			}
		}
		out = &picked;
	}
	if (export_write_users(stdout, out, &rules_users) == -1) {
		cli_fail(&ctx->who, "writing: %s", strerror(errno));
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	rules_set_free(&picked);
	rules_set_free(&set);
	return rc;
}
