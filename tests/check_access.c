/* SPDX-License-Identifier: MIT */
/*
 * check_access.c: name squatting (issue 11 item 11). Another uid takes
 * the name a service means to use before the service starts; the safe
 * ways to open (IPC_QUEUE_EXCL, IPC_QUEUE_OWNED, IPC_PIPE_OWNED, ipcctl
 * --owned) refuse it clearly, and the daemon's create-prefix rules and
 * its built-in u.UID. rule refuse the squatter's create in the first
 * place. Every case switches uid, so the suite needs root; as another
 * user it says so and runs nothing.
 */
#include <check.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* How long a child may take (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* A uid with its primary gid and supplementary groups. */
struct user {
	uid_t uid;
	gid_t gid;
	gid_t groups[1];
	int ngroups;
};

static const struct user squatter = { 65534, 65534, { 0 }, 0 };
static const struct user member = { 4301, 4301, { 4300 }, 1 }; /* group 4300 */
static const struct user root = { 0, 0, { 0 }, 0 };

/* One request and what it must give. */
struct step {
	char op;            /* q: ipc_queue_open, p: ipc_pipe_attach end `end` */
	const char *name;
	unsigned flags;     /* IPC_QUEUE_* or IPC_PIPE_* */
	int end;
	int want;
	const char *detail; /* with want != 0: in ipc_last_error, or NULL */
};

/* Run step s on c: 0 when it went as expected, else 1 (said why). */
static int step_run(ipc_client *c, const struct step *s)
{
	struct ipc_queue_opts qo = IPC_QUEUE_OPTS_INIT;
	struct ipc_pipe_opts po = IPC_PIPE_OPTS_INIT;
	const char *err;
	int rc;

	qo.flags = s->flags;
	qo.mode = 0666;
	po.mode = 0666;
	if (s->op == 'q')
		rc = ipc_queue_open(c, s->name, &qo, NULL);
	else
		rc = ipc_pipe_attach(c, s->name, s->end, (int)s->flags, &po);
	err = ipc_last_error(c);
	if (rc == s->want && (!s->detail || strstr(err, s->detail)))
		return 0;
	fprintf(stderr, "uid %u: %c %s flags 0x%x: got %d (%s), want %d (%s)\n",
		(unsigned)getuid(), s->op, s->name, s->flags, rc, err, s->want,
		s->detail ? s->detail : "");
	return 1;
}

/* What a child runs: steps on d's socket as user. */
struct script {
	const char *sock;
	const struct user *user;
	const struct step *steps;
	size_t nsteps;
};

/* Child: become the user, connect and run the steps; 0 when all went
 * as expected, 100 + the first that did not, 99 on no connection. */
static int script_run(void *arg)
{
	const struct script *sc = arg;
	const struct user *u = sc->user;
	ipc_client *c;
	size_t i;

	if (setgroups((size_t)u->ngroups, u->groups) != 0 || setgid(u->gid) != 0 ||
	    setuid(u->uid) != 0)
		return 98;
	if (ipc_connect(sc->sock, &c) != 0)
		return 99;
	for (i = 0; i < sc->nsteps; i++)
		if (step_run(c, &sc->steps[i]) != 0)
			break;
	ipc_close(c);
	return i == sc->nsteps ? 0 : 100 + (int)i;
}

/* Run steps as user u on d and assert each went as expected. The
 * connection is closed afterwards: a pipe end it attached is closed. */
#define AS(d, u, ...) as_user(d, u, (const struct step[]){ __VA_ARGS__ }, \
	sizeof((const struct step[]){ __VA_ARGS__ }) / sizeof(struct step))
static void as_user(const struct h_daemon *d, const struct user *u,
		    const struct step *steps, size_t n)
{
	struct script sc = { d->sock, u, steps, n };
	int st = h_wait_child(h_spawn(script_run, &sc), T_CHILD_MS);

	ck_assert_msg(st == 0, "as uid %u: status %d", (unsigned)u->uid, st);
}

/* Start a daemon every uid can reach, with more arguments (or NULL). */
static void start_open(struct h_daemon *d, const char *const *more)
{
	const char *args[16] = { "--socket-mode", "0666" };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	int n = 2;

	while (more && *more && n < 15)
		args[n++] = *more++;
	h_prepare(d);
	ck_assert_int_eq(chmod(d->dir, 0755), 0);
	h_launch_opts(d, &o);
}

/* A squatter's queue: a service's plain create joins it (the risk),
 * CREATE|EXCL says it exists, OWNED refuses it naming the owner. OWNED
 * accepts the caller's own queue (CREATE|OWNED twice) and root's. */
START_TEST(test_owned_queue)
{
	struct h_daemon d;

	start_open(&d, NULL);
	AS(&d, &squatter, { 'q', "jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'q', "mine", IPC_QUEUE_CREATE | IPC_QUEUE_OWNED, 0, 0, NULL },
	   { 'q', "mine", IPC_QUEUE_CREATE | IPC_QUEUE_OWNED, 0, 0, NULL });
	AS(&d, &root,
	   { 'q', "jobs", IPC_QUEUE_CREATE | IPC_QUEUE_EXCL, 0, IPC_EEXIST, NULL },
	   { 'q', "jobs", IPC_QUEUE_CREATE | IPC_QUEUE_OWNED, 0, IPC_EPERM,
	     "'jobs' is owned by uid 65534, not by uid 0 or root" },
	   { 'q', "jobs", IPC_QUEUE_OWNED, 0, IPC_EPERM, "owned by uid 65534" },
	   { 'q', "jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'q', "svc", IPC_QUEUE_CREATE | IPC_QUEUE_OWNED, 0, 0, NULL },
	   { 'q', "svc", IPC_QUEUE_CREATE | IPC_QUEUE_OWNED, 0, 0, NULL });
	/* Root's queue passes OWNED for everyone; another's does not. */
	AS(&d, &squatter, { 'q', "svc", IPC_QUEUE_OWNED, 0, 0, NULL });
	AS(&d, &member, { 'q', "mine", IPC_QUEUE_OWNED, 0, IPC_EPERM,
			  "owned by uid 65534, not by uid 4301" },
	   { 'q', "svc", IPC_QUEUE_OWNED, 0, 0, NULL });
	/* OWNED on a pipe's name is the usual wrong-type refusal. */
	AS(&d, &squatter, { 'p', "apipe", IPC_PIPE_CREATE, 0, 0, NULL },
	   { 'q', "apipe", IPC_QUEUE_OWNED, 0, IPC_EWRONGTYPE, NULL });
	h_stop(&d);
}
END_TEST

/* The same for a pipe a squatter attached first. */
START_TEST(test_owned_pipe)
{
	struct h_daemon d;

	start_open(&d, NULL);
	AS(&d, &squatter, { 'p', "results", IPC_PIPE_CREATE, 0, 0, NULL },
	   { 'p', "own", IPC_PIPE_CREATE | IPC_PIPE_OWNED, 0, 0, NULL },
	   { 'p', "own", IPC_PIPE_CREATE | IPC_PIPE_OWNED, 1, 0, NULL });
	AS(&d, &root, { 'p', "results", IPC_PIPE_CREATE | IPC_PIPE_OWNED, 1,
			IPC_EPERM, "'results' is owned by uid 65534" },
	   { 'p', "results", IPC_PIPE_CREATE, 1, 0, NULL });
	h_stop(&d);
}
END_TEST

/* Run `ipcctl -s SOCK args...` as root; its status, stderr in *err. */
static int ctl(const struct h_daemon *d, struct h_buf *err, const char *a1,
	       const char *a2, const char *a3, const char *a4)
{
	h_buf_free(err);
	return h_run_ipcctl(d, NULL, 0, NULL, err, a1, a2, a3, a4, NULL);
}

/* ipcctl --owned: create refuses a squatted name with the owner's uid
 * (and accepts its own queue again), put and get refuse to use it, send
 * and recv refuse to attach a squatted pipe. */
START_TEST(test_owned_ipcctl)
{
	struct h_buf err = { 0 };
	struct h_daemon d;
	ipc_client *c;

	start_open(&d, NULL);
	AS(&d, &squatter, { 'q', "jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'p', "out", IPC_PIPE_CREATE, 0, 0, NULL });
	ck_assert_int_eq(ctl(&d, &err, "create", "jobs", "--owned", NULL), 1);
	ck_assert_msg(strstr(err.data, "owned by uid 65534"), "%s", err.data);
	ck_assert_int_eq(ctl(&d, &err, "put", "jobs", "secret", "--owned"), 1);
	ck_assert_msg(strstr(err.data, "owned by uid 65534"), "%s", err.data);
	ck_assert_int_eq(ctl(&d, &err, "get", "jobs", "--owned", "--nowait"), 1);
	ck_assert_int_eq(ctl(&d, &err, "send", "out", "x", "--owned"), 1);
	ck_assert_msg(strstr(err.data, "owned by uid 65534"), "%s", err.data);
	ck_assert_int_eq(ctl(&d, &err, "recv", "out", "--owned", "--nowait"), 1);
	c = h_connect(&d);
	ck_assert_int_eq(h_stat(c, "jobs").size, 0); /* nothing was put */
	ipc_close(c);
	ck_assert_int_eq(ctl(&d, &err, "create", "mine", "--owned", NULL), 0);
	ck_assert_int_eq(ctl(&d, &err, "create", "mine", "--owned", NULL), 0);
	ck_assert_int_eq(ctl(&d, &err, "create", "mine", NULL, NULL), 1);
	ck_assert_int_eq(ctl(&d, &err, "put", "mine", "m", "--owned"), 0);
	h_buf_free(&err);
	h_stop(&d);
}
END_TEST

/* create-prefix: names under svc. only by root and group 4300, under
 * svc.public. by anyone (the longest prefix decides); queues and pipes
 * alike; opening what exists is not creating. */
START_TEST(test_create_prefix)
{
	static const char *const rules[] = {
		"--create-prefix", "svc. root,gid:4300",
		"--create-prefix", "svc.public. any", NULL };
	struct h_daemon d;

	start_open(&d, rules);
	AS(&d, &squatter, { 'q', "svc.jobs", IPC_QUEUE_CREATE, 0, IPC_EPERM,
			    "uid 65534 may not create 'svc.jobs' (create-prefix "
			    "svc. root,gid:4300)" },
	   { 'p', "svc.pipe", IPC_PIPE_CREATE, 0, IPC_EPERM, "create-prefix svc." },
	   { 'q', "svc.public.x", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'q', "svcjobs", IPC_QUEUE_CREATE, 0, 0, NULL });
	AS(&d, &member, { 'q', "svc.jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'p', "svc.pipe", IPC_PIPE_CREATE, 0, 0, NULL });
	AS(&d, &root, { 'q', "svc.root", IPC_QUEUE_CREATE | IPC_QUEUE_EXCL, 0, 0,
			NULL });
	/* Made by an allowed user with mode 0666: usable by the others. */
	AS(&d, &squatter, { 'q', "svc.jobs", 0, 0, 0, NULL },
	   { 'q', "svc.jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'q', "svc.gone", 0, 0, IPC_ENOENT, NULL });
	h_stop(&d);
}
END_TEST

/* The built-in rule: u.UID.REST is created by that uid (or root) only. */
START_TEST(test_user_prefix)
{
	struct h_daemon d;

	start_open(&d, NULL);
	AS(&d, &squatter, { 'q', "u.4301.jobs", IPC_QUEUE_CREATE, 0, IPC_EPERM,
			    "names under u.4301. are uid 4301's" },
	   { 'p', "u.4301.p", IPC_PIPE_CREATE, 0, IPC_EPERM, "u.4301." },
	   { 'q', "u.65534.jobs", IPC_QUEUE_CREATE, 0, 0, NULL },
	   { 'q', "u.x.jobs", IPC_QUEUE_CREATE, 0, 0, NULL });
	AS(&d, &member, { 'q', "u.4301.jobs", IPC_QUEUE_CREATE, 0, 0, NULL });
	AS(&d, &root, { 'q', "u.4302.jobs", IPC_QUEUE_CREATE, 0, 0, NULL });
	h_stop(&d);
}
END_TEST

/* Wait until d's log has a line containing text (asserts it comes). */
static void wait_log(const struct h_daemon *d, const char *text)
{
	char line[512];
	int found = 0;
	FILE *f;

	for (int i = 0; i < 500 && !found; i++) {
		if (i > 0)
			usleep(20000);
		f = fopen(d->log, "r");
		while (f && !found && fgets(line, sizeof(line), f))
			found = strstr(line, text) != NULL;
		if (f)
			fclose(f);
	}
	ck_assert_msg(found, "no '%s' in ipcd's log", text);
}

/* A rule added by SIGHUP governs the creates after it. */
START_TEST(test_create_prefix_reload)
{
	char conf[160], *args[3];
	struct h_daemon d;
	FILE *f;

	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	snprintf(conf, sizeof(conf), "%s/ipcd.conf", d.dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("socket-mode = 0666\n", f);
	fclose(f);
	args[0] = "-c";
	args[1] = conf;
	args[2] = NULL;
	h_launch_opts(&d, &(struct h_opts){ .args = (const char *const *)args,
					    .listen_fd = -1 });
	AS(&d, &squatter, { 'q', "app.one", IPC_QUEUE_CREATE, 0, 0, NULL });
	f = fopen(conf, "a");
	ck_assert_ptr_nonnull(f);
	fputs("create-prefix = app. root\n", f);
	fclose(f);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	wait_log(&d, "reload: create-prefix:  -> app. root");
	AS(&d, &squatter, { 'q', "app.two", IPC_QUEUE_CREATE, 0, IPC_EPERM,
			    "create-prefix app. root" },
	   { 'q', "app.one", IPC_QUEUE_CREATE, 0, 0, NULL });
	h_stop(&d);
}
END_TEST

/* The whole suite. */
static Suite *access_suite(void)
{
	Suite *s = suite_create("access");

	h_add_case(s, "owned_queue", test_owned_queue, 30);
	h_add_case(s, "owned_pipe", test_owned_pipe, 30);
	h_add_case(s, "owned_ipcctl", test_owned_ipcctl, 30);
	h_add_case(s, "create_prefix", test_create_prefix, 30);
	h_add_case(s, "user_prefix", test_user_prefix, 30);
	h_add_case(s, "create_prefix_reload", test_create_prefix_reload, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: check_access: every case switches uid "
			"(65534, 4301), which needs root\n");
		return 77;
	}
	return h_run_suite(access_suite());
}
