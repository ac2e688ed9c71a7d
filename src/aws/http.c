/* HTTP with libcurl. A pool of easy handles: a worker takes one, uses it and
 * gives it back, so each of N concurrent workers keeps its own connection
 * (curl reuses connections per easy handle) without a handle per thread
 * that would outlive its thread. TLS verification is always on. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "aws_int.h"
#include "cairn/xalloc.h"
#include "version.h"

struct http_pool {
	pthread_mutex_t lock;
	CURL **idle;
	size_t n, cap;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	xmlInitParser();
}

void http_global_init(void)
{
	pthread_once(&once, global_init);
}

struct http_pool *http_pool_new(void)
{
	struct http_pool *p = xcalloc(1, sizeof(*p));

	http_global_init();
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void http_pool_free(struct http_pool *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		curl_easy_cleanup(p->idle[i]);
	free(p->idle);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body, 0);
}

void http_response_release(struct http_response *r)
{
	strbuf_release(&r->body);
}

struct sink {
	struct http_response *r;
	size_t max;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (s->r->body.len + n > s->max) {
		s->too_big = 1;
		return 0;
	}
	strbuf_add(&s->r->body, data, n);
	return n;
}

static void header_value(char *dst, size_t dn, const char *v, size_t vn)
{
	while (vn && isspace((unsigned char)*v)) {
		v++;
		vn--;
	}
	while (vn && isspace((unsigned char)v[vn - 1]))
		vn--;
	if (vn >= dn)
		vn = dn - 1;
	memcpy(dst, v, vn);
	dst[vn] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	const char *colon = memchr(data, ':', n);
	size_t kl;

	if (!colon)
		return n;
	kl = (size_t)(colon - data);
#define IS(name) (kl == strlen(name) && !strncasecmp(data, name, kl))
	if (IS("x-amzn-requestid") || IS("x-amz-request-id"))
		header_value(s->r->request_id, sizeof(s->r->request_id), colon + 1,
			     n - kl - 1);
	else if (IS("x-amzn-errortype"))
		header_value(s->r->error_type, sizeof(s->r->error_type), colon + 1,
			     n - kl - 1);
	else if (IS("etag"))
		header_value(s->r->etag, sizeof(s->r->etag), colon + 1, n - kl - 1);
	else if (IS("date")) {
		char d[64];
		header_value(d, sizeof(d), colon + 1, n - kl - 1);
		s->r->date = curl_getdate(d, NULL);
		if (s->r->date < 0)
			s->r->date = 0;
	} else if (IS("x-amz-version-id"))
		header_value(s->r->version_id, sizeof(s->r->version_id),
			     colon + 1, n - kl - 1);
	else if (IS("x-amz-bucket-region"))
		header_value(s->r->bucket_region, sizeof(s->r->bucket_region),
			     colon + 1, n - kl - 1);
	else if (IS("content-type"))
		header_value(s->r->content_type, sizeof(s->r->content_type),
			     colon + 1, n - kl - 1);
#undef IS
	return n;
}

static CURL *take(struct http_pool *p)
{
	CURL *h = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->n)
		h = p->idle[--p->n];
	pthread_mutex_unlock(&p->lock);
	if (!h)
		h = curl_easy_init();
	if (!h)
		abort();
	return h;
}

static void give_back(struct http_pool *p, CURL *h)
{
	pthread_mutex_lock(&p->lock);
	ALLOC_GROW(p->idle, p->n + 1, p->cap);
	p->idle[p->n++] = h;
	pthread_mutex_unlock(&p->lock);
}

int http_do(struct http_pool *p, const struct http_request *req,
	    struct http_response *resp, struct err *err)
{
	CURL *h = take(p);
	struct curl_slist *hl = NULL;
	struct sink sink = { resp, req->max_response ? req->max_response : 64u << 20, 0 };
	struct strbuf line = STRBUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long status = 0;
	size_t i;
	int ret = 0;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	if (req->fresh_connect)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cairn/" CAIRN_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	}
	for (i = 0; i < req->nheaders; i++) {
		strbuf_reset(&line);
		if (*req->headers[i].value)
			strbuf_addf(&line, "%s: %s", req->headers[i].name,
				    req->headers[i].value);
		else
			strbuf_addf(&line, "%s;", req->headers[i].name);
		hl = curl_slist_append(hl, line.buf);
	}
	/* no "Expect: 100-continue" round trip; no default Accept */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(h);
	resp->curl_code = (int)rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		resp->status = (int)status;
	} else if (sink.too_big) {
		ret = err_set(err, ERR_IO, "response from %s larger than %zu bytes",
			      req->url, sink.max);
	} else {
		enum err_code code;
		switch (rc) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			code = ERR_TRANSIENT;
			break;
		default:
			code = ERR_IO;
		}
		ret = err_set(err, code, "%s: %s", req->url,
			      errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	/* secrets were in the header list: wipe before freeing */
	{
		struct curl_slist *s;
		for (s = hl; s; s = s->next)
			memset(s->data, 0, strlen(s->data));
	}
	curl_slist_free_all(hl);
	memset(line.buf, 0, line.len);
	strbuf_release(&line);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	give_back(p, h);
	return ret;
}
