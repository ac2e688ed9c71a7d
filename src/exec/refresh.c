/*
 * refresh: batched live reads of a state's resources (see
 * include/cairn/refresh.h for the rules of what counts as drift).
 *
 * Threads: the jobs (one read_many batch, or one read) run on a few worker
 * threads, each job in its own arena, because arenas are not thread-safe.
 * The calling thread takes each job as it ends, diffs its results, keeps
 * in the caller's arena only what the result needs (changes, and new
 * values where they differ from the record) and frees the job's arena,
 * which held the AWS responses: a refresh holds the responses of the jobs
 * in flight, not of every job (issue 12: 5,000 resources under 80 MB).
 * Jobs whose reads found something gone that changed recently are kept
 * until every worker has been joined and they have been read again. The
 * state handle never leaves the calling thread.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include "cairn/clock.h"
#include "cairn/batchread.h"
#include "cairn/log.h"
#include "cairn/provider.h"
#include "cairn/refresh.h"
#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "settle.h"

const char *refresh_status_name(enum refresh_status s)
{
	switch (s) {
	case REFRESH_UNCHANGED:
		return "unchanged";
	case REFRESH_DRIFTED:
		return "drifted";
	case REFRESH_GONE:
		return "gone";
	case REFRESH_SKIPPED:
		return "skipped";
	case REFRESH_FAILED:
		return "failed";
	}
	return "?";
}

/*
 * The most ids one Describe call takes, per type (the API references):
 * ECS DescribeServices takes 10, DescribeClusters 100; EC2's Describe*
 * take long id lists but AWS advises batches of at most 200, and
 * 100 keeps the request and the reply small; ECR DescribeRepositories
 * 100; CloudWatch Logs DescribeLogGroups logGroupIdentifiers 50;
 * Secrets Manager BatchGetSecretValue 20.
 */
size_t refresh_batch_max(const char *type)
{
	static const struct {
		const char *type;
		size_t max;
	} limits[] = {
		{ "AWS::ECS::Service", 10 },
		{ "AWS::Logs::LogGroup", 50 },
		{ "AWS::SecretsManager::Secret", 20 },
	};
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (!strcmp(limits[i].type, type))
			return limits[i].max;
	return 100;
}

/* ------------------------------------------------------------ cleaning */

static bool foreign_tag(const struct value *item)
{
	const char *k = value_str(value_map_get(item, "Key"));

	return k && (!strncmp(k, "cairn:", 6) || !strncmp(k, "aws:", 4));
}

struct value *refresh_clean_observed(struct arena *a,
				     const struct value *observed)
{
	struct value *v, *tags;
	size_t i;

	if (!observed)
		return NULL;
	v = value_copy(a, observed);
	tags = value_map_get(v, "Tags");
	if (tags && tags->kind == VALUE_LIST) {
		size_t k = 0;
		for (i = 0; i < tags->u.list.n; i++)
			if (!foreign_tag(tags->u.list.items[i]))
				tags->u.list.items[k++] = tags->u.list.items[i];
		tags->u.list.n = k;
	}
	return v;
}

/* ------------------------------------------------------------ projection */

/* Every key any of x and y has, at every depth, with the values of x
 * where both have one (a "shape": only its keys and kinds matter). The
 * elements of a list of maps merge into one element. */
static struct value *shape_union(struct arena *a, const struct value *x,
				 const struct value *y);

static struct value *list_shape(struct arena *a, const struct value *l)
{
	struct value *el = NULL;
	size_t i;

	for (i = 0; i < l->u.list.n; i++)
		if (l->u.list.items[i] && l->u.list.items[i]->kind == VALUE_MAP)
			el = el ? shape_union(a, el, l->u.list.items[i])
				: (struct value *)l->u.list.items[i];
	return el;
}

static struct value *shape_union(struct arena *a, const struct value *x,
				 const struct value *y)
{
	struct value *out;
	size_t i;

	if (!x || !y)
		return (struct value *)(x ? x : y);
	if (x->kind == VALUE_MAP && y->kind == VALUE_MAP) {
		out = value_new_map(a);
		for (i = 0; i < x->u.map.n; i++) {
			const char *k = x->u.map.items[i].key;
			value_map_set(a, out, k,
				      shape_union(a, x->u.map.items[i].val,
						  value_map_get(y, k)));
		}
		for (i = 0; i < y->u.map.n; i++)
			if (!value_map_get(x, y->u.map.items[i].key))
				value_map_set(a, out, y->u.map.items[i].key,
					      y->u.map.items[i].val);
		return out;
	}
	if (x->kind == VALUE_LIST && y->kind == VALUE_LIST) {
		struct value *ex = list_shape(a, x), *ey = list_shape(a, y);
		out = value_new_list(a);
		if (ex || ey)
			value_list_push(a, out, shape_union(a, ex, ey));
		return out;
	}
	return (struct value *)x;
}

/* A string holding a JSON object or array (a policy text), parsed. */
static struct value *json_text(struct arena *a, const struct value *v)
{
	struct err e = ERR_INIT;
	const char *s = value_str(v);
	struct value *j;

	while (s && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
		s++;
	if (!s || (*s != '{' && *s != '['))
		return NULL;
	j = value_from_json(a, s, strlen(s), 0, &e);
	return j && (j->kind == VALUE_MAP || j->kind == VALUE_LIST) ? j : NULL;
}

struct value *refresh_project(struct arena *a, const struct value *observed,
			      const struct value *shape)
{
	struct value *out, *el_shape;
	size_t i;

	if (!observed || !shape)
		return (struct value *)observed;
	if (observed->kind == VALUE_MAP && shape->kind == VALUE_MAP) {
		out = value_new_map(a);
		out->mark = observed->mark;
		for (i = 0; i < observed->u.map.n; i++) {
			const char *k = observed->u.map.items[i].key;
			const struct value *sv = value_map_get(shape, k);
			if (sv)
				value_map_set(a, out, k,
					      refresh_project(
						      a, observed->u.map.items[i].val,
						      sv));
		}
		return out;
	}
	if (observed->kind == VALUE_LIST && shape->kind == VALUE_LIST &&
	    (el_shape = list_shape(a, shape)) != NULL) {
		/* each map element shaped like the recorded elements taken
		 * together: AWS adds defaults such as FromPort -1 to a rule
		 * the template wrote without them */
		out = value_new_list(a);
		out->mark = observed->mark;
		for (i = 0; i < observed->u.list.n; i++) {
			struct value *el = observed->u.list.items[i];
			value_list_push(a, out,
					el && el->kind == VALUE_MAP
						? refresh_project(a, el, el_shape)
						: el);
		}
		return out;
	}
	/* JSON held in a string (LifecyclePolicyText, a policy document as
	 * text): AWS hands back its own spacing; equal documents are equal */
	if (observed->kind == VALUE_STRING && shape->kind == VALUE_STRING &&
	    !shape->sensitive && strcmp(value_str(observed), value_str(shape))) {
		struct value *jo = json_text(a, observed), *js = json_text(a, shape);
		if (jo && js && value_equal(jo, js))
			return (struct value *)shape;
	}
	return (struct value *)observed;
}

/* ---------------------------------------------------------------- diff */

/* "Tags[2].Value" / "A[\"b.c\"]" -> the schema's "Tags/2/Value" form. */
static void schema_path(const char *p, struct strbuf *out)
{
	strbuf_reset(out);
	while (*p) {
		if (*p == '.') {
			strbuf_addch(out, '/');
			p++;
		} else if (*p == '[') {
			p++;
			if (out->len)
				strbuf_addch(out, '/');
			if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1])
						p++;
					strbuf_addch(out, *p++);
				}
				if (*p == '"')
					p++;
			} else {
				while (*p && *p != ']')
					strbuf_addch(out, *p++);
			}
			if (*p == ']')
				p++;
		} else {
			strbuf_addch(out, *p++);
		}
	}
}

/* The top-level property a change path starts with, in a. */
static const char *top_key(struct arena *a, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	const char *slash, *k;

	schema_path(path, &sb);
	slash = strchr(sb.buf, '/');
	k = slash ? arena_strndup(a, sb.buf, (size_t)(slash - sb.buf))
		  : arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return k;
}

static bool secret_match(void *ud, const struct value *desired,
			 const char *fingerprint)
{
	struct state *st = ud;
	char *fp;
	bool same;

	if (!st)
		return false;
	fp = state_fingerprint(st, desired);
	same = fp && !strcmp(fp, fingerprint);
	free(fp);
	return same;
}

size_t refresh_diff(struct arena *a, struct state *st,
		    const struct schema_type *schema,
		    const struct value *recorded, const struct value *observed,
		    struct plan_changes *out)
{
	struct value *rec = value_new_map(a), *obs = value_new_map(a);
	struct plan_changes tmp;
	struct plan_diff_opts o;
	struct strbuf sp = STRBUF_INIT;
	size_t i, n = 0;

	if (recorded && recorded->kind == VALUE_MAP) {
		for (i = 0; i < recorded->u.map.n; i++) {
			const char *k = recorded->u.map.items[i].key;
			struct value *ov;
			if (schema && schema_write_only(schema, k))
				continue;
			value_map_set(a, rec, k, recorded->u.map.items[i].val);
			ov = value_map_get(observed, k);
			if (ov)
				value_map_set(a, obs, k, ov);
		}
	}
	memset(&tmp, 0, sizeof(tmp));
	memset(&o, 0, sizeof(o));
	o.schema = schema;
	o.secret_match = secret_match;
	o.secret_ud = st;
	plan_diff_props(a, obs, rec, &o, &tmp);
	for (i = 0; i < tmp.n; i++) {
		const struct plan_change *c = &tmp.items[i];
		/* a recorded value never known (a failed create) is no drift;
		 * nor is one set from a dynamic reference: its fingerprint is
		 * the template's text, and CloudFormation does no drift
		 * detection on dynamic references either */
		if (c->unknown || (c->before && value_has_unknown(c->before)) ||
		    (c->before && value_has_dynref(c->before)))
			continue;
		schema_path(c->path, &sp);
		if (schema && schema_write_only(schema, sp.buf))
			continue;
		if (out->n == out->cap) { /* in the arena, as plan's own */
			size_t cap = out->cap ? out->cap * 2 : 8;
			out->items = arena_realloc(a, out->items,
						   out->cap * sizeof(*c),
						   cap * sizeof(*c));
			out->cap = cap;
		}
		out->items[out->n++] = *c;
		n++;
	}
	strbuf_release(&sp);
	return n;
}

struct value *refresh_merge(struct arena *a, const struct schema_type *schema,
			    const struct value *recorded,
			    const struct value *observed,
			    const struct plan_changes *changes)
{
	struct value *out = value_new_map(a);
	size_t i, j;

	if (!recorded || recorded->kind != VALUE_MAP)
		return out;
	for (i = 0; i < recorded->u.map.n; i++) {
		const char *k = recorded->u.map.items[i].key;
		struct value *rv = recorded->u.map.items[i].val, *ov;
		bool moved = false;

		for (j = 0; changes && j < changes->n && !moved; j++)
			moved = !strcmp(top_key(a, changes->items[j].path), k);
		if (!moved || (schema && schema_write_only(schema, k))) {
			value_map_set(a, out, k, rv);
			continue;
		}
		ov = value_map_get(observed, k);
		if (!ov)
			continue; /* no longer set live */
		ov = value_copy(a, ov);
		/* part of it was a secret: the live value is one too, and is
		 * only ever stored as a fingerprint */
		if (value_has_sensitive(rv))
			ov->sensitive = 1;
		value_map_set(a, out, k, ov);
	}
	return out;
}

/* ------------------------------------------------------------- the pool */

struct job {
	const struct provider *prov;
	const char *type;
	size_t *idx; /* into the item array */
	size_t n;
	bool batch;    /* read_many */
	bool finished; /* its items are in the result; arena freed */
	/* made when the job runs, freed when it is finished: the responses,
	 * the providers' results and the diff's scratch */
	struct arena *arena;
	/* n: its records, with their properties and attributes decoded into
	 * the arena (the refresh holds them as JSON text meanwhile) */
	struct state_resource *rr;
	struct provider_result *outs; /* n */
	int *rcs;                     /* n: 0, or the err code of a read */
	struct err **errs; /* n: why a read failed, or NULL (in arena) */
};

struct pool {
	struct aws_client *aws;
	const struct refresh_opts *o;
	const struct state *st; /* for state_resource_decode only */
	const struct state_resource *recs;
	struct job *jobs;
	size_t njobs, next;
	/* jobs the workers have run, in the order they ended, for the
	 * calling thread to finish; it has taken the first `taken` */
	size_t *ended;
	size_t nended, taken;
	/* a worker starts no job while this many ended ones wait to be
	 * taken (the calling thread finishing slower than AWS answers, as
	 * against a local emulator): the responses held stay bounded */
	size_t backlog_max;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* a job ended */
	pthread_cond_t room; /* a job was taken */
};

/* A read waits for nothing: a provider that retries eventual-consistency
 * errors stops after this long (a gone resource must not stall a plan). */
#define READ_DEADLINE_SECONDS 60.0

static void job_ctx(struct pool *pl, struct job *j, const char *logical_id,
		    struct provider_ctx *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->aws = pl->aws;
	pc->arena = j->arena;
	pc->stack = pl->o->stack;
	pc->logical_id = logical_id;
	pc->type = j->type;
	pc->region = pl->o->region;
	pc->account = pl->o->account;
	pc->partition = pl->o->partition ? pl->o->partition : "aws";
	pc->deadline = mono_seconds() + READ_DEADLINE_SECONDS;
}

/* Item k of j failed with e (kept in the job's arena), or not (e NULL). */
static void set_failed(struct job *j, size_t k, const struct err *e)
{
	if (!e) {
		j->rcs[k] = 0;
		j->errs[k] = NULL;
		return;
	}
	j->rcs[k] = e->code ? (int)e->code : (int)ERR_INTERNAL;
	j->errs[k] = arena_alloc(j->arena, sizeof(struct err));
	*j->errs[k] = *e;
}

static void read_single(struct pool *pl, struct job *j, size_t k)
{
	const struct state_resource *r = &j->rr[k];
	struct provider_ctx pc;
	struct err e = ERR_INIT;

	job_ctx(pl, j, r->logical_id, &pc);
	pc.recorded = (const struct value *const *)&r->properties;
	memset(&j->outs[k], 0, sizeof(j->outs[k]));
	if (j->prov->read(&pc, r->physical_id, r->attributes, &j->outs[k],
			  &e) < 0)
		set_failed(j, k, &e);
	else
		set_failed(j, k, NULL);
}

static void run_job(struct pool *pl, struct job *j)
{
	size_t k;
	bool bad = false;

	j->arena = arena_new();
	j->rr = arena_alloc(j->arena, j->n * sizeof(*j->rr));
	j->outs = arena_alloc(j->arena, j->n * sizeof(*j->outs));
	j->rcs = arena_alloc(j->arena, j->n * sizeof(*j->rcs));
	j->errs = arena_alloc(j->arena, j->n * sizeof(*j->errs));
	for (k = 0; k < j->n; k++) {
		struct err e = ERR_INIT;
		j->rr[k] = pl->recs[j->idx[k]];
		if (state_resource_decode(pl->st, j->arena, &j->rr[k],
					  &j->rr[k].properties,
					  &j->rr[k].attributes, &e) < 0) {
			set_failed(j, k, &e); /* a damaged record */
			j->rr[k].physical_id = NULL;
			bad = true;
		}
	}
	if (bad) { /* the others one by one, where the type can */
		struct err e = ERR_INIT;
		err_set(&e, ERR_STATEDB, "not read: a record of its batch is "
					 "damaged");
		for (k = 0; k < j->n; k++) {
			if (!j->rr[k].physical_id)
				continue;
			if (j->prov->read)
				read_single(pl, j, k);
			else
				set_failed(j, k, &e);
		}
		return;
	}
	if (j->batch) {
		const char **ids = arena_alloc(j->arena, j->n * sizeof(*ids));
		const struct value **rec =
			arena_alloc(j->arena, j->n * sizeof(*rec));
		struct provider_ctx pc;
		struct err e = ERR_INIT;
		for (k = 0; k < j->n; k++) {
			ids[k] = j->rr[k].physical_id;
			rec[k] = j->rr[k].properties;
		}
		job_ctx(pl, j, arena_sprintf(j->arena, "(%zu resources)", j->n),
			&pc);
		pc.recorded = rec;
		memset(j->outs, 0, j->n * sizeof(*j->outs));
		if (j->prov->read_many(&pc, j->n, ids, j->outs, &e) == 0) {
			for (k = 0; k < j->n; k++)
				j->rcs[k] = j->outs[k].physical_id ? 0
						: (int)ERR_NOT_FOUND;
			return;
		}
		/* an API that fails the whole call for one missing id
		 * (EC2's InvalidXxxID.NotFound): read them one by one */
		if (e.code == ERR_NOT_FOUND && j->prov->read) {
			log_debug("refresh: %s batch: %s; reading one by one",
				  j->type, e.msg);
			for (k = 0; k < j->n; k++)
				read_single(pl, j, k);
			return;
		}
		/* one copy of the error for the whole batch */
		set_failed(j, 0, &e);
		for (k = 1; k < j->n; k++) {
			j->rcs[k] = j->rcs[0];
			j->errs[k] = j->errs[0];
		}
		return;
	}
	for (k = 0; k < j->n; k++)
		read_single(pl, j, k);
}

static void *worker(void *arg)
{
	struct pool *pl = arg;

	for (;;) {
		struct job *j;
		pthread_mutex_lock(&pl->mu);
		while (pl->next < pl->njobs &&
		       pl->nended - pl->taken >= pl->backlog_max)
			pthread_cond_wait(&pl->room, &pl->mu);
		j = pl->next < pl->njobs ? &pl->jobs[pl->next++] : NULL;
		pthread_mutex_unlock(&pl->mu);
		if (!j)
			return NULL;
		run_job(pl, j);
		pthread_mutex_lock(&pl->mu);
		pl->ended[pl->nended++] = (size_t)(j - pl->jobs);
		pthread_cond_signal(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
	}
}


/* ------------------------------------------------- eventual consistency */

/*
 * A resource recorded moments ago may not be visible yet: EC2 answers
 * InvalidXxxID.NotFound for a new id for a few seconds, DescribeServices
 * answers MISSING, DescribeLogGroups leaves a new group out (AWS's
 * eventual consistency). Read as gone, it would be planned again. So the
 * resources found gone whose record changed recently (settle_recent: the
 * last CAIRN_SETTLE_RECENT_SECONDS) are read again together, backing off,
 * for a bounded wait (settle_start: CAIRN_SETTLE_SECONDS, or
 * o->fresh_seconds when positive); then gone is gone. A resource deleted
 * outside cairn long after its last change costs nothing.
 */

/* import reads an id cairn never recorded: how long it may stay invisible */
#define IMPORT_FRESH_SECONDS 3.0

static bool gone_but_recent(const struct pool *pl, size_t i, size_t k)
{
	return !pl->jobs[i].finished && pl->jobs[i].rcs[k] == (int)ERR_NOT_FOUND &&
	       settle_recent(pl->recs[pl->jobs[i].idx[k]].updated_at);
}

static bool job_gone_but_recent(const struct pool *pl, size_t i)
{
	size_t k;

	for (k = 0; k < pl->jobs[i].n; k++)
		if (gone_but_recent(pl, i, k))
			return true;
	return false;
}

/* One resource of a job read again, alone. */
static void reread(struct pool *pl, struct job *j, size_t k)
{
	if (j->prov->read) {
		read_single(pl, j, k);
		return;
	} else {
		const char *id = j->rr[k].physical_id;
		struct provider_ctx pc;
		struct err e = ERR_INIT;
		job_ctx(pl, j, j->rr[k].logical_id, &pc);
		memset(&j->outs[k], 0, sizeof(j->outs[k]));
		if (j->prov->read_many(&pc, 1, &id, &j->outs[k], &e) < 0) {
			set_failed(j, k, &e);
		} else {
			set_failed(j, k, NULL);
			if (!j->outs[k].physical_id)
				j->rcs[k] = (int)ERR_NOT_FOUND;
		}
	}
}

static void reread_fresh(struct pool *pl)
{
	struct settle st;
	size_t i, k;

	if (pl->o->fresh_seconds < 0)
		return;
	settle_start(&st, NULL);
	if (pl->o->fresh_seconds > 0)
		st.deadline = mono_seconds() + pl->o->fresh_seconds;
	for (;;) {
		size_t pending = 0;
		for (i = 0; i < pl->njobs; i++)
			for (k = 0; k < pl->jobs[i].n; k++)
				pending += gone_but_recent(pl, i, k);
		if (!pending || !settle_again(&st))
			return;
		log_debug("refresh: %zu resource%s changed recently not "
			  "visible; read again (try %d)", pending,
			  pending == 1 ? "" : "s", st.tries);
		for (i = 0; i < pl->njobs; i++)
			for (k = 0; k < pl->jobs[i].n; k++)
				if (gone_but_recent(pl, i, k))
					reread(pl, &pl->jobs[i], k);
	}
}

/* ------------------------------------------------------------- results */

static struct value *merge_attrs(struct arena *a, const struct value *rec,
				 const struct value *obs)
{
	struct value *out = rec && rec->kind == VALUE_MAP ? value_copy(a, rec)
							  : value_new_map(a);
	size_t i;

	if (obs && obs->kind == VALUE_MAP)
		for (i = 0; i < obs->u.map.n; i++)
			value_map_set(a, out, obs->u.map.items[i].key,
				      value_copy(a, obs->u.map.items[i].val));
	return out;
}

/* ------------------------------------------------------------ ownership */

/* v (a string, or a list of strings) names id. */
static bool names_holder(const struct value *v, const char *id)
{
	size_t i;

	if (!v || !id)
		return false;
	if (v->kind == VALUE_STRING)
		return !strcmp(value_str(v), id);
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++) {
			const char *s = value_str(v->u.list.items[i]);
			if (s && !strcmp(s, id))
				return true;
		}
	return false;
}

/* The keys of the items the holder records itself (computed once per
 * property: a security group's rule keys take a normalisation each). */
struct own_keys {
	const char **k;
	const struct value **item; /* the recorded item of k[i] */
	size_t n;
};

static void own_keys_of(struct arena *a, const struct provider_relation *rel,
			const struct value *own, struct own_keys *out)
{
	size_t i, n = own && own->kind == VALUE_LIST ? own->u.list.n : 0;

	out->k = arena_alloc(a, (n ? n : 1) * sizeof(*out->k));
	out->item = arena_alloc(a, (n ? n : 1) * sizeof(*out->item));
	out->n = 0;
	for (i = 0; i < n; i++) {
		const char *x = rel->item_key(a, own->u.list.items[i]);
		if (x) {
			out->item[out->n] = own->u.list.items[i];
			out->k[out->n++] = x;
		}
	}
}

/* The recorded item with key k, or NULL. */
static const struct value *recorded_item(const struct own_keys *own,
					 const char *k)
{
	size_t i;

	for (i = 0; i < own->n; i++)
		if (!strcmp(own->k[i], k))
			return own->item[i];
	return NULL;
}

static bool recorded_has(const struct own_keys *own, const char *k)
{
	return recorded_item(own, k) != NULL;
}

/* x (live) is the recorded item rec written another way: the same in the
 * relation's canonical form. */
static bool same_canonical(struct arena *a, const struct provider_relation *rel,
			   const struct value *x, const struct value *rec)
{
	const struct value *cx, *cr;

	if (!rel->canonical || !rec)
		return false;
	cx = rel->canonical(a, x);
	cr = rel->canonical(a, rec);
	return cx && cr && value_equal(cx, cr);
}

/* Another resource of the stack declares the item with key k on r. */
static const struct state_resource *
claimed_by(struct arena *a, const struct provider_relation *rel,
	   const struct state_resource *r, const struct state_resource *recs,
	   size_t nrecs, const char *k)
{
	const struct provider_claim *c;
	size_t i;

	for (i = 0; i < nrecs; i++) {
		const struct state_resource *s = &recs[i];
		/* r may be a job's copy of its record: same logical id string */
		if (s->logical_id == r->logical_id || !s->properties)
			continue;
		for (c = rel->claims; c && c->type; c++) {
			const char *ok;
			if (strcmp(c->type, s->type) || !c->owned_key ||
			    !names_holder(value_map_get(s->properties,
							c->points_at),
					  r->physical_id))
				continue;
			ok = c->owned_key(a, s->physical_id, s->properties);
			if (ok && !strcmp(ok, k))
				return s;
		}
	}
	return NULL;
}

/*
 * obs (the cleaned live read of r, modified in place) with each
 * relationship property reduced to what r answers for: the items r records
 * itself, and the items nobody declares (drift); without those another
 * resource of the stack declares (a claim) and those AWS put there itself.
 * A list left empty is dropped when r records none, and empty when r
 * records one (an egress list emptied outside is not AWS's default).
 */
static void drop_claimed(struct arena *a, const struct state_resource *r,
			 const struct state_resource *recs, size_t nrecs,
			 struct value *obs)
{
	const struct provider_relation *rels;
	size_t nrel = 0, i, k;

	rels = provider_relations(r->type, &nrel);
	for (i = 0; i < nrel; i++) {
		const struct provider_relation *rel = &rels[i];
		struct value *live = value_map_get(obs, rel->property), *keep;
		const struct value *own = value_map_get(r->properties,
							rel->property);
		struct own_keys ok;
		if (!live && own && own->kind == VALUE_LIST) {
			/* none live: an empty list, not an absent property, so
			 * the record says "none" rather than "AWS's default" */
			value_map_set(a, obs, rel->property, value_new_list(a));
			continue;
		}
		if (!live || live->kind != VALUE_LIST)
			continue;
		keep = value_new_list(a);
		own_keys_of(a, rel, own, &ok);
		for (k = 0; k < live->u.list.n; k++) {
			struct value *x = live->u.list.items[k];
			const char *key = rel->item_key(a, x);
			if (key && same_canonical(a, rel, x,
						  recorded_item(&ok, key))) {
				/* the recorded item, as the template wrote it
				 * (protocol 6 for "tcp", ports on -1) */
				value_list_push(a, keep, (struct value *)
						recorded_item(&ok, key));
				continue;
			}
			if (key && !recorded_has(&ok, key)) {
				const struct state_resource *s;
				if (rel->aws_default &&
				    rel->aws_default(r->properties, x))
					continue;
				s = claimed_by(a, rel, r, recs, nrecs, key);
				if (s) {
					log_debug("refresh: %s %s[%s] belongs to "
						  "%s", r->logical_id,
						  rel->property, key,
						  s->logical_id);
					continue;
				}
			}
			value_list_push(a, keep, x);
		}
		if (keep->u.list.n || own)
			value_map_set(a, obs, rel->property, keep);
		else
			value_map_del(obs, rel->property);
	}
}

/*
 * The relationship properties r does not record but AWS has items in that
 * nobody declares: compared as if r recorded an empty list (*rec becomes a
 * copy of the record with those lists), and kept in the projected live
 * view proj (refresh_project dropped them, r recording none).
 */
static void unowned_items(struct arena *a, const struct state_resource *r,
			  const struct value *obs, struct value **rec,
			  struct value *proj)
{
	const struct provider_relation *rels;
	size_t nrel = 0, i;

	rels = provider_relations(r->type, &nrel);
	for (i = 0; i < nrel; i++) {
		const char *prop = rels[i].property;
		struct value *lv = value_map_get(obs, prop);
		const struct value *own = value_map_get(r->properties, prop);
		struct value *pl = value_map_get(proj, prop);
		size_t k;
		if (own && pl && lv && pl->kind == VALUE_LIST &&
		    lv->kind == VALUE_LIST && pl->u.list.n == lv->u.list.n) {
			/* an item r does not record is shown whole, not cut
			 * to the shape of r's own items (a rule's ports) */
			struct own_keys ok;
			own_keys_of(a, &rels[i], own, &ok);
			for (k = 0; k < lv->u.list.n; k++) {
				const char *key = rels[i].item_key(
					a, lv->u.list.items[k]);
				if (key && !recorded_has(&ok, key))
					pl->u.list.items[k] = lv->u.list.items[k];
			}
		}
		if (!lv || own || !proj || proj->kind != VALUE_MAP)
			continue;
		if (*rec == r->properties) {
			struct value *c = value_new_map(a);
			size_t j;
			for (j = 0; r->properties &&
				    r->properties->kind == VALUE_MAP &&
				    j < r->properties->u.map.n; j++)
				value_map_set(a, c, r->properties->u.map.items[j].key,
					      r->properties->u.map.items[j].val);
			*rec = c;
		}
		value_map_set(a, *rec, prop, value_new_list(a));
		value_map_set(a, proj, prop, lv);
	}
}

/* ------------------------------------------------------------- versions */

static void add_change(struct arena *a, struct plan_changes *out,
		       const struct plan_change *c)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		out->items = arena_realloc(a, out->items,
					   out->cap * sizeof(*c),
					   cap * sizeof(*c));
		out->cap = cap;
	}
	out->items[out->n++] = *c;
}

/*
 * A write-only value replaced outside cairn (a secret's value): its
 * version moved. Reported as a change of the property, the versions
 * standing for the values (which are never read); the record of the
 * property becomes a fingerprint no value has, so the plan puts the
 * template's value back. Returns the property, or NULL.
 */
static const char *replaced_value(struct arena *a,
				  const struct state_resource *r,
				  const struct value *live_attrs,
				  struct plan_changes *out)
{
	const struct provider_versioned *ver = provider_versioned(r->type);
	const char *was, *now;
	size_t i;

	if (!ver)
		return NULL;
	was = value_str(value_map_get(r->attributes, ver->attr));
	now = value_str(value_map_get(live_attrs, ver->attr));
	if (!was || !now || !strcmp(was, now))
		return NULL;
	for (i = 0; ver->properties[i]; i++) {
		struct plan_change c;
		if (!value_map_get(r->properties, ver->properties[i]))
			continue;
		memset(&c, 0, sizeof(c));
		c.kind = PLAN_CHANGE_UPDATE;
		c.path = ver->properties[i];
		c.before = value_new_string(
			a, arena_sprintf(a, "(value of version %s)", was));
		c.after = value_new_string(
			a, arena_sprintf(a, "(replaced outside cairn: version %s)",
					 now));
		add_change(a, out, &c);
		return ver->properties[i];
	}
	return NULL;
}

/* v as the result keeps it in a: NULL when it equals the record (a
 * no-change refresh copies nothing; refresh_read points it at the record
 * once that is decoded into a), else a copy. */
static struct value *keep_value(struct arena *a, const struct value *v,
				struct value *recorded)
{
	if (recorded && value_equal(v, recorded))
		return NULL;
	return value_copy(a, v);
}

/*
 * The result of one read: the diff is made in tmp (the job's arena, freed
 * next), and only what the item keeps is copied into a.
 */
static void finish_item(struct arena *a, struct arena *tmp, struct state *st,
			const struct state_resource *recs, size_t nrecs,
			const struct state_resource *r, int rc,
			const struct err *e, const struct provider_result *out,
			struct refresh_item *it)
{
	const struct schema_type *schema;
	struct value *obs, *rec = r->properties, *props;
	struct plan_changes ch;
	const char *replaced;
	size_t i;

	if (rc == ERR_NOT_FOUND) {
		it->status = REFRESH_GONE;
		return;
	}
	if (rc) {
		it->status = REFRESH_FAILED;
		it->err = arena_alloc(a, sizeof(*it->err));
		if (e)
			*it->err = *e;
		else
			err_clear(it->err);
		if (!it->err->msg[0])
			err_set(it->err, ERR_INTERNAL, "read failed");
		if (!strstr(it->err->msg, r->logical_id))
			err_prefix(it->err, "%s %s: ", r->type, r->logical_id);
		return;
	}
	schema = schema_find(r->type);
	if (!out->props) {
		/* the provider reports no properties: nothing to compare */
		obs = r->properties;
	} else {
		struct value *live = refresh_clean_observed(tmp, out->props);
		drop_claimed(tmp, r, recs, nrecs, live);
		obs = refresh_project(tmp, live, r->properties);
		if (obs == live && r->properties)
			obs = value_copy(tmp, live);
		unowned_items(tmp, r, live, &rec, obs);
	}
	memset(&ch, 0, sizeof(ch));
	refresh_diff(tmp, st, schema, rec, obs, &ch);
	replaced = replaced_value(tmp, r, out->attrs, &ch);
	it->status = ch.n ? REFRESH_DRIFTED : REFRESH_UNCHANGED;
	props = refresh_merge(tmp, schema, rec, obs, &ch);
	if (replaced) {
		/* a fingerprint of no value: the plan sets the template's */
		struct value *fp = value_new_string(
			tmp, "hmac-sha256:replaced-outside-cairn");
		fp->sensitive = 1;
		value_map_set(tmp, props, replaced, fp);
	}
	it->new_props = keep_value(a, props, r->properties);
	it->new_attrs = keep_value(a, merge_attrs(tmp, r->attributes, out->attrs),
				   r->attributes);
	it->new_physical_id = out->physical_id &&
					      (!r->physical_id ||
					       strcmp(out->physical_id,
						      r->physical_id))
				      ? arena_strdup(a, out->physical_id)
				      : r->physical_id;
	if (!ch.n)
		return;
	it->changes.items = arena_alloc(a, ch.n * sizeof(*ch.items));
	it->changes.n = it->changes.cap = ch.n;
	for (i = 0; i < ch.n; i++) {
		struct plan_change *c = &it->changes.items[i];
		*c = ch.items[i];
		c->path = arena_strdup(a, ch.items[i].path);
		c->before = value_copy(a, ch.items[i].before);
		c->after = value_copy(a, ch.items[i].after);
	}
}

/* Every item of j into res; j's arena is freed. */
static void finish_job(struct arena *a, struct state *st, struct pool *pl,
		       struct job *j, size_t nrecs, struct refresh_result *res)
{
	size_t k;

	for (k = 0; k < j->n; k++)
		finish_item(a, j->arena, st, pl->recs, nrecs, &j->rr[k],
			    j->rcs[k], j->errs[k], &j->outs[k],
			    &res->items[j->idx[k]]);
	arena_free(j->arena);
	j->arena = NULL;
	j->rr = NULL;
	j->outs = NULL;
	j->rcs = NULL;
	j->errs = NULL;
	j->finished = true;
}

/* ------------------------------------------------------------ schedule */

/*
 * The records of the types that claim items of another resource
 * (provider_relations: a SecurityGroupIngress claims a rule of its group)
 * decoded now: any job's diff may look at them (drop_claimed).
 */
static int decode_claimants(struct arena *a, struct state *st,
			    struct state_resource *recs, size_t n,
			    struct err *err)
{
	const char **claimant = NULL;
	size_t nc = 0, cap = 0, i, k, r, c;

	for (i = 0; i < n; i++) {
		const struct provider_relation *rels;
		size_t nrel = 0;
		if (i && !strcmp(recs[i].type, recs[i - 1].type))
			continue;
		rels = provider_relations(recs[i].type, &nrel);
		for (r = 0; r < nrel; r++)
			for (c = 0; rels[r].claims && rels[r].claims[c].type; c++) {
				for (k = 0; k < nc && strcmp(claimant[k],
							     rels[r].claims[c].type);
				     k++)
					;
				if (k < nc)
					continue;
				if (nc == cap) {
					cap = cap ? cap * 2 : 8;
					claimant = xrealloc(claimant,
							    cap * sizeof(*claimant));
				}
				claimant[nc++] = rels[r].claims[c].type;
			}
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < nc && strcmp(claimant[k], recs[i].type); k++)
			;
		if (k == nc)
			continue;
		if (state_resource_decode(st, a, &recs[i], &recs[i].properties,
					  &recs[i].attributes, err) < 0) {
			free(claimant);
			return -1;
		}
		recs[i].properties_json = recs[i].attributes_json = NULL;
	}
	free(claimant);
	return 0;
}

struct slot {
	double key;
	size_t at;
};

static int slot_cmp(const void *x, const void *y)
{
	const struct slot *p = x, *q = y;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return p->at < q->at ? -1 : p->at > q->at;
}

/*
 * The jobs in an order that spreads each type evenly over the run (the
 * k-th of a type's m jobs at (k + 1/2) / m), rather than type after type:
 * the types paced by a client bucket (Logs 10 calls/s) are read at their
 * rate from the start while the others fill the workers, and the reads
 * that wait for the tag listing (log groups, repositories) never hold
 * every worker at once.
 */
static void spread_jobs(struct job *jobs, size_t n)
{
	struct slot *sl;
	struct job *tmp;
	const char **types;
	size_t *count, *seen, *ti, ntypes = 0, i, k;

	if (n < 3)
		return;
	sl = xcalloc(n, sizeof(*sl));
	tmp = xcalloc(n, sizeof(*tmp));
	types = xcalloc(n, sizeof(*types));
	count = xcalloc(n, sizeof(*count));
	seen = xcalloc(n, sizeof(*seen));
	ti = xcalloc(n, sizeof(*ti));
	for (i = 0; i < n; i++) { /* a few dozen types at most */
		for (k = 0; k < ntypes && strcmp(types[k], jobs[i].type); k++)
			;
		if (k == ntypes)
			types[ntypes++] = jobs[i].type;
		ti[i] = k;
		count[k]++;
	}
	for (i = 0; i < n; i++) {
		sl[i].key = ((double)seen[ti[i]]++ + 0.5) / (double)count[ti[i]];
		sl[i].at = i;
	}
	free(types);
	free(count);
	free(seen);
	free(ti);
	qsort(sl, n, sizeof(*sl), slot_cmp);
	for (i = 0; i < n; i++)
		tmp[i] = jobs[sl[i].at];
	memcpy(jobs, tmp, n * sizeof(*jobs));
	free(tmp);
	free(sl);
}

int refresh_read(struct arena *a, struct state *st, struct aws_client *aws,
		 const struct refresh_opts *o, struct refresh_result *res,
		 struct err *err)
{
	struct state_resource *recs;
	struct pool pl;
	pthread_t *threads;
	size_t n, i, k, nthreads, started = 0;
	bool *done, tagging;
	double t0 = mono_seconds();

	memset(res, 0, sizeof(*res));
	/* properties and attributes stay JSON text until a job reads them
	 * (decoded in its arena, freed with it) or the end (decoded here) */
	if (state_resource_list_raw(st, a, &recs, &n, err) < 0 ||
	    decode_claimants(a, st, recs, n, err) < 0)
		return -1;
	res->items = arena_alloc(a, (n ? n : 1) * sizeof(*res->items));
	res->n = n;
	memset(&pl, 0, sizeof(pl));
	pl.aws = aws;
	pl.o = o;
	pl.st = st;
	pl.recs = recs;
	pl.jobs = xcalloc(n ? n : 1, sizeof(*pl.jobs));
	done = xcalloc(n ? n : 1, sizeof(*done));

	for (i = 0; i < n; i++) {
		struct refresh_item *it = &res->items[i];
		const struct provider *prov;
		memset(it, 0, sizeof(*it));
		it->logical_id = recs[i].logical_id;
		it->type = recs[i].type;
		it->physical_id = recs[i].physical_id;
		it->rec = &recs[i];
		prov = provider_find(recs[i].type);
		if (!recs[i].physical_id || !*recs[i].physical_id) {
			it->status = REFRESH_SKIPPED;
			it->reason = "no physical id recorded";
			done[i] = true;
		} else if (!prov || (!prov->read && !prov->read_many)) {
			it->status = REFRESH_SKIPPED;
			it->reason = "no provider reads this type";
			done[i] = true;
		} else if (recs[i].status == STATE_CREATING) {
			it->status = REFRESH_SKIPPED;
			it->reason = "its create was never confirmed";
			done[i] = true;
		}
	}
	/* group by type: read_many types in batches, the rest one by one */
	for (i = 0; i < n; i++) {
		const struct provider *prov;
		size_t max;
		struct job *j;
		if (done[i])
			continue;
		prov = provider_find(recs[i].type);
		max = o->batch_max ? o->batch_max : refresh_batch_max(recs[i].type);
		j = &pl.jobs[pl.njobs++];
		j->prov = prov;
		j->type = recs[i].type;
		j->batch = prov->read_many != NULL;
		j->idx = arena_alloc(a, (j->batch ? max : 1) * sizeof(size_t));
		j->idx[j->n++] = i;
		done[i] = true;
		for (k = i + 1; j->batch && k < n && j->n < max; k++)
			if (!done[k] && !strcmp(recs[k].type, j->type)) {
				j->idx[j->n++] = k;
				done[k] = true;
			}
		if (j->batch && j->n == 1 && prov->read)
			j->batch = false; /* one id: a plain read is enough */
		if (j->batch)
			res->batches++;
		else
			res->singles += j->n;
	}
	free(done);
	spread_jobs(pl.jobs, pl.njobs);

	/* account-wide listings shared by the reads (batchread.h): the
	 * stack's tags in a few tag:GetResources pages, listed while the
	 * reads run; IAM's authorization details on first use */
	{
		const char **types = xcalloc(n ? n : 1, sizeof(*types));
		size_t nt = 0;
		for (i = 0; i < pl.njobs; i++)
			for (k = 0; k < pl.jobs[i].n; k++)
				types[nt++] = pl.jobs[i].type;
		tagging = batchread_begin(aws, o->stack, types, nt);
		free(types);
	}
	/* 16 by default: the reads wait on AWS, and the log group and
	 * repository reads wait for the tag listing besides (25 pages one
	 * after another at 5,000 resources): with 8, they held most workers
	 * while the other types' reads queued (5,000 mixed at 50 ms a call:
	 * 3.6 s with 8, 2.9 s with 16; bench/refresh_scale.py) */
	nthreads = o->parallelism > 0 ? (size_t)o->parallelism : 16;
	if (nthreads > pl.njobs)
		nthreads = pl.njobs;
	pl.ended = xcalloc(pl.njobs ? pl.njobs : 1, sizeof(*pl.ended));
	pl.backlog_max = nthreads < 8 ? (nthreads ? nthreads : 1) : 8;
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	pthread_cond_init(&pl.room, NULL);
	threads = xcalloc(nthreads ? nthreads : 1, sizeof(*threads));
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, worker, &pl))
			break;
		started++;
	}
	if (!started) { /* no thread could start: do it here */
		pl.backlog_max = (size_t)-1;
		worker(&pl);
	}
	/* finish each job as it ends, while the others run; one whose read
	 * found something recent gone waits for the reads again below */
	for (k = 0; k < pl.njobs; k++) {
		size_t ji;
		pthread_mutex_lock(&pl.mu);
		while (k >= pl.nended)
			pthread_cond_wait(&pl.cv, &pl.mu);
		ji = pl.ended[k];
		pl.taken = k + 1;
		pthread_cond_broadcast(&pl.room);
		pthread_mutex_unlock(&pl.mu);
		if (o->fresh_seconds < 0 || !job_gone_but_recent(&pl, ji))
			finish_job(a, st, &pl, &pl.jobs[ji], n, res);
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_cond_destroy(&pl.room);
	pthread_cond_destroy(&pl.cv);
	pthread_mutex_destroy(&pl.mu);
	free(pl.ended);
	reread_fresh(&pl);
	if (tagging)
		batchread_end();
	for (i = 0; i < pl.njobs; i++)
		if (!pl.jobs[i].finished)
			finish_job(a, st, &pl, &pl.jobs[i], n, res);
	free(pl.jobs);
#ifdef __GLIBC__
	/* the workers' responses were freed into their threads' malloc
	 * arenas, which the calling thread does not allocate from: hand
	 * their free pages back before the records are decoded below */
	malloc_trim(0);
#endif
	/* every record whole for the caller, now that the responses are
	 * freed; a value equal to the record is the record's */
	for (i = 0; i < n; i++) {
		struct refresh_item *it = &res->items[i];
		if (state_resource_decode(st, a, &recs[i], &recs[i].properties,
					  &recs[i].attributes, err) < 0)
			return -1;
		recs[i].properties_json = recs[i].attributes_json = NULL;
		if (it->status != REFRESH_UNCHANGED &&
		    it->status != REFRESH_DRIFTED)
			continue;
		if (!it->new_props)
			it->new_props = recs[i].properties;
		if (!it->new_attrs)
			it->new_attrs = recs[i].attributes;
	}
	for (i = 0; i < n; i++) {
		switch (res->items[i].status) {
		case REFRESH_UNCHANGED:
			res->unchanged++;
			break;
		case REFRESH_DRIFTED:
			res->drifted++;
			break;
		case REFRESH_GONE:
			res->gone++;
			break;
		case REFRESH_SKIPPED:
			res->skipped++;
			break;
		case REFRESH_FAILED:
			res->failed++;
			break;
		}
	}
	res->seconds = mono_seconds() - t0;
	log_debug("refresh: %zu resources in %zu batch and %zu single reads "
		  "(%.2fs)", n, res->batches, res->singles, res->seconds);
	return 0;
}

/* ------------------------------------------------------------- writing */

/* A secret read back from the state is a sensitive string holding its
 * fingerprint; written as such it would be fingerprinted again. Written
 * as the {"$secret": fp} form the state stores, it reads back the same. */
static struct value *keep_fingerprints(struct arena *a, struct value *v)
{
	size_t i;

	if (!v)
		return NULL;
	if (state_value_is_secret(v)) {
		struct value *m = value_new_map(a);
		value_map_set(a, m, "$secret", value_new_string(a, value_str(v)));
		if (v->dynref)
			value_map_set(a, m, "$dynref", value_new_bool(a, true));
		return m;
	}
	if (v->sensitive)
		return v; /* a live value: fingerprinted as a whole */
	if (v->kind == VALUE_LIST) {
		struct value *l = value_new_list(a);
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(a, l,
					keep_fingerprints(a, v->u.list.items[i]));
		return l;
	}
	if (v->kind == VALUE_MAP) {
		struct value *m = value_new_map(a);
		for (i = 0; i < v->u.map.n; i++)
			value_map_set(a, m, v->u.map.items[i].key,
				      keep_fingerprints(a, v->u.map.items[i].val));
		return m;
	}
	return v;
}

static bool same_str(const char *x, const char *y)
{
	return (!x && !y) || (x && y && !strcmp(x, y));
}

int refresh_write(struct state *st, const struct refresh_result *res,
		  struct err *err)
{
	struct arena *a = arena_new();
	size_t i;
	int changed = 0;

	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		struct state_resource r;

		if (it->status == REFRESH_GONE) {
			const char *msg = arena_sprintf(
				a, "gone: %s %s no longer exists", it->type,
				it->physical_id ? it->physical_id : "");
			if (state_resource_delete(st, it->logical_id, err) < 0 &&
			    err->code != ERR_NOT_FOUND)
				goto fail;
			err_clear(err);
			if (state_journal_event(st, it->logical_id, "refresh",
						msg, err) < 0)
				goto fail;
			changed++;
			continue;
		}
		if (it->status != REFRESH_UNCHANGED &&
		    it->status != REFRESH_DRIFTED)
			continue;
		if (value_equal(it->new_props, it->rec->properties) &&
		    value_equal(it->new_attrs, it->rec->attributes) &&
		    same_str(it->new_physical_id, it->rec->physical_id))
			continue;
		r = *it->rec;
		r.physical_id = it->new_physical_id;
		r.properties = keep_fingerprints(a, it->new_props);
		r.attributes = keep_fingerprints(a, it->new_attrs);
		if (state_resource_put(st, &r, err) < 0)
			goto fail;
		if (it->status == REFRESH_DRIFTED &&
		    state_journal_event(st, it->logical_id, "refresh",
					arena_sprintf(a, "drifted: %zu "
						      "propert%s updated from "
						      "AWS",
						      it->changes.n,
						      it->changes.n == 1 ? "y"
									 : "ies"),
					err) < 0)
			goto fail;
		changed++;
	}
	arena_free(a);
	return changed;
fail:
	err_prefix(err, "recording the refresh: ");
	arena_free(a);
	return -1;
}

/* ------------------------------------------------------------ snapshot */

struct state *refresh_snapshot(struct state *st, char **path_out,
			       struct err *err)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct state *snap;
	int fd, rc;

	*path_out = NULL;
	strbuf_addf(&path, "%s/cairn-snapshot-XXXXXX.db",
		    tmp && *tmp ? tmp : "/tmp");
	fd = mkstemps(path.buf, 3); /* 0600, empty: VACUUM INTO accepts it */
	if (fd < 0) {
		err_set(err, ERR_IO, "cannot create a temporary file in '%s'",
			tmp && *tmp ? tmp : "/tmp");
		strbuf_release(&path);
		return NULL;
	}
	close(fd);
	/* VACUUM INTO copies one read transaction's view: consistent even
	 * if another process writes meanwhile (plan --lock=false). SQLite
	 * is used directly here because the state API has no copy yet; a
	 * state_snapshot() in src/state would be its proper home. */
	rc = sqlite3_open_v2(state_path(st), &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 1, path.buf, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc != SQLITE_OK) {
		err_set(err, ERR_STATEDB, "cannot copy state '%s' for the plan: %s",
			state_path(st), db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_finalize(s);
		sqlite3_close(db);
		refresh_snapshot_remove(strbuf_detach(&path, NULL));
		return NULL;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	snap = state_open(path.buf, STATE_OPEN_SYNC_NORMAL, err);
	if (!snap) {
		refresh_snapshot_remove(strbuf_detach(&path, NULL));
		return NULL;
	}
	*path_out = strbuf_detach(&path, NULL);
	return snap;
}

void refresh_snapshot_remove(char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (!path)
		return;
	unlink(path);
	strbuf_addf(&sb, "%s-wal", path);
	unlink(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s-shm", path);
	unlink(sb.buf);
	strbuf_release(&sb);
	free(path);
}

/* ---------------------------------------------------------------- one */

int refresh_read_one(struct arena *a, struct aws_client *aws,
		     const struct refresh_opts *o, const char *type,
		     const char *logical_id, const char *physical_id,
		     const char **physical_out, struct value **props_out,
		     struct value **attrs_out, struct err *err)
{
	const struct provider *prov = provider_find(type);
	struct provider_result out;
	struct provider_ctx pc;
	struct arena *ja;
	struct timespec ts;
	double t0 = mono_seconds(), delay = 0.1;
	int rc;

	if (!prov || (!prov->read && !prov->read_many))
		return err_set(err, ERR_UNSUPPORTED,
			       "cairn cannot read %s resources yet", type);
	ja = arena_new();
	memset(&pc, 0, sizeof(pc));
	pc.aws = aws;
	pc.arena = ja;
	pc.stack = o->stack;
	pc.logical_id = logical_id;
	pc.type = type;
	pc.region = o->region;
	pc.account = o->account;
	pc.partition = o->partition ? o->partition : "aws";
	pc.deadline = mono_seconds() + READ_DEADLINE_SECONDS;
	for (;;) {
		memset(&out, 0, sizeof(out));
		if (prov->read) {
			rc = prov->read(&pc, physical_id, NULL, &out, err);
		} else {
			rc = prov->read_many(&pc, 1, &physical_id, &out, err);
			if (rc == 0 && !out.physical_id)
				rc = err_set(err, ERR_NOT_FOUND,
					     "%s \"%s\" does not exist", type,
					     physical_id);
		}
		/* made moments ago by another tool, maybe not visible yet
		 * (eventual consistency): a few more reads before "no such" */
		if (rc == 0 || err->code != ERR_NOT_FOUND || o->fresh_seconds < 0 ||
		    mono_seconds() + delay - t0 > (o->fresh_seconds > 0 ? o->fresh_seconds
								 : IMPORT_FRESH_SECONDS))
			break;
		ts.tv_sec = (time_t)delay;
		ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		delay = delay * 2 > 1.0 ? 1.0 : delay * 2;
		err_clear(err);
	}
	if (rc == 0) {
		*physical_out = arena_strdup(a, out.physical_id ? out.physical_id
								: physical_id);
		*props_out = refresh_clean_observed(a, out.props);
		if (!*props_out)
			*props_out = value_new_map(a);
		*attrs_out = out.attrs ? value_copy(a, out.attrs)
				       : value_new_map(a);
	}
	arena_free(ja);
	return rc < 0 ? -1 : 0;
}
