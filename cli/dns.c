/*
 * dns.c - "tollgate dns map [--json]": the names tollgated's DNS stub has
 * given fake addresses, read from the database (tollgate(8)).
 *
 * The map lives in tollgated's memory and is written to the database
 * within seconds of each change (proxyd/rulesvc.h), so this reads the
 * database, read-only like "tollgate events", and works whether tollgated
 * runs or not.  The most recently used mapping comes first: the one a
 * program just resolved is at the top.  Names come from the programs that
 * asked, so the table shows them in their safe form.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "store/fakeip.h"
#include "store/store.h"

#define DNS_NAME_MIN 16 /* the NAME column, at least */
/* The schema that has the fake_ips table (store/fakeip.h). */
#define DNS_SCHEMA_FAKEIP 5

/* The columns with a fake IPv6 range; without one, there is no IPV6. */
static const struct table_col dns_cols[] = {
    {.head = "NAME", .cut_left = true, .flex = true},
    {.head = "IPV4"},
    {.head = "IPV6"},
    {.head = "LAST USED"},
};

static const struct table_col dns_cols4[] = {
    {.head = "NAME", .cut_left = true, .flex = true},
    {.head = "IPV4"},
    {.head = "LAST USED"},
};

/* What the options said. */
struct dns_args {
	bool json;
};

static const struct cli_opt dns_opts[] = {
    {"json", 'j', NULL, "one JSON object a line",
     offsetof(struct dns_args, json)},
};

static const struct cli_optset dns_optset = {
    .opts = dns_opts,
    .n_opts = sizeof(dns_opts) / sizeof(dns_opts[0]),
    .in_order = false,
    .help_col = 11,
};

/* One stored mapping, copied out of the read. */
struct dns_entry {
	char *name;
	char v4[INET_ADDRSTRLEN];
	char v6[INET6_ADDRSTRLEN]; /* "" when none */
	int64_t last_used;
};

/* The mappings read, least recently used first. */
struct dns_list {
	struct dns_entry *e;
	size_t n, cap;
	bool any_v6;
};

/* store_fakeip_load()'s callback: keep m.  0, or 1 when out of memory. */
static int
dns_keep(void *arg, const struct store_fakeip *m)
{
	struct dns_list *l = arg;
	struct dns_entry *e;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap > 0 ? l->cap * 2 : 64;
		e = reallocarray(l->e, cap, sizeof(*e));
		if (e == NULL)
			return 1;
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(m->name)) == NULL)
		return 1;
	inet_ntop(AF_INET, &m->v4, e->v4, sizeof(e->v4));
	if (m->has_v6) {
		inet_ntop(AF_INET6, &m->v6, e->v6, sizeof(e->v6));
		l->any_v6 = true;
	}
	e->last_used = m->last_used;
	l->n++;
	return 0;
}

static void
dns_list_free(struct dns_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
}

/*
 * Read the stored mappings into l.  0 (no database, or one from before
 * fake IPs, reads as none), or -1 after saying why.
 */
static int
dns_read(const struct cli_who *who, const char *path, struct dns_list *l)
{
	char err[512];
	struct store *s;
	struct stat sb;
	int rc;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0; /* tollgated has not run: nothing mapped */
		cli_fail(who, "cannot read database %s: %s", path,
		         strerror(errno));
		return -1;
	}
	if ((s = store_open(path, STORE_READONLY, err, sizeof(err))) == NULL) {
		cli_fail(who, "%s", err);
		return -1;
	}
	if (store_schema_version(s) < DNS_SCHEMA_FAKEIP) {
		store_close(s);
		return 0;
	}
	rc = store_fakeip_load(s, dns_keep, l, err, sizeof(err));
	store_close(s);
	if (rc == -1) {
		cli_fail(who, "%s", err);
		return -1;
	}
	if (rc != 0) {
		cli_fail(who, "out of memory");
		return -1;
	}
	return 0;
}

static void
dns_json(const struct dns_entry *e)
{
	fputs("{\"name\":", stdout);
	cli_json_str(stdout, e->name);
	printf(",\"ipv4\":\"%s\",\"ipv6\":", e->v4);
	if (e->v6[0] != '\0')
		printf("\"%s\"", e->v6);
	else
		fputs("null", stdout);
	printf(",\"last_used\":%lld}\n", (long long)e->last_used);
}

static int
dns_table(const struct dns_list *l)
{
	struct cli_term term;
	struct table t;
	char used[64];
	const char *cells[4];
	time_t now = time(NULL);
	size_t i, c;

	cli_term_get(&term, false);
	if (l->any_v6)
		table_init(&t, dns_cols, 4, 2, DNS_NAME_MIN, &term, TABLE_FIT);
	else
		table_init(&t, dns_cols4, 3, 2, DNS_NAME_MIN, &term, TABLE_FIT);
	for (i = l->n; i-- > 0;) {
		cli_ev_time_short(l->e[i].last_used * 1000, now, used,
		                  sizeof(used));
		c = 0;
		cells[c++] = l->e[i].name;
		cells[c++] = l->e[i].v4;
		if (l->any_v6)
			cells[c++] = l->e[i].v6[0] != '\0' ? l->e[i].v6 : "-";
		cells[c++] = used;
		if (table_add(&t, cells, NULL) == -1) {
			table_free(&t);
			return -1;
		}
	}
	table_print(&t, false);
	return 0;
}

static void
dns_help(const struct cli_cmd *cmd)
{
	cli_help_head(cmd->name, cmd->args, cmd->help);
	printf("\n");
	cli_opts_help(stdout, &dns_optset);
	printf("\n"
	       "map: the names tollgated's DNS stub has given fake addresses "
	       "(from\n"
	       "fake_ip_range), most recently used first: NAME, IPV4, IPV6 "
	       "(with\n"
	       "fake_ip6_range), LAST USED (asked for, or connected to).  Read "
	       "from\n"
	       "the database, so it works whether tollgated runs or not; a "
	       "change\n"
	       "reaches it within seconds.  See tollgate(8).\n");
}

int
cli_dns(const struct cli_cmd *cmd, const struct cli_opts *opts, int argc,
        char **argv)
{
	const struct cli_who who = {cmd->name, cmd->args, NULL};
	struct dns_args a = {false};
	struct dns_list l;
	struct config cfg;
	size_t i;
	int rc, next;

	rc = cli_opts_parse(&dns_optset, CLI_OPTS_ALL, &who, argc, argv, &a,
	                    &next);
	if (rc == CLI_OPTS_HELP) {
		dns_help(cmd);
		return CLI_EXIT_OK;
	}
	if (rc != CLI_OPTS_GO)
		return rc;
	if (next >= argc)
		return cli_usage(&who, "which action? (map)");
	if (strcmp(argv[next], "map") != 0)
		return cli_usage(&who, "unknown action \"%s\"", argv[next]);
	if (next + 1 < argc)
		return cli_usage(&who, "unexpected argument \"%s\"",
		                 argv[next + 1]);
	if (cli_config_load(opts, "dns", &cfg) == -1)
		return CLI_EXIT_FAIL;
	memset(&l, 0, sizeof(l));
	if (dns_read(&who, cfg.database, &l) == -1) {
		dns_list_free(&l);
		return CLI_EXIT_FAIL;
	}
	rc = CLI_EXIT_OK;
	if (a.json) {
		for (i = l.n; i-- > 0;)
			dns_json(&l.e[i]);
	} else if (l.n == 0)
		printf("no names mapped yet\n");
	else if (dns_table(&l) == -1)
		rc = cli_fail(&who, "out of memory");
	dns_list_free(&l);
	return rc;
}
