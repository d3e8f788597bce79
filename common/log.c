/*
 * log.c - stderr logging with syslog levels; see log.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/quote.h"

static const char *log_prog = "tollgate";
static int log_level = LOG_INFO;

static const struct {
	const char *name;
	int level;
} log_levels[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

void
log_init(const char *prog, int level)
{
	log_prog = prog;
	log_level = level;
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

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog,
	             level <= LOG_ERR       ? "error"
	             : level == LOG_WARNING ? "warning"
	             : level == LOG_DEBUG   ? "debug"
	                                    : "info");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	n = strlen(line);
	line[n++] = '\n';
	/* One write per line, so lines of concurrent threads never mix. */
	(void)!write(STDERR_FILENO, line, n);
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
