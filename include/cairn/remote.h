/*
 * remote: a stack's state kept as an object in S3 (s3://BUCKET/KEY), with
 * a lock object beside it (KEY.lock).
 *
 * The state stays an SQLite database. remote_open() takes the lock (when
 * asked), downloads the object (GetObject) into a private temporary
 * directory (0700; the file 0600) and remembers its ETag; the caller opens
 * remote_local_path() with state_open() and works on it exactly as on a
 * local state. While the handle is open a background thread
 *   - renews the lock's lease (a conditional PutObject with If-Match on the
 *     lock's ETag) when half of it has run out, and
 *   - uploads the database when a write was committed since the last upload
 *     (at most every `upload_interval` seconds): a consistent snapshot read
 *     through a second SQLite connection (sqlite3_serialize reads every page
 *     inside one read transaction, the WAL's committed pages included, so
 *     the bytes are those of a checkpointed database), sent with PutObject
 *     If-Match on the ETag last read or written (If-None-Match: * for a new
 *     state) and server-side encryption (aws:kms with the key given, else
 *     AES256 = SSE-S3).
 * remote_close() uploads what is left, stops the thread, releases the lock
 * and removes the temporary files. When the last upload fails the local
 * copy is kept and its path is in the error, so nothing is lost.
 *
 * A 412 on upload means someone else wrote the object: uploads stop for
 * good and remote_close() fails with ERR_CONFLICT; the object is never
 * overwritten.
 *
 * The lock object holds JSON: ID, Holder, Host, Pid, Command, Created,
 * Expires (UTC text), ExpiresUnix, Lease (seconds), State (the URL). It is
 * created with If-None-Match: *; a lock whose lease has expired, or whose
 * holder was a process of this host that no longer exists, is replaced
 * with If-Match on its ETag (so two takers cannot both win). The lock is
 * what serialises writers; the lock row inside the downloaded database is
 * cleared on download (it is the last writer's, meaningless here).
 *
 * Environment (tests, slow links): CAIRN_STATE_LOCK_LEASE (seconds,
 * default 600), CAIRN_STATE_UPLOAD_INTERVAL (seconds, default 2).
 */
#ifndef CAIRN_REMOTE_H
#define CAIRN_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "aws.h"
#include "err.h"
#include "state.h"

struct remote;

/* Whether loc names a remote state ("s3://..."). */
bool remote_is_url(const char *loc);
/* Splits "s3://BUCKET/KEY" (both non-empty); malloc'd strings. ERR_USAGE
 * when malformed. */
int remote_parse_url(const char *url, char **bucket, char **key,
		     struct err *err);

struct remote_opts {
	bool lock;          /* take KEY.lock for the life of the handle */
	double lock_wait;   /* seconds to wait for a held lock */
	double lease;       /* 0: CAIRN_STATE_LOCK_LEASE or 600 s */
	const char *command; /* the lock holder's command line (no secrets) */
	bool create;        /* a missing object is a new, empty state */
	bool writable;      /* upload changes (else never writes the object) */
	const char *kms_key; /* SSE-KMS key id/ARN; NULL: SSE-S3 (AES256) */
	double upload_interval; /* 0: CAIRN_STATE_UPLOAD_INTERVAL or 2 s */
	const char *version_id; /* read this object version (read-only use) */
};

/*
 * Locks (opts->lock), downloads. A missing object: with opts->create the
 * local path does not exist yet (state_open with STATE_OPEN_CREATE makes
 * it), else ERR_NOT_FOUND "no state found at 's3://...'". The client must
 * outlive the handle. NULL with err on failure (the lock is released).
 */
struct remote *remote_open(struct aws_client *aws, const char *url,
			   const struct remote_opts *opts, struct err *err);
/* The temporary database's path (borrowed). */
const char *remote_local_path(const struct remote *r);
/* The URL (borrowed). */
const char *remote_url(const struct remote *r);
/* Whether the object existed when opened. */
bool remote_existed(const struct remote *r);
/* The ETag read or last written ("" for a new state); borrowed. */
const char *remote_etag(const struct remote *r);
/* Uploads now if a change was committed since the last upload. */
int remote_sync(struct remote *r, struct err *err);
/* Makes st (opened on remote_local_path) upload after every journal
 * intent, before the AWS call it announces (state_set_intent_hook). */
void remote_attach(struct remote *r, struct state *st);
/*
 * Final upload (when writable and changed), lock release, cleanup. Call it
 * after state_close() of the local copy. NULL: 0. On an upload failure the
 * local copy stays and the error says where; returns -1.
 */
int remote_close(struct remote *r, struct err *err);
/* Counters for benchmarks: S3 requests made by this handle. */
unsigned remote_requests(const struct remote *r);

/* Writes a consistent copy of the local database to dest (mode 0600,
 * through dest.tmp and a rename). */
int remote_save_copy(struct remote *r, const char *dest, struct err *err);

/* Reads KEY.lock: 1 and *out filled (strings in a), 0 when unlocked, -1. */
int remote_lock_get(struct aws_client *aws, const char *url, struct arena *a,
		    struct state_lock_info *out, struct err *err);
/* Deletes KEY.lock if its ID is lock_id (ERR_NOT_FOUND when unlocked,
 * ERR_CONFLICT naming the holder when another id). */
int remote_force_unlock(struct aws_client *aws, const char *url,
			const char *lock_id, struct err *err);

/* Uploads the local database file at path to url: If-None-Match: * when
 * if_match is NULL, else If-Match. ERR_CONFLICT on 412. */
int remote_put_file(struct aws_client *aws, const char *url, const char *path,
		    const char *if_match, const char *kms_key, struct err *err);

#endif
