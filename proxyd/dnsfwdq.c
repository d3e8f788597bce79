/*
 * dnsfwdq.c - the DNS forwarder's queries in flight; see dnsfwdq.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "proxyd/dnsfwdq.h"

#define DNS_F_TC 0x0200

void
dnsfwdq_init(struct dnsfwdq *t, size_t max, unsigned timeout_ms)
{
	memset(t->by_id, 0, sizeof(t->by_id));
	TAILQ_INIT(&t->queue);
	t->n = 0;
	t->max = max;
	t->timeout_ms = timeout_ms;
}

void
dnsfwdq_remove(struct dnsfwdq *t, struct dnsfwdq_entry *e)
{
	TAILQ_REMOVE(&t->queue, e, entry);
	t->by_id[e->id] = NULL;
	t->n--;
}

void
dnsfwdq_clear(struct dnsfwdq *t)
{
	struct dnsfwdq_entry *e;

	while ((e = TAILQ_FIRST(&t->queue)) != NULL) {
		dnsfwdq_remove(t, e);
		free(e);
	}
}

struct dnsfwdq_entry *
dnsfwdq_add(struct dnsfwdq *t, const struct dnsfwd_origin *origin,
            const struct dns_query *q, const uint8_t *msg, size_t len,
            size_t upstream, uint64_t now_ms, uint16_t (*rand16)(void *arg),
            void *arg)
{
	struct dnsfwdq_entry *e;
	uint16_t id = 0;
	int i;

	if (q->opcode != 0 || q->question_end <= DNS_HDR_LEN ||
	    q->question_end > len) {
		errno = EINVAL;
		return NULL;
	}
	if (t->n >= t->max) {
		errno = EBUSY;
		return NULL;
	}
	for (i = 0; i < DNSFWDQ_ID_TRIES; i++)
		if (t->by_id[id = rand16(arg)] == NULL)
			break;
	if (i == DNSFWDQ_ID_TRIES) {
		errno = EAGAIN;
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e) + len)) == NULL)
		return NULL;
	e->id = id;
	e->upstream = upstream;
	e->deadline_ms = now_ms + t->timeout_ms;
	e->origin = *origin;
	e->q = *q;
	e->len = len;
	memcpy(e->msg, msg, len);
	be16_put(e->msg, id);
	t->by_id[id] = e;
	TAILQ_INSERT_TAIL(&t->queue, e, entry);
	t->n++;
	return e;
}

void
dnsfwdq_cancel(struct dnsfwdq *t, struct dnsfwdq_entry *e)
{
	dnsfwdq_remove(t, e);
	free(e);
}

int
dnsfwdq_matches(const struct dnsfwdq_entry *e, const uint8_t *resp, size_t len)
{
	struct dns_query sent = e->q;

	sent.id = e->id;
	return dns_response_matches(&sent, resp, len);
}

bool
dnsfwdq_truncated(const uint8_t *resp, size_t len)
{
	return len >= DNS_HDR_LEN && (be16_get(resp + 2) & DNS_F_TC) != 0;
}

struct dnsfwdq_entry *
dnsfwdq_take(struct dnsfwdq *t, const uint8_t *resp, size_t len,
             size_t upstream)
{
	struct dnsfwdq_entry *e;

	if (len < DNS_HDR_LEN || (e = t->by_id[be16_get(resp)]) == NULL ||
	    e->upstream != upstream || dnsfwdq_matches(e, resp, len) == -1)
		return NULL;
	dnsfwdq_remove(t, e);
	return e;
}

struct dnsfwdq_entry *
dnsfwdq_expired(struct dnsfwdq *t, uint64_t now_ms)
{
	struct dnsfwdq_entry *e = TAILQ_FIRST(&t->queue);

	if (e == NULL || e->deadline_ms > now_ms)
		return NULL;
	dnsfwdq_remove(t, e);
	return e;
}

bool
dnsfwdq_next(const struct dnsfwdq *t, uint64_t *deadline_ms)
{
	const struct dnsfwdq_entry *e = TAILQ_FIRST(&t->queue);

	if (e == NULL)
		return false;
	*deadline_ms = e->deadline_ms;
	return true;
}

size_t
dnsfwdq_relay(const struct dnsfwdq_entry *e, const uint8_t *resp, size_t len,
              uint8_t *out, size_t cap)
{
	size_t qend = e->q.question_end;
	size_t limit = e->origin.max_size < cap ? e->origin.max_size : cap;

	/* dnsfwdq_take() saw the same name, uncompressed as the first name
	 * of a message must be: the same octets but for case. */
	if (len < qend || limit < qend)
		return 0;
	if (len <= limit) {
		memcpy(out, resp, len);
	} else {
		memcpy(out, resp, DNS_HDR_LEN);
		be16_put(out + 2, be16_get(resp + 2) | DNS_F_TC);
		be16_put(out + 6, 0);
		be16_put(out + 8, 0);
		be16_put(out + 10, 0);
		len = qend;
	}
	be16_put(out, e->q.id);
	memcpy(out + DNS_HDR_LEN, e->msg + DNS_HDR_LEN, qend - DNS_HDR_LEN);
	return len;
}

size_t
dnsfwdq_error(const struct dnsfwdq_entry *e, enum dns_rcode rcode, uint8_t *out,
              size_t cap)
{
	return dns_build_answer(&e->q, e->msg, rcode, NULL, 0,
	                        e->origin.max_size, out, cap);
}
