/* SPDX-License-Identifier: MIT */
/*
 * check.c: a bounded, non-allocating walk over one untrusted msgpack
 * object. It runs before msgpack-c sees a frame, so every length and count
 * msgpack-c would trust (and allocate for) is known to fit in the bytes
 * actually received. Iterative, with a fixed stack: no input can make it
 * recurse or allocate.
 */
#include <stdarg.h>
#include <stdio.h>

#include "proto.h"

/* Deepest nesting the walk can track (max_depth is capped to this). */
#define CHECK_DEPTH_CAP 32

enum tag_kind {
	TAG_SCALAR,     /* fixed size: width payload bytes follow the tag */
	TAG_STR,        /* width length bytes, then that many bytes */
	TAG_BIN,
	TAG_ARRAY,      /* width count bytes, then count objects */
	TAG_MAP,        /* width count bytes, then 2 * count objects */
	TAG_EXT,        /* never valid, but for the memfd marker */
	TAG_RESERVED,   /* 0xc1 */
};

struct tag {
	unsigned char kind;
	unsigned char width;
};

/* A family of n tags of one kind (msgpack's "bin 8/16/32"), each one's
 * width twice the one's before it. */
#define TAGS2(kind, width) { kind, width }, { kind, 2 * (width) }
#define TAGS3(kind, width) TAGS2(kind, width), { kind, 4 * (width) }
#define TAGS4(kind, width) TAGS3(kind, width), { kind, 8 * (width) }

/* The tags 0xc0..0xdf, family by family as the msgpack spec lists them;
 * the fix* ranges are decoded in check_tag(). */
static const struct tag check_tags[] = {
	{ TAG_SCALAR, 0 },                      /* 0xc0 nil */
	{ TAG_RESERVED, 0 },                    /* 0xc1 never used */
	TAGS2(TAG_SCALAR, 0),                   /* 0xc2..0xc3 false, true */
	TAGS3(TAG_BIN, 1),                      /* 0xc4..0xc6 bin 8/16/32 */
	TAGS3(TAG_EXT, 0),                      /* 0xc7..0xc9 ext 8/16/32 */
	TAGS2(TAG_SCALAR, 4),                   /* 0xca..0xcb float 32/64 */
	TAGS4(TAG_SCALAR, 1),                   /* 0xcc..0xcf uint 8..64 */
	TAGS4(TAG_SCALAR, 1),                   /* 0xd0..0xd3 int 8..64 */
	TAGS4(TAG_EXT, 0), { TAG_EXT, 0 },      /* 0xd4..0xd8 fixext 1..16 */
	TAGS3(TAG_STR, 1),                      /* 0xd9..0xdb str 8/16/32 */
	TAGS2(TAG_ARRAY, 2),                    /* 0xdc..0xdd array 16/32 */
	TAGS2(TAG_MAP, 2),                      /* 0xde..0xdf map 16/32 */
};
_Static_assert(sizeof(check_tags) / sizeof(check_tags[0]) == 32,
	       "one entry for each tag 0xc0..0xdf");

/* The walk's cursor and error sink. */
struct walk {
	const unsigned char *p;
	size_t n;
	size_t off;
	char *err;
	size_t errlen;
};

/* Record why the object is rejected; returns IPC_EPROTO. */
static int check_fail(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err != NULL && w->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
	return IPC_EPROTO;
}

/* Classify tag byte b; *inl gets the length or count of a fix* tag. */
static struct tag check_tag(unsigned char b, uint32_t *inl)
{
	static const struct tag scalar = { TAG_SCALAR, 0 };
	struct tag t;

	*inl = 0;
	if (b <= 0x7f || b >= 0xe0)
		return scalar;
	if (b >= 0xc0)
		return check_tags[b - 0xc0];
	if (b >= 0xa0) {
		t.kind = TAG_STR;
		*inl = b & 0x1f;
	} else if (b >= 0x90) {
		t.kind = TAG_ARRAY;
		*inl = b & 0x0f;
	} else {
		t.kind = TAG_MAP;
		*inl = b & 0x0f;
	}
	t.width = 0;
	return t;
}

/* Big-endian unsigned of width 1, 2 or 4 bytes. */
static uint32_t check_be(const unsigned char *p, unsigned width)
{
	uint32_t v = 0;

	while (width-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* Check a str or bin body of len bytes and step over it. */
static int check_body(struct walk *w, const char *what, uint32_t len)
{
	if (len > w->n - w->off)
		return check_fail(w, "%s header claims %lu bytes, %zu bytes left",
				  what, (unsigned long)len, w->n - w->off);
	w->off += len;
	return 0;
}

/* Check the container header's claim of kids objects against the bytes left. */
static int check_kids(struct walk *w, const char *what, uint32_t count,
		      uint64_t kids, uint64_t *out)
{
	if (kids > w->n - w->off)
		return check_fail(w, "%s header claims %lu %s, %zu bytes left",
				  what, (unsigned long)count,
				  kids == count ? "elements" : "pairs",
				  w->n - w->off);
	*out = kids;
	return 0;
}

/*
 * Read one object header at w->off and step over it and any payload that is
 * not itself objects. *kids is set to the number of child objects (-1 for
 * a scalar, so an empty container is still a container).
 */
static int check_header(struct walk *w, int64_t *kids)
{
	unsigned char b;
	uint32_t len;
	uint64_t k = 0;
	struct tag t;
	int rc;

	*kids = -1;
	if (w->off >= w->n)
		return check_fail(w, "truncated: object expected at offset %zu",
				  w->off);
	b = w->p[w->off++];
	t = check_tag(b, &len);
	if (t.kind == TAG_RESERVED)
		return check_fail(w, "reserved byte 0x%02x at offset %zu", b,
				  w->off - 1);
	if (t.kind == TAG_EXT && b == 0xd7 && w->off < w->n &&
	    w->p[w->off] == PROTO_EXT_MEMFD) {
		/* The one ext allowed: a memfd marker, type + 8 bytes. */
		t.kind = TAG_SCALAR;
		t.width = PROTO_MEMFD_MARK_LEN - 1;
	}
	if (t.kind == TAG_EXT)
		return check_fail(w, "ext type 0x%02x at offset %zu not allowed",
				  b, w->off - 1);
	if (t.width > w->n - w->off)
		return check_fail(w, "truncated header 0x%02x at offset %zu", b,
				  w->off - 1);
	if (t.kind == TAG_SCALAR) {
		w->off += t.width;
		return 0;
	}
	if (t.width > 0) {
		len = check_be(w->p + w->off, t.width);
		w->off += t.width;
	}
	switch (t.kind) {
	case TAG_STR:
		return check_body(w, "str", len);
	case TAG_BIN:
		return check_body(w, "bin", len);
	case TAG_ARRAY:
		rc = check_kids(w, "array", len, len, &k);
		break;
	default:
		rc = check_kids(w, "map", len, 2 * (uint64_t)len, &k);
		break;
	}
	if (rc == 0)
		*kids = (int64_t)k;
	return rc;
}

/* Walk one object: bounded claims, depth and object count, exact end. */
int proto_check_items(const unsigned char *p, size_t n, unsigned max_depth,
		      size_t max_items, char *err, size_t errlen)
{
	struct walk w = { p, n, 0, err, errlen };
	uint64_t left[CHECK_DEPTH_CAP + 1]; /* objects still due per level */
	uint64_t items = 1;                 /* objects announced so far */
	unsigned d = 0;
	int64_t kids;
	int rc;

	if (max_depth > CHECK_DEPTH_CAP)
		max_depth = CHECK_DEPTH_CAP;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (max_items == 0)
		return check_fail(&w, "no object allowed");
	left[0] = 1;
	for (;;) {
		while (d > 0 && left[d] == 0)
			d--;
		if (left[d] == 0)
			break;
		left[d]--;
		rc = check_header(&w, &kids);
		if (rc)
			return rc;
		if (kids < 0)
			continue;
		if (d + 1 > max_depth)
			return check_fail(&w, "nesting deeper than %u at offset %zu",
					  max_depth, w.off);
		items += (uint64_t)kids;
		if (items > max_items)
			return check_fail(&w, "more than %zu objects", max_items);
		left[++d] = (uint64_t)kids;
	}
	if (w.off != n)
		return check_fail(&w, "%zu trailing bytes after the object",
				  n - w.off);
	return 0;
}

/* Walk one object with no limit on the number of objects. */
int proto_check(const unsigned char *p, size_t n, unsigned max_depth,
		char *err, size_t errlen)
{
	return proto_check_items(p, n, max_depth, SIZE_MAX, err, errlen);
}
