/*
 * rulesvc.h - the daemon's rules: the SQLite store, touched only on its own
 * worker thread, and the live index, read only on the event loop.
 *
 * A change (from the control socket) is stored on the worker thread, the
 * whole rule set is reloaded and a new index built there, aside; then, on
 * the loop, the index pointer is swapped and the old index freed.  A lookup
 * never sees half a change, and connections in flight keep the verdict they
 * already had.  Hit counts are kept per index slot on the loop and written
 * back in one transaction every RULESVC_FLUSH_S seconds, off the loop.
 *
 * The store also keeps the fake-IP map (fakeip.h) across restarts: its
 * mappings are put back at start, and its changes queued (fakeipq.h) and
 * written in batches by the same thread.
 */
#ifndef TG_RULESVC_H
#define TG_RULESVC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proxyd/proxyd.h"
#include "rules/match.h"
#include "rules/rule.h"

#define RULESVC_FLUSH_S 5
/* Fake-IP changes are written this often (s), or sooner when
 * FAKEIPQ_MAX of them wait; at most RULESVC_FAKEIP_BATCHES batches are
 * on their way at once, past which the oldest queued change is dropped
 * (and counted in the log): the loop never waits for the database. */
#define RULESVC_FAKEIP_FLUSH_S 2
#define RULESVC_FAKEIP_BATCHES 4

struct fakeip;

enum rulesvc_op {
	RULESVC_ADD, /* store change->rule; result id */
	RULESVC_DEL, /* by change->id */
	RULESVC_ENABLE,
	RULESVC_DISABLE,
	RULESVC_EDIT,   /* replace rule change->id by change->rule */
	RULESVC_PIN,    /* rule change->id pinned to change->rule.digest
	                 * (its hex), its other fields kept */
	RULESVC_IMPORT, /* change->import, in one transaction */
	RULESVC_RELOAD, /* re-read the store (another writer) */

	/* Rule change->id's duration and expires become change->rule's,
	 * its other fields kept. */
	RULESVC_DURATION,
};

struct rulesvc_change {
	enum rulesvc_op op;
	int64_t id;
	struct rule rule;
	struct rules_set *import; /* owned by the change; freed after */
	/*
	 * When not NULL (a change asked by someone who may change only some
	 * rules): called on the store's thread with rule id as stored, just
	 * before a DEL, ENABLE, DISABLE or DURATION of it, no other change
	 * in between; false refuses the change (RULESVC_E_PERM, err its
	 * reason).  may_arg must live until done() is called.
	 */
	bool (*may)(void *arg, const struct rule *stored, char *err,
	            size_t errlen);
	void *may_arg;
};

/* Why a change failed. */
enum rulesvc_error {
	RULESVC_OK,
	RULESVC_E_NOTFOUND, /* no rule of that id */
	RULESVC_E_INVALID,  /* the change itself is wrong */
	RULESVC_E_INTERNAL, /* the database or memory failed */
	RULESVC_E_PERM,     /* the one asking may not (broker_answer():
	                     * prompt_answers) */
};

struct rulesvc_result {
	bool ok;
	int64_t id;              /* ADD: the new rule's id */
	unsigned rules;          /* rules in force after the change */
	char err[256];           /* when !ok: what was wrong */
	enum rulesvc_error code; /* when !ok */
};

/*
 * Open the store (creating it; as root, before privileges are dropped, so
 * the file can be given to `owner`), remove "once" and "restart" rules
 * left from the last run, and build the first index.  A corrupt, newer or
 * unreadable database fails here: tollgated then refuses to start (its
 * nftables table stays, so traffic fails closed).  0, or -1 + err.
 */
int rulesvc_open(struct proxyd *pd, uid_t owner, gid_t group, char *err,
                 size_t errlen);

/*
 * Between rulesvc_open() and rulesvc_start(), on the loop's thread: the
 * database's random secret of that name (store_secret()), made on first
 * use.  0, or -1 + err.
 */
int rulesvc_secret(struct proxyd *pd, const char *name, uint8_t *out,
                   size_t len, char *err, size_t errlen);

/*
 * Between rulesvc_open() and rulesvc_start(), on the loop's thread: put
 * the stored fake-IP mappings back into f, least recently used first
 * (fakeip_restore()), then keep only the `max` most recently used in the
 * store; from then on, f's observer is rulesvc's: each mapping f hands
 * out or sees used is written within RULESVC_FAKEIP_FLUSH_S seconds, and
 * at rulesvc_stop().  The map need not outlive rulesvc (the queue holds
 * copies).  The number of mappings put back, or -1 + err (the map then
 * holds what was put back before the error, and is watched all the same).
 */
int rulesvc_fakeip_restore(struct proxyd *pd, struct fakeip *f, size_t max,
                           char *err, size_t errlen);

/* Start the store's worker thread and the hit-flush timer (after the
 * privilege drop).  0 or -1 (logged). */
int rulesvc_start(struct proxyd *pd);

/* Flush pending hits and fake-IP changes, stop the thread, close the store,
 * free the index. */
void rulesvc_stop(struct proxyd *pd);

/*
 * Apply a change off the loop.  done(arg, result) runs on the loop once the
 * change is stored and the new index is live, or it failed.  A rule (added,
 * edited or imported) whose via names no upstream of pd->cfg
 * (config_upstream_find()) is refused at once, with RULESVC_E_INVALID and
 * "no upstream named 'NAME' in tollgate.conf", before done() returns.  The
 * change is copied; the caller may free it after this returns (but `import`
 * passes to rulesvc).
 */
void rulesvc_apply(struct proxyd *pd, const struct rulesvc_change *change,
                   void (*done)(void *arg, const struct rulesvc_result *result),
                   void *arg);

/*
 * On the loop: the rule that would decide q (NULL: none, default_action),
 * with why filled when not NULL, and nothing else: no hit is counted and
 * a "once" rule is not used up (one used up already matches no more).
 * For what is looked at without being decided by it, e.g. the other
 * holders of a shared socket.  The entry is valid until the next change
 * is put in force: copy what you keep.
 */
const struct rules_entry *rulesvc_match(struct proxyd *pd,
                                        const struct rules_query *q,
                                        struct rules_explain *why);

/*
 * On the loop: e (from rulesvc_match(), not NULL) decided at now: a hit
 * is counted for it, and a "once" rule is used up (deleted from the
 * store).  Nothing when e is NULL.
 */
void rulesvc_use(struct proxyd *pd, const struct rules_entry *e, time_t now);

/* rulesvc_match(), then rulesvc_use() of what it found. */
const struct rules_entry *rulesvc_decide(struct proxyd *pd,
                                         const struct rules_query *q,
                                         struct rules_explain *why);

/*
 * fn(arg) runs on the loop each time a change has put a new index in
 * force (after the change's own done()): main.c has the broker look again
 * at the connections that wait for an answer.  One hook; NULL removes it.
 */
void rulesvc_on_change(struct proxyd *pd, void (*fn)(void *arg), void *arg);

/* Rules in the live index. */
unsigned rulesvc_count(const struct proxyd *pd);

#endif
