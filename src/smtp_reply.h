/*
 * smtp_reply.h - building SMTP replies.
 *
 * Pure core.  A reply is "CODE SP [ENH SP] TEXT CRLF", or for multi-line
 * replies "CODE-..." on every line but the last (RFC 5321 4.2.1).  Text
 * that echoes peer input is sanitised: anything outside printable ASCII
 * becomes '?', so a reply can never carry a CR/LF a client did not expect.
 */
#ifndef MAILSINK_SMTP_REPLY_H
#define MAILSINK_SMTP_REPLY_H

#include <stddef.h>

#include "buf.h"

#define SMTP_REPLY_TEXT_MAX	400	/* keep replies under 512 octets */

void	smtp_reply(struct buf *, int, const char *, const char *, ...)
	    __attribute__((__format__(__printf__, 4, 5)));
void	smtp_reply_lines(struct buf *, int, const char *const *, size_t);
void	smtp_reply_sanitise(char *, size_t, const char *, size_t);

#endif /* MAILSINK_SMTP_REPLY_H */
