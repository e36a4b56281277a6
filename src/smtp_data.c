/*
 * smtp_data.c - the DATA decoder: dot-unstuffing and end-of-data detection.
 *
 * The decoder is fed the raw bytes that follow the CRLF of the DATA command
 * and passes the message body to a sink callback.  It is a byte state
 * machine in the manner of Postfix's smtp-sink rather than a line reader:
 * a line reader has to pick a line end, and a reader that splits on bare LF
 * (as many do) lets "LF . LF" end the data, which is how SMTP smuggling
 * hides a second message inside the first.  Here a line starts only after
 * CR LF, so only CR LF . CR LF ends the data (RFC 5321 4.1.1.4).
 *
 * Ordinary text is never touched byte by byte through the state machine:
 * memchr() finds the next CR, the run before it is checked for flags in
 * bulk, and the body goes to the sink as runs that point into the caller's
 * input, broken only where a dot is removed or a feed ends.  The only bytes
 * the decoder ever emits from its own storage are a CR held after a leading
 * dot (it may turn out to start the final ".CRLF") and a dot kept before a
 * bare LF; both are constants.  So the decoder allocates nothing per feed,
 * holds O(1) state, and its output does not depend on how the input was
 * split.
 *
 * This file must never buffer message bytes or do I/O.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp_data.h"
#include "xmalloc.h"

/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF. */
#define SMTP_DATA_LINE_MAX	1000

enum smtp_data_state {
	SMTP_DATA_ST_BOL,	/* line start: the start, or after CR LF */
	SMTP_DATA_ST_TEXT,	/* in a line, previous byte not CR */
	SMTP_DATA_ST_CR,	/* in a line, previous byte a CR (emitted) */
	SMTP_DATA_ST_DOT,	/* a leading dot was seen and dropped */
	SMTP_DATA_ST_DOTCR,	/* leading dot then CR; the CR is held */
	SMTP_DATA_ST_DONE	/* CR LF . CR LF seen */
};

struct smtp_data {
	enum smtp_data_state state;	/* where we are in a line */
	int		 flags;		/* SMTP_DATA_* seen so far */
	uint64_t	 size;		/* unstuffed octets emitted */
	uint64_t	 linelen;	/* octets of the current line
					   emitted so far, up to its LF */
};

/* Return a new decoder in the line-start state; never NULL. */
struct smtp_data *
smtp_data_new(void)
{
	struct smtp_data	*d;

	d = xcalloc(1, sizeof(*d));
	smtp_data_reset(d);
	return (d);
}

/* Free a decoder; NULL is a no-op. */
void
smtp_data_free(struct smtp_data *d)
{
	free(d);
}

/*
 * Make the decoder ready for a new message: line-start state (the data
 * begins right after the DATA command's CRLF), size 0, no flags.
 */
void
smtp_data_reset(struct smtp_data *d)
{
	d->state = SMTP_DATA_ST_BOL;
	d->flags = 0;
	d->size = 0;
	d->linelen = 0;
}

/* Return the SMTP_DATA_* flags for everything decoded since the reset. */
int
smtp_data_flags(const struct smtp_data *d)
{
	return (d->flags);
}

/* Return the number of unstuffed body octets passed to the sink so far. */
uint64_t
smtp_data_size(const struct smtp_data *d)
{
	return (d->size);
}

/* Pass n body bytes to the sink (if any) and count them. */
static void
smtp_data_emit(struct smtp_data *d, const char *p, size_t n,
    smtp_data_sink_cb sink, void *arg)
{
	if (n == 0)
		return;
	d->size += n;
	if (sink != NULL)
		sink(arg, p, n);
}

/* An LF ends the current line: check its length, start counting anew. */
static void
smtp_data_eol(struct smtp_data *d)
{
	if (d->linelen + 1 > SMTP_DATA_LINE_MAX)
		d->flags |= SMTP_DATA_LONG_LINE;
	d->linelen = 0;
}

/* Return whether any of n bytes has the high bit set, a word at a time. */
static int
smtp_data_has8bit(const unsigned char *u, size_t n)
{
	uint64_t	w, acc = 0;
	size_t		i = 0;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, u + i, sizeof(w));
		acc |= w;
	}
	for (; i < n; i++)
		acc |= u[i];
	return ((acc & UINT64_C(0x8080808080808080)) != 0);
}

/*
 * Account for n bytes of line text that contain no CR.  Any LF among them
 * is bare: the byte before it is text, and the state machine never starts
 * a text run on an LF that follows a CR.
 */
static void
smtp_data_scan(struct smtp_data *d, const char *p, size_t n)
{
	const char	*lf;
	size_t		 seg;

	if (n == 0)
		return;
	if ((d->flags & SMTP_DATA_NUL) == 0 && memchr(p, '\0', n) != NULL)
		d->flags |= SMTP_DATA_NUL;
	if ((d->flags & SMTP_DATA_8BIT) == 0 &&
	    smtp_data_has8bit((const unsigned char *)p, n))
		d->flags |= SMTP_DATA_8BIT;

	/*
	 * A bare LF does not start a line for the dot rules, but it does end
	 * one as far as length goes: that is how the many readers that split
	 * on LF will see it, and BARE_LF is flagged anyway.
	 */
	while ((lf = memchr(p, '\n', n)) != NULL) {
		d->flags |= SMTP_DATA_BARE_LF;
		seg = lf - p;
		d->linelen += seg;
		smtp_data_eol(d);
		p = lf + 1;
		n -= seg + 1;
	}
	d->linelen += n;
}

/*
 * Decode len bytes of DATA input.  Unstuffed body bytes go to sink(arg, p,
 * n) in order, in pieces valid only during the call (sink may be NULL to
 * count only).  The body includes the CRLF before the final ".CRLF".
 * When CR LF . CR LF completes, *done is set to 1 and the return value is
 * the number of bytes consumed through that LF; the bytes after it (such as
 * pipelined commands) are not consumed and belong to the caller.  Otherwise
 * *done is 0 and all len bytes were consumed.  Once done, further feeds
 * consume nothing and set *done until smtp_data_reset.
 */
size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
    smtp_data_sink_cb sink, void *arg, int *done)
{
	static const char	 dot[] = ".", cr[] = "\r";
	const char		*p = in, *end, *span = in, *q;

	*done = 0;
	if (d->state == SMTP_DATA_ST_DONE) {
		*done = 1;
		return (0);
	}
	if (len == 0)
		return (0);

	/*
	 * Body bytes from span to p have been decided but not yet emitted.
	 * In the DOT and DOTCR states span == p: the run before the dot was
	 * emitted when the dot was dropped.
	 */
	end = in + len;
	while (p < end) {
		switch (d->state) {
		case SMTP_DATA_ST_BOL:
			if (*p == '.') {
				/* RFC 5321 4.5.2: drop the leading dot. */
				smtp_data_emit(d, span, p - span, sink, arg);
				span = ++p;
				d->state = SMTP_DATA_ST_DOT;
			} else
				d->state = SMTP_DATA_ST_TEXT;
			break;
		case SMTP_DATA_ST_TEXT:
			if ((q = memchr(p, '\r', end - p)) == NULL) {
				smtp_data_scan(d, p, end - p);
				p = end;
				break;
			}
			smtp_data_scan(d, p, q - p);
			d->linelen++;
			p = q + 1;
			d->state = SMTP_DATA_ST_CR;
			break;
		case SMTP_DATA_ST_CR:
			if (*p == '\n') {
				smtp_data_eol(d);
				p++;
				d->state = SMTP_DATA_ST_BOL;
			} else {
				d->flags |= SMTP_DATA_BARE_CR;
				d->state = SMTP_DATA_ST_TEXT;
			}
			break;
		case SMTP_DATA_ST_DOT:
			if (*p == '\r') {
				/* Hold the CR: it may start the final CRLF. */
				span = ++p;
				d->state = SMTP_DATA_ST_DOTCR;
			} else if (*p == '\n') {
				/*
				 * "CRLF . LF" is a smuggling attempt or a
				 * broken client, not a stuffed line: keep
				 * the dot so the stored message shows what
				 * was sent.
				 */
				smtp_data_emit(d, dot, 1, sink, arg);
				d->linelen++;
				d->state = SMTP_DATA_ST_TEXT;
			} else
				d->state = SMTP_DATA_ST_TEXT;
			break;
		case SMTP_DATA_ST_DOTCR:
			if (*p == '\n') {
				d->state = SMTP_DATA_ST_DONE;
				*done = 1;
				return (p + 1 - in);
			}
			/* Not the end after all: the held CR is body. */
			smtp_data_emit(d, cr, 1, sink, arg);
			d->linelen++;
			d->flags |= SMTP_DATA_BARE_CR;
			d->state = SMTP_DATA_ST_TEXT;
			break;
		default:
			fatalx("%s: state %d", __func__, d->state);
		}
	}
	smtp_data_emit(d, span, p - span, sink, arg);
	return (len);
}
