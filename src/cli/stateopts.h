/*
 * stateopts: the options of every command that reads or writes a stack's
 * state, and where its database is.
 *
 *   --stack NAME            the stack (state/NAME.db)
 *   --state PATH            the database, overriding the default path
 *   --lock-timeout DURATION how long to wait for a held lock (30s, 5m,
 *                           1h30m, 500ms; default 0: fail at once)
 *   --state-kms-key KEY     SSE-KMS key for an s3:// state (default SSE-S3)
 *   --state-region REGION   the state bucket's region (default: the AWS
 *                           options' region, else $CAIRN_STATE_REGION)
 *
 * The location: --state, else $CAIRN_STATE, else the `state` entry of a
 * cairn.yaml beside the template or in the current directory, else
 * state/<stack>.db. The first three may be s3://BUCKET/KEY (a remote
 * state, include/cairn/remote.h) and may contain "{stack}". cairn.yaml:
 *
 *     state:                       # or one string for every stack
 *       web: s3://team-state/cairn/web.db
 *       "*": s3://team-state/cairn/{stack}.db
 *     state_kms_key: alias/cairn-state   # optional
 *     state_region: eu-west-1            # optional: the bucket's region
 *
 * The path: --state, else state/<stack>.db relative to the current
 * directory, the stack coming from --stack, else from the template's file
 * name without its extension. Commands without a template (state, output,
 * unlock) given neither option use the only database under state/ if there
 * is exactly one.
 *
 * Commands that also take TMPLOPTS_LONGOPTS (which owns --stack) use
 * STATEOPTS_LONGOPTS_NOSTACK and pass tmplopts' stack to stateopts_path().
 *
 * Usage in a command:
 *   static const struct option opts[] = { STATEOPTS_LONGOPTS, ..., {0} };
 *   struct stateopts so; stateopts_init(&so);
 *   ... r = stateopts_handle(&so, c, optarg, &err); (1 handled, 0 not
 *       ours, -1 bad value: cli_usage_error with err.msg)
 *   char *path = stateopts_path(&so, NULL, template_path, &err);
 */
#ifndef CAIRN_CLI_STATEOPTS_H
#define CAIRN_CLI_STATEOPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "cairn/aws.h"
#include "cairn/err.h"
#include "cairn/remote.h"
#include "cairn/state.h"

enum {
	/* away from TMPLOPT_* (0x1000...) so both sets fit in one table */
	STATEOPT_STACK = 0x1100,
	STATEOPT_STATE,
	STATEOPT_LOCK_TIMEOUT,
	STATEOPT_KMS_KEY,
	STATEOPT_REGION,
};

#define STATEOPTS_LONGOPTS_NOSTACK                                           \
	{ "state", required_argument, NULL, STATEOPT_STATE },                \
	{ "lock-timeout", required_argument, NULL, STATEOPT_LOCK_TIMEOUT },   \
	{ "state-kms-key", required_argument, NULL, STATEOPT_KMS_KEY },      \
	{ "state-region", required_argument, NULL, STATEOPT_REGION }
#define STATEOPTS_LONGOPTS                                                   \
	{ "stack", required_argument, NULL, STATEOPT_STACK },                \
	STATEOPTS_LONGOPTS_NOSTACK

struct stateopts {
	const char *stack;      /* --stack, borrowed from argv; or NULL */
	const char *state_path; /* --state, borrowed from argv; or NULL */
	double lock_timeout;    /* seconds */
	const char *kms_key;    /* --state-kms-key, or cairn.yaml's; or NULL */
	const char *region;     /* --state-region, or cairn.yaml's; or NULL */
	/* the command's AWS options, for a remote state (NULL: defaults from
	 * the environment); set by the command before opening */
	const struct aws_options *aws;
	/* a read-only command (plan): a remote state is read without its
	 * lock object and never written back */
	bool read_only;
};

/* An open state: where it is, and for a remote one the handle that
 * uploads it (see stateopts_open). */
struct state_handle {
	char *location; /* the path or s3:// URL (owned) */
	struct remote *remote;
	struct aws_client *aws; /* owned, for a remote state */
	char *kms_key;          /* owned */
};

enum {
	STATEOPTS_LOCK = 1,     /* a remote state: take its lock object */
	STATEOPTS_WRITABLE = 2, /* a remote state: upload the changes */
};

/* The AWS options for a remote state's bucket: the command's (o->aws),
 * with --state-region / cairn.yaml's state_region / CAIRN_STATE_REGION. */
void stateopts_aws_options(const struct stateopts *o, struct aws_options *out);

/*
 * Opens the state at `location` (from stateopts_path): a local path with
 * state_open(open_flags), or an s3:// URL downloaded by remote_open (with
 * its lock when STATEOPTS_LOCK; uploads when STATEOPTS_WRITABLE). A missing
 * state without STATE_OPEN_CREATE: NULL with ERR_NOT_FOUND. h->location
 * takes a copy of location. Close with stateopts_close, even after NULL.
 */
struct state *stateopts_open(const struct stateopts *o, const char *location,
			     int open_flags, int remote_flags,
			     const char *command, struct state_handle *h,
			     struct err *err);
/* Closes st (may be NULL), then for a remote state uploads what changed,
 * releases its lock and removes the local copy. -1 with err when the final
 * upload failed (the message says where the local copy was kept). */
int stateopts_close(struct state_handle *h, struct state *st,
		    struct err *err);

void stateopts_init(struct stateopts *o);

/* 1 when opt is a state option (handled), 0 when not, -1 when its value is
 * invalid (err says why; a usage error). */
int stateopts_handle(struct stateopts *o, int opt, const char *arg,
		     struct err *err);

/* "30s", "5m", "1h30m", "250ms", "1.5s", a bare number (seconds); 0 and -1
 * with err (ERR_USAGE) when malformed or negative. */
int stateopts_parse_duration(const char *text, double *seconds,
			     struct err *err);

/* Whether name can be a stack name (and so a file name): letters, digits,
 * '-', '_', '.', not starting with '.', at most 128 characters. */
int stateopts_valid_stack(const char *name);

/*
 * The state path (malloc'd; the caller frees): --state, else
 * state/<stack>.db with stack = o->stack, else `stack`, else the template's
 * file name without extension; else the only state/ *.db. NULL with err
 * (ERR_USAGE) when no stack can be determined or the name is invalid.
 */
char *stateopts_path(const struct stateopts *o, const char *stack,
		     const char *template_path, struct err *err);

#endif
