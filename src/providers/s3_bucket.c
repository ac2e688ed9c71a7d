/*
 * AWS::S3::Bucket and AWS::S3::BucketPolicy (S3, REST-XML through
 * aws_s3_bucket_call).
 *
 * Bucket: Ref = bucket name; GetAtt Arn, DomainName, RegionalDomainName,
 * DualStackDomainName, WebsiteURL (CloudFormation's documented forms). The
 * name is generated when the template has none (lowercase, at most 63
 * characters). Supported configuration: VersioningConfiguration,
 * BucketEncryption, PublicAccessBlockConfiguration, LifecycleConfiguration,
 * OwnershipControls, Tags; each is one PUT (and a DELETE when the template
 * drops it), in place. Other configuration properties are refused clearly.
 *
 * What a bucket has without being told: SSE-S3 encryption (AES256), all
 * four public access blocks on and ObjectOwnership BucketOwnerEnforced (the
 * defaults of every new bucket since 2023). A read reports a configuration
 * the template set (remembered in the cairn:configured attribute), and any
 * other one only when it differs from those defaults, so a template that
 * leaves them out sees no drift.
 *
 * Delete: S3 refuses a bucket that still holds objects (BucketNotEmpty);
 * cairn does not empty it (CloudFormation does not either) and says so:
 * empty it, or keep it with DeletionPolicy: Retain.
 *
 * An existing bucket of the template's name is never taken over: HeadBucket
 * before CreateBucket, and find() adopts only this resource's tagged bucket
 * or, bare, the one a stopped run's open intent provably made (see "is an
 * existing bucket this resource's?" below; docs/real-account.md).
 *
 * BucketPolicy: Ref = the bucket name (the primary identifier); the policy
 * is one PUT; read compares the canonical JSON. A policy already on the
 * bucket with another document is not replaced (bpol_create).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "prov_int.h"

static struct value *s3call(struct provider_ctx *ctx, const char *method,
			    const char *bucket, const char *sub, const char *op,
			    const char *body, struct err *err)
{
	struct value *r = aws_s3_bucket_call(ctx->aws, method, bucket, sub, op,
					     body, ctx->arena, err);

	if (!r)
		err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	return r;
}

/* ---- XML */

static void xml_text(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		default: strbuf_addch(sb, *s);
		}
	}
}

static void xml_el(struct strbuf *sb, const char *tag, const char *text)
{
	if (!text)
		return;
	strbuf_addf(sb, "<%s>", tag);
	xml_text(sb, text);
	strbuf_addf(sb, "</%s>", tag);
}

static const char *XMLNS = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

/* A repeated XML element comes back as a list, a single one as a map. */
static const struct value *item_at(const struct value *v, size_t i, size_t *n)
{
	if (!v) {
		*n = 0;
		return NULL;
	}
	if (v->kind == VALUE_LIST) {
		*n = v->u.list.n;
		return i < v->u.list.n ? v->u.list.items[i] : NULL;
	}
	*n = 1;
	return i == 0 ? v : NULL;
}

static struct value *num(struct arena *a, const char *s)
{
	return value_new_number(a, s);
}

/* ---- configuration documents from the template */

static const char *tags_xml(struct provider_ctx *ctx, const struct value *props)
{
	const struct value *t = tags_merged(ctx, props);
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	size_t i;

	strbuf_addf(&sb, "<Tagging%s><TagSet>", XMLNS);
	for (i = 0; i < t->u.list.n; i++) {
		strbuf_addstr(&sb, "<Tag>");
		xml_el(&sb, "Key", pv_str(t->u.list.items[i], "Key"));
		xml_el(&sb, "Value", pv_str(t->u.list.items[i], "Value"));
		strbuf_addstr(&sb, "</Tag>");
	}
	strbuf_addstr(&sb, "</TagSet></Tagging>");
	out = arena_strdup(ctx->arena, sb.buf);
	strbuf_release(&sb);
	return out;
}

static const char *bool_text(const struct value *m, const char *k)
{
	return pv_has(m, k) ? (pv_bool(m, k, false) ? "true" : "false") : NULL;
}

static const char *encryption_xml(struct arena *a, const struct value *be)
{
	const struct value *rules = pv(be, "ServerSideEncryptionConfiguration");
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	size_t i;

	strbuf_addf(&sb, "<ServerSideEncryptionConfiguration%s>", XMLNS);
	for (i = 0; rules && rules->kind == VALUE_LIST && i < rules->u.list.n; i++) {
		const struct value *r = rules->u.list.items[i];
		const struct value *d = pv(r, "ServerSideEncryptionByDefault");
		strbuf_addstr(&sb, "<Rule>");
		if (d) {
			strbuf_addstr(&sb, "<ApplyServerSideEncryptionByDefault>");
			xml_el(&sb, "SSEAlgorithm", pv_str(d, "SSEAlgorithm"));
			xml_el(&sb, "KMSMasterKeyID", pv_str(d, "KMSMasterKeyID"));
			strbuf_addstr(&sb, "</ApplyServerSideEncryptionByDefault>");
		}
		xml_el(&sb, "BucketKeyEnabled", bool_text(r, "BucketKeyEnabled"));
		strbuf_addstr(&sb, "</Rule>");
	}
	strbuf_addstr(&sb, "</ServerSideEncryptionConfiguration>");
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}

static const char *const PAB_KEYS[] = { "BlockPublicAcls", "IgnorePublicAcls",
					"BlockPublicPolicy",
					"RestrictPublicBuckets", NULL };

static const char *pab_xml(struct arena *a, const struct value *c)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	size_t i;

	strbuf_addf(&sb, "<PublicAccessBlockConfiguration%s>", XMLNS);
	for (i = 0; PAB_KEYS[i]; i++)
		xml_el(&sb, PAB_KEYS[i], pv_bool(c, PAB_KEYS[i], false) ? "true" : "false");
	strbuf_addstr(&sb, "</PublicAccessBlockConfiguration>");
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}

static const char *ownership_xml(struct arena *a, const struct value *c)
{
	const struct value *rules = pv(c, "Rules");
	struct strbuf sb = STRBUF_INIT;
	const char *out;
	size_t i;

	strbuf_addf(&sb, "<OwnershipControls%s>", XMLNS);
	for (i = 0; rules && rules->kind == VALUE_LIST && i < rules->u.list.n; i++) {
		strbuf_addstr(&sb, "<Rule>");
		xml_el(&sb, "ObjectOwnership",
		       pv_str(rules->u.list.items[i], "ObjectOwnership"));
		strbuf_addstr(&sb, "</Rule>");
	}
	strbuf_addstr(&sb, "</OwnershipControls>");
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}

static void transition_xml(struct strbuf *sb, const char *tag,
			   const char *days_tag, const struct value *t)
{
	strbuf_addf(sb, "<%s>", tag);
	xml_el(sb, days_tag, pv_str(t, "TransitionInDays"));
	xml_el(sb, "Date", pv_str(t, "TransitionDate"));
	xml_el(sb, "StorageClass", pv_str(t, "StorageClass"));
	strbuf_addf(sb, "</%s>", tag);
}

static int lifecycle_xml(struct provider_ctx *ctx, const struct value *lc,
			 const char **out, struct err *err)
{
	const struct value *rules = pv(lc, "Rules");
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;

	strbuf_addf(&sb, "<LifecycleConfiguration%s>", XMLNS);
	for (i = 0; rules && rules->kind == VALUE_LIST && i < rules->u.list.n; i++) {
		const struct value *r = rules->u.list.items[i], *l, *nve, *abort;
		if (pv(r, "TagFilters") || pv(r, "ObjectSizeGreaterThan") ||
		    pv(r, "ObjectSizeLessThan")) {
			strbuf_release(&sb);
			return prov_fail(ctx, err, ERR_UNSUPPORTED,
					 "LifecycleConfiguration.Rules[%zu]: TagFilters and "
					 "object size filters are not supported yet", i);
		}
		strbuf_addstr(&sb, "<Rule>");
		xml_el(&sb, "ID", pv_str(r, "Id"));
		strbuf_addstr(&sb, "<Filter>");
		xml_el(&sb, "Prefix", pv_str(r, "Prefix"));
		strbuf_addstr(&sb, "</Filter>");
		xml_el(&sb, "Status", pv_str(r, "Status"));
		if (pv(r, "ExpirationInDays") || pv(r, "ExpirationDate") ||
		    pv(r, "ExpiredObjectDeleteMarker")) {
			strbuf_addstr(&sb, "<Expiration>");
			xml_el(&sb, "Days", pv_str(r, "ExpirationInDays"));
			xml_el(&sb, "Date", pv_str(r, "ExpirationDate"));
			xml_el(&sb, "ExpiredObjectDeleteMarker",
			       bool_text(r, "ExpiredObjectDeleteMarker"));
			strbuf_addstr(&sb, "</Expiration>");
		}
		if (pv(r, "Transition"))
			transition_xml(&sb, "Transition", "Days", pv(r, "Transition"));
		l = pv(r, "Transitions");
		for (j = 0; l && l->kind == VALUE_LIST && j < l->u.list.n; j++)
			transition_xml(&sb, "Transition", "Days", l->u.list.items[j]);
		nve = pv(r, "NoncurrentVersionExpiration");
		if (nve || pv(r, "NoncurrentVersionExpirationInDays")) {
			strbuf_addstr(&sb, "<NoncurrentVersionExpiration>");
			xml_el(&sb, "NoncurrentDays",
			       nve ? pv_str(nve, "NoncurrentDays")
				   : pv_str(r, "NoncurrentVersionExpirationInDays"));
			xml_el(&sb, "NewerNoncurrentVersions",
			       pv_str(nve, "NewerNoncurrentVersions"));
			strbuf_addstr(&sb, "</NoncurrentVersionExpiration>");
		}
		if (pv(r, "NoncurrentVersionTransition"))
			transition_xml(&sb, "NoncurrentVersionTransition", "NoncurrentDays",
				       pv(r, "NoncurrentVersionTransition"));
		l = pv(r, "NoncurrentVersionTransitions");
		for (j = 0; l && l->kind == VALUE_LIST && j < l->u.list.n; j++)
			transition_xml(&sb, "NoncurrentVersionTransition", "NoncurrentDays",
				       l->u.list.items[j]);
		abort = pv(r, "AbortIncompleteMultipartUpload");
		if (abort) {
			strbuf_addstr(&sb, "<AbortIncompleteMultipartUpload>");
			xml_el(&sb, "DaysAfterInitiation", pv_str(abort, "DaysAfterInitiation"));
			strbuf_addstr(&sb, "</AbortIncompleteMultipartUpload>");
		}
		strbuf_addstr(&sb, "</Rule>");
	}
	strbuf_addstr(&sb, "</LifecycleConfiguration>");
	*out = arena_strdup(ctx->arena, sb.buf);
	strbuf_release(&sb);
	return 0;
}

static const char *versioning_xml(struct arena *a, const struct value *vc)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out;

	strbuf_addf(&sb, "<VersioningConfiguration%s>", XMLNS);
	xml_el(&sb, "Status", pv_str(vc, "Status"));
	strbuf_addstr(&sb, "</VersioningConfiguration>");
	out = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return out;
}

/* ---- one configuration property: how it is put and removed */

struct bucket_conf {
	const char *prop, *sub, *put_op, *del_op;
};

static const struct bucket_conf CONFS[] = {
	{ "VersioningConfiguration", "versioning", "PutBucketVersioning", NULL },
	{ "BucketEncryption", "encryption", "PutBucketEncryption",
	  "DeleteBucketEncryption" },
	{ "PublicAccessBlockConfiguration", "publicAccessBlock",
	  "PutPublicAccessBlock", "DeletePublicAccessBlock" },
	{ "LifecycleConfiguration", "lifecycle", "PutBucketLifecycleConfiguration",
	  "DeleteBucketLifecycle" },
	{ "OwnershipControls", "ownershipControls", "PutBucketOwnershipControls",
	  "DeleteBucketOwnershipControls" },
};

static const char *const SUPPORTED[] = { "BucketName", "Tags",
					 "VersioningConfiguration",
					 "BucketEncryption",
					 "PublicAccessBlockConfiguration",
					 "LifecycleConfiguration",
					 "OwnershipControls", NULL };

static int conf_put(struct provider_ctx *ctx, const char *bucket,
		    const struct bucket_conf *c, const struct value *v,
		    struct err *err)
{
	struct arena *a = ctx->arena;
	const char *body = NULL;

	if (!v) {
		if (!strcmp(c->prop, "VersioningConfiguration")) {
			/* versioning cannot be turned off, only suspended */
			struct value *m = value_new_map(a);
			ps(a, m, "Status", "Suspended");
			body = versioning_xml(a, m);
			return s3call(ctx, "PUT", bucket, c->sub, c->put_op, body, err)
				       ? 0 : -1;
		}
		if (!s3call(ctx, "DELETE", bucket, c->sub, c->del_op, NULL, err))
			return gone_is_ok(err);
		return 0;
	}
	if (!strcmp(c->prop, "VersioningConfiguration"))
		body = versioning_xml(a, v);
	else if (!strcmp(c->prop, "BucketEncryption"))
		body = encryption_xml(a, v);
	else if (!strcmp(c->prop, "PublicAccessBlockConfiguration"))
		body = pab_xml(a, v);
	else if (!strcmp(c->prop, "OwnershipControls"))
		body = ownership_xml(a, v);
	else if (lifecycle_xml(ctx, v, &body, err) < 0)
		return -1;
	return s3call(ctx, "PUT", bucket, c->sub, c->put_op, body, err) ? 0 : -1;
}

/* ---- Bucket */

static const char *bucket_name(struct provider_ctx *ctx,
			       const struct value *props)
{
	const char *n = pv_str(props, "BucketName");

	return n ? n : provider_generate_name(ctx, 63, NAME_LOWER);
}

/* Website endpoints: the Regions older than 2014 use s3-website-<region>,
 * every later one s3-website.<region> (AWS General Reference, "Amazon S3
 * endpoints", website endpoints table). */
static int website_dash(const char *region)
{
	static const char *const dash[] = {
		"us-east-1", "us-west-1", "us-west-2", "ap-southeast-1",
		"ap-southeast-2", "ap-northeast-1", "eu-west-1", "sa-east-1",
		"us-gov-west-1",
	};
	size_t i;

	for (i = 0; i < sizeof(dash) / sizeof(dash[0]); i++)
		if (!strcmp(region, dash[i]))
			return 1;
	return 0;
}

static void bucket_result(struct provider_ctx *ctx, const char *name,
			  const struct value *props, struct provider_result *out)
{
	const char *region = ctx->region ? ctx->region : "us-east-1";
	const char *suffix = ctx->partition && !strcmp(ctx->partition, "aws-cn")
				     ? "amazonaws.com.cn" : "amazonaws.com";
	char known[64];
	struct value *set;
	size_t i;

	/* a bucket that answered from another Region (an imported one):
	 * its own Region's names */
	if (aws_s3_known_region(ctx->aws, name, known, sizeof(known)))
		region = arena_strdup(ctx->arena, known);

	memset(out, 0, sizeof(*out));
	out->physical_id = name;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", name);
	set_attr(ctx, out->attrs, "Arn",
		 arena_sprintf(ctx->arena, "arn:%s:s3:::%s",
			       ctx->partition ? ctx->partition : "aws", name));
	set_attr(ctx, out->attrs, "DomainName",
		 arena_sprintf(ctx->arena, "%s.s3.%s", name, suffix));
	set_attr(ctx, out->attrs, "RegionalDomainName",
		 arena_sprintf(ctx->arena, "%s.s3.%s.%s", name, region, suffix));
	set_attr(ctx, out->attrs, "DualStackDomainName",
		 arena_sprintf(ctx->arena, "%s.s3.dualstack.%s.%s", name, region,
			       suffix));
	set_attr(ctx, out->attrs, "WebsiteURL",
		 arena_sprintf(ctx->arena, "http://%s.s3-website%c%s.%s", name,
			       website_dash(region) ? '-' : '.', region, suffix));
	if (!props)
		return;
	set = value_new_list(ctx->arena);
	for (i = 0; i < sizeof(CONFS) / sizeof(CONFS[0]); i++)
		if (pv(props, CONFS[i].prop))
			value_list_push(ctx->arena, set,
					value_new_string(ctx->arena, CONFS[i].prop));
	value_map_set(ctx->arena, out->attrs, "cairn:configured", set);
}

static int check_supported(struct provider_ctx *ctx, const struct value *props,
			   struct err *err)
{
	size_t i, j;

	for (i = 0; props && props->kind == VALUE_MAP && i < props->u.map.n; i++) {
		const char *k = props->u.map.items[i].key;
		for (j = 0; SUPPORTED[j] && strcmp(SUPPORTED[j], k); j++)
			;
		if (!SUPPORTED[j])
			return prov_fail(ctx, err, ERR_UNSUPPORTED,
					 "property %s is not supported by cairn's "
					 "S3 provider yet", k);
	}
	return 0;
}

static int bucket_delete(struct provider_ctx *ctx, const char *id,
			 const struct value *props, const struct value *attrs,
			 struct err *err);

/* ---- is an existing bucket this resource's? (docs/real-account.md)
 *
 * CreateBucket does not say whether a bucket of the account was already
 * there: outside us-east-1 it answers BucketAlreadyOwnedByYou both to a
 * resent create whose first answer was lost and to a bucket made long ago
 * by someone else, and us-east-1 answers 200 to both (and resets the
 * bucket's ACL). So cairn asks HeadBucket first: a bucket that exists
 * before the create is never taken for the create's own; the executor's
 * find() then decides (bucket_find). CloudFormation refuses an existing
 * name the same way ("<name> already exists"). */

/* HeadBucket: 1 when it exists (its Region into where), 0 when not (404),
 * -1 with err (403: another account's, or not readable). */
static int bucket_exists(struct provider_ctx *ctx, const char *name,
			 char *where, size_t n, struct err *err)
{
	if (aws_s3_bucket_region(ctx->aws, name, where, n, err) == 0)
		return 1;
	if (err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 0;
	}
	if (err->http_status == 403 || err->code == ERR_ACCESS_DENIED)
		return prov_fail(ctx, err, ERR_ACCESS_DENIED,
				 "bucket \"%s\" exists but cannot be read with these "
				 "credentials (HeadBucket answered 403): it is another "
				 "account's (bucket names are global across all AWS "
				 "accounts), or s3:ListBucket is not allowed; choose "
				 "another BucketName", name);
	err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
	return -1;
}

static int bucket_create(struct provider_ctx *ctx, const struct value *props,
			 struct provider_result *out, struct err *err)
{
	const char *name = bucket_name(ctx, props), *body = NULL;
	const char *want = ctx->region ? ctx->region : "us-east-1";
	size_t i;

	if (check_supported(ctx, props, err) < 0)
		return -1;
	/* a generated name comes from this operation's token: only its own
	 * attempts can have made it. A name from the template may be
	 * anyone's: looked at before anything is sent */
	if (pv_str(props, "BucketName")) {
		char where[64];
		int e = bucket_exists(ctx, name, where, sizeof(where), err);
		if (e < 0)
			return -1;
		/* not ERR_ALREADY_EXISTS: nothing to look for by tags, a
		 * stopped run of this stack cannot have made it in another
		 * Region */
		if (e && strcmp(where, want))
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "bucket \"%s\" already exists in %s (this "
					 "account's); a stack in %s cannot create it: "
					 "choose another BucketName or import it",
					 name, where, want);
		/* the executor's find() adopts it only when it is provably
		 * this resource's, else names it with the import command */
		if (e)
			return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
					 "bucket \"%s\" already exists", name);
	}
	if (ctx->region && strcmp(ctx->region, "us-east-1"))
		body = arena_sprintf(ctx->arena,
				     "<CreateBucketConfiguration%s><LocationConstraint>%s"
				     "</LocationConstraint></CreateBucketConfiguration>",
				     XMLNS, ctx->region);
	if (!s3call(ctx, "PUT", name, "", "CreateBucket", body, err)) {
		bool owned = !strcmp(err->aws_code, "BucketAlreadyOwnedByYou");
		struct err e2 = ERR_INIT;
		char where[64];

		if (!strcmp(err->aws_code, "BucketAlreadyExists"))
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "bucket name \"%s\" is taken by another AWS "
					 "account (S3 answered BucketAlreadyExists; bucket "
					 "names are global across all accounts): choose "
					 "another BucketName", name);
		/* the bucket was not there a moment ago (HeadBucket, or a
		 * name only this token makes): BucketAlreadyOwnedByYou is
		 * the create's own earlier attempt, whose answer was lost and
		 * which the client sent again (us-east-1 says so by
		 * succeeding). Or every answer was lost (us-east-1's 200 to
		 * the resend can be lost too): S3 may have applied one of
		 * them, and a bucket there now is this create's */
		if (!owned && err->code != ERR_TRANSIENT && err->code != ERR_TIMEOUT)
			return -1;
		if (bucket_exists(ctx, name, where, sizeof(where), &e2) != 1)
			return -1;
		/* not this create's after all: made in another Region by
		 * someone else in the meantime */
		if (strcmp(where, want))
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "bucket \"%s\" already exists in %s (this "
					 "account's); a stack in %s cannot create it: "
					 "choose another BucketName or import it",
					 name, where, want);
		log_debug("%s: CreateBucket %s: bucket %s is this create's (its "
			  "first answer was lost)", ctx->logical_id,
			  owned ? "answered BucketAlreadyOwnedByYou"
				: "got no answer", name);
		err_clear(err);
	}
	if (!s3call(ctx, "PUT", name, "tagging", "PutBucketTagging",
		    tags_xml(ctx, props), err))
		goto undo;
	for (i = 0; i < sizeof(CONFS) / sizeof(CONFS[0]); i++)
		if (pv(props, CONFS[i].prop) &&
		    conf_put(ctx, name, &CONFS[i], pv(props, CONFS[i].prop), err) < 0)
			goto undo;
	bucket_result(ctx, name, props, out);
	return 0;
undo:
	/* a half-configured bucket this call made (empty): deleted again */
	return prov_undo_create(ctx, "bucket", name, bucket_delete, props, err);
}

/* ---- reading the configuration back in the template's shape */

static struct value *read_encryption(struct arena *a, const struct value *r,
				     bool *is_default)
{
	struct value *rules = value_new_list(a), *be = value_new_map(a);
	const struct value *rl = pv(r, "Rule");
	size_t i, n;

	*is_default = true;
	for (i = 0; item_at(rl, i, &n); i++) {
		const struct value *x = item_at(rl, i, &n);
		const struct value *d = pv(x, "ApplyServerSideEncryptionByDefault");
		struct value *rule = value_new_map(a), *dd = value_new_map(a);
		ps(a, dd, "SSEAlgorithm", pv_str(d, "SSEAlgorithm"));
		ps(a, dd, "KMSMasterKeyID", pv_str(d, "KMSMasterKeyID"));
		value_map_set(a, rule, "ServerSideEncryptionByDefault", dd);
		if (pv_str(x, "BucketKeyEnabled"))
			pb(a, rule, "BucketKeyEnabled",
			   !strcmp(pv_str(x, "BucketKeyEnabled"), "true"));
		if (!pv_str(d, "SSEAlgorithm") || strcmp(pv_str(d, "SSEAlgorithm"), "AES256") ||
		    pv_bool(rule, "BucketKeyEnabled", false))
			*is_default = false;
		value_list_push(a, rules, rule);
	}
	value_map_set(a, be, "ServerSideEncryptionConfiguration", rules);
	return be;
}

static struct value *read_pab(struct arena *a, const struct value *r,
			      bool *is_default)
{
	struct value *m = value_new_map(a);
	size_t i;

	*is_default = true;
	for (i = 0; PAB_KEYS[i]; i++) {
		const char *s = pv_str(r, PAB_KEYS[i]);
		bool b = s && !strcmp(s, "true");
		pb(a, m, PAB_KEYS[i], b);
		if (!b)
			*is_default = false;
	}
	return m;
}

static struct value *read_ownership(struct arena *a, const struct value *r,
				    bool *is_default)
{
	struct value *m = value_new_map(a), *rules = value_new_list(a), *x;
	const char *o = pv_str(pv(r, "Rule"), "ObjectOwnership");

	*is_default = o && !strcmp(o, "BucketOwnerEnforced");
	x = value_new_map(a);
	ps(a, x, "ObjectOwnership", o);
	value_list_push(a, rules, x);
	value_map_set(a, m, "Rules", rules);
	return m;
}

static void read_transition(struct arena *a, struct value *list,
			    const struct value *t, const char *days_tag)
{
	struct value *m = value_new_map(a);

	if (pv_str(t, days_tag))
		value_map_set(a, m, "TransitionInDays", num(a, pv_str(t, days_tag)));
	ps(a, m, "TransitionDate", pv_str(t, "Date"));
	ps(a, m, "StorageClass", pv_str(t, "StorageClass"));
	value_list_push(a, list, m);
}

static struct value *read_lifecycle(struct arena *a, const struct value *r)
{
	struct value *lc = value_new_map(a), *rules = value_new_list(a);
	const struct value *rl = pv(r, "Rule");
	size_t i, j, n, m;

	for (i = 0; item_at(rl, i, &n); i++) {
		const struct value *x = item_at(rl, i, &n), *e = pv(x, "Expiration"), *t;
		struct value *rule = value_new_map(a), *l;
		ps(a, rule, "Id", pv_str(x, "ID"));
		ps(a, rule, "Prefix", pv_str(pv(x, "Filter"), "Prefix")
					      ? pv_str(pv(x, "Filter"), "Prefix")
					      : pv_str(x, "Prefix"));
		if (pv_str(rule, "Prefix") && !*pv_str(rule, "Prefix"))
			value_map_del(rule, "Prefix");
		ps(a, rule, "Status", pv_str(x, "Status"));
		if (pv_str(e, "Days"))
			value_map_set(a, rule, "ExpirationInDays", num(a, pv_str(e, "Days")));
		ps(a, rule, "ExpirationDate", pv_str(e, "Date"));
		if (pv_str(e, "ExpiredObjectDeleteMarker"))
			pb(a, rule, "ExpiredObjectDeleteMarker",
			   !strcmp(pv_str(e, "ExpiredObjectDeleteMarker"), "true"));
		t = pv(x, "Transition");
		if (item_at(t, 0, &m)) {
			l = value_new_list(a);
			for (j = 0; item_at(t, j, &m); j++)
				read_transition(a, l, item_at(t, j, &m), "Days");
			value_map_set(a, rule, "Transitions", l);
		}
		t = pv(x, "NoncurrentVersionTransition");
		if (item_at(t, 0, &m)) {
			l = value_new_list(a);
			for (j = 0; item_at(t, j, &m); j++)
				read_transition(a, l, item_at(t, j, &m), "NoncurrentDays");
			value_map_set(a, rule, "NoncurrentVersionTransitions", l);
		}
		t = pv(x, "NoncurrentVersionExpiration");
		if (t) {
			struct value *nve = value_new_map(a);
			if (pv_str(t, "NoncurrentDays"))
				value_map_set(a, nve, "NoncurrentDays",
					      num(a, pv_str(t, "NoncurrentDays")));
			if (pv_str(t, "NewerNoncurrentVersions"))
				value_map_set(a, nve, "NewerNoncurrentVersions",
					      num(a, pv_str(t, "NewerNoncurrentVersions")));
			value_map_set(a, rule, "NoncurrentVersionExpiration", nve);
		}
		t = pv(x, "AbortIncompleteMultipartUpload");
		if (t && pv_str(t, "DaysAfterInitiation")) {
			struct value *ab = value_new_map(a);
			value_map_set(a, ab, "DaysAfterInitiation",
				      num(a, pv_str(t, "DaysAfterInitiation")));
			value_map_set(a, rule, "AbortIncompleteMultipartUpload", ab);
		}
		value_list_push(a, rules, rule);
	}
	value_map_set(a, lc, "Rules", rules);
	return lc;
}

/* GetBucketTagging's tags as a list (one <Tag> comes back as a map). */
static struct value *raw_tags(struct arena *a, const struct value *r)
{
	const struct value *tl = r ? pv(pv(r, "TagSet"), "Tag") : NULL;
	struct value *l = value_new_list(a);
	size_t i, n;

	for (i = 0; item_at(tl, i, &n); i++)
		value_list_push(a, l, (struct value *)item_at(tl, i, &n));
	return l;
}

static bool configured(const struct value *attrs, const char *prop)
{
	const struct value *l = value_map_get(attrs, "cairn:configured");
	size_t i;

	for (i = 0; l && l->kind == VALUE_LIST && i < l->u.list.n; i++)
		if (value_str(l->u.list.items[i]) &&
		    !strcmp(value_str(l->u.list.items[i]), prop))
			return true;
	return false;
}

/* GET of one configuration; NULL without error when S3 has none (404
 * NoSuch...Configuration, not NoSuchBucket). */
static struct value *conf_get(struct provider_ctx *ctx, const char *bucket,
			      const char *sub, const char *op, struct err *err)
{
	struct value *r = s3call(ctx, "GET", bucket, sub, op, NULL, err);

	if (!r && err->code == ERR_NOT_FOUND && strcmp(err->aws_code, "NoSuchBucket"))
		err_clear(err);
	return r;
}

static int bucket_read(struct provider_ctx *ctx, const char *id,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *r, *props, *t;
	bool dflt;

	/* the bucket itself (NoSuchBucket: gone) and its tags */
	r = conf_get(ctx, id, "tagging", "GetBucketTagging", err);
	if (!r && err->code)
		return -1;
	bucket_result(ctx, id, NULL, out);
	if (value_map_get(attrs, "cairn:configured"))
		value_map_set(a, out->attrs, "cairn:configured",
			      value_map_get(attrs, "cairn:configured"));
	props = value_new_map(a);
	ps(a, props, "BucketName", id);
	t = tags_from_aws(a, raw_tags(a, r), "Key", "Value");
	if (t)
		value_map_set(a, props, "Tags", t);
	if (!(r = conf_get(ctx, id, "versioning", "GetBucketVersioning", err)) && err->code)
		return -1;
	if (r && pv_str(r, "Status")) {
		struct value *vc = value_new_map(a);
		ps(a, vc, "Status", pv_str(r, "Status"));
		value_map_set(a, props, "VersioningConfiguration", vc);
	}
	if (!(r = conf_get(ctx, id, "encryption", "GetBucketEncryption", err)) && err->code)
		return -1;
	if (r) {
		struct value *be = read_encryption(a, r, &dflt);
		if (!dflt || configured(attrs, "BucketEncryption"))
			value_map_set(a, props, "BucketEncryption", be);
	}
	if (!(r = conf_get(ctx, id, "publicAccessBlock", "GetPublicAccessBlock", err)) &&
	    err->code)
		return -1;
	if (r) {
		struct value *pab = read_pab(a, r, &dflt);
		if (!dflt || configured(attrs, "PublicAccessBlockConfiguration"))
			value_map_set(a, props, "PublicAccessBlockConfiguration", pab);
	}
	if (!(r = conf_get(ctx, id, "ownershipControls", "GetBucketOwnershipControls",
			   err)) && err->code)
		return -1;
	if (r) {
		struct value *oc = read_ownership(a, r, &dflt);
		if (!dflt || configured(attrs, "OwnershipControls"))
			value_map_set(a, props, "OwnershipControls", oc);
	}
	if (!(r = conf_get(ctx, id, "lifecycle", "GetBucketLifecycleConfiguration", err)) &&
	    err->code)
		return -1;
	if (r)
		value_map_set(a, props, "LifecycleConfiguration", read_lifecycle(a, r));
	out->props = props;
	return 0;
}

static int bucket_update(struct provider_ctx *ctx, const char *id,
			 const struct value *old_props,
			 const struct value *new_props, const struct value *attrs,
			 struct provider_result *out, struct err *err)
{
	size_t i;

	(void)attrs;
	if (check_supported(ctx, new_props, err) < 0)
		return -1;
	for (i = 0; i < sizeof(CONFS) / sizeof(CONFS[0]); i++)
		if (pv_changed(old_props, new_props, CONFS[i].prop) &&
		    conf_put(ctx, id, &CONFS[i], pv(new_props, CONFS[i].prop), err) < 0)
			return -1;
	if (pv_changed(old_props, new_props, "Tags") &&
	    !s3call(ctx, "PUT", id, "tagging", "PutBucketTagging",
		    tags_xml(ctx, new_props), err))
		return -1;
	bucket_result(ctx, id, new_props, out);
	return 0;
}

static int bucket_delete(struct provider_ctx *ctx, const char *id,
			 const struct value *props, const struct value *attrs,
			 struct err *err)
{
	(void)props;
	(void)attrs;
	if (s3call(ctx, "DELETE", id, "", "DeleteBucket", NULL, err))
		return 0;
	if (!strcmp(err->aws_code, "BucketNotEmpty"))
		return prov_fail(ctx, err, ERR_CONFLICT,
				 "bucket \"%s\" is not empty: cairn does not delete "
				 "objects; empty the bucket (aws s3 rm s3://%s "
				 "--recursive, and its versions when versioning is on) "
				 "or keep it with DeletionPolicy: Retain",
				 id, id);
	if (!strcmp(err->aws_code, "NoSuchBucket")) {
		err_clear(err);
		return 0;
	}
	return -1;
}

/* UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" as seconds since the epoch; -1 when
 * it is not that. */
static double utc_seconds(const char *s)
{
	struct tm tm;
	const char *rest;
	time_t t;
	double frac = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	t = timegm(&tm);
	return t == (time_t)-1 ? -1 : (double)t + frac;
}

/* Whether the bucket `name`, which exists without any tag, is provably
 * what the stopped run's open create intent made (CreateBucket takes no
 * tags: a run that stopped between CreateBucket and PutBucketTagging
 * leaves it bare). It must have been created after that intent was
 * written (ListBuckets' CreationDate against ctx->intent_at, cairn's
 * clock brought to S3's with the answer's Date header; without one, S3's
 * own 15-minute signature window bounds the skew) and still be as
 * CreateBucket leaves a bucket: no objects, no versions, no policy.
 * AWS documents that CreationDate can move when the bucket is changed
 * (its policy edited): a changed bucket fails the other tests. */
static int bucket_made_by_intent(struct provider_ctx *ctx, const char *name,
				 bool *mine, struct err *err)
{
	char created[64];
	time_t server_now = 0, local_now;
	double intent = utc_seconds(ctx->intent_at), at, skew = 0, slack = 900;
	struct value *r;

	*mine = false;
	if (intent < 0)
		return 0;
	if (aws_s3_bucket_created(ctx->aws, name, created, sizeof(created),
				  &server_now, err) < 0) {
		err_prefix(err, "%s %s: ", ctx->type, ctx->logical_id);
		return -1;
	}
	local_now = time(NULL);
	if (server_now > 0) {
		skew = difftime(server_now, local_now);
		/* Date has whole seconds, the intent milliseconds */
		slack = 5;
	}
	at = utc_seconds(created);
	if (at < 0 || at + slack < intent + skew) {
		log_debug("%s: bucket %s was created %s, before the open intent of %s "
			  "(S3's clock %+.0fs from cairn's): not that intent's",
			  ctx->logical_id, name, created[0] ? created : "(unknown)",
			  ctx->intent_at, skew);
		return 0;
	}
	r = s3call(ctx, "GET", name, "versions&max-keys=1", "ListObjectVersions",
		   NULL, err);
	if (!r)
		return -1;
	if (pv(r, "Version") || pv(r, "DeleteMarker"))
		return 0;
	r = s3call(ctx, "GET", name, "list-type=2&max-keys=1", "ListObjectsV2",
		   NULL, err);
	if (!r)
		return -1;
	if (pv(r, "Contents"))
		return 0;
	r = conf_get(ctx, name, "policy", "GetBucketPolicy", err);
	if (!r && err->code)
		return -1;
	if (r)
		return 0;
	*mine = true;
	return 0;
}

/* A bucket of this (template or generated) name made by a stopped run:
 * adopted only with this resource's cairn tags, or, bare, when it is
 * provably the stopped run's open intent's (bucket_made_by_intent).
 * Anything else is someone else's: ERR_ALREADY_EXISTS naming it. */
static int bucket_find(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	const char *name = bucket_name(ctx, props);
	const char *want = ctx->region ? ctx->region : "us-east-1";
	char where[64];
	struct value *r, *tl;
	bool mine = false;
	int e = bucket_exists(ctx, name, where, sizeof(where), err);

	if (e < 0)
		return -1;
	if (!e)
		return prov_fail(ctx, err, ERR_NOT_FOUND,
				 "bucket \"%s\" does not exist", name);
	if (strcmp(where, want))
		return prov_fail(ctx, err, ERR_VALIDATION,
				 "bucket \"%s\" already exists in %s (this "
				 "account's); a stack in %s cannot create it: "
				 "choose another BucketName or import it", name,
				 where, want);
	r = conf_get(ctx, name, "tagging", "GetBucketTagging", err);
	if (!r && err->code)
		return -1;
	tl = raw_tags(ctx->arena, r);
	if (!tags_owned(ctx, tl)) {
		if (!tl->u.list.n && ctx->intent_at &&
		    bucket_made_by_intent(ctx, name, &mine, err) < 0)
			return -1;
		if (!mine)
			return prov_foreign(ctx, name, tl, out, err);
		log_msg(LOG_INFO, "%s: bucket %s has no tags yet but was created "
			"after this resource's open create intent (%s) and is "
			"empty: the stopped run's", ctx->logical_id, name,
			ctx->intent_at);
	}
	bucket_result(ctx, name, props, out);
	return 0;
}

const struct provider prov_s3_bucket = {
	.type = "AWS::S3::Bucket",
	.create = bucket_create,
	.read = bucket_read,
	.update = bucket_update,
	.delete = bucket_delete,
	.find = bucket_find,
};

/* ========================================================= BucketPolicy */

static void policy_result(struct provider_ctx *ctx, const char *bucket,
			  struct provider_result *out)
{
	memset(out, 0, sizeof(*out));
	out->physical_id = bucket;
	out->attrs = value_new_map(ctx->arena);
	set_attr(ctx, out->attrs, "Ref", bucket);
}

static int bpol_put(struct provider_ctx *ctx, const char *bucket,
		    const struct value *props, struct err *err)
{
	static const char *const retry[] = { "NoSuchBucket", NULL };
	const char *text = policy_text(ctx->arena, pv(props, "PolicyDocument"));
	double dl = prov_deadline(ctx, 30.0);
	int attempt = 0;

	/* a bucket created a moment ago may still be unknown to the policy
	 * call (S3 is eventually consistent for bucket operations) */
	for (;;) {
		if (s3call(ctx, "PUT", bucket, "policy", "PutBucketPolicy", text, err))
			return 0;
		if (!code_in(err, retry))
			return -1;
		{
			struct err e2 = ERR_INIT;
			if (prov_sleep_until(ctx, &attempt, dl, "the bucket to be visible",
					     &e2) < 0)
				return -1;
		}
	}
}

/* The bucket's policy now, as canonical JSON; NULL with err clear when it
 * has none. A bucket created a moment ago may still be unknown: waited
 * for as bpol_put does. */
static const char *bpol_current(struct provider_ctx *ctx, const char *bucket,
				struct err *err)
{
	static const char *const retry[] = { "NoSuchBucket", NULL };
	double dl = prov_deadline(ctx, 30.0);
	int attempt = 0;
	struct value *r;

	for (;;) {
		r = s3call(ctx, "GET", bucket, "policy", "GetBucketPolicy", NULL, err);
		if (r)
			return policy_canonical(ctx->arena, pv(r, "Policy"), err);
		if (!strcmp(err->aws_code, "NoSuchBucketPolicy")) {
			err_clear(err);
			return NULL;
		}
		if (!code_in(err, retry))
			return NULL;
		{
			struct err e2 = ERR_INIT;
			if (prov_sleep_until(ctx, &attempt, dl, "the bucket to be visible",
					     &e2) < 0)
				return NULL;
		}
	}
}

/* A bucket has one policy and it carries no tags: one already there with
 * another document is not this stack's (another team's, or the bucket
 * owner's) and is not replaced, unlike CloudFormation, which overwrites
 * it; the same document is what a stopped run of this stack left, and is
 * kept. `cairn import LOGICAL_ID BUCKET` takes an existing policy over on
 * purpose. */
static int bpol_create(struct provider_ctx *ctx, const struct value *props,
		       struct provider_result *out, struct err *err)
{
	const char *bucket = pv_str(props, "Bucket"), *now, *want;

	now = bpol_current(ctx, bucket, err);
	if (!now && err->code)
		return -1;
	if (now) {
		want = policy_canonical(ctx->arena, pv(props, "PolicyDocument"), err);
		if (!want) {
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			return prov_fail(ctx, err, ERR_VALIDATION,
					 "PolicyDocument: %s", why);
		}
		if (strcmp(now, want)) {
			memset(out, 0, sizeof(*out));
			out->physical_id = bucket;
			return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
					 "bucket \"%s\" already has a bucket policy "
					 "with another document, not written by this "
					 "stack; cairn does not replace it", bucket);
		}
		policy_result(ctx, bucket, out);
		return 0;
	}
	if (bpol_put(ctx, bucket, props, err) < 0)
		return -1;
	policy_result(ctx, bucket, out);
	return 0;
}

static int bpol_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	struct value *r, *doc;
	const char *text;

	(void)attrs;
	if (!(r = s3call(ctx, "GET", id, "policy", "GetBucketPolicy", NULL, err)))
		return -1;
	text = pv_str(r, "Policy");
	doc = text ? value_from_json(ctx->arena, text, strlen(text), 0, err) : NULL;
	if (!doc)
		return prov_fail(ctx, err, ERR_AWS, "GetBucketPolicy answered no policy");
	policy_result(ctx, id, out);
	out->props = value_new_map(ctx->arena);
	ps(ctx->arena, out->props, "Bucket", id);
	value_map_set(ctx->arena, out->props, "PolicyDocument", doc);
	return 0;
}

static int bpol_update(struct provider_ctx *ctx, const char *id,
		       const struct value *old_props,
		       const struct value *new_props, const struct value *attrs,
		       struct provider_result *out, struct err *err)
{
	(void)old_props;
	(void)attrs;
	if (bpol_put(ctx, id, new_props, err) < 0)
		return -1;
	policy_result(ctx, id, out);
	return 0;
}

static int bpol_delete(struct provider_ctx *ctx, const char *id,
		       const struct value *props, const struct value *attrs,
		       struct err *err)
{
	(void)props;
	(void)attrs;
	if (!s3call(ctx, "DELETE", id, "policy", "DeleteBucketPolicy", NULL, err))
		return gone_is_ok(err);
	return 0;
}

const struct provider prov_s3_bucket_policy = {
	.type = "AWS::S3::BucketPolicy",
	.create = bpol_create,
	.read = bpol_read,
	.update = bpol_update,
	.delete = bpol_delete,
};
