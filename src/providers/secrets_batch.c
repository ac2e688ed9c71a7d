/*
 * Secrets read in bulk: ListSecrets filtered on the tags cairn puts on
 * every secret (tag-key cairn:stack, tag-value <stack>), 100 a page (the
 * API's maximum), once per refresh (batchread.h), answered from memory.
 * A list entry carries what DescribeSecret gives the read: ARN, Name,
 * Description, KmsKeyId, Tags, and the version stages (as
 * SecretVersionsToStages).
 *
 * AWS documents ListSecrets as eventually consistent ("might not reflect
 * changes from the last five minutes"; ListSecrets API reference), so:
 *  - a secret the listing lacks is read with DescribeSecret (only those):
 *    just created, its tag changed, or gone;
 *  - an entry changed (LastChangedDate) or created within the last five
 *    minutes is read with DescribeSecret too;
 *  - what remains: a change made outside cairn in the last five minutes
 *    to a secret whose listing entry is older may show on the next check
 *    rather than this one (docs/drift.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/log.h"
#include "cairn/xalloc.h"
#include "prov_int.h"

#define MAX_PAGES 200
#define FRESH_SECONDS 300.0

struct entry {
	const char *arn;
	const struct value *sec;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool enabled;
	int state; /* 0 not listed, 1 listed, -1 failed */
	const char *stack;
	struct arena *arena;
	struct entry *e;
	size_t n, cap;
} sl;

void secrets_list_begin(const char *stack)
{
	pthread_mutex_lock(&mu);
	sl.arena = arena_new();
	sl.stack = stack ? arena_strdup(sl.arena, stack) : NULL;
	sl.enabled = stack != NULL;
	sl.state = 0;
	pthread_mutex_unlock(&mu);
}

void secrets_list_end(void)
{
	pthread_mutex_lock(&mu);
	sl.enabled = false;
	sl.state = 0;
	free(sl.e);
	sl.e = NULL;
	sl.n = sl.cap = 0;
	arena_free(sl.arena);
	sl.arena = NULL;
	pthread_mutex_unlock(&mu);
}

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->arn,
		      ((const struct entry *)y)->arn);
}

static struct value *filter(struct arena *a, const char *key, const char *v)
{
	struct value *f = value_new_map(a), *vals = value_new_list(a);

	value_map_set(a, f, "Key", value_new_string(a, key));
	value_list_push(a, vals, value_new_string(a, v));
	value_map_set(a, f, "Values", vals);
	return f;
}

/* Whether a tag list has key = val exactly (the filters match prefixes). */
static bool has_tag(const struct value *tags, const char *key, const char *val)
{
	size_t i;

	for (i = 0; tags && tags->kind == VALUE_LIST && i < tags->u.list.n; i++) {
		const char *k = pv_str(tags->u.list.items[i], "Key");
		const char *v = pv_str(tags->u.list.items[i], "Value");
		if (k && v && !strcmp(k, key) && !strcmp(v, val))
			return true;
	}
	return false;
}

/* What the reads use of a list entry: the listing keeps only these. */
static const char *const KEPT[] = {
	"ARN", "Name", "Description", "KmsKeyId", "Tags",
	"SecretVersionsToStages", "CreatedDate", "LastChangedDate", NULL,
};

static struct value *slim(struct arena *a, const struct value *sec)
{
	struct value *out = value_new_map(a);
	size_t i;

	for (i = 0; KEPT[i]; i++) {
		const struct value *v = value_map_get(sec, KEPT[i]);
		if (v)
			value_map_set(a, out, KEPT[i], value_copy(a, v));
	}
	return out;
}

/* The listing, with mu held. Each page is answered into its own arena,
 * freed once its entries are copied out. */
static void list_secrets(struct provider_ctx *ctx)
{
	char *token = NULL;
	size_t pages = 0;

	for (;;) {
		struct arena *a = arena_new();
		struct value *p = value_new_map(a), *fl = value_new_list(a), *r;
		const struct value *l;
		const char *next;
		struct err e = ERR_INIT;
		size_t i;
		value_list_push(a, fl, filter(a, "tag-key", "cairn:stack"));
		value_list_push(a, fl, filter(a, "tag-value", sl.stack));
		value_map_set(a, p, "Filters", fl);
		value_map_set(a, p, "MaxResults", value_new_number(a, "100"));
		if (token)
			value_map_set(a, p, "NextToken", value_new_string(a, token));
		r = aws_call(ctx->aws, "secretsmanager", "ListSecrets", p, a, &e);
		if (!r || !(l = aws_get_list(a, r, "SecretList", &e))) {
			log_debug("secretsmanager: ListSecrets: %s; secrets are "
				  "read one by one", e.msg);
			sl.state = -1;
			arena_free(a);
			free(token);
			return;
		}
		for (i = 0; i < l->u.list.n; i++) {
			const struct value *s = l->u.list.items[i];
			const char *arn = pv_str(s, "ARN");
			if (!arn || !has_tag(pv(s, "Tags"), "cairn:stack", sl.stack))
				continue;
			if (sl.n == sl.cap) {
				sl.cap = sl.cap ? sl.cap * 2 : 64;
				sl.e = xrealloc(sl.e, sl.cap * sizeof(*sl.e));
			}
			sl.e[sl.n].sec = slim(sl.arena, s);
			sl.e[sl.n].arn = pv_str(sl.e[sl.n].sec, "ARN");
			sl.n++;
		}
		next = pv_str(r, "NextToken");
		free(token);
		token = next && *next ? xstrdup(next) : NULL;
		arena_free(a);
		if (!token)
			break;
		if (++pages >= MAX_PAGES) {
			sl.state = -1;
			free(token);
			return;
		}
	}
	if (sl.n)
		qsort(sl.e, sl.n, sizeof(*sl.e), entry_cmp);
	sl.state = 1;
}

/* A JSON timestamp (epoch seconds, a number: pv_str gives its text). */
static double epoch_of(const char *s)
{
	char *end;
	double d;

	if (!s)
		return 0;
	d = strtod(s, &end);
	return end != s ? d : 0;
}

/* The list entry of arn (copied into ctx->arena), when the listing has
 * one old enough to trust; NULL otherwise. */
static const struct value *listed(struct provider_ctx *ctx, const char *arn)
{
	struct entry key, *hit;
	const struct value *out = NULL;

	pthread_mutex_lock(&mu);
	if (sl.enabled && sl.state == 0)
		list_secrets(ctx);
	if (sl.enabled && sl.state == 1 && sl.n) {
		key.arn = arn;
		hit = bsearch(&key, sl.e, sl.n, sizeof(*sl.e), entry_cmp);
		if (hit) {
			double now = (double)time(NULL);
			double changed = epoch_of(pv_str(hit->sec, "LastChangedDate"));
			double created = epoch_of(pv_str(hit->sec, "CreatedDate"));
			/* no date to go by: not trusted */
			if (created > 0 && now - created > FRESH_SECONDS &&
			    (changed <= 0 || now - changed > FRESH_SECONDS))
				out = value_copy(ctx->arena, hit->sec);
		}
	}
	pthread_mutex_unlock(&mu);
	return out;
}

static void attr(struct arena *a, struct value *m, const char *k, const char *v)
{
	if (v)
		value_map_set(a, m, k, value_new_string(a, v));
}

int secrets_read_many(struct provider_ctx *ctx, size_t n,
		      const char *const *ids, struct provider_result *outs,
		      int (*point)(struct provider_ctx *, const char *,
				   const struct value *,
				   struct provider_result *, struct err *),
		      struct err *err)
{
	struct arena *a = ctx->arena;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct value *s = n > 1 ? listed(ctx, ids[i]) : NULL;
		struct provider_result *out = &outs[i];
		struct value *t;
		memset(out, 0, sizeof(*out));
		if (!s) {
			if (point(ctx, ids[i], NULL, out, err) < 0) {
				if (err->code != ERR_NOT_FOUND)
					return -1;
				memset(out, 0, sizeof(*out));
				err_clear(err);
			}
			continue;
		}
		out->physical_id = arena_strdup(a, pv_str(s, "ARN"));
		out->attrs = value_new_map(a);
		attr(a, out->attrs, "Ref", out->physical_id);
		attr(a, out->attrs, "Id", out->physical_id);
		attr(a, out->attrs, "VersionId",
		     secret_current_version(pv(s, "SecretVersionsToStages")));
		out->props = value_new_map(a);
		ps(a, out->props, "Name", pv_str(s, "Name"));
		ps(a, out->props, "Description", pv_str(s, "Description"));
		ps(a, out->props, "KmsKeyId", pv_str(s, "KmsKeyId"));
		t = tags_from_aws(a, pv(s, "Tags"), "Key", "Value");
		if (t)
			value_map_set(a, out->props, "Tags", t);
	}
	return 0;
}
