/*
 * test_attr.c - attribution of real TCP sockets to their processes.
 *
 * Every test makes real connections on the loopback interface: a listener
 * of the test process, a client socket of the test process or of a forked
 * child, and asks attr_lookup() who owns the client's end.  Tests that
 * need a second user run only as root.  test_benchmark prints the cost of
 * a lookup; it asserts nothing about time.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/config.h"
#include "proxyd/attr.h"
#include "proxyd/hashq.h"

#define NOBODY_UID        65534
#define BENCH_MRU_ROUNDS  2000
#define BENCH_SCAN_ROUNDS 50
#define MANY_FDS          1000 /* descriptors of a busy client */
#define BENCH_MANY_ROUNDS 200

/* One connection on the loopback interface. */
struct conn {
	int lfd, cfd, afd;             /* listener, client, accepted */
	struct sockaddr_storage laddr; /* listener's address */
	struct sockaddr_storage caddr; /* client's local address */
};

/* A client socket held by a forked child until child_release(). */
struct child {
	pid_t pid;
	int release; /* closing it lets the child exit */
	struct sockaddr_storage caddr;
};

enum child_uid {
	CHILD_SAME_UID,     /* keeps the test's uid */
	CHILD_NOBODY,       /* becomes nobody, then opens the socket */
	CHILD_NOBODY_AFTER, /* opens the socket, then becomes nobody */
};

static int
listener(int family)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void
local_addr(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                : sizeof(struct sockaddr_in6);
}

/* 127.0.0.1:port as ::ffff:127.0.0.1:port. */
static void
to_mapped(const struct sockaddr_storage *v4, struct sockaddr_storage *v6)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)v4;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)v6;

	memset(v6, 0, sizeof(*v6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin->sin_port;
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
}

/* Client socket of family cfamily connected to to; returns it. */
static int
client_to(int cfamily, const struct sockaddr_storage *to)
{
	int fd;

	fd = socket(cfamily, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, sa_len(to)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
conn_open(struct conn *c, int family)
{
	c->lfd = listener(family);
	local_addr(c->lfd, &c->laddr);
	c->cfd = client_to(family, &c->laddr);
	assert_true(c->cfd >= 0);
	local_addr(c->cfd, &c->caddr);
	c->afd = accept(c->lfd, NULL, NULL);
	assert_true(c->afd >= 0);
}

static void
conn_close(struct conn *c)
{
	close(c->afd);
	close(c->cfd);
	close(c->lfd);
}

static void
become_nobody(void)
{
	if (setgroups(0, NULL) == -1 || setgid(NOBODY_UID) == -1 ||
	    setuid(NOBODY_UID) == -1)
		_exit(2);
	/* Keep /proc/PID owned by nobody rather than root. */
	if (prctl(PR_SET_DUMPABLE, 1) == -1)
		_exit(2);
}

/* Fork a child that connects to to and holds the socket. */
static void
child_start(struct child *ch, const struct sockaddr_storage *to,
            enum child_uid how)
{
	int ready[2], release[2], fd;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	ch->pid = fork();
	assert_true(ch->pid >= 0);
	if (ch->pid == 0) {
		close(ready[0]);
		close(release[1]);
		if (how == CHILD_NOBODY)
			become_nobody();
		if ((fd = client_to(to->ss_family, to)) == -1)
			_exit(3);
		if (how == CHILD_NOBODY_AFTER)
			become_nobody();
		local_addr(fd, &ch->caddr);
		if (write(ready[1], &ch->caddr, sizeof(ch->caddr)) !=
		    (ssize_t)sizeof(ch->caddr))
			_exit(4);
		while (read(release[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	ch->release = release[1];
	assert_int_equal(read(ready[0], &ch->caddr, sizeof(ch->caddr)),
	                 sizeof(ch->caddr));
	close(ready[0]);
}

/* Let the child exit and reap it. */
static void
child_stop(struct child *ch)
{
	int status;

	close(ch->release);
	assert_int_equal(waitpid(ch->pid, &status, 0), ch->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
assert_is_me(const struct app *app)
{
	char self[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_true(app->known);
	assert_true(app->uid_known);
	assert_int_equal(app->pid, getpid());
	assert_string_equal(app->exe, self);
	assert_int_equal(app->uid, getuid());
	assert_non_null(strstr(app->cmdline, program_invocation_short_name));
}

static int
setup(void **state)
{
	struct attr *a;

	a = attr_new();
	assert_non_null(a);
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	attr_free(*state);
	return 0;
}

static void
test_own_v4_connection_names_this_process(void **state)
{
	struct conn c;
	struct app app;

	conn_open(&c, AF_INET);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);
	conn_close(&c);
}

static void
test_own_v6_connection_names_this_process(void **state)
{
	struct conn c;
	struct app app;

	conn_open(&c, AF_INET6);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);
	conn_close(&c);
}

/* A UDP socket of family on loopback, bound (or not) and connected (or
 * not) to a receiver; its local address in *local. */
static int
udp_socket(int family, bool bind_it, bool connect_it,
           struct sockaddr_storage *local, int *receiver)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int fd, rfd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
	}
	rfd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rfd >= 0);
	assert_int_equal(bind(rfd, (struct sockaddr *)&ss, sa_len(&ss)), 0);
	local_addr(rfd, &ss); /* the receiver's port */
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind_it) {
		struct sockaddr_storage b = ss;

		if (family == AF_INET)
			((struct sockaddr_in *)&b)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&b)->sin6_port = 0;
		assert_int_equal(bind(fd, (struct sockaddr *)&b, sa_len(&b)),
		                 0);
	}
	if (connect_it)
		assert_int_equal(
		    connect(fd, (struct sockaddr *)&ss, sa_len(&ss)), 0);
	assert_int_equal(sendto(fd, "q", 1, 0,
	                        connect_it ? NULL : (struct sockaddr *)&ss,
	                        connect_it ? 0 : sa_len(&ss)),
	                 1);
	/* What the receiver sees as its sender. */
	{
		socklen_t len = sizeof(*local);
		char byte;

		assert_int_equal(
		    recvfrom(rfd, &byte, 1, 0, (struct sockaddr *)local, &len),
		    1);
	}
	*receiver = rfd;
	return fd;
}

/* The sender of a datagram is found whether its socket was bound or
 * not, connected (as glibc's resolver's is) or not, v4 or v6. */
static void
test_udp_sender_names_this_process(void **state)
{
	static const struct {
		int family;
		bool bind_it, connect_it;
	} cases[] = {
	    {AF_INET, false, false}, {AF_INET, true, false},
	    {AF_INET, false, true},  {AF_INET6, false, false},
	    {AF_INET6, true, true},
	};
	struct sockaddr_storage from;
	struct app app;
	size_t i;
	int fd, rfd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = udp_socket(cases[i].family, cases[i].bind_it,
		                cases[i].connect_it, &from, &rfd);
		assert_int_equal(
		    attr_lookup_udp(*state, (struct sockaddr *)&from, &app), 0);
		assert_is_me(&app);
		close(fd);
		/* Gone with its socket. */
		assert_int_equal(
		    attr_lookup_udp(*state, (struct sockaddr *)&from, &app),
		    -1);
		assert_int_equal(errno, ENOENT);
		assert_false(app.uid_known);
		close(rfd);
	}
}

/* A v4 client seen by a dual-stack listener as ::ffff:a.b.c.d. */
static void
test_v4_client_asked_as_mapped_v6(void **state)
{
	struct sockaddr_storage mc, ml;
	struct conn c;
	struct app app;

	conn_open(&c, AF_INET);
	to_mapped(&c.caddr, &mc);
	to_mapped(&c.laddr, &ml);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&mc,
	                             (struct sockaddr *)&ml, &app),
	                 0);
	assert_is_me(&app);
	conn_close(&c);
}

/* A dual-stack v6 client socket talking to an IPv4 address. */
static void
test_mapped_v6_client_asked_as_v4(void **state)
{
	struct sockaddr_storage laddr, mapped, caddr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&caddr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&caddr;
	struct app app;
	int lfd, cfd, afd;
	uint16_t port;

	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	to_mapped(&laddr, &mapped);
	cfd = client_to(AF_INET6, &mapped);
	assert_true(cfd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	local_addr(cfd, &caddr);
	assert_int_equal(caddr.ss_family, AF_INET6);
	port = sin6->sin6_port;
	memset(&caddr, 0, sizeof(caddr));
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);
	assert_is_me(&app);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * The parent's own connection first (it enters the MRU cache), then the
 * child's: a second /proc scan by the same state.  After the child is gone
 * its pid leaves the cache and the parent is still found there.
 */
static void
test_forked_child_is_named_not_its_parent(void **state)
{
	struct attr_stats before, after;
	struct child ch;
	struct conn c;
	struct app app;
	int afd;

	conn_open(&c, AF_INET);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);

	child_start(&ch, &c.laddr, CHILD_SAME_UID);
	afd = accept(c.lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&ch.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_true(app.known);
	assert_int_equal(app.pid, ch.pid);
	assert_int_equal(app.uid, getuid());
	assert_non_null(strstr(app.cmdline, program_invocation_short_name));
	attr_stats(*state, &after);
	assert_int_equal(after.uid_hits + after.other_hits, 2);

	child_stop(&ch);
	close(afd);
	attr_stats(*state, &before);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);
	attr_stats(*state, &after);
	/* Found in the recent process, or where a scan saw it already. */
	assert_int_equal(after.mru_hits + after.seen_hits -
	                     (before.mru_hits + before.seen_hits),
	                 1);
	assert_true(after.procs_scanned - before.procs_scanned <= 1);
	conn_close(&c);
}

static void
test_no_such_connection_is_not_found(void **state)
{
	struct sockaddr_in c, d;
	struct app app;

	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.sin_port = htons(1);
	d = c;
	d.sin_port = htons(2);
	errno = 0;
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c,
	                             (struct sockaddr *)&d, &app),
	                 -1);
	assert_int_equal(errno, ENOENT);
	assert_false(app.uid_known);
	assert_false(app.known);
}

/* The kernel offers the listener of the local end; that is no answer. */
static void
test_listener_is_not_taken_for_the_client(void **state)
{
	struct sockaddr_storage laddr, other;
	struct app app;
	int lfd;

	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	memcpy(&other, &laddr, sizeof(other));
	((struct sockaddr_in *)&other)->sin_port = htons(9);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&laddr,
	                             (struct sockaddr *)&other, &app),
	                 -1);
	assert_int_equal(errno, ENOENT);
	assert_false(app.uid_known);
	close(lfd);
}

static void
test_mixed_families_are_refused(void **state)
{
	struct sockaddr_in c;
	struct sockaddr_in6 d;
	struct app app;

	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(1);
	memset(&d, 0, sizeof(d));
	d.sin6_family = AF_INET6;
	d.sin6_port = htons(2);
	log_set_level(LOG_CRIT);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c,
	                             (struct sockaddr *)&d, &app),
	                 -1);
	log_set_level(LOG_WARNING);
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_false(app.uid_known);
}

static void
test_repeat_lookups_hit_the_mru(void **state)
{
	struct attr_stats before, after;
	struct conn c;
	struct app app;
	int i;

	conn_open(&c, AF_INET);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	attr_stats(*state, &before);
	assert_int_equal(before.lookups, 1);
	assert_int_equal(before.mru_hits, 0);
	assert_int_equal(before.uid_hits + before.other_hits, 1);

	for (i = 0; i < 3; i++) {
		assert_int_equal(attr_lookup(*state,
		                             (struct sockaddr *)&c.caddr,
		                             (struct sockaddr *)&c.laddr, &app),
		                 0);
		assert_is_me(&app);
	}
	attr_stats(*state, &after);
	assert_int_equal(after.mru_hits, 3);
	/* One /proc/PID/fd read each: ours, first in the cache. */
	assert_int_equal(after.procs_scanned - before.procs_scanned, 3);
	conn_close(&c);
}

/* The password database is asked once per user, not once per lookup. */
static void
test_user_name_is_read_once(void **state)
{
	struct attr_stats st;
	struct passwd *pw;
	struct conn c;
	struct app app;
	int i;

	conn_open(&c, AF_INET);
	for (i = 0; i < 3; i++) {
		assert_int_equal(attr_lookup(*state,
		                             (struct sockaddr *)&c.caddr,
		                             (struct sockaddr *)&c.laddr, &app),
		                 0);
		pw = getpwuid(getuid());
		assert_string_equal(app.user, pw != NULL ? pw->pw_name : "");
	}
	attr_stats(*state, &st);
	assert_int_equal(st.users_read, 1);
	conn_close(&c);
}

/*
 * A process found once, then replaced by another program (execve keeps
 * its pid and its socket): the next lookup names the new program.
 */
static void
test_process_that_execs_is_named_anew(void **state)
{
	struct sockaddr_storage laddr, caddr;
	char sleep_exe[PATH_MAX], exe[PATH_MAX], path[64];
	struct app app;
	int ready[2], go[2], lfd, afd, fd, status, i;
	ssize_t n;
	pid_t pid;
	char c = 'x';

	assert_non_null(realpath("/bin/sleep", sleep_exe));
	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		/* Kept across execve: no SOCK_CLOEXEC. */
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&laddr, sa_len(&laddr)) ==
		        -1)
			_exit(3);
		local_addr(fd, &caddr);
		if (write(ready[1], &caddr, sizeof(caddr)) !=
		        (ssize_t)sizeof(caddr) ||
		    read(go[0], &c, 1) != 1)
			_exit(4);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(5);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &caddr, sizeof(caddr)), sizeof(caddr));
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);
	assert_int_equal(app.pid, pid);
	assert_string_not_equal(app.exe, sleep_exe);

	assert_int_equal(write(go[1], &c, 1), 1);
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	for (i = 0; i < 500; i++) {
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0 && (size_t)n == strlen(sleep_exe) &&
		    memcmp(exe, sleep_exe, (size_t)n) == 0)
			break;
		usleep(2000);
	}
	assert_int_not_equal(i, 500);

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);
	assert_true(app.known);
	assert_int_equal(app.pid, pid);
	assert_string_equal(app.exe, sleep_exe);
	assert_string_equal(app.cmdline, "sleep 30");

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	close(go[1]);
	close(afd);
	close(lfd);
}

static void
test_process_of_another_user(void **state)
{
	struct sockaddr_storage laddr;
	struct attr_stats st;
	struct passwd *pw;
	struct child ch;
	struct app app;
	int lfd, afd;

	if (geteuid() != 0)
		skip();
	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	child_start(&ch, &laddr, CHILD_NOBODY);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&ch.caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);
	assert_true(app.known);
	assert_int_equal(app.pid, ch.pid);
	assert_int_equal(app.uid, NOBODY_UID);
	pw = getpwuid(NOBODY_UID);
	if (pw != NULL)
		assert_string_equal(app.user, pw->pw_name);
	else
		assert_string_equal(app.user, "65534");
	attr_stats(*state, &st);
	assert_int_equal(st.uid_hits, 1);

	child_stop(&ch);
	close(afd);
	close(lfd);
}

/* Socket of uid 0, process now of nobody: found only in the last pass. */
static void
test_process_that_changed_user_is_found_last(void **state)
{
	struct sockaddr_storage laddr;
	struct attr_stats st;
	struct child ch;
	struct app app;
	int lfd, afd;

	if (geteuid() != 0)
		skip();
	lfd = listener(AF_INET6);
	local_addr(lfd, &laddr);
	child_start(&ch, &laddr, CHILD_NOBODY_AFTER);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&ch.caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);
	assert_true(app.known);
	assert_int_equal(app.pid, ch.pid);
	assert_int_equal(app.uid, 0);
	attr_stats(*state, &st);
	assert_int_equal(st.other_hits, 1);

	child_stop(&ch);
	close(afd);
	close(lfd);
}

/*
 * Once its process is gone the client socket lingers (FIN_WAIT, then
 * TIME_WAIT) and the kernel forgets its owner; it must never be reported
 * as root's.
 */
static void
test_closed_socket_is_never_root(void **state)
{
	struct sockaddr_storage laddr;
	struct child ch;
	struct app app;
	int lfd, afd, i, rc;

	if (geteuid() != 0)
		skip();
	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	child_start(&ch, &laddr, CHILD_NOBODY);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	child_stop(&ch);

	rc = attr_lookup(*state, (struct sockaddr *)&ch.caddr,
	                 (struct sockaddr *)&laddr, &app);
	if (rc == 0) {
		assert_true(app.uid_known);
		assert_int_equal(app.uid, NOBODY_UID);
		assert_false(app.known);
	} else {
		assert_int_equal(errno, ENOENT);
		assert_false(app.uid_known);
	}

	close(afd); /* the client's end goes to TIME_WAIT */
	for (i = 0; i < 100; i++) {
		rc = attr_lookup(*state, (struct sockaddr *)&ch.caddr,
		                 (struct sockaddr *)&laddr, &app);
		if (rc == -1)
			break;
		assert_int_equal(app.uid, NOBODY_UID);
		usleep(10000);
	}
	assert_int_equal(rc, -1);
	assert_false(app.uid_known);
	close(lfd);
}

static void
test_describe(void **state)
{
	struct app app;
	char buf[128], tiny[12];

	(void)state;
	memset(&app, 0, sizeof(app));
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "unknown process");

	app.uid_known = true;
	app.uid = 1000;
	strcpy(app.user, "alice");
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "unknown process of uid 1000 (alice)");
	strcpy(app.user, "1000");
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "unknown process of uid 1000");

	app.known = true;
	app.pid = 123;
	strcpy(app.exe, "/usr/bin/curl");
	strcpy(app.user, "alice");
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "/usr/bin/curl (pid 123, uid 1000 alice)");
	strcpy(app.user, "1000");
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "/usr/bin/curl (pid 123, uid 1000)");
	app.uid_known = false;
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "/usr/bin/curl (pid 123)");

	/* A file name cannot forge a second log line. */
	strcpy(app.exe, "/tmp/a\nb (deleted)");
	assert_string_equal(attr_describe(&app, buf, sizeof(buf)),
	                    "/tmp/a?b (deleted) (pid 123)");

	strcpy(app.exe, "/usr/bin/curl");
	assert_string_equal(attr_describe(&app, tiny, sizeof(tiny)),
	                    "/usr/bin/cu");
	assert_string_equal(attr_describe(&app, tiny, 1), "");
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
count_processes(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			n++;
	}
	closedir(d);
	return n;
}

/* Mean µs of a first lookup (no MRU) by fresh attr states. */
static double
bench_scan(const struct sockaddr_storage *caddr,
           const struct sockaddr_storage *laddr, pid_t want, double *scanned)
{
	struct attr_stats st;
	struct attr *a;
	struct app app;
	double t, total = 0;
	int i;

	*scanned = 0;
	for (i = 0; i < BENCH_SCAN_ROUNDS; i++) {
		a = attr_new();
		assert_non_null(a);
		t = now_us();
		assert_int_equal(attr_lookup(a, (struct sockaddr *)caddr,
		                             (struct sockaddr *)laddr, &app),
		                 0);
		total += now_us() - t;
		assert_int_equal(app.pid, want);
		attr_stats(a, &st);
		*scanned += st.procs_scanned;
		attr_free(a);
	}
	*scanned /= BENCH_SCAN_ROUNDS;
	return total / BENCH_SCAN_ROUNDS;
}

static void
test_benchmark(void **state)
{
	struct sockaddr_storage laddr;
	struct sockaddr_in none;
	struct attr_stats st;
	struct child ch;
	struct conn c;
	struct app app;
	double t, mru, diag, scan, last, scanned, scanned_last;
	int i, lfd, afd;

	conn_open(&c, AF_INET);

	memset(&none, 0, sizeof(none));
	none.sin_family = AF_INET;
	none.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	none.sin_port = htons(1);
	t = now_us();
	for (i = 0; i < BENCH_MRU_ROUNDS; i++)
		assert_int_equal(attr_lookup(*state, (struct sockaddr *)&none,
		                             (struct sockaddr *)&c.laddr, &app),
		                 -1);
	diag = (now_us() - t) / BENCH_MRU_ROUNDS;

	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	t = now_us();
	for (i = 0; i < BENCH_MRU_ROUNDS; i++)
		assert_int_equal(attr_lookup(*state,
		                             (struct sockaddr *)&c.caddr,
		                             (struct sockaddr *)&c.laddr, &app),
		                 0);
	mru = (now_us() - t) / BENCH_MRU_ROUNDS;
	attr_stats(*state, &st);
	assert_int_equal(st.mru_hits, BENCH_MRU_ROUNDS);

	scan = bench_scan(&c.caddr, &c.laddr, getpid(), &scanned);

	printf("attr: %d processes; per lookup: sock_diag alone (no such "
	       "socket) %.1f us, MRU hit %.1f us, /proc scan of the uid's "
	       "processes %.1f us (%.0f fd dirs read)\n",
	       count_processes(), diag, mru, scan, scanned);

	if (geteuid() == 0) {
		lfd = listener(AF_INET);
		local_addr(lfd, &laddr);
		child_start(&ch, &laddr, CHILD_NOBODY_AFTER);
		afd = accept(lfd, NULL, NULL);
		assert_true(afd >= 0);
		last = bench_scan(&ch.caddr, &laddr, ch.pid, &scanned_last);
		printf("attr: full /proc scan, found in the last pass: %.1f "
		       "us (%.0f fd dirs read)\n",
		       last, scanned_last);
		child_stop(&ch);
		close(afd);
		close(lfd);
	}
	conn_close(&c);
}

static int
count_own_fds(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n - 1; /* d's own */
}

/* Open n descriptors of /dev/null into fds, lowest first. */
static void
hold_fds(int *fds, int n)
{
	struct rlimit rl;
	int i;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			skip();
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	for (i = 0; i < n; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
}

static void
release_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
	}
}

/* Mean µs of lookups of c by a, each one after a fresh attr_new(). */
static double
bench_lookup(struct attr *a, const struct conn *c, int rounds)
{
	struct attr *fresh;
	struct app app;
	double t, total = 0;
	int i;

	for (i = 0; i < rounds; i++) {
		fresh = a == NULL ? attr_new() : a;
		assert_non_null(fresh);
		t = now_us();
		assert_int_equal(
		    attr_lookup(fresh, (struct sockaddr *)&c->caddr,
		                (struct sockaddr *)&c->laddr, &app),
		    0);
		total += now_us() - t;
		assert_int_equal(app.pid, getpid());
		if (a == NULL)
			attr_free(fresh);
	}
	return total / rounds;
}

/* Mean µs of lookups of x and y by a, taking turns. */
static double
bench_turns(struct attr *a, const struct conn *x, const struct conn *y,
            int rounds)
{
	double t;
	int i;

	t = now_us();
	for (i = 0; i < rounds; i++)
		bench_lookup(a, i % 2 == 0 ? x : y, 1);
	return (now_us() - t) / rounds;
}

/* A connection whose client socket takes the lowest free descriptor. */
static void
conn_open_low(struct conn *c, int *fds)
{
	c->lfd = listener(AF_INET);
	local_addr(c->lfd, &c->laddr);
	close(fds[0]);
	fds[0] = -1;
	c->cfd = client_to(AF_INET, &c->laddr);
	assert_true(c->cfd >= 0 && c->cfd < fds[1]);
	local_addr(c->cfd, &c->caddr);
	c->afd = accept(c->lfd, NULL, NULL);
	assert_true(c->afd >= 0);
}

/*
 * A client holding MANY_FDS descriptors opens connections: a socket above
 * all of them is found among the first links read, not the last.
 */
static void
test_process_of_many_fds_is_found_quickly(void **state)
{
	static int fds[MANY_FDS];
	struct attr_stats before, after;
	struct conn low, top;
	struct app app;

	hold_fds(fds, MANY_FDS);
	conn_open_low(&low, fds);
	conn_open(&top, AF_INET);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&low.caddr,
	                             (struct sockaddr *)&low.laddr, &app),
	                 0);
	assert_is_me(&app);

	attr_stats(*state, &before);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&top.caddr,
	                             (struct sockaddr *)&top.laddr, &app),
	                 0);
	assert_is_me(&app);
	attr_stats(*state, &after);
	assert_int_equal(after.mru_hits + after.seen_hits -
	                     (before.mru_hits + before.seen_hits),
	                 1);
	/* The last socket's descriptor, then the few above this one. */
	assert_true(after.links_read - before.links_read <= 8);

	/* The low one again: where the last socket of this process was. */
	attr_stats(*state, &before);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&low.caddr,
	                             (struct sockaddr *)&low.laddr, &app),
	                 0);
	assert_is_me(&app);
	attr_stats(*state, &after);
	/* The last socket's descriptor, then each of them at most once. */
	assert_true(after.links_read - before.links_read <=
	            (uint64_t)count_own_fds() + 1);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&low.caddr,
	                             (struct sockaddr *)&low.laddr, &app),
	                 0);
	attr_stats(*state, &before);
	assert_int_equal(before.links_read - after.links_read, 1);

	conn_close(&top);
	conn_close(&low);
	release_fds(fds, MANY_FDS);
}

/*
 * A client holding MANY_FDS descriptors opens connections: one above all
 * of them, one on a low descriptor just freed.
 */
static void
test_benchmark_many_fds(void **state)
{
	static int fds[MANY_FDS];
	struct conn low, top;
	double top_mru, top_scan, low_mru, turns;

	hold_fds(fds, MANY_FDS);
	conn_open_low(&low, fds);
	conn_open(&top, AF_INET);
	top_mru = bench_lookup(*state, &top, BENCH_MANY_ROUNDS);
	top_scan = bench_lookup(NULL, &top, BENCH_SCAN_ROUNDS);
	low_mru = bench_lookup(*state, &low, BENCH_MANY_ROUNDS);
	turns = bench_turns(*state, &top, &low, BENCH_MANY_ROUNDS);
	conn_close(&top);
	conn_close(&low);
	release_fds(fds, MANY_FDS);

	printf("attr: a process of %d descriptors, per lookup: the same "
	       "socket again, on top %.1f us, on a low descriptor %.1f us; "
	       "the two in turns %.1f us; first lookup (fresh state, uid "
	       "pass) %.1f us\n",
	       MANY_FDS, top_mru, low_mru, turns, top_scan);
}

/*
 * The test's own connection: it runs the installed file (its path stats to
 * the file it runs), in tollgated's user namespace, and the digest is
 * that of the file, as sha256sum says.
 */
static void
test_identity_of_this_process(void **state)
{
	char cmd[PATH_MAX + 32], want[DIGEST_HEX_LEN], hex[DIGEST_HEX_LEN];
	struct attr_stats before, after;
	struct conn c;
	struct app app;
	FILE *p;

	conn_open(&c, AF_INET);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);
	assert_false(app.flags & APP_F_NOT_INSTALLED);
	assert_false(app.flags & APP_F_USERNS);
	assert_false(app.flags & APP_F_SHARED);
	assert_int_equal(
	    !!(app.flags & APP_F_PRELOAD),
	    (getenv("LD_PRELOAD") != NULL && *getenv("LD_PRELOAD") != '\0') ||
	        (getenv("LD_LIBRARY_PATH") != NULL &&
	         *getenv("LD_LIBRARY_PATH") != '\0') ||
	        (getenv("LD_AUDIT") != NULL && *getenv("LD_AUDIT") != '\0'));
	assert_true(app.has_digest);
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", app.exe);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", want), 1);
	pclose(p);
	assert_string_equal(digest_hex(app.digest, hex), want);

	/* Hashed once: the next lookup takes it from the cache. */
	attr_stats(*state, &before);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	attr_stats(*state, &after);
	assert_true(app.has_digest);
	assert_string_equal(digest_hex(app.digest, hex), want);
	assert_int_equal(after.digests, before.digests);
	conn_close(&c);
}

/*
 * With a hash queue, attribution does not read the file itself: the
 * first lookup has no digest yet (the file is queued; a user running
 * many big executables cannot hold up the attribution thread), and once
 * the queue's thread has hashed it, the next lookup has it from the
 * shared cache.  No lookup hashed anything.
 */
static void
test_digest_on_the_hash_queue(void **state)
{
	char want[DIGEST_HEX_LEN], hex[DIGEST_HEX_LEN];
	struct event_base *base;
	struct attr_stats st;
	struct stat self;
	bool inline_hash;
	struct hashq *hq;
	struct attr *a;
	struct conn c;
	struct app app;
	uint8_t md[DIGEST_LEN];
	int i;

	(void)state;
	base = event_base_new();
	assert_non_null(base);
	hq = hashq_new(base);
	assert_non_null(hq);
	a = attr_new();
	assert_non_null(a);
	attr_set_hashq(a, hq);
	conn_open(&c, AF_INET);
	assert_int_equal(attr_lookup(a, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_is_me(&app);
	assert_true(app.has_file);
	/* A file of up to HASHQ_INLINE_MAX bytes is hashed at once, a
	 * bigger one on the queue's thread. */
	assert_int_equal(stat("/proc/self/exe", &self), 0);
	inline_hash = self.st_size <= HASHQ_INLINE_MAX;
	if (inline_hash)
		assert_true(app.has_digest);
	else if (!app.has_digest) /* (known only if hashed meanwhile) */
		assert_true(app.digest_pending);
	for (i = 0; i < 5000 && hashq_cached(hq, &app.file, md) == -1; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(hashq_cached(hq, &app.file, md), 0);
	digest_hex(md, want);
	assert_int_equal(attr_lookup(a, (struct sockaddr *)&c.caddr,
	                             (struct sockaddr *)&c.laddr, &app),
	                 0);
	assert_true(app.has_digest);
	assert_string_equal(digest_hex(app.digest, hex), want);
	attr_stats(a, &st);
	assert_int_equal(st.digests, inline_hash ? 1 : 0);
	conn_close(&c);
	attr_free(a);
	hashq_free(hq);
	event_base_free(base);
}

/*
 * A socket made here, inherited by a child that execs another program
 * (sleep) before this process connects with it: the lookup names one
 * holder and lists the other program; a forked child that runs the same
 * program is no other program.
 */
/* The exe of pid once it is no longer this program's: after its exec. */
static void
exe_after_exec(pid_t pid, char *exe, size_t len)
{
	char path[64];
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	exe[0] = '\0';
	for (i = 0; i < 200; i++) {
		n = readlink(path, exe, len - 1);
		if (n > 0) {
			exe[n] = '\0';
			if (strstr(exe, "sleep") != NULL)
				return;
		}
		usleep(10000);
	}
	fail_msg("pid %d did not exec sleep", (int)pid);
}

static void
test_shared_socket_lists_the_other_program(void **state)
{
	char sleep_exe[PATH_MAX];
	struct sockaddr_storage caddr, laddr;
	struct app app;
	pid_t kid, twin;
	int lfd, fd, afd;

	lfd = listener(AF_INET);
	local_addr(lfd, &laddr);
	fd = socket(AF_INET, SOCK_STREAM, 0); /* inheritable */
	assert_true(fd >= 0);
	kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		execl("/bin/sleep", "sleep", "10", (char *)NULL);
		_exit(127);
	}
	twin = fork();
	assert_true(twin >= 0);
	if (twin == 0) {
		pause();
		_exit(0);
	}
	exe_after_exec(kid, sleep_exe, sizeof(sleep_exe));
	assert_int_equal(connect(fd, (struct sockaddr *)&laddr, sa_len(&laddr)),
	                 0);
	local_addr(fd, &caddr);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	/* The scan is off unless shared_socket_check turns it on. */
	attr_set_holder_scan(*state, true);
	assert_int_equal(attr_lookup(*state, (struct sockaddr *)&caddr,
	                             (struct sockaddr *)&laddr, &app),
	                 0);

	assert_true(app.known);
	assert_true(app.flags & APP_F_SHARED);
	assert_false(app.flags & APP_F_HOLDERS_MORE);
	/* The twin runs this program: no other program. */
	assert_int_equal(app.n_others, 1);
	if (app.pid == kid) { /* found first: this program is the other */
		assert_string_equal(app.exe, sleep_exe);
		assert_true(app.others[0].pid == getpid() ||
		            app.others[0].pid == twin);
	} else {
		assert_true(app.pid == getpid() || app.pid == twin);
		assert_string_equal(app.others[0].exe, sleep_exe);
		assert_int_equal(app.others[0].pid, kid);
	}
	kill(kid, SIGKILL);
	kill(twin, SIGKILL);
	waitpid(kid, NULL, 0);
	waitpid(twin, NULL, 0);
	close(afd);
	close(fd);
	close(lfd);
	attr_set_holder_scan(*state, false);
}

static void
test_rule_exe_and_label(void **state)
{
	struct config trust, distrust;
	struct app app;
	char buf[PATH_MAX + 64];

	(void)state;
	config_defaults(&trust);
	config_defaults(&distrust);
	distrust.distrust_preload = distrust.distrust_userns = true;
	memset(&app, 0, sizeof(app));
	snprintf(app.exe, sizeof(app.exe), "/usr/bin/curl");
	assert_string_equal(attr_rule_exe(app.exe, 0, &distrust),
	                    "/usr/bin/curl");
	assert_null(attr_rule_exe(app.exe, APP_F_NOT_INSTALLED, &trust));
	assert_null(attr_rule_exe(app.exe, APP_F_PRELOAD, &distrust));
	assert_string_equal(attr_rule_exe(app.exe, APP_F_PRELOAD, &trust),
	                    "/usr/bin/curl");
	assert_string_equal(attr_rule_exe(app.exe, APP_F_USERNS, &trust),
	                    "/usr/bin/curl");
	/* In a user namespace its own mounts may have put other libraries
	 * under the installed exe. */
	assert_null(attr_rule_exe(app.exe, APP_F_USERNS, &distrust));
	assert_null(attr_rule_exe(app.exe, APP_F_CHANGED, &trust));
	assert_null(attr_rule_exe("", 0, &trust));
	assert_string_equal(attr_app_label(&app, &distrust, buf, sizeof(buf)),
	                    "/usr/bin/curl");
	app.flags = APP_F_USERNS;
	assert_string_equal(attr_app_label(&app, &trust, buf, sizeof(buf)),
	                    "/usr/bin/curl");
	assert_string_equal(attr_app_label(&app, &distrust, buf, sizeof(buf)),
	                    "/usr/bin/curl (in a user namespace)");
	app.flags = APP_F_PRELOAD;
	assert_string_equal(attr_app_label(&app, &trust, buf, sizeof(buf)),
	                    "/usr/bin/curl");
	assert_string_equal(attr_app_label(&app, &distrust, buf, sizeof(buf)),
	                    "/usr/bin/curl (with LD_PRELOAD)");
	app.flags |= APP_F_NOT_INSTALLED;
	assert_string_equal(attr_app_label(&app, &distrust, buf, sizeof(buf)),
	                    "/usr/bin/curl (not the installed file)");
	app.flags = APP_F_CHANGED;
	assert_string_equal(attr_app_label(&app, &trust, buf, sizeof(buf)),
	                    "/usr/bin/curl (changed since the rule was made)");
	/* Its digest not known: a pinned rule cannot have been checked. */
	app.flags |= APP_F_UNHASHED;
	assert_string_equal(attr_app_label(&app, &trust, buf, sizeof(buf)),
	                    "/usr/bin/curl (file not verified)");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_own_v4_connection_names_this_process),
	    T(test_digest_on_the_hash_queue),
	    T(test_own_v6_connection_names_this_process),
	    T(test_v4_client_asked_as_mapped_v6),
	    T(test_mapped_v6_client_asked_as_v4),
	    T(test_forked_child_is_named_not_its_parent),
	    T(test_no_such_connection_is_not_found),
	    T(test_listener_is_not_taken_for_the_client),
	    T(test_mixed_families_are_refused),
	    T(test_udp_sender_names_this_process),
	    T(test_repeat_lookups_hit_the_mru),
	    T(test_user_name_is_read_once),
	    T(test_process_that_execs_is_named_anew),
	    T(test_process_of_another_user),
	    T(test_process_that_changed_user_is_found_last),
	    T(test_closed_socket_is_never_root),
	    T(test_describe),
	    T(test_identity_of_this_process),
	    T(test_shared_socket_lists_the_other_program),
	    T(test_rule_exe_and_label),
	    T(test_process_of_many_fds_is_found_quickly),
	    T(test_benchmark),
	    T(test_benchmark_many_fds),
	};

	log_init("test_attr", LOG_WARNING);
	setvbuf(stdout, NULL, _IONBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
