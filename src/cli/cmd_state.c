/*
 * cairn state list|show|rm|history|push|pull|migrate: read (and, for rm,
 * edit) the recorded state of a stack without touching AWS resources, and
 * move it between a local file and S3.
 *
 *   state push [--force] LOCAL_PATH   upload LOCAL_PATH to the remote
 *                                     --state (locked, refusing to replace
 *                                     a remote state with a higher serial
 *                                     or of another stack without --force)
 *   state pull [--force] LOCAL_PATH   download it (refusing to replace a
 *                                     local state with a higher serial)
 *   state migrate --to LOCATION       copy the state named by --stack /
 *                                     --state to LOCATION (a path or an
 *                                     s3:// URL), with the same refusals
 *   state history [--versions]        an S3 state: the bucket's versions
 *                                     of the object (ListObjectVersions),
 *                                     then the journal
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/arena.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "awsopts.h"
#include "cairn/remote.h"
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
	struct state_handle sh;
	struct aws_options aws;
	int force, versions;
	const char *to, *version_id;
};

enum { OPT_FORCE = 0x3000, OPT_VERSIONS, OPT_TO, OPT_VERSION_ID };

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
		AWSOPTS_LONGOPTS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "versions", no_argument, NULL, OPT_VERSIONS },
		{ "to", required_argument, NULL, OPT_TO },
		{ "version-id", required_argument, NULL, OPT_VERSION_ID },
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
		if (opt >= AWSOPT_BASE && opt < AWSOPT_END) {
			if (awsopts_parse(&c->aws, opt, optarg, "state") < 0) {
				*status = EXIT_USAGE;
				return -1;
			}
			continue;
		}
		if (opt == OPT_FORCE) {
			c->force = 1;
			continue;
		}
		if (opt == OPT_VERSIONS) {
			c->versions = 1;
			continue;
		}
		if (opt == OPT_TO) {
			c->to = optarg;
			continue;
		}
		if (opt == OPT_VERSION_ID) {
			c->version_id = optarg;
			continue;
		}
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

static int open_state(struct state_cmd *c, int remote_flags)
{
	struct err err = ERR_INIT;

	c->a = arena_new();
	c->path = stateopts_path(&c->so, NULL, NULL, &err);
	if (!c->path)
		return cli_usage_error("state", "%s", err.msg);
	c->so.aws = &c->aws;
	c->st = stateopts_open(&c->so, c->path, 0, remote_flags,
			       "cairn state rm", &c->sh, &err);
	if (!c->st) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int done(struct state_cmd *c)
{
	struct err err = ERR_INIT;
	int rc = stateopts_close(&c->sh, c->st, &err);

	if (rc < 0)
		cli_error("%s", err.msg);
	c->st = NULL;
	arena_free(c->a);
	free(c->path);
	return rc;
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

/* ---- versions, push, pull, migrate ---------------------------------- */

static int state_versions(struct state_cmd *c)
{
	struct err err = ERR_INIT;
	char *bucket = NULL, *key = NULL;
	const struct value *l;
	size_t i;
	int rc = EXIT_OK;

	if (remote_parse_url(c->path, &bucket, &key, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	l = aws_s3_list_versions(c->sh.aws, bucket, key, c->a, &err);
	if (!l) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
		goto out;
	}
	if (c->json) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "{\"version\": 1, \"state\": ");
		add_json_str(&sb, c->path);
		strbuf_addstr(&sb, ", \"versions\": ");
		value_to_json(l, &sb, VALUE_JSON_PRETTY);
		strbuf_addstr(&sb, "}\n");
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		goto out;
	}
	if (l->u.list.n == 1 &&
	    !strcmp(value_str(value_map_get(l->u.list.items[0], "VersionId")),
		    "null")) {
		printf("The bucket keeps no versions of %s (turn on versioning "
		       "to keep every state cairn wrote).\n",
		       c->path);
		goto out;
	}
	printf("Versions of %s, newest first (restore one with 'cairn state "
	       "pull --version-id ID FILE' then 'cairn state push --force'):\n",
	       c->path);
	for (i = 0; i < l->u.list.n; i++) {
		const struct value *v = l->u.list.items[i];
		int marker = !strcmp(value_str(value_map_get(v, "DeleteMarker")),
				     "true");
		printf("  %-34s %s  %8s bytes%s%s\n",
		       value_str(value_map_get(v, "VersionId")),
		       value_str(value_map_get(v, "LastModified")),
		       marker ? "-" : value_str(value_map_get(v, "Size")),
		       !strcmp(value_str(value_map_get(v, "IsLatest")), "true") ?
			       "  (current)" : "",
		       marker ? "  (deleted)" : "");
	}
	putchar('\n');
out:
	free(bucket);
	free(key);
	return rc;
}

/* Two states of one lineage: the stack row is made once, when the database
 * is created, so its created_at (to the millisecond) tells a copy of this
 * state from another state made independently for the same stack name. */
static bool same_lineage(const struct state_stack *x,
			 const struct state_stack *y)
{
	return !x->created_at || !y->created_at || !*x->created_at ||
	       !*y->created_at || !strcmp(x->created_at, y->created_at);
}

/* The stack name and serial of a state file; -1 with err. */
static int peek(const char *path, struct arena *a, struct state_stack *out,
		struct err *err)
{
	struct state *st = state_open(path, 0, err);
	int rc;

	if (!st)
		return -1;
	rc = state_stack_get(st, a, out, err);
	state_close(st);
	return rc;
}

static struct aws_client *client(struct state_cmd *c)
{
	struct err err = ERR_INIT;
	struct aws_options ao;
	struct aws_client *aws;

	c->so.aws = &c->aws;
	stateopts_aws_options(&c->so, &ao);
	aws = aws_client_new(&ao, &err);

	if (!aws)
		cli_error("%s", err.msg);
	return aws;
}

static int push(struct state_cmd *c, const char *local, const char *url)
{
	struct err err = ERR_INIT;
	struct state_stack ls, rs;
	struct remote_opts ro;
	struct remote *r = NULL;
	struct aws_client *aws;
	int rc = EXIT_ERROR;

	if (peek(local, c->a, &ls, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_ERROR;
	}
	if (!(aws = client(c)))
		return EXIT_ERROR;
	memset(&ro, 0, sizeof(ro));
	ro.lock = true;
	ro.lock_wait = c->so.lock_timeout;
	ro.command = "cairn state push";
	ro.create = true;
	r = remote_open(aws, url, &ro, &err);
	if (!r) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (remote_existed(r)) {
		if (peek(remote_local_path(r), c->a, &rs, &err) < 0) {
			cli_error("%s (the object at %s is not a cairn state? "
				  "--force replaces it)",
				  err.msg, url);
			if (!c->force)
				goto out;
			rs.name = "";
			rs.serial = -1;
		}
		if (!c->force && *rs.name && *ls.name &&
		    strcmp(rs.name, ls.name)) {
			cli_error("%s holds stack \"%s\", %s holds \"%s\": not "
				  "replacing it (--force does)",
				  url, rs.name, local, ls.name);
			goto out;
		}
		if (!c->force && !same_lineage(&rs, &ls)) {
			cli_error("%s and %s are different states (created %s "
				  "and %s), not copies of one: not replacing it "
				  "(--force does)",
				  url, local, rs.created_at, ls.created_at);
			goto out;
		}
		if (!c->force && rs.serial > ls.serial) {
			cli_error("%s is newer (serial %lld) than %s (serial "
				  "%lld): not replacing it (pull it first, or "
				  "--force)",
				  url, (long long)rs.serial, local,
				  (long long)ls.serial);
			goto out;
		}
	}
	if (remote_put_file(aws, url, local,
			    remote_existed(r) ? remote_etag(r) : NULL,
			    c->so.kms_key, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	printf("Pushed %s (stack \"%s\", serial %lld) to %s.\n", local,
	       ls.name, (long long)ls.serial, url);
	rc = EXIT_OK;
out:
	if (remote_close(r, &err) < 0) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	}
	aws_client_free(aws);
	return rc;
}

static int pull(struct state_cmd *c, const char *url, const char *local)
{
	struct err err = ERR_INIT;
	struct state_stack ls, rs;
	struct remote_opts ro;
	struct remote *r = NULL;
	struct aws_client *aws;
	int rc = EXIT_ERROR;

	if (!(aws = client(c)))
		return EXIT_ERROR;
	memset(&ro, 0, sizeof(ro));
	ro.version_id = c->version_id;
	r = remote_open(aws, url, &ro, &err);
	if (!r) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (peek(remote_local_path(r), c->a, &rs, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (access(local, F_OK) == 0 && !c->force) {
		if (peek(local, c->a, &ls, &err) < 0) {
			cli_error("%s (not replacing it; --force does)",
				  err.msg);
			goto out;
		}
		if (*rs.name && *ls.name && strcmp(rs.name, ls.name)) {
			cli_error("%s holds stack \"%s\", %s holds \"%s\": not "
				  "replacing it (--force does)",
				  local, ls.name, url, rs.name);
			goto out;
		}
		if (!same_lineage(&rs, &ls)) {
			cli_error("%s and %s are different states (created %s "
				  "and %s), not copies of one: not replacing it "
				  "(--force does)",
				  local, url, ls.created_at, rs.created_at);
			goto out;
		}
		if (ls.serial > rs.serial) {
			cli_error("%s is newer (serial %lld) than %s (serial "
				  "%lld): not replacing it (push it, or "
				  "--force)",
				  local, (long long)ls.serial, url,
				  (long long)rs.serial);
			goto out;
		}
	}
	{
		/* state/ as state_open would make it */
		char *dir = strdup(local), *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0700);
		}
		free(dir);
	}
	if (remote_save_copy(r, local, &err) < 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	printf("Pulled %s%s%s (stack \"%s\", serial %lld) to %s.\n", url,
	       c->version_id ? " version " : "",
	       c->version_id ? c->version_id : "", rs.name,
	       (long long)rs.serial, local);
	rc = EXIT_OK;
out:
	if (remote_close(r, &err) < 0) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	}
	aws_client_free(aws);
	return rc;
}

static int state_move(struct state_cmd *c, const char *sub, int npos,
		      char **pos)
{
	struct err err = ERR_INIT;
	int rc;

	c->a = arena_new();
	c->path = stateopts_path(&c->so, NULL, NULL, &err);
	if (!c->path) {
		rc = cli_usage_error("state", "%s", err.msg);
		goto out;
	}
	if (!strcmp(sub, "migrate")) {
		if (!c->to || npos) {
			rc = cli_usage_error("state", "state migrate takes "
						      "--to LOCATION and no "
						      "arguments");
			goto out;
		}
		if (remote_is_url(c->to) == remote_is_url(c->path)) {
			rc = cli_usage_error("state",
					     "state migrate moves between a "
					     "local file and s3://: '%s' and "
					     "'%s' are both %s",
					     c->path, c->to,
					     remote_is_url(c->to) ? "remote" :
								    "local");
			goto out;
		}
		rc = remote_is_url(c->to) ? push(c, c->path, c->to) :
					    pull(c, c->path, c->to);
		if (rc == EXIT_OK)
			printf("The state now lives at %s; point --state, "
			       "CAIRN_STATE or cairn.yaml there. %s was left "
			       "as it was: remove it once you are sure.\n",
			       c->to, c->path);
		goto out;
	}
	if (npos != 1) {
		rc = cli_usage_error("state", "state %s takes one LOCAL_PATH",
				     sub);
		goto out;
	}
	if (!remote_is_url(c->path)) {
		rc = cli_usage_error("state",
				     "state %s needs the remote state: "
				     "--state s3://BUCKET/KEY (or "
				     "CAIRN_STATE, cairn.yaml)",
				     sub);
		goto out;
	}
	rc = !strcmp(sub, "push") ? push(c, pos[0], c->path) :
				    pull(c, c->path, pos[0]);
out:
	arena_free(c->a);
	free(c->path);
	return rc;
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
				       "which one: list, show, rm, history, push, pull or migrate?");
	sub = argv[1];
	if (!strcmp(sub, "list"))
		c.name = "state list";
	else if (!strcmp(sub, "show"))
		c.name = "state show";
	else if (!strcmp(sub, "rm"))
		c.name = "state rm";
	else if (!strcmp(sub, "history"))
		c.name = "state history";
	else if (!strcmp(sub, "push"))
		c.name = "state push";
	else if (!strcmp(sub, "pull"))
		c.name = "state pull";
	else if (!strcmp(sub, "migrate"))
		c.name = "state migrate";
	else
		return cli_usage_error("state", "unknown subcommand '%s'", sub);

	first = parse(&c, argc - 1, argv + 1, strcmp(sub, "rm") != 0,
		      !strcmp(sub, "history"), &status);
	if (first < 0)
		return status;
	first += 1; /* back to indexes of argv */
	npos = argc - first;
	if (!strcmp(sub, "push") || !strcmp(sub, "pull") ||
	    !strcmp(sub, "migrate"))
		return state_move(&c, sub, npos, argv + first);
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
	status = open_state(&c, !strcmp(sub, "rm") ?
					STATEOPTS_LOCK | STATEOPTS_WRITABLE :
					0);
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
	else if (remote_is_url(c.path) && c.versions)
		status = state_versions(&c);
	else {
		if (remote_is_url(c.path) && !c.json)
			status = state_versions(&c);
		if (status == EXIT_OK)
			status = state_history(&c, npos ? argv[first] : NULL);
	}
	if (done(&c) < 0 && status == EXIT_OK)
		status = EXIT_ERROR;
	return status;
}
