/* batchread: begin/end of the listings a refresh's reads share (see
 * include/cairn/batchread.h). */
#include "cairn/batchread.h"
#include "cairn/tagging.h"
#include "prov_int.h"

bool batchread_begin(struct aws_client *aws, const char *stack)
{
	if (!aws)
		return false;
	if (stack)
		tagging_begin(aws, stack);
	iam_details_begin(aws);
	secrets_list_begin(stack);
	return true;
}

void batchread_end(void)
{
	tagging_end();
	iam_details_end();
	secrets_list_end();
}
