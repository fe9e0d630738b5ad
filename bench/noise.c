/* SPDX-License-Identifier: MIT */
/*
 * noise.c: how much CPU other processes took while the bench ran.
 *
 * On a 2-core machine one busy process elsewhere halves ipcd's figures
 * and not its peers' alike, so every row records what the rest of the
 * machine did meanwhile. Each snapshot reads every /proc/PID/stat and
 * sums the CPU time of each kind of process (procstat.c): the bench's own
 * tree (itself, its descendants, the daemons it started, adopted by pid,
 * and, the bench being a child subreaper, whatever they leave orphaned),
 * kernel threads, and other user processes. "other" (the noisy flag) is
 * the last; kernel threads are reported apart ("kern"): most of their
 * time in a row is work the row asked for (jbd2 committing the journal
 * an fdatasync waits on, a kworker writing back), and only a large share
 * (BENCH_KERN_NOISY_PCT) marks a row too.
 *
 * An earlier version took all CPUs' busy ticks (/proc/stat) less the
 * bench's own time as "other". With tick accounting (CONFIG_HZ=250 here)
 * the busy ticks of a 0.2 s row are a sample of about a hundred, while a
 * process's time is the scheduler's exact one: on rows that short the two
 * differed by -50% to +20% of a core with no other process busy (nats rows
 * the most), and kernel threads doing a row's own I/O counted as other.
 * So quiet runs had one NOISY row each and 0.0% over the whole run. The
 * busy ticks are still read, for the steal figure and as a cross-check
 * ("unseen", shown with IPCBENCH_NOISE_TRACE=1).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "bench.h"

#define NOISE_ROOTS 64       /* adopted daemons remembered (the oldest go) */
#define NOISE_TOP 3          /* processes named in a noisy row's progress */

/* The bench and the daemons it adopted: the roots of its tree. */
static long roots[NOISE_ROOTS];
static size_t nroots, next_root;

/* All CPUs' busy and steal seconds from /proc/stat's first line. */
static void cpu_busy(double *busy, double *steal)
{
	unsigned long long v[8] = { 0 };
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	*busy = *steal = 0;
	if (f == NULL)
		return;
	/* user nice system idle iowait irq softirq steal */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		*busy = (double)(v[0] + v[1] + v[2]) / hz;
		*steal = (double)v[7] / hz;
	}
	fclose(f);
}

/* Read /proc/PID/stat of pid (a /proc entry's name) into *e; 0 or -1. */
static int read_stat(const char *pid, double hz, struct proc_ent *e)
{
	char path[300], buf[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;      /* it just exited */
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return proc_parse_stat(buf, hz, e);
}

/* Every process now, classified; *n of them. The table is malloc'd (NULL
 * if /proc cannot be read). */
static struct proc_ent *proc_table(size_t *n)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	size_t cap = 0;
	struct proc_ent *v = NULL, *nv;
	DIR *d = opendir("/proc");
	struct dirent *e;

	*n = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 512;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				break;
			v = nv;
		}
		if (read_stat(e->d_name, hz, &v[*n]) == 0)
			(*n)++;
	}
	if (d != NULL)
		closedir(d);
	if (v != NULL)
		proc_classify(v, *n, roots, nroots);
	return v;
}

/* Make this process a root of the tree (once): orphans of its daemons
 * come back to it instead of init, and stay counted as its own. */
static void noise_init(void)
{
	if (nroots > 0)
		return;
	roots[nroots++] = (long)getpid();
	next_root = 1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void noise_adopt(long pid)
{
	noise_init();
	if (pid <= 0)
		return;
	roots[next_root] = pid;
	next_root = next_root + 1 < NOISE_ROOTS ? next_root + 1 : 1;   /* 0: ourselves */
	if (nroots < NOISE_ROOTS)
		nroots++;
}

void noise_start(struct noise_snap *s)
{
	noise_init();
	s->t_ns = now_ns();
	cpu_busy(&s->busy, &s->steal);
	s->tab = proc_table(&s->ntab);
}

/* "comm[pid] 12.3%, ..." of the n processes in top (wall seconds) into f. */
static void name_top(struct noise_fig *f, const struct proc_top *top, size_t n, double wall)
{
	size_t i, off = 0;

	f->top[0] = '\0';
	for (i = 0; i < n && off < sizeof f->top; i++)
		off += (size_t)snprintf(f->top + off, sizeof f->top - off, "%s%s%s[%ld] %.1f%%",
					i ? ", " : "", top[i].kind == PROC_KERN ? "kernel " : "",
					top[i].comm, top[i].pid, 100 * top[i].secs / wall);
}

/* 100 * seconds / wall, a few clock ticks or less (rounding of the
 * tick-based split into utime and stime) taken as 0. */
static double pct_of(double secs, double wall)
{
	return secs < 3.0 / (double)sysconf(_SC_CLK_TCK) ? 0 : 100 * secs / wall;
}

int noise_end(struct noise_snap *s, struct noise_fig *f)
{
	struct proc_top top[NOISE_TOP];
	double busy, steal, wall, sum[PROC__KINDS];
	struct proc_ent *tab;
	size_t n, ntop;

	cpu_busy(&busy, &steal);
	tab = proc_table(&n);
	wall = (double)(now_ns() - s->t_ns) / 1e9;
	f->other = f->kern = f->steal = f->unseen = -1;
	f->top[0] = '\0';
	if (wall > 0 && tab != NULL && s->tab != NULL) {
		ntop = proc_diff(s->tab, s->ntab, tab, n, sum, top, NOISE_TOP);
		f->other = pct_of(sum[PROC_OTHER], wall);
		f->kern = pct_of(sum[PROC_KERN], wall);
		f->steal = 100 * (steal - s->steal) / wall;
		f->unseen = 100 * (busy - s->busy - sum[PROC_OURS] - sum[PROC_KERN] -
				   sum[PROC_OTHER]) / wall;
		name_top(f, top, ntop, wall);
	}
	free(tab);
	free(s->tab);
	s->tab = NULL;
	return f->other < 0 ? -1 : 0;
}

int noise_is_noisy(double other_pct, double kern_pct)
{
	return other_pct > BENCH_NOISY_PCT || kern_pct > BENCH_KERN_NOISY_PCT;
}

double load_avg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}
