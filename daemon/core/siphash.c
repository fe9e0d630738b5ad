/* SPDX-License-Identifier: MIT */
/*
 * siphash.c: SipHash-1-3, from the reference description. Every request
 * naming a queue or pipe hashes the name once, so the state lives in
 * four locals (registers) and words are loaded whole: a 12-byte name
 * costs about a third of the instructions a state array and a
 * byte-at-a-time load took (callgrind).
 */
#include <endian.h>
#include <string.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound over the state v0..v3. */
#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* A little-endian 64-bit word from 8 bytes. */
static inline uint64_t le64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return le64toh(w);
}

/* SipHash-1-3 of p[0..n) under the key k (siphash.h). */
uint64_t siphash13(const uint64_t k[2], const void *p, size_t n)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL, v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL, v3 = k[1] ^ 0x7465646279746573ULL;
	const unsigned char *in = p;
	unsigned char tail[8] = { 0 };
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	memcpy(tail, in + i, n - i);
	tail[7] = (unsigned char)n;
	m = le64(tail);
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
