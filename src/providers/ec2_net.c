/*
 * AWS::EC2::VPC, Subnet, InternetGateway, VPCGatewayAttachment, EIP,
 * RouteTable, Route and SubnetRouteTableAssociation: each a row of the
 * EC2 table (ec2_table.h) plus what is its own.
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

#include "ec2_table.h"

static const char *const vpc_nf[] = { "InvalidVpcID.NotFound", NULL };
static const char *const subnet_nf[] = { "InvalidSubnetID.NotFound", NULL };
static const char *const dep_violation[] = { "DependencyViolation", NULL };

/* Long waits (ENIs draining, addresses unmapped) are bounded by the
 * operation's deadline; short ones (new id not yet visible) by this. */
#define NEW_ID_SECONDS 120.0
#define DRAIN_SECONDS (20.0 * 60.0)

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

/* Describe op filtered on name in every vpc id (plus name2=value2 when
 * name2 is not NULL); the item list. */
static const struct value *vpc_listing(struct provider_ctx *ctx, size_t n,
				       const char *const *ids, const char *op,
				       const char *name, const char *name2,
				       const char *value2, const char *set,
				       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *r;

	ec2_filter_in(a, fl, name, n, ids);
	if (name2)
		ec2_filter(a, fl, name2, value2);
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

/* The internet gateways of igws attached to vpc, as a list of ids. */
static struct value *vpc_gateways(struct arena *a, const struct value *igws,
				  const char *vpc)
{
	struct value *l = value_new_list(a);
	size_t j, k;

	for (j = 0; j < igws->u.list.n; j++) {
		const struct value *g = igws->u.list.items[j];
		const struct value *at = pv(g, "attachmentSet");
		for (k = 0; at && at->kind == VALUE_LIST && k < at->u.list.n; k++) {
			const char *v = pv_str(at->u.list.items[k], "vpcId");
			if (v && !strcmp(v, vpc) && pv_str(g, "internetGatewayId"))
				value_list_push(a, l, value_new_string(
					a, pv_str(g, "internetGatewayId")));
		}
	}
	return l;
}

/* What a VPC's Describe item lacks: the DNS attributes (one call each),
 * GetAtt DefaultSecurityGroup / DefaultNetworkAcl and the attached
 * internet gateways (one call each for all the VPCs: the drift check
 * reads many at once). */
static int vpc_read_more(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct provider_result *outs, struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value *sgs, *acls, *igws;
	size_t i;

	if (!(sgs = vpc_listing(ctx, n, ids, "DescribeSecurityGroups", "vpc-id",
				"group-name", "default", "securityGroupInfo", err)))
		return -1;
	acls = vpc_listing(ctx, n, ids, "DescribeNetworkAcls", "vpc-id", "default",
			   "true", "networkAclSet", err);
	if (!acls) /* optional: an endpoint without network ACLs */
		acls = value_new_list(a);
	err_clear(err);
	/* the internet gateways attached to each: the synthetic
	 * InternetGateways, whose items a VPCGatewayAttachment of the stack
	 * owns (src/providers/relations.c) */
	if (!(igws = vpc_listing(ctx, n, ids, "DescribeInternetGateways",
				 "attachment.vpc-id", NULL, NULL,
				 "internetGatewaySet", err)))
		return -1;
	for (i = 0; i < n; i++) {
		struct value *attrs = outs[i].attrs, *props = outs[i].props, *l;
		bool dns_s, dns_h;
		if (!found[i])
			continue;
		if (vpc_attr(ctx, ids[i], "enableDnsSupport", &dns_s, err) < 0 ||
		    vpc_attr(ctx, ids[i], "enableDnsHostnames", &dns_h, err) < 0)
			return -1;
		value_map_set(a, attrs, "CidrBlockAssociations",
			      ec2_str_list(ctx, pv(found[i], "cidrBlockAssociationSet"),
					   "associationId"));
		value_map_set(a, attrs, "Ipv6CidrBlocks", value_new_list(a));
		set_attr(ctx, attrs, "DefaultSecurityGroup",
			 by_vpc(sgs, ids[i], "groupId"));
		set_attr(ctx, attrs, "DefaultNetworkAcl",
			 by_vpc(acls, ids[i], "networkAclId"));
		pb(a, props, "EnableDnsSupport", dns_s);
		pb(a, props, "EnableDnsHostnames", dns_h);
		ec2_props_tags(ctx, props, found[i]);
		l = vpc_gateways(a, igws, ids[i]);
		if (l->u.list.n)
			value_map_set(a, props, "InternetGateways", l);
	}
	return 0;
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
	if (!pv_str(props, "CidrBlock"))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "CidrBlock is required (IPAM pools are not supported)");
	return ec2_table_create_resource(ctx, props, out, err);
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
		    gone_is_ok(err) < 0)
			return -1;
	}
	return 0;
}

const struct ec2_type ec2_row_vpc = {
	.type = "AWS::EC2::VPC",
	.describe = "DescribeVpcs", .ids_member = "VpcIds", .set = "vpcSet",
	.id_field = "vpcId",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_ID, NULL },
					   { "VpcId", EC2_ID, NULL },
					   { "CidrBlock", EC2_STR, "cidrBlock" },
					   { NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "CidrBlock", EC2_STR, "cidrBlock" },
		{ "InstanceTenancy", EC2_STR, "instanceTenancy" },
		{ NULL, 0, NULL } },
	.read_more = vpc_read_more,
	.update_before = vpc_apply_dns,
	.update_after = vpc_detach_unowned,
	.create_op = "CreateVpc", .create_id = "vpc.vpcId", .tag_type = "vpc",
	.create_props = (const char *const[]){ "CidrBlock", "InstanceTenancy",
					       NULL },
	.create_after = vpc_apply_dns,
	.ready_state = "available", .ready_seconds = NEW_ID_SECONDS,
	.delete_op = "DeleteVpc", .delete_member = "VpcId",
	.delete_retry = dep_violation, .delete_seconds = DRAIN_SECONDS,
};

const struct provider prov_ec2_vpc =
	EC2_TABLE_PROVIDER("AWS::EC2::VPC", vpc_create);

/* ============================================================= Subnet */

static int subnet_map_public(struct provider_ctx *ctx, const char *id, bool on,
			     struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "SubnetId", id);
	pattr(ctx->arena, p, "MapPublicIpOnLaunch", on);
	return pcall_retry(ctx, "ec2", "ModifySubnetAttribute", p, subnet_nf,
			   NEW_ID_SECONDS, err) ? 0 : -1;
}

static int subnet_create_after(struct provider_ctx *ctx, const char *id,
			       const struct value *old_props,
			       const struct value *props, struct err *err)
{
	(void)old_props;
	if (!pv_bool(props, "MapPublicIpOnLaunch", false))
		return 0;
	return subnet_map_public(ctx, id, true, err);
}

static int subnet_update_before(struct provider_ctx *ctx, const char *id,
				const struct value *old_props,
				const struct value *new_props, struct err *err)
{
	if (!pv_changed(old_props, new_props, "MapPublicIpOnLaunch"))
		return 0;
	return subnet_map_public(ctx, id,
				 pv_bool(new_props, "MapPublicIpOnLaunch", false),
				 err);
}

const struct ec2_type ec2_row_subnet = {
	.type = "AWS::EC2::Subnet",
	.describe = "DescribeSubnets", .ids_member = "SubnetIds",
	.set = "subnetSet", .id_field = "subnetId",
	.attrs = (const struct ec2_map[]){
		{ "Ref", EC2_ID, NULL },
		{ "SubnetId", EC2_ID, NULL },
		{ "VpcId", EC2_STR, "vpcId" },
		{ "CidrBlock", EC2_STR, "cidrBlock" },
		{ "AvailabilityZone", EC2_STR, "availabilityZone" },
		{ "AvailabilityZoneId", EC2_STR, "availabilityZoneId" },
		{ "Ipv6CidrBlocks", EC2_EMPTY_LIST, NULL },
		{ NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "VpcId", EC2_STR, "vpcId" },
		{ "CidrBlock", EC2_STR, "cidrBlock" },
		{ "AvailabilityZone", EC2_STR, "availabilityZone" },
		{ "MapPublicIpOnLaunch", EC2_BOOL, "mapPublicIpOnLaunch" },
		{ "Tags", EC2_TAGS, "tagSet" },
		{ NULL, 0, NULL } },
	/* sent once: a resent CreateSubnet would conflict with the CIDR of
	 * the one a lost attempt made */
	.create_op = "CreateSubnet", .create_id = "subnet.subnetId",
	.tag_type = "subnet", .create_retry = vpc_nf,
	.create_seconds = NEW_ID_SECONDS,
	.create_props = (const char *const[]){ "VpcId", "CidrBlock",
					       "AvailabilityZone",
					       "AvailabilityZoneId", NULL },
	.create_after = subnet_create_after,
	.ready_state = "available", .ready_seconds = NEW_ID_SECONDS,
	.update_before = subnet_update_before,
	.delete_op = "DeleteSubnet", .delete_member = "SubnetId",
	.delete_retry = dep_violation, .delete_seconds = DRAIN_SECONDS,
	.delete_status = "deleting (waits while network interfaces drain)",
};

const struct provider prov_ec2_subnet =
	EC2_TABLE_PROVIDER("AWS::EC2::Subnet", ec2_table_create_resource);

/* ==================================================== InternetGateway */

const struct ec2_type ec2_row_igw = {
	.type = "AWS::EC2::InternetGateway",
	.describe = "DescribeInternetGateways",
	.ids_member = "InternetGatewayIds", .set = "internetGatewaySet",
	.id_field = "internetGatewayId",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_ID, NULL },
					   { "InternetGatewayId", EC2_ID, NULL },
					   { NULL, 0, NULL } },
	.props = (const struct ec2_map[]){ { "Tags", EC2_TAGS, "tagSet" },
					   { NULL, 0, NULL } },
	.create_op = "CreateInternetGateway",
	.create_id = "internetGateway.internetGatewayId",
	.tag_type = "internet-gateway",
	.delete_op = "DeleteInternetGateway",
	.delete_member = "InternetGatewayId", .delete_retry = dep_violation,
	.delete_seconds = DRAIN_SECONDS,
};

const struct provider prov_ec2_igw =
	EC2_TABLE_PROVIDER("AWS::EC2::InternetGateway",
			   ec2_table_create_resource);

/* =============================================== VPCGatewayAttachment */

static const char *const attach_nf[] = { "InvalidInternetGatewayID.NotFound",
					 "InvalidVpcID.NotFound", NULL };

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
		if (ec2_table_read(ctx, id, NULL, &r, &e2) == 0) {
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
	if (pcall_retry(ctx, "ec2", "DetachInternetGateway", p, dep_violation,
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
	size_t i, j;

	for (i = 0; i < n; i++)
		if (ec2_split_id(ctx, ids[i], "attachment", &igws[i], &vpcs[i],
				 err) < 0)
			return -1;
	if (ec2_table_describe(&ec2_row_igw, ctx, n, igws, found, err) < 0)
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

static int att_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	const char *igw, *vpc;
	const char *nigw = pv_str(new_props, "InternetGatewayId");

	(void)old_props;
	(void)attrs;
	if (ec2_split_id(ctx, id, "attachment", &igw, &vpc, err) < 0)
		return -1;
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
	if (ec2_split_id(ctx, id, "attachment", &igw, &vpc, err) < 0)
		return -1;
	return att_detach(ctx, igw, vpc, err);
}

const struct provider prov_ec2_gw_attachment = {
	.type = "AWS::EC2::VPCGatewayAttachment",
	.create = att_create,
	.read = ec2_table_read,
	.read_many = att_read_many,
	.update = att_update,
	.delete = att_delete,
};

/* ================================================================ EIP */

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
	struct value *p = value_new_map(a);
	const struct value *it = NULL;
	const char *assoc;

	ps(a, p, "AllocationId", id);
	if (instance) {
		ps(a, p, "InstanceId", instance);
		pb(a, p, "AllowReassociation", true);
		return pcall_retry(ctx, "ec2", "AssociateAddress", p, early,
				   60.0, err) ? 0 : -1;
	}
	if (ec2_table_describe(&ec2_row_eip, ctx, 1, &id, &it, err) < 0)
		return -1;
	if (!it || !(assoc = pv_str(it, "associationId")) ||
	    !pv_str(it, "instanceId"))
		return 0;
	p = value_new_map(a);
	ps(a, p, "AssociationId", assoc);
	if (!pcall(ctx, "ec2", "DisassociateAddress", p, err))
		return gone_is_ok(err);
	return 0;
}

static int eip_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const char *id, *instance = pv_str(props, "InstanceId");

	ps(ctx->arena, p, "Domain", "vpc");
	/* sent once: a resent AllocateAddress after a lost answer would
	 * leave an address (quota, money) behind */
	if (ec2_table_create(ctx, props, p, &id, &r, err) < 0)
		return -1;
	if (!r) {
		/* found by its tag after a lost answer; a read by id may not
		 * see the new address yet (EC2's eventual consistency) */
		double dl = prov_deadline(ctx, NEW_ID_SECONDS);
		int attempt = 0;
		while (ec2_table_read(ctx, id, NULL, out, err) < 0) {
			if (err->code != ERR_NOT_FOUND ||
			    prov_sleep_until(ctx, &attempt, dl,
					     "address visible", err) < 0)
				return -1;
			err_clear(err);
		}
	} else {
		if (!aws_get_str(r, "publicIp", err))
			return -1;
		/* the response has the fields of a DescribeAddresses item */
		ec2_table_fill(&ec2_row_eip, ctx, id, r, out);
	}
	out->props = NULL;
	/* the address is recorded with a failure here: the next run's update
	 * associates it */
	return instance ? eip_associate(ctx, id, instance, err) : 0;
}

static int eip_update_before(struct provider_ctx *ctx, const char *id,
			     const struct value *old_props,
			     const struct value *new_props, struct err *err)
{
	if (!pv_changed(old_props, new_props, "InstanceId"))
		return 0;
	return eip_associate(ctx, id, pv_str(new_props, "InstanceId"), err);
}

static int eip_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	/* an address associated with an instance is released only once
	 * disassociated (EC2: InvalidIPAddress.InUse) */
	if (pv_str(props, "InstanceId") && eip_associate(ctx, id, NULL, err) < 0)
		return -1;
	return ec2_table_delete(ctx, id, props, attrs, err);
}

static const char *const eip_busy[] = { "AuthFailure", "InvalidIPAddress.InUse",
					NULL };

const struct ec2_type ec2_row_eip = {
	.type = "AWS::EC2::EIP",
	.describe = "DescribeAddresses", .ids_member = "AllocationIds",
	.set = "addressesSet", .id_field = "allocationId",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_STR, "publicIp" },
					   { "PublicIp", EC2_STR, "publicIp" },
					   { "AllocationId", EC2_ID, NULL },
					   { NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "Domain", EC2_STR, "domain" },
		{ "NetworkBorderGroup", EC2_STR, "networkBorderGroup" },
		{ "InstanceId", EC2_STR, "instanceId" },
		{ "Tags", EC2_TAGS, "tagSet" },
		{ NULL, 0, NULL } },
	.create_op = "AllocateAddress", .create_id = "allocationId",
	.tag_type = "elastic-ip",
	.create_props = (const char *const[]){ "NetworkBorderGroup",
					       "PublicIpv4Pool", NULL },
	.update_before = eip_update_before,
	/* a NAT gateway being deleted still holds the address for a while */
	.delete_op = "ReleaseAddress", .delete_member = "AllocationId",
	.delete_retry = eip_busy, .delete_seconds = 300.0,
};

const struct provider prov_ec2_eip = {
	.type = "AWS::EC2::EIP",
	.create = eip_create,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = ec2_table_update,
	.delete = eip_delete,
	.find = ec2_table_find,
};

/* ========================================================= RouteTable */

/* A route's target: template property -> DescribeRouteTables field (a
 * gateway endpoint is named as gatewayId) */
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

static const char *const assoc_ended[] = { "disassociated", "failed", NULL };
static const char *const assoc_not_live[] = { "disassociating",
					      "disassociated", "failed", NULL };

/* The first association in a DescribeRouteTables listing whose field is
 * want, with an id and not in a state of skip (NULL: any state). */
static const struct value *assoc_in(const struct value *tables,
				    const char *field, const char *want,
				    const char *const *skip)
{
	size_t j, k;

	for (j = 0; tables && j < tables->u.list.n; j++) {
		const struct value *as = pv(tables->u.list.items[j], "associationSet");
		for (k = 0; as && as->kind == VALUE_LIST && k < as->u.list.n; k++) {
			const struct value *e = as->u.list.items[k];
			const char *st = value_str(value_get_path(e, "associationState.state"));
			if (pv_str(e, field) && !strcmp(pv_str(e, field), want) &&
			    pv_str(e, "routeTableAssociationId") &&
			    !ec2_state_in(st, skip))
				return e;
		}
	}
	return NULL;
}

/* DescribeRouteTables with filters fl; its routeTableSet. */
static const struct value *rtb_listing(struct provider_ctx *ctx,
				       struct value *fl, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	value_map_set(ctx->arena, p, "Filters", fl);
	r = pcall_all(ctx, "ec2", "DescribeRouteTables", p, "routeTableSet", err);
	return r ? aws_get_list(ctx->arena, r, "routeTableSet", err) : NULL;
}


/*
 * What is in a table that CloudFormation declares elsewhere, reported so
 * the refresh can tell whose each item is (src/providers/relations.c):
 * "Routes" (every route, in AWS::EC2::Route's shape; the local route
 * keeps GatewayId "local", a propagated one says Propagated) and
 * "SubnetAssociations" (the explicit subnet associations, not the main
 * table's implicit one). Neither is a CloudFormation property.
 */
static void rtb_links(struct provider_ctx *ctx, const char *id,
		      const struct value *it, struct provider_result *out)
{
	static const char *const dests[][2] = {
		{ "destinationCidrBlock", "DestinationCidrBlock" },
		{ "destinationIpv6CidrBlock", "DestinationIpv6CidrBlock" },
		{ "destinationPrefixListId", "DestinationPrefixListId" },
	};
	struct arena *a = ctx->arena;
	const struct value *rs = pv(it, "routeSet"), *as = pv(it, "associationSet");
	struct value *routes = value_new_list(a), *assocs = value_new_list(a);
	size_t i, k;

	(void)id;
	for (i = 0; rs && rs->kind == VALUE_LIST && i < rs->u.list.n; i++) {
		const struct value *r = rs->u.list.items[i];
		struct value *m = value_new_map(a);
		const char *origin = pv_str(r, "origin");
		for (k = 0; k < sizeof(dests) / sizeof(dests[0]); k++)
			ps(a, m, dests[k][1], pv_str(r, dests[k][0]));
		for (k = 0; k < N_TARGETS; k++) {
			const char *t = pv_str(r, route_targets[k].field);
			if (!t || !strcmp(route_targets[k].prop, "VpcEndpointId"))
				continue;
			ps(a, m, strncmp(t, "vpce-", 5) ? route_targets[k].prop
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
		if (!pv_str(e, "subnetId") || ec2_state_in(st, assoc_ended))
			continue;
		m = value_new_map(a);
		ps(a, m, "SubnetId", pv_str(e, "subnetId"));
		value_list_push(a, assocs, m);
	}
	if (routes->u.list.n)
		value_map_set(a, out->props, "Routes", routes);
	if (assocs->u.list.n)
		value_map_set(a, out->props, "SubnetAssociations", assocs);
}

static int rtb_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *id;
	int rc;

	/* CreateRouteTable takes a ClientToken in the current EC2 API; an
	 * endpoint of the 2023 API refuses it (UnknownParameter: nothing was
	 * made), and the create goes again without it. Either way it is never
	 * resent blindly after a lost answer. */
	ps(a, p, "ClientToken", ctx->token);
	rc = ec2_table_create(ctx, props, p, &id, &r, err);
	if (rc < 0 && !strcmp(err->aws_code, "UnknownParameter") &&
	    strstr(err->msg, "ClientToken")) {
		err_clear(err);
		value_map_del(p, "ClientToken");
		rc = ec2_table_create(ctx, props, p, &id, &r, err);
	}
	if (rc < 0)
		return -1;
	ec2_table_fill(&ec2_row_route_table, ctx, id, NULL, out);
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
	const struct value *tables = NULL, *e;
	size_t i, k;

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
		if (!pcall(ctx, "ec2", "DeleteRoute", p, err) && gone_is_ok(err) < 0)
			return -1;
	}
	for (i = 0; oa && oa->kind == VALUE_LIST && i < oa->u.list.n; i++) {
		const char *subnet = pv_str(oa->u.list.items[i], "SubnetId");
		if (!subnet || !dropped(oa->u.list.items[i],
					pv(new_props, "SubnetAssociations"),
					afields))
			continue;
		if (!tables) { /* the association ids, read once */
			struct value *fl = value_new_list(a);
			ec2_filter(a, fl, "route-table-id", id);
			if (!(tables = rtb_listing(ctx, fl, err)))
				return -1;
		}
		e = assoc_in(tables, "subnetId", subnet, NULL);
		if (e) {
			struct value *p = value_new_map(a);
			ps(a, p, "AssociationId", pv_str(e, "routeTableAssociationId"));
			if (!pcall(ctx, "ec2", "DisassociateRouteTable", p, err) &&
			    gone_is_ok(err) < 0)
				return -1;
		}
	}
	return 0;
}

const struct ec2_type ec2_row_route_table = {
	.type = "AWS::EC2::RouteTable",
	.describe = "DescribeRouteTables", .ids_member = "RouteTableIds",
	.set = "routeTableSet", .id_field = "routeTableId",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_ID, NULL },
					   { "RouteTableId", EC2_ID, NULL },
					   { NULL, 0, NULL } },
	.props = (const struct ec2_map[]){ { "VpcId", EC2_STR, "vpcId" },
					   { "Tags", EC2_TAGS, "tagSet" },
					   { NULL, 0, NULL } },
	.fill = rtb_links,
	.update_after = rtb_unlink,
	.create_op = "CreateRouteTable", .create_id = "routeTable.routeTableId",
	.tag_type = "route-table", .create_retry = vpc_nf,
	.create_seconds = NEW_ID_SECONDS,
	.create_props = (const char *const[]){ "VpcId", NULL },
	.delete_op = "DeleteRouteTable", .delete_member = "RouteTableId",
	.delete_retry = dep_violation, .delete_seconds = DRAIN_SECONDS,
};

const struct provider prov_ec2_route_table =
	EC2_TABLE_PROVIDER("AWS::EC2::RouteTable", rtb_create);

/* ============================================================== Route */

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
		if (ec2_split_id(ctx, ids[i], "route", &rtbs[i], &dests[i], err) < 0)
			return -1;
	if (ec2_table_describe(&ec2_row_route_table, ctx, n, rtbs, found,
			       err) < 0)
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
		if (ec2_table_read(ctx, arena_sprintf(ctx->arena, "%s|%s", rtb, dest),
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
	if (ec2_split_id(ctx, id, "route", &rtb, &dest, err) < 0)
		return -1;
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
	if (ec2_split_id(ctx, id, "route", &rtb, &dest, err) < 0)
		return -1;
	ps(ctx->arena, p, "RouteTableId", rtb);
	ps(ctx->arena, p,
	   strchr(dest, ':') ? "DestinationIpv6CidrBlock" : "DestinationCidrBlock",
	   dest);
	if (!pcall(ctx, "ec2", "DeleteRoute", p, err))
		return gone_is_ok(err);
	return 0;
}

const struct provider prov_ec2_route = {
	.type = "AWS::EC2::Route",
	.create = route_create,
	.read = ec2_table_read,
	.read_many = route_read_many,
	.update = route_update,
	.delete = route_delete,
};

/* ======================================== SubnetRouteTableAssociation */

static int assoc_read_many(struct provider_ctx *ctx, size_t n,
			   const char *const *ids, struct provider_result *outs,
			   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *fl = value_new_list(a);
	const struct value *tables;
	size_t i;

	ec2_filter_in(a, fl, "association.route-table-association-id", n, ids);
	if (!(tables = rtb_listing(ctx, fl, err)))
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *e = assoc_in(tables, "routeTableAssociationId",
						 ids[i], assoc_ended);
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!e)
			continue;
		ec2_table_fill(&ec2_row_subnet_rt_assoc, ctx, ids[i], NULL, &outs[i]);
		outs[i].props = value_new_map(a);
		ps(a, outs[i].props, "RouteTableId", pv_str(e, "routeTableId"));
		ps(a, outs[i].props, "SubnetId", pv_str(e, "subnetId"));
	}
	return 0;
}

/* ReplaceRouteTableAssociation of association aid to props' table. */
static int assoc_replace(struct provider_ctx *ctx, const char *aid,
			 const struct value *props, struct provider_result *out,
			 struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const char *id;

	ps(ctx->arena, p, "AssociationId", aid);
	ps(ctx->arena, p, "RouteTableId", pv_str(props, "RouteTableId"));
	r = pcall(ctx, "ec2", "ReplaceRouteTableAssociation", p, err);
	if (!r || !(id = aws_get_str(r, "newAssociationId", err)))
		return -1;
	ec2_table_fill(&ec2_row_subnet_rt_assoc, ctx, id, NULL, out);
	return 0;
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
	struct value *fl = value_new_list(ctx->arena);
	const struct value *tables, *e;
	const char *subnet = pv_str(props, "SubnetId");
	struct err e2 = ERR_INIT;

	ec2_filter(ctx->arena, fl, "association.subnet-id", subnet);
	if (!(tables = rtb_listing(ctx, fl, &e2)) ||
	    !(e = assoc_in(tables, "subnetId", subnet, NULL)))
		return -1;
	prov_status(ctx, "moving the subnet back from another route table");
	err_clear(err);
	return assoc_replace(ctx, pv_str(e, "routeTableAssociationId"), props, out,
			     err);
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
	ec2_table_fill(&ec2_row_subnet_rt_assoc, ctx, id, NULL, out);
	return 0;
}

/* The association a crashed run made: the subnet's association with this
 * route table (a subnet has at most one). */
static int assoc_find(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct value *fl = value_new_list(ctx->arena);
	const struct value *tables, *e;
	const char *subnet = pv_str(props, "SubnetId");
	const char *rtb = pv_str(props, "RouteTableId");

	if (!subnet || !rtb)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "nothing to look for");
	ec2_filter(ctx->arena, fl, "association.subnet-id", subnet);
	ec2_filter(ctx->arena, fl, "route-table-id", rtb);
	if (!(tables = rtb_listing(ctx, fl, err)))
		return -1;
	e = assoc_in(tables, "subnetId", subnet, assoc_not_live);
	if (!e)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "subnet \"%s\" has no association with \"%s\"",
				 subnet, rtb);
	ec2_table_fill(&ec2_row_subnet_rt_assoc, ctx,
		       pv_str(e, "routeTableAssociationId"), NULL, out);
	return 0;
}

static int assoc_update(struct provider_ctx *ctx, const char *id,
			const struct value *old_props,
			const struct value *new_props, const struct value *attrs,
			struct provider_result *out, struct err *err)
{
	(void)attrs;
	if (!pv_changed(old_props, new_props, "RouteTableId")) {
		ec2_table_fill(&ec2_row_subnet_rt_assoc, ctx, id, NULL, out);
		return 0;
	}
	return assoc_replace(ctx, id, new_props, out, err);
}

/* Only the result and the delete: the reads go by association filters. */
const struct ec2_type ec2_row_subnet_rt_assoc = {
	.type = "AWS::EC2::SubnetRouteTableAssociation",
	.attrs = (const struct ec2_map[]){ { "Ref", EC2_ID, NULL },
					   { "Id", EC2_ID, NULL },
					   { NULL, 0, NULL } },
	.delete_op = "DisassociateRouteTable", .delete_member = "AssociationId",
};

const struct provider prov_ec2_subnet_rt_assoc = {
	.type = "AWS::EC2::SubnetRouteTableAssociation",
	.create = assoc_create,
	.read = ec2_table_read,
	.read_many = assoc_read_many,
	.find = assoc_find,
	.update = assoc_update,
	.delete = ec2_table_delete,
};
