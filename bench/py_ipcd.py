#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench's Python section: the ipcd package against multiprocessing
and redis-py, one producer process and one consumer process, in one run
so the ratios compare like with like.

usage: py_ipcd.py [--ipcd PATH] [--redis PATH|''] [--quick] [--json]
                  [other ipcbench flags are ignored]

It starts its own ipcd (and redis-server, when given and redis-py is
installed) on private sockets in a temp directory and stops them by pid.
Each row moves COUNT messages (a third with --quick, fewer for 64 KiB)
and reports messages per second: the clock starts when the producer
passed the barrier both processes wait at (their connections made) and
stops when the consumer has the last message.
"""
import argparse
import json
import multiprocessing as mp
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import ipcd

COUNT = 60000
SIZES = (("int", None), ("64 B", 64), ("64 KiB", 65536))
BATCH = 64
DIST_PACKAGES = "/usr/lib/python3/dist-packages"
GOALS = [  # (what, ipcd row, baseline row, ratio wanted)
    ("unbounded one-at-a-time", "ipcd.Queue", "mp.Queue", 1.5),
    ("unbounded, readahead=64", "ipcd.Queue readahead", "mp.Queue", 1.5),
    ("bounded 1000 one-at-a-time", "ipcd.Queue(1000)", "mp.Queue", 1.0),
    ("put_many/get_many 64", "ipcd put_many/get_many", "mp.Queue", 5.0),
    ("Connection.send/recv", "ipcd.Pipe", "mp.Pipe", 1.0),
    ("seed maxsize 2 vs redis", "ipcd.Queue(2)", "redis LPUSH/BRPOP", 1.0),
]


def payload(size):
    """The object each workload sends: an int, or bytes of size."""
    return 12345 if size is None else bytes(size)


# ---- one producer, one consumer ----------------------------------------

def producer(make, size, n, barrier, done):
    """Process: send n objects with the workload's put; report the start."""
    put, flush = make("put")
    obj = payload(size)
    barrier.wait()
    done.put(("start", time.monotonic()))
    for _ in range(n):
        put(obj)
    flush()


def consumer(make, n, barrier, done):
    """Process: receive n objects; report the time of the last."""
    get, _ = make("get")
    barrier.wait()
    for _ in range(n):
        get()
    done.put(("end", time.monotonic()))


def batch_producer(make, size, n, barrier, done):
    """Process: put_many in batches of BATCH; report the start."""
    put_many, flush = make("put_many")
    objs = [payload(size)] * BATCH
    barrier.wait()
    done.put(("start", time.monotonic()))
    for i in range(0, n, BATCH):
        put_many(objs[:min(BATCH, n - i)])
    flush()


def batch_consumer(make, n, barrier, done):
    """Process: get_many until n came."""
    get_many, _ = make("get_many")
    barrier.wait()
    got = 0
    while got < n:
        got += len(get_many())
    done.put(("end", time.monotonic()))


def run_pair(make, size, n, batched=False):
    """Messages per second of one producer/consumer pair."""
    ctx = mp.get_context("fork")
    barrier, done = ctx.Barrier(2), ctx.SimpleQueue()
    prod, cons = (batch_producer, batch_consumer) if batched else (producer, consumer)
    procs = [ctx.Process(target=prod, args=(make, size, n, barrier, done)),
             ctx.Process(target=cons, args=(make, n, barrier, done))]
    for p in procs:
        p.start()
    stamps = dict(done.get() for _ in procs)  # the producer's start, the consumer's end
    t0, t1 = stamps["start"], stamps["end"]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError("a bench process failed (exit %d)" % p.exitcode)
    return n / (t1 - t0)


# ---- the systems: make(role) -> (call, flush), made in the child ------------

class IpcdQueue:
    """ipcd.Queue, one call per message (or per batch)."""

    def __init__(self, name, maxsize=0, readahead=0):
        self.args = (name, maxsize, readahead)

    def __call__(self, role):
        name, maxsize, readahead = self.args
        q = ipcd.Queue(name, maxsize, readahead=readahead if role.startswith("get") else 0)
        if role == "put_many":
            return q.put_many, q.close
        if role == "get_many":
            return (lambda: q.get_many(BATCH)), q.close
        return getattr(q, role), q.close


class IpcdPipe:
    """ipcd.Pipe: end 1 sends, end 0 receives."""

    def __init__(self, name):
        self.name = name

    def __call__(self, role):
        conn = ipcd.connect_pipe(self.name, 1 if role == "put" else 0, duplex=False)
        return (conn.send if role == "put" else conn.recv), (lambda: None)


class MpQueue:
    """multiprocessing.Queue or SimpleQueue, made in the parent."""

    def __init__(self, q):
        self.q = q

    def __call__(self, role):
        q = self.q
        if role == "put" and hasattr(q, "join_thread"):
            def flush():  # the feeder thread has written everything
                q.close()
                q.join_thread()
            return q.put, flush
        return getattr(q, role), (lambda: None)


class MpPipe:
    """multiprocessing.Pipe(duplex=False), send/recv."""

    def __init__(self):
        self.r, self.w = mp.Pipe(duplex=False)

    def __call__(self, role):
        return (self.w.send if role == "put" else self.r.recv), (lambda: None)


class Redis:
    """redis-py LPUSH / BRPOP of pickled objects on a private redis."""

    def __init__(self, sock, key):
        self.sock, self.key = sock, key

    def __call__(self, role):
        r = import_redis().Redis(unix_socket_path=self.sock)
        key = self.key
        if role == "put":
            return (lambda obj: r.lpush(key, pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))), \
                (lambda: None)
        return (lambda: pickle.loads(r.brpop(key)[1])), (lambda: None)


# ---- servers ----------------------------------------------------------------

def import_redis():
    """redis-py, or None. Debian's python3-redis lives in the system
    python's dist-packages, which another python3 (a pyenv one, say) does
    not search: it is tried there too."""
    try:
        import redis
        return redis
    except ImportError:
        pass
    if os.path.isdir(DIST_PACKAGES) and DIST_PACKAGES not in sys.path:
        sys.path.append(DIST_PACKAGES)
        try:
            import redis
            return redis
        except ImportError:
            pass
    return None


def wait_socket(path, proc, what):
    """Wait until something accepts on path."""
    end = time.monotonic() + 10
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(what + " did not start")
            time.sleep(0.01)


def start_servers(args, tmp):
    """Start ipcd (and redis-server); returns ([procs], redis socket or None)."""
    sock = os.path.join(tmp, "ipcd.sock")
    log = open(os.path.join(tmp, "ipcd.log"), "wb")
    procs = [subprocess.Popen([args.ipcd, "-s", sock], stdout=log, stderr=log)]
    wait_socket(sock, procs[0], "ipcd")
    os.environ["IPCD_SOCKET"] = sock
    rsock = None
    have_redis_py = import_redis() is not None
    if args.redis and shutil.which(args.redis) and have_redis_py:
        rsock = os.path.join(tmp, "redis.sock")
        procs.append(subprocess.Popen(
            [args.redis, "--port", "0", "--unixsocket", rsock, "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_socket(rsock, procs[1], "redis-server")
    return procs, rsock


def stop_servers(procs):
    """SIGTERM each server by pid and reap it."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---- the table ---------------------------------------------------------------

def workloads(rsock, seq):
    """(row name, make, batched) for each system, fresh names per call."""
    name = "bench-%d-%d" % (os.getpid(), seq)
    rows = [
        ("ipcd.Queue", IpcdQueue(name + "u"), False),
        ("ipcd.Queue readahead", IpcdQueue(name + "r", 0, 64), False),
        ("ipcd.Queue(1000)", IpcdQueue(name + "b", 1000), False),
        ("ipcd.Queue(2)", IpcdQueue(name + "2", 2), False),
        ("ipcd put_many/get_many", IpcdQueue(name + "m"), True),
        ("ipcd.Pipe", IpcdPipe(name + "p"), False),
        ("mp.Queue", MpQueue(mp.get_context("fork").Queue()), False),
        ("mp.SimpleQueue", MpQueue(mp.get_context("fork").SimpleQueue()), False),
        ("mp.Pipe", MpPipe(), False),
    ]
    if rsock:
        rows.append(("redis LPUSH/BRPOP", Redis(rsock, name), False))
    return rows


def measure(args, rsock):
    """{(size label, row name): msgs/s or error text}."""
    results = {}
    count = COUNT // 3 if args.quick else COUNT
    if args.count:
        count = args.count
    for seq, (label, size) in enumerate(SIZES):
        n = count if size is None or size < 4096 else max(count // 10, BATCH)
        for row, make, batched in workloads(rsock, seq):
            try:
                results[(label, row)] = run_pair(make, size, n, batched)
            except Exception as e:  # reported in the table
                results[(label, row)] = "error: %s" % e
    return results


def report(results, args):
    """Print the table and the goals' ratios (or JSON lines)."""
    order = [w[0] for w in workloads(None, 0)] + ["redis LPUSH/BRPOP"]
    rows = [r for r in order if any(k[1] == r for k in results)]
    if args.json:
        for (label, row), v in results.items():
            print(json.dumps({"section": "python", "size": label, "system": row,
                              "msgs_per_s": v if isinstance(v, float) else None,
                              "note": v if isinstance(v, str) else ""}))
        return
    print("\nPython: 1 producer / 1 consumer process, messages per second")
    print("%-26s" % "" + "".join("%14s" % l for l, _ in SIZES))
    for row in rows:
        cells = []
        for label, _ in SIZES:
            v = results.get((label, row))
            cells.append("%14s" % ("-" if v is None else
                                   ("%.0f" % v if isinstance(v, float) else "error")))
        print("%-26s" % row + "".join(cells))
    print("\nGoals (ratio, per payload):")
    for what, mine, base, want in GOALS:
        parts = []
        for label, _ in SIZES:
            a, b = results.get((label, mine)), results.get((label, base))
            if isinstance(a, float) and isinstance(b, float):
                parts.append("%s %.2fx" % (label, a / b))
        print("  %-28s %-s  (goal >= %.1fx vs %s)" % (what, ", ".join(parts) or "n/a",
                                                      want, base))
    for key, v in results.items():
        if isinstance(v, str):
            print("  %s / %s: %s" % (key[1], key[0], v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ipcd", default="./ipcd")
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--count", type=int, default=0, help="messages per row (overrides)")
    args, _ = ap.parse_known_args()
    tmp = tempfile.mkdtemp(prefix="ipcd-pybench-")
    procs = []
    try:
        procs, rsock = start_servers(args, tmp)
        report(measure(args, rsock), args)
    finally:
        stop_servers(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
