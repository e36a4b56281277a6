/*
 * magic.h - the built-in "+smtpNNN" addresses (CONTRACT "Reject rules").
 *
 * Pure core.  A sender or recipient whose local part contains +smtpNNN
 * (bob+smtp550@example.com) is answered with reply NNN and a fitting
 * enhanced status code at the MAIL or RCPT stage, so a test can pick the
 * failure it needs without touching the configuration.
 */
#ifndef MAILSINK_MAGIC_H
#define MAILSINK_MAGIC_H

#include "smtp_session.h"

int	magic_code(const char *);
int	magic_check(enum smtp_stage, const char *, struct smtp_verdict *);

#endif /* MAILSINK_MAGIC_H */
