/*
 * privs.c - dropping root; see privs.h.
 *
 * Raw capget/capset (linux/capability.h) instead of libcap: the whole use is
 * one call with three bits set, not worth a dependency.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proxyd/privs.h"

static const int privs_keep[] = {
    CAP_NET_ADMIN,
    CAP_DAC_READ_SEARCH,
    CAP_SYS_PTRACE,
};

#define N_KEEP (sizeof(privs_keep) / sizeof(privs_keep[0]))

static int
keep(int cap)
{
	size_t i;

	for (i = 0; i < N_KEEP; i++)
		if (privs_keep[i] == cap)
			return 1;
	return 0;
}

int
privs_drop(const char *user, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	struct passwd *pw;
	size_t i;
	int cap;

	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen,
		         "user %s does not exist (create it with "
		         "'make install-user' or set user = in tollgate.conf)",
		         user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen,
		         "user %s is root; refusing to run as root", user);
		return -1;
	}
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!keep(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL) {
			snprintf(err, errlen, "prctl(PR_CAPBSET_DROP, %d): %s",
			         cap, strerror(errno));
			return -1;
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl(PR_SET_KEEPCAPS): %s",
		         strerror(errno));
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "becoming %s (uid %u): %s", user,
		         (unsigned)pw->pw_uid, strerror(errno));
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	for (i = 0; i < N_KEEP; i++) {
		data[privs_keep[i] / 32].effective |= 1u
		                                      << (privs_keep[i] % 32);
		data[privs_keep[i] / 32].permitted |= 1u
		                                      << (privs_keep[i] % 32);
	}
	if (syscall(SYS_capset, &hdr, data) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
	/* Prove it: getting root back must fail. */
	if (setuid(0) == 0) {
		snprintf(err, errlen, "could set uid 0 again after dropping");
		return -1;
	}
	return 0;
}

unsigned long
privs_raise_nofile(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_max < want) {
		struct rlimit up = {.rlim_cur = want, .rlim_max = want};

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return want;
	}
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	return rl.rlim_cur;
}
