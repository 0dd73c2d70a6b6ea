/*
 * sha256.h - SHA-256 (FIPS 180-4), small and dependency-free. Used to keep API tokens in
 * memory only as hashes, and HMAC-SHA256 to sign webhook deliveries.
 */
#ifndef SW_SHA256_H
#define SW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* One shot. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* HMAC-SHA256 (RFC 2104) of msg under key; any key length. */
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                 unsigned char out[SHA256_LEN]);
/* 1 when a and b (n bytes each) are equal; time depends on n only. */
int sha256_equal_ct(const unsigned char *a, const unsigned char *b, size_t n);

#endif
