/*
 * eventlog.h - tollgated's event writer: every decision becomes a row of
 * the event log (store/events.h), and every allowed connection's bytes and
 * duration are added when it ends.
 *
 * The loop only queues (a copy, never a wait); a writer thread of its own,
 * with its own connection to the database (given to events only:
 * events_dedicate()), stores the queue in batches, one transaction each
 * (rows gather for EVENTLOG_LINGER_MS first, EVENTLOG_LINGER_BUSY_MS
 * while the last batch had EVENTLOG_BUSY_ITEMS items or more, so a busy
 * daemon writes many rows per transaction; a row is in the database at
 * most that much later than it would be otherwise).  A connection that
 * ends within the batch of its decision is written once, its row whole;
 * a longer one gets its row with the batch and an update at its end.  The
 * writer prunes by age and row count in small steps every few seconds.  The
 * queue is bounded (event_queue): when it is full, events are counted instead
 * of queued, and the first one that fits again is preceded by a gap row, "N
 * events not recorded between T1 and T2": the log says what it lost, never
 * silently.  A writer that cannot write (database locked or failing) keeps its
 * batch and tries again; the loop is never held up by it.
 *
 * Each decision and each end of an allowed connection is also one log
 * line, key=value, greppable ("decision conn=N verdict=... reason=...",
 * "close conn=N up=... down=..."), made here and only when printed.
 */
#ifndef TG_EVENTLOG_H
#define TG_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxyd/attr.h"
#include "proxyd/peek.h"
#include "proxyd/proxyd.h"
#include "proxyd/reason.h"
#include "store/events.h"

/* Rows per transaction, at most; how long the writer lets rows gather
 * before a transaction that is not full: when quiet, and while busy (the
 * batch before had EVENTLOG_BUSY_ITEMS items or more, i.e. 400 events a
 * second and up).  A transaction costs about as much as ten rows. */
#define EVENTLOG_BATCH          512
#define EVENTLOG_LINGER_MS      20
#define EVENTLOG_LINGER_BUSY_MS 100
#define EVENTLOG_BUSY_ITEMS     8
/* How often an idle writer wakes to prune, and rows per prune step. */
#define EVENTLOG_PRUNE_EVERY_S 10
#define EVENTLOG_PRUNE_STEP    2000
/* A writer whose write failed waits this long before trying again. */
#define EVENTLOG_RETRY_MS 250
/* The longest decision line (longer values are cut). */
#define EVENTLOG_LINE_MAX 2048

struct eventlog;

/* Open the writer's database connection (as root, before the privilege
 * drop; rulesvc_open() has created and migrated the file), and account
 * for what the last run left: its rows still open are flagged
 * EVENT_F_INTERRUPTED, and the events its exit counted in
 * DATABASE-unwritten (store/unwritten.h) become a gap row.  0, or -1 +
 * err (only the database itself stops the start; the rest is logged). */
int eventlog_open(struct proxyd *pd, char *err, size_t errlen);

/* Start the writer thread (after the privilege drop).  0 or -1 (logged). */
int eventlog_start(struct proxyd *pd);

/* Write what is queued, stop the thread, close the database.  What
 * cannot be written (a full disk) is given up and counted: a gap row now
 * if the database takes one, else in DATABASE-unwritten for the next
 * start; the log says which. */
void eventlog_stop(struct proxyd *pd);

/* One decision, as the log line and the event row record it. */
struct decision {
	uint64_t id; /* the connection's */
	enum action verdict;
	enum reason reason;
	int64_t rule_id;       /* REASON_RULE */
	uint64_t prompt_id;    /* REASON_PROMPT*: the prompt */
	const struct app *app; /* NULL: refused before attribution */
	const struct sockaddr *client;
	const struct sockaddr *dst;   /* AF_UNSPEC: known only by name */
	uint16_t port;                /* the destination's port */
	const struct peek_info *peek; /* NULL: refused before the peek */
	unsigned flags;               /* EVENT_F_* */
	const char *error;            /* why the peek was invalid, or NULL */
	const char *proto;            /* "tcp" when NULL; "dns" */
	const char *upstream;         /* the way out: "direct", or the
	                               * route's upstream ("upstream",
	                               * NAME of upstream.NAME) */
};

/*
 * On the loop: record a decision, its log line (at info level) and its
 * event row; a refusal of a known user also goes to the broker, which
 * tells that user's agents when notify_denials is set (broker_refused()).
 * Returns the row's time (Unix ms) when it was queued, for the
 * connection's end (eventlog_end()); 0 when it was counted for a gap row
 * instead.
 */
int64_t eventlog_decision(struct proxyd *pd, const struct decision *d);

/* On the loop: n events that could not even be made (out of memory);
 * they go into the next gap row. */
void eventlog_lost(struct proxyd *pd, int64_t n);

/*
 * On the loop: the end of an allowed connection, with the bytes each way
 * and how long it lasted; error says why it ended when that was not an
 * orderly close from both sides (else NULL).  Its log line always; the
 * update of its event row only when row_time_ms is not 0 (what
 * eventlog_decision() returned: the row is found by its time and conn
 * id).
 * dst, when not NULL, is where it went after all (a fake IP's name,
 * resolved after the decision): the row's destination becomes it.
 */
void eventlog_end(struct proxyd *pd, uint64_t conn_id, int64_t row_time_ms,
                  const struct sockaddr *dst, uint64_t bytes_up,
                  uint64_t bytes_down, int64_t duration_ms, const char *error);

#endif
