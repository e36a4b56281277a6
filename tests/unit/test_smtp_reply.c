/*
 * test_smtp_reply.c - unit tests for smtp_reply.c.
 *
 * Tables of {label, input, want}; a failing case prints its label and the
 * got and want bytes with CR, LF and other controls made visible.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "smtp_reply.h"

/* Make s printable for a failure message; returns a static buffer. */
static const char *
test_show(const char *s, size_t len, int which)
{
	static char	 out[2][8192];
	char		*p = out[which];
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < len && p < out[which] + sizeof(out[0]) - 8; i++) {
		c = (unsigned char)s[i];
		if (c == '\r')
			p += sprintf(p, "\\r");
		else if (c == '\n')
			p += sprintf(p, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return (out[which]);
}

/* Fail with label, got and want unless the buffer holds exactly want. */
static void
test_expect(const char *label, const struct buf *b, const char *want,
    size_t wantlen)
{
	if (b->len == wantlen && memcmp(buf_str(b), want, wantlen) == 0)
		return;
	fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", label,
	    test_show(buf_str(b), b->len, 0), test_show(want, wantlen, 1));
}

/* ------------------------------------------------------------ smtp_reply */

struct reply_case {
	const char	*label;
	int		 code;
	const char	*enh;
	const char	*text;		/* formatted with "%s" */
	const char	*want;
};

static const struct reply_case reply_cases[] = {
	{ "code, enhanced code and text", 250, "2.1.0", "Ok",
	  "250 2.1.0 Ok\r\n" },
	{ "NULL enhanced code", 220, NULL, "mx.test ESMTP mailsink",
	  "220 mx.test ESMTP mailsink\r\n" },
	{ "empty enhanced code", 214, "", "See RFC 5321",
	  "214 See RFC 5321\r\n" },
	{ "4xx", 451, "4.7.1", "Greylisted", "451 4.7.1 Greylisted\r\n" },
	{ "5xx", 550, "5.1.1", "No such user", "550 5.1.1 No such user\r\n" },
	{ "CRLF in text cannot forge a line", 250, "2.1.0",
	  "<a@b>\r\n250 fake", "250 2.1.0 <a@b>??250 fake\r\n" },
	{ "bare LF and CR", 501, "5.5.4", "a\nb\rc",
	  "501 5.5.4 a?b?c\r\n" },
	{ "tab and DEL", 250, NULL, "a\tb\x7f" "c", "250 a?b?c\r\n" },
	{ "8-bit bytes", 250, NULL, "j\xc3\xb6rg", "250 j??rg\r\n" },
	{ "escape sequence", 250, NULL, "\x1b[2J", "250 ?[2J\r\n" },
	{ "empty text, no enhanced code", 250, NULL, "", "250\r\n" },
	{ "empty text with enhanced code", 250, "2.0.0", "",
	  "250 2.0.0\r\n" },
	{ "enhanced code sanitised too", 250, "2.0\r\n.0", "x",
	  "250 2.0??.0 x\r\n" },
	{ "printable edges kept", 250, NULL, " ~", "250  ~\r\n" },
};

static void
test_reply_table(void **state)
{
	const struct reply_case	*c;
	struct buf		 b;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		c = &reply_cases[i];
		buf_init(&b, 0);
		smtp_reply(&b, c->code, c->enh, "%s", c->text);
		test_expect(c->label, &b, c->want, strlen(c->want));
		buf_clear(&b);
	}
}

static void
test_reply_format(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 0);
	smtp_reply(&b, 250, "2.0.0", "Ok: queued as %lld", 1234LL);
	test_expect("printf arguments", &b,
	    "250 2.0.0 Ok: queued as 1234\r\n", 30);
	buf_clear(&b);

	buf_init(&b, 0);
	smtp_reply(&b, 250, NULL, "a%cb", '\0');
	test_expect("formatted NUL shows as ?", &b, "250 a?b\r\n", 9);
	buf_clear(&b);
}

static void
test_reply_appends(void **state)
{
	struct buf	b;
	const char	*want =
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 Go on\r\n";

	(void)state;
	buf_init(&b, 0);
	smtp_reply(&b, 250, "2.1.0", "Ok");
	smtp_reply(&b, 250, "2.1.5", "Ok");
	smtp_reply(&b, 354, NULL, "Go on");
	test_expect("pipelined replies accumulate in order", &b, want,
	    strlen(want));
	buf_clear(&b);
}

/* Text of exactly n 'x' bytes, formatted through a reply. */
static void
test_reply_len(size_t n, size_t wantx)
{
	struct buf	 b;
	char		*text, *want, label[64];
	size_t		 wantlen;

	text = malloc(n + 1);
	assert_non_null(text);
	memset(text, 'x', n);
	text[n] = '\0';
	wantlen = 10 + wantx + 2;
	want = malloc(wantlen + 1);
	assert_non_null(want);
	memcpy(want, "550 5.0.0 ", 10);
	memset(want + 10, 'x', wantx);
	memcpy(want + 10 + wantx, "\r\n", 3);

	snprintf(label, sizeof(label), "text of %zu bytes", n);
	buf_init(&b, 0);
	smtp_reply(&b, 550, "5.0.0", "%s", text);
	test_expect(label, &b, want, wantlen);
	assert_true(b.len <= 512);	/* RFC 5321 4.5.3.1.5 */
	buf_clear(&b);
	free(text);
	free(want);
}

static void
test_reply_truncation(void **state)
{
	(void)state;
	test_reply_len(SMTP_REPLY_TEXT_MAX - 1, SMTP_REPLY_TEXT_MAX - 1);
	test_reply_len(SMTP_REPLY_TEXT_MAX, SMTP_REPLY_TEXT_MAX);
	test_reply_len(SMTP_REPLY_TEXT_MAX + 1, SMTP_REPLY_TEXT_MAX);
	test_reply_len(100000, SMTP_REPLY_TEXT_MAX);
}

/* A bad reply code is a bug: the process must die, not send it. */
static void
test_reply_bad_code(void **state)
{
	static const int	 bad[] = { 0, 99, 199, 600, 1000, -250 };
	size_t			 i;
	pid_t			 pid;
	int			 status;
	struct buf		 b;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = fork();
		assert_true(pid != -1);
		if (pid == 0) {
			/* Keep the expected fatal line out of the test log. */
			freopen("/dev/null", "w", stderr);
			buf_init(&b, 0);
			smtp_reply(&b, bad[i], NULL, "x");
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
			fail_msg("code %d: want a fatal exit, got status %d",
			    bad[i], status);
	}
}

/* ------------------------------------------------------ smtp_reply_lines */

struct lines_case {
	const char	*label;
	int		 code;
	const char	*lines[5];
	size_t		 n;
	const char	*want;
};

static const struct lines_case lines_cases[] = {
	{ "EHLO reply", 250,
	  { "mx.test", "PIPELINING", "SIZE 26214400", "8BITMIME",
	    "ENHANCEDSTATUSCODES" }, 5,
	  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n"
	  "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n" },
	{ "one line is a plain reply", 250, { "mx.test" }, 1,
	  "250 mx.test\r\n" },
	{ "two lines", 214, { "Commands:", "HELO EHLO" }, 2,
	  "214-Commands:\r\n214 HELO EHLO\r\n" },
	{ "peer text sanitised per line", 250,
	  { "mx.test greets a\r\n250 b", "X\x80" }, 2,
	  "250-mx.test greets a??250 b\r\n250 X?\r\n" },
	{ "empty and NULL lines", 250, { "", NULL, "" }, 3,
	  "250-\r\n250-\r\n250\r\n" },
};

static void
test_lines_table(void **state)
{
	const struct lines_case	*c;
	struct buf		 b;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(lines_cases) / sizeof(lines_cases[0]); i++) {
		c = &lines_cases[i];
		buf_init(&b, 0);
		smtp_reply_lines(&b, c->code, c->lines, c->n);
		test_expect(c->label, &b, c->want, strlen(c->want));
		buf_clear(&b);
	}
}

static void
test_lines_truncation(void **state)
{
	char		 longline[1000];
	const char	*lines[2];
	struct buf	 b;

	(void)state;
	memset(longline, 'y', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	lines[0] = longline;
	lines[1] = longline;
	buf_init(&b, 0);
	smtp_reply_lines(&b, 250, lines, 2);
	/* Two lines of "250" + sep + text + CRLF, each text cut. */
	assert_int_equal(b.len, 2 * (4 + SMTP_REPLY_TEXT_MAX + 2));
	assert_memory_equal(b.data, "250-yyy", 7);
	assert_memory_equal(b.data + 4 + SMTP_REPLY_TEXT_MAX, "\r\n250 y", 7);
	buf_clear(&b);
}

/* --------------------------------------------------- smtp_reply_sanitise */

struct san_case {
	const char	*label;
	const char	*src;
	size_t		 len;
	size_t		 dstsz;
	const char	*want;
};

static const struct san_case san_cases[] = {
	{ "printable copied", "hello world", 11, 64, "hello world" },
	{ "CR LF replaced", "a\r\nb", 4, 64, "a??b" },
	{ "NUL inside replaced", "a\0b", 3, 64, "a?b" },
	{ "len, not strlen", "abcdef", 3, 64, "abc" },
	{ "cut to dstsz - 1", "abcdef", 6, 4, "abc" },
	{ "exactly fits", "abc", 3, 4, "abc" },
	{ "dstsz 1 gives empty", "abc", 3, 1, "" },
	{ "empty source", "", 0, 8, "" },
	{ "high bytes", "\xff\x80\xc3\xa9", 4, 8, "????" },
	{ "controls and DEL", "\x01\x1f\x7f\x20\x7e", 5, 8, "??? ~" },
};

static void
test_sanitise_table(void **state)
{
	const struct san_case	*c;
	char			 dst[64];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(san_cases) / sizeof(san_cases[0]); i++) {
		c = &san_cases[i];
		memset(dst, 'Z', sizeof(dst));
		smtp_reply_sanitise(dst, c->dstsz, c->src, c->len);
		if (strcmp(dst, c->want) != 0)
			fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", c->label,
			    test_show(dst, strlen(dst), 0),
			    test_show(c->want, strlen(c->want), 1));
		/* Nothing written past dstsz. */
		if (c->dstsz < sizeof(dst) && dst[c->dstsz] != 'Z')
			fail_msg("%s: wrote past dstsz %zu", c->label,
			    c->dstsz);
	}
}

static void
test_sanitise_every_byte(void **state)
{
	char	src[1], dst[2];
	int	c;

	(void)state;
	for (c = 0; c < 256; c++) {
		src[0] = (char)c;
		smtp_reply_sanitise(dst, sizeof(dst), src, 1);
		if (c >= 0x20 && c <= 0x7e) {
			if (dst[0] != (char)c)
				fail_msg("byte 0x%02x: got 0x%02x, want kept",
				    c, (unsigned char)dst[0]);
		} else if (dst[0] != '?')
			fail_msg("byte 0x%02x: got 0x%02x, want '?'", c,
			    (unsigned char)dst[0]);
		assert_int_equal(dst[1], '\0');
	}
}

static void
test_sanitise_zero_size(void **state)
{
	char	dst[1] = { 'Z' };

	(void)state;
	smtp_reply_sanitise(dst, 0, "abc", 3);
	assert_int_equal(dst[0], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_format),
		cmocka_unit_test(test_reply_appends),
		cmocka_unit_test(test_reply_truncation),
		cmocka_unit_test(test_reply_bad_code),
		cmocka_unit_test(test_lines_table),
		cmocka_unit_test(test_lines_truncation),
		cmocka_unit_test(test_sanitise_table),
		cmocka_unit_test(test_sanitise_every_byte),
		cmocka_unit_test(test_sanitise_zero_size),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
