/*
 * The S3 state backend and its lock object; see include/cairn/remote.h.
 *
 * AWS behaviour relied on (Amazon S3 user guide, "conditional requests"
 * and "conditional writes"): PutObject with If-None-Match: * fails with 412
 * Precondition Failed when the key exists, and with If-Match: <etag> when
 * the object's ETag differs; a concurrent conditional write may instead get
 * 409 ConditionalRequestConflict (treated as 412: retry from a fresh read).
 * S3 is strongly read-after-write consistent, so a GetObject after a
 * successful PutObject sees it. A request retried after a lost answer may
 * find its own earlier write: a 412 on our own write is told apart by
 * reading the object back and comparing it with what was sent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cairn/clock.h"
#include "cairn/log.h"
#include "cairn/remote.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "cairn/xalloc.h"

#define TICK_MS 200

struct remote {
	struct aws_client *aws;
	char *url, *bucket, *key, *lock_key;
	char *dir, *path;
	struct remote_opts o;
	char *kms_key, *command;
	bool existed;
	char etag[256];
	/* the lock */
	bool locked, lock_lost;
	char lock_id[32];
	char lock_etag[256];
	double lease;
	double lock_renew_at; /* monotonic seconds */
	time_t lock_since;    /* when this command first took it */
	/* uploads */
	sqlite3 *ro;
	int64_t uploaded_dv; /* data_version at the last upload; -1: none */
	double interval, last_upload;
	bool conflict;
	char last_error[512];
	atomic_uint requests;
	/* the thread */
	pthread_t thread;
	bool thread_started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void utc_text(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool remote_is_url(const char *loc)
{
	return loc && !strncmp(loc, "s3://", 5);
}

int remote_parse_url(const char *url, char **bucket, char **key,
		     struct err *err)
{
	const char *b, *slash;

	if (!remote_is_url(url))
		return err_set(err, ERR_USAGE, "'%s' is not an s3:// URL", url);
	b = url + 5;
	slash = strchr(b, '/');
	if (!slash || slash == b || !slash[1] ||
	    slash[strlen(slash) - 1] == '/')
		return err_set(err, ERR_USAGE,
			       "'%s': expected s3://BUCKET/KEY (for example "
			       "s3://my-bucket/cairn/web.db)",
			       url);
	*bucket = xstrndup(b, (size_t)(slash - b));
	*key = xstrdup(slash + 1);
	return 0;
}

/* ---- one S3 request ------------------------------------------------------ */

static int s3(struct remote *r, struct aws_client *aws, const char *method,
	      const char *key, const void *body, size_t len,
	      const char *if_match, const char *if_none_match, const char *query,
	      struct aws_s3_response *resp, struct err *err)
{
	struct aws_s3_request q;

	memset(&q, 0, sizeof(q));
	q.method = method;
	q.bucket = r->bucket;
	q.key = key;
	q.body = body;
	q.body_len = len;
	q.if_match = if_match;
	q.if_none_match = if_none_match;
	q.query = query;
	if (!strcmp(method, "PUT")) {
		q.sse = r->kms_key ? "aws:kms" : "AES256";
		q.sse_kms_key_id = r->kms_key;
		q.content_type = "application/octet-stream";
	}
	atomic_fetch_add(&r->requests, 1);
	return aws_s3(aws, &q, resp, err);
}

static bool precondition_failed(const struct err *e)
{
	return e->http_status == 412 || e->http_status == 409;
}

/* ---- the lock object ------------------------------------------------------- */

static void whoami(char *user, size_t un, char *host, size_t hn)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	const char *env = getenv("USER");

	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res &&
	    res->pw_name)
		snprintf(user, un, "%s", res->pw_name);
	else
		snprintf(user, un, "%s", env && *env ? env : "unknown");
	if (gethostname(host, hn) != 0)
		snprintf(host, hn, "unknown");
	host[hn - 1] = '\0';
}

static void lock_body(struct remote *r, struct strbuf *out)
{
	struct arena *a = arena_new();
	struct value *m = value_new_map(a);
	char user[256], host[256], created[32], expires[32], num[64];
	time_t now = time(NULL);
	time_t until = now + (time_t)(r->lease + 0.5);

	if (!r->lock_since)
		r->lock_since = now;
	whoami(user, sizeof(user), host, sizeof(host));
	utc_text(r->lock_since, created, sizeof(created));
	utc_text(until, expires, sizeof(expires));
	value_map_set(a, m, "ID", value_new_string(a, r->lock_id));
	value_map_set(a, m, "Holder", value_new_string(a, user));
	value_map_set(a, m, "Host", value_new_string(a, host));
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	value_map_set(a, m, "Pid", value_new_number(a, num));
	value_map_set(a, m, "Command",
		      value_new_string(a, r->command ? r->command : "cairn"));
	value_map_set(a, m, "Created", value_new_string(a, created));
	value_map_set(a, m, "Expires", value_new_string(a, expires));
	snprintf(num, sizeof(num), "%lld", (long long)until);
	value_map_set(a, m, "ExpiresUnix", value_new_number(a, num));
	snprintf(num, sizeof(num), "%.0f", r->lease);
	value_map_set(a, m, "Lease", value_new_number(a, num));
	value_map_set(a, m, "State", value_new_string(a, r->url));
	strbuf_reset(out);
	value_to_json(m, out, VALUE_JSON_PRETTY);
	strbuf_addch(out, '\n');
	arena_free(a);
}

struct lock_seen {
	struct state_lock_info li;
	double expires_unix;
	char etag[256];
	struct strbuf body;
};

static const char *jstr(struct arena *a, const struct value *m,
			const char *k)
{
	const char *s = value_str(value_map_get(m, k));
	return arena_strdup(a, s ? s : "?");
}

static double jnum(const struct value *m, const char *k)
{
	const struct value *v = value_map_get(m, k);
	if (v && v->kind == VALUE_NUMBER)
		return v->u.num.d;
	return 0;
}

/* 1 and *out, 0 when there is no lock object, -1. */
static int read_lock(struct remote *r, struct aws_client *aws, struct arena *a,
		     struct lock_seen *out, struct err *err)
{
	struct aws_s3_response resp;
	struct err e = ERR_INIT;
	struct value *m;

	strbuf_init(&resp.body, 0);
	if (s3(r, aws, "GET", r->lock_key, NULL, 0, NULL, NULL, NULL, &resp,
	       &e) < 0) {
		strbuf_release(&resp.body);
		if (e.code == ERR_NOT_FOUND && e.http_status == 404 &&
		    strcmp(e.aws_code, "NoSuchBucket"))
			return 0;
		*err = e;
		return -1;
	}
	m = value_from_json(a, resp.body.buf, resp.body.len, 0, &e);
	if (!m || m->kind != VALUE_MAP) {
		err_set(err, ERR_STATEDB,
			"the lock object s3://%s/%s is not a cairn lock (%s); "
			"remove it with 'aws s3 rm' if nothing is running",
			r->bucket, r->lock_key, m ? "not a JSON object" : e.msg);
		strbuf_release(&resp.body);
		return -1;
	}
	memset(&out->li, 0, sizeof(out->li));
	out->li.lock_id = jstr(a, m, "ID");
	out->li.user = jstr(a, m, "Holder");
	out->li.host = jstr(a, m, "Host");
	out->li.pid = (long)jnum(m, "Pid");
	out->li.command = jstr(a, m, "Command");
	out->li.acquired_at = jstr(a, m, "Created");
	out->li.expires_at = jstr(a, m, "Expires");
	out->expires_unix = jnum(m, "ExpiresUnix");
	out->li.expired = out->expires_unix > 0 &&
			  (double)time(NULL) > out->expires_unix;
	snprintf(out->etag, sizeof(out->etag), "%s", resp.etag);
	strbuf_release(&out->body);
	out->body = resp.body;
	return 1;
}

static void describe(const struct state_lock_info *li, struct strbuf *sb)
{
	strbuf_addf(sb, "%s@%s (pid %ld, \"%s\") since %s", li->user, li->host,
		    li->pid, li->command, li->acquired_at);
}

static bool holder_dead(const struct state_lock_info *li)
{
	char user[256], host[256];

	whoami(user, sizeof(user), host, sizeof(host));
	return !strcmp(li->host, host) && li->pid > 0 &&
	       kill((pid_t)li->pid, 0) < 0 && errno == ESRCH;
}

static void sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* After a 412 on our own conditional PUT of `body`: was it our write that
 * landed (a retried request)? 1 (and *etag gets its ETag) when the object
 * is byte for byte what we sent, 0 when it is something else or gone, -1
 * when it could not be read (unknown: not a conflict yet). */
static int landed(struct remote *r, const char *key, const struct strbuf *body,
		  char *etag, size_t n)
{
	struct aws_s3_response resp;
	struct err e = ERR_INIT;
	int same;

	strbuf_init(&resp.body, 0);
	if (s3(r, r->aws, "GET", key, NULL, 0, NULL, NULL, NULL, &resp, &e) < 0) {
		strbuf_release(&resp.body);
		return e.http_status == 404 ? 0 : -1;
	}
	same = resp.body.len == body->len &&
	       !memcmp(resp.body.buf, body->buf, body->len);
	if (same)
		snprintf(etag, n, "%s", resp.etag);
	strbuf_release(&resp.body);
	return same;
}

static int lock_acquire(struct remote *r, struct err *err)
{
	unsigned char rb[8];
	struct strbuf body = STRBUF_INIT;
	double deadline = mono_seconds() + r->o.lock_wait;
	bool said = false;
	size_t i;

	if (RAND_bytes(rb, (int)sizeof(rb)) != 1)
		return err_set(err, ERR_INTERNAL, "cannot draw a random lock id");
	for (i = 0; i < sizeof(rb); i++)
		snprintf(r->lock_id + 2 * i, 3, "%02x", rb[i]);
	for (;;) {
		struct aws_s3_response resp;
		struct lock_seen seen;
		struct arena *a;
		struct err e = ERR_INIT;
		int got;

		lock_body(r, &body);
		strbuf_init(&resp.body, 0);
		if (s3(r, r->aws, "PUT", r->lock_key, body.buf, body.len, NULL,
		       "*", NULL, &resp, &e) == 0) {
			snprintf(r->lock_etag, sizeof(r->lock_etag), "%s",
				 resp.etag);
			strbuf_release(&resp.body);
			break;
		}
		strbuf_release(&resp.body);
		if (!precondition_failed(&e)) {
			*err = e;
			strbuf_release(&body);
			return err_prefix(err, "cannot lock the state %s: ",
					  r->url);
		}
		a = arena_new();
		memset(&seen, 0, sizeof(seen));
		seen.body = (struct strbuf)STRBUF_INIT;
		got = read_lock(r, r->aws, a, &seen, &e);
		if (got < 0) {
			*err = e;
			goto fail;
		}
		if (got == 0) { /* released in between */
			strbuf_release(&seen.body);
			arena_free(a);
			continue;
		}
		if (!strcmp(seen.li.lock_id, r->lock_id)) {
			/* our own create, answered late and retried */
			snprintf(r->lock_etag, sizeof(r->lock_etag), "%s",
				 seen.etag);
			strbuf_release(&seen.body);
			arena_free(a);
			break;
		}
		if (seen.li.expired || holder_dead(&seen.li)) {
			struct strbuf who = STRBUF_INIT;
			int rc;

			strbuf_init(&resp.body, 0);
			lock_body(r, &body);
			rc = s3(r, r->aws, "PUT", r->lock_key, body.buf,
				body.len, seen.etag, NULL, NULL, &resp, &e);
			describe(&seen.li, &who);
			if (rc == 0 || (precondition_failed(&e) &&
					landed(r, r->lock_key, &body,
					       resp.etag,
					       sizeof(resp.etag)) == 1)) {
				log_msg(LOG_WARN,
					"state %s: taking over the lock %s of "
					"%s: %s",
					r->url, seen.li.lock_id, who.buf,
					seen.li.expired ?
						"its lease has expired" :
						"that process no longer exists");
				snprintf(r->lock_etag, sizeof(r->lock_etag),
					 "%s", resp.etag);
				strbuf_release(&who);
				strbuf_release(&resp.body);
				strbuf_release(&seen.body);
				arena_free(a);
				break;
			}
			strbuf_release(&who);
			strbuf_release(&resp.body);
			if (!precondition_failed(&e)) {
				*err = e;
				goto fail;
			}
			/* someone else took it first: look again */
			strbuf_release(&seen.body);
			arena_free(a);
			continue;
		}
		if (mono_seconds() >= deadline) {
			struct strbuf who = STRBUF_INIT;
			describe(&seen.li, &who);
			err_set(err, ERR_LOCKED,
				"state %s is locked by %s, lease until %s%s; "
				"lock id %s (if that command is gone: cairn "
				"unlock %s --state %s)",
				r->url, who.buf, seen.li.expires_at,
				said ? " (gave up waiting)" : "",
				seen.li.lock_id, seen.li.lock_id, r->url);
			strbuf_release(&who);
			goto fail;
		}
		if (!said)
			log_msg(LOG_INFO,
				"state %s is locked by %s@%s (pid %ld); waiting "
				"up to %.0fs",
				r->url, seen.li.user, seen.li.host, seen.li.pid,
				r->o.lock_wait);
		said = true;
		strbuf_release(&seen.body);
		arena_free(a);
		{
			double left = deadline - mono_seconds();
			sleep_s(left < 1.0 ? (left > 0.05 ? left : 0.05) : 1.0);
		}
		continue;
fail:
		strbuf_release(&seen.body);
		arena_free(a);
		strbuf_release(&body);
		return -1;
	}
	strbuf_release(&body);
	r->locked = true;
	r->lock_renew_at = mono_seconds() + r->lease / 2;
	log_debug("state %s: lock %s taken", r->url, r->lock_id);
	return 0;
}

static int lock_renew(struct remote *r, struct err *err)
{
	struct strbuf body = STRBUF_INIT;
	struct aws_s3_response resp;
	int rc;

	lock_body(r, &body);
	strbuf_init(&resp.body, 0);
	rc = s3(r, r->aws, "PUT", r->lock_key, body.buf, body.len, r->lock_etag,
		NULL, NULL, &resp, err);
	if (rc < 0 && (precondition_failed(err) || err->http_status == 404)) {
		int got = landed(r, r->lock_key, &body, resp.etag,
				 sizeof(resp.etag));
		if (got == 1) {
			rc = 0;
		} else if (got < 0) {
			err_set(err, ERR_TRANSIENT,
				"state %s: cannot tell whether the lock was "
				"renewed (reading it back failed); trying again",
				r->url);
		} else {
			r->lock_lost = true;
			err_set(err, ERR_LOCKED,
				"state %s: the lock %s held by this command was "
				"broken or taken over",
				r->url, r->lock_id);
		}
	}
	if (rc == 0) {
		snprintf(r->lock_etag, sizeof(r->lock_etag), "%s", resp.etag);
		r->lock_renew_at = mono_seconds() + r->lease / 2;
	}
	strbuf_release(&resp.body);
	strbuf_release(&body);
	return rc;
}

static int lock_release(struct remote *r, struct err *err)
{
	struct aws_s3_response resp;
	struct err e = ERR_INIT;
	int rc = 0;

	if (!r->locked || r->lock_lost)
		return 0;
	strbuf_init(&resp.body, 0);
	if (s3(r, r->aws, "DELETE", r->lock_key, NULL, 0, r->lock_etag, NULL,
	       NULL, &resp, &e) < 0 &&
	    e.http_status != 404) {
		*err = e;
		rc = err_prefix(err, "cannot remove the lock of %s: ", r->url);
	}
	strbuf_release(&resp.body);
	r->locked = false;
	return rc;
}

/* ---- the database ----------------------------------------------------------- */

static int open_ro(struct remote *r)
{
	struct stat sb;

	if (r->ro)
		return 0;
	if (stat(r->path, &sb) < 0)
		return -1;
	if (sqlite3_open_v2(r->path, &r->ro, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(r->ro);
		r->ro = NULL;
		return -1;
	}
	sqlite3_busy_timeout(r->ro, 10000);
	return 0;
}

static int64_t data_version(struct remote *r)
{
	sqlite3_stmt *s;
	int64_t v = -2;

	if (sqlite3_prepare_v2(r->ro, "PRAGMA data_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The lock row of the downloaded copy is the last writer's: the lock object
 * is what counts for a remote state. */
static void clear_local_lock(struct remote *r)
{
	if (open_ro(r) < 0)
		return;
	sqlite3_exec(r->ro, "DELETE FROM lock", NULL, NULL, NULL);
}

static int upload(struct remote *r, struct err *err)
{
	struct aws_s3_response resp;
	struct strbuf body = STRBUF_INIT;
	sqlite3_int64 size = 0;
	unsigned char *bytes;
	int64_t dv;
	int rc;

	if (r->conflict)
		return err_set(err, ERR_CONFLICT, "%s", r->last_error);
	if (open_ro(r) < 0)
		return 0; /* nothing written yet */
	dv = data_version(r);
	if (dv == r->uploaded_dv)
		return 0;
	bytes = sqlite3_serialize(r->ro, "main", &size, 0);
	if (!bytes)
		return err_set(err, ERR_STATEDB,
			       "cannot read the state %s for upload: %s",
			       r->path, sqlite3_errmsg(r->ro));
	strbuf_add(&body, bytes, (size_t)size);
	sqlite3_free(bytes);
	strbuf_init(&resp.body, 0);
	rc = s3(r, r->aws, "PUT", r->key, body.buf, body.len,
		r->etag[0] ? r->etag : NULL, r->etag[0] ? NULL : "*", NULL,
		&resp, err);
	if (rc < 0 && precondition_failed(err)) {
		int got = landed(r, r->key, &body, resp.etag, sizeof(resp.etag));
		if (got == 1)
			rc = 0;
		else if (got < 0) {
			/* unknown: try again later, not a conflict yet */
			err_set(err, ERR_TRANSIENT,
				"the state %s answered 412 and could not be "
				"read back",
				r->url);
			strbuf_release(&resp.body);
			strbuf_release(&body);
			return -1;
		}
	}
	if (rc == 0) {
		snprintf(r->etag, sizeof(r->etag), "%s", resp.etag);
		r->uploaded_dv = dv;
		r->last_upload = mono_seconds();
		log_debug("state %s: uploaded %zu bytes (ETag %s)", r->url,
			  body.len, r->etag);
	} else if (precondition_failed(err) ||
		   (r->etag[0] && err->http_status == 404)) {
		r->conflict = true;
		err_set(err, ERR_CONFLICT,
			"the state %s was changed by someone else since this "
			"command read it (%s); not overwriting it",
			r->url, r->etag[0] ? r->etag : "it did not exist");
		snprintf(r->last_error, sizeof(r->last_error), "%s", err->msg);
	}
	strbuf_release(&resp.body);
	strbuf_release(&body);
	return rc;
}

static void *worker(void *arg)
{
	struct remote *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts;
		double now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		if (r->stop)
			break;
		/* the work runs under mu: remote_sync() and close wait */
		now = mono_seconds();
		if (r->locked && !r->lock_lost && now >= r->lock_renew_at) {
			struct err e = ERR_INIT;
			if (lock_renew(r, &e) < 0)
				log_msg(r->lock_lost ? LOG_ERROR : LOG_WARN,
					"%s", e.msg);
		}
		if (r->o.writable && !r->conflict &&
		    now - r->last_upload >= r->interval) {
			struct err e = ERR_INIT;
			if (upload(r, &e) < 0)
				log_msg(r->conflict ? LOG_ERROR : LOG_WARN,
					"state %s: upload failed (%s)%s",
					r->url, e.msg,
					r->conflict ? "" : "; trying again");
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Removes the private directory and every file in it (the database, its
 * -wal/-shm, and what state_open makes while creating one). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct strbuf p = STRBUF_INIT;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, e->d_name);
		unlink(p.buf);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	strbuf_release(&p);
}

static void cleanup_files(struct remote *r)
{
	remove_dir(r->dir);
}

static void free_remote(struct remote *r)
{
	free(r->url);
	free(r->bucket);
	free(r->key);
	free(r->lock_key);
	free(r->dir);
	free(r->path);
	free(r->kms_key);
	free(r->command);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

/*
 * Copies left by a process that died (kill -9): cairn-state-<pid>-* whose
 * pid no longer exists and that hold no KEPT marker (a copy kept because
 * its upload failed is the user's to resolve, never removed here). What a
 * killed run had not uploaded is found again from the journal intents it
 * uploaded before each AWS call.
 */
static void clean_stale_copies(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	struct strbuf p = STRBUF_INIT;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid;
		struct stat sb;

		if (strncmp(e->d_name, "cairn-state-", 12))
			continue;
		pid = strtol(e->d_name + 12, &end, 10);
		if (pid <= 0 || *end != '-' || (kill((pid_t)pid, 0) == 0 ||
						errno != ESRCH))
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", tmp, e->d_name);
		if (lstat(p.buf, &sb) < 0 || !S_ISDIR(sb.st_mode) ||
		    sb.st_uid != geteuid())
			continue;
		strbuf_addstr(&p, "/KEPT");
		if (access(p.buf, F_OK) == 0)
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", tmp, e->d_name);
		remove_dir(p.buf);
		log_debug("removed %s, left by a process that died", p.buf);
	}
	closedir(d);
	strbuf_release(&p);
}

static int download(struct remote *r, struct err *err)
{
	struct aws_s3_response resp;
	struct err e = ERR_INIT;
	struct strbuf q = STRBUF_INIT;
	int fd;
	size_t off = 0;

	strbuf_init(&resp.body, 0);
	if (r->o.version_id)
		strbuf_addf(&q, "versionId=%s", r->o.version_id);
	if (s3(r, r->aws, "GET", r->key, NULL, 0, NULL, NULL,
	       q.len ? q.buf : NULL, &resp, &e) < 0) {
		strbuf_release(&resp.body);
		strbuf_release(&q);
		if (e.http_status == 404 && strcmp(e.aws_code, "NoSuchBucket") &&
		    !r->o.version_id) {
			if (r->o.create)
				return 0;
			return err_set(err, ERR_NOT_FOUND,
				       "no state found at '%s'", r->url);
		}
		*err = e;
		return err_prefix(err, "cannot read the state %s: ", r->url);
	}
	strbuf_release(&q);
	r->existed = true;
	snprintf(r->etag, sizeof(r->etag), "%s", resp.etag);
	fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		strbuf_release(&resp.body);
		return err_set(err, ERR_IO, "cannot create %s: %s", r->path,
			       strerror(errno));
	}
	while (off < resp.body.len) {
		ssize_t w = write(fd, resp.body.buf + off, resp.body.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int en = errno;
			close(fd);
			strbuf_release(&resp.body);
			return err_set(err, ERR_IO, "cannot write %s: %s",
				       r->path, strerror(en));
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		strbuf_release(&resp.body);
		return err_set(err, ERR_IO, "cannot write %s: %s", r->path,
			       strerror(errno));
	}
	strbuf_release(&resp.body);
	return 0;
}

struct remote *remote_open(struct aws_client *aws, const char *url,
			   const struct remote_opts *opts, struct err *err)
{
	struct remote *r = xcalloc(1, sizeof(*r));
	const char *tmp = getenv("TMPDIR");
	struct strbuf p = STRBUF_INIT;

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->aws = aws;
	r->o = *opts;
	r->uploaded_dv = -1;
	if (remote_parse_url(url, &r->bucket, &r->key, err) < 0) {
		free_remote(r);
		return NULL;
	}
	r->url = xstrdup(url);
	r->kms_key = opts->kms_key ? xstrdup(opts->kms_key) : NULL;
	r->command = opts->command ? xstrdup(opts->command) : NULL;
	r->o.kms_key = r->kms_key;
	r->o.command = r->command;
	r->o.version_id = NULL;
	strbuf_addf(&p, "%s.lock", r->key);
	r->lock_key = strbuf_detach(&p, NULL);
	r->lease = opts->lease > 0 ? opts->lease :
				     env_seconds("CAIRN_STATE_LOCK_LEASE",
						 STATE_LOCK_DEFAULT_LEASE, 1e-3,
						 1e9);
	r->interval = opts->upload_interval > 0 ?
			      opts->upload_interval :
			      env_seconds("CAIRN_STATE_UPLOAD_INTERVAL", 2.0,
					  1e-3, 1e9);
	clean_stale_copies(tmp && *tmp ? tmp : "/tmp");
	strbuf_addf(&p, "%s/cairn-state-%ld-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		    (long)getpid());
	r->dir = strbuf_detach(&p, NULL);
	if (!mkdtemp(r->dir)) {
		err_set(err, ERR_IO, "cannot make a temporary directory %s: %s",
			r->dir, strerror(errno));
		free_remote(r);
		return NULL;
	}
	strbuf_addf(&p, "%s/state.db", r->dir);
	r->path = strbuf_detach(&p, NULL);
	if (opts->lock && lock_acquire(r, err) < 0)
		goto fail;
	r->o.version_id = opts->version_id;
	if (download(r, err) < 0)
		goto fail;
	r->o.version_id = NULL;
	if (r->existed) {
		clear_local_lock(r);
		if (r->ro)
			r->uploaded_dv = data_version(r);
	}
	r->last_upload = mono_seconds();
	if ((r->o.writable || r->locked) &&
	    pthread_create(&r->thread, NULL, worker, r) == 0)
		r->thread_started = true;
	return r;
fail:
	{
		struct err e2 = ERR_INIT;
		lock_release(r, &e2);
	}
	if (r->ro)
		sqlite3_close(r->ro);
	cleanup_files(r);
	free_remote(r);
	return NULL;
}

const char *remote_local_path(const struct remote *r)
{
	return r->path;
}

const char *remote_url(const struct remote *r)
{
	return r->url;
}

bool remote_existed(const struct remote *r)
{
	return r->existed;
}

const char *remote_etag(const struct remote *r)
{
	return r->etag;
}

unsigned remote_requests(const struct remote *r)
{
	return atomic_load(&r->requests);
}

static void stop_thread(struct remote *r)
{
	if (!r->thread_started)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->thread_started = false;
}

int remote_sync(struct remote *r, struct err *err)
{
	int rc;

	if (!r->o.writable)
		return 0;
	pthread_mutex_lock(&r->mu);
	rc = upload(r, err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int remote_close(struct remote *r, struct err *err)
{
	int rc = 0, attempt;
	bool keep = false;

	if (!r)
		return 0;
	stop_thread(r);
	if (r->o.writable) {
		struct err e = ERR_INIT;
		/* the end of a run is worth a few more tries than a tick */
		for (attempt = 0; attempt < 3; attempt++) {
			err_clear(&e);
			if (upload(r, &e) == 0 || r->conflict)
				break;
			sleep_s(0.5 * (attempt + 1));
		}
		if (e.code != ERR_OK && (attempt == 3 || r->conflict)) {
			*err = e;
			keep = true;
			rc = -1;
		}
	}
	if (r->lock_lost && rc == 0) {
		rc = err_set(err, ERR_LOCKED,
			     "state %s: the lock %s held by this command was "
			     "broken or taken over while it ran",
			     r->url, r->lock_id);
	}
	if (r->ro) {
		sqlite3_close(r->ro);
		r->ro = NULL;
	}
	{
		struct err e2 = ERR_INIT;
		if (lock_release(r, &e2) < 0)
			log_msg(LOG_WARN, "%s", e2.msg);
	}
	if (keep) {
		{
			struct strbuf m = STRBUF_INIT;
			int fd;
			strbuf_addf(&m, "%s/KEPT", r->dir);
			fd = open(m.buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd >= 0)
				close(fd);
			strbuf_reset(&m);
			strbuf_addf(&m, "%s; the local copy is kept at %s "
					"(upload it with 'cairn state push "
					"--state %s %s' once resolved)",
				    err->msg, r->path, r->url, r->path);
			snprintf(err->msg, sizeof(err->msg), "%s", m.buf);
			strbuf_release(&m);
		}
	} else {
		cleanup_files(r);
	}
	free_remote(r);
	return rc;
}

/* ---- without a handle: unlock, lock info, push ----------------------------- */

static struct remote *bare(struct aws_client *aws, const char *url,
			   struct err *err)
{
	struct remote *r = xcalloc(1, sizeof(*r));
	struct strbuf p = STRBUF_INIT;

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->aws = aws;
	if (remote_parse_url(url, &r->bucket, &r->key, err) < 0) {
		free_remote(r);
		return NULL;
	}
	r->url = xstrdup(url);
	strbuf_addf(&p, "%s.lock", r->key);
	r->lock_key = strbuf_detach(&p, NULL);
	return r;
}

int remote_lock_get(struct aws_client *aws, const char *url, struct arena *a,
		    struct state_lock_info *out, struct err *err)
{
	struct remote *r = bare(aws, url, err);
	struct lock_seen seen;
	int got;

	if (!r)
		return -1;
	memset(&seen, 0, sizeof(seen));
	seen.body = (struct strbuf)STRBUF_INIT;
	got = read_lock(r, aws, a, &seen, err);
	if (got > 0)
		*out = seen.li;
	strbuf_release(&seen.body);
	free_remote(r);
	return got;
}

int remote_force_unlock(struct aws_client *aws, const char *url,
			const char *lock_id, struct err *err)
{
	struct remote *r = bare(aws, url, err);
	struct arena *a;
	struct lock_seen seen;
	struct aws_s3_response resp;
	int got, rc = 0;

	if (!r)
		return -1;
	a = arena_new();
	memset(&seen, 0, sizeof(seen));
	seen.body = (struct strbuf)STRBUF_INIT;
	got = read_lock(r, aws, a, &seen, err);
	if (got < 0) {
		rc = -1;
	} else if (got == 0) {
		rc = err_set(err, ERR_NOT_FOUND, "state %s is not locked", url);
	} else if (strcmp(seen.li.lock_id, lock_id)) {
		struct strbuf who = STRBUF_INIT;
		describe(&seen.li, &who);
		rc = err_set(err, ERR_CONFLICT,
			     "state %s is locked by %s with lock id %s, not %s; "
			     "nothing broken",
			     url, who.buf, seen.li.lock_id, lock_id);
		strbuf_release(&who);
	} else {
		strbuf_init(&resp.body, 0);
		if (s3(r, aws, "DELETE", r->lock_key, NULL, 0, seen.etag, NULL,
		       NULL, &resp, err) < 0 &&
		    err->http_status != 404)
			rc = -1;
		strbuf_release(&resp.body);
	}
	strbuf_release(&seen.body);
	arena_free(a);
	free_remote(r);
	return rc;
}

int remote_put_file(struct aws_client *aws, const char *url, const char *path,
		    const char *if_match, const char *kms_key, struct err *err)
{
	struct remote *r = bare(aws, url, err);
	sqlite3 *db = NULL;
	sqlite3_int64 size = 0;
	unsigned char *bytes;
	struct aws_s3_response resp;
	struct strbuf body = STRBUF_INIT;
	int rc;

	if (!r)
		return -1;
	r->kms_key = kms_key ? xstrdup(kms_key) : NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		rc = err_set(err, ERR_IO, "cannot open %s: %s", path,
			     db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	bytes = sqlite3_serialize(db, "main", &size, 0);
	if (!bytes) {
		rc = err_set(err, ERR_STATEDB, "cannot read %s: %s", path,
			     sqlite3_errmsg(db));
		goto out;
	}
	strbuf_add(&body, bytes, (size_t)size);
	sqlite3_free(bytes);
	strbuf_init(&resp.body, 0);
	rc = s3(r, aws, "PUT", r->key, body.buf, body.len, if_match,
		if_match ? NULL : "*", NULL, &resp, err);
	if (rc < 0 && precondition_failed(err) &&
	    landed(r, r->key, &body, resp.etag, sizeof(resp.etag)) == 1)
		rc = 0;
	if (rc < 0 && precondition_failed(err))
		rc = err_set(err, ERR_CONFLICT,
			     "the state %s was changed by someone else "
			     "meanwhile; not overwriting it",
			     url);
	strbuf_release(&resp.body);
out:
	sqlite3_close(db);
	strbuf_release(&body);
	free_remote(r);
	return rc;
}

int remote_save_copy(struct remote *r, const char *dest, struct err *err)
{
	struct strbuf tmp = STRBUF_INIT;
	sqlite3_int64 size = 0;
	unsigned char *bytes;
	size_t off = 0;
	int fd, rc = 0;

	if (open_ro(r) < 0)
		return err_set(err, ERR_NOT_FOUND, "no state found at '%s'",
			       r->url);
	bytes = sqlite3_serialize(r->ro, "main", &size, 0);
	if (!bytes)
		return err_set(err, ERR_STATEDB, "cannot read %s: %s", r->path,
			       sqlite3_errmsg(r->ro));
	/* the copy is a rollback-journal file: no -wal is shipped with it */
	if (size > 19)
		bytes[18] = bytes[19] = 1;
	strbuf_addf(&tmp, "%s.tmp", dest);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(err, ERR_IO, "cannot create %s: %s", tmp.buf,
			     strerror(errno));
		goto out;
	}
	while (off < (size_t)size) {
		ssize_t w = write(fd, bytes + off, (size_t)size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off != (size_t)size || fsync(fd) < 0) {
		rc = err_set(err, ERR_IO, "cannot write %s: %s", tmp.buf,
			     strerror(errno));
		close(fd);
		unlink(tmp.buf);
		goto out;
	}
	close(fd);
	if (rename(tmp.buf, dest) < 0) {
		rc = err_set(err, ERR_IO, "cannot rename %s to %s: %s", tmp.buf,
			     dest, strerror(errno));
		unlink(tmp.buf);
	}
out:
	sqlite3_free(bytes);
	strbuf_release(&tmp);
	return rc;
}

static int intent_hook(void *ud, struct err *err)
{
	struct remote *r = ud;
	struct err e = ERR_INIT;
	int attempt, rc = -1;

	/* as with the local lock: a holder whose lock was broken or taken
	 * over makes no further change */
	if (r->lock_lost)
		return err_set(err, ERR_LOCKED,
			       "state %s: the lock %s held by this command was "
			       "broken or taken over; stopping before the next "
			       "AWS call",
			       r->url, r->lock_id);

	/* a few tries beyond the client's own retries: the apply stops if
	 * the intent cannot be made durable */
	for (attempt = 0; attempt < 3 && rc < 0; attempt++) {
		err_clear(&e);
		rc = remote_sync(r, &e);
		if (rc < 0 && (r->conflict || r->lock_lost))
			break;
		if (rc < 0)
			sleep_s(0.3 * (attempt + 1));
	}
	if (rc < 0) {
		*err = e;
		err_prefix(err, "cannot save the state before the next AWS "
				"call: ");
	}
	return rc;
}

void remote_attach(struct remote *r, struct state *st)
{
	if (r->o.writable)
		state_set_intent_hook(st, intent_hook, r);
}
