/*
 * status.c - "tollgate status [--json]": whether tollgated runs, and what
 * it says about itself (the control socket's STATUS, docs/control.md).
 * Exit 0 when it runs, 1 when it does not or cannot be asked.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "common/ctl.h"
#include "common/ctl_client.h"

/* What the options said. */
struct status_args {
	bool json;
};

static const struct cli_opt status_opts[] = {
    {"json", 'j', NULL,
     "one JSON object: the daemon's counters, or why it\n"
     "cannot be asked",
     offsetof(struct status_args, json)},
};

static const struct cli_optset status_optset = {
    .opts = status_opts,
    .n_opts = sizeof(status_opts) / sizeof(status_opts[0]),
    .in_order = true,
    .help_col = 13,
};

/* The STATUS keys --json passes on, and whether each is a number. */
static const struct {
	const char *key;
	bool number;
} status_keys[] = {
    {"pid", true},
    {"uptime", true},
    {"rules", true},
    {"connections", true},
    {"accepted", true},
    {"allowed", true},
    {"refused", true},
    {"bytes_up", true},
    {"bytes_down", true},
    {"default_action", false},
    {"guarded", true},
    {"clients", true},
    {"agents", true},
    {"prompts", true},
    {"parked", true},
    {"admin", false},
    {"dns_answered", true},
    {"dns_denied", true},
    {"dns_forwarded", true},
    {"dns_other", true},
    {"dns_mappings", true},
    {"guarded_ids", false},
    {"connect_tracking", false},
    {"connect_answered", true},
    {"connect_fallback", true},
    {"connect_syn", false},
    {"connect_syn_taken", true},
    {"attr_cached", true},
};

#define STATUS_N_KEYS (sizeof(status_keys) / sizeof(status_keys[0]))

static const char *
get(const struct ctl_reply *rep, const char *key)
{
	const char *v = ctl_reply_get(rep, key);

	return v != NULL ? v : "?";
}

static const char *
human_bytes(const char *s, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = strtod(s, NULL);
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", v);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static const char *
human_uptime(const char *s, char *buf, size_t len)
{
	unsigned long long t = strtoull(s, NULL, 10);

	if (t >= 86400)
		snprintf(buf, len, "%llud %lluh", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		snprintf(buf, len, "%lluh %02llum", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, len, "%llum %02llus", t / 60, t % 60);
	else
		snprintf(buf, len, "%llus", t);
	return buf;
}

static void
print_json_head(const struct config *cfg, bool running)
{
	printf("{\"running\":%s,\"control_socket\":",
	       running ? "true" : "false");
	cli_json_str(stdout, cfg->control_socket);
	printf(",\"database\":");
	cli_json_str(stdout, cfg->database);
}

static void
print_json_down(const struct config *cfg, const char *why)
{
	print_json_head(cfg, false);
	printf(",\"error\":");
	cli_json_str(stdout, why);
	printf("}\n");
}

static void
print_json(const struct config *cfg, const struct ctl_reply *rep)
{
	const char *v;
	size_t i;

	print_json_head(cfg, true);
	for (i = 0; i < STATUS_N_KEYS; i++) {
		v = ctl_reply_get(rep, status_keys[i].key);
		if (v == NULL)
			continue;
		printf(",\"%s\":", status_keys[i].key);
		if (strcmp(status_keys[i].key, "admin") == 0)
			printf("%s", strcmp(v, "yes") == 0 ? "true" : "false");
		else if (status_keys[i].number &&
		         strspn(v, "0123456789") == strlen(v) && v[0] != '\0')
			printf("%s", v);
		else
			cli_json_str(stdout, v);
	}
	printf("}\n");
}

static void
print_human(const struct config *cfg, const struct ctl_reply *rep)
{
	char a[32], b[32];

	printf("tollgated is running: pid %s, up %s\n", get(rep, "pid"),
	       human_uptime(get(rep, "uptime"), a, sizeof(a)));
	printf("rules in force:  %s\n", get(rep, "rules"));
	printf("connections:     %s open; %s accepted, %s allowed, %s "
	       "refused\n",
	       get(rep, "connections"), get(rep, "accepted"),
	       get(rep, "allowed"), get(rep, "refused"));
	printf("traffic:         %s up, %s down\n",
	       human_bytes(get(rep, "bytes_up"), a, sizeof(a)),
	       human_bytes(get(rep, "bytes_down"), b, sizeof(b)));
	printf("DNS stub:        %s answered, %s denied, %s forwarded, %s "
	       "other; %s names mapped to fake IPs\n",
	       get(rep, "dns_answered"), get(rep, "dns_denied"),
	       get(rep, "dns_forwarded"), get(rep, "dns_other"),
	       get(rep, "dns_mappings"));
	if (strcmp(get(rep, "connect_tracking"), "on") == 0)
		printf("attribution:     connect tracking on; %s connections "
		       "named by it (%s on the event loop, from processes "
		       "looked at a moment before), %s looked up in /proc\n",
		       get(rep, "connect_answered"), get(rep, "attr_cached"),
		       get(rep, "connect_fallback"));
	else if (ctl_reply_get(rep, "connect_tracking") != NULL)
		printf("attribution:     connect tracking off; processes are "
		       "found in /proc\n");
	printf("default_action:  %s\n", get(rep, "default_action"));
	printf("guarded users:   %s\n", get(rep, "guarded"));
	if (ctl_reply_get(rep, "guarded_ids") != NULL)
		printf("guarded ids:     %s\n", get(rep, "guarded_ids"));
	printf("prompts:         %s pending (%s connections waiting); "
	       "prompt agents: %s%s\n",
	       get(rep, "prompts"), get(rep, "parked"), get(rep, "agents"),
	       strcmp(get(rep, "agents"), "0") == 0
	           ? " (nobody is asked: default_action decides)"
	           : "");
	printf("control socket:  %s (clients: %s; you %s)\n",
	       cfg->control_socket, get(rep, "clients"),
	       strcmp(get(rep, "admin"), "yes") == 0
	           ? "may change rules"
	           : "may not change rules: that needs root or admin_group");
	printf("database:        %s\n", cfg->database);
}

int
cli_status(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
           char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	struct status_args a = {false};
	struct config cfg;
	struct ctl_reply rep;
	char err[CTL_ERRLEN];
	bool json;
	int rc, next;

	rc = cli_opts_parse(&status_optset, CLI_OPTS_ALL, &who, argc, argv, &a,
	                    &next);
	if (rc == CLI_OPTS_HELP) {
		cli_help_head(cmd->name, cmd->args, cmd->help);
		printf("\n");
		cli_opts_help(stdout, &status_optset);
		printf("\nExit 0 when tollgated runs, 1 when it does not.  "
		       "See tollgate(8).\n");
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (next < argc)
		return cli_usage(&who, "unexpected argument \"%s\"",
		                 argv[next]);
	json = a.json;
	if (cli_config_load(opts, "status", &cfg) == -1)
		return CLI_EXIT_FAIL;

	rc = ctl_call(cfg.control_socket, "STATUS", &rep, err, sizeof(err));
	if (rc == CTL_DOWN) {
		if (json)
			print_json_down(&cfg, err);
		else
			printf("%s\n", err);
		return CLI_EXIT_FAIL;
	}
	if (rc == -1) {
		return cli_fail(&who, "%s", err);
	}
	if (!rep.ok) {
		cli_fail(&who, "tollgated: %s", rep.msg);
		ctl_reply_free(&rep);
		return CLI_EXIT_FAIL;
	}
	if (json)
		print_json(&cfg, &rep);
	else
		print_human(&cfg, &rep);
	ctl_reply_free(&rep);
	return CLI_EXIT_OK;
}
