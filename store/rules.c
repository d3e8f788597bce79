/*
 * rules.c - the rules and their lists in the database: adding, editing,
 * deleting, reading, loading for the matcher, importing, hit counts; see
 * store.h for the contract and schema.c for the tables.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/store.h"

/* How enums are spelled in the database: stable, whatever the UI says. */
static const char *const dest_words[] = {
    [DEST_ANY] = "any", [DEST_NAME] = "name", [DEST_WILDCARD] = "wildcard",
    [DEST_IP] = "ip",   [DEST_CIDR] = "cidr", [DEST_LIST] = "list",
};
static const char *const proto_words[] = {
    [RPROTO_ANY] = "any",
    [RPROTO_TCP] = "tcp",
    [RPROTO_UDP] = "udp",
    [RPROTO_DNS] = "dns",
};
static const char *const duration_words[] = {
    [DUR_ONCE] = "once",
    [DUR_RESTART] = "restart",
    [DUR_UNTIL] = "until",
    [DUR_FOREVER] = "forever",
};

#define RULE_COLUMNS                                                           \
	"id, app, uid, dest_kind, dest, addr, prefix, port_lo, port_hi, "      \
	"proto, action, duration, expires, priority, enabled, created, "       \
	"updated, hits, last_hit, note, via, digest, script, cmdline"

/* Parameters ?1..?19 and ?21..?24 are bind_rule()'s; ?20 is the id where
 * one is needed. */
#define RULE_INSERT                                                            \
	"INSERT INTO rules (app, uid, dest_kind, dest, addr, prefix, "         \
	"port_lo, port_hi, proto, action, duration, expires, priority, "       \
	"enabled, created, updated, hits, last_hit, note, via, digest, "       \
	"script, cmdline) "                                                    \
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "     \
	"?14, "                                                                \
	"?15, ?16, ?17, ?18, ?19, ?21, ?22, ?23, ?24)"
#define RULE_UPDATE                                                            \
	"UPDATE rules SET app = ?1, uid = ?2, dest_kind = ?3, dest = ?4, "     \
	"addr = ?5, prefix = ?6, port_lo = ?7, port_hi = ?8, proto = ?9, "     \
	"action = ?10, duration = ?11, expires = ?12, priority = ?13, "        \
	"enabled = ?14, updated = ?16, note = ?19, via = ?21, digest = ?22, "  \
	"script = ?23, cmdline = ?24 "                                         \
	"WHERE id = ?20"

/* --- rows ----------------------------------------------------------------- */

/*
 * What the store refuses to write, so that every row it holds reads back:
 * enums in range, strings that fit and are terminated, an address for
 * exactly the ip and cidr kinds.  The meaning of names is rule.c's.
 */
static int
check_rule(const struct rule *r, const char *what, char *err, size_t errlen)
{
	const char *bad = NULL;
	size_t alen;

	alen = strnlen(r->app, sizeof(r->app));
	if (alen == 0 || alen == sizeof(r->app))
		bad = "app is empty or too long";
	else if (strnlen(r->dest, sizeof(r->dest)) == sizeof(r->dest))
		bad = "dest is too long";
	else if (strnlen(r->note, sizeof(r->note)) == sizeof(r->note))
		bad = "note is too long";
	else if (strnlen(r->via, sizeof(r->via)) == sizeof(r->via))
		bad = "via is too long";
	else if (r->via[0] != '\0' && r->action != ACTION_ALLOW)
		bad = "via on a rule that does not allow";
	else if (r->digest[0] != '\0' &&
	         strnlen(r->digest, sizeof(r->digest)) != RULE_DIGEST_HEX)
		bad = "digest is not a SHA-256";
	else if (strnlen(r->script, sizeof(r->script)) == sizeof(r->script) ||
	         strnlen(r->cmdline, sizeof(r->cmdline)) == sizeof(r->cmdline))
		bad = "script or cmdline is too long";
	else if ((r->script[0] != '\0' || r->cmdline[0] != '\0') &&
	         strcmp(r->app, "*") == 0)
		bad = "script or cmdline on a rule for any app";
	else if ((unsigned)r->dest_kind >= NWORDS(dest_words))
		bad = "unknown dest kind";
	else if ((unsigned)r->proto >= NWORDS(proto_words))
		bad = "unknown protocol";
	else if ((unsigned)r->action >= NWORDS(store_action_words))
		bad = "unknown action";
	else if ((unsigned)r->duration >= NWORDS(duration_words))
		bad = "unknown duration";
	else if (r->port_lo > r->port_hi ||
	         (r->port_lo == 0) != (r->port_hi == 0))
		bad = "bad port range";
	else if (r->has_uid && r->uid == (uid_t)-1)
		bad = "bad uid";
	else if (r->dest_kind == DEST_ANY && r->dest[0] != '\0')
		bad = "dest must be empty for any destination";
	else if (r->dest_kind != DEST_ANY && r->dest[0] == '\0')
		bad = "dest is empty";
	else if (r->dest_kind == DEST_LIST &&
	         strlen(r->dest) >= RULE_LIST_NAME_MAX)
		bad = "list name is too long";
	else if ((r->dest_kind == DEST_IP || r->dest_kind == DEST_CIDR) &&
	         !(r->family == AF_INET && r->prefix <= 32) &&
	         !(r->family == AF_INET6 && r->prefix <= 128))
		bad = "bad address family or prefix";
	if (bad != NULL) {
		store_fail(err, errlen, "%s: %s", what, bad);
		return -1;
	}
	return 0;
}

static int64_t
clamp_u64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Bind a rule to ?1..?19 and ?21..?24 of RULE_INSERT / RULE_UPDATE. */
static int
bind_rule(sqlite3_stmt *st, const struct rule *r)
{
	int rc = 0;
	bool ip = r->dest_kind == DEST_IP || r->dest_kind == DEST_CIDR;

	rc |= sqlite3_bind_text(st, 1, r->app, -1, SQLITE_STATIC);
	if (r->has_uid)
		rc |= sqlite3_bind_int64(st, 2, r->uid);
	else
		rc |= sqlite3_bind_null(st, 2);
	rc |= sqlite3_bind_text(st, 3, dest_words[r->dest_kind], -1,
	                        SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 4, r->dest, -1, SQLITE_STATIC);
	if (ip)
		rc |= sqlite3_bind_blob(st, 5, r->addr,
		                        r->family == AF_INET ? 4 : 16,
		                        SQLITE_STATIC);
	else
		rc |= sqlite3_bind_null(st, 5);
	rc |= sqlite3_bind_int(st, 6, ip ? (int)r->prefix : 0);
	rc |= sqlite3_bind_int(st, 7, r->port_lo);
	rc |= sqlite3_bind_int(st, 8, r->port_hi);
	rc |=
	    sqlite3_bind_text(st, 9, proto_words[r->proto], -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 10, store_action_words[r->action], -1,
	                        SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 11, duration_words[r->duration], -1,
	                        SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 12,
	                         r->duration == DUR_UNTIL ? r->expires : 0);
	rc |= sqlite3_bind_int(st, 13, r->priority);
	rc |= sqlite3_bind_int(st, 14, r->enabled ? 1 : 0);
	rc |= sqlite3_bind_int64(st, 15, r->created);
	rc |= sqlite3_bind_int64(st, 16, r->updated);
	rc |= sqlite3_bind_int64(st, 17, clamp_u64(r->hits));
	rc |= sqlite3_bind_int64(st, 18, r->last_hit);
	rc |= sqlite3_bind_text(st, 19, r->note, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 21, r->via, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 22, r->digest, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 23, r->script, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 24, r->cmdline, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Read a row of SELECT RULE_COLUMNS into *r; -1 + err naming the rule
 * and column when a value is not one the store writes. */
static int
row_rule(struct store *s, sqlite3_stmt *st, struct rule *r, char *err,
         size_t errlen)
{
	const char *bad = NULL;
	const void *addr;
	int64_t uid, hits;
	int k, n;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	if (store_col_text(st, 1, r->app, sizeof(r->app)) == -1 ||
	    r->app[0] == '\0')
		bad = "app";
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		uid = sqlite3_column_int64(st, 2);
		if (uid < 0 || uid >= (int64_t)UINT32_MAX)
			bad = "uid";
		r->has_uid = true;
		r->uid = (uid_t)uid;
	}
	if ((k = store_col_word(st, 3, dest_words, NWORDS(dest_words))) < 0)
		bad = "dest_kind";
	r->dest_kind = k;
	if (store_col_text(st, 4, r->dest, sizeof(r->dest)) == -1)
		bad = "dest";
	if (r->dest_kind == DEST_IP || r->dest_kind == DEST_CIDR) {
		addr = sqlite3_column_blob(st, 5);
		n = sqlite3_column_bytes(st, 5);
		r->prefix = (unsigned)sqlite3_column_int(st, 6);
		if (addr == NULL || (n != 4 && n != 16) ||
		    r->prefix > (unsigned)n * 8)
			bad = "addr";
		else {
			r->family = n == 4 ? AF_INET : AF_INET6;
			memcpy(r->addr, addr, (size_t)n);
		}
	}
	r->port_lo = (uint16_t)sqlite3_column_int(st, 7);
	r->port_hi = (uint16_t)sqlite3_column_int(st, 8);
	if ((k = store_col_word(st, 9, proto_words, NWORDS(proto_words))) < 0)
		bad = "proto";
	r->proto = k;
	if ((k = store_col_word(st, 10, store_action_words,
	                        NWORDS(store_action_words))) < 0)
		bad = "action";
	r->action = k;
	if ((k = store_col_word(st, 11, duration_words,
	                        NWORDS(duration_words))) < 0)
		bad = "duration";
	r->duration = k;
	r->expires = (time_t)sqlite3_column_int64(st, 12);
	r->priority = sqlite3_column_int(st, 13);
	r->enabled = sqlite3_column_int(st, 14) != 0;
	r->created = (time_t)sqlite3_column_int64(st, 15);
	r->updated = (time_t)sqlite3_column_int64(st, 16);
	hits = sqlite3_column_int64(st, 17);
	r->hits = hits < 0 ? 0 : (uint64_t)hits;
	r->last_hit = (time_t)sqlite3_column_int64(st, 18);
	if (store_col_text(st, 19, r->note, sizeof(r->note)) == -1)
		bad = "note";
	if (store_col_text(st, 20, r->via, sizeof(r->via)) == -1)
		bad = "via";
	if (store_col_text(st, 21, r->digest, sizeof(r->digest)) == -1 ||
	    (r->digest[0] != '\0' && strlen(r->digest) != RULE_DIGEST_HEX))
		bad = "digest";
	if (store_col_text(st, 22, r->script, sizeof(r->script)) == -1 ||
	    (r->script[0] != '\0' && r->script[0] != '/'))
		bad = "script";
	if (store_col_text(st, 23, r->cmdline, sizeof(r->cmdline)) == -1)
		bad = "cmdline";
	if (bad != NULL) {
		store_fail(err, errlen, "%s: rule %lld has a bad %s", s->path,
		           (long long)r->id, bad);
		return -1;
	}
	return 0;
}

/* Read every row of a prepared SELECT RULE_COLUMNS, at most
 * STORE_RULES_MAX, into a malloc()ed array. */
static int
read_rules(struct store *s, sqlite3_stmt *st, struct rule **out, size_t *n,
           const char *what, char *err, size_t errlen)
{
	struct rule *rules = NULL, *more;
	size_t cap = 0, used = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (used == cap) {
			if (cap == STORE_RULES_MAX) {
				store_fail(err, errlen,
				           "%s: %s: more than %d rules",
				           s->path, what, STORE_RULES_MAX);
				goto fail;
			}
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > STORE_RULES_MAX)
				cap = STORE_RULES_MAX;
			if ((more = realloc(rules, cap * sizeof(*rules))) ==
			    NULL) {
				store_fail(err, errlen, "%s: %s: %s", s->path,
				           what, strerror(errno));
				goto fail;
			}
			rules = more;
		}
		if (row_rule(s, st, &rules[used], err, errlen) == -1)
			goto fail;
		used++;
	}
	if (rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	if (used == 0) {
		free(rules);
		rules = NULL;
	}
	*out = rules;
	*n = used;
	return 0;
fail:
	free(rules);
	*out = NULL;
	*n = 0;
	return -1;
}

/* --- writes --------------------------------------------------------------- */

/* Inside a write transaction: refuse to grow past STORE_RULES_MAX. */
static int
check_room(struct store *s, size_t adding, const char *what, char *err,
           size_t errlen)
{
	int64_t have;

	if (store_query_int(s, "SELECT count(*) FROM rules", &have, what, err,
	                    errlen) == -1)
		return -1;
	if (adding > STORE_RULES_MAX ||
	    (uint64_t)have + adding > STORE_RULES_MAX) {
		store_fail(err, errlen, "%s: %s: would have more than %d rules",
		           s->path, what, STORE_RULES_MAX);
		return -1;
	}
	return 0;
}

/* qsort() order of names: byte order, the table's. */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Inside a write transaction: store names as rule id's list.  They go in
 * sorted, the table's own order, so that each lands at the end of the
 * b-tree: in the order given, a list larger than the page cache costs a
 * read and a write to the WAL for nearly every name.
 */
static int
insert_names(struct store *s, int64_t id, const char *const *names, size_t n,
             const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char **sorted = NULL;
	size_t i, len;

	if (n > STORE_LIST_NAMES_MAX) {
		store_fail(err, errlen,
		           "%s: %s: more than %d names in one list", s->path,
		           what, STORE_LIST_NAMES_MAX);
		return -1;
	}
	if (n == 0)
		return 0;
	if (names == NULL) {
		store_fail(err, errlen, "%s: %s: no names given", s->path,
		           what);
		return -1;
	}
	for (i = 0; i < n; i++) {
		len =
		    names[i] == NULL ? 0 : strnlen(names[i], NAME_MAX_LEN + 1);
		if (len == 0 || len > NAME_MAX_LEN) {
			store_fail(
			    err, errlen,
			    "%s: %s: name %zu of the list is empty or too "
			    "long",
			    s->path, what, i + 1);
			return -1;
		}
	}
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		return -1;
	}
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), name_cmp);
	if (store_prepare(s,
	                  "INSERT OR IGNORE INTO list_names (rule_id, name) "
	                  "VALUES (?1, ?2)",
	                  &st, what, err, errlen) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, sorted[i], -1, SQLITE_STATIC) !=
		        SQLITE_OK) {
			store_fail_db(s, err, errlen, what);
			goto fail;
		}
		if (store_step_done(s, st, what, err, errlen) == -1)
			goto fail;
	}
	sqlite3_finalize(st);
	free(sorted);
	return 0;
fail:
	sqlite3_finalize(st);
	free(sorted);
	return -1;
}

/* Inside a write transaction: the rule id belongs to this daemon's run,
 * or, added from outside tollgated, to its next (store_start_run()). */
static int
set_run(struct store *s, int64_t id, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s,
	                  "UPDATE rules SET run = CASE WHEN ?2 > 0 THEN ?2 "
	                  "ELSE (SELECT run + 1 FROM daemon_run) END "
	                  "WHERE id = ?1",
	                  &st, what, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, s->run);
	rc = store_step_done(s, st, what, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* Inside a write transaction: insert *r (fields as they are) and its
 * names; sets r->id. */
static int
insert_rule(struct store *s, struct rule *r, const char *const *names,
            size_t n_names, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (check_rule(r, what, err, errlen) == -1)
		return -1;
	if (r->dest_kind != DEST_LIST && (names != NULL || n_names != 0)) {
		store_fail(err, errlen,
		           "%s: names given for a rule without a list", what);
		return -1;
	}
	if (store_prepare(s, RULE_INSERT, &st, what, err, errlen) == -1)
		return -1;
	if (bind_rule(st, r) == -1) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return -1;
	}
	if (store_step_done(s, st, what, err, errlen) == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	r->id = sqlite3_last_insert_rowid(s->db);
	if (set_run(s, r->id, what, err, errlen) == -1)
		return -1;
	if (r->dest_kind == DEST_LIST &&
	    insert_names(s, r->id, names, n_names, what, err, errlen) == -1)
		return -1;
	return 0;
}

int
store_rule_add(struct store *s, struct rule *r, const char *const *names,
               size_t n_names, char *err, size_t errlen)
{
	const char *what = "adding a rule";
	int64_t id_was = r->id;
	time_t created = r->created, updated = r->updated;

	if (store_check_writable(s, what, err, errlen) == -1)
		return -1;
	r->created = r->updated = time(NULL);
	if (store_txn_begin(s, what, err, errlen) == -1)
		goto fail;
	if (check_room(s, 1, what, err, errlen) == -1 ||
	    insert_rule(s, r, names, n_names, what, err, errlen) == -1 ||
	    store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	store_txn_abort(s);
	r->id = id_was;
	r->created = created;
	r->updated = updated;
	return -1;
}

/*
 * Run sql, one statement, in a write transaction of its own, with its
 * parameters ?1..?3 (as many as it has) bound to p1..p3.  Returns how many
 * rows it changed (none: nothing to commit, the transaction is dropped),
 * or -1 + err with nothing changed.
 */
static int
write_one(struct store *s, const char *sql, int64_t p1, int64_t p2, int64_t p3,
          const char *what, char *err, size_t errlen)
{
	const int64_t p[] = {p1, p2, p3};
	sqlite3_stmt *st = NULL;
	int i, n;

	if (store_check_writable(s, what, err, errlen) == -1)
		return -1;
	if (store_txn_begin(s, what, err, errlen) == -1)
		return -1;
	if (store_prepare(s, sql, &st, what, err, errlen) == -1)
		goto fail;
	for (i = 0; i < sqlite3_bind_parameter_count(st) && i < 3; i++)
		sqlite3_bind_int64(st, i + 1, p[i]);
	if (store_step_done(s, st, what, err, errlen) == -1)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if ((n = sqlite3_changes(s->db)) == 0) {
		store_txn_abort(s);
		return 0;
	}
	if (store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	return n;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	return -1;
}

/* write_one() on rule id (?1): STORE_OK, STORE_NOTFOUND or STORE_ERROR. */
static int
write_by_id(struct store *s, const char *sql, int64_t id, int64_t p2,
            int64_t p3, const char *what, char *err, size_t errlen)
{
	switch (write_one(s, sql, id, p2, p3, what, err, errlen)) {
	case -1:
		return STORE_ERROR;
	case 0:
		store_fail(err, errlen, "no rule %lld", (long long)id);
		return STORE_NOTFOUND;
	default:
		return STORE_OK;
	}
}

int
store_rule_delete(struct store *s, int64_t id, char *err, size_t errlen)
{
	return write_by_id(s, "DELETE FROM rules WHERE id = ?1", id, 0, 0,
	                   "deleting a rule", err, errlen);
}

int
store_rule_enable(struct store *s, int64_t id, bool enabled, char *err,
                  size_t errlen)
{
	return write_by_id(s,
	                   "UPDATE rules SET enabled = ?2, updated = ?3 "
	                   "WHERE id = ?1",
	                   id, enabled ? 1 : 0, (int64_t)time(NULL),
	                   enabled ? "enabling a rule" : "disabling a rule",
	                   err, errlen);
}

/*
 * One statement: the check that the rule is still a pinned allow rule
 * and the write are the same, so no other writer can change the rule in
 * between (it was offered to be pinned anew as such a rule).
 */
int
store_rule_pin(struct store *s, int64_t id, const char *app, const char *digest,
               char *err, size_t errlen)
{
	const char *what = "pinning a rule anew";
	sqlite3_stmt *st = NULL;
	int rc = STORE_ERROR;

	if (store_check_writable(s, what, err, errlen) == -1)
		return STORE_ERROR;
	if (strlen(digest) != RULE_DIGEST_HEX) {
		store_fail(err, errlen, "%s: digest is not a SHA-256", what);
		return STORE_ERROR;
	}
	if (store_prepare(s,
	                  "UPDATE rules SET digest = ?2, updated = ?3 "
	                  "WHERE id = ?1 AND action = 'allow' AND digest != '' "
	                  "AND app = ?4",
	                  &st, what, err, errlen) == -1)
		return STORE_ERROR;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)time(NULL)) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, app, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		goto done;
	}
	if (store_step_done(s, st, what, err, errlen) == -1)
		goto done;
	if (sqlite3_changes(s->db) == 0) {
		store_fail(err, errlen,
		           "rule %lld is gone or no longer a pinned "
		           "allow rule of %s",
		           (long long)id, app);
		rc = STORE_NOTFOUND;
		goto done;
	}
	rc = STORE_OK;
done:
	sqlite3_finalize(st);
	return rc;
}

int
store_rule_edit(struct store *s, struct rule *r, const char *const *names,
                size_t n_names, char *err, size_t errlen)
{
	const char *what = "editing a rule";
	struct rule old, nr;
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_check_writable(s, what, err, errlen) == -1 ||
	    check_rule(r, what, err, errlen) == -1)
		return STORE_ERROR;
	if (r->dest_kind != DEST_LIST && (names != NULL || n_names != 0)) {
		store_fail(err, errlen,
		           "%s: names given for a rule without a list", what);
		return STORE_ERROR;
	}
	if (store_txn_begin(s, what, err, errlen) == -1)
		return STORE_ERROR;
	rc = store_rule_get(s, r->id, &old, err, errlen);
	if (rc != STORE_OK) {
		store_txn_abort(s);
		return rc;
	}
	nr = *r;
	nr.updated = time(NULL);
	if (store_prepare(s, RULE_UPDATE, &st, what, err, errlen) == -1)
		goto fail;
	if (bind_rule(st, &nr) == -1 ||
	    sqlite3_bind_int64(st, 20, r->id) != SQLITE_OK) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	if (store_step_done(s, st, what, err, errlen) == -1)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (set_run(s, r->id, what, err, errlen) == -1)
		goto fail;
	/* The list: replaced, kept, or dropped with the list kind. */
	if (r->dest_kind != DEST_LIST || names != NULL) {
		if (store_prepare(s,
		                  "DELETE FROM list_names WHERE rule_id = ?1",
		                  &st, what, err, errlen) == -1)
			goto fail;
		sqlite3_bind_int64(st, 1, r->id);
		if (store_step_done(s, st, what, err, errlen) == -1)
			goto fail;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (r->dest_kind == DEST_LIST && names != NULL &&
	    insert_names(s, r->id, names, n_names, what, err, errlen) == -1)
		goto fail;
	if (store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	r->updated = nr.updated;
	r->created = old.created;
	r->hits = old.hits;
	r->last_hit = old.last_hit;
	return STORE_OK;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	return STORE_ERROR;
}

/*
 * Inside a write transaction: delete every stored rule that uses a list
 * one of set's list rules names, so that a list imported again replaces
 * the one stored under its name instead of standing beside it.
 */
static int
drop_lists_of(struct store *s, const struct rules_set *set, char *err,
              size_t errlen)
{
	const char *what = "importing rules: replacing a list of that name";
	sqlite3_stmt *st;
	size_t i, j;

	if (store_prepare(s,
	                  "DELETE FROM rules WHERE dest_kind = 'list' "
	                  "AND dest = ?1",
	                  &st, what, err, errlen) == -1)
		return -1;
	for (i = 0; i < set->n_rules; i++) {
		if (set->rules[i].dest_kind != DEST_LIST)
			continue;
		for (j = 0; j < i; j++)
			if (set->rules[j].dest_kind == DEST_LIST &&
			    strcmp(set->rules[j].dest, set->rules[i].dest) == 0)
				break;
		if (j < i)
			continue;
		if (sqlite3_bind_text(st, 1, set->rules[i].dest, -1,
		                      SQLITE_STATIC) != SQLITE_OK) {
			store_fail_db(s, err, errlen, what);
			goto fail;
		}
		if (store_step_done(s, st, what, err, errlen) == -1)
			goto fail;
	}
	sqlite3_finalize(st);
	return 0;
fail:
	sqlite3_finalize(st);
	return -1;
}

int
store_import(struct store *s, struct rules_set *set, bool replace, char *err,
             size_t errlen)
{
	const struct rules_set_list *l;
	char what[64];
	time_t now = time(NULL);
	size_t i;
	struct rule r;

	if (store_check_writable(s, "importing rules", err, errlen) == -1)
		return -1;
	if (store_txn_begin(s, "importing rules", err, errlen) == -1)
		return -1;
	if (replace && store_exec(s, "DELETE FROM rules",
	                          "importing rules: clearing the rules", err,
	                          errlen) == -1)
		goto fail;
	if (!replace && drop_lists_of(s, set, err, errlen) == -1)
		goto fail;
	if (check_room(s, set->n_rules, "importing rules", err, errlen) == -1)
		goto fail;
	for (i = 0; i < set->n_rules; i++) {
		snprintf(what, sizeof(what), "importing rule %zu", i + 1);
		r = set->rules[i];
		if (r.created == 0)
			r.created = now;
		if (r.updated == 0)
			r.updated = now;
		l = set->lists != NULL && r.dest_kind == DEST_LIST
		        ? &set->lists[i]
		        : NULL;
		if (insert_rule(s, &r, l != NULL ? l->names : NULL,
		                l != NULL && l->names != NULL ? l->n : 0, what,
		                err, errlen) == -1)
			goto fail;
		set->rules[i].id = r.id;
	}
	if (store_txn_commit(s, "importing rules", err, errlen) == -1)
		goto fail;
	return 0;
fail:
	store_txn_abort(s);
	for (i = 0; i < set->n_rules; i++)
		set->rules[i].id = 0;
	return -1;
}

int
store_add_hits(struct store *s, const struct store_hit *hits, size_t n,
               char *err, size_t errlen)
{
	const char *what = "counting hits";
	sqlite3_stmt *st = NULL;
	size_t i;

	if (store_check_writable(s, what, err, errlen) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (store_txn_begin(s, what, err, errlen) == -1)
		return -1;
	if (store_prepare(s,
	                  "UPDATE rules SET hits = hits + ?2, "
	                  "last_hit = max(last_hit, ?3) WHERE id = ?1",
	                  &st, what, err, errlen) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, hits[i].id);
		sqlite3_bind_int64(st, 2, clamp_u64(hits[i].hits));
		sqlite3_bind_int64(st, 3, hits[i].last_hit);
		if (store_step_done(s, st, what, err, errlen) == -1)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	return -1;
}

int
store_delete_expired(struct store *s, time_t now, char *err, size_t errlen)
{
	return write_one(s,
	                 "DELETE FROM rules WHERE duration = 'until' AND "
	                 "expires <= ?1",
	                 now, 0, 0, "deleting expired rules", err, errlen);
}

int
store_start_run(struct store *s, char *err, size_t errlen)
{
	const char *what = "deleting the once and restart rules of the last "
	                   "run";
	sqlite3_stmt *st = NULL;
	int64_t run;
	int n;

	if (store_check_writable(s, what, err, errlen) == -1 ||
	    store_txn_begin(s, what, err, errlen) == -1)
		return -1;
	if (store_query_int(s, "SELECT run FROM daemon_run", &run, what, err,
	                    errlen) == -1)
		goto fail;
	if (store_prepare(s,
	                  "DELETE FROM rules WHERE duration IN ('once', "
	                  "'restart') AND run <= ?1",
	                  &st, what, err, errlen) == -1)
		goto fail;
	sqlite3_bind_int64(st, 1, run);
	if (store_step_done(s, st, what, err, errlen) == -1)
		goto fail;
	n = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	st = NULL;
	if (store_prepare(s, "UPDATE daemon_run SET run = ?1", &st, what, err,
	                  errlen) == -1)
		goto fail;
	sqlite3_bind_int64(st, 1, run + 1);
	if (store_step_done(s, st, what, err, errlen) == -1)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (store_txn_commit(s, what, err, errlen) == -1)
		goto fail;
	s->run = run + 1;
	return n;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	return -1;
}

/* --- reads ---------------------------------------------------------------- */

int
store_rule_get(struct store *s, int64_t id, struct rule *r, char *err,
               size_t errlen)
{
	const char *what = "reading a rule";
	sqlite3_stmt *st;
	int rc;

	if (store_prepare(s, "SELECT " RULE_COLUMNS " FROM rules WHERE id = ?1",
	                  &st, what, err, errlen) == -1)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		store_fail(err, errlen, "no rule %lld", (long long)id);
		return STORE_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		sqlite3_finalize(st);
		return STORE_ERROR;
	}
	rc = row_rule(s, st, r, err, errlen);
	sqlite3_finalize(st);
	return rc == 0 ? STORE_OK : STORE_ERROR;
}

int
store_rule_list(struct store *s, const char *app, struct rule **rules,
                size_t *n, char *err, size_t errlen)
{
	const char *what = "listing rules";
	sqlite3_stmt *st;
	int rc;

	*rules = NULL;
	*n = 0;
	if (store_prepare(s,
	                  app != NULL ? "SELECT " RULE_COLUMNS " FROM rules "
	                                "WHERE app = ?1 ORDER BY id"
	                              : "SELECT " RULE_COLUMNS " FROM rules "
	                                "ORDER BY id",
	                  &st, what, err, errlen) == -1)
		return -1;
	if (app != NULL)
		sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	rc = read_rules(s, st, rules, n, what, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

int64_t
store_list_count(struct store *s, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (store_prepare(s,
	                  "SELECT count(*) FROM list_names WHERE rule_id = ?1",
	                  &st, "counting a list", err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_fail_db(s, err, errlen, "counting a list");
	sqlite3_finalize(st);
	return n;
}

/* The names of one list, sorted, in one block. */
struct names {
	const char **names;
	size_t n;
	char *buf;
};

static void
names_free(struct names *l)
{
	free(l->names);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Read rule id's names into l, sized first so that one block holds them. */
static int
read_names(struct store *s, int64_t id, struct names *l, char *err,
           size_t errlen)
{
	const char *what = "reading a list";
	sqlite3_stmt *st = NULL;
	int64_t count, bytes;
	size_t used = 0, i = 0;
	const unsigned char *t;
	int len, rc;

	memset(l, 0, sizeof(*l));
	if (store_prepare(s,
	                  "SELECT count(*), coalesce(sum(length(CAST(name AS "
	                  "BLOB))), 0) FROM list_names WHERE rule_id = ?1",
	                  &st, what, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	count = sqlite3_column_int64(st, 0);
	bytes = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (count > STORE_LIST_NAMES_MAX ||
	    bytes > count * (int64_t)NAME_MAX_LEN) {
		store_fail(err, errlen, "%s: list of rule %lld: too many names",
		           s->path, (long long)id);
		goto fail;
	}
	if (count == 0)
		return 0;
	l->names = malloc((size_t)count * sizeof(*l->names));
	l->buf = malloc((size_t)(bytes + count));
	if (l->names == NULL || l->buf == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		goto fail;
	}
	if (store_prepare(s,
	                  "SELECT name FROM list_names WHERE rule_id = ?1 "
	                  "ORDER BY name",
	                  &st, what, err, errlen) == -1)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		len = sqlite3_column_bytes(st, 0);
		if (t == NULL || i == (size_t)count ||
		    used + (size_t)len + 1 > (size_t)(bytes + count)) {
			store_fail(err, errlen,
			           "%s: list of rule %lld changed while read",
			           s->path, (long long)id);
			goto fail;
		}
		memcpy(l->buf + used, t, (size_t)len + 1);
		l->names[i++] = l->buf + used;
		used += (size_t)len + 1;
	}
	if (rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	sqlite3_finalize(st);
	l->n = i;
	return 0;
fail:
	sqlite3_finalize(st);
	names_free(l);
	return -1;
}

int
store_load(struct store *s, struct rules_set *set, char *err, size_t errlen)
{
	const char *what = "loading rules";
	sqlite3_stmt *st = NULL;
	struct rule *r;
	struct names l = {0};
	size_t n = 0;
	int64_t count;
	char rerr[256];
	int rc;

	/* One rule at a time straight into the set: a struct rule is large. */
	if ((r = malloc(sizeof(*r))) == NULL) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what,
		           strerror(errno));
		return -1;
	}
	/* One read transaction: rules and lists from the same moment. */
	if (store_txn_read(s, what, err, errlen) == -1)
		goto fail;
	/* The set's room at once: growing it would move the rules already
	 * in it each time it doubled. */
	if (store_query_int(s, "SELECT count(*) FROM rules", &count, what, err,
	                    errlen) == -1)
		goto fail;
	if (count > STORE_RULES_MAX) {
		store_fail(err, errlen, "%s: %s: more than %d rules", s->path,
		           what, STORE_RULES_MAX);
		goto fail;
	}
	if (rules_set_reserve(set, (size_t)count, rerr, sizeof(rerr)) == -1) {
		store_fail(err, errlen, "%s: %s: %s", s->path, what, rerr);
		goto fail;
	}
	if (store_prepare(s, "SELECT " RULE_COLUMNS " FROM rules ORDER BY id",
	                  &st, what, err, errlen) == -1)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++n > STORE_RULES_MAX) {
			store_fail(err, errlen, "%s: %s: more than %d rules",
			           s->path, what, STORE_RULES_MAX);
			goto fail;
		}
		if (row_rule(s, st, r, err, errlen) == -1)
			goto fail;
		if (r->dest_kind == DEST_LIST &&
		    read_names(s, r->id, &l, err, errlen) == -1)
			goto fail;
		if (rules_set_add(set, r, l.names, l.n, err, errlen) == -1)
			goto fail;
		names_free(&l);
	}
	if (rc != SQLITE_DONE) {
		store_fail_db(s, err, errlen, what);
		goto fail;
	}
	sqlite3_finalize(st);
	store_txn_abort(s); /* a read: nothing to commit */
	free(r);
	return 0;
fail:
	sqlite3_finalize(st);
	store_txn_abort(s);
	names_free(&l);
	free(r);
	rules_set_free(set);
	return -1;
}
