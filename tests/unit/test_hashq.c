/*
 * test_hashq.c - executables hashed off the attribution thread
 * (proxyd/hashq.h): a queued file is hashed on the queue's thread and
 * its waiter told on the loop; the same file is queued once; past
 * HASHQ_MAX files the next is not queued (its connections have no
 * digest), and the queue takes files again once it has room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "proxyd/hashq.h"

#define SHA_ABC                                                                \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fx {
	char dir[64];
	struct event_base *base;
	struct hashq *hq;
	unsigned ready;
};

static struct fx *the_fx;

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-hashq-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->base = event_base_new();
	assert_non_null(f->base);
	f->hq = hashq_new(f->base);
	assert_non_null(f->hq);
	the_fx = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	hashq_free(f->hq);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown: %s failed\n", cmd);
	free(f);
	return 0;
}

/* File i of the test, holding "abc" (i 0) or its number; opened, with
 * its stat. */
static int
file(struct fx *f, int i, struct stat *st)
{
	char path[128], body[32];
	int fd;

	snprintf(path, sizeof(path), "%s/f%d", f->dir, i);
	snprintf(body, sizeof(body), "%s", i == 0 ? "abc" : "");
	if (i != 0)
		snprintf(body, sizeof(body), "file %d", i);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (int)strlen(body));
	assert_int_equal(fstat(fd, st), 0);
	return fd;
}

static void
ready(struct hashq_waiter *w)
{
	assert_false(w->waiting);
	the_fx->ready++;
}

/* Run the loop until n waiters were told (bounded by a loop count). */
static void
run_until(struct fx *f, unsigned n)
{
	int i;

	for (i = 0; i < 10000 && f->ready < n; i++) {
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(f->ready, n);
}

static void
test_hashed_off_the_caller(void **state)
{
	struct fx *f = *state;
	struct hashq_waiter w = {.ready = ready}, w2 = {.ready = ready};
	struct hashq_stats hs;
	struct digest_key k;
	struct stat st;
	uint8_t md[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN];
	int fd;

	fd = file(f, 0, &st);
	digest_key_of(&st, &k);
	assert_int_equal(hashq_cached(f->hq, &k, md), -1);
	assert_int_equal(hashq_submit(f->hq, fd, &st, "f0"), 0);
	/* The same file again: queued once (the second fd is closed). */
	assert_int_equal(hashq_submit(f->hq, dup(fd), &st, "f0"), 0);
	assert_int_equal(hashq_wait(f->hq, &w, &k), 0);
	assert_int_equal(hashq_wait(f->hq, &w2, &k), 0);
	hashq_unwait(f->hq, &w2); /* its connection went away */
	run_until(f, 1);
	assert_false(w2.waiting);
	assert_int_equal(hashq_cached(f->hq, &k, md), 0);
	assert_string_equal(digest_hex(md, hex), SHA_ABC);
	/* Known now: nothing to wait for. */
	assert_int_equal(hashq_wait(f->hq, &w, &k), -1);
	hashq_stats(f->hq, &hs);
	assert_int_equal(hs.hashed, 1);
}

/* One user's many files: HASHQ_MAX at most are queued, the rest are
 * not (no digest for them, and nothing to wait for). */
static void
test_bounded(void **state)
{
	struct fx *f = *state;
	struct hashq_waiter w = {.ready = ready};
	struct hashq_stats hs;
	struct digest_key k;
	struct stat st;
	int i, fd, queued = 0, refused = 0;

	/* The thread may finish some while they are queued: submit until
	 * one is refused, HASHQ_MAX * 4 at most. */
	for (i = 1; i <= HASHQ_MAX * 4 && refused == 0; i++) {
		fd = file(f, i, &st);
		if (hashq_submit(f->hq, fd, &st, "fN") == 0)
			queued++;
		else {
			assert_int_equal(errno, ENOBUFS);
			refused++;
			digest_key_of(&st, &k);
			assert_int_equal(hashq_wait(f->hq, &w, &k), -1);
		}
	}
	if (refused == 0)
		skip(); /* the thread kept up: the bound was not reached */
	assert_true(queued >= HASHQ_MAX);
	hashq_stats(f->hq, &hs);
	assert_int_equal(hs.dropped, 1);
	/* Once the queue drains, a file is taken again. */
	for (i = 0; i < 10000; i++) {
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		hashq_stats(f->hq, &hs);
		if (hs.hashed == (uint64_t)queued)
			break;
		usleep(1000);
	}
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	fd = file(f, 0, &st);
	assert_int_equal(hashq_submit(f->hq, fd, &st, "f0"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hashed_off_the_caller, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
