/*
 * cairn import LOGICAL_ID PHYSICAL_ID --template T: adopt a resource that
 * exists in AWS (made by hand, by another tool, or left by a Retain) into
 * the stack's state under the template's LOGICAL_ID, without changing it.
 *
 * The template says the resource's type, its dependencies and its
 * DeletionPolicy; the provider reads the resource, and the properties the
 * template sets are recorded as AWS reports them, so the next plan shows
 * exactly how the resource differs from the template. Refuses a logical id
 * the state already records, one the template does not include, and an id
 * that is not of the template's type (the read finds nothing, or an EC2
 * id's prefix names another type). Takes the state lock.
 *
 * Exit: 0 imported, 1 error, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/refresh.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cliopts.h"
#include "commands.h"
#include "refresh_cli.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_TEMPLATE = 0x2500,
};

/* EC2 ids carry their type in a prefix: an id of another type is a
 * mistake cairn can name before calling AWS. */
static const char *ec2_prefix(const char *type)
{
	static const struct {
		const char *type, *prefix;
	} t[] = {
		{ "AWS::EC2::VPC", "vpc-" },
		{ "AWS::EC2::Subnet", "subnet-" },
		{ "AWS::EC2::InternetGateway", "igw-" },
		{ "AWS::EC2::NatGateway", "nat-" },
		{ "AWS::EC2::RouteTable", "rtb-" },
		{ "AWS::EC2::SecurityGroup", "sg-" },
		{ "AWS::EC2::VPCEndpoint", "vpce-" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].type, type))
			return t[i].prefix;
	return NULL;
}

struct import_cmd {
	struct tmplopts to;
	struct stateopts so;
	struct aws_options aws;
	const char *logical_id, *physical_id;
};

static const struct graph_node *find_node(const struct graph *g,
					  const char *logical_id, size_t *at)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->nodes[i].logical_id, logical_id)) {
			*at = i;
			return &g->nodes[i];
		}
	return NULL;
}

static int run_import(struct import_cmd *ic)
{
	struct err err = ERR_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct arena *a = arena_new();
	struct tmpl_run run;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct state_stack ss;
	struct state_resource rec, old;
	struct refresh_opts ro;
	struct aws_options ao = ic->aws;
	const struct graph_node *node;
	const struct tmpl_resource *tr;
	const char *type, *prefix, *phys;
	struct value *props, *attrs;
	struct strbuf what = STRBUF_INIT;
	struct state_lock_opts lo;
	char *state_path = NULL;
	size_t at, i;
	int got, rc = EXIT_ERROR;
	struct state_handle sh;

	memset(&sh, 0, sizeof(sh));
	/* lenient: a NoEcho parameter the import does not need may be left
	 * out */
	if (tmplopts_run(&ic->to, a, true, &run, &dl, &err) < 0 || dl.errors) {
		tmplopts_print_diags(&dl, stderr);
		if (!dl.errors)
			cli_error("%s", err.msg);
		goto done;
	}
	node = find_node(run.graph, ic->logical_id, &at);
	if (!node) {
		tr = template_find_resource(run.tmpl, ic->logical_id);
		if (tr && tr->condition)
			cli_error("resource \"%s\" is not included: its condition "
				  "\"%s\" is false", ic->logical_id, tr->condition);
		else
			cli_error("template '%s' has no resource \"%s\"",
				  ic->to.template_path, ic->logical_id);
		goto done;
	}
	type = node->res->res->type;
	prefix = ec2_prefix(type);
	if (prefix && strncmp(ic->physical_id, prefix, strlen(prefix))) {
		cli_error("\"%s\" is not an id of type %s (those start with "
			  "\"%s\"), the type of \"%s\" in the template",
			  ic->physical_id, type, prefix, ic->logical_id);
		goto done;
	}

	state_path = stateopts_path(&ic->so, run.ctx.stack_name,
				    ic->to.template_path, &err);
	if (!state_path) {
		cli_error("%s", err.msg);
		goto done;
	}
	strbuf_addf(&what, "cairn import %s", ic->logical_id);
	ic->so.aws = &ic->aws;
	st = stateopts_open(&ic->so, state_path, STATE_OPEN_CREATE,
			    STATEOPTS_LOCK | STATEOPTS_WRITABLE, what.buf, &sh,
			    &err);
	if (!st) {
		cli_error("%s", err.msg);
		goto done;
	}
	lo.wait = ic->so.lock_timeout;
	lo.lease = 0;
	lo.command = what.buf;
	if (state_lock_acquire(st, &lo, &err) < 0 ||
	    state_stack_get(st, a, &ss, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (*ss.name && strcmp(ss.name, run.ctx.stack_name)) {
		cli_error("state '%s' belongs to stack \"%s\", not \"%s\"",
			  state_path, ss.name, run.ctx.stack_name);
		goto done;
	}
	got = state_resource_get(st, ic->logical_id, a, &old, &err);
	if (got < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (got) {
		cli_error("\"%s\" is already in the state (%s %s); 'cairn state "
			  "rm %s' forgets it first", ic->logical_id, old.type,
			  old.physical_id ? old.physical_id : "(no id)",
			  ic->logical_id);
		goto done;
	}

	if (!ao.region)
		ao.region = ic->to.region ? ic->to.region
					  : (*ss.region ? ss.region : NULL);
	aws = aws_client_new(&ao, &err);
	if (!aws) {
		cli_error("%s", err.msg);
		goto done;
	}
	memset(&ro, 0, sizeof(ro));
	ro.stack = run.ctx.stack_name;
	ro.region = aws_client_region(aws) ? aws_client_region(aws)
					   : run.ctx.region;
	ro.account = *ss.account ? ss.account : run.ctx.account;
	ro.partition = run.ctx.partition;
	if (refresh_read_one(a, aws, &ro, type, ic->logical_id,
			     ic->physical_id, &phys, &props, &attrs,
			     &err) < 0) {
		if (err.code == ERR_NOT_FOUND)
			cli_error("no %s \"%s\" exists in %s (is it the id "
				  "of another type? \"%s\" is an %s in the "
				  "template)", type, ic->physical_id, ro.region,
				  ic->logical_id, type);
		else
			cli_error("reading %s \"%s\": %s", type,
				  ic->physical_id, err.msg);
		goto done;
	}

	memset(&rec, 0, sizeof(rec));
	rec.logical_id = ic->logical_id;
	rec.type = type;
	rec.physical_id = phys;
	/* only what the template sets: the rest are AWS's defaults */
	rec.properties = node->res->properties
				 ? refresh_project(a, props, node->res->properties)
				 : value_new_map(a);
	rec.attributes = attrs;
	tr = node->res->res;
	if (tr->deletion_policy)
		value_map_set(a, attrs, "cairn:DeletionPolicy",
			      value_new_string(a, tr->deletion_policy));
	rec.deletion_policy = tr->deletion_policy;
	rec.update_replace_policy = tr->update_replace_policy;
	rec.status = STATE_CREATED;
	rec.n_dependencies = node->ndeps;
	if (node->ndeps) {
		const char **deps = arena_alloc(a, node->ndeps * sizeof(*deps));
		for (i = 0; i < node->ndeps; i++)
			deps[i] = run.graph->nodes[run.graph->edges[node->deps[i]].to]
					  .logical_id;
		rec.dependencies = deps;
	}
	if (!*ss.name) {
		/* a new state: record whose it is, as apply would */
		memset(&ss, 0, sizeof(ss));
		ss.name = run.ctx.stack_name;
		ss.region = ro.region;
		ss.account = ro.account;
		if (state_stack_put(st, &ss, &err) < 0) {
			cli_error("%s", err.msg);
			goto done;
		}
	}
	if (state_resource_put(st, &rec, &err) < 0 ||
	    state_journal_event(st, ic->logical_id, "import",
				arena_sprintf(a, "adopted %s %s", type, phys),
				&err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	{
		/* the plan of this stack's state, pasteable as printed */
		struct strbuf next = STRBUF_INIT;
		strbuf_addstr(&next, "cairn plan ");
		strbuf_add_shell_word(&next, ic->to.template_path);
		strbuf_addstr(&next, " --stack ");
		strbuf_add_shell_word(&next, run.ctx.stack_name);
		if (ic->so.state_path) {
			strbuf_addstr(&next, " --state ");
			strbuf_add_shell_word(&next, ic->so.state_path);
		}
		printf("Imported %s (%s) = %s into %s.\n"
		       "To see how it differs from the template: %s\n",
		       ic->logical_id, type, phys, state_path, next.buf);
		strbuf_release(&next);
	}
	rc = EXIT_OK;
done:
	if (st) {
		struct err e2 = ERR_INIT;
		if (state_lock_id(st) && state_lock_release(st, &e2) < 0)
			cli_error("%s", e2.msg);
	}
	if (stateopts_close(&sh, st, &err) < 0) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	}
	aws_client_free(aws);
	strbuf_release(&what);
	free(state_path);
	diag_list_release(&dl);
	arena_free(a);
	return rc;
}

static int own_opt(void *ud, int opt, const char *arg, struct err *err)
{
	(void)err;
	if (opt != OPT_TEMPLATE)
		return 0;
	((struct import_cmd *)ud)->to.template_path = arg;
	return 1;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		REFRESH_CLI_AWS_LONGOPTS,
		{ "template", required_argument, NULL, OPT_TEMPLATE },
		{ NULL, 0, NULL, 0 },
	};
	struct import_cmd ic;
	struct cli_opts co = { "import", &ic.to, &ic.so, &ic.aws, own_opt, &ic };
	int rc, first;

	memset(&ic, 0, sizeof(ic));
	tmplopts_init(&ic.to);
	stateopts_init(&ic.so);
	if (cli_parse_opts(&co, opts, argc, argv, &first) < 0) {
		tmplopts_release(&ic.to);
		return EXIT_USAGE;
	}
	if (argc - first != 2 || !ic.to.template_path) {
		tmplopts_release(&ic.to);
		return cli_usage_error("import", argc - first != 2
				       ? "LOGICAL_ID and PHYSICAL_ID are needed"
				       : "--template TEMPLATE is missing");
	}
	ic.logical_id = argv[first];
	ic.physical_id = argv[first + 1];
	rc = run_import(&ic);
	tmplopts_release(&ic.to);
	return rc;
}
