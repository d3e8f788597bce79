/*
 * test_peek.c - a client's first bytes go in, the destination name (or a
 * clear refusal) comes out.  ClientHellos are real: an OpenSSL client
 * writes them into a memory BIO, and tests reshape them the way networks
 * and odd clients do.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/name.h"
#include "proxyd/peek.h"

/* Extension types the test client adds: padding of ours, and ECH. */
#define TEST_EXT_PAD 0x4242
#define TEST_EXT_ECH 0xfe0d

#define TEST_HELLO_MAX (64 * 1024)

/* A byte string that may hold NULs, with its length. */
#define TEST_BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

struct hello {
	uint8_t buf[TEST_HELLO_MAX];
	size_t len;
};

struct hello_opts {
	const char *sni; /* NULL: no server_name */
	int max_version; /* 0: OpenSSL's default, TLS 1.3 */
	size_t pad;      /* bytes of a TEST_EXT_PAD extension */
	bool ech;        /* add an encrypted_client_hello extension */
};

struct test_ext {
	const uint8_t *data;
	size_t len;
};

typedef enum peek_result (*peek_fn)(const uint8_t *, size_t,
                                    struct peek_info *);

static int
test_ext_add(SSL *ssl, unsigned int type, unsigned int context,
             const unsigned char **out, size_t *outlen, X509 *x,
             size_t chainidx, int *al, void *arg)
{
	const struct test_ext *e = arg;

	*out = e->data;
	*outlen = e->len;
	return 1;
}

/* What an OpenSSL client sends first, into h. */
static void
hello_make(struct hello *h, const struct hello_opts *o)
{
	static const uint8_t ech_body[] = {0x00, 0x00, 0x01, 0x00, 0x01, 0x07};
	static uint8_t pad_body[65535];
	struct test_ext pad = {pad_body, o->pad};
	struct test_ext ech = {ech_body, sizeof(ech_body)};
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	char *p;
	long n;

	assert_true(o->pad <= sizeof(pad_body));
	memset(pad_body, 'p', sizeof(pad_body));
	ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	if (o->max_version != 0)
		assert_int_equal(
		    SSL_CTX_set_max_proto_version(ctx, o->max_version), 1);
	if (o->pad > 0)
		assert_int_equal(SSL_CTX_add_custom_ext(
		                     ctx, TEST_EXT_PAD, SSL_EXT_CLIENT_HELLO,
		                     test_ext_add, NULL, &pad, NULL, NULL),
		                 1);
	if (o->ech)
		assert_int_equal(SSL_CTX_add_custom_ext(
		                     ctx, TEST_EXT_ECH, SSL_EXT_CLIENT_HELLO,
		                     test_ext_add, NULL, &ech, NULL, NULL),
		                 1);
	ssl = SSL_new(ctx);
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(BIO_s_mem());
	assert_true(ssl != NULL && rbio != NULL && wbio != NULL);
	SSL_set_bio(ssl, rbio, wbio);
	if (o->sni != NULL)
		assert_int_equal(SSL_set_tlsext_host_name(ssl, o->sni), 1);
	assert_int_equal(SSL_connect(ssl), -1);
	assert_int_equal(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
	n = BIO_get_mem_data(wbio, &p);
	assert_true(n > 0 && (size_t)n <= sizeof(h->buf));
	memcpy(h->buf, p, n);
	h->len = n;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

static void
hello_sni(struct hello *h, const char *sni)
{
	struct hello_opts o = {.sni = sni};

	hello_make(h, &o);
}

static size_t
records_count(const uint8_t *buf, size_t len)
{
	size_t off, n;

	for (off = 0, n = 0; off + 5 <= len; n++)
		off += 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
	assert_int_equal(off, len);
	return n;
}

/* Re-cut the records of h into fragments of at most frag bytes each. */
static void
hello_reframe(struct hello *h, size_t frag)
{
	static uint8_t payload[TEST_HELLO_MAX];
	size_t off, rlen, n, chunk;

	for (off = 0, n = 0; off < h->len; off += 5 + rlen) {
		rlen = (size_t)h->buf[off + 3] << 8 | h->buf[off + 4];
		memcpy(payload + n, h->buf + off + 5, rlen);
		n += rlen;
	}
	for (off = 0, h->len = 0; off < n; off += chunk) {
		chunk = n - off < frag ? n - off : frag;
		assert_true(h->len + 5 + chunk <= sizeof(h->buf));
		h->buf[h->len] = 0x16;
		h->buf[h->len + 1] = 0x03;
		h->buf[h->len + 2] = 0x01;
		h->buf[h->len + 3] = chunk >> 8;
		h->buf[h->len + 4] = chunk & 0xff;
		memcpy(h->buf + h->len + 5, payload + off, chunk);
		h->len += 5 + chunk;
	}
}

/* The ClientHello's own 24-bit length, in a single-record h. */
static size_t
hello_length(const struct hello *h)
{
	return (size_t)h->buf[6] << 16 | (size_t)h->buf[7] << 8 | h->buf[8];
}

/* Rewrite the record's and the ClientHello's lengths. */
static void
hello_set_length(struct hello *h, size_t record, size_t msg)
{
	h->buf[3] = record >> 8;
	h->buf[4] = record & 0xff;
	h->buf[6] = msg >> 16;
	h->buf[7] = (msg >> 8) & 0xff;
	h->buf[8] = msg & 0xff;
}

/* Where the server name's bytes sit in h. */
static size_t
hello_find(const struct hello *h, const char *s)
{
	const uint8_t *p;

	p = memmem(h->buf, h->len, s, strlen(s));
	assert_non_null(p);
	return p - h->buf;
}

static void
assert_done(enum peek_result r, const struct peek_info *info,
            enum name_source source, const char *name, const char *proto)
{
	assert_int_equal(r, PEEK_DONE);
	assert_int_equal(info->source, source);
	assert_string_equal(info->name, name);
	assert_string_equal(info->proto, proto);
	assert_null(info->error);
}

static void
assert_invalid(enum peek_result r, const struct peek_info *info,
               const char *error)
{
	assert_int_equal(r, PEEK_INVALID);
	assert_int_equal(info->source, NAME_NONE);
	assert_non_null(info->error);
	if (error != NULL)
		assert_string_equal(info->error, error);
	/* Nothing OpenSSL noted may be left for the next caller. */
	assert_int_equal(ERR_peek_error(), 0);
}

/* Every prefix of buf[0..len) shorter than len, step bytes apart, is
 * incomplete. */
static void
assert_need_more_below(peek_fn fn, const uint8_t *buf, size_t len, size_t step)
{
	struct peek_info info;
	size_t n;

	for (n = 0; n < len; n += step)
		if (fn(buf, n, &info) != PEEK_NEED_MORE)
			fail_msg("%zu of %zu bytes: not PEEK_NEED_MORE", n,
			         len);
}

static enum peek_result
peek_str(peek_fn fn, const char *s, struct peek_info *info)
{
	return fn((const uint8_t *)s, strlen(s), info);
}

/*
 * TLS
 */

static void
test_tls_sni_tls13(void **state)
{
	struct hello h;
	struct peek_info info;

	hello_sni(&h, "www.example.com");
	assert_done(peek_tls(h.buf, h.len, &info), &info, NAME_SNI,
	            "www.example.com", "tls");
	assert_false(info.ech);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "www.example.com", "tls");
}

static void
test_tls_sni_tls12(void **state)
{
	struct hello_opts o = {.sni = "tls12.example.org",
	                       .max_version = TLS1_2_VERSION};
	struct hello h;
	struct peek_info info;

	hello_make(&h, &o);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "tls12.example.org", "tls");
}

static void
test_tls_sni_uppercase(void **state)
{
	struct hello h;
	struct peek_info info;

	hello_sni(&h, "WWW.Example.COM");
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "www.example.com", "tls");
}

static void
test_tls_sni_trailing_dot(void **state)
{
	struct hello h;
	struct peek_info info;

	hello_sni(&h, "example.com.");
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "example.com", "tls");
}

static void
test_tls_no_sni(void **state)
{
	struct hello h;
	struct peek_info info;

	hello_sni(&h, NULL);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_NONE, "",
	            "tls");
}

static void
test_tls_sni_ip_literal(void **state)
{
	struct hello h;
	struct peek_info info;

	/* RFC 6066 forbids it, some clients do it: decided on the IP. */
	hello_sni(&h, "192.0.2.1");
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_NONE, "",
	            "tls");
}

static void
test_tls_sni_bad_name(void **state)
{
	struct hello h;
	struct peek_info info;
	size_t at;

	hello_sni(&h, "bad name.example");
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server name");
	hello_sni(&h, "a..b.example");
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server name");
	hello_sni(&h, "foo.123");
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server name");

	/* A NUL inside the name must not cut it short into "evil". */
	hello_sni(&h, "evilXgood.example");
	at = hello_find(&h, "evilXgood.example");
	h.buf[at + 4] = '\0';
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server name");
}

static void
test_tls_sni_bad_list(void **state)
{
	struct hello h;
	struct peek_info info;
	size_t at;

	/* name_type host_name(0) sits 3 bytes before the name, the list
	 * length 5 bytes before it. */
	hello_sni(&h, "list.example");
	at = hello_find(&h, "list.example");
	assert_int_equal(h.buf[at - 3], 0);
	h.buf[at - 3] = 1;
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server_name extension");

	hello_sni(&h, "list.example");
	h.buf[at - 4]--; /* the list shorter than the extension */
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server_name extension");

	/* The name shorter than the list: a second entry would follow. */
	hello_sni(&h, "list.example");
	h.buf[at - 1]--;
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "bad server_name extension");
}

static void
test_tls_byte_by_byte(void **state)
{
	struct hello h;
	struct peek_info info;

	hello_sni(&h, "slow.example.net");
	assert_need_more_below(peek_name, h.buf, h.len, 1);
	assert_need_more_below(peek_tls, h.buf, h.len, 1);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "slow.example.net", "tls");
	/* Already known to be TLS while waiting. */
	assert_int_equal(peek_name(h.buf, 1, &info), PEEK_NEED_MORE);
	assert_string_equal(info.proto, "tls");
}

static void
test_tls_three_records(void **state)
{
	struct hello h;
	struct peek_info info;
	size_t payload;

	hello_sni(&h, "split.example");
	assert_int_equal(records_count(h.buf, h.len), 1);
	payload = h.len - 5;
	hello_reframe(&h, (payload + 2) / 3);
	assert_int_equal(records_count(h.buf, h.len), 3);
	assert_need_more_below(peek_name, h.buf, h.len, 1);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "split.example", "tls");

	/* One byte per record, the handshake header across four of them. */
	hello_sni(&h, "tiny.example");
	payload = h.len - 5;
	hello_reframe(&h, 1);
	assert_int_equal(records_count(h.buf, h.len), payload);
	assert_need_more_below(peek_name, h.buf, h.len, 7);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "tiny.example", "tls");
}

static void
test_tls_bytes_after_hello(void **state)
{
	struct hello h;
	struct peek_info info;
	size_t rlen;

	/* TLS 1.3 early data or anything else may follow: not ours. */
	hello_sni(&h, "early.example");
	memcpy(h.buf + h.len, "\x17\x03\x03\x00\x02zz", 7);
	assert_done(peek_name(h.buf, h.len + 7, &info), &info, NAME_SNI,
	            "early.example", "tls");

	/* The ClientHello's record goes on after it: OpenSSL reads whole
	 * records, so the rest of it is waited for. */
	hello_sni(&h, "trail.example");
	rlen = (size_t)h.buf[3] << 8 | h.buf[4];
	hello_set_length(&h, rlen + 10, hello_length(&h));
	memset(h.buf + h.len, 0x42, 10);
	h.len += 10;
	assert_need_more_below(peek_name, h.buf, h.len, 1);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "trail.example", "tls");
}

static void
test_tls_big_hello(void **state)
{
	struct hello_opts o = {.sni = "big.example.com", .pad = 17000};
	struct hello h;
	struct peek_info info;
	size_t n;

	hello_make(&h, &o);
	assert_true(h.len >= 16 * 1024);
	assert_int_equal(records_count(h.buf, h.len), 2);
	assert_need_more_below(peek_name, h.buf, h.len, 1000);
	for (n = 1000; n < h.len; n += 1000)
		assert_int_equal(peek_name(h.buf, n, &info), PEEK_NEED_MORE);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "big.example.com", "tls");

	/* Near the bound, reframed into small records. */
	o.pad = 30000;
	hello_make(&h, &o);
	hello_reframe(&h, 4096);
	assert_true(h.len < PEEK_MAX_BYTES);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "big.example.com", "tls");
}

static void
test_tls_oversize(void **state)
{
	struct hello_opts o = {.sni = "huge.example.com", .pad = 33000};
	struct hello h;
	struct peek_info info;
	uint8_t *buf;
	size_t off;

	hello_make(&h, &o);
	assert_true(h.len > PEEK_MAX_BYTES);
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "TLS ClientHello too long");
	/* Refused as soon as the handshake header tells its length. */
	assert_invalid(peek_name(h.buf, 9, &info), &info,
	               "TLS ClientHello too long");

	/* A ClientHello that would fit, dribbled in 1-byte records until
	 * the bound: refused there, never "need more". */
	buf = calloc(1, PEEK_MAX_BYTES + 6);
	assert_non_null(buf);
	memcpy(buf, "\x16\x03\x01\x00\x04\x01\x00\x4e\x20", 9);
	for (off = 9; off + 6 <= PEEK_MAX_BYTES + 6; off += 6)
		memcpy(buf + off, "\x16\x03\x01\x00\x01\x03", 6);
	assert_int_equal(peek_name(buf, PEEK_MAX_BYTES - 1, &info),
	                 PEEK_NEED_MORE);
	assert_invalid(peek_name(buf, PEEK_MAX_BYTES, &info), &info,
	               "TLS ClientHello too long");
	assert_invalid(peek_name(buf, PEEK_MAX_BYTES + 6, &info), &info,
	               "TLS ClientHello too long");
	free(buf);
}

static void
test_tls_ech(void **state)
{
	struct hello_opts o = {.sni = "public.example", .ech = true};
	struct hello h;
	struct peek_info info;

	hello_make(&h, &o);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_SNI,
	            "public.example", "tls");
	assert_true(info.ech);

	o.sni = NULL;
	hello_make(&h, &o);
	assert_done(peek_name(h.buf, h.len, &info), &info, NAME_NONE, "",
	            "tls");
	assert_true(info.ech);
}

static void
test_tls_garbage(void **state)
{
	static const struct {
		const uint8_t *bytes;
		size_t len;
		const char *error;
	} cases[] = {
	    {TEST_BYTES("\x16\x99"), "bad TLS record version"},
	    {TEST_BYTES("\x16\x03\x42"), "bad TLS record version"},
	    {TEST_BYTES("\x16\x03\x01\x00\x00"), "bad TLS record length"},
	    {TEST_BYTES("\x16\x03\x01\x41\x01"), "bad TLS record length"},
	    {TEST_BYTES("\x16\x03\x01\x00\x05hello"),
	     "first TLS handshake message is not a ClientHello"},
	    {TEST_BYTES("\x16\x03\x01\x00\x0a\x01\x00\x00\x06garbag"),
	     "malformed TLS ClientHello"},
	    {TEST_BYTES("\x16\x03\x03\x00\x04\x01\x00\x00\x00"),
	     "malformed TLS ClientHello"},
	};
	struct peek_info info;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_invalid(peek_tls(cases[i].bytes, cases[i].len, &info),
		               &info, cases[i].error);
		assert_string_equal(info.proto, "tls");
	}
}

static void
test_tls_lying_lengths(void **state)
{
	struct hello h;
	struct peek_info info;
	size_t rlen;

	/* Cut short: the lengths promise more, so wait for it. */
	hello_sni(&h, "cut.example");
	assert_int_equal(peek_name(h.buf, h.len - 1, &info), PEEK_NEED_MORE);

	/* Handshake length one more than the body, record grown to match:
	 * a ClientHello with a stray byte, which OpenSSL refuses. */
	hello_sni(&h, "long.example");
	rlen = (size_t)h.buf[3] << 8 | h.buf[4];
	hello_set_length(&h, rlen + 1, hello_length(&h) + 1);
	h.buf[h.len++] = 0;
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "malformed TLS ClientHello");

	/* Handshake length 16 bytes short: its extensions overrun it. */
	hello_sni(&h, "short.example");
	rlen = (size_t)h.buf[3] << 8 | h.buf[4];
	hello_set_length(&h, rlen, hello_length(&h) - 16);
	assert_invalid(peek_name(h.buf, h.len, &info), &info,
	               "malformed TLS ClientHello");
}

static void
test_tls_not_handshake(void **state)
{
	static const uint8_t appdata[] = {0x17, 0x03, 0x03, 0x00,
	                                  0x02, 'h',  'i'};
	static const uint8_t sslv2[] = {0x80, 0x2e, 0x01, 0x03,
	                                0x01, 0x00, 0x15};
	struct hello h;
	struct peek_info info;
	size_t second;

	assert_invalid(peek_tls(appdata, sizeof(appdata), &info), &info,
	               "not a TLS handshake record");
	assert_invalid(peek_tls(sslv2, sizeof(sslv2), &info), &info,
	               "not a TLS handshake record");
	/* Not sent to the TLS parser at all: decided on the IP. */
	assert_done(peek_name(appdata, sizeof(appdata), &info), &info,
	            NAME_NONE, "", "other");
	assert_done(peek_name(sslv2, sizeof(sslv2), &info), &info, NAME_NONE,
	            "", "other");

	/* A second record of another type before the ClientHello ends. */
	hello_sni(&h, "two.example");
	hello_reframe(&h, 100);
	second = 5 + 100;
	h.buf[second] = 0x17;
	assert_int_equal(peek_name(h.buf, second, &info), PEEK_NEED_MORE);
	assert_invalid(peek_name(h.buf, second + 1, &info), &info,
	               "not a TLS handshake record");
}

static void *
tls_thread(void *arg)
{
	const struct hello *h = arg;
	struct peek_info info;
	int i;

	for (i = 0; i < 50; i++) {
		if (peek_name(h->buf, h->len, &info) != PEEK_DONE ||
		    strcmp(info.name, "threads.example") != 0)
			return (void *)1;
		if (peek_name(h->buf, h->len - 5, &info) != PEEK_NEED_MORE)
			return (void *)1;
	}
	return NULL;
}

static void
test_tls_threads(void **state)
{
	static struct hello h;
	pthread_t t[4];
	void *ret;
	size_t i;

	hello_sni(&h, "threads.example");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, tls_thread, &h),
		                 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
}

/*
 * HTTP
 */

static void
test_http_host(void **state)
{
	struct peek_info info;

	assert_done(peek_str(peek_name,
	                     "GET /index.html HTTP/1.1\r\n"
	                     "User-Agent: curl/7.88.1\r\n"
	                     "hOsT: WWW.Example.COM:8080\r\n"
	                     "Accept: */*\r\n\r\n",
	                     &info),
	            &info, NAME_HTTP, "www.example.com", "http");
	assert_done(peek_str(peek_http,
	                     "POST /api HTTP/1.0\r\nHost:\tapi.example.\t\r\n"
	                     "Content-Length: 2\r\n\r\n{}",
	                     &info),
	            &info, NAME_HTTP, "api.example", "http");
	/* Empty lines before the request line are skipped, as servers
	 * skip them (RFC 9112 2.2). */
	assert_done(peek_str(peek_name,
	                     "\r\nGET / HTTP/1.1\r\nHost: c.b.test\r\n\r\n",
	                     &info),
	            &info, NAME_HTTP, "c.b.test", "http");
	assert_done(peek_str(peek_name,
	                     "\n\r\r\nGET / HTTP/1.1\nHost: d.b.test\n\n",
	                     &info),
	            &info, NAME_HTTP, "d.b.test", "http");
	assert_done(peek_str(peek_name, "\r\nSSH-2.0-OpenSSH_9.2p1\r\n", &info),
	            &info, NAME_NONE, "", "other");
	assert_int_equal(peek_str(peek_name, "\r\n\r\n", &info),
	                 PEEK_NEED_MORE);
	/* Bare LF line ends, as some scripts send them. */
	assert_done(peek_str(peek_name,
	                     "OPTIONS * HTTP/1.1\nHost: lf.example\n\n", &info),
	            &info, NAME_HTTP, "lf.example", "http");
}

static void
test_http_no_host(void **state)
{
	struct peek_info info;

	assert_done(peek_str(peek_name, "GET / HTTP/1.0\r\n\r\n", &info), &info,
	            NAME_NONE, "", "http");
	assert_done(peek_str(peek_name,
	                     "GET / HTTP/1.1\r\nHost:\r\nAccept: */*\r\n\r\n",
	                     &info),
	            &info, NAME_NONE, "", "http");
}

static void
test_http_ip_host(void **state)
{
	static const char *ip_hosts[] = {"192.0.2.7",     "192.0.2.7:80",
	                                 "[2001:db8::1]", "[2001:db8::1]:8080",
	                                 "127.1",         "0x7f.0.0.1:81"};
	char req[256];
	struct peek_info info;
	size_t i;

	for (i = 0; i < sizeof(ip_hosts) / sizeof(ip_hosts[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
		         ip_hosts[i]);
		assert_done(peek_str(peek_name, req, &info), &info, NAME_NONE,
		            "", "http");
	}
}

static void
test_http_split(void **state)
{
	static const char req[] = "HEAD /x HTTP/1.1\r\n"
	                          "Host: split.example.org\r\n"
	                          "Connection: close\r\n\r\n";
	struct peek_info info;

	assert_need_more_below(peek_name, (const uint8_t *)req, sizeof(req) - 1,
	                       1);
	assert_int_equal(peek_name((const uint8_t *)req, 30, &info),
	                 PEEK_NEED_MORE);
	assert_string_equal(info.proto, "http");
	assert_done(peek_str(peek_name, req, &info), &info, NAME_HTTP,
	            "split.example.org", "http");
}

static void
test_http_absolute_target(void **state)
{
	struct peek_info info;

	assert_done(peek_str(peek_name,
	                     "GET http://A.example/x HTTP/1.1\r\n"
	                     "Host: a.example\r\n\r\n",
	                     &info),
	            &info, NAME_HTTP, "a.example", "http");
	assert_done(peek_str(peek_name,
	                     "CONNECT b.example:443 HTTP/1.1\r\n"
	                     "Host: b.example:443\r\n\r\n",
	                     &info),
	            &info, NAME_HTTP, "b.example", "http");
	assert_done(peek_str(peek_name,
	                     "GET https://c.example HTTP/1.1\r\n\r\n", &info),
	            &info, NAME_HTTP, "c.example", "http");
	/* The server would follow the target, not the Host we read. */
	assert_invalid(peek_str(peek_name,
	                        "GET http://blocked.example/ HTTP/1.1\r\n"
	                        "Host: allowed.example\r\n\r\n",
	                        &info),
	               &info, "HTTP Host does not match request target");
	assert_invalid(peek_str(peek_name,
	                        "GET http://user@d.example/ HTTP/1.1\r\n\r\n",
	                        &info),
	               &info, "bad HTTP request target");
}

static void
test_http_malformed(void **state)
{
	static const struct {
		const uint8_t *req;
		size_t len;
		const char *error;
	} cases[] = {
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: a\0b.example\r\n\r\n"),
	     "control byte in HTTP request head"},
	    {TEST_BYTES("GET \0"), "control byte in HTTP request head"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nX: y\rHost: a\r\n\r\n"),
	     "control byte in HTTP request head"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nno colon here\r\n\r\n"),
	     "bad HTTP header line"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n"),
	     "bad HTTP header line"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nX: 1\r\n  folded\r\n\r\n"),
	     "folded HTTP header line"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: a.example\r\n"
	                "host: b.example\r\n\r\n"),
	     "duplicate HTTP Host header"},
	    {TEST_BYTES("GET / HTTP/3.0\r\n\r\n"), "unsupported HTTP version"},
	    {TEST_BYTES("GET / HTTP/1.1 x\r\n\r\n"),
	     "unsupported HTTP version"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: bad host!\r\n\r\n"),
	     "bad HTTP Host"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: a.example:80:80\r\n\r\n"),
	     "bad HTTP Host"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n"),
	     "bad HTTP Host"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: a.example:123456\r\n\r\n"),
	     "bad HTTP Host"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"),
	     "bad HTTP Host"},
	    {TEST_BYTES("GET / HTTP/1.1\r\nHost: [nope]:80\r\n\r\n"),
	     "bad HTTP Host"},
	};
	struct peek_info info;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_invalid(peek_http(cases[i].req, cases[i].len, &info),
		               &info, cases[i].error);
		assert_string_equal(info.proto, "http");
	}
}

static void
test_http_too_long(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: a.example\r\n"
	                           "Cookie: ";
	uint8_t *buf;

	struct peek_info info;

	/* The whole head is read, so even an early Host cannot save a head
	 * past the bound. */
	buf = malloc(PEEK_MAX_BYTES + 100);
	assert_non_null(buf);
	memset(buf, 'c', PEEK_MAX_BYTES + 100);
	memcpy(buf, head, sizeof(head) - 1);
	assert_int_equal(peek_name(buf, PEEK_MAX_BYTES - 1, &info),
	                 PEEK_NEED_MORE);
	assert_invalid(peek_name(buf, PEEK_MAX_BYTES, &info), &info,
	               "HTTP request head too long");
	assert_invalid(peek_name(buf, PEEK_MAX_BYTES + 100, &info), &info,
	               "HTTP request head too long");
	free(buf);
}

static void
test_http_not_http(void **state)
{
	static const char *other[] = {
	    "NICK alice\r\n",                   /* IRC */
	    "PASS secret word\r\n",             /* IRC too */
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", /* HTTP/2 prior knowledge */
	    "GET /\r\n",                        /* HTTP/0.9 */
	    "Hello",
	    "ABCDEFGHIJK",
	    "GE /",
	    "GET  / HTTP/1.1\r\n\r\n",
	    "GET / http/1.1\r\n\r\n",
	};
	struct peek_info info;
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_done(peek_str(peek_name, other[i], &info), &info,
		            NAME_NONE, "", "other");
	/* A method still arriving. */
	assert_int_equal(peek_str(peek_name, "OPTIO", &info), PEEK_NEED_MORE);
	assert_int_equal(peek_str(peek_name, "NICK alice", &info),
	                 PEEK_NEED_MORE);
}

/*
 * Neither
 */

static void
test_other_protocols(void **state)
{
	static const uint8_t binary[] = {0x00, 0x01, 0x16, 0x03};
	struct peek_info info;

	assert_done(
	    peek_str(peek_name, "SSH-2.0-OpenSSH_9.2p1 Debian\r\n", &info),
	    &info, NAME_NONE, "", "other");
	assert_done(peek_name(binary, sizeof(binary), &info), &info, NAME_NONE,
	            "", "other");
	assert_int_equal(peek_name(binary, 0, &info), PEEK_NEED_MORE);
	assert_int_equal(peek_tls(binary, 0, &info), PEEK_NEED_MORE);
	assert_int_equal(peek_http(binary, 0, &info), PEEK_NEED_MORE);
}

/*
 * Names
 */

static void
test_normalise_name(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: not a host name */
	} cases[] = {
	    {"Example.COM", "example.com"},
	    {"example.com.", "example.com"},
	    {"localhost", "localhost"},
	    {"_dmarc.example", "_dmarc.example"},
	    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
	    {"a-b.c0", "a-b.c0"},
	    {"deadbeef", "deadbeef"},
	    {"", NULL},
	    {".", NULL},
	    {"example.com..", NULL},
	    {".example.com", NULL},
	    {"a..b", NULL},
	    {"bad!char.example", NULL},
	    {"space .example", NULL},
	    {"*.example", NULL},
	    {"caf\xc3\xa9.example", NULL},
	    {"192.0.2.1", NULL},
	    {"192.0.2.1.", NULL},
	    {"foo.123", NULL},
	    {"foo.0x1f", NULL},
	    {"::1", NULL},
	};
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].in);
		if (cases[i].out == NULL) {
			if (name_normalise(buf) != -1)
				fail_msg("\"%s\" accepted", cases[i].in);
			continue;
		}
		if (name_normalise(buf) != 0)
			fail_msg("\"%s\" refused", cases[i].in);
		assert_string_equal(buf, cases[i].out);
	}
}

/* "aaa...a" labels of the given lengths, joined by dots. */
static void
name_of_labels(char *buf, size_t len, const size_t *labels, size_t n)
{
	size_t i, off;

	for (i = 0, off = 0; i < n; i++) {
		assert_true(off + labels[i] + 2 < len);
		if (i > 0)
			buf[off++] = '.';
		memset(buf + off, 'a' + i % 26, labels[i]);
		off += labels[i];
	}
	buf[off] = '\0';
}

static void
test_normalise_name_lengths(void **state)
{
	static const size_t l63[] = {63, 7};
	static const size_t l64[] = {64, 7};
	/* 63 * 3 + 61 + 3 dots = 253, and one more byte */
	static const size_t n253[] = {63, 63, 63, 61};
	static const size_t n254[] = {63, 63, 63, 62};
	char buf[512];

	name_of_labels(buf, sizeof(buf), l63, 2);
	assert_int_equal(name_normalise(buf), 0);
	name_of_labels(buf, sizeof(buf), l64, 2);
	assert_int_equal(name_normalise(buf), -1);

	name_of_labels(buf, sizeof(buf), n253, 4);
	assert_int_equal(strlen(buf), 253);
	assert_int_equal(name_normalise(buf), 0);
	strcat(buf, ".");
	assert_int_equal(name_normalise(buf), 0);
	assert_int_equal(strlen(buf), 253);

	name_of_labels(buf, sizeof(buf), n254, 4);
	assert_int_equal(strlen(buf), 254);
	assert_int_equal(name_normalise(buf), -1);
}

static void
test_name_source_str(void **state)
{
	assert_string_equal(name_source_str(NAME_SNI), "sni");
	assert_string_equal(name_source_str(NAME_HTTP), "http");
	assert_string_equal(name_source_str(NAME_NONE), "none");
	assert_string_equal(name_source_str((enum name_source)42), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_sni_tls13),
	    cmocka_unit_test(test_tls_sni_tls12),
	    cmocka_unit_test(test_tls_sni_uppercase),
	    cmocka_unit_test(test_tls_sni_trailing_dot),
	    cmocka_unit_test(test_tls_no_sni),
	    cmocka_unit_test(test_tls_sni_ip_literal),
	    cmocka_unit_test(test_tls_sni_bad_name),
	    cmocka_unit_test(test_tls_sni_bad_list),
	    cmocka_unit_test(test_tls_byte_by_byte),
	    cmocka_unit_test(test_tls_three_records),
	    cmocka_unit_test(test_tls_bytes_after_hello),
	    cmocka_unit_test(test_tls_big_hello),
	    cmocka_unit_test(test_tls_oversize),
	    cmocka_unit_test(test_tls_ech),
	    cmocka_unit_test(test_tls_garbage),
	    cmocka_unit_test(test_tls_lying_lengths),
	    cmocka_unit_test(test_tls_not_handshake),
	    cmocka_unit_test(test_tls_threads),
	    cmocka_unit_test(test_http_host),
	    cmocka_unit_test(test_http_no_host),
	    cmocka_unit_test(test_http_ip_host),
	    cmocka_unit_test(test_http_split),
	    cmocka_unit_test(test_http_absolute_target),
	    cmocka_unit_test(test_http_malformed),
	    cmocka_unit_test(test_http_too_long),
	    cmocka_unit_test(test_http_not_http),
	    cmocka_unit_test(test_other_protocols),
	    cmocka_unit_test(test_normalise_name),
	    cmocka_unit_test(test_normalise_name_lengths),
	    cmocka_unit_test(test_name_source_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
