/*
 * aws_sigv4: AWS Signature Version 4 (header signing) with OpenSSL.
 *
 * The signer takes a request as it goes on the wire (path and query already
 * percent-encoded once, the way the client sends them) and computes the
 * Authorization header. Canonicalisation follows botocore's SigV4Auth and
 * S3SigV4Auth byte for byte (checked by tests/py against botocore):
 *   - URI: every service but S3 removes dot segments and empty segments and
 *     encodes the (already encoded) path again; S3 uses the path as sent;
 *   - query: pairs split on '&' and '=', sorted by key then value, taken as
 *     sent (the client encodes with the RFC 3986 unreserved set);
 *   - headers: names lowercased, values trimmed with inner whitespace runs
 *     collapsed, repeated names joined with ','; user-agent, expect and
 *     x-amzn-trace-id are never signed;
 *   - x-amz-date and (for session credentials) x-amz-security-token are
 *     signed; S3 also signs x-amz-content-sha256 (payload hash or
 *     UNSIGNED-PAYLOAD). The caller must send those headers (see result).
 * Derived signing keys are cached per (secret, date, region, service).
 *
 * Thread safety: a struct sigv4_signer may be shared by threads; its key
 * cache has its own lock.
 */
#ifndef CAIRN_AWS_SIGV4_H
#define CAIRN_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;  /* wire path, encoded once; "" means "/" */
	const char *query; /* wire query without '?'; NULL or "" for none */
	const struct sigv4_header *headers; /* must include Host */
	size_t nheaders;
	const void *body;
	size_t body_len;
};

struct sigv4_creds {
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL or "" for long-term keys */
};

enum {
	SIGV4_S3 = 1,                /* single-encoded path, x-amz-content-sha256 */
	SIGV4_UNSIGNED_PAYLOAD = 2,  /* S3 only: payload hash UNSIGNED-PAYLOAD */
	SIGV4_KEEP_STAGES = 4,       /* fill canonical_request / string_to_sign */
};

struct sigv4_result {
	char amz_date[17];     /* YYYYMMDDTHHMMSSZ: send as X-Amz-Date */
	char payload_hash[65]; /* hex sha256 or UNSIGNED-PAYLOAD */
	struct strbuf authorization; /* the Authorization header value */
	struct strbuf canonical_request; /* with SIGV4_KEEP_STAGES */
	struct strbuf string_to_sign;    /* with SIGV4_KEEP_STAGES */
	void *md_ctx; /* internal: a digest context kept for reuse */
};

struct sigv4_signer;

struct sigv4_signer *sigv4_signer_new(void);
void sigv4_signer_free(struct sigv4_signer *s); /* wipes cached keys */

void sigv4_result_init(struct sigv4_result *r);
void sigv4_result_release(struct sigv4_result *r);

/*
 * Signs req at time `now` (UTC). flags: SIGV4_*. Fills out (initialised by
 * sigv4_result_init; reusable). Returns 0, or -1 when the request has no
 * Host header or the credentials are incomplete.
 */
int sigv4_sign(struct sigv4_signer *s, const struct sigv4_request *req,
	       const struct sigv4_creds *creds, const char *region,
	       const char *service, time_t now, int flags,
	       struct sigv4_result *out);

/* The stages, exposed for tests. Each appends to out. */
void sigv4_canonical_uri(const char *path, int s3, struct strbuf *out);
void sigv4_canonical_query(const char *query, struct strbuf *out);
/* Appends "name:value\n" lines, then sets *signed_headers (appended). */
void sigv4_canonical_headers(const struct sigv4_header *h, size_t n,
			     struct strbuf *out, struct strbuf *signed_headers);
/* RFC 3986 encoding: unreserved A-Z a-z 0-9 - _ . ~ kept, plus the bytes in
 * `safe`; everything else %XX (upper case). */
void sigv4_uri_encode(const char *s, size_t len, const char *safe,
		      struct strbuf *out);
/* hex sha256 of data into out[65] */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
