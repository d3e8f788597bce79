/*
 * conn.h - one intercepted connection, from accept to close.
 *
 * States, in order (each callback in conn.c says which it expects):
 *   CONN_PEEK        reading the client's first bytes for a name, while
 *                    the worker thread finds the owning process
 *   CONN_DECIDE      peek and attribution done: the verdict is taken
 *   CONN_PARKED      no rule decides: waiting on a prompt (broker.h),
 *                    its peeked bytes kept, nothing sent onward; the
 *                    client closing it ends it
 *   CONN_CONNECT     allowed: connecting to the original destination
 *   CONN_SEND_PEEKED writing the peeked bytes to the destination
 *   CONN_WATCH       a client that sent nothing within peek_timeout was
 *                    decided without a name and connected; if it speaks
 *                    before the server does after all, its first message
 *                    is peeked and the connection decided again with the
 *                    name (so waiting cannot dodge a name rule); if the
 *                    server speaks first, it is a server-first protocol
 *   CONN_RELAY       splicing both ways until both sides close
 * A refused connection is reset and freed straight from CONN_DECIDE.
 *
 * A conn lives in proxyd.conns and owns its two sockets.  While its
 * attribution job is on the worker thread it cannot be freed: conn_close()
 * then only marks it, and the job's completion frees it.
 */
#ifndef TG_CONN_H
#define TG_CONN_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "common/addr.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/peek.h"
#include "proxyd/proxyd.h"
#include "proxyd/relay.h"
#include "proxyd/worker.h"

enum conn_state {
	CONN_PEEK,
	CONN_DECIDE,
	CONN_PARKED, /* waiting for the user's answer */
	CONN_CONNECT,
	CONN_SEND_PEEKED,
	CONN_WATCH, /* silent client, connected: who speaks first? */
	CONN_RELAY,
	CONN_DEAD, /* closed, waiting for its attribution job */
};

/* Why a connection got its verdict; printed as reason= in the log. */
enum conn_reason {
	REASON_DEFAULT,        /* default_action: no rule decided */
	REASON_RULE,           /* a rule decided: rule_id */
	REASON_PEEK_INVALID,   /* malformed or oversize TLS/HTTP head */
	REASON_PEEK_TIMEOUT,   /* name still incomplete at peek_timeout */
	REASON_LOOP,           /* destination is tollgated itself */
	REASON_NO_DST,         /* no original destination: not redirected */
	REASON_OVERLOAD,       /* max_connections reached */
	REASON_PROMPT,         /* the user answered prompt_id */
	REASON_PROMPT_TIMEOUT, /* no answer within prompt_timeout */
	REASON_NO_AGENT,       /* no prompt agent to ask */
	REASON_PROMPT_FULL,    /* past the broker's bounds */
};

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct proxyd *pd;
	uint64_t id;
	enum conn_state state;
	int cfd;                        /* the client */
	int sfd;                        /* the destination, -1 until connect */
	struct sockaddr_storage client; /* the client's address */
	struct sockaddr_storage dst;    /* original destination */
	struct timespec started;
	time_t last_active; /* monotonic seconds, for idle */

	/* CONN_PEEK */
	uint8_t *peek_buf;
	size_t peek_len, peek_cap, peek_sent;
	struct peek_info peek;
	enum peek_result peek_res;
	bool peek_done;
	struct event *cev;   /* client readable / dest writable */
	struct event *timer; /* peek_timeout, then connect_timeout */

	/* attribution, run on the worker thread */
	struct worker_job job;
	bool attr_pending;
	bool attr_done;
	struct app *app; /* until the decision: most of a conn's size */

	enum action verdict;
	enum conn_reason reason;
	int64_t rule_id;   /* REASON_RULE */
	bool event_queued; /* its decision row went to the event log */
	bool silent;       /* nothing within peek_timeout: CONN_WATCH next */
	/* CONN_PARKED: the prompt it waits on (broker.c's), and the one
	 * that decided it, for the log */
	struct prompt *prompt;
	TAILQ_ENTRY(conn) park_entry;
	uint64_t prompt_id;
	struct event *sev; /* CONN_WATCH: the destination spoke */
	struct relay relay;
	bool relaying;
};

/*
 * Take a freshly accepted client socket (non-blocking) whose original
 * destination is dst.  Starts the peek and the attribution.  The conn is
 * freed by itself when it ends; on allocation failure the socket is reset
 * and closed.
 */
void conn_accept(struct proxyd *pd, int fd, const struct sockaddr *client,
                 const struct sockaddr *dst);

/*
 * Refuse a client socket without a conn (overload, no destination, loop):
 * log one decision line with the reason and reset it.
 */
void conn_refuse_early(struct proxyd *pd, int fd, const struct sockaddr *client,
                       const struct sockaddr *dst, enum conn_reason reason);

/*
 * The broker's verdict for a connection it had parked (c->prompt already
 * cleared): record it and act on it.  c may be freed.
 */
void conn_prompt_done(struct conn *c, enum action verdict,
                      enum conn_reason reason);

/*
 * A parked connection, after the rules changed: when a rule decides it
 * now, it leaves its prompt with that verdict (c may be freed).
 */
void conn_prompt_rejudge(struct conn *c);

/* Close idle relayed connections; called from a periodic timer. */
void conn_sweep_idle(struct proxyd *pd);

/* Reset and free every connection (shutdown). */
void conn_close_all(struct proxyd *pd);

const char *conn_reason_str(enum conn_reason r);

/*
 * The one way to log a line about a connection: prefixes
 * "conn N CLIENT -> DST: " so a log can be read per connection.
 */
void conn_log(const struct conn *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
