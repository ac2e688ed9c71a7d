/*
 * batchread: account-wide listings that a refresh's reads share, so that
 * N resources cost a few paged calls instead of N point reads.
 *
 *  - tags: tag:GetResources filtered on cairn:stack (tagging.h), started
 *    at once on its own thread;
 *  - IAM: GetAccountAuthorizationDetails (roles with their inline and
 *    attached policies and tags), listed on first use by a role read and
 *    then answered from memory (iam_role_detail in prov_int.h).
 *
 * Outside batchread_begin() .. batchread_end() (apply, import) nothing is
 * listed and every read makes its point calls. A listing that fails (no
 * permission for the listing call) is logged and the reads fall back to
 * their point calls, so the listings only ever save calls.
 */
#ifndef CAIRN_BATCHREAD_H
#define CAIRN_BATCHREAD_H

#include <stdbool.h>

#include "aws.h"

/* stack may be NULL (no tag listing). types: the type of each of the n
 * resources the refresh reads (NULL: unknown), so the tag listing asks
 * only for the types present (tagging_begin). Returns whether anything
 * began; call batchread_end() only then. Not reentrant: one refresh at a
 * time. */
bool batchread_begin(struct aws_client *aws, const char *stack,
		     const char *const *types, size_t n);
void batchread_end(void);

#endif
