/*
 * test_dns.c - the DNS stub's codec: real queries in (as dig and glibc's
 * resolver send them, captured from the wire; the same bytes are the fuzz
 * target's seeds in fuzz/corpus/fuzz_dns/), and hostile ones; the answers
 * a client would read come out, and are read back here the way a client
 * reads them.
 *
 * A datagram is whole or not at all, so every proper prefix of a real
 * query must be refused; a TCP stream is fed whole and one byte at a time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/dns.h"

/* A byte string that may hold NULs, with its length. */
#define TEST_BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

/* --- real queries, byte for byte ----------------------------------------- */

/* dig-a */
static const uint8_t q_dig_a[] = {
    0x2c, 0x0a, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0xd5, 0x3d, 0x9a, 0xf6, 0x8e, 0xda, 0xd7, 0xba,
};
/* dig-a-cd-subnet */
static const uint8_t q_dig_a_cd_subnet[] = {
    0x98, 0xe6, 0x01, 0x30, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x17, 0x00, 0x08, 0x00, 0x07,
    0x00, 0x01, 0x18, 0x00, 0xc0, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x08,
    0x69, 0x05, 0xf5, 0x29, 0x45, 0x62, 0x55, 0x05,
};
/* dig-a-mixedcase-nord */
static const uint8_t q_dig_a_mixedcase_nord[] = {
    0x2d, 0x98, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x4d, 0x69, 0x78, 0x65, 0x64, 0x07, 0x45, 0x78, 0x61, 0x6d, 0x70,
    0x6c, 0x65, 0x03, 0x43, 0x4f, 0x4d, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* dig-a-nocookie-noad */
static const uint8_t q_dig_a_nocookie_noad[] = {
    0x88, 0x37, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* dig-a-noedns */
static const uint8_t q_dig_a_noedns[] = {
    0x11, 0xfc, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* dig-aaaa */
static const uint8_t q_dig_aaaa[] = {
    0x2c, 0xd3, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0xe9, 0x72, 0x45, 0x73, 0x10, 0xdd, 0x97, 0x03,
};
/* dig-https */
static const uint8_t q_dig_https[] = {
    0x65, 0x2a, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x41, 0x00, 0x01, 0x00, 0x00, 0x29,
    0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0xc3, 0xcd, 0x3e, 0x11, 0x39, 0x70, 0x79, 0x63,
};
/* dig-mx */
static const uint8_t q_dig_mx[] = {
    0xe5, 0xf0, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0x72, 0x6a, 0x6a, 0x1e, 0x2e, 0xf8, 0x84, 0x00,
};
/* dig-ptr-v4 */
static const uint8_t q_dig_ptr_v4[] = {
    0x35, 0x0d, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x01, 0x31, 0x01, 0x32, 0x01, 0x30, 0x03, 0x31, 0x39, 0x32,
    0x07, 0x69, 0x6e, 0x2d, 0x61, 0x64, 0x64, 0x72, 0x04, 0x61, 0x72,
    0x70, 0x61, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0x73, 0xc4, 0xe7, 0xc5, 0x3d, 0x9b, 0xcd, 0x30,
};
/* dig-ptr-v6 */
static const uint8_t q_dig_ptr_v6[] = {
    0xac, 0x72, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x01, 0x31, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30,
    0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30,
    0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30,
    0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30, 0x01, 0x30,
    0x01, 0x38, 0x01, 0x62, 0x01, 0x64, 0x01, 0x30, 0x01, 0x31, 0x01, 0x30,
    0x01, 0x30, 0x01, 0x32, 0x03, 0x69, 0x70, 0x36, 0x04, 0x61, 0x72, 0x70,
    0x61, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08, 0x34, 0xee, 0x77,
    0xb7, 0xda, 0x66, 0x8b, 0x4c,
};
/* dig-root-ns */
static const uint8_t q_dig_root_ns[] = {
    0xb6, 0x46, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x29,
    0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a,
    0x00, 0x08, 0x38, 0x60, 0x95, 0x39, 0xae, 0xe4, 0xf2, 0x3b,
};
/* dig-srv */
static const uint8_t q_dig_srv[] = {
    0x49, 0xe7, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x5f, 0x69, 0x6d, 0x61, 0x70, 0x04, 0x5f, 0x74, 0x63,
    0x70, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0xd0, 0xa7, 0x2c, 0x5f, 0x55, 0xee, 0x8e, 0x08,
};
/* dig-tcp-a */
static const uint8_t q_dig_tcp_a[] = {
    0x00, 0x34, 0x93, 0xe3, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a,
    0x00, 0x08, 0x4b, 0x5e, 0x38, 0x31, 0x8c, 0x17, 0xd5, 0x56,
};
/* dig-tcp-a-padding */
static const uint8_t q_dig_tcp_a_padding[] = {
    0x00, 0x80, 0x9e, 0xb0, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x00, 0x0a, 0x00, 0x08, 0xb5, 0xb9,
    0x61, 0x01, 0xf3, 0xdb, 0x6c, 0x1b, 0x00, 0x0c, 0x00, 0x48, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* dig-tcp-aaaa-dnssec */
static const uint8_t q_dig_tcp_aaaa_dnssec[] = {
    0x00, 0x34, 0x8f, 0xe9, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
    0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c, 0x00, 0x0a,
    0x00, 0x08, 0x81, 0x0e, 0xfe, 0xa3, 0x80, 0xc9, 0x14, 0x1c,
};
/* dig-tcp-any */
static const uint8_t q_dig_tcp_any[] = {
    0x00, 0x34, 0x1b, 0x43, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0xff, 0x00, 0x01, 0x00, 0x00,
    0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a,
    0x00, 0x08, 0x00, 0xf6, 0x12, 0xea, 0xa0, 0x2c, 0xc7, 0x4b,
};
/* dig-txt-dnssec */
static const uint8_t q_dig_txt_dnssec[] = {
    0xba, 0xd4, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
    0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
    0xbe, 0x37, 0xcb, 0x90, 0xae, 0x58, 0x9c, 0xcd,
};
/* glibc-a */
static const uint8_t q_glibc_a[] = {
    0xb8, 0x23, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* glibc-a-edns0 */
static const uint8_t q_glibc_a_edns0[] = {
    0xbb, 0x0b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0x29, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* glibc-a-trust-ad */
static const uint8_t q_glibc_a_trust_ad[] = {
    0x1c, 0x5e, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0x29, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* glibc-aaaa */
static const uint8_t q_glibc_aaaa[] = {
    0xb6, 0x3f, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x1c, 0x00, 0x01,
};
/* glibc-aaaa-edns0 */
static const uint8_t q_glibc_aaaa_edns0[] = {
    0x28, 0x40, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00,
    0x00, 0x29, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* glibc-aaaa-trust-ad */
static const uint8_t q_glibc_aaaa_trust_ad[] = {
    0xb7, 0x5a, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00,
    0x00, 0x29, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* glibc-ptr-v4 */
static const uint8_t q_glibc_ptr_v4[] = {
    0xb8, 0x98, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x37, 0x01, 0x32, 0x01, 0x30, 0x03, 0x31,
    0x39, 0x32, 0x07, 0x69, 0x6e, 0x2d, 0x61, 0x64, 0x64, 0x72,
    0x04, 0x61, 0x72, 0x70, 0x61, 0x00, 0x00, 0x0c, 0x00, 0x01,
};
/* glibc-tcp-a-aaaa */
static const uint8_t q_glibc_tcp_a_aaaa[] = {
    0x00, 0x1d, 0xbf, 0x78, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x1d,
    0xdd, 0x74, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x6f,
    0x72, 0x67, 0x00, 0x00, 0x1c, 0x00, 0x01,
};

/* What a real query must parse as. */
struct real {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	bool tcp; /* bytes are a TCP stream: one framed message */
	const char *name;
	bool name_ok;
	uint16_t qtype;
	bool rd, cd;
	bool edns;
	uint16_t edns_size;
	bool edns_do;
};

#define REAL(q) #q, q_##q, sizeof(q_##q)

static const struct real reals[] = {
    {REAL(dig_a_noedns), false, "example.com", true, DNS_T_A, true, false,
     false, 0, false},
    {REAL(dig_a), false, "example.com", true, DNS_T_A, true, false, true, 1232,
     false},
    {REAL(dig_aaaa), false, "example.com", true, DNS_T_AAAA, true, false, true,
     1232, false},
    {REAL(dig_https), false, "www.example.com", true, DNS_T_HTTPS, true, false,
     true, 1232, false},
    {REAL(dig_ptr_v4), false, "1.2.0.192.in-addr.arpa", true, DNS_T_PTR, true,
     false, true, 1232, false},
    {REAL(dig_ptr_v6), false,
     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
     "ip6.arpa",
     true, DNS_T_PTR, true, false, true, 1232, false},
    {REAL(dig_mx), false, "example.com", true, DNS_T_MX, true, false, true,
     1232, false},
    {REAL(dig_txt_dnssec), false, "example.com", true, DNS_T_TXT, true, false,
     true, 1232, true},
    {REAL(dig_a_nocookie_noad), false, "example.com", true, DNS_T_A, true,
     false, true, 1232, false},
    {REAL(dig_a_mixedcase_nord), false, "mixed.example.com", true, DNS_T_A,
     false, false, false, 0, false},
    {REAL(dig_srv), false, "_imap._tcp.example.com", true, DNS_T_SRV, true,
     false, true, 1232, false},
    {REAL(dig_root_ns), false, "", false, DNS_T_NS, true, false, true, 1232,
     false},
    {REAL(dig_a_cd_subnet), false, "example.com", true, DNS_T_A, true, true,
     true, 1232, false},
    {REAL(dig_tcp_a), true, "example.com", true, DNS_T_A, true, false, true,
     1232, false},
    {REAL(dig_tcp_aaaa_dnssec), true, "example.com", true, DNS_T_AAAA, true,
     false, true, 1232, true},
    {REAL(dig_tcp_any), true, "example.com", true, DNS_T_ANY, true, false, true,
     4096, false},
    {REAL(dig_tcp_a_padding), true, "example.com", true, DNS_T_A, true, false,
     true, 1232, false},
    {REAL(glibc_a), false, "example.org", true, DNS_T_A, true, false, false, 0,
     false},
    {REAL(glibc_aaaa), false, "example.org", true, DNS_T_AAAA, true, false,
     false, 0, false},
    {REAL(glibc_ptr_v4), false, "7.2.0.192.in-addr.arpa", true, DNS_T_PTR, true,
     false, false, 0, false},
    {REAL(glibc_a_edns0), false, "example.org", true, DNS_T_A, true, false,
     true, 1200, false},
    {REAL(glibc_aaaa_edns0), false, "example.org", true, DNS_T_AAAA, true,
     false, true, 1200, false},
    {REAL(glibc_a_trust_ad), false, "example.org", true, DNS_T_A, true, false,
     true, 1200, false},
    {REAL(glibc_aaaa_trust_ad), false, "example.org", true, DNS_T_AAAA, true,
     false, true, 1200, false},
};

/*
 * The framed message at the front of a TCP stream, found by feeding the
 * stream one byte at a time (the length must stay unknown until the last
 * byte of the message) and all at once.  Returns its framed length.
 */
static size_t
tcp_frame(const uint8_t *stream, size_t len)
{
	size_t given;
	int whole, r;

	whole = dns_tcp_len(stream, len);
	assert_true(whole > 0);
	assert_true((size_t)whole <= len);
	for (given = 0; given < (size_t)whole; given++)
		assert_int_equal(dns_tcp_len(stream, given), DNS_TCP_NEED_MORE);
	for (; given <= len; given++) {
		r = dns_tcp_len(stream, given);
		assert_int_equal(r, whole);
	}
	return (size_t)whole;
}

/* Every proper prefix of a query is refused, never read as another. */
static void
assert_prefixes_refused(const uint8_t *msg, size_t len)
{
	struct dns_query q;
	enum dns_parse r;
	uint8_t *copy;
	size_t i;

	for (i = 0; i < len; i++) {
		/* a buffer of exactly i bytes: ASan sees a read past it */
		copy = malloc(i == 0 ? 1 : i);
		assert_non_null(copy);
		memcpy(copy, msg, i);
		r = dns_parse_query(copy, i, &q);
		free(copy);
		assert_int_equal(r, i < DNS_HDR_LEN ? DNS_DROP : DNS_FORMERR);
		assert_non_null(q.error);
	}
}

static void
test_real_queries(void **state)
{
	const struct real *t;
	struct dns_query q;
	const uint8_t *msg;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		t = &reals[i];
		print_message("%s\n", t->what);
		msg = t->bytes;
		len = t->len;
		if (t->tcp) {
			assert_int_equal(tcp_frame(msg, len), len);
			msg += 2;
			len -= 2;
		}
		assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
		assert_null(q.error);
		assert_int_equal(q.id, msg[0] << 8 | msg[1]);
		assert_int_equal(q.opcode, 0);
		assert_string_equal(q.name, t->name);
		assert_int_equal(q.name_ok, t->name_ok);
		assert_int_equal(q.qtype, t->qtype);
		assert_int_equal(q.qclass, DNS_CLASS_IN);
		assert_int_equal(q.rd, t->rd);
		assert_int_equal(q.cd, t->cd);
		assert_int_equal(q.edns, t->edns);
		assert_int_equal(q.edns_size, t->edns_size);
		assert_int_equal(q.edns_do, t->edns_do);
		assert_int_equal(
		    dns_udp_size(&q),
		    t->edns ? (t->edns_size > 1232 ? 1232 : t->edns_size)
		            : 512);
		/* the question ends with its type and class */
		assert_int_equal(msg[q.question_end - 4] << 8 |
		                     msg[q.question_end - 3],
		                 t->qtype);
		assert_true(q.question_end <= len);
		assert_int_equal(q.question_end == len, !t->edns);
		assert_prefixes_refused(msg, len);
	}
}

/* glibc with "options use-vc": A and AAAA back to back on one stream. */
static void
test_tcp_two_queries(void **state)
{
	const uint8_t *s = q_glibc_tcp_a_aaaa;
	size_t len = sizeof(q_glibc_tcp_a_aaaa), first, second;
	struct dns_query q;

	(void)state;
	first = tcp_frame(s, len);
	assert_true(first < len);
	assert_int_equal(dns_parse_query(s + 2, first - 2, &q), DNS_QUERY);
	assert_string_equal(q.name, "example.org");
	assert_int_equal(q.qtype, DNS_T_A);
	second = tcp_frame(s + first, len - first);
	assert_int_equal(first + second, len);
	assert_int_equal(dns_parse_query(s + first + 2, second - 2, &q),
	                 DNS_QUERY);
	assert_string_equal(q.name, "example.org");
	assert_int_equal(q.qtype, DNS_T_AAAA);
}

static void
test_tcp_length_lies(void **state)
{
	(void)state;
	/* a length of 0, or too short for a header: close */
	assert_int_equal(dns_tcp_len(TEST_BYTES("\x00\x00")), DNS_TCP_INVALID);
	assert_int_equal(dns_tcp_len(TEST_BYTES("\x00\x0b"
	                                        "abcdefghijk")),
	                 DNS_TCP_INVALID);
	/* a length the stream does not (yet) hold: wait, however long */
	assert_int_equal(dns_tcp_len(TEST_BYTES("\xff\xff"
	                                        "abcdefghijkl")),
	                 DNS_TCP_NEED_MORE);
	assert_int_equal(dns_tcp_len(TEST_BYTES("\x00")), DNS_TCP_NEED_MORE);
	assert_int_equal(dns_tcp_len((const uint8_t *)"", 0), DNS_TCP_NEED_MORE);
	/* 12 is a header's worth: framed 14, whatever follows */
	assert_int_equal(dns_tcp_len(TEST_BYTES("\x00\x0c"
	                                        "abcdefghijkl"
	                                        "more")),
	                 14);
}

/* --- reading an answer back, as a client would --------------------------- */

#define REPLY_RR_MAX 64

struct reply {
	uint16_t id, flags, qd, an, ns, ar;
	size_t qend; /* just past the question */
	size_t n;
	struct {
		uint16_t type, class;
		uint32_t ttl;
		size_t rdlen;
		const uint8_t *rdata;
	} rr[REPLY_RR_MAX];
	bool opt;
	uint16_t opt_size;
	uint32_t opt_ttl;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read a whole response; every byte must be accounted for. */
static void
reply_read(const uint8_t *b, size_t len, struct reply *r)
{
	size_t pos, i;

	memset(r, 0, sizeof(*r));
	assert_true(len >= DNS_HDR_LEN);
	r->id = get16(b);
	r->flags = get16(b + 2);
	r->qd = get16(b + 4);
	r->an = get16(b + 6);
	r->ns = get16(b + 8);
	r->ar = get16(b + 10);
	assert_true(r->qd <= 1);
	assert_int_equal(r->ns, 0);
	assert_true(r->ar <= 1);
	assert_true(r->an <= REPLY_RR_MAX);
	pos = DNS_HDR_LEN;
	if (r->qd == 1) {
		/* our answers copy the question, which has no pointers */
		while (pos < len && b[pos] != 0) {
			assert_true(b[pos] <= 63);
			pos += 1 + b[pos];
		}
		pos += 1 + 4;
	}
	assert_true(pos <= len);
	r->qend = pos;
	for (i = 0; i < r->an; i++) {
		assert_true(len - pos >= 12);
		assert_int_equal(get16(b + pos), 0xc00c);
		r->rr[i].type = get16(b + pos + 2);
		r->rr[i].class = get16(b + pos + 4);
		r->rr[i].ttl =
		    (uint32_t)get16(b + pos + 6) << 16 | get16(b + pos + 8);
		r->rr[i].rdlen = get16(b + pos + 10);
		r->rr[i].rdata = b + pos + 12;
		pos += 12;
		assert_true(len - pos >= r->rr[i].rdlen);
		pos += r->rr[i].rdlen;
	}
	r->n = r->an;
	if (r->ar == 1) {
		assert_true(len - pos >= 11);
		assert_int_equal(b[pos], 0);
		assert_int_equal(get16(b + pos + 1), DNS_T_OPT);
		r->opt = true;
		r->opt_size = get16(b + pos + 3);
		r->opt_ttl =
		    (uint32_t)get16(b + pos + 5) << 16 | get16(b + pos + 7);
		assert_int_equal(get16(b + pos + 9), 0);
		pos += 11;
	}
	assert_int_equal(pos, len);
}

#define F_QR 0x8000
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080
#define F_CD 0x0010

/* The answer's header and question are the query's, as a client checks. */
static void
assert_answers(const struct reply *r, const struct dns_query *q,
               const uint8_t *msg, const uint8_t *out, size_t len,
               unsigned rcode)
{
	assert_int_equal(r->id, q->id);
	assert_true(r->flags & F_QR);
	assert_true(r->flags & F_RA);
	assert_int_equal((r->flags & F_RD) != 0, q->rd);
	assert_int_equal((r->flags & F_CD) != 0, q->cd);
	assert_int_equal(r->flags >> 11 & 0xf, q->opcode);
	assert_int_equal(r->flags & 0xf, rcode);
	assert_int_equal(r->flags & 0x0460, 0); /* AA, Z, AD */
	assert_int_equal(r->opt, q->edns);
	if (q->edns) {
		assert_int_equal(r->opt_size, DNS_EDNS_MAX);
		assert_int_equal(r->opt_ttl, q->edns_do ? 0x8000 : 0);
	}
	if (q->opcode == 0) {
		assert_int_equal(r->qd, 1);
		assert_int_equal(r->qend, q->question_end);
		assert_memory_equal(out + DNS_HDR_LEN, msg + DNS_HDR_LEN,
		                    q->question_end - DNS_HDR_LEN);
		assert_int_equal(dns_response_matches(q, out, len), 0);
	} else {
		assert_int_equal(r->qd, 0);
	}
}

/* Parse a real query; its bytes are the query, as the stub keeps them. */
static void
parse_real(const uint8_t *msg, size_t len, struct dns_query *q)
{
	assert_int_equal(dns_parse_query(msg, len, q), DNS_QUERY);
}

static void
test_answer_a(void **state)
{
	struct dns_query q;
	struct dns_rr rr;
	struct reply r;
	uint8_t out[DNS_EDNS_MAX];
	size_t n;

	(void)state;
	parse_real(q_dig_a, sizeof(q_dig_a), &q);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_A;
	rr.ttl = 60;
	assert_int_equal(inet_pton(AF_INET, "198.18.0.7", &rr.u.a), 1);
	n = dns_build_answer(&q, q_dig_a, DNS_R_NOERROR, &rr, 1,
	                     dns_udp_size(&q), out, sizeof(out));
	assert_true(n > 0);
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_dig_a, out, n, DNS_R_NOERROR);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.rr[0].type, DNS_T_A);
	assert_int_equal(r.rr[0].class, DNS_CLASS_IN);
	assert_int_equal(r.rr[0].ttl, 60);
	assert_int_equal(r.rr[0].rdlen, 4);
	assert_memory_equal(r.rr[0].rdata, "\xc6\x12\x00\x07", 4);

	/* without EDNS: no OPT record; the client's case kept (0x20) */
	parse_real(q_dig_a_mixedcase_nord, sizeof(q_dig_a_mixedcase_nord), &q);
	n = dns_build_answer(&q, q_dig_a_mixedcase_nord, DNS_R_NOERROR, &rr, 1,
	                     dns_udp_size(&q), out, sizeof(out));
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_dig_a_mixedcase_nord, out, n, DNS_R_NOERROR);
	assert_memory_equal(out + 12,
	                    "\x05Mixed\x07"
	                    "Example\x03"
	                    "COM",
	                    18);
	assert_int_equal(r.an, 1);
	assert_false(r.flags & F_RD);
}

static void
test_answer_aaaa_nodata_and_v6(void **state)
{
	struct dns_query q;
	struct dns_rr rr;
	struct reply r;
	uint8_t out[DNS_EDNS_MAX];
	size_t n;

	(void)state;
	parse_real(q_glibc_aaaa, sizeof(q_glibc_aaaa), &q);
	n = dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, NULL, 0,
	                     dns_udp_size(&q), out, sizeof(out));
	assert_int_equal(n, sizeof(q_glibc_aaaa)); /* header and question */
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_glibc_aaaa, out, n, DNS_R_NOERROR);
	assert_int_equal(r.an, 0);

	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_AAAA;
	rr.ttl = 30;
	assert_int_equal(inet_pton(AF_INET6, "fd00::1:2", &rr.u.aaaa), 1);
	parse_real(q_dig_tcp_aaaa_dnssec + 2, sizeof(q_dig_tcp_aaaa_dnssec) - 2,
	           &q);
	n = dns_build_answer(&q, q_dig_tcp_aaaa_dnssec + 2, DNS_R_NOERROR, &rr,
	                     1, DNS_MSG_MAX, out, sizeof(out));
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_dig_tcp_aaaa_dnssec + 2, out, n,
	               DNS_R_NOERROR);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.rr[0].type, DNS_T_AAAA);
	assert_int_equal(r.rr[0].rdlen, 16);
	assert_memory_equal(r.rr[0].rdata, &rr.u.aaaa, 16);
	assert_int_equal(r.opt_ttl, 0x8000); /* DO echoed */
}

static void
test_answer_rcodes(void **state)
{
	static const enum dns_rcode rcodes[] = {DNS_R_NXDOMAIN, DNS_R_REFUSED,
	                                        DNS_R_NOTIMP, DNS_R_SERVFAIL};
	struct dns_query q;
	struct reply r;
	uint8_t out[DNS_UDP_MAX];
	size_t i, n;

	(void)state;
	parse_real(q_dig_mx, sizeof(q_dig_mx), &q);
	for (i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		n = dns_build_answer(&q, q_dig_mx, rcodes[i], NULL, 0,
		                     dns_udp_size(&q), out, sizeof(out));
		assert_true(n > 0);
		reply_read(out, n, &r);
		assert_answers(&r, &q, q_dig_mx, out, n, rcodes[i]);
		assert_int_equal(r.an, 0);
	}
	assert_int_equal(dns_build_answer(&q, q_dig_mx, (enum dns_rcode)16,
	                                  NULL, 0, 512, out, sizeof(out)),
	                 0);
}

/* An opcode other than QUERY (here NOTIFY, as a primary sends it): the
 * header only, and NOTIMP without a question. */
static void
test_answer_notimp_opcode(void **state)
{
	uint8_t msg[sizeof(q_glibc_a)], out[DNS_UDP_MAX];
	struct dns_query q;
	struct dns_rr rr;
	struct reply r;
	size_t n;

	(void)state;
	memcpy(msg, q_glibc_a, sizeof(msg));
	msg[2] = (msg[2] & 0x87) | 4 << 3;
	assert_int_equal(dns_parse_query(msg, sizeof(msg), &q), DNS_QUERY);
	assert_int_equal(q.opcode, 4);
	assert_string_equal(q.name, "");
	assert_false(q.name_ok);
	assert_int_equal(q.qtype, 0);
	assert_int_equal(q.question_end, DNS_HDR_LEN);
	n = dns_build_answer(&q, msg, DNS_R_NOTIMP, NULL, 0, 512, out,
	                     sizeof(out));
	assert_int_equal(n, DNS_HDR_LEN);
	reply_read(out, n, &r);
	assert_answers(&r, &q, msg, out, n, DNS_R_NOTIMP);
	/* no question to own a record */
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_A;
	assert_int_equal(dns_build_answer(&q, msg, DNS_R_NOERROR, &rr, 1, 512,
	                                  out, sizeof(out)),
	                 0);
	/* never forwarded, so nothing upstream answers it */
	assert_int_equal(dns_response_matches(&q, out, n), -1);
}

static void
test_answer_ptr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct dns_query q;
	struct dns_rr rr;
	struct reply r;
	uint8_t out[DNS_UDP_MAX];
	size_t n;

	(void)state;
	parse_real(q_glibc_ptr_v4, sizeof(q_glibc_ptr_v4), &q);
	assert_int_equal(dns_ptr_addr(q.name, &ss), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000207);

	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_PTR;
	rr.ttl = 60;
	rr.u.name = "host.example";
	n = dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR, &rr, 1,
	                     dns_udp_size(&q), out, sizeof(out));
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_glibc_ptr_v4, out, n, DNS_R_NOERROR);
	assert_int_equal(r.an, 1);
	assert_int_equal(r.rr[0].type, DNS_T_PTR);
	assert_int_equal(r.rr[0].rdlen, 14);
	assert_memory_equal(r.rr[0].rdata,
	                    "\x04host\x07"
	                    "example\x00",
	                    14);

	/* the text's escapes read back: a name is what dns_query.name says */
	rr.u.name = "a\\046b\\092.example.";
	n = dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR, &rr, 1,
	                     dns_udp_size(&q), out, sizeof(out));
	reply_read(out, n, &r);
	assert_int_equal(r.rr[0].rdlen, 14);
	assert_memory_equal(r.rr[0].rdata,
	                    "\x04"
	                    "a.b\\\x07"
	                    "example\x00",
	                    14);

	/* not names: nothing is built */
	rr.u.name = "a..example";
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
	rr.u.name = "a\\25";
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
	rr.u.name = "a\\256";
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
	rr.u.name = "0123456789012345678901234567890123456789012345678901234"
	            "567890123.example"; /* a label of 64 */
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
	rr.u.name = NULL;
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
	rr.type = DNS_T_MX;
	rr.u.name = "mail.example";
	assert_int_equal(dns_build_answer(&q, q_glibc_ptr_v4, DNS_R_NOERROR,
	                                  &rr, 1, 512, out, sizeof(out)),
	                 0);
}

static void
test_ptr_addr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct in6_addr want;
	struct dns_query q;

	(void)state;
	parse_real(q_dig_ptr_v6, sizeof(q_dig_ptr_v6), &q);
	assert_int_equal(dns_ptr_addr(q.name, &ss), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &want), 1);
	assert_memory_equal(&sin6->sin6_addr, &want, 16);
	assert_int_equal(sin6->sin6_port, 0);

	assert_int_equal(dns_ptr_addr("1.0.18.198.in-addr.arpa", &ss), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc6120001);
	assert_int_equal(dns_ptr_addr("0.0.0.0.in-addr.arpa", &ss), 0);
	assert_int_equal(dns_ptr_addr("255.255.255.255.in-addr.arpa", &ss), 0);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xffffffff);

	/* zones, not addresses; numbers that are not octets; other names */
	assert_int_equal(dns_ptr_addr("18.198.in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("1.1.0.18.198.in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("256.0.18.198.in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("01.0.18.198.in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("1.0.18.198.in-addr.arpa.x", &ss), -1);
	assert_int_equal(dns_ptr_addr("1.0.18.198.in-addr.arp", &ss), -1);
	assert_int_equal(dns_ptr_addr("x.0.18.198.in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("in-addr.arpa", &ss), -1);
	assert_int_equal(dns_ptr_addr("", &ss), -1);
	assert_int_equal(dns_ptr_addr("example.com", &ss), -1);
	assert_int_equal(dns_ptr_addr("8.b.d.0.1.0.0.2.ip6.arpa", &ss), -1);
	assert_int_equal(
	    dns_ptr_addr(
	        "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
	        "0.1.0.0.2.ip6.arpa",
	        &ss),
	    -1);
	assert_int_equal(
	    dns_ptr_addr("10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
	                 "0.1.0.0.2.ip6.arpa",
	                 &ss),
	    -1);
}

/* More records than 512 bytes hold: TC=1 and none of them, so the client
 * asks again over TCP, where they all fit. */
static void
test_truncation(void **state)
{
	struct dns_rr rr[60];
	struct dns_query q;
	struct reply r;
	uint8_t out[DNS_MSG_MAX];
	size_t i, n;

	(void)state;
	memset(rr, 0, sizeof(rr));
	for (i = 0; i < 60; i++) {
		rr[i].type = DNS_T_AAAA;
		rr[i].ttl = 60;
		rr[i].u.aaaa.s6_addr[15] = (uint8_t)i;
	}
	/* 60 AAAA records take 60 * 28 bytes */
	parse_real(q_glibc_aaaa, sizeof(q_glibc_aaaa), &q);
	n = dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr, 60,
	                     dns_udp_size(&q), out, sizeof(out));
	reply_read(out, n, &r);
	assert_answers(&r, &q, q_glibc_aaaa, out, n, DNS_R_NOERROR);
	assert_true(r.flags & F_TC);
	assert_int_equal(r.an, 0);

	/* EDNS 1200: still too many; the OPT record stays */
	parse_real(q_glibc_aaaa_edns0, sizeof(q_glibc_aaaa_edns0), &q);
	n = dns_build_answer(&q, q_glibc_aaaa_edns0, DNS_R_NOERROR, rr, 60,
	                     dns_udp_size(&q), out, sizeof(out));
	reply_read(out, n, &r);
	assert_true(r.flags & F_TC);
	assert_int_equal(r.an, 0);
	assert_true(r.opt);
	/* 17 fit in 512: 29 + 17 * 28 = 505 */
	parse_real(q_glibc_aaaa, sizeof(q_glibc_aaaa), &q);
	n = dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr, 17, 512, out,
	                     sizeof(out));
	assert_int_equal(n, 505);
	reply_read(out, n, &r);
	assert_false(r.flags & F_TC);
	assert_int_equal(r.an, 17);
	n = dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr, 18, 512, out,
	                     sizeof(out));
	reply_read(out, n, &r);
	assert_true(r.flags & F_TC);
	/* a buffer smaller than max_size truncates the same way */
	n = dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr, 18, 1232, out,
	                     512);
	reply_read(out, n, &r);
	assert_true(r.flags & F_TC);

	/* TCP */
	parse_real(q_dig_tcp_aaaa_dnssec + 2, sizeof(q_dig_tcp_aaaa_dnssec) - 2,
	           &q);
	n = dns_build_answer(&q, q_dig_tcp_aaaa_dnssec + 2, DNS_R_NOERROR, rr,
	                     60, DNS_MSG_MAX, out, sizeof(out));
	reply_read(out, n, &r);
	assert_false(r.flags & F_TC);
	assert_int_equal(r.an, 60);
	for (i = 0; i < 60; i++)
		assert_int_equal(r.rr[i].rdata[15], i);

	/* no room even for the question: nothing */
	parse_real(q_glibc_aaaa, sizeof(q_glibc_aaaa), &q);
	assert_int_equal(dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr,
	                                  1, 512, out,
	                                  sizeof(q_glibc_aaaa) - 1),
	                 0);
	assert_int_equal(dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, rr,
	                                  1, 20, out, sizeof(out)),
	                 0);
	assert_int_equal(dns_build_answer(&q, q_glibc_aaaa, DNS_R_NOERROR, NULL,
	                                  0, 512, out, sizeof(q_glibc_aaaa)),
	                 sizeof(q_glibc_aaaa));
}

static void
test_udp_size(void **state)
{
	struct dns_query q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.edns_size = 4096;
	assert_int_equal(dns_udp_size(&q), 512);
	q.edns = true;
	assert_int_equal(dns_udp_size(&q), 1232);
	q.edns_size = 1200;
	assert_int_equal(dns_udp_size(&q), 1200);
	q.edns_size = 100; /* RFC 6891: below 512 means 512 */
	assert_int_equal(dns_udp_size(&q), 512);
}

/* --- hostile queries -------------------------------------------------------
 */

struct hostile {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	enum dns_parse want;
	const char *error;
};

/* A header: id 1234, RD, then QD AN NS AR counts. */
#define H(qd, an, ns, ar) "\x12\x34\x01\x00" qd an ns ar
#define N0                "\x00\x00"
#define N1                "\x00\x01"
#define EXAMPLE                                                                \
	"\x07"                                                                 \
	"example\x03"                                                          \
	"com\x00"
#define QA       "\x00\x01\x00\x01"
#define OPT_HEAD "\x00\x00\x29\x04\xd0\x00\x00\x00\x00"
#define L63                                                                    \
	"\x3f"                                                                 \
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static const struct hostile hostiles[] = {
    {"empty", TEST_BYTES(""), DNS_DROP, "shorter than a DNS header"},
    {"11 bytes", TEST_BYTES("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00"),
     DNS_DROP, "shorter than a DNS header"},
    {"a response", TEST_BYTES("\x12\x34\x81\x80" N1 N0 N0 N0 EXAMPLE QA),
     DNS_DROP, "a response, not a query"},
    {"QDCOUNT 0", TEST_BYTES(H(N0, N0, N0, N0)), DNS_FORMERR, "no question"},
    {"QDCOUNT 2", TEST_BYTES(H("\x00\x02", N0, N0, N0) EXAMPLE QA EXAMPLE QA),
     DNS_FORMERR, "more than one question"},
    {"QDCOUNT 65535", TEST_BYTES(H("\xff\xff", N0, N0, N0) EXAMPLE QA),
     DNS_FORMERR, "more than one question"},
    {"ANCOUNT 1",
     TEST_BYTES(H(N1, N1, N0, N0) EXAMPLE QA
                "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02"
                "\x03\x04"),
     DNS_FORMERR, "answer or authority records in a query"},
    {"NSCOUNT 1", TEST_BYTES(H(N1, N0, N1, N0) EXAMPLE QA), DNS_FORMERR,
     "answer or authority records in a query"},
    {"ARCOUNT 65535", TEST_BYTES(H(N1, N0, N0, "\xff\xff") EXAMPLE QA),
     DNS_FORMERR, "more than one additional record"},
    {"ARCOUNT 1, nothing there", TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA),
     DNS_FORMERR, "additional record cut short"},
    {"name cut short",
     TEST_BYTES(H(N1, N0, N0, N0) "\x07"
                                  "exam"),
     DNS_FORMERR, "label runs past the message"},
    {"name without its end",
     TEST_BYTES(H(N1, N0, N0, N0) "\x07"
                                  "example"),
     DNS_FORMERR, "name runs past the message"},
    {"no type and class", TEST_BYTES(H(N1, N0, N0, N0) EXAMPLE "\x00\x01"),
     DNS_FORMERR, "question cut short"},
    {"a byte after the question",
     TEST_BYTES(H(N1, N0, N0, N0) EXAMPLE QA "\x00"), DNS_FORMERR,
     "bytes after the question"},
    {"a label of 64",
     TEST_BYTES(H(
         N1, N0, N0,
         N0) "\x40"
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"
             "\x00" QA),
     DNS_FORMERR, "label longer than 63 octets"},
    {"extended label type 0x80",
     TEST_BYTES(H(N1, N0, N0, N0) "\x81"
                                  "a\x00" QA),
     DNS_FORMERR, "label longer than 63 octets"},
    {"a name of 256 octets",
     TEST_BYTES(H(N1, N0, N0, N0) L63 L63 L63
                "\x3e"
                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
                "\x00" QA),
     DNS_FORMERR, "name longer than 255 octets"},
    {"a name of 320 octets",
     TEST_BYTES(H(N1, N0, N0, N0) L63 L63 L63 L63 L63 "\x00" QA), DNS_FORMERR,
     "name longer than 255 octets"},
    {"a pointer to itself", TEST_BYTES(H(N1, N0, N0, N0) "\xc0\x0c" QA),
     DNS_FORMERR, "compression pointer not backwards"},
    {"a loop through a label",
     TEST_BYTES(H(N1, N0, N0, N0) "\x01"
                                  "a\xc0\x0c" QA),
     DNS_FORMERR, "compression pointer not backwards"},
    {"a forward pointer",
     TEST_BYTES(H(N1, N0, N0, N0) "\x01"
                                  "a\xc0\x14" QA EXAMPLE),
     DNS_FORMERR, "compression pointer not backwards"},
    {"a pointer past the end", TEST_BYTES(H(N1, N0, N0, N0) "\xff\xff" QA),
     DNS_FORMERR, "compression pointer not backwards"},
    {"a pointer into the header",
     TEST_BYTES(H(N1, N0, N0, N0) "\x01"
                                  "a\xc0\x04" QA),
     DNS_FORMERR, "compression pointer into the header"},
    {"a pointer cut short",
     TEST_BYTES(H(N1, N0, N0, N0) "\x01"
                                  "a\xc0"),
     DNS_FORMERR, "compression pointer cut short"},
    {"a name too long as text (257 characters)",
     TEST_BYTES(H(
         N1, N0, N0,
         N0) "\x20"
             "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
             "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
             "\x20"
             "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
             "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
             "\x00" QA),
     DNS_FORMERR, "name too long as text"},
    {"a question for OPT",
     TEST_BYTES(H(N1, N0, N0, N0) EXAMPLE "\x00\x29\x00\x01"), DNS_FORMERR,
     "a question for an OPT record"},
    {"OPT RDLENGTH past the end",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA OPT_HEAD "\x00\x08"
                                                      "\x00\x0a\x00\x08"),
     DNS_FORMERR, "OPT record runs past the message"},
    {"OPT RDLENGTH 65535",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA OPT_HEAD "\xff\xff"), DNS_FORMERR,
     "OPT record runs past the message"},
    {"bytes after OPT",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA OPT_HEAD "\x00\x00"
                                                      "\x00"),
     DNS_FORMERR, "bytes after the OPT record"},
    {"an option past its record",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA OPT_HEAD
                "\x00\x06"
                "\x00\x0a\x00\x08\x01\x02"),
     DNS_FORMERR, "EDNS option runs past its record"},
    {"an option cut short",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA OPT_HEAD "\x00\x02"
                                                      "\x00\x0a"),
     DNS_FORMERR, "EDNS option cut short"},
    {"OPT with a name",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA "\xc0\x0c\x00\x29\x04\xd0\x00"
                                             "\x00\x00\x00\x00\x00"),
     DNS_FORMERR, "additional record is not an OPT record"},
    {"an A record as additional",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA
                "\x00\x00\x01\x00\x01\x00\x00"
                "\x00\x3c\x00\x04\x01\x02\x03\x04"),
     DNS_FORMERR, "additional record is not an OPT record"},
    {"EDNS version 1",
     TEST_BYTES(H(N1, N0, N0, N1) EXAMPLE QA
                "\x00\x00\x29\x04\xd0\x00\x01\x00\x00\x00\x00"),
     DNS_FORMERR, "EDNS version not 0"},
};

static void
test_hostile(void **state)
{
	const struct hostile *t;
	struct dns_query q;
	enum dns_parse r;
	uint8_t out[DNS_UDP_MAX], *copy;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		t = &hostiles[i];
		print_message("%s\n", t->what);
		copy = malloc(t->len == 0 ? 1 : t->len);
		assert_non_null(copy);
		memcpy(copy, t->bytes, t->len);
		r = dns_parse_query(copy, t->len, &q);
		n = dns_build_error(copy, t->len, DNS_R_FORMERR, out,
		                    sizeof(out));
		free(copy);
		assert_int_equal(r, t->want);
		assert_string_equal(q.error, t->error);
		assert_true(memchr(q.name, '\0', sizeof(q.name)) != NULL);
		if (t->want == DNS_FORMERR) {
			assert_int_equal(q.id, 0x1234);
			assert_int_equal(n, DNS_HDR_LEN);
			assert_memory_equal(out,
			                    "\x12\x34\x81\x81\x00\x00\x00\x00"
			                    "\x00\x00\x00\x00",
			                    DNS_HDR_LEN);
		} else {
			assert_int_equal(n, 0);
		}
	}
}

/* Names at the edges: the longest there is, octets that need escaping,
 * upper case, a number for a last label. */
static void
test_names(void **state)
{
	static const uint8_t longest[] = H(N1, N0, N0, N0) L63 L63 L63
	    "\x3d"
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"
	    "\x00" QA;
	struct dns_query q;

	(void)state;
	assert_int_equal(dns_parse_query(longest, sizeof(longest) - 1, &q),
	                 DNS_QUERY);
	assert_int_equal(strlen(q.name), 253);
	assert_true(q.name_ok);

	assert_int_equal(
	    dns_parse_query(TEST_BYTES(H(N1, N0, N0, N0) "\x03"
	                                                 "a.B\x02\\\xff\x03"
	                                                 "c d\x00" QA),
	                    &q),
	    DNS_QUERY);
	assert_string_equal(q.name, "a\\046b.\\092\\255.c\\032d");
	assert_false(q.name_ok);

	assert_int_equal(
	    dns_parse_query(TEST_BYTES(H(N1, N0, N0, N0) "\x03WWW\x07"
	                                                 "Example\x03"
	                                                 "COM\x00" QA),
	                    &q),
	    DNS_QUERY);
	assert_string_equal(q.name, "www.example.com");
	assert_true(q.name_ok);

	assert_int_equal(
	    dns_parse_query(TEST_BYTES(H(N1, N0, N0, N0) "\x03"
	                                                 "192\x01"
	                                                 "0\x01"
	                                                 "2\x01"
	                                                 "1\x00" QA),
	                    &q),
	    DNS_QUERY);
	assert_string_equal(q.name, "192.0.2.1");
	assert_false(q.name_ok);

	/* class CH (version.bind) is the stub's to refuse, not ours */
	assert_int_equal(
	    dns_parse_query(
	        TEST_BYTES(H(N1, N0, N0, N0) "\x07version\x04"
	                                     "bind\x00\x00\x10\x00\x03"),
	        &q),
	    DNS_QUERY);
	assert_int_equal(q.qclass, 3);
	assert_int_equal(q.qtype, DNS_T_TXT);
}

/* What upstream sends back is relayed only when it answers the query. */
static void
test_response_matches(void **state)
{
	struct dns_query q;
	struct dns_rr rr;
	uint8_t out[DNS_UDP_MAX], bad[DNS_UDP_MAX];
	size_t n;

	(void)state;
	parse_real(q_dig_mx, sizeof(q_dig_mx), &q);
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_CNAME;
	rr.u.name = "mx.example.com";
	n = dns_build_answer(&q, q_dig_mx, DNS_R_NOERROR, &rr, 1, 512, out,
	                     sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_response_matches(&q, out, n), 0);
	/* upstream may change the name's case */
	memcpy(bad, out, n);
	bad[13] = 'E';
	assert_int_equal(dns_response_matches(&q, bad, n), 0);
	/* another id, a query, another name, type, class; no question */
	memcpy(bad, out, n);
	bad[1] ^= 1;
	assert_int_equal(dns_response_matches(&q, bad, n), -1);
	assert_int_equal(dns_response_matches(&q, q_dig_mx, sizeof(q_dig_mx)),
	                 -1);
	memcpy(bad, out, n);
	bad[14] = 'y';
	assert_int_equal(dns_response_matches(&q, bad, n), -1);
	memcpy(bad, out, n);
	bad[q.question_end - 3] = DNS_T_A;
	assert_int_equal(dns_response_matches(&q, bad, n), -1);
	memcpy(bad, out, n);
	bad[q.question_end - 1] = 3;
	assert_int_equal(dns_response_matches(&q, bad, n), -1);
	memcpy(bad, out, n);
	bad[5] = 0;
	assert_int_equal(dns_response_matches(&q, bad, n), -1);
	/* cut inside the question, and a header alone */
	assert_int_equal(dns_response_matches(&q, out, q.question_end - 1), -1);
	assert_int_equal(dns_response_matches(&q, out, 11), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_queries),
	    cmocka_unit_test(test_tcp_two_queries),
	    cmocka_unit_test(test_tcp_length_lies),
	    cmocka_unit_test(test_answer_a),
	    cmocka_unit_test(test_answer_aaaa_nodata_and_v6),
	    cmocka_unit_test(test_answer_rcodes),
	    cmocka_unit_test(test_answer_notimp_opcode),
	    cmocka_unit_test(test_answer_ptr),
	    cmocka_unit_test(test_ptr_addr),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_udp_size),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_response_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
