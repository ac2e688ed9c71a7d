/*
 * cairn drift TEMPLATE [--json]: the scheduled drift check. Reads every
 * recorded resource live and reports what moved since the last apply
 * (resource, property path, recorded -> live), without writing anything:
 * the state is read, not locked, not changed (use `cairn refresh` to record
 * what AWS has, `cairn apply` to put it back as the template says).
 *
 * Exit: 0 nothing drifted, 2 something drifted or is gone, 1 an error
 * (usage errors included, and any read that failed, so that a cron job
 * never reads a typo or an outage as "drift" or "all clear").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/log.h"
#include "cairn/provider.h"
#include "cairn/refresh.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/tagging.h"
#include "cliopts.h"
#include "commands.h"
#include "refresh_cli.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_JSON = 0x2400,
	OPT_PARALLELISM,
	OPT_FORMAT,
	OPT_UNMANAGED,
};

#define EXIT_DRIFT 2

struct drift_cmd {
	struct tmplopts to;
	struct stateopts so;
	struct aws_options aws;
	int parallelism;
	bool json, markdown, unmanaged;
};

/* A resource tagged cairn:stack=<stack> that the state does not know: id
 * the one a user recognises (an EC2 id, a log group's or repository's
 * name, a role's name, a secret's ARN), arn when known. */
struct unmanaged {
	const char *id, *type, *logical_id, *arn;
};

/* Whether the state knows id: as a physical id, or as a top-level string
 * attribute (an EIP is recorded by its address, tagged by its allocation
 * id). */
static bool recorded_id(const struct refresh_result *res, const char *id)
{
	size_t i, k;
	for (i = 0; i < res->n; i++) {
		const struct value *at = res->items[i].rec ?
						 res->items[i].rec->attributes :
						 NULL;
		if (res->items[i].physical_id &&
		    !strcmp(res->items[i].physical_id, id))
			return true;
		for (k = 0; at && at->kind == VALUE_MAP && k < at->u.map.n; k++) {
			const char *s = value_str(at->u.map.items[k].val);
			if (s && !strcmp(s, id))
				return true;
		}
	}
	return false;
}

/* DescribeTags' resourceType -> the CloudFormation type. */
static const char *ec2_cfn_type(const char *t)
{
	static const char *const map[][2] = {
		{ "vpc", "AWS::EC2::VPC" },
		{ "subnet", "AWS::EC2::Subnet" },
		{ "security-group", "AWS::EC2::SecurityGroup" },
		{ "internet-gateway", "AWS::EC2::InternetGateway" },
		{ "natgateway", "AWS::EC2::NatGateway" },
		{ "route-table", "AWS::EC2::RouteTable" },
		{ "elastic-ip", "AWS::EC2::EIP" },
		{ "vpc-endpoint", "AWS::EC2::VPCEndpoint" },
	};
	size_t i;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], t))
			return map[i][1];
	return t;
}

static void push_unmanaged(struct arena *a, struct unmanaged **out, size_t *n,
			   size_t *cap, const char *id, const char *type,
			   const char *logical_id)
{
	if (*n == *cap) {
		struct unmanaged *nu;
		*cap = *cap ? 2 * *cap : 8;
		nu = arena_alloc(a, *cap * sizeof(*nu));
		if (*n)
			memcpy(nu, *out, *n * sizeof(*nu));
		*out = nu;
	}
	(*out)[*n].id = id;
	(*out)[*n].type = type;
	(*out)[*n].logical_id = logical_id;
	(*out)[*n].arn = NULL;
	(*n)++;
}

static struct value *filter(struct arena *a, const char *name_key,
			    const char *name, const char *value)
{
	struct value *f = value_new_map(a), *vals = value_new_list(a);
	value_map_set(a, f, name_key, value_new_string(a, name));
	value_list_push(a, vals, value_new_string(a, value));
	value_map_set(a, f, "Values", vals);
	return f;
}

/* Secrets Manager: ListSecrets filtered by tag key and value (prefix
 * matches, so each secret's tags are checked exactly). */
static int unmanaged_secrets(struct aws_client *c, const char *stack,
			     const struct refresh_result *res, struct arena *a,
			     struct unmanaged **out, size_t *n, size_t *cap,
			     struct err *err)
{
	struct value *params = value_new_map(a), *filters = value_new_list(a);
	const struct value *resp, *list;
	size_t i, k;

	value_list_push(a, filters, filter(a, "Key", "tag-key", "cairn:stack"));
	value_list_push(a, filters, filter(a, "Key", "tag-value", stack));
	value_map_set(a, params, "Filters", filters);
	resp = aws_call_all(c, "secretsmanager", "ListSecrets", params,
			    "SecretList", a, err);
	if (!resp || !(list = aws_get_list(a, resp, "SecretList", err)))
		return -1;
	for (i = 0; i < list->u.list.n; i++) {
		const struct value *s = list->u.list.items[i];
		const struct value *tags = value_map_get(s, "Tags");
		const char *arn = value_str(value_map_get(s, "ARN"));
		const char *lid = "?";
		bool ours = false;
		for (k = 0; tags && tags->kind == VALUE_LIST &&
			    k < tags->u.list.n; k++) {
			const struct value *t = tags->u.list.items[k];
			const char *tk = value_str(value_map_get(t, "Key"));
			const char *tv = value_str(value_map_get(t, "Value"));
			if (!tk || !tv)
				continue;
			if (!strcmp(tk, "cairn:stack") && !strcmp(tv, stack))
				ours = true;
			if (!strcmp(tk, "cairn:logical-id"))
				lid = tv;
		}
		if (ours && arn && !recorded_id(res, arn))
			push_unmanaged(a, out, n, cap, arn,
				       "AWS::SecretsManager::Secret", lid);
	}
	return 0;
}

/* The value of key in an ECS tag list [{key, value}], or NULL. */
static const char *ecs_tag(const struct value *tags, const char *key)
{
	size_t i;

	for (i = 0; tags && tags->kind == VALUE_LIST && i < tags->u.list.n; i++) {
		const struct value *t = tags->u.list.items[i];
		const char *k = value_str(value_map_get(t, "key"));
		if (k && !strcmp(k, key))
			return value_str(value_map_get(t, "value"));
	}
	return NULL;
}

static bool ecs_ours(const struct value *tags, const char *stack)
{
	const char *v = ecs_tag(tags, "cairn:stack");

	return v && !strcmp(v, stack);
}

/* The services of one cluster tagged for the stack and not recorded:
 * ListServices, then DescribeServices 10 at a time with their tags. */
static int unmanaged_ecs_services(struct aws_client *c, const char *stack,
				  const char *cluster,
				  const struct refresh_result *res,
				  struct arena *a, struct unmanaged **out,
				  size_t *n, size_t *cap, struct err *err)
{
	struct value *params = value_new_map(a);
	const struct value *resp, *arns, *svcs;
	size_t i, k;

	value_map_set(a, params, "cluster", value_new_string(a, cluster));
	resp = aws_call_all(c, "ecs", "ListServices", params, "serviceArns", a,
			    err);
	if (!resp || !(arns = aws_get_list(a, resp, "serviceArns", err)))
		return -1;
	for (i = 0; i < arns->u.list.n; i += 10) {
		struct value *batch = value_new_list(a), *inc = value_new_list(a);

		params = value_new_map(a);
		for (k = i; k < arns->u.list.n && k < i + 10; k++)
			value_list_push(a, batch, arns->u.list.items[k]);
		value_list_push(a, inc, value_new_string(a, "TAGS"));
		value_map_set(a, params, "cluster", value_new_string(a, cluster));
		value_map_set(a, params, "services", batch);
		value_map_set(a, params, "include", inc);
		resp = aws_call(c, "ecs", "DescribeServices", params, a, err);
		if (!resp || !(svcs = aws_get_list(a, resp, "services", err)))
			return -1;
		for (k = 0; k < svcs->u.list.n; k++) {
			const struct value *sv = svcs->u.list.items[k];
			const struct value *tags = value_map_get(sv, "tags");
			const char *arn = value_str(value_map_get(sv, "serviceArn"));
			const char *lid = ecs_tag(tags, "cairn:logical-id");
			const char *st = value_str(value_map_get(sv, "status"));

			if (!arn || !ecs_ours(tags, stack) || recorded_id(res, arn) ||
			    (st && !strcmp(st, "INACTIVE")))
				continue;
			push_unmanaged(a, out, n, cap, arn, "AWS::ECS::Service",
				       lid ? lid : "?");
		}
	}
	return 0;
}

/*
 * ECS, when tag:GetResources is refused: ListClusters, DescribeClusters
 * (100 a call, with their tags); a cluster tagged for the stack and not
 * recorded is unmanaged. The services of the stack's clusters (tagged or
 * recorded) are searched the same way; clusters of other owners are not
 * (their services would cost calls per cluster for nothing of ours).
 */
static int unmanaged_ecs(struct aws_client *c, const char *stack,
			 const struct refresh_result *res, struct arena *a,
			 struct unmanaged **out, size_t *n, size_t *cap,
			 struct err *err)
{
	const struct value *resp, *arns, *cls;
	size_t i, k;

	resp = aws_call_all(c, "ecs", "ListClusters", value_new_map(a),
			    "clusterArns", a, err);
	if (!resp || !(arns = aws_get_list(a, resp, "clusterArns", err)))
		return -1;
	for (i = 0; i < arns->u.list.n; i += 100) {
		struct value *params = value_new_map(a);
		struct value *batch = value_new_list(a), *inc = value_new_list(a);

		for (k = i; k < arns->u.list.n && k < i + 100; k++)
			value_list_push(a, batch, arns->u.list.items[k]);
		value_list_push(a, inc, value_new_string(a, "TAGS"));
		value_map_set(a, params, "clusters", batch);
		value_map_set(a, params, "include", inc);
		resp = aws_call(c, "ecs", "DescribeClusters", params, a, err);
		if (!resp || !(cls = aws_get_list(a, resp, "clusters", err)))
			return -1;
		for (k = 0; k < cls->u.list.n; k++) {
			const struct value *cl = cls->u.list.items[k];
			const struct value *tags = value_map_get(cl, "tags");
			const char *name = value_str(value_map_get(cl, "clusterName"));
			const char *arn = value_str(value_map_get(cl, "clusterArn"));
			const char *lid = ecs_tag(tags, "cairn:logical-id");
			bool ours = ecs_ours(tags, stack);
			bool rec = (name && recorded_id(res, name)) ||
				   (arn && recorded_id(res, arn));

			if (!name || !arn)
				continue;
			if (ours && !rec)
				push_unmanaged(a, out, n, cap, name,
					       "AWS::ECS::Cluster",
					       lid ? lid : "?");
			if ((ours || rec) &&
			    unmanaged_ecs_services(c, stack, arn, res, a, out, n,
						   cap, err) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * SSM parameters, when tag:GetResources is refused: DescribeParameters
 * filtered on the tag (tag:cairn:stack = stack), paged; the logical id
 * from ListTagsForResource of only those not recorded (few).
 */
static int unmanaged_ssm(struct aws_client *c, const char *stack,
			 const struct refresh_result *res, struct arena *a,
			 struct unmanaged **out, size_t *n, size_t *cap,
			 struct err *err)
{
	struct value *params = value_new_map(a), *filters = value_new_list(a);
	struct value *f = value_new_map(a), *vals = value_new_list(a);
	const struct value *resp, *list;
	size_t i, k;

	value_map_set(a, f, "Key", value_new_string(a, "tag:cairn:stack"));
	value_list_push(a, vals, value_new_string(a, stack));
	value_map_set(a, f, "Values", vals);
	value_list_push(a, filters, f);
	value_map_set(a, params, "ParameterFilters", filters);
	resp = aws_call_all(c, "ssm", "DescribeParameters", params, "Parameters",
			    a, err);
	if (!resp || !(list = aws_get_list(a, resp, "Parameters", err)))
		return -1;
	for (i = 0; i < list->u.list.n; i++) {
		const char *name = value_str(value_map_get(list->u.list.items[i],
							   "Name"));
		const char *lid = "?";
		const struct value *tr, *tags;

		if (!name || recorded_id(res, name))
			continue;
		params = value_new_map(a);
		value_map_set(a, params, "ResourceType",
			      value_new_string(a, "Parameter"));
		value_map_set(a, params, "ResourceId", value_new_string(a, name));
		tr = aws_call(c, "ssm", "ListTagsForResource", params, a, err);
		if (!tr)
			return -1;
		tags = value_map_get(tr, "TagList");
		for (k = 0; tags && tags->kind == VALUE_LIST && k < tags->u.list.n; k++) {
			const struct value *t = tags->u.list.items[k];
			const char *tk = value_str(value_map_get(t, "Key"));
			if (tk && !strcmp(tk, "cairn:logical-id"))
				lid = value_str(value_map_get(t, "Value"));
		}
		push_unmanaged(a, out, n, cap, name, "AWS::SSM::Parameter",
			       lid ? lid : "?");
	}
	return 0;
}

/*
 * --unmanaged: EC2 DescribeTags with the filters key=cairn:stack and
 * value=<stack> (one paginated call for every EC2 type cairn tags: VPCs,
 * subnets, gateways, route tables, security groups, addresses, endpoints),
 * then the cairn:logical-id tags of what the state does not record; and
 * Secrets Manager's ListSecrets filtered by the same tag. Other services
 * are not searched (their APIs list tags one resource at a time).
 */
static int unmanaged_ec2(struct aws_client *c, const char *stack,
			 const struct refresh_result *res, struct arena *a,
			 struct unmanaged **out, size_t *n, size_t *cap,
			 struct err *err)
{
	struct value *params, *filters, *f, *vals, *resp;
	const struct value *tags;
	size_t i;

	params = value_new_map(a);
	filters = value_new_list(a);
	f = value_new_map(a);
	value_map_set(a, f, "Name", value_new_string(a, "key"));
	vals = value_new_list(a);
	value_list_push(a, vals, value_new_string(a, "cairn:stack"));
	value_map_set(a, f, "Values", vals);
	value_list_push(a, filters, f);
	f = value_new_map(a);
	value_map_set(a, f, "Name", value_new_string(a, "value"));
	vals = value_new_list(a);
	value_list_push(a, vals, value_new_string(a, stack));
	value_map_set(a, f, "Values", vals);
	value_list_push(a, filters, f);
	value_map_set(a, params, "Filters", filters);
	resp = aws_call_all(c, "ec2", "DescribeTags", params, "tagSet", a, err);
	if (!resp || !(tags = aws_get_list(a, resp, "tagSet", err)))
		return -1;
	for (i = 0; i < tags->u.list.n; i++) {
		const struct value *t = tags->u.list.items[i];
		const char *id = value_str(value_map_get(t, "resourceId"));
		const char *ty = value_str(value_map_get(t, "resourceType"));
		if (!id || recorded_id(res, id))
			continue;
		push_unmanaged(a, out, n, cap, id, ec2_cfn_type(ty ? ty : "?"),
			       "?");
	}
	if (*n) {
		/* their cairn:logical-id tags, to say what they were */
		params = value_new_map(a);
		filters = value_new_list(a);
		f = value_new_map(a);
		value_map_set(a, f, "Name", value_new_string(a, "key"));
		vals = value_new_list(a);
		value_list_push(a, vals, value_new_string(a, "cairn:logical-id"));
		value_map_set(a, f, "Values", vals);
		value_list_push(a, filters, f);
		f = value_new_map(a);
		value_map_set(a, f, "Name", value_new_string(a, "resource-id"));
		vals = value_new_list(a);
		for (i = 0; i < *n && i < 200; i++)
			value_list_push(a, vals, value_new_string(a, (*out)[i].id));
		value_map_set(a, f, "Values", vals);
		value_list_push(a, filters, f);
		value_map_set(a, params, "Filters", filters);
		resp = aws_call_all(c, "ec2", "DescribeTags", params, "tagSet", a,
				    err);
		tags = resp ? aws_get_list(a, resp, "tagSet", err) : NULL;
		for (i = 0; tags && i < tags->u.list.n; i++) {
			const struct value *t = tags->u.list.items[i];
			const char *id = value_str(value_map_get(t, "resourceId"));
			const char *v = value_str(value_map_get(t, "value"));
			size_t k;
			for (k = 0; id && v && k < *n; k++)
				if (!strcmp((*out)[k].id, id))
					(*out)[k].logical_id = v;
		}
		err_clear(err);
	}
	return 0;
}

static const char *tag_of(const struct value *tags, const char *key)
{
	size_t k;
	for (k = 0; tags && tags->kind == VALUE_LIST && k < tags->u.list.n; k++) {
		const struct value *t = tags->u.list.items[k];
		const char *tk = value_str(value_map_get(t, "Key"));
		if (tk && !strcmp(tk, key))
			return value_str(value_map_get(t, "Value"));
	}
	return NULL;
}

/*
 * An ARN of the tagging listing -> the CloudFormation type and the id a
 * user knows it by (the physical id cairn records for that type). ARN
 * formats: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE with RESOURCE
 * "vpc/vpc-1" (EC2), "log-group:NAME" (Logs), "repository/NAME" (ECR),
 * "secret:NAME-abc123" (Secrets Manager), "cluster/NAME" and
 * "service/CLUSTER/NAME" (ECS). Other services: "service:type" and the ARN.
 */
static void arn_kind(struct arena *a, const char *arn, const char **type,
		     const char **id)
{
	const char *f[6], *p = arn, *slash;
	size_t i, len;
	char svc[64];

	*type = "?";
	*id = arn;
	for (i = 0; i < 5; i++) {
		f[i] = p;
		if (!(p = strchr(p, ':')))
			return;
		p++;
	}
	f[5] = p;
	len = (size_t)(f[3] - f[2] - 1);
	if (len >= sizeof(svc))
		return;
	memcpy(svc, f[2], len);
	svc[len] = 0;
	slash = strchr(p, '/');
	if (!strcmp(svc, "ec2") && slash) {
		*type = ec2_cfn_type(arena_strndup(a, p, (size_t)(slash - p)));
		*id = slash + 1;
	} else if (!strcmp(svc, "logs") && !strncmp(p, "log-group:", 10)) {
		char *name = arena_strdup(a, p + 10);
		len = strlen(name);
		if (len > 2 && !strcmp(name + len - 2, ":*"))
			name[len - 2] = 0;
		*type = "AWS::Logs::LogGroup";
		*id = name;
	} else if (!strcmp(svc, "ecr") && !strncmp(p, "repository/", 11)) {
		*type = "AWS::ECR::Repository";
		*id = p + 11;
	} else if (!strcmp(svc, "secretsmanager")) {
		*type = "AWS::SecretsManager::Secret";
	} else if (!strcmp(svc, "ecs") && !strncmp(p, "cluster/", 8)) {
		*type = "AWS::ECS::Cluster";
		*id = p + 8;
	} else if (!strcmp(svc, "ecs") && !strncmp(p, "service/", 8)) {
		*type = "AWS::ECS::Service";
	} else {
		size_t rl = strcspn(p, "/:");
		char *t = arena_alloc(a, len + rl + 2);
		snprintf(t, len + rl + 2, "%s:%.*s", svc, (int)rl, p);
		*type = t;
	}
}

/* The one tag:GetResources listing, every type it covers. */
static int unmanaged_tagged(struct aws_client *c, const char *stack,
			    const struct refresh_result *res, struct arena *a,
			    struct unmanaged **out, size_t *n, size_t *cap,
			    struct err *err)
{
	size_t i, calls;
	const struct value *l = tagging_list(c, stack, a, &calls, err);

	if (!l)
		return -1;
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *m = l->u.list.items[i];
		const struct value *tags = value_map_get(m, "Tags");
		const char *arn = value_str(value_map_get(m, "ResourceARN"));
		const char *type, *id, *lid, *sv;
		if (!arn)
			continue;
		/* exactly this stack (the filter already says so) */
		sv = tag_of(tags, "cairn:stack");
		if (!sv || strcmp(sv, stack))
			continue;
		arn_kind(a, arn, &type, &id);
		if (recorded_id(res, id) || recorded_id(res, arn))
			continue;
		lid = tag_of(tags, "cairn:logical-id");
		push_unmanaged(a, out, n, cap, id, type, lid ? lid : "?");
		(*out)[*n - 1].arn = arn;
	}
	log_debug("drift --unmanaged: tag:GetResources: %zu resources tagged "
		  "for the stack in %zu page%s", l->u.list.n, calls,
		  calls == 1 ? "" : "s");
	return 0;
}

/* IAM roles: tag:GetResources does not list IAM users and roles (Resource
 * Groups Tagging API reference, "Services that support the Resource Groups
 * Tagging API"); GetAccountAuthorizationDetails' RoleDetail carries their
 * tags, 1000 roles a page. */
static int unmanaged_roles(struct aws_client *c, const char *stack,
			   const struct refresh_result *res, struct arena *a,
			   struct unmanaged **out, size_t *n, size_t *cap,
			   struct err *err)
{
	const char *marker = NULL;
	size_t pages = 0;

	for (;;) {
		struct value *p = value_new_map(a), *f = value_new_list(a);
		const struct value *r, *l;
		const char *trunc;
		size_t i;
		value_list_push(a, f, value_new_string(a, "Role"));
		value_map_set(a, p, "Filter", f);
		value_map_set(a, p, "MaxItems", value_new_number(a, "1000"));
		if (marker)
			value_map_set(a, p, "Marker", value_new_string(a, marker));
		r = aws_call(c, "iam", "GetAccountAuthorizationDetails", p, a,
			     err);
		if (!r || !(l = aws_get_list(a, r, "RoleDetailList", err)))
			return -1;
		for (i = 0; i < l->u.list.n; i++) {
			const struct value *d = l->u.list.items[i];
			const struct value *tags = value_map_get(d, "Tags");
			const char *name = value_str(value_map_get(d, "RoleName"));
			const char *arn = value_str(value_map_get(d, "Arn"));
			const char *sv = tag_of(tags, "cairn:stack");
			const char *lid = tag_of(tags, "cairn:logical-id");
			if (!name || !sv || strcmp(sv, stack) ||
			    recorded_id(res, name) ||
			    (arn && recorded_id(res, arn)))
				continue;
			push_unmanaged(a, out, n, cap, name, "AWS::IAM::Role",
				       lid ? lid : "?");
			(*out)[*n - 1].arn = arn;
		}
		trunc = value_str(value_map_get(r, "IsTruncated"));
		marker = value_str(value_map_get(r, "Marker"));
		if (!trunc || strcmp(trunc, "true") || !marker || !*marker)
			return 0;
		if (++pages >= 1000)
			return err_set(err, ERR_AWS, "GetAccountAuthorizationDetails: "
						     "more than 1000 pages");
	}
}

/*
 * --unmanaged: one tag:GetResources listing (every type it covers: EC2,
 * Logs, ECR, Secrets Manager, ECS, ...) filtered on cairn:stack=<stack>,
 * and IAM roles from GetAccountAuthorizationDetails. When the tagging call
 * is refused (no tag:GetResources permission), the services that filter
 * on a tag themselves: EC2 DescribeTags, Secrets Manager ListSecrets, ECS
 * DescribeClusters/DescribeServices with their tags, SSM DescribeParameters.
 */
static int find_unmanaged(const struct drift_cmd *d, const char *stack,
			  const char *region, const struct refresh_result *res,
			  struct arena *a, struct unmanaged **out, size_t *n,
			  struct err *err)
{
	struct aws_options ao = d->aws;
	struct aws_client *c;
	size_t cap = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (!ao.region)
		ao.region = d->to.region ? d->to.region : region;
	c = aws_client_new(&ao, err);
	if (!c)
		return -1;
	if (unmanaged_tagged(c, stack, res, a, out, n, &cap, err) < 0) {
		if (err->code != ERR_ACCESS_DENIED)
			goto done;
		fprintf(stderr, "cairn: --unmanaged: tag:GetResources refused "
				"(%s); searching EC2, Secrets Manager, ECS and "
				"SSM by their own tag filters (not Logs, ECR, "
				"S3: those list tags one resource at a time)\n",
			err->aws_code[0] ? err->aws_code : err->msg);
		err_clear(err);
		*n = 0;
		if (unmanaged_ec2(c, stack, res, a, out, n, &cap, err) < 0 ||
		    unmanaged_secrets(c, stack, res, a, out, n, &cap, err) < 0 ||
		    unmanaged_ecs(c, stack, res, a, out, n, &cap, err) < 0 ||
		    unmanaged_ssm(c, stack, res, a, out, n, &cap, err) < 0)
			goto done;
	}
	if (unmanaged_roles(c, stack, res, a, out, n, &cap, err) < 0)
		goto done;
	rc = 0;
done:
	aws_client_free(c);
	return rc;
}

static void render_markdown(const char *stack, const struct refresh_result *res,
			    const struct unmanaged *um, size_t n_um,
			    struct arena *a, struct strbuf *sb)
{
	struct plan_md_drift *items =
		arena_alloc(a, (res->n + n_um + 1) * sizeof(*items));
	size_t i, n = 0;

	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		struct plan_md_drift *m = &items[n++];
		memset(m, 0, sizeof(*m));
		m->logical_id = it->logical_id;
		m->type = it->type;
		m->physical_id = it->physical_id;
		m->status = refresh_status_name(it->status);
		m->changes = &it->changes;
		if (it->rec) {
			m->depends_on = it->rec->dependencies;
			m->ndeps = it->rec->n_dependencies;
		}
		if (it->status == REFRESH_FAILED)
			m->note = cli_refresh_err_text(it->err);
		else if (it->status == REFRESH_SKIPPED)
			m->note = it->reason;
	}
	for (i = 0; i < n_um; i++) {
		struct plan_md_drift *m = &items[n++];
		memset(m, 0, sizeof(*m));
		m->logical_id = um[i].logical_id;
		m->type = um[i].type;
		m->physical_id = um[i].id;
		m->status = "unmanaged";
		m->note = "tagged cairn:stack for this stack but not in its "
			  "state: left by a lost state, or made by hand "
			  "(`cairn import` adopts it)";
	}
	plan_render_drift_markdown(stack, items, n, res->unchanged, sb);
}

static const char *kind_name(enum plan_change_kind k)
{
	return k == PLAN_CHANGE_ADD ? "add" :
	       k == PLAN_CHANGE_REMOVE ? "remove" : "update";
}

/* A change that adds to a relationship property (provider_relations) an
 * item no resource of the stack declares: an inline policy put on a role
 * by hand, a route added to a managed table (docs/ownership.md). */
static bool unowned(const char *type, const struct plan_change *c)
{
	const struct provider_relation *rels;
	size_t n = 0, i, len;

	if (c->kind != PLAN_CHANGE_ADD)
		return false;
	rels = provider_relations(type, &n);
	for (i = 0; i < n; i++) {
		len = strlen(rels[i].property);
		if (!strncmp(c->path, rels[i].property, len) &&
		    (c->path[len] == '[' || !c->path[len]))
			return true;
	}
	return false;
}

static void json_value(struct strbuf *sb, const struct value *v, bool secret)
{
	if (secret)
		strbuf_addstr(sb, "\"(sensitive)\"");
	else if (!v)
		strbuf_addstr(sb, "null");
	else
		value_to_json(v, sb, VALUE_JSON_REDACT | VALUE_JSON_SORT_KEYS);
}

static void json_str(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_str(sb, s, strlen(s));
	else
		strbuf_addstr(sb, "null");
}

static void render_json(const char *stack, const struct refresh_result *res,
			const struct unmanaged *um, size_t n_um, bool searched,
			struct strbuf *sb)
{
	size_t i, k;

	strbuf_addstr(sb, "{\"format_version\":\"1\",\"stack\":");
	json_str(sb, stack);
	strbuf_addf(sb, ",\"drifted\":%s,\"summary\":{\"unchanged\":%zu,"
			"\"drifted\":%zu,\"gone\":%zu,\"skipped\":%zu,"
			"\"failed\":%zu},\"resources\":[",
		    res->drifted + res->gone + n_um ? "true" : "false",
		    res->unchanged,
		    res->drifted, res->gone, res->skipped, res->failed);
	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		strbuf_addstr(sb, i ? ",{\"logical_id\":" : "{\"logical_id\":");
		json_str(sb, it->logical_id);
		strbuf_addstr(sb, ",\"type\":");
		json_str(sb, it->type);
		strbuf_addstr(sb, ",\"physical_id\":");
		json_str(sb, it->physical_id);
		strbuf_addf(sb, ",\"status\":\"%s\",\"changes\":[",
			    refresh_status_name(it->status));
		for (k = 0; k < it->changes.n; k++) {
			const struct plan_change *c = &it->changes.items[k];
			strbuf_addstr(sb, k ? ",{\"path\":" : "{\"path\":");
			json_str(sb, c->path);
			strbuf_addf(sb, ",\"kind\":\"%s\",\"recorded\":",
				    kind_name(c->kind));
			json_value(sb, c->before, c->sensitive);
			strbuf_addstr(sb, ",\"live\":");
			json_value(sb, c->after, c->sensitive);
			strbuf_addf(sb, ",\"sensitive\":%s,\"unowned\":%s}",
				    c->sensitive ? "true" : "false",
				    unowned(it->type, c) ? "true" : "false");
		}
		strbuf_addstr(sb, "]");
		if (it->status == REFRESH_FAILED) {
			strbuf_addstr(sb, ",\"error\":");
			json_str(sb, it->err->msg);
			if (it->err->aws_code[0]) {
				strbuf_addstr(sb, ",\"aws_code\":");
				json_str(sb, it->err->aws_code);
			}
			if (it->err->request_id[0]) {
				strbuf_addstr(sb, ",\"request_id\":");
				json_str(sb, it->err->request_id);
			}
		}
		if (it->status == REFRESH_SKIPPED) {
			strbuf_addstr(sb, ",\"reason\":");
			json_str(sb, it->reason);
		}
		strbuf_addstr(sb, "}");
	}
	strbuf_addstr(sb, "]");
	if (searched) {
		strbuf_addstr(sb, ",\"unmanaged\":[");
		for (i = 0; i < n_um; i++) {
			strbuf_addstr(sb, i ? ",{\"logical_id\":" :
					      "{\"logical_id\":");
			json_str(sb, strcmp(um[i].logical_id, "?") ?
					     um[i].logical_id : NULL);
			strbuf_addstr(sb, ",\"type\":");
			json_str(sb, um[i].type);
			strbuf_addstr(sb, ",\"physical_id\":");
			json_str(sb, um[i].id);
			strbuf_addstr(sb, ",\"arn\":");
			json_str(sb, um[i].arn);
			strbuf_addstr(sb, "}");
		}
		strbuf_addstr(sb, "]");
	}
	strbuf_addstr(sb, "}\n");
}

static void render_human(const struct refresh_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		if (it->status == REFRESH_DRIFTED) {
			size_t k;
			printf("~ %s (%s) %s: drifted\n", it->logical_id,
			       it->type, it->physical_id);
			for (k = 0; k < it->changes.n; k++) {
				struct refresh_item one = *it;
				one.changes.items = &it->changes.items[k];
				one.changes.n = 1;
				cli_print_item_changes(stdout, &one, "    ");
				if (unowned(it->type, &it->changes.items[k]))
					printf("      (declared by no resource of "
					       "the stack)\n");
			}
		} else if (it->status == REFRESH_GONE) {
			printf("- %s (%s) %s: gone (deleted outside cairn)\n",
			       it->logical_id, it->type, it->physical_id);
		} else if (it->status == REFRESH_SKIPPED) {
			fprintf(stderr, "cairn: %s (%s) not checked: %s\n",
				it->logical_id, it->type, it->reason);
		}
	}
	if (res->drifted + res->gone)
		printf("\nDrift: %zu drifted, %zu gone, %zu unchanged (recorded "
		       "-> live). 'cairn plan' shows the repair; 'cairn "
		       "refresh' records what AWS has instead.\n",
		       res->drifted, res->gone, res->unchanged);
	else if (!res->failed)
		printf("No drift: %zu resource%s match%s the recorded state.\n",
		       res->unchanged, res->unchanged == 1 ? "" : "s",
		       res->unchanged == 1 ? "es" : "");
	if (res->failed)
		printf("%sDrift check incomplete: %zu resource%s could not be "
		       "read (errors above); %zu match%s the recorded state.\n",
		       res->drifted + res->gone ? "" : "\n", res->failed,
		       res->failed == 1 ? "" : "s", res->unchanged,
		       res->unchanged == 1 ? "es" : "");
}

static int run_drift(struct drift_cmd *d)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	struct state *st = NULL;
	struct refresh_result res;
	struct state_stack ss;
	char *state_path = NULL;
	size_t i;
	int rc = EXIT_ERROR;
	struct state_handle sh;
	struct unmanaged *um = NULL;
	size_t n_um = 0;

	memset(&sh, 0, sizeof(sh));
	if (access(d->to.template_path, R_OK) < 0) {
		cli_error("cannot read template '%s'", d->to.template_path);
		goto done;
	}
	tmplopts_hide_secrets(&d->to, a);
	state_path = stateopts_path(&d->so, d->to.stack, d->to.template_path,
				    &err);
	if (!state_path) {
		cli_error("%s", err.msg);
		goto done;
	}
	/* a remote state: a snapshot, without its lock, never written */
	d->so.aws = &d->aws;
	st = stateopts_open(&d->so, state_path, 0, 0, NULL, &sh, &err);
	if (!st) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (state_stack_get(st, a, &ss, &err) < 0 ||
	    cli_refresh_check_stack(st, d->to.stack, d->to.template_path,
				    &err) < 0 ||
	    cli_refresh_read(st, &d->aws, d->to.region, d->parallelism, a, &res,
			     &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	for (i = 0; i < res.n; i++)
		if (res.items[i].status == REFRESH_FAILED)
			cli_error("%s", cli_refresh_err_text(res.items[i].err));
	if (d->unmanaged &&
	    find_unmanaged(d, ss.name, ss.region, &res, a, &um, &n_um, &err) < 0) {
		cli_error("--unmanaged: %s", err.msg);
		goto done;
	}
	if (d->markdown) {
		struct strbuf sb = STRBUF_INIT;
		render_markdown(ss.name, &res, um, n_um, a, &sb);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	} else if (d->json) {
		struct strbuf sb = STRBUF_INIT;
		render_json(ss.name, &res, um, n_um, d->unmanaged, &sb);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	} else {
		render_human(&res);
		for (i = 0; i < n_um; i++)
			printf("? %s (%s) %s: tagged cairn:stack=%s but not in "
			       "the state (unmanaged)\n",
			       um[i].logical_id, um[i].type, um[i].id, ss.name);
	}
	if (fflush(stdout) != 0) {
		cli_error("cannot write to stdout");
		goto done;
	}
	rc = res.failed ? EXIT_ERROR
			: res.drifted + res.gone + n_um ? EXIT_DRIFT : EXIT_OK;
done:
	stateopts_close(&sh, st, &err);
	free(state_path);
	arena_free(a);
	return rc;
}

static int own_opt(void *ud, int opt, const char *arg, struct err *err)
{
	struct drift_cmd *d = ud;

	switch (opt) {
	case OPT_JSON:
		d->json = true;
		return 1;
	case OPT_FORMAT:
		d->json = !strcmp(arg, "json");
		d->markdown = !strcmp(arg, "markdown");
		if (!d->json && !d->markdown && strcmp(arg, "human"))
			return err_set(err, ERR_USAGE,
				       "--format is human, json or markdown, not '%s'",
				       arg);
		return 1;
	case OPT_UNMANAGED:
		d->unmanaged = true;
		return 1;
	case OPT_PARALLELISM:
		return cli_parse_int("--parallelism", arg, 1, 64, &d->parallelism,
				     err) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

int cmd_drift(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		REFRESH_CLI_AWS_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "unmanaged", no_argument, NULL, OPT_UNMANAGED },
		{ "parallelism", required_argument, NULL, OPT_PARALLELISM },
		{ NULL, 0, NULL, 0 },
	};
	struct drift_cmd d;
	struct cli_opts co = { "drift", &d.to, &d.so, &d.aws, own_opt, &d };
	int rc, first;

	/* usage errors are 1 here: 2 means drift */
#define USAGE(...) (cli_usage_error("drift", __VA_ARGS__), EXIT_ERROR)
	memset(&d, 0, sizeof(d));
	tmplopts_init(&d.to);
	stateopts_init(&d.so);
	if (cli_parse_opts(&co, opts, argc, argv, &first) < 0) {
		tmplopts_release(&d.to);
		return EXIT_ERROR;
	}
	if (argc - first != 1) {
		tmplopts_release(&d.to);
		return USAGE(argc - first ? "one TEMPLATE at a time"
					   : "TEMPLATE is missing");
	}
	d.to.template_path = argv[first];
	rc = run_drift(&d);
	tmplopts_release(&d.to);
	return rc;
#undef USAGE
}
