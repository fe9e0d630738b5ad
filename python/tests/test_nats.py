# SPDX-License-Identifier: MIT
"""The same Python code on NATS JetStream (issue 17): only IPCD_SOCKET
changes. A private nats-server -js on 127.0.0.1 (started and stopped by
pid, store in a temp directory); skipped without nats-server
($NATS_SERVER_BIN) or when libipcclient was built without NATS.
"""
import multiprocessing
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import ipcd
import ipcdtest

IPC_ENOTSUP = 23
_server = None
_dir = None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    global _server, _dir
    binary = os.environ.get("NATS_SERVER_BIN") or shutil.which("nats-server")
    if not binary or not os.access(binary, os.X_OK):
        raise unittest.SkipTest("no nats-server (NATS_SERVER_BIN)")
    _dir = tempfile.mkdtemp(prefix="ipcd-py-nats-")
    port = _free_port()
    logname = os.path.join(_dir, "nats.log")
    with open(logname, "wb") as log:
        _server = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port),
                                    "-sd", os.path.join(_dir, "store")],
                                   stdout=log, stderr=log)
    ipcdtest.wait_listening(_server, socket.AF_INET, ("127.0.0.1", port), logname)
    os.environ["IPCD_SOCKET"] = "nats://127.0.0.1:%d?lease=1000" % port
    try:
        ipcd.list()
    except ipcd.NotSupportedError:
        tearDownModule()
        raise unittest.SkipTest("libipcclient built without NATS")


def tearDownModule():
    global _server
    if _server is not None:
        ipcdtest.stop_process(_server)
        _server = None
    if _dir:
        shutil.rmtree(_dir, ignore_errors=True)


def _producer(q, n):
    for i in range(n):
        q.put({"i": i})
    q.close()


class QueueOnNats(unittest.TestCase):
    def setUp(self):
        self.name = ipcdtest.fresh("nq")

    def test_put_get_objects(self):
        q = ipcd.Queue(self.name)
        q.put({"job": 1, "data": b"\x00\xff"})
        q.put([1, 2, 3])
        self.assertEqual(q.get(timeout=5), {"job": 1, "data": b"\x00\xff"})
        self.assertEqual(q.get(timeout=5), [1, 2, 3])
        self.assertRaises(queue.Empty, q.get_nowait)
        t0 = time.monotonic()
        self.assertRaises(queue.Empty, q.get, True, 0.3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        q.close()

    def test_full_and_qsize(self):
        q = ipcd.Queue(self.name, 2)
        q.put_nowait("a")
        q.put_nowait("b")
        self.assertRaises(queue.Full, q.put_nowait, "c")
        self.assertRaises(queue.Full, q.put, "c", True, 0.2)
        self.assertEqual(q.qsize(), 2)
        self.assertTrue(q.full())
        self.assertEqual(q.get(timeout=5), "a")
        q.put("c", timeout=5)
        self.assertEqual([q.get(timeout=5), q.get(timeout=5)], ["b", "c"])
        self.assertTrue(q.empty())
        q.close()

    def test_batches(self):
        q = ipcd.Queue(self.name)
        q.put_many(list(range(100)))
        got = []
        while len(got) < 100:
            got += q.get_many(64, timeout=5)
        self.assertEqual(got, list(range(100)))
        q.close()

    def test_bytes_with_ipcctl(self):
        q = ipcd.Queue(self.name, serializer=None)
        rc, _ = ipcdtest.ipcctl("put", self.name, "from-ipcctl")
        self.assertEqual(rc, 0)
        self.assertEqual(q.get(timeout=5), b"from-ipcctl")
        q.put(b"from-python")
        rc, out = ipcdtest.ipcctl("get", self.name)
        self.assertEqual((rc, out), (0, b"from-python"))
        q.close()

    def test_get_ack_redelivers_on_error(self):
        q = ipcd.Queue(self.name)
        q.put("poison")
        with self.assertRaises(RuntimeError):
            with q.get_ack(timeout=5) as item:
                self.assertEqual(item, "poison")
                raise RuntimeError("worker failed")
        with q.get_ack(timeout=10) as item:     # back after the lease
            self.assertEqual(item, "poison")
        self.assertRaises(queue.Empty, q.get, True, 1.5)
        q.close()

    def test_other_process_by_name(self):
        q = ipcd.Queue(self.name)
        ctx = multiprocessing.get_context("spawn")  # no fork with libnats threads
        p = ctx.Process(target=_producer, args=(q, 20))
        p.start()
        got = [q.get(timeout=20)["i"] for _ in range(20)]
        p.join(20)
        self.assertEqual(p.exitcode, 0)
        self.assertEqual(got, list(range(20)))
        q.close()

    def test_pipes_refused(self):
        with self.assertRaises(ipcd.NotSupportedError) as cm:
            a, b = ipcd.Pipe(ipcdtest.fresh("np"))   # attached on first use
            a.send_bytes(b"x")
        self.assertEqual(cm.exception.code, IPC_ENOTSUP)
        self.assertIn("nats", cm.exception.detail)

    def test_list_stat_delete(self):
        q = ipcd.Queue(self.name, 5)
        q.put("x")
        self.assertIn(self.name, [i["name"] for i in ipcd.list()])
        st = ipcd.stat(self.name)
        self.assertEqual((st["kind"], st["maxsize"], st["size"]), ("queue", 5, 1))
        ipcd.delete(self.name)
        self.assertRaises(ipcd.NotFoundError, ipcd.stat, self.name)
        q.close()


if __name__ == "__main__":
    unittest.main()
