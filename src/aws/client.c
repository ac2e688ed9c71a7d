/* The client: configuration, one call path (serialise, pace, sign, send,
 * classify, retry, parse) shared by aws_call and aws_s3, and logging. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws_int.h"
#include "cairn/aws_sigv4.h"
#include "cairn/log.h"
#include "cairn/xalloc.h"

struct aws_client {
	char *region;
	char *endpoint_url;
	struct ini config, credentials;
	struct aws_env env;
	struct aws_endpoint ep[AWS_NSERVICES];
	struct err ep_err[AWS_NSERVICES];
	int ep_ok[AWS_NSERVICES];
	/* AWS's request rate buckets (aws_rate_lookup), made on first use */
	pthread_mutex_t rb_lock;
	struct rate_bucket *rb;
	double rate_scale;
	struct retry_quota quota;
	struct sigv4_signer *signer;
	struct http_pool *http;
	struct creds_provider *creds;
	int max_attempts, no_pacing;
	long connect_ms, timeout_ms, retry_base_ms;
	/* server clock minus local clock, seconds, learnt from Date headers */
	_Atomic long long clock_offset;
	/* aws_availability_zones' answer, asked once */
	pthread_mutex_t azs_lock;
	char **azs;
	size_t nazs;
	int azs_done;
	/* S3 buckets' regions learnt from redirects (s3.c) */
	struct s3_regions *s3_regions;
};

struct rate_bucket {
	char name[96];
	struct token_bucket tb;
	struct rate_bucket *next;
};

/* Whoever waits in this thread for a bucket or a backoff (exec's workers
 * tell the scheduler, which starts other work meanwhile). */
static _Thread_local aws_wait_hook_fn wait_hook;
static _Thread_local void *wait_hook_ud;

void aws_set_wait_hook(aws_wait_hook_fn fn, void *ud)
{
	wait_hook = fn;
	wait_hook_ud = ud;
}

void aws_waiting(int waiting)
{
	if (wait_hook)
		wait_hook(wait_hook_ud, waiting);
}

static const char *real_getenv(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static char *home_path(const char *env_name, const char *rel)
{
	const char *v = getenv(env_name), *home;
	char *p;

	if (v && *v) {
		if (v[0] == '~' && v[1] == '/' && (home = getenv("HOME"))) {
			p = xmalloc(strlen(home) + strlen(v));
			sprintf(p, "%s%s", home, v + 1);
			return p;
		}
		return xstrdup(v);
	}
	home = getenv("HOME");
	if (!home)
		home = "";
	p = xmalloc(strlen(home) + strlen(rel) + 2);
	sprintf(p, "%s/%s", home, rel);
	return p;
}

static int parse_int(const char *what, const char *s, long lo, long hi,
		     long *out, struct err *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return err_set(err, ERR_USAGE, "%s \"%s\": expected a number from %ld to %ld",
			       what, s, lo, hi);
	*out = v;
	return 0;
}

struct aws_client *aws_client_new(const struct aws_options *o, struct err *err)
{
	struct aws_client *c = xcalloc(1, sizeof(*c));
	const struct ini_section *prof;
	const char *profile, *v, *region;
	char *path;
	long n = 0;
	size_t i;

	http_global_init();
	pthread_mutex_init(&c->azs_lock, NULL);
	c->env.get = real_getenv;
	path = home_path("AWS_CONFIG_FILE", ".aws/config");
	if (ini_load(path, 1, &c->config, err) < 0) {
		free(path);
		goto fail;
	}
	free(path);
	path = home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	if (ini_load(path, 0, &c->credentials, err) < 0) {
		free(path);
		goto fail;
	}
	free(path);
	profile = o && o->profile && *o->profile ? o->profile : getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	prof = ini_section(&c->config, profile);
	c->env.profile = prof;
	c->env.config = &c->config;
	c->env.credentials = &c->credentials;

	region = aws_resolve_region(o ? o->region : NULL, &c->env);
	if (region && (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
						   strlen(region) || strlen(region) > 40)) {
		err_set(err, ERR_USAGE,
			"region \"%s\" is not a region name (like us-east-1)", region);
		goto fail;
	}
	c->region = region ? xstrdup(region) : NULL;
	if (o && o->endpoint_url && *o->endpoint_url) {
		if (aws_check_url(o->endpoint_url, err) < 0)
			goto fail;
		c->endpoint_url = xstrdup(o->endpoint_url);
	}
	for (i = 0; i < AWS_NSERVICES; i++) {
		const struct aws_service *s = &aws_services[i];
		err_clear(&c->ep_err[i]);
		c->ep_ok[i] = aws_resolve_endpoint(s, c->region, c->endpoint_url,
						   &c->env, &c->ep[i], &c->ep_err[i]) == 0;
		/* a bad configured URL is an error now, not at the first call */
		if (!c->ep_ok[i] && c->ep_err[i].code == ERR_VALIDATION &&
		    strstr(c->ep_err[i].msg, "endpoint \"")) {
			*err = c->ep_err[i];
			goto fail;
		}
	}
	pthread_mutex_init(&c->rb_lock, NULL);
	c->rate_scale = 1.0;
	/* tests and benchmarks against an emulator whose rate_scale runs
	 * AWS's bucket schedule N times faster; not a user-facing setting */
	if ((v = getenv("CAIRN_RATE_SCALE")) && *v) {
		char *end;
		double d = strtod(v, &end);
		if (end == v || *end || !(d > 0) || d > 1e6) {
			err_set(err, ERR_USAGE,
				"CAIRN_RATE_SCALE \"%s\": expected a number above 0", v);
			goto fail;
		}
		c->rate_scale = d;
	}

	c->max_attempts = 3;
	if ((v = ini_get(prof, "max_attempts")) &&
	    parse_int("max_attempts in the profile", v, 1, 100, &n, err) == 0)
		c->max_attempts = (int)n;
	else if (v)
		goto fail;
	if ((v = getenv("AWS_MAX_ATTEMPTS")) && *v) {
		if (parse_int("AWS_MAX_ATTEMPTS", v, 1, 100, &n, err) < 0)
			goto fail;
		c->max_attempts = (int)n;
	}
	if (o && o->max_attempts > 0)
		c->max_attempts = o->max_attempts;
	c->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	c->timeout_ms = o && o->request_timeout_ms > 0 ? o->request_timeout_ms : 60000;
	c->retry_base_ms = 1000;
	c->no_pacing = o && o->no_pacing;
	/* tests shorten the backoff base; not a user-facing setting */
	if ((v = getenv("CAIRN_AWS_RETRY_BASE_MS")) && *v &&
	    parse_int("CAIRN_AWS_RETRY_BASE_MS", v, 0, 60000, &n, err) == 0)
		c->retry_base_ms = n;

	quota_init(&c->quota, 500);
	c->signer = sigv4_signer_new();
	c->http = http_pool_new();
	c->creds = creds_provider_new(c, o ? o->profile : NULL, &c->env);
	c->s3_regions = s3_regions_new();
	return c;
fail:
	aws_client_free(c);
	return NULL;
}

void aws_client_free(struct aws_client *c)
{
	size_t i;

	if (!c)
		return;
	creds_provider_free(c->creds);
	http_pool_free(c->http);
	sigv4_signer_free(c->signer);
	if (c->signer)
		quota_release(&c->quota);
	while (c->rb) {
		struct rate_bucket *next = c->rb->next;
		tb_release(&c->rb->tb);
		free(c->rb);
		c->rb = next;
	}
	if (c->rate_scale > 0)
		pthread_mutex_destroy(&c->rb_lock);
	s3_regions_free(c->s3_regions);
	ini_release(&c->config);
	ini_release(&c->credentials);
	for (i = 0; i < c->nazs; i++)
		free(c->azs[i]);
	free(c->azs);
	pthread_mutex_destroy(&c->azs_lock);
	free(c->region);
	free(c->endpoint_url);
	free(c);
}

const char *aws_client_region(const struct aws_client *c)
{
	return c->region;
}

struct s3_regions *aws_client_s3_regions(struct aws_client *c)
{
	return c->s3_regions;
}

struct http_pool *aws_client_http(struct aws_client *c)
{
	return c->http;
}

int aws_client_endpoint(struct aws_client *c, const char *service,
			const char *region, struct aws_endpoint *out,
			struct err *err)
{
	const struct aws_service *svc = aws_service_find(service);

	if (!svc)
		return err_set(err, ERR_INTERNAL, "unknown AWS service \"%s\"", service);
	return aws_resolve_endpoint(svc, region, c->endpoint_url, &c->env, out, err);
}

static void sleep_ns(int64_t ns);
static double rnd01(void);

int aws_fetch(struct aws_client *c, const struct http_request *req, int tries,
	      struct http_response *resp, struct err *err)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		struct err e = ERR_INIT;
		if (attempt > 1)
			sleep_ns((int64_t)aws_backoff_ms(attempt, c->retry_base_ms / 5,
							 rnd01()) * 1000000);
		strbuf_reset(&resp->body);
		resp->status = 0;
		rc = http_do(c->http, req, resp, &e);
		if (rc == 0 && resp->status != 429 && resp->status < 500)
			return 0;
		if (attempt >= tries) {
			if (rc < 0)
				*err = e;
			else
				err_clear(err);
			return rc; /* 0 with a 429/5xx status: the caller reports it */
		}
		log_debug("aws: %s: %s, trying again", req->url,
			  rc < 0 ? e.msg : "server error");
	}
}

/* ---- the call path ------------------------------------------------------ */

struct call {
	const struct aws_service *svc;
	const char *op;      /* for messages: "CreateVpc", "PutObject" */
	const char *method;
	const char *url;
	const char *path;    /* wire path for signing */
	const char *query;
	const char *host;
	const char *signing_region;
	const struct sigv4_header *extra; /* Content-Type, X-Amz-Target, ... */
	size_t nextra;
	const void *body;
	size_t body_len;
	const char *log_body; /* redacted request body for trace, or NULL */
	int mutating;
	int sign_mode;        /* 0: provider creds, 1: given creds, 2: unsigned */
	const struct aws_creds *creds;
	int s3;
	/* aws_call_opts.no_resend: a transport failure or a 5xx after which
	 * AWS may have applied the call is not retried; *uncertain is set */
	int no_resend;
	int *uncertain;
	int secret_response; /* aws_call_secret */
};

static _Thread_local unsigned long long rnd_state;

static double rnd01(void)
{
	if (!rnd_state)
		rnd_state = (unsigned long long)aws_now_ns() ^
			    (unsigned long long)(uintptr_t)&rnd_state;
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (double)(rnd_state >> 11) / 9007199254740992.0;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static _Thread_local const char *const *hide_values;
static _Thread_local size_t hide_n;

void aws_trace_hide(const char *const *values, size_t n)
{
	hide_values = values;
	hide_n = values ? n : 0;
}

/* Replaces each occurrence of the n bytes at p in sb. */
static void replace_all(struct strbuf *sb, const char *p, size_t n)
{
	struct strbuf out = STRBUF_INIT;
	const char *s = sb->buf, *hit;

	if (n < 3) /* a value this short hides nothing worth hiding */
		return;
	while ((hit = memmem(s, (size_t)(sb->buf + sb->len - s), p, n)) != NULL) {
		strbuf_add(&out, s, (size_t)(hit - s));
		strbuf_addstr(&out, "(sensitive)");
		s = hit + n;
	}
	if (!out.len)
		return;
	strbuf_add(&out, s, (size_t)(sb->buf + sb->len - s));
	strbuf_reset(sb);
	strbuf_add(sb, out.buf, out.len);
	strbuf_release(&out);
}

/* aws_trace_hide_always: NoEcho values, for the whole process */
static pthread_mutex_t always_mu = PTHREAD_MUTEX_INITIALIZER;
static char **always;
static size_t always_n, always_cap;

void aws_trace_hide_always(const char *value)
{
	size_t i;

	if (!value || strlen(value) < 3)
		return;
	pthread_mutex_lock(&always_mu);
	for (i = 0; i < always_n && strcmp(always[i], value); i++)
		;
	if (i == always_n) {
		ALLOC_GROW(always, always_n + 1, always_cap);
		always[always_n++] = xstrdup(value);
	}
	pthread_mutex_unlock(&always_mu);
}

static void hide_one(struct strbuf *red, const char *v, struct strbuf *form,
		     struct strbuf *json)
{
	size_t n = strlen(v);

	replace_all(red, v, n);
	strbuf_reset(json);
	strbuf_add_json_str(json, v, n);
	if (json->len > 2)
		replace_all(red, json->buf + 1, json->len - 2);
	strbuf_reset(form);
	aws_form_encode(v, n, form);
	replace_all(red, form->buf, form->len);
}

static void hide_in(struct strbuf *red)
{
	struct strbuf form = STRBUF_INIT, json = STRBUF_INIT;
	size_t i;

	pthread_mutex_lock(&always_mu);
	for (i = 0; i < always_n; i++)
		hide_one(red, always[i], &form, &json);
	pthread_mutex_unlock(&always_mu);
	for (i = 0; i < hide_n; i++)
		hide_one(red, hide_values[i], &form, &json);
	strbuf_release(&form);
	strbuf_release(&json);
}

/*
 * Fields that hold secrets only in some operations: an ECS container's
 * environment ("value" in RegisterTaskDefinition / DescribeTaskDefinition),
 * an instance's user data (RunInstances, Describe/ModifyInstanceAttribute),
 * which both commonly carry keys and tokens written into the template.
 */
static const char *const *op_secret_fields(const struct call *cl)
{
	static const char *const ecs_td[] = { "value", NULL };
	static const char *const ec2_ud[] = { "UserData", "userData", "Value",
					      "value", NULL };

	if (!strcmp(cl->svc->name, "ecs") && strstr(cl->op, "TaskDefinition"))
		return ecs_td;
	if (!strcmp(cl->svc->name, "ec2") &&
	    (!strcmp(cl->op, "RunInstances") ||
	     strstr(cl->op, "InstanceAttribute")))
		return ec2_ud;
	return NULL;
}

static void trace_body(const char *what, const struct call *cl, const char *b,
		       size_t n)
{
	struct strbuf red = STRBUF_INIT;

	if (!log_enabled(LOG_TRACE))
		return;
	aws_redact_body_with(b, n, op_secret_fields(cl), &red);
	hide_in(&red);
	log_msg(LOG_TRACE, "aws %s:%s %s: %.*s", cl->svc->name, cl->op, what,
		(int)(red.len > 4000 ? 4000 : red.len), red.buf);
	strbuf_release(&red);
}

/* Replaces v in msg (NUL-terminated, cap bytes) by "(sensitive)". */
static void scrub_msg(char *msg, size_t cap, const char *v)
{
	static const char red[] = "(sensitive)";
	size_t vl = strlen(v), rl = sizeof(red) - 1;
	char *from = msg, *hit;

	if (vl < 3)
		return;
	while ((hit = strstr(from, v)) != NULL) {
		size_t tail = strlen(hit + vl);
		size_t room;

		if ((size_t)(hit - msg) + rl + 1 > cap) {
			*hit = '\0'; /* no room for the marker: cut here */
			return;
		}
		room = cap - (size_t)(hit - msg) - rl - 1;
		if (tail > room)
			tail = room;
		memmove(hit + rl, hit + vl, tail);
		memcpy(hit, red, rl);
		hit[rl + tail] = '\0';
		from = hit + rl; /* the marker itself is never searched */
	}
}

/* An AWS error message may quote what was sent (a tag value failing its
 * pattern, a parameter's AllowedPattern): the values that never reach a
 * log (aws_trace_hide, aws_trace_hide_always) never reach an error either. */
static void scrub_err(struct err *err)
{
	size_t i;

	pthread_mutex_lock(&always_mu);
	for (i = 0; i < always_n; i++)
		scrub_msg(err->msg, sizeof(err->msg), always[i]);
	pthread_mutex_unlock(&always_mu);
	for (i = 0; i < hide_n; i++)
		scrub_msg(err->msg, sizeof(err->msg), hide_values[i]);
}

static int fill_aws_error(const struct call *cl, struct http_response *r,
			  struct err *err)
{
	struct aws_error_info info;
	enum err_code cls;
	const char *rid;

	if (aws_parse_error(r->body.buf, r->body.len, r->error_type, &info) < 0) {
		/* S3 HEAD and some proxies send no body */
		snprintf(info.code, sizeof(info.code), "%s",
			 r->status == 404 ? "NotFound" :
			 r->status == 412 ? "PreconditionFailed" : "");
		if (!info.message[0])
			snprintf(info.message, sizeof(info.message), "HTTP %d",
				 r->status);
	}
	cls = aws_error_class(info.code, r->status);
	rid = r->request_id[0] ? r->request_id : info.request_id;
	if (rid[0])
		err_set(err, cls, "%s:%s: %s: %s (request id %s)", cl->svc->name,
			cl->op, info.code[0] ? info.code : "error",
			info.message[0] ? info.message : "no message", rid);
	else
		err_set(err, cls, "%s:%s: %s: %s", cl->svc->name, cl->op,
			info.code[0] ? info.code : "error",
			info.message[0] ? info.message : "no message");
	scrub_err(err);
	snprintf(err->aws_code, sizeof(err->aws_code), "%s", info.code);
	snprintf(err->request_id, sizeof(err->request_id), "%s", rid);
	err->http_status = r->status;
	return -1;
}

/* Query and EC2 answers carry the request id in the body only. */
static void body_request_id(struct http_response *r)
{
	static const char *const tags[] = { "<RequestId>", "<requestId>", "<RequestID>" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *p = strstr(r->body.buf, tags[i]), *e;
		if (!p)
			continue;
		p += strlen(tags[i]);
		e = strchr(p, '<');
		if (e && (size_t)(e - p) < sizeof(r->request_id)) {
			memcpy(r->request_id, p, (size_t)(e - p));
			r->request_id[e - p] = '\0';
		}
		return;
	}
}

/*
 * Clock skew. AWS refuses a request whose signing time is more than a few
 * minutes from its own clock (SigV4: 5 minutes; S3: 15), each protocol with
 * its own code. The SDKs that correct skew (aws-sdk-js-v3's
 * CLOCK_SKEW_ERROR_CODES, the Java SDK's ClockSkewAdjuster) take the
 * server's time from the response's Date header, keep the difference as an
 * offset added to the local clock when signing, and retry the refused call.
 * cairn does the same: the codes below are skew errors only when the Date
 * header really is 4 minutes or more away from the time the request was
 * signed with (so a wrong secret's SignatureDoesNotMatch is not retried),
 * and each call retries for skew once. EC2's RequestExpired is a time
 * error, never an expired credential: it must not refresh credentials.
 */
#define SKEW_THRESHOLD_S 240

static int skew_code(const char *code)
{
	static const char *const codes[] = {
		"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
		"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

static time_t signing_now(struct aws_client *c)
{
	return time(NULL) + (time_t)atomic_load(&c->clock_offset);
}

/* Learns the offset from a response's Date header when it is far from the
 * clock the request was signed with; returns 1 when it changed. */
static int learn_skew(struct aws_client *c, const struct http_response *r,
		      time_t signed_at)
{
	long long diff, now;

	if (r->date <= 0)
		return 0;
	diff = (long long)r->date - (long long)signed_at;
	if (diff < SKEW_THRESHOLD_S && diff > -SKEW_THRESHOLD_S)
		return 0;
	now = (long long)time(NULL);
	atomic_store(&c->clock_offset, (long long)r->date - now);
	log_debug("aws clock skew: server time is %+llds from the local clock; "
		  "signing with that offset", (long long)r->date - now);
	return 1;
}

/*
 * How early the client's buckets stop short of AWS's: requests reach AWS
 * some milliseconds after they leave, not all equally late, so calls spaced
 * exactly 1/rate apart here can arrive closer together there. A bucket
 * whose capacity is smaller by rate x this spread never sends more in any
 * window than AWS's bucket accepts (the token bucket's arrival curve).
 */
#define ARRIVAL_SPREAD_S 0.25

/* The bucket of one call, made on first use. */
static struct token_bucket *bucket_for(struct aws_client *c,
				       const struct call *cl)
{
	char name[96];
	double burst, rate;
	struct rate_bucket *b;

	if (aws_rate_lookup(cl->svc->name, cl->op, cl->mutating, name,
			    sizeof(name), &burst, &rate) < 0) {
		int mut = cl->mutating && cl->svc->mut_rate > 0;
		snprintf(name, sizeof(name), "%s:%s", cl->svc->name,
			 mut ? "mutating" : "read");
		burst = mut ? cl->svc->mut_burst : cl->svc->burst;
		rate = mut ? cl->svc->mut_rate : cl->svc->rate;
	}
	pthread_mutex_lock(&c->rb_lock);
	for (b = c->rb; b; b = b->next)
		if (!strcmp(b->name, name))
			break;
	if (!b) {
		double r = rate * c->rate_scale, cap = burst - r * ARRIVAL_SPREAD_S;
		b = xcalloc(1, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", name);
		tb_init(&b->tb, r, cap < 1 ? 1 : cap);
		b->next = c->rb;
		c->rb = b;
	}
	pthread_mutex_unlock(&c->rb_lock);
	return &b->tb;
}

/* Sleeps ns, telling this thread's wait hook (exec's scheduler) about
 * waits long enough to matter. */
static void wait_ns(int64_t ns)
{
	int told = wait_hook && ns > 2000000;

	if (ns <= 0)
		return;
	if (told)
		wait_hook(wait_hook_ud, AWS_WAIT_TOKEN);
	sleep_ns(ns);
	if (told)
		wait_hook(wait_hook_ud, 0);
}

/* Runs the exchange with retries; on success resp holds a 2xx answer. */
static int exchange(struct aws_client *c, const struct call *cl,
		    struct http_response *resp, struct err *err)
{
	struct token_bucket *tb = c->no_pacing ? NULL : bucket_for(c, cl);
	struct sigv4_header hs[12];
	struct http_header hh[16];
	struct sigv4_result sr;
	int attempt, refreshed = 0, spent = 0, skew_retried = 0, skew_again = 0;
	time_t signed_at = 0;

	sigv4_result_init(&sr);
	for (attempt = 1;; attempt++) {
		struct aws_creds cr;
		struct http_request req;
		struct err e = ERR_INIT;
		size_t n = 0, nh = 0, i;
		int64_t t0;
		int rc, retry, cost, refreshed_now = 0;

		memset(&cr, 0, sizeof(cr));
		if (attempt > 1 && !skew_again)
			wait_ns((int64_t)aws_backoff_ms(attempt, c->retry_base_ms,
							rnd01()) * 1000000);
		skew_again = 0;
		if (tb)
			wait_ns(tb_take(tb, aws_now_ns()));

		hs[n].name = "Host";
		hs[n++].value = cl->host;
		for (i = 0; i < cl->nextra && n < 8; i++)
			hs[n++] = cl->extra[i];
		for (i = 0; i < n; i++) {
			hh[nh].name = hs[i].name;
			hh[nh++].value = hs[i].value;
		}
		if (cl->sign_mode != 2) {
			struct sigv4_request sreq;
			struct sigv4_creds sc;
			if (cl->sign_mode == 0) {
				if (creds_get(c->creds, &cr, NULL, 0, err) < 0) {
					sigv4_result_release(&sr);
					return -1;
				}
			} else {
				aws_creds_copy(&cr, cl->creds);
			}
			sreq.method = cl->method;
			sreq.path = cl->path;
			sreq.query = cl->query;
			sreq.headers = hs;
			sreq.nheaders = n;
			sreq.body = cl->body;
			sreq.body_len = cl->body_len;
			sc.access_key = cr.access_key;
			sc.secret_key = cr.secret_key;
			sc.session_token = cr.session_token;
			signed_at = signing_now(c);
			if (sigv4_sign(c->signer, &sreq, &sc, cl->signing_region,
				       cl->svc->signing_name, signed_at,
				       cl->s3 ? SIGV4_S3 : 0, &sr) < 0) {
				aws_creds_wipe(&cr);
				sigv4_result_release(&sr);
				return err_set(err, ERR_AUTH, "%s:%s: cannot sign the request",
					       cl->svc->name, cl->op);
			}
			hh[nh].name = "X-Amz-Date";
			hh[nh++].value = sr.amz_date;
			if (cr.session_token) {
				hh[nh].name = "X-Amz-Security-Token";
				hh[nh++].value = cr.session_token;
			}
			if (cl->s3) {
				hh[nh].name = "X-Amz-Content-SHA256";
				hh[nh++].value = sr.payload_hash;
			}
			hh[nh].name = "Authorization";
			hh[nh++].value = sr.authorization.buf;
		}
		memset(&req, 0, sizeof(req));
		req.method = cl->method;
		req.url = cl->url;
		req.headers = hh;
		req.nheaders = nh;
		req.body = cl->body;
		req.body_len = cl->body_len;
		req.connect_timeout_ms = c->connect_ms;
		req.timeout_ms = c->timeout_ms;
		req.fresh_connect = cl->no_resend;
		if (attempt == 1 && cl->log_body && log_enabled(LOG_TRACE))
			trace_body("request", cl, cl->log_body, strlen(cl->log_body));
		strbuf_reset(&resp->body);
		resp->request_id[0] = resp->error_type[0] = resp->etag[0] = '\0';
		resp->version_id[0] = resp->bucket_region[0] = '\0';
		resp->status = 0;
		t0 = aws_now_ns();
		rc = http_do(c->http, &req, resp, &e);
		aws_creds_wipe(&cr);
		OPENSSL_cleanse(sr.authorization.buf, sr.authorization.len);
		if (rc < 0) {
			log_debug("aws %s:%s error=%s attempt=%d/%d time=%.1fms",
				  cl->svc->name, cl->op, err_code_name(e.code), attempt,
				  c->max_attempts, (double)(aws_now_ns() - t0) / 1e6);
			retry = aws_retryable(e.code);
			/* a call not safe to resend: only when the request never
			 * left (no address, no connection) is a retry blind-safe */
			if (retry && cl->no_resend && resp->curl_code != 6 &&
			    resp->curl_code != 7) {
				retry = 0;
				*cl->uncertain = 1;
			}
			cost = resp->curl_code == 28 /* CURLE_OPERATION_TIMEDOUT */ ? 10 : 5;
			if (retry && attempt < c->max_attempts &&
			    quota_take(&c->quota, cost) < 0) {
				err_prefix(&e, "retry quota exhausted: ");
				retry = 0;
			}
			if (!retry || attempt >= c->max_attempts) {
				*err = e;
				err_prefix(err, "%s:%s: ", cl->svc->name, cl->op);
				if (attempt > 1)
					err_prefix(err, "after %d attempts: ", attempt);
				sigv4_result_release(&sr);
				return -1;
			}
			spent += cost;
			continue;
		}
		if (!resp->request_id[0])
			body_request_id(resp);
		log_debug("aws %s:%s status=%d attempt=%d/%d time=%.1fms request_id=%s",
			  cl->svc->name, cl->op, resp->status, attempt,
			  c->max_attempts, (double)(aws_now_ns() - t0) / 1e6,
			  resp->request_id[0] ? resp->request_id : "-");
		if (cl->secret_response)
			log_msg(LOG_TRACE, "aws %s:%s response: (a secret, %zu bytes)",
				cl->svc->name, cl->op, resp->body.len);
		else
			trace_body("response", cl, resp->body.buf, resp->body.len);
		if (cl->sign_mode != 2 && resp->status >= 200 && resp->status < 300)
			learn_skew(c, resp, signed_at);
		if (resp->status >= 200 && resp->status < 300) {
			quota_refund(&c->quota, spent ? spent : 1);
			sigv4_result_release(&sr);
			return 0;
		}
		fill_aws_error(cl, resp, &e);
		retry = aws_retryable(e.code);
		/* throttled: AWS's bucket is empty now (another client shares
		 * the account, or a run just before this one spent it). Ours
		 * follows, so every call waiting on it paces at the refill rate;
		 * the refused call cost AWS nothing and its retry takes the one
		 * token it will spend (EC2 API throttling: retry with
		 * exponential backoff; the SDKs' adaptive mode drains the same
		 * way) */
		if (e.code == ERR_THROTTLED && tb)
			tb_drain(tb, aws_now_ns());
		/* a 5xx may come after the call was applied; throttling and
		 * 4xx mean it was not */
		if (retry && cl->no_resend && resp->status >= 500 &&
		    e.code != ERR_THROTTLED) {
			retry = 0;
			*cl->uncertain = 1;
		}
		/* refused for the time it was signed at: correct the clock from
		 * the Date header and sign again, once, at no retry cost */
		if (cl->sign_mode != 2 && !skew_retried && skew_code(e.aws_code) &&
		    learn_skew(c, resp, signed_at)) {
			log_debug("aws %s:%s: %s: clock skew, signing again",
				  cl->svc->name, cl->op, e.aws_code);
			skew_retried = skew_again = 1;
			attempt--;
			continue;
		}
		/* credentials that expired early (revoked or shortened session):
		 * fetch them again once and retry. EC2's RequestExpired is about
		 * the request's time, not the credentials: not here. */
		if (!retry && !refreshed && cl->sign_mode == 0 &&
		    (!strcmp(e.aws_code, "ExpiredToken") ||
		     !strcmp(e.aws_code, "ExpiredTokenException"))) {
			log_debug("aws %s:%s: %s, fetching credentials again",
				  cl->svc->name, cl->op, e.aws_code);
			creds_invalidate(c->creds);
			refreshed = refreshed_now = 1;
			retry = 1;
		}
		if (retry && attempt < c->max_attempts && !refreshed_now &&
		    quota_take(&c->quota, 5) < 0) {
			err_prefix(&e, "retry quota exhausted: ");
			retry = 0;
		} else if (retry && !refreshed_now) {
			spent += 5;
		}
		if (!retry || attempt >= c->max_attempts) {
			*err = e;
			sigv4_result_release(&sr);
			return -1;
		}
	}
}

static int is_mutating(const char *op)
{
	return !aws_op_is_read(op);
}

/* or'ed into call()'s sign_mode by aws_call_secret */
#define SECRET_RESPONSE 16

static struct value *call(struct aws_client *c, const char *service,
			  const char *op, const struct value *params,
			  int sign_mode, const struct aws_creds *creds,
			  struct aws_call_opts *o, struct arena *a,
			  struct err *err)
{
	const struct aws_service *svc = aws_service_find(service);
	struct strbuf body = STRBUF_INIT, red = STRBUF_INIT, target = STRBUF_INIT;
	struct strbuf url = STRBUF_INIT;
	struct sigv4_header extra[2];
	struct http_response resp;
	struct aws_endpoint ep_local;
	const struct aws_endpoint *ep;
	struct value *out = NULL;
	struct call cl;
	size_t idx;
	int rc, trace = log_enabled(LOG_TRACE);

	if (!svc || svc->proto == PROTO_REST_XML || svc->proto == PROTO_REST_JSON)
		return err_set(err, ERR_UNSUPPORTED, "unknown AWS service \"%s\"", service),
		       NULL;
	idx = (size_t)(svc - aws_services);
	ep = &c->ep[idx];
	if (!c->ep_ok[idx]) {
		/* STS for the credential chain works without a region, as the
		 * SDKs' global STS endpoint does */
		if (!strcmp(service, "sts") && !c->region &&
		    aws_resolve_endpoint(svc, "us-east-1", c->endpoint_url, &c->env,
					 &ep_local, err) == 0) {
			ep = &ep_local;
		} else {
			*err = c->ep_err[idx];
			return err_prefix(err, "%s:%s: ", service, op), NULL;
		}
	}
	memset(&cl, 0, sizeof(cl));
	cl.svc = svc;
	cl.op = op;
	cl.method = "POST";
	strbuf_addstr(&url, ep->url);
	strbuf_addch(&url, '/');
	cl.url = url.buf;
	cl.path = "/";
	cl.query = "";
	cl.host = ep->host;
	cl.signing_region = ep->signing_region;
	cl.extra = extra;
	if (sign_mode & SECRET_RESPONSE) {
		sign_mode &= ~SECRET_RESPONSE;
		cl.secret_response = 1;
	}
	cl.sign_mode = sign_mode;
	cl.creds = creds;
	cl.mutating = is_mutating(op);
	if (o && o->no_resend) {
		o->uncertain = 0;
		cl.no_resend = 1;
		cl.uncertain = &o->uncertain;
	}
	switch (svc->proto) {
	case PROTO_EC2:
		rc = aws_ser_ec2(op, svc->api_version, params, &body,
				 trace ? &red : NULL, err);
		extra[0].name = "Content-Type";
		extra[0].value = "application/x-www-form-urlencoded; charset=utf-8";
		cl.nextra = 1;
		break;
	case PROTO_QUERY:
		rc = aws_ser_query(op, svc->api_version, params, &body,
				   trace ? &red : NULL, err);
		extra[0].name = "Content-Type";
		extra[0].value = "application/x-www-form-urlencoded; charset=utf-8";
		cl.nextra = 1;
		break;
	default:
		rc = aws_ser_json(params, &body, trace ? &red : NULL, err);
		strbuf_addf(&target, "%s.%s", svc->target_prefix, op);
		extra[0].name = "Content-Type";
		/* the JSON services cairn calls are 1.1 but Cloud Control */
		extra[0].value = strcmp(svc->name, "cloudcontrol")
					 ? "application/x-amz-json-1.1"
					 : "application/x-amz-json-1.0";
		extra[1].name = "X-Amz-Target";
		extra[1].value = target.buf;
		cl.nextra = 2;
		break;
	}
	if (rc < 0) {
		err_prefix(err, "%s:%s: ", service, op);
		goto out;
	}
	cl.body = body.buf;
	cl.body_len = body.len;
	cl.log_body = trace ? red.buf : NULL;
	http_response_init(&resp);
	if (exchange(c, &cl, &resp, err) == 0) {
		if (svc->proto == PROTO_JSON) {
			if (!resp.body.len)
				out = value_new_map(a);
			else
				out = value_from_json(a, resp.body.buf, resp.body.len, 0, err);
		} else {
			out = aws_xml_to_value(a, resp.body.buf, resp.body.len,
					       svc->proto == PROTO_QUERY, err);
		}
		if (!out)
			err_prefix(err, "%s:%s: reading the response: ", service, op);
	}
	/* bodies that may hold secrets: credentials, secret values, SSM
	 * SecureStrings, a new key pair's private key */
	if (!strcmp(service, "sts") || !strcmp(service, "secretsmanager") ||
	    !strcmp(service, "ssm") || !strcmp(op, "CreateKeyPair"))
		OPENSSL_cleanse(resp.body.buf, resp.body.len);
	http_response_release(&resp);
out:
	OPENSSL_cleanse(body.buf, body.len);
	strbuf_release(&body);
	strbuf_release(&red);
	strbuf_release(&target);
	strbuf_release(&url);
	return out;
}

struct value *aws_call(struct aws_client *c, const char *service,
		       const char *op, const struct value *params,
		       struct arena *a, struct err *err)
{
	return call(c, service, op, params, 0, NULL, NULL, a, err);
}

struct value *aws_call_opt(struct aws_client *c, const char *service,
			   const char *op, const struct value *params,
			   struct aws_call_opts *o, struct arena *a,
			   struct err *err)
{
	return call(c, service, op, params, 0, NULL, o, a, err);
}

struct value *aws_call_secret(struct aws_client *c, const char *service,
			      const char *op, const struct value *params,
			      struct arena *a, struct err *err)
{
	return call(c, service, op, params, SECRET_RESPONSE, NULL, NULL, a,
		    err);
}

struct value *aws_call_with(struct aws_client *c, const char *service,
			    const char *op, const struct value *params,
			    const struct aws_creds *creds, struct arena *a,
			    struct err *err)
{
	return call(c, service, op, params, creds ? 1 : 2, creds, NULL, a, err);
}

struct value *aws_call_all(struct aws_client *c, const char *service,
			   const char *op, const struct value *params,
			   const char *list_path, struct arena *a,
			   struct err *err)
{
	const struct aws_service *svc = aws_service_find(service);
	struct value *first, *page, *req, *all;
	const char *prev = NULL;
	int pages;

	first = aws_call(c, service, op, params, a, err);
	if (!first)
		return NULL;
	all = value_get_path(first, list_path);
	if (!all || (all->kind == VALUE_STRING && !all->u.str.len)) {
		all = value_new_list(a);
		value_map_set(a, first, list_path, all);
	}
	if (all->kind != VALUE_LIST) {
		err_set(err, ERR_AWS, "%s:%s: \"%s\" is not a list", service, op, list_path);
		return NULL;
	}
	req = params && params->kind == VALUE_MAP ? value_copy(a, params) : value_new_map(a);
	page = first;
	for (pages = 1;; pages++) {
		const char *tok = NULL, *param = NULL;
		struct value *items;
		size_t i;

		if (svc && svc->proto == PROTO_QUERY) {
			const char *trunc = value_str(value_map_get(page, "IsTruncated"));
			if (trunc && !strcmp(trunc, "true")) {
				tok = value_str(value_map_get(page, "Marker"));
				param = "Marker";
			}
		} else if ((tok = value_str(value_map_get(page, "nextToken")))) {
			param = svc && svc->proto == PROTO_EC2 ? "NextToken" : "nextToken";
		} else if ((tok = value_str(value_map_get(page, "NextToken")))) {
			param = "NextToken";
		}
		if (!tok || !*tok)
			return first;
		if ((prev && !strcmp(prev, tok)) || pages >= 1000) {
			err_set(err, ERR_AWS, "%s:%s: pagination does not end (token repeated or over 1000 pages)",
				service, op);
			return NULL;
		}
		prev = tok;
		value_map_set(a, req, param, value_new_string(a, tok));
		page = aws_call(c, service, op, req, a, err);
		if (!page)
			return NULL;
		items = value_get_path(page, list_path);
		if (items && items->kind == VALUE_LIST)
			for (i = 0; i < items->u.list.n; i++)
				value_list_push(a, all, items->u.list.items[i]);
	}
}

int aws_client_credential_source(struct aws_client *c, char *buf, size_t n,
				 struct err *err)
{
	struct aws_creds cr;
	int rc;

	memset(&cr, 0, sizeof(cr));
	rc = creds_get(c->creds, &cr, buf, n, err);
	aws_creds_wipe(&cr);
	return rc;
}

int aws_whoami(struct aws_client *c, struct aws_identity *id, struct err *err)
{
	struct arena *a = arena_new();
	struct value *v;
	const char *s;
	int rc = -1;

	memset(id, 0, sizeof(*id));
	if (aws_client_credential_source(c, id->source, sizeof(id->source), err) < 0)
		goto out;
	v = aws_call(c, "sts", "GetCallerIdentity", NULL, a, err);
	if (!v)
		goto out;
	if (!(s = aws_get_str(v, "Account", err)))
		goto out;
	snprintf(id->account, sizeof(id->account), "%s", s);
	if (!(s = aws_get_str(v, "Arn", err)))
		goto out;
	snprintf(id->arn, sizeof(id->arn), "%s", s);
	s = value_str(value_get_path(v, "UserId"));
	snprintf(id->user_id, sizeof(id->user_id), "%s", s ? s : "");
	rc = 0;
out:
	arena_free(a);
	return rc;
}

/* ---- availability zones -------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_filter(struct arena *a, struct value *filters, const char *name,
		       const char *val)
{
	struct value *f = value_new_map(a), *vals = value_new_list(a);

	value_list_push(a, vals, value_new_string(a, val));
	value_map_set(a, f, "Name", value_new_string(a, name));
	value_map_set(a, f, "Values", vals);
	value_list_push(a, filters, f);
}

int aws_availability_zones(struct aws_client *c, const char *const **names,
			   size_t *n, struct err *err)
{
	struct arena *a;
	struct value *params, *filters, *res;
	const struct value *list;
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&c->azs_lock);
	if (c->azs_done) {
		*names = (const char *const *)c->azs;
		*n = c->nazs;
		pthread_mutex_unlock(&c->azs_lock);
		return 0;
	}
	a = arena_new();
	params = value_new_map(a);
	filters = value_new_list(a);
	add_filter(a, filters, "state", "available");
	add_filter(a, filters, "zone-type", "availability-zone");
	value_map_set(a, params, "Filters", filters);
	res = aws_call(c, "ec2", "DescribeAvailabilityZones", params, a, err);
	if (!res || !(list = aws_get_list(a, res, "availabilityZoneInfo", err)))
		goto out;
	for (i = 0; i < list->u.list.n; i++) {
		const struct value *z = list->u.list.items[i];
		const char *name = value_str(value_map_get(z, "zoneName"));
		const char *state = value_str(value_map_get(z, "zoneState"));
		const char *type = value_str(value_map_get(z, "zoneType"));
		/* the filters again: a server that ignores them must not
		 * hand Local Zones or impaired zones to a template */
		if (!name || !*name || (state && strcmp(state, "available")) ||
		    (type && *type && strcmp(type, "availability-zone")))
			continue;
		c->azs = xrealloc(c->azs, (c->nazs + 1) * sizeof(*c->azs));
		c->azs[c->nazs++] = xstrdup(name);
	}
	if (!c->nazs) {
		err_set(err, ERR_AWS, "ec2:DescribeAvailabilityZones: no available zone in %s",
			c->region ? c->region : "the region");
		goto out;
	}
	qsort(c->azs, c->nazs, sizeof(*c->azs), cmp_str);
	c->azs_done = 1;
	*names = (const char *const *)c->azs;
	*n = c->nazs;
	rc = 0;
out:
	arena_free(a);
	pthread_mutex_unlock(&c->azs_lock);
	return rc;
}

/* ---- S3 ----------------------------------------------------------------- */

/* One S3 exchange (s3.c's aws_s3 follows region redirects around it):
 * region NULL: the client's S3 endpoint; else that Region's (its regional
 * endpoint, or the overridden URL signed for it). hr receives the last
 * answer, a failed one included (status, headers, error body). */
int aws_s3_send(struct aws_client *c, const struct aws_s3_request *r,
		const char *region, struct http_response *hr, struct err *err)
{
	const struct aws_service *svc = aws_service_find("s3");
	size_t idx = (size_t)(svc - aws_services);
	const struct aws_endpoint *ep = &c->ep[idx];
	struct aws_endpoint ep_region;
	struct strbuf path = STRBUF_INIT, url = STRBUF_INIT, host = STRBUF_INIT;
	struct sigv4_header extra[6];
	int has_query = r->query && *r->query;
	struct call cl;
	int rc;

	if (region) {
		if (aws_resolve_endpoint(svc, region, c->endpoint_url, &c->env,
					 &ep_region, err) < 0)
			return err_prefix(err, "s3: region %s: ", region);
		ep = &ep_region;
	} else if (!c->ep_ok[idx]) {
		*err = c->ep_err[idx];
		return err_prefix(err, "s3: ");
	}
	memset(&cl, 0, sizeof(cl));
	strbuf_addch(&path, '/');
	if (ep->overridden) {
		/* path style: endpoint/bucket/key */
		sigv4_uri_encode(r->bucket, strlen(r->bucket), NULL, &path);
		if (*r->key) /* a bucket call (ListObjectVersions): /bucket */
			strbuf_addch(&path, '/');
		strbuf_addstr(&host, ep->host);
		strbuf_addstr(&url, ep->url);
	} else if (!*r->bucket) {
		/* no bucket (ListBuckets): the endpoint itself */
		strbuf_addstr(&host, ep->host);
		strbuf_addstr(&url, ep->url);
	} else {
		const char *scheme_end = strstr(ep->url, "://");
		strbuf_addf(&host, "%s.%s", r->bucket, ep->host);
		strbuf_add(&url, ep->url, (size_t)(scheme_end + 3 - ep->url));
		strbuf_addstr(&url, host.buf);
	}
	sigv4_uri_encode(r->key, strlen(r->key), "/", &path);
	strbuf_addstr(&url, path.buf);
	if (has_query)
		strbuf_addf(&url, "?%s", r->query);
	cl.svc = svc;
	cl.op = r->op ? r->op :
		has_query && !strncmp(r->query, "versions", 8) ?
			"ListObjectVersions" :
		!strcmp(r->method, "GET") ? "GetObject" :
		!strcmp(r->method, "PUT") ? "PutObject" :
		!strcmp(r->method, "HEAD") ? "HeadObject" : "DeleteObject";
	cl.method = r->method;
	cl.url = url.buf;
	cl.path = path.buf;
	cl.query = has_query ? r->query : "";
	cl.host = host.buf;
	cl.signing_region = ep->signing_region;
	cl.extra = extra;
	/* always a Content-Type: curl would otherwise add a form-encoded one */
	extra[cl.nextra].name = "Content-Type";
	extra[cl.nextra++].value = r->content_type ? r->content_type :
						     "application/octet-stream";
	if (r->if_match) {
		extra[cl.nextra].name = "If-Match";
		extra[cl.nextra++].value = r->if_match;
	}
	if (r->if_none_match) {
		extra[cl.nextra].name = "If-None-Match";
		extra[cl.nextra++].value = r->if_none_match;
	}
	if (r->sse) {
		extra[cl.nextra].name = "X-Amz-Server-Side-Encryption";
		extra[cl.nextra++].value = r->sse;
		if (r->sse_kms_key_id) {
			extra[cl.nextra].name =
				"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id";
			extra[cl.nextra++].value = r->sse_kms_key_id;
		}
	}
	if (r->content_md5) {
		extra[cl.nextra].name = "Content-MD5";
		extra[cl.nextra++].value = r->content_md5;
	}
	cl.body = r->body;
	cl.body_len = r->body_len;
	cl.mutating = strcmp(r->method, "GET") && strcmp(r->method, "HEAD");
	cl.s3 = 1;
	rc = exchange(c, &cl, hr, err);
	strbuf_release(&path);
	strbuf_release(&url);
	strbuf_release(&host);
	return rc;
}

/* ---- typed getters ------------------------------------------------------ */

const char *aws_get_str(const struct value *v, const char *path, struct err *err)
{
	const struct value *n = value_get_path(v, path);

	if (!n) {
		err_set(err, ERR_AWS, "response has no \"%s\"", path);
		return NULL;
	}
	if (n->kind == VALUE_STRING)
		return n->u.str.s;
	if (n->kind == VALUE_NUMBER)
		return n->u.num.text;
	err_set(err, ERR_AWS, "response \"%s\": expected a string, got a %s", path,
		value_kind_name(n->kind));
	return NULL;
}

const struct value *aws_get_list(struct arena *a, const struct value *v,
				 const char *path, struct err *err)
{
	const struct value *n = value_get_path(v, path);

	if (!n || (n->kind == VALUE_STRING && !n->u.str.len) || n->kind == VALUE_NULL)
		return value_new_list(a);
	if (n->kind == VALUE_LIST)
		return n;
	err_set(err, ERR_AWS, "response \"%s\": expected a list, got a %s", path,
		value_kind_name(n->kind));
	return NULL;
}

int aws_get_bool(const struct value *v, const char *path, struct err *err)
{
	const struct value *n = value_get_path(v, path);

	if (n && n->kind == VALUE_BOOL)
		return n->u.b;
	if (n && n->kind == VALUE_STRING) {
		if (!strcmp(n->u.str.s, "true"))
			return 1;
		if (!strcmp(n->u.str.s, "false"))
			return 0;
	}
	return err_set(err, ERR_AWS, "response \"%s\": expected a boolean", path);
}
