/*
 * S3 calls beyond one object's GET/PUT/HEAD/DELETE (aws_s3 in client.c):
 * ListObjectVersions of one key, for `cairn state history` on a bucket that
 * keeps versions.
 *
 * ListObjectVersions answers a ListVersionsResult whose <Version> and
 * <DeleteMarker> children come in one order (newest first per key), so
 * they are read here in document order rather than through the generic
 * XML-to-value conversion, which groups repeated elements by name.
 * (AWS S3 API reference, ListObjectVersions: "prefix" limits the listing
 * to keys that begin with it; versions of a key are listed newest first;
 * a bucket that never had versioning enabled lists version id "null".)
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_int.h"
#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/aws_sigv4.h"
#include "cairn/xalloc.h"

#include <openssl/evp.h>

/*
 * Buckets in another Region than the client's.
 *
 * A bucket lives in one Region and S3 serves it only at that Region's
 * endpoint, signed for that Region. What S3 answers otherwise (S3 user guide
 * "Request routing"; docs/aws-behaviour.md has the details and sources):
 *   301 PermanentRedirect   another Region's endpoint; x-amz-bucket-region
 *                           and <Endpoint> name the right one (HEAD: the
 *                           status and header only, no body);
 *   307 TemporaryRedirect   the global name of a bucket created in the last
 *                           hours (DNS not yet propagated); same header;
 *   400 AuthorizationHeaderMalformed
 *                           the right endpoint signed for another Region;
 *                           <Region> names the right one (HEAD: no body);
 *   400 IllegalLocationConstraintException
 *                           opt-in Regions (launched after March 2019)
 *                           instead of a redirect, both ways; "The X
 *                           location constraint ..." names the bucket's.
 * aws_s3 does what the SDKs' S3 redirect handlers do (botocore's
 * S3RegionRedirectorv2): take the Region from x-amz-bucket-region, else
 * the body's <Region>, <Endpoint> or message, else from a HeadBucket (whose
 * answer carries x-amz-bucket-region whatever its status); re-sign for it and
 * send again to its endpoint (with --endpoint-url: the same URL signed for
 * it), once: a second redirect is an error, never a loop. The Region is
 * remembered per bucket for the rest of the run, so later calls go straight
 * there. CreateBucket is never redirected: its LocationConstraint decides
 * the Region.
 */

struct s3_region_entry {
	char *bucket;
	char region[64];
};

struct s3_regions {
	pthread_mutex_t lock;
	struct s3_region_entry *v;
	size_t n;
};

struct s3_regions *s3_regions_new(void)
{
	struct s3_regions *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void s3_regions_free(struct s3_regions *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].bucket);
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int cached_region(struct s3_regions *m, const char *bucket, char *out,
			 size_t n)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n && !found; i++)
		if (!strcmp(m->v[i].bucket, bucket)) {
			snprintf(out, n, "%s", m->v[i].region);
			found = 1;
		}
	pthread_mutex_unlock(&m->lock);
	return found;
}

static void remember_region(struct s3_regions *m, const char *bucket,
			    const char *region)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].bucket, bucket))
			break;
	if (i == m->n) {
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		m->v[m->n++].bucket = xstrdup(bucket);
	}
	snprintf(m->v[i].region, sizeof(m->v[i].region), "%s", region);
	pthread_mutex_unlock(&m->lock);
}

/* A Region name as S3 sends it; anything else is not used in a URL. */
static int region_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 40 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* The text of <tag> in an S3 error body ("" when absent). */
static void error_field(const struct strbuf *body, const char *tag, char *out,
			size_t n)
{
	char open[64];
	const char *p, *e;

	out[0] = '\0';
	if (!body->len)
		return;
	snprintf(open, sizeof(open), "<%s>", tag);
	p = strstr(body->buf, open);
	if (!p)
		return;
	p += strlen(open);
	e = strchr(p, '<');
	if (e && (size_t)(e - p) < n) {
		memcpy(out, p, (size_t)(e - p));
		out[e - p] = '\0';
	}
}

/* The Region in an S3 host name: s3.eu-west-1.amazonaws.com,
 * b.s3-eu-west-1.amazonaws.com, s3.dualstack.R..., s3.amazonaws.com and
 * s3-external-1 (us-east-1). */
static void region_of_host(const char *host, char *out, size_t n)
{
	const char *p = host, *e;

	out[0] = '\0';
	for (;;) {
		if (!strncmp(p, "s3.", 3) || !strncmp(p, "s3-", 3))
			break;
		p = strchr(p, '.');
		if (!p)
			return;
		p++;
	}
	p += 3;
	if (!strncmp(p, "dualstack.", 10))
		p += 10;
	if (!strncmp(p, "amazonaws.", 10) || !strncmp(p, "external-1.", 11)) {
		snprintf(out, n, "us-east-1");
		return;
	}
	e = strchr(p, '.');
	if (e && (size_t)(e - p) < n) {
		memcpy(out, p, (size_t)(e - p));
		out[e - p] = '\0';
	}
}

/* Whether a failed answer says the bucket is elsewhere. */
static int is_redirect(const struct aws_s3_request *r,
		       const struct http_response *hr, const struct err *e)
{
	if (r->op && !strcmp(r->op, "CreateBucket"))
		return 0;
	if (hr->status == 301 || hr->status == 302 || hr->status == 307)
		return 1;
	if (hr->status != 400)
		return 0;
	if (!strcmp(e->aws_code, "AuthorizationHeaderMalformed") ||
	    !strcmp(e->aws_code, "IllegalLocationConstraintException"))
		return 1;
	/* a HEAD has no body to say why */
	return !strcmp(r->method, "HEAD") && !hr->body.len;
}

/* The bucket's Region from a redirect answer, else from a HeadBucket. */
static void redirect_region(struct aws_client *c, const struct aws_s3_request *r,
			    const char *used, const struct http_response *hr,
			    char *out, size_t n)
{
	char buf[256];

	snprintf(out, n, "%s", hr->bucket_region);
	if (!out[0])
		error_field(&hr->body, "Region", out, n);
	if (!out[0]) {
		error_field(&hr->body, "Endpoint", buf, sizeof(buf));
		if (buf[0])
			region_of_host(buf, out, n);
	}
	if (!out[0]) {
		const char *p;
		error_field(&hr->body, "Message", buf, sizeof(buf));
		if (!strncmp(buf, "The ", 4) &&
		    (p = strstr(buf, " location constraint is incompatible"))) {
			size_t len = (size_t)(p - buf - 4);
			if (len == 11 && !strncmp(buf + 4, "unspecified", 11))
				snprintf(out, n, "us-east-1");
			else if (len < n) {
				memcpy(out, buf + 4, len);
				out[len] = '\0';
			}
		}
	}
	if (!out[0]) {
		struct aws_s3_request h;
		struct http_response hh;
		struct err ignore = ERR_INIT;

		memset(&h, 0, sizeof(h));
		h.method = "HEAD";
		h.bucket = r->bucket;
		h.key = "";
		h.op = "HeadBucket";
		http_response_init(&hh);
		aws_s3_send(c, &h, used, &hh, &ignore);
		snprintf(out, n, "%s", hh.bucket_region);
		http_response_release(&hh);
	}
	if (out[0] && !region_ok(out))
		out[0] = '\0';
}

static void copy_out(const struct http_response *hr, int rc,
		     struct aws_s3_response *resp)
{
	resp->status = hr->status;
	resp->date = hr->date;
	snprintf(resp->etag, sizeof(resp->etag), "%s", hr->etag);
	snprintf(resp->version_id, sizeof(resp->version_id), "%s", hr->version_id);
	strbuf_reset(&resp->body);
	if (rc == 0)
		strbuf_add(&resp->body, hr->body.buf, hr->body.len);
}

static const char *op_name(const struct aws_s3_request *r)
{
	return r->op ? r->op : !strcmp(r->method, "GET") ? "GetObject" :
	       !strcmp(r->method, "PUT") ? "PutObject" :
	       !strcmp(r->method, "HEAD") ? "HeadObject" : "DeleteObject";
}

/* The S3 code of a failed answer, or what its status means. */
static const char *answer_code(const struct err *err,
			       const struct http_response *hr)
{
	if (err->aws_code[0])
		return err->aws_code;
	return hr->status == 301 ? "PermanentRedirect" :
	       hr->status == 307 ? "TemporaryRedirect" :
	       hr->status == 400 ? "BadRequest" : "redirect";
}

/* err with a new message, keeping the answer's code, request id and
 * status (err_vset clears them). Returns -1. */
static int redirect_fail(struct err *err, const struct http_response *hr,
			 const char *fmt, ...)
{
	char code[sizeof(err->aws_code)];
	va_list ap;

	snprintf(code, sizeof(code), "%s", answer_code(err, hr));
	va_start(ap, fmt);
	err_vset(err, err->code, fmt, ap);
	va_end(ap);
	snprintf(err->aws_code, sizeof(err->aws_code), "%s", code);
	snprintf(err->request_id, sizeof(err->request_id), "%s", hr->request_id);
	err->http_status = hr->status;
	return -1;
}

/* Sends r to the bucket's Region, following one redirect; *region_out (may
 * be NULL) receives the Region that answered. */
static int s3_follow(struct aws_client *c, const struct aws_s3_request *r,
		     struct http_response *hr, char *region_out, size_t nout,
		     struct err *err)
{
	struct s3_regions *m = aws_client_s3_regions(c);
	const char *cr = aws_client_region(c);
	char used[64], next[64];
	int rc, have;

	have = r->bucket && *r->bucket && cached_region(m, r->bucket, used, sizeof(used));
	if (!have)
		snprintf(used, sizeof(used), "%s", cr ? cr : "");
	rc = aws_s3_send(c, r, have ? used : NULL, hr, err);
	if (rc == 0 || !r->bucket || !*r->bucket || !hr->status ||
	    !is_redirect(r, hr, err))
		goto out;
	redirect_region(c, r, used[0] ? used : NULL, hr, next, sizeof(next));
	/* a HEAD's bare 400 that names no other Region was not a redirect
	 * after all: its own error */
	if (hr->status == 400 && !err->aws_code[0] &&
	    (!next[0] || !strcmp(next, used)))
		goto out;
	if (!next[0])
		return redirect_fail(err, hr,
			"s3:%s: bucket %s is not in region %s (HTTP %d %s, request "
			"id %s) and S3 did not say which region it is in; use "
			"--region with the bucket's region",
			op_name(r), r->bucket, used[0] ? used : "(none)",
			hr->status, answer_code(err, hr),
			hr->request_id[0] ? hr->request_id : "-");
	if (!strcmp(next, used))
		return redirect_fail(err, hr,
			"s3:%s: bucket %s: S3 answered HTTP %d %s naming region %s, "
			"the region the request was sent to; not sending it again "
			"(request id %s)",
			op_name(r), r->bucket, hr->status, answer_code(err, hr),
			next, hr->request_id[0] ? hr->request_id : "-");
	log_debug("s3:%s: bucket %s is in %s, not %s (HTTP %d %s): sending it there",
		  op_name(r), r->bucket, next, used[0] ? used : "(none)",
		  hr->status, answer_code(err, hr));
	remember_region(m, r->bucket, next);
	snprintf(used, sizeof(used), "%s", next);
	err_clear(err);
	rc = aws_s3_send(c, r, next, hr, err);
	if (rc < 0 && hr->status && is_redirect(r, hr, err))
		return redirect_fail(err, hr,
			"s3:%s: bucket %s: redirected again after being sent to its "
			"region %s (HTTP %d %s%s%s, request id %s); giving up after "
			"one redirect",
			op_name(r), r->bucket, next, hr->status, answer_code(err, hr),
			hr->bucket_region[0] ? " to " : "", hr->bucket_region,
			hr->request_id[0] ? hr->request_id : "-");
out:
	if (region_out)
		snprintf(region_out, nout, "%s", rc == 0 && hr->bucket_region[0]
					? hr->bucket_region : used);
	return rc;
}

int aws_s3(struct aws_client *c, const struct aws_s3_request *r,
	   struct aws_s3_response *resp, struct err *err)
{
	struct http_response hr;
	int rc;

	http_response_init(&hr);
	rc = s3_follow(c, r, &hr, NULL, 0, err);
	copy_out(&hr, rc, resp);
	http_response_release(&hr);
	return rc;
}

int aws_s3_known_region(struct aws_client *c, const char *bucket, char *out,
			size_t n)
{
	return cached_region(aws_client_s3_regions(c), bucket, out, n);
}

int aws_s3_bucket_region(struct aws_client *c, const char *bucket, char *out,
			 size_t n, struct err *err)
{
	struct aws_s3_request h;
	struct http_response hr;
	char region[64];
	int rc;

	if (cached_region(aws_client_s3_regions(c), bucket, out, n))
		return 0;
	memset(&h, 0, sizeof(h));
	h.method = "HEAD";
	h.bucket = bucket;
	h.key = "";
	h.op = "HeadBucket";
	http_response_init(&hr);
	rc = s3_follow(c, &h, &hr, region, sizeof(region), err);
	http_response_release(&hr);
	if (rc < 0)
		return -1;
	if (!region[0] || !region_ok(region))
		return err_set(err, ERR_AWS, "s3:HeadBucket: bucket %s: no region "
					     "in the answer and none configured", bucket);
	remember_region(aws_client_s3_regions(c), bucket, region);
	snprintf(out, n, "%s", region);
	return 0;
}

static const char *child_text(struct arena *a, xmlNode *n, const char *name,
			      const char *dflt)
{
	xmlNode *c;

	for (c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name)) {
			xmlChar *t = xmlNodeGetContent(c);
			const char *s = arena_strdup(a, t ? (const char *)t : "");
			xmlFree(t);
			return s;
		}
	}
	return dflt;
}

struct value *aws_s3_list_versions(struct aws_client *c, const char *bucket,
				   const char *key, struct arena *a,
				   struct err *err)
{
	struct aws_s3_request r;
	struct aws_s3_response resp;
	struct strbuf q = STRBUF_INIT;
	struct value *list = NULL;
	xmlDoc *doc;
	xmlNode *root, *n;

	strbuf_addstr(&q, "prefix=");
	sigv4_uri_encode(key, strlen(key), NULL, &q);
	strbuf_addstr(&q, "&versions");
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.bucket = bucket;
	r.key = "";
	r.query = q.buf;
	strbuf_init(&resp.body, 0);
	if (aws_s3(c, &r, &resp, err) < 0)
		goto out;
	if (resp.body.len > 0x7fffffff)
		goto bad;
	doc = xmlReadMemory(resp.body.buf, (int)resp.body.len, "versions.xml",
			    NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (!doc)
		goto bad;
	root = xmlDocGetRootElement(doc);
	list = value_new_list(a);
	for (n = root ? root->children : NULL; n; n = n->next) {
		const char *nm = (const char *)n->name, *k;
		struct value *m;
		int marker;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		marker = !strcmp(nm, "DeleteMarker");
		if (!marker && strcmp(nm, "Version"))
			continue;
		k = child_text(a, n, "Key", NULL);
		if (!k || strcmp(k, key)) /* the prefix matched a longer key */
			continue;
		m = value_new_map(a);
		value_map_set(a, m, "VersionId",
			      value_new_string(a, child_text(a, n, "VersionId", "")));
		value_map_set(a, m, "ETag",
			      value_new_string(a, child_text(a, n, "ETag", "")));
		value_map_set(a, m, "LastModified",
			      value_new_string(a, child_text(a, n, "LastModified", "")));
		value_map_set(a, m, "Size",
			      value_new_string(a, child_text(a, n, "Size", "0")));
		value_map_set(a, m, "IsLatest",
			      value_new_string(a, child_text(a, n, "IsLatest", "false")));
		value_map_set(a, m, "DeleteMarker",
			      value_new_string(a, marker ? "true" : "false"));
		value_list_push(a, list, m);
	}
	xmlFreeDoc(doc);
	goto out;
bad:
	err_set(err, ERR_PARSE, "s3:ListObjectVersions: malformed XML in the "
				"response");
out:
	strbuf_release(&q);
	strbuf_release(&resp.body);
	return list;
}

/* Content-MD5: the body's MD5, base64 (RFC 1864). */
static void content_md5(const char *body, size_t len, char out[32])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(body, len, d, &n, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

struct value *aws_s3_bucket_call(struct aws_client *c, const char *method,
				 const char *bucket, const char *sub,
				 const char *op, const char *body,
				 struct arena *a, struct err *err)
{
	struct aws_s3_request r;
	struct aws_s3_response resp;
	struct value *out;
	char md5[32];

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.bucket = bucket;
	r.key = "";
	r.query = sub;
	r.op = op;
	if (body) {
		r.body = body;
		r.body_len = strlen(body);
		r.content_type = body[0] == '{' ? "application/json" : "application/xml";
		content_md5(body, r.body_len, md5);
		r.content_md5 = md5;
	}
	strbuf_init(&resp.body, 0);
	if (aws_s3(c, &r, &resp, err) < 0) {
		strbuf_release(&resp.body);
		return NULL;
	}
	if (!resp.body.len)
		out = value_new_map(a);
	else if (resp.body.buf[0] == '{') {
		out = value_new_map(a);
		value_map_set(a, out, "Policy",
			      value_new_stringn(a, resp.body.buf, resp.body.len));
	} else {
		out = aws_xml_to_value(a, resp.body.buf, resp.body.len, 1, err);
		if (!out)
			err_prefix(err, "s3:%s: ", op);
	}
	strbuf_release(&resp.body);
	return out;
}

int aws_s3_bucket_created(struct aws_client *c, const char *bucket,
			  char *created, size_t n, time_t *server_now,
			  struct err *err)
{
	struct aws_s3_request r;
	struct aws_s3_response resp;
	struct strbuf q = STRBUF_INIT;
	xmlDoc *doc = NULL;
	xmlNode *root, *bs, *b;
	struct arena *a = arena_new();
	int rc = -1;

	created[0] = '\0';
	/* Prefix (2024) keeps the answer small in an account of many
	 * buckets: the name itself sorts first among those it starts */
	strbuf_addstr(&q, "prefix=");
	sigv4_uri_encode(bucket, strlen(bucket), NULL, &q);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.bucket = "";
	r.key = "";
	r.query = q.buf;
	r.op = "ListBuckets";
	strbuf_init(&resp.body, 0);
	if (aws_s3(c, &r, &resp, err) < 0)
		goto out;
	*server_now = resp.date;
	if (resp.body.len > 0x7fffffff ||
	    !(doc = xmlReadMemory(resp.body.buf, (int)resp.body.len, "buckets.xml",
				  NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING))) {
		err_set(err, ERR_PARSE, "s3:ListBuckets: malformed XML in the response");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	for (bs = root ? root->children : NULL; bs; bs = bs->next)
		if (bs->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)bs->name, "Buckets"))
			break;
	for (b = bs ? bs->children : NULL; b; b = b->next) {
		const char *nm;
		if (b->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)b->name, "Bucket"))
			continue;
		nm = child_text(a, b, "Name", "");
		if (!strcmp(nm, bucket)) {
			snprintf(created, n, "%s", child_text(a, b, "CreationDate", ""));
			break;
		}
	}
	rc = 0;
out:
	if (doc)
		xmlFreeDoc(doc);
	arena_free(a);
	strbuf_release(&q);
	strbuf_release(&resp.body);
	return rc;
}
