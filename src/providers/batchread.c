/* batchread: begin/end of the listings a refresh's reads share (see
 * include/cairn/batchread.h). */
#include <string.h>

#include "cairn/batchread.h"
#include "cairn/tagging.h"
#include "prov_int.h"

bool batchread_begin(struct aws_client *aws, const char *stack,
		     const char *const *types, size_t n)
{
	/* log groups, repositories: tagging_begin's order */
	size_t counts[2] = { 0, 0 }, i;

	if (!aws)
		return false;
	for (i = 0; types && i < n; i++) {
		if (!strcmp(types[i], "AWS::Logs::LogGroup"))
			counts[0]++;
		else if (!strcmp(types[i], "AWS::ECR::Repository"))
			counts[1]++;
	}
	if (stack)
		tagging_begin(aws, stack, types ? counts : NULL);
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
