/*
 * The shared functions of the EC2 types described by a row (ec2_table.h).
 */
#include <string.h>

#include "ec2_table.h"

static const struct ec2_type *const rows[] = {
	&ec2_row_vpc,        &ec2_row_subnet,        &ec2_row_igw,
	&ec2_row_eip,        &ec2_row_route_table,   &ec2_row_subnet_rt_assoc,
	&ec2_row_natgw,      &ec2_row_vpc_endpoint,  &ec2_row_sg,
	&ec2_row_sg_ingress, &ec2_row_sg_egress,
};

const struct ec2_type *ec2_table_row(struct provider_ctx *ctx, struct err *err)
{
	size_t i;

	for (i = 0; ctx->type && i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strcmp(rows[i]->type, ctx->type))
			return rows[i];
	prov_fail(ctx, err, ERR_INTERNAL, "no EC2 table row for this type");
	return NULL;
}

int ec2_split_id(struct provider_ctx *ctx, const char *id, const char *what,
		 const char **left, const char **right, struct err *err)
{
	if (split_id(ctx->arena, id, left, right))
		return 0;
	return prov_fail(ctx, err, ERR_STATEDB, "bad %s id \"%s\"", what, id);
}

/* The node at path of item; NULL when either is NULL. */
static const struct value *item_at(const struct value *item, const char *path)
{
	return item && path ? value_get_path(item, path) : NULL;
}

/* The text of the scalar at path, like pv_str. */
static const char *item_str(const struct value *item, const char *path)
{
	const struct value *v = item_at(item, path);

	if (!v || v->kind == VALUE_NULL || v->kind == VALUE_BOOL)
		return NULL;
	return v_text(NULL, v);
}

/* dst[name] = the tags at path of item, when there are any. */
static void put_tags(struct provider_ctx *ctx, struct value *dst,
		     const char *name, const struct value *item,
		     const char *path)
{
	struct value *t = tags_from_aws(ctx->arena, item_at(item, path), "key",
					"value");
	if (t)
		value_map_set(ctx->arena, dst, name, t);
}

void ec2_props_tags(struct provider_ctx *ctx, struct value *props,
		    const struct value *item)
{
	put_tags(ctx, props, "Tags", item, "tagSet");
}

struct value *ec2_str_list(struct provider_ctx *ctx, const struct value *list,
			   const char *field)
{
	struct value *out = value_new_list(ctx->arena);
	size_t i;

	for (i = 0; list && list->kind == VALUE_LIST && i < list->u.list.n; i++) {
		const struct value *e = list->u.list.items[i];
		const char *s = field ? pv_str(e, field) : v_text(ctx->arena, e);
		if (s)
			value_list_push(ctx->arena, out, value_new_string(ctx->arena, s));
	}
	return out;
}

void ec2_filter_in(struct arena *a, struct value *list, const char *name,
		   size_t n, const char *const *values)
{
	struct value *f = value_new_map(a), *vals = value_new_list(a);
	size_t i;

	for (i = 0; i < n; i++)
		value_list_push(a, vals, value_new_string(a, values[i]));
	ps(a, f, "Name", name);
	value_map_set(a, f, "Values", vals);
	value_list_push(a, list, f);
}

static void map_fields(struct provider_ctx *ctx, const struct ec2_map *m,
		       const char *id, const struct value *item,
		       struct value *dst)
{
	struct arena *a = ctx->arena;

	for (; m && m->name; m++) {
		const char *s = item_str(item, m->path);
		const struct value *v = item_at(item, m->path);
		switch (m->kind) {
		case EC2_ID:
			ps(a, dst, m->name, id);
			break;
		case EC2_STR:
			ps(a, dst, m->name, s);
			break;
		case EC2_BOOL:
			if (s)
				pb(a, dst, m->name, !strcmp(s, "true"));
			else if (v && v->kind == VALUE_BOOL)
				pb(a, dst, m->name, v->u.b);
			break;
		case EC2_TAGS:
			put_tags(ctx, dst, m->name, item, m->path);
			break;
		case EC2_EMPTY_LIST:
			value_map_set(a, dst, m->name, value_new_list(a));
			break;
		}
	}
}

void ec2_table_fill(const struct ec2_type *t, struct provider_ctx *ctx,
		    const char *id, const struct value *item,
		    struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(ctx->arena, id);
	out->attrs = value_new_map(ctx->arena);
	map_fields(ctx, t->attrs, out->physical_id, item, out->attrs);
	if (!item)
		return;
	out->props = value_new_map(ctx->arena);
	map_fields(ctx, t->props, out->physical_id, item, out->props);
	if (t->fill)
		t->fill(ctx, out->physical_id, item, out);
}

static bool item_gone(const struct ec2_type *t, const struct value *item)
{
	return !item || ec2_state_in(pv_str(item, "state"), t->gone_states);
}

int ec2_table_describe(const struct ec2_type *t, struct provider_ctx *ctx,
		       size_t n, const char *const *ids,
		       const struct value **found, struct err *err)
{
	return ec2_describe(ctx, t->describe, t->ids_member, t->set, t->id_field,
			    n, ids, found, err);
}

int ec2_table_read_many(struct provider_ctx *ctx, size_t n,
			const char *const *ids, struct provider_result *outs,
			struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);
	const struct value **found;
	size_t i;

	if (!t)
		return -1;
	if (!n)
		return 0;
	found = arena_alloc(ctx->arena, (n + 1) * sizeof(*found));
	if (ec2_table_describe(t, ctx, n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (item_gone(t, found[i]))
			found[i] = NULL;
		else
			ec2_table_fill(t, ctx, ids[i], found[i], &outs[i]);
	}
	return t->read_more ? t->read_more(ctx, n, ids, found, outs, err) : 0;
}

int ec2_table_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	const struct provider *p = provider_find(ctx->type);

	(void)attrs;
	if (!p || !p->read_many)
		return prov_fail(ctx, err, ERR_INTERNAL, "no batched read");
	return read_via_many(p, ctx, id, out, err);
}

int ec2_table_reread(struct provider_ctx *ctx, const char *id,
		     struct provider_result *out, struct err *err)
{
	if (ec2_table_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

/* Whether every attribute is the id: nothing to read back from AWS. */
static bool attrs_from_id(const struct ec2_type *t)
{
	const struct ec2_map *m;

	for (m = t->attrs; m && m->name; m++)
		if (m->kind != EC2_ID)
			return false;
	return true;
}

/* What a create or update returns: read again when an attribute comes
 * from AWS, else built from the id alone. */
static int changed_result(const struct ec2_type *t, struct provider_ctx *ctx,
			  const char *id, struct provider_result *out,
			  struct err *err)
{
	if (!attrs_from_id(t))
		return ec2_table_reread(ctx, id, out, err);
	ec2_table_fill(t, ctx, id, NULL, out);
	return 0;
}

int ec2_table_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props,
		     const struct value *new_props, const struct value *attrs,
		     struct provider_result *out, struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);

	(void)attrs;
	if (!t ||
	    (t->update_before &&
	     t->update_before(ctx, id, old_props, new_props, err) < 0) ||
	    ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    (t->update_after &&
	     t->update_after(ctx, id, old_props, new_props, err) < 0))
		return -1;
	return changed_result(t, ctx, id, out, err);
}

int ec2_table_delete_call(struct provider_ctx *ctx, const char *id,
			  struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);
	struct value *p;

	if (!t)
		return -1;
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, t->delete_member, id);
	if (t->delete_status)
		prov_status(ctx, t->delete_status);
	if (t->delete_retry
		    ? pcall_retry(ctx, "ec2", t->delete_op, p, t->delete_retry,
				  t->delete_seconds, err)
		    : pcall(ctx, "ec2", t->delete_op, p, err))
		return 0;
	return gone_is_ok(err) < 0 ? -1 : 1;
}

int ec2_table_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	(void)props;
	(void)attrs;
	return ec2_table_delete_call(ctx, id, err) < 0 ? -1 : 0;
}

int ec2_table_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);
	const struct provider *p = provider_find(ctx->type);

	(void)props;
	if (!t)
		return -1;
	return ec2_find_by_tags(p, ctx, t->describe, t->set, t->id_field, out,
				err);
}

int ec2_table_create(struct provider_ctx *ctx, const struct value *props,
		     struct value *params, const char **id,
		     struct value **resp, struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);
	struct arena *a = ctx->arena;
	const char *const *k;

	*id = NULL;
	*resp = NULL;
	if (!t)
		return -1;
	for (k = t->create_props; k && *k; k++)
		ps(a, params, *k, pv_str(props, *k));
	if (t->client_token) {
		ps(a, params, "ClientToken", ctx->token);
		value_map_set(a, params, "TagSpecifications",
			      ec2_tag_spec(a, t->tag_type, tags_merged(ctx, props)));
		*resp = pcall_retry(ctx, "ec2", t->create_op, params,
				    t->create_retry, t->create_seconds, err);
	} else {
		/* no idempotency token: never resent blindly after a lost
		 * answer (ec2_create_once looks for what it made first) */
		value_map_set(a, params, "TagSpecifications",
			      ec2_tag_spec(a, t->tag_type,
					   tags_with_token(ctx, props)));
		*resp = ec2_create_once(ctx, t->create_op, params, t->create_retry,
					t->create_seconds, t->describe, t->set,
					t->id_field, id, err);
		if (!*resp)
			return *id ? 0 : -1;
	}
	if (!*resp || !(*id = aws_get_str(*resp, t->create_id, err)))
		return -1;
	return 0;
}

int ec2_table_create_resource(struct provider_ctx *ctx,
			      const struct value *props,
			      struct provider_result *out, struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);
	const struct value *it;
	struct value *r;
	const char *id;

	if (!t || ec2_table_create(ctx, props, value_new_map(ctx->arena), &id, &r,
				   err) < 0 ||
	    (t->create_after && t->create_after(ctx, id, NULL, props, err) < 0) ||
	    (t->ready_state &&
	     ec2_table_wait(ctx, id, t->ready_state, NULL, false, t->ready_seconds,
			    &it, err) < 0))
		return -1;
	return changed_result(t, ctx, id, out, err);
}

int ec2_table_wait(struct provider_ctx *ctx, const char *id, const char *want,
		   const char *const *fail, bool gone_ok, double seconds,
		   const struct value **item, struct err *err)
{
	const struct ec2_type *t = ec2_table_row(ctx, err);

	if (!t)
		return -1;
	return ec2_wait_state(ctx, t->describe, t->ids_member, t->set,
			      t->id_field, id, "state", want, fail, gone_ok,
			      seconds, item, err);
}
