/*
 * store.h - the SQLite database of rules and events shared by tollgated
 * and the tollgate CLI (the events' functions are in events.h).
 *
 * One file (config key "database", default /var/lib/tollgate/tollgate.db)
 * in WAL mode, so the CLI's read-only queries never block the daemon and
 * the daemon never blocks them.  Every write is one transaction (BEGIN
 * IMMEDIATE, synchronous=FULL): it is all there after a crash or not at
 * all.  A writer that finds another writer busy waits up to
 * STORE_BUSY_TIMEOUT_MS; only then does it fail.
 *
 * The schema is versioned with PRAGMA user_version and moved forward by
 * an ordered list of migration steps in schema.c, each in its own
 * transaction (a new database runs them all from 0):
 *   1  rules, list_names
 *   2  rules.note, index rules(app)
 *   3  events and its indexes (events.h)
 *   4  rules.via, secrets
 *   5  fake_ips and its indexes (fakeip.h)
 *   6  events.sha256, rules.digest
 *   7  rules.run, daemon_run (store_start_run())
 *   8  rules.script, rules.cmdline
 *   9  no index events(conn_id)
 * A database from a newer tollgate, a corrupt one, or a file that is not
 * tollgate's is refused and left untouched; the check (PRAGMA
 * quick_check) runs at every open (its cost: docs/storage.md).
 * Tables (times in Unix
 * seconds, enums as their lower-case words):
 *   rules(id, app, uid NULL when none, dest_kind, dest, addr BLOB NULL
 *         unless ip/cidr, prefix, port_lo, port_hi, proto, action,
 *         duration, expires, priority, enabled, created, updated, hits,
 *         last_hit, note, via, digest, run, script, cmdline)
 *   list_names(rule_id -> rules(id) ON DELETE CASCADE, name), one row per
 *         name of a DEST_LIST rule's list; the list's own name is the
 *         rule's dest.
 *   events(id, kind, conn_id, time_ms, pid, uid NULL when unknown, user,
 *         exe, exe_base, cmdline, proto, src_ip, src_port, dst_ip,
 *         dst_port, name, rname, name_source, verdict, decider, rule_id,
 *         upstream, flags, bytes_up, bytes_down, duration_ms, n_lost,
 *         lost_first_ms, lost_last_ms), times in Unix ms; see events.h.
 *   secrets(name, value BLOB), random bytes made once and kept: see
 *         store_secret().
 *   fake_ips(name, v4 BLOB, v6 BLOB NULL, last_used), the DNS stub's
 *         map of names to fake addresses; see fakeip.h.
 *   daemon_run(id = 1, run), one row: the number of tollgated's latest
 *         start; rules.run is the run a rule was added or edited for.
 *
 * Files: the database and its -wal and -shm files (kept when the last
 * writer closes, the -wal emptied) share STORE_FILE_MODE and the owner
 * store_chown() sets, so a reader that has only read permission on them
 * and search permission on the directory can open it read-only, with or
 * without tollgated running.
 *
 * Threads: a struct store is used by one thread at a time; each thread
 * that needs the database opens its own.  tollgated opens it as root,
 * hands it to store_chown(), drops privileges and then uses it only from
 * its worker thread.
 *
 * Errors: every function that can fail takes err/errlen and fills err
 * with one line naming what was being done, the file and SQLite's reason.
 * A failed write has changed nothing.
 */
#ifndef TG_STORE_H
#define TG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "rules/match.h" /* struct rules_set */
#include "rules/rule.h"

#define STORE_SCHEMA_VERSION  9    /* what this tollgate writes */
#define STORE_BUSY_TIMEOUT_MS 5000 /* wait for another writer */
#define STORE_ERRLEN          512
#define STORE_RULES_MAX       10000     /* rules in one database */
#define STORE_LIST_NAMES_MAX  1000000   /* names in one list */
#define STORE_DIR_MODE        0750      /* a directory store_open() makes */
#define STORE_FILE_MODE       0640      /* the database, -wal and -shm */
#define STORE_WAL_MAX_BYTES   (4 << 20) /* -wal kept after a checkpoint */
#define STORE_STMT_MAX        16        /* statements store_stmt() keeps */

/* Returns of the functions that act on one rule by id. */
#define STORE_OK       0
#define STORE_ERROR    (-1) /* err says what failed */
#define STORE_NOTFOUND (-2) /* no rule with that id; err says so */

enum store_mode {
	STORE_READONLY,  /* queries only; the file must exist */
	STORE_READWRITE, /* creates the file (and its directory) if missing,
	                  * migrates it to STORE_SCHEMA_VERSION */
};

struct store;

/*
 * Open the database at path.  STORE_READONLY never writes, never blocks a
 * writer and fails with "no database yet at PATH" when the file is
 * missing, or when it has an older schema that only tollgated (read-write)
 * may upgrade.  STORE_READWRITE creates a missing directory (the last path
 * component only, STORE_DIR_MODE) and file (STORE_FILE_MODE), switches to
 * WAL and runs the migrations.  Both check the file (PRAGMA quick_check)
 * and refuse one that is corrupt, not an SQLite database, not tollgate's,
 * from a newer schema ("database is from a newer tollgate (schema N, this
 * one knows M)") or unreadable.  Returns the store, to be closed with
 * store_close(), or NULL with err set.
 */
struct store *store_open(const char *path, enum store_mode mode, char *err,
                         size_t errlen);
void store_close(struct store *s);

/* The schema version of the open database (STORE_SCHEMA_VERSION after a
 * read-write open). */
int store_schema_version(const struct store *s);

/*
 * Give the database file, its -wal and -shm files and its directory to
 * uid:gid (mode unchanged).  For tollgated before it drops root; a file
 * that does not exist is skipped.  Returns 0 or -1 + err.
 */
int store_chown(struct store *s, uid_t uid, gid_t gid, char *err,
                size_t errlen);

/*
 * Add one rule.  For a DEST_LIST rule, names[0..n_names) are its list
 * (normalised names; duplicates are stored once); otherwise names must be
 * NULL and n_names 0.  r->id is ignored; on success r->id is the new id
 * and r->created and r->updated are now, hits and last_hit are kept.
 * Returns 0 or -1 + err (nothing stored).
 */
int store_rule_add(struct store *s, struct rule *r, const char *const *names,
                   size_t n_names, char *err, size_t errlen);

/* Delete rule id and its list.  STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int store_rule_delete(struct store *s, int64_t id, char *err, size_t errlen);

/* Enable or disable rule id; sets updated to now.  STORE_OK,
 * STORE_NOTFOUND or STORE_ERROR. */
int store_rule_enable(struct store *s, int64_t id, bool enabled, char *err,
                      size_t errlen);

/*
 * Replace the fields of rule r->id with r's: everything but id, created,
 * hits and last_hit, which the store keeps; updated is set to now and
 * written back into *r with the kept fields.  Lists: when r is DEST_LIST
 * and names is not NULL the list becomes names[0..n_names); when names is
 * NULL the rule keeps the names it has; when r is not DEST_LIST its list
 * is dropped.  STORE_OK, STORE_NOTFOUND or STORE_ERROR (nothing changed).
 */
int store_rule_edit(struct store *s, struct rule *r, const char *const *names,
                    size_t n_names, char *err, size_t errlen);

/*
 * Pin rule id anew to digest (digest_hex()'s text), its other fields and
 * its list kept, only while it is a pinned allow rule: checked and
 * written by one UPDATE, so no other writer's change comes in between.
 * It must still be app's rule (an edit while the prompt waited may have
 * made it another program's).  STORE_OK, STORE_NOTFOUND (no such rule,
 * or no longer a pinned allow rule of app) or STORE_ERROR.
 */
int store_rule_pin(struct store *s, int64_t id, const char *app,
                   const char *digest, char *err, size_t errlen);

/* Read rule id into *r.  STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
int store_rule_get(struct store *s, int64_t id, struct rule *r, char *err,
                   size_t errlen);

/*
 * Every rule, or only those whose app is exactly app when app is not NULL,
 * by id.  *rules is a malloc()ed array of *n rules (NULL when *n is 0) that
 * the caller frees with free().  Returns 0 or -1 + err (*rules NULL).
 */
int store_rule_list(struct store *s, const char *app, struct rule **rules,
                    size_t *n, char *err, size_t errlen);

/* The number of names in rule id's list (0 when none), or -1 + err. */
int64_t store_list_count(struct store *s, int64_t id, char *err, size_t errlen);

/*
 * Everything the matcher needs, read in one read transaction (one
 * consistent picture): every rule, enabled or not, in id order, each
 * DEST_LIST rule with its names (sorted in byte order, unique), appended
 * to set with rules_set_add() (match.h).  set must be empty
 * (rules_set_init()); the caller frees it with rules_set_free().  Returns
 * 0, or -1 + err with set empty again.
 */
int store_load(struct store *s, struct rules_set *set, char *err,
               size_t errlen);

/*
 * Add the rules of set (with set->lists[i] as rule i's names when it is a
 * DEST_LIST rule; no names is an empty list) in one transaction: all are
 * stored or none.  With replace every rule already stored is deleted
 * first (a restore); without, every stored rule that uses a list one of
 * set's list rules uses (the same list name) is, so that a list imported
 * again replaces the old one in the same transaction.  Each rule gets a new id,
 * written back into set->rules[i].id; created, updated, hits and last_hit are
 * kept when not 0 (an exported rule read back), else set to now and 0.  Returns
 * 0, or -1 + err naming the rule (its place in the set, from 1) that failed,
 * with nothing stored and every id 0.
 */
int store_import(struct store *s, struct rules_set *set, bool replace,
                 char *err, size_t errlen);

/* Hits counted by the daemon since its last batch, for one rule. */
struct store_hit {
	int64_t id;
	uint64_t hits;
	time_t last_hit;
};

/*
 * Add hits[i].hits to rule hits[i].id's count and raise its last_hit to
 * hits[i].last_hit, for all i, in one transaction.  An id that is no
 * longer stored (deleted meanwhile) is skipped.  Returns 0 or -1 + err
 * (no count changed).
 */
int store_add_hits(struct store *s, const struct store_hit *hits, size_t n,
                   char *err, size_t errlen);

/* Delete the DUR_UNTIL rules whose expires <= now.  Returns how many, or
 * -1 + err. */
int store_delete_expired(struct store *s, time_t now, char *err, size_t errlen);

/*
 * tollgated's start: in one transaction, count a new run in daemon_run
 * and delete the DUR_ONCE and DUR_RESTART rules of the runs before it.
 * Every rule added or edited belongs to a run: through this struct
 * store, to the run started here; through any other (the CLI, while
 * tollgated is stopped), to the next run, so that it lives through that
 * run and goes at the start after.  Returns how many rules it deleted,
 * or -1 + err (nothing changed).
 */
int store_start_run(struct store *s, char *err, size_t errlen);

#define STORE_SECRET_MAX 64 /* bytes of one secret */

/*
 * The secret called name (for example "isolation", the key of the
 * upstream usernames): len random bytes (1 to STORE_SECRET_MAX) from
 * getrandom(2), made and stored the first time it is asked for, the same
 * bytes every time after, across restarts, until the database is
 * removed.  Creating one needs a read-write store; two processes that
 * ask at once get the same bytes.  Returns 0 with out[0..len) filled, or
 * -1 + err (also when the stored secret is not len bytes long).
 */
int store_secret(struct store *s, const char *name, uint8_t *out, size_t len,
                 char *err, size_t errlen);

/*
 * The SQLite handle, for the unit tests that look at or rig the tables
 * behind the store's back; store/ itself uses db.h.  It stays the
 * store's: never closed.
 */
struct sqlite3;
struct sqlite3 *store_sqlite(struct store *s);

#endif
