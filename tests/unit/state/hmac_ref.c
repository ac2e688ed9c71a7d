/* Reference HMAC-SHA256 for the tests, straight from OpenSSL, kept apart
 * because OpenSSL's headers declare a type that collides with ERR_STATE. */
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac_ref.h"

void hmac_ref_hex(const unsigned char *key, size_t key_len, const char *msg,
		  size_t len, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, len,
	     mac, &n);
	for (i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	out[64] = '\0';
}
