/*
 * fairshare.c - per-uid counters with a cap; see fairshare.h.
 *
 * Open addressing with linear probing over a power-of-two table, kept at
 * most half full; a removed entry is filled by moving later entries of
 * its run back (no tombstones), so lookups stay short however many uids
 * came and went.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "proxyd/fairshare.h"

#define FAIRSHARE_MIN_SLOTS 64

struct fairshare_slot {
	uid_t uid;
	unsigned held; /* 0: the slot is free */
};

struct fairshare {
	struct fairshare_slot *slots;
	size_t n_slots; /* a power of two */
	size_t n_used;
	size_t n_full; /* uids holding cap */
	unsigned cap;
};

static size_t
fairshare_hash(uid_t uid, size_t n_slots)
{
	uint32_t h = (uint32_t)uid * 2654435761u; /* Knuth's multiplier */

	return (size_t)(h ^ (h >> 16)) & (n_slots - 1);
}

struct fairshare *
fairshare_new(unsigned cap)
{
	struct fairshare *fs;

	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return NULL;
	fs->slots = calloc(FAIRSHARE_MIN_SLOTS, sizeof(*fs->slots));
	if (fs->slots == NULL) {
		free(fs);
		return NULL;
	}
	fs->n_slots = FAIRSHARE_MIN_SLOTS;
	fs->cap = cap > 0 ? cap : 1;
	return fs;
}

void
fairshare_free(struct fairshare *fs)
{
	if (fs == NULL)
		return;
	free(fs->slots);
	free(fs);
}

/* uid's slot, or the free slot where it would go. */
static struct fairshare_slot *
fairshare_find(const struct fairshare *fs, uid_t uid)
{
	size_t i = fairshare_hash(uid, fs->n_slots);

	while (fs->slots[i].held != 0 && fs->slots[i].uid != uid)
		i = (i + 1) & (fs->n_slots - 1);
	return &fs->slots[i];
}

/* Twice the slots, every entry placed again.  0, or -1 (unchanged). */
static int
fairshare_grow(struct fairshare *fs)
{
	struct fairshare_slot *old = fs->slots, *s;
	size_t n_old = fs->n_slots, i;

	fs->slots = calloc(n_old * 2, sizeof(*fs->slots));
	if (fs->slots == NULL) {
		fs->slots = old;
		return -1;
	}
	fs->n_slots = n_old * 2;
	for (i = 0; i < n_old; i++)
		if (old[i].held != 0) {
			s = fairshare_find(fs, old[i].uid);
			*s = old[i];
		}
	free(old);
	return 0;
}

int
fairshare_take(struct fairshare *fs, uid_t uid)
{
	struct fairshare_slot *s = fairshare_find(fs, uid);

	if (s->held >= fs->cap)
		return 1;
	if (s->held > 0) {
		if (++s->held == fs->cap)
			fs->n_full++;
		return 0;
	}
	if ((fs->n_used + 1) * 2 > fs->n_slots) {
		if (fairshare_grow(fs) == -1)
			return -1;
		s = fairshare_find(fs, uid);
	}
	s->uid = uid;
	s->held = 1;
	fs->n_used++;
	if (fs->cap == 1)
		fs->n_full++;
	return 0;
}

/* Empty slot i, moving back the entries after it that belong before. */
static void
fairshare_remove(struct fairshare *fs, size_t i)
{
	size_t mask = fs->n_slots - 1, j = i, home;

	fs->slots[i].held = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (fs->slots[j].held == 0)
			return;
		home = fairshare_hash(fs->slots[j].uid, fs->n_slots);
		/* j's entry stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		fs->slots[i] = fs->slots[j];
		fs->slots[j].held = 0;
		i = j;
	}
}

void
fairshare_put(struct fairshare *fs, uid_t uid)
{
	struct fairshare_slot *s = fairshare_find(fs, uid);

	if (s->held == 0)
		return;
	if (s->held == fs->cap)
		fs->n_full--;
	if (--s->held == 0) {
		fairshare_remove(fs, (size_t)(s - fs->slots));
		fs->n_used--;
	}
}

unsigned
fairshare_held(const struct fairshare *fs, uid_t uid)
{
	return fairshare_find(fs, uid)->held;
}

size_t
fairshare_uids(const struct fairshare *fs)
{
	return fs->n_used;
}

size_t
fairshare_full(const struct fairshare *fs)
{
	return fs->n_full;
}
