/*
 * relay.h - move bytes between two sockets with splice(2).
 *
 * A relay has two directions (client → server "up", server → client
 * "down").  Each direction borrows a pipe from a shared pool only while it
 * holds bytes in flight, so an idle relayed connection costs two sockets and
 * no pipe.  Back-pressure: while a direction cannot write, it stops reading.
 * Half-close: EOF from one side, once its bytes are written, becomes
 * shutdown(SHUT_WR) on the other, unless the other way has ended too: the
 * relay then ends at once and the owner's close() sends that FIN.  The
 * relay ends when both directions have seen EOF, or at the first error,
 * and then calls its end callback once.
 */
#ifndef TG_RELAY_H
#define TG_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

/* Spare pipes kept for reuse; more are made on demand, bounded by fds. */
#define RELAY_POOL_MAX 256
/* Pipe capacity asked for (F_SETPIPE_SZ; the default 64 KiB stays when the
 * kernel refuses) and bytes moved per splice call: bigger moves mean fewer
 * system calls per byte.  Calls per readiness event are bounded, so one busy
 * connection cannot starve the others. */
#define RELAY_PIPE_SIZE (256 * 1024)
#define RELAY_CHUNK     RELAY_PIPE_SIZE
#define RELAY_ROUNDS    16

struct relay_pool;

struct relay_pool *relay_pool_new(void);
void relay_pool_free(struct relay_pool *pool);
/* Pipes in use and spare, for status and benchmarks. */
void relay_pool_counts(const struct relay_pool *pool, unsigned *in_use,
                       unsigned *spare);

enum relay_end {
	RELAY_END_EOF,   /* both sides closed their writing half */
	RELAY_END_ERROR, /* a read or write failed (reset, ...) */
};

struct relay_dir {
	int from, to;
	struct event *rev; /* `from` readable: the caller's (relay_start) */
	struct event *wev; /* `to` writable: the relay's, made when first
	                    * needed (a write that had to wait) */
	int pipe[2];       /* -1 when none borrowed */
	size_t in_pipe;    /* bytes in the pipe, not yet written */
	uint64_t bytes;    /* bytes written to `to` */
	bool eof;          /* read 0 from `from` */
	bool shut;         /* shutdown(to, SHUT_WR) done */
};

struct relay {
	struct event_base *base;
	struct relay_pool *pool;
	struct relay_dir up, down;
	void (*on_end)(struct relay *, enum relay_end, int err, void *arg);
	void (*on_activity)(void *arg);
	void *arg;
	bool ended;
};

/*
 * Start relaying between the connected, non-blocking sockets cfd and sfd.
 * The relay does not own or close the sockets, nor their read events:
 * crev and srev are the caller's events on cfd and sfd, EV_READ |
 * EV_PERSIST, whose callbacks call relay_readable() (one event per socket
 * for the connection's whole life: a state machine that watched the
 * socket already need not delete and add it again).  The relay adds and
 * deletes them as back-pressure says; its write events are its own.
 * on_activity is called whenever bytes move (for idle timeouts); on_end
 * once, from a callback, after which the relay is stopped and
 * relay_stop() only frees what is left.  Returns 0, or -1 if an event
 * could not be added.
 */
int relay_start(struct relay *r, struct event_base *base,
                struct relay_pool *pool, int cfd, int sfd, struct event *crev,
                struct event *srev,
                void (*on_end)(struct relay *, enum relay_end, int, void *),
                void (*on_activity)(void *), void *arg);

/* crev (up: the client's bytes) or srev (down) fired: move what can be
 * moved.  Only while the relay runs (not after on_end). */
void relay_readable(struct relay *r, bool up);

/* Stop: the read events deleted (not freed: the caller's), the relay's
 * own events freed, borrowed pipes given back (a pipe holding bytes is
 * closed, not returned).  Safe to call more than once and after
 * on_end. */
void relay_stop(struct relay *r);

#endif
