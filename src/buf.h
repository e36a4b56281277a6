/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that grows with peer input is a struct buf with a cap, so
 * a client can never make the server allocate without bound (STYLE 25).
 * The data is always NUL-terminated (not counted in len) so text can be
 * used as a C string.
 */
#ifndef MAILSINK_BUF_H
#define MAILSINK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* bytes, NUL-terminated; NULL when empty */
	size_t	 len;		/* bytes used, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* hard cap on len; 0 means no cap */
};

void	buf_init(struct buf *, size_t);
void	buf_clear(struct buf *);
void	buf_reset(struct buf *);
int	buf_add(struct buf *, const void *, size_t);
int	buf_adds(struct buf *, const char *);
int	buf_addf(struct buf *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));
void	buf_consume(struct buf *, size_t);
const char *buf_str(const struct buf *);

#endif /* MAILSINK_BUF_H */
