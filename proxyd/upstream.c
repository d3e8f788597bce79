/*
 * upstream.c - the upstreams' rows; see upstream.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "proxyd/upstream.h"

static int
direct_open(const struct proxyd *pd, const struct sockaddr *dst, char *err,
            size_t errlen)
{
	int fd, one = 1;

	fd = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* The mark keeps our own connection out of the redirect; without it
	 * we would not send at all. */
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &pd->cfg.socket_mark,
	               sizeof(pd->cfg.socket_mark)) == -1) {
		snprintf(err, errlen, "setsockopt SO_MARK: %s",
		         strerror(errno));
		goto fail;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, dst, addr_len(dst)) == -1 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
direct_ready(int fd, char *err, size_t errlen)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0) {
		snprintf(err, errlen, "connect: %s", strerror(soerr));
		return -1;
	}
	return 0;
}

const struct upstream upstream_direct = {
    .name = "direct",
    .open = direct_open,
    .ready = direct_ready,
};
