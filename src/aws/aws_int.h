/*
 * Internals of the AWS client, shared by the files of src/aws and its unit tests.
 * Nothing outside src/aws and tests/unit/aws includes this.
 */
#ifndef CAIRN_AWS_INT_H
#define CAIRN_AWS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/aws.h"
#include "cairn/err.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

/* ---- shared config/credentials files (ini.c) ---------------------------- */

struct ini_kv {
	char *key;   /* lowercased */
	char *value; /* trimmed; "" for a nested block's parent */
	struct ini_kv *sub; /* nested "key =\n  sub = v" lines */
	size_t nsub;
};

struct ini_section {
	char *name; /* "default", "dev" ("[profile dev]"), "services x" */
	struct ini_kv *kv;
	size_t n;
};

struct ini {
	struct ini_section *s;
	size_t n;
};

/* Parses AWS-style ini text. config: "[profile x]" names become "x" and
 * "[services x]" stay "services x". Errors name file:line. Values are
 * wiped on release. */
int ini_parse(const char *text, size_t len, const char *file, int config,
	      struct ini *out, struct err *err);
void ini_release(struct ini *ini);
const struct ini_section *ini_section(const struct ini *ini, const char *name);
const char *ini_get(const struct ini_section *s, const char *key);
const struct ini_kv *ini_get_kv(const struct ini_section *s, const char *key);
/* Loads a file; a missing file is an empty ini (0). */
int ini_load(const char *path, int config, struct ini *out, struct err *err);

/* ---- services and endpoints (endpoint.c) -------------------------------- */

enum aws_protocol { PROTO_EC2, PROTO_QUERY, PROTO_JSON, PROTO_REST_XML, PROTO_REST_JSON };

struct aws_service {
	const char *name;          /* cairn's short name: "ec2" */
	const char *host_prefix;   /* "ec2", "api.ecr" */
	const char *signing_name;  /* "ec2", "ecr" */
	enum aws_protocol proto;
	const char *api_version;   /* Query/EC2 Version= */
	const char *target_prefix; /* JSON X-Amz-Target prefix */
	const char *env_suffix;    /* AWS_ENDPOINT_URL_<env_suffix> */
	const char *config_key;    /* key in a [services x] section */
	int global;                /* one endpoint, signed for us-east-1 */
	/* fallback bucket when data/rate-limits has no row for the service
	 * (see aws_rate_lookup): requests/s and capacity */
	double rate, burst;
	double mut_rate, mut_burst; /* for mutating calls; 0: same bucket */
};

#define AWS_NSERVICES 14
extern const struct aws_service aws_services[AWS_NSERVICES];
const struct aws_service *aws_service_find(const char *name);

/* Everything the endpoint and region rules read, so tests can fake it. */
struct aws_env {
	const char *(*get)(void *ctx, const char *name); /* getenv-like */
	void *ctx;
	const struct ini_section *profile; /* config file profile, or NULL */
	const struct ini *config;          /* for [services x], or NULL */
	const struct ini *credentials;     /* shared credentials file, or NULL */
};

struct aws_endpoint {
	char url[512];          /* scheme://host[:port][/base], no trailing / */
	char host[300];         /* Host header value */
	char signing_region[64];
	int overridden;         /* from --endpoint-url, env or config */
};

/* Region precedence: opt, AWS_REGION, AWS_DEFAULT_REGION, profile region.
 * Returns NULL when none. */
const char *aws_resolve_region(const char *opt, const struct aws_env *env);

/* Endpoint precedence (the SDKs'): opt_url, AWS_ENDPOINT_URL_<SVC>,
 * AWS_ENDPOINT_URL, the profile's [services] section, the profile's
 * endpoint_url, then the standard host. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * (or ignore_configured_endpoint_urls in the profile) skips all but opt_url.
 * Plain http:// is refused unless the host is loopback. */
int aws_resolve_endpoint(const struct aws_service *svc, const char *region,
			 const char *opt_url, const struct aws_env *env,
			 struct aws_endpoint *out, struct err *err);

/* A service's standard endpoint from the SDK endpoint data (endpoint.c
 * explains the rules). prefix: the endpoint prefix ("iam", "api.ecr");
 * region NULL: the partition endpoint of a global service, else an error. */
struct aws_std_endpoint {
	char host[256];
	char signing_region[64];
	char partition[32];
};

int aws_endpoint_standard(const char *prefix, const char *region, int fips,
			  int dual, struct aws_std_endpoint *out, struct err *err);

/* Whether url is acceptable: https, or http to 127.0.0.0/8, ::1, localhost. */
int aws_check_url(const char *url, struct err *err);

/* ---- credentials (creds.c) ---------------------------------------------- */

struct aws_creds {
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0: does not expire */
};

void aws_creds_wipe(struct aws_creds *c); /* cleanse and free, then zero */
void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src);

/* Parses a credentials JSON document (credential_process Version 1,
 * container and IMDS formats). */
int aws_creds_from_json(const char *text, size_t len, int want_version,
			struct aws_creds *out, struct err *err);
/* ISO 8601 "2026-11-22T08:00:00Z" (fraction and +00:00 accepted). */
int aws_parse_time(const char *s, time_t *out);

struct aws_client;
struct creds_provider;

/* Built by aws_client_new from the environment and files; resolves lazily. */
struct creds_provider *creds_provider_new(struct aws_client *c,
					  const char *profile_name,
					  const struct aws_env *env);
void creds_provider_free(struct creds_provider *p);
/* Current credentials (copied into out; wipe them); refreshes when they
 * expire within 5 minutes. */
int creds_get(struct creds_provider *p, struct aws_creds *out, char *source,
	      size_t nsource, struct err *err);
/* Makes the next creds_get fetch again (after an ExpiredToken answer). */
void creds_invalidate(struct creds_provider *p);

/* ---- errors and retries (errors.c, retry.c) ----------------------------- */

/* The class of an AWS error code (the one table); falls back on the HTTP
 * status when the code is unknown. */
enum err_code aws_error_class(const char *aws_code, int http_status);
/* Standard retry mode decision: throttling and transient failures retry. */
int aws_retryable(enum err_code cls);
/* Delay before attempt `attempt` (2, 3, ...) in ms: full jitter on an
 * exponential base, capped at 20 s. rnd in [0,1). */
long aws_backoff_ms(int attempt, long base_ms, double rnd);

/*
 * AWS's request rate limits (data/rate-limits/rate-limits.json, embedded by
 * gen_rate_limits.py; sources in docs/aws-behaviour.md "Request rate
 * limits"). A call's bucket is its operation's own row, or a shared bucket
 * the row names (ECS categories, Secrets Manager's combined quotas), else
 * the service's read or mutating size, in a bucket of its own per operation
 * (per_api: EC2, Logs, ECR) or shared by all reads / all mutating calls.
 */
struct aws_rate_api {
	const char *key;    /* "ec2:CreateTags", sorted (strcmp) */
	const char *bucket; /* "ec2:CreateTags", "ecs:service_modify" */
	double burst, rate;
};

struct aws_rate_service {
	const char *name;
	int per_api;
	double read_burst, read_rate, mut_burst, mut_rate;
};

extern const struct aws_rate_api aws_rate_apis[];
extern const size_t aws_rate_napis;
extern const struct aws_rate_service aws_rate_services[];
extern const size_t aws_rate_nservices;

/* Whether op only reads (Describe*, Get*, List*, Search*, Head*): AWS's
 * non-mutating actions. */
int aws_op_is_read(const char *op);
/* The bucket of one call: its name into name ("ec2:CreateSubnet",
 * "iam:mutating"), its capacity and refill rate per second as documented
 * (unscaled). -1 when the table has no row for the service. */
int aws_rate_lookup(const char *service, const char *op, int mutating,
		    char *name, size_t n, double *burst, double *rate);

struct token_bucket {
	pthread_mutex_t lock;
	double tokens, capacity, rate; /* rate per second */
	int64_t last_ns;
};

void tb_init(struct token_bucket *tb, double rate, double capacity);
void tb_release(struct token_bucket *tb);
/* Takes one token at time now_ns; returns how many ns to wait before the
 * call may go (0: go now). The token is reserved either way. */
int64_t tb_take(struct token_bucket *tb, int64_t now_ns);
/* The server answered that the bucket is empty: no token is left now
 * (reservations already made stay). */
void tb_drain(struct token_bucket *tb, int64_t now_ns);

/* Standard mode's retry quota: a retry costs 5 tokens (10 after a timeout)
 * from a pool of 500 per client; a success gives back what its retries cost,
 * or 1 for a first-try success. An empty pool stops retries, so an outage
 * fails fast instead of multiplying the load. */
struct retry_quota {
	pthread_mutex_t lock;
	int tokens, capacity;
};

void quota_init(struct retry_quota *q, int capacity);
void quota_release(struct retry_quota *q);
/* Takes cost tokens; -1 (nothing taken) when the pool has fewer. */
int quota_take(struct retry_quota *q, int cost);
void quota_refund(struct retry_quota *q, int amount);

/* ---- HTTP (http.c) ------------------------------------------------------ */

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;
	const char *url;
	const struct http_header *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_response; /* 0: 64 MiB */
	/* a new connection, never a pooled one: libcurl silently resends a
	 * request whose reused connection closed before any answer, which a
	 * call that is not safe to resend (aws_call_opts.no_resend) must
	 * never have done for it */
	int fresh_connect;
};

struct http_response {
	int status;
	struct strbuf body;
	char request_id[128];
	char error_type[128]; /* x-amzn-ErrorType */
	char etag[256];
	char version_id[256]; /* S3 x-amz-version-id */
	char content_type[128];
	char bucket_region[64]; /* S3 x-amz-bucket-region, "" when none */
	int curl_code; /* 0 when the exchange completed */
	time_t date;   /* the Date header (server clock), 0 when absent */
};

struct http_pool;

struct http_pool *http_pool_new(void);
void http_pool_free(struct http_pool *p);
void http_response_init(struct http_response *r);
void http_response_release(struct http_response *r);
/* Performs the exchange. -1 with ERR_TRANSIENT (connection, timeout) or
 * ERR_IO on transport failures; any HTTP status is a 0 return. */
int http_do(struct http_pool *p, const struct http_request *req,
	    struct http_response *resp, struct err *err);
/* curl_global_init once per process. */
void http_global_init(void);

/* ---- protocols (protocol.c, xml.c) -------------------------------------- */

/* EC2 Query form body (Action, Version, flattened params with model wire
 * names). redacted (may be NULL) receives the same body with sensitive
 * values replaced. -1 when params is not a map or holds unknowns. */
int aws_ser_ec2(const char *op, const char *version, const struct value *params,
		struct strbuf *out, struct strbuf *redacted, struct err *err);
/* Query (IAM/STS) form body: lists as Name.member.N, maps as
 * Name.entry.N.key/value. */
int aws_ser_query(const char *op, const char *version,
		  const struct value *params, struct strbuf *out,
		  struct strbuf *redacted, struct err *err);
/* JSON 1.1 body; "{}" for NULL params. */
int aws_ser_json(const struct value *params, struct strbuf *out,
		 struct strbuf *redacted, struct err *err);
/* Form-encodes s (RFC 3986 unreserved kept). */
void aws_form_encode(const char *s, size_t len, struct strbuf *out);

/* XML response → value (see aws.h for the mapping). unwrap: drop the root
 * element and a single *Result child (Query). NULL with ERR_PARSE. */
struct value *aws_xml_to_value(struct arena *a, const char *xml, size_t len,
			       int unwrap, struct err *err);

struct aws_error_info {
	char code[128];
	char message[1024];
	char request_id[128];
};

/* Reads an error body of any protocol shape (EC2 <Response><Errors>,
 * Query <ErrorResponse>, S3 <Error>, JSON __type). Returns 0 when a code
 * was found. json_type_header: x-amzn-ErrorType or NULL. */
int aws_parse_error(const char *body, size_t len, const char *json_type_header,
		    struct aws_error_info *out);

/* Copies body with the values of secret-bearing fields (SecretAccessKey,
 * SessionToken, SecretString, Password, ...) replaced: for logs. */
void aws_redact_body(const char *body, size_t len, struct strbuf *out);
/* The same, with the field names in extra (NULL-terminated) also hidden:
 * fields that carry secrets only in some operations' bodies (an ECS
 * container environment's "value", an instance's user data). */
void aws_redact_body_with(const char *body, size_t len,
			  const char *const *extra, struct strbuf *out);

/* ---- the client (client.c) ---------------------------------------------- */

/* Signed or unsigned call used by the credentials provider for STS.
 * creds NULL: unsigned (AssumeRoleWithWebIdentity). */
struct value *aws_call_with(struct aws_client *c, const char *service,
			    const char *op, const struct value *params,
			    const struct aws_creds *creds, struct arena *a,
			    struct err *err);
/* The client's HTTP pool and timeouts, for container/IMDS requests. */
struct http_pool *aws_client_http(struct aws_client *c);
/* The endpoint of `service` in `region` (overrides included): SSO calls go
 * to the profile's sso_region, not the client's. */
int aws_client_endpoint(struct aws_client *c, const char *service,
			const char *region, struct aws_endpoint *out,
			struct err *err);
/* An unsigned exchange for the credential sources (container, instance
 * metadata, SSO): up to `tries` attempts with jittered backoff on transport
 * failures, 429 and 5xx. 0 when an answer came (any status), -1 with err. */
int aws_fetch(struct aws_client *c, const struct http_request *req, int tries,
	      struct http_response *resp, struct err *err);

/* ---- SSO (sso.c) -------------------------------------------------------- */

/* Whether a config profile is an SSO profile (any sso_* setting). */
int sso_profile(const struct ini_section *prof);
/* Credentials of SSO profile `name` as the AWS CLI v2 gets them: the token
 * `aws sso login` cached, refreshed through sso-oidc CreateToken when it
 * nears expiry (sso-session profiles), then sso:GetRoleCredentials.
 * src receives a description. Errors say to run `aws sso login`. */
int sso_creds(struct aws_client *c, const char *name,
	      const struct ini_section *prof, const struct ini *config,
	      const char *home, struct aws_creds *out, char *src, size_t nsrc,
	      struct err *err);

int64_t aws_now_ns(void);

/* ---- S3 (client.c, s3.c) ------------------------------------------------ */

/* One S3 exchange for r, at the client's S3 endpoint (region NULL) or at
 * `region`'s; hr (initialised by the caller) holds the last answer, failed
 * ones included. No redirect is followed: aws_s3 does that. */
int aws_s3_send(struct aws_client *c, const struct aws_s3_request *r,
		const char *region, struct http_response *hr, struct err *err);

/* The buckets' regions learnt in this run (thread-safe). */
struct s3_regions;
struct s3_regions *s3_regions_new(void);
void s3_regions_free(struct s3_regions *m); /* NULL is a no-op */
struct s3_regions *aws_client_s3_regions(struct aws_client *c);

#endif
