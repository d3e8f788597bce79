/*
 * events_bench.c - the event log's write rate and query times.
 *
 *   make build/libtg.a && cc -O2 -std=gnu11 -I. -D_GNU_SOURCE \
 *       -o build/events_bench bench/events_bench.c build/libtg.a \
 *       $(pkg-config --libs sqlite3 libidn2) -lpthread
 *   build/events_bench [DIR]
 *
 * In a fresh database under DIR (default /tmp), as the daemon's writer
 * does it: decisions in batches of BATCH rows, one transaction each, the
 * times spread evenly over DAYS days up to now, about N_APPS apps and
 * N_NAMES names (under N_DOMAINS domains), both skewed as real traffic is
 * (a few apps and sites take most rows).  Then, on the ROWS rows:
 * "tollgate events --app A --domain D --since 1d" (the CLI's newest 100
 * and every row), stats over a day, a --follow poll, prune steps, and the
 * database's size.  Prints key=value lines; times are medians of RUNS.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/events.h"
#include "store/store.h"

#define ROWS       1000000
#define RATE_ROWS  500000 /* the insert rate is measured over these */
#define BATCH      512
#define DAYS       30
#define N_APPS     50
#define N_NAMES    5000
#define N_DOMAINS  1000
#define RUNS       21
#define DAY_MS     (24 * 3600 * 1000LL)
#define GOAL_RATE  50000.0
#define GOAL_QUERY 100.0
#define GOAL_STATS 500.0

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 0..n-1, item i about 1/(i+1) as likely as item 0 (Zipf, s = 1). */
static size_t
skewed(const double *cdf, size_t n)
{
	double u = (double)(next_rand() >> 11) / (double)(1ULL << 53);
	size_t lo = 0, hi = n - 1, mid;

	u *= cdf[n - 1];
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
zipf_cdf(double *cdf, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		sum += 1.0 / (double)(i + 1);
		cdf[i] = sum;
	}
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* This thread's CPU time: the store's work without the waits for the
 * disk, steadier than the rate on a busy machine. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void
app_path(size_t i, char *buf, size_t len)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/lib/firefox-esr",
	                                   "/opt/app", "/usr/libexec"};

	snprintf(buf, len, "%s/app%zu", dirs[i % 4], i);
}

/* Name i: "www" or a numbered host under domain i % N_DOMAINS. */
static void
name_of(size_t i, char *buf, size_t len)
{
	size_t d = i % N_DOMAINS, h = i / N_DOMAINS;

	if (h == 0)
		snprintf(buf, len, "site%zu.example%zu.com", d, d % 7);
	else
		snprintf(buf, len, "h%zu.cdn.site%zu.example%zu.com", h, d,
		         d % 7);
}

static void
fill_row(struct event_row *ev, int64_t conn, int64_t t, const double *app_cdf,
         const double *name_cdf)
{
	size_t a = skewed(app_cdf, N_APPS), n = skewed(name_cdf, N_NAMES);

	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_DECISION;
	ev->conn_id = conn;
	ev->time_ms = t;
	ev->pid = (pid_t)(1000 + a * 7);
	ev->has_uid = true;
	ev->uid = 1000;
	snprintf(ev->user, sizeof(ev->user), "user");
	app_path(a, ev->exe, sizeof(ev->exe));
	snprintf(ev->cmdline, sizeof(ev->cmdline),
	         "%s --profile /home/user/.config/app%zu --new-window", ev->exe,
	         a);
	/* One in 200 a DNS refusal, one in 200 a refused datagram. */
	snprintf(ev->proto, sizeof(ev->proto), "%s",
	         conn % 200 == 0   ? "dns"
	         : conn % 200 == 1 ? "udp"
	                           : "tcp");
	snprintf(ev->src_ip, sizeof(ev->src_ip), "10.0.2.15");
	ev->src_port = (uint16_t)(32768 + conn % 28000);
	snprintf(ev->dst_ip, sizeof(ev->dst_ip), "93.184.%zu.%zu", n % 256,
	         n / 256);
	ev->dst_port = 443;
	name_of(n, ev->name, sizeof(ev->name));
	snprintf(ev->name_source, sizeof(ev->name_source), "sni");
	ev->verdict = next_rand() % 10 == 0 ? ACTION_DENY : ACTION_ALLOW;
	ev->decider = DECIDER_RULE;
	ev->rule_id = (int64_t)(a + 1);
	snprintf(ev->upstream, sizeof(ev->upstream), "direct");
	ev->bytes_up = ev->bytes_down = ev->duration_ms = -1;
}

static int
count_row(const struct event_row *row, void *arg)
{
	(void)row;
	(*(size_t *)arg)++;
	return 0;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

int
main(int argc, char **argv)
{
	static double app_cdf[N_APPS], name_cdf[N_NAMES];
	static struct event_row batch[BATCH];
	static struct event_close ends[BATCH];
	char dir[256], db[300], wal[310], err[STORE_ERRLEN], app[64],
	    dom[NAME_MAX_LEN + 1];
	struct events_filter f;
	struct events_stats st;
	struct store *s, *r;
	double t0, t1, c1, t_end, times[RUNS], rate_first, ms, in_insert = 0,
	                                                       in_mixed = 0,
	                                                       cpu_insert = 0;
	int64_t now = wall_ms(), start = now - DAYS * DAY_MS, conn = 0, max_id,
	        pruned;
	size_t i, j, k, n, nc, total = 0, rows_seen;
	int ok = 1;

	snprintf(dir, sizeof(dir), "%s/tg-events-bench-XXXXXX",
	         argc > 1 ? argv[1] : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(db, sizeof(db), "%s/tollgate.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	zipf_cdf(app_cdf, N_APPS);
	zipf_cdf(name_cdf, N_NAMES);
	/* The daemon's writer has a connection of its own for events. */
	if ((s = store_open(db, STORE_READWRITE, err, sizeof(err))) == NULL ||
	    events_dedicate(s, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	/*
	 * Writes: ROWS decisions, times evenly over DAYS days, in order.
	 * The first RATE_ROWS alone (events_insert(), the goal's figure);
	 * the rest as the daemon's writer mixes them: each batch of BATCH
	 * rows with the ends of BATCH earlier connections (events_write()).
	 * The rates count the time spent in the store, not making the rows.
	 */
	t0 = mono_ms();
	while (total < ROWS) {
		for (j = 0; j < BATCH && total + j < ROWS; j++) {
			conn++;
			fill_row(&batch[j], conn,
			         start + (int64_t)((total + j) *
			                           (DAYS * DAY_MS / ROWS)),
			         app_cdf, name_cdf);
		}
		nc = 0;
		if (total >= RATE_ROWS)
			for (nc = 0; nc < BATCH; nc++) {
				ends[nc].conn_id =
				    conn - 2 * BATCH + (int64_t)nc;
				/* conn k's row: the time of row k - 1 */
				ends[nc].time_ms =
				    start + (ends[nc].conn_id - 1) *
				                (DAYS * DAY_MS / ROWS);
				ends[nc].bytes_up = 1000 + (int64_t)nc;
				ends[nc].bytes_down = 50000;
				ends[nc].duration_ms = 1234;
			}
		t1 = mono_ms();
		c1 = cpu_ms();
		if (events_write(s, batch, j, ends, nc, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		t1 = mono_ms() - t1;
		c1 = cpu_ms() - c1;
		total += j;
		if (total <= RATE_ROWS) {
			in_insert += t1;
			cpu_insert += c1;
		} else {
			in_mixed += t1;
		}
	}
	t_end = mono_ms();
	rate_first = RATE_ROWS / (in_insert / 1e3);
	printf("insert_batch=%d\n", BATCH);
	printf("insert_rows_per_s=%.0f\n", rate_first);
	printf("insert_goal_rows_per_s=%.0f\n", GOAL_RATE);
	printf("insert_cpu_us_per_row=%.2f\n", cpu_insert * 1e3 / RATE_ROWS);
	printf("mixed_rows_and_ends_per_s=%.0f\n",
	       (ROWS - RATE_ROWS) / (in_mixed / 1e3));
	printf("all_rows_with_row_making_per_s=%.0f\n",
	       ROWS / ((t_end - t0) / 1e3));
	ok &= rate_first >= GOAL_RATE;

	/* Reads, as the CLI does them: a read-only store of its own. */
	if ((r = store_open(db, STORE_READONLY, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < RUNS; i++) {
		/* Apps and domains as skewed as the rows: common pairs. */
		app_path(skewed(app_cdf, N_APPS), app, sizeof(app));
		j = skewed(name_cdf, N_NAMES) % N_DOMAINS;
		snprintf(dom, sizeof(dom), "site%zu.example%zu.com", j, j % 7);
		memset(&f, 0, sizeof(f));
		f.app = strrchr(app, '/') + 1;
		f.domain = dom;
		f.since_ms = now - DAY_MS;
		f.limit = 100;
		rows_seen = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &rows_seen, err,
		                 sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	ms = median(times, RUNS);
	printf("query_app_domain_day_limit100_ms=%.2f\n", ms);
	ok &= ms <= GOAL_QUERY;

	for (i = 0; i < RUNS; i++) {
		app_path(skewed(app_cdf, N_APPS), app, sizeof(app));
		j = skewed(name_cdf, N_NAMES) % N_DOMAINS;
		snprintf(dom, sizeof(dom), "example%zu.com", j % 7);
		memset(&f, 0, sizeof(f));
		f.app = app;
		f.domain = dom;
		f.since_ms = now - DAY_MS;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	ms = median(times, RUNS);
	printf("query_app_domain_day_all_rows_ms=%.2f\n", ms);
	printf("query_goal_ms=%.0f\n", GOAL_QUERY);
	ok &= ms <= GOAL_QUERY;

	for (i = 0; i < RUNS; i++) {
		j = skewed(name_cdf, N_NAMES) % N_DOMAINS;
		snprintf(dom, sizeof(dom), "site%zu.example%zu.com", j, j % 7);
		memset(&f, 0, sizeof(f));
		f.domain = dom;
		f.limit = 100;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("query_domain_any_time_limit100_ms=%.2f\n", median(times, RUNS));

	/* A domain never seen: the whole (time_ms, rname) index is read. */
	for (i = 0; i < 5; i++) {
		memset(&f, 0, sizeof(f));
		f.domain = "never.seen.test";
		f.limit = 100;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("query_domain_absent_any_time_ms=%.2f\n", median(times, 5));

	/* The same for an app: one that made connections, one that never
	 * did (the whole index again). */
	for (i = 0; i < RUNS; i++) {
		app_path(skewed(app_cdf, N_APPS), app, sizeof(app));
		memset(&f, 0, sizeof(f));
		f.app = strrchr(app, '/') + 1;
		f.limit = 100;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("query_app_any_time_limit100_ms=%.2f\n", median(times, RUNS));
	for (i = 0; i < 5; i++) {
		memset(&f, 0, sizeof(f));
		f.app = "never-ran";
		f.limit = 100;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("query_app_absent_any_time_ms=%.2f\n", median(times, 5));

	for (i = 0; i < RUNS; i++) {
		memset(&f, 0, sizeof(f));
		f.limit = 100;
		n = 0;
		t0 = mono_ms();
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("query_newest100_ms=%.2f\n", median(times, RUNS));

	/* --proto dns (one row in 200): the newest 100 with no time bound
	 * (k 0), and all of the last day's (k 1). */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < RUNS; i++) {
			memset(&f, 0, sizeof(f));
			f.proto = "dns";
			f.limit = k == 0 ? 100 : 0;
			f.since_ms = k == 0 ? 0 : now - DAY_MS;
			n = 0;
			t0 = mono_ms();
			if (events_query(r, &f, count_row, &n, err,
			                 sizeof(err)) == -1) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			times[i] = mono_ms() - t0;
		}
		printf("%s=%.2f\n",
		       k == 0 ? "query_proto_any_time_limit100_ms"
		              : "query_proto_day_all_rows_ms",
		       median(times, RUNS));
	}

	for (i = 0; i < 5; i++) {
		t0 = mono_ms();
		if (events_stats(r, now - DAY_MS, now, 10, &st, err,
		                 sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
		if (i == 0)
			printf("stats_day_decisions=%lld\n",
			       (long long)st.total);
		events_stats_free(&st);
	}
	ms = median(times, 5);
	printf("stats_day_ms=%.2f\n", ms);
	printf("stats_goal_ms=%.0f\n", GOAL_STATS);
	ok &= ms <= GOAL_STATS;

	/* --follow: the newest id, then what came after the last one seen. */
	for (i = 0; i < RUNS; i++) {
		t0 = mono_ms();
		if ((max_id = events_max_id(r, err, sizeof(err))) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		memset(&f, 0, sizeof(f));
		f.after_id = max_id - 10;
		f.limit = 1000;
		n = 0;
		if (events_query(r, &f, count_row, &n, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("follow_poll_ms=%.3f\n", median(times, RUNS));

	printf("db_bytes=%lld\n", (long long)file_size(db));
	printf("db_wal_bytes=%lld\n", (long long)file_size(wal));
	printf("db_bytes_per_row=%.0f\n", (double)file_size(db) / ROWS);

	/* Pruning in the background: steps of 1,000 rows by count. */
	for (i = 0; i < RUNS; i++) {
		t0 = mono_ms();
		pruned = events_prune(s, 0, ROWS - 1000 * (int64_t)(i + 1), now,
		                      1000, err, sizeof(err));
		if (pruned == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("prune_step1000_by_count_ms=%.2f\n", median(times, RUNS));
	for (i = 0; i < RUNS; i++) {
		t0 = mono_ms();
		pruned = events_prune(s, (DAYS - 1) * 86400LL, 0, now, 1000,
		                      err, sizeof(err));
		if (pruned == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		times[i] = mono_ms() - t0;
	}
	printf("prune_step1000_by_age_ms=%.2f\n", median(times, RUNS));

	store_close(r);
	store_close(s);
	snprintf(wal, sizeof(wal), "rm -rf '%s'", dir);
	if (system(wal) != 0)
		fprintf(stderr, "removing %s failed\n", dir);
	printf("goals_met=%s\n", ok ? "yes" : "no");
	return 0;
}
