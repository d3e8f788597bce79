/*
 * control_agent.h - whether a control client is the installed
 * tollgate-prompt, and may become a prompt agent (SUBSCRIBE;
 * docs/control.md, "Who may subscribe").
 *
 * Three things are checked.  Installed as it should be, prompt_program is
 * setgid to a group of its own (make install: _tollgate-prompt), and the
 * peer's gid as the kernel recorded it at connect() must be that group: no
 * other program can connect with it, and a setgid process can be neither
 * traced nor LD_PRELOADed by its user.  Besides, the connecting process
 * and every process that wrote on the connection so far run that file
 * (SO_PASSCRED: each read says who wrote it, and the kernel never joins
 * two writers' bytes in one read).  So a script cannot connect, fork, let
 * the parent exec tollgate-prompt (the pid SO_PEERCRED names) and talk
 * itself.  A prompt_program that is not setgid (a build run in place) has
 * only the second check, which a determined program of the same user can
 * get around.  Last, the uid must be guarded (guard_users), or an admin:
 * an agent of anyone else would never be asked anything.
 *
 * An agent's connection is closed on the first byte that another program
 * wrote.  It keeps the file it subscribed as: an upgrade that replaces
 * prompt_program leaves running agents theirs.
 */
#ifndef TG_CONTROL_AGENT_H
#define TG_CONTROL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"

/* One connection's writers so far, and what it subscribed as. */
struct control_agent {
	pid_t writer;      /* the last writer checked; -1 before the first */
	bool writer_agent; /* it runs the prompt program */
	bool foreign;      /* some byte came from another program */
	bool subscribed;   /* a prompt agent: it runs the file (dev, ino) */
	dev_t dev;
	ino_t ino;
};

/* Before the first byte: no writer seen, not subscribed. */
void control_agent_init(struct control_agent *a);

/*
 * Bytes written by pid (SCM_CREDENTIALS of the read; 0 when the kernel
 * gave none) arrived.  True when they may be taken; false when the
 * connection is an agent's and pid does not run the file it subscribed
 * as: the caller closes it.
 */
bool control_agent_writer(struct control_agent *a, const char *prompt_program,
                          pid_t pid);

/*
 * May the peer (SO_PEERCRED: pid, uid, gid; admin: root or admin_group)
 * subscribe?  0 and a->subscribed, or -1 with err the message of the
 * "ERR perm" line.
 */
int control_agent_subscribe(struct control_agent *a, const struct config *cfg,
                            pid_t pid, uid_t uid, gid_t gid, bool admin,
                            char *err, size_t errlen);

#endif
