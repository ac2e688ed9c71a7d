/*
 * cairn refresh TEMPLATE: read every recorded resource live and record what
 * AWS has (properties, attributes), forgetting the resources that are gone.
 * Takes the state lock. The next plan then shows what apply would repair.
 *
 * This file also holds what refresh, drift, import and plan share for
 * live reads (refresh_cli.h).
 *
 * Exit: 0 done, 1 an error (a read that failed: the rest is still
 * recorded), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/refresh.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cliopts.h"
#include "commands.h"
#include "refresh_cli.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_PARALLELISM = 0x2300,
};

/* ------------------------------------------------------------- shared */

int cli_refresh_read(struct state *st, const struct aws_options *aws,
		     const char *region, int parallelism, struct arena *a,
		     struct refresh_result *res, struct err *err)
{
	struct aws_options ao = *aws;
	struct aws_client *c;
	struct state_stack ss;
	struct refresh_opts ro;
	int rc;

	if (state_stack_get(st, a, &ss, err) < 0)
		return -1;
	if (!ao.region)
		ao.region = region ? region : (*ss.region ? ss.region : NULL);
	c = aws_client_new(&ao, err);
	if (!c)
		return -1;
	memset(&ro, 0, sizeof(ro));
	ro.parallelism = parallelism;
	ro.stack = ss.name;
	ro.region = aws_client_region(c) ? aws_client_region(c) : "us-east-1";
	/* the account apply recorded; a state without one was never
	 * applied, and the template options' default stands in */
	ro.account = *ss.account ? ss.account : "123456789012";
	rc = refresh_read(a, st, c, &ro, res, err);
	aws_client_free(c);
	return rc;
}

int cli_refresh_check_stack(struct state *st, const char *stack,
			    const char *template_path, struct err *err)
{
	struct arena *a = arena_new();
	struct state_stack ss;
	const char *base, *dot;
	char *want;
	int rc = 0;

	if (state_stack_get(st, a, &ss, err) < 0) {
		arena_free(a);
		return -1;
	}
	base = strrchr(template_path, '/');
	base = base ? base + 1 : template_path;
	dot = strrchr(base, '.');
	want = stack ? arena_strdup(a, stack)
		     : arena_strndup(a, base, dot && dot != base
						      ? (size_t)(dot - base)
						      : strlen(base));
	/* a state of another stack: its resources are not this template's */
	if (*ss.name && strcmp(ss.name, want))
		rc = err_set(err, ERR_USAGE,
			     "state '%s' belongs to stack \"%s\", not \"%s\" "
			     "(use --stack %s, or another --state)",
			     state_path(st), ss.name, want, ss.name);
	arena_free(a);
	return rc;
}

const char *cli_refresh_err_text(struct err *e)
{
	size_t len = strlen(e->msg);

	if (e->aws_code[0] && !strstr(e->msg, e->aws_code))
		len += (size_t)snprintf(e->msg + len, sizeof(e->msg) - len,
					" [%s]", e->aws_code);
	if (len < sizeof(e->msg) && e->request_id[0] &&
	    !strstr(e->msg, e->request_id))
		snprintf(e->msg + len, sizeof(e->msg) - len, " (request id %s)",
			 e->request_id);
	return e->msg;
}

int cli_plan_refresh(struct state *st, const struct aws_options *aws,
		     const char *region, struct state **snap, char **snap_path,
		     struct err *err)
{
	struct arena *a = arena_new();
	struct refresh_result res;
	size_t i, read;
	int rc = -1;

	*snap = NULL;
	*snap_path = NULL;
	if (cli_refresh_read(st, aws, region, 0, a, &res, err) < 0)
		goto done;
	for (i = 0; i < res.n; i++)
		if (res.items[i].status == REFRESH_FAILED) {
			struct err e = *res.items[i].err;
			err_set(err, e.code, "refreshing: %s (--refresh=false "
				"plans from the recorded state alone)",
				cli_refresh_err_text(&e));
			memcpy(err->aws_code, e.aws_code, sizeof(e.aws_code));
			memcpy(err->request_id, e.request_id,
			       sizeof(e.request_id));
			err->http_status = e.http_status;
			goto done;
		}
	read = res.unchanged + res.drifted + res.gone;
	if (!read) {
		rc = 0;
		goto done;
	}
	*snap = refresh_snapshot(st, snap_path, err);
	if (!*snap)
		goto done;
	if (refresh_write(*snap, &res, err) < 0) {
		state_close(*snap);
		*snap = NULL;
		refresh_snapshot_remove(*snap_path);
		*snap_path = NULL;
		goto done;
	}
	fprintf(stderr, "Refreshed %zu resource%s from AWS: %zu drifted, "
			"%zu gone (%zu read call%s, %.1fs).\n",
		read, read == 1 ? "" : "s", res.drifted, res.gone,
		res.batches + res.singles,
		res.batches + res.singles == 1 ? "" : "s", res.seconds);
	rc = 0;
done:
	arena_free(a);
	return rc;
}

static void print_value(struct strbuf *sb, const struct value *v, bool secret)
{
	if (secret)
		strbuf_addstr(sb, "(sensitive)");
	else if (!v)
		strbuf_addstr(sb, "(unset)");
	else
		value_to_json(v, sb, VALUE_JSON_REDACT | VALUE_JSON_SORT_KEYS);
}

void cli_print_item_changes(FILE *f, const struct refresh_item *it,
			    const char *indent)
{
	size_t i;

	for (i = 0; i < it->changes.n; i++) {
		const struct plan_change *c = &it->changes.items[i];
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%s%s: ", indent, c->path);
		print_value(&sb, c->before, c->sensitive);
		strbuf_addstr(&sb, " -> ");
		print_value(&sb, c->after, c->sensitive);
		fprintf(f, "%s\n", sb.buf);
		strbuf_release(&sb);
	}
}

/* ------------------------------------------------------------ command */

struct refresh_cmd {
	struct tmplopts to;
	struct stateopts so;
	struct aws_options aws;
	int parallelism;
};

static int run_refresh(struct refresh_cmd *rcmd)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	struct state *st = NULL;
	struct refresh_result res;
	char *state_path = NULL;
	struct strbuf what = STRBUF_INIT;
	struct state_lock_opts lo;
	size_t i;
	int n, rc = EXIT_ERROR;
	struct state_handle sh;

	memset(&sh, 0, sizeof(sh));

	if (access(rcmd->to.template_path, R_OK) < 0) {
		cli_error("cannot read template '%s'", rcmd->to.template_path);
		goto done;
	}
	tmplopts_hide_secrets(&rcmd->to, a);
	state_path = stateopts_path(&rcmd->so, rcmd->to.stack,
				    rcmd->to.template_path, &err);
	if (!state_path) {
		cli_error("%s", err.msg);
		goto done;
	}
	strbuf_addf(&what, "cairn refresh %s", rcmd->to.template_path);
	rcmd->so.aws = &rcmd->aws;
	st = stateopts_open(&rcmd->so, state_path, 0,
			    STATEOPTS_LOCK | STATEOPTS_WRITABLE, what.buf, &sh,
			    &err);
	if (!st) {
		cli_error("%s", err.msg);
		goto done;
	}
	lo.wait = rcmd->so.lock_timeout;
	lo.lease = 0;
	lo.command = what.buf;
	if (state_lock_acquire(st, &lo, &err) < 0 ||
	    cli_refresh_check_stack(st, rcmd->to.stack,
				    rcmd->to.template_path, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (cli_refresh_read(st, &rcmd->aws, rcmd->to.region, rcmd->parallelism,
			     a, &res, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	n = refresh_write(st, &res, &err);
	if (n < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	for (i = 0; i < res.n; i++) {
		const struct refresh_item *it = &res.items[i];
		switch (it->status) {
		case REFRESH_DRIFTED:
			printf("~ %s (%s) %s: recorded as AWS has it\n",
			       it->logical_id, it->type, it->physical_id);
			cli_print_item_changes(stdout, it, "    ");
			break;
		case REFRESH_GONE:
			printf("- %s (%s) %s: gone, removed from the state\n",
			       it->logical_id, it->type, it->physical_id);
			break;
		case REFRESH_FAILED:
			cli_error("%s", cli_refresh_err_text(res.items[i].err));
			break;
		case REFRESH_SKIPPED:
			fprintf(stderr, "cairn: %s (%s) not read: %s\n",
				it->logical_id, it->type, it->reason);
			break;
		case REFRESH_UNCHANGED:
			break;
		}
	}
	printf("\nRefresh %s: %zu drifted (state updated), %zu gone (removed "
	       "from the state), %zu unchanged%s (%.1fs).\n",
	       res.failed ? "incomplete" : "complete", res.drifted, res.gone,
	       res.unchanged, res.failed ? ", some reads failed" : "",
	       res.seconds);
	rc = res.failed ? EXIT_ERROR : EXIT_OK;
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
	strbuf_release(&what);
	free(state_path);
	arena_free(a);
	return rc;
}

static int own_opt(void *ud, int opt, const char *arg, struct err *err)
{
	if (opt != OPT_PARALLELISM)
		return 0;
	return cli_parse_int("--parallelism", arg, 1, 64, ud, err) < 0 ? -1 : 1;
}

int cmd_refresh(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		REFRESH_CLI_AWS_LONGOPTS,
		{ "parallelism", required_argument, NULL, OPT_PARALLELISM },
		{ NULL, 0, NULL, 0 },
	};
	struct refresh_cmd rcmd;
	struct cli_opts co = { "refresh", &rcmd.to, &rcmd.so, &rcmd.aws,
			       own_opt, &rcmd.parallelism };
	int rc, first;

	memset(&rcmd, 0, sizeof(rcmd));
	tmplopts_init(&rcmd.to);
	stateopts_init(&rcmd.so);
	if (cli_parse_opts(&co, opts, argc, argv, &first) < 0) {
		tmplopts_release(&rcmd.to);
		return EXIT_USAGE;
	}
	if (argc - first != 1) {
		tmplopts_release(&rcmd.to);
		return cli_usage_error("refresh", argc - first
				       ? "one TEMPLATE at a time"
				       : "TEMPLATE is missing");
	}
	rcmd.to.template_path = argv[first];
	rc = run_refresh(&rcmd);
	tmplopts_release(&rcmd.to);
	return rc;
}
