/*
 * fuzz_nflog.c - the NFLOG payload parser (redirect/nflog.h) on arbitrary
 * packet bytes.
 *
 * The first input byte picks the family the netlink header would claim
 * (AF_UNSPEC, AF_INET or AF_INET6); the rest is the payload, parsed from
 * a buffer of exactly its size and from every shorter cut of it.  Each
 * parse keeps the promises of nflog.h: a parsed packet is IPv4 or IPv6,
 * of the family asked for, with ports only for UDP and TCP and never a
 * uid; and a cut that already shows the ports shows the same addresses
 * and ports as the whole packet.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "redirect/nflog.h"

/* Cuts are tried up to this length: past it the headers are all read. */
#define FUZZ_CUT_MAX 512

static void
fuzz_fail(const char *what, size_t len)
{
	fprintf(stderr, "nflog contract broken at length %zu: %s\n", len, what);
	abort();
}

static int
parse(int family, const uint8_t *data, size_t len, struct nflog_pkt *p)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int ret;

	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, data, len);
	ret = nflog_parse_payload(family, copy, len, p);
	free(copy);
	if (ret != 0 && ret != -1)
		fuzz_fail("a return other than 0 or -1", len);
	if (ret == -1)
		return ret;
	if (p->family != AF_INET && p->family != AF_INET6)
		fuzz_fail("a family other than AF_INET or AF_INET6", len);
	if (family != AF_UNSPEC && p->family != family)
		fuzz_fail("a family other than the one asked for", len);
	if (p->src.ss_family != p->family || p->dst.ss_family != p->family)
		fuzz_fail("addresses of another family", len);
	if (p->has_ports && p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP)
		fuzz_fail("ports for a protocol without them", len);
	if (p->has_uid)
		fuzz_fail("a uid from the payload", len);
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
	struct nflog_pkt whole, cut;
	int family, ret;
	size_t len;

	if (size < 1)
		return 0;
	family = families[data[0] % 3];
	data++;
	size--;
	ret = parse(family, data, size, &whole);
	for (len = 0; len < size && len <= FUZZ_CUT_MAX; len++) {
		if (parse(family, data, len, &cut) == -1 || !cut.has_ports ||
		    ret == -1)
			continue;
		if (!whole.has_ports || cut.proto != whole.proto ||
		    memcmp(&cut.src, &whole.src, sizeof(cut.src)) != 0 ||
		    memcmp(&cut.dst, &whole.dst, sizeof(cut.dst)) != 0)
			fuzz_fail(
			    "a cut's ports differ from the whole packet's",
			    len);
	}
	return 0;
}
