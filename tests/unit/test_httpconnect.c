/*
 * test_httpconnect.c - an HTTP proxy client's request head goes in (as curl
 * sends it, and hostile ones), the target tollgate would judge or the
 * status the client would read comes out.
 *
 * Each head is parsed whole and at every shorter prefix: a prefix is
 * either incomplete or already refused with the same status and reason.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxyd/httpconnect.h"

/* As curl 7.88 sends them, with the tunnelled request after the head. */
static const char curl_connect[] =
    "CONNECT www.example.com:80 HTTP/1.1\r\n"
    "Host: www.example.com:80\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Proxy-Connection: Keep-Alive\r\n"
    "\r\n"
    "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
static const char curl_connect_auth[] =
    "CONNECT www.example.com:8443 HTTP/1.1\r\n"
    "Host: www.example.com:8443\r\n"
    "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Proxy-Connection: Keep-Alive\r\n"
    "\r\n";
static const char curl_connect_ipv6[] = "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
                                        "Host: [2001:db8::1]:443\r\n"
                                        "User-Agent: curl/7.88.1\r\n"
                                        "Proxy-Connection: Keep-Alive\r\n"
                                        "\r\n";
static const char curl_get[] = "GET http://www.example.com/ HTTP/1.1\r\n"
                               "Host: www.example.com\r\n"
                               "User-Agent: curl/7.88.1\r\n"
                               "Accept: */*\r\n"
                               "Proxy-Connection: Keep-Alive\r\n"
                               "\r\n";

static enum hc_result
parse_n(const char *s, size_t n, struct hc_request *req)
{
	return hc_parse((const uint8_t *)s, n, req);
}

/*
 * Parse s[0..n) and every prefix of it.  Before the whole-input decision
 * is reached the answer is HC_NEED_MORE; from there on it is the same.
 */
static enum hc_result
parse_all(const char *s, size_t n, struct hc_request *req)
{
	struct hc_request part;
	enum hc_result r, rp;
	size_t i;
	bool decided;

	r = parse_n(s, n, req);
	if (r == HC_INVALID) {
		assert_non_null(req->error);
		assert_true(req->status >= 400 && req->status <= 599);
	} else {
		assert_null(req->error);
		assert_int_equal(req->status, 0);
	}
	decided = false;
	for (i = 0; i < n; i++) {
		rp = parse_n(s, i, &part);
		if (rp == HC_NEED_MORE) {
			if (decided)
				fail_msg("%zu bytes: undecided again", i);
			continue;
		}
		decided = true;
		if (rp != r)
			fail_msg("%zu bytes: %d, all: %d", i, rp, r);
		if (r == HC_INVALID) {
			assert_int_equal(part.status, req->status);
			assert_string_equal(part.error, req->error);
		} else {
			assert_int_equal(part.head_len, req->head_len);
			assert_string_equal(part.host, req->host);
		}
	}
	return r;
}

static enum hc_result
parse_str(const char *s, struct hc_request *req)
{
	return parse_all(s, strlen(s), req);
}

static void
assert_refused(const char *s, int status, const char *error)
{
	struct hc_request req;

	if (parse_str(s, &req) != HC_INVALID)
		fail_msg("not refused: %s", s);
	assert_int_equal(req.status, status);
	if (error != NULL)
		assert_string_equal(req.error, error);
	assert_string_equal(req.host, "");
	assert_false(req.auth);
}

static void
assert_target(const struct hc_request *req, const char *host, uint16_t port)
{
	assert_string_equal(req->host, host);
	assert_int_equal(req->port, port);
}

/*
 * Requests taken
 */

static void
test_connect_name(void **state)
{
	struct hc_request req;
	const char *rest;

	assert_int_equal(parse_str(curl_connect, &req), HC_REQUEST);
	assert_target(&req, "www.example.com", 80);
	assert_false(req.host_is_ip);
	assert_int_equal(req.addr.ss_family, AF_UNSPEC);
	assert_false(req.auth);
	assert_string_equal(req.user, "");
	/* The tunnelled request is the client's first data. */
	rest = strstr(curl_connect, "GET /");
	assert_int_equal(req.head_len, rest - curl_connect);
}

static void
test_connect_auth(void **state)
{
	struct hc_request req;

	assert_int_equal(parse_str(curl_connect_auth, &req), HC_REQUEST);
	assert_target(&req, "www.example.com", 8443);
	assert_true(req.auth);
	assert_string_equal(req.user, "alice");
	assert_string_equal(req.pass, "s3cret");
	assert_int_equal(req.head_len, strlen(curl_connect_auth));
}

static void
test_connect_ipv6(void **state)
{
	const struct sockaddr_in6 *sin6;
	struct hc_request req;
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(parse_str(curl_connect_ipv6, &req), HC_REQUEST);
	assert_target(&req, "2001:db8::1", 443);
	assert_true(req.host_is_ip);
	sin6 = (const struct sockaddr_in6 *)&req.addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(ntohs(sin6->sin6_port), 443);
}

static void
test_connect_ipv4(void **state)
{
	const struct sockaddr_in *sin;
	struct hc_request req;

	assert_int_equal(
	    parse_str("CONNECT 192.0.2.1:65535 HTTP/1.0\r\n\r\n", &req),
	    HC_REQUEST);
	assert_target(&req, "192.0.2.1", 65535);
	assert_true(req.host_is_ip);
	sin = (const struct sockaddr_in *)&req.addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	assert_int_equal(ntohs(sin->sin_port), 65535);
}

/* Bare LF line ends, and a name kept as it was written. */
static void
test_connect_lf(void **state)
{
	static const char req_lf[] = "CONNECT Mail.Example.ORG.:993 HTTP/1.1\n"
	                             "Host: x\n"
	                             "\n"
	                             "a";
	struct hc_request req;

	assert_int_equal(parse_str(req_lf, &req), HC_REQUEST);
	assert_target(&req, "Mail.Example.ORG.", 993);
	assert_false(req.host_is_ip);
	assert_int_equal(req.head_len, strlen(req_lf) - 1);
	/* A CR that waits for its LF is not an error yet. */
	assert_int_equal(parse_n("CONNECT a:1 HTTP/1.1\r", 21, &req),
	                 HC_NEED_MORE);
}

/* 255 bytes of name are taken, 256 are not. */
static void
test_connect_name_lengths(void **state)
{
	char buf[400], name[257];
	struct hc_request req;

	memset(name, 'a', 256);
	name[255] = '\0';
	snprintf(buf, sizeof(buf), "CONNECT %s:443 HTTP/1.1\r\n\r\n", name);
	assert_int_equal(parse_str(buf, &req), HC_REQUEST);
	assert_string_equal(req.host, name);
	name[255] = 'a';
	name[256] = '\0';
	snprintf(buf, sizeof(buf), "CONNECT %s:443 HTTP/1.1\r\n\r\n", name);
	assert_refused(buf, 400, "bad host in CONNECT target");
}

static void
test_auth_forms(void **state)
{
	static const struct {
		const char *header, *user, *pass;
	} cases[] = {
	    {"Proxy-Authorization: basic YWxpY2U6czNjcmV0", "alice", "s3cret"},
	    {"proxy-authorization:BASIC    YWxpY2U6czNjcmV0  ", "alice",
	     "s3cret"},
	    /* no ':': the user alone */
	    {"Proxy-Authorization: Basic YWxpY2U=", "alice", ""},
	    /* "alice:" and ":pw" and "a:b:c" */
	    {"Proxy-Authorization: Basic YWxpY2U6", "alice", ""},
	    {"Proxy-Authorization: Basic OnB3", "", "pw"},
	    {"Proxy-Authorization: Basic YTpiOmM=", "a", "b:c"},
	};
	struct hc_request req;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
		         "CONNECT a.example:443 HTTP/1.1\r\n%s\r\n\r\n",
		         cases[i].header);
		assert_int_equal(parse_str(buf, &req), HC_REQUEST);
		assert_true(req.auth);
		assert_string_equal(req.user, cases[i].user);
		assert_string_equal(req.pass, cases[i].pass);
	}
	/* Another scheme is not ours to read. */
	assert_int_equal(parse_str("CONNECT a.example:443 HTTP/1.1\r\n"
	                           "Proxy-Authorization: Digest "
	                           "username=\"x\"\r\n\r\n",
	                           &req),
	                 HC_REQUEST);
	assert_false(req.auth);
}

/* The longest user and password, 255 bytes each. */
static void
test_auth_longest(void **state)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
	                          "rstuvwxyz0123456789+/";
	uint8_t cred[511 + 2] = {0};
	char enc[700], buf[1024], want[256];
	struct hc_request req;
	size_t i, n;
	unsigned long v;

	memset(cred, 'u', 255);
	cred[255] = ':';
	memset(cred + 256, 'p', 255);
	for (i = 0, n = 0; i < 511; i += 3) {
		v = (unsigned long)cred[i] << 16 | cred[i + 1] << 8 |
		    cred[i + 2];
		enc[n++] = b64[v >> 18];
		enc[n++] = b64[(v >> 12) & 63];
		enc[n++] = b64[(v >> 6) & 63];
		enc[n++] = b64[v & 63];
	}
	/* 511 = 3 * 170 + 1: the last quantum holds one byte. */
	enc[n - 2] = enc[n - 1] = '=';
	enc[n] = '\0';
	snprintf(buf, sizeof(buf),
	         "CONNECT a.example:443 HTTP/1.1\r\n"
	         "Proxy-Authorization: Basic %s\r\n\r\n",
	         enc);
	assert_int_equal(parse_n(buf, strlen(buf), &req), HC_REQUEST);
	memset(want, 'u', 255);
	want[255] = '\0';
	assert_string_equal(req.user, want);
	memset(want, 'p', 255);
	assert_string_equal(req.pass, want);
}

/*
 * Requests refused
 */

static void
test_auth_bad(void **state)
{
	static const struct {
		const char *value, *error;
	} cases[] = {
	    {"Basic", "bad Proxy-Authorization"},
	    {"Basic ", "bad Proxy-Authorization"},
	    {"Basicx YWxpY2U6czNjcmV0", NULL},
	    {"", "bad Proxy-Authorization"},
	    {"Basic YWxp*2U6czNjcmV0", "bad base64 in Proxy-Authorization"},
	    {"Basic YWxpY2U", "bad base64 in Proxy-Authorization"},
	    {"Basic YWxpY2U==", "bad base64 in Proxy-Authorization"},
	    {"Basic YW=pY2U6", "bad base64 in Proxy-Authorization"},
	    {"Basic ====", "bad base64 in Proxy-Authorization"},
	    /* "YR==" leaves bits set that "YQ==" does not */
	    {"Basic YR==", "bad base64 in Proxy-Authorization"},
	    {"Basic YWJ=", "bad base64 in Proxy-Authorization"},
	    /* "a\0b:c" */
	    {"Basic YQBiOmM=", "NUL in Proxy-Authorization"},
	};
	struct hc_request req;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf),
		         "CONNECT a.example:443 HTTP/1.1\r\n"
		         "Proxy-Authorization: %s\r\n\r\n",
		         cases[i].value);
		if (cases[i].error == NULL) {
			assert_int_equal(parse_str(buf, &req), HC_REQUEST);
			assert_false(req.auth);
			continue;
		}
		assert_refused(buf, 400, cases[i].error);
	}
	assert_refused("CONNECT a.example:443 HTTP/1.1\r\n"
	               "Proxy-Authorization: Basic YQ==\r\n"
	               "Proxy-Authorization: Basic Yg==\r\n\r\n",
	               400, "two Proxy-Authorization headers");
}

/* A user or password over 255 bytes. */
static void
test_auth_too_long(void **state)
{
	char buf[2048];
	struct hc_request req;
	size_t n;

	n = snprintf(buf, sizeof(buf),
	             "CONNECT a.example:443 HTTP/1.1\r\n"
	             "Proxy-Authorization: Basic ");
	/* "dddd" decodes to 3 bytes, none a ':' or NUL: 86 of them to a
	 * 258-byte user. */
	memset(buf + n, 'd', 344);
	n += 344;
	n += snprintf(buf + n, sizeof(buf) - n, "\r\n\r\n");
	assert_int_equal(parse_n(buf, n, &req), HC_INVALID);
	assert_int_equal(req.status, 400);
	assert_string_equal(req.error, "Proxy-Authorization too long");
}

static void
test_not_connect(void **state)
{
	assert_refused(curl_get, 405, "not a CONNECT request");
	assert_refused("GET / HTTP/1.1\r\nHost: 127.0.0.1:8118\r\n\r\n", 405,
	               NULL);
	assert_refused("connect a.example:443 HTTP/1.1\r\n\r\n", 405, NULL);
	/* Decided on the request line, the headers not waited for. */
	assert_refused("POST http://a.example/ HTTP/1.1\r\n", 405, NULL);
}

static void
test_versions(void **state)
{
	assert_refused("CONNECT a.example:443 HTTP/2.0\r\n\r\n", 505,
	               "HTTP version not 1.x");
	assert_refused("CONNECT a.example:443 HTTP/1.10\r\n\r\n", 505, NULL);
	assert_refused("CONNECT a.example:443 HTTP/0.9\r\n", 505, NULL);
	assert_refused("CONNECT a.example:443 http/1.1\r\n", 400, NULL);
	assert_refused("CONNECT a.example:443\r\n", 400, NULL);
}

static void
test_bad_target(void **state)
{
	static const char *const targets[] = {
	    "a.example",
	    "a.example:",
	    "a.example:0",
	    "a.example:65536",
	    "a.example:80a",
	    "a.example:-1",
	    "a.example:000443",
	    "[::1]",
	    "[::1]443",
	    "[zz::1]:443",
	    "[::1:443",
	    "::1:443",
	    ":443",
	    "user@a.example:443",
	    "a.example/x:443",
	    "[]:443",
	    "a\"b:443",
	    "[fe80::1%25eth0]:443",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(buf, sizeof(buf), "CONNECT %s HTTP/1.1\r\n\r\n",
		         targets[i]);
		assert_refused(buf, 400, NULL);
	}
	assert_refused("CONNECT a.example HTTP/1.1\r\n", 400,
	               "CONNECT target without port");
	assert_refused("CONNECT a.example:0 HTTP/1.1\r\n", 400,
	               "bad port in CONNECT target");
}

/* A byte string that may hold NULs, with its length. */
#define HEAD(s)                                                                \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}

static void
test_bad_lines(void **state)
{
	static const struct {
		const char *p;
		size_t n;
	} heads[] = {
	    HEAD("CONNECT  a.example:443 HTTP/1.1\r\n"),
	    HEAD("CONNECT a.example:443  HTTP/1.1\r\n"),
	    HEAD(" CONNECT a.example:443 HTTP/1.1\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1 \r\n"),
	    HEAD("\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\nHost a.example\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\nHost : a.example\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\n: a.example\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n folded\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\nX-A: b\rc\r\n"),
	    HEAD("CONNECT a.example:443 HTTP/1.1\r\nX-A: b\0c\r\n"),
	    HEAD("CONNECT a.example:443\rHTTP/1.1\r\n"),
	    HEAD("CONNECT a.\x7f:443 HTTP/1.1\r\n"),
	    HEAD("\x16\x03\x01\x02\x00\x01"),
	    HEAD("\x05\x01\x00"),
	    HEAD("SSH-2.0-OpenSSH_9.2\r\n"),
	};
	struct hc_request req;
	size_t i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		assert_int_equal(parse_all(heads[i].p, heads[i].n, &req),
		                 HC_INVALID);
		assert_int_equal(req.status, 400);
	}
}

/* Bounded: a line or a head that does not end is refused at the bound. */
static void
test_too_long(void **state)
{
	static char buf[HTTP_CONNECT_HEAD_MAX + 64];
	struct hc_request req;
	size_t n;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "CONNECT ", 8);
	assert_int_equal(parse_n(buf, HTTP_CONNECT_HEAD_MAX - 1, &req),
	                 HC_NEED_MORE);
	assert_int_equal(parse_n(buf, HTTP_CONNECT_HEAD_MAX, &req), HC_INVALID);
	assert_int_equal(req.status, 414);
	assert_int_equal(parse_n(buf, sizeof(buf), &req), HC_INVALID);
	assert_int_equal(req.status, 414);

	n = snprintf(buf, sizeof(buf), "CONNECT a.example:443 HTTP/1.1\r\n");
	while (n + 10 < HTTP_CONNECT_HEAD_MAX) {
		memcpy(buf + n, "X-Pad: y\r\n", 10);
		n += 10;
	}
	assert_int_equal(parse_n(buf, HTTP_CONNECT_HEAD_MAX, &req), HC_INVALID);
	assert_int_equal(req.status, 431);
	assert_string_equal(req.error, "HTTP request head too long");

	/* A head that ends on the bound's last byte is taken. */
	n = snprintf(buf, sizeof(buf), "CONNECT a.example:443 HTTP/1.1\r\n");
	memcpy(buf + n, "X-Pad: ", 7);
	n += 7;
	memset(buf + n, 'y', HTTP_CONNECT_HEAD_MAX - n - 4);
	memcpy(buf + HTTP_CONNECT_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, sizeof(buf), &req), HC_REQUEST);
	assert_int_equal(req.head_len, HTTP_CONNECT_HEAD_MAX);
}

/*
 * Responses
 */

/* hc_response() into out, NUL-terminated for reading. */
static const char *
response(int status, char *out, size_t size)
{
	size_t n;

	n = hc_response(status, out, size - 1);
	assert_true(n > 0 && n < size);
	out[n] = '\0';
	return out;
}

static void
test_response_200(void **state)
{
	char out[HTTP_CONNECT_RESPONSE_MAX];
	size_t n;

	n = hc_response(200, out, sizeof(out));
	assert_int_equal(n,
	                 strlen("HTTP/1.1 200 Connection established\r\n\r\n"));
	assert_memory_equal(out, "HTTP/1.1 200 Connection established\r\n\r\n",
	                    n);
}

/* Each error: its status line, Connection: close, a body that is exactly
 * Content-Length long. */
static void
test_response_errors(void **state)
{
	static const int statuses[] = {400, 403, 405, 414, 431,
	                               500, 502, 503, 504, 505};
	char out[HTTP_CONNECT_RESPONSE_MAX + 1], line[64];
	const char *body, *cl;
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		response(statuses[i], out, sizeof(out));
		snprintf(line, sizeof(line), "HTTP/1.1 %d ", statuses[i]);
		assert_memory_equal(out, line, strlen(line));
		assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
		body = strstr(out, "\r\n\r\n");
		assert_non_null(body);
		body += 4;
		cl = strstr(out, "\r\nContent-Length: ");
		assert_non_null(cl);
		assert_int_equal(strtoul(cl + 18, NULL, 10), strlen(body));
		assert_memory_equal(body, "tollgate: ", 10);
		/* One line. */
		assert_ptr_equal(strchr(body, '\n'), body + strlen(body) - 1);
	}
}

static void
test_response_405(void **state)
{
	char out[HTTP_CONNECT_RESPONSE_MAX + 1];

	response(405, out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(out, "\r\nAllow: CONNECT\r\n"));
	assert_non_null(strstr(out, "\r\n\r\ntollgate: only CONNECT is "
	                            "supported; use this proxy for https"));
}

static void
test_response_unknown_and_small(void **state)
{
	char out[HTTP_CONNECT_RESPONSE_MAX + 1];

	response(299, out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 500 Internal Server Error\r\n"));
	assert_int_equal(hc_response(405, out, 40), 0);
	assert_int_equal(hc_response(200, out, 10), 0);
}

/* What an upstream answered, as an HTTP client reads it. */
static void
test_status_for_socks(void **state)
{
	assert_int_equal(hc_status_for_socks(0x00), 200);
	assert_int_equal(hc_status_for_socks(0x02), 403);
	assert_int_equal(hc_status_for_socks(0x06), 504);
	assert_int_equal(hc_status_for_socks(0xf7), 504);
	assert_int_equal(hc_status_for_socks(0x01), 502);
	assert_int_equal(hc_status_for_socks(0x04), 502);
	assert_int_equal(hc_status_for_socks(0x05), 502);
	assert_int_equal(hc_status_for_socks(0xf0), 502);
	assert_int_equal(hc_status_for_socks(0x42), 502);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_name),
	    cmocka_unit_test(test_connect_auth),
	    cmocka_unit_test(test_connect_ipv6),
	    cmocka_unit_test(test_connect_ipv4),
	    cmocka_unit_test(test_connect_lf),
	    cmocka_unit_test(test_connect_name_lengths),
	    cmocka_unit_test(test_auth_forms),
	    cmocka_unit_test(test_auth_longest),
	    cmocka_unit_test(test_auth_bad),
	    cmocka_unit_test(test_auth_too_long),
	    cmocka_unit_test(test_not_connect),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_bad_target),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_response_200),
	    cmocka_unit_test(test_response_errors),
	    cmocka_unit_test(test_response_405),
	    cmocka_unit_test(test_response_unknown_and_small),
	    cmocka_unit_test(test_status_for_socks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
