/*
 * rules_bench.c - the rule matcher and the list reader at scale.
 *
 *   make build/libtg.a
 *   cc -O2 -std=gnu11 -I. -D_GNU_SOURCE -o build/rules_bench \
 *       bench/rules_bench.c build/libtg.a -lidn2 -lpthread
 *   build/rules_bench [-n NAME_RULES] [-c CIDR_RULES] [-q QUERIES]
 *
 * Builds an index of NAME_RULES name rules (default 100000; half exact,
 * half wildcard) across 20 apps plus CIDR_RULES IPv4 and IPv6 CIDR rules
 * (default 1000) and a few any-destination rules, then times QUERIES
 * lookups one by one (default 200000: names that hit an exact rule, names
 * under a wildcard, names that miss; known and unknown apps; an address
 * each).  Then reads a 100000-line hosts file from memory.  Prints one
 * key=value line per figure:
 *   lookup_median_ns, lookup_p99_ns   a lookup (clock overhead removed)
 *   lookup_explain_median_ns          the same, asking why
 *   build_ms                          rules_index_build()
 *   index_bytes, index_mib            malloc()ed by the build (mallinfo2)
 *   index_counted_bytes               what the index counts itself
 *   list_parse_ms, list_names         the hosts file
 *   list_index_build_ms               an index of one rule with that list
 * Everything is generated from a fixed seed: runs are comparable.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rules/list.h"
#include "rules/match.h"

#define BENCH_APPS      20
#define BENCH_LIST_LINE 100000
#define BENCH_NOW       ((time_t)1795867200)

static uint64_t bench_seed = 0x9e3779b97f4a7c15ULL;

static uint64_t
bench_rand(void)
{
	bench_seed ^= bench_seed << 13;
	bench_seed ^= bench_seed >> 7;
	bench_seed ^= bench_seed << 17;
	return bench_seed;
}

static double
bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A random label of 3-12 letters and digits. */
static void
bench_label(char *out)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	int i, n = 3 + (int)(bench_rand() % 10);

	for (i = 0; i < n; i++)
		out[i] = chars[bench_rand() % (sizeof(chars) - 1)];
	out[n] = '\0';
}

/* The i-th rule's name: two or three labels and a TLD. */
static void
bench_name(char *out, size_t len)
{
	static const char *const tlds[] = {"com", "net", "org", "de", "io"};
	char a[16], b[16], c[16];

	bench_label(a);
	bench_label(b);
	if (bench_rand() % 2) {
		bench_label(c);
		snprintf(out, len, "%s.%s.%s.%s", a, b, c,
		         tlds[bench_rand() % 5]);
	} else
		snprintf(out, len, "%s.%s.%s", a, b, tlds[bench_rand() % 5]);
}

static void
bench_app(char *out, size_t len, unsigned i)
{
	snprintf(out, len, "/usr/bin/app%02u", i);
}

static void
bench_add(struct rules_set *set, struct rule *r)
{
	char err[256];

	if (rules_set_add(set, r, NULL, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "rules_bench: %s\n", err);
		exit(1);
	}
}

/* -d: every IPv4 CIDR in 8.0.0.0/6, so many rules share a network. */
static bool bench_dense;

static void
bench_cidr(struct rule *r, bool v6)
{
	static const unsigned p4[] = {8, 12, 16, 20, 24, 28, 32};
	static const unsigned p6[] = {32, 40, 48, 56, 64, 128};
	char text[64], addr[INET6_ADDRSTRLEN], err[256];
	uint8_t a[16];
	size_t i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)bench_rand();
	if (v6) {
		a[0] = 0x20;
		a[1] = 0x01;
		inet_ntop(AF_INET6, a, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%u", addr,
		         p6[bench_rand() % 6]);
	} else {
		a[0] = bench_dense ? (uint8_t)(8 + bench_rand() % 4)
		                   : (uint8_t)(1 + bench_rand() % 223);
		inet_ntop(AF_INET, a, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%u", addr,
		         p4[bench_rand() % 7]);
	}
	if (rule_parse_dest(r, text, err, sizeof(err)) == -1) {
		fprintf(stderr, "rules_bench: %s\n", err);
		exit(1);
	}
}

/*
 * A query's address: half the time inside the network of a random CIDR
 * rule (host bits random), else a random address of the same family
 * mix (two thirds IPv4).
 */
static void
bench_query_addr(const struct rules_set *set, size_t n_names, size_t n_cidr,
                 struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const struct rule *r = NULL;
	uint8_t a[16];
	size_t i;
	unsigned keep;
	bool v6;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)bench_rand();
	if (n_cidr > 0 && bench_rand() % 2 == 0) {
		r = &set->rules[n_names + bench_rand() % n_cidr];
		v6 = r->family == AF_INET6;
		keep = r->prefix;
		for (i = 0; i < keep / 8; i++)
			a[i] = r->addr[i];
		if (keep % 8 != 0)
			a[i] =
			    (uint8_t)((r->addr[i] & (0xff << (8 - keep % 8))) |
			              (a[i] & (0xff >> (keep % 8))));
	} else {
		v6 = bench_rand() % 3 == 0;
		if (v6) {
			a[0] = 0x20;
			a[1] = 0x01;
		} else
			a[0] = bench_dense ? (uint8_t)(8 + bench_rand() % 8)
			                   : (uint8_t)(1 + bench_rand() % 223);
	}
	if (v6) {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
	} else {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
	}
}

struct bench_query {
	char app[32];
	bool known_app;
	char name[NAME_MAX_LEN + 1];
	struct sockaddr_storage ss;
};

int
main(int argc, char **argv)
{
	struct rules_set set;
	struct rules_index *idx;
	struct rules_query q;
	struct rules_explain why;
	struct bench_query *qs;
	struct rule *r;
	struct mallinfo2 m0, m1;
	struct rules_list *list;
	char(*names)[NAME_MAX_LEN + 1], err[256], *text;
	double *t, t0, t1, overhead, build_ms;
	size_t n_names = 100000, n_cidr = 1000, n_q = 200000, i, off, hits = 0;
	const char *const *lnames;
	volatile size_t warm = 0;
	int c;

	while ((c = getopt(argc, argv, "dn:c:q:")) != -1) {
		switch (c) {
		case 'd':
			bench_dense = true;
			break;
		case 'n':
			n_names = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			n_cidr = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			n_q = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
			        "usage: rules_bench [-d] [-n NAME_RULES] "
			        "[-c CIDR_RULES] [-q QUERIES]\n");
			return 2;
		}
	}
	if (n_names == 0 || n_q == 0) {
		fprintf(stderr, "rules_bench: -n and -q must be > 0\n");
		return 2;
	}

	/* The rules. */
	r = malloc(sizeof(*r));
	names = malloc(n_names * sizeof(*names));
	qs = malloc(n_q * sizeof(*qs));
	t = malloc(n_q * sizeof(*t));
	if (r == NULL || names == NULL || qs == NULL || t == NULL) {
		fprintf(stderr, "rules_bench: out of memory\n");
		return 1;
	}
	rules_set_init(&set);
	/* Its room at once, as the daemon's load makes it (store_load()). */
	if (rules_set_reserve(&set, n_names + n_cidr + BENCH_APPS, err,
	                      sizeof(err)) == -1) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	for (i = 0; i < n_names; i++) {
		rule_init(r);
		r->id = (int64_t)i + 1;
		bench_app(r->app, sizeof(r->app), (unsigned)(i % BENCH_APPS));
		bench_name(names[i], sizeof(names[i]));
		r->dest_kind = i % 2 ? DEST_WILDCARD : DEST_NAME;
		snprintf(r->dest, sizeof(r->dest), "%s", names[i]);
		r->action = bench_rand() % 3 ? ACTION_ALLOW : ACTION_DENY;
		if (bench_rand() % 4 == 0) {
			r->port_lo = r->port_hi = 443;
			r->proto = RPROTO_TCP;
		}
		bench_add(&set, r);
	}
	for (i = 0; i < n_cidr; i++) {
		rule_init(r);
		r->id = (int64_t)(n_names + i + 1);
		if (i % 5 == 0)
			snprintf(r->app, sizeof(r->app), "*");
		else
			bench_app(r->app, sizeof(r->app),
			          (unsigned)(bench_rand() % BENCH_APPS));
		bench_cidr(r, i % 3 == 0);
		r->action = ACTION_DENY;
		bench_add(&set, r);
	}
	for (i = 0; i < BENCH_APPS; i += 4) {
		rule_init(r);
		r->id = (int64_t)(n_names + n_cidr + i + 1);
		bench_app(r->app, sizeof(r->app), (unsigned)i);
		r->action = ACTION_ALLOW;
		r->port_lo = 80;
		r->port_hi = 80;
		bench_add(&set, r);
	}

	/* Build, measuring time and memory. */
	m0 = mallinfo2();
	t0 = bench_ns();
	idx = rules_index_build(&set, BENCH_NOW, err, sizeof(err));
	t1 = bench_ns();
	m1 = mallinfo2();
	if (idx == NULL) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	build_ms = (t1 - t0) / 1e6;

	/* The queries. */
	for (i = 0; i < n_q; i++) {
		struct bench_query *bq = &qs[i];
		size_t k = bench_rand() % n_names;
		uint64_t kind = bench_rand() % 4;
		char label[16];

		bq->known_app = bench_rand() % 8 != 0;
		if (bq->known_app)
			bench_app(bq->app, sizeof(bq->app),
			          (unsigned)(k % BENCH_APPS));
		else
			snprintf(bq->app, sizeof(bq->app), "/usr/bin/other");
		if (kind == 0) /* miss */
			bench_name(bq->name, sizeof(bq->name));
		else if (k % 2 == 0) /* the exact name */
			snprintf(bq->name, sizeof(bq->name), "%s", names[k]);
		else { /* under the wildcard */
			bench_label(label);
			snprintf(bq->name, sizeof(bq->name), "www.%s.%s", label,
			         names[k]);
		}
		memset(&bq->ss, 0, sizeof(bq->ss));
		bench_query_addr(&set, n_names, n_cidr, &bq->ss);
	}

	/* The clock's own cost, taken off each lookup. */
	for (i = 0; i < n_q; i++) {
		t0 = bench_ns();
		t1 = bench_ns();
		t[i] = t1 - t0;
	}
	qsort(t, n_q, sizeof(*t), bench_cmp);
	overhead = t[n_q / 2];

	memset(&q, 0, sizeof(q));
	q.has_uid = true;
	q.uid = 1000;
	q.port = 443;
	q.proto = RPROTO_TCP;
	q.now = BENCH_NOW;
	for (c = 0; c < 2; c++) {
		for (i = 0; i < n_q; i++) {
			q.app = qs[i].app;
			q.name = qs[i].name;
			q.addr = (const struct sockaddr *)&qs[i].ss;
			/* In tollgated the query is hot: it was just read. */
			warm +=
			    strlen(q.app) + strlen(q.name) + qs[i].ss.ss_family;
			t0 = bench_ns();
			if (rules_match(idx, &q, c == 1 ? &why : NULL) != NULL)
				hits++;
			t1 = bench_ns();
			t[i] = t1 - t0 - overhead;
		}
		qsort(t, n_q, sizeof(*t), bench_cmp);
		if (c == 0) {
			printf("name_rules=%zu\n", n_names);
			printf("cidr_rules=%zu\n", n_cidr);
			printf("apps=%d\n", BENCH_APPS);
			printf("queries=%zu\n", n_q);
			printf("matched_pct=%.1f\n",
			       100.0 * (double)hits / (double)n_q);
			printf("lookup_median_ns=%.0f\n", t[n_q / 2]);
			printf("lookup_p99_ns=%.0f\n", t[n_q * 99 / 100]);
		} else
			printf("lookup_explain_median_ns=%.0f\n", t[n_q / 2]);
	}
	printf("clock_overhead_ns=%.0f\n", overhead);
	printf("build_ms=%.1f\n", build_ms);
	printf("index_bytes=%zu\n",
	       m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd);
	printf("index_mib=%.1f\n",
	       (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) /
	           (1024.0 * 1024.0));
	printf("index_counted_bytes=%zu\n", rules_index_memory(idx));
	rules_index_free(idx);
	rules_set_free(&set);

	/* A 100000-line hosts file (half hosts lines, half plain). */
	text = malloc((size_t)BENCH_LIST_LINE * (NAME_MAX_LEN + 16));
	if (text == NULL) {
		fprintf(stderr, "rules_bench: out of memory\n");
		return 1;
	}
	off = (size_t)sprintf(text, "# a blocklist\n127.0.0.1 localhost\n");
	for (i = 0; i < BENCH_LIST_LINE; i++) {
		char name[NAME_MAX_LEN + 1];

		bench_name(name, sizeof(name));
		off += (size_t)sprintf(text + off, "%s%s\n",
		                       i % 2 ? "0.0.0.0 " : "", name);
	}
	t0 = bench_ns();
	list = rules_list_read_buf(text, off, err, sizeof(err));
	t1 = bench_ns();
	if (list == NULL) {
		fprintf(stderr, "rules_bench: list: %s\n", err);
		return 1;
	}
	printf("list_parse_ms=%.1f\n", (t1 - t0) / 1e6);
	printf("list_names=%zu\n", rules_list_count(list));

	rules_set_init(&set);
	rule_init(r);
	r->id = 1;
	r->dest_kind = DEST_LIST;
	snprintf(r->dest, sizeof(r->dest), "ads");
	lnames = rules_list_names(list);
	if (rules_set_add(&set, r, lnames, rules_list_count(list), err,
	                  sizeof(err)) == -1) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	t0 = bench_ns();
	idx = rules_index_build(&set, BENCH_NOW, err, sizeof(err));
	t1 = bench_ns();
	if (idx == NULL) {
		fprintf(stderr, "rules_bench: %s\n", err);
		return 1;
	}
	printf("list_index_build_ms=%.1f\n", (t1 - t0) / 1e6);
	rules_index_free(idx);
	rules_set_free(&set);
	rules_list_free(list);
	free(text);
	free(t);
	free(qs);
	free(names);
	free(r);
	return 0;
}
