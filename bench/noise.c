/* SPDX-License-Identifier: MIT */
/*
 * noise.c: how much CPU other processes took while the bench ran.
 *
 * On a 2-core machine one busy process elsewhere halves ipcd's figures
 * and not its peers' alike, so every row records what the rest of the
 * machine did meanwhile: the busy time of all CPUs (/proc/stat: user,
 * nice, system; interrupts and steal are reported apart) minus the CPU
 * time of this process tree (ourselves, our reaped children and our live
 * children: the daemons under test). What remains was spent by someone
 * else. Kernel time on our behalf in softirq is not counted against us.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "bench.h"

/* Seconds of one timeval. */
static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

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

/* utime + stime + cutime + cstime of pid (seconds), if its parent is ppid;
 * else 0. */
static double child_cpu(const char *pid, pid_t ppid)
{
	char path[300], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	long parent;
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');      /* the command may hold spaces */
	if (p == NULL || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%llu %llu %llu %llu", &parent, &ut, &st, &cut, &cst) != 5)
		return 0;
	return parent == (long)ppid ? (double)(ut + st + cut + cst) / hz : 0;
}

/* CPU seconds of this process tree so far. */
static double own_cpu(void)
{
	struct rusage self, kids;
	pid_t me = getpid();
	double sum = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			sum += child_cpu(e->d_name, me);
	if (d != NULL)
		closedir(d);
	return sum + tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) +
	       tv_s(kids.ru_stime);
}

void noise_start(struct noise_snap *s)
{
	s->t_ns = now_ns();
	cpu_busy(&s->busy, &s->steal);
	s->own = own_cpu();
}

double noise_end(const struct noise_snap *s, double *steal_pct)
{
	struct noise_snap e;
	double wall, other;

	noise_start(&e);
	wall = (double)(e.t_ns - s->t_ns) / 1e9;
	if (wall <= 0)
		return -1;
	other = (e.busy - s->busy) - (e.own - s->own);
	if (steal_pct != NULL)
		*steal_pct = 100 * (e.steal - s->steal) / wall;
	/* Tick accounting rounds each figure to 1/HZ: a few ticks either way
	 * are not someone else's work. */
	if (other < 3.0 / (double)sysconf(_SC_CLK_TCK))
		other = 0;
	return 100 * other / wall;
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
