/*
 * The template model: sections, parameters, resources and outputs pulled
 * out of the loaded value tree, with the structural checks that do not need
 * evaluation (unknown sections and attributes, resource types, parameter
 * declarations). Evaluation is in eval.c.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "internal.h"

/* Optimal string alignment distance (a swap of neighbours costs 1, so
 * "Vcp" is one step from "Vpc"); letters compare case-insensitively. */
static size_t edit_distance(const char *a, const char *b)
{
	unsigned short d[64][64];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned short)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned short)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int cost = tolower((unsigned char)a[i - 1]) !=
				   tolower((unsigned char)b[j - 1]);
			unsigned short best = (unsigned short)(d[i - 1][j - 1] + cost);
			if (d[i - 1][j] + 1 < best)
				best = (unsigned short)(d[i - 1][j] + 1);
			if (d[i][j - 1] + 1 < best)
				best = (unsigned short)(d[i][j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = (unsigned short)(d[i - 2][j - 2] + 1);
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *tmpl_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t i, best = (size_t)-1, limit = strlen(word) / 3;
	const char *pick = NULL;

	if (limit < 1)
		limit = 1;
	size_t wl = strlen(word);

	for (i = 0; i < n; i++) {
		size_t cl = strlen(cands[i]), dist;
		/* the distance is at least the difference in length */
		if ((cl > wl ? cl - wl : wl - cl) > limit)
			continue;
		dist = edit_distance(word, cands[i]);
		if (dist <= limit && dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick;
}

const struct value_pair *tmpl_pair(const struct value *map, const char *key)
{
	size_t i;

	if (!map || map->kind != VALUE_MAP)
		return NULL;
	for (i = 0; i < map->u.map.n; i++)
		if (!strcmp(map->u.map.items[i].key, key))
			return &map->u.map.items[i];
	return NULL;
}

bool tmpl_valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

const char *tmpl_scalar_text(const struct value *v)
{
	if (v->kind == VALUE_STRING)
		return v->u.str.s;
	if (v->kind == VALUE_NUMBER)
		return v->u.num.text;
	if (v->kind == VALUE_BOOL)
		return v->u.b ? "true" : "false";
	return NULL;
}

void tmpl_split_list(struct arena *a, const char *s, const struct mark *m,
		     struct value *list)
{
	const char *q;

	for (;; s = q + 1) {
		const char *b = s, *e;
		struct value *it;

		q = strchr(s, ',');
		e = q ? q : s + strlen(s);
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		it = value_new_stringn(a, b, (size_t)(e - b));
		it->mark = *m;
		value_list_push(a, list, it);
		if (!q)
			break;
	}
}

/* diag_add, up to TEMPLATE_MAX_ERRORS errors (a hostile template cannot
 * make millions of them) */
#define tdiag(dl, ...)                                                       \
	do {                                                                 \
		if ((dl)->errors < TEMPLATE_MAX_ERRORS)                      \
			diag_add((dl), __VA_ARGS__);                         \
	} while (0)

/* Transform: the one cairn runs itself is AWS::LanguageExtensions
 * (Fn::ForEach, Fn::Length, Fn::ToJsonString, FindInMap defaults);
 * macros and SAM need CloudFormation's service. */
static void check_transform(struct diag_list *dl, const struct value_pair *p)
{
	const struct value *v = p->val;
	size_t i, n = v->kind == VALUE_LIST ? v->u.list.n : 1;

	for (i = 0; i < n; i++) {
		const struct value *it = v->kind == VALUE_LIST
						 ? v->u.list.items[i]
						 : v;
		const char *s = value_str(it);

		if (!s) {
			tdiag(dl, DIAG_ERROR, &it->mark, NULL, "Transform",
			      "a transform is named by a string");
			continue;
		}
		if (strcmp(s, "AWS::LanguageExtensions"))
			tdiag(dl, DIAG_ERROR, &it->mark, NULL, "Transform",
			      "transform \"%s\" is not supported by cairn "
			      "(macros and SAM run inside CloudFormation; "
			      "AWS::LanguageExtensions is built in)", s);
	}
}

static void unknown_key(struct diag_list *dl, const struct value_pair *p,
			const char *logical_id, const char *path,
			const char *what, const char *const *known, size_t n)
{
	const char *s = tmpl_suggest(p->key, known, n);
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", known[i]);
	if (s)
		tdiag(dl, DIAG_ERROR, &p->key_mark, logical_id, path,
			 "unknown %s \"%s\" (did you mean \"%s\"?)", what,
			 p->key, s);
	else
		tdiag(dl, DIAG_ERROR, &p->key_mark, logical_id, path,
			 "unknown %s \"%s\" (expected one of: %s)", what,
			 p->key, sb.buf);
	strbuf_release(&sb);
}

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const char *const sections[] = {
	"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters",
	"Mappings", "Conditions", "Resources", "Outputs", "Transform", "Rules",
};
static const char *const param_keys[] = {
	"Type", "Default", "AllowedValues", "AllowedPattern", "MinLength",
	"MaxLength", "MinValue", "MaxValue", "NoEcho", "ConstraintDescription",
	"Description",
};
static const char *const res_keys[] = {
	"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy",
	"UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy",
};
static const char *const out_keys[] = {
	"Value", "Description", "Export", "Condition",
};
static const char *const policies[] = {
	"Delete", "Retain", "RetainExceptOnCreate", "Snapshot",
};

static bool param_type_ok(const char *t)
{
	static const char *const simple[] = {
		"String", "Number", "List<Number>", "CommaDelimitedList",
	};
	size_t i;

	for (i = 0; i < N(simple); i++)
		if (!strcmp(t, simple[i]))
			return true;
	/* AWS-specific types: AWS::EC2::VPC::Id, List<AWS::EC2::Subnet::Id>,
	 * AWS::SSM::Parameter::Value<...>: treated as strings or lists */
	if (!strncmp(t, "AWS::", 5))
		return true;
	if (!strncmp(t, "List<AWS::", 10) && t[strlen(t) - 1] == '>')
		return true;
	return false;
}

static bool is_scalar(const struct value *v)
{
	return v && (v->kind == VALUE_STRING || v->kind == VALUE_NUMBER ||
		     v->kind == VALUE_BOOL);
}

static void check_param(struct tmpl_param *p,
			struct diag_list *dl)
{
	const struct value *d = p->decl;
	struct strbuf path = STRBUF_INIT;
	const struct value_pair *tp;
	size_t i;

	strbuf_addf(&path, "Parameters.%s", p->name);
	if (d->kind != VALUE_MAP) {
		tdiag(dl, DIAG_ERROR, &d->mark, NULL, path.buf,
			 "a parameter must be a map with at least Type");
		goto out;
	}
	for (i = 0; i < d->u.map.n; i++) {
		const struct value_pair *kp = &d->u.map.items[i];
		size_t j;
		bool ok = false;
		for (j = 0; j < N(param_keys); j++)
			ok |= !strcmp(kp->key, param_keys[j]);
		if (!ok)
			unknown_key(dl, kp, NULL, path.buf, "parameter attribute",
				    param_keys, N(param_keys));
	}
	tp = tmpl_pair(d, "Type");
	if (!tp) {
		tdiag(dl, DIAG_ERROR, &p->mark, NULL, path.buf,
			 "missing Type");
	} else if (!value_str(tp->val) || !param_type_ok(value_str(tp->val))) {
		tdiag(dl, DIAG_ERROR, &tp->val->mark, NULL, path.buf,
			 "unsupported parameter type%s%s%s (expected String, "
			 "Number, List<Number>, CommaDelimitedList or an AWS "
			 "type such as AWS::EC2::VPC::Id)",
			 value_str(tp->val) ? " \"" : "",
			 value_str(tp->val) ? value_str(tp->val) : "",
			 value_str(tp->val) ? "\"" : "");
	} else {
		p->type = value_str(tp->val);
	}
	{
		const struct value *ne = value_map_get(d, "NoEcho");
		p->no_echo = ne && ((ne->kind == VALUE_BOOL && ne->u.b) ||
				    (value_str(ne) && !strcasecmp(value_str(ne), "true")));
	}
	{
		const struct value *pat = value_map_get(d, "AllowedPattern");
		if (pat) {
			if (!value_str(pat)) {
				tdiag(dl, DIAG_ERROR, &pat->mark, NULL,
					 path.buf, "AllowedPattern must be a string");
			} else {
				regex_t re;
				{
					struct strbuf rs = STRBUF_INIT;
					int rc;
					strbuf_addf(&rs, "^(%s)$", value_str(pat));
					rc = regcomp(&re, rs.buf, REG_EXTENDED | REG_NOSUB);
					if (rc) {
						char eb[128];
						regerror(rc, &re, eb, sizeof(eb));
						tdiag(dl, DIAG_ERROR, &pat->mark, NULL,
							 path.buf,
							 "AllowedPattern is not a valid "
							 "POSIX extended regular "
							 "expression: %s", eb);
					} else {
						regfree(&re);
					}
					strbuf_release(&rs);
				}
			}
		}
	}
	{
		static const char *const nums[] = { "MinLength", "MaxLength",
						    "MinValue", "MaxValue" };
		for (i = 0; i < N(nums); i++) {
			const struct value *n = value_map_get(d, nums[i]);
			char *end;
			if (!n)
				continue;
			if (n->kind == VALUE_NUMBER)
				continue;
			if (value_str(n) && *value_str(n) &&
			    (strtod(value_str(n), &end), *end == '\0'))
				continue;
			tdiag(dl, DIAG_ERROR, &n->mark, NULL, path.buf,
				 "%s must be a number", nums[i]);
		}
	}
	{
		const struct value *av = value_map_get(d, "AllowedValues");
		if (av && av->kind != VALUE_LIST)
			tdiag(dl, DIAG_ERROR, &av->mark, NULL, path.buf,
				 "AllowedValues must be a list");
		else if (av)
			for (i = 0; i < av->u.list.n; i++)
				if (!is_scalar(av->u.list.items[i]))
					tdiag(dl, DIAG_ERROR,
						 &av->u.list.items[i]->mark,
						 NULL, path.buf,
						 "AllowedValues entries must "
						 "be scalars");
	}
out:
	strbuf_release(&path);
}

static void supported_types(struct strbuf *sb)
{
	size_t i, n = schema_count();

	for (i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "",
			    schema_type_name(schema_at(i)));
}

static void check_resource(struct template *t, struct tmpl_resource *r,
			   struct diag_list *dl)
{
	const struct value *d = r->decl;
	const struct value_pair *p;
	size_t i;

	if (d->kind != VALUE_MAP) {
		tdiag(dl, DIAG_ERROR, &d->mark, r->logical_id, NULL,
			 "a resource must be a map with at least Type");
		return;
	}
	for (i = 0; i < d->u.map.n; i++) {
		const struct value_pair *kp = &d->u.map.items[i];
		size_t j;
		bool ok = false;
		for (j = 0; j < N(res_keys); j++)
			ok |= !strcmp(kp->key, res_keys[j]);
		if (!ok)
			unknown_key(dl, kp, r->logical_id, NULL,
				    "resource attribute", res_keys, N(res_keys));
		else if (!strcmp(kp->key, "CreationPolicy") ||
			 !strcmp(kp->key, "UpdatePolicy"))
			tdiag(dl, DIAG_WARNING, &kp->key_mark, r->logical_id,
				 NULL, "%s is ignored by cairn", kp->key);
	}
	p = tmpl_pair(d, "Type");
	if (!p) {
		tdiag(dl, DIAG_ERROR, &r->mark, r->logical_id, NULL,
			 "missing Type");
	} else if (!value_str(p->val)) {
		tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id, "Type",
			 "Type must be a string");
	} else {
		r->type = value_str(p->val);
		r->schema = schema_find(r->type);
		/* what CDK adds to every stack for its usage analytics:
		 * CloudFormation creates nothing for it, and neither does
		 * cairn (the resource is left out of the stack) */
		if (!strcmp(r->type, "AWS::CDK::Metadata")) {
			r->noop = true;
		} else if (!r->schema) {
			const char *hint = schema_suggest_type(r->type);
			struct strbuf sb = STRBUF_INIT;
			if (!strncmp(r->type, "Custom::", 8))
				tdiag(dl, DIAG_ERROR, &p->val->mark,
				      r->logical_id, "Type",
				      "custom resource \"%s\" is not supported: "
				      "its ServiceToken is called by CloudFormation "
				      "itself, which cairn does not use", r->type);
			else if (hint)
				tdiag(dl, DIAG_ERROR, &p->val->mark,
				      r->logical_id, "Type",
				      "unknown resource type \"%s\" (did you "
				      "mean \"%s\"?)", r->type, hint);
			else if (schema_registry_count())
				tdiag(dl, DIAG_ERROR, &p->val->mark,
				      r->logical_id, "Type",
				      "unknown resource type \"%s\" (`cairn "
				      "types` lists them)", r->type);
			else {
				supported_types(&sb);
				tdiag(dl, DIAG_ERROR, &p->val->mark,
				      r->logical_id, "Type",
				      "unsupported resource type \"%s\" "
				      "(supported: %s)", r->type, sb.buf);
			}
			strbuf_release(&sb);
		} else if (!schema_provisionable(r->schema)) {
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id,
			      "Type",
			      "resource type \"%s\" is not provisionable "
			      "through the Cloud Control API (NON_PROVISIONABLE) "
			      "and cairn has no native provider for it",
			      r->type);
		}
	}
	p = tmpl_pair(d, "Properties");
	if (p) {
		if (p->val->kind == VALUE_MAP)
			r->properties = p->val;
		else if (p->val->kind != VALUE_NULL)
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id,
				 "Properties", "Properties must be a map");
	}
	p = tmpl_pair(d, "DependsOn");
	if (p) {
		bool ok = value_str(p->val) != NULL;
		if (p->val->kind == VALUE_LIST) {
			ok = true;
			for (i = 0; i < p->val->u.list.n; i++)
				ok &= value_str(p->val->u.list.items[i]) != NULL;
		}
		if (!ok)
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id,
				 "DependsOn",
				 "DependsOn must be a logical id or a list of "
				 "them");
		else
			r->depends_on = p->val;
	}
	p = tmpl_pair(d, "Condition");
	if (p) {
		if (!value_str(p->val))
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id,
				 "Condition", "Condition must be a condition name");
		else if (!tmpl_index_get(&t->cond_idx, value_str(p->val), NULL))
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id,
				 "Condition", "unknown condition \"%s\"",
				 value_str(p->val));
		else
			r->condition = value_str(p->val);
	}
	for (i = 0; i < 2; i++) {
		const char *key = i ? "UpdateReplacePolicy" : "DeletionPolicy";
		size_t j;
		bool ok = false;
		p = tmpl_pair(d, key);
		if (!p)
			continue;
		for (j = 0; value_str(p->val) && j < N(policies); j++)
			ok |= !strcmp(value_str(p->val), policies[j]);
		if (!ok) {
			tdiag(dl, DIAG_ERROR, &p->val->mark, r->logical_id, key,
				 "%s must be Delete, Retain, "
				 "RetainExceptOnCreate or Snapshot", key);
			continue;
		}
		if (i)
			r->update_replace_policy = value_str(p->val);
		else
			r->deletion_policy = value_str(p->val);
	}
}

static void check_output(struct template *t, struct tmpl_output *o,
			 struct diag_list *dl)
{
	const struct value *d = o->decl;
	struct strbuf path = STRBUF_INIT;
	const struct value_pair *p;
	size_t i;

	strbuf_addf(&path, "Outputs.%s", o->name);
	if (d->kind != VALUE_MAP) {
		tdiag(dl, DIAG_ERROR, &d->mark, NULL, path.buf,
			 "an output must be a map with at least Value");
		goto out;
	}
	for (i = 0; i < d->u.map.n; i++) {
		const struct value_pair *kp = &d->u.map.items[i];
		size_t j;
		bool ok = false;
		for (j = 0; j < N(out_keys); j++)
			ok |= !strcmp(kp->key, out_keys[j]);
		if (!ok)
			unknown_key(dl, kp, NULL, path.buf, "output attribute",
				    out_keys, N(out_keys));
	}
	if (!tmpl_pair(d, "Value"))
		tdiag(dl, DIAG_ERROR, &o->mark, NULL, path.buf,
			 "missing Value");
	p = tmpl_pair(d, "Export");
	if (p && (p->val->kind != VALUE_MAP || !value_map_get(p->val, "Name") ||
		  p->val->u.map.n != 1))
		tdiag(dl, DIAG_ERROR, &p->val->mark, NULL, path.buf,
			 "Export must be a map with only Name");
	p = tmpl_pair(d, "Condition");
	if (p) {
		if (!value_str(p->val))
			tdiag(dl, DIAG_ERROR, &p->val->mark, NULL, path.buf,
				 "Condition must be a condition name");
		else if (!tmpl_index_get(&t->cond_idx, value_str(p->val), NULL))
			tdiag(dl, DIAG_ERROR, &p->val->mark, NULL, path.buf,
				 "unknown condition \"%s\"", value_str(p->val));
		else
			o->condition = value_str(p->val);
	}
out:
	strbuf_release(&path);
}

static void check_mappings(const struct value *m, struct diag_list *dl)
{
	size_t i, j;

	for (i = 0; i < m->u.map.n; i++) {
		const struct value_pair *p = &m->u.map.items[i];
		if (p->val->kind != VALUE_MAP) {
			tdiag(dl, DIAG_ERROR, &p->val->mark, NULL, "Mappings",
				 "mapping \"%s\" must be a map of maps", p->key);
			continue;
		}
		for (j = 0; j < p->val->u.map.n; j++) {
			const struct value_pair *q = &p->val->u.map.items[j];
			if (q->val->kind != VALUE_MAP)
				tdiag(dl, DIAG_ERROR, &q->val->mark, NULL,
					 "Mappings",
					 "mapping \"%s\" key \"%s\" must be a map",
					 p->key, q->key);
		}
	}
}

/* The section's map, or NULL (absent or null); reports a wrong kind. */
static const struct value *section_map(const struct value *root,
				       const char *name, struct diag_list *dl)
{
	const struct value_pair *p = tmpl_pair(root, name);

	if (!p || p->val->kind == VALUE_NULL)
		return NULL;
	if (p->val->kind != VALUE_MAP) {
		tdiag(dl, DIAG_ERROR, &p->val->mark, NULL, name,
			 "section %s must be a map", name);
		return NULL;
	}
	return p->val;
}

static void build(struct arena *a, struct template *t, struct diag_list *dl)
{
	const struct value *root = t->root;
	const struct value *sec;
	size_t i;

	for (i = 0; i < root->u.map.n; i++) {
		const struct value_pair *p = &root->u.map.items[i];
		size_t j;
		bool ok = false;
		for (j = 0; j < N(sections); j++)
			ok |= !strcmp(p->key, sections[j]);
		if (!ok)
			unknown_key(dl, p, NULL, NULL, "top-level section",
				    sections, N(sections));
		else if (!strcmp(p->key, "Transform"))
			check_transform(dl, p);

	}
	{
		const struct value_pair *p = tmpl_pair(root, "AWSTemplateFormatVersion");
		const char *s = p ? value_str(p->val) : NULL;
		if (p && (!s || strcmp(s, "2010-09-09")))
			tdiag(dl, DIAG_ERROR, &p->val->mark, NULL,
				 "AWSTemplateFormatVersion",
				 "the only valid version is \"2010-09-09\"");
		p = tmpl_pair(root, "Description");
		if (p && !value_str(p->val))
			tdiag(dl, DIAG_ERROR, &p->val->mark, NULL,
				 "Description", "Description must be a string");
		else if (p)
			t->description = value_str(p->val);
	}

	t->conditions = section_map(root, "Conditions", dl);
	if (t->conditions)
		for (i = 0; i < t->conditions->u.map.n; i++)
			tmpl_index_put(a, &t->cond_idx,
				       t->conditions->u.map.items[i].key, i);
	t->mappings = section_map(root, "Mappings", dl);
	if (t->mappings)
		check_mappings(t->mappings, dl);

	sec = section_map(root, "Parameters", dl);
	if (sec) {
		t->params = arena_alloc(a, (sec->u.map.n + 1) * sizeof(*t->params));
		for (i = 0; i < sec->u.map.n; i++) {
			const struct value_pair *p = &sec->u.map.items[i];
			struct tmpl_param *tp = &t->params[t->nparams++];
			tp->name = p->key;
			tp->mark = p->key_mark;
			tp->decl = p->val;
			if (!tmpl_valid_name(p->key))
				tdiag(dl, DIAG_ERROR, &p->key_mark, NULL,
					 "Parameters",
					 "parameter name \"%s\" must be "
					 "alphanumeric", p->key);
			tmpl_index_put(a, &t->param_idx, p->key, t->nparams - 1);
			check_param(tp, dl);
		}
	}

	sec = section_map(root, "Resources", dl);
	if (!sec || !sec->u.map.n) {
		const struct value_pair *p = tmpl_pair(root, "Resources");
		struct mark m = { t->file, 1, 1 };
		/* a Resources of the wrong kind was reported just above */
		if (!p || p->val->kind == VALUE_MAP || p->val->kind == VALUE_NULL)
			tdiag(dl, DIAG_ERROR, p ? &p->key_mark : &m, NULL,
				 NULL, "the template needs a Resources section "
				       "with at least one resource");
	}
	if (sec) {
		t->resources = arena_alloc(a, (sec->u.map.n + 1) *
						      sizeof(*t->resources));
		for (i = 0; i < sec->u.map.n; i++) {
			const struct value_pair *p = &sec->u.map.items[i];
			struct tmpl_resource *r = &t->resources[t->nresources++];
			r->logical_id = p->key;
			r->mark = p->key_mark;
			r->decl = p->val;
			tmpl_index_put(a, &t->res_idx, p->key, t->nresources - 1);
		}
		for (i = 0; i < t->nresources; i++) {
			struct tmpl_resource *r = &t->resources[i];
			if (!tmpl_valid_name(r->logical_id))
				tdiag(dl, DIAG_ERROR, &r->mark, r->logical_id,
					 NULL, "logical id must be alphanumeric");
			if (tmpl_index_get(&t->param_idx, r->logical_id, NULL))
				tdiag(dl, DIAG_ERROR, &r->mark, r->logical_id,
					 NULL,
					 "a parameter has the same name; Ref "
					 "would be ambiguous");
			check_resource(t, r, dl);
		}
	}

	sec = section_map(root, "Outputs", dl);
	if (sec) {
		t->outputs = arena_alloc(a, (sec->u.map.n + 1) * sizeof(*t->outputs));
		for (i = 0; i < sec->u.map.n; i++) {
			const struct value_pair *p = &sec->u.map.items[i];
			struct tmpl_output *o = &t->outputs[t->noutputs++];
			o->name = p->key;
			o->mark = p->key_mark;
			o->decl = p->val;
			check_output(t, o, dl);
		}
	}
}

static struct template *load_buffer(struct arena *a, const char *name,
				    const char *text, size_t len,
				    const struct value *params,
				    const struct value *env_params,
				    struct diag_list *diags, struct err *err)
{
	size_t before = diags->errors;
	struct value *root = template_parse_yaml(a, name, text, len, diags);
	struct template *t;

	if (!root) {
		return err_set(err, ERR_PARSE, "\"%s\" cannot be loaded", name),
		       NULL;
	}
	if (tmpl_expand_foreach(a, root, params, env_params, diags) < 0)
		return err_set(err, ERR_PARSE, "\"%s\": Fn::ForEach cannot be "
					       "expanded", name),
		       NULL;
	if (root->kind != VALUE_MAP) {
		diag_add(diags, DIAG_ERROR, &root->mark, NULL, NULL,
			 "a template must be a map of sections (found %s)",
			 value_kind_name(root->kind));
		return err_set(err, ERR_PARSE, "\"%s\" is not a template", name),
		       NULL;
	}
	(void)before;
	t = arena_alloc(a, sizeof(*t));
	t->file = root->mark.file;
	t->root = root;
	build(a, t, diags);
	return t;
}

struct template *template_load_buffer(struct arena *a, const char *name,
				      const char *text, size_t len,
				      struct diag_list *diags, struct err *err)
{
	return load_buffer(a, name, text, len, NULL, NULL, diags, err);
}

struct template *template_load(struct arena *a, const char *path,
			       struct diag_list *diags, struct err *err)
{
	return template_load_params(a, path, NULL, NULL, diags, err);
}

struct template *template_load_params(struct arena *a, const char *path,
				      const struct value *params,
				      const struct value *env_params,
				      struct diag_list *diags,
				      struct err *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct template *t;

	if (strbuf_read_file(&sb, path, TEMPLATE_MAX_BYTES) < 0) {
		int e = errno;
		strbuf_release(&sb);
		if (e == EFBIG) {
			struct mark m = { arena_strdup(a, path), 0, 0 };
			diag_add(diags, DIAG_ERROR, &m, NULL, NULL,
				 "file is larger than 10 MB");
			return err_set(err, ERR_PARSE,
				       "\"%s\" is larger than 10 MB", path),
			       NULL;
		}
		return err_set(err, ERR_IO, "cannot read \"%s\": %s", path,
			       strerror(e)),
		       NULL;
	}
	t = load_buffer(a, path, sb.buf, sb.len, params, env_params, diags,
			err);
	strbuf_release(&sb);
	return t;
}

const struct tmpl_resource *template_find_resource(const struct template *t,
						   const char *logical_id)
{
	size_t i;

	if (!tmpl_index_get(&t->res_idx, logical_id, &i))
		return NULL;
	return &t->resources[i];
}

const struct tmpl_param *template_find_param(const struct template *t,
					     const char *name)
{
	size_t i;

	if (!tmpl_index_get(&t->param_idx, name, &i))
		return NULL;
	return &t->params[i];
}

void tmpl_ctx_init(struct tmpl_ctx *ctx, struct arena *a, const char *region,
		   const char *account, const char *stack_name)
{
	const char **azs = arena_alloc(a, 3 * sizeof(*azs));
	int i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->region = arena_strdup(a, region);
	ctx->account = arena_strdup(a, account);
	ctx->stack_name = arena_strdup(a, stack_name);
	if (!strncmp(region, "cn-", 3)) {
		ctx->partition = "aws-cn";
		ctx->url_suffix = "amazonaws.com.cn";
	} else if (!strncmp(region, "us-gov-", 7)) {
		ctx->partition = "aws-us-gov";
		ctx->url_suffix = "amazonaws.com";
	} else {
		ctx->partition = "aws";
		ctx->url_suffix = "amazonaws.com";
	}
	ctx->stack_id = arena_sprintf(
		a, "arn:%s:cloudformation:%s:%s:stack/%s/"
		   "00000000-0000-4000-8000-000000000000",
		ctx->partition, region, account, stack_name);
	for (i = 0; i < 3; i++)
		azs[i] = arena_sprintf(a, "%s%c", region, 'a' + i);
	ctx->azs = azs;
	ctx->nazs = 3;
}
