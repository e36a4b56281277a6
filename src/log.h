/*
 * log.h - one-line logging to stderr, and fatal errors.
 *
 * Every event is one line: a timestamp, a level, then the caller's text,
 * which by convention is "<16-hex session id> <verb> key=value ...".
 * Anything that came from a peer must pass through log_escape() first.
 */
#ifndef MAILSINK_LOG_H
#define MAILSINK_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "compat.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

void	log_init(enum log_level, int transcript);
int	log_level_parse(const char *, enum log_level *);
enum log_level log_get_level(void);
int	log_transcript_enabled(void);

void	log_warn(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_error(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_transcript(const char *, char, const char *, size_t);

__dead void fatal(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
__dead void fatalx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));

char	*log_escape(const char *, size_t);

#endif /* MAILSINK_LOG_H */
