/*
 * events_follow.c - "tollgate events --follow": the newest events, then
 * each new one as it comes, whatever happens to tollgated and its
 * database (events.h).
 *
 * A follower polls by id every EVENTS_POLL_MS; it reopens the database
 * when one of its files (itself, -wal, -shm) is replaced or it fails, and
 * waits for it when it is missing.  Each row is printed as it is read, in
 * columns that keep room for what comes later.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/events.h"
#include "cli/values.h"

#define EVENTS_POLL_BATCH 1000 /* rows per look, at most */

static volatile sig_atomic_t ev_stop;

static void
ev_on_signal(int sig)
{
	(void)sig;
	ev_stop = 1;
}

void
ev_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ev_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
ev_stopped(void)
{
	return ev_stop != 0;
}

void
ev_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (!ev_stop)
		nanosleep(&ts, NULL);
}

/* Say msg on stderr, unless it is what was said last. */
static void
ev_say_once(const struct ev_ctx *ctx, char *said, size_t len, const char *msg)
{
	if (strcmp(said, msg) == 0)
		return;
	cli_say(&ctx->who, "%s", msg);
	snprintf(said, len, "%s", msg);
}

/*
 * Catch up with a database just opened: the newest rows as a table (the
 * first time), or every row since resume_ms (a database that came back or
 * was replaced).  Sets ctx->max_id to where polling goes on.  As
 * ev_show().
 */
static int
ev_follow_start(struct ev_ctx *ctx, struct store *s, bool first,
                int64_t resume_ms, char *err, size_t errlen)
{
	struct events_filter f = ctx->f;
	int64_t top;
	int rc;

	top = events_max_id(s, err, errlen);
	if (top == -1)
		return -1;
	f.after_id = 0;
	if (!first) {
		f.limit = 0;
		if (resume_ms > f.since_ms)
			f.since_ms = resume_ms;
	}
	ctx->max_id = 0;
	rc = ev_show(ctx, s, &f, err, errlen);
	if (rc != 0)
		return rc;
	if (top > ctx->max_id)
		ctx->max_id = top;
	return 0;
}

/* One look for new rows, in as many batches as there are.  As ev_show();
 * -1 with err "" when the ids went back (a new database in place). */
static int
ev_follow_poll(struct ev_ctx *ctx, struct store *s, char *err, size_t errlen)
{
	struct events_filter f = ctx->f;
	int64_t top;
	size_t before;
	int rc;

	top = events_max_id(s, err, errlen);
	if (top == -1)
		return -1;
	if (top < ctx->max_id) {
		err[0] = '\0';
		return -1;
	}
	while (!ev_stop && top > ctx->max_id) {
		/* From an empty table every row is new: all of them, as
		 * they stream (after_id 0 would mean "the newest"). */
		f.after_id = ctx->max_id;
		f.limit = ctx->max_id == 0 ? 0 : EVENTS_POLL_BATCH;
		before = ctx->n_shown;
		rc = ev_show(ctx, s, &f, err, errlen);
		if (rc != 0)
			return rc;
		if (ctx->n_shown - before < EVENTS_POLL_BATCH) {
			/* Every row up to top has been seen, matching or
			 * not: the mark moves past those that did not. */
			if (top > ctx->max_id)
				ctx->max_id = top;
			break;
		}
	}
	return 0;
}

/*
 * The newest rows, then every new one within EVENTS_POLL_MS, across
 * restarts of tollgated and replacements of the database, until SIGINT
 * or SIGTERM (exit 0).
 */
int
ev_follow(struct ev_ctx *ctx)
{
	char err[EVENTS_ERRLEN], msg[EVENTS_ERRLEN + 64];
	char said[sizeof(msg)] = "";
	struct store *s = NULL;
	struct ev_files files;
	bool first = true, was_open = false, waited = false;
	int64_t resume_ms = 0;
	int rc = 0;

	ev_catch_stop();
	ev_table_init(ctx);

	while (!ev_stop) {
		if (s == NULL) {
			switch (ev_open(ctx, &s, &files, err, sizeof(err))) {
			case EV_OPEN_MISSING:
				snprintf(msg, sizeof(msg),
				         was_open
				             ? "%s is gone; waiting for it "
				               "to come back"
				             : "no database at %s yet "
				               "(tollgated has not run); "
				               "waiting for it",
				         ctx->cfg.database);
				ev_say_once(ctx, said, sizeof(said), msg);
				waited = true;
				ev_sleep_ms(EVENTS_POLL_MS);
				continue;
			case EV_OPEN_ERROR:
				/* At the start it is for the user to fix
				 * (permissions, a wrong path); later, or
				 * while tollgated creates it, it passes. */
				if (first && !waited) {
					cli_fail(&ctx->who, "%s", err);
					table_free(&ctx->t);
					return CLI_EXIT_FAIL;
				}
				snprintf(msg, sizeof(msg), "%s; trying again",
				         err);
				ev_say_once(ctx, said, sizeof(said), msg);
				waited = true;
				ev_sleep_ms(EVENTS_POLL_MS);
				continue;
			case EV_OPEN_OK:
				break;
			}
			if (waited) {
				snprintf(msg, sizeof(msg), "%s is there%s",
				         ctx->cfg.database,
				         was_open ? " again" : " now");
				ev_say_once(ctx, said, sizeof(said), msg);
			}
			said[0] = '\0';
			waited = false;
			rc = ev_follow_start(ctx, s, first, resume_ms, err,
			                     sizeof(err));
			first = false;
			was_open = true;
		} else if (ev_replaced(ctx->cfg.database, &files)) {
			snprintf(err, sizeof(err), "%s was replaced or removed",
			         ctx->cfg.database);
			rc = -1;
		} else
			rc = ev_follow_poll(ctx, s, err, sizeof(err));
		if (rc == EV_WRITE_FAILED)
			break;
		if (rc == -1) {
			/* Go on from the newest time shown, in whatever
			 * file comes next. */
			if (err[0] != '\0') {
				snprintf(msg, sizeof(msg), "%s; reopening it",
				         err);
				ev_say_once(ctx, said, sizeof(said), msg);
			}
			resume_ms =
			    ctx->last_ms > 0 ? ctx->last_ms + 1 : cli_now_ms();
			store_close(s);
			s = NULL;
			continue;
		}
		ev_sleep_ms(EVENTS_POLL_MS);
	}
	store_close(s);
	table_free(&ctx->t);
	return rc == EV_WRITE_FAILED ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
