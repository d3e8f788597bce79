/*
 * redirect.c - build the table "inet tollgate" and replace it atomically;
 * see redirect.h.  The status dump lives in status.c, the netlink plumbing
 * in nl.c.
 *
 * The table, as "nft list table inet tollgate" shows it (UID and PORT from
 * the spec, one uid rule per guarded user, MARK the daemon's SO_MARK, DNS
 * the stub's port, GROUP the NFLOG group).  Where a rule says "meta skuid
 * UID" it is repeated for each guarded thing, the matches being:
 *     meta skuid UID                     a guarded uid
 *     meta skuid FIRST-LAST              a range of subordinate uids
 *     meta skgid FIRST-LAST              a range of subordinate gids
 *     meta skuid 0-4294967295            with spec->all: any socket uid
 * (a range is a byteorder to network order and a "range" expression, as
 * nft itself builds it; packets without a socket match none of them):
 *
 *   chain nat_out { type nat hook output priority -100; policy accept;
 *     meta mark MARK return              comment "tollgated's own sockets"
 *     (with spec->all, for each exempt uid:)
 *     meta skuid EXEMPT return           comment "exempt uid EXEMPT"
 *     (with a DNS port, for each uid, before the loopback returns so that
 *      a query to a local resolver reaches the stub too:)
 *     meta skuid UID udp dport 53 redirect to :DNS
 *                           comment "guarded uid UID: DNS to the stub"
 *     meta skuid UID tcp dport 53 redirect to :DNS
 *                           comment "guarded uid UID: DNS over TCP to the stub"
 *     ip daddr 127.0.0.0/8 return        comment "loopback is left alone"
 *     ip6 daddr ::1 return               comment "loopback is left alone"
 *     meta skuid UID meta l4proto tcp redirect to :PORT
 *                           comment "guarded uid UID: TCP to tollgated"
 *   }
 *   chain filter_out { type filter hook output priority 0; policy accept;
 *     (the same three returns: redirected TCP and DNS have a loopback
 *      destination by now; then, with spec->all, the exempt returns)
 *     meta skuid UID jump guard          comment "guarded uid UID"
 *   }
 *   chain guard {
 *     (without a DNS port only:)
 *     udp dport 53 counter accept
 *                           comment "guarded DNS passes (no DNS stub)"
 *     meta l4proto tcp counter reject with tcp reset
 *                           comment "TCP that was not redirected"
 *     meta l4proto udp log group GROUP snaplen 64 counter
 *         reject with icmpx port-unreachable    ("log" with a group only)
 *                           comment "UDP of guarded users (not proxied)"
 *     counter reject with icmpx admin-prohibited
 *                           comment "other protocols of guarded users"
 *   }
 *
 * The batch is: create the table (no NLM_F_EXCL, so an existing one is
 * fine), delete it, create it again with its chains and rules.  The kernel
 * applies the whole batch or none of it, so the table is replaced in one
 * step whether or not it existed, and a failure leaves the old one intact.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "redirect/nl.h"
#include "common/config.h"
#include "redirect/redirect.h"

#define REDIRECT_FAMILY       NFPROTO_INET
#define REDIRECT_CHAIN_NAT    "nat_out"
#define REDIRECT_CHAIN_FILTER "filter_out"
#define REDIRECT_CHAIN_GUARD  "guard"
#define REDIRECT_PRIO_NAT     (-100) /* NF_IP_PRI_NAT_DST, "dstnat" */
#define REDIRECT_PRIO_FILTER  0
#define REDIRECT_DNS_PORT     53

/* Messages that do not depend on the uids: 3 table, 3 chain, 10 rules. */
#define REDIRECT_FIXED_MSGS 16

/* Rules per guarded uid: TCP, UDP DNS and TCP DNS redirects, the jump. */
#define REDIRECT_UID_MSGS 4

/* Rules per exempt uid: a return in each output chain. */
#define REDIRECT_EXEMPT_MSGS 2

/*
 * What one guarded rule matches: socket uids (NFT_META_SKUID) or gids
 * (NFT_META_SKGID) from first to last; first == last is one id.
 */
struct guarded {
	uint32_t key;
	uint32_t first;
	uint32_t last;
};

#define REDIRECT_COMMENT_LOOPBACK "loopback is left alone"
#define REDIRECT_COMMENT_MARK     "tollgated's own sockets"

/*
 * One rule under construction.  The first failing step records its errno
 * and turns the later steps into no-ops, so a rule reads as a list of
 * matches and a verdict, checked once in rule_commit().
 */
struct rule_build {
	struct nftnl_rule *r;
	const char *chain;
	int error;
};

static void
rule_begin(struct rule_build *rb, const char *chain)
{
	rb->chain = chain;
	rb->error = 0;
	rb->r = nftnl_rule_alloc();
	if (rb->r == NULL ||
	    nftnl_rule_set_str(rb->r, NFTNL_RULE_TABLE, REDIRECT_TABLE) == -1 ||
	    nftnl_rule_set_str(rb->r, NFTNL_RULE_CHAIN, chain) == -1) {
		rb->error = ENOMEM;
		return;
	}
	nftnl_rule_set_u32(rb->r, NFTNL_RULE_FAMILY, REDIRECT_FAMILY);
}

/* Append an expression of the given kind; NULL after any failure. */
static struct nftnl_expr *
rule_expr(struct rule_build *rb, const char *name)
{
	struct nftnl_expr *e;

	if (rb->error != 0)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (e == NULL) {
		rb->error = ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(rb->r, e);
	return e;
}

/* Load a meta key into register 1. */
static void
rule_meta(struct rule_build *rb, uint32_t key)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "meta")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

/* Load len bytes of a packet header at offset into register 1. */
static void
rule_payload(struct rule_build *rb, uint32_t base, uint32_t offset,
             uint32_t len)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "payload")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* Register 1 must equal data, or the rule ends here. */
static void
rule_cmp_eq(struct rule_build *rb, const void *data, uint32_t len)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "cmp")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	if (nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len) == -1)
		rb->error = ENOMEM;
}

static void
rule_match_meta_u8(struct rule_build *rb, uint32_t key, uint8_t value)
{
	rule_meta(rb, key);
	rule_cmp_eq(rb, &value, sizeof(value));
}

static void
rule_match_meta_u32(struct rule_build *rb, uint32_t key, uint32_t value)
{
	rule_meta(rb, key);
	rule_cmp_eq(rb, &value, sizeof(value));
}

/*
 * "meta skuid FIRST-LAST": the kernel compares bytes, so the id is turned
 * to network order first and the range's ends are given in it too.  One
 * id is a plain compare, as "meta skuid UID" is.
 */
static void
rule_match_guarded(struct rule_build *rb, const struct guarded *g)
{
	struct nftnl_expr *e;
	uint32_t from = htonl(g->first), to = htonl(g->last);

	if (g->first == g->last) {
		rule_match_meta_u32(rb, g->key, g->first);
		return;
	}
	rule_meta(rb, g->key);
	if ((e = rule_expr(rb, "byteorder")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, sizeof(uint32_t));
	if ((e = rule_expr(rb, "range")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	if (nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &from,
	                   sizeof(from)) == -1 ||
	    nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &to, sizeof(to)) == -1)
		rb->error = ENOMEM;
}

/* "guarded uid 1001", "guarded uids 100000-165535", "guarded gids ...". */
static void
guarded_fmt(const struct guarded *g, char *buf, size_t len)
{
	const char *what = g->key == NFT_META_SKGID ? "gid" : "uid";

	if (g->first == g->last)
		snprintf(buf, len, "guarded %s %" PRIu32, what, g->first);
	else if (g->first == 0 && g->last == UINT32_MAX)
		snprintf(buf, len, "guarded: every %s not exempt", what);
	else
		snprintf(buf, len, "guarded %ss %" PRIu32 "-%" PRIu32, what,
		         g->first, g->last);
}

/* "ip daddr 127.0.0.0/8": the nfproto check, then the first octet. */
static void
rule_match_ip4_loopback(struct rule_build *rb)
{
	uint8_t net = IN_LOOPBACKNET;

	rule_match_meta_u8(rb, NFT_META_NFPROTO, NFPROTO_IPV4);
	rule_payload(rb, NFT_PAYLOAD_NETWORK_HEADER,
	             offsetof(struct iphdr, daddr), sizeof(net));
	rule_cmp_eq(rb, &net, sizeof(net));
}

/* "ip6 daddr ::1" */
static void
rule_match_ip6_loopback(struct rule_build *rb)
{
	rule_match_meta_u8(rb, NFT_META_NFPROTO, NFPROTO_IPV6);
	rule_payload(rb, NFT_PAYLOAD_NETWORK_HEADER,
	             offsetof(struct ip6_hdr, ip6_dst),
	             sizeof(struct in6_addr));
	rule_cmp_eq(rb, &in6addr_loopback, sizeof(struct in6_addr));
}

/* "udp dport PORT" or "tcp dport PORT" (proto IPPROTO_UDP or _TCP). */
static void
rule_match_dport(struct rule_build *rb, uint8_t proto, uint16_t port)
{
	uint16_t port_be = htons(port);

	/* Both headers keep the destination port at the same offset. */
	_Static_assert(offsetof(struct udphdr, dest) ==
	                   offsetof(struct tcphdr, dest),
	               "UDP and TCP destination ports are at one offset");
	rule_match_meta_u8(rb, NFT_META_L4PROTO, proto);
	rule_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER,
	             offsetof(struct udphdr, dest), sizeof(port_be));
	rule_cmp_eq(rb, &port_be, sizeof(port_be));
}

static void
rule_counter(struct rule_build *rb)
{
	rule_expr(rb, "counter");
}

/* "log group GROUP snaplen REDIRECT_NFLOG_SNAPLEN": the packet to NFLOG. */
static void
rule_log(struct rule_build *rb, uint16_t group)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "log")) == NULL)
		return;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, REDIRECT_NFLOG_SNAPLEN);
}

/* A verdict: NFT_RETURN, NF_ACCEPT, or NFT_JUMP to chain. */
static void
rule_verdict(struct rule_build *rb, int verdict, const char *chain)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "immediate")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain != NULL &&
	    nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain) == -1)
		rb->error = ENOMEM;
}

/* "redirect to :PORT": the port goes through register 1. */
static void
rule_redirect(struct rule_build *rb, uint16_t port)
{
	struct nftnl_expr *e;
	uint16_t port_be = htons(port);

	if ((e = rule_expr(rb, "immediate")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	if (nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &port_be, sizeof(port_be)) ==
	    -1) {
		rb->error = ENOMEM;
		return;
	}
	if ((e = rule_expr(rb, "redir")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MAX, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
	                   NF_NAT_RANGE_PROTO_SPECIFIED);
}

/* NFT_REJECT_TCP_RST, or NFT_REJECT_ICMPX_UNREACH with an icmpx code. */
static void
rule_reject(struct rule_build *rb, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e;

	if ((e = rule_expr(rb, "reject")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

/* The comment, as nft stores it: a NUL-terminated string in a TLV. */
static void
rule_comment(struct rule_build *rb, const char *comment)
{
	struct nftnl_udata_buf *ud;

	if (rb->error != 0)
		return;
	if (strlen(comment) >= NFTNL_UDATA_COMMENT_MAXLEN) {
		rb->error = ENAMETOOLONG;
		return;
	}
	ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 16);
	if (ud == NULL) {
		rb->error = ENOMEM;
		return;
	}
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment) ||
	    nftnl_rule_set_data(rb->r, NFTNL_RULE_USERDATA,
	                        nftnl_udata_buf_data(ud),
	                        nftnl_udata_buf_len(ud)) == -1)
		rb->error = ENOMEM;
	nftnl_udata_buf_free(ud);
}

/* Put the comment on the finished rule and append it to the batch. */
static int
rule_commit(struct redirect_batch *b, struct rule_build *rb,
            const char *comment, char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	char what[REDIRECT_WHAT_MAX];
	int ret;

	snprintf(what, sizeof(what), "adding rule \"%s\" to chain %s", comment,
	         rb->chain);
	rule_comment(rb, comment);
	if (rb->error != 0) {
		ret = redirect_fail(err, errlen, rb->error,
		                    "building rule \"%s\" of chain %s", comment,
		                    rb->chain);
		goto out;
	}
	nlh = nftnl_nlmsg_build_hdr(
	    redirect_batch_cur(b), NFT_MSG_NEWRULE, REDIRECT_FAMILY,
	    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, redirect_batch_seq(b));
	nftnl_rule_nlmsg_build_payload(nlh, rb->r);
	ret = redirect_batch_commit(b, what, err, errlen);
out:
	if (rb->r != NULL)
		nftnl_rule_free(rb->r);
	rb->r = NULL;
	return ret;
}

static int
batch_table(struct redirect_batch *b, uint16_t type, uint16_t flags,
            const char *what, char *err, size_t errlen)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	t = nftnl_table_alloc();
	if (t == NULL)
		return redirect_fail(err, errlen, ENOMEM, "%s", what);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, REDIRECT_TABLE) == -1) {
		nftnl_table_free(t);
		return redirect_fail(err, errlen, ENOMEM, "%s", what);
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, REDIRECT_FAMILY);
	nlh =
	    nftnl_nlmsg_build_hdr(redirect_batch_cur(b), type, REDIRECT_FAMILY,
	                          flags | NLM_F_ACK, redirect_batch_seq(b));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return redirect_batch_commit(b, what, err, errlen);
}

/* A chain; a base chain on the output hook when type is not NULL. */
static int
batch_chain(struct redirect_batch *b, const char *name, const char *type,
            int32_t prio, char *err, size_t errlen)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	char what[REDIRECT_WHAT_MAX];

	snprintf(what, sizeof(what), "adding chain %s", name);
	c = nftnl_chain_alloc();
	if (c == NULL)
		return redirect_fail(err, errlen, ENOMEM, "%s", what);
	if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, REDIRECT_TABLE) == -1 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) == -1 ||
	    (type != NULL &&
	     nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type) == -1)) {
		nftnl_chain_free(c);
		return redirect_fail(err, errlen, ENOMEM, "%s", what);
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, REDIRECT_FAMILY);
	if (type != NULL) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_OUT);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nftnl_nlmsg_build_hdr(redirect_batch_cur(b), NFT_MSG_NEWCHAIN,
	                            REDIRECT_FAMILY, NLM_F_CREATE | NLM_F_ACK,
	                            redirect_batch_seq(b));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return redirect_batch_commit(b, what, err, errlen);
}

/* Loopback destinations, which both output chains leave alone. */
static int
batch_loopback(struct redirect_batch *b, const char *chain, char *err,
               size_t errlen)
{
	struct rule_build rb;

	rule_begin(&rb, chain);
	rule_match_ip4_loopback(&rb);
	rule_verdict(&rb, NFT_RETURN, NULL);
	if (rule_commit(b, &rb, REDIRECT_COMMENT_LOOPBACK, err, errlen) == -1)
		return -1;

	rule_begin(&rb, chain);
	rule_match_ip6_loopback(&rb);
	rule_verdict(&rb, NFT_RETURN, NULL);
	return rule_commit(b, &rb, REDIRECT_COMMENT_LOOPBACK, err, errlen);
}

static int
guarded_cmp(const void *a, const void *b)
{
	const struct guarded *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return 0;
}

/*
 * What the spec guards, into g (room for REDIRECT_MAX_UIDS): sorted, and
 * ids and ranges that overlap or touch joined, so each socket uid or gid
 * is matched by one rule at most.  Returns the count.
 */
static size_t
guarded_list(const struct redirect_spec *spec, struct guarded *g)
{
	size_t i, n = 0, m;

	if (spec->all) {
		g[0].key = NFT_META_SKUID;
		g[0].first = 0;
		g[0].last = UINT32_MAX;
		return 1;
	}
	for (i = 0; i < spec->n_uids; i++, n++) {
		g[n].key = NFT_META_SKUID;
		g[n].first = g[n].last = spec->uids[i];
	}
	for (i = 0; i < spec->n_uid_ranges; i++, n++) {
		g[n].key = NFT_META_SKUID;
		g[n].first = spec->uid_ranges[i].first;
		g[n].last = spec->uid_ranges[i].last;
	}
	for (i = 0; i < spec->n_gid_ranges; i++, n++) {
		g[n].key = NFT_META_SKGID;
		g[n].first = spec->gid_ranges[i].first;
		g[n].last = spec->gid_ranges[i].last;
	}
	if (n == 0)
		return 0;
	qsort(g, n, sizeof(g[0]), guarded_cmp);
	for (i = 1, m = 0; i < n; i++) {
		if (g[i].key == g[m].key &&
		    (g[m].last == UINT32_MAX || g[i].first <= g[m].last + 1)) {
			if (g[i].last > g[m].last)
				g[m].last = g[i].last;
			continue;
		}
		g[++m] = g[i];
	}
	return m + 1;
}

/* The exempt uids' returns (spec->all only), first in each chain. */
static int
batch_exempt(struct redirect_batch *b, const struct redirect_spec *spec,
             const char *chain, char *err, size_t errlen)
{
	struct rule_build rb;
	char comment[NFTNL_UDATA_COMMENT_MAXLEN];
	size_t i;

	for (i = 0; spec->all && i < spec->n_exempt; i++) {
		snprintf(comment, sizeof(comment), "exempt uid %u",
		         (unsigned)spec->exempt[i]);
		rule_begin(&rb, chain);
		rule_match_meta_u32(&rb, NFT_META_SKUID, spec->exempt[i]);
		rule_verdict(&rb, NFT_RETURN, NULL);
		if (rule_commit(b, &rb, comment, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* The DNS redirects of one guarded match, UDP and TCP, to any address. */
static int
batch_dns_redirect(struct redirect_batch *b, const struct guarded *g,
                   uint16_t dns_port, char *err, size_t errlen)
{
	struct rule_build rb;
	char who[64], comment[NFTNL_UDATA_COMMENT_MAXLEN];

	guarded_fmt(g, who, sizeof(who));
	snprintf(comment, sizeof(comment), "%s: DNS to the stub", who);
	rule_begin(&rb, REDIRECT_CHAIN_NAT);
	rule_match_guarded(&rb, g);
	rule_match_dport(&rb, IPPROTO_UDP, REDIRECT_DNS_PORT);
	rule_redirect(&rb, dns_port);
	if (rule_commit(b, &rb, comment, err, errlen) == -1)
		return -1;

	snprintf(comment, sizeof(comment), "%s: DNS over TCP to the stub", who);
	rule_begin(&rb, REDIRECT_CHAIN_NAT);
	rule_match_guarded(&rb, g);
	rule_match_dport(&rb, IPPROTO_TCP, REDIRECT_DNS_PORT);
	rule_redirect(&rb, dns_port);
	return rule_commit(b, &rb, comment, err, errlen);
}

static int
batch_nat_out(struct redirect_batch *b, const struct redirect_spec *spec,
              const struct guarded *g, size_t n, char *err, size_t errlen)
{
	struct rule_build rb;
	char who[64], comment[NFTNL_UDATA_COMMENT_MAXLEN];
	size_t i;

	rule_begin(&rb, REDIRECT_CHAIN_NAT);
	rule_match_meta_u32(&rb, NFT_META_MARK, spec->mark);
	rule_verdict(&rb, NFT_RETURN, NULL);
	if (rule_commit(b, &rb, REDIRECT_COMMENT_MARK, err, errlen) == -1 ||
	    batch_exempt(b, spec, REDIRECT_CHAIN_NAT, err, errlen) == -1)
		return -1;
	/* Before the loopback returns: a query to 127.0.0.53 is DNS too. */
	for (i = 0; spec->dns_port != 0 && i < n; i++)
		if (batch_dns_redirect(b, &g[i], spec->dns_port, err, errlen) ==
		    -1)
			return -1;
	if (batch_loopback(b, REDIRECT_CHAIN_NAT, err, errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		guarded_fmt(&g[i], who, sizeof(who));
		snprintf(comment, sizeof(comment), "%s: TCP to tollgated", who);
		rule_begin(&rb, REDIRECT_CHAIN_NAT);
		rule_match_guarded(&rb, &g[i]);
		rule_match_meta_u8(&rb, NFT_META_L4PROTO, IPPROTO_TCP);
		rule_redirect(&rb, spec->tcp_port);
		if (rule_commit(b, &rb, comment, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
batch_filter_out(struct redirect_batch *b, const struct redirect_spec *spec,
                 const struct guarded *g, size_t n, char *err, size_t errlen)
{
	struct rule_build rb;
	char comment[NFTNL_UDATA_COMMENT_MAXLEN];
	size_t i;

	rule_begin(&rb, REDIRECT_CHAIN_FILTER);
	rule_match_meta_u32(&rb, NFT_META_MARK, spec->mark);
	rule_verdict(&rb, NFT_RETURN, NULL);
	if (rule_commit(b, &rb, REDIRECT_COMMENT_MARK, err, errlen) == -1 ||
	    batch_loopback(b, REDIRECT_CHAIN_FILTER, err, errlen) == -1 ||
	    batch_exempt(b, spec, REDIRECT_CHAIN_FILTER, err, errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		guarded_fmt(&g[i], comment, sizeof(comment));
		rule_begin(&rb, REDIRECT_CHAIN_FILTER);
		rule_match_guarded(&rb, &g[i]);
		rule_verdict(&rb, NFT_JUMP, REDIRECT_CHAIN_GUARD);
		if (rule_commit(b, &rb, comment, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
batch_guard(struct redirect_batch *b, const struct redirect_spec *spec,
            char *err, size_t errlen)
{
	struct rule_build rb;

	if (spec->dns_port == 0) {
		rule_begin(&rb, REDIRECT_CHAIN_GUARD);
		rule_match_dport(&rb, IPPROTO_UDP, REDIRECT_DNS_PORT);
		rule_counter(&rb);
		rule_verdict(&rb, NF_ACCEPT, NULL);
		if (rule_commit(b, &rb, "guarded DNS passes (no DNS stub)", err,
		                errlen) == -1)
			return -1;
	}

	rule_begin(&rb, REDIRECT_CHAIN_GUARD);
	rule_match_meta_u8(&rb, NFT_META_L4PROTO, IPPROTO_TCP);
	rule_counter(&rb);
	rule_reject(&rb, NFT_REJECT_TCP_RST, 0);
	if (rule_commit(b, &rb, "TCP that was not redirected", err, errlen) ==
	    -1)
		return -1;

	/* Port-unreachable, not prohibited: QUIC then tries TCP at once. */
	rule_begin(&rb, REDIRECT_CHAIN_GUARD);
	rule_match_meta_u8(&rb, NFT_META_L4PROTO, IPPROTO_UDP);
	if (spec->nflog_group != 0)
		rule_log(&rb, spec->nflog_group);
	rule_counter(&rb);
	rule_reject(&rb, NFT_REJECT_ICMPX_UNREACH,
	            NFT_REJECT_ICMPX_PORT_UNREACH);
	if (rule_commit(b, &rb, "UDP of guarded users (not proxied)", err,
	                errlen) == -1)
		return -1;

	rule_begin(&rb, REDIRECT_CHAIN_GUARD);
	rule_counter(&rb);
	rule_reject(&rb, NFT_REJECT_ICMPX_UNREACH,
	            NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	return rule_commit(b, &rb, "other protocols of guarded users", err,
	                   errlen);
}

int
redirect_install(const struct redirect_spec *spec, char *err, size_t errlen)
{
	struct redirect_nl nl;
	struct redirect_batch *b = NULL;
	struct guarded *g = NULL;
	size_t n_in, n;
	int ret = -1, error;

	if (spec->tcp_port == 0)
		return redirect_fail(err, errlen, EINVAL,
		                     "installing table inet %s: port 0",
		                     REDIRECT_TABLE);
	if (spec->mark == 0)
		return redirect_fail(
		    err, errlen, EINVAL,
		    "installing table inet %s: socket mark 0 would exempt "
		    "every unmarked packet",
		    REDIRECT_TABLE);
	n_in = spec->n_uids + spec->n_uid_ranges + spec->n_gid_ranges;
	if (n_in > REDIRECT_MAX_UIDS || spec->n_exempt > REDIRECT_MAX_EXEMPT ||
	    (spec->n_uids > 0 && spec->uids == NULL) ||
	    (spec->n_uid_ranges > 0 && spec->uid_ranges == NULL) ||
	    (spec->n_gid_ranges > 0 && spec->gid_ranges == NULL))
		return redirect_fail(
		    err, errlen, EINVAL,
		    "installing table inet %s: %zu guarded uids and ranges "
		    "(at most %d), %zu exempt (at most %d)",
		    REDIRECT_TABLE, n_in, REDIRECT_MAX_UIDS, spec->n_exempt,
		    REDIRECT_MAX_EXEMPT);
	g = calloc(n_in > 0 ? n_in : 1, sizeof(*g));
	if (g == NULL)
		return redirect_fail(err, errlen, errno,
		                     "installing table inet %s",
		                     REDIRECT_TABLE);
	n = guarded_list(spec, g);

	if (redirect_nl_open(&nl, err, errlen) == -1) {
		free(g);
		return -1;
	}
	b = redirect_batch_new(&nl,
	                       REDIRECT_FIXED_MSGS + REDIRECT_UID_MSGS * n +
	                           REDIRECT_EXEMPT_MSGS * spec->n_exempt,
	                       err, errlen);
	if (b == NULL)
		goto out;
	if (batch_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE,
	                "creating table inet " REDIRECT_TABLE " if missing",
	                err, errlen) == -1 ||
	    batch_table(b, NFT_MSG_DELTABLE, 0,
	                "deleting the old table inet " REDIRECT_TABLE, err,
	                errlen) == -1 ||
	    batch_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE,
	                "creating the new table inet " REDIRECT_TABLE, err,
	                errlen) == -1)
		goto out;
	if (batch_chain(b, REDIRECT_CHAIN_NAT, "nat", REDIRECT_PRIO_NAT, err,
	                errlen) == -1 ||
	    batch_chain(b, REDIRECT_CHAIN_FILTER, "filter",
	                REDIRECT_PRIO_FILTER, err, errlen) == -1 ||
	    batch_chain(b, REDIRECT_CHAIN_GUARD, NULL, 0, err, errlen) == -1)
		goto out;
	if (batch_nat_out(b, spec, g, n, err, errlen) == -1 ||
	    batch_filter_out(b, spec, g, n, err, errlen) == -1 ||
	    batch_guard(b, spec, err, errlen) == -1)
		goto out;
	ret = redirect_batch_send(b, err, errlen);
out:
	error = errno;
	redirect_batch_free(b);
	redirect_nl_close(&nl);
	free(g);
	errno = error;
	return ret;
}

int
redirect_remove(char *err, size_t errlen)
{
	struct redirect_nl nl;
	struct redirect_batch *b;
	int ret = -1, error;

	if (redirect_nl_open(&nl, err, errlen) == -1)
		return -1;
	b = redirect_batch_new(&nl, 1, err, errlen);
	if (b != NULL && batch_table(b, NFT_MSG_DELTABLE, 0,
	                             "deleting table inet " REDIRECT_TABLE, err,
	                             errlen) == 0) {
		ret = redirect_batch_send(b, err, errlen);
		if (ret == -1 && errno == ENOENT)
			ret = 0;
	}
	error = errno;
	redirect_batch_free(b);
	redirect_nl_close(&nl);
	errno = error;
	return ret;
}

void
redirect_spec_of(const struct config *cfg, struct redirect_spec *spec)
{
	size_t i;

	_Static_assert(CONFIG_MAX_GUARD + 1 <= REDIRECT_MAX_EXEMPT,
	               "every exempt uid and tollgated's fit the spec");
	memset(spec, 0, sizeof(*spec));
	if (cfg->guard_all) {
		spec->all = true;
		for (i = 0; i < cfg->n_exempt; i++)
			spec->exempt[spec->n_exempt++] = cfg->guard_exempt[i];
		if (cfg->user_uid_known)
			spec->exempt[spec->n_exempt++] = cfg->user_uid;
	}
	spec->uids = cfg->guard_uids;
	spec->n_uids = cfg->n_guard;
	spec->uid_ranges = cfg->guard_subuid;
	spec->n_uid_ranges = cfg->n_guard_subuid;
	spec->gid_ranges = cfg->guard_subgid;
	spec->n_gid_ranges = cfg->n_guard_subgid;
	spec->tcp_port = config_transparent_port(cfg);
	spec->dns_port = config_dns_port(cfg);
	spec->mark = cfg->socket_mark;
}
