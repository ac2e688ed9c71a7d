/*
 * Test driver for the request serialisers: reads JSON lines
 * {"service": "ec2", "op": "CreateVpc", "params": {...}} and prints the body
 * cairn would send, one per line. tests/py/test_serialize_botocore.py
 * compares it with botocore's serialiser for the same input. A line
 * {"error_code": "X", "status": 400} prints the class of AWS error code X
 * (tests/py/test_error_table.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_int.h"

static int flags[2];

static const char *flag_get(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "AWS_USE_FIPS_ENDPOINT"))
		return flags[0] ? "true" : NULL;
	if (!strcmp(name, "AWS_USE_DUALSTACK_ENDPOINT"))
		return flags[1] ? "true" : NULL;
	return NULL;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct arena *a = arena_new();
		struct err err = ERR_INIT;
		struct value *v = value_from_json(a, line, (size_t)n, 0, &err);
		struct strbuf sb = STRBUF_INIT;
		const struct aws_service *svc;
		const char *op;
		int r = -1;

		if (v && value_str(value_map_get(v, "error_code"))) {
			/* {"error_code": C, "status": N}: the class from the table */
			const struct value *st = value_map_get(v, "status");
			printf("%s\n", err_code_name(aws_error_class(
					       value_str(value_map_get(v, "error_code")),
					       st && st->kind == VALUE_NUMBER ? (int)st->u.num.d : 400)));
			arena_free(a);
			continue;
		}
		if (v && value_str(value_map_get(v, "resolve"))) {
			/* {"resolve": "iam", "region": R|null, "fips": b,
			 * "dualstack": b}: "host signing-region" as the client
			 * resolves it, flags given as AWS_USE_FIPS_ENDPOINT /
			 * AWS_USE_DUALSTACK_ENDPOINT
			 * (tests/py/test_endpoints_botocore.py) */
			struct aws_endpoint ep;
			const struct aws_service *s = NULL;
			const struct value *reg = value_map_get(v, "region");
			const struct value *f = value_map_get(v, "fips");
			const struct value *d = value_map_get(v, "dualstack");
			const char *prefix = value_str(value_map_get(v, "resolve"));
			struct aws_env env = { flag_get, NULL, NULL, NULL, NULL };
			size_t i;
			flags[0] = f && f->kind == VALUE_BOOL && f->u.b;
			flags[1] = d && d->kind == VALUE_BOOL && d->u.b;
			for (i = 0; i < AWS_NSERVICES; i++)
				if (!strcmp(aws_services[i].host_prefix, prefix))
					s = &aws_services[i];
			if (!s)
				printf("ERROR no service with prefix %s\n", prefix);
			else if (aws_resolve_endpoint(s, reg ? value_str(reg) : NULL, NULL, &env,
						      &ep, &err) < 0)
				printf("ERROR %s\n", err.msg);
			else
				printf("%s %s\n", ep.host, ep.signing_region);
			arena_free(a);
			continue;
		}
		if (!v || !(svc = aws_service_find(value_str(value_map_get(v, "service")) ?
							   value_str(value_map_get(v, "service")) : ""))) {
			printf("ERROR bad line\n");
			rc = 1;
			arena_free(a);
			continue;
		}
		op = value_str(value_map_get(v, "op"));
		if (svc->proto == PROTO_EC2)
			r = aws_ser_ec2(op, svc->api_version, value_map_get(v, "params"), &sb,
					NULL, &err);
		else if (svc->proto == PROTO_QUERY)
			r = aws_ser_query(op, svc->api_version, value_map_get(v, "params"),
					  &sb, NULL, &err);
		else
			r = aws_ser_json(value_map_get(v, "params"), &sb, NULL, &err);
		if (r < 0) {
			printf("ERROR %s\n", err.msg);
			rc = 1;
		} else {
			printf("%s\n", sb.buf);
		}
		strbuf_release(&sb);
		arena_free(a);
	}
	free(line);
	return rc;
}
