/* SPDX-License-Identifier: MIT */
/* journal_seg.c: segment files (names, headers, creation) and record checks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal_int.h"

/* The file name of segment segno. */
void jseg_name(uint32_t segno, char name[16])
{
	snprintf(name, 16, "%08x.seg", (unsigned)segno);
}

/* The segment number of a file name, or 0 when it is not a segment. */
static uint32_t jseg_parse(const char *name)
{
	unsigned long v;
	char *end;
	size_t i;

	if (strlen(name) != 12 || strcmp(name + 8, ".seg") != 0)
		return 0;
	for (i = 0; i < 8; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return 0;
	v = strtoul(name, &end, 16);
	return end == name + 8 ? (uint32_t)v : 0;
}

/* qsort order of segment numbers. */
static int jseg_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Room for one more element in a growable array (journal_int.h). */
int jgrow(void *arrp, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *v, *nv;

	if (n < *cap)
		return 0;
	/* arrp is a T **: its pointer is read and written as bytes, as
	 * realloc's void * may not be stored through a void **. */
	memcpy(&v, arrp, sizeof(v));
	if (ncap < *cap || ncap > SIZE_MAX / size || !(nv = realloc(v, ncap * size)))
		return -ENOMEM;
	memcpy(arrp, &nv, sizeof(nv));
	*cap = ncap;
	return 0;
}

/* Segment numbers found in dirfd, ascending. */
int jseg_list(int dirfd, uint32_t **nos, size_t *n)
{
	struct dirent *de;
	uint32_t *v = NULL, no;
	size_t cap = 0, cnt = 0;
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if ((no = jseg_parse(de->d_name)) == 0)
			continue;
		if (jgrow(&v, cnt, &cap, sizeof(*v), 16) != 0) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v[cnt++] = no;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), jseg_cmp);
	*nos = v;
	*n = cnt;
	return 0;
}

/* Does dir hold segments? */
int journal_exists(const char *dir)
{
	uint32_t *nos = NULL;
	size_t n = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (jseg_list(fd, &nos, &n) != 0)
		n = 0;
	free(nos);
	close(fd);
	return n > 0;
}

/* Fill a segment header. */
void jseg_header(unsigned char *h, uint32_t segno, uint64_t next_mid,
		 uint32_t next_qid)
{
	memcpy(h, JSEG_MAGIC, 8);
	jle32(h + 8, JSEG_VERSION);
	jle32(h + 12, segno);
	jle64(h + 16, next_mid);
	jle32(h + 24, next_qid);
	jle32(h + 28, crc32c(0, h, 28));
}

/* Check a segment header against its file's number. */
int jseg_header_check(const unsigned char *h, uint32_t segno, uint64_t *mid,
		      uint32_t *qid)
{
	if (memcmp(h, JSEG_MAGIC, 8) != 0 || jld32(h + 8) != JSEG_VERSION ||
	    jld32(h + 12) != segno || jld32(h + 28) != crc32c(0, h, 28))
		return -1;
	*mid = jld64(h + 16);
	*qid = jld32(h + 24);
	return 0;
}

/* Create a segment file holding just its header. */
int jseg_create(struct journal *j, uint32_t segno)
{
	unsigned char h[JSEG_HDR];
	char name[16];
	ssize_t n;
	int fd, err;

	jseg_name(segno, name);
	fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	jseg_header(h, segno, j->next_mid, j->next_qid);
	n = pwrite(fd, h, sizeof(h), 0);
	if (n == (ssize_t)sizeof(h))
		return fd;
	err = n < 0 ? errno : ENOSPC;
	close(fd);
	unlinkat(j->dirfd, name, 0);
	return -err;
}

/* The index of segment segno (binary search: segs are ascending). */
ssize_t jseg_find(const struct journal *j, uint32_t segno)
{
	size_t lo = 0, hi = j->nsegs, mid;

	if (hi && j->segs[hi - 1].segno == segno)
		return (ssize_t)hi - 1;   /* the current one: most records */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (j->segs[mid].segno == segno)
			return (ssize_t)mid;
		if (j->segs[mid].segno < segno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Append a segment entry. */
int jseg_push(struct journal *j, uint32_t segno, uint64_t size)
{
	if (jgrow(&j->segs, j->nsegs, &j->capsegs, sizeof(*j->segs), 8) != 0)
		return -ENOMEM;
	j->segs[j->nsegs++] = (struct jseg){ .segno = segno, .size = size };
	j->bytes += size;
	return 0;
}

/* What jzero_fill writes from (a zero page of the binary: it costs no
 * memory). */
static const unsigned char jzeros[64u << 10];

/* Write len zeros to fd from offset from, 64 KiB a call: each call holds
 * the file's inode lock only that long, so the other thread's record
 * writes to the same file wait at most for one piece. 0, or -1 (the file
 * is cut back to from). */
int jzero_fill(int fd, uint64_t from, uint64_t len)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, jzeros, len - done < sizeof(jzeros) ?
			   (size_t)(len - done) : sizeof(jzeros),
			   (off_t)(from + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (ftruncate(fd, (off_t)from) != 0)
				(void)0; /* zeros past the end read as reserved space */
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/* Is the body of a record of this type well formed? */
static bool jrec_body_ok(unsigned type, const unsigned char *b, uint32_t len)
{
	switch (type) {
	case JREC_QUEUE:
		return len > JQUEUE_FIXED &&
		       len <= JQUEUE_FIXED + IPC_NAME_MAX + JQUEUE_EXT_MAX &&
		       jld32(b) != 0;
	case JREC_QDEL:
		return len == 4 && jld32(b) != 0;
	case JREC_PUT:
		return len >= JPUT_FIXED && jld64(b) != 0 && jld32(b + 8) != 0;
	case JREC_CONSUME:
	case JREC_DELIVER:
		return len >= 12 && (len - 4) % 8 == 0 &&
		       (len - 4) / 8 <= JREC_CONSUME_MAX && jld32(b) != 0;
	default:
		return false;
	}
}

/* A whole, valid record at p? Its type or 0. */
int jrec_check(const unsigned char *p, uint64_t avail)
{
	uint32_t len;

	if (avail < JREC_HDR || p[9] || p[10] || p[11] ||
	    p[8] < JREC_QUEUE || p[8] > JREC_DELIVER)
		return 0;
	len = jld32(p + 4);
	if (len > JREC_BODY_MAX || len > avail - JREC_HDR ||
	    !jrec_body_ok(p[8], p + JREC_HDR, len) ||
	    crc32c(0, p + 4, JREC_HDR - 4 + (size_t)len) != jld32(p))
		return 0;
	return p[8];
}
