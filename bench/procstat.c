/* SPDX-License-Identifier: MIT */
/*
 * procstat.c: whose CPU time it was, from parsed /proc/PID/stat lines.
 *
 * Pure functions over a table of processes (noise.c reads /proc and
 * keeps the tables; tests/check_noise.c feeds made-up ones). Each process
 * is one of three kinds: a kernel thread (PF_KTHREAD: jbd2 committing the
 * journal our fdatasync asked for, kworkers, ksoftirqd, kswapd), ours (the
 * bench, every descendant of it, and every daemon it started, adopted by
 * pid whatever its parent is now, with their descendants), or another
 * user process. A process's time is utime + stime, plus cutime + cstime
 * for user processes: the children it reaped, so a short-lived process
 * (a compiler under make, a shell loop's commands) still shows up in its
 * parent's figure once it is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define PF_KTHREAD 0x00200000UL   /* include/linux/sched.h */

int proc_parse_stat(const char *line, double hz, struct proc_ent *e)
{
	const char *open = strchr(line, '('), *close = strrchr(line, ')');
	unsigned long long ut, st, cut, cst;
	size_t n;

	if (open == NULL || close == NULL || close < open || hz <= 0)
		return -1;
	memset(e, 0, sizeof *e);
	e->pid = strtol(line, NULL, 10);
	n = (size_t)(close - open - 1);   /* the command may hold spaces and ')' */
	if (n >= sizeof e->comm)
		n = sizeof e->comm - 1;
	memcpy(e->comm, open + 1, n);
	if (sscanf(close + 1, " %c %ld %*d %*d %*d %*d %lu %*u %*u %*u %*u %llu %llu %llu %llu",
		   &e->state, &e->ppid, &e->flags, &ut, &st, &cut, &cst) != 7)
		return -1;
	e->cpu = (double)(ut + st) / hz;
	e->kids = (double)(cut + cst) / hz;
	return 0;
}

/* qsort/bsearch order of processes by pid. */
static int ent_cmp(const void *a, const void *b)
{
	long x = ((const struct proc_ent *)a)->pid, y = ((const struct proc_ent *)b)->pid;

	return (x > y) - (x < y);
}

/* The entry of pid in v (sorted by pid), or NULL. */
static const struct proc_ent *ent_find(const struct proc_ent *v, size_t n, long pid)
{
	struct proc_ent key;

	key.pid = pid;
	return n ? bsearch(&key, v, n, sizeof *v, ent_cmp) : NULL;
}

/* 1 when pid is one of the roots. */
static int is_root(long pid, const long *roots, size_t nroots)
{
	size_t i;

	for (i = 0; i < nroots; i++)
		if (roots[i] == pid)
			return 1;
	return 0;
}

/* 1 when e or one of its ancestors in v is a root. */
static int in_tree(const struct proc_ent *v, size_t n, const struct proc_ent *e,
		   const long *roots, size_t nroots)
{
	unsigned depth;

	/* A parent chain is finite (pid 1 or 0 ends it); the bound only
	 * guards against a table read while processes came and went. */
	for (depth = 0; e != NULL && depth < 64; depth++) {
		if (is_root(e->pid, roots, nroots))
			return 1;
		if (e->ppid <= 1)
			return 0;
		e = ent_find(v, n, e->ppid);
	}
	return 0;
}

void proc_classify(struct proc_ent *v, size_t n, const long *roots, size_t nroots)
{
	size_t i;

	qsort(v, n, sizeof *v, ent_cmp);
	for (i = 0; i < n; i++) {
		if ((v[i].flags & PF_KTHREAD) || v[i].pid == 2 || v[i].ppid == 2)
			v[i].kind = PROC_KERN;
		else if (in_tree(v, n, &v[i], roots, nroots))
			v[i].kind = PROC_OURS;
		else
			v[i].kind = PROC_OTHER;
	}
}

/* The CPU seconds e counts for: a kernel thread's own, a user process's
 * own and its reaped children's. */
static double ent_cpu(const struct proc_ent *e)
{
	return e->kind == PROC_KERN ? e->cpu : e->cpu + e->kids;
}

/* Insert e's secs into top[0..k), kept largest first (zeros: free). */
static void top_insert(struct proc_top *top, size_t k, const struct proc_ent *e, double secs)
{
	size_t pos = 0;

	while (pos < k && top[pos].secs >= secs)
		pos++;
	if (pos == k)
		return;
	memmove(&top[pos + 1], &top[pos], (k - pos - 1) * sizeof *top);
	top[pos].pid = e->pid;
	top[pos].kind = e->kind;
	top[pos].secs = secs;
	snprintf(top[pos].comm, sizeof top[pos].comm, "%s", e->comm);
}

/* The nearest ancestor (per table a) of a's process e that is still in
 * b and a user process, or NULL: who collected e's time if it is gone. */
static const struct proc_ent *collector(const struct proc_ent *a, size_t na,
					const struct proc_ent *b, size_t nb,
					const struct proc_ent *e)
{
	const struct proc_ent *p;
	unsigned depth;

	for (depth = 0; e != NULL && depth < 64; depth++) {
		p = ent_find(b, nb, e->ppid);
		if (p != NULL)
			return p->kind == PROC_KERN ? NULL : p;
		e = ent_find(a, na, e->ppid);
	}
	return NULL;
}

/* Each process of b's CPU since table a, into d[0..nb): its own and its
 * reaped children's time, less what the processes it collected since a
 * (its children, and theirs if they are gone too) had already used at a.
 * A process new in b counts all its time; a kernel thread gone since a
 * takes its time with it (kthreadd collects nothing). */
static void proc_deltas(const struct proc_ent *a, size_t na, const struct proc_ent *b,
			size_t nb, double *d)
{
	const struct proc_ent *e;
	size_t i;

	for (i = 0; i < nb; i++) {
		e = ent_find(a, na, b[i].pid);
		d[i] = ent_cpu(&b[i]) - (e != NULL ? ent_cpu(e) : 0);
	}
	for (i = 0; i < na; i++)
		if (a[i].kind != PROC_KERN && ent_find(b, nb, a[i].pid) == NULL &&
		    (e = collector(a, na, b, nb, &a[i])) != NULL)
			d[e - b] -= ent_cpu(&a[i]);
}

size_t proc_diff(const struct proc_ent *a, size_t na, const struct proc_ent *b, size_t nb,
		 double sum[PROC__KINDS], struct proc_top *top, size_t k)
{
	double *d = calloc(nb ? nb : 1, sizeof *d);
	size_t i, got = 0;

	memset(sum, 0, PROC__KINDS * sizeof sum[0]);
	for (i = 0; i < k; i++)
		top[i].secs = 0;
	if (d == NULL)
		return 0;
	proc_deltas(a, na, b, nb, d);
	/* Below 0: it lost a child it did not collect (SIGCHLD ignored), or
	 * its children's time went to another reaper; that must not hide
	 * what others used. */
	for (i = 0; i < nb; i++) {
		if (d[i] <= 0)
			continue;
		sum[b[i].kind] += d[i];
		if (b[i].kind != PROC_OURS)
			top_insert(top, k, &b[i], d[i]);
	}
	free(d);
	while (got < k && top[got].secs > 0)
		got++;
	return got;
}
