/*
 * AWS::SecretsManager::Secret and AWS::Logs::LogGroup (JSON 1.1).
 *
 * Secret: Ref = ARN (GetAtt Id = ARN). SecretString and
 * GenerateSecretString are write-only: never read back, never logged.
 * GenerateSecretString calls GetRandomPassword and, with
 * SecretStringTemplate + GenerateStringKey, puts the password under that
 * key of the template's JSON. Delete uses ForceDeleteWithoutRecovery:
 * CloudFormation's default 30-day recovery window keeps the name reserved,
 * so destroying and re-applying a stack with a named secret would fail for
 * a month; use DeletionPolicy: Retain to keep a secret. A named secret
 * found scheduled for deletion (deleted outside cairn) is restored and
 * brought to the template's state instead of failing the create.
 *
 * LogGroup: Ref = name (GetAtt Arn, with AWS's trailing ":*").
 */
#include <string.h>

#include "cairn/strbuf.h"
#include "cairn/tagging.h"
#include "prov_int.h"

static const struct tag_api SM_TAGS = { "secretsmanager", "TagResource",
					"UntagResource", "SecretId", "Tags",
					"TagKeys", "Key", "Value" };
static const struct tag_api LOGS_TAGS = { "logs", "TagResource", "UntagResource",
					  "resourceArn", "tags", "tagKeys",
					  NULL, NULL };

/* ============================================================= Secret */

static int secret_value(struct provider_ctx *ctx, const struct value *props,
			const char **out, struct err *err)
{
	static const char *const opts[] = { "PasswordLength", "ExcludeCharacters",
					    "ExcludeNumbers", "ExcludePunctuation",
					    "ExcludeUppercase", "ExcludeLowercase",
					    "IncludeSpace", "RequireEachIncludedType",
					    NULL };
	struct arena *a = ctx->arena;
	const struct value *g = pv(props, "GenerateSecretString");
	struct value *p, *r, *tmpl;
	const char *pw, *key, *ttext;
	struct strbuf sb;
	size_t i;

	*out = pv_str(props, "SecretString");
	if (!g)
		return 0;
	if (*out)
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "SecretString and GenerateSecretString are exclusive");
	p = value_new_map(a);
	for (i = 0; opts[i]; i++) {
		const struct value *v = pv(g, opts[i]);
		if (!v)
			continue;
		if (!strcmp(opts[i], "PasswordLength"))
			pn(a, p, opts[i], v_text(a, v));
		else if (!strcmp(opts[i], "ExcludeCharacters"))
			ps(a, p, opts[i], v_text(a, v));
		else
			pb(a, p, opts[i], pv_bool(g, opts[i], false));
	}
	r = pcall(ctx, "secretsmanager", "GetRandomPassword", p, err);
	if (!r || !(pw = aws_get_str(r, "RandomPassword", err)))
		return -1;
	key = pv_str(g, "GenerateStringKey");
	ttext = pv_str(g, "SecretStringTemplate");
	if (!key || !ttext) {
		if (!!key != !!ttext)
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "GenerateStringKey and SecretStringTemplate "
					 "go together");
		*out = pw;
		return 0;
	}
	tmpl = value_from_json(a, ttext, strlen(ttext), 0, err);
	if (!tmpl || tmpl->kind != VALUE_MAP) {
		if (tmpl)
			err_set(err, ERR_VALIDATION, "not a JSON object");
		return err_prefix(err, "%s %s: SecretStringTemplate: ", ctx->type,
				  ctx->logical_id);
	}
	value_map_set(a, tmpl, key, value_new_string(a, pw));
	strbuf_init(&sb, 128);
	value_to_json(tmpl, &sb, 0);
	*out = arena_strdup(a, sb.buf);
	/* the buffer held the password */
	memset(sb.buf, 0, sb.len);
	strbuf_release(&sb);
	return 0;
}

/* The token of a new version: the operation's token plus a digest of the
 * value, so a retried update is idempotent while another value (or the
 * create's token reused by an executor) never collides: Secrets Manager
 * refuses a token reused with a different value. 40 characters. */
static const char *version_token(struct provider_ctx *ctx, const char *value)
{
	unsigned long h = 2166136261UL;
	const char *c;

	for (c = value; *c; c++)
		h = ((h ^ (unsigned char)*c) * 16777619UL) & 0xffffffffUL;
	return arena_sprintf(ctx->arena, "%.32s%08lx", ctx->token ? ctx->token : "", h);
}

/* A secret with this name is scheduled for deletion (this stack's secret,
 * deleted outside cairn with a recovery window): restore it and take it
 * over. Only when its tags say it is this resource's: another's deleted
 * secret is not ours to bring back. */
static const char *secret_restore(struct provider_ctx *ctx, const char *name,
				  struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;

	ps(a, p, "SecretId", name);
	if (!(r = pcall(ctx, "secretsmanager", "DescribeSecret", p, err)))
		return NULL;
	if (!pv(r, "DeletedDate"))
		return NULL;
	if (!tags_owned(ctx, pv(r, "Tags"))) {
		struct provider_result f;
		prov_foreign(ctx, pv_str(r, "ARN") ? pv_str(r, "ARN") : name,
			     pv(r, "Tags"), &f, err);
		return NULL;
	}
	p = value_new_map(a);
	ps(a, p, "SecretId", name);
	if (!(r = pcall(ctx, "secretsmanager", "RestoreSecret", p, err)))
		return NULL;
	return pv_str(r, "ARN");
}

/*
 * How long a force-deleted secret's name may stay taken. Secrets Manager
 * purges asynchronously: "there might be a short delay before the secret is
 * permanently deleted. If you delete a secret and then immediately create a
 * secret with the same name, use appropriate back off and retry logic"
 * (DeleteSecret, API reference).
 */
#define PURGE_SECONDS 120.0

/* Whether the name is free of any visible secret: DescribeSecret answers
 * ResourceNotFoundException. 1 free, 0 a secret is there, -1 error. */
static int secret_gone(struct provider_ctx *ctx, const char *id,
		       struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	ps(ctx->arena, p, "SecretId", id);
	if (pcall(ctx, "secretsmanager", "DescribeSecret", p, err))
		return 0;
	if (err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 1;
	}
	return -1;
}

/* CreateSecret; while a secret of that name is being purged (CreateSecret
 * says InvalidRequestException and DescribeSecret already says
 * ResourceNotFound: a force delete in progress, ours or anyone's), backs
 * off and tries again. A secret in its recovery window (DescribeSecret
 * shows it with DeletedDate) is left to the caller's restore path. */
static struct value *secret_create_call(struct provider_ctx *ctx,
					const struct value *p, const char *name,
					struct err *err)
{
	double dl = prov_deadline(ctx, PURGE_SECONDS);
	int attempt = 0;

	for (;;) {
		struct value *r = pcall(ctx, "secretsmanager", "CreateSecret", p, err);
		struct err e2 = ERR_INIT;
		int gone;
		if (r || !name || strcmp(err->aws_code, "InvalidRequestException") ||
		    !strstr(err->msg, "deletion"))
			return r;
		gone = secret_gone(ctx, name, &e2);
		if (gone != 1)
			return NULL;
		prov_status(ctx, "waiting for the deleted secret's name to be free");
		if (prov_sleep_until(ctx, &attempt, dl,
				     "secretsmanager:CreateSecret (name still being purged)",
				     &e2) < 0) {
			if (e2.code == ERR_CANCELLED)
				*err = e2;
			return NULL;
		}
	}
}

static void secret_result(struct provider_ctx *ctx, const char *arn,
			  struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = arn;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", arn);
	set_attr(ctx, out->attrs, "Id", arn);
}

static int secret_create(struct provider_ctx *ctx, const struct value *props,
			 struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = pv_str(props, "Name"), *sv, *arn;

	if (secret_value(ctx, props, &sv, err) < 0)
		return -1;
	if (pv(props, "ReplicaRegions"))
		return prov_fail(ctx, err, ERR_UNSUPPORTED,
				 "ReplicaRegions is not supported");
	ps(a, p, "Name", name ? name : provider_generate_name(ctx, 512, false));
	ps(a, p, "Description", pv_str(props, "Description"));
	ps(a, p, "KmsKeyId", pv_str(props, "KmsKeyId"));
	if (sv) {
		struct value *s = value_new_string(a, sv);
		s->sensitive = 1;
		value_map_set(a, p, "SecretString", s);
	}
	/* idempotent: the same token and value return the same secret */
	ps(a, p, "ClientRequestToken", ctx->token);
	value_map_set(a, p, "Tags", tags_merged(ctx, props));
	r = secret_create_call(ctx, p, name, err);
	if (!r && name && !strcmp(err->aws_code, "InvalidRequestException")) {
		struct err e2 = ERR_INIT;
		struct value *u;
		const char *rarn = secret_restore(ctx, name, &e2);
		if (!rarn) {
			/* another's deleted secret: say so, not "invalid" */
			if (e2.code == ERR_ALREADY_EXISTS)
				*err = e2;
			return -1;
		}
		/* restored: bring it to the template's state */
		err_clear(err);
		u = value_new_map(a);
		ps(a, u, "SecretId", rarn);
		ps(a, u, "Description", pv_str(props, "Description"));
		ps(a, u, "KmsKeyId", pv_str(props, "KmsKeyId"));
		if (sv) {
			struct value *s = value_new_string(a, sv);
			s->sensitive = 1;
			value_map_set(a, u, "SecretString", s);
			ps(a, u, "ClientRequestToken", version_token(ctx, sv));
		}
		if (!pcall(ctx, "secretsmanager", "UpdateSecret", u, err))
			return -1;
		u = value_new_map(a);
		ps(a, u, "SecretId", rarn);
		value_map_set(a, u, "Tags", tags_merged(ctx, props));
		if (!pcall(ctx, "secretsmanager", "TagResource", u, err))
			return -1;
		secret_result(ctx, rarn, out);
		return 0;
	}
	if (!r || !(arn = aws_get_str(r, "ARN", err)))
		return -1;
	secret_result(ctx, arn, out);
	set_attr(ctx, out->attrs, "VersionId", pv_str(r, "VersionId"));
	return 0;
}

const char *secret_current_version(const struct value *m)
{
	size_t i, j;

	for (i = 0; m && m->kind == VALUE_MAP && i < m->u.map.n; i++) {
		const struct value *st = m->u.map.items[i].val;
		for (j = 0; st && st->kind == VALUE_LIST && j < st->u.list.n; j++) {
			const char *s = value_str(st->u.list.items[j]);
			if (s && !strcmp(s, "AWSCURRENT"))
				return m->u.map.items[i].key;
		}
	}
	return NULL;
}

static int secret_read(struct provider_ctx *ctx, const char *id,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r, *t;

	(void)attrs;
	ps(a, p, "SecretId", id);
	if (!(r = pcall(ctx, "secretsmanager", "DescribeSecret", p, err)))
		return -1;
	if (pv(r, "DeletedDate"))
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "secret \"%s\" is scheduled for deletion", id);
	secret_result(ctx, arena_strdup(a, pv_str(r, "ARN") ? pv_str(r, "ARN") : id),
		      out);
	/* the version now AWSCURRENT: the value itself is never read; a
	 * version other than the one cairn recorded is a value replaced
	 * outside cairn (provider_versioned) */
	set_attr(ctx, out->attrs, "VersionId",
		 secret_current_version(pv(r, "VersionIdsToStages")));
	out->props = value_new_map(a);
	ps(a, out->props, "Name", pv_str(r, "Name"));
	ps(a, out->props, "Description", pv_str(r, "Description"));
	ps(a, out->props, "KmsKeyId", pv_str(r, "KmsKeyId"));
	t = tags_from_aws(a, pv(r, "Tags"), "Key", "Value");
	if (t)
		value_map_set(a, out->props, "Tags", t);
	return 0;
}

static int secret_update(struct provider_ctx *ctx, const char *id,
			 const struct value *old_props,
			 const struct value *new_props, const struct value *attrs,
			 struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r = NULL;
	bool any = false;

	ps(a, p, "SecretId", id);
	if (pv_changed(old_props, new_props, "Description")) {
		const char *d = pv_str(new_props, "Description");
		ps(a, p, "Description", d ? d : "");
		any = true;
	}
	if (pv_changed(old_props, new_props, "KmsKeyId")) {
		ps(a, p, "KmsKeyId", pv_str(new_props, "KmsKeyId"));
		any = true;
	}
	if (pv_changed(old_props, new_props, "SecretString") ||
	    pv_changed(old_props, new_props, "GenerateSecretString")) {
		const char *sv;
		struct value *s;
		if (secret_value(ctx, new_props, &sv, err) < 0)
			return -1;
		if (sv) {
			s = value_new_string(a, sv);
			s->sensitive = 1;
			value_map_set(a, p, "SecretString", s);
			ps(a, p, "ClientRequestToken", version_token(ctx, sv));
			any = true;
		}
	}
	if (any && !(r = pcall(ctx, "secretsmanager", "UpdateSecret", p, err)))
		return -1;
	if (api_update_tags(ctx, &SM_TAGS, id, old_props, new_props, err) < 0)
		return -1;
	secret_result(ctx, id, out);
	/* a new value is a new version; else the recorded one stays */
	set_attr(ctx, out->attrs, "VersionId",
		 r && pv_str(r, "VersionId") ? pv_str(r, "VersionId")
					     : value_str(value_map_get(attrs, "VersionId")));
	return 0;
}

static int secret_delete(struct provider_ctx *ctx, const char *id,
			 const struct value *props, const struct value *attrs,
			 struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "SecretId", id);
	pb(ctx->arena, p, "ForceDeleteWithoutRecovery", true);
	if (!pcall(ctx, "secretsmanager", "DeleteSecret", p, err))
		return gone_is_ok(err);
	/* deleted asynchronously: done when DescribeSecret no longer finds
	 * it, so a replacement or the next apply can reuse the name */
	{
		double dl = prov_deadline(ctx, PURGE_SECONDS);
		int attempt = 0, gone;
		prov_status(ctx, "waiting until the secret is purged");
		while ((gone = secret_gone(ctx, id, err)) == 0)
			if (prov_sleep_until(ctx, &attempt, dl,
					     "secretsmanager:DeleteSecret (purge)", err) < 0)
				return -1;
		if (gone < 0)
			return -1;
	}
	return 0;
}

/* The secret a stopped run or a resent CreateSecret made (its name is the
 * template's or generated from the token): only with this resource's
 * cairn tags (CreateSecret applies them with the secret). */
static int secret_find(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *r;
	const char *name = pv_str(props, "Name");
	const char *arn;

	ps(a, p, "SecretId",
	   name ? name : provider_generate_name(ctx, 512, false));
	if (!(r = pcall(ctx, "secretsmanager", "DescribeSecret", p, err)))
		return -1;
	if (pv(r, "DeletedDate"))
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "the secret is scheduled for deletion");
	arn = pv_str(r, "ARN");
	if (!arn)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "no ARN in DescribeSecret");
	if (!tags_owned(ctx, pv(r, "Tags")))
		return prov_foreign(ctx, arena_strdup(a, arn), pv(r, "Tags"), out,
				    err);
	secret_result(ctx, arena_strdup(a, arn), out);
	return 0;
}

/* ListSecrets is eventually consistent, AWS documents, "might not
 * reflect changes from the last five minutes": a listing alone would
 * report a secret created a minute ago as gone and miss a fresh change
 * behind cairn's back. DescribeSecret (one call, tags included) stays for
 * a secret the
 * listing lacks or lists as changed within those five minutes: the
 * refresh's batch reads the rest from one ListSecrets listing of the
 * stack's secrets (secrets_batch.c). */
static int secret_read_many(struct provider_ctx *ctx, size_t n,
			    const char *const *ids,
			    struct provider_result *outs, struct err *err)
{
	return secrets_read_many(ctx, n, ids, outs, secret_read, err);
}

const struct provider prov_sm_secret = {
	.type = "AWS::SecretsManager::Secret",
	.create = secret_create,
	.read = secret_read,
	.read_many = secret_read_many,
	.update = secret_update,
	.delete = secret_delete,
	.find = secret_find,
};

/* =========================================================== LogGroup */

static const char *lg_name(struct provider_ctx *ctx, const struct value *props)
{
	const char *n = pv_str(props, "LogGroupName");

	return n ? n : provider_generate_name(ctx, 512, false);
}

static int lg_get(struct provider_ctx *ctx, const char *name,
		  const struct value **out, struct err *err)
{
	struct arena *a = ctx->arena;
	const char *token = NULL;

	*out = NULL;
	/* the name is a prefix filter: find the exact one, page by page */
	for (;;) {
		struct value *p = value_new_map(a), *r;
		const struct value *l;
		size_t i;
		ps(a, p, "logGroupNamePrefix", name);
		ps(a, p, "nextToken", token);
		if (!(r = pcall(ctx, "logs", "DescribeLogGroups", p, err)) ||
		    !(l = aws_get_list(a, r, "logGroups", err)))
			return -1;
		for (i = 0; i < l->u.list.n; i++) {
			const char *n = pv_str(l->u.list.items[i], "logGroupName");
			if (n && !strcmp(n, name)) {
				*out = l->u.list.items[i];
				return 0;
			}
		}
		if (!(token = pv_str(r, "nextToken")))
			return 0;
	}
}

static void lg_result(struct provider_ctx *ctx, const char *name,
		      const char *arn, struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn", arn);
}

/* The ARN TagResource takes: without the trailing ":*". */
static const char *lg_tag_arn(struct provider_ctx *ctx, const char *arn)
{
	size_t n = arn ? strlen(arn) : 0;

	if (n > 2 && !strcmp(arn + n - 2, ":*"))
		return arena_strndup(ctx->arena, arn, n - 2);
	return arn;
}

static int lg_retention(struct provider_ctx *ctx, const char *name,
			const struct value *props, bool was_set, struct err *err)
{
	struct value *p = value_new_map(ctx->arena);
	const char *days = pv_str(props, "RetentionInDays");

	ps(ctx->arena, p, "logGroupName", name);
	if (days) {
		pn(ctx->arena, p, "retentionInDays", days);
		return pcall(ctx, "logs", "PutRetentionPolicy", p, err) ? 0 : -1;
	}
	if (was_set && !pcall(ctx, "logs", "DeleteRetentionPolicy", p, err))
		return -1;
	return 0;
}

/* The log group named name, when it is this stack's (ListTagsForResource
 * says so): 0 with *g its DescribeLogGroups entry; ERR_ALREADY_EXISTS
 * (prov_foreign) when someone else's; ERR_NOT_FOUND when there is none. */
static int lg_owned(struct provider_ctx *ctx, const char *name,
		    const struct value **g, struct provider_result *out,
		    struct err *err)
{
	struct value *p, *r;

	if (lg_get(ctx, name, g, err) < 0)
		return -1;
	if (!*g)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "log group \"%s\" does not exist", name);
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "resourceArn", lg_tag_arn(ctx, pv_str(*g, "arn")));
	if (!(r = pcall(ctx, "logs", "ListTagsForResource", p, err)))
		return -1;
	if (!tags_owned(ctx, pv(r, "tags")))
		return prov_foreign(ctx, name, pv(r, "tags"), out, err);
	return 0;
}

static int lg_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err);

static int lg_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a);
	const char *name = lg_name(ctx, props);
	const struct value *g;

	ps(a, p, "logGroupName", name);
	ps(a, p, "kmsKeyId", pv_str(props, "KmsKeyId"));
	value_map_set(a, p, "tags", tags_as_map(a, tags_merged(ctx, props)));
	/* ResourceAlreadyExistsException (a resent create after a lost
	 * answer, a stopped run, or someone else's group) goes back to the
	 * executor: its find() adopts only a group carrying this resource's
	 * cairn tags (set at create); another's is never changed */
	if (!pcall(ctx, "logs", "CreateLogGroup", p, err))
		return -1;
	/* made: a failure from here on deletes it again (no half-made group
	 * for the next attempt to trip over) */
	if (lg_retention(ctx, name, props, false, err) < 0 ||
	    lg_get(ctx, name, &g, err) < 0)
		return prov_undo_create(ctx, "log group", name, lg_delete, props,
					err);
	lg_result(ctx, name, g ? pv_str(g, "arn") : NULL, out);
	return 0;
}

/* Fills out from a DescribeLogGroups entry g of log group id, plus its
 * tags (one ListTagsForResource: DescribeLogGroups does not return them). */
static int lg_fill(struct provider_ctx *ctx, const char *id,
		   const struct value *g, struct provider_result *out,
		   struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p, *r, *t;

	lg_result(ctx, arena_strdup(a, id), pv_str(g, "arn"), out);
	out->props = value_new_map(a);
	ps(a, out->props, "LogGroupName", id);
	pn(a, out->props, "RetentionInDays", pv_str(g, "retentionInDays"));
	ps(a, out->props, "KmsKeyId", pv_str(g, "kmsKeyId"));
	/* a refresh's tag listing (tagging.h) first; a point read when it
	 * has no answer for this group */
	if ((t = tagging_lookup(a, lg_tag_arn(ctx, pv_str(g, "arn"))))) {
		t = tags_from_aws(a, t, "Key", "Value");
	} else {
		p = value_new_map(a);
		ps(a, p, "resourceArn", lg_tag_arn(ctx, pv_str(g, "arn")));
		if (!(r = pcall(ctx, "logs", "ListTagsForResource", p, err)))
			return -1;
		t = tags_from_aws(a, pv(r, "tags"), NULL, NULL);
	}
	if (t)
		value_map_set(a, out->props, "Tags", t);
	return 0;
}

static int lg_read(struct provider_ctx *ctx, const char *id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	const struct value *g;

	(void)attrs;
	if (lg_get(ctx, id, &g, err) < 0)
		return -1;
	if (!g)
		return prov_fail(ctx, err, ERR_NOT_FOUND, "log group \"%s\" does not exist",
				 id);
	return lg_fill(ctx, id, g, out, err);
}

/* DescribeLogGroups with logGroupIdentifiers (n <= 50 names): found[i]
 * the entry of ids[i], NULL when AWS left it out (gone). */
static int lg_by_ids(struct provider_ctx *ctx, size_t n,
		     const char *const *ids, const struct value **found,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a), *l = value_new_list(a), *r;
	const struct value *gl;
	size_t i, k;

	for (i = 0; i < n; i++)
		value_list_push(a, l, value_new_string(a, ids[i]));
	value_map_set(a, p, "logGroupIdentifiers", l);
	if (!(r = pcall(ctx, "logs", "DescribeLogGroups", p, err)) ||
	    !(gl = aws_get_list(a, r, "logGroups", err)))
		return -1;
	for (k = 0; k < gl->u.list.n; k++) {
		const char *gn = pv_str(gl->u.list.items[k], "logGroupName");
		for (i = 0; gn && i < n; i++)
			if (!found[i] && !strcmp(ids[i], gn))
				found[i] = gl->u.list.items[k];
	}
	return 0;
}

/*
 * Batched read: logGroupIdentifiers (lg_by_ids) first. Without it, this
 * API version of DescribeLogGroups filters by name
 * prefix only (no list of names), so the groups are listed with the
 * longest prefix all the names share, page by page (50 a page), until
 * every name is seen; when the names share no prefix, or the listing
 * outgrows half a page per name (a prefix shared with many groups that
 * are not ours), the names still missing are looked up one by one, so
 * the listing costs at most half a call per name on top of those
 * lookups. A name
 * neither listed nor found alone is gone. Tags still cost one
 * ListTagsForResource per group: no Logs call returns several groups'
 * tags.
 */
static int lg_read_many(struct provider_ctx *ctx, size_t n,
			const char *const *ids, struct provider_result *outs,
			struct err *err)
{
	struct arena *a = ctx->arena;
	const struct value **found = arena_alloc(a, (n ? n : 1) * sizeof(*found));
	size_t i, k, lcp, missing = n, pages = 0, budget = n / 2 ? n / 2 : 1;
	const char *token = NULL, *prefix;

	if (!n)
		return 0;
	lcp = strlen(ids[0]);
	for (i = 0; i < n; i++) {
		found[i] = NULL;
		memset(&outs[i], 0, sizeof(outs[i]));
		for (k = 0; k < lcp && ids[i][k] == ids[0][k]; k++)
			;
		lcp = k;
	}
	prefix = arena_strndup(a, ids[0], lcp);
	/* logGroupIdentifiers: up to 50 names in one call, the names that do
	 * not exist left out (DescribeLogGroups API reference); an endpoint
	 * that refuses the parameter (InvalidParameterException, older
	 * partitions) gets the prefix listing below */
	if (n > 1 && n <= 50) {
		int rc = lg_by_ids(ctx, n, ids, found, err);
		if (rc == 0) {
			for (i = 0; i < n; i++)
				if (found[i] &&
				    lg_fill(ctx, ids[i], found[i], &outs[i], err) < 0)
					return -1;
			return 0;
		}
		if (strcmp(err->aws_code, "InvalidParameterException") &&
		    strcmp(err->aws_code, "ValidationException"))
			return -1;
		err_clear(err);
	}
	while (lcp && n > 1 && missing && pages < budget) {
		struct value *p = value_new_map(a), *r;
		const struct value *l;
		ps(a, p, "logGroupNamePrefix", prefix);
		ps(a, p, "nextToken", token);
		pages++;
		if (!(r = pcall(ctx, "logs", "DescribeLogGroups", p, err)) ||
		    !(l = aws_get_list(a, r, "logGroups", err)))
			return -1;
		for (k = 0; k < l->u.list.n; k++) {
			const char *gn = pv_str(l->u.list.items[k], "logGroupName");
			for (i = 0; gn && i < n; i++)
				if (!found[i] && !strcmp(ids[i], gn)) {
					found[i] = l->u.list.items[k];
					missing--;
				}
		}
		if (!(token = pv_str(r, "nextToken")))
			break;
	}
	for (i = 0; i < n; i++) {
		/* listed to the end: what the listing lacks is gone */
		if (!found[i] && (!lcp || n == 1 || token) &&
		    lg_get(ctx, ids[i], &found[i], err) < 0)
			return -1;
		if (found[i] && lg_fill(ctx, ids[i], found[i], &outs[i], err) < 0)
			return -1;
	}
	return 0;
}

static int lg_update(struct provider_ctx *ctx, const char *id,
		     const struct value *old_props, const struct value *new_props,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	(void)attrs;
	if (pv_changed(old_props, new_props, "RetentionInDays") &&
	    lg_retention(ctx, id, new_props, true, err) < 0)
		return -1;
	if (lg_read(ctx, id, NULL, out, err) < 0)
		return -1;
	if (api_update_tags(ctx, &LOGS_TAGS,
			    lg_tag_arn(ctx, value_str(value_map_get(out->attrs, "Arn"))),
			    old_props, new_props, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

static int lg_delete(struct provider_ctx *ctx, const char *id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	struct value *p = value_new_map(ctx->arena);

	(void)props;
	(void)attrs;
	ps(ctx->arena, p, "logGroupName", id);
	if (!pcall_retry(ctx, "logs", "DeleteLogGroup", p,
			 (const char *const[]){ "OperationAbortedException", NULL },
			 60.0, err))
		return gone_is_ok(err);
	return 0;
}

static int lg_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err)
{
	const char *name = lg_name(ctx, props);
	const struct value *g;

	if (lg_owned(ctx, name, &g, out, err) < 0 ||
	    lg_fill(ctx, name, g, out, err) < 0)
		return -1;
	out->props = NULL;
	return 0;
}

const struct provider prov_logs_log_group = {
	.type = "AWS::Logs::LogGroup",
	.create = lg_create,
	.read = lg_read,
	.read_many = lg_read_many,
	.update = lg_update,
	.delete = lg_delete,
	.find = lg_find,
};
