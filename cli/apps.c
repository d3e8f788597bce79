/*
 * apps.c - --app NAME as the guarded users mean it: their PATH, and a
 * name that matches what the tables show (apps.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/apps.h"

/* login.defs is short; a longer one is not read past this. */
#define APPS_DEFS_MAX 65536

int
apps_login_path(const char *defs, char *out, size_t len)
{
	const char *p = defs, *eol, *v, *end;
	size_t n;

	snprintf(out, len, "%s", APPS_USER_PATH);
	for (; *p != '\0'; p = *eol == '\0' ? eol : eol + 1) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(eol - p) < 9 || strncmp(p, "ENV_PATH", 8) != 0 ||
		    (p[8] != ' ' && p[8] != '\t'))
			continue;
		for (v = p + 8; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		if ((size_t)(eol - v) >= 5 && strncmp(v, "PATH=", 5) == 0)
			v += 5;
		for (end = eol; end > v && (end[-1] == ' ' || end[-1] == '\t' ||
		                            end[-1] == '\r');
		     end--)
			;
		n = (size_t)(end - v);
		if (n == 0)
			continue;
		if (n >= len)
			return -1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

const char *
apps_user_path(char *out, size_t len)
{
	char *buf;
	size_t n;
	FILE *f;

	snprintf(out, len, "%s", APPS_USER_PATH);
	f = fopen(APPS_LOGIN_DEFS, "re");
	if (f == NULL)
		return out;
	buf = malloc(APPS_DEFS_MAX + 1);
	if (buf != NULL) {
		n = fread(buf, 1, APPS_DEFS_MAX, f);
		buf[n] = '\0';
		if (apps_login_path(buf, out, len) != 1)
			snprintf(out, len, "%s", APPS_USER_PATH);
		free(buf);
	}
	fclose(f);
	return out;
}

int
apps_find(const char *cmd, const char *path, char *out, size_t len)
{
	const char *p = path, *colon;
	struct stat st;
	size_t n;
	int w;

	for (; *p != '\0'; p = *colon == '\0' ? colon : colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		n = (size_t)(colon - p);
		if (n == 0 || p[0] != '/')
			continue;
		w = snprintf(out, len, "%.*s/%s", (int)n, p, cmd);
		if (w < 0 || (size_t)w >= len)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111) != 0)
			return 0;
	}
	if (len > 0)
		out[0] = '\0';
	return -1;
}

const char *
apps_base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b != NULL && b[1] != '\0' ? b + 1 : path;
}

bool
apps_match(const char *app, const char *want, const char *real)
{
	bool has_real = real != NULL && real[0] != '\0';

	if (strchr(want, '/') != NULL)
		return strcmp(app, want) == 0 ||
		       (has_real && strcmp(app, real) == 0);
	return strcmp(apps_base(app), want) == 0 ||
	       (has_real && strcmp(apps_base(app), apps_base(real)) == 0);
}
