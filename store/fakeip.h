/*
 * fakeip.h - the fake-IP map in the database (table fake_ips, schema 5):
 * the mappings of name to fake address that tollgated's DNS stub handed
 * out, kept so that a restart does not break programs that remember an
 * answer.  The map itself lives in tollgated's memory (proxyd/fakeip.h);
 * this stores and reads it back, and decides nothing.
 *
 *   fake_ips(name TEXT PRIMARY KEY, v4 BLOB (4 bytes, network order),
 *            v6 BLOB NULL (16 bytes), last_used INTEGER (Unix seconds))
 *
 * An address belongs to one name: storing a mapping drops any other
 * name's row at the same IPv4 address (that name gave up its slot).
 * Errors, threads and transactions as in store.h.
 */
#ifndef TG_STORE_FAKEIP_H
#define TG_STORE_FAKEIP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One mapping; name is the caller's (put) or valid during the call
 * (load). */
struct store_fakeip {
	const char *name; /* normalised, 1 to NAME_MAX_LEN bytes */
	struct in_addr v4;
	struct in6_addr v6; /* stored when has_v6 */
	bool has_v6;
	int64_t last_used; /* Unix seconds */
};

/*
 * Store m[0..n): a new name is added, a known one gets the addresses and
 * last_used given; another name's row at the same IPv4 address is
 * deleted.  One transaction: 0, or -1 + err with nothing stored (a name
 * that is empty or too long is an error too).
 */
int store_fakeip_put(struct store *s, const struct store_fakeip *m, size_t n,
                     char *err, size_t errlen);

/* Forget name's mapping (no row is no error).  0 or -1 + err. */
int store_fakeip_delete(struct store *s, const char *name, char *err,
                        size_t errlen);

/*
 * fn(arg, m) for each stored mapping, least recently used first (ties by
 * name), in one read transaction; works on a read-only store.  fn
 * returns 0 to go on, or a positive number to stop.  Returns 0 when every
 * row was seen, fn's number when it stopped, -1 + err.
 */
int store_fakeip_load(struct store *s,
                      int (*fn)(void *arg, const struct store_fakeip *m),
                      void *arg, char *err, size_t errlen);

/* Keep the max most recently used mappings, delete the rest.  The
 * number of rows deleted, or -1 + err. */
int64_t store_fakeip_prune(struct store *s, size_t max, char *err,
                           size_t errlen);

#endif
