/*
 * redirect.c - "tollgate redirect on|off|status": the nftables table of
 * redirect/redirect.h, made from the configuration.
 *
 *   on      read the configuration, install (or atomically replace) the table
 *   off     remove the table; it not being there is fine
 *   status  print the table's summary; exit 1 when it is not installed
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "redirect/redirect.h"

#define CLI_REDIRECT_ERRLEN  512
#define CLI_REDIRECT_DESCLEN 4096 /* the guarded set, told */

struct cli_redirect_action {
	const char *name;
	const char *help;
	int (*run)(const struct cli_opts *opts);
};

static int cli_redirect_on(const struct cli_opts *opts);
static int cli_redirect_off(const struct cli_opts *opts);
static int cli_redirect_status(const struct cli_opts *opts);

static const struct cli_redirect_action cli_redirect_actions[] = {
    {"on",
     "install the table for the configured guard_users, or replace "
     "it in one step",
     cli_redirect_on},
    {"off", "remove the table (guarded users are no longer redirected)",
     cli_redirect_off},
    {"status",
     "show the guarded uids, the chains and the rules' counters; "
     "exit 1 when the table is not installed",
     cli_redirect_status},
};

#define CLI_REDIRECT_N_ACTIONS                                                 \
	(sizeof(cli_redirect_actions) / sizeof(cli_redirect_actions[0]))

/* Report a failure of the redirect library; errno tells a missing right. */
static int
cli_redirect_failed(const char *action, const char *err, int error)
{
	char name[32];
	const struct cli_who who = {name, NULL, NULL};

	snprintf(name, sizeof(name), "redirect %s", action);
	if (error == EPERM)
		return cli_fail(&who, "%s (run as root, or with CAP_NET_ADMIN)",
		                err);
	return cli_fail(&who, "%s", err);
}

static int
cli_redirect_on(const struct cli_opts *opts)
{
	struct config cfg;
	struct redirect_spec spec = {0};
	char err[CLI_REDIRECT_ERRLEN], desc[CLI_REDIRECT_DESCLEN];

	if (cli_config_load(opts, "redirect on", &cfg) == -1)
		return CLI_EXIT_FAIL;
	/* The guarded users' subordinate ids, as tollgated guards them. */
	if (config_load_subids(&cfg, NULL, NULL, err, sizeof(err)) == -1)
		return cli_redirect_failed("on", err, EINVAL);
	redirect_spec_of(&cfg, &spec);
	if (redirect_install(&spec, err, sizeof(err)) == -1)
		return cli_redirect_failed("on", err, errno);

	printf("table inet %s installed from %s: ", REDIRECT_TABLE,
	       cfg.path[0] != '\0' ? cfg.path : "the built-in defaults");
	if (spec.n_uids == 0 && !spec.all) {
		printf("no guard_users, nothing is redirected\n");
		return CLI_EXIT_OK;
	}
	printf("guarding %s; their TCP goes to port %u, their DNS to port "
	       "%u\n",
	       config_describe_guarded(&cfg, desc, sizeof(desc)),
	       (unsigned)spec.tcp_port, (unsigned)spec.dns_port);
	return CLI_EXIT_OK;
}

static int
cli_redirect_off(const struct cli_opts *opts)
{
	char err[CLI_REDIRECT_ERRLEN];

	if (redirect_remove(err, sizeof(err)) == -1)
		return cli_redirect_failed("off", err, errno);
	printf("table inet %s is not installed now\n", REDIRECT_TABLE);
	return CLI_EXIT_OK;
}

static int
cli_redirect_status(const struct cli_opts *opts)
{
	char err[CLI_REDIRECT_ERRLEN];

	switch (redirect_status(stdout, err, sizeof(err))) {
	case 1:
		return CLI_EXIT_OK;
	case 0:
		return CLI_EXIT_FAIL;
	default:
		return cli_redirect_failed("status", err, errno);
	}
}

static void
cli_redirect_help(const struct cli_cmd *cmd)
{
	size_t i;

	printf("usage: " CLI_PROG " [-c FILE] %s %s\n\n", cmd->name, cmd->args);
	for (i = 0; i < CLI_REDIRECT_N_ACTIONS; i++)
		printf("  %-8s %s\n", cli_redirect_actions[i].name,
		       cli_redirect_actions[i].help);
}

int
cli_redirect(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
             char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	size_t i;

	if (argc == 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		cli_redirect_help(cmd);
		return CLI_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage(&who, "missing on, off or status");
	for (i = 0; i < CLI_REDIRECT_N_ACTIONS; i++)
		if (strcmp(argv[1], cli_redirect_actions[i].name) == 0)
			break;
	if (i == CLI_REDIRECT_N_ACTIONS)
		return cli_usage(&who,
		                 "unknown action \"%s\" (expected "
		                 "on, off or status)",
		                 argv[1]);
	if (argc > 2)
		return cli_usage(&who,
		                 "unexpected argument \"%s\" after "
		                 "%s",
		                 argv[2], argv[1]);
	return cli_redirect_actions[i].run(opts);
}
