/*
 * fakeipq.h - the fake-IP map's changes on their way to the store.
 *
 * The map (fakeip.h) lives on the event loop, the store (store/fakeip.h)
 * on rulesvc's thread.  Each mapping the map hands out (ADDED) or sees
 * used again (USED) is queued here on the loop, and taken now and then as
 * one batch that the thread writes in one transaction: the loop never
 * waits on SQLite.
 *
 * The queue holds at most `cap` changes.  When it is full, the oldest
 * USED is dropped to make room (it only moves a last-used time on: the
 * mapping is stored already); an ADDED is never dropped that way, so a
 * queue full of them refuses the next and the caller takes a batch first.
 * REMOVED needs no row of its own: the name that takes the address
 * replaces the old name's row (store_fakeip_put()).
 *
 * Pure: no I/O, no time; not thread-safe (the loop's).
 */
#ifndef TG_FAKEIPQ_H
#define TG_FAKEIPQ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/name.h"
#include "proxyd/fakeip.h"
#include "store/fakeip.h"

/* Changes queued at most: past it a batch goes early. */
#define FAKEIPQ_MAX 1024

struct fakeipq;

/* A batch taken from the queue, oldest change first: m[i].name points
 * into the batch, which the holder frees with fakeipq_batch_free(). */
struct fakeipq_batch {
	struct store_fakeip *m;
	size_t n;
	char (*names)[NAME_MAX_LEN + 1];
};

/* A queue of at most cap (> 0) changes.  NULL with errno on failure. */
struct fakeipq *fakeipq_new(size_t cap);
void fakeipq_free(struct fakeipq *q);

/*
 * Queue change `what` of e (a REMOVED is ignored: 0).
 * Returns 0 when queued, 1 when queued after the oldest USED was dropped
 * for it, -1 when the queue is full of ADDED (nothing queued: take a
 * batch and push again) or e's name is too long (errno EINVAL).
 */
int fakeipq_push(struct fakeipq *q, enum fakeip_change what,
                 const struct fakeip_entry *e);

/* Changes queued. */
size_t fakeipq_len(const struct fakeipq *q);

/* Of them, ADDED ones. */
size_t fakeipq_added(const struct fakeipq *q);

/*
 * Everything queued, into *b (the queue is then empty).  0, or -1 with
 * errno ENOMEM (the queue is kept).  An empty queue gives an empty batch.
 */
int fakeipq_take(struct fakeipq *q, struct fakeipq_batch *b);

/* Drop the oldest change, whatever it is: the last resort when batches
 * cannot be written fast enough.  Whether one was there. */
bool fakeipq_drop_oldest(struct fakeipq *q);

void fakeipq_batch_free(struct fakeipq_batch *b);

#endif
