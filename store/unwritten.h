/*
 * unwritten.h - the events tollgated could not write when it stopped
 * (a full disk, a failing database), counted in a small file next to the
 * database, PATH-unwritten, so that the next start records them as a gap
 * row (events.h) and the log says what it lost even across a restart.
 *
 * The file holds one record of UNWRITTEN_RECORD bytes ("N FIRST_MS
 * LAST_MS", padded), written at the start of every run, while tollgated is
 * still root, with the database's owner and mode.  At exit the record is
 * overwritten in place: no new file and no new block are needed, so it
 * works on the full disk that made the events fail, and by a daemon that
 * may no longer create files in the database's directory.  A record of 0
 * means nothing is owed; the file stays between runs.  On a copy-on-write
 * file system (btrfs) an overwrite may need a block too: there the count
 * is lost with the disk full, and the exit's log line still says it.
 *
 * Errors: err gets one line naming the file, what was done and strerror.
 */
#ifndef TG_UNWRITTEN_H
#define TG_UNWRITTEN_H

#include <stddef.h>
#include <stdint.h>

#define UNWRITTEN_SUFFIX "-unwritten"
#define UNWRITTEN_RECORD 64

struct unwritten {
	int64_t n;                 /* events not written; 0: none */
	int64_t first_ms, last_ms; /* the first and last of them, Unix ms */
};

/*
 * Open (creating it when missing) db + UNWRITTEN_SUFFIX, read what it
 * holds into *u (zeros when it is new, empty or not a record), and give
 * it the database's owner.  The record is left as it was: the caller
 * records *u, then clears it with unwritten_put(fd, zeros).  Returns the
 * open descriptor (close-on-exec), with err "" or, when the file held no
 * record, err saying so (counted as none, the record reset); or -1 +
 * err.
 */
int unwritten_open(const char *db, struct unwritten *u, char *err,
                   size_t errlen);

/* Overwrite fd's record with *u and fsync it.  0, or -1 + err (path names
 * the file in err). */
int unwritten_put(int fd, const char *path, const struct unwritten *u,
                  char *err, size_t errlen);

/* Parse a record: 0 and *u, or -1 when buf[0..len) is not one. */
int unwritten_parse(const char *buf, size_t len, struct unwritten *u);

#endif
