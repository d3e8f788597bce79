/*
 * privs.h - give up root after set-up.
 *
 * tollgated starts as root (nftables, raising the descriptor limit,
 * loading the connect program of connbpf.h, which needs CAP_BPF), then
 * becomes `user` keeping only:
 *   CAP_NET_ADMIN       SO_MARK on onward sockets; updating or removing
 *                       the nftables table
 *   CAP_DAC_READ_SEARCH listing other users' /proc/PID/fd
 *   CAP_SYS_PTRACE      reading their fd links and /proc/PID/exe
 * Everything else is dropped from the bounding set too, and no_new_privs is
 * set.  Must be called before any thread is started: capabilities are per
 * thread, and threads made afterwards inherit the reduced set.
 */
#ifndef TG_PRIVS_H
#define TG_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* 0, or -1 with err saying which step failed and why. */
int privs_drop(const char *user, char *err, size_t errlen);

/* Raise the soft RLIMIT_NOFILE to the hard one; when the hard one is
 * below want, both to want if the kernel allows (CAP_SYS_RESOURCE,
 * fs.nr_open).  Returns the soft limit now in force (0 when unknown). */
unsigned long privs_raise_nofile(unsigned long want);

#endif
