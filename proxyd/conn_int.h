/*
 * conn_int.h - what the files of one connection's state machine share:
 * conn.c (accept to decision, the watch, the relay, the end) and
 * conn_onward.c (the way onward).  Not for the rest of tollgated, which
 * uses conn.h.
 */
#ifndef TG_CONN_INT_H
#define TG_CONN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "proxyd/conn.h"

#define CONN_BIT(s) (1u << (s))

/* The one writer of c->state: a step the state table does not allow
 * stops tollgated (abort), its table left to fail closed. */
void conn_set_state(struct conn *c, enum conn_state to);

/* What a callback checks first: c is in one of the states of mask
 * (CONN_BIT()s); anything else is a bug, as for conn_set_state(). */
void conn_expect(const struct conn *c, unsigned mask, const char *where);

/* Arm c's timer for ms.  0, or -1 (logged) when libevent cannot. */
int conn_arm(struct conn *c, unsigned ms);

/* Watch fd, c's client or onward socket, for what with cb, on the one
 * event that socket has for its life (c->cev, c->sev): no system call
 * when it is so already.  0, or -1. */
int conn_watch_fd(struct conn *c, int fd, short what, event_callback_fn cb);

/* The name c is judged by, or NULL when it has none. */
const char *conn_name(const struct conn *c);

/* The way onward failed: the client gets the front's reply for code (a
 * transparent one a reset), error is recorded as the connection's end,
 * and c is gone. */
void conn_fail(struct conn *c, uint8_t code, const char *error);

/* CONN_CONNECT or CONN_UPSTREAM -> CONN_SEND_PEEKED: the way onward is
 * open (conn.c goes on from here). */
void conn_granted(struct conn *c);

/* conn_onward.c, entered from the decision (conn_act()): */

/* The SOCKS5 request for the upstream, made while c's app is still
 * known; 0, or -1 (logged). */
int conn_upstream_prepare(struct conn *c);

/* -> CONN_RESOLVE: the name of a direct route resolved, then connected. */
void conn_resolve(struct conn *c);

/* -> CONN_CONNECT: the onward TCP connection, to the destination or to
 * the upstream proxy (whose exchange follows). */
void conn_connect(struct conn *c);

#endif
