/*
 * Test driver: runs one provider operation against an endpoint (the
 * emulator) so that tests/py/test_providers*.py can exercise every type
 * over HTTP and check the outcome with botocore.
 *
 *   provider_driver [options] create    TYPE PROPS
 *   provider_driver [options] read      TYPE ID [ATTRS]
 *   provider_driver [options] read-many TYPE ID...
 *   provider_driver [options] update    TYPE ID OLD-PROPS NEW-PROPS [ATTRS]
 *   provider_driver [options] delete    TYPE ID PROPS [ATTRS]
 *   provider_driver [options] find      TYPE PROPS
 *   provider_driver [options] name      MAX-LEN LOWER(0|1)
 *   provider_driver types
 * PROPS/ATTRS: inline JSON (starting with '{') or a file name.
 * options: --endpoint-url URL, --region R, --stack S, --logical-id L,
 *          --token T (32 hex), --timeout SECONDS (operation deadline)
 *
 * Prints {"physical_id", "attrs", "props"} as JSON (sorted keys) on
 * stdout (read-many: a list of them, null for a gone one). Failures: one
 * line "error CLASS AWS_CODE: MESSAGE" on stderr and exit 1, or 4 when
 * the class is not_found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/aws.h"
#include "cairn/log.h"
#include "cairn/provider.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

static struct value *load_json(struct arena *a, const char *arg)
{
	struct err err = ERR_INIT;
	struct strbuf sb;
	struct value *v;

	strbuf_init(&sb, 256);
	if (arg[0] == '{' || arg[0] == '[') {
		strbuf_addstr(&sb, arg);
	} else if (strbuf_read_file(&sb, arg, 1 << 24) < 0) {
		fprintf(stderr, "provider_driver: cannot read %s\n", arg);
		exit(2);
	}
	v = value_from_json(a, sb.buf, sb.len, 0, &err);
	strbuf_release(&sb);
	if (!v) {
		fprintf(stderr, "provider_driver: bad JSON in %s: %s\n", arg, err.msg);
		exit(2);
	}
	return v;
}

static struct value *result_json(struct arena *a, const struct provider_result *r)
{
	struct value *m = value_new_map(a);

	value_map_set(a, m, "physical_id",
		      r->physical_id ? value_new_string(a, r->physical_id)
				     : value_new_null(a));
	value_map_set(a, m, "attrs", r->attrs ? r->attrs : value_new_null(a));
	value_map_set(a, m, "props", r->props ? r->props : value_new_null(a));
	return m;
}

static void print(const struct value *v)
{
	struct strbuf sb;

	strbuf_init(&sb, 256);
	/* REDACT: a sensitive value must never reach the output */
	value_to_json(v, &sb, VALUE_JSON_SORT_KEYS | VALUE_JSON_REDACT);
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static int usage(void)
{
	fprintf(stderr, "usage: provider_driver [options] create|read|read-many|"
			"update|delete|find|name TYPE ...\n");
	return 2;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct aws_options o;
	struct provider_ctx ctx;
	struct provider_result res;
	struct err err = ERR_INIT;
	const struct provider *p;
	struct aws_client *cli = NULL;
	struct arena *a;
	const char *op, *type;
	int i, rc = 0;
	double timeout = 0;

	log_init_from_env();
	memset(&o, 0, sizeof(o));
	memset(&ctx, 0, sizeof(ctx));
	memset(&res, 0, sizeof(res));
	ctx.stack = "teststack";
	ctx.logical_id = "Res";
	ctx.token = "0123456789abcdef0123456789abcdef";
	ctx.region = "us-east-1";
	ctx.account = "123456789012";
	ctx.partition = "aws";
	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--endpoint-url"))
			o.endpoint_url = argv[i + 1];
		else if (!strcmp(argv[i], "--region"))
			o.region = ctx.region = argv[i + 1];
		else if (!strcmp(argv[i], "--stack"))
			ctx.stack = argv[i + 1];
		else if (!strcmp(argv[i], "--logical-id"))
			ctx.logical_id = argv[i + 1];
		else if (!strcmp(argv[i], "--token"))
			ctx.token = argv[i + 1];
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[i + 1]);
		else
			return usage();
	}
	if (i < argc && !strcmp(argv[i], "types")) {
		size_t k;
		for (k = 0; k < provider_count(); k++)
			printf("%s\n", provider_at(k)->type);
		return 0;
	}
	if (argc - i < 3)
		return usage();
	op = argv[i];
	type = argv[i + 1];
	i += 2;
	a = arena_new();
	ctx.arena = a;
	ctx.type = type;
	if (timeout > 0)
		ctx.deadline = mono() + timeout;

	if (!strcmp(op, "name")) {
		printf("%s\n", provider_generate_name(&ctx, (size_t)atoi(type),
						      atoi(argv[i]) != 0));
		arena_free(a);
		return 0;
	}
	p = provider_find(type);
	if (!p) {
		fprintf(stderr, "provider_driver: no provider for %s\n", type);
		arena_free(a);
		return 2;
	}
	cli = aws_client_new(&o, &err);
	if (!cli) {
		fprintf(stderr, "error %s -: %s\n", err_code_name(err.code), err.msg);
		arena_free(a);
		return 1;
	}
	ctx.aws = cli;

	if (!strcmp(op, "create") && argc - i == 1) {
		rc = p->create(&ctx, load_json(a, argv[i]), &res, &err);
		if (!rc)
			print(result_json(a, &res));
	} else if (!strcmp(op, "read") && argc - i >= 1) {
		rc = p->read(&ctx, argv[i],
			     argc - i > 1 ? load_json(a, argv[i + 1]) : value_new_map(a),
			     &res, &err);
		if (!rc)
			print(result_json(a, &res));
	} else if (!strcmp(op, "read-many") && argc - i >= 1 && p->read_many) {
		size_t n = (size_t)(argc - i), k;
		struct provider_result *outs = arena_alloc(a, n * sizeof(*outs));
		rc = p->read_many(&ctx, n, (const char *const *)&argv[i], outs, &err);
		if (!rc) {
			struct value *l = value_new_list(a);
			for (k = 0; k < n; k++)
				value_list_push(a, l, outs[k].physical_id
							      ? result_json(a, &outs[k])
							      : value_new_null(a));
			print(l);
		}
	} else if (!strcmp(op, "update") && argc - i >= 3) {
		rc = p->update(&ctx, argv[i], load_json(a, argv[i + 1]),
			       load_json(a, argv[i + 2]),
			       argc - i > 3 ? load_json(a, argv[i + 3]) : value_new_map(a),
			       &res, &err);
		if (!rc)
			print(result_json(a, &res));
	} else if (!strcmp(op, "delete") && argc - i >= 2) {
		rc = p->delete(&ctx, argv[i], load_json(a, argv[i + 1]),
			       argc - i > 2 ? load_json(a, argv[i + 2]) : value_new_map(a),
			       &err);
		if (!rc)
			printf("{}\n");
	} else if (!strcmp(op, "find") && argc - i == 1 && p->find) {
		rc = p->find(&ctx, load_json(a, argv[i]), &res, &err);
		if (!rc)
			print(result_json(a, &res));
	} else {
		aws_client_free(cli);
		arena_free(a);
		return usage();
	}
	if (rc) {
		fprintf(stderr, "error %s %s: %s\n", err_code_name(err.code),
			err.aws_code[0] ? err.aws_code : "-", err.msg);
		rc = err.code == ERR_NOT_FOUND ? 4 : 1;
	}
	aws_client_free(cli);
	arena_free(a);
	return rc;
}
