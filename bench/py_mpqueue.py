#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ipcbench's Python side: multiprocessing.Queue and Pipe, measured the way
ipcbench measures ipcd, printing one JSON line.

usage: py_mpqueue.py WHAT SIZE NP COUNT
  WHAT  queue      NP producers and NP consumers on one multiprocessing.Queue
        pipe       NP Pipe(duplex=False) pairs, send_bytes/recv_bytes
        queue-lat  put -> get hand-off, one message at a time (COUNT round trips)
        pipe-lat   send_bytes -> recv_bytes hand-off
  SIZE  message bytes (>= 16); COUNT messages in all (or round trips)

Throughput runs start every process at a barrier (so start-up is not
timed) and stop the clock when the last consumer has its last message.
Latency runs stamp each message with time.monotonic_ns() (CLOCK_MONOTONIC,
the clock ipcbench uses) and record the one-way time at the receiver.
"""
import json
import multiprocessing as mp
import struct
import sys
import time

WARMUP = 200


def producer(q, barrier, n, size):
    """Put n messages of size bytes."""
    msg = bytes(size)
    barrier.wait()
    for _ in range(n):
        q.put(msg)


def consumer(q, barrier, done):
    """Get until the sentinel (None); report the time of the last message."""
    barrier.wait()
    count = 0
    while q.get() is not None:
        count += 1
    done.put((count, time.monotonic_ns()))


def run_queue(size, np_, count):
    """NP producers and NP consumers on one Queue: messages per second."""
    q = mp.Queue()
    done = mp.Queue()
    barrier = mp.Barrier(2 * np_ + 1)
    share = count // np_
    prods = [mp.Process(target=producer, args=(q, barrier, share, size)) for _ in range(np_)]
    cons = [mp.Process(target=consumer, args=(q, barrier, done)) for _ in range(np_)]
    for p in prods + cons:
        p.start()
    barrier.wait()
    t0 = time.monotonic_ns()
    for p in prods:
        p.join()
    for _ in cons:
        q.put(None)
    results = [done.get() for _ in cons]
    for p in cons:
        p.join()
    got = sum(r[0] for r in results)
    if got != share * np_:
        raise RuntimeError("received %d of %d messages" % (got, share * np_))
    t1 = max(r[1] for r in results)
    return got / ((t1 - t0) / 1e9)


def pipe_sender(conn, barrier, n, size):
    """send_bytes n messages."""
    msg = bytes(size)
    barrier.wait()
    for _ in range(n):
        conn.send_bytes(msg)


def pipe_receiver(conn, barrier, n, done):
    """recv_bytes n messages; report when the last came."""
    barrier.wait()
    for _ in range(n):
        conn.recv_bytes()
    done.put(time.monotonic_ns())


def run_pipe(size, np_, count):
    """NP one-way Pipes: messages per second over all of them."""
    share = count // np_
    done = mp.Queue()
    barrier = mp.Barrier(2 * np_ + 1)
    procs = []
    for _ in range(np_):
        r, w = mp.Pipe(duplex=False)
        procs.append(mp.Process(target=pipe_sender, args=(w, barrier, share, size)))
        procs.append(mp.Process(target=pipe_receiver, args=(r, barrier, share, done)))
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.monotonic_ns()
    t1 = max(done.get() for _ in range(np_))
    for p in procs:
        p.join()
    return share * np_ / ((t1 - t0) / 1e9)


def ponger(recv, send, n, out):
    """Receive n stamped messages, record their one-way time, answer each."""
    samples = []
    for i in range(n + WARMUP):
        msg = recv()
        d = time.monotonic_ns() - struct.unpack_from("<q", msg)[0]
        if i >= WARMUP:
            samples.append(d)
        send(msg)
    out.put(samples)


def pinger(send, recv, n, size):
    """Send n stamped messages, one at a time."""
    pad = bytes(size - 8)
    for _ in range(n + WARMUP):
        send(struct.pack("<q", time.monotonic_ns()) + pad)
        recv()


def percentiles(samples):
    """p50 and p99 in microseconds."""
    s = sorted(samples)
    pick = lambda p: s[int(p / 100 * (len(s) - 1) + 0.5)] / 1000.0
    return pick(50), pick(99)


def run_lat(kind, size, count):
    """Hand-off latency through a Queue or a Pipe: (p50, p99) in µs."""
    out = mp.Queue()
    if kind == "queue-lat":
        a, b = mp.Queue(), mp.Queue()
        pong = mp.Process(target=ponger, args=(a.get, b.put, count, out))
        ping_send, ping_recv = a.put, b.get
    else:
        x, y = mp.Pipe()
        pong = mp.Process(target=ponger, args=(y.recv_bytes, y.send_bytes, count, out))
        ping_send, ping_recv = x.send_bytes, x.recv_bytes
    pong.start()
    pinger(ping_send, ping_recv, count, size)
    samples = out.get()
    pong.join()
    return percentiles(samples)


def main():
    what, size, np_, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    res = {"system": "python-" + what.split("-")[0], "size": size}
    try:
        if what == "queue":
            res["msgs_per_s"] = run_queue(size, np_, count)
        elif what == "pipe":
            res["msgs_per_s"] = run_pipe(size, np_, count)
        else:
            res["p50_us"], res["p99_us"] = run_lat(what, size, count)
    except Exception as e:  # reported as the row's note
        res["error"] = str(e).replace('"', "'")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
