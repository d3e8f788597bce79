/*
 * nflog.c - an NFLOG group reader over libmnl; see nflog.h.
 *
 * Binding is two config messages to NFNL_SUBSYS_ULOG, each acked: bind
 * the group, then copy mode "packet" with NFLOG_COPY_RANGE bytes.  The
 * kernel adds NFULA_UID by itself whenever the packet's socket is known
 * (there is no flag asking for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>

#include "redirect/nflog.h"
#include "redirect/nl.h"

/* Receive buffer: one datagram of log messages is never larger. */
#define NFLOG_RECV_SIZE 16384

/* Socket receive buffer asked for, so a burst is not dropped. */
#define NFLOG_SOCK_RCVBUF (1 << 20)

/* How long binding waits for each ack, in milliseconds. */
#define NFLOG_ACK_TIMEOUT_MS 5000

struct nflog {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t group;
};

/* What a read passes to the message callback. */
struct nflog_reading {
	void (*each)(void *arg, const struct nflog_pkt *p);
	void *arg;
};

/* --- the payload ----------------------------------------------------- */

static void
set_addr4(struct sockaddr_storage *ss, const void *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, addr, sizeof(sin->sin_addr));
}

static void
set_addr6(struct sockaddr_storage *ss, const void *addr)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr, sizeof(sin6->sin6_addr));
}

/* The ports of a UDP or TCP header at l4 (avail bytes), when there. */
static void
parse_ports(struct nflog_pkt *p, const uint8_t *l4, size_t avail)
{
	uint16_t sport, dport;

	/* Both headers start with the source and destination ports. */
	if ((p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP) || avail < 4)
		return;
	memcpy(&sport, l4, sizeof(sport));
	memcpy(&dport, l4 + 2, sizeof(dport));
	if (p->family == AF_INET) {
		((struct sockaddr_in *)&p->src)->sin_port = sport;
		((struct sockaddr_in *)&p->dst)->sin_port = dport;
	} else {
		((struct sockaddr_in6 *)&p->src)->sin6_port = sport;
		((struct sockaddr_in6 *)&p->dst)->sin6_port = dport;
	}
	p->has_ports = true;
}

static int
parse_ip4(const uint8_t *b, size_t len, struct nflog_pkt *p)
{
	struct ip ip;
	size_t hlen;

	if (len < sizeof(ip))
		return -1;
	memcpy(&ip, b, sizeof(ip));
	hlen = (size_t)ip.ip_hl * 4;
	if (hlen < sizeof(ip))
		return -1;
	p->family = AF_INET;
	p->proto = ip.ip_p;
	p->len = ntohs(ip.ip_len);
	set_addr4(&p->src, &ip.ip_src);
	set_addr4(&p->dst, &ip.ip_dst);
	/* A later fragment starts inside the payload: no ports in it. */
	if ((ntohs(ip.ip_off) & IP_OFFMASK) != 0 || hlen > len)
		return 0;
	parse_ports(p, b + hlen, len - hlen);
	return 0;
}

static int
parse_ip6(const uint8_t *b, size_t len, struct nflog_pkt *p)
{
	struct ip6_hdr ip6;
	struct ip6_frag frag;
	size_t off, ext_len;
	uint8_t next;
	int n;

	if (len < sizeof(ip6))
		return -1;
	memcpy(&ip6, b, sizeof(ip6));
	p->family = AF_INET6;
	p->len = sizeof(ip6) + ntohs(ip6.ip6_plen);
	set_addr6(&p->src, &ip6.ip6_src);
	set_addr6(&p->dst, &ip6.ip6_dst);
	next = ip6.ip6_nxt;
	off = sizeof(ip6);
	for (n = 0;; n++) {
		p->proto = next;
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS && next != IPPROTO_FRAGMENT &&
		    next != IPPROTO_AH)
			break;
		if (n == NFLOG_IP6_EXT_MAX)
			return -1;
		/* Every extension header starts: next header, length. */
		if (len - off < 2)
			return 0;
		if (next == IPPROTO_FRAGMENT) {
			if (len - off < sizeof(frag))
				return 0;
			memcpy(&frag, b + off, sizeof(frag));
			/* The mask is in network order already. */
			if ((frag.ip6f_offlg & IP6F_OFF_MASK) != 0) {
				p->proto = frag.ip6f_nxt;
				return 0;
			}
			ext_len = sizeof(frag);
		} else if (next == IPPROTO_AH)
			ext_len = ((size_t)b[off + 1] + 2) * 4;
		else
			ext_len = ((size_t)b[off + 1] + 1) * 8;
		next = b[off];
		if (ext_len > len - off) {
			p->proto = next;
			return 0;
		}
		off += ext_len;
	}
	parse_ports(p, b + off, len - off);
	return 0;
}

int
nflog_parse_payload(int family, const void *bytes, size_t len,
                    struct nflog_pkt *p)
{
	const uint8_t *b = bytes;
	int version;

	memset(p, 0, sizeof(*p));
	if (len < 1)
		return -1;
	version = b[0] >> 4;
	if (version == 4 && (family == AF_INET || family == AF_UNSPEC))
		return parse_ip4(b, len, p);
	if (version == 6 && (family == AF_INET6 || family == AF_UNSPEC))
		return parse_ip6(b, len, p);
	return -1;
}

/* --- the socket ------------------------------------------------------ */

/* Start a message to the ULOG subsystem at buf, about n's group. */
static struct nlmsghdr *
msg_start(struct nflog *n, void *buf, uint16_t type, uint16_t flags,
          uint8_t family)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = n->seq++;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(n->group);
	return nlh;
}

/* Log messages that come before an ack are dropped: nobody reads yet. */
static int
ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	return MNL_CB_OK;
}

/* Send a config message and wait for its ack.  0, or -1 + err. */
static int
config_send(struct nflog *n, struct nlmsghdr *nlh, const char *what, char *err,
            size_t errlen)
{
	char buf[NFLOG_RECV_SIZE];
	ssize_t got;
	int ret;

	if (mnl_socket_sendto(n->sock, nlh, nlh->nlmsg_len) == -1)
		return redirect_fail(err, errlen, errno, "%s nflog group %u",
		                     what, (unsigned)n->group);
	do {
		got = mnl_socket_recvfrom(n->sock, buf, sizeof(buf));
		if (got == -1)
			return redirect_fail(
			    err, errlen,
			    errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT
			                                            : errno,
			    "%s nflog group %u: waiting for the ack", what,
			    (unsigned)n->group);
		ret = mnl_cb_run(buf, (size_t)got, nlh->nlmsg_seq, n->portid,
		                 ignore_cb, NULL);
	} while (ret == MNL_CB_OK);
	if (ret == MNL_CB_ERROR)
		return redirect_fail(err, errlen, errno, "%s nflog group %u",
		                     what, (unsigned)n->group);
	return 0;
}

static int
config_bind(struct nflog *n, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {
	    .copy_range = htonl(NFLOG_COPY_RANGE),
	    .copy_mode = NFULNL_COPY_PACKET,
	};

	nlh = msg_start(n, buf, NFULNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (config_send(n, nlh, "binding", err, errlen) == -1)
		return -1;

	nlh = msg_start(n, buf, NFULNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	return config_send(n, nlh, "setting the copy mode of", err, errlen);
}

/* A receive timeout while binding, then non-blocking for the loop. */
static int
sock_setup(struct nflog *n, bool binding, char *err, size_t errlen)
{
	int fd = mnl_socket_get_fd(n->sock), flags, size = NFLOG_SOCK_RCVBUF;
	struct timeval tv = {
	    .tv_sec = NFLOG_ACK_TIMEOUT_MS / 1000,
	    .tv_usec = (NFLOG_ACK_TIMEOUT_MS % 1000) * 1000,
	};

	if (binding) {
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
		    -1)
			return redirect_fail(
			    err, errlen, errno,
			    "setting the nflog socket's timeout");
		/* Root may pass the sysctl cap; anyone else gets the cap. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		               sizeof(size)) == -1 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		               sizeof(size)) == -1)
			return redirect_fail(
			    err, errlen, errno,
			    "growing the nflog socket's buffer");
		return 0;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return redirect_fail(err, errlen, errno,
		                     "making the nflog socket non-blocking");
	return 0;
}

struct nflog *
nflog_open(uint16_t group, char *err, size_t errlen)
{
	struct nflog *n;
	int error;

	if (group == 0) {
		redirect_fail(err, errlen, EINVAL, "binding nflog group 0");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		redirect_fail(err, errlen, errno, "allocating an nflog reader");
		return NULL;
	}
	n->group = group;
	n->seq = (uint32_t)time(NULL);
	n->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (n->sock == NULL) {
		redirect_fail(err, errlen, errno,
		              "opening a netfilter netlink socket for nflog");
		goto fail;
	}
	if (mnl_socket_bind(n->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		redirect_fail(err, errlen, errno,
		              "binding the nflog netlink socket");
		goto fail;
	}
	n->portid = mnl_socket_get_portid(n->sock);
	if (sock_setup(n, true, err, errlen) == -1 ||
	    config_bind(n, err, errlen) == -1 ||
	    sock_setup(n, false, err, errlen) == -1)
		goto fail;
	return n;
fail:
	error = errno;
	nflog_close(n);
	errno = error;
	return NULL;
}

int
nflog_fd(const struct nflog *n)
{
	return mnl_socket_get_fd(n->sock);
}

void
nflog_close(struct nflog *n)
{
	if (n == NULL)
		return;
	if (n->sock != NULL)
		mnl_socket_close(n->sock);
	free(n);
}

/* --- reading --------------------------------------------------------- */

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK; /* newer than us: not ours to read */
	if (type == NFULA_UID && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
packet_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nflog_reading *r = data;
	const struct nlattr *tb[NFULA_MAX + 1] = {0};
	const struct nfgenmsg *g;
	struct nflog_pkt p;
	int family;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	g = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (tb[NFULA_PAYLOAD] == NULL)
		return MNL_CB_OK;
	family = g->nfgen_family == AF_INET || g->nfgen_family == AF_INET6
	             ? g->nfgen_family
	             : AF_UNSPEC;
	if (nflog_parse_payload(family, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
	                        mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]),
	                        &p) == -1)
		return MNL_CB_OK;
	if (tb[NFULA_UID] != NULL) {
		p.uid = (uid_t)ntohl(mnl_attr_get_u32(tb[NFULA_UID]));
		p.has_uid = true;
	}
	r->each(r->arg, &p);
	return MNL_CB_OK;
}

int
nflog_read(struct nflog *n, void (*each)(void *arg, const struct nflog_pkt *p),
           void *arg)
{
	struct nflog_reading r = {each, arg};
	char buf[NFLOG_RECV_SIZE];
	ssize_t got;
	int i;

	for (i = 0; i < NFLOG_READ_MAX; i++) {
		got = recv(nflog_fd(n), buf, sizeof(buf), MSG_DONTWAIT);
		if (got == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		/* Log messages carry sequence number 0 and port 0. */
		if (mnl_cb_run(buf, (size_t)got, 0, 0, packet_cb, &r) ==
		    MNL_CB_ERROR)
			return -1;
	}
	return 0;
}
