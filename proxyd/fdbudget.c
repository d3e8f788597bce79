/*
 * fdbudget.c - the descriptor budget; see fdbudget.h.
 */
#include "common/config.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/fdbudget.h"
#include "proxyd/privs.h"
#include "proxyd/relay.h"

/* The pipes' share of what is left after the fixed reserve. */
static unsigned long
fdbudget_pipes(unsigned long left)
{
	return left / 4 < 2UL * RELAY_POOL_MAX ? left / 4
	                                       : 2UL * RELAY_POOL_MAX;
}

/* What fdbudget_connections() holds at most. */
#define FDBUDGET_CONN_MAX 1000000

unsigned
fdbudget_connections(unsigned long nofile)
{
	unsigned long left, n;

	if (nofile <= FDBUDGET_FIXED)
		return 0;
	left = nofile - FDBUDGET_FIXED;
	n = (left - fdbudget_pipes(left)) / FDBUDGET_PER_CONN;
	return n > FDBUDGET_CONN_MAX ? FDBUDGET_CONN_MAX : (unsigned)n;
}

/*
 * The inverse of fdbudget_connections(), found by asking it: the smallest
 * limit that holds n, between the connections' own descriptors (no pipes)
 * and those with a third more (the pipes' largest share: a quarter of
 * what is left).  fdbudget_connections() never falls as the limit rises.
 */
unsigned long
fdbudget_needs(unsigned n)
{
	unsigned long conns, lo, hi, mid;

	if (n > FDBUDGET_CONN_MAX)
		n = FDBUDGET_CONN_MAX;
	conns = (unsigned long)n * FDBUDGET_PER_CONN;
	lo = FDBUDGET_FIXED + conns;
	hi = lo + conns / 3 + FDBUDGET_PER_CONN + 1;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fdbudget_connections(mid) >= n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int
fdbudget_setup(struct proxyd *pd)
{
	struct config defaults;
	unsigned fit, want = pd->cfg.max_connections;

	config_defaults(&defaults);
	pd->nofile = privs_raise_nofile(fdbudget_needs(want));
	fit = fdbudget_connections(pd->nofile);
	if (fit == 0) {
		log_error("the descriptor limit is %lu, too low for even one "
		          "connection (%u are kept for the daemon itself): "
		          "raise LimitNOFILE= in tollgated.service or "
		          "'ulimit -Hn'",
		          pd->nofile, FDBUDGET_FIXED);
		return -1;
	}
	if (fit >= want)
		return 0;
	pd->cfg.max_connections = fit;
	log_msg(want != defaults.max_connections ? LOG_WARNING : LOG_INFO,
	        "max_connections lowered from %u to %u: the descriptor limit "
	        "is %lu (2 per connection, %u for the daemon and pipes); "
	        "to hold %u, raise LimitNOFILE= in tollgated.service (or "
	        "'ulimit -Hn') to %lu",
	        want, fit, pd->nofile,
	        (unsigned)(pd->nofile - (unsigned long)fit * FDBUDGET_PER_CONN),
	        want, fdbudget_needs(want));
	return 0;
}

int
fdbudget_room(const struct proxyd *pd)
{
	unsigned in_use = 0, spare = 0;
	unsigned long used;

	if (pd->n_conns >= pd->cfg.max_connections)
		return 0;
	if (pd->pipes != NULL)
		relay_pool_counts(pd->pipes, &in_use, &spare);
	used = (unsigned long)(pd->n_conns + 1) * FDBUDGET_PER_CONN +
	       2UL * (in_use + spare) + FDBUDGET_FIXED;
	return used <= pd->nofile;
}
