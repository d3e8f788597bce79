/*
 * test_fakeip.c - the map of names behind made-up addresses
 * (proxyd/fakeip.h): a name keeps its address, the address gives the name
 * back, a full map gives the address of the name used longest ago to a new
 * one, names get IPv6 addresses too when a range is set, and what the map
 * holds can be listed, watched and put back after a restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proxyd/fakeip.h"

static struct fakeip *
map(const char *net, unsigned prefix, size_t max)
{
	struct in_addr a;
	struct fakeip *f;

	assert_int_equal(inet_pton(AF_INET, net, &a), 1);
	f = fakeip_new(a, prefix, max);
	assert_non_null(f);
	return f;
}

static struct sockaddr_in
sin_of(struct in_addr a)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};

	return sin;
}

static const char *
text(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *
text6(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static struct in_addr
v4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct in6_addr
v6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* The name the map gives for the address s (either family). */
static const char *
name_at(const struct fakeip *f, const char *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, s, &sin.sin_addr) == 1)
		return fakeip_name(f, (struct sockaddr *)&sin);
	assert_int_equal(inet_pton(AF_INET6, s, &sin6.sin6_addr), 1);
	return fakeip_name(f, (struct sockaddr *)&sin6);
}

/* What an observer heard, in order. */
struct heard {
	size_t n;
	enum fakeip_change what[16];
	char name[16][64];
	char addr[16][INET_ADDRSTRLEN];
};

static void
observe(void *arg, enum fakeip_change what, const struct fakeip_entry *e)
{
	struct heard *h = arg;

	assert_true(h->n < 16);
	h->what[h->n] = what;
	snprintf(h->name[h->n], sizeof(h->name[0]), "%s", e->name);
	text(e->v4, h->addr[h->n]);
	h->n++;
}

/* What fakeip_each() lists: "name=v4[,v6]@last_used " per mapping. */
struct listing {
	char text[512];
	size_t stop_after; /* 0: never stop */
	size_t seen;
};

static int
list_one(void *arg, const struct fakeip_entry *e)
{
	struct listing *l = arg;
	char a[INET_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s=%s%s%s@%lld ",
	         e->name, text(e->v4, a), e->has_v6 ? "," : "",
	         e->has_v6 ? text6(&e->v6, b) : "", (long long)e->last_used);
	l->seen++;
	return l->stop_after != 0 && l->seen == l->stop_after ? 7 : 0;
}

static void
test_a_name_keeps_its_address_and_is_found_by_it(void **state)
{
	struct fakeip *f = map(FAKEIP_DEFAULT_NET, 15, 1000);
	struct in_addr a, b, c;
	struct sockaddr_in sin;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(fakeip_addr(f, "www.example.com", &a), 0);
	assert_int_equal(fakeip_addr(f, "mail.example.com", &b), 0);
	assert_int_equal(fakeip_addr(f, "www.example.com", &c), 0);
	assert_string_equal(text(a, buf), "198.18.0.1");
	assert_int_equal(a.s_addr, c.s_addr);
	assert_int_not_equal(a.s_addr, b.s_addr);
	sin = sin_of(b);
	assert_true(fakeip_in_range(f, (struct sockaddr *)&sin));
	assert_string_equal(fakeip_name(f, (struct sockaddr *)&sin),
	                    "mail.example.com");
	fakeip_free(f);
}

static void
test_addresses_outside_or_unmapped_have_no_name(void **state)
{
	struct fakeip *f = map(FAKEIP_DEFAULT_NET, 15, 1000);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

	inet_pton(AF_INET, "198.19.255.254", &sin.sin_addr);
	assert_true(fakeip_in_range(f, (struct sockaddr *)&sin));
	assert_null(fakeip_name(f, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "198.18.0.0", &sin.sin_addr);
	assert_null(fakeip_name(f, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr);
	assert_false(fakeip_in_range(f, (struct sockaddr *)&sin));
	assert_null(fakeip_name(f, (struct sockaddr *)&sin));
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	assert_false(fakeip_in_range(f, (struct sockaddr *)&sin6));
	/* A v4-mapped address is its IPv4 address. */
	inet_pton(AF_INET6, "::ffff:198.18.0.7", &sin6.sin6_addr);
	assert_true(fakeip_in_range(f, (struct sockaddr *)&sin6));
	fakeip_free(f);
}

/* With no name asked for again, the oldest use is the oldest name. */
static void
test_a_full_map_reuses_the_oldest_address(void **state)
{
	struct fakeip *f = map("10.0.0.0", 24, 3);
	struct in_addr a, b, c, d, again;
	struct sockaddr_in sin;

	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_int_equal(fakeip_addr(f, "b.test", &b), 0);
	assert_int_equal(fakeip_addr(f, "c.test", &c), 0);
	assert_int_equal(fakeip_addr(f, "d.test", &d), 0);
	assert_int_equal(d.s_addr, a.s_addr); /* a.test was the oldest */
	sin = sin_of(a);
	assert_string_equal(fakeip_name(f, (struct sockaddr *)&sin), "d.test");
	/* a.test is gone: asked again, it takes the next oldest, b's. */
	assert_int_equal(fakeip_addr(f, "a.test", &again), 0);
	assert_int_equal(again.s_addr, b.s_addr);
	sin = sin_of(c);
	assert_string_equal(fakeip_name(f, (struct sockaddr *)&sin), "c.test");
	fakeip_free(f);
}

static void
test_a_small_range_bounds_the_map(void **state)
{
	struct fakeip *f = map("10.0.0.0", 30, 100); /* 2 usable */
	struct in_addr a, b, c;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_int_equal(fakeip_addr(f, "b.test", &b), 0);
	assert_int_equal(fakeip_addr(f, "c.test", &c), 0);
	assert_string_equal(text(a, buf), "10.0.0.1");
	assert_string_equal(text(b, buf), "10.0.0.2");
	assert_int_equal(c.s_addr, a.s_addr);
	fakeip_free(f);
	assert_null(fakeip_new(a, 31, 10));
}

/* A name in use keeps its address: asked again, or connected to, it is
 * the newest, and a new name takes the one used longest ago. */
static void
test_a_name_in_use_keeps_its_address(void **state)
{
	struct fakeip *f = map("10.0.0.0", 24, 3);
	struct in_addr a, b, c, again;
	struct sockaddr_in sin;

	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_int_equal(fakeip_addr(f, "b.test", &b), 0);
	assert_int_equal(fakeip_addr(f, "c.test", &c), 0);
	assert_int_equal(fakeip_addr(f, "a.test", &again), 0); /* a query */
	assert_int_equal(again.s_addr, a.s_addr);
	assert_int_equal(fakeip_addr(f, "d.test", &again), 0);
	assert_int_equal(again.s_addr, b.s_addr); /* b.test was used last */
	assert_string_equal(name_at(f, "10.0.0.1"), "a.test");
	/* A connection to c.test's address is a use too. */
	sin = sin_of(c);
	assert_string_equal(fakeip_use(f, (struct sockaddr *)&sin), "c.test");
	assert_int_equal(fakeip_addr(f, "e.test", &again), 0);
	assert_int_equal(again.s_addr, a.s_addr); /* not c's */
	assert_string_equal(name_at(f, "10.0.0.3"), "c.test");
	assert_null(name_at(f, "10.0.0.4")); /* past max */
	sin = sin_of(v4("10.0.0.200"));
	assert_null(fakeip_use(f, (struct sockaddr *)&sin));
	assert_int_equal(fakeip_count(f), 3);
	fakeip_free(f);
}

/* With an IPv6 range, a name has an address of each, from the same
 * slot, and either address gives the name back. */
static void
test_names_get_ipv6_addresses_too(void **state)
{
	struct fakeip *f = map("10.0.0.0", 16, 1000);
	struct in6_addr net = v6("fd00:7467::"), a6, b6, again6;
	struct in_addr a, b;
	char buf[INET6_ADDRSTRLEN];

	assert_false(fakeip_has_v6(f));
	assert_int_equal(fakeip_addr6(f, "a.test", &a6), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fakeip_set_range6(f, &net, 121), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fakeip_set_range6(f, &net, 64), 0);
	assert_true(fakeip_has_v6(f));

	assert_int_equal(fakeip_addr6(f, "a.test", &a6), 0);
	assert_string_equal(text6(&a6, buf), "fd00:7467::1");
	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_string_equal(text(a, buf), "10.0.0.1");
	assert_int_equal(fakeip_addr(f, "b.test", &b), 0);
	assert_int_equal(fakeip_addr6(f, "b.test", &b6), 0);
	assert_string_equal(text6(&b6, buf), "fd00:7467::2");
	assert_int_equal(fakeip_addr6(f, "a.test", &again6), 0);
	assert_memory_equal(&again6, &a6, sizeof(a6));
	assert_string_equal(name_at(f, "fd00:7467::2"), "b.test");
	assert_string_equal(name_at(f, "fd00:7467::1"), "a.test");
	/* In the range, but no slot's address, or no name (yet). */
	assert_null(name_at(f, "fd00:7467::"));
	assert_null(name_at(f, "fd00:7467::3"));
	assert_null(name_at(f, "fd00:7467::1:0:0:1"));
	assert_true(
	    fakeip_in_range(f, (struct sockaddr *)&(struct sockaddr_in6){
	                           .sin6_family = AF_INET6,
	                           .sin6_addr = v6("fd00:7467::1:0:0:1")}));
	assert_false(fakeip_in_range(
	    f, (struct sockaddr *)&(struct sockaddr_in6){
	           .sin6_family = AF_INET6, .sin6_addr = v6("fd00:7468::1")}));
	assert_null(name_at(f, "fd00:7468::1"));
	/* The range is fixed once names are mapped. */
	assert_int_equal(fakeip_set_range6(f, &net, 96), -1);
	assert_int_equal(errno, EBUSY);
	fakeip_free(f);

	/* A small IPv6 range bounds the map: a /120 hands out 254. */
	f = map("10.0.0.0", 16, 1000);
	net = v6("fd00::ff00");
	assert_int_equal(fakeip_set_range6(f, &net, 120), 0);
	for (size_t i = 0; i < 254; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%zu.test", i);
		assert_int_equal(fakeip_addr6(f, name, &a6), 0);
	}
	assert_string_equal(text6(&a6, buf), "fd00::fffe");
	assert_int_equal(fakeip_addr6(f, "one-more.test", &a6), 0);
	assert_string_equal(text6(&a6, buf), "fd00::ff01");
	assert_string_equal(name_at(f, "10.0.0.1"), "one-more.test");
	assert_int_equal(fakeip_count(f), 254);
	fakeip_free(f);
}

/* The observer hears of a new name, of a name given up, and of a name
 * used again only now and then. */
static void
test_the_observer_hears_of_changes(void **state)
{
	struct fakeip *f = map("10.0.0.0", 24, 2);
	struct heard h = {0};
	struct in_addr a;

	fakeip_set_observer(f, observe, &h);
	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_int_equal(fakeip_addr(f, "b.test", &a), 0);
	assert_int_equal(fakeip_addr(f, "a.test", &a), 0); /* a minute? no */
	assert_int_equal(fakeip_addr(f, "c.test", &a), 0); /* takes b's */
	assert_int_equal(h.n, 4);
	assert_int_equal(h.what[0], FAKEIP_ADDED);
	assert_string_equal(h.name[0], "a.test");
	assert_string_equal(h.addr[0], "10.0.0.1");
	assert_int_equal(h.what[1], FAKEIP_ADDED);
	assert_string_equal(h.name[1], "b.test");
	assert_int_equal(h.what[2], FAKEIP_REMOVED);
	assert_string_equal(h.name[2], "b.test");
	assert_string_equal(h.addr[2], "10.0.0.2");
	assert_int_equal(h.what[3], FAKEIP_ADDED);
	assert_string_equal(h.name[3], "c.test");
	assert_string_equal(h.addr[3], "10.0.0.2");

	/* A name last heard of over FAKEIP_USED_EVERY ago is news again. */
	h.n = 0;
	assert_int_equal(fakeip_restore(f, "old.test", v4("10.0.0.1"), NULL,
	                                time(NULL) - FAKEIP_USED_EVERY),
	                 0);
	assert_int_equal(h.n, 1); /* a.test gave up its slot */
	assert_int_equal(h.what[0], FAKEIP_REMOVED);
	assert_string_equal(h.name[0], "a.test");
	assert_int_equal(fakeip_addr(f, "old.test", &a), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.what[1], FAKEIP_USED);
	assert_string_equal(h.name[1], "old.test");
	assert_int_equal(fakeip_addr(f, "old.test", &a), 0);
	assert_int_equal(h.n, 2);
	fakeip_set_observer(f, NULL, NULL);
	assert_int_equal(fakeip_addr(f, "d.test", &a), 0);
	assert_int_equal(h.n, 2);
	fakeip_free(f);
}

/* fakeip_each() lists the mappings oldest first, with both addresses and
 * the time of last use, and stops when told. */
static void
test_each_lists_the_mappings_oldest_first(void **state)
{
	struct fakeip *f = map("10.0.0.0", 24, 10);
	struct in6_addr net = v6("fd00::");
	struct listing l = {0};
	struct in_addr a;
	char want[256];
	time_t before = time(NULL), after;

	assert_int_equal(fakeip_each(f, list_one, &l), 0);
	assert_string_equal(l.text, "");
	assert_int_equal(fakeip_set_range6(f, &net, 64), 0);
	assert_int_equal(fakeip_restore(f, "b.test", v4("10.0.0.5"),
	                                &(struct in6_addr){0}, 100),
	                 1); /* its stored v6 is not the range's */
	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	after = time(NULL);
	assert_int_equal(fakeip_each(f, list_one, &l), 0);
	snprintf(want, sizeof(want),
	         "b.test=10.0.0.5,fd00::5@100 a.test=10.0.0.1,fd00::1@%lld ",
	         (long long)before);
	if (strcmp(l.text, want) != 0) {
		snprintf(want, sizeof(want),
		         "b.test=10.0.0.5,fd00::5@100 "
		         "a.test=10.0.0.1,fd00::1@%lld ",
		         (long long)after);
		assert_string_equal(l.text, want);
	}
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	assert_int_equal(fakeip_each(f, list_one, &l), 7);
	assert_string_equal(l.text, "b.test=10.0.0.5,fd00::5@100 ");
	fakeip_free(f);
}

/* Mappings put back after a restart keep their addresses and their
 * order of use; what cannot be kept is news for the store. */
static void
test_restore_puts_mappings_back(void **state)
{
	struct fakeip *f = map("10.0.0.0", 24, 3);
	struct heard h = {0};
	struct listing l = {0};
	struct in_addr a;

	fakeip_set_observer(f, observe, &h);
	assert_int_equal(fakeip_restore(f, "b.test", v4("10.0.0.3"), NULL, 100),
	                 0);
	assert_int_equal(fakeip_restore(f, "a.test", v4("10.0.0.1"), NULL, 200),
	                 0);
	assert_int_equal(h.n, 0); /* the store has them */
	assert_string_equal(name_at(f, "10.0.0.3"), "b.test");
	assert_int_equal(fakeip_addr(f, "a.test", &a), 0);
	assert_string_equal(text(a, (char[INET_ADDRSTRLEN]){0}), "10.0.0.1");
	/* A new name takes the free slot, not a restored one. */
	assert_int_equal(fakeip_addr(f, "c.test", &a), 0);
	assert_string_equal(text(a, (char[INET_ADDRSTRLEN]){0}), "10.0.0.2");
	h.n = 0;
	/* The range shrank: an address past it gets a new one, the oldest
	 * name's (b.test, last used at 100). */
	assert_int_equal(
	    fakeip_restore(f, "far.test", v4("10.0.0.77"), NULL, 300), 1);
	assert_string_equal(name_at(f, "10.0.0.3"), "far.test");
	assert_int_equal(h.n, 2);
	assert_int_equal(h.what[0], FAKEIP_REMOVED);
	assert_string_equal(h.name[0], "b.test");
	assert_int_equal(h.what[1], FAKEIP_ADDED);
	assert_string_equal(h.name[1], "far.test");
	assert_string_equal(h.addr[1], "10.0.0.3");
	/* A slot restored twice goes to the later; a name restored twice
	 * keeps the later address, and its first slot is free again. */
	h.n = 0;
	assert_int_equal(
	    fakeip_restore(f, "new.test", v4("10.0.0.2"), NULL, 400), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.name[0], "c.test");
	assert_int_equal(
	    fakeip_restore(f, "new.test", v4("10.0.0.1"), NULL, 500), 0);
	assert_string_equal(name_at(f, "10.0.0.1"), "new.test");
	assert_null(name_at(f, "10.0.0.2"));
	assert_int_equal(fakeip_count(f), 2);
	/* A stored v6 without an IPv6 range is dropped: news. */
	assert_int_equal(fakeip_restore(f, "six.test", v4("10.0.0.2"),
	                                &(struct in6_addr){0}, 600),
	                 1);
	fakeip_set_observer(f, NULL, NULL);
	assert_int_equal(fakeip_each(f, list_one, &l), 0);
	assert_string_equal(l.text, "far.test=10.0.0.3@300 "
	                            "new.test=10.0.0.1@500 "
	                            "six.test=10.0.0.2@600 ");
	assert_int_equal(fakeip_restore(f, "x.test", v4("10.0.0.1"), NULL, 700),
	                 0);
	assert_string_equal(name_at(f, "10.0.0.1"), "x.test");
	assert_null(name_at(f, "10.0.0.0"));
	fakeip_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_name_keeps_its_address_and_is_found_by_it),
	    cmocka_unit_test(test_addresses_outside_or_unmapped_have_no_name),
	    cmocka_unit_test(test_a_full_map_reuses_the_oldest_address),
	    cmocka_unit_test(test_a_small_range_bounds_the_map),
	    cmocka_unit_test(test_a_name_in_use_keeps_its_address),
	    cmocka_unit_test(test_names_get_ipv6_addresses_too),
	    cmocka_unit_test(test_the_observer_hears_of_changes),
	    cmocka_unit_test(test_each_lists_the_mappings_oldest_first),
	    cmocka_unit_test(test_restore_puts_mappings_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
