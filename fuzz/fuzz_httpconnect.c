/*
 * fuzz_httpconnect.c - the HTTP CONNECT front's parser on arbitrary bytes.
 *
 * Each input is a client's first bytes, parsed whole and at prefixes (one
 * of them picked by the input): every answer keeps the promises of
 * httpconnect.h, a prefix that is decided is decided as the whole is, and
 * the status of a refusal has a response that fits.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "common/addr.h"
#include "proxyd/httpconnect.h"

static void
fuzz_fail(const char *what, size_t len)
{
	fprintf(stderr, "httpconnect contract broken at %zu bytes: %s\n", len,
	        what);
	abort();
}

static bool
fuzz_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

static void
fuzz_check(enum hc_result r, const struct hc_request *req, const uint8_t *buf,
           size_t len)
{
	char out[HTTP_CONNECT_RESPONSE_MAX];

	if (!fuzz_terminated(req->host, sizeof(req->host)) ||
	    !fuzz_terminated(req->user, sizeof(req->user)) ||
	    !fuzz_terminated(req->pass, sizeof(req->pass)))
		fuzz_fail("field not NUL-terminated", len);
	switch (r) {
	case HC_NEED_MORE:
		if (len >= HTTP_CONNECT_HEAD_MAX)
			fuzz_fail("NEED_MORE at HTTP_CONNECT_HEAD_MAX", len);
		if (req->error != NULL || req->status != 0 ||
		    req->host[0] != '\0' || req->auth)
			fuzz_fail("NEED_MORE with a result", len);
		break;
	case HC_INVALID:
		if (req->error == NULL)
			fuzz_fail("INVALID without an error", len);
		if (req->status != 400 && req->status != 405 &&
		    req->status != 414 && req->status != 431 &&
		    req->status != 505)
			fuzz_fail("INVALID with an unlisted status", len);
		if (hc_response(req->status, out, sizeof(out)) == 0)
			fuzz_fail("response does not fit", len);
		break;
	case HC_REQUEST:
		if (req->error != NULL || req->status != 0)
			fuzz_fail("REQUEST with an error", len);
		if (req->head_len == 0 || req->head_len > len ||
		    req->head_len > HTTP_CONNECT_HEAD_MAX ||
		    buf[req->head_len - 1] != '\n')
			fuzz_fail("head_len not after an LF", len);
		if (req->host[0] == '\0' || req->port == 0)
			fuzz_fail("REQUEST without host or port", len);
		if (req->host_is_ip != (req->addr.ss_family == AF_INET ||
		                        req->addr.ss_family == AF_INET6) ||
		    (!req->host_is_ip && req->addr.ss_family != AF_UNSPEC))
			fuzz_fail("host_is_ip and addr disagree", len);
		if (req->host_is_ip &&
		    addr_port((const struct sockaddr *)&req->addr) != req->port)
			fuzz_fail("address and port disagree", len);
		if (!req->auth &&
		    (req->user[0] != '\0' || req->pass[0] != '\0'))
			fuzz_fail("credentials without auth", len);
		break;
	default:
		fuzz_fail("unknown result", len);
	}
}

static enum hc_result
fuzz_parse(const uint8_t *buf, size_t len, struct hc_request *req)
{
	enum hc_result r;

	r = hc_parse(buf, len, req);
	fuzz_check(r, req, buf, len);
	return r;
}

static bool
fuzz_same(enum hc_result ra, const struct hc_request *a, enum hc_result rb,
          const struct hc_request *b)
{
	if (ra != rb)
		return false;
	if (ra == HC_INVALID)
		return a->status == b->status &&
		       strcmp(a->error, b->error) == 0;
	return a->head_len == b->head_len && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port && a->host_is_ip == b->host_is_ip &&
	       memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0 &&
	       a->auth == b->auth && strcmp(a->user, b->user) == 0 &&
	       strcmp(a->pass, b->pass) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hc_request full, part;
	enum hc_result rf, rp;
	size_t cuts[4], i;

	rf = fuzz_parse(data, size, &full);
	if (size == 0)
		return 0;
	cuts[0] = size - 1;
	cuts[1] = size / 2;
	cuts[2] = ((size_t)data[size - 1] << 8 | data[size / 2]) % size;
	cuts[3] = rf == HC_REQUEST ? full.head_len : data[0] % size;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		rp = fuzz_parse(data, cuts[i], &part);
		if (rp != HC_NEED_MORE && !fuzz_same(rp, &part, rf, &full))
			fuzz_fail("a prefix decided otherwise", cuts[i]);
	}
	return 0;
}
