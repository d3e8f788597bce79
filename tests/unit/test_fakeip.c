/*
 * test_fakeip.c - the map of names behind made-up addresses
 * (proxyd/fakeip.h): a name keeps its address, the address gives the name
 * back, and a full map gives the oldest name's address to a new one.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_name_keeps_its_address_and_is_found_by_it),
	    cmocka_unit_test(test_addresses_outside_or_unmapped_have_no_name),
	    cmocka_unit_test(test_a_full_map_reuses_the_oldest_address),
	    cmocka_unit_test(test_a_small_range_bounds_the_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
