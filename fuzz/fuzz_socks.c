/*
 * fuzz_socks.c - the SOCKS front's parser on arbitrary client bytes.
 *
 * Each input is one client's byte stream, played as a caller of socks.h
 * plays it: all at once, cut in two at a point the input picks, and one
 * byte at a time; with Tor's RESOLVE refused and taken.  Every step keeps
 * the promises of socks.h, and however the bytes were cut the client reads
 * the same replies, and the conversation ends the same way with the same
 * request and the same bytes left over.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "common/addr.h"
#include "proxyd/socks.h"

/* Longer inputs are also played whole and cut, but not byte by byte. */
#define FUZZ_BYTEWISE_MAX 4096
#define FUZZ_WROTE_MAX    256

struct fuzz_conv {
	struct socks_server s;
	enum socks_step last;
	uint8_t wrote[FUZZ_WROTE_MAX];
	size_t wrote_len;
	size_t used;
};

static void
fuzz_fail(const char *what, size_t at)
{
	fprintf(stderr, "socks contract broken at byte %zu: %s\n", at, what);
	abort();
}

static void
fuzz_terminated(const char *field, size_t size, size_t at)
{
	if (memchr(field, '\0', size) == NULL)
		fuzz_fail("field not NUL-terminated", at);
}

/* What socks.h promises about a request. */
static void
fuzz_check_request(const struct socks_server *s, size_t at)
{
	uint8_t out[SOCKS_REPLY_MAX];
	size_t n;

	if (s->version != 4 && s->version != 5)
		fuzz_fail("request without a version", at);
	if (s->cmd != SOCKS_CMD_CONNECT &&
	    !(s->cmd == SOCKS_CMD_RESOLVE && s->allow_resolve &&
	      s->version == 5))
		fuzz_fail("a command not asked for", at);
	if (s->port == 0 && s->cmd == SOCKS_CMD_CONNECT)
		fuzz_fail("CONNECT to port 0", at);
	if (s->name[0] != '\0') {
		if (s->addr.ss_family != AF_UNSPEC)
			fuzz_fail("both a name and an address", at);
		if (strpbrk(s->name, " \x7f") != NULL)
			fuzz_fail("a space or DEL in the name", at);
		for (n = 0; s->name[n] != '\0'; n++)
			if ((uint8_t)s->name[n] < 0x20)
				fuzz_fail("a control byte in the name", at);
	} else {
		if (s->addr.ss_family != AF_INET &&
		    s->addr.ss_family != AF_INET6)
			fuzz_fail("neither a name nor an address", at);
		if (addr_port((const struct sockaddr *)&s->addr) != s->port)
			fuzz_fail("address and port disagree", at);
		if (s->version == 4 && s->addr.ss_family != AF_INET)
			fuzz_fail("SOCKS4 with an IPv6 address", at);
	}
	if (s->version == 4 && (s->tor_ext || s->pass[0] != '\0'))
		fuzz_fail("SOCKS4 with a password", at);
	if (s->version == 4 && s->auth != (s->user[0] != '\0'))
		fuzz_fail("SOCKS4 auth without a USERID", at);
	if (s->version == 5 && s->auth != s->tor_ext)
		fuzz_fail("SOCKS5 auth and tor_ext disagree", at);
	n = socks_reply(s, SOCKS_TOR_DESC_NOT_FOUND, NULL, out, sizeof(out));
	if (n != (s->version == 5 ? 10u : 8u))
		fuzz_fail("reply of the wrong length", at);
	if (s->version == 5 &&
	    (out[0] != 5 || out[1] != (s->tor_ext ? 0xf0 : 0x04)))
		fuzz_fail("SOCKS5 reply code", at);
	if (s->version == 4 && (out[0] != 0 || out[1] != 0x5b))
		fuzz_fail("SOCKS4 reply code", at);
}

/* One step's promises; avail is what the step was given. */
static void
fuzz_check_step(const struct fuzz_conv *c, size_t avail, size_t used)
{
	const struct socks_server *s = &c->s;

	if (used > avail)
		fuzz_fail("used more than given", c->used);
	if (s->out_len > sizeof(s->out))
		fuzz_fail("out_len past out", c->used);
	if (s->out_len != 0 && c->last != SOCKS_REPLY &&
	    c->last != SOCKS_INVALID)
		fuzz_fail("a reply on a step that writes none", c->used);
	if (c->last == SOCKS_REPLY && (s->out_len == 0 || used == 0))
		fuzz_fail("SOCKS_REPLY with nothing written or taken", c->used);
	if ((c->last == SOCKS_NEED_MORE || c->last == SOCKS_INVALID) &&
	    used != 0)
		fuzz_fail("bytes taken without a message", c->used);
	if ((c->last == SOCKS_INVALID) != (s->error != NULL))
		fuzz_fail("error set unless INVALID", c->used);
	if (c->last == SOCKS_NEED_MORE && avail >= SOCKS_MSG_MAX)
		fuzz_fail("NEED_MORE with SOCKS_MSG_MAX bytes", c->used);
	fuzz_terminated(s->user, sizeof(s->user), c->used);
	fuzz_terminated(s->pass, sizeof(s->pass), c->used);
	fuzz_terminated(s->name, sizeof(s->name), c->used);
	if (c->last == SOCKS_REQUEST)
		fuzz_check_request(s, c->used);
}

/* Give the parser buf[0..len) in pieces ending at each of cuts[]. */
static void
fuzz_play(struct fuzz_conv *c, const uint8_t *buf, size_t len,
          bool allow_resolve, const size_t *cuts, size_t ncuts)
{
	size_t given, used, i;

	memset(c, 0, sizeof(*c));
	socks_server_init(&c->s);
	c->s.allow_resolve = allow_resolve;
	for (i = 0; i < ncuts; i++) {
		given = cuts[i];
		for (;;) {
			c->last = socks_server_feed(&c->s, buf + c->used,
			                            given - c->used, &used);
			fuzz_check_step(c, given - c->used, used);
			if (c->s.out_len > sizeof(c->wrote) - c->wrote_len)
				fuzz_fail("too many replies", c->used);
			memcpy(c->wrote + c->wrote_len, c->s.out, c->s.out_len);
			c->wrote_len += c->s.out_len;
			c->used += used;
			if (c->last != SOCKS_REPLY)
				break;
		}
		if (c->last != SOCKS_NEED_MORE)
			return;
	}
}

static void
fuzz_same(const struct fuzz_conv *a, const struct fuzz_conv *b, const char *how)
{
	const struct socks_server *x = &a->s, *y = &b->s;

	if (a->last != b->last || a->used != b->used ||
	    a->wrote_len != b->wrote_len ||
	    memcmp(a->wrote, b->wrote, a->wrote_len) != 0 ||
	    x->version != y->version || x->auth != y->auth ||
	    x->tor_ext != y->tor_ext || x->port != y->port ||
	    x->cmd != y->cmd || strcmp(x->user, y->user) != 0 ||
	    strcmp(x->pass, y->pass) != 0 || strcmp(x->name, y->name) != 0 ||
	    memcmp(&x->addr, &y->addr, sizeof(x->addr)) != 0 ||
	    (x->error != NULL && strcmp(x->error, y->error) != 0)) {
		fprintf(stderr, "%s: step %d/%d, used %zu/%zu, error %s/%s\n",
		        how, a->last, b->last, a->used, b->used,
		        x->error ? x->error : "-", y->error ? y->error : "-");
		fuzz_fail("cutting the bytes changed the conversation",
		          a->used);
	}
}

static void
fuzz_one(const uint8_t *data, size_t size, bool allow_resolve)
{
	static struct fuzz_conv whole, cut, bytewise;
	static size_t cuts[FUZZ_BYTEWISE_MAX];
	size_t two[2], i;

	two[1] = size;
	fuzz_play(&whole, data, size, allow_resolve, &two[1], 1);
	if (size == 0)
		return;
	two[0] = ((size_t)data[size - 1] << 8 | data[size / 2]) % size;
	fuzz_play(&cut, data, size, allow_resolve, two, 2);
	fuzz_same(&whole, &cut, "cut in two");
	if (size > FUZZ_BYTEWISE_MAX)
		return;
	for (i = 0; i < size; i++)
		cuts[i] = i + 1;
	fuzz_play(&bytewise, data, size, allow_resolve, cuts, size);
	fuzz_same(&whole, &bytewise, "byte by byte");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size, false);
	fuzz_one(data, size, true);
	return 0;
}
