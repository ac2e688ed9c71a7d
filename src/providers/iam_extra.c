/*
 * AWS::IAM::InstanceProfile and AWS::IAM::OIDCProvider (IAM, Query).
 *
 * InstanceProfile: Ref = name; GetAtt Arn. Name generated when the
 * template gives none (IAM's 128 characters). Roles holds one role name
 * (AWS's limit) and changes in place (Remove/AddRoleToInstanceProfile).
 * The schema says it takes no tags; cairn still writes its cairn:stack /
 * cairn:logical-id tags (CreateInstanceProfile accepts them) so that find()
 * adopts only its own profile.
 *
 * Propagation: IAM is eventually consistent, and EC2 refuses a profile it
 * has not yet seen ("Invalid IAM Instance Profile name"). Create waits until
 * GetInstanceProfile shows the profile with its role, then PROPAGATION_WAIT
 * seconds more (CloudFormation's handler likewise waits after creating a
 * profile); AWS::EC2::Instance additionally retries the launch on that
 * error, which is what makes the launch safe.
 *
 * OIDCProvider: Ref = ARN (GetAtt Arn). Url is create-only; ClientIdList,
 * ThumbprintList and Tags change in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/clock.h"
#include "prov_int.h"

/* Seconds waited after the profile is readable, before an instance may
 * name it; CAIRN_IAM_PROPAGATION_SECONDS overrides it (the tests' fast
 * emulator) */
#define PROPAGATION_WAIT 10.0

static const struct tag_api OIDC_TAGS = { "iam", "TagOpenIDConnectProvider",
					  "UntagOpenIDConnectProvider",
					  "OpenIDConnectProviderArn", "Tags",
					  "TagKeys", "Key", "Value" };

/* ===================================================== InstanceProfile */

static const char *profile_name(struct provider_ctx *ctx,
				const struct value *props)
{
	const char *n = pv_str(props, "InstanceProfileName");

	return n ? n : provider_generate_name(ctx, 128, 0);
}

static const char *first_role(const struct value *props)
{
	const struct value *r = pv(props, "Roles");

	if (r && r->kind == VALUE_LIST && r->u.list.n)
		return value_str(r->u.list.items[0]);
	return NULL;
}

static void profile_result(struct provider_ctx *ctx, const char *name,
			   const struct value *pr, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", pv_str(pr, "Arn"));
}

static int profile_get(struct provider_ctx *ctx, const char *name,
		       const struct value **pr, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	ps(ctx->arena, p, "InstanceProfileName", name);
	if (!(r = pcall(ctx, "iam", "GetInstanceProfile", p, err)))
		return -1;
	*pr = pv(r, "InstanceProfile");
	return 0;
}

static bool profile_has_role(const struct value *pr, const char *role)
{
	const struct value *l = pv(pr, "Roles");
	size_t i;

	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
		const char *n = pv_str(l->u.list.items[i], "RoleName");
		if (n && role && !strcmp(n, role))
			return true;
	}
	return false;
}

static int role_call(struct provider_ctx *ctx, const char *op,
		     const char *name, const char *role, struct err *err)
{
	static const char *const retry[] = { "NoSuchEntity", NULL };
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InstanceProfileName", name);
	ps(ctx->arena, p, "RoleName", role);
	/* a role created a moment ago may not be visible yet */
	return pcall_retry(ctx, "iam", op, p, retry, 60.0, err) ? 0 : -1;
}

static double propagation_seconds(void)
{
	return env_seconds("CAIRN_IAM_PROPAGATION_SECONDS", PROPAGATION_WAIT,
			   0, 3600);
}

/* Until GetInstanceProfile shows the role, then the propagation margin. */
static int profile_wait(struct provider_ctx *ctx, const char *name,
			const char *role, const struct value **pr,
			struct err *err)
{
	double dl = prov_deadline(ctx, 120.0), until;
	int attempt = 0;

	prov_status(ctx, "waiting for IAM to propagate the profile");
	for (;;) {
		struct err e1 = ERR_INIT;
		if (profile_get(ctx, name, pr, &e1) == 0 &&
		    (!role || profile_has_role(*pr, role)))
			break;
		if (e1.code && e1.code != ERR_NOT_FOUND) {
			*err = e1;
			return -1;
		}
		if (prov_sleep_until(ctx, &attempt, dl, "the instance profile to be visible",
				     err) < 0)
			return -1;
	}
	until = prov_now() + propagation_seconds();
	attempt = 0;
	while (prov_now() < until)
		if (prov_sleep_until(ctx, &attempt, until + 5.0,
				     "the instance profile to propagate", err) < 0)
			return -1;
	return 0;
}

static int profile_delete(struct provider_ctx *ctx, const char *id,
			  const struct value *props, const struct value *attrs,
			  struct err *err);

static int profile_create(struct provider_ctx *ctx, const struct value *props,
			  struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *pr = NULL;
	const char *name = profile_name(ctx, props), *role = first_role(props);

	ps(a, p, "InstanceProfileName", name);
	ps(a, p, "Path", pv_str(props, "Path"));
	value_map_set(a, p, "Tags", tags_merged(ctx, props));
	if (!(r = pcall(ctx, "iam", "CreateInstanceProfile", p, err)))
		return -1;
	/* made: a refused role (a role that does not exist) deletes it again */
	if ((role && role_call(ctx, "AddRoleToInstanceProfile", name, role, err) < 0) ||
	    profile_wait(ctx, name, role, &pr, err) < 0)
		return prov_undo_create(ctx, "instance profile", name,
					profile_delete, props, err);
	profile_result(ctx, name, pr ? pr : pv(r, "InstanceProfile"), out);
	return 0;
}

static int profile_read(struct provider_ctx *ctx, const char *id,
			const struct value *attrs, struct provider_result *out,
			struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *pr, *l;
	struct value *roles;
	size_t i;

	(void)attrs;
	if (profile_get(ctx, id, &pr, err) < 0)
		return -1;
	profile_result(ctx, id, pr, out);
	out->props = value_new_map(a);
	ps(a, out->props, "InstanceProfileName", id);
	ps(a, out->props, "Path", pv_str(pr, "Path"));
	roles = value_new_list(a);
	l = pv(pr, "Roles");
	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++)
		if (pv_str(l->u.list.items[i], "RoleName"))
			value_list_push(a, roles,
					value_new_string(a, pv_str(l->u.list.items[i],
								   "RoleName")));
	value_map_set(a, out->props, "Roles", roles);
	return 0;
}

static int profile_update(struct provider_ctx *ctx, const char *id,
			  const struct value *old_props,
			  const struct value *new_props,
			  const struct value *attrs, struct provider_result *out,
			  struct err *err)
{
	const char *was = first_role(old_props), *now = first_role(new_props);
	const struct value *pr = NULL;

	(void)attrs;
	if (pv_changed(old_props, new_props, "Roles")) {
		if (was && role_call(ctx, "RemoveRoleFromInstanceProfile", id, was,
				     err) < 0 && gone_is_ok(err) < 0)
			return -1;
		if (now && role_call(ctx, "AddRoleToInstanceProfile", id, now, err) < 0)
			return -1;
		if (profile_wait(ctx, id, now, &pr, err) < 0)
			return -1;
	} else if (profile_get(ctx, id, &pr, err) < 0) {
		return -1;
	}
	profile_result(ctx, id, pr, out);
	return 0;
}

static int profile_delete(struct provider_ctx *ctx, const char *id,
			  const struct value *props, const struct value *attrs,
			  struct err *err)
{
	const struct value *pr, *l;
	struct value *p;
	size_t i;

	(void)props;
	(void)attrs;
	if (profile_get(ctx, id, &pr, err) < 0)
		return gone_is_ok(err);
	/* IAM refuses to delete a profile that still holds a role */
	l = pv(pr, "Roles");
	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
		const char *role = pv_str(l->u.list.items[i], "RoleName");
		p = value_new_map(ctx->arena);
		ps(ctx->arena, p, "InstanceProfileName", id);
		ps(ctx->arena, p, "RoleName", role);
		if (!pcall(ctx, "iam", "RemoveRoleFromInstanceProfile", p, err) &&
		    gone_is_ok(err) < 0)
			return -1;
	}
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "InstanceProfileName", id);
	if (!pcall(ctx, "iam", "DeleteInstanceProfile", p, err))
		return gone_is_ok(err);
	return 0;
}

static int profile_find(struct provider_ctx *ctx, const struct value *props,
			struct provider_result *out, struct err *err)
{
	const char *name = profile_name(ctx, props);
	const struct value *pr;

	if (profile_get(ctx, name, &pr, err) < 0)
		return -1;
	if (!tags_owned(ctx, pv(pr, "Tags")))
		return prov_foreign(ctx, name, pv(pr, "Tags"), out, err);
	profile_result(ctx, arena_strdup(ctx->arena, name), pr, out);
	return 0;
}

const struct provider prov_iam_instance_profile = {
	.type = "AWS::IAM::InstanceProfile",
	.create = profile_create,
	.read = profile_read,
	.update = profile_update,
	.delete = profile_delete,
	.find = profile_find,
};

/* ========================================================= OIDCProvider */

/* The ARN IAM gives a provider of this URL (it is the URL without the
 * scheme, under oidc-provider/). */
static const char *oidc_arn(struct provider_ctx *ctx, const char *url)
{
	const char *host = url;
	size_t n;

	if (!strncmp(host, "https://", 8))
		host += 8;
	n = strlen(host);
	while (n && host[n - 1] == '/')
		n--;
	return arena_sprintf(ctx->arena, "arn:%s:iam::%s:oidc-provider/%.*s",
			     ctx->partition ? ctx->partition : "aws",
			     ctx->account ? ctx->account : "", (int)n, host);
}

static void oidc_result(struct provider_ctx *ctx, const char *arn,
			struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arn;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", arn);
	set_attr(ctx, out->attrs, "Arn", arn);
}

static int oidc_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *arn;

	ps(a, p, "Url", pv_str(props, "Url"));
	if (pv(props, "ClientIdList"))
		value_map_set(a, p, "ClientIDList", (struct value *)pv(props, "ClientIdList"));
	if (pv(props, "ThumbprintList"))
		value_map_set(a, p, "ThumbprintList",
			      (struct value *)pv(props, "ThumbprintList"));
	value_map_set(a, p, "Tags", tags_merged(ctx, props));
	if (!(r = pcall(ctx, "iam", "CreateOpenIDConnectProvider", p, err)))
		return -1;
	if (!(arn = aws_get_str(r, "OpenIDConnectProviderArn", err)))
		return -1;
	oidc_result(ctx, arena_strdup(a, arn), out);
	return 0;
}

static struct value *oidc_get(struct provider_ctx *ctx, const char *arn,
			      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "OpenIDConnectProviderArn", arn);
	return pcall(ctx, "iam", "GetOpenIDConnectProvider", p, err);
}

static int oidc_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *r, *t;

	(void)attrs;
	if (!(r = oidc_get(ctx, id, err)))
		return -1;
	oidc_result(ctx, id, out);
	out->props = value_new_map(a);
	ps(a, out->props, "Url", arena_sprintf(a, "https://%s", pv_str(r, "Url")));
	if (pv(r, "ClientIDList"))
		value_map_set(a, out->props, "ClientIdList",
			      (struct value *)pv(r, "ClientIDList"));
	if (pv(r, "ThumbprintList") && pv(r, "ThumbprintList")->kind == VALUE_LIST &&
	    pv(r, "ThumbprintList")->u.list.n)
		value_map_set(a, out->props, "ThumbprintList",
			      (struct value *)pv(r, "ThumbprintList"));
	t = tags_from_aws(a, pv(r, "Tags"), "Key", "Value");
	if (t)
		value_map_set(a, out->props, "Tags", t);
	return 0;
}

static bool in_list(const struct value *l, const char *s)
{
	size_t i;

	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++)
		if (value_str(l->u.list.items[i]) &&
		    !strcmp(value_str(l->u.list.items[i]), s))
			return true;
	return false;
}

static int oidc_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *was = pv(old_props, "ClientIdList"),
			   *now = pv(new_props, "ClientIdList");
	size_t i;

	(void)attrs;
	for (i = 0; now && now->kind == VALUE_LIST && i < now->u.list.n; i++) {
		const char *c = value_str(now->u.list.items[i]);
		struct value *p;
		if (!c || in_list(was, c))
			continue;
		p = value_new_map(a);
		ps(a, p, "OpenIDConnectProviderArn", id);
		ps(a, p, "ClientID", c);
		if (!pcall(ctx, "iam", "AddClientIDToOpenIDConnectProvider", p, err))
			return -1;
	}
	for (i = 0; was && was->kind == VALUE_LIST && i < was->u.list.n; i++) {
		const char *c = value_str(was->u.list.items[i]);
		struct value *p;
		if (!c || in_list(now, c))
			continue;
		p = value_new_map(a);
		ps(a, p, "OpenIDConnectProviderArn", id);
		ps(a, p, "ClientID", c);
		if (!pcall(ctx, "iam", "RemoveClientIDFromOpenIDConnectProvider", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "ThumbprintList")) {
		struct value *p = value_new_map(a);
		ps(a, p, "OpenIDConnectProviderArn", id);
		value_map_set(a, p, "ThumbprintList",
			      pv(new_props, "ThumbprintList")
				      ? (struct value *)pv(new_props, "ThumbprintList")
				      : value_new_list(a));
		if (!pcall(ctx, "iam", "UpdateOpenIDConnectProviderThumbprint", p, err))
			return -1;
	}
	if (api_update_tags(ctx, &OIDC_TAGS, id, old_props, new_props, err) < 0)
		return -1;
	oidc_result(ctx, id, out);
	return 0;
}

static int oidc_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "OpenIDConnectProviderArn", id);
	if (!pcall(ctx, "iam", "DeleteOpenIDConnectProvider", p, err))
		return gone_is_ok(err);
	return 0;
}

/* One provider per URL in an account: the ARN follows from the URL. */
static int oidc_find(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const char *arn = oidc_arn(ctx, pv_str(props, "Url") ? pv_str(props, "Url") : "");
	struct value *r = oidc_get(ctx, arn, err);

	if (!r)
		return -1;
	if (!tags_owned(ctx, pv(r, "Tags"))) {
		/* IAM allows one provider per URL in an account, and the one
		 * for GitHub Actions (token.actions.githubusercontent.com) is
		 * often there already, trusted by other teams' roles:
		 * CloudFormation fails here too. Say what the choices are */
		char msg[sizeof(err->msg)];
		prov_foreign(ctx, arn, pv(r, "Tags"), out, err);
		snprintf(msg, sizeof(msg), "%s (an account has one OIDC provider "
			 "per URL, and roles of other stacks may trust this one: "
			 "leave it out of the template and use its ARN, or import "
			 "it, with DeletionPolicy: Retain so that destroy keeps it)",
			 err->msg);
		memcpy(err->msg, msg, sizeof(err->msg));
		return -1;
	}
	oidc_result(ctx, arn, out);
	return 0;
}

const struct provider prov_iam_oidc_provider = {
	.type = "AWS::IAM::OIDCProvider",
	.create = oidc_create,
	.read = oidc_read,
	.update = oidc_update,
	.delete = oidc_delete,
	.find = oidc_find,
};
