/*
 * schema.c - the tables of the database, one migration step per schema
 * version, and moving a database forward through them; see store.h for
 * the tables and their versions.
 */
#include <stdint.h>
#include <stdio.h>

#include "store/db.h"
#include "store/store.h"

/*
 * The schema, one step per version: step i moves a database from version
 * i to i + 1.  A step, once released, is never edited; a change is a new
 * step at the end.
 */
static const char *const store_migrations[] = {
    /* 1: rules and the names of their lists. */
    "CREATE TABLE rules ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " app TEXT NOT NULL,"
    " uid INTEGER CHECK (uid IS NULL OR uid BETWEEN 0 AND 4294967294),"
    " dest_kind TEXT NOT NULL CHECK (dest_kind IN"
    "  ('any', 'name', 'wildcard', 'ip', 'cidr', 'list')),"
    " dest TEXT NOT NULL,"
    " addr BLOB CHECK (addr IS NULL OR length(addr) IN (4, 16)),"
    " prefix INTEGER NOT NULL DEFAULT 0 CHECK (prefix BETWEEN 0 AND 128),"
    " port_lo INTEGER NOT NULL DEFAULT 0 CHECK (port_lo BETWEEN 0 AND 65535),"
    " port_hi INTEGER NOT NULL DEFAULT 0"
    "  CHECK (port_hi BETWEEN port_lo AND 65535),"
    " proto TEXT NOT NULL CHECK (proto IN ('any', 'tcp', 'udp', 'dns')),"
    " action TEXT NOT NULL CHECK (action IN ('allow', 'deny', 'reject')),"
    " duration TEXT NOT NULL CHECK (duration IN"
    "  ('once', 'restart', 'until', 'forever')),"
    " expires INTEGER NOT NULL DEFAULT 0,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " hits INTEGER NOT NULL DEFAULT 0,"
    " last_hit INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE list_names ("
    " rule_id INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " PRIMARY KEY (rule_id, name)) WITHOUT ROWID;",

    /* 2: a note on each rule; "rules list --app" without a scan. */
    "ALTER TABLE rules ADD COLUMN note TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX rules_app ON rules(app);",

    /*
     * 3: the event log (events.h).  AUTOINCREMENT: ids never go back,
     * even when pruning has emptied the table, so a follower's last id
     * stays valid.  exe_base (the exe's last component) and rname (the
     * name reversed) make "this app" and "this domain and every name
     * under it" plain comparisons.  Every index grows at its end only:
     * one led by exe_base or rname would take a page write per app or
     * name in each batch, and cut the insert rate by a third or a half
     * (events.h); so both follow time_ms, and are checked on the index,
     * the rows read only for what matches.  The gap index holds only gap
     * rows.
     */
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL CHECK (kind IN ('decision', 'gap')),"
    " conn_id INTEGER NOT NULL DEFAULT 0,"
    " time_ms INTEGER NOT NULL,"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " uid INTEGER CHECK (uid IS NULL OR uid BETWEEN 0 AND 4294967294),"
    " user TEXT NOT NULL DEFAULT '',"
    " exe TEXT NOT NULL DEFAULT '',"
    " exe_base TEXT NOT NULL DEFAULT '',"
    " cmdline TEXT NOT NULL DEFAULT '',"
    " proto TEXT NOT NULL DEFAULT '',"
    " src_ip TEXT NOT NULL DEFAULT '',"
    " src_port INTEGER NOT NULL DEFAULT 0,"
    " dst_ip TEXT NOT NULL DEFAULT '',"
    " dst_port INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL DEFAULT '',"
    " rname TEXT NOT NULL DEFAULT '',"
    " name_source TEXT NOT NULL DEFAULT '',"
    " verdict TEXT CHECK (verdict IS NULL OR verdict IN"
    "  ('allow', 'deny', 'reject')),"
    " decider TEXT,"
    " rule_id INTEGER NOT NULL DEFAULT 0,"
    " upstream TEXT NOT NULL DEFAULT '',"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " bytes_up INTEGER NOT NULL DEFAULT -1,"
    " bytes_down INTEGER NOT NULL DEFAULT -1,"
    " duration_ms INTEGER NOT NULL DEFAULT -1,"
    " n_lost INTEGER NOT NULL DEFAULT 0,"
    " lost_first_ms INTEGER NOT NULL DEFAULT 0,"
    " lost_last_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX events_time ON events(time_ms, exe_base, rname);"
    "CREATE INDEX events_conn ON events(conn_id);"
    "CREATE INDEX events_gap ON events(time_ms) WHERE kind = 'gap';",

    /*
     * 4: the route of an allow rule (rules/rule.h: "" when the rule does
     * not say), and the daemon's named random secrets (store_secret()),
     * such as the key of the upstream usernames.
     */
    "ALTER TABLE rules ADD COLUMN via TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE secrets ("
    " name TEXT PRIMARY KEY,"
    " value BLOB NOT NULL) WITHOUT ROWID;",

    /*
     * 5: the fake-IP map (fakeip.h).  The v4 index finds the row a new
     * name's address takes over; the last_used one serves loading,
     * oldest first, and pruning.
     */
    "CREATE TABLE fake_ips ("
    " name TEXT PRIMARY KEY"
    "  CHECK (typeof(name) = 'text' AND length(name) BETWEEN 1 AND 253),"
    " v4 BLOB NOT NULL CHECK (typeof(v4) = 'blob' AND length(v4) = 4),"
    " v6 BLOB CHECK (v6 IS NULL OR"
    "  (typeof(v6) = 'blob' AND length(v6) = 16)),"
    " last_used INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX fake_ips_v4 ON fake_ips(v4);"
    "CREATE INDEX fake_ips_used ON fake_ips(last_used, name);",

    /*
     * 6: the SHA-256 of the file an event's process runs (events.h), and
     * the digest a rule is pinned to (rules/rule.h: "" when not pinned).
     */
    "ALTER TABLE events ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE rules ADD COLUMN digest TEXT NOT NULL DEFAULT '';",

    /*
     * 7: the run a rule belongs to (store_start_run()): tollgated counts
     * its runs in daemon_run, and only the once and until-restart rules
     * of the runs that ended go at its start.  Rules from before have
     * run 0, of a run that ended.
     */
    "ALTER TABLE rules ADD COLUMN run INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE daemon_run ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " run INTEGER NOT NULL);"
    "INSERT INTO daemon_run VALUES (1, 0);",

    /*
     * 8: what an interpreter runs (rules/rule.h, rules/interp.h): the
     * script a rule is for and a glob of the command line; "" when the
     * rule does not say, as every rule from before.
     */
    "ALTER TABLE rules ADD COLUMN script TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE rules ADD COLUMN cmdline TEXT NOT NULL DEFAULT '';",

    /*
     * 9: no index of events by conn_id.  A connection's end finds its
     * row by its time (the time index) and conn id; the index cost every
     * event written an insert into it for the few that outlive their
     * batch (events.h).
     */
    "DROP INDEX IF EXISTS events_conn;",
};

#define N_MIGRATIONS (sizeof(store_migrations) / sizeof(store_migrations[0]))
_Static_assert(N_MIGRATIONS == STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* Move the database forward one step at a time, each step in its own
 * transaction; another process may be doing the same, so the version is
 * read again under the write lock. */
int
store_migrate(struct store *s, char *err, size_t errlen)
{
	char what[64], sql[64];
	int64_t v;

	for (;;) {
		if (store_txn_begin(s, "upgrading the schema", err, errlen) ==
		    -1)
			return -1;
		if (store_query_int(s, "PRAGMA user_version", &v,
		                    "reading the schema version", err,
		                    errlen) == -1)
			goto fail;
		if (v >= STORE_SCHEMA_VERSION) {
			store_txn_abort(s);
			s->version = (int)v;
			return 0;
		}
		snprintf(what, sizeof(what), "upgrading the schema to %lld",
		         (long long)v + 1);
		if (store_exec(s, store_migrations[v], what, err, errlen) == -1)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		         (long long)v + 1);
		if (store_exec(s, sql, what, err, errlen) == -1 ||
		    store_txn_commit(s, what, err, errlen) == -1)
			goto fail;
	}
fail:
	store_txn_abort(s);
	return -1;
}
