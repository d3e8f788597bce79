/*
 * rows.c - where the tollgate command reads rules and events from, and
 * the socket's side of reading them (RULES, EVENTS); see rows.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/rows.h"
#include "common/ctl.h"
#include "common/ctl_client.h"
#include "common/ctl_rows.h"

enum cli_source
cli_source(const struct config *cfg)
{
	if (access(cfg->database, R_OK) == 0)
		return CLI_SOURCE_DB;
	if (errno == ENOENT)
		return CLI_SOURCE_MISSING;
	/* root reads what it finds (and says why it cannot). */
	return geteuid() == 0 ? CLI_SOURCE_DB : CLI_SOURCE_SOCKET;
}

/*
 * Connect to tollgated for rows the database would not give us: -1 + err
 * saying both why the database was not read and why tollgated cannot
 * answer.
 */
static int
rows_connect(const struct config *cfg, char *err, size_t errlen)
{
	char why[CTL_ERRLEN];
	int fd;

	fd = ctl_connect(cfg->control_socket, why, sizeof(why));
	if (fd >= 0)
		return fd;
	snprintf(err, errlen,
	         "the database %s is not readable to you (uid %u), and %s: "
	         "tollgated serves a guarded user their own rules and events "
	         "when it runs",
	         cfg->database, (unsigned)getuid(), why);
	return -1;
}

/* tollgated's ERR as our error, saying what the user may do. */
static void
rows_refused(const struct ctl_reply *rep, char *err, size_t errlen)
{
	snprintf(err, errlen, "tollgated refused: %s (%s)", rep->msg,
	         rep->codestr);
}

/* What the OK line of one page of rows said. */
struct rows_page {
	unsigned long count;
	bool more;
	int64_t last, top; /* top: -1 when not said */
};

/*
 * One page: request (a whole line, without "\n"), its rows to row(arg).
 * 0 with *pg filled, or -1 + err (tollgated's refusal among them).
 */
static int
rows_page(int fd, const char *request,
          int (*row)(const char *line, size_t len, void *arg), void *arg,
          struct rows_page *pg, char *err, size_t errlen)
{
	struct ctl_reply rep;
	const char *v;

	if (ctl_call_rows(fd, request, &rep, row, arg, err, errlen) == -1)
		return -1;
	if (!rep.ok) {
		rows_refused(&rep, err, errlen);
		ctl_reply_free(&rep);
		return -1;
	}
	v = ctl_reply_get(&rep, "count");
	pg->count = v != NULL ? strtoul(v, NULL, 10) : 0;
	v = ctl_reply_get(&rep, "more");
	pg->more = v != NULL && strcmp(v, "yes") == 0;
	v = ctl_reply_get(&rep, "last");
	pg->last = v != NULL ? atoll(v) : 0;
	v = ctl_reply_get(&rep, "top");
	pg->top = v != NULL ? atoll(v) : -1;
	ctl_reply_free(&rep);
	return 0;
}

/* --------------------------------------------------------------------
 * RULES
 */

static int
rows_rule(const char *line, size_t len, void *arg)
{
	struct cli_rules *out = arg;
	char err[CTL_ERRLEN];
	struct rule *r;
	int64_t *nn;

	r = realloc(out->rules, (out->n + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	out->rules = r;
	nn = realloc(out->n_names, (out->n + 1) * sizeof(*nn));
	if (nn == NULL)
		return -1;
	out->n_names = nn;
	rule_init(&r[out->n]);
	if (ctl_rule_parse(line, len, &r[out->n], &nn[out->n], err,
	                   sizeof(err)) == -1) {
		fprintf(stderr, "tollgate: tollgated sent %s\n", err);
		return -1;
	}
	out->n++;
	return 0;
}

int
cli_rules_sock(const struct config *cfg, struct cli_rules *out, char *err,
               size_t errlen)
{
	struct rows_page pg;
	char req[64];
	long long after = 0;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	out->via_socket = true;
	fd = rows_connect(cfg, err, errlen);
	if (fd < 0)
		return -1;
	for (;;) {
		snprintf(req, sizeof(req), "RULES after=%lld limit=%d", after,
		         CTL_ROWS_MAX);
		if (rows_page(fd, req, rows_rule, out, &pg, err, errlen) == -1)
			break;
		if (!pg.more || pg.last <= after) {
			rc = 0;
			break;
		}
		after = pg.last;
	}
	close(fd);
	return rc;
}

/* --------------------------------------------------------------------
 * EVENTS
 */

struct rows_events {
	int (*fn)(const struct event_row *row, void *arg);
	void *arg;
	struct event_row *row;
	int stopped; /* fn's value when it stopped */
};

static int
rows_event(const char *line, size_t len, void *arg)
{
	struct rows_events *re = arg;
	char err[CTL_ERRLEN];

	if (re->stopped != 0)
		return 0; /* the rest of the reply is read, not shown */
	if (ctl_event_parse(line, len, re->row, err, sizeof(err)) == -1) {
		fprintf(stderr, "tollgate: tollgated sent %s\n", err);
		return -1;
	}
	re->stopped = re->fn(re->row, re->arg);
	return 0;
}

/* f's conditions as EVENTS words. */
static void
rows_query(const struct events_filter *f, struct ctl_query *q)
{
	memset(q, 0, sizeof(*q));
	q->app = f->app;
	q->domain = f->domain;
	q->verdict = f->has_verdict ? action_name(f->verdict) : NULL;
	q->proto = f->proto;
	q->since_ms = f->since_ms;
	q->until_ms = f->until_ms;
	q->pid = f->pid;
	q->has_uid = f->has_uid;
	q->uid = f->uid;
	q->no_gaps = f->no_gaps;
}

int
cli_events_sock(const struct config *cfg, const struct events_filter *f,
                int (*fn)(const struct event_row *row, void *arg), void *arg,
                bool *cut, int64_t *top, char *err, size_t errlen)
{
	struct rows_events re = {fn, arg, NULL, 0};
	struct rows_page pg;
	struct ctl_query q;
	struct ctl_line l;
	char req[4096];
	size_t left = f->limit; /* paging: rows still wanted, 0: all */
	bool paging;
	int fd, rc = -1;

	if (cut != NULL)
		*cut = false;
	if (top != NULL)
		*top = 0;
	rows_query(f, &q);
	/* The newest limit rows in one reply when it holds them; else
	 * every row from after_id on, a reply at a time. */
	paging = f->after_id > 0 || f->limit == 0;
	if (!paging && f->limit > CTL_ROWS_MAX && cut != NULL)
		*cut = true;
	if (paging) {
		q.has_after = true;
		q.after = f->after_id;
	}
	re.row = malloc(sizeof(*re.row));
	if (re.row == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = rows_connect(cfg, err, errlen);
	if (fd < 0) {
		free(re.row);
		return -1;
	}
	for (;;) {
		q.limit =
		    left == 0 || left > CTL_ROWS_MAX ? CTL_ROWS_MAX : left;
		ctl_line_init(&l, req, sizeof(req));
		ctl_put_word(&l, "EVENTS");
		ctl_put_query(&l, &q);
		rc = -1;
		if (l.over) {
			snprintf(err, errlen, "filter too long to send");
			break;
		}
		if (rows_page(fd, req, rows_event, &re, &pg, err, errlen) == -1)
			break;
		if (top != NULL && pg.last > *top)
			*top = pg.last;
		/* Paging, rows after top may be left: top counts once the
		 * last page is in. */
		if (top != NULL && (!paging || !pg.more) && pg.top > *top)
			*top = pg.top;
		rc = re.stopped;
		if (rc != 0 || !paging || !pg.more || pg.last <= q.after)
			break;
		if (left > 0) {
			left -= pg.count < left ? pg.count : left;
			if (left == 0)
				break;
		}
		q.after = pg.last;
	}
	close(fd);
	free(re.row);
	return rc;
}
