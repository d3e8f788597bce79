/*
 * control_rules.c - the verbs that change rules: RULE-ADD, RULE-EDIT,
 * RULE-DEL, RULE-ENABLE, RULE-DISABLE, RULE-DURATION, RELOAD and IMPORT
 * (docs/control.md).  The dispatcher lets only root and admin_group here,
 * but for RULE-DEL, RULE-ENABLE, RULE-DISABLE and RULE-DURATION, which a
 * guarded user may send for the rules bound to their uid: whose the rule
 * is, is checked on the store's thread with the rule as stored
 * (rulesvc_change.may, control_access.h), so no change that comes in
 * between makes another's rule look like theirs.  Each change goes to
 * rulesvc_apply(); its reply is written from control_done(), once the
 * change is stored and live.
 */
#include <time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "common/log.h"
#include "proxyd/control_int.h"
#include "proxyd/rulesvc.h"
#include "rules/export.h"
#include "rules/rule.h"

/* IMPORT's body: the n lines of export text that follow it. */
struct control_import {
	struct export_reader *reader;
	size_t bytes;
	char err[CTL_ERRLEN + 16]; /* a bad line: said after the last */
};

static void
control_done(void *arg, const struct rulesvc_result *res)
{
	struct control_pending *p = arg;
	struct control_client *c = p->client;
	char buf[CONTROL_REPLY_MAX], what[128];
	struct ctl_line l;

	snprintf(what, sizeof(what), "client %llu (uid %u, pid %d): %s",
	         (unsigned long long)p->client_id, (unsigned)p->uid,
	         (int)p->pid, ctl_verb_name(p->verb));
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	if (res->ok) {
		switch (p->verb) {
		case CTL_RULE_ADD:
			ctl_put_kvf(&l, "id", "%lld", (long long)res->id);
			break;
		case CTL_IMPORT:
			ctl_put_kvf(&l, "rules", "%zu", p->n_rules);
			ctl_put_kvf(&l, "names", "%zu", p->n_names);
			break;
		case CTL_RELOAD:
			ctl_put_kvf(&l, "rules", "%u", res->rules);
			break;
		default:
			ctl_put_kvf(&l, "id", "%lld", (long long)p->id);
			break;
		}
		log_info("control: %s: %s (%u rules in force)", what, buf,
		         res->rules);
	} else
		log_info("control: %s: failed: %s: %s", what,
		         ctl_code_name(control_code(res->code)), res->err);
	if (c == NULL)
		log_info("control: %s: the client left before the reply", what);
	control_pending_reply(p, res->ok ? &l : NULL, control_code(res->code),
	                      res->err);
}

/* rulesvc_change.may of a peer who is not an admin: on the store's
 * thread, with the rule as stored. */
static bool
control_may(void *arg, const struct rule *stored, char *err, size_t errlen)
{
	const struct control_pending *p = arg;

	return control_may_change(
	    &p->peer, p->verb, stored,
	    p->verb == CTL_RULE_DURATION ? &p->want : NULL, err, errlen);
}

/* Hand change to rulesvc; the reply comes from control_done().  A change
 * of one rule asked by a peer who is not an admin is checked against the
 * rule as stored. */
static void
control_apply(struct control_client *c, const struct rulesvc_change *change,
              enum ctl_verb verb, size_t n_rules, size_t n_names)
{
	struct rulesvc_change ch = *change;
	struct control_pending *p;

	p = control_client_wait(c, verb, change->id);
	if (p == NULL) {
		if (change->import != NULL) {
			/* It was to be rulesvc's; nobody else frees it. */
			rules_set_free(change->import);
			free(change->import);
		}
		return;
	}
	p->n_rules = n_rules;
	p->n_names = n_names;
	p->want.duration = change->rule.duration;
	p->want.expires = change->rule.expires;
	control_client_peer(c, &p->peer);
	if (!p->peer.admin) {
		ch.may = control_may;
		ch.may_arg = p;
	}
	/* done() may run before this returns; p is not ours after it. */
	rulesvc_apply(c->ctl->pd, &ch, control_done, p);
}

/* RULE-ADD and RULE-EDIT: the fields as one rule. */
void
control_rule(struct control_client *c, const struct ctl_req *req)
{
	struct rulesvc_change *change;
	char err[CTL_ERRLEN], *line = NULL;

	change = calloc(1, sizeof(*change));
	if (change == NULL || asprintf(&line, "rule %s", req->fields) == -1) {
		line = NULL;
		control_reply_err(c, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (rule_parse_line(&change->rule, line, err, sizeof(err)) == -1) {
		control_reply_err(c, CTL_E_INVALID, err);
		goto out;
	}
	if (change->rule.dest_kind == DEST_LIST && req->verb == CTL_RULE_ADD) {
		control_reply_err(
		    c, CTL_E_INVALID,
		    "dest: a list rule comes with its names: send "
		    "it with IMPORT (tollgate rules import)");
		goto out;
	}
	/* What the store keeps or sets itself is not the client's to say. */
	change->rule.hits = 0;
	change->rule.last_hit = 0;
	change->rule.created = 0;
	change->rule.updated = 0;
	if (req->verb == CTL_RULE_ADD) {
		change->op = RULESVC_ADD;
		change->rule.id = 0;
	} else {
		change->op = RULESVC_EDIT;
		change->id = req->id;
		change->rule.id = req->id;
	}
	control_apply(c, change, req->verb, 0, 0);
out:
	free(line);
	free(change);
}

/* The changes that a rule id alone names (none, for RELOAD). */
static const struct {
	enum ctl_verb verb;
	enum rulesvc_op op;
} control_simple_ops[] = {
    {CTL_RULE_DEL, RULESVC_DEL},
    {CTL_RULE_ENABLE, RULESVC_ENABLE},
    {CTL_RULE_DISABLE, RULESVC_DISABLE},
    {CTL_RELOAD, RULESVC_RELOAD},
};

/* RULE-DEL, RULE-ENABLE, RULE-DISABLE and RELOAD. */
void
control_rule_simple(struct control_client *c, const struct ctl_req *req)
{
	struct rulesvc_change change;
	size_t i;

	for (i = 0;
	     i < sizeof(control_simple_ops) / sizeof(control_simple_ops[0]);
	     i++)
		if (control_simple_ops[i].verb == req->verb)
			break;
	if (i == sizeof(control_simple_ops) / sizeof(control_simple_ops[0])) {
		control_reply_err(c, CTL_E_INTERNAL, "verb without a change");
		return;
	}
	memset(&change, 0, sizeof(change));
	change.op = control_simple_ops[i].op;
	change.id = req->id;
	control_apply(c, &change, req->verb, 0, 0);
}

/* RULE-DURATION ID DURATION: the rule's duration, nothing else. */
void
control_rule_duration(struct control_client *c, const struct ctl_req *req)
{
	struct rulesvc_change change;
	char err[CTL_ERRLEN];

	memset(&change, 0, sizeof(change));
	rule_init(&change.rule);
	if (rule_parse_duration(&change.rule, req->duration_text, time(NULL),
	                        err, sizeof(err)) == -1) {
		control_reply_err(c, CTL_E_INVALID, err);
		return;
	}
	change.op = RULESVC_DURATION;
	change.id = req->id;
	control_apply(c, &change, req->verb, 0, 0);
}

static void
import_line(struct control_client *c, void *arg, const char *line, size_t len)
{
	struct control_import *im = arg;
	char err[CTL_ERRLEN];

	im->bytes += len + 1;
	if (im->bytes > CTL_IMPORT_BYTES_MAX) {
		snprintf(err, sizeof(err), "IMPORT of more than %lu bytes",
		         (unsigned long)CTL_IMPORT_BYTES_MAX);
		control_reply_fail(c, CTL_E_TOOLONG, err);
		return;
	}
	if (im->err[0] == '\0' &&
	    export_reader_line(im->reader, line, len, err, sizeof(err)) == -1)
		snprintf(im->err, sizeof(im->err), "import %s", err);
}

static void
import_end(struct control_client *c, void *arg)
{
	struct control_import *im = arg;
	struct rulesvc_change change;
	struct rules_set *set = NULL;
	char err[CTL_ERRLEN], buf[128];
	size_t n_rules = 0, n_names = 0;
	struct ctl_line l;

	if (im->err[0] != '\0') {
		control_reply_err(c, CTL_E_INVALID, im->err);
		return;
	}
	set = malloc(sizeof(*set));
	if (set == NULL) {
		control_reply_err(c, CTL_E_INTERNAL, "out of memory");
		return;
	}
	rules_set_init(set);
	if (export_reader_finish(im->reader, set, &n_rules, &n_names, err,
	                         sizeof(err)) == -1) {
		control_reply_err(c, CTL_E_INVALID, err);
		goto out;
	}
	if (n_rules == 0) {
		ctl_line_init(&l, buf, sizeof(buf));
		ctl_put_word(&l, "OK");
		ctl_put_kv(&l, "rules", "0");
		ctl_put_kv(&l, "names", "0");
		control_reply_ok(c, &l);
		goto out;
	}
	memset(&change, 0, sizeof(change));
	change.op = RULESVC_IMPORT;
	change.import = set; /* rulesvc's now */
	set = NULL;
	control_apply(c, &change, CTL_IMPORT, n_rules, n_names);
out:
	if (set != NULL) {
		rules_set_free(set);
		free(set);
	}
}

static void
import_cut(struct control_client *c, void *arg, unsigned long missing,
           bool gone)
{
	char err[CTL_ERRLEN], d[64];

	if (gone) {
		log_info("control: %s: left in the middle of an IMPORT (%lu "
		         "lines missing); nothing imported",
		         control_client_desc(c, d, sizeof(d)), missing);
		return;
	}
	snprintf(err, sizeof(err),
	         "IMPORT cut short: %lu lines missing; nothing imported",
	         missing);
	control_reply_fail(c, CTL_E_INVALID, err);
}

static void
import_free(void *arg)
{
	struct control_import *im = arg;

	export_reader_free(im->reader);
	free(im);
}

static const struct control_body import_body = {
    import_line,
    import_end,
    import_cut,
    import_free,
};

/* IMPORT n: the n lines that follow are export text, taken as one. */
void
control_import(struct control_client *c, const struct ctl_req *req)
{
	struct control_import *im;

	im = calloc(1, sizeof(*im));
	if (im == NULL || (im->reader = export_reader_new()) == NULL) {
		free(im);
		control_reply_fail(c, CTL_E_INTERNAL, "out of memory");
		return;
	}
	control_client_body(c, &import_body, im, req->n);
}
