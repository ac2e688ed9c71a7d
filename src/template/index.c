/* A string -> index hash table with open addressing, so that templates with
 * thousands of resources are looked up in O(1) (value maps are linear). */
#include <string.h>

#include "cairn/template.h"

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull & (size_t)-1;

	while (*s)
		h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ull;
	return h;
}

static void put_raw(struct tmpl_index *ix, const char *key, size_t val)
{
	size_t i = hash_str(key) & (ix->cap - 1);

	while (ix->keys[i]) {
		if (!strcmp(ix->keys[i], key)) {
			ix->vals[i] = val;
			return;
		}
		i = (i + 1) & (ix->cap - 1);
	}
	ix->keys[i] = key;
	ix->vals[i] = val;
	ix->n++;
}

void tmpl_index_put(struct arena *a, struct tmpl_index *ix, const char *key,
		    size_t val)
{
	if ((ix->n + 1) * 2 > ix->cap) {
		struct tmpl_index old = *ix;
		size_t i;

		ix->cap = old.cap ? old.cap * 2 : 16;
		ix->keys = arena_alloc(a, ix->cap * sizeof(*ix->keys));
		ix->vals = arena_alloc(a, ix->cap * sizeof(*ix->vals));
		ix->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.keys[i])
				put_raw(ix, old.keys[i], old.vals[i]);
	}
	put_raw(ix, key, val);
}

bool tmpl_index_get(const struct tmpl_index *ix, const char *key, size_t *val)
{
	size_t i;

	if (!ix->cap || !key)
		return false;
	i = hash_str(key) & (ix->cap - 1);
	while (ix->keys[i]) {
		if (!strcmp(ix->keys[i], key)) {
			if (val)
				*val = ix->vals[i];
			return true;
		}
		i = (i + 1) & (ix->cap - 1);
	}
	return false;
}
