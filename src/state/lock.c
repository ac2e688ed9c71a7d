/*
 * The state lock: one row with a random id, the holder's identity and a
 * lease. SQLite's own locking makes each check-and-take atomic
 * (BEGIN IMMEDIATE); the row makes the lock outlive a transaction and say
 * who holds it.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "state_internal.h"

/* how often a waiting process looks at the lock again */
#define LOCK_POLL_MS 200

static void current_user(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	const char *env;

	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res &&
	    res->pw_name) {
		snprintf(buf, len, "%s", res->pw_name);
		return;
	}
	env = getenv("USER");
	snprintf(buf, len, "%s", env && *env ? env : "unknown");
}

static void current_host(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0)
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
}

static int new_lock_id(char *buf, size_t len, struct err *err)
{
	unsigned char b[8];
	size_t i;

	if (RAND_bytes(b, (int)sizeof(b)) != 1)
		return err_set(err, ERR_INTERNAL, "cannot draw a random lock id");
	for (i = 0; i < sizeof(b) && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int read_lock(struct state *st, struct arena *a,
		     struct state_lock_info *out, struct err *err)
{
	sqlite3_stmt *s = state_stmt(st,
				     "SELECT lock_id, holder_user, host, pid, "
				     "command, acquired_at, expires_at FROM "
				     "lock WHERE slot = 1",
				     err);
	int rc;
	int64_t until;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return state_sqlerr(st, err, "reading the lock");
	}
	out->lock_id = state_col_str(a, s, 0);
	out->user = state_col_str(a, s, 1);
	out->host = state_col_str(a, s, 2);
	out->pid = (long)sqlite3_column_int64(s, 3);
	out->command = state_col_str(a, s, 4);
	out->acquired_at = state_col_str(a, s, 5);
	out->expires_at = state_col_str(a, s, 6);
	sqlite3_reset(s);
	until = state_parse_time(out->expires_at);
	/* an unreadable expiry counts as expired: it cannot be honoured */
	out->expired = until < 0 || state_now_ms() >= until;
	return 1;
}

int state_lock_get(struct state *st, struct arena *a,
		   struct state_lock_info *out, struct err *err)
{
	return read_lock(st, a, out, err);
}

/* Held by a process of this host that no longer exists (a crash)? */
static bool holder_is_dead(const struct state_lock_info *li)
{
	char host[256];

	current_host(host, sizeof(host));
	if (strcmp(host, li->host) || li->pid <= 0 || li->pid == (long)getpid())
		return false;
	return kill((pid_t)li->pid, 0) != 0 && errno == ESRCH;
}

static void describe_holder(const struct state_lock_info *li,
			    struct strbuf *sb)
{
	strbuf_addf(sb, "%s@%s (pid %ld, \"%s\") since %s", li->user, li->host,
		    li->pid, li->command, li->acquired_at);
}

static int begin(struct state *st, struct err *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return state_sqlerr(st, err, "locking");
	return 0;
}

static int commit(struct state *st, int rc, struct err *err)
{
	if (rc == 0 &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = state_sqlerr(st, err, "locking");
	if (rc && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* One attempt: 1 taken, 0 held by someone else (described in *li), -1. */
static int try_take(struct state *st, struct arena *a, const char *id,
		    double lease, const char *command,
		    struct state_lock_info *li, struct err *err)
{
	char user[256], host[256], now_s[40], until_s[40];
	int64_t now = state_now_ms(), until;
	sqlite3_stmt *s;
	int rc, held;

	if (begin(st, err))
		return -1;
	held = read_lock(st, a, li, err);
	if (held < 0)
		return commit(st, -1, err);
	if (held == 1) {
		bool dead = holder_is_dead(li);

		if (!li->expired && !dead) {
			commit(st, -1, NULL); /* just ends the transaction */
			return 0;
		}
		{
			struct strbuf sb = STRBUF_INIT;
			describe_holder(li, &sb);
			log_msg(LOG_WARN,
				"state '%s': taking over the lock %s of %s: %s",
				st->path, li->lock_id, sb.buf,
				dead ? "that process no longer exists"
				     : "its lease has expired");
			strbuf_release(&sb);
		}
	}
	current_user(user, sizeof(user));
	current_host(host, sizeof(host));
	until = now + (int64_t)(lease * 1000.0);
	state_format_time(now, now_s, sizeof(now_s));
	state_format_time(until, until_s, sizeof(until_s));
	s = state_stmt(st,
		       "INSERT OR REPLACE INTO lock (slot, lock_id, holder_user, "
		       "host, pid, command, acquired_at, expires_at) VALUES "
		       "(1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		       err);
	if (!s)
		return commit(st, -1, err);
	state_bind_str(s, 1, id);
	state_bind_str(s, 2, user);
	state_bind_str(s, 3, host);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)getpid());
	state_bind_str(s, 5, command);
	state_bind_str(s, 6, now_s);
	state_bind_str(s, 7, until_s);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return commit(st, state_sqlerr(st, err, "taking the lock"), err);
	if (commit(st, 0, err))
		return -1;
	st->lock_id = xstrdup(id);
	st->lease = lease;
	st->lease_until_ms = until;
	return 1;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int state_lock_acquire(struct state *st, const struct state_lock_opts *opts,
		       struct err *err)
{
	double lease = opts && opts->lease > 0 ? opts->lease
					       : STATE_LOCK_DEFAULT_LEASE;
	double wait = opts && opts->wait > 0 ? opts->wait : 0;
	const char *command = opts && opts->command ? opts->command : "cairn";
	int64_t start = state_now_ms();
	int64_t deadline = start + (int64_t)(wait * 1000.0);
	char id[32];
	int waited = 0;

	if (st->lock_id)
		return err_set(err, ERR_INTERNAL,
			       "state '%s': this handle already holds the lock",
			       st->path);
	if (new_lock_id(id, sizeof(id), err))
		return -1;
	for (;;) {
		struct arena *a = arena_new();
		struct state_lock_info li;
		int rc = try_take(st, a, id, lease, command, &li, err);
		int64_t now = state_now_ms();

		if (rc != 0) {
			arena_free(a);
			if (rc > 0)
				log_debug("state '%s': locked (%s)", st->path,
					  id);
			return rc > 0 ? 0 : -1;
		}
		if (now >= deadline) {
			struct strbuf sb = STRBUF_INIT;

			describe_holder(&li, &sb);
			err_set(err, ERR_LOCKED,
				"state '%s' is locked by %s, lease until %s%s; "
				"lock id %s",
				st->path, sb.buf, li.expires_at,
				waited ? " (gave up waiting)" : "", li.lock_id);
			strbuf_release(&sb);
			arena_free(a);
			return -1;
		}
		if (!waited)
			log_msg(LOG_INFO,
				"state '%s' is locked by %s@%s (pid %ld); "
				"waiting up to %.0fs",
				st->path, li.user, li.host, li.pid, wait);
		waited = 1;
		arena_free(a);
		sleep_ms(deadline - now < LOCK_POLL_MS ? deadline - now
						       : LOCK_POLL_MS);
	}
}

int state_lock_renew(struct state *st, struct err *err)
{
	char until_s[40];
	int64_t until;
	sqlite3_stmt *s;
	int rc;

	if (!st->lock_id)
		return err_set(err, ERR_INTERNAL,
			       "state '%s': renewing a lock not held",
			       st->path);
	until = state_now_ms() + (int64_t)(st->lease * 1000.0);
	state_format_time(until, until_s, sizeof(until_s));
	if (begin(st, err))
		return -1;
	s = state_stmt(st, "UPDATE lock SET expires_at = ?1 WHERE lock_id = ?2",
		       err);
	if (!s)
		return commit(st, -1, err);
	state_bind_str(s, 1, until_s);
	state_bind_str(s, 2, st->lock_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return commit(st, state_sqlerr(st, err, "renewing the lock"),
			      err);
	if (sqlite3_changes(st->db) == 0)
		return commit(st,
			      err_set(err, ERR_LOCKED,
				      "state '%s': the lock %s held by this "
				      "command was broken or taken over",
				      st->path, st->lock_id),
			      err);
	if (commit(st, 0, err))
		return -1;
	st->lease_until_ms = until;
	return 0;
}

int state_lock_release(struct state *st, struct err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!st->lock_id)
		return 0;
	s = state_stmt(st, "DELETE FROM lock WHERE lock_id = ?1", err);
	if (!s)
		return -1;
	state_bind_str(s, 1, st->lock_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return state_sqlerr(st, err, "releasing the lock");
	/* if it was broken meanwhile there is nothing left to release */
	free(st->lock_id);
	st->lock_id = NULL;
	return 0;
}

const char *state_lock_id(const struct state *st)
{
	return st->lock_id;
}

int state_force_unlock(struct state *st, const char *lock_id,
		       struct err *err)
{
	struct arena *a = arena_new();
	struct state_lock_info li;
	sqlite3_stmt *s;
	int rc, held;

	if (begin(st, err)) {
		arena_free(a);
		return -1;
	}
	held = read_lock(st, a, &li, err);
	if (held < 0) {
		rc = -1;
	} else if (held == 0) {
		rc = err_set(err, ERR_NOT_FOUND, "state '%s' is not locked",
			     st->path);
	} else if (!lock_id || strcmp(li.lock_id, lock_id)) {
		struct strbuf sb = STRBUF_INIT;

		describe_holder(&li, &sb);
		rc = err_set(err, ERR_CONFLICT,
			     "lock id '%s' does not match the lock on state "
			     "'%s', held by %s: nothing was unlocked",
			     lock_id ? lock_id : "", st->path, sb.buf);
		strbuf_release(&sb);
	} else {
		s = state_stmt(st, "DELETE FROM lock WHERE lock_id = ?1", err);
		rc = -1;
		if (s) {
			state_bind_str(s, 1, lock_id);
			rc = sqlite3_step(s) == SQLITE_DONE
				     ? 0
				     : state_sqlerr(st, err, "unlocking");
			sqlite3_reset(s);
		}
		if (!rc)
			log_debug("state '%s': broke the lock %s of %s@%s "
				  "(pid %ld)",
				  st->path, li.lock_id, li.user, li.host,
				  li.pid);
	}
	arena_free(a);
	return commit(st, rc, err);
}
