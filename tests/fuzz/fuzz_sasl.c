/*
 * fuzz_sasl.c - libFuzzer target for SASL decoding and the PLAIN, LOGIN
 * and CRAM-MD5 exchanges (sasl).
 *
 * Input: byte 0 picks the mechanism (bits 0-1) and whether the AUTH
 * command carried an initial response (bit 2); the rest is split at LF
 * into the lines a client sends: the initial response first if there is
 * one, then one line per 334 challenge, as the session steps it.  Every
 * line also goes through sasl_mech_parse() and the base64 decoder on its
 * own.  Properties: the decoder never writes past its output, what it
 * decodes encodes and decodes back to the same bytes, and a finished
 * exchange hands out a user and secret within SASL_FIELD_MAX with no NUL,
 * CR or LF in them (they reach the credential hook and the logs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "log.h"
#include "sasl.h"

#define FUZZ_SASL_STEPS_MAX	8	/* the longest exchange is 2 steps */

/* A decoded field must be short and single-line. */
static void
fuzz_sasl_field(const char *what, const char *s)
{
	size_t	len;

	len = strlen(s);
	FUZZ_ASSERT(len <= SASL_FIELD_MAX, "%s of %zu bytes", what, len);
	FUZZ_ASSERT(strpbrk(s, "\r\n") == NULL, "%s holds CR or LF", what);
}

/* A challenge must be NUL-terminated base64 within its buffer. */
static void
fuzz_sasl_chal(const char *chal, size_t size)
{
	FUZZ_ASSERT(memchr(chal, '\0', size) != NULL, "challenge not"
	    " terminated");
	FUZZ_ASSERT(strspn(chal, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/=") == strlen(chal), "challenge '%s' is"
	    " not base64", chal);
}

/* Decode one line on its own; what decodes must round-trip. */
static void
fuzz_sasl_base64(const char *line, size_t len)
{
	unsigned char	*out, *back;
	char		*enc;
	size_t		 outsz, n = 0, m = 0, encsz;

	/* A canary past the end catches a write beyond outsz. */
	outsz = len / 4 * 3;
	if ((out = malloc(outsz + 1)) == NULL)
		abort();
	out[outsz] = 0xa5;
	if (sasl_base64_decode(line, len, out, outsz, &n) == 0) {
		FUZZ_ASSERT(n <= outsz, "decoded %zu into %zu", n, outsz);
		encsz = (n + 2) / 3 * 4 + 1;
		if ((enc = malloc(encsz)) == NULL ||
		    (back = malloc(n + 1)) == NULL)
			abort();
		FUZZ_ASSERT(sasl_base64_encode(out, n, enc, encsz) == 0,
		    "encode of %zu bytes failed", n);
		FUZZ_ASSERT(strlen(enc) == encsz - 1, "encoded length %zu",
		    strlen(enc));
		FUZZ_ASSERT(sasl_base64_decode(enc, strlen(enc), back, n,
		    &m) == 0 && m == n && memcmp(out, back, n) == 0,
		    "%zu bytes do not survive encode and decode", n);
		free(enc);
		free(back);
	}
	FUZZ_ASSERT(out[outsz] == 0xa5, "decoder wrote past its output");
	free(out);

	/* Too small an output must be refused, not overrun. */
	if (len >= 4) {
		outsz = len / 4 * 3 - 3;
		if ((out = malloc(outsz + 1)) == NULL)
			abort();
		out[outsz] = 0xa5;
		(void)sasl_base64_decode(line, len, out, outsz, &n);
		FUZZ_ASSERT(out[outsz] == 0xa5, "decoder wrote past a short"
		    " output");
		free(out);
	}
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
	static const enum sasl_mech mechs[] = { SASL_MECH_PLAIN,
	    SASL_MECH_LOGIN, SASL_MECH_CRAM_MD5, SASL_MECH_PLAIN };
	struct sasl		*s;
	enum sasl_mech		 mech, parsed;
	enum sasl_status	 st;
	char			*text, *line, *next, chal[512];
	int			 initial, steps;

	if (size < 1)
		return (0);
	mech = mechs[data[0] & 3];
	initial = (data[0] & 4) != 0;
	text = fuzz_strdup(data + 1, size - 1);

	/* Every line on its own: a mechanism name and a base64 string. */
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next = '\0';
		if (sasl_mech_parse(line, &parsed) == 0)
			FUZZ_ASSERT(strcasecmp(sasl_mech_name(parsed),
			    line) == 0, "'%s' parsed as %s", line,
			    sasl_mech_name(parsed));
		fuzz_sasl_base64(line, strlen(line));
		if (next != NULL)
			*next++ = '\n';
	}

	/* The exchange, one line per step. */
	s = sasl_new(mech, "<1896.697170952@mx.test>");
	line = text;
	if ((next = strchr(line, '\n')) != NULL)
		*next++ = '\0';
	st = sasl_start(s, initial ? line : NULL, chal, sizeof(chal));
	if (initial)
		line = next;
	for (steps = 0; st == SASL_CONTINUE && line != NULL &&
	    steps < FUZZ_SASL_STEPS_MAX; steps++) {
		fuzz_sasl_chal(chal, sizeof(chal));
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		st = sasl_step(s, line, chal, sizeof(chal));
		line = next;
	}
	FUZZ_ASSERT(steps < FUZZ_SASL_STEPS_MAX, "exchange never ends");
	FUZZ_ASSERT(st == SASL_CONTINUE || st == SASL_DONE ||
	    st == SASL_CANCELLED || st == SASL_BAD_BASE64 ||
	    st == SASL_MALFORMED, "status %d", (int)st);
	if (st == SASL_DONE) {
		fuzz_sasl_field("user", sasl_user(s));
		fuzz_sasl_field("secret", sasl_secret(s));
		FUZZ_ASSERT(sasl_user(s)[0] != '\0', "empty user");
	}
	FUZZ_ASSERT(strcmp(sasl_challenge(s), "<1896.697170952@mx.test>") == 0,
	    "challenge changed");
	sasl_free(s);
	free(text);
	return (0);
}
