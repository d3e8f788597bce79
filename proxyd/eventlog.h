/*
 * eventlog.h - tollgated's event writer: every decision becomes a row of
 * the event log (store/events.h), and every allowed connection's bytes and
 * duration are added when it ends.
 *
 * The loop only queues (a copy, never a wait); a writer thread of its own,
 * with its own connection to the database, stores the queue in batches,
 * one transaction each, and prunes by age and row count in small steps
 * every few seconds.  The queue is bounded (event_queue): when it is full, events
 * are counted instead of queued, and the first one that fits again is
 * preceded by a gap row, "N events not recorded between T1 and T2": the
 * log says what it lost, never silently.  A writer that cannot write
 * (database locked or failing) keeps its batch and tries again; the loop
 * is never held up by it.
 */
#ifndef TG_EVENTLOG_H
#define TG_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxyd/proxyd.h"
#include "store/events.h"

/* Rows per transaction, at most. */
#define EVENTLOG_BATCH 512
/* How often an idle writer wakes to prune, and rows per prune step. */
#define EVENTLOG_PRUNE_EVERY_S 10
#define EVENTLOG_PRUNE_STEP    2000
/* A writer whose write failed waits this long before trying again. */
#define EVENTLOG_RETRY_MS 250

struct eventlog;

/* Open the writer's database connection (as root, before the privilege
 * drop; rulesvc_open() has created and migrated the file).  0, or -1 +
 * err. */
int eventlog_open(struct proxyd *pd, char *err, size_t errlen);

/* Start the writer thread (after the privilege drop).  0 or -1 (logged). */
int eventlog_start(struct proxyd *pd);

/* Write what is queued, stop the thread, close the database. */
void eventlog_stop(struct proxyd *pd);

/* On the loop: queue a decision row, malloc()ed; the log owns it now.
 * False when it could not be queued (it is counted for a gap row). */
bool eventlog_decision(struct proxyd *pd, struct event_row *ev);

/* On the loop: n events that could not even be made (out of memory);
 * they go into the next gap row. */
void eventlog_lost(struct proxyd *pd, int64_t n);

/* On the loop: queue the end of an allowed connection. */
void eventlog_close(struct proxyd *pd, int64_t conn_id, uint64_t bytes_up,
                    uint64_t bytes_down, int64_t duration_ms);

#endif
