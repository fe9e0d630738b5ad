# SPDX-License-Identifier: MIT
"""A client for ipcd in Python 3, standard library only.

Written from proto/PROTOCOL.md alone, without reading ipcd's C sources
(proto/, daemon/, client/), to check that the document is enough to write
a client in another language. The msgpack encoder and decoder below follow
the msgpack specification (https://github.com/msgpack/msgpack/blob/master/spec.md)
for the types the protocol uses. Where the document was silent, the gap was
fixed in the document, not guessed here.
"""

import socket
import struct

PROTO_VERSION = 1           # IPC_PROTO_VERSION
FRAME_MAX = 8388608         # PROTO_FRAME_MAX
BATCH_MAX = 1024            # IPC_BATCH_MAX
REQ_ITEMS_MAX = 1040        # PROTO_REQ_ITEMS_MAX
LIST_PAGE = 512             # PROTO_LIST_PAGE

# Ops, by number.
HELLO, QOPEN, QPUT, QGET, STAT, QDEL, LIST, PATTACH = 1, 2, 3, 4, 5, 6, 7, 8
PSEND, PRECV, PCLOSE, QPUTN, QGETN, PSENDN, PRECVN, QGETA, QACK = \
    9, 10, 11, 12, 13, 14, 15, 16, 17

# QOPEN flags; PATTACH flags.
OPEN_CREATE, OPEN_EXCL, OPEN_DURABLE = 0x1, 0x2, 0x4
PIPE_CREATE, PIPE_DUPLEX, PIPE_ONEWAY = 0x1, 0x2, 0x4

STATUS = {
    0: "IPC_OK", 1: "IPC_EEMPTY", 2: "IPC_EFULL", 3: "IPC_ENOENT",
    4: "IPC_EEXIST", 5: "IPC_EDELETED", 6: "IPC_EMISMATCH", 7: "IPC_ENAME",
    8: "IPC_ETOOBIG", 9: "IPC_EINVAL", 10: "IPC_EEOF", 11: "IPC_EBUSY",
    12: "IPC_EPIPE", 13: "IPC_EPERM", 14: "IPC_ESHUTDOWN", 15: "IPC_ELIMIT",
    16: "IPC_EWRONGTYPE", 17: "IPC_EDIRECTION", 18: "IPC_ECLOSED",
    19: "IPC_ENOTATTACHED", 20: "IPC_ENOTHELD", 21: "IPC_ENOSPC",
    22: "IPC_ENODURABLE",
    -1: "IPC_EIO", -2: "IPC_EPROTO", -3: "IPC_EVERSION", -4: "IPC_ENOMEM",
    -5: "IPC_ECONNECT", -6: "IPC_ETIMEDOUT",
}
globals().update({name: code for code, name in STATUS.items()})


class MsgpackError(ValueError):
    """Bytes that are not one well-formed msgpack object."""


# ---------------------------------------------------------------- msgpack

def _pack_int(n, out):
    """Appends the shortest msgpack encoding of the integer n."""
    if 0 <= n <= 0x7f:
        out.append(n)
    elif -32 <= n < 0:
        out.append(n & 0xff)
    elif n >= 0:
        for tag, fmt, top in ((0xcc, ">B", 0xff), (0xcd, ">H", 0xffff),
                              (0xce, ">I", 0xffffffff),
                              (0xcf, ">Q", 0xffffffffffffffff)):
            if n <= top:
                out.append(tag)
                out += struct.pack(fmt, n)
                return
        raise MsgpackError("integer too large: %d" % n)
    else:
        for tag, fmt, low in ((0xd0, ">b", -0x80), (0xd1, ">h", -0x8000),
                              (0xd2, ">i", -0x80000000),
                              (0xd3, ">q", -0x8000000000000000)):
            if n >= low:
                out.append(tag)
                out += struct.pack(fmt, n)
                return
        raise MsgpackError("integer too small: %d" % n)


def _pack_len(n, fix, fixmax, tags, out):
    """Appends a str/bin/array/map header: a fix form or 8/16/32-bit."""
    if fix is not None and n <= fixmax:
        out.append(fix | n)
        return
    for tag, fmt, top in zip(tags, (">B", ">H", ">I"), (0xff, 0xffff, 0xffffffff)):
        if tag is not None and n <= top:
            out.append(tag)
            out += struct.pack(fmt, n)
            return
    raise MsgpackError("length too large: %d" % n)


def _pack(obj, out):
    """Appends the msgpack encoding of obj (None, bool, int, float, str,
    bytes, list/tuple, dict)."""
    if obj is None:
        out.append(0xc0)
    elif obj is True or obj is False:
        out.append(0xc3 if obj else 0xc2)
    elif isinstance(obj, int):
        _pack_int(obj, out)
    elif isinstance(obj, float):
        out.append(0xcb)
        out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        raw = obj.encode("utf-8")
        _pack_len(len(raw), 0xa0, 31, (0xd9, 0xda, 0xdb), out)
        out += raw
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        raw = bytes(obj)
        _pack_len(len(raw), None, 0, (0xc4, 0xc5, 0xc6), out)
        out += raw
    elif isinstance(obj, (list, tuple)):
        _pack_len(len(obj), 0x90, 15, (None, 0xdc, 0xdd), out)
        for item in obj:
            _pack(item, out)
    elif isinstance(obj, dict):
        _pack_len(len(obj), 0x80, 15, (None, 0xde, 0xdf), out)
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    else:
        raise MsgpackError("cannot encode %r" % type(obj))


def packb(obj):
    """The msgpack encoding of obj, as bytes."""
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


class _Reader:
    """Decodes msgpack from a bytes object, front to back."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        """The next n bytes; MsgpackError when fewer are left."""
        if n > len(self.data) - self.pos:
            raise MsgpackError("truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def num(self, fmt):
        """The next big-endian number of struct format fmt."""
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def seq(self, n):
        """The next n objects, as a list."""
        return [self.obj() for _ in range(n)]

    def mapping(self, n):
        """The next n key/value pairs, as a dict."""
        result = {}
        for _ in range(n):
            key = self.obj()
            result[key] = self.obj()
        return result

    def obj(self):
        """The next object."""
        b = self.take(1)[0]
        if b <= 0x7f:
            return b
        if b >= 0xe0:
            return b - 0x100
        if 0x80 <= b <= 0x8f:
            return self.mapping(b & 0x0f)
        if 0x90 <= b <= 0x9f:
            return self.seq(b & 0x0f)
        if 0xa0 <= b <= 0xbf:
            return self.text(b & 0x1f)
        handler = _DECODE.get(b)
        if handler is None:
            raise MsgpackError("unsupported type byte 0x%02x" % b)
        return handler(self)

    def text(self, n):
        """The next n bytes as a UTF-8 str."""
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MsgpackError("str is not UTF-8") from exc


# Type bytes past the fix ranges; 0xc1 and the ext types are not valid here.
_DECODE = {
    0xc0: lambda r: None,
    0xc2: lambda r: False,
    0xc3: lambda r: True,
    0xc4: lambda r: r.take(r.num(">B")),
    0xc5: lambda r: r.take(r.num(">H")),
    0xc6: lambda r: r.take(r.num(">I")),
    0xca: lambda r: r.num(">f"),
    0xcb: lambda r: r.num(">d"),
    0xcc: lambda r: r.num(">B"),
    0xcd: lambda r: r.num(">H"),
    0xce: lambda r: r.num(">I"),
    0xcf: lambda r: r.num(">Q"),
    0xd0: lambda r: r.num(">b"),
    0xd1: lambda r: r.num(">h"),
    0xd2: lambda r: r.num(">i"),
    0xd3: lambda r: r.num(">q"),
    0xd9: lambda r: r.text(r.num(">B")),
    0xda: lambda r: r.text(r.num(">H")),
    0xdb: lambda r: r.text(r.num(">I")),
    0xdc: lambda r: r.seq(r.num(">H")),
    0xdd: lambda r: r.seq(r.num(">I")),
    0xde: lambda r: r.mapping(r.num(">H")),
    0xdf: lambda r: r.mapping(r.num(">I")),
}


def unpackb(data):
    """The one msgpack object data holds; MsgpackError on trailing bytes."""
    reader = _Reader(bytes(data))
    obj = reader.obj()
    if reader.pos != len(reader.data):
        raise MsgpackError("trailing bytes")
    return obj


# ---------------------------------------------------------------- client

class IpcError(Exception):
    """A reply with a non-zero status: .status, .name, .detail, .id, and
    .version for IPC_EVERSION (the daemon's version, when it says it)."""

    def __init__(self, status, detail=None, rid=None, version=None):
        self.status = status
        self.name = STATUS.get(status, "status %d" % status)
        self.detail = detail
        self.id = rid
        self.version = version
        super().__init__("%s%s" % (self.name, ": " + detail if detail else ""))

    @property
    def fatal(self):
        """A negative status: the daemon closes the connection."""
        return self.status < 0


class Reply:
    """One decoded reply: id, status, results (a list), detail (str or None)."""

    def __init__(self, frame):
        if not isinstance(frame, list) or len(frame) < 2:
            raise MsgpackError("a reply is an array of at least 2")
        self.id, self.status = frame[0], frame[1]
        if not isinstance(self.id, int) or not isinstance(self.status, int):
            raise MsgpackError("reply id and status are integers")
        self.results = frame[2:]
        self.detail = self.version = None
        if self.status != 0 and self.results and isinstance(self.results[0], str):
            self.detail = self.results[0]
        if self.status == IPC_EVERSION and len(self.results) == 2:
            self.version = self.results[1]

    def check(self):
        """The results; raises IpcError for a non-zero status."""
        if self.status != 0:
            raise IpcError(self.status, self.detail, self.id, self.version)
        return self.results


class Connection:
    """One connection to ipcd: framing, ids, pipelining, and one method per op.

    Blocking methods send a request and wait for its reply; send() and
    reply() split that in two so requests can be pipelined: replies that
    arrive for other ids are kept until asked for."""

    def __init__(self, path, hello=True, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.next_id = 1
        self.pending = {}
        self.rbuf = bytearray()
        self.server_version = self.msg_max = None
        if hello:
            self.hello()

    def close(self):
        """Closes the socket."""
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- framing

    def send_raw(self, payload):
        """Sends one frame holding payload (bytes) as is."""
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def send(self, op, *args, rid=None):
        """Sends the request [op, id, args...]; returns its id."""
        if rid is None:
            rid = self.next_id
            self.next_id = (self.next_id + 1) & 0xffffffff or 1
        self.send_raw(packb([op, rid] + list(args)))
        return rid

    def _fill(self, n):
        """Reads until the buffer holds n bytes; ConnectionError on EOF."""
        while len(self.rbuf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the daemon")
            self.rbuf += chunk

    def read_frame(self):
        """The next reply frame, decoded (any id)."""
        self._fill(4)
        length = struct.unpack(">I", self.rbuf[:4])[0]
        if length == 0 or length > FRAME_MAX:
            raise MsgpackError("bad frame length %d" % length)
        self._fill(4 + length)
        payload = bytes(self.rbuf[4:4 + length])
        del self.rbuf[:4 + length]
        return Reply(unpackb(payload))

    def reply(self, rid):
        """The reply to request rid, keeping others that come first."""
        while rid not in self.pending:
            rep = self.read_frame()
            self.pending[rep.id] = rep
        return self.pending.pop(rid)

    def next_reply(self):
        """The next reply in arrival order (a kept one first)."""
        if self.pending:
            return self.pending.pop(next(iter(self.pending)))
        return self.read_frame()

    def is_closed(self, wait=2.0):
        """True when the daemon has closed the connection (EOF within wait s)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.rbuf += chunk
        except socket.timeout:
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(old)

    def call(self, op, *args):
        """Sends a request and returns its results; IpcError on failure."""
        return self.reply(self.send(op, *args)).check()

    # --- ops

    def hello(self, version=PROTO_VERSION):
        """HELLO: returns (daemon version, msg_max)."""
        self.server_version, self.msg_max = self.call(HELLO, version)
        return self.server_version, self.msg_max

    def qopen(self, name, maxsize=0, flags=OPEN_CREATE, mode=None):
        """QOPEN: returns the queue's actual maxsize."""
        args = [name, maxsize, flags] + ([] if mode is None else [mode])
        return self.call(QOPEN, *args)[0]

    def put(self, name, data, timeout=-1):
        """QPUT."""
        self.call(QPUT, name, bytes(data), timeout)

    def get(self, name, timeout=-1):
        """QGET: returns the message."""
        return self.call(QGET, name, timeout)[0]

    def put_many(self, name, msgs, timeout=-1):
        """QPUTN: returns how many of msgs (a prefix) were taken."""
        return self.call(QPUTN, name, [bytes(m) for m in msgs], timeout)[0]

    def get_many(self, name, maxn, timeout=-1):
        """QGETN: returns 1..maxn messages."""
        return self.call(QGETN, name, maxn, timeout)[0]

    def get_ack(self, name, timeout=-1, lease=0):
        """QGETA: returns (message, tag)."""
        data, tag = self.call(QGETA, name, timeout, lease)
        return data, tag

    def ack(self, name, tag):
        """QACK."""
        self.call(QACK, name, tag)

    def stat(self, name):
        """STAT: returns the info dict."""
        return self.call(STAT, name)[0]

    def delete(self, name):
        """QDEL (a queue or a pipe)."""
        self.call(QDEL, name)

    def list_page(self, after=None):
        """LIST: one page, (infos, more). Without after: the first page."""
        res = self.call(LIST, *([] if after is None else [after]))
        return res[0], (res[1] if len(res) > 1 else 0)

    def list(self):
        """LIST, every page: all infos in name order."""
        infos, after = [], None
        while True:
            page, more = self.list_page(after)
            infos += page
            if not more or not page:
                return infos
            after = page[-1]["name"]

    def attach(self, name, end, flags=PIPE_CREATE, maxmsgs=0, maxbytes=0, mode=None):
        """PATTACH: returns (kind flags, maxmsgs, maxbytes)."""
        args = [name, end, flags, maxmsgs, maxbytes] + ([] if mode is None else [mode])
        return tuple(self.call(PATTACH, *args))

    def send_msg(self, name, end, data, timeout=-1):
        """PSEND."""
        self.call(PSEND, name, end, bytes(data), timeout)

    def recv_msg(self, name, end, timeout=-1):
        """PRECV: returns the message."""
        return self.call(PRECV, name, end, timeout)[0]

    def send_many(self, name, end, msgs, timeout=-1):
        """PSENDN: returns how many were taken."""
        return self.call(PSENDN, name, end, [bytes(m) for m in msgs], timeout)[0]

    def recv_many(self, name, end, maxn, timeout=-1):
        """PRECVN: returns 1..maxn messages."""
        return self.call(PRECVN, name, end, maxn, timeout)[0]

    def pclose(self, name, end):
        """PCLOSE."""
        self.call(PCLOSE, name, end)
