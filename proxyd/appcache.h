/*
 * appcache.h - the event loop's memory of the processes behind its recent
 * connections, so that a connection whose SYN record (connbpf_syn_take())
 * names a process looked at a moment ago is attributed on the loop
 * itself: no trip to the attribution worker, no /proc read, three
 * system calls (the record, the process's latest exec, a poll of its
 * pidfd) instead of about twenty and two thread wake-ups.
 *
 * An entry is the answer attr_lookup_rec() gave for one process, kept
 * with what tells that it is still that process's:
 *  - the process itself, as a pidfd: once it polls readable the process
 *    has exited, and its pid may name another one (pids wrap: pid_max
 *    may be as low as 32768);
 *  - its start: a connect from before it started was another process's
 *    (and /proc gives the start in clock ticks: a connect within the
 *    tick of its start is not taken as its);
 *  - its latest exec as the exec program recorded it (connbpf.h): one
 *    recorded since, or one that the LRU map has forgotten, means it may
 *    run another program now; one after the connect means the program
 *    that connected is gone (an unknown process's: the worker says so);
 *  - the socket's uid, for the user's name;
 *  - its age: what can change without an exec (whether the file at its
 *    path is still the one it runs, a user namespace it has entered
 *    since, its command line) is read again after APPCACHE_TTL_MS.
 * When any of these fails the entry is dropped and the connection goes
 * to the worker, whose answer is kept anew.  Without the exec program
 * (connbpf_exec_tracked()) nothing is kept: an exec since could not be
 * told.
 *
 * The event loop's only: not thread-safe.
 */
#ifndef TG_APPCACHE_H
#define TG_APPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxyd/attr.h"
#include "proxyd/connbpf.h"
#include "proxyd/worker.h"

#define APPCACHE_SIZE   64   /* processes kept, least recently used out */
#define APPCACHE_TTL_MS 1000 /* an answer's life */
/* Answers on their way from the worker with a pidfd, at most: the others
 * come without one (not kept).  With APPCACHE_SIZE, the descriptors the
 * cache may hold (fdbudget.h). */
#define APPCACHE_INFLIGHT_MAX 16

struct appcache_ent {
	bool used;
	pid_t tgid;
	int pidfd;
	uint64_t start_ns; /* CLOCK_BOOTTIME, rounded down to a tick */
	uint64_t tick_ns;  /* that tick */
	uint64_t exec_ns;  /* 0: none recorded */
	int64_t kept_ms;   /* mono_ms() when /proc was read */
	uint64_t last;     /* use counter, for the LRU */
	struct app app;    /* uid and user included */
};

/* Counters since appcache_new(), for STATUS. */
struct appcache_stats {
	uint64_t hits;  /* connections attributed on the loop */
	uint64_t stale; /* entries dropped as no longer the process's */
};

struct appcache;

struct appcache *appcache_new(void);
void appcache_free(struct appcache *ac);

/*
 * The answer for the connection of rec (its sk_uid set): 1 with *app
 * filled from the entry of rec->tgid, 0 when there is none fit for it
 * (an entry found unfit is dropped).  Costs connbpf_exec_lookup() and a
 * poll of the pidfd when an entry passes the checks that cost nothing.
 */
int appcache_get(struct appcache *ac, struct connbpf *cb,
                 const struct connbpf_rec *rec, struct app *app);

/*
 * Keep app, attr_lookup_rec()'s answer with id, for id->tgid: the
 * pidfd is the cache's from now (closed at once when id->pidfd is -1
 * or app names no process).  An older entry of the process is replaced.
 */
void appcache_put(struct appcache *ac, const struct attr_ident *id,
                  const struct app *app);

void appcache_stats(const struct appcache *ac, struct appcache_stats *st);

/*
 * User names, for a connection refused on the loop before its process
 * is looked up (over max_pending_per_user): the names of the last
 * APPCACHE_USERS uids that the worker gave, with its answers or when
 * asked (usernames.h; the password database is not read on the loop).
 *
 * appcache_user() never waits: a flood over its share comes faster than
 * the worker's queue empties, and each refused connection that waited
 * for its name would hold a descriptor and a place under max_connections
 * meanwhile, until other users' connections were refused for overload.
 * It fills user with uid's name and returns 1, or with its digits and
 * returns 0 when none is known.  A name kept longer than
 * USERNAMES_TTL_MS still serves, and is asked again; an unknown one is
 * asked: appcache_ask_user().
 */
#define APPCACHE_USERS 16
void appcache_note_user(struct appcache *ac, uid_t uid, const char *user);
int appcache_user(struct appcache *ac, struct worker *w, uid_t uid, char *user,
                  size_t len);

/*
 * Ask the worker w for uid's name, in a plain job (it runs before the
 * attribution work waiting, worker.h), unless that is being asked
 * already or APPCACHE_USERS names are (then a later call asks).  The
 * answer is kept as appcache_note_user() keeps one.  The worker must
 * stop before ac is freed.
 */
void appcache_ask_user(struct appcache *ac, struct worker *w, uid_t uid);

/*
 * Whether entry e may answer for the connection of rec: the checks that
 * cost nothing (its uid, age at now_ms, start), then those that cost a
 * system call each, given their results (connbpf_exec_lookup()'s exec_rc
 * and exec_ns, and whether the pidfd polled readable or the poll
 * failed).  The one place that decides, for appcache_get() and the unit
 * tests.
 */
bool appcache_fits_cheap(const struct appcache_ent *e,
                         const struct connbpf_rec *rec, int64_t now_ms);
bool appcache_fits_process(const struct appcache_ent *e,
                           const struct connbpf_rec *rec, int exec_rc,
                           uint64_t exec_ns, bool exited);

#endif
