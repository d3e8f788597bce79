/*
 * socks5c.h - speak SOCKS5 (RFC 1928, RFC 1929) to an upstream, one round
 * trip at a time: the greeting, then username/password when a user is
 * given, then CONNECT with ATYP 3 (the name) whenever a name is known,
 * else the IP.
 *
 * Pure code: no sockets, no event loop.  The caller moves the bytes:
 *
 *   s5c_start()           out holds the greeting: write it
 *   s5c_feed() -> SEND    out holds the next request: write it, read on
 *   s5c_feed() -> NEED_MORE  read more; feed every byte not yet used
 *   s5c_feed() -> GRANTED    relay; bytes after *used are the server's
 *   s5c_feed() -> REFUSED / INVALID   close; c->code, c->error say why
 *
 * The bytes fed are always those the upstream sent that no earlier call
 * used, starting at the first unused one: a NEED_MORE uses none, so the
 * caller keeps them and feeds them again with what comes next.
 */
#ifndef TG_SOCKS5C_H
#define TG_SOCKS5C_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Reply codes (RFC 1928 section 6), Tor's extended ones (proposal 304),
 * and the method-selection refusal. */
#define S5C_REP_SUCCEEDED           0x00
#define S5C_REP_GENERAL_FAILURE     0x01
#define S5C_REP_NOT_ALLOWED         0x02
#define S5C_REP_NET_UNREACHABLE     0x03
#define S5C_REP_HOST_UNREACHABLE    0x04
#define S5C_REP_CONN_REFUSED        0x05
#define S5C_REP_TTL_EXPIRED         0x06
#define S5C_REP_CMD_UNSUPPORTED     0x07
#define S5C_REP_ATYP_UNSUPPORTED    0x08
#define S5C_REP_TOR_ONION_NOT_FOUND 0xF0 /* ... to 0xF7 */
#define S5C_REP_NO_METHOD           0xFF

/* The longest user, password and name a request can carry. */
#define S5C_FIELD_MAX 255
/* The longest answer an upstream gives (a reply with a 255-byte name):
 * a read buffer of this size always holds a whole one. */
#define S5C_ANSWER_MAX (4 + 1 + S5C_FIELD_MAX + 2)

enum s5c_step {
	S5C_SEND,      /* write c->out[0..c->out_len) to the upstream, then
	                * wait for its answer and feed it */
	S5C_NEED_MORE, /* the answer is incomplete: feed again with more
	                * bytes (none were used) */
	S5C_GRANTED,   /* the upstream connected: bytes after *used are
	                * already the server's data */
	S5C_REFUSED,   /* the upstream answered a failure: c->code holds
	                * its reply code, c->error the words for it */
	S5C_INVALID,   /* the upstream sent bytes that are not SOCKS5, or
	                * s5c_feed() was called after the end: c->error */
};

enum s5c_phase {
	S5C_PHASE_METHOD,  /* greeting sent: wait for the method selection */
	S5C_PHASE_AUTH,    /* username/password sent: wait for its status */
	S5C_PHASE_CONNECT, /* CONNECT sent: wait for the reply */
	S5C_PHASE_DONE,    /* granted, refused or invalid: nothing more */
};

struct s5c {
	/* private */
	enum s5c_phase phase;
	uint8_t method; /* the one method offered: 0x00 or 0x02 */
	uint8_t auth[3 + 2 * S5C_FIELD_MAX];
	size_t auth_len;
	uint8_t req[5 + S5C_FIELD_MAX + 2];
	size_t req_len;
	char errtext[64];

	/* public */
	uint8_t out[600]; /* what to send next, after S5C_SEND or start */
	size_t out_len;
	uint8_t code;      /* S5C_REFUSED: the upstream's reply code;
	                    * 0x02 for a refused username/password, 0xFF when
	                    * no method was acceptable */
	const char *error; /* S5C_REFUSED, S5C_INVALID and a failed
	                    * s5c_start(): "upstream: host unreachable",
	                    * "upstream: reply is not SOCKS5"; static text or
	                    * c's own buffer, valid as long as c is */
	struct sockaddr_storage bound; /* S5C_GRANTED: BND.ADDR:PORT when it
	                                * was an IP, else AF_UNSPEC */
};

/*
 * Start an exchange.  user and pass may be NULL: then only method 00 (no
 * authentication) is offered.  With a user only method 02 is offered
 * (Tor takes any username/password); pass NULL is sent as an empty
 * password.  user is 1-255 bytes, pass 0-255.
 * The destination is name (a normalised host name of 1-255 bytes; sent
 * with ATYP 3) with port (host order), or, when name is NULL, dst
 * (AF_INET or AF_INET6 with its port; an IPv4-mapped IPv6 address is sent
 * as IPv4).  The port must not be 0.
 * Returns 0 with out holding the greeting (S5C_SEND follows), or -1 with
 * c->error on bad arguments.
 */
int s5c_start(struct s5c *c, const char *user, const char *pass,
              const char *name, const struct sockaddr *dst, uint16_t port);

/*
 * Feed buf[0..len), the upstream's bytes not yet used; *used is always
 * set (0 unless the answer was complete).  Never uses a byte past the
 * current answer (the reply's length is known from its ATYP), so bytes
 * after the CONNECT reply are the server's data.
 *
 * Answers accepted: method selection 05 MM, where MM is the method
 * offered (FF: REFUSED with code 0xFF); the username/password status
 * 01 00 (05 00 is taken as success too: some servers answer with the
 * SOCKS version), any other status REFUSED with code 0x02; the reply
 * 05 REP 00 ATYP BND.ADDR BND.PORT with ATYP 1 (4 bytes), 3 (a length
 * byte of 1-255, then the name) or 4 (16 bytes).  A REP other than 00 is
 * REFUSED once the whole reply is in.  Anything else is INVALID.
 * A decision does not depend on how the bytes were cut.
 */
enum s5c_step s5c_feed(struct s5c *c, const uint8_t *buf, size_t len,
                       size_t *used);

/*
 * The text of a reply code: "succeeded", "general failure", ...,
 * "onion service descriptor can not be found" (Tor's 0xF0) ... 0xF7,
 * "no acceptable authentication method" (0xFF), else "unknown code
 * 0xNN" (in a buffer of the calling thread, valid until its next call).
 */
const char *s5c_code_str(uint8_t code);

#endif
