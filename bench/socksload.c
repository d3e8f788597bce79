/*
 * socksload.c - tgb-socksload, the SOCKS benchmark's connection-rate
 * client: THREADS threads, each making one short connection after the
 * other for SECONDS seconds, each connection
 *
 *   connect to --socks ADDR:PORT (or, without --socks, straight to
 *     --to ADDR:PORT, for a transparent proxy to redirect),
 *   with --socks: the SOCKS5 greeting (method 0, no authentication), its
 *     reply, then CONNECT to --name NAME (ATYP 3) port --port, its reply,
 *     each written and read in its own step, as a real client does,
 *   send "GET / HTTP/1.0" with Host: NAME, read the answer until the
 *     server closes,
 *
 * and counts it complete when an HTTP status line came back.  Prints one
 * line, "complete N failed N seconds S rate R" (R = complete / S).
 *
 * Only libc and pthreads: built by bench/socks into build/bench/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct load {
	struct sockaddr_in socks; /* valid when use_socks */
	int use_socks;
	struct sockaddr_in to; /* without --socks */
	const char *name;
	uint16_t port;
	double seconds;
};

struct worker {
	pthread_t thread;
	const struct load *load;
	unsigned long complete;
	unsigned long failed;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Write all of buf (writing) or read exactly len bytes into it: 0, or -1
 * on an error, a timeout or EOF.
 */
static int
xfer(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	return xfer(fd, (void *)buf, len, 1);
}

static int
read_exact(int fd, void *buf, size_t len)
{
	return xfer(fd, buf, len, 0);
}

/* The SOCKS5 greeting and CONNECT on fd: 0 when granted, else -1. */
static int
socks5(int fd, const char *name, uint16_t port)
{
	uint8_t buf[300], rep[4];
	size_t nlen = strlen(name), skip;

	if (write_all(fd, "\x05\x01\x00", 3) < 0 ||
	    read_exact(fd, buf, 2) < 0 || buf[0] != 5 || buf[1] != 0)
		return -1;
	buf[0] = 5;
	buf[1] = 1;
	buf[2] = 0;
	buf[3] = 3;
	buf[4] = (uint8_t)nlen;
	memcpy(buf + 5, name, nlen);
	buf[5 + nlen] = (uint8_t)(port >> 8);
	buf[6 + nlen] = (uint8_t)port;
	if (write_all(fd, buf, 7 + nlen) < 0 || read_exact(fd, rep, 4) < 0 ||
	    rep[0] != 5 || rep[1] != 0)
		return -1;
	switch (rep[3]) {
	case 1:
		skip = 4 + 2;
		break;
	case 4:
		skip = 16 + 2;
		break;
	case 3:
		if (read_exact(fd, buf, 1) < 0)
			return -1;
		skip = (size_t)buf[0] + 2;
		break;
	default:
		return -1;
	}
	return read_exact(fd, buf, skip);
}

/* One connection: 0 when an HTTP answer came back, else -1. */
static int
one(const struct load *l)
{
	char req[400], buf[4096], head[7];
	const struct sockaddr_in *dst = l->use_socks ? &l->socks : &l->to;
	struct timeval tv = {10, 0};
	size_t got = 0, take;
	ssize_t n;
	int fd, one_ = 1, rc = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof(one_));
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		goto out;
	if (l->use_socks && socks5(fd, l->name, l->port) < 0)
		goto out;
	snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n",
	         l->name);
	if (write_all(fd, req, strlen(req)) < 0)
		goto out;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		take = (size_t)n < sizeof(head) - got ? (size_t)n
		                                      : sizeof(head) - got;
		memcpy(head + got, buf, take);
		got += take;
	}
	if (got == sizeof(head) && memcmp(head, "HTTP/1.", 7) == 0)
		rc = 0;
out:
	close(fd);
	return rc;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	double end = now() + w->load->seconds;

	while (now() < end) {
		if (one(w->load) == 0)
			w->complete++;
		else
			w->failed++;
	}
	return NULL;
}

static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t len;

	if (colon == NULL || (len = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: tgb-socksload [--socks ADDR:PORT | --to ADDR:PORT] "
	        "--name NAME [--port PORT] [-c THREADS] [-t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socks", required_argument, NULL, 's'},
	    {"to", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct load l = {.port = 80, .seconds = 4};
	struct worker *w;
	unsigned long complete = 0, failed = 0;
	int c, threads = 16, i, have_to = 0;
	double t0, secs;

	while ((c = getopt_long(argc, argv, "c:t:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_addr(optarg, &l.socks) < 0)
				usage();
			l.use_socks = 1;
			break;
		case 'o':
			if (parse_addr(optarg, &l.to) < 0)
				usage();
			have_to = 1;
			break;
		case 'n':
			l.name = optarg;
			break;
		case 'p':
			l.port = (uint16_t)atoi(optarg);
			break;
		case 'c':
			threads = atoi(optarg);
			break;
		case 't':
			l.seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (l.name == NULL || strlen(l.name) > 255 || threads < 1 ||
	    l.use_socks == have_to)
		usage();
	w = calloc((size_t)threads, sizeof(*w));
	if (w == NULL) {
		perror("tgb-socksload: calloc");
		return 1;
	}
	t0 = now();
	for (i = 0; i < threads; i++) {
		w[i].load = &l;
		if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0) {
			fprintf(stderr,
			        "tgb-socksload: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		complete += w[i].complete;
		failed += w[i].failed;
	}
	secs = now() - t0;
	printf("complete %lu failed %lu seconds %.3f rate %.1f\n", complete,
	       failed, secs, complete / secs);
	free(w);
	return 0;
}
