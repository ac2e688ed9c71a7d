/*
 * exec: runs a plan against AWS.
 *
 * The plan becomes a DAG of operations: "apply" nodes (create, update, the
 * create half of a replacement) in dependency order and "delete" nodes (a
 * delete, the delete half of a replacement) in reverse dependency order,
 * with the edges a replacement needs (create-before-delete: the old one goes
 * after the new one and after every resource that referred to it has moved
 * on; delete-before-create: the other way round, and the dependents that
 * are replaced too go first). Ready nodes run on up to `parallelism` worker
 * threads as plain blocking provider calls; the next one to start is the one
 * with the longest chain of work after it, so the slowest chain (EIP -> NAT
 * gateway -> route -> service) starts first.
 *
 * The calling (main) thread schedules, re-evaluates each resource's
 * properties once its dependencies exist (template_eval_resource with a
 * resolver answering from this run's results and the state), and is the
 * only one that writes the state: a journal intent before each operation
 * (with the idempotency token the provider sends), the resource record and
 * the journal outcome the moment the provider returns. A crash at any
 * instant leaves open intents whose tokens the next run reuses (and whose
 * resources provider find() adopts) instead of creating duplicates.
 *
 * A failed node stops only what depends on it; independent branches finish.
 * *stop set (first Ctrl-C): no new node starts, in-flight ones finish and
 * are recorded. *cancel set (second Ctrl-C): providers abandon their waits.
 *
 * Nothing here prints: progress goes to the event callback, on the calling
 * thread.
 */
#ifndef CAIRN_EXEC_H
#define CAIRN_EXEC_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "aws.h"
#include "err.h"
#include "plan.h"
#include "state.h"
#include "template.h"

enum exec_event_kind {
	EXEC_EV_START,  /* a node started */
	EXEC_EV_DONE,   /* a node finished well */
	EXEC_EV_FAIL,   /* a node failed (err set) */
	EXEC_EV_SKIP,   /* a node will not run: a dependency failed or stop */
	EXEC_EV_TICK,   /* periodic (every ~250 ms) while nodes are in flight */
};

struct exec_event {
	enum exec_event_kind kind;
	const char *logical_id;
	const char *type;
	const char *action;      /* "create", "update", "delete", "replace" */
	const char *physical_id; /* DONE: the resulting id, if any */
	const char *status;      /* START/TICK: provider's last status or NULL */
	double elapsed;          /* seconds since the node started */
	const struct err *err;   /* FAIL only */
	const char *skip_reason; /* SKIP only */
	/* TICK: the nodes in flight */
	size_t ninflight;
	const struct exec_event *inflight;
};

typedef void (*exec_event_fn)(void *ud, const struct exec_event *ev);

/*
 * Reads the value of one dynamic reference at apply (ref: the text between
 * "{{resolve:" and "}}", e.g. "secretsmanager:prod/db:SecretString:pw").
 * Called from worker threads just before the create or update call whose
 * properties hold it. 0 with *out (plaintext, allocated in a, which the
 * executor wipes after the call), -1 with err (the AWS error code and
 * request id; never the value).
 */
typedef int (*exec_dynref_fn)(void *ud, struct arena *a, const char *ref,
			      const char **out, struct err *err);

struct exec_opts {
	int parallelism;            /* 0: 10 */
	const char *stack;
	const char *region;
	const char *account;
	const char *partition;      /* NULL: "aws" */
	long poll_min_ms, poll_max_ms; /* 0: provider defaults */
	exec_event_fn event;        /* may be NULL */
	void *event_ud;
	volatile sig_atomic_t *stop;   /* may be NULL */
	_Atomic int *cancel;           /* may be NULL; read by workers */
	/* the template's path, for the `cairn import` hint of a resource
	 * that exists but is not this stack's; may be NULL */
	const char *template_path;
	/* the options that select this stack's state ("--stack S --state P"),
	 * appended to that hint so it can be run as printed; may be NULL */
	const char *hint_opts;
	/* reads dynamic references; NULL: a resource whose properties hold
	 * one fails */
	exec_dynref_fn dynref;
	void *dynref_ud;
};

struct exec_failure {
	const char *logical_id;
	const char *type;
	const char *action;
	struct err err;
};

struct exec_result {
	size_t created, updated, replaced, deleted, forgotten;
	size_t failed, skipped;
	struct exec_failure *failures; /* in the arena given to exec_run */
	size_t nfailures;
	bool stopped; /* *stop was set before everything ran */
	double seconds;
};

/*
 * Runs plan p. st/ctx are the evaluated template the plan came from (NULL
 * for a destroy plan, which creates nothing). The state must be open and
 * locked by the caller. Returns 0 when every node succeeded, -1 when some
 * failed or were skipped (res lists them; err summarises) or when the plan
 * cannot be run at all (a cycle between replacements, a type without a
 * provider: err says which, res is empty).
 */
int exec_run(struct arena *a, struct plan *p, const struct tmpl_stack *st,
	     const struct tmpl_ctx *ctx, struct state *state,
	     struct aws_client *aws, const struct exec_opts *o,
	     struct exec_result *res, struct err *err);

/*
 * Before a destroy: records the resources that a run which stopped between
 * AWS's answer and the state write created (its open create intents), found
 * with the provider's find() and the intent's token, so that the destroy
 * deletes them too. *adopted counts them. -1 only when the state cannot be
 * read or written.
 */
int exec_adopt_open_creates(struct arena *a, const struct tmpl_stack *st,
			    const struct tmpl_ctx *ctx, struct state *state,
			    struct aws_client *aws, const struct exec_opts *o,
			    size_t *adopted, struct err *err);

/*
 * Evaluates the template's outputs with the resources as the state now
 * records them and stores them (state_outputs_put). Outputs whose value is
 * still unknown (a resource failed) are stored as null.
 */
int exec_store_outputs(struct arena *a, const struct tmpl_stack *st,
		       const struct tmpl_ctx *ctx, struct state *state,
		       struct err *err);

#endif
