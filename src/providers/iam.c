/*
 * AWS::IAM::Role, ManagedPolicy, Policy and RolePolicy (Query protocol;
 * policy documents go out as JSON text and come back URL-encoded).
 *
 * Ref: role name (GetAtt Arn, RoleId); managed policy ARN (GetAtt
 * PolicyArn, PolicyId, DefaultVersionId); Policy: the policy name (GetAtt
 * Id), with the attached roles kept in attrs "Roles" so read and delete
 * know where the inline copies live; RolePolicy: "PolicyName|RoleName".
 */
#include <stdio.h>
#include <string.h>

#include "prov_int.h"

static const char *const iam_nf[] = { "NoSuchEntity", NULL };
static const struct tag_api ROLE_TAGS = { "iam", "TagRole", "UntagRole",
					  "RoleName", "Tags", "TagKeys",
					  "Key", "Value" };
static const struct tag_api POLICY_TAGS = { "iam", "TagPolicy", "UntagPolicy",
					    "PolicyArn", "Tags", "TagKeys",
					    "Key", "Value" };

/* Strings of a list value (template lists may hold numbers: not here). */
static bool list_has(const struct value *l, const char *s)
{
	size_t i;

	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
		const char *x = value_str(l->u.list.items[i]);
		if (x && !strcmp(x, s))
			return true;
	}
	return false;
}

static const struct value *list_or_empty(struct arena *a, const struct value *v)
{
	return v && v->kind == VALUE_LIST ? v : value_new_list(a);
}

static int put_role_policy(struct provider_ctx *ctx, const char *role,
			   const char *name, const struct value *doc,
			   struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "RoleName", role);
	ps(ctx->arena, p, "PolicyName", name);
	ps(ctx->arena, p, "PolicyDocument", policy_text(ctx->arena, doc));
	return pcall_retry(ctx, "iam", "PutRolePolicy", p, iam_nf, 60.0, err) ? 0 : -1;
}

static int delete_role_policy(struct provider_ctx *ctx, const char *role,
			      const char *name, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "RoleName", role);
	ps(ctx->arena, p, "PolicyName", name);
	if (!pcall(ctx, "iam", "DeleteRolePolicy", p, err))
		return gone_is_ok(err);
	return 0;
}

static int role_policy_arn(struct provider_ctx *ctx, const char *op,
			   const char *role, const char *arn, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "RoleName", role);
	ps(ctx->arena, p, "PolicyArn", arn);
	if (!pcall_retry(ctx, "iam", op, p, iam_nf,
			 strcmp(op, "AttachRolePolicy") ? 0.0 : 60.0, err))
		return strcmp(op, "DetachRolePolicy") ? -1 : gone_is_ok(err);
	return 0;
}

/* Every page of a list call (Marker / IsTruncated). */
static struct value *iam_list_all(struct provider_ctx *ctx, const char *op,
				  const char *member, const char *key,
				  const char *val, const char *field,
				  struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *out = value_new_list(a);
	const char *marker = NULL;

	for (;;) {
		struct value *p = value_new_map(a), *r;
		const struct value *l;
		const char *trunc;
		size_t i;
		ps(a, p, key, val);
		ps(a, p, "Marker", marker);
		r = pcall(ctx, "iam", op, p, err);
		if (!r || !(l = aws_get_list(a, r, member, err)))
			return NULL;
		for (i = 0; i < l->u.list.n; i++) {
			const struct value *e = l->u.list.items[i];
			const char *s = field ? pv_str(e, field) : value_str(e);
			if (s)
				value_list_push(a, out, value_new_string(a, s));
		}
		trunc = pv_str(r, "IsTruncated");
		marker = pv_str(r, "Marker");
		if (!trunc || strcmp(trunc, "true") || !marker)
			return out;
	}
}

/* =============================================================== Role */

static const char *role_name(struct provider_ctx *ctx, const struct value *props)
{
	const char *n = pv_str(props, "RoleName");

	return n ? n : provider_generate_name(ctx, 64, false);
}

/* GetRole (tags included: no ListRoleTags), ListRolePolicies, one
 * GetRolePolicy per inline policy, ListAttachedRolePolicies. A refresh
 * reads roles in bulk instead (role_read_many: iam_batch.c). */
static int role_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *props, *pols, *names, *arns, *t;
	const struct value *role;
	size_t i;

	(void)attrs;
	ps(a, p, "RoleName", id);
	r = pcall(ctx, "iam", "GetRole", p, err);
	if (!r)
		return -1;
	role = value_map_get(r, "Role");
	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(a, id);
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "Arn", pv_str(role, "Arn"));
	set_attr(ctx, out->attrs, "RoleId", pv_str(role, "RoleId"));
	props = value_new_map(a);
	ps(a, props, "RoleName", pv_str(role, "RoleName"));
	ps(a, props, "Path", pv_str(role, "Path"));
	ps(a, props, "Description", pv_str(role, "Description"));
	pn(a, props, "MaxSessionDuration", pv_str(role, "MaxSessionDuration"));
	if (value_get_path(role, "PermissionsBoundary.PermissionsBoundaryArn"))
		ps(a, props, "PermissionsBoundary",
		   value_str(value_get_path(role,
					    "PermissionsBoundary.PermissionsBoundaryArn")));
	if (pv_str(role, "AssumeRolePolicyDocument"))
		value_map_set(a, props, "AssumeRolePolicyDocument",
			      policy_doc_value(a, pv_str(role, "AssumeRolePolicyDocument")));
	names = iam_list_all(ctx, "ListRolePolicies", "PolicyNames", "RoleName", id,
			     NULL, err);
	if (!names)
		return -1;
	pols = value_new_list(a);
	for (i = 0; i < names->u.list.n; i++) {
		struct value *q = value_new_map(a), *rr, *m;
		ps(a, q, "RoleName", id);
		ps(a, q, "PolicyName", value_str(names->u.list.items[i]));
		rr = pcall(ctx, "iam", "GetRolePolicy", q, err);
		if (!rr)
			return -1;
		m = value_new_map(a);
		ps(a, m, "PolicyName", value_str(names->u.list.items[i]));
		value_map_set(a, m, "PolicyDocument",
			      policy_doc_value(a, pv_str(rr, "PolicyDocument")));
		value_list_push(a, pols, m);
	}
	if (pols->u.list.n)
		value_map_set(a, props, "Policies", pols);
	arns = iam_list_all(ctx, "ListAttachedRolePolicies", "AttachedPolicies",
			    "RoleName", id, "PolicyArn", err);
	if (!arns)
		return -1;
	if (arns->u.list.n)
		value_map_set(a, props, "ManagedPolicyArns", arns);
	t = tags_from_aws(a, pv(role, "Tags"), "Key", "Value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
	return 0;
}

static int role_sync_policies(struct provider_ctx *ctx, const char *name,
			      const struct value *old_props,
			      const struct value *new_props, struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *op = list_or_empty(a, pv(old_props, "Policies"));
	const struct value *np = list_or_empty(a, pv(new_props, "Policies"));
	const struct value *om = list_or_empty(a, pv(old_props, "ManagedPolicyArns"));
	const struct value *nm = list_or_empty(a, pv(new_props, "ManagedPolicyArns"));
	size_t i, j;

	for (i = 0; i < np->u.list.n; i++) {
		const struct value *e = np->u.list.items[i];
		const char *pn_ = pv_str(e, "PolicyName");
		bool same = false;
		for (j = 0; j < op->u.list.n && !same; j++) {
			const struct value *o = op->u.list.items[j];
			same = pv_str(o, "PolicyName") && pn_ &&
			       !strcmp(pv_str(o, "PolicyName"), pn_) &&
			       value_equal(pv(o, "PolicyDocument"),
					   pv(e, "PolicyDocument"));
		}
		if (!pn_ || !pv(e, "PolicyDocument"))
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "Policies[%zu]: PolicyName and PolicyDocument "
					 "are required", i);
		if (!same &&
		    put_role_policy(ctx, name, pn_, pv(e, "PolicyDocument"), err) < 0)
			return -1;
	}
	for (j = 0; j < op->u.list.n; j++) {
		const char *on = pv_str(op->u.list.items[j], "PolicyName");
		bool keep = false;
		for (i = 0; i < np->u.list.n && !keep; i++) {
			const char *x = pv_str(np->u.list.items[i], "PolicyName");
			keep = x && on && !strcmp(x, on);
		}
		if (on && !keep && delete_role_policy(ctx, name, on, err) < 0)
			return -1;
	}
	for (i = 0; i < nm->u.list.n; i++) {
		const char *arn = value_str(nm->u.list.items[i]);
		if (arn && !list_has(om, arn) &&
		    role_policy_arn(ctx, "AttachRolePolicy", name, arn, err) < 0)
			return -1;
	}
	for (i = 0; i < om->u.list.n; i++) {
		const char *arn = value_str(om->u.list.items[i]);
		if (arn && !list_has(nm, arn) &&
		    role_policy_arn(ctx, "DetachRolePolicy", name, arn, err) < 0)
			return -1;
	}
	return 0;
}

static void role_result(struct provider_ctx *ctx, const char *name,
			const struct value *role, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", pv_str(role, "Arn"));
	set_attr(ctx, out->attrs, "RoleId", pv_str(role, "RoleId"));
}

/* The role named name, when it is this stack's (GetRole returns its tags):
 * 0 with *role set; ERR_ALREADY_EXISTS (prov_foreign) when someone else's;
 * the GetRole error (NoSuchEntity: ERR_NOT_FOUND) when there is none. */
static int role_owned(struct provider_ctx *ctx, const char *name,
		      const struct value **role, struct provider_result *out,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	ps(ctx->arena, p, "RoleName", name);
	if (!(r = pcall(ctx, "iam", "GetRole", p, err)))
		return -1;
	*role = value_map_get(r, "Role");
	if (!tags_owned(ctx, pv(*role, "Tags")))
		return prov_foreign(ctx, name, pv(*role, "Tags"), out, err);
	return 0;
}

static int role_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err);
static int mp_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err);

/* A create that failed after its first call had made the resource (a
 * role whose policy attachment was refused: a quota, a policy that does
 * not exist): the resource is deleted again, as CloudFormation's rollback
 * does, so that no failed apply leaves a resource the state does not
 * record (the next attempt makes a new one under a new generated name,
 * and destroy would never see this one). Only ever called for what this
 * create made itself. Keeps err (the cause), adding what became of the
 * resource; returns -1. */
static int undo_create(struct provider_ctx *ctx, const char *what,
		       const char *id, const char *get_op, const char *get_key,
		       int (*del)(struct provider_ctx *, const char *,
				  const struct value *, const struct value *,
				  struct err *),
		       const struct value *props, struct err *err)
{
	struct err derr = ERR_INIT;
	size_t len = strlen(err->msg);
	struct value *p = value_new_map(ctx->arena);

	/* just created: IAM may not show it yet, and a delete that hears
	 * NoSuchEntity takes it for gone. Wait until it is visible (IAM is
	 * eventually consistent: typically seconds) */
	ps(ctx->arena, p, get_key, id);
	if (!pcall_retry(ctx, "iam", get_op, p,
			 (const char *const[]){ "NoSuchEntity", NULL }, 30.0,
			 &derr) && derr.code != ERR_NOT_FOUND) {
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 "; the %s %s it had created may be left behind (%s)",
			 what, id, derr.msg);
		return -1;
	}
	return prov_undo_create(ctx, what, id, del, props, err);
}

static int role_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = role_name(ctx, props);
	const struct value *role;

	if (!pv(props, "AssumeRolePolicyDocument"))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "AssumeRolePolicyDocument is required");
	ps(a, p, "RoleName", name);
	ps(a, p, "AssumeRolePolicyDocument",
	   policy_text(a, pv(props, "AssumeRolePolicyDocument")));
	ps(a, p, "Path", pv_str(props, "Path"));
	ps(a, p, "Description", pv_str(props, "Description"));
	pn(a, p, "MaxSessionDuration", pv_str(props, "MaxSessionDuration"));
	ps(a, p, "PermissionsBoundary", pv_str(props, "PermissionsBoundary"));
	value_map_set(a, p, "Tags", tags_merged(ctx, props));
	/* EntityAlreadyExists (a resent CreateRole after a lost answer, a
	 * stopped run, or someone else's role) goes back to the executor,
	 * whose find() adopts the role only when its cairn tags say it is
	 * this resource's, and then brings it to the template */
	if (!(r = pcall(ctx, "iam", "CreateRole", p, err)))
		return -1;
	role = value_map_get(r, "Role");
	if (role_sync_policies(ctx, name, NULL, props, err) < 0)
		return undo_create(ctx, "role", name, "GetRole", "RoleName",
				   role_delete, props, err);
	role_result(ctx, name, role, out);
	return 0;
}

static int role_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props, const struct value *new_props,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p, *r;

	(void)attrs;
	if (pv_changed(old_props, new_props, "AssumeRolePolicyDocument")) {
		p = value_new_map(a);
		ps(a, p, "RoleName", id);
		ps(a, p, "PolicyDocument",
		   policy_text(a, pv(new_props, "AssumeRolePolicyDocument")));
		if (!pcall(ctx, "iam", "UpdateAssumeRolePolicy", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "Description") ||
	    pv_changed(old_props, new_props, "MaxSessionDuration")) {
		p = value_new_map(a);
		ps(a, p, "RoleName", id);
		ps(a, p, "Description",
		   pv_str(new_props, "Description") ? pv_str(new_props, "Description") : "");
		pn(a, p, "MaxSessionDuration", pv_str(new_props, "MaxSessionDuration"));
		if (!pcall(ctx, "iam", "UpdateRole", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "PermissionsBoundary")) {
		p = value_new_map(a);
		ps(a, p, "RoleName", id);
		if (pv_str(new_props, "PermissionsBoundary")) {
			ps(a, p, "PermissionsBoundary",
			   pv_str(new_props, "PermissionsBoundary"));
			if (!pcall(ctx, "iam", "PutRolePermissionsBoundary", p, err))
				return -1;
		} else if (!pcall(ctx, "iam", "DeleteRolePermissionsBoundary", p, err)) {
			return -1;
		}
	}
	if (role_sync_policies(ctx, id, old_props, new_props, err) < 0 ||
	    api_update_tags(ctx, &ROLE_TAGS, id, old_props, new_props, err) < 0)
		return -1;
	p = value_new_map(a);
	ps(a, p, "RoleName", id);
	if (!(r = pcall(ctx, "iam", "GetRole", p, err)))
		return -1;
	role_result(ctx, id, value_map_get(r, "Role"), out);
	return 0;
}

static int role_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *l, *p;
	size_t i;

	(void)props;
	(void)attrs;
	/* DeleteRole fails with DeleteConflict while anything is attached */
	if (!(l = iam_list_all(ctx, "ListAttachedRolePolicies", "AttachedPolicies",
			       "RoleName", id, "PolicyArn", err)))
		return gone_is_ok(err);
	for (i = 0; i < l->u.list.n; i++)
		if (role_policy_arn(ctx, "DetachRolePolicy", id,
				    value_str(l->u.list.items[i]), err) < 0)
			return -1;
	if (!(l = iam_list_all(ctx, "ListRolePolicies", "PolicyNames", "RoleName", id,
			       NULL, err)))
		return gone_is_ok(err);
	for (i = 0; i < l->u.list.n; i++)
		if (delete_role_policy(ctx, id, value_str(l->u.list.items[i]), err) < 0)
			return -1;
	if (!(l = iam_list_all(ctx, "ListInstanceProfilesForRole", "InstanceProfiles",
			       "RoleName", id, "InstanceProfileName", err)))
		return gone_is_ok(err);
	for (i = 0; i < l->u.list.n; i++) {
		p = value_new_map(a);
		ps(a, p, "RoleName", id);
		ps(a, p, "InstanceProfileName", value_str(l->u.list.items[i]));
		if (!pcall(ctx, "iam", "RemoveRoleFromInstanceProfile", p, err) &&
		    gone_is_ok(err) < 0)
			return -1;
	}
	p = value_new_map(a);
	ps(a, p, "RoleName", id);
	if (!pcall_retry(ctx, "iam", "DeleteRole", p,
			 (const char *const[]){ "DeleteConflict",
						"ConcurrentModification", NULL },
			 60.0, err))
		return gone_is_ok(err);
	return 0;
}

static int role_find(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const char *name = role_name(ctx, props);
	const struct value *role;

	if (role_owned(ctx, name, &role, out, err) < 0 ||
	    role_read(ctx, name, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

/* Batched: one GetAccountAuthorizationDetails listing per refresh
 * (iam_batch.c). */
static int role_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	return iam_role_read_many(ctx, n, ids, outs, role_read, err);
}

const struct provider prov_iam_role = {
	.type = "AWS::IAM::Role",
	.create = role_create,
	.read = role_read,
	.read_many = role_read_many,
	.update = role_update,
	.delete = role_delete,
	.find = role_find,
};

/* ====================================================== ManagedPolicy */

static void mp_result(struct provider_ctx *ctx, const struct value *pol,
		      struct provider_result *out)
{
	const char *arn = pv_str(pol, "Arn");

	memset(out, 0, sizeof(*out));
	out->physical_id = arn;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", arn);
	set_attr(ctx, out->attrs, "PolicyArn", arn);
	set_attr(ctx, out->attrs, "PolicyId", pv_str(pol, "PolicyId"));
	set_attr(ctx, out->attrs, "DefaultVersionId", pv_str(pol, "DefaultVersionId"));
}

static int mp_roles(struct provider_ctx *ctx, const char *arn,
		    const struct value *old_props, const struct value *new_props,
		    struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *o = list_or_empty(a, pv(old_props, "Roles"));
	const struct value *n = list_or_empty(a, pv(new_props, "Roles"));
	size_t i;

	if (pv(new_props, "Users") || pv(new_props, "Groups"))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "Users and Groups are not supported (Roles only)");
	for (i = 0; i < n->u.list.n; i++) {
		const char *r = value_str(n->u.list.items[i]);
		if (r && !list_has(o, r) &&
		    role_policy_arn(ctx, "AttachRolePolicy", r, arn, err) < 0)
			return -1;
	}
	for (i = 0; i < o->u.list.n; i++) {
		const char *r = value_str(o->u.list.items[i]);
		if (r && !list_has(n, r) &&
		    role_policy_arn(ctx, "DetachRolePolicy", r, arn, err) < 0)
			return -1;
	}
	return 0;
}

/* The managed policy the template's (or generated) name and path make,
 * when it is this stack's: 0 with out->physical_id its ARN;
 * ERR_ALREADY_EXISTS when someone else's; ERR_NOT_FOUND when absent. */
static int mp_owned(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	const char *name = pv_str(props, "ManagedPolicyName");
	const char *path = pv_str(props, "Path");
	const char *arn = arena_sprintf(
		ctx->arena, "arn:%s:iam::%s:policy%s%s",
		ctx->partition ? ctx->partition : "aws", ctx->account,
		path ? path : "/",
		name ? name : provider_generate_name(ctx, 128, false));
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *pol;

	ps(ctx->arena, p, "PolicyArn", arn);
	if (!(r = pcall(ctx, "iam", "GetPolicy", p, err)))
		return -1;
	pol = value_map_get(r, "Policy");
	if (!tags_owned(ctx, pv(pol, "Tags")))
		return prov_foreign(ctx, arn, pv(pol, "Tags"), out, err);
	mp_result(ctx, pol, out);
	return 0;
}

static int mp_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = pv_str(props, "ManagedPolicyName");

	if (!pv(props, "PolicyDocument"))
		return prov_fail(ctx, err, ERR_VALIDATION, "PolicyDocument is required");
	ps(a, p, "PolicyName", name ? name : provider_generate_name(ctx, 128, false));
	ps(a, p, "PolicyDocument", policy_text(a, pv(props, "PolicyDocument")));
	ps(a, p, "Path", pv_str(props, "Path"));
	ps(a, p, "Description", pv_str(props, "Description"));
	value_map_set(a, p, "Tags", tags_merged(ctx, props));
	/* EntityAlreadyExists: the executor's find() decides (tags) */
	r = pcall(ctx, "iam", "CreatePolicy", p, err);
	if (!r)
		return -1;
	mp_result(ctx, value_map_get(r, "Policy"), out);
	if (mp_roles(ctx, out->physical_id, NULL, props, err) < 0) {
		undo_create(ctx, "managed policy", out->physical_id,
			    "GetPolicy", "PolicyArn", mp_delete, props, err);
		out->physical_id = NULL;
		return -1;
	}
	return 0;
}

static int mp_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *props, *roles, *t;
	const struct value *pol, *l;
	size_t i;

	(void)attrs;
	ps(a, p, "PolicyArn", id);
	if (!(r = pcall(ctx, "iam", "GetPolicy", p, err)))
		return -1;
	pol = value_map_get(r, "Policy");
	mp_result(ctx, pol, out);
	props = value_new_map(a);
	ps(a, props, "ManagedPolicyName", pv_str(pol, "PolicyName"));
	ps(a, props, "Path", pv_str(pol, "Path"));
	ps(a, props, "Description", pv_str(pol, "Description"));
	p = value_new_map(a);
	ps(a, p, "PolicyArn", id);
	ps(a, p, "VersionId", pv_str(pol, "DefaultVersionId"));
	if (!(r = pcall(ctx, "iam", "GetPolicyVersion", p, err)))
		return -1;
	value_map_set(a, props, "PolicyDocument",
		      policy_doc_value(a, value_str(value_get_path(r, "PolicyVersion.Document"))));
	p = value_new_map(a);
	ps(a, p, "PolicyArn", id);
	ps(a, p, "EntityFilter", "Role");
	/* IAM list calls return 100 items unless asked for up to 1000 (the
	 * API reference's MaxItems range): a policy shared by 500 roles is
	 * one call, not five */
	pn(a, p, "MaxItems", "1000");
	if (!(r = pcall_all(ctx, "iam", "ListEntitiesForPolicy", p, "PolicyRoles",
			    err)) ||
	    !(l = aws_get_list(a, r, "PolicyRoles", err)))
		return -1;
	roles = value_new_list(a);
	for (i = 0; i < l->u.list.n; i++)
		value_list_push(a, roles, value_new_string(
			a, pv_str(l->u.list.items[i], "RoleName")));
	if (roles->u.list.n)
		value_map_set(a, props, "Roles", roles);
	t = tags_from_aws(a, pv(pol, "Tags"), "Key", "Value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
	return 0;
}

/* IAM keeps at most 5 versions: drop the oldest non-default first. */
static int mp_prune_versions(struct provider_ctx *ctx, const char *arn,
			     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *l, *oldest = NULL;
	size_t i, n = 0;

	ps(a, p, "PolicyArn", arn);
	if (!(r = pcall_all(ctx, "iam", "ListPolicyVersions", p, "Versions", err)) ||
	    !(l = aws_get_list(a, r, "Versions", err)))
		return -1;
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *v = l->u.list.items[i];
		const char *def = pv_str(v, "IsDefaultVersion");
		const char *d = pv_str(v, "CreateDate"), *od;
		n++;
		if (def && !strcmp(def, "true"))
			continue;
		od = oldest ? pv_str(oldest, "CreateDate") : NULL;
		/* ISO 8601 dates compare as strings; ties: the lower vN */
		if (!oldest || (d && od && strcmp(d, od) < 0))
			oldest = v;
	}
	if (n < 5 || !oldest)
		return 0;
	p = value_new_map(a);
	ps(a, p, "PolicyArn", arn);
	ps(a, p, "VersionId", pv_str(oldest, "VersionId"));
	return pcall(ctx, "iam", "DeletePolicyVersion", p, err) ? 0 : -1;
}

static int mp_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *new_props,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p, *r;

	(void)attrs;
	if (pv_changed(old_props, new_props, "PolicyDocument")) {
		if (mp_prune_versions(ctx, id, err) < 0)
			return -1;
		p = value_new_map(a);
		ps(a, p, "PolicyArn", id);
		ps(a, p, "PolicyDocument", policy_text(a, pv(new_props, "PolicyDocument")));
		pb(a, p, "SetAsDefault", true);
		if (!pcall(ctx, "iam", "CreatePolicyVersion", p, err))
			return -1;
	}
	if (mp_roles(ctx, id, old_props, new_props, err) < 0 ||
	    api_update_tags(ctx, &POLICY_TAGS, id, old_props, new_props, err) < 0)
		return -1;
	p = value_new_map(a);
	ps(a, p, "PolicyArn", id);
	if (!(r = pcall(ctx, "iam", "GetPolicy", p, err)))
		return -1;
	mp_result(ctx, value_map_get(r, "Policy"), out);
	return 0;
}

static int mp_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *l;
	size_t i;

	(void)props;
	(void)attrs;
	/* DeletePolicy fails with DeleteConflict while any role, user or
	 * group has it attached: detach them all, every page of each */
	{
		static const struct {
			const char *filter, *list, *name, *op, *member;
		} kinds[] = {
			{ "Role", "PolicyRoles", "RoleName", "DetachRolePolicy", "RoleName" },
			{ "User", "PolicyUsers", "UserName", "DetachUserPolicy", "UserName" },
			{ "Group", "PolicyGroups", "GroupName", "DetachGroupPolicy", "GroupName" },
		};
		size_t k;
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			p = value_new_map(a);
			ps(a, p, "PolicyArn", id);
			ps(a, p, "EntityFilter", kinds[k].filter);
			if (!(r = pcall_all(ctx, "iam", "ListEntitiesForPolicy", p,
					    kinds[k].list, err)))
				return gone_is_ok(err);
			if (!(l = aws_get_list(a, r, kinds[k].list, err)))
				return -1;
			for (i = 0; i < l->u.list.n; i++) {
				struct value *d = value_new_map(a);
				ps(a, d, kinds[k].member,
				   pv_str(l->u.list.items[i], kinds[k].name));
				ps(a, d, "PolicyArn", id);
				if (!pcall(ctx, "iam", kinds[k].op, d, err) &&
				    gone_is_ok(err) < 0)
					return -1;
			}
		}
	}
	p = value_new_map(a);
	ps(a, p, "PolicyArn", id);
	if (!(r = pcall_all(ctx, "iam", "ListPolicyVersions", p, "Versions", err)))
		return gone_is_ok(err);
	if (!(l = aws_get_list(a, r, "Versions", err)))
		return -1;
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *v = l->u.list.items[i];
		const char *def = pv_str(v, "IsDefaultVersion");
		if (def && !strcmp(def, "true"))
			continue;
		p = value_new_map(a);
		ps(a, p, "PolicyArn", id);
		ps(a, p, "VersionId", pv_str(v, "VersionId"));
		if (!pcall(ctx, "iam", "DeletePolicyVersion", p, err) &&
		    gone_is_ok(err) < 0)
			return -1;
	}
	p = value_new_map(a);
	ps(a, p, "PolicyArn", id);
	if (!pcall(ctx, "iam", "DeletePolicy", p, err))
		return gone_is_ok(err);
	return 0;
}

/* A policy a crashed run created: its name is the template's or the one
 * generated from the run's token, its ARN follows from name and path;
 * GetPolicy returns its tags, which must be this resource's. */
static int mp_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err)
{
	if (mp_owned(ctx, props, out, err) < 0 ||
	    mp_read(ctx, out->physical_id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

const struct provider prov_iam_managed_policy = {
	.type = "AWS::IAM::ManagedPolicy",
	.create = mp_create,
	.read = mp_read,
	.find = mp_find,
	.update = mp_update,
	.delete = mp_delete,
};

/* ======================================================= IAM::Policy */

static int pol_check(struct provider_ctx *ctx, const struct value *props,
		     struct err *err)
{
	if (pv(props, "Users") || pv(props, "Groups"))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "Users and Groups are not supported (Roles only)");
	if (!pv_str(props, "PolicyName") || !pv(props, "PolicyDocument"))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "PolicyName and PolicyDocument are required");
	return 0;
}

static void pol_result(struct provider_ctx *ctx, const char *name,
		       const struct value *roles, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Id", name);
	value_map_set(ctx->arena, out->attrs, "Roles",
		      value_copy(ctx->arena, list_or_empty(ctx->arena, roles)));
}

static int pol_put_all(struct provider_ctx *ctx, const struct value *props,
		       struct err *err)
{
	const struct value *roles = list_or_empty(ctx->arena, pv(props, "Roles"));
	size_t i;

	for (i = 0; i < roles->u.list.n; i++)
		if (put_role_policy(ctx, value_str(roles->u.list.items[i]),
				    pv_str(props, "PolicyName"),
				    pv(props, "PolicyDocument"), err) < 0)
			return -1;
	return 0;
}

/*
 * Before a create puts inline policy `name` on `role`: an inline policy of
 * that name already there with another document is someone else's (inline
 * policies carry no tags), and PutRolePolicy would silently overwrite it.
 * The same document is fine: a stopped run of ours put it, or putting it
 * changes nothing. 0 free or the same; -1 with ERR_ALREADY_EXISTS (and
 * out->physical_id = phys) when taken, or the GetRolePolicy error.
 */
static int inline_free(struct provider_ctx *ctx, const char *role,
		       const char *name, const struct value *doc,
		       const char *phys, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *have, *want;
	struct err e2 = ERR_INIT;

	ps(a, p, "RoleName", role);
	ps(a, p, "PolicyName", name);
	if (!(r = pcall(ctx, "iam", "GetRolePolicy", p, err))) {
		/* no such policy (or role: the put says so) */
		if (err->code == ERR_NOT_FOUND) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	have = policy_canonical(a, value_map_get(r, "PolicyDocument"), &e2);
	want = policy_canonical(a, doc, &e2);
	if (have && want && !strcmp(have, want))
		return 0;
	memset(out, 0, sizeof(*out));
	out->physical_id = phys;
	return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
			 "role \"%s\" already has an inline policy \"%s\" with another document, not written by this stack; cairn never overwrites what it did not write",
			 role, name);
}

static int pol_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	const struct value *roles;
	size_t i;

	if (pol_check(ctx, props, err) < 0)
		return -1;
	roles = list_or_empty(ctx->arena, pv(props, "Roles"));
	for (i = 0; i < roles->u.list.n; i++)
		if (inline_free(ctx, value_str(roles->u.list.items[i]),
				pv_str(props, "PolicyName"), pv(props, "PolicyDocument"),
				pv_str(props, "PolicyName"), out, err) < 0)
			return -1;
	if (pol_put_all(ctx, props, err) < 0)
		return -1;
	pol_result(ctx, pv_str(props, "PolicyName"), pv(props, "Roles"), out);
	return 0;
}

static int pol_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *roles = list_or_empty(a, value_map_get(attrs, "Roles"));
	struct value *have = value_new_list(a), *doc = NULL;
	size_t i;

	for (i = 0; i < roles->u.list.n; i++) {
		struct value *p = value_new_map(a), *r;
		ps(a, p, "RoleName", value_str(roles->u.list.items[i]));
		ps(a, p, "PolicyName", id);
		if (!(r = pcall(ctx, "iam", "GetRolePolicy", p, err))) {
			if (gone_is_ok(err) < 0)
				return -1;
			continue;
		}
		value_list_push(a, have, value_copy(a, roles->u.list.items[i]));
		if (!doc)
			doc = policy_doc_value(a, pv_str(r, "PolicyDocument"));
	}
	if (!have->u.list.n)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "inline policy \"%s\" is on no role", id);
	pol_result(ctx, arena_strdup(a, id), have, out);
	out->props = value_new_map(a);
	ps(a, out->props, "PolicyName", id);
	if (doc)
		value_map_set(a, out->props, "PolicyDocument", doc);
	value_map_set(a, out->props, "Roles", have);
	return 0;
}

static int pol_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	const struct value *o = list_or_empty(ctx->arena, pv(old_props, "Roles"));
	const struct value *n = list_or_empty(ctx->arena, pv(new_props, "Roles"));
	size_t i;

	(void)attrs;
	if (pol_check(ctx, new_props, err) < 0 || pol_put_all(ctx, new_props, err) < 0)
		return -1;
	for (i = 0; i < o->u.list.n; i++) {
		const char *r = value_str(o->u.list.items[i]);
		if (r && !list_has(n, r) && delete_role_policy(ctx, r, id, err) < 0)
			return -1;
	}
	pol_result(ctx, id, n, out);
	return 0;
}

static int pol_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	const struct value *roles = pv(props, "Roles");
	size_t i;

	if (!roles)
		roles = value_map_get(attrs, "Roles");
	roles = list_or_empty(ctx->arena, roles);
	for (i = 0; i < roles->u.list.n; i++)
		if (delete_role_policy(ctx, value_str(roles->u.list.items[i]), id, err) < 0)
			return -1;
	return 0;
}

const struct provider prov_iam_policy = {
	.type = "AWS::IAM::Policy",
	.create = pol_create,
	.read = pol_read,
	.update = pol_update,
	.delete = pol_delete,
};

/* ========================================================= RolePolicy */

static void rp_result(struct provider_ctx *ctx, const char *id,
		      struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", id);
}

static int rp_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const char *pn_ = pv_str(props, "PolicyName"), *rn = pv_str(props, "RoleName");

	if (!pn_ || !rn || !pv(props, "PolicyDocument"))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "PolicyName, RoleName and PolicyDocument are required");
	if (inline_free(ctx, rn, pn_, pv(props, "PolicyDocument"),
			arena_sprintf(ctx->arena, "%s|%s", pn_, rn), out, err) < 0 ||
	    put_role_policy(ctx, rn, pn_, pv(props, "PolicyDocument"), err) < 0)
		return -1;
	rp_result(ctx, arena_sprintf(ctx->arena, "%s|%s", pn_, rn), out);
	return 0;
}

static int rp_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *pn_, *rn;

	(void)attrs;
	if (!split_id(a, id, &pn_, &rn))
		return prov_fail(ctx, err, ERR_STATEDB, "bad role policy id \"%s\"", id);
	ps(a, p, "RoleName", rn);
	ps(a, p, "PolicyName", pn_);
	if (!(r = pcall(ctx, "iam", "GetRolePolicy", p, err)))
		return -1;
	rp_result(ctx, arena_strdup(a, id), out);
	out->props = value_new_map(a);
	ps(a, out->props, "PolicyName", pn_);
	ps(a, out->props, "RoleName", rn);
	value_map_set(a, out->props, "PolicyDocument",
		      policy_doc_value(a, pv_str(r, "PolicyDocument")));
	return 0;
}

static int rp_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *new_props,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	(void)old_props;
	(void)attrs;
	if (put_role_policy(ctx, pv_str(new_props, "RoleName"),
			    pv_str(new_props, "PolicyName"),
			    pv(new_props, "PolicyDocument"), err) < 0)
		return -1;
	rp_result(ctx, id, out);
	return 0;
}

static int rp_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	const char *pn_, *rn;

	(void)props;
	(void)attrs;
	if (!split_id(ctx->arena, id, &pn_, &rn))
		return prov_fail(ctx, err, ERR_STATEDB, "bad role policy id \"%s\"", id);
	return delete_role_policy(ctx, rn, pn_, err);
}

const struct provider prov_iam_role_policy = {
	.type = "AWS::IAM::RolePolicy",
	.create = rp_create,
	.read = rp_read,
	.update = rp_update,
	.delete = rp_delete,
};
