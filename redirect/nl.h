/*
 * nl.h - the netfilter netlink plumbing under redirect.c and status.c:
 * one socket, requests answered by dumps or acks, and batches whose every
 * message is acknowledged.  Internal to redirect/; nothing outside this
 * folder includes it.
 *
 * Errors follow redirect.h: -1 with err holding "what: strerror" and errno
 * holding the cause (EPERM without CAP_NET_ADMIN, ENOENT for a missing
 * object, EINTR for a dump that a concurrent change interrupted).
 */
#ifndef TG_REDIRECT_NL_H
#define TG_REDIRECT_NL_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* Longest message one batch entry may take; every builder stays below. */
#define REDIRECT_MSG_MAX 2048

/* Longest description of a batch message ("adding rule ... to chain ..."). */
#define REDIRECT_WHAT_MAX 192

/* How long to wait for each answer of the kernel, in milliseconds. */
#define REDIRECT_NL_TIMEOUT_MS 5000

/* Size of the receive buffer; a dump part is never larger. */
#define REDIRECT_NL_RECV_SIZE 32768

struct redirect_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq; /* sequence number of the next message */
};

/*
 * Set err to "WHAT: strerror(error)" (WHAT formatted from fmt) and errno
 * to error.  Returns -1, so a failing step reads "return redirect_fail(..)".
 */
int redirect_fail(char *err, size_t errlen, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Open and bind a NETLINK_NETFILTER socket.  0, or -1 + err + errno. */
int redirect_nl_open(struct redirect_nl *nl, char *err, size_t errlen);
void redirect_nl_close(struct redirect_nl *nl);

/*
 * Send the request at nlh (its nlmsg_seq must be nl->seq, taken with
 * nl->seq++) and pass every answer to cb until the dump ends or the ack
 * arrives: a single-object request must carry NLM_F_ACK.  Returns 0, or
 * -1 with errno set and err = "what: strerror".
 */
int redirect_nl_request(struct redirect_nl *nl, const struct nlmsghdr *nlh,
                        mnl_cb_t cb, void *data, const char *what, char *err,
                        size_t errlen);

/*
 * A batch: nftnl_batch_begin, messages, nftnl_batch_end, sent as one
 * datagram so the kernel applies all of it or none of it.  Each message is
 * built at redirect_batch_cur() with sequence number redirect_batch_seq()
 * and NLM_F_ACK, then committed with a description of what it does, which
 * names the message when the kernel refuses it.
 */
struct redirect_batch;

/* A batch with room for max_msgs messages; NULL + err + errno. */
struct redirect_batch *redirect_batch_new(struct redirect_nl *nl,
                                          size_t max_msgs, char *err,
                                          size_t errlen);
void redirect_batch_free(struct redirect_batch *b);

void *redirect_batch_cur(struct redirect_batch *b);
uint32_t redirect_batch_seq(const struct redirect_batch *b);

/* Take the message built at cur into the batch.  0, or -1 + err. */
int redirect_batch_commit(struct redirect_batch *b, const char *what, char *err,
                          size_t errlen);

/*
 * Close the batch, send it, and check the kernel's ack of every message.
 * Returns 0 when all of it is applied, or -1 with err naming the message
 * the kernel refused and why (nothing of the batch is then applied).
 */
int redirect_batch_send(struct redirect_batch *b, char *err, size_t errlen);

#endif
