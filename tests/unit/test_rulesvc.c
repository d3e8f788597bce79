/*
 * test_rulesvc.c - the daemon's rules (proxyd/rulesvc.h) over a real
 * store: a rule only looked at (rulesvc_match(), as the other holders of
 * a shared socket are) is neither counted nor used up; the rule that
 * decides (rulesvc_decide(), rulesvc_use()) is both, and a "once" rule
 * is gone from the store after it decided.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/config.h"
#include "proxyd/rulesvc.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct proxyd pd;
	int64_t once_id, curl_id;
};

static void
add_rule(struct store *s, const char *app, enum rule_duration d, int64_t *id)
{
	char err[STORE_ERRLEN] = "";
	struct rule r;

	rule_init(&r);
	snprintf(r.app, sizeof(r.app), "%s", app);
	if (rule_parse_dest(&r, "a.test", err, sizeof(err)) == -1)
		fail_msg("rule_parse_dest: %s", err);
	r.action = ACTION_ALLOW;
	r.duration = d;
	r.enabled = true;
	if (store_rule_add(s, &r, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("store_rule_add: %s", err);
	*id = r.id;
}

/* A store with a once rule for python3 and a forever rule for curl, both
 * allowing a.test, and rulesvc running over it. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[STORE_ERRLEN] = "";
	struct store *s;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-rulesvc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_defaults(&f->pd.cfg);
	snprintf(f->pd.cfg.database, sizeof(f->pd.cfg.database),
	         "%s/tollgate.db", f->dir);
	s = store_open(f->pd.cfg.database, STORE_READWRITE, err, sizeof(err));
	if (s == NULL)
		fail_msg("store_open: %s", err);
	add_rule(s, "/usr/bin/python3", DUR_ONCE, &f->once_id);
	add_rule(s, "/usr/bin/curl", DUR_FOREVER, &f->curl_id);
	store_close(s);
	f->pd.base = event_base_new();
	assert_non_null(f->pd.base);
	if (rulesvc_open(&f->pd, getuid(), getgid(), err, sizeof(err)) == -1)
		fail_msg("rulesvc_open: %s", err);
	assert_int_equal(rulesvc_start(&f->pd), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	rulesvc_stop(&f->pd);
	event_base_free(f->pd.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: %s failed\n", cmd);
	free(f);
	return 0;
}

static void
query(struct rules_query *q, const char *app)
{
	memset(q, 0, sizeof(*q));
	q->app = app;
	q->has_uid = true;
	q->uid = 1000;
	q->name = "a.test";
	q->port = 443;
	q->proto = RPROTO_TCP;
	q->now = time(NULL);
}

/* Stop rulesvc (its hits and deletions written), then read rule id:
 * STORE_OK with *r, or STORE_NOTFOUND. */
static int
stored(struct fixture *f, int64_t id, struct rule *r)
{
	char err[STORE_ERRLEN] = "";
	struct store *s;
	int rc;

	rulesvc_stop(&f->pd);
	s = store_open(f->pd.cfg.database, STORE_READONLY, err, sizeof(err));
	if (s == NULL)
		fail_msg("store_open: %s", err);
	rc = store_rule_get(s, id, r, err, sizeof(err));
	store_close(s);
	if (rulesvc_open(&f->pd, getuid(), getgid(), err, sizeof(err)) == -1 ||
	    rulesvc_start(&f->pd) == -1)
		fail_msg("rulesvc_open again: %s", err);
	return rc;
}

/* Looked at, as the other holder of a shared socket: the once rule is
 * still there, and neither rule counted a hit. */
static void
test_match_has_no_side_effects(void **state)
{
	struct fixture *f = *state;
	const struct rules_entry *e;
	struct rules_query q;
	struct rule r;
	int i;

	for (i = 0; i < 3; i++) {
		query(&q, "/usr/bin/python3");
		e = rulesvc_match(&f->pd, &q, NULL);
		assert_non_null(e);
		assert_int_equal(e->id, f->once_id);
		query(&q, "/usr/bin/curl");
		e = rulesvc_match(&f->pd, &q, NULL);
		assert_non_null(e);
		assert_int_equal(e->id, f->curl_id);
	}
	assert_int_equal(stored(f, f->once_id, &r), STORE_OK);
	assert_int_equal(r.hits, 0);
	assert_int_equal(stored(f, f->curl_id, &r), STORE_OK);
	assert_int_equal(r.hits, 0);
}

/* The rule that decides is counted, and a once rule is used up: it
 * matches no more, and is gone from the store. */
static void
test_decide_uses_the_rule(void **state)
{
	struct fixture *f = *state;
	const struct rules_entry *e;
	struct rules_query q;
	struct rule r;

	query(&q, "/usr/bin/curl");
	e = rulesvc_decide(&f->pd, &q, NULL);
	assert_non_null(e);
	assert_int_equal(e->id, f->curl_id);
	query(&q, "/usr/bin/python3");
	e = rulesvc_match(&f->pd, &q, NULL);
	assert_non_null(e);
	rulesvc_use(&f->pd, e, q.now);
	assert_null(rulesvc_match(&f->pd, &q, NULL));
	assert_null(rulesvc_decide(&f->pd, &q, NULL));
	assert_int_equal(stored(f, f->curl_id, &r), STORE_OK);
	assert_int_equal(r.hits, 1);
	assert_int_equal(stored(f, f->once_id, &r), STORE_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_match_has_no_side_effects,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decide_uses_the_rule, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
