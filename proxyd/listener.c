/*
 * listener.c - transparent listeners; see listener.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/accept.h"
#include "proxyd/conn.h"
#include "proxyd/listener.h"

#define LISTEN_BACKLOG 1024
/* Pause after EMFILE/ENFILE, doubling up to the maximum. */
#define ACCEPT_BACKOFF_MIN_MS 10
#define ACCEPT_BACKOFF_MAX_MS 1000

struct listener {
	struct listener *next;
	struct proxyd *pd;
	struct evconnlistener *evl;
	struct sockaddr_storage addr;
	struct accept_backoff backoff; /* out of descriptors: pausing */
};

/* 1 when dst is one of our own listeners (or any loopback address: the
 * redirect leaves loopback alone, so such a destination was not
 * redirected and reached us by a direct connect). */
static int
is_loop(struct proxyd *pd, const struct sockaddr *dst)
{
	struct listener *l;

	if (addr_is_loopback(dst))
		return 1;
	for (l = pd->listeners; l != NULL; l = l->next)
		if (addr_equal(dst, (const struct sockaddr *)&l->addr))
			return 1;
	return 0;
}

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                   struct sockaddr *client, int clen, void *arg)
{
	struct listener *l = arg;
	struct proxyd *pd = l->pd;
	struct sockaddr_storage dst;

	accept_backoff_reset(&l->backoff);
	if (front_transparent.destination(fd, client, &dst) == -1) {
		log_debug("accept: no original destination: %s",
		          strerror(errno));
		memcpy(&dst, &l->addr, sizeof(dst));
		conn_refuse_early(pd, fd, client, (struct sockaddr *)&dst,
		                  REASON_NO_DST);
		return;
	}
	if (is_loop(pd, (struct sockaddr *)&dst)) {
		conn_refuse_early(pd, fd, client, (struct sockaddr *)&dst,
		                  REASON_LOOP);
		return;
	}
	if (pd->n_conns >= pd->cfg.max_connections) {
		conn_refuse_early(pd, fd, client, (struct sockaddr *)&dst,
		                  REASON_OVERLOAD);
		return;
	}
	conn_accept(pd, &front_transparent, fd, client,
	            (struct sockaddr *)&dst);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	char a[ADDR_STRLEN];
	int err = EVUTIL_SOCKET_ERROR(), ms;

	addr_fmt((struct sockaddr *)&l->addr, a, sizeof(a));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("listener %s: accept: %s", a, strerror(err));
		return;
	}
	/* Out of descriptors or memory: stop accepting for a while instead
	 * of spinning; clients wait in the backlog meanwhile. */
	ms = accept_backoff_pause(&l->backoff);
	log_warn("listener %s: accept: %s; pausing %ums (%u connections)", a,
	         strerror(err), l->backoff.ms, l->pd->n_conns);
	if (ms == -1)
		log_error("listener %s: cannot arm the back-off timer", a);
}

static int
listener_open(struct proxyd *pd, const struct sockaddr *sa)
{
	struct listener *l;
	char a[ADDR_STRLEN];
	int fd = -1, one = 1;

	addr_fmt(sa, a, sizeof(a));
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		log_error("listener %s: calloc: %s", a, strerror(errno));
		return -1;
	}
	l->pd = pd;
	memcpy(&l->addr, sa, addr_len(sa));
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd == -1) {
		log_error("listener %s: socket: %s", a, strerror(errno));
		goto fail;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		log_error("listener %s: SO_REUSEADDR: %s", a, strerror(errno));
		goto fail;
	}
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ==
	        -1) {
		log_error("listener %s: IPV6_V6ONLY: %s", a, strerror(errno));
		goto fail;
	}
	if (bind(fd, sa, addr_len(sa)) == -1) {
		log_error("listener %s: bind: %s", a, strerror(errno));
		goto fail;
	}
	l->evl = evconnlistener_new(
	    pd->base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, LISTEN_BACKLOG, fd);
	if (l->evl == NULL) {
		log_error("listener %s: listen: %s", a, strerror(errno));
		goto fail;
	}
	fd = -1; /* owned by evl now */
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	if (accept_backoff_init(&l->backoff, pd->base, l->evl,
	                        ACCEPT_BACKOFF_MIN_MS,
	                        ACCEPT_BACKOFF_MAX_MS) == -1) {
		log_error("listener %s: cannot make timer", a);
		evconnlistener_free(l->evl);
		goto fail;
	}
	l->next = pd->listeners;
	pd->listeners = l;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	free(l);
	return -1;
}

int
listener_open_all(struct proxyd *pd)
{
	size_t i;

	for (i = 0; i < pd->cfg.n_transparent; i++)
		if (listener_open(pd, (const struct sockaddr *)&pd->cfg
		                          .transparent_listen[i]) == -1)
			return -1;
	return 0;
}

void
listener_close_all(struct proxyd *pd)
{
	struct listener *l, *next;

	for (l = pd->listeners; l != NULL; l = next) {
		next = l->next;
		evconnlistener_free(l->evl);
		accept_backoff_free(&l->backoff);
		free(l);
	}
	pd->listeners = NULL;
}

const char *
listener_describe(const struct proxyd *pd, char *buf, size_t len)
{
	const struct listener *l;
	char a[ADDR_STRLEN];
	size_t off = 0;

	buf[0] = '\0';
	for (l = pd->listeners; l != NULL && off < len; l = l->next) {
		int n = snprintf(
		    buf + off, len - off, "%s%s", off > 0 ? ", " : "",
		    addr_fmt((const struct sockaddr *)&l->addr, a, sizeof(a)));
		if (n < 0)
			break;
		off += n;
	}
	return buf;
}
