/*
 * rows.h - where the tollgate command reads rules and events: the
 * database, read-only, when this user may read it (root, and whoever the
 * file's mode lets); else tollgated over its control socket (RULES and
 * EVENTS of docs/control.md), which serves a guarded user their own rules
 * and events and an admin everything.  The same rows either way, so every
 * listing (rules list, events, the terminal UI) shows them alike.
 *
 * The entry points:
 *   cli_rules_load()  every rule the caller may see   (rules_show.c)
 *   cli_events_load() the events a filter selects     (events.c)
 * and below them, the source and the socket's side (rows.c).
 */
#ifndef TG_CLI_ROWS_H
#define TG_CLI_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "rules/rule.h"
#include "store/events.h"

#define CLI_ROWS_ERRLEN 1536

enum cli_source {
	CLI_SOURCE_DB,      /* the database, read-only */
	CLI_SOURCE_MISSING, /* no database yet: no rows */
	CLI_SOURCE_SOCKET,  /* not readable to us: ask tollgated */
};

/* Where this user reads cfg's rules and events from (the database when
 * root, or when it can be read; its file missing: MISSING). */
enum cli_source cli_source(const struct config *cfg);

/* Rules as a listing holds them. */
struct cli_rules {
	struct rule *rules; /* by id */
	int64_t *n_names;   /* n_names[i]: names of rule i's list, -1: none */
	size_t n;
	bool via_socket; /* tollgated served them (only the caller's) */
};

/*
 * Every rule the caller may see into *out (cli_rules_free() after, also
 * after a failure): from the database when cli_source() says so (all of
 * them), else from tollgated (an admin's: all; a guarded user's: those
 * bound to their uid).  Returns 0, or -1 + err (a refusal says why, and
 * what the user may do instead).
 */
int cli_rules_load(const struct config *cfg, struct cli_rules *out, char *err,
                   size_t errlen);
void cli_rules_free(struct cli_rules *out);

/*
 * The events f selects, as events_query() hands them (store/events.h:
 * oldest first; fn(row, arg) returns non-zero to stop, and that is
 * returned), from the database when cli_source() says so, else from
 * tollgated (a guarded user's own).  Over the socket a request returns
 * at most CTL_ROWS_MAX rows: f->limit 0 (all) and after_id page through
 * every row; a larger f->limit gets the newest CTL_ROWS_MAX (*cut set,
 * when not NULL).  -1 + err on failure.
 */
int cli_events_load(const struct config *cfg, const struct events_filter *f,
                    int (*fn)(const struct event_row *row, void *arg),
                    void *arg, bool *cut, char *err, size_t errlen);

/* The socket's side of the two (rows.c); the same contracts. */
int cli_rules_sock(const struct config *cfg, struct cli_rules *out, char *err,
                   size_t errlen);
/* *top, when not NULL: a paging read's last id looked at (rows of others
 * among them), where a follower goes on from; 0 when not known. */
int cli_events_sock(const struct config *cfg, const struct events_filter *f,
                    int (*fn)(const struct event_row *row, void *arg),
                    void *arg, bool *cut, int64_t *top, char *err,
                    size_t errlen);

#endif
