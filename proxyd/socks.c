/*
 * socks.c - the SOCKS front's parser; see socks.h.
 *
 * One function a phase, each taking a whole message or nothing.  Checks
 * run in the order of the bytes they look at, and each runs as soon as its
 * byte is there, so a refusal on a prefix is the refusal the whole message
 * gets, however the bytes were cut.
 */
#include <netinet/in.h>
#include <string.h>

#include "common/be.h"
#include "proxyd/socks.h"

/* RFC 1928 3 and 4, RFC 1929 2, and SOCKS4's "Protocol" document. */
#define SOCKS5_VERSION       0x05
#define SOCKS5_AUTH_NONE     0x00
#define SOCKS5_AUTH_USERPASS 0x02
#define SOCKS5_AUTH_NO_MATCH 0xFF
#define SOCKS5_CMD_CONNECT   0x01
#define SOCKS5_CMD_BIND      0x02
#define SOCKS5_CMD_UDP       0x03
#define SOCKS5_CMD_RESOLVE   0xF0
#define SOCKS5_ATYP_IPV4     0x01
#define SOCKS5_ATYP_NAME     0x03
#define SOCKS5_ATYP_IPV6     0x04
#define SOCKS5_HEADER        4 /* VER CMD RSV ATYP */
#define SOCKS5_REPLY4_LEN    (SOCKS5_HEADER + 4 + 2)
#define SOCKS5_REPLY6_LEN    (SOCKS5_HEADER + 16 + 2)
#define USERPASS_VERSION     0x01
#define USERPASS_OK          0x00
#define USERPASS_FAILED      0x01
#define SOCKS4_VERSION       0x04
#define SOCKS4_CMD_CONNECT   0x01
#define SOCKS4_CMD_BIND      0x02
#define SOCKS4_HEADER        8 /* VN CD DSTPORT DSTIP */
#define SOCKS4_REPLY_VERSION 0x00
#define SOCKS4_GRANTED       0x5A
#define SOCKS4_REJECTED      0x5B

void
socks_server_init(struct socks_server *s)
{
	memset(s, 0, sizeof(*s));
	s->phase = SOCKS_PHASE_START;
	s->addr.ss_family = AF_UNSPEC;
}

/*
 * Replies.
 */

static size_t
socks_reply5(uint8_t code, const struct sockaddr *bound, uint8_t *out,
             size_t cap)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	size_t n;

	n = bound != NULL && bound->sa_family == AF_INET6 ? SOCKS5_REPLY6_LEN
	                                                  : SOCKS5_REPLY4_LEN;
	if (cap < n)
		return 0;
	memset(out, 0, n);
	out[0] = SOCKS5_VERSION;
	out[1] = code;
	if (n == SOCKS5_REPLY6_LEN) {
		sin6 = (const struct sockaddr_in6 *)bound;
		out[3] = SOCKS5_ATYP_IPV6;
		memcpy(out + SOCKS5_HEADER, &sin6->sin6_addr, 16);
		memcpy(out + SOCKS5_HEADER + 16, &sin6->sin6_port, 2);
		return n;
	}
	out[3] = SOCKS5_ATYP_IPV4;
	if (bound != NULL && bound->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)bound;
		memcpy(out + SOCKS5_HEADER, &sin->sin_addr, 4);
		memcpy(out + SOCKS5_HEADER + 4, &sin->sin_port, 2);
	}
	return n;
}

static size_t
socks_reply4(uint8_t code, const struct sockaddr *bound, uint8_t *out,
             size_t cap)
{
	const struct sockaddr_in *sin;

	if (cap < SOCKS4_HEADER)
		return 0;
	memset(out, 0, SOCKS4_HEADER);
	out[0] = SOCKS4_REPLY_VERSION;
	out[1] = code;
	if (bound != NULL && bound->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)bound;
		memcpy(out + 2, &sin->sin_port, 2);
		memcpy(out + 4, &sin->sin_addr, 4);
	}
	return SOCKS4_HEADER;
}

/* The code a SOCKS5 client is told, for an upstream's code; see socks.h. */
static uint8_t
socks_code_for(const struct socks_server *s, uint8_t code)
{
	static const uint8_t tor_to_rfc[] = {
	    [SOCKS_TOR_DESC_NOT_FOUND - 0xF0] = SOCKS_HOST_UNREACH,
	    [SOCKS_TOR_DESC_INVALID - 0xF0] = SOCKS_HOST_UNREACH,
	    [SOCKS_TOR_INTRO_FAILED - 0xF0] = SOCKS_GENERAL,
	    [SOCKS_TOR_REND_FAILED - 0xF0] = SOCKS_GENERAL,
	    [SOCKS_TOR_AUTH_MISSING - 0xF0] = SOCKS_NOT_ALLOWED,
	    [SOCKS_TOR_AUTH_WRONG - 0xF0] = SOCKS_NOT_ALLOWED,
	    [SOCKS_TOR_BAD_ADDRESS - 0xF0] = SOCKS_HOST_UNREACH,
	    [SOCKS_TOR_INTRO_TIMEOUT - 0xF0] = SOCKS_TTL,
	};

	if (code <= SOCKS_ATYP_UNSUPPORTED)
		return code;
	if (code >= SOCKS_TOR_DESC_NOT_FOUND && code <= SOCKS_TOR_INTRO_TIMEOUT)
		return s->tor_ext ? code : tor_to_rfc[code - 0xF0];
	return SOCKS_GENERAL;
}

size_t
socks_reply(const struct socks_server *s, uint8_t code,
            const struct sockaddr *bound, uint8_t *out, size_t cap)
{
	if (s->version == 5)
		return socks_reply5(socks_code_for(s, code), bound, out, cap);
	if (s->version == 4)
		return socks_reply4(code == SOCKS_OK ? SOCKS4_GRANTED
		                                     : SOCKS4_REJECTED,
		                    bound, out, cap);
	return 0;
}

/*
 * Endings: the client is refused, with the reply its phase calls for.
 */

static enum socks_step
socks_fail(struct socks_server *s, const char *error)
{
	s->phase = SOCKS_PHASE_DONE;
	s->error = error;
	return SOCKS_INVALID;
}

/* A SOCKS5 or SOCKS4 request refused with code (SOCKS4: always 5B). */
static enum socks_step
socks_refuse(struct socks_server *s, uint8_t code, const char *error)
{
	s->out_len = socks_reply(s, code, NULL, s->out, sizeof(s->out));
	return socks_fail(s, error);
}

/* A fixed reply of two bytes: method selection, subnegotiation status. */
static enum socks_step
socks_answer(struct socks_server *s, uint8_t ver, uint8_t status)
{
	s->out[0] = ver;
	s->out[1] = status;
	s->out_len = 2;
	return SOCKS_REPLY;
}

/*
 * Fields.
 */

/* Why bytes p[0..n) can never be (part of) a host name, or NULL. */
static const char *
socks_name_bad(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return "NUL in host name";
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "control byte in host name";
		if (p[i] == ' ')
			return "space in host name";
	}
	return NULL;
}

static void
socks_copy(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* An IPv4 (4 bytes at ip) or IPv6 (16) address with port into s->addr. */
static void
socks_set_addr(struct socks_server *s, int family, const uint8_t *ip,
               uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->addr;

	memset(&s->addr, 0, sizeof(s->addr));
	s->addr.ss_family = family;
	if (family == AF_INET) {
		memcpy(&sin->sin_addr, ip, 4);
		sin->sin_port = htons(port);
	} else {
		memcpy(&sin6->sin6_addr, ip, 16);
		sin6->sin6_port = htons(port);
	}
}

static size_t
socks_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * The phases.  Each looks at buf[0..len), the start of its message, and
 * sets *used only when it takes the message.
 */

/* VER NMETHODS METHODS... */
static enum socks_step
socks_methods(struct socks_server *s, const uint8_t *buf, size_t len,
              size_t *used)
{
	bool none, userpass;
	size_t n, i;

	if (len < 2)
		return SOCKS_NEED_MORE;
	n = buf[1];
	if (n == 0) {
		socks_answer(s, SOCKS5_VERSION, SOCKS5_AUTH_NO_MATCH);
		return socks_fail(s, "SOCKS5 greeting offers no method");
	}
	if (len < 2 + n)
		return SOCKS_NEED_MORE;
	none = userpass = false;
	for (i = 0; i < n; i++) {
		if (buf[2 + i] == SOCKS5_AUTH_NONE)
			none = true;
		else if (buf[2 + i] == SOCKS5_AUTH_USERPASS)
			userpass = true;
	}
	if (!none && !userpass) {
		socks_answer(s, SOCKS5_VERSION, SOCKS5_AUTH_NO_MATCH);
		return socks_fail(s, "no acceptable SOCKS5 method");
	}
	*used = 2 + n;
	s->phase = userpass ? SOCKS_PHASE_AUTH : SOCKS_PHASE_REQUEST5;
	return socks_answer(s, SOCKS5_VERSION,
	                    userpass ? SOCKS5_AUTH_USERPASS : SOCKS5_AUTH_NONE);
}

/* RFC 1929: VER ULEN UNAME PLEN PASSWD. */
static enum socks_step
socks_auth(struct socks_server *s, const uint8_t *buf, size_t len, size_t *used)
{
	size_t ulen, plen, have;

	if (len < 1)
		return SOCKS_NEED_MORE;
	if (buf[0] != USERPASS_VERSION)
		goto bad_version;
	if (len < 2)
		return SOCKS_NEED_MORE;
	ulen = buf[1];
	have = socks_min(len - 2, ulen);
	if (memchr(buf + 2, '\0', have) != NULL)
		goto bad_user;
	if (len < 3 + ulen)
		return SOCKS_NEED_MORE;
	plen = buf[2 + ulen];
	have = socks_min(len - 3 - ulen, plen);
	if (memchr(buf + 3 + ulen, '\0', have) != NULL)
		goto bad_pass;
	if (len < 3 + ulen + plen)
		return SOCKS_NEED_MORE;
	socks_copy(s->user, buf + 2, ulen);
	socks_copy(s->pass, buf + 3 + ulen, plen);
	s->auth = true;
	s->tor_ext = true;
	*used = 3 + ulen + plen;
	s->phase = SOCKS_PHASE_REQUEST5;
	return socks_answer(s, USERPASS_VERSION, USERPASS_OK);
bad_version:
	socks_answer(s, USERPASS_VERSION, USERPASS_FAILED);
	return socks_fail(s, "bad username/password version");
bad_user:
	socks_answer(s, USERPASS_VERSION, USERPASS_FAILED);
	return socks_fail(s, "NUL in SOCKS5 username");
bad_pass:
	socks_answer(s, USERPASS_VERSION, USERPASS_FAILED);
	return socks_fail(s, "NUL in SOCKS5 password");
}

/* VER CMD RSV ATYP DST.ADDR DST.PORT */
static enum socks_step
socks_request5(struct socks_server *s, const uint8_t *buf, size_t len,
               size_t *used)
{
	const uint8_t *addr;
	const char *bad;
	size_t alen, n;
	uint16_t port;

	if (len < 1)
		return SOCKS_NEED_MORE;
	if (buf[0] != SOCKS5_VERSION)
		return socks_refuse(s, SOCKS_GENERAL,
		                    "bad SOCKS5 request version");
	if (len < 2)
		return SOCKS_NEED_MORE;
	if (buf[1] == SOCKS5_CMD_BIND)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "SOCKS5 BIND not supported");
	if (buf[1] == SOCKS5_CMD_UDP)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "SOCKS5 UDP ASSOCIATE not supported");
	if (buf[1] == SOCKS5_CMD_RESOLVE && !s->allow_resolve)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "Tor's SOCKS5 RESOLVE not taken here");
	if (buf[1] != SOCKS5_CMD_CONNECT && buf[1] != SOCKS5_CMD_RESOLVE)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "unknown SOCKS5 command");
	if (len < 3)
		return SOCKS_NEED_MORE;
	if (buf[2] != 0)
		return socks_refuse(s, SOCKS_GENERAL,
		                    "SOCKS5 reserved byte not 0");
	if (len < SOCKS5_HEADER)
		return SOCKS_NEED_MORE;
	addr = buf + SOCKS5_HEADER;
	switch (buf[3]) {
	case SOCKS5_ATYP_IPV4:
		alen = 4;
		break;
	case SOCKS5_ATYP_IPV6:
		alen = 16;
		break;
	case SOCKS5_ATYP_NAME:
		if (len < SOCKS5_HEADER + 1)
			return SOCKS_NEED_MORE;
		n = buf[SOCKS5_HEADER];
		if (n == 0)
			return socks_refuse(s, SOCKS_HOST_UNREACH,
			                    "empty host name");
		addr++;
		bad =
		    socks_name_bad(addr, socks_min(len - SOCKS5_HEADER - 1, n));
		if (bad != NULL)
			return socks_refuse(s, SOCKS_HOST_UNREACH, bad);
		alen = 1 + n;
		break;
	default:
		return socks_refuse(s, SOCKS_ATYP_UNSUPPORTED,
		                    "unknown SOCKS5 address type");
	}
	if (len < SOCKS5_HEADER + alen + 2)
		return SOCKS_NEED_MORE;
	port = be16_get(buf + SOCKS5_HEADER + alen);
	/* tor-resolve sends port 0 with RESOLVE. */
	if (port == 0 && buf[1] == SOCKS5_CMD_CONNECT)
		return socks_refuse(s, SOCKS_HOST_UNREACH, "port 0");
	s->cmd = buf[1];
	s->port = port;
	if (buf[3] == SOCKS5_ATYP_IPV4)
		socks_set_addr(s, AF_INET, addr, port);
	else if (buf[3] == SOCKS5_ATYP_IPV6)
		socks_set_addr(s, AF_INET6, addr, port);
	else
		socks_copy(s->name, addr, alen - 1);
	*used = SOCKS5_HEADER + alen + 2;
	s->phase = SOCKS_PHASE_DONE;
	return SOCKS_REQUEST;
}

/*
 * A NUL-terminated field of at most SOCKS_FIELD_MAX bytes at buf[0..len):
 * its length, or -1 while the NUL has not arrived, or -2 when it is too
 * long.
 */
static long
socks_field(const uint8_t *buf, size_t len)
{
	const uint8_t *nul;

	nul = memchr(buf, '\0', socks_min(len, SOCKS_FIELD_MAX + 1));
	if (nul != NULL)
		return nul - buf;
	return len > SOCKS_FIELD_MAX ? -2 : -1;
}

/* VN CD DSTPORT DSTIP USERID NUL [HOST NUL] */
static enum socks_step
socks_request4(struct socks_server *s, const uint8_t *buf, size_t len,
               size_t *used)
{
	static const uint8_t zero[4];
	const uint8_t *ip, *host;
	const char *bad;
	long ulen, hlen;
	size_t avail;
	bool socks4a;

	if (len < 2)
		return SOCKS_NEED_MORE;
	if (buf[1] == SOCKS4_CMD_BIND)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "SOCKS4 BIND not supported");
	if (buf[1] != SOCKS4_CMD_CONNECT)
		return socks_refuse(s, SOCKS_CMD_UNSUPPORTED,
		                    "unknown SOCKS4 command");
	if (len < 4)
		return SOCKS_NEED_MORE;
	if (be16_get(buf + 2) == 0)
		return socks_refuse(s, SOCKS_HOST_UNREACH, "port 0");
	if (len < SOCKS4_HEADER)
		return SOCKS_NEED_MORE;
	ip = buf + 4;
	if (memcmp(ip, zero, 4) == 0)
		return socks_refuse(s, SOCKS_HOST_UNREACH,
		                    "SOCKS4 address 0.0.0.0");
	/* SOCKS4a: 0.0.0.x, x != 0, says a host name follows the USERID. */
	socks4a = memcmp(ip, zero, 3) == 0;
	ulen = socks_field(buf + SOCKS4_HEADER, len - SOCKS4_HEADER);
	if (ulen == -2)
		return socks_refuse(s, SOCKS_GENERAL, "SOCKS4 USERID too long");
	if (ulen == -1)
		return SOCKS_NEED_MORE;
	host = buf + SOCKS4_HEADER + ulen + 1;
	hlen = 0;
	if (socks4a) {
		avail = len - (size_t)(host - buf);
		hlen = socks_field(host, avail);
		bad = socks_name_bad(
		    host, hlen >= 0 ? (size_t)hlen
		                    : socks_min(avail, SOCKS_FIELD_MAX + 1));
		if (bad != NULL)
			return socks_refuse(s, SOCKS_HOST_UNREACH, bad);
		if (hlen == -2)
			return socks_refuse(s, SOCKS_HOST_UNREACH,
			                    "SOCKS4a host name too long");
		if (hlen == -1)
			return SOCKS_NEED_MORE;
		if (hlen == 0)
			return socks_refuse(s, SOCKS_HOST_UNREACH,
			                    "empty host name");
	}
	s->cmd = SOCKS_CMD_CONNECT;
	s->port = be16_get(buf + 2);
	socks_copy(s->user, buf + SOCKS4_HEADER, ulen);
	s->auth = ulen > 0;
	if (socks4a)
		socks_copy(s->name, host, hlen);
	else
		socks_set_addr(s, AF_INET, ip, s->port);
	*used = (size_t)(host - buf) + (socks4a ? (size_t)hlen + 1 : 0);
	s->phase = SOCKS_PHASE_DONE;
	return SOCKS_REQUEST;
}

enum socks_step
socks_server_feed(struct socks_server *s, const uint8_t *buf, size_t len,
                  size_t *used)
{
	*used = 0;
	s->out_len = 0;
	switch (s->phase) {
	case SOCKS_PHASE_START:
		if (len == 0)
			return SOCKS_NEED_MORE;
		if (buf[0] == SOCKS5_VERSION) {
			s->version = 5;
			s->phase = SOCKS_PHASE_METHODS;
			return socks_methods(s, buf, len, used);
		}
		if (buf[0] == SOCKS4_VERSION) {
			s->version = 4;
			s->phase = SOCKS_PHASE_REQUEST4;
			return socks_request4(s, buf, len, used);
		}
		return socks_fail(s, "not SOCKS4 or SOCKS5");
	case SOCKS_PHASE_METHODS:
		return socks_methods(s, buf, len, used);
	case SOCKS_PHASE_AUTH:
		return socks_auth(s, buf, len, used);
	case SOCKS_PHASE_REQUEST5:
		return socks_request5(s, buf, len, used);
	case SOCKS_PHASE_REQUEST4:
		return socks_request4(s, buf, len, used);
	case SOCKS_PHASE_DONE:
		break;
	}
	if (s->error == NULL)
		s->error = "SOCKS request already read";
	return SOCKS_INVALID;
}
