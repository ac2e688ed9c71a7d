/*
 * refresh: batched live reads of a state's resources (see
 * include/cairn/refresh.h for the rules of what counts as drift).
 *
 * Threads: the jobs (one read_many batch, or one read) run on a few worker
 * threads, each job in its own arena, because arenas are not thread-safe.
 * Only after every worker has been joined does the calling thread copy the
 * results into the caller's arena, diff them and (refresh_write) touch the
 * state, so the state handle never leaves the calling thread.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	bool batch; /* read_many */
	struct arena *arena;
	struct provider_result *outs; /* n */
	int *rcs;                     /* n: 0, or the err code of a read */
	struct err *errs;             /* n */
};

struct pool {
	struct aws_client *aws;
	const struct refresh_opts *o;
	const struct state_resource *recs;
	struct job *jobs;
	size_t njobs, next;
	pthread_mutex_t mu;
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

static void read_single(struct pool *pl, struct job *j, size_t k)
{
	const struct state_resource *r = &pl->recs[j->idx[k]];
	struct provider_ctx pc;

	job_ctx(pl, j, r->logical_id, &pc);
	pc.recorded = (const struct value *const *)&r->properties;
	err_clear(&j->errs[k]);
	memset(&j->outs[k], 0, sizeof(j->outs[k]));
	if (j->prov->read(&pc, r->physical_id, r->attributes, &j->outs[k],
			  &j->errs[k]) < 0)
		j->rcs[k] = j->errs[k].code ? (int)j->errs[k].code
					    : (int)ERR_INTERNAL;
	else
		j->rcs[k] = 0;
}

static void run_job(struct pool *pl, struct job *j)
{
	size_t k;

	if (j->batch) {
		const char **ids = arena_alloc(j->arena, j->n * sizeof(*ids));
		const struct value **rec =
			arena_alloc(j->arena, j->n * sizeof(*rec));
		struct provider_ctx pc;
		struct err e = ERR_INIT;
		for (k = 0; k < j->n; k++) {
			ids[k] = pl->recs[j->idx[k]].physical_id;
			rec[k] = pl->recs[j->idx[k]].properties;
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
		for (k = 0; k < j->n; k++) {
			j->rcs[k] = e.code ? (int)e.code : (int)ERR_INTERNAL;
			j->errs[k] = e;
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
		j = pl->next < pl->njobs ? &pl->jobs[pl->next++] : NULL;
		pthread_mutex_unlock(&pl->mu);
		if (!j)
			return NULL;
		run_job(pl, j);
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
	return pl->jobs[i].rcs[k] == (int)ERR_NOT_FOUND &&
	       settle_recent(pl->recs[pl->jobs[i].idx[k]].updated_at);
}

/* One resource of a job read again, alone. */
static void reread(struct pool *pl, struct job *j, size_t k)
{
	if (j->prov->read) {
		read_single(pl, j, k);
		return;
	} else {
		const char *id = pl->recs[j->idx[k]].physical_id;
		struct provider_ctx pc;
		job_ctx(pl, j, pl->recs[j->idx[k]].logical_id, &pc);
		err_clear(&j->errs[k]);
		memset(&j->outs[k], 0, sizeof(j->outs[k]));
		if (j->prov->read_many(&pc, 1, &id, &j->outs[k], &j->errs[k]) < 0)
			j->rcs[k] = j->errs[k].code ? (int)j->errs[k].code
						    : (int)ERR_INTERNAL;
		else
			j->rcs[k] = j->outs[k].physical_id ? 0 : (int)ERR_NOT_FOUND;
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
		if (s == r || !s->properties)
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

static void finish_item(struct arena *a, struct state *st,
			const struct state_resource *recs, size_t nrecs,
			const struct state_resource *r, int rc,
			const struct err *e, const struct provider_result *out,
			struct refresh_item *it)
{
	const struct schema_type *schema;
	struct value *obs, *rec = r->properties;
	const char *replaced;

	if (rc == ERR_NOT_FOUND) {
		it->status = REFRESH_GONE;
		return;
	}
	if (rc) {
		it->status = REFRESH_FAILED;
		it->err = *e;
		if (!it->err.msg[0])
			err_set(&it->err, ERR_INTERNAL, "read failed");
		if (!strstr(it->err.msg, r->logical_id))
			err_prefix(&it->err, "%s %s: ", r->type, r->logical_id);
		return;
	}
	schema = schema_find(r->type);
	if (!out->props) {
		/* the provider reports no properties: nothing to compare */
		obs = r->properties;
	} else {
		struct value *live = refresh_clean_observed(a, out->props);
		drop_claimed(a, r, recs, nrecs, live);
		obs = refresh_project(a, live, r->properties);
		if (obs == live && r->properties)
			obs = value_copy(a, live);
		unowned_items(a, r, live, &rec, obs);
	}
	refresh_diff(a, st, schema, rec, obs, &it->changes);
	replaced = replaced_value(a, r, out->attrs, &it->changes);
	it->status = it->changes.n ? REFRESH_DRIFTED : REFRESH_UNCHANGED;
	it->new_props = refresh_merge(a, schema, rec, obs, &it->changes);
	if (replaced) {
		/* a fingerprint of no value: the plan sets the template's */
		struct value *fp = value_new_string(
			a, "hmac-sha256:replaced-outside-cairn");
		fp->sensitive = 1;
		value_map_set(a, it->new_props, replaced, fp);
	}
	it->new_attrs = merge_attrs(a, r->attributes, out->attrs);
	it->new_physical_id = out->physical_id
				      ? arena_strdup(a, out->physical_id)
				      : r->physical_id;
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
	if (state_resource_list(st, a, &recs, &n, err) < 0)
		return -1;
	res->items = arena_alloc(a, (n ? n : 1) * sizeof(*res->items));
	res->n = n;
	memset(&pl, 0, sizeof(pl));
	pl.aws = aws;
	pl.o = o;
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
		j->arena = arena_new();
		j->outs = arena_alloc(j->arena, j->n * sizeof(*j->outs));
		j->rcs = xcalloc(j->n, sizeof(*j->rcs));
		j->errs = xcalloc(j->n, sizeof(*j->errs));
		if (j->batch)
			res->batches++;
		else
			res->singles += j->n;
	}
	free(done);

	/* account-wide listings shared by the reads (batchread.h): the
	 * stack's tags in a few tag:GetResources pages, listed while the
	 * reads run; IAM's authorization details on first use */
	tagging = batchread_begin(aws, o->stack);
	nthreads = o->parallelism > 0 ? (size_t)o->parallelism : 4;
	if (nthreads > pl.njobs)
		nthreads = pl.njobs;
	pthread_mutex_init(&pl.mu, NULL);
	threads = xcalloc(nthreads ? nthreads : 1, sizeof(*threads));
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, worker, &pl))
			break;
		started++;
	}
	if (!started) /* no thread could start: do it here */
		worker(&pl);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&pl.mu);
	reread_fresh(&pl);
	if (tagging)
		batchread_end();

	for (i = 0; i < pl.njobs; i++) {
		struct job *j = &pl.jobs[i];
		for (k = 0; k < j->n; k++)
			finish_item(a, st, recs, n, &recs[j->idx[k]], j->rcs[k],
				    &j->errs[k], &j->outs[k],
				    &res->items[j->idx[k]]);
		arena_free(j->arena);
		free(j->rcs);
		free(j->errs);
	}
	free(pl.jobs);
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
