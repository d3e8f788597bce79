/*
 * fakeip.h - names behind made-up addresses.
 *
 * A client that resolves a name through tollgate (the DNS stub, or Tor's
 * RESOLVE extension of SOCKS that torsocks sends for getaddrinfo()) gets
 * an address from a range nobody uses (fake_ip_range, 198.18.0.0/15:
 * RFC 2544's benchmark range), and when it connects to that address,
 * tollgate knows the name it meant and judges that, and hands the name
 * onward, never the made-up address.
 *
 * The map has `max` slots.  A mapped name holds one slot, and slot i is
 * the IPv4 address net + 1 + i and, when an IPv6 range is set, the IPv6
 * address net6 + 1 + i: a name has both or neither, and keeps them while
 * it is mapped.  The slots are kept in order of last use (LRU): a name
 * asked for again becomes the newest, and a new name past `max` takes the
 * slot of the name used longest ago, which is then unmapped.
 *
 * Persistence is the caller's: fakeip_restore() puts mappings back at
 * start, and an observer (fakeip_set_observer()) hears of each change the
 * caller has not seen: a name mapped, used again, or unmapped.
 *
 * Not thread-safe: the loop's.
 */
#ifndef TG_FAKEIP_H
#define TG_FAKEIP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#define FAKEIP_DEFAULT_NET    "198.18.0.0"
#define FAKEIP_DEFAULT_PREFIX 15
#define FAKEIP_DEFAULT_MAX    65536
/* A name used again is news for the observer at most this often (s):
 * the store need not hear of each of a busy name's queries. */
#define FAKEIP_USED_EVERY 60

struct fakeip;

/* One mapping, as fakeip_each() and the observer see it: name and the
 * entry are valid during the call only. */
struct fakeip_entry {
	const char *name;
	struct in_addr v4;
	struct in6_addr v6; /* valid when has_v6 */
	bool has_v6;
	time_t last_used; /* Unix seconds */
};

enum fakeip_change {
	FAKEIP_ADDED,   /* name got its addresses (or new ones) */
	FAKEIP_USED,    /* name asked for again; last_used moved on */
	FAKEIP_REMOVED, /* name gave up its slot to another */
};

typedef void (*fakeip_observer)(void *arg, enum fakeip_change what,
                                const struct fakeip_entry *e);

/*
 * A map over net/prefix (an IPv4 network, prefix 8-30), for at most max
 * names (fewer when the range is smaller: its first and last addresses
 * are never handed out).  NULL with errno on failure.
 */
struct fakeip *fakeip_new(struct in_addr net, unsigned prefix, size_t max);
void fakeip_free(struct fakeip *f);

/*
 * Give each name an IPv6 address of net/prefix (prefix 8-120) too; the
 * map shrinks to what the range holds when it is smaller.  Only before
 * the first name is mapped.  0, or -1 with errno EINVAL (prefix) or
 * EBUSY (names are mapped already).
 */
int fakeip_set_range6(struct fakeip *f, const struct in6_addr *net,
                      unsigned prefix);

/* Whether an IPv6 range is set. */
bool fakeip_has_v6(const struct fakeip *f);

/*
 * fn(arg, ...) hears of every change from now on (NULL: none).  It may
 * not call back into the map.
 */
void fakeip_set_observer(struct fakeip *f, fakeip_observer fn, void *arg);

/* The address of name (normalised, name.h), handed out now if it had
 * none; name becomes the newest.  0, or -1 when name is too long or out
 * of memory. */
int fakeip_addr(struct fakeip *f, const char *name, struct in_addr *out);

/* The same for its IPv6 address.  0, or -1 (errno ENOENT when no IPv6
 * range is set). */
int fakeip_addr6(struct fakeip *f, const char *name, struct in6_addr *out);

/* Whether sa is an address of a range (IPv4, IPv4-mapped IPv6, or the
 * IPv6 range). */
bool fakeip_in_range(const struct fakeip *f, const struct sockaddr *sa);

/* The name behind sa, or NULL when sa is not in a range or nothing is
 * mapped to it (any more).  Valid until the next fakeip_addr(),
 * fakeip_addr6() or fakeip_restore(). */
const char *fakeip_name(const struct fakeip *f, const struct sockaddr *sa);

/* fakeip_name(), and the name becomes the newest: a connection is a use
 * as much as a query. */
const char *fakeip_use(struct fakeip *f, const struct sockaddr *sa);

/*
 * Put a stored mapping back: name at v4 (and v6, NULL when none was
 * stored), last used at last_used.  Call oldest first: each becomes the
 * newest.  A name restored twice keeps the later; a mapping restored to
 * a slot another name holds takes it (that name is REMOVED).
 * Returns 0 when name has the addresses given, 1 when it got others
 * (v4 outside the range or past max, or v6 not what the range gives it:
 * the range changed; the observer hears ADDED), -1 when name is too long
 * or out of memory.
 */
int fakeip_restore(struct fakeip *f, const char *name, struct in_addr v4,
                   const struct in6_addr *v6, time_t last_used);

/*
 * fn(arg, e) for each mapping, oldest first, until fn returns non-zero;
 * returns that, or 0.  fn may not change the map.
 */
int fakeip_each(const struct fakeip *f,
                int (*fn)(void *arg, const struct fakeip_entry *e), void *arg);

/* How many names are mapped. */
size_t fakeip_count(const struct fakeip *f);

#endif
