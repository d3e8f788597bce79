/*
 * db.c - the SQLite plumbing of store/: opening the database (the file's
 * checks, the pragmas, its permissions), the statements kept per store,
 * and the helpers every query of rules.c and events.c goes through; see
 * store.h for the contract and db.h for the helpers.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"

const char *const store_action_words[ACTION_REJECT + 1] = {
    [ACTION_ALLOW] = "allow",
    [ACTION_DENY] = "deny",
    [ACTION_REJECT] = "reject",
};

/* --- helpers -------------------------------------------------------------- */

/*
 * Copy text into err as one line: each run of line breaks (SQLite's
 * integrity reports come one problem a line) becomes "; ", other control
 * characters a space.
 */
static void
store_fold(char *err, size_t errlen, const char *text)
{
	size_t o = 0;
	const char *p;

	for (p = text; *p != '\0' && o + 1 < errlen; p++) {
		if (*p == '\n' || *p == '\r') {
			while (p[1] == '\n' || p[1] == '\r')
				p++;
			if (p[1] == '\0' || o + 2 >= errlen)
				break;
			err[o++] = ';';
			err[o++] = ' ';
		} else
			err[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	err[o] = '\0';
}

void
store_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char text[STORE_ERRLEN * 2];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	store_fold(err, errlen, text);
}

void
store_fail_db(struct store *s, char *err, size_t errlen, const char *what)
{
	store_fail(err, errlen, "%s: %s: %s", s->path, what,
	           sqlite3_errmsg(s->db));
}

int
store_check_writable(struct store *s, const char *what, char *err,
                     size_t errlen)
{
	if (s->mode != STORE_READWRITE) {
		store_fail(err, errlen,
		           "%s: %s: the database is open read-only", s->path,
		           what);
		return -1;
	}
	return 0;
}

int
store_col_word(sqlite3_stmt *st, int col, const char *const *words, size_t n)
{
	const char *w = (const char *)sqlite3_column_text(st, col);
	size_t i;

	if (w == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (words[i] != NULL && strcmp(words[i], w) == 0)
			return (int)i;
	return -1;
}

int
store_col_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (t == NULL || n < 0 || (size_t)n >= len ||
	    memchr(t, '\0', (size_t)n) != NULL)
		return -1;
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
	return 0;
}

int
store_exec(struct store *s, const char *sql, const char *what, char *err,
           size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		return -1;
	}
	return 0;
}

int
store_prepare(struct store *s, const char *sql, sqlite3_stmt **st,
              const char *what, char *err, size_t errlen)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		*st = NULL;
		return -1;
	}
	return 0;
}

int
store_step_done(struct store *s, sqlite3_stmt *st, const char *what, char *err,
                size_t errlen)
{
	int rc = sqlite3_step(st);

	/* The message first: sqlite3_reset() may replace it. */
	if (rc != SQLITE_DONE)
		store_fail_db(s, err, errlen, what);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_query_int(struct store *s, const char *sql, int64_t *v, const char *what,
                char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (store_prepare(s, sql, &st, what, err, errlen) == -1)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return -1;
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < s->n_stmt; i++)
		if (s->stmt_sql[i] == sql || strcmp(s->stmt_sql[i], sql) == 0) {
			sqlite3_reset(s->stmt[i]);
			sqlite3_clear_bindings(s->stmt[i]);
			return s->stmt[i];
		}
	if (s->n_stmt == STORE_STMT_MAX) {
		store_fail(err, errlen, "%s: more than %d kept statements",
		           s->path, STORE_STMT_MAX);
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	                       NULL) != SQLITE_OK) {
		store_fail_db(s, err, errlen, "preparing a statement");
		return NULL;
	}
	s->stmt_sql[s->n_stmt] = sql;
	s->stmt[s->n_stmt++] = st;
	return st;
}

int
store_txn_begin(struct store *s, const char *what, char *err, size_t errlen)
{
	return store_exec(s, "BEGIN IMMEDIATE", what, err, errlen);
}

int
store_txn_read(struct store *s, const char *what, char *err, size_t errlen)
{
	return store_exec(s, "BEGIN", what, err, errlen);
}

int
store_txn_commit(struct store *s, const char *what, char *err, size_t errlen)
{
	return store_exec(s, "COMMIT", what, err, errlen);
}

void
store_txn_abort(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- open ----------------------------------------------------------------- */

/* Make the database's directory when it is missing (not its parents). */
static int
make_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0; /* the current directory or / */
	*slash = '\0';
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			store_fail(err, errlen, "%s: not a directory", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		store_fail(err, errlen, "stat %s: %s", dir, strerror(errno));
		return -1;
	}
	if (mkdir(dir, STORE_DIR_MODE) == -1 && errno != EEXIST) {
		store_fail(err, errlen, "creating directory %s: %s", dir,
		           strerror(errno));
		return -1;
	}
	/* mkdir() is subject to the umask; the mode is not. */
	if (chmod(dir, STORE_DIR_MODE) == -1) {
		store_fail(err, errlen, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Check that the file can be opened as the mode needs (so that a refusal
 * names the real reason, not SQLite's "unable to open database file"),
 * creating it in read-write mode.  SQLite gives the -wal and -shm files
 * the database's mode.
 */
static int
check_file(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	if (mode == STORE_READWRITE) {
		if (make_dir(path, err, errlen) == -1)
			return -1;
		fd = open(path,
		          O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		          STORE_FILE_MODE);
		if (fd >= 0) {
			if (fchmod(fd, STORE_FILE_MODE) == -1) {
				store_fail(err, errlen, "chmod %s: %s", path,
				           strerror(errno));
				close(fd);
				return -1;
			}
			close(fd);
		} else if (errno != EEXIST) {
			store_fail(err, errlen, "creating database %s: %s",
			           path, strerror(errno));
			return -1;
		}
	}
	/*
	 * Look without opening: close() of any descriptor of the file would
	 * drop every POSIX lock this process holds on it, including those
	 * of another connection already open here (tollgated has several),
	 * and a process that then finds the file unlocked takes itself for
	 * its last user and removes the -wal file under us.
	 */
	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			store_fail(err, errlen, "no database yet at %s", path);
		else
			store_fail(err, errlen, "stat %s: %s", path,
			           strerror(errno));
		return -1;
	}
	if (!S_ISLNK(sb.st_mode) &&
	    access(path, mode == STORE_READWRITE ? R_OK | W_OK : R_OK) == -1) {
		store_fail(err, errlen, "cannot open database %s for %s: %s",
		           path,
		           mode == STORE_READWRITE ? "writing" : "reading",
		           strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		store_fail(err, errlen, "database %s is not a regular file",
		           path);
		return -1;
	}
	return 0;
}

/*
 * Read-only checks before anything is written: SQLite's own header,
 * the schema version, the pages (quick_check), and that an unversioned
 * database is empty rather than someone else's.
 */
static int
check_db(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t v, tables;
	const char *msg;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	        SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = sqlite3_extended_errcode(s->db);
		if ((rc & 0xff) == SQLITE_NOTADB ||
		    (rc & 0xff) == SQLITE_CORRUPT)
			store_fail(
			    err, errlen,
			    "%s is not a tollgate database, or is corrupt: %s",
			    s->path, sqlite3_errmsg(s->db));
		else
			store_fail_db(s, err, errlen,
			              "reading the schema version");
		sqlite3_finalize(st);
		return -1;
	}
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (v > STORE_SCHEMA_VERSION) {
		store_fail(
		    err, errlen,
		    "%s: database is from a newer tollgate (schema %lld, this "
		    "one knows %d)",
		    s->path, (long long)v, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v < 0) {
		store_fail(err, errlen,
		           "%s: not a tollgate database (schema %lld)", s->path,
		           (long long)v);
		return -1;
	}
	s->version = (int)v;

	if (store_prepare(s, "PRAGMA quick_check(1)", &st,
	                  "checking the database", err, errlen) == -1)
		return -1;
	rc = sqlite3_step(st);
	msg =
	    rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW || msg == NULL || strcmp(msg, "ok") != 0) {
		store_fail(err, errlen, "%s is corrupt: %s", s->path,
		           msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);

	if (v == 0) {
		if (store_query_int(s, "SELECT count(*) FROM sqlite_master",
		                    &tables, "reading the schema", err,
		                    errlen) == -1)
			return -1;
		if (tables > 0) {
			store_fail(
			    err, errlen,
			    "%s is an SQLite database, but not tollgate's "
			    "(no schema version, %lld objects)",
			    s->path, (long long)tables);
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	struct store *s;
	const char *jm;
	sqlite3_stmt *st;
	char sql[64];
	int flags, persist = 1;

	if (path == NULL || path[0] == '\0' || strlen(path) >= PATH_MAX) {
		store_fail(err, errlen, "database path is empty or too long");
		return NULL;
	}
	if (mode != STORE_READONLY && mode != STORE_READWRITE) {
		store_fail(err, errlen, "store_open: bad mode %d", (int)mode);
		return NULL;
	}
	if (check_file(path, mode, err, errlen) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_fail(err, errlen, "opening %s: %s", path,
		           strerror(errno));
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->mode = mode;

	flags = (mode == STORE_READWRITE ? SQLITE_OPEN_READWRITE
	                                 : SQLITE_OPEN_READONLY) |
	        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		if (s->db == NULL)
			store_fail(err, errlen, "opening %s: out of memory",
			           path);
		else
			store_fail_db(s, err, errlen, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	/* Until the checks pass, closing must not checkpoint a -wal file
	 * into a database that is refused. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (store_exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys",
	               err, errlen) == -1)
		goto fail;
	if (check_db(s, err, errlen) == -1)
		goto fail;

	if (mode == STORE_READONLY) {
		if (s->version == 0) {
			store_fail(err, errlen, "no database yet at %s", path);
			goto fail;
		}
		if (s->version < STORE_SCHEMA_VERSION) {
			store_fail(
			    err, errlen,
			    "%s: database has schema %d; tollgated upgrades "
			    "it to %d when it starts",
			    path, s->version, STORE_SCHEMA_VERSION);
			goto fail;
		}
		if (store_exec(s, "PRAGMA query_only = ON", "opening read-only",
		               err, errlen) == -1)
			goto fail;
		return s;
	}

	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	/* Keep -wal and -shm when the last writer closes, so that a reader
	 * that may not create files in the directory can still open it. */
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (store_prepare(s, "PRAGMA journal_mode = WAL", &st,
	                  "switching to WAL", err, errlen) == -1)
		goto fail;
	jm = sqlite3_step(st) == SQLITE_ROW
	         ? (const char *)sqlite3_column_text(st, 0)
	         : NULL;
	if (jm == NULL || strcmp(jm, "wal") != 0) {
		store_fail(err, errlen, "%s: switching to WAL: %s", path,
		           jm != NULL ? jm : sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (store_exec(s, "PRAGMA synchronous = FULL", "setting synchronous",
	               err, errlen) == -1)
		goto fail;
	/* Without a limit the -wal file keeps its largest size for good;
	 * with one, it is cut back after checkpoints and emptied on close. */
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d",
	         STORE_WAL_MAX_BYTES);
	if (store_exec(s, sql, "limiting the WAL", err, errlen) == -1)
		goto fail;
	if (store_migrate(s, err, errlen) == -1)
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_stmt; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close_v2(s->db);
	free(s);
}

int
store_schema_version(const struct store *s)
{
	return s->version;
}

sqlite3 *
store_sqlite(struct store *s)
{
	return s->db;
}

int
store_chown(struct store *s, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[PATH_MAX + 8];
	char *slash;
	size_t i;

	for (i = 0; i < NWORDS(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", s->path, suffixes[i]);
		if (lchown(p, uid, gid) == -1 && (errno != ENOENT || i == 0)) {
			store_fail(err, errlen, "chown %s to %lu:%lu: %s", p,
			           (unsigned long)uid, (unsigned long)gid,
			           strerror(errno));
			return -1;
		}
	}
	snprintf(p, sizeof(p), "%s", s->path);
	if ((slash = strrchr(p, '/')) == NULL)
		return 0;
	if (slash == p)
		return 0; /* never chown / */
	*slash = '\0';
	if (chown(p, uid, gid) == -1) {
		store_fail(err, errlen, "chown %s to %lu:%lu: %s", p,
		           (unsigned long)uid, (unsigned long)gid,
		           strerror(errno));
		return -1;
	}
	return 0;
}
