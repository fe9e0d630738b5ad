/* SPDX-License-Identifier: MIT */
/* siphash.c: SipHash-1-3, from the reference description. */
#include <string.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound over the state v[0..3]. */
static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

/* A little-endian 64-bit word from 8 bytes. */
static uint64_t le64(const unsigned char *p)
{
	uint64_t w = 0;
	int i;

	for (i = 7; i >= 0; i--)
		w = (w << 8) | p[i];
	return w;
}

/* Mix one message word m into the state (one compression round). */
static void sipcompress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	v[0] ^= m;
}

uint64_t siphash13(const uint64_t k[2], const void *p, size_t n)
{
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
			  k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL };
	const unsigned char *in = p;
	unsigned char tail[8] = { 0 };
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		sipcompress(v, le64(in + i));
	memcpy(tail, in + i, n - i);
	tail[7] = (unsigned char)n;
	sipcompress(v, le64(tail));
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
