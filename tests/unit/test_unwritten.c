/*
 * test_unwritten.c - the record of events not written at exit
 * (store/unwritten.h): parsing, writing it back, a garbled file, and an
 * overwrite on a full disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/unwritten.h"

struct fixture {
	char dir[64];
	char db[128];
	char state[160];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-test-unwritten-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/tollgate.db", f->dir);
	snprintf(f->state, sizeof(f->state), "%s" UNWRITTEN_SUFFIX, f->db);
	fd = open(f->db, O_WRONLY | O_CREAT, 0640);
	if (fd == -1) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[192];

	snprintf(path, sizeof(path), "%s/small", f->dir);
	(void)umount2(path, MNT_DETACH);
	(void)rmdir(path);
	unlink(f->state);
	unlink(f->db);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_parse(void **state)
{
	static const char good[] = "37 1700000000000 1700000001000 \n";
	static const char *const bad[] = {
	    "",           "\n",
	    "37\n",       "37 1 \n",
	    "37 1 2",     "-1 1 2\n",
	    "37  1 2\n",  "37 1 2 3\n",
	    "37 1 2x\n",  "99999999999999999999 1 2\n",
	    "37 1 2\n\n",
	};
	struct unwritten u;
	size_t i, len = strlen(good);

	(void)state;
	assert_int_equal(unwritten_parse(good, len, &u), 0);
	assert_int_equal(u.n, 37);
	assert_int_equal(u.first_ms, 1700000000000LL);
	assert_int_equal(u.last_ms, 1700000001000LL);
	/* Every part of a record, cut short, is none. */
	for (i = 0; i < len; i++)
		assert_int_equal(unwritten_parse(good, i, &u), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (unwritten_parse(bad[i], strlen(bad[i]), &u) != -1)
			fail_msg("\"%s\" parsed", bad[i]);
}

static void
test_put_and_open(void **state)
{
	struct fixture *f = *state;
	struct unwritten u, w = {1234, 1700000000000LL, 1700000005000LL};
	char err[256] = "";
	struct stat sb;
	int fd;

	/* New: a record of none, its block taken. */
	fd = unwritten_open(f->db, &u, err, sizeof(err));
	assert_true(fd >= 0);
	assert_string_equal(err, "");
	assert_int_equal(u.n, 0);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_size, UNWRITTEN_RECORD);
	assert_int_equal(unwritten_put(fd, f->state, &w, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(sb.st_size, UNWRITTEN_RECORD);

	fd = unwritten_open(f->db, &u, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(u.n, 1234);
	assert_int_equal(u.first_ms, w.first_ms);
	assert_int_equal(u.last_ms, w.last_ms);
	close(fd);

	/* Garbled: said, counted as none, the record reset. */
	fd = open(f->state, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	close(fd);
	fd = unwritten_open(f->db, &u, err, sizeof(err));
	assert_true(fd >= 0);
	assert_non_null(strstr(err, "not a record of unwritten events"));
	assert_int_equal(u.n, 0);
	close(fd);
	fd = unwritten_open(f->db, &u, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(u.n, 0);
	close(fd);
}

/* The point of the file: on a disk full to the last block, the record
 * is still written. */
static void
test_full_disk(void **state)
{
	struct fixture *f = *state;
	struct unwritten u, w = {99, 1, 2};
	char err[256] = "", mnt[192], db[224], fill[224], buf[4096];
	int fd, ffd;

	snprintf(mnt, sizeof(mnt), "%s/small", f->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") == -1) {
		print_message("mount tmpfs on %s: %s; full-disk test skipped\n",
		              mnt, strerror(errno));
		skip();
	}
	snprintf(db, sizeof(db), "%s/tollgate.db", mnt);
	fd = open(db, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	fd = unwritten_open(db, &u, err, sizeof(err));
	assert_true(fd >= 0);
	snprintf(fill, sizeof(fill), "%s/fill", mnt);
	ffd = open(fill, O_WRONLY | O_CREAT, 0600);
	assert_true(ffd >= 0);
	memset(buf, 'f', sizeof(buf));
	while (write(ffd, buf, sizeof(buf)) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	close(ffd);
	assert_int_equal(unwritten_put(fd, db, &w, err, sizeof(err)), 0);
	close(fd);
	fd = unwritten_open(db, &u, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(u.n, 99);
	close(fd);
	unlink(fill);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test_setup_teardown(test_put_and_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
