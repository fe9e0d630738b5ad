# SPDX-License-Identifier: MIT
"""Shared by the Python test modules: a private ipcd per module.

start() runs $IPCD_BIN on a socket in a temp directory and points
$IPCD_SOCKET at it (children and ipcctl inherit it); stop() ends that
daemon by its pid and removes the directory. spawn() and stop_process()
run and stop one more daemon (a test that restarts one); private() is
such a daemon that a test case's cleanup stops.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

_daemon = None
_dir = None
_log = None

# The Ctrl-C tests send SIGINT to child processes and wait for their
# KeyboardInterrupt. A make run in the background (`make check &` from a
# script) inherits SIGINT ignored, and Python keeps an ignored SIGINT
# ignored: those children would never answer and the tests would hang.
# A handler, unlike SIG_IGN, is reset to the default by exec, so with
# Python's own handler here every child handles SIGINT again.
signal.signal(signal.SIGINT, signal.default_int_handler)


# The daemon's max-memfd-size here: messages past the inline limit
# (msg_max) travel as memfds up to it; small, so tests stay light.
MEMFD_MAX = 2 << 20


def start(*extra):
    """Start a private ipcd; returns its socket path."""
    global _daemon, _dir, _log
    _dir = tempfile.mkdtemp(prefix="ipcd-py-")
    os.chmod(_dir, 0o755)  # other users may reach a --socket-mode 0666 socket
    sock = os.path.join(_dir, "ipcd.sock")
    _log = open(os.path.join(_dir, "ipcd.log"), "wb")
    _daemon = spawn(sock, _log, *extra)
    os.environ["IPCD_SOCKET"] = sock
    return sock


def private(case, prefix, *extra):
    """One more daemon, the unittest case's own, on a socket in a fresh
    directory (prefix), stopped and removed by the case's cleanup:
    (daemon, sock)."""
    d = tempfile.mkdtemp(prefix=prefix)
    case.addCleanup(shutil.rmtree, d, True)
    sock = os.path.join(d, "s.sock")
    log = open(os.path.join(d, "log"), "wb")
    case.addCleanup(log.close)
    daemon = spawn(sock, log, *extra)
    case.addCleanup(stop_process, daemon)
    return daemon, sock


def spawn(sock, log, *extra):
    """Run $IPCD_BIN on sock (output to the open file log) and wait until
    it accepts; returns the Popen (stop it with stop_process). Without a
    --state-dir in extra it keeps no journal: as root the default is
    /var/lib/ipcd, the system daemon's (or locked by another ipcd)."""
    if "--state-dir" not in extra:
        extra = ("--state-dir", "") + tuple(extra)
    d = subprocess.Popen([os.environ.get("IPCD_BIN", "ipcd"), "-s", sock,
                          "--busy-poll", "0", "--max-memfd-size", str(MEMFD_MAX)]
                         + list(extra), stdout=log, stderr=log)
    try:
        wait_listening(d, socket.AF_UNIX, sock, log.name)
    except BaseException:
        stop_process(d, signal.SIGKILL)
        raise
    return d


def wait_listening(proc, family, address, logname):
    """Wait up to 10 s until proc accepts connections at address."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.socket(family) as s:
                s.connect(address)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(logname) as f:
                    raise RuntimeError("%s did not start: %s" % (proc.args[0], f.read()))
            time.sleep(0.01)


def stop_process(proc, sig=signal.SIGTERM):
    """Send proc sig (SIGKILL after 10 s) unless it ended, and reap it."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop():
    """Stop the daemon start() made (by pid) and remove its directory."""
    global _daemon
    if _daemon is not None:
        stop_process(_daemon)
        _daemon = None
    if _log:
        _log.close()
    if _dir:
        shutil.rmtree(_dir, ignore_errors=True)


def ipcctl(*args, input=None):
    """Run the in-tree ipcctl on the private daemon: (rc, stdout bytes)."""
    p = subprocess.run([os.environ.get("IPCCTL_BIN", "ipcctl")] + list(args),
                       input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


def _run_delay(pid):
    """Seconds the threads of process pid have spent runnable but waiting
    for a CPU, from /proc/PID/task/*/schedstat (0 where there is none)."""
    total = 0
    try:
        tids = os.listdir("/proc/%s/task" % pid)
    except OSError:
        return 0.0
    for tid in tids:
        try:
            with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass  # the thread ended meanwhile
    return total / 1e9


def cpu_wait():
    """Seconds the private daemon and this process have waited for a CPU
    so far. A test bounding how late a timeout fires takes out the growth
    of this over the call: on a loaded machine a daemon whose timer fired
    on time can wait seconds for its turn, which says nothing of ipcd,
    while time it spent running or sleeping (a timer set too long, a wait
    that never ends) still counts."""
    own = _run_delay(os.getpid())
    return own + (_run_delay(_daemon.pid) if _daemon is not None else 0.0)


def sleeping(pid):
    """Whether process pid is asleep (blocked in a system call): state S
    in /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"


_seq = [0]


def fresh(prefix="q"):
    """A name not used before in this test run."""
    _seq[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid(), _seq[0])
