/*
 * conn.h - one intercepted connection, from accept to close.
 *
 * A connection comes in through a front (front.h), is judged, and goes
 * onward through an upstream (upstream.h).  Its states, in the order a
 * connection usually meets them:
 *
 *   CONN_REQUEST     a proxy front's client: reading its request (where
 *                    to, and the name), while the worker thread finds the
 *                    owning process
 *   CONN_PEEK        reading the client's first bytes for a name, while
 *                    the worker thread finds the owning process
 *   CONN_ATTR_WAIT   the peek is done; the attribution is not yet
 *   CONN_DECIDE      both done: the verdict is being taken (and acted on:
 *                    every verdict, also a prompt's, is acted on here)
 *   CONN_PARKED      no rule decides: waiting on a prompt (broker.h), its
 *                    peeked bytes kept, nothing sent onward; the client
 *                    closing it ends it
 *   CONN_RESOLVE     allowed, direct, and known only by name: resolving
 *                    it (evdns)
 *   CONN_CONNECT     allowed: connecting onward (the upstream's open)
 *   CONN_UPSTREAM    connected to a SOCKS5 upstream: handing it the
 *                    destination (socks5c.h); then the client is told
 *                    "granted" (a proxy front's reply)
 *   CONN_SEND_PEEKED writing the peeked bytes onward
 *   CONN_WATCH       a client that sent nothing within peek_timeout was
 *                    decided without a name and connected; if it speaks
 *                    before the server does after all, its first message
 *                    is peeked and the connection decided again with the
 *                    name (so waiting cannot dodge a name rule); if the
 *                    server speaks first, it is a server-first protocol
 *   CONN_RELAY       splicing both ways until both sides close
 *   CONN_DEAD        closed; freed once its attribution job is back
 *
 *   PEEK -> ATTR_WAIT -> DECIDE -> CONNECT -> SEND_PEEKED -> RELAY
 *   PEEK -> DECIDE (attribution first)      DECIDE -> PARKED -> DECIDE
 *   REQUEST -> PEEK (bytes after the request) | ATTR_WAIT | DECIDE
 *   DECIDE -> RESOLVE -> CONNECT -> UPSTREAM -> SEND_PEEKED
 *   SEND_PEEKED -> WATCH -> RELAY | DECIDE | SEND_PEEKED
 *   DECIDE -> SEND_PEEKED (decided again, connected already)
 *   any -> DEAD
 * conn_set_state() is the only writer of the state and refuses any other
 * step (conn_state_allowed()); each callback checks the states it expects.
 *
 * A conn lives in proxyd.conns and owns its two sockets.  While its
 * attribution job is on the worker thread it cannot be freed: closing it
 * then only makes it CONN_DEAD, and the job's completion frees it.
 */
#ifndef TG_CONN_H
#define TG_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/broker.h"
#include "proxyd/connbpf.h"
#include "proxyd/front.h"
#include "proxyd/hashq.h"
#include "proxyd/peek.h"
#include "proxyd/proxyd.h"
#include "proxyd/reason.h"
#include "proxyd/relay.h"
#include "proxyd/socks5c.h"
#include "proxyd/upstream.h"
#include "proxyd/worker.h"

struct evdns_getaddrinfo_request;
struct evutil_addrinfo;

/* Where an accepted client came from. */
struct conn_origin {
	const struct sockaddr *client; /* its address; NULL for a unix
	                                * socket's client */
	const struct sockaddr *local;  /* what its socket is connected to:
	                                * the original destination, or our
	                                * proxy listener's address (NULL for
	                                * a unix socket) */
	const struct sockaddr *dst;    /* transparent: where it wants to
	                                * go; NULL for a proxy front, whose
	                                * request says */
	const struct sockaddr *self;   /* redirected: our own address it
	                                * reached, to ask conntrack for its
	                                * original source (ctorig.h); NULL
	                                * otherwise */
	bool has_cred;                 /* a unix client's SO_PEERCRED */
	pid_t pid;
	uid_t uid;
	const char *via; /* the front's route (its KEY.NAME), NULL or "" for
	                  * `upstream` */
};

enum conn_state {
	CONN_REQUEST,
	CONN_PEEK,
	CONN_ATTR_WAIT,
	CONN_DECIDE,
	CONN_PARKED,
	CONN_RESOLVE,
	CONN_CONNECT,
	CONN_UPSTREAM,
	CONN_SEND_PEEKED,
	CONN_WATCH,
	CONN_RELAY,
	CONN_DEAD,
	CONN_STATE_COUNT
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct proxyd *pd;
	uint64_t id;
	enum conn_state state; /* conn_set_state() only */
	const struct front *front;
	void *fstate; /* a proxy front's state, until the relay */
	/* What a proxy client asked for (its name, its own user name); NULL
	 * for a transparent one. */
	struct front_ask *ask;
	const struct upstream *up;
	const struct config_upstream *route; /* NULL: direct */
	int cfd;                             /* the client */
	int sfd;                             /* onward, -1 until connecting */
	struct sockaddr_storage client;      /* the client's address (AF_UNSPEC
	                                      * for a unix client) */
	struct sockaddr_storage local;       /* its socket's other end */
	struct sockaddr_storage self;        /* redirected: our address it
	                                      * reached (else AF_UNSPEC) */
	int64_t repin; /* the pinned rule that would have decided but for
	                * its digest (the app changed), else 0 */
	bool has_cred; /* a unix client: pid and uid */
	pid_t peer_pid;
	uid_t peer_uid;
	struct sockaddr_storage dst; /* where the client wants to go: an IP
	                              * (AF_UNSPEC while only named) */
	uint16_t port;               /* the destination's port */
	struct timespec started;
	time_t last_active;  /* monotonic seconds, for idle */
	struct event *cev;   /* the client socket's, for its life */
	struct event *sev;   /* the onward socket's, for its life */
	struct event *timer; /* peek_timeout, connect_timeout, parked checks */

	/* The first bytes, kept until they are sent onward.  A client that
	 * sent none when it was decided (peek_len 0) is watched once
	 * connected (CONN_WATCH). */
	uint8_t *peek_buf;
	size_t peek_len, peek_cap, peek_sent;
	struct peek_info peek;
	enum peek_result peek_res;

	/* Attribution, run on the worker thread: while attr_pending the
	 * worker owns app, attr_sock and the addresses. */
	struct worker_job job;
	struct attr_sock attr_sock; /* between its two jobs (conn.c) */
	struct connbpf_rec rec;     /* its SYN record (conn_attr_by_syn) */
	struct attr_ident ident;    /* the answer's, for pd->appcache */
	bool ident_counted;         /* in pd->idents_inflight */
	bool attr_pending;
	/* Waiting in CONN_ATTR_WAIT, after a first look at the rules, for
	 * its file's digest (hashq.h); digest_waited: once at most. */
	struct hashq_waiter digest_wait;
	bool digest_waited;
	struct app *app; /* until the decision: most of a conn's size */
	/* Counted in pd->pending for pending_uid from when its uid is
	 * known until it leaves the peek and attribution stages; over_share:
	 * its uid had max_pending_per_user already (refused). */
	bool pending_held, over_share;
	uid_t pending_uid;

	enum action verdict;
	enum reason reason;
	int64_t rule_id;                        /* REASON_RULE */
	char via[CONFIG_UPSTREAM_NAME_MAX + 1]; /* its rule's route, "" */
	/* The front's route, taken when the rule names none; "": upstream */
	char front_via[CONFIG_UPSTREAM_NAME_MAX + 1];
	struct s5c *s5;                        /* CONN_UPSTREAM */
	struct evdns_getaddrinfo_request *dns; /* CONN_RESOLVE */
	bool dns_calling;                      /* inside evdns_getaddrinfo */
	bool dns_done;                         /* its answer came */
	bool dst_resolved; /* dst is the name's address, found after the
	                    * decision (its event row has the fake IP) */
	int dns_err;
	struct evutil_addrinfo *dns_res;
	int64_t event_time_ms; /* its decision row's time (eventlog_decision());
	                        * 0: the row was not queued */
	struct broker_waiter wait; /* CONN_PARKED: its prompt */
	struct relay relay;        /* CONN_RELAY */
};

/*
 * Once the worker runs, before the first connection: the loop's cache of
 * processes and user names made (appcache.h), and the guarded users'
 * names asked of the worker (the first APPCACHE_USERS of them), so that
 * the refusals of a flood over max_pending_per_user are named from the
 * first.  Made later, when first
 * needed, should this fail.
 */
void conn_prepare(struct proxyd *pd);

/*
 * Take a freshly accepted client socket (non-blocking) that came in
 * through front.  Starts the request's read (a proxy front) or the peek
 * (transparent: o->dst is where it goes), and the attribution.  The conn
 * frees itself when it ends; on allocation failure the socket is reset
 * and closed.
 */
void conn_accept(struct proxyd *pd, const struct front *front, int fd,
                 const struct conn_origin *o);

/*
 * Refuse a client socket without a conn (overload, no destination, loop):
 * record the decision with the reason and reset it.
 */
void conn_refuse_early(struct proxyd *pd, int fd, const struct sockaddr *client,
                       const struct sockaddr *dst, enum reason reason);

/* Close idle relayed connections; called from a periodic timer. */
void conn_sweep_idle(struct proxyd *pd);

/* Reset and free every connection (shutdown, after the worker stopped). */
void conn_close_all(struct proxyd *pd);

/* The state machine's table, for logs and tests. */
const char *conn_state_name(enum conn_state s);
bool conn_state_allowed(enum conn_state from, enum conn_state to);

/*
 * The one way to log a line about a connection: prefixes
 * "conn N CLIENT -> DST: " so a log can be read per connection.
 */
void conn_log(const struct conn *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
