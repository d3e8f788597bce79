/*
 * events.h - what the files of "tollgate events" share, and nothing else
 * includes: the state of one invocation (struct ev_ctx), showing rows
 * (events.c), one event as a table row or a JSON line (events_row.c),
 * and following (events_follow.c).
 */
#ifndef TG_CLI_EVENTS_H
#define TG_CLI_EVENTS_H

#include <sys/stat.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/name.h"
#include "store/events.h"
#include "store/store.h"

#define EVENTS_POLL_MS      200  /* --follow: how often to look */
#define EVENTS_SOCK_POLL_MS 1000 /* --follow through tollgated */
#define EVENTS_MEASURE_MAX  5000 /* rows held to fit the columns */
#define EVENTS_ERRLEN       5120
#define EVENTS_DEST_MIN     16 /* the name column's width, at least */

/* The options of one invocation; NULL or false when not given. */
struct ev_args {
	const char *app, *domain, *verdict, *proto, *since, *until, *pid, *uid;
	const char *limit;
	bool wide, json, follow, ascii;
};

struct ev_ctx {
	struct cli_who who; /* "events" or "events stats" */
	struct config cfg;
	struct ev_args a;
	struct cli_term term;
	struct events_filter f;
	char app[PATH_MAX];
	char domain[NAME_MAX_LEN + 1];
	time_t now;
	struct table t;
	bool hold;       /* hold rows to measure the columns */
	int64_t max_id;  /* the largest id shown */
	int64_t last_ms; /* the newest time shown */
	size_t n_shown;
	int cb_error;     /* errno of a failed write */
	int64_t sock_top; /* through tollgated: the last id it looked at */
};

enum ev_open_rc {
	EV_OPEN_OK,
	EV_OPEN_MISSING, /* no file at the path */
	EV_OPEN_ERROR,   /* err says why */
};

/*
 * Which files a database is: its own, its -wal and its -shm (ino 0: that
 * one was not there).  SQLite reads a database through all three, so a
 * database replaced file by file (a restore) is another one as soon as
 * any of them is: the new file read with the old -wal would show the
 * old one's pages for good.
 */
#define EV_FILES 3
struct ev_files {
	dev_t dev[EV_FILES];
	ino_t ino[EV_FILES];
};

/*
 * Open the database read-only into *s, and tell which files it is as
 * they were just before it was opened (*files), so that a follower sees
 * any replacement from then on (events.c).
 */
enum ev_open_rc ev_open(struct ev_ctx *ctx, struct store **s,
                        struct ev_files *files, char *err, size_t errlen);

/*
 * Whether path is no longer the database that files describe: its own
 * file is gone or another, or a -wal or -shm that was there is another
 * file now (one that came or went is SQLite's own doing).
 */
bool ev_replaced(const char *path, const struct ev_files *files);

/*
 * Show what f selects (after_id 0: the newest f.limit rows, oldest
 * first), from s, or from tollgated when s is NULL (cli_events_sock()). Returns
 * 0; -1 with err set when the database failed; or EV_WRITE_FAILED after saying
 * why stdout failed (the command is over). Exits 0 when stdout is a pipe that
 * was closed.
 */
#define EV_WRITE_FAILED (-2)

int ev_show(struct ev_ctx *ctx, struct store *s, const struct events_filter *f,
            char *err, size_t errlen);

/* --follow (events_follow.c): an enum cli_exit. */
int ev_follow(struct ev_ctx *ctx);

/* SIGINT and SIGTERM end a follow: ev_catch_stop() installs the handler,
 * ev_stopped() says whether one came, ev_sleep_ms() waits ms unless it
 * did (a signal cuts the wait short). */
void ev_catch_stop(void);
bool ev_stopped(void);
void ev_sleep_ms(long ms);

/* The table of ctx: the short columns or --wide (events_row.c). */
void ev_table_init(struct ev_ctx *ctx);

/* The cells of row r for the table of ctx.  0, or -1 (out of memory; l
 * is still to be freed). */
int ev_row_cells(const struct ev_ctx *ctx, const struct event_row *r,
                 struct table_row *l);

/* One event as one line of JSON on stdout: every field. */
void ev_row_json(const struct event_row *r);

#endif
