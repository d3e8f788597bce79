/*
 * upstream.h - how an allowed connection goes onward.
 *
 * One row per way out, so that a new one (a SOCKS5 proxy that is handed
 * the name: Tor's SocksPort) fills a table instead of adding branches to
 * conn.c:
 *
 *   direct   a TCP connect to the original destination, from a socket
 *            with socket_mark set, so that the redirect lets tollgated's
 *            own connection out.
 */
#ifndef TG_UPSTREAM_H
#define TG_UPSTREAM_H

#include <stddef.h>
#include <sys/socket.h>

#include "proxyd/proxyd.h"

struct upstream {
	const char *name; /* "direct": what the event row records */
	/*
	 * Open a non-blocking socket and start its connect to dst.  The
	 * socket, or -1 with err ("socket: ...", "connect: ...").  A
	 * socket that was opened and then failed is closed here.
	 */
	int (*open)(const struct proxyd *pd, const struct sockaddr *dst,
	            char *err, size_t errlen);
	/*
	 * The socket became writable: 0 when the connection is ready for
	 * the client's bytes, -1 with err when it failed.
	 */
	int (*ready)(int fd, char *err, size_t errlen);
};

extern const struct upstream upstream_direct;

#endif
