/*
 * AWS::SSM::Parameter (Systems Manager, JSON 1.1).
 *
 * Ref = the parameter's name; GetAtt Type and Value (CloudFormation's
 * documented attributes). Name is create-only; without one the name is
 * generated from the stack, the logical id and the token, so a retry or
 * the run after a crash writes the same parameter. Every other property is
 * changed in place with PutParameter Overwrite (a new version); the tags,
 * which Overwrite may not carry, with Add/RemoveTagsFromResource.
 * Description, Tier, AllowedPattern and Policies are write-only in the
 * schema: never read back. Tags are a map in this type's template shape.
 */
#include <string.h>

#include "prov_int.h"

/* Tags change: SSM's tag calls also take ResourceType, which struct
 * tag_api has no member for. */
static int param_update_tags(struct provider_ctx *ctx, const char *name,
			     const struct value *old_props,
			     const struct value *new_props, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *set, *removed, *p;

	tags_diff(a, tags_merged(ctx, old_props), tags_merged(ctx, new_props),
		  &set, &removed);
	if (removed->u.list.n) {
		p = value_new_map(a);
		ps(a, p, "ResourceType", "Parameter");
		ps(a, p, "ResourceId", name);
		value_map_set(a, p, "TagKeys", removed);
		if (!pcall(ctx, "ssm", "RemoveTagsFromResource", p, err))
			return -1;
	}
	if (set->u.list.n) {
		p = value_new_map(a);
		ps(a, p, "ResourceType", "Parameter");
		ps(a, p, "ResourceId", name);
		value_map_set(a, p, "Tags", set);
		if (!pcall(ctx, "ssm", "AddTagsToResource", p, err))
			return -1;
	}
	return 0;
}

static const char *param_name(struct provider_ctx *ctx,
			      const struct value *props)
{
	const char *n = pv_str(props, "Name");
	/* SSM refuses names starting with "aws"/"ssm": the generated name
	 * starts with the stack name, which a user may have chosen so */
	return n ? n : provider_generate_name(ctx, 2048, 0);
}

/* PutParameter's members from the template, without Tags and Overwrite. */
static struct value *put_params(struct provider_ctx *ctx, const char *name,
				const struct value *props)
{
	static const char *const keys[] = { "Value", "Type", "Description",
					    "AllowedPattern", "Tier",
					    "Policies", "DataType", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a);
	size_t i;

	ps(a, p, "Name", name);
	for (i = 0; keys[i]; i++)
		ps(a, p, keys[i], pv_str(props, keys[i]));
	return p;
}

/* GetAtt Value keeps the secrecy of what it was made from: a value built
 * from a dynamic reference or a NoEcho parameter is sensitive, so the state
 * keeps only its fingerprint. */
static void param_result(struct provider_ctx *ctx, const char *name,
			 const char *type, const char *value, bool secret,
			 struct provider_result *out)
{
	struct arena *a = ctx->arena;

	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(a);
	ps(a, out->attrs, "Ref", name);
	ps(a, out->attrs, "Type", type);
	if (value) {
		struct value *v = value_new_string(a, value);
		v->sensitive = secret;
		value_map_set(a, out->attrs, "Value", v);
	}
}

static bool value_secret(const struct value *props)
{
	const struct value *v = pv(props, "Value");

	return v && v->sensitive;
}

/* Whether the recorded Value attribute was a secret (kept as a
 * fingerprint). */
static bool recorded_secret(const struct value *attrs)
{
	const struct value *v = value_map_get(attrs, "Value");
	const char *s = value_str(v);

	return v && (v->sensitive || (s && !strncmp(s, "hmac-sha256:", 12)));
}

static int param_create(struct provider_ctx *ctx, const struct value *props,
			struct provider_result *out, struct err *err)
{
	const char *name = param_name(ctx, props);
	struct value *p = put_params(ctx, name, props);

	value_map_set(ctx->arena, p, "Tags", tags_merged(ctx, props));
	if (!pcall(ctx, "ssm", "PutParameter", p, err))
		return -1;
	param_result(ctx, name, pv_str(props, "Type"), pv_str(props, "Value"),
		     value_secret(props), out);
	return 0;
}

static struct value *param_tags(struct provider_ctx *ctx, const char *name,
				struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	ps(ctx->arena, p, "ResourceType", "Parameter");
	ps(ctx->arena, p, "ResourceId", name);
	r = pcall(ctx, "ssm", "ListTagsForResource", p, err);
	return r ? (struct value *)pv(r, "TagList") : NULL;
}

static int param_read(struct provider_ctx *ctx, const char *id,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *t, *tl;
	const struct value *par;

	ps(a, p, "Name", id);
	/* a secret value (a dynamic reference's, a NoEcho parameter's)
	 * stays out of the trace log */
	if (recorded_secret(attrs)) {
		r = aws_call_secret(ctx->aws, "ssm", "GetParameter", p, a, err);
		if (!r)
			err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	} else {
		r = pcall(ctx, "ssm", "GetParameter", p, err);
	}
	if (!r)
		return -1;
	par = pv(r, "Parameter");
	param_result(ctx, id, pv_str(par, "Type"), pv_str(par, "Value"),
		     recorded_secret(attrs), out);
	out->props = value_new_map(a);
	ps(a, out->props, "Name", id);
	ps(a, out->props, "Type", pv_str(par, "Type"));
	if (pv_str(par, "Value")) {
		struct value *v = value_new_string(a, pv_str(par, "Value"));
		v->sensitive = recorded_secret(attrs);
		value_map_set(a, out->props, "Value", v);
	}
	if (pv_str(par, "DataType") && strcmp(pv_str(par, "DataType"), "text"))
		ps(a, out->props, "DataType", pv_str(par, "DataType"));
	if (!(tl = param_tags(ctx, id, err)))
		return err->code ? -1 : 0;
	t = tags_from_aws(a, tl, "Key", "Value");
	if (t)
		value_map_set(a, out->props, "Tags", tags_as_map(a, t));
	return 0;
}

static int param_update(struct provider_ctx *ctx, const char *id,
			const struct value *old_props,
			const struct value *new_props, const struct value *attrs,
			struct provider_result *out, struct err *err)
{
	static const char *const keys[] = { "Value", "Type", "Description",
					    "AllowedPattern", "Tier",
					    "Policies", "DataType", NULL };
	size_t i;

	(void)attrs;
	for (i = 0; keys[i]; i++)
		if (pv_changed(old_props, new_props, keys[i]))
			break;
	if (keys[i]) {
		struct value *p = put_params(ctx, id, new_props);
		pb(ctx->arena, p, "Overwrite", true);
		if (!pcall(ctx, "ssm", "PutParameter", p, err))
			return -1;
	}
	if (param_update_tags(ctx, id, old_props, new_props, err) < 0)
		return -1;
	param_result(ctx, id, pv_str(new_props, "Type"),
		     pv_str(new_props, "Value"), value_secret(new_props), out);
	return 0;
}

static int param_delete(struct provider_ctx *ctx, const char *id,
			const struct value *props, const struct value *attrs,
			struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "Name", id);
	if (!pcall(ctx, "ssm", "DeleteParameter", p, err))
		return gone_is_ok(err);
	return 0;
}

/* The parameter a stopped run wrote: the template's or the generated name,
 * adopted only with this resource's cairn tags (PutParameter writes them
 * with the parameter). */
static int param_find(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	const char *name = param_name(ctx, props);
	struct value *tl = param_tags(ctx, name, err);

	if (!tl && err->code)
		return -1;
	if (!tags_owned(ctx, tl))
		return prov_foreign(ctx, name, tl, out, err);
	param_result(ctx, name, pv_str(props, "Type"), pv_str(props, "Value"),
		     value_secret(props), out);
	return 0;
}

const struct provider prov_ssm_parameter = {
	.type = "AWS::SSM::Parameter",
	.create = param_create,
	.read = param_read,
	.update = param_update,
	.delete = param_delete,
	.find = param_find,
};
