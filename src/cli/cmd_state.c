/*
 * cairn state list|show|rm|history: read (and, for rm, edit) the recorded
 * state of a stack without touching AWS.
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
#include "stateopts.h"

struct state_cmd {
	const char *name; /* "state list" etc., for messages */
	struct stateopts so;
	int json;
	size_t limit;
	char *path;
	struct state *st;
	struct arena *a;
};

static void add_json_str(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_str(sb, s, strlen(s));
	else
		strbuf_addstr(sb, "null");
}

/* Parses options from argv (argv[0] is the subcommand); returns the index
 * of the first positional argument, or -1 after printing a usage error
 * (its exit status is then in *status). */
static int parse(struct state_cmd *c, int argc, char **argv, int allow_json,
		 int allow_limit, int *status)
{
	static const struct option opts[] = {
		STATEOPTS_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct err err = ERR_INIT;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = stateopts_handle(&c->so, opt, optarg, &err);
		if (r < 0) {
			*status = cli_usage_error("state", "%s", err.msg);
			return -1;
		}
		if (r > 0)
			continue;
		if (opt == 'j' && allow_json) {
			c->json = 1;
			continue;
		}
		if (opt == 'n' && allow_limit) {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0) {
				*status = cli_usage_error(
					"state", "--limit wants a positive "
						 "number, not '%s'",
					optarg);
				return -1;
			}
			c->limit = (size_t)v;
			continue;
		}
		if (opt == ':')
			*status = cli_usage_error("state", "'%s' needs a value",
						  argv[optind - 1]);
		else
			*status = cli_usage_error("state",
						  "%s: unknown option '%s'",
						  c->name, argv[optind - 1]);
		return -1;
	}
	return optind;
}

static int open_state(struct state_cmd *c)
{
	struct err err = ERR_INIT;

	c->path = stateopts_path(&c->so, NULL, NULL, &err);
	if (!c->path)
		return cli_usage_error("state", "%s", err.msg);
	c->st = state_open(c->path, 0, &err);
	if (!c->st) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	c->a = arena_new();
	return EXIT_OK;
}

static void done(struct state_cmd *c)
{
	state_close(c->st);
	arena_free(c->a);
	free(c->path);
}

/* ---- list ------------------------------------------------------------- */

static int state_list(struct state_cmd *c)
{
	struct err err = ERR_INIT;
	struct state_resource *rs;
	struct state_stack sk;
	size_t n, i, w_id = 10, w_type = 4, w_phys = 11;

	if (state_stack_get(c->st, c->a, &sk, &err) ||
	    state_resource_list(c->st, c->a, &rs, &n, &err)) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (c->json) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "{\"version\": 1, \"stack\": ");
		add_json_str(&sb, sk.name);
		strbuf_addf(&sb, ", \"serial\": %lld, \"resources\": [",
			    (long long)sk.serial);
		for (i = 0; i < n; i++) {
			strbuf_addstr(&sb, i ? ",\n  {" : "\n  {");
			strbuf_addstr(&sb, "\"logical_id\": ");
			add_json_str(&sb, rs[i].logical_id);
			strbuf_addstr(&sb, ", \"type\": ");
			add_json_str(&sb, rs[i].type);
			strbuf_addstr(&sb, ", \"physical_id\": ");
			add_json_str(&sb, rs[i].physical_id);
			strbuf_addstr(&sb, ", \"status\": ");
			add_json_str(&sb, state_status_name(rs[i].status));
			strbuf_addstr(&sb, ", \"status_reason\": ");
			add_json_str(&sb, rs[i].status_reason);
			strbuf_addch(&sb, '}');
		}
		strbuf_addstr(&sb, n ? "\n]}\n" : "]}\n");
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		return EXIT_OK;
	}
	if (!n) {
		fprintf(stderr, "state '%s' records no resources\n", c->path);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(rs[i].logical_id), t = strlen(rs[i].type),
		       p = rs[i].physical_id ? strlen(rs[i].physical_id) : 1;
		w_id = l > w_id ? l : w_id;
		w_type = t > w_type ? t : w_type;
		w_phys = p > w_phys ? p : w_phys;
	}
	printf("%-*s  %-*s  %-*s  %s\n", (int)w_id, "LOGICAL ID", (int)w_type,
	       "TYPE", (int)w_phys, "PHYSICAL ID", "STATUS");
	for (i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %s\n", (int)w_id, rs[i].logical_id,
		       (int)w_type, rs[i].type, (int)w_phys,
		       rs[i].physical_id ? rs[i].physical_id : "-",
		       state_status_name(rs[i].status));
	return EXIT_OK;
}

/* ---- show ------------------------------------------------------------- */

static void indented(const char *text, const char *pad)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		printf("%s%.*s\n", pad, (int)len, p);
		p += len;
		if (*p)
			p++;
	}
}

static int state_show(struct state_cmd *c, const char *logical_id)
{
	struct err err = ERR_INIT;
	struct state_resource r;
	struct strbuf sb = STRBUF_INIT;
	const int vflags = VALUE_JSON_REDACT | VALUE_JSON_UNKNOWN_MARKER;
	size_t i;
	int found = state_resource_get(c->st, logical_id, c->a, &r, &err);

	if (found < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (!found) {
		cli_error("resource \"%s\" is not in state '%s'", logical_id,
			  c->path);
		return EXIT_ERROR;
	}
	if (c->json) {
		strbuf_addstr(&sb, "{\"logical_id\": ");
		add_json_str(&sb, r.logical_id);
		strbuf_addstr(&sb, ", \"type\": ");
		add_json_str(&sb, r.type);
		strbuf_addstr(&sb, ", \"physical_id\": ");
		add_json_str(&sb, r.physical_id);
		strbuf_addstr(&sb, ", \"status\": ");
		add_json_str(&sb, state_status_name(r.status));
		strbuf_addstr(&sb, ", \"status_reason\": ");
		add_json_str(&sb, r.status_reason);
		strbuf_addstr(&sb, ", \"deletion_policy\": ");
		add_json_str(&sb, r.deletion_policy);
		strbuf_addstr(&sb, ", \"update_replace_policy\": ");
		add_json_str(&sb, r.update_replace_policy);
		strbuf_addstr(&sb, ", \"created_at\": ");
		add_json_str(&sb, r.created_at);
		strbuf_addstr(&sb, ", \"updated_at\": ");
		add_json_str(&sb, r.updated_at);
		strbuf_addstr(&sb, ", \"dependencies\": [");
		for (i = 0; i < r.n_dependencies; i++) {
			if (i)
				strbuf_addstr(&sb, ", ");
			add_json_str(&sb, r.dependencies[i]);
		}
		strbuf_addstr(&sb, "], \"properties\": ");
		value_to_json(r.properties, &sb, vflags);
		strbuf_addstr(&sb, ", \"attributes\": ");
		value_to_json(r.attributes, &sb, vflags);
		strbuf_addstr(&sb, "}\n");
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		return EXIT_OK;
	}
	printf("%s (%s)\n", r.logical_id, r.type);
	printf("  physical id:  %s\n", r.physical_id ? r.physical_id : "-");
	printf("  status:       %s%s%s\n", state_status_name(r.status),
	       r.status_reason ? ": " : "",
	       r.status_reason ? r.status_reason : "");
	if (r.deletion_policy || r.update_replace_policy)
		printf("  policies:     DeletionPolicy %s, UpdateReplacePolicy "
		       "%s\n",
		       r.deletion_policy ? r.deletion_policy : "Delete",
		       r.update_replace_policy ? r.update_replace_policy
					       : "Delete");
	printf("  created:      %s\n", r.created_at);
	printf("  updated:      %s\n", r.updated_at);
	printf("  depends on:   ");
	for (i = 0; i < r.n_dependencies; i++)
		printf("%s%s", i ? ", " : "", r.dependencies[i]);
	printf("%s\n", r.n_dependencies ? "" : "-");
	printf("  properties:\n");
	value_to_json(r.properties, &sb, vflags | VALUE_JSON_PRETTY);
	indented(sb.buf, "    ");
	strbuf_reset(&sb);
	printf("  attributes:\n");
	value_to_json(r.attributes, &sb, vflags | VALUE_JSON_PRETTY);
	indented(sb.buf, "    ");
	strbuf_release(&sb);
	return EXIT_OK;
}

/* ---- rm --------------------------------------------------------------- */

/* Prints a lock failure with the way out. */
static void lock_failed(struct state_cmd *c, const struct err *err)
{
	struct state_lock_info li;
	struct err e2 = ERR_INIT;

	cli_error("%s", err->msg);
	if (err->code == ERR_LOCKED &&
	    state_lock_get(c->st, c->a, &li, &e2) == 1)
		fprintf(stderr,
			"hint: wait with --lock-timeout DURATION, or, if that "
			"command is no longer running: cairn unlock %s "
			"--state %s\n",
			li.lock_id, c->path);
}

static int among(const char *id, int n_ids, char **ids)
{
	int i;

	for (i = 0; i < n_ids; i++)
		if (!strcmp(ids[i], id))
			return 1;
	return 0;
}

/* Resources that stay recorded but depend on one being forgotten: the
 * next apply will see them refer to something cairn no longer manages. */
static void warn_dependents(struct state_cmd *c, int n_ids, char **ids)
{
	struct err err = ERR_INIT;
	struct state_resource *rs;
	size_t n, i, j;

	if (state_resource_list(c->st, c->a, &rs, &n, &err))
		return;
	for (i = 0; i < n; i++) {
		if (among(rs[i].logical_id, n_ids, ids))
			continue;
		for (j = 0; j < rs[i].n_dependencies; j++)
			if (among(rs[i].dependencies[j], n_ids, ids))
				fprintf(stderr,
					"warning: %s (still in state) depends "
					"on %s\n",
					rs[i].logical_id, rs[i].dependencies[j]);
	}
}

static int state_rm(struct state_cmd *c, int n_ids, char **ids)
{
	struct err err = ERR_INIT;
	struct strbuf cmd = STRBUF_INIT;
	struct state_lock_opts lo = { 0 };
	struct state_resource r;
	int i, rc = EXIT_OK;

	strbuf_addstr(&cmd, "cairn state rm");
	for (i = 0; i < n_ids; i++)
		strbuf_addf(&cmd, " %s", ids[i]);
	lo.wait = c->so.lock_timeout;
	lo.command = cmd.buf;
	if (state_lock_acquire(c->st, &lo, &err)) {
		lock_failed(c, &err);
		strbuf_release(&cmd);
		return EXIT_ERROR;
	}
	strbuf_release(&cmd);
	/* check them all first: forget all or none */
	for (i = 0; i < n_ids; i++) {
		int found = state_resource_get(c->st, ids[i], c->a, &r, &err);
		if (found <= 0) {
			if (found < 0)
				cli_error("%s", err.msg);
			else
				cli_error("resource \"%s\" is not in state "
					  "'%s'; nothing was removed",
					  ids[i], c->path);
			rc = EXIT_ERROR;
		}
	}
	if (rc == EXIT_OK)
		warn_dependents(c, n_ids, ids);
	for (i = 0; rc == EXIT_OK && i < n_ids; i++) {
		if (state_resource_delete(c->st, ids[i], &err) ||
		    state_journal_event(c->st, ids[i], "forget",
					"cairn state rm", &err)) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
			break;
		}
		printf("Removed %s from state '%s' (nothing was deleted in "
		       "AWS)\n",
		       ids[i], c->path);
	}
	if (state_lock_release(c->st, &err)) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	}
	return rc;
}

/* ---- history ---------------------------------------------------------- */

/* Journal text comes from AWS answers: never let it drive the terminal. */
static void print_safe(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static int is_open(const struct state_journal_entry *open, size_t n_open,
		   int64_t id)
{
	size_t i;

	for (i = 0; i < n_open; i++)
		if (open[i].id == id)
			return 1;
	return 0;
}

static void history_json(const struct state_journal_entry *e, size_t n,
			 const struct state_journal_entry *open, size_t n_open)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addstr(&sb, "{\"version\": 1, \"entries\": [");
	for (i = 0; i < n; i++) {
		const struct state_journal_entry *j = &e[i];

		strbuf_addf(&sb, "%s{\"id\": %lld, \"at\": ", i ? ",\n  " : "\n  ",
			    (long long)j->id);
		add_json_str(&sb, j->at);
		strbuf_addstr(&sb, ", \"kind\": ");
		add_json_str(&sb, j->kind);
		if (j->intent_id)
			strbuf_addf(&sb, ", \"intent_id\": %lld",
				    (long long)j->intent_id);
		else
			strbuf_addstr(&sb, ", \"intent_id\": null");
		strbuf_addstr(&sb, ", \"run_id\": ");
		add_json_str(&sb, j->run_id);
		strbuf_addstr(&sb, ", \"logical_id\": ");
		add_json_str(&sb, j->logical_id);
		strbuf_addstr(&sb, ", \"resource_type\": ");
		add_json_str(&sb, j->resource_type);
		strbuf_addstr(&sb, ", \"action\": ");
		add_json_str(&sb, j->action);
		strbuf_addstr(&sb, ", \"physical_id\": ");
		add_json_str(&sb, j->physical_id);
		strbuf_addstr(&sb, ", \"client_token\": ");
		add_json_str(&sb, j->client_token);
		strbuf_addstr(&sb, ", \"tags\": ");
		if (j->tags)
			value_to_json(j->tags, &sb, VALUE_JSON_REDACT);
		else
			strbuf_addstr(&sb, "null");
		strbuf_addstr(&sb, ", \"request_id\": ");
		add_json_str(&sb, j->request_id);
		strbuf_addstr(&sb, ", \"result\": ");
		add_json_str(&sb, j->result);
		strbuf_addstr(&sb, ", \"error_code\": ");
		add_json_str(&sb, j->error_code);
		strbuf_addstr(&sb, ", \"message\": ");
		add_json_str(&sb, j->message);
		if (!strcmp(j->kind, "intent"))
			strbuf_addf(&sb, ", \"open\": %s",
				    is_open(open, n_open, j->id) ? "true"
								 : "false");
		strbuf_addch(&sb, '}');
	}
	strbuf_addstr(&sb, n ? "\n]}\n" : "]}\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

static int state_history(struct state_cmd *c, const char *logical_id)
{
	struct err err = ERR_INIT;
	struct state_journal_entry *e, *open;
	size_t n, n_open, i;

	if (state_journal_list(c->st, logical_id, c->limit, c->a, &e, &n,
			       &err) ||
	    state_journal_open_intents(c->st, c->a, &open, &n_open, &err)) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (c->json) {
		history_json(e, n, open, n_open);
		return EXIT_OK;
	}
	if (!n) {
		fprintf(stderr, "the journal of state '%s' is empty\n", c->path);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		const struct state_journal_entry *j = &e[i];
		int intent = !strcmp(j->kind, "intent");

		printf("#%-5lld %s  %-7s  %-8s %s", (long long)j->id, j->at,
		       j->kind, j->action, j->logical_id);
		if (j->resource_type)
			printf(" (%s)", j->resource_type);
		if (intent) {
			if (j->physical_id)
				printf("  target %s", j->physical_id);
			if (j->client_token)
				printf("  token %s", j->client_token);
			if (is_open(open, n_open, j->id))
				printf("  [OPEN: no outcome recorded]");
		} else {
			printf("  %s", j->result);
			if (j->error_code)
				printf(" %s", j->error_code);
			if (j->physical_id)
				printf("  %s", j->physical_id);
			if (j->request_id)
				printf("  request %s", j->request_id);
			if (j->intent_id)
				printf("  (intent #%lld)",
				       (long long)j->intent_id);
			if (j->message) {
				printf("  \"");
				print_safe(j->message);
				putchar('"');
			}
		}
		putchar('\n');
	}
	return EXIT_OK;
}

/* ---- dispatch --------------------------------------------------------- */

int cmd_state(int argc, char **argv)
{
	struct state_cmd c;
	const char *sub;
	int first, status = EXIT_OK, npos;

	memset(&c, 0, sizeof(c));
	stateopts_init(&c.so);
	if (argc < 2)
		return cli_usage_error("state",
				       "which one: list, show, rm or history?");
	sub = argv[1];
	if (!strcmp(sub, "list"))
		c.name = "state list";
	else if (!strcmp(sub, "show"))
		c.name = "state show";
	else if (!strcmp(sub, "rm"))
		c.name = "state rm";
	else if (!strcmp(sub, "history"))
		c.name = "state history";
	else
		return cli_usage_error("state", "unknown subcommand '%s'", sub);

	first = parse(&c, argc - 1, argv + 1, strcmp(sub, "rm") != 0,
		      !strcmp(sub, "history"), &status);
	if (first < 0)
		return status;
	first += 1; /* back to indexes of argv */
	npos = argc - first;
	if ((!strcmp(sub, "list") && npos != 0) ||
	    (!strcmp(sub, "show") && npos != 1) ||
	    (!strcmp(sub, "history") && npos > 1) ||
	    (!strcmp(sub, "rm") && npos < 1))
		return cli_usage_error(
			"state", "%s takes %s", c.name,
			!strcmp(sub, "list")	   ? "no arguments"
			: !strcmp(sub, "history") ? "at most one LOGICAL_ID"
			: !strcmp(sub, "show")	   ? "one LOGICAL_ID"
						   : "LOGICAL_ID...");
	status = open_state(&c);
	if (status != EXIT_OK) {
		done(&c);
		return status;
	}
	if (!strcmp(sub, "list"))
		status = state_list(&c);
	else if (!strcmp(sub, "show"))
		status = state_show(&c, argv[first]);
	else if (!strcmp(sub, "rm"))
		status = state_rm(&c, npos, argv + first);
	else
		status = state_history(&c, npos ? argv[first] : NULL);
	done(&c);
	return status;
}
