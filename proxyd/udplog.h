/*
 * udplog.h - an event for the guarded UDP that nftables refuses.
 *
 * The table (redirect.h) logs every refused guarded datagram to NFLOG
 * group UDPLOG_NFLOG_GROUP before rejecting it with a port-unreachable;
 * this module reads the group (redirect/nflog.h) on the loop and makes of
 * each datagram a decision event: proto udp, verdict reject, reason
 * udp-not-proxied, the app, its source and the destination.
 *
 * The app is the owner of the sending socket, found by the datagram's
 * source address and port (attr_lookup_udp(), on the worker thread); a
 * source found in the last UDPLOG_ATTR_CACHE_MS is not asked again.  When
 * the socket is gone already, or more than UDPLOG_MAX_PENDING datagrams
 * wait to be attributed, the app is only the uid the kernel put on the
 * packet: never a guess.
 *
 * Coalesced: one event per (uid, exe, destination address, port) per
 * UDPLOG_WINDOW_MS; the datagrams in between are only counted, so a
 * chatty app cannot flood the log.  The table of recent events holds
 * UDPLOG_SEEN_MAX entries, the oldest evicted first.
 *
 * A reader that cannot bind the group (another socket has it) leaves the
 * UDP refused all the same: only its events are missing.
 */
#ifndef TG_UDPLOG_H
#define TG_UDPLOG_H

#include <stddef.h>
#include <stdint.h>

#include "proxyd/proxyd.h"

/* The NFLOG group tollgated's table logs refused UDP to and reads.  Any
 * other reader of this group (ulogd, a second tollgated in the same
 * network namespace) keeps tollgated from binding it. */
#define UDPLOG_NFLOG_GROUP 7474

#define UDPLOG_MAX_PENDING   1024  /* datagrams waiting for attribution */
#define UDPLOG_ATTR_CACHE_MS 2000  /* a source's app is asked again after */
#define UDPLOG_WINDOW_MS     60000 /* one event per app and destination */
#define UDPLOG_SEEN_MAX      4096  /* (app, destination) pairs remembered */

/*
 * Bind NFLOG group (as root, before the privilege drop).  0, or -1 with
 * err (errlen bytes) set and errno: EPERM when another socket has the
 * group (or without CAP_NET_ADMIN); then pd->udplog stays NULL and the
 * other calls do nothing.
 */
int udplog_open(struct proxyd *pd, uint16_t group, char *err, size_t errlen);

/* Start reading (on the loop, after the worker thread exists).  0, or -1
 * (logged). */
int udplog_start(struct proxyd *pd);

/* Stop reading, close the group, free the datagrams still waiting for
 * attribution (after the worker thread stopped) and log the counts. */
void udplog_close(struct proxyd *pd);

#endif
