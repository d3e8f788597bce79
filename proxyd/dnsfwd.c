/*
 * dnsfwd.c - the DNS stub's forwarder; see dnsfwd.h.
 *
 * Read top to bottom as a query goes: where to, the sockets, a query
 * sent, an answer read back or the timer giving up on it.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "proxyd/dnsfwd.h"
#include "proxyd/srccache.h"

/* Datagrams read per wake-up, so that a flood of answers cannot starve
 * the loop's other events. */
#define DNSFWD_READS_PER_WAKE 64

struct dnsfwd_sock {
	int fd; /* -1: no upstream of this family */
	struct event *ev;
};

/* A query asked again over TCP: it owns its entry, out of the table. */
struct dnsfwd_tcp {
	LIST_ENTRY(dnsfwd_tcp) entry;
	struct dnsfwd *f;
	struct bufferevent *bev;
	struct dnsfwdq_entry *e;
};

struct dnsfwd {
	struct event_base *base;
	struct sockaddr_storage up[CONFIG_MAX_DNS];
	size_t n_up, cur; /* the upstream the next query goes to */
	struct dnsfwd_sock v4, v6;
	struct event *timer;
	LIST_HEAD(, dnsfwd_tcp) tcps;
	size_t n_tcp;
	dnsfwd_reply_fn reply;
	void *arg;
	struct dnsfwd_stats stats;
	struct dnsfwdq q; /* last: 512 KiB of ids */
};

/* --- where to ------------------------------------------------------------- */

/* Whether sa is one of the stub's own addresses: forwarding there would
 * hand each query back to the stub, again and again up to the bound. */
static bool
dnsfwd_is_stub(const struct config *cfg, const struct sockaddr *sa)
{
	char a[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < cfg->n_dns_listen; i++)
		if (addr_equal(sa,
		               (const struct sockaddr *)&cfg->dns_listen[i])) {
			log_warn("dns forward: %s is dns_listen, the stub "
			         "itself: not forwarded to",
			         addr_fmt(sa, a, sizeof(a)));
			return true;
		}
	return false;
}

size_t
dnsfwd_upstreams_of(const struct config *cfg, struct evdns_base *dns,
                    struct sockaddr_storage *up)
{
	size_t n = 0, i;
	int k, count;

	if (cfg->dns_upstream_none)
		return 0;
	for (i = 0; i < cfg->n_dns_upstream; i++)
		if (!dnsfwd_is_stub(
		        cfg, (const struct sockaddr *)&cfg->dns_upstream[i]))
			up[n++] = cfg->dns_upstream[i];
	if (cfg->n_dns_upstream > 0)
		return n;
	count = dns != NULL ? evdns_base_count_nameservers(dns) : 0;
	for (k = 0; k < count && n < CONFIG_MAX_DNS; k++) {
		memset(&up[n], 0, sizeof(up[n]));
		if (evdns_base_get_nameserver_addr(
		        dns, k, (struct sockaddr *)&up[n], sizeof(up[n])) > 0 &&
		    (up[n].ss_family == AF_INET ||
		     up[n].ss_family == AF_INET6) &&
		    !dnsfwd_is_stub(cfg, (const struct sockaddr *)&up[n]))
			n++;
	}
	return n;
}

/* The daemon's monotonic milliseconds (srccache.h's clock). */
static uint64_t
dnsfwd_now_ms(void)
{
	return (uint64_t)mono_ms();
}

static uint16_t
dnsfwd_rand16(void *arg)
{
	uint16_t id;

	evutil_secure_rng_get_bytes(&id, sizeof(id));
	return id;
}

/* The index of the upstream from is, or -1. */
static int
dnsfwd_upstream_index(const struct dnsfwd *f, const struct sockaddr *from)
{
	size_t i;

	for (i = 0; i < f->n_up; i++)
		if (addr_equal((const struct sockaddr *)&f->up[i], from))
			return (int)i;
	return -1;
}

/* --- the timer ------------------------------------------------------------ */

static void
dnsfwd_arm(struct dnsfwd *f)
{
	struct timeval tv;
	uint64_t deadline, now;

	if (!dnsfwdq_next(&f->q, &deadline)) {
		evtimer_del(f->timer);
		return;
	}
	now = dnsfwd_now_ms();
	deadline = deadline > now ? deadline - now : 0;
	tv.tv_sec = (time_t)(deadline / 1000);
	tv.tv_usec = (suseconds_t)(deadline % 1000 * 1000);
	if (evtimer_add(f->timer, &tv) == -1)
		log_warn("dns forward: cannot arm the timer");
}

static void
dnsfwd_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsfwd *f = arg;
	struct dnsfwdq_entry *e;
	uint8_t out[DNS_ANSWER_MIN_MAX];
	uint64_t now = dnsfwd_now_ms();
	char a[ADDR_STRLEN];
	size_t n;

	while ((e = dnsfwdq_expired(&f->q, now)) != NULL) {
		f->stats.timeouts++;
		log_info("dns forward: %s (type %u) unanswered by %s after "
		         "%d ms: SERVFAIL",
		         e->q.name, (unsigned)e->q.qtype,
		         addr_fmt((const struct sockaddr *)&f->up[e->upstream],
		                  a, sizeof(a)),
		         DNSFWD_TIMEOUT_MS);
		/* A silent resolver: the next query tries another. */
		if (e->upstream == f->cur)
			f->cur = (f->cur + 1) % f->n_up;
		if ((n = dnsfwdq_error(e, DNS_R_SERVFAIL, out, sizeof(out))) >
		    0)
			f->reply(f->arg, &e->origin, out, n);
		free(e);
	}
	dnsfwd_arm(f);
}

/* --- asked again over TCP ------------------------------------------------- */

/* Give t's client the answer, or SERVFAIL (msg NULL); t is gone. */
static void
dnsfwd_tcp_end(struct dnsfwd_tcp *t, const uint8_t *msg, size_t len)
{
	static uint8_t out[DNS_MSG_MAX];
	struct dnsfwd *f = t->f;
	size_t n;

	if (msg != NULL)
		n = dnsfwdq_relay(t->e, msg, len, out, sizeof(out));
	else
		n = dnsfwdq_error(t->e, DNS_R_SERVFAIL, out, sizeof(out));
	if (msg != NULL && n > 0)
		f->stats.answered++;
	else
		f->stats.timeouts++;
	if (n > 0)
		f->reply(f->arg, &t->e->origin, out, n);
	LIST_REMOVE(t, entry);
	f->n_tcp--;
	bufferevent_free(t->bev);
	free(t->e);
	free(t);
}

static void
dnsfwd_tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct dnsfwd_tcp *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t have = evbuffer_get_length(in);
	const uint8_t *buf;
	int total;

	buf = evbuffer_pullup(in, have < 2 + DNS_MSG_MAX
	                              ? (ev_ssize_t)have
	                              : (ev_ssize_t)(2 + DNS_MSG_MAX));
	total = buf != NULL ? dns_tcp_len(buf, have) : DNS_TCP_INVALID;
	if (total == DNS_TCP_NEED_MORE)
		return;
	/* One query on the connection: anything but its answer is wrong. */
	if (total == DNS_TCP_INVALID ||
	    dnsfwdq_matches(t->e, buf + 2, (size_t)total - 2) == -1) {
		log_info("dns forward: %s over TCP: no answer", t->e->q.name);
		dnsfwd_tcp_end(t, NULL, 0);
		return;
	}
	dnsfwd_tcp_end(t, buf + 2, (size_t)total - 2);
}

static void
dnsfwd_tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dnsfwd_tcp *t = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	log_info("dns forward: %s over TCP: %s", t->e->q.name,
	         (what & BEV_EVENT_TIMEOUT) ? "timed out"
	         : (what & BEV_EVENT_EOF)   ? "closed"
	                                    : strerror(EVUTIL_SOCKET_ERROR()));
	dnsfwd_tcp_end(t, NULL, 0);
}

/*
 * e's answer came truncated over UDP to a TCP client: ask the upstream
 * it went to again over TCP, where nothing is cut.  0: under way, the
 * answer or SERVFAIL comes through reply() and e is freed then; -1: not
 * (past DNSFWD_TCP_MAX, or no connection), e is still the caller's.
 */
static int
dnsfwd_tcp_ask(struct dnsfwd *f, struct dnsfwdq_entry *e)
{
	const struct sockaddr *to =
	    (const struct sockaddr *)&f->up[e->upstream];
	struct timeval limit = {DNSFWD_TIMEOUT_MS / 1000,
	                        DNSFWD_TIMEOUT_MS % 1000 * 1000};
	uint8_t len2[2] = {(uint8_t)(e->len >> 8), (uint8_t)e->len};
	struct dnsfwd_tcp *t;

	if (f->n_tcp >= DNSFWD_TCP_MAX || (t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	/* Deferred: no callback runs inside this function. */
	t->bev = bufferevent_socket_new(
	    f->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (t->bev == NULL ||
	    bufferevent_socket_connect(t->bev, to, (int)addr_len(to)) == -1 ||
	    bufferevent_write(t->bev, len2, 2) == -1 ||
	    bufferevent_write(t->bev, e->msg, e->len) == -1) {
		if (t->bev != NULL)
			bufferevent_free(t->bev);
		free(t);
		return -1;
	}
	t->f = f;
	t->e = e;
	bufferevent_setcb(t->bev, dnsfwd_tcp_read_cb, NULL, dnsfwd_tcp_event_cb,
	                  t);
	bufferevent_set_timeouts(t->bev, &limit, &limit);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&f->tcps, t, entry);
	f->n_tcp++;
	f->stats.tcp++;
	return 0;
}

/* --- the answers ---------------------------------------------------------- */

static void
dnsfwd_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[DNS_MSG_MAX], out[DNS_MSG_MAX];
	struct dnsfwd *f = arg;
	struct sockaddr_storage from;
	struct dnsfwdq_entry *e;
	socklen_t flen;
	ssize_t n;
	size_t len;
	int i, up;

	for (i = 0; i < DNSFWD_READS_PER_WAKE; i++) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		             (struct sockaddr *)&from, &flen);
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			/* ECONNREFUSED and the like: an ICMP error of an
			 * earlier send; its query times out. */
			if (errno != EINTR)
				log_debug("dns forward: recvfrom: %s",
				          strerror(errno));
			continue;
		}
		up = dnsfwd_upstream_index(f, (const struct sockaddr *)&from);
		if (up == -1 || (e = dnsfwdq_take(&f->q, buf, (size_t)n,
		                                  (size_t)up)) == NULL) {
			f->stats.stray++;
			continue;
		}
		if (e->origin.via == DNSFWD_TCP &&
		    dnsfwdq_truncated(buf, (size_t)n) &&
		    dnsfwd_tcp_ask(f, e) == 0)
			continue;
		len = dnsfwdq_relay(e, buf, (size_t)n, out, sizeof(out));
		if (len > 0) {
			f->stats.answered++;
			f->reply(f->arg, &e->origin, out, len);
		}
		free(e);
	}
	dnsfwd_arm(f);
}

/* --- the sockets ---------------------------------------------------------- */

static int
dnsfwd_sock_open(struct dnsfwd *f, struct dnsfwd_sock *s, int family, char *err,
                 size_t errlen)
{
	s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		snprintf(err, errlen, "dns forward: %s socket: %s",
		         family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		return -1;
	}
	s->ev =
	    event_new(f->base, s->fd, EV_READ | EV_PERSIST, dnsfwd_read_cb, f);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1) {
		snprintf(err, errlen,
		         "dns forward: cannot add the socket's "
		         "event");
		return -1;
	}
	return 0;
}

static void
dnsfwd_sock_close(struct dnsfwd_sock *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	s->ev = NULL;
	s->fd = -1;
}

struct dnsfwd *
dnsfwd_new(struct event_base *base, const struct sockaddr_storage *up, size_t n,
           dnsfwd_reply_fn reply, void *arg, char *err, size_t errlen)
{
	struct dnsfwd *f;
	size_t i;

	if (n == 0 || n > CONFIG_MAX_DNS) {
		snprintf(err, errlen, "dns forward: %zu upstreams", n);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "dns forward: %s", strerror(errno));
		return NULL;
	}
	f->base = base;
	memcpy(f->up, up, n * sizeof(*up));
	f->n_up = n;
	f->reply = reply;
	f->arg = arg;
	f->v4.fd = f->v6.fd = -1;
	LIST_INIT(&f->tcps);
	dnsfwdq_init(&f->q, DNSFWD_MAX_PENDING, DNSFWD_TIMEOUT_MS);
	if ((f->timer = evtimer_new(base, dnsfwd_timer_cb, f)) == NULL) {
		snprintf(err, errlen, "dns forward: cannot make the timer");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (up[i].ss_family == AF_INET && f->v4.fd == -1 &&
		    dnsfwd_sock_open(f, &f->v4, AF_INET, err, errlen) == -1)
			goto fail;
		if (up[i].ss_family == AF_INET6 && f->v6.fd == -1 &&
		    dnsfwd_sock_open(f, &f->v6, AF_INET6, err, errlen) == -1)
			goto fail;
	}
	return f;
fail:
	dnsfwd_free(f);
	return NULL;
}

void
dnsfwd_free(struct dnsfwd *f)
{
	struct dnsfwd_tcp *t;

	if (f == NULL)
		return;
	while ((t = LIST_FIRST(&f->tcps)) != NULL) {
		LIST_REMOVE(t, entry);
		bufferevent_free(t->bev);
		free(t->e);
		free(t);
	}
	dnsfwd_sock_close(&f->v4);
	dnsfwd_sock_close(&f->v6);
	if (f->timer != NULL)
		event_free(f->timer);
	dnsfwdq_clear(&f->q);
	free(f);
}

const struct sockaddr *
dnsfwd_upstream(const struct dnsfwd *f)
{
	return (const struct sockaddr *)&f->up[f->cur];
}

/* --- a query -------------------------------------------------------------- */

int
dnsfwd_query(struct dnsfwd *f, const struct dnsfwd_origin *origin,
             const struct dns_query *q, const uint8_t *msg, size_t len)
{
	const struct sockaddr *to = (const struct sockaddr *)&f->up[f->cur];
	struct dnsfwdq_entry *e;
	char a[ADDR_STRLEN];
	int fd = to->sa_family == AF_INET ? f->v4.fd : f->v6.fd;

	e = dnsfwdq_add(&f->q, origin, q, msg, len, f->cur, dnsfwd_now_ms(),
	                dnsfwd_rand16, NULL);
	if (e == NULL) {
		f->stats.refused++;
		log_warn("dns forward: %s: %s", q->name,
		         errno == EBUSY ? "too many queries in flight"
		                        : (errno == EAGAIN ? "no free id"
		                                           : strerror(errno)));
		return -1;
	}
	/* A TCP client takes any size, but its answer comes over UDP: offer
	 * upstream the most we take there, in the OPT record that follows
	 * the question (dns.h), so that fewer answers come truncated. */
	if (origin->via == DNSFWD_TCP && q->edns &&
	    q->edns_size < DNS_EDNS_MAX && len >= q->question_end + 5) {
		e->msg[q->question_end + 3] = (uint8_t)(DNS_EDNS_MAX >> 8);
		e->msg[q->question_end + 4] = (uint8_t)DNS_EDNS_MAX;
	}
	if (sendto(fd, e->msg, e->len, MSG_DONTWAIT, to, addr_len(to)) == -1) {
		f->stats.refused++;
		log_warn("dns forward: %s to %s: sendto: %s", q->name,
		         addr_fmt(to, a, sizeof(a)), strerror(errno));
		/* The caller answers, not the timer. */
		dnsfwdq_cancel(&f->q, e);
		return -1;
	}
	f->stats.sent++;
	if (TAILQ_FIRST(&f->q.queue) == e)
		dnsfwd_arm(f);
	return 0;
}

void
dnsfwd_stats(const struct dnsfwd *f, struct dnsfwd_stats *out)
{
	*out = f->stats;
	out->in_flight = f->q.n;
}
