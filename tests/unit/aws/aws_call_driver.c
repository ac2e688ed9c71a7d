/*
 * Integration driver for the AWS client (used by tests/e2e/t0202-*.sh
 * against the emulator):
 *   aws_call_driver [options] SERVICE OP [PARAMS-JSON]
 *       calls SERVICE:OP --calls times from --threads threads sharing one
 *       client; prints the first response as JSON on stdout and, per
 *       failure, "error CLASS AWS_CODE HTTP_STATUS: MESSAGE" on stderr;
 *       exits 0 only if every call succeeded.
 *   aws_call_driver [options] s3 METHOD BUCKET KEY [BODY [IF-MATCH [IF-NONE-MATCH]]]
 *       one S3 object call; prints "status ETAG" and the body.
 * options: --threads N, --calls N, --endpoint-url URL, --max-attempts N,
 *          --region R, --profile P, --all LIST-PATH (aws_call_all)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/arena.h"
#include "cairn/aws.h"
#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

struct job {
	struct aws_client *c;
	const char *svc, *op;
	const char *params_json;
	const char *all; /* list path: follow pagination */
	int calls;
	int ok, fail;
	struct strbuf first;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	struct job *j = arg;
	int i;

	for (i = 0; i < j->calls; i++) {
		struct arena *a = arena_new();
		struct err err = ERR_INIT;
		struct value *p = NULL, *r;
		if (j->params_json) {
			p = value_from_json(a, j->params_json, strlen(j->params_json), 0, &err);
			if (!p) {
				fprintf(stderr, "bad params: %s\n", err.msg);
				exit(2);
			}
		}
		r = j->all ? aws_call_all(j->c, j->svc, j->op, p, j->all, a, &err) :
			     aws_call(j->c, j->svc, j->op, p, a, &err);
		if (r) {
			j->ok++;
			if (!j->first.len)
				value_to_json(r, &j->first, VALUE_JSON_SORT_KEYS);
		} else {
			j->fail++;
			pthread_mutex_lock(&out_lock);
			fprintf(stderr, "error %s %s %d: %s\n", err_code_name(err.code),
				err.aws_code[0] ? err.aws_code : "-", err.http_status, err.msg);
			pthread_mutex_unlock(&out_lock);
		}
		arena_free(a);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct aws_options o;
	struct err err = ERR_INIT;
	struct aws_client *c;
	int threads = 1, calls = 1, i, ok = 0, fail = 0;
	const char *all = NULL;
	struct job *jobs;
	pthread_t *tid;

	log_init_from_env();
	memset(&o, 0, sizeof(o));
	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--calls"))
			calls = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--endpoint-url"))
			o.endpoint_url = argv[i + 1];
		else if (!strcmp(argv[i], "--max-attempts"))
			o.max_attempts = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--region"))
			o.region = argv[i + 1];
		else if (!strcmp(argv[i], "--profile"))
			o.profile = argv[i + 1];
		else if (!strcmp(argv[i], "--all"))
			all = argv[i + 1];
		else
			break;
	}
	if (argc - i < 2 || threads < 1 || calls < 1) {
		fprintf(stderr, "usage: aws_call_driver [options] SERVICE OP [PARAMS]\n");
		return 2;
	}
	c = aws_client_new(&o, &err);
	if (!c) {
		fprintf(stderr, "error %s: %s\n", err_code_name(err.code), err.msg);
		return 1;
	}
	if (!strcmp(argv[i], "s3")) {
		struct aws_s3_request r;
		struct aws_s3_response resp;
		int rc;
		if (argc - i < 4) {
			aws_client_free(c);
			return 2;
		}
		memset(&r, 0, sizeof(r));
		r.method = argv[i + 1];
		r.bucket = argv[i + 2];
		r.key = argv[i + 3];
		if (argc - i > 4) {
			r.body = argv[i + 4];
			r.body_len = strlen(argv[i + 4]);
		}
		if (argc - i > 5 && *argv[i + 5])
			r.if_match = argv[i + 5];
		if (argc - i > 6 && *argv[i + 6])
			r.if_none_match = argv[i + 6];
		strbuf_init(&resp.body, 0);
		rc = aws_s3(c, &r, &resp, &err);
		if (rc < 0)
			fprintf(stderr, "error %s %s %d: %s\n", err_code_name(err.code),
				err.aws_code[0] ? err.aws_code : "-", err.http_status, err.msg);
		else
			printf("%d %s\n%s\n", resp.status, resp.etag, resp.body.buf);
		strbuf_release(&resp.body);
		aws_client_free(c);
		return rc < 0;
	}
	jobs = calloc((size_t)threads, sizeof(*jobs));
	tid = calloc((size_t)threads, sizeof(*tid));
	for (int t = 0; t < threads; t++) {
		jobs[t].c = c;
		jobs[t].svc = argv[i];
		jobs[t].op = argv[i + 1];
		jobs[t].params_json = argc - i > 2 ? argv[i + 2] : NULL;
		jobs[t].all = all;
		jobs[t].calls = calls / threads + (t < calls % threads);
		strbuf_init(&jobs[t].first, 0);
		pthread_create(&tid[t], NULL, worker, &jobs[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(tid[t], NULL);
		ok += jobs[t].ok;
		fail += jobs[t].fail;
	}
	for (int t = 0; t < threads; t++) {
		if (jobs[t].first.len) {
			printf("%s\n", jobs[t].first.buf);
			break;
		}
	}
	for (int t = 0; t < threads; t++)
		strbuf_release(&jobs[t].first);
	fprintf(stderr, "calls ok=%d fail=%d\n", ok, fail);
	free(jobs);
	free(tid);
	aws_client_free(c);
	return fail ? 1 : 0;
}
