/*
 * ui.c - "tollgate ui": a terminal UI over tollgated's prompts, rules and
 * events, in tabs (ui.h).  This file reads the keys, keeps the state and
 * looks at the data again every UI_TICK_MS (getch() waits that long at
 * most: no busy loop); ui_draw.c draws; ui_data.c reads and changes.
 *
 * It works on any terminal curses knows, 80x24 and up, with or without
 * colours (they only underline what the words already say), and without
 * a mouse.  Strings from programs (paths, command lines, names) are shown
 * through cli_ev_text(), so none can move the cursor.
 */
#include <ctype.h>
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/opts.h"
#include "cli/ui.h"
#include "cli/values.h"
#include "prompt/actions.h"

#define UI_APPS_SINCE_MS ((int64_t)86400 * 1000) /* Apps: the last day */

/* --------------------------------------------------------------------
 * The rows shown
 */

/* Whether hay holds needle, case folded; "" is in everything. */
static bool
ui_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

const char *
ui_event_dest(const struct event_row *r)
{
	return r->name[0] != '\0' ? r->name : r->dst_ip;
}

/* Whether row i of tab passes the tab's filter. */
static bool
ui_keep(const struct ui *u, enum ui_tab tab, size_t i)
{
	const char *f = u->filter[tab];
	const struct event_row *e;
	const struct rule *r;
	char dest[NAME_MAX_LEN + 8];

	switch (tab) {
	case UI_RULES:
		r = &u->rules.rules[i];
		return ui_has(r->app, f) ||
		       ui_has(rule_dest_str(r, dest, sizeof(dest)), f) ||
		       ui_has(action_name(r->action), f) || ui_has(r->note, f);
	case UI_EVENTS:
		e = &u->events[i];
		if (u->ev_rule != 0 &&
		    (e->decider != DECIDER_RULE || e->rule_id != u->ev_rule))
			return false;
		return ui_has(e->exe, f) || ui_has(ui_event_dest(e), f) ||
		       ui_has(action_name(e->verdict), f) || ui_has(e->user, f);
	case UI_APPS:
		return ui_has(u->apps.apps[i].key, f);
	default:
		return true;
	}
}

size_t *
ui_view(const struct ui *u, enum ui_tab tab, size_t *n)
{
	size_t total, i, *idx;

	*n = 0;
	switch (tab) {
	case UI_PROMPTS:
		total = u->n_prompts;
		break;
	case UI_CONNS:
	case UI_EVENTS:
		total = u->n_events;
		break;
	case UI_RULES:
		total = u->rules.n_rules;
		break;
	default:
		total = u->apps.n_apps;
		break;
	}
	if (total == 0 || (idx = calloc(total, sizeof(*idx))) == NULL)
		return NULL;
	for (i = 0; i < total; i++) {
		/* Events: the newest first. */
		size_t k =
		    tab == UI_CONNS || tab == UI_EVENTS ? total - 1 - i : i;
		if (ui_keep(u, tab, k))
			idx[(*n)++] = k;
	}
	return idx;
}

/* The row chosen in tab: its index (as ui_view()), or -1 when none. */
static long
ui_chosen(const struct ui *u, enum ui_tab tab)
{
	size_t n, *idx;
	long k = -1;

	idx = ui_view(u, tab, &n);
	if (n > 0)
		k = (long)idx[u->cur[tab].sel < n ? u->cur[tab].sel : n - 1];
	free(idx);
	return k;
}

/* --------------------------------------------------------------------
 * The status line
 */

static void ui_say(struct ui *u, bool err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ui_say(struct ui *u, bool err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->say, sizeof(u->say), fmt, ap);
	va_end(ap);
	u->say_err = err;
	u->say_ms = cli_now_ms();
	if (err)
		beep();
}

/* --------------------------------------------------------------------
 * Loading
 */

static void
ui_load_prompts(struct ui *u)
{
	struct ctl_prompt *ps;
	size_t n;

	if (ui_data_prompts(&u->d, &ps, &n, u->load_err[UI_PROMPTS],
	                    sizeof(u->load_err[UI_PROMPTS])) == -1) {
		u->prompts_ok = false;
		return;
	}
	free(u->prompts);
	u->prompts = ps;
	u->n_prompts = n;
	u->prompts_ok = true;
	u->load_err[UI_PROMPTS][0] = '\0';
}

static void
ui_load_rules(struct ui *u)
{
	struct rules_set set;

	rules_set_init(&set);
	if (ui_data_rules(&u->d, &set, u->load_err[UI_RULES],
	                  sizeof(u->load_err[UI_RULES])) == -1) {
		rules_set_free(&set);
		return;
	}
	rules_set_free(&u->rules);
	u->rules = set;
	u->load_err[UI_RULES][0] = '\0';
}

/*
 * Keep rows[0..n) (after what is held, or instead of it when whole), the
 * newest UI_EVENTS_MAX in all.  A cursor that is not on the newest row
 * stays on its event: it moves down by the new rows it shows.
 */
static void
ui_events_keep(struct ui *u, const struct event_row *rows, size_t n, bool whole)
{
	int64_t held = u->n_events > 0 ? u->events[u->n_events - 1].id : 0;
	size_t drop, i, t, shown;
	static const enum ui_tab tabs[] = {UI_CONNS, UI_EVENTS};

	if (whole)
		u->n_events = 0;
	if (n > UI_EVENTS_MAX) {
		rows += n - UI_EVENTS_MAX;
		n = UI_EVENTS_MAX;
	}
	if (u->n_events + n > UI_EVENTS_MAX) {
		drop = u->n_events + n - UI_EVENTS_MAX;
		memmove(u->events, u->events + drop,
		        (u->n_events - drop) * sizeof(*u->events));
		u->n_events -= drop;
	}
	memcpy(u->events + u->n_events, rows, n * sizeof(*rows));
	u->n_events += n;
	for (t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++) {
		struct ui_cursor *c = &u->cur[tabs[t]];

		if (c->sel == 0 || held == 0)
			continue;
		for (i = 0, shown = 0; i < u->n_events; i++)
			if (u->events[i].id > held && ui_keep(u, tabs[t], i))
				shown++;
		c->sel += shown;
		c->top += shown;
	}
}

/* The events after the newest held; all of the newest again when whole
 * (their bytes fill in when they close). */
static void
ui_load_events(struct ui *u, enum ui_tab tab, bool whole)
{
	struct event_row *rows;
	int64_t max_id, after = 0;
	size_t n;

	if (!whole && u->n_events > 0)
		after = u->events[u->n_events - 1].id;
	if (ui_data_events(&u->d, after, UI_EVENTS_MAX, &rows, &n, &max_id,
	                   u->load_err[tab], sizeof(u->load_err[tab])) == -1)
		return;
	ui_events_keep(u, rows, n, after == 0);
	free(rows);
	u->load_err[UI_CONNS][0] = u->load_err[UI_EVENTS][0] = '\0';
}

/* The apps of the last day (with stats), and the names of the one
 * chosen. */
static void
ui_load_apps(struct ui *u, bool stats)
{
	struct events_stats st;
	struct events_top *tops;
	int64_t since = cli_now_ms() - UI_APPS_SINCE_MS;
	size_t n;
	long k;

	if (stats) {
		if (ui_data_apps(&u->d, since, &st, u->load_err[UI_APPS],
		                 sizeof(u->load_err[UI_APPS])) == -1) {
			events_stats_free(&st);
			return;
		}
		events_stats_free(&u->apps);
		u->apps = st;
		u->load_err[UI_APPS][0] = '\0';
	}
	free(u->domains);
	u->domains = NULL;
	u->n_domains = 0;
	if ((k = ui_chosen(u, UI_APPS)) < 0)
		return;
	if (ui_data_app_domains(&u->d, u->apps.apps[k].key, since, &tops, &n,
	                        u->load_err[UI_APPS],
	                        sizeof(u->load_err[UI_APPS])) == 0) {
		u->domains = tops;
		u->n_domains = n;
	}
}

/*
 * What the tab shown needs, again: each kind when its time has come, or
 * at once with now; the apps' counts at once only with all (^L), as they
 * may take a second.
 */
enum ui_load_how {
	UI_LOAD_TICK,
	UI_LOAD_NOW,
	UI_LOAD_ALL,
};

static void
ui_load(struct ui *u, enum ui_load_how how)
{
	int64_t t = cli_now_ms();
	bool now = how != UI_LOAD_TICK;

	ui_load_prompts(u);
	switch (u->tab) {
	case UI_RULES:
		if (now || t - u->rules_ms >= UI_RULES_EVERY_MS) {
			ui_load_rules(u);
			u->rules_ms = t;
		}
		break;
	case UI_CONNS:
	case UI_EVENTS:
		if (now || t - u->events_ms >= UI_EVENTS_EVERY_MS) {
			ui_load_events(u, u->tab, true);
			u->events_ms = t;
		} else
			ui_load_events(u, u->tab, false);
		break;
	case UI_APPS:
		if (how == UI_LOAD_ALL || u->apps_ms == 0 ||
		    t - u->apps_ms >= UI_APPS_EVERY_MS) {
			ui_load_apps(u, true);
			u->apps_ms = t;
		}
		break;
	default:
		break;
	}
}

/* --------------------------------------------------------------------
 * Actions
 */

/* A data layer call's outcome on the status line; rc as it returned. */
static void
ui_done(struct ui *u, int rc, const char *msg, const char *err)
{
	if (rc == 0)
		ui_say(u, false, "%s", msg);
	else
		ui_say(u, true, "%s", err);
}

/* Prompts: the answer of key k to the chosen prompt, as --tty's keys. */
static void
ui_answer(struct ui *u, const struct actions_def *def)
{
	char msg[UI_ERRLEN], err[UI_ERRLEN];
	struct actions_choice c;
	const struct ctl_prompt *p;
	enum ctl_duration dur;
	long k;

	if ((k = ui_chosen(u, UI_PROMPTS)) < 0) {
		ui_say(u, true, "no prompt to answer");
		return;
	}
	p = &u->prompts[k];
	if (!actions_resolve(p, def, &c)) {
		ui_say(u, true, "%c: prompt %llu does not offer that answer",
		       def->key, (unsigned long long)p->id);
		return;
	}
	dur = c.duration;
	if (dur != CTL_DUR_ONCE && u->dur_pick >= 0)
		dur = (enum ctl_duration)u->dur_pick;
	ui_done(u,
	        ui_data_answer(&u->d, p->id, def->verdict, c.scope, dur, msg,
	                       sizeof(msg), err, sizeof(err)),
	        msg, err);
	ui_load_prompts(u);
}

/* Prompts: Enter, the answer no answer amounts to, now. */
static void
ui_answer_default(struct ui *u)
{
	struct actions_choice c;
	long k;

	if ((k = ui_chosen(u, UI_PROMPTS)) < 0) {
		ui_say(u, true, "no prompt to answer");
		return;
	}
	if (!actions_default(&u->prompts[k], &c)) {
		ui_say(u, true, "prompt %llu has no default among its answers",
		       (unsigned long long)u->prompts[k].id);
		return;
	}
	ui_answer(u, c.def);
}

/* Prompts: t, the next duration the chosen prompt offers for an
 * "always" answer, in the prompt agent's order (once, 30 minutes, 1 hour,
 * until restart, always; once is not an "always"). */
static void
ui_next_duration(struct ui *u)
{
	static struct ctl_prompt any; /* no prompt chosen: every duration */
	const struct ctl_prompt *p = &any;
	struct actions_pick k;
	long at;
	int i;

	any.durations = ~0u;
	if ((at = ui_chosen(u, UI_PROMPTS)) >= 0)
		p = &u->prompts[at];
	k.duration =
	    u->dur_pick < 0 ? CTL_DUR_FOREVER : (enum ctl_duration)u->dur_pick;
	for (i = 0; i < CTL_N_DURATIONS; i++) {
		actions_pick_duration(p, &k);
		if (k.duration != CTL_DUR_ONCE)
			break;
	}
	u->dur_pick = k.duration;
	ui_say(u, false, "\"always\" answers now last: %s",
	       ctl_duration_name(k.duration));
}

/* Connections and Events: a rule for the chosen event's app and name. */
static void
ui_rule_from_event(struct ui *u, enum action act)
{
	char msg[UI_ERRLEN], err[UI_ERRLEN];
	const struct event_row *e;
	long k;

	if ((k = ui_chosen(u, u->tab)) < 0) {
		ui_say(u, true, "no event chosen");
		return;
	}
	e = &u->events[k];
	if (e->exe[0] == '\0') {
		/* A rule for "*" would be every program's. */
		ui_say(u, true, "the app of this event is not known: no rule");
		return;
	}
	ui_done(u,
	        ui_data_rule_add(&u->d, e->exe, ui_event_dest(e), act, msg,
	                         sizeof(msg), err, sizeof(err)),
	        msg, err);
}

/* Events: to the rule that decided the chosen event. */
static void
ui_to_rule(struct ui *u)
{
	const struct event_row *e;
	size_t n, i, *idx;
	long k;

	if ((k = ui_chosen(u, UI_EVENTS)) < 0)
		return;
	e = &u->events[k];
	if (e->decider != DECIDER_RULE || e->rule_id <= 0) {
		ui_say(u, true, "no rule decided this event (%s)",
		       event_decider_str(e->decider));
		return;
	}
	ui_load_rules(u);
	u->filter[UI_RULES][0] = '\0';
	idx = ui_view(u, UI_RULES, &n);
	for (i = 0; i < n; i++)
		if (u->rules.rules[idx[i]].id == e->rule_id)
			break;
	free(idx);
	if (i == n) {
		ui_say(u, true, "rule %lld is gone", (long long)e->rule_id);
		return;
	}
	u->tab = UI_RULES;
	u->cur[UI_RULES].sel = i;
}

/* Rules: the chosen rule, or NULL after saying there is none. */
static const struct rule *
ui_rule(struct ui *u)
{
	long k = ui_chosen(u, UI_RULES);

	if (k < 0) {
		ui_say(u, true, "no rule chosen");
		return NULL;
	}
	return &u->rules.rules[k];
}

static void
ui_rule_verb(struct ui *u, enum ctl_verb verb, int64_t id)
{
	char msg[UI_ERRLEN], err[UI_ERRLEN];

	ui_done(u,
	        ui_data_rule_by_id(&u->d, verb, id, msg, sizeof(msg), err,
	                           sizeof(err)),
	        msg, err);
	ui_load_rules(u);
}

static void
ui_rule_edit(struct ui *u, int64_t id, int act, const char *dur)
{
	char msg[UI_ERRLEN], err[UI_ERRLEN];

	ui_done(u,
	        ui_data_rule_edit(&u->d, id, act, dur, msg, sizeof(msg), err,
	                          sizeof(err)),
	        msg, err);
	ui_load_rules(u);
}

/* --------------------------------------------------------------------
 * Keys
 */

static void
ui_move(struct ui *u, long by)
{
	struct ui_cursor *c = &u->cur[u->tab];
	size_t n, *idx;
	long sel;

	idx = ui_view(u, u->tab, &n);
	free(idx);
	sel = (long)c->sel + by;
	if (sel >= (long)n)
		sel = (long)n - 1;
	if (sel < 0)
		sel = 0;
	c->sel = (size_t)sel;
	if (u->tab == UI_APPS)
		ui_load_apps(u, false);
}

/* Typing into inbuf: true while it goes on; *done when Enter ended it,
 * false with Esc. */
static bool
ui_type(struct ui *u, int ch, bool *done)
{
	size_t len = strlen(u->inbuf);

	*done = false;
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		*done = true;
		return false;
	}
	if (ch == 27)
		return false;
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len > 0)
			u->inbuf[len - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && len + 1 < sizeof(u->inbuf)) {
		u->inbuf[len] = (char)ch;
		u->inbuf[len + 1] = '\0';
	}
	return true;
}

static void
ui_key_input(struct ui *u, int ch)
{
	bool done;

	switch (u->input) {
	case UI_IN_HELP:
		u->input = UI_IN_KEYS;
		return;
	case UI_IN_CONFIRM:
		u->input = UI_IN_KEYS;
		if (ch == 'y' || ch == 'Y')
			ui_rule_verb(u, CTL_RULE_DEL, u->in_rule);
		else
			ui_say(u, false, "rule %lld kept",
			       (long long)u->in_rule);
		return;
	case UI_IN_FILTER:
		if (!ui_type(u, ch, &done)) {
			u->input = UI_IN_KEYS;
			if (!done)
				u->inbuf[0] = '\0';
		}
		snprintf(u->filter[u->tab], sizeof(u->filter[u->tab]), "%s",
		         u->inbuf);
		u->cur[u->tab].sel = u->cur[u->tab].top = 0;
		return;
	case UI_IN_DURATION:
		if (ui_type(u, ch, &done))
			return;
		u->input = UI_IN_KEYS;
		if (done && u->inbuf[0] != '\0')
			ui_rule_edit(u, u->in_rule, -1, u->inbuf);
		return;
	default:
		return;
	}
}

static void
ui_key_rules(struct ui *u, int ch)
{
	const struct rule *r;

	if ((r = ui_rule(u)) == NULL)
		return;
	switch (ch) {
	case 'e':
		ui_rule_verb(u, CTL_RULE_ENABLE, r->id);
		break;
	case 'x':
		ui_rule_verb(u, CTL_RULE_DISABLE, r->id);
		break;
	case ' ':
		ui_rule_verb(u, r->enabled ? CTL_RULE_DISABLE : CTL_RULE_ENABLE,
		             r->id);
		break;
	case 'D':
		u->in_rule = r->id;
		u->input = UI_IN_CONFIRM;
		break;
	case 't':
		ui_rule_edit(u, r->id, (r->action + 1) % 3, NULL);
		break;
	case 'E':
		u->in_rule = r->id;
		u->inbuf[0] = '\0';
		u->input = UI_IN_DURATION;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'v':
		u->ev_rule = r->id;
		u->filter[UI_EVENTS][0] = '\0';
		u->cur[UI_EVENTS].sel = u->cur[UI_EVENTS].top = 0;
		u->tab = UI_EVENTS;
		break;
	}
}

/* A key of the tab shown; false when it means nothing there. */
static bool
ui_key_tab(struct ui *u, int ch)
{
	const struct actions_def *def;

	switch (u->tab) {
	case UI_PROMPTS:
		if (ch == 't') {
			ui_next_duration(u);
			return true;
		}
		if (ch == '\n' || ch == KEY_ENTER) {
			ui_answer_default(u);
			return true;
		}
		if ((def = actions_by_key(ch)) != NULL) {
			ui_answer(u, def);
			return true;
		}
		return false;
	case UI_CONNS:
		if (ch == 'd') {
			ui_rule_from_event(u, ACTION_DENY);
			return true;
		}
		return false;
	case UI_RULES:
		if ((ch <= 0 || ch > 0x7f || strchr("exDtEv \n", ch) == NULL) &&
		    ch != KEY_ENTER)
			return false;
		ui_key_rules(u, ch);
		return true;
	case UI_EVENTS:
		if (ch == 'a' || ch == 'd') {
			ui_rule_from_event(u, ch == 'a' ? ACTION_ALLOW
			                                : ACTION_DENY);
			return true;
		}
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 'r') {
			ui_to_rule(u);
			return true;
		}
		if (ch == 27 && u->ev_rule != 0) {
			u->ev_rule = 0;
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* One key; false to quit. */
static bool
ui_key(struct ui *u, int ch)
{
	enum ui_tab was = u->tab;
	int page = LINES > 8 ? LINES - 6 : 1;

	if (u->input != UI_IN_KEYS) {
		ui_key_input(u, ch);
		return true;
	}
	if (ui_key_tab(u, ch))
		return true;
	switch (ch) {
	case 'q':
		return false;
	case '?':
		u->input = UI_IN_HELP;
		break;
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
		u->tab = (enum ui_tab)(ch - '1');
		break;
	case '\t':
	case KEY_RIGHT:
		u->tab = (enum ui_tab)((u->tab + 1) % UI_N_TABS);
		break;
	case KEY_BTAB:
	case KEY_LEFT:
		u->tab = (enum ui_tab)((u->tab + UI_N_TABS - 1) % UI_N_TABS);
		break;
	case 'j':
	case KEY_DOWN:
		ui_move(u, 1);
		break;
	case 'k':
	case KEY_UP:
		ui_move(u, -1);
		break;
	case KEY_NPAGE:
		ui_move(u, page);
		break;
	case KEY_PPAGE:
		ui_move(u, -page);
		break;
	case KEY_HOME:
	case 'g':
		ui_move(u, -(long)UI_EVENTS_MAX * 1000);
		break;
	case KEY_END:
	case 'G':
		ui_move(u, (long)UI_EVENTS_MAX * 1000);
		break;
	case '/':
		if (u->tab == UI_RULES || u->tab == UI_EVENTS ||
		    u->tab == UI_APPS) {
			/* A new filter, as a search starts anew. */
			u->inbuf[0] = '\0';
			u->filter[u->tab][0] = '\0';
			u->input = UI_IN_FILTER;
		} else
			ui_say(u, true, "/ filters Rules, Events and Apps");
		break;
	case 12: /* ^L: draw and read everything again */
		clearok(curscr, TRUE);
		ui_load(u, UI_LOAD_ALL);
		break;
	case KEY_RESIZE:
	case ERR:
		break;
	default:
		ui_say(u, true, "that key does nothing here; ? lists the keys");
		break;
	}
	if (u->tab != was)
		ui_load(u, UI_LOAD_NOW);
	return true;
}

/* --------------------------------------------------------------------
 * tollgate ui
 */

static const struct cli_opt ui_opts[] = {
    {"ascii", 0, NULL, "no UTF-8, whatever the locale says", 0},
};

static const struct cli_optset ui_optset = {
    .opts = ui_opts,
    .n_opts = sizeof(ui_opts) / sizeof(ui_opts[0]),
    .help_col = 11,
};

static void
ui_help(const struct cli_cmd *cmd)
{
	cli_help_head(cmd->name, cmd->args, cmd->help);
	printf("\n");
	cli_opts_help(stdout, &ui_optset);
	printf("\n"
	       "Tabs: 1 Prompts, 2 Connections, 3 Rules, 4 Events, 5 Apps "
	       "(Tab,\n"
	       "left and right switch).  ? in the UI lists each tab's keys; "
	       "q quits.\n"
	       "Who is not root or in admin_group sees and changes what "
	       "tollgated\n"
	       "lets them.  See tollgate(8).\n");
}

int
cli_ui(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
       char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	char err[UI_ERRLEN];
	struct ui *u;
	bool ascii = false, go = true;
	int64_t loaded;
	int rc, next, ch;

	rc = cli_opts_parse(&ui_optset, CLI_OPTS_ALL, &who, argc, argv, &ascii,
	                    &next);
	if (rc == CLI_OPTS_HELP) {
		ui_help(cmd);
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (next < argc)
		return cli_usage(&who, "unexpected argument \"%s\"",
		                 argv[next]);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return cli_fail(&who, "out of memory");
	setlocale(LC_ALL, "");
	cli_term_get(&u->term, ascii);
	if (ui_data_open(&u->d, opts, err, sizeof(err)) == -1) {
		free(u);
		return cli_fail(&who, "%s", err);
	}
	rules_set_init(&u->rules);
	u->dur_pick = -1;
	if (initscr() == NULL) {
		ui_data_close(&u->d);
		free(u);
		return cli_fail(&who, "cannot start curses on this terminal");
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(50);
	curs_set(0);
	if ((u->color = has_colors())) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_RED, -1);
		init_pair(3, COLOR_YELLOW, -1);
		init_pair(4, COLOR_CYAN, -1);
	}
	/* getch() waits a tick at most; the data is looked at again once a
	 * tick, also while keys come. */
	timeout(UI_TICK_MS);
	if ((u->events = calloc(UI_EVENTS_MAX, sizeof(*u->events))) == NULL) {
		endwin();
		ui_data_close(&u->d);
		free(u);
		return cli_fail(&who, "out of memory");
	}
	ui_load(u, UI_LOAD_ALL);
	loaded = cli_now_ms();
	while (go) {
		ui_draw(u);
		ch = getch();
		if (ch != ERR)
			go = ui_key(u, ch == '\r' ? '\n' : ch);
		if (go && cli_now_ms() - loaded >= UI_TICK_MS) {
			ui_load(u, UI_LOAD_TICK);
			loaded = cli_now_ms();
		}
	}
	endwin();
	ui_data_close(&u->d);
	rules_set_free(&u->rules);
	events_stats_free(&u->apps);
	free(u->prompts);
	free(u->events);
	free(u->domains);
	free(u);
	return CLI_EXIT_OK;
}
