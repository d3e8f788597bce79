/*
 * fdbudget.h - the descriptor budget of tollgated.
 *
 * A connection costs two descriptors (the client's socket and the onward
 * one) and, while bytes are in flight, up to two splice pipes.  Beside the
 * connections a fixed reserve is kept for what the daemon needs to decide
 * them: listeners, control clients, netlink and nftables sockets, the DNS
 * stub, the attribution worker's /proc reads and the /proc directories it
 * keeps open; and a share for pipes.  max_connections is lowered at start
 * to what the descriptor limit holds, and a client is refused as
 * "overload" before accept() would take the descriptors an allowed
 * connection needs later, so an allowed connection does not fail for want
 * of a socket.  Not bounded by the budget: pipes borrowed beyond the
 * pipes' share (a relay that cannot get one ends its connection), and the
 * few descriptors SQLite, inotify and the identity checks open for a
 * moment, which the fixed reserve's margin covers.
 */
#ifndef TG_FDBUDGET_H
#define TG_FDBUDGET_H

#include "proxyd/appcache.h"
#include "proxyd/attr.h"
#include "proxyd/control.h"
#include "proxyd/dnsfwd.h"
#include "proxyd/proxyd.h"

/* Descriptors per connection: client and onward socket. */
#define FDBUDGET_PER_CONN 2
/* Kept back: the attribution worker's cache (three per pid it
 * remembers: /proc/PID, its fd/ and its cmdline), the event loop's (a
 * pidfd per process, and those on their way: appcache.h), the control
 * clients, the DNS stub's queries retried over TCP, and 64 for
 * listeners, netlink and nftables sockets, the database and the rest. */
#define FDBUDGET_FIXED                                                         \
	(3 * ATTR_MRU_SIZE + APPCACHE_SIZE + APPCACHE_INFLIGHT_MAX +           \
	 CONTROL_MAX_CLIENTS + CONTROL_MAX_ADMIN + DNSFWD_TCP_MAX + 64)

/*
 * The connections a descriptor limit of nofile holds: what is left after
 * the fixed reserve and the pipes' share (two descriptors per pipe, up to
 * RELAY_POOL_MAX pipes, at most a quarter of what is left), two per
 * connection.  0 when nofile does not even hold the reserve.
 */
unsigned fdbudget_connections(unsigned long nofile);

/* The descriptor limit that holds n connections (what the start line
 * tells to raise it to): the smallest whose fdbudget_connections() is n
 * or more, found by asking it, so that the two cannot disagree. */
unsigned long fdbudget_needs(unsigned n);

/*
 * Raise the soft descriptor limit to the hard one (and the hard one too,
 * as far as CAP_SYS_RESOURCE and fs.nr_open allow, when it is below what
 * max_connections needs), keep it in pd->nofile, and lower
 * pd->cfg.max_connections to what it holds, in one line saying from what,
 * to what, why and how to raise it (a warning when max_connections was
 * set, else information).  -1 when the limit does not hold even one
 * connection (logged), else 0.
 */
int fdbudget_setup(struct proxyd *pd);

/*
 * Whether one more connection fits now: below max_connections, and the
 * descriptors of the connections, of the pipes held and spare, the fixed
 * reserve and two more stay within pd->nofile.
 */
int fdbudget_room(const struct proxyd *pd);

#endif
