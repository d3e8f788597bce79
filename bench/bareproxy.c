/*
 * bareproxy.c - tgb-bareproxy, the floor of any transparent proxy on this
 * machine: accept a redirected connection, ask conntrack where it was
 * going (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST), make one non-blocking
 * connect there, marked with SO_MARK so that the redirect lets it pass,
 * and copy both ways with read/write.  No attribution, no peek, no rules,
 * no log; one epoll loop, one thread.
 *
 *   tgb-bareproxy -p PORT [-m MARK]
 *
 * Listens on 127.0.0.1:PORT and [::1]:PORT (where nft "redirect to :PORT"
 * sends a local process's connections), MARK defaults to tollgated's.
 * Prints "ready" once listening; stops on SIGTERM/SIGINT.  Needs
 * CAP_NET_ADMIN for SO_MARK.  Built by bench/run into build/bench/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ      16384
#define MAX_EVENTS 256

/* One direction: bytes read from "from" not yet written to the peer. */
struct half {
	char buf[BUFSZ];
	size_t off, len;
	int eof; /* "from" said EOF; the peer got shutdown(SHUT_WR) */
};

struct side {
	int fd;
	struct pair *p;
	unsigned want; /* epoll events asked for */
	int added;     /* in the epoll set */
};

struct pair {
	struct side s[2]; /* 0 the client's socket, 1 the onward one */
	struct half h[2]; /* h[i]: read from s[i], written to s[!i] */
	int connecting;   /* the onward connect is in progress */
	int dead;         /* closed; freed after this batch of events */
	struct pair *next_dead;
};

static int epfd;
static struct pair *dead;          /* closed during this batch of events */
static unsigned mark = 0x746f6c6c; /* tollgated's default socket_mark */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
listen_on(int family, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 4096) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Close both sockets now (which also leaves the epoll set); the memory
 * goes after the batch, whose other events may still name p. */
static void
pair_free(struct pair *p)
{
	close(p->s[0].fd);
	close(p->s[1].fd);
	p->dead = 1;
	p->next_dead = dead;
	dead = p;
}

static int
side_want(struct side *s, unsigned want)
{
	struct epoll_event ev;

	if (want == s->want)
		return 0;
	ev.events = want;
	ev.data.ptr = s;
	if (epoll_ctl(epfd, s->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd,
	              &ev) == -1)
		return -1;
	s->added = 1;
	s->want = want;
	return 0;
}

/*
 * Move what can be moved from s[i] to s[!i]: 1 when the direction is
 * done (EOF passed on), 0 when it waits, -1 on an error.
 */
static int
pump(struct pair *p, int i)
{
	struct half *h = &p->h[i];
	int from = p->s[i].fd, to = p->s[!i].fd;
	ssize_t n;

	for (;;) {
		while (h->len > 0) {
			n = write(to, h->buf + h->off, h->len);
			if (n == -1)
				return errno == EAGAIN ? 0 : -1;
			h->off += (size_t)n;
			h->len -= (size_t)n;
		}
		if (h->eof)
			return 1;
		n = read(from, h->buf, sizeof(h->buf));
		if (n == -1)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0) {
			h->eof = 1;
			shutdown(to, SHUT_WR);
			return 1;
		}
		h->off = 0;
		h->len = (size_t)n;
	}
}

/* Run both directions and ask epoll for what each side waits on. */
static void
pair_run(struct pair *p)
{
	unsigned want[2] = {0, 0};
	int i, rc, done = 0;

	for (i = 0; i < 2; i++) {
		rc = pump(p, i);
		if (rc == -1) {
			pair_free(p);
			return;
		}
		if (rc == 1)
			done++;
		else if (p->h[i].len > 0)
			want[!i] |= EPOLLOUT; /* the reader of h[i] is full */
		else
			want[i] |= EPOLLIN;
	}
	if (done == 2 || side_want(&p->s[0], want[0]) == -1 ||
	    side_want(&p->s[1], want[1]) == -1)
		pair_free(p);
}

/* Where the redirected connection fd was going, by conntrack. */
static int
original_dst(int fd, int family, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	if (family == AF_INET)
		return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ss, len);
	return getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, ss, len);
}

static void
accept_all(int lfd, int family)
{
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct pair *p;
	int fd, up, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR)
				fprintf(stderr, "tgb-bareproxy: accept: %s\n",
				        strerror(errno));
			return;
		}
		if (original_dst(fd, family, &dst, &dlen) == -1) {
			close(fd);
			continue;
		}
		up = socket(dst.ss_family,
		            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (up == -1 ||
		    setsockopt(up, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ==
		        -1 ||
		    (connect(up, (struct sockaddr *)&dst, dlen) == -1 &&
		     errno != EINPROGRESS) ||
		    (p = calloc(1, sizeof(*p))) == NULL) {
			if (up != -1)
				close(up);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p->s[0].fd = fd;
		p->s[1].fd = up;
		p->s[0].p = p->s[1].p = p;
		p->connecting = 1;
		/* The client waits until the onward connect is done. */
		if (side_want(&p->s[1], EPOLLOUT) == -1)
			pair_free(p);
	}
}

static void
side_ready(struct side *s)
{
	struct pair *p = s->p;
	int err = 0;

	if (p->dead)
		return;
	if (p->connecting) {
		if (getsockopt(p->s[1].fd, SOL_SOCKET, SO_ERROR, &err,
		               &(socklen_t){sizeof(err)}) == -1 ||
		    err != 0) {
			pair_free(p);
			return;
		}
		p->connecting = 0;
	}
	pair_run(p);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS], ev;
	static const int family[2] = {AF_INET, AF_INET6};
	int lfd[2];
	struct pair *p;
	struct sigaction sa;
	struct rlimit rl;
	int opt, port = 0, i, n;

	while ((opt = getopt(argc, argv, "p:m:")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'm':
			mark = (unsigned)strtoul(optarg, NULL, 0);
			break;
		default:
			port = 0;
			optind = argc;
		}
	}
	if (port <= 0 || port > 65535 || optind != argc) {
		fprintf(stderr, "usage: tgb-bareproxy -p PORT [-m MARK]\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("tgb-bareproxy: epoll_create1");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		lfd[i] = listen_on(family[i], port);
		if (lfd[i] == -1) {
			fprintf(stderr,
			        "tgb-bareproxy: listening on %s:%d: %s\n",
			        i == 0 ? "127.0.0.1" : "[::1]", port,
			        strerror(errno));
			return 1;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = &lfd[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd[i], &ev) == -1) {
			perror("tgb-bareproxy: epoll_ctl");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, 500);
		if (n == -1 && errno != EINTR) {
			perror("tgb-bareproxy: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lfd[0])
				accept_all(lfd[0], AF_INET);
			else if (evs[i].data.ptr == &lfd[1])
				accept_all(lfd[1], AF_INET6);
			else
				side_ready(evs[i].data.ptr);
		}
		while ((p = dead) != NULL) {
			dead = p->next_dead;
			free(p);
		}
	}
	return 0;
}
