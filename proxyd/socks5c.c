/*
 * socks5c.c - the client side of SOCKS5 toward an upstream (RFC 1928,
 * RFC 1929), one round trip at a time.  The requests are built whole by
 * s5c_start(); each answer is parsed from its first byte every time it is
 * fed, so a NEED_MORE keeps no partial state.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/be.h"
#include "proxyd/socks5c.h"

#define S5C_VERSION      0x05
#define S5C_AUTH_VERSION 0x01
#define S5C_CMD_CONNECT  0x01
#define S5C_ATYP_IPV4    0x01
#define S5C_ATYP_NAME    0x03
#define S5C_ATYP_IPV6    0x04
#define S5C_METHOD_NONE  0x00
#define S5C_METHOD_USER  0x02

/* VER REP RSV ATYP, before the address. */
#define S5C_REPLY_HEAD 4

static const struct {
	uint8_t code;
	const char *text;
} s5c_codes[] = {
    {S5C_REP_SUCCEEDED, "succeeded"},
    {S5C_REP_GENERAL_FAILURE, "general failure"},
    {S5C_REP_NOT_ALLOWED, "connection not allowed by ruleset"},
    {S5C_REP_NET_UNREACHABLE, "network unreachable"},
    {S5C_REP_HOST_UNREACHABLE, "host unreachable"},
    {S5C_REP_CONN_REFUSED, "connection refused"},
    {S5C_REP_TTL_EXPIRED, "TTL expired"},
    {S5C_REP_CMD_UNSUPPORTED, "command not supported"},
    {S5C_REP_ATYP_UNSUPPORTED, "address type not supported"},
    {0xF0, "onion service descriptor can not be found"},
    {0xF1, "onion service descriptor is invalid"},
    {0xF2, "onion service introduction failed"},
    {0xF3, "onion service rendezvous failed"},
    {0xF4, "onion service missing client authorization"},
    {0xF5, "onion service wrong client authorization"},
    {0xF6, "onion service invalid address"},
    {0xF7, "onion service introduction timed out"},
    {S5C_REP_NO_METHOD, "no acceptable authentication method"},
};

const char *
s5c_code_str(uint8_t code)
{
	static __thread char unknown[sizeof("unknown code 0xNN")];
	size_t i;

	for (i = 0; i < sizeof(s5c_codes) / sizeof(s5c_codes[0]); i++)
		if (s5c_codes[i].code == code)
			return s5c_codes[i].text;
	snprintf(unknown, sizeof(unknown), "unknown code 0x%02X", code);
	return unknown;
}

static int
s5c_bad(struct s5c *c, const char *why)
{
	c->error = why;
	return -1;
}

/* The CONNECT request for name:port, or for dst when name is NULL. */
static int
s5c_build_request(struct s5c *c, const char *name, const struct sockaddr *dst,
                  uint16_t port)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	uint8_t *p = c->req;
	size_t n;

	p[0] = S5C_VERSION;
	p[1] = S5C_CMD_CONNECT;
	p[2] = 0x00;
	if (name != NULL) {
		n = strnlen(name, S5C_FIELD_MAX + 1);
		if (n == 0 || n > S5C_FIELD_MAX)
			return s5c_bad(c, "upstream: name is not 1-255 bytes");
		if (port == 0)
			return s5c_bad(c, "upstream: port 0");
		p[3] = S5C_ATYP_NAME;
		p[4] = n;
		memcpy(p + 5, name, n);
		be16_put(p + 5 + n, port);
		c->req_len = 5 + n + 2;
		return 0;
	}
	if (dst == NULL)
		return s5c_bad(c, "upstream: neither a name nor an address");
	if (dst->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)dst;
		p[3] = S5C_ATYP_IPV4;
		memcpy(p + 4, &sin->sin_addr, 4);
		memcpy(p + 8, &sin->sin_port, 2);
		c->req_len = 10;
	} else if (dst->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)dst;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			p[3] = S5C_ATYP_IPV4;
			memcpy(p + 4, sin6->sin6_addr.s6_addr + 12, 4);
			memcpy(p + 8, &sin6->sin6_port, 2);
			c->req_len = 10;
		} else {
			p[3] = S5C_ATYP_IPV6;
			memcpy(p + 4, &sin6->sin6_addr, 16);
			memcpy(p + 20, &sin6->sin6_port, 2);
			c->req_len = 22;
		}
	} else
		return s5c_bad(c, "upstream: address is not IPv4 or IPv6");
	if (p[c->req_len - 2] == 0 && p[c->req_len - 1] == 0)
		return s5c_bad(c, "upstream: port 0");
	return 0;
}

/* The RFC 1929 request; pass NULL is an empty password. */
static int
s5c_build_auth(struct s5c *c, const char *user, const char *pass)
{
	size_t ulen, plen;

	ulen = strnlen(user, S5C_FIELD_MAX + 1);
	plen = pass == NULL ? 0 : strnlen(pass, S5C_FIELD_MAX + 1);
	if (ulen == 0 || ulen > S5C_FIELD_MAX)
		return s5c_bad(c, "upstream: username is not 1-255 bytes");
	if (plen > S5C_FIELD_MAX)
		return s5c_bad(c, "upstream: password is over 255 bytes");
	c->auth[0] = S5C_AUTH_VERSION;
	c->auth[1] = ulen;
	memcpy(c->auth + 2, user, ulen);
	c->auth[2 + ulen] = plen;
	if (plen > 0)
		memcpy(c->auth + 3 + ulen, pass, plen);
	c->auth_len = 3 + ulen + plen;
	return 0;
}

static void
s5c_send(struct s5c *c, const uint8_t *msg, size_t len)
{
	memcpy(c->out, msg, len);
	c->out_len = len;
}

int
s5c_start(struct s5c *c, const char *user, const char *pass, const char *name,
          const struct sockaddr *dst, uint16_t port)
{
	uint8_t greeting[3];

	memset(c, 0, sizeof(*c));
	c->phase = S5C_PHASE_DONE;
	if (user != NULL && s5c_build_auth(c, user, pass) == -1)
		return -1;
	if (s5c_build_request(c, name, dst, port) == -1)
		return -1;
	c->method = user != NULL ? S5C_METHOD_USER : S5C_METHOD_NONE;
	greeting[0] = S5C_VERSION;
	greeting[1] = 1;
	greeting[2] = c->method;
	s5c_send(c, greeting, sizeof(greeting));
	c->bound.ss_family = AF_UNSPEC;
	c->phase = S5C_PHASE_METHOD;
	return 0;
}

static enum s5c_step
s5c_invalid(struct s5c *c, const char *why)
{
	c->phase = S5C_PHASE_DONE;
	c->error = why;
	return S5C_INVALID;
}

/* A refusal with code; its words are why, or the code's when NULL. */
static enum s5c_step
s5c_refused(struct s5c *c, uint8_t code, const char *why)
{
	c->phase = S5C_PHASE_DONE;
	c->code = code;
	if (why == NULL) {
		snprintf(c->errtext, sizeof(c->errtext), "upstream: %s",
		         s5c_code_str(code));
		why = c->errtext;
	}
	c->error = why;
	return S5C_REFUSED;
}

/* 05 MM: the method selection. */
static enum s5c_step
s5c_feed_method(struct s5c *c, const uint8_t *buf, size_t len, size_t *used)
{
	if (len >= 1 && buf[0] != S5C_VERSION)
		return s5c_invalid(c, "upstream: reply is not SOCKS5");
	if (len < 2)
		return S5C_NEED_MORE;
	if (buf[1] != c->method && buf[1] != S5C_REP_NO_METHOD)
		return s5c_invalid(c, "upstream: chose a method not offered");
	*used = 2;
	if (buf[1] == S5C_REP_NO_METHOD)
		return s5c_refused(c, S5C_REP_NO_METHOD, NULL);
	if (c->method == S5C_METHOD_USER) {
		s5c_send(c, c->auth, c->auth_len);
		c->phase = S5C_PHASE_AUTH;
	} else {
		s5c_send(c, c->req, c->req_len);
		c->phase = S5C_PHASE_CONNECT;
	}
	return S5C_SEND;
}

/* 01 STATUS: the username/password verdict. */
static enum s5c_step
s5c_feed_auth(struct s5c *c, const uint8_t *buf, size_t len, size_t *used)
{
	/* Some servers answer with the SOCKS version instead of the
	 * subnegotiation's; the status means the same. */
	if (len >= 1 && buf[0] != S5C_AUTH_VERSION && buf[0] != S5C_VERSION)
		return s5c_invalid(c, "upstream: authentication reply is not "
		                      "RFC 1929");
	if (len < 2)
		return S5C_NEED_MORE;
	*used = 2;
	if (buf[1] != 0x00)
		return s5c_refused(c, S5C_REP_NOT_ALLOWED,
		                   "upstream: username/password refused");
	s5c_send(c, c->req, c->req_len);
	c->phase = S5C_PHASE_CONNECT;
	return S5C_SEND;
}

/* BND.ADDR:BND.PORT of a reply whose address is an IP. */
static void
s5c_set_bound(struct s5c *c, const uint8_t *addr, uint8_t atyp)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&c->bound;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->bound;

	memset(&c->bound, 0, sizeof(c->bound));
	if (atyp == S5C_ATYP_IPV4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		memcpy(&sin->sin_port, addr + 4, 2);
	} else if (atyp == S5C_ATYP_IPV6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		memcpy(&sin6->sin6_port, addr + 16, 2);
	} else
		c->bound.ss_family = AF_UNSPEC;
}

/* 05 REP 00 ATYP BND.ADDR BND.PORT: the CONNECT reply. */
static enum s5c_step
s5c_feed_reply(struct s5c *c, const uint8_t *buf, size_t len, size_t *used)
{
	size_t total;

	if (len >= 1 && buf[0] != S5C_VERSION)
		return s5c_invalid(c, "upstream: reply is not SOCKS5");
	if (len >= 3 && buf[2] != 0x00)
		return s5c_invalid(c, "upstream: reply's reserved byte is not "
		                      "zero");
	if (len < S5C_REPLY_HEAD)
		return S5C_NEED_MORE;
	switch (buf[3]) {
	case S5C_ATYP_IPV4:
		total = S5C_REPLY_HEAD + 4 + 2;
		break;
	case S5C_ATYP_IPV6:
		total = S5C_REPLY_HEAD + 16 + 2;
		break;
	case S5C_ATYP_NAME:
		if (len < S5C_REPLY_HEAD + 1)
			return S5C_NEED_MORE;
		if (buf[4] == 0)
			return s5c_invalid(c, "upstream: reply has an empty "
			                      "name");
		total = S5C_REPLY_HEAD + 1 + buf[4] + 2;
		break;
	default:
		return s5c_invalid(c, "upstream: reply's address type is "
		                      "unknown");
	}
	if (len < total)
		return S5C_NEED_MORE;
	*used = total;
	if (buf[1] != S5C_REP_SUCCEEDED)
		return s5c_refused(c, buf[1], NULL);
	s5c_set_bound(c, buf + S5C_REPLY_HEAD, buf[3]);
	c->phase = S5C_PHASE_DONE;
	return S5C_GRANTED;
}

enum s5c_step
s5c_feed(struct s5c *c, const uint8_t *buf, size_t len, size_t *used)
{
	*used = 0;
	switch (c->phase) {
	case S5C_PHASE_METHOD:
		return s5c_feed_method(c, buf, len, used);
	case S5C_PHASE_AUTH:
		return s5c_feed_auth(c, buf, len, used);
	case S5C_PHASE_CONNECT:
		return s5c_feed_reply(c, buf, len, used);
	case S5C_PHASE_DONE:
		break;
	}
	c->error = "upstream: bytes fed after the exchange ended";
	return S5C_INVALID;
}
