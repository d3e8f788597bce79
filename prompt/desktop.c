/*
 * desktop.c - the desktop front end: one libnotify notification per
 * prompt, with the answers of actions_table[] as its actions.
 *
 * A notification's life: shown when its PROMPT arrives; closed by the
 * server once the user picks an action (the answer is then on its way)
 * or dismisses it (no answer: the daemon's default applies at the
 * timeout); closed by us when the prompt is withdrawn, expires, or the
 * connection to the daemon is lost.  Closing it never answers.
 *
 * A notification holds a handful of actions (GNOME Shell shows three,
 * dunst and notification-daemon all): the rows of actions_table[], which
 * answer at once, and "More choices", which shows the prompt again as a
 * notification of its own that lists what the answer may cover (for
 * allow and for deny), and then one that lists how long, down to any
 * verdict, scope and duration the prompt offers.  The action ids say
 * where each leads:
 *   allow-once ...      a row of actions_table[]: the answer
 *   default             the click on the notification: the default
 *   more                the page of scopes
 *   scope:VERDICT:SCOPE the page of durations for them
 *   pick:VERDICT:SCOPE:DURATION   that answer
 *   back                the first page again
 */
#include <gio/gio.h>
#include <libnotify/notify.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "common/log.h"
#include "prompt/ui.h"

#define DESKTOP_APP_NAME "tollgate"
#define DESKTOP_ICON     "dialog-question"
#define DESKTOP_ID_KEY   "tollgate-prompt-id" /* the prompt of a notification */
#define DESKTOP_ERROR_MS 8000 /* how long "answer not taken" stays */
#define DESKTOP_PAGE_MAX 64   /* an action id that leads to a page */

struct desktop {
	bool markup; /* the server reads markup in bodies: escape ours */
};

/* agent_prompt.ui: the notification of one prompt. */
struct desktop_note {
	NotifyNotification *n;
	gulong closed; /* the "closed" handler */
};

static bool
desktop_has_cap(GList *caps, const char *cap)
{
	return g_list_find_custom(caps, cap, (GCompareFunc)strcmp) != NULL;
}

/*
 * Where GLib looks for the session bus, for messages.  Installed setgid
 * (_tollgate-prompt), this program runs with AT_SECURE, and GLib then
 * ignores DBUS_SESSION_BUS_ADDRESS: the bus is $XDG_RUNTIME_DIR/bus or
 * none (GLib will not start one either).
 */
static void
desktop_bus_where(bool secure, char *buf, size_t len)
{
	const char *v =
	    getenv(secure ? "XDG_RUNTIME_DIR" : "DBUS_SESSION_BUS_ADDRESS");

	if (v == NULL || v[0] == '\0')
		snprintf(buf, len, "%s is unset",
		         secure ? "XDG_RUNTIME_DIR"
		                : "DBUS_SESSION_BUS_ADDRESS");
	else
		snprintf(buf, len, secure ? "%s/bus" : "%s", v);
}

/* Setgid and no bus where GLib will look: say so before libnotify fails
 * with a message that blames nobody.  0, or -1 after saying what to do. */
static int
desktop_check_bus(void)
{
	char where[PATH_MAX + 32];
	GError *error = NULL;
	char *addr;

	if (getauxval(AT_SECURE) == 0)
		return 0;
	addr =
	    g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, NULL, &error);
	if (addr != NULL) {
		g_free(addr);
		return 0;
	}
	log_debug("the session bus's address: %s", error->message);
	g_error_free(error);
	desktop_bus_where(true, where, sizeof(where));
	log_error("no D-Bus session bus (%s): " DESKTOP_APP_NAME
	          "-prompt is setgid, so it looks only at $XDG_RUNTIME_DIR/bus "
	          "and ignores DBUS_SESSION_BUS_ADDRESS; run the session bus "
	          "there (the dbus-user-session package does), or "
	          "use " DESKTOP_APP_NAME "-prompt --tty",
	          where);
	return -1;
}

static int
desktop_start(struct agent *a)
{
	char *name = NULL, *vendor = NULL, *version = NULL, *spec = NULL;
	char where[PATH_MAX + 32];
	struct desktop *d;
	GList *caps;

	if (desktop_check_bus() == -1)
		return -1;
	if (!notify_init(DESKTOP_APP_NAME)) {
		log_error("cannot set up libnotify");
		return -1;
	}
	if (!notify_get_server_info(&name, &vendor, &version, &spec)) {
		desktop_bus_where(getauxval(AT_SECURE) != 0, where,
		                  sizeof(where));
		log_error("no notification server answers on the D-Bus session "
		          "bus (%s); start one, or run " DESKTOP_APP_NAME
		          "-prompt --tty",
		          where);
		notify_uninit();
		return -1;
	}
	d = g_new0(struct desktop, 1);
	caps = notify_get_server_caps();
	d->markup = desktop_has_cap(caps, "body-markup");
	log_info("showing prompts through %s %s", name, version);
	if (!desktop_has_cap(caps, "actions"))
		log_warn("%s shows no actions: prompts can be seen but not "
		         "answered here; run " DESKTOP_APP_NAME
		         "-prompt --tty to "
		         "answer them",
		         name);
	g_list_free_full(caps, g_free);
	g_free(name);
	g_free(vendor);
	g_free(version);
	g_free(spec);
	a->ui_data = d;
	return 0;
}

static void
desktop_stop(struct agent *a)
{
	g_free(a->ui_data);
	a->ui_data = NULL;
	notify_uninit();
}

static void
desktop_note(struct agent *a, int level, const char *msg)
{
	log_msg(level, "%s", msg);
}

/* The prompt that notification n shows, or NULL when it is gone. */
static struct agent_prompt *
desktop_prompt_of(struct agent *a, NotifyNotification *n)
{
	const guint64 *id = g_object_get_data(G_OBJECT(n), DESKTOP_ID_KEY);

	return id != NULL ? agent_find(a, *id) : NULL;
}

/* Let go of a prompt's notification, closing it first unless the server
 * closed it already. */
static void
desktop_forget(struct agent_prompt *ap, bool close)
{
	struct desktop_note *note = ap->ui;
	GError *error = NULL;

	if (note == NULL)
		return;
	g_signal_handler_disconnect(note->n, note->closed);
	if (close && !notify_notification_close(note->n, &error)) {
		/* It may have gone already: dismissed, or the server left. */
		log_debug("prompt %llu: closing its notification: %s",
		          (unsigned long long)ap->p.id, error->message);
		g_error_free(error);
	}
	g_object_unref(note->n);
	g_free(note);
	ap->ui = NULL;
}

/* A page of the notification to show in place of the one whose action
 * led there, once that action's call is over. */
struct desktop_turn {
	struct agent *a;
	guint64 id;
	char page[DESKTOP_PAGE_MAX];
};

static void desktop_show(struct agent *a, struct agent_prompt *ap,
                         const char *page);

static gboolean
desktop_on_turn(gpointer data)
{
	struct desktop_turn *turn = data;
	struct agent_prompt *ap = agent_find(turn->a, turn->id);

	if (ap != NULL && !ap->answering) {
		desktop_forget(ap, true);
		desktop_show(turn->a, ap, turn->page);
	}
	g_free(turn);
	return G_SOURCE_REMOVE;
}

/*
 * "VERDICT:SCOPE[:DURATION]" (with_duration) into *k; false when it is
 * not that, or p does not offer it.  A page's scope is checked with a
 * duration that makes a rule.
 */
static bool
desktop_parse_pick(const struct ctl_prompt *p, const char *s,
                   bool with_duration, struct actions_pick *k)
{
	char buf[DESKTOP_PAGE_MAX], *save = NULL, *v, *sc, *d, *end;
	int verdict, scope, dur = CTL_DUR_FOREVER;

	snprintf(buf, sizeof(buf), "%s", s);
	v = strtok_r(buf, ":", &save);
	sc = strtok_r(NULL, ":", &save);
	d = with_duration ? strtok_r(NULL, ":", &save) : NULL;
	end = strtok_r(NULL, ":", &save);
	if (v == NULL || sc == NULL || (with_duration && d == NULL) ||
	    end != NULL || (verdict = action_parse(v)) == -1 ||
	    (scope = ctl_scope_parse(sc)) == -1 ||
	    (d != NULL && (dur = ctl_duration_parse(d)) == -1))
		return false;
	k->verdict = (enum action)verdict;
	k->scope = (enum ctl_scope)scope;
	k->duration = (enum ctl_duration)dur;
	if (!with_duration) {
		/* Any duration with a rule will do. */
		for (dur = 0; dur < CTL_N_DURATIONS; dur++) {
			k->duration = (enum ctl_duration)dur;
			if (dur != CTL_DUR_ONCE && actions_pick_ok(p, k))
				return true;
		}
		return false;
	}
	return actions_pick_ok(p, k);
}

static void
desktop_on_action(NotifyNotification *n, char *action, gpointer data)
{
	struct agent *a = data;
	struct agent_prompt *ap = desktop_prompt_of(a, n);
	const struct actions_def *def;
	struct actions_def pickdef;
	struct actions_pick k;
	struct actions_choice c;
	struct desktop_turn *turn;
	char err[AGENT_NOTE_MAX];

	if (ap == NULL)
		return;
	/* Another page: shown once libnotify is done with this one. */
	if (strcmp(action, "more") == 0 || strcmp(action, "back") == 0 ||
	    (strncmp(action, "scope:", 6) == 0 &&
	     desktop_parse_pick(&ap->p, action + 6, false, &k))) {
		turn = g_new0(struct desktop_turn, 1);
		turn->a = a;
		turn->id = ap->p.id;
		snprintf(turn->page, sizeof(turn->page), "%s",
		         strcmp(action, "back") == 0 ? "" : action);
		g_idle_add(desktop_on_turn, turn);
		return;
	}
	/* "default" is the click on the notification itself. */
	if (strcmp(action, "default") == 0)
		def = actions_default(&ap->p, &c) ? c.def : NULL;
	else if (strncmp(action, "pick:", 5) == 0) {
		def = NULL;
		if (desktop_parse_pick(&ap->p, action + 5, true, &k)) {
			actions_pick_def(&k, &pickdef);
			def = &pickdef;
		}
	} else
		def = actions_by_id(action);
	if (def == NULL || !actions_resolve(&ap->p, def, &c)) {
		log_warn("prompt %llu: the notification sent action \"%s\", "
		         "which it does not offer",
		         (unsigned long long)ap->p.id, action);
		return;
	}
	if (agent_answer(a, ap, def, err, sizeof(err)) == -1) {
		log_warn("prompt %llu: %s", (unsigned long long)ap->p.id, err);
		return;
	}
	log_info("prompt %llu: answered \"%s\"", (unsigned long long)ap->p.id,
	         c.label);
}

static void
desktop_on_closed(NotifyNotification *n, gpointer data)
{
	struct agent *a = data;
	struct agent_prompt *ap = desktop_prompt_of(a, n);
	struct desktop_note *note;

	if (ap == NULL || (note = ap->ui) == NULL || note->n != n)
		return;
	/* Dismissed is not an answer: the default applies at the timeout. */
	if (!ap->answering)
		log_info("prompt %llu: dismissed without an answer",
		         (unsigned long long)ap->p.id);
	desktop_forget(ap, false);
}

/* Whether p offers an answer that adds a rule: what the other pages
 * are for. */
static bool
desktop_has_rules(const struct ctl_prompt *p)
{
	return (p->durations & ~(1u << CTL_DUR_ONCE)) != 0 && p->app[0] != '\0';
}

static void
desktop_add(struct agent *a, NotifyNotification *n, const char *id,
            const char *label)
{
	notify_notification_add_action(n, id, label, desktop_on_action, a,
	                               NULL);
}

/* The first page: the rows of actions_table[], "More choices", the
 * default.  What the page asks, in *ask. */
static void
desktop_page_rows(struct agent *a, struct agent_prompt *ap,
                  NotifyNotification *n, const char **ask)
{
	struct actions_choice choices[ACTIONS_N], dflt;
	size_t i, m;

	m = actions_offered(&ap->p, choices);
	for (i = 0; i < m; i++)
		desktop_add(a, n, choices[i].def->id, choices[i].label);
	if (desktop_has_rules(&ap->p))
		/* D-Bus strings are UTF-8 whatever the locale. */
		desktop_add(a, n, "more", "More choices\xe2\x80\xa6");
	if (actions_default(&ap->p, &dflt))
		desktop_add(a, n, "default", dflt.label);
	*ask = NULL;
}

/* The page of scopes: for allow, then deny, each scope p offers, in
 * the order the terminal steps through them. */
static void
desktop_page_scopes(struct agent *a, struct agent_prompt *ap,
                    NotifyNotification *n, const char **ask)
{
	static const enum action verdicts[] = {ACTION_ALLOW, ACTION_DENY};
	char id[DESKTOP_PAGE_MAX], label[ACTIONS_LABEL_MAX];
	char scope[CTL_PROMPT_NAME_MAX + 8];
	struct actions_pick k, with;
	enum ctl_scope first;
	size_t v;

	for (v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++) {
		if (!actions_pick_default(&ap->p, &k))
			break;
		first = k.scope;
		do {
			snprintf(id, sizeof(id), "%s:%s",
			         action_name(verdicts[v]),
			         ctl_scope_name(k.scope));
			if (desktop_parse_pick(&ap->p, id, false, &with)) {
				actions_scope_text(&ap->p, k.scope, scope,
				                   sizeof(scope));
				snprintf(label, sizeof(label), "%s: %s",
				         verdicts[v] == ACTION_ALLOW ? "Allow"
				                                     : "Deny",
				         scope);
				snprintf(id, sizeof(id), "scope:%s:%s",
				         action_name(verdicts[v]),
				         ctl_scope_name(k.scope));
				desktop_add(a, n, id, label);
			}
			actions_pick_scope(&ap->p, &k);
		} while (k.scope != first);
	}
	desktop_add(a, n, "back", "Back");
	*ask = "Choose what the rule covers; then how long.";
}

/* The page of durations for the verdict and scope of k: those that add
 * a rule, shortest first. */
static void
desktop_page_durations(struct agent *a, struct agent_prompt *ap,
                       NotifyNotification *n, struct actions_pick *k,
                       const char **ask)
{
	char id[DESKTOP_PAGE_MAX], label[ACTIONS_LABEL_MAX];
	unsigned seen = 0;

	/* Stepped from once, which comes first, to once again. */
	k->duration = CTL_DUR_ONCE;
	for (;;) {
		actions_pick_duration(&ap->p, k);
		if (k->duration == CTL_DUR_ONCE || seen & 1u << k->duration)
			break;
		seen |= 1u << k->duration;
		snprintf(id, sizeof(id), "pick:%s:%s:%s",
		         action_name(k->verdict), ctl_scope_name(k->scope),
		         ctl_duration_name(k->duration));
		actions_pick_label(&ap->p, k, label, sizeof(label));
		desktop_add(a, n, id, label);
	}
	desktop_add(a, n, "back", "Back");
	*ask = "Choose how long the rule holds.";
}

/* Show ap's notification: its first page when page is NULL or "", else
 * the page an action id names ("more", "scope:..."). */
static void
desktop_show(struct agent *a, struct agent_prompt *ap, const char *page)
{
	struct desktop *d = a->ui_data;
	struct actions_text t;
	struct actions_pick k;
	struct desktop_note *note;
	GError *error = NULL;
	guint64 *id;
	char *body, *shown;
	const char *ask = NULL;
	long left;

	actions_describe(&ap->p, &t);
	left = actions_left(&ap->p, agent_now());
	note = g_new0(struct desktop_note, 1);
	note->n = notify_notification_new(t.summary, NULL, DESKTOP_ICON);
	if (page != NULL && strcmp(page, "more") == 0)
		desktop_page_scopes(a, ap, note->n, &ask);
	else if (page != NULL && strncmp(page, "scope:", 6) == 0 &&
	         desktop_parse_pick(&ap->p, page + 6, false, &k))
		desktop_page_durations(a, ap, note->n, &k, &ask);
	else
		desktop_page_rows(a, ap, note->n, &ask);
	if (left > 0 && ap->p.deflt >= 0)
		body = g_strdup_printf(
		    "%s\nNo answer in %ld s: %s%s%s", t.body, left,
		    action_name((enum action)ap->p.deflt),
		    ask != NULL ? "\n" : "", ask != NULL ? ask : "");
	else
		body =
		    g_strdup_printf("%s%s%s", t.body, ask != NULL ? "\n" : "",
		                    ask != NULL ? ask : "");
	shown = d->markup ? g_markup_escape_text(body, -1) : g_strdup(body);
	notify_notification_update(note->n, t.summary, shown, DESKTOP_ICON);
	g_free(body);
	g_free(shown);
	notify_notification_set_app_name(note->n, DESKTOP_APP_NAME);
	notify_notification_set_category(note->n, "network");
	notify_notification_set_urgency(note->n, NOTIFY_URGENCY_CRITICAL);
	/* The daemon's WITHDRAW takes it down when the default applies;
	 * the server does too, should that never come, when the agent
	 * would give up waiting for it (agent.h). */
	notify_notification_set_timeout(
	    note->n, left > 0 && left < G_MAXINT / 1000 - AGENT_EXPIRE_GRACE_S
	                 ? (int)(left + AGENT_EXPIRE_GRACE_S) * 1000
	                 : NOTIFY_EXPIRES_NEVER);
	id = g_new(guint64, 1);
	*id = ap->p.id;
	g_object_set_data_full(G_OBJECT(note->n), DESKTOP_ID_KEY, id, g_free);
	note->closed = g_signal_connect(note->n, "closed",
	                                G_CALLBACK(desktop_on_closed), a);
	ap->ui = note;
	if (!notify_notification_show(note->n, &error)) {
		log_warn("prompt %llu: showing its notification: %s",
		         (unsigned long long)ap->p.id, error->message);
		g_error_free(error);
		desktop_forget(ap, false);
		return;
	}
	log_info("prompt %llu: %s%s%s", (unsigned long long)ap->p.id, t.summary,
	         page != NULL && page[0] != '\0' ? ": " : "",
	         page != NULL ? page : "");
}

static void
desktop_added(struct agent *a, struct agent_prompt *ap)
{
	desktop_show(a, ap, NULL);
}

static void
desktop_removed(struct agent *a, struct agent_prompt *ap, const char *why)
{
	desktop_forget(ap, true);
	/* The rest is said once for all: "lost the connection". */
	if (strcmp(why, "disconnected") != 0 && strcmp(why, "quitting") != 0 &&
	    strcmp(why, "answered") != 0)
		log_info("prompt %llu: %s", (unsigned long long)ap->p.id, why);
}

static void
desktop_answered(struct agent *a, struct agent_prompt *ap, uint64_t id,
                 enum agent_outcome outcome, const char *text)
{
	struct desktop *d = a->ui_data;
	NotifyNotification *n;
	GError *error = NULL;
	char dest[ACTIONS_DEST_MAX], *summary, *body;
	const char *what = " did not count";

	log_msg(outcome == AGENT_TAKEN ? LOG_INFO : LOG_WARNING,
	        "prompt %llu: %s", (unsigned long long)id, text);
	/* The user believes they answered: say what became of it when it
	 * is not all they asked for.  Decided without its rule, the
	 * daemon's message says so; lost, nobody knows. */
	switch (outcome) {
	case AGENT_TAKEN:
		return;
	case AGENT_NO_RULE:
		what = "";
		break;
	case AGENT_LOST:
		what = " was not confirmed";
		break;
	case AGENT_REFUSED:
		break;
	}
	if (ap != NULL)
		actions_dest(&ap->p, dest, sizeof(dest));
	summary = g_strdup_printf("Your answer for %s%s",
	                          ap != NULL ? dest : "a prompt", what);
	body = d->markup ? g_markup_escape_text(text, -1) : g_strdup(text);
	n = notify_notification_new(summary, body, "dialog-warning");
	notify_notification_set_app_name(n, DESKTOP_APP_NAME);
	notify_notification_set_timeout(n, DESKTOP_ERROR_MS);
	if (!notify_notification_show(n, &error)) {
		log_warn("showing a notification: %s", error->message);
		g_error_free(error);
	}
	g_object_unref(n);
	g_free(summary);
	g_free(body);
}

const struct agent_ui desktop_ui = {
    .name = "desktop",
    .start = desktop_start,
    .stop = desktop_stop,
    .note = desktop_note,
    .added = desktop_added,
    .removed = desktop_removed,
    .answered = desktop_answered,
};
