/*
 * nlreq.h - one netlink request and its answer, from the kernel only.
 *
 * What sock_diag (attr.c) and ctnetlink (ctorig.c) share: a socket bound
 * to its own port id with a receive timeout, so that a kernel that does
 * not answer cannot hang the worker thread; requests numbered in turn;
 * and answers read until one of this request's comes, skipping the late
 * answers to earlier requests that timed out and anything not sent by
 * the kernel.  Blocking; one struct nlreq per thread.
 */
#ifndef TG_NLREQ_H
#define TG_NLREQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/netlink.h>

#define NLREQ_MAX_READS 8 /* datagrams read waiting for one answer */

struct nlreq {
	int fd;          /* -1 when closed */
	uint32_t seq;    /* of the last request sent */
	uint32_t portid; /* ours, as the kernel bound it */
};

/*
 * Open a netlink socket of protocol proto (NETLINK_SOCK_DIAG, ...) whose
 * reads give up after timeout_ms.  0, or -1 with errno (nothing open).
 */
int nlreq_open(struct nlreq *r, int proto, int timeout_ms);
void nlreq_close(struct nlreq *r);

/*
 * Number msg (its nlmsg_seq set to the next one) and send it to the
 * kernel.  0, or -1 with errno (EIO: a short write).
 */
int nlreq_send(struct nlreq *r, struct nlmsghdr *msg);

/*
 * The next datagram from the kernel that answers request seq, into buf:
 * its length (messages of other requests in it are the caller's to
 * skip), or -1 with errno: ETIMEDOUT when none came within the timeout,
 * EPROTO when none came within NLREQ_MAX_READS datagrams, others from
 * recvfrom.  A datagram longer than len is skipped.
 */
ssize_t nlreq_recv(struct nlreq *r, uint32_t seq, void *buf, size_t len);

#endif
