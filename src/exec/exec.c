/*
 * The executor: a DAG of provider operations run by a pool of worker
 * threads, scheduled and recorded by the calling thread. See exec.h.
 *
 * State keys: the old half of a create-before-delete replacement of X is
 * recorded as "X~old" (or "X~old2"... when an earlier run's "X~old" is
 * still there) from the moment the new X is recorded until it is deleted;
 * a run stopped in between leaves it, and the next plan deletes it as a
 * resource no longer in the template.
 *
 * Tokens: a create reuses the token of an open create intent (a crash, or
 * a wait abandoned by a second Ctrl-C) or of a create whose wait timed out
 * (uncertain_token), and tries the provider's find() first; anything else
 * gets a fresh token.
 *
 * Threads: workers only read what start_node() set before queueing the job
 * and write only their job (results in the job's own arena) and the node's
 * status buffer under the pool mutex; SIGINT/SIGTERM are blocked in them,
 * so the CLI's handler always runs on this thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>

#include "cairn/clock.h"
#include "cairn/exec.h"
#include "cairn/log.h"
#include "cairn/provider.h"
#include "cairn/xalloc.h"
#include "dynref.h"
#include "settle.h"


enum node_kind { NODE_APPLY, NODE_DELETE };
enum node_state { NS_WAITING, NS_READY, NS_RUNNING, NS_DONE, NS_FAILED,
		  NS_SKIPPED };

struct node {
	enum node_kind kind;
	enum node_state st;
	struct plan_resource *pr;
	const struct provider *prov;
	const char *logical_id; /* the state key this node works on */
	const char *type;
	const char *physical_id; /* delete: what goes; apply/update: recorded */
	const struct value *old_props;
	const struct value *old_attrs;
	const char *action; /* for events and the journal */
	/* edges */
	size_t *deps; /* nodes that must finish first */
	size_t ndeps, deps_cap;
	size_t *rdeps; /* nodes waiting on this one */
	size_t nrdeps, rdeps_cap;
	size_t pending; /* unfinished deps */
	unsigned prio;  /* longest chain of nodes after this one */
	bool prio_done, on_stack;
	/* run */
	double started;
	char status[128]; /* provider status; guarded by the pool mutex */
	int64_t intent_id;
	bool adopt_first; /* a crashed run's token: try find() first */
	bool adopt_settle; /* its intent is recent: a NotFound may be lag */
	const char *intent_at; /* the stopped run's intent it resumes, or NULL */
	const char *token;
	_Atomic int parked; /* its worker waits: 0, AWS_WAIT_TOKEN, AWS_WAIT_POLL */
	/* results, copied into the run arena by the main thread */
	const char *new_physical_id;
	struct value *new_attrs;
	struct value *new_props; /* evaluated desired properties */
	struct err err;
};

struct job {
	struct exec *x;
	struct node *n;
	size_t idx;
	struct arena *arena; /* worker's, freed by the main thread */
	struct provider_result res;
	const struct value *props;
	int rc;
	bool wipe; /* its arena held dynamic references' values */
	struct err err;
	struct job *next;
};

struct exec {
	struct arena *a;
	struct plan *plan;
	const struct tmpl_stack *st;
	struct tmpl_ctx ctx;
	struct state *state;
	struct aws_client *aws;
	const struct exec_opts *o;
	struct node *nodes;
	size_t n, cap;
	/* state records by logical id, loaded once */
	struct state_resource *recs;
	size_t nrecs;
	struct tmpl_index rec_idx;
	/* open create intents from a crashed run: logical id -> token */
	struct tmpl_index open_idx;
	const char **open_tokens;
	int64_t *open_ids;
	const char **open_at; /* when each intent was written */
	/* pool */
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	struct job *queue, *queue_tail;
	struct job *done;
	bool shutdown;
	pthread_t *threads;
	int nthreads;
	size_t running;
	/* pacing: workers waiting (for an AWS rate token, a retry backoff, a
	 * poll) do not count against the parallelism, so the calls of other
	 * APIs go on meanwhile (see park_hook) */
	_Atomic size_t nparked;
	int parallel;
};

/*
 * Rate-limit pacing. A worker that waits (for its AWS request bucket, a
 * retry backoff, or between polls of an asynchronous change) is parked: the
 * scheduler starts other ready nodes in its place, so one API's empty bucket
 * or a slow deletion never holds back the calls of the others; the
 * parallelism bounds the workers that are not waiting. At most
 * PARK_PER_TYPE workers wait for tokens per resource type (a type's calls go
 * to the same few buckets: more waiters would only hold threads) and at
 * most TYPE_BUSY_MAX are not polling, so no type fills the pool; polls are
 * not limited, since AWS works on all of them at once. The pool has
 * POOL_MAX threads at most.
 */
#define PARK_PER_TYPE 12
#define EXEC_SLICE 8
#define TYPE_BUSY_MAX 24
#define POOL_MAX 512

static const char *new_token(struct arena *a)
{
	unsigned char b[16];
	char hex[33];
	int i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* never expected; fall back to something unique enough */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof(b) < sizeof(ts) ? sizeof(b) : sizeof(ts));
	}
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	return arena_strdup(a, hex);
}

/* ------------------------------------------------------------ graph */

static size_t add_node(struct exec *x, enum node_kind kind,
		       struct plan_resource *pr, const char *logical_id)
{
	struct node *n;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		x->nodes = arena_realloc(x->a, x->nodes, x->cap * sizeof(*n),
					 cap * sizeof(*n));
		x->cap = cap;
	}
	n = &x->nodes[x->n];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->pr = pr;
	n->logical_id = logical_id;
	n->type = pr->type;
	return x->n++;
}

static void add_edge(struct exec *x, size_t from, size_t to)
{
	struct node *f = &x->nodes[from], *t = &x->nodes[to];
	size_t i;

	if (from == to)
		return;
	for (i = 0; i < f->ndeps; i++)
		if (f->deps[i] == to)
			return;
	if (f->ndeps == f->deps_cap) {
		size_t cap = f->deps_cap ? f->deps_cap * 2 : 4;
		f->deps = arena_realloc(x->a, f->deps, f->deps_cap * sizeof(size_t),
					cap * sizeof(size_t));
		f->deps_cap = cap;
	}
	f->deps[f->ndeps++] = to;
	if (t->nrdeps == t->rdeps_cap) {
		size_t cap = t->rdeps_cap ? t->rdeps_cap * 2 : 4;
		t->rdeps = arena_realloc(x->a, t->rdeps,
					 t->rdeps_cap * sizeof(size_t),
					 cap * sizeof(size_t));
		t->rdeps_cap = cap;
	}
	t->rdeps[t->nrdeps++] = from;
}

static const struct state_resource *rec_find(const struct exec *x,
					     const char *logical_id)
{
	size_t i;

	if (!tmpl_index_get(&x->rec_idx, logical_id, &i))
		return NULL;
	return &x->recs[i];
}

static bool rec_depends_on(const struct state_resource *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->n_dependencies; i++)
		if (!strcmp(r->dependencies[i], id))
			return true;
	return false;
}

static bool desired_depends_on(const struct plan_resource *pr, const char *id)
{
	size_t i;

	for (i = 0; i < pr->ndeps; i++)
		if (!strcmp(pr->depends_on[i], id))
			return true;
	return false;
}

/* The state key of a create-before-delete replacement's old half: "X~old",
 * or "X~old2"... when an earlier run left an "X~old" not yet deleted (it
 * is in this plan as a delete of its own, and must keep its record). */
static const char *old_key(const struct exec *x, const char *logical_id)
{
	const char *key = arena_sprintf(x->a, "%s~old", logical_id);
	int k;

	for (k = 2; rec_find(x, key) || (x->plan && plan_find(x->plan, key));
	     k++)
		key = arena_sprintf(x->a, "%s~old%d", logical_id, k);
	return key;
}

/* Builds nodes and edges from the plan. apply_of/delete_of map plan item
 * index to node index (or SIZE_MAX). */
static int build_dag(struct exec *x, struct err *err)
{
	struct plan *p = x->plan;
	size_t *apply_of = arena_alloc(x->a, (p->n + 1) * sizeof(size_t));
	size_t *delete_of = arena_alloc(x->a, (p->n + 1) * sizeof(size_t));
	bool changed;
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		struct plan_resource *pr = &p->items[i];
		apply_of[i] = delete_of[i] = SIZE_MAX;
		if (pr->action == PLAN_NOOP)
			continue;
		if (pr->action == PLAN_FORGET) {
			/* handled without AWS by the main thread */
			delete_of[i] = add_node(x, NODE_DELETE, pr, pr->logical_id);
			x->nodes[delete_of[i]].action = "forget";
			continue;
		}
		if (pr->action == PLAN_CREATE || pr->action == PLAN_UPDATE ||
		    pr->action == PLAN_REPLACE) {
			apply_of[i] = add_node(x, NODE_APPLY, pr, pr->logical_id);
			x->nodes[apply_of[i]].action =
				pr->action == PLAN_CREATE  ? "create" :
				pr->action == PLAN_UPDATE ? "update" :
							     "replace";
		}
		if (pr->action == PLAN_DELETE || pr->action == PLAN_REPLACE) {
			const char *key = pr->logical_id;
			if (pr->action == PLAN_REPLACE && pr->create_before_delete)
				key = old_key(x, pr->logical_id);
			delete_of[i] = add_node(x, NODE_DELETE, pr, key);
			/* a type change deletes the old resource with its own
			 * type's provider */
			if (pr->old_type)
				x->nodes[delete_of[i]].type = pr->old_type;
			x->nodes[delete_of[i]].action =
				pr->action == PLAN_REPLACE && pr->retain_old ?
					"forget" : "delete";
		}
	}

	/* a delete-before-create replacement drags the replaced resources
	 * that depend on it into delete-before-create too, or the old
	 * dependent would still hold what must go first */
	do {
		changed = false;
		for (i = 0; i < p->n; i++) {
			struct plan_resource *pr = &p->items[i];
			const struct state_resource *r;
			if (pr->action != PLAN_REPLACE || pr->create_before_delete)
				continue;
			for (j = 0; j < p->n; j++) {
				struct plan_resource *q = &p->items[j];
				if (q->action != PLAN_REPLACE ||
				    !q->create_before_delete)
					continue;
				r = rec_find(x, q->logical_id);
				if (r && rec_depends_on(r, pr->logical_id)) {
					/* the plan shown said +/-: say why
					 * it runs -/+ */
					log_msg(LOG_WARN,
						"\"%s\" is replaced delete-first too: it refers to \"%s\", whose old resource must go before its replacement is created",
						q->logical_id, pr->logical_id);
					q->create_before_delete = false;
					x->nodes[delete_of[j]].logical_id =
						q->logical_id;
					changed = true;
				}
			}
		}
	} while (changed);

	for (i = 0; i < p->n; i++) {
		struct plan_resource *pr = &p->items[i];
		const struct state_resource *r = rec_find(x, pr->logical_id);

		if (apply_of[i] != SIZE_MAX) {
			/* after what it depends on in the template */
			for (j = 0; j < p->n; j++)
				if (apply_of[j] != SIZE_MAX &&
				    desired_depends_on(pr, p->items[j].logical_id))
					add_edge(x, apply_of[i], apply_of[j]);
			if (delete_of[i] != SIZE_MAX) {
				if (pr->create_before_delete)
					add_edge(x, delete_of[i], apply_of[i]);
				else
					add_edge(x, apply_of[i], delete_of[i]);
			}
		}
		if (delete_of[i] != SIZE_MAX) {
			/* after everything that referred to it is gone or has
			 * moved on */
			for (j = 0; j < p->n; j++) {
				const struct state_resource *q;
				if (j == i)
					continue;
				q = rec_find(x, p->items[j].logical_id);
				if (!q || !rec_depends_on(q, pr->logical_id))
					continue;
				if (delete_of[j] != SIZE_MAX)
					add_edge(x, delete_of[i], delete_of[j]);
				/* a dependent updated in place moves off the old
				 * resource first; not for a delete-first
				 * replacement, whose dependent's update needs the
				 * new resource that this delete comes before (the
				 * edge would close a cycle): there the old one
				 * goes while still referred to, as with
				 * terraform's create_before_destroy = false */
				if (apply_of[j] != SIZE_MAX &&
				    p->items[j].action == PLAN_UPDATE &&
				    !(pr->action == PLAN_REPLACE &&
				      !pr->create_before_delete))
					add_edge(x, delete_of[i], apply_of[j]);
			}
			/* a delete-first replacement's new resource may also
			 * be needed by creates that follow: nothing to add */
		}
		(void)r;
	}
	return 0;
	(void)err;
}

/* Longest chain of nodes after each node (dependents), detecting cycles. */
static int compute_prio(struct exec *x, size_t i, struct err *err)
{
	struct node *n = &x->nodes[i];
	unsigned best = 0;
	size_t k;

	if (n->prio_done)
		return 0;
	if (n->on_stack)
		return err_set(err, ERR_CONFLICT,
			       "the plan cannot be ordered: \"%s\" (%s) waits on itself through its replacements",
			       n->logical_id, n->action);
	n->on_stack = true;
	for (k = 0; k < n->nrdeps; k++) {
		struct node *d = &x->nodes[n->rdeps[k]];
		if (compute_prio(x, n->rdeps[k], err))
			return -1;
		if (d->prio + 1 > best)
			best = d->prio + 1;
	}
	n->on_stack = false;
	n->prio_done = true;
	n->prio = best;
	return 0;
}

/* --------------------------------------------------------- resolver */

static const struct value *attr_of(struct arena *a, const char *physical_id,
				   const struct value *attrs, const char *attr)
{
	const struct value *v;

	if (!attr) {
		v = value_map_get(attrs, "Ref");
		if (v)
			return v;
		return physical_id ? value_new_string(a, physical_id) : NULL;
	}
	return value_map_get(attrs, attr);
}

static const struct value *resolve(void *ud, const char *logical_id,
				   const char *attr)
{
	struct exec *x = ud;
	size_t i;

	/* this run's results first */
	for (i = 0; i < x->n; i++) {
		struct node *n = &x->nodes[i];
		if (n->kind == NODE_APPLY && n->st == NS_DONE &&
		    !strcmp(n->logical_id, logical_id))
			return attr_of(x->a, n->new_physical_id, n->new_attrs,
				       attr);
	}
	/* a resource that keeps its identity: the state answers */
	if (x->plan && !plan_keeps_identity(x->plan, logical_id))
		return NULL;
	{
		const struct state_resource *r = rec_find(x, logical_id);
		if (!r)
			return NULL;
		return attr_of(x->a, r->physical_id, r->attributes, attr);
	}
}

/* ------------------------------------------------------------- pool */

/* The node's status buffer is read by the main thread under the pool
 * mutex, so it is written under it too. */
static void status_cb(void *ud, const char *msg)
{
	struct job *j = ud;

	pthread_mutex_lock(&j->x->mu);
	snprintf(j->n->status, sizeof(j->n->status), "%s", msg ? msg : "");
	pthread_mutex_unlock(&j->x->mu);
}

/* The context a provider operation runs in, from the run's options. */
static void provider_ctx_init(struct provider_ctx *pc, struct aws_client *aws,
			      struct arena *a, const struct exec_opts *o,
			      const char *logical_id, const char *type,
			      const char *token)
{
	memset(pc, 0, sizeof(*pc));
	pc->aws = aws;
	pc->arena = a;
	pc->stack = o->stack;
	pc->logical_id = logical_id;
	pc->type = type;
	pc->region = o->region;
	pc->account = o->account;
	pc->partition = o->partition ? o->partition : "aws";
	pc->token = token;
	pc->cancel = o->cancel;
	pc->poll_min_ms = o->poll_min_ms;
	pc->poll_max_ms = o->poll_max_ms;
}

/* The error for a resource that exists under the identity the template
 * gives it but that this stack did not create: never adopted; `cairn
 * import` takes it over on purpose. physical_id may be NULL (unknown). */
static void foreign_hint(const struct exec *x, const struct node *n,
			 const char *physical_id, struct err *e)
{
	char msg[sizeof(e->msg)];
	struct strbuf cmd = STRBUF_INIT;

	/* a command the user can paste: words quoted for the shell */
	strbuf_addstr(&cmd, "cairn import ");
	strbuf_add_shell_word(&cmd, n->pr->logical_id);
	strbuf_addch(&cmd, ' ');
	if (physical_id)
		strbuf_add_shell_word(&cmd, physical_id);
	else
		strbuf_addstr(&cmd, "PHYSICAL_ID");
	strbuf_addstr(&cmd, " --template ");
	if (x->o->template_path)
		strbuf_add_shell_word(&cmd, x->o->template_path);
	else
		strbuf_addstr(&cmd, "TEMPLATE");
	if (x->o->hint_opts) {
		strbuf_addch(&cmd, ' ');
		strbuf_addstr(&cmd, x->o->hint_opts);
	}
	snprintf(msg, sizeof(msg),
		 "%s. To manage the existing resource with this stack, import it on purpose: %s (then plan shows how it differs from the template); or give the resource another name in the template",
		 e->msg, cmd.buf);
	strbuf_release(&cmd);
	memcpy(e->msg, msg, sizeof(e->msg));
	e->code = ERR_ALREADY_EXISTS;
}

/* find(), and when `settle` (a recent create intent, or a create that
 * answered "already exists") a NotFound, or nothing found, is read again
 * with backoff for a bounded time (src/exec/settle.c): right after a
 * create AWS may not list the resource yet, and "nothing was created"
 * would then mean a duplicate, or an endless delete of what depends on
 * it. Returns find()'s result. */
static int find_settled(const struct provider *prov, struct provider_ctx *pc,
			const struct value *props, bool settle,
			struct provider_result *res, struct err *ferr)
{
	struct settle s;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = prov->find(pc, props, res, ferr);
	if (!settle)
		return rc;
	settle_start(&s, pc->cancel);
	while (((rc < 0 && ferr->code == ERR_NOT_FOUND) ||
		(rc == 0 && !res->physical_id)) &&
	       settle_again(&s)) {
		log_debug("%s: not found %d time(s); the create may not be "
			  "visible yet, looking again", pc->logical_id, s.tries);
		memset(res, 0, sizeof(*res));
		err_clear(ferr);
		rc = prov->find(pc, props, res, ferr);
	}
	return rc;
}

/* Looks for the resource a crashed run or a lost answer left behind
 * (provider find: by token, tags or generated name) and adopts it. Never
 * the resource being replaced: that one is recorded and goes later. A
 * resource find() says exists but is not this stack's fails the job
 * (true, j->rc -1) with the import hint: it is never adopted. */
static bool try_adopt(const struct exec *x, const struct node *n,
		      struct provider_ctx *pc, struct job *j, bool settle)
{
	struct provider_result res;
	struct err ferr = ERR_INIT;

	if (!n->prov->find)
		return false;
	if (find_settled(n->prov, pc, j->props, settle, &res, &ferr) < 0) {
		if (ferr.code != ERR_ALREADY_EXISTS)
			return false;
		foreign_hint(x, n, res.physical_id, &ferr);
		j->err = ferr;
		j->rc = -1;
		return true;
	}
	if (!res.physical_id)
		return false;
	if (n->physical_id && !strcmp(res.physical_id, n->physical_id))
		return false;
	log_msg(LOG_INFO, "%s: adopted %s, created by an earlier attempt",
		n->logical_id, res.physical_id);
	j->res = res;
	j->rc = 0;
	err_clear(&j->err);
	/* the earlier attempt may have stopped half way (a VPC created, its
	 * DNS attributes not yet set): read it and finish the job in place */
	if (n->prov->read && n->prov->update) {
		struct provider_result seen, upd;
		memset(&seen, 0, sizeof(seen));
		memset(&upd, 0, sizeof(upd));
		if (n->prov->read(pc, res.physical_id, res.attrs, &seen,
				  &j->err) < 0 ||
		    n->prov->update(pc, res.physical_id, seen.props, j->props,
				    seen.attrs ? seen.attrs : res.attrs, &upd,
				    &j->err) < 0) {
			j->rc = -1;
			return true;
		}
		if (upd.physical_id)
			j->res.physical_id = upd.physical_id;
		if (upd.attrs)
			j->res.attrs = upd.attrs;
		else if (seen.attrs)
			j->res.attrs = seen.attrs;
	}
	return true;
}

static void run_job_calls(struct exec *x, struct job *j)
{
	struct node *n = j->n;
	struct provider_ctx pc;

	provider_ctx_init(&pc, x->aws, j->arena, x->o, n->pr->logical_id,
			  n->type, n->token);
	pc.status = status_cb;
	pc.status_ud = j;
	pc.intent_at = n->intent_at;
	memset(&j->res, 0, sizeof(j->res));
	err_clear(&j->err);

	if (n->kind == NODE_DELETE) {
		j->rc = n->prov->delete(&pc, n->physical_id, n->old_props,
					n->old_attrs, &j->err);
		return;
	}
	if (n->pr->action == PLAN_UPDATE) {
		j->rc = n->prov->update(&pc, n->physical_id, n->old_props,
					j->props, n->old_attrs, &j->res,
					&j->err);
		return;
	}
	/* create (or the new half of a replace): adopt what a crashed run
	 * made with this token before creating anything */
	if (n->adopt_first && try_adopt(x, n, &pc, j, n->adopt_settle))
		return;
	j->rc = n->prov->create(&pc, j->props, &j->res, &j->err);
	/* "already exists" (or "already associated") after a lost answer:
	 * read it back and adopt it; find() only returns what is provably
	 * this resource (its cairn tags, or keys that are all this stack's) */
	if (j->rc && (j->err.code == ERR_ALREADY_EXISTS ||
		      j->err.code == ERR_CONFLICT) &&
	    try_adopt(x, n, &pc, j, j->err.code == ERR_ALREADY_EXISTS))
		return;
	/* something by that name exists and nothing says it is ours: say
	 * how to take it over on purpose. Not for a replacement, whose old
	 * resource (same name, being deleted) may still be visible: that one
	 * is this stack's and the next run creates the new one */
	if (j->rc && j->err.code == ERR_ALREADY_EXISTS &&
	    !strstr(j->err.msg, "cairn import") &&
	    n->pr->action != PLAN_REPLACE)
		foreign_hint(x, n, j->res.physical_id, &j->err);
}

static void park_hook(void *ud, int waiting)
{
	struct job *j = ud;
	struct exec *x = j->x;
	int was = atomic_exchange(&j->n->parked, waiting);

	if (waiting && !was)
		atomic_fetch_add(&x->nparked, 1);
	else if (!waiting && was)
		atomic_fetch_sub(&x->nparked, 1);
	else
		return;
	/* the scheduler may start (waiting) or hold back (not) another node */
	pthread_mutex_lock(&x->mu);
	pthread_cond_signal(&x->done_cv);
	pthread_mutex_unlock(&x->mu);
}

/* Dynamic references are read here, in the worker, just before the calls
 * that need them (dynref.h); their values are wiped when the calls return
 * and never reach the error message the state and the summary keep. */
static void run_job(struct exec *x, struct job *j)
{
	const struct value *desired = j->props;
	struct dynref_scratch ds;

	memset(&ds, 0, sizeof(ds));
	if (j->n->kind == NODE_APPLY &&
	    dynref_resolve(x->o ? x->o->dynref : NULL,
			   x->o ? x->o->dynref_ud : NULL,
			   x->o ? x->o->cancel : NULL, j->n->type, desired,
			   &ds, &j->props, &j->err) < 0) {
		memset(&j->res, 0, sizeof(j->res));
		j->rc = -1;
	} else {
		aws_trace_hide(ds.plain, ds.n);
		run_job_calls(x, j);
		aws_trace_hide(NULL, 0);
		dynref_scrub(&ds, &j->err);
	}
	j->wipe = ds.a != NULL;
	j->props = desired;
	dynref_release(&ds);
}

static void *worker_main(void *arg)
{
	struct exec *x = arg;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		struct job *j;
		while (!x->queue && !x->shutdown)
			pthread_cond_wait(&x->work_cv, &x->mu);
		if (!x->queue && x->shutdown)
			break;
		j = x->queue;
		x->queue = j->next;
		if (!x->queue)
			x->queue_tail = NULL;
		pthread_mutex_unlock(&x->mu);

		aws_set_wait_hook(park_hook, j);
		run_job(x, j);
		aws_set_wait_hook(NULL, NULL);

		pthread_mutex_lock(&x->mu);
		j->next = x->done;
		x->done = j;
		pthread_cond_signal(&x->done_cv);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* ------------------------------------------------------- main thread */

/*
 * Test hook for crash safety (as SQLite has its own): with
 * CAIRN_TEST_CRASH_AFTER=<LogicalId>, the process kills itself with SIGKILL
 * right after AWS confirmed that resource's operation and before the state
 * records it: the worst instant, which the next run must reconcile from the
 * journal's open intent.
 */
static void crash_hook(const struct node *n)
{
	const char *id = getenv("CAIRN_TEST_CRASH_AFTER");

	if (id && *id && !strcmp(id, n->logical_id))
		raise(SIGKILL);
}

static void emit(struct exec *x, enum exec_event_kind kind, struct node *n,
		 const struct err *e, const char *skip_reason)
{
	struct exec_event ev;

	if (!x->o->event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.logical_id = n->logical_id;
	ev.type = n->type;
	ev.action = n->action;
	ev.physical_id = n->kind == NODE_APPLY ? n->new_physical_id :
						 n->physical_id;
	ev.elapsed = n->started ? mono_seconds() - n->started : 0;
	ev.err = e;
	ev.skip_reason = skip_reason;
	x->o->event(x->o->event_ud, &ev);
}

static void emit_tick(struct exec *x)
{
	struct exec_event *inflight;
	char (*status)[sizeof(((struct node *)0)->status)];
	struct exec_event ev;
	size_t i, k = 0;
	double t = mono_seconds();

	if (!x->o->event)
		return;
	/* heap, not the run arena: a tick every 250 ms for an hour would
	 * otherwise keep megabytes of copies until the end */
	inflight = xcalloc(x->n + 1, sizeof(*inflight));
	status = xcalloc(x->n + 1, sizeof(*status));
	pthread_mutex_lock(&x->mu);
	for (i = 0; i < x->n; i++) {
		struct node *n = &x->nodes[i];
		if (n->st != NS_RUNNING)
			continue;
		inflight[k].kind = EXEC_EV_TICK;
		inflight[k].logical_id = n->logical_id;
		inflight[k].type = n->type;
		inflight[k].action = n->action;
		inflight[k].elapsed = t - n->started;
		memcpy(status[k], n->status, sizeof(status[k]));
		inflight[k].status = status[k][0] ? status[k] : NULL;
		k++;
	}
	pthread_mutex_unlock(&x->mu);
	memset(&ev, 0, sizeof(ev));
	ev.kind = EXEC_EV_TICK;
	ev.ninflight = k;
	ev.inflight = inflight;
	x->o->event(x->o->event_ud, &ev);
	free(status);
	free(inflight);
}

static struct value *identifying_tags(struct exec *x, const char *logical_id)
{
	struct value *t = value_new_map(x->a);
	value_map_set(x->a, t, "cairn:stack", value_new_string(x->a, x->o->stack));
	value_map_set(x->a, t, "cairn:logical-id",
		      value_new_string(x->a, logical_id));
	return t;
}

static void skip_dependents(struct exec *x, size_t i, struct exec_result *res,
			    const char *why)
{
	struct node *n = &x->nodes[i];
	size_t k;

	for (k = 0; k < n->nrdeps; k++) {
		struct node *d = &x->nodes[n->rdeps[k]];
		if (d->st != NS_WAITING && d->st != NS_READY)
			continue;
		d->st = NS_SKIPPED;
		res->skipped++;
		emit(x, EXEC_EV_SKIP, d, NULL, why);
		skip_dependents(x, n->rdeps[k], res, why);
	}
}

static void record_failure(struct exec *x, struct node *n,
			   struct exec_result *res)
{
	struct exec_failure *f;

	res->failures = arena_realloc(x->a, res->failures,
				      res->nfailures * sizeof(*f),
				      (res->nfailures + 1) * sizeof(*f));
	f = &res->failures[res->nfailures++];
	f->logical_id = n->logical_id;
	f->type = n->type;
	f->action = n->action;
	f->err = n->err;
	res->failed++;
}

static void fail_node(struct exec *x, size_t i, struct exec_result *res)
{
	struct node *n = &x->nodes[i];
	const char *why;

	n->st = NS_FAILED;
	record_failure(x, n, res);
	emit(x, EXEC_EV_FAIL, n, &n->err, NULL);
	why = arena_sprintf(x->a, "\"%s\" failed", n->logical_id);
	skip_dependents(x, i, res, why);
}

/* The template's policies for a resource, recorded with it so that a
 * resource later removed from the template is still deleted or kept as the
 * template said. */
static void template_policies(const struct exec *x, const char *logical_id,
			      struct state_resource *r)
{
	const struct tmpl_resource *tr =
		x->st ? template_find_resource(x->st->tmpl, logical_id) : NULL;

	if (tr) {
		r->deletion_policy = tr->deletion_policy;
		r->update_replace_policy = tr->update_replace_policy;
	}
}

/* The state key under which a create-before-delete replacement keeps its
 * old half: the one its delete node was given by build_dag. */
static const char *old_half_key(const struct exec *x, const struct node *n)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->nodes[i].kind == NODE_DELETE && x->nodes[i].pr == n->pr)
			return x->nodes[i].logical_id;
	return arena_sprintf(x->a, "%s~old", n->logical_id);
}

/* Records a finished node in the state; returns -1 when the state write
 * itself failed (the run must stop: we could lose track of resources). */
static int finish_node(struct exec *x, size_t i, struct job *j,
		       struct exec_result *res, struct err *err)
{
	struct node *n = &x->nodes[i];
	struct state_outcome out;

	memset(&out, 0, sizeof(out));
	if (j && j->rc) {
		n->err = j->err; /* the provider named the resource */
		out.ok = false;
		out.request_id = j->err.request_id[0] ? j->err.request_id : NULL;
		out.error_code = j->err.aws_code[0] ? j->err.aws_code :
						      err_code_name(j->err.code);
		out.message = j->err.msg;
		/* a create abandoned while waiting (second Ctrl-C): AWS may
		 * hold it already; the intent stays open so the next run
		 * retries with the same token and adopts it (as after a crash) */
		if (n->intent_id > 0 &&
		    !(j->err.code == ERR_CANCELLED && n->kind == NODE_APPLY &&
		      n->pr->action != PLAN_UPDATE) &&
		    state_journal_outcome(x->state, n->intent_id, &out, err))
			return -1;
		/* a failed update leaves the resource (and its recorded old
		 * properties) in place: the next run diffs again and retries
		 * the update. Not STATE_FAILED: plan replaces those. */
		if (n->kind == NODE_APPLY && n->pr->action == PLAN_UPDATE)
			state_resource_set_status(x->state, n->logical_id,
						  STATE_CREATED, n->err.msg,
						  NULL);
		fail_node(x, i, res);
		return 0;
	}

	/* the record and the intent's outcome in one commit: one fsync per
	 * finished resource instead of two, and never one without the other */
	if (state_group_begin(x->state, err))
		return -1;
	if (n->kind == NODE_APPLY) {
		struct state_resource r;
		const struct state_resource *old = rec_find(x, n->logical_id);

		if (j) {
			n->new_physical_id = j->res.physical_id ?
				arena_strdup(x->a, j->res.physical_id) :
				(n->pr->action == PLAN_UPDATE ? n->physical_id : NULL);
			n->new_attrs = j->res.attrs ? value_copy(x->a, j->res.attrs) :
				       (old ? value_copy(x->a, old->attributes) : NULL);
		}
		/* the old half of a create-before-delete replacement keeps
		 * its own record until it is deleted */
		if (n->pr->action == PLAN_REPLACE && n->pr->create_before_delete &&
		    old) {
			struct state_resource keep = *old;
			keep.logical_id = old_half_key(x, n);
			keep.status = STATE_TAINTED;
			keep.status_reason = "replaced; the old resource is deleted after its replacement exists";
			if (state_resource_put(x->state, &keep, err))
				goto failed;
		}
		memset(&r, 0, sizeof(r));
		r.logical_id = n->logical_id;
		r.type = n->type;
		r.physical_id = n->new_physical_id;
		r.properties = n->new_props;
		r.attributes = n->new_attrs;
		template_policies(x, n->logical_id, &r);
		r.dependencies = (const char **)n->pr->depends_on;
		r.n_dependencies = n->pr->ndeps;
		r.status = STATE_CREATED;
		if (state_resource_put(x->state, &r, err))
			goto failed;
		if (n->pr->action == PLAN_CREATE)
			res->created++;
		else if (n->pr->action == PLAN_UPDATE)
			res->updated++;
		else
			res->replaced++;
	} else {
		/* a failed read must stop the run like a failed write: the
		 * record of a resource AWS just deleted would stay */
		int got = state_resource_get(x->state, n->logical_id, x->a,
					     &(struct state_resource){ 0 }, err);
		if (got < 0 ||
		    (got > 0 && state_resource_delete(x->state, n->logical_id,
						      err)))
			goto failed;
		if (!strcmp(n->action, "forget")) {
			res->forgotten++;
			if (state_journal_event(x->state, n->logical_id, "forget",
						n->pr->action == PLAN_REPLACE ?
						"UpdateReplacePolicy Retain: the replaced resource is left in AWS" :
						"DeletionPolicy Retain: left in AWS",
						err))
				goto failed;
		} else if (n->pr->action == PLAN_DELETE) {
			res->deleted++;
		}
	}
	out.ok = true;
	out.physical_id = n->kind == NODE_APPLY ? n->new_physical_id :
						  n->physical_id;
	if (n->intent_id > 0 &&
	    state_journal_outcome(x->state, n->intent_id, &out, err))
		goto failed;
	if (state_group_end(x->state, 0, err))
		return -1;
	n->st = NS_DONE;
	emit(x, EXEC_EV_DONE, n, NULL, NULL);
	{
		size_t k;
		for (k = 0; k < n->nrdeps; k++) {
			struct node *d = &x->nodes[n->rdeps[k]];
			if (d->pending)
				d->pending--;
			if (d->st == NS_WAITING && d->pending == 0)
				d->st = NS_READY;
		}
	}
	return 0;
failed:
	state_group_end(x->state, -1, NULL);
	return -1;
}

/*
 * The token of logical_id's last create attempt when that attempt ended
 * without knowing what AWS holds: its wait timed out or was cancelled
 * (second Ctrl-C), so the create call itself may have succeeded and left a
 * resource the state does not record. Reusing the token (and trying find()
 * first) adopts it instead of making a second one. NULL otherwise: after
 * a definite refusal a fresh token is right, as the properties may have
 * been fixed since (AWS would answer IdempotentParameterMismatch).
 */
static const char *uncertain_token(struct exec *x, const char *logical_id,
				   bool *failed_before)
{
	struct state_journal_entry *e;
	struct err jerr = ERR_INIT;
	size_t n, i, k;

	if (state_journal_list(x->state, logical_id, 32, x->a, &e, &n, &jerr))
		return NULL; /* only an optimisation: a fresh token is safe */
	for (i = n; i-- > 0;) {
		if (!e[i].kind || strcmp(e[i].kind, "intent") || !e[i].action ||
		    strcmp(e[i].action, "create"))
			continue;
		for (k = i + 1; k < n; k++)
			if (e[k].kind && !strcmp(e[k].kind, "outcome") &&
			    e[k].intent_id == e[i].id)
				break;
		if (k == n || !e[k].result || strcmp(e[k].result, "error") ||
		    !e[k].error_code || !e[i].client_token)
			return NULL;
		/* a provider may have created the resource and failed on a
		 * later call (CreateVpc, then ModifyVpcAttribute): look for it
		 * by tags before creating another, even with a fresh token */
		*failed_before = true;
		if (!strcmp(e[k].error_code, err_code_name(ERR_TIMEOUT)) ||
		    !strcmp(e[k].error_code, err_code_name(ERR_CANCELLED)))
			return e[i].client_token;
		return NULL;
	}
	return NULL;
}

/* Prepares and queues node i; returns -1 only when the state write failed. */
static int start_node(struct exec *x, size_t i, struct exec_result *res,
		      struct err *err)
{
	struct node *n = &x->nodes[i];
	struct state_intent in;
	struct job *j;
	size_t oi;

	n->started = mono_seconds();
	/* forget: no AWS call; nor for a delete of a record AWS never named
	 * (nothing to pass to the provider: the record just goes) */
	if (!strcmp(n->action, "forget") ||
	    (n->kind == NODE_DELETE && !n->physical_id)) {
		n->st = NS_RUNNING;
		emit(x, EXEC_EV_START, n, NULL, NULL);
		return finish_node(x, i, NULL, res, err);
	}
	j = xcalloc(1, sizeof(*j));
	j->x = x;
	j->n = n;
	j->idx = i;
	j->arena = arena_new();

	if (n->kind == NODE_APPLY) {
		struct err e = ERR_INIT;
		struct value *props;

		props = x->st ? template_eval_resource(x->a, x->st, &x->ctx,
						       n->pr->logical_id, NULL,
						       &e) :
				NULL;
		if (!props && x->st) {
			n->err = e;
			err_prefix(&n->err, "%s %s: ", n->type, n->logical_id);
			arena_free(j->arena);
			free(j);
			fail_node(x, i, res);
			return 0;
		}
		if (props && value_has_unknown(props)) {
			n->err = e;
			err_set(&n->err, ERR_INTERNAL,
				"%s %s: properties still unknown after their dependencies finished",
				n->type, n->logical_id);
			arena_free(j->arena);
			free(j);
			fail_node(x, i, res);
			return 0;
		}
		n->new_props = props;
		j->props = props;
	}

	/* a crashed run's open create intent: reuse its token so the
	 * provider's idempotency and find() recognise what it made */
	n->adopt_first = false;
	n->adopt_settle = false;
	n->intent_at = NULL;
	if (n->kind == NODE_APPLY && n->pr->action != PLAN_UPDATE &&
	    tmpl_index_get(&x->open_idx, n->logical_id, &oi)) {
		struct state_outcome out = { false, NULL, NULL, "Interrupted",
					     "the run that sent it stopped before AWS answered; retried with the same token" };
		n->token = x->open_tokens[oi];
		if (state_journal_outcome(x->state, x->open_ids[oi], &out, err))
			return -1;
		n->adopt_first = true;
		n->adopt_settle = settle_recent(x->open_at[oi]);
		n->intent_at = x->open_at[oi];
	} else if (n->kind == NODE_APPLY && n->pr->action != PLAN_UPDATE) {
		bool failed_before = false;
		n->token = uncertain_token(x, n->logical_id, &failed_before);
		n->adopt_first = n->token != NULL || failed_before;
		if (!n->token)
			n->token = new_token(x->a);
	} else {
		n->token = new_token(x->a);
	}

	memset(&in, 0, sizeof(in));
	in.logical_id = n->logical_id;
	in.resource_type = n->type;
	in.action = n->kind == NODE_DELETE ? "delete" :
		    n->pr->action == PLAN_UPDATE ? "update" : "create";
	in.physical_id = n->physical_id;
	in.client_token = n->token;
	in.tags = identifying_tags(x, n->pr->logical_id);
	n->intent_id = state_journal_intent(x->state, &in, err);
	if (n->intent_id < 0) {
		arena_free(j->arena);
		free(j);
		return -1;
	}

	n->st = NS_RUNNING;
	emit(x, EXEC_EV_START, n, NULL, NULL);
	pthread_mutex_lock(&x->mu);
	x->running++;
	if (x->queue_tail)
		x->queue_tail->next = j;
	else
		x->queue = j;
	x->queue_tail = j;
	pthread_cond_signal(&x->work_cv);
	pthread_mutex_unlock(&x->mu);
	return 0;
}

/* The ready node to start next: the longest chain first, passing over
 * types that already have PARK_PER_TYPE workers waiting for a rate token
 * or TYPE_BUSY_MAX working (polls not counted), so that every type, and so
 * every API's bucket, keeps work while others wait. */
static int pick_ready(struct exec *x)
{
	const char *types[32];
	unsigned parked[32], busy[32];
	size_t i, t, nt = 0;
	long best = -1;

	for (i = 0; i < x->n; i++) {
		struct node *n = &x->nodes[i];
		int w;
		if (n->st != NS_RUNNING)
			continue;
		w = atomic_load(&n->parked);
		if (w == AWS_WAIT_POLL)
			continue;
		for (t = 0; t < nt && strcmp(types[t], n->type); t++)
			;
		if (t == nt && nt < 32) {
			types[nt] = n->type;
			parked[nt] = busy[nt] = 0;
			nt++;
		}
		if (t < nt) {
			busy[t]++;
			if (w == AWS_WAIT_TOKEN)
				parked[t]++;
		}
	}
	for (i = 0; i < x->n; i++) {
		struct node *n = &x->nodes[i];
		if (n->st != NS_READY)
			continue;
		if (best >= 0 && n->prio <= x->nodes[best].prio)
			continue;
		for (t = 0; t < nt && strcmp(types[t], n->type); t++)
			;
		if (t < nt && (parked[t] >= PARK_PER_TYPE || busy[t] >= TYPE_BUSY_MAX))
			continue;
		best = (long)i;
	}
	return (int)best;
}

/* Workers: one per node up to POOL_MAX, at least the parallelism. */
static int pool_size(const struct exec *x, int parallel)
{
	size_t want = x->n < POOL_MAX ? x->n : POOL_MAX;

	if (want < (size_t)parallel)
		want = x->n < (size_t)parallel ? x->n : (size_t)parallel;
	return want ? (int)want : 1;
}

static int load_state(struct exec *x, struct err *err)
{
	struct state_journal_entry *open;
	size_t nopen, i;

	if (state_resource_list(x->state, x->a, &x->recs, &x->nrecs, err))
		return -1;
	for (i = 0; i < x->nrecs; i++)
		tmpl_index_put(x->a, &x->rec_idx, x->recs[i].logical_id, i);
	if (state_journal_open_intents(x->state, x->a, &open, &nopen, err))
		return -1;
	x->open_tokens = arena_alloc(x->a, (nopen + 1) * sizeof(char *));
	x->open_ids = arena_alloc(x->a, (nopen + 1) * sizeof(int64_t));
	x->open_at = arena_alloc(x->a, (nopen + 1) * sizeof(char *));
	for (i = 0; i < nopen; i++) {
		struct state_outcome out = { false, NULL, NULL, "Interrupted",
					     "the run that sent it stopped before AWS answered" };
		if (open[i].action && !strcmp(open[i].action, "create") &&
		    open[i].client_token && open[i].logical_id) {
			const struct plan_resource *pr =
				x->plan ? plan_find(x->plan, open[i].logical_id) :
					  NULL;
			const struct state_resource *r =
				rec_find(x, open[i].logical_id);
			size_t prev;
			/* the record was written before the crash (between
			 * put and outcome) and nothing recreates it: AWS
			 * confirmed it, close the intent as such */
			if (r && r->physical_id &&
			    (!pr || (pr->action != PLAN_CREATE &&
				     pr->action != PLAN_REPLACE))) {
				struct state_outcome ok = {
					true, r->physical_id, NULL, NULL,
					"recorded before the run stopped"
				};
				if (state_journal_outcome(x->state, open[i].id,
							  &ok, err))
					return -1;
				continue;
			}
			/* two crashed runs: the newer token is the one
			 * retried (find() still sees the older one's tags) */
			if (tmpl_index_get(&x->open_idx, open[i].logical_id,
					   &prev)) {
				struct state_outcome sup = {
					false, NULL, NULL, "Interrupted",
					"superseded by a later attempt"
				};
				if (state_journal_outcome(x->state,
							  x->open_ids[prev],
							  &sup, err))
					return -1;
			}
			x->open_tokens[i] = open[i].client_token;
			x->open_ids[i] = open[i].id;
			x->open_at[i] = open[i].at;
			tmpl_index_put(x->a, &x->open_idx, open[i].logical_id, i);
			continue;
		}
		/* updates and deletes are simply planned again; close them */
		if (state_journal_outcome(x->state, open[i].id, &out, err))
			return -1;
	}
	return 0;
}

int exec_run(struct arena *a, struct plan *p, const struct tmpl_stack *st,
	     const struct tmpl_ctx *ctx, struct state *state,
	     struct aws_client *aws, const struct exec_opts *o,
	     struct exec_result *res, struct err *err)
{
	struct exec x;
	size_t i, left;
	double last_tick = mono_seconds();
	int nthreads, rc = 0, perr = 0;
	double t0 = mono_seconds();

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.plan = p;
	x.st = st;
	if (ctx)
		x.ctx = *ctx;
	/* a reference known only now names what this run just made: its
	 * read (dynref.c) waits for AWS to show it, a check here would not */
	x.ctx.dynref_check = NULL;
	x.ctx.resolve = resolve;
	x.ctx.resolve_ud = &x;
	x.state = state;
	x.aws = aws;
	x.o = o;

	if (load_state(&x, err))
		return -1;
	if (build_dag(&x, err))
		return -1;
	for (i = 0; i < x.n; i++) {
		struct node *n = &x.nodes[i];
		const struct state_resource *r = rec_find(&x, n->pr->logical_id);
		if (strcmp(n->action, "forget")) {
			n->prov = provider_find(n->type);
			if (!n->prov)
				return err_set(err, ERR_UNSUPPORTED,
					       "no provider for type \"%s\" (resource \"%s\")",
					       n->type, n->pr->logical_id);
		}
		if (r) {
			n->physical_id = r->physical_id;
			n->old_props = r->properties;
			n->old_attrs = r->attributes;
		}
		n->pending = n->ndeps;
		n->st = n->pending ? NS_WAITING : NS_READY;
	}
	for (i = 0; i < x.n; i++)
		if (compute_prio(&x, i, err))
			return -1;

	x.parallel = o->parallelism > 0 ? o->parallelism : 10;
	nthreads = pool_size(&x, x.parallel);
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.work_cv, NULL);
	pthread_cond_init(&x.done_cv, NULL);
	x.threads = xcalloc((size_t)nthreads, sizeof(pthread_t));
	{
		/* Ctrl-C is handled on this thread, which polls *stop every
		 * 250 ms: the workers (which inherit the mask) never run the
		 * handler in the middle of a provider call */
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		for (i = 0; i < (size_t)nthreads; i++) {
			perr = pthread_create(&x.threads[i], NULL, worker_main,
					      &x);
			if (perr)
				break;
			x.nthreads++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (!x.nthreads && x.n) {
		/* nothing could run: say so instead of looping for ever */
		err_set(err, ERR_INTERNAL, "cannot start worker threads: %s",
			strerror(perr));
		free(x.threads);
		pthread_mutex_destroy(&x.mu);
		pthread_cond_destroy(&x.work_cv);
		pthread_cond_destroy(&x.done_cv);
		return -1;
	}

	left = x.n;
	for (;;) {
		int k;
		struct job *done;
		/* a failed state write stops the run like Ctrl-C: what is
		 * in flight is collected, nothing new starts */
		bool stopping = (o->stop && *o->stop) || rc;

		int started = 0, finished = 0;

		/* start what is ready, best first; starts and finishes alternate
		 * in slices (each writes the state), so that neither a wave of
		 * starts nor of finishes holds the other back */
		while (!stopping && started < EXEC_SLICE &&
		       x.running < (size_t)x.nthreads &&
		       x.running - atomic_load(&x.nparked) < (size_t)x.parallel &&
		       (k = pick_ready(&x)) >= 0) {
			if (start_node(&x, (size_t)k, res, err)) {
				rc = -1;
				stopping = true;
				break;
			}
			started++;
		}
		/* collect */
		pthread_mutex_lock(&x.mu);
		if (!x.done && x.running && started < EXEC_SLICE) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&x.done_cv, &x.mu, &ts);
		}
		done = x.done;
		x.done = NULL;
		pthread_mutex_unlock(&x.mu);
		if (!done && x.running && mono_seconds() - last_tick >= 0.25) {
			emit_tick(&x);
			last_tick = mono_seconds();
		}
		while (done && finished < EXEC_SLICE) {
			struct job *next = done->next;
			finished++;
			crash_hook(done->n);
			pthread_mutex_lock(&x.mu);
			x.running--;
			pthread_mutex_unlock(&x.mu);
			if (finish_node(&x, done->idx, done, res, err))
				rc = -1;
			if (done->wipe)
				arena_free_wiped(done->arena);
			else
				arena_free(done->arena);
			free(done);
			done = next;
		}
		if (done) {
			/* the rest after the next slice of starts */
			struct job *tail = done;
			while (tail->next)
				tail = tail->next;
			pthread_mutex_lock(&x.mu);
			tail->next = x.done;
			x.done = done;
			pthread_mutex_unlock(&x.mu);
		}
		/* done when nothing runs and nothing more can start */
		left = 0;
		for (i = 0; i < x.n; i++)
			if (x.nodes[i].st == NS_READY ||
			    x.nodes[i].st == NS_WAITING ||
			    x.nodes[i].st == NS_RUNNING)
				left++;
		if (!x.running && (left == 0 || stopping || rc))
			break;
		if (!x.running && pick_ready(&x) < 0 && left) {
			/* waiting nodes whose dependencies can never finish */
			break;
		}
	}
	if (o->stop && *o->stop)
		res->stopped = true;
	for (i = 0; i < x.n; i++) {
		struct node *n = &x.nodes[i];
		if (n->st == NS_READY || n->st == NS_WAITING) {
			n->st = NS_SKIPPED;
			res->skipped++;
			emit(&x, EXEC_EV_SKIP, n, NULL,
			     res->stopped ? "interrupted" : "not reached");
		}
	}

	pthread_mutex_lock(&x.mu);
	x.shutdown = true;
	pthread_cond_broadcast(&x.work_cv);
	pthread_mutex_unlock(&x.mu);
	for (i = 0; i < (size_t)x.nthreads; i++)
		pthread_join(x.threads[i], NULL);
	free(x.threads);
	pthread_mutex_destroy(&x.mu);
	pthread_cond_destroy(&x.work_cv);
	pthread_cond_destroy(&x.done_cv);
	res->seconds = mono_seconds() - t0;

	if (rc)
		return -1;
	if (res->failed || res->skipped) {
		err_set(err, ERR_AWS, "%zu operation%s failed, %zu skipped",
			res->failed, res->failed == 1 ? "" : "s", res->skipped);
		return -1;
	}
	return 0;
}

/* Outputs answer from the state as it stands after the run. */
struct outputs_ud {
	struct arena *a;
	struct state_resource *recs;
	size_t n;
};

static const struct value *resolve_from_state(void *ud, const char *logical_id,
					      const char *attr)
{
	struct outputs_ud *u = ud;
	size_t i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->recs[i].logical_id, logical_id))
			return attr_of(u->a, u->recs[i].physical_id,
				       u->recs[i].attributes, attr);
	return NULL;
}

int exec_store_outputs(struct arena *a, const struct tmpl_stack *st,
		       const struct tmpl_ctx *ctx, struct state *state,
		       struct err *err)
{
	struct outputs_ud u = { a, NULL, 0 };
	struct tmpl_ctx c = *ctx;
	struct diag_list dl = DIAG_LIST_INIT;
	struct tmpl_stack *ev;
	struct state_output *outs;
	size_t i, n = 0;
	int rc;

	if (state_resource_list(state, a, &u.recs, &u.n, err))
		return -1;
	c.resolve = resolve_from_state;
	c.resolve_ud = &u;
	ev = template_evaluate(a, st->tmpl, &c, &dl);
	diag_list_release(&dl);
	if (!ev)
		return err_set(err, ERR_INTERNAL, "outputs could not be evaluated");
	outs = arena_alloc(a, (ev->noutputs + 1) * sizeof(*outs));
	for (i = 0; i < ev->noutputs; i++) {
		const struct tmpl_eval_output *o = &ev->outputs[i];
		if (!o->included)
			continue;
		outs[n].name = o->out->name;
		outs[n].value = o->value && !value_has_unknown(o->value) ?
					o->value : value_new_null(a);
		outs[n].description = o->description;
		outs[n].export_name = o->export_name && value_str(o->export_name) ?
					      value_str(o->export_name) : NULL;
		n++;
	}
	rc = state_outputs_put(state, outs, n, err);
	return rc;
}

int exec_adopt_open_creates(struct arena *a, const struct tmpl_stack *st,
			    const struct tmpl_ctx *ctx, struct state *state,
			    struct aws_client *aws, const struct exec_opts *o,
			    size_t *adopted, struct err *err)
{
	struct outputs_ud u = { a, NULL, 0 };
	struct state_journal_entry *open;
	struct tmpl_ctx c = *ctx;
	size_t nopen, i, k;

	*adopted = 0;
	if (state_resource_list(state, a, &u.recs, &u.n, err) ||
	    state_journal_open_intents(state, a, &open, &nopen, err))
		return -1;
	c.resolve = resolve_from_state;
	c.resolve_ud = &u;
	for (i = 0; i < nopen; i++) {
		const struct state_journal_entry *e = &open[i];
		const struct provider *prov;
		const struct tmpl_resource *tr;
		struct provider_ctx pc;
		struct provider_result res;
		struct state_resource r;
		struct state_outcome out;
		struct value *props;
		struct err ferr = ERR_INIT;
		const char **deps;
		size_t nd = 0, ri;
		bool recorded = false;

		if (!e->action || strcmp(e->action, "create") || !e->logical_id ||
		    !e->client_token || !e->resource_type)
			continue;
		for (k = 0; k < u.n; k++)
			if (!strcmp(u.recs[k].logical_id, e->logical_id))
				recorded = true;
		prov = provider_find(e->resource_type);
		tr = template_find_resource(st->tmpl, e->logical_id);
		if (recorded || !prov || !tr)
			continue;
		props = template_eval_resource(a, st, &c, e->logical_id, NULL,
					       &ferr);
		if (!props)
			continue;
		provider_ctx_init(&pc, aws, a, o, e->logical_id,
				  e->resource_type, e->client_token);
		pc.intent_at = e->at;
		memset(&res, 0, sizeof(res));
		/* found by tags or name; the types without find() create with
		 * an idempotency token (or are idempotent themselves), so the
		 * same create call returns what the stopped run made */
		/* a recent intent's NotFound is uncertain, not "nothing
		 * was created": find again until the bounded wait is over */
		{
			/* a create repeated for its token sends the values of
			 * the dynamic references, read now and wiped after */
			struct dynref_scratch ds;
			const struct value *cp = props;
			int frc = prov->find ?
				find_settled(prov, &pc, props,
					     settle_recent(e->at), &res, &ferr) :
				dynref_resolve(o->dynref, o->dynref_ud, o->cancel,
					       e->resource_type, props, &ds,
					       &cp, &ferr) < 0 ?
				-1 : prov->create(&pc, cp, &res, &ferr);
			if (!prov->find)
				dynref_release(&ds);
			if (frc < 0 || !res.physical_id)
				continue;
		}
		/* its dependencies as the template has them, so the destroy
		 * deletes it before what it refers to */
		ri = (size_t)(tr - st->tmpl->resources);
		deps = arena_alloc(a, (st->resources[ri].nrefs + 1) * sizeof(*deps));
		for (k = 0; k < st->resources[ri].nrefs; k++) {
			const char *t = st->resources[ri].refs[k].target;
			size_t m;
			bool dup = false;
			for (m = 0; m < nd; m++)
				dup = dup || !strcmp(deps[m], t);
			if (!dup)
				deps[nd++] = t;
		}
		memset(&r, 0, sizeof(r));
		r.logical_id = e->logical_id;
		r.type = e->resource_type;
		r.physical_id = res.physical_id;
		r.properties = props;
		r.attributes = res.attrs;
		r.dependencies = deps;
		r.n_dependencies = nd;
		r.status = STATE_CREATED;
		r.deletion_policy = tr->deletion_policy;
		r.update_replace_policy = tr->update_replace_policy;
		if (state_resource_put(state, &r, err) < 0)
			return -1;
		memset(&out, 0, sizeof(out));
		out.ok = true;
		out.physical_id = res.physical_id;
		out.message = "adopted: created by a run that stopped before recording it";
		if (state_journal_outcome(state, e->id, &out, err) < 0)
			return -1;
		(*adopted)++;
	}
	return 0;
}
