/*
 * conn.c - one connection's state machine; see conn.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxyd/broker.h"
#include "proxyd/conn.h"
#include "proxyd/eventlog.h"
#include "proxyd/rulesvc.h"

/* The peek buffer starts small and doubles up to PEEK_MAX_BYTES. */
#define CONN_PEEK_INITIAL 4096
#define DECISION_LINE_MAX 2048
/* A parked client that half-closed: how often its process is looked at. */
#define CONN_PARKED_CHECK_MS 500

static void conn_decide(struct conn *c);
static void conn_connect(struct conn *c);
static void conn_send_peeked(struct conn *c);
static void conn_relay_begin(struct conn *c);
static void conn_watch_start(struct conn *c);
static void conn_watch_decide(struct conn *c);
static void conn_parked_gone(struct conn *c);
static bool conn_client_alive(const struct conn *c);

static time_t
now_coarse(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Arm c's timer for ms.  0, or -1 (logged) when libevent cannot. */
static int
conn_arm(struct conn *c, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	if (evtimer_add(c->timer, &tv) == -1) {
		conn_log(c, LOG_ERR, "cannot arm a timer");
		return -1;
	}
	return 0;
}

const char *
conn_reason_str(enum conn_reason r)
{
	switch (r) {
	case REASON_DEFAULT:
		return "default";
	case REASON_RULE:
		return "rule";
	case REASON_PEEK_INVALID:
		return "peek-invalid";
	case REASON_PEEK_TIMEOUT:
		return "peek-timeout";
	case REASON_LOOP:
		return "loop";
	case REASON_NO_DST:
		return "no-original-dst";
	case REASON_OVERLOAD:
		return "overload";
	case REASON_PROMPT:
		return "prompt";
	case REASON_PROMPT_TIMEOUT:
		return "prompt-timeout";
	case REASON_NO_AGENT:
		return "no-agent";
	case REASON_PROMPT_FULL:
		return "prompt-full";
	}
	return "?";
}

void
conn_log(const struct conn *c, int level, const char *fmt, ...)
{
	char msg[1024], a[ADDR_STRLEN], b[ADDR_STRLEN];
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "conn %llu %s -> %s: %s", (unsigned long long)c->id,
	        addr_fmt((const struct sockaddr *)&c->client, a, sizeof(a)),
	        addr_fmt((const struct sockaddr *)&c->dst, b, sizeof(b)), msg);
}

/* Close fd so that the peer sees a TCP reset, not an orderly FIN. */
static void
reset_fd(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd == -1)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* What record_decision() writes down about one decision. */
struct decision {
	uint64_t id;
	enum action verdict;
	enum conn_reason reason;
	int64_t rule_id;
	uint64_t prompt_id;    /* REASON_PROMPT*: the prompt */
	const struct app *app; /* NULL: refused before attribution */
	const struct sockaddr *client;
	const struct sockaddr *dst;
	const struct peek_info *peek; /* NULL: refused before the peek */
	unsigned flags;               /* EVENT_F_* */
	const char *error;
};

static enum event_decider
reason_decider(enum conn_reason r)
{
	switch (r) {
	case REASON_DEFAULT:
		return DECIDER_DEFAULT;
	case REASON_RULE:
		return DECIDER_RULE;
	case REASON_PEEK_INVALID:
	case REASON_PEEK_TIMEOUT:
		return DECIDER_PEEK;
	case REASON_LOOP:
		return DECIDER_LOOP;
	case REASON_NO_DST:
		return DECIDER_NO_DST;
	case REASON_OVERLOAD:
		return DECIDER_OVERLOAD;
	case REASON_PROMPT:
		return DECIDER_PROMPT;
	case REASON_PROMPT_TIMEOUT:
		return DECIDER_TIMEOUT;
	case REASON_NO_AGENT:
		return DECIDER_NO_AGENT;
	case REASON_PROMPT_FULL:
		return DECIDER_PROMPT_FULL;
	}
	return DECIDER_DEFAULT;
}

/* The event row of a decision, for the event log; true when queued. */
static bool
queue_event(struct proxyd *pd, const struct decision *d)
{
	struct event_row *ev;
	struct timespec now;

	ev = calloc(1, sizeof(*ev));
	if (ev == NULL) {
		eventlog_lost(pd, 1);
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ev->kind = EVENT_DECISION;
	ev->conn_id = d->id;
	ev->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (d->app != NULL && d->app->known) {
		ev->pid = d->app->pid;
		snprintf(ev->exe, sizeof(ev->exe), "%s", d->app->exe);
		snprintf(ev->cmdline, sizeof(ev->cmdline), "%s",
		         d->app->cmdline);
	}
	if (d->app != NULL && d->app->uid_known) {
		ev->has_uid = true;
		ev->uid = d->app->uid;
		snprintf(ev->user, sizeof(ev->user), "%s", d->app->user);
	}
	snprintf(ev->proto, sizeof(ev->proto), "tcp");
	addr_fmt_ip(d->client, ev->src_ip, sizeof(ev->src_ip));
	ev->src_port = addr_port(d->client);
	addr_fmt_ip(d->dst, ev->dst_ip, sizeof(ev->dst_ip));
	ev->dst_port = addr_port(d->dst);
	if (d->peek != NULL && d->peek->source != NAME_NONE)
		snprintf(ev->name, sizeof(ev->name), "%s", d->peek->name);
	snprintf(
	    ev->name_source, sizeof(ev->name_source), "%s",
	    name_source_str(d->peek != NULL ? d->peek->source : NAME_NONE));
	ev->verdict = d->verdict;
	ev->decider = reason_decider(d->reason);
	ev->rule_id = d->rule_id;
	snprintf(ev->upstream, sizeof(ev->upstream), "direct");
	ev->flags = d->flags;
	ev->bytes_up = ev->bytes_down = ev->duration_ms = -1;
	return eventlog_decision(pd, ev);
}

/*
 * A decision's log line, key=value, greppable.  d->app and d->peek may be
 * NULL (refused before attribution).
 */
static void
log_decision(const struct decision *d)
{
	char line[DECISION_LINE_MAX], num[32], a[ADDR_STRLEN], flags[64];
	const struct app *app = d->app;
	const struct peek_info *peek = d->peek;
	size_t off = 0;

	line[0] = '\0';
	snprintf(num, sizeof(num), "%llu", (unsigned long long)d->id);
	log_kv(line, sizeof(line), &off, "decision conn", num);
	log_kv(line, sizeof(line), &off, "verdict", action_name(d->verdict));
	log_kv(line, sizeof(line), &off, "reason", conn_reason_str(d->reason));
	if (d->reason == REASON_RULE) {
		snprintf(num, sizeof(num), "%lld", (long long)d->rule_id);
		log_kv(line, sizeof(line), &off, "rule", num);
	}
	if (d->prompt_id != 0) {
		snprintf(num, sizeof(num), "%llu",
		         (unsigned long long)d->prompt_id);
		log_kv(line, sizeof(line), &off, "prompt", num);
	}
	if (app != NULL && app->known)
		snprintf(num, sizeof(num), "%ld", (long)app->pid);
	else
		snprintf(num, sizeof(num), "-");
	log_kv(line, sizeof(line), &off, "pid", num);
	if (app != NULL && app->uid_known)
		snprintf(num, sizeof(num), "%u", (unsigned)app->uid);
	else
		snprintf(num, sizeof(num), "-");
	log_kv(line, sizeof(line), &off, "uid", num);
	log_kv(line, sizeof(line), &off, "user",
	       app != NULL && app->uid_known ? app->user : "-");
	log_kv(line, sizeof(line), &off, "exe",
	       app != NULL && app->known ? app->exe : "-");
	log_kv(line, sizeof(line), &off, "dst", addr_fmt(d->dst, a, sizeof(a)));
	log_kv(line, sizeof(line), &off, "name",
	       peek != NULL && peek->source != NAME_NONE ? peek->name : "-");
	log_kv(line, sizeof(line), &off, "source",
	       name_source_str(peek != NULL ? peek->source : NAME_NONE));
	log_kv(line, sizeof(line), &off, "proto",
	       peek != NULL && peek->proto != NULL ? peek->proto : "none");
	snprintf(
	    flags, sizeof(flags), "%s%s%s", d->flags & EVENT_F_ECH ? "ech" : "",
	    (d->flags & EVENT_F_ECH) && (d->flags & EVENT_F_UNKNOWN) ? "," : "",
	    d->flags & EVENT_F_UNKNOWN ? "unknown-process" : "");
	if (flags[0] != '\0')
		log_kv(line, sizeof(line), &off, "flags", flags);
	if (app != NULL && app->known)
		log_kv(line, sizeof(line), &off, "cmdline", app->cmdline);
	if (d->error != NULL)
		log_kv(line, sizeof(line), &off, "error", d->error);
	log_info("%s", line);
}

/* Record a decision: its log line and its event row.  True when the row
 * was queued (so the connection's end may be, too). */
static bool
record_decision(struct proxyd *pd, const struct decision *d)
{
	/* The line costs microseconds to build: only when it is printed. */
	if (log_get_level() >= LOG_INFO)
		log_decision(d);
	return queue_event(pd, d);
}

static void
conn_free(struct conn *c)
{
	struct proxyd *pd = c->pd;

	if (c->prompt != NULL)
		broker_unpark(c, "gone");
	if (c->relaying) {
		relay_stop(&c->relay);
		c->relaying = false;
	}
	if (c->cev != NULL)
		event_free(c->cev);
	if (c->sev != NULL)
		event_free(c->sev);
	if (c->timer != NULL)
		event_free(c->timer);
	c->cev = c->sev = c->timer = NULL;
	if (c->cfd != -1)
		close(c->cfd);
	if (c->sfd != -1)
		close(c->sfd);
	c->cfd = c->sfd = -1;
	free(c->peek_buf);
	c->peek_buf = NULL;
	if (c->attr_pending) {
		/* The worker still writes c->app: free on its completion. */
		c->state = CONN_DEAD;
		return;
	}
	free(c->app);
	TAILQ_REMOVE(&pd->conns, c, entry);
	pd->n_conns--;
	free(c);
}

/*
 * The close line: one per allowed connection, whatever ended it, with the
 * bytes each way (the peeked bytes count as sent up) and why it ended when
 * that was not an orderly close from both sides.
 */
static void
conn_log_close(struct conn *c, const char *error)
{
	struct proxyd *pd = c->pd;
	struct timespec now;
	uint64_t up = c->peek_sent, down = 0;
	char line[256], num[32];
	size_t off = 0;
	long long ms;

	if (c->state == CONN_RELAY) {
		up = c->relay.up.bytes;
		down = c->relay.down.bytes;
	}
	pd->stats.bytes_up += up;
	pd->stats.bytes_down += down;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - c->started.tv_sec) * 1000LL +
	     (now.tv_nsec - c->started.tv_nsec) / 1000000;
	/* Conn ids start again with each run: an end whose decision row was
	 * not recorded would fill an older run's row of the same id. */
	if (c->event_queued)
		eventlog_close(pd, c->id, up, down, ms);
	if (log_get_level() < LOG_INFO)
		return;
	line[0] = '\0';
	snprintf(num, sizeof(num), "%llu", (unsigned long long)c->id);
	log_kv(line, sizeof(line), &off, "close conn", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)up);
	log_kv(line, sizeof(line), &off, "up", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)down);
	log_kv(line, sizeof(line), &off, "down", num);
	snprintf(num, sizeof(num), "%lld", ms);
	log_kv(line, sizeof(line), &off, "duration_ms", num);
	if (error != NULL)
		log_kv(line, sizeof(line), &off, "error", error);
	log_info("%s", line);
}

/*
 * End a connection.  With reset, both peers see a TCP reset instead of an
 * orderly close.  error says why it ended when it was not an orderly close
 * (NULL otherwise).  A connection that was allowed gets its close line here.
 */
static void
conn_end(struct conn *c, bool reset, const char *error)
{
	/* A connection parked on its late first message was allowed and
	 * connected before. */
	if ((c->state >= CONN_CONNECT && c->state <= CONN_RELAY) ||
	    (c->state == CONN_PARKED && c->sfd != -1))
		conn_log_close(c, error);
	if (reset) {
		reset_fd(c->cfd);
		reset_fd(c->sfd);
		c->cfd = c->sfd = -1;
	}
	conn_free(c);
}

/* End a connection abortively: both peers see a reset. */
static void
conn_abort(struct conn *c, const char *error)
{
	conn_end(c, true, error);
}

void
conn_refuse_early(struct proxyd *pd, int fd, const struct sockaddr *client,
                  const struct sockaddr *dst, enum conn_reason reason)
{
	struct decision d = {
	    .id = pd->next_conn_id++,
	    .verdict = ACTION_REJECT,
	    .reason = reason,
	    .client = client,
	    .dst = dst,
	};

	pd->stats.refused++;
	record_decision(pd, &d);
	reset_fd(fd);
}

static void
conn_attr_run(struct worker_job *job, void *ctx)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	/* Runs on the worker thread: touches only c->app and the two
	 * addresses, which the loop leaves alone while attr_pending. */
	memset(c->app, 0, sizeof(*c->app));
	if (ctx != NULL)
		attr_lookup(ctx, (const struct sockaddr *)&c->client,
		            (const struct sockaddr *)&c->dst, c->app);
}

static void
conn_maybe_decide(struct conn *c)
{
	if (c->state != CONN_PEEK || !c->peek_done || !c->attr_done)
		return;
	c->state = CONN_DECIDE;
	conn_decide(c);
}

static void
conn_attr_done(struct worker_job *job)
{
	struct conn *c =
	    (struct conn *)((char *)job - offsetof(struct conn, job));

	c->attr_pending = false;
	c->attr_done = true;
	if (c->state == CONN_DEAD) {
		conn_free(c);
		return;
	}
	conn_maybe_decide(c);
}

static void
conn_peek_finish(struct conn *c)
{
	c->peek_done = true;
	event_del(c->cev);
	evtimer_del(c->timer);
	conn_maybe_decide(c);
}

/*
 * Read what the client sent into the peek buffer and look at it.
 * Returns 0 when more is needed, 1 when the peek is done (c->peek_res
 * set), 2 when the client closed without sending anything, and -1 when
 * the connection was ended (c is gone).
 */
static int
conn_peek_read(struct conn *c)
{
	ssize_t n;

	if (c->peek_len == c->peek_cap) {
		size_t cap =
		    c->peek_cap == 0 ? CONN_PEEK_INITIAL : c->peek_cap * 2;
		uint8_t *nb;

		if (cap > PEEK_MAX_BYTES)
			cap = PEEK_MAX_BYTES;
		nb = realloc(c->peek_buf, cap);
		if (nb == NULL) {
			conn_log(c, LOG_ERR, "peek buffer: %s",
			         strerror(errno));
			conn_abort(c, "out of memory");
			return -1;
		}
		c->peek_buf = nb;
		c->peek_cap = cap;
	}
	n = read(c->cfd, c->peek_buf + c->peek_len, c->peek_cap - c->peek_len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		conn_log(c, LOG_INFO, "client gone while peeking: %s",
		         strerror(errno));
		conn_abort(c, "client gone");
		return -1;
	}
	if (n == 0) {
		if (c->peek_len == 0)
			return 2;
		/* Half-closed after a partial message: judge what we have. */
		c->peek_res = peek_name(c->peek_buf, c->peek_len, &c->peek);
		if (c->peek_res == PEEK_NEED_MORE) {
			c->peek_res = PEEK_INVALID;
			c->peek.error =
			    "client closed in the middle of a message";
		}
		return 1;
	}
	c->peek_len += n;
	c->peek_res = peek_name(c->peek_buf, c->peek_len, &c->peek);
	if (c->peek_res == PEEK_NEED_MORE && c->peek_len < PEEK_MAX_BYTES)
		return 0;
	if (c->peek_res == PEEK_NEED_MORE) {
		c->peek_res = PEEK_INVALID;
		c->peek.error = "first message longer than the peek limit";
	}
	return 1;
}

/* CONN_PEEK: the client sent bytes (or closed). */
static void
conn_peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (conn_peek_read(c)) {
	case 1:
		conn_peek_finish(c);
		break;
	case 2:
		conn_log(c, LOG_DEBUG, "client closed before sending");
		conn_free(c);
		break;
	default:
		break;
	}
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (c->state) {
	case CONN_PEEK:
		if (c->peek_len == 0) {
			/* Server speaks first: go on without a name, and
			 * watch who speaks first once connected. */
			c->silent = true;
			memset(&c->peek, 0, sizeof(c->peek));
			c->peek.source = NAME_NONE;
			c->peek.proto = "none";
			c->peek_res = PEEK_DONE;
		}
		/* else peek_res stays PEEK_NEED_MORE: a peek timeout */
		conn_peek_finish(c);
		break;
	case CONN_WATCH:
		/* The late first message is still incomplete. */
		conn_watch_decide(c);
		break;
	case CONN_PARKED:
		/* Half-closed while waiting: gone with its process. */
		if (!conn_client_alive(c))
			conn_parked_gone(c);
		else if (conn_arm(c, CONN_PARKED_CHECK_MS) == -1)
			conn_parked_gone(c);
		break;
	case CONN_CONNECT:
	case CONN_SEND_PEEKED:
		conn_abort(c, c->state == CONN_CONNECT
		                  ? "connect timeout"
		                  : "destination not reading within "
		                    "connect_timeout");
		break;
	default:
		conn_log(c, LOG_ERR, "timer fired in state %d", c->state);
		break;
	}
}

/* Ask the rules about a connection that peeked cleanly: true when a rule
 * decides (verdict, reason and rule_id set). */
static bool
conn_judge(struct conn *c)
{
	struct proxyd *pd = c->pd;
	const struct rules_entry *e;
	struct rules_query q;

	memset(&q, 0, sizeof(q));
	q.app = c->app->known ? c->app->exe : NULL;
	q.has_uid = c->app->uid_known;
	q.uid = c->app->uid;
	q.name = c->peek.source != NAME_NONE ? c->peek.name : NULL;
	q.addr = (const struct sockaddr *)&c->dst;
	q.port = addr_port(q.addr);
	q.proto = RPROTO_TCP;
	q.now = time(NULL);
	e = rulesvc_decide(pd, &q, NULL);
	if (e == NULL)
		return false;
	c->verdict = e->action;
	c->reason = REASON_RULE;
	c->rule_id = e->id;
	return true;
}

/* CONN_DECIDE: take the verdict and act on it. */
/* Record c's verdict: its log line and event row. */
static void
conn_record(struct conn *c)
{
	struct decision d = {0};

	d.id = c->id;
	d.verdict = c->verdict;
	d.reason = c->reason;
	d.rule_id = c->rule_id;
	d.prompt_id =
	    c->reason == REASON_PROMPT || c->reason == REASON_PROMPT_TIMEOUT
	        ? c->prompt_id
	        : 0;
	d.app = c->app;
	d.client = (const struct sockaddr *)&c->client;
	d.dst = (const struct sockaddr *)&c->dst;
	d.peek = &c->peek;
	d.flags = (c->peek.ech ? EVENT_F_ECH : 0) |
	          (c->app->known ? 0 : EVENT_F_UNKNOWN);
	d.error = c->peek_res == PEEK_INVALID ? c->peek.error : NULL;
	c->event_queued = record_decision(c->pd, &d);
}

static void conn_park(struct conn *c);
static void conn_watch_send(struct conn *c);

/*
 * Take the verdict from what the peek found and the rules say, and record
 * it (log line and event row).  For the first decision and for a silent
 * client's second one alike.  When no rule decides, the user is asked:
 * false means c is parked and its verdict comes from the broker
 * (conn_prompt_done()).
 */
static bool
conn_verdict(struct conn *c)
{
	struct proxyd *pd = c->pd;

	if (c->peek_res == PEEK_INVALID) {
		c->verdict = ACTION_REJECT;
		c->reason = REASON_PEEK_INVALID;
	} else if (c->peek_res == PEEK_NEED_MORE) {
		c->verdict = ACTION_REJECT;
		c->reason = REASON_PEEK_TIMEOUT;
	} else if (!conn_judge(c)) {
		switch (broker_park(pd, c)) {
		case BROKER_PARKED:
			conn_park(c);
			return false;
		case BROKER_ANSWERED: /* the verdict is the answer's */
			c->reason = REASON_PROMPT;
			break;
		case BROKER_NO_AGENT:
			c->verdict = pd->cfg.default_action;
			c->reason = REASON_NO_AGENT;
			break;
		case BROKER_FULL:
			c->verdict = pd->cfg.default_action;
			c->reason = REASON_PROMPT_FULL;
			break;
		}
	}
	conn_record(c);
	return true;
}

/*
 * Act on the verdict taken: connect, or reset the client.  A connection
 * parked on its late first message (CONN_WATCH before) is connected
 * already: its message is sent on, or both sides reset.
 */
static void
conn_act(struct conn *c)
{
	struct proxyd *pd = c->pd;
	bool connected = c->sfd != -1;

	/* Who it was is in the log now; a relayed connection need not carry
	 * its 5 KB of paths for hours.  A silent one may be decided again. */
	if (!c->silent) {
		free(c->app);
		c->app = NULL;
	}
	if (c->verdict != ACTION_ALLOW) {
		/* deny and reject both end a transparent TCP connection with a
		 * reset; nothing has been sent onward. */
		pd->stats.refused++;
		conn_abort(c, connected ? "refused on its first message, sent "
		                          "late"
		                        : NULL);
		return;
	}
	if (connected) {
		conn_watch_send(c);
		return;
	}
	pd->stats.allowed++;
	conn_connect(c);
}

static void
conn_decide(struct conn *c)
{
	if (conn_verdict(c))
		conn_act(c);
}

/* CONN_PARKED: the client left; nothing was sent onward. */
static void
conn_parked_gone(struct conn *c)
{
	conn_log(c, LOG_INFO, "client left while waiting on prompt %llu",
	         (unsigned long long)c->prompt_id);
	conn_end(c, true, "client left while waiting for an answer");
}

/*
 * Whether the process that made the connection still runs (not a zombie).
 * An unknown process counts as gone: nothing else can be looked at.
 */
static bool
conn_client_alive(const struct conn *c)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	if (c->app == NULL || !c->app->known)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->app->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "PID (COMM) S ...": COMM may hold ')', the state follows the
	 * last one. */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X' &&
	       p[2] != 'x';
}

/* CONN_PARKED: the client closed or reset its connection. */
static void
conn_parked_closed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	/* A reset, or a FIN from a process that is gone, ends it.  A FIN
	 * alone may be a half-close (the request sent, the answer awaited:
	 * "shutdown(SHUT_WR)"); the connection then stays, and its process
	 * is looked at now and then (conn_timer_cb) until its prompt ends. */
	if (getsockopt(c->cfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    ti.tcpi_state == TCP_CLOSE || !conn_client_alive(c)) {
		conn_parked_gone(c);
		return;
	}
	conn_log(c, LOG_DEBUG,
	         "client half-closed while waiting on prompt "
	         "%llu",
	         (unsigned long long)c->prompt_id);
	event_del(c->cev);
	if (conn_arm(c, CONN_PARKED_CHECK_MS) == -1)
		conn_parked_gone(c);
}

/*
 * CONN_PARKED: nothing to do until the broker answers, but a client that
 * goes away is noticed (EV_CLOSED: its FIN or reset; data it sends
 * meanwhile waits in the socket).  Without that feature in libevent's
 * backend, a client that left is found when its prompt ends.
 */
static void
conn_park(struct conn *c)
{
	struct proxyd *pd = c->pd;

	c->state = CONN_PARKED;
	if (c->cev != NULL)
		event_free(c->cev);
	c->cev = NULL;
	if (c->sev != NULL)
		event_del(c->sev);
	evtimer_del(c->timer);
	if (!(event_base_get_features(pd->base) & EV_FEATURE_EARLY_CLOSE))
		return;
	c->cev =
	    event_new(pd->base, c->cfd, EV_CLOSED, conn_parked_closed_cb, c);
	if (c->cev == NULL || event_add(c->cev, NULL) == -1)
		conn_log(c, LOG_WARNING,
		         "cannot watch the parked client; a client that leaves "
		         "is noticed when its prompt ends");
}

/* CONN_PARKED, off its prompt with a verdict: record it and act. */
static void
conn_unpark(struct conn *c)
{
	if (c->cev != NULL)
		event_del(c->cev);
	evtimer_del(c->timer);
	conn_record(c);
	conn_act(c);
}

void
conn_prompt_done(struct conn *c, enum action verdict, enum conn_reason reason)
{
	c->verdict = verdict;
	c->reason = reason;
	c->rule_id = 0;
	conn_unpark(c);
}

void
conn_prompt_rejudge(struct conn *c)
{
	if (!conn_judge(c))
		return;
	broker_unpark(c, "rule");
	conn_unpark(c);
}

/* CONN_CONNECT: the onward socket became writable, or failed. */
static void
conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "connect: %s", strerror(err));
		conn_abort(c, msg);
		return;
	}
	/* The connect timer runs on: a destination that accepts but does
	 * not read the peeked bytes is given up after it too. */
	c->state = CONN_SEND_PEEKED;
	conn_send_peeked(c);
}

static void
conn_connect(struct conn *c)
{
	struct proxyd *pd = c->pd;
	const struct sockaddr *dst = (const struct sockaddr *)&c->dst;
	char msg[128];
	int one = 1;

	c->state = CONN_CONNECT;
	c->sfd = socket(dst->sa_family,
	                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sfd == -1) {
		snprintf(msg, sizeof(msg), "socket: %s", strerror(errno));
		goto fail;
	}
	/* The mark keeps our own connection out of the redirect; without it
	 * we would not send at all. */
	if (setsockopt(c->sfd, SOL_SOCKET, SO_MARK, &pd->cfg.socket_mark,
	               sizeof(pd->cfg.socket_mark)) == -1) {
		snprintf(msg, sizeof(msg), "setsockopt SO_MARK: %s",
		         strerror(errno));
		goto fail;
	}
	(void)setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->sfd, dst, addr_len(dst)) == -1 && errno != EINPROGRESS) {
		snprintf(msg, sizeof(msg), "connect: %s", strerror(errno));
		goto fail;
	}
	if (c->cev != NULL)
		event_free(c->cev);
	c->cev = event_new(pd->base, c->sfd, EV_WRITE, conn_connect_cb, c);
	if (c->cev == NULL || event_add(c->cev, NULL) == -1) {
		snprintf(msg, sizeof(msg), "cannot add connect event");
		goto fail;
	}
	if (conn_arm(c, pd->cfg.connect_timeout_ms) == -1) {
		snprintf(msg, sizeof(msg), "cannot arm the connect timer");
		goto fail;
	}
	return;
fail:
	conn_abort(c, msg);
}

static void
conn_relay_activity(void *arg)
{
	struct conn *c = arg;

	c->last_active = now_coarse();
}

static void
conn_relay_end(struct relay *r, enum relay_end how, int err, void *arg)
{
	struct conn *c = arg;

	c->relaying = false;
	if (how == RELAY_END_EOF)
		conn_end(c, false, NULL);
	else
		conn_abort(c, strerror(err));
}

/* CONN_SEND_PEEKED: hand the destination what the client already sent. */
static void
conn_send_peeked_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_send_peeked(arg);
}

static void
conn_send_peeked(struct conn *c)
{
	struct proxyd *pd = c->pd;
	ssize_t n;

	while (c->peek_sent < c->peek_len) {
		n = write(c->sfd, c->peek_buf + c->peek_sent,
		          c->peek_len - c->peek_sent);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (c->cev != NULL)
				event_free(c->cev);
			c->cev = event_new(pd->base, c->sfd, EV_WRITE,
			                   conn_send_peeked_cb, c);
			if (c->cev == NULL || event_add(c->cev, NULL) == -1) {
				conn_log(c, LOG_ERR, "cannot add write event");
				conn_abort(c,
				           "cannot wait for the destination");
			}
			return;
		}
		if (n < 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "sending peeked bytes: %s",
			         strerror(errno));
			conn_abort(c, msg);
			return;
		}
		c->peek_sent += n;
	}
	if (c->silent) {
		conn_watch_start(c);
		return;
	}
	conn_relay_begin(c);
}

/* From CONN_SEND_PEEKED or CONN_WATCH: splice both ways. */
static void
conn_relay_begin(struct conn *c)
{
	struct proxyd *pd = c->pd;

	free(c->peek_buf);
	c->peek_buf = NULL;
	c->peek_cap = 0;
	free(c->app);
	c->app = NULL;
	if (c->cev != NULL)
		event_free(c->cev);
	if (c->sev != NULL)
		event_free(c->sev);
	if (c->timer != NULL)
		event_free(c->timer);
	c->cev = c->sev = c->timer = NULL;
	c->state = CONN_RELAY;
	c->last_active = now_coarse();
	if (relay_start(&c->relay, pd->base, pd->pipes, c->cfd, c->sfd,
	                conn_relay_end, conn_relay_activity, c) == -1) {
		conn_log(c, LOG_ERR, "cannot start relay");
		conn_abort(c, "cannot start relay");
		return;
	}
	c->relaying = true;
	/* The peeked bytes count as sent up. */
	c->relay.up.bytes = c->peek_len;
}

/* CONN_WATCH: the destination spoke first: a server-first protocol. */
static void
conn_watch_server_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->silent = false;
	conn_relay_begin(c);
}

/* CONN_WATCH: the client spoke first after all: peek at it. */
static void
conn_watch_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (conn_peek_read(c)) {
	case 0:
		if (c->peek_len > 0 && evtimer_pending(c->timer, NULL) == 0) {
			/* Its message decides now, not the server. */
			event_del(c->sev);
			if (conn_arm(c, c->pd->cfg.peek_timeout_ms) == -1)
				conn_abort(c, "cannot arm the peek timer");
		}
		break;
	case 1:
		conn_watch_decide(c);
		break;
	case 2:
		/* Closed without a word: pass the close on. */
		c->silent = false;
		conn_relay_begin(c);
		break;
	default:
		break;
	}
}

static void
conn_watch_start(struct conn *c)
{
	struct proxyd *pd = c->pd;

	c->state = CONN_WATCH;
	c->last_active = now_coarse();
	evtimer_del(c->timer);
	if (c->cev != NULL)
		event_free(c->cev);
	c->cev = event_new(pd->base, c->cfd, EV_READ | EV_PERSIST,
	                   conn_watch_client_cb, c);
	c->sev = event_new(pd->base, c->sfd, EV_READ, conn_watch_server_cb, c);
	if (c->cev == NULL || c->sev == NULL || event_add(c->cev, NULL) == -1 ||
	    event_add(c->sev, NULL) == -1) {
		conn_log(c, LOG_ERR, "cannot add watch events");
		conn_abort(c, "cannot watch the connection");
	}
}

/* From CONN_WATCH: send the late first message on, under the connect
 * timer like any peeked bytes. */
static void
conn_watch_send(struct conn *c)
{

	c->state = CONN_SEND_PEEKED;
	c->peek_sent = 0;
	if (conn_arm(c, c->pd->cfg.connect_timeout_ms) == -1) {
		conn_abort(c, "cannot arm the connect timer");
		return;
	}
	conn_send_peeked(c);
}

/*
 * CONN_WATCH: the late first message is complete (or timed out): decide
 * again with what it says, and either send it on or reset both sides.
 */
static void
conn_watch_decide(struct conn *c)
{
	event_del(c->cev);
	event_del(c->sev);
	evtimer_del(c->timer);
	c->silent = false;
	if (c->peek_res == PEEK_DONE && c->peek.source == NAME_NONE) {
		/* No name in it either: the verdict on the address stands. */
		conn_watch_send(c);
		return;
	}
	if (conn_verdict(c))
		conn_act(c);
}

void
conn_accept(struct proxyd *pd, int fd, const struct sockaddr *client,
            const struct sockaddr *dst)
{
	struct conn *c;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("accept: calloc: %s", strerror(errno));
		reset_fd(fd);
		return;
	}
	c->pd = pd;
	c->id = pd->next_conn_id++;
	c->state = CONN_PEEK;
	c->cfd = fd;
	c->sfd = -1;
	memcpy(&c->client, client, addr_len(client));
	memcpy(&c->dst, dst, addr_len(dst));
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->last_active = c->started.tv_sec;
	TAILQ_INSERT_TAIL(&pd->conns, c, entry);
	pd->n_conns++;
	pd->stats.accepted++;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	c->app = calloc(1, sizeof(*c->app));
	c->cev = event_new(pd->base, fd, EV_READ | EV_PERSIST, conn_peek_cb, c);
	c->timer = evtimer_new(pd->base, conn_timer_cb, c);
	if (c->app == NULL || c->cev == NULL || c->timer == NULL ||
	    event_add(c->cev, NULL) == -1) {
		conn_log(c, LOG_ERR, "cannot add client events");
		conn_abort(c, NULL);
		return;
	}
	if (conn_arm(c, pd->cfg.peek_timeout_ms) == -1) {
		conn_abort(c, NULL);
		return;
	}

	c->job.run = conn_attr_run;
	c->job.done = conn_attr_done;
	c->attr_pending = true;
	worker_submit(pd->worker, &c->job);
}

void
conn_sweep_idle(struct proxyd *pd)
{
	struct conn *c, *next;
	time_t now = now_coarse();
	time_t idle = pd->cfg.idle_timeout_ms / 1000;

	for (c = TAILQ_FIRST(&pd->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if ((c->state == CONN_RELAY || c->state == CONN_WATCH) &&
		    now - c->last_active >= idle) {
			conn_abort(c, "idle timeout");
		}
	}
}

void
conn_close_all(struct proxyd *pd)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&pd->conns)) != NULL) {
		/* The worker has stopped: no job is in flight any more. */
		c->attr_pending = false;
		if (c->state == CONN_DEAD) {
			TAILQ_REMOVE(&pd->conns, c, entry);
			pd->n_conns--;
			free(c->app);
			free(c);
			continue;
		}
		conn_abort(c, "tollgated stopping");
	}
}
