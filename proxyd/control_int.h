/*
 * control_int.h - what the files of the control server share, and nothing
 * outside them includes:
 *
 *   control.c          the socket, its clients, the line loop, replies,
 *                      and dispatch through the verb table
 *   control_verbs.c    the verb table and STATUS
 *   control_rules.c    the verbs that change rules, IMPORT among them
 *   control_prompts.c  SUBSCRIBE, PROMPTS, ANSWER
 *   control_agent.c    whether a client is the installed tollgate-prompt
 *   control_read.c     RULES and EVENTS: a peer's rules and events, read
 *                      on a thread of their own
 *   control_access.c   who may read and change what (pure)
 *
 * A client is in one of four states:
 *   READY    reading request lines
 *   BODY     reading the lines that follow a request (IMPORT n) into its
 *            verb's handler (struct control_body); the reply comes after
 *            the last one
 *   WAITING  a request's reply comes later (a change with rulesvc, an
 *            answer with the broker); further lines stay buffered
 *   CLOSING  a last reply is being written, then the client is freed
 */
#ifndef TG_CONTROL_INT_H
#define TG_CONTROL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/ctl.h"
#include "proxyd/accept.h"
#include "proxyd/control.h"
#include "proxyd/control_access.h"
#include "proxyd/control_agent.h"
#include "proxyd/rulesvc.h"

#define CONTROL_REPLY_MAX (CTL_MSG_MAX + 64)

enum client_state {
	CLIENT_READY,
	CLIENT_BODY,
	CLIENT_WAITING,
	CLIENT_CLOSING,
};

struct control_pending;
struct control_body;

struct control_client {
	TAILQ_ENTRY(control_client) entry;
	struct control *ctl;
	uint64_t id;
	struct bufferevent *bev; /* writes; reads are control.c's recvmsg() */
	struct event *rev;       /* readable (or idle for CONTROL_IDLE_S) */
	struct evbuffer *in;     /* what it sent, not yet taken as lines */
	bool idle_counts;        /* rev carries the idle timeout */
	bool paused;             /* rev off: too much unread input */
	struct event *more;
	/* The peer as the kernel saw it at connect() (SO_PEERCRED). */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool admin; /* uid 0 or admin_group: may change rules */
	/* Who wrote what it sent; agent.subscribed: a prompt agent. */
	struct control_agent agent;
	enum client_state state;
	bool eof; /* the client sends no more: close once all is answered */
	struct control_pending *pending; /* WAITING: the request in flight */
	/* BODY: the lines still to come, and who takes them. */
	const struct control_body *body;
	void *body_arg;
	unsigned long body_left;
};

TAILQ_HEAD(control_clients, control_client);

struct control {
	struct proxyd *pd;
	int fd; /* until control_start() hands it to evl */
	struct evconnlistener *evl;
	struct accept_backoff backoff;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_clients clients;
	unsigned n_clients; /* all of them, admins' too */
	unsigned n_admin;   /* admins' (CONTROL_MAX_ADMIN) */
	uint64_t next_id;
	time_t started;
	bool closing; /* control_close(): agents leaving end no prompt */
	struct control_reader *reader; /* RULES, EVENTS; made at first use */
};

/*
 * A request whose reply comes later (control_client_wait()).  It outlives
 * its client when the client leaves first (client NULL); whoever gives
 * the reply calls control_pending_reply(), which frees it.  The fields
 * after pid are the request's own, for its reply.
 */
struct control_pending {
	struct control_client *client;
	uint64_t client_id;
	uid_t uid;
	pid_t pid;
	enum ctl_verb verb;
	int64_t id;
	size_t n_rules, n_names; /* IMPORT */
	/* A change asked by a peer who is not an admin: who, for the
	 * store thread's check (rulesvc_change.may). */
	struct control_peer peer;
	struct control_end want; /* RULE-DURATION: the new duration */
};

/*
 * A verb as this server runs it.  Its name, its arguments and whether it
 * needs root or admin_group are the protocol's (common/ctl.c:
 * ctl_req_parse(), ctl_verb_name(), ctl_verb_needs_admin()); the
 * dispatcher checks those, then calls exec.  exec answers, now or later
 * (control_client_wait()); req is freed when it returns.
 */
#define CONTROL_VERB_BODY 0x1 /* lines follow: a refusal must close */

struct control_verb {
	enum ctl_verb verb;
	int flags;
	void (*exec)(struct control_client *c, const struct ctl_req *req);
};

/* The row of verb; NULL when this server has none (control_verbs.c). */
const struct control_verb *control_verb_find(enum ctl_verb verb);

/* The handlers, by file. */
void control_status(struct control_client *c, const struct ctl_req *req);
void control_rule(struct control_client *c, const struct ctl_req *req);
void control_rule_simple(struct control_client *c, const struct ctl_req *req);
void control_import(struct control_client *c, const struct ctl_req *req);
void control_subscribe(struct control_client *c, const struct ctl_req *req);
void control_prompts(struct control_client *c, const struct ctl_req *req);
void control_answer(struct control_client *c, const struct ctl_req *req);
void control_rule_duration(struct control_client *c, const struct ctl_req *req);
void control_rules_list(struct control_client *c, const struct ctl_req *req);
void control_events(struct control_client *c, const struct ctl_req *req);

/* Stop the reading thread of RULES and EVENTS, if it was started
 * (control_read.c); the replies it had not given are not given. */
void control_read_close(struct control *ctl);

/* Who c is, as tollgate.conf and /etc/subuid say now. */
void control_client_peer(const struct control_client *c,
                         struct control_peer *p);

/*
 * The lines that follow a request, taken by its handler: line() for each,
 * then end() after the last (the client READY again; end() replies).
 * cut(): the client stops short, with missing lines still to come; gone
 * false, it shut its side down and is owed an ERR (control_reply_fail());
 * gone true, it left and only the log hears of it.  free() frees arg,
 * whichever way the body ended.
 */
struct control_body {
	void (*line)(struct control_client *c, void *arg, const char *line,
	             size_t len);
	void (*end)(struct control_client *c, void *arg);
	void (*cut)(struct control_client *c, void *arg, unsigned long missing,
	            bool gone);
	void (*free)(void *arg);
};

/* Take the n lines that follow as body (arg is body's from now on); n 0
 * ends it at once. */
void control_client_body(struct control_client *c,
                         const struct control_body *body, void *arg,
                         unsigned long n);

/* "client 3 (uid 1000, pid 4242)" */
const char *control_client_desc(const struct control_client *c, char *buf,
                                size_t len);

/* The read (idle) timeout when idle counts (never for an agent), and
 * always the write one. */
void control_client_timeouts(struct control_client *c, bool idle_counts);

/*
 * Replies.  control_reply_ok() ends l's line and sends it;
 * control_reply_err() sends "ERR code msg"; control_reply_fail() sends it
 * and closes the client once it is written; control_reply_raw() sends
 * lines as they are.  A reply that cannot be queued closes the client.
 */
void control_reply_ok(struct control_client *c, struct ctl_line *l);
void control_reply_err(struct control_client *c, enum ctl_code code,
                       const char *msg);
void control_reply_fail(struct control_client *c, enum ctl_code code,
                        const char *msg);
void control_reply_raw(struct control_client *c, const char *line, size_t len);

/*
 * Make c wait for a reply that comes later: its further lines stay
 * buffered, and no idle timeout runs, until control_pending_reply().
 * Returns the request's pending, or NULL (ERR internal said).
 */
struct control_pending *control_client_wait(struct control_client *c,
                                            enum ctl_verb verb, int64_t id);
/* The reply of p: ok's line, else "ERR code err"; to its client when it
 * is still connected, which then goes on with its requests.  Frees p. */
void control_pending_reply(struct control_pending *p, struct ctl_line *ok,
                           enum ctl_code code, const char *err);
/* The same, and after ok's line the lines rows[0..len) (RULES, EVENTS). */
void control_pending_reply_rows(struct control_pending *p, struct ctl_line *ok,
                                const char *rows, size_t len,
                                enum ctl_code code, const char *err);
/* The control protocol's code for a change or an answer that failed. */
enum ctl_code control_code(enum rulesvc_error e);

/* Whether an agent of who for uid is subscribed. */
bool control_has_agents(struct control *ctl, enum control_agents who,
                        bool has_uid, uid_t uid);

/*
 * Send to every agent of who for uid: send(c, arg) queues c's line with
 * control_reply_raw().  An agent that does not read what it is sent is
 * closed instead.
 */
void control_notify_each(struct control *ctl, enum control_agents who,
                         bool has_uid, uid_t uid,
                         void (*send)(struct control_client *c, void *arg),
                         void *arg);

/* Subscribed prompt agents. */
unsigned control_agents(const struct control *ctl);

#endif
