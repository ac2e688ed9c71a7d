/*
 * tagging: a stack's tags in a few tag:GetResources pages (see
 * include/cairn/tagging.h).
 *
 * AWS (GetResources, Resource Groups Tagging API reference): TagFilters
 * {Key, Values} select resources carrying that tag; ResourcesPerPage is at
 * most 100; PaginationToken is empty on the last page, and a page may be
 * empty while the token is not, so the loop follows the token, not the
 * page size.
 *
 * Memory: each page is answered into its own arena, freed once its ARNs
 * and tags are copied out; the listing keeps only those.
 *
 * Threads: each listing runs on its own thread into its own arena. Only
 * the types the state records are listed; when the stack has more than
 * two pages of them, log groups and repositories are listed separately,
 * side by side (each listing's pages follow one another: every page needs
 * the previous one's token): at 5,000 resources the longest listing is 20
 * pages instead of 25, for one call more. Lookups from the refresh's
 * workers wait on a condition variable until every listing is done, then
 * search the sorted entries under the mutex (they mark what they asked
 * for, for tagging_unknown()).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/tagging.h"
#include "cairn/xalloc.h"

struct entry {
	const char *arn;
	const struct value *tags;
	bool seen;
};

/* the types whose reads ask (the others' Describe calls carry their
 * tags) */
static const char *const LISTED[] = { "logs:log-group", "ecr:repository" };
#define NLISTS (sizeof(LISTED) / sizeof(LISTED[0]))
/* more than this many resources to list: one listing per type */
#define SPLIT_ABOVE 200

static pthread_mutex_t tg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tg_cv = PTHREAD_COND_INITIALIZER;

static struct {
	pthread_t thread[NLISTS];
	/* listing i asks for the types LISTED[j] with want[i][j] */
	bool want[NLISTS][NLISTS];
	size_t nlists;
	size_t started; /* threads */
	size_t pending; /* listings not finished */
	bool running;   /* begun and not ended */
	bool done;      /* every listing finished (ok or not) */
	bool ok;        /* and none failed */
	struct aws_client *aws;
	const char *stack;
	struct arena *arena[NLISTS]; /* each listing's entries */
	struct entry *e;
	size_t n, cap, calls;
} tg;

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->arn,
		      ((const struct entry *)y)->arn);
}

#define MAX_PAGES 1000

/* This listing has ended (ok or not), with tg_mu held: the last one sorts
 * the entries and wakes the lookups. */
static void listing_ended(bool ok)
{
	if (!ok)
		tg.ok = false;
	if (--tg.pending)
		return;
	if (tg.ok && tg.n)
		qsort(tg.e, tg.n, sizeof(*tg.e), entry_cmp);
	tg.done = true;
	pthread_cond_broadcast(&tg_cv);
}

static void *lister(void *arg)
{
	size_t which = (size_t)(uintptr_t)arg;
	struct arena *keep = tg.arena[which];
	char *token = NULL;
	struct err e = ERR_INIT;
	bool ok = true;
	size_t pages = 0;

	for (;;) {
		struct arena *a = arena_new(); /* this page's */
		struct value *p = value_new_map(a), *f = value_new_list(a);
		struct value *flt = value_new_map(a), *vals = value_new_list(a);
		struct value *types = value_new_list(a);
		const struct value *l, *r;
		const char *next;
		size_t i;
		for (i = 0; i < NLISTS; i++)
			if (tg.want[which][i])
				value_list_push(a, types,
						value_new_string(a, LISTED[i]));
		value_list_push(a, vals, value_new_string(a, tg.stack));
		value_map_set(a, flt, "Key", value_new_string(a, "cairn:stack"));
		value_map_set(a, flt, "Values", vals);
		value_list_push(a, f, flt);
		value_map_set(a, p, "TagFilters", f);
		value_map_set(a, p, "ResourcesPerPage", value_new_number(a, "100"));
		value_map_set(a, p, "ResourceTypeFilters", types);
		if (token)
			value_map_set(a, p, "PaginationToken",
				      value_new_string(a, token));
		r = aws_call(tg.aws, "tagging", "GetResources", p, a, &e);
		pthread_mutex_lock(&tg_mu);
		tg.calls++;
		if (!r) {
			pthread_mutex_unlock(&tg_mu);
			log_debug("tagging: GetResources: %s; tags are read "
				  "per resource", e.msg);
			ok = false;
			arena_free(a);
			break;
		}
		l = value_map_get(r, "ResourceTagMappingList");
		for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++) {
			const struct value *m = l->u.list.items[i];
			const char *arn = value_str(value_map_get(m, "ResourceARN"));
			if (!arn)
				continue;
			if (tg.n == tg.cap) {
				tg.cap = tg.cap ? tg.cap * 2 : 256;
				tg.e = xrealloc(tg.e, tg.cap * sizeof(*tg.e));
			}
			tg.e[tg.n].arn = arena_strdup(keep, arn);
			tg.e[tg.n].tags = value_copy(keep, value_map_get(m, "Tags"));
			tg.e[tg.n].seen = false;
			tg.n++;
		}
		pthread_mutex_unlock(&tg_mu);
		next = value_str(value_map_get(r, "PaginationToken"));
		free(token);
		token = next && *next ? xstrdup(next) : NULL;
		arena_free(a);
		if (!token)
			break;
		if (++pages >= MAX_PAGES) {
			ok = false;
			break;
		}
	}
	free(token);
	pthread_mutex_lock(&tg_mu);
	listing_ended(ok);
	pthread_mutex_unlock(&tg_mu);
	return NULL;
}

bool tagging_begin(struct aws_client *aws, const char *stack,
		   const size_t *counts)
{
	size_t i, total = 0, present = 0;

	if (!aws || !stack || tg.running)
		return false;
	memset(tg.want, 0, sizeof(tg.want));
	for (i = 0; i < NLISTS; i++) {
		total += counts ? counts[i] : 0;
		present += !counts || counts[i];
	}
	if (!present)
		return false; /* nothing the reads would look up */
	tg.nlists = 0;
	for (i = 0; i < NLISTS; i++) {
		if (counts && !counts[i])
			continue;
		if (tg.nlists == 0 || (present > 1 && total > SPLIT_ABOVE))
			tg.nlists++;
		tg.want[tg.nlists - 1][i] = true;
	}
	tg.aws = aws;
	for (i = 0; i < NLISTS; i++)
		tg.arena[i] = arena_new();
	tg.stack = arena_strdup(tg.arena[0], stack);
	tg.e = NULL;
	tg.n = tg.cap = tg.calls = 0;
	tg.done = false;
	tg.ok = true;
	tg.started = 0;
	tg.pending = tg.nlists;
	tg.running = true;
	for (i = 0; i < tg.nlists; i++) {
		if (pthread_create(&tg.thread[i], NULL, lister,
				   (void *)(uintptr_t)i))
			break;
		tg.started++;
	}
	if (tg.started < tg.nlists) {
		/* a listing that cannot start fails them all: every read then
		 * makes its point call */
		pthread_mutex_lock(&tg_mu);
		for (i = tg.started; i < tg.nlists; i++)
			listing_ended(false);
		pthread_mutex_unlock(&tg_mu);
	}
	return true;
}

/* Waits for the listing; with tg_mu held on return. */
static bool wait_done(void)
{
	pthread_mutex_lock(&tg_mu);
	if (!tg.running)
		return false;
	while (!tg.done)
		pthread_cond_wait(&tg_cv, &tg_mu);
	return true;
}

struct value *tagging_lookup(struct arena *a, const char *arn)
{
	struct entry key, *hit;
	struct value *out = NULL;

	if (!arn)
		return NULL;
	if (!wait_done() || !tg.ok) {
		pthread_mutex_unlock(&tg_mu);
		return NULL;
	}
	key.arn = arn;
	hit = tg.n ? bsearch(&key, tg.e, tg.n, sizeof(*tg.e), entry_cmp) : NULL;
	if (hit) {
		hit->seen = true;
		out = hit->tags ? value_copy(a, hit->tags) : value_new_list(a);
	}
	pthread_mutex_unlock(&tg_mu);
	return out;
}

bool tagging_stats(size_t *resources, size_t *calls)
{
	bool ok;

	if (!wait_done()) {
		pthread_mutex_unlock(&tg_mu);
		return false;
	}
	ok = tg.ok;
	if (resources)
		*resources = tg.n;
	if (calls)
		*calls = tg.calls;
	pthread_mutex_unlock(&tg_mu);
	return ok;
}

const char **tagging_unknown(struct arena *a, size_t *n)
{
	const char **out;
	size_t i, k = 0;

	*n = 0;
	if (!wait_done() || !tg.ok) {
		pthread_mutex_unlock(&tg_mu);
		return NULL;
	}
	out = arena_alloc(a, (tg.n ? tg.n : 1) * sizeof(*out));
	for (i = 0; i < tg.n; i++)
		if (!tg.e[i].seen)
			out[k++] = arena_strdup(a, tg.e[i].arn);
	*n = k;
	pthread_mutex_unlock(&tg_mu);
	return out;
}

const struct value *tagging_list(struct aws_client *aws, const char *stack,
				 struct arena *a, size_t *calls, struct err *err)
{
	struct value *all = value_new_list(a);
	const char *token = NULL;
	size_t pages = 0;

	*calls = 0;
	for (;;) {
		struct value *p = value_new_map(a), *f = value_new_list(a);
		struct value *flt = value_new_map(a), *vals = value_new_list(a);
		const struct value *l, *r;
		size_t i;
		value_list_push(a, vals, value_new_string(a, stack));
		value_map_set(a, flt, "Key", value_new_string(a, "cairn:stack"));
		value_map_set(a, flt, "Values", vals);
		value_list_push(a, f, flt);
		value_map_set(a, p, "TagFilters", f);
		value_map_set(a, p, "ResourcesPerPage", value_new_number(a, "100"));
		if (token)
			value_map_set(a, p, "PaginationToken",
				      value_new_string(a, token));
		r = aws_call(aws, "tagging", "GetResources", p, a, err);
		(*calls)++;
		if (!r)
			return NULL;
		l = value_map_get(r, "ResourceTagMappingList");
		for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++)
			value_list_push(a, all, (struct value *)l->u.list.items[i]);
		token = value_str(value_map_get(r, "PaginationToken"));
		if (!token || !*token)
			return all;
		if (++pages >= MAX_PAGES) {
			err_set(err, ERR_AWS, "tag:GetResources: more than %d "
					      "pages", MAX_PAGES);
			return NULL;
		}
	}
}

void tagging_end(void)
{
	size_t i;

	if (!tg.running)
		return;
	for (i = 0; i < tg.started; i++)
		pthread_join(tg.thread[i], NULL);
	pthread_mutex_lock(&tg_mu);
	tg.running = false;
	free(tg.e);
	tg.e = NULL;
	tg.n = tg.cap = 0;
	for (i = 0; i < NLISTS; i++) {
		arena_free(tg.arena[i]);
		tg.arena[i] = NULL;
	}
	pthread_mutex_unlock(&tg_mu);
}
