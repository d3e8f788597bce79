/*
 * appcache.c - the event loop's memory of recent connections' processes;
 * see appcache.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "proxyd/appcache.h"
#include "proxyd/usernames.h"

/* A name asked of the worker (appcache_ask_user()). */
struct appcache_ask {
	struct worker_job job;
	struct appcache *ac;
	bool busy; /* submitted, its done() not called yet */
	uid_t uid;
	char name[sizeof(((struct app *)0)->user)]; /* the worker's answer */
};

struct appcache {
	struct appcache_ent ent[APPCACHE_SIZE];
	uint64_t clock; /* last use's counter */
	struct appcache_stats st;
	struct username users[APPCACHE_USERS];
	struct appcache_ask asks[APPCACHE_USERS];
};

static void
appcache_drop(struct appcache_ent *e)
{
	if (e->pidfd != -1)
		close(e->pidfd);
	e->pidfd = -1;
	e->used = false;
}

struct appcache *
appcache_new(void)
{
	struct appcache *ac;
	size_t i;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	for (i = 0; i < APPCACHE_SIZE; i++)
		ac->ent[i].pidfd = -1;
	return ac;
}

void
appcache_free(struct appcache *ac)
{
	size_t i;

	if (ac == NULL)
		return;
	for (i = 0; i < APPCACHE_SIZE; i++)
		if (ac->ent[i].used)
			appcache_drop(&ac->ent[i]);
	free(ac);
}

bool
appcache_fits_cheap(const struct appcache_ent *e, const struct connbpf_rec *rec,
                    int64_t now_ms)
{
	return e->used && e->app.known && e->tgid == rec->tgid &&
	       e->app.uid == rec->sk_uid && now_ms >= e->kept_ms &&
	       now_ms - e->kept_ms < APPCACHE_TTL_MS &&
	       e->start_ns + e->tick_ns <= rec->boot_ns;
}

bool
appcache_fits_process(const struct appcache_ent *e,
                      const struct connbpf_rec *rec, int exec_rc,
                      uint64_t exec_ns, bool exited)
{
	if (exited || exec_rc == -1)
		return false;
	if (exec_rc == 0)
		/* None recorded: none since it was kept, unless the map
		 * forgot the one it had. */
		return e->exec_ns == 0;
	/* The same exec as when kept, and the connect came after it. */
	return exec_ns == e->exec_ns && exec_ns <= rec->boot_ns;
}

/* Whether the process of pidfd has exited (or cannot be asked). */
static bool
appcache_exited(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		log_warn("appcache: poll of a pidfd: %s; its entry is dropped",
		         strerror(errno));
	return n != 0;
}

/*
 * The entry of tgid; else NULL, and *slot (when asked for) where one
 * would go: a free entry, else the least recently used.
 */
static struct appcache_ent *
appcache_find(struct appcache *ac, pid_t tgid, struct appcache_ent **slot)
{
	struct appcache_ent *x, *lru = NULL;
	size_t i;

	for (i = 0; i < APPCACHE_SIZE; i++) {
		x = &ac->ent[i];
		if (x->used && x->tgid == tgid)
			return x;
		if (lru == NULL ||
		    (lru->used && (!x->used || x->last < lru->last)))
			lru = x;
	}
	if (slot != NULL)
		*slot = lru;
	return NULL;
}

int
appcache_get(struct appcache *ac, struct connbpf *cb,
             const struct connbpf_rec *rec, struct app *app)
{
	struct appcache_ent *e;
	uint64_t exec_ns = 0;
	int exec_rc;

	if ((e = appcache_find(ac, rec->tgid, NULL)) == NULL)
		return 0;
	if (!appcache_fits_cheap(e, rec, mono_ms()))
		goto stale;
	exec_rc = connbpf_exec_lookup(cb, rec->tgid, &exec_ns);
	if (!appcache_fits_process(e, rec, exec_rc, exec_ns,
	                           appcache_exited(e->pidfd)))
		goto stale;
	e->last = ++ac->clock;
	memcpy(app, &e->app, sizeof(*app));
	ac->st.hits++;
	return 1;

stale:
	ac->st.stale++;
	appcache_drop(e);
	return 0;
}

void
appcache_put(struct appcache *ac, const struct attr_ident *id,
             const struct app *app)
{
	struct appcache_ent *e, *slot = NULL;

	if (id->pidfd == -1)
		return;
	if (!app->known || !app->uid_known) {
		close(id->pidfd);
		return;
	}
	/* Its own entry, else a free one, else the least recently used. */
	if ((e = appcache_find(ac, id->tgid, &slot)) == NULL)
		e = slot;
	if (e->used)
		appcache_drop(e);
	e->used = true;
	e->tgid = id->tgid;
	e->pidfd = id->pidfd;
	e->start_ns = id->start_ns;
	e->tick_ns = id->tick_ns;
	e->exec_ns = id->exec_ns;
	e->kept_ms = id->read_ms;
	e->last = ++ac->clock;
	memcpy(&e->app, app, sizeof(*app));
}

void
appcache_stats(const struct appcache *ac, struct appcache_stats *st)
{
	if (ac == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = ac->st;
}

void
appcache_note_user(struct appcache *ac, uid_t uid, const char *user)
{
	if (user[0] != '\0')
		usernames_put(ac->users, APPCACHE_USERS, uid, user, mono_ms());
}

int
appcache_user(struct appcache *ac, struct worker *w, uid_t uid, char *user,
              size_t len)
{
	enum username_age age = usernames_lookup(ac->users, APPCACHE_USERS, uid,
	                                         mono_ms(), user, len);

	if (age != USERNAME_FRESH)
		appcache_ask_user(ac, w, uid);
	if (age != USERNAME_NONE)
		return 1;
	snprintf(user, len, "%u", (unsigned)uid);
	return 0;
}

static void
appcache_ask_run(struct worker_job *job, void *ctx)
{
	struct appcache_ask *q =
	    (struct appcache_ask *)((char *)job -
	                            offsetof(struct appcache_ask, job));

	if (ctx != NULL)
		attr_user_name(ctx, q->uid, q->name, sizeof(q->name));
	else
		q->name[0] = '\0';
}

static void
appcache_ask_done(struct worker_job *job)
{
	struct appcache_ask *q =
	    (struct appcache_ask *)((char *)job -
	                            offsetof(struct appcache_ask, job));

	q->busy = false;
	appcache_note_user(q->ac, q->uid, q->name);
}

void
appcache_ask_user(struct appcache *ac, struct worker *w, uid_t uid)
{
	struct appcache_ask *free_q = NULL;
	size_t i;

	for (i = 0; i < APPCACHE_USERS; i++) {
		if (ac->asks[i].busy && ac->asks[i].uid == uid)
			return;
		if (!ac->asks[i].busy && free_q == NULL)
			free_q = &ac->asks[i];
	}
	if (free_q == NULL || w == NULL)
		return;
	free_q->busy = true;
	free_q->ac = ac;
	free_q->uid = uid;
	free_q->job.run = appcache_ask_run;
	free_q->job.done = appcache_ask_done;
	worker_submit(w, &free_q->job);
}
