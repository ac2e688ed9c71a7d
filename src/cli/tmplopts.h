/*
 * tmplopts: the options every command that reads a template shares
 * (validate, graph, plan, apply, destroy), and the load -> evaluate ->
 * schema check -> graph sequence they all run.
 *
 * Usage in a command:
 *   static const struct option opts[] = { TMPLOPTS_LONGOPTS, {"json", ...}, {0} };
 *   struct tmplopts to; tmplopts_init(&to);
 *   while ((c = getopt_long(...)) != -1) {
 *       int r = tmplopts_handle(&to, c, optarg, &err);
 *       if (r < 0) return cli_usage_error(name, "%s", err.msg);
 *       if (r > 0) continue;
 *       ... the command's own options ...
 *   }
 *   to.template_path = argv[optind];
 *   tmplopts_run(&to, arena, lenient, &run, &diags, &err);
 *   tmplopts_release(&to);
 *
 * Parameter precedence: --param > --params-file > CAIRN_PARAM_<Name> >
 * Default. --region defaults to AWS_REGION, AWS_DEFAULT_REGION, then
 * us-east-1; --account to 123456789012; --stack to the template's file name
 * without its extension.
 */
#ifndef CAIRN_CLI_TMPLOPTS_H
#define CAIRN_CLI_TMPLOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cairn/arena.h"
#include "cairn/diag.h"
#include "cairn/err.h"
#include "cairn/graph.h"
#include "cairn/template.h"

enum {
	TMPLOPT_PARAM = 0x1000,
	TMPLOPT_PARAMS_FILE,
	TMPLOPT_REGION,
	TMPLOPT_ACCOUNT,
	TMPLOPT_STACK,
};

#define TMPLOPTS_LONGOPTS                                                    \
	{ "param", required_argument, NULL, TMPLOPT_PARAM },                 \
	{ "params-file", required_argument, NULL, TMPLOPT_PARAMS_FILE },     \
	{ "region", required_argument, NULL, TMPLOPT_REGION },               \
	{ "account", required_argument, NULL, TMPLOPT_ACCOUNT },             \
	{ "stack", required_argument, NULL, TMPLOPT_STACK }

struct aws_client;
struct aws_options;

/* Where Fn::GetAZs gets the zones. A command that talks to AWS sets
 * aws_client (its own, borrowed) or aws_opts (a client is made on the first
 * Fn::GetAZs, with the template's region): the account's zones, asked once
 * per run. Without either, or without credentials, the value is unknown
 * (validate, graph), unless `guess` is set (plan made offline): then
 * <region>a, b, c, which apply never uses (it asks AWS, and refuses a saved
 * plan whose actions differ). */
struct tmplopts_azs {
	struct aws_client *aws_client;
	const struct aws_options *aws_opts;
	int guess;
	struct aws_client *own; /* made from aws_opts */
	const char *region;
	const char *const *guessed;
	size_t nguessed;
	int tried;
	/* plan and apply (not destroy, drift, refresh, which never read
	 * them): check that dynamic references name what exists */
	int check_dynrefs;
	/* dynamic references already checked (tmplopts_dynref_check) */
	char **dynref_seen;
	size_t ndynref_seen;
};

struct tmplopts {
	const char *template_path; /* set by the command (positional) */
	const char *params_file;
	const char *region, *account, *stack; /* NULL: defaults */
	char **param_names, **param_values;   /* from --param, malloc'd */
	size_t nparams, params_cap;
	struct tmplopts_azs *azs;  /* allocated by tmplopts_init */
};

/* tmpl_ctx.aws_params for a command that talks to AWS (awsparams.c);
 * ud is the struct tmplopts_azs, whose client it shares. */
int tmplopts_aws_params(void *ud, struct arena *a, struct tmpl_aws_param *ps,
			size_t n, struct err *err);

/* tmpl_ctx.dynref_check for a command that talks to AWS (awsparams.c);
 * ud is the struct tmplopts_azs. */
int tmplopts_dynref_check(void *ud, struct arena *a, const char *ref,
			  struct err *err);
/* exec_opts.dynref for apply (awsparams.c): ud is the struct aws_client. */
int cli_apply_dynref(void *ud, struct arena *a, const char *ref,
		     const char **out, struct err *err);

void tmplopts_init(struct tmplopts *o);
void tmplopts_release(struct tmplopts *o);

/* 1 when opt is one of TMPLOPTS_LONGOPTS (handled), 0 when it is not,
 * -1 when its value is invalid (err says why; a usage error). */
int tmplopts_handle(struct tmplopts *o, int opt, const char *arg,
		    struct err *err);

/*
 * Fills ctx from the options (region, account, stack, the parameter
 * maps read from --param, --params-file and the environment). Problems in
 * the params file go to diags; -1 with err when it cannot be read or parsed.
 */
int tmplopts_ctx(const struct tmplopts *o, struct arena *a,
		 struct tmpl_ctx *ctx, struct diag_list *diags,
		 struct err *err);

struct tmpl_run {
	struct template *tmpl;
	struct tmpl_ctx ctx;
	struct tmpl_stack *stack;
	struct graph *graph;
};

/*
 * Loads o->template_path, evaluates it with the options' parameters
 * (lenient: a parameter with no value is a warning and unknown, as
 * `validate` wants; otherwise an error), checks every resource against its
 * schema and builds the graph. Returns 0 when all stages ran (look at
 * diags->errors), -1 with err when the template could not be loaded at all
 * (the parse problems are in diags too). Everything is in a.
 */
/* For commands that read AWS without evaluating the template (drift,
 * refresh): the values given for its NoEcho parameters are hidden from the
 * trace log and from AWS error messages for the rest of the run. A
 * template that does not load hides nothing (the command reports it). */
void tmplopts_hide_secrets(const struct tmplopts *o, struct arena *a);

int tmplopts_run(const struct tmplopts *o, struct arena *a, bool lenient,
		 struct tmpl_run *run, struct diag_list *diags,
		 struct err *err);

/* Sorts diags by file, line, column, stable and in O(n log n) (diag_sort
 * is an insertion sort, quadratic on a hostile template's many errors). */
void tmplopts_sort_diags(struct diag_list *diags);
/* Sorts and prints diags, one line each, to f. */
void tmplopts_print_diags(struct diag_list *diags, FILE *f);

#endif
