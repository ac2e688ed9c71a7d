/*
 * AWS::EC2::VPC, Subnet, InternetGateway, VPCGatewayAttachment, EIP,
 * RouteTable, Route and SubnetRouteTableAssociation.
 *
 * CloudFormation's Ref / GetAtt: VPC Ref = VpcId (GetAtt CidrBlock,
 * CidrBlockAssociations, DefaultNetworkAcl, DefaultSecurityGroup,
 * Ipv6CidrBlocks, VpcId); Subnet Ref = SubnetId (AvailabilityZone,
 * AvailabilityZoneId, CidrBlock, Ipv6CidrBlocks, SubnetId, VpcId); IGW Ref =
 * id (InternetGatewayId); EIP Ref = PublicIp (AllocationId, PublicIp);
 * RouteTable Ref = id (RouteTableId); Route Ref = "rtb-x|cidr" (CidrBlock);
 * association Ref = association id (Id); attachment Ref = "igw-x|vpc-y"
 * (AttachmentType, VpcId).
 */
#include <stdio.h>
#include <string.h>

#include "prov_int.h"

static const char *const vpc_nf[] = { "InvalidVpcID.NotFound", NULL };
static const char *const subnet_nf[] = { "InvalidSubnetID.NotFound", NULL };
static const char *const dep_violation[] = { "DependencyViolation", NULL };

/* Long waits (ENIs draining, addresses unmapped) are bounded by the
 * operation's deadline; short ones (new id not yet visible) by this. */
#define NEW_ID_SECONDS 120.0
#define DRAIN_SECONDS (20.0 * 60.0)

static void prop_str(struct provider_ctx *ctx, struct value *props,
		     const char *k, const struct value *item, const char *f)
{
	ps(ctx->arena, props, k, pv_str(item, f));
}

static void prop_bool(struct provider_ctx *ctx, struct value *props,
		      const char *k, const struct value *item, const char *f)
{
	const char *s = pv_str(item, f);

	if (s)
		pb(ctx->arena, props, k, !strcmp(s, "true"));
	else if (pv(item, f) && pv(item, f)->kind == VALUE_BOOL)
		pb(ctx->arena, props, k, pv(item, f)->u.b);
}

static void prop_tags(struct provider_ctx *ctx, struct value *props,
		      const struct value *item)
{
	struct value *t = tags_from_aws(ctx->arena, pv(item, "tagSet"), "key",
					"value");
	if (t)
		value_map_set(ctx->arena, props, "Tags", t);
}

static int gone_ok(struct err *err)
{
	if (err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 0;
	}
	return -1;
}

/* ================================================================ VPC */

static int vpc_attr(struct provider_ctx *ctx, const char *id, const char *attr,
		    bool *out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *v;
	char path[64];

	ps(ctx->arena, p, "VpcId", id);
	ps(ctx->arena, p, "Attribute", attr);
	r = pcall_retry(ctx, "ec2", "DescribeVpcAttribute", p, vpc_nf,
			NEW_ID_SECONDS, err);
	if (!r)
		return -1;
	snprintf(path, sizeof(path), "%c%s.value", attr[0], attr + 1);
	v = value_get_path(r, path);
	*out = v && ((v->kind == VALUE_STRING && !strcmp(v->u.str.s, "true")) ||
		     (v->kind == VALUE_BOOL && v->u.b));
	return 0;
}

/* Describe op filtered on every vpc id plus name=value; the item list. */
static const struct value *vpc_defaults(struct provider_ctx *ctx, size_t n,
					const char *const *ids, const char *op,
					const char *name, const char *value,
					const char *set, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a);
	struct value *f = value_new_map(a), *vals = value_new_list(a), *r;
	size_t i;

	for (i = 0; i < n; i++)
		value_list_push(a, vals, value_new_string(a, ids[i]));
	ps(a, f, "Name", "vpc-id");
	value_map_set(a, f, "Values", vals);
	value_list_push(a, fl, f);
	ec2_filter(a, fl, name, value);
	value_map_set(a, p, "Filters", fl);
	r = pcall_all(ctx, "ec2", op, p, set, err);
	return r ? aws_get_list(a, r, set, err) : NULL;
}

static const char *by_vpc(const struct value *items, const char *vpc,
			  const char *field)
{
	size_t i;

	for (i = 0; items && i < items->u.list.n; i++) {
		const char *v = pv_str(items->u.list.items[i], "vpcId");
		if (v && !strcmp(v, vpc))
			return pv_str(items->u.list.items[i], field);
	}
	return NULL;
}

/* DescribeInternetGateways filtered on attachment to any of the VPCs. */
static const struct value *vpc_igws(struct provider_ctx *ctx, size_t n,
				    const char *const *ids, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a);
	struct value *f = value_new_map(a), *vals = value_new_list(a), *r;
	size_t i;

	for (i = 0; i < n; i++)
		value_list_push(a, vals, value_new_string(a, ids[i]));
	ps(a, f, "Name", "attachment.vpc-id");
	value_map_set(a, f, "Values", vals);
	value_list_push(a, fl, f);
	value_map_set(a, p, "Filters", fl);
	r = pcall(ctx, "ec2", "DescribeInternetGateways", p, err);
	return r ? aws_get_list(a, r, "internetGatewaySet", err) : NULL;
}

static int vpc_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i;

	const struct value *sgs, *acls, *igws;

	if (!n)
		return 0;
	if (ec2_describe(ctx, "DescribeVpcs", "VpcIds", "vpcSet", "vpcId", n, ids,
			 found, err) < 0)
		return -1;
	/* GetAtt DefaultSecurityGroup / DefaultNetworkAcl: one call each for
	 * all the VPCs (the drift check reads many at once) */
	if (!(sgs = vpc_defaults(ctx, n, ids, "DescribeSecurityGroups",
				 "group-name", "default", "securityGroupInfo", err)))
		return -1;
	acls = vpc_defaults(ctx, n, ids, "DescribeNetworkAcls", "default", "true",
			    "networkAclSet", err);
	if (!acls) /* optional: an endpoint without network ACLs */
		acls = value_new_list(a);
	err_clear(err);
	/* the internet gateways attached to each (one call for all): the
	 * synthetic InternetGateways, whose items a VPCGatewayAttachment
	 * of the stack owns (src/providers/relations.c) */
	if (!(igws = vpc_igws(ctx, n, ids, err)))
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *it = found[i], *assoc;
		struct value *attrs, *props, *l;
		bool dns_s, dns_h;
		size_t j;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!it)
			continue;
		if (vpc_attr(ctx, ids[i], "enableDnsSupport", &dns_s, err) < 0 ||
		    vpc_attr(ctx, ids[i], "enableDnsHostnames", &dns_h, err) < 0)
			return -1;
		attrs = value_new_map(a);
		props = value_new_map(a);
		set_attr(ctx, attrs, "Ref", ids[i]);
		set_attr(ctx, attrs, "VpcId", ids[i]);
		set_attr(ctx, attrs, "CidrBlock", pv_str(it, "cidrBlock"));
		l = value_new_list(a);
		assoc = pv(it, "cidrBlockAssociationSet");
		for (j = 0; assoc && assoc->kind == VALUE_LIST && j < assoc->u.list.n; j++) {
			const char *aid = pv_str(assoc->u.list.items[j], "associationId");
			if (aid)
				value_list_push(a, l, value_new_string(a, aid));
		}
		value_map_set(a, attrs, "CidrBlockAssociations", l);
		value_map_set(a, attrs, "Ipv6CidrBlocks", value_new_list(a));
		set_attr(ctx, attrs, "DefaultSecurityGroup",
			 by_vpc(sgs, ids[i], "groupId"));
		set_attr(ctx, attrs, "DefaultNetworkAcl",
			 by_vpc(acls, ids[i], "networkAclId"));
		prop_str(ctx, props, "CidrBlock", it, "cidrBlock");
		prop_str(ctx, props, "InstanceTenancy", it, "instanceTenancy");
		pb(a, props, "EnableDnsSupport", dns_s);
		pb(a, props, "EnableDnsHostnames", dns_h);
		prop_tags(ctx, props, it);
		l = value_new_list(a);
		for (j = 0; j < igws->u.list.n; j++) {
			const struct value *g = igws->u.list.items[j];
			const struct value *at = pv(g, "attachmentSet");
			size_t k;
			for (k = 0; at && at->kind == VALUE_LIST && k < at->u.list.n; k++) {
				const char *v = pv_str(at->u.list.items[k], "vpcId");
				if (v && !strcmp(v, ids[i]) && pv_str(g, "internetGatewayId"))
					value_list_push(a, l, value_new_string(
						a, pv_str(g, "internetGatewayId")));
			}
		}
		if (l->u.list.n)
			value_map_set(a, props, "InternetGateways", l);
		outs[i].physical_id = arena_strdup(a, ids[i]);
		outs[i].attrs = attrs;
		outs[i].props = props;
	}
	return 0;
}

static int vpc_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_vpc, ctx, id, out, err);
}

static int vpc_set_dns(struct provider_ctx *ctx, const char *id,
		       const char *member, bool on, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "VpcId", id);
	pattr(ctx->arena, p, member, on);
	return pcall_retry(ctx, "ec2", "ModifyVpcAttribute", p, vpc_nf,
			   NEW_ID_SECONDS, err) ? 0 : -1;
}

/* DNS support must be on before hostnames can be, and off only after
 * hostnames are: one attribute per call, in that order. */
static int vpc_apply_dns(struct provider_ctx *ctx, const char *id,
			 const struct value *old_props,
			 const struct value *props, struct err *err)
{
	bool s_set = pv_has(props, "EnableDnsSupport");
	bool h_set = pv_has(props, "EnableDnsHostnames");
	bool s = pv_bool(props, "EnableDnsSupport", true);
	bool h = pv_bool(props, "EnableDnsHostnames", false);
	bool s_ch = old_props ? pv_changed(old_props, props, "EnableDnsSupport") : s_set;
	bool h_ch = old_props ? pv_changed(old_props, props, "EnableDnsHostnames") : h_set;

	if (h_ch && !h && vpc_set_dns(ctx, id, "EnableDnsHostnames", false, err) < 0)
		return -1;
	if (s_ch && vpc_set_dns(ctx, id, "EnableDnsSupport", s, err) < 0)
		return -1;
	if (h_ch && h && vpc_set_dns(ctx, id, "EnableDnsHostnames", true, err) < 0)
		return -1;
	return 0;
}

static int vpc_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *it;
	const char *id;

	if (!pv_str(props, "CidrBlock"))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "CidrBlock is required (IPAM pools are not supported)");
	ps(a, p, "CidrBlock", pv_str(props, "CidrBlock"));
	ps(a, p, "InstanceTenancy", pv_str(props, "InstanceTenancy"));
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "vpc", tags_with_token(ctx, props)));
	/* no idempotency token: never resent blindly after a lost answer */
	r = ec2_create_once(ctx, "CreateVpc", p, NULL, 0, "DescribeVpcs", "vpcSet",
			    "vpcId", &id, err);
	if ((!r && !id) || (r && !(id = aws_get_str(r, "vpc.vpcId", err))))
		return -1;
	if (vpc_apply_dns(ctx, id, NULL, props, err) < 0 ||
	    ec2_wait_state(ctx, "DescribeVpcs", "VpcIds", "vpcSet", "vpcId", id,
			   "state", "available", NULL, false, NEW_ID_SECONDS, &it,
			   err) < 0)
		return -1;
	if (vpc_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

/* The repair of an internet gateway attached outside the stack: the
 * refresh recorded it in the synthetic InternetGateways, which the
 * template never sets; detached here. */
static int vpc_detach_unowned(struct provider_ctx *ctx, const char *id,
			      const struct value *old_props,
			      const struct value *new_props, struct err *err)
{
	const struct value *o = pv(old_props, "InternetGateways");
	const struct value *nw = pv(new_props, "InternetGateways");
	size_t i, j;

	for (i = 0; o && o->kind == VALUE_LIST && i < o->u.list.n; i++) {
		const char *g = value_str(o->u.list.items[i]);
		struct value *p;
		bool keep = false;
		for (j = 0; nw && nw->kind == VALUE_LIST && j < nw->u.list.n; j++)
			keep = keep || (g && value_str(nw->u.list.items[j]) &&
					!strcmp(g, value_str(nw->u.list.items[j])));
		if (!g || keep)
			continue;
		p = value_new_map(ctx->arena);
		ps(ctx->arena, p, "InternetGatewayId", g);
		ps(ctx->arena, p, "VpcId", id);
		if (!pcall(ctx, "ec2", "DetachInternetGateway", p, err) &&
		    gone_ok(err) < 0)
			return -1;
	}
	return 0;
}

static int vpc_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	if (vpc_apply_dns(ctx, id, old_props, new_props, err) < 0 ||
	    ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    vpc_detach_unowned(ctx, id, old_props, new_props, err) < 0 ||
	    vpc_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int vpc_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "VpcId", id);
	if (!pcall_retry(ctx, "ec2", "DeleteVpc", p, dep_violation, DRAIN_SECONDS,
			 err))
		return gone_ok(err);
	return 0;
}

static int vpc_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	(void)props;
	return ec2_find_by_tags(&prov_ec2_vpc, ctx,
				"DescribeVpcs", "vpcSet", "vpcId", out, err);
}

const struct provider prov_ec2_vpc = {
	.type = "AWS::EC2::VPC",
	.create = vpc_create,
	.read = vpc_read,
	.read_many = vpc_read_many,
	.update = vpc_update,
	.delete = vpc_delete,
	.find = vpc_find,
};

/* ============================================================= Subnet */

static int subnet_read_many(struct provider_ctx *ctx, size_t n,
			    const char *const *ids, struct provider_result *outs,
			    struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeSubnets", "SubnetIds", "subnetSet",
			 "subnetId", n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *it = found[i];
		struct value *attrs, *props;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!it)
			continue;
		attrs = value_new_map(a);
		props = value_new_map(a);
		set_attr(ctx, attrs, "Ref", ids[i]);
		set_attr(ctx, attrs, "SubnetId", ids[i]);
		set_attr(ctx, attrs, "VpcId", pv_str(it, "vpcId"));
		set_attr(ctx, attrs, "CidrBlock", pv_str(it, "cidrBlock"));
		set_attr(ctx, attrs, "AvailabilityZone", pv_str(it, "availabilityZone"));
		set_attr(ctx, attrs, "AvailabilityZoneId",
			 pv_str(it, "availabilityZoneId"));
		value_map_set(a, attrs, "Ipv6CidrBlocks", value_new_list(a));
		prop_str(ctx, props, "VpcId", it, "vpcId");
		prop_str(ctx, props, "CidrBlock", it, "cidrBlock");
		prop_str(ctx, props, "AvailabilityZone", it, "availabilityZone");
		prop_bool(ctx, props, "MapPublicIpOnLaunch", it, "mapPublicIpOnLaunch");
		prop_tags(ctx, props, it);
		outs[i].physical_id = arena_strdup(a, ids[i]);
		outs[i].attrs = attrs;
		outs[i].props = props;
	}
	return 0;
}

static int subnet_read(struct provider_ctx *ctx, const char *id,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_subnet, ctx, id, out, err);
}

static int subnet_map_public(struct provider_ctx *ctx, const char *id, bool on,
			     struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "SubnetId", id);
	pattr(ctx->arena, p, "MapPublicIpOnLaunch", on);
	return pcall_retry(ctx, "ec2", "ModifySubnetAttribute", p, subnet_nf,
			   NEW_ID_SECONDS, err) ? 0 : -1;
}

static int subnet_create(struct provider_ctx *ctx, const struct value *props,
			 struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *it;
	const char *id;

	ps(a, p, "VpcId", pv_str(props, "VpcId"));
	ps(a, p, "CidrBlock", pv_str(props, "CidrBlock"));
	ps(a, p, "AvailabilityZone", pv_str(props, "AvailabilityZone"));
	ps(a, p, "AvailabilityZoneId", pv_str(props, "AvailabilityZoneId"));
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "subnet", tags_with_token(ctx, props)));
	/* no idempotency token: a resent CreateSubnet would conflict with
	 * the CIDR of the one the lost attempt made */
	r = ec2_create_once(ctx, "CreateSubnet", p, vpc_nf, NEW_ID_SECONDS,
			    "DescribeSubnets", "subnetSet", "subnetId", &id, err);
	if ((!r && !id) || (r && !(id = aws_get_str(r, "subnet.subnetId", err))))
		return -1;
	if (pv_bool(props, "MapPublicIpOnLaunch", false) &&
	    subnet_map_public(ctx, id, true, err) < 0)
		return -1;
	if (ec2_wait_state(ctx, "DescribeSubnets", "SubnetIds", "subnetSet",
			   "subnetId", id, "state", "available", NULL, false,
			   NEW_ID_SECONDS, &it, err) < 0 ||
	    subnet_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int subnet_update(struct provider_ctx *ctx, const char *id,
			 const struct value *old_props,
			 const struct value *new_props, const struct value *attrs,
			 struct provider_result *out, struct err *err)
{
	(void)attrs;
	if (pv_changed(old_props, new_props, "MapPublicIpOnLaunch") &&
	    subnet_map_public(ctx, id,
			      pv_bool(new_props, "MapPublicIpOnLaunch", false),
			      err) < 0)
		return -1;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    subnet_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int subnet_delete(struct provider_ctx *ctx, const char *id,
			 const struct value *props, const struct value *attrs,
			 struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "SubnetId", id);
	prov_status(ctx, "deleting (waits while network interfaces drain)");
	if (!pcall_retry(ctx, "ec2", "DeleteSubnet", p, dep_violation,
			 DRAIN_SECONDS, err))
		return gone_ok(err);
	return 0;
}

static int subnet_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	(void)props;
	return ec2_find_by_tags(&prov_ec2_subnet, ctx,
				"DescribeSubnets", "subnetSet", "subnetId", out, err);
}

const struct provider prov_ec2_subnet = {
	.type = "AWS::EC2::Subnet",
	.create = subnet_create,
	.read = subnet_read,
	.read_many = subnet_read_many,
	.update = subnet_update,
	.delete = subnet_delete,
	.find = subnet_find,
};

/* ==================================================== InternetGateway */

static int igw_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeInternetGateways", "InternetGatewayIds",
			 "internetGatewaySet", "internetGatewayId", n, ids, found,
			 err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct value *attrs, *props;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!found[i])
			continue;
		attrs = value_new_map(a);
		props = value_new_map(a);
		set_attr(ctx, attrs, "Ref", ids[i]);
		set_attr(ctx, attrs, "InternetGatewayId", ids[i]);
		prop_tags(ctx, props, found[i]);
		outs[i].physical_id = arena_strdup(a, ids[i]);
		outs[i].attrs = attrs;
		outs[i].props = props;
	}
	return 0;
}

static int igw_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_igw, ctx, id, out, err);
}

static int igw_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *id;

	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "internet-gateway", tags_with_token(ctx, props)));
	/* no idempotency token: never resent blindly after a lost answer */
	r = ec2_create_once(ctx, "CreateInternetGateway", p, NULL, 0,
			    "DescribeInternetGateways", "internetGatewaySet",
			    "internetGatewayId", &id, err);
	if ((!r && !id) ||
	    (r && !(id = aws_get_str(r, "internetGateway.internetGatewayId", err))))
		return -1;
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "InternetGatewayId", id);
	return 0;
}

static int igw_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "InternetGatewayId", id);
	return 0;
}

static int igw_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "InternetGatewayId", id);
	if (!pcall_retry(ctx, "ec2", "DeleteInternetGateway", p, dep_violation,
			 DRAIN_SECONDS, err))
		return gone_ok(err);
	return 0;
}

static int igw_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	(void)props;
	return ec2_find_by_tags(&prov_ec2_igw, ctx,
				"DescribeInternetGateways", "internetGatewaySet", "internetGatewayId", out, err);
}

const struct provider prov_ec2_igw = {
	.type = "AWS::EC2::InternetGateway",
	.create = igw_create,
	.read = igw_read,
	.read_many = igw_read_many,
	.update = igw_update,
	.delete = igw_delete,
	.find = igw_find,
};

/* =============================================== VPCGatewayAttachment */

static const char *const attach_nf[] = { "InvalidInternetGatewayID.NotFound",
					 "InvalidVpcID.NotFound", NULL };
static const char *const detach_retry[] = { "DependencyViolation", NULL };

static void att_result(struct provider_ctx *ctx, const char *igw,
		       const char *vpc, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arena_sprintf(ctx->arena, "%s|%s", igw, vpc);
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", out->physical_id);
	set_attr(ctx, out->attrs, "AttachmentType", "InternetGateway");
	set_attr(ctx, out->attrs, "VpcId", vpc);
}

static int att_attach(struct provider_ctx *ctx, const char *igw,
		      const char *vpc, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InternetGatewayId", igw);
	ps(ctx->arena, p, "VpcId", vpc);
	if (pcall_retry(ctx, "ec2", "AttachInternetGateway", p, attach_nf,
			NEW_ID_SECONDS, err))
		return 0;
	/* a retried attach that already happened */
	if (!strcmp(err->aws_code, "Resource.AlreadyAssociated")) {
		struct provider_result r;
		struct err e2 = ERR_INIT;
		const char *id = arena_sprintf(ctx->arena, "%s|%s", igw, vpc);
		if (prov_ec2_gw_attachment.read(ctx, id, NULL, &r, &e2) == 0) {
			err_clear(err);
			return 0;
		}
	}
	return -1;
}

static int att_detach(struct provider_ctx *ctx, const char *igw,
		      const char *vpc, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InternetGatewayId", igw);
	ps(ctx->arena, p, "VpcId", vpc);
	prov_status(ctx, "detaching (waits while public addresses are mapped)");
	if (pcall_retry(ctx, "ec2", "DetachInternetGateway", p, detach_retry,
			DRAIN_SECONDS, err))
		return 0;
	if (!strcmp(err->aws_code, "Gateway.NotAttached") ||
	    err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 0;
	}
	return -1;
}

static int att_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	const char *igw = pv_str(props, "InternetGatewayId");
	const char *vpc = pv_str(props, "VpcId");

	if (pv_has(props, "VpnGatewayId"))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "VpnGatewayId is not supported");
	if (!igw || !vpc)
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "InternetGatewayId and VpcId are required");
	if (att_attach(ctx, igw, vpc, err) < 0)
		return -1;
	att_result(ctx, igw, vpc, out);
	return 0;
}

static int att_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const char **igws = arena_alloc(a, (n + 1) * sizeof(*igws));
	const char **vpcs = arena_alloc(a, (n + 1) * sizeof(*vpcs));
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i, j, m = 0;

	for (i = 0; i < n; i++) {
		if (!split_id(a, ids[i], &igws[i], &vpcs[i]))
			return prov_fail(ctx, err, ERR_STATEDB,
					 "bad attachment id \"%s\"", ids[i]);
	}
	for (i = 0; i < n; i++)
		m++;
	if (ec2_describe(ctx, "DescribeInternetGateways", "InternetGatewayIds",
			 "internetGatewaySet", "internetGatewayId", m, igws, found,
			 err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *att = found[i] ? pv(found[i], "attachmentSet") : NULL;
		memset(&outs[i], 0, sizeof(outs[i]));
		for (j = 0; att && att->kind == VALUE_LIST && j < att->u.list.n; j++) {
			const struct value *e = att->u.list.items[j];
			const char *v = pv_str(e, "vpcId"), *st = pv_str(e, "state");
			if (v && !strcmp(v, vpcs[i]) && st &&
			    (!strcmp(st, "available") || !strcmp(st, "attached") ||
			     !strcmp(st, "attaching"))) {
				att_result(ctx, igws[i], vpcs[i], &outs[i]);
				outs[i].props = value_new_map(a);
				ps(a, outs[i].props, "InternetGatewayId", igws[i]);
				ps(a, outs[i].props, "VpcId", vpcs[i]);
			}
		}
	}
	return 0;
}

static int att_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_gw_attachment, ctx, id, out, err);
}

static int att_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	const char *igw, *vpc;
	const char *nigw = pv_str(new_props, "InternetGatewayId");

	(void)old_props;
	(void)attrs;
	if (!split_id(ctx->arena, id, &igw, &vpc))
		return prov_fail(ctx, err, ERR_STATEDB, "bad attachment id \"%s\"", id);
	if (nigw && strcmp(nigw, igw)) {
		if (att_detach(ctx, igw, vpc, err) < 0 ||
		    att_attach(ctx, nigw, vpc, err) < 0)
			return -1;
		igw = nigw;
	}
	att_result(ctx, igw, vpc, out);
	return 0;
}

static int att_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	const char *igw, *vpc;

	(void)props;
	(void)attrs;
	if (!split_id(ctx->arena, id, &igw, &vpc))
		return prov_fail(ctx, err, ERR_STATEDB, "bad attachment id \"%s\"", id);
	return att_detach(ctx, igw, vpc, err);
}

const struct provider prov_ec2_gw_attachment = {
	.type = "AWS::EC2::VPCGatewayAttachment",
	.create = att_create,
	.read = att_read,
	.read_many = att_read_many,
	.update = att_update,
	.delete = att_delete,
};

/* ================================================================ EIP */

static int eip_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeAddresses", "AllocationIds", "addressesSet",
			 "allocationId", n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *it = found[i];
		struct value *attrs, *props;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!it)
			continue;
		attrs = value_new_map(a);
		props = value_new_map(a);
		set_attr(ctx, attrs, "Ref", pv_str(it, "publicIp"));
		set_attr(ctx, attrs, "PublicIp", pv_str(it, "publicIp"));
		set_attr(ctx, attrs, "AllocationId", ids[i]);
		prop_str(ctx, props, "Domain", it, "domain");
		prop_str(ctx, props, "NetworkBorderGroup", it, "networkBorderGroup");
		prop_str(ctx, props, "InstanceId", it, "instanceId");
		prop_tags(ctx, props, it);
		outs[i].physical_id = arena_strdup(a, ids[i]);
		outs[i].attrs = attrs;
		outs[i].props = props;
	}
	return 0;
}

static int eip_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_eip, ctx, id, out, err);
}

/* The address's association with an instance (InstanceId): associate
 * with instance (AllowReassociation: the address is the stack's), or with
 * instance NULL drop the current one. Gateway.NotAttached (the VPC's
 * internet gateway attachment not visible yet) is retried briefly. */
static int eip_associate(struct provider_ctx *ctx, const char *id,
			 const char *instance, struct err *err)
{
	static const char *const early[] = { "Gateway.NotAttached",
					     "IncorrectInstanceState",
					     "InvalidInstanceID.NotFound", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *ids;
	const struct value *l;
	const char *assoc;

	ps(a, p, "AllocationId", id);
	if (instance) {
		ps(a, p, "InstanceId", instance);
		pb(a, p, "AllowReassociation", true);
		return pcall_retry(ctx, "ec2", "AssociateAddress", p, early,
				   60.0, err) ? 0 : -1;
	}
	ids = value_new_list(a);
	value_list_push(a, ids, value_new_string(a, id));
	p = value_new_map(a);
	value_map_set(a, p, "AllocationIds", ids);
	if (!(r = pcall(ctx, "ec2", "DescribeAddresses", p, err)))
		return gone_ok(err);
	l = value_map_get(r, "addressesSet");
	if (!l || l->kind != VALUE_LIST || !l->u.list.n ||
	    !(assoc = pv_str(l->u.list.items[0], "associationId")) ||
	    !pv_str(l->u.list.items[0], "instanceId"))
		return 0;
	p = value_new_map(a);
	ps(a, p, "AssociationId", assoc);
	if (!pcall(ctx, "ec2", "DisassociateAddress", p, err))
		return gone_ok(err);
	return 0;
}

static int eip_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *id, *ip;

	ps(a, p, "Domain", "vpc");
	ps(a, p, "NetworkBorderGroup", pv_str(props, "NetworkBorderGroup"));
	ps(a, p, "PublicIpv4Pool", pv_str(props, "PublicIpv4Pool"));
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "elastic-ip", tags_with_token(ctx, props)));
	/* no idempotency token: a resent AllocateAddress after a lost answer
	 * would leave an address (quota, money) behind */
	r = ec2_create_once(ctx, "AllocateAddress", p, NULL, 0, "DescribeAddresses",
			    "addressesSet", "allocationId", &id, err);
	if (!r && id) {
		/* found by its tag after a lost answer; a read by id may not
		 * see the new address yet (EC2's eventual consistency) */
		double dl = prov_deadline(ctx, NEW_ID_SECONDS);
		int attempt = 0;
		while (read_via_many(&prov_ec2_eip, ctx, id, out, err) < 0) {
			if (err->code != ERR_NOT_FOUND ||
			    prov_sleep_until(ctx, &attempt, dl,
					     "address visible", err) < 0)
				return -1;
			err_clear(err);
		}
		out->props = NULL;
		return pv_str(props, "InstanceId") ?
			eip_associate(ctx, id, pv_str(props, "InstanceId"), err) : 0;
	}
	if (!r || !(id = aws_get_str(r, "allocationId", err)) ||
	    !(ip = aws_get_str(r, "publicIp", err)))
		return -1;
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", ip);
	set_attr(ctx, out->attrs, "PublicIp", ip);
	set_attr(ctx, out->attrs, "AllocationId", id);
	/* the address is recorded with the failure: the next run's update
	 * associates it */
	if (pv_str(props, "InstanceId"))
		return eip_associate(ctx, id, pv_str(props, "InstanceId"), err);
	return 0;
}

static int eip_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	if (pv_changed(old_props, new_props, "InstanceId") &&
	    eip_associate(ctx, id, pv_str(new_props, "InstanceId"), err) < 0)
		return -1;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    eip_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int eip_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	static const char *const busy[] = { "AuthFailure", "InvalidIPAddress.InUse",
					    NULL };
	struct value *p = value_new_map(ctx->arena);

	(void)attrs;
	/* an address associated with an instance is released only once
	 * disassociated (EC2: InvalidIPAddress.InUse) */
	if (pv_str(props, "InstanceId") && eip_associate(ctx, id, NULL, err) < 0)
		return -1;
	ps(ctx->arena, p, "AllocationId", id);
	/* a NAT gateway being deleted still holds the address for a while */
	if (!pcall_retry(ctx, "ec2", "ReleaseAddress", p, busy, 300.0, err))
		return gone_ok(err);
	return 0;
}

static int eip_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	(void)props;
	return ec2_find_by_tags(&prov_ec2_eip, ctx,
				"DescribeAddresses", "addressesSet", "allocationId", out, err);
}

const struct provider prov_ec2_eip = {
	.type = "AWS::EC2::EIP",
	.create = eip_create,
	.read = eip_read,
	.read_many = eip_read_many,
	.update = eip_update,
	.delete = eip_delete,
	.find = eip_find,
};

/* ========================================================= RouteTable */

/*
 * What is in a table that CloudFormation declares elsewhere, reported so
 * the refresh can tell whose each item is (src/providers/relations.c):
 * "Routes" (every route, in AWS::EC2::Route's shape; the local route
 * keeps GatewayId "local", a propagated one says Propagated) and
 * "SubnetAssociations" (the explicit subnet associations, not the main
 * table's implicit one). Neither is a CloudFormation property.
 */
static void rtb_links(struct provider_ctx *ctx, const struct value *it,
		      struct value *props)
{
	static const char *const dests[][2] = {
		{ "destinationCidrBlock", "DestinationCidrBlock" },
		{ "destinationIpv6CidrBlock", "DestinationIpv6CidrBlock" },
		{ "destinationPrefixListId", "DestinationPrefixListId" },
	};
	static const char *const targets[][2] = {
		{ "gatewayId", "GatewayId" },
		{ "natGatewayId", "NatGatewayId" },
		{ "instanceId", "InstanceId" },
		{ "networkInterfaceId", "NetworkInterfaceId" },
		{ "transitGatewayId", "TransitGatewayId" },
		{ "vpcPeeringConnectionId", "VpcPeeringConnectionId" },
		{ "egressOnlyInternetGatewayId", "EgressOnlyInternetGatewayId" },
		{ "carrierGatewayId", "CarrierGatewayId" },
		{ "localGatewayId", "LocalGatewayId" },
	};
	struct arena *a = ctx->arena;
	const struct value *rs = pv(it, "routeSet"), *as = pv(it, "associationSet");
	struct value *routes = value_new_list(a), *assocs = value_new_list(a);
	size_t i, k;

	for (i = 0; rs && rs->kind == VALUE_LIST && i < rs->u.list.n; i++) {
		const struct value *r = rs->u.list.items[i];
		struct value *m = value_new_map(a);
		const char *origin = pv_str(r, "origin");
		for (k = 0; k < sizeof(dests) / sizeof(dests[0]); k++)
			ps(a, m, dests[k][1], pv_str(r, dests[k][0]));
		for (k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
			const char *t = pv_str(r, targets[k][0]);
			if (!t)
				continue;
			/* a gateway endpoint's route names it as gatewayId */
			ps(a, m, strncmp(t, "vpce-", 5) ? targets[k][1]
							: "VpcEndpointId", t);
		}
		if (origin && !strcmp(origin, "EnableVgwRoutePropagation"))
			pb(a, m, "Propagated", true);
		value_list_push(a, routes, m);
	}
	for (i = 0; as && as->kind == VALUE_LIST && i < as->u.list.n; i++) {
		const struct value *e = as->u.list.items[i];
		const char *st = value_str(value_get_path(e, "associationState.state"));
		struct value *m;
		if (!pv_str(e, "subnetId") ||
		    (st && (!strcmp(st, "disassociated") || !strcmp(st, "failed"))))
			continue;
		m = value_new_map(a);
		ps(a, m, "SubnetId", pv_str(e, "subnetId"));
		value_list_push(a, assocs, m);
	}
	if (routes->u.list.n)
		value_map_set(a, props, "Routes", routes);
	if (assocs->u.list.n)
		value_map_set(a, props, "SubnetAssociations", assocs);
}

static int rtb_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeRouteTables", "RouteTableIds",
			 "routeTableSet", "routeTableId", n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct value *attrs, *props;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!found[i])
			continue;
		attrs = value_new_map(a);
		props = value_new_map(a);
		set_attr(ctx, attrs, "Ref", ids[i]);
		set_attr(ctx, attrs, "RouteTableId", ids[i]);
		prop_str(ctx, props, "VpcId", found[i], "vpcId");
		prop_tags(ctx, props, found[i]);
		rtb_links(ctx, found[i], props);
		outs[i].physical_id = arena_strdup(a, ids[i]);
		outs[i].attrs = attrs;
		outs[i].props = props;
	}
	return 0;
}

static int rtb_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_route_table, ctx, id, out, err);
}

static int rtb_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *id;

	ps(a, p, "VpcId", pv_str(props, "VpcId"));
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "route-table", tags_with_token(ctx, props)));
	/* CreateRouteTable takes a ClientToken in the current EC2 API; an
	 * endpoint of the 2023 API refuses it (UnknownParameter: nothing was
	 * made), and the create goes again without it. Either way it is never
	 * resent blindly after a lost answer. */
	ps(a, p, "ClientToken", ctx->token);
	r = ec2_create_once(ctx, "CreateRouteTable", p, vpc_nf, NEW_ID_SECONDS,
			    "DescribeRouteTables", "routeTableSet", "routeTableId",
			    &id, err);
	if (!r && !id && !strcmp(err->aws_code, "UnknownParameter") &&
	    strstr(err->msg, "ClientToken")) {
		err_clear(err);
		value_map_del(p, "ClientToken");
		r = ec2_create_once(ctx, "CreateRouteTable", p, vpc_nf,
				    NEW_ID_SECONDS, "DescribeRouteTables",
				    "routeTableSet", "routeTableId", &id, err);
	}
	if ((!r && !id) ||
	    (r && !(id = aws_get_str(r, "routeTable.routeTableId", err))))
		return -1;
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "RouteTableId", id);
	return 0;
}

/* An item of the old list whose key the new list lacks. */
static bool dropped(const struct value *item, const struct value *new_list,
		    const char *const *fields)
{
	size_t i, k;

	for (i = 0; new_list && new_list->kind == VALUE_LIST &&
		    i < new_list->u.list.n; i++) {
		bool same = true;
		for (k = 0; fields[k] && same; k++) {
			const char *x = pv_str(item, fields[k]);
			const char *y = pv_str(new_list->u.list.items[i], fields[k]);
			same = (!x && !y) || (x && y && !strcmp(x, y));
		}
		if (same)
			return false;
	}
	return true;
}

/*
 * The repair of what nobody in the stack declares: routes and subnet
 * associations the refresh recorded in the synthetic Routes /
 * SubnetAssociations (the template never sets them) are removed.
 */
static int rtb_unlink(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props,
		      const struct value *new_props, struct err *err)
{
	static const char *const rfields[] = { "DestinationCidrBlock",
					       "DestinationIpv6CidrBlock",
					       "DestinationPrefixListId", NULL };
	static const char *const afields[] = { "SubnetId", NULL };
	struct arena *a = ctx->arena;
	const struct value *ol = pv(old_props, "Routes");
	const struct value *oa = pv(old_props, "SubnetAssociations");
	const struct value *tables = NULL;
	size_t i, j, k;

	for (i = 0; ol && ol->kind == VALUE_LIST && i < ol->u.list.n; i++) {
		const struct value *r = ol->u.list.items[i];
		const char *g = pv_str(r, "GatewayId");
		struct value *p;
		/* AWS's own routes, should old_props be a raw read (the
		 * adoption of a table a crashed run created) */
		if ((g && !strcmp(g, "local")) || pv_bool(r, "Propagated", false) ||
		    pv_str(r, "VpcEndpointId") ||
		    !dropped(r, pv(new_props, "Routes"), rfields))
			continue;
		p = value_new_map(a);
		ps(a, p, "RouteTableId", id);
		for (k = 0; rfields[k]; k++)
			ps(a, p, rfields[k], pv_str(r, rfields[k]));
		if (!pcall(ctx, "ec2", "DeleteRoute", p, err) && gone_ok(err) < 0)
			return -1;
	}
	for (i = 0; oa && oa->kind == VALUE_LIST && i < oa->u.list.n; i++) {
		const char *subnet = pv_str(oa->u.list.items[i], "SubnetId");
		if (!subnet || !dropped(oa->u.list.items[i],
					pv(new_props, "SubnetAssociations"),
					afields))
			continue;
		if (!tables) { /* the association ids, read once */
			struct value *p = value_new_map(a), *r;
			value_map_set(a, p, "RouteTableIds", str_list1(a, id));
			r = pcall(ctx, "ec2", "DescribeRouteTables", p, err);
			if (!r || !(tables = aws_get_list(a, r, "routeTableSet", err)))
				return -1;
		}
		for (j = 0; j < tables->u.list.n; j++) {
			const struct value *as = pv(tables->u.list.items[j],
						    "associationSet");
			for (k = 0; as && as->kind == VALUE_LIST && k < as->u.list.n; k++) {
				const struct value *e = as->u.list.items[k];
				struct value *p;
				if (!pv_str(e, "subnetId") ||
				    strcmp(pv_str(e, "subnetId"), subnet))
					continue;
				p = value_new_map(a);
				ps(a, p, "AssociationId",
				   pv_str(e, "routeTableAssociationId"));
				if (!pcall(ctx, "ec2", "DisassociateRouteTable", p,
					   err) && gone_ok(err) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static int rtb_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    rtb_unlink(ctx, id, old_props, new_props, err) < 0 ||
	    rtb_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int rtb_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "RouteTableId", id);
	if (!pcall_retry(ctx, "ec2", "DeleteRouteTable", p, dep_violation,
			 DRAIN_SECONDS, err))
		return gone_ok(err);
	return 0;
}

static int rtb_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	(void)props;
	return ec2_find_by_tags(&prov_ec2_route_table, ctx,
				"DescribeRouteTables", "routeTableSet", "routeTableId", out, err);
}

const struct provider prov_ec2_route_table = {
	.type = "AWS::EC2::RouteTable",
	.create = rtb_create,
	.read = rtb_read,
	.read_many = rtb_read_many,
	.update = rtb_update,
	.delete = rtb_delete,
	.find = rtb_find,
};

/* ============================================================== Route */

/* template property -> DescribeRouteTables field */
static const struct {
	const char *prop, *field;
} route_targets[] = {
	{ "GatewayId", "gatewayId" },
	{ "NatGatewayId", "natGatewayId" },
	{ "VpcEndpointId", "gatewayId" },
	{ "InstanceId", "instanceId" },
	{ "NetworkInterfaceId", "networkInterfaceId" },
	{ "TransitGatewayId", "transitGatewayId" },
	{ "VpcPeeringConnectionId", "vpcPeeringConnectionId" },
	{ "EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId" },
	{ "CarrierGatewayId", "carrierGatewayId" },
	{ "LocalGatewayId", "localGatewayId" },
};
#define N_TARGETS (sizeof(route_targets) / sizeof(route_targets[0]))

static const char *route_dest(const struct value *props, const char **member)
{
	const char *d = pv_str(props, "DestinationCidrBlock");

	*member = "DestinationCidrBlock";
	if (!d) {
		d = pv_str(props, "DestinationIpv6CidrBlock");
		*member = "DestinationIpv6CidrBlock";
	}
	return d;
}

static int route_target(struct provider_ctx *ctx, const struct value *props,
			size_t *which, struct err *err)
{
	size_t i, found = 0;

	for (i = 0; i < N_TARGETS; i++)
		if (pv_str(props, route_targets[i].prop)) {
			*which = i;
			found++;
		}
	if (found != 1)
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "exactly one route target (GatewayId, NatGatewayId, "
				 "...) is required, found %zu", found);
	return 0;
}

static void route_params(struct provider_ctx *ctx, struct value *p,
			 const struct value *props, size_t which)
{
	const char *member, *d = route_dest(props, &member);

	ps(ctx->arena, p, "RouteTableId", pv_str(props, "RouteTableId"));
	ps(ctx->arena, p, member, d);
	ps(ctx->arena, p, route_targets[which].prop,
	   pv_str(props, route_targets[which].prop));
}

/* The route for dest in a table item, or NULL. */
static const struct value *route_in(const struct value *rtb, const char *dest)
{
	const struct value *rs = rtb ? pv(rtb, "routeSet") : NULL;
	size_t i;

	for (i = 0; rs && rs->kind == VALUE_LIST && i < rs->u.list.n; i++) {
		const struct value *r = rs->u.list.items[i];
		const char *d = pv_str(r, "destinationCidrBlock");
		if (!d)
			d = pv_str(r, "destinationIpv6CidrBlock");
		if (d && !strcmp(d, dest))
			return r;
	}
	return NULL;
}

static void route_result(struct provider_ctx *ctx, const char *rtb,
			 const char *dest, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arena_sprintf(ctx->arena, "%s|%s", rtb, dest);
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", out->physical_id);
	set_attr(ctx, out->attrs, "CidrBlock", dest);
}

static int route_read_many(struct provider_ctx *ctx, size_t n,
			   const char *const *ids, struct provider_result *outs,
			   struct err *err)
{
	struct arena *a = ctx->arena;
	const char **rtbs = arena_alloc(a, (n + 1) * sizeof(*rtbs));
	const char **dests = arena_alloc(a, (n + 1) * sizeof(*dests));
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i, k;

	for (i = 0; i < n; i++)
		if (!split_id(a, ids[i], &rtbs[i], &dests[i]))
			return prov_fail(ctx, err, ERR_STATEDB, "bad route id \"%s\"",
					 ids[i]);
	if (ec2_describe(ctx, "DescribeRouteTables", "RouteTableIds",
			 "routeTableSet", "routeTableId", n, rtbs, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *r = route_in(found[i], dests[i]);
		struct value *props;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!r)
			continue;
		route_result(ctx, rtbs[i], dests[i], &outs[i]);
		props = value_new_map(a);
		ps(a, props, "RouteTableId", rtbs[i]);
		ps(a, props, strchr(dests[i], ':') ? "DestinationIpv6CidrBlock"
						   : "DestinationCidrBlock",
		   dests[i]);
		for (k = 0; k < N_TARGETS; k++) {
			const char *t = pv_str(r, route_targets[k].field);
			if (!t || !strcmp(t, "local"))
				continue;
			/* gateway endpoints are reported as gatewayId vpce-... */
			if (!strcmp(route_targets[k].prop, "GatewayId") &&
			    !strncmp(t, "vpce-", 5))
				continue;
			if (!strcmp(route_targets[k].prop, "VpcEndpointId") &&
			    strncmp(t, "vpce-", 5))
				continue;
			ps(a, props, route_targets[k].prop, t);
		}
		outs[i].props = props;
	}
	return 0;
}

static int route_read(struct provider_ctx *ctx, const char *id,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_route, ctx, id, out, err);
}

static const char *const route_nf[] = { "InvalidNatGatewayID.NotFound",
					"InvalidRouteTableID.NotFound",
					"InvalidGatewayID.NotFound",
					"InvalidVpcEndpointId.NotFound", NULL };

static int route_create(struct provider_ctx *ctx, const struct value *props,
			struct provider_result *out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);
	const char *member, *dest = route_dest(props, &member);
	const char *rtb = pv_str(props, "RouteTableId");
	size_t which = 0;

	if (!dest || !rtb)
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "RouteTableId and DestinationCidrBlock are required");
	if (route_target(ctx, props, &which, err) < 0)
		return -1;
	route_params(ctx, p, props, which);
	if (!pcall_retry(ctx, "ec2", "CreateRoute", p, route_nf, NEW_ID_SECONDS,
			 err)) {
		struct provider_result cur;
		struct err e2 = ERR_INIT;
		const char *want = pv_str(props, route_targets[which].prop);
		const char *have;
		if (strcmp(err->aws_code, "RouteAlreadyExists"))
			return -1;
		/* a retry of our own create: success if it points where we want */
		if (route_read(ctx, arena_sprintf(ctx->arena, "%s|%s", rtb, dest),
			       NULL, &cur, &e2) < 0)
			return -1;
		have = pv_str(cur.props, route_targets[which].prop);
		if (!have || strcmp(have, want))
			return -1;
		err_clear(err);
	}
	route_result(ctx, rtb, dest, out);
	return 0;
}

static int route_update(struct provider_ctx *ctx, const char *id,
			const struct value *old_props,
			const struct value *new_props, const struct value *attrs,
			struct provider_result *out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);
	const char *rtb, *dest;
	size_t which = 0;

	(void)old_props;
	(void)attrs;
	if (!split_id(ctx->arena, id, &rtb, &dest))
		return prov_fail(ctx, err, ERR_STATEDB, "bad route id \"%s\"", id);
	if (route_target(ctx, new_props, &which, err) < 0)
		return -1;
	route_params(ctx, p, new_props, which);
	ps(ctx->arena, p, "RouteTableId", rtb);
	if (!pcall_retry(ctx, "ec2", "ReplaceRoute", p, route_nf, NEW_ID_SECONDS,
			 err))
		return -1;
	route_result(ctx, rtb, dest, out);
	return 0;
}

static int route_delete(struct provider_ctx *ctx, const char *id,
			const struct value *props, const struct value *attrs,
			struct err *err)
{
	struct value *p = value_new_map(ctx->arena);
	const char *rtb, *dest;

	(void)props;
	(void)attrs;
	if (!split_id(ctx->arena, id, &rtb, &dest))
		return prov_fail(ctx, err, ERR_STATEDB, "bad route id \"%s\"", id);
	ps(ctx->arena, p, "RouteTableId", rtb);
	ps(ctx->arena, p,
	   strchr(dest, ':') ? "DestinationIpv6CidrBlock" : "DestinationCidrBlock",
	   dest);
	if (!pcall(ctx, "ec2", "DeleteRoute", p, err))
		return gone_ok(err);
	return 0;
}

const struct provider prov_ec2_route = {
	.type = "AWS::EC2::Route",
	.create = route_create,
	.read = route_read,
	.read_many = route_read_many,
	.update = route_update,
	.delete = route_delete,
};

/* ======================================== SubnetRouteTableAssociation */

static void assoc_result(struct provider_ctx *ctx, const char *id,
			 struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "Id", id);
}

static int assoc_read_many(struct provider_ctx *ctx, size_t n,
			   const char *const *ids, struct provider_result *outs,
			   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *vals, *r;
	struct value *f = value_new_map(a);
	const struct value *tables;
	size_t i, j, k;

	vals = value_new_list(a);
	for (i = 0; i < n; i++)
		value_list_push(a, vals, value_new_string(a, ids[i]));
	ps(a, f, "Name", "association.route-table-association-id");
	value_map_set(a, f, "Values", vals);
	value_list_push(a, fl, f);
	value_map_set(a, p, "Filters", fl);
	r = pcall_all(ctx, "ec2", "DescribeRouteTables", p, "routeTableSet", err);
	if (!r || !(tables = aws_get_list(a, r, "routeTableSet", err)))
		return -1;
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		for (j = 0; j < tables->u.list.n; j++) {
			const struct value *as = pv(tables->u.list.items[j],
						    "associationSet");
			for (k = 0; as && as->kind == VALUE_LIST && k < as->u.list.n; k++) {
				const struct value *e = as->u.list.items[k];
				const char *aid = pv_str(e, "routeTableAssociationId");
				const char *st = pv_str(e, "associationState.state");
				if (!aid || strcmp(aid, ids[i]))
					continue;
				st = value_str(value_get_path(e, "associationState.state"));
				if (st && (!strcmp(st, "disassociated") ||
					   !strcmp(st, "failed")))
					continue;
				assoc_result(ctx, arena_strdup(a, ids[i]), &outs[i]);
				outs[i].props = value_new_map(a);
				ps(a, outs[i].props, "RouteTableId",
				   pv_str(e, "routeTableId"));
				ps(a, outs[i].props, "SubnetId", pv_str(e, "subnetId"));
			}
		}
	}
	return 0;
}

static int assoc_read(struct provider_ctx *ctx, const char *id,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_subnet_rt_assoc, ctx, id, out, err);
}

/*
 * The repair of a subnet moved to another route table outside cairn
 * (ReplaceRouteTableAssociation gives the association a new id, so the
 * recorded one reads as gone and the plan creates it again): the subnet's
 * current explicit association is moved back to the template's table.
 * err holds AssociateRouteTable's Resource.AlreadyAssociated, returned
 * as it is when the subnet's association cannot be found.
 */
static int assoc_take_back(struct provider_ctx *ctx, const struct value *props,
			   struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *r;
	const struct value *tables;
	const char *subnet = pv_str(props, "SubnetId"), *aid = NULL, *id;
	struct err e2 = ERR_INIT;
	size_t j, k;

	ec2_filter(a, fl, "association.subnet-id", subnet);
	value_map_set(a, p, "Filters", fl);
	r = pcall(ctx, "ec2", "DescribeRouteTables", p, &e2);
	if (!r || !(tables = aws_get_list(a, r, "routeTableSet", &e2)))
		return -1;
	for (j = 0; j < tables->u.list.n && !aid; j++) {
		const struct value *as = pv(tables->u.list.items[j], "associationSet");
		for (k = 0; as && as->kind == VALUE_LIST && k < as->u.list.n; k++) {
			const struct value *e = as->u.list.items[k];
			if (pv_str(e, "subnetId") && !strcmp(pv_str(e, "subnetId"), subnet)) {
				aid = pv_str(e, "routeTableAssociationId");
				break;
			}
		}
	}
	if (!aid)
		return -1;
	prov_status(ctx, "moving the subnet back from another route table");
	err_clear(err);
	p = value_new_map(a);
	ps(a, p, "AssociationId", aid);
	ps(a, p, "RouteTableId", pv_str(props, "RouteTableId"));
	r = pcall(ctx, "ec2", "ReplaceRouteTableAssociation", p, err);
	if (!r || !(id = aws_get_str(r, "newAssociationId", err)))
		return -1;
	assoc_result(ctx, id, out);
	return 0;
}

static int assoc_create(struct provider_ctx *ctx, const struct value *props,
			struct provider_result *out, struct err *err)
{
	static const char *const nf[] = { "InvalidRouteTableID.NotFound",
					  "InvalidSubnetID.NotFound", NULL };
	struct value *p = value_new_map(ctx->arena), *r;
	const char *id;

	ps(ctx->arena, p, "RouteTableId", pv_str(props, "RouteTableId"));
	ps(ctx->arena, p, "SubnetId", pv_str(props, "SubnetId"));
	r = pcall_retry(ctx, "ec2", "AssociateRouteTable", p, nf, NEW_ID_SECONDS,
			err);
	if (!r && !strcmp(err->aws_code, "Resource.AlreadyAssociated"))
		return assoc_take_back(ctx, props, out, err);
	if (!r || !(id = aws_get_str(r, "associationId", err)))
		return -1;
	assoc_result(ctx, id, out);
	return 0;
}

/* The association a crashed run made: the subnet's association with this
 * route table (a subnet has at most one). */
static int assoc_find(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *r;
	const struct value *tables;
	const char *subnet = pv_str(props, "SubnetId");
	const char *rtb = pv_str(props, "RouteTableId");
	size_t j, k;

	if (!subnet || !rtb)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "nothing to look for");
	ec2_filter(a, fl, "association.subnet-id", subnet);
	ec2_filter(a, fl, "route-table-id", rtb);
	value_map_set(a, p, "Filters", fl);
	r = pcall_all(ctx, "ec2", "DescribeRouteTables", p, "routeTableSet", err);
	if (!r || !(tables = aws_get_list(a, r, "routeTableSet", err)))
		return -1;
	for (j = 0; j < tables->u.list.n; j++) {
		const struct value *as = pv(tables->u.list.items[j], "associationSet");
		for (k = 0; as && as->kind == VALUE_LIST && k < as->u.list.n; k++) {
			const struct value *e = as->u.list.items[k];
			const char *aid = pv_str(e, "routeTableAssociationId");
			const char *st = value_str(value_get_path(e, "associationState.state"));
			if (!aid || !pv_str(e, "subnetId") ||
			    strcmp(pv_str(e, "subnetId"), subnet) ||
			    (st && strcmp(st, "associated") && strcmp(st, "associating")))
				continue;
			assoc_result(ctx, arena_strdup(a, aid), out);
			return 0;
		}
	}
	return prov_fail(ctx, err, ERR_NOT_FOUND,
			 "subnet \"%s\" has no association with \"%s\"", subnet, rtb);
}

static int assoc_update(struct provider_ctx *ctx, const char *id,
			const struct value *old_props,
			const struct value *new_props, const struct value *attrs,
			struct provider_result *out, struct err *err)
{
	struct value *p, *r;
	const char *nid;

	(void)attrs;
	if (!pv_changed(old_props, new_props, "RouteTableId")) {
		assoc_result(ctx, id, out);
		return 0;
	}
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "AssociationId", id);
	ps(ctx->arena, p, "RouteTableId", pv_str(new_props, "RouteTableId"));
	r = pcall(ctx, "ec2", "ReplaceRouteTableAssociation", p, err);
	if (!r || !(nid = aws_get_str(r, "newAssociationId", err)))
		return -1;
	assoc_result(ctx, nid, out);
	return 0;
}

static int assoc_delete(struct provider_ctx *ctx, const char *id,
			const struct value *props, const struct value *attrs,
			struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "AssociationId", id);
	if (!pcall(ctx, "ec2", "DisassociateRouteTable", p, err))
		return gone_ok(err);
	return 0;
}

const struct provider prov_ec2_subnet_rt_assoc = {
	.type = "AWS::EC2::SubnetRouteTableAssociation",
	.create = assoc_create,
	.read = assoc_read,
	.read_many = assoc_read_many,
	.find = assoc_find,
	.update = assoc_update,
	.delete = assoc_delete,
};
