# SPDX-License-Identifier: MIT
"""ipcd.Pipe, connect_pipe and Connection: what multiprocessing's
Connection does (send/recv, bytes, poll, EOFError, BrokenPipeError,
OSError on a closed end), across fork, spawn and unrelated processes."""
import array
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import ipcdtest
import ipcd

SLACK = 0.5


def setUpModule():
    ipcdtest.start()


def tearDownModule():
    ipcdtest.stop()


def child_reader(pipe, out):
    """Process target: the seed's child, reporting what it read via out."""
    r, w = pipe
    w.close()
    got = []
    while True:
        try:
            got.append(r.recv())
        except EOFError:
            break
    out.put(got)


def child_writer(pipe):
    """Process target: inherits both ends held by the parent, closes its
    copy of the reading end, sends, pauses, sends once more, closes."""
    r, w = pipe
    r.close()
    for i in range(5):
        w.send(i)
    time.sleep(0.3)  # a premature EOF at the parent's reader would show
    w.send("last")
    w.close()


def child_exits(*args):
    """Process target: inherits both ends (args) and uses neither."""


def child_waits(pipe, ready):
    """Process target: inherits both ends, says it runs, then sleeps
    until it is killed."""
    ready.set()
    time.sleep(60)


class DieOnUnpickle:
    """Unpickled in a spawned child, it ends that child at once: what is
    pickled after it (a Connection) is never unpickled there."""

    def __reduce__(self):
        return (os._exit, (3,))


# What unpickling a RunsOnUnpickle calls (set by a test).
on_unpickle = []


def unpickled_after_hook(x):
    """Unpickles as x, after calling on_unpickle[0]."""
    on_unpickle[0]()
    return x


class RunsOnUnpickle:
    """Unpickled, it runs on_unpickle[0] and becomes "ran"."""

    def __reduce__(self):
        return (unpickled_after_hook, ("ran",))


def run_python(code):
    """Start a python child running code."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class ConnectionTest(unittest.TestCase):
    def test_duplex_both_ways(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        a.send({"x": 1})
        b.send([2])
        self.assertEqual(b.recv(), {"x": 1})
        self.assertEqual(a.recv(), [2])
        self.assertTrue(a.readable and a.writable and b.readable and b.writable)

    def test_fifo(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        for i in range(50):
            a.send(i)
        self.assertEqual([b.recv() for _ in range(50)], list(range(50)))

    def test_unpickling_may_use_the_connection(self):
        """Code that unpickling runs (a reconstructor here; a signal
        handler or a finalizer there) may use the receiving Connection:
        recv() unpickles once its receive is over. Unpickled during it,
        the poll() raised RuntimeError (the client "used by two threads
        at once") and the message was lost."""
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        w.send(0)
        self.assertEqual(r.recv(), 0)  # attached: recv()'s fast path from here
        polled = []
        on_unpickle[:] = [lambda: polled.append(r.poll(5))]
        self.addCleanup(on_unpickle.clear)
        w.send(RunsOnUnpickle())
        w.send(1)
        self.assertEqual(r.recv(), "ran")
        self.assertEqual(polled, [True])  # it kept 1 aside, as bytes
        self.assertEqual(r.recv(), 1)

    def test_every_shape(self):
        """recv() unpickles each shape straight from the library's copy (an
        int, bytes or str) or through pickle (the rest), and after a poll()
        that kept the message aside: equal objects of the same type, in
        order."""
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        objs = [0, -1, 2 ** 31 - 1, 2 ** 31, b"", b"x" * 255, bytes(65536), bytes(70000),
                "", "\u00e9" * 40000, "\ud800", None, 1.5, [1, "a"], bytearray(b"ab")]
        for i, obj in enumerate(objs * 2):
            w.send(obj)
            if i >= len(objs):
                self.assertTrue(r.poll(5))
            got = r.recv()
            self.assertIs(type(got), type(obj))
            self.assertEqual(got, obj)

    def test_one_way(self):
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        self.assertEqual((r.readable, r.writable, w.readable, w.writable),
                         (True, False, False, True))
        self.assertRaises(OSError, r.send, 1)
        self.assertRaises(OSError, w.recv)
        self.assertRaises(OSError, w.poll)
        w.send("one way")
        self.assertEqual(r.recv(), "one way")

    def test_bytes(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        a.send_bytes(b"")
        a.send_bytes(b"hello world", 6)
        a.send_bytes(bytearray(b"hello world"), 0, 5)
        a.send_bytes(array.array("i", [1, 2, 3]), 4, 4)  # bytes, as multiprocessing
        self.assertEqual(b.recv_bytes(), b"")
        self.assertEqual(b.recv_bytes(), b"world")
        self.assertEqual(b.recv_bytes(), b"hello")
        self.assertEqual(b.recv_bytes(), array.array("i", [2]).tobytes())
        for args in ((b"ab", -1), (b"ab", 3), (b"ab", 0, -1), (b"ab", 1, 2)):
            self.assertRaises(ValueError, a.send_bytes, *args)

    def test_recv_bytes_maxlength(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        self.assertRaises(ValueError, b.recv_bytes, -1)
        a.send_bytes(b"12345")
        a.send_bytes(b"123456")
        self.assertEqual(b.recv_bytes(5), b"12345")
        self.assertRaises(OSError, b.recv_bytes, 5)
        self.assertTrue(b.closed)  # as multiprocessing: the end is closed

    def test_recv_bytes_into(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        buf = bytearray(10)
        a.send_bytes(b"abc")
        self.assertEqual(b.recv_bytes_into(buf, 2), 3)
        self.assertEqual(bytes(buf[:5]), b"\0\0abc")
        a.send_bytes(b"x" * 20)
        with self.assertRaises(mp.BufferTooShort) as cm:
            b.recv_bytes_into(buf)
        self.assertEqual(cm.exception.args[0], b"x" * 20)

    def test_poll(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        self.assertFalse(b.poll())
        self.assertFalse(b.poll(0))
        t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
        self.assertFalse(b.poll(0.3))
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.3)
        # Late by no more than SLACK, less the time the daemon and this
        # process waited for a CPU (seconds on a loaded machine).
        self.assertLess(took - (ipcdtest.cpu_wait() - w0), 0.3 + SLACK)
        a.send("x")
        self.assertTrue(b.poll(5))
        self.assertTrue(b.poll())  # still there: poll takes nothing
        self.assertEqual(b.recv(), "x")
        self.assertFalse(b.poll())

    def test_poll_wakes_on_send_from_other_process(self):
        name = ipcdtest.fresh("p")
        r = ipcd.connect_pipe(name, 0)
        child = run_python("""
            import time, ipcd
            time.sleep(0.3)
            ipcd.connect_pipe(%r, 1).send("late")
        """ % name)
        self.assertTrue(r.poll(None))
        self.assertEqual(r.recv(), "late")
        child.communicate(timeout=30)

    def test_fileno_wait(self):
        """multiprocessing.connection.wait() and select() on fileno():
        readable exactly when recv() would not block."""
        from multiprocessing.connection import wait
        r1, w1 = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        r2, w2 = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        self.assertEqual(wait([r1, r2], timeout=0.2), [])
        w2.send("two")
        self.assertEqual(wait([r1, r2], timeout=30), [r2])
        self.assertEqual(r2.recv(), "two")
        self.assertEqual(wait([r1, r2], timeout=0.2), [])  # taken: not ready
        for i in range(3):
            w1.send(i)
        self.assertEqual(wait([r1, r2], timeout=30), [r1])
        self.assertEqual(r1.recv(), 0)
        self.assertEqual(wait([r1, r2], timeout=30), [r1])  # two read ahead
        self.assertEqual([r1.recv(), r1.recv()], [1, 2])
        self.assertEqual(wait([r1, r2], timeout=0.2), [])
        self.assertFalse(r1.poll(0.1))
        w1.close()
        import select
        self.assertEqual(select.select([r1.fileno()], [], [], 30)[0], [r1.fileno()])
        self.assertTrue(r1.poll())
        self.assertRaises(EOFError, r1.recv)
        self.assertRaises(OSError, w2.fileno)  # a sending end

    def test_fileno_wakes_on_send_from_other_process(self):
        import selectors
        name = ipcdtest.fresh("p")
        r = ipcd.connect_pipe(name, 0)
        with selectors.DefaultSelector() as sel:
            sel.register(r, selectors.EVENT_READ)
            self.assertEqual(sel.select(0.1), [])
            child = run_python("""
                import time, ipcd
                time.sleep(0.3)
                c = ipcd.connect_pipe(%r, 1)
                c.send("late")
                c.send("later")
                print(c.recv(), c.recv(), flush=True)
            """ % name)
            for want in ("late", "later"):
                self.assertEqual([k.fileobj for k, _ in sel.select(30)], [r])
                self.assertEqual(r.recv(), want)
            r.send("answer")  # after fileno(): waits for its answer
            self.assertEqual(sel.select(0.2), [])
            r.send("bye")  # the child prints, exits: EOF, which is ready
            self.assertEqual([k.fileobj for k, _ in sel.select(30)], [r])
            self.assertRaises(EOFError, r.recv)
        out, err = child.communicate(timeout=30)
        self.assertEqual(out, b"answer bye\n", err)

    def test_asyncio_add_reader(self):
        """asyncio's loop.add_reader(conn.fileno(), ...) fires once a
        message is there, and again at EOF, as with multiprocessing."""
        import asyncio
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)

        async def main():
            loop = asyncio.get_running_loop()
            got, done = [], asyncio.Event()

            def readable():
                try:
                    got.append(r.recv())
                except EOFError:
                    got.append("EOF")
                    loop.remove_reader(r.fileno())
                    done.set()

            loop.add_reader(r.fileno(), readable)
            await asyncio.sleep(0.1)
            self.assertEqual(got, [])  # nothing sent: never readable
            loop.call_later(0.05, w.send, "one")
            loop.call_later(0.1, w.send, "two")
            loop.call_later(0.2, w.close)
            await asyncio.wait_for(done.wait(), 30)
            return got

        self.assertEqual(asyncio.run(main()), ["one", "two", "EOF"])

    def test_exit_delivers_pipelined_sends(self):
        """Sends past the pipe's bound wait in the daemon; a sender that
        exits without close() still delivers them all, then EOF."""
        name = ipcdtest.fresh("p")
        r = ipcd.connect_pipe(name, 0, duplex=False, maxmsgs=4)
        child = run_python("""
            import ipcd
            w = ipcd.connect_pipe(%r, 1)
            for i in range(50):
                w.send(i)
        """ % name)
        self.assertEqual([r.recv() for _ in range(50)], list(range(50)))
        self.assertRaises(EOFError, r.recv)
        child.communicate(timeout=30)

    def test_eof_after_everything(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        a.send(1)
        a.send(2)
        a.close()
        self.assertTrue(b.poll())
        self.assertEqual([b.recv(), b.recv()], [1, 2])
        self.assertTrue(b.poll())  # EOF: recv would not block
        self.assertRaises(EOFError, b.recv)
        self.assertRaises(EOFError, b.recv_bytes)

    def test_broken_pipe(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        a.send(0)  # attach both
        b.recv()
        b.close()
        a.send(1)  # pipelined: its failure comes with the next call that waits
        self.assertRaises(BrokenPipeError, a.poll)
        self.assertRaises(EOFError, a.recv)  # raised once; now the EOF
        # A Connection that only sends learns it within _SEND_WINDOW sends.
        with self.assertRaises(BrokenPipeError):
            for _ in range(ipcd._SEND_WINDOW + 1):
                a.send_bytes(b"x")
        for _ in range(4):  # failures of sends answered after that one come first
            try:
                a.send(2)
                break
            except BrokenPipeError:
                pass
        self.assertRaises(BrokenPipeError, a.close)  # closed all the same
        self.assertTrue(a.closed)

    def test_closed_end(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        self.assertFalse(a.closed)
        a.close()
        a.close()  # idempotent
        self.assertTrue(a.closed)
        for call in (lambda: a.send(1), a.recv, a.poll, lambda: a.send_bytes(b""),
                     a.recv_bytes):
            self.assertRaises(OSError, call)

    def test_context_manager(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        with a:
            a.send("in with")
        self.assertTrue(a.closed)
        self.assertEqual(b.recv(), "in with")
        self.assertRaises(EOFError, b.recv)

    def test_big_message(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"), serializer=None)
        c = ipcd._ipcd.Client()
        limit = c.msg_max()
        c.close()
        a.send_bytes(b"y" * limit)
        self.assertEqual(len(b.recv_bytes()), limit)
        big = ipcdtest.MEMFD_MAX  # past msg_max: a memfd, up to this
        a.send_bytes(b"w" * big)
        self.assertEqual(b.recv_bytes(), b"w" * big)
        with self.assertRaises(ipcd.TooBigError) as cm:
            a.send_bytes(b"y" * (big + 1))
        self.assertIn(str(big), str(cm.exception))
        a.send(b"usable")
        self.assertEqual(b.recv(), b"usable")


class FeederTest(unittest.TestCase):
    """A Connection's sends go through a feeder of its own (a C thread
    with a connection that holds the end too)."""

    def test_sends_return_while_peer_does_not_read(self):
        """Up to _SEND_WINDOW sends return though the pipe holds 4 and
        nobody reads (the rest wait in the daemon); all arrive in order."""
        name = ipcdtest.fresh("p")
        r = ipcd.connect_pipe(name, 0, duplex=False, maxmsgs=4)
        w = ipcd.connect_pipe(name, 1)
        n = ipcd._SEND_WINDOW - 8
        done = []
        t = threading.Thread(target=lambda: done.append([w.send(i) for i in range(n)]))
        t.start()
        t.join(10)
        self.assertEqual(len(done), 1, "send() waited with %d unanswered" % n)
        self.assertEqual([r.recv() for _ in range(n)], list(range(n)))
        w.close()
        self.assertRaises(EOFError, r.recv)

    def test_small_and_large_keep_order(self):
        """Small sends (the feeder) and large ones (the Connection's own
        connection) arrive in the order sent."""
        a, b = ipcd.Pipe(ipcdtest.fresh("p"), serializer=None, maxmsgs=1024,
                         maxbytes=64 << 20)
        sent = []
        for i in range(300):
            data = (b"%d." % i) * (1 if i % 7 else ipcd._SEND_ALONE)
            sent.append(data)
            a.send_bytes(data)
        a.close()
        self.assertEqual([b.recv_bytes() for _ in sent], sent)
        self.assertRaises(EOFError, b.recv)

    def test_send_then_recv_same_end(self):
        """A duplex end that sends (feeder) and receives (its own
        connection): ping-pong between two processes."""
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                a.close()
                for _ in range(200):
                    b.send(b.recv() + 1)
                b.close()
                code = 0
            finally:
                os._exit(code)
        b.close()
        x = 0
        for _ in range(200):
            a.send(x)
            x = a.recv()
        self.assertEqual(x, 200)
        self.assertRaises(EOFError, a.recv)
        _, st = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)

    def test_recv_does_not_wait_for_parked_sends(self):
        """recv() on a duplex end whose own sends wait in the daemon for
        room (the peer does not read yet) returns what the peer sent: it
        does not wait for the answers of those sends."""
        a, b = ipcd.Pipe(ipcdtest.fresh("p"), maxmsgs=1)
        a.send("fills the pipe")
        a.send("waits in the daemon")
        b.send("reply")
        got = []
        t = threading.Thread(target=lambda: got.append(a.recv()))
        t.start()
        t.join(10)
        self.assertEqual(got, ["reply"])
        self.assertEqual([b.recv(), b.recv()], ["fills the pipe", "waits in the daemon"])

    def test_forked_child_does_not_hold_parents_feeder(self):
        """A child forked after the parent sent, which closes its copy of
        the end and lives on, does not keep the parent's feeder
        connection (and so the end) open: the reader sees EOF once the
        parent closed."""
        a, b = ipcd.Pipe(ipcdtest.fresh("p"), maxmsgs=4096)
        for i in range(1000):
            a.send(i)
        pid = os.fork()
        if pid == 0:
            try:
                a.close()
                b.close()
                time.sleep(30)
            finally:
                os._exit(0)
        try:
            a.close()
            self.assertEqual([b.recv() for _ in range(1000)], list(range(1000)))
            self.assertTrue(b.poll(10))
            self.assertRaises(EOFError, b.recv)
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def test_exit_sends_everything(self):
        """A sender that exits normally without close() right after a
        stream of sends delivers them all (the feeder is closed at exit)."""
        name = ipcdtest.fresh("p")
        r = ipcd.connect_pipe(name, 0, duplex=False)
        child = run_python("""
            import ipcd
            w = ipcd.connect_pipe(%r, 1)
            for i in range(20000):
                w.send(i)
        """ % name)
        self.assertEqual([r.recv() for _ in range(20000)], list(range(20000)))
        self.assertRaises(EOFError, r.recv)
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, err)


class AttachTest(unittest.TestCase):
    def test_connect_pipe_either_order(self):
        for first in (0, 1):
            name = ipcdtest.fresh("p")
            ends = {first: ipcd.connect_pipe(name, first)}
            ends[1 - first] = ipcd.connect_pipe(name, 1 - first)
            ends[1].send("to 0")
            self.assertEqual(ends[0].recv(), "to 0")
            ends[1].close()
            self.assertRaises(EOFError, ends[0].recv)

    def test_busy_and_closed(self):
        name = ipcdtest.fresh("p")
        a = ipcd.connect_pipe(name, 0)
        with self.assertRaises(ipcd.BusyError) as cm:
            ipcd.connect_pipe(name, 0)
        self.assertIsInstance(cm.exception, OSError)
        b = ipcd.connect_pipe(name, 1)
        b.close()
        with self.assertRaises(ipcd.ClosedError):
            ipcd.connect_pipe(name, 1)
        a.close()

    def test_kind_mismatch(self):
        name = ipcdtest.fresh("p")
        ipcd.connect_pipe(name, 0, duplex=False)
        self.assertRaises(ipcd.MismatchError, ipcd.connect_pipe, name, 1, duplex=True)
        w = ipcd.connect_pipe(name, 1)  # duplex=None: either kind
        self.assertFalse(w.readable)
        self.assertRaises(ipcd.NotFoundError, ipcd.connect_pipe, ipcdtest.fresh("p"), 0,
                          create=False)
        self.assertRaises(ipcd.InvalidError, ipcd.connect_pipe, ipcdtest.fresh("p"), 2)

    def test_unrelated_processes(self):
        name = ipcdtest.fresh("p")
        child = run_python("""
            import ipcd
            c = ipcd.connect_pipe(%r, 1)
            c.send(c.recv() + 1)
            c.close()
        """ % name)
        p = ipcd.connect_pipe(name, 0)
        p.send(41)
        self.assertEqual(p.recv(), 42)
        self.assertRaises(EOFError, p.recv)
        _, err = child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0, err)

    def test_peer_exit_is_eof(self):
        name = ipcdtest.fresh("p")
        child = run_python("""
            import os, ipcd
            ipcd.connect_pipe(%r, 1).send("bye")
            os._exit(0)
        """ % name)
        p = ipcd.connect_pipe(name, 0)
        self.assertEqual(p.recv(), "bye")
        self.assertRaises(EOFError, p.recv)
        child.communicate(timeout=30)


class ProcessTest(unittest.TestCase):
    def _seed_pattern(self, method):
        ctx = mp.get_context(method)
        r, w = ipcd.Pipe(ipcdtest.fresh("p"))
        out = ipcd.Queue(ipcdtest.fresh())
        p = ctx.Process(target=child_reader, args=((r, w), out))
        p.start()
        r.close()  # the parent's copy of the reading end
        for i in range(10):
            w.send(i)
        w.close()
        self.assertEqual(out.get(timeout=30), list(range(10)))
        p.join(30)
        self.assertEqual(p.exitcode, 0)

    def test_fork(self):
        self._seed_pattern("fork")

    def test_spawn(self):
        self._seed_pattern("spawn")

    def _held_seed_pattern(self, method):
        """The seed's pattern with both ends held (used) in the parent
        before the child starts: the child shares them, and the child's
        close of its reading copy does not close the parent's."""
        ctx = mp.get_context(method)
        r, w = ipcd.Pipe(ipcdtest.fresh("p"))
        out = ipcd.Queue(ipcdtest.fresh())
        self.assertFalse(r.poll())  # both ends attached here now
        w.send(-1)
        p = ctx.Process(target=child_reader, args=((r, w), out))
        p.start()
        r.close()
        for i in range(10):
            w.send(i)
        w.close()
        self.assertEqual(out.get(timeout=30), list(range(-1, 10)))
        p.join(30)
        self.assertEqual(p.exitcode, 0)

    def _held_writer_pattern(self, method):
        """The reader in the parent sees EOF only after the writer's last
        holder (the child) closed, though the parent closed its copy of
        the writing end right after starting the child."""
        ctx = mp.get_context(method)
        r, w = ipcd.Pipe(ipcdtest.fresh("p"))
        w.send("before")
        self.assertEqual(r.recv(), "before")
        p = ctx.Process(target=child_writer, args=((r, w),))
        p.start()
        w.close()
        got = []
        while True:
            try:
                got.append(r.recv())
            except EOFError:
                break
        self.assertEqual(got, [0, 1, 2, 3, 4, "last"])
        p.join(30)
        self.assertEqual(p.exitcode, 0)

    def test_held_ends_fork(self):
        self._held_seed_pattern("fork")
        self._held_writer_pattern("fork")

    def test_held_ends_spawn(self):
        self._held_seed_pattern("spawn")
        self._held_writer_pattern("spawn")

    def _unused_writer_eof(self, method, first=(), exitcode=0):
        """The child gets the writing end, which no process used, and
        exits without using it (after unpickling first, when spawned);
        the parent closes its copy: the parent's recv() raises EOFError,
        as with multiprocessing."""
        ctx = mp.get_context(method)
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        p = ctx.Process(target=child_exits, args=first + ((r, w),))
        p.start()
        w.close()
        p.join(30)
        self.assertEqual(p.exitcode, exitcode)
        self.assertTrue(r.poll(10), "no EOF within 10 s")
        self.assertRaises(EOFError, r.recv)

    def test_unused_end_eof_fork(self):
        self._unused_writer_eof("fork")

    def test_unused_end_eof_spawn(self):
        self._unused_writer_eof("spawn")

    def test_unused_end_eof_spawned_child_dead_before_unpickling(self):
        """A spawned child that dies before it unpickled (claimed) its
        share of the writing end: the parent's close() and the child's
        exit still give the parent's recv() EOFError."""
        self._unused_writer_eof("spawn", (DieOnUnpickle(),), 3)

    def test_unused_end_eof_sigkill(self):
        """A child killed with SIGKILL before it used its inherited
        writing end (nobody used it) lets go of it like an exit."""
        for method in ("fork", "spawn"):
            ctx = mp.get_context(method)
            r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
            ready = ctx.Event()
            p = ctx.Process(target=child_waits, args=((r, w), ready))
            p.start()
            w.close()
            self.assertTrue(ready.wait(30))
            self.assertFalse(r.poll(0.1))  # the child holds the end
            os.kill(p.pid, signal.SIGKILL)
            p.join(30)
            self.assertEqual(p.exitcode, -signal.SIGKILL)
            self.assertTrue(r.poll(10), "no EOF within 10 s (%s)" % method)
            self.assertRaises(EOFError, r.recv)

    def test_unused_reader_broken_pipe(self):
        """Likewise the other way: a forked child that exits without
        using its reading end, the parent's copy closed: the parent's
        sends raise BrokenPipeError."""
        r, w = ipcd.Pipe(ipcdtest.fresh("p"), duplex=False)
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        r.close()
        os.waitpid(pid, 0)
        with self.assertRaises(BrokenPipeError):
            for i in range(1000):
                w.send(i)
            w.close()  # raises a failure the sends have not raised yet

    def test_end_shared_with_forked_child(self):
        a, b = ipcd.Pipe(ipcdtest.fresh("p"))
        a.send("attached here")
        # Sends still buffered in the feeder at fork may arrive after the
        # child's (documented, see Connection); poll() waits for their
        # answers, so the order checked below is the one the test wants.
        a.poll()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                a.send("from child")
                a.close()
                code = 0
            except BaseException:
                code = 2
            os._exit(code)
        _, st = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        a.send("parent still holds it")
        self.assertEqual([b.recv(), b.recv(), b.recv()],
                         ["attached here", "from child", "parent still holds it"])
        a.close()
        self.assertRaises(EOFError, b.recv)

    def test_held_end_busy_for_unrelated_process(self):
        name = ipcdtest.fresh("p")
        a, b = ipcd.Pipe(name)
        a.send(1)
        child = run_python("""
            import sys, ipcd
            try:
                ipcd.connect_pipe(%r, 0)
            except ipcd.BusyError:
                sys.exit(0)
            sys.exit(1)
        """ % name)
        _, err = child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0, err)


class InterruptTest(unittest.TestCase):
    def test_ctrl_c_during_recv(self):
        name = ipcdtest.fresh("p")
        child = run_python("""
            import ipcd
            c = ipcd.connect_pipe(%r, 0)
            try:
                c.recv()
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            print(c.recv(), flush=True)
        """ % name)
        deadline = time.monotonic() + 10
        while True:
            try:
                if ipcd.stat(name)["getters"] == 1:
                    break
            except ipcd.NotFoundError:
                pass  # the child has not made it yet
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        child.send_signal(signal.SIGINT)
        self.assertEqual(child.stdout.readline().strip(), b"interrupted")
        ipcd.connect_pipe(name, 1).send("after")
        out, err = child.communicate(timeout=30)
        self.assertEqual(out.strip(), b"after", err)

    def test_ctrl_c_during_poll_on_armed_end(self):
        # fileno() arms the end: poll(None) then waits on the descriptor.
        name = ipcdtest.fresh("p")
        child = run_python("""
            import ipcd
            c = ipcd.connect_pipe(%r, 0)
            c.fileno()
            print("armed", flush=True)
            try:
                c.poll(None)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            print(c.poll(None), c.recv(), flush=True)
        """ % name)
        self.assertEqual(child.stdout.readline().strip(), b"armed")
        time.sleep(0.3)  # into the wait
        child.send_signal(signal.SIGINT)
        self.assertEqual(child.stdout.readline().strip(), b"interrupted")
        ipcd.connect_pipe(name, 1).send("after")
        out, err = child.communicate(timeout=30)
        self.assertEqual(out.strip(), b"True after", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
