/*
 * usernames.h - a small table of uid -> user name answers, each kept for
 * USERNAMES_TTL_MS: the attribution worker's cache of the password
 * database (attr.c), and the event loop's copy of the names the worker
 * gave (appcache.h; the loop does not read the password database).
 * The caller owns the array and its locking.
 */
#ifndef TG_USERNAMES_H
#define TG_USERNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxyd/attr.h"

/* A name is asked again after this long, so that a renamed or new user is
 * seen within it. */
#define USERNAMES_TTL_MS 60000

struct username {
	bool used;
	uid_t uid;
	int64_t at_ms; /* mono_ms() when it was kept */
	char name[sizeof(((struct app *)0)->user)];
};

/* What usernames_lookup() found. */
enum username_age {
	USERNAME_NONE,  /* no name kept for the uid: user untouched */
	USERNAME_FRESH, /* kept less than USERNAMES_TTL_MS ago */
	USERNAME_STALE, /* kept longer ago (or the clock went back): to be
	                 * asked again, meanwhile the best there is */
};

/* uid's name in t[0..n) into user (cut to len), and how old it is. */
enum username_age usernames_lookup(const struct username *t, size_t n,
                                   uid_t uid, int64_t now_ms, char *user,
                                   size_t len);

/* usernames_lookup() of a fresh name only: true with user filled, else
 * false and user untouched. */
bool usernames_get(const struct username *t, size_t n, uid_t uid,
                   int64_t now_ms, char *user, size_t len);

/* Keep name for uid at now_ms: in its own entry, else a free one, else
 * in place of the oldest. */
void usernames_put(struct username *t, size_t n, uid_t uid, const char *name,
                   int64_t now_ms);

/* Forget uid's name (a lookup that failed is not kept). */
void usernames_drop(struct username *t, size_t n, uid_t uid);

#endif
