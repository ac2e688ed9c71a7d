/*
 * What `cairn refresh`, `cairn drift`, `cairn import` and `cairn plan`
 * share to read a stack's resources live (implemented in cmd_refresh.c).
 *
 * The AWS options: --profile, --endpoint-url, --max-attempts,
 * --request-timeout (--region belongs to the template options). The region
 * of the reads: --region, else the region the state recorded at apply,
 * else the AWS configuration's. The account: the one the state recorded.
 */
#ifndef CAIRN_CLI_REFRESH_CLI_H
#define CAIRN_CLI_REFRESH_CLI_H

#include <stdio.h>

#include "awsopts.h"
#include "cairn/refresh.h"
#include "cairn/state.h"

#define REFRESH_CLI_AWS_LONGOPTS                                              \
	{ "profile", required_argument, NULL, AWSOPT_PROFILE },              \
	{ "endpoint-url", required_argument, NULL, AWSOPT_ENDPOINT_URL },    \
	{ "max-attempts", required_argument, NULL, AWSOPT_MAX_ATTEMPTS },    \
	{ "request-timeout", required_argument, NULL, AWSOPT_REQUEST_TIMEOUT }

/*
 * Reads every resource of st live (refresh_read) with a client made from
 * aws (whose region, when NULL, becomes `region`, else the state's).
 * parallelism 0: the default. -1 with err when the client cannot be made
 * or the state read; read failures are items of res.
 */
int cli_refresh_read(struct state *st, const struct aws_options *aws,
		     const char *region, int parallelism, struct arena *a,
		     struct refresh_result *res, struct err *err);

/*
 * cairn plan's live read: reads st's resources, and when anything was
 * read, records what was observed in a private snapshot of st (never in st
 * itself), returned in *snap for plan_build (*snap_path: pass it to
 * refresh_snapshot_remove() after state_close(*snap)). *snap stays NULL
 * when nothing could be read. Prints one summary line to stderr. -1 with
 * err when a read failed (the plan would be made from stale data).
 */
int cli_plan_refresh(struct state *st, const struct aws_options *aws,
		     const char *region, struct state **snap, char **snap_path,
		     struct err *err);

/* -1 with err when st records another stack than the one the command
 * means (--stack, else the template's file name without extension). */
int cli_refresh_check_stack(struct state *st, const char *stack,
			    const char *template_path, struct err *err);

/* e's message with its AWS error code and request id appended where the
 * message does not already name them (modifies e->msg; returns it). */
const char *cli_refresh_err_text(struct err *e);

/* "  Path: recorded -> live" for each change of it (secrets as
 * (sensitive)). */
void cli_print_item_changes(FILE *f, const struct refresh_item *it,
			    const char *indent);

#endif
