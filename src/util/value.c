#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/value.h"

static struct value *node(struct arena *a, enum value_kind kind)
{
	struct value *v = arena_alloc(a, sizeof(*v));
	v->kind = kind;
	return v;
}

struct value *value_new_null(struct arena *a)
{
	return node(a, VALUE_NULL);
}

struct value *value_new_bool(struct arena *a, bool b)
{
	struct value *v = node(a, VALUE_BOOL);
	v->u.b = b;
	return v;
}

struct value *value_new_number(struct arena *a, const char *text)
{
	struct value *v = node(a, VALUE_NUMBER);
	v->u.num.text = arena_strdup(a, text);
	v->u.num.d = strtod(text, NULL);
	return v;
}

struct value *value_new_number_d(struct arena *a, double d)
{
	struct value *v = node(a, VALUE_NUMBER);
	if (d == floor(d) && fabs(d) < 1e15)
		v->u.num.text = arena_sprintf(a, "%.0f", d);
	else
		v->u.num.text = arena_sprintf(a, "%.17g", d);
	v->u.num.d = d;
	return v;
}

struct value *value_new_stringn(struct arena *a, const char *s, size_t len)
{
	struct value *v = node(a, VALUE_STRING);
	v->u.str.s = arena_strndup(a, s, len);
	v->u.str.len = len;
	return v;
}

struct value *value_new_string(struct arena *a, const char *s)
{
	return value_new_stringn(a, s, strlen(s));
}

struct value *value_new_list(struct arena *a)
{
	return node(a, VALUE_LIST);
}

struct value *value_new_map(struct arena *a)
{
	return node(a, VALUE_MAP);
}

struct value *value_new_unknown(struct arena *a, const char *what)
{
	struct value *v = node(a, VALUE_UNKNOWN);
	v->u.unknown.what = arena_strdup(a, what ? what : "");
	return v;
}

void value_reserve(struct arena *a, struct value *v, size_t n)
{
	if (v->kind == VALUE_LIST && n > v->u.list.cap) {
		v->u.list.items = arena_realloc(
			a, v->u.list.items, v->u.list.cap * sizeof(struct value *),
			n * sizeof(struct value *));
		v->u.list.cap = n;
	} else if (v->kind == VALUE_MAP && n > v->u.map.cap) {
		v->u.map.items = arena_realloc(
			a, v->u.map.items,
			v->u.map.cap * sizeof(struct value_pair),
			n * sizeof(struct value_pair));
		v->u.map.cap = n;
	}
}

void value_list_push(struct arena *a, struct value *list, struct value *item)
{
	if (list->u.list.n == list->u.list.cap) {
		size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
		list->u.list.items = arena_realloc(
			a, list->u.list.items,
			list->u.list.cap * sizeof(struct value *),
			cap * sizeof(struct value *));
		list->u.list.cap = cap;
	}
	list->u.list.items[list->u.list.n++] = item;
}

void value_map_set(struct arena *a, struct value *map, const char *key,
		   struct value *val)
{
	size_t i;

	for (i = 0; i < map->u.map.n; i++) {
		if (!strcmp(map->u.map.items[i].key, key)) {
			map->u.map.items[i].val = val;
			return;
		}
	}
	if (map->u.map.n == map->u.map.cap) {
		size_t cap = map->u.map.cap ? map->u.map.cap * 2 : 4;
		map->u.map.items = arena_realloc(
			a, map->u.map.items,
			map->u.map.cap * sizeof(struct value_pair),
			cap * sizeof(struct value_pair));
		map->u.map.cap = cap;
	}
	map->u.map.items[map->u.map.n].key = arena_strdup(a, key);
	map->u.map.items[map->u.map.n].key_mark = val ? val->mark : (struct mark){ 0 };
	map->u.map.items[map->u.map.n].val = val;
	map->u.map.n++;
}

struct value *value_map_get(const struct value *map, const char *key)
{
	size_t i;

	if (!map || map->kind != VALUE_MAP)
		return NULL;
	for (i = 0; i < map->u.map.n; i++)
		if (!strcmp(map->u.map.items[i].key, key))
			return map->u.map.items[i].val;
	return NULL;
}

bool value_map_del(struct value *map, const char *key)
{
	size_t i;

	if (!map || map->kind != VALUE_MAP)
		return false;
	for (i = 0; i < map->u.map.n; i++) {
		if (!strcmp(map->u.map.items[i].key, key)) {
			memmove(&map->u.map.items[i], &map->u.map.items[i + 1],
				(map->u.map.n - i - 1) * sizeof(struct value_pair));
			map->u.map.n--;
			return true;
		}
	}
	return false;
}

struct value *value_get_path(const struct value *v, const char *path)
{
	const char *p = path;
	char key[256];

	while (v && *p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);
			if (*end != ']' || v->kind != VALUE_LIST ||
			    idx >= v->u.list.n)
				return NULL;
			v = v->u.list.items[idx];
			p = end + 1;
			continue;
		}
		{
			size_t n = strcspn(p, ".[");
			if (n >= sizeof(key))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			v = value_map_get(v, key);
			p += n;
		}
	}
	return (struct value *)v;
}

const char *value_str(const struct value *v)
{
	return v && v->kind == VALUE_STRING ? v->u.str.s : NULL;
}

struct value *value_copy(struct arena *a, const struct value *v)
{
	struct value *c;
	size_t i;

	if (!v)
		return NULL;
	c = node(a, v->kind);
	c->mark = v->mark;
	c->sensitive = v->sensitive;
	c->dynref = v->dynref;
	switch (v->kind) {
	case VALUE_NULL:
		break;
	case VALUE_BOOL:
		c->u.b = v->u.b;
		break;
	case VALUE_NUMBER:
		c->u.num.text = arena_strdup(a, v->u.num.text);
		c->u.num.d = v->u.num.d;
		break;
	case VALUE_STRING:
		c->u.str.s = arena_strndup(a, v->u.str.s, v->u.str.len);
		c->u.str.len = v->u.str.len;
		break;
	case VALUE_UNKNOWN:
		c->u.unknown.what = arena_strdup(a, v->u.unknown.what);
		break;
	case VALUE_LIST:
		value_reserve(a, c, v->u.list.n);
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(a, c, value_copy(a, v->u.list.items[i]));
		break;
	case VALUE_MAP:
		/* the keys are distinct already: no search per key */
		value_reserve(a, c, v->u.map.n);
		for (i = 0; i < v->u.map.n; i++) {
			c->u.map.items[i].key = arena_strdup(a, v->u.map.items[i].key);
			c->u.map.items[i].key_mark = v->u.map.items[i].key_mark;
			c->u.map.items[i].val = value_copy(a, v->u.map.items[i].val);
		}
		c->u.map.n = v->u.map.n;
		break;
	}
	return c;
}

bool value_equal(const struct value *x, const struct value *y)
{
	size_t i;

	if (!x || !y)
		return x == y;
	if (x->kind == VALUE_UNKNOWN || y->kind == VALUE_UNKNOWN)
		return false;
	if (x->kind != y->kind)
		return false;
	switch (x->kind) {
	case VALUE_NULL:
		return true;
	case VALUE_BOOL:
		return x->u.b == y->u.b;
	case VALUE_NUMBER:
		return x->u.num.d == y->u.num.d;
	case VALUE_STRING:
		return x->u.str.len == y->u.str.len &&
		       !memcmp(x->u.str.s, y->u.str.s, x->u.str.len);
	case VALUE_LIST:
		if (x->u.list.n != y->u.list.n)
			return false;
		for (i = 0; i < x->u.list.n; i++)
			if (!value_equal(x->u.list.items[i], y->u.list.items[i]))
				return false;
		return true;
	case VALUE_MAP:
		if (x->u.map.n != y->u.map.n)
			return false;
		for (i = 0; i < x->u.map.n; i++) {
			const struct value *o =
				value_map_get(y, x->u.map.items[i].key);
			if (!o || !value_equal(x->u.map.items[i].val, o))
				return false;
		}
		return true;
	case VALUE_UNKNOWN:
		break;
	}
	return false;
}

bool value_has_unknown(const struct value *v)
{
	size_t i;

	if (!v)
		return false;
	if (v->kind == VALUE_UNKNOWN)
		return true;
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			if (value_has_unknown(v->u.list.items[i]))
				return true;
	if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			if (value_has_unknown(v->u.map.items[i].val))
				return true;
	return false;
}

bool value_has_sensitive(const struct value *v)
{
	size_t i;

	if (!v)
		return false;
	if (v->sensitive)
		return true;
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			if (value_has_sensitive(v->u.list.items[i]))
				return true;
	if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			if (value_has_sensitive(v->u.map.items[i].val))
				return true;
	return false;
}

bool value_has_dynref(const struct value *v)
{
	size_t i;

	if (!v)
		return false;
	if (v->dynref)
		return true;
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			if (value_has_dynref(v->u.list.items[i]))
				return true;
	if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			if (value_has_dynref(v->u.map.items[i].val))
				return true;
	return false;
}

static void indent(struct strbuf *out, int flags, int depth)
{
	if (!(flags & VALUE_JSON_PRETTY))
		return;
	strbuf_addch(out, '\n');
	while (depth-- > 0)
		strbuf_add(out, "  ", 2);
}

static int cmp_pair_ptr(const void *a, const void *b)
{
	const struct value_pair *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static void to_json(const struct value *v, struct strbuf *out, int flags,
		    int depth)
{
	size_t i;

	if (!v) {
		strbuf_addstr(out, "null");
		return;
	}
	if (v->sensitive && (flags & VALUE_JSON_REDACT)) {
		strbuf_addstr(out, "\"(sensitive)\"");
		return;
	}
	switch (v->kind) {
	case VALUE_NULL:
		strbuf_addstr(out, "null");
		break;
	case VALUE_BOOL:
		strbuf_addstr(out, v->u.b ? "true" : "false");
		break;
	case VALUE_NUMBER:
		if (isfinite(v->u.num.d))
			strbuf_addstr(out, v->u.num.text);
		else
			strbuf_addstr(out, "null");
		break;
	case VALUE_STRING:
		strbuf_add_json_str(out, v->u.str.s, v->u.str.len);
		break;
	case VALUE_UNKNOWN:
		if (flags & VALUE_JSON_UNKNOWN_MARKER) {
			strbuf_addstr(out, "{\"$unknown\":");
			strbuf_add_json_str(out, v->u.unknown.what,
					    strlen(v->u.unknown.what));
			strbuf_addch(out, '}');
		} else {
			strbuf_addstr(out, "null");
		}
		break;
	case VALUE_LIST:
		strbuf_addch(out, '[');
		for (i = 0; i < v->u.list.n; i++) {
			if (i)
				strbuf_addch(out, ',');
			indent(out, flags, depth + 1);
			to_json(v->u.list.items[i], out, flags, depth + 1);
		}
		if (v->u.list.n)
			indent(out, flags, depth);
		strbuf_addch(out, ']');
		break;
	case VALUE_MAP: {
		const struct value_pair **order = NULL;
		size_t n = v->u.map.n;
		order = malloc((n ? n : 1) * sizeof(*order));
		for (i = 0; i < n; i++)
			order[i] = &v->u.map.items[i];
		if (flags & VALUE_JSON_SORT_KEYS)
			qsort(order, n, sizeof(*order), cmp_pair_ptr);
		strbuf_addch(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				strbuf_addch(out, ',');
			indent(out, flags, depth + 1);
			strbuf_add_json_str(out, order[i]->key,
					    strlen(order[i]->key));
			strbuf_addstr(out, (flags & VALUE_JSON_PRETTY) ? ": " : ":");
			to_json(order[i]->val, out, flags, depth + 1);
		}
		if (n)
			indent(out, flags, depth);
		strbuf_addch(out, '}');
		free(order);
		break;
	}
	}
}

void value_to_json(const struct value *v, struct strbuf *out, int flags)
{
	to_json(v, out, flags, 0);
}

static struct value *from_cjson(struct arena *a, const cJSON *j, int flags)
{
	struct value *v;
	const cJSON *c;

	if (cJSON_IsNull(j))
		return value_new_null(a);
	if (cJSON_IsBool(j))
		return value_new_bool(a, cJSON_IsTrue(j));
	if (cJSON_IsNumber(j))
		return value_new_number_d(a, j->valuedouble);
	if (cJSON_IsString(j))
		return value_new_string(a, j->valuestring);
	if (cJSON_IsArray(j)) {
		v = value_new_list(a);
		value_reserve(a, v, (size_t)cJSON_GetArraySize(j));
		cJSON_ArrayForEach(c, j)
			value_list_push(a, v, from_cjson(a, c, flags));
		return v;
	}
	if ((flags & VALUE_JSON_UNKNOWN_MARKER) && cJSON_IsObject(j) &&
	    cJSON_GetArraySize(j) == 1 && j->child->string &&
	    !strcmp(j->child->string, "$unknown") &&
	    cJSON_IsString(j->child))
		return value_new_unknown(a, j->child->valuestring);
	v = value_new_map(a);
	value_reserve(a, v, (size_t)cJSON_GetArraySize(j));
	cJSON_ArrayForEach(c, j)
		value_map_set(a, v, c->string ? c->string : "",
			      from_cjson(a, c, flags));
	return v;
}

struct value *value_from_json(struct arena *a, const char *text, size_t len,
			      int flags, struct err *err)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	struct value *v;

	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		err_set(err, ERR_PARSE, "invalid JSON near offset %ld",
			at ? (long)(at - text) : -1L);
		return NULL;
	}
	v = from_cjson(a, j, flags);
	cJSON_Delete(j);
	return v;
}

const char *value_kind_name(enum value_kind k)
{
	switch (k) {
	case VALUE_NULL: return "null";
	case VALUE_BOOL: return "boolean";
	case VALUE_NUMBER: return "number";
	case VALUE_STRING: return "string";
	case VALUE_LIST: return "list";
	case VALUE_MAP: return "map";
	case VALUE_UNKNOWN: return "unknown";
	}
	return "?";
}
