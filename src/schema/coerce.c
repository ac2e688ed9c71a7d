/*
 * Scalars in the JSON types the schema declares, as CloudFormation converts
 * them before a resource handler sees them: template values are often
 * strings ("5", "true": YAML quotes, parameters, Fn::Sub) where the schema
 * wants an integer or a boolean, and Cloud Control validates the desired
 * state strictly against the schema.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A JSON number's text: optional '-', digits, optional fraction and
 * exponent (no hex, inf, nan or leading '+'). */
static bool json_number(const char *s, bool integer)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (integer)
		return !*p;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return !*p;
}

static struct value *keep_flags(struct value *n, const struct value *v)
{
	n->sensitive = v->sensitive;
	n->mark = v->mark;
	return n;
}

static struct value *coerce(const struct snode *n, struct arena *a,
			    const struct value *v, int depth)
{
	unsigned ty = n ? n->types : 0;
	struct value *out;
	size_t i;

	if (!v || depth > 64)
		return (struct value *)v;
	switch (v->kind) {
	case VALUE_MAP:
		out = keep_flags(value_new_map(a), v);
		for (i = 0; i < v->u.map.n; i++) {
			const char *k = v->u.map.items[i].key;
			const struct snode *c = n ? snode_prop(n, k) : NULL;
			if (!c && n)
				c = n->addl;
			value_map_set(a, out, k,
				      coerce(c, a, v->u.map.items[i].val, depth + 1));
		}
		return out;
	case VALUE_LIST:
		out = keep_flags(value_new_list(a), v);
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(a, out,
					coerce(n ? n->items : NULL, a,
					       v->u.list.items[i], depth + 1));
		return out;
	case VALUE_STRING:
		if (!ty || (ty & ST_STRING))
			return (struct value *)v;
		if ((ty & (ST_INTEGER | ST_NUMBER)) &&
		    json_number(v->u.str.s, !(ty & ST_NUMBER)))
			return keep_flags(value_new_number(a, v->u.str.s), v);
		if ((ty & ST_BOOLEAN) && (!strcmp(v->u.str.s, "true") ||
					  !strcmp(v->u.str.s, "false")))
			return keep_flags(value_new_bool(a, v->u.str.s[0] == 't'), v);
		return (struct value *)v;
	case VALUE_NUMBER:
		if (ty && (ty & ST_STRING) && !(ty & (ST_INTEGER | ST_NUMBER)))
			return keep_flags(value_new_string(a, v->u.num.text), v);
		return (struct value *)v;
	case VALUE_BOOL:
		if (ty && (ty & ST_STRING) && !(ty & ST_BOOLEAN))
			return keep_flags(value_new_string(a, v->u.b ? "true" : "false"),
					  v);
		return (struct value *)v;
	default:
		return (struct value *)v;
	}
}

struct value *schema_coerce(const struct schema_type *t, struct arena *a,
			    const struct value *props)
{
	return coerce(t ? t->root : NULL, a, props, 0);
}

bool schema_object_property(const struct schema_type *t, const char *name)
{
	const struct snode *n = t && t->root ? snode_prop(t->root, name) : NULL;

	return n && (n->types & ST_OBJECT) && !(n->types & ST_ARRAY);
}
