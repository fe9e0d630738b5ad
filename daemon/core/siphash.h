/* SPDX-License-Identifier: MIT */
/*
 * siphash.h: SipHash-1-3 (Aumasson and Bernstein's keyed hash with one
 * compression and three finalization rounds, as CPython and Rust use for
 * their hash tables). With a secret random key, a client cannot choose
 * names that fall into one bucket.
 */
#ifndef IPCD_SIPHASH_H
#define IPCD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of p[0..n) under the 128-bit key k[0], k[1]. */
uint64_t siphash13(const uint64_t k[2], const void *p, size_t n);

#endif
