#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "plan_crypto.h"

int plan_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) && n == 32
		       ? 0
		       : -1;
}

int plan_hmac_sha256(const void *key, size_t keylen, const void *data,
		     size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) &&
			       n == 32
		       ? 0
		       : -1;
}

int plan_random(unsigned char *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

void plan_cleanse(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
