/*
 * control.h - tollgated's control server: the unix stream socket at
 * control_socket, speaking the protocol of common/ctl.h (docs/control.md).
 *
 * Who may do what.  Each client is known by the kernel's word for it:
 * SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS (supplementary groups), as
 * they were when it connected.  STATUS is open to everyone (the socket is
 * mode 0666: tollgate-prompt, run by ordinary users, will connect to it); the
 * verbs that change rules (ctl_verb_needs_admin()) need uid 0 or the group
 * admin_group, as primary or supplementary group.  Anyone else gets
 * "ERR perm ..." and nothing changes.
 *
 * Bounds: the fair shares below, CTL_LINE_MAX per line, CTL_IMPORT_LINES_MAX
 * and CTL_IMPORT_BYTES_MAX per IMPORT, CONTROL_IDLE_S without a byte from the
 * client and CONTROL_WRITE_S for a reply to be taken; a client with
 * replies it has not read (control.c's CONTROL_OUTPUT_MAX) is not read
 * from until it takes them.  A line that is not
 * a request (usage), too long (toolong) or an IMPORT refused for perm is
 * answered with ERR and the connection closed; other errors (perm,
 * notfound, invalid, internal) leave it open.  One client's garbage never
 * touches another client.
 *
 * Fair shares (control_share_admit()).  The socket is open to every local
 * user, so no user may take the slots another needs:
 *   - admins (root, admin_group) have CONTROL_MAX_ADMIN slots of their
 *     own, which nobody else's clients count against: a user holding
 *     sockets never locks root's `tollgate status` or `rules add` out;
 *   - every other uid holds at most CONTROL_MAX_PER_UID clients, its
 *     prompt agent among them;
 *   - all of those together hold at most CONTROL_MAX_CLIENTS.  When they
 *     are full, a newcomer of uid U is taken when some uid V holds more
 *     than U would after taking it (count(V) > count(U) + 1): V's oldest
 *     client that is not a subscribed agent is told "ERR internal" and
 *     closed to make room.  Otherwise the newcomer is turned away.
 *     Subscribed agents are never closed to make room: their slots are
 *     kept.
 * Turned away means told "ERR internal ..." (saying which bound) and
 * closed, without reading what it sent.
 *
 * Changes go to rulesvc_apply(); the reply is written from its done
 * callback, once the change is stored and live.  A client that left
 * meanwhile is forgotten; the change still happens.
 */
#ifndef TG_CONTROL_H
#define TG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proxyd/proxyd.h"

#define CONTROL_MAX_CLIENTS 64 /* of users who are not admins */
#define CONTROL_MAX_PER_UID 8  /* of one uid that is not an admin */
#define CONTROL_MAX_ADMIN   32 /* of root and admin_group, apart */
#define CONTROL_IDLE_S      60 /* a client silent this long is closed */
#define CONTROL_WRITE_S     10 /* a reply not taken this long: closed */
#define CONTROL_BACKLOG     16
#define CONTROL_DIR_MODE    0755 /* a directory control_open() makes */
#define CONTROL_SOCK_MODE   0666 /* authorisation is per request */
/* Lines handled per turn of the loop; an IMPORT of a million names
 * takes many turns and other work runs between them. */
#define CONTROL_LINES_PER_TURN 512

struct control;

/*
 * As root, before the privilege drop: make the socket's directory when
 * missing (CONTROL_DIR_MODE, given to cfg.user so that tollgated can
 * remove its socket when it stops), replace a stale socket file (one that
 * nothing answers on), bind, set CONTROL_SOCK_MODE and listen.  Refuses
 * when another tollgated answers on the path, or when the path is
 * something other than a socket.  Clients that connect before
 * control_start() wait in the backlog.  Returns the server, or NULL + err.
 */
struct control *control_open(struct proxyd *pd, char *err, size_t errlen);

/* On the loop's thread, after the privilege drop: start taking clients.
 * 0, or -1 (logged). */
int control_start(struct control *ctl);

/*
 * Close every client (their pending changes still complete, unanswered),
 * stop listening and remove the socket file when the directory lets us.
 * NULL is fine.
 */
void control_close(struct control *ctl);

/*
 * Prompt agents (SUBSCRIBE; docs/control.md).  An agent sees the prompts
 * of its own uid, an admin's agent every prompt; a prompt of an unknown
 * user (has_uid false) only admins' agents.  NULL ctl: no agents.
 */
/* Which agents: those that see a prompt of uid (control_has_agent()),
 * or those told of uid's refusals (notify_denials: the agents of uid's
 * own user). */
enum control_agents {
	CONTROL_SEE,
	CONTROL_TOLD,
};

bool control_has_agent(struct control *ctl, bool has_uid, uid_t uid);
/* Send line (with its "\n") to every agent of who for uid. */
void control_notify(struct control *ctl, enum control_agents who, bool has_uid,
                    uid_t uid, const char *line, size_t len);

/*
 * Whether a newcomer is taken (Fair shares, above).  admin: it is root or
 * in admin_group; n_admin: admin clients now; total: other clients now;
 * mine: clients of the newcomer's uid now; top: clients of the uid
 * holding most among those with a client that may be closed to make
 * room (0 when none).
 */
enum control_admit {
	CONTROL_ADMIT,        /* taken */
	CONTROL_ADMIT_EVICT,  /* taken once top's oldest such client goes */
	CONTROL_REFUSE_UID,   /* its uid holds CONTROL_MAX_PER_UID */
	CONTROL_REFUSE_FULL,  /* the table is full and fairly shared */
	CONTROL_REFUSE_ADMIN, /* CONTROL_MAX_ADMIN admin clients */
};
enum control_admit control_share_admit(bool admin, unsigned n_admin,
                                       unsigned total, unsigned mine,
                                       unsigned top);

/* Fill *sink so that the broker's prompts reach ctl's agents as PROMPT
 * and WITHDRAW lines (main.c wires it with broker_set_sink()). */
struct broker_sink;
void control_broker_sink(struct control *ctl, struct broker_sink *sink);

#endif
