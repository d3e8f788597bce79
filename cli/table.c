/*
 * table.c - the one table printer of the tollgate command (table.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"

#define TABLE_BOLD  "\033[1m"
#define TABLE_RESET "\033[0m"

/* Columns of s: characters, or bytes with TABLE_RAW. */
static size_t
table_width(const struct table *t, const char *s)
{
	return t->flags & TABLE_RAW ? strlen(s) : cli_ev_width(s);
}

static void
table_pad(const struct table *t, const char *s, size_t width, bool right)
{
	if (!(t->flags & TABLE_RAW))
		cli_ev_pad(stdout, s, width, right);
	else if (right)
		printf("%*s", (int)width, s);
	else
		printf("%-*s", (int)width, s);
}

static void
table_sep(const struct table *t)
{
	size_t i;

	for (i = 0; i < t->sep; i++)
		putchar(' ');
}

void
table_init(struct table *t, const struct table_col *cols, size_t n_cols,
           size_t sep, size_t flex_min, const struct cli_term *term,
           unsigned flags)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->n_cols = n_cols < TABLE_COLS_MAX ? n_cols : TABLE_COLS_MAX;
	t->sep = sep;
	t->flex_min = flex_min;
	t->term = term;
	t->flags = flags;
	for (i = 0; i < t->n_cols; i++)
		t->floor[i] = cols[i].stream;
	table_fit(t, true);
}

int
table_cell(const struct table *t, struct table_row *r, size_t i, const char *s)
{
	size_t len = strlen(s) + 1;

	if (i >= TABLE_COLS_MAX)
		return -1;
	free(r->cell[i]);
	r->cell[i] = malloc(len);
	if (r->cell[i] == NULL)
		return -1;
	if (t->flags & TABLE_RAW)
		memcpy(r->cell[i], s, len);
	else
		cli_ev_text(t->term, s, 0, false, r->cell[i], len);
	return 0;
}

int
table_hold(struct table *t, struct table_row *r)
{
	struct table_row *grown;
	size_t cap;

	if (t->n_rows == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		grown = reallocarray(t->rows, cap, sizeof(*t->rows));
		if (grown == NULL)
			return -1;
		t->rows = grown;
		t->cap = cap;
	}
	t->rows[t->n_rows++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

int
table_add(struct table *t, const char *const *cells, const char *paint)
{
	struct table_row r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.paint = paint;
	for (i = 0; i < t->n_cols; i++)
		if (table_cell(t, &r, i, cells[i]) == -1)
			goto fail;
	if (table_hold(t, &r) == -1)
		goto fail;
	return 0;
fail:
	table_row_free(&r);
	return -1;
}

void
table_row_free(struct table_row *r)
{
	size_t i;

	for (i = 0; i < TABLE_COLS_MAX; i++)
		free(r->cell[i]);
	memset(r, 0, sizeof(*r));
}

void
table_fit(struct table *t, bool more)
{
	const struct table_col *c;
	size_t i, j, w, take, used = 0, flex = SIZE_MAX, widest = 0;
	size_t cols = t->term != NULL ? (size_t)t->term->cols : 0;
	bool fit = t->flags & TABLE_FIT;

	for (i = 0; i < t->n_cols; i++) {
		c = &t->cols[i];
		w = table_width(t, c->head);
		for (j = 0; j < t->n_rows; j++)
			if (!t->rows[j].line && t->rows[j].cell[i] != NULL &&
			    table_width(t, t->rows[j].cell[i]) > w)
				w = table_width(t, t->rows[j].cell[i]);
		if (c->flex) {
			flex = i;
			widest = w;
			continue;
		}
		if (more && w < t->floor[i] && !(c->soft && t->n_rows > 0))
			w = t->floor[i];
		if (fit && c->max > 0 && w > c->max)
			w = c->max;
		t->width[i] = w;
		used += w + t->sep;
	}
	if (flex == SIZE_MAX)
		return;
	if (!fit) {
		t->width[flex] = widest;
		return;
	}
	/* A narrow terminal: the shrinking columns give some back first. */
	for (i = 0; i < t->n_cols && used + t->flex_min > cols; i++) {
		if (!t->cols[i].shrink)
			continue;
		take = t->width[i] > TABLE_SHRINK_MIN
		           ? t->width[i] - TABLE_SHRINK_MIN
		           : 0;
		if (take > used + t->flex_min - cols)
			take = used + t->flex_min - cols;
		t->width[i] -= take;
		used -= take;
	}
	w = cols > used ? cols - used : 0;
	if (w < t->flex_min)
		w = t->flex_min;
	if (!more && widest < w)
		w = widest;
	t->width[flex] = w;
}

void
table_header(struct table *t)
{
	size_t i;

	if (t->header_done)
		return;
	t->header_done = true;
	if (t->flags & TABLE_COLOR)
		fputs(TABLE_BOLD, stdout);
	for (i = 0; i < t->n_cols; i++) {
		if (i + 1 == t->n_cols && !t->cols[i].right) {
			fputs(t->cols[i].head, stdout);
			break;
		}
		table_pad(t, t->cols[i].head, t->width[i], t->cols[i].right);
		if (i + 1 < t->n_cols)
			table_sep(t);
	}
	if (t->flags & TABLE_COLOR)
		fputs(TABLE_RESET, stdout);
	putchar('\n');
}

void
table_print_row(const struct table *t, const struct table_row *r)
{
	char cut[TABLE_CELL_MAX];
	const struct table_col *c;
	const char *s;
	bool fit = t->flags & TABLE_FIT, paint;
	size_t i;

	if (r->line) {
		cli_ev_text(t->term, r->cell[0] != NULL ? r->cell[0] : "",
		            fit ? (size_t)t->term->cols : 0, false, cut,
		            sizeof(cut));
		paint = t->flags & TABLE_COLOR && r->paint != NULL;
		printf("%s%s%s\n", paint ? r->paint : "", cut,
		       paint ? TABLE_RESET : "");
		return;
	}
	for (i = 0; i < t->n_cols; i++) {
		c = &t->cols[i];
		s = r->cell[i] != NULL ? r->cell[i] : "";
		/* Numbers are never cut: a wider one pushes its row. */
		if (!(t->flags & TABLE_RAW))
			s = cli_ev_text(t->term, s,
			                fit && !c->right ? t->width[i] : 0,
			                c->cut_left, cut, sizeof(cut));
		paint = t->flags & TABLE_COLOR && c->paint && r->paint != NULL;
		if (paint)
			fputs(r->paint, stdout);
		if (i + 1 == t->n_cols && !c->right)
			fputs(s, stdout);
		else
			table_pad(t, s, t->width[i], c->right);
		if (paint)
			fputs(TABLE_RESET, stdout);
		if (i + 1 < t->n_cols)
			table_sep(t);
	}
	putchar('\n');
}

void
table_print(struct table *t, bool more)
{
	size_t i;

	table_fit(t, more);
	if (t->n_rows > 0 || more)
		table_header(t);
	for (i = 0; i < t->n_rows; i++)
		table_print_row(t, &t->rows[i]);
	table_free(t);
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n_rows; i++)
		table_row_free(&t->rows[i]);
	free(t->rows);
	t->rows = NULL;
	t->n_rows = t->cap = 0;
}
