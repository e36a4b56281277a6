/*
 * cli.c - what the reading subcommands share: opening the store, message
 * ids, usage errors and making captured text safe for a terminal.
 *
 * Shell.  Everything a reading command prints came from an SMTP client
 * that may be hostile, so every field goes through cli_sanitise() before
 * it reaches stdout: an ESC or a C1 control in a Subject must never move
 * the cursor, retitle the window or hide the next line.  Error messages
 * go to stderr as one line that starts with "mailsink".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "store.h"
#include "xmalloc.h"

/*
 * Open the store at path for reading; it is never created (a missing
 * file usually means a --db that differs from the server's).  On failure
 * prints "mailsink: CAUSE" on stderr, sets *exitcode to CLI_EXIT_NOTFOUND
 * and returns NULL; otherwise returns the store (caller closes it).
 */
struct store *
cli_open_store(const char *path, int *exitcode)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open(path, STORE_READONLY, &cause);
	if (st == NULL) {
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		*exitcode = CLI_EXIT_NOTFOUND;
		return (NULL);
	}
	return (st);
}

/*
 * Turn s, a decimal id or "latest", into a message id in *id, checking
 * that the message exists.  Returns 0; or prints why not on stderr and
 * returns CLI_EXIT_USAGE for text that is not an id, CLI_EXIT_NOTFOUND
 * for an id with no message (or an empty store for "latest") and for a
 * store error.
 */
int
cli_parse_id(struct store *st, const char *s, int64_t *id)
{
	struct store_msg	*msg = NULL;
	char			*cause = NULL, *end;
	long long		 ll;
	int			 r;

	if (strcmp(s, "latest") == 0) {
		r = store_msg_latest(st, id, &cause);
		if (r == 1) {
			fprintf(stderr, "mailsink: no messages in the store\n");
			return (CLI_EXIT_NOTFOUND);
		}
	} else {
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
		    ll <= 0) {
			fprintf(stderr, "mailsink: bad message id '%s'"
			    " (want a number or 'latest')\n", s);
			return (CLI_EXIT_USAGE);
		}
		*id = ll;
		r = store_msg_get(st, *id, &msg, &cause);
		store_msg_free(msg);
		if (r == 1) {
			fprintf(stderr, "mailsink: no message with id %"
			    PRId64 "\n", *id);
			return (CLI_EXIT_NOTFOUND);
		}
	}
	if (r == -1) {
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		return (CLI_EXIT_NOTFOUND);
	}
	return (0);
}

/*
 * Print "mailsink CMD: MESSAGE (try mailsink CMD --help)" on stderr, as
 * one line.  The caller returns CLI_EXIT_USAGE.
 */
void
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "mailsink %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try mailsink %s --help)\n", cmd);
}

/*
 * Report what getopt_long (with opterr 0 and an optstring starting with
 * ':') found wrong: ch is the ':' or '?' it returned.  A long option is
 * named as the user wrote it (argv[optind - 1]), a short one by optopt.
 * Returns CLI_EXIT_USAGE for the caller to return.
 */
int
cli_bad_option(const char *cmd, int ch, char **argv)
{
	const char	*opt;
	size_t		 len;

	opt = optind > 0 ? argv[optind - 1] : NULL;
	if (opt != NULL && strncmp(opt, "--", 2) == 0) {
		len = strcspn(opt, "=");
		if (ch == ':')
			cli_usage_error(cmd, "option '%.*s' needs a value",
			    (int)len, opt);
		else if (opt[len] == '=')	/* unknown, or takes no value */
			cli_usage_error(cmd, "bad option '%s'", opt);
		else
			cli_usage_error(cmd, "unknown option '%s'", opt);
	} else if (ch == ':')
		cli_usage_error(cmd, "option '-%c' needs a value", optopt);
	else
		cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return (CLI_EXIT_USAGE);
}

/*
 * How long the UTF-8 sequence at p (n bytes left) is, with its code
 * point in *cp; 0 if it is not valid UTF-8 (bad lead byte, truncated,
 * overlong, a surrogate or past U+10FFFF).
 */
static size_t
cli_utf8_seq(const unsigned char *p, size_t n, unsigned int *cp)
{
	size_t		len, i;
	unsigned int	c, lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;		/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return (0);
		lo = 0x80;
		hi = 0xbf;
		c = (c << 6) | (p[i] & 0x3f);
	}
	*cp = c;
	return (len);
}

/*
 * Return a copy of s that is safe to print on a terminal (caller frees);
 * NULL gives "".  Tab is kept; newline and carriage return become \n and
 * \r, other C0 controls and DEL become \xNN (so ESC is \x1b and an escape
 * sequence prints as text), C1 controls (U+0080 to U+009F) and the bidi
 * embedding, override and isolate controls (which can make text display
 * in a different order than it is stored) become \uNNNN, and each byte
 * that is not part of valid UTF-8 becomes \xNN.  Everything else,
 * including a backslash, is copied as it is.
 */
char *
cli_sanitise(const char *s)
{
	struct buf		 b;
	const unsigned char	*p;
	size_t			 n, len;
	unsigned int		 cp;

	if (s == NULL)
		return (xstrdup(""));
	buf_init(&b, 0);
	p = (const unsigned char *)s;
	n = strlen(s);
	while (n > 0) {
		len = cli_utf8_seq(p, n, &cp);
		if (len == 0) {
			buf_addf(&b, "\\x%02x", p[0]);
			len = 1;
		} else if (cp == '\n')
			buf_adds(&b, "\\n");
		else if (cp == '\r')
			buf_adds(&b, "\\r");
		else if ((cp < 0x20 && cp != '\t') || cp == 0x7f)
			buf_addf(&b, "\\x%02x", cp);
		else if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			buf_addf(&b, "\\u%04x", cp);
		else
			buf_add(&b, p, len);
		p += len;
		n -= len;
	}
	if (b.data == NULL)
		return (xstrdup(""));
	return (b.data);
}

/* 1 if arg asks for help ("--help" or "-h"), else 0. */
int
cli_is_help(const char *arg)
{
	return (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
}
