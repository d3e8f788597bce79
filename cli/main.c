/*
 * main.c - the tollgate command: global options, then one subcommand from
 * cli_cmds[]; see cli.h and tollgate(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"

static const struct cli_cmd cli_cmds[] = {
    {"answer", "ID VERDICT [OPTIONS]",
     "answer a pending prompt: allow, deny or reject, and for how long",
     cli_answer},
    {"dns", "map [--json]", "the names the DNS stub has given fake addresses",
     cli_dns},
    {"events", "[stats] [OPTIONS]",
     "what tollgated decided: a table, JSON lines, live, or at a glance",
     cli_events},
    {"prompts", "[--wide] [--json]",
     "the prompts tollgated is waiting on an answer for", cli_prompts},
    {"redirect", "on|off|status",
     "install, remove or show the nftables redirect table", cli_redirect},
    {"rules", "ACTION ...",
     "list, add, del, enable, disable, edit, test, import or export rules",
     cli_rules},
    {"status", "[--json]", "whether tollgated runs, and what it is doing",
     cli_status},
    {"ui", "[--ascii]",
     "a terminal UI: prompts, connections, rules, events and apps", cli_ui},
};

#define CLI_N_CMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static const struct cli_cmd *
cli_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < CLI_N_CMDS; i++)
		if (strcmp(name, cli_cmds[i].name) == 0)
			return &cli_cmds[i];
	return NULL;
}

int
cli_config_load(const struct cli_opts *opts, const char *what,
                struct config *cfg)
{
	char err[CONFIG_ERRLEN];

	config_defaults(cfg);
	if (config_load(cfg, opts->config_path, err, sizeof(err)) == -1) {
		cli_error("%s: %s", what, err);
		return -1;
	}
	return 0;
}

static void
usage(FILE *out)
{
	char synopsis[64];
	size_t i;
	int w = 0;

	fprintf(out, "usage: " CLI_PROG " [-c FILE] COMMAND [ARGS...]\n"
	             "       " CLI_PROG " -h | --help | --version\n"
	             "\n"
	             "Commands:\n");
	/* The helps line up after the longest synopsis. */
	for (i = 0; i < CLI_N_CMDS; i++)
		if ((int)(strlen(cli_cmds[i].name) + 1 +
		          strlen(cli_cmds[i].args)) > w)
			w = (int)(strlen(cli_cmds[i].name) + 1 +
			          strlen(cli_cmds[i].args));
	for (i = 0; i < CLI_N_CMDS; i++) {
		snprintf(synopsis, sizeof(synopsis), "%s %s", cli_cmds[i].name,
		         cli_cmds[i].args);
		fprintf(out, "  %-*s  %s\n", w, synopsis, cli_cmds[i].help);
	}
	fprintf(out,
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE  configuration file (default %s)\n"
	        "  -h, --help         this help\n"
	        "      --version      print the version\n"
	        "\n"
	        "Exit status: 0 success, 1 failure, 2 usage error.  "
	        "See tollgate(8).\n",
	        CONFIG_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_opts opts = {0};
	const struct cli_cmd *cmd;
	int ch;

	opterr = 0;
	/*
	 * "+": stop at the subcommand, whose options are its own; ":": tell
	 * a missing argument from an unknown option.
	 */
	while ((ch = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf(CLI_PROG " " CLI_VERSION "\n");
			return CLI_EXIT_OK;
		case ':':
			cli_error("option %s needs an argument (try " CLI_PROG
			          " --help)",
			          argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			if (optopt != 0)
				cli_error("unknown option -%c (try " CLI_PROG
				          " --help)",
				          optopt);
			else
				cli_error("unknown option %s (try " CLI_PROG
				          " --help)",
				          argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		cli_error("no command given (try " CLI_PROG " --help)");
		return CLI_EXIT_USAGE;
	}
	cmd = cli_cmd_find(argv[optind]);
	if (cmd == NULL) {
		cli_error("unknown command \"%s\" (try " CLI_PROG " --help)",
		          argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(cmd, &opts, argc - optind, argv + optind);
}
