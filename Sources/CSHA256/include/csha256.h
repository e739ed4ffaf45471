#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 of `length` bytes at `data`, into `out` (32 bytes). One stack context, no allocation: the audit
/// chain's per-row path (a row hash, a Merkle leaf and a Merkle node per row).
void csha256(const void *data, size_t length, uint8_t out[32]);

/// SHA-256 of `prefix` followed by the 32-byte `first` and, when not NULL, the 32-byte `second`
/// (RFC 6962 leaf and node hashes).
void csha256_prefixed(uint8_t prefix, const uint8_t first[32], const uint8_t *second, uint8_t out[32]);

#endif
