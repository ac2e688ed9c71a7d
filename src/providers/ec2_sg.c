/*
 * AWS::EC2::SecurityGroup (with inline rules), SecurityGroupIngress and
 * SecurityGroupEgress.
 *
 * Inline rules are updated by diffing the old template rules against the
 * new ones (not against what AWS has), so rules added by standalone
 * SecurityGroupIngress/Egress resources on the same group are left alone.
 * A group without SecurityGroupEgress keeps AWS's default allow-all egress;
 * a group that lists its own egress has that default revoked.
 *
 * Ref: GroupId (GetAtt GroupId, VpcId). Standalone rules: Ref = rule id
 * (GetAtt Id).
 */
#include <stdio.h>
#include <string.h>

#include "ec2_table.h"

static const char *const sg_nf[] = { "InvalidGroup.NotFound", NULL };

/* The egress rules the template wants: its list, or AWS's default. */
static int desired_egress(struct arena *a, const struct value *props,
			  struct sg_rules *out, struct err *err)
{
	const struct value *l = pv(props, "SecurityGroupEgress");

	if (l)
		return sg_rules_from_template(a, l, true, out, err);
	{
		/* what AWS adds to every new VPC group */
		struct value *list = value_new_list(a), *m = value_new_map(a);
		ps(a, m, "IpProtocol", "-1");
		ps(a, m, "CidrIp", "0.0.0.0/0");
		value_list_push(a, list, m);
		return sg_rules_from_template(a, list, true, out, err);
	}
}

/* Authorizes (or revokes) rules; one call for all, then one per rule when
 * some already exist (or are already gone), which is not an error. */
static int sg_apply(struct provider_ctx *ctx, const char *gid, bool egress,
		    bool revoke, const struct sg_rules *rules, struct err *err)
{
	const char *op = revoke ? (egress ? "RevokeSecurityGroupEgress"
					  : "RevokeSecurityGroupIngress")
				: (egress ? "AuthorizeSecurityGroupEgress"
					  : "AuthorizeSecurityGroupIngress");
	const char *benign = revoke ? "InvalidPermission.NotFound"
				    : "InvalidPermission.Duplicate";
	struct value *p;
	size_t i;

	if (!rules->n)
		return 0;
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "GroupId", gid);
	value_map_set(ctx->arena, p, "IpPermissions",
		      sg_rules_to_params(ctx->arena, rules));
	if (pcall_retry(ctx, "ec2", op, p, sg_nf, 120.0, err))
		return 0;
	if (strcmp(err->aws_code, benign))
		return -1;
	for (i = 0; i < rules->n; i++) {
		struct sg_rules one = { &rules->items[i], 1, 1 };
		err_clear(err);
		p = value_new_map(ctx->arena);
		ps(ctx->arena, p, "GroupId", gid);
		value_map_set(ctx->arena, p, "IpPermissions",
			      sg_rules_to_params(ctx->arena, &one));
		if (!pcall(ctx, "ec2", op, p, err) && strcmp(err->aws_code, benign))
			return -1;
	}
	err_clear(err);
	return 0;
}

/* Rules present in both sets whose description changed: AWS keeps one
 * rule per key, so only the description is updated. */
static int sg_update_descs(struct provider_ctx *ctx, const char *gid,
			   bool egress, const struct sg_rules *old_rules,
			   const struct sg_rules *new_rules, struct err *err)
{
	struct arena *a = ctx->arena;
	struct sg_rules ch = { 0 };
	struct value *p;
	size_t i, j;

	for (i = 0; i < new_rules->n; i++) {
		const struct sg_rule *n = &new_rules->items[i];
		for (j = 0; j < old_rules->n; j++) {
			const struct sg_rule *o = &old_rules->items[j];
			if (!strcmp(n->key, o->key) &&
			    strcmp(n->desc ? n->desc : "", o->desc ? o->desc : "")) {
				/* append n: n minus the empty set */
				struct sg_rules one = { (struct sg_rule *)n, 1, 1 };
				struct sg_rules none = { 0 };
				sg_rules_minus(a, &one, &none, &ch);
			}
		}
	}
	if (!ch.n)
		return 0;
	/* a description removed is sent as "" */
	for (i = 0; i < ch.n; i++)
		if (!ch.items[i].desc)
			ch.items[i].desc = "";
	p = value_new_map(a);
	ps(a, p, "GroupId", gid);
	value_map_set(a, p, "IpPermissions", sg_rules_to_params(a, &ch));
	return pcall_retry(ctx, "ec2",
			   egress ? "UpdateSecurityGroupRuleDescriptionsEgress"
				  : "UpdateSecurityGroupRuleDescriptionsIngress",
			   p, sg_nf, 120.0, err) ? 0 : -1;
}

/* The rules and tags of a group's Describe item. */
static void sg_fill(struct provider_ctx *ctx, const char *id,
		    const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct sg_rules in = { 0 }, eg = { 0 };
	struct value *props = out->props;

	(void)id;
	sg_rules_from_aws(a, pv(it, "ipPermissions"), &in);
	sg_rules_from_aws(a, pv(it, "ipPermissionsEgress"), &eg);
	if (in.n)
		value_map_set(a, props, "SecurityGroupIngress",
			      sg_rules_to_template(a, &in, false));
	/* every rule, AWS's default egress included: the refresh decides
	 * whose each rule is (src/providers/relations.c: the default is
	 * AWS's when the group lists no egress of its own, drift when it
	 * lists other rules, the group's when it lists exactly that rule) */
	if (eg.n)
		value_map_set(a, props, "SecurityGroupEgress",
			      sg_rules_to_template(a, &eg, true));
	ec2_props_tags(ctx, props, it);
}

static const char *sg_name(struct provider_ctx *ctx, const struct value *props)
{
	const char *n = pv_str(props, "GroupName");

	return n ? n : provider_generate_name(ctx, 255, NAME_EC2_GROUP);
}

static int sg_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	struct sg_rules in = { 0 }, eg = { 0 }, def = { 0 }, add = { 0 },
			rm = { 0 };
	const char *gid;
	bool has_vpc = pv_str(props, "VpcId") != NULL;

	if (!pv_str(props, "GroupDescription"))
		return prov_fail(ctx, err, ERR_VALIDATION, "GroupDescription is required");
	if (sg_rules_from_template(a, pv(props, "SecurityGroupIngress"), false, &in,
				   err) < 0 ||
	    desired_egress(a, props, &eg, err) < 0)
		return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	ps(a, p, "GroupName", sg_name(ctx, props));
	ps(a, p, "Description", pv_str(props, "GroupDescription"));
	/* a resent CreateSecurityGroup gets InvalidGroup.Duplicate: sent
	 * once, what a lost attempt made looked for first (and, when found,
	 * the rules below applied to it) */
	if (ec2_table_create(ctx, props, p, &gid, &r, err) < 0) {
		/* a retry of our own create: the generated name is ours */
		struct provider_result f;
		struct err e2 = ERR_INIT;
		if (strcmp(err->aws_code, "InvalidGroup.Duplicate") ||
		    pv_str(props, "GroupName") ||
		    prov_ec2_sg.find(ctx, props, &f, &e2) < 0)
			return -1;
		err_clear(err);
		gid = f.physical_id;
	}
	if (sg_apply(ctx, gid, false, false, &in, err) < 0)
		return -1;
	if (has_vpc) {
		if (desired_egress(a, NULL, &def, err) < 0)
			return -1;
		sg_rules_minus(a, &eg, &def, &add);
		sg_rules_minus(a, &def, &eg, &rm);
		if (sg_apply(ctx, gid, true, false, &add, err) < 0 ||
		    sg_apply(ctx, gid, true, true, &rm, err) < 0 ||
		    sg_update_descs(ctx, gid, true, &def, &eg, err) < 0)
			return -1;
	}
	ec2_table_fill(&ec2_row_sg, ctx, gid, NULL, out);
	set_attr(ctx, out->attrs, "VpcId", pv_str(props, "VpcId"));
	return 0;
}

static int sg_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *new_props,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct sg_rules oi = { 0 }, ni = { 0 }, oe = { 0 }, ne = { 0 };
	struct sg_rules ai = { 0 }, ri = { 0 }, ae = { 0 }, re = { 0 };

	(void)attrs;
	if (sg_rules_from_template(a, pv(old_props, "SecurityGroupIngress"), false,
				   &oi, err) < 0 ||
	    sg_rules_from_template(a, pv(new_props, "SecurityGroupIngress"), false,
				   &ni, err) < 0 ||
	    desired_egress(a, old_props, &oe, err) < 0 ||
	    desired_egress(a, new_props, &ne, err) < 0)
		return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	sg_rules_minus(a, &ni, &oi, &ai);
	sg_rules_minus(a, &oi, &ni, &ri);
	sg_rules_minus(a, &ne, &oe, &ae);
	sg_rules_minus(a, &oe, &ne, &re);
	/* authorize first, so traffic allowed by both old and new rules
	 * (a changed description aside) never drops */
	if (sg_apply(ctx, id, false, false, &ai, err) < 0 ||
	    sg_apply(ctx, id, true, false, &ae, err) < 0 ||
	    sg_apply(ctx, id, false, true, &ri, err) < 0 ||
	    sg_apply(ctx, id, true, true, &re, err) < 0 ||
	    sg_update_descs(ctx, id, false, &oi, &ni, err) < 0 ||
	    sg_update_descs(ctx, id, true, &oe, &ne, err) < 0 ||
	    ec2_update_tags(ctx, id, old_props, new_props, err) < 0)
		return -1;
	ec2_table_fill(&ec2_row_sg, ctx, id, NULL, out);
	set_attr(ctx, out->attrs, "VpcId", pv_str(new_props, "VpcId"));
	return 0;
}

static const char *const dep_violation[] = { "DependencyViolation", NULL };

const struct ec2_type ec2_row_sg = {
	.type = "AWS::EC2::SecurityGroup",
	.describe = "DescribeSecurityGroups", .ids_member = "GroupIds",
	.set = "securityGroupInfo", .id_field = "groupId",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_ID, NULL },
					   { "GroupId", EC2_ID, NULL },
					   { "Id", EC2_ID, NULL },
					   { "VpcId", EC2_STR, "vpcId" },
					   { NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "GroupName", EC2_STR, "groupName" },
		{ "GroupDescription", EC2_STR, "groupDescription" },
		{ "VpcId", EC2_STR, "vpcId" },
		{ NULL, 0, NULL } },
	.fill = sg_fill,
	.create_op = "CreateSecurityGroup", .create_id = "groupId",
	.tag_type = "security-group",
	.create_props = (const char *const[]){ "VpcId", NULL },
	.create_retry = (const char *const[]){ "InvalidVpcID.NotFound", NULL },
	.create_seconds = 120.0,
	.delete_op = "DeleteSecurityGroup", .delete_member = "GroupId",
	.delete_retry = dep_violation, .delete_seconds = 20.0 * 60.0,
	.delete_status = "deleting (waits while network interfaces drain)",
};

const struct provider prov_ec2_sg = {
	.type = "AWS::EC2::SecurityGroup",
	.create = sg_create,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = sg_update,
	.delete = ec2_table_delete,
	.find = ec2_table_find,
};

/* ============================================ SecurityGroupIngress/Egress */

/* Whether ctx is about an AWS::EC2::SecurityGroupEgress (the two types
 * share their functions). */
static bool rule_egress(const struct provider_ctx *ctx)
{
	return ctx->type && !strcmp(ctx->type, prov_ec2_sg_egress.type);
}

/* The single rule a standalone resource describes. */
static int rule_of(struct provider_ctx *ctx, const struct value *props,
		   bool egress, struct sg_rules *r, struct err *err)
{
	struct value *l = value_new_list(ctx->arena);

	value_list_push(ctx->arena, l, (struct value *)props);
	if (sg_rules_from_template(ctx->arena, l, egress, r, err) < 0)
		return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	return 0;
}

/* The rule as DescribeSecurityGroupRules reports it, normalised. */
static void rule_from_sgr(struct arena *a, const struct value *it,
			  struct sg_rules *r)
{
	struct value *perm = value_new_map(a), *l = value_new_list(a);
	struct value *sub = value_new_list(a), *e = value_new_map(a);
	const struct sg_kind *k = &sg_kinds[0];
	const char *target = NULL;
	size_t i;

	ps(a, perm, "ipProtocol", pv_str(it, "ipProtocol"));
	ps(a, perm, "fromPort", pv_str(it, "fromPort"));
	ps(a, perm, "toPort", pv_str(it, "toPort"));
	for (i = 0; i < SG_NKINDS && !target; i++)
		if ((target = value_str(value_get_path(it, sg_kinds[i].sgr_path))))
			k = &sg_kinds[i];
	/* -1 ports come back as "-1" */
	if (pv_str(it, "fromPort") && !strcmp(pv_str(it, "fromPort"), "-1") &&
	    pv_str(it, "ipProtocol") && !strcmp(pv_str(it, "ipProtocol"), "-1")) {
		value_map_del(perm, "fromPort");
		value_map_del(perm, "toPort");
	}
	ps(a, e, k->aws_field, target ? target : "");
	ps(a, e, "description", pv_str(it, "description"));
	value_list_push(a, sub, e);
	value_map_set(a, perm, k->aws_list, sub);
	value_list_push(a, l, perm);
	sg_rules_from_aws(a, l, r);
}

/* A rule's properties from its DescribeSecurityGroupRules item. */
static void rule_fill(struct provider_ctx *ctx, const char *id,
		      const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct sg_rules r = { 0 };
	struct value *l;

	(void)id;
	rule_from_sgr(a, it, &r);
	l = sg_rules_to_template(a, &r, rule_egress(ctx));
	out->props = l->u.list.n ? l->u.list.items[0] : value_new_map(a);
	ps(a, out->props, "GroupId", pv_str(it, "groupId"));
}

/* Finds the id of a rule on group gid matching r (after a Duplicate). */
static const char *rule_find(struct provider_ctx *ctx, const char *gid,
			     bool egress, const struct sg_rule *want,
			     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *resp;
	const struct value *items;
	size_t i;

	ec2_filter(a, fl, "group-id", gid);
	value_map_set(a, p, "Filters", fl);
	resp = pcall_all(ctx, "ec2", "DescribeSecurityGroupRules", p,
			 "securityGroupRuleSet", err);
	if (!resp || !(items = aws_get_list(a, resp, "securityGroupRuleSet", err)))
		return NULL;
	for (i = 0; i < items->u.list.n; i++) {
		const struct value *it = items->u.list.items[i];
		struct sg_rules r = { 0 };
		const char *eg = pv_str(it, "isEgress");
		if (!eg || !strcmp(eg, "true") != egress)
			continue;
		rule_from_sgr(a, it, &r);
		if (r.n && !strcmp(r.items[0].key, want->key))
			return pv_str(it, "securityGroupRuleId");
	}
	return NULL;
}

static int rule_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	bool egress = rule_egress(ctx);
	struct arena *a = ctx->arena;
	struct sg_rules r = { 0 };
	struct value *p = value_new_map(a), *resp;
	const char *gid = pv_str(props, "GroupId"), *id = NULL;
	const struct value *set;

	if (!gid)
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "GroupId is required (GroupName is for default "
				 "VPCs, which cairn does not manage)");
	if (rule_of(ctx, props, egress, &r, err) < 0)
		return -1;
	ps(a, p, "GroupId", gid);
	value_map_set(a, p, "IpPermissions", sg_rules_to_params(a, &r));
	resp = pcall_retry(ctx, "ec2",
			   egress ? "AuthorizeSecurityGroupEgress"
				  : "AuthorizeSecurityGroupIngress",
			   p, sg_nf, 120.0, err);
	if (resp) {
		set = aws_get_list(a, resp, "securityGroupRuleSet", err);
		if (!set)
			return -1;
		if (set->u.list.n)
			id = pv_str(set->u.list.items[0], "securityGroupRuleId");
	} else if (!strcmp(err->aws_code, "InvalidPermission.Duplicate")) {
		/* our own earlier attempt, or an identical inline rule */
		struct err e2 = ERR_INIT;
		id = rule_find(ctx, gid, egress, &r.items[0], &e2);
		if (!id)
			return -1;
		err_clear(err);
	} else {
		return -1;
	}
	if (!id)
		return prov_fail(ctx, err, ERR_AWS, "no security group rule id returned");
	/* the two rule rows make the same attributes */
	ec2_table_fill(&ec2_row_sg_ingress, ctx, id, NULL, out);
	return 0;
}

static int rule_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
{
	bool egress = rule_egress(ctx);
	struct arena *a = ctx->arena;
	struct sg_rules r = { 0 };
	struct value *p = value_new_map(a), *l = value_new_list(a);
	struct value *e = value_new_map(a), *rule = value_new_map(a);
	const struct sg_rule *x;

	(void)old_props;
	(void)attrs;
	/* only Description is mutable in CloudFormation */
	if (rule_of(ctx, new_props, egress, &r, err) < 0)
		return -1;
	x = &r.items[0];
	ps(a, rule, "IpProtocol", x->proto);
	pn(a, rule, "FromPort", *x->from ? x->from : "-1");
	pn(a, rule, "ToPort", *x->to ? x->to : "-1");
	ps(a, rule, sg_kind_of(x->kind)->sgr_param, x->target);
	ps(a, rule, "Description", x->desc ? x->desc : "");
	ps(a, e, "SecurityGroupRuleId", id);
	value_map_set(a, e, "SecurityGroupRule", rule);
	value_list_push(a, l, e);
	ps(a, p, "GroupId", pv_str(new_props, "GroupId"));
	value_map_set(a, p, "SecurityGroupRules", l);
	if (!pcall(ctx, "ec2", "ModifySecurityGroupRules", p, err))
		return -1;
	/* the two rule rows make the same attributes */
	ec2_table_fill(&ec2_row_sg_ingress, ctx, id, NULL, out);
	return 0;
}

static int rule_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)attrs;
	ps(ctx->arena, p, "GroupId", pv_str(props, "GroupId"));
	value_map_set(ctx->arena, p, "SecurityGroupRuleIds", str_list1(ctx->arena, id));
	if (!pcall(ctx, "ec2",
		   rule_egress(ctx) ? "RevokeSecurityGroupEgress"
				    : "RevokeSecurityGroupIngress",
		   p, err)) {
		if (err->code != ERR_NOT_FOUND &&
		    strcmp(err->aws_code, "InvalidPermission.NotFound") &&
		    strcmp(err->aws_code, "InvalidSecurityGroupRuleId.NotFound"))
			return -1;
		err_clear(err);
	}
	return 0;
}

/* The two rule types differ only in their type name. */
#define RULE_ROW(t)                                                             \
	{                                                                       \
		.type = t, .describe = "DescribeSecurityGroupRules",            \
		.ids_member = "SecurityGroupRuleIds",                           \
		.set = "securityGroupRuleSet",                                  \
		.id_field = "securityGroupRuleId", .attrs = rule_attrs,         \
		.fill = rule_fill,                                              \
	}

static const struct ec2_map rule_attrs[] = { { "Ref", EC2_ID, NULL },
					     { "Id", EC2_ID, NULL },
					     { NULL, 0, NULL } };
const struct ec2_type ec2_row_sg_ingress =
	RULE_ROW("AWS::EC2::SecurityGroupIngress");
const struct ec2_type ec2_row_sg_egress =
	RULE_ROW("AWS::EC2::SecurityGroupEgress");

const struct provider prov_ec2_sg_ingress = {
	.type = "AWS::EC2::SecurityGroupIngress",
	.create = rule_create,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = rule_update,
	.delete = rule_delete,
};

const struct provider prov_ec2_sg_egress = {
	.type = "AWS::EC2::SecurityGroupEgress",
	.create = rule_create,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = rule_update,
	.delete = rule_delete,
};
