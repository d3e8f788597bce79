/*
 * test_conn_state.c - a connection's state machine (proxyd/conn.h): every
 * step the design names is allowed, every other one refused, and each
 * state has a name for the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/conn.h"

/* The steps conn.h draws, and no others. */
static const struct {
	enum conn_state from, to;
} steps[] = {
    {CONN_REQUEST, CONN_PEEK},
    {CONN_REQUEST, CONN_ATTR_WAIT},
    {CONN_REQUEST, CONN_DECIDE},
    {CONN_REQUEST, CONN_DEAD},
    {CONN_PEEK, CONN_ATTR_WAIT},
    {CONN_PEEK, CONN_DECIDE},
    {CONN_PEEK, CONN_DEAD},
    {CONN_ATTR_WAIT, CONN_DECIDE},
    {CONN_ATTR_WAIT, CONN_DEAD},
    {CONN_DECIDE, CONN_ATTR_WAIT},
    {CONN_DECIDE, CONN_PARKED},
    {CONN_DECIDE, CONN_RESOLVE},
    {CONN_DECIDE, CONN_CONNECT},
    {CONN_DECIDE, CONN_SEND_PEEKED},
    {CONN_DECIDE, CONN_DEAD},
    {CONN_PARKED, CONN_DECIDE},
    {CONN_PARKED, CONN_DEAD},
    {CONN_RESOLVE, CONN_CONNECT},
    {CONN_RESOLVE, CONN_DEAD},
    {CONN_CONNECT, CONN_UPSTREAM},
    {CONN_CONNECT, CONN_SEND_PEEKED},
    {CONN_CONNECT, CONN_DEAD},
    {CONN_UPSTREAM, CONN_SEND_PEEKED},
    {CONN_UPSTREAM, CONN_DEAD},
    {CONN_SEND_PEEKED, CONN_WATCH},
    {CONN_SEND_PEEKED, CONN_RELAY},
    {CONN_SEND_PEEKED, CONN_DEAD},
    {CONN_WATCH, CONN_DECIDE},
    {CONN_WATCH, CONN_SEND_PEEKED},
    {CONN_WATCH, CONN_RELAY},
    {CONN_WATCH, CONN_DEAD},
    {CONN_RELAY, CONN_DEAD},
};

static bool
drawn(enum conn_state from, enum conn_state to)
{
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].from == from && steps[i].to == to)
			return true;
	return false;
}

static void
test_every_drawn_step_is_allowed(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!conn_state_allowed(steps[i].from, steps[i].to))
			fail_msg("%s -> %s refused",
			         conn_state_name(steps[i].from),
			         conn_state_name(steps[i].to));
}

static void
test_no_other_step_is_allowed(void **state)
{
	int from, to;

	for (from = 0; from < CONN_STATE_COUNT; from++)
		for (to = 0; to < CONN_STATE_COUNT; to++)
			if (!drawn(from, to) && conn_state_allowed(from, to))
				fail_msg("%s -> %s allowed",
				         conn_state_name(from),
				         conn_state_name(to));
	/* For example: a relayed connection is never decided again, a
	 * dead one never comes back, and nothing skips the decision. */
	assert_false(conn_state_allowed(CONN_RELAY, CONN_DECIDE));
	assert_false(conn_state_allowed(CONN_DEAD, CONN_PEEK));
	assert_false(conn_state_allowed(CONN_PEEK, CONN_CONNECT));
	assert_false(conn_state_allowed(CONN_PARKED, CONN_CONNECT));
	/* A proxy client is never connected before its request is read,
	 * nor told "granted" before its upstream said so. */
	assert_false(conn_state_allowed(CONN_REQUEST, CONN_CONNECT));
	assert_false(conn_state_allowed(CONN_UPSTREAM, CONN_RELAY));
	assert_false(conn_state_allowed(CONN_PEEK, CONN_STATE_COUNT));
}

static void
test_every_state_is_named(void **state)
{
	int s, t;

	for (s = 0; s < CONN_STATE_COUNT; s++) {
		assert_string_not_equal(conn_state_name(s), "?");
		for (t = 0; t < s; t++)
			assert_string_not_equal(conn_state_name(s),
			                        conn_state_name(t));
	}
	assert_string_equal(conn_state_name(CONN_ATTR_WAIT), "attr-wait");
	assert_string_equal(conn_state_name(CONN_STATE_COUNT), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_drawn_step_is_allowed),
	    cmocka_unit_test(test_no_other_step_is_allowed),
	    cmocka_unit_test(test_every_state_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
