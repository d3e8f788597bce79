/*
 * config.c - the tollgate.conf parser; see config.h.
 *
 * Each key is one row of config_keys[]: its name, how to parse a value,
 * how to print it back, and what a valid value looks like (for errors).
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"

#define CONFIG_LINE_MAX 4096

struct config_key {
	const char *name;
	const char *expected;
	int (*parse)(struct config *, const struct config_key *, const char *);
	void (*print)(const struct config *, const struct config_key *, FILE *);
	size_t field; /* offsetof() for keys that share a parser */
	unsigned min; /* smallest duration or count, or size of a path */
	unsigned max; /* largest count or age */
};

int
action_parse(const char *s)
{
	if (strcmp(s, "allow") == 0)
		return ACTION_ALLOW;
	if (strcmp(s, "deny") == 0)
		return ACTION_DENY;
	if (strcmp(s, "reject") == 0)
		return ACTION_REJECT;
	return -1;
}

const char *
action_name(enum action a)
{
	switch (a) {
	case ACTION_ALLOW:
		return "allow";
	case ACTION_DENY:
		return "deny";
	case ACTION_REJECT:
		return "reject";
	}
	return "?";
}

int
config_parse_duration(const char *s, unsigned *ms)
{
	char *end;
	unsigned long long v, mult;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (v > UINT_MAX / mult)
		return -1;
	*ms = v * mult;
	return 0;
}

static void
print_duration(FILE *out, unsigned ms)
{
	if (ms % 3600000 == 0 && ms != 0)
		fprintf(out, "%uh\n", ms / 3600000);
	else if (ms % 60000 == 0 && ms != 0)
		fprintf(out, "%um\n", ms / 60000);
	else if (ms % 1000 == 0)
		fprintf(out, "%us\n", ms / 1000);
	else
		fprintf(out, "%ums\n", ms);
}

/* Split a list value on commas and blanks; calls fn for each item. */
static int
parse_list(struct config *cfg, const char *value,
           int (*fn)(struct config *, const char *))
{
	char copy[CONFIG_LINE_MAX], *item, *save;

	snprintf(copy, sizeof(copy), "%s", value);
	for (item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save))
		if (fn(cfg, item) == -1)
			return -1;
	return 0;
}

static int
guard_one(struct config *cfg, const char *item)
{
	struct passwd *pw;
	char *end;
	unsigned long uid;

	if (cfg->n_guard == CONFIG_MAX_GUARD)
		return -1;
	if (isdigit((unsigned char)item[0])) {
		errno = 0;
		uid = strtoul(item, &end, 10);
		if (*end != '\0' || errno != 0 || uid >= UINT32_MAX)
			return -1;
	} else {
		pw = getpwnam(item);
		if (pw == NULL)
			return -1;
		uid = pw->pw_uid;
	}
	if (uid == 0)
		return -1; /* guarding root would guard tollgated too */
	cfg->guard_uids[cfg->n_guard++] = uid;
	return 0;
}

static int
parse_guard_users(struct config *cfg, const struct config_key *k, const char *v)
{
	cfg->n_guard = 0;
	return parse_list(cfg, v, guard_one);
}

static void
print_guard_users(const struct config *cfg, const struct config_key *k,
                  FILE *out)
{
	size_t i;

	for (i = 0; i < cfg->n_guard; i++) {
		struct passwd *pw = getpwuid(cfg->guard_uids[i]);

		if (i > 0)
			fputs(", ", out);
		if (pw != NULL)
			fputs(pw->pw_name, out);
		else
			fprintf(out, "%u", (unsigned)cfg->guard_uids[i]);
	}
	fputc('\n', out);
}

static int
parse_user(struct config *cfg, const struct config_key *k, const char *v)
{
	if (strlen(v) >= sizeof(cfg->user) || v[0] == '\0')
		return -1;
	snprintf(cfg->user, sizeof(cfg->user), "%s", v);
	return 0;
}

static void
print_user(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n", cfg->user);
}

static int
listen_one(struct config *cfg, const char *item)
{
	socklen_t len;

	if (cfg->n_transparent == CONFIG_MAX_LISTEN)
		return -1;
	return addr_parse(item, &cfg->transparent_listen[cfg->n_transparent++],
	                  &len);
}

static int
parse_transparent_listen(struct config *cfg, const struct config_key *k,
                         const char *v)
{
	cfg->n_transparent = 0;
	if (parse_list(cfg, v, listen_one) == -1)
		return -1;
	return cfg->n_transparent > 0 ? 0 : -1;
}

static void
print_transparent_listen(const struct config *cfg, const struct config_key *k,
                         FILE *out)
{
	char buf[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < cfg->n_transparent; i++)
		fprintf(
		    out, "%s%s", i > 0 ? ", " : "",
		    addr_fmt(
		        (const struct sockaddr *)&cfg->transparent_listen[i],
		        buf, sizeof(buf)));
	fputc('\n', out);
}

static int
parse_default_action(struct config *cfg, const struct config_key *k,
                     const char *v)
{
	int a = action_parse(v);

	if (a == -1)
		return -1;
	cfg->default_action = a;
	return 0;
}

static void
print_default_action(const struct config *cfg, const struct config_key *k,
                     FILE *out)
{
	fprintf(out, "%s\n", action_name(cfg->default_action));
}

/* Durations share one parser: the key's row says which field and the
 * smallest value that makes sense. */
static unsigned *
duration_field(struct config *cfg, const struct config_key *k)
{
	return (unsigned *)((char *)cfg + k->field);
}

static int
parse_duration_key(struct config *cfg, const struct config_key *k,
                   const char *v)
{
	unsigned ms;

	if (config_parse_duration(v, &ms) == -1 || ms < k->min ||
	    (k->max != 0 && ms > k->max))
		return -1;
	*duration_field(cfg, k) = ms;
	return 0;
}

static void
print_duration_key(const struct config *cfg, const struct config_key *k,
                   FILE *out)
{
	print_duration(out, *duration_field((struct config *)cfg, k));
}

/* Paths share one parser: absolute, and short enough for their field. */
static char *
path_field(struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->field;
}

static int
parse_path_key(struct config *cfg, const struct config_key *k, const char *v)
{
	if (v[0] != '/' || strlen(v) >= k->min)
		return -1;
	snprintf(path_field(cfg, k), k->min, "%s", v);
	return 0;
}

static void
print_path_key(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n", path_field((struct config *)cfg, k));
}

static int
parse_admin_group(struct config *cfg, const struct config_key *k, const char *v)
{
	struct group *gr;

	if (v[0] == '\0' || strcmp(v, "none") == 0) {
		cfg->admin_group[0] = '\0';
		return 0;
	}
	gr = getgrnam(v);
	if (gr == NULL || strlen(v) >= sizeof(cfg->admin_group))
		return -1;
	snprintf(cfg->admin_group, sizeof(cfg->admin_group), "%s", v);
	cfg->admin_gid = gr->gr_gid;
	return 0;
}

static void
print_admin_group(const struct config *cfg, const struct config_key *k,
                  FILE *out)
{
	fprintf(out, "%s\n", cfg->admin_group[0] ? cfg->admin_group : "none");
}

static int
parse_keep_redirect_on_exit(struct config *cfg, const struct config_key *k,
                            const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		cfg->keep_redirect_on_exit = true;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		cfg->keep_redirect_on_exit = false;
	else
		return -1;
	return 0;
}

static void
print_keep_redirect_on_exit(const struct config *cfg,
                            const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n", cfg->keep_redirect_on_exit ? "yes" : "no");
}

static int
parse_log_level(struct config *cfg, const struct config_key *k, const char *v)
{
	int l = log_level_parse(v);

	if (l == -1)
		return -1;
	cfg->log_level = l;
	return 0;
}

static void
print_log_level(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n", log_level_name(cfg->log_level));
}

/* Counts share one parser: the row gives the field and the range. */
static unsigned *
count_field(struct config *cfg, const struct config_key *k)
{
	return (unsigned *)((char *)cfg + k->field);
}

static int
parse_count_key(struct config *cfg, const struct config_key *k, const char *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || errno != 0 || n < k->min || n > k->max ||
	    !isdigit((unsigned char)v[0]))
		return -1;
	*count_field(cfg, k) = n;
	return 0;
}

static void
print_count_key(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%u\n", *count_field((struct config *)cfg, k));
}

/* An age: "30d", "12h", "90m", "3600s" or bare seconds; kept in seconds. */
static int
parse_age_key(struct config *cfg, const struct config_key *k, const char *v)
{
	char *end;
	unsigned long long n, mult;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "d") == 0)
		mult = 86400;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1;
	else
		return -1;
	if (n == 0 || n > k->max / mult)
		return -1;
	*count_field(cfg, k) = n * mult;
	return 0;
}

static void
print_age_key(const struct config *cfg, const struct config_key *k, FILE *out)
{
	unsigned s = *count_field((struct config *)cfg, k);

	if (s % 86400 == 0)
		fprintf(out, "%ud\n", s / 86400);
	else if (s % 3600 == 0)
		fprintf(out, "%uh\n", s / 3600);
	else
		fprintf(out, "%us\n", s);
}

static int
parse_socket_mark(struct config *cfg, const struct config_key *k, const char *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (*end != '\0' || errno != 0 || n == 0 || n > UINT32_MAX ||
	    !isdigit((unsigned char)v[0]))
		return -1;
	cfg->socket_mark = n;
	return 0;
}

static void
print_socket_mark(const struct config *cfg, const struct config_key *k,
                  FILE *out)
{
	fprintf(out, "0x%08x\n", cfg->socket_mark);
}

static const struct config_key config_keys[] = {
    {
        .name = "guard_users",
        .expected = "user names or uids (not root) separated by commas",
        .parse = parse_guard_users,
        .print = print_guard_users,
    },
    {
        .name = "user",
        .expected = "the name of the account tollgated runs as",
        .parse = parse_user,
        .print = print_user,
    },
    {
        .name = "transparent_listen",
        .expected =
            "IP:PORT or [IPv6]:PORT addresses separated by commas (at most 4)",
        .parse = parse_transparent_listen,
        .print = print_transparent_listen,
    },
    {
        .name = "default_action",
        .expected = "allow, deny or reject",
        .parse = parse_default_action,
        .print = print_default_action,
    },
    {
        .name = "peek_timeout",
        .expected = "a duration of at least 10ms, like 500ms, 3s or 1m",
        .parse = parse_duration_key,
        .print = print_duration_key,
        .field = offsetof(struct config, peek_timeout_ms),
        .min = 10,
    },
    {
        .name = "connect_timeout",
        .expected = "a duration of at least 100ms, like 10s",
        .parse = parse_duration_key,
        .print = print_duration_key,
        .field = offsetof(struct config, connect_timeout_ms),
        .min = 100,
    },
    {
        .name = "idle_timeout",
        .expected = "a duration of at least 1s, like 30m or 2h",
        .parse = parse_duration_key,
        .print = print_duration_key,
        .field = offsetof(struct config, idle_timeout_ms),
        .min = 1000,
    },
    {
        .name = "prompt_timeout",
        .expected = "a duration from 1s to 1h, like 99s or 2m",
        .parse = parse_duration_key,
        .print = print_duration_key,
        .field = offsetof(struct config, prompt_timeout_ms),
        .min = 1000,
        .max = 3600 * 1000,
    },
    {
        .name = "prompt_program",
        .expected = "an absolute path to the tollgate-prompt executable",
        .parse = parse_path_key,
        .print = print_path_key,
        .field = offsetof(struct config, prompt_program),
        .min = sizeof(((struct config *)0)->prompt_program),
    },
    {
        .name = "keep_redirect_on_exit",
        .expected = "yes or no",
        .parse = parse_keep_redirect_on_exit,
        .print = print_keep_redirect_on_exit,
    },
    {
        .name = "log_level",
        .expected = "error, warning, info or debug",
        .parse = parse_log_level,
        .print = print_log_level,
    },
    {
        .name = "max_connections",
        .expected = "a number from 1 to 1000000",
        .parse = parse_count_key,
        .print = print_count_key,
        .field = offsetof(struct config, max_connections),
        .min = 1,
        .max = 1000000,
    },
    {
        .name = "event_queue",
        .expected = "a number from 16 to 1000000",
        .parse = parse_count_key,
        .print = print_count_key,
        .field = offsetof(struct config, event_queue),
        .min = 16,
        .max = 1000000,
    },
    {
        .name = "event_max_rows",
        .expected = "a number from 1000 to 100000000",
        .parse = parse_count_key,
        .print = print_count_key,
        .field = offsetof(struct config, event_max_rows),
        .min = 1000,
        .max = 100000000,
    },
    {
        .name = "event_max_age",
        .expected = "an age like 30d, 12h or 90m (at most 3650d)",
        .parse = parse_age_key,
        .print = print_age_key,
        .field = offsetof(struct config, event_max_age_s),
        .max = 3650u * 86400u,
    },
    {
        .name = "database",
        .expected = "an absolute path to the SQLite database",
        .parse = parse_path_key,
        .print = print_path_key,
        .field = offsetof(struct config, database),
        .min = sizeof(((struct config *)0)->database),
    },
    {
        .name = "control_socket",
        .expected = "an absolute path of at most 107 bytes",
        .parse = parse_path_key,
        .print = print_path_key,
        .field = offsetof(struct config, control_socket),
        .min = sizeof(((struct config *)0)->control_socket),
    },
    {
        .name = "admin_group",
        .expected = "the name of an existing group, or none",
        .parse = parse_admin_group,
        .print = print_admin_group,
    },
    {
        .name = "socket_mark",
        .expected = "a non-zero 32-bit number, like 0x746f6c6c",
        .parse = parse_socket_mark,
        .print = print_socket_mark,
    },
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void
config_defaults(struct config *cfg)
{
	socklen_t len;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->user, sizeof(cfg->user), "_tollgate");
	addr_parse("127.0.0.1:9040", &cfg->transparent_listen[0], &len);
	addr_parse("[::1]:9040", &cfg->transparent_listen[1], &len);
	cfg->n_transparent = 2;
	cfg->default_action = ACTION_DENY;
	cfg->peek_timeout_ms = 3000;
	cfg->connect_timeout_ms = 10000;
	cfg->idle_timeout_ms = 2 * 3600 * 1000;
	cfg->prompt_timeout_ms = 99 * 1000;
	snprintf(cfg->prompt_program, sizeof(cfg->prompt_program), "%s",
	         CONFIG_DEFAULT_PROMPT_PROGRAM);
	cfg->keep_redirect_on_exit = true;
	cfg->log_level = LOG_INFO;
	cfg->max_connections = 16384;
	cfg->event_queue = 4096;
	cfg->event_max_rows = 1000000;
	cfg->event_max_age_s = 30 * 86400;
	cfg->socket_mark = 0x746f6c6c; /* "toll" */
	snprintf(cfg->database, sizeof(cfg->database), "%s",
	         CONFIG_DEFAULT_DATABASE);
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
	         CONFIG_DEFAULT_CONTROL);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX + 2];
	const char *file = path != NULL ? path : CONFIG_DEFAULT_PATH;
	unsigned lineno = 0;
	FILE *f;
	size_t i;

	f = fopen(file, "r");
	if (f == NULL) {
		if (path == NULL && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", file,
		         strerror(errno));
		return -1;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", file);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *value, *eq, *hash;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen,
			         "%s:%u: line longer than %d bytes", file,
			         lineno, CONFIG_LINE_MAX);
			goto fail;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(
			    err, errlen,
			    "%s:%u: expected \"key = value\", got \"%.60s\"",
			    file, lineno, key);
			goto fail;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		for (i = 0; i < N_KEYS; i++)
			if (strcmp(key, config_keys[i].name) == 0)
				break;
		if (i == N_KEYS) {
			snprintf(err, errlen,
			         "%s:%u: unknown key \"%.60s\" (see "
			         "tollgate.conf(5))",
			         file, lineno, key);
			goto fail;
		}
		if (config_keys[i].parse(cfg, &config_keys[i], value) == -1) {
			snprintf(
			    err, errlen,
			    "%s:%u: bad value \"%.80s\" for %s: expected %s",
			    file, lineno, value, key, config_keys[i].expected);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", file,
		         strerror(errno));
		goto fail;
	}
	fclose(f);
	return config_check(cfg, err, errlen);
fail:
	fclose(f);
	return -1;
}

int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	uint16_t port = config_transparent_port(cfg);
	size_t i;

	for (i = 1; i < cfg->n_transparent; i++)
		if (addr_port(
		        (const struct sockaddr *)&cfg->transparent_listen[i]) !=
		    port) {
			snprintf(
			    err, errlen,
			    "%s: transparent_listen: every address must use "
			    "the same port (nftables redirects to one port)",
			    cfg->path[0] ? cfg->path : "defaults");
			return -1;
		}
	return 0;
}

uint16_t
config_transparent_port(const struct config *cfg)
{
	return addr_port((const struct sockaddr *)&cfg->transparent_listen[0]);
}

void
config_print(const struct config *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "# effective configuration (%s)\n",
	        cfg->path[0] ? cfg->path : "built-in defaults");
	for (i = 0; i < N_KEYS; i++) {
		fprintf(out, "%s = ", config_keys[i].name);
		config_keys[i].print(cfg, &config_keys[i], out);
	}
}
