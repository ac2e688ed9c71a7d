/*
 * AWS::EC2::Instance and AWS::EC2::KeyPair.
 *
 * Instance: Ref = instance id; GetAtt AvailabilityZone, PrivateDnsName,
 * PrivateIp, PublicDnsName, PublicIp, InstanceId, VpcId (CloudFormation's
 * documented attributes). RunInstances carries ClientToken = ctx->token, so
 * a resent or retried launch joins the first one, and find() after a crash
 * looks the instance up by that token. Create waits for `running`; delete
 * terminates and waits for `terminated` (its network interface leaves the
 * subnet and the security groups only then).
 *
 * Updates as CloudFormation does them ("Update requires: Some
 * interruptions" for InstanceType and UserData on an EBS-backed instance):
 * stop, wait stopped, ModifyInstanceAttribute, start, wait running.
 * SecurityGroupIds, DisableApiTermination, MetadataOptions and Tags change
 * without a stop. The create-only properties (ImageId, KeyName, SubnetId,
 * AvailabilityZone ...) replace it (the schema's createOnlyProperties).
 *
 * An instance profile is usable by RunInstances only once IAM has
 * propagated it: "Value (...) for parameter iamInstanceProfile.name is
 * invalid. Invalid IAM Instance Profile name" is retried (the ClientToken
 * keeps the retries one launch) for up to PROFILE_WAIT seconds.
 *
 * KeyPair: Ref = key name; GetAtt KeyPairId, KeyFingerprint. As
 * CloudFormation does, a created key's private key goes into the SSM
 * SecureString parameter /ec2/keypair/<key pair id> and nowhere else: never
 * in cairn's state, output or logs (the response value is marked sensitive
 * and the buffer wiped). Deleting the key pair deletes that parameter.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "prov_int.h"

#define PROFILE_WAIT 180.0
#define INSTANCE_WAIT 900.0

/* ============================================================ Instance */

/* Every instance of a DescribeInstances answer (reservations flattened). */
static struct value *instances_of(struct arena *a, const struct value *r)
{
	const struct value *res = pv(r, "reservationSet");
	struct value *out = value_new_list(a);
	size_t i, j;

	for (i = 0; res && res->kind == VALUE_LIST && i < res->u.list.n; i++) {
		const struct value *is = pv(res->u.list.items[i], "instancesSet");
		for (j = 0; is && is->kind == VALUE_LIST && j < is->u.list.n; j++)
			value_list_push(a, out, (struct value *)is->u.list.items[j]);
	}
	return out;
}

static const char *inst_state(const struct value *it)
{
	return pv_str(pv(it, "instanceState"), "name");
}

static bool inst_gone(const struct value *it)
{
	const char *st = it ? inst_state(it) : NULL;

	return !it || (st && (!strcmp(st, "terminated") ||
			      !strcmp(st, "shutting-down")));
}

/* found[i]: the instance ids[i], NULL when unknown (or terminated). */
static int inst_describe(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *l = value_new_list(a), *r, *all;
	size_t i, j;

	for (i = 0; i < n; i++) {
		value_list_push(a, l, value_new_string(a, ids[i]));
		found[i] = NULL;
	}
	value_map_set(a, p, "InstanceIds", l);
	r = pcall(ctx, "ec2", "DescribeInstances", p, err);
	if (!r) {
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		if (n == 1)
			return 0;
		/* one unknown id fails the call: one by one */
		for (i = 0; i < n; i++)
			if (inst_describe(ctx, 1, &ids[i], &found[i], err) < 0)
				return -1;
		return 0;
	}
	all = instances_of(a, r);
	for (i = 0; i < n; i++)
		for (j = 0; j < all->u.list.n; j++) {
			const char *id = pv_str(all->u.list.items[j], "instanceId");
			if (id && !strcmp(id, ids[i]))
				found[i] = all->u.list.items[j];
		}
	return 0;
}

/* Polls until the instance is `want`; a state in fail is an error. */
static int inst_wait(struct provider_ctx *ctx, const char *id,
		     const char *want, const char *const *fail,
		     const struct value **item, struct err *err)
{
	double dl = prov_deadline(ctx, INSTANCE_WAIT);
	int attempt = 0, missing = 0;
	const char *what = arena_sprintf(ctx->arena, "%s to be %s", id, want);
	size_t i;

	for (;;) {
		const struct value *it = NULL;
		const char *st;
		if (inst_describe(ctx, 1, &id, &it, err) < 0)
			return -1;
		st = it ? inst_state(it) : NULL;
		if (!it && !strcmp(want, "terminated"))
			return 0;
		if (!it && ++missing > 30)
			return prov_fail(ctx, err, ERR_NOT_FOUND,
					 "instance \"%s\" disappeared", id);
		if (st && !strcmp(st, want)) {
			if (item)
				*item = it;
			return 0;
		}
		for (i = 0; st && fail && fail[i]; i++)
			if (!strcmp(st, fail[i]))
				return prov_fail(ctx, err, ERR_AWS,
						 "instance \"%s\" is %s (wanted %s)",
						 id, st, want);
		if (st)
			prov_status(ctx, st);
		if (prov_sleep_until(ctx, &attempt, dl, what, err) < 0)
			return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	}
}

static void inst_result(struct provider_ctx *ctx, const char *id,
			const struct value *it, struct provider_result *out)
{
	struct arena *a = ctx->arena;

	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", id);
	set_attr(ctx, out->attrs, "InstanceId", id);
	if (!it)
		return;
	set_attr(ctx, out->attrs, "AvailabilityZone",
		 pv_str(pv(it, "placement"), "availabilityZone"));
	set_attr(ctx, out->attrs, "PrivateDnsName", pv_str(it, "privateDnsName"));
	set_attr(ctx, out->attrs, "PrivateIp", pv_str(it, "privateIpAddress"));
	/* CloudFormation answers "" for an instance without a public address */
	ps(a, out->attrs, "PublicDnsName",
	   pv_str(it, "dnsName") ? pv_str(it, "dnsName") : "");
	ps(a, out->attrs, "PublicIp",
	   pv_str(it, "ipAddress") ? pv_str(it, "ipAddress") : "");
	set_attr(ctx, out->attrs, "VpcId", pv_str(it, "vpcId"));
}

/*
 * What DescribeInstances cannot show as the template wrote it: the template's
 * BlockDeviceMappings (the volumes' sizes and types are the volumes', not
 * the instance's) and which MetadataOptions keys it set. Kept in the
 * attributes under cairn: keys (not GetAtt names) and carried by every
 * read: BlockDeviceMappings is reported as recorded (no drift check), the
 * MetadataOptions keys the template set are reported as observed.
 */
static void inst_remember(struct provider_ctx *ctx, struct value *attrs,
			  const struct value *props)
{
	/* whether the template named security groups at all: without them
	 * the instance gets the VPC's default group, which is no drift */
	value_map_set(ctx->arena, attrs, "cairn:SecurityGroupIds",
		      value_new_bool(ctx->arena, pv_has(props, "SecurityGroupIds")));
	if (pv(props, "BlockDeviceMappings"))
		value_map_set(ctx->arena, attrs, "cairn:BlockDeviceMappings",
			      (struct value *)pv(props, "BlockDeviceMappings"));
	if (pv(props, "MetadataOptions"))
		value_map_set(ctx->arena, attrs, "cairn:MetadataOptions",
			      (struct value *)pv(props, "MetadataOptions"));
}

static void inst_carry(struct provider_ctx *ctx, struct value *attrs,
		       const struct value *recorded)
{
	static const char *const keys[] = { "cairn:BlockDeviceMappings",
					    "cairn:MetadataOptions",
					    "cairn:SecurityGroupIds", NULL };
	size_t i;

	for (i = 0; keys[i]; i++)
		if (value_map_get(recorded, keys[i]))
			value_map_set(ctx->arena, attrs, keys[i],
				      value_map_get(recorded, keys[i]));
}

/* The name in an instance profile ARN (arn:...:instance-profile/path/name). */
static const char *profile_name(struct arena *a, const char *arn)
{
	const char *s = arn ? strrchr(arn, '/') : NULL;

	return s ? arena_strdup(a, s + 1) : arn;
}

static struct value *run_params(struct provider_ctx *ctx,
				const struct value *props)
{
	static const char *const plain[] = { "ImageId", "InstanceType", "KeyName",
					     "SubnetId", "UserData",
					     "PrivateIpAddress", "KernelId",
					     "RamdiskId",
					     "InstanceInitiatedShutdownBehavior",
					     NULL };
	static const char *const copied[] = { "SecurityGroupIds",
					      "SecurityGroups",
					      "BlockDeviceMappings",
					      "MetadataOptions",
					      "CreditSpecification",
					      "NetworkInterfaces", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *specs, *t;
	size_t i;

	for (i = 0; plain[i]; i++)
		ps(a, p, plain[i], pv_str(props, plain[i]));
	for (i = 0; copied[i]; i++)
		if (pv(props, copied[i]))
			value_map_set(a, p, copied[i], (struct value *)pv(props, copied[i]));
	pn(a, p, "MinCount", "1");
	pn(a, p, "MaxCount", "1");
	ps(a, p, "ClientToken", ctx->token);
	if (pv_str(props, "IamInstanceProfile")) {
		struct value *ip = value_new_map(a);
		const char *n = pv_str(props, "IamInstanceProfile");
		ps(a, ip, strncmp(n, "arn:", 4) ? "Name" : "Arn", n);
		value_map_set(a, p, "IamInstanceProfile", ip);
	}
	if (pv_str(props, "AvailabilityZone") || pv_str(props, "Tenancy")) {
		struct value *pl = value_new_map(a);
		ps(a, pl, "AvailabilityZone", pv_str(props, "AvailabilityZone"));
		ps(a, pl, "Tenancy", pv_str(props, "Tenancy"));
		value_map_set(a, p, "Placement", pl);
	}
	if (pv_has(props, "DisableApiTermination"))
		pb(a, p, "DisableApiTermination",
		   pv_bool(props, "DisableApiTermination", false));
	if (pv_has(props, "EbsOptimized"))
		pb(a, p, "EbsOptimized", pv_bool(props, "EbsOptimized", false));
	if (pv_has(props, "Monitoring")) {
		struct value *m = value_new_map(a);
		pb(a, m, "Enabled", pv_bool(props, "Monitoring", false));
		value_map_set(a, p, "Monitoring", m);
	}
	t = tags_merged(ctx, props);
	specs = ec2_tag_spec(a, "instance", t);
	value_list_push(a, specs, ec2_tag_spec(a, "volume", t)->u.list.items[0]);
	value_map_set(a, p, "TagSpecifications", specs);
	return p;
}

static int inst_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	static const char *const fail[] = { "terminated", "shutting-down", NULL };
	struct value *p = run_params(ctx, props), *r;
	const struct value *list, *it = NULL;
	double dl = prov_deadline(ctx, PROFILE_WAIT);
	int attempt = 0;
	const char *id;

	for (;;) {
		r = pcall(ctx, "ec2", "RunInstances", p, err);
		if (r || !strstr(err->msg, "Invalid IAM Instance Profile"))
			break;
		/* the profile (or its role) is not yet visible to EC2 */
		prov_status(ctx, "waiting for the instance profile to propagate");
		{
			struct err e2 = ERR_INIT;
			if (prov_sleep_until(ctx, &attempt, dl,
					     "the instance profile to be usable", &e2) < 0) {
				/* past the wait: AWS's own error says why */
				if (e2.code == ERR_CANCELLED)
					*err = e2;
				return -1;
			}
		}
	}
	if (!r)
		return -1;
	list = pv(r, "instancesSet");
	if (!list || list->kind != VALUE_LIST || !list->u.list.n ||
	    !(id = pv_str(list->u.list.items[0], "instanceId")))
		return prov_fail(ctx, err, ERR_AWS, "RunInstances answered no instance");
	id = arena_strdup(ctx->arena, id);
	prov_status(ctx, "pending");
	if (inst_wait(ctx, id, "running", fail, &it, err) < 0)
		return -1;
	inst_result(ctx, id, it, out);
	inst_remember(ctx, out->attrs, props);
	return 0;
}

static int inst_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	size_t i, j;

	if (inst_describe(ctx, n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *it = found[i], *gs;
		struct value *props, *l, *t;
		memset(&outs[i], 0, sizeof(outs[i]));
		if (inst_gone(it))
			continue;
		inst_result(ctx, ids[i], it, &outs[i]);
		props = value_new_map(a);
		ps(a, props, "ImageId", pv_str(it, "imageId"));
		ps(a, props, "InstanceType", pv_str(it, "instanceType"));
		ps(a, props, "SubnetId", pv_str(it, "subnetId"));
		ps(a, props, "AvailabilityZone",
		   pv_str(pv(it, "placement"), "availabilityZone"));
		ps(a, props, "KeyName", pv_str(it, "keyName"));
		ps(a, props, "IamInstanceProfile",
		   profile_name(a, pv_str(pv(it, "iamInstanceProfile"), "arn")));
		l = value_new_list(a);
		gs = pv(it, "groupSet");
		for (j = 0; gs && gs->kind == VALUE_LIST && j < gs->u.list.n; j++) {
			const char *g = pv_str(gs->u.list.items[j], "groupId");
			if (g)
				value_list_push(a, l, value_new_string(a, g));
		}
		value_map_set(a, props, "SecurityGroupIds", l);
		{
			const struct value *mo = pv(it, "metadataOptions");
			struct value *m = value_new_map(a);
			ps(a, m, "HttpTokens", pv_str(mo, "httpTokens"));
			ps(a, m, "HttpEndpoint", pv_str(mo, "httpEndpoint"));
			if (pv_str(mo, "httpPutResponseHopLimit"))
				value_map_set(a, m, "HttpPutResponseHopLimit",
					      value_new_number(a, pv_str(mo, "httpPutResponseHopLimit")));
			ps(a, m, "InstanceMetadataTags",
			   pv_str(mo, "instanceMetadataTags"));
			value_map_set(a, outs[i].attrs, "cairn:live-metadata", m);
		}
		t = tags_from_aws(a, pv(it, "tagSet"), "key", "value");
		if (t)
			value_map_set(a, props, "Tags", t);
		outs[i].props = props;
	}
	return 0;
}

/* The user data as AWS has it (base64), or NULL when none. */
static int inst_user_data(struct provider_ctx *ctx, const char *id,
			  const char **out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	ps(ctx->arena, p, "InstanceId", id);
	ps(ctx->arena, p, "Attribute", "userData");
	if (!(r = pcall(ctx, "ec2", "DescribeInstanceAttribute", p, err)))
		return -1;
	*out = pv_str(pv(r, "userData"), "value");
	return 0;
}

static int inst_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	const struct value *rec_mo = value_map_get(attrs, "cairn:MetadataOptions");
	const struct value *rec_bdm = value_map_get(attrs, "cairn:BlockDeviceMappings");
	const char *ud = NULL;

	/* one at a time (no read_many): the template's shapes come from
	 * the recorded attributes, which only read() is given */
	memset(out, 0, sizeof(*out));
	if (inst_read_many(ctx, 1, &id, out, err) < 0)
		return -1;
	if (!out->physical_id)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "instance \"%s\" does not exist", id);
	inst_carry(ctx, out->attrs, attrs);
	if (inst_user_data(ctx, id, &ud, err) < 0)
		return -1;
	ps(ctx->arena, out->props, "UserData", ud);
	if (rec_bdm)
		value_map_set(ctx->arena, out->props, "BlockDeviceMappings",
			      (struct value *)rec_bdm);
	if (rec_mo && rec_mo->kind == VALUE_MAP) {
		const struct value *live = value_map_get(out->attrs, "cairn:live-metadata");
		struct value *mo = value_new_map(ctx->arena);
		size_t i;
		for (i = 0; i < rec_mo->u.map.n; i++) {
			const char *k = rec_mo->u.map.items[i].key;
			const struct value *v = value_map_get(live, k);
			if (v)
				value_map_set(ctx->arena, mo, k, (struct value *)v);
		}
		value_map_set(ctx->arena, out->props, "MetadataOptions", mo);
	}
	value_map_del(out->attrs, "cairn:live-metadata");
	{
		const struct value *sg = value_map_get(attrs, "cairn:SecurityGroupIds");
		if (sg && sg->kind == VALUE_BOOL && !sg->u.b)
			value_map_del(out->props, "SecurityGroupIds");
	}
	return 0;
}

static int modify(struct provider_ctx *ctx, const char *id, const char *key,
		  const char *val, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *v = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InstanceId", id);
	ps(ctx->arena, v, "Value", val);
	value_map_set(ctx->arena, p, key, v);
	return pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err) ? 0 : -1;
}

static int inst_simple(struct provider_ctx *ctx, const char *op,
		       const char *list_key, const char *id, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	value_map_set(ctx->arena, p, list_key, str_list1(ctx->arena, id));
	return pcall(ctx, "ec2", op, p, err) ? 0 : -1;
}

static int inst_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
{
	static const char *const unsupported[] = { "IamInstanceProfile",
						   "BlockDeviceMappings",
						   "CreditSpecification",
						   "EbsOptimized", "Monitoring",
						   "Tenancy", NULL };
	static const char *const stop_fail[] = { "terminated", "shutting-down",
						 NULL };
	struct arena *a = ctx->arena;
	const struct value *it = NULL;
	bool stop = pv_changed(old_props, new_props, "InstanceType") ||
		    pv_changed(old_props, new_props, "UserData");
	size_t i;

	(void)attrs;
	for (i = 0; unsupported[i]; i++)
		if (pv_changed(old_props, new_props, unsupported[i]))
			return prov_fail(ctx, err, ERR_UNSUPPORTED,
					 "changing %s of an existing instance is not "
					 "supported by cairn yet (replace the "
					 "instance: rename its logical id)",
					 unsupported[i]);
	if (stop) {
		/* "Some interruptions": the instance is stopped, changed and
		 * started again (its public address changes unless it has an
		 * Elastic IP) */
		prov_status(ctx, "stopping to change InstanceType/UserData");
		if (inst_simple(ctx, "StopInstances", "InstanceIds", id, err) < 0 ||
		    inst_wait(ctx, id, "stopped", stop_fail, NULL, err) < 0)
			return -1;
		if (pv_changed(old_props, new_props, "InstanceType") &&
		    modify(ctx, id, "InstanceType",
			   pv_str(new_props, "InstanceType"), err) < 0)
			return -1;
		if (pv_changed(old_props, new_props, "UserData")) {
			/* the template holds base64 text; UserData's Value
			 * is a blob, which the wire carries as base64 too */
			struct value *p = value_new_map(a), *v = value_new_map(a);
			ps(a, p, "InstanceId", id);
			ps(a, v, "Value", pv_str(new_props, "UserData")
						  ? pv_str(new_props, "UserData") : "");
			value_map_set(a, p, "UserData", v);
			if (!pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err))
				return -1;
		}
	}
	if (pv_changed(old_props, new_props, "SecurityGroupIds")) {
		struct value *p = value_new_map(a);
		ps(a, p, "InstanceId", id);
		value_map_set(a, p, "Groups",
			      (struct value *)pv(new_props, "SecurityGroupIds"));
		if (!pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "DisableApiTermination")) {
		struct value *p = value_new_map(a);
		ps(a, p, "InstanceId", id);
		pattr(a, p, "DisableApiTermination",
		      pv_bool(new_props, "DisableApiTermination", false));
		if (!pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "MetadataOptions")) {
		const struct value *mo = pv(new_props, "MetadataOptions");
		static const char *const keys[] = { "HttpTokens", "HttpEndpoint",
						    "HttpPutResponseHopLimit",
						    "InstanceMetadataTags", NULL };
		struct value *p = value_new_map(a);
		ps(a, p, "InstanceId", id);
		for (i = 0; keys[i]; i++)
			ps(a, p, keys[i], pv_str(mo, keys[i]));
		if (!pcall(ctx, "ec2", "ModifyInstanceMetadataOptions", p, err))
			return -1;
	}
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0)
		return -1;
	if (stop) {
		prov_status(ctx, "starting again");
		if (inst_simple(ctx, "StartInstances", "InstanceIds", id, err) < 0 ||
		    inst_wait(ctx, id, "running", stop_fail, &it, err) < 0)
			return -1;
	} else if (inst_describe(ctx, 1, &id, &it, err) < 0) {
		return -1;
	}
	inst_result(ctx, id, it, out);
	inst_remember(ctx, out->attrs, new_props);
	return 0;
}

static int inst_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	(void)props;
	(void)attrs;
	if (inst_simple(ctx, "TerminateInstances", "InstanceIds", id, err) < 0)
		return gone_is_ok(err);
	prov_status(ctx, "shutting-down");
	return inst_wait(ctx, id, "terminated", NULL, NULL, err);
}

/* The instance a stopped run launched: by its ClientToken (the token of
 * this operation), else by the cairn tags; never a terminated one. */
static int inst_find(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl, *r, *all;
	size_t i;

	(void)props;
	fl = ctx->token ? value_new_list(a) : ec2_cairn_filters(ctx);
	if (ctx->token)
		ec2_filter(a, fl, "client-token", ctx->token);
	value_map_set(a, p, "Filters", fl);
	if (!(r = pcall(ctx, "ec2", "DescribeInstances", p, err)))
		return -1;
	all = instances_of(a, r);
	for (i = 0; i < all->u.list.n; i++) {
		const struct value *it = all->u.list.items[i];
		const char *id = pv_str(it, "instanceId");
		if (!inst_gone(it) && id) {
			if (!tags_owned(ctx, pv(it, "tagSet")))
				return prov_foreign(ctx, arena_strdup(a, id),
						    pv(it, "tagSet"), out, err);
			inst_result(ctx, arena_strdup(a, id), it, out);
			return 0;
		}
	}
	return prov_fail(ctx, err, ERR_NOT_FOUND, "no instance for this token");
}

const struct provider prov_ec2_instance = {
	.type = "AWS::EC2::Instance",
	.create = inst_create,
	.read = inst_read,
	.update = inst_update,
	.delete = inst_delete,
	.find = inst_find,
};

/* ============================================================= KeyPair */

static const char *key_param(struct provider_ctx *ctx, const char *key_id)
{
	return arena_sprintf(ctx->arena, "/ec2/keypair/%s", key_id);
}

static void key_result(struct provider_ctx *ctx, const struct value *it,
		       struct provider_result *out)
{
	const char *name = pv_str(it, "keyName");

	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(ctx->arena, name);
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "KeyPairId", pv_str(it, "keyPairId"));
	set_attr(ctx, out->attrs, "KeyFingerprint", pv_str(it, "keyFingerprint"));
}

static int key_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *sp, *mat;
	const char *kid, *pub = pv_str(props, "PublicKeyMaterial");
	struct aws_call_opts o = { 0 };

	ps(a, p, "KeyName", pv_str(props, "KeyName"));
	value_map_set(a, p, "TagSpecifications",
		      ec2_tag_spec(a, "key-pair", tags_merged(ctx, props)));
	if (pub) {
		ps(a, p, "PublicKeyMaterial", pub);
		r = pcall(ctx, "ec2", "ImportKeyPair", p, err);
		if (!r)
			return -1;
		key_result(ctx, r, out);
		return 0;
	}
	ps(a, p, "KeyType", pv_str(props, "KeyType"));
	ps(a, p, "KeyFormat", pv_str(props, "KeyFormat"));
	/* not idempotent and the private key is shown once: never resent */
	o.no_resend = 1;
	r = aws_call_opt(ctx->aws, "ec2", "CreateKeyPair", p, &o, a, err);
	if (!r)
		return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	key_result(ctx, r, out);
	kid = pv_str(r, "keyPairId");
	mat = (struct value *)pv(r, "keyMaterial");
	if (!kid || !mat || mat->kind != VALUE_STRING)
		return prov_fail(ctx, err, ERR_AWS, "CreateKeyPair answered no key");
	mat->sensitive = 1;
	sp = value_new_map(a);
	ps(a, sp, "Name", key_param(ctx, kid));
	ps(a, sp, "Type", "SecureString");
	value_map_set(a, sp, "Value", mat);
	ps(a, sp, "Description",
	   arena_sprintf(a, "private key of EC2 key pair %s (cairn)",
			 pv_str(props, "KeyName")));
	value_map_set(a, sp, "Tags", tags_merged(ctx, props));
	r = pcall(ctx, "ssm", "PutParameter", sp, err);
	/* the string is the response arena's: wipe it once it has been sent */
	OPENSSL_cleanse((char *)mat->u.str.s, strlen(mat->u.str.s));
	return r ? 0 : -1;
}

static int key_get(struct provider_ctx *ctx, const char *name,
		   const struct value **it, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *l;

	value_map_set(ctx->arena, p, "KeyNames", str_list1(ctx->arena, name));
	if (!(r = pcall(ctx, "ec2", "DescribeKeyPairs", p, err)))
		return -1;
	l = pv(r, "keySet");
	if (!l || l->kind != VALUE_LIST || !l->u.list.n)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "key pair \"%s\" not found", name);
	*it = l->u.list.items[0];
	return 0;
}

static int key_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	const struct value *it;
	struct value *t;

	(void)attrs;
	if (key_get(ctx, id, &it, err) < 0)
		return -1;
	key_result(ctx, it, out);
	out->props = value_new_map(ctx->arena);
	ps(ctx->arena, out->props, "KeyName", pv_str(it, "keyName"));
	ps(ctx->arena, out->props, "KeyType", pv_str(it, "keyType"));
	t = tags_from_aws(ctx->arena, pv(it, "tagSet"), "key", "value");
	if (t)
		value_map_set(ctx->arena, out->props, "Tags", t);
	return 0;
}

static int key_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct value *p = value_new_map(ctx->arena);
	const char *kid = value_str(value_map_get(attrs, "KeyPairId"));

	(void)props;
	ps(ctx->arena, p, "KeyName", id);
	if (!pcall(ctx, "ec2", "DeleteKeyPair", p, err) && gone_is_ok(err) < 0)
		return -1;
	if (kid) {
		p = value_new_map(ctx->arena);
		ps(ctx->arena, p, "Name", key_param(ctx, kid));
		if (!pcall(ctx, "ssm", "DeleteParameter", p, err))
			return gone_is_ok(err);
	}
	return 0;
}

/* A key pair of this name made by a stopped run: only with this
 * resource's cairn tags. */
static int key_find(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	const struct value *it;

	if (key_get(ctx, pv_str(props, "KeyName"), &it, err) < 0)
		return -1;
	if (!tags_owned(ctx, pv(it, "tagSet")))
		return prov_foreign(ctx, pv_str(props, "KeyName"), pv(it, "tagSet"),
				    out, err);
	key_result(ctx, it, out);
	return 0;
}

/* Every property is create-only: nothing changes in place; the recorded
 * attributes stay. */
static int key_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props,
		      const struct value *new_props, const struct value *attrs,
		      struct provider_result *out, struct err *err)
{
	(void)old_props;
	(void)new_props;
	(void)err;
	memset(out, 0, sizeof(*out));
	out->physical_id = id;
	out->attrs = (struct value *)attrs;
	(void)ctx;
	return 0;
}

const struct provider prov_ec2_key_pair = {
	.type = "AWS::EC2::KeyPair",
	.create = key_create,
	.read = key_read,
	.update = key_update,
	.delete = key_delete,
	.find = key_find,
};
