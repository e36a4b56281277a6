/*
 * log.c - logging to stderr with levels, and fatal exits.
 *
 * Lines are written with one write-sized stdio call each and flushed, so
 * log lines from the server never interleave mid-line with the
 * "listening:" lines on stdout.  Peer bytes are never logged raw:
 * log_escape() turns control characters and non-ASCII into \xNN, so a
 * captured header cannot drive the terminal of whoever reads the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xmalloc.h"

static enum log_level	log_level = LOG_LEVEL_INFO;
static int		log_show_transcript;

static void	log_vwrite(const char *, const char *, va_list, int)
		    __attribute__((__format__(__printf__, 2, 0)));

/* Set the level and whether transcripts (-v) are logged. */
void
log_init(enum log_level level, int transcript)
{
	log_level = level;
	log_show_transcript = transcript;
}

/* Parse "error", "warn", "info" or "debug"; return -1 on anything else. */
int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t	i;

	for (i = 0; i < MS_NITEMS(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

enum log_level
log_get_level(void)
{
	return (log_level);
}

int
log_transcript_enabled(void)
{
	return (log_show_transcript);
}

/* Write one line: time, level tag, text, and errno text when errnum != 0. */
static void
log_vwrite(const char *tag, const char *fmt, va_list ap, int errnum)
{
	char		 when[32], msg[2048];
	struct tm	 tm;
	time_t		 now;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0)
		fprintf(stderr, "%s %s %s: %s\n", when, tag, msg,
		    strerror(errnum));
	else
		fprintf(stderr, "%s %s %s\n", when, tag, msg);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("warn", fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("warn", fmt, ap, 0);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("error", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("info", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("debug", fmt, ap, 0);
	va_end(ap);
}

/*
 * Log one transcript line of session sid: dir is 'C' for the client, 'S'
 * for the server.  The caller has already redacted credentials; this only
 * escapes.
 */
void
log_transcript(const char *sid, char dir, const char *line, size_t len)
{
	char	*esc;

	if (!log_show_transcript)
		return;
	esc = log_escape(line, len);
	fprintf(stderr, "%s %c: %s\n", sid, dir, esc);
	fflush(stderr);
	free(esc);
}

__dead void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

__dead void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/*
 * Return a NUL-terminated copy of len bytes of s, with every byte outside
 * printable ASCII (and the backslash) written as \xNN.  The caller frees
 * the result.
 */
char *
log_escape(const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			*out, *p;
	size_t			 i;
	unsigned char		 c;

	out = p = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			*p++ = (char)c;
		else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		}
	}
	*p = '\0';
	return (out);
}
