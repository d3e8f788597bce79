/*
 * front.h - how a client comes in: where it wants to go, what name it
 * gives, and how it is told its verdict.
 *
 * One row per kind of client, so that a new one (SOCKS, HTTP CONNECT, the
 * DNS stub) fills a table instead of adding branches to conn.c:
 *
 *   transparent   redirected by nftables: the destination is the socket's
 *                 original one (SO_ORIGINAL_DST), the name is peeked from
 *                 the first bytes (TLS SNI, HTTP Host: peek.h), a refused
 *                 client gets a TCP reset, an allowed one hears nothing
 *                 from tollgated.
 */
#ifndef TG_FRONT_H
#define TG_FRONT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "proxyd/peek.h"

struct front {
	const char *name; /* "transparent" */
	/*
	 * Where the accepted client fd wants to go: 0, or -1 with errno
	 * when it does not say (a transparent socket that reached the port
	 * without the redirect).
	 */
	int (*destination)(int fd, const struct sockaddr *client,
	                   struct sockaddr_storage *dst);
	/* The name in the client's first bytes (peek.h's contract). */
	enum peek_result (*peek)(const uint8_t *buf, size_t len,
	                         struct peek_info *info);
	/* Tell a client it is refused (deny or reject) and close fd. */
	void (*refuse)(int fd, enum action verdict);
};

extern const struct front front_transparent;

/* Close fd so that the peer sees a TCP reset, not an orderly FIN; -1 is
 * fine. */
void front_reset(int fd);

#endif
