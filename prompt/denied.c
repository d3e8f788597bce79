/*
 * denied.c - showing a DENIED line; see denied.h.
 */
#include <libnotify/notify.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "prompt/actions.h"
#include "prompt/denied.h"
#include "prompt/ui.h"

/* What decided, for people: the event's decider word. */
static void
denied_by(const struct ctl_denied *d, char *buf, size_t len)
{
	static const struct {
		const char *word, *text;
	} words[] = {
	    {"default", "default_action (no rule matched)"},
	    {"timeout", "default_action (the prompt had no answer in time)"},
	    {"no-agent", "default_action (no prompt agent was running)"},
	    {"prompt-full", "default_action (too many prompts pending)"},
	    {"overload", "tollgated was overloaded"},
	    {"peek", "its first message was malformed or incomplete"},
	    {"encrypted-dns", "block_encrypted_dns"},
	};
	char word[sizeof(d->decider)];
	size_t i;

	if (strcmp(d->decider, "rule") == 0) {
		snprintf(buf, len, "rule %lld", (long long)d->rule);
		return;
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(d->decider, words[i].word) == 0) {
			snprintf(buf, len, "%s", words[i].text);
			return;
		}
	actions_clean(d->decider, false, word, sizeof(word));
	snprintf(buf, len, "%s", word);
}

void
denied_text(const struct ctl_denied *d, char *summary, size_t slen, char *body,
            size_t blen)
{
	char app[CTL_PROMPT_APP_MAX], host[CTL_PROMPT_NAME_MAX], by[128];
	const char *base;

	actions_clean(d->app[0] != '\0' ? d->app : "an unknown process", false,
	              app, sizeof(app));
	base = strrchr(app, '/');
	base = base != NULL && base[1] != '\0' ? base + 1 : app;
	actions_clean(d->name[0] != '\0' ? d->name : d->dst, false, host,
	              sizeof(host));
	denied_by(d, by, sizeof(by));
	snprintf(summary, slen,
	         strchr(host, ':') != NULL ? "tollgate %s %s: [%s]:%u"
	                                   : "tollgate %s %s: %s:%u",
	         d->verdict == ACTION_REJECT ? "rejected" : "denied", base,
	         host[0] != '\0' ? host : "?", d->port);
	snprintf(body, blen, "App: %s\nBy: %s%s", app, by,
	         d->count > 1 ? "\n" : "");
	if (d->count > 1)
		snprintf(body + strlen(body), blen - strlen(body),
		         "%u times since the last notice", d->count);
}

/* Whether the notification server reads markup in bodies: asked once. */
static bool
denied_markup(void)
{
	static int markup = -1;
	GList *caps;

	if (markup == -1) {
		caps = notify_get_server_caps();
		markup = g_list_find_custom(caps, "body-markup",
		                            (GCompareFunc)strcmp) != NULL;
		g_list_free_full(caps, g_free);
	}
	return markup == 1;
}

void
denied_show(struct agent *a, const struct ctl_denied *d)
{
	char summary[DENIED_TEXT_MAX], body[DENIED_TEXT_MAX], *shown;
	NotifyNotification *n;
	GError *error = NULL;

	denied_text(d, summary, sizeof(summary), body, sizeof(body));
	if (a->ui != &desktop_ui) {
		if (a->ui->note != NULL)
			a->ui->note(a, LOG_NOTICE, summary);
		return;
	}
	log_info("%s", summary);
	shown =
	    denied_markup() ? g_markup_escape_text(body, -1) : g_strdup(body);
	n = notify_notification_new(summary, shown, "dialog-information");
	notify_notification_set_app_name(n, "tollgate");
	notify_notification_set_category(n, "network");
	notify_notification_set_urgency(n, NOTIFY_URGENCY_LOW);
	notify_notification_set_timeout(n, DENIED_SHOW_MS);
	if (!notify_notification_show(n, &error)) {
		log_warn("showing a notification: %s", error->message);
		g_error_free(error);
	}
	g_object_unref(n);
	g_free(shown);
}
