/*
 * test_usernames.c - the uid -> user name table (proxyd/usernames.h):
 * a name is found while young, not after USERNAMES_TTL_MS, not once
 * dropped; a lookup tells a stale name from a fresh one and gives both;
 * a full table gives up its oldest entry; a name is cut to the caller's
 * buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/usernames.h"

static void
test_get_put_ttl(void **state)
{
	struct username t[4] = {0};
	char user[32];

	(void)state;
	assert_false(usernames_get(t, 4, 1000, 0, user, sizeof(user)));
	usernames_put(t, 4, 1000, "alice", 5000);
	assert_true(usernames_get(t, 4, 1000, 5000, user, sizeof(user)));
	assert_string_equal(user, "alice");
	assert_true(usernames_get(t, 4, 1000, 5000 + USERNAMES_TTL_MS - 1, user,
	                          sizeof(user)));
	strcpy(user, "untouched");
	assert_false(usernames_get(t, 4, 1000, 5000 + USERNAMES_TTL_MS, user,
	                           sizeof(user)));
	assert_string_equal(user, "untouched");
	/* A clock behind the entry (never, but not trusted either). */
	assert_false(usernames_get(t, 4, 1000, 4999, user, sizeof(user)));
	/* Put again: renewed in place, the new name. */
	usernames_put(t, 4, 1000, "alice2", 9000);
	assert_true(usernames_get(t, 4, 1000, 9000 + USERNAMES_TTL_MS - 1, user,
	                          sizeof(user)));
	assert_string_equal(user, "alice2");
	assert_int_equal(t[1].used, false);
	usernames_drop(t, 4, 1000);
	assert_false(usernames_get(t, 4, 1000, 9000, user, sizeof(user)));
}

static void
test_lookup_stale(void **state)
{
	struct username t[2] = {0};
	char user[32];

	(void)state;
	strcpy(user, "untouched");
	assert_int_equal(usernames_lookup(t, 2, 1000, 0, user, sizeof(user)),
	                 USERNAME_NONE);
	assert_string_equal(user, "untouched");
	usernames_put(t, 2, 1000, "alice", 5000);
	assert_int_equal(usernames_lookup(t, 2, 1000,
	                                  5000 + USERNAMES_TTL_MS - 1, user,
	                                  sizeof(user)),
	                 USERNAME_FRESH);
	assert_string_equal(user, "alice");
	strcpy(user, "");
	assert_int_equal(usernames_lookup(t, 2, 1000, 5000 + USERNAMES_TTL_MS,
	                                  user, sizeof(user)),
	                 USERNAME_STALE);
	assert_string_equal(user, "alice");
	assert_int_equal(usernames_lookup(t, 2, 1000, 4999, user, sizeof(user)),
	                 USERNAME_STALE);
	usernames_put(t, 2, 1000, "alice", 5000 + USERNAMES_TTL_MS);
	assert_int_equal(usernames_lookup(t, 2, 1000, 5000 + USERNAMES_TTL_MS,
	                                  user, sizeof(user)),
	                 USERNAME_FRESH);
}

static void
test_full_gives_up_oldest(void **state)
{
	struct username t[3] = {0};
	char user[32];

	(void)state;
	usernames_put(t, 3, 1, "one", 300);
	usernames_put(t, 3, 2, "two", 100); /* the oldest */
	usernames_put(t, 3, 3, "three", 200);
	usernames_put(t, 3, 4, "four", 400);
	assert_false(usernames_get(t, 3, 2, 400, user, sizeof(user)));
	assert_true(usernames_get(t, 3, 1, 400, user, sizeof(user)));
	assert_true(usernames_get(t, 3, 3, 400, user, sizeof(user)));
	assert_true(usernames_get(t, 3, 4, 400, user, sizeof(user)));
	assert_string_equal(user, "four");
	/* A dropped entry is the free one taken next. */
	usernames_drop(t, 3, 3);
	usernames_put(t, 3, 5, "five", 500);
	assert_true(usernames_get(t, 3, 1, 500, user, sizeof(user)));
	assert_true(usernames_get(t, 3, 5, 500, user, sizeof(user)));
	assert_true(usernames_get(t, 3, 4, 500, user, sizeof(user)));
}

static void
test_cut_to_buffer(void **state)
{
	struct username t[1] = {0};
	char user[4];

	(void)state;
	usernames_put(t, 1, 7, "a-long-name", 1);
	assert_true(usernames_get(t, 1, 7, 1, user, sizeof(user)));
	assert_string_equal(user, "a-l");
	usernames_put(t, 0, 8, "none", 1); /* no room at all: nothing */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_put_ttl),
	    cmocka_unit_test(test_lookup_stale),
	    cmocka_unit_test(test_full_gives_up_oldest),
	    cmocka_unit_test(test_cut_to_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
