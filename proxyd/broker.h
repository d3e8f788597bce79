/*
 * broker.h - the prompt broker: connections that no rule decides wait here
 * while the user is asked (docs/control.md, "Prompts").
 *
 * A connection with no deciding rule is parked on a prompt, keyed by
 * (uid, executable, destination, port), where the destination is the name
 * when the peek found one, else the IP.  Connections to the same key join
 * one prompt; prompts are independent of each other, and connections that
 * rules decide never wait behind them.  A prompt is sent to every
 * subscribed prompt agent that may see it (control.c: the agents of its
 * uid and of admins) and ends in exactly one of these ways:
 *   answered    ANSWER from an agent or `tollgate answer`: every parked
 *               connection gets the verdict; a rule is added unless the
 *               answer is "once"
 *   timeout     no answer in prompt_timeout: default_action
 *   no-agent    the last agent that could see it left: default_action
 *   rule        a rule put in force meanwhile decided every connection
 *   gone        every parked client closed its connection
 * Every agent that was sent it gets a WITHDRAW line.
 *
 * Bounds (BROKER_*): past them a connection is not parked but gets
 * default_action with reason prompt-full.
 *
 * Everything here runs on the event loop.
 */
#ifndef TG_BROKER_H
#define TG_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/ctl.h"
#include "proxyd/proxyd.h"

#define BROKER_PARKED_PER_PROMPT 64
#define BROKER_PARKED_MAX        1024 /* and half of max_connections */
#define BROKER_PROMPTS_PER_APP   32
#define BROKER_PROMPTS_MAX       256

struct conn;
struct prompt;

enum broker_park {
	BROKER_PARKED,   /* the verdict comes later: conn_prompt_done() */
	BROKER_NO_AGENT, /* nobody could be asked: default_action now */
	BROKER_FULL,     /* past a bound: default_action now */
	BROKER_ANSWERED, /* its prompt was just answered, the rule is on
	                  * its way: c->verdict and c->prompt_id set */
};

/* Load the public suffix list (Debian's file, else libpsl's built-in
 * copy).  0, or -1 + err. */
int broker_open(struct proxyd *pd, char *err, size_t errlen);

/* Free what is left (after conn_close_all(): no connection is parked). */
void broker_close(struct proxyd *pd);

/*
 * c has peeked and been attributed, and no rule decides it: park it on
 * its prompt (opening and announcing one when needed).
 */
enum broker_park broker_park(struct proxyd *pd, struct conn *c);

/*
 * c leaves its prompt without a verdict from it (the client went away, a
 * rule decided it, or it is being closed).  A prompt left with no
 * connection is withdrawn with reason `why` ("gone", "rule").
 */
void broker_unpark(struct conn *c, const char *why);

/* A new rule index is in force: parked connections a rule now decides
 * leave their prompts with that verdict. */
void broker_rules_changed(struct proxyd *pd);

/* An agent left: prompts no remaining agent may see get default_action. */
void broker_agents_changed(struct proxyd *pd);

/*
 * The prompts the peer may see (all when uid is -1), oldest first, each as
 * one "PROMPT ..." line with its "\n": emit(arg, line, len).  Returns how
 * many were emitted.
 */
unsigned broker_list(struct proxyd *pd, int64_t uid,
                     void (*emit)(void *arg, const char *line, size_t len),
                     void *arg);

/* What an ANSWER did, for its reply. */
struct broker_result {
	bool ok;
	enum ctl_code code; /* when !ok */
	char err[512];      /* when !ok */
	uint64_t id;
	int verdict;          /* enum action */
	unsigned connections; /* decided by the answer */
	int64_t rule_id;      /* 0: no rule added */
};

/*
 * Answer prompt id.  uid is the answerer's (-1 for an admin, who may
 * answer any prompt; else only prompts of that uid).  The parked
 * connections get the verdict at once; done(arg, result) runs when it is
 * all done: at once for "once" and for an error, else when the rule is
 * stored and in force (or its storing failed).
 */
void broker_answer(struct proxyd *pd, uint64_t id, int64_t uid, uid_t answerer,
                   int verdict, enum ctl_scope scope,
                   enum ctl_duration duration,
                   void (*done)(void *arg, const struct broker_result *r),
                   void *arg);

/* Prompts pending and connections parked, for STATUS. */
unsigned broker_pending(const struct proxyd *pd);
unsigned broker_parked(const struct proxyd *pd);

#endif
