/*
 * unwritten.c - the count of events not written at exit; see unwritten.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store/unwritten.h"

/* A decimal number of at most 18 digits at *p (no overflow), then
 * whatever is not a digit; 0 and p moved past it, or -1. */
static int
parse_num(const char **p, const char *end, int64_t *v)
{
	int64_t x = 0;
	int digits = 0;

	while (*p < end && **p >= '0' && **p <= '9' && digits < 18) {
		x = x * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || (*p < end && **p >= '0' && **p <= '9'))
		return -1;
	*v = x;
	return 0;
}

int
unwritten_parse(const char *buf, size_t len, struct unwritten *u)
{
	const char *p = buf, *end = buf + len;
	struct unwritten r = {0};
	int64_t *f[] = {&r.n, &r.first_ms, &r.last_ms};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (i > 0 && (p == end || *p++ != ' '))
			return -1;
		if (parse_num(&p, end, f[i]) == -1)
			return -1;
	}
	/* The padding: spaces, then one newline at the end. */
	while (p < end && *p == ' ')
		p++;
	if (p != end - 1 || *p != '\n')
		return -1;
	*u = r;
	return 0;
}

int
unwritten_put(int fd, const char *path, const struct unwritten *u, char *err,
              size_t errlen)
{
	char rec[UNWRITTEN_RECORD + 1];
	int n;

	n = snprintf(rec, sizeof(rec), "%" PRId64 " %" PRId64 " %" PRId64, u->n,
	             u->first_ms, u->last_ms);
	if (n < 0 || n >= UNWRITTEN_RECORD) {
		snprintf(err, errlen, "%s: record too long", path);
		return -1;
	}
	memset(rec + n, ' ', UNWRITTEN_RECORD - 1 - n);
	rec[UNWRITTEN_RECORD - 1] = '\n';
	/* One write of a few dozen bytes over bytes already there: no
	 * block to find, on a full disk too. */
	if (pwrite(fd, rec, UNWRITTEN_RECORD, 0) != UNWRITTEN_RECORD) {
		snprintf(err, errlen, "%s: writing: %s", path,
		         errno != 0 ? strerror(errno) : "short write");
		return -1;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errlen, "%s: fsync: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
unwritten_open(const char *db, struct unwritten *u, char *err, size_t errlen)
{
	static const struct unwritten none;
	char path[4096 + sizeof(UNWRITTEN_SUFFIX)], buf[UNWRITTEN_RECORD + 1];
	struct stat sb;
	ssize_t n;
	int fd = -1;

	*u = none;
	if ((size_t)snprintf(path, sizeof(path), "%s" UNWRITTEN_SUFFIX, db) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s" UNWRITTEN_SUFFIX ": path too long",
		         db);
		return -1;
	}
	if (stat(db, &sb) == -1) {
		snprintf(err, errlen, "%s: stat: %s", db, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	          STORE_FILE_MODE);
	if (fd == -1) {
		snprintf(err, errlen, "%s: open: %s", path, strerror(errno));
		return -1;
	}
	if (fchown(fd, sb.st_uid, sb.st_gid) == -1) {
		snprintf(err, errlen, "%s: chown: %s", path, strerror(errno));
		goto fail;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n == -1) {
		snprintf(err, errlen, "%s: reading: %s", path, strerror(errno));
		goto fail;
	}
	if (n > 0 && unwritten_parse(buf, (size_t)n, u) == -1) {
		/* Not ours to trust: say so, and start from none. */
		*u = none;
		snprintf(err, errlen, "%s: not a record of unwritten events",
		         path);
		if (unwritten_put(fd, path, &none, err, errlen) == -1)
			goto fail;
		snprintf(err, errlen, "%s: not a record of unwritten events",
		         path);
		errno = EINVAL;
		return fd;
	}
	err[0] = '\0';
	/* A new file gets its record now, its block taken while the
	 * disk has room. */
	if (n == 0 && unwritten_put(fd, path, &none, err, errlen) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}
