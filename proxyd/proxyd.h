/*
 * proxyd.h - the state tollgated shares between its modules.
 *
 * One struct proxyd per daemon, owned by main.c.  Everything in it is used
 * from the event loop thread only, except where a field says otherwise.
 */
#ifndef TG_PROXYD_H
#define TG_PROXYD_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "common/config.h"

struct conn;
struct worker;
struct hashq;
struct relay_pool;
struct listener;
struct rulesvc;
struct eventlog;
struct control;
struct broker;
struct fakeip;
struct dnsstub;
struct udplog;
struct evdns_base;
struct encdns;
struct fairshare;
struct connbpf;

TAILQ_HEAD(conn_list, conn);

struct proxyd_stats {
	uint64_t accepted;
	uint64_t allowed;
	uint64_t refused; /* deny, reject, overload, loop, bad peek */
	uint64_t bytes_up;
	uint64_t bytes_down;
};

/* The DNS stub's answers since start (STATUS, tollgate status): each
 * query answered is counted once, in the first that fits. */
struct proxyd_dns_stats {
	uint64_t answered;  /* with a record: a fake IP, or the name of
	                     * one (PTR) */
	uint64_t denied;    /* NXDOMAIN or REFUSED by a rule; NOTIMP for a
	                     * type not forwarded for want of an allow */
	uint64_t forwarded; /* sent on to dns_upstream */
	uint64_t other;     /* NODATA, NOTIMP, FORMERR, SERVFAIL, and
	                     * NXDOMAIN of no rule (a PTR of no fake IP, a
	                     * name that is not one) */
};

struct proxyd {
	struct event_base *base;
	struct config cfg;
	struct worker *worker;    /* attribution off the loop */
	struct hashq *hashq;      /* executables hashed off it (hashq.h) */
	struct relay_pool *pipes; /* spare pipes for splice */
	struct conn_list conns;   /* every live connection */
	unsigned n_conns;
	unsigned long nofile; /* descriptor limit got at start (fdbudget.h) */
	/* Connections of each uid in the peek and attribution stages
	 * (max_pending_per_user); made by the first that needs it. */
	struct fairshare *pending;
	uint64_t next_conn_id;
	struct listener *listeners;
	struct event *sweep_ev;    /* idle timeout sweep */
	struct rulesvc *rules;     /* store, live index, hit counts */
	struct eventlog *events;   /* the event writer */
	struct control *control;   /* the control socket; NULL once closed */
	struct broker *broker;     /* prompts and parked connections */
	struct evdns_base *dns;    /* resolves names of direct proxy clients;
	                            * NULL when resolv.conf could not be read */
	uint8_t isolation_key[32]; /* isolation.h: from the database */
	struct fakeip *fakeip;     /* names behind made-up addresses */
	struct dnsstub *dnsstub;   /* the DNS stub; NULL when not open */
	struct udplog *udplog;     /* events of refused UDP; NULL when its
	                            * NFLOG group could not be bound */
	struct proxyd_stats stats;
	struct proxyd_dns_stats dns_stats;
	struct encdns *encdns; /* encrypted DNS servers: port 853 and the
	                        * encrypted_dns_list names */
	/* Who called connect() (connbpf.h); NULL when connect_tracking is
	 * off or the program did not load.  Read by the worker too. */
	struct connbpf *connbpf;
	/* The processes of recent connections, for attribution on the
	 * loop (appcache.h); made at start (conn_prepare()). */
	struct appcache *appcache;
	/* Worker answers on their way to it with a pidfd (__atomic: the
	 * worker counts up, the loop down; APPCACHE_INFLIGHT_MAX). */
	unsigned idents_inflight;
};

#endif
