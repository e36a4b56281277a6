/*
 * compat.h - small portability shims for the core and the shell.
 *
 * Debian 12's glibc (2.36) lacks strlcpy/strlcat; configure detects them
 * and this header supplies our own in xmalloc.c when they are missing.
 */
#ifndef MAILSINK_COMPAT_H
#define MAILSINK_COMPAT_H

#include "config.h"

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRLCAT
size_t	strlcat(char *, const char *, size_t);
#endif

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif

#define MS_NITEMS(a) (sizeof(a) / sizeof((a)[0]))

#endif /* MAILSINK_COMPAT_H */
