#include <stdlib.h>
#include <string.h>

#include "cairn/diag.h"
#include "cairn/xalloc.h"

void diag_add(struct diag_list *dl, enum diag_severity sev,
	      const struct mark *mark, const char *logical_id, const char *path,
	      const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct diag *d;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(dl->items, dl->n + 1, dl->cap);
	d = &dl->items[dl->n++];
	memset(d, 0, sizeof(*d));
	d->severity = sev;
	if (mark)
		d->mark = *mark;
	d->logical_id = logical_id ? xstrdup(logical_id) : NULL;
	d->path = path ? xstrdup(path) : NULL;
	d->msg = strbuf_detach(&sb, NULL);
	if (sev == DIAG_ERROR)
		dl->errors++;
}

static int cmp_diag(const struct diag *a, const struct diag *b)
{
	int c = strcmp(a->mark.file ? a->mark.file : "",
		       b->mark.file ? b->mark.file : "");
	if (c)
		return c;
	if (a->mark.line != b->mark.line)
		return a->mark.line < b->mark.line ? -1 : 1;
	if (a->mark.col != b->mark.col)
		return a->mark.col < b->mark.col ? -1 : 1;
	return 0;
}

void diag_sort(struct diag_list *dl)
{
	size_t i, j;

	/* insertion sort: stable, and the lists are short */
	for (i = 1; i < dl->n; i++) {
		struct diag tmp = dl->items[i];
		for (j = i; j > 0 && cmp_diag(&dl->items[j - 1], &tmp) > 0; j--)
			dl->items[j] = dl->items[j - 1];
		dl->items[j] = tmp;
	}
}

void diag_format(const struct diag *d, struct strbuf *out)
{
	if (d->mark.file)
		strbuf_addf(out, "%s:", d->mark.file);
	if (d->mark.line)
		strbuf_addf(out, "%u:%u:", d->mark.line, d->mark.col);
	if (out->len)
		strbuf_addch(out, ' ');
	strbuf_addstr(out, d->severity == DIAG_ERROR ? "error: " : "warning: ");
	if (d->logical_id && d->path)
		strbuf_addf(out, "Resources.%s.%s: ", d->logical_id, d->path);
	else if (d->logical_id)
		strbuf_addf(out, "Resources.%s: ", d->logical_id);
	else if (d->path)
		strbuf_addf(out, "%s: ", d->path);
	strbuf_addstr(out, d->msg);
}

void diag_list_release(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		free(dl->items[i].logical_id);
		free(dl->items[i].path);
		free(dl->items[i].msg);
	}
	free(dl->items);
	memset(dl, 0, sizeof(*dl));
}
