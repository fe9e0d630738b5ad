# SPDX-License-Identifier: MIT
"""Shared by the Python test modules: a private ipcd per module.

start() runs $IPCD_BIN on a socket in a temp directory and points
$IPCD_SOCKET at it (children and ipcctl inherit it); stop() ends that
daemon by its pid and removes the directory. spawn() and terminate() run
and stop one more daemon (a test that restarts one).
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


def spawn(sock, log, *extra):
    """Run $IPCD_BIN on sock (output to the file log) and wait until it
    accepts; returns the Popen. Stop it with terminate()."""
    d = subprocess.Popen([os.environ.get("IPCD_BIN", "ipcd"), "-s", sock,
                          "--busy-poll", "0"] + list(extra), stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
            return d
        except OSError:
            if d.poll() is not None or time.monotonic() > deadline:
                terminate(d)
                raise RuntimeError("ipcd did not start: " + open(log.name).read())
            time.sleep(0.01)


def terminate(d, sig=signal.SIGTERM):
    """Stop a daemon spawn() made, by its pid, and reap it."""
    if d.poll() is None:
        d.send_signal(sig)
    try:
        d.wait(10)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()


def stop():
    """Stop the daemon start() made (by pid) and remove its directory."""
    global _daemon
    if _daemon is not None:
        terminate(_daemon)
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


_seq = [0]


def fresh(prefix="q"):
    """A name not used before in this test run."""
    _seq[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid(), _seq[0])
