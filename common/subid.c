/*
 * subid.c - read /etc/subuid and /etc/subgid; see subid.h.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/log.h"
#include "common/subid.h"

/* Largest file read: far beyond any real one, small enough to hold. */
#define SUBID_FILE_MAX (4 * 1024 * 1024)

/* Decimal digits only, at most UINT32_MAX; -1 on anything else. */
static int
parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* The fields of one line of len bytes, its newline taken off. */
static enum subid_kind
parse_fields(const char *s, size_t len, struct subid_line *out)
{
	const char *c1, *c2;
	uint32_t start, count;
	size_t i, olen;

	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i == len)
		return SUBID_BLANK;
	c1 = memchr(s, ':', len);
	if (c1 == NULL)
		return SUBID_INVALID;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s));
	if (c2 == NULL)
		return SUBID_INVALID;
	olen = (size_t)(c1 - s);
	if (olen == 0 || olen > SUBID_OWNER_MAX)
		return SUBID_INVALID;
	for (i = 0; i < olen; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return SUBID_INVALID;
	if (parse_u32(c1 + 1, (size_t)(c2 - c1 - 1), &start) == -1 ||
	    parse_u32(c2 + 1, len - (size_t)(c2 + 1 - s), &count) == -1 ||
	    count == 0 || (uint64_t)start + count - 1 >= UINT32_MAX)
		return SUBID_INVALID;
	memcpy(out->owner, s, olen);
	out->owner[olen] = '\0';
	out->first = start;
	out->last = start + count - 1;
	return SUBID_RANGE;
}

size_t
subid_parse_line(const char *buf, size_t len, bool eof, struct subid_line *out)
{
	const char *nl = memchr(buf, '\n', len);
	size_t used, body;

	memset(out, 0, sizeof(*out));
	if (nl == NULL && (!eof || len == 0))
		return 0;
	used = nl != NULL ? (size_t)(nl - buf) + 1 : len;
	body = nl != NULL ? (size_t)(nl - buf) : len;
	if (body > 0 && buf[body - 1] == '\r')
		out->kind = SUBID_INVALID;
	else if (memchr(buf, '\0', body) != NULL)
		out->kind = SUBID_INVALID;
	else
		out->kind = parse_fields(buf, body, out);
	return used;
}

bool
subid_contains(const struct subid_range *r, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (id >= r[i].first && id <= r[i].last)
			return true;
	return false;
}

/* The whole file into a new buffer; *len its size.  NULL + err, or NULL
 * with errno ENOENT and no err for a missing file. */
static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errno != ENOENT)
			errbuf_set(err, errlen, "%s: cannot open: %s", path,
			           strerror(errno));
		return NULL;
	}
	buf = malloc(SUBID_FILE_MAX + 1);
	if (buf == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, SUBID_FILE_MAX + 1, f);
	if (ferror(f) || n > SUBID_FILE_MAX) {
		errbuf_set(err, errlen, "%s: %s", path,
		           ferror(f) ? strerror(errno)
		                     : "larger than 4 MiB, not read");
		free(buf);
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* The index in uids of the uid OWNER names, or -1. */
static ssize_t
owner_index(const char *owner, const uid_t *uids,
            char (*names)[SUBID_OWNER_MAX + 1], size_t n_uids)
{
	uint32_t num;
	bool numeric;
	size_t i;

	numeric = parse_u32(owner, strlen(owner), &num) == 0;
	for (i = 0; i < n_uids; i++)
		if ((numeric && uids[i] == num) ||
		    (names[i][0] != '\0' && strcmp(names[i], owner) == 0))
			return (ssize_t)i;
	return -1;
}

int
subid_load(const char *path, const uid_t *uids, size_t n_uids,
           struct subid_range *out, size_t max, size_t *n, char *err,
           size_t errlen)
{
	char(*names)[SUBID_OWNER_MAX + 1] = NULL;
	struct subid_line line;
	struct passwd *pw;
	char *buf;
	size_t len = 0, off, used, i;
	unsigned lineno = 0;
	ssize_t who;
	int ret = -1;

	*n = 0;
	if (n_uids == 0)
		return 0;
	buf = read_file(path, &len, err, errlen);
	if (buf == NULL)
		return errno == ENOENT ? 0 : -1;
	names = calloc(n_uids, sizeof(*names));
	if (names == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < n_uids; i++)
		if ((pw = getpwuid(uids[i])) != NULL)
			snprintf(names[i], sizeof(names[i]), "%s", pw->pw_name);
	for (off = 0; off < len; off += used) {
		used = subid_parse_line(buf + off, len - off, true, &line);
		lineno++;
		if (line.kind == SUBID_INVALID) {
			log_warn("%s:%u: not OWNER:START:COUNT (a range of "
			         "at least one id below 4294967295); line "
			         "skipped",
			         path, lineno);
			continue;
		}
		if (line.kind != SUBID_RANGE)
			continue;
		who = owner_index(line.owner, uids, names, n_uids);
		if (who == -1)
			continue;
		if (*n == max) {
			errno = EOVERFLOW;
			errbuf_set(err, errlen,
			           "%s:%u: more than %zu subordinate ranges "
			           "of guarded users; tollgate guards at most "
			           "%zu",
			           path, lineno, max, max);
			goto out;
		}
		out[*n].first = line.first;
		out[*n].last = line.last;
		out[*n].owner = uids[who];
		(*n)++;
	}
	ret = 0;
out:
	free(names);
	free(buf);
	return ret;
}
