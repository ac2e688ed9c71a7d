/*
 * The dependency graph: explicit edges from the evaluator's references,
 * implicit AWS ordering edges, cycle detection, topological order and
 * longest remaining path. Everything is iterative and linear in nodes plus
 * edges, so 5000-resource stacks stay cheap.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/graph.h"
#include "cairn/xalloc.h"

const char *graph_edge_kind_name(enum graph_edge_kind k)
{
	switch (k) {
	case GRAPH_EDGE_REF:
		return "ref";
	case GRAPH_EDGE_GETATT:
		return "getatt";
	case GRAPH_EDGE_SUB:
		return "sub";
	case GRAPH_EDGE_DEPENDSON:
		return "dependson";
	case GRAPH_EDGE_IMPLICIT:
		return "implicit";
	}
	return "?";
}

long graph_find(const struct graph *g, const char *logical_id)
{
	size_t i;

	if (!tmpl_index_get(&g->idx, logical_id, &i))
		return -1;
	return (long)i;
}

const struct graph_edge *graph_edge_between(const struct graph *g, size_t from,
					    size_t to)
{
	const struct graph_node *n = &g->nodes[from];
	size_t i;

	for (i = 0; i < n->ndeps; i++)
		if (g->edges[n->deps[i]].to == to)
			return &g->edges[n->deps[i]];
	return NULL;
}

static void push_idx(struct arena *a, size_t **items, size_t *n, size_t *cap,
		     size_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		*items = arena_realloc(a, *items, *cap * sizeof(**items),
				       c * sizeof(**items));
		*cap = c;
	}
	(*items)[(*n)++] = v;
}

static void add_edge(struct graph *g, size_t from, size_t to,
		     enum graph_edge_kind kind, const char *reason,
		     const struct mark *m)
{
	struct graph_edge *e = (struct graph_edge *)graph_edge_between(g, from, to);

	if (e) {
		if (reason && !e->reason)
			e->reason = reason;
		return;
	}
	if (g->nedges == g->edges_cap) {
		size_t c = g->edges_cap ? g->edges_cap * 2 : 16;
		g->edges = arena_realloc(g->a, g->edges,
					 g->edges_cap * sizeof(*g->edges),
					 c * sizeof(*g->edges));
		g->edges_cap = c;
	}
	e = &g->edges[g->nedges];
	e->from = from;
	e->to = to;
	e->kind = kind;
	e->implicit = kind == GRAPH_EDGE_IMPLICIT;
	e->reason = reason;
	if (m)
		e->mark = *m;
	push_idx(g->a, &g->nodes[from].deps, &g->nodes[from].ndeps,
		 &g->nodes[from].deps_cap, g->nedges);
	push_idx(g->a, &g->nodes[to].dependents, &g->nodes[to].ndependents,
		 &g->nodes[to].dependents_cap, g->nedges);
	g->nedges++;
}

/* ---- implicit edges ---- */

/* Whether `to` can reach `from` through dependencies: an implicit edge
 * from -> to would then close a cycle the user did not write, so it is
 * left out (the explicit order already decides). */
static bool reaches(struct graph *g, size_t start, size_t target)
{
	size_t *stack, n = 0, i;
	unsigned char *seen;
	bool found = false;

	if (start == target)
		return true;
	/* malloc'd: called once per implicit edge, the arena would pile up */
	stack = xmalloc((g->n + 1) * sizeof(*stack));
	seen = xcalloc(g->n + 1, 1);
	stack[n++] = start;
	seen[start] = 1;
	while (n && !found) {
		const struct graph_node *nd = &g->nodes[stack[--n]];
		for (i = 0; i < nd->ndeps; i++) {
			size_t d = g->edges[nd->deps[i]].to;
			if (d == target) {
				found = true;
				break;
			}
			if (!seen[d]) {
				seen[d] = 1;
				stack[n++] = d;
			}
		}
	}
	free(stack);
	free(seen);
	return found;
}

static void add_implicit(struct graph *g, size_t from, size_t to,
			 const char *reason, const struct mark *m)
{
	if (from == to || (!graph_edge_between(g, from, to) && reaches(g, to, from)))
		return;
	add_edge(g, from, to, GRAPH_EDGE_IMPLICIT, reason, m);
}

/* Whether node i refers to node j (any recorded reference). */
static bool refers_to(const struct graph *g, size_t i, size_t j)
{
	const struct tmpl_eval_resource *er = g->nodes[i].res;
	size_t k;

	for (k = 0; k < er->nrefs; k++)
		if (!strcmp(er->refs[k].target, g->nodes[j].logical_id))
			return true;
	return false;
}

/* The roles (node indexes) a policy resource attaches to: Roles: [Ref R]
 * (Policy, ManagedPolicy) or RoleName: Ref R (RolePolicy). */
static size_t policy_roles(const struct graph *g, size_t i, long *out,
			   size_t max)
{
	const struct value *raw = g->nodes[i].res->res->properties;
	const struct value *roles = value_map_get(raw, "Roles");
	size_t n = 0, k;

	if (roles && roles->kind == VALUE_LIST) {
		for (k = 0; k < roles->u.list.n && n < max; k++) {
			const char *name = value_str(value_map_get(
				roles->u.list.items[k], "Ref"));
			long r = name ? graph_find(g, name) : -1;
			if (r >= 0)
				out[n++] = r;
		}
	}
	{
		const char *name = value_str(value_map_get(
			value_map_get(raw, "RoleName"), "Ref"));
		long r = name ? graph_find(g, name) : -1;
		if (r >= 0 && n < max)
			out[n++] = r;
	}
	return n;
}

/* An ECS service starts tasks at once: the roles of its task definition
 * must already carry their policies (docs/aws-behaviour.md, "Ordering rules"). */
static void service_policy_edges(struct graph *g)
{
	size_t s, t, p, k;

	for (s = 0; s < g->n; s++) {
		const char *ty = g->nodes[s].res->res->type;
		if (!ty || strcmp(ty, "AWS::ECS::Service"))
			continue;
		for (t = 0; t < g->n; t++) {
			const char *tt = g->nodes[t].res->res->type;
			if (!tt || strcmp(tt, "AWS::ECS::TaskDefinition") ||
			    !refers_to(g, s, t))
				continue;
			for (p = 0; p < g->n; p++) {
				const char *pt = g->nodes[p].res->res->type;
				long roles[16];
				size_t nr;
				if (!pt || (strcmp(pt, "AWS::IAM::Policy") &&
					    strcmp(pt, "AWS::IAM::ManagedPolicy") &&
					    strcmp(pt, "AWS::IAM::RolePolicy")))
					continue;
				nr = policy_roles(g, p, roles, 16);
				for (k = 0; k < nr; k++)
					if (refers_to(g, t, (size_t)roles[k]))
						add_implicit(g, s, p,
							     "the service's tasks need "
							     "their roles' policies",
							     &g->nodes[s].res->res->mark);
			}
		}
	}
}

static const char *type_of(const struct graph *g, size_t i)
{
	const char *t = g->nodes[i].res->res->type;
	return t ? t : "";
}

/* The node a raw property refers to with Ref (or whose id an unknown
 * evaluated value names), or -1. */
static long ref_node(const struct graph *g, size_t i, const char *prop)
{
	const struct tmpl_eval_resource *er = g->nodes[i].res;
	const struct value *raw = value_map_get(er->res->properties, prop);
	const struct value *ev = value_map_get(er->properties, prop);
	const char *name = value_str(value_map_get(raw, "Ref"));

	if (name)
		return graph_find(g, name);
	if (ev && ev->kind == VALUE_UNKNOWN)
		return graph_find(g, ev->u.unknown.what);
	return -1;
}

static bool prop_is(const struct graph *g, size_t i, const char *prop,
		    const char *want)
{
	const struct value *v = value_map_get(g->nodes[i].res->properties, prop);

	if (!v)
		return false;
	if (v->kind == VALUE_BOOL)
		return !strcmp(want, v->u.b ? "true" : "false");
	if (v->kind == VALUE_STRING)
		return !strcasecmp(v->u.str.s, want);
	return false;
}

static void implicit_edges(struct graph *g)
{
	size_t i, j, natt = 0;
	size_t *att = arena_alloc(g->a, (g->n + 1) * sizeof(*att));
	long *att_vpc = arena_alloc(g->a, (g->n + 1) * sizeof(*att_vpc));
	long *att_igw = arena_alloc(g->a, (g->n + 1) * sizeof(*att_igw));
	size_t nlog = 0;
	size_t *logs = arena_alloc(g->a, (g->n + 1) * sizeof(*logs));

	for (i = 0; i < g->n; i++) {
		if (!strcmp(type_of(g, i), "AWS::EC2::VPCGatewayAttachment")) {
			att[natt] = i;
			att_vpc[natt] = ref_node(g, i, "VpcId");
			att_igw[natt] = ref_node(g, i, "InternetGatewayId");
			natt++;
		} else if (!strcmp(type_of(g, i), "AWS::Logs::LogGroup")) {
			logs[nlog++] = i;
		}
	}
	for (i = 0; i < g->n; i++) {
		const char *t = type_of(g, i);
		struct mark m = g->nodes[i].res->res->mark;

		if (!strcmp(t, "AWS::EC2::NatGateway") && natt &&
		    !prop_is(g, i, "ConnectivityType", "private")) {
			long sub = ref_node(g, i, "SubnetId");
			long vpc = sub >= 0 ? ref_node(g, (size_t)sub, "VpcId") : -1;
			bool any = false;
			for (j = 0; j < natt; j++)
				if (vpc >= 0 && att_vpc[j] == vpc) {
					add_implicit(g, i, att[j],
						     "a NAT gateway needs the VPC's "
						     "internet gateway attached", &m);
					any = true;
				}
			/* the VPC could not be traced: wait for all of them */
			for (j = 0; !any && vpc < 0 && j < natt; j++)
				add_implicit(g, i, att[j],
					     "a NAT gateway needs the VPC's "
					     "internet gateway attached", &m);
		} else if (!strcmp(t, "AWS::EC2::Route")) {
			long gw = ref_node(g, i, "GatewayId");
			if (gw < 0 || strcmp(type_of(g, (size_t)gw),
					     "AWS::EC2::InternetGateway"))
				continue;
			for (j = 0; j < natt; j++)
				if (att_igw[j] == gw)
					add_implicit(g, i, att[j],
						     "a route to an internet gateway "
						     "needs the gateway attached", &m);
		} else if (!strcmp(t, "AWS::EC2::EIP") &&
			   prop_is(g, i, "Domain", "vpc")) {
			for (j = 0; j < natt; j++)
				add_implicit(g, i, att[j],
					     "an EIP in a VPC needs an internet "
					     "gateway attached", &m);
		} else if (!strcmp(t, "AWS::EC2::VPCEndpoint") &&
			   prop_is(g, i, "VpcEndpointType", "Interface") &&
			   prop_is(g, i, "PrivateDnsEnabled", "true")) {
			long vpc = ref_node(g, i, "VpcId");
			if (vpc >= 0)
				add_implicit(g, i, (size_t)vpc,
					     "private DNS needs the VPC's DNS "
					     "attributes set", &m);
		} else if (!strcmp(t, "AWS::ECS::TaskDefinition") && nlog) {
			const struct value *cds = value_map_get(
				g->nodes[i].res->properties, "ContainerDefinitions");
			size_t k;
			if (!cds || cds->kind != VALUE_LIST)
				continue;
			for (k = 0; k < cds->u.list.n; k++) {
				const struct value *lc = value_map_get(
					cds->u.list.items[k], "LogConfiguration");
				const struct value *drv = value_map_get(lc, "LogDriver");
				const struct value *grp = value_get_path(
					lc, "Options.awslogs-group");
				if (!value_str(drv) || strcmp(value_str(drv), "awslogs") ||
				    !grp)
					continue;
				for (j = 0; j < nlog; j++) {
					const struct value *name = value_map_get(
						g->nodes[logs[j]].res->properties,
						"LogGroupName");
					bool match;
					if (grp->kind == VALUE_UNKNOWN)
						match = !strcmp(grp->u.unknown.what,
								g->nodes[logs[j]].logical_id);
					else
						match = value_str(grp) && value_str(name) &&
							!strcmp(value_str(grp),
								value_str(name));
					if (match)
						add_implicit(g, i, logs[j],
							     "the awslogs driver needs "
							     "its log group", &m);
				}
			}
		}
	}
	service_policy_edges(g);
}

/* ---- order, cycles, longest path ---- */

static void find_cycle(struct graph *g, const size_t *pending,
		       struct diag_list *diags)
{
	/* Every node left by Kahn's algorithm has a dependency that is also
	 * left, so walking such dependencies must come back to a node. */
	long *pos = arena_alloc(g->a, g->n * sizeof(*pos));
	size_t *path = arena_alloc(g->a, (g->n + 1) * sizeof(*path));
	size_t *via = arena_alloc(g->a, (g->n + 1) * sizeof(*via));
	size_t np = 0, cur = 0, i;
	struct strbuf sb = STRBUF_INIT;
	struct mark m;

	for (i = 0; i < g->n; i++)
		pos[i] = -1;
	for (i = 0; i < g->n; i++)
		if (pending[i]) {
			cur = i;
			break;
		}
	while (pos[cur] < 0) {
		const struct graph_node *n = &g->nodes[cur];
		pos[cur] = (long)np;
		path[np] = cur;
		for (i = 0; i < n->ndeps; i++)
			if (pending[g->edges[n->deps[i]].to])
				break;
		via[np++] = n->deps[i];
		cur = g->edges[n->deps[i]].to;
	}
	for (i = (size_t)pos[cur]; i < np; i++)
		strbuf_addf(&sb, "%s -> ", g->nodes[path[i]].logical_id);
	strbuf_addstr(&sb, g->nodes[cur].logical_id);
	m = g->edges[via[pos[cur]]].mark;
	diag_add(diags, DIAG_ERROR, &m, g->nodes[cur].logical_id, NULL,
		 "dependency cycle: %s", sb.buf);
	strbuf_release(&sb);
}

static void order(struct graph *g, struct diag_list *diags)
{
	size_t *left = arena_alloc(g->a, (g->n + 1) * sizeof(*left));
	size_t head = 0, i, j;

	g->order = arena_alloc(g->a, (g->n + 1) * sizeof(*g->order));
	for (i = 0; i < g->n; i++) {
		left[i] = g->nodes[i].ndeps;
		if (!left[i])
			g->order[g->norder++] = i;
	}
	while (head < g->norder) {
		const struct graph_node *n = &g->nodes[g->order[head++]];
		for (j = 0; j < n->ndependents; j++) {
			size_t d = g->edges[n->dependents[j]].from;
			if (--left[d] == 0)
				g->order[g->norder++] = d;
		}
	}
	if (g->norder < g->n) {
		g->has_cycle = true;
		find_cycle(g, left, diags);
	}
	/* longest chain of dependents, computed dependents first */
	for (i = g->norder; i-- > 0;) {
		struct graph_node *n = &g->nodes[g->order[i]];
		for (j = 0; j < n->ndependents; j++) {
			const struct graph_node *d =
				&g->nodes[g->edges[n->dependents[j]].from];
			if (d->longest + 1 > n->longest)
				n->longest = d->longest + 1;
		}
	}
}

struct graph *graph_build(struct arena *a, const struct tmpl_stack *st,
			  struct diag_list *diags)
{
	struct graph *g = arena_alloc(a, sizeof(*g));
	size_t i, k;

	g->a = a;
	g->nodes = arena_alloc(a, (st->nincluded + 1) * sizeof(*g->nodes));
	for (i = 0; i < st->nresources; i++) {
		if (!st->resources[i].included)
			continue;
		g->nodes[g->n].logical_id = st->resources[i].res->logical_id;
		g->nodes[g->n].res = &st->resources[i];
		tmpl_index_put(a, &g->idx, g->nodes[g->n].logical_id, g->n);
		g->n++;
	}
	for (i = 0; i < g->n; i++) {
		const struct tmpl_eval_resource *er = g->nodes[i].res;
		for (k = 0; k < er->nrefs; k++) {
			long to = graph_find(g, er->refs[k].target);
			static const enum graph_edge_kind kinds[] = {
				[TMPL_REF_REF] = GRAPH_EDGE_REF,
				[TMPL_REF_GETATT] = GRAPH_EDGE_GETATT,
				[TMPL_REF_SUB] = GRAPH_EDGE_SUB,
				[TMPL_REF_DEPENDSON] = GRAPH_EDGE_DEPENDSON,
			};
			if (to < 0)
				continue;
			add_edge(g, i, (size_t)to, kinds[er->refs[k].kind], NULL,
				 &er->refs[k].mark);
		}
	}
	implicit_edges(g);
	order(g, diags);
	return g;
}

/* ---- output ---- */

static void dot_id(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *s);
	}
	strbuf_addch(out, '"');
}

void graph_to_dot(const struct graph *g, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "digraph cairn {\n"
			   "  rankdir=RL;\n"
			   "  node [shape=box, fontname=\"Helvetica\"];\n");
	for (i = 0; i < g->n; i++) {
		const char *t = g->nodes[i].res->res->type;
		strbuf_addstr(out, "  ");
		dot_id(out, g->nodes[i].logical_id);
		strbuf_addstr(out, " [label=");
		{
			/* "\n" is DOT's line break inside a label */
			struct strbuf lb = STRBUF_INIT;
			dot_id(&lb, g->nodes[i].logical_id);
			strbuf_setlen(&lb, lb.len - 1);
			strbuf_addstr(&lb, "\\n");
			strbuf_addstr(out, lb.buf);
			strbuf_reset(&lb);
			dot_id(&lb, t ? t : "?");
			strbuf_addstr(out, lb.buf + 1);
			strbuf_release(&lb);
		}
		strbuf_addstr(out, "];\n");
	}
	for (i = 0; i < g->nedges; i++) {
		const struct graph_edge *e = &g->edges[i];
		strbuf_addstr(out, "  ");
		dot_id(out, g->nodes[e->from].logical_id);
		strbuf_addstr(out, " -> ");
		dot_id(out, g->nodes[e->to].logical_id);
		if (e->implicit) {
			strbuf_addstr(out, " [style=dashed, label=");
			dot_id(out, e->reason ? e->reason : "implicit");
			strbuf_addch(out, ']');
		} else if (e->kind == GRAPH_EDGE_DEPENDSON) {
			strbuf_addstr(out, " [color=gray40]");
		}
		strbuf_addstr(out, ";\n");
	}
	strbuf_addstr(out, "}\n");
}

static void json_s(struct strbuf *out, const char *s)
{
	strbuf_add_json_str(out, s, strlen(s));
}

void graph_to_json(const struct graph *g, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "{\n  \"nodes\": [");
	for (i = 0; i < g->n; i++) {
		const char *t = g->nodes[i].res->res->type;
		strbuf_addstr(out, i ? ",\n    {\"id\": " : "\n    {\"id\": ");
		json_s(out, g->nodes[i].logical_id);
		strbuf_addstr(out, ", \"type\": ");
		json_s(out, t ? t : "");
		strbuf_addf(out, ", \"longest_path\": %u}", g->nodes[i].longest);
	}
	strbuf_addstr(out, g->n ? "\n  ],\n  \"edges\": [" : "],\n  \"edges\": [");
	for (i = 0; i < g->nedges; i++) {
		const struct graph_edge *e = &g->edges[i];
		strbuf_addstr(out, i ? ",\n    {\"from\": " : "\n    {\"from\": ");
		json_s(out, g->nodes[e->from].logical_id);
		strbuf_addstr(out, ", \"to\": ");
		json_s(out, g->nodes[e->to].logical_id);
		strbuf_addstr(out, ", \"kind\": ");
		json_s(out, graph_edge_kind_name(e->kind));
		strbuf_addf(out, ", \"implicit\": %s",
			    e->implicit ? "true" : "false");
		if (e->reason) {
			strbuf_addstr(out, ", \"reason\": ");
			json_s(out, e->reason);
		}
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, g->nedges ? "\n  ],\n  \"order\": [" : "],\n  \"order\": [");
	for (i = 0; i < g->norder; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		json_s(out, g->nodes[g->order[i]].logical_id);
	}
	strbuf_addstr(out, "]\n}\n");
}
