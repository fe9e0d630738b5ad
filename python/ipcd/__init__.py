# SPDX-License-Identifier: MIT
"""ipcd: multiprocessing.Queue and Pipe between unrelated processes.

Queues and pipes live in the ipcd daemon under a name, so any process that
knows the name shares them: children started by multiprocessing (fork or
spawn), unrelated Python processes, C workers using libipcclient, and the
ipcctl command line.

    import ipcd, queue
    q = ipcd.Queue("jobs", 2)          # like multiprocessing.Queue(2)
    q.put({"n": 1})
    try:
        item = q.get(timeout=10)
    except queue.Empty:                # the standard library's class
        ...

    a, b = ipcd.Pipe("chat")           # like multiprocessing.Pipe()
    r = ipcd.connect_pipe("chat", 0)   # one end, from an unrelated process

The daemon's socket is found as libipcclient finds it: the socket= argument,
else $IPCD_SOCKET, else $XDG_RUNTIME_DIR/ipcd.sock, else /run/ipcd/ipcd.sock.

Exceptions: queue.Empty and queue.Full (the standard classes), EOFError and
BrokenPipeError for pipes, ValueError for a negative timeout or a closed
Queue, OSError for a closed Connection, and ipcd.Error for the rest: each
subclass carries .code (an IPC_E* number) and .detail (the daemon's text),
and also derives from the builtin it matches (NotFoundError is a
FileNotFoundError, PermissionError a PermissionError, ConnectError and
ConnectionLostError are ConnectionErrors, TooBigError a ValueError, ...).
A ConnectError's text names every socket path tried and the system's
reason for each (as ipcctl's does); ipcd.default_socket() gives the path
a call without socket= starts from.

Big objects: a message (the pickled object, or the bytes with
serializer=None) may be up to the daemon's max-memfd-size, 64 MiB by
default; those over MSG_MAX (1 MiB, the inline limit) travel as sealed
memfds, for put, put_many, send and send_bytes alike. A larger one
raises TooBigError naming the size and the limit; nothing is sent and
the Queue or Connection stays usable. Durable queues take at most 1 MiB
per message.
"""
import math
import operator
import os
import pickle
import threading
import time
import weakref
from multiprocessing import context as _mpcontext
from multiprocessing import util as _mputil

from . import _ipcd
from ._ipcd import (  # noqa: F401  (re-exported)
    BATCH_MAX, MSG_MAX, NAME_MAX, BusyError, ClosedError, ConnectError,
    ConnectionLostError, DeletedError, DirectionError, Error, ExistsError,
    InvalidError, InvalidNameError, LimitError, MismatchError,
    NoMemoryError, NoSpaceError, NotAttachedError, NotFoundError, NotHeldError,
    PermissionError,
    ProtocolError, ShutdownError, TooBigError, VersionError, WrongTypeError,
    NoDurabilityError, NotSupportedError, DaemonTimeoutError, default_socket)

__all__ = [
    "Queue", "Pipe", "Connection", "connect_pipe", "get_any", "list", "stat", "delete",
    "info",
    "Error", "NotFoundError", "ExistsError", "DeletedError", "MismatchError",
    "InvalidNameError", "TooBigError", "InvalidError", "BusyError",
    "PermissionError", "ShutdownError", "LimitError", "WrongTypeError",
    "DirectionError", "ClosedError", "NotAttachedError", "NotHeldError", "NoSpaceError",
    "ConnectionLostError", "ProtocolError", "VersionError", "NoMemoryError",
    "ConnectError", "NoDurabilityError", "NotSupportedError", "DaemonTimeoutError",
    "default_socket",
]

_builtin_list = list
_MS_MAX = 2**31 - 1
# Messages a receiving Connection takes per round trip (pipe read-ahead).
_PIPE_READAHEAD = 64
# Pipelined puts and sends in flight per connection (on an unbounded queue
# or a pipe): with this many unanswered, the next one first waits until
# half of them are answered, so a failure (a deleted queue, a closed peer)
# is raised within this many calls, never lost. Half, not all: the answers
# to the older ones are there by then, so the producer seldom sleeps.
_SETTLE_EVERY = 64
# Slots a bounded Queue object's feeder reserves ahead (credits, see the
# Queue doc), at most; the daemon grants at most a quarter of the room
# free. After a request granted none, this many puts (of that thread)
# wait for their own answer before the next request.
_CREDITS = 64
_NO_CREDIT_PUTS = 16
# A feeder gives back its unspent slots _CREDIT_HOLD s after its last
# reserve or run of puts into them, once it has nothing left to send, so
# an idle producer holds no room for long (a put after that asks anew).
_CREDIT_HOLD = 0.020
# Sends of a Connection not answered yet (its feeder's window): a send to a
# closed peer raises BrokenPipeError within this many sends, and a sender
# waits while this many are unanswered (some may wait in the daemon for
# room), as a sender on a full socket waits.
_SEND_WINDOW = 128
# A message this large is sent by the Connection's own connection, not its
# feeder: it goes in a request of its own anyway, and copying it into the
# feeder's buffer and handing it over costs more than the write saves.
_SEND_ALONE = 16384
# Adaptive read-ahead of Queue.get(): a get called within _RA_BUSY seconds
# of the previous one's return doubles the messages fetched per round trip
# (2, 4, ... up to _RA_MAX); one called later turns read-ahead off and
# gives what was read ahead back to the queue.
_RA_BUSY = 0.001
_RA_MAX = 64
# Read-ahead on a bounded queue is held (the messages keep their slots
# until get() hands them out). A getter elsewhere waits for the messages
# of a consumer that stops getting until they were held this many ms
# (checked every as many ms): then the daemon takes them back.
_HOLD_MS = 10
_monotonic = time.monotonic

# A forked child must not speak on its parent's connections: they are
# dropped in the child (without a word to the daemon) and each object makes
# a fresh one on its next call.
os.register_at_fork(after_in_child=_ipcd._after_fork_child)


def _flush_quietly(ref):
    """At exit: wait for a connection's pipelined puts and close it, which
    gives messages read ahead back to their queues, if it is still there."""
    c = ref()
    if c is not None and c.alive:
        try:
            c.flush()
            c.close()
        except Exception:
            pass  # nobody is left to tell


def _may_give_back(st):
    """Whether this process may get from and put to the queue stat()
    described, by its owner, group and mode (as the daemon decides)."""
    euid = os.geteuid()
    if euid == 0:
        return True
    mode = st["mode"]
    if st["uid"] == euid:
        return mode & 0o600 == 0o600
    if st["gid"] == os.getegid() or st["gid"] in os.getgroups():
        return mode & 0o060 == 0o060
    return mode & 0o006 == 0o006


def _parks_async(c):
    """Whether the daemon behind client c parks pipelined puts in a full
    queue (ipcd does; the NATS backend would refuse them instead)."""
    try:
        c.async_error()
        return True
    except NotSupportedError:
        return False


def _timeout_ms(block, timeout):
    """multiprocessing's (block, timeout) as libipcclient milliseconds."""
    if not block:
        return 0
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return min(math.ceil(timeout * 1000), _MS_MAX)


class _Pickle:
    """The default serializer: pickle protocol 5. _ipcd writes and reads
    the pickle of an int (int32 range), bytes or str itself, byte for byte
    what pickle.dumps(obj, 5) writes; the rest goes to pickle."""
    spec = "pickle"
    dumps = staticmethod(_ipcd.pickle_dumps)
    loads = staticmethod(_ipcd.pickle_loads)


class _Raw:
    """serializer=None: bytes-like objects go as they are, bytes come back."""
    spec = None

    @staticmethod
    def dumps(obj):
        return obj

    @staticmethod
    def loads(data):
        return data


def _readonly(attr, doc):
    """A read-only property whose value is the instance's attribute attr."""
    return property(operator.attrgetter(attr), doc=doc)


def _serializer(spec):
    """The serializer object for a serializer= argument."""
    if spec == "pickle":
        return _Pickle
    if spec is None:
        return _Raw
    if hasattr(spec, "dumps") and hasattr(spec, "loads"):
        return spec
    raise ValueError("serializer must be 'pickle', None or have dumps() and loads()")


def _spec_of(ser):
    """What to pickle for a serializer so a child makes the same one."""
    return getattr(ser, "spec", ser) if ser in (_Pickle, _Raw) else ser


class Queue:
    """A named FIFO queue in ipcd, used like multiprocessing.Queue.

    Queue(name, maxsize=0, *, socket=None, create=True, durable=False,
          serializer="pickle", readahead=None, pipelined=None, owned=False)

    name: 1-128 bytes of [A-Za-z0-9_.:@-], not starting with '.'. Every
    process (or C worker, or ipcctl) using the name shares the queue.
    maxsize: the most messages it holds; 0 is unbounded (the default).
    Opening an existing queue with another maxsize raises MismatchError;
    maxsize=None accepts any. create=False raises NotFoundError when the
    queue does not exist. durable=True creates a durable queue: ipcd
    journals it to disk, and it comes back after a restart of the daemon
    with its maxsize and every message put and not yet got (a put is
    answered once its record is written, synced per the daemon's `sync`
    setting); it raises NoDurabilityError when the daemon keeps no journal
    (state-dir empty, or its journal could not be opened) and MismatchError when the queue exists and is not
    durable. durable=False opens a queue of either kind.
    owned=True: an existing queue of that name must belong to this user
    (or root), else PermissionError naming its owner; a service opening
    its queues this way never joins one another user created first under
    the name (name squatting, see ipcd(8)). A new queue is created as
    usual.
    serializer: "pickle" (any picklable object; each message is exactly
    what pickle.dumps(obj, 5) returns), None (bytes-like objects
    are sent unchanged and get() returns bytes: for C workers and ipcctl),
    or an object with dumps(obj) -> bytes and loads(bytes) -> obj.
    socket: the daemon's socket path (None: as the module doc says,
    $IPCD_SOCKET, then $XDG_RUNTIME_DIR/ipcd.sock, then
    /run/ipcd/ipcd.sock). The constructor connects and creates or opens
    the queue at once: ConnectError when no daemon answers there,
    InvalidNameError (a ValueError) for a bad name.
    A message may be up to 64 MiB (see the module doc, Big objects);
    put() of a larger object raises TooBigError.

    Semantics: FIFO, each message delivered once, many producers and many
    consumers in any processes. put() raises queue.Full and get() raises
    queue.Empty (the standard library's classes) when block is False or the
    timeout (seconds) runs out; a negative timeout raises ValueError. The
    waiting happens in the daemon and releases the GIL; Ctrl-C interrupts
    a waiting put or get with KeyboardInterrupt, and an interrupted get
    consumes nothing (while it waits, the message is taken at-least-once
    and acked as it arrives; one arriving with the interrupt goes back to
    the head of the queue).

    Pipelined puts (pipelined=None, the default, turns them on unless the
    queue is durable, True or False force it; a bounded queue never has
    them, see below): put() returns without waiting for the daemon's
    answer. On a durable queue put() waits by
    default, so a put that returned is in the journal (with
    pipelined=True it is once close() returned). Messages put are in the
    queue in order even when one failed. On the NATS backend (a nats://
    socket, docs/nats.md) puts are never pipelined and there is no
    feeder: each put() waits for JetStream's answer.
    - Unbounded queue (cannot be Full): a feeder thread, as
      multiprocessing.Queue has. put() pickles the object in the caller
      (so a pickling error is raised by put() itself), hands the bytes to
      this process's feeder of the queue and returns. The feeder (a C
      thread that never holds the GIL, one per queue name in a process,
      shared by its Queue objects and threads, started by the first put)
      sends what has accumulated as one batch on a connection of its
      own, waits for the daemon's answers and goes again: under load
      many puts share one system call and one request. A put that finds
      the feeder idle with nothing to send (and comes 0.1 ms or more
      after the previous one) is written by the caller at once on the
      feeder's connection, so a lone put is not delayed and wakes no
      thread; its answer is read with the next batch or when a call
      waits for it.
      put_many() hands over all its items as one batch (a message of
      16 KiB or more goes in a request of its own). At most 4 MiB
      or 16384 messages wait in a process: a put past that waits for the
      feeder (Ctrl-C interrupts it, nothing put). A message over the
      daemon's msg_max (sent as a memfd) is put by the caller itself,
      after the feeder's puts are answered.
      A process sees its own puts: get, get_nowait, get_many, get_ack,
      get_any, qsize, empty, full, opening another Queue of the name,
      pickling this one, and ipcd.stat/delete/list/info first wait until
      the daemon has answered every put this process made on the queue
      (multiprocessing does not promise it). Other processes see them
      once the feeder sent them (at once when it is idle).
      Failures (the queue was deleted, permission taken away, a daemon
      limit such as max-bytes, the daemon gone) are kept by the feeder
      and raised, once, with the count of messages not put, by the next
      call on a Queue of that name in this process, in any thread: get,
      get_nowait, get_many, get_ack, get_any, qsize, empty, full or
      close(), which wait for the answers first, so they always raise a
      failure of a put made before them; or put() or put_many(), which
      raise it if the feeder has read its answer by then, and then put
      nothing.
      After a lost connection, the next put makes a new one.
      close() waits for the feeder to have sent every put and for the
      answers (multiprocessing's close() and join_thread() together) and
      raises a failure; so does the exit of the process (also of a
      multiprocessing child), unless cancel_join_thread() was called.
      os._exit() or a kill loses what the feeder has not sent, as
      multiprocessing loses its buffer. A forked child starts a feeder of
      its own at its first put; puts its parent had not sent at the fork
      are the parent's only (never sent twice).
    - Bounded queue: put() returns once its message has a slot, as
      multiprocessing's put() returns once it took one of its semaphore:
      a blocking put waits (in the daemon, releasing the GIL; Ctrl-C
      interrupts it with nothing put) while the queue is full, so a
      producer is never more than maxsize messages ahead of its
      consumers. Parked puts are admitted in the order they came.
      Credits: with room to spare, the Queue object's feeder (a C thread,
      as for an unbounded queue, but one per Queue object, as
      multiprocessing has one per Queue) reserves slots ahead on its own
      connection (at most 64, and at most a quarter of the room free: a
      queue of maxsize < 8 never has any, so the seed's Queue(2) behaves
      exactly as above). put() takes one of them and hands the pickled
      bytes to the feeder, which sends what has accumulated as one run
      of puts into those slots and waits for their answers: such a put
      cannot be Full, so put() returns at once, and its message is in
      the queue when the daemon reads it. A put that finds no credit
      first waits until the feeder's puts are answered, so each
      thread's puts stay in order. Reserved slots count as taken, like
      the items multiprocessing's put() has taken a slot for and its
      feeder has not sent: full() and put_nowait()/put(timeout)
      elsewhere see the queue full when messages held, in flight and
      reserved reach maxsize (Full is exact in that count; ipcd.stat()
      shows 'reserved'); qsize() counts only messages held. Idle
      producers hold no room for long: the feeder gives back its
      unspent slots 20 ms after its last put into one (or reserve), once
      it has sent everything, and at once when close() or the process
      ends or is killed; deleting the queue forgets them. So
      put_nowait()/put(timeout) raise Full only when messages held and
      in flight plus the slots of producers that put within the last
      20 ms reach maxsize (longer only while such a producer's feeder
      thread is held off the CPU: it gives them back when it runs), and
      a put waiting for room is admitted at the latest about 20 ms after
      every other producer stopped putting (or got the room). A put
      never spends a slot given back (the feeder takes them from the
      puts first), so put() returns only once its message has a slot.
      When the queue is full or putters wait, none are granted and puts
      wait for their own answer
      (a request for more is made every 16 such puts). A failure of a
      put into a reserved slot (the queue was deleted: NotHeldError) is
      raised by the next call on this Queue object in this process (get,
      qsize, full, close, ..., which first wait for the answers: they
      come at once), or by a put when the feeder has read it by then
      (that put then puts nothing). os._exit() or a kill loses the puts
      the feeder has not sent yet (at most a few runs of credits), as
      multiprocessing loses its buffer; close() and a normal exit wait
      for them, also after cancel_join_thread(). Pipelined puts off
      (pipelined=False, durable queues, the NATS backend): no credits,
      every put waits for its answer.

    Read-ahead (readahead=None, the default: adaptive, on queues that are
    not durable; on an unbounded one, when this process may both get and
    put): a get() called within 1 ms of the previous get() returning in
    this thread fetches several messages per round trip, 2, then 4, ... up
    to 64, and keeps the others for the next calls; a get() called later
    (this consumer spends time on each item) turns it off and first gives
    what it read ahead back to the head of the queue, so a slow consumer
    never sits on messages another could take. Only messages already
    waiting are fetched ahead: a fetch waits for the first message, never
    for more. Messages read ahead are this consumer's: other consumers
    cannot get them until they are given back (get_nowait() elsewhere may
    raise Empty meanwhile, as multiprocessing's may while its feeder
    thread has not flushed), and qsize() counts them only for the thread
    that holds them. They go back to the head of the queue, in order,
    when this thread's connection closes: close(), the process exiting
    normally, a KeyboardInterrupt that ends it, or get_ack() (which gives
    them back before it takes one).
    - Bounded queue: read-ahead is *held*. The messages keep their slots
      (full() counts them; qsize() elsewhere does not) until get() hands
      one out: before it returns it marks the slot free in a page of
      memory its connection shares with the daemon (no system call; the
      daemon reads the page before it answers a put Full, and while a
      put waits for room the get also tells the daemon, without
      waiting), so a put_nowait() anywhere that comes after it finds the
      room, and Full is exact at the boundary as without read-ahead. A
      consumer that stops getting keeps them from a getter waiting
      elsewhere for about 20 ms at most: the daemon puts them back at
      the head of the queue, in order, once they were held 10 ms while a
      getter waits (marking them taken back in the page: a later get
      fetches anew and never hands out a message another consumer got).
      A process that is killed (SIGKILL, a crash) gives
      them back too, in order; only the item a get() had returned is
      gone.
    - Unbounded queue: messages read ahead have left the queue. A process
      that is killed loses them, as it loses the message a plain get()
      was receiving.
    readahead=N (2..1024) fixes N per fetch on any queue (a durable
    unbounded queue cannot take messages back: closing loses them there),
    readahead=0 turns it off.

    Processes and threads: a Queue passed to multiprocessing.Process (fork
    or spawn) or pickled goes by name and reconnects in the other process;
    after fork the child makes its own connection. Threads share a Queue:
    each thread gets its own connection to the daemon for its gets (and
    its puts on a bounded queue); the puts of all threads on an unbounded
    queue go through the one feeder, each thread's in its order.

    At-least-once: `with q.get_ack(timeout=10) as item:` acks the message
    when the block exits normally, and puts it back at the head of the
    queue when it raises (or when the process dies first).

    Waiting on several queues: ipcd.get_any([q1, q2, ...], timeout=...)
    returns (queue, item) from the first of them that has an item, with
    one wait in the daemon on all of them at once; nothing is taken from
    the others. A Queue has no fileno(): a descriptor that turns readable
    needs a get waiting in the daemon, which would take a message from
    the other consumers. To mix queues with sockets or Connections in one
    select loop, run get_any in a thread and hand items over through a
    Connection (whose fileno() works).
    """

    def __init__(self, name, maxsize=0, *, socket=None, create=True, durable=False,
                 serializer="pickle", readahead=None, pipelined=None, owned=False):
        if maxsize is not None and maxsize < 0:
            maxsize = 0  # multiprocessing: maxsize <= 0 is unbounded
        self._name = name
        self._socket = socket
        self._ser = _serializer(serializer)
        self._ra_arg = readahead
        self._readahead = 0 if readahead is None else int(readahead)
        self._auto = False
        self._tls = threading.local()
        self._closed = False
        self._owned = bool(owned)
        f = _feeders.get((socket, name))
        if f is not None:
            f.sync(False)  # this process's puts are answered before it opens
        c = self._connect()
        self._maxsize = c.queue_open(name, -1 if maxsize is None else maxsize, create,
                                     durable=bool(durable), owned=self._owned)
        if self._readahead > 1:
            self._set_readahead(c, self._readahead)
        st = None
        if pipelined is None or readahead is None:
            st = c.stat(name)
        plain = st is not None and not (durable or st["durable"])
        if pipelined is None:  # on unless durable
            pipelined = plain
        self._pipelined = bool(pipelined) and _parks_async(c)
        # An unbounded queue's puts in this process go through one feeder
        # per queue name (shared by its Queue objects), which every call
        # that reads the queue waits for (sync). A pipelined bounded
        # Queue object has a feeder of its own, for the puts that have a
        # credit (a slot its connection reserved).
        self._cancelled = False
        if _on_nats(socket):
            self._feeder = None
        elif not self._maxsize:
            self._feeder = _feeder_of(socket, name)
        else:
            self._feeder = _bounded_feeder(socket, name) if self._pipelined else None
        self._feeds = self._pipelined and self._feeder is not None and not self._maxsize
        # Adaptive read-ahead: not durable, and on an unbounded queue this
        # process may give messages back (QUNGET needs read and write
        # permission); a bounded queue's is held (given back by QDONE).
        self._auto = readahead is None and plain and \
            (self._maxsize > 0 or _may_give_back(st))

    def _connect(self):
        """A new connection for this thread, set up for this queue."""
        c = _ipcd.Client(self._socket)
        # At exit (atexit, or a multiprocessing child's end), wait for the
        # answers to pipelined puts, as multiprocessing joins its feeder.
        _mputil.Finalize(c, _flush_quietly, (weakref.ref(c),), exitpriority=10)
        if self._readahead > 1 and hasattr(self, "_maxsize"):  # else once opened
            self._set_readahead(c, self._readahead)
        self._tls.s = _Thread(c)
        return c

    def _set_readahead(self, c, n):
        """Read ahead n per fetch on connection c (0 off): held on a
        bounded queue, so that Full stays exact."""
        c.set_readahead(self._name, n, _HOLD_MS if self._maxsize else -1)

    def _client(self):
        """This thread's connection, made anew after fork or a drop."""
        st = getattr(self._tls, "s", None)
        c = None if st is None else st.c
        if c is None or not c.alive:
            if self._closed:
                raise ValueError("Queue %r is closed" % self._name)
            c = self._connect()
        return c

    def _settled(self):
        """This thread's connection, once the feeder's puts of this
        process are answered (sync; on a bounded queue they never wait
        for room), their failures raised."""
        if self._closed:
            raise ValueError("Queue %r is closed" % self._name)
        if self._feeder is not None:
            self._feeder.sync()
        return self._client()

    name = _readonly("_name", "The queue's name.")
    maxsize = _readonly("_maxsize", "The most messages the queue holds; 0 unbounded.")

    def __repr__(self):
        return "<ipcd.Queue %r maxsize=%d>" % (self._name, self._maxsize)

    def __reduce__(self):
        if self._feeder is not None:
            self._feeder.sync(False)  # what was put is in for the other process
        return (_rebuild_queue, (self._name, self._maxsize, self._socket,
                                 _spec_of(self._ser), self._ra_arg, self._pipelined,
                                 self._owned))

    def put(self, obj, block=True, timeout=None):
        """Put obj at the tail, waiting while the queue is full: forever
        (timeout None), at most timeout seconds, or not at all (block
        False); queue.Full when no room came. On an unbounded queue it
        returns once the feeder has the pickled bytes (see the class
        doc: pipelined puts), and raises first a failure of an earlier
        put whose answer the feeder has read (then this one is not
        put)."""
        if self._closed:
            raise ValueError("Queue %r is closed" % self._name)
        ms = -1 if block is True and timeout is None else _timeout_ms(block, timeout)
        if self._feeds and self._ser is _Pickle and self._feeder.feed_obj(obj):
            return  # the common case first: pickled straight into the feeder
        data = self._ser.dumps(obj)
        if self._feeds:
            if not self._feeder.feed(data):  # over msg_max: a memfd, put here
                self._settled().put(self._name, data, -1)
        elif self._feeder is not None and self._maxsize:  # bounded: a credit, or wait
            self._put_bounded(data, ms)
        else:  # durable or on NATS: returns once the message is in
            self._client().put(self._name, data, ms)

    def _put_bounded(self, data, ms):
        """A put on a bounded queue: into a slot the feeder's connection
        reserved (the feeder sends it; it cannot be Full), else, once the
        feeder's puts are in (order), waiting for its own answer."""
        f = self._feeder
        if f.feed(data):
            return
        f.sync()  # none left, or maybe taken back: earlier puts are in first
        c = self._client()
        st = self._tls.s
        if st.no_credit:
            st.no_credit -= 1
        elif f.reserve(_CREDITS, _CREDIT_HOLD):
            if f.feed(data):  # else over msg_max
                return
        else:
            st.no_credit = _NO_CREDIT_PUTS
        c.put(self._name, data, ms)

    def get(self, block=True, timeout=None):
        """Remove and return the head item, waiting while the queue is
        empty: forever (timeout None), at most timeout seconds, or not at
        all (block False); queue.Empty when nothing came."""
        ms = -1 if block is True and timeout is None else _timeout_ms(block, timeout)
        if self._feeder is not None:
            self._feeder.sync()  # this process's puts are in first
        tls = getattr(self._tls, "s", None)
        c = None if tls is None else tls.c
        if c is None or self._closed or not c.alive:
            c = self._settled()
            tls = self._tls.s
        pickled = self._ser is _Pickle  # then unpickled from the library's copy
        if not self._auto:
            data = c.get(self._name, ms, self._readahead > 1, pickled)
            return data if pickled else self._ser.loads(data)
        if _monotonic() - tls.last <= _RA_BUSY:
            if tls.ra < _RA_MAX:  # a busy consumer: read ahead more
                tls.ra = max(2, tls.ra * 2)
                self._set_readahead(c, tls.ra)
        elif tls.ra:  # it spends time on each item: let others have them
            tls.ra = 0
            self._set_readahead(c, 0)
            c.unread(self._name)
        data = c.get(self._name, ms, tls.ra > 0, pickled)
        tls.last = _monotonic()
        return data if pickled else self._ser.loads(data)

    def put_nowait(self, obj):
        """put(obj, False)."""
        return self.put(obj, False)

    def get_nowait(self):
        """get(False)."""
        return self.get(False)

    def put_many(self, objs, block=True, timeout=None):
        """Put the items of objs in order, as many per round trip as fit
        (faster-fifo's name). Not all-or-nothing: waits per block/timeout
        (over the whole call) for room for the rest; on queue.Full its
        .count says how many of objs were put (a prefix). Returns how many
        were put. Pipelined like put() on an unbounded queue: it hands
        every item to the feeder as one batch and returns len(objs),
        failures come as for put()."""
        ms = _timeout_ms(block, timeout)
        if self._feeds and self._ser is _Pickle and not self._closed:
            # A snapshot: a list may change while a feed waits for room
            # (another thread, a signal handler), the count must not.
            objs = objs if type(objs) is tuple else tuple(objs)
            i = self._feeder.feed_many_obj(objs)  # pickled straight in, or None
            if i is not None:  # then every item is of a shape it pickles
                return self._feed_rest(objs, i, self._feeder.feed_many_obj,
                                       self._ser.dumps)
        dumps = self._ser.dumps
        datas = [dumps(o) for o in objs]
        if not self._feeds:  # may be cut short: waits
            return self._settled().put_many(self._name, datas, ms)
        if self._closed:
            raise ValueError("Queue %r is closed" % self._name)
        feed = self._feeder.feed_many
        return self._feed_rest(datas, feed(datas), feed, None)

    def _feed_rest(self, items, i, feed, dumps):
        """After feed(items) buffered items[:i]: each item over msg_max
        put here (a memfd; pickled with dumps first unless None), the
        ones between fed; returns len(items)."""
        n = len(items)
        while i < n:
            item = items[i] if dumps is None else dumps(items[i])
            self._settled().put(self._name, item, -1)
            i += 1
            i += feed(items[i:])
        return n

    def get_many(self, max_messages=BATCH_MAX, block=True, timeout=None):
        """Remove and return a list of up to max_messages (1..1024) items
        from the head in one round trip: what is there, or, when the queue
        is empty, the first to arrive (waiting per block/timeout; raises
        queue.Empty) with whatever came with it."""
        ms = _timeout_ms(block, timeout)
        if self._ser is _Pickle:  # unpickled from the receive buffer
            return self._settled().get_many(self._name, max_messages, ms, True)
        loads = self._ser.loads
        return [loads(d) for d in self._settled().get_many(self._name, max_messages, ms)]

    def get_ack(self, block=True, timeout=None, lease=None):
        """At-least-once get, as a context manager:

            with q.get_ack(timeout=10) as item:
                handle(item)

        The item stays in the daemon, in flight, until the block exits
        normally (then it is acked and gone). If the block raises, the
        process dies, or lease seconds pass first, it goes back to the head
        of the queue and is delivered again, so an item may be handled
        twice but is never lost. lease=None: no time limit (held until
        the block ends or the process dies). In-flight items count toward maxsize.
        Entering raises queue.Empty like get(). Leaving after an exception
        drops this thread's connection to give the item back at once (a
        new one is made at the next call)."""
        ms = _timeout_ms(block, timeout)
        if lease is not None and lease < 0:
            raise ValueError("'lease' must be a non-negative number")
        lease_ms = 0 if lease is None else max(1, min(math.ceil(lease * 1000), _MS_MAX))
        return _AckedGet(self, ms, lease_ms)

    def qsize(self):
        """Messages in the queue now (not counting ones in flight under
        get_ack, ones read ahead by a consumer, nor slots producers
        reserved)."""
        c = self._settled()
        return c.size(self._name)[0] + c.buffered(self._name)

    def empty(self):
        """Whether qsize() is 0 now."""
        return self.qsize() == 0

    def full(self):
        """Whether a put would wait now: messages held plus in flight
        plus slots producers reserved (see the class doc: credits) reach
        maxsize (never for an unbounded queue)."""
        size, inflight, maxsize = self._settled().size(self._name)
        return maxsize > 0 and size + inflight >= maxsize

    def close(self):
        """No more use of this Queue from this process: put and get raise
        ValueError after it. It waits, as multiprocessing's close() and
        join_thread() together, until the daemon has answered every put
        made before it: on an unbounded queue every put this process fed
        (Ctrl-C interrupts the wait; the feeder goes on sending); then it
        raises a failure not raised yet (see the class doc). After
        cancel_join_thread() it does not wait, except on a bounded queue:
        there it ends this Queue object's feeder once it has sent every
        put (they had their slots when put() returned), which gives its
        unspent reserved slots back at once.
        The queue itself stays in ipcd (see ipcd.delete)."""
        if self._closed:
            return
        self._closed = True
        st = getattr(self._tls, "s", None)
        c = None if st is None else st.c
        if st is not None:
            st.c = None
        try:
            if self._feeder is not None and self._maxsize:
                self._feeder.close()  # its own: its slots go back at once
            elif self._feeder is not None and not self._cancelled:
                self._feeder.sync()
        finally:
            if c is not None and c.alive:
                c.close()

    def join_thread(self):
        """multiprocessing's join_thread(), after close() (ValueError
        before): wait until the feeder has sent every put of this process
        and the daemon has answered them. close() already waited, so this
        returns at once unless a close() was interrupted; after
        cancel_join_thread() it never waits. Failures are raised by
        close(), not here."""
        if not self._closed:
            raise ValueError("Queue %r not closed" % self._name)
        if self._feeder is not None and (self._maxsize or not self._cancelled):
            self._feeder.sync(False)

    def cancel_join_thread(self):
        """multiprocessing's cancel_join_thread(): close(), join_thread()
        and the exit of this process no longer wait for the feeder, so
        puts it has not sent by then are lost (and their failures never
        raised). The feeder still sends while the process lives. It is
        the feeder of this queue name in this process, shared by every
        Queue object of the name here: it applies to all of them. (A
        bounded queue's puts had their slots when they returned: close()
        and exit still wait for its feeder to send them.)"""
        self._cancelled = True
        if self._feeder is not None and not self._maxsize:
            self._feeder.cancel_join()


# Each unbounded queue's feeder in this process, by (socket, name): the
# Queue objects of the name share it (and keep it alive).
_feeders = weakref.WeakValueDictionary()
_feeders_lock = threading.Lock()


def _close_feeder(ref):
    """At exit: the feeder sends what it holds and ends, unless
    cancel_join_thread() was called; nobody is left to tell of a failure."""
    f = ref()
    if f is not None:
        try:
            f.close()
        except Exception:
            pass


def _feeder_started(f):
    """A feeder's thread started in this process: close it at exit (a
    multiprocessing child drops its parent's exit hooks)."""
    _mputil.Finalize(f, _close_feeder, (weakref.ref(f),), exitpriority=10)


def _on_nats(socket):
    """Whether socket (None: $IPCD_SOCKET) is a NATS JetStream URL: there
    a put's answer is not the queue's, so no feeder (see the class doc)."""
    s = os.environ.get("IPCD_SOCKET", "") if socket is None else socket
    return s.startswith("nats://")


def _feeder_of(socket, name):
    """This process's feeder of unbounded queue name (made if missing)."""
    key = (socket, name)
    with _feeders_lock:
        f = _feeders.get(key)
        if f is None:
            f = _feeders[key] = _ipcd.Feeder(socket, name, _feeder_started)
        return f


# The feeders of bounded Queue objects in this process (one each, as
# multiprocessing's), with their (socket, name), for _sync_feeders and
# the at-fork hook.
_bounded_feeders = weakref.WeakKeyDictionary()


def _bounded_feeder(socket, name):
    """A new feeder for a bounded Queue object (puts into reserved slots)."""
    f = _ipcd.Feeder(socket, name, _feeder_started, bounded=True)
    with _feeders_lock:
        _bounded_feeders[f] = (socket, name)
    return f


def _forget_feeders():
    """In a forked child: let go of the parent's feeders (their sockets
    closed here, their buffered puts left to the parent)."""
    for f in _builtin_list(_feeders.values()) + _builtin_list(_bounded_feeders):
        f._after_fork()


os.register_at_fork(after_in_child=_forget_feeders)


def _sync_feeders(socket, name=None):
    """Wait for the feeders of this process on socket (of queue name
    only, when given) to have their puts answered; failures stay for the
    Queues' next calls."""
    pairs = [(k, f) for k, f in _builtin_list(_feeders.items())]
    pairs += [(k, f) for f, k in _builtin_list(_bounded_feeders.items())]
    for (s, n), f in pairs:
        if s == socket and (name is None or n == name):
            f.sync(False)


class _Thread:
    """A thread's state in a Queue (in its threading.local, once: slots
    are read far faster than a threading.local's attributes)."""
    __slots__ = ("c", "ra", "last", "no_credit")

    def __init__(self, c):
        self.c = c  # this thread's connection
        self.ra = 0  # adaptive read-ahead: messages per fetch now (0 off)
        self.last = -math.inf  # when the last get() returned
        self.no_credit = 0  # bounded queue: puts to make before asking for credits again


class _AckedGet:
    """The context manager Queue.get_ack() returns."""

    def __init__(self, q, ms, lease_ms):
        self._q, self._ms, self._lease_ms = q, ms, lease_ms
        self._c = self._tag = None

    def __enter__(self):
        q = self._q
        self._c = q._settled()
        if q._auto or q._readahead > 1:
            self._c.unread(q._name)  # older ones first: the head goes in flight
        data, self._tag = self._c.get_ack(q._name, self._ms, self._lease_ms)
        return q._ser.loads(data)

    def __exit__(self, exc_type, exc, tb):
        c = self._c
        if exc_type is None:
            c.ack(self._q._name, self._tag)
        elif c.alive:
            c.close()  # the daemon puts what this connection held back
        return False


def _rebuild_queue(name, maxsize, socket, serializer, readahead, pipelined, owned=False):
    """Unpickle a Queue: reconnect by name."""
    return Queue(name, maxsize, socket=socket, serializer=serializer,
                 readahead=readahead, pipelined=pipelined, owned=owned)


class Connection:
    """One end of an ipcd pipe, used like multiprocessing's Connection.

    Made by ipcd.Pipe() (both ends, for one process and its children) or
    ipcd.connect_pipe() (one end, from any process). send(obj)/recv()
    carry picklable objects (or bytes with serializer=None),
    send_bytes()/recv_bytes() raw bytes. recv() raises EOFError once the
    other end is closed and everything it sent was received; send()
    raises BrokenPipeError once the other end is closed; any call on a
    closed Connection raises OSError. Blocking calls release the GIL and
    Ctrl-C interrupts them; a message arriving with the interrupt is kept
    and returned by the next recv().

    Ends behave like file descriptors across processes. An end attaches
    lazily: the first process that sends, receives or polls on it holds
    it (connect_pipe() attaches at once). An end still open here when
    this process forks, or pickles the Connection (spawn, forkserver, or
    through a Queue), is attached here then if no process holds it yet,
    and is shared, not moved: the child holds the end too, joined in the
    daemon with a one-time capability this process got for it (never by
    name alone), a forked child in its at-fork hook, a spawned one when
    it unpickles the Connection, before its target runs. close() in one
    process releases that process's hold only; the peer sees EOF (a
    sender: BrokenPipeError) once every process holding the end closed
    it or exited (or was killed), whether or not any of them used it.
    So the multiprocessing pattern works: create the Pipe, start a
    child, each side closes the end it does not use, and the reader's
    EOFError comes after the writer's last holder closed; a child that
    exits or is killed before sending gives EOFError too. A process that
    shared an end keeps its connection to the daemon (not the end) after
    close(), so a child that has not claimed its share yet still holds
    the end: until every child it was pickled to by multiprocessing
    (spawn, forkserver) has exited, when those were its only shares,
    else until this process exits. So a spawned child that dies before
    unpickling releases the end at its exit, but a forked child killed
    during the fork (before its at-fork hook ran), or a pickle never
    unpickled (e.g. one put in a Queue), leaves the end open until this
    process exits. close() of an end this process
    never used, forked with or pickled only forgets it (so unrelated
    processes may each call Pipe(name) and close the end they do not
    use). An unrelated process attaching a held end by name gets
    BusyError (an end attached at a fork included); an end another
    process holds is not attached here at a fork or pickling (the child
    attaches it on first use). A Connection used by another thread at
    the moment of fork is not shared (the child's use of it raises
    BusyError).

    Sends are buffered by a feeder in each process (see send()); it
    holds the end as well until close() or exit has sent everything, so
    EOF still comes after the last message. A forked child never uses its
    parent's feeder: sends still buffered there when the end is shared
    are the parent's to send, and may arrive after the child's first.
    """

    def __init__(self, name, end, duplex, *, socket=None, serializer="pickle",
                 maxmsgs=0, maxbytes=0, owned=False):
        self._name = name
        self._end = end
        self._duplex = duplex
        self._socket = socket
        self._ser = _serializer(serializer)
        self._bounds = (maxmsgs, maxbytes, bool(owned))  # pipe_attach's tail
        self._client = None
        self._closed = False
        self._feeder = None  # this process's sender of this end (see send)
        self._unsettled = False  # large sends whose outcome was not awaited yet
        self._armed = False  # fileno() was called: its socket tells readiness
        self._dumps, self._loads = self._ser.dumps, self._ser.loads
        self._tx = None  # the feeder of send()'s fast path
        self._rx = None  # the client of recv()'s fast path
        self._token = None   # a share to claim here (pickled), or for a child
        self._shared = False  # this process's connection made shares
        self._others = False  # ... for a fork or a pickling other than a spawn
        self._spawned = []  # ... for these children spawned by multiprocessing
        _open.add(self)

    def _attach(self):
        """Attach the end in this process (join it, with a share's token);
        the Client."""
        c = _ipcd.Client(self._socket)
        try:
            if self._token is not None:
                token, self._token = self._token, None
                duplex = c.pipe_join(self._name, self._end, token)
            else:
                duplex = c.pipe_attach(self._name, self._end, self._duplex, True,
                                       *self._bounds)
        except BusyError as e:
            c.close()
            e.args = ("pipe %r end %d is held by another process or Connection: "
                      "an ipcd pipe end is used by one process at a time" %
                      (self._name, self._end),)
            raise
        except BaseException:
            c.close()
            raise
        self._duplex = duplex
        self._client = c
        self._setup(c)
        return c

    def _setup(self, c):
        """Read-ahead at a receiving end: one reader, so it is safe; at
        exit, wait for the answers of requests sent (closing first would
        drop what waits in the daemon for room)."""
        self._forget_feeder()
        self._unsettled = False
        self._armed = False
        _held.add(self)
        _mputil.Finalize(c, _flush_quietly, (weakref.ref(c),), exitpriority=10)
        if self.readable:
            c.pipe_set_readahead(self._name, self._end, _PIPE_READAHEAD)
        self._fast(c)

    def _fast(self, c):
        """Let recv() call client c directly (its fast path) while it is
        alive in this process and the end is neither closed nor armed
        (fileno()); c None turns it off. send()'s fast path is the
        feeder's, from its first send here."""
        self._tx = self._feeder if c is not None else None
        self._rx = c if c is not None and self.readable else None

    def _forget_feeder(self):
        """Drop the feeder (in a forked child: the parent's, whose
        inherited socket it closes; its messages are the parent's)."""
        f, self._feeder, self._tx = self._feeder, None, None
        if f is not None:
            f._after_fork()

    def _start_feeder(self, c):
        """This process's feeder of the end held by client c: a C thread
        with a connection of its own that joins the end with a share of
        c (so it holds the end too until it is closed) and sends what
        send() buffers, in batches."""
        token = c.pipe_share(self._name, self._end)
        if self._armed:
            c.pipe_arm(self._name, self._end)  # the reply came on the armed socket
        self._feeder = _ipcd.Feeder(self._socket, self._name, _feeder_started, self._end,
                                    token, _SEND_WINDOW)
        self._fast(c if not self._armed else None)
        return self._feeder

    def _c(self):
        """The client holding this end in this process, attaching it on
        first use."""
        if self._closed:
            raise OSError("handle is closed")
        c = self._client
        if c is not None:
            if c.alive:
                return c
            if c.pid == os.getpid():
                raise ConnectionLostError("the connection holding pipe %r end %d was lost"
                                          % (self._name, self._end))
        return self._attach()  # first use here (maybe in a forked child)

    closed = _readonly("_closed", "True once close() was called.")

    @property
    def readable(self):
        """True if this end can receive (False for the sending end of
        Pipe(duplex=False))."""
        return self._duplex is not False or self._end == 0

    @property
    def writable(self):
        """True if this end can send (False for the receiving end of
        Pipe(duplex=False))."""
        return self._duplex is not False or self._end == 1

    name = _readonly("_name", "The pipe's name.")
    end = _readonly("_end", "0 or 1: which end of the pipe this is.")

    def __repr__(self):
        return "<ipcd.Connection %r end %d%s>" % (self._name, self._end,
                                                  " closed" if self._closed else "")

    def __reduce__(self):
        return (_rebuild_connection, (self._name, self._end, self._duplex, self._socket,
                                      _spec_of(self._ser), self._bounds, self._closed,
                                      self._share()))

    def _share(self):
        """A share of the end for another process (attaching it here first
        if no process used it yet, so that every process given it holds
        it): its token (the end stays open until it is claimed or this
        process exits), else None (closed, or the end is held elsewhere:
        the other process then attaches it on first use)."""
        if self._closed:
            return None
        try:
            c = self._c()
        except Error:
            return None
        token = c.pipe_share(self._name, self._end)
        self._shared = True
        popen = _mpcontext.get_spawning_popen()
        if popen is not None:
            self._spawned.append(popen)
        else:
            self._others = True
        if self._armed:
            c.pipe_arm(self._name, self._end)  # the reply came on the armed socket
        return token

    def _check_writable(self):
        if self._closed:
            raise OSError("handle is closed")
        if not self.writable:
            raise OSError("connection is read-only")

    def _check_readable(self):
        if self._closed:
            raise OSError("handle is closed")
        if not self.readable:
            raise OSError("connection is write-only")

    def _send(self, data):
        """Send data: a small message through the feeder (started at the
        first one in this process), a large one (_SEND_ALONE) pipelined on
        this end's own connection c. Each lane first waits for the other's
        answers when it sent last, so the order is kept. After fileno(),
        a large send waits for its answer (it would make c's socket
        readable)."""
        c = self._c()
        f = self._feeder
        if len(data) < _SEND_ALONE:
            if f is None:
                f = self._start_feeder(c)
            self._settle_own(c)
            f.feed(data)
            return
        if f is not None:
            f.sync()
        if self._armed:
            c.pipe_send(self._name, self._end, data)
            c.pipe_arm(self._name, self._end)
            return
        self._unsettled = True
        c.pipe_send_async(self._name, self._end, data, _SETTLE_EVERY)

    def _settle_own(self, c):
        """Wait for the answers of the large sends made on c; raise the
        first failure."""
        if self._unsettled:
            self._unsettled = False
            c.flush()

    def _settle(self, c):
        """Wait until the daemon answered the sends made so far; raise the
        first failure (BrokenPipeError once the peer closed)."""
        self._settle_own(c)
        if self._feeder is not None:
            self._feeder.sync()

    def send(self, obj):
        """Send a picklable object (bytes-like with serializer=None).

        Sends are buffered: send() pickles obj (a pickling error raises
        here), hands the bytes to this end's feeder in this process and
        returns. The feeder, a C thread with a connection of its own
        that holds the end too, sends what piled up as one batch and
        reads the answers; a lone send (the feeder idle) is written by
        send() itself, so it is on its way when send() returns. Messages of
        16 KiB or more are written by the Connection's own connection
        (each kind waits for the other's answers first: the order holds).
        A failure (the peer closed: BrokenPipeError; the pipe was deleted)
        is raised once: by the next poll(), fileno() or close() on this
        Connection, which first wait for the answers of every send made
        before them; or by a send() or recv() once the feeder has read it
        (recv() does not wait for answers, so a request/response
        exchange costs no extra wait), at the latest 128 sends later,
        since a send waits while 128 are unanswered (some may wait in
        the daemon for room in the pipe). Messages sent before the
        failure were delivered in order. close() and a normal exit wait
        until the feeder has sent everything; os._exit() or a kill loses
        the sends it has not written yet. Sends still buffered when the
        end is shared with another process (fork, pickling) are this
        process's to send and may arrive after the other's first ones."""
        f = self._tx
        if f is not None:  # attached here, the feeder started
            data = self._dumps(obj)
            if len(data) >= _SEND_ALONE or self._unsettled:
                self._send(data)
            else:
                f.feed(data)
            return
        self._check_writable()
        self._send(self._dumps(obj))

    def recv(self):
        """Receive an object sent with send(), waiting for it; EOFError
        when the other end closed and nothing is left."""
        c = self._rx
        if c is not None and c.alive and not self._unsettled:  # attached, not armed
            if self._feeder is not None:
                self._feeder.check()
            if self._ser is _Pickle:  # unpickled from the library's copy
                return c.pipe_recv(self._name, self._end, -1, True)
            return self._loads(c.pipe_recv(self._name, self._end))
        self._check_readable()
        return self._loads(self._recv())

    def _recv(self):
        """One message (bytes), after raising a send failure the feeder
        has read (and waiting for the answers of large sends).
        After fileno(), it waits on the socket (so Ctrl-C interrupts it)
        and arms the end again for the next wait."""
        c = self._c()
        self._settle_own(c)
        if self._feeder is not None:
            self._feeder.check()  # not waiting for answers (see send)
        if not self._armed:
            return c.pipe_recv(self._name, self._end)
        c.pipe_wait(self._name, self._end)
        data = c.pipe_recv(self._name, self._end, 0)
        c.pipe_arm(self._name, self._end)
        return data

    def fileno(self):
        """A descriptor that is readable when recv() would not block (a
        message or EOF is there), for select, selectors, asyncio's
        add_reader and multiprocessing.connection.wait(). It is the
        socket of this end's connection to ipcd: never read or write it.

        From the first call on, this Connection keeps a receive waiting
        in the daemon (nothing is taken from anyone: an end has one
        reader), arms it again after each recv(), and its sends wait for
        their answers (an answer would make the socket readable). Only
        for a receiving end (OSError on a send-only one)."""
        self._check_readable()
        c = self._c()
        self._settle(c)
        self._armed = True
        self._fast(None)
        return c.pipe_arm(self._name, self._end)

    def send_bytes(self, buf, offset=0, size=None):
        """Send bytes from a bytes-like object: buf[offset:offset+size]
        (size None: to the end; ValueError when the range is outside
        buf). Pipelined like send(); TooBigError over the daemon's limit
        (64 MiB by default, see the module doc)."""
        self._check_writable()
        m = memoryview(buf).cast("B")
        n = len(m)
        if offset < 0:
            raise ValueError("offset is negative")
        if n < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError("size is negative")
        elif offset + size > n:
            raise ValueError("buffer length < offset + size")
        self._send(m[offset:offset + size])

    def recv_bytes(self, maxlength=None):
        """Receive one message as bytes; EOFError at the end. A message
        longer than maxlength raises OSError and closes this end, as
        multiprocessing does."""
        self._check_readable()
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        data = self._recv()
        if maxlength is not None and len(data) > maxlength:
            self.close()
            raise OSError("bad message length")
        return data

    def recv_bytes_into(self, buf, offset=0):
        """Receive one message into the writable buffer buf at offset;
        returns its length. Too small a buffer raises
        multiprocessing.BufferTooShort carrying the message."""
        self._check_readable()
        m = memoryview(buf).cast("B")
        if offset < 0 or offset > len(m):
            raise ValueError("offset out of bounds" if offset >= 0 else "negative offset")
        data = self._recv()
        if len(data) > len(m) - offset:
            import multiprocessing
            raise multiprocessing.BufferTooShort(data)
        m[offset:offset + len(data)] = data
        return len(data)

    def poll(self, timeout=0.0):
        """Whether recv() would not block (a message or EOF is there),
        waiting at most timeout seconds (None: until it is so)."""
        self._check_readable()
        ms = -1 if timeout is None else max(0, min(math.ceil(timeout * 1000), _MS_MAX))
        c = self._c()
        self._settle(c)
        if self._armed:
            return c.pipe_wait(self._name, self._end, ms)
        return c.pipe_poll(self._name, self._end, ms)

    def close(self):
        """Close this end: release this process's hold. When no other
        process holds it (see Connection: children given it hold it),
        the other end then receives what was sent and EOFError. Of an
        end this process never used, forked with or pickled, close()
        only forgets it. A failure of a pipelined send not raised yet is raised
        here, after the end is closed (see send). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._fast(None)
        _open.discard(self)
        _held.discard(self)
        c, self._client = self._client, None
        f, self._feeder = self._feeder, None
        if c is not None and c.alive:
            try:
                self._settle_own(c)
                if f is not None:  # every send answered, then its hold let go
                    f.close()
            finally:
                try:
                    c.pipe_close(self._name, self._end)
                except (ClosedError, NotFoundError, NotAttachedError):
                    pass
                finally:
                    self._let_go(c)

    def _let_go(self, c):
        """Close this process's connection c, or keep it while it made
        shares: one not claimed yet hangs on it (see _keep_for_shares)."""
        if self._shared:
            _keep_for_shares(c, self._others, self._spawned)
        else:
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def __del__(self):
        c = getattr(self, "_client", None)
        if c is not None and c.alive:
            try:
                if self._unsettled:
                    c.flush()  # sends waiting for room are not dropped
                if self._feeder is not None:
                    self._feeder.close()
            except Exception:
                pass
            if getattr(self, "_shared", False):
                _keep_for_shares(c, self._others, self._spawned)
            else:
                c.close()  # the daemon lets go of the end with the connection


def _rebuild_connection(name, end, duplex, socket, serializer, bounds, closed,
                        token=None):
    """Unpickle a Connection: the same end, joined now when the pickling
    process held it and shared it (token), else attached on first use."""
    conn = Connection(name, end, duplex, socket=socket, serializer=serializer,
                      maxmsgs=bounds[0], maxbytes=bounds[1], owned=bounds[2])
    conn._closed = closed
    conn._token = token
    if token is not None and not closed:
        try:
            conn._c()  # hold it from now on; on failure, at first use
        except Error:
            pass
    return conn


# Connections not closed (attached or not), connections holding their end
# in this process (shared at fork), and connections that made shares and
# outlive their Connection until exit.
_open = weakref.WeakSet()
_held = weakref.WeakSet()
_sharers = []


def _keep_for_shares(c, others, spawned):
    """Keep connection c, which made shares of an end, while one may be
    unclaimed: until exit, or, when every share went to a child spawned
    by multiprocessing (spawn, forkserver), until all those children
    exited (a share that a child died without claiming goes with c)."""
    fds = None if others else _dup_sentinels(spawned)
    if fds is not None:
        try:
            threading.Thread(target=_close_after_exits, args=(c, fds), daemon=True,
                             name="ipcd-shares").start()
            return
        except RuntimeError:  # at interpreter shutdown: exit is near anyway
            for fd in fds:
                os.close(fd)
    _sharers.append(c)


def _dup_sentinels(popens):
    """Copies of the exit sentinels of multiprocessing Popen objects, or
    None when one has none (not started yet, or closed)."""
    fds = []
    try:
        for popen in popens:
            fds.append(os.dup(popen.sentinel))
    except (OSError, AttributeError):
        for fd in fds:
            os.close(fd)
        return None
    return fds


def _close_after_exits(c, fds):
    """Close client c once each of fds (dups of children's sentinels) is
    readable: every child it shared with has exited."""
    import select
    try:
        for fd in fds:
            waiter = select.poll()
            waiter.register(fd, select.POLLIN)
            while not waiter.poll():
                pass
    finally:
        for fd in fds:
            os.close(fd)
    try:
        c.close()
    except Exception:
        pass  # at exit, _flush_quietly closes it


def _share_before_fork():
    """Before fork: a share of every open end here, for the child (an end
    no process used yet is attached here first)."""
    for conn in _builtin_list(_open):
        if conn._closed:
            _open.discard(conn)
            continue
        try:
            conn._token = conn._share()
        except Exception:
            conn._token = None  # busy in another thread, or the daemon is gone


def _after_fork_parent():
    """The child claimed its shares (or will die): forget the tokens."""
    for conn in _builtin_list(_open):
        conn._token = None


def _join_after_fork():
    """In a forked child: hold every end the parent held, joining it with
    the share the parent made; a failed join is retried at first use."""
    del _sharers[:]
    for conn in _builtin_list(_held):
        _held.discard(conn)
        conn._client = None
        conn._shared = conn._others = False
        conn._spawned = []
        conn._forget_feeder()
        conn._fast(None)
        if conn._token is not None:
            try:
                conn._c()
            except Exception:
                pass


def Pipe(name, duplex=True, *, socket=None, serializer="pickle", maxmsgs=0, maxbytes=0,
         owned=False):
    """Both ends of the ipcd pipe name, like multiprocessing.Pipe():
    returns (conn1, conn2), ends 0 and 1. With duplex=False, conn1 only
    receives and conn2 only sends. For one process that starts children
    (fork or spawn): each end attaches in the first process that uses it
    or passes it to a child, and is shared with the children it is
    passed to, like a file descriptor (see Connection). maxmsgs/maxbytes bound each direction's buffer
    (0: the daemon's defaults, 64 messages and 1 MiB; one message larger
    than maxbytes, up to 64 MiB, is taken when its direction is empty,
    see the module doc, Big objects). owned=True: an
    existing pipe of that name must be this user's or root's, else the
    first use of an end raises PermissionError (see Queue). socket and
    serializer are as for Queue (serializer=None: send() takes bytes-like
    objects and recv() returns bytes). Pipe() itself does not connect:
    a missing daemon raises ConnectError at the first use of an end.
    An end given to a child (fork, spawn) is held by the child from its
    start, used or not, so a child that exits or is killed before
    sending gives the parent's recv() EOFError (see Connection). Unlike
    multiprocessing, close() of an end this process never used, forked
    with or pickled only forgets it: r, w = Pipe(name); w.close();
    r.recv() in one process waits (use poll(timeout))."""
    kw = dict(socket=socket, serializer=serializer, maxmsgs=maxmsgs, maxbytes=maxbytes,
              owned=owned)
    return Connection(name, 0, bool(duplex), **kw), Connection(name, 1, bool(duplex), **kw)


def connect_pipe(name, end, *, duplex=None, create=True, socket=None, serializer="pickle",
                 maxmsgs=0, maxbytes=0, owned=False):
    """Attach end 0 or 1 of the ipcd pipe name now, from any process, and
    return its Connection. The pipe is created if missing (create=True),
    duplex unless duplex=False; duplex=None accepts an existing pipe of
    either kind. Raises BusyError if the end is held, ClosedError if it was
    closed before."""
    conn = Connection(name, end, duplex, socket=socket, serializer=serializer,
                      maxmsgs=maxmsgs, maxbytes=maxbytes, owned=owned)
    c = _ipcd.Client(socket)
    try:
        conn._duplex = c.pipe_attach(name, end, duplex, create, maxmsgs, maxbytes, owned)
        conn._setup(c)
    except BaseException:
        c.close()
        raise
    conn._client = c
    return conn


def get_any(queues, block=True, timeout=None):
    """Remove and return (queue, item) from the first of queues (ipcd.Queue
    objects of one daemon, 1 to 64) that has an item, in the order given,
    waiting on all of them at once while all are empty: forever (timeout
    None), at most timeout seconds, or not at all (block False); raises
    queue.Empty when nothing came. Like Redis's BLPOP with several keys.
    The item is decoded by its own queue's serializer. Items read ahead
    (readahead=) by one of the queues are not seen. Interrupted (Ctrl-C),
    it takes nothing."""
    queues = tuple(queues)
    if not queues:
        raise ValueError("get_any needs at least one queue")
    if any(q._socket != queues[0]._socket for q in queues):
        raise ValueError("get_any: the queues must be on one daemon (socket=)")
    ms = _timeout_ms(block, timeout)
    for q in queues[1:]:
        q._settled()  # raise their pipelined puts' failures first
    index, data = queues[0]._settled().get_any([q._name for q in queues], ms)
    q = queues[index]
    return q, q._ser.loads(data)


def _admin(socket, method, *args):
    """One call on a short-lived connection, after the puts this process
    made on the queue it names (on every queue, without a name)."""
    _sync_feeders(socket, *args[:1])
    c = _ipcd.Client(socket)
    try:
        return getattr(c, method)(*args)
    finally:
        c.close()


def list(socket=None):  # noqa: A001  (ipcd.list, as the issue names it)
    """Every queue and pipe, sorted by name: a list of stat() dicts.
    LimitError past 131,072 of them (the C library's IPC_LIST_MAX: a
    daemon cannot make the caller hold unbounded memory)."""
    return _admin(socket, "list")


def stat(name, socket=None):
    """What the daemon says about queue or pipe name, as a dict: name,
    kind ('queue' or 'pipe'), maxsize, size, bytes, memory (what those
    messages cost the daemon, overhead included), getters, putters,
    puts, gets, inflight, requeued, uid, gid, mode, durable; a queue adds
    its dead-lettering: max_deliveries (0: none), dead_letter (the queue
    poison messages go to, '' for none), dead_lettered (messages moved
    there), dead_letter_failed (moves refused, the message stayed) and
    reserved (slots producers reserved and have not spent, which count
    toward maxsize: see Queue, credits); a pipe adds duplex, maxbytes, attached and closed (a pair of bools,
    ends 0 and 1). NotFoundError if there is none."""
    return _admin(socket, "stat", name)


def info(socket=None):
    """The daemon's figures as a dict, under the keys of `ipcctl info
    --json`: version, pid, uptime_ms, connections, queues, pipes,
    messages, bytes, max_bytes, parked, inflight, puts, gets, the refusals
    by reason (refused_full, refused_limit, refused_perm, ...) and the
    journal's (durable, journal_bytes, journal_syncs, ...). Counters run
    since the daemon started. See ipcctl(1), JSON KEYS."""
    return _admin(socket, "info")


def delete(name, socket=None):
    """Delete queue or pipe name and what it holds (owner or root). Calls
    waiting on it raise DeletedError. NotFoundError if there is none."""
    _admin(socket, "delete", name)


# Pipe ends held here are shared with a forked child (see Connection).
os.register_at_fork(before=_share_before_fork, after_in_parent=_after_fork_parent,
                    after_in_child=_join_after_fork)
