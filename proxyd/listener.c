/*
 * listener.c - the listeners of every front; see listener.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/listener.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/accept.h"
#include "proxyd/conn.h"
#include "proxyd/connbpf.h"
#include "proxyd/front.h"
#include "proxyd/fdbudget.h"
#include "proxyd/listener.h"

#define LISTEN_BACKLOG 1024
/* Pause after EMFILE/ENFILE, doubling up to the maximum. */
#define ACCEPT_BACKOFF_MIN_MS 10
#define ACCEPT_BACKOFF_MAX_MS 1000

struct listener {
	struct listener *next;
	struct proxyd *pd;
	const struct front *front;
	struct evconnlistener *evl;
	struct sockaddr_storage addr;           /* a TCP listener's */
	char path[108];                         /* a unix one's, "" for TCP */
	char via[CONFIG_UPSTREAM_NAME_MAX + 1]; /* its clients' route */
	struct accept_backoff backoff; /* out of descriptors: pausing */
};

/* "127.0.0.1:1080" or "unix:/run/tollgate/socks.sock" */
static const char *
listener_name(const struct listener *l, char *buf, size_t len)
{
	if (l->path[0] != '\0')
		snprintf(buf, len, "unix:%s", l->path);
	else
		addr_fmt((const struct sockaddr *)&l->addr, buf, len);
	return buf;
}

/* Whether sa is a wildcard address (0.0.0.0 or ::), whose accepted
 * sockets each have their own local address. */
static bool
listener_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(
	           &((const struct sockaddr_in6 *)sa)->sin6_addr);
}

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
		if (l->path[0] == '\0' &&
		    addr_equal(dst, (const struct sockaddr *)&l->addr))
			return 1;
	return 0;
}

/*
 * The SOCKS5 upstream whose proxy listens at dst, or NULL.  A guarded
 * client that speaks SOCKS to such an address itself (an app set up with
 * the Tor gateway's SocksPort) would otherwise be relayed with no name to
 * judge and no route that works: it is served as at a SOCKS front whose
 * route is that upstream.
 */
static const struct config_upstream *
upstream_at(const struct config *cfg, const struct sockaddr *dst)
{
	const struct config_upstream *u;
	size_t i;

	for (i = 0; i < cfg->n_upstreams; i++) {
		u = &cfg->upstreams[i];
		if (u->kind == UPSTREAM_SOCKS5 && !u->at.is_unix &&
		    addr_equal(dst, (const struct sockaddr *)&u->at.addr))
			return u;
	}
	return NULL;
}

/*
 * A proxy front's client: its destination comes with its request.  A
 * unix client is known by its SO_PEERCRED, a TCP one by its address and
 * ours.
 */
static void
listener_accept_proxy(struct listener *l, int fd, const struct sockaddr *client)
{
	struct proxyd *pd = l->pd;
	struct conn_origin o = {0};
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char a[ADDR_STRLEN + 120];

	if (!fdbudget_room(pd)) {
		conn_refuse_early(pd, fd, client,
		                  (const struct sockaddr *)&l->addr,
		                  REASON_OVERLOAD);
		return;
	}
	if (l->path[0] != '\0') {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ==
		    -1) {
			log_warn("listener %s: SO_PEERCRED: %s",
			         listener_name(l, a, sizeof(a)),
			         strerror(errno));
			front_reset(fd);
			return;
		}
		o.has_cred = true;
		o.pid = cred.pid;
		o.uid = cred.uid;
	} else {
		/* The address it reached: the listener's, unless that is a
		 * wildcard one. */
		if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1)
			memcpy(&local, &l->addr, sizeof(local));
		o.client = client;
		o.local = (const struct sockaddr *)&local;
	}
	o.via = l->via;
	conn_accept(pd, l->front, fd, &o);
}

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                   struct sockaddr *client, int clen, void *arg)
{
	struct listener *l = arg;
	struct proxyd *pd = l->pd;
	struct sockaddr_storage dst, self;
	socklen_t slen = sizeof(self);
	struct conn_origin o = {0};
	const struct config_upstream *u;

	accept_backoff_reset(&l->backoff);
	if (l->front->destination == NULL) {
		listener_accept_proxy(l, fd, client);
		return;
	}
	if (l->front->destination(fd, client, &dst) == -1) {
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
	if (!fdbudget_room(pd)) {
		conn_refuse_early(pd, fd, client, (struct sockaddr *)&dst,
		                  REASON_OVERLOAD);
		return;
	}
	o.client = client;
	o.local = (const struct sockaddr *)&dst;
	/* Our address it reached: the listener's, unless that is a wildcard
	 * one (a system call saved per connection). */
	if (!listener_wildcard((const struct sockaddr *)&l->addr))
		o.self = (const struct sockaddr *)&l->addr;
	else if (getsockname(fd, (struct sockaddr *)&self, &slen) == 0)
		o.self = (const struct sockaddr *)&self;
	if ((u = upstream_at(&pd->cfg, (const struct sockaddr *)&dst)) !=
	    NULL) {
		o.via = u->name;
		conn_accept(pd, &front_socks, fd, &o);
		return;
	}
	o.dst = (const struct sockaddr *)&dst;
	conn_accept(pd, l->front, fd, &o);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	char a[ADDR_STRLEN + 120];
	int err = EVUTIL_SOCKET_ERROR(), ms;

	listener_name(l, a, sizeof(a));
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

/* A TCP socket bound to sa; -1 (logged). */
static int
listener_bind_tcp(const struct sockaddr *sa, const char *a)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd == -1) {
		log_error("listener %s: socket: %s", a, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		log_error("listener %s: SO_REUSEADDR: %s", a, strerror(errno));
		goto fail;
	}
	/* Inherited by every accepted socket (Linux copies it), so that no
	 * client costs a setsockopt of its own: its small writes (a proxy
	 * front's replies, a relay's) go out at once. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) {
		log_error("listener %s: TCP_NODELAY: %s", a, strerror(errno));
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
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * A unix socket at path with mode; -1 (logged).  A socket file left by an
 * earlier run is replaced; any other file at path is an error.
 */
static int
listener_bind_unix(const char *path, mode_t mode, const char *a)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("listener %s: %s exists and is not a socket",
			          a, path);
			return -1;
		}
		if (unlink(path) == -1) {
			log_error("listener %s: unlink old socket: %s", a,
			          strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_error("listener %s: socket: %s", a, strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_error("listener %s: bind: %s", a, strerror(errno));
		goto fail;
	}
	if (chmod(path, mode) == -1) {
		log_error("listener %s: chmod %04o: %s", a, (unsigned)mode,
		          strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
listener_open(struct proxyd *pd, const struct front *front,
              const struct config_listen *at)
{
	struct listener *l;
	char a[ADDR_STRLEN + 120];
	int fd = -1;

	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		log_error("listener: calloc: %s", strerror(errno));
		return -1;
	}
	l->pd = pd;
	l->front = front;
	snprintf(l->via, sizeof(l->via), "%s", at->via);
	if (at->is_unix)
		snprintf(l->path, sizeof(l->path), "%s", at->path);
	else
		memcpy(&l->addr, &at->addr, sizeof(l->addr));
	listener_name(l, a, sizeof(a));
	fd = at->is_unix
	         ? listener_bind_unix(at->path, at->mode, a)
	         : listener_bind_tcp((const struct sockaddr *)&at->addr, a);
	if (fd == -1)
		goto fail;
	/* Each SYN's headers kept for its SYN record (connbpf.h); without
	 * them each connection is looked up by sock_diag. */
	if (!at->is_unix && connbpf_save_syn(pd->connbpf, fd) == -1)
		log_warn("listener %s: setsockopt TCP_SAVE_SYN: %s", a,
		         strerror(errno));
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
	const struct config *cfg = &pd->cfg;
	struct config_listen at;
	size_t i;

	for (i = 0; i < cfg->n_transparent; i++) {
		memset(&at, 0, sizeof(at));
		memcpy(&at.addr, &cfg->transparent_listen[i], sizeof(at.addr));
		if (listener_open(pd, &front_transparent, &at) == -1)
			return -1;
	}
	for (i = 0; i < cfg->n_socks_listen; i++)
		if (listener_open(pd, &front_socks, &cfg->socks_listen[i]) ==
		    -1)
			return -1;
	for (i = 0; i < cfg->n_connect_listen; i++)
		if (listener_open(pd, &front_connect,
		                  &cfg->connect_listen[i]) == -1)
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
		/* Privileges dropped: a socket in a root-owned directory
		 * stays, and is replaced at the next start. */
		if (l->path[0] != '\0')
			(void)unlink(l->path);
		accept_backoff_free(&l->backoff);
		free(l);
	}
	pd->listeners = NULL;
}

const char *
listener_describe(const struct proxyd *pd, char *buf, size_t len)
{
	const struct listener *l;
	char a[ADDR_STRLEN + 120];
	size_t off = 0;

	buf[0] = '\0';
	for (l = pd->listeners; l != NULL && off < len; l = l->next) {
		int n = snprintf(buf + off, len - off, "%s%s%s%s",
		                 off > 0 ? ", " : "", l->front->name, " ",
		                 listener_name(l, a, sizeof(a)));
		if (n < 0)
			break;
		off += n;
	}
	return buf;
}
