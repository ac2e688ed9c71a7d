#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "commands.h"
#include "tmplopts.h"

/* Mermaid flowchart: one node per resource (logical id and type), an
 * arrow from each dependency to its dependent (the order of creation);
 * implicit edges dotted and labelled with their reason. Node ids are n<i>
 * so no logical id can break the syntax; labels are escaped. */
static void mermaid_text(struct strbuf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"')
			strbuf_addstr(out, "#quot;");
		else if (*s == '<')
			strbuf_addstr(out, "#lt;");
		else if (*s == '>')
			strbuf_addstr(out, "#gt;");
		else if (*s == '|')
			strbuf_addstr(out, "#124;");
		else if (*s == '\n')
			strbuf_addch(out, ' ');
		else
			strbuf_addch(out, *s);
	}
}

static void to_mermaid(const struct graph *g, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "flowchart LR\n");
	for (i = 0; i < g->n; i++) {
		const char *t = g->nodes[i].res->res->type;
		strbuf_addf(out, "  n%zu[\"", i);
		mermaid_text(out, g->nodes[i].logical_id);
		strbuf_addstr(out, "<br/><small>");
		mermaid_text(out, t ? t : "?");
		strbuf_addstr(out, "</small>\"]\n");
	}
	for (i = 0; i < g->nedges; i++) {
		const struct graph_edge *e = &g->edges[i];
		if (e->implicit) {
			strbuf_addf(out, "  n%zu -. \"", e->to);
			mermaid_text(out, e->reason ? e->reason : "implicit");
			strbuf_addf(out, "\" .-> n%zu\n", e->from);
		} else {
			strbuf_addf(out, "  n%zu --> n%zu\n", e->to, e->from);
		}
	}
}

int cmd_graph(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct tmplopts to;
	struct err err = ERR_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct arena *a;
	struct tmpl_run run;
	const char *format = "dot";
	int c, rc = EXIT_OK;

	tmplopts_init(&to);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = tmplopts_handle(&to, c, optarg, &err);
		if (r < 0) {
			tmplopts_release(&to);
			return cli_usage_error("graph", "%s", err.msg);
		}
		if (r > 0)
			continue;
		if (c == 'f' && (!strcmp(optarg, "dot") || !strcmp(optarg, "json") ||
				 !strcmp(optarg, "mermaid"))) {
			format = optarg;
			continue;
		}
		tmplopts_release(&to);
		if (c == 'f')
			return cli_usage_error("graph", "--format is dot, json or "
					       "mermaid, not '%s'", optarg);
		if (c == ':')
			return cli_usage_error("graph", "'%s' needs a value",
					       argv[optind - 1]);
		return cli_usage_error("graph", "unknown option '%s'",
				       argv[optind - 1]);
	}
	if (argc - optind != 1) {
		tmplopts_release(&to);
		return cli_usage_error("graph", argc - optind ? "one TEMPLATE at "
				       "a time" : "TEMPLATE is missing");
	}
	to.template_path = argv[optind];
	a = arena_new();
	/* graph validates first: a graph of a broken template would mislead */
	if (tmplopts_run(&to, a, true, &run, &dl, &err) < 0) {
		tmplopts_print_diags(&dl, stderr);
		if (!dl.errors)
			cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	} else if (dl.errors) {
		tmplopts_print_diags(&dl, stderr);
		fprintf(stderr, "%s: %zu error%s\n", to.template_path, dl.errors,
			dl.errors == 1 ? "" : "s");
		rc = EXIT_ERROR;
	} else {
		struct strbuf out = STRBUF_INIT;
		if (!strcmp(format, "json"))
			graph_to_json(run.graph, &out);
		else if (!strcmp(format, "mermaid"))
			to_mermaid(run.graph, &out);
		else
			graph_to_dot(run.graph, &out);
		fputs(out.buf, stdout);
		strbuf_release(&out);
	}
	diag_list_release(&dl);
	arena_free(a);
	tmplopts_release(&to);
	return rc;
}
