#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cairn/aws_sigv4.h"
#include "cairn/xalloc.h"

#define KEY_CACHE 8

struct key_entry {
	unsigned char secret_id[32]; /* sha256 of the secret, never the secret */
	char date[9];
	char region[48];
	char service[48];
	unsigned char key[32];
	unsigned long used;
	int valid;
};

struct sigv4_signer {
	pthread_mutex_t lock;
	struct key_entry cache[KEY_CACHE];
	unsigned long tick;
	EVP_MD *md;
};

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha256(EVP_MD_CTX *ctx, const EVP_MD *md, const void *d, size_t n,
		   unsigned char out[32])
{
	EVP_DigestInit_ex(ctx, md, NULL);
	EVP_DigestUpdate(ctx, d, n);
	EVP_DigestFinal_ex(ctx, out, NULL);
}

/* HMAC-SHA256 on a fetched digest: cheaper than the generic EVP_MAC path,
 * which re-fetches its algorithm on every call. */
static void hmac(EVP_MD_CTX *ctx, const EVP_MD *md, const void *key,
		 size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned char k[64], pad[64], inner[32];
	size_t i;

	memset(k, 0, sizeof(k));
	if (klen > sizeof(k))
		sha256(ctx, md, key, klen, k);
	else
		memcpy(k, key, klen);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	EVP_DigestInit_ex(ctx, md, NULL);
	EVP_DigestUpdate(ctx, pad, 64);
	EVP_DigestUpdate(ctx, msg, mlen);
	EVP_DigestFinal_ex(ctx, inner, NULL);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	EVP_DigestInit_ex(ctx, md, NULL);
	EVP_DigestUpdate(ctx, pad, 64);
	EVP_DigestUpdate(ctx, inner, 32);
	EVP_DigestFinal_ex(ctx, out, NULL);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

struct sigv4_signer *sigv4_signer_new(void)
{
	struct sigv4_signer *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!s->md)
		abort(); /* no SHA-256 in libcrypto: nothing can work */
	return s;
}

void sigv4_signer_free(struct sigv4_signer *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s->cache, sizeof(s->cache));
	EVP_MD_free(s->md);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void sigv4_result_init(struct sigv4_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->authorization, 0);
	strbuf_init(&r->canonical_request, 0);
	strbuf_init(&r->string_to_sign, 0);
}

void sigv4_result_release(struct sigv4_result *r)
{
	EVP_MD_CTX_free(r->md_ctx);
	r->md_ctx = NULL;
	strbuf_release(&r->authorization);
	strbuf_release(&r->canonical_request);
	strbuf_release(&r->string_to_sign);
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[32];
	unsigned int n = 0;

	EVP_Digest(data, len, h, &n, EVP_sha256(), NULL);
	to_hex(h, 32, out);
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

void sigv4_uri_encode(const char *s, size_t len, const char *safe,
		      struct strbuf *out)
{
	static const char up[] = "0123456789ABCDEF";
	size_t i;

	strbuf_grow(out, len * 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (c && safe && strchr(safe, c))) {
			out->buf[out->len++] = (char)c;
		} else {
			out->buf[out->len++] = '%';
			out->buf[out->len++] = up[c >> 4];
			out->buf[out->len++] = up[c & 15];
		}
	}
	out->buf[out->len] = '\0';
}

/* RFC 3986 5.2.4 plus removal of empty segments, as botocore does it:
 * split on '/', drop "" and ".", ".." pops, join; keep the lead slash and a
 * trailing one when segments remain. */
static void remove_dot_segments(const char *path, struct strbuf *out)
{
	struct seg {
		const char *p;
		size_t n;
	} *segs = NULL;
	size_t n = 0, cap = 0, i, plen = strlen(path);
	const char *p = path;

	for (;;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* dropped */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				n--;
		} else {
			ALLOC_GROW(segs, n + 1, cap);
			segs[n].p = p;
			segs[n++].n = len;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	if (path[0] == '/')
		strbuf_addch(out, '/');
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addch(out, '/');
		strbuf_add(out, segs[i].p, segs[i].n);
	}
	if (plen && path[plen - 1] == '/' && n)
		strbuf_addch(out, '/');
	free(segs);
}

void sigv4_canonical_uri(const char *path, int s3, struct strbuf *out)
{
	struct strbuf norm = STRBUF_INIT;

	if (!path || !*path) {
		strbuf_addch(out, '/');
		return;
	}
	if (s3) {
		strbuf_addstr(out, path);
		return;
	}
	remove_dot_segments(path, &norm);
	sigv4_uri_encode(norm.buf, norm.len, "/", out);
	strbuf_release(&norm);
}

struct qpair {
	const char *k, *v;
	size_t klen, vlen;
};

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int cmp_qpair(const void *x, const void *y)
{
	const struct qpair *a = x, *b = y;
	int c = cmp_bytes(a->k, a->klen, b->k, b->klen);
	return c ? c : cmp_bytes(a->v, a->vlen, b->v, b->vlen);
}

void sigv4_canonical_query(const char *query, struct strbuf *out)
{
	struct qpair stackp[32], *pairs = stackp, *heap = NULL;
	size_t n = 0, cap = 32, i;
	const char *p = query;

	if (!query || !*query)
		return;
	for (;;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		if (n == cap) {
			cap *= 2;
			if (!heap) {
				heap = xmalloc(cap * sizeof(*heap));
				memcpy(heap, stackp, sizeof(stackp));
			} else {
				heap = xrealloc(heap, cap * sizeof(*heap));
			}
			pairs = heap;
		}
		pairs[n].k = p;
		pairs[n].klen = eq ? (size_t)(eq - p) : len;
		pairs[n].v = eq ? eq + 1 : p + len;
		pairs[n].vlen = eq ? len - pairs[n].klen - 1 : 0;
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	qsort(pairs, n, sizeof(*pairs), cmp_qpair);
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addch(out, '&');
		strbuf_add(out, pairs[i].k, pairs[i].klen);
		strbuf_addch(out, '=');
		strbuf_add(out, pairs[i].v, pairs[i].vlen);
	}
	free(heap);
}

struct hdr {
	char lname[128];
	const char *value;
	size_t idx;
};

static int cmp_hdr(const void *x, const void *y)
{
	const struct hdr *a = x, *b = y;
	int c = strcmp(a->lname, b->lname);
	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Trimall: strip, and collapse inner whitespace runs to one space. */
static void add_trimmed(struct strbuf *out, const char *v)
{
	int pending = 0, any = 0;

	for (; *v; v++) {
		if (is_ws(*v)) {
			pending = 1;
			continue;
		}
		if (pending && any)
			strbuf_addch(out, ' ');
		pending = 0;
		any = 1;
		strbuf_addch(out, *v);
	}
}

static int skip_header(const char *lname)
{
	return !strcmp(lname, "user-agent") || !strcmp(lname, "expect") ||
	       !strcmp(lname, "x-amzn-trace-id");
}

void sigv4_canonical_headers(const struct sigv4_header *h, size_t n,
			     struct strbuf *out, struct strbuf *signed_headers)
{
	struct hdr stackh[24], *hs = n > 24 ? xmalloc(n * sizeof(*hs)) : stackh;
	size_t i, m = 0;
	int first = 1;

	for (i = 0; i < n; i++) {
		size_t j, len = strlen(h[i].name);
		if (len >= sizeof(hs[m].lname))
			len = sizeof(hs[m].lname) - 1;
		for (j = 0; j < len; j++) {
			char c = h[i].name[j];
			hs[m].lname[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		hs[m].lname[len] = '\0';
		if (skip_header(hs[m].lname))
			continue;
		hs[m].value = h[i].value;
		hs[m].idx = i;
		m++;
	}
	qsort(hs, m, sizeof(*hs), cmp_hdr);
	for (i = 0; i < m; i++) {
		if (i && !strcmp(hs[i].lname, hs[i - 1].lname)) {
			strbuf_setlen(out, out->len - 1); /* the '\n' */
			strbuf_addch(out, ',');
		} else {
			strbuf_addstr(out, hs[i].lname);
			strbuf_addch(out, ':');
			if (!first)
				strbuf_addch(signed_headers, ';');
			first = 0;
			strbuf_addstr(signed_headers, hs[i].lname);
		}
		add_trimmed(out, hs[i].value);
		strbuf_addch(out, '\n');
	}
	if (hs != stackh)
		free(hs);
}

/* Headers the signer sets itself: a caller's copy is replaced. */
static int signer_owned(const char *name)
{
	return !strcasecmp(name, "x-amz-date") ||
	       !strcasecmp(name, "x-amz-security-token") ||
	       !strcasecmp(name, "x-amz-content-sha256") ||
	       !strcasecmp(name, "authorization");
}

static void signing_key(struct sigv4_signer *s, EVP_MD_CTX *ctx,
			const char *secret, const char *date,
			const char *region, const char *service,
			unsigned char key[32])
{
	unsigned char id[32], k1[32], k2[32];
	struct key_entry *e, *victim;
	size_t i, slen = strlen(secret);
	char *aws4;
	int cacheable = strlen(region) < sizeof(e->region) &&
			strlen(service) < sizeof(e->service);

	sha256(ctx, s->md, secret, slen, id);
	if (cacheable) {
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < KEY_CACHE; i++) {
			e = &s->cache[i];
			if (e->valid && !memcmp(e->secret_id, id, 32) &&
			    !strcmp(e->date, date) && !strcmp(e->region, region) &&
			    !strcmp(e->service, service)) {
				memcpy(key, e->key, 32);
				e->used = ++s->tick;
				pthread_mutex_unlock(&s->lock);
				return;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	aws4 = xmalloc(slen + 5);
	memcpy(aws4, "AWS4", 4);
	memcpy(aws4 + 4, secret, slen + 1);
	hmac(ctx, s->md, aws4, slen + 4, date, strlen(date), k1);
	hmac(ctx, s->md, k1, 32, region, strlen(region), k2);
	hmac(ctx, s->md, k2, 32, service, strlen(service), k1);
	hmac(ctx, s->md, k1, 32, "aws4_request", 12, key);
	OPENSSL_cleanse(aws4, slen + 4);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	free(aws4);
	if (!cacheable)
		return;
	pthread_mutex_lock(&s->lock);
	victim = &s->cache[0];
	for (i = 0; i < KEY_CACHE; i++) {
		e = &s->cache[i];
		if (!e->valid) {
			victim = e;
			break;
		}
		if (e->used < victim->used)
			victim = e;
	}
	memcpy(victim->secret_id, id, 32);
	strcpy(victim->date, date);
	strcpy(victim->region, region);
	strcpy(victim->service, service);
	memcpy(victim->key, key, 32);
	victim->used = ++s->tick;
	victim->valid = 1;
	pthread_mutex_unlock(&s->lock);
}

int sigv4_sign(struct sigv4_signer *s, const struct sigv4_request *req,
	       const struct sigv4_creds *creds, const char *region,
	       const char *service, time_t now, int flags,
	       struct sigv4_result *out)
{
	struct sigv4_header stackh[24], *hs;
	struct strbuf cr = STRBUF_INIT, sh = STRBUF_INIT;
	struct strbuf *crp = (flags & SIGV4_KEEP_STAGES) ? &out->canonical_request : &cr;
	char sts_buf[512], date[9], crhash[65];
	unsigned char key[32], sig[32], h[32];
	size_t i, n = 0, total = req->nheaders + 3;
	int have_host = 0, token;
	struct tm tm;
	EVP_MD_CTX *ctx;
	int sts_len;

	if (!creds || !creds->access_key || !*creds->access_key ||
	    !creds->secret_key)
		return -1;
	token = creds->session_token && *creds->session_token;
	gmtime_r(&now, &tm);
	strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';

	/* a context per result, reused across calls: allocating one per
	 * signature costs more than a digest of a small body */
	if (!out->md_ctx && !(out->md_ctx = EVP_MD_CTX_new()))
		abort();
	ctx = out->md_ctx;
	if ((flags & SIGV4_S3) && (flags & SIGV4_UNSIGNED_PAYLOAD)) {
		strcpy(out->payload_hash, "UNSIGNED-PAYLOAD");
	} else {
		sha256(ctx, s->md, req->body ? req->body : "", req->body_len, h);
		to_hex(h, 32, out->payload_hash);
	}

	hs = total > 24 ? xmalloc(total * sizeof(*hs)) : stackh;
	for (i = 0; i < req->nheaders; i++) {
		if (signer_owned(req->headers[i].name))
			continue;
		if (!strcasecmp(req->headers[i].name, "host"))
			have_host = 1;
		hs[n++] = req->headers[i];
	}
	hs[n].name = "X-Amz-Date";
	hs[n++].value = out->amz_date;
	if (token) {
		hs[n].name = "X-Amz-Security-Token";
		hs[n++].value = creds->session_token;
	}
	if (flags & SIGV4_S3) {
		hs[n].name = "X-Amz-Content-SHA256";
		hs[n++].value = out->payload_hash;
	}
	if (!have_host) {
		if (hs != stackh)
			free(hs);
		return -1;
	}

	strbuf_reset(crp);
	strbuf_grow(crp, 512);
	strbuf_addstr(crp, req->method);
	strbuf_addch(crp, '\n');
	sigv4_canonical_uri(req->path, flags & SIGV4_S3, crp);
	strbuf_addch(crp, '\n');
	sigv4_canonical_query(req->query, crp);
	strbuf_addch(crp, '\n');
	sigv4_canonical_headers(hs, n, crp, &sh);
	strbuf_addch(crp, '\n');
	strbuf_add(crp, sh.buf, sh.len);
	strbuf_addch(crp, '\n');
	strbuf_addstr(crp, out->payload_hash);
	if (hs != stackh)
		free(hs);

	sha256(ctx, s->md, crp->buf, crp->len, h);
	to_hex(h, 32, crhash);
	sts_len = snprintf(sts_buf, sizeof(sts_buf),
			   "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
			   out->amz_date, date, region, service, crhash);
	if (sts_len < 0 || (size_t)sts_len >= sizeof(sts_buf)) {
		strbuf_release(&cr);
		strbuf_release(&sh);
		return -1;
	}
	if (flags & SIGV4_KEEP_STAGES) {
		strbuf_reset(&out->string_to_sign);
		strbuf_add(&out->string_to_sign, sts_buf, (size_t)sts_len);
	}
	signing_key(s, ctx, creds->secret_key, date, region, service, key);
	hmac(ctx, s->md, key, 32, sts_buf, (size_t)sts_len, sig);
	OPENSSL_cleanse(key, sizeof(key));
	to_hex(sig, 32, crhash);

	strbuf_reset(&out->authorization);
	strbuf_addf(&out->authorization,
		    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
		    "SignedHeaders=%s, Signature=%s",
		    creds->access_key, date, region, service, sh.buf, crhash);
	strbuf_release(&cr);
	strbuf_release(&sh);
	return 0;
}
