/*
 * upstream.c - the upstreams' rows; see upstream.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/addr.h"
#include "proxyd/upstream.h"

static socklen_t
upstream_addr_len(const struct sockaddr *to)
{
	if (to->sa_family == AF_UNIX)
		return sizeof(struct sockaddr_un);
	return addr_len(to);
}

/* Both rows connect the same way; only what follows differs. */
static int
upstream_open(const struct proxyd *pd, const struct sockaddr *to, char *err,
              size_t errlen)
{
	int fd, one = 1, saved;

	fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd == -1) {
		saved = errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		errno = saved;
		return -1;
	}
	if (to->sa_family != AF_UNIX) {
		/* The mark keeps our own connection out of the redirect;
		 * without it we would not send at all. */
		if (setsockopt(fd, SOL_SOCKET, SO_MARK, &pd->cfg.socket_mark,
		               sizeof(pd->cfg.socket_mark)) == -1) {
			saved = errno;
			snprintf(err, errlen, "setsockopt SO_MARK: %s",
			         strerror(errno));
			goto fail;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof(one));
	}
	if (connect(fd, to, upstream_addr_len(to)) == -1 &&
	    errno != EINPROGRESS) {
		saved = errno;
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = saved;
	return -1;
}

static int
upstream_ready(int fd, char *err, size_t errlen)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0)
		snprintf(err, errlen, "connect: %s", strerror(soerr));
	return soerr;
}

const struct upstream upstream_direct = {
    .name = "direct",
    .socks5 = false,
    .open = upstream_open,
    .ready = upstream_ready,
};

const struct upstream upstream_socks5 = {
    .name = "socks5",
    .socks5 = true,
    .open = upstream_open,
    .ready = upstream_ready,
};

const struct upstream *
upstream_of(const struct config_upstream *route)
{
	if (route != NULL && route->kind == UPSTREAM_SOCKS5)
		return &upstream_socks5;
	return &upstream_direct;
}

void
upstream_proxy_addr(const struct config_upstream *route,
                    struct sockaddr_storage *to)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)to;

	memset(to, 0, sizeof(*to));
	if (!route->at.is_unix) {
		memcpy(to, &route->at.addr, sizeof(*to));
		return;
	}
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", route->at.path);
}

const char *
upstream_route_name(const struct config_upstream *route)
{
	if (route == NULL || route->kind == UPSTREAM_DIRECT)
		return "direct";
	return route->name;
}
