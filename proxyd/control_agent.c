/*
 * control_agent.c - is a control client the installed tollgate-prompt;
 * see control_agent.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxyd/control_agent.h"

/* Whether pid runs the executable file (dev, ino). */
static bool
pid_runs(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct stat g;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return pid > 0 && stat(path, &g) == 0 && g.st_dev == dev &&
	       g.st_ino == ino;
}

/*
 * Whether the peer is the installed tollgate-prompt: the setgid group it
 * connected with, and that it and every writer so far run the file.  0
 * with the file's device and inode in *st, or -1 + err.
 */
static int
client_is_prompt_program(const struct control_agent *a, const char *want,
                         pid_t pid, uid_t uid, gid_t gid, struct stat *st,
                         char *err, size_t errlen)
{
	char path[64], exe[512];
	struct stat pst;
	bool setgid;
	ssize_t n;

	if (stat(want, st) == -1) {
		snprintf(err, errlen,
		         "SUBSCRIBE: prompt_program %.200s: %s; no agent can "
		         "subscribe",
		         want, strerror(errno));
		return -1;
	}
	setgid = (st->st_mode & S_ISGID) != 0;
	if (setgid && gid != st->st_gid) {
		snprintf(
		    err, errlen,
		    "SUBSCRIBE is for the installed tollgate-prompt "
		    "(%.200s, setgid to gid %u); you connected with gid %u",
		    want, (unsigned)st->st_gid, (unsigned)gid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)a->writer);
	if (!a->foreign && a->writer_agent &&
	    pid_runs(pid, st->st_dev, st->st_ino) &&
	    (setgid || (stat(path, &pst) == 0 && pst.st_uid == uid)))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)a->writer);
	n = a->writer > 0 ? readlink(path, exe, sizeof(exe) - 1) : -1;
	exe[n > 0 ? n : 0] = '\0';
	if (a->foreign && a->writer_agent)
		snprintf(err, errlen,
		         "SUBSCRIBE: other programs wrote on this connection "
		         "before; only the installed tollgate-prompt (%.200s) "
		         "may subscribe",
		         want);
	else
		snprintf(err, errlen,
		         "SUBSCRIBE is for the installed tollgate-prompt "
		         "(%.200s); you are %.200s",
		         want, n > 0 ? exe : "a program tollgated cannot see");
	return -1;
}

void
control_agent_init(struct control_agent *a)
{
	memset(a, 0, sizeof(*a));
	a->writer = -1;
}

bool
control_agent_writer(struct control_agent *a, const char *prompt_program,
                     pid_t pid)
{
	struct stat w;

	if (pid != a->writer || pid == 0) {
		a->writer = pid;
		if (a->subscribed)
			a->writer_agent = pid_runs(pid, a->dev, a->ino);
		else
			a->writer_agent = stat(prompt_program, &w) == 0 &&
			                  pid_runs(pid, w.st_dev, w.st_ino);
	}
	if (!a->writer_agent)
		a->foreign = true;
	return !a->subscribed || a->writer_agent;
}

int
control_agent_subscribe(struct control_agent *a, const struct config *cfg,
                        pid_t pid, uid_t uid, gid_t gid, bool admin, char *err,
                        size_t errlen)
{
	struct stat st;

	if (client_is_prompt_program(a, cfg->prompt_program, pid, uid, gid, &st,
	                             err, errlen) == -1)
		return -1;
	if (!admin && !config_uid_guarded(cfg, uid)) {
		snprintf(err, errlen,
		         "SUBSCRIBE: uid %u is not guarded (guard_users) and "
		         "not an admin: there is nothing to ask it",
		         (unsigned)uid);
		return -1;
	}
	a->subscribed = true;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	return 0;
}
