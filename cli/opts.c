/*
 * opts.c - the one option parser of the tollgate command's subcommands,
 * and the one printer of their option lists (opts.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"

_Static_assert(CLI_OPTS_MAX <= 32, "a row of the table is a bit of allowed");

/* getopt_long()'s code for row i: its short letter, else one past every
 * character. */
static int
cli_opt_val(const struct cli_optset *set, size_t i)
{
	return set->opts[i].short_name != 0 ? set->opts[i].short_name
	                                    : 256 + (int)i;
}

/* The row that getopt_long() answered ch for, or -1. */
static int
cli_opt_row(const struct cli_optset *set, int ch)
{
	size_t i;

	for (i = 0; i < set->n_opts && i < CLI_OPTS_MAX; i++)
		if (cli_opt_val(set, i) == ch)
			return (int)i;
	return -1;
}

int
cli_opts_parse(const struct cli_optset *set, uint32_t allowed,
               const struct cli_who *who, int argc, char **argv, void *args,
               int *next)
{
	struct option longopts[CLI_OPTS_MAX + 2];
	char shorts[CLI_OPTS_MAX + 4];
	const struct cli_opt *o;
	const char **value;
	size_t i, n = 0;
	int ch, row;

	if (set->in_order)
		shorts[n++] = '+';
	/* ':' tells a missing value from an unknown option. */
	shorts[n++] = ':';
	for (i = 0; i < set->n_opts && i < CLI_OPTS_MAX; i++) {
		longopts[i].name = set->opts[i].name;
		longopts[i].has_arg =
		    set->opts[i].arg != NULL ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = cli_opt_val(set, i);
		if (set->opts[i].short_name != 0)
			shorts[n++] = set->opts[i].short_name;
	}
	shorts[n++] = 'h';
	shorts[n] = '\0';
	longopts[i] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[i + 1] = (struct option){NULL, 0, NULL, 0};

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		if (ch == 'h')
			return CLI_OPTS_HELP;
		if (ch == ':')
			return cli_usage(who, "%s needs a value",
			                 argv[optind - 1]);
		row = cli_opt_row(set, ch);
		if (row == -1)
			return cli_usage(who, "unknown option %s",
			                 argv[optind - 1]);
		o = &set->opts[row];
		if (!(allowed & (UINT32_C(1) << row)))
			return cli_usage(who, "--%s does not apply here",
			                 o->name);
		if (o->arg == NULL) {
			*(bool *)((char *)args + o->offset) = true;
			continue;
		}
		value = (const char **)(void *)((char *)args + o->offset);
		if (*value != NULL && !set->last_wins)
			return cli_usage(who, "--%s given twice", o->name);
		*value = optarg;
	}
	*next = optind;
	return CLI_OPTS_GO;
}

void
cli_help_row(FILE *out, int col, const char *left, const char *text)
{
	const char *nl;

	fprintf(out, "  %-*s", col - 2, left);
	while ((nl = strchr(text, '\n')) != NULL) {
		fprintf(out, "%.*s\n%*s", (int)(nl - text), text, col, "");
		text = nl + 1;
	}
	fprintf(out, "%s\n", text);
}

void
cli_opts_help(FILE *out, const struct cli_optset *set)
{
	char left[64];
	size_t i;

	for (i = 0; i < set->n_opts; i++) {
		if (set->opts[i].help == NULL)
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", set->opts[i].name,
		         set->opts[i].arg != NULL ? " " : "",
		         set->opts[i].arg != NULL ? set->opts[i].arg : "");
		cli_help_row(out, set->help_col, left, set->opts[i].help);
	}
}
