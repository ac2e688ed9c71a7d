/*
 * tagging: the tags of every resource of a stack from the Resource Groups
 * Tagging API, so a refresh reads them in a few calls instead of one
 * ListTagsForResource per resource.
 *
 * tagging_begin() starts, on a thread of its own (two: see below), the listing
 * tag:GetResources filtered on cairn:stack = <stack> and on the types
 * whose reads have no other way to get tags (logs:log-group,
 * ecr:repository; EC2, ECS, IAM and Secrets Manager return tags in their
 * Describe/list calls), 100 resources a page (AWS's maximum), the pages
 * back to back; the refresh's reads run
 * meanwhile. A provider's read asks tagging_lookup() for a resource's tags
 * by ARN: it waits for the listing if it is still running, then answers
 * from it. When the ARN is not in the listing (the resource lost its
 * cairn:stack tag, or was never tagged, e.g. imported), or no listing is
 * running (apply, import), or the listing failed (no permission for
 * tag:GetResources), the lookup says so and the provider makes its point
 * ListTagsForResource as before: the index only ever saves calls, it never
 * changes what a read reports.
 *
 * One listing at a time per process (refresh runs once per command).
 * tagging_end() frees it. tagging_unknown() gives the ARNs the listing
 * found that no lookup asked for: log groups and repositories tagged for
 * the stack that the state does not know (not yet used by a command).
 */
#ifndef CAIRN_TAGGING_H
#define CAIRN_TAGGING_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "aws.h"
#include "value.h"

/* Starts the listing for stack (a no-op returning false when one runs).
 * counts: how many log groups and repositories (in that order) the state
 * records, or NULL when unknown: a type with none is not listed (none at
 * all: no listing, false), and more than 200 in all are listed as two
 * listings side by side, one a type. */
bool tagging_begin(struct aws_client *aws, const char *stack,
		   const size_t *counts);

/* The tags of arn as the listing saw them ([{Key,Value}] copied into a,
 * AWS's shape, every key), or NULL when the listing has no answer for it
 * (then read them the usual way). Waits for the listing. Thread-safe. */
struct value *tagging_lookup(struct arena *a, const char *arn);

/* Waits for the listing; the number of resources it found, and of calls
 * it made; false when none ran or it failed. */
bool tagging_stats(size_t *resources, size_t *calls);

/* The ARNs listed but never looked up (sorted; strings in a), *n set.
 * Waits for the listing. NULL when none ran. */
const char **tagging_unknown(struct arena *a, size_t *n);

/* Synchronously, every type: tag:GetResources filtered on cairn:stack =
 * stack, 100 a page, the pages back to back; the ResourceTagMappingList
 * entries ({ResourceARN, Tags}) of all pages in one list in a, *calls the
 * pages asked for. NULL with err set when a call fails (AccessDenied
 * included: the caller decides what to fall back to). Independent of the
 * refresh's listing above (drift --unmanaged). */
const struct value *tagging_list(struct aws_client *aws, const char *stack,
				 struct arena *a, size_t *calls, struct err *err);

/* Waits for the listing and frees it. */
void tagging_end(void);

#endif
