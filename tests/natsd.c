/* SPDX-License-Identifier: MIT */
/*
 * natsd.c: private nats-server processes for tests; see natsd.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "natsd.h"

/* Give up on a server that does not answer within this many ms. */
#define N_START_MS 15000

/* Fail the test process loudly. */
static void n_die(const char *what, const struct natsd *n)
{
	fprintf(stderr, "natsd: %s (%s)\n", what, n ? n->name : "-");
	if (n)
		n_dump_log(n);
	exit(1);
}

/* The nats-server binary; see natsd.h. */
const char *n_bin(void)
{
	const char *b = getenv("NATS_SERVER_BIN");

	return b && *b && access(b, X_OK) == 0 ? b : NULL;
}

/* A TCP port on 127.0.0.1 nobody listens on right now. */
static int n_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		n_die("no free port", NULL);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* 1 when the server answers on its client port with its INFO line. */
static int n_answers(const struct natsd *n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[8] = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)n->port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	     read(fd, buf, 4) == 4 && memcmp(buf, "INFO", 4) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Exec nats-server for n in the child: output to its log. */
static void n_exec(const struct natsd *n)
{
	char port[16], cl[64];
	const char *argv[20];
	int i = 0, fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

	/* Dies with the test process, even one that failed an assertion. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	snprintf(port, sizeof port, "%d", n->port);
	argv[i++] = n_bin();
	argv[i++] = "-js";
	argv[i++] = "-a";
	argv[i++] = "127.0.0.1";
	argv[i++] = "-p";
	argv[i++] = port;
	argv[i++] = "-sd";
	argv[i++] = n->dir;
	argv[i++] = "-n";
	argv[i++] = n->name;
	if (n->cport) {
		snprintf(cl, sizeof cl, "nats://127.0.0.1:%d", n->cport);
		argv[i++] = "--cluster_name";
		argv[i++] = "ipcdtest";
		argv[i++] = "-cluster";
		argv[i++] = cl;
		argv[i++] = "-routes";
		argv[i++] = n->routes;
	}
	argv[i] = NULL;
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* Fork nats-server for n (ports and dir set) and wait until it answers. */
static void n_spawn(struct natsd *n)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int waited;

	n->pid = fork();
	if (n->pid < 0)
		n_die("fork", n);
	if (n->pid == 0)
		n_exec(n);
	for (waited = 0; !n_answers(n); waited += 20) {
		if (waited > N_START_MS || waitpid(n->pid, NULL, WNOHANG) == n->pid)
			n_die("nats-server did not start", n);
		nanosleep(&ts, NULL);
	}
}

/* Name n, make its directory and pick its client port. */
static void n_prepare(struct natsd *n, const char *name)
{
	memset(n, 0, sizeof *n);
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->dir, sizeof n->dir, "/tmp/ipcd-nats-XXXXXX");
	if (!mkdtemp(n->dir))
		n_die("mkdtemp", n);
	snprintf(n->log, sizeof n->log, "%s/log", n->dir);
	n->port = n_free_port();
	snprintf(n->url, sizeof n->url, "nats://127.0.0.1:%d", n->port);
}

/* Start one server; see natsd.h. */
void n_start(struct natsd *n)
{
	n_prepare(n, "n1");
	n_spawn(n);
}

/* Start a 3-node cluster; see natsd.h. */
void n_cluster_start(struct natsd n[3])
{
	char name[8];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "n%d", i + 1);
		n_prepare(&n[i], name);
		n[i].cport = n_free_port();
	}
	for (i = 0; i < 3; i++)
		snprintf(n[i].routes, sizeof n[i].routes,
			 "nats://127.0.0.1:%d,nats://127.0.0.1:%d",
			 n[(i + 1) % 3].cport, n[(i + 2) % 3].cport);
	for (i = 0; i < 3; i++)
		n_spawn(&n[i]);
}

/* Start a stopped member again; see natsd.h. */
void n_restart(struct natsd *n)
{
	n_spawn(n);
}

/* Signal and reap; see natsd.h. */
void n_kill(struct natsd *n, int sig)
{
	if (n->pid <= 0)
		return;
	kill(n->pid, sig);
	while (waitpid(n->pid, NULL, 0) < 0 && errno == EINTR)
		;
	n->pid = 0;
}

/* Stop and clean up; see natsd.h. */
void n_stop(struct natsd *n)
{
	char cmd[128];

	n_kill(n, SIGTERM);
	if (n->dir[0] && strncmp(n->dir, "/tmp/ipcd-nats-", 15) == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", n->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "natsd: could not remove %s\n", n->dir);
	}
	n->dir[0] = '\0';
}

/* Print the log; see natsd.h. */
void n_dump_log(const struct natsd *n)
{
	char buf[4096];
	size_t k;
	FILE *f = fopen(n->log, "r");

	if (!f)
		return;
	fprintf(stderr, "----- nats-server %s log -----\n", n->name);
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, k, stderr);
	fclose(f);
}
