/*
 * config.h - tollgate.conf: built-in defaults, the parser, the printer.
 *
 * One parser serves tollgated, tollgate and tollgate-prompt.  Syntax:
 * "key = value" lines, '#' starts a comment, blank lines are ignored.
 * Every key has a default, so no file at all is a valid configuration.
 * Every key is documented in docs/tollgate.conf.5 and README.md.
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/subid.h"

#define CONFIG_DEFAULT_PATH     "/etc/tollgate/tollgate.conf"
#define CONFIG_DEFAULT_DATABASE "/var/lib/tollgate/tollgate.db"
#define CONFIG_DEFAULT_CONTROL  "/run/tollgate/control.sock"
/* Where "make install" puts tollgate-prompt; the Makefile passes its
 * own BINDIR. */
#ifndef CONFIG_DEFAULT_PROMPT_PROGRAM
#define CONFIG_DEFAULT_PROMPT_PROGRAM "/usr/local/bin/tollgate-prompt"
#endif
/* A list key's value for the list compiled into the program. */
#define CONFIG_BUILTIN           "builtin"
#define CONFIG_MAX_LISTEN        4
#define CONFIG_MAX_GUARD         64
#define CONFIG_ERRLEN            512
#define CONFIG_MAX_FRONT         16 /* addresses of a front, all NAMEs */
#define CONFIG_MAX_UPSTREAMS     16 /* upstream plus upstream.NAME keys */
#define CONFIG_UPSTREAM_NAME_MAX 32
/* A unix front's mode when none is given. */
#define CONFIG_UNIX_MODE 0666
/* Long enough for "unix:" + a 107-byte path + ":0666", or an address. */
#define CONFIG_LISTEN_STRLEN 128
/* Long enough for "socks5://" and any config_listen_fmt(). */
#define CONFIG_UPSTREAM_STRLEN (CONFIG_LISTEN_STRLEN + 16)
/* The DNS stub's addresses (TCP and UDP) and its resolvers. */
#define CONFIG_MAX_DNS      4
#define CONFIG_DNS_PORT     53 /* a dns_upstream given without a port */
#define CONFIG_FAKE_IP_MIN  16 /* fake_ip_max's smallest value */
#define CONFIG_FAKE_IP_MAXN 16777216
/* Subordinate ranges of guarded users, of uids and of gids each. */
#define CONFIG_MAX_SUBID   1024
#define CONFIG_SUBUID_PATH "/etc/subuid"
#define CONFIG_SUBGID_PATH "/etc/subgid"

/* What happens to a connection; shared by config, rules and events. */
enum action {
	ACTION_ALLOW,
	ACTION_DENY,
	ACTION_REJECT,
};

/*
 * Key prompt_answers: which answers to a prompt may outlive it.
 *   all            any answer, by any agent that sees the prompt
 *   once-only      every answer decides the waiting connections only;
 *                  rules come from `tollgate rules add`
 *   admin-forever  an agent run by a user who is neither root nor in
 *                  admin_group answers once, for 1 h or until restart;
 *                  forever only from root or admin_group
 */
enum prompt_answers {
	PROMPT_ANSWERS_ALL,
	PROMPT_ANSWERS_ONCE_ONLY,
	PROMPT_ANSWERS_ADMIN_FOREVER,
};

/* "all", "once-only", "admin-forever"; "?" out of range. */
const char *prompt_answers_name(enum prompt_answers a);

/* Parse "allow", "deny", "reject"; -1 when unknown. */
int action_parse(const char *s);
const char *action_name(enum action a);

/*
 * One address a front listens on, or an upstream is reached at:
 * "127.0.0.1:9050", "[::1]:9050" (TCP), or "unix:PATH[:MODE]".
 */
struct config_listen {
	bool is_unix;
	struct sockaddr_storage addr; /* TCP: AF_INET or AF_INET6 */
	char path[108];               /* unix: absolute path (sun_path size) */
	mode_t mode; /* unix: octal MODE, default CONFIG_UNIX_MODE */
	/* A front's: the route its clients take unless a rule says
	 * otherwise (KEY.NAME = ...: upstream.NAME); "" for `upstream`. */
	char via[CONFIG_UPSTREAM_NAME_MAX + 1];
};

enum upstream_kind {
	UPSTREAM_DIRECT, /* connect to the destination itself */
	UPSTREAM_SOCKS5, /* a SOCKS5 proxy at `at`, handed the name */
};

/* The `upstream` key (name "upstream") or one `upstream.NAME` key. */
struct config_upstream {
	char name[CONFIG_UPSTREAM_NAME_MAX + 1];
	enum upstream_kind kind;
	struct config_listen at; /* UPSTREAM_SOCKS5: socks5://IP:PORT,
	                          * socks5://[IPv6]:PORT or
	                          * socks5://unix:PATH (no mode) */
};

struct config {
	char path[4096]; /* file read, "" when built-in defaults */
	uid_t guard_uids[CONFIG_MAX_GUARD];
	size_t n_guard;
	/* guard_users = * except USERS: every uid but guard_exempt[] (root
	 * among them) and user's is guarded; guard_uids[] is then empty. */
	bool guard_all;
	uid_t guard_exempt[CONFIG_MAX_GUARD];
	size_t n_exempt;
	/* Filled by config_load_subids(), not by the file: user's uid, and
	 * the guarded users' subordinate uids and gids. */
	bool user_uid_known;
	uid_t user_uid;
	struct subid_range guard_subuid[CONFIG_MAX_SUBID];
	size_t n_guard_subuid;
	struct subid_range guard_subgid[CONFIG_MAX_SUBID];
	size_t n_guard_subgid;
	char user[64]; /* account tollgated drops to */
	struct sockaddr_storage transparent_listen[CONFIG_MAX_LISTEN];
	size_t n_transparent;
	enum action default_action;
	/* A process started with LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT
	 * matches no rule for its exe (proxyd/attr.h attr_rule_exe()). */
	bool distrust_preload;
	/* A process in another user namespace than tollgated matches no
	 * rule for its exe (attr_rule_exe()): its own mounts may have put
	 * other code under it. */
	bool distrust_userns;
	bool shared_socket_check; /* attr.h: the other holders of a socket */
	/* proxyd/connbpf.h: name the process that called connect() when the
	 * program loads and passes its self-test (auto), or never (no). */
	bool connect_tracking;
	unsigned peek_timeout_ms;
	unsigned connect_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned prompt_timeout_ms; /* no answer: default_action */
	char prompt_program[4096];  /* the one executable that may subscribe */
	enum prompt_answers prompt_answers;
	/* no_agent_action: with no agent to see it, a prompt is raised
	 * anyway and waits up to prompt_timeout (wait), or default_action
	 * decides at once (default, false). */
	bool no_agent_wait;
	/* notify_denials: tell a user's agents what was refused of theirs
	 * (DENIED lines, rate-limited). */
	bool notify_denials;
	bool keep_redirect_on_exit;
	int log_level;
	unsigned max_connections;
	/* Connections of one uid in the peek and attribution stages;
	 * past it, reason overload-user. */
	unsigned max_pending_per_user;
	unsigned event_queue;     /* events waiting for the writer */
	unsigned event_max_rows;  /* the event log keeps the newest */
	unsigned event_max_age_s; /* and nothing older than this */
	uint32_t socket_mark;
	char database[4096];      /* SQLite file of rules (and events) */
	char control_socket[108]; /* unix socket path (sun_path size) */
	char admin_group[64];     /* "" = only root may change rules */
	gid_t admin_gid;          /* valid when admin_group[0] */
	/* The SOCKS5/SOCKS4a and HTTP CONNECT fronts; none by default. */
	struct config_listen socks_listen[CONFIG_MAX_FRONT];
	size_t n_socks_listen;
	/* Key http_connect_listen. */
	struct config_listen connect_listen[CONFIG_MAX_FRONT];
	size_t n_connect_listen;
	/* [0] is always the `upstream` key (default direct), then the
	 * upstream.NAME keys in the order the file gives them. */
	struct config_upstream upstreams[CONFIG_MAX_UPSTREAMS];
	size_t n_upstreams;
	/* Key isolation: app (0), app-name (1) or none (2), in the order of
	 * enum isolation in proxyd/isolation.h; default app. */
	int isolation;
	/* The DNS stub: TCP and UDP on each address, all on one port. */
	struct sockaddr_storage dns_listen[CONFIG_MAX_DNS];
	size_t n_dns_listen;
	/* Where queries the stub does not answer itself go: n_dns_upstream
	 * addresses; none of them and !dns_upstream_none means "the
	 * resolvers of /etc/resolv.conf at start"; dns_upstream_none
	 * (the word none) means never forward. */
	struct sockaddr_storage dns_upstream[CONFIG_MAX_DNS];
	size_t n_dns_upstream;
	bool dns_upstream_none;
	/* fake_ip_range: an IPv4 network, host bits clear, prefix 8-30. */
	struct in_addr fake_ip_net;
	unsigned fake_ip_prefix;
	/* fake_ip6_range: an IPv6 network, prefix 8-120; prefix 0 = none. */
	struct in6_addr fake_ip6_net;
	unsigned fake_ip6_prefix;
	unsigned fake_ip_max;     /* names the map holds, at least 16 */
	unsigned fake_ip_ttl_ms;  /* the DNS TTL of an answer, whole seconds */
	bool block_encrypted_dns; /* deny DoT and known DoH resolvers */
	/* The DoH resolvers' names (proxyd/encdns.h): a path, CONFIG_BUILTIN
	 * (the list compiled in), or "" for none. */
	char encrypted_dns_list[4096];
};

void config_defaults(struct config *cfg);

/*
 * Read path over the defaults already in *cfg.  When path is NULL the
 * default file is read if it exists, else the defaults stay.  Returns 0, or
 * -1 with err holding "FILE:LINE: what was wrong and what was expected".
 * On error *cfg may be partly changed.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/*
 * Check what no single line can: that all transparent listeners share one
 * port, and all dns_listen addresses another (nftables redirects to a
 * port); that no address (or unix path) is given twice across
 * transparent_listen, socks_listen, http_connect_listen, dns_listen and
 * control_socket; and that fake_ip_max names fit fake_ip_range (and
 * fake_ip6_range when set), whose first and last addresses are never
 * handed out.  Returns 0 or -1 + err.
 */
int config_check(const struct config *cfg, char *err, size_t errlen);

/*
 * Resolve user's uid and read the guarded users' subordinate ranges from
 * subuid and subgid (CONFIG_SUBUID_PATH and CONFIG_SUBGID_PATH unless
 * given) into cfg, replacing what it held; with guard_all none are read:
 * every uid not exempt is guarded already.  Malformed lines are warned
 * about and skipped (common/subid.h).  Returns 0, or -1 + err when a
 * file cannot be read or holds more than CONFIG_MAX_SUBID ranges of
 * guarded users; cfg's ranges are then unchanged.
 */
int config_load_subids(struct config *cfg, const char *subuid,
                       const char *subgid, char *err, size_t errlen);

/*
 * Whether the table guards uid: with guard_all, every uid but the exempt
 * ones and user's; else a uid of guard_users, or one in a guarded user's
 * subordinate uid range (as config_load_subids() read them).
 */
bool config_uid_guarded(const struct config *cfg, uid_t uid);

/*
 * "uid 1001 (alice); subordinate uids 100000-165535; subordinate gids
 * 100000-165535" or "every uid but 0 (root), 999 (_tollgate)" or "nobody
 * (guard_users is empty)" into buf (cut to fit); returns buf.  The one
 * way the guarded set is told: tollgated's start line and status,
 * "tollgate redirect on" and "redirect status" (through
 * config_describe_guard_set()).
 */
const char *config_describe_guarded(const struct config *cfg, char *buf,
                                    size_t len);

/* A guarded set as lists, for one that is not a configuration's (the
 * table read back from the kernel, redirect/status.c). */
struct config_guard_set {
	bool all; /* every uid but exempt[]; uids[] and the ranges unused */
	const uid_t *uids;
	size_t n_uids;
	const uid_t *exempt;
	size_t n_exempt;
	const struct subid_range *subuid, *subgid;
	size_t n_subuid, n_subgid;
};

/* As config_describe_guarded(); "nobody" when it is empty. */
const char *config_describe_guard_set(const struct config_guard_set *g,
                                      char *buf, size_t len);

/* Print the effective configuration in the file's own syntax. */
void config_print(const struct config *cfg, FILE *out);

/*
 * The upstream a rule's via names: "" or "upstream" is upstreams[0];
 * "direct" is a static row of kind UPSTREAM_DIRECT named "direct"
 * (whatever the upstream key says); any other NAME is the upstream.NAME
 * key.  NULL when there is no such upstream.  The row is cfg's (or
 * static): valid as long as cfg is.
 */
const struct config_upstream *config_upstream_find(const struct config *cfg,
                                                   const char *via);

/*
 * A valid upstream NAME: 1 to CONFIG_UPSTREAM_NAME_MAX of a-z, 0-9, '_'
 * and '-', and neither "direct" nor "upstream" (the words a rule's via
 * takes besides the names).
 */
bool config_upstream_name_ok(const char *name);

/* "127.0.0.1:9050", "[::1]:9050" or "unix:PATH:0660" into buf (of at
 * least CONFIG_LISTEN_STRLEN bytes to hold any); returns buf. */
const char *config_listen_fmt(const struct config_listen *l, char *buf,
                              size_t len);

/* "direct", "socks5://10.0.0.1:9050" or "socks5://unix:PATH" into buf
 * (CONFIG_UPSTREAM_STRLEN bytes hold any); returns buf. */
const char *config_upstream_fmt(const struct config_upstream *u, char *buf,
                                size_t len);

/*
 * The user a uid's share is counted against: the guarded user whose
 * subordinate range (guard_subuid) holds uid, else uid itself.  A user
 * runs processes as any of its subordinate uids (unshare --map-auto),
 * so per-uid caps must not count each of them apart.
 */
uid_t config_uid_owner(const struct config *cfg, uid_t uid);

/* The port that guarded TCP is redirected to. */
uint16_t config_transparent_port(const struct config *cfg);

/* The port that guarded DNS (UDP and TCP 53) is redirected to. */
uint16_t config_dns_port(const struct config *cfg);

/* Parse "250ms", "5s", "2m", "1h" or bare seconds into ms; -1 if bad. */
int config_parse_duration(const char *s, unsigned *ms);

#endif
