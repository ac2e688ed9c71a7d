/*
 * The plan model: one action per resource, and the order to show (and,
 * later, run) them in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/plan.h"
#include "cairn/schema.h"
#include "plan_int.h"

/* logical id -> index in p->items; open addressing, never shrinks */
struct plan_index {
	size_t *slots; /* index + 1; 0 = empty */
	size_t cap, used;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void index_insert(struct plan_index *ix, const struct plan *p,
			 const char *key, size_t idx)
{
	size_t mask = ix->cap - 1, i;

	for (i = hash_str(key) & mask;; i = (i + 1) & mask) {
		size_t s = ix->slots[i];
		if (!s) {
			ix->slots[i] = idx + 1;
			ix->used++;
			return;
		}
		if (!strcmp(p->items[s - 1].logical_id, key)) {
			ix->slots[i] = idx + 1; /* a duplicate id: last wins */
			return;
		}
	}
}

/* Rebuilds the index over every item of p->items. */
void plan_index_rebuild(struct plan *p)
{
	struct plan_index *ix = p->index;
	size_t i, ncap = 64;

	while ((p->n + 1) * 2 > ncap)
		ncap *= 2;
	ix->slots = arena_alloc(p->arena, ncap * sizeof(*ix->slots));
	ix->cap = ncap;
	ix->used = 0;
	for (i = 0; i < p->n; i++)
		index_insert(ix, p, p->items[i].logical_id, i);
}

/* Indexes item idx, already in p->items. */
static void index_put(struct plan *p, const char *key, size_t idx)
{
	if ((p->index->used + 1) * 2 > p->index->cap)
		plan_index_rebuild(p);
	else
		index_insert(p->index, p, key, idx);
}

const struct plan_resource *plan_find(const struct plan *p,
				      const char *logical_id)
{
	const struct plan_index *ix = p->index;
	size_t mask, i;

	if (!ix->cap)
		return NULL;
	mask = ix->cap - 1;
	for (i = hash_str(logical_id) & mask;; i = (i + 1) & mask) {
		size_t s = ix->slots[i];
		if (!s)
			return NULL;
		if (!strcmp(p->items[s - 1].logical_id, logical_id))
			return &p->items[s - 1];
	}
}

const char *plan_action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_NOOP:
		return "no-op";
	case PLAN_CREATE:
		return "create";
	case PLAN_UPDATE:
		return "update";
	case PLAN_REPLACE:
		return "replace";
	case PLAN_DELETE:
		return "delete";
	case PLAN_FORGET:
		return "forget";
	}
	return "?";
}

struct plan *plan_new(struct arena *a)
{
	struct plan *p = arena_alloc(a, sizeof(*p));

	p->arena = a;
	p->index = arena_alloc(a, sizeof(*p->index));
	return p;
}

static struct plan_resource *push(struct plan *p, const char *logical_id)
{
	struct plan_resource *it;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		p->items = arena_realloc(p->arena, p->items,
					 p->cap * sizeof(*p->items),
					 cap * sizeof(*p->items));
		p->cap = cap;
	}
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	it->logical_id = arena_strdup(p->arena, logical_id);
	index_put(p, it->logical_id, p->n - 1);
	return it;
}

static void add_reason(struct plan *p, struct plan_resource *it,
		       const char *reason)
{
	size_t i;

	for (i = 0; i < it->nreasons; i++)
		if (!strcmp(it->reasons[i], reason))
			return;
	it->reasons = arena_realloc(p->arena, it->reasons,
				    it->nreasons * sizeof(*it->reasons),
				    (it->nreasons + 1) * sizeof(*it->reasons));
	it->reasons[it->nreasons++] = reason;
}

static int retain_policy(const char *policy)
{
	return policy && (!strcmp(policy, "Retain") ||
			  !strcmp(policy, "RetainExceptOnCreate"));
}

/*
 * What makes two resources of a type collide, so that a replacement must
 * delete the old one first. `name`: a name-like property; when the
 * template leaves it unset AWS (or cairn) generates a fresh one and the
 * replacement can be created first, as CloudFormation does. `scope`:
 * properties that, when equal on both sides, make the new resource clash
 * with the old one (a second route for the same destination, a second
 * association of the same subnet...).
 */
struct uniqueness {
	const char *type;
	const char *name;
	const char *scope[5];
};

static const struct uniqueness uniq_table[] = {
	{ "AWS::EC2::Subnet", NULL, { "VpcId", "CidrBlock" } },
	{ "AWS::EC2::VPCGatewayAttachment", NULL, { "VpcId" } },
	{ "AWS::EC2::VPCGatewayAttachment", NULL, { "InternetGatewayId" } },
	{ "AWS::EC2::NatGateway", NULL, { "AllocationId" } },
	{ "AWS::EC2::Route", NULL,
	  { "RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock",
	    "DestinationPrefixListId" } },
	{ "AWS::EC2::SubnetRouteTableAssociation", NULL, { "SubnetId" } },
	{ "AWS::EC2::SecurityGroup", "GroupName", { "VpcId" } },
	{ "AWS::EC2::SecurityGroupIngress", NULL,
	  { "GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp" } },
	{ "AWS::EC2::SecurityGroupEgress", NULL,
	  { "GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp" } },
	{ "AWS::EC2::VPCEndpoint", NULL, { "VpcId", "ServiceName" } },
	{ "AWS::EC2::EIPAssociation", NULL, { "AllocationId" } },
	{ "AWS::ECR::Repository", "RepositoryName", { NULL } },
	{ "AWS::ECS::Cluster", "ClusterName", { NULL } },
	{ "AWS::ECS::Service", "ServiceName", { "Cluster" } },
	{ "AWS::IAM::Role", "RoleName", { NULL } },
	{ "AWS::IAM::ManagedPolicy", "ManagedPolicyName", { NULL } },
	{ "AWS::IAM::Policy", "PolicyName", { NULL } },
	{ "AWS::IAM::RolePolicy", "PolicyName", { "RoleName" } },
	{ "AWS::SecretsManager::Secret", "Name", { NULL } },
	{ "AWS::Logs::LogGroup", "LogGroupName", { NULL } },
	{ "AWS::S3::Bucket", "BucketName", { NULL } },
};

static int same_prop(struct arena *a, const struct value *d,
		     const struct value *r, const char *key)
{
	struct plan_changes scratch = { NULL, 0, 0 };
	const struct value *x = value_map_get(d, key);
	const struct value *y = value_map_get(r, key);

	/* the diff's own equality, so "5" and 5 agree here too */
	return plan_diff_props(a, x, y, NULL, &scratch) == 0;
}

/* Whether a new resource with props d would clash with the old one (r)
 * on the identity row u describes. */
static bool clashes(struct plan *p, const struct uniqueness *u,
		    const struct value *d, const struct value *r)
{
	size_t i;

	if (u->name) {
		const struct value *n = value_map_get(d, u->name);
		if (!n || n->kind == VALUE_NULL)
			return false; /* generated name: no clash */
		if (!same_prop(p->arena, d, r, u->name))
			return false; /* a new name: no clash either */
	}
	for (i = 0; i < 5 && u->scope[i]; i++)
		if (!same_prop(p->arena, d, r, u->scope[i]))
			return false;
	/* nothing of the identity given (a private NAT gateway has no
	 * AllocationId): nothing to clash on */
	return u->name || !u->scope[0] || value_map_get(d, u->scope[0]);
}

/* A type cairn drives through Cloud Control (no row above): a name the
 * template gives in a create-only property ("QueueName", "TableName",
 * "Name") and keeps is taken by the old resource until it is deleted, so
 * the replacement goes delete-first, as CloudFormation's own handlers
 * would fail with AlreadyExists otherwise. */
static void cc_name_clash(struct plan *p, struct plan_resource *it,
			  const struct value *d, const struct value *r)
{
	const struct schema_type *t = schema_find(it->type);
	size_t i, n;

	if (!t || schema_native(t) || !d || d->kind != VALUE_MAP)
		return;
	for (i = 0; i < d->u.map.n; i++) {
		const char *k = d->u.map.items[i].key;
		n = strlen(k);
		if (n < 4 || strcmp(k + n - 4, "Name") ||
		    !schema_create_only(t, k) || !same_prop(p->arena, d, r, k))
			continue;
		it->create_before_delete = false;
		it->conflict = arena_strdup(p->arena, k);
		return;
	}
}

/* Decides it->create_before_delete and it->conflict. */
static void replacement_order(struct plan *p, struct plan_resource *it,
			      const struct value *d, const struct value *r)
{
	const struct uniqueness *u = NULL;
	size_t i;

	it->create_before_delete = true;
	if (it->old_type)
		return; /* a different type cannot clash by name */
	for (i = 0; i < sizeof(uniq_table) / sizeof(uniq_table[0]) && !u; i++)
		if (!strcmp(uniq_table[i].type, it->type) &&
		    clashes(p, &uniq_table[i], d, r))
			u = &uniq_table[i];
	if (!u) {
		cc_name_clash(p, it, d, r);
		return;
	}
	it->create_before_delete = false;
	if (u->name) {
		it->conflict = u->name;
	} else {
		struct strbuf sb = STRBUF_INIT;
		for (i = 0; i < 5 && u->scope[i]; i++) {
			if (!value_map_get(d, u->scope[i]) &&
			    !value_map_get(r, u->scope[i]))
				continue;
			if (sb.len)
				strbuf_addstr(&sb, ", ");
			strbuf_addstr(&sb, u->scope[i]);
		}
		it->conflict = arena_strdup(p->arena, sb.buf);
		strbuf_release(&sb);
	}
}

static const char *const *copy_deps(struct arena *a, const char *const *deps,
				    size_t n)
{
	const char **c;
	size_t i;

	if (!n)
		return NULL;
	c = arena_alloc(a, n * sizeof(*c));
	for (i = 0; i < n; i++)
		c[i] = arena_strdup(a, deps[i]);
	return c;
}

/*
 * Conditional replacements the schema cannot say (its
 * conditionalCreateOnlyProperties name the property, not the condition).
 * AWS::EC2::Instance BlockDeviceMappings, from CloudFormation's reference
 * (BlockDeviceMapping and Ebs): "After the instance is running, you can
 * modify only the DeleteOnTermination parameter for the attached volumes
 * without interrupting the instance. Modifying any other parameter results
 * in instance replacement."
 */
static bool under(const char *path, const char *prop);

static void conditional_replacement(struct plan_resource *it)
{
	static const char dot[] = ".Ebs.DeleteOnTermination";
	size_t i;

	if (strcmp(it->type, "AWS::EC2::Instance"))
		return;
	for (i = 0; i < it->changes.n; i++) {
		struct plan_change *ch = &it->changes.items[i];
		size_t n = strlen(ch->path);
		if (ch->forces || !under(ch->path, "BlockDeviceMappings"))
			continue;
		if (n > sizeof(dot) - 1 && !strcmp(ch->path + n - (sizeof(dot) - 1), dot))
			continue;
		ch->forces = "BlockDeviceMappings";
	}
}

struct plan_resource *plan_add(struct plan *p, const struct plan_desired *d,
			       const struct plan_recorded *r,
			       const struct plan_diff_opts *opts)
{
	struct plan_resource *it = push(p, d->logical_id);
	size_t i;

	it->type = arena_strdup(p->arena, d->type);
	it->desired = d->props;
	it->depends_on = copy_deps(p->arena, d->depends_on, d->ndeps);
	it->ndeps = d->ndeps;
	if (!r || !r->physical_id) {
		/* not in state, or AWS never confirmed it: create (the
		 * executor adopts a half-made one through the journal) */
		it->action = PLAN_CREATE;
		it->recorded = r ? r->props : NULL;
		plan_diff_props(p->arena, d->props, NULL, opts, &it->changes);
		for (i = 0; i < it->changes.n; i++)
			it->changes.items[i].forces = NULL;
		return it;
	}
	it->recorded = r->props;
	it->physical_id = arena_strdup(p->arena, r->physical_id);
	if (r->type && strcmp(r->type, d->type)) {
		it->old_type = arena_strdup(p->arena, r->type);
		add_reason(p, it, "Type");
	}
	plan_diff_props(p->arena, d->props, r->props, opts, &it->changes);
	conditional_replacement(it);
	for (i = 0; i < it->changes.n; i++)
		if (it->changes.items[i].forces)
			add_reason(p, it, it->changes.items[i].forces);
	/* tainted or failed: AWS holds something cairn cannot trust;
	 * deleting: a delete was sent and never confirmed */
	if (r->status && (!strcmp(r->status, "tainted") ||
			  !strcmp(r->status, "failed") ||
			  !strcmp(r->status, "deleting")))
		add_reason(p, it, arena_strdup(p->arena, r->status));
	if (it->nreasons) {
		it->action = PLAN_REPLACE;
		it->retain_old = retain_policy(d->update_replace_policy);
		replacement_order(p, it, d->props, r->props);
	} else if (it->changes.n) {
		it->action = PLAN_UPDATE;
	} else {
		it->action = PLAN_NOOP;
	}
	return it;
}

struct plan_resource *plan_add_removed(struct plan *p,
				       const struct plan_recorded *r,
				       const char *deletion_policy,
				       const char *why)
{
	struct plan_resource *it = push(p, r->logical_id);

	it->type = arena_strdup(p->arena, r->type ? r->type : "");
	it->physical_id =
		r->physical_id ? arena_strdup(p->arena, r->physical_id) : NULL;
	it->recorded = r->props;
	it->depends_on = copy_deps(p->arena, r->depends_on, r->ndeps);
	it->ndeps = r->ndeps;
	it->why = arena_strdup(p->arena, why ? why : "not in the template");
	it->action = retain_policy(deletion_policy) ? PLAN_FORGET : PLAN_DELETE;
	return it;
}

bool plan_keeps_identity(const struct plan *p, const char *logical_id)
{
	const struct plan_resource *it = plan_find(p, logical_id);

	return it && (it->action == PLAN_NOOP || it->action == PLAN_UPDATE);
}

static int is_removal(const struct plan_resource *it)
{
	return it->action == PLAN_DELETE || it->action == PLAN_FORGET;
}

void plan_finish(struct plan *p)
{
	struct plan_resource *sorted;
	size_t *pending; /* removed resources that depend on item i */
	unsigned char *done;
	size_t i, j, k, n = 0, nrem = 0;

	if (!p->n)
		return;
	sorted = arena_alloc(p->arena, p->n * sizeof(*sorted));
	pending = arena_alloc(p->arena, p->n * sizeof(*pending));
	done = arena_alloc(p->arena, p->n);
	for (i = 0; i < p->n; i++)
		if (!is_removal(&p->items[i]))
			sorted[n++] = p->items[i];
	/* Removals: a resource goes before the ones it depends on (its
	 * dependencies must outlive it). Kahn's algorithm, stable. */
	for (i = 0; i < p->n; i++) {
		const struct plan_resource *it = &p->items[i];
		if (!is_removal(it))
			continue;
		nrem++;
		for (k = 0; k < it->ndeps; k++) {
			const struct plan_resource *dep =
				plan_find(p, it->depends_on[k]);
			if (dep && is_removal(dep))
				pending[dep - p->items]++;
		}
	}
	while (nrem) {
		size_t progressed = 0;
		for (i = 0; i < p->n; i++) {
			struct plan_resource *it = &p->items[i];
			if (!is_removal(it) || done[i] || pending[i])
				continue;
			done[i] = 1;
			sorted[n++] = *it;
			nrem--;
			progressed++;
			for (k = 0; k < it->ndeps; k++) {
				const struct plan_resource *dep =
					plan_find(p, it->depends_on[k]);
				if (dep && is_removal(dep) &&
				    pending[dep - p->items])
					pending[dep - p->items]--;
			}
		}
		if (!progressed) {
			/* a cycle in recorded dependencies (state edited by
			 * hand): keep the recorded order for the rest */
			for (j = 0; j < p->n; j++) {
				if (is_removal(&p->items[j]) && !done[j]) {
					done[j] = 1;
					sorted[n++] = p->items[j];
					nrem--;
				}
			}
		}
	}
	memcpy(p->items, sorted, p->n * sizeof(*sorted));
	plan_index_rebuild(p);
}

void plan_summarize(const struct plan *p, struct plan_summary *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->n; i++) {
		switch (p->items[i].action) {
		case PLAN_NOOP:
			out->noop++;
			break;
		case PLAN_CREATE:
			out->add++;
			break;
		case PLAN_UPDATE:
			out->change++;
			break;
		case PLAN_REPLACE:
			out->replace++;
			break;
		case PLAN_DELETE:
			out->destroy++;
			break;
		case PLAN_FORGET:
			out->forget++;
			break;
		}
	}
}

bool plan_has_changes(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->items[i].action != PLAN_NOOP)
			return true;
	return false;
}

/* Properties whose in-place change interrupts the resource, and the
 * attributes that change with it (AWS::EC2::Instance in the CloudFormation
 * reference: InstanceType, UserData, EbsOptimized, KernelId, RamdiskId,
 * Tenancy, Affinity and HostId "Update requires: Some interruptions" for an
 * EBS-backed instance, done by stopping and starting it; a stopped and
 * started instance without an Elastic IP gets a new public address). Its
 * SecurityGroupIds, also "Some interruptions" there, change while a VPC
 * instance runs (src/providers/ec2_instance.c), so are not listed. */
struct interruption {
	const char *type;
	const char *const *props;
	const char *const *attrs;
	const char *what;
};

static const char *const INSTANCE_PROPS[] = { "InstanceType", "UserData",
					       "EbsOptimized", "KernelId",
					       "RamdiskId", "Tenancy",
					       "Affinity", "HostId", NULL };
static const char *const INSTANCE_ATTRS[] = { "PublicIp", "PublicDnsName", NULL };
static const struct interruption INTERRUPTIONS[] = {
	{ "AWS::EC2::Instance", INSTANCE_PROPS, INSTANCE_ATTRS,
	  "the instance is stopped and started" },
};

/* Whether path is prop or below it. */
static bool under(const char *path, const char *prop)
{
	size_t n = strlen(prop);

	return !strncmp(path, prop, n) &&
	       (!path[n] || path[n] == '.' || path[n] == '[');
}

const char *plan_change_interruption(const struct plan_resource *it,
				     const struct plan_change *ch)
{
	size_t i, k;

	if (!it || it->action != PLAN_UPDATE)
		return NULL;
	for (i = 0; i < sizeof(INTERRUPTIONS) / sizeof(INTERRUPTIONS[0]); i++) {
		const struct interruption *x = &INTERRUPTIONS[i];
		if (strcmp(x->type, it->type))
			continue;
		for (k = 0; x->props[k]; k++)
			if (under(ch->path, x->props[k]))
				return "some interruption";
		return "no interruption";
	}
	return NULL;
}

static const struct interruption *interrupting(const struct plan_resource *it,
					       const char **prop)
{
	size_t i, j, k;

	if (!it || it->action != PLAN_UPDATE)
		return NULL;
	for (i = 0; i < sizeof(INTERRUPTIONS) / sizeof(INTERRUPTIONS[0]); i++) {
		const struct interruption *x = &INTERRUPTIONS[i];
		if (strcmp(x->type, it->type))
			continue;
		for (j = 0; j < it->changes.n; j++) {
			const char *path = it->changes.items[j].path;
			for (k = 0; x->props[k]; k++) {
				size_t n = strlen(x->props[k]);
				if (!strncmp(path, x->props[k], n) &&
				    (!path[n] || path[n] == '.' || path[n] == '[')) {
					*prop = x->props[k];
					return x;
				}
			}
		}
	}
	return NULL;
}

const char *plan_interruption(const struct plan_resource *it,
			      const char **prop)
{
	const struct interruption *x = interrupting(it, prop);

	return x ? x->what : NULL;
}

bool plan_attr_changes(const struct plan *p, const char *logical_id,
		       const char *attr)
{
	const char *prop = NULL;
	const struct interruption *x = interrupting(plan_find(p, logical_id), &prop);
	size_t k;


	for (k = 0; x && attr && x->attrs[k]; k++)
		if (!strcmp(x->attrs[k], attr))
			return true;
	return false;
}
