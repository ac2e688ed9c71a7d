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

#include "prov_int.h"

#define NAT_SECONDS (15.0 * 60.0)

/* ========================================================= NatGateway */

static bool nat_gone(const struct value *it)
{
	const char *st = it ? pv_str(it, "state") : NULL;

	return !it || (st && (!strcmp(st, "deleted") || !strcmp(st, "failed")));
}

static void nat_fill(struct provider_ctx *ctx, const char *id,
		     const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	const struct value *addrs = pv(it, "natGatewayAddressSet");
	struct value *props = value_new_map(a), *t;

	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(a, id);
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "NatGatewayId", id);
	ps(a, props, "SubnetId", pv_str(it, "subnetId"));
	ps(a, props, "ConnectivityType", pv_str(it, "connectivityType"));
	if (addrs && addrs->kind == VALUE_LIST && addrs->u.list.n) {
		set_attr(ctx, out->attrs, "EniId",
			 pv_str(addrs->u.list.items[0], "networkInterfaceId"));
		ps(a, props, "AllocationId",
		   pv_str(addrs->u.list.items[0], "allocationId"));
		ps(a, props, "PrivateIpAddress",
		   pv_str(addrs->u.list.items[0], "privateIp"));
	}
	t = tags_from_aws(a, pv(it, "tagSet"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
}

static int nat_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	const struct value **found = arena_alloc(ctx->arena, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeNatGateways", "NatGatewayIds",
			 "natGatewaySet", "natGatewayId", n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!nat_gone(found[i]))
			nat_fill(ctx, ids[i], found[i], &outs[i]);
	}
	return 0;
}

static int nat_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_natgw, ctx, id, out, err);
}

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
		if (ec2_describe(ctx, "DescribeNatGateways", "NatGatewayIds",
				 "natGatewaySet", "natGatewayId", 1, &id, &it, err) < 0)
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

static int nat_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	static const char *const nf[] = { "InvalidSubnetID.NotFound",
					  "InvalidAllocationID.NotFound", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *id;

	ps(a, p, "SubnetId", pv_str(props, "SubnetId"));
	ps(a, p, "AllocationId", pv_str(props, "AllocationId"));
	ps(a, p, "ConnectivityType", pv_str(props, "ConnectivityType"));
	ps(a, p, "PrivateIpAddress", pv_str(props, "PrivateIpAddress"));
	ps(a, p, "ClientToken", ctx->token);
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "natgateway", tags_merged(ctx, props)));
	r = pcall_retry(ctx, "ec2", "CreateNatGateway", p, nf, 120.0, err);
	if (!r || !(id = aws_get_str(r, "natGateway.natGatewayId", err)))
		return -1;
	if (nat_wait(ctx, id, false, err) < 0 || nat_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int nat_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	(void)attrs;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    nat_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int nat_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "NatGatewayId", id);
	if (!pcall(ctx, "ec2", "DeleteNatGateway", p, err)) {
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		return 0;
	}
	return nat_wait(ctx, id, true, err);
}

const struct provider prov_ec2_natgw = {
	.type = "AWS::EC2::NatGateway",
	.create = nat_create,
	.read = nat_read,
	.read_many = nat_read_many,
	.update = nat_update,
	.delete = nat_delete,
};

/* ======================================================== VPCEndpoint */

static struct value *ids_list(struct provider_ctx *ctx, const struct value *v)
{
	struct value *l = value_new_list(ctx->arena);
	size_t i;

	for (i = 0; v && v->kind == VALUE_LIST && i < v->u.list.n; i++) {
		const char *s = v_text(ctx->arena, v->u.list.items[i]);
		if (s)
			value_list_push(ctx->arena, l, value_new_string(ctx->arena, s));
	}
	return l;
}

static struct value *aws_ids(struct provider_ctx *ctx, const struct value *it,
			     const char *set, const char *field)
{
	const struct value *l = pv(it, set);
	struct value *out = value_new_list(ctx->arena);
	size_t i;

	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
		const struct value *e = l->u.list.items[i];
		const char *s = field ? pv_str(e, field) : v_text(ctx->arena, e);
		if (s)
			value_list_push(ctx->arena, out, value_new_string(ctx->arena, s));
	}
	return out;
}

static bool vpce_gone(const struct value *it)
{
	const char *st = it ? pv_str(it, "state") : NULL;

	return !it || (st && (!strcasecmp(st, "deleted") || !strcasecmp(st, "failed") ||
			      !strcasecmp(st, "rejected")));
}

static void vpce_fill(struct provider_ctx *ctx, const char *id,
		      const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct value *props = value_new_map(a), *dns = value_new_list(a), *t;
	const struct value *de = pv(it, "dnsEntrySet");
	const char *pol = pv_str(it, "policyDocument");
	const char *type = pv_str(it, "vpcEndpointType");
	size_t i;

	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(a, id);
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "Id", id);
	set_attr(ctx, out->attrs, "CreationTimestamp", pv_str(it, "creationTimestamp"));
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
		      aws_ids(ctx, it, "networkInterfaceIdSet", NULL));
	ps(a, props, "VpcId", pv_str(it, "vpcId"));
	ps(a, props, "ServiceName", pv_str(it, "serviceName"));
	if (type) {
		/* wire "interface"/"gateway" -> template "Interface"/"Gateway" */
		char *tt = arena_strdup(a, type);
		if (tt[0] >= 'a' && tt[0] <= 'z')
			tt[0] = (char)(tt[0] - 'a' + 'A');
		ps(a, props, "VpcEndpointType", tt);
	}
	if (type && !strcasecmp(type, "Interface")) {
		value_map_set(a, props, "SubnetIds", aws_ids(ctx, it, "subnetIdSet", NULL));
		value_map_set(a, props, "SecurityGroupIds",
			      aws_ids(ctx, it, "groupSet", "groupId"));
		if (pv_str(it, "privateDnsEnabled"))
			pb(a, props, "PrivateDnsEnabled",
			   !strcmp(pv_str(it, "privateDnsEnabled"), "true"));
	} else {
		value_map_set(a, props, "RouteTableIds",
			      aws_ids(ctx, it, "routeTableIdSet", NULL));
	}
	if (pol && *pol) {
		struct err e = ERR_INIT;
		struct value *doc = value_from_json(a, pol, strlen(pol), 0, &e);
		if (doc)
			value_map_set(a, props, "PolicyDocument", doc);
	}
	t = tags_from_aws(a, pv(it, "tagSet"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
}

static int vpce_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	const struct value **found = arena_alloc(ctx->arena, (n + 1) * sizeof(*found));
	size_t i;

	if (ec2_describe(ctx, "DescribeVpcEndpoints", "VpcEndpointIds",
			 "vpcEndpointSet", "vpcEndpointId", n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (!vpce_gone(found[i]))
			vpce_fill(ctx, ids[i], found[i], &outs[i]);
	}
	return 0;
}

static int vpce_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_vpc_endpoint, ctx, id, out, err);
}

static int vpce_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	static const char *const nf[] = { "InvalidVpcID.NotFound",
					  "InvalidSubnetID.NotFound",
					  "InvalidGroup.NotFound",
					  "InvalidRouteTableID.NotFound", NULL };
	static const char *const fail[] = { "failed", "rejected", "deleted", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *it;
	const char *id, *type = pv_str(props, "VpcEndpointType");

	if (!type)
		type = "Gateway"; /* CloudFormation's default */
	ps(a, p, "VpcEndpointType", type);
	ps(a, p, "VpcId", pv_str(props, "VpcId"));
	ps(a, p, "ServiceName", pv_str(props, "ServiceName"));
	if (pv_has(props, "SubnetIds"))
		value_map_set(a, p, "SubnetIds", ids_list(ctx, pv(props, "SubnetIds")));
	if (pv_has(props, "SecurityGroupIds"))
		value_map_set(a, p, "SecurityGroupIds",
			      ids_list(ctx, pv(props, "SecurityGroupIds")));
	if (pv_has(props, "RouteTableIds"))
		value_map_set(a, p, "RouteTableIds",
			      ids_list(ctx, pv(props, "RouteTableIds")));
	if (pv_has(props, "PrivateDnsEnabled"))
		pb(a, p, "PrivateDnsEnabled", pv_bool(props, "PrivateDnsEnabled", false));
	if (pv_has(props, "PolicyDocument"))
		ps(a, p, "PolicyDocument", policy_text(a, pv(props, "PolicyDocument")));
	ps(a, p, "ClientToken", ctx->token);
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "vpc-endpoint", tags_merged(ctx, props)));
	r = pcall_retry(ctx, "ec2", "CreateVpcEndpoint", p, nf, 120.0, err);
	if (!r || !(id = aws_get_str(r, "vpcEndpoint.vpcEndpointId", err)))
		return -1;
	if (ec2_wait_state(ctx, "DescribeVpcEndpoints", "VpcEndpointIds",
			   "vpcEndpointSet", "vpcEndpointId", id, "state",
			   "available", fail, false, NAT_SECONDS, &it, err) < 0)
		return -1;
	vpce_fill(ctx, id, it, out);
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

static int vpce_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
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

	(void)attrs;
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
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0 ||
	    vpce_read(ctx, id, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
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
	return ec2_wait_state(ctx, "DescribeVpcEndpoints", "VpcEndpointIds",
			      "vpcEndpointSet", "vpcEndpointId", id, "state",
			      "deleted", NULL, true, NAT_SECONDS, &it, err);
}

const struct provider prov_ec2_vpc_endpoint = {
	.type = "AWS::EC2::VPCEndpoint",
	.create = vpce_create,
	.read = vpce_read,
	.read_many = vpce_read_many,
	.update = vpce_update,
	.delete = vpce_delete,
};
