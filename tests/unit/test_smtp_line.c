/*
 * test_smtp_line.c - unit tests for the command framer.
 *
 * Every case is run with its input fed whole, split into two feeds at
 * every byte offset, and fed one byte at a time; the framed lines must be
 * the same every time.  A framer that depended on where a read() happened
 * to end would pass a whole-input test and still fail on a real network.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_line.h"
#include "xmalloc.h"

#define T_MAXLINES	8

/* A literal with embedded NULs: pointer and length. */
#define T_S(s)		(s), (sizeof(s) - 1)

struct t_line {
	const char	*text;		/* expected text (NULs ok) */
	size_t		 len;		/* its length */
	int		 flags;		/* expected SMTP_LINE_* */
};

struct t_case {
	const char	*label;
	const char	*in;		/* input bytes */
	size_t		 inlen;
	size_t		 nwant;		/* lines expected */
	struct t_line	 want[T_MAXLINES];
	size_t		 pending;	/* partial bytes held at end */
};

struct t_got {
	size_t		 n;			/* lines framed */
	char		*text[T_MAXLINES];	/* copies of their text */
	size_t		 len[T_MAXLINES];
	int		 flags[T_MAXLINES];
	size_t		 overflow;	/* lines past T_MAXLINES */
};

/* Render n bytes printably into out (size outsz) for failure messages. */
static const char *
t_esc(char *out, size_t outsz, const char *p, size_t n)
{
	size_t	i, o = 0;
	int	w;

	out[0] = '\0';
	for (i = 0; i < n && o + 32 < outsz; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			w = snprintf(out + o, outsz - o, "\\r");
		else if (c == '\n')
			w = snprintf(out + o, outsz - o, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			w = snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			w = snprintf(out + o, outsz - o, "%c", c);
		o += (size_t)w;
	}
	if (i < n)
		snprintf(out + o, outsz - o, "...(%zu bytes)", n);
	return (out);
}

static void
t_got_free(struct t_got *g)
{
	size_t	i;

	for (i = 0; i < g->n && i < T_MAXLINES; i++)
		free(g->text[i]);
	memset(g, 0, sizeof(*g));
}

/*
 * Feed one chunk, looping as a caller must, and record each line.  Checks
 * the feed contract on every call: progress, a line ends at an LF, no line
 * means everything was consumed, the text is NUL-terminated.
 */
static void
t_feed(struct smtp_line *f, const char *in, size_t len, struct t_got *g)
{
	struct smtp_line_result	 res;
	size_t			 n;

	while (len > 0) {
		n = smtp_line_feed(f, in, len, &res);
		assert_true(n > 0 && n <= len);
		if (res.line == NULL)
			assert_int_equal(n, len);
		else {
			assert_int_equal(in[n - 1], '\n');
			assert_int_equal(res.line[res.len], '\0');
			if (g->n < T_MAXLINES) {
				g->text[g->n] = xmalloc(res.len + 1);
				memcpy(g->text[g->n], res.line, res.len + 1);
				g->len[g->n] = res.len;
				g->flags[g->n] = res.flags;
			} else
				g->overflow++;
			g->n++;
		}
		assert_true(smtp_line_pending(f) <= SMTP_LINE_MAX);
		in += n;
		len -= n;
	}
}

/* Compare what was framed with what the case wants; fail with both. */
static void
t_check(const struct t_case *tc, const char *how, struct t_got *g,
    struct smtp_line *f)
{
	char	 a[256], b[256];
	size_t	 i;

	if (g->n != tc->nwant)
		fail_msg("%s (%s): got %zu lines, want %zu", tc->label, how,
		    g->n, tc->nwant);
	for (i = 0; i < tc->nwant; i++) {
		if (g->len[i] != tc->want[i].len ||
		    memcmp(g->text[i], tc->want[i].text, g->len[i]) != 0 ||
		    g->flags[i] != tc->want[i].flags)
			fail_msg("%s (%s): line %zu: got \"%s\" len %zu "
			    "flags 0x%x, want \"%s\" len %zu flags 0x%x",
			    tc->label, how, i,
			    t_esc(a, sizeof(a), g->text[i], g->len[i]),
			    g->len[i], g->flags[i],
			    t_esc(b, sizeof(b), tc->want[i].text,
			    tc->want[i].len), tc->want[i].len,
			    tc->want[i].flags);
	}
	if (smtp_line_pending(f) != tc->pending)
		fail_msg("%s (%s): pending %zu, want %zu", tc->label, how,
		    smtp_line_pending(f), tc->pending);
}

/* Run one case whole, at every split point, and one byte at a time. */
static void
t_run(const struct t_case *tc)
{
	struct smtp_line	*f;
	struct t_got		 g;
	char			 how[64];
	size_t			 k;

	memset(&g, 0, sizeof(g));
	f = smtp_line_new();
	t_feed(f, tc->in, tc->inlen, &g);
	t_check(tc, "whole", &g, f);
	t_got_free(&g);
	smtp_line_free(f);

	for (k = 0; k <= tc->inlen; k++) {
		f = smtp_line_new();
		t_feed(f, tc->in, k, &g);
		t_feed(f, tc->in + k, tc->inlen - k, &g);
		snprintf(how, sizeof(how), "split at %zu", k);
		t_check(tc, how, &g, f);
		t_got_free(&g);
		smtp_line_free(f);
	}

	f = smtp_line_new();
	for (k = 0; k < tc->inlen; k++)
		t_feed(f, tc->in + k, 1, &g);
	t_check(tc, "1-byte feeds", &g, f);
	t_got_free(&g);
	smtp_line_free(f);
}

static const struct t_case t_cases[] = {
	{ "empty input", T_S(""), 0, { { NULL, 0, 0 } }, 0 },
	{ "crlf line", T_S("HELO x\r\n"), 1,
	    { { T_S("HELO x"), 0 } }, 0 },
	{ "bare lf line", T_S("HELO x\n"), 1,
	    { { T_S("HELO x"), SMTP_LINE_BARE_LF } }, 0 },
	{ "empty crlf line", T_S("\r\n"), 1, { { T_S(""), 0 } }, 0 },
	{ "empty bare lf line", T_S("\n"), 1,
	    { { T_S(""), SMTP_LINE_BARE_LF } }, 0 },
	{ "three lines in one feed", T_S("EHLO a\r\nMAIL FROM:<x>\r\nRCPT\n"),
	    3, { { T_S("EHLO a"), 0 }, { T_S("MAIL FROM:<x>"), 0 },
	    { T_S("RCPT"), SMTP_LINE_BARE_LF } }, 0 },
	{ "partial only", T_S("MAIL FR"), 0, { { NULL, 0, 0 } }, 7 },
	{ "line then partial", T_S("NOOP\r\nQU"), 1,
	    { { T_S("NOOP"), 0 } }, 2 },
	{ "trailing cr held", T_S("NOOP\r"), 0, { { NULL, 0, 0 } }, 5 },
	{ "bare cr inside", T_S("a\rb\r\n"), 1,
	    { { T_S("a\rb"), SMTP_LINE_BARE_CR } }, 0 },
	{ "cr cr lf", T_S("a\r\r\n"), 1,
	    { { T_S("a\r"), SMTP_LINE_BARE_CR } }, 0 },
	{ "only cr cr lf", T_S("\r\r\n"), 1,
	    { { T_S("\r"), SMTP_LINE_BARE_CR } }, 0 },
	{ "bare cr and bare lf", T_S("a\rb\n"), 1,
	    { { T_S("a\rb"), SMTP_LINE_BARE_CR | SMTP_LINE_BARE_LF } }, 0 },
	{ "leading cr", T_S("\rNOOP\r\n"), 1,
	    { { T_S("\rNOOP"), SMTP_LINE_BARE_CR } }, 0 },
	{ "nul inside", T_S("a\0b\r\n"), 1,
	    { { T_S("a\0b"), SMTP_LINE_NUL } }, 0 },
	{ "only nul bare lf", T_S("\0\n"), 1,
	    { { T_S("\0"), SMTP_LINE_NUL | SMTP_LINE_BARE_LF } }, 0 },
	{ "nul and bare cr", T_S("\0\r\0\r\n"), 1,
	    { { T_S("\0\r\0"), SMTP_LINE_NUL | SMTP_LINE_BARE_CR } }, 0 },
	{ "flags are per line", T_S("a\0\rb\nQUIT\r\n"), 2,
	    { { T_S("a\0\rb"), SMTP_LINE_NUL | SMTP_LINE_BARE_CR |
	    SMTP_LINE_BARE_LF }, { T_S("QUIT"), 0 } }, 0 },
	{ "lf lf", T_S("\n\n"), 2, { { T_S(""), SMTP_LINE_BARE_LF },
	    { T_S(""), SMTP_LINE_BARE_LF } }, 0 },
	{ "crlf crlf", T_S("\r\n\r\n"), 2, { { T_S(""), 0 },
	    { T_S(""), 0 } }, 0 },
	{ "lf then cr lf", T_S("\n\r\n"), 2,
	    { { T_S(""), SMTP_LINE_BARE_LF }, { T_S(""), 0 } }, 0 },
	{ "8bit kept", T_S("EHLO caf\xc3\xa9\r\n"), 1,
	    { { T_S("EHLO caf\xc3\xa9"), 0 } }, 0 },
	{ "pipelined then partial cr", T_S("RSET\r\nNOOP\r\nQUIT\r"), 2,
	    { { T_S("RSET"), 0 }, { T_S("NOOP"), 0 } }, 5 },
};

static void
test_line_table(void **state)
{
	size_t	i;

	for (i = 0; i < MS_NITEMS(t_cases); i++)
		t_run(&t_cases[i]);
}

/*
 * Lines around the limit: textlen bytes of text, then the terminator;
 * each is followed by "NOOP\r\n" to show the framer recovers.
 */
static void
test_line_limit(void **state)
{
	static const struct {
		const char	*label;
		size_t		 textlen;
		const char	*term;
		int		 flags;		/* if the line fits */
		int		 fits;
	} lc[] = {
		{ "509 + crlf", 509, "\r\n", 0, 1 },
		{ "510 + crlf", 510, "\r\n", 0, 1 },
		{ "511 + crlf", 511, "\r\n", 0, 0 },
		{ "512 + crlf", 512, "\r\n", 0, 0 },
		{ "510 + lf", 510, "\n", SMTP_LINE_BARE_LF, 1 },
		{ "511 + lf", 511, "\n", 0, 0 },
		{ "509 + cr crlf", 509, "\r\r\n", SMTP_LINE_BARE_CR, 1 },
		{ "510 + cr crlf", 510, "\r\r\n", 0, 0 },
		{ "600 + crlf", 600, "\r\n", 0, 0 },
		{ "2000 + lf", 2000, "\n", 0, 0 },
	};
	struct t_case	 tc;
	char		*in, *text;
	size_t		 i, tl;

	for (i = 0; i < MS_NITEMS(lc); i++) {
		tl = strlen(lc[i].term);
		in = xmalloc(lc[i].textlen + tl + 6);
		memset(in, 'x', lc[i].textlen);
		memcpy(in + lc[i].textlen, lc[i].term, tl);
		memcpy(in + lc[i].textlen + tl, "NOOP\r\n", 6);
		/* The text a fitting line has: the x's, and a CR if any. */
		text = xmalloc(lc[i].textlen + 1);
		memcpy(text, in, lc[i].textlen + 1);

		memset(&tc, 0, sizeof(tc));
		tc.label = lc[i].label;
		tc.in = in;
		tc.inlen = lc[i].textlen + tl + 6;
		tc.nwant = 2;
		if (lc[i].fits) {
			tc.want[0].text = text;
			tc.want[0].len = lc[i].textlen +
			    (lc[i].flags & SMTP_LINE_BARE_CR ? 1 : 0);
			tc.want[0].flags = lc[i].flags;
		} else {
			tc.want[0].text = "";
			tc.want[0].len = 0;
			tc.want[0].flags = SMTP_LINE_TOO_LONG;
		}
		tc.want[1].text = "NOOP";
		tc.want[1].len = 4;
		tc.want[1].flags = 0;
		t_run(&tc);
		free(text);
		free(in);
	}
}

/*
 * The framer holds 510 text bytes and a CR, and stops holding the moment
 * a line cannot fit any more.
 */
static void
test_line_pending(void **state)
{
	struct smtp_line	*f;
	struct smtp_line_result	 res;
	char			 x[SMTP_LINE_MAX];

	memset(x, 'x', sizeof(x));
	f = smtp_line_new();
	assert_int_equal(smtp_line_feed(f, x, SMTP_LINE_MAX - 2, &res),
	    SMTP_LINE_MAX - 2);
	assert_int_equal(smtp_line_pending(f), SMTP_LINE_MAX - 2);
	assert_int_equal(smtp_line_feed(f, "\r", 1, &res), 1);
	assert_int_equal(smtp_line_pending(f), SMTP_LINE_MAX - 1);
	assert_int_equal(smtp_line_feed(f, "\n", 1, &res), 1);
	assert_int_equal(res.len, SMTP_LINE_MAX - 2);
	assert_int_equal(res.flags, 0);
	assert_int_equal(smtp_line_pending(f), 0);

	assert_int_equal(smtp_line_feed(f, x, SMTP_LINE_MAX - 1, &res),
	    SMTP_LINE_MAX - 1);
	assert_int_equal(smtp_line_pending(f), SMTP_LINE_MAX - 1);
	assert_int_equal(smtp_line_feed(f, x, 1, &res), 1);
	assert_null(res.line);
	assert_int_equal(smtp_line_pending(f), 0);
	assert_int_equal(smtp_line_feed(f, "\r\n", 2, &res), 2);
	assert_int_equal(res.flags, SMTP_LINE_TOO_LONG);
	smtp_line_free(f);
}

/* A 10 MB line costs at most SMTP_LINE_MAX bytes and is reported once. */
static void
test_line_huge(void **state)
{
	const size_t		 big = 10 * 1024 * 1024;
	struct smtp_line	*f;
	struct smtp_line_result	 res;
	struct t_got		 g;
	char			*in;
	size_t			 off, n, chunk;

	in = xmalloc(big + 12);
	memset(in, 'A', big);
	memcpy(in + big, "\r\nQUIT\r\n", 8);

	/* In chunks of varying size, checking the memory bound each time. */
	f = smtp_line_new();
	memset(&g, 0, sizeof(g));
	for (off = 0, chunk = 1; off < big; off += n) {
		n = chunk < big - off ? chunk : big - off;
		assert_int_equal(smtp_line_feed(f, in + off, n, &res), n);
		assert_null(res.line);
		assert_true(smtp_line_pending(f) <= SMTP_LINE_MAX);
		chunk = chunk * 7 % 9973;
	}
	t_feed(f, in + big, 8, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.flags[0], SMTP_LINE_TOO_LONG);
	assert_int_equal(g.len[0], 0);
	assert_string_equal(g.text[0], "");
	assert_int_equal(g.flags[1], 0);
	assert_string_equal(g.text[1], "QUIT");
	assert_int_equal(smtp_line_pending(f), 0);
	t_got_free(&g);
	smtp_line_free(f);

	/* All in one feed. */
	f = smtp_line_new();
	n = smtp_line_feed(f, in, big + 8, &res);
	assert_int_equal(n, big + 2);
	assert_non_null(res.line);
	assert_int_equal(res.flags, SMTP_LINE_TOO_LONG);
	assert_int_equal(res.len, 0);
	assert_int_equal(smtp_line_feed(f, in + n, 6, &res), 6);
	assert_string_equal(res.line, "QUIT");
	smtp_line_free(f);
	free(in);
}

/* A CR ending one feed and the LF starting the next make one CRLF. */
static void
test_line_crlf_split(void **state)
{
	struct smtp_line	*f;
	struct smtp_line_result	 res;

	f = smtp_line_new();
	assert_int_equal(smtp_line_feed(f, "EHLO a\r", 7, &res), 7);
	assert_null(res.line);
	assert_int_equal(smtp_line_pending(f), 7);
	assert_int_equal(smtp_line_feed(f, "\nNOOP\r\n", 7, &res), 1);
	assert_non_null(res.line);
	assert_string_equal(res.line, "EHLO a");
	assert_int_equal(res.len, 6);
	assert_int_equal(res.flags, 0);
	assert_int_equal(smtp_line_feed(f, "NOOP\r\n", 6, &res), 6);
	assert_string_equal(res.line, "NOOP");
	assert_int_equal(res.flags, 0);

	/* A feed of a lone CR, then a lone LF. */
	assert_int_equal(smtp_line_feed(f, "\r", 1, &res), 1);
	assert_null(res.line);
	assert_int_equal(smtp_line_feed(f, "\n", 1, &res), 1);
	assert_non_null(res.line);
	assert_int_equal(res.len, 0);
	assert_int_equal(res.flags, 0);

	/* A zero-length feed changes nothing. */
	assert_int_equal(smtp_line_feed(f, "x", 0, &res), 0);
	assert_null(res.line);
	assert_int_equal(smtp_line_pending(f), 0);
	smtp_line_free(f);
}

/* RFC 3207 4.2: reset forgets the partial line, and a line being dropped. */
static void
test_line_reset(void **state)
{
	struct smtp_line	*f;
	struct smtp_line_result	 res;
	char			 big[700];

	f = smtp_line_new();
	assert_int_equal(smtp_line_feed(f, "MAIL FROM:<evil>", 16, &res), 16);
	assert_int_equal(smtp_line_pending(f), 16);
	smtp_line_reset(f);
	assert_int_equal(smtp_line_pending(f), 0);
	assert_int_equal(smtp_line_feed(f, "EHLO b\r\n", 8, &res), 8);
	assert_string_equal(res.line, "EHLO b");
	assert_int_equal(res.flags, 0);

	memset(big, 'z', sizeof(big));
	assert_int_equal(smtp_line_feed(f, big, sizeof(big), &res),
	    sizeof(big));
	assert_null(res.line);
	smtp_line_reset(f);
	assert_int_equal(smtp_line_feed(f, "NOOP\r\n", 6, &res), 6);
	assert_string_equal(res.line, "NOOP");
	assert_int_equal(res.flags, 0);

	smtp_line_reset(f);
	assert_int_equal(smtp_line_feed(f, "a\r", 2, &res), 2);
	smtp_line_reset(f);
	assert_int_equal(smtp_line_feed(f, "\n", 1, &res), 1);
	assert_non_null(res.line);
	assert_int_equal(res.len, 0);
	assert_int_equal(res.flags, SMTP_LINE_BARE_LF);
	smtp_line_free(f);
	smtp_line_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_table),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_line_pending),
		cmocka_unit_test(test_line_huge),
		cmocka_unit_test(test_line_crlf_split),
		cmocka_unit_test(test_line_reset),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
