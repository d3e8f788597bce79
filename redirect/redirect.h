/*
 * redirect.h - the nftables table "inet tollgate", built with libnftnl and
 * sent with libmnl in one netlink batch, so it is replaced atomically.
 *
 * The table (see redirect.c for the exact rules):
 *   chain nat_out    type nat hook output priority -100
 *       marked packets (spec->mark) and loopback destinations return;
 *       TCP of each guarded uid is redirected to spec->tcp_port.
 *   chain filter_out type filter hook output priority 0
 *       marked packets and loopback destinations return (redirected TCP
 *       has a loopback destination by now); each guarded uid jumps to
 *   chain guard
 *       UDP port 53 is accepted (until the DNS stub exists), TCP that was
 *       not redirected gets a reset, everything else an ICMP
 *       admin-prohibited reject; each with a counter.
 * Rules carry nft comments, so "nft list table inet tollgate" reads well.
 *
 * It never includes anything from proxyd/ or prompt/.  Needs CAP_NET_ADMIN
 * in the current network namespace.
 */
#ifndef TG_REDIRECT_H
#define TG_REDIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define REDIRECT_TABLE "tollgate"

struct redirect_spec {
	const uid_t *uids;	/* guarded users */
	size_t n_uids;
	uint16_t tcp_port;	/* transparent listener, host order */
	uint32_t mark;		/* SO_MARK of tollgated's own sockets */
};

/*
 * Create or replace the table in one batch: either the whole new table is
 * in place afterwards, or the old one (if any) is untouched.  Other tables
 * are never touched.  Returns 0, or -1 with err set ("what: strerror").
 */
int redirect_install(const struct redirect_spec *spec, char *err,
    size_t errlen);

/* Delete the table; a missing table is not an error.  0 or -1 + err. */
int redirect_remove(char *err, size_t errlen);

/*
 * Print a human summary of the installed table to out: its chains, each
 * rule's comment and its packet counter.  Returns 1 when the table is
 * installed, 0 when absent (prints a line saying so), -1 on error + err.
 */
int redirect_status(FILE *out, char *err, size_t errlen);

#endif
