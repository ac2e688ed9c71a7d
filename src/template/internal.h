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

#endif
