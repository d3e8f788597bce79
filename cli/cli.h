/*
 * cli.h - what the subcommands of the tollgate command share.
 *
 * main.c parses the global options and dispatches through a table of
 * struct cli_cmd; each subcommand lives in a file of its own (status.c),
 * or in files named after it (rules*.c, events*.c), and receives its
 * arguments with argv[0] being its own name.  Adding a subcommand is one
 * row in main.c and one handler.  A handler reads its options with
 * opts.h, prints tables with table.h and parses numbers and times with
 * values.h.
 *
 * Conventions (tollgate(8)): errors go to stderr as one line starting with
 * "tollgate: " and naming what was wrong (the helpers below); results go
 * to stdout.
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/config.h"

#define CLI_PROG    "tollgate"
#define CLI_VERSION "0.1.0"

/* Exit status of the program and return value of every handler. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,
	CLI_EXIT_USAGE = 2,
};

/* Options before the subcommand. */
struct cli_opts {
	const char *config_path; /* -c FILE, or NULL for the default */
};

struct cli_cmd {
	const char *name;
	const char *args; /* argument synopsis, for the help */
	const char *help; /* one line */
	/* argv[0] is the subcommand's name; returns an enum cli_exit. */
	int (*run)(const struct cli_cmd *cmd, const struct cli_opts *opts,
	           int argc, char **argv);
};

/*
 * Messages (messages.c).  Every one is one line on stderr, after stdout is
 * flushed, starting "tollgate: " and, but for cli_error(), the name of
 * who speaks: a subcommand ("status"), or a subcommand and its action
 * ("rules add", "events stats").
 */
struct cli_who {
	const char *name; /* "rules add": lines start "tollgate: rules add: " */
	const char *args; /* its synopsis, for usage errors; NULL: they point
	                     at the help instead */
	const char *help; /* whose --help explains the values: "events" for
	                     "events stats"; NULL: name */
};

/* "tollgate: MESSAGE", for what no subcommand says yet. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "tollgate: NAME: MESSAGE": a line that does not end the command. */
void cli_say(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "tollgate: NAME: note: MESSAGE": something done that was not asked. */
void cli_note(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "tollgate: NAME: warning: MESSAGE": done, but maybe not as meant. */
void cli_warn(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "tollgate: NAME: MESSAGE"; returns CLI_EXIT_FAIL. */
int cli_fail(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A usage error: "tollgate: NAME: MESSAGE (usage: tollgate [-c FILE] NAME
 * ARGS)", or "... (see tollgate HELP --help)" when who has no args.
 * Returns CLI_EXIT_USAGE.
 */
int cli_usage(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A bad option value, for helpers that return -1: "tollgate: NAME:
 * MESSAGE (see tollgate HELP --help)".  Returns -1.
 */
int cli_bad_value(const struct cli_who *who, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The head of a subcommand's --help: "usage: tollgate [-c FILE] NAME
 * ARGS", a blank line, and the one-line help with its full stop. */
void cli_help_head(const char *name, const char *args, const char *help);

/*
 * Fill cfg from the built-in defaults and the configuration file (-c, or
 * the default file when it exists).  Returns 0, or -1 after printing the
 * parser's "FILE:LINE: ..." error prefixed with what.
 */
int cli_config_load(const struct cli_opts *opts, const char *what,
                    struct config *cfg);

/*
 * Write s as a JSON string, quotes included: '"', '\\' and control bytes
 * escaped, bytes that are not UTF-8 written as U+FFFD (json.c).
 */
void cli_json_str(FILE *out, const char *s);

/*
 * The terminal that the tables and "events stats" draw on (events_fmt.c):
 * whether stdout is one, its size, whether to colour (not with NO_COLOR or
 * TERM=dumb) and whether to use UTF-8 (the locale's variables say so and
 * --ascii was not given).  Tables fit CLI_TERM_WIDTH columns, or the
 * terminal when it is narrower.
 */
#define CLI_TERM_WIDTH 100

struct cli_term {
	bool tty, color, utf8;
	int cols; /* columns to fit, at most CLI_TERM_WIDTH */
	int rows; /* the terminal's rows, 0 when not a terminal */
};

void cli_term_get(struct cli_term *t, bool ascii);

/* Columns of a UTF-8 string: one per character. */
size_t cli_ev_width(const char *s);

/*
 * s made safe to print into out[outlen]: control bytes and bytes that are
 * not UTF-8 (or not ASCII, without UTF-8) as '?'; cut to width columns
 * (0: no limit) with an ellipsis at the end, or at the start with
 * cut_left.  Returns out.
 */
const char *cli_ev_text(const struct cli_term *t, const char *s, size_t width,
                        bool cut_left, char *out, size_t outlen);

/* Print s padded to width columns, flush left or right. */
void cli_ev_pad(FILE *out, const char *s, size_t width, bool right);

/* Short human forms, "-" for -1: bytes "1.2M", durations "5m03s", local
 * times "13:02:11" (today) or "Nov 27 13:02"; long local times; ISO 8601
 * UTC with milliseconds. */
const char *cli_ev_bytes(int64_t b, char *buf, size_t len);
const char *cli_ev_duration(int64_t ms, char *buf, size_t len);
const char *cli_ev_time_short(int64_t ms, time_t now, char *buf, size_t len);
const char *cli_ev_time_long(int64_t ms, char *buf, size_t len);
const char *cli_ev_time_iso(int64_t ms, char *buf, size_t len);

struct store;

/*
 * "tollgate events stats" (events_stats.c): draw the decisions with
 * since_ms <= time < until_ms of the open database s, the top n_top apps
 * and domains, for t, or as one JSON object.  0, or -1 + err.
 */
int cli_events_stats(struct store *s, int64_t since_ms, int64_t until_ms,
                     size_t n_top, const struct cli_term *t, bool json,
                     char *err, size_t errlen);

struct ctl_prompt;

/*
 * Ask tollgated at path for its pending prompts (prompts.c).  0 with *ps
 * (the caller frees it) and *n, or -1 after saying why as who: not
 * running, refused, or a reply that is not what docs/control.md says.
 */
int cli_prompts_fetch(const struct cli_who *who, const char *path,
                      struct ctl_prompt **ps, size_t *n);

/* Handlers, one per subcommand. */
int cli_answer(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
               char **argv);
int cli_dns(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
            char **argv);
int cli_events(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
               char **argv);
int cli_prompts(const struct cli_cmd *cmd, const struct cli_opts *opts,
                int argc, char **argv);
int cli_redirect(const struct cli_cmd *cmd, const struct cli_opts *opts,
                 int argc, char **argv);
int cli_rules(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
              char **argv);
int cli_status(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
               char **argv);
int cli_ui(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv);

#endif
