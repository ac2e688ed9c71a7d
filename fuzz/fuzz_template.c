/*
 * libFuzzer target for the template engine: arbitrary bytes go through the
 * loader, the evaluator (with and without a resolver), the schema checks
 * and the graph, and the graph is rendered. Any crash, sanitizer report,
 * leak or hang is a bug: bad input must only ever produce diags.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cairn/graph.h"
#include "cairn/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct value *resolve(void *ud, const char *id, const char *attr)
{
	struct arena *a = ud;

	/* answer for some resources so the known-value paths run too */
	if (id[0] && (id[0] & 1))
		return value_new_string(a, attr ? attr : id);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct err err = ERR_INIT;
	struct template *t;
	struct tmpl_ctx ctx;

	tmpl_ctx_init(&ctx, a, "us-east-1", "123456789012", "fuzz");
	ctx.missing_params_unknown = size & 1;
	t = template_load_buffer(a, "fuzz.yaml", (const char *)data, size, &dl,
				 &err);
	if (t) {
		struct tmpl_stack *st = template_evaluate(a, t, &ctx, &dl);
		struct graph *g;
		struct strbuf sb = STRBUF_INIT;
		size_t i;

		template_check_schemas(st, &dl);
		g = graph_build(a, st, &dl);
		graph_to_dot(g, &sb);
		graph_to_json(g, &sb);
		ctx.resolve = resolve;
		ctx.resolve_ud = a;
		for (i = 0; i < st->nresources && i < 8; i++)
			template_eval_resource(a, st, &ctx,
					       st->resources[i].res->logical_id,
					       NULL, &err);
		strbuf_release(&sb);
	}
	diag_sort(&dl);
	{
		struct strbuf sb = STRBUF_INIT;
		size_t i;
		for (i = 0; i < dl.n; i++)
			diag_format(&dl.items[i], &sb);
		strbuf_release(&sb);
	}
	diag_list_release(&dl);
	arena_free(a);
	return 0;
}
