/*
 * agent.h - a prompt agent's connection to tollgated, and its contract
 * with the front end (desktop.c or tty.c) that shows the prompts.
 *
 * The agent connects to the control socket, sends SUBSCRIBE, and then
 * keeps the set of pending prompts as PROMPT and WITHDRAW lines arrive
 * (docs/control.md, Prompts); a DENIED line (notify_denials) is shown
 * at once by denied.c and not kept.  It owns every struct agent_prompt; the
 * front end learns of them through struct agent_ui and may keep its own
 * state in agent_prompt.ui, which it must release in its removed().
 *
 * Connection states (enum agent_state):
 *   DOWN         no connection; a try every AGENT_RETRY_MS
 *   SUBSCRIBING  connected, SUBSCRIBE sent, its reply not read yet
 *   SUBSCRIBED   the reply was OK; PROMPT and WITHDRAW lines arrive
 * Leaving SUBSCRIBED (the daemon stopped, a protocol error) drops every
 * prompt: the daemon forgets this agent's prompts too, and will send the
 * pending ones again after the next SUBSCRIBE.  A SUBSCRIBE refused with
 * "ERR perm" ends the program with status 1: trying again cannot help.
 *
 * Requests are answered in order, so the replies (OK/ERR lines) are
 * matched against a queue of the requests sent.  Everything is on the
 * GLib main loop; nothing here blocks except ctl_connect() on a unix
 * socket, which returns at once unless the daemon's backlog is full.
 */
#ifndef TG_PROMPT_AGENT_H
#define TG_PROMPT_AGENT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/ctl.h"
#include "common/ctl_prompt.h"
#include "prompt/actions.h"

#define AGENT_PROMPTS_MAX 256  /* the daemon's own bound on pending prompts */
#define AGENT_REQS_MAX    64   /* requests sent and not yet answered */
#define AGENT_OUT_MAX     8192 /* bytes waiting for the socket */
#define AGENT_RETRY_MS    2000 /* between tries to reach the daemon */
#define AGENT_IN_MAX      (CTL_LINE_MAX + 2) /* a line, its "\r\n" */
#define AGENT_NOTE_MAX    (CTL_MSG_MAX + 256)
/* A prompt past its expires= stays this long, waiting for the daemon's
 * WITHDRAW: expires= is in whole seconds, the daemon's timer is not, so
 * an answer may still count for up to a second after it. */
#define AGENT_EXPIRE_GRACE_S 2

enum agent_state {
	AGENT_DOWN,
	AGENT_SUBSCRIBING,
	AGENT_SUBSCRIBED,
};

struct agent_prompt {
	struct ctl_prompt p;
	int64_t seen;   /* Unix time it arrived: its age on screen */
	bool answering; /* our ANSWER is sent, its reply not read yet */
	/* Why the daemon withdrew it while our answer was on its way (it
	 * withdraws from every agent, ours too, before the reply): "" when
	 * it did not.  The reply says whether the answer was ours. */
	char withdrawn[96];
	bool decided; /* that WITHDRAW said reason=answered */
	void *ui;     /* the front end's, released in its removed() */
};

struct agent;

/* What became of an answer we sent, as its reply says. */
enum agent_outcome {
	AGENT_TAKEN,   /* OK: it decided the prompt (and added its rule) */
	AGENT_NO_RULE, /* ERR, but the prompt was decided by it: only the
	                  rule it asked for was not added */
	AGENT_REFUSED, /* ERR: it did not count (timed out, answered
	                  elsewhere, not offered) */
	AGENT_LOST,    /* no reply: the connection was lost first */
};

/*
 * A front end.  Every callback is optional but added and removed.
 *   start    set up (the terminal, the notification server) before the
 *            first connection; 0, or -1 after printing why on stderr
 *   stop     undo start: restore the terminal; called once at the end
 *   note     tell the user something: a change of the connection's state
 *            (each change once, not each retry) or a line that was bad
 *   added    a prompt arrived
 *   removed  p goes away right after this; why is "withdrawn: answered
 *            elsewhere", "expired", "disconnected", ...
 *   answered the daemon's reply to our answer of prompt id; p is NULL
 *            when the prompt is gone already; text is for people
 *            ("allowed (1 connection); rule 14 added", "answer not
 *            taken: notfound ...", or with AGENT_NO_RULE the daemon's
 *            own message)
 *   tick     once a second, after expired prompts were removed
 *   suspend  the program stops (SIGTSTP): give back what start took
 *   resume   the program was continued (SIGCONT, after SIGTSTP or an
 *            untold SIGSTOP): take it again and show everything
 */
struct agent_ui {
	const char *name;
	int (*start)(struct agent *a);
	void (*stop)(struct agent *a);
	void (*note)(struct agent *a, int level, const char *msg);
	void (*added)(struct agent *a, struct agent_prompt *p);
	void (*removed)(struct agent *a, struct agent_prompt *p,
	                const char *why);
	void (*answered)(struct agent *a, struct agent_prompt *p, uint64_t id,
	                 enum agent_outcome outcome, const char *text);
	void (*tick)(struct agent *a);
	void (*suspend)(struct agent *a);
	void (*resume)(struct agent *a);
};

/* A request on its way: what its reply answers. */
struct agent_req {
	enum ctl_verb verb; /* CTL_SUBSCRIBE or CTL_ANSWER */
	uint64_t id;        /* ANSWER: the prompt */
};

struct agent {
	const char *path; /* the control socket */
	const struct agent_ui *ui;
	void *ui_data; /* the front end's */
	GMainLoop *loop;
	int status;    /* the program's exit status once the loop ends */
	bool quitting; /* agent_quit() was called: read no more lines */

	enum agent_state state;
	bool down; /* DOWN, and the last try found no daemon (CTL_DOWN) */
	int fd;
	guint in_watch, out_watch, retry_timer, tick_timer;
	char *in; /* AGENT_IN_MAX bytes: a line being read */
	size_t in_len;
	char out[AGENT_OUT_MAX];
	size_t out_len;
	struct agent_req reqs[AGENT_REQS_MAX]; /* a ring, oldest at head */
	size_t req_head, n_reqs;
	struct agent_prompt *prompts[AGENT_PROMPTS_MAX]; /* oldest first */
	size_t n_prompts;
	/* The last state told to the user, so that retries stay quiet. */
	char note[AGENT_NOTE_MAX];

	/* From the OK to SUBSCRIBE. */
	unsigned agent_id, uid, timeout_s;
	int default_action; /* enum action, -1 when not said */
	/* prompt_answers ("all", "once-only", "admin-forever"); "" when
	 * not said.  Which answers we may give is each PROMPT's durations=;
	 * this is for saying why. */
	char answers[16];
};

/* Set up a (no connection yet); the front end's start() is not called.
 * 0, or -1 when out of memory. */
int agent_init(struct agent *a, const char *path, const struct agent_ui *ui,
               GMainLoop *loop);

/* Start the front end, connect (or start retrying), start the 1 s tick.
 * 0, or -1 when the front end could not start. */
int agent_start(struct agent *a);

/* Drop the connection and every prompt (removed() with "quitting"),
 * stop the front end; a may be freed with agent_free() afterwards. */
void agent_stop(struct agent *a);
void agent_free(struct agent *a);

/* End the main loop; the program exits with status. */
void agent_quit(struct agent *a, int status);

/* The pending prompt with this id, or NULL. */
struct agent_prompt *agent_find(struct agent *a, uint64_t id);

/*
 * Answer p with def: "ANSWER ID VERDICT SCOPE DURATION" as p offers def.
 * 0 when sent (the reply comes to answered()), or -1 + err: def is not
 * offered by p, p is answered already, or the daemon cannot be reached.
 */
int agent_answer(struct agent *a, struct agent_prompt *p,
                 const struct actions_def *def, char *err, size_t errlen);

/* Unix time now: what PROMPT's created= and expires= are measured in. */
int64_t agent_now(void);

#endif
