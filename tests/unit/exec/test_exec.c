/*
 * Unit tests of the executor without AWS: the DAG that build_dag() makes
 * from hand-built plans and recorded states, the cycle check, the resolver,
 * the reconciliation of a crashed run's journal, and whole runs of plans
 * whose nodes make no AWS call (forgets, records AWS never named).
 *
 * The expected edges come from the ordering rules (docs/aws-behaviour.md, exec.h), not
 * from running the code: e.g. "the old half of a create-before-delete
 * replacement goes after every dependent updated in place".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the static functions under test */
#include "../../../src/exec/exec.c"

#define VPC "AWS::EC2::VPC"

struct fx {
	struct arena *a;
	struct plan *p;
	struct state_resource recs[16];
	size_t nrecs;
};

static struct plan_resource *item(struct fx *f, const char *id,
				  enum plan_action act, bool cbd,
				  const char *const *deps, size_t ndeps)
{
	struct plan_desired d;
	struct plan_diff_opts o;
	struct plan_resource *r;

	memset(&d, 0, sizeof(d));
	memset(&o, 0, sizeof(o));
	d.logical_id = id;
	d.type = VPC;
	d.depends_on = deps;
	d.ndeps = ndeps;
	r = plan_add(f->p, &d, NULL, &o);
	r->action = act;
	r->create_before_delete = cbd;
	return r;
}

static void rec(struct fx *f, const char *id, const char *phys,
		const char **deps, size_t ndeps)
{
	struct state_resource *r = &f->recs[f->nrecs++];

	memset(r, 0, sizeof(*r));
	r->logical_id = id;
	r->type = VPC;
	r->physical_id = phys;
	r->dependencies = deps;
	r->n_dependencies = ndeps;
	r->status = STATE_CREATED;
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->a = arena_new();
	f->p = plan_new(f->a);
}

static void x_init(struct exec *x, struct fx *f)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	x->a = f->a;
	x->plan = f->p;
	x->recs = f->recs;
	x->nrecs = f->nrecs;
	for (i = 0; i < f->nrecs; i++)
		tmpl_index_put(f->a, &x->rec_idx, f->recs[i].logical_id, i);
}

/* The node of `kind` working on plan item id. */
static size_t node_of(const struct exec *x, enum node_kind kind,
		      const char *id)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->nodes[i].kind == kind &&
		    !strcmp(x->nodes[i].pr->logical_id, id))
			return i;
	fail_msg("no %s node for %s", kind == NODE_APPLY ? "apply" : "delete",
		 id);
	return SIZE_MAX;
}

/* Whether node `from` waits for node `to`. */
static bool waits(const struct exec *x, size_t from, size_t to)
{
	size_t k;

	for (k = 0; k < x->nodes[from].ndeps; k++)
		if (x->nodes[from].deps[k] == to)
			return true;
	return false;
}

static int order(struct exec *x, struct err *err)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (compute_prio(x, i, err))
			return -1;
	return 0;
}

#define A(x, id) node_of(x, NODE_APPLY, id)
#define D(x, id) node_of(x, NODE_DELETE, id)

static void test_creates_follow_dependencies(void **state)
{
	static const char *const b_deps[] = { "A" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	item(&f, "A", PLAN_CREATE, false, NULL, 0);
	item(&f, "B", PLAN_CREATE, false, b_deps, 1);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_int_equal(x.n, 2);
	assert_true(waits(&x, A(&x, "B"), A(&x, "A")));
	assert_false(waits(&x, A(&x, "A"), A(&x, "B")));
	assert_int_equal(order(&x, &err), 0);
	/* A has one node after it: it starts first */
	assert_int_equal(x.nodes[A(&x, "A")].prio, 1);
	assert_int_equal(x.nodes[A(&x, "B")].prio, 0);
	arena_free(f.a);
}

static void test_deletes_after_dependents(void **state)
{
	static const char *b_deps[] = { "A" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "vpc-a", NULL, 0);
	rec(&f, "B", "subnet-b", b_deps, 1);
	item(&f, "B", PLAN_DELETE, false, NULL, 0);
	item(&f, "A", PLAN_DELETE, false, NULL, 0);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_true(waits(&x, D(&x, "A"), D(&x, "B")));
	assert_false(waits(&x, D(&x, "B"), D(&x, "A")));
	assert_string_equal(x.nodes[D(&x, "A")].logical_id, "A");
	assert_string_equal(x.nodes[D(&x, "A")].action, "delete");
	assert_int_equal(order(&x, &err), 0);
	arena_free(f.a);
}

/* +/-: new A, then B moves to it, then the old A ("A~old") goes. */
static void test_create_before_delete(void **state)
{
	static const char *const b_deps[] = { "A" };
	static const char *b_rdeps[] = { "A" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;
	size_t da;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "vpc-a", NULL, 0);
	rec(&f, "B", "subnet-b", b_rdeps, 1);
	item(&f, "A", PLAN_REPLACE, true, NULL, 0);
	item(&f, "B", PLAN_UPDATE, false, b_deps, 1);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_int_equal(x.n, 3);
	da = D(&x, "A");
	assert_string_equal(x.nodes[da].logical_id, "A~old");
	assert_true(waits(&x, da, A(&x, "A")));
	assert_true(waits(&x, da, A(&x, "B")));
	assert_true(waits(&x, A(&x, "B"), A(&x, "A")));
	assert_false(waits(&x, A(&x, "A"), da));
	assert_int_equal(order(&x, &err), 0);
	/* the record key the apply node keeps the old half under */
	assert_string_equal(old_half_key(&x, &x.nodes[A(&x, "A")]), "A~old");
	arena_free(f.a);
}

/* -/+ with a dependent updated in place: old A goes first, the new A is
 * created, then B is updated to it. Waiting for B's update before deleting
 * A would be a cycle (B's update needs the new A). */
static void test_delete_before_create_with_update(void **state)
{
	static const char *const b_deps[] = { "A" };
	static const char *b_rdeps[] = { "A" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "role-a", NULL, 0);
	rec(&f, "B", "fn-b", b_rdeps, 1);
	item(&f, "A", PLAN_REPLACE, false, NULL, 0);
	item(&f, "B", PLAN_UPDATE, false, b_deps, 1);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_string_equal(x.nodes[D(&x, "A")].logical_id, "A");
	assert_true(waits(&x, A(&x, "A"), D(&x, "A")));
	assert_true(waits(&x, A(&x, "B"), A(&x, "A")));
	assert_false(waits(&x, D(&x, "A"), A(&x, "B")));
	assert_int_equal(order(&x, &err), 0);
	arena_free(f.a);
}

/* A is replaced delete-first; B (replaced, would be create-first) refers
 * to the old A, so the old B must go before the old A: B becomes
 * delete-first too, and its old half keeps the key "B". */
static void test_delete_first_cascades(void **state)
{
	static const char *const b_deps[] = { "A" };
	static const char *b_rdeps[] = { "A" };
	static const char *c_rdeps[] = { "B" };
	static const char *const c_deps[] = { "B" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "a-1", NULL, 0);
	rec(&f, "B", "b-1", b_rdeps, 1);
	rec(&f, "C", "c-1", c_rdeps, 1);
	item(&f, "A", PLAN_REPLACE, false, NULL, 0);
	item(&f, "B", PLAN_REPLACE, true, b_deps, 1);
	item(&f, "C", PLAN_REPLACE, true, c_deps, 1);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	/* the cascade goes through B to C */
	assert_false(plan_find(f.p, "B")->create_before_delete);
	assert_false(plan_find(f.p, "C")->create_before_delete);
	assert_string_equal(x.nodes[D(&x, "B")].logical_id, "B");
	assert_string_equal(x.nodes[D(&x, "C")].logical_id, "C");
	assert_true(waits(&x, D(&x, "A"), D(&x, "B")));
	assert_true(waits(&x, D(&x, "B"), D(&x, "C")));
	assert_true(waits(&x, A(&x, "B"), D(&x, "B")));
	assert_true(waits(&x, A(&x, "B"), A(&x, "A")));
	assert_true(waits(&x, A(&x, "A"), D(&x, "A")));
	assert_int_equal(order(&x, &err), 0);
	arena_free(f.a);
}

static void test_type_change_deletes_with_old_type(void **state)
{
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;
	struct plan_resource *r;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "subnet-1", NULL, 0);
	f.recs[0].type = "AWS::EC2::Subnet";
	r = item(&f, "A", PLAN_REPLACE, true, NULL, 0);
	r->old_type = "AWS::EC2::Subnet";
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_string_equal(x.nodes[D(&x, "A")].type, "AWS::EC2::Subnet");
	assert_string_equal(x.nodes[A(&x, "A")].type, VPC);
	arena_free(f.a);
}

/* An "A~old" left by an earlier run (its delete failed) is deleted on its
 * own; replacing A again must not overwrite that record. */
static void test_old_half_key_unique(void **state)
{
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	rec(&f, "A", "vpc-2", NULL, 0);
	rec(&f, "A~old", "vpc-1", NULL, 0);
	item(&f, "A", PLAN_REPLACE, true, NULL, 0);
	plan_add_removed(f.p,
			 &(struct plan_recorded){ .logical_id = "A~old",
						  .type = VPC,
						  .physical_id = "vpc-1" },
			 NULL, "not in the template");
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_string_equal(x.nodes[D(&x, "A~old")].logical_id, "A~old");
	assert_string_equal(x.nodes[D(&x, "A")].logical_id, "A~old2");
	assert_string_equal(old_half_key(&x, &x.nodes[A(&x, "A")]), "A~old2");
	arena_free(f.a);
}

static void test_forget_and_retain(void **state)
{
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;
	struct plan_resource *r;

	(void)state;
	fx_init(&f);
	rec(&f, "K", "bucket", NULL, 0);
	rec(&f, "R", "vpc-1", NULL, 0);
	item(&f, "K", PLAN_FORGET, false, NULL, 0);
	r = item(&f, "R", PLAN_REPLACE, true, NULL, 0);
	r->retain_old = true;
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_string_equal(x.nodes[D(&x, "K")].action, "forget");
	assert_string_equal(x.nodes[D(&x, "R")].action, "forget");
	assert_string_equal(x.nodes[A(&x, "R")].action, "replace");
	arena_free(f.a);
}

static void test_cycle_reported(void **state)
{
	static const char *const a_deps[] = { "B" };
	static const char *const b_deps[] = { "A" };
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;

	(void)state;
	fx_init(&f);
	item(&f, "A", PLAN_CREATE, false, a_deps, 1);
	item(&f, "B", PLAN_CREATE, false, b_deps, 1);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);
	assert_int_equal(order(&x, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_non_null(strstr(err.msg, "cannot be ordered"));
	arena_free(f.a);
}

/* Ref/GetAtt: this run's results for what it created, the state for what
 * keeps its identity, unknown (NULL) for a replacement not yet done. */
static void test_resolver(void **state)
{
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;
	const struct value *v;
	struct node *n;

	(void)state;
	fx_init(&f);
	rec(&f, "Keep", "vpc-keep", NULL, 0);
	f.recs[0].attributes = value_new_map(f.a);
	value_map_set(f.a, f.recs[0].attributes, "CidrBlock",
		      value_new_string(f.a, "10.0.0.0/16"));
	rec(&f, "Rep", "vpc-old", NULL, 0);
	item(&f, "Keep", PLAN_NOOP, false, NULL, 0);
	item(&f, "Rep", PLAN_REPLACE, true, NULL, 0);
	item(&f, "New", PLAN_CREATE, false, NULL, 0);
	x_init(&x, &f);
	assert_int_equal(build_dag(&x, &err), 0);

	v = resolve(&x, "Keep", NULL);
	assert_non_null(v);
	assert_string_equal(value_str(v), "vpc-keep");
	v = resolve(&x, "Keep", "CidrBlock");
	assert_string_equal(value_str(v), "10.0.0.0/16");
	/* the old Rep must never leak into the new one's dependents */
	assert_null(resolve(&x, "Rep", NULL));
	assert_null(resolve(&x, "New", NULL));

	n = &x.nodes[A(&x, "New")];
	n->st = NS_DONE;
	n->new_physical_id = "vpc-new";
	n->new_attrs = value_new_map(f.a);
	value_map_set(f.a, n->new_attrs, "Ref", value_new_string(f.a, "ref-new"));
	value_map_set(f.a, n->new_attrs, "Arn", value_new_string(f.a, "arn:new"));
	assert_string_equal(value_str(resolve(&x, "New", NULL)), "ref-new");
	assert_string_equal(value_str(resolve(&x, "New", "Arn")), "arn:new");
	assert_null(resolve(&x, "New", "Missing"));
	arena_free(f.a);
}

/* ----------------------------------------------- with a real state file */

struct sfx {
	char dir[64];
	char path[96];
	struct state *st;
};

static void sfx_open(struct sfx *s)
{
	struct err err = ERR_INIT;

	strcpy(s->dir, "/tmp/cairn-test-exec-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/s.db", s->dir);
	s->st = state_open(s->path, STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL,
			   &err);
	assert_non_null(s->st);
}

static void sfx_close(struct sfx *s)
{
	char buf[128];

	state_close(s->st);
	snprintf(buf, sizeof(buf), "%s-wal", s->path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", s->path);
	unlink(buf);
	unlink(s->path);
	rmdir(s->dir);
}

static int64_t open_create(struct sfx *s, const char *id, const char *token)
{
	struct state_intent in;
	struct err err = ERR_INIT;
	int64_t r;

	memset(&in, 0, sizeof(in));
	in.logical_id = id;
	in.resource_type = VPC;
	in.action = "create";
	in.client_token = token;
	r = state_journal_intent(s->st, &in, &err);
	assert_true(r > 0);
	return r;
}

static void put_rec(struct sfx *s, const char *id, const char *phys)
{
	struct state_resource r;
	struct err err = ERR_INIT;

	memset(&r, 0, sizeof(r));
	r.logical_id = id;
	r.type = VPC;
	r.physical_id = phys;
	r.status = STATE_CREATED;
	assert_int_equal(state_resource_put(s->st, &r, &err), 0);
}

static size_t nopen(struct sfx *s, struct arena *a, const char *id)
{
	struct state_journal_entry *e;
	size_t n, i, k = 0;
	struct err err = ERR_INIT;

	assert_int_equal(state_journal_open_intents(s->st, a, &e, &n, &err), 0);
	for (i = 0; i < n; i++)
		if (!id || !strcmp(e[i].logical_id, id))
			k++;
	return k;
}

/* A crash between the record and its outcome: the intent is closed (the
 * resource is recorded and nothing recreates it). Two crashed attempts at
 * a create: the newer token is reused, the older intent closed. */
static void test_open_intents_reconciled(void **state)
{
	struct sfx s;
	struct fx f;
	struct exec x;
	struct err err = ERR_INIT;
	size_t oi;

	(void)state;
	sfx_open(&s);
	fx_init(&f);
	put_rec(&s, "Done", "vpc-done");
	open_create(&s, "Done", "t-done");
	open_create(&s, "Again", "t-old");
	open_create(&s, "Again", "t-new");
	item(&f, "Done", PLAN_NOOP, false, NULL, 0);
	item(&f, "Again", PLAN_CREATE, false, NULL, 0);
	memset(&x, 0, sizeof(x));
	x.a = f.a;
	x.plan = f.p;
	x.state = s.st;
	assert_int_equal(load_state(&x, &err), 0);
	assert_int_equal(nopen(&s, f.a, "Done"), 0);
	assert_int_equal(nopen(&s, f.a, "Again"), 1);
	assert_true(tmpl_index_get(&x.open_idx, "Again", &oi));
	assert_string_equal(x.open_tokens[oi], "t-new");
	assert_false(tmpl_index_get(&x.open_idx, "Done", &oi));
	arena_free(f.a);
	sfx_close(&s);
}

static void close_intent(struct sfx *s, int64_t id, const char *code)
{
	struct state_outcome out;
	struct err err = ERR_INIT;

	memset(&out, 0, sizeof(out));
	out.ok = code == NULL;
	out.error_code = code;
	assert_int_equal(state_journal_outcome(s->st, id, &out, &err), 0);
}

/* A create whose wait timed out or was cancelled may have made the
 * resource: its token is reused. A definite refusal, or a later success,
 * gets a fresh token. */
static void test_uncertain_token(void **state)
{
	struct sfx s;
	struct fx f;
	struct exec x;
	bool failed;

	(void)state;
	sfx_open(&s);
	fx_init(&f);
	close_intent(&s, open_create(&s, "Nat", "t-nat"), "timeout");
	close_intent(&s, open_create(&s, "Cut", "t-cut"), "cancelled");
	close_intent(&s, open_create(&s, "Bad", "t-bad"), "InvalidParameterValue");
	close_intent(&s, open_create(&s, "Later", "t-1"), "timeout");
	close_intent(&s, open_create(&s, "Later", "t-2"), NULL);
	memset(&x, 0, sizeof(x));
	x.a = f.a;
	x.state = s.st;
	failed = false;
	assert_string_equal(uncertain_token(&x, "Nat", &failed), "t-nat");
	assert_true(failed);
	assert_string_equal(uncertain_token(&x, "Cut", &failed), "t-cut");
	/* a definite refusal: a fresh token, but look for a half-made one */
	failed = false;
	assert_null(uncertain_token(&x, "Bad", &failed));
	assert_true(failed);
	failed = false;
	assert_null(uncertain_token(&x, "Later", &failed));
	assert_false(failed);
	assert_null(uncertain_token(&x, "Never", &failed));
	assert_false(failed);
	arena_free(f.a);
	sfx_close(&s);
}

/* A whole run with no AWS call: a forget and a record AWS never named
 * (deleted from the state only), in order, with every event paired. */
struct evlog {
	int start, done, fail, skip;
	char order[64];
};

static void on_ev(void *ud, const struct exec_event *ev)
{
	struct evlog *l = ud;

	switch (ev->kind) {
	case EXEC_EV_START:
		l->start++;
		strncat(l->order, ev->logical_id,
			sizeof(l->order) - strlen(l->order) - 1);
		break;
	case EXEC_EV_DONE: l->done++; break;
	case EXEC_EV_FAIL: l->fail++; break;
	case EXEC_EV_SKIP: l->skip++; break;
	case EXEC_EV_TICK: break;
	}
}

static void test_run_without_aws(void **state)
{
	static const char *b_deps[] = { "A" };
	struct sfx s;
	struct arena *a = arena_new();
	struct plan *p = plan_new(a);
	struct exec_opts o;
	struct exec_result res;
	struct evlog l;
	struct err err = ERR_INIT;
	struct state_resource r;
	struct plan_recorded ra = { .logical_id = "A", .type = VPC,
				    .physical_id = NULL };
	struct plan_recorded rb = { .logical_id = "B", .type = VPC,
				    .physical_id = "vpc-b",
				    .deletion_policy = "Retain" };

	(void)state;
	sfx_open(&s);
	put_rec(&s, "A", NULL);
	memset(&r, 0, sizeof(r));
	r.logical_id = "B";
	r.type = VPC;
	r.physical_id = "vpc-b";
	r.dependencies = b_deps;
	r.n_dependencies = 1;
	assert_int_equal(state_resource_put(s.st, &r, &err), 0);
	rb.depends_on = (const char *const *)b_deps;
	rb.ndeps = 1;
	plan_add_removed(p, &rb, "Retain", "destroy");
	plan_add_removed(p, &ra, NULL, "destroy");
	plan_finish(p);
	assert_int_equal(plan_find(p, "B")->action, PLAN_FORGET);
	assert_int_equal(plan_find(p, "A")->action, PLAN_DELETE);

	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	o.parallelism = 4;
	o.stack = "t";
	o.event = on_ev;
	o.event_ud = &l;
	assert_int_equal(exec_run(a, p, NULL, NULL, s.st, NULL, &o, &res, &err),
			 0);
	assert_int_equal(res.forgotten, 1);
	assert_int_equal(res.deleted, 1);
	assert_int_equal(res.failed + res.skipped, 0);
	assert_int_equal(l.start, 2);
	assert_int_equal(l.done, 2);
	/* B referred to A: B leaves the state first */
	assert_string_equal(l.order, "BA");
	assert_int_equal(state_resource_get(s.st, "A", a, &r, &err), 0);
	assert_int_equal(state_resource_get(s.st, "B", a, &r, &err), 0);
	assert_int_equal(nopen(&s, a, NULL), 0);
	arena_free(a);
	sfx_close(&s);
}

/* A stop before the run: nothing starts, everything is reported skipped,
 * the run says it was stopped, and it returns (no hang). */
static void test_stop_before_start(void **state)
{
	struct sfx s;
	struct arena *a = arena_new();
	struct plan *p = plan_new(a);
	struct exec_opts o;
	struct exec_result res;
	struct err err = ERR_INIT;
	struct state_resource r;
	volatile sig_atomic_t stop = 1;
	struct plan_recorded ra = { .logical_id = "A", .type = VPC,
				    .physical_id = "vpc-a",
				    .deletion_policy = "Retain" };

	(void)state;
	sfx_open(&s);
	put_rec(&s, "A", "vpc-a");
	plan_add_removed(p, &ra, "Retain", "destroy");
	plan_finish(p);
	memset(&o, 0, sizeof(o));
	o.stack = "t";
	o.stop = &stop;
	assert_int_equal(exec_run(a, p, NULL, NULL, s.st, NULL, &o, &res, &err),
			 -1);
	assert_true(res.stopped);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(state_resource_get(s.st, "A", a, &r, &err), 1);
	arena_free(a);
	sfx_close(&s);
}

/* ---- dynamic references at apply (dynref.c) ---- */

static int stub_reads;

static int stub_dynref(void *ud, struct arena *a, const char *ref,
		       const char **out, struct err *err)
{
	(void)ud;
	stub_reads++;
	if (!strcmp(ref, "ssm:/gone"))
		return err_set(err, ERR_NOT_FOUND,
			       "ssm:GetParameter: ParameterNotFound: gone "
			       "(request id r-9)");
	*out = arena_sprintf(a, "VAL<%s>", ref);
	return 0;
}

static void test_dynref_resolve(void **state)
{
	struct arena *a = arena_new();
	struct dynref_scratch ds;
	struct err err = ERR_INIT;
	const struct value *out;
	struct value *props = value_new_map(a), *env = value_new_list(a);
	struct value *lit = value_new_string(a, "u:{{resolve:ssm:/a}}@{{resolve:ssm:/b}}");
	struct value *plain = value_new_string(a, "keep");

	(void)state;
	setenv("CAIRN_SETTLE_SECONDS", "0", 1); /* "not found" at once */
	lit->sensitive = lit->dynref = 1;
	value_list_push(a, env, plain);
	value_list_push(a, env, lit);
	value_map_set(a, props, "Env", env);
	value_map_set(a, props, "Name", value_new_string(a, "n"));

	/* nothing to resolve: the same tree, nothing read */
	stub_reads = 0;
	assert_int_equal(dynref_resolve(stub_dynref, NULL, NULL, NULL, plain, &ds, &out, &err), 0);
	assert_ptr_equal(out, plain);
	assert_int_equal(stub_reads, 0);
	dynref_release(&ds);

	assert_int_equal(dynref_resolve(stub_dynref, NULL, NULL, NULL, props, &ds, &out, &err), 0);
	assert_int_equal(stub_reads, 2);
	assert_string_equal(value_str(value_get_path(out, "Env[1]")),
			    "u:VAL<ssm:/a>@VAL<ssm:/b>");
	assert_true(value_get_path(out, "Env[1]")->sensitive);
	assert_false(value_get_path(out, "Env[1]")->dynref);
	/* untouched parts shared, the original left as it was */
	assert_ptr_equal(value_get_path(out, "Env[0]"), plain);
	assert_string_equal(lit->u.str.s, "u:{{resolve:ssm:/a}}@{{resolve:ssm:/b}}");
	/* a message quoting a value shows "(sensitive)" instead */
	err_set(&err, ERR_VALIDATION, "Value 'u:VAL<ssm:/a>@VAL<ssm:/b>' is bad; VAL<ssm:/a>!");
	dynref_scrub(&ds, &err);
	assert_null(strstr(err.msg, "VAL<"));
	assert_non_null(strstr(err.msg, "(sensitive)"));
	dynref_release(&ds);

	/* a read that fails names the property and the reference */
	err_clear(&err);
	lit = value_new_string(a, "{{resolve:ssm:/gone}}");
	lit->sensitive = lit->dynref = 1;
	value_list_push(a, env, lit);
	assert_int_equal(dynref_resolve(stub_dynref, NULL, NULL, NULL, props, &ds, &out, &err), -1);
	assert_string_equal(err.msg, "property Env[2]: {{resolve:ssm:/gone}}: "
				     "ssm:GetParameter: ParameterNotFound: gone "
				     "(request id r-9)");
	dynref_release(&ds);
	/* no reader at all: an error, never the literal sent */
	assert_int_equal(dynref_resolve(NULL, NULL, NULL, NULL, props, &ds, &out, &err), -1);
	dynref_release(&ds);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creates_follow_dependencies),
		cmocka_unit_test(test_dynref_resolve),
		cmocka_unit_test(test_deletes_after_dependents),
		cmocka_unit_test(test_create_before_delete),
		cmocka_unit_test(test_delete_before_create_with_update),
		cmocka_unit_test(test_delete_first_cascades),
		cmocka_unit_test(test_type_change_deletes_with_old_type),
		cmocka_unit_test(test_old_half_key_unique),
		cmocka_unit_test(test_forget_and_retain),
		cmocka_unit_test(test_cycle_reported),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_open_intents_reconciled),
		cmocka_unit_test(test_uncertain_token),
		cmocka_unit_test(test_run_without_aws),
		cmocka_unit_test(test_stop_before_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
