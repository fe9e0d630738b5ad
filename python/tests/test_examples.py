# SPDX-License-Identifier: MIT
"""examples/python: the seed article's two programs, run as the article
runs them (one script starting the processes, fork and spawn) and as two
unrelated processes started in either order; they print what the
article prints."""
import os
import re
import subprocess
import sys
import time
import unittest

import ipcdtest

EXAMPLES = os.environ.get("IPCD_EXAMPLES") or os.path.join(
    os.path.dirname(__file__), "..", "..", "examples", "python")
PIPE_LINES = ["out pipe : %d" % i for i in range(10)]
# The queue getter stops once nothing came for this long (the article's
# 10 s): enough for the putter to start when the getter runs first.
os.environ["QUEUE_DEMO_TIMEOUT"] = "3"


def setUpModule():
    ipcdtest.start()


def tearDownModule():
    ipcdtest.stop()


def start(script, *args, spawn=False):
    """Start an example (optionally under the spawn start method)."""
    path = os.path.join(EXAMPLES, script)
    if spawn:
        cmd = [sys.executable, "-c",
               "import multiprocessing as mp, runpy, sys; mp.set_start_method('spawn'); "
               "sys.argv = [%r]; runpy.run_path(%r, run_name='__main__')" % (path, path)]
    else:
        cmd = [sys.executable, path] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(test, p, timeout=60):
    """Wait for an example; its stdout lines."""
    out, err = p.communicate(timeout=timeout)
    test.assertEqual(p.returncode, 0, err.decode())
    return out.decode().splitlines()


class PipeDemoTest(unittest.TestCase):
    def check_one_script(self, lines):
        self.assertRegex(lines[0], r"^主进程运行 \d+$")
        parent = lines[0].split()[1]
        self.assertRegex(lines[1], r"^子进程运行 \d+   父进程 %s$" % parent)
        self.assertEqual(lines[2:12], PIPE_LINES)
        self.assertEqual(lines[12:], ["主进程结束 %s" % parent])

    def test_as_the_article_runs_it(self):
        self.check_one_script(finish(self, start("pipe_demo.py")))

    def test_spawn(self):
        self.check_one_script(finish(self, start("pipe_demo.py", spawn=True)))

    def test_two_shells_either_order(self):
        for first, second in (("child", "parent"), ("parent", "child")):
            a = start("pipe_demo.py", first)
            time.sleep(0.3)
            b = start("pipe_demo.py", second)
            outs = {first: finish(self, a), second: finish(self, b)}
            self.assertRegex(outs["child"][0], r"^子进程运行 \d+   父进程 \d+$")
            self.assertEqual(outs["child"][1:], PIPE_LINES)
            self.assertRegex(outs["parent"][0], r"^主进程运行 \d+$")
            self.assertRegex(outs["parent"][1], r"^主进程结束 \d+$")


class QueueDemoTest(unittest.TestCase):
    def check_roles(self, lines):
        """The putter put 5 values and the getter got them, in order. The
        two processes share stdout, so their lines may interleave: the
        text is searched, not split into lines."""
        text = "\n".join(lines)
        put = re.findall(r"subprocess putter : put value (\d+\.\d{6})", text)
        got = re.findall(r"subprocess getter : get value (\d+\.\d{6})", text)
        self.assertEqual(len(put), 5)
        self.assertEqual(got, put)
        self.assertRegex(text, r"subprocess getter : \d+")
        self.assertRegex(text, r"subprocess putter : \d+")

    def test_as_the_article_runs_it(self):
        # The getter stops after QUEUE_DEMO_TIMEOUT s without a value.
        lines = finish(self, start("queue_demo.py"))
        self.assertRegex(lines[0], r"^parent process run \d+ ")
        self.check_roles(lines[1:])

    def test_two_shells_either_order(self):
        for first, second in (("getter", "putter"), ("putter", "getter")):
            a = start("queue_demo.py", first)
            time.sleep(0.3)
            b = start("queue_demo.py", second)
            self.check_roles(finish(self, a) + finish(self, b))


if __name__ == "__main__":
    unittest.main(verbosity=2)
