/*
 * Internal helpers shared by the provider implementations: reading
 * template properties, building request maps, calling AWS with the
 * provider's context added to errors, retrying the eventual-consistency
 * classes, tags in every service's shape, and the pure pieces (tag diffs,
 * rule-set diffs, policy canonicalisation) the unit tests exercise.
 *
 * Everything returned lives in ctx->arena (or the arena passed).
 */
#ifndef CAIRN_PROVIDERS_INT_H
#define CAIRN_PROVIDERS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/provider.h"

/* ---- provider table entries (one per type, defined in the type files) */
extern const struct provider prov_ec2_vpc, prov_ec2_subnet, prov_ec2_igw,
	prov_ec2_gw_attachment, prov_ec2_eip, prov_ec2_natgw,
	prov_ec2_route_table, prov_ec2_route, prov_ec2_subnet_rt_assoc,
	prov_ec2_sg, prov_ec2_sg_ingress, prov_ec2_sg_egress,
	prov_ec2_vpc_endpoint, prov_ecs_cluster, prov_ecs_task_definition,
	prov_ecs_service, prov_ecr_repository, prov_iam_role,
	prov_iam_managed_policy, prov_iam_policy, prov_iam_role_policy,
	prov_sm_secret, prov_logs_log_group, prov_ssm_parameter,
	prov_ec2_instance, prov_ec2_key_pair, prov_iam_instance_profile,
	prov_iam_oidc_provider, prov_s3_bucket, prov_s3_bucket_policy;
/* The generic provider (cloudcontrol.c): provider_find() returns it for
 * every provisionable type without a native provider; it works from
 * ctx->type and the type's registry schema. */
extern const struct provider prov_cloudcontrol;
/* RFC 6902 operations turning old_props into new_props, one per changed
 * top-level property (add for a new or changed one, remove), in new_props' order then
 * the removals; pointers escaped per RFC 6901. */
struct value *cc_json_patch(struct arena *a, const struct value *old_props,
			    const struct value *new_props);

/* ---- properties */
const struct value *pv(const struct value *props, const char *key);
/* A string property, or a number's text; NULL when absent/other. */
const char *pv_str(const struct value *props, const char *key);
/* A boolean (true/false or "true"/"false"); dflt when absent. */
bool pv_bool(const struct value *props, const char *key, bool dflt);
bool pv_has(const struct value *props, const char *key);
/* Whether key differs between old and new (absent == absent). */
bool pv_changed(const struct value *old_props, const struct value *new_props,
		const char *key);
/* The text of a scalar value (string, number, bool), else NULL. */
const char *v_text(struct arena *a, const struct value *v);

/* ---- building params */
void ps(struct arena *a, struct value *m, const char *key, const char *s);
void pb(struct arena *a, struct value *m, const char *key, bool b);
void pn(struct arena *a, struct value *m, const char *key, const char *num);
/* {"Value": b} (EC2 AttributeBooleanValue) */
void pattr(struct arena *a, struct value *m, const char *key, bool b);
struct value *str_list1(struct arena *a, const char *s);

/* ---- calls */
/* aws_call with "TYPE LOGICAL: " prepended to a failure. */
struct value *pcall(struct provider_ctx *ctx, const char *svc, const char *op,
		    const struct value *params, struct err *err);
/* pcall of a paged List/Describe call: every page, the items of the list
 * at list_path ("vpcSet", "PolicyRoles") gathered in the first page's
 * tree (aws_call_all). */
struct value *pcall_all(struct provider_ctx *ctx, const char *svc,
			const char *op, const struct value *params,
			const char *list_path, struct err *err);
/* Retries while the AWS error code is one of codes (NULL-terminated) or,
 * when retry_classes, ... up to `seconds` (bounded by ctx->deadline). */
struct value *pcall_retry(struct provider_ctx *ctx, const char *svc,
			  const char *op, const struct value *params,
			  const char *const *codes, double seconds,
			  struct err *err);
bool code_in(const struct err *err, const char *const *codes);
double prov_now(void);
/* The absolute deadline of a wait of at most `seconds`. */
double prov_deadline(struct provider_ctx *ctx, double seconds);
/* Like provider_sleep but fails once prov_now() passes dl. */
int prov_sleep_until(struct provider_ctx *ctx, int *attempt, double dl,
		     const char *what, struct err *err);
void prov_status(struct provider_ctx *ctx, const char *msg);
/* attrs[k] = v, when v is not NULL (a string in ctx->arena). */
void set_attr(struct provider_ctx *ctx, struct value *attrs, const char *k,
	      const char *v);
int prov_fail(struct provider_ctx *ctx, struct err *err, enum err_code code,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- tags */
/* Template Tags ([{Key,Value}]) plus cairn:stack and cairn:logical-id, in
 * the template's shape: a list of {"Key","Value"} maps (cairn's win). */
struct value *tags_merged(struct provider_ctx *ctx, const struct value *props);
/* Same list, keys renamed ("key"/"value" for ECS). */
struct value *tags_rekey(struct arena *a, const struct value *tags,
			 const char *k, const char *v);
/* {key: value, ...} (CloudWatch Logs). */
struct value *tags_as_map(struct arena *a, const struct value *tags);
/* [{ResourceType: rt, Tags: tags}] */
struct value *ec2_tag_spec(struct arena *a, const char *rtype,
			   const struct value *tags);
/* A response's tags (list of {k,v} maps with any key case, or a map)
 * back into the template's [{Key,Value}], without cairn: and aws: keys;
 * NULL when there are none. */
struct value *tags_from_aws(struct arena *a, const struct value *tags,
			    const char *k, const char *v);
/* Whether a resource's tags (any of AWS's shapes) say it is this stack's
 * resource ctx->logical_id: cairn:stack = ctx->stack and
 * cairn:logical-id = ctx->logical_id. What a find() by name checks before
 * returning anything: cairn adopts only what it provably created. */
bool tags_owned(const struct provider_ctx *ctx, const struct value *tags);
/* find()'s answer for a resource that exists under the identity looked
 * for but is not this stack's: ERR_ALREADY_EXISTS naming it, with
 * out->physical_id set to its id (the executor adds the `cairn import`
 * hint). Returns -1. */
int prov_foreign(struct provider_ctx *ctx, const char *physical_id,
		 const struct value *tags, struct provider_result *out,
		 struct err *err);
/* Diff of two [{Key,Value}] lists: set = added or changed (same shape),
 * removed = list of key strings. */
void tags_diff(struct arena *a, const struct value *old_tags,
	       const struct value *new_tags, struct value **set,
	       struct value **removed);
/* Applies a Tags change on an EC2 resource (CreateTags/DeleteTags). */
int ec2_update_tags(struct provider_ctx *ctx, const char *id,
		    const struct value *old_props,
		    const struct value *new_props, struct err *err);
/* Tags change on a JSON/Query service: tag_op(id_member: id, tags_member:
 * tags in shape k/v, or a map when k is NULL), untag_op(id_member: id,
 * keys_member: [keys]). */
struct tag_api {
	const char *svc, *tag_op, *untag_op, *id_member, *tags_member,
		*keys_member, *k, *v;
};
int api_update_tags(struct provider_ctx *ctx, const struct tag_api *api,
		    const char *id, const struct value *old_props,
		    const struct value *new_props, struct err *err);
/* PascalCase template keys to camelCase API keys, recursively; maps under
 * a key in verbatim (NULL-terminated) are copied unchanged. */
struct value *camel_keys(struct arena *a, const struct value *v,
			 const char *const *verbatim);
/* The reverse, for read. */
struct value *pascal_keys(struct arena *a, const struct value *v,
			  const char *const *verbatim);
/* Whether err is the service's "not found" (ERR_NOT_FOUND). */
int gone_is_ok(struct err *err);

/* A create that failed (err) after its first call had made the resource
 * `id` (a log group whose retention was refused, a repository whose
 * lifecycle policy was): deletes it again with the provider's delete, as
 * CloudFormation's rollback does, so that no failed apply leaves a resource
 * the state does not record, which the next attempt would trip over
 * (AlreadyExists) or make again under a new generated name. Only ever for
 * what this create made itself. Keeps err (the cause) and adds what became
 * of the resource; returns -1. (IAM's own, which first waits for the new
 * entity to be visible, is in iam.c.) */
int prov_undo_create(struct provider_ctx *ctx, const char *what, const char *id,
		     int (*del)(struct provider_ctx *, const char *,
				const struct value *, const struct value *,
				struct err *),
		     const struct value *props, struct err *err);
/* [{"Name": name, "Values": [value]}] appended to list. */
void ec2_filter(struct arena *a, struct value *list, const char *name,
		const char *value);
/* Filters for tag:cairn:stack and tag:cairn:logical-id. */
struct value *ec2_cairn_filters(struct provider_ctx *ctx);
/* ids joined: "a|b" split; returns false if no '|'. */
bool split_id(struct arena *a, const char *id, const char **left,
	      const char **right);

/* ---- EC2 describe helpers */
/* Describes ids with one call (op, list member ids_member, response list
 * set, id field id_field); found[i] = the item for ids[i], NULL when gone.
 * A NotFound error for a multi-id call falls back to one call per id. */
int ec2_describe(struct provider_ctx *ctx, const char *op,
		 const char *ids_member, const char *set, const char *id_field,
		 size_t n, const char *const *ids, const struct value **found,
		 struct err *err);
/* Polls one id until field `state_field` is `want` (case-insensitive);
 * fails on any state in fail (NULL-terminated) or when gone (gone_ok:
 * returns 0 with *item NULL). */
int ec2_wait_state(struct provider_ctx *ctx, const char *op,
		   const char *ids_member, const char *set,
		   const char *id_field, const char *id,
		   const char *state_field, const char *want,
		   const char *const *fail, bool gone_ok, double seconds,
		   const struct value **item, struct err *err);
/* First item of a Describe by the cairn tag filters, or NULL. */
int ec2_find_tagged(struct provider_ctx *ctx, const char *op, const char *set,
		    const char *id_field, const char **id, struct err *err);
/* find() of a type a crashed run is found again by: the first resource a
 * Describe (op, response list set, id field id_field) returns for the
 * cairn:stack / cairn:logical-id tags, read with p's read(); ERR_NOT_FOUND
 * when none. */
int ec2_find_by_tags(const struct provider *p, struct provider_ctx *ctx,
		     const char *op, const char *set, const char *id_field,
		     struct provider_result *out, struct err *err);
/* tags_merged plus cairn:token = ctx->token: what a create that cannot
 * be resent blindly tags its resource with, so ec2_create_once finds what
 * a lost attempt made (and not the old resource of a replacement, which
 * has the same cairn:stack / cairn:logical-id). */
struct value *tags_with_token(struct provider_ctx *ctx,
			      const struct value *props);
/*
 * An EC2 create without an idempotency token (CreateVpc, AllocateAddress
 * ...), sent with the client's no_resend flag: when an answer is lost
 * (transport failure, 5xx: AWS may have applied it), looks for what that
 * attempt made by its cairn:token tag (Describe desc_op, list set, id
 * field id_field; the params must carry tags_with_token) and sends the
 * call again only when nothing is there. Retries the error codes in codes
 * (eventual consistency) up to `seconds`, like pcall_retry. Returns the
 * response; or NULL with *found_id set (err clear) when a lost attempt's
 * resource was found; or NULL with err.
 */
struct value *ec2_create_once(struct provider_ctx *ctx, const char *op,
			      const struct value *params,
			      const char *const *codes, double seconds,
			      const char *desc_op, const char *set,
			      const char *id_field, const char **found_id,
			      struct err *err);
/* Generic read on top of read_many. */
int read_via_many(const struct provider *p, struct provider_ctx *ctx,
		  const char *id, struct provider_result *out,
		  struct err *err);

/* ---- pure helpers (unit-tested) */
/* URL-decodes (RFC 3986 %XX, and '+' left alone) into a. */
char *url_decode(struct arena *a, const char *s);
/* A policy document as AWS returns it (JSON, URL-encoded by IAM) read into
 * a value tree in the template's shape; NULL when enc is NULL or not JSON. */
struct value *policy_doc_value(struct arena *a, const char *enc);
/* Secrets Manager: the version id that a {versionId: [stages]} map
 * (DescribeSecret's VersionIdsToStages, ListSecrets'
 * SecretVersionsToStages) marks AWSCURRENT, or NULL. */
const char *secret_current_version(const struct value *stages);
/* A policy document (map, or JSON text, or URL-encoded JSON text) as
 * canonical JSON text: keys sorted, no spaces; single-element
 * Action/Resource/Principal-service lists kept as written. NULL with err
 * when it is not JSON. */
char *policy_canonical(struct arena *a, const struct value *doc,
		       struct err *err);
/* A policy document as the JSON text to send. */
char *policy_text(struct arena *a, const struct value *doc);

/* Security group rules. A rule is normalised to a string key
 * "proto|from|to|kind|target" (kind: cidr, cidr6, sg, pl) plus its
 * description; one template rule (or one AWS IpPermission) may expand to
 * several. */
struct sg_rule {
	const char *key;
	const char *proto, *from, *to, *kind, *target, *desc;
};
struct sg_rules {
	struct sg_rule *items;
	size_t n, cap;
};
/* From the template's SecurityGroupIngress/Egress list (egress: true
 * looks at DestinationSecurityGroupId / CidrIp). */
int sg_rules_from_template(struct arena *a, const struct value *list,
			   bool egress, struct sg_rules *out, struct err *err);
/* From DescribeSecurityGroups' ipPermissions / ipPermissionsEgress. */
void sg_rules_from_aws(struct arena *a, const struct value *perms,
		       struct sg_rules *out);
/* Rules in a not in b. */
void sg_rules_minus(struct arena *a, const struct sg_rules *x,
		    const struct sg_rules *y, struct sg_rules *out);
/* IpPermissions param list for the rules. */
struct value *sg_rules_to_params(struct arena *a, const struct sg_rules *r);
/* The template shape of rules (for read). */
struct value *sg_rules_to_template(struct arena *a, const struct sg_rules *r,
				   bool egress);
bool sg_rule_is_default_egress(const struct sg_rule *r);

/* ---- IAM authorization details (iam_batch.c; batchread.h) */
void iam_details_begin(struct aws_client *aws);
void iam_details_end(void);
/* AWS::IAM::Role read_many from one GetAccountAuthorizationDetails
 * listing; point(), the type's read, for what the listing cannot answer
 * (Description / MaxSessionDuration recorded, a role the listing lacks, no
 * listing). */
int iam_role_read_many(struct provider_ctx *ctx, size_t n,
		       const char *const *ids, struct provider_result *outs,
		       int (*point)(struct provider_ctx *, const char *,
				    const struct value *,
				    struct provider_result *, struct err *),
		       struct err *err);

/* ---- Secrets Manager listing (secrets_batch.c; batchread.h) */
void secrets_list_begin(const char *stack);
void secrets_list_end(void);
/* AWS::SecretsManager::Secret read_many from one ListSecrets listing of
 * the stack's secrets; point() for what it lacks or may be stale for. */
int secrets_read_many(struct provider_ctx *ctx, size_t n,
		      const char *const *ids, struct provider_result *outs,
		      int (*point)(struct provider_ctx *, const char *,
				   const struct value *,
				   struct provider_result *, struct err *),
		      struct err *err);

#endif
