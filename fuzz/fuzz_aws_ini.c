/* libFuzzer: the shared config/credentials file parser. */
#include <stddef.h>
#include <stdint.h>

#include "../src/aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini ini;
	struct err err = ERR_INIT;
	size_t i;

	if (ini_parse((const char *)data, size, "fuzz", size & 1, &ini, &err) == 0) {
		for (i = 0; i < ini.n; i++)
			ini_get(&ini.s[i], "region");
		ini_section(&ini, "default");
		ini_release(&ini);
	}
	return 0;
}
