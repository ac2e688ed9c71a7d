/* libFuzzer: the AWS XML response reader and the error-body parser. */
#include <stddef.h>
#include <stdint.h>

#include "../src/aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	struct aws_error_info info;
	struct strbuf sb = STRBUF_INIT;

	aws_xml_to_value(a, (const char *)data, size, 0, &err);
	aws_xml_to_value(a, (const char *)data, size, 1, &err);
	aws_parse_error((const char *)data, size, NULL, &info);
	aws_redact_body((const char *)data, size, &sb);
	strbuf_release(&sb);
	arena_free(a);
	return 0;
}
