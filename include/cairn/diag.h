/*
 * diag: a list of problems found in user input (a template, a parameter
 * file). `validate` reports all of them, not only the first; each says where
 * (file:line:col), which resource and property, and what is wrong.
 */
#ifndef CAIRN_DIAG_H
#define CAIRN_DIAG_H

#include <stddef.h>

#include "strbuf.h"
#include "value.h"

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	struct mark mark;
	char *logical_id; /* NULL when not about one resource */
	char *path;       /* property path "Properties.Tags[0].Key" or NULL */
	char *msg;
};

struct diag_list {
	struct diag *items;
	size_t n, cap;
	size_t errors;
};

#define DIAG_LIST_INIT { NULL, 0, 0, 0 }

void diag_add(struct diag_list *dl, enum diag_severity sev,
	      const struct mark *mark, const char *logical_id, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Sorts by file, line, column (stable). */
void diag_sort(struct diag_list *dl);
/* One line: "file:line:col: error: Resources.X.Properties.Y: message" */
void diag_format(const struct diag *d, struct strbuf *out);
void diag_list_release(struct diag_list *dl);

#endif
