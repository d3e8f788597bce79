/*
 * nflog.h - read the packets an nftables "log group N" rule sends to
 * NFLOG (nfnetlink_log, over libmnl), for tollgated's event loop: the
 * guarded UDP that the table of redirect.h refuses, with the sender's
 * uid and the addresses and ports of each datagram.
 *
 * One reader binds one group of the current network namespace; the
 * kernel lets only one socket bind a group.  The
 * socket is non-blocking: wait for nflog_fd() to be readable, then call
 * nflog_read().  Binding needs CAP_NET_ADMIN; reading does not, so the
 * reader may be opened before privileges are dropped.
 *
 * Like the rest of redirect/, it includes nothing from proxyd/ or prompt/.
 */
#ifndef TG_REDIRECT_NFLOG_H
#define TG_REDIRECT_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Bytes of each packet the reader asks the kernel to copy. */
#define NFLOG_COPY_RANGE 128

/* Datagrams one nflog_read() takes at most, so a flood cannot hold the
 * event loop; the descriptor stays readable while more wait. */
#define NFLOG_READ_MAX 64

/* Extension headers of an IPv6 packet walked at most. */
#define NFLOG_IP6_EXT_MAX 8

/* One logged packet. */
struct nflog_pkt {
	int family;     /* AF_INET or AF_INET6 */
	uint8_t proto;  /* IPPROTO_UDP, IPPROTO_TCP or another protocol */
	bool has_ports; /* src and dst carry ports */
	struct sockaddr_storage src; /* sockaddr_in or sockaddr_in6 */
	struct sockaddr_storage dst; /* ports 0 when !has_ports */
	bool has_uid;                /* the sending socket's owner is known */
	uid_t uid;
	size_t len; /* length of the whole IP packet, as its header says */
};

struct nflog;

/*
 * Bind NFLOG group (not 0) to a new non-blocking netlink socket, copying
 * NFLOG_COPY_RANGE bytes of each packet.  Returns the reader, or NULL with
 * err (errlen bytes) = "what was being done: strerror" and errno set:
 * EPERM without CAP_NET_ADMIN or when another socket has the group
 * (the kernel says EPERM for both), EINVAL for group 0.
 */
struct nflog *nflog_open(uint16_t group, char *err, size_t errlen);

/* The descriptor to poll for reading. */
int nflog_fd(const struct nflog *n);

/*
 * Read the pending datagrams, at most NFLOG_READ_MAX, and call each() once
 * per logged IPv4 or IPv6 packet, with p valid during the call only.  A
 * packet whose payload nflog_parse_payload() calls invalid is skipped.
 * Returns 0 when nothing more is pending (or the bound was reached), or
 * -1 with errno: ENOBUFS when the kernel dropped log messages because the
 * socket's buffer was full (the reader stays usable: call again), EBADMSG
 * for a malformed netlink message, or the error of recv.
 */
int nflog_read(struct nflog *n,
               void (*each)(void *arg, const struct nflog_pkt *p), void *arg);

/* Close the socket, which unbinds the group.  NULL is fine. */
void nflog_close(struct nflog *n);

/*
 * Parse a logged packet's bytes (NFULA_PAYLOAD: the IP header first, cut
 * at the copy range), which are untrusted.  family is AF_INET or AF_INET6
 * (it must agree with the IP version), or AF_UNSPEC to go by the version.
 * Fills p's family, proto, addresses and len (has_uid is left false), and
 * the ports when the UDP or TCP header's ports are within the bytes and
 * the packet is not a later fragment.  The bytes are a whole datagram, so
 * there is no "need more": a packet cut before its ports (by the copy
 * range, in IPv4 options or IPv6 extension headers) gives addresses only,
 * has_ports false.  Returns 0 when parsed, or -1 when invalid: fewer bytes
 * than the fixed IP header, a version that is not 4 or 6 or not family's,
 * an IPv4 header length below 20, more than NFLOG_IP6_EXT_MAX IPv6
 * extension headers.
 */
int nflog_parse_payload(int family, const void *bytes, size_t len,
                        struct nflog_pkt *p);

#endif
