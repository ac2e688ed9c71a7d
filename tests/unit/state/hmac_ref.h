#ifndef HMAC_REF_H
#define HMAC_REF_H
#include <stddef.h>
void hmac_ref_hex(const unsigned char *key, size_t key_len, const char *msg,
		  size_t len, char out[65]);
#endif
