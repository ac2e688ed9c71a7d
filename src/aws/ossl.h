/*
 * OpenSSL headers for src/aws. OpenSSL's types.h declares a typedef
 * ERR_STATE, which collides with cairn's error code ERR_STATE (errors.def);
 * the macro renames OpenSSL's typedef, which cairn never uses.
 */
#ifndef CAIRN_AWS_OSSL_H
#define CAIRN_AWS_OSSL_H

#define ERR_STATE openssl_ERR_STATE_unused
#include <openssl/crypto.h>
#include <openssl/evp.h>
#undef ERR_STATE

#endif
