/* buf.c - bounded byte buffer. */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secure.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

void buf_free_secure(struct buf *b)
{
	secure_wipe(b->data, b->cap);
	buf_free(b);
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (buf_tailroom(b) >= n)
		return 0;
	if (n > b->max - b->len)
		return -ENOBUFS;
	/* Compact first: moving a little is cheaper than growing. */
	if (b->off) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	need = b->len + n;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(buf_tail(b), p, n);
	b->len += n;
	return 0;
}

int buf_append_strs(struct buf *b, const struct str *v, size_t n)
{
	size_t total = 0;
	uint8_t *t;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (v[i].len > SIZE_MAX - total)
			return -ENOBUFS;
		total += v[i].len;
	}
	r = buf_reserve(b, total);
	if (r < 0)
		return r;
	t = buf_tail(b);
	for (size_t i = 0; i < n; i++)
		if (v[i].len) {
			memcpy(t, v[i].p, v[i].len);
			t += v[i].len;
		}
	b->len += total;
	return 0;
}

int buf_append_u64(struct buf *b, uint64_t v)
{
	char d[20], *p = d + sizeof(d);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(b, p, (size_t)(d + sizeof(d) - p));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *tmp;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	if (buf_tailroom(b) > (size_t)n) {
		va_start(ap, fmt);
		vsnprintf((char *)buf_tail(b), (size_t)n + 1, fmt, ap);
		va_end(ap);
		b->len += (size_t)n;
		return 0;
	}
	/* No room for vsnprintf's NUL at the very end: go through a copy. */
	tmp = malloc((size_t)n + 1);
	if (!tmp)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = buf_append(b, tmp, (size_t)n);
	free(tmp);
	return r;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}
