/*
 * siphash.h - SipHash-2-4 with a 128-bit result (Aumasson and Bernstein), keyed. Used where
 * a set must remember many strings in little memory and an outsider who chooses the strings
 * must not be able to make two of them collide: the key is random per process.
 */
#ifndef SW_SIPHASH_H
#define SW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* A 128-bit hash: lo holds the first 8 bytes of the reference output (little-endian). */
struct sip128 {
	uint64_t lo, hi;
};

struct sip128 siphash128(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t len);
/* Total order, for sorting and bsearch. */
int sip128_cmp(const void *a, const void *b);
/* Fill key with random bytes from the kernel (getrandom); 0, or -1 when none can be had. */
int siphash_random_key(unsigned char key[SIPHASH_KEY_LEN]);

#endif
