/*
 * AWS::ECR::Repository (JSON 1.1). Ref: repository name (GetAtt Arn,
 * RepositoryUri). LifecyclePolicy.LifecyclePolicyText goes through
 * PutLifecyclePolicy; RepositoryPolicyText through SetRepositoryPolicy;
 * EmptyOnDelete: true deletes with force (images and all).
 */
#include <string.h>

#include "cairn/tagging.h"
#include "prov_int.h"

static const struct tag_api ECR_TAGS = { "ecr", "TagResource", "UntagResource",
					 "resourceArn", "tags", "tagKeys",
					 "Key", "Value" };

static const char *repo_name(struct provider_ctx *ctx, const struct value *props)
{
	const char *n = pv_str(props, "RepositoryName");

	return n ? n : provider_generate_name(ctx, 256, NAME_LOWER);
}

static void repo_result(struct provider_ctx *ctx, const char *name,
			const struct value *repo, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", pv_str(repo, "repositoryArn"));
	set_attr(ctx, out->attrs, "RepositoryUri", pv_str(repo, "repositoryUri"));
}

static const char *lifecycle_text(struct provider_ctx *ctx,
				  const struct value *props)
{
	const struct value *lp = pv(props, "LifecyclePolicy");
	const struct value *t = lp ? pv(lp, "LifecyclePolicyText") : NULL;

	if (!t)
		return NULL;
	return policy_text(ctx->arena, t);
}

static int put_policies(struct provider_ctx *ctx, const char *name,
			const struct value *old_props, const struct value *props,
			struct err *err)
{
	struct arena *a = ctx->arena;
	const char *lt = lifecycle_text(ctx, props);
	struct value *p;

	if (!old_props || pv_changed(old_props, props, "LifecyclePolicy")) {
		p = value_new_map(a);
		ps(a, p, "repositoryName", name);
		if (lt) {
			ps(a, p, "lifecyclePolicyText", lt);
			if (!pcall(ctx, "ecr", "PutLifecyclePolicy", p, err))
				return -1;
		} else if (old_props &&
			   !pcall(ctx, "ecr", "DeleteLifecyclePolicy", p, err) &&
			   gone_is_ok(err) < 0) {
			return -1;
		}
	}
	if (!old_props || pv_changed(old_props, props, "RepositoryPolicyText")) {
		p = value_new_map(a);
		ps(a, p, "repositoryName", name);
		if (pv(props, "RepositoryPolicyText")) {
			ps(a, p, "policyText", policy_text(a, pv(props, "RepositoryPolicyText")));
			if (!pcall(ctx, "ecr", "SetRepositoryPolicy", p, err))
				return -1;
		} else if (old_props &&
			   !pcall(ctx, "ecr", "DeleteRepositoryPolicy", p, err) &&
			   gone_is_ok(err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int repo_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err);

static int repo_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = repo_name(ctx, props);
	const struct value *repo;

	ps(a, p, "repositoryName", name);
	ps(a, p, "imageTagMutability", pv_str(props, "ImageTagMutability"));
	if (pv(props, "ImageScanningConfiguration"))
		value_map_set(a, p, "imageScanningConfiguration",
			      camel_keys(a, pv(props, "ImageScanningConfiguration"), NULL));
	if (pv(props, "EncryptionConfiguration"))
		value_map_set(a, p, "encryptionConfiguration",
			      camel_keys(a, pv(props, "EncryptionConfiguration"), NULL));
	value_map_set(a, p, "tags", tags_merged(ctx, props));
	/* RepositoryAlreadyExistsException (a resent create after a lost
	 * answer, a stopped run, or someone else's repository) goes back to
	 * the executor: its find() adopts only what carries this resource's
	 * cairn tags (applied with the repository) */
	r = pcall(ctx, "ecr", "CreateRepository", p, err);
	if (!r)
		return -1;
	repo = value_map_get(r, "repository");
	/* made: a refused lifecycle or repository policy deletes it again */
	if (put_policies(ctx, name, NULL, props, err) < 0)
		return prov_undo_create(ctx, "repository", name, repo_delete,
					props, err);
	repo_result(ctx, name, repo, out);
	return 0;
}

/* Fills out from a DescribeRepositories entry repo: the lifecycle policy
 * and the tags are not in it (one GetLifecyclePolicy and one
 * ListTagsForResource each: ECR has no call returning several). */
static int repo_fill(struct provider_ctx *ctx, const char *id,
		     const struct value *repo,
		     const struct value *const *rec,
		     struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p, *r, *props, *t, *m;
	const struct value *tl;

	repo_result(ctx, arena_strdup(a, id), repo, out);
	props = value_new_map(a);
	ps(a, props, "RepositoryName", id);
	ps(a, props, "ImageTagMutability", pv_str(repo, "imageTagMutability"));
	if (pv(repo, "imageScanningConfiguration"))
		value_map_set(a, props, "ImageScanningConfiguration",
			      pascal_keys(a, pv(repo, "imageScanningConfiguration"), NULL));
	if (pv(repo, "encryptionConfiguration"))
		value_map_set(a, props, "EncryptionConfiguration",
			      pascal_keys(a, pv(repo, "encryptionConfiguration"), NULL));
	/* in a refresh (rec known), the policies the state does not record
	 * are not compared: their reads are skipped */
	p = value_new_map(a);
	ps(a, p, "repositoryName", id);
	if (rec && !pv(*rec, "LifecyclePolicy")) {
		/* not recorded */
	} else if ((r = pcall(ctx, "ecr", "GetLifecyclePolicy", p, err))) {
		m = value_new_map(a);
		ps(a, m, "LifecyclePolicyText", pv_str(r, "lifecyclePolicyText"));
		value_map_set(a, props, "LifecyclePolicy", m);
	} else if (gone_is_ok(err) < 0) {
		return -1;
	}
	/* the repository policy, as a document (the template's is a map or
	 * JSON text; the plan compares documents, not their formatting) */
	p = value_new_map(a);
	ps(a, p, "repositoryName", id);
	if (rec && !pv(*rec, "RepositoryPolicyText")) {
		/* not recorded */
	} else if ((r = pcall(ctx, "ecr", "GetRepositoryPolicy", p, err))) {
		const char *text = pv_str(r, "policyText");
		struct err je = ERR_INIT;
		struct value *doc = text ? value_from_json(a, text, strlen(text),
							   0, &je)
					 : NULL;
		if (doc)
			value_map_set(a, props, "RepositoryPolicyText", doc);
		else if (text)
			ps(a, props, "RepositoryPolicyText", text);
	} else if (gone_is_ok(err) < 0) {
		return -1;
	}
	/* the refresh's tag listing (tagging.h) first; a point read when it
	 * has no answer for this repository */
	tl = tagging_lookup(a, pv_str(repo, "repositoryArn"));
	if (!tl) {
		p = value_new_map(a);
		ps(a, p, "resourceArn", pv_str(repo, "repositoryArn"));
		if (!(r = pcall(ctx, "ecr", "ListTagsForResource", p, err)))
			return -1;
		tl = pv(r, "tags");
	}
	t = tags_from_aws(a, tl, "Key", "Value");
	if (t)
		value_map_set(a, props, "Tags", t);
	out->props = props;
	return 0;
}

/* Matches a DescribeRepositories answer's entries to ids; how many
 * were newly matched. */
static size_t repo_match(const struct value *l, size_t n,
			 const char *const *ids, const struct value **found)
{
	size_t i, k, got = 0;

	for (k = 0; k < l->u.list.n; k++) {
		const char *rn = pv_str(l->u.list.items[k], "repositoryName");
		for (i = 0; rn && i < n; i++)
			if (!found[i] && !strcmp(rn, ids[i])) {
				found[i] = l->u.list.items[k];
				got++;
			}
	}
	return got;
}

/* A name in a batch is gone: AWS fails the whole call naming one
 * (RepositoryNotFoundException), and its message is no interface. The
 * registry is listed instead (1000 a page), up to one page per ten names;
 * a registry larger than that has the names still unseen described one
 * by one. Listed to the end, what the listing lacks is gone. */
static int repo_list_for(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	size_t i, missing = n, pages = 0, budget = (n + 9) / 10;
	const char *token = NULL;

	do {
		struct value *p = value_new_map(a), *r;
		const struct value *l;
		pn(a, p, "maxResults", "1000");
		ps(a, p, "nextToken", token);
		if (!(r = pcall(ctx, "ecr", "DescribeRepositories", p, err)) ||
		    !(l = aws_get_list(a, r, "repositories", err)))
			return -1;
		missing -= repo_match(l, n, ids, found);
		token = pv_str(r, "nextToken");
	} while (token && missing && ++pages < budget);
	for (i = 0; token && missing && i < n; i++) {
		struct value *p = value_new_map(a), *r;
		const struct value *l;
		if (found[i])
			continue;
		value_map_set(a, p, "repositoryNames", str_list1(a, ids[i]));
		r = pcall(ctx, "ecr", "DescribeRepositories", p, err);
		if (!r && err->code == ERR_NOT_FOUND) {
			err_clear(err);
			continue;
		}
		if (!r || !(l = aws_get_list(a, r, "repositories", err)))
			return -1;
		repo_match(l, 1, &ids[i], &found[i]);
	}
	return 0;
}

/* DescribeRepositories of n names (at most 100); found[i] = the entry of
 * ids[i] or NULL when it is gone. */
static int repo_describe(struct provider_ctx *ctx, size_t n,
			 const char *const *ids, const struct value **found,
			 struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *names = value_new_list(a), *r;
	const struct value *l;
	size_t i;

	for (i = 0; i < n; i++) {
		found[i] = NULL;
		value_list_push(a, names, value_new_string(a, ids[i]));
	}
	value_map_set(a, p, "repositoryNames", names);
	r = pcall_all(ctx, "ecr", "DescribeRepositories", p, "repositories", err);
	if (!r && err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return n > 1 ? repo_list_for(ctx, n, ids, found, err) : 0;
	}
	if (!r || !(l = aws_get_list(a, r, "repositories", err)))
		return -1;
	repo_match(l, n, ids, found);
	return 0;
}

static int repo_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	const struct value *repo;

	(void)attrs;
	if (repo_describe(ctx, 1, &id, &repo, err) < 0)
		return -1;
	if (!repo)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "repository \"%s\" does not exist",
				 id);
	return repo_fill(ctx, id, repo, ctx->recorded, out, err);
}

/* The repository named name, when it is this stack's (its tags, from
 * ListTagsForResource, say so): 0 with *repo set; ERR_ALREADY_EXISTS
 * (prov_foreign) when someone else's; ERR_NOT_FOUND when there is none. */
static int repo_owned(struct provider_ctx *ctx, const char *name,
		      const struct value **repo, struct provider_result *out,
		      struct err *err)
{
	struct value *p, *r;

	if (repo_describe(ctx, 1, &name, repo, err) < 0)
		return -1;
	if (!*repo)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "repository \"%s\" does not exist", name);
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "resourceArn", pv_str(*repo, "repositoryArn"));
	if (!(r = pcall(ctx, "ecr", "ListTagsForResource", p, err)))
		return -1;
	if (!tags_owned(ctx, pv(r, "tags")))
		return prov_foreign(ctx, name, pv(r, "tags"), out, err);
	return 0;
}

/* Batched read: one DescribeRepositories for up to 100 names (refresh
 * batches by refresh_batch_max), then the per-repository policy and tags. */
static int repo_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	const struct value **found;
	size_t i;

	if (!n)
		return 0;
	found = arena_alloc(ctx->arena, n * sizeof(*found));
	if (repo_describe(ctx, n, ids, found, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (found[i] &&
		    repo_fill(ctx, ids[i], found[i],
			      ctx->recorded ? &ctx->recorded[i] : NULL,
			      &outs[i], err) < 0)
			return -1;
	}
	return 0;
}

static int repo_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props, const struct value *new_props,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p;
	const char *arn;

	(void)attrs;
	if (pv_changed(old_props, new_props, "ImageTagMutability")) {
		const char *m = pv_str(new_props, "ImageTagMutability");
		p = value_new_map(a);
		ps(a, p, "repositoryName", id);
		ps(a, p, "imageTagMutability", m ? m : "MUTABLE");
		if (!pcall(ctx, "ecr", "PutImageTagMutability", p, err))
			return -1;
	}
	if (pv_changed(old_props, new_props, "ImageScanningConfiguration")) {
		struct value *c = value_new_map(a);
		pb(a, c, "scanOnPush",
		   pv_bool(pv(new_props, "ImageScanningConfiguration"), "ScanOnPush",
			   false));
		p = value_new_map(a);
		ps(a, p, "repositoryName", id);
		value_map_set(a, p, "imageScanningConfiguration", c);
		if (!pcall(ctx, "ecr", "PutImageScanningConfiguration", p, err))
			return -1;
	}
	if (put_policies(ctx, id, old_props, new_props, err) < 0 ||
	    repo_read(ctx, id, NULL, out, err) < 0)
		return -1;
	arn = value_str(value_map_get(out->attrs, "Arn"));
	if (arn && api_update_tags(ctx, &ECR_TAGS, arn, old_props, new_props, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int repo_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)attrs;
	ps(ctx->arena, p, "repositoryName", id);
	if (pv_bool(props, "EmptyOnDelete", false))
		pb(ctx->arena, p, "force", true);
	if (!pcall(ctx, "ecr", "DeleteRepository", p, err))
		return gone_is_ok(err);
	return 0;
}

static int repo_find(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const char *name = repo_name(ctx, props);
	const struct value *repo;

	if (repo_owned(ctx, name, &repo, out, err) < 0 ||
	    repo_fill(ctx, name, repo, NULL, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

const struct provider prov_ecr_repository = {
	.type = "AWS::ECR::Repository",
	.create = repo_create,
	.read = repo_read,
	.read_many = repo_read_many,
	.update = repo_update,
	.delete = repo_delete,
	.find = repo_find,
};
