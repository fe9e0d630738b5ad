/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h: CRC-32C (Castagnoli, the iSCSI/ext4 polynomial 0x1EDC6F41),
 * which the journal stores with every record. The SSE4.2 instruction is
 * used when the CPU has it; otherwise a slicing-by-8 table.
 */
#ifndef IPCD_CRC32C_H
#define IPCD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over len bytes of buf; the result can be fed
 * back in to continue: crc32c(crc32c(0, a, n), b, m) == crc32c(0, ab, n+m). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The same with the table alone (for tests and CPUs without SSE4.2). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* 1 when crc32c() uses the CPU instruction. */
int crc32c_hw(void);

#endif
