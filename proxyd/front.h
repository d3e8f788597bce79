/*
 * front.h - how a client comes in: where it wants to go, what name it
 * gives, and how it is told its verdict and the outcome onward.
 *
 * One row per kind of client, so that a new one (the DNS stub next) fills
 * a table instead of adding branches to conn.c:
 *
 *   transparent  redirected by nftables: the destination is the socket's
 *                original one (SO_ORIGINAL_DST), the name is peeked from
 *                the first bytes (TLS SNI, HTTP Host: peek.h), a refused
 *                client gets a TCP reset, an allowed one hears nothing
 *                from tollgated.
 *   socks        a SOCKS5 / SOCKS4 / SOCKS4a proxy (front_socks.c): the
 *                destination and name are in the request, each outcome is
 *                a SOCKS reply with its code.  Also a redirected client
 *                whose original destination is a SOCKS5 upstream's
 *                address (listener.c): its route is that upstream.
 *   connect      an HTTP CONNECT proxy (front_connect.c): the same, told
 *                by HTTP status.
 *
 * A proxy front keeps a state of its own per connection (state_size bytes,
 * held by the conn from accept until the relay starts).  Its client may
 * send bytes after the request (pipelined): they are its first message,
 * peeked as a transparent client's are.
 *
 * Replies are written at once on the client's socket: they are short and
 * the socket's send buffer is empty while a request is read, so a short
 * write means the client is gone and ends the connection.
 */
#ifndef TG_FRONT_H
#define TG_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "proxyd/peek.h"

#define FRONT_FIELD_MAX 255

/* What a proxy client asked for. */
struct front_ask {
	struct sockaddr_storage dst;  /* the address it named; AF_UNSPEC
	                               * when it named a host */
	uint16_t port;                /* host order */
	char name[PEEK_NAME_MAX + 1]; /* normalised (name.h), "" for an IP */
	enum name_source source;      /* of name: the front's, or
	                               * NAME_FAKEIP (conn.c fills it in) */
	bool resolve;                 /* Tor's RESOLVE: only the address of
	                               * name is wanted (resolved()) */
	bool auth;                    /* it sent a user name (and password) */
	char user[FRONT_FIELD_MAX + 1], pass[FRONT_FIELD_MAX + 1];
	const char *proto; /* "socks5", "socks4", "connect" */
};

enum front_step {
	FRONT_NEED_MORE, /* call again when more bytes came */
	FRONT_REPLY,     /* write the reply given, then call again with the
	                  * bytes not yet used */
	FRONT_ASKED,     /* a whole request: ask is filled */
	FRONT_INVALID,   /* a broken request: error says what; refuse()
	                  * tells the client the protocol's answer for it */
};

/*
 * Why an onward connection failed, in SOCKS5's words (RFC 1928 and Tor's
 * extended codes F0-F7), which every front translates into its own.
 */
enum front_code {
	FRONT_GENERAL = 0x01,
	FRONT_NOT_ALLOWED = 0x02,
	FRONT_NET_UNREACH = 0x03,
	FRONT_HOST_UNREACH = 0x04,
	FRONT_REFUSED = 0x05,
	FRONT_TIMEOUT = 0x06, /* "TTL expired": the way onward took too long */
};

struct front {
	const char *name;        /* "transparent", "socks", "connect" */
	enum name_source source; /* the source of a name in a request */
	/*
	 * transparent: where the accepted client fd wants to go: 0, or -1
	 * with errno when it does not say (a socket that reached the port
	 * without the redirect).  NULL for a proxy front.
	 */
	int (*destination)(int fd, const struct sockaddr *client,
	                   struct sockaddr_storage *dst);
	size_t state_size; /* 0 for transparent */
	void (*init)(void *st);
	/*
	 * A proxy front: read the request from buf[0..len); *used tells how
	 * many bytes it took (always set).  FRONT_REPLY sets *out and
	 * *outlen (bytes inside st).  FRONT_INVALID sets *error.
	 */
	enum front_step (*request)(void *st, const uint8_t *buf, size_t len,
	                           size_t *used, struct front_ask *ask,
	                           const uint8_t **out, size_t *outlen,
	                           const char **error);
	/* The name in the client's first bytes (peek.h's contract). */
	enum peek_result (*peek)(const uint8_t *buf, size_t len,
	                         struct peek_info *info);
	/*
	 * Tell a client it is refused (deny or reject; or its request was
	 * invalid, or it was refused after it was told "granted") and close
	 * fd.  st is NULL for transparent.
	 */
	void (*refuse)(void *st, int fd, enum action verdict);
	/* The way onward is open, or the client is to speak first (it asked
	 * for an address only): tell it, once; told again, nothing.  0, or
	 * -1 when it could not be told (the client is gone).  NULL: nothing
	 * to tell. */
	int (*granted)(void *st, int fd);
	/* The way onward failed (code: enum front_code or an upstream's
	 * SOCKS5 code): tell the client and close fd. */
	void (*failed)(void *st, int fd, uint8_t code);
	/* Answer a RESOLVE request with addr and close fd.  NULL for a front
	 * that never asks. */
	void (*resolved)(void *st, int fd, const struct sockaddr *addr);
};

extern const struct front front_transparent;
extern const struct front front_socks;
extern const struct front front_connect;

/* Close fd so that the peer sees a TCP reset, not an orderly FIN; -1 is
 * fine. */
void front_reset(int fd);

/*
 * Tell a client its final reply, buf[0..len), and close fd: an orderly
 * close, so that the reply reaches the client (a reset would throw it
 * away), and what the client sent meanwhile is read and dropped first
 * (closing with unread bytes would send a reset too).
 */
void front_reply_close(int fd, const void *buf, size_t len);

/* Write all of buf[0..len) to a client at once: 0, or -1 (short, or an
 * error: the client is gone or not reading). */
int front_write(int fd, const void *buf, size_t len);

/*
 * Fill ask's destination and port from what a request named: host ""
 * and addr, an IP literal (then dst is set), or a host name (normalised
 * into ask->name).  0, or -1 when host is neither.
 */
int front_ask_dest(struct front_ask *ask, const char *host,
                   const struct sockaddr_storage *addr, uint16_t port);

/* The front_code for an errno of connect(2). */
uint8_t front_code_errno(int err);

#endif
