/*
 * listener.h - the transparent listeners.
 *
 * Each accepted socket's original destination is read with
 * SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST.  A socket with none (it reached
 * the port without the redirect) or whose destination is a listener of
 * tollgated itself is refused, so no setup mistake can make a loop.  One
 * whose original destination is a SOCKS5 upstream's address is served by
 * the SOCKS front, routed through that upstream.  When
 * max_connections is reached new clients are refused ("overload"); when the
 * process runs out of descriptors, accepting pauses and resumes with
 * back-off.
 */
#ifndef TG_LISTENER_H
#define TG_LISTENER_H

#include "proxyd/proxyd.h"

/* Bind every transparent_listen address.  0, or -1 with the reason
 * logged.  Needs no privilege for ports >= 1024. */
int listener_open_all(struct proxyd *pd);
void listener_close_all(struct proxyd *pd);

/* Fill buf with "127.0.0.1:9040, [::1]:9040". */
const char *listener_describe(const struct proxyd *pd, char *buf, size_t len);

#endif
