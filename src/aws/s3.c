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
#include <string.h>

#include "aws_int.h"
#include "cairn/strbuf.h"
#include "cairn/aws_sigv4.h"

#include <openssl/evp.h>

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
