/*
 * dnsfwdq.h - the DNS forwarder's queries in flight, pure: which query
 * sent upstream under which id, for which client, until when; whether a
 * response answers one; and the response as its client is to get it.
 *
 * A query forwarded to dns_upstream goes out under an id of its own,
 * random (the caller's rand16, a CSPRNG in the daemon) and unique among
 * those in flight, so that an answer can be matched to its query and an
 * off-path forger has to guess it.  The client's own id, address and
 * transport (struct dnsfwd_origin) stay here until the answer comes or
 * the query times out.
 *
 * At most `max` queries are in flight; each lives `timeout_ms` from the
 * moment it was added.  Since every query gets the same timeout, the
 * oldest is always the first to expire: the queue is in order of adding.
 *
 * Pure: no I/O, no clock (the caller passes now_ms), no logging; not
 * thread-safe (the loop's).  Memory: the table owns its queries; one
 * returned by dnsfwdq_take() or dnsfwdq_expired() is the caller's, to
 * free().
 */
#ifndef TG_DNSFWDQ_H
#define TG_DNSFWDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "proxyd/dns.h"

/* How many fresh random ids a query may draw before it gives up: with at
 * most DNSFWD_MAX_PENDING of 65536 ids in use, 16 draws all taken is
 * (1/64)^16 unlikely, unless rand16 is broken. */
#define DNSFWDQ_ID_TRIES 16

enum dnsfwd_via {
	DNSFWD_UDP, /* answered by datagram from the socket it came in on */
	DNSFWD_TCP  /* answered framed on a DNS-over-TCP connection */
};

/* Where an answer goes back: the client as the stub knows it.  No
 * pointer: a TCP client is named by an id that the stub looks up when
 * the answer comes, so one that closed meanwhile is simply not found. */
struct dnsfwd_origin {
	enum dnsfwd_via via;
	int fd;          /* UDP: the stub's socket the query came in on */
	uint64_t tcp_id; /* TCP: the stub's id of the connection */
	struct sockaddr_storage client;
	socklen_t clen;
	size_t max_size; /* the most the client takes: dns_udp_size() over
	                  * UDP, DNS_MSG_MAX over TCP */
};

/* One query in flight. */
struct dnsfwdq_entry {
	TAILQ_ENTRY(dnsfwdq_entry) entry; /* in order of adding */
	uint16_t id;                      /* the id it went upstream with */
	size_t upstream;                  /* the caller's index of where it
	                                   * went; only an answer from there
	                                   * is taken */
	uint64_t deadline_ms;
	struct dnsfwd_origin origin;
	struct dns_query q; /* as the client sent it (q.id its id) */
	/* The client's message as it goes upstream: under id, the rest as
	 * the client wrote it (its question is what the client gets back);
	 * the caller may change the OPT record's fields in place. */
	size_t len;
	uint8_t msg[];
};

struct dnsfwdq {
	struct dnsfwdq_entry *by_id[65536];
	TAILQ_HEAD(, dnsfwdq_entry) queue;
	size_t n, max;
	unsigned timeout_ms;
};

/* An empty table for at most max queries, each living timeout_ms. */
void dnsfwdq_init(struct dnsfwdq *t, size_t max, unsigned timeout_ms);

/* Free every query still in flight (their clients get nothing). */
void dnsfwdq_clear(struct dnsfwdq *t);

/*
 * Add the query q, parsed from msg[0..len) (opcode 0), from origin, to be
 * sent to upstream, at now_ms.  Its id is the first of up to
 * DNSFWDQ_ID_TRIES draws of rand16(arg) that no query in flight has;
 * e->msg is a copy of msg under that id, the message to send.
 * Returns the entry, or NULL with errno EBUSY (max in flight), EAGAIN (no
 * free id drawn), EINVAL (q is not a whole QUERY of msg) or ENOMEM.
 */
struct dnsfwdq_entry *dnsfwdq_add(struct dnsfwdq *t,
                                  const struct dnsfwd_origin *origin,
                                  const struct dns_query *q, const uint8_t *msg,
                                  size_t len, size_t upstream, uint64_t now_ms,
                                  uint16_t (*rand16)(void *arg), void *arg);

/* Take e out of the table and free it: a query that could not be sent. */
void dnsfwdq_cancel(struct dnsfwdq *t, struct dnsfwdq_entry *e);

/* Take e out of the table, the caller's now (to free()): a query whose
 * answer comes another way. */
void dnsfwdq_remove(struct dnsfwdq *t, struct dnsfwdq_entry *e);

/* Whether resp[0..len) answers e as it was sent: dns_response_matches()
 * (id, QR, opcode, question) with e's id.  0, or -1 when it does not. */
int dnsfwdq_matches(const struct dnsfwdq_entry *e, const uint8_t *resp,
                    size_t len);

/* Whether resp[0..len) has TC set: cut short by its sender. */
bool dnsfwdq_truncated(const uint8_t *resp, size_t len);

/*
 * The query that resp[0..len), received from upstream, answers: one in
 * flight with resp's id, sent to that upstream, and dnsfwdq_matches().
 * It leaves the table: the caller
 * relays it (dnsfwdq_relay()) and frees it.  NULL when none: a stray or
 * forged response, which leaves the query it names waiting for the real
 * one.
 */
struct dnsfwdq_entry *dnsfwdq_take(struct dnsfwdq *t, const uint8_t *resp,
                                   size_t len, size_t upstream);

/* The oldest query whose deadline is at or before now_ms, out of the
 * table (the caller answers SERVFAIL and frees it), or NULL. */
struct dnsfwdq_entry *dnsfwdq_expired(struct dnsfwdq *t, uint64_t now_ms);

/* The earliest deadline in flight into *deadline_ms; false when none. */
bool dnsfwdq_next(const struct dnsfwdq *t, uint64_t *deadline_ms);

/*
 * The response e's client gets for resp[0..len) (which answers e,
 * dnsfwdq_take()) into out[0..cap): resp with the client's id and its
 * question as it wrote it (the same name; an upstream may change the
 * case).  When resp is longer than e->origin.max_size or cap, it is
 * truncated (RFC 2181 9): resp's header with TC=1, the client's
 * question, no records, so that the client asks again over TCP.
 * Returns the length, or 0 when not even that fits or resp is shorter
 * than its question.
 */
size_t dnsfwdq_relay(const struct dnsfwdq_entry *e, const uint8_t *resp,
                     size_t len, uint8_t *out, size_t cap);

/* The answer with rcode (SERVFAIL: upstream silent or unreachable) e's
 * client gets into out[0..cap); its length, or 0 when it does not fit. */
size_t dnsfwdq_error(const struct dnsfwdq_entry *e, enum dns_rcode rcode,
                     uint8_t *out, size_t cap);

#endif
