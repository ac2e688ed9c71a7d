/*
 * The relationship properties of each type and who else may own their
 * items (see provider.h and docs/ownership.md). One table for all the
 * types, so the refresh applies one rule everywhere instead of a special
 * case per provider.
 *
 * An item's key is what identifies it in AWS: a managed policy's ARN, an
 * inline policy's name, a security group rule's protocol, ports and peer
 * (not its description), a route's destination, an associated subnet.
 */
#include <string.h>

#include "prov_int.h"

/* ------------------------------------------------------------ keys */

static const char *key_string(struct arena *a, const struct value *item)
{
	(void)a;
	return value_str(item);
}

static const char *key_policy_name(struct arena *a, const struct value *item)
{
	(void)a;
	return pv_str(item, "PolicyName");
}

static const char *rule_key(struct arena *a, const struct value *item,
			    bool egress)
{
	struct value *l = value_new_list(a);
	struct sg_rules r = { 0 };
	struct err e = ERR_INIT;

	value_list_push(a, l, (struct value *)item);
	if (sg_rules_from_template(a, l, egress, &r, &e) < 0 || r.n != 1)
		return NULL;
	return r.items[0].key;
}

static const char *key_ingress(struct arena *a, const struct value *item)
{
	return rule_key(a, item, false);
}

static const char *key_egress(struct arena *a, const struct value *item)
{
	return rule_key(a, item, true);
}

static const char *key_route(struct arena *a, const struct value *item)
{
	const char *d = pv_str(item, "DestinationCidrBlock");

	(void)a;
	if (!d)
		d = pv_str(item, "DestinationIpv6CidrBlock");
	if (!d)
		d = pv_str(item, "DestinationPrefixListId");
	return d;
}

static const char *key_subnet(struct arena *a, const struct value *item)
{
	(void)a;
	return pv_str(item, "SubnetId");
}

/* A rule as AWS reports it back: protocol names for numbers, no ports on
 * an all-traffic rule, ports as numbers. NULL when it is no rule. */
static struct value *rule_canonical(struct arena *a, const struct value *item,
				    bool egress)
{
	struct value *l = value_new_list(a), *out;
	struct sg_rules r = { 0 };
	struct err e = ERR_INIT;

	value_list_push(a, l, (struct value *)item);
	if (sg_rules_from_template(a, l, egress, &r, &e) < 0 || r.n != 1)
		return NULL;
	out = sg_rules_to_template(a, &r, egress);
	return out->u.list.n == 1 ? out->u.list.items[0] : NULL;
}

static struct value *canon_ingress(struct arena *a, const struct value *item)
{
	return rule_canonical(a, item, false);
}

static struct value *canon_egress(struct arena *a, const struct value *item)
{
	return rule_canonical(a, item, true);
}

/* ------------------------------------------------- owned items */

static const char *own_physical_id(struct arena *a, const char *physical_id,
				   const struct value *props)
{
	(void)a;
	(void)props;
	return physical_id;
}

static const char *own_policy_name(struct arena *a, const char *physical_id,
				   const struct value *props)
{
	(void)a;
	(void)physical_id;
	return pv_str(props, "PolicyName");
}

static const char *own_ingress(struct arena *a, const char *physical_id,
			       const struct value *props)
{
	(void)physical_id;
	return rule_key(a, props, false);
}

static const char *own_egress(struct arena *a, const char *physical_id,
			      const struct value *props)
{
	(void)physical_id;
	return rule_key(a, props, true);
}

static const char *own_route(struct arena *a, const char *physical_id,
			     const struct value *props)
{
	(void)physical_id;
	return key_route(a, props);
}

static const char *own_subnet(struct arena *a, const char *physical_id,
			      const struct value *props)
{
	(void)a;
	(void)physical_id;
	return pv_str(props, "SubnetId");
}

/* ------------------------------------------------- AWS's own items */

/* A VPC group without SecurityGroupEgress keeps the allow-all egress AWS
 * gives every new group (CloudFormation leaves it); a group that lists its
 * own egress has it revoked, so there it is drift unless listed. The
 * AWS::EC2::SecurityGroup reference: "When you create a security group, if
 * you do not add egress rules, we add egress rules that allow all outbound
 * IPv4 and IPv6 traffic. Otherwise, we do not add them." */
static bool default_egress(const struct value *recorded,
			   const struct value *item)
{
	struct arena *a;
	struct value *l;
	struct sg_rules r = { 0 };
	struct err e = ERR_INIT;
	bool def;

	if (pv(recorded, "SecurityGroupEgress"))
		return false;
	a = arena_new();
	l = value_new_list(a);
	value_list_push(a, l, (struct value *)item);
	/* in a VPC with an IPv6 block, AWS adds the same rule for ::/0 */
	def = sg_rules_from_template(a, l, true, &r, &e) == 0 && r.n == 1 &&
	      (sg_rule_is_default_egress(&r.items[0]) ||
	       !strcmp(r.items[0].key, "-1|||cidr6|::/0"));
	arena_free(a);
	return def;
}

/* The route to the VPC's own CIDR blocks ("local"), and routes a virtual
 * private gateway propagates: AWS's, not anybody's in the stack. */
static bool aws_route(const struct value *recorded, const struct value *item)
{
	const char *g = pv_str(item, "GatewayId");

	(void)recorded;
	/* a gateway endpoint's routes (to its prefix list) are AWS's, made
	 * for the endpoint's RouteTableIds */
	return (g && !strcmp(g, "local")) || pv_bool(item, "Propagated", false) ||
	       pv_str(item, "VpcEndpointId");
}

/* ------------------------------------------------------------ table */

static const struct provider_claim role_managed[] = {
	{ "AWS::IAM::ManagedPolicy", "Roles", own_physical_id },
	{ NULL, NULL, NULL },
};

static const struct provider_claim role_inline[] = {
	{ "AWS::IAM::Policy", "Roles", own_policy_name },
	{ "AWS::IAM::RolePolicy", "RoleName", own_policy_name },
	{ NULL, NULL, NULL },
};

static const struct provider_claim policy_roles[] = {
	{ "AWS::IAM::Role", "ManagedPolicyArns", own_physical_id },
	{ NULL, NULL, NULL },
};

static const struct provider_claim sg_ingress[] = {
	{ "AWS::EC2::SecurityGroupIngress", "GroupId", own_ingress },
	{ NULL, NULL, NULL },
};

static const struct provider_claim sg_egress[] = {
	{ "AWS::EC2::SecurityGroupEgress", "GroupId", own_egress },
	{ NULL, NULL, NULL },
};

static const struct provider_claim rtb_routes[] = {
	{ "AWS::EC2::Route", "RouteTableId", own_route },
	{ NULL, NULL, NULL },
};

static const struct provider_claim rtb_assocs[] = {
	{ "AWS::EC2::SubnetRouteTableAssociation", "RouteTableId", own_subnet },
	{ NULL, NULL, NULL },
};

static const char *own_igw(struct arena *a, const char *physical_id,
			   const struct value *props)
{
	(void)a;
	(void)physical_id;
	return pv_str(props, "InternetGatewayId");
}

static const struct provider_claim vpc_igws_claims[] = {
	{ "AWS::EC2::VPCGatewayAttachment", "VpcId", own_igw },
	{ NULL, NULL, NULL },
};

static const struct provider_relation role_rel[] = {
	{ "ManagedPolicyArns", false, key_string, NULL, role_managed, NULL },
	{ "Policies", false, key_policy_name, NULL, role_inline, NULL },
};

static const struct provider_relation mp_rel[] = {
	{ "Roles", false, key_string, NULL, policy_roles, NULL },
};

static const struct provider_relation sg_rel[] = {
	{ "SecurityGroupIngress", false, key_ingress, NULL, sg_ingress,
	  canon_ingress },
	{ "SecurityGroupEgress", false, key_egress, default_egress, sg_egress,
	  canon_egress },
};

static const struct provider_relation rtb_rel[] = {
	{ "Routes", true, key_route, aws_route, rtb_routes, NULL },
	{ "SubnetAssociations", true, key_subnet, NULL, rtb_assocs, NULL },
};

static const struct provider_relation vpc_rel[] = {
	{ "InternetGateways", true, key_string, NULL, vpc_igws_claims,
	  NULL },
};

const struct provider_relation *provider_relations(const char *type, size_t *n)
{
	static const struct {
		const char *type;
		const struct provider_relation *rel;
		size_t n;
	} types[] = {
#define REL(t, r) { t, r, sizeof(r) / sizeof(r[0]) }
		REL("AWS::IAM::Role", role_rel),
		REL("AWS::IAM::ManagedPolicy", mp_rel),
		REL("AWS::EC2::SecurityGroup", sg_rel),
		REL("AWS::EC2::RouteTable", rtb_rel),
		REL("AWS::EC2::VPC", vpc_rel),
#undef REL
	};
	size_t i;

	for (i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].type, type)) {
			*n = types[i].n;
			return types[i].rel;
		}
	*n = 0;
	return NULL;
}

const struct provider_versioned *provider_versioned(const char *type)
{
	static const char *const secret_props[] = { "SecretString",
						    "GenerateSecretString",
						    NULL };
	static const struct provider_versioned secret = { "VersionId",
							  secret_props };

	if (type && !strcmp(type, "AWS::SecretsManager::Secret"))
		return &secret;
	return NULL;
}
