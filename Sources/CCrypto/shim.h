// CCrypto: the parts of OpenSSL libcrypto that SigV4 needs (SHA-256, HMAC-SHA-256).
#ifndef BUCKETFS_CCRYPTO_SHIM_H
#define BUCKETFS_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#endif
