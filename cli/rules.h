/*
 * rules.h - what the files of "tollgate rules" share, and nothing else
 * includes: one invocation (struct rules_ctx), its actions, and the
 * helpers they have in common (rules.c).  The actions are in
 * rules_show.c (list, test), rules_change.c (add, del, enable, disable,
 * edit) and rules_io.c (import, export).
 *
 * Every helper that fails says so (cli_fail(), or cli_bad_value() for a
 * bad option, naming "rules ACTION") before it returns.
 */
#ifndef TG_CLI_RULES_H
#define TG_CLI_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "common/ctl.h"
#include "rules/rule.h"

#define RULES_ERRLEN 1024

/* What the options of one invocation said; NULL when not given. */
struct rules_args {
	const char *app, *dest, *uid, *port, *proto, *action, *duration;
	const char *priority, *note, *via, *list_name, *digest;
	const char *script, *cmdline;
	bool json, wide;
	char **pos; /* positional arguments after the action */
	int n_pos;
};

struct rules_ctx {
	const struct rules_action *act;
	char name[32];      /* "rules add" */
	struct cli_who who; /* its messages */
	struct config cfg;
	struct rules_args a;
	bool said_direct; /* the note that tollgated is down was given */
};

struct rules_action {
	const char *name;
	const char *args; /* synopsis */
	const char *help;
	uint32_t opts;   /* the options it takes: bits of rules_opts[] */
	const char *pos; /* the argument it needs ("ID"); NULL: none */
	bool pos_many;   /* pos may be given more than once ("ID...") */
	int (*run)(struct rules_ctx *ctx); /* an enum cli_exit */
};

/* The actions. */
int rules_list(struct rules_ctx *ctx);
int rules_test(struct rules_ctx *ctx);
int rules_add(struct rules_ctx *ctx);
int rules_del(struct rules_ctx *ctx);
int rules_enable(struct rules_ctx *ctx);
int rules_disable(struct rules_ctx *ctx);
int rules_edit(struct rules_ctx *ctx);
int rules_import(struct rules_ctx *ctx);
int rules_export(struct rules_ctx *ctx);

/*
 * The app as the daemon will see it into out[len]: /proc/PID/exe is the
 * real path, so a bare command is looked up in the guarded users' PATH
 * (apps.h) and symbolic links are resolved.  A path that does not exist
 * is kept as given (a rule for a program not installed yet).  Unless
 * quiet, prints "app: PATH" and how it was found, and warns when PATH
 * does not exist.  0 or -1.
 */
int rules_resolve_app(const struct rules_ctx *ctx, const char *in, char *out,
                      size_t len, bool quiet);

/*
 * --script IN into out[len]: an absolute path (a relative one joined to
 * the current directory), its symbolic links resolved as tollgated
 * resolves a running script's (rules/interp.h); one that does not exist
 * is taken cleaned, with a warning.  "" stays "" (no script).  Prints
 * "script: PATH" unless quiet.  0, or -1 after the error.
 */
int rules_resolve_script(const struct rules_ctx *ctx, const char *in, char *out,
                         size_t len, bool quiet);

/*
 * --app WANT of a filter (list, export): real[len] gets the real path of
 * what WANT runs (a bare name through the guarded users' PATH), "" when
 * it runs nothing; the filter is then apps_match(app, WANT, real).  0,
 * or -1 after the error (an empty or too long WANT).
 */
int rules_app_filter(const struct rules_ctx *ctx, const char *want, char *real,
                     size_t len);

/* A uid into r: a number, "any", or a user name.  0 or -1. */
int rules_parse_uid(struct rules_ctx *ctx, struct rule *r, const char *s);

/* Put the options that were given into r, each through the rule's own
 * parser.  0, or -1 after the error naming the option. */
int rules_apply_opts(struct rules_ctx *ctx, struct rule *r);

/*
 * Send one request line (without "\n") to tollgated.  Returns 0 with
 * *rep filled (OK or ERR), CTL_DOWN with down holding why, or -1.
 */
int rules_call(struct rules_ctx *ctx, const char *request,
               struct ctl_reply *rep, char *down, size_t downlen);

struct store;

/* The database for writing when tollgated does not run (down says why):
 * root only, since the file is tollgated's.  The note that says so is
 * given once an invocation.  NULL after the error. */
struct store *rules_store_rw(struct rules_ctx *ctx, const char *down);

/* The database for reading.  NULL with *missing set when there is none
 * yet (no rules); NULL otherwise after the error. */
struct store *rules_store_ro(struct rules_ctx *ctx, bool *missing);

/*
 * Make one change: sent is what rules_call() (or another sender) returned
 * for its request.  When tollgated did not run (CTL_DOWN, down says why),
 * apply() makes the change on the database instead; it returns 0, or
 * another value with err set.  Returns 1 with *rep holding tollgated's OK
 * (the caller frees it), 0 after apply() did it, or -1 after the error
 * (tollgated's ERR, or the database's).
 */
typedef int (*rules_apply_fn)(struct store *s, void *arg, char *err,
                              size_t errlen);

int rules_change(struct rules_ctx *ctx, int sent, struct ctl_reply *rep,
                 const char *down, rules_apply_fn apply, void *arg, char *err,
                 size_t errlen);

struct rules_set;

/* Every rule of the database into set (rules_set_init() done; none when
 * there is no database yet).  0, or -1 after the error. */
int rules_load(struct rules_ctx *ctx, struct rules_set *set);

/* The rule's fields as the control socket takes them (no "rule"), in
 * buf[len]. */
const char *rules_fields(const struct rule *r, char *buf, size_t len);

#endif
