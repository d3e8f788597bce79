/*
 * test_nflog.c - the parser of logged packets (redirect/nflog.h): the
 * addresses, ports and protocol of the UDP a guarded app sent, from bytes
 * the kernel copied and the snaplen may have cut anywhere.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"
#include "redirect/nflog.h"

/* A packet under construction. */
struct pkt {
	uint8_t b[256];
	size_t len;
	size_t ports_at; /* offset of the UDP/TCP ports, 0 when none */
};

static void
put(struct pkt *p, const void *bytes, size_t len)
{
	assert_true(p->len + len <= sizeof(p->b));
	memcpy(p->b + p->len, bytes, len);
	p->len += len;
}

/* IPv4 header of hlen bytes (options are NOPs), then ports and data. */
static void
ip4(struct pkt *p, uint8_t proto, size_t hlen, uint16_t frag_off, size_t total)
{
	uint8_t h[60] = {0};

	memset(h, 1, sizeof(h)); /* NOP options */
	h[0] = (uint8_t)(0x40 | (hlen / 4));
	h[1] = 0;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	memset(h + 4, 0, 2);
	h[6] = (uint8_t)(frag_off >> 8);
	h[7] = (uint8_t)frag_off;
	h[8] = 64;
	h[9] = proto;
	memset(h + 10, 0, 2);
	inet_pton(AF_INET, "192.0.2.1", h + 12);
	inet_pton(AF_INET, "192.0.2.2", h + 16);
	put(p, h, hlen);
}

static void
ip6(struct pkt *p, uint8_t next, uint16_t plen)
{
	uint8_t h[40] = {0x60};

	h[4] = (uint8_t)(plen >> 8);
	h[5] = (uint8_t)plen;
	h[6] = next;
	h[7] = 64;
	inet_pton(AF_INET6, "2001:db8::1", h + 8);
	inet_pton(AF_INET6, "2001:db8::2", h + 24);
	put(p, h, sizeof(h));
}

/* An extension header of len bytes (a multiple of 8) naming next. */
static void
ext6(struct pkt *p, uint8_t next, size_t len)
{
	uint8_t h[64] = {0};

	h[0] = next;
	h[1] = (uint8_t)(len / 8 - 1);
	put(p, h, len);
}

/* A fragment header: offset in 8-byte units, more fragments or not. */
static void
frag6(struct pkt *p, uint8_t next, uint16_t offset, bool more)
{
	uint8_t h[8] = {next, 0, (uint8_t)(offset >> 5),
	                (uint8_t)((offset << 3) | more)};

	put(p, h, sizeof(h));
}

/* Ports 40000 -> 9999, then some data. */
static void
l4(struct pkt *p)
{
	uint8_t h[12] = {0x9c, 0x40, 0x27, 0x0f, 0,   12,
	                 0,    0,    'd',  'a',  't', 'a'};

	p->ports_at = p->len;
	put(p, h, sizeof(h));
}

/* Parse exactly len bytes from a buffer of that size, so ASan sees
 * any read past them. */
static int
parse(int family, const struct pkt *p, size_t len, struct nflog_pkt *out)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, p->b, len);
	ret = nflog_parse_payload(family, copy, len, out);
	free(copy);
	return ret;
}

static const char *
fmt(const struct sockaddr_storage *ss, bool ports, char *buf)
{
	if (ports)
		return addr_fmt((const struct sockaddr *)ss, buf, ADDR_STRLEN);
	return addr_fmt_ip((const struct sockaddr *)ss, buf, ADDR_STRLEN);
}

static void
assert_udp4(const struct nflog_pkt *n)
{
	char buf[ADDR_STRLEN];

	assert_int_equal(n->family, AF_INET);
	assert_int_equal(n->proto, IPPROTO_UDP);
	assert_true(n->has_ports);
	assert_false(n->has_uid);
	assert_string_equal(fmt(&n->src, true, buf), "192.0.2.1:40000");
	assert_string_equal(fmt(&n->dst, true, buf), "192.0.2.2:9999");
}

/*
 * Every cut of p: invalid below the fixed header (min bytes), addresses
 * from there, ports once they are all in.
 */
static void
assert_every_cut(int family, const struct pkt *p, size_t min)
{
	struct nflog_pkt n;
	size_t len;

	for (len = 0; len <= p->len; len++) {
		if (len < min) {
			assert_int_equal(parse(family, p, len, &n), -1);
			continue;
		}
		assert_int_equal(parse(family, p, len, &n), 0);
		assert_int_equal(n.family, family);
		assert_int_equal(n.has_ports,
		                 p->ports_at != 0 && len >= p->ports_at + 4);
	}
}

static void
test_udp_over_ipv4_gives_addresses_ports_and_length(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;

	ip4(&p, IPPROTO_UDP, 20, 0, 32);
	l4(&p);
	assert_int_equal(parse(AF_INET, &p, p.len, &n), 0);
	assert_udp4(&n);
	assert_int_equal(n.len, 32);
	assert_int_equal(parse(AF_UNSPEC, &p, p.len, &n), 0);
	assert_udp4(&n);
	assert_every_cut(AF_INET, &p, 20);
}

static void
test_ipv4_options_and_tcp_are_stepped_over(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;
	char buf[ADDR_STRLEN];

	ip4(&p, IPPROTO_TCP, 60, 0, 72);
	l4(&p);
	assert_int_equal(parse(AF_INET, &p, p.len, &n), 0);
	assert_int_equal(n.proto, IPPROTO_TCP);
	assert_true(n.has_ports);
	assert_string_equal(fmt(&n.dst, true, buf), "192.0.2.2:9999");
	/* The longest header and the ports fit the snaplen of the rule. */
	assert_int_equal(parse(AF_INET, &p, 64, &n), 0);
	assert_true(n.has_ports);
	assert_every_cut(AF_INET, &p, 20);
}

static void
test_a_later_ipv4_fragment_or_icmp_has_no_ports(void **state)
{
	struct pkt p = {0}, q = {0};
	struct nflog_pkt n;
	char buf[ADDR_STRLEN];

	ip4(&p, IPPROTO_UDP, 20, 185, 1500); /* offset 185 * 8 */
	l4(&p);
	assert_int_equal(parse(AF_INET, &p, p.len, &n), 0);
	assert_false(n.has_ports);
	assert_string_equal(fmt(&n.dst, false, buf), "192.0.2.2");
	assert_int_equal(n.len, 1500);

	ip4(&q, IPPROTO_ICMP, 20, 0, 32);
	l4(&q);
	q.ports_at = 0;
	assert_int_equal(parse(AF_INET, &q, q.len, &n), 0);
	assert_int_equal(n.proto, IPPROTO_ICMP);
	assert_false(n.has_ports);
	assert_every_cut(AF_INET, &q, 20);
}

static void
test_bad_ipv4_headers_are_invalid(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;

	ip4(&p, IPPROTO_UDP, 20, 0, 32);
	l4(&p);
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), -1);
	p.b[0] = 0x44; /* header length 16 */
	assert_int_equal(parse(AF_INET, &p, p.len, &n), -1);
	p.b[0] = 0x45 | 0x80; /* version 12 */
	assert_int_equal(parse(AF_UNSPEC, &p, p.len, &n), -1);
	p.b[0] = 0x4f; /* 60 bytes of header in 32: addresses only */
	assert_int_equal(parse(AF_INET, &p, p.len, &n), 0);
	assert_false(n.has_ports);
}

static void
test_udp_over_ipv6_gives_addresses_and_ports(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;
	char buf[ADDR_STRLEN];

	ip6(&p, IPPROTO_UDP, 12);
	l4(&p);
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(n.proto, IPPROTO_UDP);
	assert_true(n.has_ports);
	assert_string_equal(fmt(&n.src, true, buf), "[2001:db8::1]:40000");
	assert_string_equal(fmt(&n.dst, true, buf), "[2001:db8::2]:9999");
	assert_int_equal(n.len, 52);
	assert_int_equal(parse(AF_INET, &p, p.len, &n), -1);
	assert_every_cut(AF_INET6, &p, 40);
}

static void
test_ipv6_extension_headers_are_walked(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;

	ip6(&p, IPPROTO_HOPOPTS, 100);
	ext6(&p, IPPROTO_DSTOPTS, 8);
	ext6(&p, IPPROTO_FRAGMENT, 16);
	frag6(&p, IPPROTO_UDP, 0, true); /* the first fragment */
	l4(&p);
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), 0);
	assert_int_equal(n.proto, IPPROTO_UDP);
	assert_true(n.has_ports);
	assert_int_equal(n.len, 140);
	assert_every_cut(AF_INET6, &p, 40);
}

static void
test_a_later_ipv6_fragment_has_no_ports(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;

	ip6(&p, IPPROTO_FRAGMENT, 20);
	frag6(&p, IPPROTO_UDP, 100, true);
	l4(&p);
	p.ports_at = 0;
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), 0);
	assert_int_equal(n.proto, IPPROTO_UDP);
	assert_false(n.has_ports);
	assert_every_cut(AF_INET6, &p, 40);
}

static void
test_too_many_ipv6_extension_headers_are_invalid(void **state)
{
	struct pkt p = {0}, q = {0};
	struct nflog_pkt n;
	int i;

	ip6(&p, IPPROTO_DSTOPTS, 200);
	for (i = 0; i < NFLOG_IP6_EXT_MAX; i++)
		ext6(&p, IPPROTO_DSTOPTS, 8);
	ext6(&p, IPPROTO_UDP, 8);
	l4(&p);
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), -1);

	/* One fewer is fine. */
	ip6(&q, IPPROTO_DSTOPTS, 200);
	for (i = 0; i < NFLOG_IP6_EXT_MAX - 1; i++)
		ext6(&q, IPPROTO_DSTOPTS, 8);
	ext6(&q, IPPROTO_UDP, 8);
	l4(&q);
	assert_int_equal(parse(AF_INET6, &q, q.len, &n), 0);
	assert_true(n.has_ports);
}

static void
test_an_extension_header_past_the_bytes_gives_addresses(void **state)
{
	struct pkt p = {0};
	struct nflog_pkt n;

	ip6(&p, IPPROTO_HOPOPTS, 100);
	ext6(&p, IPPROTO_UDP, 8);
	p.b[41] = 255; /* claims 2048 bytes */
	l4(&p);
	p.ports_at = 0;
	assert_int_equal(parse(AF_INET6, &p, p.len, &n), 0);
	assert_false(n.has_ports);
	assert_every_cut(AF_INET6, &p, 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_udp_over_ipv4_gives_addresses_ports_and_length),
	    cmocka_unit_test(test_ipv4_options_and_tcp_are_stepped_over),
	    cmocka_unit_test(test_a_later_ipv4_fragment_or_icmp_has_no_ports),
	    cmocka_unit_test(test_bad_ipv4_headers_are_invalid),
	    cmocka_unit_test(test_udp_over_ipv6_gives_addresses_and_ports),
	    cmocka_unit_test(test_ipv6_extension_headers_are_walked),
	    cmocka_unit_test(test_a_later_ipv6_fragment_has_no_ports),
	    cmocka_unit_test(test_too_many_ipv6_extension_headers_are_invalid),
	    cmocka_unit_test(
	        test_an_extension_header_past_the_bytes_gives_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
