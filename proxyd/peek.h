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

#include "common/name.h"

/* The most bytes a peek may hold: a ClientHello of up to this size is
 * reassembled; a longer one is invalid. */
#define PEEK_MAX_BYTES (32 * 1024)
#define PEEK_NAME_MAX  NAME_MAX_LEN

/* Where a connection's name came from; a front that is told the name
 * (SOCKS, HTTP CONNECT, a fake IP of the DNS stub) adds its own. */
enum name_source {
	NAME_NONE,    /* no name: the rule must match the IP */
	NAME_SNI,     /* TLS ClientHello server_name */
	NAME_HTTP,    /* HTTP/1.x Host header */
	NAME_SOCKS,   /* a SOCKS4a or SOCKS5 request (socks.h) */
	NAME_CONNECT, /* an HTTP CONNECT request (httpconnect.h) */
	NAME_FAKEIP,  /* the name behind an address tollgated made up for
	               * it (fakeip.h) */
	NAME_DNS,     /* the name of a DNS query (dnsstub.h) */
	NAME_SOURCE_COUNT
};

enum peek_result {
	PEEK_NEED_MORE, /* incomplete: call again when more bytes arrived */
	PEEK_DONE,      /* decided: see info->source (may be NAME_NONE) */
	PEEK_INVALID,   /* a recognised protocol, malformed: info->error */
};

struct peek_info {
	enum name_source source;
	char name[PEEK_NAME_MAX + 1]; /* lower case, no trailing dot */
	bool ech;                     /* ClientHello offers ECH: the SNI
	                               * is only the outer public name */
	const char *proto;            /* "tls", "http" or "other" */
	const char *error;            /* static text when PEEK_INVALID */
};

/*
 * Look at buf[0..len) (the bytes the client sent so far).  The first byte
 * picks the source: 0x16 TLS, an upper case letter HTTP, anything else is
 * PEEK_DONE with NAME_NONE and proto "other".
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

/*
 * The sources one by one, for tests and fuzzing; same contract.
 *
 * peek_tls(): the first record must be a handshake record and the first
 * handshake message a ClientHello, whole within PEEK_MAX_BYTES including
 * its record headers; anything else (an SSLv2-style hello too) is
 * PEEK_INVALID.  Bytes after the record that completes the ClientHello
 * are not looked at.  An SNI that is an IP literal gives NAME_NONE (RFC
 * 6066 forbids it, some clients send it anyway); any other SNI that is
 * not a host name, or a server_name list that is not exactly one
 * host_name, is PEEK_INVALID.
 *
 * peek_http(): the whole request head is read, up to the empty line,
 * rather than stopping at the Host line, so that a second Host header or
 * a request target naming another host than Host (absolute form, CONNECT)
 * is refused as PEEK_INVALID; such a target's host is the name.  No Host,
 * an empty one or an IP literal gives NAME_NONE.  A first line that
 * starts with an upper case word but is not "METHOD SP target SP HTTP/"
 * (an IRC client's "NICK x", the HTTP/2 preface) is not HTTP: PEEK_DONE,
 * NAME_NONE, proto "other".
 */
enum peek_result peek_tls(const uint8_t *buf, size_t len,
                          struct peek_info *info);
enum peek_result peek_http(const uint8_t *buf, size_t len,
                           struct peek_info *info);

/* "sni", "http", "socks", "connect", "fakeip", "dns" or "none". */
const char *name_source_str(enum name_source s);

#endif
