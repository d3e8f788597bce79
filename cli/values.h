/*
 * values.h - the values that options and arguments of the tollgate
 * command take: numbers, the control protocol's ids, points in time
 * (values.c), and users' names as they are shown.  Each parser takes
 * the whole string or nothing; the caller says what was wrong, in its
 * own words.
 */
#ifndef TG_CLI_VALUES_H
#define TG_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A decimal number in [lo, hi], and nothing else: no sign but a '-' when
 * lo is negative, no spaces.  0 with *out, or -1.
 */
int cli_parse_num(const char *s, long long lo, long long hi, long long *out);

/*
 * A positive decimal without sign or leading zeros, as the control
 * protocol writes ids and counts (docs/control.md), at most max.  0 with
 * *out, or -1.
 */
int cli_parse_id(const char *s, unsigned long long max,
                 unsigned long long *out);

/* Now, as Unix ms. */
int64_t cli_now_ms(void);

/*
 * The name of uid into buf (getpwuid(3)): true; a uid without a name that
 * fits (a subordinate uid, a user since removed) as its number: false.
 */
bool cli_user_name(uid_t uid, char *buf, size_t len);

/*
 * A point in time, as Unix ms:
 *   30s, 10m, 2h, 3d, 1w   that long before now_ms; also with the
 *                          unit spelt out, a space between and "ago"
 *                          after: "90 sec", "1 hour", "2 days ago"
 *   now, today, yesterday  (midnight, local time)
 *   HH:MM[:SS[.fff]]       today, local time
 *   YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]
 *                          local time unless a zone is given
 * 0 with *out, or -1.
 */
int cli_parse_time(const char *s, int64_t now_ms, int64_t *out);

/* What cli_parse_time() takes, for the error that refuses a value. */
#define CLI_TIME_FORMS                                                         \
	"a time back from now (90s, 30m, 2h, 3d, 1w, or spelt out: "           \
	"\"30 min\", \"1 hour\", \"2 days ago\"), now, today, yesterday, "     \
	"HH:MM[:SS] or YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]"

#endif
