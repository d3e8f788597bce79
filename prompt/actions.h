/*
 * actions.h - what a prompt agent may answer, and how a prompt reads.
 *
 * actions_table[] is the one list of the six answers that both front ends
 * offer: desktop.c as notification actions, tty.c as keys.  A row names
 * its verdict, scope and duration; whether a given prompt offers it, and
 * the words it shows, depend on the prompt (its name, domain and the
 * scopes= and durations= it lists), so the front ends never decide that
 * themselves but ask actions_offered().
 *
 * actions_describe() is the one place that turns a PROMPT into text for
 * people, and actions_withdrawn() and actions_reply() do the same for a
 * WITHDRAW line and for the reply to an answer.  Every string in a PROMPT line
 * comes from the daemon, and some of it from the program that connected (its
 * command line, its path), so the text is made safe first: no control bytes, no
 * invalid UTF-8, no bidirectional overrides that could make one name look like
 * another.
 */
#ifndef TG_PROMPT_ACTIONS_H
#define TG_PROMPT_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/ctl.h"
#include "common/ctl_prompt.h"

/*
 * One answer.  scope CTL_SCOPE_NAME stands for "this destination": the
 * name when one was read and the prompt offers the name scope, else the
 * IP.  A "once" answer adds no rule, but its scope must still be one the
 * prompt offers.
 */
struct actions_def {
	const char *id;    /* the notification action: "allow-once" */
	char key;          /* the terminal's key */
	const char *label; /* "Allow always"; the scope follows when shown */
	bool show_scope;   /* label + " (this name)" */
	enum action verdict;
	enum ctl_scope scope;
	enum ctl_duration duration;
};

#define ACTIONS_N 6
extern const struct actions_def actions_table[ACTIONS_N];

/* An answer as a given prompt offers it. */
#define ACTIONS_LABEL_MAX (CTL_PROMPT_NAME_MAX + 48)
struct actions_choice {
	const struct actions_def *def;
	enum ctl_scope scope; /* resolved: CTL_SCOPE_NAME may become _IP */
	/* resolved: an "always" answer the prompt does not let this agent
	 * give (prompt_answers = admin-forever) becomes "for 1 hour" */
	enum ctl_duration duration;
	bool deflt; /* what no answer amounts to: "Deny once" */
	char label[ACTIONS_LABEL_MAX]; /* "Deny once (default)" */
};

/*
 * Whether p offers def, and if so how: true with *c filled, or false when
 * the scope or the duration is not among those p lists (or the scope has
 * nothing to name: no domain for "*.DOMAIN").  A forever row whose
 * duration p does not list, but 1h, is offered as "for 1 hour": p's
 * durations are those this agent may answer with (docs/control.md).
 */
bool actions_resolve(const struct ctl_prompt *p, const struct actions_def *def,
                     struct actions_choice *c);

/* The answers p offers, in table order, into out[ACTIONS_N]: how many. */
size_t actions_offered(const struct ctl_prompt *p, struct actions_choice *out);

/* The answer that no answer amounts to (p->deflt, once), when p offers it:
 * true with *c filled.  A default of "reject" has no such row. */
bool actions_default(const struct ctl_prompt *p, struct actions_choice *c);

/*
 * An answer put together part by part (the terminal's v, s and t keys,
 * the desktop's "More choices" pages): any verdict, scope and duration
 * the prompt offers, not only the six rows above.
 */
struct actions_pick {
	enum action verdict;
	enum ctl_scope scope;
	enum ctl_duration duration;
};

/*
 * The safe answer, which Enter sends: p's default verdict (deny when p
 * names none), "this destination" (the name, else the IP), once.  false
 * when p offers no scope or no duration at all.
 */
bool actions_pick_default(const struct ctl_prompt *p, struct actions_pick *k);

/*
 * Change one part of *k to the next that p offers, wrapping round, in
 * the order they are shown: allow, deny (and reject when it is p's
 * default); the name, *.DOMAIN, the IP, the port, the app anywhere; once,
 * 30 minutes, 1 hour, until restart, always.
 */
void actions_pick_verdict(const struct ctl_prompt *p, struct actions_pick *k);
void actions_pick_scope(const struct ctl_prompt *p, struct actions_pick *k);
void actions_pick_duration(const struct ctl_prompt *p, struct actions_pick *k);

/* Whether p offers k: its scope and its duration are among p's. */
bool actions_pick_ok(const struct ctl_prompt *p, const struct actions_pick *k);

/* What k covers, for people: "*.example.com", "any address, port 443". */
void actions_scope_text(const struct ctl_prompt *p, enum ctl_scope s, char *buf,
                        size_t len);

/* "for 30 minutes", "until tollgated restarts", "always", "once". */
const char *actions_duration_text(enum ctl_duration d);

/*
 * The answer k in words: "Allow *.example.com for 1 hour", "Deny
 * any address, port 443 always", "Deny once (no rule)"; a once answer
 * covers only the connections waiting, so it names no scope.
 */
void actions_pick_label(const struct ctl_prompt *p,
                        const struct actions_pick *k, char *buf, size_t len);

/* k as a row that agent_answer() takes (its id and label are k's). */
void actions_pick_def(const struct actions_pick *k, struct actions_def *def);

/* The row with this key or notification action id; NULL when none. */
const struct actions_def *actions_by_key(int key);
const struct actions_def *actions_by_id(const char *id);

/*
 * The text of a prompt, safe to show (above).  summary is one line:
 * "curl wants to connect to www.example.com:443".  body is lines joined
 * by "\n" saying who (app and path, command line, pid, user) and where
 * (the name and where it came from, IP, port, protocol); without the
 * countdown, which each front end shows its own way.
 */
#define ACTIONS_APP_MAX     256 /* a file name: NAME_MAX + 1 */
#define ACTIONS_DEST_MAX    (CTL_PROMPT_NAME_MAX + 8) /* and ":65535" */
#define ACTIONS_SUMMARY_MAX (ACTIONS_APP_MAX + ACTIONS_DEST_MAX + 64)
#define ACTIONS_BODY_MAX    2048
struct actions_text {
	char summary[ACTIONS_SUMMARY_MAX];
	char body[ACTIONS_BODY_MAX];
};

void actions_describe(const struct ctl_prompt *p, struct actions_text *t);

/* "curl" for /usr/bin/curl; "unknown process" when p->app is "". */
void actions_app(const struct ctl_prompt *p, char *buf, size_t len);

/* "www.example.com:443", or the IP when no name: "[2001:db8::2]:443". */
void actions_dest(const struct ctl_prompt *p, char *buf, size_t len);

/*
 * Copy s into buf (of len bytes, always NUL-terminated) so that it is
 * safe to show: control bytes (C0, DEL, C1), invalid or overlong UTF-8
 * and the bidirectional controls become '?'; with ascii, so does every
 * character above U+007F (one '?' for each, not for each of its bytes).
 * Cut at a character boundary when buf is too small.
 */
void actions_clean(const char *s, bool ascii, char *buf, size_t len);

/* "allowed", "denied", "rejected" for an enum action. */
const char *actions_verdict_done(int verdict);

/* Why w took its prompt away: "withdrawn, answered elsewhere: allowed". */
void actions_withdrawn(const struct ctl_withdraw *w, char *buf, size_t len);

/* The reply to an ANSWER: "allowed (1 connection); rule 14 added", or
 * "answer not taken: notfound ...". */
void actions_reply(const struct ctl_reply *rep, char *buf, size_t len);

/* Seconds until p's default applies at now (Unix time); 0 when past,
 * -1 when p has no expiry. */
long actions_left(const struct ctl_prompt *p, int64_t now);

#endif
