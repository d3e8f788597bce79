/*
 * accept.c - pausing a listener that cannot accept; see accept.h.
 */
#include <stddef.h>

#include "proxyd/accept.h"

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct accept_backoff *ab = arg;

	evconnlistener_enable(ab->evl);
}

int
accept_backoff_init(struct accept_backoff *ab, struct event_base *base,
                    struct evconnlistener *evl, unsigned min_ms,
                    unsigned max_ms)
{
	ab->evl = evl;
	ab->min_ms = min_ms;
	ab->max_ms = max_ms;
	ab->ms = 0;
	ab->timer = evtimer_new(base, accept_resume_cb, ab);
	return ab->timer != NULL ? 0 : -1;
}

void
accept_backoff_reset(struct accept_backoff *ab)
{
	ab->ms = 0;
}

int
accept_backoff_pause(struct accept_backoff *ab)
{
	struct timeval tv;

	ab->ms = ab->ms == 0 ? ab->min_ms : ab->ms * 2;
	if (ab->ms > ab->max_ms)
		ab->ms = ab->max_ms;
	tv.tv_sec = ab->ms / 1000;
	tv.tv_usec = (ab->ms % 1000) * 1000L;
	if (evtimer_add(ab->timer, &tv) == -1)
		return -1;
	evconnlistener_disable(ab->evl);
	return (int)ab->ms;
}

void
accept_backoff_free(struct accept_backoff *ab)
{
	if (ab->timer != NULL)
		event_free(ab->timer);
	ab->timer = NULL;
}
