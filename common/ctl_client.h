/*
 * ctl_client.h - the blocking client of tollgated's control socket, for
 * the tollgate command and tollgate-prompt: connect, send whole lines,
 * read one reply or line at a time, each within a timeout.  The lines
 * themselves are built and parsed by common/ctl.h.
 *
 * Memory: nothing here keeps state between calls; a line read belongs to
 * the caller, a reply is freed with ctl_reply_free().
 */
#ifndef TG_CTL_CLIENT_H
#define TG_CTL_CLIENT_H

#include <stddef.h>

#include "common/ctl.h"

#define CTL_TIMEOUT_MS 10000 /* a client's wait for connect, send, reply */

/*
 * Connect to the socket at path.  Returns a connected socket, or CTL_DOWN
 * when the daemon is not running (no socket file, or nothing listening on
 * it), with err saying "tollgated is not running (no socket at PATH)", or
 * -1 + err for anything else (permission denied, a path too long).
 */
#define CTL_DOWN (-2)
int ctl_connect(const char *path, char *err, size_t errlen);

/*
 * Send buf[0..len) (whole lines) within timeout_ms.  0, or -1 + err with
 * errno set; when the daemon closed the connection (EPIPE, ECONNRESET) its
 * ERR reply may still be waiting, so read it before giving up.
 */
int ctl_send(int fd, const char *buf, size_t len, int timeout_ms, char *err,
             size_t errlen);

/*
 * Read one reply line within timeout_ms and parse it.  Reads exactly that
 * line and nothing after it.  0, or -1 + err (timeout, the daemon closed
 * the connection, a line too long or malformed).
 */
int ctl_recv_reply(int fd, struct ctl_reply *rep, int timeout_ms, char *err,
                   size_t errlen);

/*
 * Read one line within timeout_ms, whatever it says (the PROMPT lines that
 * follow "OK count=N", a subscriber's PROMPT and WITHDRAW lines).  Reads
 * exactly that line and nothing after it.  0 with *line (NUL-terminated,
 * without its "\n"; the caller frees it) and *len, or -1 + err as
 * ctl_recv_reply(), *line then NULL.
 */
int ctl_recv_line(int fd, char **line, size_t *len, int timeout_ms, char *err,
                  size_t errlen);

/*
 * Connect, send request (one line without "\n") and read the reply.
 * Returns 0 (a reply, OK or ERR, is in *rep), CTL_DOWN (not running; err
 * says so), or -1 + err.
 */
int ctl_call(const char *path, const char *request, struct ctl_reply *rep,
             char *err, size_t errlen);

/*
 * On a connected fd: send request (one line without "\n"), read the
 * reply, and when it is "OK count=N ..." the N lines that follow it, each
 * handed to row(line, len, arg) (line NUL-terminated, the caller's only
 * during the call; row returns 0, or -1 with err set to stop).  Returns
 * 0 with *rep filled (an ERR too: no rows then), or -1 + err (*rep
 * freed).  For RULES, EVENTS and PROMPTS.
 */
int ctl_call_rows(int fd, const char *request, struct ctl_reply *rep,
                  int (*row)(const char *line, size_t len, void *arg),
                  void *arg, char *err, size_t errlen);

#endif
