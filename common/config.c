/*
 * config.c - the tollgate.conf parser; see config.h.
 *
 * Each key is one row of config_keys[]: its name, how to parse a value,
 * how to print it back, and what a valid value looks like (for errors).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
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

/*
 * A key, or a family of keys: a row with parse_named stands for every key
 * "name" + NAME (name ends in '.'), and its print writes whole lines.
 */
struct config_key {
	const char *name;
	const char *expected;
	int (*parse)(struct config *, const struct config_key *, const char *);
	void (*print)(const struct config *, const struct config_key *, FILE *);
	size_t field; /* offsetof() for keys that share a parser */
	size_t count; /* offsetof() the count of a list that shares one */
	unsigned min; /* smallest duration or count, or size of a path */
	unsigned max; /* largest count or age */
	/* A family's parser: 0, -1 for a bad value, -2 for a bad NAME
	 * (then name_expected says what a NAME is). */
	int (*parse_named)(struct config *, const struct config_key *,
	                   const char *name, const char *value);
	const char *name_expected;
};

/* What the front keys and the upstream keys take, for their errors. */
#define CONFIG_FRONT_EXPECTED                                                  \
	"IP:PORT, [IPv6]:PORT or unix:PATH[:MODE] (an absolute path, an "      \
	"octal mode) separated by commas (at most 16 for a front, its .NAME "  \
	"keys included), or none"
#define CONFIG_UPSTREAM_EXPECTED                                               \
	"direct, socks5://IP:PORT, socks5://[IPv6]:PORT or "                   \
	"socks5://unix:PATH "                                                  \
	"(an absolute path)"

static const char *const isolation_words[] = {"app", "app-name", "none"};
/* In the order of enum prompt_answers. */
static const char *const prompt_answers_words[] = {"all", "once-only",
                                                   "admin-forever"};

/* What a rule's via "direct" stands for, whatever `upstream` says. */
static const struct config_upstream config_direct = {
    .name = "direct",
    .kind = UPSTREAM_DIRECT,
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
parse_list(struct config *cfg, const struct config_key *k, const char *value,
           int (*fn)(struct config *, const struct config_key *, const char *))
{
	char copy[CONFIG_LINE_MAX], *item, *save;

	snprintf(copy, sizeof(copy), "%s", value);
	for (item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save))
		if (fn(cfg, k, item) == -1)
			return -1;
	return 0;
}

/* A user name or a uid in decimal into *uid; -1 when neither. */
static int
guard_uid_of(const char *item, uid_t *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (isdigit((unsigned char)item[0])) {
		errno = 0;
		v = strtoul(item, &end, 10);
		if (*end != '\0' || errno != 0 || v >= UINT32_MAX)
			return -1;
		*uid = (uid_t)v;
		return 0;
	}
	pw = getpwnam(item);
	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

static int
guard_one(struct config *cfg, const struct config_key *k, const char *item)
{
	uid_t uid;

	if (cfg->n_guard == CONFIG_MAX_GUARD || guard_uid_of(item, &uid) == -1)
		return -1;
	if (uid == 0)
		return -1; /* guarding root would guard tollgated too */
	cfg->guard_uids[cfg->n_guard++] = uid;
	return 0;
}

static int
exempt_one(struct config *cfg, const struct config_key *k, const char *item)
{
	uid_t uid;

	if (cfg->n_exempt == CONFIG_MAX_GUARD || guard_uid_of(item, &uid) == -1)
		return -1;
	cfg->guard_exempt[cfg->n_exempt++] = uid;
	return 0;
}

/*
 * "alice, 1001", or "* except root, _apt, 1234": root must be among the
 * exempt, as guarding root would guard tollgated before it drops to its
 * user (and root may remove the table anyway).
 */
static int
parse_guard_users(struct config *cfg, const struct config_key *k, const char *v)
{
	const char *rest;
	size_t i;

	cfg->n_guard = 0;
	cfg->n_exempt = 0;
	cfg->guard_all = false;
	if (v[0] != '*')
		return parse_list(cfg, k, v, guard_one);
	rest = v + 1;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (strncmp(rest, "except", 6) != 0 ||
	    (rest[6] != ' ' && rest[6] != '\t'))
		return -1;
	cfg->guard_all = true;
	if (parse_list(cfg, k, rest + 6, exempt_one) == -1)
		return -1;
	for (i = 0; i < cfg->n_exempt; i++)
		if (cfg->guard_exempt[i] == 0)
			return 0;
	return -1;
}

static void
print_uid_list(const uid_t *uids, size_t n, FILE *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct passwd *pw = getpwuid(uids[i]);

		if (i > 0)
			fputs(", ", out);
		if (pw != NULL)
			fputs(pw->pw_name, out);
		else
			fprintf(out, "%u", (unsigned)uids[i]);
	}
}

static void
print_guard_users(const struct config *cfg, const struct config_key *k,
                  FILE *out)
{
	if (cfg->guard_all) {
		fputs("* except ", out);
		print_uid_list(cfg->guard_exempt, cfg->n_exempt, out);
	} else
		print_uid_list(cfg->guard_uids, cfg->n_guard, out);
	fputc('\n', out);
}

int
config_load_subids(struct config *cfg, const char *subuid, const char *subgid,
                   char *err, size_t errlen)
{
	struct subid_range *uids, *gids;
	struct passwd *pw;
	size_t nu = 0, ng = 0;
	int ret = -1;

	pw = getpwnam(cfg->user);
	cfg->user_uid_known = pw != NULL;
	cfg->user_uid = pw != NULL ? pw->pw_uid : 0;
	uids = calloc(2 * CONFIG_MAX_SUBID, sizeof(*uids));
	if (uids == NULL) {
		snprintf(err, errlen, "reading the subordinate ids: %s",
		         strerror(errno));
		return -1;
	}
	gids = uids + CONFIG_MAX_SUBID;
	if (!cfg->guard_all &&
	    (subid_load(subuid != NULL ? subuid : CONFIG_SUBUID_PATH,
	                cfg->guard_uids, cfg->n_guard, uids, CONFIG_MAX_SUBID,
	                &nu, err, errlen) == -1 ||
	     subid_load(subgid != NULL ? subgid : CONFIG_SUBGID_PATH,
	                cfg->guard_uids, cfg->n_guard, gids, CONFIG_MAX_SUBID,
	                &ng, err, errlen) == -1))
		goto out;
	memcpy(cfg->guard_subuid, uids, nu * sizeof(uids[0]));
	cfg->n_guard_subuid = nu;
	memcpy(cfg->guard_subgid, gids, ng * sizeof(gids[0]));
	cfg->n_guard_subgid = ng;
	ret = 0;
out:
	free(uids);
	return ret;
}

static bool
uid_in(const uid_t *uids, size_t n, uid_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (uids[i] == uid)
			return true;
	return false;
}

bool
config_uid_guarded(const struct config *cfg, uid_t uid)
{
	if (cfg->guard_all)
		return !uid_in(cfg->guard_exempt, cfg->n_exempt, uid) &&
		       !(cfg->user_uid_known && cfg->user_uid == uid);
	return uid_in(cfg->guard_uids, cfg->n_guard, uid) ||
	       subid_contains(cfg->guard_subuid, cfg->n_guard_subuid, uid);
}

uid_t
config_uid_owner(const struct config *cfg, uid_t uid)
{
	size_t i;

	for (i = 0; i < cfg->n_guard_subuid; i++)
		if (uid >= cfg->guard_subuid[i].first &&
		    uid <= cfg->guard_subuid[i].last)
			return cfg->guard_subuid[i].owner;
	return uid;
}

/* Append to buf at *off what fmt says, never past len. */
static void
describe_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

static void
describe_uids(const uid_t *uids, size_t n, char *buf, size_t len, size_t *off)
{
	struct passwd *pw;
	size_t i;

	for (i = 0; i < n; i++) {
		pw = getpwuid(uids[i]);
		describe_add(buf, len, off, "%s%u (%s)", i > 0 ? ", " : "",
		             (unsigned)uids[i],
		             pw != NULL ? pw->pw_name : "no such user");
	}
}

static void
describe_ranges(const char *what, const struct subid_range *r, size_t n,
                char *buf, size_t len, size_t *off)
{
	size_t i;

	for (i = 0; i < n; i++)
		describe_add(buf, len, off, "%s%" PRIu32 "-%" PRIu32,
		             i > 0 ? ", " : what, r[i].first, r[i].last);
}

const char *
config_describe_guard_set(const struct config_guard_set *g, char *buf,
                          size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (g->all) {
		describe_add(buf, len, &off, "every uid");
		if (g->n_exempt > 0) {
			describe_add(buf, len, &off, " but ");
			describe_uids(g->exempt, g->n_exempt, buf, len, &off);
		}
		return buf;
	}
	if (g->n_uids == 0 && g->n_subuid == 0 && g->n_subgid == 0) {
		describe_add(buf, len, &off, "nobody");
		return buf;
	}
	if (g->n_uids > 0) {
		describe_add(buf, len, &off, "uid ");
		describe_uids(g->uids, g->n_uids, buf, len, &off);
	}
	describe_ranges(off > 0 ? "; subordinate uids " : "subordinate uids ",
	                g->subuid, g->n_subuid, buf, len, &off);
	describe_ranges(off > 0 ? "; subordinate gids " : "subordinate gids ",
	                g->subgid, g->n_subgid, buf, len, &off);
	return buf;
}

const char *
config_describe_guarded(const struct config *cfg, char *buf, size_t len)
{
	uid_t exempt[CONFIG_MAX_GUARD + 1];
	struct config_guard_set g = {
	    .all = cfg->guard_all,
	    .uids = cfg->guard_uids,
	    .n_uids = cfg->n_guard,
	    .exempt = exempt,
	    .n_exempt = cfg->n_exempt,
	    .subuid = cfg->guard_subuid,
	    .n_subuid = cfg->n_guard_subuid,
	    .subgid = cfg->guard_subgid,
	    .n_subgid = cfg->n_guard_subgid,
	};

	/* tollgated's own user is exempt too. */
	memcpy(exempt, cfg->guard_exempt, cfg->n_exempt * sizeof(exempt[0]));
	if (cfg->guard_all && cfg->user_uid_known &&
	    !uid_in(cfg->guard_exempt, cfg->n_exempt, cfg->user_uid))
		exempt[g.n_exempt++] = cfg->user_uid;
	if (!cfg->guard_all && cfg->n_guard == 0) {
		snprintf(buf, len, "nobody (guard_users is empty)");
		return buf;
	}
	return config_describe_guard_set(&g, buf, len);
}

static int
parse_user(struct config *cfg, const struct config_key *k, const char *v)
{
	/* Known now, so that --print-config says so as the start would. */
	if (strlen(v) >= sizeof(cfg->user) || v[0] == '\0' ||
	    getpwnam(v) == NULL)
		return -1;
	snprintf(cfg->user, sizeof(cfg->user), "%s", v);
	return 0;
}

static void
print_user(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n", cfg->user);
}

/* Address lists share one parser: the row's field is the array, its
 * count the count, its max the most addresses. */
static struct sockaddr_storage *
addrs_field(struct config *cfg, const struct config_key *k, size_t **n)
{
	*n = (size_t *)((char *)cfg + k->count);
	return (struct sockaddr_storage *)((char *)cfg + k->field);
}

static int
addrs_one(struct config *cfg, const struct config_key *k, const char *item)
{
	struct sockaddr_storage *addrs;
	socklen_t len;
	size_t *n;

	addrs = addrs_field(cfg, k, &n);
	if (*n == k->max || addr_parse(item, &addrs[*n], &len) == -1)
		return -1;
	(*n)++;
	return 0;
}

/* One address or more. */
static int
parse_addrs(struct config *cfg, const struct config_key *k, const char *v)
{
	size_t *n;

	addrs_field(cfg, k, &n);
	*n = 0;
	if (parse_list(cfg, k, v, addrs_one) == -1)
		return -1;
	return *n > 0 ? 0 : -1;
}

static void
print_addrs(const struct config *cfg, const struct config_key *k, FILE *out)
{
	const struct sockaddr_storage *addrs;
	char buf[ADDR_STRLEN];
	size_t i, *n;

	addrs = addrs_field((struct config *)cfg, k, &n);
	for (i = 0; i < *n; i++)
		fprintf(out, "%s%s", i > 0 ? ", " : "",
		        addr_fmt((const struct sockaddr *)&addrs[i], buf,
		                 sizeof(buf)));
	fputc('\n', out);
}

/* A resolver: "IP", "[IPv6]", "IPv6" (port 53), or "IP:PORT",
 * "[IPv6]:PORT". */
static int
dns_upstream_one(struct config *cfg, const struct config_key *k,
                 const char *item)
{
	struct sockaddr_storage *ss;
	char host[INET6_ADDRSTRLEN + 2];
	socklen_t len;
	size_t hlen = strlen(item);

	if (cfg->n_dns_upstream == k->max)
		return -1;
	ss = &cfg->dns_upstream[cfg->n_dns_upstream];
	if (addr_parse(item, ss, &len) == 0)
		goto ok;
	if (item[0] == '[' && hlen > 2 && item[hlen - 1] == ']') {
		item++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, item, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(CONFIG_DNS_PORT);
	} else if (inet_pton(AF_INET6, host,
	                     &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(CONFIG_DNS_PORT);
	} else
		return -1;
ok:
	cfg->n_dns_upstream++;
	return 0;
}

/* Resolvers; "" is those of /etc/resolv.conf, none is never forward. */
static int
parse_dns_upstream(struct config *cfg, const struct config_key *k,
                   const char *v)
{
	cfg->n_dns_upstream = 0;
	cfg->dns_upstream_none = strcmp(v, "none") == 0;
	if (cfg->dns_upstream_none)
		return 0;
	return parse_list(cfg, k, v, dns_upstream_one);
}

static void
print_dns_upstream(const struct config *cfg, const struct config_key *k,
                   FILE *out)
{
	if (cfg->dns_upstream_none)
		fputs("none\n", out);
	else if (cfg->n_dns_upstream == 0)
		fputs("# the resolvers of /etc/resolv.conf at start\n", out);
	else
		print_addrs(cfg, k, out);
}

/*
 * "ADDR/PREFIX" of family (AF_INET or AF_INET6) into addr (4 or 16
 * bytes, network order, host bits cleared) and *prefix, which must be
 * from min to max.  0 or -1.
 */
static int
cidr_parse(const char *s, int family, unsigned min, unsigned max, uint8_t *addr,
           unsigned *prefix)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t i, alen = family == AF_INET ? 4 : 16;
	unsigned long p;
	char *end;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(host) ||
	    !isdigit((unsigned char)slash[1]))
		return -1;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p < min || p > max ||
	    inet_pton(family, host, addr) != 1)
		return -1;
	for (i = 0; i < alen; i++)
		if (i * 8 >= p)
			addr[i] = 0;
		else if (i * 8 + 8 > p)
			addr[i] &= (uint8_t)(0xff << (8 - (p - i * 8)));
	*prefix = (unsigned)p;
	return 0;
}

static int
parse_fake_ip_range(struct config *cfg, const struct config_key *k,
                    const char *v)
{
	struct in_addr net;
	unsigned prefix;

	if (cidr_parse(v, AF_INET, k->min, k->max, (uint8_t *)&net, &prefix) ==
	    -1)
		return -1;
	cfg->fake_ip_net = net;
	cfg->fake_ip_prefix = prefix;
	return 0;
}

static void
print_fake_ip_range(const struct config *cfg, const struct config_key *k,
                    FILE *out)
{
	char buf[INET_ADDRSTRLEN];

	fprintf(out, "%s/%u\n",
	        inet_ntop(AF_INET, &cfg->fake_ip_net, buf, sizeof(buf)),
	        cfg->fake_ip_prefix);
}

static int
parse_fake_ip6_range(struct config *cfg, const struct config_key *k,
                     const char *v)
{
	struct in6_addr net;
	unsigned prefix;

	if (strcmp(v, "none") == 0) {
		memset(&cfg->fake_ip6_net, 0, sizeof(cfg->fake_ip6_net));
		cfg->fake_ip6_prefix = 0;
		return 0;
	}
	if (cidr_parse(v, AF_INET6, k->min, k->max, (uint8_t *)&net, &prefix) ==
	    -1)
		return -1;
	cfg->fake_ip6_net = net;
	cfg->fake_ip6_prefix = prefix;
	return 0;
}

static void
print_fake_ip6_range(const struct config *cfg, const struct config_key *k,
                     FILE *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (cfg->fake_ip6_prefix == 0)
		fputs("none\n", out);
	else
		fprintf(
		    out, "%s/%u\n",
		    inet_ntop(AF_INET6, &cfg->fake_ip6_net, buf, sizeof(buf)),
		    cfg->fake_ip6_prefix);
}

/*
 * A unix socket's path: absolute, fitting sun_path, and no blank, comma
 * or control byte (a list item never has one; a path with one would not
 * print back).  0 or -1.
 */
static int
unix_path(struct config_listen *l, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] != '/' || len >= sizeof(l->path))
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == ',' || s[i] == 0x7f)
			return -1;
	memcpy(l->path, s, len);
	l->path[len] = '\0';
	return 0;
}

/*
 * "IP:PORT", "[IPv6]:PORT" or "unix:PATH"; with_mode takes
 * "unix:PATH:MODE" too: digits after the last ':' are the octal mode (at
 * most 0777).  0 or -1 (*l then undefined).
 */
static int
listen_parse(struct config_listen *l, const char *s, bool with_mode)
{
	const char *path, *colon, *p;
	unsigned long mode = CONFIG_UNIX_MODE;
	socklen_t len;
	char *end;

	memset(l, 0, sizeof(*l));
	if (strncmp(s, "unix:", 5) != 0)
		return addr_parse(s, &l->addr, &len);
	path = s + 5;
	colon = with_mode ? strrchr(path, ':') : NULL;
	if (colon != NULL) {
		for (p = colon + 1; *p >= '0' && *p <= '9'; p++)
			;
		if (*p != '\0' || p == colon + 1)
			colon = NULL; /* not a mode: part of the path */
	}
	if (colon != NULL) {
		errno = 0;
		mode = strtoul(colon + 1, &end, 8);
		if (*end != '\0' || errno != 0 || mode > 0777)
			return -1;
	} else
		colon = path + strlen(path);
	l->is_unix = true;
	l->mode = (mode_t)mode;
	return unix_path(l, path, (size_t)(colon - path));
}

const char *
config_listen_fmt(const struct config_listen *l, char *buf, size_t len)
{
	if (l->is_unix)
		snprintf(buf, len, "unix:%s:%04o", l->path, (unsigned)l->mode);
	else
		addr_fmt((const struct sockaddr *)&l->addr, buf, len);
	return buf;
}

/* A front's list: the row's field is the array, its count the count. */
static struct config_listen *
front_field(struct config *cfg, const struct config_key *k, size_t **n)
{
	*n = (size_t *)((char *)cfg + k->count);
	return (struct config_listen *)((char *)cfg + k->field);
}

/* The route the items front_one() parses now are given (set by the key
 * being parsed; parsing is not reentrant). */
static const char *front_via = "";

static int
front_one(struct config *cfg, const struct config_key *k, const char *item)
{
	struct config_listen *fronts;
	size_t *n;

	fronts = front_field(cfg, k, &n);
	if (*n == CONFIG_MAX_FRONT ||
	    listen_parse(&fronts[*n], item, true) == -1)
		return -1;
	snprintf(fronts[*n].via, sizeof(fronts[*n].via), "%s", front_via);
	(*n)++;
	return 0;
}

/* Drop the front's items of route via (what a key's new value replaces). */
static void
front_drop_via(struct config *cfg, const struct config_key *k, const char *via)
{
	struct config_listen *fronts;
	size_t i, j = 0, *n;

	fronts = front_field(cfg, k, &n);
	for (i = 0; i < *n; i++)
		if (strcmp(fronts[i].via, via) != 0)
			fronts[j++] = fronts[i];
	*n = j;
}

/* KEY = items: the front's addresses whose clients take `upstream`. */
static int
parse_front(struct config *cfg, const struct config_key *k, const char *v)
{
	front_drop_via(cfg, k, "");
	if (strcmp(v, "none") == 0)
		return 0;
	front_via = "";
	return parse_list(cfg, k, v, front_one);
}

/* KEY.NAME = items: those whose clients take upstream.NAME (or direct). */
static int
parse_front_named(struct config *cfg, const struct config_key *k,
                  const char *name, const char *v)
{
	if (!config_upstream_name_ok(name))
		return -2;
	front_drop_via(cfg, k, name);
	if (strcmp(v, "none") == 0)
		return 0;
	front_via = name;
	return parse_list(cfg, k, v, front_one);
}

/* The items of route via, as a value ("none" when there are none). */
static void
print_front_via(const struct config_listen *fronts, size_t n, const char *via,
                FILE *out)
{
	char buf[CONFIG_LISTEN_STRLEN];
	size_t i, shown = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(fronts[i].via, via) != 0)
			continue;
		fprintf(out, "%s%s", shown++ > 0 ? ", " : "",
		        config_listen_fmt(&fronts[i], buf, sizeof(buf)));
	}
	if (shown == 0)
		fputs("none", out);
	fputc('\n', out);
}

static void
print_front(const struct config *cfg, const struct config_key *k, FILE *out)
{
	const struct config_listen *fronts;
	size_t *n;

	fronts = front_field((struct config *)cfg, k, &n);
	print_front_via(fronts, *n, "", out);
}

/* KEY.NAME lines, one for each route the front's items name. */
static void
print_front_named(const struct config *cfg, const struct config_key *k,
                  FILE *out)
{
	const struct config_listen *fronts;
	size_t i, j, *n;

	fronts = front_field((struct config *)cfg, k, &n);
	for (i = 0; i < *n; i++) {
		if (fronts[i].via[0] == '\0')
			continue;
		for (j = 0; j < i && strcmp(fronts[j].via, fronts[i].via); j++)
			;
		if (j < i)
			continue; /* printed with the first of its route */
		fprintf(out, "%s%s = ", k->name, fronts[i].via);
		print_front_via(fronts, *n, fronts[i].via, out);
	}
}

bool
config_upstream_name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > CONFIG_UPSTREAM_NAME_MAX ||
	    strcmp(name, "direct") == 0 || strcmp(name, "upstream") == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		      name[i] == '-'))
			return false;
	return true;
}

/* "direct", "socks5://IP:PORT", "socks5://[IPv6]:PORT" or
 * "socks5://unix:PATH" into u's kind and address.  0 or -1. */
static int
upstream_parse(struct config_upstream *u, const char *v)
{
	memset(&u->at, 0, sizeof(u->at));
	if (strcmp(v, "direct") == 0) {
		u->kind = UPSTREAM_DIRECT;
		return 0;
	}
	if (strncmp(v, "socks5://", 9) != 0 ||
	    listen_parse(&u->at, v + 9, false) == -1)
		return -1;
	u->kind = UPSTREAM_SOCKS5;
	return 0;
}

const char *
config_upstream_fmt(const struct config_upstream *u, char *buf, size_t len)
{
	char at[CONFIG_LISTEN_STRLEN];

	if (u->kind == UPSTREAM_DIRECT)
		snprintf(buf, len, "direct");
	else if (u->at.is_unix)
		snprintf(buf, len, "socks5://unix:%s", u->at.path);
	else
		snprintf(buf, len, "socks5://%s",
		         addr_fmt((const struct sockaddr *)&u->at.addr, at,
		                  sizeof(at)));
	return buf;
}

static int
parse_upstream(struct config *cfg, const struct config_key *k, const char *v)
{
	struct config_upstream u = cfg->upstreams[0];

	if (upstream_parse(&u, v) == -1)
		return -1;
	cfg->upstreams[0] = u;
	return 0;
}

static void
print_upstream(const struct config *cfg, const struct config_key *k, FILE *out)
{
	char buf[CONFIG_UPSTREAM_STRLEN];

	fprintf(out, "%s\n",
	        config_upstream_fmt(&cfg->upstreams[0], buf, sizeof(buf)));
}

/* upstream.NAME: a new row, or the one an earlier line gave NAME. */
static int
parse_upstream_named(struct config *cfg, const struct config_key *k,
                     const char *name, const char *v)
{
	struct config_upstream u;
	size_t i;

	if (!config_upstream_name_ok(name))
		return -2;
	for (i = 1; i < cfg->n_upstreams; i++)
		if (strcmp(cfg->upstreams[i].name, name) == 0)
			break;
	if (i == CONFIG_MAX_UPSTREAMS)
		return -2;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	if (upstream_parse(&u, v) == -1)
		return -1;
	cfg->upstreams[i] = u;
	if (i == cfg->n_upstreams)
		cfg->n_upstreams++;
	return 0;
}

static void
print_upstream_named(const struct config *cfg, const struct config_key *k,
                     FILE *out)
{
	char buf[CONFIG_UPSTREAM_STRLEN];
	size_t i;

	for (i = 1; i < cfg->n_upstreams; i++)
		fprintf(
		    out, "%s%s = %s\n", k->name, cfg->upstreams[i].name,
		    config_upstream_fmt(&cfg->upstreams[i], buf, sizeof(buf)));
}

const struct config_upstream *
config_upstream_find(const struct config *cfg, const char *via)
{
	size_t i;

	if (via[0] == '\0' || strcmp(via, "upstream") == 0)
		return &cfg->upstreams[0];
	if (strcmp(via, "direct") == 0)
		return &config_direct;
	for (i = 1; i < cfg->n_upstreams; i++)
		if (strcmp(cfg->upstreams[i].name, via) == 0)
			return &cfg->upstreams[i];
	return NULL;
}

static int
parse_isolation(struct config *cfg, const struct config_key *k, const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(isolation_words) / sizeof(isolation_words[0]);
	     i++)
		if (strcmp(v, isolation_words[i]) == 0) {
			cfg->isolation = (int)i;
			return 0;
		}
	return -1;
}

static void
print_isolation(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n",
	        cfg->isolation >= 0 && cfg->isolation <= 2
	            ? isolation_words[cfg->isolation]
	            : "app");
}

const char *
prompt_answers_name(enum prompt_answers a)
{
	return (unsigned)a < sizeof(prompt_answers_words) /
	                         sizeof(prompt_answers_words[0])
	           ? prompt_answers_words[a]
	           : "?";
}

static int
parse_no_agent_action(struct config *cfg, const struct config_key *k,
                      const char *v)
{
	if (strcmp(v, "default") != 0 && strcmp(v, "wait") != 0)
		return -1;
	cfg->no_agent_wait = v[0] == 'w';
	return 0;
}

static void
print_no_agent_action(const struct config *cfg, const struct config_key *k,
                      FILE *out)
{
	fprintf(out, "%s\n", cfg->no_agent_wait ? "wait" : "default");
}

static int
parse_prompt_answers(struct config *cfg, const struct config_key *k,
                     const char *v)
{
	size_t i;

	for (i = 0;
	     i < sizeof(prompt_answers_words) / sizeof(prompt_answers_words[0]);
	     i++)
		if (strcmp(v, prompt_answers_words[i]) == 0) {
			cfg->prompt_answers = (enum prompt_answers)i;
			return 0;
		}
	return -1;
}

static void
print_prompt_answers(const struct config *cfg, const struct config_key *k,
                     FILE *out)
{
	fprintf(out, "%s\n", prompt_answers_name(cfg->prompt_answers));
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

/* A path key that also takes "none" (stored as ""). */
static int
parse_path_or_none_key(struct config *cfg, const struct config_key *k,
                       const char *v)
{
	if (strcmp(v, "none") == 0) {
		path_field(cfg, k)[0] = '\0';
		return 0;
	}
	return parse_path_key(cfg, k, v);
}

static void
print_path_or_none_key(const struct config *cfg, const struct config_key *k,
                       FILE *out)
{
	const char *v = path_field((struct config *)cfg, k);

	fprintf(out, "%s\n", v[0] != '\0' ? v : "none");
}

/* A path, none, or builtin (a list compiled into the program). */
static int
parse_list_source_key(struct config *cfg, const struct config_key *k,
                      const char *v)
{
	if (strcmp(v, CONFIG_BUILTIN) == 0) {
		snprintf(path_field(cfg, k), k->min, "%s", CONFIG_BUILTIN);
		return 0;
	}
	return parse_path_or_none_key(cfg, k, v);
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

/* Yes/no keys share one parser: the row gives the field. */
static bool *
bool_field(struct config *cfg, const struct config_key *k)
{
	return (bool *)((char *)cfg + k->field);
}

static int
parse_bool_key(struct config *cfg, const struct config_key *k, const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		*bool_field(cfg, k) = true;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		*bool_field(cfg, k) = false;
	else
		return -1;
	return 0;
}

static void
print_bool_key(const struct config *cfg, const struct config_key *k, FILE *out)
{
	fprintf(out, "%s\n",
	        *bool_field((struct config *)cfg, k) ? "yes" : "no");
}

/* connect_tracking: auto (a bool true) or no. */
static int
parse_connect_tracking(struct config *cfg, const struct config_key *k,
                       const char *v)
{
	if (strcasecmp(v, "auto") == 0)
		cfg->connect_tracking = true;
	else if (strcasecmp(v, "no") == 0)
		cfg->connect_tracking = false;
	else
		return -1;
	return 0;
}

static void
print_connect_tracking(const struct config *cfg, const struct config_key *k,
                       FILE *out)
{
	fprintf(out, "%s\n", cfg->connect_tracking ? "auto" : "no");
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
        .expected = "user names or uids (not root) separated by commas, "
                    "or * except USERS (root among them)",
        .parse = parse_guard_users,
        .print = print_guard_users,
    },
    {
        .name = "user",
        .expected = "the name of an account of this system, for "
                    "tollgated to run as (sudo make install-user makes "
                    "_tollgate)",
        .parse = parse_user,
        .print = print_user,
    },
    {
        .name = "transparent_listen",
        .expected =
            "IP:PORT or [IPv6]:PORT addresses separated by commas (at most 4)",
        .parse = parse_addrs,
        .print = print_addrs,
        .field = offsetof(struct config, transparent_listen),
        .count = offsetof(struct config, n_transparent),
        .max = CONFIG_MAX_LISTEN,
    },
    {
        .name = "socks_listen",
        .expected = CONFIG_FRONT_EXPECTED,
        .parse = parse_front,
        .print = print_front,
        .field = offsetof(struct config, socks_listen),
        .count = offsetof(struct config, n_socks_listen),
    },
    {
        .name = "socks_listen.",
        .expected = CONFIG_FRONT_EXPECTED,
        .print = print_front_named,
        .field = offsetof(struct config, socks_listen),
        .count = offsetof(struct config, n_socks_listen),
        .parse_named = parse_front_named,
        .name_expected = "socks_listen.NAME with NAME 1 to 32 of a-z, 0-9, "
                         "_ and -, the upstream.NAME its clients take",
    },
    {
        .name = "http_connect_listen",
        .expected = CONFIG_FRONT_EXPECTED,
        .parse = parse_front,
        .print = print_front,
        .field = offsetof(struct config, connect_listen),
        .count = offsetof(struct config, n_connect_listen),
    },
    {
        .name = "http_connect_listen.",
        .expected = CONFIG_FRONT_EXPECTED,
        .print = print_front_named,
        .field = offsetof(struct config, connect_listen),
        .count = offsetof(struct config, n_connect_listen),
        .parse_named = parse_front_named,
        .name_expected = "http_connect_listen.NAME with NAME 1 to 32 of "
                         "a-z, 0-9, _ and -, the upstream.NAME its clients "
                         "take",
    },
    {
        .name = "upstream",
        .expected = CONFIG_UPSTREAM_EXPECTED,
        .parse = parse_upstream,
        .print = print_upstream,
    },
    {
        .name = "upstream.",
        .expected = CONFIG_UPSTREAM_EXPECTED,
        .print = print_upstream_named,
        .parse_named = parse_upstream_named,
        .name_expected = "upstream.NAME with NAME 1 to 32 of a-z, 0-9, _ "
                         "and -, not direct nor upstream (at most 15 such "
                         "keys)",
    },
    {
        .name = "isolation",
        .expected = "app, app-name or none",
        .parse = parse_isolation,
        .print = print_isolation,
    },
    {
        .name = "dns_listen",
        .expected = "IP:PORT or [IPv6]:PORT addresses on one port, "
                    "separated by commas (at most 4)",
        .parse = parse_addrs,
        .print = print_addrs,
        .field = offsetof(struct config, dns_listen),
        .count = offsetof(struct config, n_dns_listen),
        .max = CONFIG_MAX_DNS,
    },
    {
        .name = "dns_upstream",
        .expected = "IP, IP:PORT, [IPv6] or [IPv6]:PORT addresses "
                    "separated by commas (at most 4), nothing for the "
                    "resolvers of /etc/resolv.conf, or none",
        .parse = parse_dns_upstream,
        .print = print_dns_upstream,
        .field = offsetof(struct config, dns_upstream),
        .count = offsetof(struct config, n_dns_upstream),
        .max = CONFIG_MAX_DNS,
    },
    {
        .name = "fake_ip_range",
        .expected = "an IPv4 network like 198.18.0.0/15, prefix 8 to 30",
        .parse = parse_fake_ip_range,
        .print = print_fake_ip_range,
        .min = 8,
        .max = 30,
    },
    {
        .name = "fake_ip6_range",
        .expected = "an IPv6 network like fd00:7467::/64, prefix 8 to "
                    "120, or none",
        .parse = parse_fake_ip6_range,
        .print = print_fake_ip6_range,
        .min = 8,
        .max = 120,
    },
    {
        .name = "fake_ip_max",
        .expected = "a number from 16 to 16777216",
        .parse = parse_count_key,
        .print = print_count_key,
        .field = offsetof(struct config, fake_ip_max),
        .min = CONFIG_FAKE_IP_MIN,
        .max = CONFIG_FAKE_IP_MAXN,
    },
    {
        .name = "fake_ip_ttl",
        .expected = "a duration from 1s to 1d, like 60s or 5m",
        .parse = parse_duration_key,
        .print = print_duration_key,
        .field = offsetof(struct config, fake_ip_ttl_ms),
        .min = 1000,
        .max = 86400 * 1000,
    },
    {
        .name = "block_encrypted_dns",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, block_encrypted_dns),
    },
    {
        .name = "encrypted_dns_list",
        .expected = "builtin, an absolute path to a list of "
                    "DNS-over-HTTPS resolvers' names, or none",
        .parse = parse_list_source_key,
        .print = print_path_or_none_key,
        .field = offsetof(struct config, encrypted_dns_list),
        .min = sizeof(((struct config *)0)->encrypted_dns_list),
    },
    {
        .name = "default_action",
        .expected = "allow, deny or reject",
        .parse = parse_default_action,
        .print = print_default_action,
    },
    {
        .name = "distrust_preload",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, distrust_preload),
    },
    {
        .name = "distrust_userns",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, distrust_userns),
    },
    {
        .name = "shared_socket_check",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, shared_socket_check),
    },
    {
        .name = "connect_tracking",
        .expected = "auto or no",
        .parse = parse_connect_tracking,
        .print = print_connect_tracking,
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
        .name = "prompt_answers",
        .expected = "all, once-only or admin-forever",
        .parse = parse_prompt_answers,
        .print = print_prompt_answers,
    },
    {
        .name = "no_agent_action",
        .expected = "default or wait",
        .parse = parse_no_agent_action,
        .print = print_no_agent_action,
    },
    {
        .name = "notify_denials",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, notify_denials),
    },
    {
        .name = "keep_redirect_on_exit",
        .expected = "yes or no",
        .parse = parse_bool_key,
        .print = print_bool_key,
        .field = offsetof(struct config, keep_redirect_on_exit),
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
        .name = "max_pending_per_user",
        .expected = "a number from 1 to 1000000",
        .parse = parse_count_key,
        .print = print_count_key,
        .field = offsetof(struct config, max_pending_per_user),
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
	snprintf(cfg->upstreams[0].name, sizeof(cfg->upstreams[0].name),
	         "upstream");
	cfg->upstreams[0].kind = UPSTREAM_DIRECT;
	cfg->n_upstreams = 1;
	cfg->isolation = 0; /* app */
	/* Not 5353: avahi and other mDNS daemons hold it on every address,
	 * and a bind to loopback beside theirs fails. */
	addr_parse("127.0.0.1:9053", &cfg->dns_listen[0], &len);
	addr_parse("[::1]:9053", &cfg->dns_listen[1], &len);
	cfg->n_dns_listen = 2;
	inet_pton(AF_INET, "198.18.0.0", &cfg->fake_ip_net);
	cfg->fake_ip_prefix = 15;
	cfg->fake_ip_max = 65536;
	cfg->fake_ip_ttl_ms = 60 * 1000;
	snprintf(cfg->encrypted_dns_list, sizeof(cfg->encrypted_dns_list), "%s",
	         CONFIG_BUILTIN);
	cfg->default_action = ACTION_DENY;
	cfg->peek_timeout_ms = 3000;
	cfg->connect_timeout_ms = 10000;
	cfg->idle_timeout_ms = 2 * 3600 * 1000;
	cfg->prompt_timeout_ms = 99 * 1000;
	snprintf(cfg->prompt_program, sizeof(cfg->prompt_program), "%s",
	         CONFIG_DEFAULT_PROMPT_PROGRAM);
	cfg->keep_redirect_on_exit = true;
	cfg->connect_tracking = true;
	cfg->log_level = LOG_INFO;
	cfg->max_connections = 16384;
	cfg->max_pending_per_user = 512;
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

static int config_check_port(const struct config *cfg, const char *key,
                             const struct sockaddr_storage *addrs, size_t n,
                             unsigned line, char *err, size_t errlen);

/* The keys of a file and the line of each, to refuse one given twice. */
struct config_seen {
	char **key;
	unsigned *line;
	size_t n, cap;
};

/* The line key was first given on, or 0. */
static unsigned
seen_line(const struct config_seen *sn, const char *key)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		if (strcmp(sn->key[i], key) == 0)
			return sn->line[i];
	return 0;
}

static int
seen_add(struct config_seen *sn, const char *key, unsigned line)
{
	size_t cap;
	char **k;
	unsigned *l;

	if (sn->n == sn->cap) {
		cap = sn->cap == 0 ? 32 : 2 * sn->cap;
		if ((k = realloc(sn->key, cap * sizeof(*k))) == NULL)
			return -1;
		sn->key = k;
		if ((l = realloc(sn->line, cap * sizeof(*l))) == NULL)
			return -1;
		sn->line = l;
		sn->cap = cap;
	}
	if ((sn->key[sn->n] = strdup(key)) == NULL)
		return -1;
	sn->line[sn->n++] = line;
	return 0;
}

static void
seen_free(struct config_seen *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		free(sn->key[i]);
	free(sn->key);
	free(sn->line);
}

/*
 * The next line of f into line (CONFIG_LINE_MAX + 2 bytes): 1, 0 at the
 * end, -1 when it is too long or holds a NUL byte (err says which).  The
 * buffer is filled with a byte that is not NUL first, so the NUL fgets()
 * ends the line with is the last one in it: any before is the file's.
 */
static int
config_line(FILE *f, char *line, const char *file, unsigned lineno, char *err,
            size_t errlen)
{
	const char *end;

	memset(line, 'x', CONFIG_LINE_MAX + 2);
	if (fgets(line, CONFIG_LINE_MAX + 2, f) == NULL)
		return 0;
	end = memrchr(line, '\0', CONFIG_LINE_MAX + 2);
	if (end != NULL && strlen(line) < (size_t)(end - line)) {
		snprintf(err, errlen, "%s:%u: NUL byte", file, lineno);
		return -1;
	}
	if (strchr(line, '\n') == NULL && !feof(f)) {
		snprintf(err, errlen, "%s:%u: line longer than %d bytes", file,
		         lineno, CONFIG_LINE_MAX);
		return -1;
	}
	return 1;
}

/* The checks of config_check() that concern one key, with its line. */
static int
config_check_lines(const struct config *cfg, const struct config_seen *sn,
                   char *err, size_t errlen)
{
	if (config_check_port(cfg, "transparent_listen",
	                      cfg->transparent_listen, cfg->n_transparent,
	                      seen_line(sn, "transparent_listen"), err,
	                      errlen) == -1 ||
	    config_check_port(cfg, "dns_listen", cfg->dns_listen,
	                      cfg->n_dns_listen, seen_line(sn, "dns_listen"),
	                      err, errlen) == -1)
		return -1;
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX + 2];
	const char *file = path != NULL ? path : CONFIG_DEFAULT_PATH;
	struct config_seen seen = {0};
	unsigned lineno = 0, first;
	FILE *f;
	size_t i;
	int rc;

	f = fopen(file, "r");
	if (f == NULL) {
		if (path == NULL && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", file,
		         strerror(errno));
		return -1;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", file);
	for (;;) {
		char *key, *value, *eq, *hash;

		lineno++;
		rc = config_line(f, line, file, lineno, err, errlen);
		if (rc == -1)
			goto fail;
		if (rc == 0)
			break;
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
			if (config_keys[i].parse_named != NULL
			        ? strncmp(key, config_keys[i].name,
			                  strlen(config_keys[i].name)) == 0
			        : strcmp(key, config_keys[i].name) == 0)
				break;
		if (i == N_KEYS) {
			snprintf(err, errlen,
			         "%s:%u: unknown key \"%.60s\" (see "
			         "tollgate.conf(5))",
			         file, lineno, key);
			goto fail;
		}
		/* No key is meant to repeat: a second one is a mistake
		 * (last wins would hide the first). */
		if ((first = seen_line(&seen, key)) != 0) {
			snprintf(err, errlen,
			         "%s:%u: %.60s given again (first at line %u)",
			         file, lineno, key, first);
			goto fail;
		}
		if (seen_add(&seen, key, lineno) == -1) {
			snprintf(err, errlen, "%s:%u: %s", file, lineno,
			         strerror(errno));
			goto fail;
		}
		if (config_keys[i].parse_named != NULL)
			rc = config_keys[i].parse_named(
			    cfg, &config_keys[i],
			    key + strlen(config_keys[i].name), value);
		else
			rc = config_keys[i].parse(cfg, &config_keys[i], value);
		if (rc == -2) {
			snprintf(err, errlen,
			         "%s:%u: bad key \"%.60s\": expected %s", file,
			         lineno, key, config_keys[i].name_expected);
			goto fail;
		}
		if (rc == -1) {
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
	rc = config_check_lines(cfg, &seen, err, errlen);
	seen_free(&seen);
	if (rc == -1)
		return -1;
	return config_check(cfg, err, errlen);
fail:
	seen_free(&seen);
	fclose(f);
	return -1;
}

/* The same TCP address, or the same unix path. */
static bool
listen_same(const struct config_listen *a, const struct config_listen *b)
{
	if (a->is_unix != b->is_unix)
		return false;
	if (a->is_unix)
		return strcmp(a->path, b->path) == 0;
	return addr_equal((const struct sockaddr *)&a->addr,
	                  (const struct sockaddr *)&b->addr) != 0;
}

/* No address twice across the listening keys (and no front on the
 * control socket): each serves one front. */
static int
config_check_listen(const struct config *cfg, char *err, size_t errlen)
{
	struct {
		const char *key;
		struct config_listen l;
	} all[CONFIG_MAX_LISTEN + 2 * CONFIG_MAX_FRONT + CONFIG_MAX_DNS + 1];
	char buf[CONFIG_LISTEN_STRLEN];
	size_t i, j, n = 0;

	for (i = 0; i < cfg->n_transparent; i++) {
		all[n].key = "transparent_listen";
		memset(&all[n].l, 0, sizeof(all[n].l));
		all[n++].l.addr = cfg->transparent_listen[i];
	}
	for (i = 0; i < cfg->n_socks_listen; i++) {
		all[n].key = "socks_listen";
		all[n++].l = cfg->socks_listen[i];
	}
	for (i = 0; i < cfg->n_connect_listen; i++) {
		all[n].key = "http_connect_listen";
		all[n++].l = cfg->connect_listen[i];
	}
	for (i = 0; i < cfg->n_dns_listen; i++) {
		all[n].key = "dns_listen";
		memset(&all[n].l, 0, sizeof(all[n].l));
		all[n++].l.addr = cfg->dns_listen[i];
	}
	all[n].key = "control_socket";
	memset(&all[n].l, 0, sizeof(all[n].l));
	all[n].l.is_unix = true;
	snprintf(all[n].l.path, sizeof(all[n].l.path), "%s",
	         cfg->control_socket);
	n++;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			if (!listen_same(&all[i].l, &all[j].l))
				continue;
			if (all[i].l.is_unix)
				snprintf(buf, sizeof(buf), "unix:%s",
				         all[i].l.path);
			else
				config_listen_fmt(&all[i].l, buf, sizeof(buf));
			snprintf(err, errlen,
			         "%s: %s: %s is given twice (also in %s): "
			         "expected each address once, for one front",
			         cfg->path[0] ? cfg->path : "defaults",
			         all[j].key, buf, all[i].key);
			return -1;
		}
	return 0;
}

/* Every address of a list on one port: nftables redirects to a port. */
static int
config_check_port(const struct config *cfg, const char *key,
                  const struct sockaddr_storage *addrs, size_t n, unsigned line,
                  char *err, size_t errlen)
{
	char where[32] = "";
	size_t i;

	if (line > 0)
		snprintf(where, sizeof(where), ":%u", line);
	for (i = 1; i < n; i++)
		if (addr_port((const struct sockaddr *)&addrs[i]) !=
		    addr_port((const struct sockaddr *)&addrs[0])) {
			snprintf(err, errlen,
			         "%s%s: %s: every address must use the same "
			         "port (nftables redirects to one port)",
			         cfg->path[0] ? cfg->path : "defaults", where,
			         key);
			return -1;
		}
	return 0;
}

/* Addresses a network of prefix bits out of bits hands out: all but
 * its first and last (a wide one, more than any fake_ip_max). */
static unsigned long long
fake_ip_room(unsigned bits, unsigned prefix)
{
	if (bits - prefix >= 32)
		return 1ull << 32;
	return (1ull << (bits - prefix)) - 2;
}

/* fake_ip_max names must each get an address of each range. */
static int
config_check_fake_ip(const struct config *cfg, char *err, size_t errlen)
{
	const char *key = NULL;
	unsigned long long room = 0;

	if (cfg->fake_ip_max > fake_ip_room(32, cfg->fake_ip_prefix)) {
		key = "fake_ip_range";
		room = fake_ip_room(32, cfg->fake_ip_prefix);
	} else if (cfg->fake_ip6_prefix != 0 &&
	           cfg->fake_ip_max > fake_ip_room(128, cfg->fake_ip6_prefix)) {
		key = "fake_ip6_range";
		room = fake_ip_room(128, cfg->fake_ip6_prefix);
	}
	if (key == NULL)
		return 0;
	snprintf(err, errlen,
	         "%s: fake_ip_max: %u names do not fit %s, which has %llu "
	         "addresses to hand out: expected a smaller fake_ip_max or a "
	         "wider range",
	         cfg->path[0] ? cfg->path : "defaults", cfg->fake_ip_max, key,
	         room);
	return -1;
}

/* Every KEY.NAME front names an upstream.NAME the file gives. */
static int
config_check_front_routes(const struct config *cfg, const char *key,
                          const struct config_listen *fronts, size_t n,
                          char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fronts[i].via[0] == '\0' ||
		    config_upstream_find(cfg, fronts[i].via) != NULL)
			continue;
		snprintf(err, errlen,
		         "%s: %s.%s: no upstream.%s: expected an upstream.NAME "
		         "line for each %s.NAME",
		         cfg->path[0] ? cfg->path : "defaults", key,
		         fronts[i].via, fronts[i].via, key);
		return -1;
	}
	return 0;
}

int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	if (config_check_port(cfg, "transparent_listen",
	                      cfg->transparent_listen, cfg->n_transparent, 0,
	                      err, errlen) == -1 ||
	    config_check_port(cfg, "dns_listen", cfg->dns_listen,
	                      cfg->n_dns_listen, 0, err, errlen) == -1 ||
	    config_check_fake_ip(cfg, err, errlen) == -1 ||
	    config_check_front_routes(cfg, "socks_listen", cfg->socks_listen,
	                              cfg->n_socks_listen, err, errlen) == -1 ||
	    config_check_front_routes(cfg, "http_connect_listen",
	                              cfg->connect_listen,
	                              cfg->n_connect_listen, err, errlen) == -1)
		return -1;
	return config_check_listen(cfg, err, errlen);
}

uint16_t
config_transparent_port(const struct config *cfg)
{
	return addr_port((const struct sockaddr *)&cfg->transparent_listen[0]);
}

uint16_t
config_dns_port(const struct config *cfg)
{
	return addr_port((const struct sockaddr *)&cfg->dns_listen[0]);
}

void
config_print(const struct config *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "# effective configuration (%s)\n",
	        cfg->path[0] ? cfg->path : "built-in defaults");
	for (i = 0; i < N_KEYS; i++) {
		if (config_keys[i].parse_named == NULL)
			fprintf(out, "%s = ", config_keys[i].name);
		config_keys[i].print(cfg, &config_keys[i], out);
	}
}
