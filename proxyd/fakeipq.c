/*
 * fakeipq.c - the fake-IP map's changes on their way to the store; see
 * fakeipq.h.
 *
 * An array in order of arrival: a push appends, a drop moves the later
 * changes down by one (only when the queue is full, and USED changes of a
 * name come at most every FAKEIP_USED_EVERY seconds, so seldom).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyd/fakeipq.h"

struct fakeipq_item {
	struct store_fakeip m; /* m.name is set when taken */
	bool added;
	char name[NAME_MAX_LEN + 1];
};

struct fakeipq {
	struct fakeipq_item *items;
	size_t cap;
	size_t len;
	size_t added; /* of len */
};

struct fakeipq *
fakeipq_new(size_t cap)
{
	struct fakeipq *q;

	if (cap == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->items = calloc(cap, sizeof(*q->items))) == NULL) {
		free(q);
		return NULL;
	}
	q->cap = cap;
	return q;
}

void
fakeipq_free(struct fakeipq *q)
{
	if (q == NULL)
		return;
	free(q->items);
	free(q);
}

static void
fakeipq_remove(struct fakeipq *q, size_t i)
{
	if (q->items[i].added)
		q->added--;
	memmove(&q->items[i], &q->items[i + 1],
	        (q->len - i - 1) * sizeof(*q->items));
	q->len--;
}

int
fakeipq_push(struct fakeipq *q, enum fakeip_change what,
             const struct fakeip_entry *e)
{
	struct fakeipq_item *it;
	size_t i;
	int dropped = 0;

	if (what == FAKEIP_REMOVED)
		return 0;
	if (strlen(e->name) > NAME_MAX_LEN) {
		errno = EINVAL;
		return -1;
	}
	if (q->len == q->cap) {
		for (i = 0; i < q->len && q->items[i].added; i++)
			;
		if (i == q->len) {
			errno = ENOBUFS;
			return -1;
		}
		fakeipq_remove(q, i);
		dropped = 1;
	}
	it = &q->items[q->len++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", e->name);
	it->m.v4 = e->v4;
	it->m.v6 = e->v6;
	it->m.has_v6 = e->has_v6;
	it->m.last_used = (int64_t)e->last_used;
	it->added = what == FAKEIP_ADDED;
	if (it->added)
		q->added++;
	return dropped;
}

size_t
fakeipq_len(const struct fakeipq *q)
{
	return q->len;
}

size_t
fakeipq_added(const struct fakeipq *q)
{
	return q->added;
}

int
fakeipq_take(struct fakeipq *q, struct fakeipq_batch *b)
{
	size_t i, n = q->len;

	memset(b, 0, sizeof(*b));
	if (n == 0)
		return 0;
	b->m = calloc(n, sizeof(*b->m));
	b->names = calloc(n, sizeof(*b->names));
	if (b->m == NULL || b->names == NULL) {
		fakeipq_batch_free(b);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++) {
		b->m[i] = q->items[i].m;
		memcpy(b->names[i], q->items[i].name, sizeof(b->names[i]));
		b->m[i].name = b->names[i];
	}
	b->n = n;
	q->len = q->added = 0;
	return 0;
}

bool
fakeipq_drop_oldest(struct fakeipq *q)
{
	if (q->len == 0)
		return false;
	fakeipq_remove(q, 0);
	return true;
}

void
fakeipq_batch_free(struct fakeipq_batch *b)
{
	free(b->m);
	free(b->names);
	memset(b, 0, sizeof(*b));
}
