/*
 * nlreq.c - one netlink request and its answer; see nlreq.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "proxyd/nlreq.h"

int
nlreq_open(struct nlreq *r, int proto, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000,
	                     .tv_usec = (timeout_ms % 1000) * 1000};
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);
	int saved;

	r->seq = (uint32_t)time(NULL);
	if ((r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK; /* nl_pid 0: the kernel picks ours */
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(r->fd, (struct sockaddr *)&sa, &sl) == -1 ||
	    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		saved = errno;
		nlreq_close(r);
		errno = saved;
		return -1;
	}
	r->portid = sa.nl_pid;
	return 0;
}

void
nlreq_close(struct nlreq *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
}

int
nlreq_send(struct nlreq *r, struct nlmsghdr *msg)
{
	struct sockaddr_nl kernel;
	ssize_t n;

	msg->nlmsg_seq = ++r->seq;
	memset(&kernel, 0, sizeof(kernel));
	kernel.nl_family = AF_NETLINK;
	n = sendto(r->fd, msg, msg->nlmsg_len, 0, (struct sockaddr *)&kernel,
	           sizeof(kernel));
	if (n == -1)
		return -1;
	if ((size_t)n != msg->nlmsg_len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Whether the datagram buf[0..n) holds a message of request seq. */
static bool
nlreq_answers(const void *buf, size_t n, uint32_t seq)
{
	const struct nlmsghdr *nlh;
	int len = (int)n;

	for (nlh = buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
		if (nlh->nlmsg_seq == seq)
			return true;
	return false;
}

ssize_t
nlreq_recv(struct nlreq *r, uint32_t seq, void *buf, size_t len)
{
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t n;
	int i;

	for (i = 0; i < NLREQ_MAX_READS; i++) {
		fromlen = sizeof(from);
		n = recvfrom(r->fd, buf, len, MSG_TRUNC,
		             (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		/* Too long for buf, or not the kernel's: not an answer. */
		if ((size_t)n > len || fromlen < sizeof(from) ||
		    from.nl_pid != 0)
			continue;
		if (nlreq_answers(buf, (size_t)n, seq))
			return n;
	}
	errno = EPROTO;
	return -1;
}
