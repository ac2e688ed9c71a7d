/*
 * The registry of embedded schemas and the lookups the plan needs.
 *
 * Every embedded schema is parsed once, on first use, under pthread_once;
 * the parsed types live until the process exits (reachable from `types`,
 * so LeakSanitizer does not count them).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"
#include "schema_data.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static struct schema_type **types; /* sorted by name, as the blobs are */
static size_t ntypes;

static void init_types(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;

	types = xcalloc(schema_blob_count ? schema_blob_count : 1,
			sizeof(*types));
	for (i = 0; i < schema_blob_count; i++) {
		const struct schema_blob *b = &schema_blobs[i];
		struct err err = ERR_INIT;
		struct schema_type *t;

		strbuf_reset(&sb);
		strbuf_grow(&sb, b->len);
		for (j = 0; b->chunks[j]; j++)
			strbuf_addstr(&sb, b->chunks[j]);
		t = schema_parse_json(sb.buf, sb.len, &err);
		if (!t) {
			/* the unit tests parse every embedded schema, so this
			 * is a build problem; the type is left out */
			log_msg(LOG_ERROR, "embedded schema %s: %s", b->type_name,
				err.msg);
			continue;
		}
		t->native = true;
		t->provisionable = true;
		types[ntypes++] = t;
	}
	strbuf_release(&sb);
}

void schema_init(void)
{
	pthread_once(&init_once, init_types);
}

static int cmp_name(const void *key, const void *elem)
{
	const struct schema_type *const *t = elem;

	return strcmp(key, (*t)->name);
}

const struct schema_type *schema_find(const char *type_name)
{
	struct schema_type **t;

	schema_init();
	if (!type_name)
		return NULL;
	t = bsearch(type_name, types, ntypes, sizeof(*types), cmp_name);
	if (t)
		return *t;
	return schema_bundle_find(type_name);
}

size_t schema_count(void)
{
	schema_init();
	return ntypes;
}

const struct schema_type *schema_at(size_t i)
{
	schema_init();
	return i < ntypes ? types[i] : NULL;
}

const char *schema_type_name(const struct schema_type *t)
{
	return t->name;
}

bool schema_native(const struct schema_type *t)
{
	return t->native;
}

bool schema_provisionable(const struct schema_type *t)
{
	return t->provisionable;
}

const char *schema_suggest_type(const char *name)
{
	size_t i, n, best = 4, d;
	const char *pick = NULL;
	const char *const *all = schema_registry_names(&n);

	if (!name)
		return NULL;
	schema_init();
	for (i = 0; i < ntypes + n; i++) {
		const char *c = i < ntypes ? types[i]->name : all[i - ntypes];
		d = schema_edit_distance(name, c, best - 1);
		if (d < best) {
			best = d;
			pick = c;
		}
	}
	return pick;
}

struct schema_type *schema_type_parse(const char *json, size_t len,
				      struct err *err)
{
	return schema_parse_json(json, len, err);
}

static int cmp_prop_key(const void *key, const void *elem)
{
	const struct sprop *const *p = elem;

	return strcmp(key, (*p)->name);
}

const struct sprop *snode_sprop(const struct snode *n, const char *name)
{
	struct sprop **p;

	if (!n->nprops)
		return NULL;
	p = bsearch(name, n->sorted, n->nprops, sizeof(*n->sorted),
		    cmp_prop_key);
	return p ? *p : NULL;
}

const struct snode *snode_prop(const struct snode *n, const char *name)
{
	const struct sprop *p = snode_sprop(n, name);

	return p ? p->node : NULL;
}

/*
 * Compares a query path with a listed entry step by step; a numeric step
 * in the query matches "*" in the entry. Returns true when the entry is
 * the path or one of its ancestors.
 */
static bool entry_covers(const char *entry, const char *path)
{
	for (;;) {
		size_t el = strcspn(entry, "/"), pl = strcspn(path, "/");
		bool same;

		if (el == 1 && entry[0] == '*') {
			size_t k;
			same = pl > 0;
			for (k = 0; k < pl && same; k++)
				same = (path[k] >= '0' && path[k] <= '9') ||
				       (pl == 1 && path[k] == '*');
		} else {
			same = el == pl && !strncmp(entry, path, el);
		}
		if (!same)
			return false;
		entry += el;
		path += pl;
		if (!*entry)
			return true; /* equal, or an ancestor */
		if (!*path)
			return false; /* the entry is below the path */
		entry++;
		path++;
	}
}

static const char *path_match(const struct spath_list *l, const char *path)
{
	size_t i;

	if (!path || !*path)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (entry_covers(l->items[i], path))
			return l->items[i];
	return NULL;
}

const char *schema_create_only(const struct schema_type *t, const char *path)
{
	return path_match(&t->create_only, path);
}

const char *schema_conditional_create_only(const struct schema_type *t,
					   const char *path)
{
	return path_match(&t->cond_create_only, path);
}

const char *schema_write_only(const struct schema_type *t, const char *path)
{
	return path_match(&t->write_only, path);
}

const char *schema_read_only(const struct schema_type *t, const char *path)
{
	return path_match(&t->read_only, path);
}

/* The node at a property path (steps joined by '/'), or NULL. */
static const struct snode *node_at(const struct schema_type *t,
				   const char *path)
{
	const struct snode *n = t->root;
	char step[256];

	while (n && *path) {
		size_t len = strcspn(path, "/");
		bool index = len > 0;
		size_t k;

		if (len == 0 || len >= sizeof(step))
			return NULL;
		for (k = 0; k < len; k++)
			if (!(path[k] >= '0' && path[k] <= '9'))
				index = false;
		if ((len == 1 && path[0] == '*') || index) {
			n = n->items;
		} else {
			memcpy(step, path, len);
			step[len] = '\0';
			n = snode_prop(n, step);
		}
		path += len;
		if (*path == '/')
			path++;
	}
	return n;
}

bool schema_unordered(const struct schema_type *t, const char *path)
{
	const struct snode *n = path ? node_at(t, path) : NULL;

	return n && n->unordered;
}

const char *const *schema_primary_identifier(const struct schema_type *t,
					     size_t *n)
{
	*n = t->nprimary_id;
	return t->primary_id;
}

bool schema_taggable(const struct schema_type *t)
{
	return t->taggable;
}

bool schema_delete_before_create(const struct schema_type *t)
{
	return t->delete_first;
}

static int cmp_attr(const void *key, const void *elem)
{
	const char *const *k = key, *const *e = elem;

	return strcmp(*k, *e);
}

bool schema_has_attribute(const struct schema_type *t, const char *attr)
{
	return attr && t->nattrs &&
	       bsearch(&attr, t->attrs, t->nattrs, sizeof(*t->attrs),
		       cmp_attr) != NULL;
}

const char *schema_attributes(const struct schema_type *t)
{
	return t->attr_list;
}

size_t schema_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row, best, result;

	if (la > lb + cap || lb > la + cap)
		return cap + 1;
	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			/* a case difference costs nothing: "cidrblock" is
			 * "CidrBlock" mistyped, not another name */
			int ca = a[i - 1], cb = b[j - 1];
			size_t cost = (ca == cb || ((ca | 0x20) == (cb | 0x20) &&
						    ((ca | 0x20) >= 'a' &&
						     (ca | 0x20) <= 'z'))) ? 0 : 1;
			size_t v = diag + cost;
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > cap) {
			free(row);
			return cap + 1;
		}
	}
	result = row[lb] > cap ? cap + 1 : row[lb];
	free(row);
	return result;
}

bool schema_object_property(const struct schema_type *t, const char *name)
{
	const struct snode *n = t && t->root ? snode_prop(t->root, name) : NULL;

	return n && (n->types & ST_OBJECT) && !(n->types & ST_ARRAY);
}
