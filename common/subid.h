/*
 * subid.h - the subordinate id files, /etc/subuid and /etc/subgid
 * (subuid(5)): one range a line, "OWNER:START:COUNT", OWNER a login name
 * or a uid in decimal; an owner may have several lines.  newuidmap and
 * newgidmap let OWNER map these ids into a user namespace of its own, so
 * a process of OWNER can run as any of them without asking root: a
 * guarded user's ranges are guarded with it (common/config.h).
 */
#ifndef TG_SUBID_H
#define TG_SUBID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest OWNER kept; a longer one makes the line invalid. */
#define SUBID_OWNER_MAX 64

/* One range of ids, both ends included, and the uid it belongs to. */
struct subid_range {
	uint32_t first;
	uint32_t last;
	uid_t owner;
};

enum subid_kind {
	SUBID_BLANK,   /* an empty line, or one of blanks only */
	SUBID_RANGE,   /* a valid range: owner, first, last set */
	SUBID_INVALID, /* anything else; the caller warns and skips it */
};

struct subid_line {
	enum subid_kind kind;
	char owner[SUBID_OWNER_MAX + 1];
	uint32_t first;
	uint32_t last; /* first + COUNT - 1 */
};

/*
 * Read the line at the start of buf (len bytes; the file's bytes, which
 * may hold anything).  Returns:
 *   > 0  the length of one complete line, its '\n' included (or all len
 *        bytes when eof is true), with *out saying what it held;
 *   0    buf holds no '\n' and eof is false: call again with more bytes
 *        (or with eof once the file has ended); also at eof with len 0.
 * A range is valid when OWNER is 1 to SUBID_OWNER_MAX bytes of neither
 * ':', blank nor control byte, START and COUNT are decimal digits only,
 * COUNT is at least 1, and the range ends below 4294967295 (the "no id"
 * of setresuid()).  A NUL byte anywhere makes the line invalid.
 */
size_t subid_parse_line(const char *buf, size_t len, bool eof,
                        struct subid_line *out);

/*
 * Collect the ranges of the given uids from the file at path: a line's
 * OWNER matches uid u when it is u's login name or u in decimal.  Each
 * invalid line is logged as a warning naming path and line number, and
 * skipped.  Ranges go to out (room for max) in file order; *n is their
 * count.  Returns 0 (a missing file is no ranges, *n = 0), or -1 with err
 * when the file cannot be read or holds more than max ranges of these
 * uids (errno EOVERFLOW): no range is ever silently left out.
 */
int subid_load(const char *path, const uid_t *uids, size_t n_uids,
               struct subid_range *out, size_t max, size_t *n, char *err,
               size_t errlen);

/* Whether id lies in one of the n ranges. */
bool subid_contains(const struct subid_range *r, size_t n, uint32_t id);

#endif
