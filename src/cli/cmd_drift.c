/*
 * cairn drift TEMPLATE [--json]: the scheduled drift check. Reads every
 * recorded resource live and reports what moved since the last apply
 * (resource, property path, recorded -> live), without writing anything:
 * the state is read, not locked, not changed (use `cairn refresh` to record
 * what AWS has, `cairn apply` to put it back as the template says).
 *
 * Exit: 0 nothing drifted, 2 something drifted or is gone, 1 an error
 * (usage errors included, and any read that failed, so that a cron job
 * never reads a typo or an outage as "drift" or "all clear").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/refresh.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "commands.h"
#include "refresh_cli.h"
#include "stateopts.h"
#include "tmplopts.h"

enum {
	OPT_JSON = 0x2400,
	OPT_PARALLELISM,
};

#define EXIT_DRIFT 2

struct drift_cmd {
	struct tmplopts to;
	struct stateopts so;
	struct aws_options aws;
	int parallelism;
	bool json;
};

static const char *kind_name(enum plan_change_kind k)
{
	return k == PLAN_CHANGE_ADD ? "add" :
	       k == PLAN_CHANGE_REMOVE ? "remove" : "update";
}

static void json_value(struct strbuf *sb, const struct value *v, bool secret)
{
	if (secret)
		strbuf_addstr(sb, "\"(sensitive)\"");
	else if (!v)
		strbuf_addstr(sb, "null");
	else
		value_to_json(v, sb, VALUE_JSON_REDACT | VALUE_JSON_SORT_KEYS);
}

static void json_str(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_str(sb, s, strlen(s));
	else
		strbuf_addstr(sb, "null");
}

static void render_json(const char *stack, const struct refresh_result *res,
			struct strbuf *sb)
{
	size_t i, k;

	strbuf_addstr(sb, "{\"format_version\":\"1\",\"stack\":");
	json_str(sb, stack);
	strbuf_addf(sb, ",\"drifted\":%s,\"summary\":{\"unchanged\":%zu,"
			"\"drifted\":%zu,\"gone\":%zu,\"skipped\":%zu,"
			"\"failed\":%zu},\"resources\":[",
		    res->drifted + res->gone ? "true" : "false", res->unchanged,
		    res->drifted, res->gone, res->skipped, res->failed);
	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		strbuf_addstr(sb, i ? ",{\"logical_id\":" : "{\"logical_id\":");
		json_str(sb, it->logical_id);
		strbuf_addstr(sb, ",\"type\":");
		json_str(sb, it->type);
		strbuf_addstr(sb, ",\"physical_id\":");
		json_str(sb, it->physical_id);
		strbuf_addf(sb, ",\"status\":\"%s\",\"changes\":[",
			    refresh_status_name(it->status));
		for (k = 0; k < it->changes.n; k++) {
			const struct plan_change *c = &it->changes.items[k];
			strbuf_addstr(sb, k ? ",{\"path\":" : "{\"path\":");
			json_str(sb, c->path);
			strbuf_addf(sb, ",\"kind\":\"%s\",\"recorded\":",
				    kind_name(c->kind));
			json_value(sb, c->before, c->sensitive);
			strbuf_addstr(sb, ",\"live\":");
			json_value(sb, c->after, c->sensitive);
			strbuf_addf(sb, ",\"sensitive\":%s}",
				    c->sensitive ? "true" : "false");
		}
		strbuf_addstr(sb, "]");
		if (it->status == REFRESH_FAILED) {
			strbuf_addstr(sb, ",\"error\":");
			json_str(sb, it->err.msg);
			if (it->err.aws_code[0]) {
				strbuf_addstr(sb, ",\"aws_code\":");
				json_str(sb, it->err.aws_code);
			}
			if (it->err.request_id[0]) {
				strbuf_addstr(sb, ",\"request_id\":");
				json_str(sb, it->err.request_id);
			}
		}
		if (it->status == REFRESH_SKIPPED) {
			strbuf_addstr(sb, ",\"reason\":");
			json_str(sb, it->reason);
		}
		strbuf_addstr(sb, "}");
	}
	strbuf_addstr(sb, "]}\n");
}

static void render_human(const struct refresh_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		const struct refresh_item *it = &res->items[i];
		if (it->status == REFRESH_DRIFTED) {
			printf("~ %s (%s) %s: drifted\n", it->logical_id,
			       it->type, it->physical_id);
			cli_print_item_changes(stdout, it, "    ");
		} else if (it->status == REFRESH_GONE) {
			printf("- %s (%s) %s: gone (deleted outside cairn)\n",
			       it->logical_id, it->type, it->physical_id);
		} else if (it->status == REFRESH_SKIPPED) {
			fprintf(stderr, "cairn: %s (%s) not checked: %s\n",
				it->logical_id, it->type, it->reason);
		}
	}
	if (res->drifted + res->gone)
		printf("\nDrift: %zu drifted, %zu gone, %zu unchanged (recorded "
		       "-> live). 'cairn plan' shows the repair; 'cairn "
		       "refresh' records what AWS has instead.\n",
		       res->drifted, res->gone, res->unchanged);
	else if (!res->failed)
		printf("No drift: %zu resource%s match%s the recorded state.\n",
		       res->unchanged, res->unchanged == 1 ? "" : "s",
		       res->unchanged == 1 ? "es" : "");
	if (res->failed)
		printf("%sDrift check incomplete: %zu resource%s could not be "
		       "read (errors above); %zu match%s the recorded state.\n",
		       res->drifted + res->gone ? "" : "\n", res->failed,
		       res->failed == 1 ? "" : "s", res->unchanged,
		       res->unchanged == 1 ? "es" : "");
}

static int run_drift(struct drift_cmd *d)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	struct state *st = NULL;
	struct refresh_result res;
	struct state_stack ss;
	char *state_path = NULL;
	size_t i;
	int rc = EXIT_ERROR;
	struct state_handle sh;

	memset(&sh, 0, sizeof(sh));
	if (access(d->to.template_path, R_OK) < 0) {
		cli_error("cannot read template '%s'", d->to.template_path);
		goto done;
	}
	state_path = stateopts_path(&d->so, d->to.stack, d->to.template_path,
				    &err);
	if (!state_path) {
		cli_error("%s", err.msg);
		goto done;
	}
	/* a remote state: a snapshot, without its lock, never written */
	d->so.aws = &d->aws;
	st = stateopts_open(&d->so, state_path, 0, 0, NULL, &sh, &err);
	if (!st) {
		cli_error("%s", err.msg);
		goto done;
	}
	if (state_stack_get(st, a, &ss, &err) < 0 ||
	    cli_refresh_check_stack(st, d->to.stack, d->to.template_path,
				    &err) < 0 ||
	    cli_refresh_read(st, &d->aws, d->to.region, d->parallelism, a, &res,
			     &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	for (i = 0; i < res.n; i++)
		if (res.items[i].status == REFRESH_FAILED)
			cli_error("%s", cli_refresh_err_text(&res.items[i].err));
	if (d->json) {
		struct strbuf sb = STRBUF_INIT;
		render_json(ss.name, &res, &sb);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	} else {
		render_human(&res);
	}
	if (fflush(stdout) != 0) {
		cli_error("cannot write to stdout");
		goto done;
	}
	rc = res.failed ? EXIT_ERROR
			: res.drifted + res.gone ? EXIT_DRIFT : EXIT_OK;
done:
	stateopts_close(&sh, st, &err);
	free(state_path);
	arena_free(a);
	return rc;
}

int cmd_drift(int argc, char **argv)
{
	static const struct option opts[] = {
		TMPLOPTS_LONGOPTS,
		STATEOPTS_LONGOPTS_NOSTACK,
		REFRESH_CLI_AWS_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "parallelism", required_argument, NULL, OPT_PARALLELISM },
		{ NULL, 0, NULL, 0 },
	};
	struct drift_cmd d;
	struct err err = ERR_INIT;
	int c, rc;

	/* usage errors are 1 here: 2 means drift */
#define USAGE(...) (cli_usage_error("drift", __VA_ARGS__), EXIT_ERROR)
	memset(&d, 0, sizeof(d));
	tmplopts_init(&d.to);
	stateopts_init(&d.so);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = tmplopts_handle(&d.to, c, optarg, &err);
		if (r == 0)
			r = stateopts_handle(&d.so, c, optarg, &err);
		if (r < 0) {
			tmplopts_release(&d.to);
			return USAGE("%s", err.msg);
		}
		if (r > 0)
			continue;
		if (c >= AWSOPT_BASE && c < AWSOPT_END) {
			if (awsopts_parse(&d.aws, c, optarg, "drift") < 0) {
				tmplopts_release(&d.to);
				return EXIT_ERROR;
			}
			continue;
		}
		if (c == OPT_JSON) {
			d.json = true;
			continue;
		}
		if (c == OPT_PARALLELISM) {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 64) {
				tmplopts_release(&d.to);
				return USAGE("--parallelism takes a number from 1 to 64, not '%s'", optarg);
			}
			d.parallelism = (int)v;
			continue;
		}
		tmplopts_release(&d.to);
		if (c == ':')
			return USAGE("'%s' needs a value", argv[optind - 1]);
		return USAGE("unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1) {
		tmplopts_release(&d.to);
		return USAGE(argc - optind ? "one TEMPLATE at a time"
					   : "TEMPLATE is missing");
	}
	d.to.template_path = argv[optind];
	rc = run_drift(&d);
	tmplopts_release(&d.to);
	return rc;
#undef USAGE
}
