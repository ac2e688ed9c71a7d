/*
 * graph: the dependency graph of an evaluated stack.
 *
 * Nodes are the included resources. An edge A -> B means A depends on B
 * (B is created first, deleted last). Edges come from Ref, Fn::GetAtt,
 * Fn::Sub and DependsOn as the evaluator recorded them (only taken Fn::If
 * branches count), plus implicit edges AWS needs that templates often
 * forget (docs/aws-behaviour.md, "Ordering rules"): NAT gateways, routes to an internet
 * gateway and VPC EIPs after the VPC's gateway attachment; interface
 * endpoints with private DNS after the VPC; task definitions using awslogs
 * after the log group they name; ECS services after the IAM policies
 * attached to their task definition's roles. An implicit edge that would
 * close a cycle is left out (the template's explicit order wins). There is
 * at most one edge per (A, B); an implicit reason on an explicit edge is
 * kept in `reason`.
 *
 * graph_build() also finds cycles (one diag per cycle found, printing
 * "A -> B -> C -> A"), a topological order (dependencies first) and, per
 * node, the longest chain of nodes that wait on it, which the executor uses
 * as its priority.
 *
 * Ownership: everything lives in the arena given to graph_build(); the
 * graph borrows the tmpl_stack (which must outlive it).
 */
#ifndef CAIRN_GRAPH_H
#define CAIRN_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "strbuf.h"
#include "template.h"

enum graph_edge_kind {
	GRAPH_EDGE_REF,
	GRAPH_EDGE_GETATT,
	GRAPH_EDGE_SUB,
	GRAPH_EDGE_DEPENDSON,
	GRAPH_EDGE_IMPLICIT,
};

struct graph_edge {
	size_t from; /* the dependent node */
	size_t to;   /* the node it depends on */
	enum graph_edge_kind kind;
	bool implicit;      /* true only when no reference gave this edge */
	const char *reason; /* why AWS needs the order; NULL for plain refs */
	struct mark mark;   /* the reference, or the dependent's id */
};

struct graph_node {
	const char *logical_id;
	const struct tmpl_eval_resource *res;
	size_t *deps; /* edge indexes with from == this node */
	size_t ndeps, deps_cap;
	size_t *dependents; /* edge indexes with to == this node */
	size_t ndependents, dependents_cap;
	/* nodes on the longest chain of dependents after this one
	 * (0: nothing waits on it) */
	unsigned longest;
};

struct graph {
	struct graph_node *nodes;
	size_t n;
	struct graph_edge *edges;
	size_t nedges, edges_cap;
	size_t *order; /* node indexes, dependencies first; all n of them
			* only when !has_cycle */
	size_t norder;
	bool has_cycle;
	struct tmpl_index idx;
	struct arena *a;
};

/*
 * Builds the graph of st's included resources. Problems (cycles) go to
 * diags; the graph is returned even then (has_cycle set).
 */
struct graph *graph_build(struct arena *a, const struct tmpl_stack *st,
			  struct diag_list *diags);

/* The node index of logical_id, or -1. */
long graph_find(const struct graph *g, const char *logical_id);
/* The edge from -> to, or NULL. */
const struct graph_edge *graph_edge_between(const struct graph *g, size_t from,
					    size_t to);
const char *graph_edge_kind_name(enum graph_edge_kind k);

/* DOT (implicit edges dashed and labelled with their reason). */
void graph_to_dot(const struct graph *g, struct strbuf *out);
/* {"nodes": [...], "edges": [...], "order": [...]} */
void graph_to_json(const struct graph *g, struct strbuf *out);

#endif
