/*
 * plan_build: the template engine's evaluated stack and graph, and the
 * state, into a plan. This is the adapter between those modules' types and
 * the plan model's own (struct plan_desired / plan_recorded), which keeps
 * the model testable without a template or a database.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/plan.h"

struct builder {
	struct arena *a;
	struct plan *p;
	struct state *state;
	struct state_resource *recs;
	size_t nrecs;
	struct tmpl_index rec_idx; /* logical id -> index in recs */
};

static const struct state_resource *recorded(const struct builder *b,
					     const char *logical_id)
{
	size_t i;

	if (!b->nrecs || !tmpl_index_get(&b->rec_idx, logical_id, &i))
		return NULL;
	return &b->recs[i];
}

/* Ref / GetAtt of a resource whose identity survives the apply. */
static const struct value *resolve(void *ud, const char *logical_id,
				   const char *attr)
{
	struct builder *b = ud;
	const struct state_resource *r;
	const struct value *v;

	if (!plan_keeps_identity(b->p, logical_id))
		return NULL;
	r = recorded(b, logical_id);
	if (!r)
		return NULL;
	if (!attr) {
		v = value_map_get(r->attributes, "Ref");
		if (v)
			return v;
		return r->physical_id ? value_new_string(b->a, r->physical_id)
				      : NULL;
	}
	/* an attribute the update itself changes (an interrupted instance's
	 * public address): known after apply */
	if (plan_attr_changes(b->p, logical_id, attr))
		return NULL;
	/* An attribute that mirrors a property of the same name (an SSM
	 * parameter's Value and Type): an update in place changes it, so the
	 * desired value, not the recorded one, is what dependents will see. */
	{
		const struct plan_resource *it = plan_find(b->p, logical_id);
		if (it && it->action == PLAN_UPDATE && it->desired &&
		    value_map_get(r->properties, attr) &&
		    (v = value_map_get(it->desired, attr)) != NULL &&
		    value_map_get(r->attributes, attr))
			return v;
	}
	v = value_map_get(r->attributes, attr);
	if (!v && strchr(attr, '.'))
		v = value_get_path(r->attributes, attr);
	return v;
}

static bool secret_match(void *ud, const struct value *desired,
			 const char *fingerprint)
{
	struct builder *b = ud;
	char *fp;
	bool same;

	if (!b->state)
		return false;
	fp = state_fingerprint(b->state, desired);
	same = fp && !strcmp(fp, fingerprint);
	free(fp);
	return same;
}

static void to_recorded(const struct state_resource *r,
			struct plan_recorded *out)
{
	const struct value *pol;

	memset(out, 0, sizeof(*out));
	out->logical_id = r->logical_id;
	out->type = r->type;
	out->physical_id = r->physical_id;
	out->props = r->properties;
	out->depends_on = r->dependencies;
	out->ndeps = r->n_dependencies;
	out->status = state_status_name(r->status);
	/* state schema 2 has a column; older records kept it in attributes */
	pol = value_map_get(r->attributes, "cairn:DeletionPolicy");
	out->deletion_policy = r->deletion_policy ? r->deletion_policy :
						    value_str(pol);
}

static const char *const *node_deps(struct arena *a, const struct graph *g,
				    size_t n, size_t *ndeps)
{
	const struct graph_node *node = &g->nodes[n];
	const char **deps;
	size_t i;

	*ndeps = node->ndeps;
	if (!node->ndeps)
		return NULL;
	deps = arena_alloc(a, node->ndeps * sizeof(*deps));
	for (i = 0; i < node->ndeps; i++)
		deps[i] = g->nodes[g->edges[node->deps[i]].to].logical_id;
	return deps;
}

static bool refers_to_kept(const struct plan *p,
			   const struct tmpl_eval_resource *er)
{
	size_t i;

	for (i = 0; i < er->nrefs; i++)
		if (er->refs[i].kind != TMPL_REF_DEPENDSON &&
		    plan_keeps_identity(p, er->refs[i].target))
			return true;
	return false;
}

struct plan *plan_build(struct arena *a, const struct tmpl_stack *st,
			const struct tmpl_ctx *ctx, const struct graph *g,
			struct state *state, struct err *err)
{
	struct builder b;
	struct tmpl_ctx ectx = *ctx;
	size_t i, k;

	memset(&b, 0, sizeof(b));
	b.a = a;
	b.state = state;
	b.p = plan_new(a);
	if (state && state_resource_list(state, a, &b.recs, &b.nrecs, err) < 0)
		return NULL;
	for (i = 0; i < b.nrecs; i++)
		tmpl_index_put(a, &b.rec_idx, b.recs[i].logical_id, i);
	ectx.resolve = resolve;
	ectx.resolve_ud = &b;

	if (g->has_cycle || g->norder != g->n) {
		err_set(err, ERR_VALIDATION,
			"the dependency graph has a cycle: no order to plan in");
		return NULL;
	}
	for (k = 0; k < g->norder; k++) {
		size_t n = g->order[k];
		const struct tmpl_eval_resource *er = g->nodes[n].res;
		const struct state_resource *sr =
			recorded(&b, er->res->logical_id);
		struct plan_desired d;
		struct plan_recorded r;
		struct plan_diff_opts o;

		memset(&d, 0, sizeof(d));
		d.logical_id = er->res->logical_id;
		d.type = er->res->type;
		d.props = er->properties;
		d.deletion_policy = er->res->deletion_policy;
		d.update_replace_policy = er->res->update_replace_policy;
		d.depends_on = node_deps(a, g, n, &d.ndeps);
		/* Evaluate again only when the state can answer some of its
		 * references: otherwise every reference stays unknown,
		 * exactly as the first evaluation left it. */
		if (b.nrecs && refers_to_kept(b.p, er)) {
			struct value *props = template_eval_resource(
				a, st, &ectx, d.logical_id, NULL, err);
			if (!props) {
				err_prefix(err, "resource \"%s\": ",
					   d.logical_id);
				return NULL;
			}
			d.props = props;
		}
		memset(&o, 0, sizeof(o));
		o.schema = er->res->schema;
		o.secret_match = secret_match;
		o.secret_ud = &b;
		if (sr)
			to_recorded(sr, &r);
		plan_add(b.p, &d, sr ? &r : NULL, &o);
	}

	for (i = 0; i < b.nrecs; i++) {
		const struct state_resource *sr = &b.recs[i];
		const struct tmpl_resource *tr;
		struct plan_recorded r;
		const char *why = NULL, *policy;

		if (plan_find(b.p, sr->logical_id))
			continue;
		to_recorded(sr, &r);
		policy = r.deletion_policy;
		tr = template_find_resource(st->tmpl, sr->logical_id);
		if (tr && tr->condition) {
			why = arena_sprintf(a, "condition \"%s\" is false",
					    tr->condition);
			policy = tr->deletion_policy;
		} else if (tr) {
			/* in the template but not in the graph: only a
			 * condition can do that; say so plainly */
			why = "not included by the template";
			policy = tr->deletion_policy;
		}
		plan_add_removed(b.p, &r, policy, why);
	}
	plan_finish(b.p);
	log_debug("plan: %zu resources, %zu recorded", b.p->n, b.nrecs);
	return b.p;
}
