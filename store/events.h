/*
 * events.h - the event log: one row per decision tollgated takes, in the
 * same SQLite database as the rules (store.h), written by the daemon's
 * event writer thread and read by "tollgate events".
 *
 * Fields as docs/events.md "The table": time, pid, uid, user, exe,
 * cmdline, the exe's SHA-256 (schema step 6), proto, source, destination
 * IP and port, name and where it came from, verdict, what decided it,
 * upstream, bytes each way, duration, flags.  Bytes and duration are
 * filled when the connection ends (events_close()).  A row of kind
 * EVENT_GAP stands for events that were
 * not recorded (the writer fell behind): "N events not recorded between
 * T1 and T2".
 *
 * The row is struct event_row, not struct event: that tag is libevent's,
 * and the daemon's writer sees both.
 *
 * Storage (schema step 3, see store.h): table events, one row per struct
 * event_row, enums as their lower-case words; besides the fields, exe_base
 * (the exe's last component) and rname (the name's labels reversed, with
 * a trailing dot: "www.a.test" is "test.a.www.") so that "this app" is an
 * equality and "this domain and every name under it" one range of rname
 * ("test.a." up to "test.a/"), no LIKE.  Indexes: (time_ms, exe_base,
 * rname) and gap rows (the one on conn_id went in step 9: a connection's
 * end finds its row by time and conn id).  A query walks its time span on the
 * first and checks app and domain there, reading only the rows that
 * match; an app or domain with no time bound reads the index back from
 * the newest row until limit rows match.  Indexes led by exe_base or rname
 * would make that instant, but every batch would rewrite a page per app
 * and per name in it and cut the insert rate by a third or a half.  What
 * these choices cost and save, measured: docs/storage.md.
 *
 * Durability: the event writes run with synchronous=NORMAL (set for their
 * transaction, FULL put back after; for good on a connection given to
 * events_dedicate()): in WAL mode a committed batch survives tollgated
 * crashing, and a power loss may lose the last batches written before the
 * last checkpoint, never the database.  Rule writes
 * keep FULL.  An fsync per batch would cost more than the batch itself,
 * for events nobody would miss.
 *
 * Threads: as store.h, one thread at a time per struct store.  Readers
 * (store_open(STORE_READONLY)) never block the writer and need no daemon.
 *
 * Errors: as store.h: err gets one line, a failed write changed nothing.
 *
 * store/ never includes anything from proxyd/, cli/ or prompt/.
 */
#ifndef TG_EVENTS_H
#define TG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h" /* enum action */
#include "common/name.h"
#include "store/store.h"

#define EVENT_EXE_MAX     4096
#define EVENT_CMDLINE_MAX 512
#define EVENT_USER_MAX    64
#define EVENT_IP_MAX      46 /* INET6_ADDRSTRLEN */
#define EVENT_SHA256_MAX  65 /* 64 hex digits and a NUL */

enum event_kind {
	EVENT_DECISION, /* one connection's decision */
	EVENT_GAP,      /* n_lost events were not recorded, first..last */
};

/* What decided: a rule, the default action, or why it was refused. */
enum event_decider {
	DECIDER_RULE,    /* rule_id */
	DECIDER_DEFAULT, /* default_action */
	DECIDER_PROMPT,  /* the user answered a prompt */
	DECIDER_TIMEOUT, /* no answer within prompt_timeout */
	DECIDER_PEEK,    /* malformed or incomplete first message */
	DECIDER_LOOP,    /* a connection to tollgated itself */
	DECIDER_OVERLOAD,
	DECIDER_NO_DST,
	DECIDER_NO_AGENT,    /* no prompt agent could be asked */
	DECIDER_PROMPT_FULL, /* past the broker's bounds: not asked */
	DECIDER_MISMATCH,    /* the name told and the name sent disagree */
	DECIDER_NO_ROUTE,    /* the rule's route names no upstream */
	DECIDER_FAKEIP,      /* a fake address with no name behind it */
	DECIDER_UDP,         /* guarded UDP, refused: tollgate proxies none */
	DECIDER_ENCDNS,      /* encrypted DNS, refused: block_encrypted_dns */
	DECIDER_SHARED,      /* a socket held by programs not all allowed */
	DECIDER_ABANDONED,   /* its client gave up waiting on a prompt */
	DECIDER_SHUTDOWN,    /* tollgated stopped while it waited on one */
};

/* Flags, OR-ed. */
#define EVENT_F_ECH      0x1 /* ClientHello offered ECH */
#define EVENT_F_MISMATCH 0x2 /* two name sources disagreed */
#define EVENT_F_UNKNOWN  0x4 /* unknown process */
#define EVENT_F_ENCDNS                                                         \
	0x8                        /* DNS over TLS (port 853) or to a known    \
	                            * DNS-over-HTTPS resolver */
#define EVENT_F_NOT_INSTALLED 0x10 /* runs another file than its exe path's */
#define EVENT_F_PRELOAD       0x20 /* LD_PRELOAD/_LIBRARY_PATH/LD_AUDIT set */
#define EVENT_F_USERNS        0x40 /* in a non-initial user namespace */
#define EVENT_F_SHARED        0x80 /* other programs hold the socket too */
#define EVENT_F_INTERRUPTED                                                    \
	0x100 /* still open when tollgated stopped without closing it (a       \
	       * crash, SIGKILL, or its end not written): bytes and duration   \
	       * are not known */

/*
 * One row.  Its numbers come first and its texts after, from user on
 * (event_row_pack() keeps the numbers as they are and only the used
 * bytes of each text).
 */
struct event_row {
	int64_t id; /* 0 until stored (events_insert() sets it) */
	enum event_kind kind;
	int64_t conn_id; /* tollgated's connection number (per run) */
	int64_t time_ms; /* Unix time of the decision, in ms; of a gap
	                  * row, when it was recorded */
	pid_t pid;       /* 0 = unknown */
	bool has_uid;
	uid_t uid;
	uint16_t src_port;
	uint16_t dst_port;
	enum action verdict;
	enum event_decider decider;
	int64_t rule_id; /* DECIDER_RULE */
	unsigned flags;
	/* filled when the connection ends; -1 until then */
	int64_t bytes_up, bytes_down, duration_ms;
	/* EVENT_GAP: how many were lost, and the first and last time */
	int64_t n_lost, lost_first_ms, lost_last_ms;
	/* The texts, each NUL-terminated within its array. */
	char user[EVENT_USER_MAX];
	char exe[EVENT_EXE_MAX]; /* "" = unknown process */
	char cmdline[EVENT_CMDLINE_MAX];
	char sha256[EVENT_SHA256_MAX]; /* of the file it runs, lower-case
	                                * hex; "" = not known */
	char proto[8];                 /* "tcp", "udp", "dns" */
	char src_ip[EVENT_IP_MAX];     /* the client */
	char dst_ip[EVENT_IP_MAX];
	char name[NAME_MAX_LEN + 1]; /* "" = none */
	char name_source[8];         /* "sni", "http", "socks", "fakeip",
	                              * "dns", "none" */
	char upstream[64];           /* "direct" or "socks5://..." */
};

/* Bounds. */
#define EVENTS_BATCH_MAX                                                       \
	4096                       /* rows per events_insert() or closes per   \
	                            * events_close_batch() */
#define EVENTS_TOP_MAX   100       /* top apps or domains in events_stats() */
#define EVENTS_HOURS_MAX (24 * 92) /* hour buckets in events_stats() */
#define EVENTS_HOUR_MS   3600000

const char *event_decider_str(enum event_decider d);

/* The word of each flag ("ech", "mismatch", "unknown", "encrypted-dns",
 * "not-installed", "preload", "userns", "shared-socket", "interrupted"),
 * in bit order: fn(word, arg) for each flag set in flags. */
void event_flags_each(unsigned flags, void (*fn)(const char *word, void *arg),
                      void *arg);

/* Whether s is a proto an event can have: "tcp", "udp" or "dns". */
bool event_proto_ok(const char *s);

/*
 * A row packed for a queue: its numbers, then each text's used bytes and
 * NUL, one after the other; a few hundred bytes where the row takes 5
 * KiB.  Texts must be terminated within their arrays, as events_write()
 * wants them (one that is not is cut to its array's size - 1). event_row_pack()
 * returns it malloc()ed (NULL: out of memory); event_row_unpack() fills a row
 * from it (the texts' unused bytes are left as they were).
 */
void *event_row_pack(const struct event_row *r);
void event_row_unpack(struct event_row *r, const void *packed);

/* A connection's end, for events_write() and events_close_batch(). */
struct event_close {
	int64_t conn_id;
	int64_t time_ms; /* its decision row's */
	int64_t bytes_up, bytes_down, duration_ms;
	/* Where it went, when that is known only after the decision (a fake
	 * IP's name resolved): replaces the row's destination.  "": kept. */
	char dst_ip[EVENT_IP_MAX];
	uint16_t dst_port;
};

/*
 * The writer's call: in one transaction (all or nothing), insert the
 * rows ev[0..n), then fill bytes_up, bytes_down and duration_ms (and the
 * destination, when c[i].dst_ip is set) of the newest decision row of
 * each c[i].conn_id and c[i].time_ms (n and nc from 0 to
 * EVENTS_BATCH_MAX, not both 0).  Rows first, so a connection's decision
 * and its end may come in the same call.  One call per batch whatever the
 * mix: a transaction costs about as much as a few hundred rows.
 *
 * Rows: ev[i].id is ignored, and set to the new row's id on success (ids
 * grow with every insert and never go back, so a reader can follow with
 * after_id); nothing is changed on failure.  Strings must be terminated
 * within their arrays; bytes_up, bytes_down and duration_ms are stored as
 * given (-1: not closed yet).  A row of kind EVENT_GAP keeps only
 * time_ms, n_lost, lost_first_ms and lost_last_ms.
 *
 * Ends: conn ids restart when tollgated restarts, so a row is found by
 * its time too (on the time index: no index of its own); an end always
 * follows its decision in the same run, so the newest row of both is its
 * row.  An end with no row (pruned meanwhile, or never written) is
 * skipped.
 *
 * Rows go in batches (the writer's are up to 512 rows; rates in
 * docs/storage.md), giving way to the threads waiting for the CPU every
 * few rows (sched_yield()).  Returns how many rows the ends filled, or -1
 * + err (nothing written).
 */
int events_write(struct store *s, struct event_row *ev, size_t n,
                 const struct event_close *c, size_t nc, char *err,
                 size_t errlen);

/*
 * Make s a connection that writes events only (tollgated's event
 * writer): synchronous=NORMAL and the events' checkpoint interval are set
 * once, for good, instead of around each batch.  Its statements also skip
 * the table's CHECK constraints (ignore_check_constraints): every row is
 * checked before it is bound (the kind, verdict and uid those
 * constraints check, and more), and SQLite checks "verdict IN ('allow',
 * 'deny', 'reject')" through a temporary b-tree it builds for every row,
 * a third of a row's CPU (docs/storage.md).  Rule writes must
 * not go through s afterwards.  0, or -1 + err (s may be left at NORMAL:
 * a pragma fails only when SQLite is out of memory).
 */
int events_dedicate(struct store *s, char *err, size_t errlen);

/* events_write() of rows only (0 < n): 0 or -1 + err. */
int events_insert(struct store *s, struct event_row *ev, size_t n, char *err,
                  size_t errlen);

/* events_write() of ends only (0 < n): how many rows were filled, or
 * -1 + err. */
int events_close_batch(struct store *s, const struct event_close *c, size_t n,
                       char *err, size_t errlen);

/* events_close_batch() for one connection: 1, 0 (no row) or -1 + err. */
int events_close(struct store *s, int64_t conn_id, int64_t time_ms,
                 int64_t bytes_up, int64_t bytes_down, int64_t duration_ms,
                 char *err, size_t errlen);

/*
 * Delete rows older than max_age_s seconds before now_ms (time_ms <
 * now_ms - max_age_s * 1000), then rows beyond the newest max_rows (by
 * id), oldest first, at most step (> 0) rows in all, in one short
 * transaction.  0 for max_age_s or max_rows means no limit of that kind.
 * Meant to be called again and again in the background until it returns
 * less than step.  Returns how many rows it deleted, or -1 + err (none).
 */
int64_t events_prune(struct store *s, int64_t max_age_s, int64_t max_rows,
                     int64_t now_ms, size_t step, char *err, size_t errlen);

/*
 * At tollgated's start, before its first decision: flag EVENT_F_INTERRUPTED
 * on every allowed TCP decision row still open (bytes_up -1), as these are
 * the connections of a run that ended without recording their ends (a
 * DNS query's row has no end, and a refused connection's none either).  Their
 * bytes and duration stay -1 (not known).  Returns how many rows it
 * flagged, or -1 + err (none).
 */
int64_t events_interrupt_open(struct store *s, char *err, size_t errlen);

/* The largest id stored, 0 when there is none, or -1 + err. */
int64_t events_max_id(struct store *s, char *err, size_t errlen);

/*
 * What events_query() selects.  Zero it (memset or = {0}) for "every
 * row", then set what narrows it; every condition set must hold.
 */
struct events_filter {
	const char *app;    /* NULL: any.  With a '/': exe is exactly app;
	                     * without: the exe's last component is app */
	const char *domain; /* NULL: any.  The name domain and every name
	                     * under it: "a.test" matches "a.test" and
	                     * "x.a.test", not "xa.test".  Normalised like
	                     * name_normalise() (case, trailing dot); a
	                     * domain that is not a name is an error */
	bool has_verdict;
	enum action verdict;
	const char *proto; /* NULL: any; else "tcp", "udp" or "dns" (an
	                    * event's proto), anything else an error */
	int64_t since_ms;  /* 0: no bound; else time_ms >= since_ms */
	int64_t until_ms;  /* 0: no bound; else time_ms < until_ms */
	pid_t pid;         /* 0: any */
	bool has_uid;
	uid_t uid;
	bool no_gaps;     /* leave gap rows out */
	size_t limit;     /* 0: every matching row */
	int64_t after_id; /* > 0: only rows with id > after_id (follow) */
};

/*
 * Gap rows carry no app, name, verdict, pid or uid: they are in the
 * answer whenever their time_ms is within since/until and their id is
 * after after_id, whatever the other conditions, since the events they
 * stand for may have matched them (unless no_gaps).
 *
 * Call fn(row, arg) for each row that f selects, oldest first:
 *  - after_id == 0: the newest limit matching rows (all when limit is 0),
 *    in time order (time_ms, then id);
 *  - after_id > 0: the first limit matching rows with id > after_id (all
 *    when limit is 0), in id order, so a follower that passes the last id
 *    it saw misses nothing.
 * row is valid during the call only.  fn returns 0 to go on, or a
 * positive value to stop: events_query() then returns that value.  One read
 * transaction: the rows are one consistent picture.  Returns 0 when every
 * row was seen, fn's value when it stopped, or -1 + err.
 */
int events_query(struct store *s, const struct events_filter *f,
                 int (*fn)(const struct event_row *row, void *arg), void *arg,
                 char *err, size_t errlen);

/* One app (exe) or one domain (name) in events_stats(). */
struct events_top {
	char key[EVENT_EXE_MAX]; /* exe, or name */
	int64_t count;           /* decisions */
	int64_t denied;          /* of which deny or reject */
};

struct events_stats {
	int64_t since_ms, until_ms; /* as asked */
	int64_t total;              /* decisions */
	int64_t denied;             /* decisions deny or reject */
	int64_t unnamed;            /* decisions without a name */
	int64_t gaps, lost;         /* gap rows, sum of their n_lost */
	struct events_top *apps;    /* by count, most first, then key */
	size_t n_apps;
	struct events_top *domains; /* names, not "" */
	size_t n_domains;
	int64_t *hours; /* hours[i]: decisions with time_ms in [since_ms +
	                 * i h, since_ms + (i + 1) h) */
	size_t n_hours; /* (until_ms - since_ms) / 1 h, rounded up */
};

/*
 * Count the decisions with since_ms <= time_ms < until_ms (until_ms -
 * since_ms between 1 ms and EVENTS_HOURS_MAX hours): totals, the top n_top
 * (<= EVENTS_TOP_MAX) apps and domains, and one bucket per hour from
 * since_ms (pass an hour's start for clock hours).  One read transaction.
 * *st is filled (arrays malloc()ed, NULL when empty) and freed with
 * events_stats_free(), also after a failure.  Returns 0 or -1 + err.
 */
int events_stats(struct store *s, int64_t since_ms, int64_t until_ms,
                 size_t n_top, struct events_stats *st, char *err,
                 size_t errlen);
void events_stats_free(struct events_stats *st);

#endif
