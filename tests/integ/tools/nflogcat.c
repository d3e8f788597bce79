/*
 * nflogcat - print the packets logged to an NFLOG group, one line each,
 * through redirect/nflog.h, for the integration tests:
 *
 *   uid=4343 proto=udp src=192.0.2.1:40000 dst=192.0.2.2:9999 len=33
 *
 * (uid=- when the kernel did not know the socket, proto=N for a protocol
 * other than udp and tcp, ports only when the packet had them).
 *
 *   nflogcat GROUP [COUNT [SECONDS]]
 *
 * Binds GROUP, says "ready" on stderr, and prints until COUNT packets
 * (default 0: no limit) have been printed or SECONDS (default 30) have
 * passed.  Exit 0, 1 on an error (on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/addr.h"
#include "redirect/nflog.h"

struct cat {
	unsigned long printed;
};

static void
print_pkt(void *arg, const struct nflog_pkt *p)
{
	struct cat *c = arg;
	char src[128], dst[128];
	const struct sockaddr *s = (const struct sockaddr *)&p->src;
	const struct sockaddr *d = (const struct sockaddr *)&p->dst;

	if (p->has_uid)
		printf("uid=%u", (unsigned)p->uid);
	else
		printf("uid=-");
	if (p->proto == IPPROTO_UDP)
		printf(" proto=udp");
	else if (p->proto == IPPROTO_TCP)
		printf(" proto=tcp");
	else
		printf(" proto=%u", (unsigned)p->proto);
	if (p->has_ports)
		printf(" src=%s dst=%s", addr_fmt(s, src, sizeof(src)),
		       addr_fmt(d, dst, sizeof(dst)));
	else
		printf(" src=%s dst=%s", addr_fmt_ip(s, src, sizeof(src)),
		       addr_fmt_ip(d, dst, sizeof(dst)));
	printf(" len=%zu\n", p->len);
	fflush(stdout);
	c->printed++;
}

int
main(int argc, char **argv)
{
	struct cat c = {0};
	struct nflog *n;
	struct pollfd pfd;
	char err[256];
	unsigned long group, count = 0, seconds = 30;
	time_t end;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: nflogcat GROUP [COUNT [SECONDS]]\n");
		return 2;
	}
	group = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		count = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		seconds = strtoul(argv[3], NULL, 10);
	if (group == 0 || group > 65535) {
		fprintf(stderr, "nflogcat: bad group %s\n", argv[1]);
		return 2;
	}
	if ((n = nflog_open((uint16_t)group, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nflogcat: %s\n", err);
		return 1;
	}
	fprintf(stderr, "ready\n");
	end = time(NULL) + (time_t)seconds;
	pfd.fd = nflog_fd(n);
	pfd.events = POLLIN;
	while ((count == 0 || c.printed < count) && time(NULL) < end) {
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR) {
			fprintf(stderr, "nflogcat: poll: %s\n",
			        strerror(errno));
			break;
		}
		if (nflog_read(n, print_pkt, &c) == -1) {
			fprintf(stderr, "nflogcat: reading group %lu: %s\n",
			        group, strerror(errno));
			if (errno != ENOBUFS)
				break;
		}
	}
	nflog_close(n);
	return 0;
}
