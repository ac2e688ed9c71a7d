/*
 * From a registry schema's JSON text to struct schema_type (internal.h).
 *
 * Definitions are parsed on first reference: a `$ref` returns the shared
 * node of its definition, allocated before it is filled, so recursive
 * definitions terminate. Keys that only document (description, examples,
 * default, relationshipRef, propertyTransform...) are ignored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

struct defent {
	const char *name;
	const cJSON *json;
	struct snode *node;
	bool filled;
};

struct pctx {
	struct schema_type *t;
	struct arena *a;
	struct defent *defs;
	size_t ndefs;
	size_t regex_cap;
	struct err *err;
	bool failed;
};

static int fail(struct pctx *c, const char *fmt, const char *arg)
{
	if (!c->failed)
		err_set(c->err, ERR_VALIDATION, fmt, arg);
	c->failed = true;
	return -1;
}

static struct snode *new_node(struct pctx *c)
{
	struct snode *n = arena_alloc(c->a, sizeof(*n));

	n->min_items = n->max_items = -1;
	n->min_len = n->max_len = -1;
	return n;
}

static struct sregex *new_regex(struct pctx *c, const char *src)
{
	struct sregex *r = arena_alloc(c->a, sizeof(*r));
	struct schema_type *t = c->t;

	schema_regex_init(r, arena_strdup(c->a, src));
	if (t->nregexes == c->regex_cap) {
		size_t cap = c->regex_cap ? 2 * c->regex_cap : 16;
		t->regexes = arena_realloc(c->a, t->regexes,
					   c->regex_cap * sizeof(*t->regexes),
					   cap * sizeof(*t->regexes));
		c->regex_cap = cap;
	}
	t->regexes[t->nregexes++] = r;
	return r;
}

static unsigned type_bit(const char *s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "null", ST_NULL },	 { "boolean", ST_BOOLEAN },
		{ "integer", ST_INTEGER }, { "number", ST_NUMBER },
		{ "string", ST_STRING }, { "array", ST_ARRAY },
		{ "object", ST_OBJECT },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].bit;
	return 0;
}

/* A JSON array of strings into an arena array; -1 if not that shape. */
static int string_list(struct pctx *c, const cJSON *j, const char ***out,
		       size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(j))
		return -1;
	*n = (size_t)cJSON_GetArraySize(j);
	*out = arena_alloc(c->a, (*n ? *n : 1) * sizeof(**out));
	cJSON_ArrayForEach(it, j) {
		if (!cJSON_IsString(it))
			return -1;
		(*out)[i++] = arena_strdup(c->a, it->valuestring);
	}
	return 0;
}

static int dep_list(struct pctx *c, const cJSON *j, struct sdep **out,
		    size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsObject(j))
		return -1;
	*n = (size_t)cJSON_GetArraySize(j);
	*out = arena_alloc(c->a, (*n ? *n : 1) * sizeof(**out));
	cJSON_ArrayForEach(it, j) {
		struct sdep *d = &(*out)[i++];
		d->name = arena_strdup(c->a, it->string);
		if (string_list(c, it, &d->names, &d->n))
			return -1;
	}
	return 0;
}

static void number_text(struct pctx *c, double d, struct sliteral *lit)
{
	char buf[64];

	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, sizeof(buf), "%.0f", d);
	else
		snprintf(buf, sizeof(buf), "%.17g", d);
	lit->s = arena_strdup(c->a, buf);
	lit->d = d;
}

static int literal(struct pctx *c, const cJSON *j, struct sliteral *lit)
{
	if (cJSON_IsString(j)) {
		lit->kind = ST_STRING;
		lit->s = arena_strdup(c->a, j->valuestring);
	} else if (cJSON_IsNumber(j)) {
		lit->kind = ST_NUMBER;
		number_text(c, j->valuedouble, lit);
	} else if (cJSON_IsBool(j)) {
		lit->kind = ST_BOOLEAN;
		lit->b = cJSON_IsTrue(j);
		lit->s = lit->b ? "true" : "false";
	} else if (cJSON_IsNull(j)) {
		lit->kind = ST_NULL;
		lit->s = "null";
	} else {
		return -1; /* object/array literals: not used by the schemas */
	}
	return 0;
}

static struct snode *parse_node(struct pctx *c, const cJSON *j);

static int node_array(struct pctx *c, const cJSON *j, struct snode ***out,
		      size_t *n)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(j))
		return -1;
	*n = (size_t)cJSON_GetArraySize(j);
	*out = arena_alloc(c->a, (*n ? *n : 1) * sizeof(**out));
	cJSON_ArrayForEach(it, j) {
		if (!((*out)[i++] = parse_node(c, it)))
			return -1;
	}
	return 0;
}

static int cmp_sprop(const void *x, const void *y)
{
	const struct sprop *const *a = x, *const *b = y;

	return strcmp((*a)->name, (*b)->name);
}

static int number_key(const cJSON *j, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 1;
}

static int long_key(const cJSON *j, const char *key, long *out)
{
	double d;
	int r = number_key(j, key, &d);

	if (r > 0) {
		if (d < 0 || d > 1e12)
			return -1;
		*out = (long)d;
	}
	return r;
}

static int fill_object(struct pctx *c, struct snode *n, const cJSON *j)
{
	const cJSON *v, *it;
	size_t i;

	if ((v = cJSON_GetObjectItemCaseSensitive(j, "properties"))) {
		if (!cJSON_IsObject(v))
			return fail(c, "%s: bad \"properties\"", c->t->name);
		n->nprops = (size_t)cJSON_GetArraySize(v);
		n->props = arena_alloc(c->a, (n->nprops ? n->nprops : 1) *
						     sizeof(*n->props));
		n->sorted = arena_alloc(c->a, (n->nprops ? n->nprops : 1) *
						      sizeof(*n->sorted));
		i = 0;
		cJSON_ArrayForEach(it, v) {
			n->props[i].name = arena_strdup(c->a, it->string);
			if (!(n->props[i].node = parse_node(c, it)))
				return -1;
			n->sorted[i] = &n->props[i];
			i++;
		}
		qsort(n->sorted, n->nprops, sizeof(*n->sorted), cmp_sprop);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "additionalProperties"))) {
		if (cJSON_IsFalse(v))
			n->addl_false = true;
		else if (cJSON_IsObject(v) && !(n->addl = parse_node(c, v)))
			return -1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "patternProperties"))) {
		if (!cJSON_IsObject(v))
			return fail(c, "%s: bad \"patternProperties\"", c->t->name);
		n->npprops = (size_t)cJSON_GetArraySize(v);
		n->pprops = arena_alloc(c->a, (n->npprops ? n->npprops : 1) *
						      sizeof(*n->pprops));
		i = 0;
		cJSON_ArrayForEach(it, v) {
			n->pprops[i].re = new_regex(c, it->string);
			if (!(n->pprops[i].node = parse_node(c, it)))
				return -1;
			i++;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "required")) &&
	    string_list(c, v, &n->required, &n->nrequired))
		return fail(c, "%s: bad \"required\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "requiredXor")) &&
	    string_list(c, v, &n->req_xor, &n->nreq_xor))
		return fail(c, "%s: bad \"requiredXor\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "requiredOr")) &&
	    string_list(c, v, &n->req_or, &n->nreq_or))
		return fail(c, "%s: bad \"requiredOr\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "dependentRequired")) &&
	    dep_list(c, v, &n->dep_req, &n->ndep_req))
		return fail(c, "%s: bad \"dependentRequired\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "dependentExcluded")) &&
	    dep_list(c, v, &n->dep_excl, &n->ndep_excl))
		return fail(c, "%s: bad \"dependentExcluded\"", c->t->name);
	return 0;
}

static int fill_node(struct pctx *c, struct snode *n, const cJSON *j)
{
	const cJSON *v, *it;
	double d;
	int r;

	if (!cJSON_IsObject(j))
		return fail(c, "%s: a schema node is not an object", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "type"))) {
		if (cJSON_IsString(v)) {
			n->types = type_bit(v->valuestring);
		} else if (cJSON_IsArray(v)) {
			cJSON_ArrayForEach(it, v) {
				unsigned bit = cJSON_IsString(it) ?
						       type_bit(it->valuestring) : 0;
				if (!bit)
					return fail(c, "%s: bad \"type\"", c->t->name);
				n->types |= bit;
			}
		}
		if (!n->types)
			return fail(c, "%s: bad \"type\"", c->t->name);
	}
	if (fill_object(c, n, j))
		return -1;

	if ((v = cJSON_GetObjectItemCaseSensitive(j, "items")) &&
	    !(n->items = parse_node(c, v)))
		return -1;
	if (long_key(j, "minItems", &n->min_items) < 0 ||
	    long_key(j, "maxItems", &n->max_items) < 0 ||
	    long_key(j, "minLength", &n->min_len) < 0 ||
	    long_key(j, "maxLength", &n->max_len) < 0)
		return fail(c, "%s: bad length or item count", c->t->name);
	n->unique_items =
		cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "uniqueItems"));
	n->unordered = cJSON_IsFalse(
		cJSON_GetObjectItemCaseSensitive(j, "insertionOrder"));
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "uniqueKeys")) &&
	    string_list(c, v, &n->unique_keys, &n->nunique_keys))
		return fail(c, "%s: bad \"uniqueKeys\"", c->t->name);

	if ((v = cJSON_GetObjectItemCaseSensitive(j, "pattern"))) {
		if (!cJSON_IsString(v))
			return fail(c, "%s: bad \"pattern\"", c->t->name);
		n->pattern = new_regex(c, v->valuestring);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "format")) &&
	    cJSON_IsString(v)) {
		if (!strcmp(v->valuestring, "ipv4-network"))
			n->format = SF_IPV4_NETWORK;
		else if (!strcmp(v->valuestring, "ipv6-network"))
			n->format = SF_IPV6_NETWORK;
		else if (!strcmp(v->valuestring, "json"))
			n->format = SF_JSON;
		/* "AWS::EC2::VPC.Id" and the like name what a value refers
		 * to; ids of existing resources are legal, so not checked */
	}

	if ((r = number_key(j, "minimum", &d)) < 0)
		return fail(c, "%s: bad \"minimum\"", c->t->name);
	if (r > 0) {
		n->has_min = true;
		n->minimum = d;
	}
	if ((r = number_key(j, "maximum", &d)) < 0)
		return fail(c, "%s: bad \"maximum\"", c->t->name);
	if (r > 0) {
		n->has_max = true;
		n->maximum = d;
	}
	if ((r = number_key(j, "exclusiveMinimum", &d)) < 0)
		return fail(c, "%s: bad \"exclusiveMinimum\"", c->t->name);
	if (r > 0) {
		n->has_excl_min = true;
		n->excl_min = d;
	}
	if ((r = number_key(j, "exclusiveMaximum", &d)) < 0)
		return fail(c, "%s: bad \"exclusiveMaximum\"", c->t->name);
	if (r > 0) {
		n->has_excl_max = true;
		n->excl_max = d;
	}
	if ((r = number_key(j, "multipleOf", &d)) < 0 || (r > 0 && d <= 0))
		return fail(c, "%s: bad \"multipleOf\"", c->t->name);
	if (r > 0)
		n->multiple_of = d;

	if ((v = cJSON_GetObjectItemCaseSensitive(j, "enum"))) {
		size_t i = 0;
		if (!cJSON_IsArray(v))
			return fail(c, "%s: bad \"enum\"", c->t->name);
		n->nenums = (size_t)cJSON_GetArraySize(v);
		n->enums = arena_alloc(c->a, (n->nenums ? n->nenums : 1) *
						     sizeof(*n->enums));
		cJSON_ArrayForEach(it, v) {
			if (literal(c, it, &n->enums[i++]))
				return fail(c, "%s: bad \"enum\"", c->t->name);
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "const"))) {
		n->constv = arena_alloc(c->a, sizeof(*n->constv));
		if (literal(c, v, n->constv))
			return fail(c, "%s: bad \"const\"", c->t->name);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "anyOf")) &&
	    node_array(c, v, &n->any_of, &n->nany_of))
		return fail(c, "%s: bad \"anyOf\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "oneOf")) &&
	    node_array(c, v, &n->one_of, &n->none_of))
		return fail(c, "%s: bad \"oneOf\"", c->t->name);
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "allOf")) &&
	    node_array(c, v, &n->all_of, &n->nall_of))
		return fail(c, "%s: bad \"allOf\"", c->t->name);
	return c->failed ? -1 : 0;
}

static struct snode *resolve_ref(struct pctx *c, const char *ref)
{
	static const char prefix[] = "#/definitions/";
	size_t i;

	if (strncmp(ref, prefix, sizeof(prefix) - 1) != 0) {
		fail(c, "unsupported $ref \"%s\"", ref);
		return NULL;
	}
	ref += sizeof(prefix) - 1;
	for (i = 0; i < c->ndefs; i++) {
		struct defent *d = &c->defs[i];
		if (strcmp(d->name, ref) != 0)
			continue;
		if (!d->filled) {
			d->filled = true; /* before filling: recursion ends */
			if (fill_node(c, d->node, d->json))
				return NULL;
		}
		return d->node;
	}
	fail(c, "dangling $ref to \"%s\"", ref);
	return NULL;
}

static struct snode *parse_node(struct pctx *c, const cJSON *j)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "$ref");
	struct snode *n;

	if (c->failed)
		return NULL;
	if (ref) {
		/* siblings of $ref are ignored (JSON Schema draft 7); in
		 * these schemas they only repeat lengths of object items */
		if (!cJSON_IsString(ref)) {
			fail(c, "%s: bad $ref", c->t->name);
			return NULL;
		}
		return resolve_ref(c, ref->valuestring);
	}
	n = new_node(c);
	return fill_node(c, n, j) ? NULL : n;
}

/* "/properties/A/B" -> "A/B"; NULL when not under /properties. */
static const char *strip_properties(struct pctx *c, const char *p)
{
	static const char prefix[] = "/properties/";

	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0 ||
	    !p[sizeof(prefix) - 1])
		return NULL;
	return arena_strdup(c->a, p + sizeof(prefix) - 1);
}

static int path_list(struct pctx *c, const cJSON *root, const char *key,
		     struct spath_list *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key), *it;

	if (!v)
		return 0;
	if (!cJSON_IsArray(v))
		return fail(c, "bad \"%s\"", key);
	out->items = arena_alloc(c->a, ((size_t)cJSON_GetArraySize(v) + 1) *
					       sizeof(*out->items));
	cJSON_ArrayForEach(it, v) {
		const char *p;
		if (!cJSON_IsString(it))
			return fail(c, "bad \"%s\"", key);
		if ((p = strip_properties(c, it->valuestring)))
			out->items[out->n++] = p;
	}
	return 0;
}

/* Whether path (or an ancestor of it) is in the list. */
static bool path_listed(const struct spath_list *l, const char *path)
{
	size_t i, n;

	for (i = 0; i < l->n; i++) {
		n = strlen(l->items[i]);
		if (!strncmp(l->items[i], path, n) &&
		    (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

struct attr_acc {
	const char **items;
	size_t n, cap;
};

static void attr_add(struct pctx *c, struct attr_acc *acc, const char *name)
{
	size_t i;

	for (i = 0; i < acc->n; i++)
		if (!strcmp(acc->items[i], name))
			return;
	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 32;
		acc->items = arena_realloc(c->a, acc->items,
					   acc->cap * sizeof(*acc->items),
					   cap * sizeof(*acc->items));
		acc->cap = cap;
	}
	acc->items[acc->n++] = arena_strdup(c->a, name);
}

static int cmp_str(const void *x, const void *y)
{
	const char *const *a = x, *const *b = y;

	return strcmp(*a, *b);
}

/*
 * Fn::GetAtt names: every read-only property (nested ones "A.B", none
 * under a list), and every declared top-level property that is not
 * write-only (CloudFormation resolves GetAtt of those from the resource's
 * model).
 */
static void build_attrs(struct pctx *c)
{
	struct schema_type *t = c->t;
	struct attr_acc acc = { NULL, 0, 0 };
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < t->read_only.n; i++) {
		const char *p = t->read_only.items[i];
		char *q;
		if (strchr(p, '*'))
			continue;
		strbuf_reset(&sb);
		strbuf_addstr(&sb, p);
		for (q = sb.buf; *q; q++)
			if (*q == '/')
				*q = '.';
		attr_add(c, &acc, sb.buf);
	}
	for (i = 0; i < t->root->nprops; i++) {
		const char *name = t->root->props[i].name;
		if (!path_listed(&t->write_only, name))
			attr_add(c, &acc, name);
	}
	if (acc.n)
		qsort(acc.items, acc.n, sizeof(*acc.items), cmp_str);
	strbuf_reset(&sb);
	for (i = 0; i < acc.n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", acc.items[i]);
	t->attrs = acc.items;
	t->nattrs = acc.n;
	t->attr_list = arena_strdup(c->a, sb.buf);
	strbuf_release(&sb);
}

static int build_type(struct pctx *c, const cJSON *root)
{
	struct schema_type *t = c->t;
	const cJSON *v, *it;
	size_t i;

	v = cJSON_GetObjectItemCaseSensitive(root, "typeName");
	if (!cJSON_IsString(v))
		return fail(c, "%s", "schema has no \"typeName\"");
	t->name = arena_strdup(c->a, v->valuestring);

	if ((v = cJSON_GetObjectItemCaseSensitive(root, "definitions"))) {
		if (!cJSON_IsObject(v))
			return fail(c, "%s: bad \"definitions\"", t->name);
		c->ndefs = (size_t)cJSON_GetArraySize(v);
		c->defs = xcalloc(c->ndefs ? c->ndefs : 1, sizeof(*c->defs));
		i = 0;
		cJSON_ArrayForEach(it, v) {
			c->defs[i].name = it->string;
			c->defs[i].json = it;
			c->defs[i].node = new_node(c);
			i++;
		}
	}
	t->root = new_node(c);
	if (fill_node(c, t->root, root))
		return -1;
	/* unreferenced definitions are still checked for well-formedness */
	for (i = 0; i < c->ndefs; i++) {
		if (!c->defs[i].filled) {
			c->defs[i].filled = true;
			if (fill_node(c, c->defs[i].node, c->defs[i].json))
				return -1;
		}
	}
	if (path_list(c, root, "createOnlyProperties", &t->create_only) ||
	    path_list(c, root, "conditionalCreateOnlyProperties",
		      &t->cond_create_only) ||
	    path_list(c, root, "writeOnlyProperties", &t->write_only) ||
	    path_list(c, root, "readOnlyProperties", &t->read_only) ||
	    path_list(c, root, "deprecatedProperties", &t->deprecated))
		return -1;
	{
		struct spath_list pid = { NULL, 0 };
		if (path_list(c, root, "primaryIdentifier", &pid))
			return -1;
		t->primary_id = pid.items;
		t->nprimary_id = pid.n;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "tagging");
	if (cJSON_IsObject(v))
		t->taggable = cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(v, "taggable"));
	else
		t->taggable = cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(root, "taggable"));
	for (i = 0; i < t->root->nprops; i++) {
		struct sprop *p = &t->root->props[i];
		size_t k;
		for (k = 0; k < t->read_only.n; k++)
			if (!strcmp(t->read_only.items[k], p->name))
				p->read_only = true;
		for (k = 0; k < t->deprecated.n; k++)
			if (!strcmp(t->deprecated.items[k], p->name))
				p->deprecated = true;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "replacementStrategy");
	t->delete_first = cJSON_IsString(v) &&
			  !strcmp(v->valuestring, "delete_then_create");
	build_attrs(c);
	return 0;
}

void schema_type_free(struct schema_type *t)
{
	if (!t)
		return;
	arena_free(t->arena);
}

struct schema_type *schema_parse_json(const char *json, size_t len,
				      struct err *err)
{
	struct arena *a = arena_new();
	struct pctx c;
	cJSON *root;
	struct schema_type *t = arena_alloc(a, sizeof(*t));

	t->arena = a;
	t->name = "(schema)";
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.a = a;
	c.err = err;
	root = cJSON_ParseWithLength(json, len);
	if (!root) {
		err_set(err, ERR_PARSE, "schema is not valid JSON");
		schema_type_free(t);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		fail(&c, "%s", "schema is not a JSON object");
	} else {
		build_type(&c, root);
	}
	cJSON_Delete(root);
	free(c.defs);
	if (c.failed) {
		schema_type_free(t);
		return NULL;
	}
	return t;
}
