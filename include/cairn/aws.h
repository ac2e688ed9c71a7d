/*
 * aws: the client cairn uses to call AWS APIs.
 *
 * One call does everything a provider needs:
 *
 *     struct value *out = aws_call(cli, "ec2", "CreateVpc", params, arena, &err);
 *
 * `params` is a value map in the service model's member names and nesting
 * ({"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "vpc",
 * "Tags": [{"Key": "a", "Value": "b"}]}]}); the client serialises it per
 * protocol (EC2 Query with the model's wire names, Query with .member.N,
 * JSON 1.1), signs it (SigV4), sends it (libcurl, TLS verified, one
 * connection per worker), retries throttling and transient failures
 * (standard mode: exponential backoff with full jitter, capped), paces calls
 * with a per-service token bucket, and converts the response into a value
 * tree in `arena`:
 *   - JSON responses as they are;
 *   - XML: elements become maps keyed by their wire names; EC2 <xSet><item>
 *     and Query <member> lists become lists; an empty element named *Set
 *     becomes an empty list, other empty elements the string ""; the Query
 *     <OpResult> wrapper is unwrapped; all leaf values are strings.
 * Read it with value_get_path() ("vpc.vpcId", "natGatewaySet[0].state") or
 * the typed getters below.
 *
 * Errors fill struct err: code (ERR_NOT_FOUND, ERR_THROTTLED, ... from one
 * table of AWS error codes), aws_code, http_status, request_id and a message
 * "ec2:CreateVpc: InvalidParameterValue: <AWS message> (request id <id>)".
 *
 * Credentials follow the SDK chain: environment, web identity, shared
 * config/credentials files (profiles, role_arn + source_profile,
 * credential_process), container credentials, EC2 instance metadata
 * (IMDSv2). Temporary credentials are refreshed before they expire.
 *
 * Threads: one struct aws_client may be used by many threads at once.
 */
#ifndef CAIRN_AWS_H
#define CAIRN_AWS_H

#include <stddef.h>
#include <time.h>

#include "arena.h"
#include "err.h"
#include "strbuf.h"
#include "value.h"

struct aws_options {
	const char *region;       /* --region; NULL: environment, profile */
	const char *profile;      /* --profile; NULL: AWS_PROFILE or default */
	const char *endpoint_url; /* --endpoint-url: every service goes there */
	int max_attempts;         /* 0: AWS_MAX_ATTEMPTS, profile, else 3 */
	long connect_timeout_ms;  /* 0: 10 s */
	long request_timeout_ms;  /* 0: 60 s */
	int no_pacing;            /* benchmarks: skip the request rate buckets */
};

struct aws_client;

/* Reads the configuration (not the credentials: they are resolved on the
 * first call). Fails on a bad option value, an unreadable or malformed
 * config file, a plain-http endpoint that is not loopback. */
struct aws_client *aws_client_new(const struct aws_options *opts,
				  struct err *err);
void aws_client_free(struct aws_client *c); /* NULL is a no-op */

/*
 * Pacing. Every call first takes a token from its AWS request bucket (AWS's
 * documented per-API rate limits, data/rate-limits/rate-limits.json), so a
 * run alone in an account is never throttled; CAIRN_RATE_SCALE=N (tests and
 * benchmarks against the emulator's rate_scale) runs the refill rates N
 * times faster. A thread may register a hook that is told when the thread
 * starts and stops waiting (for a token, a retry backoff or a poll).
 */
typedef void (*aws_wait_hook_fn)(void *ud, int waiting);
void aws_set_wait_hook(aws_wait_hook_fn fn, void *ud);
/* Tells this thread's hook, if any, that it starts (AWS_WAIT_POLL: polling
 * an asynchronous change) or stops (0) waiting; the client itself reports
 * AWS_WAIT_TOKEN for rate-token and backoff waits. */
#define AWS_WAIT_TOKEN 1
#define AWS_WAIT_POLL 2
void aws_waiting(int waiting);

/* The region in effect, or NULL when none is configured (borrowed). */
const char *aws_client_region(const struct aws_client *c);

/*
 * Calls service:op. service is cairn's short name: "ec2", "ecs", "ecr",
 * "iam", "secretsmanager", "logs", "sts". params may be NULL (no input).
 * Returns the response tree in arena a, or NULL with err filled.
 */
struct value *aws_call(struct aws_client *c, const char *service,
		       const char *op, const struct value *params,
		       struct arena *a, struct err *err);

/*
 * Per-call options for aws_call_opt.
 *
 * no_resend: the call is not safe to send twice (a create without an
 * idempotency token: CreateVpc, AllocateAddress ...). The client still
 * retries what cannot have been applied (throttling, 4xx, a connection
 * that never opened), but after a transport failure or a 5xx answer, when
 * AWS may have applied it, it fails at once with *uncertain set instead:
 * the caller looks for what the first attempt made before sending it
 * again.
*/
struct aws_call_opts {
	int no_resend;
	int uncertain; /* out: the call failed and may have been applied */
};

struct value *aws_call_opt(struct aws_client *c, const char *service,
			   const char *op, const struct value *params,
			   struct aws_call_opts *o, struct arena *a,
			   struct err *err);

/*
 * Strings that must never appear in this thread's trace log of request and
 * response bodies (the values of dynamic references, while the executor's
 * worker runs the calls that need them): replaced by "(sensitive)" as
 * written, JSON-escaped or form-encoded. Borrowed until the next call;
 * aws_trace_hide(NULL, 0) clears them.
 */
void aws_trace_hide(const char *const *values, size_t n);
/*
 * A string no thread's trace log may show, for the rest of the process
 * (the values of NoEcho parameters): copied; hidden as aws_trace_hide's.
 */
void aws_trace_hide_always(const char *value);

/*
 * Like aws_call for a read whose answer is a secret (the value of a dynamic
 * reference: ssm:GetParameter, secretsmanager:GetSecretValue): the trace
 * log shows only the answer's size.
 */
struct value *aws_call_secret(struct aws_client *c, const char *service,
			      const char *op, const struct value *params,
			      struct arena *a, struct err *err);

/*
 * Like aws_call, following the pagination token until the last page: EC2
 * nextToken -> NextToken, Query IsTruncated + Marker -> Marker, JSON
 * nextToken/NextToken -> the same member. Returns the first page's tree in
 * which the list at list_path ("vpcSet", "Roles", "logGroups") holds the
 * items of every page. Fails like aws_call, or with ERR_AWS when a page
 * repeats its token or there are more than 1000 pages.
 */
struct value *aws_call_all(struct aws_client *c, const char *service,
			   const char *op, const struct value *params,
			   const char *list_path, struct arena *a,
			   struct err *err);

/* Where the credentials came from ("environment", "web-identity",
 * "profile dev (shared credentials file)", ...); resolves them if needed.
 * Returns 0 and copies at most n bytes into buf. */
int aws_client_credential_source(struct aws_client *c, char *buf, size_t n,
				 struct err *err);

struct aws_identity {
	char account[32];
	char arn[512];
	char user_id[256];
	char source[256]; /* as aws_client_credential_source */
};

/* sts:GetCallerIdentity with the resolved credentials. */
int aws_whoami(struct aws_client *c, struct aws_identity *id, struct err *err);

/* The region's availability zones as Fn::GetAZs returns them:
 * ec2:DescribeAvailabilityZones, zones in state "available" of type
 * "availability-zone" (no Local or Wavelength Zones), sorted by name.
 * Asked once per client; the names are the client's (borrowed). */
int aws_availability_zones(struct aws_client *c, const char *const **names,
			   size_t *n, struct err *err);

/* S3 object calls for a state backend (REST-XML, path-style when an
 * endpoint is overridden, virtual-hosted otherwise). */
struct aws_s3_request {
	const char *method; /* GET, PUT, HEAD, DELETE */
	const char *bucket;
	const char *key;
	const void *body;
	size_t body_len;
	const char *content_type;
	const char *if_match;      /* ETag, or NULL */
	const char *if_none_match; /* "*" to create only, or NULL */
	/* "" or NULL: none; else an encoded query ("versionId=X", "versions&
	 * prefix=K"); the operation name in messages follows it */
	const char *query;
	/* PUT: x-amz-server-side-encryption ("AES256", "aws:kms") and the KMS
	 * key id for aws:kms; NULL: none */
	const char *sse;
	const char *sse_kms_key_id;
	/* the operation's name in messages and metrics; NULL: from the
	 * method (GetObject, PutObject ...) */
	const char *op;
	/* Content-MD5 (base64), which S3 wants on bucket configuration PUTs */
	const char *content_md5;
};

struct aws_s3_response {
	int status;
	char etag[256];
	char version_id[256]; /* x-amz-version-id, "" when none */
	time_t date; /* the answer's Date header (S3's clock), 0 when none */
	struct strbuf body; /* initialised by the caller */
};

/* 2xx: 0. Otherwise -1: 404 ERR_NOT_FOUND, 412 ERR_CONFLICT
 * (PreconditionFailed), others by the error table. A bucket in another
 * Region is followed there (301/307 redirects, AuthorizationHeaderMalformed:
 * re-signed for its Region, once; remembered for the run; s3.c). */
int aws_s3(struct aws_client *c, const struct aws_s3_request *req,
	   struct aws_s3_response *resp, struct err *err);

/* The Region of `bucket`: learnt this run, else from a HeadBucket (its
 * x-amz-bucket-region, following a redirect). 0 and out, or -1 with err. */
int aws_s3_bucket_region(struct aws_client *c, const char *bucket, char *out,
			 size_t n, struct err *err);

/* 1 and out when this run learnt `bucket`'s Region from a redirect (or
 * aws_s3_bucket_region), else 0: the bucket answered in the client's. */
int aws_s3_known_region(struct aws_client *c, const char *bucket, char *out,
			size_t n);

/* s3:ListObjectVersions of exactly `key` (s3.c): the versions newest first
 * as a list of maps {VersionId, ETag, LastModified, Size, IsLatest,
 * DeleteMarker ("true" for delete markers)} in arena a; NULL with err. A
 * bucket without versioning lists one version "null". */
struct value *aws_s3_list_versions(struct aws_client *c, const char *bucket,
				   const char *key, struct arena *a,
				   struct err *err);

/* s3:ListBuckets (prefix = bucket): `bucket`'s CreationDate as S3 lists
 * it ("2026-01-31T12:00:00.000Z") into created ("" when this account has
 * no such bucket), and S3's clock at the answer (its Date header, 0 when
 * absent) into *server_now. 0, or -1 with err. */
int aws_s3_bucket_created(struct aws_client *c, const char *bucket,
			  char *created, size_t n, time_t *server_now,
			  struct err *err);

/* A bucket configuration call (s3.c): `method` on /bucket?<sub> ("encryption",
 * "lifecycle", "publicAccessBlock", "ownershipControls", "policy",
 * "versioning", "tagging"; "" for the bucket itself), op its name in
 * messages, body an XML (or JSON, for a policy) document or NULL. A PUT
 * carries Content-MD5. The answer: an XML body as a value tree below its
 * root element (as aws_call's), a JSON body (GetBucketPolicy) as
 * {"Policy": text}, an empty body as an empty map; NULL with err (404:
 * ERR_NOT_FOUND, with the S3 error code in err->aws_code). */
struct value *aws_s3_bucket_call(struct aws_client *c, const char *method,
				 const char *bucket, const char *sub,
				 const char *op, const char *body,
				 struct arena *a, struct err *err);

/* Typed getters on a response tree; each fails with ERR_AWS naming the
 * path when it is missing or of another kind. */
const char *aws_get_str(const struct value *v, const char *path,
			struct err *err);
/* A list at path; a missing node or "" (an empty XML list) gives an empty
 * list. NULL (with err) only when the node is something else. */
const struct value *aws_get_list(struct arena *a, const struct value *v,
				 const char *path, struct err *err);
/* "true"/"false" strings (XML) and JSON booleans; -1 with err otherwise. */
int aws_get_bool(const struct value *v, const char *path, struct err *err);

#endif
