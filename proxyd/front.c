/*
 * front.c - the fronts' rows; see front.h.
 */
#include <netinet/in.h>
/* After netinet/in.h, which the kernel headers then defer to. */
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
transparent_refuse(int fd, enum action verdict)
{
	(void)verdict;
	front_reset(fd);
}

const struct front front_transparent = {
    .name = "transparent",
    .destination = transparent_destination,
    .peek = peek_name,
    .refuse = transparent_refuse,
};
