#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench's Python section: the ipcd package against multiprocessing
and redis-py, one producer process and one consumer process, in one run
so the ratios compare like with like.

usage: py_ipcd.py [--ipcd PATH] [--redis PATH|''] [--quick] [--json]
                  [--count N] [--only LIST] [--cpu] [--commit TEXT]
                  [other ipcbench flags are ignored]

--only takes comma-separated row names and sizes (int, 64B, 64KiB), e.g.
--only 'ipcd.Queue,mp.Queue,64B' (a row or size not named is left out).
--cpu adds, per row, the CPU time and context switches per message of the
producer, the consumer and the server (ipcd, redis-server) they use.

It starts its own ipcd (and redis-server, when given and redis-py is
installed) on private sockets in a temp directory and stops them by pid.
Each row moves COUNT messages (a third with --quick, fewer for 64 KiB,
BATCH_ROUNDS times more for put_many/get_many of small objects, which
move them so fast that COUNT would be over in a few tens of ms, the size
of one scheduler hiccup on a loaded 2-vCPU machine; not with --count)
and reports messages per second: the clock starts when the producer
passed the barrier both processes wait at (their connections made) and
stops when the consumer has the last message.

Like ipcbench, it says how busy the rest of the machine was: the CPU
that processes other than its own (user processes, and kernel threads
apart) used during each row and over the run, from /proc/PID/stat; a
row past ipcbench's limits is marked "!", the run "NOISY", and --json
lines carry the machine, commit, date and these figures.
"""
import argparse
import json
import multiprocessing as mp
import os
import pickle
import resource
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
BATCH_ROUNDS = 8  # put_many/get_many rows of small objects move this many times COUNT
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

def usage():
    """(CPU seconds, voluntary, involuntary context switches) of this
    process so far, all its threads (mp.Queue's feeder too)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime, r.ru_nvcsw, r.ru_nivcsw)


def report_usage(done, role, before):
    """Send the CPU and switches this process spent since before."""
    done.put((role, tuple(b - a for a, b in zip(before, usage()))))


def put_each(put, obj, n):
    """Send obj n times, one call each."""
    for _ in range(n):
        put(obj)


def put_batches(put_many, obj, n):
    """Send obj n times in batches of BATCH."""
    objs = [obj] * BATCH
    for i in range(0, n, BATCH):
        put_many(objs[:min(BATCH, n - i)])


def get_each(get, n):
    """Receive n objects, one call each."""
    for _ in range(n):
        get()


def get_batches(get_many, n):
    """Receive batches until n objects came."""
    got = 0
    while got < n:
        got += len(get_many())


def producer(make, size, n, barrier, done, batched):
    """Process: send n objects with the workload's put (put_many in
    batches of BATCH when batched); report the start."""
    put, flush = make("put_many" if batched else "put")
    obj = payload(size)
    barrier.wait()
    before = usage()
    done.put(("start", time.monotonic()))
    (put_batches if batched else put_each)(put, obj, n)
    flush()
    report_usage(done, "producer", before)


def consumer(make, n, barrier, done, batched):
    """Process: receive n objects (get_many when batched); report the
    time of the last."""
    get, _ = make("get_many" if batched else "get")
    barrier.wait()
    before = usage()
    (get_batches if batched else get_each)(get, n)
    done.put(("end", time.monotonic()))
    report_usage(done, "consumer", before)


def server_usage(pid):
    """(CPU seconds, voluntary, involuntary switches) of a server process
    (its main thread: ipcd's loop and redis' are single threads)."""
    if pid is None:
        return (0.0, 0, 0)
    with open("/proc/%d/schedstat" % pid) as f:
        cpu = int(f.read().split()[0]) / 1e9
    sw = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.endswith("ctxt_switches"):
                sw[k] = int(v)
    return (cpu, sw["voluntary_ctxt_switches"], sw["nonvoluntary_ctxt_switches"])


# ---- noise: CPU the rest of the machine took meanwhile (as ipcbench) ------

NOISY_OTHER_PCT = 5.0    # ipcbench's BENCH_NOISY_PCT: user processes elsewhere
NOISY_KERN_PCT = 20.0    # and BENCH_KERN_NOISY_PCT: kernel threads
PF_KTHREAD = 0x00200000  # include/linux/sched.h
TICK = os.sysconf("SC_CLK_TCK")


def proc_table():
    """{pid: (ppid, flags, CPU ticks, comm)} of every process now."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                line = f.read()
        except OSError:  # gone meanwhile
            continue
        comm = line[line.index("(") + 1:line.rindex(")")]
        f = line[line.rindex(")") + 2:].split()
        table[int(name)] = (int(f[1]), int(f[6]), int(f[11]) + int(f[12]), comm)
    return table


def ours(table, root):
    """The pids of root and its descendants in table."""
    kids = {}
    for pid, (ppid, _, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(kids.get(pid, ()))
    return found


def noise(before, after, seconds):
    """(other, kern): CPU % of one core that user processes outside this
    bench and kernel threads used between two proc_table()s taken
    seconds apart; the bench's processes (this one, its children and the
    servers it started) are left out, whichever snapshot saw them."""
    mine = ours(before, os.getpid()) | ours(after, os.getpid())
    other = kern = 0
    for pid, (_, flags, ticks, _) in after.items():
        if pid in mine:
            continue
        spent = ticks - before[pid][2] if pid in before else ticks
        if flags & PF_KTHREAD:
            kern += spent
        else:
            other += spent
    scale = 100.0 / TICK / seconds if seconds > 0 else 0.0
    return other * scale, kern * scale


def noisy(other, kern):
    """ipcbench's rule: a row is noisy past these shares of a core."""
    return other > NOISY_OTHER_PCT or kern > NOISY_KERN_PCT


def load_avg():
    """The 1-minute load average."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_pair(make, size, n, batched=False, server=None):
    """(messages per second, {role: (CPU us, voluntary, involuntary switches)
    per message}, (other, kern) noise of noise()) of one producer/consumer
    pair; role "server" is the process of pid server (ipcd or
    redis-server) when given."""
    ctx = mp.get_context("fork")
    barrier, done = ctx.Barrier(2), ctx.SimpleQueue()
    procs = [ctx.Process(target=producer, args=(make, size, n, barrier, done, batched)),
             ctx.Process(target=consumer, args=(make, n, barrier, done, batched))]
    before = server_usage(server)
    table0, w0 = proc_table(), time.monotonic()
    for p in procs:
        p.start()
    # the producer's start and usage, the consumer's end and usage
    stamps = dict(done.get() for _ in range(2 * len(procs)))
    spent = {"server": tuple(b - a for a, b in zip(before, server_usage(server)))}
    # Taken before the joins, so the children are still in the table.
    load = noise(table0, proc_table(), time.monotonic() - w0)
    t0, t1 = stamps["start"], stamps["end"]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError("a bench process failed (exit %d)" % p.exitcode)
    for role in ("producer", "consumer"):
        spent[role] = stamps[role]
    if server is None:
        del spent["server"]
    return (n / (t1 - t0), {r: (u[0] * 1e6 / n, u[1] / n, u[2] / n) for r, u in spent.items()},
            load)


# ---- the systems: make(role) -> (call, flush), made in the child ------------

class IpcdQueue:
    """ipcd.Queue, one call per message (or per batch). Both ends are made
    as a user makes them, with the defaults (pipelined puts, adaptive
    read-ahead where the queue allows them); readahead=N is given to the
    getter only."""

    def __init__(self, name, maxsize=0, readahead=None):
        self.args = (name, maxsize, readahead)

    def __call__(self, role):
        name, maxsize, readahead = self.args
        q = ipcd.Queue(name, maxsize, readahead=readahead if role.startswith("get") else None)
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
    # No journal: as root the default state-dir is /var/lib/ipcd (the
    # system daemon's, or locked by another ipcd).
    procs = [subprocess.Popen([args.ipcd, "-s", sock, "--state-dir", ""], stdout=log,
                              stderr=log)]
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


def wanted(args, what, kind):
    """Whether --only leaves what in: it names it, or names nothing of its
    kind (kind: every row name, or every size label)."""
    only = [w.strip() for w in args.only.split(",")] if args.only else []
    return what in only or not any(k in only for k in kind)


def measure(args, rsock, servers):
    """{(size label, row name): msgs/s or error text}, {(size label, row
    name): run_pair's usage} and {(size label, row name): (other, kern)
    noise}; servers: {"ipcd"|"redis": pid}."""
    results, cpu, loads = {}, {}, {}
    count = COUNT // 3 if args.quick else COUNT
    if args.count:
        count = args.count
    for seq, (label, size) in enumerate(SIZES):
        if not wanted(args, label.replace(" ", ""), [s.replace(" ", "") for s, _ in SIZES]):
            continue
        n = count if size is None or size < 4096 else max(count // 10, BATCH)
        for row, make, batched in workloads(rsock, seq):
            if not wanted(args, row, [w[0] for w in workloads(None, 0)] + ["redis LPUSH/BRPOP"]):
                continue
            server = servers.get(row.split()[0].split(".")[0])
            try:
                rows_n = n * BATCH_ROUNDS if batched and n == count and not args.count else n
                results[(label, row)], cpu[(label, row)], loads[(label, row)] = \
                    run_pair(make, size, rows_n, batched, server)
            except Exception as e:  # reported in the table
                results[(label, row)] = "error: %s" % e
    return results, cpu, loads


def machine():
    """The machine line: CPUs, their model, the kernel."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    return "%d x %s, Linux %s" % (os.cpu_count(), model, os.uname().release)


def report_header(run):
    """The lines saying what was measured, when, and how quiet it was
    (run: machine, commit, started, load at start and end, noise)."""
    other, kern = run["noise"]
    print("\nPython section: %s; commit %s, started %s" %
          (run["machine"], run["commit"], run["started"]))
    print("load average %.2f at start, %.2f at end; other processes used %.1f%% "
          "of a core over the run, kernel threads %.1f%%: %s" %
          (run["load"][0], run["load"][1], other, kern,
           "NOISY" if noisy(other, kern) else "quiet"))
    print("(! = a row during which other processes used over %.0f%% of a core or "
          "kernel threads over %.0f%%)" % (NOISY_OTHER_PCT, NOISY_KERN_PCT))


def report(results, cpu, loads, run, args):
    """Print the table and the goals' ratios (or JSON lines, with --cpu
    each process's CPU us and voluntary, involuntary switches per message);
    rows taken while the machine was busy elsewhere are marked."""
    order = [w[0] for w in workloads(None, 0)] + ["redis LPUSH/BRPOP"]
    rows = [r for r in order if any(k[1] == r for k in results)]
    if args.json:
        for (label, row), v in results.items():
            other, kern = loads.get((label, row), (0.0, 0.0))
            line = {"section": "python", "size": label, "system": row,
                    "msgs_per_s": v if isinstance(v, float) else None,
                    "note": v if isinstance(v, str) else "",
                    "machine": run["machine"], "commit": run["commit"],
                    "date": run["started"], "other_pct": round(other, 2),
                    "kern_pct": round(kern, 2), "noisy": noisy(other, kern)}
            if args.cpu and (label, row) in cpu:
                line["per_msg"] = cpu[(label, row)]
            print(json.dumps(line))
        return
    report_header(run)
    print("\nPython: 1 producer / 1 consumer process, messages per second")
    print("%-26s" % "" + "".join("%14s" % l for l, _ in SIZES))
    for row in rows:
        cells = []
        for label, _ in SIZES:
            v = results.get((label, row))
            mark = "!" if noisy(*loads.get((label, row), (0.0, 0.0))) else " "
            cells.append("%14s" % ("-" if v is None else
                                   ("%.0f%s" % (v, mark) if isinstance(v, float) else "error")))
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


def report_cpu(cpu):
    """--cpu: per message, each process's CPU (us) and context switches
    (voluntary + involuntary); load moves these far less than msgs/s."""
    print("\nPer message: CPU us and context switches (vol+invol) of each process")
    print("%-26s %-7s %21s %21s %21s" % ("", "size", "producer", "consumer", "server"))
    for (label, row), roles in sorted(cpu.items(), key=lambda kv: kv[0]):
        cells = ["%9.2f us %5.2f+%-4.2f" % roles[r] if r in roles else "%21s" % "-"
                 for r in ("producer", "consumer", "server")]
        print("%-26s %-7s %s" % (row, label, " ".join(cells)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ipcd", default="./ipcd")
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--count", type=int, default=0, help="messages per row (overrides)")
    ap.add_argument("--commit", default="?", help="what is measured (make bench: git describe)")
    ap.add_argument("--only", default="", help="rows and sizes to run, comma-separated")
    ap.add_argument("--cpu", action="store_true",
                    help="also print CPU time and context switches per message")
    args, _ = ap.parse_known_args()
    tmp = tempfile.mkdtemp(prefix="ipcd-pybench-")
    procs = []
    try:
        procs, rsock = start_servers(args, tmp)
        servers = {"ipcd": procs[0].pid, "redis": procs[1].pid if rsock else None}
        run = {"machine": machine(), "commit": args.commit, "load": [load_avg()],
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        table0, w0 = proc_table(), time.monotonic()
        results, cpu, loads = measure(args, rsock, servers)
        run["noise"] = noise(table0, proc_table(), time.monotonic() - w0)
        run["load"].append(load_avg())
        report(results, cpu, loads, run, args)
        if args.cpu and not args.json:
            report_cpu(cpu)
    finally:
        stop_servers(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
