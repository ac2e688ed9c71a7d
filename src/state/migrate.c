/*
 * Schema migrations, keyed by PRAGMA user_version.
 *
 * Adding migration N: append a row to `migrations` (SQL, and a function
 * for what SQL cannot do), bump STATE_SCHEMA_VERSION in state.h, describe
 * the change in state/README.md, and extend tests/unit/state so that a
 * state at every earlier version, with rows in it, upgrades. All pending
 * migrations run in one transaction: a failure leaves the file as it was.
 * Never edit a migration that has shipped.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cairn/log.h"
#include "state_internal.h"

static int m1_seed(struct state *st, struct err *err);

static const char m1_sql[] =
	"CREATE TABLE stack (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  region TEXT NOT NULL DEFAULT '',\n"
	"  account TEXT NOT NULL DEFAULT '',\n"
	"  template_digest TEXT NOT NULL DEFAULT '',\n"
	"  parameters TEXT NOT NULL DEFAULT '{}',\n"
	"  serial INTEGER NOT NULL DEFAULT 0,\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE resources (\n"
	"  logical_id TEXT PRIMARY KEY,\n"
	"  type TEXT NOT NULL,\n"
	"  physical_id TEXT,\n"
	"  properties TEXT NOT NULL DEFAULT '{}',\n"
	"  attributes TEXT NOT NULL DEFAULT '{}',\n"
	"  dependencies TEXT NOT NULL DEFAULT '[]',\n"
	"  status TEXT NOT NULL CHECK (status IN ('creating', 'created',\n"
	"    'updating', 'deleting', 'failed', 'tainted')),\n"
	"  status_reason TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE outputs (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL,\n"
	"  description TEXT,\n"
	"  export_name TEXT,\n"
	"  updated_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE journal (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  at TEXT NOT NULL,\n"
	"  run_id TEXT,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('intent', 'outcome')),\n"
	"  intent_id INTEGER REFERENCES journal(id),\n"
	"  logical_id TEXT NOT NULL,\n"
	"  resource_type TEXT,\n"
	"  action TEXT NOT NULL,\n"
	"  physical_id TEXT,\n"
	"  client_token TEXT,\n"
	"  tags TEXT,\n"
	"  request_id TEXT,\n"
	"  result TEXT CHECK (result IN ('ok', 'error')),\n"
	"  error_code TEXT,\n"
	"  message TEXT,\n"
	"  CHECK ((kind = 'intent') = (result IS NULL)),\n"
	"  CHECK (kind = 'outcome' OR intent_id IS NULL)\n"
	");\n"
	"CREATE UNIQUE INDEX journal_one_outcome ON journal(intent_id)\n"
	"  WHERE intent_id IS NOT NULL;\n"
	"CREATE INDEX journal_by_logical_id ON journal(logical_id);\n"
	"CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal\n"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;\n"
	"CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal\n"
	"  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;\n"
	"CREATE VIEW open_intents AS\n"
	"  SELECT i.* FROM journal i WHERE i.kind = 'intent' AND NOT EXISTS\n"
	"    (SELECT 1 FROM journal o WHERE o.intent_id = i.id);\n"
	"CREATE TABLE lock (\n"
	"  slot INTEGER PRIMARY KEY CHECK (slot = 1),\n"
	"  lock_id TEXT NOT NULL,\n"
	"  holder_user TEXT NOT NULL,\n"
	"  host TEXT NOT NULL,\n"
	"  pid INTEGER NOT NULL,\n"
	"  command TEXT NOT NULL,\n"
	"  acquired_at TEXT NOT NULL,\n"
	"  expires_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE secret_key (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  algorithm TEXT NOT NULL,\n"
	"  key BLOB NOT NULL CHECK (length(key) = 32),\n"
	"  created_at TEXT NOT NULL\n"
	");\n";

/* 2: the policies the plan needs for resources no longer in the template */
static const char m2_sql[] =
	"ALTER TABLE resources ADD COLUMN deletion_policy TEXT;\n"
	"ALTER TABLE resources ADD COLUMN update_replace_policy TEXT;\n";

static const struct migration {
	int version;
	const char *sql;
	int (*fn)(struct state *st, struct err *err);
} migrations[] = {
	{ 1, m1_sql, m1_seed },
	{ 2, m2_sql, NULL },
};

static int m1_seed(struct state *st, struct err *err)
{
	unsigned char key[STATE_KEY_LEN];
	char now[40];
	sqlite3_stmt *s = NULL;
	int rc;

	if (RAND_bytes(key, (int)sizeof(key)) != 1)
		return err_set(err, ERR_INTERNAL,
			       "cannot draw a random secret key");
	state_format_time(state_now_ms(), now, sizeof(now));
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO secret_key (id, algorithm, key, "
			       "created_at) VALUES (1, 'hmac-sha256', ?1, ?2)",
			       -1, &s, NULL) != SQLITE_OK) {
		OPENSSL_cleanse(key, sizeof(key));
		return state_sqlerr(st, err, "migration 1");
	}
	sqlite3_bind_blob(s, 1, key, sizeof(key), SQLITE_TRANSIENT);
	state_bind_str(s, 2, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "migration 1");
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO stack (id, created_at, updated_at) "
			       "VALUES (1, ?1, ?1)",
			       -1, &s, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, "migration 1");
	state_bind_str(s, 1, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "migration 1");
	return 0;
}

static int query_int(struct state *st, const char *sql, int *out,
		     struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, "reading the schema version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return state_sqlerr(st, err, "reading the schema version");
	return 0;
}

/* The file's schema version; refuses foreign and newer databases. */
static int identify(struct state *st, int *version, struct err *err)
{
	int app = 0, objects = 0;

	*version = 0;
	if (query_int(st, "PRAGMA user_version", version, err) ||
	    query_int(st, "PRAGMA application_id", &app, err) ||
	    query_int(st, "SELECT count(*) FROM sqlite_master", &objects, err))
		return -1;
	if ((*version > 0 || objects > 0) &&
	    (unsigned)app != STATE_APPLICATION_ID)
		return err_set(err, ERR_STATEDB,
			       "'%s' is an SQLite database but not a cairn "
			       "state",
			       st->path);
	if (*version > STATE_SCHEMA_VERSION)
		return err_set(err, ERR_STATEDB,
			       "state '%s' has schema version %d, newer than "
			       "this cairn knows (%d): upgrade cairn",
			       st->path, *version, STATE_SCHEMA_VERSION);
	return 0;
}

int state_check_identity(struct state *st, struct err *err)
{
	int version;

	return identify(st, &version, err);
}

static int migrate_locked(struct state *st, int target, struct err *err)
{
	int version = 0;
	size_t i;
	char sql[80];

	if (identify(st, &version, err))
		return -1;
	if (version >= target)
		return 0;
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		const struct migration *m = &migrations[i];

		if (m->version <= version || m->version > target)
			continue;
		if (sqlite3_exec(st->db, m->sql, NULL, NULL, NULL) != SQLITE_OK)
			return state_sqlerr(st, err, "upgrading the schema");
		if (m->fn && m->fn(st, err))
			return -1;
	}
	snprintf(sql, sizeof(sql),
		 "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 (int)STATE_APPLICATION_ID, target);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, "upgrading the schema");
	if (version > 0)
		log_msg(LOG_INFO, "state '%s': schema upgraded from %d to %d",
			st->path, version, target);
	return 0;
}

int state_migrate(struct state *st, int target, struct err *err)
{
	int rc;

	/* IMMEDIATE: two processes opening a fresh file at once must not
	 * both run migration 1 */
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return state_sqlerr(st, err, "opening");
	rc = migrate_locked(st, target, err);
	if (rc == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = state_sqlerr(st, err, "upgrading the schema");
	if (rc && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
