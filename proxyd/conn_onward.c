/*
 * conn_onward.c - the way onward of a connection allowed: its name
 * resolved (a direct route), the onward TCP connection, and the SOCKS5
 * exchange with an upstream proxy, until conn_granted().  Part of conn.c's
 * state machine (conn_int.h); read it between the decision and the relay.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "common/addr.h"
#include "proxyd/conn_int.h"
#include "proxyd/fakeip.h"
#include "proxyd/isolation.h"

static void conn_upstream_start(struct conn *c);
static bool conn_connect_early(struct conn *c);

/*
 * The SOCKS5 request for the upstream, made while c's app is still known:
 * the destination by name whenever one is known, else by IP; the user name
 * that keeps this app's streams apart from other apps' (isolation.h).
 * 0, or -1 (logged).
 */
int
conn_upstream_prepare(struct conn *c)
{
	struct proxyd *pd = c->pd;
	const struct app *app = c->app;
	const char *name = conn_name(c);
	char user[ISOLATION_USER_MAX + 1], pass[ISOLATION_USER_MAX + 1];
	const char *cuser = NULL, *cpass = NULL, *site = name;
	char ip[ADDR_STRLEN];

	if (c->ask != NULL && c->ask->auth) {
		cuser = c->ask->user;
		cpass = c->ask->pass;
	}
	/* Known by its address only: the address is its site
	 * (isolation.h), not one empty name for all of them. */
	if (site == NULL)
		site = addr_fmt_ip((const struct sockaddr *)&c->dst, ip,
		                   sizeof(ip));
	if (isolation_username(pd->cfg.isolation, pd->isolation_key,
	                       app->uid_known ? app->uid : (uid_t)-1,
	                       app->known ? app->exe : NULL, site, cuser, cpass,
	                       user, sizeof(user), pass, sizeof(pass)) == -1) {
		conn_log(c, LOG_ERR, "cannot make the isolation user name");
		return -1;
	}
	c->s5 = calloc(1, sizeof(*c->s5));
	if (c->s5 == NULL) {
		conn_log(c, LOG_ERR, "upstream request: %s", strerror(errno));
		return -1;
	}
	if (s5c_start(c->s5, user[0] != '\0' ? user : NULL,
	              user[0] != '\0' ? pass : NULL, name,
	              (const struct sockaddr *)&c->dst, c->port) == -1) {
		conn_log(c, LOG_ERR, "upstream request: %s", c->s5->error);
		return -1;
	}
	return 0;
}

/* CONN_RESOLVE: evdns answered (or gave up). */
static void
conn_resolved(struct conn *c)
{
	struct evutil_addrinfo *ai;
	char msg[PEEK_NAME_MAX + 128], a[ADDR_STRLEN];

	c->dns = NULL;
	for (ai = c->dns_res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			break;
	if (ai == NULL) {
		snprintf(msg, sizeof(msg), "resolving %s: %s", c->ask->name,
		         c->dns_err != 0 ? evutil_gai_strerror(c->dns_err)
		                         : "no address");
		conn_fail(c, FRONT_HOST_UNREACH, msg);
		return;
	}
	memcpy(&c->dst, ai->ai_addr, ai->ai_addrlen);
	c->dst_resolved = true;
	if (c->dst.ss_family == AF_INET)
		((struct sockaddr_in *)&c->dst)->sin_port = htons(c->port);
	else
		((struct sockaddr_in6 *)&c->dst)->sin6_port = htons(c->port);
	evutil_freeaddrinfo(c->dns_res);
	c->dns_res = NULL;
	addr_fmt((const struct sockaddr *)&c->dst, a, sizeof(a));
	if (addr_is_loopback((const struct sockaddr *)&c->dst) ||
	    (c->pd->fakeip != NULL &&
	     fakeip_in_range(c->pd->fakeip,
	                     (const struct sockaddr *)&c->dst))) {
		/* Allowed as a name; this address is tollgated itself or
		 * leads nowhere. */
		snprintf(msg, sizeof(msg), "%s resolves to %s: not sent there",
		         c->ask->name, a);
		conn_fail(c, FRONT_NOT_ALLOWED, msg);
		return;
	}
	conn_log(c, LOG_INFO, "resolved %s to %s", c->ask->name, a);
	conn_connect(c);
}

static void
conn_resolve_cb(int err, struct evutil_addrinfo *res, void *arg)
{
	struct conn *c = arg;

	/* A cancelled request belongs to a conn that is freed already:
	 * nothing of c may be touched. */
	if (err == EVUTIL_EAI_CANCEL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	conn_expect(c, CONN_BIT(CONN_RESOLVE), "resolved");
	c->dns_done = true;
	c->dns_err = err;
	c->dns_res = res;
	if (!c->dns_calling)
		conn_resolved(c);
}

/*
 * CONN_DECIDE -> CONN_RESOLVE: allowed, direct, and only a name to go to
 * (a proxy client's request): its address from the resolvers tollgated
 * started with, under connect_timeout.  evdns may answer inside the call
 * (/etc/hosts); the answer is then taken after it.
 */
void
conn_resolve(struct conn *c)
{
	struct evutil_addrinfo hints;

	conn_set_state(c, CONN_RESOLVE);
	if (c->pd->dns == NULL) {
		conn_fail(c, FRONT_HOST_UNREACH,
		          "no resolver: tollgated could not read resolv.conf");
		return;
	}
	if (conn_arm(c, c->pd->cfg.connect_timeout_ms) == -1) {
		conn_fail(c, FRONT_GENERAL, "cannot arm the connect timer");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	c->dns_calling = true;
	c->dns = evdns_getaddrinfo(c->pd->dns, c->ask->name, NULL, &hints,
	                           conn_resolve_cb, c);
	c->dns_calling = false;
	if (c->dns_done)
		conn_resolved(c);
}

/* CONN_CONNECT: the onward socket became writable, or failed. */
static void
conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char msg[128];
	int err;

	conn_expect(c, CONN_BIT(CONN_CONNECT), "onward writable");
	if ((err = c->up->ready(fd, msg, sizeof(msg))) != 0) {
		conn_fail(c,
		          c->up->socks5 ? FRONT_GENERAL : front_code_errno(err),
		          msg);
		return;
	}
	if (c->up->socks5) {
		conn_upstream_start(c);
		return;
	}
	conn_granted(c);
}

/*
 * CONN_DECIDE or CONN_RESOLVE -> CONN_CONNECT: allowed; open the way
 * onward: to the destination, or to the route's SOCKS5 proxy.
 */
void
conn_connect(struct conn *c)
{
	struct proxyd *pd = c->pd;
	struct sockaddr_storage proxy;
	const struct sockaddr *to = (const struct sockaddr *)&c->dst;
	char msg[128];

	conn_set_state(c, CONN_CONNECT);
	if (c->up->socks5) {
		upstream_proxy_addr(c->route, &proxy);
		to = (const struct sockaddr *)&proxy;
	}
	c->sfd = c->up->open(pd, to, msg, sizeof(msg));
	if (c->sfd == -1) {
		conn_fail(
		    c, c->up->socks5 ? FRONT_GENERAL : front_code_errno(errno),
		    msg);
		return;
	}
	/* A resolve has armed it already: one bound for every step. */
	if (!evtimer_pending(c->timer, NULL) &&
	    conn_arm(c, pd->cfg.connect_timeout_ms) == -1) {
		conn_fail(c, FRONT_GENERAL, "cannot arm the connect timer");
		return;
	}
	if (conn_connect_early(c))
		return;
	if (conn_watch_fd(c, c->sfd, EV_WRITE, conn_connect_cb) == -1)
		conn_fail(c, FRONT_GENERAL, "cannot add connect event");
}

/*
 * CONN_CONNECT, the connect just started: a destination close by has
 * often answered the SYN within the connect call.  Then the peeked
 * bytes go at once, with no wait for the socket to turn writable (an
 * epoll add and delete, a turn of the loop and a getsockopt saved per
 * connection).  A socket still connecting takes no byte (EAGAIN): false,
 * and the caller waits as for any connect; so for a route through a
 * SOCKS5 proxy, nothing peeked, or a proxy front's client (told it is
 * connected before anything goes onward, conn_granted()).  True when c
 * went on (granted, or failed: c may be gone).
 */
static bool
conn_connect_early(struct conn *c)
{
	char msg[128];
	ssize_t n;
	int err;

	if (c->up->socks5 || c->peek_len == 0 || c->front->granted != NULL)
		return false;
	n = send(c->sfd, c->peek_buf, c->peek_len, MSG_NOSIGNAL);
	err = errno;
	if (n < 0 && (err == EAGAIN || err == EINTR))
		return false;
	if (n < 0) {
		/* The connect's own error (refused, unreachable), as the
		 * socket turning writable would have told it. */
		snprintf(msg, sizeof(msg), "connect: %s", strerror(err));
		conn_fail(c, front_code_errno(err), msg);
		return true;
	}
	c->peek_sent = (size_t)n;
	conn_granted(c);
	return true;
}

/* CONN_UPSTREAM: send what the SOCKS5 exchange says next. */
static int
conn_upstream_send(struct conn *c)
{
	if (front_write(c->sfd, c->s5->out, c->s5->out_len) == -1) {
		conn_fail(c, FRONT_GENERAL,
		          "upstream: cannot send its request");
		return -1;
	}
	return 0;
}

/*
 * CONN_UPSTREAM: the proxy answered.  Its answer is looked at where it
 * lies (MSG_PEEK) and only the bytes of the answer are taken, so that
 * whatever the server sends after the reply stays in the socket for the
 * relay.  An incomplete answer stays in the socket too; the event is
 * edge-triggered (EV_ET), so it fires again only when more arrives, or
 * when the proxy closes (EV_CLOSED).
 */
static void
conn_upstream_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint8_t buf[S5C_ANSWER_MAX];
	enum s5c_step step;
	char msg[256];
	size_t used = 0;
	ssize_t n;

	conn_expect(c, CONN_BIT(CONN_UPSTREAM), "upstream readable");
	n = recv(c->sfd, buf, sizeof(buf), MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(msg, sizeof(msg), "upstream: %s",
		         n == 0 ? "closed before its reply" : strerror(errno));
		conn_fail(c, FRONT_GENERAL, msg);
		return;
	}
	step = s5c_feed(c->s5, buf, (size_t)n, &used);
	if (used > 0 && recv(c->sfd, buf, used, 0) != (ssize_t)used) {
		conn_fail(c, FRONT_GENERAL, "upstream: reading its reply");
		return;
	}
	if ((step == S5C_NEED_MORE || step == S5C_SEND) && (what & EV_CLOSED)) {
		/* A peek shows the bytes left again and never the end: a
		 * close is told by EV_CLOSED alone, and no answer follows. */
		conn_fail(c, FRONT_GENERAL,
		          "upstream: closed in the middle of its answer");
		return;
	}
	switch (step) {
	case S5C_NEED_MORE:
		return;
	case S5C_SEND:
		(void)conn_upstream_send(c);
		return;
	case S5C_GRANTED:
		free(c->s5);
		c->s5 = NULL;
		event_del(c->sev);
		conn_granted(c);
		return;
	case S5C_REFUSED:
		snprintf(msg, sizeof(msg), "%s (code 0x%02x)", c->s5->error,
		         c->s5->code);
		conn_fail(c, c->s5->code, msg);
		return;
	case S5C_INVALID:
		snprintf(msg, sizeof(msg), "%s", c->s5->error);
		conn_fail(c, FRONT_GENERAL, msg);
		return;
	}
}

/* CONN_CONNECT -> CONN_UPSTREAM: connected to the proxy; ask it. */
static void
conn_upstream_start(struct conn *c)
{
	conn_set_state(c, CONN_UPSTREAM);
	if (conn_upstream_send(c) == -1)
		return;
	if (conn_watch_fd(c, c->sfd, EV_READ | EV_CLOSED | EV_PERSIST | EV_ET,
	                  conn_upstream_cb) == -1)
		conn_fail(c, FRONT_GENERAL, "cannot add upstream event");
}
