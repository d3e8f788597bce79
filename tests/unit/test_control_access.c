/*
 * test_control_access.c - who may read and change what over the control
 * socket (proxyd/control_access.h): every kind of peer against every
 * verb and every kind of rule; the RULES and EVENTS words as parsed and
 * bounded (common/ctl.h); and the row lines read back as they were
 * written (common/ctl_rows.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_rows.h"
#include "proxyd/control_access.h"

#define ALICE     1000
#define BOB       1001
#define ALICE_SUB 200000 /* alice's subordinate uids: 200000-265535 */
#define STRANGER  1002

/* alice and bob guarded, alice with a subordinate range. */
static void
cfg_make(struct config *cfg, const char *group)
{
	config_defaults(cfg);
	cfg->guard_uids[0] = ALICE;
	cfg->guard_uids[1] = BOB;
	cfg->n_guard = 2;
	cfg->guard_subuid[0].first = ALICE_SUB;
	cfg->guard_subuid[0].last = ALICE_SUB + 65535;
	cfg->guard_subuid[0].owner = ALICE;
	cfg->n_guard_subuid = 1;
	snprintf(cfg->admin_group, sizeof(cfg->admin_group), "%s", group);
}

static void
rule_of(struct rule *r, int64_t id, bool has_uid, uid_t uid)
{
	rule_init(r);
	r->id = id;
	r->has_uid = has_uid;
	r->uid = uid;
}

static const enum ctl_verb changes[] = {CTL_RULE_DEL, CTL_RULE_ENABLE,
                                        CTL_RULE_DISABLE, CTL_RULE_DURATION};
#define N_CHANGES (sizeof(changes) / sizeof(changes[0]))

static void
test_guarded_user(void **state)
{
	struct config cfg;
	struct control_peer alice, alice_in_ns;
	struct rule mine, sub, bobs, any;
	char why[512];
	size_t i;

	cfg_make(&cfg, "");
	assert_int_equal(control_peer_init(&alice, &cfg, ALICE, false), 0);
	control_peer_init(&alice_in_ns, &cfg, ALICE_SUB + 5, false);
	assert_true(alice.guarded);
	assert_int_equal(alice_in_ns.owner, ALICE);
	rule_of(&mine, 7, true, ALICE);
	rule_of(&sub, 8, true, ALICE_SUB + 1000);
	rule_of(&bobs, 9, true, BOB);
	rule_of(&any, 10, false, 0);

	for (i = 0; i < N_CHANGES; i++) {
		assert_true(
		    control_may_send(&alice, changes[i], why, sizeof(why)));
		assert_true(control_may_change(&alice, changes[i], &mine, NULL,
		                               why, sizeof(why)));
		/* A subordinate uid is theirs, both ways. */
		assert_true(control_may_change(&alice, changes[i], &sub, NULL,
		                               why, sizeof(why)));
		assert_true(control_may_change(&alice_in_ns, changes[i], &mine,
		                               NULL, why, sizeof(why)));
		assert_false(control_may_change(&alice, changes[i], &bobs, NULL,
		                                why, sizeof(why)));
		assert_non_null(strstr(why, "rule 9 is not yours"));
		/* Whose it is, is not told. */
		assert_null(strstr(why, "1001"));
		assert_false(control_may_change(&alice, changes[i], &any, NULL,
		                                why, sizeof(why)));
		assert_string_equal(why, "rule 10 is not yours (uid=any): "
		                         "only root may change it");
	}
	/* Never adding or widening. */
	assert_false(control_may_send(&alice, CTL_RULE_ADD, why, sizeof(why)));
	assert_non_null(strstr(why, "RULE-ADD needs root"));
	assert_false(control_may_send(&alice, CTL_RULE_EDIT, why, sizeof(why)));
	assert_false(control_may_send(&alice, CTL_IMPORT, why, sizeof(why)));
	assert_false(control_may_send(&alice, CTL_RELOAD, why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_EDIT, &mine, NULL, why,
	                                sizeof(why)));
	/* Reading: their own. */
	assert_true(control_may_send(&alice, CTL_RULES, why, sizeof(why)));
	assert_true(control_may_send(&alice, CTL_EVENTS, why, sizeof(why)));
	assert_true(control_may_see_rule(&alice, &mine));
	assert_true(control_may_see_rule(&alice, &sub));
	assert_false(control_may_see_rule(&alice, &bobs));
	assert_false(control_may_see_rule(&alice, &any));
	assert_true(control_peer_owns(&alice, ALICE_SUB));
	assert_true(control_peer_owns(&alice, ALICE_SUB + 65535));
	assert_false(control_peer_owns(&alice, ALICE_SUB + 65536));
	assert_false(control_peer_owns(&alice, BOB));
}

/* Under prompt_answers once-only or admin-forever a guarded user may only
 * make their own rules stricter: what an answer of theirs could not have
 * made, a change of theirs does not make either. */
static void
test_stricter_only(void **state)
{
	struct config cfg;
	struct control_peer alice;
	struct rule allow, deny;
	struct control_end hour = {DUR_UNTIL, 5000}, half = {DUR_UNTIL, 4000},
	                   forever = {DUR_FOREVER, 0},
	                   restart = {DUR_RESTART, 0};
	char why[512];

	(void)state;
	cfg_make(&cfg, "");
	cfg.prompt_answers = PROMPT_ANSWERS_ADMIN_FOREVER;
	control_peer_init(&alice, &cfg, ALICE, false);
	assert_false(alice.may_widen);
	rule_of(&allow, 7, true, ALICE);
	allow.action = ACTION_ALLOW;
	allow.duration = DUR_UNTIL;
	allow.expires = 4500;
	rule_of(&deny, 8, true, ALICE);
	deny.action = ACTION_DENY;
	deny.duration = DUR_UNTIL;
	deny.expires = 4500;

	/* An allow rule: gone, off or shorter only. */
	assert_true(control_may_change(&alice, CTL_RULE_DEL, &allow, NULL, why,
	                               sizeof(why)));
	assert_true(control_may_change(&alice, CTL_RULE_DISABLE, &allow, NULL,
	                               why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_ENABLE, &allow, NULL,
	                                why, sizeof(why)));
	assert_non_null(strstr(why, "RULE-ENABLE would let more through "
	                            "rule 7 (allow)"));
	assert_true(control_may_change(&alice, CTL_RULE_DURATION, &allow, &half,
	                               why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_DURATION, &allow,
	                                &hour, why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_DURATION, &allow,
	                                &forever, why, sizeof(why)));
	/* A restart may come before or after any time. */
	assert_false(control_may_change(&alice, CTL_RULE_DURATION, &allow,
	                                &restart, why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_DURATION, &allow, NULL,
	                                why, sizeof(why)));

	/* A deny rule: on or longer only. */
	assert_false(control_may_change(&alice, CTL_RULE_DEL, &deny, NULL, why,
	                                sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_DISABLE, &deny, NULL,
	                                why, sizeof(why)));
	assert_true(control_may_change(&alice, CTL_RULE_ENABLE, &deny, NULL,
	                               why, sizeof(why)));
	assert_true(control_may_change(&alice, CTL_RULE_DURATION, &deny,
	                               &forever, why, sizeof(why)));
	assert_true(control_may_change(&alice, CTL_RULE_DURATION, &deny, &hour,
	                               why, sizeof(why)));
	assert_false(control_may_change(&alice, CTL_RULE_DURATION, &deny, &half,
	                                why, sizeof(why)));

	/* once-only alike; all lets them do either. */
	cfg.prompt_answers = PROMPT_ANSWERS_ONCE_ONLY;
	control_peer_init(&alice, &cfg, ALICE, false);
	assert_false(control_may_change(&alice, CTL_RULE_DEL, &deny, NULL, why,
	                                sizeof(why)));
	cfg.prompt_answers = PROMPT_ANSWERS_ALL;
	control_peer_init(&alice, &cfg, ALICE, false);
	assert_true(control_may_change(&alice, CTL_RULE_DEL, &deny, NULL, why,
	                               sizeof(why)));
	assert_true(control_may_change(&alice, CTL_RULE_DURATION, &allow,
	                               &forever, why, sizeof(why)));
}

static void
test_admin_and_stranger(void **state)
{
	struct config cfg;
	struct control_peer admin, stranger;
	struct rule any, bobs;
	char why[512];
	size_t i;

	cfg_make(&cfg, "tgadmin");
	control_peer_init(&admin, &cfg, STRANGER, true);
	control_peer_init(&stranger, &cfg, STRANGER, false);
	rule_of(&any, 10, false, 0);
	rule_of(&bobs, 9, true, BOB);
	assert_false(stranger.guarded);
	for (i = 0; i < N_CHANGES; i++) {
		assert_true(control_may_change(&admin, changes[i], &any, NULL,
		                               why, sizeof(why)));
		assert_true(control_may_change(&admin, changes[i], &bobs, NULL,
		                               why, sizeof(why)));
		assert_false(
		    control_may_send(&stranger, changes[i], why, sizeof(why)));
		assert_false(control_may_change(&stranger, changes[i], &bobs,
		                                NULL, why, sizeof(why)));
	}
	assert_true(control_may_send(&admin, CTL_IMPORT, why, sizeof(why)));
	assert_true(control_may_see_rule(&admin, &any));
	assert_false(control_may_send(&stranger, CTL_EVENTS, why, sizeof(why)));
	assert_string_equal(why,
	                    "EVENTS: uid 1002 is not a guarded user, nor root "
	                    "or group tgadmin: you may ask STATUS and PROMPTS; "
	                    "rules and events are served to guarded users "
	                    "(their own) and to admins");
	assert_false(control_may_see_rule(&stranger, &bobs));
	/* What anyone may ask. */
	assert_true(control_may_send(&stranger, CTL_STATUS, why, sizeof(why)));
	assert_true(control_may_send(&stranger, CTL_PROMPTS, why, sizeof(why)));
}

static int
parse(const char *line, struct ctl_req *req, enum ctl_code *code)
{
	char err[CTL_ERRLEN];

	return ctl_req_parse(line, strlen(line), req, code, err, sizeof(err));
}

static void
test_query_words(void **state)
{
	struct ctl_req req;
	enum ctl_code code;

	assert_int_equal(parse("EVENTS", &req, &code), 0);
	assert_int_equal(req.query.limit, CTL_ROWS_MAX);
	assert_false(req.query.has_after);
	ctl_req_free(&req);

	/* A huge limit is cut, never refused. */
	assert_int_equal(parse("EVENTS limit=100000000000", &req, &code), 0);
	assert_int_equal(req.query.limit, CTL_ROWS_MAX);
	ctl_req_free(&req);

	assert_int_equal(parse("events after=0 limit=20 app=curl "
	                       "domain=a.test verdict=deny proto=tcp "
	                       "since=1 until=2 pid=3 uid=4 gaps=no",
	                       &req, &code),
	                 0);
	assert_int_equal(req.verb, CTL_EVENTS);
	assert_true(req.query.has_after);
	assert_int_equal(req.query.after, 0);
	assert_int_equal(req.query.limit, 20);
	assert_string_equal(req.query.app, "curl");
	assert_string_equal(req.query.domain, "a.test");
	assert_true(req.query.has_uid);
	assert_int_equal(req.query.uid, 4);
	assert_true(req.query.no_gaps);
	ctl_req_free(&req);

	assert_int_equal(parse("RULES after=5", &req, &code), 0);
	assert_int_equal(req.query.after, 5);
	ctl_req_free(&req);

	assert_int_equal(parse("RULE-DURATION 7 2h", &req, &code), 0);
	assert_int_equal(req.id, 7);
	assert_string_equal(req.duration_text, "2h");
	ctl_req_free(&req);

	assert_int_equal(parse("RULES app=curl", &req, &code), -1);
	assert_int_equal(code, CTL_E_USAGE);
	assert_int_equal(parse("EVENTS limit=1 limit=2", &req, &code), -1);
	assert_int_equal(parse("EVENTS verdict=maybe", &req, &code), -1);
	assert_int_equal(parse("EVENTS uid=-1", &req, &code), -1);
	assert_int_equal(parse("EVENTS 5", &req, &code), -1);
	assert_int_equal(parse("RULE-DURATION 7", &req, &code), -1);
	assert_int_equal(parse("RULE-DURATION x 2h", &req, &code), -1);
}

static void
test_rows(void **state)
{
	char buf[CTL_LINE_MAX + 2], err[CTL_ERRLEN];
	struct event_row ev, back;
	struct rule r, rb;
	int64_t names;
	int n;

	rule_init(&r);
	r.id = 12;
	r.has_uid = true;
	r.uid = ALICE;
	snprintf(r.app, sizeof(r.app), "/usr/bin/cu rl");
	snprintf(r.note, sizeof(r.note), "a \"note\"\x01");
	n = ctl_rule_format(&r, -1, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(
	    ctl_rule_parse(buf, (size_t)n - 1, &rb, &names, err, sizeof(err)),
	    0);
	assert_int_equal(names, -1);
	assert_true(rule_equal(&r, &rb));
	n = ctl_rule_format(&r, 42, buf, sizeof(buf));
	assert_int_equal(
	    ctl_rule_parse(buf, (size_t)n - 1, &rb, &names, err, sizeof(err)),
	    0);
	assert_int_equal(names, 42);
	assert_int_equal(
	    ctl_rule_parse("RULE id=1", 9, &rb, &names, err, sizeof(err)), -1);

	memset(&ev, 0, sizeof(ev));
	ev.id = 99;
	ev.kind = EVENT_DECISION;
	ev.time_ms = 1764340000123;
	ev.pid = 4242;
	ev.has_uid = true;
	ev.uid = ALICE;
	snprintf(ev.exe, sizeof(ev.exe), "/usr/bin/evil\nname");
	snprintf(ev.name, sizeof(ev.name), "www.example.com");
	snprintf(ev.dst_ip, sizeof(ev.dst_ip), "192.0.2.2");
	ev.dst_port = 443;
	ev.verdict = ACTION_DENY;
	ev.decider = DECIDER_NO_AGENT;
	ev.flags = EVENT_F_ECH | EVENT_F_SHARED;
	ev.bytes_up = -1;
	ev.n_lost = 3;
	n = ctl_event_format(&ev, buf, sizeof(buf));
	assert_true(n > 0);
	/* One line: the newline in the exe is quoted. */
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	assert_int_equal(
	    ctl_event_parse(buf, (size_t)n - 1, &back, err, sizeof(err)), 0);
	assert_memory_equal(&ev.id, &back.id, sizeof(ev.id));
	assert_string_equal(back.exe, ev.exe);
	assert_string_equal(back.name, ev.name);
	assert_int_equal(back.uid, ALICE);
	assert_true(back.has_uid);
	assert_int_equal(back.verdict, ACTION_DENY);
	assert_int_equal(back.decider, DECIDER_NO_AGENT);
	assert_int_equal(back.flags, ev.flags);
	assert_int_equal(back.time_ms, ev.time_ms);
	assert_int_equal(back.bytes_up, -1);
	assert_int_equal(back.dst_port, 443);
	assert_int_equal(back.n_lost, 3);
	assert_int_equal(
	    ctl_event_parse("EVENT id=1 pid=x", 16, &back, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    ctl_event_parse("RULE id=1", 9, &back, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guarded_user),
	    cmocka_unit_test(test_stricter_only),
	    cmocka_unit_test(test_admin_and_stranger),
	    cmocka_unit_test(test_query_words),
	    cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
