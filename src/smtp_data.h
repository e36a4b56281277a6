/*
 * smtp_data.h - the DATA decoder: dot-unstuffing and end-of-data detection.
 *
 * Pure core: no I/O.  A byte state machine, safe at any split point of the
 * input.  Only CR LF . CR LF ends the data (RFC 5321 4.1.1.4); a bare LF
 * never starts a line, so LF.LF, LF.CRLF and CRLF.LF do not end it (the
 * SMTP smuggling defence).  A leading dot on a line that starts after CRLF
 * is removed (RFC 5321 4.5.2).  The unstuffed body is handed to a sink
 * callback in pieces that point into the caller's input where possible, so
 * nothing is buffered here: memory is constant whatever the message size.
 * The body includes the CRLF that precedes the final ".CRLF".
 */
#ifndef MAILSINK_SMTP_DATA_H
#define MAILSINK_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

/* Flags describing the data seen so far (bitwise or). */
#define SMTP_DATA_BARE_LF	0x01	/* an LF not preceded by CR */
#define SMTP_DATA_BARE_CR	0x02	/* a CR not followed by LF */
#define SMTP_DATA_NUL		0x04	/* a NUL byte */
#define SMTP_DATA_8BIT		0x08	/* a byte with the high bit set */
#define SMTP_DATA_LONG_LINE	0x10	/* a line over 1000 octets
					   (5.4.3.1.6) */

/* Receives unstuffed body bytes; p is valid only during the call. */
typedef void (*smtp_data_sink_cb)(void *arg, const char *p, size_t len);

struct smtp_data;

struct smtp_data *smtp_data_new(void);
void	smtp_data_free(struct smtp_data *);
void	smtp_data_reset(struct smtp_data *);
size_t	smtp_data_feed(struct smtp_data *, const char *, size_t,
	    smtp_data_sink_cb, void *, int *);
int	smtp_data_flags(const struct smtp_data *);
uint64_t smtp_data_size(const struct smtp_data *);

#endif /* MAILSINK_SMTP_DATA_H */
