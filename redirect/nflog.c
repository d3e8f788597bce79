/*
 * nflog.c - an NFLOG group reader over libmnl; see nflog.h.
 *
 * Binding is two config messages to NFNL_SUBSYS_ULOG, each acked: bind
 * the group, then copy mode "packet" with NFLOG_COPY_RANGE bytes and a
 * flush timeout of NFLOG_FLUSH_CS.  The
 * kernel adds NFULA_UID by itself whenever the packet's socket is known
 * (there is no flag asking for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>

#include "redirect/nflog.h"
#include "redirect/nl.h"

/* Receive buffer: one datagram of log messages is never larger. */
#define NFLOG_RECV_SIZE 16384

/* The kernel holds log messages back until 100 are queued or this many
 * hundredths of a second passed (default 100: a whole second, by which
 * time a short-lived sender's socket is gone and cannot be attributed). */
#define NFLOG_FLUSH_CS 1

/* Socket receive buffer asked for, so a burst is not dropped. */
#define NFLOG_SOCK_RCVBUF (1 << 20)

struct nflog {
	struct redirect_nl nl; /* its timeout only matters while binding */
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
msg_start(struct nflog *n, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = n->nl.seq++;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
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

/* Bind the group, then ask for the packets' first bytes; each acked. */
static int
config_bind(struct nflog *n, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char what[64];
	struct nlmsghdr *nlh;
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {
	    .copy_range = htonl(NFLOG_COPY_RANGE),
	    .copy_mode = NFULNL_COPY_PACKET,
	};

	snprintf(what, sizeof(what), "binding nflog group %u",
	         (unsigned)n->group);
	nlh = msg_start(n, buf, NFULNL_MSG_CONFIG, NLM_F_ACK);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (redirect_nl_request(&n->nl, nlh, ignore_cb, NULL, what, err,
	                        errlen) == -1)
		return -1;

	snprintf(what, sizeof(what),
	         "setting the copy mode and timeout of nflog group %u",
	         (unsigned)n->group);
	nlh = msg_start(n, buf, NFULNL_MSG_CONFIG, NLM_F_ACK);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(NFLOG_FLUSH_CS));
	return redirect_nl_request(&n->nl, nlh, ignore_cb, NULL, what, err,
	                           errlen);
}

/* A buffer for bursts, and non-blocking for the event loop. */
static int
sock_setup(struct nflog *n, char *err, size_t errlen)
{
	int fd = nflog_fd(n), flags, size = NFLOG_SOCK_RCVBUF;

	/* Root may pass the sysctl cap; anyone else gets the cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) ==
	        -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == -1)
		return redirect_fail(err, errlen, errno,
		                     "growing the nflog socket's buffer");
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
	/* Blocking, with a timeout, until the group is bound. */
	if (redirect_nl_open(&n->nl, err, errlen) == -1 ||
	    config_bind(n, err, errlen) == -1 ||
	    sock_setup(n, err, errlen) == -1)
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
	return mnl_socket_get_fd(n->nl.sock);
}

void
nflog_close(struct nflog *n)
{
	if (n == NULL)
		return;
	redirect_nl_close(&n->nl);
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
