/*
 * Fn::ForEach, the loop of the AWS::LanguageExtensions transform.
 *
 *   Fn::ForEach::LoopName: [Identifier, Collection, {OutputKey: OutputValue}]
 *
 * stands, as a key of a map in the Resources, Conditions or Outputs section
 * (at any depth, so also inside resource properties), for one copy of the
 * {OutputKey: OutputValue} fragment per item of the collection. In each copy
 * "${Identifier}" in keys and strings becomes the item, "&{Identifier}"
 * becomes the item with every character other than A-Z, a-z and 0-9
 * dropped (so "10.0.0.1" can be part of a logical id), and {Ref: Identifier}
 * becomes the item. The collection is a list, or a Ref to a
 * CommaDelimitedList (or List<...>) parameter. Loops nest up to five deep;
 * an inner loop sees the outer identifiers already replaced.
 *
 * CloudFormation runs the transform before anything else reads the
 * template, with the parameter values of the operation; so does cairn: the
 * loops are expanded on the parsed tree, before its sections are checked,
 * with the values given on the command line (or the parameter's Default).
 * The expanded copies keep the marks of the fragment they came from, so an
 * error in a copy points at the line of the loop body.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

#define FOREACH_PREFIX "Fn::ForEach::"
#define FOREACH_MAX_DEPTH 5

struct fe {
	struct arena *a;
	const struct value *root;
	const struct value *params, *env_params;
	struct diag_list *dl;
	const char **loops; /* loop names seen, for the uniqueness rule */
	size_t nloops, loops_cap;
	bool failed;
};

struct subst {
	const char *id;
	const char *item;
	const char *alnum; /* item without non-alphanumerics */
};

static void ferr(struct fe *f, const struct mark *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ferr(struct fe *f, const struct mark *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (f->dl->errors < TEMPLATE_MAX_ERRORS)
		diag_add(f->dl, DIAG_ERROR, m, NULL, NULL, "%s", buf);
	f->failed = true;
}

/* s with every "${id}" and "&{id}" replaced; s itself when neither occurs. */
static const char *subst_str(struct arena *a, const char *s,
			     const struct subst *sb, bool *hit)
{
	size_t idlen = strlen(sb->id);
	struct strbuf out = STRBUF_INIT;
	const char *p = s, *q;
	const char *r;

	for (q = s; *q; q++) {
		if ((q[0] == '$' || q[0] == '&') && q[1] == '{' &&
		    !strncmp(q + 2, sb->id, idlen) && q[2 + idlen] == '}') {
			strbuf_add(&out, p, (size_t)(q - p));
			strbuf_addstr(&out, q[0] == '$' ? sb->item : sb->alnum);
			q += 2 + idlen;
			p = q + 1;
			if (hit)
				*hit = true;
		}
	}
	if (p == s) {
		strbuf_release(&out);
		return s;
	}
	strbuf_addstr(&out, p);
	r = arena_strndup(a, out.buf, out.len);
	strbuf_release(&out);
	return r;
}

/* A deep copy of v with sb applied to strings, keys and {Ref: id}. */
static struct value *subst_copy(struct fe *f, const struct value *v,
				const struct subst *sb)
{
	struct value *c;
	size_t i;

	switch (v->kind) {
	case VALUE_STRING: {
		const char *s = subst_str(f->a, v->u.str.s, sb, NULL);
		if (s == v->u.str.s)
			return (struct value *)v;
		c = value_new_string(f->a, s);
		c->mark = v->mark;
		c->sensitive = v->sensitive;
		return c;
	}
	case VALUE_LIST:
		c = value_new_list(f->a);
		c->mark = v->mark;
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(f->a, c,
					subst_copy(f, v->u.list.items[i], sb));
		return c;
	case VALUE_MAP:
		if (v->u.map.n == 1 && !strcmp(v->u.map.items[0].key, "Ref") &&
		    value_str(v->u.map.items[0].val) &&
		    !strcmp(value_str(v->u.map.items[0].val), sb->id)) {
			c = value_new_string(f->a, sb->item);
			c->mark = v->mark;
			return c;
		}
		c = value_new_map(f->a);
		c->mark = v->mark;
		c->u.map.items = arena_alloc(f->a, (v->u.map.n + 1) *
						   sizeof(*c->u.map.items));
		c->u.map.cap = v->u.map.n + 1;
		for (i = 0; i < v->u.map.n; i++) {
			struct value_pair *d = &c->u.map.items[c->u.map.n++];
			d->key = subst_str(f->a, v->u.map.items[i].key, sb, NULL);
			d->key_mark = v->u.map.items[i].key_mark;
			d->val = subst_copy(f, v->u.map.items[i].val, sb);
		}
		return c;
	default:
		return (struct value *)v;
	}
}

/* The collection as a list of scalars, or NULL (error reported). */
static const struct value *collection(struct fe *f, const struct value *c)
{
	const struct value *decl, *given = NULL;
	const char *name, *type;
	struct value *out;

	if (c->kind == VALUE_LIST) {
		size_t i;
		for (i = 0; i < c->u.list.n; i++)
			if (!tmpl_scalar_text(c->u.list.items[i])) {
				ferr(f, &c->u.list.items[i]->mark,
				     "Fn::ForEach: collection items must be "
				     "strings, not a %s",
				     value_kind_name(c->u.list.items[i]->kind));
				return NULL;
			}
		return c;
	}
	name = c->kind == VALUE_MAP && c->u.map.n == 1
		       ? value_str(value_map_get(c, "Ref"))
		       : NULL;
	if (!name) {
		ferr(f, &c->mark, "Fn::ForEach: the collection must be a list "
				  "or a Ref to a CommaDelimitedList parameter");
		return NULL;
	}
	decl = value_map_get(value_map_get(f->root, "Parameters"), name);
	type = value_str(value_map_get(decl, "Type"));
	if (!decl || !type ||
	    (strcmp(type, "CommaDelimitedList") && strncmp(type, "List<", 5))) {
		ferr(f, &c->mark, "Fn::ForEach: the collection Ref \"%s\" must "
				  "name a CommaDelimitedList or List<...> "
				  "parameter", name);
		return NULL;
	}
	if (f->params)
		given = value_map_get(f->params, name);
	if (!given && f->env_params)
		given = value_map_get(f->env_params, name);
	if (!given)
		given = value_map_get(decl, "Default");
	if (!given) {
		ferr(f, &c->mark, "Fn::ForEach: parameter \"%s\" has no value "
				  "(give it with --param %s=a,b or a Default)",
		     name, name);
		return NULL;
	}
	if (given->kind == VALUE_LIST)
		return collection(f, given);
	if (!tmpl_scalar_text(given)) {
		ferr(f, &given->mark, "Fn::ForEach: parameter \"%s\" must be a "
				      "comma-delimited list", name);
		return NULL;
	}
	out = value_new_list(f->a);
	out->mark = given->mark;
	tmpl_split_list(f->a, tmpl_scalar_text(given), &given->mark, out);
	return out;
}

static bool note_loop(struct fe *f, const char *name, const struct mark *m)
{
	const struct value *res = value_map_get(f->root, "Resources");
	size_t i;

	if (!*name || !tmpl_valid_name(name)) {
		ferr(f, m, "Fn::ForEach: the loop name \"%s\" must be "
			   "alphanumeric", name);
		return false;
	}
	for (i = 0; i < f->nloops; i++)
		if (!strcmp(f->loops[i], name)) {
			ferr(f, m, "Fn::ForEach: loop name \"%s\" is used "
				   "twice", name);
			return false;
		}
	if (value_map_get(res, name)) {
		ferr(f, m, "Fn::ForEach: loop name \"%s\" is also a resource's "
			   "logical id", name);
		return false;
	}
	if (f->nloops == f->loops_cap) {
		f->loops_cap = f->loops_cap ? 2 * f->loops_cap : 8;
		f->loops = xrealloc(f->loops, f->loops_cap * sizeof(*f->loops));
	}
	f->loops[f->nloops++] = name;
	return true;
}

/* Every loop name of the template as written, before any copy is made. */
static void note_loops(struct fe *f, const struct value *v)
{
	size_t i;

	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			note_loops(f, v->u.list.items[i]);
		return;
	}
	if (v->kind != VALUE_MAP)
		return;
	for (i = 0; i < v->u.map.n && !f->failed; i++) {
		const struct value_pair *p = &v->u.map.items[i];

		if (!strncmp(p->key, FOREACH_PREFIX, strlen(FOREACH_PREFIX)))
			note_loop(f, p->key + strlen(FOREACH_PREFIX),
				  &p->key_mark);
		note_loops(f, p->val);
	}
}

struct pairs {
	struct value_pair *items;
	size_t n, cap;
};

static void pairs_push(struct fe *f, struct pairs *ps, const char *key,
		       const struct mark *km, struct value *val)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 8;
		struct value_pair *n = arena_alloc(f->a, cap * sizeof(*n));
		if (ps->n)
			memcpy(n, ps->items, ps->n * sizeof(*n));
		ps->items = n;
		ps->cap = cap;
	}
	ps->items[ps->n].key = key;
	ps->items[ps->n].key_mark = *km;
	ps->items[ps->n].val = val;
	ps->n++;
}

static void expand_value(struct fe *f, struct value *v, int depth);

/* Appends the pairs the loop stands for to ps. */
static void expand_loop(struct fe *f, const struct value_pair *lp, int depth,
			struct pairs *ps)
{
	const struct value *arg = lp->val, *coll, *body;
	const char *id;
	size_t i, j;

	if (depth >= FOREACH_MAX_DEPTH) {
		ferr(f, &lp->key_mark, "Fn::ForEach: loops nest at most %d "
				       "deep", FOREACH_MAX_DEPTH);
		return;
	}
	if (arg->kind != VALUE_LIST || arg->u.list.n != 3) {
		ferr(f, &arg->mark, "%s needs [Identifier, Collection, "
				    "{OutputKey: OutputValue}]", lp->key);
		return;
	}
	id = value_str(arg->u.list.items[0]);
	if (!id || !*id || !tmpl_valid_name(id)) {
		ferr(f, &arg->u.list.items[0]->mark,
		     "Fn::ForEach: the identifier must be an alphanumeric "
		     "string");
		return;
	}
	body = arg->u.list.items[2];
	if (body->kind != VALUE_MAP || !body->u.map.n) {
		ferr(f, &body->mark, "Fn::ForEach: the third element must be "
				     "a map {OutputKey: OutputValue}");
		return;
	}
	for (j = 0; j < body->u.map.n; j++) {
		const struct value_pair *bp = &body->u.map.items[j];
		struct subst probe = { id, "", "" };
		bool hit = false;

		if (!strncmp(bp->key, FOREACH_PREFIX, strlen(FOREACH_PREFIX)))
			continue;
		subst_str(f->a, bp->key, &probe, &hit);
		if (!hit) {
			ferr(f, &bp->key_mark, "Fn::ForEach: the key \"%s\" "
					       "must contain ${%s} or &{%s}, "
					       "or every copy has the same key",
			     bp->key, id, id);
			return;
		}
	}
	coll = collection(f, arg->u.list.items[1]);
	if (!coll)
		return;
	for (i = 0; i < coll->u.list.n; i++) {
		struct subst sb;
		struct value *copy;
		char *alnum;
		size_t k, w = 0;

		sb.id = id;
		sb.item = tmpl_scalar_text(coll->u.list.items[i]);
		alnum = arena_strdup(f->a, sb.item);
		for (k = 0; alnum[k]; k++)
			if (isalnum((unsigned char)alnum[k]))
				alnum[w++] = alnum[k];
		alnum[w] = '\0';
		sb.alnum = alnum;
		copy = subst_copy(f, body, &sb);
		for (j = 0; j < copy->u.map.n; j++) {
			struct value_pair *cp = &copy->u.map.items[j];

			if (!strncmp(cp->key, FOREACH_PREFIX,
				     strlen(FOREACH_PREFIX))) {
				expand_loop(f, cp, depth + 1, ps);
				continue;
			}
			expand_value(f, cp->val, depth + 1);
			pairs_push(f, ps, cp->key, &cp->key_mark, cp->val);
		}
	}
}

static int cmp_pair_key(const void *x, const void *y)
{
	const struct value_pair *const *a = x, *const *b = y;
	int c = strcmp((*a)->key, (*b)->key);

	if (c)
		return c;
	return (*a)->key_mark.line != (*b)->key_mark.line
		       ? ((*a)->key_mark.line < (*b)->key_mark.line ? -1 : 1)
		       : ((*a)->key_mark.col < (*b)->key_mark.col ? -1 : 1);
}

/* Two copies (or a copy and a written key) with the same key. */
static void check_dups(struct fe *f, const struct pairs *ps)
{
	const struct value_pair **v;
	size_t i;

	if (ps->n < 2)
		return;
	v = xmalloc(ps->n * sizeof(*v));
	for (i = 0; i < ps->n; i++)
		v[i] = &ps->items[i];
	qsort(v, ps->n, sizeof(*v), cmp_pair_key);
	for (i = 1; i < ps->n; i++)
		if (!strcmp(v[i]->key, v[i - 1]->key)) {
			ferr(f, &v[i]->key_mark, "Fn::ForEach makes the key "
						 "\"%s\" twice (also from "
						 "line %u)",
			     v[i]->key, v[i - 1]->key_mark.line);
			break;
		}
	free(v);
}

static void expand_value(struct fe *f, struct value *v, int depth)
{
	size_t i;
	bool any = false;
	struct pairs ps = { NULL, 0, 0 };

	if (f->failed)
		return;
	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			expand_value(f, v->u.list.items[i], depth);
		return;
	}
	if (v->kind != VALUE_MAP)
		return;
	for (i = 0; i < v->u.map.n && !any; i++)
		any = !strncmp(v->u.map.items[i].key, FOREACH_PREFIX,
			       strlen(FOREACH_PREFIX));
	if (!any) {
		for (i = 0; i < v->u.map.n; i++)
			expand_value(f, v->u.map.items[i].val, depth);
		return;
	}
	for (i = 0; i < v->u.map.n; i++) {
		struct value_pair *p = &v->u.map.items[i];

		if (!strncmp(p->key, FOREACH_PREFIX, strlen(FOREACH_PREFIX))) {
			expand_loop(f, p, depth, &ps);
			continue;
		}
		expand_value(f, p->val, depth);
		pairs_push(f, &ps, p->key, &p->key_mark, p->val);
	}
	if (f->failed)
		return;
	check_dups(f, &ps);
	v->u.map.items = ps.items;
	v->u.map.n = ps.n;
	v->u.map.cap = ps.cap;
}

/* Reports a loop key in a section the transform does not expand. */
static void refuse_in(struct fe *f, const struct value *v, const char *sec)
{
	size_t i;

	if (f->failed)
		return;
	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			refuse_in(f, v->u.list.items[i], sec);
		return;
	}
	if (v->kind != VALUE_MAP)
		return;
	for (i = 0; i < v->u.map.n && !f->failed; i++) {
		if (!strncmp(v->u.map.items[i].key, FOREACH_PREFIX,
			     strlen(FOREACH_PREFIX)))
			ferr(f, &v->u.map.items[i].key_mark,
			     "Fn::ForEach cannot be used in %s (only in "
			     "Resources, Conditions and Outputs)", sec);
		refuse_in(f, v->u.map.items[i].val, sec);
	}
}

int tmpl_expand_foreach(struct arena *a, struct value *root,
			const struct value *params,
			const struct value *env_params, struct diag_list *dl)
{
	static const char *const where[] = { "Conditions", "Resources",
					     "Outputs" };
	struct fe f;
	size_t i, j;

	if (root->kind != VALUE_MAP)
		return 0;
	memset(&f, 0, sizeof(f));
	f.a = a;
	f.root = root;
	f.params = params;
	f.env_params = env_params;
	f.dl = dl;
	note_loops(&f, root);
	for (i = 0; i < root->u.map.n && !f.failed; i++) {
		const struct value_pair *p = &root->u.map.items[i];
		bool expand = false;

		for (j = 0; j < sizeof(where) / sizeof(where[0]); j++)
			expand |= !strcmp(p->key, where[j]);
		if (expand)
			expand_value(&f, p->val, 0);
		else
			refuse_in(&f, p->val, p->key);
	}
	free(f.loops);
	return f.failed ? -1 : 0;
}
