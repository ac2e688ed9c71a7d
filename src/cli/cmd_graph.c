#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "commands.h"
#include "tmplopts.h"

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
		if (c == 'f' && (!strcmp(optarg, "dot") || !strcmp(optarg, "json"))) {
			format = optarg;
			continue;
		}
		tmplopts_release(&to);
		if (c == 'f')
			return cli_usage_error("graph", "--format is dot or json, "
					       "not '%s'", optarg);
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
