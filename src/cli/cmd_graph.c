#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "commands.h"
#include "cliopts.h"
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

static int own_opt(void *ud, int opt, const char *arg, struct err *err)
{
	if (opt != 'f')
		return 0;
	if (strcmp(arg, "dot") && strcmp(arg, "json") && strcmp(arg, "mermaid"))
		return err_set(err, ERR_USAGE,
			       "--format is dot, json or mermaid, not '%s'", arg);
	*(const char **)ud = arg;
	return 1;
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
	int rc = EXIT_OK, first;
	const struct cli_opts co = { "graph", &to, NULL, NULL, own_opt, &format };

	tmplopts_init(&to);
	if (cli_parse_opts(&co, opts, argc, argv, &first) < 0) {
		tmplopts_release(&to);
		return EXIT_USAGE;
	}
	if (argc - first != 1) {
		tmplopts_release(&to);
		return cli_usage_error("graph", argc - first ? "one TEMPLATE at "
				       "a time" : "TEMPLATE is missing");
	}
	to.template_path = argv[first];
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
