/*
 * cairn apply TEMPLATE|PLANFILE and cairn destroy TEMPLATE.
 *
 * Both build a plan (apply: the template against the state; destroy: every
 * recorded resource deleted), show it, ask for "yes" on a terminal (or take
 * --auto-approve; without a terminal they refuse unless --auto-approve or,
 * for apply, a saved plan file is given), then run it with the executor
 * while printing progress, and finally print a summary that lists every
 * failure with its AWS error code, message and request id.
 *
 * Exit: 0 everything done (or nothing to do), 1 an error or a failed
 * resource, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "awsopts.h"
#include "cairn/exec.h"
#include "cairn/plan.h"
#include "cairn/refresh.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "commands.h"
#include "plancommon.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_AUTO_APPROVE = 0x2100,
	OPT_PARALLELISM,
	OPT_POLL_MIN,
	OPT_REFRESH,
};

struct apply_opts {
	struct stateopts so;
	struct aws_options aws;
	bool auto_approve;
	int parallelism;
	long poll_min_ms;
	const char *plan_file; /* apply PLANFILE */
	bool destroy;
	bool no_refresh; /* --refresh=false */
};

static volatile sig_atomic_t stop_flag;
/* set by the handler, read by the worker threads: a lock-free atomic is
 * both async-signal-safe and visible across threads */
static _Atomic int cancel_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the cancel flag must be lock-free");

static void on_sigint(int sig)
{
	static const char msg1[] =
		"\ncairn: interrupt: finishing what is in flight and saving state (Ctrl-C again to abandon waits)\n";
	static const char msg2[] =
		"\ncairn: second interrupt: abandoning waits; state is still saved\n";
	(void)sig;
	if (!stop_flag) {
		stop_flag = 1;
		if (write(STDERR_FILENO, msg1, sizeof(msg1) - 1) < 0)
			return;
	} else {
		cancel_flag = 1;
		if (write(STDERR_FILENO, msg2, sizeof(msg2) - 1) < 0)
			return;
	}
}

/* ---------------------------------------------------------- progress */

struct progress {
	bool tty, color;
	bool line_open; /* a live status line is on screen */
};

static void clear_live(struct progress *pg)
{
	if (pg->line_open) {
		fputs("\r\033[K", stderr);
		pg->line_open = false;
	}
}

static void stamp(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%H:%M:%S", &tm);
}

static void on_event(void *ud, const struct exec_event *ev)
{
	struct progress *pg = ud;
	char ts[16];
	const char *g = pg->color ? "\033[32m" : "";
	const char *r = pg->color ? "\033[31m" : "";
	const char *y = pg->color ? "\033[33m" : "";
	const char *z = pg->color ? "\033[0m" : "";
	size_t i;

	stamp(ts, sizeof(ts));
	if (ev->kind == EXEC_EV_TICK) {
		struct strbuf sb = STRBUF_INIT;
		if (!pg->tty)
			return;
		for (i = 0; i < ev->ninflight && i < 6; i++) {
			const struct exec_event *f = &ev->inflight[i];
			strbuf_addf(&sb, "%s%s %s (%.0fs%s%s)", i ? ", " : "",
				    f->logical_id, f->action, f->elapsed,
				    f->status ? ": " : "",
				    f->status ? f->status : "");
		}
		if (ev->ninflight > 6)
			strbuf_addf(&sb, " and %zu more", ev->ninflight - 6);
		clear_live(pg);
		if (sb.len) {
			/* one line, cut to the terminal's width so that \r and
			 * erase-line can take it back */
			struct winsize ws;
			size_t width = 80;
			if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
				width = ws.ws_col;
			if (sb.len + 13 >= width)
				strbuf_setlen(&sb, width - 14);
			fprintf(stderr, "  in flight: %s", sb.buf);
			pg->line_open = true;
		}
		fflush(stderr);
		strbuf_release(&sb);
		return;
	}
	clear_live(pg);
	switch (ev->kind) {
	case EXEC_EV_START:
		fprintf(stderr, "%s %s: %s (%s)...\n", ts, ev->logical_id,
			ev->action, ev->type);
		break;
	case EXEC_EV_DONE:
		fprintf(stderr, "%s %s: %s%s done%s in %.1fs%s%s%s\n", ts,
			ev->logical_id, g, ev->action, z, ev->elapsed,
			ev->physical_id ? " [" : "",
			ev->physical_id ? ev->physical_id : "",
			ev->physical_id ? "]" : "");
		break;
	case EXEC_EV_FAIL:
		fprintf(stderr, "%s %s: %s%s failed%s after %.1fs: %s\n", ts,
			ev->logical_id, r, ev->action, z, ev->elapsed,
			ev->err ? ev->err->msg : "");
		break;
	case EXEC_EV_SKIP:
		fprintf(stderr, "%s %s: %sskipped%s (%s)\n", ts, ev->logical_id,
			y, z, ev->skip_reason ? ev->skip_reason : "");
		break;
	case EXEC_EV_TICK:
		break;
	}
	fflush(stderr);
}

/* ------------------------------------------------------------ helpers */

static bool confirm(const char *what)
{
	char line[64];

	fprintf(stderr, "\nDo you want to %s?\n  Only 'yes' will be accepted: ",
		what);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return !strcmp(line, "yes");
}

/* Whether path looks like a saved plan rather than a template. */
static bool is_plan_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	bool yes = false;

	if (strbuf_read_file(&sb, path, 1u << 20) == 0)
		yes = sb.len && sb.buf[0] == '{' &&
		      strstr(sb.buf, "\"format_version\"") &&
		      strstr(sb.buf, "\"template_digest\"");
	strbuf_release(&sb);
	return yes;
}

/* Every recorded resource deleted (or forgotten under Retain). */
static struct plan *destroy_plan(struct arena *a, struct state *st,
				 struct err *err)
{
	struct state_resource *recs;
	size_t n, i;
	struct plan *p;

	if (state_resource_list(st, a, &recs, &n, err))
		return NULL;
	p = plan_new(a);
	for (i = 0; i < n; i++) {
		struct plan_recorded r;
		memset(&r, 0, sizeof(r));
		r.logical_id = recs[i].logical_id;
		r.type = recs[i].type;
		r.physical_id = recs[i].physical_id;
		r.props = recs[i].properties;
		r.depends_on = recs[i].dependencies;
		r.ndeps = recs[i].n_dependencies;
		r.status = state_status_name(recs[i].status);
		r.deletion_policy = recs[i].deletion_policy;
		plan_add_removed(p, &r, r.deletion_policy, "destroy");
	}
	plan_finish(p);
	return p;
}

static void print_outputs(struct state *st, struct arena *a)
{
	struct state_output *outs;
	size_t n, i;
	struct err err = ERR_INIT;

	if (state_outputs_list(st, a, &outs, &n, &err) || !n)
		return;
	printf("\nOutputs:\n");
	for (i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		if (outs[i].value && outs[i].value->sensitive)
			strbuf_addstr(&sb, "(sensitive)");
		else if (value_str(outs[i].value))
			strbuf_addstr(&sb, value_str(outs[i].value));
		else
			value_to_json(outs[i].value, &sb, VALUE_JSON_REDACT);
		printf("  %s = %s\n", outs[i].name, sb.buf);
		strbuf_release(&sb);
	}
}

static void print_summary(const struct exec_result *res, bool destroy)
{
	size_t i;

	if (res->nfailures || res->skipped || res->stopped) {
		printf("\n%s %s: %zu created, %zu updated, %zu replaced, %zu deleted, %zu failed, %zu skipped (%.1fs).\n",
		       destroy ? "Destroy" : "Apply",
		       res->stopped ? "interrupted" : "failed", res->created,
		       res->updated, res->replaced, res->deleted, res->failed,
		       res->skipped, res->seconds);
		for (i = 0; i < res->nfailures; i++) {
			const struct exec_failure *f = &res->failures[i];
			printf("  - %s (%s) %s: %s%s%s%s%s\n", f->logical_id,
			       f->type, f->action, f->err.msg,
			       f->err.aws_code[0] && !strstr(f->err.msg, f->err.aws_code) ? " [" : "",
			       f->err.aws_code[0] && !strstr(f->err.msg, f->err.aws_code) ? f->err.aws_code : "",
			       f->err.request_id[0] && !strstr(f->err.msg, f->err.request_id) ? " request id " : "",
			       f->err.request_id[0] && !strstr(f->err.msg, f->err.request_id) ? f->err.request_id : "");
		}
		/* a resource that is not this stack's fails the same way until
		 * it is imported or renamed: "run again" would not help */
		for (i = 0; i < res->nfailures; i++)
			if (!strstr(res->failures[i].err.msg, "cairn import "))
				break;
		if (i == res->nfailures && res->nfailures && !res->stopped)
			printf("Import or rename the existing resources named above, then run the same command again.\n");
		else
			printf("Run the same command again to continue from where it stopped.\n");
		return;
	}
	if (destroy)
		printf("\nDestroy complete: %zu deleted, %zu forgotten (%.1fs).\n",
		       res->deleted, res->forgotten, res->seconds);
	else
		printf("\nApply complete: %zu created, %zu updated, %zu replaced, %zu deleted (%.1fs).\n",
		       res->created, res->updated, res->replaced,
		       res->deleted + res->forgotten, res->seconds);
}

/* Reads every recorded resource live and records what AWS has. */
static int refresh_state(struct arena *a, struct state *st,
			 struct aws_client *aws, const struct tmpl_ctx *ctx,
			 struct err *err)
{
	struct refresh_opts ro;
	struct refresh_result res;
	size_t i;

	memset(&ro, 0, sizeof(ro));
	ro.stack = ctx->stack_name;
	ro.region = ctx->region;
	ro.account = ctx->account;
	ro.partition = ctx->partition;
	if (refresh_read(a, st, aws, &ro, &res, err) < 0)
		return -1;
	for (i = 0; i < res.n; i++)
		if (res.items[i].status == REFRESH_FAILED)
			return err_set(err, res.items[i].err->code,
				       "reading \"%s\" live failed, so the plan would be made from stale data: %s",
				       res.items[i].logical_id,
				       res.items[i].err->msg);
	if (res.n)
		fprintf(stderr, "Refreshed %zu resources from AWS: %zu drifted, %zu gone.\n",
			res.n, res.drifted, res.gone);
	if ((res.drifted || res.gone) && refresh_write(st, &res, err) < 0)
		return -1;
	return 0;
}

/* A saved plan is applied only when the plan made now does the same work
 * (same resources, actions, order and property changes): otherwise AWS
 * moved since (plan_same_work). */
static int same_actions(struct arena *a, const char *path,
			const struct plan *now, struct err *err)
{
	struct plan *saved = plan_load(a, path, NULL, err);
	struct strbuf diff = STRBUF_INIT;

	if (!saved)
		return -1;
	if (!plan_same_work(saved, now, &diff)) {
		err_set(err, ERR_CONFLICT,
			"the saved plan %s no longer matches what AWS has: %s; make a new plan",
			path, diff.buf);
		strbuf_release(&diff);
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- run */

/* The options of the `cairn import` hint (exec_opts.hint_opts) that make
 * it act on this stack's state: the stack, the state when given, the
 * region. Parameter values are never repeated (they may be secrets). */
static void hint_opts_build(struct strbuf *sb, const char *stack,
			    const char *state, const char *region,
			    bool params)
{
	strbuf_addstr(sb, "--stack ");
	strbuf_add_shell_word(sb, stack);
	if (state) {
		strbuf_addstr(sb, " --state ");
		strbuf_add_shell_word(sb, state);
	}
	if (region) {
		strbuf_addstr(sb, " --region ");
		strbuf_add_shell_word(sb, region);
	}
	if (params)
		strbuf_addstr(sb, " and this apply's --param/--params-file options");
}

static int run(struct tmplopts *to, struct apply_opts *ao)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	struct plancommon pc;
	struct tmpl_run trun;
	struct aws_client *aws = NULL;
	struct state *st = NULL;
	struct plan *p = NULL;
	struct plan_binding b;
	struct strbuf out = STRBUF_INIT;
	struct strbuf hint = STRBUF_INIT;
	struct exec_opts eo;
	struct exec_result res;
	struct progress pg;
	struct aws_identity id;
	const char *digest = NULL;
	struct sigaction sa, old_sa;
	int rc = EXIT_ERROR, erc;
	const char *cmd = ao->destroy ? "destroy" : "apply";

	memset(&trun, 0, sizeof(trun));
	memset(&pc, 0, sizeof(pc));
	/* a saved plan names the template it was made from */
	if (ao->plan_file) {
		struct plan *saved = plan_load(a, ao->plan_file, NULL, &err);
		if (!saved) {
			cli_error("%s", err.msg);
			goto done;
		}
		to->template_path = saved->template_path;
		if (!to->stack)
			to->stack = saved->stack;
		if (!ao->so.state_path)
			ao->so.state_path = saved->state_path;
	}

	/* the AWS identity first: the template's AWS::AccountId is the real
	 * account unless --account says otherwise */
	if (!ao->aws.region)
		ao->aws.region = to->region;
	aws = aws_client_new(&ao->aws, &err);
	if (!aws) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (!to->region && aws_client_region(aws))
		to->region = aws_client_region(aws);
	if (aws_whoami(aws, &id, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (!to->account)
		to->account = arena_strdup(a, id.account);
	/* Fn::GetAZs: the account's zones in the region */
	to->azs->aws_client = aws;
	/* a destroy reads no reference, so it checks none (the secret may
	 * be gone already) */
	to->azs->check_dynrefs = !ao->destroy;

	{
		struct strbuf what = STRBUF_INIT;
		int prc;
		strbuf_addf(&what, "cairn %s %s", cmd, to->template_path);
		prc = plancommon_prepare(&pc, to, &ao->so, a,
					 ao->destroy ? 0 : STATE_OPEN_CREATE,
					 true, what.buf);
		strbuf_release(&what);
		if (prc < 0)
			goto done;
	}
	if (!pc.st) {
		printf("Nothing to destroy: no state at %s.\n", pc.state_path);
		rc = EXIT_OK;
		goto done;
	}
	/* the names the rest of run() uses */
	st = pc.st;
	trun = pc.run;
	digest = pc.digest;
	b = pc.b;

	if (ao->plan_file &&
	    !plan_load(a, ao->plan_file, &b, &err)) {
		cli_error("%s", err.msg);
		goto done;
	}

	/* read what AWS really has first, as plan does, and record it: the
	 * plan then repairs drift and recreates what disappeared */
	if (!ao->no_refresh && refresh_state(a, st, aws, &trun.ctx, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	b.refresh = !ao->no_refresh;

	/* what a stopped run created but did not record goes too */
	if (ao->destroy) {
		struct exec_opts ado;
		size_t adopted = 0;
		memset(&ado, 0, sizeof(ado));
		ado.stack = trun.ctx.stack_name;
		ado.region = trun.ctx.region;
		ado.account = trun.ctx.account;
		ado.partition = trun.ctx.partition;
		ado.poll_min_ms = ao->poll_min_ms;
		ado.dynref = cli_apply_dynref;
		ado.dynref_ud = aws;
		if (exec_adopt_open_creates(a, trun.stack, &trun.ctx, st, aws,
					    &ado, &adopted, &err) < 0) {
			cli_error("%s", err.msg);
			goto done;
		}
		if (adopted)
			fprintf(stderr, "Recorded %zu resource%s an interrupted run created, so that they are destroyed too.\n",
				adopted, adopted == 1 ? "" : "s");
	}

	p = ao->destroy ? destroy_plan(a, st, &err) :
			  plan_build(a, trun.stack, &trun.ctx, trun.graph, st, &err);
	if (!p) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (ao->plan_file && same_actions(a, ao->plan_file, p, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	plan_bind(p, &b);
	plan_render_human(p, &out, cli_use_color(stdout));
	fputs(out.buf, stdout);
	fflush(stdout);
	if (!plan_has_changes(p)) {
		if (!ao->destroy) {
			struct state_stack ss;
			memset(&ss, 0, sizeof(ss));
			ss.name = trun.ctx.stack_name;
			ss.region = trun.ctx.region;
			ss.account = trun.ctx.account;
			ss.template_digest = digest;
			ss.parameters = trun.stack->params;
			if (state_stack_put(st, &ss, &err) < 0 ||
			    exec_store_outputs(a, trun.stack, &trun.ctx, st, &err) < 0) {
				cli_error("%s", err.msg);
				goto done;
			}
			print_outputs(st, a);
		}
		rc = EXIT_OK;
		goto done;
	}
	if (!ao->auto_approve && !ao->plan_file) {
		if (!isatty(STDIN_FILENO)) {
			cli_error("refusing to %s without a terminal to confirm: pass --auto-approve%s",
				  cmd, ao->destroy ? "" : " or a plan file saved with 'cairn plan --out FILE'");
			goto done;
		}
		if (!confirm(ao->destroy ? "destroy every resource of this stack" :
					   "apply these changes")) {
			fprintf(stderr, "%s cancelled.\n", ao->destroy ? "Destroy" : "Apply");
			goto done;
		}
	}

	if (!ao->destroy) {
		struct state_stack ss;
		memset(&ss, 0, sizeof(ss));
		ss.name = trun.ctx.stack_name;
		ss.region = trun.ctx.region;
		ss.account = trun.ctx.account;
		ss.template_digest = digest;
		ss.parameters = trun.stack->params;
		if (state_stack_put(st, &ss, &err) < 0) {
			cli_error("%s", err.msg);
			goto done;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);

	memset(&pg, 0, sizeof(pg));
	pg.tty = isatty(STDERR_FILENO);
	pg.color = cli_use_color(stderr);
	memset(&eo, 0, sizeof(eo));
	eo.parallelism = ao->parallelism;
	eo.stack = trun.ctx.stack_name;
	eo.region = trun.ctx.region;
	eo.account = trun.ctx.account;
	eo.partition = trun.ctx.partition;
	eo.poll_min_ms = ao->poll_min_ms;
	eo.event = on_event;
	eo.event_ud = &pg;
	eo.stop = &stop_flag;
	eo.cancel = &cancel_flag;
	eo.template_path = to->template_path;
	hint_opts_build(&hint, trun.ctx.stack_name, ao->so.state_path,
			trun.ctx.region, to->nparams || to->params_file);
	eo.hint_opts = hint.buf;
	/* dynamic references are read by the workers, just before the call
	 * that needs each (CloudFormation reads them at execution too) */
	eo.dynref = cli_apply_dynref;
	eo.dynref_ud = aws;
	fprintf(stderr, "\n");
	erc = exec_run(a, p, ao->destroy ? NULL : trun.stack,
		       ao->destroy ? NULL : &trun.ctx, st, aws, &eo, &res,
		       &err);
	clear_live(&pg);
	sigaction(SIGINT, &old_sa, NULL);
	/* ERR_AWS is exec_run's own "N failed, M skipped", which the summary
	 * below details; anything else stopped the run itself (a state write
	 * failed, the lock was lost, a cycle): say it, even when some nodes
	 * were skipped because of it */
	if (erc < 0 && err.code != ERR_AWS)
		cli_error("%s", err.msg);
	if (erc < 0 && !res.nfailures && !res.skipped && !res.stopped)
		goto done;
	{
		struct err oerr = ERR_INIT;
		int orc = ao->destroy ?
			state_outputs_put(st, NULL, 0, &oerr) :
			exec_store_outputs(a, trun.stack, &trun.ctx, st, &oerr);
		if (orc < 0)
			cli_error("outputs: %s", oerr.msg);
	}
	print_summary(&res, ao->destroy);
	if (!ao->destroy)
		print_outputs(st, a);
	rc = erc < 0 || res.nfailures || res.skipped || res.stopped ?
		     EXIT_ERROR : EXIT_OK;
done:
	if (plancommon_release(&pc) < 0)
		rc = EXIT_ERROR;
	aws_client_free(aws);
	strbuf_release(&out);
	strbuf_release(&hint);
	arena_free(a);
	return rc;
}

int cmd_apply_or_destroy(int argc, char **argv, bool destroy)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		/* --region comes from the template options */
		{ "profile", required_argument, NULL, AWSOPT_PROFILE },
		{ "endpoint-url", required_argument, NULL, AWSOPT_ENDPOINT_URL },
		{ "max-attempts", required_argument, NULL, AWSOPT_MAX_ATTEMPTS },
		{ "request-timeout", required_argument, NULL, AWSOPT_REQUEST_TIMEOUT },
		{ "auto-approve", no_argument, NULL, OPT_AUTO_APPROVE },
		{ "parallelism", required_argument, NULL, OPT_PARALLELISM },
		{ "poll-interval-ms", required_argument, NULL, OPT_POLL_MIN },
		{ "refresh", required_argument, NULL, OPT_REFRESH },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = destroy ? "destroy" : "apply";
	struct tmplopts to;
	struct apply_opts ao;
	struct err err = ERR_INIT;
	int c, rc;

	memset(&ao, 0, sizeof(ao));
	ao.destroy = destroy;
	tmplopts_init(&to);
	stateopts_init(&ao.so);
	ao.so.aws = &ao.aws;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = tmplopts_handle(&to, c, optarg, &err);
		if (r == 0)
			r = stateopts_handle(&ao.so, c, optarg, &err);
		if (r < 0) {
			tmplopts_release(&to);
			return cli_usage_error(cmd, "%s", err.msg);
		}
		if (r > 0)
			continue;
		if (c >= AWSOPT_BASE && c < AWSOPT_END) {
			if (awsopts_parse(&ao.aws, c, optarg, cmd) < 0) {
				tmplopts_release(&to);
				return EXIT_USAGE;
			}
			continue;
		}
		switch (c) {
		case OPT_AUTO_APPROVE:
			ao.auto_approve = true;
			continue;
		case OPT_PARALLELISM: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 256) {
				tmplopts_release(&to);
				return cli_usage_error(cmd, "--parallelism takes a number from 1 to 256, not '%s'", optarg);
			}
			ao.parallelism = (int)v;
			continue;
		}
		case OPT_POLL_MIN: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 60000) {
				tmplopts_release(&to);
				return cli_usage_error(cmd, "--poll-interval-ms takes milliseconds from 1 to 60000, not '%s'", optarg);
			}
			ao.poll_min_ms = v;
			continue;
		}
		case OPT_REFRESH:
			if (strcmp(optarg, "true") && strcmp(optarg, "false")) {
				tmplopts_release(&to);
				return cli_usage_error(cmd, "--refresh takes true or false, not '%s'", optarg);
			}
			ao.no_refresh = !strcmp(optarg, "false");
			continue;
		case ':':
			tmplopts_release(&to);
			return cli_usage_error(cmd, "'%s' needs a value", argv[optind - 1]);
		default:
			tmplopts_release(&to);
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		tmplopts_release(&to);
		return cli_usage_error(cmd, argc - optind ? "one %s at a time" : "%s is missing",
				       destroy ? "TEMPLATE" : "TEMPLATE or PLANFILE");
	}
	if (!destroy && is_plan_file(argv[optind]))
		ao.plan_file = argv[optind];
	else
		to.template_path = argv[optind];
	rc = run(&to, &ao);
	tmplopts_release(&to);
	return rc;
}

int cmd_apply(int argc, char **argv)
{
	return cmd_apply_or_destroy(argc, argv, false);
}
