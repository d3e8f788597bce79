/*
 * ui.h - "tollgate ui": the data layer (ui_data.c) and what the screen
 * (ui.c, ui_draw.c) shares.  nothing else includes it.
 *
 * The data layer is the one way the terminal UI reads and changes
 * anything: rules, events, prompts, app counts, and changes to rules and
 * answers to prompts.  It calls the tollgate command's own loaders and
 * senders (rules.h, cli_prompts_fetch(), events.h's ev_open() and the
 * store's queries), so the UI sees and may do exactly what the commands
 * see and may do: tollgated decides who may change what, and its refusal
 * is passed on as the sentence the command would print.  The database
 * is held open for reading between calls (opening it checks the whole
 * file), and opened again when it was replaced, as "events --follow"
 * does; rules that cannot be read there are asked of rules_load().
 *
 * Those loaders speak on stderr (cli_fail() and friends), which would
 * scribble over a full-screen terminal.  ui_data_open() therefore points
 * stderr at a memory file for as long as the UI runs; every call that
 * fails returns the last line said there (without "tollgate: ") in err,
 * which the screen shows on its status line.  ui_data_close() puts
 * stderr back.
 *
 * Every call: 0 (msg, when there is one, says what was done), or -1 with
 * err saying why.  Memory: arrays returned are the caller's to free().
 */
#ifndef TG_CLI_UI_H
#define TG_CLI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/events.h"
#include "cli/rules.h"
#include "common/ctl_prompt.h"
#include "rules/match.h"
#include "store/events.h"

#define UI_ERRLEN      1024
#define UI_EVENTS_MAX  500  /* events held: the newest */
#define UI_DOMAINS_MAX 200  /* domains of one app */
#define UI_APP_ROWS    2000 /* rows read to count one app's domains */

struct ui_data {
	struct rules_ctx rc; /* the configuration, and who speaks */
	int said_fd;         /* the memory file stderr writes to */
	int stderr_fd;       /* the real stderr, while the UI runs */
	bool root;           /* the UI runs as root */
	uid_t uid;
	struct ev_ctx *ev;     /* for ev_open(): the database's path */
	struct store *s;       /* the database, held open for reading */
	struct ev_files files; /* which files it is */
};

/* Load the configuration and take stderr.  0, or -1 + err (stderr is
 * then untouched). */
int ui_data_open(struct ui_data *d, const struct cli_opts *opts, char *err,
                 size_t errlen);

/* Give stderr back; what was said and not yet read is written there. */
void ui_data_close(struct ui_data *d);

/* Every rule into set (rules_set_init() done by the caller). */
int ui_data_rules(struct ui_data *d, struct rules_set *set, char *err,
                  size_t errlen);

/*
 * Events: after_id 0 the newest limit (at most UI_EVENTS_MAX), else
 * those after after_id, oldest first, gap rows left out.  *rows and *n;
 * *max_id is the largest id stored (for "anything new?").
 */
int ui_data_events(struct ui_data *d, int64_t after_id, size_t limit,
                   struct event_row **rows, size_t *n, int64_t *max_id,
                   char *err, size_t errlen);

/* The pending prompts (PROMPTS): *ps and *n. */
int ui_data_prompts(struct ui_data *d, struct ctl_prompt **ps, size_t *n,
                    char *err, size_t errlen);

/* The apps since since_ms, most decisions first (events_stats(); free
 * with events_stats_free(), also after a failure). */
int ui_data_apps(struct ui_data *d, int64_t since_ms, struct events_stats *st,
                 char *err, size_t errlen);

/* One app's (exe) names since since_ms, most decisions first, from its
 * newest UI_APP_ROWS events: *tops and *n (at most UI_DOMAINS_MAX). */
int ui_data_app_domains(struct ui_data *d, const char *exe, int64_t since_ms,
                        struct events_top **tops, size_t *n, char *err,
                        size_t errlen);

/* RULE-DEL, RULE-ENABLE or RULE-DISABLE of rule id. */
int ui_data_rule_by_id(struct ui_data *d, enum ctl_verb verb, int64_t id,
                       char *msg, size_t msglen, char *err, size_t errlen);

/*
 * A rule for app (a path) and dest (a name or an IP) with action, for
 * ever (as "tollgate rules add"); bound to the UI's own uid when it does
 * not run as root, as a guarded user may only make their own.
 */
int ui_data_rule_add(struct ui_data *d, const char *app, const char *dest,
                     enum action action, char *msg, size_t msglen, char *err,
                     size_t errlen);

/* Rule id with a new action (-1: kept) and duration (NULL: kept; the
 * words of "rules edit --duration"). */
int ui_data_rule_edit(struct ui_data *d, int64_t id, int action,
                      const char *duration, char *msg, size_t msglen, char *err,
                      size_t errlen);

/* ANSWER id verdict scope duration, as "tollgate answer". */
int ui_data_answer(struct ui_data *d, uint64_t id, enum action verdict,
                   enum ctl_scope scope, enum ctl_duration duration, char *msg,
                   size_t msglen, char *err, size_t errlen);

/*
 * The screen.  ui.c reads keys, keeps the state below and refreshes the
 * data of the tab shown every UI_TICK_MS; ui_draw.c draws it.  Nothing
 * there reads or changes anything but through ui_data_*().
 */
#define UI_TICK_MS                                                             \
	500 /* how often the data is looked at again: the                      \
	     * prompts, and events since the newest held */
/* What costs more is read less often (and at once on a tab switch or
 * after an action): the rules with their lists' names, the events whole
 * (their bytes, filled in when they close), the day's counts per app. */
#define UI_RULES_EVERY_MS  2000
#define UI_EVENTS_EVERY_MS 2000
#define UI_APPS_EVERY_MS                                                       \
	30000           /* a day of a busy machine's events:                   \
	                 * about a second to count */
#define UI_SAY_S      8 /* seconds a message stays on the status line */
#define UI_FILTER_MAX 64

enum ui_tab { UI_PROMPTS, UI_CONNS, UI_RULES, UI_EVENTS, UI_APPS, UI_N_TABS };

/* What a key typed goes to. */
enum ui_input {
	UI_IN_KEYS,     /* the tab's keys */
	UI_IN_FILTER,   /* the filter of the tab, as typed */
	UI_IN_CONFIRM,  /* y/n: delete rule in_rule */
	UI_IN_DURATION, /* the new duration of rule in_rule */
	UI_IN_HELP,     /* the keys, until any key */
};

/* A list's cursor: the row chosen and the first row shown. */
struct ui_cursor {
	size_t sel, top;
};

struct ui {
	struct ui_data d;
	struct cli_term term; /* for cli_ev_text(): UTF-8 or not */
	bool color;
	enum ui_tab tab;
	enum ui_input input;
	struct ui_cursor cur[UI_N_TABS];
	char filter[UI_N_TABS][UI_FILTER_MAX];
	char inbuf[UI_FILTER_MAX];
	int64_t in_rule;
	int64_t ev_rule; /* Events: only those rule ev_rule decided (0: all) */
	int dur_pick;    /* Prompts: what "always" answers last, or -1 */

	/* the data, as last loaded; load_err[tab]: why it could not be */
	struct rules_set rules;
	struct ctl_prompt *prompts;
	size_t n_prompts;
	bool prompts_ok;
	struct event_row *events; /* oldest first, room for UI_EVENTS_MAX */
	size_t n_events;
	int64_t rules_ms, events_ms, apps_ms; /* when last read whole */
	struct events_stats apps;
	struct events_top *domains; /* of apps.apps[cur[UI_APPS].sel] */
	size_t n_domains;
	char load_err[UI_N_TABS][UI_ERRLEN];

	/* the status line: what the last action did or why it failed */
	char say[UI_ERRLEN];
	bool say_err;
	int64_t say_ms;
};

/* The rows of tab shown, after its filter: indexes into prompts,
 * events (newest first), rules.rules or apps.apps, *n of them; the
 * caller frees the array.  NULL with *n 0 when none (or out of memory). */
size_t *ui_view(const struct ui *u, enum ui_tab tab, size_t *n);

/* The name of an event's destination, or its address: "a.test",
 * "192.0.2.2". */
const char *ui_event_dest(const struct event_row *r);

/* ui_draw.c: draw the whole screen of u. */
void ui_draw(struct ui *u);

#endif
