/*
 * test_dnsfwd.c - the DNS stub's forwarder: the table of queries in
 * flight (ids, the bound, timeouts), which responses it takes as answers,
 * and the answer as the client gets it (its id, its question, truncated
 * when too long); then the forwarder itself against a resolver on a
 * loopback socket: a query goes out under another id, a forged answer is
 * dropped, the real one comes back with the client's id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/addr.h"
#include "common/config.h"
#include "proxyd/dns.h"
#include "proxyd/dnsfwd.h"
#include "proxyd/dnsfwdq.h"

/* A query as a stub resolver sends it: id, RD, one question, and an OPT
 * record offering edns bytes when edns > 0.  Returns its length. */
static size_t
make_query(uint8_t *out, uint16_t id, const char *name, uint16_t type,
           uint16_t edns)
{
	size_t pos = 12, l;
	const char *p = name, *dot;

	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x01; /* RD */
	out[5] = 1;
	out[11] = edns > 0 ? 1 : 0;
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, p, l);
		pos += l;
		p += l + (dot != NULL);
	}
	out[pos++] = 0;
	out[pos++] = (uint8_t)(type >> 8);
	out[pos++] = (uint8_t)type;
	out[pos++] = 0;
	out[pos++] = 1; /* IN */
	if (edns > 0) {
		static const uint8_t opt[] = {0, 0, 41};
		memcpy(out + pos, opt, sizeof(opt));
		pos += sizeof(opt);
		out[pos++] = (uint8_t)(edns >> 8);
		out[pos++] = (uint8_t)edns;
		memset(out + pos, 0, 6);
		pos += 6;
	}
	return pos;
}

/*
 * The upstream's answer to the query msg[0..len) (parsed as q): its
 * header with QR and RA, the question with the name's case changed as
 * some resolvers do (0x20), n_mx MX records of mx.example preference 10,
 * and the query's OPT record when it had one.
 */
static size_t
make_answer(uint8_t *out, const uint8_t *msg, const struct dns_query *q,
            unsigned n_mx)
{
	static const uint8_t mx[] = {
	    0xc0, 0x0c, 0,   15,  0, 1,   0,   0,   0x0e, 0x10, 0,   16,  0,
	    10,   2,    'm', 'x', 7, 'e', 'x', 'a', 'm',  'p',  'l', 'e', 0};
	size_t pos = q->question_end, i;

	memcpy(out, msg, pos);
	out[2] |= 0x80; /* QR */
	out[3] |= 0x80; /* RA */
	for (i = 12; i < pos - 4; i++)
		if (out[i] >= 'a' && out[i] <= 'z' && i % 2 == 0)
			out[i] = (uint8_t)(out[i] - 'a' + 'A');
	out[6] = (uint8_t)(n_mx >> 8);
	out[7] = (uint8_t)n_mx;
	for (i = 0; i < n_mx; i++) {
		memcpy(out + pos, mx, sizeof(mx));
		pos += sizeof(mx);
	}
	if (q->edns) {
		memcpy(out + pos, msg + q->question_end, 11);
		pos += 11;
	}
	return pos;
}

static void
put_id(uint8_t *msg, uint16_t id)
{
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
}

static uint16_t
get_id(const uint8_t *msg)
{
	return (uint16_t)(msg[0] << 8 | msg[1]);
}

/* rand16 for the tests: the ids of a script, in turn. */
struct script {
	const uint16_t *ids;
	size_t n, next;
};

static uint16_t
scripted(void *arg)
{
	struct script *s = arg;
	uint16_t id = s->ids[s->next % s->n];

	s->next++;
	return id;
}

static struct dnsfwd_origin
udp_origin(uint16_t port, size_t max_size)
{
	struct dnsfwd_origin o;
	struct sockaddr_in *sin = (struct sockaddr_in *)&o.client;

	memset(&o, 0, sizeof(o));
	o.via = DNSFWD_UDP;
	o.fd = 7;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	o.clen = sizeof(*sin);
	o.max_size = max_size;
	return o;
}

static struct dnsfwdq *
table_new(size_t max)
{
	struct dnsfwdq *t = malloc(sizeof(*t));

	assert_non_null(t);
	dnsfwdq_init(t, max, 5000);
	return t;
}

static void
table_free(struct dnsfwdq *t)
{
	dnsfwdq_clear(t);
	free(t);
}

/* --- the table ------------------------------------------------------------ */

static void
test_each_query_gets_a_free_id(void **state)
{
	static const uint16_t ids[] = {0x1111, 0x1111, 0x1111, 0x2222};
	struct script s = {ids, 4, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 512);
	struct dnsfwdq_entry *a, *b;
	struct dns_query q;
	uint8_t msg[512];
	size_t len;

	(void)state;
	len = make_query(msg, 0xabcd, "mail.example", DNS_T_MX, 0);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	a = dnsfwdq_add(t, &o, &q, msg, len, 0, 1000, scripted, &s);
	assert_non_null(a);
	assert_int_equal(a->id, 0x1111);
	/* 0x1111 is taken: drawn again until a free one comes. */
	b = dnsfwdq_add(t, &o, &q, msg, len, 0, 1000, scripted, &s);
	assert_non_null(b);
	assert_int_equal(b->id, 0x2222);
	assert_int_equal(s.next, 4);
	assert_int_equal(t->n, 2);
	/* The client's id stays with the query, not the one sent. */
	assert_int_equal(a->q.id, 0xabcd);
	table_free(t);
}

static void
test_no_free_id_refuses(void **state)
{
	static const uint16_t ids[] = {0x4242};
	struct script s = {ids, 1, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 512);
	struct dns_query q;
	uint8_t msg[512];
	size_t len;

	(void)state;
	len = make_query(msg, 1, "a.example", DNS_T_TXT, 0);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_non_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	errno = 0;
	assert_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(s.next, 1 + DNSFWDQ_ID_TRIES);
	assert_int_equal(t->n, 1);
	table_free(t);
}

static void
test_the_bound_refuses_more(void **state)
{
	static const uint16_t ids[] = {1, 2, 3, 4, 5};
	struct script s = {ids, 5, 0};
	struct dnsfwdq *t = table_new(3);
	struct dnsfwd_origin o = udp_origin(40000, 512);
	struct dnsfwdq_entry *e;
	struct dns_query q;
	uint8_t msg[512];
	size_t len;
	int i;

	(void)state;
	len = make_query(msg, 1, "a.example", DNS_T_SRV, 0);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	for (i = 0; i < 3; i++)
		assert_non_null(
		    dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	errno = 0;
	assert_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	assert_int_equal(errno, EBUSY);
	/* One answered: room for one more. */
	e = dnsfwdq_expired(t, 5000);
	assert_non_null(e);
	free(e);
	assert_non_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	table_free(t);
}

static void
test_queries_expire_oldest_first(void **state)
{
	static const uint16_t ids[] = {10, 20, 30};
	struct script s = {ids, 3, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 512);
	struct dnsfwdq_entry *e;
	struct dns_query q;
	uint8_t msg[512];
	uint64_t next;
	size_t len;

	(void)state;
	assert_false(dnsfwdq_next(t, &next));
	len = make_query(msg, 1, "a.example", DNS_T_MX, 0);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_non_null(
	    dnsfwdq_add(t, &o, &q, msg, len, 0, 1000, scripted, &s));
	assert_non_null(
	    dnsfwdq_add(t, &o, &q, msg, len, 0, 2000, scripted, &s));
	assert_non_null(
	    dnsfwdq_add(t, &o, &q, msg, len, 0, 3000, scripted, &s));
	assert_true(dnsfwdq_next(t, &next));
	assert_int_equal(next, 6000);
	assert_null(dnsfwdq_expired(t, 5999));
	e = dnsfwdq_expired(t, 7000);
	assert_non_null(e);
	assert_int_equal(e->id, 10);
	free(e);
	e = dnsfwdq_expired(t, 7000);
	assert_non_null(e);
	assert_int_equal(e->id, 20);
	free(e);
	assert_null(dnsfwdq_expired(t, 7000));
	assert_true(dnsfwdq_next(t, &next));
	assert_int_equal(next, 8000);
	/* Gone from the table: its id is free, an answer finds nothing. */
	assert_null(t->by_id[10]);
	assert_int_equal(t->n, 1);
	table_free(t);
}

/* --- answers -------------------------------------------------------------- */

static void
test_only_the_answer_is_taken(void **state)
{
	static const uint16_t ids[] = {0x7777};
	struct script s = {ids, 1, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 512);
	struct dnsfwdq_entry *e;
	struct dns_query q;
	uint8_t msg[512], resp[1024], other[512], bad[1024];
	size_t len, rlen, olen, i;

	(void)state;
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 1232);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	e = dnsfwdq_add(t, &o, &q, msg, len, 1, 0, scripted, &s);
	assert_non_null(e);
	rlen = make_answer(resp, msg, &q, 1);
	put_id(resp, 0x7777);

	/* The client's id, not the one sent: nothing. */
	memcpy(bad, resp, rlen);
	put_id(bad, 0x0102);
	assert_null(dnsfwdq_take(t, bad, rlen, 1));
	/* From another upstream than it went to: nothing. */
	assert_null(dnsfwdq_take(t, resp, rlen, 0));
	/* Another name, or another type, under the right id: nothing. */
	olen = make_query(other, 0x7777, "evil.example", DNS_T_MX, 0);
	other[2] |= 0x80;
	assert_null(dnsfwdq_take(t, other, olen, 1));
	olen = make_query(other, 0x7777, "mail.example", DNS_T_TXT, 0);
	other[2] |= 0x80;
	assert_null(dnsfwdq_take(t, other, olen, 1));
	/* A query (QR=0) echoed back: nothing. */
	memcpy(bad, msg, len);
	put_id(bad, 0x7777);
	assert_null(dnsfwdq_take(t, bad, len, 1));
	/* No prefix of the answer short of its question. */
	for (i = 0; i < q.question_end; i++)
		assert_null(dnsfwdq_take(t, resp, i, 1));
	/* None of that cancelled the query. */
	assert_int_equal(t->n, 1);
	assert_ptr_equal(dnsfwdq_take(t, resp, rlen, 1), e);
	assert_int_equal(t->n, 0);
	/* Taken once: the same answer again is a stray. */
	assert_null(dnsfwdq_take(t, resp, rlen, 1));
	free(e);
	table_free(t);
}

static void
test_the_client_gets_its_id_and_question(void **state)
{
	static const uint16_t ids[] = {0x7777};
	struct script s = {ids, 1, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 1232);
	struct dnsfwdq_entry *e;
	struct dns_query q;
	uint8_t msg[512], resp[1024], out[2048];
	size_t len, rlen, n;

	(void)state;
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 1232);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_non_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	rlen = make_answer(resp, msg, &q, 2);
	put_id(resp, 0x7777);
	assert_memory_not_equal(resp + 12, msg + 12, q.question_end - 12);
	e = dnsfwdq_take(t, resp, rlen, 0);
	assert_non_null(e);
	n = dnsfwdq_relay(e, resp, rlen, out, sizeof(out));
	assert_int_equal(n, rlen);
	assert_int_equal(get_id(out), 0x0102);
	/* The question as the client wrote it, the rest as upstream sent. */
	assert_memory_equal(out + 12, msg + 12, q.question_end - 12);
	assert_memory_equal(out + 2, resp + 2, 10);
	assert_memory_equal(out + q.question_end, resp + q.question_end,
	                    rlen - q.question_end);
	assert_int_equal(out[7], 2); /* ANCOUNT */
	assert_int_equal(out[2] & 0x02, 0);
	free(e);
	table_free(t);
}

static void
test_too_long_for_the_client_is_truncated(void **state)
{
	static const uint16_t ids[] = {0x7777};
	struct script s = {ids, 1, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o;
	struct dnsfwdq_entry *e;
	struct dns_query q;
	uint8_t msg[512], resp[4096], out[4096];
	size_t len, rlen, n;

	(void)state;
	/* No EDNS: the client takes 512 bytes. */
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 0);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	o = udp_origin(40000, dns_udp_size(&q));
	assert_int_equal(o.max_size, 512);
	assert_non_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	rlen = make_answer(resp, msg, &q, 40);
	assert_true(rlen > 512);
	put_id(resp, 0x7777);
	e = dnsfwdq_take(t, resp, rlen, 0);
	assert_non_null(e);
	n = dnsfwdq_relay(e, resp, rlen, out, sizeof(out));
	assert_int_equal(n, q.question_end);
	assert_int_equal(get_id(out), 0x0102);
	assert_int_equal(out[2] & 0x82, 0x82); /* QR, TC */
	assert_int_equal(out[3] & 0x0f, 0);    /* NOERROR, as upstream */
	assert_int_equal(out[5], 1);           /* the question */
	assert_int_equal(out[7] | out[9] | out[11], 0); /* no records */
	assert_memory_equal(out + 12, msg + 12, q.question_end - 12);
	/* Not even the question fits: nothing. */
	assert_int_equal(dnsfwdq_relay(e, resp, rlen, out, 12), 0);
	free(e);
	table_free(t);
}

static void
test_an_unanswered_client_gets_servfail(void **state)
{
	static const uint16_t ids[] = {0x7777};
	struct script s = {ids, 1, 0};
	struct dnsfwdq *t = table_new(8);
	struct dnsfwd_origin o = udp_origin(40000, 1232);
	struct dnsfwdq_entry *e;
	struct dns_query q, back;
	uint8_t msg[512], out[1024];
	size_t len, n;

	(void)state;
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 1232);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_non_null(dnsfwdq_add(t, &o, &q, msg, len, 0, 0, scripted, &s));
	e = dnsfwdq_expired(t, 5000);
	assert_non_null(e);
	n = dnsfwdq_error(e, DNS_R_SERVFAIL, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(get_id(out), 0x0102);
	assert_int_equal(out[3] & 0x0f, DNS_R_SERVFAIL);
	/* It answers the client's own query. */
	back = q;
	assert_int_equal(dns_response_matches(&back, out, n), 0);
	free(e);
	table_free(t);
}

/* --- the forwarder on a loopback resolver --------------------------------- */

struct got {
	uint8_t msg[2048];
	size_t len;
	struct dnsfwd_origin origin;
	int calls;
	struct event_base *base;
};

static void
on_reply(void *arg, const struct dnsfwd_origin *o, const uint8_t *msg,
         size_t len)
{
	struct got *g = arg;

	memcpy(g->msg, msg, len);
	g->len = len;
	g->origin = *o;
	g->calls++;
	event_base_loopbreak(g->base);
}

static void
test_forward_to_a_resolver(void **state)
{
	struct sockaddr_storage up;
	struct sockaddr_in *sin = (struct sockaddr_in *)&up;
	struct sockaddr_storage from;
	socklen_t slen = sizeof(*sin), flen = sizeof(from);
	struct dnsfwd_origin o = udp_origin(40000, 1232);
	struct dnsfwd_stats st;
	struct dns_query q;
	struct got g;
	struct dnsfwd *f;
	struct timeval limit = {5, 0};
	uint8_t msg[512], sent[2048], resp[2048];
	char err[256];
	size_t len, rlen;
	ssize_t n;
	int rfd;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.base = event_base_new();
	assert_non_null(g.base);
	/* The resolver: a UDP socket on a loopback port of its own. */
	rfd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rfd >= 0);
	memset(&up, 0, sizeof(up));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rfd, (struct sockaddr *)sin, slen), 0);
	assert_int_equal(getsockname(rfd, (struct sockaddr *)sin, &slen), 0);

	f = dnsfwd_new(g.base, &up, 1, on_reply, &g, err, sizeof(err));
	assert_non_null(f);
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 1232);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_int_equal(dnsfwd_query(f, &o, &q, msg, len), 0);
	assert_int_equal(g.calls, 0); /* never from inside the call */

	n = recvfrom(rfd, sent, sizeof(sent), 0, (struct sockaddr *)&from,
	             &flen);
	assert_int_equal(n, (ssize_t)len);
	/* The client's query, under an id of tollgated's. */
	assert_memory_equal(sent + 2, msg + 2, len - 2);

	/* A forged answer under the client's id is dropped... */
	rlen = make_answer(resp, msg, &q, 1);
	assert_int_equal(
	    sendto(rfd, resp, rlen, 0, (struct sockaddr *)&from, flen),
	    (ssize_t)rlen);
	/* ...and the real one is relayed with the client's id. */
	put_id(resp, get_id(sent));
	if (get_id(sent) != 0x0102)
		assert_int_equal(
		    sendto(rfd, resp, rlen, 0, (struct sockaddr *)&from, flen),
		    (ssize_t)rlen);
	event_base_loopexit(g.base, &limit);
	event_base_dispatch(g.base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.len, rlen);
	assert_int_equal(get_id(g.msg), 0x0102);
	assert_memory_equal(g.msg + q.question_end, resp + q.question_end,
	                    rlen - q.question_end);
	assert_int_equal(g.origin.fd, o.fd);
	assert_int_equal(g.origin.via, DNSFWD_UDP);
	dnsfwd_stats(f, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.answered, 1);
	assert_int_equal(st.in_flight, 0);
	if (get_id(sent) != 0x0102)
		assert_int_equal(st.stray, 1);

	dnsfwd_free(f);
	close(rfd);
	event_base_free(g.base);
}

/*
 * Run base's loop, without blocking in it, until fd is readable: the
 * forwarder gets to do what it has to while the test waits on a socket.
 * 10 s at most (a bound, not a pace: it returns as soon as fd is ready).
 */
static void
pump_until_readable(struct event_base *base, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int i;

	for (i = 0; i < 1000; i++) {
		assert_int_not_equal(event_base_loop(base, EVLOOP_NONBLOCK),
		                     -1);
		if (poll(&p, 1, 10) == 1)
			return;
	}
	fail_msg("fd %d not readable after 10 s", fd);
}

/* Read exactly n bytes from fd (blocking, 2 s at most). */
static void
read_all(int fd, uint8_t *buf, size_t n)
{
	struct timeval limit = {2, 0};
	ssize_t r;

	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
	while (n > 0) {
		r = read(fd, buf, n);
		assert_true(r > 0);
		buf += r;
		n -= (size_t)r;
	}
}

static void
test_truncated_for_a_tcp_client_is_asked_again_over_tcp(void **state)
{
	struct sockaddr_storage up;
	struct sockaddr_in *sin = (struct sockaddr_in *)&up;
	struct sockaddr_storage from;
	socklen_t slen = sizeof(*sin), flen = sizeof(from);
	struct dnsfwd_origin o;
	struct dnsfwd_stats st;
	struct dns_query q;
	struct got g;
	struct dnsfwd *f;
	struct timeval limit = {5, 0};
	uint8_t msg[512], sent[2048], tc[512], resp[4096], len2[2];
	char err[256];
	size_t len, rlen;
	ssize_t n;
	int rfd, lfd, cfd, one = 1;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.base = event_base_new();
	assert_non_null(g.base);
	/* The resolver: UDP and TCP on one loopback port. */
	rfd = socket(AF_INET, SOCK_DGRAM, 0);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(rfd >= 0 && lfd >= 0);
	memset(&up, 0, sizeof(up));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rfd, (struct sockaddr *)sin, slen), 0);
	assert_int_equal(getsockname(rfd, (struct sockaddr *)sin, &slen), 0);
	assert_int_equal(
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)sin, slen), 0);
	assert_int_equal(listen(lfd, 4), 0);

	f = dnsfwd_new(g.base, &up, 1, on_reply, &g, err, sizeof(err));
	assert_non_null(f);
	memset(&o, 0, sizeof(o));
	o.via = DNSFWD_TCP;
	o.fd = -1;
	o.tcp_id = 9;
	o.max_size = DNS_MSG_MAX;
	/* A TCP client offering 512 bytes of EDNS. */
	len = make_query(msg, 0x0102, "mail.example", DNS_T_MX, 512);
	assert_int_equal(dns_parse_query(msg, len, &q), DNS_QUERY);
	assert_int_equal(dnsfwd_query(f, &o, &q, msg, len), 0);
	n = recvfrom(rfd, sent, sizeof(sent), 0, (struct sockaddr *)&from,
	             &flen);
	assert_int_equal(n, (ssize_t)len);
	/* Upstream is offered what we take over UDP. */
	assert_int_equal(sent[q.question_end + 3] << 8 |
	                     sent[q.question_end + 4],
	                 DNS_EDNS_MAX);

	/* A truncated answer over UDP: not for the client. */
	rlen = make_answer(tc, msg, &q, 0);
	put_id(tc, get_id(sent));
	tc[2] |= 0x02;
	assert_int_equal(
	    sendto(rfd, tc, rlen, 0, (struct sockaddr *)&from, flen),
	    (ssize_t)rlen);

	/* The same query comes again over TCP... */
	pump_until_readable(g.base, lfd);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	pump_until_readable(g.base, cfd);
	assert_int_equal(g.calls, 0);
	read_all(cfd, len2, 2);
	assert_int_equal(len2[0] << 8 | len2[1], len);
	read_all(cfd, resp, len);
	assert_memory_equal(resp, sent, len);
	/* ...and its whole answer, longer than UDP takes, is relayed. */
	rlen = make_answer(resp, sent, &q, 80);
	assert_true(rlen > DNS_EDNS_MAX);
	len2[0] = (uint8_t)(rlen >> 8);
	len2[1] = (uint8_t)rlen;
	assert_int_equal(write(cfd, len2, 2), 2);
	assert_int_equal(write(cfd, resp, rlen), (ssize_t)rlen);
	event_base_loopexit(g.base, &limit);
	event_base_dispatch(g.base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.len, rlen);
	assert_int_equal(get_id(g.msg), 0x0102);
	assert_int_equal(g.origin.via, DNSFWD_TCP);
	assert_int_equal(g.origin.tcp_id, 9);
	assert_int_equal(g.msg[2] & 0x02, 0);
	dnsfwd_stats(f, &st);
	assert_int_equal(st.tcp, 1);
	assert_int_equal(st.answered, 1);

	dnsfwd_free(f);
	close(cfd);
	close(lfd);
	close(rfd);
	event_base_free(g.base);
}

/* --- where to ------------------------------------------------------------- */

static void
test_upstreams_are_dns_upstream_less_the_stub(void **state)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct sockaddr_storage up[CONFIG_MAX_DNS];
	socklen_t len;

	(void)state;
	assert_non_null(cfg);
	config_defaults(cfg);
	cfg->n_dns_listen = 1;
	assert_int_equal(
	    addr_parse("127.0.0.1:9053", &cfg->dns_listen[0], &len), 0);
	cfg->n_dns_upstream = 3;
	assert_int_equal(
	    addr_parse("192.0.2.53:53", &cfg->dns_upstream[0], &len), 0);
	/* The stub itself: handing queries to it would loop. */
	assert_int_equal(
	    addr_parse("127.0.0.1:9053", &cfg->dns_upstream[1], &len), 0);
	assert_int_equal(
	    addr_parse("[2001:db8::53]:53", &cfg->dns_upstream[2], &len), 0);
	assert_int_equal(dnsfwd_upstreams_of(cfg, NULL, up), 2);
	assert_true(addr_equal((struct sockaddr *)&up[0],
	                       (struct sockaddr *)&cfg->dns_upstream[0]));
	assert_true(addr_equal((struct sockaddr *)&up[1],
	                       (struct sockaddr *)&cfg->dns_upstream[2]));
	/* none: nothing, whatever else is set. */
	cfg->dns_upstream_none = true;
	assert_int_equal(dnsfwd_upstreams_of(cfg, NULL, up), 0);
	/* Nothing set and no resolver: nothing. */
	cfg->dns_upstream_none = false;
	cfg->n_dns_upstream = 0;
	assert_int_equal(dnsfwd_upstreams_of(cfg, NULL, up), 0);
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_query_gets_a_free_id),
	    cmocka_unit_test(test_no_free_id_refuses),
	    cmocka_unit_test(test_the_bound_refuses_more),
	    cmocka_unit_test(test_queries_expire_oldest_first),
	    cmocka_unit_test(test_only_the_answer_is_taken),
	    cmocka_unit_test(test_the_client_gets_its_id_and_question),
	    cmocka_unit_test(test_too_long_for_the_client_is_truncated),
	    cmocka_unit_test(test_an_unanswered_client_gets_servfail),
	    cmocka_unit_test(test_forward_to_a_resolver),
	    cmocka_unit_test(
	        test_truncated_for_a_tcp_client_is_asked_again_over_tcp),
	    cmocka_unit_test(test_upstreams_are_dns_upstream_less_the_stub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
