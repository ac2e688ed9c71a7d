/*
 * schema_data: the registry schemas embedded by embed_schemas.py (the
 * generated schema_data.c), one compact JSON text per type, sorted by type
 * name. Private to src/schema/.
 */
#ifndef CAIRN_SCHEMA_DATA_H
#define CAIRN_SCHEMA_DATA_H

#include <stddef.h>

struct schema_blob {
	const char *type_name;
	const char *const *chunks; /* NULL-terminated; concatenated = JSON */
	size_t len;                /* total bytes */
};

extern const struct schema_blob schema_blobs[];
extern const size_t schema_blob_count;

#endif
