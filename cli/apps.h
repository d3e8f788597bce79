/*
 * apps.h - what --app NAME means to the tollgate command (apps.c): a
 * command is looked up where the guarded users would find it, not in the
 * caller's (root's) PATH, and a name given to a filter matches what the
 * tables show.
 *
 * The guarded users' PATH is the one login(1) and su(1) give a user's
 * login shell: ENV_PATH of /etc/login.defs ("PATH=" before it or not),
 * else Debian's default, APPS_USER_PATH.  Neither the environment of the
 * caller nor root's PATH counts: a rule made by root for "python3" must
 * name the python3 the user runs.
 */
#ifndef TG_CLI_APPS_H
#define TG_CLI_APPS_H

#include <stdbool.h>
#include <stddef.h>

#define APPS_LOGIN_DEFS "/etc/login.defs"
#define APPS_USER_PATH  "/usr/local/bin:/usr/bin:/bin:/usr/games"
#define APPS_PATH_MAX   4096 /* the longest PATH taken */

/*
 * ENV_PATH of the text of a login.defs (NUL-terminated) into out[len]:
 * "ENV_PATH PATH=/a:/b" and "ENV_PATH /a:/b" give "/a:/b"; comments and
 * other keys are skipped.  Returns 1 when found, 0 when not (out then
 * holds APPS_USER_PATH), -1 when it does not fit (out as for 0).
 */
int apps_login_path(const char *defs, char *out, size_t len);

/* The guarded users' PATH: apps_login_path() of APPS_LOGIN_DEFS, or
 * APPS_USER_PATH when it cannot be read or has none.  Returns out. */
const char *apps_user_path(char *out, size_t len);

/*
 * The first dir/cmd of path (':'-separated; relative and empty entries
 * skipped: a user's "." is not root's) that is an executable file, into
 * out[len].  0, or -1 when none is.
 */
int apps_find(const char *cmd, const char *path, char *out, size_t len);

/*
 * Whether an app (a rule's app, an event's exe: a real path) is what a
 * filter named.  want with a '/': app is want or real, want's real path;
 * a bare name: app's last component is want, or that of real (the
 * program the name runs, resolved: python3 -> /usr/bin/python3.11).
 * real may be NULL or "".
 */
bool apps_match(const char *app, const char *want, const char *real);

/* The last component of a path (path itself when it has no '/', or ends
 * in one). */
const char *apps_base(const char *path);

#endif
