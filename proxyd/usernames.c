/*
 * usernames.c - see usernames.h.
 */
#include <stdio.h>

#include "proxyd/usernames.h"

static struct username *
usernames_find(const struct username *t, size_t n, uid_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].used && t[i].uid == uid)
			return (struct username *)&t[i];
	return NULL;
}

enum username_age
usernames_lookup(const struct username *t, size_t n, uid_t uid, int64_t now_ms,
                 char *user, size_t len)
{
	const struct username *e = usernames_find(t, n, uid);

	if (e == NULL)
		return USERNAME_NONE;
	snprintf(user, len, "%s", e->name);
	if (now_ms - e->at_ms >= USERNAMES_TTL_MS || now_ms < e->at_ms)
		return USERNAME_STALE;
	return USERNAME_FRESH;
}

bool
usernames_get(const struct username *t, size_t n, uid_t uid, int64_t now_ms,
              char *user, size_t len)
{
	char name[sizeof(t->name)];

	if (usernames_lookup(t, n, uid, now_ms, name, sizeof(name)) !=
	    USERNAME_FRESH)
		return false;
	snprintf(user, len, "%s", name);
	return true;
}

void
usernames_put(struct username *t, size_t n, uid_t uid, const char *name,
              int64_t now_ms)
{
	struct username *e = usernames_find(t, n, uid);
	size_t i;

	if (n == 0)
		return;
	for (i = 0; e == NULL && i < n; i++)
		if (!t[i].used)
			e = &t[i];
	if (e == NULL) {
		e = &t[0];
		for (i = 1; i < n; i++)
			if (t[i].at_ms < e->at_ms)
				e = &t[i];
	}
	e->used = true;
	e->uid = uid;
	e->at_ms = now_ms;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

void
usernames_drop(struct username *t, size_t n, uid_t uid)
{
	struct username *e = usernames_find(t, n, uid);

	if (e != NULL)
		e->used = false;
}
