# SPDX-License-Identifier: MIT
"""examples/python: the seed article's two programs, run as the article
runs them (one script starting the processes, fork and spawn) and as two
unrelated processes started in either order; they print what the
article prints."""
import itertools
import os
import re
import select
import signal
import subprocess
import sys
import time
import unittest

import ipcd
import ipcdtest

EXAMPLES = os.environ.get("IPCD_EXAMPLES") or os.path.join(
    os.path.dirname(__file__), "..", "..", "examples", "python")
PIPE_LINES = ["out pipe : %d" % i for i in range(10)]


def setUpModule():
    ipcdtest.start()


def tearDownModule():
    ipcdtest.stop()


def start(script, *args, spawn=False, unbuffered=False):
    """Start an example (optionally under the spawn start method; with
    unbuffered, each print is written at once, as on a terminal)."""
    path = os.path.join(EXAMPLES, script)
    env = dict(os.environ, PYTHONUNBUFFERED="1") if unbuffered else None
    if spawn:
        cmd = [sys.executable, "-c",
               "import multiprocessing as mp, runpy, sys; mp.set_start_method('spawn'); "
               "sys.argv = [%r]; runpy.run_path(%r, run_name='__main__')" % (path, path)]
    else:
        cmd = [sys.executable, path] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def stop(p):
    """Kill an example a failed test left running, and reap it."""
    if p.poll() is None:
        p.kill()
    p.communicate()


def finish(test, p, timeout=60):
    """Wait for an example; its stdout lines."""
    out, err = p.communicate(timeout=timeout)
    test.assertEqual(p.returncode, 0, err.decode())
    return out.decode().splitlines()


def readme_python_example():
    """The first python block of README.md's "## Python" section."""
    src = os.environ.get("IPCD_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("\n## Python\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


class ReadmeExampleTest(unittest.TestCase):
    """The README's first Python example runs as written and prints 42."""
    def test_fork_and_spawn(self):
        with open(os.path.join(ipcdtest._dir, "readme_example.py"), "w") as f:
            f.write(readme_python_example())
        for method in ("fork", "spawn"):
            p = subprocess.Popen(
                [sys.executable, "-c",
                 "import multiprocessing as mp, runpy; mp.set_start_method(%r); "
                 "runpy.run_path(%r, run_name='__main__')" % (method, f.name)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            try:
                self.assertEqual(finish(self, p, timeout=30), ["42"], method)
            finally:
                try:  # a worker left waiting must not outlive the test
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.communicate()


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

    @staticmethod
    def gets_so_far():
        """How many gets queue_demo has served (0 before it exists)."""
        try:
            return ipcd.stat("queue_demo")["gets"]
        except ipcd.NotFoundError:
            return 0

    def end_getter_wait(self, gets_before):
        """The article's getter stops after 10 s without a value, or at
        any exception: once it got the putter's 5 values, hand it one it
        cannot print ('%f' % str raises), so it stops at once and prints
        just what the article prints."""
        deadline = time.monotonic() + 30
        while self.gets_so_far() < gets_before + 5:
            self.assertLess(time.monotonic(), deadline, "the getter got fewer than 5")
            time.sleep(0.02)
        ipcd.Queue("queue_demo", 2).put("done")

    def test_as_the_article_runs_it(self):
        before = self.gets_so_far()
        p = start("queue_demo.py")
        self.end_getter_wait(before)
        lines = finish(self, p)
        self.assertRegex(lines[0], r"^parent process run \d+ ")
        self.check_roles(lines[1:])
        self.assertEqual(self.gets_so_far(), before + 6)

    def test_putter_never_ahead_of_the_getter(self):
        """As the article prints (put, put, get, put, get, ...) and as
        multiprocessing.Queue(2) behaves: a put returns once its value is
        in the queue of 2, so at any point the putter has printed at most
        3 values more than the getter (2 in the queue, 1 got and not yet
        printed). Unbuffered, as on the article's terminal: the lines come
        in the order the two processes printed them. Five runs: before
        puts waited for room, a run printed the five puts first in 4 of 5."""
        for run in range(5):
            before = self.gets_so_far()
            p = start("queue_demo.py", unbuffered=True)
            self.end_getter_wait(before)
            text = "\n".join(finish(self, p))
            steps = sorted([(m.start(), 1) for m in re.finditer(r"put value \d", text)] +
                           [(m.start(), -1) for m in re.finditer(r"get value \d", text)])
            self.assertEqual(len(steps), 10, text)
            lead = max(itertools.accumulate(step for _, step in steps))
            self.assertLessEqual(lead, 3, text)

    def test_putter_alone_stops_at_maxsize(self):
        """The putter started alone (two shells, getter later) puts 2
        values into the queue of 2 and waits in its third put, printing
        nothing more, until the getter comes."""
        before = self.gets_so_far()
        putter = start("queue_demo.py", "putter", unbuffered=True)
        self.addCleanup(self.forget)  # what a failed run left in the queue
        self.addCleanup(stop, putter)
        fd, out, deadline = putter.stdout.fileno(), b"", time.monotonic() + 30
        while out.count(b"\n") < 3:  # its pid and two puts
            self.assertLess(time.monotonic(), deadline, out)
            if select.select([fd], [], [], 0.1)[0]:
                out += os.read(fd, 4096)
        while self.stat("putters") != 1:  # the third put waits for room
            self.assertLess(time.monotonic(), deadline, out)
            time.sleep(0.02)
        if select.select([fd], [], [], 0.3)[0]:
            out += os.read(fd, 4096)
        self.assertRegex(out, rb"^subprocess putter : \d+\n"
                         rb"(subprocess putter : put value [\d.]+\n){2}$")
        self.assertEqual(self.stat("size"), 2)
        getter = start("queue_demo.py", "getter")
        self.end_getter_wait(before)
        lines = out.decode().splitlines() + finish(self, putter)
        self.check_roles(lines + finish(self, getter))

    @staticmethod
    def forget():
        """Delete queue_demo (the next run makes it afresh)."""
        try:
            ipcd.delete("queue_demo")
        except ipcd.NotFoundError:
            pass

    @staticmethod
    def stat(field):
        """A figure of queue_demo (0 before it exists)."""
        try:
            return ipcd.stat("queue_demo")[field]
        except ipcd.NotFoundError:
            return 0

    def test_two_shells_either_order(self):
        for first, second in (("getter", "putter"), ("putter", "getter")):
            before = self.gets_so_far()
            a = start("queue_demo.py", first)
            time.sleep(0.3)
            b = start("queue_demo.py", second)
            self.end_getter_wait(before)
            self.check_roles(finish(self, a) + finish(self, b))


if __name__ == "__main__":
    unittest.main(verbosity=2)
