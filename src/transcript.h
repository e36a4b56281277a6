/*
 * transcript.h - a bounded per-session record of commands and replies.
 *
 * Pure core.  Lines are kept as "C: ..." and "S: ..." text, escaped for
 * display, up to a byte cap; past the cap one "[transcript truncated]"
 * marker is written and the rest is counted, not kept.  Credentials never
 * enter it: AUTH initial responses and SASL continuation lines are
 * replaced with "***" before they are recorded.  An optional echo
 * callback sees each recorded line (the shell points it at
 * log_transcript() for -v).
 */
#ifndef MAILSINK_TRANSCRIPT_H
#define MAILSINK_TRANSCRIPT_H

#include <stddef.h>

#define TRANSCRIPT_MAX_DEFAULT	(256 * 1024)	/* bytes kept per session */

typedef void (*transcript_echo_cb)(void *arg, char dir, const char *line,
    size_t len);

struct transcript;

struct transcript *transcript_new(size_t);
void	transcript_free(struct transcript *);
void	transcript_set_echo(struct transcript *, transcript_echo_cb, void *);
void	transcript_client(struct transcript *, const char *, size_t, int);
void	transcript_server(struct transcript *, const char *, size_t);
void	transcript_note(struct transcript *, const char *);
const char *transcript_text(const struct transcript *, size_t *);
size_t	transcript_dropped(const struct transcript *);

#endif /* MAILSINK_TRANSCRIPT_H */
