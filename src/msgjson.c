/*
 * msgjson.c - JSON objects for stored messages and sessions (jansson).
 *
 * Shell.  The message object of CONTRACT "The program" is built here
 * only, so `list --json`, `show --json` and the HTTP API cannot drift
 * apart.  Display headers that are absent are "" (clients can rely on
 * strings), while things that may genuinely not exist are null: tls,
 * user, session_id, and the text and html parts.
 *
 * JSON strings must be UTF-8 and jansson refuses anything else, but the
 * envelope and the headers come from SMTP clients and need not be: an
 * invalid byte becomes U+FFFD rather than losing the whole field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "msgjson.h"
#include "store.h"
#include "xmalloc.h"

/*
 * Length of the valid UTF-8 sequence at p (n bytes left), or 0 if there
 * is none: a bad lead byte, a truncated sequence, an overlong form, a
 * surrogate or a code point past U+10FFFF.
 */
static size_t
msgjson_utf8_len(const unsigned char *p, size_t n)
{
	size_t		len, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return (0);
		lo = 0x80;
		hi = 0xbf;
	}
	return (len);
}

/* A JSON string for s, with invalid UTF-8 bytes replaced by U+FFFD. */
static json_t *
msgjson_string(const char *s)
{
	struct buf		 b;
	const unsigned char	*p;
	json_t			*j;
	size_t			 n, len;

	if ((j = json_string(s)) != NULL)
		return (j);
	buf_init(&b, 0);
	p = (const unsigned char *)s;
	n = strlen(s);
	while (n > 0) {
		if ((len = msgjson_utf8_len(p, n)) == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			len = 1;
		} else
			buf_add(&b, p, len);
		p += len;
		n -= len;
	}
	j = json_string(buf_str(&b));
	buf_clear(&b);
	if (j == NULL)
		fatalx("%s: json_string", __func__);
	return (j);
}

/* s as a JSON string, or "" when s is NULL. */
static json_t *
msgjson_str_empty(const char *s)
{
	return (msgjson_string(s != NULL ? s : ""));
}

/* s as a JSON string, or null when s is NULL. */
static json_t *
msgjson_str_null(const char *s)
{
	return (s != NULL ? msgjson_string(s) : json_null());
}

/* Set key in o to v, taking ownership of v; jansson fails only on OOM. */
static void
msgjson_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		fatalx("%s: %s: out of memory", __func__, key);
}

/* Append v to the array a, taking ownership of v. */
static void
msgjson_append(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		fatalx("%s: out of memory", __func__);
}

/* A new empty object or array; jansson fails only on OOM. */
static json_t *
msgjson_new(int array)
{
	json_t	*j;

	j = array ? json_array() : json_object();
	if (j == NULL)
		fatalx("%s: out of memory", __func__);
	return (j);
}

/* {"protocol": ..., "cipher": ...}, or null when not TLS. */
static json_t *
msgjson_tls(const char *protocol, const char *cipher)
{
	json_t	*o;

	if (protocol == NULL)
		return (json_null());
	o = msgjson_new(0);
	msgjson_set(o, "protocol", msgjson_string(protocol));
	msgjson_set(o, "cipher", msgjson_str_null(cipher));
	return (o);
}

/* An array of n strings. */
static json_t *
msgjson_strings(char *const *v, size_t n)
{
	json_t	*a;
	size_t	 i;

	a = msgjson_new(1);
	for (i = 0; i < n; i++)
		msgjson_append(a, msgjson_str_empty(v[i]));
	return (a);
}

/*
 * The ESMTP and DSN parameters, stored as JSON text by the server; an
 * empty object when there are none or the text does not parse (it is
 * ours, so that would be a bug, but not one to hide the message for).
 */
static json_t *
msgjson_params(const char *text)
{
	json_t		*j;
	json_error_t	 err;

	if (text == NULL || *text == '\0')
		return (msgjson_new(0));
	j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return (msgjson_new(0));
	}
	return (j);
}

/*
 * The message object of CONTRACT "The program" for msg: id, received,
 * client, helo, tls, user, mail_from, rcpt_to, size, subject, from, to,
 * cc, date, message_id, session_id, and params (the ESMTP and DSN
 * parameters).  Returns a new reference the caller must json_decref.
 */
json_t *
msgjson_summary(const struct store_msg *msg)
{
	json_t	*o;

	o = msgjson_new(0);
	msgjson_set(o, "id", json_integer(msg->id));
	msgjson_set(o, "received", msgjson_str_empty(msg->received));
	msgjson_set(o, "client", msgjson_str_empty(msg->client));
	msgjson_set(o, "helo", msgjson_str_empty(msg->helo));
	msgjson_set(o, "tls", msgjson_tls(msg->tls_protocol,
	    msg->tls_cipher));
	msgjson_set(o, "user", msgjson_str_null(msg->user));
	msgjson_set(o, "mail_from", msgjson_str_empty(msg->mail_from));
	msgjson_set(o, "rcpt_to", msgjson_strings(msg->rcpt_to, msg->nrcpt));
	msgjson_set(o, "size", json_integer((json_int_t)msg->size));
	msgjson_set(o, "subject", msgjson_str_empty(msg->subject));
	msgjson_set(o, "from", msgjson_str_empty(msg->from));
	msgjson_set(o, "to", msgjson_str_empty(msg->to));
	msgjson_set(o, "cc", msgjson_str_empty(msg->cc));
	msgjson_set(o, "date", msgjson_str_empty(msg->date));
	msgjson_set(o, "message_id", msgjson_str_empty(msg->message_id));
	msgjson_set(o, "session_id", msg->session_id != 0 ?
	    json_integer(msg->session_id) : json_null());
	msgjson_set(o, "params", msgjson_params(msg->params));
	return (o);
}

/*
 * The summary object plus what `show --json` adds from the parsed
 * message mm: headers ([[name, value], ...] in order), text and html
 * (null when the message has no such part) and attachments ([{part_id,
 * filename, content_type, size}]).  mm may be NULL when the message
 * could not be parsed at all.  Returns a new reference.
 */
json_t *
msgjson_full(const struct store_msg *msg, const struct mime_message *mm)
{
	const struct mime_attachment	*att;
	json_t				*o, *a, *h;
	size_t				 i;

	o = msgjson_summary(msg);
	a = msgjson_new(1);
	for (i = 0; mm != NULL && i < mm->nheaders; i++) {
		h = msgjson_new(1);
		msgjson_append(h, msgjson_str_empty(mm->headers[i].name));
		msgjson_append(h, msgjson_str_empty(mm->headers[i].value));
		msgjson_append(a, h);
	}
	msgjson_set(o, "headers", a);
	msgjson_set(o, "text", msgjson_str_null(mm != NULL ? mm->text : NULL));
	msgjson_set(o, "html", msgjson_str_null(mm != NULL ? mm->html : NULL));
	a = msgjson_new(1);
	for (i = 0; mm != NULL && i < mm->nattachments; i++) {
		att = &mm->attachments[i];
		h = msgjson_new(0);
		msgjson_set(h, "part_id", msgjson_str_empty(att->part_id));
		msgjson_set(h, "filename", msgjson_str_null(att->filename));
		msgjson_set(h, "content_type",
		    msgjson_str_empty(att->content_type));
		msgjson_set(h, "size", json_integer((json_int_t)att->size));
		msgjson_append(a, h);
	}
	msgjson_set(o, "attachments", a);
	return (o);
}

/* One rejected or abandoned transaction of a session. */
static json_t *
msgjson_reject(const struct store_reject *rj)
{
	json_t	*o;

	o = msgjson_new(0);
	msgjson_set(o, "time", msgjson_str_empty(rj->time));
	msgjson_set(o, "stage", msgjson_str_empty(rj->stage));
	msgjson_set(o, "outcome", msgjson_str_empty(rj->outcome));
	msgjson_set(o, "mail_from", msgjson_str_null(rj->mail_from));
	msgjson_set(o, "rcpt_to", msgjson_strings(rj->rcpt_to, rj->nrcpt));
	msgjson_set(o, "rcpt", msgjson_str_null(rj->rcpt));
	msgjson_set(o, "reply", msgjson_str_null(rj->reply));
	return (o);
}

/*
 * The session object for `sessions --json`: id, started, ended (null
 * while open), client, helo, tls, user, outcome, quirks (array of the
 * leniencies the client needed), messages (ids delivered) and rejections
 * ([{time, stage, outcome, mail_from, rcpt_to, rcpt, reply}]).  Returns
 * a new reference.
 */
json_t *
msgjson_session(const struct store_sess *ss)
{
	json_t		*o, *a;
	const char	*p;
	char		*q;
	size_t		 i, len;

	o = msgjson_new(0);
	msgjson_set(o, "id", json_integer(ss->id));
	msgjson_set(o, "started", msgjson_str_empty(ss->started));
	msgjson_set(o, "ended", msgjson_str_null(ss->ended));
	msgjson_set(o, "client", msgjson_str_empty(ss->client));
	msgjson_set(o, "helo", msgjson_str_null(ss->helo));
	msgjson_set(o, "tls", msgjson_tls(ss->tls_protocol, ss->tls_cipher));
	msgjson_set(o, "user", msgjson_str_null(ss->user));
	msgjson_set(o, "outcome", msgjson_str_null(ss->outcome));
	a = msgjson_new(1);
	for (p = ss->quirks; p != NULL && *p != '\0'; p += len) {
		p += strspn(p, " ");
		len = strcspn(p, ",");
		if (len > 0) {
			q = xstrndup(p, len);
			msgjson_append(a, msgjson_string(q));
			free(q);
		}
		if (p[len] == ',')
			len++;
	}
	msgjson_set(o, "quirks", a);
	a = msgjson_new(1);
	for (i = 0; i < ss->nmessages; i++)
		msgjson_append(a, json_integer(ss->messages[i]));
	msgjson_set(o, "messages", a);
	a = msgjson_new(1);
	for (i = 0; i < ss->nrejects; i++)
		msgjson_append(a, msgjson_reject(&ss->rejects[i]));
	msgjson_set(o, "rejections", a);
	return (o);
}
