/*
 * fuzz_peek.h - what every peek answer must satisfy, shared by the peek
 * fuzz targets.  A broken promise aborts with the reason, which libFuzzer
 * reports as a crash with its input.
 */
#ifndef TG_FUZZ_PEEK_H
#define TG_FUZZ_PEEK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/name.h"
#include "proxyd/peek.h"

typedef enum peek_result (*fuzz_peek_fn)(const uint8_t *, size_t,
                                         struct peek_info *);

static void
fuzz_fail(const char *what, size_t len)
{
	fprintf(stderr, "peek contract broken at %zu bytes: %s\n", len, what);
	abort();
}

/* The promises of peek.h for one answer on len bytes. */
static void
fuzz_check(enum peek_result r, const struct peek_info *info, size_t len)
{
	char name[PEEK_NAME_MAX + 2];

	if (ERR_peek_error() != 0)
		fuzz_fail("OpenSSL error queue left non-empty", len);
	if (info->proto == NULL || (strcmp(info->proto, "tls") != 0 &&
	                            strcmp(info->proto, "http") != 0 &&
	                            strcmp(info->proto, "other") != 0))
		fuzz_fail("proto not tls, http or other", len);
	if (memchr(info->name, '\0', sizeof(info->name)) == NULL)
		fuzz_fail("name not NUL-terminated", len);
	switch (r) {
	case PEEK_NEED_MORE:
		if (len >= PEEK_MAX_BYTES)
			fuzz_fail("NEED_MORE at PEEK_MAX_BYTES", len);
		/* FALLTHROUGH */
	case PEEK_INVALID:
		if ((r == PEEK_INVALID) != (info->error != NULL))
			fuzz_fail("error set unless INVALID", len);
		if (info->source != NAME_NONE || info->name[0] != '\0')
			fuzz_fail("a name without PEEK_DONE", len);
		break;
	case PEEK_DONE:
		if (info->error != NULL)
			fuzz_fail("error set on PEEK_DONE", len);
		if ((info->source == NAME_NONE) != (info->name[0] == '\0'))
			fuzz_fail("name and source disagree", len);
		if (info->source == NAME_NONE)
			break;
		if (info->source != NAME_SNI && info->source != NAME_HTTP)
			fuzz_fail("unknown name source", len);
		memcpy(name, info->name, sizeof(info->name));
		if (name_normalise(name) != 0 || strcmp(name, info->name) != 0)
			fuzz_fail("name not in normal form", len);
		break;
	default:
		fuzz_fail("unknown result", len);
	}
}

static enum peek_result
fuzz_peek(fuzz_peek_fn fn, const uint8_t *buf, size_t len,
          struct peek_info *info)
{
	enum peek_result r;

	r = fn(buf, len, info);
	fuzz_check(r, info, len);
	return r;
}

/* Two answers are the same decision with the same details. */
static int
fuzz_same(enum peek_result ra, const struct peek_info *a, enum peek_result rb,
          const struct peek_info *b)
{
	if (ra != rb || a->source != b->source ||
	    strcmp(a->name, b->name) != 0 || strcmp(a->proto, b->proto) != 0)
		return 0;
	if (ra == PEEK_DONE && a->ech != b->ech)
		return 0;
	if (ra == PEEK_INVALID && strcmp(a->error, b->error) != 0)
		return 0;
	return 1;
}

/*
 * More bytes never change a decision: whatever a prefix of buf was
 * decided as, all of buf is decided the same way.  Checks a few prefixes,
 * some picked by the input so the fuzzer can steer them.
 */
static void
fuzz_check_prefixes(fuzz_peek_fn fn, const uint8_t *buf, size_t len)
{
	struct peek_info full, part;
	enum peek_result rf, rp;
	size_t cuts[4], i;

	rf = fuzz_peek(fn, buf, len, &full);
	if (len == 0)
		return;
	cuts[0] = len - 1;
	cuts[1] = len / 2;
	cuts[2] = buf[0] % len;
	cuts[3] = ((size_t)buf[len - 1] << 8 | buf[len / 2]) % len;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		rp = fuzz_peek(fn, buf, cuts[i], &part);
		if (rp != PEEK_NEED_MORE && !fuzz_same(rp, &part, rf, &full))
			fuzz_fail("a prefix decided otherwise", cuts[i]);
	}
}

#endif
