/*
 * encdns.h - encrypted DNS servers: what a connection to one looks like.
 *
 * DNS over TLS is TCP port 853 (RFC 7858), whatever the name.  DNS over
 * HTTPS (RFC 8484) is HTTPS like any other, told apart only by the name
 * of the resolver: the names are a list (encrypted_dns_list, default the
 * shipped encrypted-dns.list as compiled in), read once at start.  A connection
 * to either is flagged encrypted-dns on its event, and refused when
 * block_encrypted_dns = yes: DNS that tollgate cannot see resolves names
 * its rules never judge.
 *
 * The list's format is that of a list rule's (rules/list.h): one name a
 * line (or hosts-file lines), '#' comments; each name stands for itself
 * and every name under it, so "cloudflare-dns.com" covers
 * "mozilla.cloudflare-dns.com" too.
 *
 * Read-only once loaded: the loop's, or any thread's.
 */
#ifndef TG_ENCDNS_H
#define TG_ENCDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENCDNS_DOT_PORT 853 /* DNS over TLS */

/* contrib/encrypted-dns.list as compiled in (encrypted_dns_list =
 * builtin, the default). */
extern const char encdns_builtin[];

struct encdns;

/*
 * Read the list at path; "builtin" (CONFIG_BUILTIN) for the compiled-in
 * one; NULL or "" for none (port 853 alone then).
 * Returns the set, or NULL with err saying "encrypted_dns_list PATH:
 * ..." (the file cannot be opened or read, or line N is not a name).
 */
struct encdns *encdns_load(const char *path, char *err, size_t errlen);
void encdns_free(struct encdns *e);

/* How many names the list holds. */
size_t encdns_count(const struct encdns *e);

/*
 * Whether a TCP connection to name on port goes to an encrypted DNS
 * server: port is ENCDNS_DOT_PORT, or name is a listed name or under
 * one.  name is compared as name.h normalises it (any case, one trailing
 * dot or none); NULL, "" or not a host name matches no name.
 */
bool encdns_match(const struct encdns *e, const char *name, uint16_t port);

#endif
