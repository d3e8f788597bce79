/*
 * hashq.h - executables hashed off the attribution thread.
 *
 * The first time a file (dev, inode, size, mtime, ctime: digest.h) is
 * seen, hashing it reads all of it: up to DIGEST_FILE_MAX bytes.  Done on
 * the one attribution thread, a user who runs many big executables (or
 * copies of one, each a new inode) would hold up every user's
 * connections.  So attribution looks the digest up here
 * (hashq_cached()) and, when it is not known, hashes a file of up to
 * HASHQ_INLINE_MAX bytes at once (hashq_now()) and hands a bigger one to
 * this queue's own thread (hashq_submit()); the connection then goes on
 * without a digest, and its event has none (docs/events.md).
 *
 * A rule pinned to a digest never matches a process whose digest is not
 * known (rules/match.h): fail closed.  So that a pinned program is not
 * refused only because its file is still being hashed, a connection that
 * such a rule would decide waits for the digest (hashq_wait()), at most
 * HASHQ_WAIT_MS (conn.c); past that, or when the file could not be
 * queued, it is judged without one.
 *
 * Bounds: HASHQ_MAX files queued or being hashed; past it a file is not
 * queued (counted, logged) and its connections have no digest.  The same
 * file is queued once, whoever asks.  The cache (DIGEST_CACHE_SIZE files)
 * is shared by every thread, under a lock held only to look up or keep
 * an entry, never while a file is read.
 *
 * Measured (2 shared cores): 50 processes of one guarded user exec 50
 * distinct 50 MB executables at once, each connecting once; another
 * user's curl started 50 ms later took 6.7, 7.3 and 7.2 s in three
 * rounds while the attribution thread hashed (3 ms alone), and 7, 4 and
 * 5 ms with this queue (its next four curls: 3 to 47 ms).
 *
 * Threads: hashq_new(), hashq_wait(), hashq_unwait() and hashq_free() on
 * the event loop; hashq_cached() and hashq_submit() on any thread (the
 * attribution thread).  A waiter's ready() runs on the loop.
 */
#ifndef TG_HASHQ_H
#define TG_HASHQ_H

#include <sys/queue.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/digest.h"

#define HASHQ_MAX     32    /* files queued or being hashed */
#define HASHQ_WAIT_MS 10000 /* longest a connection waits for a digest */
/* Files up to this size are hashed by the caller at once (hashq_now()):
 * most programs' files (curl 0.3 MB, python3 6.8 MB; a browser's big
 * code is in its libraries), a few ms each.  With attribution's turns per
 * user (worker.h), one user's such files delay another user's connection
 * by one file at most. */
#define HASHQ_INLINE_MAX (8 * 1024 * 1024)

struct hashq;

/* A connection waiting for the digest of a file (embedded in it). */
struct hashq_waiter {
	TAILQ_ENTRY(hashq_waiter) entry;
	bool waiting;
	struct digest_key key;
	/* The file was hashed (or could not be): look it up again with
	 * hashq_cached(); w is off the queue already. */
	void (*ready)(struct hashq_waiter *w);
};

struct hashq_stats {
	uint64_t hashed;  /* files hashed */
	uint64_t dropped; /* not queued: HASHQ_MAX were */
	uint64_t failed;  /* not hashed: read failed, or changed meanwhile */
};

/* Start the thread; NULL + errno (logged). */
struct hashq *hashq_new(struct event_base *base);

/* Stop the thread (a file being hashed is finished; queued ones are
 * dropped), close what is queued, free.  Waiters are not told: their
 * owners are gone first. */
void hashq_free(struct hashq *hq);

/* The digest of the file of key k into out when it is known: 0, else
 * -1. */
int hashq_cached(struct hashq *hq, const struct digest_key *k,
                 uint8_t out[DIGEST_LEN]);

/*
 * Queue the open file fd (taken: closed here or after it is hashed),
 * which st (its fstat, or the stat it was opened by) describes; what
 * names it in logs.  0 when it is queued, or was already, or is known
 * meanwhile; -1 when it is not (errno ENOBUFS: HASHQ_MAX are; EINVAL:
 * not a regular file or larger than DIGEST_FILE_MAX; ENOMEM).
 */
int hashq_submit(struct hashq *hq, int fd, const struct stat *st,
                 const char *what);

/*
 * Hash the open file fd (not taken), which st describes, on the calling
 * thread, and keep its digest in the shared cache: 0 with the digest in
 * out; -1 when it could not be read or changed while it was (logged as
 * digest_fd() does, with what).
 */
int hashq_now(struct hashq *hq, int fd, const struct stat *st, const char *what,
              uint8_t out[DIGEST_LEN]);

/*
 * w->ready(w) once the file of key k is hashed: 0, w waits; -1 when the
 * file is not queued (known already, or never queued, or dropped): look
 * it up now.
 */
int hashq_wait(struct hashq *hq, struct hashq_waiter *w,
               const struct digest_key *k);

/* w no longer waits; nothing when it does not. */
void hashq_unwait(struct hashq *hq, struct hashq_waiter *w);

void hashq_stats(struct hashq *hq, struct hashq_stats *st);

#endif
