/*
 * srccache.c - who sent from an address and port, lately; see srccache.h.
 */
#include <string.h>

#include "common/addr.h"
#include "proxyd/srccache.h"

void
srccache_init(struct srccache *c, int64_t ttl_ms)
{
	memset(c, 0, sizeof(*c));
	c->ttl_ms = ttl_ms;
}

const struct app *
srccache_find(const struct srccache *c, const struct sockaddr *src,
              int64_t now_ms)
{
	const struct srccache_ent *e, *best = NULL;
	size_t i;

	for (i = 0; i < SRCCACHE_SIZE; i++) {
		e = &c->ent[i];
		if (e->src.ss_family == AF_UNSPEC ||
		    now_ms - e->at_ms >= c->ttl_ms ||
		    !addr_equal((const struct sockaddr *)&e->src, src))
			continue;
		if (best == NULL || e->at_ms > best->at_ms)
			best = e;
	}
	return best != NULL ? &best->app : NULL;
}

void
srccache_add(struct srccache *c, const struct sockaddr *src,
             const struct app *app, int64_t now_ms)
{
	struct srccache_ent *e = &c->ent[c->next];

	c->next = (c->next + 1) % SRCCACHE_SIZE;
	memset(&e->src, 0, sizeof(e->src));
	memcpy(&e->src, src, addr_len(src));
	e->at_ms = now_ms;
	e->app = *app;
}
