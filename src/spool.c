/*
 * spool.c - per-transaction body storage with bounded memory.
 *
 * A message is written here piece by piece as the DATA or BDAT decoder
 * produces it, and read back once when it is stored.  Small messages (the
 * common case) never touch the disk: they stay in one buffer that grows
 * to SPOOL_MEM_MAX bytes, and on to SPOOL_MEM_BIG with memory borrowed
 * from a budget all spools share (SPOOL_MEM_BUDGET), so a few messages of
 * a megabyte or two are stored straight from memory, without writing
 * them to a file and reading them back.  The first write that would pass
 * what a spool may hold moves the bytes to an anonymous temporary file;
 * the buffer shrinks back to SPOOL_MEM_MAX, returns what it borrowed and
 * is from then on the file's write buffer.  So memory stays bounded
 * however large and however many the messages are: SPOOL_MEM_MAX per
 * spool plus SPOOL_MEM_BUDGET in all.
 *
 * The file is created with O_TMPFILE where the file system allows it, or
 * with mkstemp() and unlinked at once, so it has no name and vanishes when
 * the process dies.  It is kept across spool_reset() (truncated) so a
 * connection sending many large messages opens it once.
 *
 * Bytes past the cap given to spool_reset() are counted but not kept: an
 * oversize message must be read to its end (RFC 1870: a server that
 * gets more data than it can take says 552 after the final dot) but
 * costs nothing to hold.
 *
 * This file must never keep more than SPOOL_MEM_MAX bytes in memory per
 * spool, plus its share of SPOOL_MEM_BUDGET.  Spools live on the event
 * loop's thread only, so the budget needs no lock.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "xmalloc.h"

#define SPOOL_KEEP_MAX	(8 * 1024)	/* buffer kept across resets */

struct spool {
	char		*buf;		/* memory bytes, or the write buffer */
	size_t		 buflen;	/* bytes used in buf */
	size_t		 bufcap;	/* bytes allocated for buf */
	int		 fd;		/* temporary file or -1 */
	int		 spilled;	/* bytes live in fd (+ buf) */
	uint64_t	 flen;		/* bytes written to fd */
	uint64_t	 size;		/* bytes offered, kept or not */
	uint64_t	 kept;		/* bytes kept (<= cap) */
	uint64_t	 cap;		/* bytes to keep at most; 0: all */
	int		 error;		/* errno of a failed file write */
	size_t		 limit;		/* bytes buf may hold now */
	size_t		 borrowed;	/* of limit, from the budget */
};

static size_t	spool_borrowed;	/* borrowed by all spools together */

static void	spool_cause(char **, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static int	spool_open_tmp(char **);
static int	spool_flush(struct spool *, char **);
static int	spool_spill(struct spool *, char **);
static int	spool_add(struct spool *, const char *, size_t, char **);
static void	spool_give_back(struct spool *);
static int	spool_borrow(struct spool *);

/* Set *cause, unless the caller passed NULL (it wants no message). */
static void
spool_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(cause, fmt, ap);
	va_end(ap);
}

/*
 * Create an empty spool with no cap.  It holds no file until a message
 * passes SPOOL_MEM_MAX.  Never returns NULL.
 */
struct spool *
spool_new(void)
{
	struct spool	*sp;

	sp = xcalloc(1, sizeof *sp);
	sp->fd = -1;
	sp->limit = SPOOL_MEM_MAX;
	return (sp);
}

/* Free the spool, its buffer and its file.  NULL is a no-op. */
void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	spool_give_back(sp);
	free(sp->buf);
	free(sp);
}

/*
 * Empty the spool for the next message and keep at most cap bytes of it
 * (0: no cap).  The buffer and the file are kept for reuse; a file that
 * cannot be truncated is closed and a new one made when needed.
 */
void
spool_reset(struct spool *sp, uint64_t cap)
{
	if (sp->fd != -1 && sp->flen > 0 && ftruncate(sp->fd, 0) == -1) {
		close(sp->fd);
		sp->fd = -1;
	}
	/*
	 * Keep a small buffer for the next message, but give a big one
	 * back: a thousand idle sessions must not each hold 64 KiB.
	 */
	if (sp->bufcap > SPOOL_KEEP_MAX) {
		free(sp->buf);
		sp->buf = NULL;
		sp->bufcap = 0;
	}
	spool_give_back(sp);
	sp->buflen = 0;
	sp->spilled = 0;
	sp->flen = 0;
	sp->size = 0;
	sp->kept = 0;
	sp->cap = cap;
	sp->error = 0;
}

/*
 * Open an unnamed temporary file in $TMPDIR (or /tmp).  Returns the
 * descriptor, or -1 with *cause set.
 */
static int
spool_open_tmp(char **cause)
{
	const char	*dir;
	char		*path;
	int		 fd, saved;

	dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return (fd);
	/* Not every file system supports O_TMPFILE: fall back. */
#endif
	xasprintf(&path, "%s/mailsink-spool.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		spool_cause(cause, "spool: temporary file in %s: %s", dir,
		    strerror(saved));
		free(path);
		errno = saved;
		return (-1);
	}
	if (unlink(path) == -1) {
		saved = errno;
		spool_cause(cause, "spool: unlink %s: %s", path,
		    strerror(saved));
		close(fd);
		free(path);
		errno = saved;
		return (-1);
	}
	free(path);
	return (fd);
}

/* Write the buffer to the end of the file; -1 with *cause on error. */
static int
spool_flush(struct spool *sp, char **cause)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < sp->buflen) {
		n = pwrite(sp->fd, sp->buf + off, sp->buflen - off,
		    (off_t)(sp->flen + off));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			sp->error = errno;
			spool_cause(cause, "spool: write: %s",
			    strerror(sp->error));
			return (-1);
		}
		off += (size_t)n;
	}
	sp->flen += sp->buflen;
	sp->buflen = 0;
	return (0);
}

/* Return what sp borrowed from the budget; its limit drops back. */
static void
spool_give_back(struct spool *sp)
{
	spool_borrowed -= sp->borrowed;
	sp->borrowed = 0;
	sp->limit = SPOOL_MEM_MAX;
}

/*
 * Let sp's buffer hold twice as much (at most SPOOL_MEM_BIG) if the
 * budget allows.  Returns 1 if it may, 0 if it must spill.
 */
static int
spool_borrow(struct spool *sp)
{
	size_t	 more;

	if (sp->spilled || sp->limit >= SPOOL_MEM_BIG)
		return (0);
	more = sp->limit;
	if (more > SPOOL_MEM_BIG - sp->limit)
		more = SPOOL_MEM_BIG - sp->limit;
	if (more > SPOOL_MEM_BUDGET - spool_borrowed)
		return (0);
	spool_borrowed += more;
	sp->borrowed += more;
	sp->limit += more;
	return (1);
}

/*
 * Move the memory bytes to the temporary file, and shrink the buffer
 * back to SPOOL_MEM_MAX, giving back what it borrowed.
 */
static int
spool_spill(struct spool *sp, char **cause)
{
	if (sp->fd == -1 && (sp->fd = spool_open_tmp(cause)) == -1) {
		sp->error = errno;
		return (-1);
	}
	sp->spilled = 1;
	sp->flen = 0;
	if (spool_flush(sp, cause) == -1)
		return (-1);
	if (sp->bufcap > SPOOL_MEM_MAX) {
		sp->buf = xrealloc(sp->buf, SPOOL_MEM_MAX);
		sp->bufcap = SPOOL_MEM_MAX;
	}
	spool_give_back(sp);
	return (0);
}

/* Keep len bytes: in memory, spilling or flushing as the buffer fills. */
static int
spool_add(struct spool *sp, const char *p, size_t len, char **cause)
{
	size_t	 n, ncap;

	while (len > 0) {
		if (sp->buflen == sp->limit && !spool_borrow(sp)) {
			if (!sp->spilled) {
				if (spool_spill(sp, cause) == -1)
					return (-1);
			} else if (spool_flush(sp, cause) == -1)
				return (-1);
		}
		n = sp->limit - sp->buflen;
		if (n > len)
			n = len;
		if (sp->buflen + n > sp->bufcap) {
			ncap = sp->bufcap == 0 ? 4096 : sp->bufcap;
			while (ncap < sp->buflen + n)
				ncap *= 2;
			if (ncap > sp->limit)
				ncap = sp->limit;
			sp->buf = xrealloc(sp->buf, ncap);
			sp->bufcap = ncap;
		}
		memcpy(sp->buf + sp->buflen, p, n);
		sp->buflen += n;
		sp->kept += n;
		p += n;
		len -= n;
	}
	return (0);
}

/*
 * Append len bytes of the message.  All of them are counted in
 * spool_size(); only those within the cap are kept.  Returns 0, or -1
 * with *cause set (unless cause is NULL; caller frees) when the temporary
 * file cannot be created or written; after that every write fails until
 * spool_reset().
 */
int
spool_write(struct spool *sp, const void *p, size_t len, char **cause)
{
	size_t	 keep;

	if (sp->error != 0) {
		spool_cause(cause, "spool: earlier write failed: %s",
		    strerror(sp->error));
		return (-1);
	}
	keep = len;
	if (sp->cap != 0) {
		if (sp->kept >= sp->cap)
			keep = 0;
		else if (sp->cap - sp->kept < keep)
			keep = (size_t)(sp->cap - sp->kept);
	}
	sp->size += len;
	return (spool_add(sp, p, keep, cause));
}

/* Bytes offered to spool_write() since the last reset, kept or not. */
uint64_t
spool_size(const struct spool *sp)
{
	return (sp->size);
}

/* Bytes kept: spool_size() unless the message went past the cap. */
uint64_t
spool_kept(const struct spool *sp)
{
	return (sp->kept);
}

/* 1 if the message went past the cap (so not all of it was kept). */
int
spool_oversize(const struct spool *sp)
{
	return (sp->cap != 0 && sp->size > sp->cap);
}

/*
 * Copy up to len kept bytes from offset off into buf.  Returns the number
 * copied (0 at the end), or -1 with *cause set (unless cause is NULL;
 * caller frees) on a read error.  Pending writes are flushed first, so
 * reads see every kept byte.
 */
ssize_t
spool_read(struct spool *sp, uint64_t off, void *buf, size_t len,
    char **cause)
{
	ssize_t	 n;
	int	 saved;

	if (off >= sp->kept || len == 0)
		return (0);
	if (len > sp->kept - off)
		len = (size_t)(sp->kept - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (!sp->spilled) {
		memcpy(buf, sp->buf + off, len);
		return ((ssize_t)len);
	}
	if (sp->buflen > 0 && spool_flush(sp, cause) == -1)
		return (-1);
	for (;;) {
		n = pread(sp->fd, buf, len, (off_t)off);
		if (n != -1)
			break;
		if (errno != EINTR) {
			saved = errno;
			spool_cause(cause, "spool: read: %s", strerror(saved));
			return (-1);
		}
	}
	if (n == 0) {
		spool_cause(cause, "spool: read: file shorter than expected");
		return (-1);
	}
	return (n);
}

/*
 * The kept bytes when they are all in memory, with their length in *len;
 * NULL when the spool has spilled to its file (read it with spool_read()).
 * The pointer is valid until the next write or reset, and is never NULL
 * for an empty in-memory spool.
 */
const char *
spool_mem(const struct spool *sp, size_t *len)
{
	if (sp->spilled)
		return (NULL);
	*len = sp->buflen;
	return (sp->buf != NULL ? sp->buf : "");
}
