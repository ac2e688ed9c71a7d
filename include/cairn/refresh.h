/*
 * refresh: live reads of every resource a state records, and what moved.
 *
 * refresh_read() groups the recorded resources by type and reads them with
 * the providers: a type with read_many() in batches (one Describe per batch
 * of at most the API's ids per call), the others one read() each, all of it
 * on a small pool of worker threads (the AWS client is thread-safe; the
 * state is only touched by the calling thread). Each resource comes back
 * unchanged, drifted (the property-level changes, recorded -> live), gone,
 * skipped (no physical id, no provider) or failed (the read's error).
 *
 * What counts as drift (the same rules as CloudFormation's drift detection):
 *  - only properties the state records are compared: a property AWS
 *    reports that the template never set is AWS's default, not drift
 *    (refresh_project: at every depth, so a default AWS fills into a
 *    recorded rule or setting is not drift either);
 *  - write-only properties (schema writeOnlyProperties: secret values,
 *    passwords) are never compared, since AWS never returns them;
 *  - the identifying tags cairn adds (cairn:*) and AWS's own (aws:*) are
 *    left out of observed Tags lists;
 *  - a string holding a JSON document (LifecyclePolicyText) equals one
 *    holding the same document with other spacing or key order;
 *  - a recorded secret (a fingerprint) is compared by fingerprinting the
 *    live value, so no secret is ever shown or stored;
 *  - relationship properties (provider_relations: a role's policies, a
 *    group's rules, a table's routes ...) have one owner: live items that
 *    another recorded resource of the stack declares, or that AWS put
 *    there itself, are left out; items nobody declares are drift even
 *    where the state records no such property (docs/ownership.md);
 *  - a write-only value whose version can be read (provider_versioned: a
 *    secret) drifted when the live version is not the recorded one; its
 *    record then becomes a fingerprint no value has, so a plan rewrites it.
 *
 * refresh_write() then records what was observed: the compared properties
 * replaced by their live values (write-only ones kept as recorded), the
 * attributes updated, the physical id if the provider reports a new one,
 * and gone resources removed from the state with the journal event
 * "refresh: gone". refresh_snapshot() gives `plan` a private copy of the
 * state to refresh and plan against without touching the real one.
 *
 * Ownership: everything in a struct refresh_result lives in the arena given
 * to refresh_read(). Nothing here prints.
 */
#ifndef CAIRN_REFRESH_H
#define CAIRN_REFRESH_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "aws.h"
#include "err.h"
#include "plan.h"
#include "state.h"
#include "value.h"

enum refresh_status {
	REFRESH_UNCHANGED,
	REFRESH_DRIFTED,
	REFRESH_GONE,
	REFRESH_SKIPPED, /* not read: no physical id, or no provider */
	REFRESH_FAILED,  /* the read failed: err says why */
};

/* "unchanged", "drifted", "gone", "skipped", "failed" */
const char *refresh_status_name(enum refresh_status s);

struct refresh_item {
	const char *logical_id;
	const char *type;
	const char *physical_id; /* as recorded */
	const struct state_resource *rec; /* the record read (in the arena) */
	enum refresh_status status;
	/* drifted: before = recorded, after = live (kind ADD: set live only
	 * where the state recorded a container; REMOVE: recorded, no longer
	 * set live). sensitive changes must be shown as "(sensitive)". */
	struct plan_changes changes;
	/* unchanged/drifted: what refresh_write() records */
	const char *new_physical_id;
	struct value *new_props;
	struct value *new_attrs;
	const char *reason; /* skipped: why */
	struct err *err;    /* failed: why (in the arena); NULL otherwise */
};

struct refresh_opts {
	int parallelism; /* worker threads; 0: 16 (the reads wait on AWS) */
	const char *stack;
	const char *region;
	const char *account;
	const char *partition; /* NULL: "aws" */
	/* ids per read_many call; 0: the API's maximum for the type */
	size_t batch_max;
	/* a resource read as gone whose record changed recently
	 * (CAIRN_SETTLE_RECENT_SECONDS, default 300) is read again, backing
	 * off, for at most this many seconds before it counts as gone
	 * (eventual consistency: a new id not visible yet);
	 * 0: CAIRN_SETTLE_SECONDS (default 20); negative: never */
	double fresh_seconds;
};

struct refresh_result {
	struct refresh_item *items; /* sorted by logical id, in the arena */
	size_t n;
	size_t unchanged, drifted, gone, skipped, failed;
	size_t batches; /* read_many calls made */
	size_t singles; /* read calls made */
	double seconds;
};

/*
 * Reads every resource recorded in st live. Returns 0 when the reads ran
 * (individual failures are items with REFRESH_FAILED), -1 with err when
 * the state cannot be read. The state is not written.
 */
int refresh_read(struct arena *a, struct state *st, struct aws_client *aws,
		 const struct refresh_opts *o, struct refresh_result *res,
		 struct err *err);

/*
 * Records res in st (which the caller has locked, or which is a snapshot):
 * unchanged and drifted resources get their observed properties,
 * attributes and physical id, gone ones are removed (journal event
 * "refresh: gone"). Skipped and failed ones are left as they are.
 * Returns the number of records changed, or -1 with err.
 */
int refresh_write(struct state *st, const struct refresh_result *res,
		  struct err *err);

/*
 * The type's largest id list one read_many call may take (the API's limit
 * of its Describe call: ECS DescribeServices 10, most others 100).
 */
size_t refresh_batch_max(const char *type);

/*
 * The properties a live read returned, made comparable with what the
 * state records: cairn:* and aws:* tags dropped from Tags lists. Returns
 * a copy in a (observed is not modified); NULL stays NULL.
 */
struct value *refresh_clean_observed(struct arena *a,
				     const struct value *observed);

/*
 * observed reduced to the shape of `shape` (what the state records, or the
 * template's properties for an import): map keys shape does not have are
 * dropped, at every depth; the map elements of a list keep the keys some
 * element of shape's list has (AWS fills in defaults the template left
 * out, such as a rule's FromPort -1). Values not reduced are shared with
 * observed, not copied. NULL observed or shape: observed.
 */
struct value *refresh_project(struct arena *a, const struct value *observed,
			      const struct value *shape);

/*
 * The drift of one resource: appends to out the changes from recorded to
 * observed under the rules above (schema may be NULL; st may be NULL, then
 * recorded secrets always differ). Returns the number appended.
 */
size_t refresh_diff(struct arena *a, struct state *st,
		    const struct schema_type *schema,
		    const struct value *recorded, const struct value *observed,
		    struct plan_changes *out);

/*
 * What the state should record after a refresh: recorded, with every
 * top-level property that `changes` (refresh_diff's) touches replaced by
 * its observed value (dropped when no longer set live; a live value that
 * replaces one holding a secret is marked sensitive, so only its
 * fingerprint is stored). Untouched and write-only properties stay as
 * recorded, secrets as fingerprints. In a.
 */
struct value *refresh_merge(struct arena *a, const struct schema_type *schema,
			    const struct value *recorded,
			    const struct value *observed,
			    const struct plan_changes *changes);

/*
 * A private copy of st (a consistent snapshot, in a 0600 temporary file)
 * that can be refreshed and planned against without touching st. *path_out
 * is the copy's path (malloc'd): pass it to refresh_snapshot_remove() after
 * state_close(). NULL with err on failure.
 */
struct state *refresh_snapshot(struct state *st, char **path_out,
			       struct err *err);
/* Removes the snapshot's files (and their WAL/SHM companions); frees path.
 * NULL is a no-op. */
void refresh_snapshot_remove(char *path);

/*
 * Reads one resource by physical id with its type's provider (import):
 * props (cleaned), attrs and the physical id the provider reports. The
 * provider's ERR_NOT_FOUND passes through, after a few more reads for up
 * to o->fresh_seconds (0: 3 s; negative: none), since a resource made
 * moments ago may not be visible yet. Values in a.
 */
int refresh_read_one(struct arena *a, struct aws_client *aws,
		     const struct refresh_opts *o, const char *type,
		     const char *logical_id, const char *physical_id,
		     const char **physical_out, struct value **props_out,
		     struct value **attrs_out, struct err *err);

#endif
