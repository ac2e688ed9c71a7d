/*
 * schema: the CloudFormation registry schemas of the supported resource
 * types, embedded in the binary at build time (from the JSON files in
 * schemas/, CloudFormation registry copies; see schemas/README.md), and what cairn asks of them.
 *
 * Property paths in this API are relative to a resource's Properties, with
 * '/' between steps and '*' for any list index: "CidrBlock",
 * "DnsOptions/PrivateDnsPreference", and the steps "ContainerDefinitions",
 * "*", "Image" joined by '/' (a digit step is taken as '*').
 *
 * Everything returned is static (lives as long as the process); the API is
 * thread-safe after schema_init() (which is idempotent and called lazily).
 */
#ifndef CAIRN_SCHEMA_H
#define CAIRN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "value.h"

struct schema_type;

/* NULL when neither the embedded schemas nor the all-types bundle know
 * the type. An embedded schema (a native provider's type) wins; a bundle
 * type is parsed on first use (see "all-types bundle" below). */
const struct schema_type *schema_find(const char *type_name);
/* The embedded (native) types only. */
size_t schema_count(void);
const struct schema_type *schema_at(size_t i);
const char *schema_type_name(const struct schema_type *t);
/* True for an embedded schema (a type with a native provider). */
bool schema_native(const struct schema_type *t);
/* Whether Cloud Control can provision the type (false for the registry's
 * NON_PROVISIONABLE types); true for native types. */
bool schema_provisionable(const struct schema_type *t);
/* The known type name closest to name (case-insensitive edit distance of
 * at most 3), or NULL. Static storage. */
const char *schema_suggest_type(const char *name);

/*
 * The all-types bundle: the registry schema of every CloudFormation type
 * (schemas/registry/all-types.bundle, built by scripts/schema-bundle),
 * found through $CAIRN_SCHEMA_BUNDLE, next to the binary, or in the data
 * directory. Only the index is read up front. Every function below is
 * thread-safe; with no bundle found the counts are 0 and the path NULL.
 */
size_t schema_registry_count(void);
/* The i-th type name (sorted) and whether it is provisionable; static. */
const char *schema_registry_name(size_t i, bool *provisionable);
/* Every type name of the bundle, sorted (static array of *n). */
const char *const *schema_registry_names(size_t *n);
/* The bundle file in use and its "source:" line (static, may be NULL). */
const char *schema_registry_path(void);
const char *schema_registry_source(void);
/* The schema cache `cairn schema update` fills: $CAIRN_SCHEMA_CACHE, else
 * $XDG_CACHE_HOME/cairn/schemas, else ~/.cache/cairn/schemas (NULL when
 * there is no HOME); and the file of a type in dir (aws-sqs-queue style:
 * "AWS-SQS-Queue.json"). Both returned strings are the caller's. A cached
 * schema wins over the bundle's copy. */
char *schema_cache_dir(void);
char *schema_cache_file(const char *dir, const char *type_name);

/*
 * Checks evaluated properties (Properties of one resource; NULL when the
 * resource has none) against the type's schema: unknown property (with a
 * "did you mean" suggestion), missing required property, wrong type, enum,
 * pattern, length, range, format (ipv4-network CIDRs...), and the cfn-lint
 * extensions (requiredXor, requiredOr, dependentRequired,
 * dependentExcluded...). VALUE_UNKNOWN satisfies any type; scalars are
 * coerced as CloudFormation does ("5" is an integer, 5 a string). Appends
 * one diag per problem, with the offending node's mark (the key's mark
 * for an unknown property), the logical id, and the path in
 * "Properties.A[0].B" form; a read-only or deprecated property given is a
 * DIAG_WARNING. Sensitive values are never quoted in messages.
 */
void schema_validate(const struct schema_type *t, const struct value *props,
		     const char *logical_id, struct diag_list *out);
/*
 * Same, with `where` (may be NULL) the mark to give problems that have no
 * node of their own when props is NULL (a missing required property of a
 * resource without Properties): pass the resource's mark.
 */
void schema_validate_at(const struct schema_type *t, const struct value *props,
			const char *logical_id, const struct mark *where,
			struct diag_list *out);

/*
 * Converts the scalars of evaluated properties (a map; anything else is
 * returned as is) to the types the type's schema declares, as
 * CloudFormation does before a handler sees them: a number or boolean
 * where a string is declared becomes its text (10 -> "10"), a numeric
 * string where an integer or number is declared becomes a number ("256"
 * -> 256), "true"/"false" (any case) where a boolean is declared becomes a
 * boolean; at any depth. Properties with no declared type and objects
 * without declared properties (Json: PolicyDocument) are left untouched,
 * and so is a value that cannot be converted ("abc" for an integer):
 * schema_validate() reports it. An ECS task definition's Cpu "1 vCPU" and
 * Memory "1 GB" are written as ECS stores them ("1024"). Marks and
 * sensitive bits are kept.
 * Returns props itself when nothing changed, else a new tree allocated in
 * a that shares the unchanged nodes (props is never modified).
 */
struct value *schema_coerce(const struct schema_type *t, struct arena *a,
			    struct value *props);

/*
 * IAM policy grammar in the policy-bearing properties of evaluated
 * properties of type t (src/schema/policy_check.c lists them and the
 * rules): Version, Statement, statement elements, Effect, Action/
 * NotAction, Resource and Principal as the kind of document requires,
 * action form, Sid, condition operators; a managed policy's Description.
 * One DIAG_ERROR per problem at the offending key or value; unknown
 * values are skipped. template_check_schemas() calls it after
 * schema_validate().
 */
void schema_check_policies(const struct schema_type *t,
			   const struct value *props, const char *logical_id,
			   struct diag_list *out);

/* True when the top-level property name is declared as a JSON object (not
 * an array): Tags of AWS::SSM::Parameter is a {key: value} map, Tags of
 * most types a [{Key, Value}] list. */
bool schema_object_property(const struct schema_type *t, const char *name);

/* Whether Fn::GetAtt may ask for attr ("Arn", "Endpoint.Address"). */
bool schema_has_attribute(const struct schema_type *t, const char *attr);
/* Comma-separated attribute names for messages; static storage. */
const char *schema_attributes(const struct schema_type *t);

/*
 * Property flags. A path matches a listed entry when the entry equals the
 * path or is an ancestor of it (a change under a create-only property is a
 * change of that property). The return value is the entry that matched,
 * in the same path form, or NULL.
 */
const char *schema_create_only(const struct schema_type *t, const char *path);
const char *schema_write_only(const struct schema_type *t, const char *path);
const char *schema_read_only(const struct schema_type *t, const char *path);
/* conditionalCreateOnlyProperties: a change may force replacement
 * (VPC InstanceTenancy, Subnet Ipv6CidrBlock); the plan decides. Not
 * included in schema_create_only(). */
const char *schema_conditional_create_only(const struct schema_type *t,
					   const char *path);
/* True when the array at path has insertionOrder false (compare as a set). */
bool schema_unordered(const struct schema_type *t, const char *path);

/* The primary identifier's property names, in order; *n set. */
const char *const *schema_primary_identifier(const struct schema_type *t,
					     size_t *n);
bool schema_taggable(const struct schema_type *t);
/* True when the schema's replacementStrategy is delete_then_create (the
 * old resource must go before its replacement can exist: VPCGateway-
 * Attachment, SubnetRouteTableAssociation); false for create_then_delete,
 * CloudFormation's default. */
bool schema_delete_before_create(const struct schema_type *t);

/* Parses the embedded schemas now rather than on first use (idempotent,
 * thread-safe; schema_find, schema_count and schema_at call it). */
void schema_init(void);

/*
 * A type built from a registry schema's JSON text, not registered with
 * schema_find (for tests and tools). NULL with err set (ERR_PARSE,
 * ERR_VALIDATION) when the text is not a schema cairn can use. The caller
 * owns it: schema_type_free() (NULL is a no-op).
 */
struct schema_type *schema_type_parse(const char *json, size_t len,
				      struct err *err);
void schema_type_free(struct schema_type *t);

#endif
