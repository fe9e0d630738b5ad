/* SPDX-License-Identifier: MIT */
/*
 * shmem.h: the memfd-threshold default from the kernel's large-folio
 * policy for shmem. A memfd's pages come from shmem; given one 4 KiB
 * page at a time, writing a fresh 1 MiB memfd costs ~530 us and freeing
 * it ~170 us on the reference VM, more than the socket copies it saves,
 * so only payloads too big to travel inline go as memfds. When the
 * kernel gives shmem large folios (transparent_hugepage/hugepages-*kB/
 * shmem_enabled "always" or "within_size"), the same memfd costs ~100 us
 * to write and ~10 us to free, and messages from 256 KiB up are cheaper
 * as memfds (measured in ipcd.conf(5), memfd-threshold).
 */
#ifndef IPCD_SHMEM_H
#define IPCD_SHMEM_H

#include <stddef.h>

/* Where the kernel shows its transparent huge page policy. */
#define SHMEM_THP_DIR "/sys/kernel/mm/transparent_hugepage"
/* The memfd-threshold default where large folios serve it. */
#define SHMEM_THRESHOLD_FOLIOS ((size_t)256 << 10)

/* The memfd-threshold the policy under thp_dir makes worth it: the
 * smallest payload whose memfd gets its pages in large folios of 64 KiB
 * to 2 MiB (a folio of size S serves payloads from S up under
 * "within_size", from S / 2 up under "always"), at least
 * SHMEM_THRESHOLD_FOLIOS; 0 when shmem gets no such folios. */
size_t shmem_memfd_threshold(const char *thp_dir);

#endif
