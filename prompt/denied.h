/*
 * denied.h - telling the user what tollgated refused of theirs: a DENIED
 * line (notify_denials; docs/control.md, DENIED) shown as a desktop
 * notification of low urgency, with no actions, or in --tty mode as a
 * line of the terminal view (the front end's note()).
 *
 * Every value comes from the daemon, and some from the refused program
 * (its path, the name it asked for): the text is made safe first
 * (actions_clean()).
 */
#ifndef TG_PROMPT_DENIED_H
#define TG_PROMPT_DENIED_H

#include <stddef.h>

#include "common/ctl_prompt.h"
#include "prompt/agent.h"

#define DENIED_SHOW_MS  8000 /* how long a notification stays */
#define DENIED_TEXT_MAX 1024

/* The summary, "tollgate denied curl: tracker.example.com:443", and the
 * body, the lines of why and how often, both safe to show. */
void denied_text(const struct ctl_denied *d, char *summary, size_t slen,
                 char *body, size_t blen);

/* Show d as a's front end does: a notification, or a line. */
void denied_show(struct agent *a, const struct ctl_denied *d);

#endif
