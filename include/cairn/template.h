/*
 * template: the CloudFormation template engine.
 *
 * Three stages:
 *   1. template_load*(): YAML or JSON text -> struct value tree with marks
 *      (file:line:col, 1-based) on every node and key. Short tags (!Ref,
 *      !Sub, !GetAtt ...) become their long form ({"Fn::Sub": ...}).
 *      Rejects malformed YAML, duplicate keys, tabs in indentation, invalid
 *      UTF-8, unknown tags, files over 10 MB, nesting deeper than 64 levels
 *      and alias expansion past a fixed cap (billion laughs).
 *   2. The same call builds the model (struct template): sections,
 *      parameters, conditions, resources, outputs, with structural checks
 *      (unknown sections and attributes, resource types via schema_find()).
 *   3. template_evaluate(): parameters (with their constraints), conditions,
 *      intrinsics and pseudo parameters -> struct tmpl_stack, the resources
 *      that are included with their evaluated properties, the references
 *      between them, and the outputs. Values only AWS knows are
 *      VALUE_UNKNOWN with `what` set ("Vpc", "Vpc.CidrBlock", "Fn::GetAZs").
 *      template_eval_resource() evaluates one resource again later, when the
 *      executor knows more (ctx->resolve).
 *
 * Problems in user input go to a struct diag_list (all of them, each with a
 * mark, the logical id and the property path); a function returns -1/NULL
 * only when it could not produce a result at all.
 *
 * Ownership: everything returned lives in the struct arena passed in and
 * dies with it; strings in the model and the results are never freed one by
 * one. Evaluated values may share nodes with the loaded template and with
 * values the resolver returned: treat them as read-only (value_copy()
 * before changing one). The diag_list is the caller's
 * (diag_list_release()).
 */
#ifndef CAIRN_TEMPLATE_H
#define CAIRN_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "err.h"
#include "value.h"

struct schema_type;

#define TEMPLATE_MAX_BYTES (10u * 1024 * 1024)
#define TEMPLATE_MAX_DEPTH 64
/* Nodes a document may expand to through aliases. */
#define TEMPLATE_MAX_NODES 2000000u
/* The engine stops adding error diags past this many (so a hostile 10 MB
 * file cannot make millions of them); the last one says so. */
#define TEMPLATE_MAX_ERRORS 1000u

/*
 * Loads YAML/JSON text into a value tree (stage 1 only). `name` is used in
 * marks (kept in a). Returns NULL when the text cannot be loaded; every
 * problem is in diags. Also used for parameter files.
 */
struct value *template_parse_yaml(struct arena *a, const char *name,
				  const char *text, size_t len,
				  struct diag_list *diags);

/* A name -> index table (open addressing); internal to the engine but
 * exposed so the graph can reuse it. */
struct tmpl_index {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

struct tmpl_param {
	const char *name;
	struct mark mark;
	const struct value *decl; /* the declaration map */
	const char *type;         /* "String", "Number", "List<Number>" ... */
	bool no_echo;
};

struct tmpl_resource {
	const char *logical_id;
	struct mark mark; /* of the logical id key */
	const struct value *decl;
	const char *type; /* NULL when missing */
	const struct schema_type *schema; /* NULL when unsupported */
	const struct value *properties;   /* raw; NULL when absent */
	const struct value *depends_on;   /* raw DependsOn, NULL when absent */
	const char *condition;            /* NULL: always included */
	const char *deletion_policy;      /* NULL: Delete */
	const char *update_replace_policy;
	/* AWS::CDK::Metadata: accepted, never part of the stack (evaluated
	 * as not included) */
	bool noop;
};

struct tmpl_output {
	const char *name;
	struct mark mark;
	const struct value *decl;
	const char *condition;
};

struct template {
	const char *file;
	struct value *root;
	const char *description;
	struct tmpl_param *params;
	size_t nparams;
	struct tmpl_resource *resources;
	size_t nresources;
	struct tmpl_output *outputs;
	size_t noutputs;
	const struct value *conditions; /* map or NULL */
	const struct value *mappings;   /* map or NULL */
	struct tmpl_index param_idx, res_idx, cond_idx;
};

/*
 * Loads and checks the structure of a template file (stages 1 and 2).
 * Returns NULL when the file cannot be read or parsed (err set; the parse
 * problems are also in diags). A template with structural errors is still
 * returned; check diags->errors.
 */
struct template *template_load(struct arena *a, const char *path,
			       struct diag_list *diags, struct err *err);
struct template *template_load_buffer(struct arena *a, const char *name,
				      const char *text, size_t len,
				      struct diag_list *diags,
				      struct err *err);
/* template_load with the parameter values the operation will use (either
 * map may be NULL): Fn::ForEach loops over a parameter are expanded with
 * them, as CloudFormation runs its transforms with the stack's values. */
struct template *template_load_params(struct arena *a, const char *path,
				      const struct value *params,
				      const struct value *env_params,
				      struct diag_list *diags,
				      struct err *err);

const struct tmpl_resource *template_find_resource(const struct template *t,
						   const char *logical_id);
const struct tmpl_param *template_find_param(const struct template *t,
					     const char *name);

/*
 * Answers the evaluator's questions about resources: the known value of
 * Ref (attr NULL) or Fn::GetAtt of logical_id, or NULL when it is not known
 * yet (the evaluator then uses VALUE_UNKNOWN). The returned value is
 * borrowed; it must outlive the evaluation.
 */
typedef const struct value *(*tmpl_resolve_fn)(void *ud, const char *logical_id,
					       const char *attr);

/* One parameter of an AWS type, for tmpl_ctx.aws_params. */
struct tmpl_aws_param {
	const char *name; /* the template's parameter name */
	const char *type; /* "AWS::EC2::VPC::Id", "List<AWS::EC2::Subnet::Id>",
			   * "AWS::SSM::Parameter::Value<String>" ... */
	/* the given value's items: one for a scalar type (for an SSM type,
	 * the parameter store name), every item of a List<...> type */
	const char *const *vals;
	size_t nvals;
	/* out, SSM types: the value read, a string (split by the caller
	 * for a List<...> value type); NULL when it cannot be known */
	const char *resolved;
};

struct tmpl_ctx {
	const char *region;
	const char *account;
	const char *partition;  /* "aws", "aws-cn", "aws-us-gov" */
	const char *url_suffix; /* "amazonaws.com" ... */
	const char *stack_name;
	const char *stack_id;
	/* Given parameter values: a map name -> string (or list/number) value,
	 * marks pointing where they came from (a params file) or none. NULL
	 * when none. Names not declared by the template are errors. */
	const struct value *params;
	/* Lower-precedence values (environment CAIRN_PARAM_<Name>): used only
	 * for declared names, others ignored. NULL when none. */
	const struct value *env_params;
	/* The AZ names Fn::GetAZs returns; NULL = unknown (VALUE_UNKNOWN). */
	const char *const *azs;
	size_t nazs;
	/* When set, Fn::GetAZs of the context's region asks it instead (the
	 * CLI: ec2:DescribeAvailabilityZones, once per run): 1 with the
	 * names, 0 when they cannot be known (the value stays unknown), -1
	 * with err (an error at the intrinsic). */
	int (*get_azs)(void *ud, const char *const **azs, size_t *n,
		       struct err *err);
	void *get_azs_ud;
	/* When set, the parameters of AWS types are handed to it once, all
	 * together, after each has its value (tmpl_aws_param): it resolves
	 * AWS::SSM::Parameter::Value<...> (ssm:GetParameters) and checks
	 * that the values of AWS-specific types (AWS::EC2::VPC::Id ...)
	 * exist in the account. 0 when done (an entry left without
	 * `resolved` stays unknown), -1 with err naming the parameter. NULL:
	 * SSM-typed parameters are unknown, AWS-specific ones plain strings. */
	int (*aws_params)(void *ud, struct arena *a,
			  struct tmpl_aws_param *params, size_t n,
			  struct err *err);
	void *aws_params_ud;
	/* Dynamic references in resource properties ({{resolve:ssm:...}},
	 * {{resolve:ssm-secure:...}}, {{resolve:secretsmanager:...}}) are
	 * never resolved by evaluation: the string keeps the template's text
	 * and is marked dynref + sensitive (see value.h); apply reads the
	 * values (exec_opts.dynref). */
	/* When set, each dynamic reference (ref: the text between
	 * "{{resolve:" and "}}") is handed to it to check, without reading
	 * its value, that what it names exists (the CLI: DescribeSecret,
	 * DescribeParameters): 0 when it does or cannot be known, -1 with
	 * err (then an error at the string). NULL: nothing is checked. */
	int (*dynref_check)(void *ud, struct arena *a, const char *ref,
			    struct err *err);
	void *dynref_check_ud;
	/* A parameter with no value and no Default: an error when false; a
	 * warning and an unknown value when true (validate). */
	bool missing_params_unknown;
	tmpl_resolve_fn resolve; /* NULL: every resource value is unknown */
	void *resolve_ud;
};

/*
 * Fills ctx with defaults for region/account/stack (none may be NULL):
 * partition and URL suffix from the region, stack id
 * arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
 * with a fixed uuid, AZs <region>a, b, c. Strings are kept in a.
 */
void tmpl_ctx_init(struct tmpl_ctx *ctx, struct arena *a, const char *region,
		   const char *account, const char *stack_name);

enum tmpl_ref_kind {
	TMPL_REF_REF,
	TMPL_REF_GETATT,
	TMPL_REF_SUB,
	TMPL_REF_DEPENDSON,
};
const char *tmpl_ref_kind_name(enum tmpl_ref_kind k);

/* One reference from a resource to another, as evaluated (only branches of
 * Fn::If that were taken count). */
struct tmpl_ref {
	const char *target;
	const char *attr; /* GetAtt/Sub attribute, else NULL */
	enum tmpl_ref_kind kind;
	struct mark mark;
};

struct tmpl_eval_resource {
	const struct tmpl_resource *res;
	bool included;             /* its Condition is true (or none) */
	struct value *properties;  /* evaluated; NULL when none */
	struct tmpl_ref *refs;
	size_t nrefs;
};

struct tmpl_eval_output {
	const struct tmpl_output *out;
	bool included;
	struct value *value;
	const char *description; /* NULL when none */
	struct value *export_name; /* NULL when none */
};

struct tmpl_stack {
	const struct template *tmpl;
	struct value *params; /* map name -> evaluated value (sensitive for NoEcho) */
	struct value *conditions; /* map name -> bool */
	struct tmpl_eval_resource *resources; /* parallel to tmpl->resources */
	size_t nresources;
	size_t nincluded;
	struct tmpl_eval_output *outputs; /* parallel to tmpl->outputs */
	size_t noutputs;
};

/*
 * Evaluates the whole stack. Every problem goes to diags; the result is
 * returned even when there are errors (NULL only if t is NULL). ctx is
 * copied where needed; its strings must outlive the result.
 */
struct tmpl_stack *template_evaluate(struct arena *a, const struct template *t,
				     const struct tmpl_ctx *ctx,
				     struct diag_list *diags);

/*
 * Evaluates one resource's Properties again with ctx (its resolver now
 * answering for created resources), using the parameters and conditions of
 * st. Returns the evaluated properties (an empty map when the resource has
 * none) or NULL with err set when the resource is unknown, excluded, or
 * evaluation fails (the first problem is the message; all go to diags when
 * diags is not NULL).
 */
struct value *template_eval_resource(struct arena *a, const struct tmpl_stack *st,
				     const struct tmpl_ctx *ctx,
				     const char *logical_id,
				     struct diag_list *diags, struct err *err);

/* Runs schema_validate() on every included resource's evaluated properties
 * (when the schema module knows the type). */
void template_check_schemas(const struct tmpl_stack *st, struct diag_list *diags);

/* Internal table helpers (src/template/index.c). */
void tmpl_index_put(struct arena *a, struct tmpl_index *ix, const char *key,
		    size_t val);
/* true and *val set when found */
bool tmpl_index_get(const struct tmpl_index *ix, const char *key, size_t *val);

#endif
