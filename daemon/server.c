/* SPDX-License-Identifier: MIT */
/* server.c: listening socket, event loop, signals and shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "activate.h"
#include "conn.h"
#include "durable.h"
#include "ipc_defs.h"
#include "log.h"
#include "notify.h"
#include "park.h"
#include "qmsg.h"
#include "server.h"

/* How long accepting pauses after EMFILE/ENFILE, instead of spinning. */
#define SERVER_ACCEPT_PAUSE_MS 100
/* How long shutdown waits for replies to flush. */
#define SERVER_SHUTDOWN_SEC 3

/* Fill a sockaddr_un for path; -1 when it does not fit. */
static int server_sockaddr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Remove a stale socket at path; -1 (logged) if a live daemon answers on
 * it or it is not a socket. */
static int server_clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (log_err("%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; refusing to replace it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	close(fd);
	if (rc == 0) {
		log_err("another ipcd is already serving %s", path);
		return -1;
	}
	log_info("removing stale socket %s", path);
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Give the socket file its configured group and mode. */
static int server_chmod(const char *path, const struct config *cfg)
{
	struct group *gr;

	if (cfg->socket_group[0] != '\0') {
		gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			log_err("socket-group: no group '%s'", cfg->socket_group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0) {
			log_err("chown %s to group %s: %s", path,
				cfg->socket_group, strerror(errno));
			return -1;
		}
	}
	if (chmod(path, cfg->socket_mode) != 0) {
		log_err("chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create, bind and listen on the Unix socket at cfg->socket_path, with
 * cfg's mode and group. */
static int server_listen(struct server *s, const struct config *cfg)
{
	const char *path = cfg->socket_path;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (server_sockaddr(path, &sa) != 0) {
		log_err("socket path too long: %s", path);
		return -1;
	}
	if (server_clear_stale(path, &sa) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Nobody may connect before the mode and group are right. */
	old = umask(0177);
	rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(fd, SOMAXCONN) != 0) {
		log_err("cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s->listen_fd = fd;
	s->path = strdup(path);
	if (s->path == NULL || lstat(path, &st) != 0)
		return -1;
	s->path_dev = st.st_dev;
	s->path_ino = st.st_ino;
	return server_chmod(path, cfg);
}

/* Listen on the socket systemd passed, else create ours. */
static int server_open(struct server *s, const struct config *cfg)
{
	char name[sizeof(s->cfg.socket_path)];
	int fd = activate_listen_fd(name, sizeof(name));

	if (fd == -2)
		return -1;
	if (fd < 0)
		return server_listen(s, cfg);
	s->listen_fd = fd;
	s->activated = 1;
	memcpy(s->cfg.socket_path, name, sizeof(name));
	log_info("using the socket passed by the service manager (%s); "
		 "its mode and group are the socket unit's", name[0] ? name : "unnamed");
	return 0;
}

/* Accepting was paused after EMFILE: try again. */
static void server_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	if (!s->shutting_down)
		event_add(s->accept_ev, NULL);
}

/* 1 when a message rate-limited to one per SERVER_LOG_EVERY_SEC, last
 * logged at *last (0: never), may be logged now; then *last is now. */
int server_log_due(time_t *last)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* +1: a monotonic clock may start at 0, which means never. */
	if (*last != 0 && ts.tv_sec + 1 - *last < SERVER_LOG_EVERY_SEC)
		return 0;
	*last = ts.tv_sec + 1;
	return 1;
}

/* Log that a connection was closed for want of a descriptor, at most once
 * every SERVER_LOG_EVERY_SEC. */
static void server_log_nofd(struct server *s)
{
	s->emfile_refused++;
	s->stats.conns_refused++;
	if (server_log_due(&s->emfile_logged))
		log_warn("accept: no file descriptor left (limit %zu): closing new "
			 "connections at once (%lu so far)", s->fd_limit,
			 s->emfile_refused);
}

/* Out of descriptors: accept the next connection on the spare one and
 * close it at once, so that its client sees the connection closed
 * instead of waiting in the backlog. 1 when one was refused, 0 when none
 * is waiting, -1 when there is no spare (accepting pauses). */
static int server_refuse_nofd(struct server *s, int lfd)
{
	int fd, err;

	if (s->spare_fd < 0)
		return -1;
	close(s->spare_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	if (fd >= 0)
		close(fd);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		server_log_nofd(s);
	errno = err;
	return fd >= 0 ? 1 : (err == EAGAIN || err == EINTR || err == ECONNABORTED) ? 0 : -1;
}

/* accept4 failed for want of a resource: refuse on the spare descriptor,
 * else pause accepting for a while instead of spinning. 1 when the loop
 * may go on. */
static int server_accept_short(struct server *s, int lfd)
{
	struct timeval tv = { 0, SERVER_ACCEPT_PAUSE_MS * 1000 };
	int rc = (errno == EMFILE || errno == ENFILE) ? server_refuse_nofd(s, lfd) : -1;

	if (rc >= 0)
		return rc;
	log_warn("accept: %s; pausing new connections", strerror(errno));
	event_del(s->accept_ev);
	event_add(s->accept_retry_ev, &tv);
	return 0;
}

/* Accept every pending connection. */
static void server_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *s = arg;
	int fd;

	(void)what;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			/* NULL: refused at once, or out of memory (logged). */
			conn_new(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			if (server_accept_short(s, lfd))
				continue;
			return;
		}
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		if (errno != EINTR && errno != ECONNABORTED)
			return;
	}
}

/* Leave the loop (server_run) once the current callback returns. */
static void server_stop(struct server *s)
{
	s->stopped = 1;
	event_base_loopbreak(s->base);
}

/* A new connection joins the set. */
void server_conn_add(struct server *s, struct conn *c)
{
	ilist_link_tail(&s->conns, &c->link);
	s->nconns++;
}

/* A connection is gone: drop it from the set. */
void server_conn_gone(struct server *s, struct conn *c)
{
	durable_conn_gone(s, c);
	ilist_unlink(&c->link);
	s->nconns--;
	if (c->refused)
		s->nrefused--;
	if (s->shutting_down && s->nconns == 0)
		server_stop(s);
}

/* Shutdown took too long to flush: leave anyway. */
static void server_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	log_warn("shutdown: %zu connection(s) did not take their replies", s->nconns);
	server_stop(s);
}

/* Unlink the socket file we created, unless another file (another ipcd's
 * socket, after ours was removed) now has its name. */
static void server_unlink(struct server *s)
{
	struct stat st;

	if (s->path == NULL)
		return;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->path_dev &&
	    st.st_ino == s->path_ino)
		unlink(s->path);
	else
		log_info("%s is no longer our socket; leaving it", s->path);
	free(s->path);
	s->path = NULL;
}

/* Stop accepting, answer parked requests, flush, leave the loop. */
void server_shutdown(struct server *s)
{
	struct timeval tv = { SERVER_SHUTDOWN_SEC, 0 };
	struct ilist *n, *next;

	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	log_info("shutting down");
	notify_send("STOPPING=1");
	event_del(s->accept_ev);
	event_del(s->accept_retry_ev);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	server_unlink(s);
	durable_drain(s);
	broker_fini(&s->broker, IPC_ESHUTDOWN);
	for (n = ilist_first(&s->conns); n != NULL; n = next) {
		next = ilist_next(&s->conns, n);
		conn_drain(container_of(n, struct conn, link));
	}
	if (s->nconns == 0) {
		server_stop(s);
		return;
	}
	s->shutdown_ev = evtimer_new(s->base, server_shutdown_timeout, s);
	if (s->shutdown_ev != NULL)
		evtimer_add(s->shutdown_ev, &tv);
}

/* Raise the soft descriptor limit to the hard one, note it, and keep a
 * spare descriptor for refusing connections when they run out. */
static void server_fd_setup(struct server *s)
{
	struct rlimit rl;
	rlim_t was;

	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		s->fd_limit = SIZE_MAX;
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		/* An unlimited hard limit is still bounded by fs.nr_open. */
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && rl.rlim_max == RLIM_INFINITY) {
			rl.rlim_cur = 1u << 20;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				rl.rlim_cur = was;
		} else if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rl.rlim_cur = was;
		}
	}
	s->fd_limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX ?
		      SIZE_MAX : (size_t)rl.rlim_cur;
	if (rl.rlim_cur != was)
		log_info("descriptor limit raised from %llu to %zu",
			 (unsigned long long)was, s->fd_limit);
}

/* max-connections as the descriptor limit allows it, warning when that
 * is less. */
static void server_conn_limit(struct server *s)
{
	size_t room = s->fd_limit > SERVER_FD_RESERVE + 1 ?
		      s->fd_limit - SERVER_FD_RESERVE : 1;

	s->max_conns = s->cfg.max_connections;
	if (room < s->max_conns) {
		s->max_conns = room;
		log_warn("max-connections %zu is more than the descriptor limit %zu "
			 "allows (%d kept for the daemon): serving at most %zu clients",
			 s->cfg.max_connections, s->fd_limit, SERVER_FD_RESERVE, room);
	}
	if (s->cfg.reserved_conns >= s->max_conns)
		log_warn("reserved-connections %zu leaves no connection of %zu for "
			 "uids other than root's and ipcd's", s->cfg.reserved_conns,
			 s->max_conns);
}


/* The per-uid limits, from the config's shares of the global ones. */
static void server_quota_apply(struct server *s)
{
	struct quota *q = &s->broker.quota;

	q->limit[QUOTA_CONNS] = config_quota_limit(&s->cfg.uid_conns, s->max_conns);
	q->limit[QUOTA_OBJECTS] = config_quota_limit(&s->cfg.uid_queues,
						     s->cfg.max_queues);
	q->limit[QUOTA_BYTES] = config_quota_limit(&s->cfg.uid_bytes, s->cfg.max_bytes);
	q->limit[QUOTA_PARKS] = config_quota_limit(&s->cfg.uid_parked,
						   s->cfg.max_parked);
}

/* Take the reloadable settings of cfg into the running daemon. */
static void server_apply(struct server *s)
{
	log_set_level((enum log_level)s->cfg.log_level);
	server_conn_limit(s);
	server_quota_apply(s);
	s->broker.msg_max = s->cfg.max_message;
	s->broker.max_bytes = s->cfg.max_bytes;
	s->broker.max_objects = s->cfg.max_queues;
	s->broker.default_mode = s->cfg.default_mode;
	busypoll_set_max(&s->poll, (unsigned)s->cfg.busy_poll);
	durable_apply(s);
}

/* Log one setting that differs after a reload (config_each callback). */
static void server_reload_one(const char *key, int reloadable, const char *va,
			      const char *vb, void *arg)
{
	int *changed = arg;

	if (reloadable)
		log_info("reload: %s: %s -> %s", key, va, vb);
	else
		log_warn("reload: %s: %s -> %s needs a restart; keeping %s",
			 key, va, vb, va);
	(*changed)++;
}

/* Take the reloadable settings of cfg, logging what changed. */
void server_reconfigure(struct server *s, const struct config *cfg)
{
	struct config next = *cfg;
	int changed = 0;

	if (s->activated)
		memcpy(next.socket_path, s->cfg.socket_path, sizeof(next.socket_path));
	config_each(&s->cfg, &next, server_reload_one, &changed);
	/* What cannot change while running stays as it is. */
	memcpy(next.socket_path, s->cfg.socket_path, sizeof(next.socket_path));
	memcpy(next.socket_group, s->cfg.socket_group, sizeof(next.socket_group));
	next.socket_mode = s->cfg.socket_mode;
	s->cfg = next;
	server_apply(s);
	log_info("reload: %s", changed ? "done" : "configuration unchanged");
}

/* SIGHUP: read the configuration again and apply what can change. */
static void server_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	struct config cfg;
	struct timespec ts;
	char state[96];

	(void)sig;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
		 (unsigned long long)ts.tv_nsec / 1000u);
	notify_send(state);
	log_info("got SIGHUP: reloading the configuration");
	if (s->reload == NULL)
		server_reconfigure(s, &s->cfg);
	else if (s->reload(&cfg, s->reload_arg) == 0)
		server_reconfigure(s, &cfg);
	notify_send("READY=1");
}

/* SIGTERM or SIGINT. */
static void server_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("got %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	server_shutdown(arg);
}

/* Free heap memory idle this long goes back to the system. */
#define SERVER_TRIM_SEC 1

/*
 * glibc gives the top of the heap back to the system once more than
 * M_TRIM_THRESHOLD is free there, and serves blocks above
 * M_MMAP_THRESHOLD with mmap/munmap: a stream of 64 KiB messages, or of
 * multi-MiB batch frames, then faults fresh zeroed pages in for nearly
 * every message (perf: a third of ipcd's time on 64 KiB pipes). So every
 * frame comes from the heap and the heap keeps its free memory while
 * ipcd works; server_trim() hands it back once ipcd has been idle for
 * SERVER_TRIM_SEC, so what stays mapped is bounded by the last burst,
 * and only for a second.
 */
static void server_heap_setup(void)
{
#ifdef M_TRIM_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, (int)(PROTO_FRAME_HDR + PROTO_FRAME_MAX + (1u << 20)));
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

/* Before sleeping: make sure a trim will follow if this sleep lasts. */
static void server_trim_arm(struct server *s)
{
	struct timeval tv = { SERVER_TRIM_SEC, 0 };

	if (s->trim_ev != NULL && s->nreads != s->trim_mark &&
	    !evtimer_pending(s->trim_ev, NULL)) {
		s->trim_mark = s->nreads;
		evtimer_add(s->trim_ev, &tv);
	}
}

/* The trim timer: give free heap memory back once no request came for a
 * whole period, else look again a period later. malloc_trim walks every
 * free chunk and madvises each that spans a page, holding the heap's
 * lock: after a burst that left holes between live messages (100,000
 * mixed-size puts on 8 queues, 4 drained: 50,000 free chunks) it made
 * 10,289 MADV_DONTNEED calls and took 37-91 ms (at load 14-19)
 * of the loop, once, giving back 48 MB. Left so: glibc can neither bound
 * the walk nor run it beside the loop (whose mallocs wait on that lock),
 * and mallinfo2, to decide first, walks the same chunks (7-20 ms). */
static void server_trim(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)what;
	if (s->nreads != s->trim_mark) {
		server_trim_arm(s);
		return;
	}
#ifdef M_TRIM_THRESHOLD
	malloc_trim(0);
#endif
}

/* Make the event base. Without EVENT_BASE_FLAG_PRECISE_TIMER: its
 * epoll backend would set a timerfd before every epoll_wait; the
 * millisecond timers are ptimers (ptimer.h), the loop's own whole
 * seconds. */
static struct event_base *server_base(void)
{
	return event_base_new();
}

/* Nanoseconds on the monotonic clock. */
uint64_t server_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Set up the loop and listen. */
int server_init(struct server *s, const struct config *cfg)
{
	memset(s, 0, sizeof *s);
	s->stats.started_ns = server_now_ns();
	s->stats.start_time = (uint64_t)time(NULL);
	s->listen_fd = -1;
	s->spare_fd = -1;
	ilist_init(&s->conns);
	ilist_init(&s->dirty);
	server_heap_setup();
	s->cfg = *cfg;
	server_fd_setup(s);
	pbuf_init(&s->out);
	if (proto_dec_init(&s->dec) != 0 ||
	    broker_init(&s->broker, cfg->max_message, park_wake) != 0) {
		log_err("out of memory");
		return -1;
	}
	s->base = server_base();
	if (s->base == NULL) {
		log_err("cannot create the event loop");
		return -1;
	}
	ptimers_init(&s->timers, s->base);
	s->broker.quota.self = geteuid();
	server_apply(s);
	if (durable_init(s) != 0 || server_open(s, cfg) != 0)
		return -1;
	s->accept_ev = event_new(s->base, s->listen_fd, EV_READ | EV_PERSIST, server_accept, s);
	s->accept_retry_ev = evtimer_new(s->base, server_accept_resume, s);
	s->sig_term = evsignal_new(s->base, SIGTERM, server_signal, s);
	s->sig_int = evsignal_new(s->base, SIGINT, server_signal, s);
	s->sig_hup = evsignal_new(s->base, SIGHUP, server_hup, s);
	s->trim_ev = evtimer_new(s->base, server_trim, s);
	if (s->accept_ev == NULL || s->accept_retry_ev == NULL || s->trim_ev == NULL ||
	    s->sig_term == NULL || s->sig_int == NULL || s->sig_hup == NULL) {
		log_err("cannot set up events");
		return -1;
	}
	event_add(s->accept_ev, NULL);
	evsignal_add(s->sig_term, NULL);
	evsignal_add(s->sig_int, NULL);
	evsignal_add(s->sig_hup, NULL);
	log_info("listening on %s (protocol %d, messages up to %zu bytes)",
		 s->cfg.socket_path, IPC_PROTO_VERSION, cfg->max_message);
	return 0;
}

/* Microseconds on the monotonic clock. */
static uint64_t server_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Poll on, idle for idle_us, because a reply waits for a journal sync
 * that should end soon? Up to BUSYPOLL_MAX_US after the last request,
 * when the recent syncs took less than that: the reply then goes out as
 * the sync ends, not after a wake-up of the loop (about 30 us on a VM),
 * and the thread's eventfd costs no sleep either. */
static int server_poll_sync(const struct server *s, uint64_t idle_us)
{
	unsigned sync_us = durable_sync_wait_us(s);

	return sync_us > 0 && sync_us < BUSYPOLL_MAX_US && idle_us < BUSYPOLL_MAX_US;
}

/* After work, run the loop without sleeping until no request has come for
 * the busy-poll window (busypoll.h), or a little longer while replies
 * wait for a sync (server_poll_sync). */
static void server_poll(struct server *s)
{
	uint64_t last = server_now_us(), t;
	unsigned long seen;
	unsigned w;

	while ((w = busypoll_window(&s->poll)) > 0 && !s->stopped) {
		seen = s->nreads;
		if (event_base_loop(s->base, EVLOOP_NONBLOCK) < 0)
			return;
		t = server_now_us();
		if (s->nreads != seen) {
			last = t;
			busypoll_hit(&s->poll);
		} else if (t - last >= w && !server_poll_sync(s, t - last)) {
			return;
		} else {
			/* Nothing yet: let a runnable client have this CPU (on
			 * a machine with few CPUs the spin would take it from
			 * the producer or consumer it waits for). */
			sched_yield();
		}
	}
}

/* Say READY=1, then run until shut down: sleep in the loop until there is
 * work, do it, poll for more for a while (busypoll.h), and again. */
int server_run(struct server *s)
{
	char state[64];
	uint64_t t0 = 0;

	snprintf(state, sizeof(state), "READY=1\nMAINPID=%ld", (long)getpid());
	if (notify_send(state) < 0)
		log_warn("cannot notify the service manager: %s", strerror(errno));
	while (!s->stopped) {
		server_trim_arm(s);
		if (s->poll.max_us > 0)
			t0 = server_now_us();
		if (event_base_loop(s->base, EVLOOP_ONCE) < 0)
			return -1;
		if (s->poll.max_us > 0) {
			busypoll_slept(&s->poll, server_now_us() - t0);
			server_poll(s);
		}
	}
	return 0;
}

/* Free one event (NULL is fine). */
static void server_event_free(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

/* Free everything server_init made. */
void server_fini(struct server *s)
{
	while (!ilist_empty(&s->conns))
		conn_close(container_of(ilist_first(&s->conns), struct conn, link));
	if (s->broker.reg != NULL)
		broker_fini(&s->broker, IPC_ESHUTDOWN);
	durable_fini(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	server_unlink(s);
	server_event_free(&s->accept_ev);
	server_event_free(&s->accept_retry_ev);
	server_event_free(&s->flush_ev);
	server_event_free(&s->trim_ev);
	server_event_free(&s->sig_term);
	server_event_free(&s->sig_int);
	server_event_free(&s->sig_hup);
	server_event_free(&s->shutdown_ev);
	if (s->base != NULL) {
		/* Run the deferred frees of closed connections. */
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		ptimers_fini(&s->timers);
		event_base_free(s->base);
	}
	pbuf_free(&s->out);
	proto_dec_fini(&s->dec);
	qmsg_cache_drain();
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	s->spare_fd = -1;
	/* Every charge is given back by now; this frees what is left. */
	quota_fini(&s->broker.quota);
}
