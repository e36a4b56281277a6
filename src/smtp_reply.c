/*
 * smtp_reply.c - building SMTP replies into a struct buf.
 *
 * Pure core.  A reply line is "CODE SP [ENH SP] TEXT CRLF"; a multi-line
 * reply has "CODE-" on every line but the last (RFC 5321 4.2.1).  Reply
 * text often echoes what a peer sent (an address, a HELO name, a rule's
 * text), so every byte of it outside printable ASCII becomes '?' here:
 * a client must never see a CR or LF inside a reply, which would let a
 * peer forge extra reply lines, and RFC 5321 4.2's textstring is
 * printable US-ASCII anyway.  Text is cut at SMTP_REPLY_TEXT_MAX so a
 * line stays within the 512 octets of RFC 5321 4.5.3.1.5.
 *
 * This module never does I/O; the caller decides when the buffer is sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "smtp_reply.h"

static void	smtp_reply_code(int);
static void	smtp_reply_line(struct buf *, int, char, const char *,
		    const char *, size_t);

/* A reply code outside 2xx..5xx is a bug in the caller (RFC 5321 4.2). */
static void
smtp_reply_code(int code)
{
	if (code < 200 || code > 599)
		fatalx("%s: bad reply code %d", __func__, code);
}

/*
 * Append one reply line: code, separator ('-' or ' '), optional enhanced
 * code, then len bytes of text, sanitised and cut to SMTP_REPLY_TEXT_MAX.
 * With neither text nor enhanced code the line is the bare code, since
 * RFC 5321's textstring cannot be empty after the space.
 */
static void
smtp_reply_line(struct buf *out, int code, char sep, const char *enh,
    const char *text, size_t len)
{
	char	clean[SMTP_REPLY_TEXT_MAX + 1];
	char	cleanenh[32];

	smtp_reply_sanitise(clean, sizeof(clean), text, len);
	if (enh != NULL && *enh != '\0')
		smtp_reply_sanitise(cleanenh, sizeof(cleanenh), enh,
		    strlen(enh));
	else
		cleanenh[0] = '\0';

	/* Reply buffers are uncapped, so buf_addf cannot fail here. */
	if (cleanenh[0] != '\0' && clean[0] != '\0')
		(void)buf_addf(out, "%03d%c%s %s\r\n", code, sep, cleanenh,
		    clean);
	else if (cleanenh[0] != '\0')
		(void)buf_addf(out, "%03d%c%s\r\n", code, sep, cleanenh);
	else if (clean[0] != '\0')
		(void)buf_addf(out, "%03d%c%s\r\n", code, sep, clean);
	else if (sep == '-')
		(void)buf_addf(out, "%03d-\r\n", code);
	else
		(void)buf_addf(out, "%03d\r\n", code);
}

/*
 * Append the single-line reply "CODE ENH TEXT\r\n" to out, or
 * "CODE TEXT\r\n" when enh is NULL or "".  The text is formatted from fmt,
 * cut to SMTP_REPLY_TEXT_MAX bytes and sanitised (every byte outside
 * 0x20..0x7e becomes '?').  The code must be 200..599.
 */
void
smtp_reply(struct buf *out, int code, const char *enh, const char *fmt, ...)
{
	char	text[SMTP_REPLY_TEXT_MAX + 1];
	va_list	ap;
	int	n;
	size_t	len;

	smtp_reply_code(code);
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		len = 0;
	else if ((size_t)n > SMTP_REPLY_TEXT_MAX)
		len = SMTP_REPLY_TEXT_MAX;
	else
		len = (size_t)n;
	/*
	 * len, not strlen: a "%c" of NUL must show as '?' rather than
	 * silently ending the text.
	 */
	smtp_reply_line(out, code, ' ', enh, text, len);
}

/*
 * Append a multi-line reply of n lines (n >= 1): "CODE-line" for all but
 * the last, "CODE line" for the last (RFC 5321 4.2.1).  Each line is
 * sanitised and cut like smtp_reply()'s text; a NULL line is empty.
 */
void
smtp_reply_lines(struct buf *out, int code, const char *const *lines,
    size_t n)
{
	size_t		 i;
	const char	*l;

	smtp_reply_code(code);
	if (n == 0)
		fatalx("%s: empty reply", __func__);
	for (i = 0; i < n; i++) {
		l = lines[i] != NULL ? lines[i] : "";
		smtp_reply_line(out, code, i + 1 < n ? '-' : ' ', NULL, l,
		    strlen(l));
	}
}

/*
 * Copy len bytes of src (which may hold NULs) to dst, replacing every
 * byte outside 0x20..0x7e with '?', and NUL-terminate.  At most
 * dstsz - 1 bytes are copied; with dstsz 0 nothing is written.
 */
void
smtp_reply_sanitise(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (dstsz == 0)
		return;
	if (len > dstsz - 1)
		len = dstsz - 1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		dst[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	dst[len] = '\0';
}
