/*
 * upstream.h - how an allowed connection goes onward.
 *
 * One row per way out, so that conn.c has no branch per kind:
 *
 *   direct   a TCP connect to the destination, from a socket with
 *            socket_mark set, so that the redirect lets tollgated's own
 *            connection out.  A destination known only by name is
 *            resolved first (conn.c, with libevent's evdns).
 *   socks5   a connect to a SOCKS5 proxy (Tor's SocksPort on a
 *            Whonix-Gateway: `upstream = socks5://...` in tollgate.conf),
 *            over TCP or a unix socket, then the SOCKS5 exchange of
 *            socks5c.h that hands it the destination's name.
 *
 * Which row and which proxy a connection takes is its route: the allowing
 * rule's --via, else the `upstream` key (config_upstream_find()).
 */
#ifndef TG_UPSTREAM_H
#define TG_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/config.h"
#include "proxyd/proxyd.h"

struct upstream {
	const char *name; /* "direct", "socks5" */
	bool socks5;      /* a SOCKS5 exchange follows the connect */
	/*
	 * Open a non-blocking socket and start its connect to `to` (the
	 * destination, or the proxy: AF_INET, AF_INET6 or AF_UNIX).  The
	 * socket, or -1 with err ("socket: ...", "connect: ...") and errno.
	 * A socket that was opened and then failed is closed here.
	 */
	int (*open)(const struct proxyd *pd, const struct sockaddr *to,
	            char *err, size_t errlen);
	/*
	 * The socket became writable: 0 when the connection is ready, else
	 * the error (an errno value) with err.
	 */
	int (*ready)(int fd, char *err, size_t errlen);
};

extern const struct upstream upstream_direct;
extern const struct upstream upstream_socks5;

/* The row for a route (direct when route is NULL), and the proxy's
 * address of a SOCKS5 route into *to. */
const struct upstream *upstream_of(const struct config_upstream *route);
void upstream_proxy_addr(const struct config_upstream *route,
                         struct sockaddr_storage *to);

/* What an event records as the way out: "direct" for a direct route, the
 * route's name ("upstream", or NAME of upstream.NAME) for a proxy. */
const char *upstream_route_name(const struct config_upstream *route);

#endif
