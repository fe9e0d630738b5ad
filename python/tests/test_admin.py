# SPDX-License-Identifier: MIT
"""ipcd.list, ipcd.stat, ipcd.delete, ipcd.info; the documentation (help(), stubs)."""
import ast
import os
import pydoc
import queue
import unittest

import ipcdtest
import ipcd


def setUpModule():
    ipcdtest.start()


def tearDownModule():
    ipcdtest.stop()


class AdminTest(unittest.TestCase):
    def test_stat_queue(self):
        q = ipcd.Queue(ipcdtest.fresh(), 7)
        q.put("a")
        q.put("b")
        q.get()
        st = ipcd.stat(q.name)
        self.assertEqual((st["name"], st["kind"], st["maxsize"], st["size"]),
                         (q.name, "queue", 7, 1))
        self.assertEqual((st["puts"], st["gets"], st["inflight"]), (2, 1, 0))
        self.assertEqual(st["uid"], os.getuid())

    def test_stat_pipe(self):
        name = ipcdtest.fresh("p")
        a = ipcd.connect_pipe(name, 0, duplex=False)
        st = ipcd.stat(name)
        self.assertEqual((st["kind"], st["duplex"], st["attached"], st["closed"]),
                         ("pipe", False, (True, False), (False, False)))
        a.close()

    def test_list(self):
        names = sorted([ipcdtest.fresh("l"), ipcdtest.fresh("l")])
        for n in names:
            ipcd.Queue(n)
        listed = [i["name"] for i in ipcd.list()]
        self.assertEqual(listed, sorted(listed))
        for n in names:
            self.assertIn(n, listed)

    def test_info(self):
        before = ipcd.info()
        q = ipcd.Queue(ipcdtest.fresh(), 1)
        q.put("a")
        self.assertRaises(queue.Full, q.put_nowait, "b")
        q.get()
        after = ipcd.info()
        self.assertEqual(after["version"], before["version"])
        self.assertEqual(after["puts"] - before["puts"], 1)
        self.assertEqual(after["gets"] - before["gets"], 1)
        self.assertEqual(after["refused_full"] - before["refused_full"], 1)
        self.assertEqual(after["queues"] - before["queues"], 1)
        self.assertGreaterEqual(after["uptime_ms"], before["uptime_ms"])
        self.assertIn("journal_sync_max_us", after)
        self.assertEqual(after["dead_lettered"], before["dead_lettered"])

    def test_stat_dead_letter_keys(self):
        name, dlq = ipcdtest.fresh(), ipcdtest.fresh("dlq")
        plain = ipcd.Queue(ipcdtest.fresh())
        self.assertEqual([ipcd.stat(plain.name)[k] for k in (
            "max_deliveries", "dead_letter", "dead_lettered", "dead_letter_failed")],
            [0, "", 0, 0])
        ipcd.Queue(dlq)
        rc, _ = ipcdtest.ipcctl("create", name, "--max-deliveries", "2", "--dead-letter", dlq)
        self.assertEqual(rc, 0)
        q = ipcd.Queue(name)
        q.put("poison")
        for _ in range(2):
            with self.assertRaises(ZeroDivisionError):
                with q.get_ack(timeout=5):
                    1 / 0  # a failed delivery: back to the head
        self.assertRaises(queue.Empty, q.get, timeout=0.1)
        st = ipcd.stat(name)
        self.assertEqual((st["max_deliveries"], st["dead_letter"], st["dead_lettered"],
                          st["dead_letter_failed"]), (2, dlq, 1, 0))
        self.assertEqual(ipcd.Queue(dlq).get(timeout=5), "poison")
        end = ipcd.connect_pipe(ipcdtest.fresh("p"), 0)
        self.assertNotIn("dead_letter", ipcd.stat(end.name))  # a queue's keys only
        end.close()

    def test_delete(self):
        q = ipcd.Queue(ipcdtest.fresh())
        q.put(1)
        ipcd.delete(q.name)
        self.assertRaises(ipcd.NotFoundError, ipcd.stat, q.name)
        self.assertRaises(ipcd.NotFoundError, ipcd.delete, q.name)
        self.assertRaises(ipcd.NotFoundError, q.get_nowait)
        self.assertRaises(ipcd.InvalidNameError, ipcd.delete, "")

    def test_socket_argument(self):
        sock = os.environ["IPCD_SOCKET"]
        q = ipcd.Queue(ipcdtest.fresh(), socket=sock)
        self.assertEqual(ipcd.stat(q.name, socket=sock)["name"], q.name)
        self.assertEqual(ipcd.default_socket(), sock)
        self.assertRaises(ipcd.ConnectError, ipcd.list, socket="/nonexistent/s")

    # The README ("Which daemon a client reaches") promises the path, as
    # ipcctl gives it; it once said only "No such file or directory".
    def test_connect_error_names_the_path(self):
        with self.assertRaises(ipcd.ConnectError) as cm:
            ipcd.Queue(ipcdtest.fresh(), socket="/nonexistent/ipcd.sock")
        self.assertIn("/nonexistent/ipcd.sock", str(cm.exception))


class DocsTest(unittest.TestCase):
    def test_help_is_complete(self):
        text = pydoc.render_doc(ipcd.Queue, renderer=pydoc.plaintext)
        for word in ("put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full",
                     "close", "join_thread", "cancel_join_thread", "put_many", "get_many",
                     "get_ack", "queue.Full", "queue.Empty", "Ctrl-C", "pipelined",
                     "readahead", "serializer", "socket:", "ConnectError",
                     "TooBigError", "lease=None"):
            self.assertIn(word, text)
        for obj in (ipcd.Queue, ipcd.Connection, ipcd.Pipe, ipcd.connect_pipe, ipcd.list,
                    ipcd.stat, ipcd.delete, ipcd.info, ipcd._ipcd.Client):
            self.assertTrue(obj.__doc__, obj)
        for name in dir(ipcd.Queue) + dir(ipcd.Connection):
            if not name.startswith("_"):
                member = getattr(ipcd.Queue, name, None) or getattr(ipcd.Connection, name)
                self.assertTrue(member.__doc__, name)

    def test_error_classes(self):
        self.assertTrue(issubclass(ipcd.NotFoundError, FileNotFoundError))
        self.assertTrue(issubclass(ipcd.PermissionError, PermissionError))
        self.assertTrue(issubclass(ipcd.ConnectError, ConnectionError))
        self.assertTrue(issubclass(ipcd.ConnectionLostError, ConnectionError))
        self.assertTrue(issubclass(ipcd.TooBigError, ValueError))
        for name in ipcd.__all__:
            obj = getattr(ipcd, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                self.assertTrue(issubclass(obj, ipcd.Error), name)
                self.assertTrue(obj.__doc__, name)
        self.assertFalse(issubclass(queue.Empty, ipcd.Error))

    def test_stubs_cover_the_api(self):
        pkg = os.path.dirname(ipcd.__file__)
        for stub, mod in (("__init__.pyi", ipcd), ("_ipcd.pyi", ipcd._ipcd)):
            with open(os.path.join(pkg, stub)) as f:
                tree = ast.parse(f.read())
            names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
            names |= {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                      for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                      if isinstance(t, ast.Name)}
            names |= {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                      for a in n.names}
            public = {n for n in dir(mod) if not n.startswith("_")} - {
                "math", "os", "pickle", "threading"}
            if mod is ipcd:
                public = set(ipcd.__all__)
            self.assertEqual(public - names, set(), stub)


if __name__ == "__main__":
    unittest.main(verbosity=2)
