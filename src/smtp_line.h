/*
 * smtp_line.h - command framing: bytes in, complete command lines out.
 *
 * Pure core: no I/O.  The framer holds at most SMTP_LINE_MAX bytes of a
 * partial line whatever the peer sends; a longer line is discarded up to
 * its end and reported once with SMTP_LINE_TOO_LONG, so a 10 MB "line"
 * costs 512 bytes of memory.
 */
#ifndef MAILSINK_SMTP_LINE_H
#define MAILSINK_SMTP_LINE_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF. */
#define SMTP_LINE_MAX		512

/* Flags describing a framed line (bitwise or). */
#define SMTP_LINE_BARE_LF	0x01	/* ended by LF without CR (accepted) */
#define SMTP_LINE_TOO_LONG	0x02	/* over SMTP_LINE_MAX; text is empty */
#define SMTP_LINE_NUL		0x04	/* contained a NUL byte */
#define SMTP_LINE_BARE_CR	0x08	/* contained a CR not followed by LF */

struct smtp_line;

struct smtp_line_result {
	const char	*line;	/* NUL-terminated text without the line end,
				   or NULL if no line was completed; valid
				   until the next call on the framer */
	size_t		 len;	/* length of line (a NUL inside counts) */
	int		 flags;	/* SMTP_LINE_* */
};

struct smtp_line *smtp_line_new(void);
void	smtp_line_free(struct smtp_line *);
void	smtp_line_reset(struct smtp_line *);
size_t	smtp_line_pending(const struct smtp_line *);
size_t	smtp_line_feed(struct smtp_line *, const char *, size_t,
	    struct smtp_line_result *);

#endif /* MAILSINK_SMTP_LINE_H */
