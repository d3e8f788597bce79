/*
 * attr.c - which process made a TCP connection; see attr.h.
 *
 * Two steps.  sock_diag answers one exact 4-tuple query with the client
 * socket's uid and inode; the kernel keeps the pre-NAT destination in the
 * client's socket, so (client, original destination) names it exactly.
 * Then the inode is looked for among the "socket:[INODE]" links of
 * /proc/PID/fd.  Each /proc/PID is opened once as a directory and every
 * later read (fd/, exe, cmdline) goes through that descriptor, so a pid
 * reused by a new process between the steps cannot be mixed up with the
 * one that held the socket: the old directory just stops answering.
 *
 * Not found, hence "unknown process of uid N": a socket only in flight in
 * an SCM_RIGHTS message, and one of a process whose main thread has exited
 * (its /proc/PID/fd lists nothing; only /proc/PID/task/TID/fd would).
 *
 * Cached: the MRU pids with the descriptor their last socket had (an
 * order to try, never an answer: a process is named only when the link
 * read now is the socket), user names (see attr_user_name), and a
 * remembered process's start time, which connect tracking compares with the
 * connect's (read once: the kept directory of a process that exited
 * stops answering, so the exe read through it after tells that the
 * process is still the one remembered).  Not cached:
 * exe and cmdline, read afresh each time.  Telling a cached entry's
 * process from a later one of the same pid takes /proc/PID/stat's start
 * time, and reading stat (about 7 us) costs more than exe and cmdline
 * together (about 2 + 3 us); and with the same start time and exe,
 * cmdline can still differ (execve of the same program, a process
 * rewriting its argv), so a cached one could be wrong.
 *
 * Loops are bounded by what the kernel lists (pid_max processes, each one's
 * open descriptors) or by named constants below.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "proxyd/appcache.h"
#include "proxyd/attr.h"
#include "proxyd/attrenv.h"
#include "proxyd/connbpf.h"
#include "proxyd/nlreq.h"
#include "proxyd/usernames.h"
#include "proxyd/hashq.h"

#define ATTR_NL_BUFSIZE    8192 /* one inet_diag_msg and its attributes */
#define ATTR_NL_DUMP_READS 64   /* datagrams of one UDP dump, at most */
#define ATTR_PWBUF_SIZE    4096 /* getpwuid_r scratch */
#define ATTR_LINK_MAX      32   /* "socket:[4294967295]" fits */
#define ATTR_FD_BATCH      4096 /* fd numbers of a process checked newest first */
#define ATTR_FD_SHALLOW    16 /* highest fds of each MRU process tried first */
#define ATTR_USERS_SIZE    64 /* uid -> user name cache entries */
#define ATTR_SEEN_SIZE     16384 /* socket inodes seen in scans (power of 2) */
#define ATTR_EXEC_TRIES    8     /* reads of a process caught inside execve */
#define ATTR_EXEC_WAIT_US  250   /* between them */

/* include/net/tcp_states.h */
#define ATTR_TCP_TIME_WAIT 6

/*
 * A socket seen while scanning for another one: in a burst of new
 * connections a scan of a process reads the links of sockets whose own
 * lookups are still queued, and those then need no scan at all.  Only a
 * hint: the link is read again and must still be that socket.
 */
struct attr_seen {
	unsigned long inode; /* 0: empty */
	pid_t pid;
	int fd;
};

/*
 * A process, with its /proc directories open once looked at.  The MRU
 * keeps them open: the next lookup lists and reads them without looking
 * their paths up again (half the system calls of a lookup).  A kept
 * directory of a process that exited reads as gone (ENOENT), never as the
 * directory of a new process given the same pid.
 */
struct attr_proc {
	pid_t pid;
	int hint; /* where its last socket was found, or -1 */
	int pfd;  /* /proc/PID, or -1 */
	DIR *fds; /* /proc/PID/fd, or NULL */
	int cmd;  /* /proc/PID/cmdline (read at offset 0), or -1 */
	/* Its start, CLOCK_BOOTTIME ns rounded down to a clock tick, read
	 * once (attr_connector()); 0: not read yet. */
	uint64_t start_ns;
};

struct attr {
	struct nlreq nl;                     /* NETLINK_SOCK_DIAG */
	DIR *proc;                           /* /proc, rewound for each scan */
	struct attr_proc mru[ATTR_MRU_SIZE]; /* most recently matched first */
	size_t n_mru;
	struct username users[ATTR_USERS_SIZE]; /* or the uid as digits */
	int fds[ATTR_FD_BATCH];                 /* scratch of attr_scan_pid */
	struct attr_seen seen[ATTR_SEEN_SIZE];
	struct digest_cache *dc; /* without hq */
	struct hashq *hq;        /* attr_set_hashq() */
	bool holder_scan;   /* look for the other holders of a TCP socket */
	struct connbpf *cb; /* who called connect(), or NULL */
	long clk_tck;       /* /proc/PID/stat's unit of time */
	bool has_userns;    /* userns_* is tollgated's own user namespace */
	dev_t userns_dev;
	ino_t userns_ino;
	struct attr_stats st;
	char buf[ATTR_NL_BUFSIZE]
	    __attribute__((aligned(__alignof__(struct nlmsghdr))));
};

/* An endpoint as the kernel compares it: IPv4 as IPv4-mapped IPv6. */
struct attr_ep {
	uint8_t ip[16];
	uint16_t port; /* network order */
};

/* Where a process scan stands after one /proc/PID. */
struct attr_scan {
	const char *want; /* "socket:[INODE]" */
	size_t wantlen;
	int hint;        /* descriptor to read first, or -1 */
	int found;       /* the descriptor that is want */
	int below;       /* only descriptors below it are listed and read */
	unsigned denied; /* processes whose descriptors we may not read */
	pid_t pid;       /* the process being scanned */
};

static int attr_nl_send(struct attr *, struct nlmsghdr *);
static struct nlmsghdr *attr_nl_recv(struct attr *, uint32_t);
static int attr_probe(struct attr *);
static int attr_diag(struct attr *, const struct sockaddr *,
                     const struct sockaddr *, uid_t *, unsigned long *,
                     uint64_t *);
static int attr_connector(struct attr *, uint64_t, uid_t, struct app *);
static void attr_connector_rec(struct attr *, const struct connbpf_rec *, uid_t,
                               struct app *, struct attr_ident *);
static int attr_start_ns(int, pid_t, long, uint64_t *);
static int attr_ep_from_sa(const struct sockaddr *, struct attr_ep *);
static void attr_ep_from_diag(uint8_t, const __be32 *, __be16,
                              struct attr_ep *);
static int attr_diag_has_owner(const struct nlmsghdr *);
static int attr_find(struct attr *, unsigned long, uid_t, bool, struct app *);
static int attr_find_first(struct attr *, unsigned long, uid_t, struct app *);
static void attr_owner(struct attr *, uid_t, unsigned long, bool, struct app *);
static int attr_scan_pid(struct attr *, struct attr_proc *, struct attr_scan *,
                         size_t, bool *);
static int attr_proc_open(struct attr *, struct attr_proc *);
static void attr_proc_close(struct attr_proc *);
static int attr_proc_found(struct attr *, struct attr_proc *, int,
                           struct app *);
static int attr_check_fd(struct attr *, int, int, struct attr_scan *);
static int attr_int_cmp(const void *, const void *);
static int attr_open_pid(struct attr *, const char *);
static ssize_t attr_mru_index(const struct attr *, pid_t);
static int attr_fill(struct attr *, struct attr_proc *, struct app *);
static unsigned attr_identity(struct attr *, int, pid_t, const char *,
                              struct app *);
static void attr_digest(struct attr *, int, pid_t, const struct stat *,
                        struct app *);
static bool attr_preload(int, pid_t);
static void attr_holders(struct attr *, struct attr_scan *, uid_t,
                         struct app *);
static void attr_holder_add(struct app *, pid_t, const char *, unsigned);
static int attr_seen_find(struct attr *, unsigned long, struct attr_scan *,
                          struct app *);
static void attr_seen_note(struct attr *, const char *, size_t, pid_t, int);
static int attr_read_exe(int, pid_t, char *, size_t);
static int attr_read_cmdline(struct attr_proc *, const char *, char *, size_t,
                             char *, size_t);
static void attr_script(struct attr_proc *, const char *, const char *, size_t,
                        char *, size_t);
static int attr_user_read(uid_t, char *, size_t);
static int attr_parse_uint(const char *);
static pid_t attr_parse_pid(const char *);
static void attr_mru_drop(struct attr *, size_t);
static void attr_mru_front(struct attr *, struct attr_proc *);
static size_t attr_copy_printable(char *, size_t, const char *);

struct attr *
attr_new(void)
{
	struct attr *a;
	struct stat ns;
	int saved;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_error("attr: allocating state: %s", strerror(errno));
		return NULL;
	}
	/* A kernel that does not answer must not hang the worker thread. */
	if (nlreq_open(&a->nl, NETLINK_SOCK_DIAG, ATTR_TIMEOUT_MS) == -1) {
		log_error("attr: opening a NETLINK_SOCK_DIAG socket: %s",
		          strerror(errno));
		goto fail;
	}
	if ((a->proc = opendir("/proc")) == NULL) {
		log_error("attr: opendir /proc: %s", strerror(errno));
		goto fail;
	}
	if ((a->dc = digest_cache_new()) == NULL)
		goto fail;
	if ((a->clk_tck = sysconf(_SC_CLK_TCK)) <= 0)
		a->clk_tck = 100;
	/* Read before any privilege is dropped; a process in another user
	 * namespace than this one is flagged. */
	if (stat("/proc/self/ns/user", &ns) == 0) {
		a->has_userns = true;
		a->userns_dev = ns.st_dev;
		a->userns_ino = ns.st_ino;
	} else
		log_warn("attr: stat /proc/self/ns/user: %s; processes in "
		         "other user namespaces are not flagged",
		         strerror(errno));
	if (attr_probe(a) == -1)
		goto fail;
	return a;

fail:
	saved = errno;
	attr_free(a);
	errno = saved;
	return NULL;
}

void
attr_free(struct attr *a)
{
	if (a == NULL)
		return;
	nlreq_close(&a->nl);
	if (a->proc != NULL)
		closedir(a->proc);
	while (a->n_mru > 0)
		attr_mru_drop(a, a->n_mru - 1);
	digest_cache_free(a->dc);
	free(a);
}

void
attr_stats(const struct attr *a, struct attr_stats *st)
{
	*st = a->st;
}

int
attr_lookup(struct attr *a, const struct sockaddr *client,
            const struct sockaddr *dst, struct app *app)
{
	struct attr_sock sk;

	if (attr_lookup_uid(a, client, dst, &sk, app) == -1)
		return -1;
	attr_lookup_proc(a, &sk, app);
	return 0;
}

int
attr_lookup_uid(struct attr *a, const struct sockaddr *client,
                const struct sockaddr *dst, struct attr_sock *sk,
                struct app *app)
{
	memset(app, 0, sizeof(*app));
	a->st.lookups++;
	if (attr_diag(a, client, dst, &sk->uid, &sk->inode, &sk->cookie) == -1)
		return -1;
	app->uid_known = true;
	app->uid = sk->uid;
	attr_user_name(a, sk->uid, app->user, sizeof(app->user));
	return 0;
}

void
attr_lookup_proc(struct attr *a, const struct attr_sock *sk, struct app *app)
{
	/* The process that called connect() wins over every holder. */
	if (a->cb != NULL && attr_connector(a, sk->cookie, sk->uid, app) == 0)
		return;
	attr_owner(a, sk->uid, sk->inode, a->holder_scan, app);
}

void
attr_set_holder_scan(struct attr *a, bool on)
{
	a->holder_scan = on;
}

void
attr_set_connbpf(struct attr *a, struct connbpf *cb)
{
	a->cb = cb;
}

/*
 * The process that called connect() on the socket of cookie, as the
 * connect program recorded it (connbpf.h): 0 with *app filled (uid and
 * user of the socket, and the process), -1 when there is no record and
 * the caller looks in /proc instead.  A record names a process only
 * while the process of its pid is there and started before the connect
 * (not a later one given the same pid).  When it is gone the connection
 * is an unknown process's: the holders of the socket are not asked, for
 * a process may connect, pass its socket to an allowed program and exit.
 * The caller's uid may differ from the socket's (a setuid program, a
 * socket passed to another user before connecting): the caller is still
 * named, under the socket's uid, which the rules go by.  A process that
 * has exec'd since it connected is no longer the program that connected
 * (a script that connects, writes its request and becomes an allowed
 * program, the socket kept open): an unknown process's too.
 */
static int
attr_connector(struct attr *a, uint64_t cookie, uid_t uid, struct app *app)
{
	struct connbpf_rec rec;

	if (connbpf_lookup(a->cb, cookie, &rec) != 1) {
		a->st.connect_misses++;
		connbpf_note(a->cb, false);
		return -1;
	}
	attr_connector_rec(a, &rec, uid, app, NULL);
	return 0;
}

void
attr_lookup_rec(struct attr *a, const struct connbpf_rec *rec, struct app *app,
                struct attr_ident *id)
{
	memset(app, 0, sizeof(*app));
	a->st.lookups++;
	attr_connector_rec(a, rec, rec->sk_uid, app, id);
}

/*
 * attr_connector() from the record rec; with id, what a cache needs to
 * keep the answer (attr_ident): the process's pidfd, opened before its
 * /proc files are read, so that it is the process they showed; not
 * kept (id->pidfd -1) when the process exec'd while it was read, or its
 * digest is still on its way.
 */
static void
attr_connector_rec(struct attr *a, const struct connbpf_rec *rec, uid_t uid,
                   struct app *app, struct attr_ident *id)
{
	struct attr_proc tmp = {.hint = -1, .pfd = -1, .cmd = -1}, *p = &tmp;
	uint64_t exec_ns = 0, exec_before = 0, start_ns;
	int exec_rc = 0, before_rc = 0;
	char name[16];
	ssize_t at;
	int started = -1;

	if (id != NULL) {
		id->read_ms = mono_ms();
		id->tick_ns = 1000000000ull / (unsigned long long)a->clk_tck;
		id->tgid = rec->tgid;
		before_rc = connbpf_exec_lookup(a->cb, rec->tgid, &exec_before);
		id->pidfd = (int)syscall(SYS_pidfd_open, rec->tgid, 0);
		if (id->pidfd == -1 && errno != ESRCH)
			log_warn("attr: pidfd_open %ld: %s; its answer is not "
			         "kept",
			         (long)rec->tgid, strerror(errno));
	}
	a->st.connect_hits++;
	connbpf_note(a->cb, true);
	app->uid_known = true;
	app->uid = uid;
	attr_user_name(a, uid, app->user, sizeof(app->user));
	/* A remembered process's start was read once: whether it is still
	 * there is told by attr_fill(), whose reads of its kept directory
	 * fail once it has exited (three system calls saved). */
	if ((at = attr_mru_index(a, rec->tgid)) != -1) {
		p = &a->mru[at];
		if (p->start_ns == 0 &&
		    attr_start_ns(p->pfd, p->pid, a->clk_tck, &p->start_ns) ==
		        -1)
			started = -1;
		else
			started = p->start_ns <= rec->boot_ns;
		if (started == 1 && attr_fill(a, p, app) == -1)
			started = -1;
		if (started == -1) {
			/* The remembered process is gone; its pid may be
			 * another's now: looked up anew. */
			attr_mru_drop(a, (size_t)at);
			at = -1;
			p = &tmp;
		}
	}
	if (at == -1) {
		tmp.pid = rec->tgid;
		snprintf(name, sizeof(name), "%ld", (long)rec->tgid);
		if ((tmp.pfd = attr_open_pid(a, name)) == -1)
			goto gone;
		if (attr_start_ns(tmp.pfd, tmp.pid, a->clk_tck,
		                  &tmp.start_ns) == -1)
			started = -1;
		else
			started = tmp.start_ns <= rec->boot_ns;
		if (started == 1 && attr_fill(a, p, app) == -1)
			started = -1;
	}
	if (started != 1) {
		if (p == &tmp)
			attr_proc_close(&tmp);
		else
			attr_mru_drop(a, (size_t)at);
		goto gone;
	}
	start_ns = p->start_ns;
	attr_mru_front(a, p);
	/* Read after the exe: an exec that shows there is recorded by now
	 * (but for the few microseconds connbpf.h owns up to). */
	if ((exec_rc = connbpf_exec_lookup(a->cb, rec->tgid, &exec_ns)) == 1 &&
	    exec_ns > rec->boot_ns) {
		log_info("attr: socket cookie %llu: pid %ld exec'd %s after it "
		         "connected: an unknown process of uid %u",
		         (unsigned long long)rec->cookie, (long)rec->tgid,
		         app->exe, (unsigned)uid);
		goto unknown;
	}
	if (id == NULL)
		return;
	if (exec_rc == -1 || exec_rc != before_rc ||
	    (exec_rc == 1 && exec_ns != exec_before) || app->digest_pending)
		goto uncached;
	id->start_ns = start_ns;
	id->exec_ns = exec_rc == 1 ? exec_ns : 0;
	return;

gone:
	log_info("attr: socket cookie %llu was connected by pid %ld (uid %u), "
	         "which has exited: an unknown process of uid %u",
	         (unsigned long long)rec->cookie, (long)rec->tgid,
	         (unsigned)rec->uid, (unsigned)uid);
unknown:
	a->st.no_process++;
	app->known = false;
	app->pid = 0;
	app->flags = 0;
	app->has_digest = app->has_file = app->digest_pending = false;
	app->exe[0] = app->cmdline[0] = app->script[0] = '\0';
uncached:
	if (id != NULL && id->pidfd != -1) {
		close(id->pidfd);
		id->pidfd = -1;
	}
}

/*
 * When the process of directory pfd started, into *ns (CLOCK_BOOTTIME,
 * ns): 0, or -1 when its stat cannot be read (it exited).
 * /proc/PID/stat's start time counts clock ticks of tck a second since
 * boot, so *ns is rounded down: a process started in the same tick as a
 * connect counts as started before it.
 */
static int
attr_start_ns(int pfd, pid_t pid, long tck, uint64_t *ns)
{
	char buf[512], *p;
	unsigned long long start;
	ssize_t n;
	int fd, i;

	if ((fd = openat(pfd, "stat", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "PID (COMM) S f4 ... f22": COMM may hold ')' and spaces. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1) {
		log_warn("attr: /proc/%ld/stat: no start time", (long)pid);
		return -1;
	}
	*ns = start * (1000000000ull / (unsigned long long)tck);
	return 0;
}

void
attr_set_hashq(struct attr *a, struct hashq *hq)
{
	a->hq = hq;
}

/* A socket's owner uid and inode found: its user, and the process that
 * holds it (and, with holders, the other programs that hold it too). */
static void
attr_owner(struct attr *a, uid_t uid, unsigned long inode, bool holders,
           struct app *app)
{
	app->uid_known = true;
	app->uid = uid;
	attr_user_name(a, uid, app->user, sizeof(app->user));
	/* An orphaned socket (its process closed it) has no inode. */
	if (inode == 0 || attr_find(a, inode, uid, holders, app) == -1)
		a->st.no_process++;
}

/* Whether a socket's local end ep serves client: the same port, and the
 * same address or a wildcard one (an unbound socket sends from any). */
static int
attr_udp_match(const struct attr_ep *ep, const struct attr_ep *client)
{
	static const uint8_t any6[16], any4[16] = {[10] = 0xff, [11] = 0xff};

	if (ep->port != client->port)
		return 0;
	if (memcmp(ep->ip, client->ip, 16) == 0)
		return 2;
	return memcmp(ep->ip, any6, 16) == 0 || memcmp(ep->ip, any4, 16) == 0;
}

/*
 * The UDP socket that sent from client: a dump of the family's UDP
 * sockets whose local port is client's (the kernel filters by port), the
 * one bound to client's address preferred over a wildcard one.  A UDP
 * socket may be connected to the address the datagram was sent to before
 * the redirect changed it, so no exact 4-tuple can be asked.  0 with uid
 * and inode, or -1 with errno (ENOENT: none).
 */
static int
attr_diag_udp(struct attr *a, const struct sockaddr *client, uid_t *uid,
              unsigned long *inode)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
		struct nlattr bc_hdr;
		struct inet_diag_bc_op bc[2];
	} msg;
	struct attr_ep want, got;
	struct inet_diag_msg *m;
	struct nlmsghdr *nlh;
	int best = 0, i, score;
	ssize_t n;

	if (attr_ep_from_sa(client, &want) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = client->sa_family;
	msg.req.sdiag_protocol = IPPROTO_UDP;
	msg.req.idiag_states = ~0U;
	msg.bc_hdr.nla_len = sizeof(msg.bc_hdr) + sizeof(msg.bc);
	msg.bc_hdr.nla_type = INET_DIAG_REQ_BYTECODE;
	/* "source port is P": yes jumps to the end (accept), no past it. */
	msg.bc[0].code = INET_DIAG_BC_S_EQ;
	msg.bc[0].yes = sizeof(msg.bc);
	msg.bc[0].no = sizeof(msg.bc) + 4;
	msg.bc[1].no = ntohs(want.port);
	a->st.lookups++;
	if (attr_nl_send(a, &msg.nlh) == -1) {
		a->st.errors++;
		return -1;
	}
	for (i = 0; i < ATTR_NL_DUMP_READS; i++) {
		n = nlreq_recv(&a->nl, msg.nlh.nlmsg_seq, a->buf,
		               sizeof(a->buf));
		if (n == -1) {
			log_error("attr: sock_diag UDP dump: %s",
			          strerror(errno));
			a->st.errors++;
			return -1;
		}
		for (nlh = (struct nlmsghdr *)a->buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != msg.nlh.nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				goto done;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				log_error("attr: sock_diag UDP dump refused");
				a->st.errors++;
				errno = EPROTO;
				return -1;
			}
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			m = NLMSG_DATA(nlh);
			attr_ep_from_diag(m->idiag_family, m->id.idiag_src,
			                  m->id.idiag_sport, &got);
			score = attr_udp_match(&got, &want);
			if (score > best) {
				best = score;
				*uid = m->idiag_uid;
				*inode = m->idiag_inode;
			}
		}
	}
	log_warn("attr: sock_diag UDP dump did not end within %d reads",
	         ATTR_NL_DUMP_READS);
done:
	if (best == 0) {
		a->st.no_socket++;
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
attr_lookup_udp(struct attr *a, const struct sockaddr *client, struct app *app)
{
	unsigned long inode;
	uid_t uid;

	memset(app, 0, sizeof(*app));
	if (attr_diag_udp(a, client, &uid, &inode) == -1)
		return -1;
	attr_owner(a, uid, inode, false, app);
	return 0;
}

int
attr_lookup_pid(struct attr *a, pid_t pid, uid_t uid, struct app *app)
{
	struct attr_proc p = {.pid = pid, .hint = -1, .pfd = -1, .cmd = -1};
	char name[16];

	memset(app, 0, sizeof(*app));
	a->st.lookups++;
	app->uid_known = true;
	app->uid = uid;
	attr_user_name(a, uid, app->user, sizeof(app->user));
	snprintf(name, sizeof(name), "%ld", (long)pid);
	if (pid <= 0 || (p.pfd = attr_open_pid(a, name)) == -1) {
		a->st.no_process++;
		return 0;
	}
	if (attr_fill(a, &p, app) == -1)
		a->st.no_process++;
	attr_proc_close(&p);
	return 0;
}

const char *
attr_describe(const struct app *app, char *buf, size_t len)
{
	char who[96], digits[16];
	bool named;
	size_t off;

	if (len == 0)
		return buf;
	snprintf(digits, sizeof(digits), "%u", (unsigned)app->uid);
	named = app->uid_known && app->user[0] != '\0' &&
	        strcmp(app->user, digits) != 0;

	if (app->known) {
		if (!app->uid_known)
			who[0] = '\0';
		else if (named)
			snprintf(who, sizeof(who), ", uid %s %s", digits,
			         app->user);
		else
			snprintf(who, sizeof(who), ", uid %s", digits);
		off = attr_copy_printable(buf, len, app->exe);
		snprintf(buf + off, len - off, " (pid %ld%s)", (long)app->pid,
		         who);
	} else if (named)
		snprintf(buf, len, "unknown process of uid %s (%s)", digits,
		         app->user);
	else if (app->uid_known)
		snprintf(buf, len, "unknown process of uid %s", digits);
	else
		snprintf(buf, len, "unknown process");
	return buf;
}

/*
 * sock_diag
 */

static int
attr_nl_send(struct attr *a, struct nlmsghdr *msg)
{
	if (nlreq_send(&a->nl, msg) == -1) {
		log_error("attr: sending sock_diag request: %s",
		          strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The kernel's first message answering request seq, in a->buf (nlreq.h:
 * late answers to earlier requests are skipped).  NULL with errno
 * (logged) when none comes within the bounds.
 */
static struct nlmsghdr *
attr_nl_recv(struct attr *a, uint32_t seq)
{
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	if ((n = nlreq_recv(&a->nl, seq, a->buf, sizeof(a->buf))) == -1) {
		if (errno == ETIMEDOUT)
			log_warn("attr: sock_diag: no answer within %d ms",
			         ATTR_TIMEOUT_MS);
		else
			log_error("attr: receiving sock_diag answer to "
			          "request %u: %s",
			          seq, strerror(errno));
		return NULL;
	}
	len = (int)n;
	for (nlh = (struct nlmsghdr *)a->buf; NLMSG_OK(nlh, len);
	     nlh = NLMSG_NEXT(nlh, len))
		if (nlh->nlmsg_seq == seq)
			return nlh;
	errno = EPROTO; /* nlreq_recv() said it holds one */
	return NULL;
}

/*
 * Check once that the kernel answers TCP queries: without tcp_diag every
 * exact query would say ENOENT, which would look like "no such socket".
 * An empty dump (no states) costs nothing and tells the two apart.
 */
static int
attr_probe(struct attr *a)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = 0;

	if (attr_nl_send(a, &msg.nlh) == -1)
		return -1;
	if ((nlh = attr_nl_recv(a, msg.nlh.nlmsg_seq)) == NULL)
		return -1;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
		    e->error == 0) {
			errno = EPROTO;
			log_error("attr: sock_diag probe: malformed error");
			return -1;
		}
		errno = -e->error;
		log_error("attr: sock_diag does not answer TCP queries (is "
		          "the tcp_diag module available?): %s",
		          strerror(errno));
		return -1;
	}
	if (nlh->nlmsg_type != NLMSG_DONE) {
		errno = EPROTO;
		log_error("attr: sock_diag probe: unexpected answer type %u",
		          nlh->nlmsg_type);
		return -1;
	}
	return 0;
}

/*
 * Ask for the socket whose local end is client and remote end is dst.
 * 0 with its uid and inode, or -1 with errno: ENOENT when there is none
 * (counted), anything else when the query failed (counted, logged).
 */
static int
attr_diag(struct attr *a, const struct sockaddr *client,
          const struct sockaddr *dst, uid_t *uid, unsigned long *inode,
          uint64_t *cookie)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct inet_diag_sockid *id = &msg.req.id;
	const struct sockaddr_in6 *c6, *d6;
	const struct sockaddr_in *c4, *d4;
	struct attr_ep want_src, want_dst, got_src, got_dst;
	char cs[ADDR_STRLEN], ds[ADDR_STRLEN];
	struct inet_diag_msg *m;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	if (client->sa_family != dst->sa_family ||
	    attr_ep_from_sa(client, &want_src) == -1 ||
	    attr_ep_from_sa(dst, &want_dst) == -1) {
		log_error("attr: lookup of an unsupported address pair "
		          "(families %d, %d)",
		          client->sa_family, dst->sa_family);
		a->st.errors++;
		errno = EAFNOSUPPORT;
		return -1;
	}

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.req.sdiag_family = client->sa_family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;
	id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (client->sa_family == AF_INET) {
		c4 = (const struct sockaddr_in *)client;
		d4 = (const struct sockaddr_in *)dst;
		id->idiag_sport = c4->sin_port;
		id->idiag_dport = d4->sin_port;
		memcpy(id->idiag_src, &c4->sin_addr, sizeof(c4->sin_addr));
		memcpy(id->idiag_dst, &d4->sin_addr, sizeof(d4->sin_addr));
	} else {
		c6 = (const struct sockaddr_in6 *)client;
		d6 = (const struct sockaddr_in6 *)dst;
		id->idiag_sport = c6->sin6_port;
		id->idiag_dport = d6->sin6_port;
		memcpy(id->idiag_src, &c6->sin6_addr, sizeof(c6->sin6_addr));
		memcpy(id->idiag_dst, &d6->sin6_addr, sizeof(d6->sin6_addr));
		/*
		 * A socket connected to a link-local address is bound to
		 * that interface and only matches a query naming it.
		 */
		id->idiag_if = d6->sin6_scope_id != 0 ? d6->sin6_scope_id
		                                      : c6->sin6_scope_id;
	}

	if (attr_nl_send(a, &msg.nlh) == -1 ||
	    (nlh = attr_nl_recv(a, msg.nlh.nlmsg_seq)) == NULL) {
		a->st.errors++;
		return -1;
	}

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
		    e->error == -ENOENT) {
			a->st.no_socket++;
			errno = ENOENT;
			return -1;
		}
		errno =
		    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0
		        ? -e->error
		        : EPROTO;
		log_error("attr: sock_diag lookup of %s -> %s: %s",
		          addr_fmt(client, cs, sizeof(cs)),
		          addr_fmt(dst, ds, sizeof(ds)), strerror(errno));
		a->st.errors++;
		return -1;
	}
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		log_error("attr: sock_diag lookup of %s -> %s: unexpected "
		          "answer type %u length %u",
		          addr_fmt(client, cs, sizeof(cs)),
		          addr_fmt(dst, ds, sizeof(ds)), nlh->nlmsg_type,
		          nlh->nlmsg_len);
		a->st.errors++;
		errno = EPROTO;
		return -1;
	}
	m = NLMSG_DATA(nlh);

	/*
	 * When no connection matches, the kernel falls back to a listener
	 * on the local end; only the exact 4-tuple is an answer.
	 */
	attr_ep_from_diag(m->idiag_family, m->id.idiag_src, m->id.idiag_sport,
	                  &got_src);
	attr_ep_from_diag(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport,
	                  &got_dst);
	if (memcmp(&got_src, &want_src, sizeof(got_src)) != 0 ||
	    memcmp(&got_dst, &want_dst, sizeof(got_dst)) != 0) {
		a->st.no_socket++;
		errno = ENOENT;
		return -1;
	}
	/*
	 * A TIME_WAIT socket (also an orphan that reached FIN_WAIT2) is a
	 * mini socket that has forgotten its owner: the kernel says uid 0,
	 * which would be a guess.  Only full sockets carry attributes, and
	 * always INET_DIAG_SHUTDOWN.
	 */
	if (m->idiag_state == ATTR_TCP_TIME_WAIT || !attr_diag_has_owner(nlh)) {
		a->st.no_socket++;
		errno = ENOENT;
		return -1;
	}
	*uid = m->idiag_uid;
	*inode = m->idiag_inode;
	*cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	return 0;
}

static int
attr_ep_from_sa(const struct sockaddr *sa, struct attr_ep *ep)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		ep->ip[10] = ep->ip[11] = 0xff;
		memcpy(&ep->ip[12], &sin->sin_addr, 4);
		ep->port = sin->sin_port;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(ep->ip, &sin6->sin6_addr, 16);
		ep->port = sin6->sin6_port;
		return 0;
	}
	return -1;
}

static void
attr_ep_from_diag(uint8_t family, const __be32 *addr, __be16 port,
                  struct attr_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (family == AF_INET) {
		ep->ip[10] = ep->ip[11] = 0xff;
		memcpy(&ep->ip[12], addr, 4);
	} else
		memcpy(ep->ip, addr, 16);
	ep->port = port;
}

static int
attr_diag_has_owner(const struct nlmsghdr *nlh)
{
	const struct rtattr *rta;
	int len;

	len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg));
	rta =
	    (const struct rtattr *)((const char *)NLMSG_DATA(nlh) +
	                            NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == INET_DIAG_SHUTDOWN)
			return 1;
	}
	return 0;
}

/*
 * /proc
 */

/*
 * Find the process holding socket inode and fill app from it.  The MRU
 * pids first, then the processes owned by uid (the owner of /proc/PID is
 * the process's euid, or root when it is not dumpable), then the rest.
 * Of the MRU pids, only the ATTR_FD_SHALLOW highest descriptors of each
 * are read at first, then the others: a burst from many processes with
 * many descriptors each would otherwise read every descriptor of the
 * processes ahead in the list for each connection.  The order only
 * decides how soon the socket is found, never which process is named:
 * that is always one holding the very socket.
 * 0 when found and read, -1 when not (app->known stays false).
 */
static int
attr_find(struct attr *a, unsigned long inode, uid_t uid, bool holders,
          struct app *app)
{
	char want[ATTR_LINK_MAX];
	struct attr_scan scan;
	int r;

	if (attr_find_first(a, inode, uid, app) == -1)
		return -1;
	if (!holders)
		return 0;
	r = snprintf(want, sizeof(want), "socket:[%lu]", inode);
	memset(&scan, 0, sizeof(scan));
	scan.want = want;
	scan.wantlen = (size_t)r;
	scan.hint = -1;
	scan.below = INT_MAX;
	attr_holders(a, &scan, uid, app);
	return 0;
}

/*
 * The other processes holding scan->want, besides app->pid (see attr.h
 * for which are read and what it costs): those that run another program
 * are added to app->others.
 */
static void
attr_holders(struct attr *a, struct attr_scan *scan, uid_t uid, struct app *app)
{
	char exe[PATH_MAX], mine[PATH_MAX];
	struct attr_proc tmp;
	struct dirent *de;
	struct stat st;
	uint64_t scanned = a->st.procs_scanned, links = a->st.links_read;
	unsigned flags;
	size_t i;
	bool whole;
	pid_t pid;

	rewinddir(a->proc);
	for (;;) {
		errno = 0;
		if ((de = readdir(a->proc)) == NULL)
			break;
		if ((pid = attr_parse_pid(de->d_name)) == -1 || pid == app->pid)
			continue;
		if (fstatat(dirfd(a->proc), de->d_name, &st, 0) == -1)
			continue; /* exited */
		if (st.st_uid != uid)
			continue;
		/* Whole: no start time of another process's. */
		tmp = (struct attr_proc){
		    .pid = pid, .hint = -1, .pfd = -1, .cmd = -1};
		if (attr_scan_pid(a, &tmp, scan, 0, &whole) == 1 &&
		    attr_read_exe(tmp.pfd, pid, exe, sizeof(exe)) == 0) {
			flags = attr_identity(a, tmp.pfd, pid, exe, NULL);
			attr_holder_add(app, pid, exe, flags);
		}
		attr_proc_close(&tmp);
	}
	/* Counted apart: the other counters tell how the first was found. */
	a->st.holder_scans += a->st.procs_scanned - scanned;
	a->st.holder_links += a->st.links_read - links;
	a->st.procs_scanned = scanned;
	a->st.links_read = links;
	if (errno != 0)
		log_error("attr: readdir /proc looking for more holders of "
		          "%s: %s",
		          scan->want, strerror(errno));
	if (app->n_others > 0)
		attr_copy_printable(mine, sizeof(mine), app->exe);
	for (i = 0; i < app->n_others; i++) {
		attr_copy_printable(exe, sizeof(exe), app->others[i].exe);
		log_info("attr: %s of pid %ld (%s) is held by pid %ld (%s) too",
		         scan->want, (long)app->pid, mine,
		         (long)app->others[i].pid, exe[0] != '\0' ? exe : "?");
	}
	if (app->flags & APP_F_HOLDERS_MORE)
		log_info("attr: %s of pid %ld is held by more than %d programs",
		         scan->want, (long)app->pid, ATTR_HOLDERS_MAX);
}

/* Another holder: kept in app->others unless it runs app's program or
 * one kept already. */
static void
attr_holder_add(struct app *app, pid_t pid, const char *exe, unsigned flags)
{
	const unsigned id = APP_F_NOT_INSTALLED | APP_F_PRELOAD | APP_F_USERNS;
	struct app_holder *h;
	const char *kept;
	size_t i;

	flags &= id;
	if (strcmp(exe, app->exe) == 0 && flags == (app->flags & id))
		return;
	kept = strlen(exe) < sizeof(h->exe) ? exe : "";
	for (i = 0; i < app->n_others; i++)
		if (strcmp(app->others[i].exe, kept) == 0 &&
		    app->others[i].flags == flags)
			return;
	app->flags |= APP_F_SHARED;
	if (app->n_others == ATTR_HOLDERS_MAX - 1) {
		app->flags |= APP_F_HOLDERS_MORE;
		return;
	}
	h = &app->others[app->n_others++];
	h->pid = pid;
	h->flags = flags;
	memcpy(h->exe, kept, strlen(kept) + 1);
}

/*
 * What the process of directory pfd is beyond its exe path: APP_F_* of
 * attr.h but SHARED.  With app, its digest too.
 */
static unsigned
attr_identity(struct attr *a, int pfd, pid_t pid, const char *exe,
              struct app *app)
{
	struct stat run, inst, ns;
	unsigned flags = 0;
	bool ran;

	/* The file the process runs, through its own mount namespace. */
	ran = fstatat(pfd, "exe", &run, 0) == 0;
	if (!ran || stat(exe, &inst) == -1 || inst.st_dev != run.st_dev ||
	    inst.st_ino != run.st_ino)
		flags |= APP_F_NOT_INSTALLED;
	if (a->has_userns && fstatat(pfd, "ns/user", &ns, 0) == 0 &&
	    (ns.st_dev != a->userns_dev || ns.st_ino != a->userns_ino))
		flags |= APP_F_USERNS;
	if (attr_preload(pfd, pid))
		flags |= APP_F_PRELOAD;
	if (app == NULL || !ran || !S_ISREG(run.st_mode))
		return flags;
	attr_digest(a, pfd, pid, &run, app);
	return flags;
}

/*
 * app's digest, of the file run describes: from the cache; else, with a
 * hash queue, the file is queued and app has none yet; else hashed here.
 */
static void
attr_digest(struct attr *a, int pfd, pid_t pid, const struct stat *run,
            struct app *app)
{
	char what[64];
	bool hashed;
	int fd;

	digest_key_of(run, &app->file);
	app->has_file = true;
	if (a->hq != NULL
	        ? hashq_cached(a->hq, &app->file, app->digest) == 0
	        : digest_cache_get(a->dc, &app->file, app->digest) == 0) {
		app->has_digest = true;
		return;
	}
	snprintf(what, sizeof(what), "/proc/%ld/exe", (long)pid);
	if ((fd = openat(pfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("attr: open %s: %s", what, strerror(errno));
		return;
	}
	if (a->hq != NULL && run->st_size <= HASHQ_INLINE_MAX) {
		app->has_digest =
		    hashq_now(a->hq, fd, run, what, app->digest) == 0;
		if (app->has_digest)
			a->st.digests++;
		close(fd);
		return;
	}
	if (a->hq != NULL) {
		/* fd is the queue's now, whatever it answers. */
		app->digest_pending = hashq_submit(a->hq, fd, run, what) == 0;
		return;
	}
	app->has_digest =
	    digest_file(a->dc, fd, what, app->digest, &hashed) == 0;
	if (hashed)
		a->st.digests++;
	close(fd);
}

/* Whether the environment of the process of directory pfd preloads
 * (attrenv.h); false when it cannot be read. */
static bool
attr_preload(int pfd, pid_t pid)
{
	uint8_t buf[4096];
	struct attrenv e;
	size_t total = 0, want;
	ssize_t n;
	int fd;

	if ((fd = openat(pfd, "environ", O_RDONLY | O_CLOEXEC)) == -1) {
		log_debug("attr: open /proc/%ld/environ: %s", (long)pid,
		          strerror(errno));
		return false;
	}
	attrenv_init(&e);
	while (!attrenv_found(&e)) {
		/* One byte past the bound tells an environment too long. */
		want = total < ATTRENV_READ_MAX ? ATTRENV_READ_MAX - total : 1;
		if (want > sizeof(buf))
			want = sizeof(buf);
		n = read(fd, buf, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			log_debug("attr: read /proc/%ld/environ: %s", (long)pid,
			          strerror(errno));
		if (n <= 0)
			break;
		if (total >= ATTRENV_READ_MAX) {
			log_info("attr: pid %ld: environment longer than %d "
			         "bytes, taken as preloading",
			         (long)pid, ATTRENV_READ_MAX);
			close(fd);
			return true;
		}
		attrenv_feed(&e, buf, (size_t)n);
		total += (size_t)n;
	}
	close(fd);
	return attrenv_found(&e);
}

/* The process holding the socket, found fastest first (see above). */
static int
attr_find_first(struct attr *a, unsigned long inode, uid_t uid, struct app *app)
{
	char want[ATTR_LINK_MAX];
	pid_t deep[ATTR_MRU_SIZE];
	int floor[ATTR_MRU_SIZE]; /* deep[i]'s descriptors from it up were read
	                           */
	struct attr_scan scan;
	struct attr_proc *p, tmp;
	struct dirent *de;
	struct stat st;
	size_t i, n_deep = 0;
	ssize_t at;
	bool whole;
	pid_t pid;
	int pass, r;

	r = snprintf(want, sizeof(want), "socket:[%lu]", inode);
	scan.want = want;
	scan.wantlen = (size_t)r;
	scan.denied = 0;
	scan.hint = -1;
	scan.below = INT_MAX;
	scan.pid = 0;
	if (attr_seen_find(a, inode, &scan, app) == 0)
		return 0;

	for (i = 0; i < a->n_mru;) {
		p = &a->mru[i];
		scan.hint = p->hint;
		r = attr_scan_pid(a, p, &scan, ATTR_FD_SHALLOW, &whole);
		scan.hint = -1;
		if (r == -1) {
			attr_mru_drop(a, i); /* exited */
			continue;
		}
		if (r == 1) {
			a->st.mru_hits++;
			return attr_proc_found(a, p, scan.found, app);
		}
		if (!whole) {
			floor[n_deep] = scan.below;
			deep[n_deep++] = p->pid;
		}
		scan.below = INT_MAX;
		i++;
	}
	for (i = 0; i < n_deep; i++) {
		if ((at = attr_mru_index(a, deep[i])) == -1)
			continue;
		p = &a->mru[at];
		scan.below = floor[i];
		r = attr_scan_pid(a, p, &scan, 0, &whole);
		scan.below = INT_MAX;
		if (r == 1) {
			a->st.mru_hits++;
			return attr_proc_found(a, p, scan.found, app);
		}
	}

	for (pass = 0; pass < 2; pass++) {
		rewinddir(a->proc);
		for (;;) {
			errno = 0;
			if ((de = readdir(a->proc)) == NULL)
				break;
			if ((pid = attr_parse_pid(de->d_name)) == -1 ||
			    attr_mru_index(a, pid) != -1)
				continue;
			if (fstatat(dirfd(a->proc), de->d_name, &st, 0) == -1)
				continue; /* exited */
			if ((st.st_uid == uid) != (pass == 0))
				continue;
			/* Whole: no start time of another process's. */
			tmp = (struct attr_proc){
			    .pid = pid, .hint = -1, .pfd = -1, .cmd = -1};
			r = attr_scan_pid(a, &tmp, &scan, 0, &whole);
			if (r == 1) {
				if (pass == 0)
					a->st.uid_hits++;
				else
					a->st.other_hits++;
				return attr_proc_found(a, &tmp, scan.found,
				                       app);
			}
			attr_proc_close(&tmp);
		}
		if (errno != 0) {
			log_error("attr: readdir /proc: %s", strerror(errno));
			return -1;
		}
	}

	if (scan.denied > 0)
		log_warn("attr: socket %lu of uid %u: the descriptors of %u "
		         "processes were unreadable (CAP_DAC_READ_SEARCH and "
		         "CAP_SYS_PTRACE are needed)",
		         inode, (unsigned)uid, scan.denied);
	else
		log_debug("attr: socket %lu of uid %u: held by no visible "
		          "process",
		          inode, (unsigned)uid);
	return -1;
}

/*
 * p holds the socket, at descriptor fd: read its exe and command line
 * into *app and put it first in the MRU (which takes p's directories;
 * p may be an MRU entry itself).  0, or -1 when it vanished meanwhile.
 */
static int
attr_proc_found(struct attr *a, struct attr_proc *p, int fd, struct app *app)
{
	int r;

	r = attr_fill(a, p, app);
	p->hint = fd;
	attr_mru_front(a, p);
	return r;
}

/*
 * Open what p lacks of its directories (a kept descriptor list is left
 * where it stands: its reader rewinds it).  0, or -1 with errno: ENOENT or
 * ESRCH when the process exited, EACCES or EPERM when its descriptors may
 * not be read.
 */
static int
attr_proc_open(struct attr *a, struct attr_proc *p)
{
	char name[16];
	int fdfd, saved;

	if (p->fds != NULL)
		return 0;
	if (p->pfd == -1) {
		snprintf(name, sizeof(name), "%ld", (long)p->pid);
		if ((p->pfd = attr_open_pid(a, name)) == -1)
			return -1;
	}
	if ((fdfd = openat(p->pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((p->fds = fdopendir(fdfd)) == NULL) {
		saved = errno;
		close(fdfd);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
attr_proc_close(struct attr_proc *p)
{
	if (p->fds != NULL)
		closedir(p->fds);
	if (p->pfd != -1)
		close(p->pfd);
	if (p->cmd != -1)
		close(p->cmd);
	p->fds = NULL;
	p->pfd = p->cmd = -1;
}

static int
attr_open_pid(struct attr *a, const char *name)
{
	return openat(dirfd(a->proc), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * Whether process p holds scan->want: 1 yes, 0 no (also when its
 * descriptors may not be read, counted), -1 when it exited.  p's
 * directories are opened if they are not yet, and stay open.
 *
 * A new socket is almost always the process's highest descriptor, or a
 * low one just freed, most often the one its previous socket had: that
 * one (scan->hint, from the MRU) is read first, before listing the
 * descriptors, which costs more than a link with many of them; then the
 * listed descriptors' links are read from the highest down.  When depth > 0
 * only the depth highest are read and *whole tells whether that was all of
 * them; if not, scan->below may be lowered so that a later call reads
 * only the others. a->fds keeps the last ATTR_FD_BATCH numbers listed (the
 * highest: the kernel lists them in ascending order, though nothing here relies
 * on it); the other descriptors of a process that has more are read in a
 * second, listing-order pass.
 */
static int
attr_scan_pid(struct attr *a, struct attr_proc *p, struct attr_scan *scan,
              size_t depth, bool *whole)
{
	struct dirent *de;
	size_t total = 0, n, lo, i;
	pid_t pid = p->pid;
	bool kept = p->fds != NULL;
	DIR *d;
	int fdfd, fd, r = 0;

	*whole = true;
	if (attr_proc_open(a, p) == -1) {
		if (errno == ENOENT || errno == ESRCH)
			return -1;
		if (errno == EACCES || errno == EPERM)
			scan->denied++;
		else
			log_warn("attr: open /proc/%ld/fd: %s", (long)pid,
			         strerror(errno));
		return 0;
	}
	d = p->fds;
	if (kept)
		rewinddir(d);
	fdfd = dirfd(d);
	a->st.procs_scanned++;
	scan->pid = pid;
	if (scan->hint >= 0 &&
	    (r = attr_check_fd(a, fdfd, scan->hint, scan)) != 0)
		goto done;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if ((fd = attr_parse_uint(de->d_name)) == -1 ||
		    fd >= scan->below)
			continue;
		a->fds[total % ATTR_FD_BATCH] = fd;
		total++;
	}
	if (errno == ENOENT || errno == ESRCH)
		return -1; /* exited */
	if (errno != 0)
		log_warn("attr: readdir /proc/%ld/fd: %s", (long)pid,
		         strerror(errno));

	n = total < ATTR_FD_BATCH ? total : ATTR_FD_BATCH;
	for (i = 1; i < n && a->fds[i - 1] < a->fds[i]; i++)
		;
	if (i < n)
		qsort(a->fds, n, sizeof(a->fds[0]), attr_int_cmp);
	lo = depth > 0 && n > depth ? n - depth : 0;
	for (i = n; i > lo && r == 0; i--)
		r = attr_check_fd(a, fdfd, a->fds[i - 1], scan);
	if (r != 0)
		goto done;
	if (lo > 0 || total > ATTR_FD_BATCH)
		*whole = false;
	/* With all of them listed, those not read are those below. */
	if (lo > 0 && total <= ATTR_FD_BATCH)
		scan->below = a->fds[lo];
	if (lo > 0 || total <= ATTR_FD_BATCH)
		goto done;

	rewinddir(d);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if ((fd = attr_parse_uint(de->d_name)) == -1 ||
		    fd >= scan->below ||
		    bsearch(&fd, a->fds, n, sizeof(a->fds[0]), attr_int_cmp) !=
		        NULL)
			continue;
		if ((r = attr_check_fd(a, fdfd, fd, scan)) != 0)
			break;
	}
	if (de == NULL && errno != 0 && errno != ENOENT && errno != ESRCH)
		log_warn("attr: readdir /proc/%ld/fd: %s", (long)pid,
		         strerror(errno));
	*whole = true;

done:
	return r == 1;
}

/*
 * Whether descriptor fd of the fd directory fdfd is scan->want: 1 yes,
 * 0 no (also when it was closed meanwhile), -1 when the links of this
 * process may not be read (counted).
 */
static size_t
attr_seen_slot(unsigned long inode)
{
	return (inode * 0x9e3779b97f4a7c15ull >> 32) & (ATTR_SEEN_SIZE - 1);
}

/* Remember where a socket link (link[0..n)) was seen. */
static void
attr_seen_note(struct attr *a, const char *link, size_t n, pid_t pid, int fd)
{
	struct attr_seen *e;
	unsigned long inode = 0;
	size_t i;

	if (n < 10 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']')
		return;
	for (i = 8; i < n - 1; i++) {
		if (link[i] < '0' || link[i] > '9')
			return;
		inode = inode * 10 + (link[i] - '0');
	}
	e = &a->seen[attr_seen_slot(inode)];
	e->inode = inode;
	e->pid = pid;
	e->fd = fd;
}

/*
 * The process a scan saw holding the socket, if one did and it still
 * does: 0 with *app filled, -1 otherwise (the slot is then cleared).
 */
static int
attr_seen_find(struct attr *a, unsigned long inode, struct attr_scan *scan,
               struct app *app)
{
	struct attr_seen *e = &a->seen[attr_seen_slot(inode)];
	struct attr_proc tmp, *p;
	ssize_t at;
	int r;

	if (e->inode != inode)
		return -1;
	e->inode = 0;
	if ((at = attr_mru_index(a, e->pid)) != -1) {
		p = &a->mru[at];
	} else {
		/* Whole: no start time of another process's. */
		tmp = (struct attr_proc){
		    .pid = e->pid, .hint = -1, .pfd = -1, .cmd = -1};
		p = &tmp;
	}
	/* The directory listing is not read: the link alone tells. */
	r = attr_proc_open(a, p) == -1
	        ? 0
	        : attr_check_fd(a, dirfd(p->fds), e->fd, scan);
	if (r == 1) {
		a->st.seen_hits++;
		return attr_proc_found(a, p, e->fd, app);
	}
	if (p == &tmp)
		attr_proc_close(&tmp);
	return -1;
}

static int
attr_check_fd(struct attr *a, int fdfd, int fd, struct attr_scan *scan)
{
	char name[16], link[ATTR_LINK_MAX];
	ssize_t n;

	snprintf(name, sizeof(name), "%d", fd);
	a->st.links_read++;
	/* A truncated link is longer than any wanted one. */
	if ((n = readlinkat(fdfd, name, link, sizeof(link))) == -1) {
		if (errno == EACCES || errno == EPERM) {
			scan->denied++;
			return -1;
		}
		return 0;
	}
	if ((size_t)n != scan->wantlen ||
	    memcmp(link, scan->want, scan->wantlen) != 0) {
		attr_seen_note(a, link, (size_t)n, scan->pid, fd);
		return 0;
	}
	scan->found = fd;
	return 1;
}

static int
attr_int_cmp(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

/*
 * Read exe and cmdline of the process of directory pfd; 0 or -1.
 *
 * A process in the middle of execve(2) shows its new exe before its new
 * command line exists: for a moment /proc/PID/cmdline reads empty, or the
 * exe read before it still names the old program.  A pair is taken only
 * when exe reads the same before and after cmdline and cmdline is not
 * empty; else it is read again, at most ATTR_EXEC_TRIES times,
 * ATTR_EXEC_WAIT_US apart.  A process whose command line really is empty
 * (argv[0] NULL) costs those few tries and is taken as it is.
 */
static int
attr_fill(struct attr *a, struct attr_proc *p, struct app *app)
{
	int pfd = p->pfd;
	pid_t pid = p->pid;
	char again[sizeof(app->exe)];
	int try;

	for (try = 1;; try++) {
		if (attr_read_exe(pfd, pid, app->exe, sizeof(app->exe)) == -1 ||
		    attr_read_cmdline(p, app->exe, app->cmdline,
		                      sizeof(app->cmdline), app->script,
		                      sizeof(app->script)) == -1 ||
		    attr_read_exe(pfd, pid, again, sizeof(again)) == -1)
			goto fail;
		if (strcmp(app->exe, again) == 0 && app->cmdline[0] != '\0')
			break;
		if (try == ATTR_EXEC_TRIES) {
			log_debug("attr: pid %ld: no settled exe and command "
			          "line after %d reads; taking what it shows",
			          (long)pid, try);
			snprintf(app->exe, sizeof(app->exe), "%s", again);
			break;
		}
		usleep(ATTR_EXEC_WAIT_US);
	}
	app->pid = pid;
	app->known = true;
	app->flags = attr_identity(a, pfd, pid, app->exe, app);
	return 0;

fail:
	app->exe[0] = '\0';
	app->cmdline[0] = '\0';
	app->script[0] = '\0';
	return -1;
}

/* The target of /proc/PID/exe into buf; 0 or -1 (exited, or too long). */
static int
attr_read_exe(int pfd, pid_t pid, char *buf, size_t len)
{
	ssize_t n;

	n = readlinkat(pfd, "exe", buf, len);
	if (n == -1) {
		if (errno == ENOENT || errno == ESRCH)
			log_debug("attr: pid %ld exited during lookup",
			          (long)pid);
		else
			log_warn("attr: readlink /proc/%ld/exe: %s", (long)pid,
			         strerror(errno));
		return -1;
	}
	if ((size_t)n >= len) {
		log_warn("attr: readlink /proc/%ld/exe: path too long",
		         (long)pid);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The command line of p into buf, and when exe is an interpreter the
 * script it runs into script (else "").  Its descriptor is kept: a read at
 * offset 0 shows the process's command line as it is at that moment, so
 * after an execve too.  One read gets all of it up to len - 1 bytes: the
 * kernel fills the buffer unless the command line ends first.
 */
static int
attr_read_cmdline(struct attr_proc *p, const char *exe, char *buf, size_t len,
                  char *script, size_t slen)
{
	size_t off, i;
	ssize_t n;

	if (p->cmd == -1 &&
	    (p->cmd = openat(p->pfd, "cmdline", O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT && errno != ESRCH)
			log_warn("attr: open /proc/%ld/cmdline: %s",
			         (long)p->pid, strerror(errno));
		return -1;
	}
	if ((n = pread(p->cmd, buf, len - 1, 0)) == -1) {
		if (errno != ESRCH)
			log_warn("attr: read /proc/%ld/cmdline: %s",
			         (long)p->pid, strerror(errno));
		return -1;
	}
	off = (size_t)n;

	while (off > 0 && buf[off - 1] == '\0')
		off--;
	buf[off] = '\0';
	script[0] = '\0';
	if (interp_known(exe))
		attr_script(p, exe, buf, off, script, slen);
	for (i = 0; i < off; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
		else if ((unsigned char)buf[i] < 0x20 ||
		         (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	}
	buf[off] = '\0';
	return 0;
}

/*
 * The script of interpreter exe from its argv (n bytes of buf, words
 * NUL-separated, buf[n] a NUL) into script: interp_script() against the
 * process's cwd (which the kernel gives), cleaned as text.  No file is
 * looked at: a path the program names may be on a file system that never
 * answers (FUSE), and this thread serves every user.  A script run
 * through a link is named as the link.  "" when there is none.
 */
static void
attr_script(struct attr_proc *p, const char *exe, const char *buf, size_t n,
            char *script, size_t slen)
{
	const char *argv[INTERP_ARGV_MAX];
	char cwd[PATH_MAX];
	ssize_t k;
	size_t argc;

	argc = interp_split(buf, n, argv, INTERP_ARGV_MAX);
	k = readlinkat(p->pfd, "cwd", cwd, sizeof(cwd));
	if (k == -1 && errno != ENOENT && errno != ESRCH)
		log_debug("attr: readlink /proc/%ld/cwd: %s", (long)p->pid,
		          strerror(errno));
	if (k < 0 || (size_t)k >= sizeof(cwd))
		k = 0; /* unknown: only an absolute script is named */
	cwd[k] = '\0';
	if (interp_script(exe, argv, argc, k > 0 ? cwd : NULL, script, slen) !=
	    1)
		script[0] = '\0';
}

/*
 * The name of uid into user.  getpwuid_r reads the whole of /etc/passwd
 * (or asks NSS) each time, which cost more than the rest of a lookup
 * from the MRU: answers are kept in a->users, the oldest replaced when
 * full, and asked again after USERNAMES_TTL_MS so that a renamed or new
 * user is seen within that time.  A failed lookup is not kept.
 */
void
attr_user_name(struct attr *a, uid_t uid, char *user, size_t len)
{
	int64_t now = mono_ms();

	if (usernames_get(a->users, ATTR_USERS_SIZE, uid, now, user, len))
		return;
	a->st.users_read++;
	if (attr_user_read(uid, user, len) == -1) {
		usernames_drop(a->users, ATTR_USERS_SIZE, uid);
		return;
	}
	usernames_put(a->users, ATTR_USERS_SIZE, uid, user, now);
}

/*
 * The name of uid from the password database into user, or the uid as
 * digits when it has none (0) or the lookup failed (-1, logged).
 */
static int
attr_user_read(uid_t uid, char *user, size_t len)
{
	char buf[ATTR_PWBUF_SIZE];
	struct passwd pw, *res = NULL;
	int e;

	e = getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	if (e == 0 && res != NULL && res->pw_name[0] != '\0' &&
	    strlen(res->pw_name) < len) {
		memcpy(user, res->pw_name, strlen(res->pw_name) + 1);
		return 0;
	}
	snprintf(user, len, "%u", (unsigned)uid);
	/* The "no such user" codes getpwuid_r(3) lists are not errors. */
	if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM) {
		log_warn("attr: getpwuid_r %u: %s", (unsigned)uid, strerror(e));
		return -1;
	}
	return 0;
}

/* The number a /proc entry names (0 to INT_MAX), -1 for the others. */
static int
attr_parse_uint(const char *s)
{
	long long v = 0;
	int i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

/* The pid a /proc entry names, -1 for the other entries. */
static pid_t
attr_parse_pid(const char *s)
{
	int v;

	if ((v = attr_parse_uint(s)) <= 0)
		return -1;
	return (pid_t)v;
}

/* Where pid is in the MRU, or -1. */
static ssize_t
attr_mru_index(const struct attr *a, pid_t pid)
{
	size_t i;

	for (i = 0; i < a->n_mru; i++) {
		if (a->mru[i].pid == pid)
			return (ssize_t)i;
	}
	return -1;
}

/* Forget entry i, closing its directories. */
static void
attr_mru_drop(struct attr *a, size_t i)
{
	attr_proc_close(&a->mru[i]);
	memmove(&a->mru[i], &a->mru[i + 1],
	        (a->n_mru - i - 1) * sizeof(a->mru[0]));
	a->n_mru--;
}

/*
 * Put p first, dropping the least recent entry when full.  p is an entry
 * of the MRU or a process found elsewhere, whose directories the MRU
 * takes over.
 */
static void
attr_mru_front(struct attr *a, struct attr_proc *p)
{
	struct attr_proc moved = *p;
	ssize_t at = attr_mru_index(a, p->pid);
	size_t i;

	if (at != -1) {
		i = (size_t)at;
		if (&a->mru[i] != p) /* a stale entry of the same pid */
			attr_proc_close(&a->mru[i]);
	} else if (a->n_mru < ATTR_MRU_SIZE) {
		i = a->n_mru++;
	} else {
		i = ATTR_MRU_SIZE - 1;
		attr_proc_close(&a->mru[i]);
	}
	memmove(&a->mru[1], &a->mru[0], i * sizeof(a->mru[0]));
	a->mru[0] = moved;
}

/* Copy s into buf showing control bytes as '?'; returns the length. */
static size_t
attr_copy_printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf[i] = '?';
		else
			buf[i] = s[i];
	}
	buf[i] = '\0';
	return i;
}

bool
attr_app_alive(const struct app *app)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	if (app == NULL || !app->known)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)app->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "PID (COMM) S ...": COMM may hold ')', the state follows the
	 * last one. */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X' &&
	       p[2] != 'x';
}

/*
 * The one place that says whether a rule for its exe may match a process
 * of these flags: NULL when it may (the installed file, as it is, and
 * nothing cfg distrusts), else why not, as attr_app_label() shows it.
 */
static const char *
attr_distrust(unsigned flags, const struct config *cfg)
{
	if (flags & APP_F_NOT_INSTALLED)
		return "not the installed file";
	if (cfg->distrust_userns && (flags & APP_F_USERNS))
		return "in a user namespace";
	if (cfg->distrust_preload && (flags & APP_F_PRELOAD))
		return "with LD_PRELOAD";
	if ((flags & (APP_F_CHANGED | APP_F_UNHASHED)) ==
	    (APP_F_CHANGED | APP_F_UNHASHED))
		return "file not verified";
	if (flags & APP_F_CHANGED)
		return "changed since the rule was made";
	return NULL;
}

const char *
attr_rule_exe(const char *exe, unsigned flags, const struct config *cfg)
{
	if (exe == NULL || exe[0] == '\0' || attr_distrust(flags, cfg) != NULL)
		return NULL;
	return exe;
}

const char *
attr_app_label(const struct app *app, const struct config *cfg, char *buf,
               size_t len)
{
	const char *why = attr_distrust(app->flags, cfg);

	if (why != NULL)
		snprintf(buf, len, "%s (%s)", app->exe, why);
	else
		snprintf(buf, len, "%s", app->exe);
	return buf;
}
