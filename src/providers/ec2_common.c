/*
 * EC2 plumbing shared by the EC2 types: batched Describe calls, waits on
 * a state field, finding what a crashed run created by its cairn tags.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cairn/log.h"
#include "prov_int.h"

static const struct value *match_id(const struct value *list,
				    const char *id_field, const char *id)
{
	size_t i;

	for (i = 0; list && list->kind == VALUE_LIST && i < list->u.list.n; i++) {
		const char *x = pv_str(list->u.list.items[i], id_field);
		if (x && !strcmp(x, id))
			return list->u.list.items[i];
	}
	return NULL;
}

/* Every item of a Describe op whose one parameter is member: list. */
static const struct value *describe_items(struct provider_ctx *ctx,
					  const char *op, const char *member,
					  struct value *list, const char *set,
					  struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	value_map_set(ctx->arena, p, member, list);
	r = pcall_all(ctx, "ec2", op, p, set, err);
	return r ? aws_get_list(ctx->arena, r, set, err) : NULL;
}

static const char *first_id(const struct value *items, const char *id_field)
{
	return items->u.list.n ? pv_str(items->u.list.items[0], id_field) : NULL;
}

static int describe_some(struct provider_ctx *ctx, const char *op,
			 const char *ids_member, const char *set,
			 const char *id_field, size_t n,
			 const char *const *ids, const struct value **found,
			 struct err *err)
{
	struct value *l = value_new_list(ctx->arena);
	const struct value *items;
	size_t i;

	for (i = 0; i < n; i++)
		value_list_push(ctx->arena, l, value_new_string(ctx->arena, ids[i]));
	if (!(items = describe_items(ctx, op, ids_member, l, set, err)))
		return -1;
	for (i = 0; i < n; i++)
		found[i] = match_id(items, id_field, ids[i]);
	return 0;
}

int ec2_describe(struct provider_ctx *ctx, const char *op,
		 const char *ids_member, const char *set, const char *id_field,
		 size_t n, const char *const *ids, const struct value **found,
		 struct err *err)
{
	size_t i;

	if (!n)
		return 0;
	if (describe_some(ctx, op, ids_member, set, id_field, n, ids, found,
			  err) == 0)
		return 0;
	if (err->code != ERR_NOT_FOUND)
		return -1;
	if (n == 1) {
		found[0] = NULL;
		err_clear(err);
		return 0;
	}
	/* one unknown id fails the whole call: ask one by one */
	for (i = 0; i < n; i++) {
		err_clear(err);
		if (describe_some(ctx, op, ids_member, set, id_field, 1, &ids[i],
				  &found[i], err) < 0) {
			if (err->code != ERR_NOT_FOUND)
				return -1;
			found[i] = NULL;
		}
	}
	err_clear(err);
	return 0;
}

bool ec2_state_in(const char *s, const char *const *l)
{
	size_t i;

	for (i = 0; s && l && l[i]; i++)
		if (!strcasecmp(s, l[i]))
			return true;
	return false;
}

int ec2_wait_state(struct provider_ctx *ctx, const char *op,
		   const char *ids_member, const char *set,
		   const char *id_field, const char *id,
		   const char *state_field, const char *want,
		   const char *const *fail, bool gone_ok, double seconds,
		   const struct value **item, struct err *err)
{
	double dl = prov_deadline(ctx, seconds);
	int attempt = 0, missing = 0;
	char what[160];

	snprintf(what, sizeof(what), "%s to be %s", id, want);
	for (;;) {
		const struct value *it = NULL;
		const char *st;
		if (ec2_describe(ctx, op, ids_member, set, id_field, 1, &id, &it,
				 err) < 0)
			return -1;
		if (!it) {
			if (gone_ok) {
				*item = NULL;
				return 0;
			}
			/* a new id may be invisible for a moment */
			if (++missing > 30)
				return prov_fail(ctx, err, ERR_NOT_FOUND,
						 "\"%s\" disappeared", id);
		} else {
			st = pv_str(it, state_field);
			if (st && !strcasecmp(st, want)) {
				*item = it;
				return 0;
			}
			if (ec2_state_in(st, fail)) {
				*item = it;
				return prov_fail(ctx, err, ERR_AWS,
						 "\"%s\" is %s (wanted %s)", id, st,
						 want);
			}
		}
		if (prov_sleep_until(ctx, &attempt, dl, what, err) < 0)
			return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	}
}

int ec2_find_tagged(struct provider_ctx *ctx, const char *op, const char *set,
		    const char *id_field, const char **id, struct err *err)
{
	const struct value *items = describe_items(
		ctx, op, !strcmp(op, "DescribeNatGateways") ? "Filter" : "Filters",
		ec2_cairn_filters(ctx), set, err);

	if (!items)
		return -1;
	*id = first_id(items, id_field);
	return 0;
}

int read_via_many(const struct provider *p, struct provider_ctx *ctx,
		  const char *id, struct provider_result *out, struct err *err)
{
	memset(out, 0, sizeof(*out));
	if (p->read_many(ctx, 1, &id, out, err) < 0)
		return -1;
	if (!out->physical_id)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "\"%s\" does not exist", id);
	return 0;
}

int ec2_find_by_tags(const struct provider *p, struct provider_ctx *ctx,
		     const char *op, const char *set, const char *id_field,
		     struct provider_result *out, struct err *err)
{
	const char *id;

	if (ec2_find_tagged(ctx, op, set, id_field, &id, err) < 0)
		return -1;
	if (!id)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "nothing tagged for this resource (%s)", op);
	if (p->read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

struct value *tags_with_token(struct provider_ctx *ctx,
			      const struct value *props)
{
	struct value *t = tags_merged(ctx, props), *m;

	if (!ctx->token)
		return t;
	m = value_new_map(ctx->arena);
	ps(ctx->arena, m, "Key", "cairn:token");
	ps(ctx->arena, m, "Value", ctx->token);
	value_list_push(ctx->arena, t, m);
	return t;
}

/* The id of what a create carrying cairn:token = ctx->token made, or NULL. */
static int find_by_token(struct provider_ctx *ctx, const char *op,
			 const char *set, const char *id_field, const char **id,
			 struct err *err)
{
	struct value *fl = ec2_cairn_filters(ctx);
	const struct value *items;

	ec2_filter(ctx->arena, fl, "tag:cairn:token", ctx->token);
	if (!(items = describe_items(ctx, op, "Filters", fl, set, err)))
		return -1;
	*id = first_id(items, id_field);
	return 0;
}

/*
 * How many times an answer may be lost before the create gives up, and
 * how many looks (one poll interval apart) for what a lost attempt made
 * before sending again: a resource a few hundred milliseconds old may not
 * be listed yet (EC2's Describe calls are eventually consistent).
 */
#define CREATE_LOST_MAX 4
#define CREATE_LOOKS 3

struct value *ec2_create_once(struct provider_ctx *ctx, const char *op,
			      const struct value *params,
			      const char *const *codes, double seconds,
			      const char *desc_op, const char *set,
			      const char *id_field, const char **found_id,
			      struct err *err)
{
	double dl = prov_deadline(ctx, seconds);
	int attempt = 0, lost = 0;

	*found_id = NULL;
	for (;;) {
		struct aws_call_opts o = { 1, 0 };
		struct value *r = aws_call_opt(ctx->aws, "ec2", op, params, &o,
					       ctx->arena, err);
		struct err serr = ERR_INIT;
		char what[96];
		int look;

		if (r)
			return r;
		err_prefix(err, "%s %s: ", ctx->type ? ctx->type : "?",
			   ctx->logical_id ? ctx->logical_id : "?");
		if (o.uncertain) {
			int la = 0;
			if (++lost > CREATE_LOST_MAX || !ctx->token)
				return NULL;
			for (look = 0; look < CREATE_LOOKS; look++) {
				struct err ferr = ERR_INIT;
				const char *id = NULL;
				if (find_by_token(ctx, desc_op, set, id_field, &id,
						  &ferr) == 0 && id) {
					log_msg(LOG_INFO,
						"%s: ec2:%s: the answer was lost; found what it made: %s",
						ctx->logical_id, op, id);
					err_clear(err);
					*found_id = id;
					return NULL;
				}
				if (look + 1 < CREATE_LOOKS &&
				    prov_sleep_until(ctx, &la, prov_deadline(ctx, 60.0),
						     "what a lost create made", &serr) < 0) {
					if (serr.code == ERR_CANCELLED)
						*err = serr;
					return NULL;
				}
			}
			log_msg(LOG_INFO,
				"%s: ec2:%s: the answer was lost and nothing was made; sending it again",
				ctx->logical_id, op);
			continue;
		}
		if (!code_in(err, codes))
			return NULL;
		snprintf(what, sizeof(what), "ec2:%s (%s)", op, err->aws_code);
		if (prov_sleep_until(ctx, &attempt, dl, what, &serr) < 0) {
			if (serr.code == ERR_CANCELLED)
				*err = serr;
			return NULL;
		}
	}
}
