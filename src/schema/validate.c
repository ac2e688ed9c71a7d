/*
 * schema_validate: an evaluated property tree against a type's schema.
 *
 * Values are judged the way CloudFormation judges them, not the way a
 * strict JSON Schema validator would: CloudFormation passes every scalar
 * to the resource handler as text and coerces, so "5" satisfies integer,
 * "true" satisfies boolean, and 5 or true satisfy string. A VALUE_UNKNOWN
 * (known only after apply) satisfies anything. Checks then apply to the
 * value as the schema's type sees it: a length to the text of a number
 * given where a string is expected, a range to the number in "5".
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

/* Deeper than any template the loader accepts (64 levels). */
#define MAX_DEPTH 128
/* uniqueItems is quadratic; lists longer than this are not compared. */
#define MAX_UNIQUE_ITEMS 2000

struct vctx {
	const struct schema_type *t;
	const char *logical_id;
	struct diag_list *out;
	struct strbuf path;
	struct strbuf msg;
	int depth;
};

static void report(struct vctx *c, enum diag_severity sev,
		   const struct mark *m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct vctx *c, enum diag_severity sev,
		   const struct mark *m, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&c->msg);
	va_start(ap, fmt);
	strbuf_vaddf(&c->msg, fmt, ap);
	va_end(ap);
	diag_add(c->out, sev, m, c->logical_id, c->path.buf, "%s", c->msg.buf);
}

/* ---- rendering values in messages ---- */

#define SHOW_MAX 60 /* bytes of a string shown in a message */

/* Appends v as a message shows it: quoted string, bare number or boolean;
 * "(sensitive)" for values from NoEcho parameters or secrets. */
static void show_value(struct strbuf *sb, const struct value *v)
{
	size_t len;

	if (v->sensitive) {
		strbuf_addstr(sb, "(sensitive)");
		return;
	}
	switch (v->kind) {
	case VALUE_STRING:
		len = v->u.str.len;
		if (len > SHOW_MAX) {
			len = SHOW_MAX;
			while (len > 0 && ((unsigned char)v->u.str.s[len] & 0xc0) ==
						  0x80)
				len--; /* do not cut a UTF-8 sequence */
			strbuf_add_json_str(sb, v->u.str.s, len);
			strbuf_setlen(sb, sb->len - 1);
			strbuf_addstr(sb, "...\"");
		} else {
			strbuf_add_json_str(sb, v->u.str.s, len);
		}
		break;
	case VALUE_NUMBER:
		strbuf_addstr(sb, v->u.num.text);
		break;
	case VALUE_BOOL:
		strbuf_addstr(sb, v->u.b ? "true" : "false");
		break;
	default:
		strbuf_addstr(sb, value_kind_name(v->kind));
		break;
	}
}

static const char *kind_word(enum value_kind k)
{
	switch (k) {
	case VALUE_NULL:
		return "null";
	case VALUE_BOOL:
		return "boolean";
	case VALUE_NUMBER:
		return "number";
	case VALUE_STRING:
		return "string";
	case VALUE_LIST:
		return "list";
	case VALUE_MAP:
		return "map";
	case VALUE_UNKNOWN:
		break;
	}
	return "unknown value";
}

static void show_types(struct strbuf *sb, unsigned types)
{
	static const struct {
		unsigned bit;
		const char *word;
	} words[] = {
		{ ST_STRING, "string" }, { ST_INTEGER, "integer" },
		{ ST_NUMBER, "number" }, { ST_BOOLEAN, "boolean" },
		{ ST_OBJECT, "map" },	 { ST_ARRAY, "list" },
		{ ST_NULL, "null" },
	};
	size_t i, n = 0, total = 0;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		total += (types & words[i].bit) ? 1 : 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(types & words[i].bit))
			continue;
		if (n)
			strbuf_addstr(sb, n + 1 == total ? " or " : ", ");
		strbuf_addstr(sb, words[i].word);
		n++;
	}
}

static void show_number(struct strbuf *sb, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		strbuf_addf(sb, "%.0f", d);
	else
		strbuf_addf(sb, "%g", d);
}

static void show_names(struct strbuf *sb, const char *const *names, size_t n,
		       const char *last_sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(sb, i + 1 == n ? last_sep : ", ");
		strbuf_addf(sb, "\"%s\"", names[i]);
	}
}

/* The closest candidate to name, or NULL when none is close enough. */
static const char *closest(const char *name, const char *const *cands,
			   size_t n, size_t stride)
{
	size_t len = strlen(name), cap, best_d, i;
	const char *best = NULL;

	cap = len <= 3 ? 1 : len <= 8 ? 2 : 3;
	best_d = cap + 1;
	for (i = 0; i < n; i++) {
		const char *cand =
			*(const char *const *)((const char *)cands + i * stride);
		size_t d;
		if (!cand)
			continue;
		d = schema_edit_distance(name, cand, cap);
		/* "C" for "A" is no suggestion: something must be shared */
		if (d < best_d && d < len && d < strlen(cand)) {
			best_d = d;
			best = cand;
		}
	}
	return best;
}

/* ---- scalar coercion (CloudFormation's, not JSON Schema's) ---- */

static bool parse_number(const char *s, double *d)
{
	const char *p;
	char *end;

	/* most strings are not numbers: decide on the first character */
	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	/* strtod would also take hex, "inf" and "nan" */
	for (p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	*d = strtod(s, &end);
	return *end == '\0' && isfinite(*d);
}

static bool parse_bool(const char *s, bool *b)
{
	if (*s != 't' && *s != 'T' && *s != 'f' && *s != 'F')
		return false;
	if (!strcasecmp(s, "true"))
		*b = true;
	else if (!strcasecmp(s, "false"))
		*b = false;
	else
		return false;
	return true;
}

static bool integral(double d)
{
	return d == floor(d);
}

/* The ST_* types a value satisfies. */
static unsigned satisfied(const struct value *v)
{
	double d;
	bool b;

	switch (v->kind) {
	case VALUE_NULL:
		return ST_NULL;
	case VALUE_BOOL:
		return ST_BOOLEAN | ST_STRING;
	case VALUE_NUMBER:
		return ST_NUMBER | ST_STRING |
		       (integral(v->u.num.d) ? ST_INTEGER : 0);
	case VALUE_STRING: {
		unsigned bits = ST_STRING;
		if (parse_number(v->u.str.s, &d))
			bits |= ST_NUMBER | (integral(d) ? ST_INTEGER : 0);
		if (parse_bool(v->u.str.s, &b))
			bits |= ST_BOOLEAN;
		return bits;
	}
	case VALUE_LIST:
		return ST_ARRAY;
	case VALUE_MAP:
		return ST_OBJECT;
	case VALUE_UNKNOWN:
		break;
	}
	return ~0u;
}

/* How the schema sees a scalar. */
enum as_kind { AS_NONE, AS_STRING, AS_NUMBER, AS_BOOL };

struct scalar {
	enum as_kind as;
	const char *text; /* AS_STRING */
	size_t len;
	double d; /* AS_NUMBER */
	bool b;   /* AS_BOOL */
};

static void scalar_of(const struct snode *n, const struct value *v,
		      unsigned sat, struct scalar *s)
{
	unsigned types = n->types;

	memset(s, 0, sizeof(*s));
	switch (v->kind) {
	case VALUE_STRING:
		if (!types || (types & ST_STRING)) {
			s->as = AS_STRING;
			s->text = v->u.str.s;
			s->len = v->u.str.len;
		} else if (types & sat & (ST_NUMBER | ST_INTEGER)) {
			s->as = AS_NUMBER;
			parse_number(v->u.str.s, &s->d);
		} else {
			s->as = AS_BOOL;
			parse_bool(v->u.str.s, &s->b);
		}
		break;
	case VALUE_NUMBER:
		if (!types || (types & sat & (ST_NUMBER | ST_INTEGER))) {
			s->as = AS_NUMBER;
			s->d = v->u.num.d;
		} else {
			s->as = AS_STRING;
			s->text = v->u.num.text;
			s->len = strlen(s->text);
		}
		break;
	case VALUE_BOOL:
		if (!types || (types & ST_BOOLEAN)) {
			s->as = AS_BOOL;
			s->b = v->u.b;
		} else {
			s->as = AS_STRING;
			s->text = v->u.b ? "true" : "false";
			s->len = strlen(s->text);
		}
		break;
	default:
		break;
	}
}

/* ---- formats ---- */

static bool ipv4_cidr(const char *s)
{
	int part, digits;
	long v;

	for (part = 0; part < 5; part++) {
		v = 0;
		digits = 0;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return false; /* leading zero: octal to some parsers */
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits || v > (part < 4 ? 255 : 32))
			return false;
		if (part < 3 && *s++ != '.')
			return false;
		if (part == 3 && *s++ != '/')
			return false;
	}
	return *s == '\0';
}

static bool ipv6_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	unsigned char buf[16];
	char addr[64];
	const char *p;
	long prefix = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1] ||
	    strlen(slash + 1) > 3)
		return false;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		prefix = prefix * 10 + (*p - '0');
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	return prefix <= 128 && inet_pton(AF_INET6, addr, buf) == 1;
}

static bool valid_json(const char *s, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(s, len);

	if (!j)
		return false;
	cJSON_Delete(j);
	return true;
}

/* ---- the walk ---- */

static void check(struct vctx *c, const struct snode *n,
		  const struct value *v);

static size_t push_key(struct vctx *c, const char *key)
{
	size_t old = c->path.len;

	strbuf_addch(&c->path, '.');
	strbuf_addstr(&c->path, key);
	return old;
}

static size_t push_index(struct vctx *c, size_t i)
{
	size_t old = c->path.len;
	char digits[24];
	size_t n = 0;

	/* by hand: printf costs more than the rest of a small check */
	do {
		digits[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	strbuf_addch(&c->path, '[');
	while (n)
		strbuf_addch(&c->path, digits[--n]);
	strbuf_addch(&c->path, ']');
	return old;
}

static void pop(struct vctx *c, size_t old)
{
	strbuf_setlen(&c->path, old);
}

/* The value as messages show it, rendered on the first problem only. */
static const char *shown(struct strbuf *sb, const struct value *v)
{
	if (!sb->len)
		show_value(sb, v);
	return sb->buf;
}

static void check_string(struct vctx *c, const struct snode *n,
			 const struct value *v, const struct scalar *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (n->min_len >= 0 || n->max_len >= 0) {
		size_t len = schema_utf8_len(s->text, s->len);
		if (n->min_len >= 0 && len < (size_t)n->min_len)
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is too short (%zu characters, minimum %ld)",
			       shown(&sb, v), len, n->min_len);
		else if (n->max_len >= 0 && len > (size_t)n->max_len)
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is too long (%zu characters, maximum %ld)",
			       shown(&sb, v), len, n->max_len);
	}
	/* a value with a NUL cannot be given to regexec whole: skip */
	if (n->pattern && strlen(s->text) == s->len &&
	    !schema_regex_match(n->pattern, s->text))
		report(c, DIAG_ERROR, &v->mark,
		       "value %s does not match pattern \"%s\"", shown(&sb, v),
		       n->pattern->src);
	switch (n->format) {
	case SF_IPV4_NETWORK:
		if (!ipv4_cidr(s->text))
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is not a valid IPv4 CIDR block "
			       "(like 10.0.0.0/16)",
			       shown(&sb, v));
		break;
	case SF_IPV6_NETWORK:
		if (!ipv6_cidr(s->text))
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is not a valid IPv6 CIDR block",
			       shown(&sb, v));
		break;
	case SF_JSON:
		if (v->kind == VALUE_STRING && !valid_json(s->text, s->len))
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is not valid JSON", shown(&sb, v));
		break;
	case SF_NONE:
		break;
	}
	strbuf_release(&sb);
}

static void check_number(struct vctx *c, const struct snode *n,
			 const struct value *v, double d)
{
	struct strbuf sb = STRBUF_INIT, lim = STRBUF_INIT;

	if (n->has_min && d < n->minimum) {
		show_number(&lim, n->minimum);
		report(c, DIAG_ERROR, &v->mark,
		       "value %s is less than the minimum %s", shown(&sb, v),
		       lim.buf);
	} else if (n->has_max && d > n->maximum) {
		show_number(&lim, n->maximum);
		report(c, DIAG_ERROR, &v->mark,
		       "value %s is greater than the maximum %s", shown(&sb, v),
		       lim.buf);
	} else if (n->has_excl_min && d <= n->excl_min) {
		show_number(&lim, n->excl_min);
		report(c, DIAG_ERROR, &v->mark, "value %s must be greater than %s",
		       shown(&sb, v), lim.buf);
	} else if (n->has_excl_max && d >= n->excl_max) {
		show_number(&lim, n->excl_max);
		report(c, DIAG_ERROR, &v->mark, "value %s must be less than %s",
		       shown(&sb, v), lim.buf);
	}
	if (n->multiple_of > 0) {
		double q = d / n->multiple_of;
		/* 0.3 / 0.1 is 2.9999999999999996 in binary */
		if (fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q))) {
			strbuf_reset(&lim);
			show_number(&lim, n->multiple_of);
			report(c, DIAG_ERROR, &v->mark,
			       "value %s is not a multiple of %s", shown(&sb, v),
			       lim.buf);
		}
	}
	strbuf_release(&lim);
	strbuf_release(&sb);
}

/* Whether v equals a literal of an enum or const, with coercion. */
static bool literal_matches(const struct sliteral *lit, const struct value *v)
{
	double d;
	bool b;

	switch (lit->kind) {
	case ST_STRING:
		if (v->kind == VALUE_STRING)
			return !strcmp(v->u.str.s, lit->s);
		if (v->kind == VALUE_NUMBER)
			return !strcmp(v->u.num.text, lit->s);
		if (v->kind == VALUE_BOOL)
			return !strcmp(v->u.b ? "true" : "false", lit->s);
		return false;
	case ST_NUMBER:
		if (v->kind == VALUE_NUMBER)
			return v->u.num.d == lit->d;
		return v->kind == VALUE_STRING &&
		       parse_number(v->u.str.s, &d) && d == lit->d;
	case ST_BOOLEAN:
		if (v->kind == VALUE_BOOL)
			return v->u.b == lit->b;
		return v->kind == VALUE_STRING && parse_bool(v->u.str.s, &b) &&
		       b == lit->b;
	case ST_NULL:
		return v->kind == VALUE_NULL;
	}
	return false;
}

static void show_literal(struct strbuf *sb, const struct sliteral *lit)
{
	if (lit->kind == ST_STRING)
		strbuf_add_json_str(sb, lit->s, strlen(lit->s));
	else
		strbuf_addstr(sb, lit->s);
}

static void check_enum(struct vctx *c, const struct snode *n,
		       const struct value *v)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (n->nenums) {
		for (i = 0; i < n->nenums; i++)
			if (literal_matches(&n->enums[i], v))
				break;
		if (i == n->nenums) {
			const char *hint = NULL;
			strbuf_addstr(&sb, "value ");
			show_value(&sb, v);
			strbuf_addstr(&sb, " is not one of ");
			for (i = 0; i < n->nenums; i++) {
				if (i)
					strbuf_addstr(&sb, ", ");
				show_literal(&sb, &n->enums[i]);
			}
			if (v->kind == VALUE_STRING && !v->sensitive) {
				for (i = 0; i < n->nenums && !hint; i++)
					if (n->enums[i].kind != ST_STRING)
						break;
				if (i == n->nenums)
					hint = closest(v->u.str.s,
						       &n->enums[0].s, n->nenums,
						       sizeof(n->enums[0]));
			}
			if (hint)
				strbuf_addf(&sb, " (did you mean \"%s\"?)", hint);
			report(c, DIAG_ERROR, &v->mark, "%s", sb.buf);
		}
	}
	if (n->constv && !literal_matches(n->constv, v)) {
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "value ");
		show_value(&sb, v);
		strbuf_addstr(&sb, " must be ");
		show_literal(&sb, n->constv);
		report(c, DIAG_ERROR, &v->mark, "%s", sb.buf);
	}
	strbuf_release(&sb);
}

static const struct value_pair *find_pair(const struct value *map,
					  const char *key, size_t *idx)
{
	size_t i;

	for (i = 0; i < map->u.map.n; i++) {
		if (!strcmp(map->u.map.items[i].key, key)) {
			if (idx)
				*idx = i;
			return &map->u.map.items[i];
		}
	}
	return NULL;
}

static void check_unknown_key(struct vctx *c, const struct snode *n,
			      const struct value_pair *p)
{
	const char *hint = NULL;
	struct strbuf key = STRBUF_INIT;

	/* escaped: a quoted YAML key may hold a newline or a quote */
	strbuf_add_json_str(&key, p->key, strlen(p->key));
	if (n->nprops)
		hint = closest(p->key, (const char *const *)&n->props[0].name,
			       n->nprops, sizeof(n->props[0]));
	if (hint)
		report(c, DIAG_ERROR, &p->key_mark,
		       "unknown property %s (did you mean \"%s\"?)", key.buf, hint);
	else
		report(c, DIAG_ERROR, &p->key_mark, "unknown property %s", key.buf);
	strbuf_release(&key);
}

/* Top-level notes: deprecated and read-only properties. */
static void check_top_key(struct vctx *c, const struct sprop *sp,
			  const struct value_pair *p)
{
	if (sp->deprecated)
		report(c, DIAG_WARNING, &p->key_mark,
		       "property \"%s\" is deprecated", p->key);
	if (sp->read_only)
		report(c, DIAG_WARNING, &p->key_mark,
		       "property \"%s\" is read-only (AWS sets it); "
		       "the value given is ignored",
		       p->key);
}

static void check_object(struct vctx *c, const struct snode *n,
			 const struct value *v)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;

	for (i = 0; i < v->u.map.n; i++) {
		const struct value_pair *p = &v->u.map.items[i];
		const struct sprop *sp = snode_sprop(n, p->key);
		size_t old = push_key(c, p->key);

		if (sp) {
			if (n == c->t->root)
				check_top_key(c, sp, p);
			check(c, sp->node, p->val);
		} else {
			bool matched = false;
			for (j = 0; j < n->npprops && !matched; j++) {
				if (schema_regex_match(n->pprops[j].re, p->key)) {
					check(c, n->pprops[j].node, p->val);
					matched = true;
				}
			}
			if (!matched && n->addl)
				check(c, n->addl, p->val);
			else if (!matched && n->addl_false)
				check_unknown_key(c, n, p);
		}
		pop(c, old);
	}

	for (i = 0; i < n->nrequired; i++)
		if (!find_pair(v, n->required[i], NULL))
			report(c, DIAG_ERROR, &v->mark,
			       "missing required property \"%s\"", n->required[i]);

	if (n->nreq_xor) {
		const struct value_pair *found[2] = { NULL, NULL };
		size_t count = 0;
		for (i = 0; i < n->nreq_xor; i++) {
			const struct value_pair *p = find_pair(v, n->req_xor[i], NULL);
			if (p && count < 2)
				found[count] = p;
			count += p ? 1 : 0;
		}
		strbuf_reset(&sb);
		show_names(&sb, n->req_xor, n->nreq_xor, ", ");
		if (count == 0)
			report(c, DIAG_ERROR, &v->mark,
			       "exactly one of %s is required, found none", sb.buf);
		else if (count > 1)
			report(c, DIAG_ERROR, &found[1]->key_mark,
			       "exactly one of %s is required, found \"%s\" and \"%s\"",
			       sb.buf, found[0]->key, found[1]->key);
	}

	if (n->nreq_or) {
		for (i = 0; i < n->nreq_or; i++)
			if (find_pair(v, n->req_or[i], NULL))
				break;
		if (i == n->nreq_or) {
			strbuf_reset(&sb);
			show_names(&sb, n->req_or, n->nreq_or, ", ");
			report(c, DIAG_ERROR, &v->mark,
			       "at least one of %s is required", sb.buf);
		}
	}

	for (i = 0; i < n->ndep_req; i++) {
		const struct sdep *d = &n->dep_req[i];
		const struct value_pair *p = find_pair(v, d->name, NULL);
		if (!p)
			continue;
		for (j = 0; j < d->n; j++)
			if (!find_pair(v, d->names[j], NULL))
				report(c, DIAG_ERROR, &p->key_mark,
				       "property \"%s\" requires \"%s\"", d->name,
				       d->names[j]);
	}

	for (i = 0; i < n->ndep_excl; i++) {
		const struct sdep *d = &n->dep_excl[i];
		size_t ia, ib;
		const struct value_pair *pa = find_pair(v, d->name, &ia);
		if (!pa)
			continue;
		for (j = 0; j < d->n; j++) {
			const struct value_pair *pb = find_pair(v, d->names[j], &ib);
			size_t k, m;
			bool mutual = false;
			if (!pb)
				continue;
			/* listed both ways: say it once, at the later key */
			for (k = 0; k < n->ndep_excl && !mutual; k++) {
				if (strcmp(n->dep_excl[k].name, d->names[j]))
					continue;
				for (m = 0; m < n->dep_excl[k].n; m++)
					if (!strcmp(n->dep_excl[k].names[m], d->name))
						mutual = true;
			}
			if (mutual && ia < ib)
				continue;
			report(c, DIAG_ERROR, &pa->key_mark,
			       "property \"%s\" cannot be used with \"%s\"",
			       d->name, d->names[j]);
		}
	}
	strbuf_release(&sb);
}

static void check_array(struct vctx *c, const struct snode *n,
			const struct value *v)
{
	size_t count = v->u.list.n, i, j, k;

	if (n->min_items >= 0 && count < (size_t)n->min_items)
		report(c, DIAG_ERROR, &v->mark, "list has %zu item%s, minimum %ld",
		       count, count == 1 ? "" : "s", n->min_items);
	else if (n->max_items >= 0 && count > (size_t)n->max_items)
		report(c, DIAG_ERROR, &v->mark, "list has %zu item%s, maximum %ld",
		       count, count == 1 ? "" : "s", n->max_items);

	if (n->unique_items && count <= MAX_UNIQUE_ITEMS) {
		for (i = 1; i < count; i++) {
			for (j = 0; j < i; j++) {
				if (value_equal(v->u.list.items[j],
						v->u.list.items[i])) {
					size_t old = push_index(c, i);
					report(c, DIAG_ERROR, &v->u.list.items[i]->mark,
					       "duplicate list item (same as item %zu)",
					       j);
					pop(c, old);
					break;
				}
			}
		}
	}
	for (k = 0; k < n->nunique_keys && count <= MAX_UNIQUE_ITEMS; k++) {
		const char *key = n->unique_keys[k];
		for (i = 1; i < count; i++) {
			const struct value *vi = value_map_get(v->u.list.items[i], key);
			if (!vi)
				continue;
			for (j = 0; j < i; j++) {
				const struct value *vj =
					value_map_get(v->u.list.items[j], key);
				if (vj && value_equal(vi, vj)) {
					struct strbuf sb = STRBUF_INIT;
					size_t old = push_index(c, i);
					show_value(&sb, vi);
					report(c, DIAG_ERROR, &vi->mark,
					       "duplicate \"%s\" %s (same as item %zu)",
					       key, sb.buf, j);
					pop(c, old);
					strbuf_release(&sb);
					break;
				}
			}
		}
	}
	if (n->items) {
		for (i = 0; i < count; i++) {
			size_t old = push_index(c, i);
			check(c, n->items, v->u.list.items[i]);
			pop(c, old);
		}
	}
}

/* A node that only says {"required": [...]} (anyOf of required sets). */
static bool required_only(const struct snode *n)
{
	return n->nrequired && !n->types && !n->nprops && !n->addl_false &&
	       !n->addl && !n->npprops && !n->nreq_xor && !n->nreq_or &&
	       !n->ndep_req && !n->ndep_excl && !n->items && !n->pattern &&
	       !n->nenums && !n->constv && !n->nany_of && !n->none_of &&
	       !n->nall_of;
}

/* Runs one alternative into a scratch list; returns its error count. */
static size_t try_alternative(struct vctx *c, const struct snode *alt,
			      const struct value *v, struct diag_list *scratch)
{
	struct diag_list *saved = c->out;

	c->out = scratch;
	check(c, alt, v);
	c->out = saved;
	return scratch->errors;
}

static void copy_diags(struct vctx *c, const struct diag_list *from)
{
	size_t i;

	for (i = 0; i < from->n; i++) {
		const struct diag *d = &from->items[i];
		diag_add(c->out, d->severity, &d->mark, d->logical_id, d->path,
			 "%s", d->msg);
	}
}

static void check_alternatives(struct vctx *c, struct snode *const *alts,
			       size_t n, bool one, const struct value *v)
{
	struct diag_list *lists = xcalloc(n ? n : 1, sizeof(*lists));
	size_t i, passed = 0, best = 0;
	bool all_required = true;

	for (i = 0; i < n; i++) {
		if (try_alternative(c, alts[i], v, &lists[i]) == 0)
			passed++;
		if (lists[i].errors < lists[best].errors)
			best = i;
		all_required = all_required && required_only(alts[i]);
	}
	if (passed == 0 && all_required && v->kind == VALUE_MAP) {
		struct strbuf sb = STRBUF_INIT;
		size_t k, m = 0;
		for (i = 0; i < n; i++)
			for (k = 0; k < alts[i]->nrequired; k++)
				strbuf_addf(&sb, "%s\"%s\"", m++ ? ", " : "",
					    alts[i]->required[k]);
		report(c, DIAG_ERROR, &v->mark, "at least one of %s is required",
		       sb.buf);
		strbuf_release(&sb);
	} else if (passed == 0) {
		/* the closest alternative says best what is wrong */
		copy_diags(c, &lists[best]);
	} else if (one && passed > 1 && (v->kind == VALUE_MAP || v->kind == VALUE_LIST)) {
		/* scalars are exempt: with CloudFormation's coercion "5" is
		 * both a string and an integer, so a oneOf of scalar types
		 * cannot be exclusive */
		report(c, DIAG_ERROR, &v->mark,
		       "value matches more than one of the allowed forms");
	}
	for (i = 0; i < n; i++)
		diag_list_release(&lists[i]);
	free(lists);
}

static void check(struct vctx *c, const struct snode *n, const struct value *v)
{
	unsigned sat;
	struct scalar s;
	size_t i;

	/* a dynamic reference's value is known only at apply: like an
	 * unknown, nothing can be said of it now */
	if (!v || v->kind == VALUE_UNKNOWN || v->dynref || c->depth >= MAX_DEPTH)
		return;
	c->depth++;
	sat = satisfied(v);
	if (n->types && !(n->types & sat)) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "expected ");
		show_types(&sb, n->types);
		strbuf_addf(&sb, ", got %s", kind_word(v->kind));
		if (v->kind == VALUE_STRING || v->kind == VALUE_NUMBER ||
		    v->kind == VALUE_BOOL) {
			strbuf_addch(&sb, ' ');
			show_value(&sb, v);
		}
		report(c, DIAG_ERROR, &v->mark, "%s", sb.buf);
		strbuf_release(&sb);
		c->depth--;
		return;
	}
	switch (v->kind) {
	case VALUE_MAP:
		check_object(c, n, v);
		break;
	case VALUE_LIST:
		check_array(c, n, v);
		break;
	case VALUE_STRING:
	case VALUE_NUMBER:
	case VALUE_BOOL:
		scalar_of(n, v, sat, &s);
		if (s.as == AS_STRING)
			check_string(c, n, v, &s);
		else if (s.as == AS_NUMBER)
			check_number(c, n, v, s.d);
		break;
	default:
		break;
	}
	check_enum(c, n, v);
	for (i = 0; i < n->nall_of; i++)
		check(c, n->all_of[i], v);
	if (n->nany_of)
		check_alternatives(c, n->any_of, n->nany_of, false, v);
	if (n->none_of)
		check_alternatives(c, n->one_of, n->none_of, true, v);
	c->depth--;
}

void schema_validate_at(const struct schema_type *t, const struct value *props,
			const char *logical_id, const struct mark *where,
			struct diag_list *out)
{
	struct vctx c;
	struct value empty;

	if (!t)
		return;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.logical_id = logical_id;
	c.out = out;
	strbuf_init(&c.path, 64);
	strbuf_init(&c.msg, 128);
	strbuf_addstr(&c.path, "Properties");
	if (!props) {
		/* no Properties: the required checks still apply */
		memset(&empty, 0, sizeof(empty));
		empty.kind = VALUE_MAP;
		if (where)
			empty.mark = *where;
		props = &empty;
	}
	if (props->kind != VALUE_MAP && props->kind != VALUE_UNKNOWN)
		report(&c, DIAG_ERROR, &props->mark, "expected map, got %s",
		       kind_word(props->kind));
	else
		check(&c, t->root, props);
	strbuf_release(&c.path);
	strbuf_release(&c.msg);
}

void schema_validate(const struct schema_type *t, const struct value *props,
		     const char *logical_id, struct diag_list *out)
{
	schema_validate_at(t, props, logical_id, NULL, out);
}
