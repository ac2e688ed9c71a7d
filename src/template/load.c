/*
 * The YAML loader: libyaml's event API -> struct value with marks.
 *
 * libyaml stays inside this file (docs/design.md: third-party objects do not leak
 * out). The loader is iterative (an explicit frame stack), so deep input
 * cannot overflow the C stack; nesting is capped at TEMPLATE_MAX_DEPTH.
 * Aliases share the anchored node instead of copying it, and every
 * container counts the nodes it would expand to, so a billion-laughs
 * document is rejected once it would expand past TEMPLATE_MAX_NODES.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cairn/template.h"
#include "cairn/xalloc.h"
#include "internal.h"

struct frame {
	struct value *v;
	size_t size; /* expanded node count of v so far */
	const char *anchor;
	const char *tag;
	struct mark tag_mark;
	bool have_key;
	const char *key;
	struct mark key_mark;
	bool key_merge;          /* the pending key is a plain << */
	struct value **merges;   /* maps named by << keys, in order */
	size_t nmerges, merges_cap;
};

struct anchor {
	const char *name;
	struct value *v;
	size_t size;
};

struct dupkey {
	const struct value *map;
	const char *key;
	size_t idx; /* in map->u.map.items */
};

struct loader {
	struct arena *a;
	const char *file;
	struct diag_list *diags;
	struct frame stack[TEMPLATE_MAX_DEPTH + 1];
	int depth;
	struct value *root;
	size_t root_size;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	struct tmpl_index anchor_idx; /* name -> latest entry in anchors */
	struct dupkey *dups;
	size_t ndups, dups_cap;
	int docs;
	bool failed;
	const char *text;
	size_t len;
};

static struct mark mk(const struct loader *L, yaml_mark_t m)
{
	struct mark r;
	r.file = L->file;
	r.line = (unsigned)m.line + 1;
	r.col = (unsigned)m.column + 1;
	return r;
}

/* ---- duplicate keys ----
 * Small maps (most of them) are scanned; a map that grows past DUP_LINEAR
 * keys moves into one hash table for the whole document (malloc'd, freed
 * after loading), so a 5000-resource Resources map stays linear without
 * paying a table entry for every key of every small map. */

#define DUP_LINEAR 16

static size_t dup_hash(const struct value *map, const char *key)
{
	size_t h = (size_t)(uintptr_t)map * 31u;

	while (*key)
		h = (h ^ (unsigned char)*key++) * (size_t)1099511628211ull;
	return h;
}

static void dup_insert(struct loader *L, const struct value *map, size_t idx)
{
	const char *key = map->u.map.items[idx].key;
	size_t i;

	if ((L->ndups + 1) * 2 > L->dups_cap) {
		struct dupkey *old = L->dups;
		size_t oldcap = L->dups_cap, j;

		L->dups_cap = oldcap ? oldcap * 2 : 256;
		L->dups = xcalloc(L->dups_cap, sizeof(*L->dups));
		for (j = 0; j < oldcap; j++) {
			if (!old[j].map)
				continue;
			i = dup_hash(old[j].map, old[j].key) & (L->dups_cap - 1);
			while (L->dups[i].map)
				i = (i + 1) & (L->dups_cap - 1);
			L->dups[i] = old[j];
		}
		free(old);
	}
	i = dup_hash(map, key) & (L->dups_cap - 1);
	while (L->dups[i].map)
		i = (i + 1) & (L->dups_cap - 1);
	L->dups[i].map = map;
	L->dups[i].key = key;
	L->dups[i].idx = idx;
	L->ndups++;
}

/* The earlier entry of key in map, or NULL. */
static const struct value_pair *dup_find(const struct loader *L,
					 const struct value *map,
					 const char *key)
{
	size_t i, n = map->u.map.n;

	if (n < DUP_LINEAR) {
		for (i = 0; i < n; i++)
			if (!strcmp(map->u.map.items[i].key, key))
				return &map->u.map.items[i];
		return NULL;
	}
	i = dup_hash(map, key) & (L->dups_cap - 1);
	while (L->dups[i].map) {
		if (L->dups[i].map == map && !strcmp(L->dups[i].key, key))
			return &map->u.map.items[L->dups[i].idx];
		i = (i + 1) & (L->dups_cap - 1);
	}
	return NULL;
}

/* Called after an append. */
static void dup_note(struct loader *L, const struct value *map)
{
	size_t n = map->u.map.n, i;

	if (n == DUP_LINEAR)
		for (i = 0; i < n; i++)
			dup_insert(L, map, i);
	else if (n > DUP_LINEAR)
		dup_insert(L, map, n - 1);
}

static void map_append(struct arena *a, struct value *map, const char *key,
		       struct mark key_mark, struct value *val)
{
	if (map->u.map.n == map->u.map.cap) {
		size_t cap = map->u.map.cap ? map->u.map.cap * 2 : 4;
		map->u.map.items = arena_realloc(
			a, map->u.map.items,
			map->u.map.cap * sizeof(struct value_pair),
			cap * sizeof(struct value_pair));
		map->u.map.cap = cap;
	}
	map->u.map.items[map->u.map.n].key = key;
	map->u.map.items[map->u.map.n].key_mark = key_mark;
	map->u.map.items[map->u.map.n].val = val;
	map->u.map.n++;
}

/* ---- scalars ---- */

static bool all_digits(const char *s, int base)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (base == 8 && (*s < '0' || *s > '7'))
			return false;
		if (base == 10 && !isdigit((unsigned char)*s))
			return false;
		if (base == 16 && !isxdigit((unsigned char)*s))
			return false;
	}
	return true;
}

/* YAML 1.2 core schema float/int: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_decimal(const char *s)
{
	const char *p = s;
	bool digits = false;

	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static struct value *plain_scalar(struct arena *a, const char *s, size_t len)
{
	if (len == strlen(s)) {
		if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
		    !strcmp(s, "Null") || !strcmp(s, "NULL"))
			return value_new_null(a);
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
			return value_new_bool(a, true);
		if (!strcmp(s, "false") || !strcmp(s, "False") ||
		    !strcmp(s, "FALSE"))
			return value_new_bool(a, false);
		if (!strncmp(s, "0x", 2) && all_digits(s + 2, 16) &&
		    strlen(s) < 16)
			return value_new_number_d(a, (double)strtoull(s + 2, NULL, 16));
		if (!strncmp(s, "0o", 2) && all_digits(s + 2, 8) &&
		    strlen(s) < 20)
			return value_new_number_d(a, (double)strtoull(s + 2, NULL, 8));
		if (is_decimal(s))
			return value_new_number(a, s[0] == '+' ? s + 1 : s);
	}
	return value_new_stringn(a, s, len);
}

/* ---- tags ---- */

static const char *const fn_tags[] = {
	"Sub", "GetAtt", "Join", "Select", "Split", "GetAZs", "If", "Equals",
	"And", "Or", "Not", "FindInMap", "Base64", "Cidr", "ToJsonString",
	"ImportValue", "Length",
};

/* Wraps v per its tag; NULL tag leaves it alone. Unknown tags are reported
 * and the value is kept untagged so loading can go on. */
static struct value *apply_tag(struct loader *L, struct value *v,
			       const char *tag, struct mark tm)
{
	struct value *m;
	const char *name;
	size_t i;

	if (!tag || !strcmp(tag, "!"))
		return v;
	if (!strncmp(tag, "tag:yaml.org,2002:", 18)) {
		const char *t = tag + 18;
		if (!strcmp(t, "str") && v->kind != VALUE_LIST &&
		    v->kind != VALUE_MAP) {
			const char *txt = v->kind == VALUE_STRING ? v->u.str.s
					  : v->kind == VALUE_NUMBER ? v->u.num.text
					  : v->kind == VALUE_BOOL ? (v->u.b ? "true" : "false")
					  : "";
			struct value *s = value_new_string(L->a, txt);
			s->mark = v->mark;
			return s;
		}
		if (!strcmp(t, "map") || !strcmp(t, "seq") || !strcmp(t, "str") ||
		    !strcmp(t, "int") || !strcmp(t, "float") ||
		    !strcmp(t, "bool") || !strcmp(t, "null"))
			return v;
		if (L->diags->errors < TEMPLATE_MAX_ERRORS)
			diag_add(L->diags, DIAG_ERROR, &tm, NULL, NULL,
				 "unknown tag \"!!%s\"", t);
		return v;
	}
	name = tag[0] == '!' ? tag + 1 : tag;
	m = value_new_map(L->a);
	m->mark = tm;
	if (!strcmp(name, "Ref")) {
		map_append(L->a, m, "Ref", tm, v);
		return m;
	}
	if (!strcmp(name, "Condition")) {
		map_append(L->a, m, "Condition", tm, v);
		return m;
	}
	for (i = 0; i < sizeof(fn_tags) / sizeof(fn_tags[0]); i++) {
		if (strcmp(name, fn_tags[i]))
			continue;
		if (!strcmp(name, "GetAtt") && v->kind == VALUE_STRING) {
			/* "A.B.C" -> [A, "B.C"]: attribute names may hold dots */
			const char *dot = strchr(v->u.str.s, '.');
			struct value *l = value_new_list(L->a);
			struct value *x, *y;
			l->mark = v->mark;
			if (dot) {
				x = value_new_stringn(L->a, v->u.str.s,
						      (size_t)(dot - v->u.str.s));
				y = value_new_string(L->a, dot + 1);
			} else {
				x = value_new_string(L->a, v->u.str.s);
				y = value_new_string(L->a, "");
			}
			x->mark = y->mark = v->mark;
			value_list_push(L->a, l, x);
			value_list_push(L->a, l, y);
			v = l;
		}
		map_append(L->a, m, arena_sprintf(L->a, "Fn::%s", name), tm, v);
		return m;
	}
	if (L->diags->errors < TEMPLATE_MAX_ERRORS)
		diag_add(L->diags, DIAG_ERROR, &tm, NULL, NULL,
			 "unknown tag \"%s\" (known: !Ref, !Condition, !Sub, "
			 "!GetAtt, !Join, !Select, !Split, !GetAZs, !If, "
			 "!Equals, !And, !Or, !Not, !FindInMap, !Base64, !Cidr, "
			 "!ToJsonString, !ImportValue, !Length)",
			 tag);
	/* unknown, so that later checks do not pile up on the same node */
	m = value_new_unknown(L->a, tag);
	m->mark = tm;
	return m;
}

/* ---- tree building ---- */

static void fail(struct loader *L, const struct mark *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct loader *L, const struct mark *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag_add(L->diags, DIAG_ERROR, m, NULL, NULL, "%s", buf);
	L->failed = true;
}

static void remember_anchor(struct loader *L, const char *name,
			    struct value *v, size_t size)
{
	if (L->nanchors == L->anchors_cap) {
		size_t cap = L->anchors_cap ? L->anchors_cap * 2 : 8;
		L->anchors = arena_realloc(L->a, L->anchors,
					   L->anchors_cap * sizeof(*L->anchors),
					   cap * sizeof(*L->anchors));
		L->anchors_cap = cap;
	}
	L->anchors[L->nanchors].name = name;
	L->anchors[L->nanchors].v = v;
	L->anchors[L->nanchors].size = size;
	tmpl_index_put(L->a, &L->anchor_idx, name, L->nanchors);
	L->nanchors++;
}

/* Adds a finished node to its parent (or makes it the root). */
static void add_node(struct loader *L, struct value *v, size_t size,
		     const struct mark *m)
{
	struct frame *f;

	if (L->depth == 0) {
		L->root = v;
		L->root_size = size;
		return;
	}
	f = &L->stack[L->depth - 1];
	if (size > TEMPLATE_MAX_NODES || f->size + size > TEMPLATE_MAX_NODES) {
		fail(L, m, "document expands to more than %u nodes through "
			   "aliases", TEMPLATE_MAX_NODES);
		return;
	}
	f->size += size;
	if (f->v->kind == VALUE_LIST) {
		value_list_push(L->a, f->v, v);
		return;
	}
	if (!f->have_key) {
		/* keys are scalars; the scalar handler deals with them */
		fail(L, m, "mapping keys must be scalars");
		return;
	}
	if (f->key_merge) {
		/* "<<: *a" or "<<: [*a, *b]": merged when the map ends, so
		 * the map's own keys win wherever they are written */
		size_t i, n = v->kind == VALUE_LIST ? v->u.list.n : 1;

		for (i = 0; i < n; i++) {
			struct value *src = v->kind == VALUE_LIST
						    ? v->u.list.items[i]
						    : v;
			if (src->kind != VALUE_MAP) {
				fail(L, &f->key_mark, "a merge key (<<) takes "
					"a map or a list of maps, not a %s",
				     value_kind_name(src->kind));
				return;
			}
			if (f->nmerges == f->merges_cap) {
				size_t cap = f->merges_cap ? 2 * f->merges_cap
							   : 4;
				f->merges = arena_realloc(
					L->a, f->merges,
					f->merges_cap * sizeof(*f->merges),
					cap * sizeof(*f->merges));
				f->merges_cap = cap;
			}
			f->merges[f->nmerges++] = src;
		}
		f->have_key = false;
		f->key_merge = false;
		return;
	}
	{
		const struct value_pair *d = dup_find(L, f->v, f->key);
		if (d) {
			if (L->diags->errors < TEMPLATE_MAX_ERRORS)
				diag_add(L->diags, DIAG_ERROR, &f->key_mark,
					 NULL, NULL,
					 "duplicate key \"%s\" (first at line "
					 "%u, column %u)",
					 f->key, d->key_mark.line,
					 d->key_mark.col);
		} else {
			map_append(L->a, f->v, f->key, f->key_mark, v);
			dup_note(L, f->v);
		}
	}
	f->have_key = false;
}

static void on_scalar(struct loader *L, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct mark m = mk(L, ev->start_mark);
	const char *tag = (const char *)ev->data.scalar.tag;
	struct value *v;
	struct frame *f = L->depth ? &L->stack[L->depth - 1] : NULL;

	if (f && f->v->kind == VALUE_MAP && !f->have_key) {
		if (memchr(text, '\0', len)) {
			fail(L, &m, "mapping key contains a NUL character");
			return;
		}
		f->key = arena_strndup(L->a, text, len);
		f->key_mark = m;
		f->have_key = true;
		f->key_merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			       !ev->data.scalar.tag && len == 2 &&
			       !memcmp(text, "<<", 2);
		if (ev->data.scalar.anchor)
			remember_anchor(L, arena_strdup(L->a,
				(const char *)ev->data.scalar.anchor),
				value_new_string(L->a, f->key), 1);
		return;
	}
	if (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		v = value_new_stringn(L->a, text, len);
	else
		v = plain_scalar(L->a, text, len);
	v->mark = m;
	if (tag) {
		/* !!int and friends on a quoted scalar: type it */
		if (!strcmp(tag, "tag:yaml.org,2002:int") ||
		    !strcmp(tag, "tag:yaml.org,2002:float") ||
		    !strcmp(tag, "tag:yaml.org,2002:bool") ||
		    !strcmp(tag, "tag:yaml.org,2002:null")) {
			v = plain_scalar(L->a, text, len);
			v->mark = m;
		}
		v = apply_tag(L, v, tag, m);
	}
	if (ev->data.scalar.anchor)
		remember_anchor(L, arena_strdup(L->a,
			(const char *)ev->data.scalar.anchor), v,
			v->kind == VALUE_MAP ? 2 : 1);
	add_node(L, v, v->kind == VALUE_MAP ? 2 : 1, &m);
}

static void on_start(struct loader *L, const yaml_event_t *ev, bool is_map)
{
	struct mark m = mk(L, ev->start_mark);
	struct frame *parent = L->depth ? &L->stack[L->depth - 1] : NULL;
	struct frame *f;
	const yaml_char_t *anchor, *tag;

	if (parent && parent->v->kind == VALUE_MAP && !parent->have_key) {
		fail(L, &m, "mapping keys must be scalars (complex keys are "
			    "not supported)");
		return;
	}
	if (L->depth >= TEMPLATE_MAX_DEPTH) {
		fail(L, &m, "nesting deeper than %d levels", TEMPLATE_MAX_DEPTH);
		return;
	}
	f = &L->stack[L->depth++];
	memset(f, 0, sizeof(*f));
	f->v = is_map ? value_new_map(L->a) : value_new_list(L->a);
	f->v->mark = m;
	f->size = 1;
	anchor = is_map ? ev->data.mapping_start.anchor
			: ev->data.sequence_start.anchor;
	tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	f->anchor = anchor ? arena_strdup(L->a, (const char *)anchor) : NULL;
	f->tag = tag ? arena_strdup(L->a, (const char *)tag) : NULL;
	f->tag_mark = m;
}

static void on_end(struct loader *L, const yaml_event_t *ev)
{
	struct mark m = mk(L, ev->start_mark);
	struct frame f = L->stack[--L->depth];
	struct value *v = f.v;
	size_t i, j;

	/* merge keys: the map's own keys first, then each merged map's in
	 * the order listed, the first one naming a key winning (YAML 1.1) */
	for (i = 0; i < f.nmerges; i++) {
		const struct value *src = f.merges[i];

		for (j = 0; j < src->u.map.n; j++) {
			const struct value_pair *p = &src->u.map.items[j];

			if (dup_find(L, v, p->key))
				continue;
			map_append(L->a, v, p->key, p->key_mark, p->val);
			dup_note(L, v);
		}
	}
	if (f.tag) {
		v = apply_tag(L, v, f.tag, f.tag_mark);
		if (v != f.v)
			f.size++;
	}
	if (f.anchor)
		remember_anchor(L, f.anchor, v, f.size);
	add_node(L, v, f.size, &m);
}

static void on_alias(struct loader *L, const yaml_event_t *ev)
{
	struct mark m = mk(L, ev->start_mark);
	const char *name = (const char *)ev->data.alias.anchor;
	struct frame *f = L->depth ? &L->stack[L->depth - 1] : NULL;
	size_t i;

	/* the latest definition wins, as in YAML (the index keeps it) */
	if (tmpl_index_get(&L->anchor_idx, name, &i)) {
		if (f && f->v->kind == VALUE_MAP && !f->have_key) {
			if (L->anchors[i].v->kind != VALUE_STRING) {
				fail(L, &m, "alias \"*%s\" used as a key is not "
					    "a scalar", name);
				return;
			}
			f->key = L->anchors[i].v->u.str.s;
			f->key_mark = m;
			f->have_key = true;
			f->key_merge = false;
			return;
		}
		add_node(L, L->anchors[i].v, L->anchors[i].size, &m);
		return;
	}
	fail(L, &m, "alias \"*%s\" refers to no anchor", name);
}

/* The column (1-based) of the first tab in the indentation of `line`, or 0;
 * *indent is set to the indentation's width. */
static unsigned indent_tab_col(const struct loader *L, unsigned line,
			       unsigned *indent)
{
	size_t off = 0;
	unsigned l = 1, col = 1, tab = 0;

	while (off < L->len && l < line) {
		if (L->text[off] == '\n')
			l++;
		off++;
	}
	for (; off < L->len && (L->text[off] == ' ' || L->text[off] == '\t');
	     off++, col++)
		if (L->text[off] == '\t' && !tab)
			tab = col;
	*indent = col - 1;
	return tab;
}

static void parse_error(struct loader *L, const yaml_parser_t *p)
{
	struct mark m = mk(L, p->problem_mark);
	unsigned tabcol, indent;

	if (p->error == YAML_MEMORY_ERROR) {
		fail(L, NULL, "out of memory while parsing");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* the reader's problem_mark is not filled in; our UTF-8 pass
		 * catches bad bytes first, so this is rare */
		struct mark fm = { L->file, 0, 0 };
		fail(L, &fm, "cannot read YAML: %s", p->problem ? p->problem : "?");
		return;
	}
	/* libyaml says "cannot start any token"; say what is wrong when the
	 * error sits in an indentation that holds a tab (tabs are fine
	 * elsewhere, such as in JSON) */
	tabcol = indent_tab_col(L, m.line, &indent);
	if (tabcol && m.col <= indent) {
		m.col = tabcol;
		fail(L, &m, "tab character in indentation (YAML indents with "
			    "spaces only)");
		return;
	}
	if (p->context) {
		struct mark cm = mk(L, p->context_mark);
		fail(L, &m, "malformed YAML: %s %s (line %u, column %u)",
		     p->problem ? p->problem : "error", p->context, cm.line,
		     cm.col);
	} else {
		fail(L, &m, "malformed YAML: %s",
		     p->problem ? p->problem : "error");
	}
}

/* Validates UTF-8 up front so the message has an exact position. Also
 * rejects NUL bytes, which YAML does not allow. */
static bool check_utf8(struct loader *L)
{
	const unsigned char *s = (const unsigned char *)L->text;
	size_t i = 0, n = L->len;
	unsigned line = 1, col = 1;

	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		i = 3;
	while (i < n) {
		unsigned c = s[i];
		size_t need;
		unsigned cp, min;
		size_t k;

		if (c < 0x80) {
			if (c == 0) {
				struct mark m = { L->file, line, col };
				fail(L, &m, "NUL byte in template text");
				return false;
			}
			if (c == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			need = 1;
			cp = c & 0x1F;
			min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2;
			cp = c & 0x0F;
			min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += need + 1;
		col++;
		continue;
bad:
		{
			struct mark m = { L->file, line, col };
			fail(L, &m, "invalid UTF-8 byte 0x%02x", c);
			return false;
		}
	}
	return true;
}

struct value *template_parse_yaml(struct arena *a, const char *name,
				  const char *text, size_t len,
				  struct diag_list *diags)
{
	struct loader L;
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;

	memset(&L, 0, sizeof(L));
	L.a = a;
	L.file = arena_strdup(a, name);
	L.diags = diags;
	L.text = text;
	L.len = len;
	if (len > TEMPLATE_MAX_BYTES) {
		struct mark m = { L.file, 0, 0 };
		fail(&L, &m, "file is larger than 10 MB (%zu bytes)", len);
		return NULL;
	}
	if (!check_utf8(&L))
		return NULL;
	if (tmpl_looks_like_json(text, len)) {
		unsigned line, col;
		const char *why;

		if (!tmpl_json_check(text, len, &line, &col, &why)) {
			struct mark m = { L.file, line, col };
			fail(&L, &m, "JSON not well-formed: %s", why);
			return NULL;
		}
	}
	if (!yaml_parser_initialize(&p)) {
		fail(&L, NULL, "cannot initialise the YAML parser");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !L.failed) {
		if (!yaml_parser_parse(&p, &ev)) {
			parse_error(&L, &p);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (L.docs++) {
				struct mark m = mk(&L, ev.start_mark);
				fail(&L, &m, "more than one YAML document in the "
					     "file");
			}
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&L, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&L, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&L, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&L, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&L, &ev);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free(L.dups);
	if (L.failed)
		return NULL;
	if (!L.root) {
		struct mark m = { L.file, 1, 1 };
		fail(&L, &m, "the file is empty");
		return NULL;
	}
	return L.root;
}
