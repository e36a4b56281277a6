/*
 * envelope.c - the record of one mail transaction.
 *
 * The envelope keeps what MAIL and RCPT were given, as smtp_parse.c parsed
 * it, until the message is stored or the transaction is reset.  It owns the
 * recipient array and the strings in it; envelope_clear() frees all of them
 * so that RSET, a new EHLO or STARTTLS leave nothing behind (RFC 5321
 * 4.1.1.5, RFC 3207 4.2).
 *
 * envelope_params_json() renders the ESMTP and DSN parameters for the
 * store.  The core may not use jansson, so the JSON is written by hand here;
 * the values are short and already validated by the parser, but the escaper
 * still assumes nothing about them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "buf.h"
#include "envelope.h"
#include "log.h"
#include "xmalloc.h"

#define ENVELOPE_RCPTS_MIN	8	/* first allocation, then doubled */

/*
 * Initialise an empty envelope: no sender, no recipients, no storage.
 */
void
envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
}

/*
 * Free everything the envelope owns and make it empty again, as
 * envelope_init() leaves it.  Safe to call on an empty envelope.
 */
void
envelope_clear(struct envelope *env)
{
	size_t	i;

	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orcpt);
	}
	free(env->rcpts);
	envelope_init(env);
}

/*
 * Record the accepted MAIL arguments (copied).  The recipients already
 * added are kept; the session clears the envelope between transactions.
 */
void
envelope_set_mail(struct envelope *env, const struct smtp_mail_args *mail)
{
	env->mail = *mail;
	env->has_mail = 1;
}

/*
 * Append an accepted recipient.  The address and ORCPT are copied; an empty
 * ORCPT (not given) is stored as NULL.  The caller enforces the recipient
 * limit, which is what keeps this array bounded.
 */
void
envelope_add_rcpt(struct envelope *env, const struct smtp_rcpt_args *rcpt)
{
	struct envelope_rcpt	*r;
	size_t			 ncap;

	if (env->nrcpts == env->rcpts_cap) {
		ncap = env->rcpts_cap == 0 ? ENVELOPE_RCPTS_MIN :
		    env->rcpts_cap * 2;
		env->rcpts = xreallocarray(env->rcpts, ncap,
		    sizeof(*env->rcpts));
		env->rcpts_cap = ncap;
	}
	r = &env->rcpts[env->nrcpts++];
	r->addr = xstrdup(rcpt->addr);
	r->notify = rcpt->notify;
	r->orcpt = rcpt->orcpt[0] != '\0' ? xstrdup(rcpt->orcpt) : NULL;
}

/*
 * Length of the well-formed UTF-8 sequence (2 to 4 bytes) at s with n bytes
 * left, or 0 (RFC 3629 4: no overlongs, surrogates or values past U+10FFFF).
 */
static size_t
envelope_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else
		return (0);
	if (n < len || s[1] < lo || s[1] > hi)
		return (0);
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return (0);
	}
	return (len);
}

/*
 * Append s as a JSON string (RFC 8259 7): quote and backslash escaped,
 * control characters and DEL as \u00XX, valid UTF-8 as is, and any other
 * byte as U+FFFD so the result always parses.
 */
static void
envelope_json_string(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), len;

	buf_add(b, "\"", 1);
	while (n > 0) {
		if (*p == '"' || *p == '\\') {
			buf_addf(b, "\\%c", *p);
			len = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_addf(b, "\\u%04x", *p);
			len = 1;
		} else if (*p < 0x80) {
			buf_add(b, p, 1);
			len = 1;
		} else if ((len = envelope_utf8_len(p, n)) != 0)
			buf_add(b, p, len);
		else {
			buf_adds(b, "\\ufffd");
			len = 1;
		}
		p += len;
		n -= len;
	}
	buf_add(b, "\"", 1);
}

/* Append a NOTIFY bit set as a JSON array of keywords (RFC 3461 4.1). */
static void
envelope_json_notify(struct buf *b, int notify)
{
	static const struct {
		int		 bit;
		const char	*name;
	} words[] = {
		{ SMTP_NOTIFY_NEVER, "NEVER" },
		{ SMTP_NOTIFY_SUCCESS, "SUCCESS" },
		{ SMTP_NOTIFY_FAILURE, "FAILURE" },
		{ SMTP_NOTIFY_DELAY, "DELAY" },
	};
	const char	*sep = "";
	size_t		 i;

	buf_add(b, "[", 1);
	for (i = 0; i < MS_NITEMS(words); i++) {
		if (notify & words[i].bit) {
			buf_addf(b, "%s\"%s\"", sep, words[i].name);
			sep = ",";
		}
	}
	buf_add(b, "]", 1);
}

/*
 * Return the transaction's ESMTP and DSN parameters as a JSON object, for
 * instance {"size":123,"body":"8BITMIME","smtputf8":true,"ret":"HDRS",
 * "envid":"abc","auth":"<>","rcpt":[{"notify":["SUCCESS"],"orcpt":
 * "rfc822;a@b"},null]}.  Only the parameters that were given appear; "rcpt"
 * appears only if some recipient had NOTIFY or ORCPT, with one entry per
 * recipient (null for those without).  No parameters give "{}".  The
 * caller frees the result.
 */
char *
envelope_params_json(const struct envelope *env)
{
	const struct smtp_mail_args	*m = &env->mail;
	const struct envelope_rcpt	*r;
	struct buf			 b;
	const char			*sep = "";
	const char			*body = NULL;
	size_t				 i;
	int				 any = 0;

	/*
	 * No cap: every value comes from a fixed-size parser field and the
	 * session caps the recipients, so the text is bounded already.
	 */
	buf_init(&b, 0);
	buf_add(&b, "{", 1);
	if (env->has_mail) {
		if (m->has_size) {
			buf_addf(&b, "\"size\":%llu",
			    (unsigned long long)m->size);
			sep = ",";
		}
		switch (m->body) {
		case SMTP_BODY_NONE:
			break;
		case SMTP_BODY_7BIT:
			body = "7BIT";
			break;
		case SMTP_BODY_8BITMIME:
			body = "8BITMIME";
			break;
		case SMTP_BODY_BINARYMIME:
			body = "BINARYMIME";
			break;
		default:
			fatalx("%s: body %d", __func__, (int)m->body);
		}
		if (body != NULL) {
			buf_addf(&b, "%s\"body\":\"%s\"", sep, body);
			sep = ",";
		}
		if (m->smtputf8) {
			buf_addf(&b, "%s\"smtputf8\":true", sep);
			sep = ",";
		}
		if (m->ret != SMTP_RET_NONE) {
			buf_addf(&b, "%s\"ret\":\"%s\"", sep,
			    m->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
			sep = ",";
		}
		if (m->envid[0] != '\0') {
			buf_addf(&b, "%s\"envid\":", sep);
			envelope_json_string(&b, m->envid);
			sep = ",";
		}
		if (m->has_auth) {
			buf_addf(&b, "%s\"auth\":", sep);
			envelope_json_string(&b, m->auth);
			sep = ",";
		}
	}

	for (i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].notify != 0 || env->rcpts[i].orcpt != NULL)
			any = 1;
	}
	if (any) {
		buf_addf(&b, "%s\"rcpt\":[", sep);
		for (i = 0; i < env->nrcpts; i++) {
			r = &env->rcpts[i];
			if (i > 0)
				buf_add(&b, ",", 1);
			if (r->notify == 0 && r->orcpt == NULL) {
				buf_adds(&b, "null");
				continue;
			}
			buf_add(&b, "{", 1);
			if (r->notify != 0) {
				buf_adds(&b, "\"notify\":");
				envelope_json_notify(&b, r->notify);
			}
			if (r->orcpt != NULL) {
				buf_adds(&b, r->notify != 0 ? ",\"orcpt\":" :
				    "\"orcpt\":");
				envelope_json_string(&b, r->orcpt);
			}
			buf_add(&b, "}", 1);
		}
		buf_add(&b, "]", 1);
	}
	buf_add(&b, "}", 1);
	return (b.data);	/* ownership passes to the caller */
}
