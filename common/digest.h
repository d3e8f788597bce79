/*
 * digest.h - the SHA-256 of executables, each file hashed once (tollgated
 * names the file a process runs by it; "tollgate rules add --digest pin"
 * pins a rule to it).
 *
 * A file is known by what stat(2) says of it: device, inode, size,
 * modification and change times.  Writing to a file or replacing it
 * changes one of them (the change time moves with any write or chmod;
 * a new file has a new inode), so a cached digest is used only while all
 * five are equal.  DIGEST_CACHE_SIZE files are kept, the least recently
 * used one forgotten first.  A cache is not thread-safe: one per thread,
 * or a lock around it (proxyd/hashq.c); digest_fd() is.
 */
#ifndef TG_DIGEST_H
#define TG_DIGEST_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN        32                    /* SHA-256 */
#define DIGEST_HEX_LEN    (2 * DIGEST_LEN + 1)  /* with its NUL */
#define DIGEST_CACHE_SIZE 256                   /* files kept */
#define DIGEST_FILE_MAX   (512LL * 1024 * 1024) /* larger: not hashed */
#define DIGEST_CHUNK      (64 * 1024)           /* bytes per read */

struct digest_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct digest_cache;

/* A cache, or NULL + errno (logged). */
struct digest_cache *digest_cache_new(void);
void digest_cache_free(struct digest_cache *dc);

/* The key of the file st describes. */
void digest_key_of(const struct stat *st, struct digest_key *k);
bool digest_key_equal(const struct digest_key *a, const struct digest_key *b);

/* The digest of the file of key k into out when the cache holds it: 0,
 * or -1 when it does not. */
int digest_cache_get(struct digest_cache *dc, const struct digest_key *k,
                     uint8_t out[DIGEST_LEN]);

/* Keep md as the digest of the file of key k (the least recently used
 * entry makes room). */
void digest_cache_put(struct digest_cache *dc, const struct digest_key *k,
                      const uint8_t md[DIGEST_LEN]);

/*
 * The SHA-256 of the open file fd, which st (its fstat) describes, read
 * from offset 0 (pread: fd's offset is left alone) into out, with no
 * cache: thread-safe.  0, with *same telling whether fstat(fd) after the
 * read still gives st's key (only then is the digest the file's, to be
 * kept); 1 when the file is not hashed (not a regular file, larger than
 * DIGEST_FILE_MAX); -1 + errno when a read failed (logged with what).
 */
int digest_fd(int fd, const char *what, const struct stat *st,
              uint8_t out[DIGEST_LEN], bool *same);

/*
 * digest_fd() through the cache: from it when fstat(fd) gives a key it
 * holds, else read and kept, unless the file changed while it was read.
 * 0, 1 or -1 as digest_fd().  hashed, when not NULL, is set when this
 * call read the file.
 */
int digest_file(struct digest_cache *dc, int fd, const char *what,
                uint8_t out[DIGEST_LEN], bool *hashed);

/* Lower-case hex of d into buf (DIGEST_HEX_LEN bytes). */
const char *digest_hex(const uint8_t d[DIGEST_LEN], char *buf);

#endif
