#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "commands.h"
#include "cliopts.h"
#include "tmplopts.h"

static void json_diags(const struct diag_list *dl, struct strbuf *out)
{
	size_t i;

	strbuf_addstr(out, "[");
	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->items[i];
		struct strbuf line = STRBUF_INIT;
		diag_format(d, &line);
		strbuf_addstr(out, i ? ",\n    {" : "\n    {");
		strbuf_addf(out, "\"severity\": \"%s\", \"file\": ",
			    d->severity == DIAG_ERROR ? "error" : "warning");
		if (d->mark.file)
			strbuf_add_json_str(out, d->mark.file, strlen(d->mark.file));
		else
			strbuf_addstr(out, "null");
		strbuf_addf(out, ", \"line\": %u, \"column\": %u, \"logical_id\": ",
			    d->mark.line, d->mark.col);
		if (d->logical_id)
			strbuf_add_json_str(out, d->logical_id, strlen(d->logical_id));
		else
			strbuf_addstr(out, "null");
		strbuf_addstr(out, ", \"path\": ");
		if (d->path)
			strbuf_add_json_str(out, d->path, strlen(d->path));
		else
			strbuf_addstr(out, "null");
		strbuf_addstr(out, ", \"message\": ");
		strbuf_add_json_str(out, d->msg, strlen(d->msg));
		strbuf_addstr(out, ", \"text\": ");
		strbuf_add_json_str(out, line.buf, line.len);
		strbuf_addch(out, '}');
		strbuf_release(&line);
	}
	strbuf_addstr(out, dl->n ? "\n  ]" : "]");
}

static int own_opt(void *ud, int opt, const char *arg, struct err *err)
{
	(void)arg;
	(void)err;
	if (opt != 'j')
		return 0;
	*(int *)ud = 1;
	return 1;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct tmplopts to;
	struct err err = ERR_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct arena *a;
	struct tmpl_run run;
	int json = 0, rc, loaded, first;
	const struct cli_opts co = { "validate", &to, NULL, NULL, own_opt, &json };

	tmplopts_init(&to);
	if (cli_parse_opts(&co, opts, argc, argv, &first) < 0) {
		tmplopts_release(&to);
		return EXIT_USAGE;
	}
	if (argc - first != 1) {
		tmplopts_release(&to);
		return cli_usage_error("validate", argc - first ? "one TEMPLATE "
				       "at a time" : "TEMPLATE is missing");
	}
	to.template_path = argv[first];
	a = arena_new();
	loaded = tmplopts_run(&to, a, true, &run, &dl, &err) == 0;
	tmplopts_sort_diags(&dl);
	rc = (!loaded || dl.errors) ? EXIT_ERROR : EXIT_OK;
	if (json) {
		struct strbuf out = STRBUF_INIT;
		strbuf_addstr(&out, "{\n  \"template\": ");
		strbuf_add_json_str(&out, to.template_path, strlen(to.template_path));
		strbuf_addf(&out, ",\n  \"valid\": %s", rc ? "false" : "true");
		if (loaded)
			strbuf_addf(&out, ",\n  \"resources\": %zu,\n  \"parameters\": "
				    "%zu,\n  \"outputs\": %zu",
				    run.tmpl->nresources, run.tmpl->nparams,
				    run.tmpl->noutputs);
		strbuf_addf(&out, ",\n  \"errors\": %zu,\n  \"warnings\": %zu",
			    dl.errors + (!loaded && !dl.errors),
			    dl.n - dl.errors);
		if (!loaded && !dl.errors) {
			strbuf_addstr(&out, ",\n  \"error\": ");
			strbuf_add_json_str(&out, err.msg, strlen(err.msg));
		}
		strbuf_addstr(&out, ",\n  \"problems\": ");
		json_diags(&dl, &out);
		strbuf_addstr(&out, "\n}\n");
		fputs(out.buf, stdout);
		strbuf_release(&out);
	} else {
		tmplopts_print_diags(&dl, stderr);
		if (!loaded && !dl.errors)
			cli_error("%s", err.msg);
		else if (rc == EXIT_OK)
			printf("%s: valid (%zu resources, %zu parameters, %zu "
			       "outputs)\n",
			       to.template_path, run.tmpl->nresources,
			       run.tmpl->nparams, run.tmpl->noutputs);
		else
			fprintf(stderr, "%s: %zu error%s\n", to.template_path,
				dl.errors, dl.errors == 1 ? "" : "s");
	}
	diag_list_release(&dl);
	arena_free(a);
	tmplopts_release(&to);
	return rc;
}
