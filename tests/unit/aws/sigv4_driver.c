/*
 * Test driver for the SigV4 signer: reads one JSON request description per
 * line on stdin and prints the Authorization header cairn computes, one per
 * line. tests/py/test_sigv4_botocore.py feeds it a corpus and compares each
 * line with botocore's. With --stages, prints the canonical request and the
 * string to sign before each header (for debugging a mismatch).
 *
 * Fields: method, path, query, headers [[name, value]...], body_hex,
 * access_key, secret_key, token, region, service, amz_date
 * (YYYYMMDDTHHMMSSZ), s3 (bool), unsigned_payload (bool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/aws_sigv4.h"
#include "cairn/err.h"
#include "cairn/value.h"
#include "cairn/xalloc.h"

static const char *str_field(const struct value *v, const char *k)
{
	const char *s = value_str(value_map_get(v, k));
	return s ? s : "";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int run_one(struct sigv4_signer *s, const char *line, size_t len,
		   int stages)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	struct value *v = value_from_json(a, line, len, 0, &err);
	struct value *hl, *b;
	struct sigv4_header *hs = NULL;
	struct sigv4_request req;
	struct sigv4_creds cr;
	struct sigv4_result res;
	unsigned char *body = NULL;
	size_t i, blen = 0;
	struct tm tm;
	int flags = 0, rc = 0;

	if (!v) {
		fprintf(stderr, "sigv4_driver: %s\n", err.msg);
		arena_free(a);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.method = str_field(v, "method");
	req.path = str_field(v, "path");
	req.query = str_field(v, "query");
	hl = value_map_get(v, "headers");
	if (hl && hl->kind == VALUE_LIST) {
		hs = xcalloc(hl->u.list.n + 1, sizeof(*hs));
		for (i = 0; i < hl->u.list.n; i++) {
			hs[i].name = value_str(value_get_path(hl->u.list.items[i], "[0]"));
			hs[i].value = value_str(value_get_path(hl->u.list.items[i], "[1]"));
			if (!hs[i].name || !hs[i].value) {
				fprintf(stderr, "sigv4_driver: bad header\n");
				rc = -1;
				goto out;
			}
		}
		req.headers = hs;
		req.nheaders = hl->u.list.n;
	}
	b = value_map_get(v, "body_hex");
	if (value_str(b)) {
		const char *h = value_str(b);
		blen = strlen(h) / 2;
		body = xmalloc(blen + 1);
		for (i = 0; i < blen; i++)
			body[i] = (unsigned char)(hexval(h[2 * i]) * 16 + hexval(h[2 * i + 1]));
		req.body = body;
		req.body_len = blen;
	}
	cr.access_key = str_field(v, "access_key");
	cr.secret_key = str_field(v, "secret_key");
	cr.session_token = str_field(v, "token");
	memset(&tm, 0, sizeof(tm));
	if (!strptime(str_field(v, "amz_date"), "%Y%m%dT%H%M%SZ", &tm)) {
		fprintf(stderr, "sigv4_driver: bad amz_date\n");
		rc = -1;
		goto out;
	}
	if (value_get_path(v, "s3") && value_get_path(v, "s3")->kind == VALUE_BOOL &&
	    value_get_path(v, "s3")->u.b)
		flags |= SIGV4_S3;
	if (value_get_path(v, "unsigned_payload") &&
	    value_get_path(v, "unsigned_payload")->kind == VALUE_BOOL &&
	    value_get_path(v, "unsigned_payload")->u.b)
		flags |= SIGV4_UNSIGNED_PAYLOAD;
	if (stages)
		flags |= SIGV4_KEEP_STAGES;
	sigv4_result_init(&res);
	if (sigv4_sign(s, &req, &cr, str_field(v, "region"),
		       str_field(v, "service"), timegm(&tm), flags, &res) < 0) {
		printf("ERROR\n");
	} else {
		if (stages)
			printf("--- canonical request\n%s\n--- string to sign\n%s\n",
			       res.canonical_request.buf, res.string_to_sign.buf);
		printf("%s\n", res.authorization.buf);
	}
	sigv4_result_release(&res);
out:
	free(hs);
	free(body);
	arena_free(a);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigv4_signer *s = sigv4_signer_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int stages = argc > 1 && !strcmp(argv[1], "--stages"), rc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (n <= 1)
			continue;
		if (run_one(s, line, (size_t)n, stages) < 0)
			rc = 1;
	}
	fflush(stdout);
	free(line);
	sigv4_signer_free(s);
	return rc;
}
