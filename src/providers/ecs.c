/*
 * AWS::ECS::Cluster, TaskDefinition and Service (JSON 1.1, camelCase
 * members; the template's PascalCase properties are recased, except the
 * free-form maps listed in VERBATIM).
 *
 * Ref: cluster name (GetAtt Arn); task definition ARN (GetAtt
 * TaskDefinitionArn); service ARN (GetAtt Name, ServiceArn).
 *
 * A task definition cannot change in place: update registers a new
 * revision (new physical id) and deregisters the old one; the executor
 * normally plans it as a create-before-delete replacement instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/clock.h"
#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "prov_int.h"

static const char *const VERBATIM[] = { "Options", "DockerLabels", "DriverOpts",
					"Labels", "Tags", NULL };
static const struct tag_api ECS_TAGS = { "ecs", "TagResource", "UntagResource",
					 "resourceArn", "tags", "tagKeys",
					 "key", "value" };

#define IAM_PROPAGATION_SECONDS 120.0

/*
 * The first cluster or service of an account: ECS creates its
 * service-linked role (AWSServiceRoleForECS) on first use, and until IAM
 * has propagated it CreateCluster and CreateService answer
 * InvalidParameterException "Unable to assume the service linked role.
 * Please verify that the ECS service linked role exists." That one
 * message is retried for about two minutes, whether the service sets Role
 * or not; every other InvalidParameterException is a genuine validation
 * error and fails at once (for a service with Role: a young role not yet
 * passable, retried like the service-linked role).
 */
#define SLR_SECONDS 120.0

static bool slr_pending(const struct err *err)
{
	return !strcmp(err->aws_code, "InvalidParameterException") &&
	       strstr(err->msg, "service linked role") != NULL;
}

/* op with the service-linked-role (and, with any_invalid, every
 * InvalidParameterException) retry. */
static struct value *ecs_create_call(struct provider_ctx *ctx, const char *op,
				     const struct value *p, bool any_invalid,
				     struct err *err)
{
	double dl = prov_deadline(ctx, any_invalid ? IAM_PROPAGATION_SECONDS :
						     SLR_SECONDS);
	int attempt = 0;

	for (;;) {
		struct value *r = pcall(ctx, "ecs", op, p, err);
		struct err serr = ERR_INIT;
		char what[96];
		if (r || !(slr_pending(err) ||
			   (any_invalid &&
			    !strcmp(err->aws_code, "InvalidParameterException"))))
			return r;
		snprintf(what, sizeof(what), "ecs:%s (%s)", op,
			 slr_pending(err) ? "service-linked role not yet usable" :
					    err->aws_code);
		prov_status(ctx, what);
		if (prov_sleep_until(ctx, &attempt, dl, what, &serr) < 0) {
			if (serr.code == ERR_CANCELLED)
				*err = serr;
			return NULL;
		}
	}
}

static struct value *str_list(struct arena *a, const char *s)
{
	return str_list1(a, s);
}

/* ============================================================ Cluster */

static const char *cluster_name(struct provider_ctx *ctx,
				const struct value *props)
{
	const char *n = pv_str(props, "ClusterName");

	return n ? n : provider_generate_name(ctx, 255, false);
}

static int cluster_get(struct provider_ctx *ctx, const char *name,
		       const struct value **out, struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r, *inc;
	const struct value *l;
	const char *st;

	value_map_set(ctx->arena, p, "clusters", str_list(ctx->arena, name));
	inc = value_new_list(ctx->arena);
	value_list_push(ctx->arena, inc, value_new_string(ctx->arena, "SETTINGS"));
	value_list_push(ctx->arena, inc, value_new_string(ctx->arena, "TAGS"));
	value_map_set(ctx->arena, p, "include", inc);
	r = pcall(ctx, "ecs", "DescribeClusters", p, err);
	if (!r || !(l = aws_get_list(ctx->arena, r, "clusters", err)))
		return -1;
	*out = NULL;
	if (l->u.list.n) {
		st = pv_str(l->u.list.items[0], "status");
		if (!st || strcmp(st, "INACTIVE"))
			*out = l->u.list.items[0];
	}
	return 0;
}

static void cluster_fill(struct provider_ctx *ctx, const char *name,
			 const struct value *c, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct value *props = value_new_map(a), *t;
	const struct value *st = pv(c, "settings");

	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(a, name);
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", pv_str(c, "clusterArn"));
	ps(a, props, "ClusterName", pv_str(c, "clusterName"));
	if (st && st->kind == VALUE_LIST && st->u.list.n)
		value_map_set(a, props, "ClusterSettings", pascal_keys(a, st, NULL));
	/* in every DescribeClusters answer, without an include */
	st = pv(c, "capacityProviders");
	if (st && st->kind == VALUE_LIST && st->u.list.n)
		value_map_set(a, props, "CapacityProviders", value_copy(a, st));
	st = pv(c, "defaultCapacityProviderStrategy");
	if (st && st->kind == VALUE_LIST && st->u.list.n)
		value_map_set(a, props, "DefaultCapacityProviderStrategy",
			      pascal_keys(a, st, NULL));
	t = tags_from_aws(a, pv(c, "tags"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
}

static int cluster_read(struct provider_ctx *ctx, const char *id,
			const struct value *attrs, struct provider_result *out,
			struct err *err)
{
	const struct value *c;

	(void)attrs;
	if (cluster_get(ctx, id, &c, err) < 0)
		return -1;
	if (!c)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "cluster \"%s\" does not exist",
				 id);
	cluster_fill(ctx, id, c, out);
	return 0;
}

/* Batched read: one DescribeClusters (include SETTINGS and TAGS, so the
 * tags need no call of their own) for up to 100 names; a name AWS lists
 * under failures (MISSING) or as INACTIVE is gone. */
static int cluster_read_many(struct provider_ctx *ctx, size_t n,
			     const char *const *ids,
			     struct provider_result *outs, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p, *r, *names, *inc;
	const struct value *l;
	size_t i, k;

	if (!n)
		return 0;
	p = value_new_map(a);
	names = value_new_list(a);
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		value_list_push(a, names, value_new_string(a, ids[i]));
	}
	value_map_set(a, p, "clusters", names);
	inc = value_new_list(a);
	value_list_push(a, inc, value_new_string(a, "SETTINGS"));
	value_list_push(a, inc, value_new_string(a, "TAGS"));
	value_map_set(a, p, "include", inc);
	r = pcall(ctx, "ecs", "DescribeClusters", p, err);
	if (!r || !(l = aws_get_list(a, r, "clusters", err)))
		return -1;
	for (k = 0; k < l->u.list.n; k++) {
		const struct value *c = l->u.list.items[k];
		const char *cn = pv_str(c, "clusterName"), *ca = pv_str(c, "clusterArn");
		const char *st = pv_str(c, "status");
		if (st && !strcmp(st, "INACTIVE"))
			continue;
		for (i = 0; i < n; i++)
			if (!outs[i].physical_id &&
			    ((cn && !strcmp(ids[i], cn)) || (ca && !strcmp(ids[i], ca))))
				cluster_fill(ctx, ids[i], c, &outs[i]);
	}
	return 0;
}

static int cluster_create(struct provider_ctx *ctx, const struct value *props,
			  struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = cluster_name(ctx, props);

	ps(a, p, "clusterName", name);
	if (pv(props, "ClusterSettings"))
		value_map_set(a, p, "settings",
			      camel_keys(a, pv(props, "ClusterSettings"), VERBATIM));
	if (pv(props, "Configuration"))
		value_map_set(a, p, "configuration",
			      camel_keys(a, pv(props, "Configuration"), VERBATIM));
	if (pv(props, "CapacityProviders"))
		value_map_set(a, p, "capacityProviders",
			      value_copy(a, pv(props, "CapacityProviders")));
	if (pv(props, "DefaultCapacityProviderStrategy"))
		value_map_set(a, p, "defaultCapacityProviderStrategy",
			      camel_keys(a, pv(props, "DefaultCapacityProviderStrategy"),
					 VERBATIM));
	value_map_set(a, p, "tags", tags_rekey(a, tags_merged(ctx, props), "key",
					       "value"));
	/* CreateCluster with the name of an ACTIVE cluster returns that
	 * cluster without an error: look first, and never take over one this
	 * stack did not create (a stopped run's, tagged for this resource,
	 * is simply returned again) */
	{
		const struct value *c;
		if (cluster_get(ctx, name, &c, err) < 0)
			return -1;
		if (c && !tags_owned(ctx, pv(c, "tags")))
			return prov_foreign(ctx, name, pv(c, "tags"), out, err);
		/* this resource's, made by a stopped run or a resent
		 * create: the executor adopts it and brings it to the
		 * template (settings, tags) */
		if (c)
			return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
					 "cluster \"%s\" already exists", name);
	}
	/* the first cluster of an account: the service-linked role may not be
	 * assumable yet; CreateCluster with the same name is idempotent */
	r = ecs_create_call(ctx, "CreateCluster", p, false, err);
	if (!r)
		return -1;
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(a);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", value_str(value_get_path(r, "cluster.clusterArn")));
	return 0;
}

static int cluster_update(struct provider_ctx *ctx, const char *id,
			  const struct value *old_props,
			  const struct value *new_props, const struct value *attrs,
			  struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	const char *arn = value_str(value_map_get(attrs, "Arn"));

	if (pv_changed(old_props, new_props, "ClusterSettings")) {
		struct value *p = value_new_map(a);
		ps(a, p, "cluster", id);
		value_map_set(a, p, "settings",
			      pv(new_props, "ClusterSettings")
				      ? camel_keys(a, pv(new_props, "ClusterSettings"),
						   VERBATIM)
				      : value_new_list(a));
		if (!pcall(ctx, "ecs", "UpdateClusterSettings", p, err))
			return -1;
	}
	if (cluster_read(ctx, id, NULL, out, err) < 0)
		return -1;
	arn = value_str(value_map_get(out->attrs, "Arn"));
	if (arn && api_update_tags(ctx, &ECS_TAGS, arn, old_props, new_props, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

/* The services of cluster id that are not being deleted (ACTIVE) and
 * those draining, as ", "-separated names; NULL when none (or when the
 * listing itself fails: the DeleteCluster error then speaks alone). */
static void cluster_blockers(struct provider_ctx *ctx, const char *id,
			     const char **active, const char **draining)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *arns;
	struct err e = ERR_INIT;
	struct strbuf act, drn;
	size_t i;

	*active = *draining = NULL;
	ps(ctx->arena, p, "cluster", id);
	r = pcall_all(ctx, "ecs", "ListServices", p, "serviceArns", &e);
	if (!r || !(arns = value_map_get(r, "serviceArns")) ||
	    arns->kind != VALUE_LIST || !arns->u.list.n)
		return;
	strbuf_init(&act, 64);
	strbuf_init(&drn, 64);
	/* DescribeServices takes at most 10 names a call */
	for (i = 0; i < arns->u.list.n; i += 10) {
		struct value *q = value_new_map(ctx->arena), *names, *d;
		const struct value *l;
		size_t k;
		names = value_new_list(ctx->arena);
		for (k = i; k < arns->u.list.n && k < i + 10; k++)
			value_list_push(ctx->arena, names,
					arns->u.list.items[k]);
		ps(ctx->arena, q, "cluster", id);
		value_map_set(ctx->arena, q, "services", names);
		if (!(d = pcall(ctx, "ecs", "DescribeServices", q, &e)) ||
		    !(l = value_map_get(d, "services")) ||
		    l->kind != VALUE_LIST)
			continue;
		for (k = 0; k < l->u.list.n; k++) {
			const char *st = pv_str(l->u.list.items[k], "status");
			const char *nm = pv_str(l->u.list.items[k],
						"serviceName");
			struct strbuf *b = st && !strcmp(st, "ACTIVE") ? &act
				: st && !strcmp(st, "DRAINING") ? &drn : NULL;
			if (!b || !nm)
				continue;
			if (b->len)
				strbuf_addstr(b, ", ");
			strbuf_addstr(b, nm);
		}
	}
	if (act.len)
		*active = arena_strdup(ctx->arena, act.buf);
	if (drn.len)
		*draining = arena_strdup(ctx->arena, drn.buf);
	strbuf_release(&act);
	strbuf_release(&drn);
}

/* The EC2 instance ids of cluster id's ACTIVE container instances whose
 * agent is connected, ", "-separated; NULL when none or when the listing
 * fails. */
static const char *cluster_live_hosts(struct provider_ctx *ctx, const char *id)
{
	struct value *p = value_new_map(ctx->arena), *r, *q, *names;
	const struct value *arns, *l;
	struct err e = ERR_INIT;
	struct strbuf b;
	const char *out = NULL;
	size_t i;

	ps(ctx->arena, p, "cluster", id);
	ps(ctx->arena, p, "status", "ACTIVE");
	r = pcall_all(ctx, "ecs", "ListContainerInstances", p,
		      "containerInstanceArns", &e);
	if (!r || !(arns = value_map_get(r, "containerInstanceArns")) ||
	    arns->kind != VALUE_LIST || !arns->u.list.n)
		return NULL;
	q = value_new_map(ctx->arena);
	names = value_new_list(ctx->arena);
	/* DescribeContainerInstances takes 100 a call: the first 100 name
	 * the problem well enough */
	for (i = 0; i < arns->u.list.n && i < 100; i++)
		value_list_push(ctx->arena, names, arns->u.list.items[i]);
	ps(ctx->arena, q, "cluster", id);
	value_map_set(ctx->arena, q, "containerInstances", names);
	if (!(r = pcall(ctx, "ecs", "DescribeContainerInstances", q, &e)) ||
	    !(l = value_map_get(r, "containerInstances")) ||
	    l->kind != VALUE_LIST)
		return NULL;
	strbuf_init(&b, 64);
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *ci = l->u.list.items[i];
		const char *iid = pv_str(ci, "ec2InstanceId");
		if (!iid || !pv_bool(ci, "agentConnected", false))
			continue;
		if (b.len)
			strbuf_addstr(&b, ", ");
		strbuf_addstr(&b, iid);
	}
	if (b.len)
		out = arena_strdup(ctx->arena, b.buf);
	strbuf_release(&b);
	return out;
}

/* A service ACTIVE this long while its cluster is being deleted is not
 * one this run is deleting (those are DRAINING at once: DeleteService
 * answers with status DRAINING): fail naming it rather than wait. The
 * margin covers a read that still shows a just-deleted service ACTIVE. */
#define CLUSTER_ACTIVE_BLOCKER_SECONDS 30.0

static int cluster_delete(struct provider_ctx *ctx, const char *id,
			  const struct value *props, const struct value *attrs,
			  struct err *err)
{
	static const char *const busy[] = { "ClusterContainsServicesException",
					    "ClusterContainsTasksException",
					    "ClusterContainsContainerInstancesException",
					    "UpdateInProgressException", NULL };
	struct value *p = value_new_map(ctx->arena);
	double dl = prov_deadline(ctx, 10.0 * 60.0), active_since = 0;
	double hosts_since = 0;
	const char *active = NULL, *draining = NULL, *hosts = NULL;
	int attempt = 0;

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "cluster", id);
	for (;;) {
		struct err serr = ERR_INIT;
		char what[160];
		if (pcall(ctx, "ecs", "DeleteCluster", p, err))
			return 0;
		if (!code_in(err, busy))
			return gone_is_ok(err);
		if (!strcmp(err->aws_code, "ClusterContainsServicesException")) {
			cluster_blockers(ctx, id, &active, &draining);
			if (!active)
				active_since = 0;
			else if (!active_since)
				active_since = prov_now();
			else if (prov_now() - active_since >
				 CLUSTER_ACTIVE_BLOCKER_SECONDS)
				return prov_fail(ctx, err, ERR_CONFLICT,
					"ECS cluster \"%s\" cannot be deleted: "
					"service(s) %s still ACTIVE and not "
					"being deleted (not in this stack's "
					"state: delete them, or `cairn import` "
					"them into the stack)", id, active);
		}
		if (!strcmp(err->aws_code,
			    "ClusterContainsContainerInstancesException")) {
			/* a terminated instance is deregistered by ECS
			 * moments later; one whose agent is still connected
			 * is not going away by itself */
			hosts = cluster_live_hosts(ctx, id);
			if (!hosts)
				hosts_since = 0;
			else if (!hosts_since)
				hosts_since = prov_now();
			else if (prov_now() - hosts_since >
				 CLUSTER_ACTIVE_BLOCKER_SECONDS)
				return prov_fail(ctx, err, ERR_CONFLICT,
					"ECS cluster \"%s\" cannot be deleted: "
					"EC2 instance(s) %s are still registered "
					"container instances with a connected "
					"agent (not in this stack's state: "
					"terminate them, or deregister them with "
					"`aws ecs deregister-container-instance "
					"--force`)", id, hosts);
		}
		snprintf(what, sizeof(what), "ecs:DeleteCluster %s (%s%s%s)",
			 id, err->aws_code, draining ? ", draining: " : "",
			 draining ? draining : "");
		log_msg(LOG_DEBUG, "%s: %s, retrying", ctx->logical_id, what);
		if (prov_sleep_until(ctx, &attempt, dl, what, &serr) < 0) {
			if (serr.code == ERR_CANCELLED) {
				*err = serr;
				return -1;
			}
			return prov_fail(ctx, err, ERR_TIMEOUT,
				"ECS cluster \"%s\" still not deletable after "
				"%.0f s: %s%s%s%s%s", id, 10.0 * 60.0,
				err->aws_code,
				active ? "; ACTIVE services: " : "",
				active ? active : "",
				draining ? "; draining: " : "",
				draining ? draining : "");
		}
	}
}

static int cluster_find(struct provider_ctx *ctx, const struct value *props,
			struct provider_result *out, struct err *err)
{
	const char *name = cluster_name(ctx, props);
	const struct value *c;

	if (cluster_get(ctx, name, &c, err) < 0)
		return -1;
	if (!c)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "cluster \"%s\" does not exist", name);
	if (!tags_owned(ctx, pv(c, "tags")))
		return prov_foreign(ctx, name, pv(c, "tags"), out, err);
	cluster_fill(ctx, name, c, out);
	out->props = NULL;
	return 0;
}

const struct provider prov_ecs_cluster = {
	.type = "AWS::ECS::Cluster",
	.create = cluster_create,
	.read = cluster_read,
	.read_many = cluster_read_many,
	.update = cluster_update,
	.delete = cluster_delete,
	.find = cluster_find,
};

/* ===================================================== TaskDefinition */

/* Template properties that RegisterTaskDefinition takes as they are
 * (recased); Family and Tags are handled apart. */
static const char *const TD_PROPS[] = {
	"ContainerDefinitions", "Cpu", "Memory", "NetworkMode",
	"RequiresCompatibilities", "ExecutionRoleArn", "TaskRoleArn",
	"RuntimePlatform", "Volumes", "PlacementConstraints", "PidMode",
	"IpcMode", "ProxyConfiguration", "InferenceAccelerators",
	"EphemeralStorage", NULL
};

/* Integer members inside container definitions that templates often write
 * as strings ("256"). */
static const char *const TD_INTS[] = { "cpu", "memory", "memoryReservation",
				       "containerPort", "hostPort", "startTimeout",
				       "stopTimeout", "softLimit", "hardLimit",
				       "sizeInGiB", "interval", "timeout",
				       "retries", "startPeriod", NULL };
static const char *const TD_BOOLS[] = { "essential", "readonlyRootFilesystem",
					"privileged", "interactive",
					"pseudoTerminal", "disableNetworking",
					"readOnly", "autoprovision", NULL };

static bool in_set(const char *k, const char *const *l)
{
	size_t i;

	for (i = 0; l[i]; i++)
		if (!strcmp(k, l[i]))
			return true;
	return false;
}

static void fix_types(struct arena *a, struct value *v)
{
	size_t i;

	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			fix_types(a, v->u.list.items[i]);
		return;
	}
	if (v->kind != VALUE_MAP)
		return;
	for (i = 0; i < v->u.map.n; i++) {
		struct value_pair *pr = &v->u.map.items[i];
		if (pr->val->kind == VALUE_STRING && in_set(pr->key, TD_INTS) &&
		    pr->val->u.str.len && strspn(pr->val->u.str.s, "0123456789") ==
						   pr->val->u.str.len)
			pr->val = value_new_number(a, pr->val->u.str.s);
		else if (pr->val->kind == VALUE_STRING && in_set(pr->key, TD_BOOLS))
			pr->val = value_new_bool(a, !strcmp(pr->val->u.str.s, "true"));
		else if (pr->key && strcmp(pr->key, "options") &&
			 strcmp(pr->key, "dockerLabels"))
			fix_types(a, pr->val);
	}
}

/* The family's newest revision, when it carries cairn:token = ctx->token
 * (what a RegisterTaskDefinition whose answer was lost made); NULL when
 * not. Looks a few times, a poll interval apart. */
static const char *td_by_token(struct provider_ctx *ctx, const char *family)
{
	struct arena *a = ctx->arena;
	int look, attempt = 0;

	for (look = 0; look < 3; look++) {
		struct value *p = value_new_map(a), *r;
		struct err e = ERR_INIT;
		const struct value *l;
		size_t i;
		ps(a, p, "taskDefinition", family);
		value_map_set(a, p, "include", str_list(a, "TAGS"));
		r = pcall(ctx, "ecs", "DescribeTaskDefinition", p, &e);
		l = r ? value_map_get(r, "tags") : NULL;
		for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
			const char *k = pv_str(l->u.list.items[i], "key");
			const char *v = pv_str(l->u.list.items[i], "value");
			if (k && v && !strcmp(k, "cairn:token") && ctx->token &&
			    !strcmp(v, ctx->token))
				return pv_str(value_map_get(r, "taskDefinition"),
					      "taskDefinitionArn");
		}
		if (look < 2 &&
		    prov_sleep_until(ctx, &attempt, prov_deadline(ctx, 60.0),
				     "what a lost RegisterTaskDefinition made", &e) < 0)
			return NULL;
	}
	return NULL;
}

static int td_register(struct provider_ctx *ctx, const struct value *props,
		       const char **arn, struct err *err)
{
	static const char *const prop_errs[] = { "ClientException",
						 "AccessDeniedException", NULL };
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *family = pv_str(props, "Family");
	bool roles = pv_has(props, "ExecutionRoleArn") || pv_has(props, "TaskRoleArn");
	size_t i;

	if (!family)
		family = provider_generate_name(ctx, 255, false);
	ps(a, p, "family", family);
	for (i = 0; TD_PROPS[i]; i++) {
		const struct value *v = pv(props, TD_PROPS[i]);
		struct value *c;
		char *k;
		if (!v)
			continue;
		c = camel_keys(a, v, VERBATIM);
		k = arena_strdup(a, TD_PROPS[i]);
		k[0] = (char)(k[0] - 'A' + 'a');
		if (!strcmp(k, "cpu") || !strcmp(k, "memory")) {
			/* task-level cpu/memory are strings in this API */
			const char *t = v_text(a, v);
			c = value_new_string(a, t ? t : "");
		} else {
			fix_types(a, c);
		}
		value_map_set(a, p, k, c);
	}
	value_map_set(a, p, "tags", tags_rekey(a, tags_with_token(ctx, props), "key",
					       "value"));
	/* a role created moments ago may not be passable yet (ClientException
	 * "Role is not valid", AccessDenied on iam:PassRole): retry those only
	 * when the definition names roles. Every call registers a new
	 * revision: after a lost answer, look for the one it made (its
	 * cairn:token) before registering again */
	{
		double dl = prov_deadline(ctx, IAM_PROPAGATION_SECONDS);
		int attempt = 0, lost = 0;
		for (;;) {
			struct aws_call_opts o = { 1, 0 };
			struct err serr = ERR_INIT;
			r = aws_call_opt(ctx->aws, "ecs", "RegisterTaskDefinition", p,
					 &o, a, err);
			if (r)
				break;
			err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
			if (o.uncertain && ++lost <= 4) {
				if ((*arn = td_by_token(ctx, family))) {
					err_clear(err);
					return 0;
				}
				continue;
			}
			if (o.uncertain || !roles || !code_in(err, prop_errs))
				return -1;
			if (prov_sleep_until(ctx, &attempt, dl,
					     "ecs:RegisterTaskDefinition (role not yet passable)",
					     &serr) < 0) {
				if (serr.code == ERR_CANCELLED)
					*err = serr;
				return -1;
			}
		}
	}
	if (!(*arn = aws_get_str(r, "taskDefinition.taskDefinitionArn", err)))
		return -1;
	return 0;
}

static void td_result(struct provider_ctx *ctx, const char *arn,
		      struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arn;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", arn);
	set_attr(ctx, out->attrs, "TaskDefinitionArn", arn);
}

static int td_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const char *arn;

	if (td_register(ctx, props, &arn, err) < 0)
		return -1;
	td_result(ctx, arn, out);
	return 0;
}

static int td_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *props, *t;
	const struct value *td;
	const char *st;
	size_t i;

	(void)attrs;
	ps(a, p, "taskDefinition", id);
	value_map_set(a, p, "include", str_list(a, "TAGS"));
	r = pcall(ctx, "ecs", "DescribeTaskDefinition", p, err);
	if (!r) {
		/* an unknown ARN is a ClientException in ECS */
		if (!strcmp(err->aws_code, "ClientException"))
			err->code = ERR_NOT_FOUND;
		return -1;
	}
	td = value_map_get(r, "taskDefinition");
	st = pv_str(td, "status");
	if (!td || (st && !strcmp(st, "INACTIVE")))
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "task definition \"%s\" is inactive", id);
	td_result(ctx, arena_strdup(a, id), out);
	props = value_new_map(a);
	ps(a, props, "Family", pv_str(td, "family"));
	for (i = 0; TD_PROPS[i]; i++) {
		char *k = arena_strdup(a, TD_PROPS[i]);
		const struct value *v;
		k[0] = (char)(k[0] - 'A' + 'a');
		v = pv(td, k);
		if (v)
			value_map_set(a, props, TD_PROPS[i], pascal_keys(a, v, VERBATIM));
	}
	t = tags_from_aws(a, value_map_get(r, "tags"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
	return 0;
}

static int td_deregister(struct provider_ctx *ctx, const char *arn,
			 struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "taskDefinition", arn);
	if (!pcall(ctx, "ecs", "DeregisterTaskDefinition", p, err)) {
		if (err->code == ERR_NOT_FOUND || !strcmp(err->aws_code, "ClientException")) {
			err_clear(err);
			return 0;
		}
		return -1;
	}
	return 0;
}

static int td_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *new_props,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	const char *arn;
	size_t i;
	bool only_tags = !pv_changed(old_props, new_props, "Family");

	(void)attrs;
	for (i = 0; TD_PROPS[i] && only_tags; i++)
		only_tags = !pv_changed(old_props, new_props, TD_PROPS[i]);
	if (only_tags) {
		if (api_update_tags(ctx, &ECS_TAGS, id, old_props, new_props, err) < 0)
			return -1;
		td_result(ctx, id, out);
		return 0;
	}
	/* a new revision; the old one stops being usable for new tasks only */
	if (td_register(ctx, new_props, &arn, err) < 0 ||
	    td_deregister(ctx, id, err) < 0)
		return -1;
	td_result(ctx, arn, out);
	return 0;
}

static int td_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	(void)props;
	(void)attrs;
	return td_deregister(ctx, id, err);
}

/* The revision a crashed run registered: the family's newest ACTIVE
 * revision, when it carries this stack's and this resource's cairn tags. */
static int td_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const struct value *l;
	const char *family = pv_str(props, "Family");
	const char *arn;
	bool same_stack = false, same_id = false;
	size_t i;

	ps(a, p, "taskDefinition",
	   family ? family : provider_generate_name(ctx, 255, false));
	value_map_set(a, p, "include", str_list(a, "TAGS"));
	r = pcall(ctx, "ecs", "DescribeTaskDefinition", p, err);
	if (!r) {
		if (!strcmp(err->aws_code, "ClientException"))
			err->code = ERR_NOT_FOUND;
		return -1;
	}
	arn = pv_str(value_map_get(r, "taskDefinition"), "taskDefinitionArn");
	if (!(l = aws_get_list(a, r, "tags", err)))
		return -1;
	for (i = 0; i < l->u.list.n; i++) {
		const char *k = pv_str(l->u.list.items[i], "key");
		const char *v = pv_str(l->u.list.items[i], "value");
		if (!k || !v)
			continue;
		if (!strcmp(k, "cairn:stack") && !strcmp(v, ctx->stack))
			same_stack = true;
		if (!strcmp(k, "cairn:logical-id") && !strcmp(v, ctx->logical_id))
			same_id = true;
	}
	if (!arn || !same_stack || !same_id)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "no revision registered by this stack for \"%s\"",
				 ctx->logical_id);
	td_result(ctx, arena_strdup(a, arn), out);
	return 0;
}

const struct provider prov_ecs_task_definition = {
	.type = "AWS::ECS::TaskDefinition",
	.create = td_create,
	.read = td_read,
	.find = td_find,
	.update = td_update,
	.delete = td_delete,
};

/* ============================================================ Service */

/* "arn:aws:ecs:r:acct:service/CLUSTER/NAME" -> CLUSTER (the old ARN
 * format without the cluster is not produced for new services). */
static const char *svc_cluster(struct provider_ctx *ctx, const char *arn,
			       const struct value *props)
{
	const char *s = strstr(arn, ":service/"), *slash;

	if (pv_str(props, "Cluster"))
		return pv_str(props, "Cluster");
	if (s && (slash = strchr(s + 9, '/')))
		return arena_strndup(ctx->arena, s + 9, (size_t)(slash - (s + 9)));
	return "default";
}

static const struct {
	const char *prop;
	bool update; /* UpdateService takes it */
} SVC_PROPS[] = {
	{ "TaskDefinition", true },
	{ "DesiredCount", true },
	{ "LaunchType", false },
	{ "PlatformVersion", true },
	{ "NetworkConfiguration", true },
	{ "DeploymentConfiguration", true },
	{ "CapacityProviderStrategy", true },
	{ "EnableExecuteCommand", true },
	{ "EnableECSManagedTags", true },
	{ "PropagateTags", true },
	{ "HealthCheckGracePeriodSeconds", true },
	{ "LoadBalancers", true },
	{ "ServiceRegistries", true },
	{ "SchedulingStrategy", false },
	{ "PlacementConstraints", true },
	{ "PlacementStrategies", true },
	{ "Role", false },
	{ "DeploymentController", false },
};
#define N_SVC_PROPS (sizeof(SVC_PROPS) / sizeof(SVC_PROPS[0]))

static const char *svc_member(struct arena *a, const char *prop)
{
	char *k;

	if (!strcmp(prop, "PlacementStrategies"))
		return "placementStrategy";
	if (!strcmp(prop, "EnableECSManagedTags"))
		return "enableECSManagedTags";
	k = arena_strdup(a, prop);
	k[0] = (char)(k[0] - 'A' + 'a');
	return k;
}

static void svc_set(struct arena *a, struct value *p, const char *prop,
		    const struct value *v)
{
	const char *k = svc_member(a, prop);
	struct value *c = camel_keys(a, v, VERBATIM);

	if (!strcmp(prop, "DesiredCount") || !strcmp(prop, "HealthCheckGracePeriodSeconds")) {
		const char *t = v_text(a, v);
		c = value_new_number(a, t && *t ? t : "0");
	} else if (c->kind == VALUE_STRING &&
		   (!strcmp(prop, "EnableExecuteCommand") ||
		    !strcmp(prop, "EnableECSManagedTags"))) {
		c = value_new_bool(a, !strcmp(c->u.str.s, "true"));
	}
	value_map_set(a, p, k, c);
}

static void svc_result(struct provider_ctx *ctx, const char *arn,
		       const char *name, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arn;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", arn);
	set_attr(ctx, out->attrs, "ServiceArn", arn);
	set_attr(ctx, out->attrs, "Name", name);
}

static int svc_describe(struct provider_ctx *ctx, const char *cluster,
			const char *svc, const struct value **out,
			struct err *err)
{
	struct value *p = value_new_map(ctx->arena), *r;
	const struct value *l;

	ps(ctx->arena, p, "cluster", cluster);
	value_map_set(ctx->arena, p, "services", str_list(ctx->arena, svc));
	value_map_set(ctx->arena, p, "include", str_list(ctx->arena, "TAGS"));
	r = pcall(ctx, "ecs", "DescribeServices", p, err);
	*out = NULL;
	if (!r) {
		/* the cluster is gone: so is the service */
		return gone_is_ok(err);
	}
	if (!(l = aws_get_list(ctx->arena, r, "services", err)))
		return -1;
	if (l->u.list.n)
		*out = l->u.list.items[0];
	return 0;
}

/*
 * Waiting for a service of the EC2 launch type to be stable, as
 * CloudFormation does (the ServicesStable condition: one deployment and
 * runningCount == desiredCount). Fargate services are not waited for
 * (docs/aws-behaviour.md). On the EC2 launch type, tasks need container
 * instances, EC2 instances whose ECS agent joins the cluster some time
 * after they boot:
 * - a DAEMON service wants one task on each; with none registered yet it
 *   is "stable" at 0 tasks, so cairn waits up to DAEMON_FIRST_HOST_SECONDS
 *   for a first one (the stack's instance is usually still booting), then
 *   warns and goes on;
 * - a REPLICA service whose cluster has no container instance at all
 *   waits the same, then warns (capacity comes from outside the service);
 * - a task that fits nowhere ("was unable to place a task because no
 *   container instance met all of its requirements") for
 *   SVC_UNPLACED_SECONDS fails the resource with that event (and the
 *   service is deleted again, as CloudFormation rolls a create back).
 * CAIRN_ECS_PLACEMENT_SECONDS overrides both waits (the tests' fast
 * emulator).
 */
#define DAEMON_FIRST_HOST_SECONDS 180.0
#define SVC_UNPLACED_SECONDS 120.0
#define SVC_STABLE_SECONDS (15.0 * 60.0)
#define EVENT_SKEW_SECONDS 300.0

static double placement_seconds(double dflt)
{
	return env_seconds("CAIRN_ECS_PLACEMENT_SECONDS", dflt, 0, 3600);
}

static long svc_count(const struct value *s, const char *k)
{
	const struct value *v = pv(s, k);

	return v && v->kind == VALUE_NUMBER ? (long)v->u.num.d : 0;
}

static bool svc_on_ec2(const struct value *props)
{
	const char *lt = pv_str(props, "LaunchType");
	const char *st = pv_str(props, "SchedulingStrategy");

	return (lt && !strcmp(lt, "EC2")) || (st && !strcmp(st, "DAEMON"));
}

static int svc_wait_stable(struct provider_ctx *ctx, const char *cluster,
			   const char *arn, const struct value *props,
			   struct err *err)
{
	const char *strategy = pv_str(props, "SchedulingStrategy");
	bool daemon = strategy && !strcmp(strategy, "DAEMON");
	double start = prov_now(), dl = prov_deadline(ctx, SVC_STABLE_SECONDS);
	double wall0 = (double)time(NULL);
	double unplaced_since = 0;
	double first_host = placement_seconds(DAEMON_FIRST_HOST_SECONDS);
	double unplaced_max = placement_seconds(SVC_UNPLACED_SECONDS);
	int attempt = 0;

	for (;;) {
		const struct value *s, *deps, *ev;
		const char *st, *msg = NULL;
		long desired, running;
		struct err serr = ERR_INIT;
		char what[96];

		if (svc_describe(ctx, cluster, arn, &s, err) < 0)
			return -1;
		st = s ? pv_str(s, "status") : NULL;
		if (s && st && strcmp(st, "ACTIVE"))
			return prov_fail(ctx, err, ERR_AWS,
					 "ECS service \"%s\" became %s while cairn "
					 "waited for it to be stable", arn, st);
		desired = s ? svc_count(s, "desiredCount") : 0;
		running = s ? svc_count(s, "runningCount") : 0;
		deps = s ? pv(s, "deployments") : NULL;
		ev = s ? pv(s, "events") : NULL;
		if (ev && ev->kind == VALUE_LIST && ev->u.list.n) {
			const struct value *e0 = ev->u.list.items[0];
			const struct value *at = pv(e0, "createdAt");
			msg = pv_str(e0, "message");
			/* an event from before this wait (AWS keeps the last
			 * hundred) says nothing about this deployment; the
			 * margin covers clock skew */
			if (at && at->kind == VALUE_NUMBER &&
			    at->u.num.d < wall0 - EVENT_SKEW_SECONDS)
				msg = NULL;
		}
		if (msg && !strstr(msg, "was unable to place a task"))
			msg = NULL;
		/* AWS's ServicesStable: one deployment, all tasks running */
		if (s && deps && deps->kind == VALUE_LIST && deps->u.list.n == 1 &&
		    running == desired) {
			if (!daemon || desired > 0)
				return 0;
			if (prov_now() - start > first_host) {
				log_msg(LOG_WARN, "%s: no container instance "
					"joined ECS cluster %s within %.0f s: "
					"the DAEMON service runs no task until "
					"one does", ctx->logical_id, cluster,
					first_host);
				return 0;
			}
			prov_status(ctx, "waiting for a container instance "
					 "to join the cluster");
		} else if (msg && strstr(msg, "No Container Instances were "
					      "found in your cluster")) {
			/* no capacity at all: none of this service's doing */
			msg = NULL;
			if (prov_now() - start > first_host) {
				log_msg(LOG_WARN, "%s: no container instance "
					"joined ECS cluster %s within %.0f s: "
					"%ld of %ld tasks running",
					ctx->logical_id, cluster, first_host,
					running, desired);
				return 0;
			}
			prov_status(ctx, "waiting for a container instance "
					 "to join the cluster");
		} else {
			snprintf(what, sizeof(what), "%ld of %ld tasks running",
				 running, desired);
			prov_status(ctx, what);
		}
		if (!msg)
			unplaced_since = 0;
		else if (!unplaced_since)
			unplaced_since = prov_now();
		else if (prov_now() - unplaced_since > unplaced_max)
			return prov_fail(ctx, err, ERR_AWS,
					 "ECS service \"%s\": %s", arn, msg);
		if (prov_sleep_until(ctx, &attempt, dl, "service stable",
				     &serr) < 0) {
			if (serr.code == ERR_CANCELLED) {
				*err = serr;
				return -1;
			}
			return prov_fail(ctx, err, ERR_TIMEOUT,
					 "ECS service \"%s\" not stable after %.0f s: "
					 "%ld of %ld tasks running%s%s", arn,
					 SVC_STABLE_SECONDS, running, desired,
					 msg ? "; " : "", msg ? msg : "");
		}
	}
}

static int svc_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err);

static int svc_create(struct provider_ctx *ctx, const struct value *props,
		      struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = pv_str(props, "ServiceName"), *arn;
	size_t i;

	if (!name)
		name = provider_generate_name(ctx, 255, false);
	ps(a, p, "cluster", pv_str(props, "Cluster"));
	ps(a, p, "serviceName", name);
	for (i = 0; i < N_SVC_PROPS; i++)
		if (pv(props, SVC_PROPS[i].prop))
			svc_set(a, p, SVC_PROPS[i].prop, pv(props, SVC_PROPS[i].prop));
	ps(a, p, "clientToken", ctx->token);
	value_map_set(a, p, "tags", tags_rekey(a, tags_merged(ctx, props), "key",
					       "value"));
	/* the account's service-linked role not yet usable (any service);
	 * a young Role is refused with InvalidParameterException too */
	r = ecs_create_call(ctx, "CreateService", p, pv_has(props, "Role"), err);
	if (!r || !(arn = aws_get_str(r, "service.serviceArn", err)))
		return -1;
	svc_result(ctx, arn, name, out);
	if (svc_on_ec2(props) &&
	    svc_wait_stable(ctx, pv_str(props, "Cluster") ?
			    pv_str(props, "Cluster") : "default", arn, props,
			    err) < 0) {
		/* never stable: roll the service back as CloudFormation
		 * does, so that the next run's fresh token does not leave
		 * it behind. Not when cancelled: the open intent's token
		 * finds it again (clientToken) */
		struct err derr = ERR_INIT;
		if (err->code != ERR_CANCELLED &&
		    svc_delete(ctx, arn, props, NULL, &derr) < 0)
			log_msg(LOG_WARN, "%s: rolling back ECS service %s "
				"failed: %s", ctx->logical_id, arn, derr.msg);
		return -1;
	}
	return 0;
}

/* Fills out from a DescribeServices entry s (described with TAGS). */
static void svc_fill(struct provider_ctx *ctx, const char *id,
		     const char *cluster, const struct value *s,
		     struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct value *props, *t;
	size_t i;

	svc_result(ctx, arena_strdup(a, id), pv_str(s, "serviceName"), out);
	props = value_new_map(a);
	ps(a, props, "ServiceName", pv_str(s, "serviceName"));
	ps(a, props, "Cluster", cluster);
	for (i = 0; i < N_SVC_PROPS; i++) {
		const struct value *v = pv(s, svc_member(a, SVC_PROPS[i].prop));
		if (v && !(v->kind == VALUE_LIST && !v->u.list.n))
			value_map_set(a, props, SVC_PROPS[i].prop,
				      pascal_keys(a, v, VERBATIM));
	}
	t = tags_from_aws(a, pv(s, "tags"), "key", "value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
}

static int svc_read(struct provider_ctx *ctx, const char *id,
		    const struct value *attrs, struct provider_result *out,
		    struct err *err)
{
	const struct value *s;
	const char *st, *cluster = svc_cluster(ctx, id, NULL);

	(void)attrs;
	if (svc_describe(ctx, cluster, id, &s, err) < 0)
		return -1;
	st = s ? pv_str(s, "status") : NULL;
	if (!s || (st && strcmp(st, "ACTIVE")))
		return prov_fail(ctx, err, ERR_NOT_FOUND, "service \"%s\" is %s", id,
				 st ? st : "missing");
	svc_fill(ctx, id, cluster, s, out);
	return 0;
}

/* Batched read: one DescribeServices (include TAGS) per cluster for up
 * to 10 services (refresh_batch_max); a service AWS lists under
 * failures, or not ACTIVE, or in a cluster that is gone, is gone. */
static int svc_read_many(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, struct provider_result *outs,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	const char **clusters = arena_alloc(a, (n ? n : 1) * sizeof(*clusters));
	bool *asked = arena_alloc(a, (n ? n : 1) * sizeof(*asked));
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		clusters[i] = svc_cluster(ctx, ids[i], NULL);
		asked[i] = false;
	}
	for (i = 0; i < n; i++) {
		struct value *p, *r, *svcs;
		const struct value *l;
		size_t m = 0;
		if (asked[i])
			continue;
		p = value_new_map(a);
		svcs = value_new_list(a);
		for (j = i; j < n && m < 10; j++)
			if (!asked[j] && !strcmp(clusters[j], clusters[i])) {
				value_list_push(a, svcs, value_new_string(a, ids[j]));
				asked[j] = true;
				m++;
			}
		ps(a, p, "cluster", clusters[i]);
		value_map_set(a, p, "services", svcs);
		value_map_set(a, p, "include", str_list(a, "TAGS"));
		r = pcall(ctx, "ecs", "DescribeServices", p, err);
		if (!r) {
			/* the cluster is gone: so are its services */
			if (gone_is_ok(err) < 0)
				return -1;
			continue;
		}
		if (!(l = aws_get_list(a, r, "services", err)))
			return -1;
		for (k = 0; k < l->u.list.n; k++) {
			const struct value *s = l->u.list.items[k];
			const char *arn = pv_str(s, "serviceArn");
			const char *st = pv_str(s, "status");
			if (!arn || (st && strcmp(st, "ACTIVE")))
				continue;
			for (j = 0; j < n; j++)
				if (!outs[j].physical_id && !strcmp(ids[j], arn))
					svc_fill(ctx, ids[j], clusters[j], s, &outs[j]);
		}
	}
	return 0;
}

static int svc_update(struct provider_ctx *ctx, const char *id,
		      const struct value *old_props, const struct value *new_props,
		      const struct value *attrs, struct provider_result *out,
		      struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a);
	bool any = false;
	size_t i;

	(void)attrs;
	ps(a, p, "cluster", svc_cluster(ctx, id, new_props));
	ps(a, p, "service", id);
	for (i = 0; i < N_SVC_PROPS; i++) {
		const char *k = SVC_PROPS[i].prop;
		if (!SVC_PROPS[i].update || !pv_changed(old_props, new_props, k))
			continue;
		if (pv(new_props, k)) {
			svc_set(a, p, k, pv(new_props, k));
			any = true;
		} else if (!strcmp(k, "DesiredCount")) {
			pn(a, p, "desiredCount", "1"); /* CloudFormation's default */
			any = true;
		}
	}
	if (any && !pcall(ctx, "ecs", "UpdateService", p, err))
		return -1;
	if (any && svc_on_ec2(new_props) &&
	    svc_wait_stable(ctx, svc_cluster(ctx, id, new_props), id, new_props,
			    err) < 0)
		return -1;
	if (api_update_tags(ctx, &ECS_TAGS, id, old_props, new_props, err) < 0)
		return -1;
	svc_result(ctx, id, pv_str(new_props, "ServiceName"), out);
	if (!pv_str(new_props, "ServiceName")) {
		const char *s = strrchr(id, '/');
		set_attr(ctx, out->attrs, "Name", s ? s + 1 : id);
	}
	return 0;
}

static int svc_delete(struct provider_ctx *ctx, const char *id,
		      const struct value *props, const struct value *attrs,
		      struct err *err)
{
	struct arena *a = ctx->arena;
	const char *cluster = svc_cluster(ctx, id, props);
	const char *strategy = pv_str(props, "SchedulingStrategy");
	struct value *p;
	double dl = prov_deadline(ctx, 15.0 * 60.0);
	int attempt = 0;

	(void)attrs;
	if (!strategy || strcmp(strategy, "DAEMON")) {
		p = value_new_map(a);
		ps(a, p, "cluster", cluster);
		ps(a, p, "service", id);
		pn(a, p, "desiredCount", "0");
		if (!pcall(ctx, "ecs", "UpdateService", p, err)) {
			/* gone already, or already draining */
			if (err->code == ERR_NOT_FOUND)
				return gone_is_ok(err);
			if (strcmp(err->aws_code, "ServiceNotActiveException"))
				return -1;
			err_clear(err);
		}
	}
	p = value_new_map(a);
	ps(a, p, "cluster", cluster);
	ps(a, p, "service", id);
	pb(a, p, "force", true);
	if (!pcall(ctx, "ecs", "DeleteService", p, err)) {
		if (err->code == ERR_NOT_FOUND)
			return gone_is_ok(err);
		if (strcmp(err->aws_code, "ServiceNotActiveException"))
			return -1;
		err_clear(err);
	}
	/* the name is reusable only once the service is INACTIVE */
	for (;;) {
		const struct value *s;
		const char *st;
		if (svc_describe(ctx, cluster, id, &s, err) < 0)
			return -1;
		st = s ? pv_str(s, "status") : NULL;
		if (!s || (st && !strcmp(st, "INACTIVE")))
			return 0;
		if (prov_sleep_until(ctx, &attempt, dl, "service inactive", err) < 0)
			return err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	}
}

const struct provider prov_ecs_service = {
	.type = "AWS::ECS::Service",
	.create = svc_create,
	.read = svc_read,
	.read_many = svc_read_many,
	.update = svc_update,
	.delete = svc_delete,
};
