/*
 * front_socks.c - the SOCKS front: SOCKS5, SOCKS4 and SOCKS4a clients
 * (the parser is socks.c); see front.h.
 */
#include <stdio.h>
#include <string.h>

#include "proxyd/front.h"
#include "proxyd/socks.h"

struct front_socks {
	struct socks_server srv;
	bool told;           /* its final reply went out */
	bool broken;         /* its request was invalid */
	uint8_t invalid[16]; /* the reply for it, when the protocol has one */
	size_t invalid_len;
};

static void
socks_init(void *st)
{
	struct front_socks *s = st;

	memset(s, 0, sizeof(*s));
	socks_server_init(&s->srv);
	/* torsocks resolves every name this way first: it is answered from
	 * the fake-IP map, so that its CONNECT carries a name again. */
	s->srv.allow_resolve = true;
}

static enum front_step
socks_request(void *st, const uint8_t *buf, size_t len, size_t *used,
              struct front_ask *ask, const uint8_t **out, size_t *outlen,
              const char **error)
{
	struct front_socks *s = st;
	struct socks_server *srv = &s->srv;

	switch (socks_server_feed(srv, buf, len, used)) {
	case SOCKS_NEED_MORE:
		return FRONT_NEED_MORE;
	case SOCKS_REPLY:
		*out = srv->out;
		*outlen = srv->out_len;
		return FRONT_REPLY;
	case SOCKS_INVALID:
		s->broken = true;
		s->invalid_len = srv->out_len < sizeof(s->invalid)
		                     ? srv->out_len
		                     : sizeof(s->invalid);
		memcpy(s->invalid, srv->out, s->invalid_len);
		*error = srv->error != NULL ? srv->error : "invalid request";
		return FRONT_INVALID;
	case SOCKS_REQUEST:
		break;
	}
	memset(ask, 0, sizeof(*ask));
	ask->proto = srv->version == 4 ? "socks4" : "socks5";
	ask->source = NAME_SOCKS;
	ask->resolve = srv->cmd == SOCKS_CMD_RESOLVE;
	ask->auth = srv->auth;
	snprintf(ask->user, sizeof(ask->user), "%s", srv->user);
	snprintf(ask->pass, sizeof(ask->pass), "%s", srv->pass);
	if (front_ask_dest(ask, srv->name, &srv->addr, srv->port) == -1) {
		s->broken = true;
		s->invalid_len = socks_reply(srv, FRONT_HOST_UNREACH, NULL,
		                             s->invalid, sizeof(s->invalid));
		*error = "the requested host is not a host name";
		return FRONT_INVALID;
	}
	return FRONT_ASKED;
}

/* The final reply with code, then close (with a reset when the client
 * was granted already: only the connection's end can tell it then). */
static void
socks_close_with(struct front_socks *s, int fd, uint8_t code)
{
	uint8_t buf[SOCKS_REPLY_MAX];
	size_t n;

	if (s->told) {
		front_reset(fd);
		return;
	}
	s->told = true;
	n = socks_reply(&s->srv, code, NULL, buf, sizeof(buf));
	front_reply_close(fd, buf, n);
}

/*
 * deny: "connection not allowed by ruleset" (02), what it is; reject:
 * "host unreachable" (04), as if the network had said no, which is what
 * a reject means to a transparent client.
 */
static void
socks_refuse(void *st, int fd, enum action verdict)
{
	struct front_socks *s = st;

	if (s->broken && !s->told) {
		s->told = true;
		if (s->invalid_len == 0) {
			front_reset(fd);
			return;
		}
		front_reply_close(fd, s->invalid, s->invalid_len);
		return;
	}
	socks_close_with(s, fd,
	                 verdict == ACTION_REJECT ? FRONT_HOST_UNREACH
	                                          : FRONT_NOT_ALLOWED);
}

static int
socks_granted(void *st, int fd)
{
	struct front_socks *s = st;
	uint8_t buf[SOCKS_REPLY_MAX];
	size_t n;

	if (s->told)
		return 0;
	n = socks_reply(&s->srv, 0x00, NULL, buf, sizeof(buf));
	s->told = true;
	return front_write(fd, buf, n);
}

static void
socks_failed(void *st, int fd, uint8_t code)
{
	socks_close_with(st, fd, code);
}

static void
socks_resolved(void *st, int fd, const struct sockaddr *addr)
{
	struct front_socks *s = st;
	uint8_t buf[SOCKS_REPLY_MAX];
	size_t n;

	s->told = true;
	n = socks_reply(&s->srv, 0x00, addr, buf, sizeof(buf));
	front_reply_close(fd, buf, n);
}

const struct front front_socks = {
    .name = "socks",
    .source = NAME_SOCKS,
    .state_size = sizeof(struct front_socks),
    .init = socks_init,
    .request = socks_request,
    .peek = peek_name,
    .refuse = socks_refuse,
    .granted = socks_granted,
    .failed = socks_failed,
    .resolved = socks_resolved,
};
