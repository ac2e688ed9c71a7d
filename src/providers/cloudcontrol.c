/*
 * The generic provider: every resource type without a native provider
 * whose registry schema is provisionable, through the AWS Cloud Control
 * API (cloudcontrol, JSON 1.0, X-Amz-Target CloudApiService.*).
 *
 * Cloud Control takes and returns properties in CloudFormation's shape,
 * so the template's properties go out as they are (DesiredState, a JSON
 * string) and come back as they are (GetResource's Properties, a JSON
 * string). What the schema says drives the rest:
 *   - the physical id is Cloud Control's identifier: the primaryIdentifier
 *     properties' values, joined with '|' when there are several; Ref is
 *     that identifier;
 *   - Fn::GetAtt reads the properties GetResource returns (read-only ones
 *     as "A.B" for nested paths);
 *   - create-only properties force replacement (the plan reads them from
 *     the same schema); write-only ones never come back from a read, so
 *     drift never compares them.
 *
 * Every mutating call returns a ProgressEvent; the provider polls
 * GetResourceRequestStatus with the native providers' schedule
 * (prov_sleep_until), waiting at least until the event's RetryAfter, until
 * SUCCESS, FAILED or CANCEL_COMPLETE. A FAILED event's ErrorCode and
 * StatusMessage become the error (ErrorCode NotFound: ERR_NOT_FOUND).
 *
 * Idempotency: CreateResource, UpdateResource and DeleteResource carry
 * ClientToken = ctx->token, the journal's token. Cloud Control answers a
 * repeated token with the request it already has, so the run after a crash
 * (or a retry after a lost answer) picks up the create it started instead
 * of starting another. find() looks for the cairn tags among ListResources
 * for the types that take tags.
 *
 * Cloud Control API reference: CreateResource, GetResource (Properties is
 * "a JSON string"), UpdateResource (PatchDocument: "an RFC 6902 JSON
 * Patch"), ProgressEvent (OperationStatus PENDING | IN_PROGRESS | SUCCESS
 * | FAILED | CANCEL_IN_PROGRESS | CANCEL_COMPLETE; RetryAfter: "when to
 * next request the status"; HandlerErrorCode), docs/cloudcontrol.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/log.h"
#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "prov_int.h"

/* Another request on the same resource is running: wait, then retry. */
static const char *const busy_codes[] = { "ConcurrentOperationException",
					  "ResourceConflictException", NULL };

static const struct schema_type *cc_schema(struct provider_ctx *ctx,
					   struct err *err)
{
	const struct schema_type *t = schema_find(ctx->type);

	if (!t) {
		prov_fail(ctx, err, ERR_UNSUPPORTED, "no schema for the type");
		return NULL;
	}
	return t;
}

/* JSON text of v, as a string value (sensitive when anything in v is, so
 * the debug log of the request redacts it). */
static struct value *json_string(struct arena *a, const struct value *v)
{
	struct strbuf sb = STRBUF_INIT;
	struct value *s;

	value_to_json(v, &sb, 0);
	s = value_new_string(a, sb.buf);
	s->sensitive = value_has_sensitive(v);
	strbuf_release(&sb);
	return s;
}

/* The properties to send: the template's, scalars in the schema's types
 * (CloudFormation's conversions), with cairn's tags added where the type
 * takes tags. */
static struct value *desired_state(struct provider_ctx *ctx,
				   const struct schema_type *t,
				   const struct value *props)
{
	struct arena *a = ctx->arena;
	struct value *d = props && props->kind == VALUE_MAP
				  ? schema_coerce(t, a, (struct value *)props)
				  : value_new_map(a);

	if (schema_taggable(t) && schema_has_attribute(t, "Tags")) {
		struct value *tags = tags_merged(ctx, props);
		/* in the shape the schema gives Tags: a list of {Key,
		 * Value}, or a map (AWS::SSM::Parameter...) */
		value_map_set(a, d, "Tags",
			      schema_object_property(t, "Tags")
				      ? tags_as_map(a, tags)
				      : tags);
	}
	return d;
}

static double now_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A FAILED / cancelled ProgressEvent as an error. */
static int event_error(struct provider_ctx *ctx, const struct value *ev,
		       const char *what, struct err *err)
{
	const char *code = value_str(value_map_get(ev, "ErrorCode"));
	const char *msg = value_str(value_map_get(ev, "StatusMessage"));
	const char *status = value_str(value_map_get(ev, "OperationStatus"));
	const char *req = value_str(value_map_get(ev, "RequestToken"));
	enum err_code ec = ERR_AWS;

	if (code && !strcmp(code, "NotFound"))
		ec = ERR_NOT_FOUND;
	else if (code && !strcmp(code, "AlreadyExists"))
		ec = ERR_ALREADY_EXISTS;
	prov_fail(ctx, err, ec, "cloudcontrol:%s %s: %s: %s (request %s)",
		  what, status ? status : "FAILED", code ? code : "no ErrorCode",
		  msg ? msg : "no StatusMessage", req ? req : "?");
	if (code)
		snprintf(err->aws_code, sizeof(err->aws_code), "%s", code);
	return -1;
}

/*
 * Polls the request of ProgressEvent ev until it ends. Returns the final
 * event (SUCCESS), or NULL with err set.
 */
static const struct value *wait_request(struct provider_ctx *ctx,
					const struct value *ev,
					const char *what, struct err *err)
{
	double dl = prov_deadline(ctx, 60.0 * 60.0);
	int attempt = 0;

	for (;;) {
		const char *status = value_str(value_map_get(ev, "OperationStatus"));
		const char *token = value_str(value_map_get(ev, "RequestToken"));
		const struct value *ra = value_map_get(ev, "RetryAfter");
		struct value *p, *r;
		char msg[128];
		double left;

		if (!status || !token)
			return prov_fail(ctx, err, ERR_AWS,
					 "cloudcontrol:%s: no ProgressEvent in "
					 "the answer", what),
			       NULL;
		if (!strcmp(status, "SUCCESS"))
			return ev;
		if (!strcmp(status, "FAILED") || !strcmp(status, "CANCEL_COMPLETE")) {
			event_error(ctx, ev, what, err);
			return NULL;
		}
		snprintf(msg, sizeof(msg), "%s %s", what, status);
		prov_status(ctx, msg);
		/* RetryAfter (epoch seconds) says when the answer can change:
		 * wait exactly until then (5 ms past it, so that clock
		 * granularity does not wake us a hair early into another
		 * whole interval); without it, the native providers' growing
		 * poll interval. Both bounded by the deadline, both end on a
		 * second Ctrl-C. */
		left = ra && ra->kind == VALUE_NUMBER
			       ? strtod(ra->u.num.text, NULL) - now_epoch() + 0.005
			       : 0;
		if (left > 0 && left < 600) {
			struct provider_ctx once = *ctx;
			int first = 0;
			once.poll_min_ms = once.poll_max_ms = (long)(left * 1000.0) + 1;
			attempt++;
			if (prov_sleep_until(&once, &first, dl, msg, err) < 0)
				return NULL;
		} else if (prov_sleep_until(ctx, &attempt, dl, msg, err) < 0) {
			return NULL;
		}
		p = value_new_map(ctx->arena);
		ps(ctx->arena, p, "RequestToken", token);
		r = pcall(ctx, "cloudcontrol", "GetResourceRequestStatus", p, err);
		if (!r)
			return NULL;
		ev = value_map_get(r, "ProgressEvent");
		if (!ev)
			return prov_fail(ctx, err, ERR_AWS,
					 "cloudcontrol:GetResourceRequestStatus: "
					 "no ProgressEvent"),
			       NULL;
	}
}

/* A mutating call (retried while the resource is busy with another
 * request), then its wait. */
static const struct value *mutate(struct provider_ctx *ctx, const char *op,
				  struct value *params, struct err *err)
{
	struct value *r = pcall_retry(ctx, "cloudcontrol", op, params,
				      busy_codes, 10.0 * 60.0, err);

	if (!r)
		return NULL;
	return wait_request(ctx, value_map_get(r, "ProgressEvent"), op, err);
}

/*
 * The ClientToken of an operation. Cloud Control refuses a token already
 * used by a request of another kind (ClientTokenConflictException), and
 * the executor may hand an update the token of the create it adopted, so
 * update and delete derive their own: "<token>-d", and "<token>-u<hash of
 * the patch>" (the same patch retried is the same request; another patch
 * with the same journal token is another request).
 */
static const char *op_token(struct provider_ctx *ctx, char kind,
			    const char *body)
{
	unsigned long long h = 1469598103934665603ULL;
	char buf[128];

	if (!ctx->token)
		return NULL; /* no ClientToken: ps() leaves it out */
	for (; body && *body; body++)
		h = (h ^ (unsigned char)*body) * 1099511628211ULL;
	if (kind == 'u')
		snprintf(buf, sizeof(buf), "%.64s-u%016llx", ctx->token, h);
	else
		snprintf(buf, sizeof(buf), "%.64s-%c", ctx->token, kind);
	return arena_strdup(ctx->arena, buf);
}

/* ------------------------------------------------------------ read */

/* Properties as GetResource reports them, in the template's shape: the
 * read-only ones left out, cairn's tags left out. */
static struct value *observed(struct provider_ctx *ctx,
			      const struct schema_type *t,
			      const struct value *props)
{
	struct arena *a = ctx->arena;
	struct value *o = value_new_map(a);
	size_t i;

	for (i = 0; props && props->kind == VALUE_MAP && i < props->u.map.n; i++) {
		const char *k = props->u.map.items[i].key;
		struct value *v = props->u.map.items[i].val;
		if (schema_read_only(t, k))
			continue;
		if (!strcmp(k, "Tags") && schema_taggable(t)) {
			v = tags_from_aws(a, v, "Key", "Value");
			if (!v)
				continue;
			if (props->u.map.items[i].val->kind == VALUE_MAP)
				v = tags_as_map(a, v);
		}
		value_map_set(a, o, k, v);
	}
	return o;
}

/* Fn::GetAtt values: every property returned, and the nested read-only
 * ones as "A.B". */
static void add_attrs(struct arena *a, struct value *attrs,
		      const struct value *v, struct strbuf *path,
		      const struct schema_type *t)
{
	size_t i, len = path->len;

	if (!v || v->kind != VALUE_MAP)
		return;
	for (i = 0; i < v->u.map.n; i++) {
		char *q;
		strbuf_setlen(path, len);
		if (len)
			strbuf_addch(path, '.');
		strbuf_addstr(path, v->u.map.items[i].key);
		if (len || !value_map_get(attrs, path->buf))
			value_map_set(a, attrs, path->buf, v->u.map.items[i].val);
		/* nested read-only attributes ("Endpoint.Address") */
		for (q = path->buf; *q; q++)
			if (*q == '.')
				*q = '/';
		if (v->u.map.items[i].val->kind == VALUE_MAP &&
		    schema_read_only(t, path->buf)) {
			for (q = path->buf; *q; q++)
				if (*q == '/')
					*q = '.';
			add_attrs(a, attrs, v->u.map.items[i].val, path, t);
		}
	}
	strbuf_setlen(path, len);
}

/* Whether the value under key k ("A" or "A.B": its top-level part) is a
 * secret in ref (the desired properties, or the recorded attributes). */
static bool secret_in(struct arena *a, const struct value *ref, const char *k)
{
	const struct value *v;
	const char *dot = strchr(k, '.');

	if (!ref || ref->kind != VALUE_MAP)
		return false;
	v = value_map_get(ref, k);
	if (!v && dot)
		v = value_map_get(ref, arena_strndup(a, k, (size_t)(dot - k)));
	return v && value_has_sensitive(v);
}

/* A secret sent to AWS comes back in plain text from GetResource: the
 * attributes and observed properties holding it are marked sensitive, so
 * the state keeps only their fingerprints and nothing prints them. */
static void mark_secrets(struct arena *a, struct value *m,
			 const struct value *ref)
{
	size_t i;

	for (i = 0; m && ref && i < m->u.map.n; i++) {
		struct value *v = m->u.map.items[i].val;
		if (!strcmp(m->u.map.items[i].key, "Ref") ||
		    !secret_in(a, ref, m->u.map.items[i].key))
			continue;
		v = value_copy(a, v);
		v->sensitive = 1;
		m->u.map.items[i].val = v;
	}
}

static void result_from(struct provider_ctx *ctx, const struct schema_type *t,
			const char *id, const struct value *props,
			const struct value *secrets, struct provider_result *out)
{
	struct arena *a = ctx->arena;
	struct strbuf path = STRBUF_INIT;

	out->physical_id = arena_strdup(a, id);
	out->attrs = value_new_map(a);
	ps(a, out->attrs, "Ref", id);
	add_attrs(a, out->attrs, props, &path, t);
	strbuf_release(&path);
	out->props = observed(ctx, t, props);
	mark_secrets(a, out->attrs, secrets);
	mark_secrets(a, out->props, secrets);
}

/* GetResource; secrets: where the secrets are (see mark_secrets). */
static int read_with(struct provider_ctx *ctx, const char *physical_id,
		     const struct value *secrets, struct provider_result *out,
		     struct err *err)
{
	const struct schema_type *t = cc_schema(ctx, err);
	struct value *p, *r, *props;
	const char *text;

	if (!t)
		return -1;
	p = value_new_map(ctx->arena);
	ps(ctx->arena, p, "TypeName", ctx->type);
	ps(ctx->arena, p, "Identifier", physical_id);
	r = pcall(ctx, "cloudcontrol", "GetResource", p, err);
	if (!r)
		return -1;
	text = value_str(value_get_path(r, "ResourceDescription.Properties"));
	if (!text)
		return prov_fail(ctx, err, ERR_AWS,
				 "cloudcontrol:GetResource: no Properties");
	props = value_from_json(ctx->arena, text, strlen(text), 0, err);
	if (!props) {
		err_prefix(err, "cloudcontrol:GetResource Properties: ");
		return -1;
	}
	result_from(ctx, t, physical_id, props, secrets, out);
	return 0;
}

static int cc_read(struct provider_ctx *ctx, const char *physical_id,
		   const struct value *attrs, struct provider_result *out,
		   struct err *err)
{
	/* the recorded attributes: a secret there is a sensitive fingerprint */
	return read_with(ctx, physical_id, attrs, out, err);
}

/* ------------------------------------------------------------ create */

static int cc_create(struct provider_ctx *ctx, const struct value *props,
		     struct provider_result *out, struct err *err)
{
	const struct schema_type *t = cc_schema(ctx, err);
	struct arena *a = ctx->arena;
	const struct value *ev;
	struct value *p;
	const char *id;

	if (!t)
		return -1;
	p = value_new_map(a);
	ps(a, p, "TypeName", ctx->type);
	value_map_set(a, p, "DesiredState",
		      json_string(a, desired_state(ctx, t, props)));
	ps(a, p, "ClientToken", ctx->token);
	ev = mutate(ctx, "CreateResource", p, err);
	if (!ev)
		return -1;
	id = value_str(value_map_get(ev, "Identifier"));
	if (!id)
		return prov_fail(ctx, err, ERR_AWS,
				 "cloudcontrol:CreateResource: SUCCESS without "
				 "an Identifier");
	return read_with(ctx, id, props, out, err);
}

/* ------------------------------------------------------------ update */

/* RFC 6901: '~' -> "~0", '/' -> "~1". */
static void pointer_add(struct strbuf *sb, const char *key)
{
	strbuf_addch(sb, '/');
	for (; *key; key++) {
		if (*key == '~')
			strbuf_addstr(sb, "~0");
		else if (*key == '/')
			strbuf_addstr(sb, "~1");
		else
			strbuf_addch(sb, *key);
	}
}

static void patch_op(struct arena *a, struct value *ops, const char *op,
		     const char *key, const struct value *v)
{
	struct value *m = value_new_map(a);
	struct strbuf path = STRBUF_INIT;

	pointer_add(&path, key);
	ps(a, m, "op", op);
	ps(a, m, "path", path.buf);
	if (v)
		value_map_set(a, m, "value", value_copy(a, v));
	value_list_push(a, ops, m);
	strbuf_release(&path);
}

struct value *cc_json_patch(struct arena *a, const struct value *old_props,
			    const struct value *new_props)
{
	struct value *ops = value_new_list(a);
	size_t i;

	/* one operation per top-level property: Cloud Control hands the
	 * patched model to the type's update handler, which compares whole
	 * properties anyway */
	for (i = 0; new_props && i < new_props->u.map.n; i++) {
		const char *k = new_props->u.map.items[i].key;
		const struct value *nv = new_props->u.map.items[i].val;
		const struct value *ov = pv(old_props, k);
		if (nv->kind == VALUE_NULL)
			continue;
		/* "add" rather than "replace": on an object member RFC 6902
		 * add sets it whether or not it exists, and what cairn
		 * recorded may not be what AWS has (an imported resource
		 * without cairn's tags, a property removed out of band),
		 * where "replace" of a missing member fails */
		if (!ov || !value_equal(ov, nv))
			patch_op(a, ops, "add", k, nv);
	}
	for (i = 0; old_props && i < old_props->u.map.n; i++) {
		const char *k = old_props->u.map.items[i].key;
		if (old_props->u.map.items[i].val->kind != VALUE_NULL &&
		    !pv(new_props, k))
			patch_op(a, ops, "remove", k, NULL);
	}
	return ops;
}

/* props without the create-only and read-only properties: the plan
 * replaces the resource for a change of the first, and the old side may
 * be what a read of an adopted resource returned (a generated QueueName)
 * while the template leaves it out: neither belongs in a patch. */
static struct value *updatable(struct provider_ctx *ctx,
			       const struct schema_type *t,
			       const struct value *props)
{
	struct value *o = value_new_map(ctx->arena);
	size_t i;

	for (i = 0; props && props->kind == VALUE_MAP && i < props->u.map.n; i++) {
		const char *k = props->u.map.items[i].key;
		if (schema_create_only(t, k) || schema_read_only(t, k))
			continue;
		value_map_set(ctx->arena, o, k, props->u.map.items[i].val);
	}
	return o;
}

static int cc_update(struct provider_ctx *ctx, const char *physical_id,
		     const struct value *old_props,
		     const struct value *new_props, const struct value *attrs,
		     struct provider_result *out, struct err *err)
{
	const struct schema_type *t = cc_schema(ctx, err);
	struct arena *a = ctx->arena;
	struct value *ops, *p;
	const struct value *ev;

	if (!t)
		return -1;
	ops = cc_json_patch(a, updatable(ctx, t, desired_state(ctx, t, old_props)),
			    updatable(ctx, t, desired_state(ctx, t, new_props)));
	if (ops->u.list.n) {
		p = value_new_map(a);
		ps(a, p, "TypeName", ctx->type);
		ps(a, p, "Identifier", physical_id);
		struct value *doc = json_string(a, ops);
		value_map_set(a, p, "PatchDocument", doc);
		ps(a, p, "ClientToken", op_token(ctx, 'u', doc->u.str.s));
		ev = mutate(ctx, "UpdateResource", p, err);
		if (!ev)
			return -1;
	}
	(void)attrs;
	return read_with(ctx, physical_id, new_props, out, err);
}

/* ------------------------------------------------------------ delete */

static int cc_delete(struct provider_ctx *ctx, const char *physical_id,
		     const struct value *props, const struct value *attrs,
		     struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *p = value_new_map(a);

	(void)props;
	(void)attrs;
	ps(a, p, "TypeName", ctx->type);
	ps(a, p, "Identifier", physical_id);
	ps(a, p, "ClientToken", op_token(ctx, 'd', NULL));
	if (!mutate(ctx, "DeleteResource", p, err))
		return gone_is_ok(err);
	return 0;
}

/* ------------------------------------------------------------ find */

static bool has_cairn_tags(struct provider_ctx *ctx, const struct value *tags)
{
	bool stack = false, lid = false;
	size_t i;

	if (!tags)
		return false;
	if (tags->kind == VALUE_MAP) {
		const char *s = value_str(value_map_get(tags, "cairn:stack"));
		const char *l = value_str(value_map_get(tags, "cairn:logical-id"));
		return s && l && !strcmp(s, ctx->stack ? ctx->stack : "") &&
		       !strcmp(l, ctx->logical_id);
	}
	for (i = 0; tags->kind == VALUE_LIST && i < tags->u.list.n; i++) {
		const char *k = pv_str(tags->u.list.items[i], "Key");
		const char *v = pv_str(tags->u.list.items[i], "Value");
		if (!k || !v)
			continue;
		if (!strcmp(k, "cairn:stack"))
			stack = !strcmp(v, ctx->stack ? ctx->stack : "");
		else if (!strcmp(k, "cairn:logical-id"))
			lid = !strcmp(v, ctx->logical_id);
	}
	return stack && lid;
}

/*
 * What a stopped run's CreateResource made, by its ClientToken: the same
 * token returns that request (still running, or done) instead of a new
 * one. If the stopped run never sent it, this creates the resource, which
 * is what the caller was about to do (apply), or what it then deletes
 * (destroy of a crashed run): as for the providers that have no find().
 * Cloud Control keeps tokens for a limited time, so the tags come first.
 */
static int by_token(struct provider_ctx *ctx, const struct value *props,
		    struct provider_result *out, struct err *err)
{
	if (!ctx->token)
		return err_set(err, ERR_NOT_FOUND, "no %s for %s", ctx->type,
			       ctx->logical_id);
	return cc_create(ctx, props, out, err);
}

static int cc_find(struct provider_ctx *ctx, const struct value *props,
		   struct provider_result *out, struct err *err)
{
	const struct schema_type *t = cc_schema(ctx, err);
	struct arena *a = ctx->arena;
	struct value *p, *r, *list;
	size_t i;

	if (!t)
		return -1;
	if (!schema_taggable(t) || !schema_has_attribute(t, "Tags"))
		return by_token(ctx, props, out, err);
	p = value_new_map(a);
	ps(a, p, "TypeName", ctx->type);
	r = aws_call_all(ctx->aws, "cloudcontrol", "ListResources", p,
			 "ResourceDescriptions", a, err);
	if (!r)
		return -1;
	list = value_map_get(r, "ResourceDescriptions");
	for (i = 0; list && list->kind == VALUE_LIST && i < list->u.list.n; i++) {
		const struct value *d = list->u.list.items[i];
		const char *id = pv_str(d, "Identifier");
		const char *text = pv_str(d, "Properties");
		struct err jerr = ERR_INIT;
		struct value *pr;
		if (!id || !text)
			continue;
		pr = value_from_json(a, text, strlen(text), 0, &jerr);
		if (!pr || !has_cairn_tags(ctx, pv(pr, "Tags")))
			continue;
		log_msg(LOG_DEBUG, "%s: found %s %s by its cairn tags",
			ctx->logical_id, ctx->type, id);
		/* ListResources may leave properties out: read it whole */
		return read_with(ctx, id, props, out, err);
	}
	return by_token(ctx, props, out, err);
}

const struct provider prov_cloudcontrol = {
	.type = "cloudcontrol",
	.create = cc_create,
	.read = cc_read,
	.update = cc_update,
	.delete = cc_delete,
	.find = cc_find,
};
