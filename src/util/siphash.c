/*
 * siphash.c - SipHash-2-4-128 after the paper's reference: four 64-bit lanes, two
 * compression rounds per 8-byte word, four finalization rounds per 64-bit half.
 */
#include "util/common.h"
#include "util/siphash.h"

#include <sys/random.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct lanes {
	uint64_t v0, v1, v2, v3;
};

static void rounds(struct lanes *s, int n)
{
	for (int i = 0; i < n; i++) {
		s->v0 += s->v1;
		s->v1 = rotl(s->v1, 13);
		s->v1 ^= s->v0;
		s->v0 = rotl(s->v0, 32);
		s->v2 += s->v3;
		s->v3 = rotl(s->v3, 16);
		s->v3 ^= s->v2;
		s->v0 += s->v3;
		s->v3 = rotl(s->v3, 21);
		s->v3 ^= s->v0;
		s->v2 += s->v1;
		s->v1 = rotl(s->v1, 17);
		s->v1 ^= s->v2;
		s->v2 = rotl(s->v2, 32);
	}
}

static void absorb(struct lanes *s, uint64_t m)
{
	s->v3 ^= m;
	rounds(s, 2);
	s->v0 ^= m;
}

struct sip128 siphash128(const unsigned char key[SIPHASH_KEY_LEN], const void *msg, size_t len)
{
	const unsigned char *p = msg;
	const uint64_t k0 = le64(key), k1 = le64(key + 8);
	struct lanes s = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
	                  k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
	uint64_t last = (uint64_t)len << 56;
	size_t whole = len - len % 8;
	struct sip128 out;

	s.v1 ^= 0xee;
	for (size_t i = 0; i < whole; i += 8)
		absorb(&s, le64(p + i));
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)p[whole + i] << (8 * i);
	absorb(&s, last);
	s.v2 ^= 0xee;
	rounds(&s, 4);
	out.lo = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
	s.v1 ^= 0xdd;
	rounds(&s, 4);
	out.hi = s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
	return out;
}

int sip128_cmp(const void *a, const void *b)
{
	const struct sip128 *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

int siphash_random_key(unsigned char key[SIPHASH_KEY_LEN])
{
	size_t got = 0;
	while (got < SIPHASH_KEY_LEN) {
		ssize_t n = getrandom(key + got, SIPHASH_KEY_LEN - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}
