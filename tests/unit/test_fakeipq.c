/*
 * test_fakeipq.c - the fake-IP map's changes on their way to the store
 * (proxyd/fakeipq.h): changes come out in the order they went in, a full
 * queue gives up its oldest USED and never an ADDED, and what a busy map
 * queues, written batch by batch, leaves the store holding what the map
 * holds, so a restart puts the same names at the same addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proxyd/fakeip.h"
#include "proxyd/fakeipq.h"
#include "store/fakeip.h"
#include "store/store.h"

static struct fakeip_entry
entry(const char *name, const char *v4, time_t last_used)
{
	struct fakeip_entry e = {.name = name, .last_used = last_used};

	assert_int_equal(inet_pton(AF_INET, v4, &e.v4), 1);
	return e;
}

/* "name=v4@last_used " for each change of b, in order. */
static const char *
batch_text(const struct fakeipq_batch *b, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < b->n && off < len; i++)
		off += (size_t)snprintf(
		    buf + off, len - off, "%s=%s@%lld ", b->m[i].name,
		    inet_ntop(AF_INET, &b->m[i].v4, a, sizeof(a)),
		    (long long)b->m[i].last_used);
	return buf;
}

static void
push(struct fakeipq *q, enum fakeip_change what, const char *name,
     const char *v4, time_t t, int want)
{
	struct fakeip_entry e = entry(name, v4, t);

	assert_int_equal(fakeipq_push(q, what, &e), want);
}

static void
test_changes_come_out_in_order(void **state)
{
	struct fakeipq *q = fakeipq_new(8);
	struct fakeipq_batch b;
	struct fakeip_entry e;
	char buf[512], a6[INET6_ADDRSTRLEN];

	(void)state;
	assert_non_null(q);
	assert_int_equal(fakeipq_take(q, &b), 0);
	assert_int_equal(b.n, 0);
	fakeipq_batch_free(&b);

	push(q, FAKEIP_ADDED, "a.test", "198.18.0.1", 100, 0);
	push(q, FAKEIP_REMOVED, "a.test", "198.18.0.1", 100, 0);
	e = entry("b.test", "198.18.0.2", 101);
	assert_int_equal(inet_pton(AF_INET6, "fd00::2", &e.v6), 1);
	e.has_v6 = true;
	assert_int_equal(fakeipq_push(q, FAKEIP_ADDED, &e), 0);
	push(q, FAKEIP_USED, "a.test", "198.18.0.1", 160, 0);
	assert_int_equal(fakeipq_len(q), 3); /* REMOVED is no row */
	assert_int_equal(fakeipq_added(q), 2);

	assert_int_equal(fakeipq_take(q, &b), 0);
	assert_int_equal(fakeipq_len(q), 0);
	assert_int_equal(fakeipq_added(q), 0);
	assert_string_equal(batch_text(&b, buf, sizeof(buf)),
	                    "a.test=198.18.0.1@100 b.test=198.18.0.2@101 "
	                    "a.test=198.18.0.1@160 ");
	assert_true(b.m[1].has_v6);
	assert_string_equal(inet_ntop(AF_INET6, &b.m[1].v6, a6, sizeof(a6)),
	                    "fd00::2");
	assert_false(b.m[0].has_v6);

	/* The batch is the holder's: the queue goes on without it. */
	push(q, FAKEIP_ADDED, "c.test", "198.18.0.3", 200, 0);
	assert_string_equal(b.m[2].name, "a.test");
	fakeipq_batch_free(&b);
	fakeipq_free(q);
}

static void
test_a_full_queue_gives_up_the_oldest_used(void **state)
{
	struct fakeipq *q = fakeipq_new(4);
	struct fakeipq_batch b;
	char buf[512];

	(void)state;
	push(q, FAKEIP_ADDED, "a.test", "198.18.0.1", 1, 0);
	push(q, FAKEIP_USED, "b.test", "198.18.0.2", 2, 0);
	push(q, FAKEIP_ADDED, "c.test", "198.18.0.3", 3, 0);
	push(q, FAKEIP_USED, "d.test", "198.18.0.4", 4, 0);
	/* Full: b.test's USED, the oldest, makes room; the ADDED before
	 * it stays. */
	push(q, FAKEIP_USED, "e.test", "198.18.0.5", 5, 1);
	assert_int_equal(fakeipq_len(q), 4);
	push(q, FAKEIP_ADDED, "f.test", "198.18.0.6", 6, 1);
	assert_int_equal(fakeipq_added(q), 3);
	assert_int_equal(fakeipq_take(q, &b), 0);
	assert_string_equal(batch_text(&b, buf, sizeof(buf)),
	                    "a.test=198.18.0.1@1 c.test=198.18.0.3@3 "
	                    "e.test=198.18.0.5@5 f.test=198.18.0.6@6 ");
	fakeipq_batch_free(&b);
	fakeipq_free(q);
}

static void
test_a_queue_full_of_added_refuses_until_taken(void **state)
{
	struct fakeipq *q = fakeipq_new(2);
	struct fakeipq_batch b;
	char buf[512], name[300];

	(void)state;
	push(q, FAKEIP_ADDED, "a.test", "198.18.0.1", 1, 0);
	push(q, FAKEIP_ADDED, "b.test", "198.18.0.2", 2, 0);
	errno = 0;
	push(q, FAKEIP_USED, "a.test", "198.18.0.1", 3, -1);
	assert_int_equal(errno, ENOBUFS);
	push(q, FAKEIP_ADDED, "c.test", "198.18.0.3", 4, -1);
	assert_int_equal(fakeipq_len(q), 2);

	assert_int_equal(fakeipq_take(q, &b), 0);
	assert_string_equal(batch_text(&b, buf, sizeof(buf)),
	                    "a.test=198.18.0.1@1 b.test=198.18.0.2@2 ");
	fakeipq_batch_free(&b);
	push(q, FAKEIP_ADDED, "c.test", "198.18.0.3", 4, 0);

	/* The last resort drops whatever is oldest. */
	assert_true(fakeipq_drop_oldest(q));
	assert_false(fakeipq_drop_oldest(q));
	assert_int_equal(fakeipq_added(q), 0);

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	errno = 0;
	push(q, FAKEIP_ADDED, name, "198.18.0.9", 5, -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fakeipq_len(q), 0);
	fakeipq_free(q);
	assert_null(fakeipq_new(0));
}

/* --- a map, its queue and a store, as tollgated wires them -----------------
 */

struct wiring {
	struct fakeipq *q;
	struct store *s;
	size_t batches;
};

static void
write_batch(struct wiring *w)
{
	struct fakeipq_batch b;
	char err[STORE_ERRLEN];

	assert_int_equal(fakeipq_take(w->q, &b), 0);
	if (b.n > 0) {
		assert_int_equal(
		    store_fakeip_put(w->s, b.m, b.n, err, sizeof(err)), 0);
		w->batches++;
	}
	fakeipq_batch_free(&b);
}

/* The observer: a full queue is written at once and the change pushed
 * again. */
static void
observe(void *arg, enum fakeip_change what, const struct fakeip_entry *e)
{
	struct wiring *w = arg;

	if (fakeipq_push(w->q, what, e) != -1)
		return;
	assert_int_equal(errno, ENOBUFS);
	write_batch(w);
	assert_int_equal(fakeipq_push(w->q, what, e), 0);
}

/* "name=v4 " onto the 4096 bytes of buf. */
static void
list_add(char *buf, const char *name, const struct in_addr *v4)
{
	char a[INET_ADDRSTRLEN];
	size_t off = strlen(buf);

	snprintf(buf + off, 4096 - off, "%s=%s ", name,
	         inet_ntop(AF_INET, v4, a, sizeof(a)));
}

static int
list_map(void *arg, const struct fakeip_entry *e)
{
	list_add(arg, e->name, &e->v4);
	return 0;
}

static int
list_store(void *arg, const struct store_fakeip *m)
{
	list_add(arg, m->name, &m->v4);
	return 0;
}

static int
restore_one(void *arg, const struct store_fakeip *m)
{
	assert_true(fakeip_restore(arg, m->name, m->v4, NULL,
	                           (time_t)m->last_used) >= 0);
	return 0;
}

static void
test_a_busy_map_written_in_batches_comes_back(void **state)
{
	char dir[] = "/tmp/tg-test-fakeipq-XXXXXX", db[128], cmd[160];
	char err[STORE_ERRLEN], name[32], before[4096] = "", after[4096] = "",
	                                  stored[4096] = "";
	struct in_addr net, a;
	struct fakeip *f, *g;
	struct wiring w = {0};
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/tollgate.db", dir);
	w.s = store_open(db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(w.s);
	w.q = fakeipq_new(3);
	assert_int_equal(inet_pton(AF_INET, "198.18.0.0", &net), 1);
	f = fakeip_new(net, 15, 8);
	fakeip_set_observer(f, observe, &w);

	/* 20 names through 8 slots, two batches on the way: old names
	 * give their addresses to new ones. */
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		assert_int_equal(fakeip_addr(f, name, &a), 0);
		if (i == 9)
			write_batch(&w);
	}
	write_batch(&w); /* the stop */
	assert_true(w.batches > 2);
	assert_int_equal(fakeip_each(f, list_map, before), 0);
	assert_int_equal(
	    store_fakeip_load(w.s, list_store, stored, err, sizeof(err)), 0);
	/* Every mapping the map holds is stored, and no address twice. */
	assert_string_equal(stored, before);

	/* The restart: the same names at the same addresses. */
	g = fakeip_new(net, 15, 8);
	assert_int_equal(
	    store_fakeip_load(w.s, restore_one, g, err, sizeof(err)), 0);
	assert_int_equal(fakeip_each(g, list_map, after), 0);
	assert_string_equal(after, before);

	fakeip_free(f);
	fakeip_free(g);
	fakeipq_free(w.q);
	store_close(w.s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_changes_come_out_in_order),
	    cmocka_unit_test(test_a_full_queue_gives_up_the_oldest_used),
	    cmocka_unit_test(test_a_queue_full_of_added_refuses_until_taken),
	    cmocka_unit_test(test_a_busy_map_written_in_batches_comes_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
