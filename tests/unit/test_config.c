/*
 * test_config.c - tollgate.conf: defaults, every key, every kind of error;
 * and the helpers the parser stands on (addresses, log key=value).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"

/* Write text to a temporary file; returns its path (static buffer). */
static const char *
conf_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/tg-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	return path;
}

static int
load(struct config *cfg, const char *text, char *err, size_t errlen)
{
	const char *path = conf_file(text);
	int rc;

	config_defaults(cfg);
	rc = config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

/* What config_print() prints for cfg; the caller frees it. */
static char *
printed(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	config_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_defaults(void **state)
{
	struct config cfg;
	char buf[ADDR_STRLEN];

	config_defaults(&cfg);
	assert_int_equal(cfg.default_action, ACTION_DENY);
	assert_true(cfg.keep_redirect_on_exit);
	assert_int_equal(cfg.n_transparent, 2);
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.transparent_listen[0], buf,
	             sizeof(buf)),
	    "127.0.0.1:9040");
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.transparent_listen[1], buf,
	             sizeof(buf)),
	    "[::1]:9040");
	assert_int_equal(config_transparent_port(&cfg), 9040);
	assert_string_equal(cfg.user, "_tollgate");
	assert_int_equal(cfg.n_guard, 0);
	/* The DNS stub on loopback, port 9053, both families. */
	assert_int_equal(cfg.n_dns_listen, 2);
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_listen[0], buf, sizeof(buf)),
	    "127.0.0.1:9053");
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_listen[1], buf, sizeof(buf)),
	    "[::1]:9053");
	assert_int_equal(config_dns_port(&cfg), 9053);
	assert_int_equal(cfg.n_dns_upstream, 0);
	assert_false(cfg.dns_upstream_none);
	assert_string_equal(
	    inet_ntop(AF_INET, &cfg.fake_ip_net, buf, sizeof(buf)),
	    "198.18.0.0");
	assert_int_equal(cfg.fake_ip_prefix, 15);
	assert_int_equal(cfg.fake_ip6_prefix, 0);
	assert_int_equal(cfg.fake_ip_max, 65536);
	assert_int_equal(cfg.fake_ip_ttl_ms, 60000);
	assert_false(cfg.block_encrypted_dns);
}

static void
test_every_key(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "";

	assert_int_equal(load(&cfg,
	                      "# a comment\n"
	                      "\n"
	                      "guard_users = 1001, 1002 1003\n"
	                      "user = nobody   # trailing comment\n"
	                      "transparent_listen = 127.0.0.1:9999\n"
	                      "default_action = allow\n"
	                      "peek_timeout = 250ms\n"
	                      "connect_timeout = 2m\n"
	                      "idle_timeout = 1h\n"
	                      "keep_redirect_on_exit = no\n"
	                      "log_level = debug\n"
	                      "max_connections = 100\n"
	                      "socket_mark = 0x10\n"
	                      "database = /tmp/x/rules.db\n"
	                      "control_socket = /tmp/x/ctl.sock\n"
	                      "admin_group = root\n"
	                      "event_queue = 64\n"
	                      "event_max_rows = 5000\n"
	                      "event_max_age = 12h\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.n_guard, 3);
	assert_int_equal(cfg.guard_uids[2], 1003);
	assert_string_equal(cfg.user, "nobody");
	assert_int_equal(cfg.n_transparent, 1);
	assert_int_equal(config_transparent_port(&cfg), 9999);
	assert_int_equal(cfg.default_action, ACTION_ALLOW);
	assert_int_equal(cfg.peek_timeout_ms, 250);
	assert_int_equal(cfg.connect_timeout_ms, 120000);
	assert_int_equal(cfg.idle_timeout_ms, 3600000);
	assert_false(cfg.keep_redirect_on_exit);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.max_connections, 100);
	assert_int_equal(cfg.socket_mark, 0x10);
	assert_string_equal(cfg.database, "/tmp/x/rules.db");
	assert_string_equal(cfg.control_socket, "/tmp/x/ctl.sock");
	assert_string_equal(cfg.admin_group, "root");
	assert_int_equal(cfg.admin_gid, 0);
	assert_int_equal(cfg.event_queue, 64);
	assert_int_equal(cfg.event_max_rows, 5000);
	assert_int_equal(cfg.event_max_age_s, 43200);
}

static void
test_user_names_resolve(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "";

	/* "nobody" exists on every Debian system. */
	assert_int_equal(load(&cfg, "guard_users = nobody\n", err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.n_guard, 1);
	assert_int_equal(cfg.guard_uids[0], 65534);
}

/* Each bad line is refused with the file, the line and what was expected. */
static void
test_errors_name_file_line_and_expectation(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"\n\nfoo = bar\n", ":3: unknown key \"foo\""},
	    {"default_action = maybe\n",
	     ":1: bad value \"maybe\" for default_action: expected "
	     "allow, deny or reject"},
	    {"# x\nguard_users = root\n", ":2: bad value \"root\""},
	    {"guard_users = 0\n", "bad value \"0\""},
	    {"guard_users = no-such-user-tg\n", "bad value"},
	    {"transparent_listen = localhost:9040\n", "expected IP:PORT"},
	    {"transparent_listen = 127.0.0.1:0\n", "bad value"},
	    {"transparent_listen = 127.0.0.1:70000\n", "bad value"},
	    {"transparent_listen = [::1:9040\n", "bad value"},
	    {"transparent_listen = 127.0.0.1:9040, [::1]:9041\n", "same port"},
	    {"peek_timeout = 5 s\n", "bad value"},
	    {"peek_timeout = 1ms\n", "at least 10ms"},
	    {"peek_timeout = -1\n", "bad value"},
	    {"keep_redirect_on_exit = maybe\n", "yes or no"},
	    {"log_level = loud\n", "error, warning, info or debug"},
	    {"max_connections = 0\n", "bad value"},
	    {"max_connections = 12abc\n", "bad value"},
	    {"socket_mark = 0\n", "non-zero"},
	    {"database = rules.db\n", "expected an absolute path"},
	    {"control_socket = /run/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	     "at most 107 bytes"},
	    {"admin_group = no-such-group-tg\n", "an existing group"},
	    {"event_queue = 8\n", "from 16 to"},
	    {"event_max_age = 0d\n", "an age like"},
	    {"event_max_age = 4000d\n", "at most 3650d"},
	    {"event_max_age = 3w\n", "an age like"},
	    {"just some words\n", ":1: expected \"key = value\""},
	    {"socks_listen = localhost:9050\n",
	     ":1: bad value \"localhost:9050\" for socks_listen: expected "
	     "IP:PORT, [IPv6]:PORT or unix:PATH[:MODE]"},
	    {"socks_listen = unix:run/socks.sock\n",
	     "for socks_listen: expected IP:PORT"},
	    {"socks_listen = unix:\n", "for socks_listen: expected"},
	    {"socks_listen = unix:/run/socks.sock:0999\n",
	     "\"unix:/run/socks.sock:0999\" for socks_listen: expected"},
	    {"socks_listen = unix:/run/socks.sock:1777\n",
	     "for socks_listen: expected"},
	    {"socks_listen = unix:/run/"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	     "for socks_listen: expected"},
	    {"socks_listen = 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 127.0.0.1:4 "
	     "127.0.0.1:5 127.0.0.1:6 127.0.0.1:7 127.0.0.1:8 127.0.0.1:9\n"
	     "upstream.tb = direct\n"
	     "socks_listen.tb = 127.0.0.1:11 127.0.0.1:12 127.0.0.1:13 "
	     "127.0.0.1:14 127.0.0.1:15 127.0.0.1:16 127.0.0.1:17 "
	     "127.0.0.1:18\n",
	     "\" for socks_listen.tb: expected IP:PORT, [IPv6]:PORT or "
	     "unix:PATH[:MODE] (an absolute path, an octal mode) separated by "
	     "commas (at most 16 for a front, its .NAME keys included), or "
	     "none"},
	    {"socks_listen.tb = 127.0.0.1:9150\n",
	     "socks_listen.tb: no upstream.tb: expected an upstream.NAME line "
	     "for each socks_listen.NAME"},
	    {"upstream.tb = direct\nhttp_connect_listen.TB = 127.0.0.1:9150\n",
	     ":2: bad key \"http_connect_listen.TB\": expected "
	     "http_connect_listen.NAME with NAME 1 to 32"},
	    {"\nhttp_connect_listen = 127.0.0.1\n",
	     ":2: bad value \"127.0.0.1\" for http_connect_listen: expected "
	     "IP:PORT"},
	    {"upstream = socks4://10.0.0.1:9050\n",
	     ":1: bad value \"socks4://10.0.0.1:9050\" for upstream: expected "
	     "direct, socks5://IP:PORT, socks5://[IPv6]:PORT or "
	     "socks5://unix:PATH"},
	    {"upstream = socks5://gateway:9050\n", "for upstream: expected"},
	    {"upstream = socks5://10.0.0.1\n", "for upstream: expected"},
	    {"upstream = socks5://unix:run/tor.sock\n",
	     "for upstream: expected"},
	    {"upstream = \n", "for upstream: expected"},
	    {"upstream.mail = socks5://10.0.0.1:0\n",
	     ":1: bad value \"socks5://10.0.0.1:0\" for upstream.mail: "
	     "expected direct, socks5://"},
	    {"upstream.Mail = direct\n",
	     ":1: bad key \"upstream.Mail\": expected upstream.NAME with NAME "
	     "1 to 32 of a-z, 0-9, _ and -, not direct nor upstream"},
	    {"upstream.direct = direct\n", "bad key \"upstream.direct\""},
	    {"upstream.upstream = direct\n", "bad key \"upstream.upstream\""},
	    {"upstream. = direct\n", "bad key \"upstream.\""},
	    {"upstream.mail.x = direct\n", "bad key \"upstream.mail.x\""},
	    {"upstream.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = direct\n",
	     "bad key \"upstream.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""},
	    {"upstream.a = direct\nupstream.b = direct\nupstream.c = direct\n"
	     "upstream.d = direct\nupstream.e = direct\nupstream.f = direct\n"
	     "upstream.g = direct\nupstream.h = direct\nupstream.i = direct\n"
	     "upstream.j = direct\nupstream.k = direct\nupstream.l = direct\n"
	     "upstream.m = direct\nupstream.n = direct\nupstream.o = direct\n"
	     "upstream.p = direct\n",
	     ":16: bad key \"upstream.p\": expected upstream.NAME with NAME 1 "
	     "to 32 of a-z, 0-9, _ and -, not direct nor upstream (at most 15 "
	     "such keys)"},
	    {"upstreams = direct\n", "unknown key \"upstreams\""},
	    {"isolation = per-app\n",
	     ":1: bad value \"per-app\" for isolation: expected app, "
	     "app-name or none"},
	    {"socks_listen = 127.0.0.1:9040\n",
	     "socks_listen: 127.0.0.1:9040 is given twice (also in "
	     "transparent_listen): expected each address once"},
	    {"socks_listen = [::1]:9050\nhttp_connect_listen = [::1]:9050\n",
	     "http_connect_listen: [::1]:9050 is given twice (also in "
	     "socks_listen)"},
	    {"socks_listen = unix:/run/tg.sock:0600, unix:/run/tg.sock\n",
	     "socks_listen: unix:/run/tg.sock is given twice (also in "
	     "socks_listen)"},
	    {"control_socket = /run/tg/c.sock\n"
	     "http_connect_listen = unix:/run/tg/c.sock\n",
	     "control_socket: unix:/run/tg/c.sock is given twice (also in "
	     "http_connect_listen)"},
	    {"dns_listen = 127.0.0.1:53, [::1]:5353\n",
	     "dns_listen: every address must use the same port"},
	    {"\ndns_listen = none\n",
	     ":2: bad value \"none\" for dns_listen: expected IP:PORT or "
	     "[IPv6]:PORT addresses on one port"},
	    {"dns_listen = 127.0.0.1\n", "for dns_listen: expected"},
	    {"dns_listen = 127.0.0.1:1 127.0.0.2:1 127.0.0.3:1 127.0.0.4:1 "
	     "127.0.0.5:1\n",
	     "for dns_listen: expected"},
	    {"dns_listen = 127.0.0.1:9040\n",
	     "dns_listen: 127.0.0.1:9040 is given twice (also in "
	     "transparent_listen)"},
	    {"socks_listen = [::1]:9053\n",
	     "dns_listen: [::1]:9053 is given twice (also in socks_listen)"},
	    {"dns_upstream = resolver.example\n",
	     ":1: bad value \"resolver.example\" for dns_upstream: expected "
	     "IP, "
	     "IP:PORT, [IPv6] or [IPv6]:PORT"},
	    {"dns_upstream = 10.0.0.1:0\n", "for dns_upstream: expected"},
	    {"dns_upstream = 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5\n",
	     "for dns_upstream: expected"},
	    {"dns_upstream = [2001:db8::1\n", "for dns_upstream: expected"},
	    {"fake_ip_range = 198.18.0.0\n",
	     ":1: bad value \"198.18.0.0\" for fake_ip_range: expected an IPv4 "
	     "network like 198.18.0.0/15, prefix 8 to 30"},
	    {"fake_ip_range = 10.0.0.0/31\n", "prefix 8 to 30"},
	    {"fake_ip_range = 10.0.0.0/7\n", "prefix 8 to 30"},
	    {"fake_ip_range = 10.0.0.0/\n", "prefix 8 to 30"},
	    {"fake_ip_range = fd00::/64\n", "for fake_ip_range: expected"},
	    {"fake_ip_range = 10.0.0.0/24x\n", "for fake_ip_range: expected"},
	    {"fake_ip6_range = 10.0.0.0/24\n",
	     "for fake_ip6_range: expected an IPv6 network like "
	     "fd00:7467::/64, prefix 8 to 120, or none"},
	    {"fake_ip6_range = fd00::/121\n", "prefix 8 to 120"},
	    {"fake_ip_max = 15\n",
	     "bad value \"15\" for fake_ip_max: expected a number from 16"},
	    {"fake_ip_ttl = 0s\n",
	     "for fake_ip_ttl: expected a duration from 1s to 1d"},
	    {"fake_ip_ttl = 2d\n", "for fake_ip_ttl: expected"},
	    {"block_encrypted_dns = sometimes\n",
	     "for block_encrypted_dns: expected yes or no"},
	    {"encrypted_dns_list = doh.list\n",
	     "for encrypted_dns_list: expected builtin, an absolute path to a "
	     "list of "
	     "DNS-over-HTTPS resolvers' names, or none"},
	    {"fake_ip_range = 10.9.0.0/24\nfake_ip_max = 1000\n",
	     "fake_ip_max: 1000 names do not fit fake_ip_range, which has 254 "
	     "addresses to hand out"},
	    {"fake_ip6_range = fd00::/120\nfake_ip_max = 255\n",
	     "fake_ip_max: 255 names do not fit fake_ip6_range, which has 254"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		char err[CONFIG_ERRLEN] = "";

		assert_int_equal(load(&cfg, cases[i].text, err, sizeof(err)),
		                 -1);
		if (strstr(err, cases[i].want) == NULL ||
		    strstr(err, "/tmp/tg-test-conf-") != err)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err,
			         cases[i].want);
	}
}

/* The DNS stub's keys: what a user writes is what the daemon gets. */
static void
test_dns_keys(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "", buf[ADDR_STRLEN];

	assert_int_equal(load(&cfg,
	                      "dns_listen = 127.0.0.53:53\n"
	                      "dns_upstream = 192.0.2.2, 192.0.2.3:5300 "
	                      "[2001:db8::53] 2001:db8::54\n"
	                      "fake_ip_range = 10.77.1.2/16\n"
	                      "fake_ip6_range = fd00:7467::1/64\n"
	                      "fake_ip_max = 1000\n"
	                      "fake_ip_ttl = 5m\n"
	                      "block_encrypted_dns = yes\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.n_dns_listen, 1);
	assert_int_equal(config_dns_port(&cfg), 53);
	assert_int_equal(cfg.n_dns_upstream, 4);
	assert_false(cfg.dns_upstream_none);
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_upstream[0], buf, sizeof(buf)),
	    "192.0.2.2:53");
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_upstream[1], buf, sizeof(buf)),
	    "192.0.2.3:5300");
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_upstream[2], buf, sizeof(buf)),
	    "[2001:db8::53]:53");
	assert_string_equal(
	    addr_fmt((struct sockaddr *)&cfg.dns_upstream[3], buf, sizeof(buf)),
	    "[2001:db8::54]:53");
	/* A range is its network: host bits are cleared. */
	assert_string_equal(
	    inet_ntop(AF_INET, &cfg.fake_ip_net, buf, sizeof(buf)),
	    "10.77.0.0");
	assert_int_equal(cfg.fake_ip_prefix, 16);
	assert_string_equal(
	    inet_ntop(AF_INET6, &cfg.fake_ip6_net, buf, sizeof(buf)),
	    "fd00:7467::");
	assert_int_equal(cfg.fake_ip6_prefix, 64);
	assert_int_equal(cfg.fake_ip_max, 1000);
	assert_int_equal(cfg.fake_ip_ttl_ms, 300000);
	assert_true(cfg.block_encrypted_dns);

	/* The DoH list: the installed file by default, a path, or none. */
	config_defaults(&cfg);
	assert_string_equal(cfg.encrypted_dns_list, CONFIG_BUILTIN);
	assert_int_equal(load(&cfg, "encrypted_dns_list = /etc/tg/doh.list\n",
	                      err, sizeof(err)),
	                 0);
	assert_string_equal(cfg.encrypted_dns_list, "/etc/tg/doh.list");
	assert_int_equal(
	    load(&cfg, "encrypted_dns_list = none\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.encrypted_dns_list, "");

	/* none: never forward; nothing: /etc/resolv.conf's again; an odd
	 * prefix is masked mid-byte. */
	assert_int_equal(load(&cfg,
	                      "dns_upstream = none\n"
	                      "fake_ip6_range = none\n"
	                      "fake_ip_range = 10.255.255.255/12\n",
	                      err, sizeof(err)),
	                 0);
	assert_true(cfg.dns_upstream_none);
	assert_int_equal(cfg.n_dns_upstream, 0);
	assert_int_equal(cfg.fake_ip6_prefix, 0);
	assert_string_equal(
	    inet_ntop(AF_INET, &cfg.fake_ip_net, buf, sizeof(buf)),
	    "10.240.0.0");
	assert_int_equal(load(&cfg, "dns_upstream =\n", err, sizeof(err)), 0);
	assert_false(cfg.dns_upstream_none);
	assert_int_equal(cfg.n_dns_upstream, 0);
	/* The widest range and a /30 with room for 2 fit their counts. */
	assert_int_equal(load(&cfg,
	                      "fake_ip_range = 10.0.0.0/8\n"
	                      "fake_ip_max = 16777216\n",
	                      err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "16777214 addresses"));
	assert_int_equal(load(&cfg,
	                      "fake_ip_range = 10.0.0.0/8\n"
	                      "fake_ip_max = 16777214\n"
	                      "fake_ip6_range = fd00::/8\n",
	                      err, sizeof(err)),
	                 0);
}

/* The DNS keys print back to what was read, and the defaults to
 * something that reads back as the defaults. */
static void
test_print_round_trip_dns(void **state)
{
	struct config a, b;
	char err[CONFIG_ERRLEN] = "", *text;

	assert_int_equal(load(&a,
	                      "dns_listen = 127.0.0.1:53, [::1]:53\n"
	                      "dns_upstream = 192.0.2.2 [2001:db8::53]:5300\n"
	                      "fake_ip_range = 100.64.0.0/10\n"
	                      "fake_ip6_range = fd00:7467::/96\n"
	                      "fake_ip_max = 4096\n"
	                      "fake_ip_ttl = 90s\n"
	                      "block_encrypted_dns = yes\n"
	                      "encrypted_dns_list = none\n",
	                      err, sizeof(err)),
	                 0);
	text = printed(&a);
	assert_non_null(strstr(text, "\ndns_listen = 127.0.0.1:53, [::1]:53\n"
	                             "dns_upstream = 192.0.2.2:53, "
	                             "[2001:db8::53]:5300\n"
	                             "fake_ip_range = 100.64.0.0/10\n"
	                             "fake_ip6_range = fd00:7467::/96\n"
	                             "fake_ip_max = 4096\n"
	                             "fake_ip_ttl = 90s\n"
	                             "block_encrypted_dns = yes\n"
	                             "encrypted_dns_list = none\n"));
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_string_equal(b.encrypted_dns_list, "");
	assert_int_equal(b.n_dns_listen, 2);
	assert_int_equal(b.n_dns_upstream, 2);
	assert_int_equal(addr_equal((struct sockaddr *)&a.dns_upstream[1],
	                            (struct sockaddr *)&b.dns_upstream[1]),
	                 1);
	assert_memory_equal(&a.fake_ip6_net, &b.fake_ip6_net, 16);
	assert_int_equal(b.fake_ip_ttl_ms, 90000);
	assert_true(b.block_encrypted_dns);
	free(text);

	config_defaults(&a);
	text = printed(&a);
	assert_non_null(strstr(
	    text, "\ndns_listen = 127.0.0.1:9053, [::1]:9053\n"
	          "dns_upstream = # the resolvers of /etc/resolv.conf at "
	          "start\n"
	          "fake_ip_range = 198.18.0.0/15\n"
	          "fake_ip6_range = none\n"
	          "fake_ip_max = 65536\n"
	          "fake_ip_ttl = 1m\n"
	          "block_encrypted_dns = no\n"
	          "encrypted_dns_list = " CONFIG_BUILTIN "\n"));
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_string_equal(b.encrypted_dns_list, CONFIG_BUILTIN);
	assert_int_equal(b.n_dns_upstream, 0);
	assert_false(b.dns_upstream_none);
	assert_int_equal(b.fake_ip6_prefix, 0);
	free(text);
}

/* The fronts: TCP addresses and unix sockets, none by default. */
static void
test_fronts(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "", buf[CONFIG_LISTEN_STRLEN];

	config_defaults(&cfg);
	assert_int_equal(cfg.n_socks_listen, 0);
	assert_int_equal(cfg.n_connect_listen, 0);
	assert_int_equal(
	    load(&cfg,
	         "socks_listen = 127.0.0.1:9050, [::1]:9050 "
	         "unix:/run/tollgate/socks.sock:0660,unix:/run/a:b/s.sock\n"
	         "http_connect_listen = 127.0.0.1:8118 unix:/run/tg/c.sock\n",
	         err, sizeof(err)),
	    0);
	assert_int_equal(cfg.n_socks_listen, 4);
	assert_false(cfg.socks_listen[0].is_unix);
	assert_int_equal(cfg.socks_listen[0].addr.ss_family, AF_INET);
	assert_string_equal(
	    config_listen_fmt(&cfg.socks_listen[0], buf, sizeof(buf)),
	    "127.0.0.1:9050");
	assert_int_equal(cfg.socks_listen[1].addr.ss_family, AF_INET6);
	assert_string_equal(
	    config_listen_fmt(&cfg.socks_listen[1], buf, sizeof(buf)),
	    "[::1]:9050");
	assert_true(cfg.socks_listen[2].is_unix);
	assert_string_equal(cfg.socks_listen[2].path,
	                    "/run/tollgate/socks.sock");
	assert_int_equal(cfg.socks_listen[2].mode, 0660);
	assert_string_equal(
	    config_listen_fmt(&cfg.socks_listen[2], buf, sizeof(buf)),
	    "unix:/run/tollgate/socks.sock:0660");
	/* A colon not followed by digits only is part of the path. */
	assert_string_equal(cfg.socks_listen[3].path, "/run/a:b/s.sock");
	assert_int_equal(cfg.socks_listen[3].mode, 0666);
	assert_int_equal(cfg.n_connect_listen, 2);
	assert_string_equal(
	    config_listen_fmt(&cfg.connect_listen[0], buf, sizeof(buf)),
	    "127.0.0.1:8118");
	assert_true(cfg.connect_listen[1].is_unix);
	assert_string_equal(cfg.connect_listen[1].path, "/run/tg/c.sock");
	assert_int_equal(cfg.connect_listen[1].mode, CONFIG_UNIX_MODE);

	/* A later line replaces the list; none empties it. */
	assert_int_equal(load(&cfg,
	                      "socks_listen = none\n"
	                      "http_connect_listen = unix:/run/c.sock:0\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.n_socks_listen, 0);
	assert_int_equal(cfg.connect_listen[0].mode, 0);

	/* KEY.NAME: fronts whose clients take upstream.NAME, apart from
	 * KEY's own. */
	assert_int_equal(load(&cfg,
	                      "socks_listen.tb = 127.0.0.1:9150, "
	                      "unix:/run/x/::1_9150.sock:0666\n"
	                      "upstream.tb = socks5://10.0.0.1:9150\n"
	                      "socks_listen = 127.0.0.1:9050, [::1]:9050\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.n_socks_listen, 4);
	assert_string_equal(cfg.socks_listen[0].via, "tb");
	assert_string_equal(cfg.socks_listen[1].via, "tb");
	assert_string_equal(cfg.socks_listen[1].path, "/run/x/::1_9150.sock");
	assert_int_equal(cfg.socks_listen[1].mode, 0666);
	assert_string_equal(cfg.socks_listen[2].via, "");
	assert_string_equal(
	    config_listen_fmt(&cfg.socks_listen[3], buf, sizeof(buf)),
	    "[::1]:9050");
}

/* upstream, upstream.NAME, and the route a rule's via names. */
static void
test_upstreams(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "", buf[CONFIG_UPSTREAM_STRLEN];
	const struct config_upstream *u;

	config_defaults(&cfg);
	assert_int_equal(cfg.n_upstreams, 1);
	assert_string_equal(cfg.upstreams[0].name, "upstream");
	assert_int_equal(cfg.upstreams[0].kind, UPSTREAM_DIRECT);
	assert_int_equal(cfg.isolation, 0);
	assert_ptr_equal(config_upstream_find(&cfg, ""), &cfg.upstreams[0]);
	assert_null(config_upstream_find(&cfg, "mail"));

	assert_int_equal(
	    load(&cfg,
	         "upstream = socks5://10.152.152.10:9050\n"
	         "upstream.mail = socks5://10.152.152.10:9103\n"
	         "upstream.apt_2 = socks5://[2001:db8::1]:9104\n"
	         "upstream.local-tor = socks5://unix:/run/tor/socks:1\n"
	         "upstream.lan = direct\n"
	         "isolation = app-name\n",
	         err, sizeof(err)),
	    0);
	assert_int_equal(cfg.n_upstreams, 5);
	assert_int_equal(cfg.isolation, 1);
	assert_int_equal(cfg.upstreams[0].kind, UPSTREAM_SOCKS5);
	assert_string_equal(
	    config_upstream_fmt(&cfg.upstreams[0], buf, sizeof(buf)),
	    "socks5://10.152.152.10:9050");

	u = config_upstream_find(&cfg, "upstream");
	assert_ptr_equal(u, &cfg.upstreams[0]);
	assert_ptr_equal(config_upstream_find(&cfg, ""), u);

	u = config_upstream_find(&cfg, "direct");
	assert_non_null(u);
	assert_string_equal(u->name, "direct");
	assert_int_equal(u->kind, UPSTREAM_DIRECT);
	assert_string_equal(config_upstream_fmt(u, buf, sizeof(buf)), "direct");

	/* In the order given. */
	u = config_upstream_find(&cfg, "mail");
	assert_ptr_equal(u, &cfg.upstreams[1]);
	assert_string_equal(config_upstream_fmt(u, buf, sizeof(buf)),
	                    "socks5://10.152.152.10:9103");
	u = config_upstream_find(&cfg, "apt_2");
	assert_int_equal(u->at.addr.ss_family, AF_INET6);
	assert_string_equal(config_upstream_fmt(u, buf, sizeof(buf)),
	                    "socks5://[2001:db8::1]:9104");
	/* An upstream's path takes no mode: the colon is the path's. */
	u = config_upstream_find(&cfg, "local-tor");
	assert_true(u->at.is_unix);
	assert_string_equal(u->at.path, "/run/tor/socks:1");
	assert_string_equal(config_upstream_fmt(u, buf, sizeof(buf)),
	                    "socks5://unix:/run/tor/socks:1");
	u = config_upstream_find(&cfg, "lan");
	assert_int_equal(u->kind, UPSTREAM_DIRECT);
	assert_string_equal(u->name, "lan");
	assert_null(config_upstream_find(&cfg, "Mail"));
	assert_null(config_upstream_find(&cfg, "news"));

	assert_int_equal(load(&cfg, "isolation = none\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.isolation, 2);
	assert_int_equal(load(&cfg, "isolation = app\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.isolation, 0);
}

static void
test_upstream_names(void **state)
{
	assert_true(config_upstream_name_ok("mail"));
	assert_true(config_upstream_name_ok("a"));
	assert_true(config_upstream_name_ok("tor_9102-b"));
	assert_true(config_upstream_name_ok(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 32 */
	assert_false(config_upstream_name_ok(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */
	assert_false(config_upstream_name_ok(""));
	assert_false(config_upstream_name_ok("direct"));
	assert_false(config_upstream_name_ok("upstream"));
	assert_false(config_upstream_name_ok("Mail"));
	assert_false(config_upstream_name_ok("mail.x"));
	assert_false(config_upstream_name_ok("ma il"));
}

static void
test_missing_files(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "";

	config_defaults(&cfg);
	assert_int_equal(
	    config_load(&cfg, "/nonexistent/tollgate.conf", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/tollgate.conf: cannot open"));
}

static void
test_long_line(void **state)
{
	struct config cfg;
	char err[CONFIG_ERRLEN] = "";
	char *text = malloc(10000);

	memset(text, 'a', 9998);
	text[9998] = '\n';
	text[9999] = '\0';
	assert_int_equal(load(&cfg, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: line longer than"));
	free(text);
}

/* config_load() of len bytes (NULs and all); err as it says. */
static int
load_bytes(struct config *cfg, const char *bytes, size_t len, char *err,
           size_t errlen)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/tmp/tg-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (int)len);
	close(fd);
	config_defaults(cfg);
	rc = config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

/* Each mistake of a file is one line naming the file and its line. */
static void
test_line_errors(void **state)
{
	static const char nul[] = "user = nobody\nlog_level = de\0bug\n";
	static const char nul_last[] = "user = nobody\nlog_level = de\0bug";
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"guard_users = 1001\nuser = nobody\n\n# again\n"
	     "guard_users = 1002\n",
	     ":5: guard_users given again (first at line 1)"},
	    {"log_level = info\nlog_level = info\n",
	     ":2: log_level given again (first at line 1)"},
	    {"upstream.mail = direct\nupstream.lan = direct\n"
	     "upstream.mail = socks5://10.0.0.1:9050\n",
	     ":3: upstream.mail given again (first at line 1)"},
	    {"user = nobody\ntransparent_listen = 127.0.0.1:9040, "
	     "[::1]:9041\n",
	     ":2: transparent_listen: every address must use the same port"},
	    {"\ndns_listen = 127.0.0.1:53, [::1]:5353\n",
	     ":2: dns_listen: every address must use the same port"},
	    {"log_level = info\nuser = tg-no-such-user-here\n",
	     ":2: bad value \"tg-no-such-user-here\" for user: expected the "
	     "name of an account of this system"},
	};
	struct config cfg;
	char err[CONFIG_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(&cfg, cases[i].text, err, sizeof(err)),
		                 -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			         cases[i].want);
		assert_null(strchr(err, '\n'));
	}
	err[0] = '\0';
	assert_int_equal(
	    load_bytes(&cfg, nul, sizeof(nul) - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: NUL byte"));
	err[0] = '\0';
	assert_int_equal(
	    load_bytes(&cfg, nul_last, sizeof(nul_last) - 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, ":2: NUL byte"));
	/* The same key twice is still fine in two files' worth of loads. */
	assert_int_equal(load(&cfg, "log_level = info\n", err, sizeof(err)), 0);
}

/* What --print-config prints reads back to the same configuration. */
static void
test_print_round_trip(void **state)
{
	struct config a, b;
	char err[CONFIG_ERRLEN] = "", *text;

	assert_int_equal(load(&a,
	                      "default_action = reject\npeek_timeout = 1500ms\n"
	                      "guard_users = 4242\nsocket_mark = 77\n",
	                      err, sizeof(err)),
	                 0);
	text = printed(&a);
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_int_equal(b.default_action, ACTION_REJECT);
	assert_int_equal(b.peek_timeout_ms, 1500);
	assert_int_equal(b.guard_uids[0], 4242);
	assert_int_equal(b.socket_mark, 77);
	assert_int_equal(b.n_transparent, a.n_transparent);
	free(text);
}

/* The fronts, the upstreams and isolation print back to what was read. */
static void
test_print_round_trip_fronts(void **state)
{
	struct config a, b;
	char err[CONFIG_ERRLEN] = "", *text;
	char ba[CONFIG_UPSTREAM_STRLEN], bb[CONFIG_UPSTREAM_STRLEN];
	size_t i;

	assert_int_equal(
	    load(&a,
	         "socks_listen = 127.0.0.1:9050, [::1]:9050, "
	         "unix:/run/tg/socks.sock:0600\n"
	         "http_connect_listen = unix:/run/tg/connect.sock\n"
	         "socks_listen.mail = 127.0.0.1:9102\n"
	         "upstream = socks5://unix:/run/tor/socks\n"
	         "upstream.mail = socks5://10.152.152.10:9102\n"
	         "upstream.web = direct\n"
	         "isolation = none\n",
	         err, sizeof(err)),
	    0);
	text = printed(&a);
	assert_non_null(strstr(text,
	                       "\nsocks_listen = 127.0.0.1:9050, "
	                       "[::1]:9050, unix:/run/tg/socks.sock:0600\n"));
	assert_non_null(strstr(text, "\nupstream.mail = "
	                             "socks5://10.152.152.10:9102\n"));
	assert_non_null(strstr(text, "\nsocks_listen.mail = 127.0.0.1:9102\n"));
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_int_equal(b.n_socks_listen, 4);
	assert_string_equal(b.socks_listen[3].via, "mail");
	assert_int_equal(b.n_connect_listen, 1);
	for (i = 0; i < 3; i++)
		assert_string_equal(
		    config_listen_fmt(&a.socks_listen[i], ba, sizeof(ba)),
		    config_listen_fmt(&b.socks_listen[i], bb, sizeof(bb)));
	assert_string_equal(b.connect_listen[0].path, "/run/tg/connect.sock");
	assert_int_equal(b.connect_listen[0].mode, 0666);
	assert_int_equal(b.n_upstreams, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(a.upstreams[i].name, b.upstreams[i].name);
		assert_string_equal(
		    config_upstream_fmt(&a.upstreams[i], ba, sizeof(ba)),
		    config_upstream_fmt(&b.upstreams[i], bb, sizeof(bb)));
	}
	assert_int_equal(b.isolation, 2);
	free(text);

	/* The defaults print "none" and "direct", which read back. */
	config_defaults(&a);
	text = printed(&a);
	assert_non_null(strstr(text, "\nsocks_listen = none\n"
	                             "http_connect_listen = none\n"
	                             "upstream = direct\n"
	                             "isolation = app\n"));
	assert_int_equal(load(&b, text, err, sizeof(err)), 0);
	assert_int_equal(b.n_socks_listen, 0);
	assert_int_equal(b.n_upstreams, 1);
	free(text);
}

static void
test_durations(void **state)
{
	unsigned ms;

	assert_int_equal(config_parse_duration("3", &ms), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(config_parse_duration("3s", &ms), 0);
	assert_int_equal(config_parse_duration("10ms", &ms), 0);
	assert_int_equal(ms, 10);
	assert_int_equal(config_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(config_parse_duration("", &ms), -1);
	assert_int_equal(config_parse_duration("s", &ms), -1);
	assert_int_equal(config_parse_duration("3d", &ms), -1);
	assert_int_equal(config_parse_duration("99999999h", &ms), -1);
}

static void
test_addr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ADDR_STRLEN];

	assert_int_equal(addr_parse("192.0.2.1:443", &ss, &len), 0);
	assert_string_equal(addr_fmt((struct sockaddr *)&ss, buf, sizeof(buf)),
	                    "192.0.2.1:443");
	assert_false(addr_is_loopback((struct sockaddr *)&ss));
	assert_int_equal(addr_parse("[2001:db8::2]:80", &ss, &len), 0);
	assert_string_equal(addr_fmt((struct sockaddr *)&ss, buf, sizeof(buf)),
	                    "[2001:db8::2]:80");
	assert_int_equal(addr_parse("[::1]:80", &ss, &len), 0);
	assert_true(addr_is_loopback((struct sockaddr *)&ss));
	assert_int_equal(addr_parse("127.9.9.9:1", &ss, &len), 0);
	assert_true(addr_is_loopback((struct sockaddr *)&ss));
	assert_int_equal(addr_parse("::1:80", &ss, &len), -1);
	assert_int_equal(addr_parse("1.2.3.4", &ss, &len), -1);
	assert_int_equal(addr_parse("1.2.3.4:", &ss, &len), -1);
	assert_int_equal(addr_parse("1.2.3.4:+80", &ss, &len), -1);
}

static void
test_log_kv_quotes_what_needs_it(void **state)
{
	char buf[128];
	size_t off = 0;

	buf[0] = '\0';
	log_kv(buf, sizeof(buf), &off, "exe", "/usr/bin/curl");
	log_kv(buf, sizeof(buf), &off, "cmdline", "curl -s \"x\"");
	log_kv(buf, sizeof(buf), &off, "name", "");
	log_kv(buf, sizeof(buf), &off, "ctl", "a\nb");
	assert_string_equal(buf,
	                    "exe=/usr/bin/curl cmdline=\"curl -s \\\"x\\\"\" "
	                    "name=\"\" ctl=\"a\\x0ab\"");
	/* Truncation never overruns. */
	off = 0;
	log_kv(buf, 8, &off, "key", "0123456789");
	assert_int_equal(strlen(buf), 7);
}

/* The fair-share keys: prompt_answers and max_pending_per_user. */
static void
test_fair_keys(void **state)
{
	char err[CONFIG_ERRLEN], *text;
	struct config cfg;

	assert_int_equal(load(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.prompt_answers, PROMPT_ANSWERS_ALL);
	assert_int_equal(cfg.max_pending_per_user, 512);
	assert_int_equal(load(&cfg,
	                      "prompt_answers = admin-forever\n"
	                      "max_pending_per_user = 64\n",
	                      err, sizeof(err)),
	                 0);
	assert_int_equal(cfg.prompt_answers, PROMPT_ANSWERS_ADMIN_FOREVER);
	assert_int_equal(cfg.max_pending_per_user, 64);
	text = printed(&cfg);
	assert_non_null(strstr(text, "prompt_answers = admin-forever\n"));
	assert_non_null(strstr(text, "max_pending_per_user = 64\n"));
	free(text);
	assert_int_equal(
	    load(&cfg, "prompt_answers = once-only\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.prompt_answers, PROMPT_ANSWERS_ONCE_ONLY);
	assert_int_equal(
	    load(&cfg, "prompt_answers = always\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "all, once-only or admin-forever"));
	assert_int_equal(
	    load(&cfg, "max_pending_per_user = 0\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max_pending_per_user"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_user_names_resolve),
	    cmocka_unit_test(test_errors_name_file_line_and_expectation),
	    cmocka_unit_test(test_missing_files),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_line_errors),
	    cmocka_unit_test(test_print_round_trip),
	    cmocka_unit_test(test_fronts),
	    cmocka_unit_test(test_upstreams),
	    cmocka_unit_test(test_upstream_names),
	    cmocka_unit_test(test_print_round_trip_fronts),
	    cmocka_unit_test(test_dns_keys),
	    cmocka_unit_test(test_print_round_trip_dns),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_log_kv_quotes_what_needs_it),
	    cmocka_unit_test(test_fair_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
