/*
 * redirect.h - the nftables table "inet tollgate", built with libnftnl and
 * sent with libmnl in one netlink batch, so it is replaced atomically.
 *
 * The table (see redirect.c for the exact rules).  "Each guarded uid"
 * below stands for each of spec->uids, each range of spec->uid_ranges
 * and spec->gid_ranges, or with spec->all every socket uid, after the
 * exempt uids have returned:
 *   chain nat_out    type nat hook output priority -100
 *       marked packets (spec->mark) return; with spec->all, each exempt
 *       uid returns; with spec->dns_port, UDP and
 *       TCP to port 53 of each guarded uid, to any address (loopback
 *       too), are redirected to spec->dns_port; then loopback
 *       destinations return, and TCP of each guarded uid is redirected to
 *       spec->tcp_port.
 *   chain filter_out type filter hook output priority 0
 *       marked packets and loopback destinations return (redirected TCP
 *       and DNS have a loopback destination by now), with spec->all each
 *       exempt uid returns; each guarded uid jumps to
 *   chain guard
 *       without spec->dns_port, UDP port 53 is accepted (DNS passes);
 *       TCP that was not redirected gets a reset; other UDP is logged to
 *       NFLOG group spec->nflog_group (when set) and rejected with an
 *       ICMP port-unreachable, so QUIC falls back to TCP at once;
 *       everything else gets an ICMP admin-prohibited; each with a
 *       counter.
 * Rules carry nft comments, so "nft list table inet tollgate" reads well.
 *
 * It never includes anything from proxyd/ or prompt/.  Every function
 * talks to the kernel of the current network namespace and needs
 * CAP_NET_ADMIN there, even to read.
 *
 * Errors: -1 with err (of errlen bytes) holding one line, "what was being
 * done: strerror", and errno holding the cause: EPERM without
 * CAP_NET_ADMIN, ETIMEDOUT when the kernel did not answer within
 * REDIRECT_NL_TIMEOUT_MS (nl.h), EINVAL for a spec that cannot be built.
 * Nothing is printed on errors; the caller reports err.
 */
#ifndef TG_REDIRECT_H
#define TG_REDIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/subid.h"

#define REDIRECT_TABLE "tollgate"

/*
 * Bound on the guarded uids and ranges together (n_uids + n_uid_ranges +
 * n_gid_ranges): up to four rules each, all in one batch.  A spec beyond
 * it is refused whole (EINVAL), never installed in part.
 */
#define REDIRECT_MAX_UIDS 4096

/* Bound on spec->n_exempt. */
#define REDIRECT_MAX_EXEMPT 80

/* Bytes of each logged UDP packet copied to NFLOG: its IP and UDP headers. */
#define REDIRECT_NFLOG_SNAPLEN 64

struct redirect_spec {
	const uid_t *uids; /* guarded users; repeats are ignored */
	size_t n_uids;     /* 0 is valid: a table guarding nobody */
	/* Ranges of guarded socket uids and gids (subordinate ids), matched
	 * as "meta skuid FIRST-LAST" and "meta skgid FIRST-LAST"; ranges
	 * that overlap or touch are joined. */
	const struct subid_range *uid_ranges;
	size_t n_uid_ranges;
	const struct subid_range *gid_ranges;
	size_t n_gid_ranges;
	/* Every socket uid is guarded but exempt[] (and uids and the
	 * ranges are not used): "guard_users = * except ...". */
	bool all;
	uid_t exempt[REDIRECT_MAX_EXEMPT];
	size_t n_exempt;
	uint16_t tcp_port;    /* transparent listener, host order, not 0 */
	uint32_t mark;        /* SO_MARK of tollgated's own sockets, not 0 */
	uint16_t dns_port;    /* DNS stub, host order; 0: guarded DNS passes */
	uint16_t nflog_group; /* NFLOG group of refused UDP; 0: not logged */
};

struct config;

/*
 * The table tollgate.conf asks for: its guarded users, the transparent
 * listeners' port, the DNS stub's port, tollgated's mark.  No NFLOG group
 * (nflog_group 0): only tollgated, which reads the group, sets one.  The
 * one place the daemon and "tollgate redirect on" build the spec, so
 * that both install the same table.  spec->uids and the ranges point
 * into cfg: the subordinate ranges config_load_subids() read, if any.
 */
void redirect_spec_of(const struct config *cfg, struct redirect_spec *spec);

/*
 * Create or replace the table in one batch: either the whole new table is
 * in place afterwards, or the old one (if any) is untouched.  Other tables
 * are never touched.  The caller keeps ownership of spec.  Returns 0, or
 * -1 with err set; when the kernel refuses a part of the batch, err names
 * that part ("adding rule \"...\" to chain nat_out: ...").
 */
int redirect_install(const struct redirect_spec *spec, char *err,
                     size_t errlen);

/*
 * Delete the table in a batch of its own; a missing table is not an error.
 * Returns 0 or -1 + err.
 */
int redirect_remove(char *err, size_t errlen);

/*
 * Print a human summary of the installed table to out: the guarded uids,
 * uid ranges and gid ranges (or "every uid but" the exempt), the TCP and
 * DNS ports and the NFLOG group (read back from the rules),
 * then each chain with
 * its hook, and each rule's comment with its packet and byte counter where
 * it has one.  Nothing is printed before the whole table has been read.
 * Returns 1 when the table is installed, 0 when absent (prints one line
 * saying so), -1 on error + err (nothing printed).
 */
int redirect_status(FILE *out, char *err, size_t errlen);

#endif
