/*
 * peek.h - read the destination name from the first bytes a client sends,
 * without answering it and without terminating TLS.
 *
 * A small table of name sources (struct peek_proto in peek.c), tried in
 * order: TLS ClientHello SNI (OpenSSL's client-hello callback over a memory
 * BIO, records reassembled by our own record-layer walk), then the HTTP/1.x
 * Host header.  Adding a protocol means adding one row.
 *
 * The caller owns the buffer; peek_name() only reads it and may be called
 * again with the same bytes plus more.  Thread-safe (no shared state other
 * than OpenSSL's own, initialised once).
 */
#ifndef TG_PEEK_H
#define TG_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most bytes a peek may hold: a ClientHello of up to this size is
 * reassembled; a longer one is invalid. */
#define PEEK_MAX_BYTES (32 * 1024)
#define PEEK_NAME_MAX 253

enum name_source {
	NAME_NONE,	/* no name: the rule must match the IP */
	NAME_SNI,	/* TLS ClientHello server_name */
	NAME_HTTP,	/* HTTP/1.x Host header */
};

enum peek_result {
	PEEK_NEED_MORE,	/* incomplete: call again when more bytes arrived */
	PEEK_DONE,	/* decided: see info->source (may be NAME_NONE) */
	PEEK_INVALID,	/* a recognised protocol, malformed: info->error */
};

struct peek_info {
	enum name_source source;
	char name[PEEK_NAME_MAX + 1];	/* lower case, no trailing dot */
	bool ech;			/* ClientHello offers ECH: the SNI
					 * is only the outer public name */
	const char *proto;		/* "tls", "http" or "other" */
	const char *error;		/* static text when PEEK_INVALID */
};

/*
 * Look at buf[0..len) (the bytes the client sent so far).
 * Returns:
 *  PEEK_NEED_MORE  the bytes are a prefix of something we parse and do not
 *                  yet hold the whole ClientHello / request head;
 *  PEEK_DONE       info is filled: a name with its source, or NAME_NONE
 *                  for a protocol we do not know (decided on the IP) or a
 *                  TLS/HTTP message without a name;
 *  PEEK_INVALID    TLS or HTTP that is malformed or longer than
 *                  PEEK_MAX_BYTES; info->error says what.  The connection
 *                  should be closed.
 * len == 0 returns PEEK_NEED_MORE.  When len reaches PEEK_MAX_BYTES the
 * result is never PEEK_NEED_MORE.
 */
enum peek_result peek_name(const uint8_t *buf, size_t len,
    struct peek_info *info);

/* The sources one by one, for tests and fuzzing; same contract. */
enum peek_result peek_tls(const uint8_t *buf, size_t len,
    struct peek_info *info);
enum peek_result peek_http(const uint8_t *buf, size_t len,
    struct peek_info *info);

/* "sni", "http" or "none". */
const char *name_source_str(enum name_source s);

/*
 * Check and normalise a host name in place: lower case, trailing dot
 * removed, letters/digits/'-'/'_' in labels of 1-63 bytes, at most
 * PEEK_NAME_MAX bytes.  Returns 0, or -1 when s is not a host name (an IP
 * literal is not a name either).
 */
int peek_normalise_name(char *s);

#endif
