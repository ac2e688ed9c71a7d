/* Helpers shared by the files of the template module; not public API. */
#ifndef CAIRN_TEMPLATE_INTERNAL_H
#define CAIRN_TEMPLATE_INTERNAL_H

#include "cairn/template.h"

/* The closest candidate to word (distance <= max(1, len/3), a swap of
 * neighbours counting 1), or NULL. */
const char *tmpl_suggest(const char *word, const char *const *cands, size_t n);
/* The entry for key in a map value (with its key mark), or NULL. */
const struct value_pair *tmpl_pair(const struct value *map, const char *key);
/* True when s is a valid CloudFormation logical id ([A-Za-z0-9]+). */
bool tmpl_valid_name(const char *s);
/* The text of a string, number or boolean (as written); NULL otherwise. */
const char *tmpl_scalar_text(const struct value *v);
/* Appends the items of "a, b,c" to list as a CommaDelimitedList
 * parameter is split (each item trimmed), each with mark m. */
void tmpl_split_list(struct arena *a, const char *s, const struct mark *m,
		     struct value *list);

/* True when the template's first significant byte is '{': CloudFormation
 * then parses it as JSON (json.c). */
bool tmpl_looks_like_json(const char *text, size_t len);
/* Strict RFC 8259 syntax check. On failure, *line and *col (1-based) point at the
 * offending character and *why says what is wrong. */
bool tmpl_json_check(const char *text, size_t len, unsigned *line,
		     unsigned *col, const char **why);
/* Expands every Fn::ForEach loop of the parsed template in place
 * (foreach.c). A collection that Refs a parameter takes its value from
 * params, then env_params (either may be NULL), then its Default. Returns
 * -1 with the problems in dl. */
int tmpl_expand_foreach(struct arena *a, struct value *root,
			const struct value *params,
			const struct value *env_params, struct diag_list *dl);

#endif
