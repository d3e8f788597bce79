/*
 * tty.c - the terminal front end (--tty): the pending prompts on an ANSI
 * terminal, for SSH sessions, tmux, and desktops without a notification
 * server.
 *
 * The whole screen is drawn again (clear, home) whenever something
 * changes and once a second for the countdown.  Nothing depends on what
 * the terminal shows already, so a resized or re-attached tmux pane is
 * right again within a second.  Keys are read as they are typed
 * (non-canonical, no echo); the terminal's settings are restored on the
 * way out: after q, SIGINT, SIGTERM, SIGHUP or SIGQUIT (main.c), or
 * exit(); and before a SIGTSTP stops us, to be set again, and the screen
 * drawn, on SIGCONT (which also follows a SIGSTOP).
 *
 * Every string from the daemon passes actions_clean() before it is
 * written, so a command line cannot move the cursor or set colours.
 *
 * The keys: each row of actions_table[] answers at once (o a w d n x);
 * or an answer is put together with v (allow/deny), s (scope), t (how
 * long) and u (the default again), shown in one line, and Enter sends
 * it: Enter alone sends the default.  j, k, Tab, Up, Down and Shift-Tab
 * show another prompt; q quits.  Nothing needs the cursor or colour: a
 * screen reader reads the lines as they are.
 */
#include <errno.h>
#include <glib-unix.h>
#include <limits.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "prompt/ui.h"

#define TTY_MSG_S       6  /* seconds a reply or a complaint stays shown */
#define TTY_URGENT_S    10 /* the countdown stands out from here on */
#define TTY_LINE_MAX    1024
#define TTY_COLS_MIN    40
#define TTY_ROWS_MIN    10
#define TTY_WRAP_MAX    3  /* lines of one wrapped value; the rest is cut */
#define TTY_TWO_COLUMNS 76 /* columns that fit the answers side by side */
#define TTY_ENTER       "\033[?1049h\033[?25l" /* other screen, no cursor */
#define TTY_LEAVE       "\033[?25h\033[?1049l"
#define TTY_CLEAR       "\033[H\033[2J"
#define TTY_BOLD        "\033[1m"
#define TTY_REVERSE     "\033[7m"
#define TTY_DIM         "\033[2m"
#define TTY_PLAIN       "\033[0m"

/*
 * Where the key reader is in an escape sequence, kept from one read to
 * the next: a sequence may come in two reads.  Keys that are sequences
 * (arrows, with Ctrl, Shift or Alt, function keys) are read to their end
 * and never taken for the letters they hold: ESC [ 1 ; 5 A is Ctrl-Up,
 * not A.
 *   GROUND  a key on its own
 *   ESC     ESC read: [ starts a CSI, O an SS3, ESC starts again; any
 *           other byte ends it (Alt and that key)
 *   CSI     ESC [ read: parameter and intermediate bytes (0x20-0x3f)
 *           until a final byte (0x40-0x7e)
 *   SS3     ESC O read: the same (ESC O A, or ESC O 5 A of old xterms)
 */
enum tty_keystate {
	TTY_KEY_GROUND,
	TTY_KEY_ESC,
	TTY_KEY_CSI,
	TTY_KEY_SS3,
};

struct tty {
	bool utf8, color;
	guint in_watch, winch;
	enum tty_keystate keystate;
	/* Bytes of the sequence read between ESC [ (or ESC O) and now. */
	unsigned keyparams;
	unsigned rows, cols;
	uint64_t current; /* the prompt shown in full; 0 when none */
	size_t pos;       /* its place among the pending, kept when it goes */
	/* The answer being put together for it (v, s, t; Enter sends it):
	 * the default again whenever another prompt is shown. */
	uint64_t pick_for;
	struct actions_pick pick;
	bool pick_ok; /* the prompt offers an answer to start from */
	char msg[AGENT_NOTE_MAX]; /* the last reply or complaint */
	int64_t msg_until;
	char fatal[AGENT_NOTE_MAX]; /* said on stderr once the screen is back */
};

/* The screen being drawn: what is left of its rows, and its text. */
struct tty_screen {
	const struct tty *t;
	GString *s;
	unsigned rows_left;
};

/* The terminal as it was, for tty_restore(): also from exit(); and as
 * we set it, for tty_enter(). */
static struct termios tty_saved, tty_rawmode;
static bool tty_raw;

static void
tty_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		/* A terminal that is gone: stdin's end will stop us. */
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void
tty_restore(void)
{
	if (!tty_raw)
		return;
	tty_raw = false;
	tty_write(TTY_LEAVE, strlen(TTY_LEAVE));
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tty_saved) == -1)
		log_warn("restoring the terminal (tcsetattr): %s",
		         strerror(errno));
}

/* Set the terminal up for us (again): keys as typed, the other screen.
 * 0, or -1 with errno (tcsetattr). */
static int
tty_enter(void)
{
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tty_rawmode) == -1)
		return -1;
	tty_raw = true;
	tty_write(TTY_ENTER, strlen(TTY_ENTER));
	return 0;
}

static void
tty_beep(void)
{
	tty_write("\a", 1);
}

static void __attribute__((format(printf, 2, 3)))
tty_say(struct tty *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_until = agent_now() + TTY_MSG_S;
}

/* Characters (columns, as far as we count) of clean UTF-8 text. */
static size_t
tty_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/*
 * Append clean text s in exactly width columns: padded with spaces when
 * pad; when longer, cut and marked with an ellipsis at the end, or with
 * cut_left at the start (a host name, whose end says the most).
 */
static void
tty_fit(const struct tty *t, GString *out, const char *s, size_t width,
        bool pad, bool cut_left)
{
	const char *ell = t->utf8 ? "\xe2\x80\xa6" : "~";
	size_t w = tty_width(s), skip;

	if (w <= width) {
		g_string_append(out, s);
		for (; pad && w < width; w++)
			g_string_append_c(out, ' ');
		return;
	}
	if (width == 0)
		return;
	/* Keep width - 1 characters, from the end or from the start. */
	skip = cut_left ? w - (width - 1) : 0;
	if (cut_left)
		g_string_append(out, ell);
	for (w = 0; *s != '\0' && w < skip + width - 1; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
		if (w > skip)
			g_string_append_c(out, *s);
	}
	/* The rest of the last character kept. */
	for (; ((unsigned char)*s & 0xc0) == 0x80 && w > skip; s++)
		g_string_append_c(out, *s);
	if (!cut_left)
		g_string_append(out, ell);
}

/*
 * One line of the screen in attr (NULL: plain): fmt's text made safe and
 * cut to the width.  The last column stays empty, so that no terminal
 * wraps; lines past the screen's last row are left out.
 */
static void __attribute__((format(printf, 3, 4)))
tty_line(struct tty_screen *sc, const char *attr, const char *fmt, ...)
{
	char raw[TTY_LINE_MAX], clean[TTY_LINE_MAX];
	va_list ap;

	if (sc->rows_left == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	actions_clean(raw, !sc->t->utf8, clean, sizeof(clean));
	if (sc->rows_left < sc->t->rows)
		g_string_append(sc->s, "\r\n");
	if (attr != NULL && sc->t->color)
		g_string_append(sc->s, attr);
	tty_fit(sc->t, sc->s, clean, sc->t->cols - 1, false, false);
	if (attr != NULL && sc->t->color)
		g_string_append(sc->s, TTY_PLAIN);
	sc->rows_left--;
}

/*
 * Text as at most max lines of the width, broken at spaces where it can
 * be (a long path cannot), the last one cut: the first line starts with
 * first, the others with more (indents).
 */
static void
tty_wrap(struct tty_screen *sc, const char *attr, const char *first,
         const char *more, size_t max, const char *text)
{
	char clean[TTY_LINE_MAX];
	const char *p, *q, *cut, *indent = first;
	size_t width, w, n;

	actions_clean(text, !sc->t->utf8, clean, sizeof(clean));
	for (p = clean, n = 1; *p != '\0'; indent = more, n++) {
		if (n == max) {
			tty_line(sc, attr, "%s%s", indent, p);
			return;
		}
		width = sc->t->cols - 1 - strlen(indent);
		cut = NULL;
		w = 0;
		for (q = p; *q != '\0'; q++) {
			if (((unsigned char)*q & 0xc0) != 0x80 && w++ == width)
				break;
			if (*q == ' ')
				cut = q;
		}
		/* A break that would leave the line half empty is not worth
		 * it: cut the long word instead. */
		if (*q == '\0' || *q == ' ' || cut == NULL ||
		    (size_t)(cut - p) < width / 2)
			cut = q;
		tty_line(sc, attr, "%s%.*s", indent, (int)(cut - p), p);
		for (p = cut; *p == ' '; p++)
			;
	}
}

/* The prompt shown in full: the one chosen, or when it went, the one
 * that took its place. */
static struct agent_prompt *
tty_current(struct agent *a)
{
	struct tty *t = a->ui_data;
	size_t i;

	if (a->n_prompts == 0) {
		t->current = 0;
		return NULL;
	}
	for (i = 0; i < a->n_prompts; i++)
		if (a->prompts[i]->p.id == t->current) {
			t->pos = i;
			return a->prompts[i];
		}
	if (t->pos >= a->n_prompts)
		t->pos = a->n_prompts - 1;
	t->current = a->prompts[t->pos]->p.id;
	return a->prompts[t->pos];
}

static void
tty_move(struct agent *a, int step)
{
	struct tty *t = a->ui_data;
	size_t n = a->n_prompts;

	if (tty_current(a) == NULL)
		return;
	t->pos = step > 0 ? (t->pos + 1) % n : (t->pos + n - 1) % n;
	t->current = a->prompts[t->pos]->p.id;
}

/* "12 s", "4 min", "3 h": how long ago. */
static void
tty_age(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%lld s", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lld min", (long long)(s / 60));
	else
		snprintf(buf, len, "%lld h", (long long)(s / 3600));
}

static void
tty_draw_header(struct tty_screen *sc, struct agent *a)
{
	const char *dash = sc->t->utf8 ? "\xe2\x80\x94" : "-";

	if (a->state == AGENT_SUBSCRIBED)
		tty_line(sc, TTY_DIM,
		         "tollgate-prompt %s %zu pending %s agent %u "
		         "of uid %u at %s",
		         dash, a->n_prompts, dash, a->agent_id, a->uid,
		         a->path);
	else
		tty_line(sc, TTY_DIM, "tollgate-prompt %s not connected", dash);
	tty_line(sc, NULL, "%s", "");
}

/*
 * Nothing to answer: say why, and what we wait for.  Connected, nothing
 * is wrong: no connection waits for an answer.  Only a daemon that is
 * really gone is called not running, and the reason is the one true now
 * (the socket file is looked at as the screen is drawn).
 */
static void
tty_draw_idle(struct tty_screen *sc, struct agent *a)
{
	const char *dash = sc->t->utf8 ? "\xe2\x80\x94" : "-";
	struct stat st;

	switch (a->state) {
	case AGENT_SUBSCRIBED:
		tty_line(sc, NULL,
		         "No pending prompts %s no connection waiting for an "
		         "answer",
		         dash);
		tty_line(sc, TTY_DIM, "  connected to tollgated at %s",
		         a->path);
		break;
	case AGENT_SUBSCRIBING:
		tty_line(sc, NULL, "Subscribing to tollgated at %s ...",
		         a->path);
		break;
	case AGENT_DOWN:
		if (a->down && lstat(a->path, &st) == -1 && errno == ENOENT)
			tty_line(sc, NULL,
			         "tollgated is not running (no control socket "
			         "at %s); retrying every %d s",
			         a->path, AGENT_RETRY_MS / 1000);
		else if (a->down)
			tty_line(sc, NULL,
			         "tollgated is not running (nothing answers on "
			         "%s); retrying every %d s",
			         a->path, AGENT_RETRY_MS / 1000);
		else {
			tty_line(sc, NULL,
			         "Not connected to tollgated at %s; retrying "
			         "every %d s",
			         a->path, AGENT_RETRY_MS / 1000);
			tty_wrap(sc, TTY_DIM, "  ", "  ", TTY_WRAP_MAX,
			         a->note);
		}
		break;
	}
	tty_line(sc, NULL, "%s", "");
	tty_line(sc, NULL, "q: quit");
}

/* The answers p offers: allow on the left and deny on the right, or one
 * a line when the terminal is too narrow for two columns. */
static void
tty_draw_actions(struct tty_screen *sc, const struct agent_prompt *ap)
{
	struct actions_choice c[ACTIONS_N];
	const struct actions_choice *col[2][ACTIONS_N];
	size_t n = actions_offered(&ap->p, c), k[2] = {0, 0}, i, j;
	size_t ncols = sc->t->cols >= TTY_TWO_COLUMNS ? 2 : 1;
	size_t width = (sc->t->cols - 3) / ncols; /* a cell and a space */
	char cell[ACTIONS_LABEL_MAX + 8];
	GString *row;

	for (i = 0; i < n; i++) {
		j = ncols == 2 && c[i].def->verdict != ACTION_ALLOW;
		col[j][k[j]++] = &c[i];
	}
	row = g_string_new(NULL);
	for (i = 0; i < k[0] || i < k[1]; i++) {
		g_string_assign(row, "  ");
		for (j = 0; j < ncols; j++) {
			cell[0] = '\0';
			if (i < k[j])
				snprintf(cell, sizeof(cell), "[%c] %s",
				         col[j][i]->def->key, col[j][i]->label);
			tty_fit(sc->t, row, cell, width - 1, j + 1 < ncols,
			        false);
			if (j + 1 < ncols)
				g_string_append_c(row, ' ');
		}
		tty_line(sc, NULL, "%s", row->str);
	}
	g_string_free(row, TRUE);
	if (n == 0)
		tty_line(sc, NULL,
		         "  (this prompt offers no answer this "
		         "program knows)");
}

/* The answer for the prompt shown, put together so far: the default
 * until a key changes it. */
static const struct actions_pick *
tty_pick(struct agent *a, const struct agent_prompt *ap)
{
	struct tty *t = a->ui_data;

	if (t->pick_for != ap->p.id) {
		t->pick_for = ap->p.id;
		t->pick_ok = actions_pick_default(&ap->p, &t->pick);
	}
	return t->pick_ok ? &t->pick : NULL;
}

/*
 * The answer Enter sends, on a line of its own, and the keys that change
 * it: plain lines a screen reader reads as they are, which say what
 * each key would change (the scope a rule would cover among them).
 */
static void
tty_draw_pick(struct tty_screen *sc, struct agent *a,
              const struct agent_prompt *ap)
{
	const struct actions_pick *k = tty_pick(a, ap);
	struct actions_pick dflt;
	char label[ACTIONS_LABEL_MAX], scope[CTL_PROMPT_NAME_MAX + 8];
	char line[ACTIONS_LABEL_MAX * 2 + 128];

	if (k == NULL || ap->answering)
		return;
	actions_pick_label(&ap->p, k, label, sizeof(label));
	actions_pick_default(&ap->p, &dflt);
	tty_line(sc, NULL, "%s", "");
	snprintf(line, sizeof(line), "Your answer: %s%s", label,
	         memcmp(&dflt, k, sizeof(dflt)) == 0 ? " (the default)" : "");
	tty_wrap(sc, TTY_BOLD, "  ", "    ", TTY_WRAP_MAX, line);
	tty_line(sc, TTY_DIM,
	         "  [Enter] send it  [v] allow/deny  [t] how long  [u] the "
	         "default");
	actions_scope_text(&ap->p, k->scope, scope, sizeof(scope));
	snprintf(line, sizeof(line), "[s] scope of a rule: %s", scope);
	tty_wrap(sc, TTY_DIM, "  ", "    ", TTY_WRAP_MAX, line);
}

static void
tty_draw_prompt(struct tty_screen *sc, struct agent *a,
                const struct agent_prompt *ap, int64_t now)
{
	const struct tty *t = sc->t;
	struct actions_text text;
	long left = actions_left(&ap->p, now);
	char head[ACTIONS_SUMMARY_MAX + 32], *line, *save = NULL;

	actions_describe(&ap->p, &text);
	snprintf(head, sizeof(head), "[%zu/%zu] %s", t->pos + 1, a->n_prompts,
	         text.summary);
	/* Wrapped, not cut: the destination is at the end. */
	tty_wrap(sc, TTY_BOLD, "", "  ", TTY_WRAP_MAX, head);
	tty_line(sc, NULL, "%s", "");
	/* A long value goes on under itself, past its "Label:   ". */
	for (line = strtok_r(text.body, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		tty_wrap(sc, NULL, "  ", "           ", TTY_WRAP_MAX, line);
	tty_line(sc, NULL, "%s", "");
	if (ap->answering)
		tty_line(sc, TTY_BOLD, "  Answer sent; waiting for tollgated");
	else if (left >= 0)
		tty_line(sc, left <= TTY_URGENT_S ? TTY_REVERSE : TTY_BOLD,
		         "  %s in %ld s",
		         ap->p.deflt >= 0
		             ? action_name((enum action)ap->p.deflt)
		             : "default",
		         left);
	tty_line(sc, NULL, "%s", "");
	tty_draw_actions(sc, ap);
	tty_draw_pick(sc, a, ap);
	if (strcmp(a->answers, "admin-forever") == 0)
		tty_line(sc, TTY_DIM,
		         "  (prompt_answers = admin-forever: longer answers "
		         "come from root or admin_group)");
	else if (strcmp(a->answers, "once-only") == 0)
		tty_line(sc, TTY_DIM,
		         "  (prompt_answers = once-only: an answer decides "
		         "these connections only)");
	tty_line(sc, TTY_DIM, "  %sq: quit",
	         a->n_prompts > 1 ? "j/k/Tab: other prompt   " : "");
}

/* The pending prompts but the one shown: as many as the screen holds. */
static void
tty_draw_others(struct tty_screen *sc, struct agent *a, int64_t now)
{
	const struct tty *t = sc->t;
	char app[ACTIONS_APP_MAX], dest[ACTIONS_DEST_MAX], age[24], id[24];
	size_t i, shown = 0, others = a->n_prompts - 1;
	size_t dw = t->cols > 40 ? t->cols - 40 : 8;
	GString *row;

	if (a->n_prompts < 2 || sc->rows_left < 4)
		return;
	tty_line(sc, NULL, "%s", "");
	tty_line(sc, TTY_BOLD, "Other pending prompts (%zu):", others);
	row = g_string_new(NULL);
	g_string_assign(row, "  ");
	tty_fit(t, row, "ID", 8, true, false);
	tty_fit(t, row, "APP", 17, true, false);
	tty_fit(t, row, "DESTINATION", dw + 1, true, false);
	g_string_append(row, "AGE");
	tty_line(sc, TTY_DIM, "%s", row->str);
	for (i = 0; i < a->n_prompts; i++) {
		if (i == t->pos)
			continue;
		if (sc->rows_left == 1 && shown + 1 < others) {
			tty_line(sc, TTY_DIM, "  ... and %zu more",
			         others - shown);
			break;
		}
		snprintf(id, sizeof(id), "%llu",
		         (unsigned long long)a->prompts[i]->p.id);
		actions_app(&a->prompts[i]->p, app, sizeof(app));
		actions_dest(&a->prompts[i]->p, dest, sizeof(dest));
		tty_age(now - (a->prompts[i]->p.created > 0
		                   ? a->prompts[i]->p.created
		                   : a->prompts[i]->seen),
		        age, sizeof(age));
		g_string_assign(row, "  ");
		tty_fit(t, row, id, 7, true, false);
		g_string_append_c(row, ' ');
		tty_fit(t, row, app, 16, true, false);
		g_string_append_c(row, ' ');
		tty_fit(t, row, dest, dw, true, true);
		g_string_append_c(row, ' ');
		g_string_append(row, age);
		tty_line(sc, NULL, "%s", row->str);
		shown++;
	}
	g_string_free(row, TRUE);
}

static void
tty_size(struct tty *t)
{
	struct winsize ws;

	t->cols = 80;
	t->rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		t->cols = ws.ws_col;
		t->rows = ws.ws_row;
	}
	if (t->cols < TTY_COLS_MIN)
		t->cols = TTY_COLS_MIN;
	if (t->rows < TTY_ROWS_MIN)
		t->rows = TTY_ROWS_MIN;
}

static void
tty_draw(struct agent *a)
{
	struct tty *t = a->ui_data;
	struct tty_screen sc;
	struct agent_prompt *ap;
	int64_t now = agent_now();

	if (a->quitting)
		return;
	tty_size(t);
	sc.t = t;
	sc.s = g_string_new(TTY_CLEAR);
	sc.rows_left = t->rows;
	tty_draw_header(&sc, a);
	ap = tty_current(a);
	if (ap != NULL)
		tty_draw_prompt(&sc, a, ap, now);
	else
		tty_draw_idle(&sc, a);
	if (t->msg[0] != '\0' && now < t->msg_until) {
		tty_line(&sc, NULL, "%s", "");
		tty_line(&sc, TTY_BOLD, "%s", t->msg);
	}
	tty_draw_others(&sc, a, now);
	tty_write(sc.s->str, sc.s->len);
	g_string_free(sc.s, TRUE);
}

/* Send def for ap, and say so as label (the row's own when NULL). */
static void
tty_send(struct agent *a, struct agent_prompt *ap,
         const struct actions_def *def, const char *label)
{
	struct tty *t = a->ui_data;
	struct actions_choice c;
	char err[AGENT_NOTE_MAX];

	if (!actions_resolve(&ap->p, def, &c)) {
		tty_beep();
		if (def->key != '\0')
			tty_say(t,
			        "%c: this prompt does not offer that answer.",
			        def->key);
		else
			tty_say(t, "This prompt does not offer that answer.");
		return;
	}
	if (agent_answer(a, ap, def, err, sizeof(err)) == -1) {
		tty_beep();
		tty_say(t, "%s", err);
		return;
	}
	tty_say(t, "Prompt %llu: \"%s\" sent.", (unsigned long long)ap->p.id,
	        label != NULL ? label : c.label);
}

/* The prompt shown, or NULL after saying there is none. */
static struct agent_prompt *
tty_shown(struct agent *a)
{
	struct agent_prompt *ap = tty_current(a);

	if (ap == NULL) {
		tty_beep();
		tty_say(a->ui_data, "Nothing to answer.");
	}
	return ap;
}

/* An answer key: answer the prompt shown, if it offers that answer. */
static void
tty_answer(struct agent *a, const struct actions_def *def)
{
	struct agent_prompt *ap = tty_shown(a);

	if (ap != NULL)
		tty_send(a, ap, def, NULL);
}

/*
 * The keys that put an answer together: v, s and t change its verdict,
 * scope and duration, u makes it the default again, Enter sends it.
 * Each change is on the screen at once, in the "Your answer" line.
 */
static void
tty_compose(struct agent *a, int key)
{
	struct tty *t = a->ui_data;
	struct agent_prompt *ap = tty_shown(a);
	struct actions_def def;
	char label[ACTIONS_LABEL_MAX];

	if (ap == NULL)
		return;
	if (tty_pick(a, ap) == NULL) {
		tty_beep();
		tty_say(t, "This prompt offers no answer this program knows.");
		return;
	}
	switch (key) {
	case 'v':
		actions_pick_verdict(&ap->p, &t->pick);
		break;
	case 's':
		actions_pick_scope(&ap->p, &t->pick);
		break;
	case 't':
		actions_pick_duration(&ap->p, &t->pick);
		break;
	case 'u':
		actions_pick_default(&ap->p, &t->pick);
		break;
	default: /* Enter */
		actions_pick_def(&t->pick, &def);
		actions_pick_label(&ap->p, &t->pick, label, sizeof(label));
		tty_send(a, ap, &def, label);
		break;
	}
}

/* A key that does nothing: say which keys do.  Upper case is never
 * taken for lower case: A is not a (nor the end of Ctrl-Up). */
static void
tty_unknown(struct agent *a, int key)
{
	struct tty *t = a->ui_data;

	tty_beep();
	if (key >= 'A' && key <= 'Z')
		tty_say(t,
		        "%c does nothing here; the keys are the lower-case "
		        "letters shown in brackets.",
		        key);
	else if (key > ' ' && key < 0x7f)
		tty_say(t,
		        "%c does nothing here; the keys are shown in "
		        "brackets.",
		        key);
	else
		tty_say(t, "That key does nothing here; the keys are shown in "
		           "brackets.");
}

/* A key on its own (not part of a sequence). */
static void
tty_key(struct agent *a, int key)
{
	const struct actions_def *def;

	switch (key) {
	case 'q':
		agent_quit(a, 0);
		return;
	case 'j':
	case '\t':
		tty_move(a, 1);
		return;
	case 'k':
		tty_move(a, -1);
		return;
	case '\f': /* ^L: draw again, as everywhere */
		return;
	case 'v':
	case 's':
	case 't':
	case 'u':
	case '\r':
	case '\n':
		tty_compose(a, key);
		return;
	}
	/* Only the exact key answers: actions_by_key() knows lower case. */
	if ((def = actions_by_key(key)) != NULL) {
		tty_answer(a, def);
		return;
	}
	tty_unknown(a, key);
}

/* A whole CSI or SS3 sequence ended with final: Up, Down and Shift-Tab
 * move between prompts, when they carry no modifier (no parameters);
 * every other sequence does nothing. */
static void
tty_sequence(struct agent *a, unsigned params, int final)
{
	if (params == 0 && final == 'B')
		tty_move(a, 1);
	else if (params == 0 && (final == 'A' || final == 'Z'))
		tty_move(a, -1);
	else
		tty_unknown(a, -1);
}

/* One byte read from the terminal, where the key reader is. */
static void
tty_byte(struct agent *a, unsigned char c)
{
	struct tty *t = a->ui_data;

	switch (t->keystate) {
	case TTY_KEY_GROUND:
		if (c == 0x1b)
			t->keystate = TTY_KEY_ESC;
		else
			tty_key(a, c);
		return;
	case TTY_KEY_ESC:
		t->keyparams = 0;
		if (c == '[')
			t->keystate = TTY_KEY_CSI;
		else if (c == 'O')
			t->keystate = TTY_KEY_SS3;
		else if (c != 0x1b) {
			/* Alt and a key: not that key. */
			t->keystate = TTY_KEY_GROUND;
			tty_unknown(a, -1);
		}
		return;
	case TTY_KEY_CSI:
	case TTY_KEY_SS3:
		if (c >= 0x20 && c <= 0x3f) {
			if (t->keyparams < UINT_MAX)
				t->keyparams++;
			return;
		}
		t->keystate = c == 0x1b ? TTY_KEY_ESC : TTY_KEY_GROUND;
		if (c >= 0x40 && c <= 0x7e)
			tty_sequence(a, t->keyparams, c);
		else if (c != 0x1b)
			/* Not a sequence after all: dropped with it. */
			tty_unknown(a, -1);
		return;
	}
}

static gboolean
tty_on_input(int fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;
	struct tty *t = a->ui_data;
	unsigned char buf[64];
	ssize_t n, i;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* The terminal is gone (ssh closed): nobody to ask. */
		t->in_watch = 0;
		agent_quit(a, 0);
		return G_SOURCE_REMOVE;
	}
	for (i = 0; i < n && !a->quitting; i++)
		tty_byte(a, buf[i]);
	tty_draw(a);
	return G_SOURCE_CONTINUE;
}

static gboolean
tty_on_winch(gpointer data)
{
	tty_draw(data);
	return G_SOURCE_CONTINUE;
}

static int
tty_start(struct agent *a)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct tty *t;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		log_error("--tty needs a terminal on standard input and "
		          "output");
		return -1;
	}
	if (tcgetattr(STDIN_FILENO, &tty_saved) == -1) {
		log_error("reading the terminal's settings (tcgetattr): %s",
		          strerror(errno));
		return -1;
	}
	tty_rawmode = tty_saved;
	/* Keys as they are typed, not echoed; ^C and ^\ still signal (and
	 * quit, main.c).  No ^Z: a stopped agent answers nothing, and the
	 * prompts wait in vain. */
	tty_rawmode.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	tty_rawmode.c_cc[VMIN] = 1;
	tty_rawmode.c_cc[VTIME] = 0;
	tty_rawmode.c_cc[VSUSP] = _POSIX_VDISABLE;
	if (tty_enter() == -1) {
		log_error("setting up the terminal (tcsetattr): %s",
		          strerror(errno));
		return -1;
	}
	atexit(tty_restore);

	t = g_new0(struct tty, 1);
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	t->color = (nc == NULL || nc[0] == '\0') &&
	           (term == NULL || strcmp(term, "dumb") != 0);
	a->ui_data = t;
	t->in_watch = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR,
	                            tty_on_input, a);
	t->winch = g_unix_signal_add(SIGWINCH, tty_on_winch, a);
	tty_draw(a);
	return 0;
}

static void
tty_stop(struct agent *a)
{
	struct tty *t = a->ui_data;

	if (t->in_watch != 0)
		g_source_remove(t->in_watch);
	g_source_remove(t->winch);
	tty_restore();
	if (t->fatal[0] != '\0')
		log_error("%s", t->fatal);
	g_free(t);
	a->ui_data = NULL;
}

static void
tty_note(struct agent *a, int level, const char *msg)
{
	struct tty *t = a->ui_data;

	if (level <= LOG_ERR)
		snprintf(t->fatal, sizeof(t->fatal), "%s", msg);
	/* The connection's state is on the screen already (a->note). */
	if (level < LOG_DEBUG && strcmp(msg, a->note) != 0)
		tty_say(t, "%s", msg);
	tty_draw(a);
}

static void
tty_added(struct agent *a, struct agent_prompt *ap)
{
	/* Someone waits: the terminal (or tmux's status line) says so. */
	tty_beep();
	tty_draw(a);
}

static void
tty_removed(struct agent *a, struct agent_prompt *ap, const char *why)
{
	struct tty *t = a->ui_data;
	char dest[ACTIONS_DEST_MAX];

	/* Our own answer, a lost connection and the end speak for
	 * themselves; a prompt decided elsewhere gets a word. */
	if (strncmp(why, "withdrawn", 9) == 0 || strcmp(why, "expired") == 0) {
		actions_dest(&ap->p, dest, sizeof(dest));
		tty_say(t, "Prompt %llu (%s): %s.",
		        (unsigned long long)ap->p.id, dest, why);
	}
	tty_draw(a);
}

static void
tty_answered(struct agent *a, struct agent_prompt *ap, uint64_t id,
             enum agent_outcome outcome, const char *text)
{
	struct tty *t = a->ui_data;
	char dest[ACTIONS_DEST_MAX];

	if (outcome != AGENT_TAKEN)
		tty_beep();
	/* Decided, but without its rule: the daemon's message says so,
	 * prompt and all. */
	if (outcome == AGENT_NO_RULE)
		tty_say(t, "%s", text);
	else if (ap != NULL) {
		actions_dest(&ap->p, dest, sizeof(dest));
		tty_say(t, "Prompt %llu (%s): %s.", (unsigned long long)id,
		        dest, text);
	} else
		tty_say(t, "Prompt %llu: %s.", (unsigned long long)id, text);
	tty_draw(a);
}

static void
tty_tick(struct agent *a)
{
	tty_draw(a);
}

/* SIGTSTP: leave the terminal as it was before we stop. */
static void
tty_suspend(struct agent *a)
{
	tty_restore();
}

/* SIGCONT, after our SIGTSTP or a SIGSTOP we never saw: whatever ran
 * meanwhile (a shell) set the terminal its way; set it ours again. */
static void
tty_resume(struct agent *a)
{
	/* Back from the other screen first, if a SIGSTOP left us there:
	 * entering it again would save the cursor of the wrong one. */
	tty_restore();
	if (tty_enter() == -1)
		log_warn("setting up the terminal again (tcsetattr): %s",
		         strerror(errno));
	tty_draw(a);
}

const struct agent_ui tty_ui = {
    .name = "tty",
    .start = tty_start,
    .stop = tty_stop,
    .note = tty_note,
    .added = tty_added,
    .removed = tty_removed,
    .answered = tty_answered,
    .tick = tty_tick,
    .suspend = tty_suspend,
    .resume = tty_resume,
};
