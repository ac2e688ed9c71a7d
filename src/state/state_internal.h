/*
 * Internals shared by the files of the state module (not part of the API).
 */
#ifndef CAIRN_STATE_INTERNAL_H
#define CAIRN_STATE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "cairn/state.h"

#define STATE_KEY_LEN 32
/* PRAGMA application_id of a cairn state: "CARN" */
#define STATE_APPLICATION_ID 0x4341524e

struct state {
	sqlite3 *db;
	char *path;
	unsigned char key[STATE_KEY_LEN];
	int have_key;
	/* the lock this handle holds */
	char *lock_id;
	double lease;
	int64_t lease_until_ms; /* what we last wrote as expires_at */
	/* prepared statements, kept for the life of the handle */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[48];
	size_t n_cache;
	/* state_group_begin/end: nesting depth of the open transaction, and
	 * whether an inner part failed (the whole group then rolls back) */
	int tx_depth;
	int tx_failed;
	/* state_set_intent_hook */
	int (*intent_hook)(void *ud, struct err *err);
	void *intent_hook_ud;
};

/* The cached statement for sql (prepared on first use), reset and with
 * its bindings cleared; NULL and err on failure. Call sqlite3_reset() when
 * done so no read transaction stays open. */
sqlite3_stmt *state_stmt(struct state *st, const char *sql, struct err *err);

/* sqlite failure -> err with the path and sqlite's message */
int state_sqlerr(struct state *st, struct err *err, const char *what);

/* Transactions: BEGIN IMMEDIATE; with a held lock, check it is still ours
 * (and extend the lease when half spent). tx_end commits when rc == 0 and
 * rolls back otherwise; returns rc, or -1 if the commit fails. Inside a
 * group (state_group_begin) they only count: the group's end commits. */
int state_tx_begin(struct state *st, struct err *err);
int state_tx_end(struct state *st, int rc, struct err *err);
/* UPDATE stack SET serial = serial + 1 inside a transaction */
int state_bump_serial(struct state *st, struct err *err);

/* Milliseconds since the epoch, and their ISO 8601 UTC form
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of at least 32 bytes). */
int64_t state_now_ms(void);
void state_format_time(int64_t ms, char *buf, size_t len);
/* -1 when text is not in that form */
int64_t state_parse_time(const char *text);

/* sqlite column text copied into the arena (NULL stays NULL) */
const char *state_col_str(struct arena *a, sqlite3_stmt *s, int col);
/* bind text or NULL */
int state_bind_str(sqlite3_stmt *s, int idx, const char *v);

/* Value trees <-> stored JSON. Encoding replaces sensitive nodes with
 * {"$secret": fingerprint}; decoding turns them back into sensitive strings
 * holding the fingerprint. */
void state_encode_value(struct state *st, const struct value *v,
			struct strbuf *out);
struct value *state_decode_value(struct arena *a, const char *json,
				 struct err *err);
/* Loads the HMAC key (creating it when absent, inside a transaction). */
int state_load_key(struct state *st, struct err *err);

/* migrate.c: refuses a foreign or newer database (read only) */
int state_check_identity(struct state *st, struct err *err);
/* migrate.c: brings the schema to `target` (<= STATE_SCHEMA_VERSION). */
int state_migrate(struct state *st, int target, struct err *err);

/* For tests: opens with flags but migrates only to `version`. */
struct state *state_open_at_version(const char *path, int flags, int version,
				    struct err *err);
/* For tests: the current PRAGMA user_version, -1 on error. */
int state_schema_version(struct state *st);

#endif
