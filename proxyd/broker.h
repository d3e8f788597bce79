/*
 * broker.h - the prompt broker: connections that no rule decides wait here
 * while the user is asked (docs/control.md, "Prompts").
 *
 * A connection with no deciding rule is parked on a prompt, keyed by
 * (uid, executable, destination, port), where the destination is the name
 * when the peek found one, else the IP.  Connections to the same key join
 * one prompt; prompts are independent of each other, and connections that
 * rules decide never wait behind them.  A prompt is announced through the
 * sink (struct broker_sink: control.c sends it to the agents of its uid
 * and of admins) and ends in exactly one of these ways:
 *   answered    broker_answer(): every parked connection gets the
 *               verdict; a rule is added unless the answer is "once"
 *   timeout     no answer in prompt_timeout: default_action
 *   no-agent    the last agent that could see it left: default_action
 *               (no_agent_action = default only; with wait it stays)
 *   rule        a rule put in force meanwhile decided every connection
 *   gone        every parked client closed its connection
 * and is then withdrawn through the sink.
 *
 * The broker knows neither connections nor the control socket: a parked
 * connection is a struct broker_waiter whose owner says how to hand it its
 * verdict, and the agents are behind the sink.  Both are filled in by the
 * layer above (conn.c, control.c), wired in main.c.
 *
 * Bounds (BROKER_*): past them a connection is not parked but gets
 * default_action with reason prompt-full.  Besides the totals, each uid
 * (and the prompts of unknown users together, as one) has a share:
 * BROKER_PROMPTS_PER_UID open prompts and half of the parked connections
 * (broker_share_ok()), so that one guarded user filling the table leaves
 * room for another user's prompts to be asked.
 *
 * Everything here runs on the event loop.
 */
#ifndef TG_BROKER_H
#define TG_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/ctl.h"
#include "common/ctl_prompt.h"
#include "proxyd/attr.h"
#include "proxyd/peek.h"
#include "proxyd/proxyd.h"
#include "proxyd/reason.h"
#include "proxyd/rulesvc.h"

#define BROKER_PARKED_PER_PROMPT 64
#define BROKER_PARKED_MAX        1024 /* and half of max_connections */
#define BROKER_PROMPTS_PER_APP   32
#define BROKER_PROMPTS_MAX       256
#define BROKER_PROMPTS_PER_UID   (BROKER_PROMPTS_MAX / 2)
#define BROKER_WHO_MAX           160 /* a log line's prefix */

struct prompt;
struct broker_waiter;

/* How the broker talks to a waiting connection's owner. */
struct broker_waiter_ops {
	/*
	 * Its prompt ended with verdict, for reason REASON_PROMPT
	 * (answered: w->prompt_id), REASON_PROMPT_TIMEOUT, REASON_NO_AGENT
	 * or REASON_DEFAULT.  w is off its prompt already; the owner acts,
	 * and may free w.
	 */
	void (*decided)(struct broker_waiter *w, enum action verdict,
	                enum reason reason);
	/*
	 * A new rule index is in force: when a rule decides w now, its
	 * owner takes it off the prompt (broker_unpark(w, "rule")) and
	 * acts; it may free w.  Else it leaves w as it is.
	 */
	void (*rejudge)(struct broker_waiter *w);
};

/* Embedded in what waits (a connection).  ops is the owner's, the rest
 * the broker's. */
struct broker_waiter {
	const struct broker_waiter_ops *ops;
	struct prompt *prompt; /* parked on it; NULL when not parked */
	uint64_t prompt_id;    /* the prompt it waits on or was decided by */
	TAILQ_ENTRY(broker_waiter) entry;
};

/* What a parked connection is asked about. */
struct broker_ask {
	const struct app *app;
	const char *name; /* NULL: none was read */
	enum name_source source;
	const struct sockaddr *dst; /* AF_UNSPEC: known only by name */
	uint16_t port;
	/* The prefix of its log lines ("conn 2 A -> B") into buf; made only
	 * when it is to be parked, not for the usual no-agent answer. */
	const char *(*who)(const void *owner, char *buf, size_t len);
	const void *owner;
	/* Not 0: the id of a rule pinned to another SHA-256 of app's file,
	 * which would have decided but for that (the file changed since the
	 * rule was made; app->digest is the new one).  Its prompt offers
	 * "allow, forever", which pins that rule to the new digest. */
	int64_t repin;
};

/* How the broker reaches the prompt agents (control.c's). */
struct broker_sink {
	/* p is new (p->connections counted): tell the agents that may
	 * see it. */
	void (*announce)(void *arg, const struct ctl_prompt *p, bool has_uid);
	/* p ended, why ("answered", "timeout", "no-agent", "rule",
	 * "gone"); verdict is what its connections got, -1 when it had
	 * none left. */
	void (*withdraw)(void *arg, const struct ctl_prompt *p, bool has_uid,
	                 const char *why, int verdict);
	/* Whether an agent is subscribed that may see a prompt of this
	 * uid (has_uid false: of an unknown uid, admins' agents only). */
	bool (*has_agent)(void *arg, bool has_uid, uid_t uid);
	/* A connection of d->uid was refused (notify_denials): tell the
	 * agents of that uid's own user, and only them. */
	void (*denied)(void *arg, const struct ctl_denied *d);
	/* Whether denied() would tell an agent of uid. */
	bool (*told)(void *arg, uid_t uid);
	void *arg;
};

enum broker_park {
	BROKER_PARKED,   /* the verdict comes later: ops->decided() */
	BROKER_NO_AGENT, /* nobody could be asked (no_agent_action =
	                  * default): default_action now */
	BROKER_FULL,     /* past a bound: default_action now */
	BROKER_ANSWERED, /* its prompt was just answered, the rule is on
	                  * its way: *verdict and w->prompt_id set */
};

/* Load the public suffix list (Debian's file, else libpsl's built-in
 * copy).  0, or -1 + err.  Until broker_set_sink(), no agent is there. */
int broker_open(struct proxyd *pd, char *err, size_t errlen);

/* The agents: a copy of *sink is kept; NULL for none. */
void broker_set_sink(struct proxyd *pd, const struct broker_sink *sink);

/* Free what is left (after every connection is closed: none waits). */
void broker_close(struct proxyd *pd);

/*
 * w has peeked and been attributed, and no rule decides it: park it on
 * its prompt (opening and announcing one when needed).
 */
enum broker_park broker_park(struct proxyd *pd, struct broker_waiter *w,
                             const struct broker_ask *ask,
                             enum action *verdict);

/*
 * w leaves its prompt without a verdict from it (the client went away, a
 * rule decided it, or it is being closed); nothing when w is not parked.
 * A prompt left with no connection is withdrawn with reason `why`
 * ("gone", "rule").
 */
void broker_unpark(struct broker_waiter *w, const char *why);

/* A new rule index is in force: every parked connection is rejudged
 * (ops->rejudge()). */
void broker_rules_changed(struct proxyd *pd);

/* An agent left: with no_agent_action = default, prompts no remaining
 * agent may see get default_action (reason no-agent); with wait, they
 * wait on for another agent, an admin's answer or their timeout. */
void broker_agents_changed(struct proxyd *pd);

/*
 * The prompts the peer may see (all when uid is -1), oldest first, each
 * given to each(arg, p) with p->connections counted.  Returns how many.
 */
unsigned broker_list(struct proxyd *pd, int64_t uid,
                     void (*each)(void *arg, const struct ctl_prompt *p),
                     void *arg);

/* What an ANSWER did, for its reply. */
struct broker_result {
	bool ok;
	enum rulesvc_error code; /* when !ok */
	char err[512];           /* when !ok */
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
 * stored and in force (or its storing failed).  Errors: RULESVC_E_NOTFOUND
 * (no such prompt of that uid), RULESVC_E_PERM (a duration prompt_answers
 * does not let this answerer give: the broker is the one place that
 * decides it, and err says why for the answerer to be told),
 * RULESVC_E_INVALID (a scope or duration it does not offer),
 * RULESVC_E_INTERNAL.
 */
void broker_answer(struct proxyd *pd, uint64_t id, int64_t uid, uid_t answerer,
                   int verdict, enum ctl_scope scope,
                   enum ctl_duration duration,
                   void (*done)(void *arg, const struct broker_result *r),
                   void *arg);

/*
 * Whether one more prompt (new_prompt) or one more connection on a
 * prompt of a uid fits that uid's share: it holds mine_prompts open
 * prompts and mine_parked parked connections, of parked_max in all.
 */
bool broker_share_ok(bool new_prompt, unsigned mine_prompts,
                     unsigned mine_parked, unsigned parked_max);

/*
 * The durations (1 << enum ctl_duration, OR-ed) an answerer may give
 * under cfg's prompt_answers; admin: root or admin_group.  Always
 * includes once.  broker_answer() refuses the others; control.c uses
 * it only to tell an agent what it may answer.
 */
unsigned broker_answer_durations(const struct config *cfg, bool admin);

/*
 * A connection of d->uid was refused (eventlog.c, for every refusal of a
 * known uid but those the user made: an answer, an abandoned prompt).
 * With notify_denials, d goes to that user's agents through the sink,
 * rate-limited (denials.h: d->count is set here).  Nothing otherwise.
 */
void broker_refused(struct proxyd *pd, struct ctl_denied *d);

/* Prompts pending and connections parked, for STATUS. */
unsigned broker_pending(const struct proxyd *pd);
unsigned broker_parked(const struct proxyd *pd);

#endif
