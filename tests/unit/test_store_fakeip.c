/*
 * test_store_fakeip.c - the fake-IP map in the database (store/fakeip.h):
 * mappings survive closing and opening again, a name keeps one row and
 * an address one name, loading is oldest first, pruning keeps the newest,
 * and a failed write stores nothing.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/fakeip.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char db[128];
	struct store *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[STORE_ERRLEN];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-fakeip-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/lib/tollgate.db", f->dir);
	f->s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	if (f->s == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		free(f);
		return -1;
	}
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

static struct store_fakeip
mapping(const char *name, const char *v4, const char *v6, int64_t last_used)
{
	struct store_fakeip m = {.name = name, .last_used = last_used};

	assert_int_equal(inet_pton(AF_INET, v4, &m.v4), 1);
	if (v6 != NULL) {
		assert_int_equal(inet_pton(AF_INET6, v6, &m.v6), 1);
		m.has_v6 = true;
	}
	return m;
}

/* What load gives, as "name=v4[,v6]@last_used " per row; stops after
 * stop_after rows when that is not 0. */
struct rows {
	char text[1024];
	size_t n, stop_after;
};

static int
add_row(void *arg, const struct store_fakeip *m)
{
	struct rows *r = arg;
	char a[INET_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t len = strlen(r->text);

	inet_ntop(AF_INET, &m->v4, a, sizeof(a));
	if (m->has_v6)
		inet_ntop(AF_INET6, &m->v6, b, sizeof(b));
	snprintf(r->text + len, sizeof(r->text) - len, "%s=%s%s%s@%lld ",
	         m->name, a, m->has_v6 ? "," : "", m->has_v6 ? b : "",
	         (long long)m->last_used);
	r->n++;
	return r->stop_after != 0 && r->n == r->stop_after ? 5 : 0;
}

static const char *
load_all(struct store *s)
{
	static struct rows r;
	char err[STORE_ERRLEN] = "";

	memset(&r, 0, sizeof(r));
	if (store_fakeip_load(s, add_row, &r, err, sizeof(err)) != 0)
		fail_msg("load: %s", err);
	return r.text;
}

/* tollgated stops and starts again: the mappings are there, both
 * addresses and the time of last use, also for a reader. */
static void
test_a_mapping_survives_a_restart(void **state)
{
	struct fixture *f = *state;
	struct store_fakeip m[2] = {
	    mapping("www.example.com", "198.18.0.1", "fd00:7467::1", 1000),
	    mapping("host.example", "198.18.0.2", NULL, 900),
	};
	char err[STORE_ERRLEN] = "";

	assert_int_equal(store_fakeip_put(f->s, m, 2, err, sizeof(err)), 0);
	store_close(f->s);
	f->s = store_open(f->db, STORE_READONLY, err, sizeof(err));
	assert_non_null(f->s);
	assert_string_equal(load_all(f->s),
	                    "host.example=198.18.0.2@900 "
	                    "www.example.com=198.18.0.1,fd00:7467::1@1000 ");
	/* A reader may not write. */
	assert_int_equal(store_fakeip_put(f->s, m, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "storing fake IP mappings"));
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(store_fakeip_prune(f->s, 1, err, sizeof(err)), -1);
	assert_int_equal(
	    store_fakeip_delete(f->s, "host.example", err, sizeof(err)), -1);
	store_close(f->s);
	f->s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_string_equal(load_all(f->s),
	                    "host.example=198.18.0.2@900 "
	                    "www.example.com=198.18.0.1,fd00:7467::1@1000 ");
}

/* A name used again keeps its one row and its address; a name that
 * takes over an address ends the row of the name that had it. */
static void
test_a_name_keeps_one_row_and_an_address_one_name(void **state)
{
	struct fixture *f = *state;
	struct store_fakeip m[3];
	char err[STORE_ERRLEN] = "";

	m[0] = mapping("a.test", "198.18.0.1", NULL, 100);
	m[1] = mapping("b.test", "198.18.0.2", NULL, 110);
	assert_int_equal(store_fakeip_put(f->s, m, 2, err, sizeof(err)), 0);
	m[0] = mapping("a.test", "198.18.0.1", NULL, 300);
	assert_int_equal(store_fakeip_put(f->s, m, 1, err, sizeof(err)), 0);
	assert_string_equal(load_all(f->s),
	                    "b.test=198.18.0.2@110 a.test=198.18.0.1@300 ");
	/* c.test took b.test's slot; then a.test moved (the range
	 * changed), in one batch. */
	m[0] = mapping("c.test", "198.18.0.2", NULL, 400);
	m[1] = mapping("a.test", "198.18.0.9", "fd00::9", 401);
	assert_int_equal(store_fakeip_put(f->s, m, 2, err, sizeof(err)), 0);
	assert_string_equal(load_all(f->s), "c.test=198.18.0.2@400 "
	                                    "a.test=198.18.0.9,fd00::9@401 ");
	assert_int_equal(store_fakeip_delete(f->s, "c.test", err, sizeof(err)),
	                 0);
	assert_int_equal(
	    store_fakeip_delete(f->s, "nothing.test", err, sizeof(err)), 0);
	assert_string_equal(load_all(f->s), "a.test=198.18.0.9,fd00::9@401 ");
}

/* Loading is oldest first, ties by name, and stops when told. */
static void
test_load_is_oldest_first(void **state)
{
	struct fixture *f = *state;
	struct store_fakeip m[4] = {
	    mapping("d.test", "198.18.0.4", NULL, 50),
	    mapping("b.test", "198.18.0.2", NULL, 70),
	    mapping("a.test", "198.18.0.1", NULL, 70),
	    mapping("c.test", "198.18.0.3", NULL, 10),
	};
	struct rows r = {.stop_after = 2};
	char err[STORE_ERRLEN] = "";

	assert_string_equal(load_all(f->s), "");
	assert_int_equal(store_fakeip_put(f->s, m, 4, err, sizeof(err)), 0);
	assert_string_equal(load_all(f->s),
	                    "c.test=198.18.0.3@10 d.test=198.18.0.4@50 "
	                    "a.test=198.18.0.1@70 b.test=198.18.0.2@70 ");
	assert_int_equal(store_fakeip_load(f->s, add_row, &r, err, sizeof(err)),
	                 5);
	assert_string_equal(r.text,
	                    "c.test=198.18.0.3@10 d.test=198.18.0.4@50 ");
	/* The store is usable after a stopped load. */
	assert_int_equal(store_fakeip_put(f->s, m, 1, err, sizeof(err)), 0);
}

/* Pruning keeps the max most recently used mappings. */
static void
test_prune_keeps_the_newest(void **state)
{
	struct fixture *f = *state;
	struct store_fakeip m[5];
	char err[STORE_ERRLEN] = "", names[5][16], addr[5][16];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu.test", i);
		snprintf(addr[i], sizeof(addr[i]), "198.18.1.%zu", i + 1);
		/* n2 is the newest, n0 the oldest */
		m[i] = mapping(names[i], addr[i], NULL,
		               (int64_t[]){10, 30, 90, 50, 20}[i]);
	}
	assert_int_equal(store_fakeip_put(f->s, m, 5, err, sizeof(err)), 0);
	assert_int_equal(store_fakeip_prune(f->s, 3, err, sizeof(err)), 2);
	assert_string_equal(load_all(f->s),
	                    "n1.test=198.18.1.2@30 n3.test=198.18.1.4@50 "
	                    "n2.test=198.18.1.3@90 ");
	assert_int_equal(store_fakeip_prune(f->s, 3, err, sizeof(err)), 0);
	assert_int_equal(store_fakeip_prune(f->s, 0, err, sizeof(err)), 3);
	assert_string_equal(load_all(f->s), "");
}

/* A batch with a bad name stores nothing, and says why. */
static void
test_a_failed_put_stores_nothing(void **state)
{
	struct fixture *f = *state;
	char long_name[300];
	struct store_fakeip m[2];
	char err[STORE_ERRLEN] = "";

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	m[0] = mapping("ok.test", "198.18.0.1", NULL, 1);
	m[1] = mapping(long_name, "198.18.0.2", NULL, 2);
	assert_int_equal(store_fakeip_put(f->s, m, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a name of 299 bytes: expected 1 to 253"));
	m[1] = mapping("", "198.18.0.2", NULL, 2);
	assert_int_equal(store_fakeip_put(f->s, m, 2, err, sizeof(err)), -1);
	assert_string_equal(load_all(f->s), "");
	assert_int_equal(store_fakeip_put(f->s, m, 0, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_mapping_survives_a_restart,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_a_name_keeps_one_row_and_an_address_one_name, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_load_is_oldest_first, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_keeps_the_newest, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_failed_put_stores_nothing,
	                                    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
