/*
 * stateopts: the options of every command that reads or writes a stack's
 * state, and where its database is.
 *
 *   --stack NAME            the stack (state/NAME.db)
 *   --state PATH            the database, overriding the default path
 *   --lock-timeout DURATION how long to wait for a held lock (30s, 5m,
 *                           1h30m, 500ms; default 0: fail at once)
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

#include "cairn/err.h"
#include "cairn/state.h"

enum {
	/* away from TMPLOPT_* (0x1000...) so both sets fit in one table */
	STATEOPT_STACK = 0x1100,
	STATEOPT_STATE,
	STATEOPT_LOCK_TIMEOUT,
};

#define STATEOPTS_LONGOPTS_NOSTACK                                           \
	{ "state", required_argument, NULL, STATEOPT_STATE },                \
	{ "lock-timeout", required_argument, NULL, STATEOPT_LOCK_TIMEOUT }
#define STATEOPTS_LONGOPTS                                                   \
	{ "stack", required_argument, NULL, STATEOPT_STACK },                \
	STATEOPTS_LONGOPTS_NOSTACK

struct stateopts {
	const char *stack;      /* --stack, borrowed from argv; or NULL */
	const char *state_path; /* --state, borrowed from argv; or NULL */
	double lock_timeout;    /* seconds */
};

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
