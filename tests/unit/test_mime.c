/*
 * test_mime.c - display headers and message parts through GMime.
 *
 * Tables of messages and the decoded headers they must give, then whole
 * messages (multipart, charsets, attachments), then input that is not
 * a message at all.  Every string that comes out must be valid UTF-8,
 * and nothing may crash: the garbage cases run under ASan in CI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "compat.h"
#include "mime.h"

/* Compare two possibly-NULL strings, printing both on a mismatch. */
static void
t_streq(const char *label, const char *what, const char *got,
    const char *want)
{
	if (got != NULL && !g_utf8_validate(got, -1, NULL))
		fail_msg("%s: %s: not UTF-8: \"%s\"", label, what, got);
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s: got \"%s\", want \"%s\"", label, what,
		    got != NULL ? got : "(null)",
		    want != NULL ? want : "(null)");
}

/* A header case: input and the six decoded headers (NULL: absent). */
struct hdr_case {
	const char	*label;
	const char	*input;
	size_t		 len;		/* 0: strlen(input) */
	const char	*subject;
	const char	*from;
	const char	*to;
	const char	*cc;
	const char	*date;
	const char	*message_id;
};

static const struct hdr_case hdr_cases[] = {
	{ "plain CRLF",
	    "Subject: Hello\r\nFrom: Alice <a@x.test>\r\nTo: b@y.test\r\n"
	    "Cc: c@y.test, \"D, E\" <d@y.test>\r\n"
	    "Date: Tue, 24 Nov 2026 09:00:00 +0100\r\n"
	    "Message-ID: <id-1@x.test>\r\n\r\nbody\r\n", 0,
	    "Hello", "Alice <a@x.test>", "b@y.test",
	    "c@y.test, \"D, E\" <d@y.test>",
	    "Tue, 24 Nov 2026 09:00:00 +0100", "id-1@x.test" },
	{ "RFC 2047 B UTF-8",
	    "Subject: =?UTF-8?B?SMOpbGxvIHfDtnJsZA==?=\r\n\r\n", 0,
	    "Héllo wörld", NULL, NULL, NULL, NULL, NULL },
	{ "RFC 2047 Q ISO-8859-1 with underscore",
	    "Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n\r\n", 0,
	    "Café crème", NULL, NULL, NULL, NULL, NULL },
	{ "RFC 2047 lower-case q, UTF-8",
	    "Subject: =?utf-8?q?=E2=82=AC_10?=\r\n\r\n", 0,
	    "€ 10", NULL, NULL, NULL, NULL, NULL },
	{ "adjacent encoded words join",
	    "Subject: =?UTF-8?B?YWI=?= =?UTF-8?B?Y2Q=?=\r\n\r\n", 0,
	    "abcd", NULL, NULL, NULL, NULL, NULL },
	{ "encoded word amid text",
	    "Subject: Re: =?UTF-8?Q?na=C3=AFve?= idea\r\n\r\n", 0,
	    "Re: naïve idea", NULL, NULL, NULL, NULL, NULL },
	{ "encoded display name",
	    "From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <jm@x.test>\r\n\r\n", 0,
	    NULL, "Jörg Müller <jm@x.test>", NULL, NULL, NULL, NULL },
	{ "folded subject",
	    "Subject: a long\r\n subject line\r\n\tfolded twice\r\n\r\n", 0,
	    "a long subject line\tfolded twice", NULL, NULL, NULL, NULL,
	    NULL },
	{ "folded To",
	    "To: one@y.test,\r\n two@y.test,\r\n\tthree@y.test\r\n\r\n", 0,
	    NULL, NULL, "one@y.test, two@y.test, three@y.test", NULL, NULL,
	    NULL },
	{ "missing headers",
	    "X-Mailer: test\r\nSubject: only\r\n\r\nbody\r\n", 0,
	    "only", NULL, NULL, NULL, NULL, NULL },
	{ "no body and no blank line",
	    "Subject: head only\r\nFrom: a@x.test", 0,
	    "head only", "a@x.test", NULL, NULL, NULL, NULL },
	{ "bare LF",
	    "Subject: lf\nFrom: a@x.test\nTo: b@y.test\n"
	    "Message-ID: <lf@x>\n\nbody\n", 0,
	    "lf", "a@x.test", "b@y.test", NULL, NULL, "lf@x" },
	{ "header names any case",
	    "SUBJECT: loud\r\nfrom: a@x.test\r\nmessage-id: <q@x>\r\n\r\n", 0,
	    "loud", "a@x.test", NULL, NULL, NULL, "q@x" },
	{ "raw 8-bit Latin-1 subject",
	    "Subject: caf\xe9\r\n\r\n", 0,
	    "café", NULL, NULL, NULL, NULL, NULL },
	{ "raw UTF-8 subject (SMTPUTF8)",
	    "Subject: \xc3\xa9t\xc3\xa9\r\n\r\n", 0,
	    "été", NULL, NULL, NULL, NULL, NULL },
	{ "group and undisclosed recipients",
	    "To: undisclosed-recipients:;\r\n\r\n", 0,
	    NULL, NULL, "undisclosed-recipients: ;", NULL, NULL, NULL },
	{ "unparseable address kept as text",
	    "From: not an address\r\n\r\n", 0,
	    NULL, "not an address", NULL, NULL, NULL, NULL },
	{ "Message-ID without brackets",
	    "Message-ID: plain-id@x.test\r\n\r\n", 0,
	    NULL, NULL, NULL, NULL, NULL, "plain-id@x.test" },
	{ "unterminated encoded word left alone",
	    "Subject: 50% =?off\r\n\r\n", 0,
	    "50% =?off", NULL, NULL, NULL, NULL, NULL },
	{ "padded B words, several, folded",
	    "Subject: =?UTF-8?B?U3NzxZsgTGHFgmFsYQ==?=\r\n"
	    " =?UTF-8?B?bGFsYQ==?= =?UTF-8?B?IQ==?=\r\n\r\n", 0,
	    "Sssś Lałalalala!", NULL, NULL, NULL, NULL, NULL },
	{ "padded B word in a display name",
	    "From: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <h@x.test>\r\n"
	    "\r\n", 0,
	    NULL, "Hello world <h@x.test>", NULL, NULL, NULL, NULL },
	{ "B word split inside a character",
	    "Subject: =?UTF-8?B?5Lit5?= =?UTF-8?B?paH?=\r\n\r\n", 0,
	    "中文", NULL, NULL, NULL, NULL, NULL },
	{ "empty subject",
	    "Subject:\r\nTo: b@y.test\r\n\r\n", 0,
	    "", NULL, "b@y.test", NULL, NULL, NULL },
	{ "NUL inside a header stops it, not the parse",
	    "Subject: a\0b\r\nTo: b@y.test\r\n\r\n", 30,
	    "a", NULL, "b@y.test", NULL, NULL, NULL },
	{ "no header section", "just some text\r\nand more\r\n", 0,
	    NULL, NULL, NULL, NULL, NULL, NULL },
	{ "binary garbage", "\x01\x02\xff\xfe\x80: \x81\r\n\r\n\xff", 0,
	    NULL, NULL, NULL, NULL, NULL, NULL },
	{ "empty input", "", 0, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "only a blank line", "\r\n", 0,
	    NULL, NULL, NULL, NULL, NULL, NULL },
	{ "continuation first", " folded: x\r\nSubject: y\r\n\r\n", 0,
	    NULL, NULL, NULL, NULL, NULL, NULL },
};

static void
test_headers_table(void **state)
{
	const struct hdr_case	*c;
	struct mime_headers	 h;
	size_t			 i;

	(void)state;
	for (i = 0; i < MS_NITEMS(hdr_cases); i++) {
		c = &hdr_cases[i];
		mime_headers_parse(c->input, c->len != 0 ? c->len :
		    strlen(c->input), &h);
		t_streq(c->label, "subject", h.subject, c->subject);
		t_streq(c->label, "from", h.from, c->from);
		t_streq(c->label, "to", h.to, c->to);
		t_streq(c->label, "cc", h.cc, c->cc);
		t_streq(c->label, "date", h.date, c->date);
		t_streq(c->label, "message_id", h.message_id, c->message_id);
		mime_headers_clear(&h);
		assert_null(h.subject);
	}
}

/* The text a search sees: first text part, decoded, markup dropped, cut. */
static void
test_search_text(void **state)
{
	static const struct {
		const char	*label;
		const char	*input;
		const char	*want;
	} cases[] = {
		{ "plain", "Subject: a\r\n\r\nhello there\r\n",
		    "hello there\r\n" },
		{ "quoted-printable", "Content-Type: text/plain; "
		    "charset=utf-8\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\nK=C3=B6ln\r\n", "Köln\r\n" },
		{ "html only", "Content-Type: text/html\r\n\r\n"
		    "<p>one</p><b>two</b>", " one  two " },
		{ "alternative prefers plain", "Content-Type: multipart/"
		    "alternative; boundary=b\r\n\r\n--b\r\nContent-Type: "
		    "text/html\r\n\r\n<i>html</i>\r\n--b\r\nContent-Type: "
		    "text/plain\r\n\r\nplain\r\n--b--\r\n", "plain" },
		{ "attachment only", "Content-Type: application/pdf\r\n"
		    "Content-Disposition: attachment\r\n\r\n%PDF\r\n", NULL },
		{ "nothing", "", NULL },
	};
	GString	*big;
	char	*text;
	size_t	 i;

	(void)state;
	for (i = 0; i < MS_NITEMS(cases); i++) {
		text = mime_search_text_get(cases[i].input,
		    strlen(cases[i].input));
		t_streq(cases[i].label, "text", text, cases[i].want);
		free(text);
	}
	/* Long text is cut at MIME_SEARCH_TEXT_MAX, on a UTF-8 boundary. */
	big = g_string_new("Content-Type: text/plain; charset=utf-8\r\n\r\n");
	for (i = 0; i < MIME_SEARCH_TEXT_MAX; i++)
		g_string_append(big, "\xc3\xa9");
	text = mime_search_text_get(big->str, big->len);
	assert_non_null(text);
	assert_true(strlen(text) <= MIME_SEARCH_TEXT_MAX);
	assert_true(strlen(text) >= MIME_SEARCH_TEXT_MAX - 1);
	assert_int_equal(strlen(text) % 2, 0);
	free(text);
	g_string_free(big, TRUE);
}

/* The head of a message cut at any point still gives what it has. */
static void
test_headers_truncated(void **state)
{
	static const char msg[] =
	    "Subject: cut\r\nFrom: a@x.test\r\n\r\nbody line\r\n";
	struct mime_headers	 h;
	size_t			 len, full = strlen("Subject: cut\r\n");

	(void)state;
	for (len = 0; len <= sizeof msg - 1; len++) {
		mime_headers_parse(msg, len, &h);
		if (len >= full)
			t_streq("truncated", "subject", h.subject, "cut");
		if (h.subject != NULL &&
		    !g_utf8_validate(h.subject, -1, NULL))
			fail_msg("cut at %zu: subject not UTF-8", len);
		mime_headers_clear(&h);
	}
}

struct get_case {
	const char	*label;
	const char	*name;
	const char	*want;
};

static void
test_header_get(void **state)
{
	static const char msg[] =
	    "Received: from a\r\n"
	    "Subject: =?UTF-8?Q?Please_fail_=E2=9C=93?=\r\n"
	    "X-Test: first\r\n"
	    "Content-Type: text/plain;\r\n charset=utf-8\r\n"
	    "X-Test: second\r\n"
	    "X-Folded: one\r\n two\r\n"
	    "\r\n"
	    "X-Test: in the body\r\n";
	static const struct get_case cases[] = {
		{ "decoded", "Subject", "Please fail ✓" },
		{ "name case", "subject", "Please fail ✓" },
		{ "first of two", "X-Test", "first" },
		{ "Content-Type lives on the part", "content-type",
		    "text/plain; charset=utf-8" },
		{ "unfolded", "X-Folded", "one two" },
		{ "absent", "Cc", NULL },
		{ "not from the body", "X-Body", NULL },
	};
	size_t	 i;
	char	*v;

	(void)state;
	for (i = 0; i < MS_NITEMS(cases); i++) {
		v = mime_header_get(msg, sizeof msg - 1, cases[i].name);
		t_streq(cases[i].label, cases[i].name, v, cases[i].want);
		free(v);
	}
	assert_null(mime_header_get("garbage", 7, "Subject"));
	assert_null(mime_header_get("", 0, "Subject"));
}

/* multipart/mixed: alternative (text + html), a PNG, a message. */
static const char multipart_msg[] =
    "From: Alice <a@x.test>\r\n"
    "To: b@y.test\r\n"
    "Subject: =?UTF-8?B?UmVwb3J0IOKAkyBRMw==?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "X-Last: after content-type\r\n"
    "\r\n"
    "This is the preamble.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DFe aus K=F6ln\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+R3LDvMOfZTwvcD4=\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: image/png\r\n"
    "Content-Disposition: attachment; filename=\"dot.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q\r\n"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg==\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; name=\"=?UTF-8?B?bm90ZXMgw6kudHh0?=\"\r\n"
    "Content-Disposition: attachment\r\n"
    "\r\n"
    "12345\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--outer--\r\n";

static void
test_message_multipart(void **state)
{
	static const char *const want_headers[][2] = {
		{ "From", "Alice <a@x.test>" },
		{ "To", "b@y.test" },
		{ "Subject", "Report – Q3" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "multipart/mixed; boundary=\"outer\"" },
		{ "X-Last", "after content-type" },
	};
	static const struct {
		const char	*part_id, *filename, *content_type;
		size_t		 size;
	} want_att[] = {
		{ "2", "dot.png", "image/png", 70 },
		{ "3", "notes é.txt", "text/plain", 5 },
		{ "4", NULL, "message/rfc822", 28 },
	};
	struct mime_message	 m;
	size_t			 i;

	(void)state;
	assert_int_equal(mime_message_parse(multipart_msg,
	    sizeof multipart_msg - 1, &m), 0);
	if (m.nheaders != MS_NITEMS(want_headers))
		fail_msg("got %zu headers, want %zu", m.nheaders,
		    MS_NITEMS(want_headers));
	for (i = 0; i < m.nheaders; i++) {
		t_streq("header", "name", m.headers[i].name,
		    want_headers[i][0]);
		t_streq("header", m.headers[i].name, m.headers[i].value,
		    want_headers[i][1]);
	}
	/* The CRLF before a boundary belongs to the boundary. */
	t_streq("multipart", "text", m.text, "Grüße aus Köln");
	t_streq("multipart", "html", m.html, "<p>Grüße</p>");
	if (m.nattachments != MS_NITEMS(want_att))
		fail_msg("got %zu attachments, want %zu", m.nattachments,
		    MS_NITEMS(want_att));
	for (i = 0; i < m.nattachments; i++) {
		t_streq("attachment", "part_id", m.attachments[i].part_id,
		    want_att[i].part_id);
		t_streq("attachment", "filename", m.attachments[i].filename,
		    want_att[i].filename);
		t_streq("attachment", "content_type",
		    m.attachments[i].content_type, want_att[i].content_type);
		if (m.attachments[i].size != want_att[i].size)
			fail_msg("attachment %s: size %zu, want %zu",
			    want_att[i].part_id, m.attachments[i].size,
			    want_att[i].size);
	}
	mime_message_clear(&m);
	assert_int_equal(m.nheaders, 0);
	assert_null(m.text);
}

struct msg_case {
	const char	*label;
	const char	*input;
	const char	*text;		/* want */
	const char	*html;
	size_t		 nheaders;
	size_t		 nattachments;
	const char	*part_id;	/* of the first attachment */
};

static const struct msg_case msg_cases[] = {
	{ "single part, no MIME headers",
	    "Subject: s\r\n\r\nhello\r\n",
	    "hello\r\n", NULL, 1, 0, NULL },
	{ "bare LF",
	    "Subject: s\nFrom: a@x.test\n\nline 1\nline 2\n",
	    "line 1\nline 2\n", NULL, 2, 0, NULL },
	{ "html only",
	    "Content-Type: text/html\r\n\r\n<b>x</b>",
	    NULL, "<b>x</b>", 1, 0, NULL },
	{ "single attachment as the body",
	    "Content-Type: application/pdf\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n",
	    NULL, NULL, 2, 1, "1" },
	{ "unknown charset falls back to the bytes",
	    "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
	    "abc\xff\r\n",
	    "abc\xef\xbf\xbd\r\n", NULL, 1, 0, NULL },
	{ "unterminated multipart",
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
	    "--b\r\nContent-Type: application/zip\r\n\r\nPK",
	    "first", NULL, 1, 1, "2" },
	{ "multipart without boundary parameter",
	    "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody\r\n--x--\r\n",
	    NULL, NULL, 1, 0, NULL },
	{ "nested part numbers",
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	    "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nt\r\n"
	    "--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n"
	    "--b--\r\n--a--\r\n",
	    "t", NULL, 1, 1, "1.2" },
	{ "second text part is an attachment",
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	    "--a\r\nContent-Type: text/plain\r\n\r\none\r\n"
	    "--a\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--a--\r\n",
	    "one", NULL, 1, 1, "2" },
	{ "no header section: all text",
	    "just text\r\n", "just text\r\n", NULL, 0, 0, NULL },
	{ "garbage",
	    "\xff\xfe\x00\x01", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x01",
	    NULL, 0, 0, NULL },
};

static void
test_message_table(void **state)
{
	const struct msg_case	*c;
	struct mime_message	 m;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < MS_NITEMS(msg_cases); i++) {
		c = &msg_cases[i];
		/* The garbage case holds a NUL: its length is fixed. */
		len = strcmp(c->label, "garbage") == 0 ? 4 : strlen(c->input);
		assert_int_equal(mime_message_parse(c->input, len, &m), 0);
		t_streq(c->label, "text", m.text, c->text);
		t_streq(c->label, "html", m.html, c->html);
		if (m.nheaders != c->nheaders)
			fail_msg("%s: %zu headers, want %zu", c->label,
			    m.nheaders, c->nheaders);
		if (m.nattachments != c->nattachments)
			fail_msg("%s: %zu attachments, want %zu", c->label,
			    m.nattachments, c->nattachments);
		if (c->part_id != NULL)
			t_streq(c->label, "part_id", m.attachments[0].part_id,
			    c->part_id);
		mime_message_clear(&m);
	}
}

/* Deep nesting: parts past the depth limit are skipped, not crashed on. */
static void
test_message_deep(void **state)
{
	struct mime_message	 m;
	GString			*s;
	int			 i, depth = 200;

	(void)state;
	s = g_string_new("Subject: deep\r\n");
	for (i = 0; i < depth; i++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; "
		    "boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	g_string_append(s, "Content-Type: text/plain\r\n\r\nbottom\r\n");
	for (i = depth - 1; i >= 0; i--)
		g_string_append_printf(s, "--b%d--\r\n", i);
	assert_int_equal(mime_message_parse(s->str, s->len, &m), 0);
	assert_null(m.text);
	assert_int_equal(m.nheaders, 2);
	mime_message_clear(&m);
	g_string_free(s, TRUE);
}

/*
 * Pseudo-random mixes of MIME-ish tokens and bytes: nothing may crash,
 * and everything that comes out is valid UTF-8.
 */
static void
test_garbage(void **state)
{
	static const char *const tokens[] = {
		"\r\n", "\n", "\r", ": ", "Subject", "From", "To",
		"Content-Type: multipart/mixed; boundary=z\r\n",
		"Content-Type: text/plain; charset=utf-16\r\n",
		"Content-Type: message/rfc822\r\n",
		"Content-Transfer-Encoding: base64\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n",
		"--z\r\n", "--z--\r\n", "=?UTF-8?B?", "?=", "=?x?Q?=FF",
		"\xff", "\x00", "\xc3", "<a@b>", ",", "\"", "=", " ", "\t",
	};
	struct mime_headers	 h;
	struct mime_message	 m;
	char			 buf[600], *v;
	uint32_t		 seed = 12345;
	size_t			 len, i, k, n;
	int			 round;

	(void)state;
	for (round = 0; round < 2000; round++) {
		len = 0;
		n = 1 + round % 60;
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			i = (seed >> 16) % MS_NITEMS(tokens);
			if (tokens[i][0] == '\0') {
				buf[len++] = '\0';
				continue;
			}
			if (len + strlen(tokens[i]) >= sizeof buf)
				break;
			memcpy(buf + len, tokens[i], strlen(tokens[i]));
			len += strlen(tokens[i]);
		}
		mime_headers_parse(buf, len, &h);
		t_streq("garbage", "subject", h.subject, h.subject);
		t_streq("garbage", "from", h.from, h.from);
		t_streq("garbage", "to", h.to, h.to);
		mime_headers_clear(&h);
		v = mime_header_get(buf, len, "Content-Type");
		t_streq("garbage", "content-type", v, v);
		free(v);
		assert_int_equal(mime_message_parse(buf, len, &m), 0);
		t_streq("garbage", "text", m.text, m.text);
		t_streq("garbage", "html", m.html, m.html);
		for (i = 0; i < m.nheaders; i++)
			t_streq("garbage", "header", m.headers[i].value,
			    m.headers[i].value);
		for (i = 0; i < m.nattachments; i++)
			t_streq("garbage", "filename",
			    m.attachments[i].filename,
			    m.attachments[i].filename);
		mime_message_clear(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_table),
		cmocka_unit_test(test_headers_truncated),
		cmocka_unit_test(test_search_text),
		cmocka_unit_test(test_header_get),
		cmocka_unit_test(test_message_multipart),
		cmocka_unit_test(test_message_table),
		cmocka_unit_test(test_message_deep),
		cmocka_unit_test(test_garbage),
	};

	mime_init();
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
