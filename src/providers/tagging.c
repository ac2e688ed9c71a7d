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
 * Threads: the listing runs on its own thread into its own arena; lookups
 * from the refresh's workers wait on a condition variable until it is
 * done, then search the sorted entries under the mutex (they mark what
 * they asked for, for tagging_unknown()).
 */
#include <pthread.h>
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

static pthread_mutex_t tg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tg_cv = PTHREAD_COND_INITIALIZER;

static struct {
	pthread_t thread;
	bool running; /* begun and not ended */
	bool done;    /* the listing finished (ok or not) */
	bool ok;
	struct aws_client *aws;
	const char *stack;
	struct arena *arena;
	struct entry *e;
	size_t n, cap, calls;
} tg;

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->arn,
		      ((const struct entry *)y)->arn);
}

#define MAX_PAGES 1000

static void *lister(void *arg)
{
	char *token = NULL;
	struct err e = ERR_INIT;
	bool ok = true;
	size_t pages = 0;

	(void)arg;
	for (;;) {
		struct arena *a = arena_new(); /* this page's */
		struct value *p = value_new_map(a), *f = value_new_list(a);
		struct value *flt = value_new_map(a), *vals = value_new_list(a);
		struct value *types = value_new_list(a);
		const struct value *l, *r;
		const char *next;
		size_t i;
		value_list_push(a, types, value_new_string(a, "logs:log-group"));
		value_list_push(a, types, value_new_string(a, "ecr:repository"));
		value_list_push(a, vals, value_new_string(a, tg.stack));
		value_map_set(a, flt, "Key", value_new_string(a, "cairn:stack"));
		value_map_set(a, flt, "Values", vals);
		value_list_push(a, f, flt);
		value_map_set(a, p, "TagFilters", f);
		value_map_set(a, p, "ResourcesPerPage", value_new_number(a, "100"));
		/* only the types whose reads ask (log groups, repositories):
		 * the others' Describe calls carry their tags */
		value_map_set(a, p, "ResourceTypeFilters", types);
		if (token)
			value_map_set(a, p, "PaginationToken",
				      value_new_string(a, token));
		r = aws_call(tg.aws, "tagging", "GetResources", p, a, &e);
		tg.calls++;
		if (!r) {
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
			tg.e[tg.n].arn = arena_strdup(tg.arena, arn);
			tg.e[tg.n].tags = value_copy(tg.arena,
						     value_map_get(m, "Tags"));
			tg.e[tg.n].seen = false;
			tg.n++;
		}
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
	if (ok && tg.n)
		qsort(tg.e, tg.n, sizeof(*tg.e), entry_cmp);
	pthread_mutex_lock(&tg_mu);
	tg.ok = ok;
	tg.done = true;
	pthread_cond_broadcast(&tg_cv);
	pthread_mutex_unlock(&tg_mu);
	return NULL;
}

bool tagging_begin(struct aws_client *aws, const char *stack)
{
	if (!aws || !stack || tg.running)
		return false;
	tg.aws = aws;
	tg.arena = arena_new();
	tg.stack = arena_strdup(tg.arena, stack);
	tg.e = NULL;
	tg.n = tg.cap = tg.calls = 0;
	tg.done = tg.ok = false;
	if (pthread_create(&tg.thread, NULL, lister, NULL)) {
		arena_free(tg.arena);
		tg.arena = NULL;
		return false;
	}
	tg.running = true;
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
	if (!tg.running)
		return;
	pthread_join(tg.thread, NULL);
	pthread_mutex_lock(&tg_mu);
	tg.running = false;
	free(tg.e);
	tg.e = NULL;
	tg.n = tg.cap = 0;
	arena_free(tg.arena);
	tg.arena = NULL;
	pthread_mutex_unlock(&tg_mu);
}
