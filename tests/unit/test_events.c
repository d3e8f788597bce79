/*
 * test_events.c - the event log: what the daemon writes is what
 * "tollgate events" reads back, filtered as the user asks; connections'
 * ends land on their own rows; gaps say what was lost; pruning keeps the
 * log to its bounds a step at a time; a rules-only database from before
 * the log keeps its rules; the stats add up.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/events.h"
#include "store/store.h"
#include "tests/unit/schema_v1.h"

#define T0   1700000000000LL /* a Unix time in ms, on an hour's start */
#define HOUR 3600000LL

struct fixture {
	char dir[64];
	char db[128];
	struct store *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[STORE_ERRLEN] = "";

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-events-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/tollgate.db", f->dir);
	f->s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	if (f->s == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* For the migration test: no database yet. */
static int
setup_empty(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-events-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/tollgate.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: %s failed\n", cmd);
	free(f);
	return 0;
}

/* A decision as the daemon logs it; the test sets what it looks at. */
static void
decision(struct event_row *ev, int64_t conn, int64_t t, const char *exe,
         const char *name, enum action verdict)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_DECISION;
	ev->conn_id = conn;
	ev->time_ms = t;
	ev->pid = 4242;
	ev->has_uid = true;
	ev->uid = 1000;
	snprintf(ev->user, sizeof(ev->user), "user");
	snprintf(ev->exe, sizeof(ev->exe), "%s", exe);
	snprintf(ev->proto, sizeof(ev->proto), "tcp");
	snprintf(ev->src_ip, sizeof(ev->src_ip), "10.0.2.15");
	ev->src_port = 40000;
	snprintf(ev->dst_ip, sizeof(ev->dst_ip), "192.0.2.1");
	ev->dst_port = 443;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	snprintf(ev->name_source, sizeof(ev->name_source), "%s",
	         name[0] != '\0' ? "sni" : "none");
	ev->verdict = verdict;
	ev->decider = DECIDER_DEFAULT;
	snprintf(ev->upstream, sizeof(ev->upstream), "direct");
	ev->bytes_up = ev->bytes_down = ev->duration_ms = -1;
}

static void
gap(struct event_row *ev, int64_t t, int64_t n, int64_t first, int64_t last)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_GAP;
	ev->time_ms = t;
	ev->n_lost = n;
	ev->lost_first_ms = first;
	ev->lost_last_ms = last;
}

static void
insert(struct store *s, struct event_row *ev, size_t n)
{
	char err[STORE_ERRLEN] = "";

	if (events_insert(s, ev, n, err, sizeof(err)) != 0)
		fail_msg("events_insert: %s", err);
}

/* What a query handed out, in its order. */
struct got {
	struct event_row rows[64];
	size_t n;
};

static int
collect(const struct event_row *row, void *arg)
{
	struct got *g = arg;

	if (g->n == sizeof(g->rows) / sizeof(g->rows[0]))
		return 1;
	g->rows[g->n++] = *row;
	return 0;
}

static struct got *
query(struct store *s, const struct events_filter *flt)
{
	static struct got g;
	char err[STORE_ERRLEN] = "";

	memset(&g, 0, sizeof(g));
	if (events_query(s, flt, collect, &g, err, sizeof(err)) != 0)
		fail_msg("events_query: %s", err);
	return &g;
}

/* The conn ids of what a query handed out, as "1,2,3". */
static const char *
conns(struct store *s, const struct events_filter *flt)
{
	static char buf[512];
	struct got *g = query(s, flt);
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < g->n; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		                         "%s%lld", i ? "," : "",
		                         g->rows[i].kind == EVENT_GAP
		                             ? -1LL
		                             : (long long)g->rows[i].conn_id);
	return buf;
}

/* A row packed for the writer's queue comes back whole: every number,
 * every text, empty or filling its array. */
static void
test_pack_keeps_every_field(void **state)
{
	static struct event_row in[2], out;
	void *packed;
	size_t i;

	(void)state;
	decision(&in[0], 7, T0, "/usr/lib/firefox-esr/firefox-esr",
	         "www.example.org", ACTION_REJECT);
	in[0].rule_id = 12;
	in[0].flags = EVENT_F_ECH | EVENT_F_SHARED;
	in[0].bytes_down = INT64_MAX;
	in[0].n_lost = -7;
	in[1] = in[0];
	memset(in[1].user, 0, sizeof(in[1].user));
	memset(in[1].name, 0, sizeof(in[1].name));
	memset(in[1].exe, 'x', sizeof(in[1].exe) - 1);
	memset(in[1].upstream, 'u', sizeof(in[1].upstream) - 1);
	memset(in[1].sha256, 'f', sizeof(in[1].sha256) - 1);
	for (i = 0; i < 2; i++) {
		packed = event_row_pack(&in[i]);
		assert_non_null(packed);
		/* Over what another row left: its texts' tails stay. */
		memset(&out, 0, sizeof(out));
		event_row_unpack(&out, packed);
		assert_memory_equal(&out, &in[i], sizeof(out));
		memset(&out, 'z', sizeof(out));
		event_row_unpack(&out, packed);
		assert_int_equal(out.conn_id, 7);
		assert_int_equal(out.bytes_down, INT64_MAX);
		assert_int_equal(out.n_lost, -7);
		assert_string_equal(out.exe, in[i].exe);
		assert_string_equal(out.user, in[i].user);
		assert_string_equal(out.upstream, in[i].upstream);
		assert_string_equal(out.sha256, in[i].sha256);
		assert_string_equal(out.name_source, in[i].name_source);
		free(packed);
	}
}

static void
test_every_field_round_trips(void **state)
{
	struct fixture *f = *state;
	struct event_row in[3];
	struct events_filter all = {0};
	struct got *g;
	char err[STORE_ERRLEN] = "";

	decision(&in[0], 7, T0, "/usr/lib/firefox-esr/firefox-esr",
	         "www.example.org", ACTION_REJECT);
	in[0].pid = 31337;
	in[0].uid = 1001;
	snprintf(in[0].user, sizeof(in[0].user), "alice");
	snprintf(in[0].cmdline, sizeof(in[0].cmdline),
	         "firefox-esr --private-window 'https://example.org/'");
	snprintf(in[0].proto, sizeof(in[0].proto), "udp");
	snprintf(in[0].src_ip, sizeof(in[0].src_ip), "fd00::15");
	in[0].src_port = 65535;
	snprintf(in[0].dst_ip, sizeof(in[0].dst_ip),
	         "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255");
	in[0].dst_port = 8443;
	snprintf(in[0].name_source, sizeof(in[0].name_source), "fakeip");
	in[0].decider = DECIDER_RULE;
	in[0].rule_id = 12;
	snprintf(in[0].upstream, sizeof(in[0].upstream),
	         "socks5://127.0.0.1:9050");
	in[0].flags = EVENT_F_ECH | EVENT_F_MISMATCH;
	in[0].bytes_up = 1;
	in[0].bytes_down = INT64_MAX;
	in[0].duration_ms = 0;

	/* An unknown process: no uid, no exe, no name. */
	decision(&in[1], 8, T0 + 1, "", "", ACTION_DENY);
	in[1].has_uid = false;
	in[1].uid = 0;
	in[1].pid = 0;
	memset(in[1].user, 0, sizeof(in[1].user));
	in[1].decider = DECIDER_PEEK;
	in[1].flags = EVENT_F_UNKNOWN;

	gap(&in[2], T0 + 2, 1234, T0 - 5000, T0 + 1);

	insert(f->s, in, 3);
	assert_true(in[0].id > 0);
	assert_int_equal(in[1].id, in[0].id + 1);
	assert_int_equal(in[2].id, in[0].id + 2);
	assert_int_equal(events_max_id(f->s, err, sizeof(err)), in[2].id);

	g = query(f->s, &all);
	assert_int_equal(g->n, 3);
	/* Every byte of every field, as written (the rows were zeroed
	 * first, so padding and unused array tails are zero on both). */
	assert_memory_equal(&g->rows[0], &in[0], sizeof(in[0]));
	assert_memory_equal(&g->rows[1], &in[1], sizeof(in[1]));
	assert_int_equal(g->rows[2].kind, EVENT_GAP);
	assert_int_equal(g->rows[2].id, in[2].id);
	assert_int_equal(g->rows[2].time_ms, T0 + 2);
	assert_int_equal(g->rows[2].n_lost, 1234);
	assert_int_equal(g->rows[2].lost_first_ms, T0 - 5000);
	assert_int_equal(g->rows[2].lost_last_ms, T0 + 1);
	assert_false(g->rows[2].has_uid);
	assert_string_equal(g->rows[2].exe, "");
	assert_string_equal(event_decider_str(DECIDER_NO_DST), "no-dst");

	/* The CLI's own connection reads the same. */
	{
		struct store *r =
		    store_open(f->db, STORE_READONLY, err, sizeof(err));
		assert_non_null(r);
		g = query(r, &all);
		assert_int_equal(g->n, 3);
		assert_memory_equal(&g->rows[0], &in[0], sizeof(in[0]));
		store_close(r);
	}
}

static void
test_bad_rows_store_nothing(void **state)
{
	struct fixture *f = *state;
	struct event_row ev[2];
	struct events_filter all = {0};
	char err[STORE_ERRLEN] = "";

	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[1], 2, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	ev[1].verdict = (enum action)7;
	assert_int_equal(events_insert(f->s, ev, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "row 2 has a bad verdict"));

	decision(&ev[1], 2, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	memset(ev[1].proto, 'x', sizeof(ev[1].proto)); /* unterminated */
	assert_int_equal(events_insert(f->s, ev, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad proto"));

	assert_int_equal(events_insert(f->s, ev, 0, err, sizeof(err)), -1);
	assert_int_equal(
	    events_insert(f->s, ev, EVENTS_BATCH_MAX + 1, err, sizeof(err)),
	    -1);

	/* SQLite refuses the second row half way: the first goes too. */
	decision(&ev[1], 2, T0, "/usr/bin/curl", "refuse.test", ACTION_ALLOW);
	assert_int_equal(
	    sqlite3_exec(store_sqlite(f->s),
	                 "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events "
	                 "WHEN new.name = 'refuse.test' BEGIN SELECT "
	                 "RAISE(ABORT, 'refused by the test'); END",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	ev[0].id = ev[1].id = 0;
	assert_int_equal(events_insert(f->s, ev, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused by the test"));
	assert_int_equal(ev[0].id, 0);
	assert_int_equal(query(f->s, &all)->n, 0);
	assert_int_equal(events_max_id(f->s, err, sizeof(err)), 0);

	/* And the connection writes again afterwards. */
	insert(f->s, ev, 1);
	assert_int_equal(query(f->s, &all)->n, 1);
}

/*
 * The daemon's writer: a dedicated connection, batches that go sixteen
 * rows to a statement and then one at a time.  Every row lands whole, in
 * order, with ids that follow each other; a bad row or one SQLite
 * refuses in the middle of a statement stores nothing; the table's own
 * checks still hold for every other connection.
 */
static void
test_a_dedicated_writer_keeps_every_row(void **state)
{
	static const enum action verdicts[] = {ACTION_ALLOW, ACTION_DENY,
	                                       ACTION_REJECT};
	struct fixture *f = *state;
	struct event_row in[37];
	struct events_filter all = {0};
	struct events_filter by_name = {.domain = "host20.example.test",
	                                .no_gaps = true};
	struct events_filter by_app = {.app = "app2", .no_gaps = true};
	struct store *other;
	sqlite3_stmt *pragma;
	struct got *g;
	char err[STORE_ERRLEN] = "", exe[64], name[64], *msg = NULL;
	size_t i;

	/* As tollgated: a write through kept statements, then dedicated. */
	assert_int_equal(events_interrupt_open(f->s, err, sizeof(err)), 0);
	assert_int_equal(events_dedicate(f->s, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(f->s),
	                                    "PRAGMA ignore_check_constraints",
	                                    -1, &pragma, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(pragma), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(pragma, 0), 1);
	sqlite3_finalize(pragma);
	for (i = 0; i < 37; i++) {
		snprintf(exe, sizeof(exe), "/usr/bin/app%zu", i % 5);
		snprintf(name, sizeof(name), "host%zu.example.test", i);
		decision(&in[i], 100 + (int64_t)i, T0 + (int64_t)i, exe, name,
		         verdicts[i % 3]);
		in[i].pid = 5000 + (int)i;
		in[i].src_port = 30000 + (int)i;
		snprintf(in[i].cmdline, sizeof(in[i].cmdline), "app --n %zu",
		         i);
		if (i % 7 == 6) {
			in[i].has_uid = false;
			in[i].uid = 0;
		}
	}
	/* Gaps in the first statement of 16, and among the last five. */
	gap(&in[3], T0 + 3, 12, T0 - 100, T0 + 2);
	gap(&in[34], T0 + 34, 1, T0 + 33, T0 + 33);

	/* SQLite refuses row 21, in the middle of the second statement:
	 * nothing of the batch stays. */
	assert_int_equal(
	    sqlite3_exec(store_sqlite(f->s),
	                 "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events "
	                 "WHEN new.name = 'host20.example.test' BEGIN SELECT "
	                 "RAISE(ABORT, 'refused by the test'); END",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(events_insert(f->s, in, 37, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused by the test"));
	assert_int_equal(query(f->s, &all)->n, 0);
	assert_int_equal(sqlite3_exec(store_sqlite(f->s), "DROP TRIGGER refuse",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);

	/* A bad verdict is refused before SQLite sees it. */
	in[17].verdict = (enum action)7;
	assert_int_equal(events_insert(f->s, in, 37, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "row 18 has a bad verdict"));
	in[17].verdict = verdicts[17 % 3];

	insert(f->s, in, 37);
	assert_true(in[0].id > 0);
	for (i = 1; i < 37; i++)
		assert_int_equal(in[i].id, in[0].id + (int64_t)i);
	assert_int_equal(events_max_id(f->s, err, sizeof(err)), in[36].id);

	g = query(f->s, &all);
	assert_int_equal(g->n, 37);
	for (i = 0; i < 37; i++) {
		if (in[i].kind == EVENT_GAP) {
			assert_int_equal(g->rows[i].kind, EVENT_GAP);
			assert_int_equal(g->rows[i].id, in[i].id);
			assert_int_equal(g->rows[i].time_ms, in[i].time_ms);
			assert_int_equal(g->rows[i].n_lost, in[i].n_lost);
			assert_int_equal(g->rows[i].lost_first_ms,
			                 in[i].lost_first_ms);
			assert_int_equal(g->rows[i].lost_last_ms,
			                 in[i].lost_last_ms);
			continue;
		}
		assert_memory_equal(&g->rows[i], &in[i], sizeof(in[i]));
	}
	/* The columns only the filters read (rname, exe_base) are each
	 * row's own. */
	assert_string_equal(conns(f->s, &by_name), "120");
	assert_string_equal(conns(f->s, &by_app),
	                    "102,107,112,117,122,127,132");

	/* Another connection still meets the table's CHECK constraints. */
	other = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(other);
	assert_int_not_equal(
	    sqlite3_exec(store_sqlite(other),
	                 "INSERT INTO events (kind, time_ms, verdict) "
	                 "VALUES ('decision', 1, 'maybe')",
	                 NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "CHECK constraint failed"));
	sqlite3_free(msg);
	store_close(other);
	assert_int_equal(query(f->s, &all)->n, 37);
}

static void
test_close_fills_the_newest_row_of_a_connection(void **state)
{
	struct fixture *f = *state;
	struct event_row ev[3];
	struct event_close c[2];
	struct events_filter all = {0};
	struct got *g;
	char err[STORE_ERRLEN] = "";

	/* Connection 5 of an earlier run, then of this one. */
	decision(&ev[0], 5, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[1], 6, T0 + 1, "/usr/bin/curl", "b.test", ACTION_ALLOW);
	decision(&ev[2], 5, T0 + 2, "/usr/bin/wget", "c.test", ACTION_ALLOW);
	insert(f->s, ev, 3);

	assert_int_equal(
	    events_close(f->s, 5, T0 + 2, 100, 2000, 30, err, sizeof(err)), 1);
	/* A connection with no row (pruned, or never written): skipped;
	 * so is one whose row has another time. */
	assert_int_equal(events_close(f->s, 99, T0, 1, 1, 1, err, sizeof(err)),
	                 0);
	assert_int_equal(
	    events_close(f->s, 6, T0 + 2, 1, 1, 1, err, sizeof(err)), 0);

	g = query(f->s, &all);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->rows[0].bytes_up, -1); /* the earlier run's */
	assert_int_equal(g->rows[1].bytes_up, -1);
	assert_int_equal(g->rows[2].bytes_up, 100);
	assert_int_equal(g->rows[2].bytes_down, 2000);
	assert_int_equal(g->rows[2].duration_ms, 30);

	/* The writer's call: new decisions and ends, one of them of a row
	 * in the same call. */
	decision(&ev[0], 7, T0 + 3, "/usr/bin/curl", "d.test", ACTION_DENY);
	c[0] = (struct event_close){.conn_id = 6,
	                            .time_ms = T0 + 1,
	                            .bytes_up = 1,
	                            .bytes_down = 2,
	                            .duration_ms = 3};
	c[1] = (struct event_close){.conn_id = 7,
	                            .time_ms = T0 + 3,
	                            .bytes_up = 0,
	                            .bytes_down = 0,
	                            .duration_ms = 4,
	                            .dst_ip = "198.51.100.7",
	                            .dst_port = 8443};
	assert_int_equal(events_write(f->s, ev, 1, c, 2, err, sizeof(err)), 2);
	assert_int_equal(events_close_batch(f->s, c, 2, err, sizeof(err)), 2);
	g = query(f->s, &all);
	assert_int_equal(g->n, 4);
	assert_int_equal(g->rows[1].conn_id, 6);
	assert_int_equal(g->rows[1].duration_ms, 3);
	assert_string_equal(g->rows[1].dst_ip, "192.0.2.1"); /* kept */
	assert_int_equal(g->rows[3].conn_id, 7);
	assert_int_equal(g->rows[3].bytes_up, 0);
	assert_int_equal(g->rows[3].duration_ms, 4);
	/* Where it went after all (a fake IP's name, resolved). */
	assert_string_equal(g->rows[3].dst_ip, "198.51.100.7");
	assert_int_equal(g->rows[3].dst_port, 8443);

	assert_int_equal(events_write(f->s, NULL, 0, NULL, 0, err, sizeof(err)),
	                 -1);
}

/*
 * The data set of the filter tests, conn id = what the tests name:
 *   1  /usr/bin/curl   a.test     allow  T0        pid 10 uid 1000
 *   2  /usr/bin/curl   x.a.test   deny   T0+1h     pid 11 uid 1000
 *   3  /opt/bin/curl   xa.test    allow  T0+2h     pid 12 uid 1001
 *   4  /usr/bin/wget   b.a.test   reject T0+3h     pid 13 uid 1001
 *   -  gap, 9 lost                       T0+3h30m
 *   5  /usr/bin/wget   ""         allow  T0+4h     pid 14 no uid
 *   6  /usr/bin/curlx  a.test.org allow  T0+5h     pid 15 uid 1000
 */
static void
filter_data(struct store *s)
{
	struct event_row ev[7];

	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[1], 2, T0 + HOUR, "/usr/bin/curl", "x.a.test",
	         ACTION_DENY);
	decision(&ev[2], 3, T0 + 2 * HOUR, "/opt/bin/curl", "xa.test",
	         ACTION_ALLOW);
	decision(&ev[3], 4, T0 + 3 * HOUR, "/usr/bin/wget", "b.a.test",
	         ACTION_REJECT);
	gap(&ev[4], T0 + 3 * HOUR + HOUR / 2, 9, T0 + 3 * HOUR,
	    T0 + 3 * HOUR + 1000);
	decision(&ev[5], 5, T0 + 4 * HOUR, "/usr/bin/wget", "", ACTION_ALLOW);
	decision(&ev[6], 6, T0 + 5 * HOUR, "/usr/bin/curlx", "a.test.org",
	         ACTION_ALLOW);
	ev[0].pid = 10;
	ev[1].pid = 11;
	ev[2].pid = 12;
	ev[2].uid = 1001;
	ev[3].pid = 13;
	ev[3].uid = 1001;
	ev[5].pid = 14;
	ev[5].has_uid = false;
	ev[6].pid = 15;
	/* Stored out of time order: queries sort by time. */
	insert(s, &ev[3], 4);
	insert(s, ev, 3);
}

static void
test_filter_by_app(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {.no_gaps = true};

	filter_data(f->s);
	flt.app = "/usr/bin/curl";
	assert_string_equal(conns(f->s, &flt), "1,2");
	/* A basename: every exe of that name, and no other. */
	flt.app = "curl";
	assert_string_equal(conns(f->s, &flt), "1,2,3");
	flt.app = "wget";
	assert_string_equal(conns(f->s, &flt), "4,5");
	flt.app = "/usr/bin/nothing";
	assert_string_equal(conns(f->s, &flt), "");
	flt.app = "";
	assert_int_equal(events_query(f->s, &flt, collect, NULL, NULL, 0), -1);
}

static void
test_filter_by_domain(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {.no_gaps = true};
	char err[STORE_ERRLEN] = "";
	struct got g;

	filter_data(f->s);
	/* The apex and every name under it; not xa.test, not a.test.org. */
	flt.domain = "a.test";
	assert_string_equal(conns(f->s, &flt), "1,2,4");
	flt.domain = "A.Test.";
	assert_string_equal(conns(f->s, &flt), "1,2,4");
	flt.domain = "x.a.test";
	assert_string_equal(conns(f->s, &flt), "2");
	flt.domain = "test";
	assert_string_equal(conns(f->s, &flt), "1,2,3,4");
	flt.domain = "org";
	assert_string_equal(conns(f->s, &flt), "6");
	flt.domain = "a.tes";
	assert_string_equal(conns(f->s, &flt), "");
	flt.domain = "a.test";
	flt.app = "wget";
	assert_string_equal(conns(f->s, &flt), "4");

	flt.domain = "not a name";
	assert_int_equal(
	    events_query(f->s, &flt, collect, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a host name"));
}

static void
test_filter_by_verdict_time_pid_uid(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {.no_gaps = true};

	filter_data(f->s);
	flt.has_verdict = true;
	flt.verdict = ACTION_ALLOW;
	assert_string_equal(conns(f->s, &flt), "1,3,5,6");
	flt.verdict = ACTION_REJECT;
	assert_string_equal(conns(f->s, &flt), "4");
	flt.has_verdict = false;

	/* since is inclusive, until is not. */
	flt.since_ms = T0 + HOUR;
	flt.until_ms = T0 + 4 * HOUR;
	assert_string_equal(conns(f->s, &flt), "2,3,4");
	flt.since_ms = flt.until_ms = 0;

	flt.pid = 13;
	assert_string_equal(conns(f->s, &flt), "4");
	flt.pid = 0;
	flt.has_uid = true;
	flt.uid = 1001;
	assert_string_equal(conns(f->s, &flt), "3,4");
	flt.uid = 1000;
	flt.app = "curl";
	assert_string_equal(conns(f->s, &flt), "1,2");
}

static void
test_filter_by_proto(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {0};
	struct event_row ev[4];
	char err[STORE_ERRLEN] = "";
	struct got g;

	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[1], 2, T0 + 1, "/usr/bin/dig", "c.test", ACTION_DENY);
	snprintf(ev[1].proto, sizeof(ev[1].proto), "dns");
	decision(&ev[2], 3, T0 + 2, "/usr/bin/bash", "", ACTION_REJECT);
	snprintf(ev[2].proto, sizeof(ev[2].proto), "udp");
	gap(&ev[3], T0 + 3, 2, T0 + 2, T0 + 3);
	insert(f->s, ev, 4);

	flt.proto = "dns";
	assert_string_equal(conns(f->s, &flt), "2,-1");
	flt.no_gaps = true;
	assert_string_equal(conns(f->s, &flt), "2");
	flt.proto = "udp";
	assert_string_equal(conns(f->s, &flt), "3");
	flt.proto = "tcp";
	assert_string_equal(conns(f->s, &flt), "1");
	/* With the other conditions, and following. */
	flt.app = "curl";
	assert_string_equal(conns(f->s, &flt), "1");
	flt.proto = "dns";
	assert_string_equal(conns(f->s, &flt), "");
	flt.app = NULL;
	flt.after_id = ev[0].id;
	assert_string_equal(conns(f->s, &flt), "2");
	flt.after_id = 0;

	flt.proto = "icmp";
	assert_int_equal(
	    events_query(f->s, &flt, collect, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown proto icmp"));
	assert_true(event_proto_ok("udp"));
	assert_false(event_proto_ok("UDP"));
	assert_false(event_proto_ok(""));
}

/* Each flag's word, in bit order. */
static void
add_word(const char *word, void *arg)
{
	char *buf = arg;

	strcat(buf, buf[0] != '\0' ? "," : "");
	strcat(buf, word);
}

static void
test_flag_words(void **state)
{
	char buf[128] = "";

	(void)state;
	event_flags_each(EVENT_F_ENCDNS | EVENT_F_ECH | EVENT_F_UNKNOWN,
	                 add_word, buf);
	assert_string_equal(buf, "ech,unknown,encrypted-dns");
	buf[0] = '\0';
	event_flags_each(0, add_word, buf);
	assert_string_equal(buf, "");
	event_flags_each(EVENT_F_INTERRUPTED | EVENT_F_ECH, add_word, buf);
	assert_string_equal(buf, "ech,interrupted");
}

/* The start after a crash: the allowed TCP rows still open are flagged
 * interrupted, once; closed rows, refusals and DNS queries (never open)
 * and gaps are left alone. */
static void
test_interrupt_open(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct event_row ev[6];
	struct events_filter flt = {0};
	struct got *g;

	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[1], 2, T0 + 1, "/usr/bin/curl", "b.test", ACTION_ALLOW);
	ev[1].bytes_up = 10;
	ev[1].bytes_down = 20;
	ev[1].duration_ms = 30;
	decision(&ev[2], 3, T0 + 2, "/usr/bin/curl", "c.test", ACTION_DENY);
	gap(&ev[3], T0 + 3, 7, T0, T0 + 2);
	decision(&ev[4], 4, T0 + 4, "/usr/bin/wget", "d.test", ACTION_ALLOW);
	ev[4].flags = EVENT_F_ECH;
	decision(&ev[5], 5, T0 + 5, "/usr/bin/curl", "e.test", ACTION_ALLOW);
	snprintf(ev[5].proto, sizeof(ev[5].proto), "dns");
	insert(f->s, ev, 6);
	assert_int_equal(events_interrupt_open(f->s, err, sizeof(err)), 2);
	assert_int_equal(events_interrupt_open(f->s, err, sizeof(err)), 0);
	g = query(f->s, &flt);
	assert_int_equal(g->n, 6);
	assert_int_equal(g->rows[5].flags, 0);
	assert_int_equal(g->rows[0].flags, EVENT_F_INTERRUPTED);
	assert_int_equal(g->rows[0].bytes_up, -1);
	assert_int_equal(g->rows[0].duration_ms, -1);
	assert_int_equal(g->rows[1].flags, 0);
	assert_int_equal(g->rows[1].bytes_up, 10);
	assert_int_equal(g->rows[2].flags, 0);
	assert_int_equal(g->rows[3].kind, EVENT_GAP);
	assert_int_equal(g->rows[3].flags, 0);
	assert_int_equal(g->rows[4].flags, EVENT_F_ECH | EVENT_F_INTERRUPTED);
}

static void
test_limit_and_follow(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {.no_gaps = true};
	struct event_row ev;
	struct got *g;
	char err[STORE_ERRLEN] = "";
	int64_t last;

	filter_data(f->s);
	/* The newest rows, oldest first. */
	flt.limit = 2;
	assert_string_equal(conns(f->s, &flt), "5,6");
	flt.app = "curl";
	assert_string_equal(conns(f->s, &flt), "2,3");

	/* --follow: the rows after the last id seen, in id order (as
	 * stored: 4, gap, 5, 6 went in before 1, 2, 3), first ones first. */
	memset(&flt, 0, sizeof(flt));
	flt.no_gaps = true;
	g = query(f->s, &flt);
	last = g->rows[0].id; /* conn 1's */
	flt.after_id = last;
	assert_string_equal(conns(f->s, &flt), "2,3");
	flt.limit = 1;
	assert_string_equal(conns(f->s, &flt), "2");

	flt.limit = 0;
	flt.after_id = events_max_id(f->s, err, sizeof(err));
	assert_string_equal(conns(f->s, &flt), "");
	decision(&ev, 7, T0, "/usr/bin/curl", "new.test", ACTION_ALLOW);
	insert(f->s, &ev, 1);
	assert_string_equal(conns(f->s, &flt), "7");
	flt.app = "wget";
	assert_string_equal(conns(f->s, &flt), "");

	/* fn stops the walk: its value comes back. */
	memset(&flt, 0, sizeof(flt));
	g = calloc(1, sizeof(*g));
	g->n = sizeof(g->rows) / sizeof(g->rows[0]); /* full: collect stops */
	assert_int_equal(events_query(f->s, &flt, collect, g, err, sizeof(err)),
	                 1);
	free(g);
}

static void
test_gaps_stand_in_for_what_might_have_matched(void **state)
{
	struct fixture *f = *state;
	struct events_filter flt = {0};
	struct got *g;

	filter_data(f->s);
	/* Unfiltered, in time order: the gap between 4 and 5. */
	assert_string_equal(conns(f->s, &flt), "1,2,3,4,-1,5,6");
	/* Its lost events may have been curl's to a.test: it stays. */
	flt.app = "curl";
	flt.domain = "a.test";
	assert_string_equal(conns(f->s, &flt), "1,2,-1");
	g = query(f->s, &flt);
	assert_int_equal(g->rows[2].kind, EVENT_GAP);
	assert_int_equal(g->rows[2].n_lost, 9);
	assert_int_equal(g->rows[2].lost_first_ms, T0 + 3 * HOUR);
	assert_int_equal(g->rows[2].lost_last_ms, T0 + 3 * HOUR + 1000);
	/* ...unless it is out of the time asked for, or unwanted. */
	flt.until_ms = T0 + 3 * HOUR;
	assert_string_equal(conns(f->s, &flt), "1,2");
	flt.until_ms = 0;
	flt.limit = 1;
	assert_string_equal(conns(f->s, &flt), "-1");
	flt.limit = 0;
	flt.no_gaps = true;
	assert_string_equal(conns(f->s, &flt), "1,2");
	memset(&flt, 0, sizeof(flt));
	flt.no_gaps = true;
	assert_string_equal(conns(f->s, &flt), "1,2,3,4,5,6");
}

static int64_t
count_all(struct store *s)
{
	struct events_filter all = {0};

	return (int64_t)query(s, &all)->n;
}

static void
test_prune_by_age_in_steps(void **state)
{
	struct fixture *f = *state;
	struct event_row ev[20];
	struct events_filter all = {0};
	char err[STORE_ERRLEN] = "";
	struct got *g;
	int i;

	/* One row a minute for 20 minutes. */
	for (i = 0; i < 20; i++)
		decision(&ev[i], i + 1, T0 + i * 60000LL, "/usr/bin/curl",
		         "a.test", ACTION_ALLOW);
	insert(f->s, ev, 20);

	/* At T0 + 20 min, keep 5 minutes: rows 16..20 stay; 15 go, at most
	 * 4 a call. */
	assert_int_equal(
	    events_prune(f->s, 300, 0, T0 + 20 * 60000LL, 4, err, sizeof(err)),
	    4);
	assert_int_equal(count_all(f->s), 16);
	assert_int_equal(
	    events_prune(f->s, 300, 0, T0 + 20 * 60000LL, 4, err, sizeof(err)),
	    4);
	assert_int_equal(
	    events_prune(f->s, 300, 0, T0 + 20 * 60000LL, 4, err, sizeof(err)),
	    4);
	assert_int_equal(
	    events_prune(f->s, 300, 0, T0 + 20 * 60000LL, 4, err, sizeof(err)),
	    3);
	assert_int_equal(
	    events_prune(f->s, 300, 0, T0 + 20 * 60000LL, 4, err, sizeof(err)),
	    0);
	g = query(f->s, &all);
	assert_int_equal(g->n, 5);
	assert_int_equal(g->rows[0].conn_id, 16);
	assert_int_equal(g->rows[0].time_ms, T0 + 15 * 60000LL);

	assert_int_equal(events_prune(f->s, 300, 0, 0, 0, err, sizeof(err)),
	                 -1);
}

static void
test_prune_by_count_in_steps(void **state)
{
	struct fixture *f = *state;
	struct event_row ev[20];
	struct events_filter all = {0};
	char err[STORE_ERRLEN] = "";
	struct got *g;
	int64_t last;
	int i;

	/* Times out of order: the count keeps the newest ids. */
	for (i = 0; i < 20; i++)
		decision(&ev[i], i + 1, T0 - i * 1000LL, "/usr/bin/curl",
		         "a.test", ACTION_ALLOW);
	insert(f->s, ev, 20);
	last = ev[19].id;

	assert_int_equal(events_prune(f->s, 0, 12, T0, 5, err, sizeof(err)), 5);
	assert_int_equal(events_prune(f->s, 0, 12, T0, 5, err, sizeof(err)), 3);
	assert_int_equal(events_prune(f->s, 0, 12, T0, 5, err, sizeof(err)), 0);
	g = query(f->s, &all);
	assert_int_equal(g->n, 12);
	assert_int_equal(g->rows[0].conn_id, 20); /* the oldest time kept */
	assert_int_equal(g->rows[11].conn_id, 9);

	/* Both bounds at once share the step: by age first (conns 20 to
	 * 14 are older than 12 s at T0 - 11 s), oldest time first, then by
	 * count (conns 9 to 11, of 9 to 13, beyond the newest 2). */
	assert_int_equal(
	    events_prune(f->s, 1, 2, T0 - 11000, 6, err, sizeof(err)), 6);
	assert_int_equal(
	    events_prune(f->s, 1, 2, T0 - 11000, 6, err, sizeof(err)), 4);
	assert_int_equal(
	    events_prune(f->s, 1, 2, T0 - 11000, 6, err, sizeof(err)), 0);
	g = query(f->s, &all);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->rows[0].conn_id, 13);
	assert_int_equal(g->rows[1].conn_id, 12);

	/* Emptied by age, the ids still go on: a follower misses nothing. */
	assert_int_equal(
	    events_prune(f->s, 1, 0, T0 + 10000000, 100, err, sizeof(err)), 2);
	assert_int_equal(events_max_id(f->s, err, sizeof(err)), 0);
	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	insert(f->s, ev, 1);
	assert_true(ev[0].id > last);
}

/* Schema 1 and 2 as they were released, and a rule in them. */
static const char v2_sql[] = SCHEMA_V1_TABLES
    "ALTER TABLE rules ADD COLUMN note TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX rules_app ON rules(app);"
    "PRAGMA user_version = 2;"
    "INSERT INTO rules (app, uid, dest_kind, dest, port_lo, port_hi, proto,"
    " action, duration, expires, priority, enabled, created, updated, hits,"
    " last_hit, note) VALUES"
    " ('/usr/bin/curl', 1000, 'wildcard', 'example.com', 443, 443, 'tcp',"
    "  'allow', 'forever', 0, 2, 1, 1500000000, 1500000001, 42, 1600000000,"
    "  'kept'),"
    " ('*', NULL, 'list', 'ads', 0, 0, 'any', 'deny', 'forever', 0,"
    "  0, 1, 1500000002, 1500000003, 0, 0, '');"
    "INSERT INTO list_names VALUES (2, 'b.example'), (2, 'a.example');";

/* sqlite3_exec()'s callback: one more row in *(size_t *)arg. */
static int
count_rows(void *arg, int ncols, char **values, char **names)
{
	(void)ncols;
	(void)values;
	(void)names;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_migration_from_v2_keeps_the_rules(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "", want[64];
	struct event_row ev;
	struct events_filter all = {0};
	struct rule *rules;
	size_t n;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v2_sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* The CLI may not upgrade it, and says who will. */
	assert_null(store_open(f->db, STORE_READONLY, err, sizeof(err)));
	snprintf(want, sizeof(want), "schema 2; tollgated upgrades it to %d",
	         STORE_SCHEMA_VERSION);
	assert_non_null(strstr(err, want));

	f->s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	/* Step 3 made an index of conn ids, step 9 took it away. */
	n = 0;
	assert_int_equal(sqlite3_exec(store_sqlite(f->s),
	                              "SELECT 1 FROM sqlite_master WHERE "
	                              "name = 'events_conn'",
	                              count_rows, &n, NULL),
	                 SQLITE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(
	    store_rule_list(f->s, NULL, &rules, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rules[0].app, "/usr/bin/curl");
	assert_string_equal(rules[0].dest, "example.com");
	assert_int_equal(rules[0].hits, 42);
	assert_string_equal(rules[0].note, "kept");
	assert_int_equal(rules[1].dest_kind, DEST_LIST);
	free(rules);
	assert_int_equal(store_list_count(f->s, 2, err, sizeof(err)), 2);

	/* The log is there, empty, and works. */
	assert_int_equal(events_max_id(f->s, err, sizeof(err)), 0);
	decision(&ev, 1, T0, "/usr/bin/curl", "example.com", ACTION_ALLOW);
	insert(f->s, &ev, 1);
	assert_int_equal(query(f->s, &all)->n, 1);
	store_close(f->s);

	/* Opened again: nothing to do, nothing lost. */
	f->s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(query(f->s, &all)->n, 1);
	assert_int_equal(
	    store_rule_list(f->s, NULL, &rules, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	free(rules);
}

static void
test_stats_on_a_known_day(void **state)
{
	struct fixture *f = *state;
	struct event_row ev[12];
	struct events_stats st;
	char err[STORE_ERRLEN] = "";
	int i = 0;

	/* Hour 0: curl 3 (1 denied), firefox 1.  Hour 2: curl 1 rejected,
	 * wget 2 (one without a name).  Hour 3: a gap of 50 and a gap of 7.
	 * Outside the span: one before, one at its end. */
	decision(&ev[i++], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	decision(&ev[i++], 2, T0 + 1, "/usr/bin/curl", "a.test", ACTION_DENY);
	decision(&ev[i++], 3, T0 + 2, "/usr/bin/curl", "b.test", ACTION_ALLOW);
	decision(&ev[i++], 4, T0 + 3, "/usr/bin/firefox", "a.test",
	         ACTION_ALLOW);
	decision(&ev[i++], 5, T0 + 2 * HOUR, "/usr/bin/curl", "c.test",
	         ACTION_REJECT);
	decision(&ev[i++], 6, T0 + 2 * HOUR + 5, "/usr/bin/wget", "b.test",
	         ACTION_ALLOW);
	decision(&ev[i++], 7, T0 + 3 * HOUR - 1, "/usr/bin/wget", "",
	         ACTION_ALLOW);
	gap(&ev[i++], T0 + 3 * HOUR, 50, T0, T0 + 1);
	gap(&ev[i++], T0 + 3 * HOUR + 1, 7, T0, T0 + 1);
	decision(&ev[i++], 8, T0 - 1, "/usr/bin/curl", "a.test", ACTION_DENY);
	decision(&ev[i++], 9, T0 + 4 * HOUR, "/usr/bin/curl", "a.test",
	         ACTION_DENY);
	insert(f->s, ev, (size_t)i);

	assert_int_equal(
	    events_stats(f->s, T0, T0 + 4 * HOUR, 10, &st, err, sizeof(err)),
	    0);
	assert_int_equal(st.total, 7);
	assert_int_equal(st.denied, 2);
	assert_int_equal(st.unnamed, 1);
	assert_int_equal(st.gaps, 2);
	assert_int_equal(st.lost, 57);
	assert_int_equal(st.n_hours, 4);
	assert_int_equal(st.hours[0], 4);
	assert_int_equal(st.hours[1], 0);
	assert_int_equal(st.hours[2], 3);
	assert_int_equal(st.hours[3], 0);
	assert_int_equal(st.n_apps, 3);
	assert_string_equal(st.apps[0].key, "/usr/bin/curl");
	assert_int_equal(st.apps[0].count, 4);
	assert_int_equal(st.apps[0].denied, 2);
	assert_string_equal(st.apps[1].key, "/usr/bin/wget");
	assert_int_equal(st.apps[1].count, 2);
	assert_int_equal(st.apps[1].denied, 0);
	assert_string_equal(st.apps[2].key, "/usr/bin/firefox");
	assert_int_equal(st.n_domains, 3);
	assert_string_equal(st.domains[0].key, "a.test");
	assert_int_equal(st.domains[0].count, 3);
	assert_int_equal(st.domains[0].denied, 1);
	assert_string_equal(st.domains[1].key, "b.test");
	assert_int_equal(st.domains[1].count, 2);
	assert_string_equal(st.domains[2].key, "c.test");
	assert_int_equal(st.domains[2].denied, 1);
	events_stats_free(&st);

	/* The top n only; a span that does not end on an hour. */
	assert_int_equal(
	    events_stats(f->s, T0, T0 + HOUR + 1, 1, &st, err, sizeof(err)), 0);
	assert_int_equal(st.n_hours, 2);
	assert_int_equal(st.total, 4);
	assert_int_equal(st.n_apps, 1);
	assert_int_equal(st.n_domains, 1);
	events_stats_free(&st);

	/* Nothing there: zeros, no arrays to speak of. */
	assert_int_equal(events_stats(f->s, T0 + 10 * HOUR, T0 + 11 * HOUR, 5,
	                              &st, err, sizeof(err)),
	                 0);
	assert_int_equal(st.total, 0);
	assert_int_equal(st.n_apps, 0);
	assert_null(st.apps);
	events_stats_free(&st);

	assert_int_equal(events_stats(f->s, T0, T0, 5, &st, err, sizeof(err)),
	                 -1);
	events_stats_free(&st);
	assert_int_equal(events_stats(f->s, T0,
	                              T0 + (EVENTS_HOURS_MAX + 1) * HOUR, 5,
	                              &st, err, sizeof(err)),
	                 -1);
	events_stats_free(&st);
	assert_int_equal(events_stats(f->s, T0, T0 + HOUR, EVENTS_TOP_MAX + 1,
	                              &st, err, sizeof(err)),
	                 -1);
	events_stats_free(&st);
}

static void
test_reader_never_blocks_the_writer(void **state)
{
	struct fixture *f = *state;
	struct events_filter all = {0};
	struct event_row ev[2];
	struct store *r;
	struct got *g;
	sqlite3_stmt *st;
	char err[STORE_ERRLEN] = "";

	decision(&ev[0], 1, T0, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	insert(f->s, ev, 1);
	r = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(r);

	/* The reader may not write. */
	assert_int_equal(events_insert(r, ev, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(events_prune(r, 1, 0, T0, 10, err, sizeof(err)), -1);

	/* A reader half way through a walk (its read transaction open)
	 * does not stop a batch or an end. */
	g = query(r, &all);
	assert_int_equal(g->n, 1);
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(r),
	                                    "SELECT id FROM events", -1, &st,
	                                    NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	decision(&ev[1], 2, T0 + 1, "/usr/bin/curl", "a.test", ACTION_ALLOW);
	insert(f->s, &ev[1], 1);
	assert_int_equal(
	    events_close(f->s, 2, T0 + 1, 1, 1, 1, err, sizeof(err)), 1);
	sqlite3_finalize(st);
	/* The next read sees it. */
	assert_int_equal(query(r, &all)->n, 2);
	store_close(r);

	/* With the daemon gone, the CLI still reads. */
	store_close(f->s);
	f->s = NULL;
	r = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(query(r, &all)->n, 2);
	assert_int_equal(events_max_id(r, err, sizeof(err)), 2);
	store_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_interrupt_open, setup,
	                                    teardown),
	    cmocka_unit_test(test_pack_keeps_every_field),
	    cmocka_unit_test_setup_teardown(test_every_field_round_trips, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rows_store_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_dedicated_writer_keeps_every_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_close_fills_the_newest_row_of_a_connection, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_filter_by_app, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_filter_by_domain, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_filter_by_verdict_time_pid_uid,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_and_follow, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_gaps_stand_in_for_what_might_have_matched, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_filter_by_proto, setup,
	                                    teardown),
	    cmocka_unit_test(test_flag_words),
	    cmocka_unit_test_setup_teardown(test_prune_by_age_in_steps, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_by_count_in_steps, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_migration_from_v2_keeps_the_rules, setup_empty, teardown),
	    cmocka_unit_test_setup_teardown(test_stats_on_a_known_day, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_reader_never_blocks_the_writer,
	                                    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
