/*
 * encdns.c - encrypted DNS servers; see encdns.h.  The names are a
 * rules_list (rules/list.h): its reader, its set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/name.h"
#include "proxyd/encdns.h"
#include "rules/list.h"

struct encdns {
	struct rules_list *names;
};

struct encdns *
encdns_load(const char *path, char *err, size_t errlen)
{
	struct encdns *e;
	char why[512];
	FILE *f = NULL;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "encrypted_dns_list: %s",
		         strerror(errno));
		return NULL;
	}
	if (path == NULL || path[0] == '\0') {
		e->names = rules_list_new();
		if (e->names == NULL) {
			snprintf(err, errlen, "encrypted_dns_list: %s",
			         strerror(errno));
			goto fail;
		}
		return e;
	}
	if (strcmp(path, CONFIG_BUILTIN) == 0)
		f = fmemopen((void *)encdns_builtin, strlen(encdns_builtin),
		             "r");
	else
		f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "encrypted_dns_list %s: cannot open: %s",
		         path, strerror(errno));
		goto fail;
	}
	e->names = rules_list_read_file(f, why, sizeof(why));
	if (e->names == NULL) {
		snprintf(err, errlen, "encrypted_dns_list %s: %s", path, why);
		goto fail;
	}
	fclose(f);
	return e;
fail:
	if (f != NULL)
		fclose(f);
	encdns_free(e);
	return NULL;
}

void
encdns_free(struct encdns *e)
{
	if (e == NULL)
		return;
	rules_list_free(e->names);
	free(e);
}

size_t
encdns_count(const struct encdns *e)
{
	return e != NULL ? rules_list_count(e->names) : 0;
}

bool
encdns_match(const struct encdns *e, const char *name, uint16_t port)
{
	char buf[NAME_MAX_LEN + 2];
	const char *s;

	if (port == ENCDNS_DOT_PORT)
		return true;
	if (e == NULL || name == NULL || strlen(name) >= sizeof(buf))
		return false;
	memcpy(buf, name, strlen(name) + 1);
	if (name_normalise(buf) == -1)
		return false;
	/* The name, then each name it is under: "a.dns.google",
	 * "dns.google", "google". */
	for (s = buf;; s++) {
		if (rules_list_contains(e->names, s))
			return true;
		if ((s = strchr(s, '.')) == NULL)
			return false;
	}
}
