/*
 * The evaluator: parameters (with constraints), conditions, intrinsic
 * functions and pseudo parameters.
 *
 * eval() returns a new value (scalars from the template are shared, not
 * copied: treat results as read-only), NOVALUE for AWS::NoValue (the parent
 * drops the key or item), or NULL after reporting a problem (the parent
 * drops it too, so one mistake gives one message). Values only AWS knows
 * are VALUE_UNKNOWN; anything built from them is unknown as well.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/schema.h"
#include "internal.h"

/* Conditions refer to conditions; the C stack bounds how deep. */
#define TMPL_MAX_COND_DEPTH 100

static struct value novalue_node;
#define NOVALUE (&novalue_node)

struct ev {
	struct arena *a;
	const struct template *t;
	const struct tmpl_ctx *ctx;
	struct diag_list *dl;
	struct tmpl_stack *st;
	const char *logical_id;
	struct strbuf path;
	bool in_condition; /* evaluating the Conditions section */
	bool in_rules;     /* evaluating the Rules section */
	/* references of the resource being evaluated */
	struct tmpl_ref *refs;
	size_t nrefs, refs_cap;
	/* per condition: 0 not yet, 1 in progress, 2 done */
	unsigned char *cond_state;
	size_t *cond_chain;
	size_t ncond_chain;
	size_t errors;
	size_t suggest_work; /* candidates compared for "did you mean" */
	const char **names;  /* parameter then resource names, lazily */
};

/* "Did you mean" compares the word with every name: bounded so that a
 * template with thousands of bad references stays fast, and skipped for
 * errors that will not be shown. */
#define SUGGEST_BUDGET 2000000u

enum names { NAMES_PARAMS, NAMES_RESOURCES, NAMES_ALL };

static const char *suggest(struct ev *e, const char *word, enum names which)
{
	const struct template *t = e->t;
	size_t n, i;

	if (!e->names) { /* built once: params then resources */
		e->names = arena_alloc(e->a, (t->nparams + t->nresources + 1) *
						     sizeof(*e->names));
		for (i = 0; i < t->nparams; i++)
			e->names[i] = t->params[i].name;
		for (i = 0; i < t->nresources; i++)
			e->names[t->nparams + i] = t->resources[i].logical_id;
	}
	n = which == NAMES_PARAMS ? t->nparams
	    : which == NAMES_RESOURCES ? t->nresources
				       : t->nparams + t->nresources;
	if (e->dl->errors >= TEMPLATE_MAX_ERRORS ||
	    e->suggest_work + n > SUGGEST_BUDGET)
		return NULL;
	e->suggest_work += n;
	return tmpl_suggest(word, e->names + (which == NAMES_RESOURCES ?
						      t->nparams : 0), n);
}

static void everr(struct ev *e, const struct mark *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void everr(struct ev *e, const struct mark *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	e->errors++;
	if (e->dl->errors >= TEMPLATE_MAX_ERRORS)
		return;
	if (e->dl->errors == TEMPLATE_MAX_ERRORS - 1) {
		diag_add(e->dl, DIAG_ERROR, m, e->logical_id,
			 e->path.len ? e->path.buf : NULL,
			 "too many errors; the rest are not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag_add(e->dl, DIAG_ERROR, m, e->logical_id,
		 e->path.len ? e->path.buf : NULL, "%s", buf);
}

static void add_ref(struct ev *e, const char *target, const char *attr,
		    enum tmpl_ref_kind kind, const struct mark *m)
{
	if (!e->logical_id || e->in_condition)
		return;
	if (e->nrefs == e->refs_cap) {
		size_t cap = e->refs_cap ? e->refs_cap * 2 : 8;
		e->refs = arena_realloc(e->a, e->refs, e->refs_cap * sizeof(*e->refs),
					cap * sizeof(*e->refs));
		e->refs_cap = cap;
	}
	e->refs[e->nrefs].target = target;
	e->refs[e->nrefs].attr = attr;
	e->refs[e->nrefs].kind = kind;
	e->refs[e->nrefs].mark = *m;
	e->nrefs++;
}

const char *tmpl_ref_kind_name(enum tmpl_ref_kind k)
{
	switch (k) {
	case TMPL_REF_REF:
		return "ref";
	case TMPL_REF_GETATT:
		return "getatt";
	case TMPL_REF_SUB:
		return "sub";
	case TMPL_REF_DEPENDSON:
		return "dependson";
	}
	return "?";
}

static struct value *eval(struct ev *e, const struct value *v);
static int eval_condition(struct ev *e, const char *name, const struct mark *m);

static struct value *unknown(struct ev *e, const char *what,
			     const struct mark *m, bool sensitive)
{
	struct value *u = value_new_unknown(e->a, what);
	u->mark = *m;
	u->sensitive = sensitive;
	return u;
}

static struct value *str_at(struct ev *e, const char *s, size_t len,
			    const struct mark *m, bool sensitive)
{
	struct value *v = value_new_stringn(e->a, s, len);
	v->mark = *m;
	v->sensitive = sensitive;
	return v;
}

/* Appends a scalar's text; a list, map or null is an error naming fn.
 * Unknowns append ${what} and set *unk. Returns -1 after reporting. */
static int append_text(struct ev *e, const struct value *v, struct strbuf *out,
		       bool *unk, bool *sens, const char *fn)
{
	if (v->sensitive)
		*sens = true;
	switch (v->kind) {
	case VALUE_STRING:
		strbuf_add(out, v->u.str.s, v->u.str.len);
		return 0;
	case VALUE_NUMBER:
		strbuf_addstr(out, v->u.num.text);
		return 0;
	case VALUE_BOOL:
		strbuf_addstr(out, v->u.b ? "true" : "false");
		return 0;
	case VALUE_UNKNOWN:
		strbuf_addf(out, "${%s}", v->u.unknown.what);
		*unk = true;
		return 0;
	default:
		everr(e, &v->mark, "%s needs a string here, not a %s", fn,
		      value_kind_name(v->kind));
		return -1;
	}
}

static const char *pseudo_value(struct ev *e, const char *name)
{
	const struct tmpl_ctx *c = e->ctx;

	if (!strcmp(name, "AWS::Region"))
		return c->region;
	if (!strcmp(name, "AWS::AccountId"))
		return c->account;
	if (!strcmp(name, "AWS::StackName"))
		return c->stack_name;
	if (!strcmp(name, "AWS::StackId"))
		return c->stack_id;
	if (!strcmp(name, "AWS::Partition"))
		return c->partition;
	if (!strcmp(name, "AWS::URLSuffix"))
		return c->url_suffix;
	return NULL;
}

static void suggest_name(struct ev *e, const char *name, struct strbuf *hint)
{
	const char *s = suggest(e, name,
				e->in_condition ? NAMES_PARAMS : NAMES_ALL);

	if (s)
		strbuf_addf(hint, " (did you mean \"%s\"?)", s);
}

/* The resource named by a Ref/GetAtt/Sub, checked to be included; NULL
 * after reporting. */
static const struct tmpl_eval_resource *target_resource(struct ev *e,
							const char *name,
							const char *fn,
							const struct mark *m)
{
	size_t i;
	const struct tmpl_eval_resource *er;

	if (!tmpl_index_get(&e->t->res_idx, name, &i))
		return NULL;
	er = &e->st->resources[i];
	if (!er->included && er->res->noop) {
		everr(e, m, "%s to \"%s\", which is not created (%s has no "
			    "physical resource)",
		      fn, name, er->res->type);
		return NULL;
	}
	if (!er->included) {
		everr(e, m, "%s to \"%s\", which is not created (its condition "
			    "\"%s\" is false)",
		      fn, name, er->res->condition);
		return NULL;
	}
	return er;
}

/* Ref: pseudo parameter, parameter or resource. */
static struct value *ref_name(struct ev *e, const char *name,
			      const struct mark *m, enum tmpl_ref_kind kind)
{
	const char *pv;
	const struct value *known;
	size_t i;

	if (!strcmp(name, "AWS::NoValue"))
		return NOVALUE;
	if (!strcmp(name, "AWS::NotificationARNs")) {
		struct value *l = value_new_list(e->a);
		l->mark = *m;
		return l;
	}
	pv = pseudo_value(e, name);
	if (pv)
		return str_at(e, pv, strlen(pv), m, false);
	if (tmpl_index_get(&e->t->param_idx, name, &i)) {
		struct value *p = value_map_get(e->st->params, name), *c;
		if (!p) /* its value was rejected; already reported */
			return unknown(e, "(error)", m, false);
		/* a shallow copy marked where the Ref is, so that later
		 * problems with the value point at the property */
		c = arena_alloc(e->a, sizeof(*c));
		*c = *p;
		c->mark = *m;
		return c;
	}
	if (tmpl_index_get(&e->t->res_idx, name, &i)) {
		if (e->in_condition) {
			everr(e, m, "%s cannot refer to resources (\"%s\")",
			      e->in_rules ? "rules" : "conditions", name);
			return NULL;
		}
		if (!target_resource(e, name, "Ref", m))
			return NULL;
		add_ref(e, e->t->resources[i].logical_id, NULL, kind, m);
		if (e->ctx->resolve) {
			known = e->ctx->resolve(e->ctx->resolve_ud, name, NULL);
			if (known)
				return (struct value *)known;
		}
		return unknown(e, name, m, false);
	}
	{
		struct strbuf hint = STRBUF_INIT;
		suggest_name(e, name, &hint);
		if (!strncmp(name, "AWS::", 5))
			everr(e, m, "unknown pseudo parameter \"%s\"", name);
		else
			everr(e, m, "unresolved reference \"%s\": no parameter "
				    "or resource has that name%s",
			      name, hint.buf);
		strbuf_release(&hint);
	}
	return NULL;
}

static struct value *getatt(struct ev *e, const char *res, const char *attr,
			    const struct mark *m, enum tmpl_ref_kind kind)
{
	const struct tmpl_eval_resource *er;
	const char *lid;
	size_t i;

	if (!tmpl_index_get(&e->t->res_idx, res, &i)) {
		struct strbuf hint = STRBUF_INIT;
		const char *s = suggest(e, res, NAMES_RESOURCES);
		if (s)
			strbuf_addf(&hint, " (did you mean \"%s\"?)", s);
		everr(e, m, "Fn::GetAtt of unknown resource \"%s\"%s", res,
		      hint.buf);
		strbuf_release(&hint);
		return NULL;
	}
	if (e->in_condition) {
		everr(e, m, "conditions cannot refer to resources (\"%s\")", res);
		return NULL;
	}
	er = target_resource(e, res, "Fn::GetAtt", m);
	if (!er)
		return NULL;
	lid = er->res->logical_id;
	if (er->res->schema && !schema_has_attribute(er->res->schema, attr)) {
		const char *list = schema_attributes(er->res->schema);
		const char *names[128], *s = NULL;
		size_t n = 0;
		char *copy = arena_strdup(e->a, list ? list : ""), *tok, *save;

		for (tok = strtok_r(copy, ", ", &save); tok && n < 128;
		     tok = strtok_r(NULL, ", ", &save))
			names[n++] = tok;
		s = tmpl_suggest(attr, names, n);
		if (s)
			everr(e, m, "%s has no attribute \"%s\" (did you mean "
				    "\"%s\"?)", lid, attr, s);
		else
			everr(e, m, "%s has no attribute \"%s\" (type %s has: %s)",
			      lid, attr, er->res->type,
			      list && *list ? list : "no attributes");
		return NULL;
	}
	add_ref(e, lid, arena_strdup(e->a, attr), kind, m);
	if (e->ctx->resolve) {
		const struct value *known =
			e->ctx->resolve(e->ctx->resolve_ud, lid, attr);
		if (known)
			return (struct value *)known;
	}
	return unknown(e, arena_sprintf(e->a, "%s.%s", lid, attr), m, false);
}

static struct value *fn_ref(struct ev *e, const struct value *arg,
			    const struct mark *m)
{
	if (!value_str(arg)) {
		everr(e, m, "Ref needs a name (a string), not a %s",
		      value_kind_name(arg->kind));
		return NULL;
	}
	return ref_name(e, value_str(arg), &arg->mark, TMPL_REF_REF);
}

static struct value *fn_getatt(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *attr;
	const char *res;

	if (arg->kind == VALUE_STRING) {
		/* "A.B" in long form is accepted by CloudFormation too */
		const char *dot = strchr(arg->u.str.s, '.');
		if (!dot) {
			everr(e, m, "Fn::GetAtt needs [LogicalId, Attribute]");
			return NULL;
		}
		return getatt(e, arena_strndup(e->a, arg->u.str.s,
					       (size_t)(dot - arg->u.str.s)),
			      dot + 1, &arg->mark, TMPL_REF_GETATT);
	}
	if (arg->kind != VALUE_LIST || arg->u.list.n != 2 ||
	    !value_str(arg->u.list.items[0])) {
		everr(e, m, "Fn::GetAtt needs [LogicalId, Attribute]");
		return NULL;
	}
	res = value_str(arg->u.list.items[0]);
	attr = eval(e, arg->u.list.items[1]);
	if (!attr || attr == NOVALUE)
		return NULL;
	if (!value_str(attr) || !*value_str(attr)) {
		everr(e, &arg->u.list.items[1]->mark,
		      "Fn::GetAtt needs an attribute name");
		return NULL;
	}
	return getatt(e, res, value_str(attr), &arg->u.list.items[0]->mark,
		      TMPL_REF_GETATT);
}

static struct value *fn_sub(struct ev *e, const struct value *arg,
			    const struct mark *m)
{
	const struct value *tmpl = arg, *vars = NULL;
	struct value *evars = NULL;
	struct strbuf out = STRBUF_INIT;
	bool unk = false, sens = false;
	const char *s, *p;
	struct value *res = NULL;

	if (arg->kind == VALUE_LIST) {
		if (arg->u.list.n != 2 || arg->u.list.items[1]->kind != VALUE_MAP) {
			everr(e, m, "Fn::Sub needs a string or [string, "
				    "{Name: value}]");
			return NULL;
		}
		tmpl = arg->u.list.items[0];
		vars = arg->u.list.items[1];
	}
	if (!value_str(tmpl)) {
		everr(e, &tmpl->mark, "Fn::Sub needs a string to substitute "
				      "into");
		return NULL;
	}
	if (vars) {
		evars = eval(e, vars);
		if (!evars)
			return NULL;
	}
	s = value_str(tmpl);
	for (p = s; *p;) {
		const char *open = strstr(p, "${"), *close;
		char *name;
		struct value *val = NULL;

		if (!open) {
			strbuf_addstr(&out, p);
			break;
		}
		strbuf_add(&out, p, (size_t)(open - p));
		if (open[2] == '!') {
			/* ${!Literal} renders as ${Literal} */
			close = strchr(open, '}');
			if (!close) {
				strbuf_addstr(&out, open);
				break;
			}
			strbuf_addstr(&out, "${");
			strbuf_add(&out, open + 3, (size_t)(close - open - 2));
			p = close + 1;
			continue;
		}
		close = strchr(open + 2, '}');
		if (!close) {
			everr(e, &tmpl->mark, "Fn::Sub: \"${\" without a closing "
					      "\"}\"");
			goto out;
		}
		name = arena_strndup(e->a, open + 2, (size_t)(close - open - 2));
		while (*name == ' ')
			name++;
		{
			size_t nl = strlen(name);
			while (nl && name[nl - 1] == ' ')
				name[--nl] = '\0';
		}
		if (!*name) {
			everr(e, &tmpl->mark, "Fn::Sub: empty \"${}\"");
			goto out;
		}
		if (evars && value_map_get(evars, name)) {
			val = value_map_get(evars, name);
		} else if (evars && vars && tmpl_pair(vars, name)) {
			goto out; /* the variable's own evaluation failed */
		} else if (strchr(name, '.') && strncmp(name, "AWS::", 5)) {
			char *dot = strchr(name, '.');
			*dot = '\0';
			val = getatt(e, name, dot + 1, &tmpl->mark, TMPL_REF_SUB);
		} else {
			val = ref_name(e, name, &tmpl->mark, TMPL_REF_SUB);
		}
		if (!val)
			goto out;
		if (val == NOVALUE) {
			everr(e, &tmpl->mark, "Fn::Sub cannot use AWS::NoValue");
			goto out;
		}
		if (val->kind == VALUE_LIST) {
			everr(e, &tmpl->mark, "Fn::Sub: \"%s\" is a list; use "
					      "Fn::Join to make it a string",
			      name);
			goto out;
		}
		if (append_text(e, val, &out, &unk, &sens, "Fn::Sub") < 0)
			goto out;
		p = close + 1;
	}
	if (unk)
		res = unknown(e, out.buf, m, sens);
	else
		res = str_at(e, out.buf, out.len, m, sens);
out:
	strbuf_release(&out);
	return res;
}

/* Evaluates an argument that must be a list; an unknown passes through. */
static struct value *eval_list_arg(struct ev *e, const struct value *arg,
				   const char *fn, const char *what)
{
	struct value *l = eval(e, arg);

	if (!l)
		return NULL;
	if (l == NOVALUE || (l->kind != VALUE_LIST && l->kind != VALUE_UNKNOWN)) {
		everr(e, &arg->mark, "%s needs %s to be a list", fn, what);
		return NULL;
	}
	return l;
}

static struct value *fn_join(struct ev *e, const struct value *arg,
			     const struct mark *m)
{
	struct value *l;
	struct strbuf out = STRBUF_INIT;
	bool unk = false, sens = false;
	const char *delim;
	size_t i;
	struct value *res = NULL;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 2 ||
	    !value_str(arg->u.list.items[0])) {
		everr(e, m, "Fn::Join needs [delimiter, [values...]]");
		return NULL;
	}
	delim = value_str(arg->u.list.items[0]);
	l = eval_list_arg(e, arg->u.list.items[1], "Fn::Join", "its second "
							       "argument");
	if (!l)
		return NULL;
	if (l->kind == VALUE_UNKNOWN)
		return unknown(e, arena_sprintf(e->a, "Fn::Join(%s)",
						l->u.unknown.what),
			       m, l->sensitive);
	for (i = 0; i < l->u.list.n; i++) {
		if (i)
			strbuf_addstr(&out, delim);
		if (append_text(e, l->u.list.items[i], &out, &unk, &sens,
				"Fn::Join") < 0)
			goto out;
	}
	res = unk ? unknown(e, out.buf, m, sens)
		  : str_at(e, out.buf, out.len, m, sens);
out:
	strbuf_release(&out);
	return res;
}

static int as_index(struct ev *e, const struct value *v, long *out)
{
	char *end;

	if (v->kind == VALUE_NUMBER) {
		if (v->u.num.d != floor(v->u.num.d) || v->u.num.d < 0 ||
		    v->u.num.d > 1e9)
			goto bad;
		*out = (long)v->u.num.d;
		return 0;
	}
	if (value_str(v) && *value_str(v)) {
		*out = strtol(value_str(v), &end, 10);
		if (*end || *out < 0)
			goto bad;
		return 0;
	}
bad:
	everr(e, &v->mark, "Fn::Select needs a non-negative integer index");
	return -1;
}

static struct value *fn_select(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *idx, *l;
	long i;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 2) {
		everr(e, m, "Fn::Select needs [index, [values...]]");
		return NULL;
	}
	idx = eval(e, arg->u.list.items[0]);
	if (!idx || idx == NOVALUE)
		return NULL;
	l = eval_list_arg(e, arg->u.list.items[1], "Fn::Select",
			  "its second argument");
	if (!l)
		return NULL;
	if (idx->kind == VALUE_UNKNOWN)
		return unknown(e, "Fn::Select", m, idx->sensitive || l->sensitive);
	if (as_index(e, idx, &i) < 0)
		return NULL;
	if (l->kind == VALUE_UNKNOWN)
		return unknown(e, arena_sprintf(e->a, "%s[%ld]",
						l->u.unknown.what, i),
			       m, l->sensitive);
	if ((size_t)i >= l->u.list.n) {
		everr(e, &idx->mark, "Fn::Select index %ld is out of range "
				     "(the list has %zu items)",
		      i, l->u.list.n);
		return NULL;
	}
	return l->u.list.items[i];
}

static struct value *fn_split(struct ev *e, const struct value *arg,
			      const struct mark *m)
{
	struct value *s, *l;
	const char *delim, *p, *q;
	size_t dl;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 2 ||
	    !value_str(arg->u.list.items[0]) ||
	    !*value_str(arg->u.list.items[0])) {
		everr(e, m, "Fn::Split needs [delimiter, string]");
		return NULL;
	}
	delim = value_str(arg->u.list.items[0]);
	dl = strlen(delim);
	s = eval(e, arg->u.list.items[1]);
	if (!s || s == NOVALUE)
		return NULL;
	if (s->kind == VALUE_UNKNOWN)
		return unknown(e, arena_sprintf(e->a, "Fn::Split(%s)",
						s->u.unknown.what),
			       m, s->sensitive);
	if (!value_str(s)) {
		everr(e, &arg->u.list.items[1]->mark,
		      "Fn::Split needs a string to split, not a %s",
		      value_kind_name(s->kind));
		return NULL;
	}
	l = value_new_list(e->a);
	l->mark = *m;
	for (p = value_str(s);; p = q + dl) {
		q = strstr(p, delim);
		if (!q) {
			value_list_push(e->a, l, str_at(e, p, strlen(p), m,
							s->sensitive));
			break;
		}
		value_list_push(e->a, l, str_at(e, p, (size_t)(q - p), m,
						s->sensitive));
	}
	return l;
}

static struct value *fn_getazs(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *r = eval(e, arg), *l;
	const char *region;
	size_t i;

	if (!r || r == NOVALUE)
		return NULL;
	if (r->kind == VALUE_NULL)
		region = "";
	else if (value_str(r))
		region = value_str(r);
	else {
		everr(e, &arg->mark, "Fn::GetAZs needs a region name or \"\"");
		return NULL;
	}
	const char *const *azs = e->ctx->azs;
	size_t nazs = e->ctx->nazs;

	if (*region && strcmp(region, e->ctx->region))
		return unknown(e, "Fn::GetAZs", m, false);
	if (e->ctx->get_azs) {
		struct err aerr = ERR_INIT;
		int got = e->ctx->get_azs(e->ctx->get_azs_ud, &azs, &nazs, &aerr);
		if (got < 0) {
			everr(e, m, "Fn::GetAZs: %s", aerr.msg);
			return NULL;
		}
		if (!got)
			azs = NULL;
	}
	if (!azs)
		return unknown(e, "Fn::GetAZs", m, false);
	l = value_new_list(e->a);
	l->mark = *m;
	for (i = 0; i < nazs; i++)
		value_list_push(e->a, l, str_at(e, azs[i], strlen(azs[i]), m,
						false));
	return l;
}

static struct value *boolean(struct ev *e, bool b, const struct mark *m)
{
	struct value *v = value_new_bool(e->a, b);
	v->mark = *m;
	return v;
}

static struct value *fn_if(struct ev *e, const struct value *arg,
			   const struct mark *m)
{
	int c;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 3 ||
	    !value_str(arg->u.list.items[0])) {
		everr(e, m, "Fn::If needs [ConditionName, value if true, "
			    "value if false]");
		return NULL;
	}
	c = eval_condition(e, value_str(arg->u.list.items[0]),
			   &arg->u.list.items[0]->mark);
	if (c < 0)
		return NULL;
	return eval(e, arg->u.list.items[c ? 1 : 2]);
}

static struct value *fn_equals(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *x, *y;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 2) {
		everr(e, m, "Fn::Equals needs [value, value]");
		return NULL;
	}
	x = eval(e, arg->u.list.items[0]);
	y = eval(e, arg->u.list.items[1]);
	if (!x || !y)
		return NULL;
	if (x->kind == VALUE_UNKNOWN || y->kind == VALUE_UNKNOWN)
		return unknown(e, "Fn::Equals", m, false);
	/* CloudFormation compares the string forms: 1 equals "1" */
	if (x != NOVALUE && y != NOVALUE &&
	    (x->kind == VALUE_STRING || x->kind == VALUE_NUMBER ||
	     x->kind == VALUE_BOOL) &&
	    (y->kind == VALUE_STRING || y->kind == VALUE_NUMBER ||
	     y->kind == VALUE_BOOL)) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		bool unk = false, sens = false, eq;
		append_text(e, x, &a, &unk, &sens, "Fn::Equals");
		append_text(e, y, &b, &unk, &sens, "Fn::Equals");
		eq = a.len == b.len && !memcmp(a.buf, b.buf, a.len);
		strbuf_release(&a);
		strbuf_release(&b);
		return boolean(e, eq, m);
	}
	return boolean(e, x != NOVALUE && y != NOVALUE && value_equal(x, y), m);
}

static struct value *fn_andor(struct ev *e, const struct value *arg,
			      const struct mark *m, bool is_and)
{
	const char *fn = is_and ? "Fn::And" : "Fn::Or";
	bool acc = is_and, unk = false;
	size_t i;

	if (arg->kind != VALUE_LIST || arg->u.list.n < 2 || arg->u.list.n > 10) {
		everr(e, m, "%s needs a list of 2 to 10 conditions", fn);
		return NULL;
	}
	for (i = 0; i < arg->u.list.n; i++) {
		const struct value *it = arg->u.list.items[i];
		struct value *r = eval(e, it);
		if (!r || r == NOVALUE)
			return NULL;
		if (r->kind == VALUE_UNKNOWN) {
			unk = true;
			continue;
		}
		if (r->kind != VALUE_BOOL) {
			everr(e, &it->mark, "%s needs conditions, not a %s", fn,
			      value_kind_name(r->kind));
			return NULL;
		}
		acc = is_and ? (acc && r->u.b) : (acc || r->u.b);
	}
	if (unk && acc == is_and)
		return unknown(e, fn, m, false);
	return boolean(e, acc, m);
}

static struct value *fn_not(struct ev *e, const struct value *arg,
			    const struct mark *m)
{
	struct value *r;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 1) {
		everr(e, m, "Fn::Not needs [condition]");
		return NULL;
	}
	r = eval(e, arg->u.list.items[0]);
	if (!r || r == NOVALUE)
		return NULL;
	if (r->kind == VALUE_UNKNOWN)
		return r;
	if (r->kind != VALUE_BOOL) {
		everr(e, &arg->u.list.items[0]->mark,
		      "Fn::Not needs a condition, not a %s",
		      value_kind_name(r->kind));
		return NULL;
	}
	return boolean(e, !r->u.b, m);
}

static struct value *fn_condition(struct ev *e, const struct value *arg,
				  const struct mark *m)
{
	int c;

	if (!value_str(arg)) {
		everr(e, m, "Condition needs a condition name");
		return NULL;
	}
	c = eval_condition(e, value_str(arg), &arg->mark);
	if (c < 0)
		return NULL;
	return boolean(e, c, m);
}

/*
 * Fn::FindInMap [MapName, TopLevelKey, SecondLevelKey]. The
 * AWS::LanguageExtensions form adds a fourth element, {DefaultValue: V},
 * the result when either key is missing from the (existing) map; like the
 * other LanguageExtensions functions it is accepted without the transform.
 */
static struct value *fn_findinmap(struct ev *e, const struct value *arg,
				  const struct mark *m)
{
	struct value *k[3];
	const struct value *cur, *dflt = NULL;
	size_t i;

	if (arg->kind == VALUE_LIST && arg->u.list.n == 4) {
		const struct value *o = arg->u.list.items[3];

		dflt = o->kind == VALUE_MAP && o->u.map.n == 1
			       ? value_map_get(o, "DefaultValue")
			       : NULL;
		if (!dflt) {
			everr(e, &o->mark, "Fn::FindInMap's fourth element "
					   "must be {DefaultValue: value}");
			return NULL;
		}
	} else if (arg->kind != VALUE_LIST || arg->u.list.n != 3) {
		everr(e, m, "Fn::FindInMap needs [MapName, TopLevelKey, "
			    "SecondLevelKey] or [MapName, TopLevelKey, "
			    "SecondLevelKey, {DefaultValue: value}]");
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		k[i] = eval(e, arg->u.list.items[i]);
		if (!k[i] || k[i] == NOVALUE)
			return NULL;
		if (k[i]->kind == VALUE_UNKNOWN)
			return unknown(e, "Fn::FindInMap", m, k[i]->sensitive);
		if (k[i]->kind == VALUE_NUMBER)
			k[i] = str_at(e, k[i]->u.num.text,
				      strlen(k[i]->u.num.text), &k[i]->mark,
				      false);
		if (!value_str(k[i])) {
			everr(e, &arg->u.list.items[i]->mark,
			      "Fn::FindInMap keys must be strings");
			return NULL;
		}
	}
	cur = e->t->mappings;
	for (i = 0; i < 3; i++) {
		const struct value *next = value_map_get(cur, value_str(k[i]));
		if (!next && dflt && i > 0)
			return eval(e, dflt);
		if (!next) {
			static const char *const what[] = {
				"mapping", "top-level key", "second-level key"
			};
			everr(e, &arg->u.list.items[i]->mark,
			      "Fn::FindInMap: no %s \"%s\"", what[i],
			      value_str(k[i]));
			return NULL;
		}
		cur = next;
	}
	/* mapping values are literals: CloudFormation does not evaluate them */
	return (struct value *)cur;
}

static struct value *fn_base64(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct value *s = eval(e, arg), *r;
	struct strbuf out = STRBUF_INIT;
	const unsigned char *p;
	size_t n, i;

	if (!s || s == NOVALUE)
		return NULL;
	if (s->kind == VALUE_UNKNOWN)
		return unknown(e, arena_sprintf(e->a, "Fn::Base64(%s)",
						s->u.unknown.what),
			       m, s->sensitive);
	if (!value_str(s)) {
		everr(e, &arg->mark, "Fn::Base64 needs a string");
		return NULL;
	}
	p = (const unsigned char *)s->u.str.s;
	n = s->u.str.len;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned x = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		strbuf_addch(&out, tbl[x >> 18 & 63]);
		strbuf_addch(&out, tbl[x >> 12 & 63]);
		strbuf_addch(&out, tbl[x >> 6 & 63]);
		strbuf_addch(&out, tbl[x & 63]);
	}
	if (n - i == 1) {
		unsigned x = (unsigned)p[i] << 16;
		strbuf_addch(&out, tbl[x >> 18 & 63]);
		strbuf_addch(&out, tbl[x >> 12 & 63]);
		strbuf_addstr(&out, "==");
	} else if (n - i == 2) {
		unsigned x = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		strbuf_addch(&out, tbl[x >> 18 & 63]);
		strbuf_addch(&out, tbl[x >> 12 & 63]);
		strbuf_addch(&out, tbl[x >> 6 & 63]);
		strbuf_addch(&out, '=');
	}
	r = str_at(e, out.buf, out.len, m, s->sensitive);
	strbuf_release(&out);
	return r;
}

static int small_int(struct ev *e, const struct value *v, const char *what,
		     long lo, long hi, long *out)
{
	char *end;

	if (v->kind == VALUE_NUMBER && v->u.num.d == floor(v->u.num.d)) {
		*out = (long)v->u.num.d;
	} else if (value_str(v) && *value_str(v)) {
		*out = strtol(value_str(v), &end, 10);
		if (*end)
			goto bad;
	} else {
		goto bad;
	}
	if (*out >= lo && *out <= hi)
		return 0;
bad:
	everr(e, &v->mark, "Fn::Cidr: %s must be an integer from %ld to %ld",
	      what, lo, hi);
	return -1;
}

/*
 * Fn::Cidr on an IPv6 block: count subnets with cidrBits host bits each
 * (a /64 from cidrBits 64), carved from the block's start. Addresses are
 * written as inet_ntop writes them (RFC 5952: lower case, the longest run of
 * zero groups as "::"), the form EC2 answers with.
 */
static struct value *cidr6(struct ev *e, const struct value *arg,
			   struct value *const *a, const struct mark *m)
{
	const char *s = value_str(a[0]), *slash = strchr(s, '/');
	unsigned char ip[16];
	char host[INET6_ADDRSTRLEN + 1], *end;
	long count, bits, prefix;
	struct value *l;
	long i;
	int k;

	prefix = slash ? strtol(slash + 1, &end, 10) : -1;
	if (!slash || (size_t)(slash - s) >= sizeof(host) || end == slash + 1 ||
	    *end || prefix < 0 || prefix > 128) {
		everr(e, &arg->u.list.items[0]->mark,
		      "Fn::Cidr needs a CIDR block such as 2001:db8::/56");
		return NULL;
	}
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (inet_pton(AF_INET6, host, ip) != 1) {
		everr(e, &arg->u.list.items[0]->mark,
		      "Fn::Cidr: \"%s\" is not an IPv6 address", host);
		return NULL;
	}
	if (small_int(e, a[1], "count", 1, 256, &count) < 0 ||
	    small_int(e, a[2], "cidrBits", 1, 128, &bits) < 0)
		return NULL;
	if (128 - bits < prefix ||
	    (128 - bits - prefix < 9 &&
	     count > (1L << (128 - bits - prefix)))) {
		everr(e, m, "Fn::Cidr: %s cannot hold %ld subnets of /%ld", s,
		      count, 128 - bits);
		return NULL;
	}
	for (k = 0; k < 16; k++) { /* clear the host bits of the block */
		int keep = (int)prefix - 8 * k;
		if (keep <= 0)
			ip[k] = 0;
		else if (keep < 8)
			ip[k] &= (unsigned char)(0xff << (8 - keep));
	}
	l = value_new_list(e->a);
	l->mark = *m;
	for (i = 0; i < count; i++) {
		unsigned char cur[16];
		char buf[INET6_ADDRSTRLEN + 8];
		unsigned long carry = (unsigned long)i;
		int shift = (int)bits;

		memcpy(cur, ip, 16);
		/* add i << bits, byte by byte from the last one */
		for (k = 15; k >= 0 && carry; k--) {
			unsigned long add;
			if (shift >= 8) {
				shift -= 8;
				continue;
			}
			add = (carry << shift) + cur[k];
			cur[k] = (unsigned char)(add & 0xff);
			carry = add >> 8;
			shift = 0;
		}
		inet_ntop(AF_INET6, cur, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%ld",
			 128 - bits);
		value_list_push(e->a, l, str_at(e, buf, strlen(buf), m, false));
	}
	return l;
}

static struct value *fn_cidr(struct ev *e, const struct value *arg,
			     const struct mark *m)
{
	struct value *a[3], *l;
	unsigned o[4], prefix;
	long count, bits;
	unsigned long base, i;
	char tail;
	size_t k;

	if (arg->kind != VALUE_LIST || arg->u.list.n != 3) {
		everr(e, m, "Fn::Cidr needs [ipBlock, count, cidrBits]");
		return NULL;
	}
	for (k = 0; k < 3; k++) {
		a[k] = eval(e, arg->u.list.items[k]);
		if (!a[k] || a[k] == NOVALUE)
			return NULL;
		if (a[k]->kind == VALUE_UNKNOWN)
			return unknown(e, "Fn::Cidr", m, false);
	}
	if (value_str(a[0]) && strchr(value_str(a[0]), ':'))
		return cidr6(e, arg, a, m);
	if (!value_str(a[0]) ||
	    sscanf(value_str(a[0]), "%u.%u.%u.%u/%u%c", &o[0], &o[1], &o[2],
		   &o[3], &prefix, &tail) != 5 ||
	    o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255 || prefix > 32) {
		everr(e, &arg->u.list.items[0]->mark,
		      "Fn::Cidr needs a CIDR block such as 10.0.0.0/16 or "
		      "2001:db8::/56");
		return NULL;
	}
	if (small_int(e, a[1], "count", 1, 256, &count) < 0 ||
	    small_int(e, a[2], "cidrBits", 1, 32, &bits) < 0)
		return NULL;
	if ((unsigned)(32 - bits) < prefix ||
	    (unsigned long)count > (1ul << ((32 - bits) - prefix))) {
		everr(e, m, "Fn::Cidr: %s cannot hold %ld subnets of /%ld",
		      value_str(a[0]), count, 32 - bits);
		return NULL;
	}
	base = (unsigned long)o[0] << 24 | (unsigned long)o[1] << 16 |
	       (unsigned long)o[2] << 8 | o[3];
	if (prefix)
		base &= (0xfffffffful << (32 - prefix)) & 0xfffffffful;
	else
		base = 0;
	l = value_new_list(e->a);
	l->mark = *m;
	for (i = 0; i < (unsigned long)count; i++) {
		unsigned long ip = base + (i << bits);
		char buf[32];
		snprintf(buf, sizeof(buf), "%lu.%lu.%lu.%lu/%ld", ip >> 24 & 255,
			 ip >> 16 & 255, ip >> 8 & 255, ip & 255, 32 - bits);
		value_list_push(e->a, l, str_at(e, buf, strlen(buf), m, false));
	}
	return l;
}

static struct value *fn_tojson(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *v = eval(e, arg), *r;
	struct strbuf out = STRBUF_INIT;

	if (!v || v == NOVALUE)
		return NULL;
	if (v->kind != VALUE_MAP && v->kind != VALUE_LIST) {
		everr(e, &arg->mark, "Fn::ToJsonString needs a map or a list");
		return NULL;
	}
	if (value_has_unknown(v))
		return unknown(e, "Fn::ToJsonString", m, value_has_sensitive(v));
	value_to_json(v, &out, 0);
	r = str_at(e, out.buf, out.len, m, value_has_sensitive(v));
	strbuf_release(&out);
	return r;
}

static struct value *fn_length(struct ev *e, const struct value *arg,
			       const struct mark *m)
{
	struct value *l = eval_list_arg(e, arg, "Fn::Length", "its argument"), *r;

	if (!l)
		return NULL;
	if (l->kind == VALUE_UNKNOWN)
		return unknown(e, "Fn::Length", m, false);
	r = value_new_number_d(e->a, (double)l->u.list.n);
	r->mark = *m;
	return r;
}

typedef struct value *(*fn_impl)(struct ev *, const struct value *,
				 const struct mark *);

static struct value *fn_and(struct ev *e, const struct value *a,
			    const struct mark *m)
{
	return fn_andor(e, a, m, true);
}

static struct value *fn_or(struct ev *e, const struct value *a,
			   const struct mark *m)
{
	return fn_andor(e, a, m, false);
}

static struct value *fn_import(struct ev *e, const struct value *a,
			       const struct mark *m)
{
	(void)a;
	everr(e, m, "Fn::ImportValue is not supported (cairn stacks have no "
		    "exports to import from)");
	return NULL;
}

/* ---- rule functions (the Rules section only) ---- */

/* Evaluates [a, b] of a rule function; NULL after reporting, *unk when a
 * side is not known (then both are NULL-safe to ignore). */
static int rule_args(struct ev *e, const struct value *arg, const char *fn,
		     const char *form, const struct mark *m, struct value **a,
		     struct value **b)
{
	if (arg->kind != VALUE_LIST || arg->u.list.n != 2) {
		everr(e, m, "%s needs %s", fn, form);
		return -1;
	}
	*a = eval(e, arg->u.list.items[0]);
	*b = eval(e, arg->u.list.items[1]);
	if (!*a || !*b || *a == NOVALUE || *b == NOVALUE)
		return -1;
	if (value_has_unknown(*a) || value_has_unknown(*b))
		return 1;
	return 0;
}

static bool rule_in(const struct value *list, const char *text)
{
	size_t i;

	for (i = 0; i < list->u.list.n; i++) {
		const char *t = tmpl_scalar_text(list->u.list.items[i]);
		if (t && !strcmp(t, text))
			return true;
	}
	return false;
}

/* Fn::Contains [list, string], Fn::EachMemberEquals [list, string],
 * Fn::EachMemberIn [list, list]: what CloudFormation's rule functions
 * answer about parameter values (AWS CloudFormation User Guide, "Rules"). */
enum rule_fn { RULE_CONTAINS, RULE_EACH_EQUALS, RULE_EACH_IN };

static struct value *rule_members(struct ev *e, const struct value *arg,
				  const struct mark *m, enum rule_fn which)
{
	static const char *const names[] = { "Fn::Contains",
					     "Fn::EachMemberEquals",
					     "Fn::EachMemberIn" };
	const char *fn = names[which];
	struct value *a, *b;
	size_t i;
	int rc;

	if (!e->in_rules) {
		everr(e, m, "%s can be used only in Rules", fn);
		return NULL;
	}
	rc = rule_args(e, arg, fn,
		       which == RULE_EACH_IN ? "[list, list]" : "[list, value]",
		       m, &a, &b);
	if (rc < 0)
		return NULL;
	if (rc > 0)
		return unknown(e, fn, m, false);
	if (a->kind != VALUE_LIST ||
	    (which == RULE_EACH_IN ? b->kind != VALUE_LIST : !tmpl_scalar_text(b))) {
		everr(e, m, "%s needs %s", fn,
		      which == RULE_EACH_IN ? "[list, list]" : "[list, value]");
		return NULL;
	}
	switch (which) {
	case RULE_CONTAINS:
		return boolean(e, rule_in(a, tmpl_scalar_text(b)), m);
	case RULE_EACH_EQUALS:
		for (i = 0; i < a->u.list.n; i++) {
			const char *t = tmpl_scalar_text(a->u.list.items[i]);
			if (!t || strcmp(t, tmpl_scalar_text(b)))
				return boolean(e, false, m);
		}
		return boolean(e, true, m);
	case RULE_EACH_IN:
		for (i = 0; i < a->u.list.n; i++) {
			const char *t = tmpl_scalar_text(a->u.list.items[i]);
			if (!t || !rule_in(b, t))
				return boolean(e, false, m);
		}
		return boolean(e, true, m);
	}
	return NULL;
}

static struct value *fn_contains(struct ev *e, const struct value *a,
				 const struct mark *m)
{
	return rule_members(e, a, m, RULE_CONTAINS);
}

static struct value *fn_each_equals(struct ev *e, const struct value *a,
				    const struct mark *m)
{
	return rule_members(e, a, m, RULE_EACH_EQUALS);
}

static struct value *fn_each_in(struct ev *e, const struct value *a,
				const struct mark *m)
{
	return rule_members(e, a, m, RULE_EACH_IN);
}

/* Fn::RefAll, Fn::ValueOf, Fn::ValueOfAll read the account (every VPC id,
 * a VPC's tags...): not known to cairn, so the assertion is not judged. */
static struct value *fn_account_query(struct ev *e, const struct value *a,
				      const struct mark *m)
{
	(void)a;
	if (!e->in_rules) {
		everr(e, m, "this function can be used only in Rules");
		return NULL;
	}
	return unknown(e, "rule function", m, false);
}

static const struct {
	const char *name;
	fn_impl fn;
	bool condition_ok; /* allowed inside the Conditions section */
} fns[] = {
	{ "Ref", fn_ref, true },
	{ "Fn::GetAtt", fn_getatt, false },
	{ "Fn::Sub", fn_sub, false },
	{ "Fn::Join", fn_join, false },
	{ "Fn::Select", fn_select, false },
	{ "Fn::Split", fn_split, false },
	{ "Fn::GetAZs", fn_getazs, false },
	{ "Fn::If", fn_if, false },
	{ "Fn::Equals", fn_equals, true },
	{ "Fn::And", fn_and, true },
	{ "Fn::Or", fn_or, true },
	{ "Fn::Not", fn_not, true },
	{ "Fn::FindInMap", fn_findinmap, true },
	{ "Fn::Base64", fn_base64, false },
	{ "Fn::Cidr", fn_cidr, false },
	{ "Fn::ToJsonString", fn_tojson, false },
	{ "Fn::Length", fn_length, false },
	{ "Fn::ImportValue", fn_import, false },
	{ "Fn::Contains", fn_contains, true },
	{ "Fn::EachMemberEquals", fn_each_equals, true },
	{ "Fn::EachMemberIn", fn_each_in, true },
	{ "Fn::RefAll", fn_account_query, true },
	{ "Fn::ValueOf", fn_account_query, true },
	{ "Fn::ValueOfAll", fn_account_query, true },
};

static struct value *eval(struct ev *e, const struct value *v)
{
	struct value *out;
	size_t i, save;

	switch (v->kind) {
	case VALUE_LIST:
		out = value_new_list(e->a);
		out->mark = v->mark;
		save = e->path.len;
		for (i = 0; i < v->u.list.n; i++) {
			struct value *x;
			strbuf_addf(&e->path, "[%zu]", i);
			x = eval(e, v->u.list.items[i]);
			strbuf_setlen(&e->path, save);
			if (!x) /* reported; a stand-in keeps later checks quiet */
				x = unknown(e, "(error)", &v->u.list.items[i]->mark,
					    false);
			if (x != NOVALUE)
				value_list_push(e->a, out, x);
		}
		return out;
	case VALUE_MAP:
		if (v->u.map.n == 1) {
			const struct value_pair *p = &v->u.map.items[0];
			if (!strcmp(p->key, "Condition") && value_str(p->val))
				return fn_condition(e, p->val, &p->key_mark);
			for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
				if (strcmp(p->key, fns[i].name))
					continue;
				if (e->in_condition && !fns[i].condition_ok) {
					everr(e, &p->key_mark,
					      "%s cannot be used in a condition",
					      p->key);
					return NULL;
				}
				return fns[i].fn(e, p->val, &p->key_mark);
			}
			if (!strncmp(p->key, "Fn::", 4)) {
				everr(e, &p->key_mark,
				      "unknown intrinsic function \"%s\"",
				      p->key);
				return NULL;
			}
		}
		out = value_new_map(e->a);
		out->mark = v->mark;
		save = e->path.len;
		for (i = 0; i < v->u.map.n; i++) {
			const struct value_pair *p = &v->u.map.items[i];
			struct value *x;
			if (e->path.len)
				strbuf_addch(&e->path, '.');
			strbuf_addstr(&e->path, p->key);
			x = eval(e, p->val);
			strbuf_setlen(&e->path, save);
			if (!x)
				x = unknown(e, "(error)", &p->val->mark, false);
			if (x != NOVALUE) {
				/* keys are unique already (the loader
				 * checked), so append without a scan */
				if (out->u.map.n == out->u.map.cap) {
					size_t cap = out->u.map.cap
							     ? out->u.map.cap * 2
							     : 4;
					out->u.map.items = arena_realloc(
						e->a, out->u.map.items,
						out->u.map.cap *
							sizeof(struct value_pair),
						cap * sizeof(struct value_pair));
					out->u.map.cap = cap;
				}
				out->u.map.items[out->u.map.n].key = p->key;
				out->u.map.items[out->u.map.n].key_mark =
					p->key_mark;
				out->u.map.items[out->u.map.n].val = x;
				out->u.map.n++;
			}
		}
		return out;
	default:
		return (struct value *)v;
	}
}

/* ---- conditions ---- */

static int eval_condition(struct ev *e, const char *name, const struct mark *m)
{
	size_t idx, i;
	const struct value_pair *p;
	struct value *r;
	const char *save_lid;
	struct strbuf save_path = STRBUF_INIT;
	bool save_in;
	int result = -1;

	if (!tmpl_index_get(&e->t->cond_idx, name, &idx)) {
		everr(e, m, "unknown condition \"%s\"", name);
		return -1;
	}
	p = &e->t->conditions->u.map.items[idx];
	if (e->cond_state[idx] == 2) {
		struct value *b = value_map_get(e->st->conditions, name);
		return b && b->kind == VALUE_BOOL ? b->u.b : -1;
	}
	if (e->cond_state[idx] == 1) {
		struct strbuf cyc = STRBUF_INIT;
		for (i = 0; i < e->ncond_chain; i++)
			if (e->cond_chain[i] == idx)
				break;
		for (; i < e->ncond_chain; i++)
			strbuf_addf(&cyc, "%s -> ",
				    e->t->conditions->u.map.items[e->cond_chain[i]].key);
		strbuf_addstr(&cyc, name);
		everr(e, m, "condition cycle: %s", cyc.buf);
		strbuf_release(&cyc);
		return -1;
	}
	if (e->ncond_chain >= TMPL_MAX_COND_DEPTH) {
		everr(e, m, "conditions nested more than %d deep",
		      TMPL_MAX_COND_DEPTH);
		return -1;
	}
	e->cond_state[idx] = 1;
	e->cond_chain[e->ncond_chain++] = idx;
	save_lid = e->logical_id;
	save_in = e->in_condition;
	strbuf_add(&save_path, e->path.buf, e->path.len);
	strbuf_reset(&e->path);
	strbuf_addf(&e->path, "Conditions.%s", name);
	e->logical_id = NULL;
	e->in_condition = true;
	r = eval(e, p->val);
	if (r && r != NOVALUE && r->kind == VALUE_UNKNOWN) {
		/* only a parameter with no value (validate) gets here; say so,
		 * since what hangs on the condition is checked one way only */
		if (strcmp(r->u.unknown.what, "(error)"))
			diag_add(e->dl, DIAG_WARNING, &p->key_mark, NULL,
				 e->path.buf,
				 "depends on a parameter with no value; "
				 "evaluated as false");
		result = 0;
	} else if (r && r != NOVALUE && r->kind == VALUE_BOOL) {
		result = r->u.b;
	} else if (r) {
		everr(e, &p->val->mark, "a condition must be Fn::Equals, "
					"Fn::And, Fn::Or, Fn::Not or Condition");
	}
	e->logical_id = save_lid;
	e->in_condition = save_in;
	strbuf_reset(&e->path);
	strbuf_add(&e->path, save_path.buf, save_path.len);
	strbuf_release(&save_path);
	e->ncond_chain--;
	e->cond_state[idx] = 2;
	value_map_set(e->a, e->st->conditions, name,
		      result < 0 ? value_new_null(e->a)
				 : value_new_bool(e->a, result));
	return result;
}

/* ---- parameters ---- */

static bool is_list_type(const char *t)
{
	return !strncmp(t, "List<", 5) || !strcmp(t, "CommaDelimitedList");
}

static bool parse_number(const char *s, double *d)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	*d = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' && isfinite(*d);
}

/* Checks one scalar against the parameter's constraints. */
static void check_constraints(struct ev *e, const struct tmpl_param *p,
			      const char *text, bool number,
			      const struct mark *m)
{
	const struct value *d = p->decl;
	const char *cd = value_str(value_map_get(d, "ConstraintDescription"));
	const char *shown = p->no_echo ? "(hidden)" : text;
	const struct value *c;
	char why[512];
	double x = 0, lim;

	why[0] = '\0';
	if (number)
		parse_number(text, &x);
	c = value_map_get(d, "AllowedValues");
	if (c && c->kind == VALUE_LIST) {
		size_t i;
		bool ok = false;
		for (i = 0; i < c->u.list.n && !ok; i++) {
			const char *av = tmpl_scalar_text(c->u.list.items[i]);
			double y;
			if (!av)
				continue;
			if (number && parse_number(av, &y))
				ok = y == x;
			else
				ok = !strcmp(av, text);
		}
		if (!ok) {
			struct strbuf sb = STRBUF_INIT;
			for (i = 0; i < c->u.list.n; i++) {
				const char *av = tmpl_scalar_text(c->u.list.items[i]);
				strbuf_addf(&sb, "%s%s", i ? ", " : "",
					    av ? av : "?");
			}
			snprintf(why, sizeof(why), "is not one of the "
				 "AllowedValues (%s)", sb.buf);
			strbuf_release(&sb);
			goto report;
		}
	}
	c = value_map_get(d, "AllowedPattern");
	if (c && value_str(c)) {
		regex_t re;
		struct strbuf rs = STRBUF_INIT;
		strbuf_addf(&rs, "^(%s)$", value_str(c));
		if (!regcomp(&re, rs.buf, REG_EXTENDED | REG_NOSUB)) {
			int rc = regexec(&re, text, 0, NULL, 0);
			regfree(&re);
			if (rc)
				snprintf(why, sizeof(why),
					 "does not match AllowedPattern \"%s\"",
					 value_str(c));
		}
		strbuf_release(&rs);
		if (why[0])
			goto report;
	}
	if (!number) {
		size_t len = strlen(text);
		c = value_map_get(d, "MinLength");
		if (c && parse_number(tmpl_scalar_text(c) ? tmpl_scalar_text(c) : "", &lim) &&
		    (double)len < lim) {
			snprintf(why, sizeof(why), "is shorter than MinLength %s",
				 tmpl_scalar_text(c));
			goto report;
		}
		c = value_map_get(d, "MaxLength");
		if (c && parse_number(tmpl_scalar_text(c) ? tmpl_scalar_text(c) : "", &lim) &&
		    (double)len > lim) {
			snprintf(why, sizeof(why), "is longer than MaxLength %s",
				 tmpl_scalar_text(c));
			goto report;
		}
	} else {
		c = value_map_get(d, "MinValue");
		if (c && parse_number(tmpl_scalar_text(c) ? tmpl_scalar_text(c) : "", &lim) &&
		    x < lim) {
			snprintf(why, sizeof(why), "is less than MinValue %s",
				 tmpl_scalar_text(c));
			goto report;
		}
		c = value_map_get(d, "MaxValue");
		if (c && parse_number(tmpl_scalar_text(c) ? tmpl_scalar_text(c) : "", &lim) &&
		    x > lim) {
			snprintf(why, sizeof(why), "is greater than MaxValue %s",
				 tmpl_scalar_text(c));
			goto report;
		}
	}
	return;
report:
	if (cd)
		everr(e, m, "value \"%s\" %s: %s", shown, why, cd);
	else
		everr(e, m, "value \"%s\" %s", shown, why);
}

/* Turns a given value into the parameter's type and checks constraints;
 * NULL after reporting. */
static struct value *param_value(struct ev *e, const struct tmpl_param *p,
				 const struct value *given)
{
	const char *type = p->type ? p->type : "String";
	const struct mark *m = given->mark.line ? &given->mark : &p->mark;
	struct value *out;
	size_t before = e->errors;

	if (!strncmp(type, "AWS::SSM::Parameter::", 21))
		return unknown(e, p->name, m, p->no_echo);
	if (is_list_type(type)) {
		bool numbers = !strcmp(type, "List<Number>");
		out = value_new_list(e->a);
		out->mark = *m;
		if (given->kind == VALUE_LIST) {
			size_t i;
			for (i = 0; i < given->u.list.n; i++) {
				const char *s = tmpl_scalar_text(given->u.list.items[i]);
				if (!s) {
					everr(e, m, "list items must be scalars");
					return NULL;
				}
				value_list_push(e->a, out,
						str_at(e, s, strlen(s), m, false));
			}
		} else {
			const char *s = tmpl_scalar_text(given);
			if (!s) {
				everr(e, m, "expected a comma-delimited list");
				return NULL;
			}
			tmpl_split_list(e->a, s, m, out);
		}
		{
			size_t i;
			for (i = 0; i < out->u.list.n; i++) {
				struct value *it = out->u.list.items[i];
				double d;
				if (numbers && !parse_number(it->u.str.s, &d)) {
					everr(e, m, "value \"%s\" is not a number",
					      p->no_echo ? "(hidden)" : it->u.str.s);
					continue;
				}
				if (numbers)
					out->u.list.items[i] =
						value_new_number(e->a, it->u.str.s);
				out->u.list.items[i]->mark = *m;
				out->u.list.items[i]->sensitive = p->no_echo;
				check_constraints(e, p, it->u.str.s ? it->u.str.s : "",
						  numbers, m);
			}
		}
	} else {
		const char *s = tmpl_scalar_text(given);
		if (!s) {
			everr(e, m, "expected a single value, not a %s",
			      value_kind_name(given->kind));
			return NULL;
		}
		if (!strcmp(type, "Number")) {
			double d;
			if (!parse_number(s, &d)) {
				everr(e, m, "value \"%s\" is not a number",
				      p->no_echo ? "(hidden)" : s);
				return NULL;
			}
			out = value_new_number(e->a, s);
		} else {
			out = value_new_string(e->a, s);
		}
		out->mark = *m;
		check_constraints(e, p, s, !strcmp(type, "Number"), m);
	}
	out->sensitive = p->no_echo;
	return e->errors > before ? NULL : out;
}

static void eval_params(struct ev *e)
{
	const struct tmpl_ctx *c = e->ctx;
	size_t i;

	if (c->params && c->params->kind == VALUE_MAP) {
		for (i = 0; i < c->params->u.map.n; i++) {
			const struct value_pair *pp = &c->params->u.map.items[i];
			if (!tmpl_index_get(&e->t->param_idx, pp->key, NULL)) {
				const char *s = suggest(e, pp->key, NAMES_PARAMS);
				strbuf_reset(&e->path);
				strbuf_addf(&e->path, "Parameters.%s", pp->key);
				everr(e, pp->val && pp->val->mark.line ? &pp->val->mark : NULL,
				      "parameter \"%s\" is not declared by the "
				      "template%s%s%s",
				      pp->key, s ? " (did you mean \"" : "",
				      s ? s : "", s ? "\"?)" : "");
			}
		}
	}
	struct tmpl_aws_param *ap = NULL;
	const struct tmpl_param **app = NULL;
	size_t nap = 0;

	if (c->aws_params && e->t->nparams) {
		ap = arena_alloc(e->a, e->t->nparams * sizeof(*ap));
		app = arena_alloc(e->a, e->t->nparams * sizeof(*app));
	}
	for (i = 0; i < e->t->nparams; i++) {
		const struct tmpl_param *p = &e->t->params[i];
		const struct value *given = value_map_get(c->params, p->name);
		struct value *v;

		if (!given)
			given = value_map_get(c->env_params, p->name);
		if (!given && p->decl->kind == VALUE_MAP)
			given = value_map_get(p->decl, "Default");
		strbuf_reset(&e->path);
		strbuf_addf(&e->path, "Parameters.%s", p->name);
		if (!given) {
			if (c->missing_params_unknown) {
				diag_add(e->dl, DIAG_WARNING, &p->mark, NULL,
					 e->path.buf,
					 "no value given and no Default; "
					 "evaluated as unknown");
				v = unknown(e, p->name, &p->mark, p->no_echo);
			} else {
				everr(e, &p->mark,
				      "missing value for parameter \"%s\" (it "
				      "has no Default; use --param %s=VALUE)",
				      p->name, p->name);
				continue;
			}
		} else if (ap && p->type &&
			   !strncmp(p->type, "AWS::SSM::Parameter::Value<", 27)) {
			/* the value given is the parameter store's name */
			const char *s = tmpl_scalar_text(given);
			const char **one = arena_alloc(e->a, sizeof(*one));
			if (!s) {
				everr(e, given->mark.line ? &given->mark : &p->mark,
				      "expected the name of an SSM parameter");
				continue;
			}
			one[0] = arena_strdup(e->a, s);
			memset(&ap[nap], 0, sizeof(ap[nap]));
			ap[nap].name = p->name;
			ap[nap].type = p->type;
			ap[nap].vals = one;
			ap[nap].nvals = 1;
			app[nap++] = p;
			v = unknown(e, p->name, &p->mark, p->no_echo);
		} else {
			v = param_value(e, p, given);
			if (v && ap && p->type && (!strncmp(p->type, "AWS::", 5) ||
						   !strncmp(p->type, "List<AWS::", 10))) {
				size_t k, n = v->kind == VALUE_LIST ? v->u.list.n : 1;
				const char **vals = arena_alloc(e->a, (n ? n : 1) * sizeof(*vals));
				for (k = 0; k < n; k++)
					vals[k] = value_str(v->kind == VALUE_LIST
							    ? v->u.list.items[k] : v);
				memset(&ap[nap], 0, sizeof(ap[nap]));
				ap[nap].name = p->name;
				ap[nap].type = p->type;
				ap[nap].vals = vals;
				ap[nap].nvals = n;
				app[nap++] = p;
			}
		}
		if (v)
			value_map_set(e->a, e->st->params, p->name, v);
	}
	strbuf_reset(&e->path);
	if (nap && !e->errors) {
		struct err aerr = ERR_INIT;
		if (c->aws_params(c->aws_params_ud, e->a, ap, nap, &aerr) < 0) {
			/* the error names the parameter; point at its declaration */
			const struct tmpl_param *bad = app[0];
			for (i = 0; i < nap; i++)
				if (strstr(aerr.msg, ap[i].name))
					bad = app[i];
			strbuf_reset(&e->path);
			strbuf_addf(&e->path, "Parameters.%s", bad->name);
			everr(e, &bad->mark, "%s", aerr.msg);
			strbuf_reset(&e->path);
			return;
		}
		for (i = 0; i < nap; i++) {
			const struct tmpl_param *p = app[i];
			const char *r = ap[i].resolved, *inner = p->type + 27;
			struct value *v;
			if (strncmp(p->type, "AWS::SSM::Parameter::Value<", 27) || !r)
				continue;
			if (!strncmp(inner, "List<", 5) ||
			    !strncmp(inner, "CommaDelimitedList", 18)) {
				const char *q;
				v = value_new_list(e->a);
				for (;; r = q + 1) {
					q = strchr(r, ',');
					value_list_push(e->a, v,
							str_at(e, r, q ? (size_t)(q - r) : strlen(r),
							       &p->mark, p->no_echo));
					if (!q)
						break;
				}
				v->mark = p->mark;
			} else {
				v = str_at(e, r, strlen(r), &p->mark, p->no_echo);
			}
			v->sensitive = p->no_echo;
			value_map_set(e->a, e->st->params, p->name, v);
		}
	}
}

/* ---- rules ---- */

/*
 * The Rules section, as CloudFormation applies it before creating or
 * updating a stack: for each rule whose RuleCondition is true (or absent),
 * every Assertions[].Assert must be true, else the stack is refused with
 * its AssertDescription. Rules see parameters and pseudo parameters only.
 * An assertion that depends on something not known here (a parameter
 * without a value in validate, an SSM parameter, Fn::ValueOf) is not
 * judged.
 */
static int rule_bool(struct ev *e, const struct value *v)
{
	struct value *r = eval(e, v);

	if (!r || r == NOVALUE)
		return -2;
	if (r->kind == VALUE_UNKNOWN)
		return -1;
	if (r->kind != VALUE_BOOL) {
		everr(e, &v->mark, "a rule condition or assertion must be a "
				   "rule function (Fn::Equals, Fn::Contains, "
				   "Fn::And...), not a %s",
		      value_kind_name(r->kind));
		return -2;
	}
	return r->u.b;
}

static void eval_rules(struct ev *e)
{
	const struct value *rules = value_map_get(e->t->root, "Rules");
	size_t i, j;

	if (!rules)
		return;
	if (rules->kind != VALUE_MAP) {
		strbuf_reset(&e->path);
		strbuf_addstr(&e->path, "Rules");
		everr(e, &rules->mark, "Rules must be a map of rules");
		strbuf_reset(&e->path);
		return;
	}
	e->in_condition = e->in_rules = true;
	for (i = 0; i < rules->u.map.n; i++) {
		const struct value_pair *rp = &rules->u.map.items[i];
		const struct value *rule = rp->val, *asserts;
		int c = 1;

		strbuf_reset(&e->path);
		strbuf_addf(&e->path, "Rules.%s", rp->key);
		if (rule->kind != VALUE_MAP) {
			everr(e, &rule->mark, "a rule must be a map with "
					      "Assertions (and RuleCondition)");
			continue;
		}
		for (j = 0; j < rule->u.map.n; j++) {
			const struct value_pair *k = &rule->u.map.items[j];
			if (strcmp(k->key, "RuleCondition") &&
			    strcmp(k->key, "Assertions"))
				everr(e, &k->key_mark,
				      "unknown rule attribute \"%s\" (expected "
				      "RuleCondition or Assertions)",
				      k->key);
		}
		if (value_map_get(rule, "RuleCondition"))
			c = rule_bool(e, value_map_get(rule, "RuleCondition"));
		asserts = value_map_get(rule, "Assertions");
		if (!asserts || asserts->kind != VALUE_LIST) {
			everr(e, asserts ? &asserts->mark : &rp->key_mark,
			      "a rule needs Assertions: a list of {Assert, "
			      "AssertDescription}");
			continue;
		}
		if (c != 1)
			continue; /* false, unknown or reported */
		for (j = 0; j < asserts->u.list.n; j++) {
			const struct value *as = asserts->u.list.items[j];
			const struct value *av = value_map_get(as, "Assert");
			const char *desc =
				value_str(value_map_get(as, "AssertDescription"));
			size_t save = e->path.len;
			strbuf_addf(&e->path, ".Assertions[%zu]", j);
			if (as->kind != VALUE_MAP || !av)
				everr(e, &as->mark, "an assertion needs Assert");
			else if (rule_bool(e, av) == 0)
				everr(e, &av->mark, "rule \"%s\" is not met: %s",
				      rp->key,
				      desc ? desc : "its assertion is false");
			strbuf_setlen(&e->path, save);
		}
	}
	e->in_condition = e->in_rules = false;
	strbuf_reset(&e->path);
}

/* ---- resources and outputs ---- */

static void eval_depends_on(struct ev *e, const struct tmpl_resource *r)
{
	const struct value *d = r->depends_on;
	size_t i, n;

	if (!d)
		return;
	n = d->kind == VALUE_LIST ? d->u.list.n : 1;
	strbuf_reset(&e->path);
	strbuf_addstr(&e->path, "DependsOn");
	for (i = 0; i < n; i++) {
		const struct value *it = d->kind == VALUE_LIST ? d->u.list.items[i] : d;
		const char *name = value_str(it);
		size_t idx;
		if (!tmpl_index_get(&e->t->res_idx, name, &idx)) {
			const char *s = suggest(e, name, NAMES_RESOURCES);
			everr(e, &it->mark, "DependsOn names unknown resource "
					    "\"%s\"%s%s%s",
			      name, s ? " (did you mean \"" : "", s ? s : "",
			      s ? "\"?)" : "");
			continue;
		}
		if (!target_resource(e, name, "DependsOn", &it->mark))
			continue;
		add_ref(e, e->t->resources[idx].logical_id, NULL,
			TMPL_REF_DEPENDSON, &it->mark);
	}
	strbuf_reset(&e->path);
}

static void ev_init(struct ev *e, struct arena *a, const struct template *t,
		    const struct tmpl_ctx *ctx, struct diag_list *dl,
		    struct tmpl_stack *st)
{
	size_t nc = t->conditions ? t->conditions->u.map.n : 0;

	memset(e, 0, sizeof(*e));
	e->a = a;
	e->t = t;
	e->ctx = ctx;
	e->dl = dl;
	e->st = st;
	strbuf_init(&e->path, 64);
	e->cond_state = arena_alloc(a, nc + 1);
	e->cond_chain = arena_alloc(a, (nc + 1) * sizeof(size_t));
}

/*
 * Dynamic references ("Using dynamic references to specify template
 * values" in the CloudFormation user guide) are not resolved here: as
 * CloudFormation does, cairn keeps the literal reference in the evaluated
 * properties, compares that literal between runs (a secret that changed
 * behind an unchanged template is no change) and reads the value only at
 * apply, just before the create or update call that needs it (exec.c,
 * exec_opts.dynref). Evaluation checks the syntax and marks the string
 * `dynref` (and `sensitive`: never printed, stored only as a fingerprint).
 */

/* Where CloudFormation accepts ssm-secure references ("Resources that
 * support dynamic parameter patterns for secure strings"); property paths
 * below Properties, list indexes left out. */
static const struct {
	const char *type, *path;
} SSM_SECURE_OK[] = {
	{ "AWS::DirectoryService::MicrosoftAD", "Password" },
	{ "AWS::DirectoryService::SimpleAD", "Password" },
	{ "AWS::ElastiCache::ReplicationGroup", "AuthToken" },
	{ "AWS::IAM::User", "LoginProfile.Password" },
	{ "AWS::KinesisFirehose::DeliveryStream",
	  "RedshiftDestinationConfiguration.Password" },
	{ "AWS::OpsWorks::App", "AppSource.Password" },
	{ "AWS::OpsWorks::Stack", "CustomCookbooksSource.Password" },
	{ "AWS::OpsWorks::Stack", "RdsDbInstances.DbPassword" },
	{ "AWS::RDS::DBCluster", "MasterUserPassword" },
	{ "AWS::RDS::DBInstance", "MasterUserPassword" },
	{ "AWS::Redshift::Cluster", "MasterUserPassword" },
};

static bool ssm_secure_allowed(const char *type, const char *path)
{
	size_t i;

	for (i = 0; type && i < sizeof(SSM_SECURE_OK) / sizeof(SSM_SECURE_OK[0]);
	     i++)
		if (!strcmp(type, SSM_SECURE_OK[i].type) &&
		    !strcmp(path, SSM_SECURE_OK[i].path))
			return true;
	return false;
}

/* A parameter name as the reference pattern allows it. */
static bool ssm_name_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-/", s[i]))
			return false;
	return true;
}

/* NULL when ref (the text between "{{resolve:" and "}}") is well formed,
 * else why not (static storage). */
static const char *dynref_problem(const char *ref, size_t n, bool *secure)
{
	*secure = false;
	if (n > 4 && !strncmp(ref, "ssm:", 4)) {
		ref += 4, n -= 4;
	} else if (n > 11 && !strncmp(ref, "ssm-secure:", 11)) {
		ref += 11, n -= 11;
		*secure = true;
	} else if (n > 15 && !strncmp(ref, "secretsmanager:", 15)) {
		/* secret-id[:SecretString[:json-key[:stage[:version-id]]]];
		 * a secret id that is an ARN has six colons of its own */
		const char *f[12];
		size_t len[12], nf = 0, k, i;
		ref += 15, n -= 15;
		f[0] = ref;
		for (i = 0; i < n && nf < 11; i++)
			if (ref[i] == ':') {
				len[nf] = (size_t)(ref + i - f[nf]);
				f[++nf] = ref + i + 1;
			}
		len[nf] = (size_t)(ref + n - f[nf]);
		nf++;
		k = (len[0] == 3 && !strncmp(f[0], "arn", 3)) ? 7 : 1;
		if (nf < k || !len[0])
			return "the secret id is missing or not a whole ARN";
		if (nf > k + 4)
			return "too many fields (secret-id:SecretString:json-key:"
			       "version-stage:version-id)";
		if (nf > k && len[k] && (len[k] != 12 ||
					 strncmp(f[k], "SecretString", 12)))
			return "only SecretString can be referenced";
		if (nf > k + 3 && len[k + 2] && len[k + 3])
			return "give a version stage or a version id, not both";
		return NULL;
	} else {
		return "unknown service: use ssm, ssm-secure or secretsmanager";
	}
	{
		const char *c = memchr(ref, ':', n);
		size_t i, nl = c ? (size_t)(c - ref) : n;
		if (!ssm_name_ok(ref, nl))
			return "the parameter name may hold only letters, digits "
			       "and _.-/";
		if (c) {
			if ((size_t)(c - ref) + 1 == n)
				return "the version after the name is empty";
			for (i = nl + 1; i < n; i++)
				if (!isdigit((unsigned char)ref[i]))
					return "the version after the name must be "
					       "a number (labels are not supported)";
		}
	}
	return NULL;
}

/* v (resource properties, path below Properties in path) with the strings
 * that hold dynamic references marked, as copies (a string may be shared
 * with a parameter's value); errors at the string. */
static struct value *mark_dynamic(struct ev *e, const char *type,
				  struct value *v, struct strbuf *path)
{
	size_t i, len = path->len;

	if (!v)
		return v;
	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			v->u.list.items[i] = mark_dynamic(e, type,
							  v->u.list.items[i], path);
		return v;
	}
	if (v->kind == VALUE_MAP) {
		for (i = 0; i < v->u.map.n; i++) {
			if (len)
				strbuf_addch(path, '.');
			strbuf_addstr(path, v->u.map.items[i].key);
			v->u.map.items[i].val = mark_dynamic(
				e, type, v->u.map.items[i].val, path);
			strbuf_setlen(path, len);
		}
		return v;
	}
	if (v->kind != VALUE_STRING || !strstr(v->u.str.s, "{{resolve:"))
		return v;
	{
		const char *s = v->u.str.s, *at;
		size_t plen = e->path.len;
		strbuf_addch(&e->path, '.');
		strbuf_addstr(&e->path, path->buf);
		while ((at = strstr(s, "{{resolve:")) != NULL) {
			const char *end = strstr(at, "}}"), *why;
			bool secure;
			if (!end) {
				everr(e, &v->mark, "dynamic reference without \"}}\"");
				break;
			}
			why = dynref_problem(at + 10, (size_t)(end - at - 10),
					     &secure);
			if (why)
				everr(e, &v->mark, "%.*s: %s", (int)(end + 2 - at),
				      at, why);
			else if (secure && !ssm_secure_allowed(type, path->buf))
				everr(e, &v->mark,
				      "%.*s: CloudFormation accepts ssm-secure "
				      "references only in the properties that "
				      "support them (MasterUserPassword of "
				      "AWS::RDS::DBInstance, LoginProfile.Password "
				      "of AWS::IAM::User ...), not in %s of %s; use "
				      "a secretsmanager reference",
				      (int)(end + 2 - at), at, path->buf,
				      type ? type : "this type");
			else if (e->ctx->dynref_check) {
				struct err cerr = ERR_INIT;
				char *ref = arena_strndup(e->a, at + 10,
							  (size_t)(end - at - 10));
				if (e->ctx->dynref_check(e->ctx->dynref_check_ud,
							 e->a, ref, &cerr) < 0)
					everr(e, &v->mark, "%.*s: %s",
					      (int)(end + 2 - at), at, cerr.msg);
			}
			s = end + 2;
		}
		strbuf_setlen(&e->path, plen);
		{
			struct value *c = value_new_stringn(e->a, v->u.str.s,
							    v->u.str.len);
			c->mark = v->mark;
			c->dynref = 1;
			c->sensitive = 1;
			return c;
		}
	}
}

static void eval_resource_props(struct ev *e, struct tmpl_eval_resource *er)
{
	const struct tmpl_resource *r = er->res;

	e->logical_id = r->logical_id;
	e->nrefs = e->refs_cap = 0;
	e->refs = NULL;
	strbuf_reset(&e->path);
	if (r->properties) {
		strbuf_addstr(&e->path, "Properties");
		er->properties = eval(e, r->properties);
		/* the one place values take the schema's types: everything
		 * after (validation, plan, state, providers) sees them so */
		if (r->schema && er->properties && er->properties != NOVALUE)
			er->properties = schema_coerce(r->schema, e->a,
						       er->properties);
		if (er->properties && er->properties != NOVALUE) {
			struct strbuf dp = STRBUF_INIT;
			er->properties = mark_dynamic(e, r->type,
						      er->properties, &dp);
			strbuf_release(&dp);
		}
	}
	strbuf_reset(&e->path);
	eval_depends_on(e, r);
	er->refs = e->refs;
	er->nrefs = e->nrefs;
	e->logical_id = NULL;
}

struct tmpl_stack *template_evaluate(struct arena *a, const struct template *t,
				     const struct tmpl_ctx *ctx,
				     struct diag_list *diags)
{
	struct tmpl_stack *st;
	struct ev e;
	size_t i;

	if (!t)
		return NULL;
	st = arena_alloc(a, sizeof(*st));
	st->tmpl = t;
	st->params = value_new_map(a);
	st->conditions = value_new_map(a);
	st->nresources = t->nresources;
	st->resources = arena_alloc(a, (t->nresources + 1) * sizeof(*st->resources));
	st->noutputs = t->noutputs;
	st->outputs = arena_alloc(a, (t->noutputs + 1) * sizeof(*st->outputs));
	ev_init(&e, a, t, ctx, diags, st);

	eval_params(&e);
	eval_rules(&e);
	if (t->conditions)
		for (i = 0; i < t->conditions->u.map.n; i++)
			eval_condition(&e, t->conditions->u.map.items[i].key,
				       &t->conditions->u.map.items[i].key_mark);
	for (i = 0; i < t->nresources; i++) {
		struct tmpl_eval_resource *er = &st->resources[i];
		er->res = &t->resources[i];
		er->included = !er->res->noop;
		if (er->included && er->res->condition) {
			struct value *b = value_map_get(st->conditions,
							er->res->condition);
			er->included = b && b->kind == VALUE_BOOL && b->u.b;
		}
		if (er->included)
			st->nincluded++;
	}
	for (i = 0; i < t->nresources; i++)
		if (st->resources[i].included &&
		    st->resources[i].res->decl->kind == VALUE_MAP)
			eval_resource_props(&e, &st->resources[i]);
	for (i = 0; i < t->noutputs; i++) {
		struct tmpl_eval_output *eo = &st->outputs[i];
		const struct value *d = t->outputs[i].decl;
		const struct value *x;

		eo->out = &t->outputs[i];
		eo->included = true;
		if (eo->out->condition) {
			struct value *b = value_map_get(st->conditions,
							eo->out->condition);
			eo->included = b && b->kind == VALUE_BOOL && b->u.b;
		}
		if (!eo->included || d->kind != VALUE_MAP)
			continue;
		strbuf_reset(&e.path);
		strbuf_addf(&e.path, "Outputs.%s.Value", eo->out->name);
		x = value_map_get(d, "Value");
		if (x) {
			eo->value = eval(&e, x);
			if (eo->value == NOVALUE) {
				everr(&e, &x->mark, "an output value cannot "
						    "be AWS::NoValue");
				eo->value = NULL;
			} else if (eo->value && eo->value->kind != VALUE_STRING &&
				   eo->value->kind != VALUE_NUMBER &&
				   eo->value->kind != VALUE_UNKNOWN &&
				   eo->value->kind != VALUE_LIST) {
				everr(&e, &x->mark, "an output value must be a "
						    "string, not a %s",
				      value_kind_name(eo->value->kind));
			}
		}
		eo->description = value_str(value_map_get(d, "Description"));
		x = value_get_path(d, "Export.Name");
		if (x) {
			strbuf_reset(&e.path);
			strbuf_addf(&e.path, "Outputs.%s.Export.Name",
				    eo->out->name);
			eo->export_name = eval(&e, x);
			if (eo->export_name == NOVALUE)
				eo->export_name = NULL;
		}
	}
	strbuf_release(&e.path);
	return st;
}

struct value *template_eval_resource(struct arena *a, const struct tmpl_stack *st,
				     const struct tmpl_ctx *ctx,
				     const char *logical_id,
				     struct diag_list *diags, struct err *err)
{
	struct diag_list local = DIAG_LIST_INIT;
	struct diag_list *dl = diags ? diags : &local;
	size_t idx, first = dl->n, i;
	struct tmpl_eval_resource er;
	struct ev e;

	if (!tmpl_index_get(&st->tmpl->res_idx, logical_id, &idx))
		return err_set(err, ERR_NOT_FOUND,
			       "resource \"%s\" is not in the template",
			       logical_id),
		       NULL;
	if (!st->resources[idx].included)
		return err_set(err, ERR_VALIDATION,
			       "resource \"%s\" is not created (its condition "
			       "is false)",
			       logical_id),
		       NULL;
	ev_init(&e, a, st->tmpl, ctx, dl, (struct tmpl_stack *)st);
	/* conditions were settled by template_evaluate */
	if (st->tmpl->conditions)
		for (i = 0; i < st->tmpl->conditions->u.map.n; i++)
			e.cond_state[i] = 2;
	memset(&er, 0, sizeof(er));
	er.res = &st->tmpl->resources[idx];
	er.included = true;
	eval_resource_props(&e, &er);
	strbuf_release(&e.path);
	if (e.errors) {
		struct strbuf sb = STRBUF_INIT;
		for (i = first; i < dl->n; i++)
			if (dl->items[i].severity == DIAG_ERROR) {
				diag_format(&dl->items[i], &sb);
				break;
			}
		err_set(err, ERR_VALIDATION, "%s", sb.buf);
		strbuf_release(&sb);
		diag_list_release(&local);
		return NULL;
	}
	diag_list_release(&local);
	if (!er.properties) {
		er.properties = value_new_map(a);
		er.properties->mark = er.res->mark;
	}
	return er.properties;
}

void template_check_schemas(const struct tmpl_stack *st, struct diag_list *diags)
{
	size_t i;

	for (i = 0; i < st->nresources; i++) {
		const struct tmpl_eval_resource *er = &st->resources[i];
		if (!er->included || !er->res->schema)
			continue;
		schema_validate(er->res->schema, er->properties,
				er->res->logical_id, diags);
		/* the documents in policy properties have a grammar of their own */
		schema_check_policies(er->res->schema, er->properties,
				      er->res->logical_id, diags);
	}
}
