/* libFuzzer: JSON responses (errors, credentials documents). */
#include <stddef.h>
#include <stdint.h>

#include "../src/aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	struct aws_error_info info;
	struct aws_creds c;

	value_from_json(a, (const char *)data, size, 0, &err);
	aws_parse_error((const char *)data, size, "X:y", &info);
	if (aws_creds_from_json((const char *)data, size, 1, &c, &err) == 0)
		aws_creds_wipe(&c);
	arena_free(a);
	return 0;
}
