/*
 * sasl.c - SASL PLAIN, LOGIN and CRAM-MD5 exchanges as step functions.
 *
 * Each exchange is started with the mechanism's optional initial response
 * (RFC 4954 4: "=" stands for an empty one) and then stepped with each
 * line the client sends after a 334 challenge.  The result is a user name
 * and a secret, which this module never judges: that is the credential
 * hook's job.  A "*" line cancels at any step (RFC 4954 4).
 *
 * Base64 here is strict RFC 4648 with padding: a client that sends
 * anything else gets 501 5.5.2, as RFC 4954 asks, rather than a guess.
 * Decoded fields are capped at SASL_FIELD_MAX octets and must not hold
 * NUL (PLAIN's separators aside) or line breaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "sasl.h"
#include "xmalloc.h"

struct sasl {
	enum sasl_mech	 mech;
	int		 step;			/* steps taken so far */
	char		 user[SASL_FIELD_MAX + 1];
	char		 secret[SASL_FIELD_MAX + 1];
	char		 challenge[SASL_CHALLENGE_MAX + 1]; /* CRAM-MD5 */
};

static const char sasl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Parse a mechanism name (case-insensitive); -1 if unknown. */
int
sasl_mech_parse(const char *name, enum sasl_mech *out)
{
	if (strcasecmp(name, "PLAIN") == 0)
		*out = SASL_MECH_PLAIN;
	else if (strcasecmp(name, "LOGIN") == 0)
		*out = SASL_MECH_LOGIN;
	else if (strcasecmp(name, "CRAM-MD5") == 0)
		*out = SASL_MECH_CRAM_MD5;
	else
		return (-1);
	return (0);
}

const char *
sasl_mech_name(enum sasl_mech mech)
{
	switch (mech) {
	case SASL_MECH_PLAIN:
		return ("PLAIN");
	case SASL_MECH_LOGIN:
		return ("LOGIN");
	case SASL_MECH_CRAM_MD5:
		return ("CRAM-MD5");
	}
	return ("?");
}

/*
 * Start an exchange.  challenge is the CRAM-MD5 challenge text, e.g.
 * "<1896.697170952@host>" (ignored for the others); the shell makes it
 * unique.  Returns an owned exchange.
 */
struct sasl *
sasl_new(enum sasl_mech mech, const char *challenge)
{
	struct sasl	*s;

	s = xcalloc(1, sizeof(*s));
	s->mech = mech;
	if (challenge != NULL)
		strlcpy(s->challenge, challenge, sizeof(s->challenge));
	return (s);
}

/* Wipe and free an exchange; NULL is a no-op. */
void
sasl_free(struct sasl *s)
{
	volatile unsigned char	*p;
	size_t			 i;

	if (s == NULL)
		return;
	/* Credentials must not linger in freed memory. */
	p = (volatile unsigned char *)s;
	for (i = 0; i < sizeof(*s); i++)
		p[i] = 0;
	free(s);
}

static int
sasl_b64_value(int c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(sasl_b64, c)) == NULL)
		return (-1);
	return ((int)(p - sasl_b64));
}

/*
 * Decode len characters of base64 into out (outsz octets).  Returns 0 and
 * the decoded length in *outlen, or -1 for bad characters, bad padding
 * or output that does not fit.
 */
int
sasl_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t outsz, size_t *outlen)
{
	size_t		i, n = 0;
	int		v[4], j, pad;

	if (len % 4 != 0)
		return (-1);
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=') {
				/* Padding only at the end, in the last two. */
				if (i + 4 != len || j < 2)
					return (-1);
				v[j] = 0;
				pad++;
			} else {
				if (pad > 0)
					return (-1);
				if ((v[j] = sasl_b64_value(
				    (unsigned char)in[i + j])) == -1)
					return (-1);
			}
		}
		if (n + 3 - (size_t)pad > outsz)
			return (-1);
		out[n++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			out[n++] = (unsigned char)(((v[1] & 0xf) << 4) |
			    (v[2] >> 2));
		if (pad < 1)
			out[n++] = (unsigned char)(((v[2] & 0x3) << 6) | v[3]);
	}
	*outlen = n;
	return (0);
}

/* Encode len octets as base64 into out; -1 if outsz is too small. */
int
sasl_base64_encode(const unsigned char *in, size_t len, char *out,
    size_t outsz)
{
	size_t		i, n = 0;
	unsigned	v;

	if (outsz < ((len + 2) / 3) * 4 + 1)
		return (-1);
	for (i = 0; i < len; i += 3) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = sasl_b64[(v >> 18) & 0x3f];
		out[n++] = sasl_b64[(v >> 12) & 0x3f];
		out[n++] = i + 1 < len ? sasl_b64[(v >> 6) & 0x3f] : '=';
		out[n++] = i + 2 < len ? sasl_b64[v & 0x3f] : '=';
	}
	out[n] = '\0';
	return (0);
}

/* Decode one client line; "=" is the empty response. */
static enum sasl_status
sasl_decode(const char *line, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	if (strcmp(line, "*") == 0)
		return (SASL_CANCELLED);
	if (strcmp(line, "=") == 0) {
		*outlen = 0;
		return (SASL_DONE);
	}
	if (sasl_base64_decode(line, strlen(line), out, outsz, outlen) == -1)
		return (SASL_BAD_BASE64);
	return (SASL_DONE);
}

/* Copy a decoded field: no NUL, CR or LF, at most SASL_FIELD_MAX. */
static int
sasl_field(char *dst, const unsigned char *src, size_t len)
{
	size_t	i;

	if (len > SASL_FIELD_MAX)
		return (-1);
	for (i = 0; i < len; i++) {
		if (src[i] == '\0' || src[i] == '\r' || src[i] == '\n')
			return (-1);
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return (0);
}

/* PLAIN: [authzid] NUL authcid NUL passwd (RFC 4616 2). */
static enum sasl_status
sasl_plain(struct sasl *s, const unsigned char *msg, size_t len)
{
	const unsigned char	*nul1, *nul2;
	size_t			 ulen, plen;

	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return (SASL_MALFORMED);
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	if (nul2 == NULL)
		return (SASL_MALFORMED);
	ulen = (size_t)(nul2 - (nul1 + 1));
	plen = len - (size_t)(nul2 + 1 - msg);
	if (ulen == 0 || sasl_field(s->user, nul1 + 1, ulen) == -1 ||
	    sasl_field(s->secret, nul2 + 1, plen) == -1)
		return (SASL_MALFORMED);
	return (SASL_DONE);
}

/* CRAM-MD5 response: "user SP hexdigest" (RFC 2195 2). */
static enum sasl_status
sasl_cram(struct sasl *s, const unsigned char *msg, size_t len)
{
	const unsigned char	*sp = NULL;
	size_t			 i;

	for (i = len; i > 0; i--) {
		if (msg[i - 1] == ' ') {
			sp = msg + i - 1;
			break;
		}
	}
	if (sp == NULL || sp == msg)
		return (SASL_MALFORMED);
	if (sasl_field(s->user, msg, (size_t)(sp - msg)) == -1 ||
	    sasl_field(s->secret, sp + 1, len - (size_t)(sp + 1 - msg)) == -1)
		return (SASL_MALFORMED);
	if (strlen(s->secret) != 32 ||
	    strspn(s->secret, "0123456789abcdefABCDEF") != 32)
		return (SASL_MALFORMED);
	return (SASL_DONE);
}

/* Put the base64 of text into chal (the 334 challenge). */
static enum sasl_status
sasl_challenge_out(const char *text, char *chal, size_t chalsz)
{
	if (sasl_base64_encode((const unsigned char *)text, strlen(text),
	    chal, chalsz) == -1)
		chal[0] = '\0';
	return (SASL_CONTINUE);
}

/*
 * Start with the AUTH command's initial response (NULL if none).  On
 * SASL_CONTINUE, chal holds the base64 challenge for "334 ".
 */
enum sasl_status
sasl_start(struct sasl *s, const char *initial, char *chal, size_t chalsz)
{
	chal[0] = '\0';
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		if (initial == NULL)
			return (SASL_CONTINUE);	/* "334 " with nothing */
		return (sasl_step(s, initial, chal, chalsz));
	case SASL_MECH_LOGIN:
		if (initial == NULL)
			return (sasl_challenge_out("Username:", chal, chalsz));
		return (sasl_step(s, initial, chal, chalsz));
	case SASL_MECH_CRAM_MD5:
		/* RFC 2195: the server speaks first; no initial response. */
		if (initial != NULL)
			return (SASL_MALFORMED);
		return (sasl_challenge_out(s->challenge, chal, chalsz));
	}
	return (SASL_MALFORMED);
}

/* Take one client line after a 334. */
enum sasl_status
sasl_step(struct sasl *s, const char *line, char *chal, size_t chalsz)
{
	unsigned char		msg[SASL_FIELD_MAX * 2 + 3];
	size_t			len = 0;
	enum sasl_status	st;

	chal[0] = '\0';
	if ((st = sasl_decode(line, msg, sizeof(msg), &len)) != SASL_DONE)
		return (st);
	s->step++;
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		return (sasl_plain(s, msg, len));
	case SASL_MECH_LOGIN:
		if (s->user[0] == '\0') {
			if (len == 0 || sasl_field(s->user, msg, len) == -1)
				return (SASL_MALFORMED);
			return (sasl_challenge_out("Password:", chal, chalsz));
		}
		if (sasl_field(s->secret, msg, len) == -1)
			return (SASL_MALFORMED);
		return (SASL_DONE);
	case SASL_MECH_CRAM_MD5:
		return (sasl_cram(s, msg, len));
	}
	return (SASL_MALFORMED);
}

const char *
sasl_user(const struct sasl *s)
{
	return (s->user);
}

const char *
sasl_secret(const struct sasl *s)
{
	return (s->secret);
}

const char *
sasl_challenge(const struct sasl *s)
{
	return (s->challenge);
}
