/*
 * Unit tests of the state module: migrations, records, the journal,
 * secrets, locks (with real second processes), file modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "cairn/arena.h"
#include "cairn/err.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

/* ---- helpers ----------------------------------------------------------- */

/* Reference HMAC-SHA256 in hex, straight from OpenSSL. */
static void hmac_ref_hex(const unsigned char *key, size_t key_len,
			 const char *msg, size_t len, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, len,
	     mac, &n);
	for (i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	out[64] = '\0';
}

struct fx {
	char dir[256];
	char path[300];
	struct arena *a;
};

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	snprintf(f->dir, sizeof(f->dir), "%s/cairn-state-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/state/demo.db", f->dir);
	f->a = arena_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rm_tree(f->dir);
	arena_free(f->a);
	free(f);
	return 0;
}

static struct state *must_open(const char *path)
{
	struct err err = ERR_INIT;
	struct state *st = state_open(path, STATE_OPEN_CREATE, &err);

	if (!st)
		fail_msg("state_open: %s", err.msg);
	return st;
}

static struct value *json(struct arena *a, const char *text)
{
	struct err err = ERR_INIT;
	struct value *v = value_from_json(a, text, strlen(text),
					  VALUE_JSON_UNKNOWN_MARKER, &err);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, err.msg);
	return v;
}

/* Whole file contents (db, -wal) to search for plaintext. */
static int file_contains(const char *path, const char *needle)
{
	struct strbuf sb = STRBUF_INIT;
	int found;

	if (strbuf_read_file(&sb, path, 0) < 0) {
		strbuf_release(&sb);
		return 0;
	}
	found = memmem(sb.buf, sb.len, needle, strlen(needle)) != NULL;
	strbuf_release(&sb);
	return found;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int v = -12345;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
					 NULL),
			 SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* ---- opening, modes, migrations ---------------------------------------- */

static void test_create_mode_and_settings(void **state)
{
	struct fx *f = *state;
	struct state *st;
	struct stat sb;
	char dir[300], wal[320];
	struct err err = ERR_INIT;
	struct state_resource r = { 0 };
	mode_t old = umask(0);

	st = must_open(f->path);
	umask(old);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/state", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	r.logical_id = "Vpc";
	r.type = "AWS::EC2::VPC";
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* WAL is a property of the file: visible to another connection */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM "
					  "pragma_journal_mode WHERE "
					  "journal_mode = 'wal'"),
			 1);
	assert_int_equal(raw_int(f->path, "PRAGMA application_id"),
			 0x4341524e);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"),
			 STATE_SCHEMA_VERSION);
	state_close(st);
}

static void test_open_missing(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;

	assert_null(state_open(f->path, 0, &err));
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, f->path));
	assert_non_null(strstr(err.msg, "no state found"));
}

static void test_not_a_state(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	char path[320];
	FILE *fp;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fp = fopen(path, "w");
	fputs("this is not a database, just some text that is long enough "
	      "to have a header.................................\n",
	      fp);
	fclose(fp);
	assert_null(state_open(path, STATE_OPEN_CREATE, &err));
	assert_int_equal(err.code, ERR_STATEDB);
	assert_non_null(strstr(err.msg, path));

	/* someone else's SQLite database is refused and left untouched */
	snprintf(path, sizeof(path), "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	err_clear(&err);
	assert_null(state_open(path, STATE_OPEN_CREATE, &err));
	assert_int_equal(err.code, ERR_STATEDB);
	assert_non_null(strstr(err.msg, "not a cairn state"));
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
				       "pragma_journal_mode WHERE "
				       "journal_mode = 'delete'"),
			 1);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;

	state_close(must_open(f->path));
	assert_int_equal(raw_exec(f->path, "PRAGMA user_version = 99"),
			 SQLITE_OK);
	assert_null(state_open(f->path, 0, &err));
	assert_int_equal(err.code, ERR_STATEDB);
	assert_non_null(strstr(err.msg, "newer"));
	assert_non_null(strstr(err.msg, "99"));
}

/* Declared in src/state/state_internal.h; repeated here so the test uses
 * only the public header plus these two hooks. */
struct state *state_open_at_version(const char *path, int flags, int version,
				    struct err *err);
int state_schema_version(struct state *st);

/* Rows written with the SQL of schema version v (as a cairn of that
 * version would have), checked after the upgrade. Version 0 is an empty
 * file. A new migration adds its version's seed here. */
static const char *const seed_sql[] = {
	[0] = NULL,
	[1] = "UPDATE stack SET name = 'old', serial = 7;"
	      "INSERT INTO resources (logical_id, type, physical_id, "
	      "properties, attributes, dependencies, status, created_at, "
	      "updated_at) VALUES ('Seeded', 'AWS::EC2::VPC', 'vpc-old', "
	      "'{\"CidrBlock\":\"10.9.0.0/16\"}', '{}', '[\"Other\"]', "
	      "'created', '2026-01-01T00:00:00.000Z', "
	      "'2026-01-01T00:00:00.000Z');"
	      "INSERT INTO journal (at, kind, logical_id, action, "
	      "client_token) VALUES ('2026-01-01T00:00:00.000Z', 'intent', "
	      "'Seeded', 'create', 'tok-old');",
};

static void test_migrations_from_each_version(void **state)
{
	struct fx *f = *state;
	int v;

	assert_int_equal(sizeof(seed_sql) / sizeof(seed_sql[0]),
			 STATE_SCHEMA_VERSION);
	for (v = 0; v < STATE_SCHEMA_VERSION; v++) {
		struct err err = ERR_INIT;
		char path[320];
		struct state *st;
		struct state_resource r = { 0 }, got;
		struct state_journal_entry *e;
		size_t n;

		snprintf(path, sizeof(path), "%s/v%d.db", f->dir, v);
		st = state_open_at_version(path, STATE_OPEN_CREATE, v, &err);
		assert_non_null(st);
		assert_int_equal(state_schema_version(st), v);
		state_close(st);
		if (seed_sql[v])
			assert_int_equal(raw_exec(path, seed_sql[v]), SQLITE_OK);
		st = must_open(path);
		assert_int_equal(state_schema_version(st), STATE_SCHEMA_VERSION);
		if (v >= 1) {
			assert_int_equal(state_resource_get(st, "Seeded", f->a,
							    &got, &err),
					 1);
			assert_string_equal(got.physical_id, "vpc-old");
			assert_string_equal(value_str(value_map_get(
						    got.properties, "CidrBlock")),
					    "10.9.0.0/16");
			assert_int_equal(got.n_dependencies, 1);
			assert_null(got.deletion_policy);
			assert_int_equal(state_serial(st, &err), 7);
			assert_int_equal(state_journal_open_intents(st, f->a, &e,
								    &n, &err),
					 0);
			assert_int_equal(n, 1);
			assert_string_equal(e[0].client_token, "tok-old");
		}
		r.logical_id = "AfterUpgrade";
		r.type = "AWS::EC2::VPC";
		r.deletion_policy = "Retain";
		assert_int_equal(state_resource_put(st, &r, &err), 0);
		assert_int_equal(state_resource_get(st, "AfterUpgrade", f->a,
						    &got, &err),
				 1);
		assert_string_equal(got.deletion_policy, "Retain");
		state_close(st);
		assert_int_equal(raw_int(path, "SELECT count(*) FROM "
					       "pragma_integrity_check WHERE "
					       "integrity_check = 'ok'"),
				 1);
		assert_int_equal(raw_int(path, "SELECT count(*) FROM secret_key"),
				 1);
		assert_int_equal(raw_int(path, "SELECT count(*) FROM stack"), 1);
	}
	/* reopening an up-to-date state migrates nothing and keeps data */
	{
		char path[320];
		snprintf(path, sizeof(path), "%s/v0.db", f->dir);
		state_close(must_open(path));
		assert_int_equal(raw_int(path, "SELECT count(*) FROM resources"),
				 1);
		snprintf(path, sizeof(path), "%s/v1.db", f->dir);
		state_close(must_open(path));
		assert_int_equal(raw_int(path, "SELECT count(*) FROM resources"),
				 2);
	}
}

/* A migration that fails leaves the file exactly at its old version. */
static void test_failed_migration_rolls_back(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	struct state *st;

	st = state_open_at_version(f->path, STATE_OPEN_CREATE, 1, &err);
	assert_non_null(st);
	state_close(st);
	/* make migration 2's second ALTER fail after its first succeeded */
	assert_int_equal(raw_exec(f->path, "ALTER TABLE resources ADD COLUMN "
					   "update_replace_policy TEXT"),
			 SQLITE_OK);
	assert_null(state_open(f->path, 0, &err));
	assert_int_equal(err.code, ERR_STATEDB);
	assert_non_null(strstr(err.msg, "upgrading the schema"));
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM "
					  "pragma_table_info('resources') "
					  "WHERE name = 'deletion_policy'"),
			 0);
}

static void test_damaged_row_named(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	struct state *st = must_open(f->path);
	struct state_resource r = { 0 }, *list;
	size_t n;

	r.logical_id = "Broken";
	r.type = "AWS::EC2::VPC";
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(raw_exec(f->path, "UPDATE resources SET properties = "
					   "'{\"a\":' WHERE logical_id = 'Broken'"),
			 SQLITE_OK);
	assert_int_equal(state_resource_list(st, f->a, &list, &n, &err), -1);
	assert_non_null(strstr(err.msg, "resource \"Broken\""));
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(state_resource_get(st, "Broken", f->a, &r, &err), -1);
	assert_non_null(strstr(err.msg, "invalid JSON"));
	state_close(st);
}

static void test_damaged_key_refused(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;

	state_close(must_open(f->path));
	assert_int_equal(raw_exec(f->path, "DELETE FROM secret_key"), SQLITE_OK);
	assert_null(state_open(f->path, 0, &err));
	assert_int_equal(err.code, ERR_STATEDB);
	assert_non_null(strstr(err.msg, "secret key"));
}

/* ---- records ------------------------------------------------------------ */

static void test_resource_roundtrip(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_resource r = { 0 }, got, *list;
	const char *deps[] = { "Vpc", "Igw" };
	const char *props = "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\","
			    "\"MapPublicIpOnLaunch\":true,\"Count\":3,"
			    "\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"}],"
			    "\"Nothing\":null,\"Later\":{\"$unknown\":\"X.Y\"}}";
	int64_t serial0 = state_serial(st, &err);
	size_t n;
	const char *created;

	r.logical_id = "Subnet";
	r.type = "AWS::EC2::Subnet";
	r.physical_id = "subnet-0abc";
	r.properties = json(f->a, props);
	r.attributes = json(f->a, "{\"AvailabilityZone\":\"eu-west-1a\"}");
	r.dependencies = deps;
	r.n_dependencies = 2;
	r.status = STATE_CREATED;
	r.deletion_policy = "Retain";
	r.update_replace_policy = "Snapshot";
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_serial(st, &err), serial0 + 1);

	assert_int_equal(state_resource_get(st, "Subnet", f->a, &got, &err), 1);
	assert_string_equal(got.logical_id, "Subnet");
	assert_string_equal(got.type, "AWS::EC2::Subnet");
	assert_string_equal(got.physical_id, "subnet-0abc");
	assert_int_equal(got.status, STATE_CREATED);
	assert_null(got.status_reason);
	assert_string_equal(got.deletion_policy, "Retain");
	assert_string_equal(got.update_replace_policy, "Snapshot");
	/* compare against a tree parsed independently from the same text
	 * (unknowns never compare equal, so check that one apart) */
	{
		struct value *want = json(f->a, props);
		assert_int_equal(value_map_get(got.properties, "Later")->kind,
				 VALUE_UNKNOWN);
		assert_string_equal(
			value_map_get(got.properties, "Later")->u.unknown.what,
			"X.Y");
		value_map_del(want, "Later");
		value_map_del(got.properties, "Later");
		assert_true(value_equal(want, got.properties));
	}
	assert_string_equal(value_str(value_map_get(got.attributes,
						    "AvailabilityZone")),
			    "eu-west-1a");
	assert_int_equal(got.n_dependencies, 2);
	assert_string_equal(got.dependencies[0], "Vpc");
	assert_string_equal(got.dependencies[1], "Igw");
	assert_non_null(got.created_at);
	assert_int_equal(strlen(got.created_at), 24);
	created = got.created_at;

	/* replace keeps created_at, changes the rest */
	sleep_ms(5);
	r.physical_id = "subnet-0def";
	r.properties = NULL;
	r.n_dependencies = 0;
	r.status = STATE_TAINTED;
	r.status_reason = "create timed out";
	r.deletion_policy = NULL;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_resource_get(st, "Subnet", f->a, &got, &err), 1);
	assert_string_equal(got.created_at, created);
	assert_string_not_equal(got.updated_at, created);
	assert_string_equal(got.physical_id, "subnet-0def");
	assert_int_equal(got.status, STATE_TAINTED);
	assert_string_equal(got.status_reason, "create timed out");
	assert_int_equal(got.properties->kind, VALUE_MAP);
	assert_int_equal(got.properties->u.map.n, 0);
	assert_int_equal(got.n_dependencies, 0);
	assert_null(got.deletion_policy);
	assert_string_equal(got.update_replace_policy, "Snapshot");

	assert_int_equal(state_resource_set_status(st, "Subnet", STATE_DELETING,
						   NULL, &err),
			 0);
	assert_int_equal(state_resource_get(st, "Subnet", f->a, &got, &err), 1);
	assert_int_equal(got.status, STATE_DELETING);
	assert_int_equal(state_resource_set_status(st, "Nope", STATE_FAILED,
						   "x", &err),
			 -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);

	assert_int_equal(state_resource_get(st, "Missing", f->a, &got, &err), 0);
	r.logical_id = "Alpha";
	r.physical_id = NULL;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_resource_list(st, f->a, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].logical_id, "Alpha");
	assert_null(list[0].physical_id);
	assert_string_equal(list[1].logical_id, "Subnet");

	assert_int_equal(state_resource_delete(st, "Alpha", &err), 0);
	assert_int_equal(state_resource_get(st, "Alpha", f->a, &got, &err), 0);
	assert_int_equal(state_resource_delete(st, "Alpha", &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "\"Alpha\""));
	/* puts, status, put, delete: five changes after the first put */
	assert_int_equal(state_serial(st, &err), serial0 + 5);
	state_close(st);
}

static void test_stack_and_outputs(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_stack sk = { 0 }, got;
	struct state_output outs[2], *lo;
	size_t n;

	assert_int_equal(state_stack_get(st, f->a, &got, &err), 0);
	assert_string_equal(got.name, "");
	assert_int_equal(got.serial, 0);
	sk.name = "demo";
	sk.region = "eu-west-1";
	sk.account = "123456789012";
	sk.template_digest = "sha256:00";
	sk.parameters = json(f->a, "{\"Env\":\"prod\",\"Size\":2}");
	assert_int_equal(state_stack_put(st, &sk, &err), 0);
	assert_int_equal(state_stack_get(st, f->a, &got, &err), 0);
	assert_string_equal(got.name, "demo");
	assert_string_equal(got.region, "eu-west-1");
	assert_string_equal(got.account, "123456789012");
	assert_string_equal(got.template_digest, "sha256:00");
	assert_true(value_equal(got.parameters,
				json(f->a, "{\"Env\":\"prod\",\"Size\":2}")));
	assert_int_equal(got.serial, 1);

	outs[0].name = "VpcId";
	outs[0].value = value_new_string(f->a, "vpc-1");
	outs[0].description = "the VPC";
	outs[0].export_name = "demo-VpcId";
	outs[1].name = "Arn";
	outs[1].value = json(f->a, "[\"a\",\"b\"]");
	outs[1].description = NULL;
	outs[1].export_name = NULL;
	assert_int_equal(state_outputs_put(st, outs, 2, &err), 0);
	assert_int_equal(state_outputs_list(st, f->a, &lo, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(lo[0].name, "Arn");
	assert_null(lo[0].description);
	assert_true(value_equal(lo[0].value, json(f->a, "[\"a\",\"b\"]")));
	assert_string_equal(lo[1].name, "VpcId");
	assert_string_equal(value_str(lo[1].value), "vpc-1");
	assert_string_equal(lo[1].export_name, "demo-VpcId");
	/* put replaces the whole set */
	assert_int_equal(state_outputs_put(st, outs + 1, 1, &err), 0);
	assert_int_equal(state_outputs_list(st, f->a, &lo, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_serial(st, &err), 3);
	state_close(st);
}

/* ---- journal ------------------------------------------------------------ */

static void test_journal(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_intent in = { 0 };
	struct state_outcome out = { 0 };
	struct state_journal_entry *e;
	size_t n;
	int64_t i1, i2, serial;

	serial = state_serial(st, &err);
	in.logical_id = "Nat";
	in.resource_type = "AWS::EC2::NatGateway";
	in.action = "create";
	in.client_token = "tok-123";
	in.tags = json(f->a, "{\"cairn:stack\":\"demo\","
			     "\"cairn:logical-id\":\"Nat\"}");
	i1 = state_journal_intent(st, &in, &err);
	assert_true(i1 > 0);
	in.logical_id = "Vpc";
	in.action = "delete";
	in.client_token = NULL;
	in.tags = NULL;
	in.physical_id = "vpc-9";
	i2 = state_journal_intent(st, &in, &err);
	assert_true(i2 > i1);

	assert_int_equal(state_journal_open_intents(st, f->a, &e, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].id, i1);
	assert_string_equal(e[0].kind, "intent");
	assert_string_equal(e[0].client_token, "tok-123");
	assert_string_equal(value_str(value_map_get(e[0].tags, "cairn:stack")),
			    "demo");
	assert_null(e[0].result);
	assert_null(e[1].tags);
	assert_string_equal(e[1].physical_id, "vpc-9");

	out.ok = true;
	out.physical_id = "nat-0001";
	out.request_id = "req-abc";
	assert_int_equal(state_journal_outcome(st, i1, &out, &err), 0);
	assert_int_equal(state_journal_open_intents(st, f->a, &e, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].id, i2);
	/* one outcome per intent; outcomes only for intents that exist */
	assert_int_equal(state_journal_outcome(st, i1, &out, &err), -1);
	assert_int_equal(err.code, ERR_STATEDB);
	assert_int_equal(state_journal_outcome(st, 999, &out, &err), -1);
	assert_int_equal(err.code, ERR_STATEDB);

	out.ok = false;
	out.physical_id = NULL;
	out.error_code = "DependencyViolation";
	out.message = "has dependencies";
	assert_int_equal(state_journal_outcome(st, i2, &out, &err), 0);
	assert_int_equal(state_journal_event(st, "Vpc", "forget", "state rm",
					     &err),
			 0);
	assert_int_equal(state_journal_open_intents(st, f->a, &e, &n, &err), 0);
	assert_int_equal(n, 0);

	assert_int_equal(state_journal_list(st, NULL, 0, f->a, &e, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(e[2].kind, "outcome");
	assert_int_equal(e[2].intent_id, i1);
	assert_string_equal(e[2].logical_id, "Nat");
	assert_string_equal(e[2].action, "create");
	assert_string_equal(e[2].result, "ok");
	assert_string_equal(e[2].request_id, "req-abc");
	assert_string_equal(e[3].result, "error");
	assert_string_equal(e[3].error_code, "DependencyViolation");
	assert_int_equal(e[4].intent_id, 0);
	assert_string_equal(e[4].action, "forget");
	assert_int_equal(state_journal_list(st, "Vpc", 2, f->a, &e, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].kind, "outcome");
	assert_string_equal(e[1].action, "forget");
	/* the journal does not change the recorded state */
	assert_int_equal(state_serial(st, &err), serial);
	state_close(st);
	/* append-only, even for someone with sqlite3 */
	assert_int_not_equal(raw_exec(f->path, "DELETE FROM journal"), SQLITE_OK);
	assert_int_not_equal(raw_exec(f->path, "UPDATE journal SET action = 'x'"),
			     SQLITE_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal"), 5);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM open_intents"),
			 0);
}

/* state_group_begin/end: a record and its intent's outcome land in one
 * commit (one serial step for the record, none for the journal), and a
 * failed part rolls the whole group back: neither the record nor the
 * outcome stays. Groups nest. */
static void test_group(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_intent in = { 0 };
	struct state_outcome out = { 0 };
	struct state_resource r = { 0 }, got;
	struct state_journal_entry *e;
	size_t n;
	int64_t i1, serial;

	in.logical_id = "Logs";
	in.resource_type = "AWS::Logs::LogGroup";
	in.action = "create";
	i1 = state_journal_intent(st, &in, &err);
	assert_true(i1 > 0);
	serial = state_serial(st, &err);
	r.logical_id = "Logs";
	r.type = "AWS::Logs::LogGroup";
	r.physical_id = "g-1";
	r.status = STATE_CREATED;
	out.ok = true;
	out.physical_id = "g-1";

	/* a failing part (an outcome for an intent that does not exist) */
	assert_int_equal(state_group_begin(st, &err), 0);
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_journal_outcome(st, 999, &out, &err), -1);
	assert_int_equal(state_group_end(st, -1, NULL), -1);
	assert_int_equal(state_resource_get(st, "Logs", f->a, &got, &err), 0);
	assert_int_equal(state_serial(st, &err), serial);
	/* the caller ignoring a failed part still gets no commit */
	assert_int_equal(state_group_begin(st, &err), 0);
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_journal_outcome(st, 999, &out, &err), -1);
	assert_int_equal(state_group_end(st, 0, &err), -1);
	assert_int_equal(err.code, ERR_STATEDB);
	assert_int_equal(state_resource_get(st, "Logs", f->a, &got, &err), 0);

	/* nested groups, all parts fine: one commit at the outer end */
	assert_int_equal(state_group_begin(st, &err), 0);
	assert_int_equal(state_group_begin(st, &err), 0);
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_group_end(st, 0, &err), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources"), 0);
	assert_int_equal(state_journal_outcome(st, i1, &out, &err), 0);
	assert_int_equal(state_group_end(st, 0, &err), 0);
	assert_int_equal(state_resource_get(st, "Logs", f->a, &got, &err), 1);
	assert_string_equal(got.physical_id, "g-1");
	assert_int_equal(state_serial(st, &err), serial + 1);
	assert_int_equal(state_journal_open_intents(st, f->a, &e, &n, &err), 0);
	assert_int_equal(n, 0);
	state_close(st);
}

/* ---- secrets ------------------------------------------------------------ */

#define PLAINTEXT "hunter2-Pl41nText-5ecret"

static struct value *sensitive_str(struct arena *a, const char *s)
{
	struct value *v = value_new_string(a, s);
	v->sensitive = 1;
	return v;
}

static void read_key(const char *path, unsigned char key[32])
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT key FROM secret_key",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(s, 0), 32);
	memcpy(key, sqlite3_column_blob(s, 0), 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* A string holding dynamic references is stored as the fingerprint of its
 * template text with a "$dynref" mark, reads back with the dynref bit, and
 * is written back unchanged (not fingerprinted again). */
static void test_dynref_secrets(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_resource r = { 0 }, got, again;
	struct value *props = json(f->a, "{\"Name\":\"p\"}");
	struct value *lit = value_new_string(f->a, "x{{resolve:ssm:/a}}");
	const struct value *v;
	char *fp;

	lit->sensitive = 1;
	lit->dynref = 1;
	value_map_set(f->a, props, "Value", lit);
	r.logical_id = "P";
	r.type = "AWS::SSM::Parameter";
	r.properties = props;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_resource_get(st, "P", f->a, &got, &err), 1);
	v = value_map_get(got.properties, "Value");
	assert_true(state_value_is_secret(v));
	assert_true(v->dynref);
	fp = state_fingerprint(st, lit);
	assert_string_equal(value_str(v), fp);
	free(fp);
	/* the same reference is no change; another is */
	assert_true(state_value_equal(st, props, got.properties));
	lit = value_new_string(f->a, "x{{resolve:ssm:/b}}");
	lit->sensitive = lit->dynref = 1;
	value_map_set(f->a, props, "Value", lit);
	assert_false(state_value_equal(st, props, got.properties));
	/* written back as read: same fingerprint, still marked */
	r.properties = got.properties;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_resource_get(st, "P", f->a, &again, &err), 1);
	assert_string_equal(value_str(value_map_get(again.properties, "Value")),
			    value_str(v));
	assert_true(value_map_get(again.properties, "Value")->dynref);
	state_close(st);
}

static void test_secrets(void **state)
{
	struct fx *f = *state;
	struct state *st = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_resource r = { 0 }, got;
	struct state_stack sk = { 0 }, gsk;
	struct state_output o;
	struct value *props = json(f->a, "{\"Name\":\"db\",\"Nested\":[1,2]}");
	struct value *nested = value_map_get(props, "Nested");
	struct value *secret_list = json(f->a, "[\"" PLAINTEXT "-2\"]");
	struct value *sv;
	unsigned char key[32];
	char ref[65], wal[320], want[100];
	char *fp;

	value_map_set(f->a, props, "SecretString",
		      sensitive_str(f->a, PLAINTEXT));
	secret_list->sensitive = 1;
	value_list_push(f->a, nested, secret_list);
	r.logical_id = "Db";
	r.type = "AWS::SecretsManager::Secret";
	r.properties = props;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	sk.name = "demo";
	sk.parameters = json(f->a, "{\"Env\":\"prod\"}");
	value_map_set(f->a, sk.parameters, "DbPassword",
		      sensitive_str(f->a, PLAINTEXT "-param"));
	assert_int_equal(state_stack_put(st, &sk, &err), 0);
	o.name = "Password";
	o.value = sensitive_str(f->a, PLAINTEXT "-output");
	o.description = NULL;
	o.export_name = NULL;
	assert_int_equal(state_outputs_put(st, &o, 1, &err), 0);

	/* fingerprint = HMAC-SHA256(key, canonical JSON), checked against
	 * OpenSSL directly with the key read by plain sqlite */
	read_key(f->path, key);
	hmac_ref_hex(key, 32, "\"" PLAINTEXT "\"", strlen(PLAINTEXT) + 2, ref);
	snprintf(want, sizeof(want), "hmac-sha256:%s", ref);
	fp = state_fingerprint(st, sensitive_str(f->a, PLAINTEXT));
	assert_string_equal(fp, want);
	free(fp);
	assert_null(state_fingerprint(st, value_new_unknown(f->a, "X.Y")));

	assert_int_equal(state_resource_get(st, "Db", f->a, &got, &err), 1);
	sv = value_map_get(got.properties, "SecretString");
	assert_true(state_value_is_secret(sv));
	assert_string_equal(value_str(sv), want);
	assert_false(state_value_is_secret(value_map_get(got.properties,
							 "Name")));
	/* the plan's question: did the desired value change? */
	assert_true(state_value_equal(st, props, got.properties));
	value_map_set(f->a, props, "SecretString",
		      sensitive_str(f->a, PLAINTEXT "x"));
	assert_false(state_value_equal(st, props, got.properties));
	value_map_set(f->a, props, "SecretString",
		      value_new_unknown(f->a, "Gen.Password"));
	assert_false(state_value_equal(st, props, got.properties));
	assert_true(state_value_is_secret(
		value_get_path(got.properties, "Nested[2]")));
	/* rendering with redaction hides even the fingerprint */
	{
		struct strbuf sb = STRBUF_INIT;
		value_to_json(got.properties, &sb, VALUE_JSON_REDACT);
		assert_null(strstr(sb.buf, "hmac-sha256"));
		assert_non_null(strstr(sb.buf, "(sensitive)"));
		strbuf_release(&sb);
	}
	assert_int_equal(state_stack_get(st, f->a, &gsk, &err), 0);
	assert_true(state_value_is_secret(value_map_get(gsk.parameters,
							"DbPassword")));
	assert_string_equal(value_str(value_map_get(gsk.parameters, "Env")),
			    "prod");

	/* while open (WAL holds the recent pages) and after close */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_false(file_contains(wal, PLAINTEXT));
	assert_false(file_contains(f->path, PLAINTEXT));
	assert_true(file_contains(wal, "hmac-sha256:") ||
		    file_contains(f->path, "hmac-sha256:"));
	state_close(st);
	assert_false(file_contains(f->path, PLAINTEXT));
	assert_false(file_contains(wal, PLAINTEXT));
	assert_false(file_contains(f->path, "hunter2"));
}

/* The raw listing keeps properties and attributes as JSON text; decoding
 * gives what the plain listing gives (secrets as fingerprints), and a
 * damaged row is named when decoded, not when listed. */
static void test_raw_list_decodes_like_list(void **state)
{
	struct fx *f = *state;
	struct err err = ERR_INIT;
	struct state *st = must_open(f->path);
	struct state_resource r = { 0 }, *list, *raw;
	struct value *props = json(f->a, "{\"Name\":\"db\",\"N\":[1,2]}");
	struct value *p, *at;
	size_t n, nraw;

	value_map_set(f->a, props, "SecretString",
		      sensitive_str(f->a, PLAINTEXT));
	r.logical_id = "Db";
	r.type = "AWS::SecretsManager::Secret";
	r.physical_id = "arn:db";
	r.properties = props;
	r.attributes = json(f->a, "{\"Arn\":\"arn:db\"}");
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	r.logical_id = "Broken";
	r.type = "AWS::EC2::VPC";
	r.properties = NULL;
	r.attributes = NULL;
	assert_int_equal(state_resource_put(st, &r, &err), 0);
	assert_int_equal(state_resource_list(st, f->a, &list, &n, &err), 0);
	assert_int_equal(state_resource_list_raw(st, f->a, &raw, &nraw, &err), 0);
	assert_int_equal(nraw, n);
	assert_string_equal(raw[1].logical_id, "Db");
	assert_null(raw[1].properties);
	assert_null(raw[1].attributes);
	assert_non_null(raw[1].properties_json);
	/* the secret's plaintext is not in the text either */
	assert_null(strstr(raw[1].properties_json, PLAINTEXT));
	assert_int_equal(state_resource_decode(st, f->a, &raw[1], &p, &at, &err), 0);
	assert_true(value_equal(p, list[1].properties));
	assert_true(value_equal(at, list[1].attributes));
	assert_true(value_map_get(p, "SecretString")->sensitive);
	/* a decoded record decodes to itself */
	assert_int_equal(state_resource_decode(st, f->a, &list[1], &p, &at, &err), 0);
	assert_ptr_equal(p, list[1].properties);

	assert_int_equal(raw_exec(f->path, "UPDATE resources SET attributes = "
					   "'{\"a\":' WHERE logical_id = 'Broken'"),
			 SQLITE_OK);
	assert_int_equal(state_resource_list_raw(st, f->a, &raw, &nraw, &err), 0);
	assert_string_equal(raw[0].logical_id, "Broken");
	assert_int_equal(state_resource_decode(st, f->a, &raw[0], &p, &at, &err), -1);
	assert_non_null(strstr(err.msg, "resource \"Broken\""));
	assert_non_null(strstr(err.msg, f->path));
	state_close(st);
}

static void test_fingerprints_differ_across_states(void **state)
{
	struct fx *f = *state;
	char other[320];
	struct state *a, *b;
	struct value *v = sensitive_str(f->a, PLAINTEXT);
	char *fa, *fb, *fa2;

	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	a = must_open(f->path);
	b = must_open(other);
	fa = state_fingerprint(a, v);
	fb = state_fingerprint(b, v);
	assert_string_not_equal(fa, fb);
	state_close(a);
	/* the key persists: same fingerprint after reopening */
	a = must_open(f->path);
	fa2 = state_fingerprint(a, v);
	assert_string_equal(fa, fa2);
	/* numbers fingerprint by value, as value_equal compares them */
	{
		char *x = state_fingerprint(a, json(f->a, "{\"n\":10}"));
		char *y = state_fingerprint(a, json(f->a, "{\"n\":10.0}"));
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	free(fa);
	free(fb);
	free(fa2);
	state_close(a);
	state_close(b);
}

static void test_digest(void **state)
{
	/* FIPS 180-2 test vector */
	char *d = state_digest("abc", 3);
	(void)state;
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
			       "96177a9cb410ff61f20015ad");
	free(d);
}

/* ---- locks ------------------------------------------------------------- */

static void test_lock_contention_two_processes(void **state)
{
	struct fx *f = *state;
	int ready[2], go[2];
	pid_t child;
	char c = 0, lock_id[64] = "";
	struct state *st;
	struct err err = ERR_INIT;
	struct state_lock_opts lo = { 0 };
	struct state_lock_info li;
	int status;
	int64_t t0;

	state_close(must_open(f->path));
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		alarm(60); /* never outlive a failed parent */
		struct err e = ERR_INIT;
		struct state *cs = state_open(f->path, 0, &e);
		struct state_lock_opts co = { 0, 0, "cairn apply child.yaml" };
		char ok = 'k';

		if (!cs || state_lock_acquire(cs, &co, &e))
			ok = 'x';
		if (write(ready[1], &ok, 1) != 1)
			_exit(3);
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		state_close(cs); /* releases the lock */
		_exit(ok == 'k' ? 0 : 2);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'k');

	st = must_open(f->path);
	assert_int_equal(state_lock_get(st, f->a, &li, &err), 1);
	assert_int_equal(li.pid, (long)child);
	snprintf(lock_id, sizeof(lock_id), "%s", li.lock_id);
	lo.command = "cairn state rm X";
	assert_int_equal(state_lock_acquire(st, &lo, &err), -1);
	assert_int_equal(err.code, ERR_LOCKED);
	{
		char pid[32];
		snprintf(pid, sizeof(pid), "pid %ld", (long)child);
		assert_non_null(strstr(err.msg, pid));
	}
	assert_non_null(strstr(err.msg, "cairn apply child.yaml"));
	assert_non_null(strstr(err.msg, lock_id));
	assert_non_null(strstr(err.msg, li.user));
	assert_non_null(strstr(err.msg, li.host));
	assert_non_null(strstr(err.msg, li.acquired_at));
	assert_null(state_lock_id(st));

	/* a waiting acquire succeeds once the child lets go */
	t0 = now_ms();
	assert_int_equal(write(go[1], "g", 1), 1);
	lo.wait = 10;
	assert_int_equal(state_lock_acquire(st, &lo, &err), 0);
	assert_true(now_ms() - t0 < 9000);
	assert_non_null(state_lock_id(st));
	assert_string_not_equal(state_lock_id(st), lock_id);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* a waiting acquire gives up after its timeout */
	{
		struct state *st2 = must_open(f->path);
		struct state_lock_opts lo2 = { 0.3, 0, "second" };
		t0 = now_ms();
		assert_int_equal(state_lock_acquire(st2, &lo2, &err), -1);
		assert_int_equal(err.code, ERR_LOCKED);
		assert_true(now_ms() - t0 >= 250);
		assert_non_null(strstr(err.msg, "gave up waiting"));
		state_close(st2);
	}
	state_close(st);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

static void test_lease_expiry_and_lost_lock(void **state)
{
	struct fx *f = *state;
	struct state *a = must_open(f->path), *b = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_lock_opts la = { 0, 1.0, "holder" };
	struct state_lock_opts lb = { 0, 0, "taker" };
	struct state_resource r = { 0 };
	struct state_lock_info li;

	r.logical_id = "Vpc";
	r.type = "AWS::EC2::VPC";
	assert_int_equal(state_lock_acquire(a, &la, &err), 0);
	assert_int_equal(state_lock_acquire(b, &lb, &err), -1);
	assert_int_equal(err.code, ERR_LOCKED);
	sleep_ms(1200);
	assert_int_equal(state_lock_get(b, f->a, &li, &err), 1);
	assert_true(li.expired);
	assert_int_equal(state_lock_acquire(b, &lb, &err), 0);
	/* a no longer holds it: its writes and renewals are refused */
	assert_int_equal(state_resource_put(a, &r, &err), -1);
	assert_int_equal(err.code, ERR_LOCKED);
	assert_int_equal(state_lock_renew(a, &err), -1);
	assert_int_equal(err.code, ERR_LOCKED);
	assert_int_equal(state_resource_put(b, &r, &err), 0);
	assert_int_equal(state_lock_release(a, &err), 0);
	/* a's release did not drop b's lock */
	assert_int_equal(state_lock_get(b, f->a, &li, &err), 1);
	assert_string_equal(li.lock_id, state_lock_id(b));
	state_close(a);
	state_close(b);
}

static void test_lease_renewed_by_writes(void **state)
{
	struct fx *f = *state;
	struct state *a = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_lock_opts lo = { 0, 2.0, "holder" };
	struct state_resource r = { 0 };
	struct state_lock_info li;
	char first[40];

	r.logical_id = "Vpc";
	r.type = "AWS::EC2::VPC";
	assert_int_equal(state_lock_acquire(a, &lo, &err), 0);
	assert_int_equal(state_lock_get(a, f->a, &li, &err), 1);
	snprintf(first, sizeof(first), "%s", li.expires_at);
	/* a write before half the lease leaves it alone */
	assert_int_equal(state_resource_put(a, &r, &err), 0);
	assert_int_equal(state_lock_get(a, f->a, &li, &err), 1);
	assert_string_equal(li.expires_at, first);
	sleep_ms(1200);
	assert_int_equal(state_resource_put(a, &r, &err), 0);
	assert_int_equal(state_lock_get(a, f->a, &li, &err), 1);
	assert_true(strcmp(li.expires_at, first) > 0);
	sleep_ms(1200);
	/* past the first expiry, still ours thanks to the write */
	assert_int_equal(state_lock_get(a, f->a, &li, &err), 1);
	assert_false(li.expired);
	assert_int_equal(state_lock_renew(a, &err), 0);
	state_close(a);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lock"), 0);
}

static void test_dead_holder_taken_over(void **state)
{
	struct fx *f = *state;
	struct state *st;
	struct err err = ERR_INIT;
	struct state_lock_opts lo = { 0, 0, "after crash" };
	pid_t child;
	int status;

	state_close(must_open(f->path));
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		alarm(60); /* never outlive a failed parent */
		struct err e = ERR_INIT;
		struct state *cs = state_open(f->path, 0, &e);
		struct state_lock_opts co = { 0, 3600, "crashing" };
		if (!cs || state_lock_acquire(cs, &co, &e))
			_exit(2);
		kill(getpid(), SIGKILL); /* as kill -9 would */
		_exit(3);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lock"), 1);
	st = must_open(f->path);
	assert_int_equal(state_lock_acquire(st, &lo, &err), 0);
	state_close(st);
}

static void test_force_unlock(void **state)
{
	struct fx *f = *state;
	struct state *a = must_open(f->path), *b = must_open(f->path);
	struct err err = ERR_INIT;
	struct state_lock_opts lo = { 0, 0, "holder" };
	struct state_resource r = { 0 };
	char id[64];

	assert_int_equal(state_force_unlock(b, "0123", &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "not locked"));
	assert_int_equal(state_lock_acquire(a, &lo, &err), 0);
	snprintf(id, sizeof(id), "%s", state_lock_id(a));
	assert_int_equal(state_force_unlock(b, "0123456789abcdef", &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_null(strstr(err.msg, id));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lock"), 1);
	assert_int_equal(state_force_unlock(b, id, &err), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM lock"), 0);
	r.logical_id = "Vpc";
	r.type = "AWS::EC2::VPC";
	assert_int_equal(state_resource_put(a, &r, &err), -1);
	assert_int_equal(err.code, ERR_LOCKED);
	assert_non_null(strstr(err.msg, "broken"));
	state_close(a);
	state_close(b);
}

/* ---- crashes and concurrency -------------------------------------------- */

/* A child writes intent, resource, outcome in a loop and reports each
 * confirmed write; it is killed with SIGKILL mid-way. Every write it was
 * told had succeeded must be there, and the call in flight must show as
 * an open intent. */
static void test_kill9_loses_nothing_confirmed(void **state)
{
	struct fx *f = *state;
	int p[2], status;
	pid_t child;
	int last = -1, got = 0, v;
	struct state *st;
	struct err err = ERR_INIT;
	struct state_journal_entry *e;
	size_t n;
	int i;

	state_close(must_open(f->path));
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		alarm(60); /* never outlive a failed parent */
		struct err ce = ERR_INIT;
		struct state *cs = state_open(f->path, 0, &ce);
		struct state_lock_opts lo = { 0, 0, "crasher" };
		struct arena *ca = arena_new();
		char id[32];

		close(p[0]);
		if (!cs || state_lock_acquire(cs, &lo, &ce))
			_exit(2);
		for (i = 0; i < 1000000; i++) {
			struct state_intent in = { 0 };
			struct state_outcome oc = { 0 };
			struct state_resource r = { 0 };
			int64_t jid;

			snprintf(id, sizeof(id), "R%07d", i);
			in.logical_id = id;
			in.action = "create";
			in.client_token = id;
			r.logical_id = id;
			r.type = "AWS::EC2::Subnet";
			r.physical_id = id;
			r.properties = value_new_map(ca);
			oc.ok = true;
			if ((jid = state_journal_intent(cs, &in, &ce)) < 0 ||
			    state_resource_put(cs, &r, &ce) ||
			    state_journal_outcome(cs, jid, &oc, &ce))
				_exit(3);
			if (write(p[1], &i, sizeof(i)) != sizeof(i))
				_exit(4);
		}
		_exit(5);
	}
	close(p[1]);
	while (read(p[0], &v, sizeof(v)) == sizeof(v)) {
		last = v;
		if (++got == 150)
			kill(child, SIGKILL);
	}
	close(p[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_true(last >= 149);

	st = must_open(f->path);
	for (i = 0; i <= last; i++) {
		char id[32];
		struct state_resource r;
		snprintf(id, sizeof(id), "R%07d", i);
		assert_int_equal(state_resource_get(st, id, f->a, &r, &err), 1);
		assert_string_equal(r.physical_id, id);
	}
	assert_int_equal(state_journal_open_intents(st, f->a, &e, &n, &err), 0);
	assert_true(n <= 1);
	if (n == 1) {
		char id[32];
		snprintf(id, sizeof(id), "R%07d", last + 1);
		assert_string_equal(e[0].logical_id, id);
		assert_string_equal(e[0].client_token, id);
	}
	state_close(st);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM "
					  "pragma_integrity_check WHERE "
					  "integrity_check = 'ok'"),
			 1);
}

/* Several processes creating the same fresh state at once: one schema, one
 * key, every write kept. */
static void test_concurrent_create(void **state)
{
	struct fx *f = *state;
	int gate[2], i, status;
	pid_t kids[4];

	assert_int_equal(pipe(gate), 0);
	for (i = 0; i < 4; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			alarm(60);
			struct err ce = ERR_INIT;
			struct state *cs;
			struct state_resource r = { 0 };
			char c, id[16];

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0)
				_exit(6);
			cs = state_open(f->path, STATE_OPEN_CREATE, &ce);
			snprintf(id, sizeof(id), "Kid%d", i);
			r.logical_id = id;
			r.type = "AWS::EC2::VPC";
			if (!cs || state_resource_put(cs, &r, &ce)) {
				fprintf(stderr, "kid %d: %s\n", i, ce.msg);
				_exit(2);
			}
			state_close(cs);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]); /* releases every child at once */
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM secret_key"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources"), 4);
	assert_int_equal(raw_int(f->path, "SELECT serial FROM stack"), 4);
}

/* ---- scale ---------------------------------------------------------------- */

static void test_many_resources(void **state)
{
	struct fx *f = *state;
	struct state *st = state_open(f->path,
				      STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL,
				      NULL);
	struct err err = ERR_INIT;
	struct state_resource r = { 0 }, *list;
	size_t n, i;
	char id[32];

	assert_non_null(st);
	r.type = "AWS::EC2::Subnet";
	r.properties = json(f->a, "{\"CidrBlock\":\"10.0.0.0/24\"}");
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "R%04zu", i);
		r.logical_id = id;
		assert_int_equal(state_resource_put(st, &r, &err), 0);
	}
	assert_int_equal(state_resource_list(st, f->a, &list, &n, &err), 0);
	assert_int_equal(n, 300);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "R%04zu", i);
		assert_string_equal(list[i].logical_id, id);
	}
	state_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_create_mode_and_settings),
		T(test_open_missing),
		T(test_not_a_state),
		T(test_newer_schema_refused),
		T(test_migrations_from_each_version),
		T(test_failed_migration_rolls_back),
		T(test_damaged_key_refused),
		T(test_damaged_row_named),
	T(test_raw_list_decodes_like_list),
		T(test_resource_roundtrip),
		T(test_stack_and_outputs),
		T(test_journal),
		T(test_group),
		T(test_secrets),
		T(test_dynref_secrets),
		T(test_fingerprints_differ_across_states),
		T(test_digest),
		T(test_lock_contention_two_processes),
		T(test_lease_expiry_and_lost_lock),
		T(test_lease_renewed_by_writes),
		T(test_dead_holder_taken_over),
		T(test_force_unlock),
		T(test_kill9_loses_nothing_confirmed),
		T(test_concurrent_create),
		T(test_many_resources),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
