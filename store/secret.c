/*
 * secret.c - the daemon's named random secrets: made once with
 * getrandom(2), kept in the secrets table; see store.h.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"

/* Fill out[0..len) from the kernel's random source.  0 or -1 + err. */
static int
secret_random(uint8_t *out, size_t len, char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(out + got, len - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			store_fail(err, errlen, "getrandom: %s",
			           strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * Read secret name into out.  1 when found (and len bytes long), 0 when
 * there is none, -1 + err.
 */
static int
secret_read(struct store *s, const char *name, uint8_t *out, size_t len,
            const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const void *v;
	int rc, n;

	if (store_prepare(s, "SELECT value FROM secrets WHERE name = ?1", &st,
	                  what, err, errlen) == -1)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return -1;
	}
	v = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (v == NULL || n < 0 || (size_t)n != len) {
		store_fail(err, errlen,
		           "%s: %s: the stored secret is %d bytes, not %zu",
		           s->path, what, n, len);
		sqlite3_finalize(st);
		return -1;
	}
	memcpy(out, v, len);
	sqlite3_finalize(st);
	return 1;
}

int
store_secret(struct store *s, const char *name, uint8_t *out, size_t len,
             char *err, size_t errlen)
{
	char what[96];
	uint8_t fresh[STORE_SECRET_MAX];
	sqlite3_stmt *st = NULL;
	int rc;

	snprintf(what, sizeof(what), "reading the secret \"%.40s\"", name);
	if (len == 0 || len > STORE_SECRET_MAX) {
		store_fail(err, errlen, "%s: %zu bytes; 1 to %d", what, len,
		           STORE_SECRET_MAX);
		return -1;
	}
	/* Most calls find it: no write lock for those. */
	rc = secret_read(s, name, out, len, what, err, errlen);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	snprintf(what, sizeof(what), "making the secret \"%.40s\"", name);
	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_txn_begin(s, what, err, errlen) == -1)
		return -1;
	/* Another process may have made it since: under the lock, again. */
	rc = secret_read(s, name, out, len, what, err, errlen);
	if (rc == -1)
		goto fail;
	if (rc == 1) {
		store_txn_abort(s);
		return 0;
	}
	if (secret_random(fresh, len, err, errlen) == -1 ||
	    store_prepare(s,
	                  "INSERT INTO secrets (name, value) VALUES (?1, ?2)",
	                  &st, what, err, errlen) == -1)
		goto fail;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, fresh, (int)len, SQLITE_STATIC) !=
	        SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	if (store_step_done(s, st, what, err, errlen) == -1 ||
	    store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	sqlite3_finalize(st);
	memcpy(out, fresh, len);
	explicit_bzero(fresh, sizeof(fresh));
	return 0;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	explicit_bzero(fresh, sizeof(fresh));
	return -1;
}
