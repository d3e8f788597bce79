/*
 * fakeip.c - the fake-IP map in the database; see fakeip.h.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "common/name.h"
#include "store/db.h"
#include "store/fakeip.h"

/* Bind m to ?1 name, ?2 v4, and when full, ?3 v6 and ?4 last_used. */
static int
fakeip_bind(sqlite3_stmt *st, const struct store_fakeip *m, bool full)
{
	if (sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, &m->v4, 4, SQLITE_STATIC) != SQLITE_OK)
		return -1;
	if (!full)
		return 0;
	if ((m->has_v6 ? sqlite3_bind_blob(st, 3, &m->v6, 16, SQLITE_STATIC)
	               : sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, m->last_used) != SQLITE_OK)
		return -1;
	return 0;
}

int
store_fakeip_put(struct store *s, const struct store_fakeip *m, size_t n,
                 char *err, size_t errlen)
{
	const char *what = "storing fake IP mappings";
	sqlite3_stmt *drop = NULL, *put = NULL;
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(m[i].name);
		if (len == 0 || len > NAME_MAX_LEN) {
			store_fail(err, errlen,
			           "%s: a name of %zu bytes: expected 1 to %d",
			           what, len, NAME_MAX_LEN);
			return -1;
		}
	}
	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_txn_begin(s, what, err, errlen) == -1)
		return -1;
	if (store_prepare(s,
	                  "DELETE FROM fake_ips WHERE v4 = ?2 AND name != ?1",
	                  &drop, what, err, errlen) == -1 ||
	    store_prepare(s,
	                  "INSERT INTO fake_ips (name, v4, v6, last_used)"
	                  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO"
	                  " UPDATE SET v4 = excluded.v4, v6 = excluded.v6,"
	                  " last_used = excluded.last_used",
	                  &put, what, err, errlen) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (fakeip_bind(drop, &m[i], false) == -1 ||
		    fakeip_bind(put, &m[i], true) == -1) {
			store_fail_db(s, err, errlen, what);
			goto fail;
		}
		if (store_step_done(s, drop, what, err, errlen) == -1 ||
		    store_step_done(s, put, what, err, errlen) == -1)
			goto fail;
	}
	if (store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	sqlite3_finalize(drop);
	sqlite3_finalize(put);
	return 0;
fail:
	sqlite3_finalize(drop);
	sqlite3_finalize(put);
	store_txn_abort(s);
	return -1;
}

int
store_fakeip_delete(struct store *s, const char *name, char *err, size_t errlen)
{
	const char *what = "deleting a fake IP mapping";
	sqlite3_stmt *st;
	int rc;

	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_prepare(s, "DELETE FROM fake_ips WHERE name = ?1", &st, what,
	                  err, errlen) == -1)
		return -1;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return -1;
	}
	rc = store_step_done(s, st, what, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Row st (name, v4, v6, last_used) into *m; -1 when it is malformed. */
static int
fakeip_row(sqlite3_stmt *st, struct store_fakeip *m)
{
	memset(m, 0, sizeof(*m));
	m->name = (const char *)sqlite3_column_text(st, 0);
	if (m->name == NULL || sqlite3_column_bytes(st, 1) != 4)
		return -1;
	memcpy(&m->v4, sqlite3_column_blob(st, 1), 4);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		if (sqlite3_column_bytes(st, 2) != 16)
			return -1;
		memcpy(&m->v6, sqlite3_column_blob(st, 2), 16);
		m->has_v6 = true;
	}
	m->last_used = sqlite3_column_int64(st, 3);
	return 0;
}

int
store_fakeip_load(struct store *s,
                  int (*fn)(void *arg, const struct store_fakeip *m), void *arg,
                  char *err, size_t errlen)
{
	const char *what = "reading the fake IP mappings";
	struct store_fakeip m;
	sqlite3_stmt *st = NULL;
	int rc, stop = 0;

	if (store_txn_read(s, what, err, errlen) == -1)
		return -1;
	if (store_prepare(s,
	                  "SELECT name, v4, v6, last_used FROM fake_ips"
	                  " ORDER BY last_used, name",
	                  &st, what, err, errlen) == -1)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fakeip_row(st, &m) == -1) {
			store_fail(err, errlen, "%s: %s: a malformed row",
			           s->path, what);
			goto fail;
		}
		if ((stop = fn(arg, &m)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	sqlite3_finalize(st);
	store_txn_abort(s); /* a read: nothing to keep */
	return stop;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	return -1;
}

int64_t
store_fakeip_prune(struct store *s, size_t max, char *err, size_t errlen)
{
	const char *what = "pruning the fake IP mappings";
	sqlite3_stmt *st;
	int64_t n;

	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_prepare(s,
	                  "DELETE FROM fake_ips WHERE name NOT IN"
	                  " (SELECT name FROM fake_ips"
	                  "  ORDER BY last_used DESC, name DESC LIMIT ?1)",
	                  &st, what, err, errlen) == -1)
		return -1;
	if (sqlite3_bind_int64(st, 1, (int64_t)max) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return -1;
	}
	if (store_step_done(s, st, what, err, errlen) == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	n = sqlite3_changes64(s->db);
	sqlite3_finalize(st);
	return n;
}
