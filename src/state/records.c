/*
 * The stack row, resources and outputs. Every write is its own
 * transaction and bumps the stack's serial.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "state_internal.h"

static const char *const status_names[] = {
	[STATE_CREATING] = "creating", [STATE_CREATED] = "created",
	[STATE_UPDATING] = "updating", [STATE_DELETING] = "deleting",
	[STATE_FAILED] = "failed",     [STATE_TAINTED] = "tainted",
};

const char *state_status_name(enum state_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "?";
}

int state_status_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(status_names) / sizeof(status_names[0]);
	     i++)
		if (!strcmp(name, status_names[i]))
			return (int)i;
	return -1;
}

static int step_write(struct state *st, sqlite3_stmt *s, const char *what,
		      struct err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, what);
	return 0;
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- stack ---------------------------------------------------------- */

int state_stack_get(struct state *st, struct arena *a,
		    struct state_stack *out, struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT name, region, account, "
				     "template_digest, parameters, serial, "
				     "created_at, updated_at FROM stack "
				     "WHERE id = 1",
				     err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return err_set(err, ERR_STATEDB,
				       "state '%s' has no stack row: it is "
				       "damaged",
				       st->path);
		return state_sqlerr(st, err, "reading the stack");
	}
	out->name = state_col_str(a, s, 0);
	out->region = state_col_str(a, s, 1);
	out->account = state_col_str(a, s, 2);
	out->template_digest = state_col_str(a, s, 3);
	out->parameters = state_decode_value(
		a, (const char *)sqlite3_column_text(s, 4), err);
	out->serial = sqlite3_column_int64(s, 5);
	out->created_at = state_col_str(a, s, 6);
	out->updated_at = state_col_str(a, s, 7);
	sqlite3_reset(s);
	if (!out->parameters)
		return err_prefix(err, "state '%s': stack parameters: ",
				  st->path);
	return 0;
}

int state_stack_put(struct state *st, const struct state_stack *in,
		    struct err *err)
{
	struct strbuf params = STRBUF_INIT;
	sqlite3_stmt *s;
	int rc = -1;

	if (in->parameters)
		state_encode_value(st, in->parameters, &params);
	else
		strbuf_addstr(&params, "{}");
	if (state_tx_begin(st, err)) {
		strbuf_release(&params);
		return -1;
	}
	s = state_stmt(st,
		       "UPDATE stack SET name = ?1, region = ?2, account = ?3, "
		       "template_digest = ?4, parameters = ?5 WHERE id = 1",
		       err);
	if (s) {
		state_bind_str(s, 1, str_or_empty(in->name));
		state_bind_str(s, 2, str_or_empty(in->region));
		state_bind_str(s, 3, str_or_empty(in->account));
		state_bind_str(s, 4, str_or_empty(in->template_digest));
		state_bind_str(s, 5, params.buf);
		rc = step_write(st, s, "writing the stack", err);
	}
	if (!rc)
		rc = state_bump_serial(st, err);
	strbuf_release(&params);
	return state_tx_end(st, rc, err);
}

int64_t state_serial(struct state *st, struct err *err)
{
	sqlite3_stmt *s = state_stmt(st, "SELECT serial FROM stack WHERE id = 1",
				     err);
	int64_t v;

	if (!s)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return state_sqlerr(st, err, "reading the serial");
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/* ---- resources ------------------------------------------------------- */

#define RES_COLUMNS                                                          \
	"logical_id, type, physical_id, properties, attributes, "            \
	"dependencies, status, status_reason, created_at, updated_at, "      \
	"deletion_policy, update_replace_policy"

static int read_deps(struct arena *a, const char *json,
		     struct state_resource *r, struct err *err)
{
	struct value *v = value_from_json(a, json, strlen(json), 0, err);
	size_t i;

	if (!v)
		return -1;
	if (v->kind != VALUE_LIST)
		return err_set(err, ERR_STATEDB, "dependencies are not a list");
	r->n_dependencies = v->u.list.n;
	r->dependencies = arena_alloc(a, (v->u.list.n + 1) * sizeof(char *));
	for (i = 0; i < v->u.list.n; i++) {
		const char *d = value_str(v->u.list.items[i]);
		if (!d)
			return err_set(err, ERR_STATEDB,
				       "dependency %zu is not a string", i);
		r->dependencies[i] = d;
	}
	return 0;
}

static int read_resource(struct state *st, sqlite3_stmt *s, struct arena *a,
			 struct state_resource *r, bool raw, struct err *err)
{
	int status;

	memset(r, 0, sizeof(*r));
	r->logical_id = state_col_str(a, s, 0);
	r->type = state_col_str(a, s, 1);
	r->physical_id = state_col_str(a, s, 2);
	r->status_reason = state_col_str(a, s, 7);
	r->created_at = state_col_str(a, s, 8);
	r->updated_at = state_col_str(a, s, 9);
	r->deletion_policy = state_col_str(a, s, 10);
	r->update_replace_policy = state_col_str(a, s, 11);
	status = state_status_parse((const char *)sqlite3_column_text(s, 6));
	r->status = status < 0 ? STATE_FAILED : (enum state_status)status;
	if (raw) {
		r->properties_json = state_col_str(a, s, 3);
		r->attributes_json = state_col_str(a, s, 4);
		if (!r->properties_json || !r->attributes_json) {
			err_set(err, ERR_STATEDB, "no properties or attributes");
			goto bad;
		}
		goto deps;
	}
	r->properties = state_decode_value(
		a, (const char *)sqlite3_column_text(s, 3), err);
	if (!r->properties)
		goto bad;
	r->attributes = state_decode_value(
		a, (const char *)sqlite3_column_text(s, 4), err);
	if (!r->attributes)
		goto bad;
deps:
	if (read_deps(a, (const char *)sqlite3_column_text(s, 5), r, err))
		goto bad;
	return 0;
bad:
	return err_prefix(err, "state '%s': resource \"%s\": ", st->path,
			  r->logical_id ? r->logical_id : "?");
}

int state_resource_get(struct state *st, const char *logical_id,
		       struct arena *a, struct state_resource *out,
		       struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT " RES_COLUMNS " FROM resources "
				     "WHERE logical_id = ?1",
				     err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	state_bind_str(s, 1, logical_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return state_sqlerr(st, err, "reading a resource");
	}
	rc = read_resource(st, s, a, out, false, err);
	sqlite3_reset(s);
	return rc ? -1 : 1;
}

static int list(struct state *st, struct arena *a, struct state_resource **out,
		size_t *n, bool raw, struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT " RES_COLUMNS " FROM resources "
				     "ORDER BY logical_id",
				     err);
	struct state_resource *items = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			items = arena_realloc(a, items, cap * sizeof(*items),
					      ncap * sizeof(*items));
			cap = ncap;
		}
		if (read_resource(st, s, a, &items[count], raw, err)) {
			sqlite3_reset(s);
			return -1;
		}
		count++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "listing resources");
	*out = items;
	*n = count;
	return 0;
}

int state_resource_list(struct state *st, struct arena *a,
			struct state_resource **out, size_t *n,
			struct err *err)
{
	return list(st, a, out, n, false, err);
}

int state_resource_list_raw(struct state *st, struct arena *a,
			    struct state_resource **out, size_t *n,
			    struct err *err)
{
	return list(st, a, out, n, true, err);
}

int state_resource_decode(const struct state *st, struct arena *a,
			  const struct state_resource *r,
			  struct value **props, struct value **attrs,
			  struct err *err)
{
	*props = r->properties;
	*attrs = r->attributes;
	if (r->properties_json &&
	    !(*props = state_decode_value(a, r->properties_json, err)))
		goto bad;
	if (r->attributes_json &&
	    !(*attrs = state_decode_value(a, r->attributes_json, err)))
		goto bad;
	return 0;
bad:
	return err_prefix(err, "state '%s': resource \"%s\": ", st->path,
			  r->logical_id ? r->logical_id : "?");
}

static void encode_deps(const struct state_resource *r, struct strbuf *out)
{
	size_t i;

	strbuf_addch(out, '[');
	for (i = 0; i < r->n_dependencies; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_json_str(out, r->dependencies[i],
				    strlen(r->dependencies[i]));
	}
	strbuf_addch(out, ']');
}

int state_resource_put(struct state *st, const struct state_resource *r,
		       struct err *err)
{
	struct strbuf props = STRBUF_INIT, attrs = STRBUF_INIT,
		      deps = STRBUF_INIT;
	char now[40];
	sqlite3_stmt *s;
	int rc = -1;

	if (!r->logical_id || !*r->logical_id || !r->type || !*r->type)
		return err_set(err, ERR_INTERNAL,
			       "state_resource_put: logical id and type are "
			       "required");
	if (!state_status_name(r->status) ||
	    !strcmp(state_status_name(r->status), "?"))
		return err_set(err, ERR_INTERNAL,
			       "state_resource_put: bad status %d",
			       (int)r->status);
	if (r->properties)
		state_encode_value(st, r->properties, &props);
	else
		strbuf_addstr(&props, "{}");
	if (r->attributes)
		state_encode_value(st, r->attributes, &attrs);
	else
		strbuf_addstr(&attrs, "{}");
	encode_deps(r, &deps);
	state_format_time(state_now_ms(), now, sizeof(now));

	if (state_tx_begin(st, err))
		goto out;
	s = state_stmt(st,
		       "INSERT INTO resources (" RES_COLUMNS ") VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11) "
		       "ON CONFLICT (logical_id) DO UPDATE SET "
		       "type = excluded.type, "
		       "physical_id = excluded.physical_id, "
		       "properties = excluded.properties, "
		       "attributes = excluded.attributes, "
		       "dependencies = excluded.dependencies, "
		       "status = excluded.status, "
		       "status_reason = excluded.status_reason, "
		       "updated_at = excluded.updated_at, "
		       "deletion_policy = excluded.deletion_policy, "
		       "update_replace_policy = excluded.update_replace_policy",
		       err);
	if (s) {
		state_bind_str(s, 1, r->logical_id);
		state_bind_str(s, 2, r->type);
		state_bind_str(s, 3, r->physical_id);
		state_bind_str(s, 4, props.buf);
		state_bind_str(s, 5, attrs.buf);
		state_bind_str(s, 6, deps.buf);
		state_bind_str(s, 7, state_status_name(r->status));
		state_bind_str(s, 8, r->status_reason);
		state_bind_str(s, 9, now);
		state_bind_str(s, 10, r->deletion_policy);
		state_bind_str(s, 11, r->update_replace_policy);
		rc = step_write(st, s, "writing a resource", err);
	}
	if (!rc)
		rc = state_bump_serial(st, err);
	rc = state_tx_end(st, rc, err);
	if (rc)
		err_prefix(err, "resource \"%s\": ", r->logical_id);
out:
	strbuf_release(&props);
	strbuf_release(&attrs);
	strbuf_release(&deps);
	return rc;
}

static int update_one(struct state *st, sqlite3_stmt *s, const char *what,
		      const char *logical_id, struct err *err)
{
	int rc = step_write(st, s, what, err);

	if (!rc && sqlite3_changes(st->db) == 0)
		rc = err_set(err, ERR_NOT_FOUND,
			     "resource \"%s\" is not in state '%s'", logical_id,
			     st->path);
	if (!rc)
		rc = state_bump_serial(st, err);
	return rc;
}

int state_resource_set_status(struct state *st, const char *logical_id,
			      enum state_status status, const char *reason,
			      struct err *err)
{
	char now[40];
	sqlite3_stmt *s;
	int rc = -1;

	if (!strcmp(state_status_name(status), "?"))
		return err_set(err, ERR_INTERNAL, "bad status %d", (int)status);
	state_format_time(state_now_ms(), now, sizeof(now));
	if (state_tx_begin(st, err))
		return -1;
	s = state_stmt(st,
		       "UPDATE resources SET status = ?1, status_reason = ?2, "
		       "updated_at = ?3 WHERE logical_id = ?4",
		       err);
	if (s) {
		state_bind_str(s, 1, state_status_name(status));
		state_bind_str(s, 2, reason);
		state_bind_str(s, 3, now);
		state_bind_str(s, 4, logical_id);
		rc = update_one(st, s, "writing a status", logical_id, err);
	}
	return state_tx_end(st, rc, err);
}

int state_resource_delete(struct state *st, const char *logical_id,
			  struct err *err)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (state_tx_begin(st, err))
		return -1;
	s = state_stmt(st, "DELETE FROM resources WHERE logical_id = ?1", err);
	if (s) {
		state_bind_str(s, 1, logical_id);
		rc = update_one(st, s, "forgetting a resource", logical_id,
				err);
	}
	return state_tx_end(st, rc, err);
}

/* ---- outputs ----------------------------------------------------------- */

int state_outputs_put(struct state *st, const struct state_output *outs,
		      size_t n, struct err *err)
{
	struct strbuf val = STRBUF_INIT;
	char now[40];
	sqlite3_stmt *s;
	size_t i;
	int rc = 0;

	state_format_time(state_now_ms(), now, sizeof(now));
	if (state_tx_begin(st, err))
		return -1;
	s = state_stmt(st, "DELETE FROM outputs", err);
	rc = s ? step_write(st, s, "writing outputs", err) : -1;
	for (i = 0; !rc && i < n; i++) {
		if (!outs[i].name || !*outs[i].name) {
			rc = err_set(err, ERR_INTERNAL, "output %zu has no name",
				     i);
			break;
		}
		strbuf_reset(&val);
		state_encode_value(st, outs[i].value, &val);
		s = state_stmt(st,
			       "INSERT INTO outputs (name, value, description, "
			       "export_name, updated_at) VALUES "
			       "(?1, ?2, ?3, ?4, ?5)",
			       err);
		if (!s) {
			rc = -1;
			break;
		}
		state_bind_str(s, 1, outs[i].name);
		state_bind_str(s, 2, val.buf);
		state_bind_str(s, 3, outs[i].description);
		state_bind_str(s, 4, outs[i].export_name);
		state_bind_str(s, 5, now);
		rc = step_write(st, s, "writing outputs", err);
		if (rc)
			err_prefix(err, "output \"%s\": ", outs[i].name);
	}
	if (!rc)
		rc = state_bump_serial(st, err);
	strbuf_release(&val);
	return state_tx_end(st, rc, err);
}

int state_outputs_list(struct state *st, struct arena *a,
		       struct state_output **out, size_t *n, struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT name, value, description, "
				     "export_name FROM outputs ORDER BY name",
				     err);
	struct state_output *items = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_output *o;

		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			items = arena_realloc(a, items, cap * sizeof(*items),
					      ncap * sizeof(*items));
			cap = ncap;
		}
		o = &items[count];
		o->name = state_col_str(a, s, 0);
		o->value = state_decode_value(
			a, (const char *)sqlite3_column_text(s, 1), err);
		o->description = state_col_str(a, s, 2);
		o->export_name = state_col_str(a, s, 3);
		if (!o->value) {
			sqlite3_reset(s);
			return err_prefix(err, "state '%s': output \"%s\": ",
					  st->path, o->name);
		}
		count++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "listing outputs");
	*out = items;
	*n = count;
	return 0;
}
