/*
 * connbpf.h - who called connect(): a cgroup connect4/connect6 BPF
 * program that records, for every TCP or UDP connect() on the machine,
 * the socket's cookie and the calling process.
 *
 * The kernel runs the program in the caller's context, so it names the
 * process that connected, not whichever process holds the socket when
 * tollgated looks: a socket shared with an allowed program, passed on by
 * SCM_RIGHTS, or held by a process whose /proc/PID is hidden cannot lend
 * the connection another identity.  And the common case needs no /proc
 * fd scan.  The map is keyed by the socket cookie (bpf_get_socket_cookie,
 * the same number sock_diag reports as idiag_cookie and SO_COOKIE
 * returns); each value holds the caller's pid and tid (in tollgated's
 * pid namespace), real uid and gid, and the boot-time clock at connect.
 * The map is an LRU hash of CONNBPF_MAP_ENTRIES entries: the oldest
 * record goes when it is full, so a lookup can miss, and the caller
 * falls back to /proc.
 *
 * The program is written as raw BPF instructions and loaded with the
 * bpf(2) system call (no libbpf, no compiler); it is attached with
 * BPF_LINK_CREATE to the root of the cgroup v2 hierarchy found in
 * /proc/self/mountinfo, so that it goes away with the last descriptor of
 * its link: when tollgated exits or crashes.  Links attach with multi
 * semantics, so several tollgated instances coexist, each with its map.
 * It always allows the connect.
 *
 * A second program, a raw tracepoint at sched_process_exec, records for
 * every process the boot-time clock of its latest execve() (keyed by its
 * tgid, in a second LRU map of CONNBPF_MAP_ENTRIES): a process that
 * connects and then execs an allowed program, the socket kept open, is
 * told apart from that program (connbpf_exec_lookup()).  It needs
 * CAP_PERFMON (or CAP_SYS_ADMIN) on top; when it cannot be loaded,
 * connect tracking works without it (one line logged).  Known limits:
 * an exec is recorded when the new program is set up, a few
 * microseconds after /proc/PID/exe already shows it; and a record
 * forgotten by the LRU map reads as no exec.
 *
 * Loading needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN; a lookup
 * needs only the map's descriptor, so connbpf_open() runs before the
 * privileges are dropped and connbpf_lookup() after, from any thread.
 */
#ifndef TG_CONNBPF_H
#define TG_CONNBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Connects remembered; the oldest is forgotten first. */
#define CONNBPF_MAP_ENTRIES 65536
/* SYN records waiting to be taken: each lives from the SYN to
 * tollgated's accept, unless its connection was not redirected. */
#define CONNBPF_SYN_ENTRIES 16384
#define CONNBPF_LOG_SIZE    4096 /* the verifier's words on a refusal */

/* What the program recorded for one socket. */
struct connbpf_rec {
	pid_t tgid; /* process (thread group), as tollgated sees it */
	pid_t tid;  /* the thread that called connect() */
	uid_t uid;  /* its real uid and gid then */
	gid_t gid;
	uint64_t boot_ns; /* CLOCK_BOOTTIME at connect, in ns */
	uint64_t cookie;  /* the socket's */
	uid_t sk_uid;     /* the socket's owner (connbpf_syn_take() only;
	                   * else (uid_t)-1) */
};

/* Counters since connbpf_open(), readable from any thread. */
struct connbpf_stats {
	uint64_t answered;  /* lookups answered by a record (its process,
	                     * or an unknown one when it has exited) */
	uint64_t fallback;  /* lookups without a record: /proc was read */
	uint64_t syn_taken; /* connections found by their SYN record
	                     * (connbpf_syn_take()): no sock_diag */
};

struct connbpf;

/*
 * Load the map and the two connect programs and attach them, then check that
 * they work here: a connect() of tollgated's own to a loopback listener
 * must be recorded with tollgated's own pid.  When tollgated runs in
 * another pid namespace than the initial one, the program records pids
 * as that namespace numbers them (bpf_get_ns_current_pid_tgid, Linux
 * 6.10 or later for this program type), and only the connects of the
 * processes of that namespace itself.  NULL with err saying which
 * step failed and why (the verifier's log included); nothing stays
 * loaded then.  The exec program is loaded last; its failure is logged
 * and leaves the rest working (connbpf_exec_tracked()).
 */
struct connbpf *connbpf_open(char *err, size_t errlen);
void connbpf_close(struct connbpf *cb);

/*
 * The record of the socket whose cookie is cookie: 1 with *rec filled,
 * 0 when there is none (never recorded, or forgotten), -1 with errno
 * when the lookup failed (logged).  Thread-safe.  cb NULL: 0.
 */
int connbpf_lookup(struct connbpf *cb, uint64_t cookie,
                   struct connbpf_rec *rec);

/*
 * The record of the TCP connection tollgated accepted as fd from client,
 * whose destination was dst (the redirect's original one, or
 * tollgated's own address for a front), filed by the SYN program (a
 * cgroup egress program that files each SYN's connect record under its
 * address pair, with the socket's cookie, its owner's uid in sk_uid and
 * the SYN's sequence number): no sock_diag round trip.  The record is
 * taken out of the map.  1 with *rec filled, 0 when there is none (the
 * SYN program is off, the record was forgotten, or the one under these
 * addresses is another SYN's: look by sock_diag), -1 with errno when
 * the lookup failed (logged).  Thread-safe.  cb NULL: 0.
 *
 * The key is the SYN's own: its source as it left (conntrack may have
 * given it another port than the socket's: ctorig.h), the socket's
 * destination, and the network namespace's cookie, tollgated's own.  A
 * record is taken only when its SYN is fd's: the sequence number in
 * the SYN fd's listener saved (connbpf_save_syn()) must be the
 * record's, so that a record left by a SYN that tollgated never
 * accepted (a connection not redirected, one the program could not
 * read) cannot name another connection with the same addresses later.
 */
int connbpf_syn_take(struct connbpf *cb, int fd, const struct sockaddr *client,
                     const struct sockaddr *dst, struct connbpf_rec *rec);

/*
 * Have the listening socket lfd save each SYN's headers (TCP_SAVE_SYN)
 * for connbpf_syn_take(), when the SYN program is on; 0, or -1 with
 * errno from setsockopt.
 */
int connbpf_save_syn(const struct connbpf *cb, int lfd);

/* Whether the SYN program is loaded; false for NULL. */
bool connbpf_syn_tracked(const struct connbpf *cb);

/*
 * When the process tgid (as connbpf_rec.tgid numbers it) last exec'd:
 * 1 with *boot_ns (CLOCK_BOOTTIME, ns, comparable with
 * connbpf_rec.boot_ns), 0 when no exec of it is recorded (none since
 * the program was loaded, forgotten, or exec tracking is off), -1 with
 * errno when the lookup failed (logged).  Thread-safe.  cb NULL: 0.
 */
int connbpf_exec_lookup(struct connbpf *cb, pid_t tgid, uint64_t *boot_ns);

/* Whether the exec program is loaded; false for NULL. */
bool connbpf_exec_tracked(const struct connbpf *cb);

/* Count one attribution: answered by a record, or not (connbpf_stats). */
void connbpf_note(struct connbpf *cb, bool answered);

/* The counters; zero for NULL. */
void connbpf_stats(const struct connbpf *cb, struct connbpf_stats *st);

#endif
