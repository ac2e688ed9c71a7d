/*
 * The diff engine: desired properties against recorded ones.
 *
 * One recursive walk does both jobs: with `record` set it appends changes,
 * without it it only answers "do these differ?" (used to match set
 * elements), so equality and the reported changes can never disagree.
 * Two paths are built side by side: the one users read ("Tags[2].Value")
 * and the schema's form (steps "Tags", "*", "Value" joined by '/') for
 * the create-only, read-only and insertionOrder lookups.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/plan.h"

struct dctx {
	struct arena *a;
	const struct plan_diff_opts *opts;
	struct plan_changes *out;
	struct strbuf path;   /* display form */
	struct strbuf spath;  /* schema form */
	int record;           /* append changes, or only decide */
	int in_sensitive;     /* under a desired node with the sensitive bit */
	size_t added;
};

/* Two spellings: the stored JSON form {"$secret": fp}, and the one
 * state_resource_get() returns, a sensitive string holding the fingerprint. */
const char *plan_secret_fingerprint(const struct value *v)
{
	if (!v)
		return NULL;
	if (v->kind == VALUE_STRING && v->sensitive &&
	    !strncmp(v->u.str.s, "hmac-sha256:", 12))
		return v->u.str.s;
	if (v->kind != VALUE_MAP || v->u.map.n != 1 ||
	    strcmp(v->u.map.items[0].key, "$secret"))
		return NULL;
	return value_str(v->u.map.items[0].val);
}

static int absent(const struct value *v)
{
	return !v || v->kind == VALUE_NULL;
}

static int has_secret(const struct value *v)
{
	size_t i;

	if (!v)
		return 0;
	if (plan_secret_fingerprint(v))
		return 1;
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			if (has_secret(v->u.list.items[i]))
				return 1;
	if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			if (has_secret(v->u.map.items[i].val))
				return 1;
	return 0;
}

/* A string CloudFormation would accept as a number: decimal, the whole
 * string ("-1.5e3" yes; " 7", "0x7", "inf" no, though strtod takes them). */
static int str_as_number(const struct value *s, double *d)
{
	const char *p = s->u.str.s;
	char *end;
	int digits = 0;

	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (p != s->u.str.s + s->u.str.len)
		return 0;
	*d = strtod(s->u.str.s, &end);
	return end == p;
}

static int str_as_bool(const struct value *s, int *b)
{
	if (!strcasecmp(s->u.str.s, "true"))
		*b = 1;
	else if (!strcasecmp(s->u.str.s, "false"))
		*b = 0;
	else
		return 0;
	return 1;
}

static int scalar_equal(const struct value *x, const struct value *y)
{
	double d;
	int b;

	if (x->kind == y->kind) {
		switch (x->kind) {
		case VALUE_BOOL:
			return x->u.b == y->u.b;
		case VALUE_NUMBER:
			return x->u.num.d == y->u.num.d;
		case VALUE_STRING:
			return x->u.str.len == y->u.str.len &&
			       !memcmp(x->u.str.s, y->u.str.s, x->u.str.len);
		default:
			return 0;
		}
	}
	if (y->kind == VALUE_STRING) {
		const struct value *t = x;
		x = y;
		y = t;
	}
	/* x is the string now, if either is */
	if (x->kind != VALUE_STRING)
		return 0;
	if (y->kind == VALUE_NUMBER)
		return str_as_number(x, &d) && d == y->u.num.d;
	if (y->kind == VALUE_BOOL)
		return str_as_bool(x, &b) && b == (int)y->u.b;
	return 0;
}

static int is_scalar(const struct value *v)
{
	return v->kind == VALUE_BOOL || v->kind == VALUE_NUMBER ||
	       v->kind == VALUE_STRING;
}

static void emit(struct dctx *c, enum plan_change_kind kind,
		 const struct value *before, const struct value *after)
{
	struct plan_change *ch;
	const struct schema_type *t = c->opts ? c->opts->schema : NULL;

	c->added++;
	if (!c->record)
		return;
	if (c->out->n == c->out->cap) {
		size_t cap = c->out->cap ? c->out->cap * 2 : 8;
		c->out->items = arena_realloc(c->a, c->out->items,
					      c->out->cap * sizeof(*ch),
					      cap * sizeof(*ch));
		c->out->cap = cap;
	}
	ch = &c->out->items[c->out->n++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->path = arena_strndup(c->a, c->path.buf, c->path.len);
	ch->before = before;
	ch->after = after;
	ch->unknown = value_has_unknown(after);
	ch->sensitive = c->in_sensitive || value_has_sensitive(after) ||
			value_has_sensitive(before) || has_secret(before);
	ch->forces = t && c->spath.len ? schema_create_only(t, c->spath.buf)
				       : NULL;
}

static int ident_key(const char *k)
{
	const char *p;

	if (!*k)
		return 0;
	for (p = k; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' &&
		    *p != ':' && *p != '$' && *p != '@' && *p != '/')
			return 0;
	return 1;
}

static void push_key(struct dctx *c, const char *k)
{
	if (ident_key(k)) {
		if (c->path.len)
			strbuf_addch(&c->path, '.');
		strbuf_addstr(&c->path, k);
	} else {
		strbuf_addch(&c->path, '[');
		strbuf_add_json_str(&c->path, k, strlen(k));
		strbuf_addch(&c->path, ']');
	}
	if (c->spath.len)
		strbuf_addch(&c->spath, '/');
	strbuf_addstr(&c->spath, k);
}

static void push_index(struct dctx *c, size_t i)
{
	strbuf_addf(&c->path, "[%zu]", i);
	if (c->spath.len)
		strbuf_addch(&c->spath, '/');
	strbuf_addch(&c->spath, '*');
}

static int diff_rec(struct dctx *c, const struct value *d,
		    const struct value *r);

static int diff_child(struct dctx *c, const struct value *d,
		      const struct value *r, const char *key, size_t idx)
{
	size_t pl = c->path.len, sl = c->spath.len;
	int differs;

	if (key)
		push_key(c, key);
	else
		push_index(c, idx);
	differs = diff_rec(c, d, r);
	strbuf_setlen(&c->path, pl);
	strbuf_setlen(&c->spath, sl);
	return differs;
}

/* Does d differ from r at the current path? Never records. */
static int differs_quietly(struct dctx *c, const struct value *d,
			   const struct value *r, size_t idx)
{
	int saved = c->record, differs;
	size_t added = c->added;

	c->record = 0;
	differs = diff_child(c, d, r, NULL, idx);
	c->record = saved;
	c->added = added;
	return differs;
}

static int map_has(const struct value *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->u.map.n; i++)
		if (!strcmp(m->u.map.items[i].key, key))
			return 1;
	return 0;
}

static int diff_map(struct dctx *c, const struct value *d,
		    const struct value *r)
{
	size_t i;
	int differs = 0;

	for (i = 0; i < d->u.map.n; i++) {
		const struct value_pair *kv = &d->u.map.items[i];
		if (diff_child(c, kv->val, value_map_get(r, kv->key), kv->key,
			       0)) {
			differs = 1;
			if (!c->record)
				return 1;
		}
	}
	for (i = 0; i < r->u.map.n; i++) {
		const struct value_pair *kv = &r->u.map.items[i];
		if (map_has(d, kv->key) || absent(kv->val))
			continue;
		if (diff_child(c, NULL, kv->val, kv->key, 0)) {
			differs = 1;
			if (!c->record)
				return 1;
		}
	}
	return differs;
}

static int diff_list(struct dctx *c, const struct value *d,
		     const struct value *r)
{
	size_t i, nd = d->u.list.n, nr = r->u.list.n;
	int differs = 0;

	for (i = 0; i < nd || i < nr; i++) {
		const struct value *x = i < nd ? d->u.list.items[i] : NULL;
		const struct value *y = i < nr ? r->u.list.items[i] : NULL;
		if (diff_child(c, x, y, NULL, i)) {
			differs = 1;
			if (!c->record)
				return 1;
		}
	}
	return differs;
}

/* The field that names a set element, if the two share one: Tags by Key,
 * container definitions or port mappings by Name, block device mappings by
 * DeviceName. */
static int same_identity(const struct value *x, const struct value *y)
{
	static const char *const fields[] = { "Key", "Name", "PolicyName",
						 "Sid", "DeviceName" };
	size_t i;

	if (!x || !y || x->kind != VALUE_MAP || y->kind != VALUE_MAP)
		return 0;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *a = value_str(value_map_get(x, fields[i]));
		const char *b = value_str(value_map_get(y, fields[i]));
		if (a && b)
			return !strcmp(a, b);
	}
	return 0;
}

static int diff_set(struct dctx *c, const struct value *d,
		    const struct value *r)
{
	size_t i, j, nd = d->u.list.n, nr = r->u.list.n;
	unsigned char *dm, *rm;
	int differs = 0;

	dm = arena_alloc(c->a, nd + 1);
	rm = arena_alloc(c->a, nr + 1);
	for (i = 0; i < nd; i++) {
		for (j = 0; j < nr; j++) {
			if (rm[j])
				continue;
			if (!differs_quietly(c, d->u.list.items[i],
					     r->u.list.items[j], i)) {
				dm[i] = rm[j] = 1;
				break;
			}
		}
		if (!dm[i]) {
			differs = 1;
			if (!c->record)
				return 1;
		}
	}
	for (j = 0; j < nr; j++)
		if (!rm[j])
			differs = 1;
	if (!differs || !c->record)
		return differs;
	/* Elements that changed but kept their name: show the fields. */
	for (i = 0; i < nd; i++) {
		if (dm[i])
			continue;
		for (j = 0; j < nr; j++) {
			if (!rm[j] && same_identity(d->u.list.items[i],
						    r->u.list.items[j])) {
				diff_child(c, d->u.list.items[i],
					   r->u.list.items[j], NULL, i);
				dm[i] = rm[j] = 1;
				break;
			}
		}
	}
	for (j = 0; j < nr; j++)
		if (!rm[j])
			diff_child(c, NULL, r->u.list.items[j], NULL, j);
	for (i = 0; i < nd; i++)
		if (!dm[i])
			diff_child(c, d->u.list.items[i], NULL, NULL, i);
	return 1;
}

static int diff_rec(struct dctx *c, const struct value *d,
		    const struct value *r)
{
	const struct schema_type *t = c->opts ? c->opts->schema : NULL;
	const char *fp;
	int saved_sens = c->in_sensitive, differs;

	if (absent(d) && absent(r))
		return 0;
	if (t && c->spath.len && schema_read_only(t, c->spath.buf))
		return 0;

	fp = plan_secret_fingerprint(r);
	if (fp) {
		int same = 0;
		if (absent(d)) {
			emit(c, PLAN_CHANGE_REMOVE, r, NULL);
			return 1;
		}
		if (d->kind != VALUE_UNKNOWN && c->opts && c->opts->secret_match)
			same = c->opts->secret_match(c->opts->secret_ud, d, fp);
		if (same)
			return 0;
		c->in_sensitive = 1;
		emit(c, PLAN_CHANGE_UPDATE, r, d);
		c->in_sensitive = saved_sens;
		return 1;
	}
	if (d && d->kind == VALUE_UNKNOWN) {
		if (r && r->kind == VALUE_UNKNOWN)
			return 0;
		emit(c, absent(r) ? PLAN_CHANGE_ADD : PLAN_CHANGE_UPDATE,
		     absent(r) ? NULL : r, d);
		return 1;
	}
	if (absent(r)) {
		emit(c, PLAN_CHANGE_ADD, NULL, d);
		return 1;
	}
	if (absent(d)) {
		emit(c, PLAN_CHANGE_REMOVE, r, NULL);
		return 1;
	}
	if (d->sensitive)
		c->in_sensitive = 1;
	if (d->kind == VALUE_MAP && r->kind == VALUE_MAP) {
		differs = diff_map(c, d, r);
	} else if (d->kind == VALUE_LIST && r->kind == VALUE_LIST) {
		if (t && c->spath.len && schema_unordered(t, c->spath.buf))
			differs = diff_set(c, d, r);
		else
			differs = diff_list(c, d, r);
	} else if (is_scalar(d) && is_scalar(r) && scalar_equal(d, r)) {
		differs = 0;
	} else {
		/* different scalars, or different kinds (a list became a
		 * map, a recorded unknown got known...) */
		emit(c, PLAN_CHANGE_UPDATE, r, d);
		differs = 1;
	}
	c->in_sensitive = saved_sens;
	return differs;
}

size_t plan_diff_props(struct arena *a, const struct value *desired,
		       const struct value *recorded,
		       const struct plan_diff_opts *opts,
		       struct plan_changes *out)
{
	struct dctx c;
	struct value empty;

	memset(&c, 0, sizeof(c));
	memset(&empty, 0, sizeof(empty));
	empty.kind = VALUE_MAP;
	c.a = a;
	c.opts = opts;
	c.out = out;
	c.record = 1;
	strbuf_init(&c.path, 64);
	strbuf_init(&c.spath, 64);
	if (absent(desired))
		desired = &empty;
	if (absent(recorded))
		recorded = &empty;
	if (desired->kind == VALUE_MAP && recorded->kind == VALUE_MAP)
		diff_map(&c, desired, recorded);
	else
		diff_rec(&c, desired, recorded);
	strbuf_release(&c.path);
	strbuf_release(&c.spath);
	return c.added;
}
