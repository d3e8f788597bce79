/*
 * front_connect.c - the HTTP CONNECT front (the parser is
 * httpconnect.c); see front.h.
 */
#include <stdio.h>
#include <string.h>

#include "proxyd/front.h"
#include "proxyd/httpconnect.h"

struct front_connect {
	struct hc_request req;
	bool told;   /* its status line went out */
	int invalid; /* the status for a broken request, or 0 */
};

static void
connect_init(void *st)
{
	memset(st, 0, sizeof(struct front_connect));
}

static enum front_step
connect_request(void *st, const uint8_t *buf, size_t len, size_t *used,
                struct front_ask *ask, const uint8_t **out, size_t *outlen,
                const char **error)
{
	struct front_connect *h = st;
	struct hc_request *req = &h->req;

	(void)out;
	(void)outlen;
	*used = 0;
	switch (hc_parse(buf, len, req)) {
	case HC_NEED_MORE:
		return FRONT_NEED_MORE;
	case HC_INVALID:
		h->invalid = req->status != 0 ? req->status : 400;
		*error = req->error != NULL ? req->error : "invalid request";
		return FRONT_INVALID;
	case HC_REQUEST:
		break;
	}
	*used = req->head_len;
	memset(ask, 0, sizeof(*ask));
	ask->proto = "connect";
	ask->source = NAME_CONNECT;
	ask->auth = req->auth;
	snprintf(ask->user, sizeof(ask->user), "%s", req->user);
	snprintf(ask->pass, sizeof(ask->pass), "%s", req->pass);
	if (front_ask_dest(ask, req->host_is_ip ? "" : req->host, &req->addr,
	                   req->port) == -1) {
		h->invalid = 400;
		*error = "the requested host is not a host name";
		return FRONT_INVALID;
	}
	return FRONT_ASKED;
}

static void
connect_close_with(struct front_connect *h, int fd, int status)
{
	char buf[HTTP_CONNECT_RESPONSE_MAX];
	size_t n;

	if (h->told) {
		front_reset(fd);
		return;
	}
	h->told = true;
	n = hc_response(status, buf, sizeof(buf));
	front_reply_close(fd, buf, n);
}

/* deny: 403 Forbidden; reject: 502 Bad Gateway, as if the way onward
 * had failed (SOCKS's "host unreachable"). */
static void
connect_refuse(void *st, int fd, enum action verdict)
{
	struct front_connect *h = st;
	int status = verdict == ACTION_REJECT ? 502 : 403;

	connect_close_with(h, fd, h->invalid != 0 ? h->invalid : status);
}

static int
connect_granted(void *st, int fd)
{
	struct front_connect *h = st;
	char buf[HTTP_CONNECT_RESPONSE_MAX];
	size_t n;

	if (h->told)
		return 0;
	n = hc_response(200, buf, sizeof(buf));
	h->told = true;
	return front_write(fd, buf, n);
}

/* A SOCKS5 code as an HTTP status (hc_status_for_socks()). */
static void
connect_failed(void *st, int fd, uint8_t code)
{
	connect_close_with(st, fd, hc_status_for_socks(code));
}

const struct front front_connect = {
    .name = "connect",
    .source = NAME_CONNECT,
    .state_size = sizeof(struct front_connect),
    .init = connect_init,
    .request = connect_request,
    .peek = peek_name,
    .refuse = connect_refuse,
    .granted = connect_granted,
    .failed = connect_failed,
};
