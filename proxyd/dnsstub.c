/*
 * dnsstub.c - the DNS stub; see dnsstub.h.
 *
 * Read top to bottom as a query goes: the sockets, a datagram read and
 * parsed, its asker found (the cache, else the worker thread), the rules'
 * verdict, the answer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/dns.h"
#include "proxyd/dnsstub.h"
#include "proxyd/eventlog.h"
#include "proxyd/fakeip.h"
#include "proxyd/front.h"
#include "proxyd/rulesvc.h"
#include "proxyd/srccache.h"
#include "proxyd/worker.h"

/* Datagrams read per wake-up, so that one busy socket cannot starve the
 * loop's other events. */
#define DNSSTUB_READS_PER_WAKE 64
#define DNSSTUB_TCP_MAX        256 /* DNS-over-TCP clients at once */
#define DNSSTUB_TCP_IDLE_S     10  /* a TCP client silent this long goes */
#define DNSSTUB_TCP_BACKLOG    64

struct dnsstub_sock {
	int fd; /* UDP */
	struct event *ev;
	int tfd; /* TCP, listening; -1 once evl owns it */
	struct evconnlistener *evl;
	struct sockaddr_storage addr;
};

/* A DNS-over-TCP client: found once, then answered message by message. */
struct dnstcp {
	struct worker_job job;
	TAILQ_ENTRY(dnstcp) entry;
	struct dnsstub *stub;
	struct bufferevent *bev;
	struct sockaddr_storage client, dst; /* dst: where it connected to,
	                                      * before the redirect */
	struct app app;
	bool attributed; /* app is valid: answer */
	bool pending;    /* its job is on the worker, which writes app */
	bool gone;       /* closed while pending: the job's end frees it */
};

/* A query waiting for its asker to be found. */
struct dnsq {
	struct worker_job job;
	TAILQ_ENTRY(dnsq) entry;
	struct dnsstub *stub;
	int fd; /* the socket it came in on */
	struct sockaddr_storage client;
	socklen_t clen;
	struct dns_query q;
	struct app app;
	size_t len;
	uint8_t msg[];
};

struct dnsstub {
	struct proxyd *pd;
	struct dnsstub_sock socks[CONFIG_MAX_DNS];
	size_t n_socks;
	TAILQ_HEAD(, dnsq) pending;
	size_t n_pending;
	TAILQ_HEAD(, dnstcp) tcps;
	size_t n_tcps;
	struct srccache seen; /* who asked from a port, lately */
	uint64_t answered, refused, dropped, full;
};

/* --- the answer ----------------------------------------------------------- */

static void
dnsstub_send(int fd, const struct sockaddr_storage *client, socklen_t clen,
             const uint8_t *out, size_t n)
{
	char a[ADDR_STRLEN];

	if (n == 0)
		return;
	if (sendto(fd, out, n, MSG_DONTWAIT, (const struct sockaddr *)client,
	           clen) == -1)
		log_debug(
		    "dns: answer to %s: %s",
		    addr_fmt((const struct sockaddr *)client, a, sizeof(a)),
		    strerror(errno));
}

/* A refused query: its log line and event row, as a connection's. */
static void
dnsstub_record(struct dnsstub *stub, const struct sockaddr_storage *client,
               const struct dns_query *q, const struct app *app,
               const struct rules_entry *e)
{
	struct sockaddr_storage none = {.ss_family = AF_UNSPEC};
	struct peek_info name = {
	    .source = NAME_DNS,
	    .proto = "dns",
	};
	struct decision d = {
	    .id = stub->pd->next_conn_id++,
	    .verdict = e->action,
	    .reason = REASON_RULE,
	    .rule_id = e->id,
	    .app = app,
	    .client = (const struct sockaddr *)client,
	    .dst = (const struct sockaddr *)&none,
	    .port = 53,
	    .peek = &name,
	    .flags = app->known ? 0 : EVENT_F_UNKNOWN,
	    .upstream = "",
	    .proto = "dns",
	};

	snprintf(name.name, sizeof(name.name), "%s", q->name);
	(void)eventlog_decision(stub->pd, &d);
}

/*
 * Answer q from app: the rules first, then by type.  Every path sends
 * exactly one answer.
 */
static size_t
dnsstub_answer(struct dnsstub *stub, const struct sockaddr_storage *client,
               const struct dns_query *q, const uint8_t *msg,
               const struct app *app, size_t max_size, uint8_t *out, size_t cap)
{
	struct proxyd *pd = stub->pd;
	const struct rules_entry *e;
	struct rules_query rq;
	struct sockaddr_storage ptr;
	struct dns_rr rr;
	enum dns_rcode rcode = DNS_R_NOERROR;
	const char *name;
	size_t n_rr = 0;

	memset(&rr, 0, sizeof(rr));
	rr.ttl = pd->cfg.fake_ip_ttl_ms / 1000;
	if (q->opcode != 0) {
		rcode = DNS_R_NOTIMP;
		pd->dns_stats.other++;
		goto send;
	}
	if (q->qtype == DNS_T_PTR && dns_ptr_addr(q->name, &ptr) == 0) {
		/* Our own made-up addresses only: nothing else is asked. */
		name = fakeip_name(pd->fakeip, (struct sockaddr *)&ptr);
		if (name == NULL) {
			rcode = DNS_R_NXDOMAIN;
			pd->dns_stats.other++;
			goto send;
		}
		rr.type = DNS_T_PTR;
		rr.u.name = name;
		n_rr = 1;
		pd->dns_stats.answered++;
		goto send;
	}
	if (!q->name_ok) {
		rcode = DNS_R_NXDOMAIN;
		pd->dns_stats.other++;
		goto send;
	}
	memset(&rq, 0, sizeof(rq));
	rq.app = app->known ? app->exe : NULL;
	rq.has_uid = app->uid_known;
	rq.uid = app->uid;
	rq.name = q->name;
	rq.proto = RPROTO_DNS;
	rq.now = time(NULL);
	e = rulesvc_decide(pd, &rq, NULL);
	if (e != NULL && e->action != ACTION_ALLOW) {
		stub->refused++;
		pd->dns_stats.denied++;
		dnsstub_record(stub, client, q, app, e);
		rcode =
		    e->action == ACTION_REJECT ? DNS_R_REFUSED : DNS_R_NXDOMAIN;
		goto send;
	}
	switch (q->qtype) {
	case DNS_T_A:
		if (fakeip_addr(pd->fakeip, q->name, &rr.u.a) == -1) {
			rcode = DNS_R_SERVFAIL;
			pd->dns_stats.other++;
			break;
		}
		rr.type = DNS_T_A;
		n_rr = 1;
		pd->dns_stats.answered++;
		break;
	case DNS_T_AAAA:
	case DNS_T_HTTPS:
	case DNS_T_SVCB:
		pd->dns_stats.other++;
		break; /* NODATA */
	default:
		rcode = DNS_R_NOTIMP;
		pd->dns_stats.other++;
		break;
	}
send:
	stub->answered++;
	return dns_build_answer(q, msg, rcode, &rr, n_rr, max_size, out, cap);
}

/* Answer a UDP query from app, on the socket it came in on. */
static void
dnsstub_answer_udp(struct dnsstub *stub, int fd,
                   const struct sockaddr_storage *client, socklen_t clen,
                   const struct dns_query *q, const uint8_t *msg,
                   const struct app *app)
{
	uint8_t out[DNS_EDNS_MAX];

	dnsstub_send(fd, client, clen, out,
	             dnsstub_answer(stub, client, q, msg, app, dns_udp_size(q),
	                            out, sizeof(out)));
}

/* --- who asked -------------------------------------------------------------
 */

static void
dnsq_run(struct worker_job *job, void *ctx)
{
	struct dnsq *dq = (struct dnsq *)job;

	/* On the worker thread: only dq->app is written. */
	if (ctx != NULL)
		attr_lookup_udp(ctx, (const struct sockaddr *)&dq->client,
		                &dq->app);
}

static void
dnsq_done(struct worker_job *job)
{
	struct dnsq *dq = (struct dnsq *)job;
	struct dnsstub *stub = dq->stub;

	TAILQ_REMOVE(&stub->pending, dq, entry);
	stub->n_pending--;
	if (dq->app.uid_known)
		srccache_add(&stub->seen, (const struct sockaddr *)&dq->client,
		             &dq->app, srccache_now_ms());
	dnsstub_answer_udp(stub, dq->fd, &dq->client, dq->clen, &dq->q, dq->msg,
	                   &dq->app);
	free(dq);
}

/* --- a datagram ----------------------------------------------------------- */

static void
dnsstub_datagram(struct dnsstub *stub, int fd, const uint8_t *msg, size_t len,
                 const struct sockaddr_storage *client, socklen_t clen)
{
	struct dns_query q;
	const struct app *seen;
	struct dnsq *dq;
	uint8_t out[DNS_HDR_LEN];

	switch (dns_parse_query(msg, len, &q)) {
	case DNS_DROP:
		stub->dropped++;
		return;
	case DNS_FORMERR:
		stub->answered++;
		stub->pd->dns_stats.other++;
		dnsstub_send(
		    fd, client, clen, out,
		    dns_build_error(msg, len, DNS_R_FORMERR, out, sizeof(out)));
		return;
	case DNS_QUERY:
		break;
	}
	if ((seen = srccache_find(&stub->seen, (const struct sockaddr *)client,
	                          srccache_now_ms())) != NULL) {
		dnsstub_answer_udp(stub, fd, client, clen, &q, msg, seen);
		return;
	}
	if (stub->n_pending >= DNSSTUB_MAX_PENDING ||
	    (dq = calloc(1, sizeof(*dq) + len)) == NULL) {
		stub->full++;
		stub->answered++;
		stub->pd->dns_stats.other++;
		dnsstub_send(fd, client, clen, out,
		             dns_build_error(msg, len, DNS_R_SERVFAIL, out,
		                             sizeof(out)));
		return;
	}
	dq->job.run = dnsq_run;
	dq->job.done = dnsq_done;
	dq->stub = stub;
	dq->fd = fd;
	memcpy(&dq->client, client, sizeof(dq->client));
	dq->clen = clen;
	dq->q = q;
	dq->len = len;
	memcpy(dq->msg, msg, len);
	TAILQ_INSERT_TAIL(&stub->pending, dq, entry);
	stub->n_pending++;
	worker_submit(stub->pd->worker, &dq->job);
}

static void
dnsstub_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[DNS_MSG_MAX];
	struct dnsstub *stub = arg;
	struct sockaddr_storage client;
	socklen_t clen;
	ssize_t n;
	int i;

	for (i = 0; i < DNSSTUB_READS_PER_WAKE; i++) {
		clen = sizeof(client);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		             (struct sockaddr *)&client, &clen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("dns: recvfrom: %s", strerror(errno));
			return;
		}
		dnsstub_datagram(stub, fd, buf, (size_t)n, &client, clen);
	}
}

/* --- DNS over TCP --------------------------------------------------------- */

static void
dnstcp_free(struct dnstcp *t)
{
	struct dnsstub *stub = t->stub;

	if (t->bev != NULL)
		bufferevent_free(t->bev);
	t->bev = NULL;
	if (t->pending) {
		t->gone = true; /* dnstcp_done() frees it */
		return;
	}
	TAILQ_REMOVE(&stub->tcps, t, entry);
	stub->n_tcps--;
	free(t);
}

/* Answer every whole message t has sent, in order. */
static void
dnstcp_answer_all(struct dnstcp *t)
{
	struct evbuffer *in = bufferevent_get_input(t->bev);
	struct dns_query q;
	uint8_t out[DNS_EDNS_MAX], len2[2];
	const uint8_t *buf;
	size_t have, n;
	int total;

	for (;;) {
		have = evbuffer_get_length(in);
		if (have < 2)
			return;
		buf = evbuffer_pullup(in, have < 2 + DNS_MSG_MAX
		                              ? (ev_ssize_t)have
		                              : (ev_ssize_t)(2 + DNS_MSG_MAX));
		if (buf == NULL) { /* out of memory */
			dnstcp_free(t);
			return;
		}
		total = dns_tcp_len(buf, have);
		if (total == DNS_TCP_NEED_MORE)
			return;
		if (total == DNS_TCP_INVALID) {
			dnstcp_free(t);
			return;
		}
		switch (dns_parse_query(buf + 2, (size_t)total - 2, &q)) {
		case DNS_DROP:
			t->stub->dropped++;
			n = 0;
			break;
		case DNS_FORMERR:
			t->stub->answered++;
			t->stub->pd->dns_stats.other++;
			n = dns_build_error(buf + 2, (size_t)total - 2,
			                    DNS_R_FORMERR, out, sizeof(out));
			break;
		default:
			n = dnsstub_answer(t->stub, &t->client, &q, buf + 2,
			                   &t->app, DNS_MSG_MAX, out,
			                   sizeof(out));
			break;
		}
		if (n > 0) {
			len2[0] = (uint8_t)(n >> 8);
			len2[1] = (uint8_t)n;
			if (bufferevent_write(t->bev, len2, 2) == -1 ||
			    bufferevent_write(t->bev, out, n) == -1) {
				dnstcp_free(t);
				return;
			}
		}
		evbuffer_drain(in, (size_t)total);
	}
}

static void
dnstcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct dnstcp *t = arg;

	if (t->attributed)
		dnstcp_answer_all(t);
}

static void
dnstcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	/* EOF, error or idle: the client is done. */
	dnstcp_free(arg);
}

static void
dnstcp_run(struct worker_job *job, void *ctx)
{
	struct dnstcp *t = (struct dnstcp *)job;

	if (ctx != NULL)
		attr_lookup(ctx, (const struct sockaddr *)&t->client,
		            (const struct sockaddr *)&t->dst, &t->app);
}

static void
dnstcp_done(struct worker_job *job)
{
	struct dnstcp *t = (struct dnstcp *)job;

	t->pending = false;
	if (t->gone) {
		dnstcp_free(t);
		return;
	}
	t->attributed = true;
	dnstcp_answer_all(t);
}

static void
dnstcp_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                 struct sockaddr *client, int clen, void *arg)
{
	struct dnsstub *stub = arg;
	struct timeval idle = {DNSSTUB_TCP_IDLE_S, 0};
	struct dnstcp *t;
	socklen_t len;

	if (stub->n_tcps >= DNSSTUB_TCP_MAX ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		stub->full++;
		front_reset(fd);
		return;
	}
	t->stub = stub;
	memcpy(&t->client, client, (size_t)clen);
	/* Where it sent its query: what the redirect replaced, or this
	 * socket itself for a client that asked the stub directly. */
	if (front_transparent.destination(fd, client, &t->dst) == -1) {
		len = sizeof(t->dst);
		(void)getsockname(fd, (struct sockaddr *)&t->dst, &len);
	}
	t->bev =
	    bufferevent_socket_new(stub->pd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (t->bev == NULL) {
		front_reset(fd);
		free(t);
		return;
	}
	TAILQ_INSERT_TAIL(&stub->tcps, t, entry);
	stub->n_tcps++;
	bufferevent_setcb(t->bev, dnstcp_read_cb, NULL, dnstcp_event_cb, t);
	bufferevent_set_timeouts(t->bev, &idle, &idle);
	bufferevent_enable(t->bev, EV_READ);
	t->job.run = dnstcp_run;
	t->job.done = dnstcp_done;
	t->pending = true;
	worker_submit(stub->pd->worker, &t->job);
}

/* --- the sockets ---------------------------------------------------------- */

int
dnsstub_open(struct proxyd *pd, char *err, size_t errlen)
{
	struct dnsstub *stub;
	char a[ADDR_STRLEN];
	size_t i;
	int one = 1;

	if ((stub = calloc(1, sizeof(*stub))) == NULL) {
		snprintf(err, errlen, "dns: %s", strerror(errno));
		return -1;
	}
	stub->pd = pd;
	TAILQ_INIT(&stub->pending);
	TAILQ_INIT(&stub->tcps);
	srccache_init(&stub->seen, DNSSTUB_ATTR_CACHE_MS);
	pd->dnsstub = stub;
	for (i = 0; i < pd->cfg.n_dns_listen; i++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&pd->cfg.dns_listen[i];
		struct dnsstub_sock *s = &stub->socks[stub->n_socks];

		addr_fmt(sa, a, sizeof(a));
		s->tfd = -1;
		s->fd = socket(sa->sa_family,
		               SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd == -1) {
			snprintf(err, errlen, "dns %s: socket: %s", a,
			         strerror(errno));
			return -1;
		}
		stub->n_socks++;
		if (sa->sa_family == AF_INET6 &&
		    setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		               sizeof(one)) == -1) {
			snprintf(err, errlen, "dns %s: IPV6_V6ONLY: %s", a,
			         strerror(errno));
			return -1;
		}
		if (bind(s->fd, sa, addr_len(sa)) == -1) {
			snprintf(err, errlen, "dns %s: bind: %s", a,
			         strerror(errno));
			return -1;
		}
		memcpy(&s->addr, sa, addr_len(sa));
		s->tfd = socket(sa->sa_family,
		                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->tfd == -1 ||
		    setsockopt(s->tfd, SOL_SOCKET, SO_REUSEADDR, &one,
		               sizeof(one)) == -1 ||
		    (sa->sa_family == AF_INET6 &&
		     setsockopt(s->tfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		                sizeof(one)) == -1) ||
		    bind(s->tfd, sa, addr_len(sa)) == -1 ||
		    listen(s->tfd, DNSSTUB_TCP_BACKLOG) == -1) {
			snprintf(err, errlen, "dns %s: TCP: %s", a,
			         strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
dnsstub_start(struct proxyd *pd)
{
	struct dnsstub *stub = pd->dnsstub;
	size_t i;

	for (i = 0; stub != NULL && i < stub->n_socks; i++) {
		stub->socks[i].ev =
		    event_new(pd->base, stub->socks[i].fd, EV_READ | EV_PERSIST,
		              dnsstub_read_cb, stub);
		if (stub->socks[i].ev == NULL ||
		    event_add(stub->socks[i].ev, NULL) == -1) {
			log_error("dns: cannot add the socket's event");
			return -1;
		}
		stub->socks[i].evl = evconnlistener_new(
		    pd->base, dnstcp_accept_cb, stub,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    stub->socks[i].tfd);
		if (stub->socks[i].evl == NULL) {
			log_error("dns: cannot listen for TCP");
			return -1;
		}
		stub->socks[i].tfd = -1; /* the listener's now */
	}
	return 0;
}

void
dnsstub_close(struct proxyd *pd)
{
	struct dnsstub *stub = pd->dnsstub;
	struct dnsq *dq;
	struct dnstcp *t;
	size_t i;

	if (stub == NULL)
		return;
	/* The worker has stopped: what it did not finish is ours. */
	while ((dq = TAILQ_FIRST(&stub->pending)) != NULL) {
		TAILQ_REMOVE(&stub->pending, dq, entry);
		free(dq);
	}
	while ((t = TAILQ_FIRST(&stub->tcps)) != NULL) {
		t->pending = false;
		dnstcp_free(t);
	}
	for (i = 0; i < stub->n_socks; i++) {
		if (stub->socks[i].ev != NULL)
			event_free(stub->socks[i].ev);
		close(stub->socks[i].fd);
		if (stub->socks[i].evl != NULL)
			evconnlistener_free(stub->socks[i].evl);
		if (stub->socks[i].tfd != -1)
			close(stub->socks[i].tfd);
	}
	log_info("dns: %llu answered, %llu refused by rules, %llu dropped, "
	         "%llu past the bound",
	         (unsigned long long)stub->answered,
	         (unsigned long long)stub->refused,
	         (unsigned long long)stub->dropped,
	         (unsigned long long)stub->full);
	free(stub);
	pd->dnsstub = NULL;
}
