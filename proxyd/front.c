/*
 * front.c - the transparent front, and what every front shares; see
 * front.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
/* After netinet/in.h, which the kernel headers then defer to. */
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/name.h"
#include "proxyd/front.h"

void
front_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd == -1)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

void
front_reply_close(int fd, const void *buf, size_t len)
{
	char sink[4096];
	int i;

	(void)front_write(fd, buf, len);
	(void)shutdown(fd, SHUT_WR);
	/* Bounded: a client that keeps sending gets its reset. */
	for (i = 0; i < 16; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

int
front_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

int
front_ask_dest(struct front_ask *ask, const char *host,
               const struct sockaddr_storage *addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ask->dst;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ask->dst;

	memset(&ask->dst, 0, sizeof(ask->dst));
	ask->name[0] = '\0';
	ask->port = port;
	if (host[0] == '\0') {
		memcpy(&ask->dst, addr, sizeof(ask->dst));
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	/* Other forms inet_aton() takes ("127.1") are not names either. */
	if (name_is_ip_literal(host) ||
	    snprintf(ask->name, sizeof(ask->name), "%s", host) >=
	        (int)sizeof(ask->name) ||
	    name_normalise(ask->name) == -1) {
		ask->name[0] = '\0';
		return -1;
	}
	return 0;
}

uint8_t
front_code_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return FRONT_REFUSED;
	case ENETUNREACH:
		return FRONT_NET_UNREACH;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return FRONT_HOST_UNREACH;
	case ETIMEDOUT:
		return FRONT_TIMEOUT;
	default:
		return FRONT_GENERAL;
	}
}

/* The destination nftables' redirect replaced. */
static int
transparent_destination(int fd, const struct sockaddr *client,
                        struct sockaddr_storage *dst)
{
	socklen_t len = sizeof(*dst);

	memset(dst, 0, sizeof(*dst));
	if (client->sa_family == AF_INET)
		return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, dst, &len);
	return getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, dst, &len);
}

/* deny and reject both end a transparent TCP connection with a reset:
 * nothing else can be told to a client that thinks it reached the
 * server. */
static void
transparent_refuse(void *st, int fd, enum action verdict)
{
	(void)st;
	(void)verdict;
	front_reset(fd);
}

/* A failure onward: a reset, as if the server had refused. */
static void
transparent_failed(void *st, int fd, uint8_t code)
{
	(void)st;
	(void)code;
	front_reset(fd);
}

const struct front front_transparent = {
    .name = "transparent",
    .source = NAME_NONE,
    .destination = transparent_destination,
    .peek = peek_name,
    .refuse = transparent_refuse,
    .failed = transparent_failed,
};
