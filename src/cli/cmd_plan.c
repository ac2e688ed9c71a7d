/*
 * cairn plan TEMPLATE: what apply would change.
 *
 * Template load + evaluate + schema check + graph (tmplopts), the state
 * (a missing file is an empty state, never created here), the lock unless
 * --lock=false, the live read unless --refresh=false (into a private
 * snapshot of the state: a plan never writes the state), plan_build(),
 * then the human or JSON rendering and, with --out, a saved plan for
 * `cairn apply FILE`.
 *
 * Exit: 0 ok, 1 error, 2 usage. With --detailed-exitcode: 0 no changes,
 * 2 changes present, 1 any error, usage errors included (so that a CI job
 * never reads a typo as "changes present").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/plan.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "awsopts.h"
#include "commands.h"
#include "plancommon.h"
#include "refresh_cli.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_JSON = 0x2000,
	OPT_OUT,
	OPT_DETAILED,
	OPT_REFRESH,
	OPT_LOCK,
	OPT_FORMAT,
};

static int parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "true") || !strcmp(s, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

struct plan_opts {
	struct stateopts so;
	struct aws_options aws;
	const char *out_path;
	bool json, markdown, detailed, refresh, lock;
};

static int run_plan(struct tmplopts *to, const struct plan_opts *po)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	struct plancommon pc;
	struct state *snap = NULL;
	char *snap_path = NULL;
	struct plan *p;
	struct strbuf out = STRBUF_INIT;
	int rc = EXIT_ERROR;

	/* Fn::GetAZs from AWS when the plan reads AWS; offline, a guess
	 * (apply asks AWS and refuses a saved plan that differs) */
	to->azs->guess = 1;
	to->azs->check_dynrefs = 1;
	if (po->refresh)
		to->azs->aws_opts = &po->aws;
	/* a missing state is an empty one, never created by a plan */
	if (plancommon_prepare(&pc, to, &po->so, a, 0, po->lock,
			       "cairn plan") < 0)
		goto done;

	/* the live read; nothing to read without a state */
	if (pc.st && po->refresh) {
		if (cli_plan_refresh(pc.st, &po->aws, to->region, &snap, &snap_path,
				     &err) < 0) {
			cli_error("%s", err.msg);
			goto done;
		}
		pc.b.refresh = snap != NULL;
	}
	p = plan_build(a, pc.run.stack, &pc.run.ctx, pc.run.graph,
		       snap ? snap : pc.st, &err);
	if (!p) {
		cli_error("%s", err.msg);
		goto done;
	}
	plan_bind(p, &pc.b);
	if (po->out_path && plan_save(p, po->out_path, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (po->json)
		plan_render_json(p, &out);
	else if (po->markdown)
		plan_render_markdown(p, &out);
	else
		plan_render_human(p, &out, cli_use_color(stdout));
	if (po->out_path && !po->json && !po->markdown)
		strbuf_addf(&out, "\nSaved the plan to %s; apply exactly it with "
				  "'cairn apply %s'.\n",
			    po->out_path, po->out_path);
	fputs(out.buf, stdout);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the plan to stdout");
		goto done;
	}
	rc = po->detailed && plan_has_changes(p) ? 2 : EXIT_OK;
done:
	if (snap) {
		state_close(snap);
		refresh_snapshot_remove(snap_path);
	}
	plancommon_release(&pc);
	strbuf_release(&out);
	arena_free(a);
	return rc;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		REFRESH_CLI_AWS_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
		{ "refresh", optional_argument, NULL, OPT_REFRESH },
		{ "lock", optional_argument, NULL, OPT_LOCK },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	struct tmplopts to;
	struct err err = ERR_INIT;
	struct plan_opts po;
	int c, rc, i, usage_rc = EXIT_USAGE;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--detailed-exitcode"))
			usage_rc = EXIT_ERROR;
#define USAGE(...) (cli_usage_error("plan", __VA_ARGS__), usage_rc)
	memset(&po, 0, sizeof(po));
	po.refresh = true;
	po.lock = true;
	tmplopts_init(&to);
	stateopts_init(&po.so);
	po.so.read_only = true;
	po.so.aws = &po.aws;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = tmplopts_handle(&to, c, optarg, &err);
		if (r < 0) {
			tmplopts_release(&to);
			return USAGE("%s", err.msg);
		}
		if (r > 0)
			continue;
		r = stateopts_handle(&po.so, c, optarg, &err);
		if (r < 0) {
			tmplopts_release(&to);
			return USAGE("%s", err.msg);
		}
		if (r > 0)
			continue;
		if (c >= AWSOPT_BASE && c < AWSOPT_END) {
			if (awsopts_parse(&po.aws, c, optarg, "plan") < 0) {
				tmplopts_release(&to);
				return usage_rc;
			}
			continue;
		}
		switch (c) {
		case OPT_JSON:
			po.json = true;
			continue;
		case OPT_FORMAT:
			po.json = !strcmp(optarg, "json");
			po.markdown = !strcmp(optarg, "markdown");
			if (!po.json && !po.markdown && strcmp(optarg, "human")) {
				tmplopts_release(&to);
				return USAGE("--format is human, json or "
					     "markdown, not '%s'",
					     optarg);
			}
			continue;
		case OPT_OUT:
			po.out_path = optarg;
			continue;
		case OPT_DETAILED:
			po.detailed = true;
			continue;
		case OPT_REFRESH:
			if (parse_bool(optarg, &po.refresh) < 0)
				break;
			continue;
		case OPT_LOCK:
			if (parse_bool(optarg, &po.lock) < 0)
				break;
			continue;
		case ':':
			tmplopts_release(&to);
			return USAGE("'%s' needs a value",
					       argv[optind - 1]);
		default:
			tmplopts_release(&to);
			return USAGE("unknown option '%s'",
					       argv[optind - 1]);
		}
		/* a value that did not parse */
		tmplopts_release(&to);
		return USAGE("%s takes true or false, not "
				       "'%s'",
				       c == OPT_LOCK ? "--lock" : "--refresh",
				       optarg);
	}
	if (argc - optind != 1) {
		tmplopts_release(&to);
		return USAGE(argc - optind
						       ? "one TEMPLATE at a time"
						       : "TEMPLATE is missing");
	}
	to.template_path = argv[optind];
	rc = run_plan(&to, &po);
	tmplopts_release(&to);
	return rc;
#undef USAGE
}
