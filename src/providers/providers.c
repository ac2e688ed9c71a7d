/*
 * The provider table, generated names, the poll schedule, and the helpers
 * every provider uses (properties, params, calls with retries, tags).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cairn/clock.h"
#include "cairn/log.h"
#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "prov_int.h"

static const struct provider *const table[] = {
	&prov_ec2_vpc,
	&prov_ec2_subnet,
	&prov_ec2_igw,
	&prov_ec2_gw_attachment,
	&prov_ec2_eip,
	&prov_ec2_natgw,
	&prov_ec2_route_table,
	&prov_ec2_route,
	&prov_ec2_subnet_rt_assoc,
	&prov_ec2_sg,
	&prov_ec2_sg_ingress,
	&prov_ec2_sg_egress,
	&prov_ec2_vpc_endpoint,
	&prov_ecs_cluster,
	&prov_ecs_task_definition,
	&prov_ecs_service,
	&prov_ecr_repository,
	&prov_iam_role,
	&prov_iam_managed_policy,
	&prov_iam_policy,
	&prov_iam_role_policy,
	&prov_sm_secret,
	&prov_logs_log_group,
	&prov_ssm_parameter,
	&prov_ec2_instance,
	&prov_ec2_key_pair,
	&prov_iam_instance_profile,
	&prov_iam_oidc_provider,
	&prov_s3_bucket,
	&prov_s3_bucket_policy,
};

const struct provider *provider_find(const char *type)
{
	const struct schema_type *t;
	size_t i;

	if (!type)
		return NULL;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i]->type, type))
			return table[i];
	/* every other type the registry can provision: Cloud Control */
	t = schema_find(type);
	if (t && !schema_native(t) && schema_provisionable(t))
		return &prov_cloudcontrol;
	return NULL;
}

size_t provider_count(void)
{
	return sizeof(table) / sizeof(table[0]);
}

const struct provider *provider_at(size_t i)
{
	return i < provider_count() ? table[i] : NULL;
}

/* ------------------------------------------------------------ names */

/* FNV-1a over the token and the logical id: the suffix must not change
 * between a run and its retry, and two resources sharing a token (never
 * expected, but cheap to guard) still get different names. */
static unsigned long long fnv64(const char *a, const char *b)
{
	unsigned long long h = 1469598103934665603ULL;
	const char *s;

	for (s = a ? a : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xffu) * 1099511628211ULL;
	for (s = b ? b : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The characters of s a generated name keeps: letters, digits and single
 * '-' between them (every service cairn names accepts that set; ECR's
 * pattern refuses "--" and a leading or trailing separator). */
static void name_part(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c))
			strbuf_addch(sb, (char)c);
		else if (c == '-' && sb->len && sb->buf[sb->len - 1] != '-')
			strbuf_addch(sb, '-');
	}
	while (sb->len && sb->buf[sb->len - 1] == '-')
		strbuf_setlen(sb, sb->len - 1);
}

const char *provider_generate_name(struct provider_ctx *ctx, size_t max_len,
				   unsigned flags)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char suffix[13];
	unsigned long long h = fnv64(ctx->token, ctx->logical_id);
	unsigned long long h2 = fnv64(ctx->logical_id, ctx->token);
	struct strbuf stack = STRBUF_INIT, lid = STRBUF_INIT, sb = STRBUF_INIT;
	size_t i, budget;
	char *out;

	/* 12 base-36 characters from 128 bits of hash */
	for (i = 0; i < 12; i++) {
		unsigned long long *w = i < 6 ? &h : &h2;
		suffix[i] = digits[*w % 36];
		*w /= 36;
	}
	suffix[12] = '\0';
	name_part(&stack, ctx->stack ? ctx->stack : "cairn");
	name_part(&lid, ctx->logical_id ? ctx->logical_id : "Resource");

	/*
	 * CloudFormation's rule, as its generated names show (AWS does not
	 * document it): 13 characters are kept for "-" and the random tail;
	 * when "<stack>-<LogicalId>" does not fit in the rest, the rest less
	 * one hyphen is split between the two, the stack's half rounding up,
	 * and a part shorter than its half gives the other what it leaves
	 * (stack "ChineseboostAnalyticsStack", 64 characters:
	 * "ChineseboostAnalyticsStac-RainlyticsSummariesJobFun-<12>").
	 */
	budget = max_len > 13 ? max_len - 13 : 0;
	if (budget && stack.len + 1 + lid.len > budget) {
		size_t avail = budget > 1 ? budget - 1 : 0;
		size_t s_keep = (avail + 1) / 2, l_keep = avail / 2;
		if (stack.len < s_keep) {
			l_keep += s_keep - stack.len;
			s_keep = stack.len;
		} else if (lid.len < l_keep) {
			s_keep += l_keep - lid.len;
			l_keep = lid.len;
		}
		strbuf_setlen(&stack, s_keep);
		strbuf_setlen(&lid, l_keep);
		while (stack.len && stack.buf[stack.len - 1] == '-')
			strbuf_setlen(&stack, stack.len - 1);
	}
	if (budget) {
		strbuf_add(&sb, stack.buf, stack.len);
		if (sb.len && lid.len)
			strbuf_addch(&sb, '-');
		strbuf_add(&sb, lid.buf, lid.len);
		if (sb.len)
			strbuf_addch(&sb, '-');
	}
	strbuf_addstr(&sb, suffix);
	if (max_len && sb.len > max_len)
		strbuf_setlen(&sb, max_len);
	if (flags & NAME_LOWER)
		for (i = 0; i < sb.len; i++)
			sb.buf[i] = (char)tolower((unsigned char)sb.buf[i]);
	/* EC2: "Group names may not be in the format sg-*" (any case) */
	if ((flags & NAME_EC2_GROUP) && sb.len >= 3 &&
	    !strncasecmp(sb.buf, "sg-", 3))
		sb.buf[2] = '_';
	out = arena_strdup(ctx->arena, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&stack);
	strbuf_release(&lid);
	return out;
}

/* ------------------------------------------------------------ waits */

double prov_now(void)
{
	return mono_seconds();
}

static long env_ms(const char *name, long dflt)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		return dflt;
	return v;
}

/* Default bound of one operation's waits when ctx->deadline is 0: the
 * slowest life cycles (NAT gateway, ENIs draining) take minutes. */
#define DEFAULT_OP_SECONDS (30.0 * 60.0)

double prov_deadline(struct provider_ctx *ctx, double seconds)
{
	double dl = prov_now() + seconds;

	if (ctx->deadline > 0 && ctx->deadline < dl)
		dl = ctx->deadline;
	return dl;
}

void prov_status(struct provider_ctx *ctx, const char *msg)
{
	if (ctx->status)
		ctx->status(ctx->status_ud, msg);
}

void set_attr(struct provider_ctx *ctx, struct value *attrs, const char *k,
	      const char *v)
{
	if (v)
		value_map_set(ctx->arena, attrs, k, value_new_string(ctx->arena, v));
}

int prov_sleep_until(struct provider_ctx *ctx, int *attempt, double dl,
		     const char *what, struct err *err)
{
	long lo = ctx->poll_min_ms > 0 ? ctx->poll_min_ms
				       : env_ms("CAIRN_POLL_MIN_MS", 2000);
	long hi = ctx->poll_max_ms > 0 ? ctx->poll_max_ms
				       : env_ms("CAIRN_POLL_MAX_MS", 10000);
	double ms = (double)lo, left;
	int i;

	if (hi < lo)
		hi = lo;
	for (i = 0; i < *attempt && ms < (double)hi; i++)
		ms *= 1.5;
	if (ms > (double)hi)
		ms = (double)hi;
	(*attempt)++;
	if (ctx->cancel && *ctx->cancel)
		return err_set(err, ERR_CANCELLED, "cancelled while waiting for %s",
			       what);
	left = dl - prov_now();
	if (left <= 0)
		return err_set(err, ERR_TIMEOUT, "timed out waiting for %s", what);
	if (ms / 1000.0 > left)
		ms = left * 1000.0;
	if (ctx->status) {
		char buf[160];
		snprintf(buf, sizeof(buf), "waiting for %s", what);
		ctx->status(ctx->status_ud, buf);
	}
	/* sleep in slices so a cancel is seen within 100 ms; the scheduler
	 * starts other work meanwhile (aws_waiting) */
	aws_waiting(AWS_WAIT_POLL);
	while (ms > 0) {
		double slice = ms > 100 ? 100 : ms;
		struct timespec ts;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(slice * 1e6);
		nanosleep(&ts, NULL);
		ms -= slice;
		if (ctx->cancel && *ctx->cancel) {
			aws_waiting(0);
			return err_set(err, ERR_CANCELLED,
				       "cancelled while waiting for %s", what);
		}
	}
	aws_waiting(0);
	return 0;
}

int provider_sleep(struct provider_ctx *ctx, int *attempt, const char *what,
		   struct err *err)
{
	double dl = ctx->deadline > 0 ? ctx->deadline
				      : prov_now() + DEFAULT_OP_SECONDS;
	return prov_sleep_until(ctx, attempt, dl, what, err);
}

/* ------------------------------------------------------------ props */

const struct value *pv(const struct value *props, const char *key)
{
	struct value *v = props ? value_map_get(props, key) : NULL;

	return v && v->kind != VALUE_NULL ? v : NULL;
}

const char *v_text(struct arena *a, const struct value *v)
{
	(void)a;
	if (!v)
		return NULL;
	switch (v->kind) {
	case VALUE_STRING:
		return v->u.str.s;
	case VALUE_NUMBER:
		return v->u.num.text;
	case VALUE_BOOL:
		return v->u.b ? "true" : "false";
	default:
		return NULL;
	}
}

const char *pv_str(const struct value *props, const char *key)
{
	const struct value *v = pv(props, key);

	if (!v || v->kind == VALUE_BOOL)
		return NULL;
	return v_text(NULL, v);
}

bool pv_bool(const struct value *props, const char *key, bool dflt)
{
	const struct value *v = pv(props, key);

	if (!v)
		return dflt;
	if (v->kind == VALUE_BOOL)
		return v->u.b;
	if (v->kind == VALUE_STRING)
		return !strcasecmp(v->u.str.s, "true");
	return dflt;
}

bool pv_has(const struct value *props, const char *key)
{
	return pv(props, key) != NULL;
}

bool pv_changed(const struct value *old_props, const struct value *new_props,
		const char *key)
{
	const struct value *a = pv(old_props, key), *b = pv(new_props, key);

	if (!a && !b)
		return false;
	if (!a || !b)
		return true;
	return !value_equal(a, b);
}

void ps(struct arena *a, struct value *m, const char *key, const char *s)
{
	if (s)
		value_map_set(a, m, key, value_new_string(a, s));
}

void pb(struct arena *a, struct value *m, const char *key, bool b)
{
	value_map_set(a, m, key, value_new_bool(a, b));
}

void pn(struct arena *a, struct value *m, const char *key, const char *num)
{
	if (num)
		value_map_set(a, m, key, value_new_number(a, num));
}

void pattr(struct arena *a, struct value *m, const char *key, bool b)
{
	struct value *v = value_new_map(a);

	pb(a, v, "Value", b);
	value_map_set(a, m, key, v);
}

struct value *str_list1(struct arena *a, const char *s)
{
	struct value *l = value_new_list(a);

	value_list_push(a, l, value_new_string(a, s));
	return l;
}

bool split_id(struct arena *a, const char *id, const char **left,
	      const char **right)
{
	const char *bar = id ? strchr(id, '|') : NULL;

	if (!bar)
		return false;
	*left = arena_strndup(a, id, (size_t)(bar - id));
	*right = arena_strdup(a, bar + 1);
	return true;
}

/* ------------------------------------------------------------ calls */

int prov_fail(struct provider_ctx *ctx, struct err *err, enum err_code code,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, fmt, ap);
	va_end(ap);
	return err_prefix(err, "%s %s: ", ctx->type ? ctx->type : "?",
			  ctx->logical_id ? ctx->logical_id : "?");
}

struct value *pcall_all(struct provider_ctx *ctx, const char *svc,
			const char *op, const struct value *params,
			const char *list_path, struct err *err)
{
	struct value *r = aws_call_all(ctx->aws, svc, op, params, list_path,
				       ctx->arena, err);

	if (!r)
		err_prefix(err, "%s %s: ", ctx->type ? ctx->type : "?",
			   ctx->logical_id ? ctx->logical_id : "?");
	return r;
}

struct value *pcall(struct provider_ctx *ctx, const char *svc, const char *op,
		    const struct value *params, struct err *err)
{
	struct value *r = aws_call(ctx->aws, svc, op, params, ctx->arena, err);

	if (!r)
		err_prefix(err, "%s %s: ", ctx->type ? ctx->type : "?",
			   ctx->logical_id ? ctx->logical_id : "?");
	return r;
}

bool code_in(const struct err *err, const char *const *codes)
{
	size_t i;

	if (!codes || !err->aws_code[0])
		return false;
	for (i = 0; codes[i]; i++)
		if (!strcmp(codes[i], err->aws_code))
			return true;
	return false;
}

struct value *pcall_retry(struct provider_ctx *ctx, const char *svc,
			  const char *op, const struct value *params,
			  const char *const *codes, double seconds,
			  struct err *err)
{
	double dl = prov_deadline(ctx, seconds);
	int attempt = 0;

	for (;;) {
		struct value *r = pcall(ctx, svc, op, params, err);
		struct err serr = ERR_INIT;
		char what[96];
		if (r || !code_in(err, codes))
			return r;
		log_msg(LOG_DEBUG, "%s: %s:%s: %s, retrying", ctx->logical_id,
			svc, op, err->aws_code);
		snprintf(what, sizeof(what), "%s:%s (%s)", svc, op, err->aws_code);
		if (prov_sleep_until(ctx, &attempt, dl, what, &serr) < 0) {
			/* keep the AWS error: it says more than "timed out" */
			if (serr.code == ERR_CANCELLED)
				*err = serr;
			return NULL;
		}
	}
}

/* ------------------------------------------------------------ tags */

static void tag_put(struct arena *a, struct value *list, const char *k,
		    const char *v)
{
	struct value *m;
	size_t i;

	for (i = 0; i < list->u.list.n; i++) {
		m = list->u.list.items[i];
		if (!strcmp(value_str(value_map_get(m, "Key")), k)) {
			value_map_set(a, m, "Value", value_new_string(a, v));
			return;
		}
	}
	m = value_new_map(a);
	ps(a, m, "Key", k);
	ps(a, m, "Value", v);
	value_list_push(a, list, m);
}

struct value *tags_merged(struct provider_ctx *ctx, const struct value *props)
{
	struct arena *a = ctx->arena;
	struct value *out = value_new_list(a);
	const struct value *t = pv(props, "Tags");
	size_t i;

	if (t && t->kind == VALUE_LIST) {
		for (i = 0; i < t->u.list.n; i++) {
			const struct value *e = t->u.list.items[i];
			const char *k = pv_str(e, "Key"), *v = pv_str(e, "Value");
			if (k)
				tag_put(a, out, k, v ? v : "");
		}
	} else if (t && t->kind == VALUE_MAP) {
		/* some types (SSM, ...) take a map; accept it everywhere */
		for (i = 0; i < t->u.map.n; i++) {
			const char *v = v_text(a, t->u.map.items[i].val);
			tag_put(a, out, t->u.map.items[i].key, v ? v : "");
		}
	}
	tag_put(a, out, "cairn:stack", ctx->stack ? ctx->stack : "");
	tag_put(a, out, "cairn:logical-id", ctx->logical_id ? ctx->logical_id : "");
	return out;
}

struct value *tags_rekey(struct arena *a, const struct value *tags,
			 const char *k, const char *v)
{
	struct value *out = value_new_list(a);
	size_t i;

	for (i = 0; tags && i < tags->u.list.n; i++) {
		struct value *e = tags->u.list.items[i], *m = value_new_map(a);
		ps(a, m, k, value_str(value_map_get(e, "Key")));
		ps(a, m, v, value_str(value_map_get(e, "Value")));
		value_list_push(a, out, m);
	}
	return out;
}

struct value *tags_as_map(struct arena *a, const struct value *tags)
{
	struct value *out = value_new_map(a);
	size_t i;

	for (i = 0; tags && i < tags->u.list.n; i++) {
		struct value *e = tags->u.list.items[i];
		ps(a, out, value_str(value_map_get(e, "Key")),
		   value_str(value_map_get(e, "Value")));
	}
	return out;
}

struct value *ec2_tag_spec(struct arena *a, const char *rtype,
			   const struct value *tags)
{
	struct value *l = value_new_list(a), *m = value_new_map(a);

	ps(a, m, "ResourceType", rtype);
	value_map_set(a, m, "Tags", (struct value *)tags);
	value_list_push(a, l, m);
	return l;
}

static bool tag_key_ours(const char *k)
{
	return !strncmp(k, "cairn:", 6) || !strncmp(k, "aws:", 4);
}

struct value *tags_from_aws(struct arena *a, const struct value *tags,
			    const char *k, const char *v)
{
	struct value *out = value_new_list(a);
	size_t i;

	if (!tags)
		return NULL;
	if (tags->kind == VALUE_MAP) {
		for (i = 0; i < tags->u.map.n; i++) {
			const char *key = tags->u.map.items[i].key;
			if (!tag_key_ours(key))
				tag_put(a, out, key,
					v_text(a, tags->u.map.items[i].val));
		}
	} else if (tags->kind == VALUE_LIST) {
		for (i = 0; i < tags->u.list.n; i++) {
			const struct value *e = tags->u.list.items[i];
			const char *key = pv_str(e, k), *val = pv_str(e, v);
			if (key && !tag_key_ours(key))
				tag_put(a, out, key, val ? val : "");
		}
	}
	return out->u.list.n ? out : NULL;
}

/* One tag's value in any of AWS's shapes: a list of {Key,Value} or
 * {key,value} maps, or a {key: value} map. NULL when absent. */
static const char *aws_tag_value(const struct value *tags, const char *k)
{
	size_t i;

	if (!tags)
		return NULL;
	if (tags->kind == VALUE_MAP) {
		const struct value *v = value_map_get(tags, k);
		return v ? value_str(v) : NULL;
	}
	if (tags->kind != VALUE_LIST)
		return NULL;
	for (i = 0; i < tags->u.list.n; i++) {
		const struct value *e = tags->u.list.items[i];
		const char *key = pv_str(e, "Key") ? pv_str(e, "Key") :
						     pv_str(e, "key");
		if (key && !strcmp(key, k)) {
			const char *v = pv_str(e, "Value") ? pv_str(e, "Value") :
							     pv_str(e, "value");
			return v ? v : "";
		}
	}
	return NULL;
}

bool tags_owned(const struct provider_ctx *ctx, const struct value *tags)
{
	const char *s = aws_tag_value(tags, "cairn:stack");
	const char *l = aws_tag_value(tags, "cairn:logical-id");

	return s && l && ctx->stack && ctx->logical_id &&
	       !strcmp(s, ctx->stack) && !strcmp(l, ctx->logical_id);
}

int prov_foreign(struct provider_ctx *ctx, const char *physical_id,
		 const struct value *tags, struct provider_result *out,
		 struct err *err)
{
	const char *s = aws_tag_value(tags, "cairn:stack");
	const char *l = aws_tag_value(tags, "cairn:logical-id");

	memset(out, 0, sizeof(*out));
	out->physical_id = physical_id;
	if (s && l)
		return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
				 "\"%s\" already exists and belongs to another resource (its tags say cairn:stack=%s, cairn:logical-id=%s, not %s/%s); cairn never takes over what this resource did not create",
				 physical_id, s, l, ctx->stack, ctx->logical_id);
	return prov_fail(ctx, err, ERR_ALREADY_EXISTS,
			 "\"%s\" already exists and was not created by this stack (it lacks the tags cairn:stack=%s and cairn:logical-id=%s); cairn never takes over a resource it did not create",
			 physical_id, ctx->stack, ctx->logical_id);
}

static const char *tag_get(const struct value *tags, const char *k)
{
	size_t i;

	for (i = 0; tags && i < tags->u.list.n; i++) {
		const struct value *e = tags->u.list.items[i];
		const char *key = value_str(value_map_get(e, "Key"));
		if (key && !strcmp(key, k)) {
			const char *v = value_str(value_map_get(e, "Value"));
			return v ? v : "";
		}
	}
	return NULL;
}

void tags_diff(struct arena *a, const struct value *old_tags,
	       const struct value *new_tags, struct value **set,
	       struct value **removed)
{
	size_t i;

	*set = value_new_list(a);
	*removed = value_new_list(a);
	for (i = 0; new_tags && i < new_tags->u.list.n; i++) {
		const struct value *e = new_tags->u.list.items[i];
		const char *k = value_str(value_map_get(e, "Key"));
		const char *v = value_str(value_map_get(e, "Value"));
		const char *was = tag_get(old_tags, k);
		if (!was || strcmp(was, v ? v : ""))
			tag_put(a, *set, k, v ? v : "");
	}
	for (i = 0; old_tags && i < old_tags->u.list.n; i++) {
		const char *k = value_str(
			value_map_get(old_tags->u.list.items[i], "Key"));
		if (k && !tag_get(new_tags, k))
			value_list_push(a, *removed, value_new_string(a, k));
	}
}

int ec2_update_tags(struct provider_ctx *ctx, const char *id,
		    const struct value *old_props,
		    const struct value *new_props, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *set, *removed, *p;

	tags_diff(a, tags_merged(ctx, old_props), tags_merged(ctx, new_props),
		  &set, &removed);
	if (removed->u.list.n) {
		struct value *keys = value_new_list(a);
		size_t i;
		for (i = 0; i < removed->u.list.n; i++) {
			struct value *m = value_new_map(a);
			value_map_set(a, m, "Key", removed->u.list.items[i]);
			value_list_push(a, keys, m);
		}
		p = value_new_map(a);
		value_map_set(a, p, "Resources", str_list1(a, id));
		value_map_set(a, p, "Tags", keys);
		if (!pcall(ctx, "ec2", "DeleteTags", p, err))
			return -1;
	}
	if (set->u.list.n) {
		p = value_new_map(a);
		value_map_set(a, p, "Resources", str_list1(a, id));
		value_map_set(a, p, "Tags", set);
		if (!pcall(ctx, "ec2", "CreateTags", p, err))
			return -1;
	}
	return 0;
}

void ec2_filter(struct arena *a, struct value *list, const char *name,
		const char *value)
{
	struct value *m = value_new_map(a);

	ps(a, m, "Name", name);
	value_map_set(a, m, "Values", str_list1(a, value));
	value_list_push(a, list, m);
}

struct value *ec2_cairn_filters(struct provider_ctx *ctx)
{
	struct value *l = value_new_list(ctx->arena);

	ec2_filter(ctx->arena, l, "tag:cairn:stack", ctx->stack ? ctx->stack : "");
	ec2_filter(ctx->arena, l, "tag:cairn:logical-id",
		   ctx->logical_id ? ctx->logical_id : "");
	return l;
}

int api_update_tags(struct provider_ctx *ctx, const struct tag_api *api,
		    const char *id, const struct value *old_props,
		    const struct value *new_props, struct err *err)
{
	struct arena *a = ctx->arena;
	struct value *set, *removed, *p;

	tags_diff(a, tags_merged(ctx, old_props), tags_merged(ctx, new_props),
		  &set, &removed);
	if (removed->u.list.n) {
		p = value_new_map(a);
		ps(a, p, api->id_member, id);
		value_map_set(a, p, api->keys_member, removed);
		if (!pcall(ctx, api->svc, api->untag_op, p, err))
			return -1;
	}
	if (set->u.list.n) {
		p = value_new_map(a);
		ps(a, p, api->id_member, id);
		value_map_set(a, p, api->tags_member,
			      api->k ? tags_rekey(a, set, api->k, api->v)
				     : tags_as_map(a, set));
		if (!pcall(ctx, api->svc, api->tag_op, p, err))
			return -1;
	}
	return 0;
}

static bool in_strs(const char *k, const char *const *l)
{
	size_t i;

	/* either spelling: "Options" (template) or "options" (API) */
	for (i = 0; l && l[i]; i++)
		if (!strcasecmp(l[i], k))
			return true;
	return false;
}

static struct value *recase(struct arena *a, const struct value *v,
			    const char *const *verbatim, bool lower)
{
	struct value *out;
	size_t i;

	if (v->kind == VALUE_LIST) {
		out = value_new_list(a);
		for (i = 0; i < v->u.list.n; i++)
			value_list_push(a, out,
					recase(a, v->u.list.items[i], verbatim, lower));
		return out;
	}
	if (v->kind != VALUE_MAP)
		return value_copy(a, v);
	out = value_new_map(a);
	for (i = 0; i < v->u.map.n; i++) {
		const char *k = v->u.map.items[i].key;
		const struct value *x = v->u.map.items[i].val;
		char *nk = arena_strdup(a, k);
		size_t j = 0;
		/* leading acronyms: "EFSVolumeConfiguration" <->
		 * "efsVolumeConfiguration" */
		if (lower) {
			while (nk[j] && isupper((unsigned char)nk[j]) &&
			       (j == 0 || !nk[j + 1] ||
				isupper((unsigned char)nk[j + 1]))) {
				nk[j] = (char)tolower((unsigned char)nk[j]);
				j++;
			}
		} else if (nk[0]) {
			nk[0] = (char)toupper((unsigned char)nk[0]);
		}
		value_map_set(a, out, nk,
			      in_strs(k, verbatim) ? value_copy(a, x)
						   : recase(a, x, verbatim, lower));
	}
	return out;
}

struct value *camel_keys(struct arena *a, const struct value *v,
			 const char *const *verbatim)
{
	return recase(a, v, verbatim, true);
}

struct value *pascal_keys(struct arena *a, const struct value *v,
			  const char *const *verbatim)
{
	return recase(a, v, verbatim, false);
}

int gone_is_ok(struct err *err)
{
	if (err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 0;
	}
	return -1;
}

int prov_undo_create(struct provider_ctx *ctx, const char *what, const char *id,
		     int (*del)(struct provider_ctx *, const char *,
				const struct value *, const struct value *,
				struct err *),
		     const struct value *props, struct err *err)
{
	struct err derr = ERR_INIT;
	size_t len = strlen(err->msg);

	if (del(ctx, id, props, NULL, &derr) == 0)
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 "; the %s %s it had created was deleted again", what, id);
	else
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 "; the %s %s it had created is left behind (deleting it "
			 "failed: %s)", what, id, derr.msg);
	return -1;
}
