/*
 * answer.c - "tollgate answer ID VERDICT": answer a prompt tollgated is
 * waiting on from the command line (tollgate(8); the protocol is
 * docs/control.md, Prompts).  The prompt lives in the daemon's memory, so
 * this needs tollgated running.  Who may answer which prompt is the
 * daemon's to decide: its ERR is passed on as it is.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/values.h"
#include "common/ctl.h"
#include "common/ctl_client.h"

/* What the options said; NULL when not given. */
struct answer_args {
	const char *scope, *duration;
};

/* Options may come before, between or after ID and VERDICT; given twice,
 * the last counts. */
static const struct cli_opt answer_opts[] = {
    {"scope", 0, "S",
     "what the rule it adds covers:\n"
     "  name    the name asked for (default)\n"
     "  domain  *.DOMAIN, its registrable domain\n"
     "  app     this program, anywhere\n"
     "  ip      the address\n"
     "  port    anywhere on this port",
     offsetof(struct answer_args, scope)},
    {"duration", 0, "D",
     "once (default: no rule, only the connections\n"
     "waiting now), restart (until tollgated restarts),\n"
     "30m, 1h, or forever",
     offsetof(struct answer_args, duration)},
};

static const struct cli_optset answer_optset = {
    .opts = answer_opts,
    .n_opts = sizeof(answer_opts) / sizeof(answer_opts[0]),
    .last_wins = true,
    .help_col = 16,
};

static void
answer_help(const struct cli_cmd *cmd)
{
	cli_help_head(cmd->name, cmd->args, cmd->help);
	printf("\n");
	cli_help_row(stdout, answer_optset.help_col, "ID",
	             "the prompt, as " CLI_PROG " prompts shows it");
	cli_help_row(stdout, answer_optset.help_col, "VERDICT",
	             "allow, deny or reject");
	cli_opts_help(stdout, &answer_optset);
	printf("\n"
	       "Every connection waiting on the prompt is decided at once, "
	       "and the\n"
	       "prompt leaves every tollgate-prompt showing it.  Needs root "
	       "or\n"
	       "admin_group.  See tollgate(8).\n");
}

int
cli_answer(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	struct answer_args a = {NULL, NULL};
	const char *v, *conns, *rule;
	char req[128], err[CTL_ERRLEN];
	unsigned long long id;
	struct ctl_reply rep;
	struct config cfg;
	int rc, next, verdict, scope = CTL_SCOPE_NAME, duration = CTL_DUR_ONCE;

	rc = cli_opts_parse(&answer_optset, CLI_OPTS_ALL, &who, argc, argv, &a,
	                    &next);
	if (rc == CLI_OPTS_HELP) {
		answer_help(cmd);
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (argc - next < 2)
		return cli_usage(&who, "missing %s",
		                 argc == next ? "ID and VERDICT" : "VERDICT");
	if (argc - next > 2)
		return cli_usage(&who, "unexpected argument \"%s\"",
		                 argv[next + 2]);
	if (cli_parse_id(argv[next], INT64_MAX, &id) == -1)
		return cli_usage(&who,
		                 "\"%s\" is not a prompt id (a positive "
		                 "number, as " CLI_PROG " prompts shows)",
		                 argv[next]);
	if ((verdict = action_parse(argv[next + 1])) == -1)
		return cli_usage(&who,
		                 "unknown verdict \"%s\" (expected "
		                 "allow, deny or reject)",
		                 argv[next + 1]);
	if (a.scope != NULL && (scope = ctl_scope_parse(a.scope)) == -1)
		return cli_usage(&who,
		                 "--scope \"%s\": expected name, domain, "
		                 "app, ip or port",
		                 a.scope);
	if (a.duration != NULL &&
	    (duration = ctl_duration_parse(a.duration)) == -1)
		return cli_usage(&who,
		                 "--duration \"%s\": expected once, "
		                 "restart, 30m, 1h or forever",
		                 a.duration);
	if (cli_config_load(opts, "answer", &cfg) == -1)
		return CLI_EXIT_FAIL;

	snprintf(req, sizeof(req), "%s %llu %s %s %s",
	         ctl_verb_name(CTL_ANSWER), id,
	         action_name((enum action)verdict),
	         ctl_scope_name((enum ctl_scope)scope),
	         ctl_duration_name((enum ctl_duration)duration));
	if (ctl_call(cfg.control_socket, req, &rep, err, sizeof(err)) != 0)
		return cli_fail(&who, "%s", err);
	if (!rep.ok) {
		/* A prompt without a name is not offered the default scope. */
		cli_fail(&who, "tollgated refused: %s (%s)%s", rep.msg,
		         rep.codestr,
		         rep.code == CTL_E_INVALID && a.scope == NULL
		             ? "; the default --scope is name: "
		               "see the prompt's scopes in " CLI_PROG
		               " prompts --json"
		             : "");
		ctl_reply_free(&rep);
		return CLI_EXIT_FAIL;
	}
	v = ctl_reply_get(&rep, "verdict");
	conns = ctl_reply_get(&rep, "connections");
	rule = ctl_reply_get(&rep, "rule");
	printf("prompt %llu: %s (%s connection%s); ", id,
	       v != NULL ? v : action_name((enum action)verdict),
	       conns != NULL ? conns : "?",
	       conns != NULL && strcmp(conns, "1") == 0 ? "" : "s");
	if (rule != NULL && strcmp(rule, "0") != 0)
		printf("rule %s added\n", rule);
	else if (duration == CTL_DUR_ONCE)
		printf("no rule added (once)\n");
	else
		printf("no rule added\n");
	ctl_reply_free(&rep);
	return CLI_EXIT_OK;
}
