/*
 * The few OpenSSL calls the state module makes, behind plain functions:
 * OpenSSL's headers declare a type named ERR_STATE, which collides with
 * cairn's error code of that name, so only crypto.c includes them.
 */
#ifndef CAIRN_STATE_CRYPTO_H
#define CAIRN_STATE_CRYPTO_H

#include <stddef.h>

#define STATE_SHA256_LEN 32

/* 0 on success, -1 when the random generator fails */
int state_random_bytes(void *buf, size_t n);
void state_hmac_sha256(const void *key, size_t key_len, const void *data,
		       size_t len, unsigned char out[STATE_SHA256_LEN]);
void state_sha256(const void *data, size_t len,
		  unsigned char out[STATE_SHA256_LEN]);
/* memset that the compiler may not optimise away */
void state_cleanse(void *p, size_t n);

#endif
