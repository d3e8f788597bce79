/*
 * db.h - the SQLite plumbing of store/, for its own files only (rules.c,
 * events.c): the struct store itself, the schema's migration, and the one
 * set of helpers every query goes through.  Callers outside store/ use
 * store.h and events.h.
 *
 * Errors: every helper that can fail takes err/errlen and fills err with
 * one line, "PATH: what: SQLite's reason" after a failed SQLite call,
 * where what says what was being done ("adding a rule").  err may be
 * NULL.
 */
#ifndef TG_STORE_DB_H
#define TG_STORE_DB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/config.h" /* enum action */
#include "store/store.h"

struct store {
	sqlite3 *db;
	enum store_mode mode;
	int version; /* PRAGMA user_version */
	int64_t run; /* store_start_run()'s run; 0: not tollgated's */
	char path[PATH_MAX];
	/* store_stmt()'s statements and the SQL they were made from */
	const char *stmt_sql[STORE_STMT_MAX];
	sqlite3_stmt *stmt[STORE_STMT_MAX];
	size_t n_stmt;
	/* events_dedicate(): this connection writes events only, with
	 * synchronous=NORMAL and the events' checkpoint interval for good */
	bool events_only;
};

#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))

/* How enum action is spelled in the database (rules.action and
 * events.verdict): stable, whatever the UI says. */
extern const char *const store_action_words[ACTION_REJECT + 1];

/*
 * Move a read-write database from s->version to STORE_SCHEMA_VERSION, one
 * step per transaction (schema.c).  Sets s->version.  0 or -1 + err.
 */
int store_migrate(struct store *s, char *err, size_t errlen);

/* Fill err: printf-style; NULL err is allowed. */
void store_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill err with "PATH: what: SQLite's reason" for the last failed call. */
void store_fail_db(struct store *s, char *err, size_t errlen, const char *what);

/* -1 + err "PATH: what: the database is open read-only" unless s was
 * opened STORE_READWRITE; else 0. */
int store_check_writable(struct store *s, const char *what, char *err,
                         size_t errlen);

/* Run sql (one or more statements, no rows wanted).  0 or -1 + err. */
int store_exec(struct store *s, const char *sql, const char *what, char *err,
               size_t errlen);

/* Prepare sql for one use into *st, which the caller finalizes.  0, or
 * -1 + err with *st NULL. */
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st,
                  const char *what, char *err, size_t errlen);

/* Step st, a statement that returns no rows, then reset it (bindings
 * kept).  0, or -1 + err. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what,
                    char *err, size_t errlen);

/* Run sql, a query whose first row's first column is *v.  0 or -1 + err
 * (no row is an error). */
int store_query_int(struct store *s, const char *sql, int64_t *v,
                    const char *what, char *err, size_t errlen);

/*
 * The statement for sql, prepared on first use and kept until
 * store_close() (at most STORE_STMT_MAX of them; sql is a string
 * constant, its text the key), reset with no bindings; the caller
 * sqlite3_reset()s it after use and never finalizes it.  NULL + err when
 * it cannot be prepared.
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, char *err,
                         size_t errlen);

/*
 * Transactions.  store_txn_begin() takes the write lock now (waiting for
 * another writer up to the busy timeout) so that the write cannot fail
 * half way on it; store_txn_read() opens a read transaction, one
 * consistent picture for several queries.  store_txn_abort() undoes
 * whatever the open transaction did, or ends a read; SQLite may already
 * have rolled it back itself (on SQLITE_FULL, SQLITE_IOERR), then there is
 * nothing to do.  The error that led to an abort is already in err.
 */
int store_txn_begin(struct store *s, const char *what, char *err,
                    size_t errlen);
int store_txn_read(struct store *s, const char *what, char *err, size_t errlen);
int store_txn_commit(struct store *s, const char *what, char *err,
                     size_t errlen);
void store_txn_abort(struct store *s);

/* The index in words[0..n) of the word in text column col, or -1 (NULL
 * included). */
int store_col_word(sqlite3_stmt *st, int col, const char *const *words,
                   size_t n);

/* Copy text column col into dst[len]; -1 when it is NULL, holds a NUL or
 * does not fit. */
int store_col_text(sqlite3_stmt *st, int col, char *dst, size_t len);

#endif
