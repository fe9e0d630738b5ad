/* SPDX-License-Identifier: MIT */
/* shmem.c: the memfd-threshold default from the kernel's shmem policy. */
#include <stdio.h>
#include <string.h>

#include "shmem.h"

/* Folio sizes that count: smaller ones save too little, PMD is the top. */
#define SHMEM_FOLIO_MIN_KB 64u
#define SHMEM_FOLIO_MAX_KB 2048u
/* The PMD size, whose per-size file older kernels lack (then: inherit). */
#define SHMEM_PMD_KB 2048u

/* The policies of a shmem_enabled file ("advise" needs a mapping with
 * MADV_HUGEPAGE, which a write() into a memfd has not: as never). */
enum shmem_policy { SP_NEVER, SP_ALWAYS, SP_WITHIN, SP_INHERIT, SP_FORCE, SP_DENY,
		    SP_MISSING };

/* The policy a shmem_enabled file selects (the word in brackets). */
static enum shmem_policy shmem_policy_read(const char *path)
{
	static const char *const names[] = { "never", "always", "within_size", "inherit",
					      "force", "deny" };
	char buf[160], *sel, *end;
	FILE *f = fopen(path, "r");
	size_t n, i;

	if (f == NULL)
		return SP_MISSING;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((sel = strchr(buf, '[')) == NULL || (end = strchr(sel, ']')) == NULL)
		return SP_NEVER;
	*end = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(sel + 1, names[i]) == 0)
			return (enum shmem_policy)i;
	return SP_NEVER;
}

/* The policy for folios of kb KiB, given the top-level one. */
static enum shmem_policy shmem_policy_of(const char *thp_dir, unsigned kb,
					 enum shmem_policy top)
{
	char path[512];
	enum shmem_policy p;

	snprintf(path, sizeof(path), "%s/hugepages-%ukB/shmem_enabled", thp_dir, kb);
	p = shmem_policy_read(path);
	if (p == SP_MISSING && kb == SHMEM_PMD_KB)
		p = SP_INHERIT;
	if (p == SP_INHERIT)
		p = top;
	return top == SP_FORCE && kb == SHMEM_PMD_KB ? SP_ALWAYS : p;
}

/* The memfd-threshold default for the policy under thp_dir (shmem.h). */
size_t shmem_memfd_threshold(const char *thp_dir)
{
	char path[512];
	enum shmem_policy top, p;
	size_t best = 0, from;
	unsigned kb;

	snprintf(path, sizeof(path), "%s/shmem_enabled", thp_dir);
	top = shmem_policy_read(path);
	if (top == SP_DENY || top == SP_MISSING)
		return 0;
	for (kb = SHMEM_FOLIO_MIN_KB; kb <= SHMEM_FOLIO_MAX_KB; kb *= 2) {
		p = shmem_policy_of(thp_dir, kb, top);
		if (p != SP_ALWAYS && p != SP_WITHIN)
			continue;
		from = ((size_t)kb << 10) / (p == SP_ALWAYS ? 2 : 1);
		if (from < SHMEM_THRESHOLD_FOLIOS)
			from = SHMEM_THRESHOLD_FOLIOS;
		if (best == 0 || from < best)
			best = from;
	}
	return best;
}
