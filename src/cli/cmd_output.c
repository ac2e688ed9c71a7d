/*
 * cairn output [NAME] [--json]: the stack's outputs as recorded by the last
 * apply. Sensitive outputs are stored only as fingerprints, so they show as
 * (sensitive) and their JSON value is null.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/arena.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "commands.h"
#include "awsopts.h"
#include "stateopts.h"

static void print_human(const struct value *v, int raw)
{
	struct strbuf sb = STRBUF_INIT;

	if (v->sensitive) {
		puts("(sensitive)");
		return;
	}
	if (v->kind == VALUE_STRING && raw) {
		puts(v->u.str.s);
		return;
	}
	value_to_json(v, &sb, VALUE_JSON_REDACT | VALUE_JSON_UNKNOWN_MARKER);
	puts(sb.buf);
	strbuf_release(&sb);
}

static void print_json(const struct state_output *o, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addch(&sb, '{');
	for (i = 0; i < n; i++) {
		int secret = o[i].value->sensitive;

		strbuf_addstr(&sb, i ? ",\n  " : "\n  ");
		strbuf_add_json_str(&sb, o[i].name, strlen(o[i].name));
		strbuf_addstr(&sb, ": {\"value\": ");
		if (secret)
			strbuf_addstr(&sb, "null");
		else
			value_to_json(o[i].value, &sb,
				      VALUE_JSON_REDACT |
					      VALUE_JSON_UNKNOWN_MARKER);
		strbuf_addf(&sb, ", \"sensitive\": %s",
			    value_has_sensitive(o[i].value) ? "true" : "false");
		strbuf_addstr(&sb, ", \"description\": ");
		if (o[i].description)
			strbuf_add_json_str(&sb, o[i].description,
					    strlen(o[i].description));
		else
			strbuf_addstr(&sb, "null");
		strbuf_addstr(&sb, ", \"export_name\": ");
		if (o[i].export_name)
			strbuf_add_json_str(&sb, o[i].export_name,
					    strlen(o[i].export_name));
		else
			strbuf_addstr(&sb, "null");
		strbuf_addch(&sb, '}');
	}
	strbuf_addstr(&sb, n ? "\n}\n" : "}\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

int cmd_output(int argc, char **argv)
{
	static const struct option opts[] = {
		STATEOPTS_LONGOPTS,
		AWSOPTS_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct aws_options ao;
	struct state_handle sh;
	struct stateopts so;
	struct err err = ERR_INIT;
	struct state *st;
	struct state_output *outs;
	struct arena *a;
	const char *name = NULL;
	char *path;
	size_t n, i;
	int c, json = 0, rc = EXIT_OK;

	stateopts_init(&so);
	memset(&ao, 0, sizeof(ao));
	so.aws = &ao;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = stateopts_handle(&so, c, optarg, &err);
		if (r < 0)
			return cli_usage_error("output", "%s", err.msg);
		if (r > 0)
			continue;
		if (c >= AWSOPT_BASE && c < AWSOPT_END) {
			if (awsopts_parse(&ao, c, optarg, "output") < 0)
				return EXIT_USAGE;
			continue;
		}
		if (c == 'j') {
			json = 1;
			continue;
		}
		if (c == ':')
			return cli_usage_error("output", "'%s' needs a value",
					       argv[optind - 1]);
		return cli_usage_error("output", "unknown option '%s'",
				       argv[optind - 1]);
	}
	if (argc - optind > 1)
		return cli_usage_error("output", "at most one output NAME");
	if (optind < argc)
		name = argv[optind];
	path = stateopts_path(&so, NULL, NULL, &err);
	if (!path)
		return cli_usage_error("output", "%s", err.msg);
	/* a remote state is read without its lock, never written */
	st = stateopts_open(&so, path, 0, 0, NULL, &sh, &err);
	if (!st) {
		cli_error("%s", err.msg);
		stateopts_close(&sh, NULL, &err);
		free(path);
		return EXIT_ERROR;
	}
	a = arena_new();
	if (state_outputs_list(st, a, &outs, &n, &err)) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	} else if (name) {
		for (i = 0; i < n && strcmp(outs[i].name, name); i++)
			;
		if (i == n) {
			cli_error("no output \"%s\" in state '%s'", name, path);
			rc = EXIT_ERROR;
		} else if (json) {
			print_json(&outs[i], 1);
		} else {
			print_human(outs[i].value, 1);
		}
	} else if (json) {
		print_json(outs, n);
	} else if (!n) {
		fprintf(stderr, "state '%s' records no outputs\n", path);
	} else {
		for (i = 0; i < n; i++) {
			printf("%s = ", outs[i].name);
			print_human(outs[i].value, 0);
		}
	}
	arena_free(a);
	stateopts_close(&sh, st, &err);
	free(path);
	return rc;
}
