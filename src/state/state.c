/*
 * Opening a state: file creation with mode 0600, connection settings,
 * migrations, the statement cache and transactions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "state_internal.h"

/* How long a statement waits for another process's write transaction.
 * Our transactions last milliseconds; this only absorbs contention. */
#define STATE_BUSY_TIMEOUT_MS 10000

int state_sqlerr(struct state *st, struct err *err, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db) & 0xff;
	const char *msg = sqlite3_errmsg(st->db);
	enum err_code code = ERR_STATEDB;

	switch (rc) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = ERR_TIMEOUT;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		code = ERR_IO;
		break;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return err_set(err, ERR_STATEDB,
			       "state '%s': %s: not a valid cairn state "
			       "database (%s)",
			       st->path, what, msg);
	default:
		break;
	}
	return err_set(err, code, "state '%s': %s: %s", st->path, what, msg);
}

sqlite3_stmt *state_stmt(struct state *st, const char *sql, struct err *err)
{
	size_t i;
	sqlite3_stmt *s = NULL;

	for (i = 0; i < st->n_cache; i++) {
		if (st->cache[i].sql == sql || !strcmp(st->cache[i].sql, sql)) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
			       NULL) != SQLITE_OK) {
		state_sqlerr(st, err, "preparing a query");
		return NULL;
	}
	if (st->n_cache < sizeof(st->cache) / sizeof(st->cache[0])) {
		st->cache[st->n_cache].sql = sql;
		st->cache[st->n_cache].stmt = s;
		st->n_cache++;
		return s;
	}
	/* cache full: a programming error (too many distinct queries) */
	sqlite3_finalize(s);
	err_set(err, ERR_INTERNAL, "state statement cache is full");
	return NULL;
}

int64_t state_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void state_format_time(int64_t ms, char *buf, size_t len)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int64_t state_parse_time(const char *text)
{
	struct tm tm;
	int msec = 0, n = 0;

	if (!text)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year,
		   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &msec, &n) != 7 ||
	    text[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + msec;
}

const char *state_col_str(struct arena *a, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	if (!t)
		return NULL;
	return arena_strndup(a, (const char *)t,
			     (size_t)sqlite3_column_bytes(s, col));
}

int state_bind_str(sqlite3_stmt *s, int idx, const char *v)
{
	if (!v)
		return sqlite3_bind_null(s, idx);
	return sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);
}

static int exec_sql(struct state *st, const char *sql, struct err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, sql);
	return 0;
}

static int step_done(struct state *st, sqlite3_stmt *s, const char *what,
		     struct err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return state_sqlerr(st, err, what);
	return 0;
}

/* With a lock held: the row must still be ours; extend a half-spent lease. */
static int check_lock(struct state *st, struct err *err)
{
	sqlite3_stmt *s;
	int64_t now = state_now_ms(), until;
	int rc;

	s = state_stmt(st, "SELECT expires_at FROM lock WHERE lock_id = ?1",
		       err);
	if (!s)
		return -1;
	state_bind_str(s, 1, st->lock_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return err_set(err, ERR_LOCKED,
			       "state '%s': the lock %s held by this command "
			       "was broken or taken over; refusing to write",
			       st->path, st->lock_id);
	if (rc != SQLITE_ROW)
		return state_sqlerr(st, err, "checking the lock");
	if (now < st->lease_until_ms - (int64_t)(st->lease * 500.0))
		return 0;
	{
		char buf[40];

		until = now + (int64_t)(st->lease * 1000.0);
		state_format_time(until, buf, sizeof(buf));
		s = state_stmt(st,
			       "UPDATE lock SET expires_at = ?1 "
			       "WHERE lock_id = ?2",
			       err);
		if (!s)
			return -1;
		state_bind_str(s, 1, buf);
		state_bind_str(s, 2, st->lock_id);
		if (step_done(st, s, "renewing the lock", err))
			return -1;
		st->lease_until_ms = until;
	}
	return 0;
}

int state_tx_begin(struct state *st, struct err *err)
{
	sqlite3_stmt *s;

	if (st->tx_depth > 0) {
		st->tx_depth++;
		return 0;
	}
	s = state_stmt(st, "BEGIN IMMEDIATE", err);
	if (!s)
		return -1;
	if (step_done(st, s, "starting a transaction", err))
		return -1;
	st->tx_depth = 1;
	st->tx_failed = 0;
	if (st->lock_id && check_lock(st, err)) {
		state_tx_end(st, -1, NULL);
		return -1;
	}
	return 0;
}

int state_tx_end(struct state *st, int rc, struct err *err)
{
	sqlite3_stmt *s;

	if (st->tx_depth > 1) {
		st->tx_depth--;
		if (rc)
			st->tx_failed = 1;
		return rc;
	}
	st->tx_depth = 0;
	if (st->tx_failed && rc == 0) {
		rc = err_set(err, ERR_STATEDB, "a part of the state write "
						"failed; nothing of it was kept");
	}
	st->tx_failed = 0;
	if (rc == 0) {
		s = state_stmt(st, "COMMIT", err);
		if (s && !step_done(st, s, "committing", err))
			return 0;
		/* a failed COMMIT may leave the transaction open */
		rc = -1;
	}
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int state_group_begin(struct state *st, struct err *err)
{
	return state_tx_begin(st, err);
}

int state_group_end(struct state *st, int rc, struct err *err)
{
	return state_tx_end(st, rc, err);
}

int state_bump_serial(struct state *st, struct err *err)
{
	char now[40];
	sqlite3_stmt *s = state_stmt(st,
				     "UPDATE stack SET serial = serial + 1, "
				     "updated_at = ?1 WHERE id = 1",
				     err);

	if (!s)
		return -1;
	state_format_time(state_now_ms(), now, sizeof(now));
	state_bind_str(s, 1, now);
	return step_done(st, s, "bumping the serial", err);
}

/* mkdir -p of path's parent directory, mode 0700 for what it creates */
static int make_parent(const char *path, struct err *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char *p;

	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (p = dir + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0700) && errno != EEXIST) {
				err_set(err, ERR_IO,
					"cannot create directory '%s': %s",
					dir, strerror(errno));
				free(dir);
				return -1;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(dir);
	return 0;
}

static int create_file(const char *path, struct err *err)
{
	int fd;

	/* the mode is set at creation so the file is never readable by
	 * others, not even for an instant; sqlite gives -wal and -shm the
	 * same mode */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return err_set(err, ERR_IO, "cannot create state '%s': %s",
			       path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

static struct state *open_impl(const char *path, int flags, int target,
			       struct err *err);

static void unlink_db(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	unlink(path);
	strbuf_addstr(&sb, path);
	strbuf_addstr(&sb, "-wal");
	unlink(sb.buf);
	strbuf_setlen(&sb, strlen(path));
	strbuf_addstr(&sb, "-shm");
	unlink(sb.buf);
	strbuf_release(&sb);
}

/*
 * Creates path as a complete, migrated state. Two processes creating the
 * same state at once must not see each other's half-made file (switching a
 * fresh file to WAL while another process reads it fails with "database is
 * locked" or an I/O error), so the state is built under a private name and
 * link()ed into place: link never replaces, so the first one wins and the
 * others open the winner's file.
 */
static int create_state(const char *path, int flags, int target,
			struct err *err)
{
	struct strbuf tmp = STRBUF_INIT;
	struct state *st;
	int rc = 0;

	if (make_parent(path, err))
		return -1;
	strbuf_addf(&tmp, "%s.init-%ld-%lld", path, (long)getpid(),
		    (long long)state_now_ms());
	if (create_file(tmp.buf, err)) {
		strbuf_release(&tmp);
		return -1;
	}
	st = open_impl(tmp.buf, flags & ~STATE_OPEN_CREATE, target, err);
	if (!st) {
		unlink_db(tmp.buf);
		strbuf_release(&tmp);
		return err_prefix(err, "creating state '%s': ", path);
	}
	state_close(st);
	if (link(tmp.buf, path) && errno != EEXIST) {
		if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP) {
			/* no hard links here: fall back to an empty file that
			 * the open below initialises in place */
			rc = create_file(path, err);
		} else {
			rc = err_set(err, ERR_IO, "cannot create state '%s': %s",
				     path, strerror(errno));
		}
	}
	unlink_db(tmp.buf);
	strbuf_release(&tmp);
	return rc;
}

static int pragma_int(struct state *st, const char *sql, int *out,
		      struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return state_sqlerr(st, err, sql);
	return 0;
}

static int configure(struct state *st, int flags, struct err *err)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int ok, rc, tries;

	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* before anything writes: never touch someone else's database */
	if (state_check_identity(st, err))
		return -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
			       NULL) != SQLITE_OK)
		return state_sqlerr(st, err, "opening");
	/* switching an empty file to WAL does not wait on the busy handler */
	for (tries = 0; (rc = sqlite3_step(s)) == SQLITE_BUSY && tries < 100;
	     tries++) {
		struct timespec ts = { 0, 50 * 1000000L };
		sqlite3_reset(s);
		nanosleep(&ts, NULL);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return state_sqlerr(st, err, "switching to WAL");
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	ok = mode && !strcmp(mode, "wal");
	sqlite3_finalize(s);
	if (!ok)
		return err_set(err, ERR_STATEDB,
			       "state '%s': cannot use WAL mode (is the file "
			       "on a network filesystem?)",
			       st->path);
	if (exec_sql(st, "PRAGMA foreign_keys = ON", err))
		return -1;
	return exec_sql(st,
			(flags & STATE_OPEN_SYNC_NORMAL)
				? "PRAGMA synchronous = NORMAL"
				: "PRAGMA synchronous = FULL",
			err);
}

static struct state *open_impl(const char *path, int flags, int target,
			       struct err *err)
{
	struct state *st;
	struct stat sb;

	if (!path || !*path) {
		err_set(err, ERR_USAGE, "no state path given");
		return NULL;
	}
	if (stat(path, &sb)) {
		if (errno != ENOENT) {
			err_set(err, ERR_IO, "cannot open state '%s': %s",
				path, strerror(errno));
			return NULL;
		}
		if (!(flags & STATE_OPEN_CREATE)) {
			err_set(err, ERR_NOT_FOUND, "no state found at '%s'",
				path);
			return NULL;
		}
		if (create_state(path, flags, target, err))
			return NULL;
	} else if (!S_ISREG(sb.st_mode)) {
		err_set(err, ERR_STATEDB, "state '%s' is not a regular file",
			path);
		return NULL;
	} else if (sb.st_mode & 077) {
		log_msg(LOG_WARN,
			"state '%s' is readable by other users (mode %03o); "
			"chmod 600 it",
			path, (unsigned)(sb.st_mode & 0777));
	}

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		if (!st->db) {
			err_set(err, ERR_IO, "cannot open state '%s'", path);
		} else {
			state_sqlerr(st, err, "opening");
		}
		state_close(st);
		return NULL;
	}
	if (configure(st, flags, err) || state_migrate(st, target, err)) {
		state_close(st);
		return NULL;
	}
	if (target >= 1 && state_load_key(st, err)) {
		state_close(st);
		return NULL;
	}
	log_debug("state '%s' open (schema %d)", path, target);
	return st;
}

struct state *state_open(const char *path, int flags, struct err *err)
{
	return open_impl(path, flags, STATE_SCHEMA_VERSION, err);
}

struct state *state_open_at_version(const char *path, int flags, int version,
				    struct err *err)
{
	return open_impl(path, flags, version, err);
}

int state_schema_version(struct state *st)
{
	int v = -1;

	if (pragma_int(st, "PRAGMA user_version", &v, NULL))
		return -1;
	return v;
}

void state_close(struct state *st)
{
	size_t i;

	if (!st)
		return;
	if (st->lock_id) {
		struct err e = ERR_INIT;
		if (state_lock_release(st, &e))
			log_msg(LOG_WARN, "%s", e.msg);
	}
	for (i = 0; i < st->n_cache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	/* closing the last connection checkpoints the WAL into the file */
	if (st->db)
		sqlite3_close(st->db);
	OPENSSL_cleanse(st->key, sizeof(st->key));
	free(st->lock_id);
	free(st->path);
	free(st);
}

const char *state_path(const struct state *st)
{
	return st->path;
}
