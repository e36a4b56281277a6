/*
 * buf.c - growable byte buffer with a hard cap.
 *
 * A write that would pass the cap fails whole and leaves the buffer as it
 * was: callers get -1 and decide what to tell the peer.  Growth doubles, so
 * appending n bytes one at a time costs O(n).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

/* Initialise an empty buffer capped at max bytes (0: no cap). */
void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Free the storage; the buffer is empty and reusable afterwards. */
void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Empty the buffer but keep its storage. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for need more bytes plus the NUL; -1 if that passes the cap. */
static int
buf_reserve(struct buf *b, size_t need)
{
	size_t	ncap;

	if (need > (size_t)-1 / 2 - b->len)
		return (-1);
	if (b->max != 0 && b->len + need > b->max)
		return (-1);
	if (b->len + need + 1 <= b->cap)
		return (0);
	ncap = b->cap == 0 ? 64 : b->cap;
	while (ncap < b->len + need + 1)
		ncap *= 2;
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
	return (0);
}

/* Append len bytes; 0 on success, -1 (buffer unchanged) past the cap. */
int
buf_add(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return (-1);
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (0);
}

int
buf_adds(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return (r);
}

/* Append printf output; -1 (buffer unchanged) past the cap. */
int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return (-1);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return (0);
}

/* Drop the first n bytes (all of them if n >= len). */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* The contents as a C string ("" when empty); valid until the next change. */
const char *
buf_str(const struct buf *b)
{
	return (b->data != NULL ? b->data : "");
}
