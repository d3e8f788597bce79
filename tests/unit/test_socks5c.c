/*
 * test_socks5c.c - tollgate asks a SOCKS5 upstream (Tor's SocksPort, dante)
 * for a connection: what it writes, and what it makes of each answer,
 * whether the answers come whole or one byte at a time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/socks5c.h"

/* A byte string that may hold NULs, with its length. */
#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

#define GREET_NONE "\x05\x01\x00"
#define GREET_USER "\x05\x01\x02"
#define METHOD_OK  "\x05\x00"
#define REQ_NAME                                                               \
	"\x05\x01\x00\x03\x0b"                                                 \
	"example.com"                                                          \
	"\x01\xbb"
#define REPLY_V4 "\x05\x00\x00\x01\xc0\x00\x02\x01\x23\x82"

/* What one exchange came to. */
struct run {
	enum s5c_step step; /* the last answer; NEED_MORE: the bytes ran out */
	uint8_t sent[4096]; /* everything tollgate wrote, in order */
	size_t sent_len;
	size_t used; /* the server's bytes used */
	uint8_t code;
	char error[128];
	struct sockaddr_storage bound;
};

static void
sent_add(struct run *r, const struct s5c *c)
{
	assert_true(c->out_len > 0);
	assert_true(r->sent_len + c->out_len <= sizeof(r->sent));
	memcpy(r->sent + r->sent_len, c->out, c->out_len);
	r->sent_len += c->out_len;
}

/*
 * Start an exchange and answer it with the server's bytes, which arrive
 * `step` at a time.  Every call is checked against the contract of
 * s5c_feed(): used within the bytes fed, none on NEED_MORE.
 */
static void
run_cut(struct run *r, const char *user, const char *pass, const char *name,
        const struct sockaddr *dst, uint16_t port, const uint8_t *server,
        size_t len, size_t step)
{
	struct s5c c;
	size_t arrived = 0, used;
	enum s5c_step s;

	memset(r, 0, sizeof(*r));
	assert_int_equal(s5c_start(&c, user, pass, name, dst, port), 0);
	sent_add(r, &c);
	for (;;) {
		s = s5c_feed(&c, server + r->used, arrived - r->used, &used);
		assert_true(used <= arrived - r->used);
		r->used += used;
		if (s == S5C_SEND) {
			sent_add(r, &c);
			continue;
		}
		if (s != S5C_NEED_MORE)
			break;
		assert_int_equal(used, 0);
		if (arrived == len)
			break;
		arrived += len - arrived < step ? len - arrived : step;
	}
	r->step = s;
	if (s == S5C_REFUSED || s == S5C_INVALID) {
		assert_non_null(c.error);
		snprintf(r->error, sizeof(r->error), "%s", c.error);
	}
	r->code = c.code;
	r->bound = c.bound;
}

/* The same exchange fed whole and one byte at a time: both must come to
 * the same; the whole one is returned in r. */
static void
run(struct run *r, const char *user, const char *pass, const char *name,
    const struct sockaddr *dst, uint16_t port, const uint8_t *server,
    size_t len)
{
	static struct run one;

	run_cut(&one, user, pass, name, dst, port, server, len, 1);
	run_cut(r, user, pass, name, dst, port, server, len, len);
	assert_int_equal(one.step, r->step);
	assert_int_equal(one.used, r->used);
	assert_int_equal(one.sent_len, r->sent_len);
	assert_memory_equal(one.sent, r->sent, r->sent_len);
	assert_int_equal(one.code, r->code);
	assert_string_equal(one.error, r->error);
	assert_memory_equal(&one.bound, &r->bound, sizeof(r->bound));
}

static void
assert_sent(const struct run *r, const uint8_t *want, size_t len)
{
	assert_int_equal(r->sent_len, len);
	assert_memory_equal(r->sent, want, len);
}

static void
assert_bound(const struct run *r, const char *ip, uint16_t port)
{
	char text[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const void *)&r->bound;
	const struct sockaddr_in6 *sin6 = (const void *)&r->bound;

	if (r->bound.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		assert_int_equal(r->bound.ss_family, AF_INET6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(text, ip);
}

static struct sockaddr_storage *
ip(const char *text, uint16_t port)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr),
		                 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return &ss;
}

/* --- exchanges that go through -------------------------------------- */

static void
name_without_auth(void **state)
{
	struct run r;
	const uint8_t server[] = METHOD_OK REPLY_V4;

	run(&r, NULL, NULL, "example.com", NULL, 443, server,
	    sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_sent(&r, BYTES(GREET_NONE REQ_NAME));
	assert_int_equal(r.used, sizeof(server) - 1);
	assert_bound(&r, "192.0.2.1", 9090);
}

static void
name_with_auth(void **state)
{
	struct run r;
	const uint8_t server[] = "\x05\x02"
	                         "\x01\x00" REPLY_V4;

	run(&r, "tg-abc", "x", "example.com", NULL, 443, server,
	    sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_sent(&r, BYTES(GREET_USER "\x01\x06"
	                                 "tg-abc"
	                                 "\x01"
	                                 "x" REQ_NAME));
	assert_int_equal(r.used, sizeof(server) - 1);
}

/* Some servers answer the username/password with the SOCKS version. */
static void
auth_status_with_socks_version(void **state)
{
	struct run r;
	const uint8_t server[] = "\x05\x02\x05\x00" REPLY_V4;

	run(&r, "u", NULL, "example.com", NULL, 443, server,
	    sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	/* no password: an empty one */
	assert_sent(&r, BYTES(GREET_USER "\x01\x01"
	                                 "u"
	                                 "\x00" REQ_NAME));
}

static void
ipv4_without_name(void **state)
{
	struct run r;
	const uint8_t server[] = METHOD_OK REPLY_V4;

	/* the port argument goes with a name only */
	run(&r, NULL, NULL, NULL, (struct sockaddr *)ip("203.0.113.9", 80), 1,
	    server, sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_sent(&r, BYTES(GREET_NONE "\x05\x01\x00\x01\xcb\x00\x71\x09"
	                                 "\x00\x50"));
}

static void
ipv6_without_name(void **state)
{
	struct run r;
	const uint8_t server[] = METHOD_OK REPLY_V4;

	run(&r, NULL, NULL, NULL, (struct sockaddr *)ip("2001:db8::1", 443), 0,
	    server, sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_sent(&r, BYTES(GREET_NONE "\x05\x01\x00\x04"
	                                 "\x20\x01\x0d\xb8\x00\x00\x00\x00"
	                                 "\x00\x00\x00\x00\x00\x00\x00\x01"
	                                 "\x01\xbb"));
}

/* An IPv4 client seen on an IPv6 socket goes as the IPv4 address. */
static void
ipv4_mapped_goes_as_ipv4(void **state)
{
	struct run r;
	const uint8_t server[] = METHOD_OK REPLY_V4;

	run(&r, NULL, NULL, NULL,
	    (struct sockaddr *)ip("::ffff:203.0.113.9", 80), 0, server,
	    sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_sent(&r, BYTES(GREET_NONE "\x05\x01\x00\x01\xcb\x00\x71\x09"
	                                 "\x00\x50"));
}

static void
name_of_255_bytes(void **state)
{
	struct run r;
	char name[256];
	const uint8_t server[] = METHOD_OK REPLY_V4;

	memset(name, 'a', 255);
	name[255] = '\0';
	run(&r, NULL, NULL, name, NULL, 80, server, sizeof(server) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_int_equal(r.sent_len, 3 + 5 + 255 + 2);
	assert_int_equal(r.sent[3 + 4], 255);
	assert_memory_equal(r.sent + 3 + 5, name, 255);
}

/* The server's first bytes come in the same read as the reply: they are
 * left for the relay, whatever the reply's address type. */
static void
reply_of_each_type_then_data(void **state)
{
	struct run r;
	const uint8_t v4[] = METHOD_OK REPLY_V4 "SSH-2.0-x\r\n";
	const uint8_t v6[] = METHOD_OK "\x05\x00\x00\x04"
	                               "\x20\x01\x0d\xb8\x00\x00\x00\x00"
	                               "\x00\x00\x00\x00\x00\x00\x00\x02"
	                               "\x00\x16"
	                               "SSH-2.0-x\r\n";
	const uint8_t nm[] = METHOD_OK "\x05\x00\x00\x03\x07"
	                               "gateway"
	                               "\x00\x16"
	                               "SSH-2.0-x\r\n";
	const size_t data = sizeof("SSH-2.0-x\r\n") - 1;

	run(&r, NULL, NULL, "example.com", NULL, 22, v4, sizeof(v4) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_int_equal(r.used, 2 + 10);
	assert_int_equal(sizeof(v4) - 1 - r.used, data);
	assert_bound(&r, "192.0.2.1", 9090);

	run(&r, NULL, NULL, "example.com", NULL, 22, v6, sizeof(v6) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_int_equal(r.used, 2 + 22);
	assert_int_equal(sizeof(v6) - 1 - r.used, data);
	assert_bound(&r, "2001:db8::2", 22);

	run(&r, NULL, NULL, "example.com", NULL, 22, nm, sizeof(nm) - 1);
	assert_int_equal(r.step, S5C_GRANTED);
	assert_int_equal(r.used, 2 + 4 + 1 + 7 + 2);
	assert_int_equal(sizeof(nm) - 1 - r.used, data);
	assert_int_equal(r.bound.ss_family, AF_UNSPEC);
}

/* The longest reply there is fits S5C_ANSWER_MAX. */
static void
longest_reply(void **state)
{
	uint8_t server[2 + S5C_ANSWER_MAX + 1];
	struct run r;

	memcpy(server, METHOD_OK "\x05\x00\x00\x03\xff", 7);
	memset(server + 7, 'a', 255);
	memcpy(server + 7 + 255,
	       "\x00\x50"
	       "D",
	       3);
	run(&r, NULL, NULL, "example.com", NULL, 80, server, sizeof(server));
	assert_int_equal(r.step, S5C_GRANTED);
	assert_int_equal(r.used, 2 + S5C_ANSWER_MAX);
	assert_int_equal(r.bound.ss_family, AF_UNSPEC);
}

/* --- upstreams that say no ------------------------------------------ */

static void
no_acceptable_method(void **state)
{
	struct run r;

	run(&r, "tg-abc", "x", "example.com", NULL, 443, BYTES("\x05\xff"));
	assert_int_equal(r.step, S5C_REFUSED);
	assert_int_equal(r.code, 0xff);
	assert_string_equal(r.error,
	                    "upstream: no acceptable authentication method");
	/* nothing after the greeting was sent */
	assert_sent(&r, BYTES(GREET_USER));
}

static void
username_refused(void **state)
{
	struct run r;

	run(&r, "tg-abc", "x", "example.com", NULL, 443,
	    BYTES("\x05\x02\x01\x01"));
	assert_int_equal(r.step, S5C_REFUSED);
	assert_int_equal(r.code, S5C_REP_NOT_ALLOWED);
	assert_string_equal(r.error, "upstream: username/password refused");
}

static void
connection_refused(void **state)
{
	struct run r;

	run(&r, NULL, NULL, "example.com", NULL, 443,
	    BYTES(METHOD_OK "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"));
	assert_int_equal(r.step, S5C_REFUSED);
	assert_int_equal(r.code, 0x05);
	assert_string_equal(r.error, "upstream: connection refused");
	assert_int_equal(r.used, 12);
}

static void
every_reply_code(void **state)
{
	static const struct {
		uint8_t code;
		const char *error;
	} want[] = {
	    {0x01, "upstream: general failure"},
	    {0x02, "upstream: connection not allowed by ruleset"},
	    {0x03, "upstream: network unreachable"},
	    {0x04, "upstream: host unreachable"},
	    {0x06, "upstream: TTL expired"},
	    {0x07, "upstream: command not supported"},
	    {0x08, "upstream: address type not supported"},
	    {0xf0, "upstream: onion service descriptor can not be found"},
	    {0xf1, "upstream: onion service descriptor is invalid"},
	    {0xf2, "upstream: onion service introduction failed"},
	    {0xf3, "upstream: onion service rendezvous failed"},
	    {0xf4, "upstream: onion service missing client authorization"},
	    {0xf5, "upstream: onion service wrong client authorization"},
	    {0xf6, "upstream: onion service invalid address"},
	    {0xf7, "upstream: onion service introduction timed out"},
	    {0x09, "upstream: unknown code 0x09"},
	    {0xf8, "upstream: unknown code 0xF8"},
	};
	uint8_t server[] = METHOD_OK REPLY_V4;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		server[3] = want[i].code;
		run(&r, NULL, NULL, "example.com", NULL, 443, server,
		    sizeof(server) - 1);
		assert_int_equal(r.step, S5C_REFUSED);
		assert_int_equal(r.code, want[i].code);
		assert_string_equal(r.error, want[i].error);
	}
	assert_string_equal(s5c_code_str(0x00), "succeeded");
	assert_string_equal(s5c_code_str(0x42), "unknown code 0x42");
}

/* --- upstreams that do not speak SOCKS5 ------------------------------ */

static void
assert_invalid(const char *user, const uint8_t *server, size_t len,
               const char *error)
{
	struct run r;

	run(&r, user, user != NULL ? "x" : NULL, "example.com", NULL, 443,
	    server, len);
	assert_int_equal(r.step, S5C_INVALID);
	assert_string_equal(r.error, error);
}

static void
not_socks5(void **state)
{
	/* an HTTP proxy, SOCKS4, a version byte alone */
	assert_invalid(NULL, BYTES("HTTP/1.1 400 Bad Request\r\n\r\n"),
	               "upstream: reply is not SOCKS5");
	assert_invalid(NULL, BYTES("\x00\x5a"),
	               "upstream: reply is not SOCKS5");
	assert_invalid(NULL, BYTES("\x04"), "upstream: reply is not SOCKS5");
	/* a reply whose version is wrong after a good method selection */
	assert_invalid(NULL, BYTES(METHOD_OK "\x04\x00\x00\x01"),
	               "upstream: reply is not SOCKS5");
	assert_invalid("u", BYTES("\x05\x02\x02\x00"),
	               "upstream: authentication reply is not RFC 1929");
}

static void
method_not_offered(void **state)
{
	assert_invalid(NULL, BYTES("\x05\x02"),
	               "upstream: chose a method not offered");
	assert_invalid("u", BYTES("\x05\x00"),
	               "upstream: chose a method not offered");
	assert_invalid(NULL, BYTES("\x05\x01"),
	               "upstream: chose a method not offered");
}

static void
bad_reply_address(void **state)
{
	assert_invalid(NULL,
	               BYTES(METHOD_OK "\x05\x00\x00\x02\x00\x00\x00\x00\x00"
	                               "\x00"),
	               "upstream: reply's address type is unknown");
	assert_invalid(NULL, BYTES(METHOD_OK "\x05\x00\x00\xab"),
	               "upstream: reply's address type is unknown");
	assert_invalid(NULL, BYTES(METHOD_OK "\x05\x00\x00\x03\x00\x00\x50"),
	               "upstream: reply has an empty name");
	assert_invalid(NULL, BYTES(METHOD_OK "\x05\x00\x01\x01"),
	               "upstream: reply's reserved byte is not zero");
}

/* An answer cut anywhere waits for more, and uses nothing of it. */
static void
truncated_answers(void **state)
{
	const uint8_t server[] = "\x05\x02\x01\x00\x05\x00\x00\x03\x07"
	                         "gateway"
	                         "\x00\x16";
	const size_t answers_end[] = {2, 4};
	struct run r;
	size_t cut, i, used_before;

	for (cut = 0; cut < sizeof(server) - 1; cut++) {
		run(&r, "u", "p", "example.com", NULL, 443, server, cut);
		assert_int_equal(r.step, S5C_NEED_MORE);
		for (used_before = 0, i = 0; i < 2; i++)
			if (cut >= answers_end[i])
				used_before = answers_end[i];
		assert_int_equal(r.used, used_before);
	}
	run(&r, "u", "p", "example.com", NULL, 443, server, cut);
	assert_int_equal(r.step, S5C_GRANTED);
}

static void
fed_after_the_end(void **state)
{
	struct s5c c;
	size_t used = 99;

	assert_int_equal(s5c_start(&c, NULL, NULL, "example.com", NULL, 443),
	                 0);
	assert_int_equal(s5c_feed(&c, BYTES(METHOD_OK), &used), S5C_SEND);
	assert_int_equal(used, 2);
	assert_int_equal(s5c_feed(&c, BYTES(REPLY_V4), &used), S5C_GRANTED);
	assert_int_equal(used, 10);
	assert_int_equal(s5c_feed(&c, BYTES(REPLY_V4), &used), S5C_INVALID);
	assert_int_equal(used, 0);
	assert_string_equal(c.error,
	                    "upstream: bytes fed after the exchange ended");
}

/* --- what s5c_start() refuses ---------------------------------------- */

static void
bad_arguments(void **state)
{
	struct s5c c;
	char big[257];
	struct sockaddr_storage un;

	memset(big, 'a', 256);
	big[256] = '\0';
	assert_int_equal(s5c_start(&c, NULL, NULL, big, NULL, 443), -1);
	assert_string_equal(c.error, "upstream: name is not 1-255 bytes");
	assert_int_equal(s5c_start(&c, NULL, NULL, "", NULL, 443), -1);
	assert_string_equal(c.error, "upstream: name is not 1-255 bytes");
	assert_int_equal(s5c_start(&c, big, "x", "example.com", NULL, 443), -1);
	assert_string_equal(c.error, "upstream: username is not 1-255 bytes");
	assert_int_equal(s5c_start(&c, "", "x", "example.com", NULL, 443), -1);
	assert_string_equal(c.error, "upstream: username is not 1-255 bytes");
	assert_int_equal(s5c_start(&c, "u", big, "example.com", NULL, 443), -1);
	assert_string_equal(c.error, "upstream: password is over 255 bytes");
	assert_int_equal(s5c_start(&c, NULL, NULL, "example.com", NULL, 0), -1);
	assert_string_equal(c.error, "upstream: port 0");
	assert_int_equal(s5c_start(&c, NULL, NULL, NULL,
	                           (struct sockaddr *)ip("192.0.2.1", 0), 80),
	                 -1);
	assert_string_equal(c.error, "upstream: port 0");
	assert_int_equal(s5c_start(&c, NULL, NULL, NULL, NULL, 443), -1);
	assert_string_equal(c.error, "upstream: neither a name nor an address");
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	assert_int_equal(
	    s5c_start(&c, NULL, NULL, NULL, (struct sockaddr *)&un, 443), -1);
	assert_string_equal(c.error, "upstream: address is not IPv4 or IPv6");

	/* the longest of each is fine */
	big[255] = '\0';
	assert_int_equal(s5c_start(&c, big, big, big, NULL, 443), 0);
	assert_int_equal(c.out_len, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(name_without_auth),
	    cmocka_unit_test(name_with_auth),
	    cmocka_unit_test(auth_status_with_socks_version),
	    cmocka_unit_test(ipv4_without_name),
	    cmocka_unit_test(ipv6_without_name),
	    cmocka_unit_test(ipv4_mapped_goes_as_ipv4),
	    cmocka_unit_test(name_of_255_bytes),
	    cmocka_unit_test(reply_of_each_type_then_data),
	    cmocka_unit_test(longest_reply),
	    cmocka_unit_test(no_acceptable_method),
	    cmocka_unit_test(username_refused),
	    cmocka_unit_test(connection_refused),
	    cmocka_unit_test(every_reply_code),
	    cmocka_unit_test(not_socks5),
	    cmocka_unit_test(method_not_offered),
	    cmocka_unit_test(bad_reply_address),
	    cmocka_unit_test(truncated_answers),
	    cmocka_unit_test(fed_after_the_end),
	    cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
