/*
 * transcript.c - a bounded per-session record of commands and replies.
 *
 * Pure core.  Each entry is one line of text: "C: " for what the client
 * sent, "S: " for each line of a server reply, "-- " for a note of the
 * session's own ("-- DATA 1234 octets").  Peer bytes are escaped as they
 * are recorded: bytes below 0x20, DEL, C1 controls and anything that is
 * not well-formed UTF-8 become \xNN, while printable ASCII and valid UTF-8
 * stay as sent so a transcript of a SMTPUTF8 session stays readable.  The
 * backslash itself is left alone for the same reason; a reader who must
 * tell a literal "\x41" from an escaped byte can use the raw message.
 *
 * The text never grows past the cap given to transcript_new() plus one
 * "[transcript truncated]" marker: the first entry that does not fit
 * writes the marker, and from then on entries are only counted.  A client
 * that pipelines 10,000 commands therefore costs at most the cap.
 *
 * Credentials never enter the text or the echo: the caller flags SASL
 * continuation lines, and "AUTH MECH initial-response" is recognised here
 * and cut to "AUTH MECH ***" (RFC 4954 4), so no caller can forget it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "transcript.h"
#include "xmalloc.h"

#define TRANSCRIPT_MARKER	"[transcript truncated]\n"
#define TRANSCRIPT_REDACTED	"***"

struct transcript {
	struct buf	 text;		/* entries; uncapped, the cap is
					   enforced by transcript_add() */
	size_t		 max;		/* bytes of entries kept */
	int		 truncated;	/* marker written */
	size_t		 dropped;	/* entries not kept */
	transcript_echo_cb echo;	/* or NULL */
	void		*echo_arg;	/* echo's first argument */
};

static size_t	transcript_utf8_len(const unsigned char *, size_t);
static void	transcript_escape(struct buf *, const char *, size_t);
static void	transcript_add(struct transcript *, char, const char *,
		    const char *, size_t);
static int	transcript_auth_redact(const char *, size_t, struct buf *);

/*
 * Return the length of the well-formed UTF-8 sequence at p (2 to 4 bytes,
 * RFC 3629 4: no overlongs, no surrogates, nothing past U+10FFFF), or 0.
 * U+0080..U+009F are C1 controls and count as not printable, so 0.
 */
static size_t
transcript_utf8_len(const unsigned char *p, size_t left)
{
	size_t	n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return (0);
	if (left < n)
		return (0);
	/* The second byte's range is what rules out the ill-formed forms. */
	switch (p[0]) {
	case 0xc2:
		lo = 0xa0;	/* C1 controls U+0080..U+009F */
		break;
	case 0xe0:
		lo = 0xa0;	/* overlong */
		break;
	case 0xed:
		hi = 0x9f;	/* surrogates */
		break;
	case 0xf0:
		lo = 0x90;	/* overlong */
		break;
	case 0xf4:
		hi = 0x8f;	/* past U+10FFFF */
		break;
	}
	if (p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (n);
}

/* Append len bytes of s to b, escaped for display as the header says. */
static void
transcript_escape(struct buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[4];
	size_t			 i, n;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			(void)buf_add(b, &p[i], 1);
			continue;
		}
		if (p[i] >= 0x80 &&
		    (n = transcript_utf8_len(p + i, len - i)) != 0) {
			(void)buf_add(b, &p[i], n);
			i += n - 1;
			continue;
		}
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[p[i] >> 4];
		esc[3] = hex[p[i] & 0xf];
		(void)buf_add(b, esc, sizeof(esc));
	}
}

/*
 * Record one entry "PREFIX text\n" (text escaped) and echo it.  The echo
 * gets the unescaped, already-redacted text: its consumer, log_transcript(),
 * does its own escaping for the log.  Past the cap the entry is counted
 * instead, and the first such entry writes the marker.
 */
static void
transcript_add(struct transcript *t, char dir, const char *prefix,
    const char *text, size_t len)
{
	struct buf	entry;

	if (t->echo != NULL)
		t->echo(t->echo_arg, dir, text, len);
	if (t->truncated) {
		t->dropped++;
		return;
	}

	/* Escaping never shrinks text, so this much is a lower bound. */
	if (strlen(prefix) + len + 1 > t->max - t->text.len)
		goto truncate;
	buf_init(&entry, 0);
	(void)buf_adds(&entry, prefix);
	transcript_escape(&entry, text, len);
	(void)buf_add(&entry, "\n", 1);
	if (entry.len > t->max - t->text.len) {
		buf_clear(&entry);
		goto truncate;
	}
	(void)buf_add(&t->text, entry.data, entry.len);
	buf_clear(&entry);
	return;

truncate:
	(void)buf_adds(&t->text, TRANSCRIPT_MARKER);
	t->truncated = 1;
	t->dropped++;
}

/*
 * If line is "AUTH MECH INITIAL-RESPONSE" (verb in any case), write the
 * redacted form "AUTH MECH ***" to out and return 1; else return 0.  A
 * bare "AUTH MECH" carries no secret and is recorded as sent.  Any
 * whitespace counts as a separator here so that a sloppy client's secret
 * is hidden even where the session would refuse the syntax.
 */
static int
transcript_auth_redact(const char *line, size_t len, struct buf *out)
{
	size_t	i, mech, mechlen;
	char	c;

	if (len < 5 || strncasecmp(line, "AUTH", 4) != 0 ||
	    (line[4] != ' ' && line[4] != '\t'))
		return (0);
	for (i = 5; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	mech = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	mechlen = i - mech;
	for (; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (mechlen == 0 || i == len)
		return (0);

	(void)buf_adds(out, "AUTH ");
	for (i = mech; i < mech + mechlen; i++) {
		c = line[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		(void)buf_add(out, &c, 1);
	}
	(void)buf_adds(out, " " TRANSCRIPT_REDACTED);
	return (1);
}

/*
 * Return a new, empty transcript keeping at most max bytes of entries
 * (0: TRANSCRIPT_MAX_DEFAULT), plus one truncation marker.  The caller
 * owns it and frees it with transcript_free().
 */
struct transcript *
transcript_new(size_t max)
{
	struct transcript	*t;

	t = xcalloc(1, sizeof(*t));
	t->max = max != 0 ? max : TRANSCRIPT_MAX_DEFAULT;
	buf_init(&t->text, 0);
	return (t);
}

/* Free a transcript; NULL is a no-op. */
void
transcript_free(struct transcript *t)
{
	if (t == NULL)
		return;
	buf_clear(&t->text);
	free(t);
}

/*
 * Call cb(arg, dir, text, len) for every entry recorded from now on, even
 * past the cap: dir is 'C', 'S' or '-', text is the entry without its
 * prefix or newline, credentials already replaced, not escaped.  A NULL
 * cb turns the echo off.
 */
void
transcript_set_echo(struct transcript *t, transcript_echo_cb cb, void *arg)
{
	t->echo = cb;
	t->echo_arg = arg;
}

/*
 * Record a command line from the client (a trailing CRLF or LF is
 * ignored).  With redact non-zero (a SASL continuation line) it is
 * recorded as "C: ***"; an AUTH command with an initial response as
 * "C: AUTH MECH ***"; anything else as sent, escaped.
 */
void
transcript_client(struct transcript *t, const char *line, size_t len,
    int redact)
{
	struct buf	red;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (redact) {
		transcript_add(t, 'C', "C: ", TRANSCRIPT_REDACTED,
		    strlen(TRANSCRIPT_REDACTED));
		return;
	}
	buf_init(&red, 0);
	if (transcript_auth_redact(line, len, &red))
		transcript_add(t, 'C', "C: ", red.data, red.len);
	else
		transcript_add(t, 'C', "C: ", line, len);
	buf_clear(&red);
}

/*
 * Record a server reply of one or more lines, as built by smtp_reply():
 * one "S: " entry per line, line ends (CRLF or LF) stripped.  A final
 * line without an ending is recorded too; empty input records nothing.
 */
void
transcript_server(struct transcript *t, const char *reply, size_t len)
{
	const char	*p, *nl;
	size_t		 left, n;

	p = reply;
	left = len;
	while (left > 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) : left;
		left -= nl != NULL ? n + 1 : n;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		transcript_add(t, 'S', "S: ", p, n);
		p = nl != NULL ? nl + 1 : p + n;
	}
}

/* Record a note of the session's own as "-- text". */
void
transcript_note(struct transcript *t, const char *text)
{
	transcript_add(t, '-', "-- ", text, strlen(text));
}

/*
 * Return the transcript text, NUL-terminated ("" when empty), and its
 * length in *lenp unless lenp is NULL.  The pointer is valid until the
 * next change to t.
 */
const char *
transcript_text(const struct transcript *t, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = t->text.len;
	return (buf_str(&t->text));
}

/* Return how many entries were dropped past the cap (0 if none). */
size_t
transcript_dropped(const struct transcript *t)
{
	return (t->dropped);
}
