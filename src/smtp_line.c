/*
 * smtp_line.c - command framing: bytes in, complete command lines out.
 *
 * The framer is fed whatever the connection read and hands back one line
 * per call, NUL-terminated and without its line end, so the session never
 * sees a partial line.  It never holds more than SMTP_LINE_MAX bytes: a
 * line that grows past the limit is dropped byte by byte up to its LF and
 * reported once as SMTP_LINE_TOO_LONG, so a peer streaming a 10 MB "line"
 * costs no more memory than a polite one.
 *
 * A line ends at LF.  A CR just before that LF is part of the CRLF line end,
 * wherever the two bytes fall in the input: the CR is simply kept with the
 * partial line and stripped once the LF arrives, which makes the framer safe
 * at any split point without a separate "saw CR" state.  Everything about a
 * line (bare LF, bare CR, NUL) is decided on the completed line, so the
 * result never depends on how the input was cut into feeds.
 *
 * This file must never do I/O or interpret the command: it only frames.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp_line.h"
#include "xmalloc.h"

/*
 * Most text octets a line may have: SMTP_LINE_MAX less the CRLF.  A line
 * ended by a bare LF gets the same text limit, so whether a command fits
 * never depends on which line end the client used.
 */
#define SMTP_LINE_TEXT_MAX	(SMTP_LINE_MAX - 2)

/*
 * Most bytes held for a partial line: the text plus the CR of a CRLF whose
 * LF has not arrived yet.
 */
#define SMTP_LINE_HOLD_MAX	(SMTP_LINE_TEXT_MAX + 1)

struct smtp_line {
	char	buf[SMTP_LINE_HOLD_MAX + 1]; /* partial line, then the
					     completed text and its NUL */
	size_t	len;		/* bytes of partial line in buf */
	int	discard;	/* line passed the limit: drop up to LF */
};

/* Return a new, empty framer; never NULL.  Free it with smtp_line_free. */
struct smtp_line *
smtp_line_new(void)
{
	return (xcalloc(1, sizeof(struct smtp_line)));
}

/* Free a framer; NULL is a no-op. */
void
smtp_line_free(struct smtp_line *f)
{
	free(f);
}

/*
 * Forget the partial line, including a too-long line being discarded.
 * RFC 3207 4.2: at STARTTLS, nothing the client sent in the clear may be
 * carried over into the TLS session.
 */
void
smtp_line_reset(struct smtp_line *f)
{
	f->len = 0;
	f->discard = 0;
}

/*
 * Return how many bytes of partial line the framer holds (always at most
 * SMTP_LINE_MAX; 0 while a too-long line is being discarded).
 */
size_t
smtp_line_pending(const struct smtp_line *f)
{
	return (f->len);
}

/* Append n bytes of a line, or switch to discarding if they do not fit. */
static void
smtp_line_hold(struct smtp_line *f, const char *p, size_t n)
{
	if (f->discard)
		return;
	if (n > SMTP_LINE_HOLD_MAX - f->len) {
		f->len = 0;
		f->discard = 1;
		return;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

/* The LF has arrived: turn the held bytes into the result. */
static void
smtp_line_finish(struct smtp_line *f, struct smtp_line_result *res)
{
	size_t	n = f->len;
	int	flags = 0;

	f->len = 0;
	if (f->discard) {
		f->discard = 0;
		f->buf[0] = '\0';
		res->line = f->buf;
		res->len = 0;
		res->flags = SMTP_LINE_TOO_LONG;
		return;
	}

	if (n > 0 && f->buf[n - 1] == '\r')
		n--;
	else
		flags |= SMTP_LINE_BARE_LF;
	if (n > SMTP_LINE_TEXT_MAX) {
		/* 511 text bytes ended by a bare LF. */
		f->buf[0] = '\0';
		res->line = f->buf;
		res->len = 0;
		res->flags = SMTP_LINE_TOO_LONG;
		return;
	}

	/*
	 * The only LF of a line is its end and the CR before it was just
	 * stripped, so any CR still in the text is not followed by LF.
	 */
	if (memchr(f->buf, '\r', n) != NULL)
		flags |= SMTP_LINE_BARE_CR;
	if (memchr(f->buf, '\0', n) != NULL)
		flags |= SMTP_LINE_NUL;
	f->buf[n] = '\0';
	res->line = f->buf;
	res->len = n;
	res->flags = flags;
}

/*
 * Consume bytes of in up to and including the end of the first complete
 * line (its LF) and return how many were consumed.  If a line completed,
 * res->line points to its NUL-terminated text without the line end,
 * res->len is its length (NULs inside count) and res->flags holds
 * SMTP_LINE_* bits; the text is owned by the framer and valid until the
 * next call on it.  Otherwise res->line is NULL and all len bytes were
 * consumed and kept as a partial line.  A line longer than SMTP_LINE_MAX
 * (with CRLF) is reported once, at its LF, as "" with SMTP_LINE_TOO_LONG
 * only.  The caller feeds the rest of its input after each line.
 */
size_t
smtp_line_feed(struct smtp_line *f, const char *in, size_t len,
    struct smtp_line_result *res)
{
	const char	*lf;
	size_t		 n;

	res->line = NULL;
	res->len = 0;
	res->flags = 0;

	if (len == 0)
		return (0);
	if ((lf = memchr(in, '\n', len)) == NULL) {
		smtp_line_hold(f, in, len);
		return (len);
	}
	n = lf - in;
	smtp_line_hold(f, in, n);
	smtp_line_finish(f, res);
	return (n + 1);
}
