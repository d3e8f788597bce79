/*
 * ctl_prompt.h - the prompt lines of the control protocol (docs/control.md,
 * Prompts): the PROMPT line that describes a pending prompt, written by
 * the daemon and read by agents and the tollgate command, and the
 * WITHDRAW line that tells an agent a prompt is gone.
 *
 * Memory: nothing here keeps state between calls; every buffer is the
 * caller's.
 */
#ifndef TG_CTL_PROMPT_H
#define TG_CTL_PROMPT_H

#include <stdint.h>

#include "common/ctl.h"

/*
 * A prompt as the daemon describes it to prompt agents and to PROMPTS:
 * one "PROMPT key=value..." line (docs/control.md, Prompts).  The daemon
 * writes it with ctl_prompt_put(); agents and the tollgate command read it
 * with ctl_prompt_parse().  Strings are "" where the line says "-".
 */
#define CTL_PROMPT_APP_MAX     4096
#define CTL_PROMPT_CMDLINE_MAX 512
#define CTL_PROMPT_NAME_MAX    254 /* NAME_MAX_LEN + 1 */

struct ctl_prompt {
	uint64_t id;
	unsigned uid;
	char user[64];
	long pid; /* 0: unknown */
	char app[CTL_PROMPT_APP_MAX];
	char cmdline[CTL_PROMPT_CMDLINE_MAX];
	char name[CTL_PROMPT_NAME_MAX];
	char source[8];
	char dst[64];
	unsigned port;
	char proto[8];
	int64_t created, expires; /* Unix times */
	unsigned connections;
	int deflt; /* enum action: what no answer means */
	char domain[CTL_PROMPT_NAME_MAX];
	unsigned scopes;    /* 1 << enum ctl_scope, OR-ed */
	unsigned durations; /* 1 << enum ctl_duration, OR-ed */
};

/* Append p's words (after "PROMPT") to l. */
void ctl_prompt_put(struct ctl_line *l, const struct ctl_prompt *p);

/*
 * Parse a "PROMPT ..." line (without its "\n").  Keys it does not know
 * are skipped (a newer daemon may say more).  0, or -1 + err when the
 * line is not a PROMPT line or lacks id, uid, dst, port, scopes or
 * durations.
 */
int ctl_prompt_parse(const char *line, size_t len, struct ctl_prompt *p,
                     char *err, size_t errlen);

/* A "WITHDRAW id=N reason=R [verdict=V]" line. */
struct ctl_withdraw {
	uint64_t id;
	char reason[16];
	int verdict; /* enum action, or -1 when the line has none */
};

int ctl_withdraw_parse(const char *line, size_t len, struct ctl_withdraw *w,
                       char *err, size_t errlen);

/*
 * A refusal of one of the agent's user's connections (notify_denials):
 * one "DENIED key=value..." line, sent unasked to that user's agents,
 * rate-limited by the daemon (docs/control.md, DENIED).  Strings are ""
 * where the line says "-".
 */
struct ctl_denied {
	unsigned uid;
	char app[CTL_PROMPT_APP_MAX]; /* the executable; "": unknown */
	char name[CTL_PROMPT_NAME_MAX];
	char dst[64]; /* the destination IP; "": known only by name */
	unsigned port;
	char proto[8];
	int verdict;      /* enum action: deny or reject */
	char decider[24]; /* the event's: "rule", "default", "timeout" ... */
	int64_t rule;     /* the deciding rule's id; 0: none */
	unsigned count;   /* refusals of this app and name told by this
	                   * line: this one and those not told since the
	                   * last line about them (at least 1) */
	int64_t time;     /* Unix time of this refusal */
};

/* Append d's words (after "DENIED") to l. */
void ctl_denied_put(struct ctl_line *l, const struct ctl_denied *d);

/*
 * Parse a whole "DENIED ..." line (without its "\n").  Keys it does not
 * know are skipped.  0: complete, *d filled; -1 + err: invalid (not a
 * DENIED line, a bad value, or no uid, app, port, verdict, decider or
 * count).  A line is whole when it is given: there is no "need more".
 */
int ctl_denied_parse(const char *line, size_t len, struct ctl_denied *d,
                     char *err, size_t errlen);

#endif
