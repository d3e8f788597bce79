/*
 * ui_draw.c - what "tollgate ui" shows (ui.h): the tab line, the tab's
 * table, the line of its keys or filter, and the status line.  Reads
 * the state of struct ui and nothing else; changes only the cursors, to
 * keep the chosen row on the screen.
 *
 * Colours only underline what the words say (allow, deny, the row
 * chosen is reversed): a monochrome terminal shows everything.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ui.h"
#include "cli/values.h"
#include "prompt/actions.h"

#define UI_TOP         2 /* the first row of a table's rows */
#define UI_CELL_MAX    1024
#define UI_PROMPT_ROWS 4
#define UI_TAB_TAIL                                                            \
	"?:keys q:quit" /* prompts listed above the chosen one's text */

static const char *const ui_tab_names[UI_N_TABS] = {
    "Prompts", "Connections", "Rules", "Events", "Apps",
};

/* One column of a table; width 0: what the others leave. */
struct ui_col {
	const char *head;
	int width;
	bool right, cut_left;
};

/* --------------------------------------------------------------------
 * Helpers
 */

static attr_t
ui_color(const struct ui *u, int pair)
{
	return u->color ? COLOR_PAIR(pair) : A_NORMAL;
}

static attr_t
ui_verdict_attr(const struct ui *u, enum action a)
{
	return a == ACTION_ALLOW ? ui_color(u, 1) : ui_color(u, 2) | A_BOLD;
}

/* s made safe and cut to width columns, at y, x. */
static void
ui_put(const struct ui *u, int y, int x, int width, const char *s, bool right,
       bool cut_left)
{
	char out[UI_CELL_MAX];
	int w;

	if (width <= 0)
		return;
	cli_ev_text(&u->term, s, (size_t)width, cut_left, out, sizeof(out));
	w = (int)cli_ev_width(out);
	mvaddstr(y, right && w < width ? x + width - w : x, out);
}

/* The widths of cols[n] on this screen: the flexible one gets the rest
 * (at least 8). */
static void
ui_widths(struct ui_col *cols, size_t n)
{
	int used = 0;
	size_t i, flex = n;

	for (i = 0; i < n; i++) {
		if (cols[i].width == 0)
			flex = i;
		used += cols[i].width + 1;
	}
	if (flex < n)
		cols[flex].width = COLS - used > 8 ? COLS - used : 8;
}

/* One row of cells at y; attrs[i] for cell i (NULL: none). */
static void
ui_row(const struct ui *u, int y, const struct ui_col *cols, size_t n,
       const char *const *cells, const attr_t *attrs)
{
	int x = 0;
	size_t i;

	for (i = 0; i < n && x < COLS; i++) {
		if (attrs != NULL && attrs[i] != A_NORMAL)
			attron(attrs[i]);
		ui_put(u, y, x,
		       cols[i].width < COLS - x ? cols[i].width : COLS - x,
		       cells[i], cols[i].right, cols[i].cut_left);
		if (attrs != NULL && attrs[i] != A_NORMAL)
			attroff(attrs[i]);
		x += cols[i].width + 1;
	}
}

static void
ui_head(const struct ui *u, const struct ui_col *cols, size_t n)
{
	const char *cells[16];
	size_t i;

	for (i = 0; i < n && i < 16; i++)
		cells[i] = cols[i].head;
	attron(A_BOLD | A_UNDERLINE);
	move(1, 0);
	clrtoeol();
	ui_row(u, 1, cols, n, cells, NULL);
	attroff(A_BOLD | A_UNDERLINE);
}

/* Keep cur's chosen row within rows lines of n. */
static void
ui_scroll(struct ui_cursor *c, size_t n, int rows)
{
	if (n == 0) {
		c->sel = c->top = 0;
		return;
	}
	if (c->sel >= n)
		c->sel = n - 1;
	if (rows < 1)
		rows = 1;
	if (c->sel < c->top)
		c->top = c->sel;
	if (c->sel >= c->top + (size_t)rows)
		c->top = c->sel - (size_t)rows + 1;
}

/* Reverse the line at y: the row chosen. */
static void
ui_mark(int y)
{
	mvchgat(y, 0, -1, A_REVERSE, 0, NULL);
}

/* The rows of the table: from UI_TOP to above the two last lines. */
static int
ui_table_rows(void)
{
	return LINES - UI_TOP - 2;
}

/* "nothing here" in the middle of an empty table, with why. */
static void
ui_empty(const struct ui *u, const char *what)
{
	const char *why = u->load_err[u->tab];

	ui_put(u, UI_TOP + 1, 2, COLS - 4, why[0] != '\0' ? why : what, false,
	       false);
}

static const char *
ui_user(bool has, uid_t uid, char *buf, size_t len)
{
	if (!has)
		return "*";
	cli_user_name(uid, buf, len);
	return buf;
}

static const char *
ui_base(const char *path)
{
	const char *b = strrchr(path, '/');

	if (path[0] == '\0')
		return "(unknown)";
	return b != NULL && b[1] != '\0' ? b + 1 : path;
}

/* --------------------------------------------------------------------
 * The tabs
 */

static void
ui_draw_prompts(struct ui *u)
{
	static struct ui_col cols[] = {
	    {"ID", 5, true, false},     {"APP", 14, false, false},
	    {"USER", 10, false, false}, {"DESTINATION", 0, false, true},
	    {"LEFT", 5, true, false},
	};
	struct actions_choice ch[ACTIONS_N];
	struct actions_text *text;
	const struct ctl_prompt *p;
	char id[32], left[32], dest[ACTIONS_DEST_MAX], user[64], line[256];
	const char *cells[5], *s, *nl;
	size_t n, i, k, *idx;
	int y, rows = UI_PROMPT_ROWS;
	time_t now = time(NULL);

	ui_widths(cols, 5);
	ui_head(u, cols, 5);
	idx = ui_view(u, UI_PROMPTS, &n);
	if (n == 0) {
		ui_empty(u, "no pending prompts");
		free(idx);
		return;
	}
	ui_scroll(&u->cur[UI_PROMPTS], n, rows);
	for (i = u->cur[UI_PROMPTS].top, y = UI_TOP; i < n && y < UI_TOP + rows;
	     i++, y++) {
		p = &u->prompts[idx[i]];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
		snprintf(left, sizeof(left), "%llds",
		         (long long)(p->expires > now ? p->expires - now : 0));
		actions_dest(p, dest, sizeof(dest));
		cells[0] = id;
		cells[1] = ui_base(p->app);
		cells[2] = p->user[0] != '\0'
		               ? p->user
		               : ui_user(true, p->uid, user, sizeof(user));
		cells[3] = dest;
		cells[4] = left;
		ui_row(u, y, cols, 5, cells, NULL);
		if (i == u->cur[UI_PROMPTS].sel)
			ui_mark(y);
	}
	p = &u->prompts[idx[u->cur[UI_PROMPTS].sel]];
	free(idx);
	y = UI_TOP + rows + 1;
	if ((text = malloc(sizeof(*text))) == NULL)
		return;
	actions_describe(p, text);
	attron(A_BOLD);
	ui_put(u, y++, 0, COLS, text->summary, false, false);
	attroff(A_BOLD);
	for (s = text->body; *s != '\0' && y < LINES - 2 - 4; y++) {
		nl = strchr(s, '\n');
		k = nl != NULL ? (size_t)(nl - s) : strlen(s);
		snprintf(line, sizeof(line), "%.*s", (int)k, s);
		ui_put(u, y, 2, COLS - 2, line, false, false);
		s += k + (nl != NULL);
	}
	free(text);
	n = actions_offered(p, ch);
	y++;
	for (i = 0; i < n && y < LINES - 2; i++) {
		enum ctl_duration d = ch[i].duration;

		if (d != CTL_DUR_ONCE && u->dur_pick >= 0)
			d = (enum ctl_duration)u->dur_pick;
		snprintf(line, sizeof(line), "[%c] %s%s%s", ch[i].def->key,
		         ch[i].label, d != ch[i].duration ? ", for " : "",
		         d != ch[i].duration
		             ? ctl_duration_name((enum ctl_duration)d)
		             : "");
		/* Two columns when they fit. */
		ui_put(u, y, (int)(i % 2) * (COLS / 2), COLS / 2 - 1, line,
		       false, false);
		if (i % 2 == 1)
			y++;
	}
}

/* Connections and Events: the newest events. */
static void
ui_draw_events(struct ui *u, bool conns)
{
	static struct ui_col ccols[] = {
	    {"AGE", 6, true, false},   {"VERDICT", 7, false, false},
	    {"APP", 14, false, false}, {"DESTINATION", 0, false, true},
	    {"PORT", 5, true, false},  {"SOURCE", 6, false, false},
	    {"BYTES", 7, true, false},
	};
	static struct ui_col ecols[] = {
	    {"TIME", 8, false, false},        {"VERDICT", 7, false, false},
	    {"APP", 12, false, false},        {"USER", 8, false, false},
	    {"DESTINATION", 0, false, true},  {"PORT", 5, true, false},
	    {"DECIDED BY", 10, false, false},
	};
	struct ui_col *cols = conns ? ccols : ecols;
	enum ui_tab tab = conns ? UI_CONNS : UI_EVENTS;
	struct ui_cursor *c = &u->cur[tab];
	char a[32], port[8], b[32], user[64], by[32];
	const char *cells[7];
	attr_t attrs[7] = {0};
	const struct event_row *e;
	size_t n, i, *idx;
	int64_t now = cli_now_ms();
	int y;

	ui_widths(cols, 7);
	ui_head(u, cols, 7);
	idx = ui_view(u, tab, &n);
	if (n == 0) {
		ui_empty(u, u->ev_rule != 0 && !conns
		                ? "no events of this rule among the newest"
		                : "no events yet");
		free(idx);
		return;
	}
	ui_scroll(c, n, ui_table_rows());
	for (i = c->top, y = UI_TOP; i < n && y < UI_TOP + ui_table_rows();
	     i++, y++) {
		e = &u->events[idx[i]];
		snprintf(port, sizeof(port), "%u", e->dst_port);
		attrs[1] = ui_verdict_attr(u, e->verdict);
		cells[1] = action_name(e->verdict);
		if (conns) {
			cells[0] =
			    cli_ev_duration(now - e->time_ms, a, sizeof(a));
			cells[2] = ui_base(e->exe);
			cells[3] = ui_event_dest(e);
			cells[4] = port;
			cells[5] = e->name_source;
			if (e->bytes_up < 0 && e->verdict == ACTION_ALLOW &&
			    strcmp(e->proto, "tcp") == 0 &&
			    !(e->flags & EVENT_F_INTERRUPTED))
				snprintf(b, sizeof(b), "open");
			else
				cli_ev_bytes(e->bytes_up < 0
				                 ? -1
				                 : e->bytes_up + e->bytes_down,
				             b, sizeof(b));
			cells[6] = b;
		} else {
			cells[0] = cli_ev_time_short(e->time_ms, now / 1000, a,
			                             sizeof(a));
			cells[2] = ui_base(e->exe);
			cells[3] = e->user[0] != '\0'
			               ? e->user
			               : ui_user(e->has_uid, e->uid, user,
			                         sizeof(user));
			cells[4] = ui_event_dest(e);
			cells[5] = port;
			if (e->decider == DECIDER_RULE)
				snprintf(by, sizeof(by), "rule %lld",
				         (long long)e->rule_id);
			else
				snprintf(by, sizeof(by), "%s",
				         event_decider_str(e->decider));
			cells[6] = by;
		}
		ui_row(u, y, cols, 7, cells, attrs);
		if (i == c->sel)
			ui_mark(y);
	}
	free(idx);
}

static void
ui_draw_rules(struct ui *u)
{
	static struct ui_col cols[] = {
	    {"ID", 4, true, false},          {"ON", 3, false, false},
	    {"ACTION", 6, false, false},     {"APP", 14, false, false},
	    {"DESTINATION", 0, false, true}, {"USER", 8, false, false},
	    {"DURATION", 12, false, false},  {"HITS", 5, true, false},
	};
	struct ui_cursor *c = &u->cur[UI_RULES];
	char id[32], dest[NAME_MAX_LEN + 32], user[64], dur[64], hits[32];
	char left[32];
	int64_t now = cli_now_ms();
	const char *cells[8];
	attr_t attrs[8] = {0};
	const struct rule *r;
	size_t n, i, *idx;
	int y;

	ui_widths(cols, 8);
	ui_head(u, cols, 8);
	idx = ui_view(u, UI_RULES, &n);
	if (n == 0) {
		ui_empty(u, u->filter[UI_RULES][0] != '\0'
		                ? "no rule matches the filter"
		                : "no rules");
		free(idx);
		return;
	}
	ui_scroll(c, n, ui_table_rows());
	for (i = c->top, y = UI_TOP; i < n && y < UI_TOP + ui_table_rows();
	     i++, y++) {
		r = &u->rules.rules[idx[i]];
		snprintf(id, sizeof(id), "%lld", (long long)r->id);
		rule_dest_str(r, dest, sizeof(dest));
		if (r->port_lo != 0) {
			size_t l = strlen(dest);

			if (r->port_lo == r->port_hi)
				snprintf(dest + l, sizeof(dest) - l, ":%u",
				         r->port_lo);
			else
				snprintf(dest + l, sizeof(dest) - l, ":%u-%u",
				         r->port_lo, r->port_hi);
		}
		snprintf(hits, sizeof(hits), "%llu",
		         (unsigned long long)r->hits);
		cells[0] = id;
		cells[1] = r->enabled ? "on" : "off";
		cells[2] = action_name(r->action);
		cells[3] = strcmp(r->app, "*") == 0 ? "*" : ui_base(r->app);
		cells[4] = dest;
		cells[5] = ui_user(r->has_uid, r->uid, user, sizeof(user));
		if (r->duration == DUR_UNTIL) {
			/* What is left: "59m left", not a time to work out. */
			cli_ev_duration(r->expires > now / 1000
			                    ? (r->expires - now / 1000) * 1000
			                    : 0,
			                left, sizeof(left));
			snprintf(dur, sizeof(dur), "%s left", left);
			cells[6] = dur;
		} else
			cells[6] = rule_duration_str(r, dur, sizeof(dur));
		cells[7] = hits;
		attrs[1] = r->enabled ? A_NORMAL : A_DIM;
		attrs[2] = ui_verdict_attr(u, r->action);
		ui_row(u, y, cols, 8, cells, attrs);
		if (i == c->sel)
			ui_mark(y);
	}
	free(idx);
}

static void
ui_draw_apps(struct ui *u)
{
	static struct ui_col cols[] = {
	    {"APP", 18, false, true},
	    {"CONNS", 6, true, false},
	    {"DENIED", 6, true, false},
	    {"NAMES OF THE APP CHOSEN", 0, false, true},
	    {"CONNS", 6, true, false},
	    {"DENIED", 6, true, false},
	};
	struct ui_cursor *c = &u->cur[UI_APPS];
	char cnt[32], den[32], dcnt[32], dden[32];
	const char *cells[6];
	const struct events_top *t;
	size_t n, i, j, *idx;
	int y, rows = ui_table_rows();

	ui_widths(cols, 6);
	ui_head(u, cols, 6);
	idx = ui_view(u, UI_APPS, &n);
	if (n == 0) {
		ui_empty(u, "no connections in the last 24 hours");
		free(idx);
		return;
	}
	ui_scroll(c, n, rows);
	for (y = UI_TOP, i = c->top, j = 0; y < UI_TOP + rows; y++, i++, j++) {
		cells[0] = cells[1] = cells[2] = cells[3] = cells[4] =
		    cells[5] = "";
		if (i < n) {
			t = &u->apps.apps[idx[i]];
			snprintf(cnt, sizeof(cnt), "%lld", (long long)t->count);
			snprintf(den, sizeof(den), "%lld%%",
			         (long long)(t->count > 0
			                         ? t->denied * 100 / t->count
			                         : 0));
			cells[0] = t->key[0] != '\0' ? t->key : "(unknown)";
			cells[1] = cnt;
			cells[2] = den;
		}
		if (j < u->n_domains) {
			t = &u->domains[j];
			snprintf(dcnt, sizeof(dcnt), "%lld",
			         (long long)t->count);
			snprintf(dden, sizeof(dden), "%lld%%",
			         (long long)(t->count > 0
			                         ? t->denied * 100 / t->count
			                         : 0));
			cells[3] = t->key;
			cells[4] = dcnt;
			cells[5] = dden;
		}
		if (i >= n && j >= u->n_domains)
			break;
		ui_row(u, y, cols, 6, cells, NULL);
		if (i == c->sel)
			mvchgat(y, 0,
			        cols[0].width + cols[1].width + cols[2].width +
			            2,
			        A_REVERSE, 0, NULL);
	}
	free(idx);
}

/* --------------------------------------------------------------------
 * The lines around
 */

static void
ui_draw_tabs(const struct ui *u)
{
	char label[48];
	int i, x = 0;

	for (i = 0; i < UI_N_TABS; i++) {
		if (i == UI_PROMPTS && u->n_prompts > 0)
			snprintf(label, sizeof(label), " %d %s(%zu) ", i + 1,
			         ui_tab_names[i], u->n_prompts);
		else
			snprintf(label, sizeof(label), " %d %s ", i + 1,
			         ui_tab_names[i]);
		if (i == (int)u->tab)
			attron(A_REVERSE | A_BOLD);
		mvaddnstr(0, x, label, COLS - x > 0 ? COLS - x : 0);
		if (i == (int)u->tab)
			attroff(A_REVERSE | A_BOLD);
		x += (int)strlen(label) + 1;
	}
	if (COLS - x >= (int)sizeof(UI_TAB_TAIL))
		mvaddstr(0, COLS - (int)sizeof(UI_TAB_TAIL) + 1, UI_TAB_TAIL);
}

/* The keys of the tab shown, or the filter and what is typed. */
static const char *const ui_tab_keys[UI_N_TABS] = {
    "keys above answer, Enter the default  t: how long \"always\" lasts",
    "d: deny this app and name from now on  j/k: move",
    "/ filter  e/x/space: enable/disable  D delete  t action  "
    "E duration  v events",
    "/ filter  a/d: allow/deny app+name  Enter: its rule  Esc: all",
    "/ filter  j/k: app (its names on the right)",
};

/* The status line: msg on the last line, or on the last two (over the
 * keys) when it is wider than the terminal: a refusal's reason is at
 * its end. */
static void
ui_draw_status(const struct ui *u, const char *msg, attr_t attr)
{
	const char *p = msg;
	char first[UI_ERRLEN];
	int w = 0;

	attron(attr);
	if ((int)cli_ev_width(msg) <= COLS) {
		ui_put(u, LINES - 1, 0, COLS, msg, false, false);
		attroff(attr);
		return;
	}
	/* Cut after COLS characters, at a character's first byte. */
	for (; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && w++ == COLS)
			break;
	snprintf(first, sizeof(first), "%.*s", (int)(p - msg), msg);
	move(LINES - 2, 0);
	clrtoeol();
	ui_put(u, LINES - 2, 0, COLS, first, false, false);
	ui_put(u, LINES - 1, 0, COLS, p, false, false);
	attroff(attr);
}

static void
ui_draw_bottom(const struct ui *u)
{
	char line[UI_ERRLEN + 64];
	int y = LINES - 2;

	move(y, 0);
	clrtoeol();
	switch (u->input) {
	case UI_IN_FILTER:
		snprintf(line, sizeof(line),
		         "filter: %s_  (Enter keeps, Esc clears)", u->inbuf);
		break;
	case UI_IN_CONFIRM:
		snprintf(line, sizeof(line), "delete rule %lld? y/n",
		         (long long)u->in_rule);
		break;
	case UI_IN_DURATION:
		snprintf(line, sizeof(line),
		         "rule %lld lasts: %s_  (once, restart, 30m, 2h, 7d, "
		         "forever; Enter, Esc)",
		         (long long)u->in_rule, u->inbuf);
		break;
	default:
		if (u->tab == UI_EVENTS && u->ev_rule != 0)
			snprintf(line, sizeof(line),
			         "events of rule %lld%s%s  (Esc: all)  %s",
			         (long long)u->ev_rule,
			         u->filter[u->tab][0] != '\0' ? ", filter: "
			                                      : "",
			         u->filter[u->tab], "Enter: the rule");
		else if (u->filter[u->tab][0] != '\0')
			snprintf(line, sizeof(line),
			         "filter: %s  (/ to change)",
			         u->filter[u->tab]);
		else
			snprintf(line, sizeof(line), "%s", ui_tab_keys[u->tab]);
		break;
	}
	attron(ui_color(u, 4));
	ui_put(u, y, 0, COLS, line, false, false);
	attroff(ui_color(u, 4));
	/* The status line: what was done or refused, for a while; else why
	 * the tab has nothing. */
	move(LINES - 1, 0);
	clrtoeol();
	if (u->say[0] != '\0' && cli_now_ms() - u->say_ms < UI_SAY_S * 1000)
		ui_draw_status(u, u->say,
		               u->say_err ? A_BOLD | ui_color(u, 2) : A_NORMAL);
	else if (u->load_err[u->tab][0] != '\0')
		ui_draw_status(u, u->load_err[u->tab], A_BOLD);
}

static void
ui_draw_help(const struct ui *u)
{
	static const char *const lines[] = {
	    "tollgate ui: the keys",
	    "",
	    "1-5, Tab, Left/Right  tabs       j/k, Up/Down, PgUp/PgDn  move",
	    "q  quit     ?  these keys        ^L  read and draw again",
	    "",
	    "Prompts      o a w d n x: the answers (as tollgate-prompt",
	    "             --tty), Enter: the default, t: what \"always\"",
	    "             lasts (1h, restart, forever)",
	    "Connections  d: deny this app and name from now on",
	    "Rules        / filter, e enable, x disable, space both,",
	    "             D delete (y/n), t action, E duration,",
	    "             v or Enter: the events it decided",
	    "Events       / filter (app, name, verdict, user), a/d: allow",
	    "             or deny app+name, Enter: its rule, Esc: all",
	    "Apps         j/k: an app; its names on the right (the",
	    "             counts are read every 30 s, ^L: now)",
	    "",
	    "any key to go back",
	};
	size_t i, n = sizeof(lines) / sizeof(lines[0]);
	int w = 66, x = COLS > w ? (COLS - w) / 2 : 0;
	int y0 = LINES > (int)n + 2 ? (LINES - (int)n - 2) / 2 : 0;

	for (i = 0; i < n + 2 && y0 + (int)i < LINES; i++) {
		move(y0 + (int)i, x);
		hline(' ', w < COLS ? w : COLS);
		if (i > 0 && i <= n)
			ui_put(u, y0 + (int)i, x + 2, w - 4, lines[i - 1],
			       false, false);
	}
	attron(A_BOLD);
	ui_put(u, y0 + 1, x + 2, w - 4, lines[0], false, false);
	attroff(A_BOLD);
}

void
ui_draw(struct ui *u)
{
	erase();
	ui_draw_tabs(u);
	switch (u->tab) {
	case UI_PROMPTS:
		ui_draw_prompts(u);
		break;
	case UI_CONNS:
		ui_draw_events(u, true);
		break;
	case UI_RULES:
		ui_draw_rules(u);
		break;
	case UI_EVENTS:
		ui_draw_events(u, false);
		break;
	case UI_APPS:
		ui_draw_apps(u);
		break;
	default:
		break;
	}
	ui_draw_bottom(u);
	if (u->input == UI_IN_HELP)
		ui_draw_help(u);
	refresh();
}
