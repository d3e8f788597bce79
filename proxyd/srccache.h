/*
 * srccache.h - who sent from an address and port, lately: the app found
 * for a datagram's source, kept a short while so that a burst from one
 * socket (a lookup's A and AAAA, a sender's retries) is attributed once.
 * Used on the loop by the DNS stub and the UDP event log.
 */
#ifndef TG_SRCCACHE_H
#define TG_SRCCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxyd/attr.h"

#define SRCCACHE_SIZE 32 /* sources remembered, the oldest replaced */

struct srccache_ent {
	struct sockaddr_storage src; /* AF_UNSPEC: unused */
	int64_t at_ms;
	struct app app;
};

struct srccache {
	struct srccache_ent ent[SRCCACHE_SIZE];
	size_t next;
	int64_t ttl_ms; /* an entry older than this is not taken */
};

/* Empty, keeping entries ttl_ms. */
void srccache_init(struct srccache *c, int64_t ttl_ms);

/* The newest app seen from src (address and port) within ttl_ms of
 * now_ms, or NULL. */
const struct app *srccache_find(const struct srccache *c,
                                const struct sockaddr *src, int64_t now_ms);

/* Remember app for src at now_ms, in place of the oldest entry. */
void srccache_add(struct srccache *c, const struct sockaddr *src,
                  const struct app *app, int64_t now_ms);

#endif
