/*
 * test_smtp_data.c - unit tests for the DATA decoder.
 *
 * Every case is run with its input fed whole, split into two feeds at
 * every byte offset, and fed one byte at a time, and the concatenated sink
 * output, the end-of-data verdict, the bytes consumed and the flags must
 * be the same every time.  The smuggling cases (LF.LF, LF.CRLF, CRLF.LF)
 * are here because a decoder that ends DATA on any of them lets a client
 * hide a second message in the first.  A random round trip stuffs a
 * pseudo-random body the way a client must and checks it comes back
 * exactly, with flags that agree with a byte-at-a-time reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "smtp_data.h"
#include "xmalloc.h"

/* A literal with embedded NULs: pointer and length. */
#define T_S(s)		(s), (sizeof(s) - 1)

#define T_BL		SMTP_DATA_BARE_LF
#define T_BC		SMTP_DATA_BARE_CR
#define T_NUL		SMTP_DATA_NUL
#define T_8		SMTP_DATA_8BIT
#define T_LONG		SMTP_DATA_LONG_LINE

struct t_case {
	const char	*label;
	const char	*in;		/* input bytes */
	size_t		 inlen;
	const char	*body;		/* wanted sink output */
	size_t		 bodylen;
	int		 done;		/* wanted *done */
	size_t		 consumed;	/* wanted bytes consumed */
	int		 flags;		/* wanted SMTP_DATA_* */
};

struct t_sink {
	struct buf	 out;		/* concatenated sink output */
	size_t		 calls;		/* sink calls */
	const char	*lo, *hi;	/* input range, to count zero-copy */
	size_t		 inside;	/* calls pointing into [lo, hi) */
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
t_sink_cb(void *arg, const char *p, size_t n)
{
	struct t_sink	*s = arg;

	assert_true(n > 0);
	assert_int_equal(buf_add(&s->out, p, n), 0);
	s->calls++;
	if (s->lo != NULL && p >= s->lo && p + n <= s->hi)
		s->inside++;
}

/*
 * Feed one chunk unless the data already ended; add what was consumed to
 * *consumed.  Checks the contract: all bytes consumed unless done, and a
 * feed after the end consumes nothing.
 */
static void
t_feed(struct smtp_data *d, const char *in, size_t len, struct t_sink *s,
    int *done, size_t *consumed)
{
	size_t	n;
	int	again;

	if (*done) {
		assert_int_equal(smtp_data_feed(d, in, len, t_sink_cb, s,
		    &again), 0);
		assert_int_equal(again, 1);
		return;
	}
	n = smtp_data_feed(d, in, len, t_sink_cb, s, done);
	assert_true(n <= len);
	if (!*done)
		assert_int_equal(n, len);
	else
		assert_true(n >= 1 && in[n - 1] == '\n');
	*consumed += n;
}

static void
t_check(const struct t_case *tc, const char *how, struct smtp_data *d,
    struct t_sink *s, int done, size_t consumed)
{
	char	a[512], b[512];

	if (s->out.len != tc->bodylen ||
	    memcmp(buf_str(&s->out), tc->body, tc->bodylen) != 0)
		fail_msg("%s (%s): body \"%s\" (%zu), want \"%s\" (%zu)",
		    tc->label, how,
		    t_esc(a, sizeof(a), buf_str(&s->out), s->out.len),
		    s->out.len, t_esc(b, sizeof(b), tc->body, tc->bodylen),
		    tc->bodylen);
	if (done != tc->done || consumed != tc->consumed)
		fail_msg("%s (%s): done %d consumed %zu, want done %d "
		    "consumed %zu", tc->label, how, done, consumed, tc->done,
		    tc->consumed);
	if (smtp_data_flags(d) != tc->flags)
		fail_msg("%s (%s): flags 0x%x, want 0x%x", tc->label, how,
		    smtp_data_flags(d), tc->flags);
	if (smtp_data_size(d) != tc->bodylen)
		fail_msg("%s (%s): size %llu, want %zu", tc->label, how,
		    (unsigned long long)smtp_data_size(d), tc->bodylen);
}

/* Run one case whole, at every split point, and one byte at a time. */
static void
t_run(const struct t_case *tc)
{
	struct smtp_data	*d;
	struct t_sink		 s;
	char			 how[64];
	size_t			 k, consumed;
	int			 done;

	memset(&s, 0, sizeof(s));
	buf_init(&s.out, 0);
	d = smtp_data_new();

	done = 0;
	consumed = 0;
	t_feed(d, tc->in, tc->inlen, &s, &done, &consumed);
	t_check(tc, "whole", d, &s, done, consumed);

	for (k = 0; k <= tc->inlen; k++) {
		smtp_data_reset(d);
		buf_reset(&s.out);
		done = 0;
		consumed = 0;
		t_feed(d, tc->in, k, &s, &done, &consumed);
		t_feed(d, tc->in + k, tc->inlen - k, &s, &done, &consumed);
		snprintf(how, sizeof(how), "split at %zu", k);
		t_check(tc, how, d, &s, done, consumed);
	}

	smtp_data_reset(d);
	buf_reset(&s.out);
	done = 0;
	consumed = 0;
	for (k = 0; k < tc->inlen; k++)
		t_feed(d, tc->in + k, 1, &s, &done, &consumed);
	t_check(tc, "1-byte feeds", d, &s, done, consumed);

	buf_clear(&s.out);
	smtp_data_free(d);
}

static const struct t_case t_cases[] = {
	{ "empty message", T_S(".\r\n"), T_S(""), 1, 3, 0 },
	{ "nothing yet", T_S(""), T_S(""), 0, 0, 0 },
	{ "simple", T_S("Subject: hi\r\n\r\nhello\r\n.\r\n"),
	    T_S("Subject: hi\r\n\r\nhello\r\n"), 1, 25, 0 },
	{ "stuffed dot", T_S("..x\r\n.\r\n"), T_S(".x\r\n"), 1, 8, 0 },
	{ "stuffed dot mid", T_S("a\r\n..x\r\n.\r\n"), T_S("a\r\n.x\r\n"),
	    1, 11, 0 },
	{ "dot dot line", T_S("a\r\n..\r\n.\r\n"), T_S("a\r\n.\r\n"),
	    1, 10, 0 },
	{ "dot dot dot line", T_S("...\r\n.\r\n"), T_S("..\r\n"), 1, 8, 0 },
	{ "leading dot dropped", T_S(".x\r\n.\r\n"), T_S("x\r\n"), 1, 7, 0 },
	{ "dot space", T_S(". \r\n.\r\n"), T_S(" \r\n"), 1, 7, 0 },
	{ "dot not at line start", T_S("a.\r\nb.c\r\n.\r\n"),
	    T_S("a.\r\nb.c\r\n"), 1, 12, 0 },
	{ "empty lines", T_S("\r\n\r\n.\r\n"), T_S("\r\n\r\n"), 1, 7, 0 },
	{ "lf.lf does not end", T_S("a\n.\nb\r\n.\r\n"),
	    T_S("a\n.\nb\r\n"), 1, 10, T_BL },
	{ "lf.crlf does not end", T_S("a\n.\r\nb\r\n.\r\n"),
	    T_S("a\n.\r\nb\r\n"), 1, 11, T_BL },
	{ "crlf.lf does not end", T_S("a\r\n.\nb\r\n.\r\n"),
	    T_S("a\r\n.\nb\r\n"), 1, 11, T_BL },
	{ "lf.lf alone stays open", T_S("a\n.\n"), T_S("a\n.\n"), 0, 4,
	    T_BL },
	{ "crlf.lf alone stays open", T_S("a\r\n.\n"), T_S("a\r\n.\n"), 0, 5,
	    T_BL },
	{ "lf.crlf alone stays open", T_S("a\n.\r\n"), T_S("a\n.\r\n"), 0, 5,
	    T_BL },
	{ "dot lf at start stays open", T_S(".\n.\r\n"), T_S(".\n.\r\n"), 0,
	    5, T_BL },
	{ "smuggled message", T_S("a\r\n.\nMAIL FROM:<x>\r\n.\r\n"),
	    T_S("a\r\n.\nMAIL FROM:<x>\r\n"), 1, 23, T_BL },
	{ "dot cr x", T_S("a\r\n.\rx\r\n.\r\n"), T_S("a\r\n\rx\r\n"),
	    1, 11, T_BC },
	{ "dot cr cr lf", T_S(".\r\r\n.\r\n"), T_S("\r\r\n"), 1, 7, T_BC },
	{ "dot cr dot cr lf", T_S(".\r.\r\n.\r\n"), T_S("\r.\r\n"), 1, 8,
	    T_BC },
	{ "bare cr inside", T_S("a\rb\r\n.\r\n"), T_S("a\rb\r\n"), 1, 8,
	    T_BC },
	{ "cr cr lf", T_S("a\r\r\n.\r\n"), T_S("a\r\r\n"), 1, 7, T_BC },
	{ "cr at line start", T_S("\rx\r\n.\r\n"), T_S("\rx\r\n"), 1, 7,
	    T_BC },
	{ "trailing command not consumed", T_S("a\r\n.\r\nQUIT\r\n"),
	    T_S("a\r\n"), 1, 6, 0 },
	{ "pipelined after empty", T_S(".\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\n"),
	    T_S(""), 1, 3, 0 },
	{ "second end not consumed", T_S("x\r\n.\r\n.\r\n"), T_S("x\r\n"),
	    1, 6, 0 },
	{ "open after crlf dot", T_S("hello\r\n."), T_S("hello\r\n"), 0, 8,
	    0 },
	{ "open after crlf dot cr", T_S("hello\r\n.\r"), T_S("hello\r\n"), 0,
	    9, 0 },
	{ "open mid line", T_S("hello"), T_S("hello"), 0, 5, 0 },
	{ "open after cr", T_S("hello\r"), T_S("hello\r"), 0, 6, 0 },
	{ "8bit", T_S("caf\xc3\xa9\r\n.\r\n"), T_S("caf\xc3\xa9\r\n"), 1,
	    10, T_8 },
	{ "8bit after a dot", T_S(".\xff\r\n.\r\n"), T_S("\xff\r\n"), 1, 7,
	    T_8 },
	{ "nul", T_S("a\0b\r\n.\r\n"), T_S("a\0b\r\n"), 1, 8, T_NUL },
	{ "nul at start", T_S("\0\r\n.\r\n"), T_S("\0\r\n"), 1, 6, T_NUL },
	{ "all flags", T_S("\0\xe9\rx\ny\r\n.\r\n"), T_S("\0\xe9\rx\ny\r\n"),
	    1, 11, T_NUL | T_8 | T_BC | T_BL },
};

static void
test_data_table(void **state)
{
	size_t	i;

	for (i = 0; i < MS_NITEMS(t_cases); i++)
		t_run(&t_cases[i]);
}

/*
 * RFC 5321 4.5.3.1.6: a line of textlen bytes plus its end, counted after
 * unstuffing, is long when over 1000 octets.
 */
static void
test_data_long_lines(void **state)
{
	static const struct {
		const char	*label;
		const char	*lead;		/* before the x's */
		size_t		 textlen;	/* x's */
		const char	*term;	/* line end, and an empty
					   line after a bare LF */
		int		 flags;
	} lc[] = {
		{ "998 + crlf", "", 998, "\r\n", 0 },
		{ "999 + crlf", "", 999, "\r\n", T_LONG },
		{ "999 + lf", "", 999, "\n\r\n", T_BL },
		{ "1000 + lf", "", 1000, "\n\r\n", T_BL | T_LONG },
		{ "stuffed dot not counted", ".", 998, "\r\n", 0 },
		{ "stuffed dot, 999 + crlf", ".", 999, "\r\n", T_LONG },
		{ "second line long", "a\r\n", 999, "\r\n", T_LONG },
		{ "after bare lf", "a\n", 998, "\r\n", T_BL },
		{ "5000 + crlf", "", 5000, "\r\n", T_LONG },
	};
	struct t_case	 tc;
	char		*in, *body;
	size_t		 i, ll, tl, n, bn;

	for (i = 0; i < MS_NITEMS(lc); i++) {
		ll = strlen(lc[i].lead);
		tl = strlen(lc[i].term);
		n = ll + lc[i].textlen + tl + 3;
		in = xmalloc(n);
		memcpy(in, lc[i].lead, ll);
		memset(in + ll, 'x', lc[i].textlen);
		memcpy(in + ll + lc[i].textlen, lc[i].term, tl);
		memcpy(in + ll + lc[i].textlen + tl, ".\r\n", 3);

		/* The body is the input less its end, and less a lead dot. */
		body = xmalloc(n);
		if (strcmp(lc[i].lead, ".") == 0) {
			bn = n - 4;
			memcpy(body, in + 1, bn);
		} else {
			bn = n - 3;
			memcpy(body, in, bn);
		}

		memset(&tc, 0, sizeof(tc));
		tc.label = lc[i].label;
		tc.in = in;
		tc.inlen = n;
		tc.body = body;
		tc.bodylen = bn;
		tc.done = 1;
		tc.consumed = n;
		tc.flags = lc[i].flags;
		t_run(&tc);
		free(body);
		free(in);
	}
}

/*
 * Ordinary text reaches the sink in one piece that points into the input:
 * the decoder must not call back per byte or per line, nor copy.
 */
static void
test_data_zero_copy(void **state)
{
	struct smtp_data	*d;
	struct t_sink		 s;
	struct buf		 in;
	size_t			 i, n;
	int			 done;

	buf_init(&in, 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_addf(&in, "Line %zu of a plain text "
		    "message.\r\n", i), 0);
	n = in.len;
	assert_int_equal(buf_adds(&in, ".\r\nQUIT\r\n"), 0);

	memset(&s, 0, sizeof(s));
	buf_init(&s.out, 0);
	s.lo = in.data;
	s.hi = in.data + in.len;
	d = smtp_data_new();
	assert_int_equal(smtp_data_feed(d, in.data, in.len, t_sink_cb, &s,
	    &done), n + 3);
	assert_int_equal(done, 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.inside, 1);
	assert_int_equal(s.out.len, n);
	assert_memory_equal(s.out.data, in.data, n);
	assert_int_equal(smtp_data_size(d), n);
	assert_int_equal(smtp_data_flags(d), 0);

	/* A stuffed dot costs one break in the run, not a copy. */
	smtp_data_reset(d);
	buf_reset(&s.out);
	s.calls = s.inside = 0;
	assert_int_equal(smtp_data_feed(d, T_S("a\r\n..b\r\nc\r\n.\r\n"),
	    t_sink_cb, &s, &done), 14);
	assert_int_equal(done, 1);
	assert_int_equal(s.calls, 2);
	assert_string_equal(buf_str(&s.out), "a\r\n.b\r\nc\r\n");

	/* Feeding after the end consumes nothing; reset starts afresh. */
	assert_int_equal(smtp_data_feed(d, T_S("x\r\n.\r\n"), t_sink_cb, &s,
	    &done), 0);
	assert_int_equal(done, 1);
	smtp_data_reset(d);
	assert_int_equal(smtp_data_size(d), 0);
	assert_int_equal(smtp_data_flags(d), 0);
	assert_int_equal(smtp_data_feed(d, T_S(".\r\n"), NULL, NULL, &done),
	    3);
	assert_int_equal(done, 1);

	/* Without a sink the decoder still counts. */
	smtp_data_reset(d);
	assert_int_equal(smtp_data_feed(d, T_S("ab\r\n..\r\n.\r\n"), NULL,
	    NULL, &done), 11);
	assert_int_equal(done, 1);
	assert_int_equal(smtp_data_size(d), 7);

	smtp_data_free(d);
	smtp_data_free(NULL);
	buf_clear(&s.out);
	buf_clear(&in);
}

/* xorshift64: deterministic, so a failure can be replayed. */
static uint64_t
t_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (*x);
}

/* The flags a body should raise, computed one byte at a time. */
static int
t_ref_flags(const unsigned char *p, size_t n)
{
	size_t	i, line = 0;
	int	flags = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			flags |= SMTP_DATA_NUL;
		if (p[i] & 0x80)
			flags |= SMTP_DATA_8BIT;
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			flags |= SMTP_DATA_BARE_CR;
		line++;
		if (p[i] == '\n') {
			if (i == 0 || p[i - 1] != '\r')
				flags |= SMTP_DATA_BARE_LF;
			if (line > 1000)
				flags |= SMTP_DATA_LONG_LINE;
			line = 0;
		}
	}
	return (flags);
}

/*
 * Make a body of about n bytes from the alphabet, ending in CRLF; lines
 * are mostly short so dots land at line starts often, with the odd long
 * one.
 */
static void
t_make_body(struct buf *b, uint64_t *x, size_t n, const char *alpha,
    size_t nalpha)
{
	char	c;

	buf_reset(b);
	while (b->len < n) {
		switch (t_rand(x) % 16) {
		case 0:
			assert_int_equal(buf_add(b, "\r\n", 2), 0);
			break;
		case 1:
			assert_int_equal(buf_add(b, "\r\n.", 3), 0);
			break;
		case 2:
			if (t_rand(x) % 64 == 0) {
				while (b->len % 1500 != 0)
					assert_int_equal(buf_add(b, "y", 1),
					    0);
			}
			break;
		default:
			c = alpha[t_rand(x) % nalpha];
			assert_int_equal(buf_add(b, &c, 1), 0);
			break;
		}
	}
	assert_int_equal(buf_add(b, "\r\n", 2), 0);
}

/* Dot-stuff body into wire as a client must (RFC 5321 4.5.2), add ".CRLF". */
static void
t_stuff(struct buf *wire, const struct buf *body)
{
	size_t	i;
	int	bol = 1;

	buf_reset(wire);
	for (i = 0; i < body->len; i++) {
		if (bol && body->data[i] == '.')
			assert_int_equal(buf_add(wire, ".", 1), 0);
		assert_int_equal(buf_add(wire, body->data + i, 1), 0);
		bol = body->data[i] == '\n' && i > 0 &&
		    body->data[i - 1] == '\r';
	}
	assert_int_equal(buf_add(wire, ".\r\n", 3), 0);
}

static void
test_data_random(void **state)
{
	static const struct {
		const char	*alpha;
		size_t		 nalpha;
	} alphas[] = {
		{ T_S("abcdefghij klmnopqrstuvwxyz.,:-") },
		{ T_S("ab..\r\n\r\n.\r\n.\n") },
		{ T_S("a.\r\n\n\0\xff\x80\t") },
		{ T_S("..........\r\r\r\n\n\n") },
	};
	struct smtp_data	*d;
	struct t_sink		 s;
	struct buf		 body, wire;
	uint64_t		 x = UINT64_C(0x9e3779b97f4a7c15);
	size_t			 round, off, n, consumed, want_consumed;
	int			 done;

	buf_init(&body, 0);
	buf_init(&wire, 0);
	memset(&s, 0, sizeof(s));
	buf_init(&s.out, 0);
	d = smtp_data_new();

	for (round = 0; round < 40; round++) {
		t_make_body(&body, &x, round < 4 ? 4 << 20 : 1 + round * 997,
		    alphas[round % MS_NITEMS(alphas)].alpha,
		    alphas[round % MS_NITEMS(alphas)].nalpha);
		t_stuff(&wire, &body);
		want_consumed = wire.len;
		assert_int_equal(buf_add(&wire, "QUIT\r\n", 6), 0);

		smtp_data_reset(d);
		buf_reset(&s.out);
		done = 0;
		consumed = 0;
		for (off = 0; off < wire.len && !done; off += n) {
			switch (t_rand(&x) % 4) {
			case 0:
				n = 1 + t_rand(&x) % 3;
				break;
			case 1:
				n = 1 + t_rand(&x) % 64;
				break;
			default:
				n = 1 + t_rand(&x) % 65536;
				break;
			}
			if (n > wire.len - off)
				n = wire.len - off;
			t_feed(d, wire.data + off, n, &s, &done, &consumed);
		}
		if (!done || consumed != want_consumed)
			fail_msg("round %zu: done %d consumed %zu, want 1 %zu",
			    round, done, consumed, want_consumed);
		if (s.out.len != body.len ||
		    memcmp(s.out.data, body.data, body.len) != 0)
			fail_msg("round %zu: body of %zu bytes differs from "
			    "the %zu sent", round, s.out.len, body.len);
		assert_int_equal(smtp_data_size(d), body.len);
		if (smtp_data_flags(d) != t_ref_flags(
		    (const unsigned char *)body.data, body.len))
			fail_msg("round %zu: flags 0x%x, want 0x%x", round,
			    smtp_data_flags(d), t_ref_flags(
			    (const unsigned char *)body.data, body.len));
	}

	smtp_data_free(d);
	buf_clear(&s.out);
	buf_clear(&wire);
	buf_clear(&body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_table),
		cmocka_unit_test(test_data_long_lines),
		cmocka_unit_test(test_data_zero_copy),
		cmocka_unit_test(test_data_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
