/*
 * subidwatch.c - read the subordinate id files again when they change;
 * see subidwatch.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include <event2/event.h>

#include "common/config.h"
#include "common/log.h"
#include "proxyd/subidwatch.h"
#include "redirect/redirect.h"

/* What a change to a name in a watched directory looks like. */
#define SUBIDWATCH_MASK                                                        \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)

/* One read of the inotify descriptor; events are small. */
#define SUBIDWATCH_BUF 4096

struct subidwatch {
	struct proxyd *pd;
	uint16_t nflog_group;
	int fd;
	struct event *ev;
	const char *paths[2]; /* subuid, subgid */
};

/* Whether a holds every range of b. */
static bool
ranges_cover(const struct subid_range *a, size_t na,
             const struct subid_range *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < nb; i++) {
		for (j = 0; j < na; j++)
			if (a[j].first == b[i].first &&
			    a[j].last == b[i].last && a[j].owner == b[i].owner)
				break;
		if (j == na)
			return false;
	}
	return true;
}

static bool
ranges_same(const struct subid_range *a, size_t na, const struct subid_range *b,
            size_t nb)
{
	return ranges_cover(a, na, b, nb) && ranges_cover(b, nb, a, na);
}

/* Log each range of from that to lacks, as verb ("added", "removed"). */
static void
log_diff(const char *what, const char *verb, const struct subid_range *from,
         size_t nfrom, const struct subid_range *to, size_t nto)
{
	size_t i;

	for (i = 0; i < nfrom; i++)
		if (!ranges_cover(to, nto, &from[i], 1))
			log_info("subordinate ids: %s %" PRIu32 "-%" PRIu32
			         " of uid %u %s",
			         what, from[i].first, from[i].last,
			         (unsigned)from[i].owner, verb);
}

int
subidwatch_check(struct subidwatch *w)
{
	struct config *now = &w->pd->cfg, *next;
	struct redirect_spec spec;
	char err[CONFIG_ERRLEN];
	int ret = -1;

	next = malloc(sizeof(*next));
	if (next == NULL) {
		log_error("subordinate ids: reading %s again: %s", w->paths[0],
		          strerror(errno));
		return -1;
	}
	*next = *now;
	if (config_load_subids(next, w->paths[0], w->paths[1], err,
	                       sizeof(err)) == -1) {
		log_error("subordinate ids: %s; the table is not changed, new "
		          "ranges are NOT guarded",
		          err);
		goto out;
	}
	if (ranges_same(now->guard_subuid, now->n_guard_subuid,
	                next->guard_subuid, next->n_guard_subuid) &&
	    ranges_same(now->guard_subgid, now->n_guard_subgid,
	                next->guard_subgid, next->n_guard_subgid)) {
		ret = 0;
		goto out;
	}
	redirect_spec_of(next, &spec);
	spec.nflog_group = w->nflog_group;
	if (redirect_install(&spec, err, sizeof(err)) == -1) {
		log_error("subordinate ids changed, but replacing the nftables "
		          "table failed: %s; the old table stays, new ranges "
		          "are NOT guarded",
		          err);
		goto out;
	}
	log_diff("uids", "added", next->guard_subuid, next->n_guard_subuid,
	         now->guard_subuid, now->n_guard_subuid);
	log_diff("uids", "removed", now->guard_subuid, now->n_guard_subuid,
	         next->guard_subuid, next->n_guard_subuid);
	log_diff("gids", "added", next->guard_subgid, next->n_guard_subgid,
	         now->guard_subgid, now->n_guard_subgid);
	log_diff("gids", "removed", now->guard_subgid, now->n_guard_subgid,
	         next->guard_subgid, next->n_guard_subgid);
	memcpy(now->guard_subuid, next->guard_subuid,
	       sizeof(now->guard_subuid));
	now->n_guard_subuid = next->n_guard_subuid;
	memcpy(now->guard_subgid, next->guard_subgid,
	       sizeof(now->guard_subgid));
	now->n_guard_subgid = next->n_guard_subgid;
	log_info("nftables: table inet %s replaced: %zu subordinate uid and "
	         "%zu gid ranges guarded",
	         REDIRECT_TABLE, now->n_guard_subuid, now->n_guard_subgid);
	ret = 1;
out:
	free(next);
	return ret;
}

/* Whether the event names one of the two files. */
static bool
names_ours(const struct subidwatch *w, const struct inotify_event *ev)
{
	const char *base;
	size_t i;

	if (ev->len == 0)
		return false;
	for (i = 0; i < 2; i++) {
		base = strrchr(w->paths[i], '/');
		base = base != NULL ? base + 1 : w->paths[i];
		if (strcmp(ev->name, base) == 0)
			return true;
	}
	return false;
}

static void
on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct subidwatch *w = arg;
	char buf[SUBIDWATCH_BUF]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool changed = false;
	ssize_t n, off;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("subordinate ids: reading inotify "
				         "events: %s",
				         strerror(errno));
			break;
		}
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		     off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
			    names_ours(w, ev))
				changed = true;
		}
	}
	if (changed)
		subidwatch_check(w);
}

/* Watch the directory holding path; 0 or -1 + err. */
static int
watch_dir(struct subidwatch *w, const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		snprintf(dir, sizeof(dir), "%s", slash == path ? "/" : ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (inotify_add_watch(w->fd, dir, SUBIDWATCH_MASK) == -1) {
		snprintf(err, errlen, "watching %s for changes of %s: %s", dir,
		         path, strerror(errno));
		return -1;
	}
	return 0;
}

struct subidwatch *
subidwatch_start(struct proxyd *pd, uint16_t nflog_group, char *err,
                 size_t errlen)
{
	struct subidwatch *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(err, errlen, "watching the subordinate ids: %s",
		         strerror(errno));
		return NULL;
	}
	w->fd = -1;
	w->pd = pd;
	w->nflog_group = nflog_group;
	w->paths[0] = CONFIG_SUBUID_PATH;
	w->paths[1] = CONFIG_SUBGID_PATH;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		snprintf(err, errlen, "inotify_init1: %s", strerror(errno));
		goto fail;
	}
	/* One watch serves both when they share a directory: the kernel
	 * returns the same descriptor. */
	if (watch_dir(w, w->paths[0], err, errlen) == -1 ||
	    watch_dir(w, w->paths[1], err, errlen) == -1)
		goto fail;
	w->ev = event_new(pd->base, w->fd, EV_READ | EV_PERSIST, on_inotify, w);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1) {
		snprintf(err, errlen,
		         "watching the subordinate ids: cannot "
		         "add the event");
		goto fail;
	}
	return w;
fail:
	subidwatch_free(w);
	return NULL;
}

void
subidwatch_free(struct subidwatch *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->fd != -1)
		close(w->fd);
	free(w);
}
