/*
 * fuzz_smtp_line.c - libFuzzer target for the command framer (smtp_line).
 *
 * Input: byte 0 picks the split style, bytes 1-2 seed the split points,
 * the rest is what a client sends.  The stream is framed three times:
 * whole, in chunks of fuzzer-chosen sizes, and one byte at a time, the
 * way conn.c feeds whatever one read returned.  The framer promises that
 * its lines never depend on how the input was cut, so all three runs
 * must give the same lines with the same flags and the same partial line
 * left over.  Every line must also keep the framer's own promises: no LF
 * inside, flags that match the text, at most SMTP_LINE_MAX held.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "smtp_line.h"

/* One framed line as recorded for the comparison. */
struct fuzz_line {
	size_t	 off;		/* offset of its text in fuzz_run.text */
	size_t	 len;
	int	 flags;
};

/* Everything one way of feeding produced. */
struct fuzz_run {
	struct fuzz_line *lines;
	size_t		  nlines;
	char		 *text;		/* the lines' texts, back to back */
	size_t		  textlen;
	size_t		  pending;	/* partial line held at the end */
};

/* Check one result against the framer's contract and record it. */
static void
fuzz_line_add(struct fuzz_run *run, const struct smtp_line_result *r)
{
	struct fuzz_line	*l;

	FUZZ_ASSERT(r->len <= SMTP_LINE_MAX - 2, "line of %zu bytes", r->len);
	FUZZ_ASSERT(r->line[r->len] == '\0', "line not NUL-terminated");
	FUZZ_ASSERT(memchr(r->line, '\n', r->len) == NULL, "LF in a line");
	if (r->flags & SMTP_LINE_TOO_LONG)
		FUZZ_ASSERT(r->len == 0 && r->flags == SMTP_LINE_TOO_LONG,
		    "too-long line with len %zu flags %#x", r->len, r->flags);
	else {
		FUZZ_ASSERT(((r->flags & SMTP_LINE_NUL) != 0) ==
		    (memchr(r->line, '\0', r->len) != NULL),
		    "NUL flag %#x disagrees with the text", r->flags);
		FUZZ_ASSERT(((r->flags & SMTP_LINE_BARE_CR) != 0) ==
		    (memchr(r->line, '\r', r->len) != NULL),
		    "BARE_CR flag %#x disagrees with the text", r->flags);
	}

	run->lines = realloc(run->lines, (run->nlines + 1) *
	    sizeof(*run->lines));
	run->text = realloc(run->text, run->textlen + r->len + 1);
	if (run->lines == NULL || run->text == NULL)
		abort();
	l = &run->lines[run->nlines++];
	l->off = run->textlen;
	l->len = r->len;
	l->flags = r->flags;
	memcpy(run->text + run->textlen, r->line, r->len);
	run->textlen += r->len;
}

/* Frame in[0..len) fed in chunks chosen by rng and style. */
static void
fuzz_line_run(struct fuzz_run *run, const char *in, size_t len,
    struct fuzz_rng *rng, unsigned style, int whole)
{
	struct smtp_line	*f;
	struct smtp_line_result	 r;
	size_t			 chunk, n;

	memset(run, 0, sizeof(*run));
	f = smtp_line_new();
	while (len > 0) {
		chunk = whole ? len : fuzz_chunk(rng, len, style);
		len -= chunk;
		/* Like conn.c: one feed per complete line, then the rest. */
		while (chunk > 0) {
			n = smtp_line_feed(f, in, chunk, &r);
			FUZZ_ASSERT(n > 0 && n <= chunk, "consumed %zu of %zu",
			    n, chunk);
			FUZZ_ASSERT(smtp_line_pending(f) <= SMTP_LINE_MAX,
			    "holds %zu bytes", smtp_line_pending(f));
			if (r.line != NULL)
				fuzz_line_add(run, &r);
			else
				FUZZ_ASSERT(n == chunk, "no line but %zu of"
				    " %zu consumed", n, chunk);
			in += n;
			chunk -= n;
		}
	}
	run->pending = smtp_line_pending(f);
	smtp_line_free(f);
}

static void
fuzz_line_compare(const struct fuzz_run *a, const struct fuzz_run *b,
    const char *what)
{
	size_t	i;

	FUZZ_ASSERT(a->nlines == b->nlines, "%s: %zu lines, whole %zu", what,
	    b->nlines, a->nlines);
	for (i = 0; i < a->nlines; i++) {
		FUZZ_ASSERT(a->lines[i].len == b->lines[i].len &&
		    a->lines[i].flags == b->lines[i].flags &&
		    (a->lines[i].len == 0 || memcmp(a->text +
		    a->lines[i].off, b->text + b->lines[i].off,
		    a->lines[i].len) == 0),
		    "%s: line %zu differs from the whole feed", what, i);
	}
	FUZZ_ASSERT(a->pending == b->pending, "%s: %zu pending, whole %zu",
	    what, b->pending, a->pending);
}

static void
fuzz_line_clear(struct fuzz_run *run)
{
	free(run->lines);
	free(run->text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run	 whole, chunked, bytes;
	struct fuzz_rng	 rng;
	unsigned	 style;

	if (size < 3)
		return (0);
	style = data[0];
	fuzz_rng_init(&rng, (uint32_t)data[1] << 8 | data[2]);
	data += 3;
	size -= 3;

	fuzz_line_run(&whole, (const char *)data, size, &rng, 0, 1);
	fuzz_line_run(&chunked, (const char *)data, size, &rng, style, 0);
	fuzz_line_run(&bytes, (const char *)data, size, &rng, 0, 0);
	fuzz_line_compare(&whole, &chunked, "chunked");
	fuzz_line_compare(&whole, &bytes, "1-byte");
	fuzz_line_clear(&whole);
	fuzz_line_clear(&chunked);
	fuzz_line_clear(&bytes);
	return (0);
}
