/*
 * Dynamic references resolved at apply (dynref.h). The copy and every value
 * read live in one scratch arena, wiped byte by byte when the call is done.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "dynref.h"
#include "settle.h"

static void keep_plain(struct dynref_scratch *s, const char *p)
{
	if (!p || !*p)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->plain = xrealloc(s->plain, s->cap * sizeof(*s->plain));
	}
	s->plain[s->n++] = p;
}

/* fn(), read again for a bounded time while it answers "not found" (the
 * plan checked every reference it could; the ones that reach apply
 * unchecked name what this stack has just made, which AWS may not show
 * yet: a secret created a moment ago, src/exec/settle.c). */
static int read_settled(exec_dynref_fn fn, void *ud, struct dynref_scratch *s,
			const char *ref, const char **got, struct err *err)
{
	struct settle st;
	int rc = fn(ud, s->a, ref, got, err);

	if (rc >= 0 || err->code != ERR_NOT_FOUND)
		return rc;
	settle_start(&st, s->cancel);
	while (rc < 0 && err->code == ERR_NOT_FOUND && settle_again(&st)) {
		err_clear(err);
		rc = fn(ud, s->a, ref, got, err);
	}
	return rc;
}

/* One dynref string: the template's text with each reference replaced. */
static struct value *resolve_string(exec_dynref_fn fn, void *ud,
				    const struct value *v,
				    struct dynref_scratch *s, const char *path,
				    struct err *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = v->u.str.s, *at;
	struct value *out;

	while ((at = strstr(p, "{{resolve:")) != NULL) {
		const char *end = strstr(at, "}}"), *got = NULL;
		char *ref;
		if (!end)
			break; /* evaluation reported it; sent as written */
		strbuf_add(&sb, p, (size_t)(at - p));
		ref = arena_strndup(s->a, at + 10, (size_t)(end - at - 10));
		if (!fn) {
			err_set(err, ERR_INTERNAL,
				"property %s: {{resolve:%s}}: nothing to read "
				"dynamic references with", path, ref);
			goto fail;
		}
		if (read_settled(fn, ud, s, ref, &got, err) < 0 || !got) {
			if (!got && !err->code)
				err_set(err, ERR_AWS, "no value");
			err_prefix(err, "property %s: {{resolve:%s}}: ", path, ref);
			goto fail;
		}
		keep_plain(s, got);
		strbuf_addstr(&sb, got);
		p = end + 2;
	}
	strbuf_addstr(&sb, p);
	out = value_new_stringn(s->a, sb.buf, sb.len);
	explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	out->mark = v->mark;
	out->sensitive = 1;
	keep_plain(s, out->u.str.s);
	return out;
fail:
	explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return NULL;
}

static struct value *resolve(exec_dynref_fn fn, void *ud, const struct value *v,
			     struct dynref_scratch *s, struct strbuf *path,
			     struct err *err)
{
	struct value *c;
	size_t i, len = path->len;

	if (!v || !value_has_dynref(v))
		return (struct value *)v; /* shared, never written */
	if (v->kind == VALUE_STRING)
		return resolve_string(fn, ud, v, s, path->buf, err);
	if (v->kind == VALUE_LIST) {
		c = value_new_list(s->a);
		for (i = 0; i < v->u.list.n; i++) {
			struct value *it;
			strbuf_addf(path, "[%zu]", i);
			it = resolve(fn, ud, v->u.list.items[i], s, path, err);
			strbuf_setlen(path, len);
			if (!it)
				return NULL;
			value_list_push(s->a, c, it);
		}
	} else if (v->kind == VALUE_MAP) {
		c = value_new_map(s->a);
		for (i = 0; i < v->u.map.n; i++) {
			struct value *it;
			if (len)
				strbuf_addch(path, '.');
			strbuf_addstr(path, v->u.map.items[i].key);
			it = resolve(fn, ud, v->u.map.items[i].val, s, path, err);
			strbuf_setlen(path, len);
			if (!it)
				return NULL;
			value_map_set(s->a, c, v->u.map.items[i].key, it);
		}
	} else {
		return (struct value *)v;
	}
	c->mark = v->mark;
	c->sensitive = v->sensitive;
	return c;
}

int dynref_resolve(exec_dynref_fn fn, void *ud, const _Atomic int *cancel,
		   const char *type,
		   const struct value *props,
		   struct dynref_scratch *s, const struct value **out,
		   struct err *err)
{
	struct strbuf path = STRBUF_INIT;
	struct value *r;

	memset(s, 0, sizeof(*s));
	s->cancel = cancel;
	*out = props;
	if (!value_has_dynref(props))
		return 0;
	s->a = arena_new();
	r = resolve(fn, ud, props, s, &path, err);
	strbuf_release(&path);
	if (!r) {
		dynref_scrub(s, err);
		return -1;
	}
	{
		const struct schema_type *t = type ? schema_find(type) : NULL;
		*out = t ? schema_coerce(t, s->a, r) : r;
	}
	return 0;
}

void dynref_scrub(const struct dynref_scratch *s, struct err *err)
{
	size_t i;

	for (i = 0; err && i < s->n; i++) {
		size_t pl = strlen(s->plain[i]);
		char *hit;
		/* a value of one or two characters would blank half the
		 * message and hides nothing worth hiding */
		if (pl < 3)
			continue;
		while ((hit = strstr(err->msg, s->plain[i])) != NULL) {
			static const char red[] = "(sensitive)";
			size_t tail = strlen(hit + pl);
			if (sizeof(red) - 1 <= pl) {
				memcpy(hit, red, sizeof(red) - 1);
				memmove(hit + sizeof(red) - 1, hit + pl, tail + 1);
			} else {
				size_t room = sizeof(err->msg) - (size_t)(hit - err->msg);
				size_t keep = tail + sizeof(red) < room ?
						      tail : room - sizeof(red);
				memmove(hit + sizeof(red) - 1, hit + pl, keep);
				memcpy(hit, red, sizeof(red) - 1);
				hit[sizeof(red) - 1 + keep] = '\0';
			}
		}
	}
}

void dynref_release(struct dynref_scratch *s)
{
	arena_free_wiped(s->a);
	free(s->plain);
	memset(s, 0, sizeof(*s));
}
