/*
 * opts.h - the options of a subcommand as a table: each one a row, read
 * by one parser (opts.c) and listed by one --help printer.
 *
 * A subcommand keeps what it was given in a struct of its own; each row
 * names a field of it by offset: a bool for an option without a value
 * (--json), a const char * pointing into argv for one with a value
 * (--app EXE).  The parser is getopt_long(3) underneath, so abbreviations
 * (--js), "--app=EXE" and "--" work as they always have; every command
 * also takes -h and --help.
 */
#ifndef TG_CLI_OPTS_H
#define TG_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

#define CLI_OPTS_MAX 30 /* rows in one table, at most */

struct cli_opt {
	const char *name; /* "app": --app */
	char short_name;  /* 'j': -j too; 0: none */
	const char *arg;  /* the value's name in the help ("EXE"); NULL: the
	                     option takes no value */
	const char *help; /* its line in --help ('\n' goes on in the same
	                     column); NULL: not listed */
	size_t offset;    /* of its bool or const char * in the caller's
	                     struct */
};

struct cli_optset {
	const struct cli_opt *opts;
	size_t n_opts;
	bool in_order;  /* options end at the first argument; else they may
	                   come between and after the arguments */
	bool last_wins; /* a value given twice: the last counts; else it is
	                   a usage error */
	int help_col;   /* the column where --help's descriptions start */
};

/* Every row of a table may be given (see cli_opts_parse()). */
#define CLI_OPTS_ALL UINT32_MAX

/* cli_opts_parse() returns these, or CLI_EXIT_USAGE. */
enum {
	CLI_OPTS_GO = -1,   /* parsed: the arguments follow */
	CLI_OPTS_HELP = -2, /* -h or --help: print the help, exit 0 */
};

/*
 * Parse the options of argv[1..argc) (argv[0] is the subcommand's or
 * action's name) into args by set.  allowed has bit i set when
 * set->opts[i] may be given here; another row of the table is "--NAME
 * does not apply here".  Returns CLI_OPTS_GO with the arguments that are
 * not options in argv[*next..argc) (argv is permuted, as getopt_long(3)
 * does); CLI_OPTS_HELP; or CLI_EXIT_USAGE after cli_usage(who, ...) said
 * which option was wrong.
 */
int cli_opts_parse(const struct cli_optset *set, uint32_t allowed,
                   const struct cli_who *who, int argc, char **argv, void *args,
                   int *next);

/*
 * One line of a --help list: "  LEFT", padded to col, then text, each
 * line of it after a '\n' indented to col.
 */
void cli_help_row(FILE *out, int col, const char *left, const char *text);

/* The rows of set that have a help, as cli_help_row()s. */
void cli_opts_help(FILE *out, const struct cli_optset *set);

#endif
