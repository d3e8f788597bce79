/*
 * denials.c - the rate limit of DENIED lines; see denials.h.
 *
 * A pair is kept as a 64-bit hash of its app and name with its uid: two
 * pairs of one uid that hash alike share a limit, which only means fewer
 * lines.  The table is small and walked whole.
 */
#include <stdlib.h>

#include "proxyd/denials.h"

struct denial {
	bool used;
	uid_t uid;
	uint64_t key;
	int64_t sent;   /* when its last line went; 0: none yet */
	int64_t last;   /* its last refusal */
	unsigned count; /* refusals not told yet */
};

struct denials {
	struct denial slot[DENIALS_MAX];
};

struct denials *
denials_new(void)
{
	return calloc(1, sizeof(struct denials));
}

void
denials_free(struct denials *d)
{
	free(d);
}

/* FNV-1a over app, a separator, and name. */
static uint64_t
denials_key(const char *app, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *s;

	for (s = (const unsigned char *)app; *s != '\0'; s++)
		h = (h ^ *s) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL; /* no byte of a C string */
	for (s = (const unsigned char *)name; *s != '\0'; s++)
		h = (h ^ *s) * 0x100000001b3ULL;
	return h;
}

static bool
denial_recent(const struct denial *e, int64_t now)
{
	return e->sent != 0 && now - e->sent < DENIALS_WINDOW_S;
}

bool
denials_take(struct denials *d, uid_t uid, const char *app, const char *name,
             int64_t now, unsigned *count)
{
	uint64_t key = denials_key(app, name);
	struct denial *e = NULL, *room = NULL, *s;
	unsigned lines = 0;
	size_t i;

	for (i = 0; i < DENIALS_MAX; i++) {
		s = &d->slot[i];
		if (!s->used) {
			if (room == NULL || room->used)
				room = s;
			continue;
		}
		if (s->uid == uid && s->key == key)
			e = s;
		if (s->uid == uid && denial_recent(s, now))
			lines++;
		/* A pair told long enough ago, refused least lately. */
		if (!denial_recent(s, now) &&
		    (room == NULL || (room->used && s->last < room->last)))
			room = s;
	}
	if (e == NULL) {
		if (room == NULL)
			return false;
		e = room;
		e->used = true;
		e->uid = uid;
		e->key = key;
		e->sent = 0;
		e->count = 0;
	}
	e->count++;
	e->last = now;
	if (denial_recent(e, now) || lines >= DENIALS_PER_UID)
		return false;
	*count = e->count;
	e->count = 0;
	e->sent = now;
	return true;
}
