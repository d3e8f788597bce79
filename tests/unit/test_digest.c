/*
 * test_digest.c - SHA-256 of files, each hashed once while its stat key
 * stays the same, and again once anything in the key changed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/digest.h"

#define SHA_ABC                                                                \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABCD                                                               \
	"88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"
#define SHA_EMPTY                                                              \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fx {
	struct digest_cache *dc;
	char path[64];
	int fd;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dc = digest_cache_new();
	assert_non_null(f->dc);
	snprintf(f->path, sizeof(f->path), "/tmp/test_digest.XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	close(f->fd);
	unlink(f->path);
	digest_cache_free(f->dc);
	free(f);
	return 0;
}

/* The hex digest of f's file; *hashed says whether it was read. */
static const char *
hex_of(struct fx *f, bool *hashed, char *buf)
{
	uint8_t md[DIGEST_LEN];

	assert_int_equal(digest_file(f->dc, f->fd, f->path, md, hashed), 0);
	return digest_hex(md, buf);
}

static void
test_hashed_once_while_unchanged(void **state)
{
	struct fx *f = *state;
	char hex[DIGEST_HEX_LEN];
	struct digest_key k;
	struct stat st;
	uint8_t md[DIGEST_LEN];
	bool hashed;

	assert_string_equal(hex_of(f, &hashed, hex), SHA_EMPTY);
	assert_true(hashed);
	assert_int_equal(write(f->fd, "abc", 3), 3);
	assert_string_equal(hex_of(f, &hashed, hex), SHA_ABC);
	assert_true(hashed); /* size, mtime and ctime moved */
	assert_string_equal(hex_of(f, &hashed, hex), SHA_ABC);
	assert_false(hashed);
	/* Known by its stat alone. */
	assert_int_equal(fstat(f->fd, &st), 0);
	digest_key_of(&st, &k);
	assert_int_equal(digest_cache_get(f->dc, &k, md), 0);
	assert_string_equal(digest_hex(md, hex), SHA_ABC);
	/* The file's offset is left alone: pread. */
	assert_int_equal(lseek(f->fd, 0, SEEK_CUR), 3);
}

static void
test_any_part_of_the_key_counts(void **state)
{
	struct fx *f = *state;
	struct digest_key k, m;
	struct stat st;
	uint8_t md[DIGEST_LEN];

	assert_int_equal(fstat(f->fd, &st), 0);
	digest_key_of(&st, &k);
	m = k;
	assert_true(digest_key_equal(&k, &m));
	m.ino++;
	assert_false(digest_key_equal(&k, &m));
	m = k;
	m.dev++;
	assert_false(digest_key_equal(&k, &m));
	m = k;
	m.size++;
	assert_false(digest_key_equal(&k, &m));
	m = k;
	m.mtime.tv_nsec ^= 1;
	assert_false(digest_key_equal(&k, &m));
	m = k;
	m.ctime.tv_sec++;
	assert_false(digest_key_equal(&k, &m));
	/* Never seen: not cached. */
	assert_int_equal(digest_cache_get(f->dc, &k, md), -1);
}

static void
test_same_size_rewrite_is_hashed_again(void **state)
{
	struct fx *f = *state;
	char hex[DIGEST_HEX_LEN];
	struct timespec t[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	bool hashed;

	assert_int_equal(write(f->fd, "abc", 3), 3);
	assert_int_equal(futimens(f->fd, t), 0);
	assert_string_equal(hex_of(f, &hashed, hex), SHA_ABC);
	/* Same size and, put back, the same mtime: ctime still moves. */
	assert_int_equal(pwrite(f->fd, "abcd", 3, 0), 3);
	assert_int_equal(pwrite(f->fd, "d", 1, 2), 1);
	assert_int_equal(futimens(f->fd, t), 0);
	hex_of(f, &hashed, hex);
	assert_true(hashed);
	assert_int_equal(pwrite(f->fd, "abcd", 4, 0), 4);
	assert_string_equal(hex_of(f, &hashed, hex), SHA_ABCD);
	assert_true(hashed);
}

static void
test_not_a_regular_file(void **state)
{
	struct fx *f = *state;
	uint8_t md[DIGEST_LEN];
	bool hashed = true;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(digest_file(f->dc, p[0], "a pipe", md, &hashed), 1);
	assert_false(hashed);
	close(p[0]);
	close(p[1]);
}

static void
test_least_recently_used_is_forgotten(void **state)
{
	struct fx *f = *state;
	char hex[DIGEST_HEX_LEN], path[64];
	bool hashed;
	int i, fd;

	(void)hex_of(f, &hashed, hex);
	for (i = 0; i < DIGEST_CACHE_SIZE; i++) {
		snprintf(path, sizeof(path), "/tmp/test_digest.XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, &i, sizeof(i)), (ssize_t)sizeof(i));
		assert_int_equal(digest_file(f->dc, fd, path,
		                             (uint8_t[DIGEST_LEN]){0}, &hashed),
		                 0);
		assert_true(hashed);
		close(fd);
		unlink(path);
	}
	(void)hex_of(f, &hashed, hex);
	assert_true(hashed);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_hashed_once_while_unchanged),
	    T(test_any_part_of_the_key_counts),
	    T(test_same_size_rewrite_is_hashed_again),
	    T(test_not_a_regular_file),
	    T(test_least_recently_used_is_forgotten),
	};

	log_init("test_digest", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
