/*
 * messages.c - how the tollgate command speaks on stderr: errors, usage
 * errors, notes and the head of a --help, one printer for all (cli.h).
 * What a line says is the contract tollgate(8) and the tests read, so
 * every subcommand builds its lines here and nowhere else.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

/* "tollgate: ", NAME ": " when there is one, the mark ("note: "), the
 * message, the tail (with its newline).  The one printer of the functions
 * below. */
static void cli_vsay(const struct cli_who *who, const char *mark,
                     const char *fmt, va_list ap, const char *tail)
    __attribute__((format(printf, 3, 0)));

static void
cli_vsay(const struct cli_who *who, const char *mark, const char *fmt,
         va_list ap, const char *tail)
{
	fflush(stdout);
	fputs(CLI_PROG ": ", stderr);
	if (who != NULL)
		fprintf(stderr, "%s: ", who->name);
	fputs(mark, stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
}

/* " (see tollgate HELP --help)\n" */
static const char *
cli_see_help(const struct cli_who *who, char *buf, size_t len)
{
	snprintf(buf, len, " (see " CLI_PROG " %s --help)\n",
	         who->help != NULL ? who->help : who->name);
	return buf;
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(NULL, "", fmt, ap, "\n");
	va_end(ap);
}

void
cli_say(const struct cli_who *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(who, "", fmt, ap, "\n");
	va_end(ap);
}

void
cli_note(const struct cli_who *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(who, "note: ", fmt, ap, "\n");
	va_end(ap);
}

void
cli_warn(const struct cli_who *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(who, "warning: ", fmt, ap, "\n");
	va_end(ap);
}

int
cli_fail(const struct cli_who *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(who, "", fmt, ap, "\n");
	va_end(ap);
	return CLI_EXIT_FAIL;
}

int
cli_usage(const struct cli_who *who, const char *fmt, ...)
{
	char tail[1024];
	va_list ap;

	if (who->args != NULL)
		snprintf(tail, sizeof(tail),
		         " (usage: " CLI_PROG " [-c FILE] %s %s)\n", who->name,
		         who->args);
	else
		cli_see_help(who, tail, sizeof(tail));
	va_start(ap, fmt);
	cli_vsay(who, "", fmt, ap, tail);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

int
cli_bad_value(const struct cli_who *who, const char *fmt, ...)
{
	char tail[128];
	va_list ap;

	cli_see_help(who, tail, sizeof(tail));
	va_start(ap, fmt);
	cli_vsay(who, "", fmt, ap, tail);
	va_end(ap);
	return -1;
}

void
cli_help_head(const char *name, const char *args, const char *help)
{
	printf("usage: " CLI_PROG " [-c FILE] %s %s\n\n%s.\n", name, args,
	       help);
}
