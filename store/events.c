/*
 * events.c - the event log in the store's database; see events.h for the
 * contract and schema.c for the table (schema step 3).
 *
 * Writes reuse statements the store keeps (store_stmt()), one transaction
 * per batch, giving way to other threads every EVENTS_YIELD_ROWS rows.
 * Queries are built from the filter and prepared per call: a reader makes a
 * few calls a second at most.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/events.h"

/*
 * A batch gives way (sched_yield()) after this many rows to the threads
 * waiting for its CPU.  A batch of 512 rows is a few milliseconds of work,
 * and a thread that runs on is taken off its CPU only at the next tick
 * (4 ms at HZ=250): on a busy machine the threads waiting meanwhile, the
 * event loop or the very programs whose connections it relays, waited
 * that long, the p99 of `make bench` with 4 clients 1.3 ms over a bare
 * proxy's.  Every 16 rows (about 0.1 ms) it is some 0.3 ms; the yield
 * costs a system call, a tenth of a row's work.
 */
#define EVENTS_YIELD_ROWS 16

/* How enums are spelled in the database: stable, whatever the UI says. */
static const char *const kind_words[] = {
    [EVENT_DECISION] = "decision",
    [EVENT_GAP] = "gap",
};
static const char *const decider_words[] = {
    [DECIDER_RULE] = "rule",
    [DECIDER_DEFAULT] = "default",
    [DECIDER_PROMPT] = "prompt",
    [DECIDER_TIMEOUT] = "timeout",
    [DECIDER_PEEK] = "peek",
    [DECIDER_LOOP] = "loop",
    [DECIDER_OVERLOAD] = "overload",
    [DECIDER_NO_DST] = "no-dst",
    [DECIDER_NO_AGENT] = "no-agent",
    [DECIDER_PROMPT_FULL] = "prompt-full",
    [DECIDER_MISMATCH] = "name-mismatch",
    [DECIDER_NO_ROUTE] = "no-route",
    [DECIDER_FAKEIP] = "fakeip-unmapped",
    [DECIDER_UDP] = "udp-not-proxied",
    [DECIDER_ENCDNS] = "encrypted-dns",
    [DECIDER_SHARED] = "shared-socket",
    [DECIDER_ABANDONED] = "abandoned",
    [DECIDER_SHUTDOWN] = "shutdown",
};
static const char *const flag_words[] = {
    "ech",     "mismatch", "unknown",       "encrypted-dns", "not-installed",
    "preload", "userns",   "shared-socket", "interrupted",
};
static const char *const proto_words[] = {"tcp", "udp", "dns"};

/*
 * While the event writes hold the connection, SQLite checkpoints the WAL
 * into the database every EVENTS_CHECKPOINT_PAGES pages instead of
 * SQLite's 1,000 (which the rules' writes keep): a quarter of the checkpoints,
 * each with its fsync()s, and a page written many times by a run of
 * batches (an app's newest index page) goes to the database once.  The
 * -wal file grows to 16 MB and is cut back to STORE_WAL_MAX_BYTES after.
 */
#define EVENTS_CHECKPOINT_PAGES 4096
#define SQLITE_CHECKPOINT_PAGES 1000

/* A reversed name: every byte of the name and one more dot. */
#define RNAME_MAX (NAME_MAX_LEN + 2)

/*
 * A row's 29 parameters, bound by bind_row() in the order of the columns.
 * Rows go in EVENT_INSERT_ROWS to a statement while a batch has that many
 * left, one at a time after: each INSERT's own work (its start, the
 * AUTOINCREMENT counter read and written back, its end) is shared by 16
 * rows, a quarter of a row's CPU (docs/storage.md).
 */
#define EVENT_PARAMS      29
#define EVENT_INSERT_ROWS 16
#define EVENT_INSERT_HEAD                                                      \
	"INSERT INTO events (kind, conn_id, time_ms, pid, uid, user, exe, "    \
	"exe_base, cmdline, proto, src_ip, src_port, dst_ip, dst_port, name, " \
	"rname, name_source, verdict, decider, rule_id, upstream, flags, "     \
	"bytes_up, bytes_down, duration_ms, n_lost, lost_first_ms, "           \
	"lost_last_ms, sha256) VALUES "
#define EVENT_VALUES_1                                                         \
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "  \
	"?, ?, ?, ?, ?, ?, ?)"
#define EVENT_VALUES_2    EVENT_VALUES_1 ", " EVENT_VALUES_1
#define EVENT_VALUES_4    EVENT_VALUES_2 ", " EVENT_VALUES_2
#define EVENT_VALUES_8    EVENT_VALUES_4 ", " EVENT_VALUES_4
#define EVENT_VALUES_16   EVENT_VALUES_8 ", " EVENT_VALUES_8
#define EVENT_INSERT      EVENT_INSERT_HEAD EVENT_VALUES_1
#define EVENT_INSERT_MANY EVENT_INSERT_HEAD EVENT_VALUES_16
_Static_assert(EVENT_INSERT_ROWS == 16, "EVENT_INSERT_MANY has 16 rows");
_Static_assert(EVENT_INSERT_ROWS <= EVENTS_YIELD_ROWS,
               "a batch gives way between statements");

/* The newest decision of a connection, at its time: the time index leads
 * to the few rows of that millisecond. */
#define EVENT_CLOSE                                                            \
	"UPDATE events SET bytes_up = ?2, bytes_down = ?3, duration_ms = ?4, " \
	"dst_ip = coalesce(?5, dst_ip), dst_port = coalesce(?6, dst_port) "    \
	"WHERE id = (SELECT max(id) FROM events WHERE time_ms = ?7 AND "       \
	"conn_id = ?1 AND kind = 'decision')"

/* What row_event() reads, in its order. */
#define EVENT_COLUMNS                                                          \
	"id, kind, conn_id, time_ms, pid, uid, user, exe, cmdline, proto, "    \
	"src_ip, src_port, dst_ip, dst_port, name, name_source, verdict, "     \
	"decider, rule_id, upstream, flags, bytes_up, bytes_down, "            \
	"duration_ms, n_lost, lost_first_ms, lost_last_ms, sha256"

const char *
event_decider_str(enum event_decider d)
{
	if ((unsigned)d >= NWORDS(decider_words))
		return "?";
	return decider_words[d];
}

void
event_flags_each(unsigned flags, void (*fn)(const char *word, void *arg),
                 void *arg)
{
	size_t i;

	for (i = 0; i < NWORDS(flag_words); i++)
		if (flags & (1u << i))
			fn(flag_words[i], arg);
}

bool
event_proto_ok(const char *s)
{
	size_t i;

	for (i = 0; i < NWORDS(proto_words); i++)
		if (strcmp(s, proto_words[i]) == 0)
			return true;
	return false;
}

/* "www.a.test" -> "test.a.www.", "" -> "".  out has RNAME_MAX bytes. */
static void
name_reverse(const char *name, char *out)
{
	const char *end = name + strlen(name), *dot;
	size_t used = 0, n;

	while (end > name) {
		for (dot = end; dot > name && dot[-1] != '.'; dot--)
			;
		n = (size_t)(end - dot);
		memcpy(out + used, dot, n);
		used += n;
		out[used++] = '.';
		end = dot > name ? dot - 1 : name;
	}
	out[used] = '\0';
}

/* The exe's last component: what "--app firefox-esr" names. */
static const char *
exe_base(const char *exe)
{
	const char *slash = strrchr(exe, '/');

	return slash != NULL ? slash + 1 : exe;
}

/* --- writes --------------------------------------------------------------- */

/* Undo the write (SQLite may have rolled it back already) and put the
 * store's settings back; the error that led here is in err already. */
static void
write_abort(struct store *s)
{
	store_txn_abort(s);
	if (s->events_only)
		return;
	sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	sqlite3_wal_autocheckpoint(s->db, SQLITE_CHECKPOINT_PAGES);
}

/* BEGIN IMMEDIATE or COMMIT, as kept statements: not parsed again for
 * every batch. */
static int
write_txn(struct store *s, const char *sql, const char *what, char *err,
          size_t errlen)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, sql, err, errlen)) == NULL)
		return -1;
	return store_step_done(s, st, what, err, errlen);
}

/*
 * An event write: synchronous=NORMAL for this transaction only (see
 * events.h; for good after events_dedicate()), then the write lock,
 * waiting for another writer up to the store's busy timeout.
 */
static int
write_begin(struct store *s, const char *what, char *err, size_t errlen)
{
	if (store_check_writable(s, what, err, errlen) == -1)
		return -1;
	if (!s->events_only) {
		if (store_exec(s, "PRAGMA synchronous = NORMAL", what, err,
		               errlen) == -1)
			return -1;
		sqlite3_wal_autocheckpoint(s->db, EVENTS_CHECKPOINT_PAGES);
	}
	if (write_txn(s, "BEGIN IMMEDIATE", what, err, errlen) == -1) {
		write_abort(s);
		return -1;
	}
	return 0;
}

/*
 * Commit and put FULL back (not after events_dedicate()).  Setting a
 * pragma fails only when SQLite is out of memory; then the rows are
 * stored, the connection stays at NORMAL, and -1 tells the caller
 * something is wrong.
 */
static int
write_commit(struct store *s, const char *what, char *err, size_t errlen)
{
	if (write_txn(s, "COMMIT", what, err, errlen) == -1) {
		write_abort(s);
		return -1;
	}
	if (s->events_only)
		return 0;
	sqlite3_wal_autocheckpoint(s->db, SQLITE_CHECKPOINT_PAGES);
	return store_exec(s, "PRAGMA synchronous = FULL", what, err, errlen);
}

int
events_dedicate(struct store *s, char *err, size_t errlen)
{
	const char *what = "dedicating the connection to events";

	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_exec(s, "PRAGMA synchronous = NORMAL", what, err, errlen) ==
	        -1 ||
	    store_exec(s, "PRAGMA ignore_check_constraints = ON", what, err,
	               errlen) == -1)
		return -1;
	sqlite3_wal_autocheckpoint(s->db, EVENTS_CHECKPOINT_PAGES);
	s->events_only = true;
	return 0;
}

/* The texts of struct event_row, all after its numbers (events.h), in
 * the order check_row() names a bad one. */
#define ROW_TEXTS(X)                                                           \
	X(user)                                                                \
	X(exe) X(cmdline) X(proto) X(src_ip) X(dst_ip) X(name) X(name_source)  \
	    X(upstream) X(sha256)
#define ROW_TEXT_SIZE(f) sizeof(((struct event_row *)0)->f)
#define ROW_TEXT(f)                                                            \
	{.field = #f,                                                          \
	 .off = offsetof(struct event_row, f),                                 \
	 .size = ROW_TEXT_SIZE(f)},
static const struct {
	const char *field;
	size_t off, size;
} row_texts[] = {ROW_TEXTS(ROW_TEXT)};
#undef ROW_TEXT
/* Where the texts start: the numbers are the bytes before. */
#define ROW_NUMS offsetof(struct event_row, user)
/* The numbers end before the texts, and the texts listed are all that
 * follows them (char arrays: no padding between; less than one
 * alignment unit after the last). */
#define ROW_PLUS_SIZE(f) +ROW_TEXT_SIZE(f)
_Static_assert(offsetof(struct event_row, lost_last_ms) < ROW_NUMS &&
                   ROW_NUMS ROW_TEXTS(ROW_PLUS_SIZE) <=
                       sizeof(struct event_row) &&
                   ROW_NUMS ROW_TEXTS(ROW_PLUS_SIZE) +
                           _Alignof(struct event_row) >
                       sizeof(struct event_row),
               "struct event_row: its numbers, then the texts of ROW_TEXTS");
#undef ROW_PLUS_SIZE

void *
event_row_pack(const struct event_row *r)
{
	size_t i, len[NWORDS(row_texts)], n = ROW_NUMS;
	char *packed, *p;

	for (i = 0; i < NWORDS(row_texts); i++) {
		len[i] = strnlen((const char *)r + row_texts[i].off,
		                 row_texts[i].size - 1);
		n += len[i] + 1;
	}
	if ((packed = malloc(n)) == NULL)
		return NULL;
	memcpy(packed, r, ROW_NUMS);
	p = packed + ROW_NUMS;
	for (i = 0; i < NWORDS(row_texts); i++) {
		memcpy(p, (const char *)r + row_texts[i].off, len[i]);
		p[len[i]] = '\0';
		p += len[i] + 1;
	}
	return packed;
}

void
event_row_unpack(struct event_row *r, const void *packed)
{
	const char *p = (const char *)packed + ROW_NUMS;
	size_t i, len;

	memcpy(r, packed, ROW_NUMS);
	for (i = 0; i < NWORDS(row_texts); i++) {
		/* At most size - 1 (packed so); bounded all the same. */
		len = strnlen(p, row_texts[i].size - 1);
		memcpy((char *)r + row_texts[i].off, p, len);
		((char *)r)[row_texts[i].off + len] = '\0';
		p += strlen(p) + 1;
	}
}

/* Which field of ev the store would not read back, or NULL. */
static const char *
check_row(const struct event_row *ev)
{
	size_t i;

	if ((unsigned)ev->kind >= NWORDS(kind_words))
		return "kind";
	if (ev->kind == EVENT_GAP)
		return ev->n_lost < 0 ? "n_lost" : NULL;
	if ((unsigned)ev->verdict >= NWORDS(store_action_words))
		return "verdict";
	if ((unsigned)ev->decider >= NWORDS(decider_words))
		return "decider";
	if (ev->has_uid && ev->uid == (uid_t)-1)
		return "uid";
	for (i = 0; i < NWORDS(row_texts); i++)
		if (memchr((const char *)ev + row_texts[i].off, '\0',
		           row_texts[i].size) == NULL)
			return row_texts[i].field;
	return NULL;
}

static int
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Bind ev to parameters base+1..base+29 of an insert; rname is ev's reversed
 * name. */
static int
bind_row(sqlite3_stmt *st, int base, const struct event_row *ev,
         const char *rname)
{
	/* The text columns of EVENT_INSERT, "" in a gap row. */
	static const int text_params[] = {6,  7,  8,  9,  10, 11,
	                                  13, 15, 16, 17, 21, 29};
	size_t i;
	int rc = 0;

	rc |= bind_str(st, base + 1, kind_words[ev->kind]);
	rc |= sqlite3_bind_int64(st, base + 3, ev->time_ms);
	if (ev->kind == EVENT_GAP) {
		/* The rest keep their defaults: no app, name or verdict. */
		rc |= sqlite3_bind_int64(st, base + 2, 0);
		rc |= sqlite3_bind_int64(st, base + 4, 0);
		rc |= sqlite3_bind_null(st, base + 5);
		rc |= sqlite3_bind_int64(st, base + 12, 0);
		rc |= sqlite3_bind_int64(st, base + 14, 0);
		rc |= sqlite3_bind_null(st, base + 18);
		rc |= sqlite3_bind_null(st, base + 19);
		rc |= sqlite3_bind_int64(st, base + 20, 0);
		rc |= sqlite3_bind_int64(st, base + 22, 0);
		rc |= sqlite3_bind_int64(st, base + 23, -1);
		rc |= sqlite3_bind_int64(st, base + 24, -1);
		rc |= sqlite3_bind_int64(st, base + 25, -1);
		rc |= sqlite3_bind_int64(st, base + 26, ev->n_lost);
		rc |= sqlite3_bind_int64(st, base + 27, ev->lost_first_ms);
		rc |= sqlite3_bind_int64(st, base + 28, ev->lost_last_ms);
		for (i = 0; i < NWORDS(text_params); i++)
			rc |= bind_str(st, base + text_params[i], "");
		return rc == SQLITE_OK ? 0 : -1;
	}
	rc |= sqlite3_bind_int64(st, base + 2, ev->conn_id);
	rc |= sqlite3_bind_int64(st, base + 4, ev->pid);
	if (ev->has_uid)
		rc |= sqlite3_bind_int64(st, base + 5, ev->uid);
	else
		rc |= sqlite3_bind_null(st, base + 5);
	rc |= bind_str(st, base + 6, ev->user);
	rc |= bind_str(st, base + 7, ev->exe);
	rc |= bind_str(st, base + 8, exe_base(ev->exe));
	rc |= bind_str(st, base + 9, ev->cmdline);
	rc |= bind_str(st, base + 10, ev->proto);
	rc |= bind_str(st, base + 11, ev->src_ip);
	rc |= sqlite3_bind_int(st, base + 12, ev->src_port);
	rc |= bind_str(st, base + 13, ev->dst_ip);
	rc |= sqlite3_bind_int(st, base + 14, ev->dst_port);
	rc |= bind_str(st, base + 15, ev->name);
	rc |= bind_str(st, base + 16, rname);
	rc |= bind_str(st, base + 17, ev->name_source);
	rc |= bind_str(st, base + 18, store_action_words[ev->verdict]);
	rc |= bind_str(st, base + 19, decider_words[ev->decider]);
	rc |= sqlite3_bind_int64(st, base + 20, ev->rule_id);
	rc |= bind_str(st, base + 21, ev->upstream);
	rc |= sqlite3_bind_int64(st, base + 22, ev->flags);
	rc |= sqlite3_bind_int64(st, base + 23, ev->bytes_up);
	rc |= sqlite3_bind_int64(st, base + 24, ev->bytes_down);
	rc |= sqlite3_bind_int64(st, base + 25, ev->duration_ms);
	rc |= sqlite3_bind_int64(st, base + 26, 0);
	rc |= sqlite3_bind_int64(st, base + 27, 0);
	rc |= sqlite3_bind_int64(st, base + 28, 0);
	rc |= bind_str(st, base + 29, ev->sha256);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Inside a write transaction: insert ev[0..n); *first is the first id. */
static int
insert_rows(struct store *s, const struct event_row *ev, size_t n,
            int64_t *first, const char *what, char *err, size_t errlen)
{
	char rname[EVENT_INSERT_ROWS][RNAME_MAX];
	/* [0]: one row, [1]: EVENT_INSERT_ROWS; each taken once, as
	 * store_stmt() clears every binding of the one it returns. */
	sqlite3_stmt *stmts[2] = {NULL, NULL}, *st;
	size_t i, j, k, since_yield = 0;
	int rc = -1;

	for (i = 0; i < n; i += k) {
		k = n - i >= EVENT_INSERT_ROWS ? EVENT_INSERT_ROWS : 1;
		if ((st = stmts[k > 1]) == NULL &&
		    (st = stmts[k > 1] =
		         store_stmt(s, k > 1 ? EVENT_INSERT_MANY : EVENT_INSERT,
		                    err, errlen)) == NULL)
			goto done;
		for (j = 0; j < k; j++) {
			if (ev[i + j].kind == EVENT_GAP)
				rname[j][0] = '\0';
			else
				name_reverse(ev[i + j].name, rname[j]);
			if (bind_row(st, (int)j * EVENT_PARAMS, &ev[i + j],
			             rname[j]) == -1) {
				store_fail_db(s, err, errlen, what);
				goto done;
			}
		}
		if (store_step_done(s, st, what, err, errlen) == -1)
			goto done;
		/* One writer holds the lock and AUTOINCREMENT counts up by
		 * one: the statement's rows have the ids up to the last. */
		if (i == 0)
			*first =
			    sqlite3_last_insert_rowid(s->db) - (int64_t)(k - 1);
		if ((since_yield += k) >= EVENTS_YIELD_ROWS) {
			(void)sched_yield();
			since_yield = 0;
		}
	}
	rc = 0;
done:
	/* The bindings point into ev and rname: drop them. */
	for (j = 0; j < 2; j++)
		if (stmts[j] != NULL)
			sqlite3_clear_bindings(stmts[j]);
	return rc;
}

/* Inside a write transaction: apply c[0..n); *filled counts the rows. */
static int
close_rows(struct store *s, const struct event_close *c, size_t n, int *filled,
           const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i;

	if ((st = store_stmt(s, EVENT_CLOSE, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (sqlite3_bind_int64(st, 1, c[i].conn_id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 7, c[i].time_ms) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, c[i].bytes_up) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, c[i].bytes_down) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, c[i].duration_ms) != SQLITE_OK ||
		    (c[i].dst_ip[0] != '\0'
		         ? sqlite3_bind_text(st, 5, c[i].dst_ip, -1,
		                             SQLITE_TRANSIENT) != SQLITE_OK ||
		               sqlite3_bind_int64(st, 6, c[i].dst_port) !=
		                   SQLITE_OK
		         : sqlite3_bind_null(st, 5) != SQLITE_OK ||
		               sqlite3_bind_null(st, 6) != SQLITE_OK)) {
			store_fail_db(s, err, errlen, what);
			return -1;
		}
		if (store_step_done(s, st, what, err, errlen) == -1)
			return -1;
		*filled += sqlite3_changes(s->db);
		if ((i + 1) % EVENTS_YIELD_ROWS == 0)
			(void)sched_yield();
	}
	return 0;
}

int
events_write(struct store *s, struct event_row *ev, size_t n,
             const struct event_close *c, size_t nc, char *err, size_t errlen)
{
	const char *what = "recording events", *bad;
	int64_t first = 0;
	int filled = 0;
	size_t i;

	if (n > EVENTS_BATCH_MAX || nc > EVENTS_BATCH_MAX || n + nc == 0 ||
	    (n > 0 && ev == NULL) || (nc > 0 && c == NULL)) {
		store_fail(
		    err, errlen,
		    "%s: %s: %zu rows and %zu ends (0 to %d each, not none)",
		    s->path, what, n, nc, EVENTS_BATCH_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((bad = check_row(&ev[i])) != NULL) {
			store_fail(err, errlen, "%s: %s: row %zu has a bad %s",
			           s->path, what, i + 1, bad);
			return -1;
		}
	if (write_begin(s, what, err, errlen) == -1)
		return -1;
	if ((n > 0 && insert_rows(s, ev, n, &first, what, err, errlen) == -1) ||
	    (nc > 0 &&
	     close_rows(s, c, nc, &filled, what, err, errlen) == -1)) {
		write_abort(s);
		return -1;
	}
	if (write_commit(s, what, err, errlen) == -1)
		return -1;
	/* One writer holds the lock and AUTOINCREMENT counts up by one: the
	 * batch's ids follow each other. */
	for (i = 0; i < n; i++)
		ev[i].id = first + (int64_t)i;
	return filled;
}

int
events_insert(struct store *s, struct event_row *ev, size_t n, char *err,
              size_t errlen)
{
	if (n == 0) {
		store_fail(err, errlen, "%s: recording events: no rows",
		           s->path);
		return -1;
	}
	return events_write(s, ev, n, NULL, 0, err, errlen) == -1 ? -1 : 0;
}

int
events_close_batch(struct store *s, const struct event_close *c, size_t n,
                   char *err, size_t errlen)
{
	if (n == 0) {
		store_fail(err, errlen, "%s: recording connection ends: none",
		           s->path);
		return -1;
	}
	return events_write(s, NULL, 0, c, n, err, errlen);
}

int
events_close(struct store *s, int64_t conn_id, int64_t time_ms,
             int64_t bytes_up, int64_t bytes_down, int64_t duration_ms,
             char *err, size_t errlen)
{
	struct event_close c = {
	    .conn_id = conn_id,
	    .time_ms = time_ms,
	    .bytes_up = bytes_up,
	    .bytes_down = bytes_down,
	    .duration_ms = duration_ms,
	};

	return events_close_batch(s, &c, 1, err, errlen);
}

/* Run a kept statement returning one row of one integer or NULL (0). */
static int
kept_int(struct store *s, const char *sql, int64_t p1, int64_t p2, int64_t *v,
         const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, sql, err, errlen)) == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, p1);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, p2);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_reset(st);
		return -1;
	}
	*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* Run a kept statement that changes rows; how many, or -1 + err. */
static int64_t
kept_write(struct store *s, const char *sql, int64_t p1, int64_t p2,
           const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, sql, err, errlen)) == NULL)
		return -1;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, p1);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, p2);
	if (store_step_done(s, st, what, err, errlen) == -1)
		return -1;
	return sqlite3_changes64(s->db);
}

/*
 * Both deletes go by an index from the old end: by time_ms for the age,
 * by id for the count.  The count is only taken (a scan of the smallest
 * index, some milliseconds per million rows) when the span of ids says
 * there may be too many rows.
 */
int64_t
events_prune(struct store *s, int64_t max_age_s, int64_t max_rows,
             int64_t now_ms, size_t step, char *err, size_t errlen)
{
	const char *what = "pruning events";
	int64_t deleted = 0, lo, hi, count, cutoff, excess;
	int64_t left;

	if (step == 0 || step > INT64_MAX || max_age_s < 0 || max_rows < 0 ||
	    max_age_s > INT64_MAX / 1000) {
		store_fail(err, errlen, "%s: %s: bad limits", s->path, what);
		return -1;
	}
	left = (int64_t)step;
	if (write_begin(s, what, err, errlen) == -1)
		return -1;
	if (max_age_s > 0) {
		cutoff = now_ms < INT64_MIN + max_age_s * 1000
		             ? INT64_MIN
		             : now_ms - max_age_s * 1000;
		deleted =
		    kept_write(s,
		               "DELETE FROM events WHERE id IN (SELECT id "
		               "FROM events WHERE time_ms < ?1 ORDER BY "
		               "time_ms LIMIT ?2)",
		               cutoff, left, what, err, errlen);
		if (deleted == -1)
			goto fail;
		left -= deleted;
	}
	if (max_rows > 0 && left > 0) {
		if (kept_int(s, "SELECT min(id) FROM events", 0, 0, &lo, what,
		             err, errlen) == -1 ||
		    kept_int(s, "SELECT max(id) FROM events", 0, 0, &hi, what,
		             err, errlen) == -1)
			goto fail;
		if (hi - lo + 1 > max_rows) {
			if (kept_int(s, "SELECT count(*) FROM events", 0, 0,
			             &count, what, err, errlen) == -1)
				goto fail;
			excess = count - max_rows;
			if (excess > left)
				excess = left;
			if (excess > 0) {
				count = kept_write(
				    s,
				    "DELETE FROM events WHERE id IN "
				    "(SELECT id FROM events ORDER BY "
				    "id LIMIT ?1)",
				    excess, 0, what, err, errlen);
				if (count == -1)
					goto fail;
				deleted += count;
			}
		}
	}
	if (write_commit(s, what, err, errlen) == -1)
		return -1;
	return deleted;
fail:
	write_abort(s);
	return -1;
}

/* Only rows of an earlier run can be open at start: the whole table is
 * theirs.  A scan (no index on bytes_up), once per start. */
int64_t
events_interrupt_open(struct store *s, char *err, size_t errlen)
{
	const char *what = "closing the events of connections open at the "
	                   "last stop";
	int64_t n;

	if (write_begin(s, what, err, errlen) == -1)
		return -1;
	/* A string constant: store_stmt() keeps the pointer as its key. */
	n = kept_write(s,
	               "UPDATE events SET flags = flags | ?1 WHERE kind = "
	               "'decision' AND verdict = 'allow' AND proto = 'tcp' "
	               "AND bytes_up = -1 AND flags & ?1 = 0",
	               EVENT_F_INTERRUPTED, 0, what, err, errlen);
	if (n == -1 || write_commit(s, what, err, errlen) == -1) {
		write_abort(s);
		return -1;
	}
	return n;
}

int64_t
events_max_id(struct store *s, char *err, size_t errlen)
{
	int64_t id;

	if (kept_int(s, "SELECT max(id) FROM events", 0, 0, &id,
	             "reading the last event id", err, errlen) == -1)
		return -1;
	return id;
}

/* --- reads ---------------------------------------------------------------- */

/* Read a row of SELECT EVENT_COLUMNS into *ev; -1 + err naming the event
 * and column when a value is not one the store writes. */
static int
row_event(struct store *s, sqlite3_stmt *st, struct event_row *ev, char *err,
          size_t errlen)
{
	const char *bad = NULL;
	int64_t uid;
	int k;

	memset(ev, 0, sizeof(*ev));
	ev->id = sqlite3_column_int64(st, 0);
	if ((k = store_col_word(st, 1, kind_words, NWORDS(kind_words))) < 0)
		bad = "kind";
	ev->kind = k;
	ev->conn_id = sqlite3_column_int64(st, 2);
	ev->time_ms = sqlite3_column_int64(st, 3);
	ev->pid = (pid_t)sqlite3_column_int64(st, 4);
	if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
		uid = sqlite3_column_int64(st, 5);
		if (uid < 0 || uid >= (int64_t)UINT32_MAX)
			bad = "uid";
		ev->has_uid = true;
		ev->uid = (uid_t)uid;
	}
	if (store_col_text(st, 6, ev->user, sizeof(ev->user)) == -1)
		bad = "user";
	if (store_col_text(st, 7, ev->exe, sizeof(ev->exe)) == -1)
		bad = "exe";
	if (store_col_text(st, 8, ev->cmdline, sizeof(ev->cmdline)) == -1)
		bad = "cmdline";
	if (store_col_text(st, 9, ev->proto, sizeof(ev->proto)) == -1)
		bad = "proto";
	if (store_col_text(st, 10, ev->src_ip, sizeof(ev->src_ip)) == -1)
		bad = "src_ip";
	ev->src_port = (uint16_t)sqlite3_column_int(st, 11);
	if (store_col_text(st, 12, ev->dst_ip, sizeof(ev->dst_ip)) == -1)
		bad = "dst_ip";
	ev->dst_port = (uint16_t)sqlite3_column_int(st, 13);
	if (store_col_text(st, 14, ev->name, sizeof(ev->name)) == -1)
		bad = "name";
	if (store_col_text(st, 15, ev->name_source, sizeof(ev->name_source)) ==
	    -1)
		bad = "name_source";
	if (ev->kind == EVENT_DECISION) {
		if ((k = store_col_word(st, 16, store_action_words,
		                        NWORDS(store_action_words))) < 0)
			bad = "verdict";
		ev->verdict = k;
		if ((k = store_col_word(st, 17, decider_words,
		                        NWORDS(decider_words))) < 0)
			bad = "decider";
		ev->decider = k;
	}
	ev->rule_id = sqlite3_column_int64(st, 18);
	if (store_col_text(st, 19, ev->upstream, sizeof(ev->upstream)) == -1)
		bad = "upstream";
	ev->flags = (unsigned)sqlite3_column_int64(st, 20);
	ev->bytes_up = sqlite3_column_int64(st, 21);
	ev->bytes_down = sqlite3_column_int64(st, 22);
	ev->duration_ms = sqlite3_column_int64(st, 23);
	ev->n_lost = sqlite3_column_int64(st, 24);
	ev->lost_first_ms = sqlite3_column_int64(st, 25);
	ev->lost_last_ms = sqlite3_column_int64(st, 26);
	if (store_col_text(st, 27, ev->sha256, sizeof(ev->sha256)) == -1)
		bad = "sha256";
	if (bad != NULL) {
		store_fail(err, errlen, "%s: event %lld has a bad %s", s->path,
		           (long long)ev->id, bad);
		return -1;
	}
	return 0;
}

/* SQL text built in a fixed buffer; too long is a bug, reported. */
struct sqlbuf {
	char s[2048];
	size_t len;
	bool overflow;
};

static void sql_add(struct sqlbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sql_add(struct sqlbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->s) - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

/* A filter's values, checked and in the form the table holds them. */
struct query {
	const struct events_filter *f;
	char app[EVENT_EXE_MAX];
	const char *app_base;
	char lo[RNAME_MAX + 1], hi[RNAME_MAX + 1]; /* rname range */
	bool per_row; /* conditions a gap row cannot meet */
};

static int
query_check(struct store *s, const struct events_filter *f, struct query *q,
            char *err, size_t errlen)
{
	char name[NAME_MAX_LEN + 2];
	size_t n;

	memset(q, 0, sizeof(*q));
	q->f = f;
	if (f->app != NULL) {
		n = strnlen(f->app, sizeof(q->app));
		if (n == 0 || n == sizeof(q->app)) {
			store_fail(err, errlen, "app is empty or too long");
			return -1;
		}
		memcpy(q->app, f->app, n + 1);
		q->app_base = exe_base(q->app);
		if (q->app_base[0] == '\0') {
			store_fail(err, errlen, "app %s ends with a slash",
			           f->app);
			return -1;
		}
	}
	if (f->domain != NULL) {
		n = strnlen(f->domain, sizeof(name));
		if (n == sizeof(name)) {
			store_fail(err, errlen, "domain is too long");
			return -1;
		}
		memcpy(name, f->domain, n + 1);
		if (name_normalise(name) == -1) {
			store_fail(err, errlen, "domain %s is not a host name",
			           f->domain);
			return -1;
		}
		/* Every rname that starts with "test.a.": from "test.a."
		 * to "test.a/" ('/' follows '.'). */
		name_reverse(name, q->lo);
		memcpy(q->hi, q->lo, sizeof(q->hi));
		q->hi[strlen(q->hi) - 1] = '.' + 1;
	}
	if (f->has_verdict &&
	    (unsigned)f->verdict >= NWORDS(store_action_words)) {
		store_fail(err, errlen, "unknown verdict %d", (int)f->verdict);
		return -1;
	}
	if (f->has_uid && f->uid == (uid_t)-1) {
		store_fail(err, errlen, "bad uid");
		return -1;
	}
	if (f->proto != NULL && !event_proto_ok(f->proto)) {
		store_fail(err, errlen, "unknown proto %s", f->proto);
		return -1;
	}
	if (f->limit > INT64_MAX || f->after_id < 0) {
		store_fail(err, errlen, "bad limit or id");
		return -1;
	}
	q->per_row = f->app != NULL || f->domain != NULL || f->has_verdict ||
	             f->pid != 0 || f->has_uid || f->proto != NULL;
	return 0;
}

/*
 * The parameters, by number: ?1 app (exe or base), ?2 app's base, ?3 and
 * ?4 the rname range, ?5 verdict, ?6 pid, ?7 uid, ?8 since, ?9 until,
 * ?10 after_id, ?11 limit, ?12 proto.  Unused numbers are left unbound.
 */
/*
 * The conditions on a row's own fields.  A follower (after_id) asks for
 * the few rows after the last it saw: the id range says where they are,
 * and a "+" in front of a column keeps SQLite from walking the time
 * index instead (all of since_ms.., each poll).
 */
static void
query_where_row(struct sqlbuf *b, const struct query *q, const char *p)
{
	const struct events_filter *f = q->f;

	if (f->app != NULL && strchr(f->app, '/') != NULL)
		sql_add(b, " AND %sexe_base = ?2 AND exe = ?1", p);
	else if (f->app != NULL)
		sql_add(b, " AND %sexe_base = ?1", p);
	if (f->domain != NULL)
		sql_add(b, " AND %srname >= ?3 AND %srname < ?4", p, p);
	if (f->has_verdict)
		sql_add(b, " AND verdict = ?5");
	if (f->pid != 0)
		sql_add(b, " AND pid = ?6");
	if (f->has_uid)
		sql_add(b, " AND uid = ?7");
	if (f->proto != NULL)
		sql_add(b, " AND proto = ?12");
}

static void
query_where_time(struct sqlbuf *b, const struct query *q, const char *p)
{
	if (q->f->since_ms != 0)
		sql_add(b, " AND %stime_ms >= ?8", p);
	if (q->f->until_ms != 0)
		sql_add(b, " AND %stime_ms < ?9", p);
	if (q->f->after_id > 0)
		sql_add(b, " AND id > ?10");
}

/*
 * SELECT ... WHERE: the rows that meet the filter, then (unless no_gaps)
 * the gap rows of the same time, by the gap index.  Decisions and gaps
 * differ in kind, so UNION ALL never repeats a row.
 */
static void
query_select(struct sqlbuf *b, const struct query *q)
{
	const char *p = q->f->after_id > 0 ? "+" : "";

	sql_add(b, "SELECT " EVENT_COLUMNS " FROM events WHERE 1");
	query_where_row(b, q, p);
	query_where_time(b, q, p);
	if (q->f->no_gaps && !q->per_row)
		sql_add(b, " AND %skind = 'decision'", p);
	if (q->per_row && !q->f->no_gaps) {
		sql_add(b,
		        " UNION ALL SELECT " EVENT_COLUMNS
		        " FROM events WHERE %skind = 'gap'",
		        p);
		query_where_time(b, q, p);
	}
}

static void
query_sql(struct sqlbuf *b, const struct query *q)
{
	if (q->f->after_id > 0) {
		query_select(b, q);
		sql_add(b, " ORDER BY id");
		if (q->f->limit > 0)
			sql_add(b, " LIMIT ?11");
	} else if (q->f->limit > 0) {
		/* The newest limit rows, handed out oldest first. */
		sql_add(b, "SELECT * FROM (");
		query_select(b, q);
		sql_add(b, " ORDER BY time_ms DESC, id DESC LIMIT ?11) "
		           "ORDER BY time_ms, id");
	} else {
		query_select(b, q);
		sql_add(b, " ORDER BY time_ms, id");
	}
}

static int
query_bind(sqlite3_stmt *st, const struct query *q)
{
	const struct events_filter *f = q->f;
	int rc = 0, n = sqlite3_bind_parameter_count(st);

	/* Bind what the statement numbers; the rest stays unbound. */
	if (f->app != NULL && n >= 1)
		rc |= bind_str(st, 1, q->app);
	if (f->app != NULL && n >= 2)
		rc |= bind_str(st, 2, q->app_base);
	if (f->domain != NULL && n >= 4) {
		rc |= bind_str(st, 3, q->lo);
		rc |= bind_str(st, 4, q->hi);
	}
	if (f->has_verdict && n >= 5)
		rc |= bind_str(st, 5, store_action_words[f->verdict]);
	if (n >= 6)
		rc |= sqlite3_bind_int64(st, 6, f->pid);
	if (n >= 7)
		rc |= sqlite3_bind_int64(st, 7, f->uid);
	if (n >= 8)
		rc |= sqlite3_bind_int64(st, 8, f->since_ms);
	if (n >= 9)
		rc |= sqlite3_bind_int64(st, 9, f->until_ms);
	if (n >= 10)
		rc |= sqlite3_bind_int64(st, 10, f->after_id);
	if (n >= 11)
		rc |= sqlite3_bind_int64(st, 11, (int64_t)f->limit);
	if (f->proto != NULL && n >= 12)
		rc |= bind_str(st, 12, f->proto);
	return rc == SQLITE_OK ? 0 : -1;
}

int
events_query(struct store *s, const struct events_filter *f,
             int (*fn)(const struct event_row *row, void *arg), void *arg,
             char *err, size_t errlen)
{
	const char *what = "reading events";
	struct sqlbuf b = {.len = 0};
	struct event_row *row = NULL;
	sqlite3_stmt *st = NULL;
	struct query *q;
	int rc, ret = -1;

	if ((q = malloc(sizeof(*q))) == NULL ||
	    (row = malloc(sizeof(*row))) == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		goto done;
	}
	if (query_check(s, f, q, err, errlen) == -1)
		goto done;
	query_sql(&b, q);
	if (b.overflow) {
		store_fail(err, errlen, "%s: %s: query too long", s->path,
		           what);
		goto done;
	}
	if (store_prepare(s, b.s, &st, what, err, errlen) == -1)
		goto done;
	if (query_bind(st, q) == -1) {
		store_fail_db(s, err, errlen, what);
		goto done;
	}
	/* One statement is one read transaction. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (row_event(s, st, row, err, errlen) == -1)
			goto done;
		if ((rc = fn(row, arg)) != 0) {
			ret = rc;
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(st);
	free(row);
	free(q);
	return ret;
}

/* --- stats ---------------------------------------------------------------- */

#define STATS_RANGE "time_ms >= ?1 AND time_ms < ?2"

/* Fill top[0..n_top) from "SELECT key, count, denied ... LIMIT ?3". */
static int
stats_top(struct store *s, const char *sql, const struct events_stats *st,
          size_t n_top, struct events_top **top, size_t *n, char *err,
          size_t errlen)
{
	const char *what = "counting events";
	sqlite3_stmt *q;
	struct events_top *t;
	int rc;

	*n = 0;
	if (n_top == 0)
		return 0;
	if ((*top = calloc(n_top, sizeof(**top))) == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		return -1;
	}
	if (store_prepare(s, sql, &q, what, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(q, 1, st->since_ms);
	sqlite3_bind_int64(q, 2, st->until_ms);
	sqlite3_bind_int64(q, 3, (int64_t)n_top);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < n_top) {
		t = &(*top)[*n];
		if (store_col_text(q, 0, t->key, sizeof(t->key)) == -1) {
			store_fail(err, errlen,
			           "%s: %s: a name or exe is too long", s->path,
			           what);
			sqlite3_finalize(q);
			return -1;
		}
		t->count = sqlite3_column_int64(q, 1);
		t->denied = sqlite3_column_int64(q, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	if (*n == 0) {
		free(*top);
		*top = NULL;
	}
	return 0;
}

/* The decisions per hour, and the totals as their sum. */
static int
stats_hours(struct store *s, struct events_stats *st, char *err, size_t errlen)
{
	const char *what = "counting events per hour";
	sqlite3_stmt *q;
	int64_t h;
	int rc;

	if (store_prepare(s,
	                  "SELECT (time_ms - ?1) / 3600000, count(*), "
	                  "sum(verdict <> 'allow'), sum(name = '') FROM events "
	                  "WHERE " STATS_RANGE " AND kind = 'decision' "
	                  "GROUP BY 1",
	                  &q, what, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(q, 1, st->since_ms);
	sqlite3_bind_int64(q, 2, st->until_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		h = sqlite3_column_int64(q, 0);
		if (h < 0 || (uint64_t)h >= st->n_hours)
			continue; /* cannot be: the range bounds it */
		st->hours[h] = sqlite3_column_int64(q, 1);
		st->total += st->hours[h];
		st->denied += sqlite3_column_int64(q, 2);
		st->unnamed += sqlite3_column_int64(q, 3);
	}
	if (rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	return 0;
}

static int
stats_gaps(struct store *s, struct events_stats *st, char *err, size_t errlen)
{
	const char *what = "counting gaps";
	sqlite3_stmt *q;

	if (store_prepare(s,
	                  "SELECT count(*), coalesce(sum(n_lost), 0) FROM "
	                  "events WHERE kind = 'gap' AND " STATS_RANGE,
	                  &q, what, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(q, 1, st->since_ms);
	sqlite3_bind_int64(q, 2, st->until_ms);
	if (sqlite3_step(q) != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(q);
		return -1;
	}
	st->gaps = sqlite3_column_int64(q, 0);
	st->lost = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	return 0;
}

int
events_stats(struct store *s, int64_t since_ms, int64_t until_ms, size_t n_top,
             struct events_stats *st, char *err, size_t errlen)
{
	const char *what = "counting events";

	memset(st, 0, sizeof(*st));
	st->since_ms = since_ms;
	st->until_ms = until_ms;
	if (until_ms <= since_ms || since_ms < 0 ||
	    until_ms - since_ms > (int64_t)EVENTS_HOURS_MAX * EVENTS_HOUR_MS) {
		store_fail(err, errlen,
		           "%s: %s: the span must be 1 ms to %d hours", s->path,
		           what, EVENTS_HOURS_MAX);
		return -1;
	}
	if (n_top > EVENTS_TOP_MAX) {
		store_fail(err, errlen,
		           "%s: %s: at most %d top apps or domains", s->path,
		           what, EVENTS_TOP_MAX);
		return -1;
	}
	st->n_hours = (size_t)((until_ms - since_ms + EVENTS_HOUR_MS - 1) /
	                       EVENTS_HOUR_MS);
	if ((st->hours = calloc(st->n_hours, sizeof(*st->hours))) == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		return -1;
	}
	/* One read transaction: every number from the same moment. */
	if (store_txn_read(s, what, err, errlen) == -1)
		return -1;
	if (stats_hours(s, st, err, errlen) == -1 ||
	    stats_gaps(s, st, err, errlen) == -1 ||
	    stats_top(s,
	              "SELECT exe, count(*) AS n, sum(verdict <> 'allow') "
	              "FROM events WHERE " STATS_RANGE " AND kind = 'decision' "
	              "GROUP BY exe ORDER BY n DESC, exe LIMIT ?3",
	              st, n_top, &st->apps, &st->n_apps, err, errlen) == -1 ||
	    stats_top(s,
	              "SELECT name, count(*) AS n, sum(verdict <> 'allow') "
	              "FROM events WHERE " STATS_RANGE " AND kind = 'decision' "
	              "AND name <> '' GROUP BY name ORDER BY n DESC, name "
	              "LIMIT ?3",
	              st, n_top, &st->domains, &st->n_domains, err,
	              errlen) == -1) {
		store_txn_abort(s);
		return -1;
	}
	store_txn_abort(s); /* a read: nothing to commit */
	return 0;
}

void
events_stats_free(struct events_stats *st)
{
	free(st->apps);
	free(st->domains);
	free(st->hours);
	st->apps = st->domains = NULL;
	st->hours = NULL;
	st->n_apps = st->n_domains = st->n_hours = 0;
}
