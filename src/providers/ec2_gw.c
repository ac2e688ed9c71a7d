/*
 * AWS::EC2::NatGateway and AWS::EC2::VPCEndpoint: the two EC2 types with
 * an asynchronous life cycle, created with a ClientToken (so a retried or
 * resumed create returns the same resource) and waited on both ways.
 *
 * Ref: NAT gateway id (GetAtt NatGatewayId); endpoint id (GetAtt Id,
 * CreationTimestamp, DnsEntries, NetworkInterfaceIds).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ec2_table.h"

#define NAT_SECONDS (15.0 * 60.0)

/* ========================================================= NatGateway */

/* Polls until available; a gateway that failed is an error carrying AWS's
 * failureCode and failureMessage (Gateway.NotAttached, ...). */
static int nat_wait(struct provider_ctx *ctx, const char *id, bool deleting,
		    struct err *err)
{
	double dl = prov_deadline(ctx, NAT_SECONDS);
	int attempt = 0, missing = 0;

	for (;;) {
		const struct value *it = NULL;
		const char *st;
		if (ec2_table_describe(&ec2_row_natgw, ctx, 1, &id, &it, err) < 0)
			return -1;
		st = it ? pv_str(it, "state") : NULL;
		if (deleting) {
			if (!it || (st && !strcmp(st, "deleted")))
				return 0;
		} else if (st && !strcmp(st, "available")) {
			return 0;
		} else if (st && (!strcmp(st, "failed") || !strcmp(st, "deleted") ||
				  !strcmp(st, "deleting"))) {
			const char *fc = pv_str(it, "failureCode");
			const char *fm = pv_str(it, "failureMessage");
			return prov_fail(ctx, err, ERR_AWS,
					 "nat gateway \"%s\" is %s: %s: %s", id, st,
					 fc ? fc : "(no failure code)",
					 fm ? fm : "(no message)");
		} else if (!it && ++missing > 30) {
			return prov_fail(ctx, err, ERR_NOT_FOUND,
					 "nat gateway \"%s\" disappeared", id);
		}
		prov_status(ctx, deleting ? "waiting for deleted" : "waiting for available");
		if (prov_sleep_until(ctx, &attempt, dl,
				     deleting ? "nat gateway deleted"
					      : "nat gateway available",
				     err) < 0)
			return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	}
}

static int nat_ready(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *props,
		     struct err *err)
{
	(void)old_props;
	(void)props;
	return nat_wait(ctx, id, false, err);
}

static int nat_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	int rc = ec2_table_delete_call(ctx, id, err);

	(void)props;
	(void)attrs;
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return nat_wait(ctx, id, true, err);
}

const struct ec2_type ec2_row_natgw = {
	.type = "AWS::EC2::NatGateway",
	.describe = "DescribeNatGateways", .ids_member = "NatGatewayIds",
	.set = "natGatewaySet", .id_field = "natGatewayId",
	.gone_states = (const char *const[]){ "deleted", "failed", NULL },
	.attrs = (const struct ec2_map[]){
		{ "Ref", EC2_ID, NULL },
		{ "NatGatewayId", EC2_ID, NULL },
		{ "EniId", EC2_STR, "natGatewayAddressSet[0].networkInterfaceId" },
		{ NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "SubnetId", EC2_STR, "subnetId" },
		{ "ConnectivityType", EC2_STR, "connectivityType" },
		{ "AllocationId", EC2_STR, "natGatewayAddressSet[0].allocationId" },
		{ "PrivateIpAddress", EC2_STR, "natGatewayAddressSet[0].privateIp" },
		{ "Tags", EC2_TAGS, "tagSet" },
		{ NULL, 0, NULL } },
	.create_op = "CreateNatGateway", .create_id = "natGateway.natGatewayId",
	.tag_type = "natgateway", .client_token = true,
	.create_props = (const char *const[]){ "SubnetId", "AllocationId",
					       "ConnectivityType",
					       "PrivateIpAddress", NULL },
	.create_after = nat_ready,
	.create_retry = (const char *const[]){ "InvalidSubnetID.NotFound",
					       "InvalidAllocationID.NotFound",
					       NULL },
	.create_seconds = 120.0,
	.delete_op = "DeleteNatGateway", .delete_member = "NatGatewayId",
};

const struct provider prov_ec2_natgw = {
	.type = "AWS::EC2::NatGateway",
	.create = ec2_table_create_resource,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = ec2_table_update,
	.delete = nat_delete,
};

/* ======================================================== VPCEndpoint */

static void vpce_fill(struct provider_ctx *ctx, const char *id,
		      const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct value *props = out->props, *dns = value_new_list(a);
	const struct value *de = pv(it, "dnsEntrySet");
	const char *pol = pv_str(it, "policyDocument");
	const char *type = pv_str(it, "vpcEndpointType");
	size_t i;

	(void)id;
	/* CloudFormation's DnsEntries: "hostedZoneId:dnsName" */
	for (i = 0; de && de->kind == VALUE_LIST && i < de->u.list.n; i++) {
		const struct value *e = de->u.list.items[i];
		const char *z = pv_str(e, "hostedZoneId"), *d = pv_str(e, "dnsName");
		if (d)
			value_list_push(a, dns, value_new_string(
				a, arena_sprintf(a, "%s:%s", z ? z : "", d)));
	}
	value_map_set(a, out->attrs, "DnsEntries", dns);
	value_map_set(a, out->attrs, "NetworkInterfaceIds",
		      ec2_str_list(ctx, pv(it, "networkInterfaceIdSet"), NULL));
	if (type) {
		/* wire "interface"/"gateway" -> template "Interface"/"Gateway" */
		char *tt = arena_strdup(a, type);
		if (tt[0] >= 'a' && tt[0] <= 'z')
			tt[0] = (char)(tt[0] - 'a' + 'A');
		ps(a, props, "VpcEndpointType", tt);
	}
	if (type && !strcasecmp(type, "Interface")) {
		value_map_set(a, props, "SubnetIds",
			      ec2_str_list(ctx, pv(it, "subnetIdSet"), NULL));
		value_map_set(a, props, "SecurityGroupIds",
			      ec2_str_list(ctx, pv(it, "groupSet"), "groupId"));
		if (pv_str(it, "privateDnsEnabled"))
			pb(a, props, "PrivateDnsEnabled",
			   !strcmp(pv_str(it, "privateDnsEnabled"), "true"));
	} else {
		value_map_set(a, props, "RouteTableIds",
			      ec2_str_list(ctx, pv(it, "routeTableIdSet"), NULL));
	}
	if (pol && *pol) {
		struct err e = ERR_INIT;
		struct value *doc = value_from_json(a, pol, strlen(pol), 0, &e);
		if (doc)
			value_map_set(a, props, "PolicyDocument", doc);
	}
	ec2_props_tags(ctx, props, it);
}

static int vpce_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	static const char *const fail[] = { "failed", "rejected", "deleted", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *it;
	const char *id, *type = pv_str(props, "VpcEndpointType");

	if (!type)
		type = "Gateway"; /* CloudFormation's default */
	ps(a, p, "VpcEndpointType", type);
	if (pv_has(props, "SubnetIds"))
		value_map_set(a, p, "SubnetIds", ec2_str_list(ctx, pv(props, "SubnetIds"), NULL));
	if (pv_has(props, "SecurityGroupIds"))
		value_map_set(a, p, "SecurityGroupIds",
			      ec2_str_list(ctx, pv(props, "SecurityGroupIds"), NULL));
	if (pv_has(props, "RouteTableIds"))
		value_map_set(a, p, "RouteTableIds",
			      ec2_str_list(ctx, pv(props, "RouteTableIds"), NULL));
	if (pv_has(props, "PrivateDnsEnabled"))
		pb(a, p, "PrivateDnsEnabled", pv_bool(props, "PrivateDnsEnabled", false));
	if (pv_has(props, "PolicyDocument"))
		ps(a, p, "PolicyDocument", policy_text(a, pv(props, "PolicyDocument")));
	if (ec2_table_create(ctx, props, p, &id, &r, err) < 0 ||
	    ec2_table_wait(ctx, id, "available", fail, false, NAT_SECONDS, &it,
			   err) < 0)
		return -1;
	ec2_table_fill(&ec2_row_vpc_endpoint, ctx, id, it, out);
	out->props = NULL;
	return 0;
}

/* ids in x and not in y, as a list */
static struct value *ids_minus(struct provider_ctx *ctx, const struct value *x,
			       const struct value *y)
{
	struct value *out = value_new_list(ctx->arena);
	size_t i, j;

	for (i = 0; x && x->kind == VALUE_LIST && i < x->u.list.n; i++) {
		const char *s = v_text(ctx->arena, x->u.list.items[i]);
		bool in = false;
		for (j = 0; y && y->kind == VALUE_LIST && j < y->u.list.n && !in; j++) {
			const char *t = v_text(ctx->arena, y->u.list.items[j]);
			in = s && t && !strcmp(s, t);
		}
		if (s && !in)
			value_list_push(ctx->arena, out, value_new_string(ctx->arena, s));
	}
	return out;
}

/* What ModifyVpcEndpoint changes in place (Tags aside). */
static int vpce_modify(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, struct err *err)
{
	static const struct {
		const char *prop, *add, *rm;
	} sets[] = {
		{ "SubnetIds", "AddSubnetIds", "RemoveSubnetIds" },
		{ "SecurityGroupIds", "AddSecurityGroupIds", "RemoveSecurityGroupIds" },
		{ "RouteTableIds", "AddRouteTableIds", "RemoveRouteTableIds" },
	};
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a);
	bool any = false;
	size_t i;

	ps(a, p, "VpcEndpointId", id);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct value *add = ids_minus(ctx, pv(new_props, sets[i].prop),
					      pv(old_props, sets[i].prop));
		struct value *rm = ids_minus(ctx, pv(old_props, sets[i].prop),
					     pv(new_props, sets[i].prop));
		if (add->u.list.n) {
			value_map_set(a, p, sets[i].add, add);
			any = true;
		}
		if (rm->u.list.n) {
			value_map_set(a, p, sets[i].rm, rm);
			any = true;
		}
	}
	if (pv_changed(old_props, new_props, "PrivateDnsEnabled")) {
		pb(a, p, "PrivateDnsEnabled",
		   pv_bool(new_props, "PrivateDnsEnabled", false));
		any = true;
	}
	if (pv_changed(old_props, new_props, "PolicyDocument")) {
		if (pv_has(new_props, "PolicyDocument"))
			ps(a, p, "PolicyDocument",
			   policy_text(a, pv(new_props, "PolicyDocument")));
		else
			pb(a, p, "ResetPolicy", true);
		any = true;
	}
	if (any && !pcall(ctx, "ec2", "ModifyVpcEndpoint", p, err))
		return -1;
	return 0;
}

static int vpce_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *bad, *it;

	(void)props;
	(void)attrs;
	value_map_set(ctx->arena, p, "VpcEndpointIds", str_list1(ctx->arena, id));
	r = pcall(ctx, "ec2", "DeleteVpcEndpoints", p, err);
	if (!r)
		return err->code == ERR_NOT_FOUND ? (err_clear(err), 0) : -1;
	/* 200 with per-endpoint failures in "unsuccessful" */
	bad = aws_get_list(ctx->arena, r, "unsuccessful", err);
	if (bad && bad->u.list.n) {
		const struct value *e = bad->u.list.items[0];
		const char *code = value_str(value_get_path(e, "error.code"));
		const char *msg = value_str(value_get_path(e, "error.message"));
		if (code && strstr(code, "NotFound"))
			return 0;
		prov_fail(ctx, err, ERR_AWS, "ec2:DeleteVpcEndpoints: %s: %s",
			  code ? code : "?", msg ? msg : "");
		snprintf(err->aws_code, sizeof(err->aws_code), "%s", code ? code : "");
		return -1;
	}
	err_clear(err);
	return ec2_table_wait(ctx, id, "deleted", NULL, true, NAT_SECONDS, &it,
			      err);
}

const struct ec2_type ec2_row_vpc_endpoint = {
	.type = "AWS::EC2::VPCEndpoint",
	.describe = "DescribeVpcEndpoints", .ids_member = "VpcEndpointIds",
	.set = "vpcEndpointSet", .id_field = "vpcEndpointId",
	.gone_states = (const char *const[]){ "deleted", "failed", "rejected",
					      NULL },
	.attrs = (const struct ec2_map[]){
		{ "Ref", EC2_ID, NULL },
		{ "Id", EC2_ID, NULL },
		{ "CreationTimestamp", EC2_STR, "creationTimestamp" },
		{ NULL, 0, NULL } },
	.props = (const struct ec2_map[]){
		{ "VpcId", EC2_STR, "vpcId" },
		{ "ServiceName", EC2_STR, "serviceName" },
		{ NULL, 0, NULL } },
	.fill = vpce_fill,
	.create_op = "CreateVpcEndpoint", .create_id = "vpcEndpoint.vpcEndpointId",
	.tag_type = "vpc-endpoint", .client_token = true,
	.create_props = (const char *const[]){ "VpcId", "ServiceName", NULL },
	.create_retry = (const char *const[]){ "InvalidVpcID.NotFound",
					       "InvalidSubnetID.NotFound",
					       "InvalidGroup.NotFound",
					       "InvalidRouteTableID.NotFound",
					       NULL },
	.create_seconds = 120.0,
	.update_before = vpce_modify,
};

const struct provider prov_ec2_vpc_endpoint = {
	.type = "AWS::EC2::VPCEndpoint",
	.create = vpce_create,
	.read = ec2_table_read,
	.read_many = ec2_table_read_many,
	.update = ec2_table_update,
	.delete = vpce_delete,
};
