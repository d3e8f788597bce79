/*
 * relay.c - the splice pump; see relay.h.
 *
 * A direction is in one of three situations, each with one event armed:
 *   pipe empty         wait until `from` is readable (rev)
 *   pipe holds bytes   wait until `to` is writable (wev); rev is off, so a
 *                      slow reader throttles a fast writer
 *   eof and drained    nothing armed; `to` has been shut down for writing
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/relay.h"

struct relay_pool {
	int spare[RELAY_POOL_MAX][2];
	unsigned n_spare;
	unsigned in_use;
};

struct relay_pool *
relay_pool_new(void)
{
	return calloc(1, sizeof(struct relay_pool));
}

void
relay_pool_free(struct relay_pool *pool)
{
	unsigned i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->n_spare; i++) {
		close(pool->spare[i][0]);
		close(pool->spare[i][1]);
	}
	free(pool);
}

void
relay_pool_counts(const struct relay_pool *pool, unsigned *in_use,
                  unsigned *spare)
{
	*in_use = pool->in_use;
	*spare = pool->n_spare;
}

static int
pipe_borrow(struct relay_pool *pool, int p[2])
{
	if (pool->n_spare > 0) {
		pool->n_spare--;
		p[0] = pool->spare[pool->n_spare][0];
		p[1] = pool->spare[pool->n_spare][1];
	} else {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
			return -1;
		/* Best effort: past pipe-user-pages-soft the kernel says no
		 * and the pipe keeps its default size. */
		(void)fcntl(p[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	}
	pool->in_use++;
	return 0;
}

/* Give back an empty pipe; one that may hold bytes is closed instead. */
static void
pipe_return(struct relay_pool *pool, int p[2], int empty)
{
	if (p[0] == -1)
		return;
	pool->in_use--;
	if (empty && pool->n_spare < RELAY_POOL_MAX) {
		pool->spare[pool->n_spare][0] = p[0];
		pool->spare[pool->n_spare][1] = p[1];
		pool->n_spare++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

static int relay_wev_new(struct relay *r, struct relay_dir *d);

static void
relay_end(struct relay *r, enum relay_end how, int err)
{
	if (r->ended)
		return;
	r->ended = true;
	relay_stop(r);
	r->on_end(r, how, err, r->arg);
}

/*
 * Move what can be moved in direction d.  Returns 0 when the direction is
 * waiting (events set accordingly), -1 after the relay ended.
 */
static int
relay_pump(struct relay *r, struct relay_dir *d)
{
	struct relay_dir *other = d == &r->up ? &r->down : &r->up;
	ssize_t n;
	int round;

	for (round = 0; round < RELAY_ROUNDS; round++) {
		if (d->in_pipe == 0 && !d->eof) {
			if (d->pipe[0] == -1 && pipe_borrow(r->pool, d->pipe)) {
				relay_end(r, RELAY_END_ERROR, errno);
				return -1;
			}
			n = splice(d->from, NULL, d->pipe[1], NULL, RELAY_CHUNK,
			           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0)
				d->eof = true;
			else if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			else if (n < 0) {
				relay_end(r, RELAY_END_ERROR, errno);
				return -1;
			} else
				d->in_pipe = n;
		}
		if (d->in_pipe > 0) {
			n = splice(d->pipe[0], NULL, d->to, NULL, d->in_pipe,
			           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				relay_end(r, RELAY_END_ERROR,
				          n < 0 ? errno : EPIPE);
				return -1;
			}
			d->in_pipe -= n;
			d->bytes += n;
			if (r->on_activity != NULL)
				r->on_activity(r->arg);
			if (d->in_pipe > 0)
				continue; /* try the rest right away */
		}
		if (d->eof)
			break;
	}
	if (d->in_pipe == 0)
		pipe_return(r->pool, d->pipe, 1);
	if (d->eof && d->in_pipe == 0 && !d->shut) {
		d->shut = true;
		/* The other way is done too: the relay ends now and its owner
		 * closes both sockets, which sends this FIN (both were read to
		 * their end, so close() does not reset).  A shutdown() here
		 * would be one more system call for nothing. */
		if (other->shut) {
			relay_end(r, RELAY_END_EOF, 0);
			return -1;
		}
		if (shutdown(d->to, SHUT_WR) == -1 && errno != ENOTCONN) {
			relay_end(r, RELAY_END_ERROR, errno);
			return -1;
		}
	}
	/* Arm exactly the event this direction now waits for. */
	if (d->in_pipe > 0) {
		event_del(d->rev);
		if ((d->wev == NULL && relay_wev_new(r, d) == -1) ||
		    event_add(d->wev, NULL) == -1) {
			relay_end(r, RELAY_END_ERROR, ENOMEM);
			return -1;
		}
	} else {
		if (d->wev != NULL)
			event_del(d->wev);
		if (d->eof)
			event_del(d->rev);
		else if (event_add(d->rev, NULL) == -1) {
			/* A direction nobody watches would stall until the
			 * idle timeout: end it now instead. */
			relay_end(r, RELAY_END_ERROR, ENOMEM);
			return -1;
		}
	}
	if (r->up.shut && r->down.shut) {
		relay_end(r, RELAY_END_EOF, 0);
		return -1;
	}
	return 0;
}

void
relay_readable(struct relay *r, bool up)
{
	relay_pump(r, up ? &r->up : &r->down);
}

static void
relay_up_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	relay_pump(r, &r->up);
}

static void
relay_down_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	relay_pump(r, &r->down);
}

/* d's write event, made the first time one of its writes must wait. */
static int
relay_wev_new(struct relay *r, struct relay_dir *d)
{
	d->wev = event_new(r->base, d->to, EV_WRITE | EV_PERSIST,
	                   d == &r->up ? relay_up_cb : relay_down_cb, r);
	return d->wev != NULL ? 0 : -1;
}

static void
relay_dir_init(struct relay_dir *d, int from, int to, struct event *rev)
{
	memset(d, 0, sizeof(*d));
	d->from = from;
	d->to = to;
	d->rev = rev;
	d->pipe[0] = d->pipe[1] = -1;
}

int
relay_start(struct relay *r, struct event_base *base, struct relay_pool *pool,
            int cfd, int sfd, struct event *crev, struct event *srev,
            void (*on_end)(struct relay *, enum relay_end, int, void *),
            void (*on_activity)(void *), void *arg)
{
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->pool = pool;
	r->on_end = on_end;
	r->on_activity = on_activity;
	r->arg = arg;
	relay_dir_init(&r->up, cfd, sfd, crev);
	relay_dir_init(&r->down, sfd, cfd, srev);
	/* Pending already when the caller watched the sockets before: no
	 * system call then. */
	if (event_add(crev, NULL) == -1 || event_add(srev, NULL) == -1) {
		relay_stop(r);
		r->ended = true;
		return -1;
	}
	return 0;
}

static void
relay_dir_stop(struct relay *r, struct relay_dir *d)
{
	if (d->rev != NULL) {
		event_del(d->rev);
		d->rev = NULL;
	}
	if (d->wev != NULL) {
		event_free(d->wev);
		d->wev = NULL;
	}
	if (d->pipe[0] != -1)
		pipe_return(r->pool, d->pipe, d->in_pipe == 0);
}

void
relay_stop(struct relay *r)
{
	relay_dir_stop(r, &r->up);
	relay_dir_stop(r, &r->down);
}
