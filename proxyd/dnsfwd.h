/*
 * dnsfwd.h - the DNS stub's forwarder: the queries the stub does not
 * answer itself (MX, TXT, SRV, PTR of real addresses and every other
 * type), once the rules allow them, go to dns_upstream and the answer
 * comes back to the client that asked.
 *
 * Upstream: the addresses of dns_upstream, or without any the resolvers
 * of /etc/resolv.conf as read at start (dnsfwd_upstreams_of()).  A query
 * goes to the current upstream; one that times out moves the current one
 * on to the next, so that a dead resolver is left after one timeout.
 *
 * Mechanics: one UDP socket per address family of the upstreams, not
 * connected, non-blocking, on the loop (the daemon's own traffic: it runs
 * as its own user, which nftables does not redirect).  Each query goes
 * out as the client sent it but under a fresh random id (a CSPRNG:
 * evutil_secure_rng) unique among those in flight (dnsfwdq.h).  A
 * datagram is taken as the answer only when it comes from the address
 * the query went to and dns_response_matches() says it answers it (id,
 * name, type, class); anything else is dropped and counted, and the query
 * waits on.  The answer gets the client's id back and goes to the
 * client through the reply callback, truncated with TC=1 when it is
 * longer than the client takes (dnsfwdq_relay()), so that it asks again
 * over TCP.  A query unanswered after DNSFWD_TIMEOUT_MS gets SERVFAIL;
 * past DNSFWD_MAX_PENDING in flight, dnsfwd_query() refuses and the
 * caller answers SERVFAIL itself.
 *
 * A TCP client's query goes upstream over UDP too, its EDNS size raised
 * to DNS_EDNS_MAX when it offered less; when the answer still comes with
 * TC=1, the query is asked again over TCP, on a connection of its own to
 * the same upstream (at most DNSFWD_TCP_MAX at once, each given
 * DNSFWD_TIMEOUT_MS more), and the whole answer relayed; past that bound
 * the truncated answer is relayed as it is.
 *
 * Not thread-safe: the loop's.
 */
#ifndef TG_DNSFWD_H
#define TG_DNSFWD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common/config.h"
#include "proxyd/dns.h"
#include "proxyd/dnsfwdq.h"

#define DNSFWD_MAX_PENDING 1024
#define DNSFWD_TIMEOUT_MS  5000
#define DNSFWD_TCP_MAX     64 /* queries asked again over TCP at once */

struct dnsfwd;
struct evdns_base;

/*
 * How an answer gets to its client: the stub sends msg[0..len) to origin
 * (a UDP datagram from origin->fd, or framed on TCP connection
 * origin->tcp_id if it is still open).  Called on the loop, never from
 * inside dnsfwd_query().
 */
typedef void (*dnsfwd_reply_fn)(void *arg, const struct dnsfwd_origin *origin,
                                const uint8_t *msg, size_t len);

/*
 * The upstreams per cfg into up[0..CONFIG_MAX_DNS): cfg's dns_upstream,
 * or without any the name servers of dns (an evdns base made with
 * EVDNS_BASE_INITIALIZE_NAMESERVERS: resolv.conf as read at start; NULL
 * when there is none), less any that is a dns_listen address (the stub
 * itself: logged).  Returns how many (0: nothing to forward to;
 * dns_upstream = none is 0 too).
 */
size_t dnsfwd_upstreams_of(const struct config *cfg, struct evdns_base *dns,
                           struct sockaddr_storage *up);

/*
 * A forwarder on base to up[0..n) (n >= 1; copied), answering through
 * reply(arg, ...).  NULL + err when a socket cannot be made.
 */
struct dnsfwd *dnsfwd_new(struct event_base *base,
                          const struct sockaddr_storage *up, size_t n,
                          dnsfwd_reply_fn reply, void *arg, char *err,
                          size_t errlen);

/* Close the sockets and drop the queries in flight (their clients get
 * nothing).  NULL is fine. */
void dnsfwd_free(struct dnsfwd *f);

/* Where the next query goes (for its event). */
const struct sockaddr *dnsfwd_upstream(const struct dnsfwd *f);

/*
 * Send the query msg[0..len) (parsed as q: DNS_QUERY, opcode 0) from
 * origin upstream.  Returns 0: sent, and reply() comes later with the
 * answer or SERVFAIL; -1: not sent (past DNSFWD_MAX_PENDING, no free id,
 * out of memory, the send failed; logged): the caller answers SERVFAIL.
 */
int dnsfwd_query(struct dnsfwd *f, const struct dnsfwd_origin *origin,
                 const struct dns_query *q, const uint8_t *msg, size_t len);

/* Counters since dnsfwd_new(). */
struct dnsfwd_stats {
	uint64_t sent;     /* queries sent upstream */
	uint64_t answered; /* answers relayed */
	uint64_t timeouts; /* SERVFAIL: no answer in DNSFWD_TIMEOUT_MS */
	uint64_t refused;  /* not sent: full, no id, send failed */
	uint64_t tcp;      /* asked again over TCP after a truncation */
	uint64_t stray;    /* datagrams that answered nothing in flight */
	size_t in_flight;
};
void dnsfwd_stats(const struct dnsfwd *f, struct dnsfwd_stats *out);

#endif
