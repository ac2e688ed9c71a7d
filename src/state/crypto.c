#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"

int state_random_bytes(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

void state_hmac_sha256(const void *key, size_t key_len, const void *data,
		       size_t len, unsigned char out[STATE_SHA256_LEN])
{
	unsigned int out_len = STATE_SHA256_LEN;

	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

void state_sha256(const void *data, size_t len,
		  unsigned char out[STATE_SHA256_LEN])
{
	unsigned int out_len = STATE_SHA256_LEN;

	EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL);
}

void state_cleanse(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
