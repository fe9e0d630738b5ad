/* SPDX-License-Identifier: MIT */
/*
 * pickle5.c: the default serializer's dumps/loads (ipcd._ipcd.pickle_dumps
 * and pickle_loads). For an exact int in the int32 range, bytes or str
 * they write and read the pickle themselves, byte for byte what
 * pickle.dumps(obj, 5) writes (so any pickle reader reads what they
 * write, and they read what pickle wrote); anything else goes to the
 * pickle module. They skip pickle's Pickler/Unpickler set-up, ~2,000
 * instructions per call, most of a small message's cost.
 *
 * Protocol 5 as CPython's _pickle.c writes it: PROTO 5, then the opcodes
 * in frames (FRAME + 8-byte length) where a frame under 4 bytes is left
 * without its header, a bytes or str payload of 64 KiB or more outside
 * any frame, a MEMOIZE after each bytes or str, STOP at the end.
 */
#include "_ipcd.h"

#include <stdint.h>
#include <string.h>
#include <malloc.h>

#define P_PROTO 0x80
#define P_FRAME 0x95
#define P_STOP '.'
#define P_MEMO 0x94
#define P_INT1 'K'     /* BININT1: u8 */
#define P_INT2 'M'     /* BININT2: u16 */
#define P_INT4 'J'     /* BININT: i32 */
#define P_BYTES1 'C'   /* SHORT_BINBYTES: u8 length */
#define P_BYTES4 'B'   /* BINBYTES: u32 length */
#define P_STR1 0x8c    /* SHORT_BINUNICODE: u8 length */
#define P_STR4 'X'     /* BINUNICODE: u32 length */

#define FRAME_HDR 9         /* FRAME and its u64 length */
#define FRAME_MIN 4         /* a shorter frame has no header */
#define FRAME_TARGET 65536  /* payloads this big go outside frames */
/* Sizes near FRAME_TARGET, where the frame is cut depends on details of
 * pickle's writer: those go to pickle itself. */
#define NEAR_TARGET 32

static PyObject *pickle_dumps_fn, *pickle_loads_fn, *protocol5;

/* Store v little-endian in n bytes at p. */
static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The little-endian n-byte number at p. */
static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The opcodes of a small int (op + up to 4 bytes) into body: their length. */
static size_t int_body(long v, unsigned char *body)
{
	if (v >= 0 && v <= 0xff) {
		body[0] = P_INT1;
		body[1] = (unsigned char)v;
		return 2;
	}
	if (v >= 0 && v <= 0xffff) {
		body[0] = P_INT2;
		put_le(body + 1, (uint64_t)v, 2);
		return 3;
	}
	body[0] = P_INT4;
	put_le(body + 1, (uint64_t)(uint32_t)(int32_t)v, 4);
	return 5;
}

/* The pickle of body (opcodes up to STOP, without it) followed by n
 * payload bytes and tail, framed as pickle frames them, as parts into
 * *mp: PROTO, the frame header and body (in buf), the payload (where it
 * is) and tail with STOP (in buf). */
static void frame_up(const unsigned char *body, size_t blen, const char *payload,
		     size_t n, const unsigned char *tail, size_t tlen,
		     unsigned char buf[PICKLE5_PARTS_BUF], struct msg_parts *mp)
{
	int outside = n >= FRAME_TARGET;
	size_t flen = blen + n + tlen + 1;
	int hdr = !outside && flen >= FRAME_MIN;
	unsigned char *p = buf;

	*p++ = P_PROTO;
	*p++ = 5;
	if (hdr) {
		*p++ = P_FRAME;
		put_le(p, flen, 8);
		p += 8;
	}
	memcpy(p, body, blen);
	p += blen;
	mp->base[0] = buf;
	mp->len[0] = (size_t)(p - buf);
	mp->base[1] = payload;
	mp->len[1] = n;
	memcpy(p, tail, tlen);
	p[tlen] = P_STOP;
	mp->base[2] = p;
	mp->len[2] = tlen + 1;
}

/* The pickle of a bytes or str payload (op1/op4: its short/long opcode)
 * as parts (frame_up): 1, or 0 when pickle must write it. */
static int dump_blob(const char *s, size_t n, unsigned char op1, unsigned char op4,
		     unsigned char buf[PICKLE5_PARTS_BUF], struct msg_parts *mp)
{
	static const unsigned char memo[1] = { P_MEMO };
	unsigned char body[5];
	size_t blen;

	if (n > UINT32_MAX || (n + NEAR_TARGET >= FRAME_TARGET && n < FRAME_TARGET))
		return 0;
	if (n < 256) {
		body[0] = op1;
		body[1] = (unsigned char)n;
		blen = 2;
	} else {
		body[0] = op4;
		put_le(body + 1, n, 4);
		blen = 5;
	}
	frame_up(body, blen, s, n, memo, 1, buf, mp);
	return 1;
}

/* The fast pickle of obj as parts; see _ipcd.h. */
int pickle5_parts(PyObject *obj, unsigned char buf[PICKLE5_PARTS_BUF], struct msg_parts *mp)
{
	unsigned char body[5];
	Py_ssize_t n;
	const char *s;
	int over;
	long v;

	if (PyLong_CheckExact(obj)) {
		v = PyLong_AsLongAndOverflow(obj, &over);
		if (over || v < INT32_MIN || v > INT32_MAX)
			return 0;
		frame_up(body, int_body(v, body), "", 0, (const unsigned char *)"", 0, buf, mp);
		return 1;
	}
	if (PyBytes_CheckExact(obj))
		return dump_blob(PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj),
				 P_BYTES1, P_BYTES4, buf, mp);
	if (PyUnicode_CheckExact(obj)) {
		if (!(s = PyUnicode_AsUTF8AndSize(obj, &n))) {
			PyErr_Clear();  /* lone surrogates: pickle's surrogatepass */
			return 0;
		}
		return dump_blob(s, (size_t)n, P_STR1, P_STR4, buf, mp);
	}
	return 0;
}

/* The bytes of a message's parts, joined. */
static PyObject *parts_join(const struct msg_parts *mp)
{
	PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)msg_parts_len(mp));

	if (out)
		msg_parts_copy(PyBytes_AS_STRING(out), mp);
	return out;
}

PyDoc_STRVAR(pickle_dumps_doc, "pickle_dumps(obj) -> bytes\n--\n\n"
	     "pickle.dumps(obj, 5), faster for an int, bytes or str.");
/* pickle_dumps(). */
static PyObject *py_pickle_dumps(PyObject *mod, PyObject *obj)
{
	unsigned char buf[PICKLE5_PARTS_BUF];
	struct msg_parts mp;

	(void)mod;
	if (pickle5_parts(obj, buf, &mp))
		return parts_join(&mp);
	return PyObject_CallFunctionObjArgs(pickle_dumps_fn, obj, protocol5, NULL);
}

/* A pickle's opcodes after PROTO 5 with framing removed: body/blen. */
struct unframed {
	const unsigned char *p;
	size_t n;
};

/* Strip PROTO 5 and a frame header whose length is the rest: 0, or -1
 * when the pickle is not of that shape. */
static int unframe(const unsigned char *p, size_t n, struct unframed *u)
{
	if (n < 3 || p[0] != P_PROTO || p[1] != 5)
		return -1;
	p += 2;
	n -= 2;
	if (p[0] == P_FRAME) {
		if (n < FRAME_HDR || get_le(p + 1, 8) != n - FRAME_HDR)
			return -1;
		p += FRAME_HDR;
		n -= FRAME_HDR;
	}
	u->p = p;
	u->n = n;
	return 0;
}

/* An int from its opcode (u->p[0]) through STOP, or NULL. */
static PyObject *load_int(const struct unframed *u)
{
	static const int width[3] = { 1, 2, 4 };
	int k = u->p[0] == P_INT1 ? 0 : u->p[0] == P_INT2 ? 1 : u->p[0] == P_INT4 ? 2 : -1;

	if (k < 0 || u->n != (size_t)width[k] + 2 || u->p[u->n - 1] != P_STOP)
		return NULL;
	if (k == 2)
		return PyLong_FromLong((int32_t)(uint32_t)get_le(u->p + 1, 4));
	return PyLong_FromLong((long)get_le(u->p + 1, width[k]));
}

/* A bytes or str from its opcode through MEMOIZE STOP, or NULL (an
 * exception set only on failure). */
static PyObject *load_blob(const struct unframed *u)
{
	unsigned char op = u->p[0];
	int w = op == P_BYTES1 || op == P_STR1 ? 1 : op == P_BYTES4 || op == P_STR4 ? 4 : 0;
	const char *s;
	size_t len;

	if (!w || u->n < (size_t)w + 3 || u->p[u->n - 2] != P_MEMO || u->p[u->n - 1] != P_STOP)
		return NULL;
	len = (size_t)get_le(u->p + 1, w);
	if (len != u->n - (size_t)w - 3)
		return NULL;
	s = (const char *)u->p + 1 + w;
	if (op == P_BYTES1 || op == P_BYTES4)
		return PyBytes_FromStringAndSize(s, (Py_ssize_t)len);
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "surrogatepass");
}

/* The object of a pickle of one of the shapes pickle_dumps writes
 * itself, or NULL (an exception set only on failure) for pickle. */
PyObject *pickle5_load_fast(const void *p, size_t n)
{
	struct unframed u;
	PyObject *obj;

	if (unframe(p, n, &u) || u.n < 2)
		return NULL;
	if ((obj = load_int(&u)))
		return obj;
	return load_blob(&u);
}

PyDoc_STRVAR(pickle_loads_doc, "pickle_loads(data) -> object\n--\n\n"
	     "pickle.loads(data), faster for the pickle of an int, bytes or str.");
/* pickle_loads(data), for _ipcd.c too. */
PyObject *pickle5_loads(PyObject *data)
{
	PyObject *obj = NULL;
	Py_buffer view;

	if (PyBytes_CheckExact(data)) {
		obj = pickle5_load_fast((const unsigned char *)PyBytes_AS_STRING(data),
				(size_t)PyBytes_GET_SIZE(data));
	} else if (PyObject_CheckBuffer(data)) {
		if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
			return NULL;
		obj = pickle5_load_fast(view.buf, (size_t)view.len);
		PyBuffer_Release(&view);
	}
	if (obj || PyErr_Occurred())
		return obj;
	return PyObject_CallOneArg(pickle_loads_fn, data);
}

/* pickle_loads(). */
static PyObject *py_pickle_loads(PyObject *mod, PyObject *data)
{
	(void)mod;
	return pickle5_loads(data);
}

/*
 * Let glibc keep freed memory for the next batch. A get_many of 64
 * messages of 64 KiB makes 4-8 MiB of bytes objects at the top of the
 * heap and frees them together; glibc gives back free space over 128 KiB
 * at the top (M_TRIM_THRESHOLD), so the next batch faults every page in
 * again (31 faults a message, most of the consumer's time). glibc raises
 * the trim threshold to twice a freed mmapped block's size by itself
 * (unless the user set the thresholds): one free of an 8 MiB block does
 * now what the first large object freed would do later.
 */
static void keep_freed_batches(void)
{
	void *volatile p = malloc((size_t)8 << 20);

	free(p);
}

static PyMethodDef pickle5_methods[] = {
	{ "pickle_dumps", py_pickle_dumps, METH_O, pickle_dumps_doc },
	{ "pickle_loads", py_pickle_loads, METH_O, pickle_loads_doc },
	{ NULL, NULL, 0, NULL }
};

/* Add pickle_dumps/pickle_loads to module m: 0 or -1. */
int pickle5_init(PyObject *m)
{
	PyObject *pickle = PyImport_ImportModule("pickle");

	if (!pickle)
		return -1;
	pickle_dumps_fn = PyObject_GetAttrString(pickle, "dumps");
	pickle_loads_fn = PyObject_GetAttrString(pickle, "loads");
	Py_DECREF(pickle);
	if (!pickle_dumps_fn || !pickle_loads_fn || !(protocol5 = PyLong_FromLong(5)))
		return -1;
	keep_freed_batches();
	return PyModule_AddFunctions(m, pickle5_methods);
}
