/*
 * fuzz_socks5c.c - the SOCKS5 client on whatever an upstream may answer.
 *
 * The input is the upstream's bytes, all it sends.  Two fixed requests
 * (without and with a username) each take it three ways: in one read,
 * in two reads cut where the input says, and one byte at a time.  Each
 * s5c_feed() must keep its contract (used within the bytes fed, none on
 * NEED_MORE), and how the bytes were cut must not change the outcome.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyd/socks5c.h"

struct outcome {
	enum s5c_step step; /* NEED_MORE: the input ran out */
	size_t used;        /* of the input, over all calls */
	size_t sent;        /* bytes written to the upstream */
	uint8_t code;
	const char *error;
	struct sockaddr_storage bound;
};

static void
fuzz_fail(const char *what, size_t cut)
{
	fprintf(stderr, "socks5c contract broken (reads cut at %zu): %s\n", cut,
	        what);
	abort();
}

/* Feed buf[0..len) as it arrives: cut bytes first, then step at a time. */
static void
fuzz_drive(const char *user, const uint8_t *buf, size_t len, size_t cut,
           size_t step, struct outcome *o)
{
	struct s5c c;
	size_t arrived, used;
	enum s5c_step s;

	memset(o, 0, sizeof(*o));
	if (s5c_start(&c, user, "x", "example.com", NULL, 443) != 0)
		fuzz_fail("s5c_start refused a fixed request", cut);
	o->sent = c.out_len;
	arrived = cut < len ? cut : len;
	for (;;) {
		s = s5c_feed(&c, buf + o->used, arrived - o->used, &used);
		if (used > arrived - o->used)
			fuzz_fail("used more than it was fed", cut);
		o->used += used;
		if (s == S5C_SEND) {
			if (c.out_len == 0 || c.out_len > sizeof(c.out))
				fuzz_fail("SEND with nothing to send", cut);
			o->sent += c.out_len;
			continue;
		}
		if (s != S5C_NEED_MORE)
			break;
		if (used != 0)
			fuzz_fail("NEED_MORE used bytes", cut);
		if (arrived == len)
			break;
		arrived += len - arrived < step ? len - arrived : step;
	}
	o->step = s;
	o->code = c.code;
	o->error = c.error;
	if (s == S5C_GRANTED) {
		if (c.bound.ss_family != AF_INET &&
		    c.bound.ss_family != AF_INET6 &&
		    c.bound.ss_family != AF_UNSPEC)
			fuzz_fail("bound address of no family", cut);
		o->bound = c.bound;
	} else if (s == S5C_REFUSED || s == S5C_INVALID) {
		if (c.error == NULL)
			fuzz_fail("a failure without its words", cut);
		/* the words outlive c: copy them out of its buffer */
		o->error = strdup(c.error);
	} else if (s != S5C_NEED_MORE)
		fuzz_fail("unknown step", cut);
}

static void
fuzz_compare(const struct outcome *a, const struct outcome *b, size_t cut)
{
	if (a->step != b->step)
		fuzz_fail("cut reads came to another step", cut);
	if (a->used != b->used || a->sent != b->sent || a->code != b->code)
		fuzz_fail("cut reads used, sent or answered otherwise", cut);
	if ((a->error == NULL) != (b->error == NULL) ||
	    (a->error != NULL && strcmp(a->error, b->error) != 0))
		fuzz_fail("cut reads gave other words", cut);
	if (memcmp(&a->bound, &b->bound, sizeof(a->bound)) != 0)
		fuzz_fail("cut reads gave another bound address", cut);
}

static void
fuzz_outcome_free(struct outcome *o)
{
	if (o->step == S5C_REFUSED || o->step == S5C_INVALID)
		free((char *)o->error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const users[] = {NULL, "tg-fuzz"};
	struct outcome whole, two, bytes;
	size_t i, cut;

	cut = size == 0 ? 0 : ((size_t)data[size - 1] * 31 + data[0]) % size;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		fuzz_drive(users[i], data, size, size, size, &whole);
		fuzz_drive(users[i], data, size, cut, size, &two);
		fuzz_drive(users[i], data, size, 0, 1, &bytes);
		fuzz_compare(&whole, &two, cut);
		fuzz_compare(&whole, &bytes, 0);
		fuzz_outcome_free(&whole);
		fuzz_outcome_free(&two);
		fuzz_outcome_free(&bytes);
	}
	return 0;
}
