/*
 * status.c - read the table "inet tollgate" back from the kernel and print
 * a summary; see redirect_status() in redirect.h.
 *
 * Three requests make one snapshot: get the table, dump the chains, dump
 * the rules of the table.  Every answer carries the low 16 bits of the
 * ruleset generation in its nfgenmsg res_id; when they differ, the
 * ruleset changed between the requests and the snapshot is taken again,
 * at most REDIRECT_STATUS_TRIES times, as it is when the kernel flags a
 * dump as interrupted (NLM_F_DUMP_INTR, EINTR from mnl_cb_run).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "common/config.h"
#include "redirect/nl.h"
#include "redirect/redirect.h"

#define REDIRECT_STATUS_TRIES   3
#define REDIRECT_STATUS_DESCLEN 16384 /* the guarded set, told */

/* Width of the comment column, so counters line up. */
#define REDIRECT_COMMENT_COLUMN 42

struct status_snap {
	bool present;
	bool gen_known;
	bool gen_changed;
	uint16_t gen;                    /* generation, low 16 bits */
	struct nftnl_chain_list *chains; /* ours, with their rules */
};

/* What a rule says, as far as the summary cares. */
struct rule_facts {
	const char *comment;
	bool has_uid; /* a match on socket uids (or gids: is_gid) */
	bool is_gid;
	uint32_t uid;      /* the first id matched */
	uint32_t uid_last; /* the last, uid when one */
	bool is_return;
	bool has_port;
	uint16_t port;
	bool has_dport; /* a match on the transport destination port */
	uint16_t dport;
	bool has_redir;
	bool has_log;
	uint16_t log_group;
	bool has_counter;
	uint64_t packets;
	uint64_t bytes;
	uint32_t meta_key; /* key of the last meta load, 0 after a compare */
	bool dport_loaded; /* the last expression loaded the dest. port */
};

/* Note the generation an answer was made in. */
static void
snap_gen(struct status_snap *snap, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	uint16_t gen = ntohs(g->res_id);

	if (!snap->gen_known) {
		snap->gen = gen;
		snap->gen_known = true;
	} else if (gen != snap->gen)
		snap->gen_changed = true;
}

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct status_snap *snap = data;

	snap_gen(snap, nlh);
	snap->present = true;
	return MNL_CB_OK;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct status_snap *snap = data;
	struct nftnl_chain *c;
	const char *table;

	snap_gen(snap, nlh);
	c = nftnl_chain_alloc();
	if (c == NULL) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) == -1) {
		nftnl_chain_free(c);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	if (table == NULL || strcmp(table, REDIRECT_TABLE) != 0) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	nftnl_chain_list_add_tail(c, snap->chains);
	return MNL_CB_OK;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct status_snap *snap = data;
	struct nftnl_rule *r;
	struct nftnl_chain *c;
	const char *chain;

	snap_gen(snap, nlh);
	r = nftnl_rule_alloc();
	if (r == NULL) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) == -1) {
		nftnl_rule_free(r);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	c = chain != NULL ? nftnl_chain_list_lookup_byname(snap->chains, chain)
	                  : NULL;
	if (c == NULL) {
		/* Its chain came after the chain dump. */
		nftnl_rule_free(r);
		snap->gen_changed = true;
		return MNL_CB_OK;
	}
	nftnl_chain_rule_add_tail(r, c);
	return MNL_CB_OK;
}

/* One attempt at a snapshot; 0 or -1 + err. */
static int
snap_take(struct redirect_nl *nl, struct status_snap *snap, char *err,
          size_t errlen)
{
	char buf[REDIRECT_MSG_MAX];
	struct nlmsghdr *nlh;
	struct nftnl_table *t = NULL;
	struct nftnl_chain *c = NULL;
	struct nftnl_rule *r = NULL;
	int ret = -1;

	memset(snap, 0, sizeof(*snap));
	snap->chains = nftnl_chain_list_alloc();
	t = nftnl_table_alloc();
	r = nftnl_rule_alloc();
	c = nftnl_chain_alloc();
	if (snap->chains == NULL || t == NULL || r == NULL || c == NULL ||
	    nftnl_table_set_str(t, NFTNL_TABLE_NAME, REDIRECT_TABLE) == -1 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, REDIRECT_TABLE) == -1) {
		redirect_fail(err, errlen, ENOMEM,
		              "reading table inet " REDIRECT_TABLE);
		goto out;
	}

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	                            NLM_F_ACK, nl->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (redirect_nl_request(nl, nlh, table_cb, snap,
	                        "reading table inet " REDIRECT_TABLE, err,
	                        errlen) == -1) {
		if (errno == ENOENT) {
			snap->present = false;
			ret = 0;
		}
		goto out;
	}

	/* The kernel dumps the chains of every table of the family. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
	                            NLM_F_DUMP, nl->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	if (redirect_nl_request(
	        nl, nlh, chain_cb, snap,
	        "listing the chains of table inet " REDIRECT_TABLE, err,
	        errlen) == -1)
		goto out;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
	                            NLM_F_DUMP, nl->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	if (redirect_nl_request(
	        nl, nlh, rule_cb, snap,
	        "listing the rules of table inet " REDIRECT_TABLE, err,
	        errlen) == -1)
		goto out;
	ret = 0;
out:
	if (t != NULL)
		nftnl_table_free(t);
	if (c != NULL)
		nftnl_chain_free(c);
	if (r != NULL)
		nftnl_rule_free(r);
	return ret;
}

static void
snap_free(struct status_snap *snap)
{
	if (snap->chains != NULL)
		nftnl_chain_list_free(snap->chains);
	snap->chains = NULL;
}

static int
comment_cb(const struct nftnl_udata *attr, void *data)
{
	struct rule_facts *f = data;
	const char *value = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 &&
	    value[len - 1] == '\0')
		f->comment = value;
	return MNL_CB_OK;
}

static int
expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_facts *f = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const void *value;
	uint32_t len;

	if (name == NULL)
		return MNL_CB_OK;
	if (strcmp(name, "meta") == 0 &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		f->meta_key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
		f->dport_loaded = false;
		return MNL_CB_OK;
	}
	if (strcmp(name, "byteorder") == 0)
		return MNL_CB_OK; /* of the id just loaded: keep meta_key */
	if (strcmp(name, "range") == 0 &&
	    (f->meta_key == NFT_META_SKUID || f->meta_key == NFT_META_SKGID)) {
		uint32_t lo, hi, len2;
		const void *to;

		value = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &len);
		to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &len2);
		if (value != NULL && to != NULL && len == sizeof(lo) &&
		    len2 == sizeof(hi)) {
			memcpy(&lo, value, sizeof(lo));
			memcpy(&hi, to, sizeof(hi));
			f->uid = ntohl(lo);
			f->uid_last = ntohl(hi);
			f->is_gid = f->meta_key == NFT_META_SKGID;
			f->has_uid = true;
		}
		f->meta_key = 0;
		return MNL_CB_OK;
	}
	if (strcmp(name, "payload") == 0) {
		/* The destination port: bytes 2-3 of a UDP or TCP header. */
		f->dport_loaded =
		    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) ==
		        NFT_PAYLOAD_TRANSPORT_HEADER &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 2;
		f->meta_key = 0;
		return MNL_CB_OK;
	}
	if (strcmp(name, "cmp") == 0) {
		value = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
		if ((f->meta_key == NFT_META_SKUID ||
		     f->meta_key == NFT_META_SKGID) &&
		    value != NULL && len == sizeof(f->uid)) {
			memcpy(&f->uid, value, sizeof(f->uid));
			f->uid_last = f->uid;
			f->is_gid = f->meta_key == NFT_META_SKGID;
			f->has_uid = true;
		} else if (f->dport_loaded && value != NULL &&
		           len == sizeof(f->dport)) {
			memcpy(&f->dport, value, sizeof(f->dport));
			f->dport = ntohs(f->dport);
			f->has_dport = true;
		}
	} else if (strcmp(name, "log") == 0) {
		f->has_log = true;
		f->log_group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
	} else if (strcmp(name, "immediate") == 0 &&
	           nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		f->is_return = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) ==
		               (uint32_t)NFT_RETURN;
	} else if (strcmp(name, "immediate") == 0 &&
	           nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
		value = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
		if (value != NULL && len == sizeof(f->port)) {
			memcpy(&f->port, value, sizeof(f->port));
			f->port = ntohs(f->port);
			f->has_port = true;
		}
	} else if (strcmp(name, "redir") == 0) {
		f->has_redir = true;
	} else if (strcmp(name, "counter") == 0) {
		f->has_counter = true;
		f->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		f->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	f->meta_key = 0;
	f->dport_loaded = false;
	return MNL_CB_OK;
}

static void
rule_facts(struct nftnl_rule *r, struct rule_facts *f)
{
	const void *ud;
	uint32_t len;

	memset(f, 0, sizeof(*f));
	nftnl_expr_foreach(r, expr_cb, f);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud != NULL)
		nftnl_udata_parse(ud, len, comment_cb, f);
}

static const char *
hook_name(uint32_t hook)
{
	switch (hook) {
	case NF_INET_PRE_ROUTING:
		return "prerouting";
	case NF_INET_LOCAL_IN:
		return "input";
	case NF_INET_FORWARD:
		return "forward";
	case NF_INET_LOCAL_OUT:
		return "output";
	case NF_INET_POST_ROUTING:
		return "postrouting";
	}
	return "?";
}

/*
 * The summary lines: who is redirected where, from the redirect rules (a
 * TCP redirect has no port match, a DNS redirect matches port 53), and
 * where refused UDP is logged, from the log rule.
 */
struct guard_summary {
	/* The guarded set as the redirects have it, told in one piece at
	 * the end (config_describe_guard_set()). */
	bool all;
	uid_t uids[REDIRECT_MAX_UIDS];
	size_t n_uids;
	struct subid_range subuid[CONFIG_MAX_SUBID], subgid[CONFIG_MAX_SUBID];
	size_t n_subuid, n_subgid;
	uid_t exempt[REDIRECT_MAX_EXEMPT];
	size_t n_exempt;
	bool has_port;
	uint16_t port;
	bool has_dns_port;
	uint16_t dns_port;
	bool has_log;
	uint16_t log_group;
};

/* One guarded match of a TCP redirect: a uid, every uid, or a range. */
static void
summary_guarded(struct guard_summary *s, const struct rule_facts *f)
{
	struct subid_range r = {.first = f->uid, .last = f->uid_last};

	if (f->is_gid) {
		if (s->n_subgid < CONFIG_MAX_SUBID)
			s->subgid[s->n_subgid++] = r;
	} else if (f->uid == 0 && f->uid_last == UINT32_MAX)
		s->all = true;
	else if (f->uid == f->uid_last) {
		if (s->n_uids < REDIRECT_MAX_UIDS)
			s->uids[s->n_uids++] = f->uid;
	} else if (s->n_subuid < CONFIG_MAX_SUBID)
		s->subuid[s->n_subuid++] = r;
}

static int
summary_rule_cb(struct nftnl_rule *r, void *data)
{
	struct guard_summary *s = data;
	struct rule_facts f;
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);

	rule_facts(r, &f);
	if (f.has_log && !s->has_log) {
		s->log_group = f.log_group;
		s->has_log = true;
	}
	/* The exempt returns, read once: in nat_out, before any redirect. */
	if (f.is_return && f.has_uid && !f.is_gid && f.uid == f.uid_last &&
	    chain != NULL && strcmp(chain, "nat_out") == 0 &&
	    s->n_exempt < REDIRECT_MAX_EXEMPT) {
		s->exempt[s->n_exempt++] = f.uid;
		return MNL_CB_OK;
	}
	if (!f.has_redir || !f.has_uid)
		return MNL_CB_OK;
	if (f.has_dport) {
		if (f.has_port && !s->has_dns_port) {
			s->dns_port = f.port;
			s->has_dns_port = true;
		}
		return MNL_CB_OK;
	}
	summary_guarded(s, &f);
	if (f.has_port && !s->has_port) {
		s->port = f.port;
		s->has_port = true;
	}
	return MNL_CB_OK;
}

static int
summary_chain_cb(struct nftnl_chain *c, void *data)
{
	return nftnl_rule_foreach(c, summary_rule_cb, data);
}

static int
print_rule_cb(struct nftnl_rule *r, void *data)
{
	FILE *out = data;
	struct rule_facts f;
	char unnamed[64];
	const char *label;

	rule_facts(r, &f);
	label = f.comment;
	if (label == NULL) {
		snprintf(unnamed, sizeof(unnamed),
		         "(rule handle %" PRIu64 " has no comment)",
		         nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE));
		label = unnamed;
	}
	if (f.has_counter)
		fprintf(out,
		        "    %-*s %" PRIu64 " packets, %" PRIu64 " bytes\n",
		        REDIRECT_COMMENT_COLUMN, label, f.packets, f.bytes);
	else
		fprintf(out, "    %s\n", label);
	return MNL_CB_OK;
}

static int
print_chain_cb(struct nftnl_chain *c, void *data)
{
	FILE *out = data;
	const char *type;
	uint32_t policy;

	fprintf(out, "chain %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
		policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
		fprintf(out, " (type %s hook %s priority %d, policy %s)",
		        type != NULL ? type : "?",
		        hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)),
		        nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
		        policy == NF_DROP ? "drop" : "accept");
	}
	fputc('\n', out);
	if (nftnl_rule_lookup_byindex(c, 0) == NULL)
		fputs("    (no rules)\n", out);
	return nftnl_rule_foreach(c, print_rule_cb, out);
}

static void
snap_print(struct status_snap *snap, FILE *out)
{
	struct guard_summary s = {0};
	char desc[REDIRECT_STATUS_DESCLEN];
	struct config_guard_set g;

	fprintf(out, "table inet %s is installed\n", REDIRECT_TABLE);
	nftnl_chain_list_foreach(snap->chains, summary_chain_cb, &s);
	g = (struct config_guard_set){
	    .all = s.all,
	    .uids = s.uids,
	    .n_uids = s.n_uids,
	    .exempt = s.exempt,
	    .n_exempt = s.n_exempt,
	    .subuid = s.subuid,
	    .n_subuid = s.n_subuid,
	    .subgid = s.subgid,
	    .n_subgid = s.n_subgid,
	};
	fprintf(out, "guarded: %s",
	        config_describe_guard_set(&g, desc, sizeof(desc)));
	if (!s.all && s.n_uids == 0 && s.n_subuid == 0 && s.n_subgid == 0)
		fputs(" (nothing is redirected)\n", out);
	else if (s.has_port)
		fprintf(out, "; their TCP goes to port %u\n", (unsigned)s.port);
	else
		fputc('\n', out);
	if (s.has_dns_port)
		fprintf(out,
		        "guarded DNS (UDP and TCP port 53) goes to port %u\n",
		        (unsigned)s.dns_port);
	else
		fputs("guarded DNS is not redirected (no DNS stub)\n", out);
	if (s.has_log)
		fprintf(out,
		        "refused guarded UDP is logged to nflog group %u\n",
		        (unsigned)s.log_group);
	else
		fputs("refused guarded UDP is not logged\n", out);
	nftnl_chain_list_foreach(snap->chains, print_chain_cb, out);
}

int
redirect_status(FILE *out, char *err, size_t errlen)
{
	struct redirect_nl nl;
	struct status_snap snap = {0};
	int tries, taken, ret = -1, error;

	for (tries = 0; tries < REDIRECT_STATUS_TRIES; tries++) {
		snap_free(&snap);
		/* A fresh socket: an interrupted dump leaves parts behind. */
		if (redirect_nl_open(&nl, err, errlen) == -1)
			goto out;
		taken = snap_take(&nl, &snap, err, errlen);
		error = errno;
		redirect_nl_close(&nl);
		errno = error;
		if (taken == -1 && errno != EINTR)
			goto out;
		if (taken == 0 && !snap.gen_changed)
			break;
	}
	if (tries == REDIRECT_STATUS_TRIES) {
		redirect_fail(
		    err, errlen, EAGAIN,
		    "reading table inet %s: the ruleset changed during each "
		    "of %d attempts",
		    REDIRECT_TABLE, REDIRECT_STATUS_TRIES);
		goto out;
	}
	if (!snap.present) {
		fprintf(out, "table inet %s is not installed\n",
		        REDIRECT_TABLE);
		ret = 0;
		goto out;
	}
	snap_print(&snap, out);
	ret = 1;
out:
	error = errno;
	snap_free(&snap);
	errno = error;
	return ret;
}
