/*
 * test_socks.c - a SOCKS client's bytes go in (real ones, as curl, curl
 * -U, torsocks send them, and hostile ones), the replies it would read
 * and the request tollgate would judge come out.
 *
 * Every conversation is played twice, as a caller of socks.h would: with
 * all the client's bytes at once, and one byte at a time.  Both must write
 * the same replies, end the same way and leave the same bytes over.
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

#include "proxyd/socks.h"

/* A byte string that may hold NULs, with its length. */
#define TEST_BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

#define CONV_MAX 2048

/* What the client saw, and where the parser left it. */
struct conv {
	struct socks_server s;
	enum socks_step last;
	uint8_t wrote[CONV_MAX]; /* every reply, one after the other */
	size_t wrote_len;
	size_t used;  /* bytes taken by the parser */
	size_t calls; /* of socks_server_feed() */
};

/* The client's bytes, fed chunk bytes at a time (0: all at once). */
static void
conv_play(struct conv *c, const uint8_t *buf, size_t len, size_t chunk,
          bool allow_resolve)
{
	size_t given, used;

	memset(c, 0, sizeof(*c));
	socks_server_init(&c->s);
	c->s.allow_resolve = allow_resolve;
	given = 0;
	do {
		given = chunk == 0 || len - given < chunk ? len : given + chunk;
		for (;;) {
			used = (size_t)-1;
			c->last = socks_server_feed(&c->s, buf + c->used,
			                            given - c->used, &used);
			c->calls++;
			assert_true(used <= given - c->used);
			assert_true(c->s.out_len <= sizeof(c->s.out));
			if (c->last == SOCKS_NEED_MORE ||
			    c->last == SOCKS_INVALID)
				assert_int_equal(used, 0);
			if (c->last == SOCKS_REPLY ||
			    c->last == SOCKS_INVALID) {
				assert_true(c->wrote_len + c->s.out_len <=
				            sizeof(c->wrote));
				memcpy(c->wrote + c->wrote_len, c->s.out,
				       c->s.out_len);
				c->wrote_len += c->s.out_len;
			} else {
				assert_int_equal(c->s.out_len, 0);
			}
			if (c->last == SOCKS_INVALID)
				assert_non_null(c->s.error);
			else
				assert_null(c->s.error);
			c->used += used;
			if (c->last != SOCKS_REPLY)
				break;
		}
	} while (c->last == SOCKS_NEED_MORE && given < len);
}

/* Play buf whole and byte by byte; c gets the whole run. */
static void
conv_run(struct conv *c, const uint8_t *buf, size_t len, bool allow_resolve)
{
	static struct conv one;

	conv_play(c, buf, len, 0, allow_resolve);
	conv_play(&one, buf, len, 1, allow_resolve);
	assert_int_equal(one.last, c->last);
	assert_int_equal(one.used, c->used);
	assert_int_equal(one.wrote_len, c->wrote_len);
	assert_memory_equal(one.wrote, c->wrote, c->wrote_len);
	assert_int_equal(one.s.version, c->s.version);
	assert_int_equal(one.s.auth, c->s.auth);
	assert_int_equal(one.s.tor_ext, c->s.tor_ext);
	assert_int_equal(one.s.port, c->s.port);
	assert_string_equal(one.s.user, c->s.user);
	assert_string_equal(one.s.pass, c->s.pass);
	assert_string_equal(one.s.name, c->s.name);
	assert_memory_equal(&one.s.addr, &c->s.addr, sizeof(c->s.addr));
	if (c->last == SOCKS_INVALID)
		assert_string_equal(one.s.error, c->s.error);
}

static void
assert_wrote(const struct conv *c, const uint8_t *want, size_t len)
{
	assert_int_equal(c->wrote_len, len);
	if (len > 0)
		assert_memory_equal(c->wrote, want, len);
}

/* A request for the IPv4 address ip (dotted) and port. */
static void
assert_inet(const struct conv *c, const char *ip, uint16_t port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->s.addr;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(c->last, SOCKS_REQUEST);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)));
	assert_string_equal(buf, ip);
	assert_int_equal(ntohs(sin->sin_port), port);
	assert_int_equal(c->s.port, port);
	assert_string_equal(c->s.name, "");
}

static void
assert_name(const struct conv *c, const char *name, uint16_t port)
{
	assert_int_equal(c->last, SOCKS_REQUEST);
	assert_int_equal(c->s.addr.ss_family, AF_UNSPEC);
	assert_string_equal(c->s.name, name);
	assert_int_equal(c->s.port, port);
}

static void
assert_refused(const struct conv *c, const uint8_t *reply, size_t len,
               const char *error)
{
	assert_int_equal(c->last, SOCKS_INVALID);
	assert_wrote(c, reply, len);
	assert_string_equal(c->s.error, error);
}

/* The bytes after the request are the client's, untouched. */
static void
assert_left(const struct conv *c, const uint8_t *buf, size_t len,
            const char *rest)
{
	assert_int_equal(len - c->used, strlen(rest));
	assert_memory_equal(buf + c->used, rest, strlen(rest));
}

/* Bytes as captured from curl 7.88 and torsocks 2.4. */
static const uint8_t curl_socks5_ipv4[] =
    "\x05\x02\x00\x01"
    "\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90"
    "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
static const uint8_t curl_socks5_ipv6[] =
    "\x05\x02\x00\x01"
    "\x05\x01\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x01\x01\xbb";
static const uint8_t curl_socks5_name[] =
    "\x05\x02\x00\x01"
    "\x05\x01\x00\x03\x0fwww.example.com\x00\x50"
    "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
static const uint8_t curl_socks5_userpass[] =
    "\x05\x03\x00\x01\x02"
    "\x01\x05"
    "alice\x06s3cret"
    "\x05\x01\x00\x03\x10mail.example.org\x00\x50";
static const uint8_t curl_socks4[] = "\x04\x01\x1f\x90\x7f\x00\x00\x01"
                                     "bob\x00"
                                     "GET / HTTP/1.1\r\n";
static const uint8_t curl_socks4a[] = "\x04\x01\x00\x50\x00\x00\x00\x01"
                                      "\x00"
                                      "www.example.com\x00";
static const uint8_t torsocks_resolve[] =
    "\x05\x01\x02"
    "\x01\x19torsocks-18743:1796251049\x01\x30"
    "\x05\xf0\x00\x03\x0fwww.example.com\x00\x2a";

static const uint8_t reply_none[] = {0x05, 0x00};
static const uint8_t reply_userpass[] = {0x05, 0x02, 0x01, 0x00};
static const uint8_t reply_no_method[] = {0x05, 0xff};
static const uint8_t reply_auth_failed[] = {0x05, 0x02, 0x01, 0x01};

/* The SOCKS5 refusal with code, after the "05 00" method choice. */
static void
assert_refused5(const struct conv *c, uint8_t code, const char *error)
{
	uint8_t want[] = {0x05, 0x00, 0x05, code, 0x00, 0x01,
	                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

	assert_refused(c, want, sizeof(want), error);
}

static void
assert_refused4(const struct conv *c, const char *error)
{
	static const uint8_t want[] = {0x00, 0x5b, 0, 0, 0, 0, 0, 0};

	assert_refused(c, want, sizeof(want), error);
}

/* "05 01 00" and a request "05 01 00 03 len name port". */
static size_t
socks5_name_request(uint8_t *buf, const uint8_t *name, size_t n, uint16_t port)
{
	memcpy(buf, "\x05\x01\x00\x05\x01\x00\x03", 7);
	buf[7] = n;
	memcpy(buf + 8, name, n);
	buf[8 + n] = port >> 8;
	buf[9 + n] = port & 0xff;
	return 10 + n;
}

/*
 * SOCKS5
 */

static void
test_socks5_ipv4(void **state)
{
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks5_ipv4), false);
	assert_inet(&c, "127.0.0.1", 8080);
	assert_wrote(&c, reply_none, sizeof(reply_none));
	assert_int_equal(c.s.version, 5);
	assert_int_equal(c.s.cmd, SOCKS_CMD_CONNECT);
	assert_false(c.s.auth);
	assert_false(c.s.tor_ext);
	assert_string_equal(c.s.user, "");
	assert_left(&c, curl_socks5_ipv4, sizeof(curl_socks5_ipv4) - 1,
	            "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	/* One call for the greeting, one for the request. */
	assert_int_equal(c.calls, 2);
}

static void
test_socks5_ipv6(void **state)
{
	const struct sockaddr_in6 *sin6;
	char buf[INET6_ADDRSTRLEN];
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks5_ipv6), false);
	assert_int_equal(c.last, SOCKS_REQUEST);
	sin6 = (const struct sockaddr_in6 *)&c.s.addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(ntohs(sin6->sin6_port), 443);
	assert_int_equal(c.s.port, 443);
	assert_string_equal(c.s.name, "");
	assert_int_equal(c.used, sizeof(curl_socks5_ipv6) - 1);
}

static void
test_socks5_name(void **state)
{
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks5_name), false);
	assert_name(&c, "www.example.com", 80);
	assert_wrote(&c, reply_none, sizeof(reply_none));
	assert_left(&c, curl_socks5_name, sizeof(curl_socks5_name) - 1,
	            "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
}

/* A name is kept as sent: the daemon normalises it. */
static void
test_socks5_name_as_sent(void **state)
{
	uint8_t buf[300];
	struct conv c;
	size_t n;

	n = socks5_name_request(buf, (const uint8_t *)"WWW.Example.COM.", 16,
	                        443);
	conv_run(&c, buf, n, false);
	assert_name(&c, "WWW.Example.COM.", 443);
}

static void
test_socks5_userpass(void **state)
{
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks5_userpass), false);
	assert_name(&c, "mail.example.org", 80);
	assert_wrote(&c, reply_userpass, sizeof(reply_userpass));
	assert_true(c.s.auth);
	assert_true(c.s.tor_ext);
	assert_string_equal(c.s.user, "alice");
	assert_string_equal(c.s.pass, "s3cret");
	assert_int_equal(c.used, sizeof(curl_socks5_userpass) - 1);
}

/* Offered 00 and 02, tollgate picks 02; 02 alone; 00 alone; neither. */
static void
test_socks5_methods(void **state)
{
	static const uint8_t only_userpass[] = "\x05\x01\x02"
	                                       "\x01\x01u\x01p";
	static const uint8_t only_none[] = "\x05\x01\x00";
	static const uint8_t gssapi[] = "\x05\x01\x01";
	static const uint8_t many[] = "\x05\x04\x80\x01\x00\x03";
	static const uint8_t none_offered[] = "\x05\x00";
	struct conv c;

	conv_run(&c, TEST_BYTES(only_userpass), false);
	assert_int_equal(c.last, SOCKS_NEED_MORE);
	assert_wrote(&c, reply_userpass, sizeof(reply_userpass));
	assert_string_equal(c.s.user, "u");
	assert_string_equal(c.s.pass, "p");

	conv_run(&c, TEST_BYTES(only_none), false);
	assert_int_equal(c.last, SOCKS_NEED_MORE);
	assert_wrote(&c, reply_none, sizeof(reply_none));

	conv_run(&c, TEST_BYTES(many), false);
	assert_wrote(&c, reply_none, sizeof(reply_none));

	conv_run(&c, TEST_BYTES(gssapi), false);
	assert_refused(&c, reply_no_method, sizeof(reply_no_method),
	               "no acceptable SOCKS5 method");

	conv_run(&c, TEST_BYTES(none_offered), false);
	assert_refused(&c, reply_no_method, sizeof(reply_no_method),
	               "SOCKS5 greeting offers no method");
}

/* RFC 1929 says 1-255 bytes; tollgate also takes empty fields. */
static void
test_socks5_auth_empty(void **state)
{
	static const uint8_t empty[] =
	    "\x05\x01\x02"
	    "\x01\x00\x00"
	    "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x19";
	struct conv c;

	conv_run(&c, TEST_BYTES(empty), false);
	assert_inet(&c, "192.0.2.1", 25);
	assert_true(c.s.auth);
	assert_true(c.s.tor_ext);
	assert_string_equal(c.s.user, "");
	assert_string_equal(c.s.pass, "");
}

static void
test_socks5_auth_longest(void **state)
{
	uint8_t buf[600];
	char want[256];
	struct conv c;
	size_t n;

	memcpy(buf, "\x05\x01\x02\x01\xff", 5);
	memset(buf + 5, 'u', 255);
	buf[260] = 255;
	memset(buf + 261, 'p', 255);
	n = 516;
	memcpy(buf + n, "\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x16", 10);
	conv_run(&c, buf, n + 10, false);
	assert_inet(&c, "10.0.0.1", 22);
	memset(want, 'u', 255);
	want[255] = '\0';
	assert_string_equal(c.s.user, want);
	memset(want, 'p', 255);
	assert_string_equal(c.s.pass, want);
}

static void
test_socks5_auth_bad(void **state)
{
	static const uint8_t nul_user[] = "\x05\x01\x02"
	                                  "\x01\x03"
	                                  "a\x00"
	                                  "b\x01p";
	static const uint8_t nul_pass[] = "\x05\x01\x02"
	                                  "\x01\x01u\x02p\x00";
	static const uint8_t version[] = "\x05\x01\x02"
	                                 "\x05\x01u\x01p";
	struct conv c;

	conv_run(&c, TEST_BYTES(nul_user), false);
	assert_refused(&c, reply_auth_failed, sizeof(reply_auth_failed),
	               "NUL in SOCKS5 username");
	assert_false(c.s.auth);
	conv_run(&c, TEST_BYTES(nul_pass), false);
	assert_refused(&c, reply_auth_failed, sizeof(reply_auth_failed),
	               "NUL in SOCKS5 password");
	conv_run(&c, TEST_BYTES(version), false);
	assert_refused(&c, reply_auth_failed, sizeof(reply_auth_failed),
	               "bad username/password version");
}

/*
 * A ULEN longer than what follows is a short read until a NUL arrives: the
 * request's RSV byte, swallowed as part of the username, ends it.
 */
static void
test_socks5_auth_lying_length(void **state)
{
	static const uint8_t lying[] =
	    "\x05\x01\x02"
	    "\x01\xffshort\x01p"
	    "\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x16";
	struct conv c;

	conv_run(&c, lying, 12, false);
	assert_int_equal(c.last, SOCKS_NEED_MORE);
	assert_wrote(&c, reply_userpass, 2);
	assert_int_equal(c.used, 3);
	conv_run(&c, TEST_BYTES(lying), false);
	assert_refused(&c, reply_auth_failed, sizeof(reply_auth_failed),
	               "NUL in SOCKS5 username");
	assert_false(c.s.auth);
}

static void
test_socks5_commands(void **state)
{
	static const uint8_t bind[] =
	    "\x05\x01\x00"
	    "\x05\x02\x00\x01\x0a\x00\x00\x01\x00\x16";
	static const uint8_t udp[] = "\x05\x01\x00"
	                             "\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00";
	static const uint8_t unknown[] = "\x05\x01\x00"
	                                 "\x05\x09";
	static const uint8_t resolve_ptr[] = "\x05\x01\x00"
	                                     "\x05\xf1\x00\x01\x7f\x00\x00\x01"
	                                     "\x00\x00";
	struct conv c;

	conv_run(&c, TEST_BYTES(bind), false);
	assert_refused5(&c, SOCKS_CMD_UNSUPPORTED, "SOCKS5 BIND not supported");
	conv_run(&c, TEST_BYTES(udp), false);
	assert_refused5(&c, SOCKS_CMD_UNSUPPORTED,
	                "SOCKS5 UDP ASSOCIATE not supported");
	conv_run(&c, TEST_BYTES(unknown), false);
	assert_refused5(&c, SOCKS_CMD_UNSUPPORTED, "unknown SOCKS5 command");
	conv_run(&c, TEST_BYTES(resolve_ptr), true);
	assert_refused5(&c, SOCKS_CMD_UNSUPPORTED, "unknown SOCKS5 command");
}

/* torsocks resolves through Tor's RESOLVE: only when the daemon asks. */
static void
test_socks5_resolve(void **state)
{
	static const uint8_t port0[] = "\x05\x01\x00"
	                               "\x05\xf0\x00\x03\x04host\x00\x00";
	struct conv c;

	conv_run(&c, TEST_BYTES(torsocks_resolve), false);
	assert_refused(&c,
	               (const uint8_t *)"\x05\x02\x01\x00"
	                                "\x05\x07\x00\x01\0\0\0\0\0\0",
	               14, "Tor's SOCKS5 RESOLVE not taken here");

	conv_run(&c, TEST_BYTES(torsocks_resolve), true);
	assert_name(&c, "www.example.com", 42);
	assert_int_equal(c.s.cmd, SOCKS_CMD_RESOLVE);
	assert_string_equal(c.s.user, "torsocks-18743:1796251049");
	assert_string_equal(c.s.pass, "0");

	conv_run(&c, TEST_BYTES(port0), true);
	assert_name(&c, "host", 0);
	assert_int_equal(c.s.cmd, SOCKS_CMD_RESOLVE);
}

static void
test_socks5_malformed_request(void **state)
{
	static const uint8_t version[] = "\x05\x01\x00"
	                                 "\x04\x01\x00\x01";
	static const uint8_t rsv[] = "\x05\x01\x00"
	                             "\x05\x01\x01\x01\x0a\x00\x00\x01\x00\x16";
	static const uint8_t atyp[] =
	    "\x05\x01\x00"
	    "\x05\x01\x00\x02\x0a\x00\x00\x01\x00\x16";
	static const uint8_t port0[] =
	    "\x05\x01\x00"
	    "\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x00";
	struct conv c;

	conv_run(&c, TEST_BYTES(version), false);
	assert_refused5(&c, SOCKS_GENERAL, "bad SOCKS5 request version");
	conv_run(&c, TEST_BYTES(rsv), false);
	assert_refused5(&c, SOCKS_GENERAL, "SOCKS5 reserved byte not 0");
	conv_run(&c, TEST_BYTES(atyp), false);
	assert_refused5(&c, SOCKS_ATYP_UNSUPPORTED,
	                "unknown SOCKS5 address type");
	conv_run(&c, TEST_BYTES(port0), false);
	assert_refused5(&c, SOCKS_HOST_UNREACH, "port 0");
}

static void
test_socks5_name_lengths(void **state)
{
	uint8_t name[255], buf[300];
	char want[256];
	struct conv c;
	size_t n;

	memset(name, 'a', sizeof(name));
	n = socks5_name_request(buf, name, 255, 443);
	conv_run(&c, buf, n, false);
	memset(want, 'a', 255);
	want[255] = '\0';
	assert_name(&c, want, 443);

	n = socks5_name_request(buf, name, 0, 443);
	conv_run(&c, buf, n, false);
	assert_refused5(&c, SOCKS_HOST_UNREACH, "empty host name");
}

/* What can never be a host is refused as soon as it arrives. */
static void
test_socks5_name_bad_bytes(void **state)
{
	static const struct {
		const char *name;
		size_t len, bad_at;
		const char *error;
	} cases[] = {
	    {"exa\0mple.com", 12, 3, "NUL in host name"},
	    {"\0", 1, 0, "NUL in host name"},
	    {"example.com\0", 12, 11, "NUL in host name"},
	    {"exa\nmple.com", 12, 3, "control byte in host name"},
	    {"example.com\x7f", 12, 11, "control byte in host name"},
	    {"exa mple.com", 12, 3, "space in host name"},
	};
	uint8_t buf[300];
	struct conv c;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = socks5_name_request(buf, (const uint8_t *)cases[i].name,
		                        cases[i].len, 443);
		conv_run(&c, buf, n, false);
		assert_refused5(&c, SOCKS_HOST_UNREACH, cases[i].error);
		/* Decided on the bad byte, before the rest came. */
		conv_run(&c, buf, 8 + cases[i].bad_at + 1, false);
		assert_refused5(&c, SOCKS_HOST_UNREACH, cases[i].error);
		conv_run(&c, buf, 8 + cases[i].bad_at, false);
		assert_int_equal(c.last, SOCKS_NEED_MORE);
	}
}

/* Bytes other than ASCII are left to the daemon's name check. */
static void
test_socks5_name_utf8(void **state)
{
	uint8_t buf[300];
	struct conv c;
	size_t n;

	n = socks5_name_request(buf,
	                        (const uint8_t *)"b\xc3\xbc"
	                                         "cher.de",
	                        10, 80);
	conv_run(&c, buf, n, false);
	assert_name(&c,
	            "b\xc3\xbc"
	            "cher.de",
	            80);
}

/*
 * SOCKS4 and SOCKS4a
 */

static void
test_socks4(void **state)
{
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks4), false);
	assert_inet(&c, "127.0.0.1", 8080);
	assert_int_equal(c.s.version, 4);
	assert_int_equal(c.s.cmd, SOCKS_CMD_CONNECT);
	assert_true(c.s.auth);
	assert_false(c.s.tor_ext);
	assert_string_equal(c.s.user, "bob");
	assert_string_equal(c.s.pass, "");
	assert_int_equal(c.wrote_len, 0);
	assert_left(&c, curl_socks4, sizeof(curl_socks4) - 1,
	            "GET / HTTP/1.1\r\n");
}

static void
test_socks4a(void **state)
{
	struct conv c;

	conv_run(&c, TEST_BYTES(curl_socks4a), false);
	assert_name(&c, "www.example.com", 80);
	assert_int_equal(c.s.version, 4);
	assert_false(c.s.auth);
	assert_string_equal(c.s.user, "");
	assert_int_equal(c.used, sizeof(curl_socks4a) - 1);
}

static void
test_socks4_refused(void **state)
{
	static const uint8_t bind[] = "\x04\x02\x00\x50\x0a\x00\x00\x01\x00";
	static const uint8_t unknown[] = "\x04\x03";
	static const uint8_t port0[] = "\x04\x01\x00\x00";
	static const uint8_t zero[] = "\x04\x01\x00\x50\x00\x00\x00\x00\x00";
	static const uint8_t empty_host[] = "\x04\x01\x00\x50\x00\x00\x00\x07"
	                                    "\x00\x00";
	static const uint8_t bad_host[] = "\x04\x01\x00\x50\x00\x00\x00\x07"
	                                  "u\x00"
	                                  "a b";
	struct conv c;

	conv_run(&c, TEST_BYTES(bind), false);
	assert_refused4(&c, "SOCKS4 BIND not supported");
	conv_run(&c, TEST_BYTES(unknown), false);
	assert_refused4(&c, "unknown SOCKS4 command");
	conv_run(&c, TEST_BYTES(port0), false);
	assert_refused4(&c, "port 0");
	conv_run(&c, TEST_BYTES(zero), false);
	assert_refused4(&c, "SOCKS4 address 0.0.0.0");
	conv_run(&c, TEST_BYTES(empty_host), false);
	assert_refused4(&c, "empty host name");
	conv_run(&c, TEST_BYTES(bad_host), false);
	assert_refused4(&c, "space in host name");
}

/* USERID and the SOCKS4a host: 255 bytes and their NUL, no more. */
static void
test_socks4_field_lengths(void **state)
{
	uint8_t buf[SOCKS_MSG_MAX + 16];
	char want[256];
	struct conv c;

	memset(want, 'x', 255);
	want[255] = '\0';
	memcpy(buf, "\x04\x01\x00\x50\x00\x00\x00\x01", 8);
	memset(buf + 8, 'x', 255);
	buf[263] = '\0';
	memset(buf + 264, 'x', 255);
	buf[519] = '\0';
	conv_run(&c, buf, SOCKS_MSG_MAX, false);
	assert_name(&c, want, 80);
	assert_string_equal(c.s.user, want);
	assert_int_equal(c.used, SOCKS_MSG_MAX);

	buf[519] = 'x';
	conv_run(&c, buf, SOCKS_MSG_MAX, false);
	assert_refused4(&c, "SOCKS4a host name too long");

	buf[263] = 'x';
	conv_run(&c, buf, SOCKS_MSG_MAX, false);
	assert_refused4(&c, "SOCKS4 USERID too long");
	/* Decided on the 256th byte, without waiting for a NUL. */
	conv_run(&c, buf, 8 + 256, false);
	assert_refused4(&c, "SOCKS4 USERID too long");
	conv_run(&c, buf, 8 + 255, false);
	assert_int_equal(c.last, SOCKS_NEED_MORE);
}

/*
 * Anything else
 */

static void
test_not_socks(void **state)
{
	static const char *const starts[] = {
	    "GET / HTTP/1.1\r\n",
	    "\x16\x03\x01\x02\x00",
	    "SSH-2.0-OpenSSH_9.2\r\n",
	    "\x00",
	    "\x06\x01\x00",
	};
	struct conv c;
	size_t i;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		conv_run(&c, (const uint8_t *)starts[i],
		         i == 3 ? 1 : strlen(starts[i]), false);
		assert_refused(&c, NULL, 0, "not SOCKS4 or SOCKS5");
		assert_int_equal(c.s.version, 0);
	}
	conv_run(&c, (const uint8_t *)"", 0, false);
	assert_int_equal(c.last, SOCKS_NEED_MORE);
}

/* After the request or a refusal, no more conversation. */
static void
test_feed_after_end(void **state)
{
	struct socks_server s;
	size_t used;

	socks_server_init(&s);
	assert_int_equal(socks_server_feed(&s, TEST_BYTES(curl_socks4a), &used),
	                 SOCKS_REQUEST);
	assert_int_equal(socks_server_feed(&s, TEST_BYTES("more"), &used),
	                 SOCKS_INVALID);
	assert_int_equal(used, 0);
	assert_int_equal(s.out_len, 0);
	assert_non_null(s.error);

	socks_server_init(&s);
	assert_int_equal(
	    socks_server_feed(&s, TEST_BYTES("\x05\x01\x01"), &used),
	    SOCKS_INVALID);
	assert_int_equal(s.out_len, 2);
	assert_int_equal(
	    socks_server_feed(&s, TEST_BYTES("\x05\x01\x00"), &used),
	    SOCKS_INVALID);
	assert_int_equal(s.out_len, 0);
	assert_string_equal(s.error, "no acceptable SOCKS5 method");
}

/* Greeting, subnegotiation and request in one segment (pipelined). */
static void
test_pipelined_in_one_call_each(void **state)
{
	struct socks_server s;
	const uint8_t *p = curl_socks5_userpass;
	size_t len = sizeof(curl_socks5_userpass) - 1, used;

	socks_server_init(&s);
	assert_int_equal(socks_server_feed(&s, p, len, &used), SOCKS_REPLY);
	assert_int_equal(used, 5);
	assert_int_equal(socks_server_feed(&s, p + 5, len - 5, &used),
	                 SOCKS_REPLY);
	assert_int_equal(used, 14);
	assert_int_equal(socks_server_feed(&s, p + 19, len - 19, &used),
	                 SOCKS_REQUEST);
	assert_int_equal(19 + used, len);
}

/* A caller holding SOCKS_MSG_MAX bytes always gets a decision. */
static void
test_msg_max(void **state)
{
	uint8_t buf[SOCKS_MSG_MAX];
	struct socks_server s;
	size_t used;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "\x04\x01\x00\x50\x00\x00\x00\x01", 8);
	buf[8] = '\0';
	socks_server_init(&s);
	assert_int_equal(socks_server_feed(&s, buf, sizeof(buf), &used),
	                 SOCKS_INVALID);
	assert_string_equal(s.error, "SOCKS4a host name too long");
}

/*
 * The final reply
 */

static void
server_after(struct socks_server *s, const uint8_t *buf, size_t len,
             bool userpass)
{
	struct conv c;

	conv_play(&c, buf, len, 0, false);
	assert_int_equal(c.last, SOCKS_REQUEST);
	*s = c.s;
	assert_int_equal(s->tor_ext, userpass);
}

static void
test_reply_socks5(void **state)
{
	static const uint8_t ok[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t bound4[] = {5, 0, 0, 1, 192, 0, 2, 7, 0x9c, 0x40};
	static const uint8_t bound6[] = {5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8,
	                                 0, 0, 0, 0, 0,    0,    0,    0,
	                                 0, 0, 0, 9, 0x01, 0xbb};
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons(40000)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
	                            .sin6_port = htons(443)};
	struct socks_server s;
	uint8_t out[SOCKS_REPLY_MAX];

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
	server_after(&s, TEST_BYTES(curl_socks5_name), false);
	assert_int_equal(socks_reply(&s, SOCKS_OK, NULL, out, sizeof(out)),
	                 sizeof(ok));
	assert_memory_equal(out, ok, sizeof(ok));
	assert_int_equal(socks_reply(&s, SOCKS_REFUSED, NULL, out, sizeof(out)),
	                 sizeof(refused));
	assert_memory_equal(out, refused, sizeof(refused));
	assert_int_equal(socks_reply(&s, SOCKS_OK, (struct sockaddr *)&sin, out,
	                             sizeof(out)),
	                 sizeof(bound4));
	assert_memory_equal(out, bound4, sizeof(bound4));
	assert_int_equal(socks_reply(&s, SOCKS_OK, (struct sockaddr *)&sin6,
	                             out, sizeof(out)),
	                 sizeof(bound6));
	assert_memory_equal(out, bound6, sizeof(bound6));
	/* Too small for what it would write. */
	assert_int_equal(socks_reply(&s, SOCKS_OK, (struct sockaddr *)&sin6,
	                             out, sizeof(bound6) - 1),
	                 0);
}

/* Tor's codes: as they are to a client that authenticated, else the
 * nearest RFC 1928 code. */
static void
test_reply_tor_codes(void **state)
{
	static const uint8_t mapped[8] = {
	    SOCKS_HOST_UNREACH, SOCKS_HOST_UNREACH, SOCKS_GENERAL,
	    SOCKS_GENERAL,      SOCKS_NOT_ALLOWED,  SOCKS_NOT_ALLOWED,
	    SOCKS_HOST_UNREACH, SOCKS_TTL,
	};
	struct socks_server plain, tor;
	uint8_t out[SOCKS_REPLY_MAX];
	unsigned code;

	server_after(&plain, TEST_BYTES(curl_socks5_name), false);
	server_after(&tor, TEST_BYTES(curl_socks5_userpass), true);
	for (code = 0xf0; code <= 0xf7; code++) {
		assert_int_equal(
		    socks_reply(&tor, code, NULL, out, sizeof(out)), 10);
		assert_int_equal(out[1], code);
		assert_int_equal(
		    socks_reply(&plain, code, NULL, out, sizeof(out)), 10);
		assert_int_equal(out[1], mapped[code - 0xf0]);
	}
	for (code = 0; code <= 8; code++) {
		socks_reply(&plain, code, NULL, out, sizeof(out));
		assert_int_equal(out[1], code);
	}
	socks_reply(&tor, 0x42, NULL, out, sizeof(out));
	assert_int_equal(out[1], SOCKS_GENERAL);
	socks_reply(&tor, 0xf8, NULL, out, sizeof(out));
	assert_int_equal(out[1], SOCKS_GENERAL);
}

static void
test_reply_socks4(void **state)
{
	static const uint8_t granted[] = {0, 0x5a, 0x01, 0xbb, 10, 1, 2, 3};
	static const uint8_t rejected[] = {0, 0x5b, 0, 0, 0, 0, 0, 0};
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons(443)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct socks_server s;
	uint8_t out[SOCKS_REPLY_MAX];

	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	server_after(&s, TEST_BYTES(curl_socks4a), false);
	assert_int_equal(socks_reply(&s, SOCKS_OK, (struct sockaddr *)&sin, out,
	                             sizeof(out)),
	                 8);
	assert_memory_equal(out, granted, 8);
	assert_int_equal(
	    socks_reply(&s, SOCKS_TOR_DESC_NOT_FOUND, NULL, out, sizeof(out)),
	    8);
	assert_memory_equal(out, rejected, 8);
	/* SOCKS4 has no IPv6: zeros. */
	assert_int_equal(socks_reply(&s, SOCKS_REFUSED,
	                             (struct sockaddr *)&sin6, out,
	                             sizeof(out)),
	                 8);
	assert_memory_equal(out, rejected, 8);
}

static void
test_reply_unknown_version(void **state)
{
	struct socks_server s;
	uint8_t out[SOCKS_REPLY_MAX];

	socks_server_init(&s);
	assert_int_equal(socks_reply(&s, SOCKS_OK, NULL, out, sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_socks5_ipv4),
	    cmocka_unit_test(test_socks5_ipv6),
	    cmocka_unit_test(test_socks5_name),
	    cmocka_unit_test(test_socks5_name_as_sent),
	    cmocka_unit_test(test_socks5_userpass),
	    cmocka_unit_test(test_socks5_methods),
	    cmocka_unit_test(test_socks5_auth_empty),
	    cmocka_unit_test(test_socks5_auth_longest),
	    cmocka_unit_test(test_socks5_auth_bad),
	    cmocka_unit_test(test_socks5_auth_lying_length),
	    cmocka_unit_test(test_socks5_commands),
	    cmocka_unit_test(test_socks5_resolve),
	    cmocka_unit_test(test_socks5_malformed_request),
	    cmocka_unit_test(test_socks5_name_lengths),
	    cmocka_unit_test(test_socks5_name_bad_bytes),
	    cmocka_unit_test(test_socks5_name_utf8),
	    cmocka_unit_test(test_socks4),
	    cmocka_unit_test(test_socks4a),
	    cmocka_unit_test(test_socks4_refused),
	    cmocka_unit_test(test_socks4_field_lengths),
	    cmocka_unit_test(test_not_socks),
	    cmocka_unit_test(test_feed_after_end),
	    cmocka_unit_test(test_pipelined_in_one_call_each),
	    cmocka_unit_test(test_msg_max),
	    cmocka_unit_test(test_reply_socks5),
	    cmocka_unit_test(test_reply_tor_codes),
	    cmocka_unit_test(test_reply_socks4),
	    cmocka_unit_test(test_reply_unknown_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
