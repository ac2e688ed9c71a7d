/*
 * plan: what `apply` would change, and why.
 *
 * Three stages, each usable on its own:
 *
 *  - the diff engine (plan_diff_props) compares one resource's desired
 *    properties (the template evaluated) with the recorded ones (state) and
 *    lists the property changes with nested paths ("Tags[2].Value"), whether
 *    each forces replacement (the schema's createOnlyProperties, which entry
 *    matched is kept as the reason), and whether a value is sensitive or
 *    known only after apply;
 *  - the plan model (struct plan): one action per resource (create, update
 *    in place, replace, delete, forget, no-op), creates in dependency order,
 *    deletes in reverse dependency order;
 *  - rendering (human, JSON "format_version 1", see docs/plan-json.md) and
 *    saved plans bound to the template digest, the parameter fingerprints and
 *    the state serial they were made against (plan_save / plan_load).
 *
 * Ownership: one rule for the whole API. Everything a plan or a change list
 * holds lives in the arena given to plan_new() / plan_diff_props(); the
 * value trees passed in (desired and recorded properties) are borrowed, not
 * copied, and must outlive the plan. Nothing here prints or exits.
 */
#ifndef CAIRN_PLAN_H
#define CAIRN_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "err.h"
#include "graph.h"
#include "schema.h"
#include "state.h"
#include "strbuf.h"
#include "template.h"
#include "value.h"

/* ---------------------------------------------------------------- diff */

enum plan_change_kind {
	PLAN_CHANGE_ADD,    /* set in the template, absent in state */
	PLAN_CHANGE_REMOVE, /* recorded, no longer set */
	PLAN_CHANGE_UPDATE, /* both set, different */
};

struct plan_change {
	enum plan_change_kind kind;
	/* "CidrBlock", "Tags[2].Value", "ContainerDefinitions[0].Image";
	 * list indexes are the desired side's (the recorded side's for a
	 * REMOVE); a key that is not an identifier is written ["a.b"] */
	const char *path;
	const struct value *before; /* recorded; NULL for ADD */
	const struct value *after;  /* desired; NULL for REMOVE */
	bool unknown;   /* after is, or contains, a value known after apply */
	bool sensitive; /* neither side may be shown: "(sensitive)" */
	/* the createOnlyProperties entry ("CidrBlock",
	 * "ContainerDefinitions") that makes this change force replacement,
	 * or NULL (static storage, from the schema module) */
	const char *forces;
};

struct plan_changes {
	struct plan_change *items; /* in the arena */
	size_t n, cap;
};

/*
 * Tells whether a desired value matches a recorded secret fingerprint
 * ("hmac-sha256:<hex>", see plan_secret_fingerprint). cairn plan passes
 * one built on state_fingerprint(); tests pass their own.
 */
typedef bool (*plan_secret_match_fn)(void *ud, const struct value *desired,
				     const char *fingerprint);

struct plan_diff_opts {
	/* the resource type's schema; NULL: no create-only, read-only or
	 * set (insertionOrder false) knowledge, lists compare in order */
	const struct schema_type *schema;
	/* NULL: a recorded secret always differs from a desired value */
	plan_secret_match_fn secret_match;
	void *secret_ud;
};

/*
 * Appends to `out` the changes that turn `recorded` into `desired` (both
 * the Properties map of one resource; NULL = no properties). Rules:
 * maps by key, a null value is the same as an absent key; lists in order,
 * or as multisets where schema_unordered() says so (unmatched elements that
 * share a "Key", "Name" or "DeviceName" field are diffed field by field);
 * scalars compare as CloudFormation coerces them ("5" equals 5, "true"
 * equals true); a desired VALUE_UNKNOWN is a change ("known after apply") unless
 * the recorded side is unknown too; a recorded {"$secret": fp} compares
 * through opts->secret_match; read-only properties are ignored.
 * Returns the number of changes appended.
 */
size_t plan_diff_props(struct arena *a, const struct value *desired,
		       const struct value *recorded,
		       const struct plan_diff_opts *opts,
		       struct plan_changes *out);

/* The fingerprint of a recorded secret, else NULL: a {"$secret": "..."}
 * node, or a sensitive string "hmac-sha256:..." (as state reads it back). */
const char *plan_secret_fingerprint(const struct value *v);

/* --------------------------------------------------------------- model */

enum plan_action {
	PLAN_NOOP,
	PLAN_CREATE,
	PLAN_UPDATE,  /* in place */
	PLAN_REPLACE, /* a new resource, then (or after) the old one goes */
	PLAN_DELETE,
	PLAN_FORGET, /* DeletionPolicy Retain: dropped from state, left in AWS */
};

/* "no-op", "create", "update", "replace", "delete", "forget" */
const char *plan_action_name(enum plan_action a);

/* One resource of the template, as the template engine evaluated it. */
struct plan_desired {
	const char *logical_id;
	const char *type;
	const struct value *props; /* evaluated Properties; NULL = none */
	const char *const *depends_on; /* logical ids, all edges of the graph */
	size_t ndeps;
	const char *deletion_policy;       /* NULL = Delete */
	const char *update_replace_policy; /* NULL = Delete */
};

/* One resource as the state records it. */
struct plan_recorded {
	const char *logical_id;
	const char *type;
	const char *physical_id;   /* NULL when AWS never confirmed one */
	const struct value *props; /* Properties as applied */
	const char *const *depends_on;
	size_t ndeps;
	const char *status; /* "tainted", "failed", "deleting" force replacement */
	const char *deletion_policy; /* as recorded; NULL = Delete */
};

struct plan_resource {
	const char *logical_id;
	const char *type;     /* desired type; recorded type for delete/forget */
	const char *old_type; /* recorded type when it differs, else NULL */
	const char *physical_id; /* recorded; NULL for create */
	enum plan_action action;
	struct plan_changes changes; /* empty for delete, forget, no-op */
	/* replace: why (create-only entries, "Type", "tainted"), distinct */
	const char **reasons;
	size_t nreasons;
	bool create_before_delete; /* replace: the new one first (+/-) */
	/* replace: the name-like property that prevents create-before-delete */
	const char *conflict;
	bool retain_old; /* replace with UpdateReplacePolicy Retain */
	const char *why; /* delete/forget: "not in the template", ... */
	const char *const *depends_on;
	size_t ndeps;
	const struct value *desired;  /* borrowed; NULL for delete/forget */
	const struct value *recorded; /* borrowed; NULL for create */
};

struct plan_summary {
	size_t add, change, replace, destroy, forget, noop;
};

/* What a plan is bound to; plan_load() refuses a plan whose binding moved. */
struct plan_binding {
	const char *stack;
	const char *template_path;
	const char *template_digest; /* "sha256:<64 hex>" */
	/* map parameter name -> value as used (NoEcho ones carry the sensitive
	 * bit: only their fingerprint is ever written) */
	const struct value *params;
	long long state_serial; /* 0 when there is no state yet */
	const char *state_path;
	bool state_exists;
	bool refresh; /* the recorded resources were read live first */
};

struct plan {
	struct arena *arena;
	struct plan_resource *items; /* in execution order after plan_finish */
	size_t n, cap;
	/* binding (plan_bind or plan_load) */
	const char *stack, *template_path, *template_digest, *state_path;
	long long state_serial;
	bool state_exists, refresh;
	const char *param_salt; /* hex; keys the parameter fingerprints */
	/* map name -> {"fingerprint": "hmac-sha256:...", "value": v} (value
	 * only when not sensitive) */
	struct value *params;
	struct plan_index *index; /* private: logical id -> item */
};

struct plan *plan_new(struct arena *a);

/*
 * Adds a resource of the template; call in dependency order (dependencies
 * first), before plan_add_removed(). r NULL: not in state (create). Decides
 * the action from the property diff, the recorded status and the type.
 * The returned pointer stays valid until the next plan_add*.
 */
struct plan_resource *plan_add(struct plan *p, const struct plan_desired *d,
			       const struct plan_recorded *r,
			       const struct plan_diff_opts *opts);

/*
 * Adds a recorded resource the template no longer includes: why says so
 * ("not in the template", "condition \"IsProd\" is false"); deletion_policy
 * is the template's (when the Condition turned false) or the recorded one.
 * Retain / RetainExceptOnCreate make it a forget.
 */
struct plan_resource *plan_add_removed(struct plan *p,
				       const struct plan_recorded *r,
				       const char *deletion_policy,
				       const char *why);

/* The resource added under logical_id, or NULL. */
const struct plan_resource *plan_find(const struct plan *p,
				      const char *logical_id);

/*
 * Whether logical_id keeps its physical id and attributes through apply
 * (no-op or update): an evaluator may then resolve Ref/GetAtt of it from
 * state; otherwise (create, replace) they are known only after apply.
 */
bool plan_keeps_identity(const struct plan *p, const char *logical_id);

/*
 * Updates in place that interrupt the resource (CloudFormation's "Update
 * requires: Some interruptions"): an AWS::EC2::Instance whose InstanceType
 * or UserData changes is stopped, changed and started. NULL when the update
 * of it (PLAN_UPDATE) does not interrupt; else what happens ("the instance
 * is stopped and started", static storage), *prop the property that causes
 * it.
 */
const char *plan_interruption(const struct plan_resource *it,
			      const char **prop);
/* How one change of a resource updated in place happens, for the types
 * with interrupting properties (AWS::EC2::Instance): "some interruption"
 * or "no interruption"; NULL for other types and actions (a change that
 * forces replacement says so itself). Static storage. */
const char *plan_change_interruption(const struct plan_resource *it,
				     const struct plan_change *ch);
/* Whether attribute attr of a resource the plan updates in place may
 * change with that update (an interrupted instance's PublicIp and
 * PublicDnsName): then it is known only after apply. */
bool plan_attr_changes(const struct plan *p, const char *logical_id,
		       const char *attr);

/* Puts deletes and forgets after the rest, in reverse dependency order. */
void plan_finish(struct plan *p);

void plan_summarize(const struct plan *p, struct plan_summary *out);
/* True when apply would change anything (state included). */
bool plan_has_changes(const struct plan *p);

/* ------------------------------------------------------------ building */

/*
 * The whole plan of an evaluated stack against a state (NULL: no state
 * yet, everything is created). Walks g in dependency order; a resource
 * that refers to others is evaluated again (template_eval_resource) with a
 * resolver that answers Ref/GetAtt from the state for resources that keep
 * their identity (no-op, update) and leaves the rest unknown, so a
 * replacement ripples to what depends on it. Ref answers attributes["Ref"]
 * when the state recorded one, else the physical id; GetAtt answers
 * attributes[attr].
 *
 * A recorded resource the template no longer has is deleted, or forgotten
 * when its DeletionPolicy is Retain: the template's when its Condition is
 * false, else the one recorded by apply in attributes["cairn:DeletionPolicy"]
 * (the state has no column for it).
 *
 * Secrets compare through state_fingerprint(). Returns NULL with err set
 * when the state cannot be read or a resource cannot be evaluated. The
 * binding (plan_bind) is the caller's.
 */
struct plan *plan_build(struct arena *a, const struct tmpl_stack *st,
			const struct tmpl_ctx *ctx, const struct graph *g,
			struct state *state, struct err *err);

/* ----------------------------------------------------- binding, files */

/* "sha256:<hex>" of the file's bytes, in arena a. */
const char *plan_digest_file(struct arena *a, const char *path,
			     struct err *err);

/* Records the binding in p, fingerprinting the parameters under a fresh
 * random salt. */
void plan_bind(struct plan *p, const struct plan_binding *b);

/* JSON, format_version "1" (docs/plan-json.md); no secret plaintext. */
void plan_render_json(const struct plan *p, struct strbuf *out);

/*
 * Human form, terraform style: "+ create", "~ update in place",
 * "-/+" / "+/-" replace, "- destroy", per-property lines, and the summary
 * line "Plan: 3 to add, 1 to change, 1 to replace, 0 to destroy." (or
 * "No changes. ..."). ANSI colours when color is true.
 */
void plan_render_human(const struct plan *p, struct strbuf *out, bool color);
/* Only the summary line (with its newline). */
void plan_render_summary(const struct plan *p, struct strbuf *out);

/*
 * Markdown for pull-request comments, job summaries and issues (GitHub and
 * GitLab flavours): a heading, the summary line, a table of the resources
 * that change (action, logical id, type, physical id), a Mermaid flowchart
 * of those resources and what they depend on, coloured by action, and per
 * resource a collapsible <details> section with its property changes in a
 * diff block. Sensitive values are "(sensitive)"; backticks inside values
 * are escaped so a value cannot close a code block.
 */
void plan_render_markdown(const struct plan *p, struct strbuf *out);

/* One resource of a drift report, for plan_render_drift_markdown. */
struct plan_md_drift {
	const char *logical_id, *type, *physical_id;
	const char *status; /* "drifted", "gone", "failed", "skipped",
			       "unmanaged" */
	const struct plan_changes *changes; /* recorded (before) -> live
					       (after); NULL = none */
	const char *const *depends_on;
	size_t ndeps;
	const char *note; /* failed/skipped: why; or NULL */
};

/* The drift report in the same Markdown form (drifted resources in the
 * diagram, coloured by status). */
void plan_render_drift_markdown(const char *stack,
				const struct plan_md_drift *items, size_t n,
				size_t unchanged, struct strbuf *out);

/* Writes plan_render_json() to path (mode 0600, via a temporary file and
 * rename, so a reader never sees half a plan). */
int plan_save(const struct plan *p, const char *path, struct err *err);

/*
 * Reads a saved plan into a new plan in arena a, then checks it against
 * `current` (template digest, parameters fingerprinted under the saved
 * salt, state serial). A stale plan fails with ERR_CONFLICT and a message
 * naming everything that changed; a file that is not a cairn plan of a
 * known format_version fails with ERR_PARSE. current NULL: no check.
 */
struct plan *plan_load(struct arena *a, const char *path,
		       const struct plan_binding *current, struct err *err);

/*
 * Whether `now` (the plan made at apply time) does the same work as
 * `saved` (a plan_load()ed plan): the same resources with the same
 * actions, in the same order, each with the same type, replacement order
 * and property changes (path, kind, before and after values, the
 * create-only property that forces it). Sensitive values are compared only
 * as "(sensitive)": their parameters are checked by plan_load's
 * fingerprints. When they differ, returns false and appends to why what
 * differs ("\"Vpc\" planned update, now replace"; "\"Vpc\": the change
 * to CidrBlock differs"), never a value.
 */
bool plan_same_work(const struct plan *saved, const struct plan *now,
		    struct strbuf *why);

#endif
