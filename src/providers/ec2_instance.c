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
 * Updates as CloudFormation does them, property by property (the table
 * above the Instance code): without interruption, with "some interruption"
 * (stop, ModifyInstanceAttribute / ModifyInstancePlacement, start), or by
 * replacement. Reads are batched: one DescribeInstances for every instance
 * of a refresh, one DescribeVolumes for their recorded block devices (so a
 * volume resized or retyped outside cairn is drift).
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
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cairn/log.h"
#include "prov_int.h"

#define PROFILE_WAIT 180.0
#define INSTANCE_WAIT 900.0

/* ============================================================ Instance */

/*
 * How each property changes, from CloudFormation's AWS::EC2::Instance
 * reference ("Update requires" of each property), and the calls cairn makes:
 *
 * No interruption (same instance, never stopped):
 *   IamInstanceProfile     AssociateIamInstanceProfile, or Replace-/Disassociate-
 *                          IamInstanceProfile(Association) on the association
 *                          DescribeIamInstanceProfileAssociations finds
 *   Monitoring             MonitorInstances / UnmonitorInstances
 *   CreditSpecification    ModifyInstanceCreditSpecification (its per-instance
 *                          failure list is checked: the call itself succeeds)
 *   DisableApiTermination, SourceDestCheck, InstanceInitiatedShutdownBehavior
 *                          ModifyInstanceAttribute, one attribute per call (the
 *                          API reference: "You can specify only one attribute at
 *                          a time")
 *   MetadataOptions        ModifyInstanceMetadataOptions
 *   Tags                   CreateTags / DeleteTags
 *   BlockDeviceMappings    only DeleteOnTermination, by ModifyInstanceAttribute
 *                          BlockDeviceMapping: the reference (BlockDeviceMapping,
 *                          Ebs) says "After the instance is running, you can
 *                          modify only the DeleteOnTermination parameter for the
 *                          attached volumes without interrupting the instance.
 *                          Modifying any other parameter results in instance
 *                          replacement", which the plan does (src/plan/plan.c)
 *   SecurityGroupIds       ModifyInstanceAttribute GroupId list. The reference
 *                          says "Some interruptions" (EC2-Classic needed a
 *                          stop); EC2 changes the groups of a VPC instance while
 *                          it runs, so cairn does not stop it.
 * Some interruptions (stopped, changed, started again: same instance id, a new
 * public address unless it has an Elastic IP):
 *   InstanceType, UserData, EbsOptimized, KernelId, RamdiskId
 *                          ModifyInstanceAttribute (needs a stopped instance:
 *                          IncorrectInstanceState otherwise)
 *   Tenancy, Affinity, HostId
 *                          ModifyInstancePlacement (tenancy and host only while
 *                          stopped; its Tenancy takes dedicated or host only, so
 *                          a change back to default is refused before stopping)
 * Replacement: the schema's createOnlyProperties (ImageId, KeyName, SubnetId,
 * AvailabilityZone, PrivateIpAddress, SecurityGroups, NetworkInterfaces ...).
 * src/plan/plan.c shows which of the three each changed property is.
 */

/* Properties whose change stops the instance (see above). */
static const char *const STOP_PROPS[] = { "InstanceType", "UserData",
					  "EbsOptimized", "KernelId",
					  "RamdiskId", "Tenancy", "Affinity",
					  "HostId", NULL };

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

/* Whether msg names id as a whole word (an InvalidInstanceID.NotFound
 * message lists the unknown ids: "The instance IDs 'i-1, i-2' do not
 * exist"). */
static bool names_id(const char *msg, const char *id)
{
	size_t n = strlen(id);
	const char *s;

	for (s = msg; (s = strstr(s, id)) != NULL; s += n) {
		char c = s[n];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
			return true;
	}
	return false;
}

/* One DescribeInstances for the ids (no MaxResults: AWS refuses it with
 * InstanceIds; NextToken followed if AWS pages anyway). */
static int describe_ids(struct provider_ctx *ctx, size_t n,
			const char *const *ids, const struct value **found,
			struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *l = value_new_list(a), *r, *all;
	size_t i, j;

	for (i = 0; i < n; i++)
		value_list_push(a, l, value_new_string(a, ids[i]));
	value_map_set(a, p, "InstanceIds", l);
	if (!(r = pcall_all(ctx, "ec2", "DescribeInstances", p, "reservationSet",
			    err)))
		return -1;
	all = instances_of(a, r);
	for (i = 0; i < n; i++) {
		found[i] = NULL;
		for (j = 0; j < all->u.list.n; j++) {
			const char *id = pv_str(all->u.list.items[j], "instanceId");
			if (id && !strcmp(id, ids[i]))
				found[i] = all->u.list.items[j];
		}
	}
	return 0;
}

/*
 * found[i]: the instance ids[i], NULL when unknown. One unknown id fails
 * the whole call (InvalidInstanceID.NotFound naming every unknown one): the
 * ids it names are dropped and the rest asked again in one call; only if
 * that fails too, one call per id.
 */
static int inst_describe(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const char **rest;
	const struct value **rf;
	size_t i, k = 0;

	if (!n)
		return 0;
	if (describe_ids(ctx, n, ids, found, err) == 0)
		return 0;
	if (err->code != ERR_NOT_FOUND)
		return -1;
	rest = arena_alloc(a, n * sizeof(*rest));
	rf = arena_alloc(a, n * sizeof(*rf));
	for (i = 0; i < n; i++) {
		found[i] = NULL;
		if (!names_id(err->msg, ids[i]))
			rest[k++] = ids[i];
	}
	err_clear(err);
	if (k == n || n == 1) {
		if (n == 1)
			return 0;
	} else if (!k || describe_ids(ctx, k, rest, rf, err) == 0) {
		size_t j = 0;
		for (i = 0; i < n && k; i++)
			if (j < k && rest[j] == ids[i])
				found[i] = rf[j++];
		return 0;
	} else if (err->code != ERR_NOT_FOUND) {
		return -1;
	}
	err_clear(err);
	for (i = 0; i < n; i++) {
		if (describe_ids(ctx, 1, &ids[i], &found[i], err) == 0)
			continue;
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		found[i] = NULL;
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

/* The name in an instance profile ARN (arn:...:instance-profile/path/name). */
static const char *profile_name(struct arena *a, const char *arn)
{
	const char *s = arn ? strrchr(arn, '/') : NULL;

	return s ? arena_strdup(a, s + 1) : arn;
}

/* IamInstanceProfileSpecification for the template's value (a name, or an
 * ARN). */
static struct value *profile_spec(struct arena *a, const char *n)
{
	struct value *ip = value_new_map(a);

	ps(a, ip, strncmp(n, "arn:", 4) ? "Name" : "Arn", n);
	return ip;
}

/* The template's BlockDeviceMappings as RunInstances takes them: NoDevice
 * is a map ({}) in the template, an empty string in the API. */
static struct value *bdm_params(struct arena *a, const struct value *bdm)
{
	struct value *out = value_new_list(a);
	size_t i, j;

	for (i = 0; bdm && bdm->kind == VALUE_LIST && i < bdm->u.list.n; i++) {
		const struct value *m = bdm->u.list.items[i];
		struct value *x = value_new_map(a);
		for (j = 0; m && m->kind == VALUE_MAP && j < m->u.map.n; j++) {
			const char *k = m->u.map.items[j].key;
			if (!strcmp(k, "NoDevice"))
				ps(a, x, "NoDevice", "");
			else
				value_map_set(a, x, k, m->u.map.items[j].val);
		}
		value_list_push(a, out, x);
	}
	return out;
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
					      "MetadataOptions",
					      "NetworkInterfaces", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *specs, *t;
	size_t i;

	for (i = 0; plain[i]; i++)
		ps(a, p, plain[i], pv_str(props, plain[i]));
	for (i = 0; copied[i]; i++)
		if (pv(props, copied[i]))
			value_map_set(a, p, copied[i], (struct value *)pv(props, copied[i]));
	if (pv(props, "BlockDeviceMappings"))
		value_map_set(a, p, "BlockDeviceMappings",
			      bdm_params(a, pv(props, "BlockDeviceMappings")));
	/* the template's CPUCredits is the API's CpuCredits */
	if (pv_str(pv(props, "CreditSpecification"), "CPUCredits")) {
		struct value *cs = value_new_map(a);
		ps(a, cs, "CpuCredits",
		   pv_str(pv(props, "CreditSpecification"), "CPUCredits"));
		value_map_set(a, p, "CreditSpecification", cs);
	}
	pn(a, p, "MinCount", "1");
	pn(a, p, "MaxCount", "1");
	ps(a, p, "ClientToken", ctx->token);
	if (pv_str(props, "IamInstanceProfile"))
		value_map_set(a, p, "IamInstanceProfile",
			      profile_spec(a, pv_str(props, "IamInstanceProfile")));
	if (pv_str(props, "AvailabilityZone") || pv_str(props, "Tenancy") ||
	    pv_str(props, "Affinity") || pv_str(props, "HostId")) {
		struct value *pl = value_new_map(a);
		ps(a, pl, "AvailabilityZone", pv_str(props, "AvailabilityZone"));
		ps(a, pl, "Tenancy", pv_str(props, "Tenancy"));
		ps(a, pl, "Affinity", pv_str(props, "Affinity"));
		ps(a, pl, "HostId", pv_str(props, "HostId"));
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

/*
 * A call naming an instance profile (RunInstances, Associate/Replace...):
 * the profile (or its role) may not be visible to EC2 yet ("Value (...) for
 * parameter iamInstanceProfile.name is invalid. Invalid IAM Instance
 * Profile name"): retried for up to PROFILE_WAIT seconds (RunInstances'
 * ClientToken keeps its retries one launch).
 */
static struct value *profile_call(struct provider_ctx *ctx, const char *op,
				  const struct value *p, struct err *err)
{
	double dl = prov_deadline(ctx, PROFILE_WAIT);
	int attempt = 0;
	struct value *r;

	for (;;) {
		r = pcall(ctx, "ec2", op, p, err);
		if (r || !strstr(err->msg, "Invalid IAM Instance Profile"))
			return r;
		prov_status(ctx, "waiting for the instance profile to propagate");
		{
			struct err e2 = ERR_INIT;
			if (prov_sleep_until(ctx, &attempt, dl,
					     "the instance profile to be usable", &e2) < 0) {
				/* past the wait: AWS's own error says why */
				if (e2.code == ERR_CANCELLED)
					*err = e2;
				return NULL;
			}
		}
	}
}

static int inst_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	static const char *const fail[] = { "terminated", "shutting-down", NULL };
	struct value *p = run_params(ctx, props), *r;
	const struct value *list, *it = NULL;
	const char *id;

	if (!(r = profile_call(ctx, "RunInstances", p, err)))
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
	return 0;
}

/* ---- read */

/* Whether the read of resource i should report property key: what the
 * state records for it (a refresh), or everything when unknown. */
static bool wants(const struct provider_ctx *ctx, size_t i, const char *key)
{
	if (!ctx->recorded)
		return true;
	return ctx->recorded[i] && value_map_get(ctx->recorded[i], key);
}

static const struct value *recorded_prop(const struct provider_ctx *ctx,
					 size_t i, const char *key)
{
	return ctx->recorded && ctx->recorded[i]
		       ? value_map_get(ctx->recorded[i], key) : NULL;
}

/* The item of list whose field is s, or NULL. */
static const struct value *item_where(const struct value *list,
				      const char *field, const char *s)
{
	size_t i;

	for (i = 0; s && list && list->kind == VALUE_LIST && i < list->u.list.n; i++) {
		const char *x = pv_str(list->u.list.items[i], field);
		if (x && !strcmp(x, s))
			return list->u.list.items[i];
	}
	return NULL;
}

/* The live block device mappings in the template's shape, in the order
 * the state records them (rec; NULL: every live one): DeleteOnTermination
 * from the instance, size, type, IOPS, encryption and snapshot from its
 * volume (vols: DescribeVolumes items). A recorded mapping without Ebs
 * (NoDevice, VirtualName: write-only) is reported as recorded; one whose
 * device is gone is left out (drift). */
static struct value *live_bdm(struct arena *a, const struct value *it,
			      const struct value *rec, const struct value *vols)
{
	const struct value *live = pv(it, "blockDeviceMapping");
	struct value *out = value_new_list(a);
	size_t i, n = rec && rec->kind == VALUE_LIST ? rec->u.list.n
			: live && live->kind == VALUE_LIST ? live->u.list.n : 0;

	for (i = 0; i < n; i++) {
		const struct value *rm = rec ? rec->u.list.items[i] : NULL;
		const struct value *lm = rec ? item_where(live, "deviceName",
							  pv_str(rm, "DeviceName"))
					     : live->u.list.items[i];
		const struct value *ebs, *vol, *rebs = pv(rm, "Ebs");
		struct value *m, *e;
		const char *s;
		if (rm && !rebs) {
			value_list_push(a, out, (struct value *)rm);
			continue;
		}
		if (!lm)
			continue;
		ebs = pv(lm, "ebs");
		vol = item_where(vols, "volumeId", pv_str(ebs, "volumeId"));
		m = value_new_map(a);
		ps(a, m, "DeviceName", pv_str(lm, "deviceName"));
		e = value_new_map(a);
		if (pv_str(ebs, "deleteOnTermination"))
			value_map_set(a, e, "DeleteOnTermination",
				      value_new_bool(a, pv_bool(ebs, "deleteOnTermination",
								true)));
		if (!vol) {
			/* the volume could not be read: what is recorded */
			for (size_t j = 0; rebs && rebs->kind == VALUE_MAP &&
					   j < rebs->u.map.n; j++)
				if (strcmp(rebs->u.map.items[j].key, "DeleteOnTermination"))
					value_map_set(a, e, rebs->u.map.items[j].key,
						      rebs->u.map.items[j].val);
		} else {
			if ((s = pv_str(vol, "size")))
				value_map_set(a, e, "VolumeSize", value_new_number(a, s));
			ps(a, e, "VolumeType", pv_str(vol, "volumeType"));
			if ((s = pv_str(vol, "iops")))
				value_map_set(a, e, "Iops", value_new_number(a, s));
			if (pv_str(vol, "encrypted"))
				value_map_set(a, e, "Encrypted",
					      value_new_bool(a, pv_bool(vol, "encrypted",
									false)));
			if ((s = pv_str(vol, "snapshotId")) && *s)
				ps(a, e, "SnapshotId", s);
			/* a key id, alias or ARN in the template, an ARN live:
			 * only an ARN is compared */
			if ((s = pv_str(vol, "kmsKeyId")) && *s) {
				const char *rk = pv_str(rebs, "KmsKeyId");
				ps(a, e, "KmsKeyId",
				   rk && strncmp(rk, "arn:", 4) ? rk : s);
			}
		}
		value_map_set(a, m, "Ebs", e);
		value_list_push(a, out, m);
	}
	return out;
}

/* An instance attribute (DescribeInstanceAttribute): the text of its
 * Value, or NULL when it has none. */
static int inst_attribute(struct provider_ctx *ctx, const char *id,
			  const char *attr, const char *member,
			  const char **out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;

	ps(ctx->arena, p, "InstanceId", id);
	ps(ctx->arena, p, "Attribute", attr);
	if (!(r = pcall(ctx, "ec2", "DescribeInstanceAttribute", p, err)))
		return -1;
	*out = pv_str(pv(r, member), "value");
	return 0;
}

/* The instance's properties in the template's shape, from its
 * DescribeInstances item (and vols, credits: batched reads). */
static struct value *inst_props(struct provider_ctx *ctx, size_t i,
				const struct value *it, const struct value *vols,
				const struct value *credits)
{
	struct arena *a = ctx->arena;
	struct value *props = value_new_map(a), *l, *t, *m;
	const struct value *gs = pv(it, "groupSet"), *pl = pv(it, "placement");
	const struct value *mo = pv(it, "metadataOptions");
	const char *s;
	size_t j;

	ps(a, props, "ImageId", pv_str(it, "imageId"));
	ps(a, props, "InstanceType", pv_str(it, "instanceType"));
	ps(a, props, "SubnetId", pv_str(it, "subnetId"));
	ps(a, props, "KeyName", pv_str(it, "keyName"));
	ps(a, props, "PrivateIpAddress", pv_str(it, "privateIpAddress"));
	ps(a, props, "AvailabilityZone", pv_str(pl, "availabilityZone"));
	ps(a, props, "Tenancy", pv_str(pl, "tenancy"));
	ps(a, props, "Affinity", pv_str(pl, "affinity"));
	ps(a, props, "HostId", pv_str(pl, "hostId"));
	ps(a, props, "KernelId", pv_str(it, "kernelId"));
	ps(a, props, "RamdiskId", pv_str(it, "ramdiskId"));
	ps(a, props, "IamInstanceProfile",
	   profile_name(a, pv_str(pv(it, "iamInstanceProfile"), "arn")));
	if (pv_str(it, "ebsOptimized"))
		pb(a, props, "EbsOptimized", pv_bool(it, "ebsOptimized", false));
	if (pv_str(it, "sourceDestCheck"))
		pb(a, props, "SourceDestCheck", pv_bool(it, "sourceDestCheck", true));
	if ((s = pv_str(pv(it, "monitoring"), "state")))
		pb(a, props, "Monitoring",
		   !strcmp(s, "enabled") || !strcmp(s, "pending"));
	l = value_new_list(a);
	for (j = 0; gs && gs->kind == VALUE_LIST && j < gs->u.list.n; j++) {
		const char *g = pv_str(gs->u.list.items[j], "groupId");
		if (g)
			value_list_push(a, l, value_new_string(a, g));
	}
	value_map_set(a, props, "SecurityGroupIds", l);
	m = value_new_map(a);
	ps(a, m, "HttpTokens", pv_str(mo, "httpTokens"));
	ps(a, m, "HttpEndpoint", pv_str(mo, "httpEndpoint"));
	if ((s = pv_str(mo, "httpPutResponseHopLimit")))
		value_map_set(a, m, "HttpPutResponseHopLimit", value_new_number(a, s));
	ps(a, m, "InstanceMetadataTags", pv_str(mo, "instanceMetadataTags"));
	value_map_set(a, props, "MetadataOptions", m);
	if (wants(ctx, i, "BlockDeviceMappings"))
		value_map_set(a, props, "BlockDeviceMappings",
			      live_bdm(a, it, recorded_prop(ctx, i, "BlockDeviceMappings"),
				       vols));
	if (credits) {
		const struct value *c = item_where(credits, "instanceId",
						   pv_str(it, "instanceId"));
		if (c && pv_str(c, "cpuCredits")) {
			struct value *cs = value_new_map(a);
			ps(a, cs, "CPUCredits", pv_str(c, "cpuCredits"));
			value_map_set(a, props, "CreditSpecification", cs);
		}
	}
	t = tags_from_aws(a, pv(it, "tagSet"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	return props;
}

/* Template properties only DescribeInstanceAttribute answers (one call
 * per instance and attribute): read only when the state records them. */
static const struct {
	const char *prop, *attr, *member;
	bool boolean;
} ATTR_PROPS[] = {
	{ "UserData", "userData", "userData", false },
	{ "DisableApiTermination", "disableApiTermination",
	  "disableApiTermination", true },
	{ "InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior",
	  "instanceInitiatedShutdownBehavior", false },
};

/*
 * Reads n instances: one DescribeInstances with the id list; one
 * DescribeVolumes for the volumes of the mappings the state records (none
 * when no instance records BlockDeviceMappings); one
 * DescribeInstanceCreditSpecifications when some instance records a
 * CreditSpecification; and one DescribeInstanceAttribute per instance and
 * per recorded UserData, DisableApiTermination or
 * InstanceInitiatedShutdownBehavior (nothing else reads them). With no
 * recorded properties (import), UserData and the volumes are read.
 */
static int inst_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n + 1) * sizeof(*found));
	const struct value **vf = NULL, *credits = NULL;
	struct value *vols = value_new_list(a);
	const char **vids = NULL, **cids = arena_alloc(a, (n + 1) * sizeof(*cids));
	size_t i, j, nv = 0, cap = 0, nc = 0;

	if (inst_describe(ctx, n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct value *live, *rec;
		if (inst_gone(found[i]))
			continue;
		if (wants(ctx, i, "CreditSpecification") && ctx->recorded)
			cids[nc++] = ids[i];
		if (!wants(ctx, i, "BlockDeviceMappings"))
			continue;
		live = pv(found[i], "blockDeviceMapping");
		rec = recorded_prop(ctx, i, "BlockDeviceMappings");
		for (j = 0; live && live->kind == VALUE_LIST && j < live->u.list.n; j++) {
			const struct value *lm = live->u.list.items[j];
			const char *v = pv_str(pv(lm, "ebs"), "volumeId");
			if (!v || (rec && !item_where(rec, "DeviceName",
						     pv_str(lm, "deviceName"))))
				continue;
			if (nv == cap) {
				size_t nc2 = cap ? cap * 2 : 16;
				vids = arena_realloc(a, vids, cap * sizeof(*vids),
						     nc2 * sizeof(*vids));
				cap = nc2;
			}
			vids[nv++] = v;
		}
	}
	if (nv) {
		/* ec2_describe: one DescribeVolumes with the id list (no
		 * MaxResults, which AWS refuses with VolumeIds) */
		vf = arena_alloc(a, nv * sizeof(*vf));
		if (ec2_describe(ctx, "DescribeVolumes", "VolumeIds", "volumeSet",
				 "volumeId", nv, vids, vf, err) < 0)
			return -1;
		for (j = 0; j < nv; j++)
			if (vf[j])
				value_list_push(a, vols, (struct value *)vf[j]);
	}
	if (nc) {
		struct value *p = value_new_map(a), *l = value_new_list(a), *r;
		for (j = 0; j < nc; j++)
			value_list_push(a, l, value_new_string(a, cids[j]));
		value_map_set(a, p, "InstanceIds", l);
		r = pcall_all(ctx, "ec2", "DescribeInstanceCreditSpecifications", p,
			      "instanceCreditSpecificationSet", err);
		if (!r)
			return -1;
		credits = pv(r, "instanceCreditSpecificationSet");
	}
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (inst_gone(found[i]))
			continue;
		inst_result(ctx, ids[i], found[i], &outs[i]);
		outs[i].props = inst_props(ctx, i, found[i], vols, credits);
		for (j = 0; j < sizeof(ATTR_PROPS) / sizeof(ATTR_PROPS[0]); j++) {
			const char *v = NULL;
			if (ctx->recorded ? !wants(ctx, i, ATTR_PROPS[j].prop)
					  : strcmp(ATTR_PROPS[j].prop, "UserData"))
				continue;
			if (inst_attribute(ctx, ids[i], ATTR_PROPS[j].attr,
					   ATTR_PROPS[j].member, &v, err) < 0) {
				if (err->code != ERR_NOT_FOUND)
					return -1;
				/* terminated since the describe */
				err_clear(err);
				memset(&outs[i], 0, sizeof(outs[i]));
				break;
			}
			if (ATTR_PROPS[j].boolean && v)
				pb(a, outs[i].props, ATTR_PROPS[j].prop,
				   !strcasecmp(v, "true"));
			else
				ps(a, outs[i].props, ATTR_PROPS[j].prop, v);
		}
	}
	return 0;
}

static int inst_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	(void)attrs;
	return read_via_many(&prov_ec2_instance, ctx, id, out, err);
}

/* ---- update */

/* ModifyInstanceAttribute of one attribute {Value: val} (a string). */
static int modify(struct provider_ctx *ctx, const char *id, const char *key,
		  const char *val, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *v = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InstanceId", id);
	ps(ctx->arena, v, "Value", val);
	value_map_set(ctx->arena, p, key, v);
	return pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err) ? 0 : -1;
}

/* ModifyInstanceAttribute of one boolean attribute. */
static int modify_bool(struct provider_ctx *ctx, const char *id,
		       const char *key, bool b, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "InstanceId", id);
	pattr(ctx->arena, p, key, b);
	return pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err) ? 0 : -1;
}

static int inst_simple(struct provider_ctx *ctx, const char *op,
		       const char *list_key, const char *id, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	value_map_set(ctx->arena, p, list_key, str_list1(ctx->arena, id));
	return pcall(ctx, "ec2", op, p, err) ? 0 : -1;
}

/* A mapping without its Ebs.DeleteOnTermination (what else it says). */
static struct value *bdm_sans_dot(struct arena *a, const struct value *m)
{
	struct value *c = value_copy(a, m), *e;

	if (c && c->kind == VALUE_MAP && (e = value_map_get(c, "Ebs")) &&
	    e->kind == VALUE_MAP)
		value_map_del(e, "DeleteOnTermination");
	return c;
}

/* Whether the mappings differ in nothing but DeleteOnTermination (the
 * change EC2 makes in place; any other is a replacement). */
static bool bdm_in_place(struct arena *a, const struct value *old_bdm,
			 const struct value *new_bdm)
{
	size_t i, n;

	if (!old_bdm || !new_bdm)
		return !old_bdm && !new_bdm;
	if (old_bdm->kind != VALUE_LIST || new_bdm->kind != VALUE_LIST ||
	    old_bdm->u.list.n != new_bdm->u.list.n)
		return false;
	n = old_bdm->u.list.n;
	for (i = 0; i < n; i++)
		if (!value_equal(bdm_sans_dot(a, old_bdm->u.list.items[i]),
				 bdm_sans_dot(a, new_bdm->u.list.items[i])))
			return false;
	return true;
}

/* DeleteOnTermination changes: one ModifyInstanceAttribute BlockDeviceMapping
 * naming every changed device. */
static int bdm_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_bdm, const struct value *new_bdm,
		      struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *l = value_new_list(a);
	size_t i;

	for (i = 0; new_bdm && new_bdm->kind == VALUE_LIST && i < new_bdm->u.list.n; i++) {
		const struct value *nm = new_bdm->u.list.items[i];
		const struct value *om = old_bdm->u.list.items[i];
		const struct value *ne = pv(nm, "Ebs"), *oe = pv(om, "Ebs");
		struct value *m, *e;
		if (!ne)
			continue;
		/* EC2's default for a mapped EBS volume: deleted on termination */
		if (pv_bool(ne, "DeleteOnTermination", true) ==
		    pv_bool(oe, "DeleteOnTermination", true))
			continue;
		m = value_new_map(a);
		e = value_new_map(a);
		ps(a, m, "DeviceName", pv_str(nm, "DeviceName"));
		pb(a, e, "DeleteOnTermination", pv_bool(ne, "DeleteOnTermination", true));
		value_map_set(a, m, "Ebs", e);
		value_list_push(a, l, m);
	}
	if (!l->u.list.n)
		return 0;
	ps(a, p, "InstanceId", id);
	value_map_set(a, p, "BlockDeviceMappings", l);
	return pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err) ? 0 : -1;
}

/* The instance's current profile association id (associated or
 * associating) and its profile's ARN, or NULLs. */
static int profile_assoc(struct provider_ctx *ctx, const char *id,
			 const char **assoc, const char **arn, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *fl = value_new_list(a), *r;
	const struct value *l;
	size_t i;

	*assoc = *arn = NULL;
	ec2_filter(a, fl, "instance-id", id);
	value_map_set(a, p, "Filters", fl);
	if (!(r = pcall_all(ctx, "ec2", "DescribeIamInstanceProfileAssociations", p,
			    "iamInstanceProfileAssociationSet", err)))
		return -1;
	l = pv(r, "iamInstanceProfileAssociationSet");
	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
		const char *st = pv_str(l->u.list.items[i], "state");
		if (st && (!strcmp(st, "associated") || !strcmp(st, "associating"))) {
			*assoc = pv_str(l->u.list.items[i], "associationId");
			*arn = pv_str(pv(l->u.list.items[i], "iamInstanceProfile"),
				      "arn");
		}
	}
	return 0;
}

/* Whether a profile ARN is the template's profile (a name or an ARN). */
static bool is_profile(const char *arn, const char *want)
{
	const char *name = arn ? strrchr(arn, '/') : NULL;

	if (!arn || !want)
		return false;
	return !strcmp(arn, want) || (name && !strcmp(name + 1, want));
}

/* IamInstanceProfile set, changed or removed without a stop. */
static int profile_update(struct provider_ctx *ctx, const char *id,
			  const char *want, struct err *err)
{
	struct arena *a = ctx->arena;
	const char *assoc, *arn;
	struct value *p;

	if (profile_assoc(ctx, id, &assoc, &arn, err) < 0)
		return -1;
	if (want && assoc && is_profile(arn, want))
		return 0; /* already so (a lost answer's retry) */
	p = value_new_map(a);
	if (!want) {
		if (!assoc)
			return 0;
		ps(a, p, "AssociationId", assoc);
		if (!pcall(ctx, "ec2", "DisassociateIamInstanceProfile", p, err))
			return gone_is_ok(err);
		return 0;
	}
	if (assoc) {
		ps(a, p, "AssociationId", assoc);
		value_map_set(a, p, "IamInstanceProfile", profile_spec(a, want));
		if (profile_call(ctx, "ReplaceIamInstanceProfileAssociation", p, err))
			return 0;
		if (!strcmp(err->aws_code, "IncorrectState")) {
			/* a stopped instance's association cannot be replaced
			 * ("for the specified running instance", the API
			 * reference): disassociated, then a new one */
			err_clear(err);
			p = value_new_map(a);
			ps(a, p, "AssociationId", assoc);
			if (!pcall(ctx, "ec2", "DisassociateIamInstanceProfile", p, err) &&
			    gone_is_ok(err) < 0)
				return -1;
		} else if (err->code != ERR_NOT_FOUND) {
			return -1; /* NotFound: it went away meanwhile */
		}
		err_clear(err);
		p = value_new_map(a);
	}
	ps(a, p, "InstanceId", id);
	value_map_set(a, p, "IamInstanceProfile", profile_spec(a, want));
	if (profile_call(ctx, "AssociateIamInstanceProfile", p, err))
		return 0;
	/* IncorrectState "There is an existing association": a resent call
	 * whose first answer was lost made it */
	if (strcmp(err->aws_code, "IncorrectState"))
		return -1;
	{
		struct err e2 = ERR_INIT;
		if (profile_assoc(ctx, id, &assoc, &arn, &e2) == 0 &&
		    is_profile(arn, want)) {
			err_clear(err);
			return 0;
		}
	}
	return -1;
}

static int credit_update(struct provider_ctx *ctx, const char *id,
			 const char *credits, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *l = value_new_list(a), *s, *r;
	const struct value *bad;

	s = value_new_map(a);
	ps(a, s, "InstanceId", id);
	ps(a, s, "CpuCredits", credits);
	value_list_push(a, l, s);
	value_map_set(a, p, "InstanceCreditSpecifications", l);
	if (!(r = pcall(ctx, "ec2", "ModifyInstanceCreditSpecification", p, err)))
		return -1;
	bad = pv(r, "unsuccessfulInstanceCreditSpecificationSet");
	if (bad && bad->kind == VALUE_LIST && bad->u.list.n) {
		const struct value *e = pv(bad->u.list.items[0], "error");
		return prov_fail(ctx, err, ERR_AWS,
				 "ec2:ModifyInstanceCreditSpecification: %s: %s",
				 pv_str(e, "code") ? pv_str(e, "code") : "?",
				 pv_str(e, "message") ? pv_str(e, "message") : "");
	}
	return 0;
}

/* The changes made while the instance is stopped. */
static int stopped_changes(struct provider_ctx *ctx, const char *id,
			   const struct value *old_props,
			   const struct value *new_props, struct err *err)
{
	struct arena *a = ctx->arena;

	if (pv_changed(old_props, new_props, "InstanceType") &&
	    modify(ctx, id, "InstanceType", pv_str(new_props, "InstanceType"), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "UserData")) {
		/* the template holds base64 text; UserData's Value is a blob,
		 * which the wire carries as base64 too */
		struct value *p = value_new_map(a), *v = value_new_map(a);
		ps(a, p, "InstanceId", id);
		ps(a, v, "Value", pv_str(new_props, "UserData")
					  ? pv_str(new_props, "UserData") : "");
		value_map_set(a, p, "UserData", v);
		if (!pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "EbsOptimized") &&
	    modify_bool(ctx, id, "EbsOptimized",
			pv_bool(new_props, "EbsOptimized", false), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "KernelId") &&
	    modify(ctx, id, "Kernel", pv_str(new_props, "KernelId"), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "RamdiskId") &&
	    modify(ctx, id, "Ramdisk", pv_str(new_props, "RamdiskId"), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "Tenancy") ||
	    pv_changed(old_props, new_props, "Affinity") ||
	    pv_changed(old_props, new_props, "HostId")) {
		struct value *p = value_new_map(a);
		ps(a, p, "InstanceId", id);
		if (pv_changed(old_props, new_props, "Tenancy"))
			ps(a, p, "Tenancy", pv_str(new_props, "Tenancy"));
		if (pv_changed(old_props, new_props, "Affinity"))
			ps(a, p, "Affinity", pv_str(new_props, "Affinity")
						     ? pv_str(new_props, "Affinity")
						     : "default");
		if (pv_changed(old_props, new_props, "HostId"))
			ps(a, p, "HostId", pv_str(new_props, "HostId"));
		if (!pcall(ctx, "ec2", "ModifyInstancePlacement", p, err))
			return -1;
	}
	return 0;
}

static int inst_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
{
	static const char *const stop_fail[] = { "terminated", "shutting-down",
						 NULL };
	struct arena *a = ctx->arena;
	const struct value *it = NULL;
	const char *why = NULL;
	size_t i;

	(void)attrs;
	for (i = 0; STOP_PROPS[i]; i++)
		if (pv_changed(old_props, new_props, STOP_PROPS[i]) && !why)
			why = STOP_PROPS[i];
	/* refused before anything is stopped */
	if (pv_changed(old_props, new_props, "BlockDeviceMappings") &&
	    !bdm_in_place(a, pv(old_props, "BlockDeviceMappings"),
				       pv(new_props, "BlockDeviceMappings")))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "BlockDeviceMappings: only DeleteOnTermination "
				 "changes in place; any other change replaces "
				 "the instance");
	if (pv_changed(old_props, new_props, "Tenancy") &&
	    (!pv_str(new_props, "Tenancy") ||
	     !strcmp(pv_str(new_props, "Tenancy"), "default")))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "Tenancy: EC2 changes a launched instance's tenancy "
				 "only to dedicated or host (ModifyInstancePlacement); "
				 "back to default needs a new instance");
	if (why) {
		/* "Some interruptions": stopped, changed, started again */
		prov_status(ctx, arena_sprintf(a, "stopping to change %s", why));
		if (inst_simple(ctx, "StopInstances", "InstanceIds", id, err) < 0 ||
		    inst_wait(ctx, id, "stopped", stop_fail, NULL, err) < 0)
			return -1;
		if (stopped_changes(ctx, id, old_props, new_props, err) < 0) {
			/* leave it running as it was, then report */
			struct err e2 = ERR_INIT;
			inst_simple(ctx, "StartInstances", "InstanceIds", id, &e2);
			return -1;
		}
		prov_status(ctx, "starting again");
		if (inst_simple(ctx, "StartInstances", "InstanceIds", id, err) < 0 ||
		    inst_wait(ctx, id, "running", stop_fail, &it, err) < 0)
			return -1;
	}
	if (pv_changed(old_props, new_props, "SecurityGroupIds")) {
		struct value *p = value_new_map(a);
		ps(a, p, "InstanceId", id);
		value_map_set(a, p, "Groups",
			      (struct value *)pv(new_props, "SecurityGroupIds"));
		if (!pcall(ctx, "ec2", "ModifyInstanceAttribute", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "DisableApiTermination") &&
	    modify_bool(ctx, id, "DisableApiTermination",
			pv_bool(new_props, "DisableApiTermination", false), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "SourceDestCheck") &&
	    modify_bool(ctx, id, "SourceDestCheck",
			pv_bool(new_props, "SourceDestCheck", true), err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "InstanceInitiatedShutdownBehavior") &&
	    modify(ctx, id, "InstanceInitiatedShutdownBehavior",
		   pv_str(new_props, "InstanceInitiatedShutdownBehavior")
			   ? pv_str(new_props, "InstanceInitiatedShutdownBehavior")
			   : "stop", err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "BlockDeviceMappings") &&
	    bdm_update(ctx, id, pv(old_props, "BlockDeviceMappings"),
		       pv(new_props, "BlockDeviceMappings"), err) < 0)
		return -1;
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
	if (pv_changed(old_props, new_props, "Monitoring") &&
	    inst_simple(ctx, pv_bool(new_props, "Monitoring", false)
				     ? "MonitorInstances" : "UnmonitorInstances",
			"InstanceIds", id, err) < 0)
		return -1;
	if (pv_changed(old_props, new_props, "CreditSpecification")) {
		const char *c = pv_str(pv(new_props, "CreditSpecification"), "CPUCredits");
		/* without one, the type's default: standard for T2,
		 * unlimited for the later T families */
		if (!c)
			c = pv_str(new_props, "InstanceType") &&
					    !strncmp(pv_str(new_props, "InstanceType"),
						     "t2.", 3)
				    ? "standard" : "unlimited";
		if (credit_update(ctx, id, c, err) < 0)
			return -1;
	}
	if (pv_changed(old_props, new_props, "IamInstanceProfile") &&
	    profile_update(ctx, id, pv_str(new_props, "IamInstanceProfile"), err) < 0)
		return -1;
	if (ec2_update_tags(ctx, id, old_props, new_props, err) < 0)
		return -1;
	if (!it && inst_describe(ctx, 1, &id, &it, err) < 0)
		return -1;
	inst_result(ctx, id, it, out);
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
	/* by filters (no ids), so paged as AWS recommends */
	pn(a, p, "MaxResults", "1000");
	if (!(r = pcall_all(ctx, "ec2", "DescribeInstances", p, "reservationSet",
			    err)))
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
	.read_many = inst_read_many,
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

static int key_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err);

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
		/* the template has the key's text ("ssh-ed25519 AAAA..."); the
		 * API's PublicKeyMaterial is a blob, base64 on the wire (EC2 API
		 * reference, ImportKeyPair: "the text must be base64-encoded") */
		size_t n = strlen(pub);
		char *b64 = arena_alloc(a, 4 * ((n + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pub,
				(int)n);
		ps(a, p, "PublicKeyMaterial", b64);
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
	/* a key pair whose private key could not be kept is of no use (it
	 * is never shown again): deleted again */
	if (!r)
		return prov_undo_create(ctx, "key pair", pv_str(props, "KeyName"),
					key_delete, props, err);
	return 0;
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
	/* a created key whose private key never reached its parameter (the
	 * CreateKeyPair answer was lost, or the run stopped before
	 * PutParameter): the private key is gone for good and the key pair
	 * is of no use. It is this resource's (its tags): deleted, so that
	 * the create makes one whose private key is kept */
	if (!pv_str(props, "PublicKeyMaterial") && pv_str(it, "keyPairId")) {
		struct value *p = value_new_map(ctx->arena), *attrs;
		ps(ctx->arena, p, "ResourceType", "Parameter");
		ps(ctx->arena, p, "ResourceId", key_param(ctx, pv_str(it, "keyPairId")));
		if (!pcall(ctx, "ssm", "ListTagsForResource", p, err)) {
			if (err->code != ERR_NOT_FOUND)
				return -1;
			err_clear(err);
			log_msg(LOG_INFO, "%s: key pair %s (%s) was made by an earlier "
				"attempt whose private key was lost: deleting it and "
				"creating it again", ctx->logical_id,
				pv_str(props, "KeyName"), pv_str(it, "keyPairId"));
			attrs = value_new_map(ctx->arena);
			set_attr(ctx, attrs, "KeyPairId", pv_str(it, "keyPairId"));
			if (key_delete(ctx, pv_str(props, "KeyName"), props, attrs, err) < 0)
				return -1;
			return prov_fail(ctx, err, ERR_NOT_FOUND,
					 "key pair \"%s\" had lost its private key and "
					 "was deleted", pv_str(props, "KeyName"));
		}
	}
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
