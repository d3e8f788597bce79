/*
 * test_connbpf.c - who called connect(): the connect program loaded for
 * real, and attribution that names the caller of connect() rather than
 * the holder of the socket.
 *
 * Loading needs root (CAP_BPF, CAP_NET_ADMIN); without it those tests
 * skip with a message.  test_exec_after checks the exec record: a
 * process that execs after it connected is not named as its new program.
 * test_bench prints the cost of a lookup with and
 * without the records; it asserts nothing about time.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/connbpf.h"

#define BENCH_ROUNDS 200

/* A loopback listener and a client socket connected to it. */
struct pair {
	int lfd, cfd, afd;
	struct sockaddr_in laddr, caddr;
};

static void
pair_listen(struct pair *p)
{
	socklen_t sl = sizeof(p->laddr);

	memset(p, 0, sizeof(*p));
	p->cfd = p->afd = -1;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->lfd >= 0);
	p->laddr.sin_family = AF_INET;
	p->laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&p->laddr, sl), 0);
	assert_int_equal(listen(p->lfd, 16), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&p->laddr, &sl),
	                 0);
}

/* Connect a new client socket of this process. */
static int
pair_connect(struct pair *p)
{
	socklen_t sl = sizeof(p->caddr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(
	    connect(fd, (struct sockaddr *)&p->laddr, sizeof(p->laddr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&p->caddr, &sl), 0);
	return fd;
}

static void
pair_close(struct pair *p)
{
	if (p->afd != -1)
		close(p->afd);
	if (p->cfd != -1)
		close(p->cfd);
	close(p->lfd);
}

static int
lookup(struct attr *a, const struct pair *p, struct app *app)
{
	return attr_lookup(a, (const struct sockaddr *)&p->caddr,
	                   (const struct sockaddr *)&p->laddr, app);
}

static struct connbpf *
open_or_skip(void)
{
	char err[CONNBPF_LOG_SIZE + 256];
	struct connbpf *cb;

	if (geteuid() != 0) {
		print_message("not root: the connect program is not loaded\n");
		return NULL;
	}
	cb = connbpf_open(err, sizeof(err));
	if (cb == NULL)
		print_message("connect program not loaded: %s\n", err);
	return cb;
}

/* Without records every answer is "none", and nothing is counted. */
static void
test_none(void **state)
{
	struct connbpf_stats st;
	struct connbpf_rec rec;

	uint64_t ns;

	assert_int_equal(connbpf_lookup(NULL, 1, &rec), 0);
	assert_int_equal(connbpf_exec_lookup(NULL, getpid(), &ns), 0);
	assert_false(connbpf_exec_tracked(NULL));
	connbpf_note(NULL, true);
	connbpf_stats(NULL, &st);
	assert_int_equal(st.answered, 0);
	assert_int_equal(st.fallback, 0);
}

/*
 * A child connects, passes its socket to us by SCM_RIGHTS and closes its
 * own copy: the /proc path can only name us, the holder; the records
 * name the child, and once it has exited, nobody.  A socket connected
 * before the program was loaded has no record, and falls back to /proc.
 */
static void
test_caller_named(void **state)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct connbpf_stats st;
	struct connbpf *cb;
	struct cmsghdr *cm;
	struct pair p;
	struct app app;
	struct attr *a;
	int sv[2], early, status;
	socklen_t sl = sizeof(p.caddr);
	pid_t child;

	pair_listen(&p);
	early = pair_connect(&p); /* before the program */
	if ((cb = open_or_skip()) == NULL) {
		close(early);
		pair_close(&p);
		skip();
	}
	a = attr_new();
	assert_non_null(a);
	attr_set_connbpf(a, cb);

	assert_int_equal(lookup(a, &p, &app), 0);
	assert_true(app.known);
	assert_int_equal(app.pid, getpid());
	connbpf_stats(cb, &st);
	assert_int_equal(st.fallback, 1);
	close(early);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd = pair_connect(&p);

		close(sv[0]);
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(sv[1], &mh, 0) != 1)
			_exit(1);
		close(fd);
		/* Say it holds the socket no more, and stay until the
		 * parent has looked. */
		if (write(sv[1], &c, 1) != 1)
			_exit(1);
		(void)read(sv[1], &c, 1);
		_exit(0);
	}
	close(sv[1]);
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	assert_int_equal(recvmsg(sv[0], &mh, 0), 1);
	/* Until the child has closed its copy: else the /proc path below
	 * may find it holding the socket still. */
	assert_int_equal(read(sv[0], &c, 1), 1);
	cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	memcpy(&p.cfd, CMSG_DATA(cm), sizeof(int));
	assert_int_equal(getsockname(p.cfd, (struct sockaddr *)&p.caddr, &sl),
	                 0);

	assert_int_equal(lookup(a, &p, &app), 0);
	assert_true(app.known);
	assert_int_equal(app.pid, child);
	assert_false(app.flags & APP_F_SHARED);
	connbpf_stats(cb, &st);
	assert_int_equal(st.answered, 1);

	/* The /proc path names the holder. */
	attr_set_connbpf(a, NULL);
	assert_int_equal(lookup(a, &p, &app), 0);
	assert_int_equal(app.pid, getpid());

	close(sv[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	/* The caller gone, the connection is an unknown process's: not
	 * the holder's. */
	attr_set_connbpf(a, cb);
	assert_int_equal(lookup(a, &p, &app), 0);
	assert_false(app.known);
	assert_true(app.uid_known);
	assert_int_equal(app.uid, getuid());
	connbpf_stats(cb, &st);
	assert_int_equal(st.answered, 2);
	assert_int_equal(st.fallback, 1);

	attr_free(a);
	connbpf_close(cb);
	pair_close(&p);
}

/* Accept the next connection of p's listener: p->caddr is its client. */
static void
pair_accept(struct pair *p)
{
	socklen_t sl = sizeof(p->caddr);

	if (p->afd != -1)
		close(p->afd);
	p->afd = accept(p->lfd, (struct sockaddr *)&p->caddr, &sl);
	assert_true(p->afd >= 0);
}

/* Wait (bounded) until pid runs another program than this one. */
static void
wait_exec(pid_t pid)
{
	char path[64], self[4096], exe[4096];
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	for (i = 0; i < 1000; i++) {
		n = readlink(path, exe, sizeof(exe) - 1);
		assert_true(n > 0);
		exe[n] = '\0';
		if (strcmp(exe, self) != 0)
			return;
		usleep(10000);
	}
	fail_msg("pid %ld did not exec within 10 s", (long)pid);
}

/* Until the exec program has recorded an exec of pid (10 s at most). */
static void
wait_exec_record(struct connbpf *cb, pid_t pid)
{
	uint64_t ns;
	int i;

	for (i = 0; i < 1000; i++) {
		if (connbpf_exec_lookup(cb, pid, &ns) == 1)
			return;
		usleep(10000);
	}
	fail_msg("no exec of pid %ld recorded within 10 s", (long)pid);
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/*
 * The exec record: a child that connects and then execs sleep, the
 * socket kept open, is not named as sleep but as an unknown process;
 * a child that execs python3, which then connects, is python3.
 */
static void
test_exec_after(void **state)
{
	char prog[256];
	struct connbpf *cb;
	struct pair p;
	struct app app;
	struct attr *a;
	uint64_t ns;
	pid_t child;
	int fd;

	if ((cb = open_or_skip()) == NULL)
		skip();
	/* Root has CAP_PERFMON: the exec program must load. */
	assert_true(connbpf_exec_tracked(cb));
	a = attr_new();
	assert_non_null(a);
	attr_set_connbpf(a, cb);
	pair_listen(&p);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		fd = pair_connect(&p);
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(1);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(1);
	}
	pair_accept(&p);
	wait_exec(child);
	/* The exec is recorded a moment after /proc shows it. */
	wait_exec_record(cb, child);
	assert_int_equal(connbpf_exec_lookup(cb, child, &ns), 1);
	assert_true(ns > 0);
	assert_int_equal(lookup(a, &p, &app), 0);
	assert_false(app.known);
	assert_true(app.uid_known);
	reap(child);

	/* Exec'd before it connected: named as what it runs. */
	snprintf(prog, sizeof(prog),
	         "import socket, time; s = socket.create_connection("
	         "('127.0.0.1', %u)); time.sleep(30)",
	         (unsigned)ntohs(p.laddr.sin_port));
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execl("/usr/bin/python3", "python3", "-c", prog, (char *)NULL);
		_exit(1);
	}
	pair_accept(&p);
	assert_int_equal(connbpf_exec_lookup(cb, child, &ns), 1);
	assert_int_equal(lookup(a, &p, &app), 0);
	assert_true(app.known);
	assert_int_equal(app.pid, child);
	assert_non_null(strstr(app.exe, "python3"));
	reap(child);

	attr_free(a);
	connbpf_close(cb);
	pair_close(&p);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * Mean µs of a lookup of a new connection from a new process (as of
 * each curl run), by one struct attr (its MRU and digest cache warm).
 */
static double
bench(struct pair *p, struct connbpf *cb)
{
	socklen_t sl = sizeof(p->caddr);
	struct attr *a;
	struct app app;
	double t, total = 0;
	int i, sv[2];
	pid_t child;
	char c;

	a = attr_new();
	assert_non_null(a);
	attr_set_connbpf(a, cb);
	for (i = 0; i < BENCH_ROUNDS; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			close(sv[0]);
			(void)pair_connect(p);
			if (write(sv[1], "r", 1) != 1)
				_exit(1);
			(void)read(sv[1], &c, 1);
			_exit(0);
		}
		close(sv[1]);
		assert_int_equal(read(sv[0], &c, 1), 1);
		p->afd = accept(p->lfd, (struct sockaddr *)&p->caddr, &sl);
		assert_true(p->afd >= 0);
		t = now_us();
		assert_int_equal(lookup(a, p, &app), 0);
		total += now_us() - t;
		assert_int_equal(app.pid, child);
		close(p->afd);
		p->afd = -1;
		close(sv[0]);
		assert_int_equal(waitpid(child, NULL, 0), child);
	}
	attr_free(a);
	return total / BENCH_ROUNDS;
}

static void
test_bench(void **state)
{
	struct connbpf *cb;
	struct pair p;
	double with, without;

	if ((cb = open_or_skip()) == NULL)
		skip();
	pair_listen(&p);
	without = bench(&p, NULL);
	with = bench(&p, cb);
	print_message("lookup of a new process's connection: %.1f us from "
	              "/proc, %.1f us from the connect records\n",
	              without, with);
	pair_close(&p);
	connbpf_close(cb);
}

/*
 * The SYN record: a connection of ours is found by its accepted socket
 * and the addresses its listener saw (an IPv4-mapped peer too), once
 * (it is taken out), named with its cookie and owner; not through a
 * socket whose saved SYN is another's, nor from a listener that saved
 * none.  attr_lookup_rec() names this process from it, with a pidfd and
 * a start no later than the connect for a cache.
 */
static void
test_syn_take(void **state)
{
	struct sockaddr_in6 peer6;
	struct connbpf_rec rec;
	struct attr_ident id;
	struct connbpf *cb;
	struct pair p, q;
	struct app app;
	struct attr *a;
	socklen_t sl;
	struct sockaddr_in ca;
	uint64_t cookie;
	int fdA, fdB, afdA, afdB;

	(void)state;
	assert_int_equal(connbpf_syn_take(NULL, -1, NULL, NULL, &rec), 0);
	assert_false(connbpf_syn_tracked(NULL));
	if ((cb = open_or_skip()) == NULL)
		skip();
	assert_true(connbpf_syn_tracked(cb));
	pair_listen(&p);
	assert_int_equal(connbpf_save_syn(cb, p.lfd), 0);
	/* Three connections.  A is asked by addresses of no record; B's
	 * accepted socket by A's addresses takes nothing (the saved SYN is
	 * not the record's); C by its own is found. */
	fdA = pair_connect(&p);
	ca = p.caddr;
	fdB = pair_connect(&p);
	afdA = accept(p.lfd, NULL, NULL);
	assert_true(afdA >= 0);
	afdB = accept(p.lfd, NULL, NULL);
	assert_true(afdB >= 0);
	p.laddr.sin_port = htons((uint16_t)(ntohs(p.laddr.sin_port) ^ 1));
	assert_int_equal(connbpf_syn_take(cb, afdA, (struct sockaddr *)&ca,
	                                  (struct sockaddr *)&p.laddr, &rec),
	                 0);
	p.laddr.sin_port = htons((uint16_t)(ntohs(p.laddr.sin_port) ^ 1));
	assert_int_equal(connbpf_syn_take(cb, afdB, (struct sockaddr *)&ca,
	                                  (struct sockaddr *)&p.laddr, &rec),
	                 0);
	close(afdA);
	close(afdB);
	close(fdA);
	close(fdB);
	p.cfd = pair_connect(&p);
	sl = sizeof(cookie);
	assert_int_equal(getsockopt(p.cfd, SOL_SOCKET, SO_COOKIE, &cookie, &sl),
	                 0);
	p.afd = accept(p.lfd, NULL, NULL);
	assert_true(p.afd >= 0);
	/* The peer as a dual-stack listener gives it. */
	memset(&peer6, 0, sizeof(peer6));
	peer6.sin6_family = AF_INET6;
	peer6.sin6_port = p.caddr.sin_port;
	peer6.sin6_addr.s6_addr[10] = peer6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&peer6.sin6_addr.s6_addr[12], &p.caddr.sin_addr, 4);
	assert_int_equal(connbpf_syn_take(cb, p.afd, (struct sockaddr *)&peer6,
	                                  (struct sockaddr *)&p.laddr, &rec),
	                 1);
	assert_int_equal(rec.tgid, getpid());
	assert_int_equal(rec.sk_uid, geteuid());
	assert_true(rec.cookie == cookie);
	/* Taken, and its saved SYN read: nothing a second time. */
	assert_int_equal(connbpf_syn_take(cb, p.afd,
	                                  (struct sockaddr *)&p.caddr,
	                                  (struct sockaddr *)&p.laddr, &rec),
	                 0);

	/* A listener that saves no SYN: nothing, whatever the map holds. */
	pair_listen(&q);
	q.cfd = pair_connect(&q);
	q.afd = accept(q.lfd, NULL, NULL);
	assert_true(q.afd >= 0);
	assert_int_equal(connbpf_syn_take(cb, q.afd,
	                                  (struct sockaddr *)&q.caddr,
	                                  (struct sockaddr *)&q.laddr, &rec),
	                 0);
	pair_close(&q);

	a = attr_new();
	assert_non_null(a);
	attr_set_connbpf(a, cb);
	attr_lookup_rec(a, &rec, &app, &id);
	assert_true(app.known && app.uid_known);
	assert_int_equal(app.pid, getpid());
	assert_int_equal(app.uid, geteuid());
	assert_true(id.pidfd >= 0);
	assert_int_equal(id.tgid, getpid());
	assert_true(id.start_ns > 0 && id.start_ns <= rec.boot_ns);
	close(id.pidfd);
	attr_free(a);
	pair_close(&p);
	connbpf_close(cb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_caller_named),
	    cmocka_unit_test(test_exec_after),
	    cmocka_unit_test(test_syn_take),
	    cmocka_unit_test(test_bench),
	};

	log_init("test_connbpf", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
