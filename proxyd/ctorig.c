/*
 * ctorig.c - a redirected connection's original source; see ctorig.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "common/log.h"
#include "proxyd/ctorig.h"
#include "proxyd/nlreq.h"

/* The calling thread's socket, opened on first use. */
static __thread struct nlreq ctorig_nl = {.fd = -1};

struct ctorig_found {
	int family;
	bool have_addr, have_port;
	uint8_t addr[16];
	uint16_t port; /* network order */
};

static struct nlreq *
ctorig_open(void)
{
	if (ctorig_nl.fd == -1 &&
	    nlreq_open(&ctorig_nl, NETLINK_NETFILTER, CTORIG_TIMEOUT_MS) == -1)
		return NULL;
	return &ctorig_nl;
}

/* Nested attribute of type t in the nest, or NULL. */
static const struct nlattr *
ctorig_nested(const struct nlattr *nest, uint16_t t)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
	{
		if (mnl_attr_get_type(a) == t)
			return a;
	}
	return NULL;
}

static int
ctorig_attr_cb(const struct nlattr *a, void *data)
{
	struct ctorig_found *f = data;
	const struct nlattr *ip, *proto, *v;

	if (mnl_attr_get_type(a) != CTA_TUPLE_ORIG)
		return MNL_CB_OK;
	if ((ip = ctorig_nested(a, CTA_TUPLE_IP)) != NULL) {
		v = ctorig_nested(ip, f->family == AF_INET ? CTA_IP_V4_SRC
		                                           : CTA_IP_V6_SRC);
		if (v != NULL && mnl_attr_get_payload_len(v) ==
		                     (f->family == AF_INET ? 4u : 16u)) {
			memcpy(f->addr, mnl_attr_get_payload(v),
			       mnl_attr_get_payload_len(v));
			f->have_addr = true;
		}
	}
	if ((proto = ctorig_nested(a, CTA_TUPLE_PROTO)) != NULL &&
	    (v = ctorig_nested(proto, CTA_PROTO_SRC_PORT)) != NULL &&
	    mnl_attr_get_payload_len(v) == 2) {
		f->port = mnl_attr_get_u16(v);
		f->have_port = true;
	}
	return MNL_CB_OK;
}

static int
ctorig_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ctorig_attr_cb, data);
	return MNL_CB_OK;
}

/* The address bytes and port (network order) of a, of family fam. */
static const void *
ctorig_parts(const struct sockaddr *a, uint16_t *port)
{
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)a;

		*port = in->sin_port;
		return &in->sin_addr;
	}
	*port = ((const struct sockaddr_in6 *)a)->sin6_port;
	return &((const struct sockaddr_in6 *)a)->sin6_addr;
}

int
ctorig_source(const struct sockaddr *peer, const struct sockaddr *self,
              struct sockaddr_storage *orig)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ctorig_found f = {.family = peer->sa_family};
	struct nlattr *tuple, *nest;
	struct nlreq *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint16_t pport, sport;
	const void *paddr, *saddr;
	size_t alen;
	uint32_t seq;
	ssize_t n;
	int ret;

	if ((peer->sa_family != AF_INET && peer->sa_family != AF_INET6) ||
	    self->sa_family != peer->sa_family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if ((nl = ctorig_open()) == NULL)
		return -1;
	alen = peer->sa_family == AF_INET ? 4 : 16;
	paddr = ctorig_parts(peer, &pport);
	saddr = ctorig_parts(self, &sport);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = peer->sa_family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	/* The reply direction: from us (the redirect's target) to the
	 * peer as we see it. */
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh,
	             peer->sa_family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC,
	             alen, saddr);
	mnl_attr_put(nlh,
	             peer->sa_family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST,
	             alen, paddr);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, pport);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);

	if (nlreq_send(nl, nlh) == -1)
		return -1;
	seq = nlh->nlmsg_seq;
	/* nlreq_recv() skips answers to earlier questions that timed out. */
	do {
		if ((n = nlreq_recv(nl, seq, buf, sizeof(buf))) == -1)
			return -1;
		ret = mnl_cb_run(buf, n, seq, nl->portid, ctorig_msg_cb, &f);
	} while (ret > MNL_CB_STOP);
	if (ret == -1)
		return -1;
	if (!f.have_addr || !f.have_port) {
		errno = ENOENT;
		return -1;
	}
	memset(orig, 0, sizeof(*orig));
	if (peer->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)orig;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, f.addr, 4);
		in->sin_port = f.port;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)orig;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, f.addr, 16);
		in6->sin6_port = f.port;
	}
	return 0;
}
