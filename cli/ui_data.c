/*
 * ui_data.c - the data layer of "tollgate ui" (ui.h): what the terminal
 * UI reads and changes, through the tollgate command's own loaders and
 * senders.  No drawing, no keys: it can be driven without a terminal.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/rows.h"
#include "cli/ui.h"
#include "cli/values.h"
#include "common/ctl_client.h"
#include "store/store.h"

/* --------------------------------------------------------------------
 * What the loaders said
 */

/*
 * The last line said on stderr since the last look, without "tollgate: ",
 * into err; the memory file is emptied.  When nothing was said, fallback.
 * Returns -1, for the callers' "return ui_said(...)".
 */
static int
ui_said(struct ui_data *d, const char *fallback, char *err, size_t errlen)
{
	char buf[4096], *end, *line;
	struct stat st;
	ssize_t n;
	off_t at;

	fflush(stderr);
	/* The last line is at the end: read the end. */
	if (fstat(d->said_fd, &st) == -1)
		st.st_size = 0;
	at = st.st_size > (off_t)sizeof(buf) - 1
	         ? st.st_size - (off_t)sizeof(buf) + 1
	         : 0;
	n = pread(d->said_fd, buf, sizeof(buf) - 1, at);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (ftruncate(d->said_fd, 0) == 0)
		lseek(d->said_fd, 0, SEEK_SET);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s", fallback);
		return -1;
	}
	end = buf + n;
	for (line = end; line > buf && line[-1] != '\n'; line--)
		;
	if (strncmp(line, CLI_PROG ": ", strlen(CLI_PROG ": ")) == 0)
		line += strlen(CLI_PROG ": ");
	snprintf(err, errlen, "%s", line);
	return -1;
}

/* Forget what was said (a note of a call that did what it was asked). */
static void
ui_said_drop(struct ui_data *d)
{
	char scratch[8];

	ui_said(d, "", scratch, sizeof(scratch));
}

/* Who speaks for the next call: "rules del: ..." on the status line. */
static void
ui_who(struct ui_data *d, const char *name)
{
	snprintf(d->rc.name, sizeof(d->rc.name), "%s", name);
	d->rc.who.name = d->rc.name;
	d->rc.who.args = NULL;
	d->rc.who.help = "ui";
}

/* Close the database held; a query that failed may have found it
 * broken, so the next call opens it again. */
static void
ui_store_drop(struct ui_data *d)
{
	if (d->s != NULL)
		store_close(d->s);
	d->s = NULL;
}

int
ui_data_open(struct ui_data *d, const struct cli_opts *opts, char *err,
             size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->said_fd = d->stderr_fd = -1;
	if (cli_config_load(opts, "ui", &d->rc.cfg) == -1) {
		snprintf(err, errlen, "cannot load the configuration");
		return -1;
	}
	d->uid = getuid();
	d->root = geteuid() == 0;
	if ((d->ev = calloc(1, sizeof(*d->ev))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->ev->cfg = d->rc.cfg;
	d->said_fd = memfd_create("tollgate-ui-said", MFD_CLOEXEC);
	if (d->said_fd == -1) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	fflush(stderr);
	d->stderr_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (d->stderr_fd == -1 || dup2(d->said_fd, STDERR_FILENO) == -1) {
		snprintf(err, errlen, "taking stderr: %s", strerror(errno));
		if (d->stderr_fd != -1)
			close(d->stderr_fd);
		close(d->said_fd);
		return -1;
	}
	ui_who(d, "ui");
	return 0;
}

void
ui_data_close(struct ui_data *d)
{
	char buf[4096];
	ssize_t n;

	ui_store_drop(d);
	free(d->ev);
	d->ev = NULL;
	if (d->stderr_fd == -1)
		return;
	fflush(stderr);
	dup2(d->stderr_fd, STDERR_FILENO);
	close(d->stderr_fd);
	d->stderr_fd = -1;
	/* What was said last, on the terminal again (nowhere else to say
	 * it when that fails). */
	n = pread(d->said_fd, buf, sizeof(buf), 0);
	if (n > 0)
		n = write(STDERR_FILENO, buf, (size_t)n);
	close(d->said_fd);
	d->said_fd = -1;
}

/* --------------------------------------------------------------------
 * Reading
 */

/*
 * The database for reading, held open from one call to the next (opening
 * checks the whole file, too dear for every tick), as "events --follow"
 * holds it: opened again when one of its files was replaced.  NULL with
 * err set: none yet (*missing), or it cannot be read.
 */
static struct store *
ui_store(struct ui_data *d, bool *missing, char *err, size_t errlen)
{
	*missing = false;
	if (d->s != NULL && !ev_replaced(d->rc.cfg.database, &d->files))
		return d->s;
	ui_store_drop(d);
	switch (ev_open(d->ev, &d->s, &d->files, err, errlen)) {
	case EV_OPEN_MISSING:
		*missing = true;
		snprintf(err, errlen, "no database yet at %s",
		         d->rc.cfg.database);
		return NULL;
	case EV_OPEN_ERROR:
		d->s = NULL;
		return NULL;
	case EV_OPEN_OK:
		break;
	}
	return d->s;
}

/*
 * Whether reads go to tollgated instead: the database is there but this
 * user may not read it (a guarded user: tollgated serves their own rules
 * and events, rows.h).
 */
static bool
ui_by_socket(const struct ui_data *d)
{
	return cli_source(&d->rc.cfg) == CLI_SOURCE_SOCKET;
}

int
ui_data_rules(struct ui_data *d, struct rules_set *set, char *err,
              size_t errlen)
{
	struct cli_rules got;
	struct store *s;
	bool missing;
	size_t i;

	ui_who(d, "rules");
	if ((s = ui_store(d, &missing, err, errlen)) != NULL) {
		if (store_load(s, set, err, errlen) == 0)
			return 0;
		ui_store_drop(d);
		return -1;
	}
	if (missing)
		return 0; /* no database, no rules */
	if (!ui_by_socket(d))
		return -1;
	/* Not readable here: tollgated serves the rules this user may see. */
	if (cli_rules_sock(&d->rc.cfg, &got, err, errlen) == -1) {
		cli_rules_free(&got);
		return -1;
	}
	for (i = 0; i < got.n; i++)
		if (rules_set_add(set, &got.rules[i], NULL, 0, err, errlen) ==
		    -1) {
			cli_rules_free(&got);
			return -1;
		}
	cli_rules_free(&got);
	return 0;
}

struct ui_rows {
	struct event_row *rows;
	size_t n, cap;
};

static int
ui_row_add(const struct event_row *r, void *arg)
{
	struct ui_rows *a = arg;

	if (a->n == a->cap)
		return 1;
	a->rows[a->n++] = *r;
	return 0;
}

int
ui_data_events(struct ui_data *d, int64_t after_id, size_t limit,
               struct event_row **rows, size_t *n, int64_t *max_id, char *err,
               size_t errlen)
{
	struct events_filter f;
	struct ui_rows a;
	struct store *s;
	bool missing;

	*rows = NULL;
	*n = 0;
	ui_who(d, "events");
	if ((s = ui_store(d, &missing, err, errlen)) == NULL &&
	    !ui_by_socket(d))
		return -1;
	if (limit == 0 || limit > UI_EVENTS_MAX)
		limit = UI_EVENTS_MAX;
	a.n = 0;
	a.cap = limit;
	a.rows = calloc(limit, sizeof(*a.rows));
	if (a.rows == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.no_gaps = true;
	f.limit = limit;
	f.after_id = after_id;
	if (s == NULL) {
		/* Not readable here: tollgated serves this user's own; the
		 * last id it looked at is where the next tick goes on. */
		if (cli_events_sock(&d->rc.cfg, &f, ui_row_add, &a, NULL,
		                    max_id, err, errlen) == -1) {
			free(a.rows);
			return -1;
		}
		if (a.n > 0 && a.rows[a.n - 1].id > *max_id)
			*max_id = a.rows[a.n - 1].id;
		if (*max_id < after_id)
			*max_id = after_id;
	} else if ((*max_id = events_max_id(s, err, errlen)) == -1 ||
	           events_query(s, &f, ui_row_add, &a, err, errlen) == -1) {
		free(a.rows);
		ui_store_drop(d);
		return -1;
	}
	*rows = a.rows;
	*n = a.n;
	return 0;
}

int
ui_data_prompts(struct ui_data *d, struct ctl_prompt **ps, size_t *n, char *err,
                size_t errlen)
{
	ui_who(d, "prompts");
	if (cli_prompts_fetch(&d->rc.who, d->rc.cfg.control_socket, ps, n) ==
	    -1)
		return ui_said(d, "cannot list the prompts", err, errlen);
	return 0;
}

/* Counts of rows under a key, at most cap keys. */
struct ui_tops {
	struct events_top *tops;
	size_t n, cap;
	bool by_app;    /* the key is the app, else the name (or address) */
	int64_t denied; /* rows deny or reject */
	int64_t total;
};

/* Count one row under its key. */
static int
ui_tops_add(const struct event_row *r, void *arg)
{
	struct ui_tops *a = arg;
	const char *key = a->by_app            ? r->exe
	                  : r->name[0] != '\0' ? r->name
	                                       : r->dst_ip;
	bool denied = r->verdict != ACTION_ALLOW;
	size_t i;

	a->total++;
	a->denied += denied;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->tops[i].key, key) == 0)
			break;
	if (i == a->n) {
		if (a->n == a->cap)
			return 0;
		snprintf(a->tops[i].key, sizeof(a->tops[i].key), "%s", key);
		a->n++;
	}
	a->tops[i].count++;
	if (denied)
		a->tops[i].denied++;
	return 0;
}

static int
ui_top_cmp(const void *pa, const void *pb)
{
	const struct events_top *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->key, b->key);
}

/*
 * Count the rows f selects into a (its tops calloc()ed for a->cap keys,
 * sorted most first): from s, or from tollgated when s is NULL (there at
 * most the newest CTL_ROWS_MAX rows of this user's own).  0 or -1 + err,
 * a->tops freed.
 */
static int
ui_tops_count(struct ui_data *d, struct store *s, struct events_filter *f,
              struct ui_tops *a, char *err, size_t errlen)
{
	int rc;

	if ((a->tops = calloc(a->cap, sizeof(*a->tops))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->no_gaps = true;
	if (s != NULL)
		rc = events_query(s, f, ui_tops_add, a, err, errlen);
	else
		rc = cli_events_sock(&d->rc.cfg, f, ui_tops_add, a, NULL, NULL,
		                     err, errlen);
	if (rc == -1) {
		free(a->tops);
		a->tops = NULL;
		if (s != NULL)
			ui_store_drop(d);
		return -1;
	}
	qsort(a->tops, a->n, sizeof(*a->tops), ui_top_cmp);
	return 0;
}

int
ui_data_apps(struct ui_data *d, int64_t since_ms, struct events_stats *st,
             char *err, size_t errlen)
{
	struct events_filter f;
	struct ui_tops a = {.cap = EVENTS_TOP_MAX, .by_app = true};
	struct store *s;
	bool missing;

	memset(st, 0, sizeof(*st));
	ui_who(d, "apps");
	if ((s = ui_store(d, &missing, err, errlen)) != NULL) {
		if (events_stats(s, since_ms, cli_now_ms() + 1, EVENTS_TOP_MAX,
		                 st, err, errlen) == -1) {
			ui_store_drop(d);
			return -1;
		}
		return 0;
	}
	if (!ui_by_socket(d))
		return -1;
	/* Not readable here: counted from this user's newest events. */
	memset(&f, 0, sizeof(f));
	f.since_ms = since_ms;
	f.limit = UI_APP_ROWS;
	if (ui_tops_count(d, NULL, &f, &a, err, errlen) == -1)
		return -1;
	st->since_ms = since_ms;
	st->until_ms = cli_now_ms() + 1;
	st->total = a.total;
	st->denied = a.denied;
	st->apps = a.tops;
	st->n_apps = a.n;
	return 0;
}

int
ui_data_app_domains(struct ui_data *d, const char *exe, int64_t since_ms,
                    struct events_top **tops, size_t *n, char *err,
                    size_t errlen)
{
	struct events_filter f;
	struct ui_tops a = {.cap = UI_DOMAINS_MAX};
	struct store *s;
	bool missing;

	*tops = NULL;
	*n = 0;
	ui_who(d, "apps");
	if ((s = ui_store(d, &missing, err, errlen)) == NULL &&
	    !ui_by_socket(d))
		return -1;
	memset(&f, 0, sizeof(f));
	f.app = exe;
	f.since_ms = since_ms;
	f.limit = UI_APP_ROWS;
	if (ui_tops_count(d, s, &f, &a, err, errlen) == -1)
		return -1;
	*tops = a.tops;
	*n = a.n;
	return 0;
}

/* --------------------------------------------------------------------
 * Changing
 */

/* What rules_change() does on the database when tollgated is down. */
struct ui_change {
	enum ctl_verb verb;
	int64_t id;
	struct rule *r;
};

static int
ui_store_change(struct store *s, void *arg, char *err, size_t errlen)
{
	const struct ui_change *c = arg;

	switch (c->verb) {
	case CTL_RULE_DEL:
		return store_rule_delete(s, c->id, err, errlen);
	case CTL_RULE_ENABLE:
	case CTL_RULE_DISABLE:
		return store_rule_enable(s, c->id, c->verb == CTL_RULE_ENABLE,
		                         err, errlen);
	case CTL_RULE_ADD:
		return store_rule_add(s, c->r, NULL, 0, err, errlen);
	case CTL_RULE_EDIT:
		return store_rule_edit(s, c->r, NULL, 0, err, errlen);
	default:
		snprintf(err, errlen, "not a change of a rule");
		return -1;
	}
}

/*
 * Send request (tollgated, else the database when it is down, as the
 * rules commands do).  *id gets the rule's id as tollgated or the
 * database says it.  0, or -1 + err.
 */
static int
ui_change(struct ui_data *d, const char *request, struct ui_change *c,
          int64_t *id, char *err, size_t errlen)
{
	char down[CTL_ERRLEN], serr[STORE_ERRLEN];
	struct ctl_reply rep;
	const char *v;
	int rc;

	ui_said_drop(d);
	rc = rules_change(&d->rc,
	                  rules_call(&d->rc, request, &rep, down, sizeof(down)),
	                  &rep, down, ui_store_change, c, serr, sizeof(serr));
	if (rc == -1)
		return ui_said(d, "the change failed", err, errlen);
	*id = c->r != NULL ? c->r->id : c->id;
	if (rc == 1) {
		if ((v = ctl_reply_get(&rep, "id")) != NULL)
			*id = strtoll(v, NULL, 10);
		ctl_reply_free(&rep);
	}
	ui_said_drop(d); /* the note that the database was changed */
	return 0;
}

int
ui_data_rule_by_id(struct ui_data *d, enum ctl_verb verb, int64_t id, char *msg,
                   size_t msglen, char *err, size_t errlen)
{
	struct ui_change c = {verb, id, NULL};
	char req[64];
	int64_t done;

	ui_who(d, verb == CTL_RULE_DEL      ? "rules del"
	          : verb == CTL_RULE_ENABLE ? "rules enable"
	                                    : "rules disable");
	snprintf(req, sizeof(req), "%s %lld", ctl_verb_name(verb),
	         (long long)id);
	if (ui_change(d, req, &c, &done, err, errlen) == -1)
		return -1;
	snprintf(msg, msglen, "%s rule %lld",
	         verb == CTL_RULE_DEL      ? "deleted"
	         : verb == CTL_RULE_ENABLE ? "enabled"
	                                   : "disabled",
	         (long long)id);
	return 0;
}

int
ui_data_rule_add(struct ui_data *d, const char *app, const char *dest,
                 enum action action, char *msg, size_t msglen, char *err,
                 size_t errlen)
{
	char fields[RULE_LINE_MAX], req[RULE_LINE_MAX + 32], uid[32];
	struct ui_change c = {CTL_RULE_ADD, 0, NULL};
	struct rule *r;
	int64_t id;
	int rc = -1;

	ui_who(d, "rules add");
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rule_init(r);
	r->action = action;
	snprintf(uid, sizeof(uid), "%u", (unsigned)d->uid);
	if (rule_parse_app(r, app[0] != '\0' ? app : "*", err, errlen) == -1 ||
	    rule_parse_dest(r, dest, err, errlen) == -1 ||
	    (!d->root && rule_parse_uid(r, uid, err, errlen) == -1) ||
	    rule_check(r, err, errlen) == -1)
		goto out;
	snprintf(req, sizeof(req), "%s %s", ctl_verb_name(CTL_RULE_ADD),
	         rules_fields(r, fields, sizeof(fields)));
	c.r = r;
	if (ui_change(d, req, &c, &id, err, errlen) == -1)
		goto out;
	snprintf(msg, msglen, "added rule %lld: %s %s", (long long)id,
	         action_name(action), dest);
	rc = 0;
out:
	free(r);
	return rc;
}

int
ui_data_rule_edit(struct ui_data *d, int64_t id, int action,
                  const char *duration, char *msg, size_t msglen, char *err,
                  size_t errlen)
{
	char fields[RULE_LINE_MAX], req[RULE_LINE_MAX + 64];
	struct ui_change c = {CTL_RULE_EDIT, id, NULL};
	struct store *s;
	struct rule *r;
	int64_t done;
	bool missing;
	int rc = -1;

	ui_who(d, "rules edit");
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((s = ui_store(d, &missing, err, errlen)) == NULL ||
	    store_rule_get(s, id, r, err, errlen) != STORE_OK)
		goto out;
	if (action >= 0)
		r->action = (enum action)action;
	if (r->action != ACTION_ALLOW)
		r->via[0] = '\0'; /* a route goes with allow only */
	if (duration != NULL &&
	    rule_parse_duration(r, duration, time(NULL), err, errlen) == -1)
		goto out;
	if (rule_check(r, err, errlen) == -1)
		goto out;
	snprintf(req, sizeof(req), "%s %lld %s", ctl_verb_name(CTL_RULE_EDIT),
	         (long long)id, rules_fields(r, fields, sizeof(fields)));
	c.r = r;
	if (ui_change(d, req, &c, &done, err, errlen) == -1)
		goto out;
	snprintf(msg, msglen, "edited rule %lld", (long long)id);
	rc = 0;
out:
	free(r);
	return rc;
}

int
ui_data_answer(struct ui_data *d, uint64_t id, enum action verdict,
               enum ctl_scope scope, enum ctl_duration duration, char *msg,
               size_t msglen, char *err, size_t errlen)
{
	char req[128], cerr[CTL_ERRLEN];
	const char *rule, *conns;
	struct ctl_reply rep;

	snprintf(req, sizeof(req), "%s %llu %s %s %s",
	         ctl_verb_name(CTL_ANSWER), (unsigned long long)id,
	         action_name(verdict), ctl_scope_name(scope),
	         ctl_duration_name(duration));
	if (ctl_call(d->rc.cfg.control_socket, req, &rep, cerr, sizeof(cerr)) !=
	    0) {
		snprintf(err, errlen, "answer: %s", cerr);
		return -1;
	}
	if (!rep.ok) {
		snprintf(err, errlen, "answer: tollgated refused: %s (%s)",
		         rep.msg, rep.codestr);
		ctl_reply_free(&rep);
		return -1;
	}
	rule = ctl_reply_get(&rep, "rule");
	conns = ctl_reply_get(&rep, "connections");
	snprintf(msg, msglen, "prompt %llu: %s %s, %s (%s connection(s))%s%s",
	         (unsigned long long)id, action_name(verdict),
	         ctl_scope_name(scope), ctl_duration_name(duration),
	         conns != NULL ? conns : "?",
	         rule != NULL && strcmp(rule, "0") != 0 ? "; rule " : "",
	         rule != NULL && strcmp(rule, "0") != 0 ? rule : "");
	ctl_reply_free(&rep);
	return 0;
}
