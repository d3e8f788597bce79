/*
 * test_fairshare.c - the fair shares of issue 13 where they are pure
 * logic: the per-uid counters of max_pending_per_user
 * (proxyd/fairshare.h), who gets a control socket slot
 * (control_share_admit()), a uid's share of the prompt table
 * (broker_share_ok()) and which answers prompt_answers lets an answerer
 * give (broker_answer_durations()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/ctl.h"
#include "proxyd/broker.h"
#include "proxyd/control.h"
#include "proxyd/fairshare.h"

/* One uid takes its cap and no more; another is not touched by it. */
static void
test_cap_per_uid(void **state)
{
	struct fairshare *fs = fairshare_new(3);
	unsigned i;

	assert_non_null(fs);
	for (i = 0; i < 3; i++)
		assert_int_equal(fairshare_take(fs, 1000), 0);
	assert_int_equal(fairshare_take(fs, 1000), 1);
	assert_int_equal(fairshare_held(fs, 1000), 3);
	assert_int_equal(fairshare_full(fs), 1);
	assert_int_equal(fairshare_take(fs, 1001), 0);
	assert_int_equal(fairshare_held(fs, 1001), 1);
	assert_int_equal(fairshare_uids(fs), 2);
	/* One given back: one more may be taken, and only one. */
	fairshare_put(fs, 1000);
	assert_int_equal(fairshare_full(fs), 0);
	assert_int_equal(fairshare_take(fs, 1000), 0);
	assert_int_equal(fairshare_full(fs), 1);
	assert_int_equal(fairshare_take(fs, 1000), 1);
	/* Given back to zero, the uid is gone from the table. */
	for (i = 0; i < 3; i++)
		fairshare_put(fs, 1000);
	assert_int_equal(fairshare_held(fs, 1000), 0);
	assert_int_equal(fairshare_uids(fs), 1);
	assert_int_equal(fairshare_full(fs), 0);
	/* A uid that holds nothing gives nothing back. */
	fairshare_put(fs, 1000);
	fairshare_put(fs, 4242);
	assert_int_equal(fairshare_held(fs, 1000), 0);
	assert_int_equal(fairshare_uids(fs), 1);
	fairshare_free(fs);
	fairshare_free(NULL);
}

/*
 * Many uids (a subordinate range's worth), taken and given back in
 * another order: every count stays right through the growing and the
 * removals that move entries back.
 */
static void
test_many_uids(void **state)
{
	struct fairshare *fs = fairshare_new(2);
	unsigned i, n = 5000;

	assert_non_null(fs);
	for (i = 0; i < n; i++) {
		assert_int_equal(fairshare_take(fs, 100000 + i * 7), 0);
		if (i % 3 == 0)
			assert_int_equal(fairshare_take(fs, 100000 + i * 7), 0);
	}
	assert_int_equal(fairshare_uids(fs), n);
	for (i = 0; i < n; i += 2)
		fairshare_put(fs, 100000 + i * 7);
	for (i = 0; i < n; i++)
		assert_int_equal(fairshare_held(fs, 100000 + i * 7),
		                 (i % 3 == 0 ? 2 : 1) - (i % 2 == 0 ? 1 : 0));
	for (i = 0; i < n; i++)
		while (fairshare_held(fs, 100000 + i * 7) > 0)
			fairshare_put(fs, 100000 + i * 7);
	assert_int_equal(fairshare_uids(fs), 0);
	assert_int_equal(fairshare_take(fs, 0), 0);
	assert_int_equal(fairshare_held(fs, 0), 1);
	fairshare_free(fs);
}

/* The control socket's slots (control.h, "Fair shares"). */
static void
test_control_admit(void **state)
{
	/* An admin is taken whatever the others hold. */
	assert_int_equal(control_share_admit(true, 0, CONTROL_MAX_CLIENTS, 0,
	                                     CONTROL_MAX_PER_UID),
	                 CONTROL_ADMIT);
	assert_int_equal(control_share_admit(true, CONTROL_MAX_ADMIN, 0, 0, 0),
	                 CONTROL_REFUSE_ADMIN);
	/* A uid at its cap is turned away, with room or without. */
	assert_int_equal(
	    control_share_admit(false, 0, 10, CONTROL_MAX_PER_UID, 8),
	    CONTROL_REFUSE_UID);
	assert_int_equal(control_share_admit(false, 0, 10, 7, 8),
	                 CONTROL_ADMIT);
	/* Room: taken. */
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS - 1, 0, 8),
	    CONTROL_ADMIT);
	/* Full: taken when another uid holds more than it would. */
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS, 0, 8),
	    CONTROL_ADMIT_EVICT);
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS, 1, 3),
	    CONTROL_ADMIT_EVICT);
	/* Full and fairly shared: turned away. */
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS, 1, 2),
	    CONTROL_REFUSE_FULL);
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS, 0, 1),
	    CONTROL_REFUSE_FULL);
	assert_int_equal(
	    control_share_admit(false, 0, CONTROL_MAX_CLIENTS, 0, 0),
	    CONTROL_REFUSE_FULL);
}

/* A uid's share of the prompt table. */
static void
test_broker_share(void **state)
{
	assert_true(broker_share_ok(true, 0, 0, 1024));
	assert_true(
	    broker_share_ok(true, BROKER_PROMPTS_PER_UID - 1, 10, 1024));
	assert_false(broker_share_ok(true, BROKER_PROMPTS_PER_UID, 10, 1024));
	/* Joining a prompt opens none: only the parked count matters. */
	assert_true(broker_share_ok(false, BROKER_PROMPTS_PER_UID, 10, 1024));
	assert_true(broker_share_ok(false, 1, 511, 1024));
	assert_false(broker_share_ok(false, 1, 512, 1024));
	assert_false(broker_share_ok(true, 1, 512, 1024));
	/* An odd total: the half is rounded up, so 1 may wait. */
	assert_true(broker_share_ok(true, 0, 0, 1));
	assert_false(broker_share_ok(true, 0, 1, 1));
}

/* prompt_answers. */
static void
test_answer_durations(void **state)
{
	unsigned once = 1u << CTL_DUR_ONCE, all, bounded;
	struct config cfg;

	bounded = once | 1u << CTL_DUR_RESTART | 1u << CTL_DUR_HOUR |
	          1u << CTL_DUR_HALF_HOUR;
	all = bounded | 1u << CTL_DUR_FOREVER;
	config_defaults(&cfg);
	assert_int_equal(cfg.prompt_answers, PROMPT_ANSWERS_ALL);
	assert_int_equal(broker_answer_durations(&cfg, false), all);
	assert_int_equal(broker_answer_durations(&cfg, true), all);
	cfg.prompt_answers = PROMPT_ANSWERS_ADMIN_FOREVER;
	assert_int_equal(broker_answer_durations(&cfg, false), bounded);
	assert_int_equal(broker_answer_durations(&cfg, true), all);
	cfg.prompt_answers = PROMPT_ANSWERS_ONCE_ONLY;
	assert_int_equal(broker_answer_durations(&cfg, false), once);
	assert_int_equal(broker_answer_durations(&cfg, true), once);
	assert_string_equal(prompt_answers_name(PROMPT_ANSWERS_ADMIN_FOREVER),
	                    "admin-forever");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_per_uid),
	    cmocka_unit_test(test_many_uids),
	    cmocka_unit_test(test_control_admit),
	    cmocka_unit_test(test_broker_share),
	    cmocka_unit_test(test_answer_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
