/*
 * test_cli_ui_data.c - the data layer of "tollgate ui" (cli/ui.h) without
 * a terminal: over a database with a rule and three events and no
 * tollgated, it reads the rules, the events (all, then after an id), the
 * apps and one app's names; a change goes to the database (root) or is
 * refused; and what the command's loaders say on stderr comes back as the
 * status line's sentence, without "tollgate: ".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/ui.h"
#include "cli/values.h"
#include "store/store.h"

/* cli/main.c holds main() and is left out; the configuration as it
 * loads it (without its message). */
int
cli_config_load(const struct cli_opts *opts, const char *what,
                struct config *cfg)
{
	char err[CONFIG_ERRLEN];

	(void)what;
	config_defaults(cfg);
	return config_load(cfg, opts->config_path, err, sizeof(err));
}

struct fixture {
	char dir[64], conf[128], db[128];
	int64_t rule_id;
	struct ui_data d;
};

static void
event(struct event_row *e, const char *exe, const char *name,
      enum action verdict, int64_t rule_id)
{
	memset(e, 0, sizeof(*e));
	e->kind = EVENT_DECISION;
	e->time_ms = cli_now_ms();
	e->pid = 42;
	e->has_uid = true;
	e->uid = 1000;
	snprintf(e->user, sizeof(e->user), "alice");
	snprintf(e->exe, sizeof(e->exe), "%s", exe);
	snprintf(e->proto, sizeof(e->proto), "tcp");
	snprintf(e->dst_ip, sizeof(e->dst_ip), "192.0.2.2");
	e->dst_port = 443;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->name_source, sizeof(e->name_source), "sni");
	e->verdict = verdict;
	e->decider = rule_id > 0 ? DECIDER_RULE : DECIDER_DEFAULT;
	e->rule_id = rule_id;
	snprintf(e->upstream, sizeof(e->upstream), "direct");
	e->bytes_up = e->bytes_down = e->duration_ms = -1;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct event_row ev[3];
	struct cli_opts opts = {0};
	char err[UI_ERRLEN];
	struct store *s;
	struct rule r;
	FILE *fp;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ui_data.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/tollgate.conf", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/tollgate.db", f->dir);
	fp = fopen(f->conf, "w");
	assert_non_null(fp);
	fprintf(fp,
	        "guard_users = nobody\ndatabase = %s\n"
	        "control_socket = %s/control.sock\n",
	        f->db, f->dir);
	fclose(fp);

	s = store_open(f->db, STORE_READWRITE, err, sizeof(err));
	assert_non_null(s);
	rule_init(&r);
	assert_int_equal(rule_parse_app(&r, "/usr/bin/curl", err, sizeof(err)),
	                 0);
	assert_int_equal(rule_parse_dest(&r, "a.test", err, sizeof(err)), 0);
	r.action = ACTION_ALLOW;
	assert_int_equal(store_rule_add(s, &r, NULL, 0, err, sizeof(err)), 0);
	f->rule_id = r.id;
	event(&ev[0], "/usr/bin/curl", "a.test", ACTION_ALLOW, r.id);
	event(&ev[1], "/usr/bin/curl", "b.test", ACTION_DENY, 0);
	event(&ev[2], "/usr/bin/wget", "a.test", ACTION_ALLOW, 0);
	assert_int_equal(events_insert(s, ev, 3, err, sizeof(err)), 0);
	store_close(s);

	opts.config_path = f->conf;
	assert_int_equal(ui_data_open(&f->d, &opts, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ui_data_close(&f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

static void
test_reads(void **state)
{
	struct fixture *f = *state;
	struct event_row *rows;
	struct events_stats st;
	struct events_top *tops;
	struct rules_set set;
	char err[UI_ERRLEN];
	int64_t max_id;
	size_t n;

	rules_set_init(&set);
	assert_int_equal(ui_data_rules(&f->d, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n_rules, 1);
	assert_string_equal(set.rules[0].dest, "a.test");
	rules_set_free(&set);

	assert_int_equal(
	    ui_data_events(&f->d, 0, 0, &rows, &n, &max_id, err, sizeof(err)),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(max_id, rows[2].id);
	assert_string_equal(rows[0].name, "a.test");
	assert_int_equal(rows[0].rule_id, f->rule_id);
	assert_string_equal(rows[2].exe, "/usr/bin/wget");
	free(rows);
	/* Following: only what came after an id. */
	assert_int_equal(ui_data_events(&f->d, max_id - 1, 0, &rows, &n,
	                                &max_id, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].exe, "/usr/bin/wget");
	free(rows);

	assert_int_equal(
	    ui_data_apps(&f->d, cli_now_ms() - 60000, &st, err, sizeof(err)),
	    0);
	assert_int_equal(st.n_apps, 2);
	assert_string_equal(st.apps[0].key, "/usr/bin/curl");
	assert_int_equal(st.apps[0].count, 2);
	assert_int_equal(st.apps[0].denied, 1);
	events_stats_free(&st);

	assert_int_equal(ui_data_app_domains(&f->d, "/usr/bin/curl",
	                                     cli_now_ms() - 60000, &tops, &n,
	                                     err, sizeof(err)),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(tops[0].count, 1);
	assert_int_equal(tops[0].denied + tops[1].denied, 1);
	free(tops);
}

/* Without tollgated: prompts cannot be listed, and the sentence says
 * why as "tollgate prompts" would, without "tollgate: ". */
static void
test_daemon_down(void **state)
{
	struct fixture *f = *state;
	struct ctl_prompt *ps;
	char err[UI_ERRLEN], msg[UI_ERRLEN];
	size_t n;

	assert_int_equal(ui_data_prompts(&f->d, &ps, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "prompts: tollgated is not running"));
	assert_int_equal(ui_data_answer(&f->d, 1, ACTION_ALLOW, CTL_SCOPE_NAME,
	                                CTL_DUR_HOUR, msg, sizeof(msg), err,
	                                sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "answer: tollgated is not running"));
}

/* Changes go to the database when tollgated is down, which only root
 * may do; a refusal is the command's sentence. */
static void
test_changes(void **state)
{
	struct fixture *f = *state;
	char err[UI_ERRLEN], msg[UI_ERRLEN];
	struct rules_set set;
	int rc;

	rc = ui_data_rule_by_id(&f->d, CTL_RULE_DISABLE, f->rule_id, msg,
	                        sizeof(msg), err, sizeof(err));
	if (geteuid() != 0) {
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, "needs root"));
		assert_int_equal(strncmp(err, "tollgate: ", 10) != 0, 1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_non_null(strstr(msg, "disabled rule"));
	assert_int_equal(ui_data_rule_edit(&f->d, f->rule_id, ACTION_DENY, "2h",
	                                   msg, sizeof(msg), err, sizeof(err)),
	                 0);
	assert_int_equal(ui_data_rule_add(&f->d, "/usr/bin/wget", "c.test",
	                                  ACTION_DENY, msg, sizeof(msg), err,
	                                  sizeof(err)),
	                 0);
	assert_non_null(strstr(msg, "deny c.test"));
	rules_set_init(&set);
	assert_int_equal(ui_data_rules(&f->d, &set, err, sizeof(err)), 0);
	assert_int_equal(set.n_rules, 2);
	assert_false(set.rules[0].enabled);
	assert_int_equal(set.rules[0].action, ACTION_DENY);
	assert_int_equal(set.rules[0].duration, DUR_UNTIL);
	assert_string_equal(set.rules[1].app, "/usr/bin/wget");
	assert_false(set.rules[1].has_uid); /* root's: for any user */
	rules_set_free(&set);

	/* The database's refusal, as "rules del" would print it. */
	assert_int_equal(ui_data_rule_by_id(&f->d, CTL_RULE_DEL, 999, msg,
	                                    sizeof(msg), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "rules del: "));
	assert_non_null(strstr(err, "no rule 999"));
	assert_int_equal(strncmp(err, "tollgate: ", 10) != 0, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
