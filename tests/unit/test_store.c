/*
 * test_store.c - the SQLite store of rules: a database is created, filled,
 * read back, upgraded from an older schema, shared by two writers and a
 * reader, and refused when it is corrupt, newer or unreadable; a full disk
 * loses nothing that was committed.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "rules/match.h"
#include "store/db.h"
#include "store/store.h"
#include "tests/unit/schema_v1.h"

/* Each test gets a fresh directory; the database lives one level down so
 * that store_open() has a directory to make. */
struct fixture {
	char dir[64];
	char dbdir[128];
	char db[160];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dbdir, sizeof(f->dbdir), "%s/lib", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/tollgate.db", f->dbdir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	/* The full-disk test's tmpfs, if an assertion left it mounted. */
	snprintf(cmd, sizeof(cmd), "%s/small", f->dir);
	umount2(cmd, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: %s failed\n", cmd);
	free(f);
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct store *
open_rw(const char *path)
{
	char err[STORE_ERRLEN] = "";
	struct store *s = store_open(path, STORE_READWRITE, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open %s: %s", path, err);
	return s;
}

/* A rule as the CLI would make it: every field at its default. */
static void
plain_rule(struct rule *r, const char *app, const char *name)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->app, sizeof(r->app), "%s", app);
	if (name != NULL) {
		r->dest_kind = DEST_NAME;
		snprintf(r->dest, sizeof(r->dest), "%s", name);
	}
	r->action = ACTION_ALLOW;
	r->duration = DUR_FOREVER;
	r->enabled = true;
}

static int64_t
add(struct store *s, struct rule *r)
{
	char err[STORE_ERRLEN] = "";

	if (store_rule_add(s, r, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("store_rule_add: %s", err);
	return r->id;
}

static size_t
count_rules(struct store *s)
{
	char err[STORE_ERRLEN] = "";
	struct rule *rules;
	size_t n;

	if (store_rule_list(s, NULL, &rules, &n, err, sizeof(err)) != 0)
		fail_msg("store_rule_list: %s", err);
	free(rules);
	return n;
}

static void
assert_rule_equal(const struct rule *a, const struct rule *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->app, b->app);
	assert_int_equal(a->has_uid, b->has_uid);
	if (a->has_uid)
		assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->dest_kind, b->dest_kind);
	assert_string_equal(a->dest, b->dest);
	if (a->dest_kind == DEST_IP || a->dest_kind == DEST_CIDR) {
		assert_int_equal(a->family, b->family);
		assert_int_equal(a->prefix, b->prefix);
		assert_memory_equal(a->addr, b->addr,
		                    a->family == AF_INET ? 4 : 16);
	}
	assert_int_equal(a->port_lo, b->port_lo);
	assert_int_equal(a->port_hi, b->port_hi);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->duration, b->duration);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->enabled, b->enabled);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->updated, b->updated);
	assert_int_equal(a->hits, b->hits);
	assert_int_equal(a->last_hit, b->last_hit);
	assert_string_equal(a->note, b->note);
	assert_string_equal(a->via, b->via);
}

/* Run SQL on a file directly, as another program (or an old tollgate)
 * would. */
static void
raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fail_msg("sqlite3_open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Run SQL in a WAL database from a child that then dies without closing
 * it, as a crashed daemon would: the change stays in the -wal file. */
static void
crash_after_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
		                 NULL) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The whole file, to show that a refused database was not touched. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* A store with a few rules, closed so that everything is in the main
 * file. */
static void
make_db(const char *path, int n)
{
	struct store *s = open_rw(path);
	struct rule r;
	char name[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "host%d.example.com", i);
		plain_rule(&r, "/usr/bin/curl", name);
		add(s, &r);
	}
	store_close(s);
}

/* Open must fail, leaving the file exactly as it was, with a message
 * containing want. */
static void
assert_refused(const char *path, enum store_mode mode, const char *want)
{
	char err[STORE_ERRLEN] = "";
	size_t len0, len1;
	char *before, *after;
	struct store *s;

	before = slurp(path, &len0);
	s = store_open(path, mode, err, sizeof(err));
	if (s != NULL)
		fail_msg("store_open %s succeeded; wanted \"%s\"", path, want);
	if (strstr(err, want) == NULL)
		fail_msg("store_open error \"%s\" lacks \"%s\"", err, want);
	if (strchr(err, '\n') != NULL)
		fail_msg("store_open error \"%s\" is not one line", err);
	after = slurp(path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	free(before);
	free(after);
}

/* --- the tests ------------------------------------------------------------ */

static void
test_create_and_reopen(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "", p[256];
	struct store *s;
	struct stat sb;
	struct rule r;
	int64_t id;

	s = open_rw(f->db);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	plain_rule(&r, "/usr/bin/curl", "example.com");
	id = add(s, &r);
	assert_true(id > 0);
	store_close(s);

	assert_int_equal(stat(f->dbdir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, STORE_DIR_MODE);
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, STORE_FILE_MODE);
	/* -wal and -shm stay, with the database's mode, so that a reader
	 * that cannot create files in the directory can still open it. */
	snprintf(p, sizeof(p), "%s-wal", f->db);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, STORE_FILE_MODE);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, STORE_FILE_MODE);

	/* Reopened read-write and read-only: the rule is there. */
	s = open_rw(f->db);
	assert_int_equal(store_rule_get(s, id, &r, err, sizeof(err)), STORE_OK);
	assert_string_equal(r.dest, "example.com");
	store_close(s);

	s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_rule_get(s, id, &r, err, sizeof(err)), STORE_OK);
	assert_string_equal(r.app, "/usr/bin/curl");
	/* A read-only store refuses writes and says why. */
	plain_rule(&r, "*", "example.org");
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "read-only"));
	store_close(s);
}

static void
test_every_field_round_trips(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct rule in[4], out;
	struct store *s;
	time_t t0 = time(NULL);
	int i;

	s = open_rw(f->db);

	/* Every field away from its default. */
	plain_rule(&in[0], "/opt/App With Spaces/bin/app", NULL);
	in[0].has_uid = true;
	in[0].uid = 1000;
	in[0].dest_kind = DEST_WILDCARD;
	snprintf(in[0].dest, sizeof(in[0].dest), "xn--bcher-kva.example");
	in[0].port_lo = 8000;
	in[0].port_hi = 8080;
	in[0].proto = RPROTO_UDP;
	in[0].action = ACTION_REJECT;
	in[0].duration = DUR_UNTIL;
	in[0].expires = 2000000000;
	in[0].priority = -7;
	in[0].enabled = false;
	in[0].hits = 123456789012ULL;
	in[0].last_hit = 1700000000;
	snprintf(in[0].note, sizeof(in[0].note),
	         "work \"proxy\"\\ \xc3\xa9t\xc3\xa9 = ok");
	snprintf(in[0].script, sizeof(in[0].script), "/home/u/bin/sync.py");
	snprintf(in[0].cmdline, sizeof(in[0].cmdline), "* --\"daemon\" *");

	plain_rule(&in[1], "*", NULL);
	in[1].dest_kind = DEST_IP;
	snprintf(in[1].dest, sizeof(in[1].dest), "192.0.2.1");
	in[1].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", in[1].addr);
	in[1].prefix = 32;
	in[1].port_lo = in[1].port_hi = 443;
	in[1].proto = RPROTO_TCP;
	in[1].action = ACTION_DENY;
	in[1].duration = DUR_RESTART;
	in[1].has_uid = true;
	in[1].uid = 0;

	plain_rule(&in[2], "/usr/bin/ssh", NULL);
	in[2].dest_kind = DEST_CIDR;
	snprintf(in[2].dest, sizeof(in[2].dest), "2001:db8::/32");
	in[2].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::", in[2].addr);
	in[2].prefix = 32;
	in[2].proto = RPROTO_DNS;
	in[2].duration = DUR_ONCE;
	in[2].priority = 100;

	plain_rule(&in[3], "*", NULL); /* any destination */
	in[3].action = ACTION_DENY;

	for (i = 0; i < 4; i++) {
		add(s, &in[i]);
		assert_true(in[i].created >= t0);
		assert_int_equal(in[i].updated, in[i].created);
	}
	store_close(s);

	s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(s);
	for (i = 0; i < 4; i++) {
		assert_int_equal(
		    store_rule_get(s, in[i].id, &out, err, sizeof(err)),
		    STORE_OK);
		assert_rule_equal(&in[i], &out);
		assert_int_equal(out.has_uid, i < 2);
	}
	assert_int_equal(store_rule_get(s, 999, &out, err, sizeof(err)),
	                 STORE_NOTFOUND);
	assert_string_equal(err, "no rule 999");
	store_close(s);
}

static void
test_bad_rules_are_refused(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct store *s = open_rw(f->db);
	const char *names[] = {"a.example"};
	struct rule r;

	plain_rule(&r, "", "example.com");
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "app"));

	plain_rule(&r, "*", "example.com");
	r.port_lo = 90;
	r.port_hi = 80;
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port"));

	plain_rule(&r, "*", "example.com");
	r.action = (enum action)7;
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "action"));

	plain_rule(&r, "*", "example.com");
	assert_int_equal(store_rule_add(s, &r, names, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without a list"));

	plain_rule(&r, "*", "example.com");
	snprintf(r.script, sizeof(r.script), "/x.py");
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "script or cmdline on a rule for any app"));

	assert_int_equal(count_rules(s), 0);
	store_close(s);
}

/* A rule's route is stored, edited, loaded; never on a blocking rule. */
static void
test_via_stored(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct rules_set set;
	struct rule r, got;
	struct store *s;
	int64_t a, b;

	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/thunderbird", "mail.example.org");
	snprintf(r.via, sizeof(r.via), "mail");
	a = add(s, &r);
	plain_rule(&r, "/usr/bin/apt", "deb.debian.org");
	b = add(s, &r);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.via, "mail");
	assert_int_equal(store_rule_get(s, b, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.via, "");

	snprintf(got.via, sizeof(got.via), "direct");
	assert_int_equal(store_rule_edit(s, &got, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	store_close(s);

	s = open_rw(f->db);
	rules_set_init(&set);
	assert_int_equal(store_load(s, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n_rules, 2);
	assert_string_equal(set.rules[0].via, "mail");
	assert_string_equal(set.rules[1].via, "direct");
	rules_set_free(&set);

	/* A deny rule with a route is refused, and nothing changes. */
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	got.action = ACTION_DENY;
	assert_int_equal(store_rule_edit(s, &got, NULL, 0, err, sizeof(err)),
	                 STORE_ERROR);
	assert_non_null(strstr(err, "via on a rule that does not allow"));
	plain_rule(&r, "*", "x.example");
	r.action = ACTION_REJECT;
	snprintf(r.via, sizeof(r.via), "upstream");
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "via on a rule that does not allow"));
	assert_int_equal(count_rules(s), 2);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(got.action, ACTION_ALLOW);
	store_close(s);
}

/* A named secret: made once, the same after a reopen, one per name. */
static void
test_secrets(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	uint8_t a[32], a2[32], b[32], zero[32] = {0}, small[16];
	struct store *s;

	s = open_rw(f->db);
	assert_int_equal(
	    store_secret(s, "isolation", a, sizeof(a), err, sizeof(err)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(
	    store_secret(s, "isolation", a2, sizeof(a2), err, sizeof(err)), 0);
	assert_memory_equal(a, a2, sizeof(a));
	assert_int_equal(
	    store_secret(s, "other", b, sizeof(b), err, sizeof(err)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	store_close(s);

	/* Across a restart, and for a reader (the CLI) too. */
	memset(a2, 0, sizeof(a2));
	s = open_rw(f->db);
	assert_int_equal(
	    store_secret(s, "isolation", a2, sizeof(a2), err, sizeof(err)), 0);
	assert_memory_equal(a, a2, sizeof(a));
	store_close(s);
	memset(a2, 0, sizeof(a2));
	s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(
	    store_secret(s, "isolation", a2, sizeof(a2), err, sizeof(err)), 0);
	assert_memory_equal(a, a2, sizeof(a));
	/* A reader cannot make one. */
	assert_int_equal(store_secret(s, "new", b, sizeof(b), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "making the secret \"new\""));
	assert_non_null(strstr(err, "read-only"));
	store_close(s);

	/* The stored length is the secret's: another length is an error,
	 * never a second secret of the same name. */
	s = open_rw(f->db);
	assert_int_equal(store_secret(s, "isolation", small, sizeof(small), err,
	                              sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "the stored secret is 32 bytes, not 16"));
	assert_int_equal(store_secret(s, "isolation", a2, 0, err, sizeof(err)),
	                 -1);
	assert_int_equal(store_secret(s, "isolation", a2, STORE_SECRET_MAX + 1,
	                              err, sizeof(err)),
	                 -1);
	store_close(s);
}

static void
test_delete_enable_edit(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	const char *two[] = {"b.example", "a.example"};
	const char *one[] = {"c.example"};
	struct store_hit hit;
	struct rule r, got;
	struct store *s;
	int64_t a, b;

	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/curl", "one.example");
	a = add(s, &r);
	plain_rule(&r, "/usr/bin/wget", NULL);
	r.dest_kind = DEST_LIST;
	snprintf(r.dest, sizeof(r.dest), "ads");
	assert_int_equal(store_rule_add(s, &r, two, 2, err, sizeof(err)), 0);
	b = r.id;
	assert_int_equal(store_list_count(s, b, err, sizeof(err)), 2);

	/* Disable, enable. */
	assert_int_equal(store_rule_enable(s, a, false, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_false(got.enabled);
	assert_int_equal(store_rule_enable(s, a, true, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_true(got.enabled);
	assert_int_equal(store_rule_enable(s, 4242, true, err, sizeof(err)),
	                 STORE_NOTFOUND);
	assert_string_equal(err, "no rule 4242");

	/* Edit: new fields, but created, hits and last_hit stay. */
	hit.id = a;
	hit.hits = 5;
	hit.last_hit = 1700000000;
	assert_int_equal(store_add_hits(s, &hit, 1, err, sizeof(err)), 0);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	r = got;
	r.action = ACTION_DENY;
	snprintf(r.dest, sizeof(r.dest), "two.example");
	snprintf(r.note, sizeof(r.note), "changed");
	r.created = 1;
	r.hits = 0;
	assert_int_equal(store_rule_edit(s, &r, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(r.created, got.created);
	assert_int_equal(r.hits, 5);
	assert_true(r.updated >= got.updated);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_rule_equal(&r, &got);
	assert_int_equal(got.action, ACTION_DENY);
	assert_string_equal(got.note, "changed");

	r.id = 4242;
	assert_int_equal(store_rule_edit(s, &r, NULL, 0, err, sizeof(err)),
	                 STORE_NOTFOUND);

	/* A list rule: names kept when none are given, replaced when they
	 * are, dropped when the rule stops being a list rule. */
	assert_int_equal(store_rule_get(s, b, &r, err, sizeof(err)), STORE_OK);
	r.priority = 3;
	assert_int_equal(store_rule_edit(s, &r, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(store_list_count(s, b, err, sizeof(err)), 2);
	assert_int_equal(store_rule_edit(s, &r, one, 1, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(store_list_count(s, b, err, sizeof(err)), 1);
	r.dest_kind = DEST_NAME;
	snprintf(r.dest, sizeof(r.dest), "c.example");
	assert_int_equal(store_rule_edit(s, &r, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(store_list_count(s, b, err, sizeof(err)), 0);

	/* Delete: gone, and a second delete says so. */
	assert_int_equal(store_rule_delete(s, a, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_rule_get(s, a, &got, err, sizeof(err)),
	                 STORE_NOTFOUND);
	assert_int_equal(store_rule_delete(s, a, err, sizeof(err)),
	                 STORE_NOTFOUND);
	assert_int_equal(count_rules(s), 1);

	/* A new rule never takes a deleted rule's id (events name rules by
	 * id). */
	plain_rule(&r, "*", "new.example");
	assert_true(add(s, &r) > b);
	store_close(s);
}

/* A second writer that changes rule `id` to deny when the first
 * connection starts to write (BEGIN or UPDATE): after whatever it read
 * before, as store_rule_pin() did when it read the rule first. */
struct pin_race {
	const char *db;
	int64_t id;
	bool done;
};

static int
pin_race_hook(unsigned type, void *arg, void *p, void *x)
{
	struct pin_race *race = arg;
	char sql[128];
	sqlite3 *other;

	if (race->done ||
	    (strncmp(x, "BEGIN", 5) != 0 && strncmp(x, "UPDATE", 6) != 0))
		return 0;
	race->done = true;
	snprintf(sql, sizeof(sql),
	         "UPDATE rules SET action = 'deny' WHERE id = %lld",
	         (long long)race->id);
	if (sqlite3_open(race->db, &other) != SQLITE_OK ||
	    sqlite3_exec(other, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("the second writer: %s", sqlite3_errmsg(other));
	sqlite3_close(other);
	return 0;
}

/* store_rule_pin(): a pinned allow rule gets the new digest, its other
 * fields kept; a rule that is not (any more) a pinned allow rule is not
 * touched, even when another writer made it so at the last moment. */
static void
test_pin(void **state)
{
	static const char d1[] = "1111111111111111111111111111111111111111111"
	                         "111111111111111111111",
	                  d2[] = "2222222222222222222222222222222222222222222"
	                         "222222222222222222222";
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct pin_race race = {f->db, 0, false};
	struct rule r, got;
	struct store *s;
	int64_t pinned, plain, deny;

	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/curl", "a.example");
	snprintf(r.digest, sizeof(r.digest), "%s", d1);
	snprintf(r.note, sizeof(r.note), "kept");
	r.priority = 7;
	pinned = add(s, &r);
	plain_rule(&r, "/usr/bin/curl", "b.example");
	plain = add(s, &r);
	plain_rule(&r, "/usr/bin/curl", "c.example");
	snprintf(r.digest, sizeof(r.digest), "%s", d1);
	r.action = ACTION_DENY;
	deny = add(s, &r);

	assert_int_equal(
	    store_rule_pin(s, pinned, "/usr/bin/curl", d2, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_rule_get(s, pinned, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.digest, d2);
	assert_string_equal(got.note, "kept");
	assert_int_equal(got.priority, 7);
	assert_int_equal(got.action, ACTION_ALLOW);
	assert_string_equal(got.dest, "a.example");

	/* Not pinned, not allow, not there: nothing pinned. */
	assert_int_equal(
	    store_rule_pin(s, plain, "/usr/bin/curl", d2, err, sizeof(err)),
	    STORE_NOTFOUND);
	assert_non_null(strstr(err, "no longer a pinned allow rule"));
	assert_int_equal(store_rule_get(s, plain, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.digest, "");
	assert_int_equal(
	    store_rule_pin(s, deny, "/usr/bin/curl", d2, err, sizeof(err)),
	    STORE_NOTFOUND);
	assert_int_equal(store_rule_get(s, deny, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.digest, d1);
	assert_int_equal(
	    store_rule_pin(s, 4242, "/usr/bin/curl", d2, err, sizeof(err)),
	    STORE_NOTFOUND);
	/* Made another app's rule while the prompt waited: not pinned to
	 * this app's file. */
	assert_int_equal(
	    store_rule_pin(s, pinned, "/usr/bin/wget", d1, err, sizeof(err)),
	    STORE_NOTFOUND);
	assert_int_equal(store_rule_get(s, pinned, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_string_equal(got.digest, d2);

	/* Made a deny rule by another writer while the pin is on its way:
	 * it stays a deny rule of its old digest. */
	race.id = pinned;
	sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, pin_race_hook, &race);
	assert_int_equal(
	    store_rule_pin(s, pinned, "/usr/bin/curl", d1, err, sizeof(err)),
	    STORE_NOTFOUND);
	sqlite3_trace_v2(s->db, 0, NULL, NULL);
	assert_true(race.done);
	assert_int_equal(store_rule_get(s, pinned, &got, err, sizeof(err)),
	                 STORE_OK);
	assert_int_equal(got.action, ACTION_DENY);
	assert_string_equal(got.digest, d2);
	store_close(s);
}

static void
test_list_filtered_by_app(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	const char *apps[] = {"/usr/bin/curl", "/usr/bin/wget", "/usr/bin/curl",
	                      "*", "/usr/bin/curl"};
	struct rule r, *rules;
	struct store *s;
	size_t n, i;

	s = open_rw(f->db);
	for (i = 0; i < 5; i++) {
		plain_rule(&r, apps[i], "example.com");
		add(s, &r);
	}
	assert_int_equal(
	    store_rule_list(s, "/usr/bin/curl", &rules, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_string_equal(rules[i].app, "/usr/bin/curl");
		if (i > 0)
			assert_true(rules[i].id > rules[i - 1].id);
	}
	free(rules);
	assert_int_equal(
	    store_rule_list(s, "/usr/bin/none", &rules, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 0);
	assert_null(rules);
	assert_int_equal(store_rule_list(s, NULL, &rules, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 5);
	free(rules);
	store_close(s);
}

/* n names "hN.ads.example", in no particular order. */
static char **
make_names(size_t n)
{
	char **names = calloc(n, sizeof(*names));
	size_t i;

	assert_non_null(names);
	for (i = 0; i < n; i++) {
		names[i] = malloc(32);
		assert_non_null(names[i]);
		snprintf(names[i], 32, "h%zu.ads.example",
		         (i * 7919) % n); /* a permutation of 0..n-1 */
	}
	return names;
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

#define BIG_LIST 100000

static void
test_import_big_list(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	char **names = make_names(BIG_LIST);
	struct rules_set set, loaded;
	struct rule r;
	struct store *s;
	double t0, t_import, t_load;
	size_t i;

	rules_set_init(&set);
	plain_rule(&r, "*", NULL);
	r.dest_kind = DEST_LIST;
	snprintf(r.dest, sizeof(r.dest), "ads");
	r.action = ACTION_DENY;
	r.created = 1600000000; /* an exported rule keeps its times */
	r.updated = 1600000001;
	r.hits = 9;
	assert_int_equal(rules_set_add(&set, &r, (const char *const *)names,
	                               BIG_LIST, err, sizeof(err)),
	                 0);
	plain_rule(&r, "/usr/bin/curl", "example.com");
	assert_int_equal(rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);

	s = open_rw(f->db);
	t0 = now_ms();
	if (store_import(s, &set, false, err, sizeof(err)) != 0)
		fail_msg("store_import: %s", err);
	t_import = now_ms() - t0;
	assert_true(set.rules[0].id > 0);
	assert_true(set.rules[1].id > set.rules[0].id);
	assert_int_equal(store_list_count(s, set.rules[0].id, err, sizeof(err)),
	                 BIG_LIST);
	store_close(s);

	/* Read back as the daemon does, from a fresh open. */
	s = open_rw(f->db);
	rules_set_init(&loaded);
	t0 = now_ms();
	if (store_load(s, &loaded, err, sizeof(err)) != 0)
		fail_msg("store_load: %s", err);
	t_load = now_ms() - t0;
	/* Printed, not asserted: under sanitizers on a busy machine a time
	 * says nothing; bench/modules measures the import. */
	print_message("store: import of a %d-name list %.0f ms, load %.0f ms\n",
	              BIG_LIST, t_import, t_load);

	assert_int_equal(loaded.n_rules, 2);
	assert_int_equal(loaded.rules[0].dest_kind, DEST_LIST);
	assert_string_equal(loaded.rules[0].dest, "ads");
	assert_int_equal(loaded.rules[0].created, 1600000000);
	assert_int_equal(loaded.rules[0].updated, 1600000001);
	assert_int_equal(loaded.rules[0].hits, 9);
	assert_true(loaded.rules[1].created >= 1600000001);
	assert_non_null(loaded.lists);
	assert_int_equal(loaded.lists[0].n, BIG_LIST);
	for (i = 1; i < BIG_LIST; i++)
		assert_true(strcmp(loaded.lists[0].names[i - 1],
		                   loaded.lists[0].names[i]) < 0);
	assert_null(loaded.lists[1].names);
	rules_set_free(&loaded);

	/* A restore replaces what was there. */
	set.n_rules = 1; /* only the plain rule this time */
	set.rules[0] = set.rules[1];
	assert_int_equal(store_import(s, &set, true, err, sizeof(err)), 0);
	assert_int_equal(count_rules(s), 1);
	store_close(s);

	set.n_rules = 2;
	rules_set_free(&set);
	free_names(names, BIG_LIST);
}

static void
test_import_failing_half_way_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	char **names = make_names(BIG_LIST);
	struct rules_set set;
	struct rule r;
	struct store *s;
	size_t i;

	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/curl", "kept.example");
	add(s, &r);

	/* A good list, then a bad rule: nothing of it may stay. */
	rules_set_init(&set);
	plain_rule(&r, "*", NULL);
	r.dest_kind = DEST_LIST;
	snprintf(r.dest, sizeof(r.dest), "ads");
	assert_int_equal(rules_set_add(&set, &r, (const char *const *)names,
	                               BIG_LIST, err, sizeof(err)),
	                 0);
	for (i = 0; i < 10; i++) {
		plain_rule(&r, "/usr/bin/wget", "example.org");
		assert_int_equal(
		    rules_set_add(&set, &r, NULL, 0, err, sizeof(err)), 0);
	}
	set.rules[7].port_lo = 100; /* not a range: refused by the store */
	set.rules[7].port_hi = 10;
	assert_int_equal(store_import(s, &set, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "importing rule 8"));
	for (i = 0; i < set.n_rules; i++)
		assert_int_equal(set.rules[i].id, 0);
	assert_int_equal(count_rules(s), 1);

	/* A replacing import that fails keeps the old rules too. */
	assert_int_equal(store_import(s, &set, true, err, sizeof(err)), -1);
	assert_int_equal(count_rules(s), 1);
	store_close(s);

	/* And after a reopen: one rule, no names anywhere. */
	s = open_rw(f->db);
	assert_int_equal(count_rules(s), 1);
	for (i = 1; i < 20; i++)
		assert_int_equal(
		    store_list_count(s, (int64_t)i, err, sizeof(err)), 0);
	store_close(s);
	rules_set_free(&set);
	free_names(names, BIG_LIST);
}

/* import_list: one import of a list rule NAME, with the names, for each
 * app of the NULL-ended apps. */
static void
import_list(struct store *s, const char *const *apps, const char *name,
            const char *const *names, size_t n)
{
	char err[STORE_ERRLEN] = "";
	struct rules_set set;
	struct rule r;

	rules_set_init(&set);
	for (; *apps != NULL; apps++) {
		plain_rule(&r, *apps, NULL);
		r.dest_kind = DEST_LIST;
		snprintf(r.dest, sizeof(r.dest), "%s", name);
		assert_int_equal(
		    rules_set_add(&set, &r, names, n, err, sizeof(err)), 0);
	}
	if (store_import(s, &set, false, err, sizeof(err)) != 0)
		fail_msg("store_import: %s", err);
	rules_set_free(&set);
}

static void
test_import_replaces_a_list_of_that_name(void **state)
{
	struct fixture *f = *state;
	static const char *const v1[] = {"a.example", "b.example"};
	static const char *const v2[] = {"c.example"};
	static const char *const two[] = {"*", "/usr/bin/wget", NULL};
	static const char *const any[] = {"*", NULL};
	char err[STORE_ERRLEN] = "";
	struct rules_set loaded;
	struct rule r;
	struct store *s;
	size_t i, n_ads = 0;

	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/curl", "kept.example");
	add(s, &r);
	import_list(s, two, "ads", v1, 2); /* one import, two rules of ads */
	import_list(s, any, "other", v1, 2);
	assert_int_equal(count_rules(s), 4);

	/* ads again: both of its rules give way to the one imported; the
	 * plain rule and the other list stay. */
	import_list(s, any, "ads", v2, 1);
	assert_int_equal(count_rules(s), 3);
	rules_set_init(&loaded);
	if (store_load(s, &loaded, err, sizeof(err)) != 0)
		fail_msg("store_load: %s", err);
	for (i = 0; i < loaded.n_rules; i++) {
		if (loaded.rules[i].dest_kind != DEST_LIST ||
		    strcmp(loaded.rules[i].dest, "ads") != 0)
			continue;
		n_ads++;
		assert_string_equal(loaded.rules[i].app, "*");
		assert_int_equal(loaded.lists[i].n, 1);
		assert_string_equal(loaded.lists[i].names[0], "c.example");
	}
	assert_int_equal(n_ads, 1);
	rules_set_free(&loaded);
	store_close(s);
}

static void
test_hit_batches(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct store_hit hits[4];
	struct rule r;
	struct store *s;
	int64_t a, b;

	s = open_rw(f->db);
	plain_rule(&r, "*", "a.example");
	a = add(s, &r);
	plain_rule(&r, "*", "b.example");
	b = add(s, &r);

	hits[0] = (struct store_hit){a, 3, 1000};
	hits[1] = (struct store_hit){b, 1, 2000};
	hits[2] = (struct store_hit){a, 2, 500};     /* older: last_hit stays */
	hits[3] = (struct store_hit){9999, 7, 3000}; /* deleted meanwhile */
	assert_int_equal(store_add_hits(s, hits, 4, err, sizeof(err)), 0);
	assert_int_equal(store_rule_get(s, a, &r, err, sizeof(err)), STORE_OK);
	assert_int_equal(r.hits, 5);
	assert_int_equal(r.last_hit, 1000);
	assert_int_equal(store_rule_get(s, b, &r, err, sizeof(err)), STORE_OK);
	assert_int_equal(r.hits, 1);
	assert_int_equal(r.last_hit, 2000);

	hits[0] = (struct store_hit){b, 10, 2500};
	assert_int_equal(store_add_hits(s, hits, 1, err, sizeof(err)), 0);
	assert_int_equal(store_rule_get(s, b, &r, err, sizeof(err)), STORE_OK);
	assert_int_equal(r.hits, 11);
	assert_int_equal(r.last_hit, 2500);
	assert_int_equal(store_add_hits(s, NULL, 0, err, sizeof(err)), 0);
	store_close(s);
}

static void
test_expired_and_transient_cleanup(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	enum rule_duration d[] = {DUR_ONCE,  DUR_RESTART, DUR_UNTIL,
	                          DUR_UNTIL, DUR_UNTIL,   DUR_FOREVER};
	time_t expires[] = {0, 0, 1000, 2000, 3000, 0};
	int64_t ids[6];
	struct rule r, *rules;
	struct store *s;
	size_t n, i;

	s = open_rw(f->db);
	for (i = 0; i < 6; i++) {
		plain_rule(&r, "*", "example.com");
		r.duration = d[i];
		r.expires = expires[i];
		ids[i] = add(s, &r);
	}
	/* At 2000: the rules that ran out at 1000 and at 2000 go. */
	assert_int_equal(store_delete_expired(s, 2000, err, sizeof(err)), 2);
	assert_int_equal(store_delete_expired(s, 2000, err, sizeof(err)), 0);
	/* Added with no daemon running: they are the next run's, and its
	 * start keeps them. */
	assert_int_equal(store_start_run(s, err, sizeof(err)), 0);
	assert_int_equal(store_rule_list(s, NULL, &rules, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 4);
	free(rules);
	/* The start after: once and restart rules of that run go. */
	assert_int_equal(store_start_run(s, err, sizeof(err)), 2);
	assert_int_equal(store_rule_list(s, NULL, &rules, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(rules[0].id, ids[4]);
	assert_int_equal(rules[1].id, ids[5]);
	free(rules);
	store_close(s);
}

/* Rules the daemon adds in its run go at the next start; those added
 * from outside while it is stopped, and edited ones, at the start after
 * next. */
static void
test_rules_of_a_run(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct rule r, *rules;
	struct store *d, *cli;
	int64_t in_run, outside, edited;
	size_t n;

	d = open_rw(f->db);
	cli = open_rw(f->db);
	assert_int_equal(store_start_run(d, err, sizeof(err)), 0);
	plain_rule(&r, "*", "a.example");
	r.duration = DUR_ONCE;
	in_run = add(d, &r);
	plain_rule(&r, "*", "b.example");
	r.duration = DUR_FOREVER;
	edited = add(d, &r);
	store_close(d);
	/* Stopped: a restart rule added, a forever one made once. */
	plain_rule(&r, "*", "c.example");
	r.duration = DUR_RESTART;
	outside = add(cli, &r);
	assert_int_equal(store_rule_get(cli, edited, &r, err, sizeof(err)),
	                 STORE_OK);
	r.duration = DUR_ONCE;
	assert_int_equal(store_rule_edit(cli, &r, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	d = open_rw(f->db);
	assert_int_equal(store_start_run(d, err, sizeof(err)), 1);
	assert_int_equal(store_rule_get(d, in_run, &r, err, sizeof(err)),
	                 STORE_NOTFOUND);
	assert_int_equal(store_rule_list(d, NULL, &rules, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(rules[0].id, edited);
	assert_int_equal(rules[1].id, outside);
	free(rules);
	store_close(d);
	d = open_rw(f->db);
	assert_int_equal(store_start_run(d, err, sizeof(err)), 2);
	assert_int_equal(store_rule_list(d, NULL, &rules, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 0);
	free(rules);
	store_close(d);
	store_close(cli);
}

/* Schema 1 exactly as the first tollgate wrote it; never edit. */
static const char v1_sql[] = SCHEMA_V1_TABLES
    "PRAGMA user_version = 1;"
    "INSERT INTO rules (app, uid, dest_kind, dest, port_lo, port_hi, proto,"
    " action, duration, expires, priority, enabled, created, updated, hits,"
    " last_hit) VALUES"
    " ('/usr/bin/curl', 1000, 'wildcard', 'example.com', 443, 443, 'tcp',"
    "  'allow', 'forever', 0, 2, 1, 1500000000, 1500000001, 42, 1600000000),"
    " ('*', NULL, 'list', 'ads', 0, 0, 'any', 'deny', 'until', 1900000000,"
    "  0, 0, 1500000002, 1500000003, 0, 0);"
    "INSERT INTO list_names VALUES (2, 'b.example'), (2, 'a.example');";

static void
test_migration_from_v1(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "";
	struct rules_set set;
	struct rule r;
	struct store *s;

	assert_int_equal(mkdir(f->dbdir, 0750), 0);
	raw_sql(f->db, v1_sql);

	/* Only tollgated upgrades; the CLI's read-only open says so. */
	assert_refused(f->db, STORE_READONLY, "schema 1; tollgated upgrades");

	s = open_rw(f->db);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_rule_get(s, 1, &r, err, sizeof(err)), STORE_OK);
	assert_string_equal(r.app, "/usr/bin/curl");
	assert_true(r.has_uid);
	assert_int_equal(r.uid, 1000);
	assert_int_equal(r.dest_kind, DEST_WILDCARD);
	assert_string_equal(r.dest, "example.com");
	assert_int_equal(r.port_lo, 443);
	assert_int_equal(r.proto, RPROTO_TCP);
	assert_int_equal(r.priority, 2);
	assert_int_equal(r.created, 1500000000);
	assert_int_equal(r.updated, 1500000001);
	assert_int_equal(r.hits, 42);
	assert_int_equal(r.last_hit, 1600000000);
	assert_string_equal(r.note, "");   /* the column schema 2 added */
	assert_string_equal(r.via, "");    /* and the one schema 4 added */
	assert_string_equal(r.script, ""); /* and those of schema 8 */
	assert_string_equal(r.cmdline, "");

	/* The new column works, and the list came through. */
	snprintf(r.note, sizeof(r.note), "from v1");
	snprintf(r.script, sizeof(r.script), "/home/u/x.py");
	assert_int_equal(store_rule_edit(s, &r, NULL, 0, err, sizeof(err)),
	                 STORE_OK);
	rules_set_init(&set);
	assert_int_equal(store_load(s, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n_rules, 2);
	assert_string_equal(set.rules[0].note, "from v1");
	assert_string_equal(set.rules[0].script, "/home/u/x.py");
	assert_int_equal(set.rules[1].dest_kind, DEST_LIST);
	assert_false(set.rules[1].enabled);
	assert_int_equal(set.rules[1].expires, 1900000000);
	assert_int_equal(set.lists[1].n, 2);
	assert_string_equal(set.lists[1].names[0], "a.example");
	assert_string_equal(set.lists[1].names[1], "b.example");
	rules_set_free(&set);
	store_close(s);

	/* And now the CLI may read it. */
	s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	char sql[64], want[128];

	make_db(f->db, 3);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	         STORE_SCHEMA_VERSION + 1);
	raw_sql(f->db, sql);
	snprintf(want, sizeof(want),
	         "database is from a newer tollgate (schema %d, this one "
	         "knows %d)",
	         STORE_SCHEMA_VERSION + 1, STORE_SCHEMA_VERSION);
	assert_refused(f->db, STORE_READWRITE, want);
	assert_refused(f->db, STORE_READONLY, want);

	/* A newer tollgated that died with its last change still in the
	 * -wal file: the refusal does not checkpoint it into the database. */
	unlink(f->db);
	make_db(f->db, 3);
	crash_after_sql(f->db, sql);
	assert_refused(f->db, STORE_READWRITE, want);
}

static void
test_corrupt_and_foreign_files_refused(void **state)
{
	struct fixture *f = *state;
	char garbage[512];
	struct stat sb;
	int fd;

	/* Garbage over the header. */
	make_db(f->db, 50);
	memset(garbage, 0x5a, sizeof(garbage));
	fd = open(f->db, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, garbage, sizeof(garbage)), sizeof(garbage));
	close(fd);
	assert_refused(f->db, STORE_READWRITE, "corrupt");
	assert_refused(f->db, STORE_READONLY, "corrupt");

	/* Cut short: the header says more pages than there are. */
	unlink(f->db);
	make_db(f->db, 300);
	assert_int_equal(stat(f->db, &sb), 0);
	assert_true(sb.st_size > 3 * 4096);
	assert_int_equal(truncate(f->db, 2 * 4096), 0);
	assert_refused(f->db, STORE_READWRITE, "corrupt");
	assert_refused(f->db, STORE_READONLY, "corrupt");

	/* A page in the middle overwritten: SQLite reports each problem on
	 * a line of its own; the error is still one line. */
	unlink(f->db);
	make_db(f->db, 300);
	fd = open(f->db, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, garbage, sizeof(garbage), 3 * 4096),
	                 sizeof(garbage));
	assert_int_equal(pwrite(fd, garbage, sizeof(garbage), 6 * 4096),
	                 sizeof(garbage));
	close(fd);
	assert_refused(f->db, STORE_READWRITE, "corrupt");

	/* A database, but someone else's. */
	unlink(f->db);
	raw_sql(f->db, "CREATE TABLE photos (id INTEGER)");
	assert_refused(f->db, STORE_READWRITE, "not tollgate's");
}

static void
test_readonly_open_of_missing_database(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "", want[256];
	struct stat sb;

	assert_null(store_open(f->db, STORE_READONLY, err, sizeof(err)));
	snprintf(want, sizeof(want), "no database yet at %s", f->db);
	assert_string_equal(err, want);
	/* Nothing was created. */
	assert_int_equal(stat(f->dbdir, &sb), -1);
}

/* Run fn in a child that is uid and gid 65534 (nobody); its exit status. */
static int
as_nobody(void (*fn)(const char *), const char *path)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(99);
		fn(path);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
open_fails_denied(const char *path)
{
	char err[STORE_ERRLEN] = "";
	struct store *s = store_open(path, STORE_READONLY, err, sizeof(err));

	if (s != NULL || strstr(err, "Permission denied") == NULL) {
		fprintf(stderr, "unreadable open: %s\n", s ? "opened" : err);
		_exit(1);
	}
}

/* What reads_rules() expects to find (set before the fork). */
static size_t want_rules;

static void
reads_rules(const char *path)
{
	char err[STORE_ERRLEN] = "";
	struct store *s = store_open(path, STORE_READONLY, err, sizeof(err));
	struct rule *rules;
	size_t n;

	if (s == NULL) {
		fprintf(stderr, "reader: %s\n", err);
		_exit(1);
	}
	if (store_rule_list(s, NULL, &rules, &n, err, sizeof(err)) != 0 ||
	    n != want_rules) {
		fprintf(stderr, "reader: %s (%zu rules)\n", err, n);
		_exit(2);
	}
	free(rules);
	store_close(s);
}

static void
test_unreadable_refused_and_group_reader(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "", p[256];
	struct store *s;
	struct stat sb;
	struct rule r;

	if (geteuid() != 0) {
		print_message("not root: cannot switch users; skipped\n");
		skip();
	}
	assert_int_equal(chmod(f->dir, 0755), 0);
	make_db(f->db, 3);

	/* The daemon's files: owner root here, group 65534 as an admin
	 * group would be. */
	s = open_rw(f->db);
	assert_int_equal(store_chown(s, 0, 65534, err, sizeof(err)), 0);
	store_close(s);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_gid, 65534);
	assert_int_equal(stat(f->dbdir, &sb), 0);
	assert_int_equal(sb.st_gid, 65534);

	/* In the group: reads with no writer running, in a directory it
	 * may not write to. */
	want_rules = 3;
	assert_int_equal(as_nobody(reads_rules, f->db), 0);

	/* And while the daemon has it open, with a change still in the
	 * -wal file. */
	s = open_rw(f->db);
	plain_rule(&r, "/usr/bin/curl", "fourth.example");
	add(s, &r);
	want_rules = 4;
	assert_int_equal(as_nobody(reads_rules, f->db), 0);
	store_close(s);

	/* Not in the group: a clear refusal. */
	s = open_rw(f->db);
	assert_int_equal(store_chown(s, 0, 0, err, sizeof(err)), 0);
	store_close(s);
	assert_int_equal(as_nobody(open_fails_denied, f->db), 0);
}

#define WRITER_RULES 150

struct writer {
	const char *path;
	const char *app;
	int failures;
	char err[STORE_ERRLEN];
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct store *s;
	struct rule r;
	struct store_hit h;
	int i;

	s = store_open(w->path, STORE_READWRITE, w->err, sizeof(w->err));
	if (s == NULL) {
		w->failures = WRITER_RULES;
		return NULL;
	}
	for (i = 0; i < WRITER_RULES; i++) {
		plain_rule(&r, w->app, "example.com");
		if (store_rule_add(s, &r, NULL, 0, w->err, sizeof(w->err)) !=
		    0) {
			w->failures++;
			continue;
		}
		h = (struct store_hit){r.id, 1, i};
		if (store_add_hits(s, &h, 1, w->err, sizeof(w->err)) != 0)
			w->failures++;
	}
	store_close(s);
	return NULL;
}

static void
test_two_writers_at_once(void **state)
{
	struct fixture *f = *state;
	struct writer w[2] = {{.path = f->db, .app = "/usr/bin/one"},
	                      {.path = f->db, .app = "/usr/bin/two"}};
	pthread_t t[2];
	char err[STORE_ERRLEN] = "";
	struct rule *rules;
	struct store *s;
	size_t n, i;
	int k;

	make_db(f->db, 0);
	for (k = 0; k < 2; k++)
		assert_int_equal(
		    pthread_create(&t[k], NULL, writer_main, &w[k]), 0);
	/* A reader at the same time, as the CLI would be. */
	s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(s);
	for (i = 0; i < 20; i++) {
		assert_int_equal(
		    store_rule_list(s, NULL, &rules, &n, err, sizeof(err)), 0);
		free(rules);
	}
	store_close(s);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		if (w[k].failures != 0)
			fail_msg("writer %d: %d failures, last: %s", k,
			         w[k].failures, w[k].err);
	}

	s = open_rw(f->db);
	for (k = 0; k < 2; k++) {
		assert_int_equal(
		    store_rule_list(s, w[k].app, &rules, &n, err, sizeof(err)),
		    0);
		assert_int_equal(n, WRITER_RULES);
		for (i = 0; i < n; i++)
			assert_int_equal(rules[i].hits, 1);
		free(rules);
	}
	store_close(s);
}

static void
test_full_disk(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN] = "", mnt[128], db[192], name[64];
	const char *names[200];
	char buf[200][64];
	struct rule r;
	struct store *s;
	int64_t last_good = 0;
	int i, j, added = 0, rc = 0;

	snprintf(mnt, sizeof(mnt), "%s/small", f->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=512k") == -1) {
		print_message("mount tmpfs on %s: %s; full-disk test skipped\n",
		              mnt, strerror(errno));
		skip();
	}
	snprintf(db, sizeof(db), "%s/lib/tollgate.db", mnt);
	s = open_rw(db);
	plain_rule(&r, "/usr/bin/curl", "first.example");
	add(s, &r);

	/* List rules of 200 names each until the disk is full. */
	for (i = 0; i < 10000; i++) {
		for (j = 0; j < 200; j++) {
			snprintf(
			    buf[j], sizeof(buf[j]),
			    "n%d-%d.a-rather-long-name-to-fill-pages.example",
			    i, j);
			names[j] = buf[j];
		}
		plain_rule(&r, "*", NULL);
		r.dest_kind = DEST_LIST;
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(r.dest, sizeof(r.dest), "%s", name);
		rc = store_rule_add(s, &r, names, 200, err, sizeof(err));
		if (rc != 0)
			break;
		last_good = r.id;
		added++;
	}
	print_message("full disk after %d list rules: %s\n", added, err);
	assert_int_equal(rc, -1);
	assert_true(added > 0);
	assert_true(strstr(err, "full") != NULL || strstr(err, "I/O") != NULL);
	/* The failed rule left nothing; the store still reads. */
	assert_int_equal(count_rules(s), (size_t)added + 1);
	store_close(s);

	s = open_rw(db);
	assert_int_equal(count_rules(s), (size_t)added + 1);
	assert_int_equal(store_list_count(s, last_good, err, sizeof(err)), 200);
	assert_int_equal(store_rule_get(s, 1, &r, err, sizeof(err)), STORE_OK);
	assert_string_equal(r.dest, "first.example");
	store_close(s);
	if (umount(mnt) == -1)
		fail_msg("umount %s: %s", mnt, strerror(errno));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_reopen, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_every_field_round_trips, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rules_are_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_via_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_enable_edit, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_filtered_by_app, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_import_big_list, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_import_failing_half_way_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_import_replaces_a_list_of_that_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hit_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_of_a_run, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_expired_and_transient_cleanup,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v1, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_corrupt_and_foreign_files_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_readonly_open_of_missing_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unreadable_refused_and_group_reader, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_writers_at_once, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
