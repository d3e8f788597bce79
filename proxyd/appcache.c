/*
 * appcache.c - the event loop's memory of recent connections' processes;
 * see appcache.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "proxyd/appcache.h"

struct appcache_user {
	bool used;
	uid_t uid;
	char name[sizeof(((struct app *)0)->user)];
};

struct appcache {
	struct appcache_ent ent[APPCACHE_SIZE];
	uint64_t clock; /* last use's counter */
	struct appcache_stats st;
	struct appcache_user users[APPCACHE_USERS];
	size_t next_user; /* the slot a new uid takes */
};

uint64_t
appcache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

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
                    uint64_t now_ms)
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

int
appcache_get(struct appcache *ac, struct connbpf *cb,
             const struct connbpf_rec *rec, struct app *app)
{
	struct appcache_ent *e = NULL;
	uint64_t exec_ns = 0;
	int exec_rc;
	size_t i;

	for (i = 0; i < APPCACHE_SIZE; i++)
		if (ac->ent[i].used && ac->ent[i].tgid == rec->tgid) {
			e = &ac->ent[i];
			break;
		}
	if (e == NULL)
		return 0;
	if (!appcache_fits_cheap(e, rec, appcache_now_ms()))
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
	struct appcache_ent *e = NULL;
	size_t i;

	if (id->pidfd == -1)
		return;
	if (!app->known || !app->uid_known) {
		close(id->pidfd);
		return;
	}
	/* Its own entry, else a free one, else the least recently used. */
	for (i = 0; i < APPCACHE_SIZE; i++) {
		struct appcache_ent *x = &ac->ent[i];

		if (x->used && x->tgid == id->tgid) {
			e = x;
			break;
		}
		if (e == NULL || (e->used && (!x->used || x->last < e->last)))
			e = x;
	}
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
	struct appcache_user *u = NULL;
	size_t i;

	if (user[0] == '\0')
		return;
	for (i = 0; i < APPCACHE_USERS; i++)
		if (ac->users[i].used && ac->users[i].uid == uid) {
			u = &ac->users[i];
			break;
		}
	if (u == NULL) {
		u = &ac->users[ac->next_user];
		ac->next_user = (ac->next_user + 1) % APPCACHE_USERS;
	}
	u->used = true;
	u->uid = uid;
	snprintf(u->name, sizeof(u->name), "%s", user);
}

int
appcache_user(const struct appcache *ac, uid_t uid, char *user, size_t len)
{
	size_t i;

	for (i = 0; i < APPCACHE_USERS; i++)
		if (ac->users[i].used && ac->users[i].uid == uid) {
			snprintf(user, len, "%s", ac->users[i].name);
			return 1;
		}
	snprintf(user, len, "%u", (unsigned)uid);
	return 0;
}
