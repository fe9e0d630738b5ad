# SPDX-License-Identifier: MIT
"""ipcd driven by a client in another language, written from PROTOCOL.md.

Starts $IPCD_BIN on a private socket in a temporary directory, speaks to it
through ipcd_client.py only, and checks what proto/PROTOCOL.md promises.
Run by tests/foreign/run.sh from make check."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcd_client as ic  # noqa: E402

DAEMON = {}


def setUpModule():
    """Starts ipcd on a socket of its own; waits until it accepts."""
    tmp = tempfile.mkdtemp(prefix="ipcd-foreign-")
    sock, conf = os.path.join(tmp, "ipcd.sock"), os.path.join(tmp, "ipcd.conf")
    open(conf, "w").close()     # defaults, whatever /etc/ipcd.conf says
    log = open(os.path.join(tmp, "ipcd.log"), "wb")
    # A state directory of its own: as root the default is /var/lib/ipcd,
    # a system daemon's (locked by it: this ipcd would not start).
    proc = subprocess.Popen([os.environ["IPCD_BIN"], "-c", conf, "-s", sock,
                             "--state-dir", os.path.join(tmp, "state")],
                            stdout=log, stderr=subprocess.STDOUT)
    DAEMON.update(tmp=tmp, sock=sock, proc=proc, log=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            ic.Connection(sock, hello=False).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    tearDownModule()
    raise RuntimeError("ipcd did not start")


def daemon_log():
    """What ipcd wrote so far."""
    with open(os.path.join(DAEMON["tmp"], "ipcd.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


def tearDownModule():
    """Stops that ipcd by its pid (SIGTERM: exit 0) and removes its directory."""
    proc = DAEMON.get("proc")
    try:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            if rc != 0:
                raise RuntimeError("ipcd exited %d" % rc)
    finally:
        DAEMON["log"].close()
        sys.stderr.write(daemon_log()[-4000:] if proc is None or proc.returncode else "")
        if os.environ.get("IPCD_FOREIGN_KEEP"):
            print("kept", DAEMON["tmp"], file=sys.stderr)
        else:
            shutil.rmtree(DAEMON["tmp"], ignore_errors=True)


def conn(hello=True):
    """A new connection to the test daemon."""
    return ic.Connection(DAEMON["sock"], hello=hello, timeout=10)


class Base(unittest.TestCase):
    """Opens self.c (greeted) and closes it and any extra connections."""

    def setUp(self):
        self.conns = []
        self.c = self.open()

    def tearDown(self):
        for c in self.conns:
            c.close()

    def open(self, hello=True):
        """A connection closed at tearDown."""
        c = conn(hello)
        self.conns.append(c)
        return c

    def name(self, suffix=""):
        """A queue or pipe name of this test's own."""
        return (self.id().split(".")[-1] + suffix)[-128:]

    def fails(self, status, fn, *args):
        """Asserts that fn(*args) raises IpcError with status; returns it."""
        with self.assertRaises(ic.IpcError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.status, status, str(cm.exception))
        return cm.exception

    def wait_for(self, cond, seconds=5.0):
        """Polls cond() until it is true; fails after seconds."""
        deadline = time.monotonic() + seconds
        while not cond():
            self.assertLess(time.monotonic(), deadline, "condition never held")
            time.sleep(0.01)

    def fatal(self, c, rid, status=ic.IPC_EPROTO):
        """Asserts that the next reply has id rid (0: unreadable) and status,
        with a detail, and that the daemon then closed the connection."""
        rep = c.next_reply()
        self.assertEqual((rep.id, rep.status), (rid, status), rep.detail)
        self.assertIsInstance(rep.detail, str)
        self.assertTrue(c.is_closed(), "the daemon kept the connection")
        return rep


class Handshake(Base):
    """HELLO, version mismatch, requests around HELLO."""

    def test_hello_gives_version_and_msg_max(self):
        self.assertEqual(self.c.server_version, ic.PROTO_VERSION)
        self.assertEqual(self.c.msg_max, 1048576)

    def test_version_mismatch_closes(self):
        c = self.open(hello=False)
        rep = self.fatal(c, c.send(ic.HELLO, 2), ic.IPC_EVERSION)
        self.assertEqual(rep.version, ic.PROTO_VERSION)

    def test_hello_with_a_bad_value_keeps_waiting_for_hello(self):
        c = self.open(hello=False)
        self.fails(ic.IPC_EINVAL, c.hello, -1)
        self.assertEqual(c.hello(), (ic.PROTO_VERSION, 1048576))

    def test_request_before_hello_is_a_protocol_error(self):
        c = self.open(hello=False)
        self.fatal(c, c.send(ic.STAT, "x"))

    def test_second_hello_is_a_protocol_error(self):
        self.fatal(self.c, self.c.send(ic.HELLO, 1))


class Queues(Base):
    """QOPEN flags and modes, put/get, timeouts."""

    def test_open_create_excl_and_missing(self):
        q = self.name()
        self.fails(ic.IPC_ENOENT, self.c.qopen, q, 0, 0)
        self.assertEqual(self.c.qopen(q, 3), 3)
        self.assertEqual(self.c.qopen(q, -1, 0), 3)
        self.assertEqual(self.c.qopen(q, 3, ic.OPEN_CREATE), 3)
        self.fails(ic.IPC_EEXIST, self.c.qopen, q, 3, ic.OPEN_CREATE | ic.OPEN_EXCL)
        self.fails(ic.IPC_EMISMATCH, self.c.qopen, q, 4, 0)

    def test_open_bad_values_keep_the_connection(self):
        q = self.name()
        self.fails(ic.IPC_EINVAL, self.c.qopen, q, -2, ic.OPEN_CREATE)
        self.fails(ic.IPC_EINVAL, self.c.qopen, q, 0, 0x10)
        self.fails(ic.IPC_EINVAL, self.c.qopen, q, 0, ic.OPEN_CREATE, 0o1000)
        self.fails(ic.IPC_EINVAL, self.c.qopen, q, -1, ic.OPEN_CREATE)
        self.fails(ic.IPC_ENAME, self.c.qopen, ".hidden", 0)
        self.fails(ic.IPC_ENAME, self.c.qopen, "a" * 129, 0)
        self.fails(ic.IPC_ENAME, self.c.qopen, "a/b", 0)
        self.assertEqual(self.c.qopen(q, 0), 0)

    def test_mode_is_set_on_create_only(self):
        q = self.name()
        self.c.qopen(q, 0, ic.OPEN_CREATE, 0o600)
        self.c.qopen(q, 0, ic.OPEN_CREATE, 0o644)
        info = self.c.stat(q)
        self.assertEqual(info["mode"], 0o600)
        self.assertEqual(info["uid"], os.getuid())

    def test_opening_is_optional(self):
        q = self.name()
        self.fails(ic.IPC_ENOENT, self.c.put, q, b"x", 0)
        self.fails(ic.IPC_ENOENT, self.c.get, q, 0)
        self.open().qopen(q)
        self.c.put(q, b"x", 0)
        self.assertEqual(self.c.get(q, 0), b"x")

    def test_fifo_and_empty_message(self):
        q = self.name()
        self.c.qopen(q)
        for m in (b"1", b"", b"3" * 70000):
            self.c.put(q, m)
        self.assertEqual([self.c.get(q, 0) for _ in range(3)], [b"1", b"", b"3" * 70000])

    def test_get_times_out_empty(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_EEMPTY, self.c.get, q, 0)
        t0 = time.monotonic()
        self.fails(ic.IPC_EEMPTY, self.c.get, q, 150)
        self.assertGreaterEqual(time.monotonic() - t0, 0.14)

    def test_put_times_out_full(self):
        q = self.name()
        self.c.qopen(q, 1)
        self.c.put(q, b"a", 0)
        self.fails(ic.IPC_EFULL, self.c.put, q, b"b", 0)
        t0 = time.monotonic()
        self.fails(ic.IPC_EFULL, self.c.put, q, b"b", 150)
        self.assertGreaterEqual(time.monotonic() - t0, 0.14)
        self.assertEqual(self.c.stat(q)["size"], 1)

    def test_parked_get_is_woken_by_a_put(self):
        q = self.name()
        self.c.qopen(q)
        rid = self.c.send(ic.QGET, q, -1)
        self.open().put(q, b"late")
        self.assertEqual(self.c.reply(rid).check(), [b"late"])

    def test_too_big_and_bad_timeout_keep_the_connection(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_ETOOBIG, self.c.put, q, b"x" * (self.c.msg_max + 1), 0)
        self.fails(ic.IPC_EINVAL, self.c.put, q, b"x", -2)
        self.fails(ic.IPC_EINVAL, self.c.get, q, -2)
        self.assertEqual(self.c.stat(q)["size"], 0)

    def test_delete_answers_parked_requests(self):
        q = self.name()
        self.c.qopen(q)
        rid = self.c.send(ic.QGET, q, -1)
        self.open().delete(q)
        self.assertEqual(self.c.reply(rid).status, ic.IPC_EDELETED)
        self.fails(ic.IPC_ENOENT, self.c.stat, q)


class Batches(Base):
    """QPUTN/QGETN, PSENDN/PRECVN and the batch-size boundary."""

    def test_put_many_takes_what_fits(self):
        q = self.name()
        self.c.qopen(q, 3)
        self.assertEqual(self.c.put_many(q, [b"1", b"2", b"3", b"4", b"5"], 0), 3)
        self.fails(ic.IPC_EFULL, self.c.put_many, q, [b"4"], 0)
        self.assertEqual(self.c.get_many(q, 2, 0), [b"1", b"2"])
        self.assertEqual(self.c.get_many(q, 1024, 0), [b"3"])
        self.fails(ic.IPC_EEMPTY, self.c.get_many, q, 5, 0)

    def test_batch_bounds_are_einval(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_EINVAL, self.c.put_many, q, [], 0)
        self.fails(ic.IPC_EINVAL, self.c.get_many, q, 0, 0)
        self.fails(ic.IPC_EINVAL, self.c.get_many, q, 1025, 0)
        self.assertEqual(self.c.put_many(q, [b""] * ic.BATCH_MAX, 0), ic.BATCH_MAX)
        self.fails(ic.IPC_EINVAL, self.c.put_many, q, [b""] * (ic.BATCH_MAX + 1), 0)
        self.assertEqual(len(self.c.get_many(q, ic.BATCH_MAX, 0)), ic.BATCH_MAX)

    def test_object_limit_is_the_protocol_boundary(self):
        # [12, id, name, [bins], timeout]: 6 objects besides the bins.
        q = self.name()
        self.c.qopen(q)
        most = ic.REQ_ITEMS_MAX - 6
        self.assertEqual(most, 1034)
        self.fails(ic.IPC_EINVAL, self.c.put_many, q, [b""] * most, 0)
        # Past the bound, yet the id at the head is read and echoed.
        self.fatal(self.c, self.c.send(ic.QPUTN, q, [b""] * (most + 1), 0))

    def test_pipe_object_limit_counts_the_end(self):
        # [14, id, name, end, [bins], timeout]: 7 objects besides the bins.
        p = self.name()
        self.c.attach(p, 1)
        most = ic.REQ_ITEMS_MAX - 7
        self.fails(ic.IPC_EINVAL, self.c.send_many, p, 1, [b""] * most, 0)
        self.fatal(self.c, self.c.send(ic.PSENDN, p, 1, [b""] * (most + 1), 0))

    def test_too_big_element_puts_nothing(self):
        q = self.name()
        self.c.qopen(q)
        big = b"x" * (self.c.msg_max + 1)
        self.fails(ic.IPC_ETOOBIG, self.c.put_many, q, [b"a", big], 0)
        self.assertEqual(self.c.stat(q)["size"], 0)

    def test_parked_batch_gets_served_whole_in_waiting_order(self):
        q = self.name()
        self.c.qopen(q)
        a, b = self.open(), self.open()
        ra = a.send(ic.QGETN, q, 3, -1)
        self.wait_for(lambda: self.c.stat(q)["getters"] == 1)
        rb = b.send(ic.QGETN, q, 3, -1)
        self.wait_for(lambda: self.c.stat(q)["getters"] == 2)
        self.assertEqual(self.c.put_many(q, [b"1", b"2", b"3", b"4", b"5"]), 5)
        self.assertEqual(a.reply(ra).check()[0], [b"1", b"2", b"3"])
        self.assertEqual(b.reply(rb).check()[0], [b"4", b"5"])

    def test_pipe_batches(self):
        p = self.name()
        self.c.attach(p, 1, ic.PIPE_CREATE, 4)
        self.assertEqual(self.c.send_many(p, 1, [b"a", b"b", b"c", b"d", b"e"], 0), 4)
        r = self.open()
        r.attach(p, 0)
        self.assertEqual(r.recv_many(p, 0, 10, 0), [b"a", b"b", b"c", b"d"])


class AtLeastOnce(Base):
    """QGETA and QACK: redelivery after a disconnect or a lease."""

    def test_disconnect_redelivers_to_the_head(self):
        q = self.name()
        self.c.qopen(q)
        self.c.put_many(q, [b"first", b"second"])
        d = conn()
        data, tag = d.get_ack(q, 0)
        self.assertEqual(data, b"first")
        self.assertIsInstance(tag, int)
        self.assertEqual(self.c.stat(q)["inflight"], 1)
        d.close()
        # The daemon sees the close when it reads the EOF: wait for it.
        self.wait_for(lambda: self.c.stat(q)["inflight"] == 0)
        self.assertEqual(self.c.get_ack(q, 1000)[0], b"first")
        info = self.c.stat(q)
        self.assertEqual((info["requeued"], info["inflight"]), (1, 1))

    def test_ack_by_its_holder_only(self):
        q = self.name()
        self.c.qopen(q)
        self.c.put(q, b"m")
        data, tag = self.c.get_ack(q, 0)
        self.fails(ic.IPC_ENOTHELD, self.open().ack, q, tag)
        self.fails(ic.IPC_ENOTHELD, self.c.ack, q, tag + 1)
        self.c.ack(q, tag)
        self.fails(ic.IPC_ENOTHELD, self.c.ack, q, tag)
        self.assertEqual(self.c.stat(q)["inflight"], 0)

    def test_lease_expiry_redelivers(self):
        q = self.name()
        self.c.qopen(q)
        self.c.put(q, b"m")
        tag = self.c.get_ack(q, 0, 100)[1]
        self.assertEqual(self.open().get(q, 2000), b"m")
        self.fails(ic.IPC_ENOTHELD, self.c.ack, q, tag)
        self.fails(ic.IPC_EINVAL, self.c.get_ack, q, 0, -1)

    def test_inflight_counts_toward_maxsize(self):
        q = self.name()
        self.c.qopen(q, 1)
        self.c.put(q, b"m")
        tag = self.c.get_ack(q, 0)[1]
        self.fails(ic.IPC_EFULL, self.c.put, q, b"n", 0)
        self.c.ack(q, tag)
        self.c.put(q, b"n", 0)


class Pipes(Base):
    """PATTACH, PSEND, PRECV, PCLOSE, EOF and the errors on the way."""

    def test_oneway_send_close_then_eof(self):
        p = self.name()
        kind = self.c.attach(p, 1, ic.PIPE_CREATE | ic.PIPE_ONEWAY)
        self.assertEqual(kind, (ic.PIPE_ONEWAY, 64, 1048576))
        self.c.send_msg(p, 1, b"42")
        self.c.send_msg(p, 1, b"")
        self.fails(ic.IPC_EDIRECTION, self.c.recv_msg, p, 1, 0)
        self.c.pclose(p, 1)
        r = self.open()
        self.fails(ic.IPC_EMISMATCH, r.attach, p, 0, ic.PIPE_DUPLEX)
        r.attach(p, 0)
        self.assertEqual(r.recv_msg(p, 0), b"42")
        self.assertEqual(r.recv_msg(p, 0), b"")
        self.fails(ic.IPC_EEOF, r.recv_msg, p, 0)
        self.fails(ic.IPC_EDIRECTION, r.send_msg, p, 0, b"x")
        self.fails(ic.IPC_ECLOSED, self.open().attach, p, 1)

    def test_attach_mode_on_create_only(self):
        p = self.name()
        self.c.attach(p, 0, ic.PIPE_CREATE, 0, 0, 0o600)
        self.open().attach(p, 1, ic.PIPE_CREATE, 0, 0, 0o644)
        self.assertEqual(self.c.stat(p)["mode"], 0o600)
        self.fails(ic.IPC_EINVAL, self.c.attach, p + "x", 0, ic.PIPE_CREATE, 0, 0, 0o1000)

    def test_duplex_both_ways_and_busy(self):
        p = self.name()
        self.c.attach(p, 0)
        peer = self.open()
        self.assertEqual(peer.attach(p, 1, 0)[0], ic.PIPE_DUPLEX)
        self.fails(ic.IPC_EBUSY, self.open().attach, p, 1)
        self.fails(ic.IPC_EBUSY, peer.attach, p, 1)
        self.fails(ic.IPC_ENOTATTACHED, self.open().send_msg, p, 1, b"x")
        self.c.send_msg(p, 0, b"to1")
        peer.send_msg(p, 1, b"to0")
        self.assertEqual(peer.recv_msg(p, 1, 0), b"to1")
        self.assertEqual(self.c.recv_msg(p, 0, 0), b"to0")
        self.fails(ic.IPC_EEMPTY, self.c.recv_msg, p, 0, 50)

    def test_peer_disconnect_gives_epipe_and_eof(self):
        p = self.name()
        self.c.attach(p, 0)
        peer = conn()
        peer.attach(p, 1)
        rid = self.c.send(ic.PRECV, p, 0, -1)
        peer.close()
        self.assertEqual(self.c.reply(rid).status, ic.IPC_EEOF)
        self.fails(ic.IPC_EPIPE, self.c.send_msg, p, 0, b"x", 0)

    def test_pipe_bounds_full_and_bad_values(self):
        p = self.name()
        self.assertEqual(self.c.attach(p, 1, ic.PIPE_CREATE, 2, 100), (ic.PIPE_DUPLEX, 2, 100))
        self.c.send_msg(p, 1, b"a", 0)
        self.c.send_msg(p, 1, b"b", 0)
        self.fails(ic.IPC_EFULL, self.c.send_msg, p, 1, b"c", 0)
        self.fails(ic.IPC_EMISMATCH, self.open().attach, p, 0, 0, 3)
        self.fails(ic.IPC_EINVAL, self.c.attach, p, 2)
        self.fails(ic.IPC_EINVAL, self.c.attach, p + "x", 0, ic.PIPE_CREATE, 65537)
        self.fails(ic.IPC_EINVAL, self.c.attach, p + "x", 0,
                   ic.PIPE_CREATE | ic.PIPE_DUPLEX | ic.PIPE_ONEWAY)

    def test_one_namespace(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_EWRONGTYPE, self.c.attach, q, 0)
        p = self.name("p")
        self.c.attach(p, 0)
        self.fails(ic.IPC_EWRONGTYPE, self.c.put, p, b"x", 0)
        self.c.delete(p)
        self.fails(ic.IPC_ENOENT, self.c.stat, p)


class Inspect(Base):
    """STAT and LIST: info keys and types, paging."""

    QUEUE_KEYS = ("kind", "maxsize", "size", "bytes", "memory", "getters", "putters", "puts",
                  "gets", "inflight", "requeued", "uid", "gid", "mode", "durable")
    PIPE_KEYS = ("duplex", "ends", "maxbytes", "size01", "bytes01", "getters01",
                 "putters01", "size10", "bytes10", "getters10", "putters10")

    def test_queue_info(self):
        q = self.name()
        self.c.qopen(q, 5)
        self.c.put(q, b"abc")
        info = self.c.stat(q)
        self.assertEqual(info["name"], q)
        for key in self.QUEUE_KEYS:
            self.assertIsInstance(info[key], int, key)
        self.assertEqual((info["kind"], info["maxsize"], info["size"], info["bytes"],
                          info["puts"]), (1, 5, 1, 3, 1))
        # The footprint counts the per-message overhead: more than 3 bytes.
        self.assertGreater(info["memory"], info["bytes"])
        self.fails(ic.IPC_ENOENT, self.c.stat, q + "missing")

    def test_pipe_info(self):
        p = self.name()
        self.c.attach(p, 1, ic.PIPE_CREATE | ic.PIPE_ONEWAY)
        self.c.send_msg(p, 1, b"abcd")
        info = self.c.stat(p)
        for key in self.QUEUE_KEYS + self.PIPE_KEYS:
            self.assertIsInstance(info[key], int, key)
        self.assertEqual((info["kind"], info["duplex"], info["ends"], info["size10"],
                          info["bytes10"], info["size01"]), (2, 0, 0x2, 1, 4, 0))

    def test_list_pages(self):
        # More objects than one page (other tests' objects are listed too).
        prefix = "page."
        names = [prefix + "%04d" % i for i in range(ic.LIST_PAGE + 40)]
        c = self.c
        ids = [c.send(ic.QOPEN, n, 0, ic.OPEN_CREATE) for n in names]
        for rid in ids:
            c.reply(rid).check()
        first, more = c.list_page()
        self.assertEqual(len(first), ic.LIST_PAGE)
        self.assertEqual(more, 1)
        self.assertEqual(c.list_page(""), (first, more))
        listed = [i["name"] for i in c.list()]
        self.assertEqual(listed, sorted(listed, key=lambda n: n.encode()))
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual([n for n in listed if n.startswith(prefix)], names)
        page, more = c.list_page(names[100])
        self.assertEqual(page[0]["name"], names[101])
        page, more = c.list_page(listed[-1])
        self.assertEqual((page, more), ([], 0))
        self.fails(ic.IPC_ENAME, c.list_page, ".bad")

    def test_list_names_every_object(self):
        names = {self.name("q"), self.name("p")}
        self.c.qopen(self.name("q"))
        self.c.attach(self.name("p"), 0)
        listed = {i["name"]: i["kind"] for i in self.c.list()}
        self.assertEqual({n: listed.get(n) for n in names},
                         {self.name("q"): 1, self.name("p"): 2})


class Errors(Base):
    """Bad frames close the connection (parked requests cancelled); bad
    values do not."""

    def test_unknown_op_is_fatal_and_echoes_the_id(self):
        self.fatal(self.c, self.c.send(99, rid=1234))

    def test_trailing_element_is_fatal(self):
        self.fatal(self.c, self.c.send(ic.LIST, "", "extra", rid=1235))

    def test_wrong_shape_is_fatal(self):
        self.fatal(self.c, self.c.send(ic.QGET, "q", rid=77))

    def test_wrong_type_is_fatal(self):
        self.fatal(self.c, self.c.send(ic.QPUT, "q", "not a bin", 0, rid=78))

    def test_unreadable_id_is_zero(self):
        self.c.send_raw(ic.packb([ic.STAT, -1, "q"]))
        self.fatal(self.c, 0)

    def test_bad_msgpack_and_trailing_bytes_are_fatal(self):
        # The id is echoed whenever [op, id] at the head reads, else 0.
        for payload, rid in ((b"\xc1", 0), (ic.packb([ic.STAT, 5, "q"]) + b"\x00", 5),
                             (b"\x93\x05", 0),
                             (ic.packb([ic.STAT, 5, [[["deep"]]]]), 5)):
            c = self.open()
            c.send_raw(payload)
            self.fatal(c, rid)

    def test_zero_length_frame_is_fatal(self):
        self.c.sock.sendall(struct.pack(">I", 0))
        self.fatal(self.c, 0)

    def test_bad_frame_cancels_parked_requests(self):
        q = self.name()
        self.c.qopen(q)
        self.c.send(ic.QGET, q, -1)
        self.c.stat(q)
        self.c.send_raw(b"\xc1")
        self.fatal(self.c, 0)
        self.assertEqual(self.c.pending, {})
        other = self.open()
        other.put(q, b"kept")
        self.assertEqual(other.get(q, 0), b"kept")

    def test_bad_frame_requeues_inflight_and_flushes_earlier_replies(self):
        q = self.name()
        self.c.qopen(q)
        self.c.put(q, b"held")
        self.c.get_ack(q, 0)
        before = self.c.send(ic.STAT, q)
        # The bad frame and a request after it, in one write.
        after = ic.packb([ic.STAT, 999, q])
        self.c.sock.sendall(b"\0\0\0\1\xc1" + struct.pack(">I", len(after)) + after)
        self.assertEqual(self.c.next_reply().id, before)
        self.fatal(self.c, 0)
        self.assertNotIn(999, self.c.pending)
        self.assertEqual(self.open().get(q, 2000), b"held")

    def test_out_of_range_values_keep_the_connection(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_EINVAL, self.c.get_many, q, 2 ** 32, 0)
        self.fails(ic.IPC_EINVAL, self.c.recv_msg, q, 7, 0)
        self.fails(ic.IPC_ENAME, self.c.stat, "")
        self.c.put(q, b"still here", 0)

    def test_negative_unsigned_fields_are_einval(self):
        q = self.name()
        self.c.qopen(q)
        self.fails(ic.IPC_EINVAL, self.c.get_many, q, -1, 0)
        self.fails(ic.IPC_EINVAL, self.c.qopen, q, 0, -1)
        self.fails(ic.IPC_EINVAL, self.c.recv_msg, q, -1, 0)
        self.fails(ic.IPC_EINVAL, self.c.get, q, 2 ** 63)

    def test_negative_tag_is_fatal(self):
        self.fatal(self.c, self.c.send(ic.QACK, self.name(), -1, rid=5))

    def test_non_integer_is_fatal(self):
        self.fatal(self.c, self.c.send(ic.QGET, self.name(), None, rid=6))

    def test_id_over_32_bits_is_fatal_with_id_zero(self):
        self.c.send(ic.STAT, "q", rid=2 ** 32)
        self.fatal(self.c, 0)


class Pipelining(Base):
    """Several requests in flight, replies matched by id."""

    def test_parked_reply_comes_after_later_ones(self):
        q, r = self.name("q"), self.name("r")
        self.c.qopen(q)
        self.c.qopen(r)
        slow = self.c.send(ic.QGET, q, -1)
        fast = [self.c.send(ic.QPUT, r, b"%d" % i, -1) for i in range(50)]
        self.assertEqual([self.c.next_reply().id for _ in fast], fast)
        self.open().put(q, b"now")
        rep = self.c.next_reply()
        self.assertEqual((rep.id, rep.results), (slow, [b"now"]))

    def test_window_of_puts_then_gets(self):
        q = self.name()
        self.c.qopen(q)
        ids = [self.c.send(ic.QPUT, q, b"%d" % i, -1) for i in range(500)]
        for rid in ids:
            self.assertEqual(self.c.reply(rid).status, 0)
        ids = [self.c.send(ic.QGET, q, 0) for _ in range(500)]
        got = [self.c.reply(rid).check()[0] for rid in ids]
        self.assertEqual(got, [b"%d" % i for i in range(500)])


class Codec(unittest.TestCase):
    """The client's own msgpack: every width round-trips."""

    def test_round_trip(self):
        values = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 64 - 1,
                  -1, -32, -33, -128, -129, -32768, -32769, -2 ** 31, -2 ** 31 - 1,
                  -2 ** 63, "", "x" * 31, "x" * 32, "x" * 256, "x" * 65536, b"",
                  b"y" * 256, b"y" * 65536, [], list(range(16)), list(range(65536)),
                  {}, {"k%d" % i: i for i in range(16)}, None, True, False]
        for v in values:
            self.assertEqual(ic.unpackb(ic.packb(v)), v)
        self.assertEqual(ic.packb(5), b"\x05")
        self.assertEqual(ic.packb(-1), b"\xff")
        self.assertEqual(ic.packb(b"ab"), b"\xc4\x02ab")
        self.assertRaises(ic.MsgpackError, ic.unpackb, b"\xc1")
        self.assertRaises(ic.MsgpackError, ic.unpackb, b"\x05\x05")


if __name__ == "__main__":
    if "IPCD_BIN" not in os.environ:
        print("IPCD_BIN is not set", file=sys.stderr)
        sys.exit(2)
    unittest.main(verbosity=1)
