/*
 * The few OpenSSL calls the plan needs, behind plain functions: OpenSSL's
 * headers declare ERR_STATE, which clashes with cairn's error codes, so
 * only plan_crypto.c includes them.
 */
#ifndef CAIRN_PLAN_CRYPTO_H
#define CAIRN_PLAN_CRYPTO_H

#include <stddef.h>

/* 0 on success. */
int plan_sha256(const void *data, size_t len, unsigned char out[32]);
int plan_hmac_sha256(const void *key, size_t keylen, const void *data,
		     size_t len, unsigned char out[32]);
/* Cryptographically random bytes; 0 on success. */
int plan_random(unsigned char *buf, size_t n);
/* Wipes memory that held a secret. */
void plan_cleanse(void *p, size_t n);

#endif
