/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Every function here calls fatalx() when memory runs out, so callers never
 * check the result (STYLE rule 13).
 */
#ifndef MAILSINK_XMALLOC_H
#define MAILSINK_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "compat.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	*xmemdup(const void *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));

#endif /* MAILSINK_XMALLOC_H */
