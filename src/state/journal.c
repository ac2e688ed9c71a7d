/*
 * The append-only journal: an intent row before each mutating AWS call,
 * an outcome row after it. Triggers in the schema refuse UPDATE and DELETE.
 * Journal rows do not bump the serial: they record calls, not state.
 */
#include <string.h>

#include "cairn/strbuf.h"
#include "state_internal.h"

#define J_COLUMNS                                                            \
	"id, intent_id, at, run_id, kind, logical_id, resource_type, "      \
	"action, physical_id, client_token, tags, request_id, result, "     \
	"error_code, message"

static int read_entry(struct state *st, sqlite3_stmt *s, struct arena *a,
		      struct state_journal_entry *e, struct err *err)
{
	const char *tags;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	e->intent_id = sqlite3_column_int64(s, 1);
	e->at = state_col_str(a, s, 2);
	e->run_id = state_col_str(a, s, 3);
	e->kind = state_col_str(a, s, 4);
	e->logical_id = state_col_str(a, s, 5);
	e->resource_type = state_col_str(a, s, 6);
	e->action = state_col_str(a, s, 7);
	e->physical_id = state_col_str(a, s, 8);
	e->client_token = state_col_str(a, s, 9);
	tags = (const char *)sqlite3_column_text(s, 10);
	e->request_id = state_col_str(a, s, 11);
	e->result = state_col_str(a, s, 12);
	e->error_code = state_col_str(a, s, 13);
	e->message = state_col_str(a, s, 14);
	if (tags) {
		e->tags = state_decode_value(a, tags, err);
		if (!e->tags)
			return err_prefix(err,
					  "state '%s': journal row %lld: tags: ",
					  st->path, (long long)e->id);
	}
	return 0;
}

static int read_all(struct state *st, sqlite3_stmt *s, struct arena *a,
		    struct state_journal_entry **out, size_t *n,
		    struct err *err)
{
	struct state_journal_entry *items = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			items = arena_realloc(a, items, cap * sizeof(*items),
					      ncap * sizeof(*items));
			cap = ncap;
		}
		if (read_entry(st, s, a, &items[count], err)) {
			sqlite3_reset(s);
			return -1;
		}
		count++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "reading the journal");
	*out = items;
	*n = count;
	return 0;
}

int64_t state_journal_intent(struct state *st, const struct state_intent *in,
			     struct err *err)
{
	struct strbuf tags = STRBUF_INIT;
	char now[40];
	sqlite3_stmt *s;
	int64_t id = -1;
	int rc = -1;

	if (!in->logical_id || !in->action)
		return err_set(err, ERR_INTERNAL,
			       "journal intent needs a logical id and an "
			       "action");
	if (in->tags)
		state_encode_value(st, in->tags, &tags);
	state_format_time(state_now_ms(), now, sizeof(now));
	if (state_tx_begin(st, err)) {
		strbuf_release(&tags);
		return -1;
	}
	s = state_stmt(st,
		       "INSERT INTO journal (at, run_id, kind, logical_id, "
		       "resource_type, action, physical_id, client_token, "
		       "tags) VALUES (?1, ?2, 'intent', ?3, ?4, ?5, ?6, ?7, ?8)",
		       err);
	if (s) {
		state_bind_str(s, 1, now);
		state_bind_str(s, 2, st->lock_id);
		state_bind_str(s, 3, in->logical_id);
		state_bind_str(s, 4, in->resource_type);
		state_bind_str(s, 5, in->action);
		state_bind_str(s, 6, in->physical_id);
		state_bind_str(s, 7, in->client_token);
		state_bind_str(s, 8, in->tags ? tags.buf : NULL);
		rc = sqlite3_step(s) == SQLITE_DONE
			     ? 0
			     : state_sqlerr(st, err, "writing the journal");
		sqlite3_reset(s);
		id = sqlite3_last_insert_rowid(st->db);
	}
	strbuf_release(&tags);
	if (state_tx_end(st, rc, err))
		return -1;
	/* a remote state makes the intent durable before the AWS call */
	if (st->intent_hook && st->intent_hook(st->intent_hook_ud, err) < 0)
		return -1;
	return id;
}

static int append_outcome(struct state *st, int64_t intent_id,
			  const char *logical_id, const char *type,
			  const char *action, const struct state_outcome *o,
			  struct err *err)
{
	char now[40];
	sqlite3_stmt *s;
	int rc;

	state_format_time(state_now_ms(), now, sizeof(now));
	s = state_stmt(st,
		       "INSERT INTO journal (at, run_id, kind, intent_id, "
		       "logical_id, resource_type, action, physical_id, "
		       "request_id, result, error_code, message) VALUES "
		       "(?1, ?2, 'outcome', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		       "?11)",
		       err);
	if (!s)
		return -1;
	state_bind_str(s, 1, now);
	state_bind_str(s, 2, st->lock_id);
	if (intent_id > 0)
		sqlite3_bind_int64(s, 3, intent_id);
	state_bind_str(s, 4, logical_id);
	state_bind_str(s, 5, type);
	state_bind_str(s, 6, action);
	state_bind_str(s, 7, o->physical_id);
	state_bind_str(s, 8, o->request_id);
	state_bind_str(s, 9, o->ok ? "ok" : "error");
	state_bind_str(s, 10, o->error_code);
	state_bind_str(s, 11, o->message);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "writing the journal");
	return 0;
}

int state_journal_outcome(struct state *st, int64_t intent_id,
			  const struct state_outcome *out, struct err *err)
{
	struct arena *a;
	sqlite3_stmt *s;
	int rc = -1, step;

	if (state_tx_begin(st, err))
		return -1;
	a = arena_new();
	s = state_stmt(st,
		       "SELECT i.kind, i.logical_id, i.resource_type, i.action, "
		       "(SELECT o.id FROM journal o WHERE o.intent_id = i.id) "
		       "FROM journal i WHERE i.id = ?1",
		       err);
	if (s) {
		sqlite3_bind_int64(s, 1, intent_id);
		step = sqlite3_step(s);
		if (step == SQLITE_DONE) {
			err_set(err, ERR_STATEDB, "journal row %lld does not exist",
				(long long)intent_id);
		} else if (step != SQLITE_ROW) {
			state_sqlerr(st, err, "reading the journal");
		} else if (strcmp((const char *)sqlite3_column_text(s, 0),
				  "intent")) {
			err_set(err, ERR_STATEDB,
				"journal row %lld is not an intent",
				(long long)intent_id);
		} else if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
			err_set(err, ERR_STATEDB,
				"journal intent %lld already has an outcome "
				"(row %lld)",
				(long long)intent_id,
				(long long)sqlite3_column_int64(s, 4));
		} else {
			const char *lid = state_col_str(a, s, 1);
			const char *type = state_col_str(a, s, 2);
			const char *action = state_col_str(a, s, 3);

			sqlite3_reset(s);
			rc = append_outcome(st, intent_id, lid, type, action,
					    out, err);
		}
		sqlite3_reset(s);
	}
	arena_free(a);
	return state_tx_end(st, rc, err);
}

int state_journal_event(struct state *st, const char *logical_id,
			const char *action, const char *message,
			struct err *err)
{
	struct state_outcome o = { true, NULL, NULL, NULL, message };
	int rc;

	if (state_tx_begin(st, err))
		return -1;
	rc = append_outcome(st, 0, logical_id, NULL, action, &o, err);
	return state_tx_end(st, rc, err);
}

int state_journal_open_intents(struct state *st, struct arena *a,
			       struct state_journal_entry **out, size_t *n,
			       struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT " J_COLUMNS " FROM journal i "
				     "WHERE i.kind = 'intent' AND NOT EXISTS "
				     "(SELECT 1 FROM journal o "
				     "WHERE o.intent_id = i.id) ORDER BY i.id",
				     err);

	if (!s)
		return -1;
	return read_all(st, s, a, out, n, err);
}

int state_journal_list(struct state *st, const char *logical_id,
		       size_t limit, struct arena *a,
		       struct state_journal_entry **out, size_t *n,
		       struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT * FROM (SELECT " J_COLUMNS
				     " FROM journal WHERE ?1 IS NULL OR "
				     "logical_id = ?1 ORDER BY id DESC "
				     "LIMIT ?2) ORDER BY id",
				     err);

	if (!s)
		return -1;
	state_bind_str(s, 1, logical_id);
	sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
	return read_all(st, s, a, out, n, err);
}

void state_set_intent_hook(struct state *st,
			   int (*fn)(void *ud, struct err *err), void *ud)
{
	st->intent_hook = fn;
	st->intent_hook_ud = ud;
}
