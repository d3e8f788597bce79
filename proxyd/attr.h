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
 *
 * Privileges: sock_diag for TCP needs none.  Reading another user's
 * /proc/PID/fd needs CAP_DAC_READ_SEARCH (the directory is mode 0500 of
 * its owner) and reading its fd links and exe needs ptrace read access,
 * i.e. CAP_SYS_PTRACE; tollgated keeps exactly these two after dropping to
 * its own user.  Without them only the caller's own processes are found.
 * Only processes of the pid namespace whose /proc is mounted are seen.
 *
 * Identity (app->flags, app->digest): each process named is checked, not
 * cached, since an execve may change it: fstatat of /proc/PID/exe against
 * stat of the exe path (two stats, about 2 us), the user namespace's
 * inode (one stat), and /proc/PID/environ (one open and read of at most
 * ATTRENV_READ_MAX bytes; a few us for a usual environment).  The digest
 * is read through /proc/PID/exe, so it is the file the process runs,
 * and hashed once per file (digest.h), on the hash queue's thread
 * (hashq.h) when one is set; a file larger than DIGEST_FILE_MAX has
 * none.
 *
 * More holders: after the socket is found, every other process owned by
 * the socket's uid (the owner of /proc/PID) has its descriptors read for
 * the same socket: a process may make a socket, fork, and exec an allowed
 * program on one side while the other connects; which one is named first
 * is chance.  A socket passes to another process only by inheritance or
 * by SCM_RIGHTS, which the receiver must ask for, so an allowed program
 * that does not take descriptors holds one only as a process of that
 * uid.  Not seen: a process that made itself non-dumpable (its /proc/PID
 * is root's) or changed its uid.  The scan costs, on every lookup, a
 * walk of /proc (a stat per process, about 2.5 us each) and a listing and
 * a link read per descriptor of each of the uid's processes (about 20 us
 * a process); attr_stats.holder_scans and holder_links count them.
 * Measured (-O2, 2 cores, about 100 processes on the machine): a lookup
 * of a socket found in the MRU took 16 us before this scan, and now 0.3
 * ms for a uid with no other process, 2.7 ms for one with 80.
 *
 * Who called connect(): with a struct connbpf (attr_set_connbpf), a TCP
 * socket's cookie from sock_diag is looked up among the connects the
 * kernel recorded (connbpf.h), and the process that called connect()
 * is named, whoever holds the socket now: no fd scan, no holder scan,
 * no APP_F_SHARED.  When the recorded process has exited, the
 * connection is an unknown process's (its holders are not asked: a
 * process may connect, pass its socket on and exit).  Without a record
 * (a socket connected before tollgated started, or one forgotten by the
 * LRU map), the /proc path above.
 */
#ifndef TG_ATTR_H
#define TG_ATTR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/digest.h"
#include "rules/interp.h"

#define ATTR_CMDLINE_MAX    512
#define ATTR_MRU_SIZE       64
#define ATTR_TIMEOUT_MS     200 /* longest wait for the kernel's answer */
#define ATTR_HOLDERS_MAX    8   /* processes named for one socket, at most */
#define ATTR_HOLDER_EXE_MAX 256 /* another holder's exe; longer: "" */

/*
 * What attribution found out about a process beyond its path.
 *  NOT_INSTALLED: the file it runs (stat of /proc/PID/exe: device and
 *    inode) is not the file at its exe path in tollgated's own mount
 *    namespace, or that path cannot be stat'ed there (a deleted or
 *    replaced binary, a bind mount in another mount namespace).
 *  PRELOAD: LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT with a value in its
 *    /proc/PID/environ (attrenv.h), or an environment too long to read.
 *  USERNS: it runs in another user namespace than tollgated.  Its mount
 *    namespace may then be its own, where it may have mounted other
 *    libraries (or anything) under an installed exe; distrust_userns
 *    makes such a process another app than the plain exe.
 *  SHARED: other processes that run other programs (another exe, or the
 *    same path with other APP_F_NOT_INSTALLED/PRELOAD) hold the socket
 *    too: app->others.
 *  HOLDERS_MORE: more such processes than app->others holds.
 */
#define APP_F_NOT_INSTALLED 0x1
#define APP_F_PRELOAD       0x2
#define APP_F_USERNS        0x4
#define APP_F_SHARED        0x8
#define APP_F_HOLDERS_MORE  0x10
/* Set by the judge, not attribution: a rule pinned to another digest of
 * its file would have matched (the file changed since the rule was made):
 * asked about once, as "PATH (changed since the rule was made)". */
#define APP_F_CHANGED 0x20
/* Set by the judge with APP_F_CHANGED when the file's digest was not
 * known (not hashed yet, or not at all: hashq.h): "PATH (file not
 * verified)". */
#define APP_F_UNHASHED 0x40

/* Another process holding the same socket. */
struct app_holder {
	pid_t pid;
	unsigned flags; /* APP_F_NOT_INSTALLED, APP_F_PRELOAD, APP_F_USERNS */
	char exe[ATTR_HOLDER_EXE_MAX]; /* "" when longer: judged as an
	                                * unknown process */
};

struct app {
	bool known;     /* pid, exe and cmdline are valid */
	bool uid_known; /* uid and user are valid */
	pid_t pid;
	uid_t uid;          /* the socket's owner (its creator's fsuid) */
	char user[64];      /* name, or the uid as digits */
	char exe[PATH_MAX]; /* /proc/PID/exe target, " (deleted)" kept */
	char cmdline[ATTR_CMDLINE_MAX]; /* argv joined by spaces, truncated;
	                                 * bytes outside 0x20-0x7e are '?' */
	unsigned flags;                 /* APP_F_*, when known */
	bool has_digest;                /* digest is the SHA-256 of the file
	                                 * it runs (digest.h) */
	uint8_t digest[DIGEST_LEN];
	bool has_file;          /* file is the key of the file it runs */
	struct digest_key file; /* (its digest looked up by it) */
	bool digest_pending;    /* !has_digest: the file is queued to be
	                         * hashed (attr_set_hashq()) */
	size_t n_others;        /* with APP_F_SHARED: the other programs */
	struct app_holder others[ATTR_HOLDERS_MAX - 1];
	/* The script an interpreter runs (rules/interp.h), from the read
	 * that gave cmdline, joined to its cwd, symbolic links resolved in
	 * tollgated's view of the files when it can reach the file; "" when
	 * none.  A label (a process can rewrite its argv), not an identity:
	 * exe and digest are that. */
	char script[INTERP_SCRIPT_MAX];
};

/* Counters since attr_new(), for logs, tests and benchmarks. */
struct attr_stats {
	uint64_t lookups;       /* attr_lookup() calls */
	uint64_t no_socket;     /* no such socket (or only TIME_WAIT) */
	uint64_t errors;        /* sock_diag failed or did not answer */
	uint64_t seen_hits;     /* found where an earlier scan saw the socket */
	uint64_t mru_hits;      /* process found in the MRU cache */
	uint64_t uid_hits;      /* found among the processes of the uid */
	uint64_t other_hits;    /* found among the other processes */
	uint64_t no_process;    /* socket found, process not (or vanished) */
	uint64_t procs_scanned; /* /proc/PID/fd directories read */
	uint64_t links_read;    /* /proc/PID/fd/N links read */
	uint64_t users_read;    /* user names asked of the password database */
	uint64_t holder_scans;  /* /proc/PID/fd read looking for more holders */
	uint64_t holder_links;  /* their links read */
	uint64_t digests;       /* executables hashed (cache misses) */
	uint64_t connect_hits;  /* named by the connect record (connbpf.h) */
	uint64_t connect_misses; /* no fitting record: /proc was looked at */
};

struct attr;

/*
 * Open the sock_diag socket of the current network namespace and check
 * that the kernel answers TCP queries (tcp_diag).  Keeps /proc open.
 * NULL and errno on failure, logged.
 */
struct attr *attr_new(void);
void attr_free(struct attr *a);

/*
 * Whether attr_lookup() looks for the other holders of a TCP socket (the
 * scan above; config key shared_socket_check).  Off after attr_new(): it
 * costs 0.3 to 3 ms a lookup, and the one worker thread serves every
 * user's connections.
 */
void attr_set_holder_scan(struct attr *a, bool on);

/*
 * Name the process that called connect() from cb's records (connbpf.h)
 * when there is one; NULL: never (the /proc path only).  cb is not
 * owned and must outlive a.
 */
struct connbpf;
void attr_set_connbpf(struct attr *a, struct connbpf *cb);

/*
 * Hash executables on hq's thread (hashq.h), not on the calling one: a
 * process whose file's digest is not known yet then has none
 * (app->digest_pending tells that it is on its way).  Without it
 * (after attr_new()), a file is hashed right here, the first time it is
 * seen.
 */
struct hashq;
void attr_set_hashq(struct attr *a, struct hashq *hq);

/*
 * Fill *app for the TCP socket whose local address is client and whose
 * remote address is dst (both AF_INET or both AF_INET6, IPv4-mapped IPv6
 * allowed: the kernel matches either kind of socket).  Returns 0 when at
 * least the uid was found (app->known tells whether the process was too),
 * -1 when no such socket exists (errno ENOENT) or the query failed (other
 * errno, logged); app->uid_known is then false.  A socket in TIME_WAIT
 * has no owner any more and counts as not found.  Never guesses: the
 * kernel's answer must match the 4-tuple asked for, and a process is only
 * named when one of its descriptors is that very socket.
 */
int attr_lookup(struct attr *a, const struct sockaddr *client,
                const struct sockaddr *dst, struct app *app);

/* A TCP socket as sock_diag told of it: what attr_lookup_proc() needs. */
struct attr_sock {
	uid_t uid;           /* its owner */
	unsigned long inode; /* 0: orphaned, no process holds it */
	uint64_t cookie;     /* the kernel's socket cookie (connbpf.h) */
};

/*
 * attr_lookup() in its two halves, for a caller that wants the uid before
 * the /proc work is spent (tollgated's per-user shares, conn.c).
 * attr_lookup_uid() asks sock_diag only (one netlink round trip) and
 * fills *sk, and *app's uid and user (app->known stays false); it
 * returns as attr_lookup() does.  attr_lookup_proc() then finds the
 * process from *sk into the same *app (not cleared again), as
 * attr_lookup() would have.
 */
int attr_lookup_uid(struct attr *a, const struct sockaddr *client,
                    const struct sockaddr *dst, struct attr_sock *sk,
                    struct app *app);
void attr_lookup_proc(struct attr *a, const struct attr_sock *sk,
                      struct app *app);

/*
 * What a cache of answers needs to know that an answer of
 * attr_lookup_rec() is still the process's (appcache.h): the process
 * itself as a pidfd, which polls readable once it has exited, its start
 * and its latest exec as connbpf_exec_lookup() told it (0: none
 * recorded), both CLOCK_BOOTTIME ns, and when the answer was read.
 */
struct attr_ident {
	int pidfd; /* -1: the answer is not to be kept */
	pid_t tgid;
	uint64_t start_ns; /* rounded down to a clock tick */
	uint64_t tick_ns;  /* that tick: the start is before start_ns +
	                    * tick_ns */
	uint64_t exec_ns;
	int64_t read_ms; /* mono_ms() when /proc was read */
};

/*
 * attr_lookup() for a TCP connection whose connect record is known
 * already (connbpf_syn_take(): its sk_uid is the socket's owner): no
 * sock_diag.  Names the process that called connect(), or an unknown
 * process of the uid as attr_lookup() does with a record.  With id, it
 * is filled for a cache: id->pidfd is the caller's to close when not
 * -1.
 */
struct connbpf_rec;
void attr_lookup_rec(struct attr *a, const struct connbpf_rec *rec,
                     struct app *app, struct attr_ident *id);

/*
 * The name of uid into user (cut to len): from a->users, or the password
 * database; the uid's digits when it has none.
 */
void attr_user_name(struct attr *a, uid_t uid, char *user, size_t len);

/*
 * Fill *app for the UDP socket that sent a datagram from client (its
 * local address and port), as attr_lookup() does for TCP, but without
 * looking for more holders (no APP_F_SHARED): the DNS stub and the UDP
 * event log answer every query, and the scan would cost more than the
 * rest of the lookup many times over.  A socket bound
 * to client's address is taken before one bound to a wildcard address
 * with the same port.  Returns 0 (uid found) or -1 with errno (ENOENT:
 * no such socket, e.g. it was closed already).
 */
int attr_lookup_udp(struct attr *a, const struct sockaddr *client,
                    struct app *app);

/*
 * Fill *app for the peer of a unix socket, from its SO_PEERCRED: the
 * process that connected (pid, uid).  The uid is always known; the exe
 * and command line when /proc/PID still shows the process.  The
 * credentials are those of connect(2) time: a process that passed the
 * socket on is still the one named, as for a TCP socket.  Returns 0.
 */
int attr_lookup_pid(struct attr *a, pid_t pid, uid_t uid, struct app *app);

void attr_stats(const struct attr *a, struct attr_stats *st);

/*
 * One place that formats an app's identity for humans:
 * "/usr/bin/curl (pid 123, uid 1000 alice)" or
 * "unknown process of uid 1000 (alice)" or "unknown process".
 * The user name is left out when there is none (user holds the digits).
 * Control bytes in the path are shown as '?'.  Truncates to len; returns
 * buf.
 */
const char *attr_describe(const struct app *app, char *buf, size_t len);

/*
 * Whether the process app names still runs (not a zombie): for a client
 * that half-closed its connection, whether anyone still waits for the
 * answer.  An unknown process (app NULL or not known) counts as gone:
 * nothing else can be looked at.  Reads /proc/PID/stat on the calling
 * thread.
 */
bool attr_app_alive(const struct app *app);

/*
 * The exe a rule may match a process by: exe itself when the file it runs
 * is the installed one (no APP_F_NOT_INSTALLED), unchanged since a rule
 * pinned it (no APP_F_CHANGED: for what a prompt offers, a rule made from
 * its answer would not be pinned), and it has nothing cfg distrusts:
 * with distrust_userns no APP_F_USERNS, with distrust_preload no
 * APP_F_PRELOAD.  NULL otherwise, and for an empty exe: then only rules
 * for any app ("*") match.  flags as struct app's or struct
 * app_holder's.  One function in attr.c decides this for both calls
 * below.
 */
const char *attr_rule_exe(const char *exe, unsigned flags,
                          const struct config *cfg);

/*
 * What a prompt shows as the app: "/usr/bin/curl" when a rule for it may
 * match it (attr_rule_exe()), else with the reason: "/usr/bin/curl (not
 * the installed file)", "(in a user namespace)", "(with LD_PRELOAD)" or
 * "(changed since the rule was made)", the first that applies.
 * Truncates to len; returns buf.
 */
const char *attr_app_label(const struct app *app, const struct config *cfg,
                           char *buf, size_t len);

#endif
