/*
 * attr.h - which process made a TCP connection.
 *
 * netlink sock_diag, keyed on the client's address and the original
 * destination, gives the owner uid and the socket inode; the inode is found
 * in /proc/PID/fd, trying first the processes that connected most recently
 * (a small MRU cache), then the processes of that uid, then the rest.
 *
 * These calls block (netlink round trip, /proc reads): tollgated runs them
 * on its worker thread, never on the event loop.  One struct attr per
 * thread; not thread-safe.
 */
#ifndef TG_ATTR_H
#define TG_ATTR_H

#include <limits.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#define ATTR_CMDLINE_MAX 512
#define ATTR_MRU_SIZE	 64

struct app {
	bool known;		/* pid, exe and cmdline are valid */
	bool uid_known;		/* uid and user are valid */
	pid_t pid;
	uid_t uid;
	char user[64];		/* name, or the uid as digits */
	char exe[PATH_MAX];	/* /proc/PID/exe target */
	char cmdline[ATTR_CMDLINE_MAX]; /* argv joined by spaces */
};

struct attr;

/* Open the sock_diag socket of the current network namespace.  NULL and
 * errno on failure. */
struct attr *attr_new(void);
void attr_free(struct attr *a);

/*
 * Fill *app for the TCP socket whose local address is client and whose
 * remote address is dst (both AF_INET or both AF_INET6).  Returns 0 when at
 * least the uid was found (app->known tells whether the process was too),
 * -1 when no such socket exists (app->uid_known false).  Never guesses.
 */
int attr_lookup(struct attr *a, const struct sockaddr *client,
    const struct sockaddr *dst, struct app *app);

/*
 * One place that formats an app's identity for humans:
 * "/usr/bin/curl (pid 123, uid 1000 alice)" or
 * "unknown process of uid 1000 (alice)" or "unknown process".
 */
const char *attr_describe(const struct app *app, char *buf, size_t len);

#endif
