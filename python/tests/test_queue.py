# SPDX-License-Identifier: MIT
"""ipcd.Queue: the behaviour multiprocessing.Queue users count on (what
CPython's test_queue and _test_multiprocessing check), the ipcd.Error
hierarchy, processes (fork, spawn, unrelated), threads, Ctrl-C, C interop
and at-least-once delivery."""
import multiprocessing as mp
import os
import pickle
import queue
import signal
import subprocess
import shutil
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
import unittest
from unittest import mock

import ipcdtest
import ipcd

SLACK = 0.5  # a timeout fires within this of when it should


def late_by(t0, w0, timeout):
    """How much later than timeout a call begun at t0 (time.monotonic())
    returned, less the time the daemon and this process waited for a CPU
    since w0 (ipcdtest.cpu_wait()): what ipcd is answerable for."""
    return time.monotonic() - t0 - (ipcdtest.cpu_wait() - w0) - timeout


def setUpModule():
    ipcdtest.start("--socket-mode", "0666")


def tearDownModule():
    ipcdtest.stop()


def child_put(q, items):
    """Process target: put items on q."""
    for i in items:
        q.put(i)


def child_get_one(q, out):
    """Process target: get one item (waiting) and put it on out."""
    out.put(("got", q.get(timeout=30)))


def child_pid_echo(q, out):
    """Process target: report this process's pid through both queues."""
    q.put(os.getpid())
    out.put(q.get(timeout=30))


def run_python(code, **kw):
    """Start a python child running code with the test environment."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def wait_for(pred, timeout=60.0):
    """Poll pred() until true; fail after timeout seconds (generous: it
    bounds only a failing run, and a child python can take seconds to
    start on a loaded machine)."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not met in %.1f s" % timeout)
        time.sleep(0.01)


def end_child(child):
    """Kill child if it still runs; reap it and close its pipes."""
    if child.poll() is None:
        child.kill()
    child.communicate()


class BasicTest(unittest.TestCase):
    def test_fifo_objects(self):
        q = ipcd.Queue(ipcdtest.fresh())
        items = [1, "two", (3.0, None), {"k": [b"v"]}, list(range(100))]
        for i in items:
            q.put(i)
        self.assertEqual([q.get() for _ in items], items)
        q.close()

    def test_fifo_many_messages(self):
        q = ipcd.Queue(ipcdtest.fresh(), 10)
        n = 200
        t = threading.Thread(target=lambda: [q.put(i) for i in range(n)])
        t.start()
        self.assertEqual([q.get(timeout=10) for _ in range(n)], list(range(n)))
        t.join()

    def test_nowait_and_classes(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1)
        self.assertRaises(queue.Empty, q.get_nowait)
        self.assertRaises(queue.Empty, q.get, False)
        q.put_nowait("a")
        self.assertRaises(queue.Full, q.put_nowait, "b")
        self.assertRaises(queue.Full, q.put, "b", False)
        self.assertEqual(q.get_nowait(), "a")
        try:
            q.get_nowait()
        except queue.Empty:
            pass  # the standard class itself, not a look-alike

    def test_get_timeout(self):
        q = ipcd.Queue(ipcdtest.fresh())
        for timeout in (0.05, 0.3, 1.0):
            t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
            self.assertRaises(queue.Empty, q.get, True, timeout)
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, timeout)
            self.assertLess(late_by(t0, w0, timeout), SLACK)

    def test_put_timeout(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1)
        q.put(1)
        for timeout in (0.05, 0.3, 1.0):
            t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
            self.assertRaises(queue.Full, q.put, 2, True, timeout)
            took = time.monotonic() - t0
            self.assertGreaterEqual(took, timeout)
            self.assertLess(late_by(t0, w0, timeout), SLACK)
        self.assertEqual(q.qsize(), 1)

    def test_get_many_timeout(self):
        q = ipcd.Queue(ipcdtest.fresh())
        t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
        self.assertRaises(queue.Empty, q.get_many, 10, True, 0.3)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.3)
        self.assertLess(late_by(t0, w0, 0.3), SLACK)

    def test_negative_timeout(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1)
        self.assertRaises(ValueError, q.get, True, -1)
        self.assertRaises(ValueError, q.put, 1, True, -0.5)
        self.assertRaises(ValueError, q.get_many, 1, True, -1)
        self.assertRaises(ValueError, q.get_ack, True, -1)
        # block=False ignores the timeout, as queue.Queue does
        self.assertRaises(queue.Empty, q.get, False, -1)

    def test_qsize_empty_full(self):
        q = ipcd.Queue(ipcdtest.fresh(), 2)
        self.assertEqual((q.qsize(), q.empty(), q.full()), (0, True, False))
        q.put(1)
        self.assertEqual((q.qsize(), q.empty(), q.full()), (1, False, False))
        q.put(2)
        self.assertEqual((q.qsize(), q.empty(), q.full()), (2, False, True))
        self.assertEqual(q.maxsize, 2)

    def test_unbounded(self):
        q = ipcd.Queue(ipcdtest.fresh(), 0)
        for i in range(2000):
            q.put(i)
        self.assertFalse(q.full())
        self.assertEqual(q.qsize(), 2000)
        self.assertEqual(len(q.get_many(1024)), 1024)
        self.assertEqual(q.get_many(1024)[-1], 1999)
        self.assertEqual(ipcd.Queue(ipcdtest.fresh(), -5).maxsize, 0)

    def test_zero_and_limit_size(self):
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        c = ipcd._ipcd.Client()
        limit = c.msg_max()
        c.close()
        q.put(b"")
        q.put(b"x" * limit)
        self.assertEqual(q.get(), b"")
        self.assertEqual(q.get(), b"x" * limit)
        # Past msg_max a message goes as a memfd, up to max-memfd-size.
        big = ipcdtest.MEMFD_MAX
        q.put(b"z" * big)
        self.assertEqual(q.get(), b"z" * big)
        with self.assertRaises(ipcd.TooBigError) as cm:
            q.put(b"x" * (big + 1))
        self.assertIsInstance(cm.exception, ValueError)
        self.assertIn(str(big), str(cm.exception))  # names the limit
        q.put(b"still usable")
        self.assertEqual(q.get(), b"still usable")
        # pickled objects too: the limit is on the pickle
        p = ipcd.Queue(ipcdtest.fresh())
        self.assertRaises(ipcd.TooBigError, p.put, bytes(big + 1))
        p.put(bytes(limit // 2))
        self.assertEqual(len(p.get()), limit // 2)

    def test_serializer_none(self):
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        q.put(b"abc")
        q.put(bytearray(b"de"))
        q.put(memoryview(b"fgh")[1:])
        self.assertEqual([q.get(), q.get(), q.get()], [b"abc", b"de", b"gh"])
        self.assertRaises(TypeError, q.put, "text")

    def test_custom_serializer_and_bad_one(self):
        class Upper:
            dumps = staticmethod(lambda s: s.upper().encode())
            loads = staticmethod(lambda b: b.decode())
        q = ipcd.Queue(ipcdtest.fresh(), serializer=Upper)
        q.put("hi")
        self.assertEqual(q.get(), "HI")
        self.assertRaises(ValueError, ipcd.Queue, ipcdtest.fresh(), serializer="json")

    def test_close(self):
        q = ipcd.Queue(ipcdtest.fresh())
        self.assertRaises(ValueError, q.join_thread)  # not closed yet
        q.put(1)
        q.close()
        q.close()  # idempotent
        self.assertRaises(ValueError, q.put, 2)
        self.assertRaises(ValueError, q.get)
        self.assertRaises(ValueError, q.qsize)
        q.join_thread()
        q.cancel_join_thread()
        # the queue itself stays, with what was put
        self.assertEqual(ipcd.Queue(q.name).get(timeout=5), 1)

    def test_put_many_get_many(self):
        q = ipcd.Queue(ipcdtest.fresh())
        self.assertEqual(q.put_many(range(50)), 50)
        self.assertEqual(q.get_many(20), list(range(20)))
        self.assertEqual(q.get_many(), list(range(20, 50)))
        self.assertRaises(queue.Empty, q.get_many, 5, False)
        self.assertRaises(ValueError, q.get_many, 0)
        self.assertRaises(ValueError, q.get_many, ipcd.BATCH_MAX + 1)
        self.assertEqual(q.put_many([]), 0)

    def test_put_many_mixed(self):
        """put_many of ints, bytes and str (pickled straight into the
        feeder), with one over the inline limit among them (a put of its
        own), of other objects (pickled by pickle), and of a generator: all
        arrive in order, each counted once."""
        q = ipcd.Queue(ipcdtest.fresh())
        big = bytes((1 << 20) + 1000)
        lists = ([1, b"x" * 65536, "s"], [1, big, 2, big, 3], [1, {"d": 1}, "s"],
                 (i for i in range(5)), [])
        for objs in lists:
            objs = list(objs)
            self.assertEqual(q.put_many(iter(objs) if len(objs) == 5 else objs), len(objs))
            got = []
            while len(got) < len(objs):
                got += q.get_many(timeout=5)
            self.assertEqual(got, objs)
        bad = [1, 2, lambda: 0]  # pickling fails before anything is put
        self.assertRaises(Exception, q.put_many, bad)
        self.assertTrue(q.empty())
        q.close()

    def test_put_many_full_counts(self):
        q = ipcd.Queue(ipcdtest.fresh(), 3)
        with self.assertRaises(queue.Full) as cm:
            q.put_many(["a", "b", "c", "d", "e"], timeout=0.2)
        self.assertEqual(cm.exception.count, 3)
        self.assertEqual(q.get_many(10), ["a", "b", "c"])

    def test_get_many_waits_for_first(self):
        q = ipcd.Queue(ipcdtest.fresh())
        threading.Timer(0.2, lambda: ipcd.Queue(q.name).put_many([1, 2])).start()
        got = q.get_many(10, timeout=10)
        while len(got) < 2:
            got += q.get_many(10, timeout=10)
        self.assertEqual(got, [1, 2])

    def test_readahead(self):
        q = ipcd.Queue(ipcdtest.fresh(), readahead=8)
        q.put_many(range(20))
        self.assertEqual([q.get() for _ in range(20)], list(range(20)))
        self.assertRaises(queue.Empty, q.get, True, 0.1)

    def test_pipelined_put_many_failure_surfaces(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name)
        self.assertEqual(q.put_many([1, 2]), 2)
        ipcd.delete(name)
        self.assertEqual(q.put_many([3, 4]), 2)  # not waited for
        ipcd.Queue(name)
        with self.assertRaises(ipcd.NotFoundError):
            q.qsize()
        self.assertEqual(q.qsize(), 0)

    def test_adaptive_readahead_gives_back(self):
        """A busy consumer reads ahead; once it spends time on an item,
        what it read ahead goes back to the head: another consumer gets
        it, in order."""
        name = ipcdtest.fresh()
        a, b = ipcd.Queue(name), ipcd.Queue(name)
        a.put_many(range(200))
        self.assertEqual([a.get() for _ in range(10)], list(range(10)))
        self.assertLess(ipcd.stat(name)["size"], 190)  # a holds some
        self.assertEqual(a.qsize(), 190)  # and counts them
        self.assertEqual(b.qsize(), ipcd.stat(name)["size"])  # b does not
        time.sleep(0.01)  # a slow item
        self.assertEqual(a.get(), 10)
        self.assertEqual(ipcd.stat(name)["size"], 189)  # every other one back
        self.assertEqual(b.get(), 11)

    def test_readahead_off(self):
        name = ipcdtest.fresh()
        a = ipcd.Queue(name, readahead=0)
        a.put_many(range(20))
        self.assertEqual([a.get() for _ in range(10)], list(range(10)))
        self.assertEqual(ipcd.stat(name)["size"], 10)

    def test_close_gives_back_readahead(self):
        name = ipcdtest.fresh()
        a = ipcd.Queue(name)
        a.put_many(range(50))
        self.assertEqual([a.get() for _ in range(5)], list(range(5)))
        a.close()
        self.assertEqual(ipcd.Queue(name).get_many(100, timeout=5), list(range(5, 50)))

    def test_exit_gives_back_readahead(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put_many(range(50))
        child = run_python("""
            import ipcd
            q = ipcd.Queue(%r)
            print([q.get() for _ in range(5)])
        """ % q.name)
        out, err = child.communicate(timeout=30)
        self.assertEqual(out.strip(), b"[0, 1, 2, 3, 4]", err)
        self.assertEqual(q.get_many(100, timeout=5), list(range(5, 50)))

    def test_get_ack_after_readahead_keeps_order(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put_many(range(20))
        self.assertEqual([q.get() for _ in range(5)], list(range(5)))
        with q.get_ack(timeout=5) as item:
            self.assertEqual(item, 5)
        self.assertEqual(q.get(), 6)

    def test_pipelined_put_failure_surfaces(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name)
        q.put(1)
        self.assertEqual(q.qsize(), 1)
        ipcd.delete(name)
        q.put(2)  # pipelined: the answer is not waited for
        ipcd.Queue(name)  # the name exists again, empty
        with self.assertRaises(ipcd.NotFoundError):
            q.qsize()  # the failed put is reported here
        self.assertEqual(q.qsize(), 0)  # reported once

    def test_pickle_by_name(self):
        q = ipcd.Queue(ipcdtest.fresh(), 5)
        q2 = pickle.loads(pickle.dumps(q))
        self.assertEqual((q2.name, q2.maxsize), (q.name, 5))
        q.put("x")
        self.assertEqual(q2.get(timeout=5), "x")


class BoundedPutTest(unittest.TestCase):
    """A put on a bounded queue returns once its message is in, as
    multiprocessing's returns once it took a slot: a blocking put waits
    for room, in order; Full and full() are exact at maxsize."""

    def test_blocking_put_waits_for_room(self):
        q = ipcd.Queue(ipcdtest.fresh(), 2)
        q.put(0)
        q.put(1)
        t = threading.Thread(target=q.put, args=(2,))
        t.start()
        wait_for(lambda: ipcd.stat(q.name)["putters"] == 1)
        time.sleep(0.2)
        self.assertTrue(t.is_alive())  # still waiting: the queue is full
        self.assertEqual((q.qsize(), q.full()), (2, True))
        self.assertEqual(q.get(timeout=5), 0)
        t.join(30)  # the get made room: the put is in, then returns
        self.assertFalse(t.is_alive())
        self.assertEqual((q.qsize(), q.full()), (2, True))
        self.assertEqual([q.get_nowait(), q.get_nowait()], [1, 2])
        q.close()

    def test_producer_never_ahead_by_more_than_maxsize(self):
        # A producer process putting 6 into a queue of 2 is stopped by the
        # third put until a get; each get lets exactly one more in.
        q = ipcd.Queue(ipcdtest.fresh(), 2)
        child = run_python("""
            import ipcd
            q = ipcd.Queue(%r, 2)
            for i in range(6):
                q.put(i)
                print(i, flush=True)
        """ % q.name)
        self.assertEqual([child.stdout.readline().strip() for _ in range(2)], [b"0", b"1"])
        wait_for(lambda: ipcd.stat(q.name)["putters"] == 1)
        for i in range(4):
            self.assertEqual(q.qsize(), 2)
            self.assertEqual(q.get(timeout=5), i)
            self.assertEqual(child.stdout.readline().strip(), str(i + 2).encode())
        self.assertEqual([q.get(timeout=5), q.get(timeout=5)], [4, 5])
        child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0)

    def test_put_nowait_full_exactly_at_maxsize(self):
        q = ipcd.Queue(ipcdtest.fresh(), 3)
        for i in range(3):
            self.assertEqual((q.qsize(), q.full()), (i, False))
            q.put_nowait(i)
        self.assertEqual((q.qsize(), q.full()), (3, True))
        self.assertRaises(queue.Full, q.put_nowait, "x")
        self.assertRaises(queue.Full, q.put, "y", False)
        self.assertEqual(q.get_nowait(), 0)
        self.assertFalse(q.full())
        q.put_nowait(3)  # the one slot the get freed
        self.assertRaises(queue.Full, q.put_nowait, "z")
        self.assertEqual([q.get_nowait() for _ in range(3)], [1, 2, 3])
        self.assertRaises(queue.Empty, q.get_nowait)
        q.close()

    def test_put_timeout_full_after_the_timeout(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1)
        q.put("a")
        t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
        self.assertRaises(queue.Full, q.put, "b", True, 0.2)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.assertLess(late_by(t0, w0, 0.2), SLACK)
        self.assertEqual(ipcd.stat(q.name)["putters"], 0)  # nothing left parked
        self.assertEqual((q.qsize(), q.full()), (1, True))
        self.assertEqual(q.get_nowait(), "a")
        self.assertRaises(queue.Empty, q.get_nowait)
        q.close()

    def test_later_puts_behind_parked_ones(self):
        # Parked puts are admitted in the order they came, whichever
        # connection sent them.
        name = ipcdtest.fresh()
        q, other = ipcd.Queue(name, 1), ipcd.Queue(name, 1)
        q.put("a")
        tb = threading.Thread(target=q.put, args=("b",))
        tb.start()
        wait_for(lambda: ipcd.stat(name)["putters"] == 1)
        tc = threading.Thread(target=other.put, args=("c", True, 30))
        tc.start()
        wait_for(lambda: ipcd.stat(name)["putters"] == 2)
        got = []
        g = threading.Thread(target=lambda: [got.append(other.get(timeout=30))
                                             for _ in range(4)])
        g.start()
        q.put("d", timeout=30)  # returns once "d" is in: after b and c
        for t in (g, tb, tc):
            t.join(30)
        self.assertEqual(got, ["a", "b", "c", "d"])
        q.close()
        other.close()

    def test_parked_put_failure_raised_by_that_put(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 1)
        q.put(1)
        failed = []

        def put():
            try:
                q.put(2)
            except ipcd.DeletedError as e:
                failed.append(e)
        t = threading.Thread(target=put)
        t.start()
        wait_for(lambda: ipcd.stat(name)["putters"] == 1)
        ipcd.delete(name)  # the waiting put fails with DeletedError
        t.join(30)
        self.assertEqual(len(failed), 1)
        q = ipcd.Queue(name, 1)  # the name exists again, empty
        self.assertEqual(q.qsize(), 0)
        q.put(4)
        self.assertEqual(q.get(timeout=5), 4)
        q.close()

    def test_durable_and_forced_off_wait(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1, pipelined=False)
        q.put(1)
        t = threading.Thread(target=q.put, args=(2,))
        t.start()
        wait_for(lambda: ipcd.stat(q.name)["putters"] == 1)
        self.assertTrue(t.is_alive())  # a plain put waits for room
        self.assertEqual([q.get(timeout=5), q.get(timeout=5)], [1, 2])
        t.join(30)


def held_credits(hold_ms=60000):
    """Credits taken within this block are held hold_ms (the feeder gives
    back the unspent ones only after that): tests that count them exactly
    must not race the 20 ms default on a loaded machine."""
    return mock.patch.object(ipcd, "_CREDIT_HOLD", hold_ms / 1000.0)


class CreditTest(unittest.TestCase):
    """On a bounded queue with room to spare, a thread's connection
    reserves slots (credits: at most 64, a quarter of the free room) and
    puts into them pipelined; reserved slots count toward maxsize for
    everyone, so Full stays exact; they are given back by close(), a
    killed process, 20 ms after the producer's last put, and forgotten
    by a delete."""

    @held_credits()
    def test_full_exact_with_credits(self):
        name = ipcdtest.fresh()
        p, o = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        p.put(0)  # reserves 64 and spends one
        st = ipcd.stat(name)
        self.assertEqual((st["size"], st["reserved"]), (1, 63))
        self.assertEqual((o.qsize(), o.full()), (1, False))
        for i in range(936):  # 1000 - 1 - 63
            o.put_nowait(i)
        self.assertTrue(o.full())
        self.assertRaises(queue.Full, o.put_nowait, "x")
        self.assertRaises(queue.Full, o.put, "y", True, 0.1)
        for i in range(63):  # p's reserved slots: never Full
            p.put_nowait(i)
        self.assertEqual(p.qsize(), 1000)
        self.assertEqual(ipcd.stat(name)["reserved"], 0)
        self.assertRaises(queue.Full, p.put_nowait, "z")  # none left, none granted
        self.assertEqual(o.get_nowait(), 0)
        p.close()
        o.close()

    def test_small_queue_gets_no_credits(self):
        q = ipcd.Queue(ipcdtest.fresh(), 7)  # 7 // 4 = 1 at the first put...
        q.put(0)
        self.assertEqual(ipcd.stat(q.name)["reserved"], 0)  # ...spent by it
        q = ipcd.Queue(ipcdtest.fresh(), 3)
        q.put(0)
        st = ipcd.stat(q.name)
        self.assertEqual((st["size"], st["reserved"]), (1, 0))

    def test_idle_producer_gives_back(self):
        """The boundary with two producers: one puts and goes idle holding
        63 slots; 20 ms later the daemon takes them back, so the other
        fills the queue to exactly maxsize, as with multiprocessing."""
        name = ipcdtest.fresh()
        p, o = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        p.put(0)
        wait_for(lambda: ipcd.stat(name)["reserved"] == 0, 10)
        for i in range(999):
            o.put_nowait(i)
        self.assertEqual((o.qsize(), o.full()), (1000, True))
        self.assertRaises(queue.Full, o.put_nowait, "x")
        self.assertRaises(queue.Full, p.put_nowait, "y")  # its slots are gone
        self.assertEqual(ipcd.stat(name)["reserved"], 0)
        self.assertEqual([o.get_nowait() for _ in range(3)], [0, 0, 1])
        p.put(1)  # credits again, in order
        self.assertEqual(p.qsize(), 998)
        p.close()
        o.close()

    def test_parked_put_admitted_when_idle_slots_go_back(self):
        """A put waiting for room is admitted when an idle producer's
        slots go back (here after 1 s), not when it closes."""
        name = ipcdtest.fresh()
        p, o = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        with held_credits(1000):
            p.put(0)
        n = 0
        try:
            while True:
                o.put_nowait(n)
                n += 1
        except queue.Full:
            pass
        t0 = time.monotonic()
        o.put("last", timeout=10)
        self.assertLess(time.monotonic() - t0, 1.0 + SLACK)
        self.assertEqual((o.qsize(), ipcd.stat(name)["reserved"]), (n + 2, 0))
        p.close()
        o.close()

    def test_put_after_slots_went_back_waits(self):
        """A producer whose feeder gave its slots back (idle 20 ms) while
        another filled the queue: its next put() does not spend them, it
        waits for room and returns only once its message has a slot."""
        name = ipcdtest.fresh()
        p, o = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        p.put(0)
        wait_for(lambda: ipcd.stat(name)["reserved"] == 0, 10)
        for i in range(999):
            o.put_nowait(i)
        seen = []

        def consume():
            time.sleep(0.3)
            seen.append(ipcd.stat(name)["putters"])
            seen.append(o.get(timeout=10))

        t = threading.Thread(target=consume)
        # t0 before start: the consumer's 0.3 s sleep begins after it.
        t0 = time.monotonic()
        t.start()
        p.put("late")
        waited = time.monotonic() - t0
        t.join()
        self.assertGreaterEqual(waited, 0.3)
        self.assertEqual(seen, [1, 0])
        self.assertEqual(o.qsize(), 1000)
        self.assertEqual([o.get_nowait() for _ in range(1000)][-1], "late")
        p.close()
        o.close()

    def test_stalled_feeder_keeps_its_slots(self):
        """The daemon does not take a feeder's slots back by itself: a
        feeder thread held off the CPU longer than 20 ms (here: told to
        hold them 60 s) still puts into them, never Full, never late."""
        name = ipcdtest.fresh()
        p, o = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        with held_credits():
            p.put(0)
        time.sleep(0.1)  # past the daemon's old 20 ms lease
        self.assertEqual(ipcd.stat(name)["reserved"], 63)
        for i in range(936):
            o.put_nowait(i)
        self.assertRaises(queue.Full, o.put_nowait, "x")
        for i in range(63):
            p.put_nowait(i)  # its slots: none was taken back
        self.assertEqual((p.qsize(), ipcd.stat(name)["reserved"]), (1000, 0))
        p.close()
        o.close()

    @held_credits()
    def test_close_gives_back(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1000)
        q.put(1)
        self.assertEqual(ipcd.stat(q.name)["reserved"], 63)
        q.close()
        wait_for(lambda: ipcd.stat(q.name)["reserved"] == 0)
        self.assertEqual(ipcd.stat(q.name)["size"], 1)

    def test_killed_producer_gives_back(self):
        q = ipcd.Queue(ipcdtest.fresh(), 1000)
        child = run_python("""
            import os, signal, ipcd
            q = ipcd.Queue(%r, 1000)
            for i in range(10):
                q.put(i)
            q.qsize()  # every put answered
            os.kill(os.getpid(), signal.SIGKILL)
        """ % q.name)
        child.communicate(timeout=30)
        self.assertEqual(child.returncode, -signal.SIGKILL)
        wait_for(lambda: ipcd.stat(q.name)["reserved"] == 0)
        self.assertEqual([q.get_nowait() for _ in range(10)], list(range(10)))

    def test_credited_puts_go_through_the_feeder(self):
        """Puts into reserved slots are handed to the Queue object's
        feeder thread, which holds the slots on its own connection and
        writes the puts in batches; every call that reads the queue
        waits for them, so they are there, in order."""
        q = ipcd.Queue(ipcdtest.fresh(), 1000)
        for i in range(300):
            q.put(i)
        self.assertTrue(q._feeder.running)
        self.assertEqual(q.qsize(), 300)
        self.assertEqual([q.get_nowait() for _ in range(300)], list(range(300)))
        q.close()
        self.assertFalse(q._feeder.running)  # close() ended it: slots given back
        wait_for(lambda: ipcd.stat(q.name)["reserved"] == 0)

    def test_order_kept_between_credited_and_waiting_puts(self):
        """A producer that outruns its consumer alternates between puts
        into reserved slots (the feeder sends them) and puts that wait for
        room on the thread's own connection (none granted near full):
        the feeder's puts are answered before such a put is made, so the
        consumer gets everything in order."""
        name = ipcdtest.fresh()
        p, c = ipcd.Queue(name, 40), ipcd.Queue(name, 40)
        n = 2000
        t = threading.Thread(target=lambda: [p.put(i) for i in range(n)])
        t.start()
        got = []
        while len(got) < n:
            got.append(c.get(timeout=30))
            if len(got) % 100 == 0:
                time.sleep(0.01)  # the queue fills up: no credits then
        t.join(30)
        self.assertEqual(got, list(range(n)))
        p.close()
        c.close()

    def test_threads_sharing_a_queue_keep_their_order(self):
        name = ipcdtest.fresh()
        q, c = ipcd.Queue(name, 1000), ipcd.Queue(name, 1000)
        n = 500

        def produce(k):
            for i in range(n):
                q.put((k, i))
        ts = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        got = [c.get(timeout=30) for _ in range(4 * n)]
        for t in ts:
            t.join(30)
        for k in range(4):
            self.assertEqual([i for kk, i in got if kk == k], list(range(n)))
        q.close()
        c.close()

    def test_forked_child_puts_through_a_feeder_of_its_own(self):
        """A child forked while the parent's feeder holds credits and
        sends starts its own (its own slots); each put arrives once, each
        producer's in order, and every slot goes back."""
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 1000)
        for i in range(100):
            q.put(("parent", i))
        for k in range(3):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    for i in range(100):
                        q.put(("child%d" % k, i))
                    q.close()
                    code = 0
                finally:
                    os._exit(code)
            for i in range(100):
                q.put(("parent", 100 + 100 * k + i))
            _, st = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        got = [q.get(timeout=10) for _ in range(700)]
        self.assertRaises(queue.Empty, q.get_nowait)
        for who, n in (("parent", 400), ("child0", 100), ("child1", 100), ("child2", 100)):
            self.assertEqual([i for w, i in got if w == who], list(range(n)))
        q.close()
        wait_for(lambda: ipcd.stat(name)["reserved"] == 0)

    def test_cancel_join_thread_still_waits_for_bounded_puts(self):
        """cancel_join_thread() does not make close() drop a bounded
        queue's puts: put() returned once each had a slot."""
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 1000)
        q.cancel_join_thread()
        for i in range(300):
            q.put(i)
        q.close()
        o = ipcd.Queue(name, 1000)
        self.assertEqual([o.get_nowait() for _ in range(300)], list(range(300)))
        o.close()

    def test_give_back_after_delete_is_no_failure(self):
        """The feeder's give-back of slots of a queue deleted since is no
        failure of a put: nothing is raised later."""
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 1000)
        q.put(1)
        ipcd.delete(name)
        time.sleep(0.2)  # the feeder gives back 20 ms after its last put
        o = ipcd.Queue(name, 1000)
        self.assertEqual(q.qsize(), 0)
        q.put(2)
        self.assertEqual(o.get(timeout=5), 2)
        q.close()
        o.close()

    @held_credits()
    def test_delete_forgets(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 1000)
        q.put(1)
        ipcd.delete(name)
        o = ipcd.Queue(name, 1000)
        self.assertEqual(ipcd.stat(name)["reserved"], 0)
        q.put(2)  # into a slot of the deleted queue: fails, raised next
        with self.assertRaises(ipcd.NotHeldError):
            q.qsize()
        q.put(3)
        self.assertEqual(o.get(timeout=5), 3)
        self.assertRaises(queue.Empty, o.get_nowait)
        q.close()
        o.close()


class HeldReadaheadTest(unittest.TestCase):
    """Read-ahead on a bounded queue is held: the messages keep their
    slots until get() hands them out, so Full stays exact; another
    consumer gets them once the hold (10 ms) runs out; a consumer that is
    killed gives them back in order."""

    def test_full_exact_with_readahead(self):
        name = ipcdtest.fresh()
        c, p = ipcd.Queue(name, 5, readahead=8), ipcd.Queue(name, 5)
        for i in range(5):
            p.put_nowait(i)
        for i in range(100):
            self.assertEqual(c.get_nowait(), i)
            if i == 0:  # 4 read ahead, still counted; 1 slot free
                st = ipcd.stat(name)
                self.assertEqual((st["size"], st["inflight"]), (0, 4))
                self.assertFalse(p.full())
            p.put_nowait(i + 5)  # the slot get() just freed, no other
            self.assertTrue(p.full())
            self.assertRaises(queue.Full, p.put_nowait, "x")
        self.assertEqual([c.get_nowait() for _ in range(5)], list(range(100, 105)))
        self.assertRaises(queue.Empty, c.get_nowait)
        st = ipcd.stat(name)
        self.assertEqual((st["size"], st["inflight"]), (0, 0))

    def test_put_waiting_for_room_admitted_by_get(self):
        """A get counts its hand-out in the page it shares with the
        daemon, writing nothing; a put waiting for room (another thread,
        another connection) still gets in at the next get, in order."""
        name = ipcdtest.fresh()
        c, p = ipcd.Queue(name, 5, readahead=8), ipcd.Queue(name, 5)
        for i in range(5):
            p.put_nowait(i)
        self.assertEqual(c.get_nowait(), 0)  # holds 1..4
        p.put_nowait(5)
        self.assertRaises(queue.Full, p.put_nowait, "x")
        done = []
        t = threading.Thread(target=lambda: done.append(p.put(6, timeout=10)))
        t.start()
        deadline = time.monotonic() + 10
        while ipcd.stat(name)["putters"] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        self.assertEqual(ipcd.stat(name)["putters"], 1)
        self.assertEqual(c.get_nowait(), 1)  # its slot lets 6 in
        t.join(10)
        self.assertEqual(done, [None])
        self.assertEqual([c.get_nowait() for _ in range(5)], list(range(2, 7)))
        self.assertRaises(queue.Empty, c.get_nowait)
        c.close()
        p.close()

    def test_second_consumer_not_starved(self):
        name = ipcdtest.fresh()
        a, b = ipcd.Queue(name, 100, readahead=64), ipcd.Queue(name, 100)
        a.put_many(range(10))
        self.assertEqual(a.get(), 0)  # a holds 1..9 and stops getting
        t0, w0 = time.monotonic(), ipcdtest.cpu_wait()
        self.assertEqual(b.get(timeout=10), 1)
        self.assertLess(late_by(t0, w0, 0), SLACK)  # the hold ran out
        self.assertEqual([b.get_nowait() for _ in range(8)], list(range(2, 10)))
        self.assertRaises(queue.Empty, a.get_nowait)  # never handed out twice
        self.assertEqual(ipcd.stat(name)["requeued"], 9)

    def test_adaptive_gives_back(self):
        name = ipcdtest.fresh()
        a, b = ipcd.Queue(name, 50), ipcd.Queue(name, 50)
        a.put_many(range(20))
        self.assertEqual([a.get() for _ in range(10)], list(range(10)))
        time.sleep(0.02)  # a slow item: what a read ahead goes back
        self.assertEqual(a.get(), 10)
        st = ipcd.stat(name)
        self.assertEqual((st["size"], st["inflight"]), (9, 0))
        self.assertEqual(b.get_nowait(), 11)

    def test_killed_consumer_gives_back_in_order(self):
        q = ipcd.Queue(ipcdtest.fresh(), 20)
        q.put_many(range(20))
        child = run_python("""
            import ipcd, time
            q = ipcd.Queue(%r, 20, readahead=64)
            print(q.get(), flush=True)
            time.sleep(60)
        """ % q.name)
        self.assertEqual(child.stdout.readline().strip(), b"0")
        self.assertEqual(ipcd.stat(q.name)["inflight"], 19)
        child.kill()
        child.communicate(timeout=30)
        # Read without read-ahead: a late get() of a reading-ahead
        # consumer gives its own holds back, and those count as requeued.
        plain = ipcd.Queue(q.name, 20, readahead=0)
        self.assertEqual([plain.get(timeout=10) for _ in range(19)], list(range(1, 20)))
        self.assertRaises(queue.Empty, plain.get_nowait)
        self.assertEqual(ipcd.stat(q.name)["requeued"], 19)
        plain.close()

    def test_c_consumer_alongside(self):
        """A C consumer (ipcctl get: ipc_queue_get) waiting while a Python
        consumer holds read-ahead gets the next message once the hold runs
        out; the Python consumer then carries on after it."""
        q = ipcd.Queue(ipcdtest.fresh(), 10, serializer=None, readahead=8)
        q.put_many([b"a", b"b", b"c"])
        self.assertEqual(q.get(), b"a")  # holds b, c
        rc, out = ipcdtest.ipcctl("get", q.name, "--timeout", "5")
        self.assertEqual((rc, out), (0, b"b"))
        self.assertEqual(q.get(timeout=5), b"c")
        self.assertRaises(queue.Empty, q.get_nowait)


class GetAnyTest(unittest.TestCase):
    def test_first_non_empty_in_order(self):
        a, b = ipcd.Queue(ipcdtest.fresh()), ipcd.Queue(ipcdtest.fresh(), serializer=None)
        self.assertRaises(queue.Empty, ipcd.get_any, [a, b], False)
        b.put(b"raw")
        a.put({"k": 1})
        self.assertEqual(ipcd.get_any([b, a]), (b, b"raw"))
        self.assertEqual(ipcd.get_any([b, a], timeout=1), (a, {"k": 1}))
        self.assertRaises(ValueError, ipcd.get_any, [])

    def test_waits_on_all(self):
        a, b = ipcd.Queue(ipcdtest.fresh()), ipcd.Queue(ipcdtest.fresh())
        t0 = time.monotonic()
        self.assertRaises(queue.Empty, ipcd.get_any, (a, b), True, 0.3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        t = threading.Timer(0.3, b.put, ("late",))
        t.start()
        self.assertEqual(ipcd.get_any((a, b), timeout=10), (b, "late"))
        t.join()
        self.assertEqual(ipcd.stat(a.name)["getters"], 0)
        self.assertEqual(ipcd.stat(b.name)["inflight"], 0)

    def test_select_loop_recipe(self):
        """The documented way to wait on queues and other descriptors in
        one loop: get_any in a thread, items handed over a Connection;
        a put by another process wakes it."""
        from multiprocessing.connection import wait
        a, b = ipcd.Queue(ipcdtest.fresh()), ipcd.Queue(ipcdtest.fresh())
        r, w = ipcd.Pipe(ipcdtest.fresh("p"))

        def feed():
            q, item = ipcd.get_any([a, b], timeout=30)
            w.send((q.name, item))

        t = threading.Thread(target=feed)
        t.start()
        self.assertEqual(wait([r], timeout=0.2), [])
        p = mp.get_context("fork").Process(target=b.put, args=("from child",))
        p.start()
        self.assertEqual(wait([r], timeout=30), [r])
        self.assertEqual(r.recv(), (b.name, "from child"))
        t.join(30)
        p.join(30)


class ErrorTest(unittest.TestCase):
    def test_not_found(self):
        with self.assertRaises(ipcd.NotFoundError) as cm:
            ipcd.Queue(ipcdtest.fresh(), create=False)
        e = cm.exception
        self.assertIsInstance(e, FileNotFoundError)
        self.assertIsInstance(e, ipcd.Error)
        self.assertEqual(e.code, ipcd._ipcd.IPC_ENOENT)
        self.assertTrue(e.detail)

    def test_mismatch_and_any(self):
        name = ipcdtest.fresh()
        ipcd.Queue(name, 3)
        with self.assertRaises(ipcd.MismatchError) as cm:
            ipcd.Queue(name, 4)
        self.assertEqual(cm.exception.code, ipcd._ipcd.IPC_EMISMATCH)
        self.assertEqual(ipcd.Queue(name, None).maxsize, 3)

    def test_bad_name(self):
        for bad in ("", ".hidden", "a b", "x" * 129):
            with self.assertRaises(ipcd.InvalidNameError) as cm:
                ipcd.Queue(bad)
            self.assertIsInstance(cm.exception, ValueError)

    def test_connect_error(self):
        with self.assertRaises(ipcd.ConnectError) as cm:
            ipcd.Queue("q", socket="/nonexistent/ipcd.sock")
        self.assertIsInstance(cm.exception, ConnectionError)
        self.assertIsInstance(cm.exception, ipcd.Error)

    def test_wrong_type(self):
        name = ipcdtest.fresh("p")
        ipcd.connect_pipe(name, 0)
        with self.assertRaises(ipcd.WrongTypeError):
            ipcd.Queue(name)

    def test_deleted_while_waiting(self):
        q = ipcd.Queue(ipcdtest.fresh())
        threading.Timer(0.3, ipcd.delete, (q.name,)).start()
        self.assertRaises(ipcd.DeletedError, q.get, True, 30)

    def test_permission(self):
        name = ipcdtest.fresh()
        ipcd.Queue(name)  # made by this user, mode 0660
        if os.getuid() == 0:
            # root may do anything: try as nobody, in a child
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.setgid(65534)
                    os.setuid(65534)
                    ipcd.Queue(name)
                except PermissionError as e:
                    code = 0 if isinstance(e, ipcd.Error) else 2
                except BaseException:
                    code = 3
                os._exit(code)
            _, st = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        else:
            rc, _ = ipcdtest.ipcctl("create", name + "x", "--mode", "0")
            self.assertEqual(rc, 0)
            self.assertRaises(ipcd.PermissionError, ipcd.Queue, name + "x")

    def test_owned(self):
        """owned=True opens only this user's (or root's) queue or pipe; a
        name another user took first raises PermissionError."""
        mine = ipcdtest.fresh()
        ipcd.Queue(mine)
        self.assertEqual(ipcd.Queue(mine, owned=True).maxsize, 0)
        ipcd.Queue(ipcdtest.fresh(), owned=True).put(1)  # a new one is created
        if os.getuid() != 0:
            self.skipTest("another user's queue needs root to make")
        name, pname = ipcdtest.fresh(), ipcdtest.fresh("p")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                ipcd.Queue(name)                   # the squatter's queue
                ipcd.connect_pipe(pname, 0).close()  # and pipe (end 1 free)
                code = 0
            except BaseException:
                code = 2
            os._exit(code)
        _, st = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        ipcd.Queue(name)  # without owned= it joins the squatter's queue
        with self.assertRaises(ipcd.PermissionError) as cm:
            ipcd.Queue(name, owned=True)
        self.assertIn("owned by uid 65534", cm.exception.detail)
        self.assertRaises(ipcd.PermissionError, ipcd.connect_pipe, pname, 1, owned=True)
        a, b = ipcd.Pipe(pname, owned=True)
        self.assertRaises(ipcd.PermissionError, b.send, "x")  # attached at first use
        self.assertEqual(pickle.loads(pickle.dumps(ipcd.Queue(mine, owned=True)))._owned, True)

    def test_thread_misuse_of_client(self):
        c = ipcd._ipcd.Client()
        c.close()
        self.assertFalse(c.alive)
        self.assertRaises(OSError, c.get, "x", 0)


class ProcessTest(unittest.TestCase):
    def _round_trip(self, method):
        ctx = mp.get_context(method)
        q = ipcd.Queue(ipcdtest.fresh())
        p = ctx.Process(target=child_put, args=(q, ["a", "b", "c"]))
        p.start()
        got = [q.get(timeout=30) for _ in range(3)]
        p.join(30)
        self.assertEqual(p.exitcode, 0)
        self.assertEqual(got, ["a", "b", "c"])

    def test_fork(self):
        self._round_trip("fork")

    def test_spawn(self):
        self._round_trip("spawn")

    def test_pipelined_puts_in_when_child_ends(self):
        # A child's last pipelined puts are answered before it exits, as
        # multiprocessing joins its feeder thread: all are in at join().
        q = ipcd.Queue(ipcdtest.fresh())
        p = mp.get_context("fork").Process(target=child_put, args=(q, range(3000)))
        p.start()
        p.join(60)
        self.assertEqual(p.exitcode, 0)
        self.assertEqual(q.qsize(), 3000)

    def test_parked_getter_woken_by_other_process(self):
        ctx = mp.get_context("fork")
        q = ipcd.Queue(ipcdtest.fresh())
        out = ipcd.Queue(ipcdtest.fresh())
        p = ctx.Process(target=child_get_one, args=(q, out))
        p.start()
        wait_for(lambda: ipcd.stat(q.name)["getters"] == 1)
        q.put("wake")
        self.assertEqual(out.get(timeout=30), ("got", "wake"))
        p.join(30)

    def test_fresh_connection_after_fork(self):
        q = ipcd.Queue(ipcdtest.fresh())
        out = ipcd.Queue(ipcdtest.fresh())
        q.put("before")  # the parent's connection is in use
        p = mp.get_context("fork").Process(target=child_pid_echo, args=(q, out))
        p.start()
        p.join(30)
        self.assertEqual(p.exitcode, 0)
        # the child worked on its own connection: it put its pid, then got
        # what the parent had put
        self.assertEqual(q.get(timeout=5), p.pid)
        self.assertEqual(out.get(timeout=5), "before")
        q.put("after")  # and the parent's connection still works
        self.assertEqual(q.get(timeout=5), "after")

    def test_unrelated_process(self):
        q = ipcd.Queue(ipcdtest.fresh())
        child = run_python("""
            import ipcd
            q = ipcd.Queue(%r)
            q.put(q.get(timeout=30) * 2)
        """ % q.name)
        q.put(21)
        _, err = child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(q.get(timeout=5), 42)


class ThreadTest(unittest.TestCase):
    def test_threads_share_a_queue(self):
        q = ipcd.Queue(ipcdtest.fresh(), 8)
        n, got, lock = 300, [], threading.Lock()

        def producer(base):
            for i in range(n):
                q.put(base + i)

        def consumer():
            for _ in range(n):
                v = q.get(timeout=30)
                with lock:
                    got.append(v)
        ts = [threading.Thread(target=producer, args=(k * 10000,)) for k in range(3)]
        ts += [threading.Thread(target=consumer) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(sorted(got), sorted(k * 10000 + i for k in range(3) for i in range(n)))

    def test_blocking_get_releases_gil(self):
        q = ipcd.Queue(ipcdtest.fresh())
        ticks = []
        t = threading.Thread(target=lambda: ticks.append(q.get(timeout=30)))
        t.start()
        t0 = time.monotonic()
        count = 0
        while time.monotonic() - t0 < 0.3:
            count += 1  # runs while the other thread waits in get
        q.put("done")
        t.join(30)
        self.assertEqual(ticks, ["done"])
        self.assertGreater(count, 1000)


def child_time_of_get(q, out):
    """Process target: get one item (waiting), report it and when it came."""
    item = q.get(timeout=60)
    out.put((item, time.monotonic()))


class FeederTest(unittest.TestCase):
    """An unbounded queue's puts go through this process's feeder thread
    (one per queue name): put() returns once the bytes are buffered, the
    thread sends them as batches. These check what that must not change:
    prompt delivery, a process sees its own puts, close() and exit flush,
    cancel_join_thread(), failures raised later, fork, threads."""

    def test_sync_during_a_lone_put_is_not_lost(self):
        # One thread's lone puts (spaced past the feeder's quiet time, so
        # the caller writes each itself while the thread keeps off) race
        # another thread's qsize(), which syncs: a sync that urged the
        # thread while a caller wrote was never woken again (the thread
        # and the sync waited for each other; 1-150 syncs in, on the
        # unfixed module). The child reports a sync still stuck 5 s after
        # the 3 s of racing.
        child = run_python("""
            import os, threading, time
            import ipcd
            q = ipcd.Queue(%r)
            stop, n = [False], [0]
            def putter():
                i = 0
                while not stop[0]:
                    q.put(i)
                    i += 1
                    t = time.perf_counter()
                    while time.perf_counter() - t < 0.00015:
                        pass
            def syncer():
                while not stop[0]:
                    q.qsize()
                    n[0] += 1
            p = threading.Thread(target=putter, daemon=True)
            s = threading.Thread(target=syncer, daemon=True)
            p.start()
            s.start()
            time.sleep(3)
            stop[0] = True
            s.join(5)
            print("stuck" if s.is_alive() else "ok", n[0], flush=True)
            os._exit(1 if s.is_alive() else 0)
        """ % ipcdtest.fresh())
        out, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, out + err)

    def test_lone_put_reaches_parked_getter_promptly(self):
        # The parent makes no other call on q after put(): only the
        # feeder (woken, or the caller writing itself) can deliver it.
        ctx = mp.get_context("fork")
        q, out = ipcd.Queue(ipcdtest.fresh()), ctx.SimpleQueue()
        p = ctx.Process(target=child_time_of_get, args=(q, out))
        p.start()
        wait_for(lambda: ipcd.stat(q.name)["getters"] == 1)
        t0 = time.monotonic()
        q.put("lone")
        item, t1 = out.get()
        p.join(30)
        self.assertEqual(item, "lone")
        self.assertLess(t1 - t0, 5.0)  # ms on a quiet machine; never without a wake

    def test_put_then_get_nowait_same_process(self):
        # multiprocessing does not promise it; ipcd does: a call that
        # reads the queue waits until this process's puts are answered.
        q = ipcd.Queue(ipcdtest.fresh())
        other = ipcd.Queue(q.name)  # another object of the name: same feeder
        for i in range(200):
            q.put(i)
            self.assertEqual(q.get_nowait(), i)
        q.put_many(range(3000))
        self.assertEqual(q.qsize(), 3000)
        self.assertFalse(other.empty())
        self.assertEqual(ipcd.stat(q.name)["size"], 3000)
        got = []
        while len(got) < 3000:
            got += other.get_many(ipcd.BATCH_MAX, False)
        self.assertEqual(got, list(range(3000)))
        q.put("a")
        self.assertEqual(ipcd.get_any([other], block=False), (other, "a"))
        t = threading.Thread(target=q.put_many, args=(range(1000),))
        t.start()
        t.join()
        self.assertEqual(other.qsize(), 1000)  # a put of another thread too

    def test_big_message_keeps_order(self):
        # Past msg_max a put is made by the caller (a memfd), after the
        # feeder's puts are answered: order is kept either side of it.
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        big = b"b" * (ipcd._ipcd.Client().msg_max() + 1)
        q.put(b"1")
        q.put(big)
        q.put(b"2")
        q.put_many([b"3", big, b"4"])
        self.assertEqual([q.get(timeout=5) for _ in range(6)],
                         [b"1", big, b"2", b"3", big, b"4"])

    def test_large_and_small_keep_order(self):
        # The feeder sends a message of 16 KiB or more in a put of its
        # own and runs of smaller ones as batches: one order for all.
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        items = [bytes([i]) * (20000 if i % 3 == 0 else 10) for i in range(60)]
        for it in items[:30]:
            q.put(it)
        q.put_many(items[30:])
        got = []
        while len(got) < 60:
            got += q.get_many(ipcd.BATCH_MAX, timeout=5)
        self.assertEqual(got, items)

    def test_close_flushes(self):
        # close() waits for every put to be answered: os._exit() right
        # after it (no exit hooks) loses nothing.
        q = ipcd.Queue(ipcdtest.fresh())
        child = run_python("""
            import os, ipcd
            q = ipcd.Queue(%r)
            for i in range(20000):
                q.put(i)
            q.close()
            os._exit(0)
        """ % q.name)
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(q.qsize(), 20000)
        self.assertEqual(q.get_many(5)[:2], [0, 1])

    def test_exit_flushes(self):
        q = ipcd.Queue(ipcdtest.fresh())
        child = run_python("""
            import ipcd
            q = ipcd.Queue(%r)
            q.put_many(range(20000))
        """ % q.name)  # no close(): exiting waits for the feeder
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(q.qsize(), 20000)

    def test_put_failure_raised_by_next_put(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name)
        q.put(1)
        ipcd.delete(name)  # waits for put(1): it is deleted with the queue
        q.put(2)  # the daemon answers "no such queue"
        q._feeder.sync(False)  # the answer is read, the failure kept
        ipcd.Queue(name)  # the name exists again, empty
        with self.assertRaises(ipcd.NotFoundError) as cm:
            q.put(3)  # raises the failure and puts nothing
        self.assertIn("1 message not put", cm.exception.detail)
        q.put(4)
        self.assertEqual(q.get(timeout=5), 4)
        self.assertRaises(queue.Empty, q.get_nowait)

    def test_put_failure_raised_by_close(self):
        name = ipcdtest.fresh()
        q = ipcd.Queue(name)
        q.put_many(range(10))
        ipcd.delete(name)
        q.put_many(range(10))
        with self.assertRaises(ipcd.NotFoundError) as cm:
            q.close()
        self.assertIn("10 messages not put", cm.exception.detail)
        q.close()  # once

    @unittest.skipUnless(os.getuid() == 0, "needs root to put as another user")
    def test_permission_failure_surfaces(self):
        name = ipcdtest.fresh()
        rc, _ = ipcdtest.ipcctl("create", name, "--mode", "0666")
        self.assertEqual(rc, 0)
        up_r, up_w = os.pipe()  # child to parent
        down_r, down_w = os.pipe()  # parent to child
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                q = ipcd.Queue(name)
                q.put(1)
                q.qsize()  # put(1) is in
                os.write(up_w, b"1")
                os.read(down_r, 1)  # the owner takes the write permission away
                q.put(2)
                try:
                    q.close()
                except ipcd.PermissionError:
                    code = 0
            finally:
                os._exit(code)
        for fd in (up_w, down_r):
            os.close(fd)
        got = os.read(up_r, 1)
        if got:
            self.assertEqual(ipcdtest.ipcctl("chmod", name, "0644")[0], 0)
        os.write(down_w, b"1")
        _, st = os.waitpid(pid, 0)
        for fd in (up_r, down_w):
            os.close(fd)
        self.assertEqual(got, b"1")
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        self.assertEqual(ipcd.stat(name)["size"], 1)

    def _put_many_changed(self, change):
        """put_many() of 20 bytes objects of 512 KiB with the daemon
        stopped: part way through it waits for room in the feeder (the
        GIL released, signal handlers run), and a SIGALRM handler calls
        change(objs) then. put_many must put the 20 items it was given
        and say so."""
        daemon, sock = ipcdtest.private(self, "ipcd-pykeep-")
        q = ipcd.Queue("keep", socket=sock)
        q.put(-1)
        self.assertEqual(q.get(timeout=5), -1)  # the feeder is connected
        size, n = 512 << 10, 20
        objs = [bytes([i]) * size for i in range(n)]
        changed = []

        def handler(signum, frame):
            change(objs)
            changed.append(True)
            daemon.send_signal(signal.SIGCONT)

        old = signal.signal(signal.SIGALRM, handler)
        daemon.send_signal(signal.SIGSTOP)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.3)  # put_many waits by then
            self.assertEqual(q.put_many(objs), n)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            daemon.send_signal(signal.SIGCONT)
        self.assertEqual(changed, [True])  # during put_many: it waited for it
        for i in range(n):
            got = q.get(timeout=10)
            self.assertTrue(got == bytes([i]) * size, "item %d: %r" % (i, got[:8]))
        self.assertTrue(q.empty())
        q.close()

    def test_put_many_keeps_its_items(self):
        """put_many() writes each pickle straight from the bytes object:
        replacing the list's items while it waits does not change what is
        put. Unfixed, the items fed after the wait were copied from the
        replaced objects, freed by then: their memory held the new ones
        (0xee, made in this thread's malloc arena)."""
        def swap(objs):
            for k in range(len(objs)):
                objs[k] = b"\xee" * len(objs[k])
        self._put_many_changed(swap)

    def test_put_many_of_a_list_that_shrinks(self):
        """Items deleted from the list while put_many() waits: it still
        puts the 20 it was given and returns 20 (it raised IndexError
        after putting them all, taking objs[20] for one over msg_max)."""
        self._put_many_changed(lambda objs: objs.clear())

    def test_daemon_limit_failure_surfaces(self):
        _, sock = ipcdtest.private(self, "ipcd-pylim-", "--max-bytes", "262144")
        q = ipcd.Queue("lim", socket=sock, serializer=None)
        q.put_many([bytes(1024)] * 1000)  # over max-bytes in all
        with self.assertRaises(ipcd.LimitError) as cm:
            q.qsize()
        self.assertIn("max-bytes", cm.exception.detail)
        self.assertLess(q.qsize(), 1000)

    def _stopped_daemon_child(self, code):
        """A python child on a daemon of its own, which the test stops
        (SIGSTOP) once the child's queue is open and its feeder connected
        (one put made): (daemon, sock, child)."""
        daemon, sock = ipcdtest.private(self, "ipcd-pystop-")
        self.addCleanup(daemon.send_signal, signal.SIGCONT)
        child = run_python(textwrap.dedent("""
            import ipcd, sys
            q = ipcd.Queue("stop", socket=%r)
            q.put(-1)  # the feeder's connection is made
            q.qsize()
            print("open", flush=True)
            sys.stdin.readline()
        """ % sock) + textwrap.dedent(code), stdin=subprocess.PIPE)
        self.addCleanup(end_child, child)
        self.assertEqual(child.stdout.readline().strip(), b"open")
        daemon.send_signal(signal.SIGSTOP)
        child.stdin.write(b"go\n")
        child.stdin.flush()
        return daemon, sock, child

    def test_exit_waits_for_feeder(self):
        daemon, sock, child = self._stopped_daemon_child("""
            q.put_many(range(5000))
        """)
        time.sleep(0.5)
        self.assertIsNone(child.poll())  # exiting waits for the answers
        daemon.send_signal(signal.SIGCONT)
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(ipcd.stat("stop", socket=sock)["size"], 5001)

    def test_cancel_join_thread(self):
        daemon, sock, child = self._stopped_daemon_child("""
            q.put_many(range(5000))
            q.cancel_join_thread()
            q.close()
            q.join_thread()
            print("closed", flush=True)
        """)
        self.assertEqual(child.stdout.readline().strip(), b"closed")
        _, err = child.communicate(timeout=60)  # exits with the daemon stopped
        self.assertEqual(child.returncode, 0, err)

    def test_ctrl_c_during_close(self):
        daemon, sock, child = self._stopped_daemon_child("""
            q.put_many(range(5000))
            try:
                q.close()
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            sys.stdin.readline()
            q.join_thread()  # the feeder went on: wait for it again
            print("joined", flush=True)
        """)
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        self.assertEqual(child.stdout.readline().strip(), b"interrupted")
        daemon.send_signal(signal.SIGCONT)
        child.stdin.write(b"go\n")
        child.stdin.flush()
        self.assertEqual(child.stdout.readline().strip(), b"joined")
        _, err = child.communicate(timeout=60)
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(ipcd.stat("stop", socket=sock)["size"], 5001)

    def test_fork_with_unsent_puts(self):
        # Puts buffered at fork are the parent's: the child starts a
        # feeder of its own and never sends them; each put arrives once.
        q = ipcd.Queue(ipcdtest.fresh())
        r, w = os.pipe()
        for rnd in range(20):
            q.put_many(range(rnd * 1000, rnd * 1000 + 1000))
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    if q._feeder.pending == 0:  # the parent's are not its
                        q.put(("child", rnd))
                        q.close()
                        code = 0
                finally:
                    os._exit(code)
            _, st = os.waitpid(pid, 0)
            self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        os.close(r)
        os.close(w)
        got = q.get_many(ipcd.BATCH_MAX, timeout=5)
        while len(got) < 20020:
            got += q.get_many(ipcd.BATCH_MAX, timeout=5)
        self.assertRaises(queue.Empty, q.get_nowait)
        self.assertEqual([g for g in got if isinstance(g, int)], list(range(20000)))
        self.assertEqual(sorted(g for g in got if isinstance(g, tuple)),
                         [("child", i) for i in range(20)])

    def test_threads_put_through_one_feeder(self):
        q = ipcd.Queue(ipcdtest.fresh())
        n = 3000

        def producer(k):
            for i in range(n):
                q.put((k, i))
        ts = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(q.qsize(), 4 * n)  # every thread's puts are in
        got = []
        while len(got) < 4 * n:
            got += q.get_many(ipcd.BATCH_MAX)
        for k in range(4):  # each thread's in its order
            self.assertEqual([i for kk, i in got if kk == k], list(range(n)))


class InterruptTest(unittest.TestCase):
    def _interrupted(self, code, q, field):
        child = run_python(code)
        wait_for(lambda: ipcd.stat(q.name)[field] == 1)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        self.assertEqual(child.returncode, 0, err)
        return out

    def test_ctrl_c_during_get_consumes_nothing(self):
        q = ipcd.Queue(ipcdtest.fresh())
        out = self._interrupted("""
            import ipcd
            q = ipcd.Queue(%r)
            try:
                q.get()
            except KeyboardInterrupt:
                print("interrupted")
        """ % q.name, q, "getters")
        self.assertEqual(out.strip(), b"interrupted")
        q.put("kept")
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get_nowait(), "kept")
        self.assertEqual(ipcd.stat(q.name)["getters"], 0)

    def test_ctrl_c_during_readahead_get(self):
        q = ipcd.Queue(ipcdtest.fresh())
        out = self._interrupted("""
            import ipcd
            q = ipcd.Queue(%r)
            q.put_many(range(3))
            print([q.get() for _ in range(3)], flush=True)  # reads ahead
            try:
                q.get()
            except KeyboardInterrupt:
                print("interrupted")
        """ % q.name, q, "getters")
        self.assertEqual(out.split(), [b"[0,", b"1,", b"2]", b"interrupted"])
        q.put("kept")
        self.assertEqual(q.get_nowait(), "kept")
        self.assertEqual(ipcd.stat(q.name)["getters"], 0)

    def test_ctrl_c_during_put(self):
        for args in ('', ', timeout=60'):  # blocking forever, or with a timeout
            q = ipcd.Queue(ipcdtest.fresh(), 1)
            q.put("first")
            out = self._interrupted("""
                import ipcd
                q = ipcd.Queue(%r, 1)
                try:
                    q.put("second"%s)
                except KeyboardInterrupt:
                    print("interrupted")
            """ % (q.name, args), q, "putters")
            self.assertEqual(out.strip(), b"interrupted")
            self.assertEqual(q.get_nowait(), "first")
            self.assertRaises(queue.Empty, q.get, True, 0.3)
            self.assertEqual(ipcd.stat(q.name)["putters"], 0)


class WaitInPlaceTest(unittest.TestCase):
    """A put waiting for room keeps its place among the waiting puts
    however long it waits (the extension checks for signals every 0.1 s
    without taking it out of the daemon's line)."""

    def _in_order(self, put_b):
        name = ipcdtest.fresh()
        q, first = (ipcd.Queue(name, 1, serializer=None) for _ in range(2))
        q.put_nowait(b"a")
        tb = threading.Thread(target=put_b, args=(first,))
        tb.start()
        wait_for(lambda: ipcd.stat(name)["putters"] == 1)
        # c waits in the daemon once, for good: a C client's put.
        other = ipcd._ipcd.Client()
        other.put_async(name, b"c", True, 0)
        wait_for(lambda: ipcd.stat(name)["putters"] == 2)
        # Several 0.1 s checks of b's wait after c came: each one used to
        # end b's request and send it again, behind c.
        time.sleep(0.35)
        got = [q.get(timeout=30) for _ in range(3)]
        tb.join(30)
        other.flush()
        other.close()
        self.assertEqual(got, [b"a", b"b", b"c"])
        q.close()
        first.close()

    def test_timeout_put_keeps_its_place(self):
        self._in_order(lambda q: q.put(b"b", True, 30))

    def test_put_many_keeps_its_place(self):
        self._in_order(lambda q: q.put_many([b"b"], True, 30))


class PickleTest(unittest.TestCase):
    """The default serializer writes what pickle.dumps(obj, 5) writes and
    reads any pickle, with its own code for an int, bytes or str."""
    SIZES = list(range(0, 600, 7)) + list(range(65400, 65700)) + [1 << 20]
    OBJS = ([-2 ** 31 - 1, -2 ** 31, -1, 0, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31]
            + [bytes(range(256)) * (n // 256) + bytes(n % 256) for n in SIZES]
            + ["\u00e9" * (n // 2) + "a" * (n % 2) for n in SIZES]
            + ["", "\ud800", True, None, 1.5, bytearray(b"ab"), [1, "a"]])

    def test_same_bytes_as_pickle(self):
        for obj in self.OBJS:
            data = pickle.dumps(obj, 5)
            self.assertEqual(ipcd._ipcd.pickle_dumps(obj), data)
            for src in (data, memoryview(data), bytearray(data)):
                got = ipcd._ipcd.pickle_loads(src)
                self.assertIs(type(got), type(obj))
                self.assertEqual(got, obj)

    def test_reads_what_pickle_reads(self):
        """Other protocols, other framing: pickle's answer, errors too."""
        for obj in (7, b"x" * 300, "s"):
            for proto in range(0, 6):
                self.assertEqual(ipcd._ipcd.pickle_loads(pickle.dumps(obj, proto)), obj)
        for bad in (b"", b"\x80\x05", b"\x80\x05K", b"\x80\x05C\x05ab\x94.",
                    b"\x80\x05\x95\x09\x00\x00\x00\x00\x00\x00\x00M90.", "str"):
            with self.assertRaises(Exception) as want:
                pickle.loads(bad)
            with self.assertRaises(type(want.exception)):
                ipcd._ipcd.pickle_loads(bad)

    def test_wire_is_pickle(self):
        """A serializer=None reader gets pickle.dumps(obj, 5), one-at-a-time
        and batched."""
        name = ipcdtest.fresh()
        q, raw = ipcd.Queue(name), ipcd.Queue(name, serializer=None)
        objs = [12345, b"b" * 64, bytes(65536), "str", {"k": 1}]
        q.put_many(objs)
        for o in objs:
            q.put(o)
        got = raw.get_many(100, timeout=5)
        while len(got) < 2 * len(objs):
            got += raw.get_many(100, timeout=5)
        self.assertEqual(got, [pickle.dumps(o, 5) for o in objs] * 2)
        q.close()

    def test_put_get_every_shape(self):
        """Each object above through put() (an int, bytes or str pickled
        straight into the feeder's buffer, the rest by pickle, over msg_max
        as a put of its own) and get() (unpickled from the library's copy):
        the wire holds pickle.dumps(obj, 5), get() returns an equal object
        of its type, in order."""
        name = ipcdtest.fresh()
        q, raw = ipcd.Queue(name), ipcd.Queue(name, serializer=None)
        for obj in self.OBJS:
            q.put(obj)
        for obj in self.OBJS:
            self.assertEqual(raw.get(timeout=5), pickle.dumps(obj, 5))
        for obj in self.OBJS:
            q.put(obj)
        for obj in self.OBJS:
            got = q.get(timeout=5)
            self.assertIs(type(got), type(obj))
            self.assertEqual(got, obj)
        self.assertTrue(q.empty())
        q.close()
        raw.close()

    def test_get_many_unpickles_from_receive_buffer(self):
        """get_many makes each int, bytes or str once, from the receive
        buffer (was a bytes of the pickle, then the object: the batch
        twice in memory); other objects and their order are as pickle's."""
        q = ipcd.Queue(ipcdtest.fresh())
        q.put_many([bytes(65536)] * 64)
        q.put_many([1, "s", [2], b"b", None, 2 ** 40])
        tracemalloc.start()
        try:
            got = q.get_many(64, timeout=5)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertEqual(got, [bytes(65536)] * 64)
        self.assertLess(peak, 64 * 65536 * 1.25)
        self.assertEqual(q.get_many(10, timeout=5), [1, "s", [2], b"b", None, 2 ** 40])
        q.close()

    def test_batches_of_64_kib_reuse_memory(self):
        """put_many/get_many of 64 x 64 KiB in a fresh process: the freed
        batch is kept for the next (was 45 page faults a message, every
        batch faulting its pages in again after glibc trimmed the heap)."""
        child = run_python("""
            import resource, ipcd
            q = ipcd.Queue(%r)
            objs = [bytes(65536)] * 64
            def faults():
                return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for i in range(24):
                if i == 4:
                    f0 = faults()
                q.put_many(objs)
                assert len(q.get_many(64, timeout=10)) == 64
            print((faults() - f0) / (20 * 64))
            """ % ipcdtest.fresh())
        out, err = child.communicate(timeout=120)
        self.assertEqual(child.returncode, 0, err)
        self.assertLess(float(out), 8.0)


class InteropTest(unittest.TestCase):
    def test_ipcctl_to_python(self):
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        rc, _ = ipcdtest.ipcctl("put", q.name, input=b"from C\x00\xff")
        self.assertEqual(rc, 0)
        self.assertEqual(q.get(timeout=5), b"from C\x00\xff")

    def test_python_to_ipcctl(self):
        q = ipcd.Queue(ipcdtest.fresh(), serializer=None)
        q.put(b"\x01from python")
        rc, out = ipcdtest.ipcctl("get", q.name, "--timeout", "5")
        self.assertEqual((rc, out), (0, b"\x01from python"))

    def test_c_producer(self):
        """The C queue_demo (libipcclient) putting to a Python consumer on
        its bounded queue (Python to C: test_python_to_ipcctl)."""
        demo = os.environ.get("QUEUE_DEMO_BIN")
        if not demo or not os.path.exists(demo):
            self.skipTest("examples/queue_demo not built")
        sock = os.environ["IPCD_SOCKET"]
        name = ipcdtest.fresh()
        q = ipcd.Queue(name, 2, serializer=None)
        p = subprocess.Popen([demo, "-s", sock, "putter", name],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        got = [q.get(timeout=30) for _ in range(5)]
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        put = [line.split()[-1] for line in out.splitlines() if b"put value" in line]
        self.assertEqual(len(got), 5)
        self.assertEqual([float(g) for g in got], [float(x) for x in put])


class AckTest(unittest.TestCase):
    def test_ack_on_normal_exit(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put("job")
        with q.get_ack(timeout=5) as item:
            self.assertEqual(item, "job")
            self.assertEqual(ipcd.stat(q.name)["inflight"], 1)
        st = ipcd.stat(q.name)
        self.assertEqual((st["size"], st["inflight"]), (0, 0))

    def test_redelivered_when_block_raises(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put_many(["job", "later"])
        with self.assertRaises(RuntimeError):
            with q.get_ack(timeout=5) as item:
                self.assertEqual(item, "job")
                raise RuntimeError("handler failed")
        self.assertEqual(q.get(timeout=5), "job")  # back at the head
        self.assertEqual(q.get(timeout=5), "later")

    def test_get_ack_empty(self):
        q = ipcd.Queue(ipcdtest.fresh())
        t0 = time.monotonic()
        with self.assertRaises(queue.Empty):
            with q.get_ack(timeout=0.2):
                pass
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)

    def test_lease_runs_out(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put("slow")
        other = ipcd.Queue(q.name)
        with self.assertRaises(ipcd.NotHeldError):
            with q.get_ack(timeout=5, lease=0.2) as item:
                self.assertEqual(item, "slow")
                # someone else gets it once the lease ran out
                self.assertEqual(other.get(timeout=5), "slow")
        self.assertRaises(ValueError, q.get_ack, True, 1, -1)

    def test_redelivered_after_sigkill(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put("survives")
        child = run_python("""
            import ipcd, time
            q = ipcd.Queue(%r)
            with q.get_ack(timeout=30) as item:
                print(item, flush=True)
                time.sleep(60)
        """ % q.name)
        self.assertEqual(child.stdout.readline().strip(), b"survives")
        self.assertEqual(ipcd.stat(q.name)["inflight"], 1)
        child.kill()
        child.communicate(timeout=30)
        self.assertEqual(q.get(timeout=10), "survives")
        self.assertEqual(ipcd.stat(q.name)["requeued"], 1)


class DurableTest(unittest.TestCase):
    """durable=True: the queue and its messages survive a restart of ipcd,
    even a kill -9 (a put that returned is journaled)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ipcd-pydur-")
        self.sock = os.path.join(self.dir, "ipcd.sock")
        self.log = open(os.path.join(self.dir, "ipcd.log"), "wb")
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            ipcdtest.stop_process(self.daemon)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, state_dir):
        self.daemon = ipcdtest.spawn(self.sock, self.log, "--state-dir", state_dir,
                                     "--sync", "none")

    def test_survives_kill_9(self):
        state = os.path.join(self.dir, "state")
        self.start(state)
        bounded = ipcd.Queue("dur-b", 5, socket=self.sock, durable=True)
        unbounded = ipcd.Queue("dur-u", socket=self.sock, durable=True)
        for i in range(3):
            bounded.put({"n": i})
            unbounded.put(b"x" * i)  # not pipelined: durable puts are answered
        self.assertEqual(bounded.get(), {"n": 0})
        self.assertTrue(ipcd.stat("dur-b", socket=self.sock)["durable"])
        ipcdtest.stop_process(self.daemon, signal.SIGKILL)
        self.start(state)
        again = ipcd.Queue("dur-b", None, socket=self.sock)  # either kind
        self.assertEqual(again.maxsize, 5)
        self.assertEqual([again.get_nowait(), again.get_nowait()], [{"n": 1}, {"n": 2}])
        self.assertRaises(queue.Empty, again.get_nowait)
        u = ipcd.Queue("dur-u", socket=self.sock, durable=True)
        self.assertEqual(u.get_many(10, timeout=5), [b"", b"x", b"xx"])
        ipcd.Queue("plain", socket=self.sock)
        self.assertRaises(ipcd.MismatchError, ipcd.Queue, "plain", socket=self.sock,
                          durable=True)
        self.assertFalse(ipcd.stat("plain", socket=self.sock)["durable"])

    def test_no_journal(self):
        self.start("")
        with self.assertRaises(ipcd.NoDurabilityError) as cm:
            ipcd.Queue("d", socket=self.sock, durable=True)
        self.assertIsInstance(cm.exception, OSError)


if __name__ == "__main__":
    unittest.main(verbosity=2)
