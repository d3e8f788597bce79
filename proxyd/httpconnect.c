/*
 * httpconnect.c - the HTTP CONNECT front's parser and responses; see
 * httpconnect.h.
 *
 * The head is read a line at a time, each line checked as its bytes
 * arrive, and the request line decided as soon as it ends: so a client
 * that speaks something else is refused on its first bytes, not after
 * HTTP_CONNECT_HEAD_MAX of them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyd/httpconnect.h"
#include "proxyd/socks.h"

/* The longest port: "65535". */
#define HC_PORT_DIGITS 5
/* The longest "user:pass" of a Basic credential, and the longest base64
 * that decodes to no more. */
#define HC_CRED_MAX   (2 * 255 + 1)
#define HC_BASE64_MAX ((HC_CRED_MAX + 2) / 3 * 4)

struct hc_span {
	const uint8_t *p;
	size_t n;
};

/* What hc_line() found. */
enum hc_line_result { HC_LINE_MORE, HC_LINE_DONE, HC_LINE_BAD };

static bool
hc_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
hc_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 5.6.2: a token's bytes (method, header name, auth scheme). */
static bool
hc_is_tchar(int c)
{
	return hc_is_alpha(c) || hc_is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 3986 3.2.2 reg-name: unreserved, pct-encoded and sub-delims. */
static bool
hc_is_regname(int c)
{
	return hc_is_alpha(c) || hc_is_digit(c) ||
	       (c != '\0' && strchr("-._~%!$&'()*+,;=", c) != NULL);
}

static int
hc_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s equals the lower case lit, ignoring case. */
static bool
hc_span_is(struct hc_span s, const char *lit)
{
	size_t i;

	if (s.n != strlen(lit))
		return false;
	for (i = 0; i < s.n; i++)
		if (hc_lower(s.p[i]) != lit[i])
			return false;
	return true;
}

static void
hc_trim(struct hc_span *s)
{
	while (s->n > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
		s->p++;
		s->n--;
	}
	while (s->n > 0 && (s->p[s->n - 1] == ' ' || s->p[s->n - 1] == '\t'))
		s->n--;
}

/* Refused: nothing of what was read is kept but why. */
static enum hc_result
hc_refuse(struct hc_request *req, int status, const char *error)
{
	memset(req, 0, sizeof(*req));
	req->addr.ss_family = AF_UNSPEC;
	req->status = status;
	req->error = error;
	return HC_INVALID;
}

/*
 * The line at buf[pos..len): on HC_LINE_DONE *line is its text without
 * its CRLF or LF, and *next where the next line starts.  No control bytes
 * but HTAB, and CR only at the end; a CR that is the last byte so far
 * waits for its LF.
 */
static enum hc_line_result
hc_line(const uint8_t *buf, size_t len, size_t pos, struct hc_span *line,
        size_t *next)
{
	const uint8_t *p, *lf;
	size_t n, i;

	p = buf + pos;
	lf = memchr(p, '\n', len - pos);
	n = lf != NULL ? (size_t)(lf - p) : len - pos;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 == n)
			continue;
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return HC_LINE_BAD;
	}
	if (lf == NULL)
		return HC_LINE_MORE;
	line->p = p;
	line->n = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
	*next = pos + n + 1;
	return HC_LINE_DONE;
}

/* "1" to "65535", no sign, at most HC_PORT_DIGITS digits. */
static int
hc_port(struct hc_span s, uint16_t *port)
{
	unsigned long v;
	size_t i;

	if (s.n == 0 || s.n > HC_PORT_DIGITS)
		return -1;
	for (i = 0, v = 0; i < s.n; i++) {
		if (!hc_is_digit(s.p[i]))
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* The authority-form target: "[IPv6]:port", "IPv4:port", "name:port". */
static enum hc_result
hc_target(struct hc_span t, struct hc_request *req)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&req->addr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&req->addr;
	struct hc_span host, port;
	const uint8_t *colon;
	size_t i;

	if (t.n > 0 && t.p[0] == '[') {
		colon = memchr(t.p, ']', t.n);
		if (colon == NULL || colon + 1 == t.p + t.n || colon[1] != ':')
			goto bad;
		host.p = t.p + 1;
		host.n = colon - host.p;
		colon++;
	} else {
		colon = memrchr(t.p, ':', t.n);
		if (colon == NULL)
			return hc_refuse(req, 400,
			                 "CONNECT target without port");
		host.p = t.p;
		host.n = colon - t.p;
	}
	port.p = colon + 1;
	port.n = t.p + t.n - port.p;
	if (hc_port(port, &req->port) == -1)
		return hc_refuse(req, 400, "bad port in CONNECT target");
	if (host.n == 0 || host.n >= sizeof(req->host))
		goto bad;
	memcpy(req->host, host.p, host.n);
	req->host[host.n] = '\0';
	if (t.p[0] == '[') {
		if (inet_pton(AF_INET6, req->host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(req->port);
		req->host_is_ip = true;
		return HC_REQUEST;
	}
	for (i = 0; i < host.n; i++)
		if (!hc_is_regname(host.p[i]))
			goto bad;
	if (inet_pton(AF_INET, req->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(req->port);
		req->host_is_ip = true;
	}
	return HC_REQUEST;
bad:
	return hc_refuse(req, 400, "bad host in CONNECT target");
}

/*
 * "METHOD SP target SP HTTP/1.x".  HC_REQUEST means a CONNECT line whose
 * target is read; anything else is refused here.
 */
static enum hc_result
hc_request_line(struct hc_span line, struct hc_request *req)
{
	struct hc_span method, target, version;
	const uint8_t *sp;
	size_t i;

	sp = memchr(line.p, ' ', line.n);
	if (sp == NULL || sp == line.p)
		return hc_refuse(req, 400, "not an HTTP request line");
	method.p = line.p;
	method.n = sp - line.p;
	target.p = sp + 1;
	sp = memchr(target.p, ' ', line.p + line.n - target.p);
	if (sp == NULL || sp == target.p)
		return hc_refuse(req, 400, "not an HTTP request line");
	target.n = sp - target.p;
	version.p = sp + 1;
	version.n = line.p + line.n - version.p;
	for (i = 0; i < method.n; i++)
		if (!hc_is_tchar(method.p[i]))
			return hc_refuse(req, 400, "not an HTTP request line");
	/* RFC 9112 2.3: "HTTP" is case-sensitive. */
	if (version.n < 5 || memcmp(version.p, "HTTP/", 5) != 0 ||
	    memchr(version.p, ' ', version.n) != NULL)
		return hc_refuse(req, 400, "not an HTTP request line");
	if (version.n != 8 || version.p[5] != '1' || version.p[6] != '.' ||
	    !hc_is_digit(version.p[7]))
		return hc_refuse(req, 505, "HTTP version not 1.x");
	/* Method names are case-sensitive (RFC 9110 9.1). */
	if (method.n != 7 || memcmp(method.p, "CONNECT", 7) != 0)
		return hc_refuse(req, 405, "not a CONNECT request");
	return hc_target(target, req);
}

static int
hc_base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (hc_is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode padded base64 (RFC 4648 4) in s into out[0..cap); the bits a
 * padded quantum does not use must be zero.  Returns the length, or -1.
 */
static long
hc_base64(struct hc_span s, uint8_t *out, size_t cap)
{
	unsigned long bits;
	size_t i, pad, n;
	int v;

	if (s.n == 0 || s.n % 4 != 0)
		return -1;
	pad = s.p[s.n - 1] != '=' ? 0 : s.p[s.n - 2] != '=' ? 1 : 2;
	if ((s.n / 4) * 3 - pad > cap)
		return -1;
	for (i = 0, n = 0, bits = 0; i < s.n - pad; i++) {
		if ((v = hc_base64_value(s.p[i])) == -1)
			return -1;
		bits = bits << 6 | (unsigned long)v;
		if (i % 4 == 3) {
			out[n++] = bits >> 16;
			out[n++] = (bits >> 8) & 0xff;
			out[n++] = bits & 0xff;
			bits = 0;
		}
	}
	if (pad == 2) {
		if ((bits & 0x0f) != 0)
			return -1;
		out[n++] = bits >> 4;
	} else if (pad == 1) {
		if ((bits & 0x03) != 0)
			return -1;
		out[n++] = bits >> 10;
		out[n++] = (bits >> 2) & 0xff;
	}
	return (long)n;
}

/* "Basic" SP base64(user ":" pass); another scheme is left alone. */
static enum hc_result
hc_proxy_auth(struct hc_span v, struct hc_request *req)
{
	uint8_t cred[HC_CRED_MAX];
	struct hc_span scheme, token;
	const uint8_t *colon;
	size_t i, ulen, plen;
	long n;

	for (i = 0; i < v.n && hc_is_tchar(v.p[i]); i++)
		;
	scheme.p = v.p;
	scheme.n = i;
	if (!hc_span_is(scheme, "basic"))
		return i == 0 ? hc_refuse(req, 400, "bad Proxy-Authorization")
		              : HC_REQUEST;
	token.p = v.p + i;
	token.n = v.n - i;
	if (token.n == 0 || (token.p[0] != ' ' && token.p[0] != '\t'))
		return hc_refuse(req, 400, "bad Proxy-Authorization");
	hc_trim(&token);
	if (token.n > HC_BASE64_MAX)
		return hc_refuse(req, 400, "Proxy-Authorization too long");
	if ((n = hc_base64(token, cred, sizeof(cred))) == -1)
		return hc_refuse(req, 400, "bad base64 in Proxy-Authorization");
	if (memchr(cred, '\0', n) != NULL)
		return hc_refuse(req, 400, "NUL in Proxy-Authorization");
	colon = memchr(cred, ':', n);
	ulen = colon != NULL ? (size_t)(colon - cred) : (size_t)n;
	plen = colon != NULL ? (size_t)n - ulen - 1 : 0;
	if (ulen >= sizeof(req->user) || plen >= sizeof(req->pass))
		return hc_refuse(req, 400, "Proxy-Authorization too long");
	memcpy(req->user, cred, ulen);
	req->user[ulen] = '\0';
	if (colon != NULL)
		memcpy(req->pass, colon + 1, plen);
	req->pass[plen] = '\0';
	req->auth = true;
	return HC_REQUEST;
}

/* One header line; *seen_auth: a Proxy-Authorization came before. */
static enum hc_result
hc_header(struct hc_span line, bool *seen_auth, struct hc_request *req)
{
	struct hc_span name, value;
	size_t i;

	/* RFC 9112 5.2: obsolete line folding may be refused. */
	if (line.p[0] == ' ' || line.p[0] == '\t')
		return hc_refuse(req, 400, "folded HTTP header line");
	for (i = 0; i < line.n && hc_is_tchar(line.p[i]); i++)
		;
	/* RFC 9112 5.1: no white space before the colon either. */
	if (i == 0 || i == line.n || line.p[i] != ':')
		return hc_refuse(req, 400, "bad HTTP header line");
	name.p = line.p;
	name.n = i;
	if (!hc_span_is(name, "proxy-authorization"))
		return HC_REQUEST;
	if (*seen_auth)
		return hc_refuse(req, 400, "two Proxy-Authorization headers");
	*seen_auth = true;
	value.p = line.p + i + 1;
	value.n = line.n - i - 1;
	hc_trim(&value);
	return hc_proxy_auth(value, req);
}

enum hc_result
hc_parse(const uint8_t *buf, size_t len, struct hc_request *req)
{
	enum hc_line_result lr;
	enum hc_result r;
	struct hc_span line;
	size_t pos, next;
	bool seen_auth;

	memset(req, 0, sizeof(*req));
	req->addr.ss_family = AF_UNSPEC;
	/* Only the first HTTP_CONNECT_HEAD_MAX bytes count: the decision
	 * is the same whenever the caller looks. */
	if (len > HTTP_CONNECT_HEAD_MAX)
		len = HTTP_CONNECT_HEAD_MAX;
	lr = hc_line(buf, len, 0, &line, &next);
	if (lr == HC_LINE_BAD)
		return hc_refuse(req, 400, "control byte in HTTP request line");
	if (lr == HC_LINE_MORE)
		return len < HTTP_CONNECT_HEAD_MAX
		           ? HC_NEED_MORE
		           : hc_refuse(req, 414, "HTTP request line too long");
	if ((r = hc_request_line(line, req)) != HC_REQUEST)
		return r;
	seen_auth = false;
	for (pos = next;; pos = next) {
		lr = hc_line(buf, len, pos, &line, &next);
		if (lr == HC_LINE_BAD)
			return hc_refuse(req, 400,
			                 "control byte in HTTP header");
		if (lr == HC_LINE_MORE)
			break;
		if (line.n == 0) {
			req->head_len = next;
			return HC_REQUEST;
		}
		if ((r = hc_header(line, &seen_auth, req)) != HC_REQUEST)
			return r;
	}
	if (len == HTTP_CONNECT_HEAD_MAX)
		return hc_refuse(req, 431, "HTTP request head too long");
	/* Whatever was read is not the request yet. */
	memset(req, 0, sizeof(*req));
	req->addr.ss_family = AF_UNSPEC;
	return HC_NEED_MORE;
}

/*
 * Responses.
 */

struct hc_status {
	int status;
	const char *reason;
	const char *body; /* one line, without its LF; NULL for none */
};

static const struct hc_status hc_statuses[] = {
    {200, "Connection established", NULL},
    {400, "Bad Request", "tollgate: malformed proxy request"},
    {403, "Forbidden", "tollgate: the firewall denied this connection"},
    {405, "Method Not Allowed",
     "tollgate: only CONNECT is supported; use this proxy for https or set "
     "it as a CONNECT/SOCKS proxy"},
    {414, "URI Too Long", "tollgate: request line too long"},
    {431, "Request Header Fields Too Large", "tollgate: request head too long"},
    {500, "Internal Server Error", "tollgate: internal error"},
    {502, "Bad Gateway", "tollgate: the connection onward failed"},
    {503, "Service Unavailable", "tollgate: busy, try again later"},
    {504, "Gateway Timeout",
     "tollgate: the connection onward did not complete in time"},
    {505, "HTTP Version Not Supported", "tollgate: only HTTP/1.x is spoken"},
};

static const struct hc_status *
hc_status_find(int status)
{
	size_t i;

	for (i = 0; i < sizeof(hc_statuses) / sizeof(hc_statuses[0]); i++)
		if (hc_statuses[i].status == status)
			return &hc_statuses[i];
	return NULL;
}

size_t
hc_response(int status, char *out, size_t cap)
{
	const struct hc_status *st;
	int n;

	if ((st = hc_status_find(status)) == NULL)
		st = hc_status_find(500);
	if (st->body == NULL)
		n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n\r\n", st->status,
		             st->reason);
	else
		n = snprintf(out, cap,
		             "HTTP/1.1 %d %s\r\n"
		             "%s"
		             "Connection: close\r\n"
		             "Content-Type: text/plain\r\n"
		             "Content-Length: %zu\r\n"
		             "\r\n"
		             "%s\n",
		             st->status, st->reason,
		             st->status == 405 ? "Allow: CONNECT\r\n" : "",
		             strlen(st->body) + 1, st->body);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return n;
}

int
hc_status_for_socks(uint8_t code)
{
	switch (code) {
	case SOCKS_OK:
		return 200;
	case SOCKS_NOT_ALLOWED:
		return 403;
	case SOCKS_TTL:
	case SOCKS_TOR_INTRO_TIMEOUT:
		return 504;
	default:
		return 502;
	}
}
