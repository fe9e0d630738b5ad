/* SPDX-License-Identifier: MIT */
/*
 * _ipcd.c: ipcd._ipcd, the CPython extension under the ipcd package: one
 * Client type over a libipcclient handle, the ipcd.Error hierarchy and
 * the IPC_* constants (the Feeder type, a queue's background sender, is
 * in feeder.c). The package (ipcd/__init__.py) builds Queue, Pipe
 * and Connection on it.
 *
 * Every call that may wait releases the GIL, and checks for signals at
 * least every SLICE_MS, so Ctrl-C interrupts it (the library rides out
 * EINTR, so a plain long wait could not be): puts and pipe sends wait in
 * the daemon once, in their place, and the library calls check_signals
 * meanwhile (ipc_set_interrupt); the other calls wait in slices of at
 * most SLICE_MS, checking between them. What an interrupted call leaves
 * behind is said over each waiting method.
 */
#include "_ipcd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

#define INTERRUPTED (-1000) /* a step result: a Python exception is set */

/* One connection to ipcd, made in the process that uses it. */
typedef struct ClientObject {
	PyObject_HEAD
	ipc_client *c;           /* NULL once closed or dropped */
	pid_t pid;               /* the process that connected */
	int busy;                /* a call is running (GIL released) */
	char *sock;              /* the socket path asked for, or NULL */
	PyObject *pend;          /* a pipe message received when Ctrl-C came */
	int pend_end;
	int armed;               /* pipe_arm() was called: fileno() waiting */
	unsigned unwaited;       /* async requests since a flush (no window) */
	int inplace;             /* ipc_set_interrupt() took check_signals */
	int checking;            /* a run_inplace() call waits: check them */
	struct ClientObject *next, *prev; /* every live client, for fork */
	PyObject *weakrefs;
} ClientObject;

static ClientObject *all_clients;
/* This process's pid, kept by module init and the at-fork hook, so the
 * per-call "same process?" check costs no getpid() system call. */
pid_t this_pid;
static PyObject *Error;          /* ipcd.Error */
static PyObject *QueueEmpty, *QueueFull; /* queue.Empty, queue.Full */

/* One row per IPC_E* code: its name, the exception class raised for it
 * (made at import from base, or a builtin), and the doc of that class. */
struct err_row {
	int code;
	const char *code_name;
	const char *cls_name;    /* NULL: raise builtin */
	PyObject **builtin;      /* for cls_name NULL */
	const char *doc;
	PyObject *cls;
};

static PyObject *exc_oserror_base(int code);

#define ROW(c, cls, doc) { c, #c, cls, NULL, doc, NULL }
static struct err_row err_rows[] = {
	ROW(IPC_ENOENT, "NotFoundError", "No queue or pipe of that name (IPC_ENOENT)."),
	ROW(IPC_EEXIST, "ExistsError", "Exclusive create: the name is taken (IPC_EEXIST)."),
	ROW(IPC_EDELETED, "DeletedError", "The queue or pipe was deleted while the call waited (IPC_EDELETED)."),
	ROW(IPC_EMISMATCH, "MismatchError", "It exists with another maxsize, kind or bounds (IPC_EMISMATCH)."),
	ROW(IPC_ENAME, "InvalidNameError", "Invalid name: 1-128 bytes of [A-Za-z0-9_.:@-], not starting with '.' (IPC_ENAME)."),
	ROW(IPC_ETOOBIG, "TooBigError", "The message is over the daemon's size limit (IPC_ETOOBIG); the connection stays usable."),
	ROW(IPC_EINVAL, "InvalidError", "An argument out of range (IPC_EINVAL)."),
	ROW(IPC_EBUSY, "BusyError", "That pipe end is attached by another connection (IPC_EBUSY)."),
	ROW(IPC_EPERM, "PermissionError", "Permission denied by the daemon (IPC_EPERM)."),
	ROW(IPC_ESHUTDOWN, "ShutdownError", "The daemon is shutting down (IPC_ESHUTDOWN)."),
	ROW(IPC_ELIMIT, "LimitError", "A daemon-wide limit was reached (IPC_ELIMIT)."),
	ROW(IPC_EWRONGTYPE, "WrongTypeError", "The name is a pipe where a queue was meant, or back (IPC_EWRONGTYPE)."),
	ROW(IPC_EDIRECTION, "DirectionError", "This end of a one-way pipe may not send (or receive) (IPC_EDIRECTION)."),
	ROW(IPC_ECLOSED, "ClosedError", "The pipe end was closed and cannot be used again (IPC_ECLOSED)."),
	ROW(IPC_ENOTATTACHED, "NotAttachedError", "This connection holds no such pipe end (IPC_ENOTATTACHED)."),
	ROW(IPC_ENOTHELD, "NotHeldError", "Ack: no message in flight under that tag (acked already or lease ran out) (IPC_ENOTHELD)."),
	ROW(IPC_ENOSPC, "NoSpaceError", "A durable queue's journal could not store the message (IPC_ENOSPC)."),
	ROW(IPC_EIO, "ConnectionLostError", "The connection to ipcd broke (IPC_EIO); a new one is made at the next call."),
	ROW(IPC_EPROTO, "ProtocolError", "Malformed or unexpected frame from the daemon (IPC_EPROTO)."),
	ROW(IPC_EVERSION, "VersionError", "The daemon speaks another protocol version (IPC_EVERSION)."),
	ROW(IPC_ENOMEM, "NoMemoryError", "Out of memory in the client library (IPC_ENOMEM)."),
	ROW(IPC_ECONNECT, "ConnectError", "Could not connect to the daemon's socket (IPC_ECONNECT)."),
	ROW(IPC_ENODURABLE, "NoDurabilityError", "A durable queue was asked of a daemon that keeps no journal (IPC_ENODURABLE)."),
	ROW(IPC_ENOTSUP, "NotSupportedError", "The backend cannot keep this call's semantics, e.g. pipes on NATS (IPC_ENOTSUP)."),
	ROW(IPC_ETIMEDOUT, "DaemonTimeoutError", "The daemon did not answer in time: connect timeout, or a reply later than the call's timeout plus the I/O timeout (IPC_ETIMEDOUT)."),
	{ IPC_EEMPTY, "IPC_EEMPTY", NULL, &QueueEmpty, NULL, NULL },
	{ IPC_EFULL, "IPC_EFULL", NULL, &QueueFull, NULL, NULL },
	{ IPC_EEOF, "IPC_EEOF", NULL, &PyExc_EOFError, NULL, NULL },
	{ IPC_EPIPE, "IPC_EPIPE", NULL, &PyExc_BrokenPipeError, NULL, NULL },
};
#undef ROW
#define N_ERR_ROWS (sizeof(err_rows) / sizeof(err_rows[0]))

/* The builtin OSError subclass an ipcd error class also derives from. */
static PyObject *exc_oserror_base(int code)
{
	switch (code) {
	case IPC_ENOENT: return PyExc_FileNotFoundError;
	case IPC_EEXIST: return PyExc_FileExistsError;
	case IPC_EPERM: return PyExc_PermissionError;
	case IPC_EIO: case IPC_ECONNECT: case IPC_ESHUTDOWN: case IPC_ETIMEDOUT:
		return PyExc_ConnectionError;
	case IPC_ENAME: case IPC_EINVAL: case IPC_ETOOBIG: case IPC_EMISMATCH:
		return PyExc_ValueError;
	case IPC_EBUSY: case IPC_ECLOSED: case IPC_ENOTATTACHED: case IPC_EDIRECTION:
	case IPC_ENOSPC: case IPC_ENODURABLE:
		return PyExc_OSError;
	case IPC_ENOTSUP:
		return PyExc_NotImplementedError;
	default: return NULL;
	}
}

/* The row of code, or NULL. */
static struct err_row *err_row_of(int code)
{
	for (size_t i = 0; i < N_ERR_ROWS; i++)
		if (err_rows[i].code == code)
			return &err_rows[i];
	return NULL;
}

/* Raise the exception for code with text detail; always returns NULL. */
PyObject *raise_code(int code, const char *detail)
{
	struct err_row *r = err_row_of(code);
	PyObject *cls = r ? (r->cls ? r->cls : *r->builtin) : Error;
	PyObject *exc, *v;

	/* A failed connect names every path tried (ipc_last_error(NULL)). */
	if (code == IPC_ECONNECT && !detail)
		detail = ipc_last_error(NULL);
	if (code == IPC_ECONNECT && (!detail || !*detail) && errno)
		detail = strerror(errno);
	exc = PyObject_CallFunction(cls, "s", detail ? detail : ipc_strerror(code));
	if (!exc)
		return NULL;
	if (!r || r->cls) {      /* every ipcd.Error carries code and detail */
		v = PyLong_FromLong(code);
		if (v) {
			PyObject_SetAttrString(exc, "code", v);
			Py_DECREF(v);
		}
		v = PyUnicode_FromString(detail ? detail : "");
		if (v) {
			PyObject_SetAttrString(exc, "detail", v);
			Py_DECREF(v);
		}
	}
	PyErr_SetObject(cls, exc);
	Py_DECREF(exc);
	return NULL;
}

/* Forget a client's handle without a word to the daemon and without
 * touching the socket another process shares (after fork). */
static void client_abandon(ClientObject *self)
{
	int fd, nul;

	if (!self->c)
		return;
	fd = ipc_fd(self->c);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* dup2 swaps our reference to the shared socket for /dev/null, so
	 * ipc_close's writes and close cannot reach the parent's peer. */
	if (nul >= 0 && fd >= 0 && dup2(nul, fd) >= 0) {
		close(nul);
		ipc_close(self->c);
	} else if (nul >= 0) {
		close(nul); /* leak the handle rather than write to the socket */
	}
	self->c = NULL;
}

/* Close the handle: the daemon gets held requests, parked ones cancel. */
static void client_drop(ClientObject *self)
{
	ipc_client *c = self->c;

	if (!c)
		return;
	self->c = NULL;
	if (self->pid != this_pid) {
		self->c = c;
		client_abandon(self);
		return;
	}
	Py_BEGIN_ALLOW_THREADS
	ipc_close(c);
	Py_END_ALLOW_THREADS
}

/* Raise for rc on self; a fatal rc drops the connection. NULL. */
static PyObject *client_raise(ClientObject *self, int rc)
{
	PyObject *r;

	if (rc == INTERRUPTED)
		return NULL;
	r = raise_code(rc, self->c ? ipc_last_error(self->c) : NULL);
	if (rc < 0)
		client_drop(self);
	return r;
}

/* Take the client for a call: 0, or -1 with an exception set. */
static int client_enter(ClientObject *self)
{
	if (!self->c || self->pid != this_pid) {
		PyErr_SetString(PyExc_OSError, "ipcd connection is closed");
		return -1;
	}
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError,
				"ipcd.Client used by two threads at once");
		return -1;
	}
	self->busy = 1;
	return 0;
}

/* A library call made with the GIL released: fn(c, arg), a result code. */
typedef int (*call_fn)(ipc_client *c, void *arg);

/* Run fn on the client with the GIL released: 0, or -1 with the
 * exception for its failure set. */
static int client_call(ClientObject *self, call_fn fn, void *arg)
{
	int rc;

	if (client_enter(self))
		return -1;
	Py_BEGIN_ALLOW_THREADS
	rc = fn(self->c, arg);
	Py_END_ALLOW_THREADS
	self->busy = 0;
	if (rc) {
		client_raise(self, rc);
		return -1;
	}
	return 0;
}

/* A library call on a queue or pipe name alone (ipc_delete, ...). */
typedef int (*name_fn)(ipc_client *c, const char *name);
/* A library call on an end of a pipe (ipc_pipe_close, ...). */
typedef int (*end_fn)(ipc_client *c, const char *name, int end);

/* The arguments of the calls on a name (and a pipe end, a tag, a count). */
struct name_arg {
	const char *name;
	int end;
	unsigned n;
	unsigned long long tag;
	int hold_ms;             /* set_readahead: >= 0 held read-ahead */
	struct ipc_info info;
	name_fn fn;              /* call_name: fn(c, name), or else */
	end_fn efn;              /* efn(c, name, end) */
};

/* The call a->fn or a->efn names (see struct name_arg). */
static int call_name(ipc_client *c, void *arg)
{
	struct name_arg *a = arg;

	return a->fn ? a->fn(c, a->name) : a->efn(c, a->name, a->end);
}

/* Parse (name) by fmt and run fn on it: None, or NULL with the exception. */
static PyObject *name_only(ClientObject *self, PyObject *args, const char *fmt,
			   name_fn fn)
{
	struct name_arg a = { .fn = fn };

	if (!PyArg_ParseTuple(args, fmt, &a.name) || client_call(self, call_name, &a) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* Parse (name, end) by fmt and run fn on them: None, or NULL. */
static PyObject *end_only(ClientObject *self, PyObject *args, const char *fmt,
			  end_fn fn)
{
	struct name_arg a = { .efn = fn };

	if (!PyArg_ParseTuple(args, fmt, &a.name, &a.end) ||
	    client_call(self, call_name, &a) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* Microseconds on the monotonic clock. */
static long long now_us(void)
{
	return now_ns() / 1000;
}

/* The one loop of every wait that Ctrl-C must interrupt (see _ipcd.h). */
int sliced_wait(slice_fn step, void *arg, int timeout_ms)
{
	long long end = timeout_ms < 0 ? 0 : now_us() + timeout_ms * 1000LL;
	int over;

	for (;;) {
		/* Whole milliseconds, rounded up: never return before the end. */
		long long left = timeout_ms < 0 ? SLICE_MS : (end - now_us() + 999) / 1000;
		int slice = left < 0 ? 0 : left > SLICE_MS ? SLICE_MS : (int)left;

		Py_BEGIN_ALLOW_THREADS
		over = step(arg, slice);
		Py_END_ALLOW_THREADS
		if (over)
			return 1;
		if (PyErr_CheckSignals() < 0)
			return -1;
		if (timeout_ms >= 0 && now_us() >= end)
			return 0;
	}
}

/* One library call of a sliced wait, run with the GIL released. */
typedef int (*step_fn)(ClientObject *self, void *arg, int timeout_ms);

/* A run_sliced in progress: the step, its last result, and whether the
 * first slice is done. */
struct sliced_call {
	ClientObject *self;
	step_fn step;
	void *arg;
	int again, rc, first;
};

/* One slice of run_sliced: over when the step returned other than again. */
static int call_slice(void *arg, int slice_ms)
{
	struct sliced_call *c = arg;

	c->rc = c->step(c->self, c->arg, slice_ms);
	/* Gone between two slices: it was there when the wait began,
	 * so it was deleted while we waited, as one long wait says. */
	if (c->rc == IPC_ENOENT && !c->first)
		c->rc = IPC_EDELETED;
	c->first = 0;
	return c->rc != c->again;
}

/*
 * Run step in slices of at most SLICE_MS until it returns something other
 * than again (IPC_EEMPTY or IPC_EFULL) or timeout_ms (-1 forever) ran out,
 * checking for signals between slices: INTERRUPTED when a handler raised.
 */
static int run_sliced(ClientObject *self, step_fn step, void *arg,
		      int timeout_ms, int again)
{
	struct sliced_call c = { self, step, arg, again, again, 1 };

	if (sliced_wait(call_slice, &c, timeout_ms) < 0)
		return INTERRUPTED;
	return c.rc;
}

/* ipc_set_interrupt()'s check, while run_inplace() waits (the GIL
 * released): run the signal handlers; true when one raised. */
static int check_signals(void *arg)
{
	ClientObject *self = arg;
	PyGILState_STATE g;
	int stop;

	if (!self->checking)
		return 0;
	g = PyGILState_Ensure();
	stop = PyErr_CheckSignals() < 0;
	PyGILState_Release(g);
	return stop;
}

/* The pending call of raise_later: raise its exception (a tuple
 * type, value, traceback) at the caller's next bytecode. */
static int raise_deferred(void *arg)
{
	PyObject *t = arg, *type = PyTuple_GET_ITEM(t, 0), *value = PyTuple_GET_ITEM(t, 1),
		 *tb = PyTuple_GET_ITEM(t, 2);

	Py_INCREF(type);
	Py_INCREF(value);
	Py_INCREF(tb);
	PyErr_Restore(type, value == Py_None ? NULL : value, tb == Py_None ? NULL : tb);
	if (value == Py_None)
		Py_DECREF(value);
	if (tb == Py_None)
		Py_DECREF(tb);
	Py_DECREF(t);
	return -1;
}

/* The exception set now is raised once the call returns, as a signal
 * that came just after it would be: 0, or -1 (still set) when it cannot
 * be put off. */
static int raise_later(void)
{
	PyObject *type, *value, *tb, *t;

	PyErr_Fetch(&type, &value, &tb);
	t = Py_BuildValue("(OOO)", type, value ? value : Py_None, tb ? tb : Py_None);
	if (t != NULL && Py_AddPendingCall(raise_deferred, t) == 0) {
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		return 0;
	}
	Py_XDECREF(t);
	PyErr_Restore(type, value, tb);
	return -1;
}

/*
 * Run step once with the whole timeout: the request waits in the daemon
 * in its place among the waiters (a slice that ran out would queue it
 * again behind later ones). Signal handlers run meanwhile (check_signals);
 * when one raised, the daemon timed the request out at once: INTERRUPTED,
 * nothing done, unless it had completed first (a put in, a send sent),
 * which stands, the exception then coming right after the call returns.
 */
static int run_inplace(ClientObject *self, step_fn step, void *arg, int timeout_ms)
{
	int rc;

	self->checking = 1;
	Py_BEGIN_ALLOW_THREADS
	rc = step(self, arg, timeout_ms);
	Py_END_ALLOW_THREADS
	self->checking = 0;
	if (!PyErr_Occurred())
		return rc;
	if (rc == 0 && raise_later() == 0)
		return 0;
	return INTERRUPTED;
}

/* Wait for a put or a send: in place when the backend can (run_inplace),
 * else in slices. */
static int run_waiting(ClientObject *self, step_fn step, void *arg,
		       int timeout_ms, int again)
{
	if (self->inplace && timeout_ms != 0)
		return run_inplace(self, step, arg, timeout_ms);
	return run_sliced(self, step, arg, timeout_ms, again);
}

/* One slice of a wait for the async window: at most *(unsigned *)arg in
 * flight. */
static int step_async_wait(ClientObject *self, void *arg, int timeout_ms)
{
	return ipc_async_wait(self->c, *(unsigned *)arg, timeout_ms);
}

/* Work done with the client taken and the GIL held (it releases the GIL
 * around its library calls, or slices them with run_sliced): a result
 * code, or INTERRUPTED with the exception set. */
typedef int (*held_fn)(ClientObject *self, void *arg, int timeout_ms);

/* Take the client, run fn, give the client back: fn's result, or
 * INTERRUPTED when the client could not be taken (client_enter). */
static int client_hold(ClientObject *self, held_fn fn, void *arg, int timeout_ms)
{
	int rc;

	if (client_enter(self))
		return INTERRUPTED;
	rc = fn(self, arg, timeout_ms);
	self->busy = 0;
	return rc;
}

/*
 * Before a connection is dropped unasked (its object collected, e.g. the
 * thread that used it ended): wait for its async puts, since those parked
 * in a full queue would be cancelled with it. Ctrl-C gives up the wait
 * (reported as unraisable; the puts still parked are then cancelled).
 */
static void client_settle_quietly(ClientObject *self)
{
	PyObject *type, *value, *tb;
	unsigned none = 0;

	if (!self->c || self->pid != this_pid || self->busy ||
	    ipc_async_wait(self->c, 0, 0) != IPC_EFULL)
		return;
	PyErr_Fetch(&type, &value, &tb);
	if (run_sliced(self, step_async_wait, &none, -1, IPC_EFULL) == INTERRUPTED)
		PyErr_WriteUnraisable((PyObject *)self);
	PyErr_Restore(type, value, tb);
}

/* Parse a name argument into a C string the library takes. */
#define NAME_ARG "s"

/* A message as a bytes object, freeing the library's copy. */
static PyObject *take_bytes(void *data, size_t len)
{
	PyObject *b = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);

	ipc_free(data);
	return b;
}

/* A message unpickled (pickle_loads), freeing the library's copy: read
 * straight from that copy when pickle5.c reads the pickle itself, which
 * saves copying the message into a bytes object first. */
static PyObject *take_object(void *data, size_t len)
{
	PyObject *obj = pickle5_load_fast(data, len), *b;

	if (obj || PyErr_Occurred()) {
		ipc_free(data);
		return obj;
	}
	if (!(b = take_bytes(data, len)))
		return NULL;
	obj = pickle5_loads(b);
	Py_DECREF(b);
	return obj;
}

/* ---- connecting ---------------------------------------------------- */

/* Client(socket=None): connect to ipcd (socket None: $IPCD_SOCKET, ...). */
static int client_init(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "socket", NULL };
	const char *sock = NULL;
	ipc_client *c = NULL;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|z:Client", kwlist, &sock))
		return -1;
	if (self->c) {
		PyErr_SetString(PyExc_RuntimeError, "Client is already connected");
		return -1;
	}
	Py_BEGIN_ALLOW_THREADS
	errno = 0;
	rc = ipc_connect(sock, &c);
	Py_END_ALLOW_THREADS
	if (rc) {
		raise_code(rc, NULL);
		return -1;
	}
	self->c = c;
	self->pid = this_pid;
	self->inplace = ipc_set_interrupt(c, SLICE_MS, check_signals, self) == 0;
	self->sock = sock ? strdup(sock) : NULL;
	return 0;
}

/* Link a new client into all_clients. */
static PyObject *client_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	ClientObject *self = (ClientObject *)type->tp_alloc(type, 0);

	if (!self)
		return NULL;
	self->next = all_clients;
	if (all_clients)
		all_clients->prev = self;
	all_clients = self;
	return (PyObject *)self;
}

/* Close the connection (if any), unlink, free. */
static void client_dealloc(ClientObject *self)
{
	if (self->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)self);
	client_settle_quietly(self);
	client_drop(self);
	if (self->prev)
		self->prev->next = self->next;
	else if (all_clients == self)
		all_clients = self->next;
	if (self->next)
		self->next->prev = self->prev;
	Py_CLEAR(self->pend);
	free(self->sock);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(close_doc, "close()\n--\n\nClose the connection. Requests parked in the "
	     "daemon for it are cancelled (nothing taken); pipe ends it attached "
	     "are closed; messages read ahead are lost. Idempotent.");
/* Client.close(). */
static PyObject *client_close(ClientObject *self, PyObject *unused)
{
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError, "Client.close() during a call");
		return NULL;
	}
	client_drop(self);
	Py_RETURN_NONE;
}

/* Client.alive: connected, in this process. */
static PyObject *client_get_alive(ClientObject *self, void *unused)
{
	return PyBool_FromLong(self->c && self->pid == this_pid);
}

PyDoc_STRVAR(fileno_doc, "fileno() -> int\n--\n\nThe connection's socket (for "
	     "diagnostics; do not read or write it).");
/* Client.fileno(). */
static PyObject *client_fileno(ClientObject *self, PyObject *unused)
{
	if (!self->c) {
		PyErr_SetString(PyExc_OSError, "ipcd connection is closed");
		return NULL;
	}
	return PyLong_FromLong(ipc_fd(self->c));
}

PyDoc_STRVAR(msg_max_doc, "msg_max() -> int\n--\n\nThe daemon's size limit in bytes for a message carried in its request;\nlarger ones travel as sealed memfds, up to the daemon's max-memfd-size.");
/* Client.msg_max(). */
static PyObject *client_msg_max(ClientObject *self, PyObject *unused)
{
	if (client_enter(self))
		return NULL;
	self->busy = 0;
	return PyLong_FromSize_t(ipc_msg_max(self->c));
}

/* ---- queues -------------------------------------------------------- */

PyDoc_STRVAR(queue_open_doc, "queue_open(name, maxsize, create=True, exclusive=False, mode=-1, durable=False, owned=False) -> int\n--\n\n"
	     "Open (and with create, make) queue name; maxsize -1 accepts any. "
	     "durable: create it durable (journaled, kept across restarts of ipcd); "
	     "an existing queue that is not durable raises MismatchError. owned: "
	     "an existing queue must be this uid's or root's, else PermissionError "
	     "(IPC_QUEUE_OWNED). Returns the queue's maxsize.");
struct open_arg {
	const char *name;
	struct ipc_queue_opts o;
	long long actual;
};

/* ipc_queue_open(). */
static int call_open(ipc_client *c, void *arg)
{
	struct open_arg *a = arg;

	return ipc_queue_open(c, a->name, &a->o, &a->actual);
}

/* Client.queue_open(). */
static PyObject *client_queue_open(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "name", "maxsize", "create", "exclusive", "mode",
				  "durable", "owned", NULL };
	struct open_arg a = { .o = IPC_QUEUE_OPTS_INIT };
	int create = 1, excl = 0, durable = 0, owned = 0;

	if (!PyArg_ParseTupleAndKeywords(args, kw, NAME_ARG "L|ppipp:queue_open", kwlist,
					 &a.name, &a.o.maxsize, &create, &excl, &a.o.mode,
					 &durable, &owned))
		return NULL;
	a.o.flags = (create ? IPC_QUEUE_CREATE : 0) | (excl ? IPC_QUEUE_EXCL : 0) |
		    (durable ? IPC_QUEUE_DURABLE : 0) | (owned ? IPC_QUEUE_OWNED : 0);
	if (client_call(self, call_open, &a) < 0)
		return NULL;
	return PyLong_FromLongLong(a.actual);
}

/* A put, a pipe send or a pipe receive: the name, the end (-1 for a
 * queue), the data sent or received. */
struct pipe_arg {
	const char *name;
	int end;
	int reserved;            /* send_async: a put into a reserved slot */
	Py_buffer *buf;
	void *data;
	size_t len;
	PyObject *out;           /* pipe_recv_run: what it received */
	int decode;              /* pipe_recv: return pickle_loads() of it */
};

/* A share or a join of a pipe end: the token, what the join reports. */
struct share_arg {
	const char *name;
	int end;
	int join;                /* ipc_pipe_join, else ipc_pipe_share */
	uint64_t token;
	struct ipc_pipe_opts o;
};

/* One slice of a put. */
static int step_put(ClientObject *self, void *arg, int timeout_ms)
{
	struct pipe_arg *a = arg;

	return ipc_queue_put(self->c, a->name, a->buf->buf, (size_t)a->buf->len, timeout_ms);
}

/* Run step (a put or a pipe send of buf) in slices, then release buf:
 * None, or NULL with the exception (queue.Full when no room came). */
static PyObject *send_run(ClientObject *self, step_fn step, struct pipe_arg *a,
			  Py_buffer *buf, int timeout)
{
	int rc;

	if (client_enter(self)) {
		PyBuffer_Release(buf);
		return NULL;
	}
	a->buf = buf;
	rc = run_waiting(self, step, a, timeout, IPC_EFULL);
	self->busy = 0;
	PyBuffer_Release(buf);
	if (rc)
		return client_raise(self, rc);
	Py_RETURN_NONE;
}

static int window_room(ClientObject *self, unsigned window);

/* A backend without async_wait (NATS): wait for every async request
 * made so far (its own flush), so a failure surfaces within the window. */
static int flush_every(ClientObject *self)
{
	int rc;

	self->unwaited = 0;
	Py_BEGIN_ALLOW_THREADS
	rc = ipc_flush(self->c);
	Py_END_ALLOW_THREADS
	return rc;
}

/* Write a put (a->end < 0) or a pipe send of buf without waiting for
 * its outcome, and with push at once, after window_room(window);
 * release buf: None or NULL. */
static PyObject *send_async(ClientObject *self, struct pipe_arg *a, Py_buffer *buf,
			    int push, unsigned window)
{
	int rc;

	if (client_enter(self)) {
		PyBuffer_Release(buf);
		return NULL;
	}
	rc = window_room(self, window);
	Py_BEGIN_ALLOW_THREADS
	if (rc == 0 && a->reserved)
		rc = ipc_queue_put_reserved_async(self->c, a->name, buf->buf,
						  (size_t)buf->len);
	else if (rc == 0 && a->end < 0)
		rc = ipc_queue_put_async(self->c, a->name, buf->buf, (size_t)buf->len,
					 IPC_FOREVER);
	else if (rc == 0)
		rc = ipc_pipe_send_async(self->c, a->name, a->end, buf->buf,
					 (size_t)buf->len, IPC_FOREVER);
	if (rc == 0 && push)
		rc = ipc_push(self->c);
	Py_END_ALLOW_THREADS
	self->busy = 0;
	PyBuffer_Release(buf);
	if (rc)
		return client_raise(self, rc);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(put_doc, "put(name, data, timeout_ms=-1)\n--\n\n"
	     "Put data (bytes-like) on queue name, waiting per timeout_ms for room "
	     "(-1 forever, 0 never), in its place among the puts waiting for room. "
	     "Raises queue.Full. Interrupted by a signal (Ctrl-C), nothing was put "
	     "(unless it went in at that moment: then it returns and the "
	     "exception comes right after).");
/* Client.put(). */
static PyObject *client_put(ClientObject *self, PyObject *args)
{
	struct pipe_arg a = { .end = -1 };
	Py_buffer buf;
	int timeout = -1;

	if (!PyArg_ParseTuple(args, NAME_ARG "y*|i:put", &a.name, &buf, &timeout))
		return NULL;
	return send_run(self, step_put, &a, &buf, timeout);
}

/*
 * Before an async request with a window: when window or more are in
 * flight, wait (in slices, Ctrl-C interrupts it) until half of it is;
 * then raise the first failure read so far (a backend without
 * async_wait: flush every window requests). 0, or a code / INTERRUPTED
 * with nothing sent. Called with the client entered.
 */
static int window_room(ClientObject *self, unsigned window)
{
	unsigned half = window / 2;
	int rc;

	if (window == 0)
		return 0;
	rc = ipc_async_wait(self->c, window - 1, 0);
	if (rc == IPC_ENOTSUP) /* NATS: no window, a flush every window requests */
		return ++self->unwaited < window ? 0 : flush_every(self);
	if (rc == IPC_EFULL)
		rc = run_sliced(self, step_async_wait, &half, -1, IPC_EFULL);
	return rc ? rc : ipc_async_error(self->c);
}

PyDoc_STRVAR(put_async_doc, "put_async(name, data, push=True, window=0)\n--\n\n"
	     "Positional arguments only; push and window are ints (a bool for push). "
	     "Put without waiting for the outcome (pipelined); with push, the request "
	     "is written at once. Failures come at flush() or async_error(). With "
	     "window > 0, when that many async requests are in flight it first waits "
	     "(Ctrl-C interrupts it) until half of them are answered, then raises a "
	     "failure read so far (async_error()); either way nothing is sent then.");
/*
 * The arguments of the per-message async calls, parsed by hand (METH_FASTCALL:
 * PyArg_ParseTuple cost ~700 instructions a call, a tenth of a pipelined
 * put): nargs in [min, max]; args[0] the name (str), args[at] the data
 * (bytes-like, into *buf, which the caller releases), args[at + 1] and on
 * the unsigned ints *opt (as many as given). 0, or -1 with an exception.
 */
static int fast_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t min,
		     Py_ssize_t max, Py_ssize_t at, const char **name, Py_buffer *buf,
		     unsigned *opt[])
{
	Py_ssize_t len, i;

	if (nargs < min || nargs > max) {
		PyErr_Format(PyExc_TypeError, "takes %zd to %zd arguments (%zd given)", min,
			     max, nargs);
		return -1;
	}
	if (!PyUnicode_Check(args[0])) {
		PyErr_SetString(PyExc_TypeError, "name must be str");
		return -1;
	}
	if (!(*name = PyUnicode_AsUTF8AndSize(args[0], &len)))
		return -1;
	if (strlen(*name) != (size_t)len) {
		PyErr_SetString(PyExc_ValueError, "embedded null character");
		return -1;
	}
	for (i = at + 1; i < nargs; i++) {
		unsigned long v = PyLong_AsUnsignedLongMask(args[i]);

		if (v == (unsigned long)-1 && PyErr_Occurred())
			return -1;
		*opt[i - at - 1] = (unsigned)v;
	}
	return PyObject_GetBuffer(args[at], buf, PyBUF_SIMPLE);
}

/* put_async() or, reserved, put_reserved(): (name, data, push, window). */
static PyObject *queue_send_async(ClientObject *self, PyObject *const *args,
				  Py_ssize_t nargs, int reserved)
{
	struct pipe_arg a = { .end = -1, .reserved = reserved };
	Py_buffer buf;
	unsigned push = 1, window = 0, *opt[] = { &push, &window };

	if (fast_args(args, nargs, 2, 4, 1, &a.name, &buf, opt))
		return NULL;
	return send_async(self, &a, &buf, push != 0, window);
}

/* Client.put_async(). */
static PyObject *client_put_async(ClientObject *self, PyObject *const *args,
				  Py_ssize_t nargs)
{
	return queue_send_async(self, args, nargs, 0);
}

PyDoc_STRVAR(put_reserved_doc, "put_reserved(name, data, push=True, window=0)\n--\n\n"
	     "put_async() into a slot reserved with reserve(): the daemon takes it at "
	     "once, with no room check; NotHeldError (at flush() or async_error()) "
	     "when this connection held no slot there.");
/* Client.put_reserved(). */
static PyObject *client_put_reserved(ClientObject *self, PyObject *const *args,
				     Py_ssize_t nargs)
{
	return queue_send_async(self, args, nargs, 1);
}

PyDoc_STRVAR(reserve_doc, "reserve(name, want, idle_ms=0) -> int\n--\n\n"
	     "Reserve up to want (1..1024) slots of bounded queue name for this "
	     "connection (ipc_queue_reserve_idle): how many the daemon granted, 0 when "
	     "none (full, putters waiting, unbounded or durable). idle_ms > 0: the "
	     "daemon takes back the slots not spent idle_ms after the last reserve or "
	     "put_reserved on the queue.");
struct reserve_arg {
	const char *name;
	unsigned want, granted;
	int idle_ms;
};

/* ipc_queue_reserve_idle(), none granted (IPC_EFULL) being no failure. */
static int call_reserve(ipc_client *c, void *arg)
{
	struct reserve_arg *a = arg;
	int rc = ipc_queue_reserve_idle(c, a->name, a->want, a->idle_ms, &a->granted);

	return rc == IPC_EFULL ? 0 : rc;
}

/* Client.reserve(). */
static PyObject *client_reserve(ClientObject *self, PyObject *args)
{
	struct reserve_arg a = { 0 };

	if (!PyArg_ParseTuple(args, NAME_ARG "I|i:reserve", &a.name, &a.want, &a.idle_ms) ||
	    client_call(self, call_reserve, &a) < 0)
		return NULL;
	return PyLong_FromUnsignedLong(a.granted);
}

PyDoc_STRVAR(unreserve_doc, "unreserve(name)\n--\n\n"
	     "Give back every slot this connection reserved in queue name.");
/* Client.unreserve(). */
static PyObject *client_unreserve(ClientObject *self, PyObject *args)
{
	return name_only(self, args, NAME_ARG ":unreserve", ipc_queue_unreserve);
}

PyDoc_STRVAR(async_error_doc, "async_error()\n--\n\nRaise the first failure among "
	     "the async replies read so far, without waiting for more (once: it is "
	     "then forgotten, as flush() forgets it).");
/* Client.async_error(). */
static PyObject *client_async_error(ClientObject *self, PyObject *unused)
{
	int rc;

	if (client_enter(self))
		return NULL;
	rc = ipc_async_error(self->c);
	self->busy = 0;
	if (rc)
		return client_raise(self, rc);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(flush_doc, "flush()\n--\n\nWait for the outcome of every put_async() "
	     "and raise the first failure. Ctrl-C interrupts the wait (those not "
	     "answered stay in flight).");
/* Client.flush(). */
static PyObject *client_flush(ClientObject *self, PyObject *unused)
{
	unsigned none = 0;
	int rc;

	if (client_enter(self))
		return NULL;
	rc = run_sliced(self, step_async_wait, &none, -1, IPC_EFULL);
	if (rc == IPC_ENOTSUP) {  /* NATS: its own flush waits */
		Py_BEGIN_ALLOW_THREADS
		rc = ipc_flush(self->c);
		Py_END_ALLOW_THREADS
	} else if (rc == 0) {
		rc = ipc_flush(self->c);  /* nothing in flight: says the failure */
	}
	self->busy = 0;
	if (rc)
		return client_raise(self, rc);
	Py_RETURN_NONE;
}

struct get_arg {
	const char *name;
	void *data;
	size_t len;
	uint64_t tag;
	int lease_ms;
};

/* One slice of an at-least-once get. */
static int step_get_ack(ClientObject *self, void *arg, int timeout_ms)
{
	struct get_arg *a = arg;

	return ipc_queue_get_ack(self->c, a->name, &a->data, &a->len, &a->tag,
			   timeout_ms, a->lease_ms);
}

/*
 * Wait for a message of a queue at-least-once (it stays in flight until
 * acked); 0 with a->data set, a code, or INTERRUPTED. When a signal
 * handler raises just as a message came, the connection is dropped, which
 * puts the message back at the head of the queue: an interrupted get
 * consumes nothing.
 */
static int wait_get_ack(ClientObject *self, void *arg, int timeout_ms)
{
	struct get_arg *a = arg;
	int rc = run_sliced(self, step_get_ack, a, timeout_ms, IPC_EEMPTY);

	if (rc == 0 && PyErr_CheckSignals() < 0) {
		ipc_free(a->data);
		client_drop(self);
		return INTERRUPTED;
	}
	return rc;
}

/* Take one message of queue name: a plain get that does not wait, then,
 * when the queue is empty, a sliced at-least-once wait acked on arrival. */
static int get_one(ClientObject *self, void *arg, int timeout_ms)
{
	struct get_arg *a = arg;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = ipc_queue_get(self->c, a->name, &a->data, &a->len, 0);
	Py_END_ALLOW_THREADS
	if (rc != IPC_EEMPTY || timeout_ms == 0)
		return rc;
	a->lease_ms = 0;
	rc = wait_get_ack(self, a, timeout_ms);
	if (rc)
		return rc;
	Py_BEGIN_ALLOW_THREADS
	rc = ipc_queue_ack(self->c, a->name, a->tag);
	Py_END_ALLOW_THREADS
	if (rc == 0 || rc == IPC_ENOENT) /* deleted meanwhile: ours anyway */
		return 0;
	ipc_free(a->data);
	return rc;
}

/* One slice of a plain get (served by read-ahead when it is on). */
static int step_get(ClientObject *self, void *arg, int timeout_ms)
{
	struct get_arg *a = arg;

	return ipc_queue_get(self->c, a->name, &a->data, &a->len, timeout_ms);
}

/* A get on a queue with read-ahead: the buffer, else a fetch waiting per
 * slice. A message that came with an interrupt is given back to the head
 * of the queue (ipc_queue_unget), so an interrupted get consumes nothing
 * unless the daemon refuses to take it back. */
static int get_ahead(ClientObject *self, void *arg, int timeout_ms)
{
	struct get_arg *a = arg;
	struct ipc_msg m;
	int rc = run_sliced(self, step_get, a, timeout_ms, IPC_EEMPTY);

	if (rc != 0 || PyErr_CheckSignals() == 0)
		return rc;
	m.data = a->data;
	m.len = a->len;
	Py_BEGIN_ALLOW_THREADS
	ipc_queue_unget(self->c, a->name, &m, 1);
	Py_END_ALLOW_THREADS
	ipc_free(a->data);
	return INTERRUPTED;
}

PyDoc_STRVAR(get_doc, "get(name, timeout_ms=-1, readahead=False, decode=False) -> bytes\n--\n\n"
	     "Take the head message of queue name, waiting per timeout_ms. Raises "
	     "queue.Empty. While it waits the message is taken at-least-once and "
	     "acked on arrival, so a signal (Ctrl-C) that interrupts it consumes "
	     "nothing: a message arriving with the interrupt goes back to the head "
	     "of the queue (the connection is dropped to return it). readahead: "
	     "read-ahead is on for name (set_readahead): the wait is a fetch, and a "
	     "message arriving with an interrupt is given back (unget). decode: "
	     "return pickle_loads() of the message, not its bytes.");
/* Client.get(). */
static PyObject *client_get(ClientObject *self, PyObject *args)
{
	struct get_arg a = { 0 };
	int timeout = -1, ahead = 0, decode = 0, rc;

	if (!PyArg_ParseTuple(args, NAME_ARG "|ipp:get", &a.name, &timeout, &ahead, &decode))
		return NULL;
	rc = client_hold(self, ahead ? get_ahead : get_one, &a, timeout);
	if (rc)
		return client_raise(self, rc);
	return decode ? take_object(a.data, a.len) : take_bytes(a.data, a.len);
}

PyDoc_STRVAR(get_ack_doc, "get_ack(name, timeout_ms=-1, lease_ms=0) -> (bytes, tag)\n--\n\n"
	     "At-least-once get: the message stays in flight until ack(name, tag); "
	     "redelivered if this connection closes first or the lease runs out.");
/* Client.get_ack(). */
static PyObject *client_get_ack(ClientObject *self, PyObject *args)
{
	struct get_arg a = { 0 };
	int timeout = -1, rc;
	PyObject *b;

	if (!PyArg_ParseTuple(args, NAME_ARG "|ii:get_ack", &a.name, &timeout, &a.lease_ms))
		return NULL;
	rc = client_hold(self, wait_get_ack, &a, timeout);
	if (rc)
		return client_raise(self, rc);
	b = take_bytes(a.data, a.len);
	return b ? Py_BuildValue("(NK)", b, (unsigned long long)a.tag) : NULL;
}

/* A get_any in progress: the names (UTF-8, owned by seq) and what came. */
struct any_arg {
	const char *names[IPC_GET_ANY_MAX];
	size_t n, index;
	void *data;
	size_t len;
	uint64_t tag;
};

/* One slice of an at-least-once get_any. */
static int step_get_any_ack(ClientObject *self, void *arg, int timeout_ms)
{
	struct any_arg *a = arg;

	return ipc_queue_get_any_ack(self->c, a->names, a->n, &a->index, &a->data,
				     &a->len, &a->tag, timeout_ms, 0);
}

/* Take one message of the first non-empty queue of a->names, as get_one
 * does for one queue: a plain get_any that does not wait, then a sliced
 * at-least-once wait acked on arrival (an interrupt consumes nothing). */
static int get_any_one(ClientObject *self, struct any_arg *a, int timeout_ms)
{
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = ipc_queue_get_any(self->c, a->names, a->n, &a->index, &a->data,
			       &a->len, 0);
	Py_END_ALLOW_THREADS
	if (rc != IPC_EEMPTY || timeout_ms == 0)
		return rc;
	rc = run_sliced(self, step_get_any_ack, a, timeout_ms, IPC_EEMPTY);
	if (rc == 0 && PyErr_CheckSignals() < 0) {
		ipc_free(a->data);
		client_drop(self);
		return INTERRUPTED;
	}
	if (rc)
		return rc;
	Py_BEGIN_ALLOW_THREADS
	rc = ipc_queue_ack(self->c, a->names[a->index], a->tag);
	Py_END_ALLOW_THREADS
	if (rc == 0 || rc == IPC_ENOENT)
		return 0;
	ipc_free(a->data);
	return rc;
}

/* The names of sequence seq (a list or tuple of str) into a: 0 or -1
 * with an exception set. */
static int any_names(PyObject *seq, struct any_arg *a)
{
	Py_ssize_t i, n = PySequence_Fast_GET_SIZE(seq);

	if (n < 1 || n > IPC_GET_ANY_MAX) {
		PyErr_Format(PyExc_ValueError, "get_any takes 1 to %d queues",
			     IPC_GET_ANY_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!(a->names[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i))))
			return -1;
	a->n = (size_t)n;
	return 0;
}

PyDoc_STRVAR(get_any_doc, "get_any(names, timeout_ms=-1) -> (index, bytes)\n--\n\n"
	     "Take the head message of the first non-empty queue of names (a "
	     "sequence of str), waiting per timeout_ms on all of them at once; "
	     "index says which. Raises queue.Empty. Interrupted, it consumes "
	     "nothing (as get()).");
/* Client.get_any(). */
static PyObject *client_get_any(ClientObject *self, PyObject *args)
{
	struct any_arg a = { .n = 0 };
	PyObject *names, *seq, *b;
	int timeout = -1, rc;

	if (!PyArg_ParseTuple(args, "O|i:get_any", &names, &timeout))
		return NULL;
	if (!(seq = PySequence_Fast(names, "get_any: names must be a sequence")))
		return NULL;
	if (any_names(seq, &a) < 0 || client_enter(self)) {
		Py_DECREF(seq);
		return NULL;
	}
	rc = get_any_one(self, &a, timeout);
	self->busy = 0;
	Py_DECREF(seq);
	if (rc)
		return client_raise(self, rc);
	b = take_bytes(a.data, a.len);
	return b ? Py_BuildValue("(nN)", (Py_ssize_t)a.index, b) : NULL;
}

PyDoc_STRVAR(ack_doc, "ack(name, tag)\n--\n\nAcknowledge the message get_ack() "
	     "delivered under tag. Raises NotHeldError when it is not held any more.");
/* ipc_queue_ack(). */
static int call_ack(ipc_client *c, void *arg)
{
	struct name_arg *a = arg;

	return ipc_queue_ack(c, a->name, (uint64_t)a->tag);
}

/* Client.ack(). */
static PyObject *client_ack(ClientObject *self, PyObject *args)
{
	struct name_arg a = { 0 };

	if (!PyArg_ParseTuple(args, NAME_ARG "K:ack", &a.name, &a.tag))
		return NULL;
	if (client_call(self, call_ack, &a) < 0)
		return NULL;
	Py_RETURN_NONE;
}

struct many_arg {
	const char *name;
	struct ipc_msg *msgs;
	size_t n, done;
	Py_buffer *bufs;
	unsigned window;         /* put_many_async: see window_room */
};

/* One slice of put_many: goes on from the messages already put. */
static int step_put_many(ClientObject *self, void *arg, int timeout_ms)
{
	struct many_arg *a = arg;
	size_t nput = 0;
	int rc = ipc_queue_put_many(self->c, a->name, a->msgs + a->done, a->n - a->done,
			      &nput, timeout_ms);

	a->done += nput;
	return rc;
}

/* Release the buffers of a put_many; free the arrays. */
static void many_release(struct many_arg *a, size_t nbufs)
{
	for (size_t i = 0; i < nbufs; i++)
		PyBuffer_Release(&a->bufs[i]);
	PyMem_Free(a->bufs);
	PyMem_Free(a->msgs);
}

/* Fill a->msgs from a sequence of bytes-like objects: 0 or -1. */
static int many_collect(struct many_arg *a, PyObject *seq)
{
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);

	a->n = (size_t)n;
	a->msgs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*a->msgs));
	a->bufs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*a->bufs));
	if (!a->msgs || !a->bufs) {
		PyErr_NoMemory();
		many_release(a, 0);
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, i), &a->bufs[i],
				       PyBUF_SIMPLE) < 0) {
			many_release(a, (size_t)i);
			return -1;
		}
		a->msgs[i].data = a->bufs[i].buf;
		a->msgs[i].len = (size_t)a->bufs[i].len;
	}
	return 0;
}

/* objs as a sequence whose buffers fill a->msgs (release with
 * many_release, then drop the sequence), or NULL with an exception; err
 * is the TypeError text for a non-sequence. */
static PyObject *many_take(struct many_arg *a, PyObject *objs, const char *err)
{
	PyObject *seq = PySequence_Fast(objs, err);

	if (seq != NULL && many_collect(a, seq) < 0) {
		Py_DECREF(seq);
		return NULL;
	}
	return seq;
}

/* Put objs (many_take, err its TypeError text) with fn, the client
 * taken, then release them: fn's result, or INTERRUPTED. */
static int many_run(ClientObject *self, struct many_arg *a, PyObject *objs,
		    const char *err, held_fn fn, int timeout_ms)
{
	PyObject *seq = many_take(a, objs, err);
	int rc;

	if (!seq)
		return INTERRUPTED;
	rc = client_hold(self, fn, a, timeout_ms);
	many_release(a, a->n);
	Py_DECREF(seq);
	return rc;
}

/* put_many's work: every message, waiting per timeout_ms in slices. */
static int put_many_all(ClientObject *self, void *arg, int timeout_ms)
{
	struct many_arg *a = arg;

	return a->n ? run_waiting(self, step_put_many, a, timeout_ms, IPC_EFULL) : 0;
}

PyDoc_STRVAR(put_many_doc, "put_many(name, datas, timeout_ms=-1) -> int\n--\n\n"
	     "Put a sequence of bytes-like messages in order, as many per round trip as "
	     "fit, waiting per timeout_ms (the whole call) for room. Returns how many "
	     "were put; raises queue.Full (with .count, the number put) when the "
	     "timeout ran out first. Interrupted by a signal, a prefix may be in.");
/* Client.put_many(). */
static PyObject *client_put_many(ClientObject *self, PyObject *args)
{
	struct many_arg a = { 0 };
	PyObject *objs;
	int timeout = -1, rc;

	if (!PyArg_ParseTuple(args, NAME_ARG "O|i:put_many", &a.name, &objs, &timeout))
		return NULL;
	rc = many_run(self, &a, objs, "put_many() takes a sequence of bytes", put_many_all,
		      timeout);
	if (rc == IPC_EFULL && !client_raise(self, rc)) {
		PyObject *t, *v, *tb, *cnt = PyLong_FromSize_t(a.done);

		PyErr_Fetch(&t, &v, &tb);
		PyErr_NormalizeException(&t, &v, &tb);
		if (cnt && v)
			PyObject_SetAttrString(v, "count", cnt);
		Py_XDECREF(cnt);
		PyErr_Restore(t, v, tb);
		return NULL;
	}
	if (rc)
		return client_raise(self, rc);
	return PyLong_FromSize_t(a.done);
}

/* put_many_async's work: room in the window (a->window), then write
 * every message and push them. */
static int put_many_push(ClientObject *self, void *arg, int timeout_ms)
{
	struct many_arg *a = arg;
	int rc = window_room(self, a->window);

	if (rc)
		return rc;
	Py_BEGIN_ALLOW_THREADS
	if (a->n)
		rc = ipc_queue_put_many_async(self->c, a->name, a->msgs, a->n, timeout_ms);
	if (rc == 0)
		rc = ipc_push(self->c);
	Py_END_ALLOW_THREADS
	return rc;
}

PyDoc_STRVAR(put_many_async_doc, "put_many_async(name, datas, window=0)\n--\n\n"
	     "Put a sequence of bytes-like messages in order without waiting for the "
	     "outcome (pipelined, written at once); failures come at flush(). window "
	     "as for put_async(), counting requests.");
/* Client.put_many_async(). */
static PyObject *client_put_many_async(ClientObject *self, PyObject *args)
{
	struct many_arg a = { 0 };
	PyObject *objs;
	int rc;

	if (!PyArg_ParseTuple(args, NAME_ARG "O|I:put_many_async", &a.name, &objs, &a.window))
		return NULL;
	rc = many_run(self, &a, objs, "put_many_async() takes a sequence of bytes",
		      put_many_push, IPC_FOREVER);
	if (rc)
		return client_raise(self, rc);
	Py_RETURN_NONE;
}

/* Append a message to list: as bytes, or when decode, the object of a
 * pickle pickle5.c reads itself, else (bytes,) for pickle_loads later
 * (decode_marked): 0 or -1. */
static int list_add_msg(PyObject *list, const void *data, size_t len, int decode)
{
	PyObject *b = decode ? pickle5_load_fast(data, len) : NULL;

	if (!b && !PyErr_Occurred()) {
		b = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
		if (b && decode)
			Py_SETREF(b, PyTuple_Pack(1, b));
	}
	if (!b || PyList_Append(list, b) < 0) {
		Py_XDECREF(b);
		return -1;
	}
	Py_DECREF(b);
	return 0;
}

/* Append msgs[0..n) to list (list_add_msg): 0 or -1. */
static int list_add_msgs(PyObject *list, const struct ipc_msg *msgs, size_t n, int decode)
{
	for (size_t i = 0; i < n; i++)
		if (list_add_msg(list, msgs[i].data, msgs[i].len, decode) < 0)
			return -1;
	return 0;
}

/* Replace each (bytes,) in list by pickle_loads(bytes): 0 or -1. */
static int decode_marked(PyObject *list)
{
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
		PyObject *it = PyList_GET_ITEM(list, i), *obj;

		if (!PyTuple_CheckExact(it))
			continue;
		if (!(obj = pickle5_loads(PyTuple_GET_ITEM(it, 0))))
			return -1;
		PyList_SET_ITEM(list, i, obj);
		Py_DECREF(it);
	}
	return 0;
}

/* Up to max messages of queue name without waiting, appended to list:
 * 0 (some or none: IPC_EEMPTY is 0 when list already has one), a code. */
static int get_many_now(ClientObject *self, const char *name, PyObject *list,
			size_t max, struct ipc_msg *msgs, int decode)
{
	size_t n = 0;
	int rc;

	Py_BEGIN_ALLOW_THREADS
	rc = ipc_queue_get_many(self->c, name, msgs, max, &n, 0);
	Py_END_ALLOW_THREADS
	if (rc == IPC_EEMPTY && PyList_GET_SIZE(list) > 0)
		return 0;
	if (rc)
		return rc;
	return list_add_msgs(list, msgs, n, decode) < 0 ? INTERRUPTED : 0;
}

/* get_many: what is there, or the first message waited for (at-least-once,
 * as get()) followed by what came with it. */
static int get_many_run(ClientObject *self, const char *name, PyObject *list,
			size_t max, int timeout_ms, struct ipc_msg *msgs, int decode)
{
	struct get_arg a = { .name = name };
	int rc = get_many_now(self, name, list, max, msgs, decode);

	if (rc != IPC_EEMPTY || timeout_ms == 0)
		return rc;
	if ((rc = get_one(self, &a, timeout_ms)))
		return rc;
	rc = list_add_msg(list, a.data, a.len, decode);
	ipc_free(a.data);
	if (rc < 0)
		return INTERRUPTED;
	/* What follows the first message is a bonus: a failure here comes
	 * again at the next call, the message already taken is returned. */
	if (max > 1 && get_many_now(self, name, list, max - 1, msgs, decode) == INTERRUPTED)
		return INTERRUPTED;
	return 0;
}

PyDoc_STRVAR(get_many_doc, "get_many(name, max_messages, timeout_ms=-1, unpickle=False) -> list\n--\n\n"
	     "Take up to max_messages (1..1024) from the head of queue name; when it is "
	     "empty, wait per timeout_ms for the first (raises queue.Empty), then take "
	     "what is there. A list of bytes, or with unpickle each message's "
	     "pickle_loads() (the pickle of an int, bytes or str read straight from "
	     "the receive buffer, no bytes in between).");
/* Client.get_many(). */
static PyObject *client_get_many(ClientObject *self, PyObject *args)
{
	const char *name;
	Py_ssize_t max;
	int timeout = -1, decode = 0, rc;
	struct ipc_msg *msgs;
	PyObject *list;

	if (!PyArg_ParseTuple(args, NAME_ARG "n|ip:get_many", &name, &max, &timeout, &decode))
		return NULL;
	if (max < 1 || max > IPC_BATCH_MAX) {
		PyErr_Format(PyExc_ValueError, "max_messages must be 1..%d", IPC_BATCH_MAX);
		return NULL;
	}
	if (!(list = PyList_New(0)))
		return NULL;
	if (!(msgs = PyMem_Calloc((size_t)max, sizeof(*msgs)))) {
		Py_DECREF(list);
		return PyErr_NoMemory();
	}
	if (client_enter(self)) {
		rc = INTERRUPTED;
	} else {
		rc = get_many_run(self, name, list, (size_t)max, timeout, msgs, decode);
		self->busy = 0;
	}
	PyMem_Free(msgs);
	if (rc) {
		Py_DECREF(list);
		return client_raise(self, rc);
	}
	/* After the client is free: unpickling may use it (a Queue in a message). */
	if (decode && decode_marked(list) < 0)
		Py_CLEAR(list);
	return list;
}

PyDoc_STRVAR(set_readahead_doc, "set_readahead(name, n, hold_ms=-1)\n--\n\n"
	     "Read ahead up to n messages of queue name for get()/get_many() (0 off). "
	     "hold_ms < 0: messages read ahead have left the queue and belong to this "
	     "connection. hold_ms >= 0: held read-ahead (ipc_queue_set_readahead_held): "
	     "they stay counted toward maxsize until get() hands them out, and go "
	     "back to the queue after hold_ms (0: no limit).");
/* ipc_queue_set_readahead() (held: a->hold_ms >= 0), or for an end
 * (a->end >= 0) ipc_pipe_set_readahead(). */
static int call_readahead(ipc_client *c, void *arg)
{
	struct name_arg *a = arg;

	if (a->end >= 0)
		return ipc_pipe_set_readahead(c, a->name, a->end, a->n);
	if (a->hold_ms >= 0)
		return ipc_queue_set_readahead_held(c, a->name, a->n, a->hold_ms);
	return ipc_queue_set_readahead(c, a->name, a->n);
}

/* Client.set_readahead(). */
static PyObject *client_set_readahead(ClientObject *self, PyObject *args)
{
	struct name_arg a = { .end = -1, .hold_ms = -1 };

	if (!PyArg_ParseTuple(args, NAME_ARG "I|i:set_readahead", &a.name, &a.n,
			      &a.hold_ms) ||
	    client_call(self, call_readahead, &a) < 0)
		return NULL;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(unread_doc, "unread(name)\n--\n\n"
	     "Give the messages read ahead for queue name and not handed out back "
	     "to the head of the queue, in order (read-ahead stays as set).");
/* Client.unread(). */
static PyObject *client_unread(ClientObject *self, PyObject *args)
{
	return name_only(self, args, NAME_ARG ":unread", ipc_queue_unread);
}

PyDoc_STRVAR(buffered_doc, "buffered(name) -> int\n--\n\n"
	     "Messages read ahead for queue name, not yet handed out.");
/* Client.buffered(). */
static PyObject *client_buffered(ClientObject *self, PyObject *args)
{
	const char *name;

	if (!PyArg_ParseTuple(args, NAME_ARG ":buffered", &name))
		return NULL;
	return PyLong_FromSize_t(self->c ? ipc_queue_buffered(self->c, name) : 0);
}

/* ---- administration ------------------------------------------------- */

/* A dict of what ipc_stat()/ipc_list() say about one queue or pipe. */
static PyObject *info_dict(const struct ipc_info *i)
{
	PyObject *d = Py_BuildValue(
		"{s:s,s:s,s:L,s:K,s:K,s:K,s:I,s:I,s:K,s:K,s:K,s:K,s:I,s:I,s:I,s:N}",
		"name", i->name, "kind", i->kind == IPC_KIND_PIPE ? "pipe" : "queue",
		"maxsize", i->maxsize, "size", i->size, "bytes", i->bytes,
		"memory", i->memory,
		"getters", i->getters, "putters", i->putters, "puts", i->puts,
		"gets", i->gets, "inflight", i->inflight, "requeued", i->requeued,
		"uid", i->uid, "gid", i->gid, "mode", i->mode,
		"durable", PyBool_FromLong(i->durable));
	PyObject *p;

	if (!d)
		return NULL;
	if (i->kind != IPC_KIND_PIPE)
		p = Py_BuildValue("{s:I,s:s,s:K,s:K,s:K}", "max_deliveries",
				  i->max_deliveries, "dead_letter", i->dead_letter,
				  "dead_lettered", i->dead_lettered, "dead_letter_failed",
				  i->dead_letter_failed, "reserved", i->reserved);
	else
		p = Py_BuildValue("{s:N,s:K,s:(NN),s:(NN)}", "duplex", PyBool_FromLong(i->duplex),
			  "maxbytes", i->maxbytes,
			  "attached", PyBool_FromLong(i->ends & IPC_END_ATTACHED(0)),
			  PyBool_FromLong(i->ends & IPC_END_ATTACHED(1)),
			  "closed", PyBool_FromLong(i->ends & IPC_END_CLOSED(0)),
			  PyBool_FromLong(i->ends & IPC_END_CLOSED(1)));
	if (!p || PyDict_Update(d, p) < 0) {
		Py_XDECREF(p);
		Py_DECREF(d);
		return NULL;
	}
	Py_DECREF(p);
	return d;
}

PyDoc_STRVAR(stat_doc, "stat(name) -> dict\n--\n\nWhat the daemon says about queue or pipe name.");
/* ipc_stat(). */
static int call_stat(ipc_client *c, void *arg)
{
	struct name_arg *a = arg;

	return ipc_stat(c, a->name, &a->info, sizeof(a->info));
}

/* Client.stat(). */
static PyObject *client_stat(ClientObject *self, PyObject *args)
{
	struct name_arg a = { 0 };

	if (!PyArg_ParseTuple(args, NAME_ARG ":stat", &a.name) ||
	    client_call(self, call_stat, &a) < 0)
		return NULL;
	return info_dict(&a.info);
}

PyDoc_STRVAR(size_doc, "size(name) -> (size, taken, maxsize)\n--\n\n"
	     "Messages held by queue name, the other slots taken (in flight, and "
	     "reserved by producers), and its maxsize.");
/* Client.size(): stat's three numbers qsize/empty/full need. */
static PyObject *client_size(ClientObject *self, PyObject *args)
{
	struct name_arg a = { 0 };

	if (!PyArg_ParseTuple(args, NAME_ARG ":size", &a.name) ||
	    client_call(self, call_stat, &a) < 0)
		return NULL;
	return Py_BuildValue("(KKL)", a.info.size, a.info.inflight + a.info.reserved,
			     a.info.maxsize);
}

PyDoc_STRVAR(list_doc, "list() -> list[dict]\n--\n\nEvery queue and pipe, sorted by name.");
struct list_arg {
	struct ipc_info *infos;
	size_t n;
};

/* ipc_list(). */
static int call_list(ipc_client *c, void *arg)
{
	struct list_arg *a = arg;

	return ipc_list(c, &a->infos, &a->n, sizeof(struct ipc_info));
}

/* Client.list(). */
static PyObject *client_list(ClientObject *self, PyObject *unused)
{
	struct list_arg a = { NULL, 0 };
	PyObject *list;

	if (client_call(self, call_list, &a) < 0)
		return NULL;
	list = PyList_New(0);
	for (size_t i = 0; list && i < a.n; i++) {
		PyObject *d = info_dict(&a.infos[i]);

		if (!d || PyList_Append(list, d) < 0)
			Py_CLEAR(list);
		Py_XDECREF(d);
	}
	ipc_free(a.infos);
	return list;
}

PyDoc_STRVAR(info_doc, "info() -> dict\n--\n\nThe daemon's figures (ipc_daemon_info): "
	     "version and every counter and gauge, under the keys of ipcctl info --json.");
/* ipc_daemon_info(). */
static int call_info(ipc_client *c, void *arg)
{
	return ipc_daemon_info(c, arg, sizeof(struct ipc_daemon_info));
}

/* The keys of struct ipc_daemon_info's numbers, in its order. */
#define INFO_KEY(f) { #f, offsetof(struct ipc_daemon_info, f) }
static const struct { const char *key; size_t off; } info_keys[] = {
	INFO_KEY(pid), INFO_KEY(uptime_ms), INFO_KEY(start_time), INFO_KEY(msg_max),
	INFO_KEY(connections), INFO_KEY(max_connections),
	INFO_KEY(connections_total), INFO_KEY(connections_refused),
	INFO_KEY(queues), INFO_KEY(pipes), INFO_KEY(max_queues),
	INFO_KEY(messages), INFO_KEY(bytes), INFO_KEY(held_bytes), INFO_KEY(shared_bytes),
	INFO_KEY(max_bytes),
	INFO_KEY(parked), INFO_KEY(inflight), INFO_KEY(requests),
	INFO_KEY(puts), INFO_KEY(gets), INFO_KEY(requeued),
	INFO_KEY(dead_lettered), INFO_KEY(sends),
	INFO_KEY(receives), INFO_KEY(gets_empty), INFO_KEY(refused_full),
	INFO_KEY(refused_limit), INFO_KEY(refused_perm), INFO_KEY(refused_toobig),
	INFO_KEY(refused_nospc), INFO_KEY(refused_other), INFO_KEY(errors_fatal),
	INFO_KEY(durable), INFO_KEY(journal_bytes), INFO_KEY(journal_live),
	INFO_KEY(journal_segments), INFO_KEY(journal_written),
	INFO_KEY(journal_syncs), INFO_KEY(journal_sync_us),
	INFO_KEY(journal_sync_max_us),
};

/* Client.info(). */
static PyObject *client_info(ClientObject *self, PyObject *unused)
{
	struct ipc_daemon_info di;
	unsigned long long v;
	PyObject *d, *n;
	size_t i;

	(void)unused;
	if (client_call(self, call_info, &di) < 0)
		return NULL;
	d = Py_BuildValue("{s:s}", "version", di.version);
	for (i = 0; d && i < sizeof(info_keys) / sizeof(info_keys[0]); i++) {
		memcpy(&v, (const char *)&di + info_keys[i].off, sizeof(v));
		n = PyLong_FromUnsignedLongLong(v);
		if (!n || PyDict_SetItemString(d, info_keys[i].key, n) < 0)
			Py_CLEAR(d);
		Py_XDECREF(n);
	}
	return d;
}

PyDoc_STRVAR(delete_doc, "delete(name)\n--\n\nDelete queue or pipe name (owner or root).");
/* Client.delete() (a queue or a pipe). */
static PyObject *client_delete(ClientObject *self, PyObject *args)
{
	return name_only(self, args, NAME_ARG ":delete", ipc_delete);
}

/* ---- pipes ---------------------------------------------------------- */

PyDoc_STRVAR(pipe_attach_doc, "pipe_attach(name, end, duplex=None, create=True, maxmsgs=0, maxbytes=0, owned=False) -> bool\n--\n\n"
	     "Attach end 0 or 1 of pipe name (duplex None: either kind); owned: an "
	     "existing pipe must be this uid's or root's (IPC_PIPE_OWNED). Returns "
	     "whether the pipe is duplex.");
struct attach_arg {
	const char *name;
	int end, flags;
	struct ipc_pipe_opts o;
};

/* ipc_pipe_attach(). */
static int call_attach(ipc_client *c, void *arg)
{
	struct attach_arg *a = arg;

	return ipc_pipe_attach(c, a->name, a->end, a->flags, &a->o);
}

/* Client.pipe_attach(). */
static PyObject *client_pipe_attach(ClientObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "name", "end", "duplex", "create", "maxmsgs", "maxbytes",
				  "owned", NULL };
	struct attach_arg a = { .o = IPC_PIPE_OPTS_INIT };
	int create = 1, owned = 0;
	PyObject *duplex = Py_None;

	if (!PyArg_ParseTupleAndKeywords(args, kw, NAME_ARG "i|OpLLp:pipe_attach", kwlist,
					 &a.name, &a.end, &duplex, &create, &a.o.maxmsgs,
					 &a.o.maxbytes, &owned))
		return NULL;
	a.flags = (create ? IPC_PIPE_CREATE : 0) | (owned ? IPC_PIPE_OWNED : 0);
	if (duplex != Py_None)
		a.flags |= PyObject_IsTrue(duplex) ? IPC_PIPE_DUPLEX : IPC_PIPE_ONEWAY;
	if (client_call(self, call_attach, &a) < 0)
		return NULL;
	return PyBool_FromLong(a.o.duplex);
}

/* One slice of a pipe send. */
static int step_pipe_send(ClientObject *self, void *arg, int timeout_ms)
{
	struct pipe_arg *a = arg;

	return ipc_pipe_send(self->c, a->name, a->end, a->buf->buf,
			     (size_t)a->buf->len, timeout_ms);
}

PyDoc_STRVAR(pipe_send_doc, "pipe_send(name, end, data, timeout_ms=-1)\n--\n\n"
	     "Send data from the attached end. BrokenPipeError once the peer closed; "
	     "queue.Full when no room came in time. Interrupted, nothing was sent.");
/* Client.pipe_send(). */
static PyObject *client_pipe_send(ClientObject *self, PyObject *args)
{
	struct pipe_arg a;
	Py_buffer buf;
	int timeout = -1;

	if (!PyArg_ParseTuple(args, NAME_ARG "iy*|i:pipe_send", &a.name, &a.end, &buf, &timeout))
		return NULL;
	return send_run(self, step_pipe_send, &a, &buf, timeout);
}

PyDoc_STRVAR(pipe_send_async_doc, "pipe_send_async(name, end, data, window=0)\n--\n\n"
	     "Send data from the attached end without waiting for the outcome "
	     "(pipelined, written at once); a failure (BrokenPipeError, ...) comes "
	     "at flush(). window as for put_async().");
/* Client.pipe_send_async(). */
static PyObject *client_pipe_send_async(ClientObject *self, PyObject *const *args,
					Py_ssize_t nargs)
{
	struct pipe_arg a = { .end = 0 };
	Py_buffer buf;
	unsigned window = 0, *opt[] = { &window };
	long end = nargs >= 2 ? PyLong_AsLong(args[1]) : 0;

	if (end == -1 && PyErr_Occurred())
		return NULL;
	if (fast_args(args, nargs, 3, 4, 2, &a.name, &buf, opt))
		return NULL;
	a.end = end < 0 ? -1 : end > INT_MAX ? INT_MAX : (int)end;
	if (a.end < 0) {
		PyBuffer_Release(&buf);
		return raise_code(IPC_EINVAL, "end must be 0 or 1");
	}
	return send_async(self, &a, &buf, 1, window);
}

PyDoc_STRVAR(pipe_set_readahead_doc, "pipe_set_readahead(name, end, n)\n--\n\n"
	     "Receive up to n messages per round trip at the attached end (0 off); "
	     "the others wait in this connection for the next pipe_recv.");
/* Client.pipe_set_readahead(). */
static PyObject *client_pipe_set_readahead(ClientObject *self, PyObject *args)
{
	struct name_arg a = { 0 };

	if (!PyArg_ParseTuple(args, NAME_ARG "iI:pipe_set_readahead", &a.name, &a.end, &a.n))
		return NULL;
	if (a.end < 0)
		return raise_code(IPC_EINVAL, "end must be 0 or 1");
	if (client_call(self, call_readahead, &a) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* One slice of a pipe receive. */
static int step_pipe_recv(ClientObject *self, void *arg, int timeout_ms)
{
	struct pipe_arg *a = arg;

	return ipc_pipe_recv(self->c, a->name, a->end, &a->data, &a->len, timeout_ms);
}

/*
 * Receive at the attached end of a (a struct pipe_arg), waiting per
 * timeout; 0 with a->out set (a new reference), a code or INTERRUPTED. A
 * message that came with an interrupt is kept in self->pend and handed
 * out first next time. With a->decode, a message received now is left
 * in a->data (a->out NULL) for the caller to unpickle once the client
 * is free again: code that unpickling runs may use it.
 */
static int pipe_recv_run(ClientObject *self, void *arg, int timeout)
{
	struct pipe_arg *a = arg;
	int rc;

	if (self->pend && self->pend_end == a->end) {
		a->out = self->pend;
		self->pend = NULL;
		return 0;
	}
	rc = run_sliced(self, step_pipe_recv, a, timeout, IPC_EEMPTY);
	if (rc)
		return rc;
	/* Armed, a message kept aside would not make fileno() readable: the
	 * signal's handler runs at the next bytecode instead. */
	if (!self->armed && PyErr_CheckSignals() < 0) {
		if ((a->out = take_bytes(a->data, a->len))) {
			Py_XSETREF(self->pend, a->out);
			self->pend_end = a->end;
			a->out = NULL;
		}
		return INTERRUPTED;
	}
	if (a->decode)
		return 0;
	a->out = take_bytes(a->data, a->len);
	return a->out ? 0 : INTERRUPTED;
}

/* pipe_recv and pipe_poll: parse (name, end[, timeout_ms]) by fmt, with
 * timeout as the default, and receive: pipe_recv_run's result. */
static int pipe_recv_call(ClientObject *self, PyObject *args, const char *fmt,
			  int timeout, struct pipe_arg *a)
{
	if (!PyArg_ParseTuple(args, fmt, &a->name, &a->end, &timeout))
		return INTERRUPTED;
	return client_hold(self, pipe_recv_run, a, timeout);
}

PyDoc_STRVAR(pipe_recv_doc, "pipe_recv(name, end, timeout_ms=-1, decode=False) -> bytes\n--\n\n"
	     "Receive at the attached end. EOFError once the peer closed and all was "
	     "received; queue.Empty when nothing came in time. A message arriving with "
	     "an interrupt (Ctrl-C) is kept and returned by the next pipe_recv. "
	     "decode: return pickle_loads() of the message, not its bytes.");
/* Client.pipe_recv(). */
static PyObject *client_pipe_recv(ClientObject *self, PyObject *args)
{
	struct pipe_arg a = { 0 };
	int timeout = -1, rc;

	if (!PyArg_ParseTuple(args, NAME_ARG "i|ip:pipe_recv", &a.name, &a.end, &timeout,
			      &a.decode))
		return NULL;
	rc = client_hold(self, pipe_recv_run, &a, timeout);
	if (rc)
		return client_raise(self, rc);
	if (!a.decode)
		return a.out;
	/* Unpickled with the client free: a message kept aside (an
	 * interrupt, a poll) from its bytes, else from the library's copy
	 * (no bytes object made first). */
	if (a.out)
		Py_SETREF(a.out, pickle5_loads(a.out));
	else
		a.out = take_object(a.data, a.len);
	return a.out;
}

PyDoc_STRVAR(pipe_poll_doc, "pipe_poll(name, end, timeout_ms=0) -> bool\n--\n\n"
	     "Whether a receive would not block (a message or EOF is there), waiting "
	     "per timeout_ms; a message found is kept for the next pipe_recv.");
/* Client.pipe_poll(). */
static PyObject *client_pipe_poll(ClientObject *self, PyObject *args)
{
	struct pipe_arg a = { 0 };
	int rc = pipe_recv_call(self, args, NAME_ARG "i|i:pipe_poll", 0, &a);

	if (rc == 0) {
		Py_XSETREF(self->pend, a.out);
		self->pend_end = a.end;
		Py_RETURN_TRUE;
	}
	if (rc == IPC_EEMPTY)
		Py_RETURN_FALSE;
	if (rc == IPC_EEOF)
		Py_RETURN_TRUE;
	return client_raise(self, rc);
}

PyDoc_STRVAR(pipe_arm_doc, "pipe_arm(name, end) -> int\n--\n\n"
	     "Make the connection's socket readable as soon as pipe_recv at the "
	     "attached end would not block (read-ahead must be on there); returns "
	     "the socket. Arm again after each call; keep no other request in "
	     "flight (flush() first).");
/* Client.pipe_arm(). */
static PyObject *client_pipe_arm(ClientObject *self, PyObject *args)
{
	PyObject *none = end_only(self, args, NAME_ARG "i:pipe_arm", ipc_pipe_arm);

	if (!none)
		return NULL;
	Py_DECREF(none);
	self->armed = 1;
	return PyLong_FromLong(ipc_fd(self->c));
}

/* One slice of wait_readable: whether the fd at arg is readable. */
static int poll_slice(void *arg, int slice_ms)
{
	struct pollfd pfd = { .fd = *(int *)arg, .events = POLLIN };

	return poll(&pfd, 1, slice_ms) > 0;
}

/* Wait until fd is readable, at most timeout_ms (-1 forever), in slices
 * with signal checks: 1 readable, 0 not in time, INTERRUPTED. */
static int wait_readable(int fd, int timeout_ms)
{
	int rc = sliced_wait(poll_slice, &fd, timeout_ms);

	return rc < 0 ? INTERRUPTED : rc;
}

PyDoc_STRVAR(pipe_wait_doc, "pipe_wait(name, end, timeout_ms=-1) -> bool\n--\n\n"
	     "Arm the end (pipe_arm) and wait until pipe_recv would not block (a "
	     "message or EOF is there), at most timeout_ms (-1 forever); whether "
	     "it would not. Nothing is taken; Ctrl-C interrupts it.");
/* Client.pipe_wait(). */
static PyObject *client_pipe_wait(ClientObject *self, PyObject *args)
{
	struct name_arg a = { .efn = ipc_pipe_arm };
	int timeout = -1, rc;

	if (!PyArg_ParseTuple(args, NAME_ARG "i|i:pipe_wait", &a.name, &a.end, &timeout) ||
	    client_call(self, call_name, &a) < 0)
		return NULL;
	self->armed = 1;
	if (self->pend && self->pend_end == a.end)
		Py_RETURN_TRUE;
	rc = wait_readable(ipc_fd(self->c), timeout);
	if (rc == INTERRUPTED)
		return NULL;
	return PyBool_FromLong(rc);
}

PyDoc_STRVAR(pipe_close_doc, "pipe_close(name, end)\n--\n\nClose the attached end: the "
	     "peer receives what was sent, then EOF.");
/* Client.pipe_close(). */
static PyObject *client_pipe_close(ClientObject *self, PyObject *args)
{
	Py_CLEAR(self->pend);
	return end_only(self, args, NAME_ARG "i:pipe_close", ipc_pipe_close);
}

PyDoc_STRVAR(pipe_share_doc, "pipe_share(name, end) -> int\n--\n\n"
	     "A share of the attached end for another connection (a child process) "
	     "to claim with pipe_join(name, end, token): returns the token. The share "
	     "keeps the end open until claimed or this connection closes.");
/* ipc_pipe_share(), or with a->join ipc_pipe_join(). */
static int call_share(ipc_client *c, void *arg)
{
	struct share_arg *a = arg;

	if (a->join)
		return ipc_pipe_join(c, a->name, a->end, a->token, &a->o);
	return ipc_pipe_share(c, a->name, a->end, &a->token);
}

/* Client.pipe_share(). */
static PyObject *client_pipe_share(ClientObject *self, PyObject *args)
{
	struct share_arg a = { .name = NULL };

	if (!PyArg_ParseTuple(args, NAME_ARG "i:pipe_share", &a.name, &a.end) ||
	    client_call(self, call_share, &a) < 0)
		return NULL;
	return PyLong_FromUnsignedLongLong(a.token);
}

PyDoc_STRVAR(pipe_join_doc, "pipe_join(name, end, token) -> bool\n--\n\n"
	     "Hold end of pipe name too, claiming the share whose token "
	     "pipe_share() gave (PermissionError for another token). Returns "
	     "whether the pipe is duplex.");
/* Client.pipe_join(). */
static PyObject *client_pipe_join(ClientObject *self, PyObject *args)
{
	struct share_arg a = { .join = 1, .o = IPC_PIPE_OPTS_INIT };
	unsigned long long token;

	if (!PyArg_ParseTuple(args, NAME_ARG "iK:pipe_join", &a.name, &a.end, &token))
		return NULL;
	a.token = token;
	if (client_call(self, call_share, &a) < 0)
		return NULL;
	return PyBool_FromLong(a.o.duplex);
}

/* ---- module --------------------------------------------------------- */

static PyMethodDef client_methods[] = {
	{ "close", (PyCFunction)client_close, METH_NOARGS, close_doc },
	{ "fileno", (PyCFunction)client_fileno, METH_NOARGS, fileno_doc },
	{ "msg_max", (PyCFunction)client_msg_max, METH_NOARGS, msg_max_doc },
	{ "queue_open", (PyCFunction)(void (*)(void))client_queue_open,
	  METH_VARARGS | METH_KEYWORDS, queue_open_doc },
	{ "put", (PyCFunction)client_put, METH_VARARGS, put_doc },
	{ "put_async", (PyCFunction)(void (*)(void))client_put_async, METH_FASTCALL,
	  put_async_doc },
	{ "put_reserved", (PyCFunction)(void (*)(void))client_put_reserved, METH_FASTCALL,
	  put_reserved_doc },
	{ "reserve", (PyCFunction)client_reserve, METH_VARARGS, reserve_doc },
	{ "unreserve", (PyCFunction)client_unreserve, METH_VARARGS, unreserve_doc },
	{ "flush", (PyCFunction)client_flush, METH_NOARGS, flush_doc },
	{ "async_error", (PyCFunction)client_async_error, METH_NOARGS, async_error_doc },
	{ "get", (PyCFunction)client_get, METH_VARARGS, get_doc },
	{ "get_ack", (PyCFunction)client_get_ack, METH_VARARGS, get_ack_doc },
	{ "get_any", (PyCFunction)client_get_any, METH_VARARGS, get_any_doc },
	{ "ack", (PyCFunction)client_ack, METH_VARARGS, ack_doc },
	{ "put_many", (PyCFunction)client_put_many, METH_VARARGS, put_many_doc },
	{ "put_many_async", (PyCFunction)client_put_many_async, METH_VARARGS,
	  put_many_async_doc },
	{ "get_many", (PyCFunction)client_get_many, METH_VARARGS, get_many_doc },
	{ "set_readahead", (PyCFunction)client_set_readahead, METH_VARARGS, set_readahead_doc },
	{ "unread", (PyCFunction)client_unread, METH_VARARGS, unread_doc },
	{ "buffered", (PyCFunction)client_buffered, METH_VARARGS, buffered_doc },
	{ "stat", (PyCFunction)client_stat, METH_VARARGS, stat_doc },
	{ "size", (PyCFunction)client_size, METH_VARARGS, size_doc },
	{ "list", (PyCFunction)client_list, METH_NOARGS, list_doc },
	{ "info", (PyCFunction)client_info, METH_NOARGS, info_doc },
	{ "delete", (PyCFunction)client_delete, METH_VARARGS, delete_doc },
	{ "pipe_attach", (PyCFunction)(void (*)(void))client_pipe_attach,
	  METH_VARARGS | METH_KEYWORDS, pipe_attach_doc },
	{ "pipe_send", (PyCFunction)client_pipe_send, METH_VARARGS, pipe_send_doc },
	{ "pipe_send_async", (PyCFunction)(void (*)(void))client_pipe_send_async, METH_FASTCALL,
	  pipe_send_async_doc },
	{ "pipe_set_readahead", (PyCFunction)client_pipe_set_readahead, METH_VARARGS,
	  pipe_set_readahead_doc },
	{ "pipe_recv", (PyCFunction)client_pipe_recv, METH_VARARGS, pipe_recv_doc },
	{ "pipe_poll", (PyCFunction)client_pipe_poll, METH_VARARGS, pipe_poll_doc },
	{ "pipe_arm", (PyCFunction)client_pipe_arm, METH_VARARGS, pipe_arm_doc },
	{ "pipe_wait", (PyCFunction)client_pipe_wait, METH_VARARGS, pipe_wait_doc },
	{ "pipe_close", (PyCFunction)client_pipe_close, METH_VARARGS, pipe_close_doc },
	{ "pipe_share", (PyCFunction)client_pipe_share, METH_VARARGS, pipe_share_doc },
	{ "pipe_join", (PyCFunction)client_pipe_join, METH_VARARGS, pipe_join_doc },
	{ NULL, NULL, 0, NULL },
};

/* Client.pid: the process that connected. */
static PyObject *client_get_pid(ClientObject *self, void *unused)
{
	return PyLong_FromLong((long)self->pid);
}

static PyGetSetDef client_getset[] = {
	{ "alive", (getter)client_get_alive, NULL,
	  "True while connected, in the process that connected.", NULL },
	{ "pid", (getter)client_get_pid, NULL, "The process that connected.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(client_doc, "Client(socket=None)\n--\n\n"
	     "One connection to ipcd (socket None: $IPCD_SOCKET, then "
	     "$XDG_RUNTIME_DIR/ipcd.sock, then /run/ipcd/ipcd.sock). Low level: use "
	     "ipcd.Queue, ipcd.Pipe. Not shared between threads; after fork it is "
	     "dead in the child (alive is False) and the parent's connection is "
	     "untouched.");

static PyTypeObject ClientType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ipcd._ipcd.Client",
	.tp_basicsize = sizeof(ClientObject),
	.tp_dealloc = (destructor)client_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = client_doc,
	.tp_methods = client_methods,
	.tp_getset = client_getset,
	.tp_init = (initproc)client_init,
	.tp_new = client_new,
	.tp_weaklistoffset = offsetof(ClientObject, weakrefs),
};

PyDoc_STRVAR(after_fork_doc, "_after_fork_child()\n--\n\nIn a forked child: drop every "
	     "inherited connection without a word to the daemon.");
/* _ipcd._after_fork_child(): registered with os.register_at_fork. */
static PyObject *mod_after_fork(PyObject *mod, PyObject *unused)
{
	this_pid = getpid();
	for (ClientObject *c = all_clients; c; c = c->next) {
		client_abandon(c);
		c->busy = 0;
		Py_CLEAR(c->pend);
	}
	Py_RETURN_NONE;
}

PyDoc_STRVAR(strerror_doc, "strerror(code) -> str\n--\n\nA short text for an IPC_* code.");
/* _ipcd.strerror(). */
static PyObject *mod_strerror(PyObject *mod, PyObject *arg)
{
	long code = PyLong_AsLong(arg);

	if (code == -1 && PyErr_Occurred())
		return NULL;
	return PyUnicode_FromString(ipc_strerror((int)code));
}

PyDoc_STRVAR(default_socket_doc, "default_socket() -> str\n--\n\nThe first socket path a call without socket= tries: $IPCD_SOCKET when set\nand not empty, else $XDG_RUNTIME_DIR/ipcd.sock when XDG_RUNTIME_DIR is set,\nelse /run/ipcd/ipcd.sock. Without $IPCD_SOCKET, /run/ipcd/ipcd.sock (the\nsystem daemon) is tried next when the first does not accept.");
/* _ipcd.default_socket(). */
static PyObject *mod_default_socket(PyObject *mod, PyObject *unused)
{
	char buf[4096];

	if (!ipc_default_socket(buf, sizeof(buf))) {
		PyErr_SetString(PyExc_OSError, "socket path too long");
		return NULL;
	}
	return PyUnicode_DecodeFSDefault(buf);
}

static PyMethodDef mod_methods[] = {
	{ "_after_fork_child", mod_after_fork, METH_NOARGS, after_fork_doc },
	{ "strerror", mod_strerror, METH_O, strerror_doc },
	{ "default_socket", mod_default_socket, METH_NOARGS, default_socket_doc },
	{ NULL, NULL, 0, NULL },
};

PyDoc_STRVAR(mod_doc, "ipcd._ipcd: the C layer of the ipcd package over libipcclient.");

static struct PyModuleDef ipcd_module = {
	PyModuleDef_HEAD_INIT, "ipcd._ipcd", mod_doc, -1, mod_methods,
	NULL, NULL, NULL, NULL,
};

/* Make ipcd.Error and one subclass per row; add them and the codes. */
static int add_errors(PyObject *m)
{
	Error = PyErr_NewExceptionWithDoc("ipcd.Error",
		"An ipcd failure: .code is the IPC_E* code, .detail the daemon's text.",
		NULL, NULL);
	if (!Error || PyModule_AddObjectRef(m, "Error", Error) < 0)
		return -1;
	for (size_t i = 0; i < N_ERR_ROWS; i++) {
		struct err_row *r = &err_rows[i];
		PyObject *base = r->cls_name ? exc_oserror_base(r->code) : NULL, *bases;
		char qual[64];

		if (PyModule_AddIntConstant(m, r->code_name, r->code) < 0)
			return -1;
		if (!r->cls_name)
			continue;
		bases = base ? PyTuple_Pack(2, Error, base) : PyTuple_Pack(1, Error);
		snprintf(qual, sizeof(qual), "ipcd.%s", r->cls_name);
		r->cls = bases ? PyErr_NewExceptionWithDoc(qual, r->doc, bases, NULL) : NULL;
		Py_XDECREF(bases);
		if (!r->cls || PyModule_AddObjectRef(m, r->cls_name, r->cls) < 0)
			return -1;
	}
	return 0;
}

/* Fetch queue.Empty and queue.Full. */
static int import_queue_exceptions(void)
{
	PyObject *q = PyImport_ImportModule("queue");

	if (!q)
		return -1;
	QueueEmpty = PyObject_GetAttrString(q, "Empty");
	QueueFull = PyObject_GetAttrString(q, "Full");
	Py_DECREF(q);
	return QueueEmpty && QueueFull ? 0 : -1;
}

/* Module init. */
PyMODINIT_FUNC PyInit__ipcd(void);
PyMODINIT_FUNC PyInit__ipcd(void)
{
	PyObject *m;

	this_pid = getpid();
	if (PyType_Ready(&ClientType) < 0 || import_queue_exceptions() < 0)
		return NULL;
	if (!(m = PyModule_Create(&ipcd_module)))
		return NULL;
	if (PyModule_AddObjectRef(m, "Client", (PyObject *)&ClientType) < 0 ||
	    add_errors(m) < 0 || feeder_init_type(m) < 0 || pickle5_init(m) < 0 ||
	    PyModule_AddIntConstant(m, "FOREVER", IPC_FOREVER) < 0 ||
	    PyModule_AddIntConstant(m, "MSG_MAX", IPC_MSG_MAX) < 0 ||
	    PyModule_AddIntConstant(m, "NAME_MAX", IPC_NAME_MAX) < 0 ||
	    PyModule_AddIntConstant(m, "BATCH_MAX", IPC_BATCH_MAX) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
