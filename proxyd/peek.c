/*
 * peek.c - read the destination name from a connection's first bytes; see
 * peek.h.
 *
 * Every parser here reads untrusted bytes and answers complete / need more /
 * invalid.  Each is a pure function of the bytes it is given: a decision
 * taken on a prefix is the decision for any longer input, so the caller may
 * call again with more bytes without keeping state of ours.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/name.h"
#include "proxyd/peek.h"

/* TLS record layer (RFC 8446 5.1) and handshake framing (4). */
#define PEEK_TLS_RECORD_HEADER 5
#define PEEK_TLS_RECORD_MAX    (16384 + 256)
#define PEEK_TLS_HANDSHAKE     22
#define PEEK_TLS_MSG_HEADER    4
#define PEEK_TLS_CLIENT_HELLO  1
/* Record versions 0x0300-0x030f: SSL 3.0 to TLS 1.3 and room beyond. */
#define PEEK_TLS_VERSION_MAJOR 3
#define PEEK_TLS_VERSION_MINOR 0x0f

/* server_name (RFC 6066 3) and encrypted_client_hello (draft-ietf-tls-esni). */
#define PEEK_TLS_EXT_SNI      0
#define PEEK_TLS_SNI_HOSTNAME 0
#define PEEK_TLS_EXT_ECH      0xfe0d

/* An HTTP method token as clients send it: GET, POST, OPTIONS, ... */
#define PEEK_HTTP_METHOD_MIN 3
#define PEEK_HTTP_METHOD_MAX 10
/* The longest port after "host:". */
#define PEEK_HTTP_PORT_MAX 5

/*
 * One name source.  match() looks at the first byte only, which is enough
 * to route: a TLS record starts with 0x16, an HTTP request with an upper
 * case letter.  parse() fills info->name and leaves the rest of info to
 * peek_run(); it may set info->proto to "other" to say the bytes are not
 * its protocol after all.
 */
struct peek_proto {
	const char *name;
	enum name_source source;
	bool (*match)(uint8_t first);
	enum peek_result (*parse)(const uint8_t *buf, size_t len,
	                          struct peek_info *info);
	const char *too_long;
};

struct peek_span {
	const uint8_t *p;
	size_t n;
};

/* What the client-hello callback learnt, handed to it as app data. */
struct peek_tls_hello {
	struct peek_info *info;
	enum peek_result result;
	bool called;
};

static pthread_once_t peek_tls_once = PTHREAD_ONCE_INIT;
static SSL_CTX *peek_tls_ctx;

static int peek_tls_hello_cb(SSL *ssl, int *alert, void *arg);

const char *
name_source_str(enum name_source s)
{
	static const char *const words[NAME_SOURCE_COUNT] = {
	    [NAME_NONE] = "none",       [NAME_SNI] = "sni",
	    [NAME_HTTP] = "http",       [NAME_SOCKS] = "socks",
	    [NAME_CONNECT] = "connect", [NAME_FAKEIP] = "fakeip",
	    [NAME_DNS] = "dns",
	};

	if ((unsigned)s >= NAME_SOURCE_COUNT || words[s] == NULL)
		return "none";
	return words[s];
}

static bool
peek_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
peek_is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int
peek_lower(int c)
{
	return peek_is_upper(c) ? c - 'A' + 'a' : c;
}

/*
 * Turn a host as the client wrote it (n bytes at p, not NUL-terminated, may
 * hold NULs) into info->name.  Returns PEEK_DONE with info->name set or
 * left empty for an IP literal, or PEEK_INVALID with info->error = error.
 */
static enum peek_result
peek_set_name(const uint8_t *p, size_t n, struct peek_info *info,
              const char *error)
{
	char host[PEEK_NAME_MAX + 2];

	/* The longest name plus its trailing dot. */
	if (n == 0 || n >= sizeof(host) || memchr(p, '\0', n) != NULL)
		goto bad;
	memcpy(host, p, n);
	host[n] = '\0';
	if (name_is_ip_literal(host))
		return PEEK_DONE;
	if (name_normalise(host) == -1)
		goto bad;
	memcpy(info->name, host, strlen(host) + 1);
	return PEEK_DONE;
bad:
	info->error = error;
	return PEEK_INVALID;
}

/*
 * TLS.
 */

static bool
peek_tls_match(uint8_t first)
{
	return first == PEEK_TLS_HANDSHAKE;
}

/*
 * Walk the records in buf[0..len) until they hold the whole first handshake
 * message, which must be a ClientHello; OpenSSL reassembles it again, this
 * walk only decides when it has everything.  On PEEK_DONE *end is the end
 * of the record that completes the ClientHello: the bytes OpenSSL is given.
 * Each header byte is checked as soon as it arrives, so a stream that only
 * starts with 0x16 is refused early rather than waited on.
 */
static enum peek_result
peek_tls_records(const uint8_t *buf, size_t len, size_t *end,
                 struct peek_info *info)
{
	uint8_t msg[PEEK_TLS_MSG_HEADER];
	const uint8_t *rec;
	size_t off, avail, rlen, have, need, i;

	have = 0; /* handshake bytes seen */
	need = 0; /* the ClientHello's size, once its header is seen */
	for (off = 0; off < len; off += PEEK_TLS_RECORD_HEADER + rlen) {
		rec = buf + off;
		avail = len - off;
		if (rec[0] != PEEK_TLS_HANDSHAKE) {
			info->error = "not a TLS handshake record";
			return PEEK_INVALID;
		}
		if (avail > 1 && rec[1] != PEEK_TLS_VERSION_MAJOR) {
			info->error = "bad TLS record version";
			return PEEK_INVALID;
		}
		if (avail > 2 && rec[2] > PEEK_TLS_VERSION_MINOR) {
			info->error = "bad TLS record version";
			return PEEK_INVALID;
		}
		if (avail < PEEK_TLS_RECORD_HEADER)
			break;
		rlen = (size_t)rec[3] << 8 | rec[4];
		/* RFC 8446 5.1: no empty handshake fragments. */
		if (rlen == 0 || rlen > PEEK_TLS_RECORD_MAX) {
			info->error = "bad TLS record length";
			return PEEK_INVALID;
		}
		avail -= PEEK_TLS_RECORD_HEADER;
		if (avail > rlen)
			avail = rlen;
		for (i = 0; i < avail && have + i < PEEK_TLS_MSG_HEADER; i++)
			msg[have + i] = rec[PEEK_TLS_RECORD_HEADER + i];
		if (have + avail > 0 && msg[0] != PEEK_TLS_CLIENT_HELLO) {
			info->error = "first TLS handshake message is not a "
			              "ClientHello";
			return PEEK_INVALID;
		}
		if (need == 0 && have + avail >= PEEK_TLS_MSG_HEADER) {
			need = PEEK_TLS_MSG_HEADER + ((size_t)msg[1] << 16 |
			                              (size_t)msg[2] << 8 |
			                              msg[3]);
			if (need > PEEK_MAX_BYTES - PEEK_TLS_RECORD_HEADER) {
				info->error = "TLS ClientHello too long";
				return PEEK_INVALID;
			}
		}
		have += avail;
		if (avail < rlen)
			break;
		if (need != 0 && have >= need) {
			*end = off + PEEK_TLS_RECORD_HEADER + rlen;
			return PEEK_DONE;
		}
	}
	return PEEK_NEED_MORE;
}

/*
 * The one server context: a client-hello callback and nothing to serve,
 * since every handshake stops inside the callback.  ECH is registered as a
 * custom extension only because OpenSSL hides unknown extensions from
 * SSL_client_hello_get0_ext().
 */
static void
peek_tls_init(void)
{
	const char *reason;
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		reason = ERR_reason_error_string(ERR_peek_last_error());
		log_error("peek: SSL_CTX_new: %s",
		          reason != NULL ? reason : "unknown OpenSSL error");
		ERR_clear_error();
		return;
	}
	SSL_CTX_set_client_hello_cb(ctx, peek_tls_hello_cb, NULL);
	/* Fails only where OpenSSL knows ECH itself, and then shows it. */
	if (SSL_CTX_add_custom_ext(ctx, PEEK_TLS_EXT_ECH, SSL_EXT_CLIENT_HELLO,
	                           NULL, NULL, NULL, NULL, NULL) != 1)
		log_debug("peek: ECH left to OpenSSL's own extension table");
	ERR_clear_error();
	peek_tls_ctx = ctx;
}

/*
 * The server_name extension body: a 2-byte list length, then entries of
 * name_type, 2-byte length, name.  OpenSSL accepts exactly one host_name
 * entry and so do we: a second name would let us read one name while a
 * server reads another.
 */
static enum peek_result
peek_tls_sni(const uint8_t *ext, size_t len, struct peek_info *info)
{
	size_t list, n;

	if (len < 2)
		goto bad;
	list = (size_t)ext[0] << 8 | ext[1];
	if (list != len - 2 || list < 3 || ext[2] != PEEK_TLS_SNI_HOSTNAME)
		goto bad;
	n = (size_t)ext[3] << 8 | ext[4];
	if (n != list - 3)
		goto bad;
	return peek_set_name(ext + 5, n, info, "bad server name");
bad:
	info->error = "bad server_name extension";
	return PEEK_INVALID;
}

static int
peek_tls_hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct peek_tls_hello *h = SSL_get_app_data(ssl);
	const unsigned char *ext;
	size_t len;

	h->called = true;
	h->info->ech =
	    SSL_client_hello_get0_ext(ssl, PEEK_TLS_EXT_ECH, &ext, &len) == 1;
	if (SSL_client_hello_get0_ext(ssl, PEEK_TLS_EXT_SNI, &ext, &len) == 1)
		h->result = peek_tls_sni(ext, len, h->info);
	else
		h->result = PEEK_DONE;
	/* The alert goes to a null BIO: the client never sees it. */
	*alert = SSL_AD_HANDSHAKE_FAILURE;
	return SSL_CLIENT_HELLO_ERROR;
}

/*
 * Let OpenSSL parse the ClientHello in buf[0..len) (whole records): it
 * reads it from a memory BIO over the caller's bytes, calls
 * peek_tls_hello_cb() and stops there.  Whatever it writes goes to a null
 * BIO.  OpenSSL refusing the ClientHello before the callback means it is
 * malformed.
 */
static enum peek_result
peek_tls_hello(const uint8_t *buf, size_t len, struct peek_info *info)
{
	struct peek_tls_hello h;
	enum peek_result r;
	SSL *ssl = NULL;
	BIO *rbio = NULL, *wbio = NULL;

	h.info = info;
	h.result = PEEK_INVALID;
	h.called = false;
	r = PEEK_INVALID;
	if (pthread_once(&peek_tls_once, peek_tls_init) != 0 ||
	    peek_tls_ctx == NULL) {
		info->error = "TLS parser unavailable";
		return PEEK_INVALID;
	}
	if ((ssl = SSL_new(peek_tls_ctx)) == NULL ||
	    (rbio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (wbio = BIO_new(BIO_s_null())) == NULL) {
		info->error = "TLS parser out of memory";
		goto done;
	}
	SSL_set_bio(ssl, rbio, wbio);
	rbio = wbio = NULL;
	SSL_set_app_data(ssl, &h);
	if (SSL_accept(ssl) == 1 || !h.called) {
		info->error = "malformed TLS ClientHello";
		goto done;
	}
	r = h.result;
done:
	BIO_free(rbio);
	BIO_free(wbio);
	SSL_free(ssl);
	/* OpenSSL's queue is per thread: leave nothing for the next caller. */
	ERR_clear_error();
	return r;
}

static enum peek_result
peek_tls_parse(const uint8_t *buf, size_t len, struct peek_info *info)
{
	enum peek_result r;
	size_t end;

	if ((r = peek_tls_records(buf, len, &end, info)) != PEEK_DONE)
		return r;
	return peek_tls_hello(buf, end, info);
}

/*
 * HTTP/1.x (RFC 9112).
 *
 * The whole request head is read, up to the empty line, rather than
 * stopping at the Host line: only then can a second Host header, or a
 * request target naming another host, be refused.  Clients send the head
 * in one go before waiting for an answer, so nothing is delayed.
 */

/* RFC 9112 2.2: servers skip empty lines before the request line. */
static bool
peek_http_is_eol(uint8_t c)
{
	return c == '\r' || c == '\n';
}

static bool
peek_http_match(uint8_t first)
{
	return peek_is_upper(first) || peek_http_is_eol(first);
}

/* RFC 9110 5.6.2 tchar: the bytes of a header field name. */
static bool
peek_http_is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       peek_is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
peek_span_eq(struct peek_span s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* lit is lower case. */
static bool
peek_span_prefix_icase(struct peek_span s, const char *lit)
{
	size_t i, n;

	n = strlen(lit);
	if (s.n < n)
		return false;
	for (i = 0; i < n; i++)
		if (peek_lower(s.p[i]) != lit[i])
			return false;
	return true;
}

/*
 * The line starting at buf[pos]: on PEEK_DONE *line is its text without
 * "\r\n" or "\n" and *next where the following line starts.  Bytes are
 * checked as they arrive, so a binary stream is refused before the bound:
 * no control bytes but HTAB, and CR only right before LF.
 */
static enum peek_result
peek_http_line(const uint8_t *buf, size_t len, size_t pos,
               struct peek_span *line, size_t *next, struct peek_info *info)
{
	size_t i;

	for (i = pos; i < len; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			line->p = buf + pos;
			line->n = i - pos;
			if (buf[i] == '\r') {
				if (i + 1 == len)
					return PEEK_NEED_MORE;
				if (buf[++i] != '\n')
					break;
			}
			*next = i + 1;
			return PEEK_DONE;
		}
		if ((buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f)
			break;
	}
	if (i == len)
		return PEEK_NEED_MORE;
	info->error = "control byte in HTTP request head";
	return PEEK_INVALID;
}

/*
 * The request line: METHOD SP target SP HTTP/1.x.  Until the third field
 * starts with "HTTP/", a mismatch is some other line-based protocol (an IRC
 * client's "NICK x" also starts with an upper case word), so *is_http stays
 * false and the connection is decided on its IP; after that, a mismatch is
 * malformed HTTP.  The HTTP/2 connection preface is not HTTP/1.x either.
 */
static enum peek_result
peek_http_request_line(const uint8_t *buf, size_t len, size_t *next,
                       struct peek_span *method, struct peek_span *target,
                       bool *is_http, struct peek_info *info)
{
	struct peek_span line, version;
	enum peek_result r;
	const uint8_t *sp;
	size_t i;

	*is_http = false;
	for (i = 0; i < len && i <= PEEK_HTTP_METHOD_MAX; i++)
		if (!peek_is_upper(buf[i]))
			break;
	if (i > PEEK_HTTP_METHOD_MAX)
		return PEEK_DONE;
	if (i == len)
		return PEEK_NEED_MORE;
	if (buf[i] != ' ' || i < PEEK_HTTP_METHOD_MIN)
		return PEEK_DONE;
	method->p = buf;
	method->n = i;
	r = peek_http_line(buf, len, i + 1, &line, next, info);
	if (r != PEEK_DONE)
		return r;
	if ((sp = memchr(line.p, ' ', line.n)) == NULL || sp == line.p)
		return PEEK_DONE;
	target->p = line.p;
	target->n = sp - line.p;
	version.p = sp + 1;
	version.n = line.n - target->n - 1;
	/* RFC 9112 2.3: "HTTP" is case-sensitive. */
	if (version.n < 5 || memcmp(version.p, "HTTP/", 5) != 0)
		return PEEK_DONE;
	if (peek_span_eq(*method, "PRI") && peek_span_eq(*target, "*") &&
	    peek_span_eq(version, "HTTP/2.0"))
		return PEEK_DONE;
	*is_http = true;
	if (version.n != 8 || version.p[5] != '1' || version.p[6] != '.' ||
	    !peek_is_digit(version.p[7])) {
		info->error = "unsupported HTTP version";
		return PEEK_INVALID;
	}
	return PEEK_DONE;
}

/*
 * A host as HTTP writes it, in the Host header or a request target:
 * "name", "name:port", "IPv4[:port]" or "[IPv6][:port]".  Sets info->name,
 * or leaves it empty for an IP literal or an empty Host.
 */
static enum peek_result
peek_http_host(struct peek_span s, struct peek_info *info)
{
	const uint8_t *colon;
	char ip6[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	size_t hostlen, i;

	if (s.n == 0)
		return PEEK_DONE;
	if (s.p[0] == '[') {
		colon = memchr(s.p, ']', s.n);
		if (colon == NULL || (size_t)(colon - s.p) - 1 >= sizeof(ip6))
			goto bad;
		hostlen = colon - s.p - 1;
		memcpy(ip6, s.p + 1, hostlen);
		ip6[hostlen] = '\0';
		if (inet_pton(AF_INET6, ip6, &a6) != 1)
			goto bad;
		colon++;
		if (colon != s.p + s.n && *colon != ':')
			goto bad;
	} else {
		colon = memchr(s.p, ':', s.n);
		hostlen = colon == NULL ? s.n : (size_t)(colon - s.p);
	}
	if (colon != NULL && colon != s.p + s.n) {
		/* RFC 3986 3.2.3: port = *DIGIT */
		if (s.p + s.n - colon - 1 > PEEK_HTTP_PORT_MAX)
			goto bad;
		for (i = 1; colon + i < s.p + s.n; i++)
			if (!peek_is_digit(colon[i]))
				goto bad;
	}
	if (s.p[0] == '[')
		return PEEK_DONE;
	return peek_set_name(s.p, hostlen, info, "bad HTTP Host");
bad:
	info->error = "bad HTTP Host";
	return PEEK_INVALID;
}

/*
 * The authority a request target names, if any: all of a CONNECT target,
 * or what follows "http://" or "https://" up to the path.  A server takes
 * the host from there rather than from the Host header (RFC 9112 3.2.2).
 */
static bool
peek_http_authority(struct peek_span method, struct peek_span target,
                    struct peek_span *authority)
{
	size_t skip, i;

	if (peek_span_eq(method, "CONNECT")) {
		*authority = target;
		return true;
	}
	if (peek_span_prefix_icase(target, "http://"))
		skip = 7;
	else if (peek_span_prefix_icase(target, "https://"))
		skip = 8;
	else
		return false;
	for (i = skip; i < target.n; i++)
		if (target.p[i] == '/' || target.p[i] == '?' ||
		    target.p[i] == '#')
			break;
	authority->p = target.p + skip;
	authority->n = i - skip;
	return true;
}

/* The name of the request: its target's authority and Host must agree. */
static enum peek_result
peek_http_name(struct peek_span method, struct peek_span target,
               const struct peek_span *host, struct peek_info *info)
{
	struct peek_info from_target;
	struct peek_span authority;
	enum peek_result r;

	if (!peek_http_authority(method, target, &authority))
		return host == NULL ? PEEK_DONE : peek_http_host(*host, info);
	memset(&from_target, 0, sizeof(from_target));
	if ((r = peek_http_host(authority, &from_target)) != PEEK_DONE) {
		info->error = "bad HTTP request target";
		return r;
	}
	if (host != NULL) {
		if ((r = peek_http_host(*host, info)) != PEEK_DONE)
			return r;
		if (strcmp(info->name, from_target.name) != 0) {
			info->error = "HTTP Host does not match request target";
			return PEEK_INVALID;
		}
	}
	memcpy(info->name, from_target.name, sizeof(info->name));
	return PEEK_DONE;
}

static enum peek_result
peek_http_parse(const uint8_t *buf, size_t len, struct peek_info *info)
{
	struct peek_span method, target, line, host, name;
	enum peek_result r;
	bool is_http, have_host;
	size_t pos, i;

	/* Skipped as servers do (nginx takes any run of CR and LF), so a
	 * leading empty line cannot hide the Host from the rules. */
	for (i = 0; i < len && peek_http_is_eol(buf[i]); i++)
		;
	if (i == len)
		return PEEK_NEED_MORE;
	buf += i;
	len -= i;
	r = peek_http_request_line(buf, len, &pos, &method, &target, &is_http,
	                           info);
	if (r != PEEK_DONE)
		return r;
	if (!is_http) {
		info->proto = "other";
		return PEEK_DONE;
	}
	have_host = false;
	for (;;) {
		if ((r = peek_http_line(buf, len, pos, &line, &pos, info)) !=
		    PEEK_DONE)
			return r;
		if (line.n == 0)
			break;
		/* RFC 9112 5.2: obsolete line folding may be refused. */
		if (line.p[0] == ' ' || line.p[0] == '\t') {
			info->error = "folded HTTP header line";
			return PEEK_INVALID;
		}
		for (i = 0; i < line.n && peek_http_is_tchar(line.p[i]); i++)
			;
		/* RFC 9112 5.1: no white space before the colon either. */
		if (i == 0 || i == line.n || line.p[i] != ':') {
			info->error = "bad HTTP header line";
			return PEEK_INVALID;
		}
		name.p = line.p;
		name.n = i;
		/* Field names are case-insensitive (RFC 9110 5.1). */
		if (name.n != strlen("host") ||
		    !peek_span_prefix_icase(name, "host"))
			continue;
		if (have_host) {
			info->error = "duplicate HTTP Host header";
			return PEEK_INVALID;
		}
		have_host = true;
		host.p = line.p + i + 1;
		host.n = line.n - i - 1;
		while (host.n > 0 && (host.p[0] == ' ' || host.p[0] == '\t')) {
			host.p++;
			host.n--;
		}
		while (host.n > 0 && (host.p[host.n - 1] == ' ' ||
		                      host.p[host.n - 1] == '\t'))
			host.n--;
	}
	return peek_http_name(method, target, have_host ? &host : NULL, info);
}

/*
 * The table, and running one row.
 */

static const struct peek_proto peek_protos[] = {
    {"tls", NAME_SNI, peek_tls_match, peek_tls_parse,
     "TLS ClientHello too long"},
    {"http", NAME_HTTP, peek_http_match, peek_http_parse,
     "HTTP request head too long"},
};

static void
peek_info_reset(struct peek_info *info, const char *proto)
{
	memset(info, 0, sizeof(*info));
	info->source = NAME_NONE;
	info->proto = proto;
}

/* The contract of peek.h around one row's parse(), in one place. */
static enum peek_result
peek_run(const struct peek_proto *p, const uint8_t *buf, size_t len,
         struct peek_info *info)
{
	enum peek_result r;

	peek_info_reset(info, p->name);
	if (len == 0)
		return PEEK_NEED_MORE;
	/* Only the first PEEK_MAX_BYTES count: the decision is the same
	 * whenever the caller looks. */
	if (len > PEEK_MAX_BYTES)
		len = PEEK_MAX_BYTES;
	r = p->parse(buf, len, info);
	if (r == PEEK_NEED_MORE && len == PEEK_MAX_BYTES) {
		info->error = p->too_long;
		r = PEEK_INVALID;
	}
	if (r == PEEK_DONE && info->name[0] != '\0')
		info->source = p->source;
	else
		info->name[0] = '\0';
	if (r != PEEK_INVALID)
		info->error = NULL;
	else if (info->error == NULL)
		info->error = "malformed";
	return r;
}

enum peek_result
peek_tls(const uint8_t *buf, size_t len, struct peek_info *info)
{
	return peek_run(&peek_protos[0], buf, len, info);
}

enum peek_result
peek_http(const uint8_t *buf, size_t len, struct peek_info *info)
{
	return peek_run(&peek_protos[1], buf, len, info);
}

enum peek_result
peek_name(const uint8_t *buf, size_t len, struct peek_info *info)
{
	size_t i;

	peek_info_reset(info, "other");
	if (len == 0)
		return PEEK_NEED_MORE;
	for (i = 0; i < sizeof(peek_protos) / sizeof(peek_protos[0]); i++)
		if (peek_protos[i].match(buf[0]))
			return peek_run(&peek_protos[i], buf, len, info);
	return PEEK_DONE;
}
