/*
 * test_transcript.c - unit tests for transcript.c.
 *
 * Tables of {label, input, want} for client lines (redaction, escaping),
 * server replies (one entry per line) and notes; then the byte cap at,
 * just past and far past its limit; then the echo, which must see every
 * entry, redacted, even once the stored text is truncated.  A failing
 * case prints its label, got and want with controls made visible.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transcript.h"

#define MARKER	"[transcript truncated]\n"

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
		if (c == '\n')
			p += sprintf(p, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			p += sprintf(p, "{%02x}", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return (out[which]);
}

/* Fail with label, got and want unless t's text is exactly want. */
static void
test_expect(const char *label, const struct transcript *t, const char *want)
{
	const char	*got;
	size_t		 len;

	got = transcript_text(t, &len);
	if (strlen(got) != len)
		fail_msg("%s: length %zu but strlen %zu", label, len,
		    strlen(got));
	if (len == strlen(want) && memcmp(got, want, len) == 0)
		return;
	fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"", label,
	    test_show(got, len, 0), test_show(want, strlen(want), 1));
}

/* ------------------------------------------------------- client lines */

struct client_case {
	const char	*label;
	const char	*line;
	size_t		 len;		/* 0: strlen(line) */
	int		 redact;
	const char	*want;
	const char	*secret;	/* must appear nowhere, or NULL */
};

static const struct client_case client_cases[] = {
	/* As sent. */
	{ "plain command", "EHLO client.example", 0, 0,
	  "C: EHLO client.example\n", NULL },
	{ "CRLF stripped", "NOOP\r\n", 0, 0, "C: NOOP\n", NULL },
	{ "bare LF stripped", "NOOP\n", 0, 0, "C: NOOP\n", NULL },
	{ "empty line", "", 0, 0, "C: \n", NULL },

	/* AUTH initial responses (RFC 4954 4). */
	{ "AUTH PLAIN initial response", "AUTH PLAIN AGJvYgBzM2NyM3Q=", 0, 0,
	  "C: AUTH PLAIN ***\n", "AGJvYgBzM2NyM3Q=" },
	{ "auth verb and mechanism lower case", "auth plain AGJvYgBzM2NyM3Q=",
	  0, 0, "C: AUTH PLAIN ***\n", "AGJvYgBzM2NyM3Q=" },
	{ "mixed case verb", "Auth Login Ym9i", 0, 0,
	  "C: AUTH LOGIN ***\n", "Ym9i" },
	{ "AUTH LOGIN with user name", "AUTH LOGIN Ym9iQGV4YW1wbGUudGVzdA==",
	  0, 0, "C: AUTH LOGIN ***\n", "Ym9iQGV4YW1wbGUudGVzdA==" },
	{ "empty initial response '='", "AUTH PLAIN =", 0, 0,
	  "C: AUTH PLAIN ***\n", NULL },
	{ "extra spaces", "AUTH   PLAIN    AGJvYgBzM2NyM3Q=", 0, 0,
	  "C: AUTH PLAIN ***\n", "AGJvYgBzM2NyM3Q=" },
	{ "tabs as separators", "AUTH\tPLAIN\tAGJvYgBzM2NyM3Q=", 0, 0,
	  "C: AUTH PLAIN ***\n", "AGJvYgBzM2NyM3Q=" },
	{ "trailing junk after response", "AUTH PLAIN c2VjcmV0 more", 0, 0,
	  "C: AUTH PLAIN ***\n", "c2VjcmV0" },
	{ "with CRLF", "AUTH PLAIN c2VjcmV0\r\n", 0, 0,
	  "C: AUTH PLAIN ***\n", "c2VjcmV0" },
	{ "odd mechanism escaped", "AUTH X\x01Y c2VjcmV0", 0, 0,
	  "C: AUTH X\\x01Y ***\n", "c2VjcmV0" },

	/* AUTH without a secret stays as sent. */
	{ "AUTH LOGIN alone", "AUTH LOGIN", 0, 0, "C: AUTH LOGIN\n", NULL },
	{ "AUTH CRAM-MD5", "AUTH CRAM-MD5", 0, 0, "C: AUTH CRAM-MD5\n",
	  NULL },
	{ "AUTH mechanism then spaces", "AUTH PLAIN  ", 0, 0,
	  "C: AUTH PLAIN  \n", NULL },
	{ "AUTH alone", "AUTH", 0, 0, "C: AUTH\n", NULL },
	{ "AUTH space alone", "AUTH ", 0, 0, "C: AUTH \n", NULL },
	{ "not the AUTH verb", "AUTHX PLAIN c2VjcmV0", 0, 0,
	  "C: AUTHX PLAIN c2VjcmV0\n", NULL },
	{ "AUTH= parameter is not a command", "MAIL FROM:<a@b> AUTH=<>", 0, 0,
	  "C: MAIL FROM:<a@b> AUTH=<>\n", NULL },

	/* SASL continuation lines, flagged by the caller. */
	{ "continuation: PLAIN response", "AGJvYgBzM2NyM3Q=", 0, 1,
	  "C: ***\n", "AGJvYgBzM2NyM3Q=" },
	{ "continuation: LOGIN user name", "Ym9i", 0, 1, "C: ***\n",
	  "Ym9i" },
	{ "continuation: CRAM-MD5 digest",
	  "Ym9iIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", 0, 1, "C: ***\n",
	  "Ym9iIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw" },
	{ "continuation: cancel", "*", 0, 1, "C: ***\n", NULL },
	{ "continuation: empty", "", 0, 1, "C: ***\n", NULL },
	{ "redact wins over AUTH parsing", "AUTH PLAIN c2VjcmV0", 0, 1,
	  "C: ***\n", "c2VjcmV0" },

	/* Escaping. */
	{ "NUL", "MAIL FROM:<a\0b>", 15, 0, "C: MAIL FROM:<a\\x00b>\n", NULL },
	{ "terminal escape", "HELO \x1b[31mred", 0, 0,
	  "C: HELO \\x1b[31mred\n", NULL },
	{ "bare CR inside", "NOOP a\rb", 0, 0, "C: NOOP a\\x0db\n", NULL },
	{ "tab", "HELO\tx", 0, 0, "C: HELO\\x09x\n", NULL },
	{ "DEL", "HELO x\x7f", 0, 0, "C: HELO x\\x7f\n", NULL },
	{ "backslash kept readable", "HELO a\\b", 0, 0, "C: HELO a\\b\n",
	  NULL },
	{ "UTF-8 kept", "RCPT TO:<j\xc3\xb6rg@\xe4\xbe\x8b\xe3\x81\x88.jp>", 0,
	  0, "C: RCPT TO:<j\xc3\xb6rg@\xe4\xbe\x8b\xe3\x81\x88.jp>\n", NULL },
	{ "4-byte UTF-8 kept", "HELO \xf0\x9f\x93\xa8", 0, 0,
	  "C: HELO \xf0\x9f\x93\xa8\n", NULL },
	{ "highest code point kept", "X \xf4\x8f\xbf\xbf", 0, 0,
	  "C: X \xf4\x8f\xbf\xbf\n", NULL },
	{ "invalid byte", "HELO \xff", 0, 0, "C: HELO \\xff\n", NULL },
	{ "lone continuation byte", "HELO \x80x", 0, 0, "C: HELO \\x80x\n",
	  NULL },
	{ "truncated sequence at end", "HELO \xc3", 0, 0, "C: HELO \\xc3\n",
	  NULL },
	{ "truncated sequence mid-line", "HELO \xe4\xbe!", 0, 0,
	  "C: HELO \\xe4\\xbe!\n", NULL },
	{ "overlong slash", "HELO \xc0\xaf", 0, 0, "C: HELO \\xc0\\xaf\n",
	  NULL },
	{ "overlong 3-byte", "HELO \xe0\x80\xaf", 0, 0,
	  "C: HELO \\xe0\\x80\\xaf\n", NULL },
	{ "surrogate", "HELO \xed\xa0\x80", 0, 0,
	  "C: HELO \\xed\\xa0\\x80\n", NULL },
	{ "past U+10FFFF", "HELO \xf4\x90\x80\x80", 0, 0,
	  "C: HELO \\xf4\\x90\\x80\\x80\n", NULL },
	{ "C1 control (8-bit CSI)", "HELO \xc2\x9b" "2J", 0, 0,
	  "C: HELO \\xc2\\x9b2J\n", NULL },
	{ "first printable non-ASCII kept", "HELO \xc2\xa0", 0, 0,
	  "C: HELO \xc2\xa0\n", NULL },
};

static void
test_client_table(void **state)
{
	const struct client_case	*c;
	struct transcript		*t;
	size_t				 i, len;

	(void)state;
	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
		c = &client_cases[i];
		len = c->len != 0 ? c->len : strlen(c->line);
		t = transcript_new(0);
		transcript_client(t, c->line, len, c->redact);
		test_expect(c->label, t, c->want);
		if (c->secret != NULL &&
		    strstr(transcript_text(t, NULL), c->secret) != NULL)
			fail_msg("%s: secret \"%s\" recorded", c->label,
			    c->secret);
		transcript_free(t);
	}
}

/* ------------------------------------------------------ server replies */

struct server_case {
	const char	*label;
	const char	*reply;
	const char	*want;
};

static const struct server_case server_cases[] = {
	{ "single line", "250 2.1.0 Ok\r\n", "S: 250 2.1.0 Ok\n" },
	{ "EHLO reply, one entry per line",
	  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n"
	  "250 ENHANCEDSTATUSCODES\r\n",
	  "S: 250-mx.test\nS: 250-PIPELINING\nS: 250-SIZE 26214400\n"
	  "S: 250 ENHANCEDSTATUSCODES\n" },
	{ "several replies at once (pipelining)",
	  "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	  "354 End data with <CR><LF>.<CR><LF>\r\n",
	  "S: 250 2.1.0 Ok\nS: 250 2.1.5 Ok\n"
	  "S: 354 End data with <CR><LF>.<CR><LF>\n" },
	{ "no final CRLF", "221 2.0.0 Bye", "S: 221 2.0.0 Bye\n" },
	{ "LF line ends", "250-a\n250 b\n", "S: 250-a\nS: 250 b\n" },
	{ "empty continuation line", "250-\r\n250 x\r\n",
	  "S: 250-\nS: 250 x\n" },
	{ "empty reply records nothing", "", "" },
	{ "text escaped", "501 5.1.7 <a\x01" "b>\r\n",
	  "S: 501 5.1.7 <a\\x01b>\n" },
};

static void
test_server_table(void **state)
{
	const struct server_case	*c;
	struct transcript		*t;
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof(server_cases) / sizeof(server_cases[0]); i++) {
		c = &server_cases[i];
		t = transcript_new(0);
		transcript_server(t, c->reply, strlen(c->reply));
		test_expect(c->label, t, c->want);
		transcript_free(t);
	}
}

/* Record a C string as a server reply. */
static void
test_server(struct transcript *t, const char *s)
{
	transcript_server(t, s, strlen(s));
}

/* Record a C string as a client line. */
static void
test_client(struct transcript *t, const char *s, int redact)
{
	transcript_client(t, s, strlen(s), redact);
}

/* ------------------------------------------------------ a whole session */

static void
test_session(void **state)
{
	struct transcript	*t;
	static const char	*ehlo = "250-mx.test\r\n250-PIPELINING\r\n"
				    "250 8BITMIME\r\n";
	static const char	*want =
	    "S: 220 mx.test ESMTP mailsink\n"
	    "C: EHLO client\n"
	    "S: 250-mx.test\n"
	    "S: 250-PIPELINING\n"
	    "S: 250 8BITMIME\n"
	    "C: AUTH LOGIN\n"
	    "S: 334 VXNlcm5hbWU6\n"
	    "C: ***\n"
	    "S: 334 UGFzc3dvcmQ6\n"
	    "C: ***\n"
	    "S: 235 2.7.0 Authentication successful\n"
	    "C: MAIL FROM:<a@b>\n"
	    "S: 250 2.1.0 Ok\n"
	    "C: DATA\n"
	    "S: 354 Go ahead\n"
	    "-- DATA 1234 octets\n"
	    "S: 250 2.0.0 Ok: queued as 7\n"
	    "C: QUIT\n"
	    "S: 221 2.0.0 Bye\n";

	(void)state;
	t = transcript_new(0);
	test_expect("new transcript is empty", t, "");
	test_server(t, "220 mx.test ESMTP mailsink\r\n");
	test_client(t, "EHLO client", 0);
	test_server(t, ehlo);
	test_client(t, "AUTH LOGIN", 0);
	test_server(t, "334 VXNlcm5hbWU6\r\n");
	test_client(t, "Ym9i", 1);
	test_server(t, "334 UGFzc3dvcmQ6\r\n");
	test_client(t, "czNjcjN0", 1);
	test_server(t, "235 2.7.0 Authentication successful\r\n");
	test_client(t, "MAIL FROM:<a@b>", 0);
	test_server(t, "250 2.1.0 Ok\r\n");
	test_client(t, "DATA", 0);
	test_server(t, "354 Go ahead\r\n");
	transcript_note(t, "DATA 1234 octets");
	test_server(t, "250 2.0.0 Ok: queued as 7\r\n");
	test_client(t, "QUIT", 0);
	test_server(t, "221 2.0.0 Bye\r\n");
	test_expect("session", t, want);
	assert_int_equal(transcript_dropped(t), 0);
	transcript_free(t);
	transcript_free(NULL);
}

static void
test_note(void **state)
{
	struct transcript	*t;

	(void)state;
	t = transcript_new(0);
	transcript_note(t, "TLS started TLSv1.3 TLS_AES_256_GCM_SHA384");
	transcript_note(t, "");
	test_expect("notes", t,
	    "-- TLS started TLSv1.3 TLS_AES_256_GCM_SHA384\n-- \n");
	transcript_free(t);
}

/* --------------------------------------------------------------- the cap */

/* "C: NOOP\n" is 8 bytes. */
#define NOOP_ENTRY	8

static void
test_cap_exact(void **state)
{
	struct transcript	*t;

	(void)state;
	t = transcript_new(3 * NOOP_ENTRY);
	transcript_client(t, "NOOP", 4, 0);
	transcript_client(t, "NOOP", 4, 0);
	transcript_client(t, "NOOP", 4, 0);
	test_expect("exactly at the cap: all kept, no marker", t,
	    "C: NOOP\nC: NOOP\nC: NOOP\n");
	assert_int_equal(transcript_dropped(t), 0);

	transcript_client(t, "NOOP", 4, 0);
	test_expect("one entry past the cap", t,
	    "C: NOOP\nC: NOOP\nC: NOOP\n" MARKER);
	assert_int_equal(transcript_dropped(t), 1);
	transcript_free(t);
}

static void
test_cap_one_over(void **state)
{
	struct transcript	*t;

	(void)state;
	t = transcript_new(3 * NOOP_ENTRY - 1);
	transcript_client(t, "NOOP", 4, 0);
	transcript_client(t, "NOOP", 4, 0);
	transcript_client(t, "NOOP", 4, 0);
	test_expect("third entry one byte over", t,
	    "C: NOOP\nC: NOOP\n" MARKER);
	assert_int_equal(transcript_dropped(t), 1);

	/* Later entries, even small ones and notes, are only counted. */
	transcript_client(t, "Q", 1, 0);
	transcript_server(t, "250-a\r\n250 b\r\n", 14);
	transcript_note(t, "DATA 1 octets");
	transcript_client(t, "x", 1, 1);
	test_expect("marker written once, rest dropped", t,
	    "C: NOOP\nC: NOOP\n" MARKER);
	assert_int_equal(transcript_dropped(t), 6);
	transcript_free(t);
}

static void
test_cap_escaping_counts(void **state)
{
	struct transcript	*t;
	char			 nul[10];

	(void)state;
	/* 10 NULs escape to 40 bytes: "C: " + 40 + "\n" = 44. */
	memset(nul, 0, sizeof(nul));
	t = transcript_new(43);
	transcript_client(t, nul, sizeof(nul), 0);
	test_expect("the escaped size is what counts", t, MARKER);
	transcript_free(t);

	t = transcript_new(44);
	transcript_client(t, nul, sizeof(nul), 0);
	assert_int_equal(strlen(transcript_text(t, NULL)), 44);
	transcript_free(t);
}

static void
test_cap_multiline_reply(void **state)
{
	struct transcript	*t;
	const char		*ehlo = "250-mx.test\r\n250-PIPELINING\r\n"
				    "250 8BITMIME\r\n";

	(void)state;
	/* "S: 250-mx.test\n" is 15 bytes, "S: 250-PIPELINING\n" 18. */
	t = transcript_new(15 + 18 + 5);
	transcript_server(t, ehlo, strlen(ehlo));
	test_expect("reply cut between its lines", t,
	    "S: 250-mx.test\nS: 250-PIPELINING\n" MARKER);
	assert_int_equal(transcript_dropped(t), 1);
	transcript_free(t);
}

static void
test_cap_huge(void **state)
{
	struct transcript	*t;
	char			 line[500];
	const char		*text;
	size_t			 i, len, entry, kept, n = 100000;

	(void)state;
	memset(line, 'a', sizeof(line));
	entry = 3 + sizeof(line) + 1;
	t = transcript_new(0);		/* TRANSCRIPT_MAX_DEFAULT */
	for (i = 0; i < n; i++)
		transcript_client(t, line, sizeof(line), 0);
	text = transcript_text(t, &len);
	kept = TRANSCRIPT_MAX_DEFAULT / entry;
	assert_int_equal(len, kept * entry + strlen(MARKER));
	assert_true(len <= TRANSCRIPT_MAX_DEFAULT + strlen(MARKER));
	assert_string_equal(text + len - strlen(MARKER), MARKER);
	assert_int_equal(transcript_dropped(t), n - kept);
	/* The marker appears exactly once. */
	assert_ptr_equal(strstr(text, MARKER), text + kept * entry);
	transcript_free(t);
}

static void
test_cap_one_huge_line(void **state)
{
	struct transcript	*t;
	char			*line;
	size_t			 n = 4 * 1024 * 1024;

	(void)state;
	line = malloc(n);
	assert_non_null(line);
	memset(line, 'b', n);
	t = transcript_new(0);
	transcript_client(t, "EHLO x", 6, 0);
	transcript_client(t, line, n, 0);
	transcript_client(t, "QUIT", 4, 0);
	test_expect("a line larger than the whole cap", t,
	    "C: EHLO x\n" MARKER);
	assert_int_equal(transcript_dropped(t), 2);
	transcript_free(t);
	free(line);
}

static void
test_text_nullable_len(void **state)
{
	struct transcript	*t;
	size_t			 len = 99;

	(void)state;
	t = transcript_new(0);
	assert_string_equal(transcript_text(t, NULL), "");
	assert_string_equal(transcript_text(t, &len), "");
	assert_int_equal(len, 0);
	transcript_free(t);
}

/* ---------------------------------------------------------------- echo */

struct echo_log {
	char	 dirs[64];
	char	*lines[64];
	size_t	 n;
	size_t	 calls;
};

static void
test_echo_cb(void *arg, char dir, const char *line, size_t len)
{
	struct echo_log	*e = arg;

	e->calls++;
	if (e->n == sizeof(e->lines) / sizeof(e->lines[0]))
		return;
	e->dirs[e->n] = dir;
	e->lines[e->n] = malloc(len + 1);
	assert_non_null(e->lines[e->n]);
	memcpy(e->lines[e->n], line, len);
	e->lines[e->n][len] = '\0';
	e->n++;
}

struct echo_want {
	char		 dir;
	const char	*line;
};

static void
test_echo(void **state)
{
	static const struct echo_want want[] = {
		{ 'S', "220 mx.test ESMTP mailsink" },
		{ 'C', "AUTH PLAIN ***" },
		{ 'S', "235 2.7.0 Ok" },
		{ 'C', "***" },
		{ 'S', "250-mx.test" },
		{ 'S', "250 8BITMIME" },
		{ '-', "DATA 5 octets" },
		/* From here the stored text is truncated. */
		{ 'C', "MAIL FROM:<a\001b>" },
		{ 'C', "AUTH LOGIN ***" },
		{ 'C', "***" },
		{ 'S', "221 2.0.0 Bye" },
		{ '-', "closed" },
	};
	struct transcript	*t;
	struct echo_log		 e;
	size_t			 i;
	char			 dropped_mail[] = "MAIL FROM:<a\001b>";

	(void)state;
	memset(&e, 0, sizeof(e));
	t = transcript_new(120);
	transcript_set_echo(t, test_echo_cb, &e);
	test_server(t, "220 mx.test ESMTP mailsink\r\n");
	test_client(t, "AUTH PLAIN c2VjcmV0", 0);
	test_server(t, "235 2.7.0 Ok\r\n");
	test_client(t, "c2VjcmV0", 1);
	test_server(t, "250-mx.test\r\n250 8BITMIME\r\n");
	transcript_note(t, "DATA 5 octets");
	transcript_client(t, dropped_mail, strlen(dropped_mail), 0);
	test_client(t, "auth login Ym9i\r\n", 0);
	test_client(t, "c2VjcmV0", 1);
	test_server(t, "221 2.0.0 Bye\r\n");
	transcript_note(t, "closed");

	assert_non_null(strstr(transcript_text(t, NULL), MARKER));
	assert_true(transcript_dropped(t) > 0);
	if (e.n != sizeof(want) / sizeof(want[0]))
		fail_msg("echo saw %zu entries, want %zu", e.n,
		    sizeof(want) / sizeof(want[0]));
	for (i = 0; i < e.n; i++) {
		if (e.dirs[i] != want[i].dir ||
		    strcmp(e.lines[i], want[i].line) != 0)
			fail_msg("echo entry %zu:\n  got  %c \"%s\"\n"
			    "  want %c \"%s\"", i, e.dirs[i],
			    test_show(e.lines[i], strlen(e.lines[i]), 0),
			    want[i].dir,
			    test_show(want[i].line, strlen(want[i].line), 1));
		if (strstr(e.lines[i], "c2VjcmV0") != NULL ||
		    strstr(e.lines[i], "Ym9i") != NULL)
			fail_msg("echo entry %zu leaks a secret", i);
	}

	/* Turning the echo off stops it. */
	transcript_set_echo(t, NULL, NULL);
	transcript_client(t, "NOOP", 4, 0);
	assert_int_equal(e.calls, sizeof(want) / sizeof(want[0]));

	for (i = 0; i < e.n; i++)
		free(e.lines[i]);
	transcript_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_table),
		cmocka_unit_test(test_server_table),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_note),
		cmocka_unit_test(test_cap_exact),
		cmocka_unit_test(test_cap_one_over),
		cmocka_unit_test(test_cap_escaping_counts),
		cmocka_unit_test(test_cap_multiline_reply),
		cmocka_unit_test(test_cap_huge),
		cmocka_unit_test(test_cap_one_huge_line),
		cmocka_unit_test(test_text_nullable_len),
		cmocka_unit_test(test_echo),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
