/*
 * ctorig.h - a redirected connection's original source, from conntrack.
 *
 * Two sockets of one host may share a source port when their
 * destinations differ.  The redirect makes both SRC:P -> tollgated's
 * port; conntrack keeps them apart by giving the second another source
 * port P' on its way in, so the peer tollgated accepts is SRC:P', which
 * is not the client socket's own address: looked up as it is, it names
 * no socket, or another process's socket that has P' to that
 * destination.  conntrack's entry, found by the tuple tollgated sees
 * (the entry's reply direction: our address -> SRC:P'), holds the
 * original SRC:P.
 *
 * A blocking netlink round trip (NETLINK_NETFILTER, ctnetlink GET):
 * worker thread only.  Needs CAP_NET_ADMIN, which tollgated keeps.  Each
 * calling thread opens its own socket on first use and keeps it.
 */
#ifndef TG_CTORIG_H
#define TG_CTORIG_H

#include <sys/socket.h>

#define CTORIG_TIMEOUT_MS 200 /* longest wait for the kernel's answer */

/*
 * The original source address of the TCP connection tollgated accepted
 * from peer on its own address self (both AF_INET, or both AF_INET6),
 * into *orig: peer itself when conntrack did not rewrite it.  0, or -1
 * with errno (ENOENT: no such entry; EAFNOSUPPORT: mixed families;
 * others from netlink), *orig untouched.
 */
int ctorig_source(const struct sockaddr *peer, const struct sockaddr *self,
                  struct sockaddr_storage *orig);

#endif
