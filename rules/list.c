/*
 * list.c - lists of names for list rules; see list.h.
 *
 * A list is an array of names in the order first seen, the names' bytes in
 * a chain of arena blocks (one malloc() per RULES_LIST_BLOCK bytes, not
 * one per name), and an open-addressing hash set of indexes into the
 * array to fold duplicates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/name.h"
#include "rules/list.h"
#include "rules/rule.h"

#define RULES_LIST_BLOCK 65536 /* arena block for the names' bytes */
#define RULES_LIST_READ  65536 /* bytes read from a FILE at once */
#define RULES_LIST_ERR   256

struct rules_list_block {
	struct rules_list_block *next;
	size_t used;
	char data[RULES_LIST_BLOCK];
};

struct rules_list {
	const char **names;
	size_t n, cap;
	uint32_t *tab; /* index + 1 into names; 0 = empty */
	size_t tcap;   /* a power of two, at least 2 * n */
	struct rules_list_block *blocks;
};

struct rules_list_reader {
	struct rules_list *list;
	char line[RULES_LIST_LINE_MAX + 1]; /* a line split across feeds */
	size_t len;
	size_t lineno;
	bool failed;
	char err[RULES_LIST_ERR];
};

/* A hosts file's entries for the machine itself, not for blocking. */
static const char *const rules_list_local[] = {
    "localhost",     "localhost.localdomain", "local",        "broadcasthost",
    "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0",
};

/* FNV-1a, 64 bits. */
static uint64_t
list_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct rules_list *
rules_list_new(void)
{
	return calloc(1, sizeof(struct rules_list));
}

void
rules_list_free(struct rules_list *l)
{
	struct rules_list_block *b, *next;

	if (l == NULL)
		return;
	for (b = l->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(l->names);
	free(l->tab);
	free(l);
}

size_t
rules_list_count(const struct rules_list *l)
{
	return l->n;
}

const char *const *
rules_list_names(const struct rules_list *l)
{
	return l->names;
}

/* The slot of name in l->tab: where it is, or the empty slot for it. */
static size_t
list_slot(const struct rules_list *l, const char *name)
{
	size_t mask = l->tcap - 1, i;

	for (i = list_hash(name) & mask; l->tab[i] != 0; i = (i + 1) & mask)
		if (strcmp(l->names[l->tab[i] - 1], name) == 0)
			break;
	return i;
}

bool
rules_list_contains(const struct rules_list *l, const char *name)
{
	return l->tcap > 0 && l->tab[list_slot(l, name)] != 0;
}

static int
list_grow(struct rules_list *l)
{
	const char **names;
	uint32_t *tab;
	size_t cap, tcap, i, j, mask;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 1024 : l->cap * 2;
		if ((names = realloc(l->names, cap * sizeof(*names))) == NULL)
			return -1;
		l->names = names;
		l->cap = cap;
	}
	if (2 * (l->n + 1) > l->tcap) {
		tcap = l->tcap == 0 ? 2048 : l->tcap * 2;
		if ((tab = calloc(tcap, sizeof(*tab))) == NULL)
			return -1;
		mask = tcap - 1;
		for (i = 0; i < l->n; i++) {
			for (j = list_hash(l->names[i]) & mask; tab[j] != 0;
			     j = (j + 1) & mask)
				;
			tab[j] = (uint32_t)(i + 1);
		}
		free(l->tab);
		l->tab = tab;
		l->tcap = tcap;
	}
	return 0;
}

static char *
list_store(struct rules_list *l, const char *s, size_t n)
{
	struct rules_list_block *b = l->blocks;
	char *p;

	if (b == NULL || b->used + n + 1 > sizeof(b->data)) {
		if ((b = malloc(sizeof(*b))) == NULL)
			return NULL;
		b->next = l->blocks;
		b->used = 0;
		l->blocks = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n + 1);
	b->used += n + 1;
	return p;
}

int
rules_list_add(struct rules_list *l, const char *name, char *err, size_t errlen)
{
	char norm[NAME_MAX_LEN + 1];
	size_t i;
	char *p;

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	if (rule_parse_name(norm, name, err, errlen) == -1)
		return -1;
	if (l->tcap > 0 && l->tab[list_slot(l, norm)] != 0)
		return 0;
	if (l->n >= RULES_LIST_NAMES_MAX)
		return errbuf_set(err, errlen, "more than %d names in one list",
		                  RULES_LIST_NAMES_MAX);
	if (list_grow(l) == -1 ||
	    (p = list_store(l, norm, strlen(norm))) == NULL)
		return errbuf_set(err, errlen, "out of memory");
	i = list_slot(l, norm);
	l->names[l->n++] = p;
	l->tab[i] = (uint32_t)l->n;
	return 1;
}

struct rules_list_reader *
rules_list_reader_new(void)
{
	struct rules_list_reader *rd;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return NULL;
	if ((rd->list = rules_list_new()) == NULL) {
		free(rd);
		return NULL;
	}
	return rd;
}

void
rules_list_reader_free(struct rules_list_reader *rd)
{
	if (rd == NULL)
		return;
	rules_list_free(rd->list);
	free(rd);
}

static bool
list_is_local(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rules_list_local) / sizeof(*rules_list_local);
	     i++)
		if (strcmp(name, rules_list_local[i]) == 0)
			return true;
	return false;
}

/* An address opening a hosts file line: IPv4, or IPv6 with a zone. */
static bool
list_is_addr(const char *tok)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t a[16];
	size_t n;

	n = strcspn(tok, "%");
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ||
	       inet_pton(AF_INET6, buf, a) == 1;
}

/* One line, without its '\n'.  Returns 0 or -1 with rd->err set. */
static int
list_line(struct rules_list_reader *rd, const char *s, size_t n)
{
	char tok[RULES_LIST_LINE_MAX + 1], inner[RULES_LIST_ERR - 32];
	size_t i = 0, t, words = 0;
	bool hosts = false;

	rd->lineno++;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (memchr(s, '\0', n) != NULL)
		return errbuf_set(rd->err, sizeof(rd->err),
		                  "line %zu: a NUL byte", rd->lineno);
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n || s[i] == '#')
			break;
		for (t = 0; i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#';
		     i++)
			tok[t++] = s[i];
		tok[t] = '\0';
		if (words++ == 0 && list_is_addr(tok)) {
			hosts = true;
			continue;
		}
		if (!hosts && words > 1)
			return errbuf_set(
			    rd->err, sizeof(rd->err),
			    "line %zu: more than one word; expected one name, "
			    "or an address and names",
			    rd->lineno);
		if (hosts && list_is_local(tok))
			continue;
		if (rules_list_add(rd->list, tok, inner, sizeof(inner)) == -1)
			return errbuf_set(rd->err, sizeof(rd->err),
			                  "line %zu: %s", rd->lineno, inner);
	}
	if (hosts && words == 1)
		return errbuf_set(rd->err, sizeof(rd->err),
		                  "line %zu: an address without names",
		                  rd->lineno);
	return 0;
}

static int
list_fail(struct rules_list_reader *rd, char *err, size_t errlen)
{
	rd->failed = true;
	return errbuf_set(err, errlen, "%s", rd->err);
}

int
rules_list_reader_feed(struct rules_list_reader *rd, const char *buf,
                       size_t len, char *err, size_t errlen)
{
	const char *nl, *end = buf + len;
	size_t n;

	if (rd->failed)
		return errbuf_set(err, errlen, "%s", rd->err);
	while (buf < end) {
		nl = memchr(buf, '\n', (size_t)(end - buf));
		n = nl != NULL ? (size_t)(nl - buf) : (size_t)(end - buf);
		if (rd->len + n > RULES_LIST_LINE_MAX) {
			errbuf_set(rd->err, sizeof(rd->err),
			           "line %zu: longer than %d bytes",
			           rd->lineno + 1, RULES_LIST_LINE_MAX);
			return list_fail(rd, err, errlen);
		}
		if (nl == NULL) {
			memcpy(rd->line + rd->len, buf, n);
			rd->len += n;
			break;
		}
		if (rd->len == 0) {
			if (list_line(rd, buf, n) == -1)
				return list_fail(rd, err, errlen);
		} else {
			memcpy(rd->line + rd->len, buf, n);
			if (list_line(rd, rd->line, rd->len + n) == -1)
				return list_fail(rd, err, errlen);
			rd->len = 0;
		}
		buf = nl + 1;
	}
	return 0;
}

struct rules_list *
rules_list_reader_finish(struct rules_list_reader *rd, char *err, size_t errlen)
{
	struct rules_list *l;

	if (rd->failed) {
		errbuf_set(err, errlen, "%s", rd->err);
		return NULL;
	}
	if (rd->len > 0) {
		if (list_line(rd, rd->line, rd->len) == -1) {
			list_fail(rd, err, errlen);
			return NULL;
		}
		rd->len = 0;
	}
	l = rd->list;
	rd->list = NULL;
	rd->failed = true;
	snprintf(rd->err, sizeof(rd->err), "list reader already finished");
	return l;
}

struct rules_list *
rules_list_read_buf(const char *buf, size_t len, char *err, size_t errlen)
{
	struct rules_list_reader *rd;
	struct rules_list *l = NULL;

	if ((rd = rules_list_reader_new()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	if (rules_list_reader_feed(rd, buf, len, err, errlen) == 0)
		l = rules_list_reader_finish(rd, err, errlen);
	rules_list_reader_free(rd);
	return l;
}

struct rules_list *
rules_list_read_file(FILE *f, char *err, size_t errlen)
{
	struct rules_list_reader *rd;
	struct rules_list *l = NULL;
	char *buf;
	size_t n;

	buf = malloc(RULES_LIST_READ);
	rd = rules_list_reader_new();
	if (buf == NULL || rd == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto done;
	}
	while ((n = fread(buf, 1, RULES_LIST_READ, f)) > 0)
		if (rules_list_reader_feed(rd, buf, n, err, errlen) == -1)
			goto done;
	if (ferror(f)) {
		errbuf_set(err, errlen, "reading the list: %s",
		           strerror(errno));
		goto done;
	}
	l = rules_list_reader_finish(rd, err, errlen);
done:
	rules_list_reader_free(rd);
	free(buf);
	return l;
}
