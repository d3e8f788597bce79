/*
 * export.c - the export text: reader and writer; see export.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "rules/export.h"
#include "rules/list.h"
#include "rules/rule.h"

#define EXPORT_VERSION_PREFIX "# tollgate rules v"

struct export_list {
	char name[RULE_LIST_NAME_MAX];
	struct rules_list *names;
};

struct export_reader {
	unsigned long lineno;
	bool failed;
	struct rule *rules;
	size_t n_rules, cap_rules;
	struct export_list *lists;
	size_t n_lists, cap_lists;
	size_t last_list; /* list lines come in runs: try this one first */
	const struct rule_users *users; /* uid=NAME: rule_parse_line_users() */
	char line[RULE_LINE_MAX + 1];
};

static int export_err(struct export_reader *rd, char *err, size_t errlen,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
export_err(struct export_reader *rd, char *err, size_t errlen, const char *fmt,
           ...)
{
	char msg[EXPORT_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rd->failed = true;
	return errbuf_set(err, errlen, "line %lu: %s", rd->lineno, msg);
}

bool
export_is_export(const char *buf, size_t len)
{
	size_t plen = strlen(EXPORT_VERSION_PREFIX);

	return len >= plen && memcmp(buf, EXPORT_VERSION_PREFIX, plen) == 0;
}

struct export_reader *
export_reader_new(void)
{
	return calloc(1, sizeof(struct export_reader));
}

void
export_reader_users(struct export_reader *rd, const struct rule_users *u)
{
	rd->users = u;
}

void
export_reader_free(struct export_reader *rd)
{
	size_t i;

	if (rd == NULL)
		return;
	for (i = 0; i < rd->n_lists; i++)
		rules_list_free(rd->lists[i].names);
	free(rd->lists);
	free(rd->rules);
	free(rd);
}

static struct export_list *
export_find_list(struct export_reader *rd, const char *name)
{
	size_t i;

	if (rd->last_list < rd->n_lists &&
	    strcmp(rd->lists[rd->last_list].name, name) == 0)
		return &rd->lists[rd->last_list];
	for (i = 0; i < rd->n_lists; i++)
		if (strcmp(rd->lists[i].name, name) == 0) {
			rd->last_list = i;
			return &rd->lists[i];
		}
	return NULL;
}

static int
export_rule_line(struct export_reader *rd, char *err, size_t errlen)
{
	char rerr[EXPORT_ERRLEN];
	struct rule *grown;
	size_t cap;

	if (rd->n_rules == EXPORT_RULES_MAX)
		return export_err(rd, err, errlen, "more than %d rules",
		                  EXPORT_RULES_MAX);
	if (rd->n_rules == rd->cap_rules) {
		cap = rd->cap_rules == 0 ? 16 : rd->cap_rules * 2;
		grown = reallocarray(rd->rules, cap, sizeof(*grown));
		if (grown == NULL)
			return export_err(rd, err, errlen, "out of memory");
		rd->rules = grown;
		rd->cap_rules = cap;
	}
	if (rule_parse_line_users(&rd->rules[rd->n_rules], rd->line, rd->users,
	                          rerr, sizeof(rerr)) == -1)
		return export_err(rd, err, errlen, "%s", rerr);
	rd->n_rules++;
	return 0;
}

/* "list NAME ENTRY": words separated by spaces or tabs. */
static int
export_list_line(struct export_reader *rd, char *err, size_t errlen)
{
	char dest[RULE_LIST_NAME_MAX + 8], rerr[EXPORT_ERRLEN];
	char *words[4], *p = rd->line;
	struct export_list *l, *grown;
	struct rule tmp;
	size_t n = 0, cap;

	while (n < 4) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		words[n++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n != 3)
		return export_err(rd, err, errlen,
		                  "expected \"list NAME ENTRY\" (three words), "
		                  "found %zu",
		                  n);
	l = export_find_list(rd, words[1]);
	if (l == NULL) {
		snprintf(dest, sizeof(dest), "list:%.*s", RULE_LIST_NAME_MAX,
		         words[1]);
		if (strlen(words[1]) >= RULE_LIST_NAME_MAX ||
		    rule_parse_dest(&tmp, dest, rerr, sizeof(rerr)) == -1)
			return export_err(rd, err, errlen,
			                  "list name \"%.64s\" is not 1-%d "
			                  "letters, digits, '.', '_' or '-'",
			                  words[1], RULE_LIST_NAME_MAX - 1);
		if (rd->n_lists == EXPORT_RULES_MAX)
			return export_err(rd, err, errlen, "more than %d lists",
			                  EXPORT_RULES_MAX);
		if (rd->n_lists == rd->cap_lists) {
			cap = rd->cap_lists == 0 ? 4 : rd->cap_lists * 2;
			grown = reallocarray(rd->lists, cap, sizeof(*grown));
			if (grown == NULL)
				return export_err(rd, err, errlen,
				                  "out of memory");
			rd->lists = grown;
			rd->cap_lists = cap;
		}
		l = &rd->lists[rd->n_lists];
		snprintf(l->name, sizeof(l->name), "%s", words[1]);
		l->names = rules_list_new();
		if (l->names == NULL)
			return export_err(rd, err, errlen, "out of memory");
		rd->last_list = rd->n_lists++;
	}
	if (rules_list_add(l->names, words[2], rerr, sizeof(rerr)) == -1)
		return export_err(rd, err, errlen, "list %s: %s", l->name,
		                  rerr);
	return 0;
}

int
export_reader_line(struct export_reader *rd, const char *line, size_t len,
                   char *err, size_t errlen)
{
	if (rd->failed) {
		snprintf(err, errlen, "line %lu: read after an error",
		         rd->lineno);
		return -1;
	}
	rd->lineno++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > RULE_LINE_MAX)
		return export_err(rd, err, errlen,
		                  "line of %zu bytes, longer than %d", len,
		                  RULE_LINE_MAX);
	if (memchr(line, '\0', len) != NULL)
		return export_err(rd, err, errlen, "NUL byte in the line");
	memcpy(rd->line, line, len);
	rd->line[len] = '\0';
	if (rd->lineno == 1) {
		if (strcmp(rd->line, EXPORT_HEADER) == 0)
			return 0;
		if (export_is_export(rd->line, len))
			return export_err(rd, err, errlen,
			                  "\"%.40s\" is from a newer tollgate "
			                  "(this one reads \"" EXPORT_HEADER
			                  "\")",
			                  rd->line);
		return export_err(rd, err, errlen,
		                  "not tollgate export text (the first line "
		                  "must be \"" EXPORT_HEADER "\")");
	}
	if (rd->line[strspn(rd->line, " \t")] == '\0' || rd->line[0] == '#')
		return 0;
	if (strncmp(rd->line, "rule", 4) == 0 &&
	    (rd->line[4] == ' ' || rd->line[4] == '\t' || rd->line[4] == '\0'))
		return export_rule_line(rd, err, errlen);
	if (strncmp(rd->line, "list", 4) == 0 &&
	    (rd->line[4] == ' ' || rd->line[4] == '\t'))
		return export_list_line(rd, err, errlen);
	return export_err(rd, err, errlen,
	                  "expected a \"rule ...\" or \"list NAME ENTRY\" "
	                  "line, a comment or a blank line");
}

int
export_reader_finish(struct export_reader *rd, struct rules_set *set,
                     size_t *n_rules, size_t *n_names, char *err, size_t errlen)
{
	char serr[EXPORT_ERRLEN];
	struct export_list *l;
	const char *const *names;
	size_t i, j, n, total = 0;

	if (rd->failed) {
		snprintf(err, errlen, "line %lu: the read failed", rd->lineno);
		return -1;
	}
	if (rd->lineno == 0) {
		snprintf(err, errlen,
		         "empty: not tollgate export text (the first line "
		         "must be \"" EXPORT_HEADER "\")");
		return -1;
	}
	for (i = 0; i < rd->n_lists; i++) {
		for (j = 0; j < rd->n_rules; j++)
			if (rd->rules[j].dest_kind == DEST_LIST &&
			    strcmp(rd->rules[j].dest, rd->lists[i].name) == 0)
				break;
		if (j == rd->n_rules) {
			snprintf(err, errlen,
			         "list %s: no rule has dest=list:%s (is its "
			         "rule line missing?)",
			         rd->lists[i].name, rd->lists[i].name);
			return -1;
		}
		total += rules_list_count(rd->lists[i].names);
	}
	for (i = 0; i < rd->n_rules; i++) {
		names = NULL;
		n = 0;
		if (rd->rules[i].dest_kind == DEST_LIST) {
			l = export_find_list(rd, rd->rules[i].dest);
			if (l != NULL) {
				names = rules_list_names(l->names);
				n = rules_list_count(l->names);
			}
		}
		if (rules_set_add(set, &rd->rules[i], names, n, serr,
		                  sizeof(serr)) == -1) {
			snprintf(err, errlen, "rule %zu of the text: %s", i + 1,
			         serr);
			rules_set_free(set);
			return -1;
		}
	}
	*n_rules = rd->n_rules;
	*n_names = total;
	return 0;
}

int
export_read_file(FILE *f, struct rules_set *set, size_t *n_rules,
                 size_t *n_names, char *err, size_t errlen)
{
	return export_read_file_users(f, NULL, set, n_rules, n_names, err,
	                              errlen);
}

int
export_read_file_users(FILE *f, const struct rule_users *u,
                       struct rules_set *set, size_t *n_rules, size_t *n_names,
                       char *err, size_t errlen)
{
	struct export_reader *rd;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = -1;

	rd = export_reader_new();
	if (rd == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	export_reader_users(rd, u);
	errno = 0;
	while ((n = getline(&line, &cap, f)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (export_reader_line(rd, line, (size_t)n, err, errlen) == -1)
			goto out;
		errno = 0;
	}
	if (ferror(f) || errno == ENOMEM) {
		snprintf(err, errlen, "reading: %s",
		         strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	rc = export_reader_finish(rd, set, n_rules, n_names, err, errlen);
out:
	free(line);
	export_reader_free(rd);
	return rc;
}

long
export_write(FILE *out, const struct rules_set *set)
{
	return export_write_users(out, set, NULL);
}

long
export_write_users(FILE *out, const struct rules_set *set,
                   const struct rule_users *u)
{
	const struct rule *r;
	char *buf;
	long lines = 1;
	size_t i, j;

	buf = malloc(RULE_LINE_MAX);
	if (buf == NULL)
		return -1;
	fputs(EXPORT_HEADER "\n", out);
	for (i = 0; i < set->n_rules; i++) {
		r = &set->rules[i];
		rule_format_users(r, u, buf, RULE_LINE_MAX);
		fprintf(out, "%s\n", buf);
		lines++;
		if (r->dest_kind != DEST_LIST || set->lists == NULL)
			continue;
		for (j = 0; j < set->lists[i].n; j++) {
			fprintf(out, "list %s %s\n", r->dest,
			        set->lists[i].names[j]);
			lines++;
		}
	}
	free(buf);
	if (fflush(out) == EOF || ferror(out))
		return -1;
	return lines;
}
