/*
 * digest.c - SHA-256 of executables, cached by stat key; see digest.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/digest.h"

struct digest_ent {
	bool used;
	uint64_t last; /* use counter at its last use */
	struct digest_key key;
	uint8_t md[DIGEST_LEN];
};

struct digest_cache {
	uint64_t clock;
	struct digest_ent ent[DIGEST_CACHE_SIZE];
};

static int digest_read(int, const char *, off_t, uint8_t *, uint8_t *);

struct digest_cache *
digest_cache_new(void)
{
	struct digest_cache *dc;

	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		log_error("digest: allocating the cache: %s", strerror(errno));
	return dc;
}

void
digest_cache_free(struct digest_cache *dc)
{
	free(dc);
}

void
digest_key_of(const struct stat *st, struct digest_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->size = st->st_size;
	k->mtime = st->st_mtim;
	k->ctime = st->st_ctim;
}

bool
digest_key_equal(const struct digest_key *a, const struct digest_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The entry of key, or NULL; *slot is then the one to fill. */
static struct digest_ent *
digest_find(struct digest_cache *dc, const struct digest_key *key,
            struct digest_ent **slot)
{
	struct digest_ent *e;
	size_t i;

	*slot = NULL;
	dc->clock++;
	for (i = 0; i < DIGEST_CACHE_SIZE; i++) {
		e = &dc->ent[i];
		if (e->used && digest_key_equal(&e->key, key)) {
			e->last = dc->clock;
			return e;
		}
		if (*slot == NULL || ((*slot)->used && !e->used) ||
		    ((*slot)->used && e->used && e->last < (*slot)->last))
			*slot = e;
	}
	return NULL;
}

int
digest_cache_get(struct digest_cache *dc, const struct digest_key *k,
                 uint8_t out[DIGEST_LEN])
{
	struct digest_ent *e, *slot;

	if ((e = digest_find(dc, k, &slot)) == NULL)
		return -1;
	memcpy(out, e->md, DIGEST_LEN);
	return 0;
}

void
digest_cache_put(struct digest_cache *dc, const struct digest_key *k,
                 const uint8_t md[DIGEST_LEN])
{
	struct digest_ent *e, *slot;

	if ((e = digest_find(dc, k, &slot)) == NULL)
		e = slot;
	e->used = true;
	e->last = dc->clock;
	e->key = *k;
	memcpy(e->md, md, DIGEST_LEN);
}

int
digest_fd(int fd, const char *what, const struct stat *st,
          uint8_t out[DIGEST_LEN], bool *same)
{
	struct digest_key key, after;
	struct stat now;
	uint8_t *buf;
	int rc;

	*same = false;
	if (!S_ISREG(st->st_mode) || st->st_size > DIGEST_FILE_MAX)
		return 1;
	if ((buf = malloc(DIGEST_CHUNK)) == NULL) {
		log_error("digest: allocating a buffer for %s: %s", what,
		          strerror(errno));
		return -1;
	}
	rc = digest_read(fd, what, st->st_size, buf, out);
	free(buf);
	if (rc == -1)
		return -1;
	/* Written to meanwhile: right for no one, so not to be kept. */
	digest_key_of(st, &key);
	if (fstat(fd, &now) == 0) {
		digest_key_of(&now, &after);
		*same = digest_key_equal(&key, &after);
	}
	return 0;
}

int
digest_file(struct digest_cache *dc, int fd, const char *what,
            uint8_t out[DIGEST_LEN], bool *hashed)
{
	struct digest_key key;
	struct stat st;
	bool same;
	int rc;

	if (hashed != NULL)
		*hashed = false;
	if (fstat(fd, &st) == -1) {
		log_warn("digest: fstat %s: %s", what, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > DIGEST_FILE_MAX)
		return 1;
	digest_key_of(&st, &key);
	if (digest_cache_get(dc, &key, out) == 0)
		return 0;
	if ((rc = digest_fd(fd, what, &st, out, &same)) != 0)
		return rc;
	if (hashed != NULL)
		*hashed = true;
	if (same)
		digest_cache_put(dc, &key, out);
	return 0;
}

/* SHA-256 of fd's first size bytes (the whole file, as stat saw it),
 * read through buf (DIGEST_CHUNK bytes). */
static int
digest_read(int fd, const char *what, off_t size, uint8_t *buf, uint8_t *md)
{
	EVP_MD_CTX *ctx;
	unsigned int mdlen = 0;
	off_t off = 0;
	ssize_t n;
	int ret = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		log_error("digest: SHA-256 context for %s failed", what);
		errno = ENOMEM;
		goto fail;
	}
	while (off < size) {
		n = pread(fd, buf, DIGEST_CHUNK, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("digest: reading %s: %s", what,
			         strerror(errno));
			goto fail;
		}
		if (n == 0)
			break; /* shrunk meanwhile: the key check drops it */
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			goto fail_md;
		off += n;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != DIGEST_LEN)
		goto fail_md;
	ret = 0;
	goto fail;

fail_md:
	log_error("digest: SHA-256 of %s failed", what);
	errno = EIO;
fail:
	EVP_MD_CTX_free(ctx);
	return ret;
}

const char *
digest_hex(const uint8_t d[DIGEST_LEN], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < DIGEST_LEN; i++) {
		buf[2 * i] = hex[d[i] >> 4];
		buf[2 * i + 1] = hex[d[i] & 0xf];
	}
	buf[2 * DIGEST_LEN] = '\0';
	return buf;
}
