/* buf.h - a bounded byte buffer for streaming I/O.
 *
 * Readable bytes are data[off, off+len). Writers reserve space at the tail,
 * readers consume at the head. `max` bounds growth: a buffer never holds
 * more than `max` bytes, which is how back-pressure is expressed (a full
 * buffer stops reading from its source). */
#ifndef POSTERN_CORE_BUF_H
#define POSTERN_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

struct buf {
	uint8_t *data;
	size_t off;	/* start of readable bytes */
	size_t len;	/* readable bytes */
	size_t cap;	/* allocated bytes */
	size_t max;	/* hard limit on cap */
};

/* Initializes an empty buffer that may grow to `max` bytes (no allocation). */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Like buf_free, wiping the bytes first (buffers that held secrets). */
void buf_free_secure(struct buf *b);

/* Head and tail of a never-allocated buffer are NULL (no NULL + 0). */
static inline uint8_t *buf_head(const struct buf *b)
{
	return b->data ? b->data + b->off : NULL;
}
static inline uint8_t *buf_tail(const struct buf *b)
{
	return b->data ? b->data + b->off + b->len : NULL;
}
/* Bytes writable at the tail without moving or growing. */
static inline size_t buf_tailroom(const struct buf *b)
{
	return b->cap - b->off - b->len;
}
/* Bytes that may still be added before hitting `max`. */
static inline size_t buf_room(const struct buf *b)
{
	return b->max - b->len;
}
static inline bool buf_full(const struct buf *b)
{
	return b->len >= b->max;
}

/* Makes at least `n` bytes writable at the tail (compacting, then growing
 * up to `max`). Returns 0, -ENOBUFS if `n` does not fit under `max`, or
 * -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
/* Marks `n` bytes written at the tail as readable. */
void buf_commit(struct buf *b, size_t n);
/* Appends bytes. Returns 0, -ENOBUFS or -ENOMEM; nothing is added on error. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends the n views v[0..n) in order, as one append: all of them, or
 * nothing (-ENOBUFS or -ENOMEM). For heads built on the request path,
 * where printf's format parsing (twice: buf_printf measures, then writes)
 * cost more than the copying; BUF_APPEND(b, STR_LIT("A: "), v, ...) is
 * the usual way to call it. Returns 0 or -errno. */
int buf_append_strs(struct buf *b, const struct str *v, size_t n);
#define BUF_APPEND(b, ...)                                                   \
	buf_append_strs((b), (const struct str[]){ __VA_ARGS__ },            \
			sizeof((const struct str[]){ __VA_ARGS__ }) / sizeof(struct str))
/* Appends v in decimal. Returns 0, -ENOBUFS or -ENOMEM. */
int buf_append_u64(struct buf *b, uint64_t v);
/* Appends printf output. Returns 0, -ENOBUFS or -ENOMEM. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drops `n` readable bytes from the head. */
void buf_consume(struct buf *b, size_t n);
/* Drops everything, keeping the storage. */
static inline void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

#endif
