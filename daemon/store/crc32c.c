/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c: CRC-32C, reflected, initial and final value 0xFFFFFFFF.
 *
 * The table version is slicing-by-8 (eight 256-entry tables, one 64-bit
 * load per step); the hardware version uses crc32q, 8 bytes per
 * instruction. Both give the same results (tests/check_store.c).
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CRC32C_X86 1
#endif

/* Reflected polynomial. */
#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static int crc32c_have_hw;

/* Fill the slicing tables and probe the CPU, once. */
static void crc32c_init(void)
{
	uint32_t c;
	unsigned i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc32c_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++) {
			c = crc32c_table[k - 1][i];
			crc32c_table[k][i] = (c >> 8) ^ crc32c_table[0][c & 0xFF];
		}
#ifdef CRC32C_X86
	__builtin_cpu_init();
	crc32c_have_hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* Little-endian 64-bit load from any alignment. */
static uint64_t crc32c_load64(const unsigned char *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The table version on the inverted state c. */
static uint32_t crc32c_sw_raw(uint32_t c, const unsigned char *p, size_t len)
{
	uint64_t v;

	for (; len >= 8; len -= 8, p += 8) {
		v = crc32c_load64(p) ^ c;
		c = crc32c_table[7][v & 0xFF] ^
		    crc32c_table[6][(v >> 8) & 0xFF] ^
		    crc32c_table[5][(v >> 16) & 0xFF] ^
		    crc32c_table[4][(v >> 24) & 0xFF] ^
		    crc32c_table[3][(v >> 32) & 0xFF] ^
		    crc32c_table[2][(v >> 40) & 0xFF] ^
		    crc32c_table[1][(v >> 48) & 0xFF] ^
		    crc32c_table[0][v >> 56];
	}
	while (len--)
		c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xFF];
	return c;
}

#ifdef CRC32C_X86
/* The SSE4.2 version on the inverted state c. */
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_raw(uint32_t c, const unsigned char *p, size_t len)
{
	uint64_t c64 = c, v;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v, p, 8);
		c64 = _mm_crc32_u64(c64, v);
	}
	c = (uint32_t)c64;
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		c = _mm_crc32_u32(c, w);
		p += 4;
		len -= 4;
	}
	while (len--)
		c = _mm_crc32_u8(c, *p++);
	return c;
}
#endif

/* CRC-32C by the table. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return ~crc32c_sw_raw(~crc, buf, len);
}

/* CRC-32C, by the CPU when it can. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
#ifdef CRC32C_X86
	if (crc32c_have_hw)
		return ~crc32c_hw_raw(~crc, buf, len);
#endif
	return ~crc32c_sw_raw(~crc, buf, len);
}

/* Does crc32c() use the CPU instruction? */
int crc32c_hw(void)
{
	pthread_once(&crc32c_once, crc32c_init);
	return crc32c_have_hw;
}
