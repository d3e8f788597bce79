/*
 * socks.h - the SOCKS front's parser: SOCKS5 (RFC 1928, RFC 1929
 * username/password), SOCKS4 and SOCKS4a.
 *
 * Pure code: no sockets, no allocation, no logging.  One struct
 * socks_server per client; the caller feeds it the bytes the client sent
 * and writes back what it is told to, until a whole CONNECT request has been
 * read or the client is refused.
 *
 * A message is taken whole or not at all: on SOCKS_NEED_MORE nothing of an
 * incomplete message is consumed, so the caller keeps those bytes and calls
 * again with them and what came after.  No message is longer than
 * SOCKS_MSG_MAX bytes, so a caller that holds that many unused bytes never
 * gets SOCKS_NEED_MORE.  Errors are found as early as the bytes allow (a
 * wrong version on the first byte, a NUL in a name as it arrives), and a
 * decision taken on some bytes is the one any longer input gets.
 *
 * Choices where the RFCs leave room:
 *  - SOCKS5 methods: username/password (02) when offered, else no
 *    authentication (00), else "05 FF" and SOCKS_INVALID (NMETHODS 0 too).
 *  - RFC 1929 ULEN and PLEN of 0 are taken as an empty username or
 *    password (the RFC says 1-255; clients that isolate by password alone
 *    send an empty username); a NUL inside either is refused with "01 01".
 *    A completed subnegotiation sets auth and tor_ext, empty fields or not.
 *  - Reply codes when refusing a SOCKS5 request: 07 for BIND, UDP
 *    ASSOCIATE and unknown commands; 08 for an unknown address type; 04
 *    (host unreachable) for a target that can never be a host (an empty
 *    name, NUL, control bytes or spaces in it, port 0); 01 (general
 *    failure) for a malformed request (wrong version, RSV not 0).
 *  - SOCKS4: any refusal is 5B.  The address 0.0.0.0 is refused (it
 *    reaches this host on Linux; 0.0.0.x is SOCKS4a's marker).  USERID is
 *    opaque (any byte but NUL), at most SOCKS_FIELD_MAX bytes.
 *  - Names are checked for what can never be a host, not normalised: the
 *    daemon does that with common/name.h.
 *  - Tor's RESOLVE command (F0, what torsocks sends for getaddrinfo(): a
 *    name and any port, 0 too) is refused with 07 like BIND, unless the
 *    caller set allow_resolve after socks_server_init(): then it is a
 *    SOCKS_REQUEST with cmd SOCKS_CMD_RESOLVE, answered by socks_reply()
 *    with the address in bound.  RESOLVE_PTR (F1) is always refused.
 */
#ifndef TG_SOCKS_H
#define TG_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SOCKS_FIELD_MAX 255
/* The longest message: SOCKS4a's header, USERID and host name, each with
 * its NUL. */
#define SOCKS_MSG_MAX (8 + 2 * (SOCKS_FIELD_MAX + 1))
/* What socks_reply() may write: a SOCKS5 reply with an IPv6 address. */
#define SOCKS_REPLY_MAX 32

enum socks_step {
	SOCKS_NEED_MORE, /* consumed what it could; call again with more
	                  * bytes */
	SOCKS_REPLY,     /* write s->out[0..s->out_len) to the client, then
	                  * call again with the bytes not yet used */
	SOCKS_REQUEST,   /* a whole CONNECT request: read the fields below;
	                  * bytes after *used are the client's first data
	                  * (pipelined) */
	SOCKS_INVALID,   /* bad input: write s->out (may be empty: then no
	                  * reply is defined for the case) and close;
	                  * s->error says what in a few words */
};

/* The request's command: CONNECT, or Tor's RESOLVE extension. */
enum socks_cmd {
	SOCKS_CMD_CONNECT = 0x01,
	SOCKS_CMD_RESOLVE = 0xF0,
};

/* Where a client is in its conversation; private to socks.c. */
enum socks_phase {
	SOCKS_PHASE_START,    /* nothing read: the version byte decides */
	SOCKS_PHASE_METHODS,  /* SOCKS5 greeting: VER NMETHODS METHODS */
	SOCKS_PHASE_AUTH,     /* RFC 1929 subnegotiation */
	SOCKS_PHASE_REQUEST5, /* SOCKS5 request */
	SOCKS_PHASE_REQUEST4, /* SOCKS4/4a request */
	SOCKS_PHASE_DONE,     /* SOCKS_REQUEST or SOCKS_INVALID returned */
};

struct socks_server {
	enum socks_phase phase; /* private */
	bool allow_resolve;     /* set by the caller: take Tor's RESOLVE */

	uint8_t out[16];
	size_t out_len;
	int version; /* 4 or 5, set once known; 0 before */
	bool auth;   /* SOCKS5 username/password given, or SOCKS4 userid
	              * non-empty */
	/* NUL-terminated; for SOCKS4 the userid is user, pass is "" */
	char user[SOCKS_FIELD_MAX + 1], pass[SOCKS_FIELD_MAX + 1];
	/* ATYP 3 / SOCKS4a host as the client sent it, "" when an address
	 * was given */
	char name[SOCKS_FIELD_MAX + 1];
	/* ATYP 1/4, SOCKS4: AF_INET/AF_INET6 with port; AF_UNSPEC when a
	 * name was given */
	struct sockaddr_storage addr;
	uint16_t port; /* host order, both cases; 0 only for RESOLVE */
	uint8_t cmd;   /* enum socks_cmd: CONNECT unless allow_resolve */
	/* The client authenticated with username/password (SOCKS5):
	 * Tor-aware clients do, and get Tor's extended reply codes F0-F7
	 * passed through. */
	bool tor_ext;
	const char *error; /* static text on SOCKS_INVALID, else NULL */
};

/* Ready for a new client: everything zero, no version known. */
void socks_server_init(struct socks_server *s);

/*
 * Feed the bytes received and not yet used (buf[0..len)); *used says how
 * many were consumed (always set; 0 on SOCKS_NEED_MORE).  Call repeatedly,
 * with the bytes after *used, until SOCKS_NEED_MORE, SOCKS_REQUEST or
 * SOCKS_INVALID.
 * Returns:
 *  SOCKS_NEED_MORE  buf holds no whole message and nothing wrong so far;
 *  SOCKS_REPLY      a greeting or subnegotiation was consumed: write out;
 *  SOCKS_REQUEST    the CONNECT (or RESOLVE) request was consumed: cmd,
 *                   version, auth, user, pass, name or addr, and port are
 *                   set;
 *  SOCKS_INVALID    refused: write out (out_len may be 0), then close;
 *                   error says why.  *used is 0.
 * After SOCKS_REQUEST or SOCKS_INVALID every call is SOCKS_INVALID with
 * nothing to write.  out_len is 0 unless the step is SOCKS_REPLY or
 * SOCKS_INVALID.
 */
enum socks_step socks_server_feed(struct socks_server *s, const uint8_t *buf,
                                  size_t len, size_t *used);

/* SOCKS5 reply codes (RFC 1928 6) and Tor's extended ones (Tor proposal
 * 304), which are about onion services. */
enum socks_code {
	SOCKS_OK = 0x00,
	SOCKS_GENERAL = 0x01,
	SOCKS_NOT_ALLOWED = 0x02,
	SOCKS_NET_UNREACH = 0x03,
	SOCKS_HOST_UNREACH = 0x04,
	SOCKS_REFUSED = 0x05,
	SOCKS_TTL = 0x06,
	SOCKS_CMD_UNSUPPORTED = 0x07,
	SOCKS_ATYP_UNSUPPORTED = 0x08,
	SOCKS_TOR_DESC_NOT_FOUND = 0xF0, /* onion service descriptor not
	                                  * found */
	SOCKS_TOR_DESC_INVALID = 0xF1,   /* ... descriptor is invalid */
	SOCKS_TOR_INTRO_FAILED = 0xF2,   /* introduction failed */
	SOCKS_TOR_REND_FAILED = 0xF3,    /* rendezvous failed */
	SOCKS_TOR_AUTH_MISSING = 0xF4,   /* client authorization missing */
	SOCKS_TOR_AUTH_WRONG = 0xF5,     /* client authorization wrong */
	SOCKS_TOR_BAD_ADDRESS = 0xF6,    /* invalid onion address */
	SOCKS_TOR_INTRO_TIMEOUT = 0xF7,  /* introduction timed out */
};

/*
 * The final reply to s's request, for its version, into out[0..cap):
 *  SOCKS5  "05 code 00 ATYP BND.ADDR BND.PORT": bound's address and port
 *          (ATYP 1 or 4), or 0.0.0.0:0 when bound is NULL or neither
 *          AF_INET nor AF_INET6;
 *  SOCKS4  "00 5A|5B DSTPORT DSTIP": 5A for SOCKS_OK, 5B for any other
 *          code; bound's port and address when it is AF_INET, else zeros.
 * Tor's codes F0-F7 reach a SOCKS5 client as they are only when
 * s->tor_ext; others get the nearest RFC 1928 code: F0, F1, F6 (the
 * service cannot be found or addressed) 04 host unreachable; F2, F3
 * (introduction or rendezvous failed) 01 general failure; F4, F5 (client
 * authorization) 02 not allowed; F7 (timed out) 06 TTL expired.  Any other
 * code above 08 is 01.
 * Returns the length written, or 0 when it does not fit in cap
 * (SOCKS_REPLY_MAX always does) or s's version is not known.
 */
size_t socks_reply(const struct socks_server *s, uint8_t code,
                   const struct sockaddr *bound, uint8_t *out, size_t cap);

#endif
