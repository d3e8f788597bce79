/*
 * cli.h - what the subcommands of the tollgate command share.
 *
 * main.c parses the global options and dispatches through a table of
 * struct cli_cmd; each subcommand lives in a file of its own (redirect.c)
 * and receives its arguments with argv[0] being its own name.  Adding a
 * subcommand is one row in main.c and one handler.
 *
 * Conventions (tollgate(8)): errors go to stderr as one line starting with
 * "tollgate: " and naming what was wrong; results go to stdout.
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <stdio.h>

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

/* Print "tollgate: " and the message, as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print a usage error for cmd as one line ("tollgate: CMD: message (usage:
 * ...)") and return CLI_EXIT_USAGE.
 */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

/* Handlers, one per subcommand. */
int cli_redirect(const struct cli_cmd *cmd, const struct cli_opts *opts,
                 int argc, char **argv);
int cli_rules(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
              char **argv);
int cli_status(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
               char **argv);

#endif
