// The low-level SHA-256 interface is deprecated in OpenSSL 3 in favour of EVP, whose context is allocated
// per use; it is still shipped and is the same code (SHA-NI/AVX2 dispatch) without the allocation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "csha256.h"

void csha256(const void *data, size_t length, uint8_t out[32]) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, length);
    SHA256_Final(out, &ctx);
}

void csha256_prefixed(uint8_t prefix, const uint8_t first[32], const uint8_t *second, uint8_t out[32]) {
    uint8_t buffer[65];
    buffer[0] = prefix;
    for (int i = 0; i < 32; i++) buffer[1 + i] = first[i];
    size_t n = 33;
    if (second) {
        for (int i = 0; i < 32; i++) buffer[33 + i] = second[i];
        n = 65;
    }
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, buffer, n);
    SHA256_Final(out, &ctx);
}
