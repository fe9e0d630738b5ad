/* SPDX-License-Identifier: MIT */
/*
 * ctl_top.c: ipcctl top, a live view of every queue and pipe: depth and
 * put/get rates, busiest first. On a terminal it draws in the alternate
 * screen, overwriting each frame in place (cursor home, each line cleared
 * to its end, the rest of the screen cleared) so nothing flickers, fits
 * the window, and quits on q as well as Ctrl-C. Elsewhere it prints
 * frames one after another; --json prints one JSON object per frame.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "ctl.h"

/* One row of a frame: a queue or pipe and its rates since the last one. */
struct top_row {
	const struct ipc_info *in;
	double put_rate, get_rate;   /* per second; 0 in the first frame */
};

/* The terminal top draws on, when it does. */
struct top_term {
	int tty;                 /* stdout is a terminal: draw in place */
	int keys;                /* stdin is a terminal read for q */
	struct termios saved;    /* stdin's mode before, restored at the end */
	int rows, cols;          /* the window */
};

/* Set by SIGINT/SIGTERM: top stops. */
static volatile sig_atomic_t top_stop;

/* SIGINT or SIGTERM during top. */
static void top_on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Per-second rate of a counter that went from was to now in secs (0 for
 * a new or recreated queue). */
static double top_rate(unsigned long long now, const unsigned long long *was,
		       double secs)
{
	if (!was || now < *was || secs <= 0)
		return 0;
	return (double)(now - *was) / secs;
}

/* The entry named name in infos (n entries), or NULL. */
static const struct ipc_info *top_find(const struct ipc_info *infos, size_t n,
				       const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(infos[i].name, name) == 0)
			return &infos[i];
	return NULL;
}

/* Busiest first: most puts and gets per second, then deepest, then by
 * name. */
static int top_cmp(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	double ra = a->put_rate + a->get_rate, rb = b->put_rate + b->get_rate;

	if (ra != rb)
		return ra < rb ? 1 : -1;
	if (a->in->size != b->in->size)
		return a->in->size < b->in->size ? 1 : -1;
	return strcmp(a->in->name, b->in->name);
}

/* The rows of a frame, cur against prev (np entries) secs ago, sorted
 * busiest first; malloc'd (NULL when n is 0 or out of memory). */
static struct top_row *top_rows(const struct ipc_info *cur, size_t n,
				const struct ipc_info *prev, size_t np, double secs)
{
	struct top_row *r = n ? calloc(n, sizeof(*r)) : NULL;
	const struct ipc_info *p;
	size_t i;

	for (i = 0; r && i < n; i++) {
		p = prev ? top_find(prev, np, cur[i].name) : NULL;
		r[i].in = &cur[i];
		r[i].put_rate = top_rate(cur[i].puts, p ? &p->puts : NULL, secs);
		r[i].get_rate = top_rate(cur[i].gets, p ? &p->gets : NULL, secs);
	}
	if (r)
		qsort(r, n, sizeof(*r), top_cmp);
	return r;
}

/* One frame as one line of JSON: the time, and every row with the keys
 * of the text columns. */
static void top_json(const struct top_row *r, size_t n)
{
	struct timespec ts;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("{\"time\":%lld.%03ld,\"queues\":[", (long long)ts.tv_sec,
	       ts.tv_nsec / 1000000);
	for (i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		ctl_json_str(r[i].in->name);
		printf(",\"kind\":\"%s\",\"size\":%llu,\"maxsize\":%lld,"
		       "\"put_rate\":%.1f,\"get_rate\":%.1f,\"getters\":%u,"
		       "\"putters\":%u}", ctl_kind_name(r[i].in->kind),
		       r[i].in->size, r[i].in->maxsize, r[i].put_rate,
		       r[i].get_rate, r[i].in->getters, r[i].in->putters);
	}
	printf("]}\n");
}

/* Width of the columns after the name. */
#define TOP_FIXED 72

/* One line of the frame, ended by "clear to end of line" on a terminal. */
static void top_line(const struct top_term *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void top_line(const struct top_term *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(t->tty ? "\033[K\n" : "\n", stdout);
}

/* One row of the text frame, its name cut to w columns ('~' marks a cut). */
static void top_row_text(const struct top_term *t, const struct top_row *r, int w)
{
	char name[IPC_NAME_MAX + 1];
	int len = (int)strlen(r->in->name);

	snprintf(name, sizeof(name), "%s", r->in->name);
	if (len > w && w > 1) {
		name[w - 1] = '~';
		name[w] = '\0';
	}
	top_line(t, "%-*s %-5s %10llu %10lld %10.1f %10.1f %8u %8u", w, name,
		 ctl_kind_name(r->in->kind), r->in->size, r->in->maxsize,
		 r->put_rate, r->get_rate, r->in->getters, r->in->putters);
}

/* The width of the name column: the longest name, cut to fit the window. */
static int top_name_width(const struct top_term *t, const struct top_row *r,
			  size_t n)
{
	int w = 4;
	size_t i;

	for (i = 0; i < n; i++)
		if ((int)strlen(r[i].in->name) > w)
			w = (int)strlen(r[i].in->name);
	if (t->tty && t->cols - TOP_FIXED < w)
		w = t->cols - TOP_FIXED > 4 ? t->cols - TOP_FIXED : 4;
	return w;
}

/* One text frame: on a terminal, drawn over the last one and cut to the
 * window, with a last line saying how many rows did not fit. */
static void top_text(const struct top_term *t, const struct top_row *r, size_t n)
{
	size_t i, shown = n;
	int w = top_name_width(t, r, n);

	if (t->tty && t->rows > 1 && n > (size_t)t->rows - 1)
		shown = t->rows > 2 ? (size_t)t->rows - 2 : 0;
	if (t->tty)
		fputs("\033[H", stdout);
	top_line(t, "%-*s %-5s %10s %10s %10s %10s %8s %8s", w, "NAME", "KIND",
		 "SIZE", "MAXSIZE", "PUT_RATE", "GET_RATE", "GETTERS", "PUTTERS");
	for (i = 0; i < shown; i++)
		top_row_text(t, &r[i], w);
	if (shown < n)
		top_line(t, "... and %zu more", n - shown);
	fputs(t->tty ? "\033[J" : "\n", stdout);
}

/* Draw one frame of cur against prev, secs apart. 0, or EXIT_ERR when out
 * of memory. */
static int top_frame(struct top_term *t, const struct ctl_args *a,
		     const struct ipc_info *cur, size_t n,
		     const struct ipc_info *prev, size_t np, double secs)
{
	struct top_row *r = top_rows(cur, n, prev, np, secs);
	struct winsize ws;

	if (n && !r) {
		ctl_msg("top: out of memory");
		return EXIT_ERR;
	}
	if (t->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
	if (a->seen & OPT_JSON)
		top_json(r, n);
	else
		top_text(t, r, n);
	fflush(stdout);
	free(r);
	return 0;
}

/* Take over the terminal: the alternate screen with the cursor hidden on
 * stdout, keys one at a time without echo on stdin. */
static void top_term_open(struct top_term *t, const struct ctl_args *a)
{
	struct termios raw;

	memset(t, 0, sizeof(*t));
	t->rows = 24;
	t->cols = 80;
	t->tty = !(a->seen & OPT_JSON) && isatty(STDOUT_FILENO);
	if (t->tty)
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t->saved) == 0) {
		raw = t->saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		t->keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
}

/* Give the terminal back as it was. */
static void top_term_close(struct top_term *t)
{
	if (t->tty)
		fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (t->keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->tty = t->keys = 0;
}

/* Wait ms milliseconds, or less when a signal or the q key stops top. */
static void top_wait(const struct top_term *t, int ms)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	char ch;

	if (!t->keys) {
		while (!top_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return;
	}
	if (poll(&pfd, 1, ms) > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
	    (ch == 'q' || ch == 'Q'))
		top_stop = 1;
}

/* Seconds between two monotonic times. */
static double top_secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The frames until interrupted, q, or a->iterations of them; prev is the
 * first listing, taken before. 0, or the exit status of a failure. */
static int top_loop(ipc_client *c, const struct ctl_args *a, struct top_term *t,
		    struct ipc_info *prev, size_t np)
{
	struct timespec t0, t1;
	struct ipc_info *cur;
	long done = 1;
	size_t n;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = top_frame(t, a, prev, np, NULL, 0, 0);
	while (!rc && !top_stop && (a->iterations == 0 || done < a->iterations)) {
		top_wait(t, a->interval_ms);
		if (top_stop)
			break;
		if ((rc = ipc_list(c, &cur, &n, sizeof(*cur)))) {
			top_term_close(t);
			ctl_msg("top: the daemon went away (%s)", ipc_last_error(c));
			rc = EXIT_ERR;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		rc = top_frame(t, a, cur, n, prev, np, top_secs(&t0, &t1));
		ipc_free(prev);
		prev = cur;
		np = n;
		t0 = t1;
		done++;
	}
	ipc_free(prev);
	return rc;
}

/* top: show every queue and pipe every interval, until interrupted, q
 * pressed, or a->iterations frames; the first one at once. */
int cmd_top(ipc_client *c, const struct ctl_args *a)
{
	struct sigaction sa = { .sa_handler = top_on_signal };
	struct ipc_info *prev;
	struct top_term t;
	size_t np;
	int rc;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = ipc_list(c, &prev, &np, sizeof(*prev));
	if (rc)
		return ctl_fail(c, rc, "top", NULL);
	top_term_open(&t, a);
	rc = top_loop(c, a, &t, prev, np);
	top_term_close(&t);
	return rc;
}
