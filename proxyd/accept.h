/*
 * accept.h - pausing a listening socket that cannot accept.
 *
 * When accept() fails for want of descriptors or memory (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM) the socket stays readable, and a loop that goes on
 * accepting spins.  A listener paused instead leaves its clients in the
 * kernel's backlog and tries again after a pause: min_ms the first time,
 * doubled at each failure since the last client taken, at most max_ms.
 * The transparent listeners (listener.c) and the control socket
 * (control.c) both pause this way; each says in its own log line why.
 */
#ifndef TG_ACCEPT_H
#define TG_ACCEPT_H

#include <event2/event.h>
#include <event2/listener.h>

struct accept_backoff {
	struct evconnlistener *evl;
	struct event *timer; /* ends a pause: accepting resumes */
	unsigned min_ms;
	unsigned max_ms;
	unsigned ms; /* the last pause; 0: none since a client was taken */
};

/*
 * Make the resume timer on base for evl (which the caller keeps owning),
 * pausing min_ms first and at most max_ms.  0, or -1 when the timer cannot
 * be made (the caller logs it).
 */
int accept_backoff_init(struct accept_backoff *ab, struct event_base *base,
                        struct evconnlistener *evl, unsigned min_ms,
                        unsigned max_ms);

/* A client was taken: the next pause is min_ms again. */
void accept_backoff_reset(struct accept_backoff *ab);

/*
 * Stop accepting for the next pause and return its length in ms; or -1
 * when the timer cannot be armed: then accepting goes on unpaused (never
 * paused without a way back), and the caller logs it.
 */
int accept_backoff_pause(struct accept_backoff *ab);

/* Free the timer; the listener is the caller's.  Fine on a zeroed one. */
void accept_backoff_free(struct accept_backoff *ab);

#endif
