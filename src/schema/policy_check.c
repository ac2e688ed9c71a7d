/*
 * IAM policy grammar at validate time: the documents in a resource's
 * policy-bearing properties, checked the way IAM (and the services that
 * take resource policies) would refuse them with MalformedPolicyDocument,
 * so the mistake is reported at its file:line:col before anything is
 * created.
 *
 * The grammar is IAM's (IAM User Guide, "Grammar of the IAM JSON policy
 * language" and "IAM JSON policy elements"):
 *   policy    = { Version?, Id?, Statement }
 *   Version   = "2012-10-17" | "2008-10-17"
 *   Statement = statement | [ statement, ... ]
 *   statement = { Sid?, Effect, (Principal | NotPrincipal)?,
 *                 (Action | NotAction), (Resource | NotResource)?,
 *                 Condition? }
 *   Effect    = "Allow" | "Deny"
 *   action    = "*" | <service>:<action, with * and ? wildcards>
 *   Condition = { operator: { key: value | [values] } }, the operators of
 *               "IAM JSON policy elements: Condition operators", with the
 *               IfExists suffix and the ForAllValues:/ForAnyValue: set
 *               qualifiers.
 * Which statement elements a document needs depends on what it is:
 *   identity policies (role inline policies, AWS::IAM::ManagedPolicy,
 *   AWS::IAM::Policy, AWS::IAM::RolePolicy, UserPolicy, GroupPolicy):
 *   Resource or NotResource
 *   required, no Principal ("Policy document should not specify a
 *   principal"); Sid letters and digits only;
 *   trust policies (AssumeRolePolicyDocument): Principal or NotPrincipal
 *   required, no Resource ("Has prohibited field Resource");
 *   resource policies (ECR RepositoryPolicyText, Secrets Manager
 *   AWS::SecretsManager::ResourcePolicy ResourcePolicy): Principal required;
 *   VPC endpoint policies: neither required.
 * A managed policy's Description may not hold control characters (IAM's
 * pattern is [\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*; a newline is refused, see
 * aws-cloudformation/cfn-lint#345).
 *
 * Values still unknown at validate time (an intrinsic resolved at apply)
 * are skipped, never reported. A document given as JSON text is parsed
 * (src/providers/policy.c does the same when it compares documents read
 * back from IAM); problems in it are reported at the text's mark.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

enum pkind { P_IDENTITY, P_TRUST, P_RESOURCE, P_ENDPOINT };

struct pctx {
	const char *logical_id;
	struct diag_list *out;
	struct strbuf path;
	enum pkind kind;
	const struct mark *text_mark; /* a document given as JSON text */
};

static void report(struct pctx *c, const struct mark *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct pctx *c, const struct mark *m, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (c->text_mark || !m || !m->line)
		m = c->text_mark ? c->text_mark : m;
	diag_add(c->out, DIAG_ERROR, m, c->logical_id, c->path.buf, "%s", sb.buf);
	strbuf_release(&sb);
}

static size_t push(struct pctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static size_t push(struct pctx *c, const char *fmt, ...)
{
	size_t old = c->path.len;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&c->path, fmt, ap);
	va_end(ap);
	return old;
}

static void pop(struct pctx *c, size_t old)
{
	strbuf_setlen(&c->path, old);
}

static bool unknown(const struct value *v)
{
	return !v || v->kind == VALUE_UNKNOWN;
}

/* The closest of names to word, for "did you mean"; NULL when none is. */
static const char *closest(const char *word, const char *const *names)
{
	size_t best = 3, i;
	const char *hit = NULL;

	for (i = 0; names[i]; i++) {
		size_t d = schema_edit_distance(word, names[i], 2);
		if (d < best) {
			best = d;
			hit = names[i];
		}
	}
	return hit;
}

static void unknown_key(struct pctx *c, const struct value_pair *p,
			const char *what, const char *const *names)
{
	const char *hint = closest(p->key, names);
	struct strbuf key = STRBUF_INIT;

	strbuf_add_json_str(&key, p->key, strlen(p->key));
	if (hint)
		report(c, &p->key_mark, "unknown %s %s (did you mean \"%s\"?)",
		       what, key.buf, hint);
	else
		report(c, &p->key_mark, "unknown %s %s", what, key.buf);
	strbuf_release(&key);
}

static const struct value_pair *pair(const struct value *map, const char *key)
{
	size_t i;

	for (i = 0; map->u.map.n > i; i++)
		if (!strcmp(map->u.map.items[i].key, key))
			return &map->u.map.items[i];
	return NULL;
}

/* ---- elements ---- */

static bool action_ok(const char *s)
{
	const char *colon = strchr(s, ':'), *p;

	if (!strcmp(s, "*"))
		return true;
	if (!colon || colon == s || !colon[1])
		return false;
	for (p = s; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	for (p = colon + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '*' || *p == '?' ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

static void check_actions(struct pctx *c, const struct value_pair *p)
{
	const struct value *v = p->val;
	size_t i, n;

	if (unknown(v))
		return;
	if (v->kind != VALUE_STRING && v->kind != VALUE_LIST) {
		report(c, &v->mark, "%s must be a string or a list of strings",
		       p->key);
		return;
	}
	n = v->kind == VALUE_LIST ? v->u.list.n : 1;
	if (v->kind == VALUE_LIST && !n)
		report(c, &v->mark, "%s must not be empty", p->key);
	for (i = 0; i < n; i++) {
		const struct value *a = v->kind == VALUE_LIST ? v->u.list.items[i] : v;
		size_t old = v->kind == VALUE_LIST ? push(c, "[%zu]", i) : c->path.len;
		if (unknown(a)) {
			pop(c, old);
			continue;
		}
		if (a->kind != VALUE_STRING)
			report(c, &a->mark, "an action must be a string, not a %s",
			       value_kind_name(a->kind));
		else if (!action_ok(a->u.str.s))
			report(c, &a->mark,
			       "action \"%s\" is not of the form \"service:Action\" "
			       "(wildcards * and ? allowed) or \"*\"",
			       a->u.str.s);
		pop(c, old);
	}
}

/* Resource / NotResource: a string or a list of strings. */
static void check_strings(struct pctx *c, const struct value_pair *p)
{
	const struct value *v = p->val;
	size_t i;

	if (unknown(v))
		return;
	if (v->kind == VALUE_STRING)
		return;
	if (v->kind != VALUE_LIST) {
		report(c, &v->mark, "%s must be a string or a list of strings",
		       p->key);
		return;
	}
	if (!v->u.list.n)
		report(c, &v->mark, "%s must not be empty", p->key);
	for (i = 0; i < v->u.list.n; i++) {
		const struct value *it = v->u.list.items[i];
		if (!unknown(it) && it->kind != VALUE_STRING) {
			size_t old = push(c, "[%zu]", i);
			report(c, &it->mark, "%s items must be strings, not a %s",
			       p->key, value_kind_name(it->kind));
			pop(c, old);
		}
	}
}

static void check_principal(struct pctx *c, const struct value_pair *p)
{
	static const char *const keys[] = { "AWS", "Service", "Federated",
					    "CanonicalUser", NULL };
	const struct value *v = p->val;
	size_t i, j;

	if (unknown(v))
		return;
	if (v->kind == VALUE_STRING) {
		if (strcmp(v->u.str.s, "*"))
			report(c, &v->mark,
			       "%s must be \"*\" or a map of AWS, Service, "
			       "Federated or CanonicalUser to names",
			       p->key);
		return;
	}
	if (v->kind != VALUE_MAP) {
		report(c, &v->mark, "%s must be \"*\" or a map", p->key);
		return;
	}
	if (!v->u.map.n)
		report(c, &v->mark, "%s must not be empty", p->key);
	for (i = 0; i < v->u.map.n; i++) {
		const struct value_pair *q = &v->u.map.items[i];
		size_t old = push(c, ".%s", q->key);
		bool known = false;
		for (j = 0; keys[j]; j++)
			known |= !strcmp(q->key, keys[j]);
		if (!known)
			unknown_key(c, q, "principal type", keys);
		else
			check_strings(c, q);
		pop(c, old);
	}
}

/* IAM's condition operators (IAM JSON policy elements: Condition
 * operators). Null takes no IfExists. */
static const char *const operators[] = {
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
	"StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan",
	"NumericLessThanEquals", "NumericGreaterThan",
	"NumericGreaterThanEquals", "DateEquals", "DateNotEquals",
	"DateLessThan", "DateLessThanEquals", "DateGreaterThan",
	"DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
	"NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	"Null", NULL,
};

static bool operator_ok(const char *op)
{
	size_t len, i;

	if (!strncmp(op, "ForAllValues:", 13))
		op += 13;
	else if (!strncmp(op, "ForAnyValue:", 12))
		op += 12;
	len = strlen(op);
	if (len > 8 && !strcmp(op + len - 8, "IfExists") &&
	    strncmp(op, "Null", 4))
		len -= 8;
	for (i = 0; operators[i]; i++)
		if (strlen(operators[i]) == len && !strncmp(op, operators[i], len))
			return true;
	return false;
}

static void check_condition(struct pctx *c, const struct value_pair *p)
{
	const struct value *v = p->val;
	size_t i, j;

	if (unknown(v))
		return;
	if (v->kind != VALUE_MAP) {
		report(c, &v->mark, "Condition must be a map of condition "
				    "operators");
		return;
	}
	for (i = 0; i < v->u.map.n; i++) {
		const struct value_pair *op = &v->u.map.items[i];
		size_t old = push(c, ".%s", op->key);
		if (!operator_ok(op->key)) {
			unknown_key(c, op, "condition operator", operators);
		} else if (!unknown(op->val) && op->val->kind != VALUE_MAP) {
			report(c, &op->val->mark,
			       "condition operator \"%s\" needs a map of "
			       "condition keys to values",
			       op->key);
		} else if (!unknown(op->val)) {
			for (j = 0; j < op->val->u.map.n; j++) {
				const struct value *x = op->val->u.map.items[j].val;
				if (!unknown(x) && (x->kind == VALUE_MAP ||
						    x->kind == VALUE_NULL)) {
					size_t o2 = push(c, ".%s",
							 op->val->u.map.items[j].key);
					report(c, &x->mark,
					       "a condition value must be a "
					       "string, number, boolean or a "
					       "list of them");
					pop(c, o2);
				}
			}
		}
		pop(c, old);
	}
}

static bool sid_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static const char *const statement_keys[] = {
	"Sid",	      "Effect",	  "Principal",	 "NotPrincipal", "Action",
	"NotAction", "Resource", "NotResource", "Condition",    NULL,
};

static void check_statement(struct pctx *c, const struct value *st,
			    const char **sids, size_t idx)
{
	const struct value_pair *effect, *act, *nact, *res, *nres, *pr, *npr,
		*sid;
	size_t i, j;

	if (unknown(st))
		return;
	if (st->kind != VALUE_MAP) {
		report(c, &st->mark, "a statement must be a map, not a %s",
		       value_kind_name(st->kind));
		return;
	}
	for (i = 0; i < st->u.map.n; i++) {
		const struct value_pair *p = &st->u.map.items[i];
		bool known = false;
		for (j = 0; statement_keys[j]; j++)
			known |= !strcmp(p->key, statement_keys[j]);
		if (!known) {
			size_t old = push(c, ".%s", p->key);
			unknown_key(c, p, "statement element", statement_keys);
			pop(c, old);
		}
	}
	sid = pair(st, "Sid");
	if (sid && !unknown(sid->val)) {
		size_t old = push(c, ".Sid");
		const char *s = value_str(sid->val);
		if (!s) {
			report(c, &sid->val->mark, "Sid must be a string");
		} else {
			if ((c->kind == P_IDENTITY || c->kind == P_TRUST) &&
			    !sid_ok(s))
				report(c, &sid->val->mark,
				       "Sid \"%s\" may hold only letters and "
				       "digits in an IAM policy",
				       s);
			for (j = 0; j < idx; j++)
				if (sids[j] && !strcmp(sids[j], s)) {
					report(c, &sid->val->mark,
					       "duplicate Sid \"%s\" (statement "
					       "%zu has it too)",
					       s, j);
					break;
				}
			sids[idx] = s;
		}
		pop(c, old);
	}

	effect = pair(st, "Effect");
	if (!effect) {
		report(c, &st->mark, "statement has no Effect (\"Allow\" or "
				     "\"Deny\")");
	} else if (!unknown(effect->val)) {
		const char *e = value_str(effect->val);
		size_t old = push(c, ".Effect");
		if (!e || (strcmp(e, "Allow") && strcmp(e, "Deny"))) {
			if (e && (!strcasecmp(e, "allow") || !strcasecmp(e, "deny")))
				report(c, &effect->val->mark,
				       "Effect must be \"Allow\" or \"Deny\" "
				       "(case matters), not \"%s\"",
				       e);
			else if (e)
				report(c, &effect->val->mark,
				       "Effect must be \"Allow\" or \"Deny\", "
				       "not \"%s\"",
				       e);
			else
				report(c, &effect->val->mark,
				       "Effect must be \"Allow\" or \"Deny\"");
		}
		pop(c, old);
	}

	act = pair(st, "Action");
	nact = pair(st, "NotAction");
	if (!act && !nact)
		report(c, &st->mark, "statement has neither Action nor NotAction");
	else if (act && nact)
		report(c, &nact->key_mark,
		       "statement has both Action and NotAction (one only)");
	for (i = 0; i < 2; i++) {
		const struct value_pair *p = i ? nact : act;
		if (p) {
			size_t old = push(c, ".%s", p->key);
			check_actions(c, p);
			pop(c, old);
		}
	}

	res = pair(st, "Resource");
	nres = pair(st, "NotResource");
	if (res && nres)
		report(c, &nres->key_mark,
		       "statement has both Resource and NotResource (one only)");
	else if (c->kind == P_IDENTITY && !res && !nres)
		report(c, &st->mark, "statement has neither Resource nor "
				     "NotResource (an identity policy needs one)");
	else if (c->kind == P_TRUST && (res || nres))
		report(c, &(res ? res : nres)->key_mark,
		       "a trust policy statement cannot have %s",
		       (res ? res : nres)->key);
	for (i = 0; i < 2; i++) {
		const struct value_pair *p = i ? nres : res;
		if (p && c->kind != P_TRUST) {
			size_t old = push(c, ".%s", p->key);
			check_strings(c, p);
			pop(c, old);
		}
	}

	pr = pair(st, "Principal");
	npr = pair(st, "NotPrincipal");
	if (pr && npr)
		report(c, &npr->key_mark,
		       "statement has both Principal and NotPrincipal (one only)");
	else if (c->kind == P_IDENTITY && (pr || npr))
		report(c, &(pr ? pr : npr)->key_mark,
		       "an identity policy cannot name a %s (it applies to "
		       "whoever it is attached to)",
		       (pr ? pr : npr)->key);
	else if ((c->kind == P_TRUST || c->kind == P_RESOURCE) && !pr && !npr)
		report(c, &st->mark, "statement has neither Principal nor "
				     "NotPrincipal (a %s policy needs one)",
		       c->kind == P_TRUST ? "trust" : "resource");
	for (i = 0; i < 2; i++) {
		const struct value_pair *p = i ? npr : pr;
		if (p && c->kind != P_IDENTITY) {
			size_t old = push(c, ".%s", p->key);
			check_principal(c, p);
			pop(c, old);
		}
	}

	{
		const struct value_pair *p = pair(st, "Condition");
		if (p) {
			size_t old = push(c, ".Condition");
			check_condition(c, p);
			pop(c, old);
		}
	}
}

static void check_document(struct pctx *c, const struct value *doc)
{
	static const char *const top_keys[] = { "Version", "Id", "Statement",
						NULL };
	const struct value_pair *ver, *stp;
	const struct value *st;
	struct arena *a = NULL;
	size_t i;

	if (unknown(doc))
		return;
	if (doc->kind == VALUE_STRING) {
		struct err err = ERR_INIT;
		const struct value *parsed;
		a = arena_new();
		parsed = value_from_json(a, doc->u.str.s, doc->u.str.len, 0, &err);
		if (!parsed) {
			/* not JSON: schema_validate says so (format json) */
			err_clear(&err);
			arena_free(a);
			return;
		}
		c->text_mark = &doc->mark;
		doc = parsed;
	}
	if (doc->kind != VALUE_MAP)
		goto out; /* a list or a number: schema_validate says so */
	for (i = 0; i < doc->u.map.n; i++) {
		const struct value_pair *p = &doc->u.map.items[i];
		size_t j;
		bool known = false;
		for (j = 0; top_keys[j]; j++)
			known |= !strcmp(p->key, top_keys[j]);
		if (!known) {
			size_t old = push(c, ".%s", p->key);
			unknown_key(c, p, "policy element", top_keys);
			pop(c, old);
		}
	}
	ver = pair(doc, "Version");
	if (ver && !unknown(ver->val)) {
		const char *v = value_str(ver->val);
		size_t old = push(c, ".Version");
		if (!v || (strcmp(v, "2012-10-17") && strcmp(v, "2008-10-17")))
			report(c, &ver->val->mark,
			       "Version must be \"2012-10-17\" or \"2008-10-17\"%s%s%s",
			       v ? ", not \"" : "", v ? v : "", v ? "\"" : "");
		pop(c, old);
	}
	stp = pair(doc, "Statement");
	if (!stp) {
		report(c, &doc->mark, "the policy document has no Statement");
		goto out;
	}
	st = stp->val;
	if (unknown(st))
		goto out;
	if (st->kind == VALUE_LIST) {
		const char **sids = xcalloc(st->u.list.n + 1, sizeof(*sids));
		if (!st->u.list.n)
			report(c, &st->mark, "Statement must not be empty");
		for (i = 0; i < st->u.list.n; i++) {
			size_t old = push(c, ".Statement[%zu]", i);
			check_statement(c, st->u.list.items[i], sids, i);
			pop(c, old);
		}
		free(sids);
	} else if (st->kind == VALUE_MAP) {
		const char *sid = NULL;
		size_t old = push(c, ".Statement");
		check_statement(c, st, &sid, 0);
		pop(c, old);
	} else {
		size_t old = push(c, ".Statement");
		report(c, &st->mark, "Statement must be a statement or a list of "
				     "statements, not a %s",
		       value_kind_name(st->kind));
		pop(c, old);
	}
out:
	c->text_mark = NULL;
	if (a)
		arena_free(a);
}

static void check_at(struct pctx *c, const struct value *props,
		     const char *key, enum pkind kind)
{
	const struct value *v = value_map_get(props, key);
	size_t old;

	if (!v)
		return;
	old = push(c, ".%s", key);
	c->kind = kind;
	check_document(c, v);
	pop(c, old);
}

static void check_description(struct pctx *c, const struct value *props)
{
	const struct value *v = value_map_get(props, "Description");
	const unsigned char *s;
	size_t old;

	if (!v || v->kind != VALUE_STRING)
		return;
	for (s = (const unsigned char *)v->u.str.s; *s; s++) {
		/* C0 and DEL; C1 controls are U+0080..U+009F (0xC2 0x80..0x9F) */
		bool ctl = *s < 0x20 || *s == 0x7f ||
			   (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f);
		if (ctl) {
			old = push(c, ".Description");
			report(c, &v->mark,
			       "a managed policy's Description may not hold "
			       "control characters (a newline, a tab): IAM "
			       "refuses it");
			pop(c, old);
			return;
		}
	}
}

void schema_check_policies(const struct schema_type *t,
			   const struct value *props, const char *logical_id,
			   struct diag_list *out)
{
	struct pctx c;
	const char *type;

	if (!t || !props || props->kind != VALUE_MAP)
		return;
	type = t->name;
	memset(&c, 0, sizeof(c));
	c.logical_id = logical_id;
	c.out = out;
	strbuf_init(&c.path, 64);
	strbuf_addstr(&c.path, "Properties");
	if (!strcmp(type, "AWS::IAM::Role")) {
		const struct value *pols = value_map_get(props, "Policies");
		size_t i;
		check_at(&c, props, "AssumeRolePolicyDocument", P_TRUST);
		for (i = 0; pols && pols->kind == VALUE_LIST && i < pols->u.list.n; i++) {
			const struct value *p = pols->u.list.items[i];
			size_t old = push(&c, ".Policies[%zu]", i);
			if (p && p->kind == VALUE_MAP)
				check_at(&c, p, "PolicyDocument", P_IDENTITY);
			pop(&c, old);
		}
	} else if (!strcmp(type, "AWS::IAM::ManagedPolicy")) {
		check_at(&c, props, "PolicyDocument", P_IDENTITY);
		check_description(&c, props);
	} else if (!strcmp(type, "AWS::IAM::Policy") ||
		   !strcmp(type, "AWS::IAM::RolePolicy") ||
		   !strcmp(type, "AWS::IAM::UserPolicy") ||
		   !strcmp(type, "AWS::IAM::GroupPolicy")) {
		check_at(&c, props, "PolicyDocument", P_IDENTITY);
	} else if (!strcmp(type, "AWS::ECR::Repository")) {
		check_at(&c, props, "RepositoryPolicyText", P_RESOURCE);
	} else if (!strcmp(type, "AWS::SecretsManager::ResourcePolicy")) {
		check_at(&c, props, "ResourcePolicy", P_RESOURCE);
	} else if (!strcmp(type, "AWS::EC2::VPCEndpoint")) {
		check_at(&c, props, "PolicyDocument", P_ENDPOINT);
	}
	strbuf_release(&c.path);
}
