/*
 * connload.c - tgb-connload, the connection-rate and latency client of
 * the bare-proxy table: PROCS client processes, each making one short
 * connection after the other for SECONDS seconds to ADDR:PORT (where a
 * transparent proxy's redirect may take it), each connection
 *
 *   --mode http  connect, send a 1 KiB "GET / HTTP/1.0" with Host: NAME,
 *                read the answer until the server closes (tgb-httpd
 *                --http1k answers 1 KiB);
 *   --mode echo  connect, send one byte ("x": no protocol a proxy could
 *                wait for more of), read it back until the server closes
 *                (tgb-httpd --echo closes first, as the HTTP server does,
 *                so no TIME_WAIT socket is left on the client's side).
 *
 * --from ADDR binds each socket to that source address first (the port
 * still chosen by connect(): IP_BIND_ADDRESS_NO_PORT); bench/run gives
 * each load an address of its own.
 *
 * Each connection's time from before connect() until the first byte of
 * the answer (CLOCK_MONOTONIC) is kept; a connection is complete when an
 * answer came back whole.  Prints one line:
 *   complete N failed N seconds S rate R p50_us X p99_us Y p90_us Z
 *   p999_us W max_us M
 * (R = complete / S, over all processes; percentiles, nearest rank, over
 * every complete connection).  Only libc: built by bench/run into build/bench/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_SIZE    1024
#define MAX_SAMPLES 400000 /* per process */
#define MAX_PROCS   64

struct result {
	unsigned long complete, failed;
	uint32_t us[MAX_SAMPLES]; /* connect .. first byte, per connection */
};

static struct sockaddr_in to, from;
static int have_from;
static int echo_mode;
static char req[REQ_SIZE + 1];
static size_t req_len;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection: its microseconds to the first byte, or -1. */
static long
one(void)
{
	struct timeval tv = {10, 0};
	char buf[4096];
	size_t got = 0;
	double t0, t1 = 0;
	ssize_t n;
	int fd, on = 1;
	long rc = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* The port is still chosen by connect(), for this destination. */
	if (have_from && (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
	                             &on, sizeof(on)) < 0 ||
	                  bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0))
		goto out;
	t0 = now();
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    write(fd, req, req_len) != (ssize_t)req_len)
		goto out;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got == 0)
			t1 = now();
		if (got == 0 && !echo_mode &&
		    (n < 7 || memcmp(buf, "HTTP/1.", 7)))
			goto out;
		got += (size_t)n;
	}
	if (got > 0 && (!echo_mode || got == req_len))
		rc = (long)((t1 - t0) * 1e6);
out:
	close(fd);
	return rc;
}

static void
run(struct result *r, double seconds)
{
	double end = now() + seconds;
	long us;

	while (now() < end) {
		us = one();
		if (us < 0) {
			r->failed++;
			continue;
		}
		if (r->complete < MAX_SAMPLES)
			r->us[r->complete] = (uint32_t)us;
		r->complete++;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: tgb-connload --to ADDR:PORT --mode http|echo "
	        "[--from ADDR] [--name NAME] [-c PROCS] [-t SECONDS]\n");
	exit(2);
}

/* The PERMILLE-th permille of the K sorted samples (nearest rank). */
static uint32_t
pct(const uint32_t *sorted, unsigned long k, unsigned long permille)
{
	return k > 0 ? sorted[(k * permille + 999) / 1000 - 1] : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"to", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, 'f'},
	    {"mode", required_argument, NULL, 'm'},
	    {"name", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char *name = "bench.test", *mode = NULL, *colon;
	struct result *res;
	unsigned long complete = 0, failed = 0, k = 0, i, take;
	uint32_t *all;
	char host[64];
	int c, procs = 1, have_to = 0, p;
	double seconds = 3, t0, secs;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "c:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			colon = strrchr(optarg, ':');
			if (colon == NULL ||
			    (size_t)(colon - optarg) >= sizeof(host))
				usage();
			memcpy(host, optarg, (size_t)(colon - optarg));
			host[colon - optarg] = '\0';
			to.sin_family = AF_INET;
			to.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
				usage();
			have_to = 1;
			break;
		case 'f':
			from.sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &from.sin_addr) != 1)
				usage();
			have_from = 1;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'c':
			procs = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!have_to || mode == NULL || procs < 1 || procs > MAX_PROCS ||
	    strlen(name) > 255)
		usage();
	if (strcmp(mode, "echo") == 0) {
		echo_mode = 1;
		req[0] = 'x';
		req_len = 1;
	} else if (strcmp(mode, "http") == 0) {
		/* Padded to 1 KiB with a header the server ignores. */
		req_len =
		    (size_t)snprintf(req, sizeof(req),
		                     "GET / HTTP/1.0\r\nHost: %s\r\n"
		                     "User-Agent: tgb-connload\r\nX-Pad: ",
		                     name);
		memset(req + req_len, 'a', REQ_SIZE - 4 - req_len);
		memcpy(req + REQ_SIZE - 4, "\r\n\r\n", 4);
		req_len = REQ_SIZE;
	} else
		usage();
	res = mmap(NULL, sizeof(*res) * (size_t)procs, PROT_READ | PROT_WRITE,
	           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("tgb-connload: mmap");
		return 1;
	}
	t0 = now();
	for (p = 0; p < procs; p++) {
		pid = fork();
		if (pid == -1) {
			perror("tgb-connload: fork");
			return 1;
		}
		if (pid == 0) {
			run(&res[p], seconds);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	secs = now() - t0;
	for (p = 0; p < procs; p++) {
		complete += res[p].complete;
		failed += res[p].failed;
	}
	all = malloc(sizeof(*all) * (complete > 0 ? complete : 1));
	if (all == NULL) {
		perror("tgb-connload: malloc");
		return 1;
	}
	for (p = 0; p < procs; p++) {
		take = res[p].complete < MAX_SAMPLES ? res[p].complete
		                                     : MAX_SAMPLES;
		for (i = 0; i < take; i++)
			all[k++] = res[p].us[i];
	}
	qsort(all, k, sizeof(*all), cmp_u32);
	printf("complete %lu failed %lu seconds %.3f rate %.1f p50_us %u "
	       "p99_us %u p90_us %u p999_us %u max_us %u\n",
	       complete, failed, secs, complete / secs, pct(all, k, 500),
	       pct(all, k, 990), pct(all, k, 900), pct(all, k, 999),
	       k > 0 ? all[k - 1] : 0);
	return 0;
}
