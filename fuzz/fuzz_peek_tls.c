/*
 * fuzz_peek_tls.c - the TLS peek on arbitrary bytes.
 *
 * Each input is looked at twice.  As it is: the contract of peek.h holds on
 * it and on prefixes of it, and peek_name() routes it to peek_tls().
 * Re-cut: the handshake bytes are taken out of the input's records
 * (whatever their headers say, so mutations inside a ClientHello keep a
 * sound framing) and framed twice, in one record and in records of a size
 * the input picks; our record walk and OpenSSL's reassembly must give both
 * the same answer.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_peek.h"

#define FUZZ_RECORD_MAX 16384

static uint8_t fuzz_payload[FUZZ_RECORD_MAX];
static uint8_t fuzz_framed[PEEK_MAX_BYTES];

/* The handshake bytes in buf's records, at most one record's worth. */
static size_t
fuzz_unframe(const uint8_t *buf, size_t len)
{
	size_t off, rlen, take, n;

	for (off = 0, n = 0; off + 5 <= len && n < FUZZ_RECORD_MAX;
	     off += 5 + rlen) {
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		take = len - off - 5 < rlen ? len - off - 5 : rlen;
		if (take > FUZZ_RECORD_MAX - n)
			take = FUZZ_RECORD_MAX - n;
		memcpy(fuzz_payload + n, buf + off + 5, take);
		n += take;
	}
	/* Just the first message: what follows it is framed differently
	 * by the two cuts and is not the ClientHello's business. */
	if (n >= 4) {
		rlen = 4 + ((size_t)fuzz_payload[1] << 16 |
		            (size_t)fuzz_payload[2] << 8 | fuzz_payload[3]);
		if (rlen < n)
			n = rlen;
	}
	return n;
}

/* fuzz_payload[0..n) in records of at most frag bytes; 0 if too long. */
static size_t
fuzz_frame(size_t n, size_t frag)
{
	size_t off, chunk, len;

	for (off = 0, len = 0; off < n; off += chunk) {
		chunk = n - off < frag ? n - off : frag;
		if (len + 5 + chunk > sizeof(fuzz_framed))
			return 0;
		fuzz_framed[len] = 0x16;
		fuzz_framed[len + 1] = 0x03;
		fuzz_framed[len + 2] = 0x01;
		fuzz_framed[len + 3] = chunk >> 8;
		fuzz_framed[len + 4] = chunk & 0xff;
		memcpy(fuzz_framed + len + 5, fuzz_payload + off, chunk);
		len += 5 + chunk;
	}
	return len;
}

static void
fuzz_recut(const uint8_t *buf, size_t len)
{
	struct peek_info one, many;
	enum peek_result r1, rn;
	size_t n, framed, frag;

	if (len < 6 || (n = fuzz_unframe(buf, len)) == 0)
		return;
	framed = fuzz_frame(n, FUZZ_RECORD_MAX);
	r1 = fuzz_peek(peek_tls, fuzz_framed, framed, &one);
	frag = 1 + (buf[len - 1] % 4 == 0 ? buf[len - 2] % 8 : buf[len - 2]);
	if ((framed = fuzz_frame(n, frag)) == 0)
		return;
	rn = fuzz_peek(peek_tls, fuzz_framed, framed, &many);
	if (!fuzz_same(r1, &one, rn, &many)) {
		fprintf(stderr, "one record: %d %s; %zu-byte records: %d %s\n",
		        r1, r1 == PEEK_INVALID ? one.error : one.name, frag, rn,
		        rn == PEEK_INVALID ? many.error : many.name);
		fuzz_fail("re-cut records decided otherwise", framed);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peek_info a, b;
	enum peek_result ra, rb;

	fuzz_check_prefixes(peek_tls, data, size);
	ra = fuzz_peek(peek_tls, data, size, &a);
	rb = fuzz_peek(peek_name, data, size, &b);
	if (size > 0 && data[0] == 0x16 && !fuzz_same(ra, &a, rb, &b))
		fuzz_fail("peek_name() and peek_tls() disagree", size);
	fuzz_recut(data, size);
	return 0;
}
