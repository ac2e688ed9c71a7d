/*
 * plan_fixture: writes a state through the state layer's API, for the plan
 * tests (apply does not exist yet), or holds its lock.
 *
 *   plan_fixture write STATE FIXTURE.json
 *       FIXTURE.json: {"stack": NAME (optional: records the stack row),
 *                      "resources": [{"logical_id", "type", "physical_id",
 *                        "properties", "attributes", "dependencies",
 *                        "status", "sensitive": ["Prop", ...]}]}
 *       Properties named in "sensitive" get the sensitive bit, so the
 *       state stores their fingerprint only.
 *   plan_fixture lock STATE SECONDS
 *       takes the lock, prints "locked" on stdout, sleeps, exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/arena.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

static int die(const char *what, const struct err *err)
{
	fprintf(stderr, "plan_fixture: %s: %s\n", what, err ? err->msg : "");
	return 1;
}

static int write_state(const char *path, const char *fixture)
{
	struct arena *a = arena_new();
	struct strbuf sb = STRBUF_INIT;
	struct err err = ERR_INIT;
	struct value *doc, *list;
	struct state *st;
	size_t i, j;
	int rc = 1;

	if (strbuf_read_file(&sb, fixture, 0) < 0)
		return die(fixture, NULL);
	doc = value_from_json(a, sb.buf, sb.len, 0, &err);
	strbuf_release(&sb);
	if (!doc)
		return die(fixture, &err);
	st = state_open(path, STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL, &err);
	if (!st) {
		arena_free(a);
		return die(path, &err);
	}
	if (value_str(value_map_get(doc, "stack"))) {
		struct state_stack ss;
		memset(&ss, 0, sizeof(ss));
		ss.name = value_str(value_map_get(doc, "stack"));
		ss.region = "us-east-1";
		ss.account = "123456789012";
		if (state_stack_put(st, &ss, &err) < 0) {
			die("stack", &err);
			goto out;
		}
	}
	list = value_map_get(doc, "resources");
	for (i = 0; list && i < list->u.list.n; i++) {
		struct value *r = list->u.list.items[i];
		struct value *deps = value_map_get(r, "dependencies");
		struct value *sens = value_map_get(r, "sensitive");
		struct state_resource res;
		const char *status = value_str(value_map_get(r, "status"));

		memset(&res, 0, sizeof(res));
		res.logical_id = value_str(value_map_get(r, "logical_id"));
		res.type = value_str(value_map_get(r, "type"));
		res.physical_id = value_str(value_map_get(r, "physical_id"));
		res.properties = value_map_get(r, "properties");
		res.attributes = value_map_get(r, "attributes");
		res.status = status ? (enum state_status)state_status_parse(status)
				    : STATE_CREATED;
		if (deps && deps->u.list.n) {
			res.dependencies = arena_alloc(
				a, deps->u.list.n * sizeof(char *));
			for (j = 0; j < deps->u.list.n; j++)
				res.dependencies[j] =
					value_str(deps->u.list.items[j]);
			res.n_dependencies = deps->u.list.n;
		}
		for (j = 0; sens && j < sens->u.list.n; j++) {
			struct value *v = value_map_get(
				res.properties, value_str(sens->u.list.items[j]));
			if (v)
				v->sensitive = 1;
		}
		if (state_resource_put(st, &res, &err) < 0) {
			die(res.logical_id ? res.logical_id : "?", &err);
			goto out;
		}
	}
	rc = 0;
out:
	state_close(st);
	arena_free(a);
	return rc;
}

static int hold_lock(const char *path, const char *seconds)
{
	struct err err = ERR_INIT;
	struct state_lock_opts lo = { 0, 0, "plan_fixture lock" };
	struct state *st = state_open(path, 0, &err);

	if (!st)
		return die(path, &err);
	if (state_lock_acquire(st, &lo, &err) < 0) {
		state_close(st);
		return die("lock", &err);
	}
	printf("locked\n");
	fflush(stdout);
	sleep((unsigned)atoi(seconds));
	state_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_state(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "lock"))
		return hold_lock(argv[2], argv[3]);
	fprintf(stderr, "usage: plan_fixture write STATE FIXTURE.json | "
			"lock STATE SECONDS\n");
	return 2;
}
