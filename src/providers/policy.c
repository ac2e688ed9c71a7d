/*
 * IAM policy documents: the text sent to IAM, URL-decoding what IAM sends
 * back, and a canonical form so that a document read back compares equal
 * to the template's when only formatting differs.
 */
#include <ctype.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "prov_int.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *url_decode(struct arena *a, const char *s)
{
	size_t n = strlen(s), i, j = 0;
	char *out = arena_alloc(a, n + 1);

	for (i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			out[j++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

struct value *policy_doc_value(struct arena *a, const char *enc)
{
	struct err e = ERR_INIT;
	const char *text;

	if (!enc)
		return NULL;
	text = strchr(enc, '%') ? url_decode(a, enc) : enc;
	return value_from_json(a, text, strlen(text), 0, &e);
}

char *policy_text(struct arena *a, const struct value *doc)
{
	struct strbuf sb;
	char *out;

	if (doc && doc->kind == VALUE_STRING)
		return arena_strdup(a, doc->u.str.s);
	strbuf_init(&sb, 256);
	value_to_json(doc, &sb, 0);
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}

/* Keys whose value IAM treats the same as a string or a one-element list. */
static bool scalar_or_list_key(const char *k)
{
	static const char *const keys[] = { "Action", "NotAction", "Resource",
					    "NotResource", "Service", "AWS",
					    "Federated", "CanonicalUser",
					    NULL };
	size_t i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

static struct value *canon(struct arena *a, const struct value *v,
			   const char *key)
{
	struct value *out;
	size_t i;

	switch (v->kind) {
	case VALUE_MAP:
		out = value_new_map(a);
		for (i = 0; i < v->u.map.n; i++)
			value_map_set(a, out, v->u.map.items[i].key,
				      canon(a, v->u.map.items[i].val,
					    v->u.map.items[i].key));
		return out;
	case VALUE_LIST:
		if (key && scalar_or_list_key(key) && v->u.list.n == 1)
			return canon(a, v->u.list.items[0], NULL);
		out = value_new_list(a);
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(a, out, canon(a, v->u.list.items[i], NULL));
		return out;
	default:
		return value_copy(a, v);
	}
}

char *policy_canonical(struct arena *a, const struct value *doc,
		       struct err *err)
{
	const struct value *d = doc;
	struct value *c, *st;
	struct strbuf sb;
	char *out;

	if (!doc)
		return NULL;
	if (doc->kind == VALUE_STRING) {
		const char *text = doc->u.str.s;
		size_t k = strspn(text, " \t\r\n");
		/* IAM returns documents URL-encoded ("%7B%22Version...") */
		if (text[k] == '%')
			text = url_decode(a, text);
		d = value_from_json(a, text, strlen(text), 0, err);
		if (!d)
			return NULL;
	}
	c = canon(a, d, NULL);
	/* a single Statement object is the same as a list of one */
	st = c->kind == VALUE_MAP ? value_map_get(c, "Statement") : NULL;
	if (st && st->kind == VALUE_MAP) {
		struct value *l = value_new_list(a);
		value_list_push(a, l, st);
		value_map_set(a, c, "Statement", l);
	}
	strbuf_init(&sb, 256);
	value_to_json(c, &sb, VALUE_JSON_SORT_KEYS);
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}
