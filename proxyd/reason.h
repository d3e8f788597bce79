/*
 * reason.h - why a connection got its verdict: one table of every reason,
 * its word in the log (reason=) and the decider of its event row.
 *
 * A leaf: any module of the daemon may name a reason.
 */
#ifndef TG_REASON_H
#define TG_REASON_H

#include "store/events.h"

enum reason {
	REASON_DEFAULT,         /* default_action: no rule decided */
	REASON_RULE,            /* a rule decided: rule_id */
	REASON_PEEK_INVALID,    /* malformed or oversize TLS/HTTP head */
	REASON_PEEK_TIMEOUT,    /* name still incomplete at peek_timeout */
	REASON_LOOP,            /* destination is tollgated itself */
	REASON_NO_DST,          /* no original destination: not redirected */
	REASON_OVERLOAD,        /* max_connections reached */
	REASON_PROMPT,          /* the user answered prompt_id */
	REASON_PROMPT_TIMEOUT,  /* no answer within prompt_timeout */
	REASON_NO_AGENT,        /* no prompt agent to ask */
	REASON_PROMPT_FULL,     /* past the broker's bounds */
	REASON_NAME_MISMATCH,   /* a proxy client's TLS SNI or Host names
	                         * another host than its request did */
	REASON_NO_ROUTE,        /* the allowing rule's --via names no upstream
	                         * in tollgate.conf, or another way than a
	                         * connection decided again went already */
	REASON_FAKEIP_UNMAPPED, /* an address of the fake range with no name
	                         * behind it (any more) */
	REASON_UDP_NOT_PROXIED, /* guarded UDP other than DNS: refused by
	                         * nftables, recorded from its NFLOG group */
	REASON_ENCRYPTED_DNS,   /* DNS over TLS or to a known DoH resolver,
	                         * with block_encrypted_dns = yes */
	REASON_OVERLOAD_USER,   /* its user has max_pending_per_user
	                         * connections in the peek and attribution
	                         * stages already */
	REASON_SHARED_SOCKET,   /* other programs hold the socket too, and
	                         * not every one of them is allowed */
	REASON_ABANDONED,       /* its client gave up while it waited on a
	                         * prompt: nothing went onward */
	REASON_SHUTDOWN,        /* tollgated stopped while it waited on a
	                         * prompt: reset, nothing went onward */
	REASON_COUNT
};

/* The word of the log's reason= ("rule", "no-agent", ...); "?" for a
 * value out of the table. */
const char *reason_word(enum reason r);

/* The decider its event row records. */
enum event_decider reason_decider(enum reason r);

#endif
