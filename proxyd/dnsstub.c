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
#include "common/clock.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/dns.h"
#include "proxyd/dnsfwd.h"
#include "proxyd/dnsstub.h"
#include "proxyd/eventlog.h"
#include "proxyd/fakeip.h"
#include "proxyd/front.h"
#include "proxyd/rulesvc.h"
#include "proxyd/srccache.h"
#include "proxyd/worker.h"

/* Datagrams read per wake-up, so that one busy socket cannot starve the
 * loop's other events; read, and their answers sent, DNSSTUB_BATCH to a
 * system call (recvmmsg, sendmmsg). */
#define DNSSTUB_READS_PER_WAKE 64
#define DNSSTUB_BATCH          32
/* The longest query taken over UDP: far above any real one (a name,
 * EDNS options, padding); a longer datagram is dropped. */
#define DNSSTUB_QUERY_MAX   4096
#define DNSSTUB_TCP_MAX     256 /* DNS-over-TCP clients at once */
#define DNSSTUB_TCP_IDLE_S  10  /* a TCP client silent this long goes */
#define DNSSTUB_TCP_BACKLOG 64

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
	uint64_t id; /* how a forwarded query's answer finds it */
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

/* The answers to one batch of datagrams, sent together when it is done. */
struct dnsstub_out {
	int fd; /* the socket of the batch; -1 outside one: sent at once */
	unsigned n;
	struct mmsghdr msgs[DNSSTUB_BATCH];
	struct iovec iov[DNSSTUB_BATCH];
	struct sockaddr_storage to[DNSSTUB_BATCH];
	uint8_t buf[DNSSTUB_BATCH][DNS_EDNS_MAX];
};

struct dnsstub {
	struct proxyd *pd;
	struct dnsstub_out out;
	struct dnsstub_sock socks[CONFIG_MAX_DNS];
	size_t n_socks;
	TAILQ_HEAD(, dnsq) pending;
	size_t n_pending;
	TAILQ_HEAD(, dnstcp) tcps;
	size_t n_tcps;
	struct srccache seen; /* who asked from a port, lately */
	struct dnsfwd *fwd;   /* to dns_upstream; NULL: none, NOTIMP */
	uint64_t next_tcp_id;
	uint64_t dropped, full; /* the answers: pd->dns_stats */
};

/* --- the answer ----------------------------------------------------------- */

/* Send an answer of n bytes (none when 0): with the batch it belongs to,
 * or at once. */
static void
dnsstub_send(struct dnsstub *stub, int fd,
             const struct sockaddr_storage *client, socklen_t clen,
             const uint8_t *out, size_t n)
{
	struct dnsstub_out *o = &stub->out;
	char a[ADDR_STRLEN];

	if (n == 0)
		return;
	if (o->fd == fd && o->n < DNSSTUB_BATCH && n <= sizeof(o->buf[0])) {
		memcpy(o->buf[o->n], out, n);
		memcpy(&o->to[o->n], client, clen);
		o->iov[o->n] =
		    (struct iovec){.iov_base = o->buf[o->n], .iov_len = n};
		o->msgs[o->n] =
		    (struct mmsghdr){.msg_hdr = {.msg_name = &o->to[o->n],
		                                 .msg_namelen = clen,
		                                 .msg_iov = &o->iov[o->n],
		                                 .msg_iovlen = 1}};
		o->n++;
		return;
	}
	if (sendto(fd, out, n, MSG_DONTWAIT, (const struct sockaddr *)client,
	           clen) == -1)
		log_debug(
		    "dns: answer to %s: %s",
		    addr_fmt((const struct sockaddr *)client, a, sizeof(a)),
		    strerror(errno));
}

/* A refused or forwarded query: its log line and event row, as a
 * connection's; dst is where it went (NULL: nowhere). */
static void
dnsstub_record(struct dnsstub *stub, const struct sockaddr_storage *client,
               const struct dns_query *q, const struct app *app,
               enum action verdict, const struct rules_entry *e,
               const struct sockaddr *dst)
{
	struct sockaddr_storage none = {.ss_family = AF_UNSPEC};
	struct peek_info name = {
	    .source = NAME_DNS,
	    .proto = "dns",
	};
	struct decision d = {
	    .id = stub->pd->next_conn_id++,
	    .verdict = verdict,
	    .reason = e != NULL ? REASON_RULE : REASON_DEFAULT,
	    .rule_id = e != NULL ? e->id : 0,
	    .app = app,
	    .client = (const struct sockaddr *)client,
	    .dst = dst != NULL ? dst : (const struct sockaddr *)&none,
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
 * A type the stub does not answer itself, allowed by rule e (NULL: no
 * rule decided): to dns_upstream when e allows or, without a rule,
 * default_action does; else NOTIMP, for a forwarded name leaks upstream
 * (and TXT is a tunnel), and a query never waits on a prompt.  0: the
 * answer comes later (dnsstub_reply()); else the length of the one in
 * out.
 */
static size_t
dnsstub_forward(struct dnsstub *stub, const struct dnsfwd_origin *o,
                const struct dns_query *q, const uint8_t *msg, size_t len,
                const struct app *app, const struct rules_entry *e,
                uint8_t *out, size_t cap)
{
	enum action verdict =
	    e != NULL ? e->action : stub->pd->cfg.default_action;
	enum dns_rcode rcode = DNS_R_NOTIMP;

	if (stub->fwd != NULL && verdict != ACTION_ALLOW) {
		stub->pd->dns_stats.denied++;
		dnsstub_record(stub, &o->client, q, app, verdict, e, NULL);
	} else if (stub->fwd != NULL) {
		dnsstub_record(stub, &o->client, q, app, verdict, e,
		               dnsfwd_upstream(stub->fwd));
		if (dnsfwd_query(stub->fwd, o, q, msg, len) == 0) {
			stub->pd->dns_stats.forwarded++;
			return 0;
		}
		rcode = DNS_R_SERVFAIL;
		stub->pd->dns_stats.other++;
	} else {
		stub->pd->dns_stats.other++;
	}
	return dns_build_answer(q, msg, rcode, NULL, 0, o->max_size, out, cap);
}

/*
 * Answer q (msg[0..len)) from app, who asked from o: the rules first,
 * then by type.  Every path answers exactly once: now (the length of the
 * answer in out), or through the forwarder later (0).
 */
static size_t
dnsstub_answer(struct dnsstub *stub, const struct dnsfwd_origin *o,
               const struct dns_query *q, const uint8_t *msg, size_t len,
               const struct app *app, uint8_t *out, size_t cap)
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
	if (q->qtype == DNS_T_PTR && dns_ptr_addr(q->name, &ptr) == 0 &&
	    fakeip_in_range(pd->fakeip, (struct sockaddr *)&ptr)) {
		/* Our own made-up addresses: nobody else knows them. */
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
	rq.app =
	    app->known ? attr_rule_exe(app->exe, app->flags, &pd->cfg) : NULL;
	rq.has_uid = app->uid_known;
	rq.uid = app->uid;
	rq.name = q->name;
	rq.proto = RPROTO_DNS;
	rq.now = time(NULL);
	rq.digest = app->known && app->has_digest ? app->digest : NULL;
	rq.script = app->known ? app->script : NULL;
	rq.cmdline = app->known ? app->cmdline : NULL;
	e = rulesvc_decide(pd, &rq, NULL);
	if (e != NULL && e->action != ACTION_ALLOW) {
		pd->dns_stats.denied++;
		dnsstub_record(stub, &o->client, q, app, e->action, e, NULL);
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
		if (!fakeip_has_v6(pd->fakeip)) {
			pd->dns_stats.other++;
			break; /* NODATA */
		}
		if (fakeip_addr6(pd->fakeip, q->name, &rr.u.aaaa) == -1) {
			rcode = DNS_R_SERVFAIL;
			pd->dns_stats.other++;
			break;
		}
		rr.type = DNS_T_AAAA;
		n_rr = 1;
		pd->dns_stats.answered++;
		break;
	case DNS_T_HTTPS:
	case DNS_T_SVCB:
		pd->dns_stats.other++;
		break; /* NODATA */
	default:
		return dnsstub_forward(stub, o, q, msg, len, app, e, out, cap);
	}
send:
	return dns_build_answer(q, msg, rcode, &rr, n_rr, o->max_size, out,
	                        cap);
}

/* Answer a UDP query from app, on the socket it came in on. */
static void
dnsstub_answer_udp(struct dnsstub *stub, int fd,
                   const struct sockaddr_storage *client, socklen_t clen,
                   const struct dns_query *q, const uint8_t *msg, size_t len,
                   const struct app *app)
{
	struct dnsfwd_origin o = {
	    .via = DNSFWD_UDP,
	    .fd = fd,
	    .clen = clen,
	    .max_size = dns_udp_size(q),
	};
	uint8_t out[DNS_EDNS_MAX];

	memcpy(&o.client, client, clen);
	dnsstub_send(
	    stub, fd, client, clen, out,
	    dnsstub_answer(stub, &o, q, msg, len, app, out, sizeof(out)));
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
		             &dq->app, mono_ms());
	dnsstub_answer_udp(stub, dq->fd, &dq->client, dq->clen, &dq->q, dq->msg,
	                   dq->len, &dq->app);
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
		stub->pd->dns_stats.other++;
		dnsstub_send(
		    stub, fd, client, clen, out,
		    dns_build_error(msg, len, DNS_R_FORMERR, out, sizeof(out)));
		return;
	case DNS_QUERY:
		break;
	}
	if ((seen = srccache_find(&stub->seen, (const struct sockaddr *)client,
	                          mono_ms())) != NULL) {
		dnsstub_answer_udp(stub, fd, client, clen, &q, msg, len, seen);
		return;
	}
	if (stub->n_pending >= DNSSTUB_MAX_PENDING ||
	    (dq = calloc(1, sizeof(*dq) + len)) == NULL) {
		stub->full++;
		stub->pd->dns_stats.other++;
		dnsstub_send(stub, fd, client, clen, out,
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

/* Send the batch's answers; one that cannot go is dropped, as a lost
 * datagram would be (the client asks again). */
static void
dnsstub_flush(struct dnsstub *stub)
{
	struct dnsstub_out *o = &stub->out;
	unsigned done = 0;
	int r;

	while (done < o->n) {
		r = sendmmsg(o->fd, o->msgs + done, o->n - done, MSG_DONTWAIT);
		if (r <= 0) {
			log_debug("dns: an answer: %s", strerror(errno));
			r = 1;
		}
		done += (unsigned)r;
	}
	o->n = 0;
	o->fd = -1;
}

static void
dnsstub_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[DNSSTUB_BATCH][DNSSTUB_QUERY_MAX];
	static struct sockaddr_storage from[DNSSTUB_BATCH];
	struct mmsghdr msgs[DNSSTUB_BATCH];
	struct iovec iov[DNSSTUB_BATCH];
	struct dnsstub *stub = arg;
	int i, n, done;

	for (done = 0; done < DNSSTUB_READS_PER_WAKE; done += n) {
		for (i = 0; i < DNSSTUB_BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = buf[i],
			                        .iov_len = sizeof(buf[i])};
			msgs[i] = (struct mmsghdr){
			    .msg_hdr = {.msg_name = &from[i],
			                .msg_namelen = sizeof(from[i]),
			                .msg_iov = &iov[i],
			                .msg_iovlen = 1}};
		}
		n = recvmmsg(fd, msgs, DNSSTUB_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				log_warn("dns: recvmmsg: %s", strerror(errno));
			return;
		}
		stub->out.fd = fd;
		for (i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				stub->dropped++;
				continue;
			}
			dnsstub_datagram(stub, fd, buf[i], msgs[i].msg_len,
			                 &from[i], msgs[i].msg_hdr.msg_namelen);
		}
		dnsstub_flush(stub);
		if (n < DNSSTUB_BATCH)
			return;
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

/* Frame msg[0..n) on t.  0, or -1: t is to be closed. */
static int
dnstcp_write(struct dnstcp *t, const uint8_t *msg, size_t n)
{
	uint8_t len2[2] = {(uint8_t)(n >> 8), (uint8_t)n};

	if (bufferevent_write(t->bev, len2, 2) == -1 ||
	    bufferevent_write(t->bev, msg, n) == -1)
		return -1;
	return 0;
}

/* Answer every whole message t has sent, in order (a forwarded one's
 * answer comes after, when upstream sends it: RFC 7766 6.2.1.1). */
static void
dnstcp_answer_all(struct dnstcp *t)
{
	struct evbuffer *in = bufferevent_get_input(t->bev);
	struct dnsfwd_origin o = {
	    .via = DNSFWD_TCP,
	    .fd = -1,
	    .tcp_id = t->id,
	    .client = t->client,
	    .clen = addr_len((const struct sockaddr *)&t->client),
	    .max_size = DNS_MSG_MAX,
	};
	struct dns_query q;
	uint8_t out[DNS_EDNS_MAX];
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
			t->stub->pd->dns_stats.other++;
			n = dns_build_error(buf + 2, (size_t)total - 2,
			                    DNS_R_FORMERR, out, sizeof(out));
			break;
		default:
			n = dnsstub_answer(t->stub, &o, &q, buf + 2,
			                   (size_t)total - 2, &t->app, out,
			                   sizeof(out));
			break;
		}
		if (n > 0 && dnstcp_write(t, out, n) == -1) {
			dnstcp_free(t);
			return;
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
	t->id = ++stub->next_tcp_id;
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

/* --- answers from upstream ------------------------------------------------ */

/* dnsfwd's reply: to a UDP client from the socket it asked on, to a TCP
 * client on its connection if it is still open. */
static void
dnsstub_reply(void *arg, const struct dnsfwd_origin *o, const uint8_t *msg,
              size_t n)
{
	struct dnsstub *stub = arg;
	struct dnstcp *t;

	if (o->via == DNSFWD_UDP) {
		dnsstub_send(stub, o->fd, &o->client, o->clen, msg, n);
		return;
	}
	TAILQ_FOREACH(t, &stub->tcps, entry)
	if (t->id == o->tcp_id) {
		if (t->bev != NULL && dnstcp_write(t, msg, n) == -1)
			dnstcp_free(t);
		return;
	}
}

/* The forwarder, when there is an upstream to forward to. */
static int
dnsstub_open_fwd(struct dnsstub *stub, char *err, size_t errlen)
{
	struct proxyd *pd = stub->pd;
	struct sockaddr_storage up[CONFIG_MAX_DNS];
	char a[ADDR_STRLEN];
	size_t n = dnsfwd_upstreams_of(&pd->cfg, pd->dns, up);

	if (n == 0) {
		log_info("dns: %s: MX, TXT and other such queries get NOTIMP",
		         pd->cfg.dns_upstream_none
		             ? "dns_upstream = none"
		             : "no upstream to forward to");
		return 0;
	}
	stub->fwd =
	    dnsfwd_new(pd->base, up, n, dnsstub_reply, stub, err, errlen);
	if (stub->fwd == NULL)
		return -1;
	log_info("dns: queries the rules allow and the stub does not answer "
	         "go to %s%s",
	         addr_fmt((const struct sockaddr *)&up[0], a, sizeof(a)),
	         n > 1 ? " (and the other upstreams after a timeout)" : "");
	return 0;
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
	stub->out.fd = -1;
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
	return dnsstub_open_fwd(stub, err, errlen);
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
	dnsfwd_free(stub->fwd); /* its clients are about to go */
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
	log_info("dns: %llu answered, %llu refused by rules, %llu forwarded, "
	         "%llu other answers, %llu dropped, %llu past the bound",
	         (unsigned long long)pd->dns_stats.answered,
	         (unsigned long long)pd->dns_stats.denied,
	         (unsigned long long)pd->dns_stats.forwarded,
	         (unsigned long long)pd->dns_stats.other,
	         (unsigned long long)stub->dropped,
	         (unsigned long long)stub->full);
	free(stub);
	pd->dnsstub = NULL;
}
