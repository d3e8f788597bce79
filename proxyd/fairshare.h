/*
 * fairshare.h - how many of something each uid holds, with a cap per uid:
 * the counters behind max_pending_per_user (connections of one user in
 * the peek and attribution stages, conn.c).
 *
 * A hash table keyed by uid; a uid that holds nothing has no entry, so
 * the table is as large as the number of uids holding something (each
 * holds at least one).  Pure bookkeeping: no I/O, no logging.
 */
#ifndef TG_FAIRSHARE_H
#define TG_FAIRSHARE_H

#include <stddef.h>
#include <sys/types.h>

struct fairshare;

/* A table with cap (at least 1) per uid; NULL when out of memory. */
struct fairshare *fairshare_new(unsigned cap);
/* NULL is fine. */
void fairshare_free(struct fairshare *fs);

/*
 * Take one for uid.  Returns 0 (taken), 1 when uid holds cap already
 * (nothing taken), -1 when out of memory (nothing taken).
 */
int fairshare_take(struct fairshare *fs, uid_t uid);

/* Give back one that fairshare_take() gave uid; nothing when it holds
 * none (a bug of the caller's, which is not made worse). */
void fairshare_put(struct fairshare *fs, uid_t uid);

/* What uid holds now. */
unsigned fairshare_held(const struct fairshare *fs, uid_t uid);

/* How many uids hold something. */
size_t fairshare_uids(const struct fairshare *fs);

/* How many uids hold cap (the next take of theirs would return 1). */
size_t fairshare_full(const struct fairshare *fs);

#endif
