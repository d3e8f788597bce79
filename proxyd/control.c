/*
 * control.c - the control server; see control.h and common/ctl.h.
 *
 * A client is in one of four states:
 *   READY    reading request lines
 *   IMPORT   reading the n lines that follow "IMPORT n" into an export
 *            reader; the reply comes after the last one
 *   WAITING  a change is with rulesvc; further lines stay buffered
 *   CLOSING  a last reply is being written, then the client is freed
 * Lines are taken CONTROL_LINES_PER_TURN at a time; when more are
 * buffered, the client's `more` event continues on the next turn.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/ctl.h"
#include "common/log.h"
#include "common/ctl_prompt.h"
#include "proxyd/broker.h"
#include "proxyd/control.h"
#include "proxyd/rulesvc.h"
#include "rules/export.h"
#include "rules/rule.h"

#define CONTROL_ACCEPT_BACKOFF_MS 1000
#define CONTROL_GROUPS_MAX        65536 /* NGROUPS_MAX of Linux */
#define CONTROL_REPLY_MAX         (CTL_MSG_MAX + 64)
/* Replies a client has not taken yet: past this, its requests wait. */
#define CONTROL_OUTPUT_MAX ((size_t)256 * 1024)

enum client_state {
	CLIENT_READY,
	CLIENT_IMPORT,
	CLIENT_WAITING,
	CLIENT_CLOSING,
};

struct control_pending;

struct control_client {
	TAILQ_ENTRY(control_client) entry;
	struct control *ctl;
	uint64_t id;
	struct bufferevent *bev; /* writes; reads are client_recv_cb()'s */
	struct event *rev;       /* readable (or idle for CONTROL_IDLE_S) */
	struct evbuffer *in;     /* what it sent, not yet taken as lines */
	bool idle_counts;        /* rev carries the idle timeout */
	bool paused;             /* rev off: too much unread input */
	struct event *more;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool admin;
	bool agent; /* subscribed: a prompt agent (tollgate-prompt) */
	/* Who wrote what it sent (SCM_CREDENTIALS, per read: the kernel
	 * never joins two writers' bytes in one).  A SUBSCRIBE counts only
	 * when every byte so far came from the installed tollgate-prompt;
	 * an agent's connection is closed on the first byte that did not.
	 * So a script cannot connect, fork, let the parent exec
	 * tollgate-prompt (the pid SO_PEERCRED names) and talk itself. */
	pid_t writer;      /* the last writer checked */
	bool writer_agent; /* it is the installed tollgate-prompt */
	bool foreign;      /* some byte came from another program */
	/* An agent: the file it subscribed as (an upgrade that replaces
	 * prompt_program leaves running agents theirs). */
	dev_t agent_dev;
	ino_t agent_ino;
	enum client_state state;
	bool eof; /* the client sends no more: close once all is answered */
	struct control_pending *pending; /* WAITING: the change in flight */
	/* IMPORT */
	struct export_reader *import;
	unsigned long import_left;
	size_t import_bytes;
	char import_err[CTL_ERRLEN + 16]; /* a bad line: said after the last */
};

TAILQ_HEAD(control_clients, control_client);

struct control {
	struct proxyd *pd;
	int fd; /* until control_start() hands it to evl */
	struct evconnlistener *evl;
	struct event *resume;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct control_clients clients;
	unsigned n_clients;
	uint64_t next_id;
	time_t started;
	bool closing; /* control_close(): agents leaving end no prompt */
};

/*
 * A change handed to rulesvc.  It outlives its client when the client
 * leaves first (client NULL); the done callback frees it.
 */
struct control_pending {
	struct control_client *client;
	uint64_t client_id;
	uid_t uid;
	pid_t pid;
	enum ctl_verb verb;
	int64_t id;
	size_t n_rules, n_names; /* IMPORT */
};

/* Subscribed prompt agents. */
static unsigned
control_agents(const struct control *ctl)
{
	const struct control_client *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &ctl->clients, entry)
	if (c->agent && c->state != CLIENT_CLOSING)
		n++;
	return n;
}

/* Whether agent c may see a prompt of uid (has_uid false: of an unknown
 * user, which only admins see). */
static bool
agent_sees(const struct control_client *c, bool has_uid, uid_t uid)
{
	return c->agent && c->state != CLIENT_CLOSING &&
	       (c->admin || (has_uid && c->uid == uid));
}

static void client_process(struct control_client *c);
static void client_resume(struct control_client *c);

/* "client 3 (uid 1000, pid 4242)" */
static const char *
client_desc(const struct control_client *c, char *buf, size_t len)
{
	snprintf(buf, len, "client %llu (uid %u, pid %d)",
	         (unsigned long long)c->id, (unsigned)c->uid, (int)c->pid);
	return buf;
}

static void
client_free(struct control_client *c)
{
	struct control *ctl = c->ctl;
	bool agent = c->agent;

	if (c->pending != NULL)
		c->pending->client = NULL;
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->n_clients--;
	event_free(c->rev);
	bufferevent_free(c->bev); /* closes the socket */
	evbuffer_free(c->in);
	event_free(c->more);
	export_reader_free(c->import);
	free(c);
	/* Last: the broker may write to the other agents. */
	if (agent && !ctl->closing)
		broker_agents_changed(ctl->pd);
}

static void
client_send(struct control_client *c, const char *line, size_t len)
{
	char d[64];

	if (bufferevent_write(c->bev, line, len) == -1) {
		log_warn("control: %s: cannot queue the reply; closing",
		         client_desc(c, d, sizeof(d)));
		c->state = CLIENT_CLOSING;
		event_del(c->rev);
		event_active(c->more, EV_TIMEOUT, 1);
	}
}

static void
client_err(struct control_client *c, enum ctl_code code, const char *msg)
{
	char buf[CONTROL_REPLY_MAX];
	size_t n;

	n = ctl_fmt_err(buf, sizeof(buf), code, "%s", msg);
	client_send(c, buf, n);
}

/* Say ERR and close once it is written. */
static void
client_fail(struct control_client *c, enum ctl_code code, const char *msg)
{
	char d[64];

	log_info("control: %s: ERR %s %s; closing",
	         client_desc(c, d, sizeof(d)), ctl_code_name(code), msg);
	client_err(c, code, msg);
	c->state = CLIENT_CLOSING;
	event_del(c->rev);
	/* Freed once the reply is out: by client_write_cb(), or by
	 * client_more_cb() when nothing could be queued. */
	event_active(c->more, EV_TIMEOUT, 1);
}

static void
client_ok(struct control_client *c, struct ctl_line *l)
{
	int n = ctl_line_end(l);

	if (n == -1) {
		client_err(c, CTL_E_INTERNAL, "reply too long");
		return;
	}
	client_send(c, l->buf, (size_t)n);
}

/* The read (idle) timeout when idle counts, and always the write one. */
static void
client_set_timeouts(struct control_client *c, bool idle_counts)
{
	struct timeval idle = {CONTROL_IDLE_S, 0}, wr = {CONTROL_WRITE_S, 0};

	/* An agent waits for prompts: it is never idle. */
	c->idle_counts = idle_counts && !c->agent;
	bufferevent_set_timeouts(c->bev, NULL, &wr);
	if (c->state != CLIENT_CLOSING && !c->eof && !c->paused &&
	    event_add(c->rev, c->idle_counts ? &idle : NULL) == -1)
		log_error("control: cannot wait for a client's requests");
}

/*
 * The reply to a request that waited (a change, an answer): to its client
 * when it is still connected; then the client's next requests.  Frees p.
 */
static void
pending_reply(struct control_pending *p, struct ctl_line *ok,
              enum ctl_code code, const char *err)
{
	struct control_client *c = p->client;

	free(p);
	if (c == NULL)
		return;
	c->pending = NULL;
	client_set_timeouts(c, true);
	if (ok != NULL)
		client_ok(c, ok);
	else
		client_err(c, code, err);
	if (c->state == CLIENT_WAITING) {
		c->state = CLIENT_READY;
		event_active(c->more, EV_TIMEOUT, 1);
	}
}

/* The control protocol's code for a change or an answer that failed. */
static enum ctl_code
control_code(enum rulesvc_error e)
{
	switch (e) {
	case RULESVC_E_NOTFOUND:
		return CTL_E_NOTFOUND;
	case RULESVC_E_INVALID:
		return CTL_E_INVALID;
	default:
		return CTL_E_INTERNAL;
	}
}

/*
 * The one buffer PROMPT lines are made in (on the loop; each is sent
 * before the next is made).  A line of the longest values, every byte
 * escaped as \xHH, fits a control line (tests/unit/test_ctl_prompt.c).
 */
static char prompt_buf[CTL_LINE_MAX + 2];

/* p's "PROMPT ..." line with its "\n" in prompt_buf; its length, or -1
 * (logged). */
static int
prompt_line(const struct ctl_prompt *p)
{
	struct ctl_line l;
	int n;

	ctl_line_init(&l, prompt_buf, sizeof(prompt_buf));
	ctl_put_word(&l, "PROMPT");
	ctl_prompt_put(&l, p);
	if ((n = ctl_line_end(&l)) == -1)
		log_error("prompt %llu: its line is too long",
		          (unsigned long long)p->id);
	return n;
}

static void
control_done(void *arg, const struct rulesvc_result *res)
{
	struct control_pending *p = arg;
	struct control_client *c = p->client;
	char buf[CONTROL_REPLY_MAX], what[128];
	struct ctl_line l;

	snprintf(what, sizeof(what), "client %llu (uid %u, pid %d): %s",
	         (unsigned long long)p->client_id, (unsigned)p->uid,
	         (int)p->pid, ctl_verb_name(p->verb));
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	if (res->ok) {
		switch (p->verb) {
		case CTL_RULE_ADD:
			ctl_put_kvf(&l, "id", "%lld", (long long)res->id);
			break;
		case CTL_IMPORT:
			ctl_put_kvf(&l, "rules", "%zu", p->n_rules);
			ctl_put_kvf(&l, "names", "%zu", p->n_names);
			break;
		case CTL_RELOAD:
			ctl_put_kvf(&l, "rules", "%u", res->rules);
			break;
		default:
			ctl_put_kvf(&l, "id", "%lld", (long long)p->id);
			break;
		}
		log_info("control: %s: %s (%u rules in force)", what, buf,
		         res->rules);
	} else
		log_info("control: %s: failed: %s: %s", what,
		         ctl_code_name(control_code(res->code)), res->err);
	if (c == NULL)
		log_info("control: %s: the client left before the reply", what);
	pending_reply(p, res->ok ? &l : NULL, control_code(res->code),
	              res->err);
}

/* Make c wait for a reply that comes later; p is the request's. */
static struct control_pending *
client_wait(struct control_client *c, enum ctl_verb verb, int64_t id)
{
	struct control_pending *p;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		log_error("control: calloc: %s", strerror(errno));
		client_err(c, CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	p->client = c;
	p->client_id = c->id;
	p->uid = c->uid;
	p->pid = c->pid;
	p->verb = verb;
	p->id = id;
	c->pending = p;
	c->state = CLIENT_WAITING;
	/* A slow change (a big import behind others) is not idleness: no
	 * read timeout until its reply is out. */
	client_set_timeouts(c, false);
	return p;
}

/* Hand change to rulesvc; the reply comes from control_done(). */
static void
client_apply(struct control_client *c, const struct rulesvc_change *change,
             enum ctl_verb verb, size_t n_rules, size_t n_names)
{
	struct control_pending *p;

	p = client_wait(c, verb, change->id);
	if (p == NULL) {
		if (change->import != NULL) {
			/* It was to be rulesvc's; nobody else frees it. */
			rules_set_free(change->import);
			free(change->import);
		}
		return;
	}
	p->n_rules = n_rules;
	p->n_names = n_names;
	/* done() may run before this returns; p is not ours after it. */
	rulesvc_apply(c->ctl->pd, change, control_done, p);
}

static void
client_status(struct control_client *c)
{
	struct proxyd *pd = c->ctl->pd;
	char buf[1024];
	struct ctl_line l;

	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "pid", "%d", (int)getpid());
	ctl_put_kvf(&l, "uptime", "%lld",
	            (long long)(time(NULL) - c->ctl->started));
	ctl_put_kvf(&l, "rules", "%u", rulesvc_count(pd));
	ctl_put_kvf(&l, "connections", "%u", pd->n_conns);
	ctl_put_kvf(&l, "accepted", "%llu",
	            (unsigned long long)pd->stats.accepted);
	ctl_put_kvf(&l, "allowed", "%llu",
	            (unsigned long long)pd->stats.allowed);
	ctl_put_kvf(&l, "refused", "%llu",
	            (unsigned long long)pd->stats.refused);
	ctl_put_kvf(&l, "bytes_up", "%llu",
	            (unsigned long long)pd->stats.bytes_up);
	ctl_put_kvf(&l, "bytes_down", "%llu",
	            (unsigned long long)pd->stats.bytes_down);
	ctl_put_kv(&l, "default_action", action_name(pd->cfg.default_action));
	ctl_put_kvf(&l, "guarded", "%zu", pd->cfg.n_guard);
	ctl_put_kvf(&l, "clients", "%u", c->ctl->n_clients);
	ctl_put_kvf(&l, "agents", "%u", control_agents(c->ctl));
	ctl_put_kvf(&l, "prompts", "%u", broker_pending(pd));
	ctl_put_kvf(&l, "parked", "%u", broker_parked(pd));
	ctl_put_kv(&l, "admin", c->admin ? "yes" : "no");
	client_ok(c, &l);
}

/* RULE-ADD and RULE-EDIT: the fields as one rule. */
static void
client_rule(struct control_client *c, const struct ctl_req *req)
{
	struct rulesvc_change *change;
	char err[CTL_ERRLEN], *line = NULL;

	change = calloc(1, sizeof(*change));
	if (change == NULL || asprintf(&line, "rule %s", req->fields) == -1) {
		line = NULL;
		client_err(c, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (rule_parse_line(&change->rule, line, err, sizeof(err)) == -1) {
		client_err(c, CTL_E_INVALID, err);
		goto out;
	}
	if (change->rule.dest_kind == DEST_LIST && req->verb == CTL_RULE_ADD) {
		client_err(c, CTL_E_INVALID,
		           "dest: a list rule comes with its names: send it "
		           "with IMPORT (tollgate rules import)");
		goto out;
	}
	/* What the store keeps or sets itself is not the client's to say. */
	change->rule.hits = 0;
	change->rule.last_hit = 0;
	change->rule.created = 0;
	change->rule.updated = 0;
	if (req->verb == CTL_RULE_ADD) {
		change->op = RULESVC_ADD;
		change->rule.id = 0;
	} else {
		change->op = RULESVC_EDIT;
		change->id = req->id;
		change->rule.id = req->id;
	}
	client_apply(c, change, req->verb, 0, 0);
out:
	free(line);
	free(change);
}

static void
client_simple(struct control_client *c, const struct ctl_req *req,
              enum rulesvc_op op)
{
	struct rulesvc_change change;

	memset(&change, 0, sizeof(change));
	change.op = op;
	change.id = req->id;
	client_apply(c, &change, req->verb, 0, 0);
}

/* A pending prompt, as SUBSCRIBE sends it after its OK. */
static void
client_emit(void *arg, const struct ctl_prompt *p)
{
	int n = prompt_line(p);

	if (n > 0)
		client_send(arg, prompt_buf, (size_t)n);
}

/* PROMPTS' lines, made before its OK line, which counts them. */
struct prompt_lines {
	struct evbuffer *buf;
	unsigned n;
};

static void
lines_emit(void *arg, const struct ctl_prompt *p)
{
	struct prompt_lines *pl = arg;
	int n = prompt_line(p);

	if (n > 0 && evbuffer_add(pl->buf, prompt_buf, (size_t)n) == 0)
		pl->n++;
}

/* Whether pid runs the executable file (dev, ino). */
static bool
pid_runs(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct stat g;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return pid > 0 && stat(path, &g) == 0 && g.st_dev == dev &&
	       g.st_ino == ino;
}

/*
 * Whether the peer is the installed tollgate-prompt.  0 with its file's
 * device and inode in *st, or -1 + err for the ERR line.
 *
 * Installed as it should be, prompt_program is setgid to a group of its
 * own (make install: _tollgate-prompt), and the peer's gid as the kernel
 * recorded it at connect() must be that group: no other program can
 * connect with it, and a setgid process can be neither traced nor
 * LD_PRELOADed by its user.  Besides, the connecting process and every
 * writer so far (client_writer()) run that file.  A prompt_program that
 * is not setgid (a build run in place) has only the second check, which a
 * determined program of the same user can get around (docs/control.md).
 */
static int
client_is_prompt_program(const struct control_client *c, struct stat *st,
                         char *err, size_t errlen)
{
	const char *want = c->ctl->pd->cfg.prompt_program;
	char path[64], exe[512];
	struct stat pst;
	bool setgid;
	ssize_t n;

	if (stat(want, st) == -1) {
		snprintf(err, errlen,
		         "SUBSCRIBE: prompt_program %.200s: %s; no agent can "
		         "subscribe",
		         want, strerror(errno));
		return -1;
	}
	setgid = (st->st_mode & S_ISGID) != 0;
	if (setgid && c->gid != st->st_gid) {
		snprintf(
		    err, errlen,
		    "SUBSCRIBE is for the installed tollgate-prompt "
		    "(%.200s, setgid to gid %u); you connected with gid %u",
		    want, (unsigned)st->st_gid, (unsigned)c->gid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)c->writer);
	if (!c->foreign && c->writer_agent &&
	    pid_runs(c->pid, st->st_dev, st->st_ino) &&
	    (setgid || (stat(path, &pst) == 0 && pst.st_uid == c->uid)))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c->writer);
	n = c->writer > 0 ? readlink(path, exe, sizeof(exe) - 1) : -1;
	exe[n > 0 ? n : 0] = '\0';
	if (c->foreign && c->writer_agent)
		snprintf(err, errlen,
		         "SUBSCRIBE: other programs wrote on this connection "
		         "before; only the installed tollgate-prompt (%.200s) "
		         "may subscribe",
		         want);
	else
		snprintf(err, errlen,
		         "SUBSCRIBE is for the installed tollgate-prompt "
		         "(%.200s); you are %.200s",
		         want, n > 0 ? exe : "a program tollgated cannot see");
	return -1;
}

static bool
uid_is_guarded(const struct config *cfg, uid_t uid)
{
	size_t i;

	for (i = 0; i < cfg->n_guard; i++)
		if (cfg->guard_uids[i] == uid)
			return true;
	return false;
}

static void
client_subscribe(struct control_client *c)
{
	struct proxyd *pd = c->ctl->pd;
	char err[CTL_ERRLEN], buf[256], d[64];
	struct ctl_line l;
	struct stat st;

	client_desc(c, d, sizeof(d));
	if (c->agent) {
		client_err(c, CTL_E_INVALID, "already subscribed");
		return;
	}
	if (client_is_prompt_program(c, &st, err, sizeof(err)) == -1 ||
	    (!c->admin && !uid_is_guarded(&pd->cfg, c->uid) &&
	     snprintf(err, sizeof(err),
	              "SUBSCRIBE: uid %u is not guarded (guard_users) and "
	              "not an admin: there is nothing to ask it",
	              (unsigned)c->uid) > 0)) {
		log_info("control: %s: SUBSCRIBE refused: %s", d, err);
		client_err(c, CTL_E_PERM, err);
		return;
	}
	c->agent = true;
	c->agent_dev = st.st_dev;
	c->agent_ino = st.st_ino;
	client_set_timeouts(c, true);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "agent", "%llu", (unsigned long long)c->id);
	ctl_put_kvf(&l, "uid", "%u", (unsigned)c->uid);
	ctl_put_kvf(&l, "timeout", "%u", pd->cfg.prompt_timeout_ms / 1000);
	ctl_put_kv(&l, "default_action", action_name(pd->cfg.default_action));
	client_ok(c, &l);
	log_info("control: %s: prompt agent subscribed%s", d,
	         c->admin ? " (sees every prompt)" : "");
	/* What is pending already, after the OK. */
	broker_list(pd, c->admin ? -1 : (int64_t)c->uid, client_emit, c);
}

static void
client_prompts(struct control_client *c)
{
	struct proxyd *pd = c->ctl->pd;
	int64_t uid = c->admin ? -1 : (int64_t)c->uid;
	char buf[64];
	struct ctl_line l;

	struct prompt_lines pl = {evbuffer_new(), 0};

	if (pl.buf == NULL) {
		client_err(c, CTL_E_INTERNAL, "out of memory");
		return;
	}
	broker_list(pd, uid, lines_emit, &pl);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "count", "%u", pl.n);
	client_ok(c, &l);
	if (bufferevent_write_buffer(c->bev, pl.buf) == -1)
		client_fail(c, CTL_E_INTERNAL, "cannot queue the prompts");
	evbuffer_free(pl.buf);
}

static void
control_answered(void *arg, const struct broker_result *r)
{
	struct control_pending *p = arg;
	char buf[256];
	struct ctl_line l;

	log_info("control: client %llu (uid %u, pid %d): ANSWER %llu: %s%s",
	         (unsigned long long)p->client_id, (unsigned)p->uid,
	         (int)p->pid, (unsigned long long)r->id,
	         r->ok ? "done" : "failed: ", r->ok ? "" : r->err);
	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "OK");
	ctl_put_kvf(&l, "id", "%llu", (unsigned long long)r->id);
	ctl_put_kv(&l, "verdict", action_name((enum action)r->verdict));
	ctl_put_kvf(&l, "connections", "%u", r->connections);
	ctl_put_kvf(&l, "rule", "%lld", (long long)r->rule_id);
	pending_reply(p, r->ok ? &l : NULL, control_code(r->code), r->err);
}

static void
client_answer(struct control_client *c, const struct ctl_req *req)
{
	struct control_pending *p;

	if (!c->admin && !c->agent) {
		client_err(c, CTL_E_PERM,
		           "ANSWER needs root, admin_group, or tollgate-prompt "
		           "subscribed as the prompt's user");
		return;
	}
	p = client_wait(c, CTL_ANSWER, req->id);
	if (p == NULL)
		return;
	/* done() may run before this returns; p is not ours after it. */
	broker_answer(c->ctl->pd, (uint64_t)req->id,
	              c->admin ? -1 : (int64_t)c->uid, c->uid, req->verdict,
	              req->scope, req->duration, control_answered, p);
}

static void
client_import_end(struct control_client *c)
{
	struct rulesvc_change change;
	struct rules_set *set = NULL;
	char err[CTL_ERRLEN], buf[128];
	size_t n_rules = 0, n_names = 0;
	struct ctl_line l;

	c->state = CLIENT_READY;
	if (c->import_err[0] != '\0') {
		client_err(c, CTL_E_INVALID, c->import_err);
		goto out;
	}
	set = malloc(sizeof(*set));
	if (set == NULL) {
		client_err(c, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	rules_set_init(set);
	if (export_reader_finish(c->import, set, &n_rules, &n_names, err,
	                         sizeof(err)) == -1) {
		client_err(c, CTL_E_INVALID, err);
		goto out;
	}
	if (n_rules == 0) {
		ctl_line_init(&l, buf, sizeof(buf));
		ctl_put_word(&l, "OK");
		ctl_put_kv(&l, "rules", "0");
		ctl_put_kv(&l, "names", "0");
		client_ok(c, &l);
		goto out;
	}
	memset(&change, 0, sizeof(change));
	change.op = RULESVC_IMPORT;
	change.import = set; /* rulesvc's now */
	set = NULL;
	client_apply(c, &change, CTL_IMPORT, n_rules, n_names);
out:
	if (set != NULL) {
		rules_set_free(set);
		free(set);
	}
	export_reader_free(c->import);
	c->import = NULL;
}

static void
client_import_line(struct control_client *c, const char *line, size_t len)
{
	char err[CTL_ERRLEN];

	c->import_bytes += len + 1;
	if (c->import_bytes > CTL_IMPORT_BYTES_MAX) {
		snprintf(err, sizeof(err), "IMPORT of more than %lu bytes",
		         (unsigned long)CTL_IMPORT_BYTES_MAX);
		client_fail(c, CTL_E_TOOLONG, err);
		return;
	}
	if (c->import_err[0] == '\0' &&
	    export_reader_line(c->import, line, len, err, sizeof(err)) == -1)
		snprintf(c->import_err, sizeof(c->import_err), "import %s",
		         err);
	if (--c->import_left == 0)
		client_import_end(c);
}

static void
client_request(struct control_client *c, const char *line, size_t len)
{
	struct ctl_req req;
	enum ctl_code code;
	char err[CTL_ERRLEN], d[64];

	if (ctl_req_parse(line, len, &req, &code, err, sizeof(err)) == -1) {
		client_fail(c, code, err);
		return;
	}
	log_debug("control: %s: %s", client_desc(c, d, sizeof(d)),
	          ctl_verb_name(req.verb));
	if (ctl_verb_needs_admin(req.verb) && !c->admin) {
		if (c->ctl->pd->cfg.admin_group[0] != '\0')
			snprintf(err, sizeof(err),
			         "%s needs root or group %s (you are uid %u)",
			         ctl_verb_name(req.verb),
			         c->ctl->pd->cfg.admin_group, (unsigned)c->uid);
		else
			snprintf(err, sizeof(err),
			         "%s needs root (you are uid %u; admin_group "
			         "is not set)",
			         ctl_verb_name(req.verb), (unsigned)c->uid);
		/* The lines after an IMPORT are not read: close instead. */
		if (req.verb == CTL_IMPORT)
			client_fail(c, CTL_E_PERM, err);
		else {
			log_info("control: %s: %s refused: not root nor in "
			         "admin_group",
			         d, ctl_verb_name(req.verb));
			client_err(c, CTL_E_PERM, err);
		}
		ctl_req_free(&req);
		return;
	}
	switch (req.verb) {
	case CTL_STATUS:
		client_status(c);
		break;
	case CTL_RULE_ADD:
	case CTL_RULE_EDIT:
		client_rule(c, &req);
		break;
	case CTL_RULE_DEL:
		client_simple(c, &req, RULESVC_DEL);
		break;
	case CTL_RULE_ENABLE:
		client_simple(c, &req, RULESVC_ENABLE);
		break;
	case CTL_RULE_DISABLE:
		client_simple(c, &req, RULESVC_DISABLE);
		break;
	case CTL_RELOAD:
		client_simple(c, &req, RULESVC_RELOAD);
		break;
	case CTL_SUBSCRIBE:
		client_subscribe(c);
		break;
	case CTL_PROMPTS:
		client_prompts(c);
		break;
	case CTL_ANSWER:
		client_answer(c, &req);
		break;
	case CTL_IMPORT:
		c->import = export_reader_new();
		if (c->import == NULL) {
			client_fail(c, CTL_E_INTERNAL, "out of memory");
			break;
		}
		c->import_left = req.n;
		c->import_bytes = 0;
		c->import_err[0] = '\0';
		c->state = CLIENT_IMPORT;
		if (req.n == 0)
			client_import_end(c);
		break;
	}
	ctl_req_free(&req);
}

/*
 * A client that has said all it will say (it shut its side down, as socat
 * does at the end of its input) still gets every reply; then it is closed.
 */
static void
client_settle(struct control_client *c)
{
	char err[CTL_ERRLEN];

	if (!c->eof ||
	    (c->state != CLIENT_READY && c->state != CLIENT_IMPORT) ||
	    evbuffer_get_length(c->in) > 0)
		return;
	if (c->state == CLIENT_IMPORT) {
		snprintf(
		    err, sizeof(err),
		    "IMPORT cut short: %lu lines missing; nothing imported",
		    c->import_left);
		client_fail(c, CTL_E_INVALID, err);
		return;
	}
	c->state = CLIENT_CLOSING;
	event_active(c->more, EV_TIMEOUT, 1);
}

static void client_process_lines(struct control_client *c);

/* Take what lines can be taken now; then read on if reading had paused
 * (whatever stopped the taking: a reply to wait for, unread replies). */
static void
client_process(struct control_client *c)
{
	client_process_lines(c);
	client_resume(c);
}

static void
client_process_lines(struct control_client *c)
{
	struct evbuffer *in = c->in;
	char *line, err[CTL_ERRLEN];
	size_t len;
	unsigned i;

	for (i = 0; i < CONTROL_LINES_PER_TURN; i++) {
		if (c->state != CLIENT_READY && c->state != CLIENT_IMPORT)
			return;
		/* A client that asks without reading the answers waits
		 * until it has read them (client_write_cb). */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CONTROL_OUTPUT_MAX)
			return;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL && c->eof &&
		    (len = evbuffer_get_length(in)) > 0 &&
		    len <= CTL_LINE_MAX + 1) {
			/* The client's last words, without a "\n". */
			line = malloc(len + 1);
			if (line == NULL ||
			    evbuffer_remove(in, line, len) != (int)len) {
				free(line);
				client_fail(c, CTL_E_INTERNAL, "out of memory");
				return;
			}
			line[len] = '\0';
		}
		if (line == NULL) {
			/* No "\n" yet: a line over the limit will not get
			 * one in time. */
			if (evbuffer_get_length(in) > CTL_LINE_MAX + 1) {
				snprintf(err, sizeof(err),
				         "line over the %d-byte limit",
				         CTL_LINE_MAX);
				client_fail(c, CTL_E_TOOLONG, err);
			} else
				client_settle(c);
			return;
		}
		if (len > CTL_LINE_MAX + 1) {
			snprintf(err, sizeof(err),
			         "line of %zu bytes, over the %d-byte limit",
			         len, CTL_LINE_MAX);
			client_fail(c, CTL_E_TOOLONG, err);
		} else if (c->state == CLIENT_IMPORT)
			client_import_line(c, line, len);
		else
			client_request(c, line, len);
		free(line);
	}
	if (evbuffer_get_length(in) > 0)
		event_active(c->more, EV_TIMEOUT, 1);
}

static void
client_more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *c = arg;

	if (c->state == CLIENT_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			client_free(c);
		return;
	}
	client_process(c);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;

	/* Called when the output has drained. */
	if (c->state == CLIENT_CLOSING)
		client_free(c);
	else if (evbuffer_get_length(c->in) > 0)
		client_process(c);
}

/* The client is gone (error, timeout) or must go: say so and free it. */
static void
client_drop(struct control_client *c, const char *why)
{
	char d[64];

	client_desc(c, d, sizeof(d));
	log_info("control: %s: %s; closing", d, why);
	if (c->state == CLIENT_IMPORT)
		log_info("control: %s: left in the middle of an IMPORT (%lu "
		         "lines missing); nothing imported",
		         d, c->import_left);
	client_free(c);
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *c = arg;

	/* Only writing is the bufferevent's. */
	if (what & BEV_EVENT_TIMEOUT)
		client_drop(c, "write timeout");
	else
		client_drop(c, what & BEV_EVENT_ERROR
		                   ? strerror(EVUTIL_SOCKET_ERROR())
		                   : "closed");
}

/*
 * Bytes from writer pid arrived.  False when they must not be taken: the
 * connection is an agent's and pid is not the tollgate-prompt it
 * subscribed as.
 */
static bool
client_writer(struct control_client *c, pid_t pid)
{
	struct stat w;

	if (pid != c->writer || pid == 0) {
		c->writer = pid;
		if (c->agent)
			c->writer_agent =
			    pid_runs(pid, c->agent_dev, c->agent_ino);
		else
			c->writer_agent =
			    stat(c->ctl->pd->cfg.prompt_program, &w) == 0 &&
			    pid_runs(pid, w.st_dev, w.st_ino);
	}
	if (!c->writer_agent)
		c->foreign = true;
	return !c->agent || c->writer_agent;
}

#define CONTROL_READ_CHUNK 16384

/* Readable: take what came, with who wrote it; or idle too long. */
static void
client_recv_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *c = arg;
	char buf[CONTROL_READ_CHUNK], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg;
	struct cmsghdr *cm;
	struct ucred cred;
	char why[128];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		client_drop(c, "idle timeout");
		return;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_drop(c, strerror(errno));
		return;
	}
	if (n == 0) {
		/* Answer what was sent (client_process() takes a last line
		 * without its "\n" too), then close. */
		log_debug("control: client %llu sends no more",
		          (unsigned long long)c->id);
		c->eof = true;
		event_del(c->rev);
		if (c->state == CLIENT_READY || c->state == CLIENT_IMPORT)
			client_process(c);
		return;
	}
	memset(&cred, 0, sizeof(cred));
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(cred)))
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
	if (!client_writer(c, cred.pid)) {
		snprintf(why, sizeof(why),
		         "pid %d, not tollgate-prompt, wrote on a prompt "
		         "agent's connection",
		         (int)cred.pid);
		client_drop(c, why);
		return;
	}
	if (evbuffer_add(c->in, buf, (size_t)n) == -1) {
		client_drop(c, "out of memory");
		return;
	}
	/* A line longer than the limit is not read further. */
	if (evbuffer_get_length(c->in) > CTL_LINE_MAX + 2) {
		c->paused = true;
		event_del(c->rev);
	}
	client_process(c);
}

/* After lines were taken: read again if reading had paused. */
static void
client_resume(struct control_client *c)
{
	if (!c->paused || c->eof || c->state == CLIENT_CLOSING ||
	    evbuffer_get_length(c->in) > CTL_LINE_MAX + 2)
		return;
	c->paused = false;
	client_set_timeouts(c, c->idle_counts);
}

/* The peer's uid, gid, pid and groups; whether it may change rules. */
static int
client_identify(struct control *ctl, struct control_client *c, int fd)
{
	const struct config *cfg = &ctl->pd->cfg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t small[64], *groups = small;
	size_t i, n;
	int rc = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: getsockopt(SO_PEERCRED): %s",
		         strerror(errno));
		return -1;
	}
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->admin = cred.uid == 0;
	if (c->admin || cfg->admin_group[0] == '\0')
		return 0;
	if (cred.gid == cfg->admin_gid) {
		c->admin = true;
		return 0;
	}
	len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE ||
		    len > CONTROL_GROUPS_MAX * sizeof(gid_t)) {
			log_warn("control: getsockopt(SO_PEERGROUPS): %s",
			         strerror(errno));
			return -1;
		}
		groups = malloc(len);
		if (groups == NULL) {
			log_warn("control: malloc: %s", strerror(errno));
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    -1) {
			log_warn("control: getsockopt(SO_PEERGROUPS): %s",
			         strerror(errno));
			goto out;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n; i++)
		if (groups[i] == cfg->admin_gid)
			c->admin = true;
	rc = 0;
out:
	if (groups != small)
		free(groups);
	return rc;
}

/* Tell a client we cannot take it, without waiting for it. */
static void
control_turn_away(int fd, const char *why)
{
	char buf[CONTROL_REPLY_MAX];
	size_t n;

	n = ctl_fmt_err(buf, sizeof(buf), CTL_E_INTERNAL, "%s", why);
	if (send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("control: telling a client \"%s\": %s", why,
		          strerror(errno));
	close(fd);
}

static void
control_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
                  struct sockaddr *sa, int salen, void *arg)
{
	struct control *ctl = arg;
	struct control_client *c;
	char d[64];
	int one = 1;

	if (ctl->n_clients >= CONTROL_MAX_CLIENTS) {
		log_warn("control: %u clients already; turning one away",
		         ctl->n_clients);
		control_turn_away(fd, "too many control clients; try again");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_error("control: calloc: %s", strerror(errno));
		control_turn_away(fd, "out of memory");
		return;
	}
	if (client_identify(ctl, c, fd) == -1) {
		free(c);
		control_turn_away(fd, "cannot tell who you are");
		return;
	}
	c->ctl = ctl;
	c->id = ++ctl->next_id;
	c->writer = -1;
	/* Every read then says who wrote it; also what was sent before. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		log_error("control: setsockopt(SO_PASSCRED): %s",
		          strerror(errno));
		free(c);
		control_turn_away(fd, "cannot tell who writes");
		return;
	}
	c->bev =
	    bufferevent_socket_new(ctl->pd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->rev = event_new(ctl->pd->base, fd, EV_READ | EV_PERSIST,
	                   client_recv_cb, c);
	c->in = evbuffer_new();
	c->more = event_new(ctl->pd->base, -1, 0, client_more_cb, c);
	if (c->bev == NULL || c->rev == NULL || c->in == NULL ||
	    c->more == NULL) {
		log_error("control: cannot set up a client's events");
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->in != NULL)
			evbuffer_free(c->in);
		if (c->more != NULL)
			event_free(c->more);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->n_clients++;
	bufferevent_setcb(c->bev, NULL, client_write_cb, client_event_cb, c);
	client_set_timeouts(c, true);
	if (bufferevent_enable(c->bev, EV_WRITE) == -1) {
		log_error("control: cannot write to a client");
		client_free(c);
		return;
	}
	log_debug("control: %s connected%s", client_desc(c, d, sizeof(d)),
	          c->admin ? " (may change rules)" : "");
}

static void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	evconnlistener_enable(ctl->evl);
}

static void
control_error_cb(struct evconnlistener *evl, void *arg)
{
	struct control *ctl = arg;
	struct timeval tv = {CONTROL_ACCEPT_BACKOFF_MS / 1000,
	                     (CONTROL_ACCEPT_BACKOFF_MS % 1000) * 1000L};
	int err = EVUTIL_SOCKET_ERROR();

	log_warn("control: accept on %s: %s; pausing %d ms", ctl->path,
	         strerror(err), CONTROL_ACCEPT_BACKOFF_MS);
	evconnlistener_disable(evl);
	if (evtimer_add(ctl->resume, &tv) == -1)
		log_error("control: cannot arm the accept timer; the control "
		          "socket stays paused");
}

/* mkdir -p of path's directory; only a directory made here is chowned. */
static int
control_mkdir(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0; /* in "/" */
	*p = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, CONTROL_DIR_MODE) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			         strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, CONTROL_DIR_MODE) == -1) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Exactly CONTROL_DIR_MODE whatever the umask; and ours to clean. */
	if (chmod(dir, CONTROL_DIR_MODE) == -1 || chown(dir, uid, gid) == -1) {
		snprintf(err, errlen, "setting up %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove a socket file nothing answers on; refuse anything else. */
static int
control_clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "%s exists and is not a socket (remove it, or set "
		         "control_socket)",
		         sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		snprintf(err, errlen,
		         "another tollgated answers on %s (stop it first)",
		         sun->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "probing %s: %s", sun->sun_path,
		         strerror(errno));
		return -1;
	}
	if (unlink(sun->sun_path) == -1) {
		snprintf(err, errlen, "removing the stale socket %s: %s",
		         sun->sun_path, strerror(errno));
		return -1;
	}
	log_info("control: replaced the stale socket %s", sun->sun_path);
	return 0;
}

struct control *
control_open(struct proxyd *pd, char *err, size_t errlen)
{
	struct control *ctl;
	struct sockaddr_un sun;
	struct passwd *pw;
	const char *path = pd->cfg.control_socket;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	ctl->pd = pd;
	ctl->fd = -1;
	TAILQ_INIT(&ctl->clients);
	ctl->started = time(NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control_socket %s is too long", path);
		goto fail;
	}
	memcpy(sun.sun_path, path, strlen(path));
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	pw = getpwnam(pd->cfg.user);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s does not exist", pd->cfg.user);
		goto fail;
	}
	if (control_mkdir(path, pw->pw_uid, pw->pw_gid, err, errlen) == -1 ||
	    control_clear_stale(&sun, err, errlen) == -1)
		goto fail;
	ctl->fd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		goto fail;
	}
	/* Accepted sockets inherit it: every read says who wrote. */
	if (setsockopt(ctl->fd, SOL_SOCKET, SO_PASSCRED, &(int){1},
	               sizeof(int)) == -1) {
		snprintf(err, errlen, "setsockopt(SO_PASSCRED): %s",
		         strerror(errno));
		goto fail;
	}
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	/* fchmod() does not reach a socket's file; until this chmod the
	 * file is only narrower than it will be. */
	if (chmod(path, CONTROL_SOCK_MODE) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	if (listen(ctl->fd, CONTROL_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return ctl;
fail_unlink:
	if (unlink(path) == -1)
		log_warn("control: removing %s: %s", path, strerror(errno));
fail:
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl);
	return NULL;
}

int
control_start(struct control *ctl)
{
	ctl->resume = evtimer_new(ctl->pd->base, control_resume_cb, ctl);
	if (ctl->resume == NULL) {
		log_error("control: cannot make the accept timer");
		return -1;
	}
	/* Backlog 0: listen() was called by control_open(). */
	ctl->evl = evconnlistener_new(
	    ctl->pd->base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, ctl->fd);
	if (ctl->evl == NULL) {
		log_error("control: cannot listen on %s", ctl->path);
		return -1;
	}
	ctl->fd = -1; /* evl's now */
	evconnlistener_set_error_cb(ctl->evl, control_error_cb);
	log_info("control: listening on %s", ctl->path);
	return 0;
}

void
control_close(struct control *ctl)
{
	struct control_client *c;

	if (ctl == NULL)
		return;
	ctl->closing = true;
	ctl->pd->control = NULL;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		client_free(c);
	if (ctl->evl != NULL)
		evconnlistener_free(ctl->evl);
	if (ctl->fd != -1)
		close(ctl->fd);
	if (ctl->resume != NULL)
		event_free(ctl->resume);
	if (unlink(ctl->path) == -1) {
		if (errno == EACCES || errno == EPERM)
			log_info("control: %s stays (its directory is not "
			         "writable by %s); the next start replaces it",
			         ctl->path, ctl->pd->cfg.user);
		else if (errno != ENOENT)
			log_warn("control: removing %s: %s", ctl->path,
			         strerror(errno));
	}
	free(ctl);
}

bool
control_has_agent(struct control *ctl, bool has_uid, uid_t uid)
{
	struct control_client *c;

	if (ctl == NULL)
		return false;
	TAILQ_FOREACH(c, &ctl->clients, entry)
	if (agent_sees(c, has_uid, uid))
		return true;
	return false;
}

void
control_notify(struct control *ctl, bool has_uid, uid_t uid, const char *line,
               size_t len)
{
	struct control_client *c;
	char d[64];

	if (ctl == NULL)
		return;
	TAILQ_FOREACH(c, &ctl->clients, entry)
	{
		if (!agent_sees(c, has_uid, uid))
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    CONTROL_OUTPUT_MAX) {
			/* Closed on the next turn, not here: its leaving
			 * may end prompts, which notifies again. */
			log_warn("control: %s: a prompt agent that does not "
			         "read its prompts; closing",
			         client_desc(c, d, sizeof(d)));
			c->state = CLIENT_CLOSING;
			event_del(c->rev);
			event_active(c->more, EV_TIMEOUT, 1);
			continue;
		}
		client_send(c, line, len);
	}
}

/* The broker's sink: a new prompt goes to the agents that may see it. */
static void
control_announce(void *arg, const struct ctl_prompt *p, bool has_uid)
{
	int n = prompt_line(p);

	if (n > 0)
		control_notify(arg, has_uid, p->uid, prompt_buf, (size_t)n);
}

/* The broker's sink: a prompt ended; its WITHDRAW line. */
static void
control_withdraw(void *arg, const struct ctl_prompt *p, bool has_uid,
                 const char *why, int verdict)
{
	struct ctl_line l;
	char buf[256];
	int len;

	ctl_line_init(&l, buf, sizeof(buf));
	ctl_put_word(&l, "WITHDRAW");
	ctl_put_kvf(&l, "id", "%llu", (unsigned long long)p->id);
	ctl_put_kv(&l, "reason", why);
	if (verdict != -1)
		ctl_put_kv(&l, "verdict", action_name((enum action)verdict));
	if ((len = ctl_line_end(&l)) > 0)
		control_notify(arg, has_uid, p->uid, buf, (size_t)len);
}

static bool
control_sink_has_agent(void *arg, bool has_uid, uid_t uid)
{
	return control_has_agent(arg, has_uid, uid);
}

void
control_broker_sink(struct control *ctl, struct broker_sink *sink)
{
	sink->announce = control_announce;
	sink->withdraw = control_withdraw;
	sink->has_agent = control_sink_has_agent;
	sink->arg = ctl;
}
