/*
 * httpd.c - tgb-httpd, the benchmark's server: one epoll loop (or a few
 * forked copies of it) serving three kinds of port.
 *
 *   --http PORT   reads one request up to the blank line, answers a fixed
 *                 small HTTP/1.0 response and closes (what ab without -k
 *                 and latency.py need: one new connection per request).
 *   --https PORT  the same behind TLS (OpenSSL, --cert/--key), so the
 *                 client's ClientHello carries the SNI the proxy peeks.
 *   --hold PORT   accepts, reads and discards, never answers or closes
 *                 first: the idle far end of holdclient.py's connections.
 *   --http1k PORT as --http, with an answer of 1 KiB (tgb-connload).
 *   --echo PORT   writes back the first bytes it reads and closes
 *                 (tgb-connload's 1-byte echo; see serve_echo()).
 *
 * Every listener is [::]:PORT with IPV6_V6ONLY off, so IPv4 and IPv6
 * clients both reach it.  The descriptor limit is raised to the hard
 * limit.  -w N forks N-1 more copies sharing the listening sockets
 * (EPOLLEXCLUSIVE); they die with the parent.  Prints "ready" on
 * stdout once listening.  Stops on SIGTERM/SIGINT.
 *
 * Built by bench/run into build/bench/tgb-httpd; only libc and OpenSSL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum kind { K_HTTP, K_HTTPS, K_HOLD, K_HTTP1K, K_ECHO };

#define MAX_LISTEN 8
#define MAX_EVENTS 256

static const char response[] = "HTTP/1.0 200 OK\r\n"
                               "Server: tgb-httpd\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 6\r\n"
                               "Connection: close\r\n"
                               "\r\n"
                               "hello\n";

/* The --http1k answer: the headers above, then a body up to 1 KiB. */
static char response1k[1024];
static size_t response1k_len;

struct listener {
	int is_listener; /* first member in both structs */
	int fd;
	enum kind kind;
};

struct conn {
	int is_listener;
	int fd;
	enum kind kind;
	SSL *ssl;
	int handshaken;
	int matched; /* bytes of "\r\n\r\n" matched so far */
	size_t sent; /* bytes of response written */
	int want;    /* epoll events asked for */
};

static struct listener listeners[MAX_LISTEN];
static int n_listeners;
static SSL_CTX *ssl_ctx;
static int epfd;
static volatile sig_atomic_t stop;

static void
die(const char *what)
{
	fprintf(stderr, "tgb-httpd: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
on_signal(int sig)
{
	stop = 1;
}

static void
add_listener(int port, enum kind kind)
{
	struct sockaddr_in6 sa;
	int fd, one = 1, zero = 0;

	if (n_listeners == MAX_LISTEN) {
		fprintf(stderr, "tgb-httpd: too many ports\n");
		exit(2);
	}
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	sa.sin6_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("bind");
	if (listen(fd, 4096) == -1)
		die("listen");
	listeners[n_listeners].is_listener = 1;
	listeners[n_listeners].fd = fd;
	listeners[n_listeners].kind = kind;
	n_listeners++;
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd); /* also leaves the epoll set */
	free(c);
}

static int
conn_want(struct conn *c, int events)
{
	struct epoll_event ev;

	if (events == c->want)
		return 0;
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		return -1;
	c->want = events;
	return 0;
}

/* Feed bytes to the end-of-headers matcher; 1 once "\r\n\r\n" was seen. */
static int
headers_done(struct conn *c, const char *buf, ssize_t n)
{
	static const char end[] = "\r\n\r\n";
	ssize_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == end[c->matched])
			c->matched++;
		else
			c->matched = buf[i] == '\r' ? 1 : 0;
		if (c->matched == 4)
			return 1;
	}
	return 0;
}

/* Plain HTTP: read, answer, close.  Returns -1 when c was closed. */
static int
serve_http(struct conn *c)
{
	const char *resp = c->kind == K_HTTP1K ? response1k : response;
	size_t rlen =
	    c->kind == K_HTTP1K ? response1k_len : sizeof(response) - 1;
	char buf[4096];
	ssize_t n;

	while (c->matched < 4) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			if (headers_done(c, buf, n))
				break;
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return conn_want(c, EPOLLIN);
		conn_close(c);
		return -1;
	}
	while (c->sent < rlen) {
		n = write(c->fd, resp + c->sent, rlen - c->sent);
		if (n > 0) {
			c->sent += n;
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return conn_want(c, EPOLLOUT);
		break;
	}
	conn_close(c);
	return -1;
}

/* Map an SSL_ERROR_WANT_* to epoll interest; -1 on a real error. */
static int
ssl_wait(struct conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return conn_want(c, EPOLLIN);
	case SSL_ERROR_WANT_WRITE:
		return conn_want(c, EPOLLOUT);
	default:
		ERR_clear_error();
		return -1;
	}
}

static int
serve_https(struct conn *c)
{
	char buf[4096];
	int rc;

	if (!c->handshaken) {
		rc = SSL_accept(c->ssl);
		if (rc != 1) {
			if (ssl_wait(c, rc) == 0)
				return 0;
			conn_close(c);
			return -1;
		}
		c->handshaken = 1;
	}
	while (c->matched < 4) {
		rc = SSL_read(c->ssl, buf, sizeof(buf));
		if (rc > 0) {
			if (headers_done(c, buf, rc))
				break;
			continue;
		}
		if (ssl_wait(c, rc) == 0)
			return 0;
		conn_close(c);
		return -1;
	}
	if (c->sent == 0) {
		rc = SSL_write(c->ssl, response, sizeof(response) - 1);
		if (rc <= 0) {
			if (ssl_wait(c, rc) == 0)
				return 0;
			conn_close(c);
			return -1;
		}
		c->sent = rc;
	}
	(void)SSL_shutdown(c->ssl); /* send close_notify, don't wait */
	conn_close(c);
	return -1;
}

static int
serve_hold(struct conn *c)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		conn_close(c);
		return -1;
	}
}

/*
 * Echo: write back the first bytes read (small: a blocked write drops
 * them) and close, as the HTTP ports do after their answer.  The server
 * closes first, so the TIME_WAIT sockets stay in the server's namespace:
 * a client that closed first left one per connection in the client's,
 * and a proxy's onward socket a second one there, on the same addresses
 * and ports its next connects choose from, which made the echo rows'
 * rates swing by a factor of ten between runs.
 */
static int
serve_echo(struct conn *c)
{
	char buf[4096];
	ssize_t n;

	n = read(c->fd, buf, sizeof(buf));
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n > 0)
		(void)write(c->fd, buf, (size_t)n);
	conn_close(c);
	return -1;
}

static void
serve(struct conn *c)
{
	switch (c->kind) {
	case K_ECHO:
		(void)serve_echo(c);
		break;
	case K_HTTP:
	case K_HTTP1K:
		(void)serve_http(c);
		break;
	case K_HTTPS:
		(void)serve_https(c);
		break;
	case K_HOLD:
		(void)serve_hold(c);
		break;
	}
}

static void
accept_all(struct listener *l)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				fprintf(stderr, "tgb-httpd: accept: %s\n",
				        strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->kind = l->kind;
		if (l->kind == K_HTTPS) {
			c->ssl = SSL_new(ssl_ctx);
			if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
				conn_close(c);
				continue;
			}
		}
		c->want = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			conn_close(c);
			continue;
		}
		/* The request is usually there already. */
		if (l->kind != K_HOLD)
			serve(c);
	}
}

static void
loop(void)
{
	struct epoll_event evs[MAX_EVENTS], ev;
	int i, n;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1");
	for (i = 0; i < n_listeners; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = &listeners[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, listeners[i].fd, &ev) == -1)
			die("epoll_ctl");
	}
	while (!stop) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, 500);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (*(int *)evs[i].data.ptr)
				accept_all(evs[i].data.ptr);
			else
				serve(evs[i].data.ptr);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: tgb-httpd [--http PORT] [--https PORT "
	                "--cert PEM --key PEM] [--hold PORT] [--http1k PORT] "
	                "[--echo PORT] [-w WORKERS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"http", required_argument, NULL, 'h'},
	    {"https", required_argument, NULL, 's'},
	    {"hold", required_argument, NULL, 'o'},
	    {"http1k", required_argument, NULL, '1'},
	    {"echo", required_argument, NULL, 'e'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"workers", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *key = NULL;
	int opt, workers = 1, want_tls = 0, i;
	struct rlimit rl;
	struct sigaction sa;
	pid_t parent = getpid(), children[65];

	while ((opt = getopt_long(argc, argv, "w:", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			add_listener(atoi(optarg), K_HTTP);
			break;
		case 's':
			add_listener(atoi(optarg), K_HTTPS);
			want_tls = 1;
			break;
		case 'o':
			add_listener(atoi(optarg), K_HOLD);
			break;
		case '1':
			add_listener(atoi(optarg), K_HTTP1K);
			break;
		case 'e':
			add_listener(atoi(optarg), K_ECHO);
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || n_listeners == 0 || workers < 1 || workers > 64 ||
	    (want_tls && (cert == NULL || key == NULL)))
		usage();

	response1k_len = (size_t)snprintf(
	    response1k, sizeof(response1k),
	    "HTTP/1.0 200 OK\r\nServer: tgb-httpd\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %4d\r\n"
	    "Connection: close\r\n\r\n",
	    0);
	i = (int)(sizeof(response1k) - response1k_len);
	snprintf(response1k, sizeof(response1k),
	         "HTTP/1.0 200 OK\r\nServer: tgb-httpd\r\n"
	         "Content-Type: text/plain\r\nContent-Length: %4d\r\n"
	         "Connection: close\r\n\r\n",
	         i);
	memset(response1k + response1k_len, 'a', (size_t)i);
	response1k_len = sizeof(response1k);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (want_tls) {
		ssl_ctx = SSL_CTX_new(TLS_server_method());
		if (ssl_ctx == NULL ||
		    SSL_CTX_use_certificate_chain_file(ssl_ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ssl_ctx, key,
		                                SSL_FILETYPE_PEM) != 1) {
			fprintf(stderr, "tgb-httpd: cannot load %s / %s\n",
			        cert, key);
			ERR_print_errors_fp(stderr);
			return 1;
		}
		/* Every client connection is a full handshake, as ab makes. */
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ssl_ctx, 0);
	}

	for (i = 1; i < workers; i++) {
		pid_t pid = fork();

		if (pid == -1)
			die("fork");
		children[i] = pid;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(0);
			loop();
			_exit(0);
		}
	}
	printf("ready\n");
	fflush(stdout);
	loop();
	for (i = 1; i < workers; i++)
		kill(children[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
