/*
 * state: the memory of what cairn has done to a stack, in one SQLite
 * database per stack (default state/<stack>.db).
 *
 * It records the stack (name, region, account, template digest, parameters,
 * a serial bumped by every change), every resource as applied, the outputs,
 * an append-only journal (an "intent" row before each mutating AWS call, an
 * "outcome" row after it, so a crash at any instant can be reconciled) and a
 * lock with a lease. state/README.md documents the schema for users who
 * query it with sqlite3.
 *
 * Durability: every write function below commits its own transaction before
 * it returns (WAL, synchronous=FULL: see state/README.md for the measured
 * cost and the reasoning). The executor calls them the moment AWS confirms.
 * The order for one mutating call: state_journal_intent() (with the
 * ClientToken and tags) -> the AWS call -> state_resource_put() (or
 * _delete) -> state_journal_outcome(). A crash before the put leaves an
 * open intent and no record: look for the resource by token or tags and
 * adopt it. A crash between put and outcome leaves an open intent whose
 * resource is recorded: close it with an outcome ("adopted"). Either way
 * state_journal_open_intents() tells the next run where to look.
 *
 * Secrets: any value node with the `sensitive` bit is never stored; it is
 * replaced by {"$secret": "hmac-sha256:<hex>"}, an HMAC-SHA256 under a
 * random 32-byte key kept in the database. Trees read back from the state
 * carry such a node as a VALUE_STRING with the sensitive bit set whose text
 * is the fingerprint ("hmac-sha256:..."); compare desired values against
 * recorded ones with state_value_equal(), which fingerprints the desired
 * side where the recorded side is a secret. A string holding dynamic
 * references (value.h `dynref`) is stored as {"$secret": fp, "$dynref":
 * true}, fp being the fingerprint of its template text, and reads back
 * with the dynref bit.
 *
 * Threads: one handle, one thread (the executor's main thread). Nothing here
 * prints; errors come back in struct err (ERR_NOT_FOUND, ERR_LOCKED,
 * ERR_STATEDB for a damaged or foreign database, ERR_IO, ERR_TIMEOUT).
 *
 * Ownership: everything a get/list function returns (strings, value trees,
 * arrays) is allocated from the arena the caller passes and dies with it.
 * Input structs are only read during the call.
 */
#ifndef CAIRN_STATE_H
#define CAIRN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "value.h"

struct state;

/* The schema version this build writes (PRAGMA user_version). */
#define STATE_SCHEMA_VERSION 2

enum {
	/* create the file (mode 0600, and its parent directory, mode 0700)
	 * when it does not exist; without it a missing file is
	 * ERR_NOT_FOUND "no state found at 'PATH'" */
	STATE_OPEN_CREATE = 1,
	/* synchronous=NORMAL instead of FULL (benchmarks, throwaway states):
	 * survives a process crash, may lose the last commits on power loss */
	STATE_OPEN_SYNC_NORMAL = 2,
};

/*
 * Opens (and with STATE_OPEN_CREATE creates) the state at path, upgrading
 * its schema to STATE_SCHEMA_VERSION in one transaction. Refuses a file
 * that is not a cairn state or was written by a newer cairn (ERR_STATEDB).
 * Returns NULL and fills err on failure.
 */
struct state *state_open(const char *path, int flags, struct err *err);
/* Releases the lock if this handle holds it, then closes. NULL: no-op. */
void state_close(struct state *st);
/* The path given to state_open (borrowed from the handle). */
const char *state_path(const struct state *st);

/* ---- stack ---------------------------------------------------------- */

struct state_stack {
	const char *name;
	const char *region;
	const char *account;
	const char *template_digest; /* e.g. "sha256:<hex>" (state_digest) */
	/* map parameter name -> value; NoEcho values must carry the sensitive
	 * bit: they are stored as fingerprints. NULL means {} */
	struct value *parameters;
	int64_t serial;         /* read only: bumped by every change */
	const char *created_at; /* read only, "2026-01-31T12:00:00.000Z" */
	const char *updated_at; /* read only */
};

/* Always succeeds on an open state (a fresh state has empty fields,
 * serial 0). Strings are "" rather than NULL when unset. */
int state_stack_get(struct state *st, struct arena *a,
		    struct state_stack *out, struct err *err);
/* Records name, region, account, digest and parameters (NULL strings are
 * stored as ""); bumps the serial. */
int state_stack_put(struct state *st, const struct state_stack *in,
		    struct err *err);
/* The serial alone (cheap; a saved plan binds to it). -1 on error. */
int64_t state_serial(struct state *st, struct err *err);

/* ---- resources ------------------------------------------------------- */

enum state_status {
	STATE_CREATING, /* create call sent, not confirmed */
	STATE_CREATED,  /* exists as recorded */
	STATE_UPDATING, /* update call sent, not confirmed */
	STATE_DELETING, /* delete call sent, not confirmed */
	STATE_FAILED,   /* last operation failed (status_reason says why) */
	STATE_TAINTED,  /* exists but must be replaced on the next apply */
};

/* "creating", "created", ...; static storage. */
const char *state_status_name(enum state_status s);
/* Parses a status name; -1 when unknown. */
int state_status_parse(const char *name);

struct state_resource {
	const char *logical_id;
	const char *type;        /* "AWS::EC2::VPC" */
	const char *physical_id; /* NULL while AWS has not named it */
	struct value *properties; /* map as applied; NULL means {} */
	struct value *attributes; /* read-only attributes AWS returned; NULL = {} */
	const char **dependencies; /* logical ids it depends on */
	size_t n_dependencies;
	enum state_status status;
	const char *status_reason; /* NULL or why it failed / is tainted */
	/* the template's DeletionPolicy / UpdateReplacePolicy when applied
	 * ("Retain", "Snapshot"), so a resource removed from the template is
	 * still deleted or kept as it said; NULL = Delete */
	const char *deletion_policy;
	const char *update_replace_policy;
	const char *created_at;    /* read only */
	const char *updated_at;    /* read only */
	/* only from state_resource_list_raw(): the JSON text of properties
	 * and attributes (which are then NULL), for state_resource_decode();
	 * ignored by state_resource_put() */
	const char *properties_json;
	const char *attributes_json;
};

/* Returns 1 and fills *out when logical_id is recorded, 0 when it is not,
 * -1 on error. */
int state_resource_get(struct state *st, const char *logical_id,
		       struct arena *a, struct state_resource *out,
		       struct err *err);
/* Every resource, sorted by logical id; *out is an arena array of *n. */
int state_resource_list(struct state *st, struct arena *a,
			struct state_resource **out, size_t *n,
			struct err *err);
/* Like state_resource_list, but properties and attributes are left as
 * their JSON text (properties_json, attributes_json; the values NULL): a
 * caller that needs them a few resources at a time (a refresh of
 * thousands) holds text, a tenth of the decoded trees. */
int state_resource_list_raw(struct state *st, struct arena *a,
			    struct state_resource **out, size_t *n,
			    struct err *err);
/* The properties and attributes of a record from state_resource_list_raw,
 * decoded into a (secrets as state_resource_list gives them). Touches no
 * database: safe on any thread while st stays open. */
int state_resource_decode(const struct state *st, struct arena *a,
			  const struct state_resource *r,
			  struct value **props, struct value **attrs,
			  struct err *err);
/* Inserts or replaces the record (created_at is kept on replace); bumps
 * the serial. Committed before it returns. */
int state_resource_put(struct state *st, const struct state_resource *r,
		       struct err *err);
/* Changes only status and reason (reason may be NULL). ERR_NOT_FOUND when
 * the resource is not recorded. */
int state_resource_set_status(struct state *st, const char *logical_id,
			      enum state_status status, const char *reason,
			      struct err *err);
/* Forgets the record (AWS is not touched). ERR_NOT_FOUND when absent. */
int state_resource_delete(struct state *st, const char *logical_id,
			  struct err *err);

/* ---- outputs ----------------------------------------------------------- */

struct state_output {
	const char *name;
	struct value *value; /* sensitive nodes stored as fingerprints */
	const char *description; /* NULL when none */
	const char *export_name; /* NULL when none */
};

/* Replaces the whole set of outputs with these n; bumps the serial. */
int state_outputs_put(struct state *st, const struct state_output *outs,
		      size_t n, struct err *err);
/* Sorted by name. */
int state_outputs_list(struct state *st, struct arena *a,
		       struct state_output **out, size_t *n, struct err *err);

/* ---- journal ------------------------------------------------------------ */

/* What the executor is about to ask AWS to do. */
struct state_intent {
	const char *logical_id;
	const char *resource_type; /* may be NULL */
	const char *action;        /* "create", "update", "delete", or an API
				      operation such as "ec2:CreateVpc" */
	const char *physical_id;   /* the target, for update/delete; or NULL */
	const char *client_token;  /* idempotency token sent, or NULL */
	struct value *tags;        /* map of identifying tags sent, or NULL */
};

/* What AWS answered. */
struct state_outcome {
	bool ok;
	const char *physical_id; /* what AWS created, or NULL */
	const char *request_id;  /* AWS request id, or NULL */
	const char *error_code;  /* AWS error code when !ok, or NULL */
	const char *message;     /* short text, never a secret; or NULL */
};

struct state_journal_entry {
	int64_t id;
	int64_t intent_id; /* outcomes: the intent answered (0 for local
			      events such as "forget") */
	const char *at;
	const char *run_id; /* the lock id of the run that wrote it, or NULL */
	const char *kind;   /* "intent" or "outcome" */
	const char *logical_id;
	const char *resource_type;
	const char *action;
	const char *physical_id;
	const char *client_token;
	struct value *tags; /* NULL when none */
	const char *request_id;
	const char *result; /* "ok" / "error" for outcomes, NULL for intents */
	const char *error_code;
	const char *message;
};

/* Appends an intent row and commits; returns its id (> 0) or -1. */
int64_t state_journal_intent(struct state *st, const struct state_intent *in,
			     struct err *err);
/* Appends the outcome of intent_id and commits. ERR_STATEDB when intent_id
 * is not an intent or already has an outcome. */
int state_journal_outcome(struct state *st, int64_t intent_id,
			  const struct state_outcome *out, struct err *err);
/* Appends an outcome with no intent: a local event ("forget" for state rm)
 * recorded for history. */
int state_journal_event(struct state *st, const char *logical_id,
			const char *action, const char *message,
			struct err *err);
/*
 * Called on the writing thread after every intent is committed, before
 * state_journal_intent() returns; a failure (-1 with err) makes
 * state_journal_intent() fail, so the AWS call is not made. The S3 backend
 * uses it to upload the state before each mutating call: a crash then
 * never loses an intent, which is what finds the resource again.
 */
void state_set_intent_hook(struct state *st,
			   int (*fn)(void *ud, struct err *err), void *ud);

/*
 * Groups the writes between begin and end into one transaction: one commit
 * (one fsync) for, say, a resource's record and its journal outcome, and
 * either both are kept or neither. Groups nest; the outermost end commits
 * when rc == 0 and every write inside succeeded, and rolls back otherwise.
 * Returns rc, or -1 when the commit fails.
 */
int state_group_begin(struct state *st, struct err *err);
int state_group_end(struct state *st, int rc, struct err *err);

/* Intents that have no outcome yet (a crash between the AWS call and its
 * confirmation), oldest first. */
int state_journal_open_intents(struct state *st, struct arena *a,
			       struct state_journal_entry **out, size_t *n,
			       struct err *err);
/* The journal, oldest first. logical_id NULL: every resource. limit 0: all
 * rows, else only the newest `limit` rows (still oldest first). */
int state_journal_list(struct state *st, const char *logical_id,
		       size_t limit, struct arena *a,
		       struct state_journal_entry **out, size_t *n,
		       struct err *err);

/* ---- lock ------------------------------------------------------------------ */

#define STATE_LOCK_DEFAULT_LEASE 600.0 /* seconds */

struct state_lock_opts {
	double wait;    /* seconds to wait for a held lock; 0: fail at once */
	double lease;   /* seconds before an unrenewed lock expires; 0: default */
	const char *command; /* what holds it ("cairn apply vpc.yaml"); never
				pass argument values that may be secret */
};

struct state_lock_info {
	const char *lock_id;
	const char *user;
	const char *host;
	long pid;
	const char *command;
	const char *acquired_at;
	const char *expires_at;
	bool expired;
};

/*
 * Takes the lock for this handle. A lock whose lease has expired, or one
 * held by a process of this host that no longer exists, is taken over
 * (with a warning in the log). Otherwise waits up to opts->wait seconds,
 * then fails with ERR_LOCKED and a message naming the holder's user, host,
 * pid, command, since when, and the LOCK_ID to pass to `cairn unlock`.
 * While the handle holds the lock every write checks that it still does
 * (ERR_LOCKED if it was broken) and extends the lease when half of it has
 * run out.
 */
int state_lock_acquire(struct state *st, const struct state_lock_opts *opts,
		       struct err *err);
/* Extends the lease by its full length. ERR_LOCKED when the lock was lost. */
int state_lock_renew(struct state *st, struct err *err);
/* Drops the lock if this handle holds it; 0 when it holds none. */
int state_lock_release(struct state *st, struct err *err);
/* The lock id this handle holds (borrowed), or NULL. */
const char *state_lock_id(const struct state *st);
/* Returns 1 and fills *out when a lock row exists, 0 when none, -1. */
int state_lock_get(struct state *st, struct arena *a,
		   struct state_lock_info *out, struct err *err);
/* Breaks the lock if its id is lock_id: ERR_NOT_FOUND when there is no
 * lock, ERR_CONFLICT (naming the holder) when the id differs. */
int state_force_unlock(struct state *st, const char *lock_id,
		       struct err *err);

/* ---- secrets and digests ----------------------------------------------- */

/*
 * "hmac-sha256:<64 hex>" of v under the state's key: the HMAC of v's
 * canonical JSON (keys sorted, sensitive bits ignored). NULL when v contains
 * an unknown (it has no value yet). The caller frees the string.
 */
char *state_fingerprint(struct state *st, const struct value *v);
/*
 * Structural equality of a desired value with a recorded one (read from
 * this state): where the recorded side is a secret, the desired side's
 * fingerprint is compared instead. Unknowns are never equal.
 */
bool state_value_equal(struct state *st, const struct value *desired,
		       const struct value *recorded);
/* Whether v is a secret read back from a state (its text is the
 * fingerprint). */
bool state_value_is_secret(const struct value *v);
/* "sha256:<64 hex>" of the bytes; caller frees. */
char *state_digest(const void *data, size_t len);

#endif
