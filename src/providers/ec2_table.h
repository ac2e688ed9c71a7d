/*
 * EC2 types as table rows: the read / delete / find / tag / create shapes
 * every plain EC2 type shares, written once and driven by a description
 * of the type (struct ec2_type), so that a type's file holds its row and
 * only what is really its own.
 *
 * What a row describes:
 *   - read: the Describe call that takes a list of ids (DescribeVpcs,
 *     VpcIds, response list vpcSet, id field vpcId), which items count as
 *     gone (a NAT gateway lingers "deleted"), and how a response item
 *     becomes the CloudFormation attributes (Ref first) and properties
 *     (struct ec2_map lists); hooks add what a table cannot say (fill:
 *     per item, read_more: once for all the ids of a batch).
 *   - create: the Create call, where the new id is in its response, the
 *     TagSpecifications resource type, the codes retried (a parent not yet
 *     visible), the properties sent as they are, whether the call takes a
 *     ClientToken (resent safely) or is sent once and looked for by its
 *     cairn:token tag after a lost answer (ec2_create_once), and what
 *     follows it (a hook, a state to wait for).
 *   - update: hooks for what changes in place besides Tags.
 *   - delete: the call and its id member, the codes retried (a
 *     DependencyViolation while network interfaces drain) for how long,
 *     the status line shown meanwhile; not found is success.
 *
 * The shared functions take a provider's own signatures and find the row
 * by ctx->type (which every caller of a provider sets; a type without a
 * row is ERR_INTERNAL), so a provider entry points at them directly:
 *
 *   .create = ec2_table_create_resource, .read = ec2_table_read,
 *   .read_many = ec2_table_read_many, .update = ec2_table_update,
 *   .delete = ec2_table_delete, .find = ec2_table_find
 *
 * (EC2_TABLE_PROVIDER writes that entry.) Adding an EC2 type: write its
 * row (const struct ec2_type ec2_row_<name> in the type's file, next to
 * the functions only it needs: hooks, or a create of its own that builds
 * the request and calls ec2_table_create when the row cannot say how),
 * add a pointer to it in ec2_table.c's row list (and its extern below),
 * and add its provider entry to providers.c's table. docs/design.md says
 * the same with the tests to write. A type whose ids are not a
 * Describe's ids (a route "rtb|cidr", an attachment "igw|vpc") keeps its
 * own read_many and may still use ec2_table_read.
 */
#ifndef CAIRN_PROVIDERS_EC2_TABLE_H
#define CAIRN_PROVIDERS_EC2_TABLE_H

#include "prov_int.h"

/* How one field of a Describe item becomes a property or attribute. */
enum ec2_map_kind {
	EC2_STR,        /* the scalar at path (value_get_path) as text */
	EC2_BOOL,       /* "true"/"false" or a boolean at path */
	EC2_ID,         /* the resource's id (path unused) */
	EC2_TAGS,       /* path (tagSet) as the template's Tags, cairn's and
			 * aws: keys left out; absent when there are none */
	EC2_EMPTY_LIST, /* [] (Ipv6CidrBlocks of what cairn makes) */
};

struct ec2_map {
	const char *name; /* property or attribute ("Ref" first) */
	enum ec2_map_kind kind;
	const char *path;
};

/* A change made by a type's own calls: on create (old_props NULL) or on
 * an update from old_props to new_props. */
typedef int ec2_change_fn(struct provider_ctx *ctx, const char *id,
			  const struct value *old_props,
			  const struct value *new_props, struct err *err);

struct ec2_type {
	const char *type; /* "AWS::EC2::VPC" */

	/* read */
	const char *describe, *ids_member, *set, *id_field;
	/* items whose "state" is one of these (any case) read as gone */
	const char *const *gone_states;
	const struct ec2_map *attrs, *props; /* end with { NULL } */
	/* optional: what the type adds to one item's out (attrs and props
	 * filled from the lists above; physical_id set) */
	void (*fill)(struct provider_ctx *ctx, const char *id,
		     const struct value *item, struct provider_result *out);
	/* optional: after fill, once for a whole batch (found[i] NULL and
	 * outs[i].physical_id NULL for a gone one) */
	int (*read_more)(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct provider_result *outs, struct err *err);

	/* create: the call, the path of the new id in its response, the
	 * TagSpecifications resource type, the codes retried and for how
	 * long, the string properties sent under their own names (NULL
	 * ended), whether the call takes a ClientToken */
	const char *create_op, *create_id, *tag_type;
	const char *const *create_retry;
	double create_seconds;
	const char *const *create_props;
	bool client_token;
	/* ec2_table_create_resource: what the type does once the create
	 * call answered (optional), the state it then waits for (optional) */
	ec2_change_fn *create_after;
	const char *ready_state;
	double ready_seconds;

	/* optional: ec2_table_update's in-place changes besides Tags, made
	 * before them (update_before) and after them (update_after) */
	ec2_change_fn *update_before, *update_after;

	/* delete */
	const char *delete_op, *delete_member;
	const char *const *delete_retry; /* NULL: sent once */
	double delete_seconds;
	const char *delete_status;
};

/* The row of ctx->type; NULL (err set) when it has none. */
const struct ec2_type *ec2_table_row(struct provider_ctx *ctx, struct err *err);

/* ---- a provider's functions, for the rows' provider entries (what they
 * return lives in ctx->arena, as for every provider) */
/* The row's create with its create_props, create_after, the wait for
 * ready_state, then the result (read when an attribute comes from AWS). */
int ec2_table_create_resource(struct provider_ctx *ctx,
			      const struct value *props,
			      struct provider_result *out, struct err *err);
/* Any type with a read_many (even its own): read() as a batch of one. */
int ec2_table_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err);
int ec2_table_read_many(struct provider_ctx *ctx, size_t n,
			const char *const *ids, struct provider_result *outs,
			struct err *err);
/* update_before, Tags (CreateTags / DeleteTags), update_after, then the
 * result: read again when an attribute comes from AWS, else built from
 * the id. */
int ec2_table_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props,
		     const struct value *new_props, const struct value *attrs,
		     struct provider_result *out, struct err *err);
int ec2_table_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err);
/* What a crashed run created, by its cairn tags (ec2_find_by_tags). */
int ec2_table_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err);

/* The provider entry of a type that is its row, a create, and nothing
 * else of its own. */
#define EC2_TABLE_PROVIDER(type_name, create_fn)                        \
	{                                                               \
		.type = type_name, .create = create_fn,                 \
		.read = ec2_table_read,                                 \
		.read_many = ec2_table_read_many,                       \
		.update = ec2_table_update,                             \
		.delete = ec2_table_delete, .find = ec2_table_find,     \
	}

/* A two-part id "left|right" (a route, an attachment) split; -1 with
 * ERR_STATEDB naming what (in the state, so cairn's fault) when it is
 * not one. */
int ec2_split_id(struct provider_ctx *ctx, const char *id, const char *what,
		 const char **left, const char **right, struct err *err);

/* ---- pieces for the types' own functions */
/* out from a Describe item (item NULL: only what the id gives). */
void ec2_table_fill(const struct ec2_type *t, struct provider_ctx *ctx,
		    const char *id, const struct value *item,
		    struct provider_result *out);
/* ec2_describe with the row's Describe: found[i] the item of ids[i]. */
int ec2_table_describe(const struct ec2_type *t, struct provider_ctx *ctx,
		       size_t n, const char *const *ids,
		       const struct value **found, struct err *err);
/* ec2_table_read, then out->props = NULL (what create/update return). */
int ec2_table_reread(struct provider_ctx *ctx, const char *id,
		     struct provider_result *out, struct err *err);
/*
 * Sends the row's create with params plus its create_props and
 * TagSpecifications (the
 * template's Tags and cairn's; with the ClientToken when the row says so,
 * else with cairn:token through ec2_create_once). 0 with *id; *resp the
 * response, or NULL when a lost attempt's resource was found instead.
 */
int ec2_table_create(struct provider_ctx *ctx, const struct value *props,
		     struct value *params, const char **id,
		     struct value **resp, struct err *err);
/* The delete call alone: 0 deleted, 1 already gone, -1 error. */
int ec2_table_delete_call(struct provider_ctx *ctx, const char *id,
			  struct err *err);
/* ec2_wait_state on the row's Describe, field "state". */
int ec2_table_wait(struct provider_ctx *ctx, const char *id, const char *want,
		   const char *const *fail, bool gone_ok, double seconds,
		   const struct value **item, struct err *err);
/* A tagSet as the template's Tags in props (nothing when empty). */
void ec2_props_tags(struct provider_ctx *ctx, struct value *props,
		    const struct value *item);
/* [{"Name": name, "Values": values}] appended to list. */
void ec2_filter_in(struct arena *a, struct value *list, const char *name,
		   size_t n, const char *const *values);
/* A string list of the scalars of list (field of each item when field
 * is not NULL). */
struct value *ec2_str_list(struct provider_ctx *ctx, const struct value *list,
			   const char *field);

/* The rows (one per file's type; ec2_table.c lists them) */
extern const struct ec2_type ec2_row_vpc, ec2_row_subnet, ec2_row_igw,
	ec2_row_eip, ec2_row_route_table, ec2_row_subnet_rt_assoc,
	ec2_row_natgw, ec2_row_vpc_endpoint, ec2_row_sg, ec2_row_sg_ingress,
	ec2_row_sg_egress;

#endif
