/*
 * schema_coerce: evaluated property values converted to the types the
 * resource schema declares, the way CloudFormation converts them before a
 * resource handler sees them.
 *
 * CloudFormation reads every template scalar as text and hands the
 * handler the type the registry schema asks for: `Value: 10` under a
 * property of type string arrives as "10", `Cpu: "256"` under an integer
 * arrives as 256, "true" under a boolean as true. It does so at any depth
 * (a list of objects, a definition reached through $ref). A property with
 * no declared type, or an object without declared properties (the Json
 * type: PolicyDocument, AssumeRolePolicyDocument, DockerLabels' values are
 * the exception, they are declared strings) is passed through as written.
 *
 * cairn converts once, right after evaluation (src/template/eval.c), so
 * validation, the plan, the state, drift and the providers all see the
 * same value and a template's 10 never differs from AWS's "10". A value
 * that cannot be converted ("abc" where an integer is declared) is left
 * as it is: schema_validate() reports it at its file:line:col.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* Deeper than any template the loader accepts (64 levels). */
#define MAX_DEPTH 128

static bool parse_number(const char *s, double *d)
{
	const char *p;
	char *end;

	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	/* strtod would also take hex, "inf" and "nan", which AWS does not */
	for (p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	*d = strtod(s, &end);
	return end != s && *end == '\0' && isfinite(*d);
}

/* Whether s is a number as JSON writes one (so its text can be kept). */
static bool json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static struct value *with_origin(struct value *nv, const struct value *v)
{
	nv->mark = v->mark;
	nv->sensitive = v->sensitive;
	nv->dynref = v->dynref;
	return nv;
}

/* A scalar converted for a node that declares `types` (non-zero). */
static struct value *scalar(struct arena *a, unsigned types, struct value *v)
{
	double d;

	switch (v->kind) {
	case VALUE_NUMBER:
		/* 5432.0 or 1e3 for an integer: AWS wants "5432", "1000" */
		if ((types & ST_INTEGER) && !(types & ST_NUMBER) &&
		    v->u.num.d == floor(v->u.num.d) && fabs(v->u.num.d) < 1e15 &&
		    strspn(v->u.num.text + (v->u.num.text[0] == '-'),
			   "0123456789") !=
			    strlen(v->u.num.text + (v->u.num.text[0] == '-')))
			return with_origin(value_new_number_d(a, v->u.num.d), v);
		if (types & (ST_NUMBER | ST_INTEGER))
			return v; /* 1.5 for an integer: validation says so */
		if (types & ST_STRING)
			return with_origin(value_new_string(a, v->u.num.text), v);
		return v;
	case VALUE_BOOL:
		if (types & ST_BOOLEAN)
			return v;
		if (types & ST_STRING)
			return with_origin(value_new_string(a, v->u.b ? "true"
								      : "false"),
					   v);
		return v;
	case VALUE_STRING:
		if (types & ST_STRING)
			return v;
		if ((types & (ST_NUMBER | ST_INTEGER)) &&
		    parse_number(v->u.str.s, &d) &&
		    ((types & ST_NUMBER) || d == floor(d))) {
			/* "+5", "010", "5." are numbers to CloudFormation
			 * but not JSON: those are written out again */
			if (json_number(v->u.str.s))
				return with_origin(value_new_number(a, v->u.str.s),
						   v);
			return with_origin(value_new_number_d(a, d), v);
		}
		if ((types & ST_BOOLEAN) && !strcasecmp(v->u.str.s, "true"))
			return with_origin(value_new_bool(a, true), v);
		if ((types & ST_BOOLEAN) && !strcasecmp(v->u.str.s, "false"))
			return with_origin(value_new_bool(a, false), v);
		return v;
	default:
		return v;
	}
}

/* The node a map's key is checked against, looking through allOf/anyOf/
 * oneOf alternatives that declare properties; NULL when none declares it. */
static const struct snode *child_of(const struct snode *n, const char *key,
				    int depth)
{
	const struct snode *c = snode_prop(n, key);
	size_t i;

	if (c)
		return c;
	for (i = 0; i < n->npprops; i++)
		if (schema_regex_match(n->pprops[i].re, key))
			return n->pprops[i].node;
	if (n->addl)
		return n->addl;
	if (depth > 4)
		return NULL;
	for (i = 0; i < n->nall_of; i++)
		if ((c = child_of(n->all_of[i], key, depth + 1)))
			return c;
	for (i = 0; i < n->none_of; i++)
		if ((c = child_of(n->one_of[i], key, depth + 1)))
			return c;
	for (i = 0; i < n->nany_of; i++)
		if ((c = child_of(n->any_of[i], key, depth + 1)))
			return c;
	return NULL;
}

static struct value *conv(struct arena *a, const struct snode *n,
			  struct value *v, int depth)
{
	struct value *nv = NULL;
	size_t i;

	if (!v || !n || depth >= MAX_DEPTH)
		return v;
	switch (v->kind) {
	case VALUE_STRING:
	case VALUE_NUMBER:
	case VALUE_BOOL:
		return n->types ? scalar(a, n->types, v) : v;
	case VALUE_LIST:
		if (!n->items)
			return v;
		for (i = 0; i < v->u.list.n; i++) {
			struct value *it = v->u.list.items[i];
			struct value *c = conv(a, n->items, it, depth + 1);
			if (c == it)
				continue;
			if (!nv) { /* copy on first change: v may be shared */
				nv = arena_alloc(a, sizeof(*nv));
				*nv = *v;
				nv->u.list.items = arena_alloc(
					a, (v->u.list.n + 1) * sizeof(*nv->u.list.items));
				memcpy(nv->u.list.items, v->u.list.items,
				       v->u.list.n * sizeof(*nv->u.list.items));
				nv->u.list.cap = v->u.list.n + 1;
			}
			nv->u.list.items[i] = c;
		}
		return nv ? nv : v;
	case VALUE_MAP:
		for (i = 0; i < v->u.map.n; i++) {
			const struct value_pair *p = &v->u.map.items[i];
			const struct snode *cn = child_of(n, p->key, 0);
			struct value *c = cn ? conv(a, cn, p->val, depth + 1)
					     : p->val;
			if (c == p->val)
				continue;
			if (!nv) {
				nv = arena_alloc(a, sizeof(*nv));
				*nv = *v;
				nv->u.map.items = arena_alloc(
					a, (v->u.map.n + 1) * sizeof(*nv->u.map.items));
				memcpy(nv->u.map.items, v->u.map.items,
				       v->u.map.n * sizeof(*nv->u.map.items));
				nv->u.map.cap = v->u.map.n + 1;
			}
			nv->u.map.items[i].val = c;
		}
		return nv ? nv : v;
	default:
		return v;
	}
}

/*
 * ECS task sizes with a unit: the TaskDefinition's Cpu may be "1 vCPU"
 * (any case, space optional) and its Memory "1 GB" / "1gb" (the
 * CloudFormation and ECS references say so); ECS registers them as CPU
 * units and MiB ("1024") and answers with those, so a template keeping the
 * unit would differ from AWS on every plan. They are written the way ECS
 * stores them; other values are left alone.
 */
static struct value *task_size(struct arena *a, struct value *v,
			       const char *unit)
{
	const char *s = v && v->kind == VALUE_STRING ? v->u.str.s : NULL;
	char *end;
	double d;
	size_t ulen = strlen(unit);

	if (!s || v->sensitive)
		return v;
	d = strtod(s, &end);
	if (end == s || !isfinite(d) || d <= 0)
		return v;
	while (*end == ' ')
		end++;
	if (strncasecmp(end, unit, ulen) || end[ulen] != '\0')
		return v;
	d *= 1024;
	if (d != floor(d))
		return v;
	return with_origin(value_new_string(a, value_new_number_d(a, d)->u.num.text),
			   v);
}

static struct value *ecs_task_sizes(struct arena *a, struct value *props)
{
	static const struct {
		const char *key, *unit;
	} sizes[] = { { "Cpu", "vcpu" }, { "Memory", "gb" } };
	struct value *out = props;
	size_t i, k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (i = 0; i < out->u.map.n; i++) {
			struct value *v = out->u.map.items[i].val, *nv;
			if (strcmp(out->u.map.items[i].key, sizes[k].key))
				continue;
			nv = task_size(a, v, sizes[k].unit);
			if (nv == v)
				continue;
			if (out == props) {
				out = arena_alloc(a, sizeof(*out));
				*out = *props;
				out->u.map.items = arena_alloc(
					a, (props->u.map.n + 1) *
						   sizeof(*out->u.map.items));
				memcpy(out->u.map.items, props->u.map.items,
				       props->u.map.n * sizeof(*out->u.map.items));
				out->u.map.cap = props->u.map.n + 1;
			}
			out->u.map.items[i].val = nv;
		}
	}
	return out;
}

struct value *schema_coerce(const struct schema_type *t, struct arena *a,
			    struct value *props)
{
	if (!t || !props || props->kind != VALUE_MAP)
		return props;
	props = conv(a, t->root, props, 0);
	if (!strcmp(t->name, "AWS::ECS::TaskDefinition"))
		props = ecs_task_sizes(a, props);
	return props;
}
