/*
 * sasl.h - SASL exchanges for SMTP AUTH (RFC 4954) as step functions.
 *
 * Pure core.  PLAIN (RFC 4616), LOGIN (the de-facto
 * "334 VXNlcm5hbWU6" exchange) and CRAM-MD5 (RFC 2195) are decoded here
 * into a user name and a secret (the password, or for CRAM-MD5 the hex
 * digest the client sent).  Checking the secret is not done here: the
 * session hands it to the credential hook, which for CRAM-MD5 computes
 * the HMAC with OpenSSL in the shell.  Nothing in this module logs or
 * keeps credentials beyond the exchange; sasl_free() wipes them.
 */
#ifndef MAILSINK_SASL_H
#define MAILSINK_SASL_H

#include <stddef.h>

#define SASL_FIELD_MAX	256	/* user and secret, octets */
#define SASL_CHALLENGE_MAX 256	/* CRAM-MD5 challenge text */

enum sasl_mech {
	SASL_MECH_PLAIN = 0,
	SASL_MECH_LOGIN,
	SASL_MECH_CRAM_MD5
};

enum sasl_status {
	SASL_CONTINUE = 0,	/* send "334 " + challenge (base64) */
	SASL_DONE,		/* user and secret are ready */
	SASL_CANCELLED,		/* the client sent "*": 501 5.0.0 */
	SASL_BAD_BASE64,	/* 501 5.5.2 */
	SASL_MALFORMED		/* decoded, but not the mechanism's form:
				   501 5.5.2 */
};

struct sasl;

int	sasl_mech_parse(const char *, enum sasl_mech *);
const char *sasl_mech_name(enum sasl_mech);
struct sasl *sasl_new(enum sasl_mech, const char *);
void	sasl_free(struct sasl *);
enum sasl_status sasl_start(struct sasl *, const char *, char *, size_t);
enum sasl_status sasl_step(struct sasl *, const char *, char *, size_t);
const char *sasl_user(const struct sasl *);
const char *sasl_secret(const struct sasl *);
const char *sasl_challenge(const struct sasl *);

int	sasl_base64_decode(const char *, size_t, unsigned char *, size_t,
	    size_t *);
int	sasl_base64_encode(const unsigned char *, size_t, char *, size_t);

#endif /* MAILSINK_SASL_H */
