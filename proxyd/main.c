/*
 * main.c - tollgated: start-up, signals, shutdown.
 *
 * Start-up order matters:
 *   1. configuration (any error stops us before anything changes)
 *   2. the connect program loaded (connbpf.h: it needs CAP_BPF);
 *      listeners bound, so the redirect points at a live port; the
 *      NFLOG group of refused UDP bound, so the table logs to a reader
 *   3. nftables table installed (root)
 *   4. root dropped, keeping three capabilities (privs.h)
 *   5. the worker thread started (it inherits the reduced capabilities)
 *   6. "ready:" logged, the loop runs
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"
#include "proxyd/attr.h"
#include "proxyd/conn.h"
#include "proxyd/connbpf.h"
#include "proxyd/dnsstub.h"
#include "proxyd/encdns.h"
#include "proxyd/eventlog.h"
#include "proxyd/fakeip.h"
#include "proxyd/hashq.h"
#include "proxyd/broker.h"
#include "proxyd/control.h"
#include "proxyd/fdbudget.h"
#include "proxyd/listener.h"
#include "proxyd/privs.h"
#include "proxyd/proxyd.h"
#include "proxyd/relay.h"
#include "proxyd/rulesvc.h"
#include "proxyd/subidwatch.h"
#include "proxyd/udplog.h"
#include "proxyd/worker.h"
#include "redirect/redirect.h"

#define TOLLGATE_VERSION "0.1.0"
#define SWEEP_MAX_S      30

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tollgated [-c FILE] [--print-config]\n"
	    "\n"
	    "The tollgate daemon: takes every TCP connection of the guarded\n"
	    "users (nftables table inet tollgate), finds the program and the\n"
	    "destination name, decides, and relays what is allowed.\n"
	    "Runs in the foreground and logs to stderr.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  -p, --print-config  print the effective configuration and exit\n"
	    "  -h, --help          this help\n"
	    "  -V, --version       print the version\n"
	    "\n"
	    "See tollgated(8) and tollgate.conf(5).\n",
	    CONFIG_DEFAULT_PATH);
}

/* shared_socket_check, the connect records and the hash queue, for the
 * worker thread's struct attr. */
static bool attr_holder_scan;
static struct connbpf *attr_connbpf;
static struct hashq *attr_hashq;

static void *
attr_thread_init(void)
{
	struct attr *a = attr_new();

	if (a != NULL) {
		attr_set_holder_scan(a, attr_holder_scan);
		attr_set_connbpf(a, attr_connbpf);
		attr_set_hashq(a, attr_hashq);
	}
	if (a == NULL)
		log_error("attribution: cannot open sock_diag socket: %s; "
		          "every connection will be of an unknown process",
		          strerror(errno));
	return a;
}

static void
attr_thread_fini(void *ctx)
{
	if (ctx != NULL)
		attr_free(ctx);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proxyd *pd = arg;

	log_info("%s: shutting down (%u connections open)",
	         sig == SIGINT ? "SIGINT" : "SIGTERM", pd->n_conns);
	event_base_loopbreak(pd->base);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	log_info("SIGHUP: nothing to reload in this version; restart to "
	         "apply configuration changes");
}

static void
on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct proxyd *pd = arg;
	unsigned in_use, spare;

	relay_pool_counts(pd->pipes, &in_use, &spare);
	log_info("stats: connections=%u accepted=%llu allowed=%llu "
	         "refused=%llu bytes_up=%llu bytes_down=%llu pipes_in_use=%u "
	         "pipes_spare=%u",
	         pd->n_conns, (unsigned long long)pd->stats.accepted,
	         (unsigned long long)pd->stats.allowed,
	         (unsigned long long)pd->stats.refused,
	         (unsigned long long)pd->stats.bytes_up,
	         (unsigned long long)pd->stats.bytes_down, in_use, spare);
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	conn_sweep_idle(arg);
}

/* rulesvc's hook: connections waiting on prompts that a rule now decides
 * go. */
static void
on_rules_changed(void *arg)
{
	broker_rules_changed(arg);
}

/*
 * connect_tracking: load the connect program (needs CAP_BPF and
 * CAP_NET_ADMIN, so before the drop) and the exec program (CAP_PERFMON
 * too).  When the connect program cannot be had, one line says why and
 * attribution reads /proc as before; without the exec program, one line
 * says so and the connect program works alone.
 */
static void
open_connect_tracking(struct proxyd *pd)
{
	char err[CONNBPF_LOG_SIZE + 256];

	if (!pd->cfg.connect_tracking) {
		log_info("connect tracking: off (connect_tracking = no)");
		return;
	}
	if ((pd->connbpf = connbpf_open(err, sizeof(err))) == NULL) {
		log_info("connect tracking: off, processes are found in /proc "
		         "only: %s",
		         err);
		return;
	}
	log_info("connect tracking: on (a cgroup connect program names the "
	         "process that called connect()), exec tracking %s",
	         connbpf_exec_tracked(pd->connbpf) ? "on" : "off");
}

/* The table of tollgate.conf, logging refused UDP to nflog_group (0:
 * not logged, when the group could not be bound: no other reader of it
 * gets the guarded users' datagrams). */
static int
install_redirect(const struct config *cfg, uint16_t nflog_group)
{
	struct redirect_spec spec;
	char err[CONFIG_ERRLEN];

	redirect_spec_of(cfg, &spec);
	spec.nflog_group = nflog_group;
	if (redirect_install(&spec, err, sizeof(err)) == -1) {
		log_error("nftables: %s", err);
		return -1;
	}
	log_info("nftables: table inet %s installed", REDIRECT_TABLE);
	return 0;
}

/*
 * The resolver tollgated asks itself (the name behind a fake IP, going
 * direct) and the stub forwards to: dns_upstream's addresses, else
 * resolv.conf's as they are now; /etc/hosts either way.  Read before the
 * drop.  pd->dns stays NULL when none can be made.
 */
static void
open_resolver(struct proxyd *pd)
{
	const struct sockaddr *sa;
	char a[ADDR_STRLEN];
	size_t i;

	if (pd->cfg.n_dns_upstream == 0) {
		pd->dns = evdns_base_new(pd->base,
		                         EVDNS_BASE_INITIALIZE_NAMESERVERS |
		                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (pd->dns == NULL)
			log_warn("cannot read /etc/resolv.conf: proxy clients "
			         "that name a host get 'host unreachable' on a "
			         "direct route");
		return;
	}
	pd->dns = evdns_base_new(pd->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (pd->dns == NULL) {
		log_warn("cannot make a resolver for dns_upstream: names get "
		         "'host unreachable' on a direct route");
		return;
	}
	if (evdns_base_load_hosts(pd->dns, NULL) != 0)
		log_warn("cannot read /etc/hosts: every name goes to "
		         "dns_upstream");
	for (i = 0; i < pd->cfg.n_dns_upstream; i++) {
		sa = (const struct sockaddr *)&pd->cfg.dns_upstream[i];
		if (evdns_base_nameserver_sockaddr_add(pd->dns, sa,
		                                       addr_len(sa), 0) != 0)
			log_warn("dns_upstream %s: cannot add it to the "
			         "resolver",
			         addr_fmt(sa, a, sizeof(a)));
	}
}

/* Open the rule store as root, giving its files to the daemon's user. */
static int
open_rules(struct proxyd *pd)
{
	struct passwd *pw = getpwnam(pd->cfg.user);
	char err[CONFIG_ERRLEN];

	if (pw == NULL) {
		log_error("user %s does not exist", pd->cfg.user);
		return -1;
	}
	/* With an admin_group, its members may read the rules (the CLI's
	 * list, test and export) while only tollgated writes. */
	if (rulesvc_open(pd, pw->pw_uid,
	                 pd->cfg.admin_group[0] ? pd->cfg.admin_gid
	                                        : pw->pw_gid,
	                 err, sizeof(err)) == -1) {
		log_error("rules: %s; not starting (the nftables table stays, "
		          "so guarded traffic is refused)",
		          err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"print-config", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct proxyd pd;
	struct control *control = NULL; /* the control socket (control.h) */
	struct subidwatch *subids = NULL;
	struct broker_sink sink;
	const char *path = NULL;
	char err[CONFIG_ERRLEN], lbuf[256], gbuf[512];
	struct event *sig_int = NULL, *sig_term = NULL, *sig_hup = NULL,
	             *sig_usr1 = NULL;
	struct timeval sweep;
	int opt, print = 0, rc = 1, redirect_on = 0, keep_table = 0, n;

	while ((opt = getopt_long(argc, argv, "c:phV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			print = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tollgated %s\n", TOLLGATE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tollgated: unexpected argument \"%s\"\n",
		        argv[optind]);
		usage(stderr);
		return 2;
	}

	memset(&pd, 0, sizeof(pd));
	TAILQ_INIT(&pd.conns);
	pd.next_conn_id = 1;
	config_defaults(&pd.cfg);
	log_init("tollgated", LOG_INFO);
	if (config_load(&pd.cfg, path, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	if (print) {
		config_print(&pd.cfg, stdout);
		return 0;
	}
	log_set_level(pd.cfg.log_level);
	if (geteuid() != 0) {
		log_error("must be started as root (it installs the nftables "
		          "table, then drops to user %s)",
		          pd.cfg.user);
		return 1;
	}
	if (getpwnam(pd.cfg.user) == NULL) {
		log_error("user %s does not exist: create it with 'sudo make "
		          "install-user', or set user = in %s",
		          pd.cfg.user,
		          pd.cfg.path[0] ? pd.cfg.path : "tollgate.conf");
		return 1;
	}
	/* Before anything changes: a list that cannot be read stops it. */
	pd.encdns = encdns_load(pd.cfg.encrypted_dns_list, err, sizeof(err));
	if (pd.encdns == NULL) {
		log_error("%s", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (fdbudget_setup(&pd) == -1)
		return 1;

	pd.base = event_base_new();
	pd.pipes = relay_pool_new();
	if (pd.base == NULL || pd.pipes == NULL) {
		log_error("cannot create the event loop");
		goto out;
	}
	open_connect_tracking(&pd);
	if (listener_open_all(&pd) == -1)
		goto out;
	if (udplog_open(&pd, UDPLOG_NFLOG_GROUP, err, sizeof(err)) == -1)
		log_warn("udp events: %s; refused guarded UDP is still "
		         "refused, but without events",
		         err);
	/* A guarded user's subordinate ids are guarded with it, from the
	 * first table on; more of them than can be guarded stop it. */
	if (config_load_subids(&pd.cfg, NULL, NULL, err, sizeof(err)) == -1) {
		log_error("%s; not starting", err);
		goto out;
	}
	if (install_redirect(&pd.cfg,
	                     pd.udplog != NULL ? UDPLOG_NFLOG_GROUP : 0) == -1)
		goto out;
	redirect_on = 1;
	subids = subidwatch_start(
	    &pd, pd.udplog != NULL ? UDPLOG_NFLOG_GROUP : 0, err, sizeof(err));
	if (subids == NULL) {
		log_error("%s; not starting (the nftables table stays)", err);
		keep_table = 1;
		goto out;
	}
	if (open_rules(&pd) == -1) {
		/* Without its rules tollgated must not run, and the guarded
		 * users must not get out around it: the table stays. */
		keep_table = 1;
		goto out;
	}

	if (rulesvc_secret(&pd, "isolation", pd.isolation_key,
	                   sizeof(pd.isolation_key), err, sizeof(err)) == -1) {
		log_error("the isolation key: %s", err);
		keep_table = 1;
		goto out;
	}
	pd.fakeip = fakeip_new(pd.cfg.fake_ip_net, pd.cfg.fake_ip_prefix,
	                       pd.cfg.fake_ip_max);
	if (pd.fakeip == NULL) {
		log_error("the fake-IP map: %s; not starting (the nftables "
		          "table stays)",
		          strerror(errno));
		keep_table = 1;
		goto out;
	}
	/* Before the mappings come back, so that their IPv6 addresses are
	 * taken as they were. */
	if (pd.cfg.fake_ip6_prefix != 0 &&
	    fakeip_set_range6(pd.fakeip, &pd.cfg.fake_ip6_net,
	                      pd.cfg.fake_ip6_prefix) == -1) {
		log_error("fake_ip6_range: %s; not starting (the nftables "
		          "table stays)",
		          strerror(errno));
		keep_table = 1;
		goto out;
	}
	/* Names handed out before a restart keep their addresses: programs
	 * remember an answer far longer than its TTL. */
	n = rulesvc_fakeip_restore(&pd, pd.fakeip, pd.cfg.fake_ip_max, err,
	                           sizeof(err));
	if (n == -1)
		log_warn("%s; names handed out before get new addresses", err);
	else
		log_info("fake IPs: %d mappings put back", n);
	open_resolver(&pd);

	if (dnsstub_open(&pd, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}

	/* The control socket: made as root, served after the drop. */
	if (eventlog_open(&pd, err, sizeof(err)) == -1) {
		log_error("%s; not starting (the nftables table stays)", err);
		keep_table = 1;
		goto out;
	}
	control = control_open(&pd, err, sizeof(err));
	if (control == NULL) {
		log_error("control socket: %s", err);
		goto out;
	}
	pd.control = control;
	/* The public suffix list is read before the drop, like every file
	 * tollgated needs. */
	if (broker_open(&pd, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	/* The layers below learn of those above only through these. */
	control_broker_sink(control, &sink);
	broker_set_sink(&pd, &sink);
	rulesvc_on_change(&pd, on_rules_changed, &pd);

	if (privs_drop(pd.cfg.user, err, sizeof(err)) == -1) {
		log_error("dropping privileges: %s", err);
		goto out;
	}
	attr_holder_scan = pd.cfg.shared_socket_check;
	attr_connbpf = pd.connbpf;
	if ((pd.hashq = attr_hashq = hashq_new(pd.base)) == NULL)
		goto out;
	pd.worker = worker_new(pd.base, attr_thread_init, attr_thread_fini);
	if (pd.worker == NULL || rulesvc_start(&pd) == -1 ||
	    eventlog_start(&pd) == -1 || dnsstub_start(&pd) == -1 ||
	    udplog_start(&pd) == -1)
		goto out;
	conn_prepare(&pd);

	if (control_start(control) == -1) /* the control socket */
		goto out;

	sig_int = evsignal_new(pd.base, SIGINT, on_stop_signal, &pd);
	sig_term = evsignal_new(pd.base, SIGTERM, on_stop_signal, &pd);
	sig_hup = evsignal_new(pd.base, SIGHUP, on_hup, &pd);
	sig_usr1 = evsignal_new(pd.base, SIGUSR1, on_usr1, &pd);
	pd.sweep_ev = event_new(pd.base, -1, EV_PERSIST, on_sweep, &pd);
	sweep.tv_sec = pd.cfg.idle_timeout_ms / 4000;
	if (sweep.tv_sec < 1)
		sweep.tv_sec = 1;
	if (sweep.tv_sec > SWEEP_MAX_S)
		sweep.tv_sec = SWEEP_MAX_S;
	sweep.tv_usec = 0;
	if (sig_int == NULL || sig_term == NULL || sig_hup == NULL ||
	    sig_usr1 == NULL || pd.sweep_ev == NULL ||
	    event_add(sig_int, NULL) == -1 || event_add(sig_term, NULL) == -1 ||
	    event_add(sig_hup, NULL) == -1 || event_add(sig_usr1, NULL) == -1 ||
	    event_add(pd.sweep_ev, &sweep) == -1) {
		log_error("cannot install signal handlers");
		goto out;
	}

	config_describe_guarded(&pd.cfg, gbuf, sizeof(gbuf));
	log_info("ready: listening on %s; guarding %s; default_action %s; "
	         "running as %s",
	         listener_describe(&pd, lbuf, sizeof(lbuf)), gbuf,
	         action_name(pd.cfg.default_action), pd.cfg.user);
	if (event_base_dispatch(pd.base) == -1)
		log_error("event loop failed");
	else
		rc = 0;
out:
	control_close(control); /* first: no change arrives while stopping */
	subidwatch_free(subids);
	broker_set_sink(&pd, NULL); /* its agents are gone with it */
	listener_close_all(&pd);
	worker_free(pd.worker, false);
	pd.worker = NULL;   /* the connections closed below count no more */
	dnsstub_close(&pd); /* its queries the worker dropped */
	udplog_close(&pd);  /* its datagrams the worker dropped */
	conn_close_all(&pd);
	hashq_free(pd.hashq); /* after the connections that wait on it */
	if (pd.dns != NULL)
		evdns_base_free(pd.dns, 1); /* after its requests' conns */
	fakeip_free(pd.fakeip);
	encdns_free(pd.encdns);
	broker_close(&pd);  /* after its connections */
	eventlog_stop(&pd); /* after the last connection's end is queued */
	connbpf_close(pd.connbpf); /* after the worker */
	rulesvc_stop(&pd);
	if (redirect_on && !pd.cfg.keep_redirect_on_exit && !keep_table) {
		if (redirect_remove(err, sizeof(err)) == -1) {
			log_error("nftables: removing the table: %s", err);
			rc = 1;
		} else
			log_info("nftables: table removed "
			         "(keep_redirect_on_exit = no)");
	} else if (redirect_on)
		log_info("nftables: table kept: guarded connections fail "
		         "until tollgated runs again (tollgate redirect off "
		         "gives the network back)");
	if (sig_int != NULL)
		event_free(sig_int);
	if (sig_term != NULL)
		event_free(sig_term);
	if (sig_hup != NULL)
		event_free(sig_hup);
	if (sig_usr1 != NULL)
		event_free(sig_usr1);
	if (pd.sweep_ev != NULL)
		event_free(pd.sweep_ev);
	relay_pool_free(pd.pipes);
	if (pd.base != NULL)
		event_base_free(pd.base);
	return rc;
}
