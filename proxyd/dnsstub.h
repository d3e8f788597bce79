/*
 * dnsstub.h - tollgated's DNS stub, the front for names: the guarded
 * users' DNS (UDP and TCP port 53 to any address, redirected by nftables
 * to dns_listen) is answered here, and never leaves.
 *
 * Per query: the asking process is found (attr_lookup_udp(), on the
 * worker thread; a source address and port found in the last
 * DNSSTUB_ATTR_CACHE_MS is not asked again, for the A and AAAA of one
 * lookup), the rules decide for (app, name, proto dns), and:
 *   a rule denies       NXDOMAIN (REFUSED for reject), and an event;
 *   else A              an address from the fake-IP map (fakeip.h), TTL
 *                       fake_ip_ttl, without asking anyone: the query
 *                       leaks nothing, so it never waits on a prompt;
 *                       the prompt comes when the app connects;
 *   AAAA                the name's address from fake_ip6_range, TTL
 *                       fake_ip_ttl; NODATA when no such range is set;
 *   HTTPS, SVCB         NODATA (no ECH keys: the SNI stays visible);
 *   PTR of a fake IP    its name (NXDOMAIN when none is mapped to it),
 *                       before the rules: nobody else knows the address;
 *   anything else       (MX, TXT, SRV, PTR of a real address, ...)
 *                       forwarded to dns_upstream (dnsfwd.h) when a rule
 *                       allows it, or no rule decides and default_action
 *                       is allow: an event (allow, dst the upstream) and
 *                       the upstream's answer, SERVFAIL when it is
 *                       silent; when no rule decides and default_action
 *                       is deny or reject, NOTIMP and an event (that
 *                       verdict, reason default): a forwarded name leaks
 *                       upstream, TXT is a tunnel, and a query never
 *                       waits on a prompt; NOTIMP without an event when
 *                       there is no upstream (dns_upstream = none).
 * A name that is not a host name is NXDOMAIN; a malformed query FORMERR;
 * anything that is not a query is dropped.  Over TCP the client is found
 * once (attr_lookup(), by the connection), then each framed message is
 * answered in turn; a length under 12 ends the connection, as does
 * silence for DNSSTUB_TCP_IDLE_S; at most DNSSTUB_TCP_MAX such clients.  At
 * most DNSSTUB_MAX_PENDING queries wait for attribution; past it a query is
 * answered SERVFAIL, so a flood from one app cannot grow the daemon.
 */
#ifndef TG_DNSSTUB_H
#define TG_DNSSTUB_H

#include <stddef.h>

#include "proxyd/proxyd.h"

#define DNSSTUB_MAX_PENDING   4096
#define DNSSTUB_ATTR_CACHE_MS 2000

/* Bind the UDP sockets of dns_listen (as root, before the drop).  0, or
 * -1 + err. */
int dnsstub_open(struct proxyd *pd, char *err, size_t errlen);

/* Start answering (on the loop, after the worker thread exists).  0 or
 * -1 (logged). */
int dnsstub_start(struct proxyd *pd);

/* Stop, close the sockets, free the queries still waiting (after the
 * worker thread stopped).  NULL stub is fine. */
void dnsstub_close(struct proxyd *pd);

#endif
