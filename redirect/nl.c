/*
 * nl.c - netfilter netlink requests and acknowledged batches; see nl.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "redirect/nl.h"

/*
 * Receive-buffer room one ack takes (the kernel charges a whole small
 * socket buffer per ack); all acks of a batch arrive before we read them.
 */
#define REDIRECT_ACK_ROOM 1024

struct redirect_batch {
	struct redirect_nl *nl;
	char *buf;
	struct mnl_nlmsg_batch *mb;
	uint32_t seq0; /* sequence number of the batch begin */
	size_t n_msgs; /* committed messages, each acked */
	size_t max_msgs;
	char (*what)[REDIRECT_WHAT_MAX]; /* what[i]: message seq0 + 1 + i */
};

/* Progress of reading a batch's acks. */
struct redirect_acks {
	size_t acked;
	int error;          /* first refusal, 0 if none */
	uint32_t error_seq; /* the message refused */
};

int
redirect_fail(char *err, size_t errlen, int error, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", what, strerror(error));
	errno = error;
	return -1;
}

int
redirect_nl_open(struct redirect_nl *nl, char *err, size_t errlen)
{
	struct timeval tv;
	int error;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (nl->sock == NULL)
		return redirect_fail(err, errlen, errno,
		                     "opening a netfilter netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		error = errno;
		redirect_fail(err, errlen, error,
		              "binding the netfilter netlink socket");
		goto fail;
	}
	tv.tv_sec = REDIRECT_NL_TIMEOUT_MS / 1000;
	tv.tv_usec = (REDIRECT_NL_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
	               &tv, sizeof(tv)) == -1) {
		error = errno;
		redirect_fail(err, errlen, error,
		              "setting the netlink receive timeout");
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
fail:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	errno = error;
	return -1;
}

void
redirect_nl_close(struct redirect_nl *nl)
{
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* recvfrom with the timeout turned into a clear errno. */
static ssize_t
nl_recv(struct redirect_nl *nl, void *buf, size_t len)
{
	ssize_t n;

	n = mnl_socket_recvfrom(nl->sock, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

int
redirect_nl_request(struct redirect_nl *nl, const struct nlmsghdr *nlh,
                    mnl_cb_t cb, void *data, const char *what, char *err,
                    size_t errlen)
{
	char buf[REDIRECT_NL_RECV_SIZE];
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) == -1)
		return redirect_fail(err, errlen, errno, "%s: sending", what);
	do {
		n = nl_recv(nl, buf, sizeof(buf));
		if (n == -1)
			return redirect_fail(err, errlen, errno,
			                     "%s: waiting for the answer",
			                     what);
		ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, nl->portid, cb, data);
	} while (ret == MNL_CB_OK);
	if (ret == MNL_CB_ERROR)
		return redirect_fail(err, errlen, errno, "%s", what);
	return 0;
}

struct redirect_batch *
redirect_batch_new(struct redirect_nl *nl, size_t max_msgs, char *err,
                   size_t errlen)
{
	struct redirect_batch *b;
	size_t cap;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto nomem;
	b->nl = nl;
	b->max_msgs = max_msgs;
	/*
	 * Room for begin, the messages and end; the batch limit leaves one
	 * REDIRECT_MSG_MAX spare, as a message is built before it is
	 * measured.
	 */
	cap = (max_msgs + 3) * REDIRECT_MSG_MAX;
	b->buf = malloc(cap);
	b->what = calloc(max_msgs > 0 ? max_msgs : 1, sizeof(*b->what));
	if (b->buf == NULL || b->what == NULL)
		goto nomem;
	b->mb = mnl_nlmsg_batch_start(b->buf, cap - REDIRECT_MSG_MAX);
	if (b->mb == NULL)
		goto nomem;
	b->seq0 = nl->seq++;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->mb), b->seq0);
	mnl_nlmsg_batch_next(b->mb);
	return b;
nomem:
	redirect_fail(err, errlen, ENOMEM,
	              "allocating a netlink batch of %zu "
	              "messages",
	              max_msgs);
	redirect_batch_free(b);
	errno = ENOMEM;
	return NULL;
}

void
redirect_batch_free(struct redirect_batch *b)
{
	if (b == NULL)
		return;
	if (b->mb != NULL)
		mnl_nlmsg_batch_stop(b->mb);
	free(b->buf);
	free(b->what);
	free(b);
}

void *
redirect_batch_cur(struct redirect_batch *b)
{
	return mnl_nlmsg_batch_current(b->mb);
}

uint32_t
redirect_batch_seq(const struct redirect_batch *b)
{
	return b->nl->seq;
}

int
redirect_batch_commit(struct redirect_batch *b, const char *what, char *err,
                      size_t errlen)
{
	const struct nlmsghdr *nlh = mnl_nlmsg_batch_current(b->mb);

	if (b->n_msgs == b->max_msgs || nlh->nlmsg_len > REDIRECT_MSG_MAX ||
	    !mnl_nlmsg_batch_next(b->mb))
		return redirect_fail(err, errlen, EMSGSIZE,
		                     "%s: no room in the netlink batch", what);
	snprintf(b->what[b->n_msgs], sizeof(b->what[0]), "%s", what);
	b->n_msgs++;
	b->nl->seq++;
	return 0;
}

/* Make a socket buffer at least size bytes; root may pass the sysctl cap. */
static int
nl_grow_buffer(int fd, int opt, int opt_force, size_t size)
{
	int cur, want;
	socklen_t len = sizeof(cur);

	if (size > 1 << 30)
		size = 1 << 30;
	want = (int)size;
	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == -1)
		return -1;
	if (cur >= want)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, opt_force, &want, sizeof(want)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

static int
batch_ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct redirect_acks *acks = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	acks->acked++;
	if (e->error != 0) {
		acks->error = -e->error;
		acks->error_seq = e->msg.nlmsg_seq;
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

int
redirect_batch_send(struct redirect_batch *b, char *err, size_t errlen)
{
	mnl_cb_t ctl[NLMSG_ERROR + 1] = {[NLMSG_ERROR] = batch_ack_cb};
	struct redirect_acks acks = {0};
	char buf[REDIRECT_NL_RECV_SIZE];
	int fd = mnl_socket_get_fd(b->nl->sock);
	size_t len, idx;
	ssize_t n;

	nftnl_batch_end(mnl_nlmsg_batch_current(b->mb), b->nl->seq++);
	if (!mnl_nlmsg_batch_next(b->mb))
		return redirect_fail(err, errlen, EMSGSIZE,
		                     "closing the netlink batch");
	len = mnl_nlmsg_batch_size(b->mb);
	if (nl_grow_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, len + 4096) == -1)
		return redirect_fail(
		    err, errlen, errno,
		    "growing the netlink send buffer to %zu bytes", len);
	if (nl_grow_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE,
	                   b->n_msgs * REDIRECT_ACK_ROOM) == -1)
		return redirect_fail(
		    err, errlen, errno,
		    "growing the netlink receive buffer for %zu acks",
		    b->n_msgs);
	if (mnl_socket_sendto(b->nl->sock, mnl_nlmsg_batch_head(b->mb), len) ==
	    -1)
		return redirect_fail(err, errlen, errno,
		                     "sending the nftables batch (%zu bytes)",
		                     len);

	/* Acks come in message order; the first refusal names the culprit. */
	while (acks.acked < b->n_msgs && acks.error == 0) {
		n = nl_recv(b->nl, buf, sizeof(buf));
		if (n == -1)
			return redirect_fail(
			    err, errlen, errno,
			    "waiting for the kernel's acks (%zu of %zu)",
			    acks.acked, b->n_msgs);
		if (mnl_cb_run2(buf, n, 0, b->nl->portid, NULL, &acks, ctl,
		                MNL_ARRAY_SIZE(ctl)) == MNL_CB_ERROR)
			return redirect_fail(err, errlen, errno,
			                     "reading the kernel's acks");
	}
	if (acks.error == 0)
		return 0;
	idx = acks.error_seq - b->seq0;
	if (idx >= 1 && idx <= b->n_msgs)
		return redirect_fail(err, errlen, acks.error, "%s",
		                     b->what[idx - 1]);
	return redirect_fail(err, errlen, acks.error,
	                     "applying the nftables batch");
}
