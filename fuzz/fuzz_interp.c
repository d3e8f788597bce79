/*
 * fuzz_interp.c - the script of an interpreter's command line, on any
 * argv a guarded program may give itself: a /proc/PID/cmdline read of
 * arbitrary bytes (the first word also names the exe, the second the
 * cwd) never crashes, and a script it names is absolute, fits, holds no
 * "//", "/./" or "/../" and, cleaned again, stays the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/interp.h"

#define FUZZ_CMDLINE_MAX 4096

static void
fuzz_fail(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_interp: %s: %s\n", what, path);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const exes[] = {
	    "/usr/bin/python3.11", "/usr/bin/perl", "/usr/bin/ruby3.1",
	    "/usr/bin/node",       "/usr/bin/dash", "/usr/bin/bash"};
	char buf[FUZZ_CMDLINE_MAX + 1], out[INTERP_SCRIPT_MAX],
	    again[INTERP_SCRIPT_MAX];
	const char *argv[INTERP_ARGV_MAX], *cwd;
	size_t n, argc;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1 < FUZZ_CMDLINE_MAX ? size - 1 : FUZZ_CMDLINE_MAX;
	memcpy(buf, data + 1, n);
	buf[n] = '\0';
	argc = interp_split(buf, n, argv, INTERP_ARGV_MAX);
	cwd = data[0] & 0x80 ? "/home/u/./work/../x" : NULL;
	rc = interp_script(exes[data[0] % (sizeof(exes) / sizeof(*exes))], argv,
	                   argc, cwd, out, sizeof(out));
	if (rc < -1 || rc > 1)
		fuzz_fail("bad return", "");
	if (rc != 1)
		return 0;
	if (out[0] != '/' || strlen(out) >= sizeof(out))
		fuzz_fail("not absolute", out);
	if (strstr(out, "//") != NULL || strstr(out, "/./") != NULL ||
	    strstr(out, "/../") != NULL ||
	    (strlen(out) > 1 && out[strlen(out) - 1] == '/'))
		fuzz_fail("not clean", out);
	memcpy(again, out, sizeof(again));
	interp_clean(again);
	if (strcmp(again, out) != 0)
		fuzz_fail("cleaned twice differs", out);
	return 0;
}
