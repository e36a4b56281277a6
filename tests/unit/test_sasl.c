/*
 * test_sasl.c - unit tests for sasl.c (SMTP AUTH exchanges, base64).
 *
 * Base64 first: the RFC 4648 10 vectors both ways, round trips of every
 * length and every octet value, and the strict decoder's rejects (bad
 * characters, bad padding, wrong length, output that does not fit).  Then
 * the exchanges as tables: each case is an AUTH command's initial
 * response and the client lines after each 334, with the status and
 * challenge wanted from every call and the user and secret at the end.
 * The fields' length caps are probed at, and one past, SASL_FIELD_MAX.
 * A failing case prints its label, got and want.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sasl.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS	3
#define ANY_501		((enum sasl_status)99) /* BAD_BASE64 or MALFORMED */

static const char *status_names[] = {
	"CONTINUE", "DONE", "CANCELLED", "BAD_BASE64", "MALFORMED"
};

static const char *
status_name(enum sasl_status st)
{
	if ((size_t)st < NITEMS(status_names))
		return (status_names[st]);
	return ("?");
}

/* Make len octets printable for a failure message (static buffer). */
static const char *
show(const unsigned char *p, size_t len, int which)
{
	static char	 out[2][2048];
	char		*o = out[which];
	size_t		 i;

	for (i = 0; i < len && o < out[which] + sizeof(out[0]) - 8; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
			o += sprintf(o, "\\x%02x", p[i]);
		else
			*o++ = (char)p[i];
	}
	*o = '\0';
	return (out[which]);
}

/* ------------------------------------------------------------- base64 */

struct b64_case {
	const char	*label;
	const char	*in;		/* base64 text */
	size_t		 inlen;		/* 0: strlen(in) */
	size_t		 outsz;		/* 0: a large buffer */
	int		 ok;		/* want 0 (1) or -1 (0) */
	const char	*want;		/* decoded octets when ok */
	size_t		 wantlen;
};

static const struct b64_case b64_cases[] = {
	/* RFC 4648 10 test vectors. */
	{ "empty", "", 0, 0, 1, "", 0 },
	{ "f", "Zg==", 0, 0, 1, "f", 1 },
	{ "fo", "Zm8=", 0, 0, 1, "fo", 2 },
	{ "foo", "Zm9v", 0, 0, 1, "foo", 3 },
	{ "foob", "Zm9vYg==", 0, 0, 1, "foob", 4 },
	{ "fooba", "Zm9vYmE=", 0, 0, 1, "fooba", 5 },
	{ "foobar", "Zm9vYmFy", 0, 0, 1, "foobar", 6 },
	/* The alphabet's ends and embedded NULs in the output. */
	{ "+ and /", "+/+/", 0, 0, 1, "\xfb\xff\xbf", 3 },
	{ "all zero bits", "AAAA", 0, 0, 1, "\0\0\0", 3 },
	{ "PLAIN message", "AGJvYgBzM2NyM3Q=", 0, 0, 1, "\0bob\0s3cr3t",
	  11 },
	{ "LOGIN prompt", "VXNlcm5hbWU6", 0, 0, 1, "Username:", 9 },

	/* Bad characters. */
	{ "asterisk", "Zm9*", 0, 0, 0, NULL, 0 },
	{ "space inside", "Zm 9", 0, 0, 0, NULL, 0 },
	{ "base64url minus", "Zm-v", 0, 0, 0, NULL, 0 },
	{ "base64url underscore", "Zm_v", 0, 0, 0, NULL, 0 },
	{ "CR LF inside", "Zm\r\n", 0, 0, 0, NULL, 0 },
	{ "high octet", "Zm9\x80", 0, 0, 0, NULL, 0 },
	{ "NUL inside", "Zm\0v", 4, 0, 0, NULL, 0 },
	{ "bad char in second quantum", "Zm9vYm!y", 0, 0, 0, NULL, 0 },

	/* Bad padding. */
	{ "padding at position 1", "Z===", 0, 0, 0, NULL, 0 },
	{ "padding only", "====", 0, 0, 0, NULL, 0 },
	{ "padding first", "=Zm9", 0, 0, 0, NULL, 0 },
	{ "data after padding", "Zg=a", 0, 0, 0, NULL, 0 },
	{ "padding mid-stream", "Zg==Zm9v", 0, 0, 0, NULL, 0 },
	{ "single pad mid-stream", "Zm8=Zm9v", 0, 0, 0, NULL, 0 },

	/* Wrong length (not a multiple of 4: padding is required). */
	{ "one char", "Z", 0, 0, 0, NULL, 0 },
	{ "unpadded f", "Zg", 0, 0, 0, NULL, 0 },
	{ "short padding", "Zg=", 0, 0, 0, NULL, 0 },
	{ "unpadded foob", "Zm9vYg", 0, 0, 0, NULL, 0 },
	{ "five chars", "Zm9vY", 0, 0, 0, NULL, 0 },
	{ "lone '='", "=", 0, 0, 0, NULL, 0 },

	/* Output that does not fit. */
	{ "foobar into 6", "Zm9vYmFy", 0, 6, 1, "foobar", 6 },
	{ "foobar into 5", "Zm9vYmFy", 0, 5, 0, NULL, 0 },
	{ "fooba into 5", "Zm9vYmE=", 0, 5, 1, "fooba", 5 },
	{ "fooba into 4", "Zm9vYmE=", 0, 4, 0, NULL, 0 },
	{ "f into 1", "Zg==", 0, 1, 1, "f", 1 },
	{ "foo into 2", "Zm9v", 0, 2, 0, NULL, 0 },
};

static void
test_b64_decode_table(void **state)
{
	const struct b64_case	*c;
	unsigned char		 out[512];
	size_t			 i, inlen, outsz, got;
	int			 rc;

	(void)state;
	for (i = 0; i < NITEMS(b64_cases); i++) {
		c = &b64_cases[i];
		inlen = c->inlen != 0 ? c->inlen : strlen(c->in);
		outsz = c->outsz != 0 ? c->outsz : sizeof(out);
		got = 9999;
		memset(out, 0xaa, sizeof(out));
		rc = sasl_base64_decode(c->in, inlen, out, outsz, &got);
		if (!c->ok) {
			if (rc != -1)
				fail_msg("%s: got rc %d len %zu \"%s\", "
				    "want -1",
				    c->label, rc, got, show(out, got, 0));
			continue;
		}
		if (rc != 0)
			fail_msg("%s: got rc %d, want 0", c->label, rc);
		if (got != c->wantlen || memcmp(out, c->want, got) != 0)
			fail_msg("%s:\n  got  %zu \"%s\"\n  want %zu \"%s\"",
			    c->label, got, show(out, got, 0), c->wantlen,
			    show((const unsigned char *)c->want, c->wantlen,
			    1));
		/* Nothing past the output may be touched. */
		if (got < sizeof(out) && out[got] != 0xaa)
			fail_msg("%s: wrote past the decoded length",
			    c->label);
	}
}

struct enc_case {
	const char	*label;
	const char	*in;
	size_t		 len;
	const char	*want;
};

static const struct enc_case enc_cases[] = {
	{ "empty", "", 0, "" },
	{ "f", "f", 1, "Zg==" },
	{ "fo", "fo", 2, "Zm8=" },
	{ "foo", "foo", 3, "Zm9v" },
	{ "foob", "foob", 4, "Zm9vYg==" },
	{ "fooba", "fooba", 5, "Zm9vYmE=" },
	{ "foobar", "foobar", 6, "Zm9vYmFy" },
	{ "high octets", "\xfb\xff\xbf", 3, "+/+/" },
	{ "NULs", "\0\0\0\0", 4, "AAAAAA==" },
	{ "Password:", "Password:", 9, "UGFzc3dvcmQ6" },
};

static void
test_b64_encode_table(void **state)
{
	const struct enc_case	*c;
	char			 out[64];
	size_t			 i, need;

	(void)state;
	for (i = 0; i < NITEMS(enc_cases); i++) {
		c = &enc_cases[i];
		if (sasl_base64_encode((const unsigned char *)c->in, c->len,
		    out, sizeof(out)) != 0)
			fail_msg("%s: encode failed", c->label);
		if (strcmp(out, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->label, out,
			    c->want);

		/* Exactly enough room (with the NUL) works; one less not. */
		need = strlen(c->want) + 1;
		memset(out, 'x', sizeof(out));
		if (sasl_base64_encode((const unsigned char *)c->in, c->len,
		    out, need) != 0 || strcmp(out, c->want) != 0)
			fail_msg("%s: encode into exactly %zu failed",
			    c->label, need);
		if (need > 1 && sasl_base64_encode(
		    (const unsigned char *)c->in, c->len, out, need - 1) != -1)
			fail_msg("%s: encode into %zu octets did not fail",
			    c->label, need - 1);
	}
	if (sasl_base64_encode((const unsigned char *)"", 0, out, 0) != -1)
		fail_msg("empty into 0 octets: want -1 (no room for NUL)");
}

/* Every length 0..300 and every octet value survive encode then decode. */
static void
test_b64_round_trip(void **state)
{
	unsigned char	 in[300], back[300];
	char		 text[420];
	size_t		 len, i, got;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)((i * 37 + 11) & 0xff);
	for (len = 0; len <= sizeof(in); len++) {
		if (sasl_base64_encode(in, len, text, sizeof(text)) != 0)
			fail_msg("len %zu: encode failed", len);
		if (strlen(text) != (len + 2) / 3 * 4)
			fail_msg("len %zu: encoded length %zu, want %zu", len,
			    strlen(text), (len + 2) / 3 * 4);
		if (sasl_base64_decode(text, strlen(text), back, sizeof(back),
		    &got) != 0)
			fail_msg("len %zu: decode of \"%s\" failed", len, text);
		if (got != len || memcmp(back, in, len) != 0)
			fail_msg("len %zu: round trip gave %zu octets", len,
			    got);
		/* Decoding into exactly len octets works, one less not. */
		if (len > 0 && sasl_base64_decode(text, strlen(text), back,
		    len - 1, &got) != -1)
			fail_msg("len %zu: decode into %zu did not fail", len,
			    len - 1);
	}
	for (i = 0; i < 256; i++) {
		in[0] = (unsigned char)i;
		if (sasl_base64_encode(in, 1, text, sizeof(text)) != 0 ||
		    sasl_base64_decode(text, 4, back, 1, &got) != 0 ||
		    got != 1 || back[0] != in[0])
			fail_msg("octet 0x%02zx: round trip failed", i);
	}
}

/* ----------------------------------------------------------- mech names */

static void
test_mech_names(void **state)
{
	static const struct {
		const char	*name;
		int		 ok;
		enum sasl_mech	 want;
		const char	*canon;
	} cases[] = {
		{ "PLAIN", 1, SASL_MECH_PLAIN, "PLAIN" },
		{ "plain", 1, SASL_MECH_PLAIN, "PLAIN" },
		{ "Login", 1, SASL_MECH_LOGIN, "LOGIN" },
		{ "CRAM-MD5", 1, SASL_MECH_CRAM_MD5, "CRAM-MD5" },
		{ "cram-md5", 1, SASL_MECH_CRAM_MD5, "CRAM-MD5" },
		{ "", 0, 0, NULL },
		{ "PLAINX", 0, 0, NULL },
		{ "PLAI", 0, 0, NULL },
		{ "DIGEST-MD5", 0, 0, NULL },
		{ "XOAUTH2", 0, 0, NULL },
		{ "CRAM-MD5 ", 0, 0, NULL },
	};
	enum sasl_mech	m;
	size_t		i;
	int		rc;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		m = (enum sasl_mech)99;
		rc = sasl_mech_parse(cases[i].name, &m);
		if (!cases[i].ok) {
			if (rc != -1)
				fail_msg("\"%s\": got %d, want -1",
				    cases[i].name, rc);
			continue;
		}
		if (rc != 0 || m != cases[i].want)
			fail_msg("\"%s\": got rc %d mech %d, want mech %d",
			    cases[i].name, rc, (int)m, (int)cases[i].want);
		if (strcmp(sasl_mech_name(m), cases[i].canon) != 0)
			fail_msg("\"%s\": name \"%s\", want \"%s\"",
			    cases[i].name, sasl_mech_name(m), cases[i].canon);
	}
}

/* ------------------------------------------------------------ exchanges */

struct want_step {
	enum sasl_status st;
	const char	*chal;		/* want this challenge on CONTINUE */
};

struct exch_case {
	const char	*label;
	enum sasl_mech	 mech;
	const char	*challenge;	/* CRAM-MD5 challenge text or NULL */
	const char	*initial;	/* initial response or NULL */
	const char	*lines[MAX_STEPS]; /* client lines after each 334 */
	struct want_step want[MAX_STEPS + 1]; /* sasl_start, then steps */
	const char	*user;		/* on DONE */
	const char	*secret;	/* on DONE */
};

#define RFC2195_CHAL	"<1896.697170952@postoffice.reston.mci.net>"
#define RFC2195_CHAL64	\
	"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
#define RFC2195_RESP	"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
#define RFC2195_DIGEST	"b913a602c7eda7a495b4e6e7334d3890"
#define USER64		"VXNlcm5hbWU6"		/* "Username:" */
#define PASS64		"UGFzc3dvcmQ6"		/* "Password:" */

static const struct exch_case exch_cases[] = {
	/* PLAIN (RFC 4616). */
	{ "PLAIN initial response", SASL_MECH_PLAIN, NULL,
	  "AGJvYgBzM2NyM3Q=", { NULL },
	  { { SASL_DONE, NULL } }, "bob", "s3cr3t" },
	{ "PLAIN via empty 334", SASL_MECH_PLAIN, NULL, NULL,
	  { "AGJvYgBzM2NyM3Q=" },
	  { { SASL_CONTINUE, "" }, { SASL_DONE, NULL } }, "bob", "s3cr3t" },
	{ "PLAIN with authzid", SASL_MECH_PLAIN, NULL,
	  "YWRtaW4AYm9iAHB3", { NULL },		/* admin\0bob\0pw */
	  { { SASL_DONE, NULL } }, "bob", "pw" },
	{ "PLAIN authzid same as authcid", SASL_MECH_PLAIN, NULL,
	  "Ym9iAGJvYgBzZWNyZXQ=", { NULL },	/* bob\0bob\0secret */
	  { { SASL_DONE, NULL } }, "bob", "secret" },
	{ "PLAIN '=' empty initial response", SASL_MECH_PLAIN, NULL, "=",
	  { NULL }, { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN '=' after 334", SASL_MECH_PLAIN, NULL, NULL, { "=" },
	  { { SASL_CONTINUE, "" }, { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN no NUL", SASL_MECH_PLAIN, NULL, "Ym9icHc=", { NULL },
	  { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN one NUL", SASL_MECH_PLAIN, NULL, "AGJvYnB3", { NULL },
	  { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN empty user", SASL_MECH_PLAIN, NULL, "AABwdw==", { NULL },
	  { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN third NUL", SASL_MECH_PLAIN, NULL, "AGJvYgBwdwB4", { NULL },
	  { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "PLAIN LF in user", SASL_MECH_PLAIN, NULL, "AGIKYgBwdw==",
	  { NULL }, { { SASL_MALFORMED, NULL } }, NULL, NULL }, /* \0b\nb\0pw */
	{ "PLAIN bad base64", SASL_MECH_PLAIN, NULL, "AGJvYgBzM2NyM3Q",
	  { NULL }, { { SASL_BAD_BASE64, NULL } }, NULL, NULL },
	{ "PLAIN bad base64 after 334", SASL_MECH_PLAIN, NULL, NULL,
	  { "not base64!" },
	  { { SASL_CONTINUE, "" }, { SASL_BAD_BASE64, NULL } }, NULL, NULL },
	{ "PLAIN '*' as initial response", SASL_MECH_PLAIN, NULL, "*",
	  { NULL }, { { SASL_CANCELLED, NULL } }, NULL, NULL },
	{ "PLAIN '*' after 334", SASL_MECH_PLAIN, NULL, NULL, { "*" },
	  { { SASL_CONTINUE, "" }, { SASL_CANCELLED, NULL } }, NULL, NULL },

	/* LOGIN. */
	{ "LOGIN both steps", SASL_MECH_LOGIN, NULL, NULL,
	  { "Ym9i", "czNjcjN0" },
	  { { SASL_CONTINUE, USER64 }, { SASL_CONTINUE, PASS64 },
	    { SASL_DONE, NULL } }, "bob", "s3cr3t" },
	{ "LOGIN initial response is the user", SASL_MECH_LOGIN, NULL,
	  "Ym9i", { "czNjcjN0" },
	  { { SASL_CONTINUE, PASS64 }, { SASL_DONE, NULL } },
	  "bob", "s3cr3t" },
	{ "LOGIN '*' as initial response", SASL_MECH_LOGIN, NULL, "*",
	  { NULL }, { { SASL_CANCELLED, NULL } }, NULL, NULL },
	{ "LOGIN '*' for the user", SASL_MECH_LOGIN, NULL, NULL, { "*" },
	  { { SASL_CONTINUE, USER64 }, { SASL_CANCELLED, NULL } },
	  NULL, NULL },
	{ "LOGIN '*' for the password", SASL_MECH_LOGIN, NULL, NULL,
	  { "Ym9i", "*" },
	  { { SASL_CONTINUE, USER64 }, { SASL_CONTINUE, PASS64 },
	    { SASL_CANCELLED, NULL } }, NULL, NULL },
	{ "LOGIN '*' for the password after initial", SASL_MECH_LOGIN, NULL,
	  "Ym9i", { "*" },
	  { { SASL_CONTINUE, PASS64 }, { SASL_CANCELLED, NULL } },
	  NULL, NULL },
	{ "LOGIN bad base64 user", SASL_MECH_LOGIN, NULL, NULL, { "Ym9" },
	  { { SASL_CONTINUE, USER64 }, { SASL_BAD_BASE64, NULL } },
	  NULL, NULL },
	{ "LOGIN bad base64 password", SASL_MECH_LOGIN, NULL, NULL,
	  { "Ym9i", "czNj cjN0" },
	  { { SASL_CONTINUE, USER64 }, { SASL_CONTINUE, PASS64 },
	    { SASL_BAD_BASE64, NULL } }, NULL, NULL },
	{ "LOGIN bad base64 initial response", SASL_MECH_LOGIN, NULL,
	  "Ym9i=", { NULL }, { { SASL_BAD_BASE64, NULL } }, NULL, NULL },
	{ "LOGIN empty user", SASL_MECH_LOGIN, NULL, NULL, { "=" },
	  { { SASL_CONTINUE, USER64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "LOGIN NUL in user", SASL_MECH_LOGIN, NULL, NULL, { "Ym9iAA==" },
	  { { SASL_CONTINUE, USER64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "LOGIN NUL in password", SASL_MECH_LOGIN, NULL, NULL,
	  { "Ym9i", "AHB3" },
	  { { SASL_CONTINUE, USER64 }, { SASL_CONTINUE, PASS64 },
	    { SASL_MALFORMED, NULL } }, NULL, NULL },

	/* CRAM-MD5 (RFC 2195 2, its own example). */
	{ "CRAM-MD5 RFC 2195 example", SASL_MECH_CRAM_MD5, RFC2195_CHAL,
	  NULL, { RFC2195_RESP },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_DONE, NULL } },
	  "tim", RFC2195_DIGEST },
	{ "CRAM-MD5 upper-case digest", SASL_MECH_CRAM_MD5, RFC2195_CHAL,
	  NULL, { "dGltIEI5MTNBNjAyQzdFREE3QTQ5NUI0RTZFNzMzNEQzODkw" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_DONE, NULL } },
	  "tim", "B913A602C7EDA7A495B4E6E7334D3890" },
	{ "CRAM-MD5 user with a space", SASL_MECH_CRAM_MD5, RFC2195_CHAL,
	  NULL, { "dGltIGJvYiBiOTEzYTYwMmM3ZWRhN2E0OTViNGU2ZTczMzRkMzg5MA==" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_DONE, NULL } },
	  "tim bob", RFC2195_DIGEST },
	{ "CRAM-MD5 initial response refused", SASL_MECH_CRAM_MD5,
	  RFC2195_CHAL, RFC2195_RESP, { NULL },
	  { { SASL_MALFORMED, NULL } }, NULL, NULL },
	{ "CRAM-MD5 no space", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltYjkxM2E2MDJjN2VkYTdhNDk1YjRlNmU3MzM0ZDM4OTA=" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 empty user", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "IGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 short digest", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODk=" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 long digest", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkwMA==" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 non-hex digest", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltIHo5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 empty digest", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltIA==" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_MALFORMED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 '*'", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL, { "*" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_CANCELLED, NULL } },
	  NULL, NULL },
	{ "CRAM-MD5 bad base64", SASL_MECH_CRAM_MD5, RFC2195_CHAL, NULL,
	  { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw=" },
	  { { SASL_CONTINUE, RFC2195_CHAL64 }, { SASL_BAD_BASE64, NULL } },
	  NULL, NULL },
};

/* Check one call's status and challenge against want. */
static void
expect_step(const char *label, int call, enum sasl_status got,
    const char *chal, const struct want_step *want)
{
	if (got != want->st)
		fail_msg("%s: call %d: got %s, want %s", label, call,
		    status_name(got), status_name(want->st));
	if (got == SASL_CONTINUE && want->chal != NULL &&
	    strcmp(chal, want->chal) != 0)
		fail_msg("%s: call %d: challenge got \"%s\", want \"%s\"",
		    label, call, chal, want->chal);
	if (got != SASL_CONTINUE && chal[0] != '\0')
		fail_msg("%s: call %d: %s with a challenge \"%s\"", label,
		    call, status_name(got), chal);
}

static void
test_exchange_table(void **state)
{
	const struct exch_case	*c;
	struct sasl		*s;
	enum sasl_status	 st;
	char			 chal[SASL_CHALLENGE_MAX * 2];
	size_t			 i;
	int			 k;

	(void)state;
	for (i = 0; i < NITEMS(exch_cases); i++) {
		c = &exch_cases[i];
		s = sasl_new(c->mech, c->challenge);
		memset(chal, 'x', sizeof(chal));
		st = sasl_start(s, c->initial, chal, sizeof(chal));
		expect_step(c->label, 0, st, chal, &c->want[0]);
		for (k = 0; st == SASL_CONTINUE; k++) {
			if (k == MAX_STEPS || c->lines[k] == NULL)
				fail_msg("%s: still CONTINUE after %d lines",
				    c->label, k);
			memset(chal, 'x', sizeof(chal));
			st = sasl_step(s, c->lines[k], chal, sizeof(chal));
			expect_step(c->label, k + 1, st, chal,
			    &c->want[k + 1]);
		}
		if (k < MAX_STEPS && c->lines[k] != NULL)
			fail_msg("%s: ended with %s before line %d",
			    c->label, status_name(st), k);
		if (st == SASL_DONE) {
			if (strcmp(sasl_user(s), c->user) != 0)
				fail_msg("%s: user got \"%s\", want \"%s\"",
				    c->label, sasl_user(s), c->user);
			if (strcmp(sasl_secret(s), c->secret) != 0)
				fail_msg("%s: secret got \"%s\", want \"%s\"",
				    c->label, sasl_secret(s), c->secret);
		}
		if (c->mech == SASL_MECH_CRAM_MD5 &&
		    strcmp(sasl_challenge(s), c->challenge) != 0)
			fail_msg("%s: challenge text got \"%s\", want \"%s\"",
			    c->label, sasl_challenge(s), c->challenge);
		sasl_free(s);
	}
	sasl_free(NULL);
}

/* Base64 of text into a fresh string. */
static char *
b64(const unsigned char *p, size_t len)
{
	char	*out;
	size_t	 sz = (len + 2) / 3 * 4 + 1;

	out = xmalloc(sz);
	if (sasl_base64_encode(p, len, out, sz) != 0)
		fail_msg("b64: encode of %zu octets failed", len);
	return (out);
}

/* Run a PLAIN exchange on user/password of the given lengths. */
static enum sasl_status
plain_of(size_t ulen, size_t plen, struct sasl **sp)
{
	unsigned char	 msg[SASL_FIELD_MAX * 3];
	char		*line, chal[16];
	enum sasl_status st;

	msg[0] = '\0';
	memset(msg + 1, 'u', ulen);
	msg[1 + ulen] = '\0';
	memset(msg + 2 + ulen, 'p', plen);
	line = b64(msg, 2 + ulen + plen);
	*sp = sasl_new(SASL_MECH_PLAIN, NULL);
	st = sasl_start(*sp, line, chal, sizeof(chal));
	free(line);
	return (st);
}

/* The user and secret caps: SASL_FIELD_MAX octets fit, one more not. */
static void
test_field_limits(void **state)
{
	static const struct {
		const char	*label;
		size_t		 ulen, plen;
		enum sasl_status want;
	} cases[] = {
		{ "user and password at the cap", SASL_FIELD_MAX,
		  SASL_FIELD_MAX, SASL_DONE },
		{ "user one past the cap", SASL_FIELD_MAX + 1, 8,
		  SASL_MALFORMED },
		{ "password one past the cap", 8, SASL_FIELD_MAX + 1,
		  SASL_MALFORMED },
		/* Past the decode buffer: either refusal means 501 5.5.2. */
		{ "both far past the cap", SASL_FIELD_MAX + 100,
		  SASL_FIELD_MAX + 100, ANY_501 },
	};
	struct sasl	*s;
	enum sasl_status st;
	char		*line, chal[64];
	unsigned char	 big[SASL_FIELD_MAX + 1];
	size_t		 i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		st = plain_of(cases[i].ulen, cases[i].plen, &s);
		if (cases[i].want == ANY_501 && (st == SASL_BAD_BASE64 ||
		    st == SASL_MALFORMED)) {
			sasl_free(s);
			continue;
		}
		if (st != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].label,
			    status_name(st), status_name(cases[i].want));
		if (st == SASL_DONE && (strlen(sasl_user(s)) !=
		    cases[i].ulen || strlen(sasl_secret(s)) != cases[i].plen))
			fail_msg("%s: user %zu, secret %zu octets",
			    cases[i].label, strlen(sasl_user(s)),
			    strlen(sasl_secret(s)));
		sasl_free(s);
	}

	/* LOGIN: the user name at the cap and one past it. */
	memset(big, 'u', sizeof(big));
	line = b64(big, SASL_FIELD_MAX);
	s = sasl_new(SASL_MECH_LOGIN, NULL);
	st = sasl_start(s, line, chal, sizeof(chal));
	free(line);
	if (st != SASL_CONTINUE || strcmp(chal, PASS64) != 0)
		fail_msg("LOGIN user at the cap: got %s \"%s\"",
		    status_name(st), chal);
	sasl_free(s);
	line = b64(big, SASL_FIELD_MAX + 1);
	s = sasl_new(SASL_MECH_LOGIN, NULL);
	st = sasl_start(s, line, chal, sizeof(chal));
	free(line);
	if (st != SASL_MALFORMED)
		fail_msg("LOGIN user past the cap: got %s, want MALFORMED",
		    status_name(st));
	sasl_free(s);
}

/* The CRAM-MD5 challenge sent is exactly the base64 of the text given. */
static void
test_cram_challenge(void **state)
{
	static const char *texts[] = {
		"<1.2@h>",
		"<12345678901234567890.1700000000@mx.example.test>",
		RFC2195_CHAL,
	};
	struct sasl	*s;
	enum sasl_status st;
	char		 chal[SASL_CHALLENGE_MAX * 2], *want;
	unsigned char	 back[SASL_CHALLENGE_MAX];
	size_t		 i, got;

	(void)state;
	for (i = 0; i < NITEMS(texts); i++) {
		s = sasl_new(SASL_MECH_CRAM_MD5, texts[i]);
		st = sasl_start(s, NULL, chal, sizeof(chal));
		want = b64((const unsigned char *)texts[i], strlen(texts[i]));
		if (st != SASL_CONTINUE || strcmp(chal, want) != 0)
			fail_msg("\"%s\": got %s \"%s\", want CONTINUE \"%s\"",
			    texts[i], status_name(st), chal, want);
		if (sasl_base64_decode(chal, strlen(chal), back, sizeof(back),
		    &got) != 0 || got != strlen(texts[i]) ||
		    memcmp(back, texts[i], got) != 0)
			fail_msg("\"%s\": challenge does not decode back",
			    texts[i]);
		free(want);
		sasl_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_decode_table),
		cmocka_unit_test(test_b64_encode_table),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_mech_names),
		cmocka_unit_test(test_exchange_table),
		cmocka_unit_test(test_field_limits),
		cmocka_unit_test(test_cram_challenge),
	};

	return (cmocka_run_group_tests_name("sasl", tests, NULL, NULL));
}
