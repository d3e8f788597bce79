/*
 * fakeip.h - names behind made-up addresses.
 *
 * A client that resolves a name through tollgate gets an address from a
 * range nobody uses (fake_ip_range, 198.18.0.0/15: RFC 2544's benchmark
 * range), and when it connects to that address, tollgate knows the name
 * it meant and judges that, and hands the name onward, never the made-up
 * address.  Today Tor's RESOLVE extension of SOCKS (what torsocks sends
 * for getaddrinfo()) is answered from here; the DNS stub is next.
 *
 * A name keeps its address while it is in the map; the map holds at most
 * `max` names, and a new name past that takes the address of the one
 * handed out longest ago.  Lives in memory only.  Not thread-safe: the
 * loop's.
 */
#ifndef TG_FAKEIP_H
#define TG_FAKEIP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define FAKEIP_DEFAULT_NET    "198.18.0.0"
#define FAKEIP_DEFAULT_PREFIX 15
#define FAKEIP_DEFAULT_MAX    65536

struct fakeip;

/*
 * A map over net/prefix (an IPv4 network, prefix 8-30), for at most max
 * names (fewer when the range is smaller: its first and last addresses
 * are never handed out).  NULL with errno on failure.
 */
struct fakeip *fakeip_new(struct in_addr net, unsigned prefix, size_t max);
void fakeip_free(struct fakeip *f);

/* The address of name (normalised, name.h), handed out now if it had
 * none.  0, or -1 when name is too long or out of memory. */
int fakeip_addr(struct fakeip *f, const char *name, struct in_addr *out);

/* Whether sa is an address of the range (IPv4, or IPv4-mapped IPv6). */
bool fakeip_in_range(const struct fakeip *f, const struct sockaddr *sa);

/* The name behind sa, or NULL when sa is not in the range or nothing is
 * mapped to it (any more).  Valid until the next fakeip_addr(). */
const char *fakeip_name(const struct fakeip *f, const struct sockaddr *sa);

#endif
