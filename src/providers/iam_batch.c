/*
 * IAM roles read in bulk: GetAccountAuthorizationDetails with
 * Filter=[Role] returns every role of the account with its trust policy,
 * inline policies (name and document), attached managed policies,
 * permissions boundary and tags, MaxItems (at most 1000) items a page,
 * IsTruncated/Marker to continue (IAM API reference,
 * GetAccountAuthorizationDetails; RoleDetail). What RoleDetail lacks:
 * Description and MaxSessionDuration, so a role whose recorded properties
 * hold either is read with its point read (GetRole ...) instead.
 *
 * The listing is made once per refresh (batchread.h), by the first role
 * batch that needs it, under a mutex the other batches wait on, and kept
 * sorted by role name until iam_details_end(). Its cost is the account's
 * size, not the stack's: ceil(roles / 1000) calls, against 3 + (inline
 * policies) calls per role for the point reads; it is used only for
 * batches of at least MIN_BATCH roles.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/log.h"
#include "cairn/xalloc.h"
#include "prov_int.h"

#define MIN_BATCH 2
#define MAX_PAGES 200

struct detail {
	const char *name;
	const struct value *role;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct aws_client *aws;
	bool enabled;
	int state; /* 0 not listed, 1 listed, -1 failed */
	struct arena *arena;
	struct detail *d;
	size_t n, cap;
} det;

void iam_details_begin(struct aws_client *aws)
{
	pthread_mutex_lock(&mu);
	det.aws = aws;
	det.enabled = true;
	det.state = 0;
	pthread_mutex_unlock(&mu);
}

void iam_details_end(void)
{
	pthread_mutex_lock(&mu);
	det.enabled = false;
	det.state = 0;
	free(det.d);
	det.d = NULL;
	det.n = det.cap = 0;
	arena_free(det.arena);
	det.arena = NULL;
	pthread_mutex_unlock(&mu);
}

static int detail_cmp(const void *x, const void *y)
{
	return strcmp(((const struct detail *)x)->name,
		      ((const struct detail *)y)->name);
}

/* What from_detail reads of a RoleDetail: the listing keeps only these
 * (a RoleDetail also carries instance profiles, last use, dates). */
static const char *const KEPT[] = {
	"RoleName", "Path", "Arn", "RoleId", "PermissionsBoundary",
	"AssumeRolePolicyDocument", "RolePolicyList",
	"AttachedManagedPolicies", "Tags", NULL,
};

static struct value *slim(struct arena *a, const struct value *role)
{
	struct value *out = value_new_map(a);
	size_t i;

	for (i = 0; KEPT[i]; i++) {
		const struct value *v = value_map_get(role, KEPT[i]);
		if (v)
			value_map_set(a, out, KEPT[i], value_copy(a, v));
	}
	return out;
}

/* The listing, with mu held. Each page is answered into its own arena,
 * freed once its roles are copied out. */
static void list_roles(struct provider_ctx *ctx)
{
	char *marker = NULL;
	size_t pages = 0;

	det.arena = arena_new();
	for (;;) {
		struct arena *a = arena_new();
		struct value *p = value_new_map(a), *f = value_new_list(a), *r;
		const struct value *l;
		const char *trunc, *next;
		struct err e = ERR_INIT;
		size_t i;
		value_list_push(a, f, value_new_string(a, "Role"));
		value_map_set(a, p, "Filter", f);
		value_map_set(a, p, "MaxItems", value_new_number(a, "1000"));
		if (marker)
			value_map_set(a, p, "Marker", value_new_string(a, marker));
		r = aws_call(ctx->aws, "iam", "GetAccountAuthorizationDetails", p,
			     a, &e);
		if (!r || !(l = aws_get_list(a, r, "RoleDetailList", &e))) {
			log_debug("iam: GetAccountAuthorizationDetails: %s; roles "
				  "are read one by one", e.msg);
			det.state = -1;
			arena_free(a);
			free(marker);
			return;
		}
		for (i = 0; i < l->u.list.n; i++) {
			const char *name = pv_str(l->u.list.items[i], "RoleName");
			if (!name)
				continue;
			if (det.n == det.cap) {
				det.cap = det.cap ? det.cap * 2 : 256;
				det.d = xrealloc(det.d, det.cap * sizeof(*det.d));
			}
			det.d[det.n].role = slim(det.arena, l->u.list.items[i]);
			det.d[det.n].name = pv_str(det.d[det.n].role, "RoleName");
			det.n++;
		}
		trunc = pv_str(r, "IsTruncated");
		next = pv_str(r, "Marker");
		free(marker);
		marker = trunc && !strcmp(trunc, "true") && next ? xstrdup(next)
								  : NULL;
		arena_free(a);
		if (!marker)
			break;
		if (++pages >= MAX_PAGES) {
			det.state = -1;
			free(marker);
			return;
		}
	}
	if (det.n)
		qsort(det.d, det.n, sizeof(*det.d), detail_cmp);
	det.state = 1;
}

/* The RoleDetail of name copied into ctx->arena; NULL when there is no
 * listing or it lacks the role. */
static const struct value *role_detail(struct provider_ctx *ctx,
				       const char *name)
{
	struct detail key, *hit;
	const struct value *out = NULL;

	pthread_mutex_lock(&mu);
	if (det.enabled && det.state == 0)
		list_roles(ctx);
	if (det.enabled && det.state == 1) {
		key.name = name;
		hit = det.n ? bsearch(&key, det.d, det.n, sizeof(*det.d),
				      detail_cmp)
			    : NULL;
		if (hit)
			out = value_copy(ctx->arena, hit->role);
	}
	pthread_mutex_unlock(&mu);
	return out;
}

static void attr(struct arena *a, struct value *m, const char *k,
		 const char *v)
{
	if (v)
		value_map_set(a, m, k, value_new_string(a, v));
}

/* What role_read reports, from a RoleDetail. */
static int from_detail(struct provider_ctx *ctx, const char *id,
		       const struct value *role, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *props = value_new_map(a), *pols, *arns, *t;
	const struct value *l;
	const char *pb;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->physical_id = arena_strdup(a, id);
	out->attrs = value_new_map(a);
	attr(a, out->attrs, "Ref", id);
	attr(a, out->attrs, "Arn", pv_str(role, "Arn"));
	attr(a, out->attrs, "RoleId", pv_str(role, "RoleId"));
	ps(a, props, "RoleName", pv_str(role, "RoleName"));
	ps(a, props, "Path", pv_str(role, "Path"));
	pb = value_str(value_get_path(role,
				      "PermissionsBoundary.PermissionsBoundaryArn"));
	ps(a, props, "PermissionsBoundary", pb);
	if (pv_str(role, "AssumeRolePolicyDocument"))
		value_map_set(a, props, "AssumeRolePolicyDocument",
			      policy_doc_value(a, pv_str(role, "AssumeRolePolicyDocument")));
	if (!(l = aws_get_list(a, role, "RolePolicyList", err)))
		return -1;
	pols = value_new_list(a);
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *e = l->u.list.items[i];
		struct value *m = value_new_map(a);
		ps(a, m, "PolicyName", pv_str(e, "PolicyName"));
		value_map_set(a, m, "PolicyDocument",
			      policy_doc_value(a, pv_str(e, "PolicyDocument")));
		value_list_push(a, pols, m);
	}
	if (pols->u.list.n)
		value_map_set(a, props, "Policies", pols);
	if (!(l = aws_get_list(a, role, "AttachedManagedPolicies", err)))
		return -1;
	arns = value_new_list(a);
	for (i = 0; i < l->u.list.n; i++) {
		const char *arn = pv_str(l->u.list.items[i], "PolicyArn");
		if (arn)
			value_list_push(a, arns, value_new_string(a, arn));
	}
	if (arns->u.list.n)
		value_map_set(a, props, "ManagedPolicyArns", arns);
	t = tags_from_aws(a, pv(role, "Tags"), "Key", "Value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
	return 0;
}

/* Whether the recorded properties need more than RoleDetail holds. */
static bool needs_point(const struct value *rec)
{
	return pv(rec, "Description") || pv(rec, "MaxSessionDuration");
}

int iam_role_read_many(struct provider_ctx *ctx, size_t n,
		       const char *const *ids, struct provider_result *outs,
		       int (*point)(struct provider_ctx *, const char *,
				    const struct value *,
				    struct provider_result *, struct err *),
		       struct err *err)
{
	size_t i;
	bool bulk = ctx->recorded && n >= MIN_BATCH;

	for (i = 0; i < n; i++) {
		const struct value *role = NULL;
		if (bulk && !needs_point(ctx->recorded[i]))
			role = role_detail(ctx, ids[i]);
		if (role) {
			if (from_detail(ctx, ids[i], role, &outs[i], err) < 0)
				return -1;
			continue;
		}
		/* not listed (gone, or too new to be listed), or more than
		 * the listing holds is recorded: the point read decides */
		memset(&outs[i], 0, sizeof(outs[i]));
		if (point(ctx, ids[i], NULL, &outs[i], err) < 0) {
			if (err->code == ERR_NOT_FOUND) {
				memset(&outs[i], 0, sizeof(outs[i]));
				err_clear(err);
				continue;
			}
			return -1;
		}
	}
	return 0;
}
