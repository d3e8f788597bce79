/*
 * log.c - stderr logging with syslog levels; see log.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/quote.h"

static const char *log_prog = "tollgate";
static int log_level = LOG_INFO;

/*
 * Repeats: warnings and errors of one shape (the message with its digits
 * left out) are counted per LOG_REPEAT_WINDOW s from the first; past
 * LOG_REPEAT_SHOWN of them the rest are only counted, and said in one line
 * when the window has ended.  Slots are few: an evicted one says its count
 * first.  One lock, since the attribution worker logs from its thread.
 */
#define LOG_REPEAT_SLOTS 32
struct log_repeat {
	uint64_t shape; /* 0: free */
	time_t start;
	unsigned seen; /* lines of this shape in the window */
	char level_name[8];
	char sample[160]; /* the last message left out */
};
static struct log_repeat log_repeats[LOG_REPEAT_SLOTS];
static unsigned log_repeats_held; /* slots with lines left out */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t (*log_clock)(void);

static const struct {
	const char *name;
	int level;
} log_levels[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

static time_t
log_now(void)
{
	struct timespec ts;

	if (log_clock != NULL)
		return log_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
log_atexit(void)
{
	log_flush_repeats();
}

void
log_init(const char *prog, int level)
{
	static int once;

	log_prog = prog;
	log_level = level;
	if (!once && atexit(log_atexit) == 0)
		once = 1;
}

void
log_set_clock(time_t (*clock)(void))
{
	log_clock = clock;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(s, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "info";
}

static const char *
log_word(int level)
{
	return level <= LOG_ERR       ? "error"
	       : level == LOG_WARNING ? "warning"
	       : level == LOG_DEBUG   ? "debug"
	                              : "info";
}

/* One write per line, so lines of concurrent threads never mix. */
static void
log_write(const char *word, const char *msg)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line) - 1, "%s: %s: %s", log_prog, word, msg);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

/* FNV-1a of msg without its digits; never 0. */
static uint64_t
log_shape(const char *msg)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *msg != '\0'; msg++) {
		if (*msg >= '0' && *msg <= '9')
			continue;
		h = (h ^ (unsigned char)*msg) * 1099511628211ULL;
	}
	return h != 0 ? h : 1;
}

/* Say what r left out and free it; log_lock held. */
static void
log_repeat_say(struct log_repeat *r)
{
	char msg[256];

	if (r->seen > LOG_REPEAT_SHOWN) {
		snprintf(msg, sizeof(msg),
		         "... and %u more like this in the last %d s: %s",
		         r->seen - LOG_REPEAT_SHOWN, LOG_REPEAT_WINDOW,
		         r->sample);
		log_write(r->level_name, msg);
		log_repeats_held--;
	}
	r->shape = 0;
}

/* Say the counts of windows that ended before now; log_lock held. */
static void
log_repeat_expire(time_t now, int all)
{
	size_t i;

	if (log_repeats_held == 0 && !all)
		return;
	for (i = 0; i < LOG_REPEAT_SLOTS; i++)
		if (log_repeats[i].shape != 0 &&
		    (all || now - log_repeats[i].start >= LOG_REPEAT_WINDOW))
			log_repeat_say(&log_repeats[i]);
}

/* Whether msg is to be written, or only counted; log_lock held. */
static int
log_repeat_show(const char *word, const char *msg, time_t now)
{
	uint64_t shape = log_shape(msg);
	struct log_repeat *r = NULL, *oldest = &log_repeats[0];
	size_t i;

	for (i = 0; i < LOG_REPEAT_SLOTS; i++) {
		if (log_repeats[i].shape == shape) {
			r = &log_repeats[i];
			break;
		}
		if (log_repeats[i].shape == 0 ||
		    (oldest->shape != 0 &&
		     log_repeats[i].start < oldest->start))
			oldest = &log_repeats[i];
	}
	if (r != NULL && now - r->start >= LOG_REPEAT_WINDOW) {
		log_repeat_say(r);
		oldest = r;
		r = NULL;
	}
	if (r == NULL) {
		r = oldest;
		if (r->shape != 0)
			log_repeat_say(r);
		r->shape = shape;
		r->start = now;
		r->seen = 0;
		snprintf(r->level_name, sizeof(r->level_name), "%s", word);
	}
	if (++r->seen <= LOG_REPEAT_SHOWN)
		return 1;
	if (r->seen == LOG_REPEAT_SHOWN + 1)
		log_repeats_held++;
	snprintf(r->sample, sizeof(r->sample), "%.*s",
	         (int)sizeof(r->sample) - 1, msg);
	return 0;
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char msg[2000];
	const char *word = log_word(level);
	time_t now;
	int show = 1;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	now = log_now();
	pthread_mutex_lock(&log_lock);
	log_repeat_expire(now, 0);
	if (level <= LOG_WARNING)
		show = log_repeat_show(word, msg, now);
	if (show)
		log_write(word, msg);
	pthread_mutex_unlock(&log_lock);
}

void
log_flush_repeats(void)
{
	pthread_mutex_lock(&log_lock);
	log_repeat_expire(0, 1);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static void
log_put(char *buf, size_t len, size_t *off, char c)
{
	if (*off + 1 < len) {
		buf[(*off)++] = c;
		buf[*off] = '\0';
	}
}

void
log_kv(char *buf, size_t len, size_t *off, const char *key, const char *value)
{
	const char *p;
	size_t n;

	if (*off > 0)
		log_put(buf, len, off, ' ');
	for (p = key; *p != '\0'; p++)
		log_put(buf, len, off, *p);
	log_put(buf, len, off, '=');
	if (*off + 1 >= len)
		return;
	n = quote_write(buf + *off, len - *off, value, 0);
	*off += n < len - *off ? n : len - *off - 1;
}
