/*
 * log.h - the one logging family of tollgate.
 *
 * Every line goes to stderr as "LEVEL message"; under systemd, journald
 * adds time and unit.  Levels are syslog's, so a syslog target can be
 * added without touching callers.  Lines about one connection go through
 * conn_log() in proxyd/conn.h, which prefixes the connection's endpoints.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdarg.h>
#include <syslog.h>
#include <time.h>

/* Set the program name and the most verbose level that is printed. */
void log_init(const char *prog, int level);
void log_set_level(int level);
int log_get_level(void);

/* Parse "error", "warning", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/*
 * Print one line.  Warnings and errors that repeat are held back: of the
 * lines of one shape (the message with its digits left out) within
 * LOG_REPEAT_WINDOW s of the first, LOG_REPEAT_SHOWN are printed and the
 * rest counted; once the window has ended (seen at the next line of any
 * kind, or log_flush_repeats()) one line says "... and N more like this in
 * the last 10 s: " and the last one left out.  Thread-safe.
 */
#define LOG_REPEAT_WINDOW 10
#define LOG_REPEAT_SHOWN  3
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap);

/* Say the counts held back now (at exit, run by itself). */
void log_flush_repeats(void);

/* Tests: the clock of the repeat windows (seconds; default monotonic). */
void log_set_clock(time_t (*clock)(void));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Append "key=value" to buf (of size len, NUL-terminated, used bytes at
 * *off), the value quoted as common/quote.h says: in double quotes with
 * backslash escapes when it is empty or holds a space, quote, backslash
 * or control byte.  Truncates silently at the end of buf; *off never
 * exceeds len - 1.
 */
void log_kv(char *buf, size_t len, size_t *off, const char *key,
            const char *value);

#endif
