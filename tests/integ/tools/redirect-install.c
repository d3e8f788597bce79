/*
 * redirect-install - install the table of redirect/redirect.h from
 * command-line arguments, for the integration tests of what tollgated's
 * configuration cannot reach yet (a DNS port, an NFLOG group).
 *
 *   redirect-install TCP-PORT DNS-PORT NFLOG-GROUP MARK [UID...]
 *
 * DNS-PORT and NFLOG-GROUP may be 0 (none); MARK is read as C reads it
 * (0x746f6c6c).  Exit 0 when the table is in place, 1 with the error on
 * stderr, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "redirect/redirect.h"

/* Parse a number of at most max; -1 on anything else. */
static long long
number(const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
		return -1;
	return (long long)v;
}

int
main(int argc, char **argv)
{
	struct redirect_spec spec = {0};
	uid_t uids[REDIRECT_MAX_UIDS];
	long long v[4];
	const unsigned long long max[4] = {65535, 65535, 65535, 0xffffffffu};
	char err[512];
	int i;

	if (argc < 5 || argc - 5 > REDIRECT_MAX_UIDS) {
		fprintf(stderr, "usage: redirect-install TCP-PORT DNS-PORT "
		                "NFLOG-GROUP MARK [UID...]\n");
		return 2;
	}
	for (i = 0; i < 4; i++)
		if ((v[i] = number(argv[i + 1], max[i])) == -1) {
			fprintf(stderr, "redirect-install: bad number %s\n",
			        argv[i + 1]);
			return 2;
		}
	for (i = 5; i < argc; i++) {
		long long uid = number(argv[i], 0xfffffffeu);

		if (uid == -1) {
			fprintf(stderr, "redirect-install: bad uid %s\n",
			        argv[i]);
			return 2;
		}
		uids[i - 5] = (uid_t)uid;
	}
	spec.tcp_port = (uint16_t)v[0];
	spec.dns_port = (uint16_t)v[1];
	spec.nflog_group = (uint16_t)v[2];
	spec.mark = (uint32_t)v[3];
	spec.uids = uids;
	spec.n_uids = (size_t)(argc - 5);
	if (redirect_install(&spec, err, sizeof(err)) == -1) {
		fprintf(stderr, "redirect-install: %s\n", err);
		return 1;
	}
	return 0;
}
