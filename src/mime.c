/*
 * mime.c - MIME parsing with GMime: display headers and message parts.
 *
 * Everything here works on untrusted bytes exactly as a client sent them:
 * CRLF or bare LF line ends, 8-bit or binary headers, truncated or broken
 * multiparts, no header section at all.  GMime does all the decoding
 * (RFC 2047 encoded-words, RFC 2231 parameters, transfer encodings and
 * charsets); this file only walks what GMime built and copies the results
 * out as NUL-terminated UTF-8.  Since the values end up in JSON and in a
 * terminal, every string leaving this file is valid UTF-8: GMime converts
 * 8-bit header text with its fallback charsets, and anything still
 * invalid is replaced with U+FFFD here.
 *
 * GMime keeps the Content-* headers of a message on its top-level MIME
 * part, not on the message, so "all the headers in order" means merging
 * the two lists by their offsets in the input.
 *
 * Two GMime 3.2.13 (Debian 12) weaknesses are worked around before the
 * bytes reach its parser; both only change how GMime is fed, never what a
 * value means.  Its RFC 2047 decoder joins adjacent B encoded-words with
 * the same charset into one base64 stream and stops at the first "="
 * padding, so "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" (as Python and
 * Thunderbird write long subjects) decodes to "Hello" (GMime issue 133,
 * fixed in 3.2.14).  And its parser returns no message at all when the
 * input ends inside a header name, as a head cut at 64 KiB can.
 *
 * This file must never fail in a way that loses a message: a message GMime
 * cannot make sense of yields empty results, not an error.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "mime.h"
#include "xmalloc.h"

#define MIME_DEPTH_MAX	32	/* multipart nesting walked for parts */
#define MIME_CHARSET_MAX 64	/* longest charset name in an encoded-word */

static int	mime_ready;	/* g_mime_init() done */
static int	mime_fix_b;	/* GMime has the padded-B-word bug */

static size_t	 mime_header_end(const char *, size_t);
static size_t	 mime_b_word(const char *, size_t, size_t *, size_t *,
		    size_t *);
static char	*mime_fix_words(const char *, size_t, size_t *);
static GMimeMessage *mime_parse_bytes(const char *, size_t);
static GMimeMessage *mime_parse(const char *, size_t);
static char	*mime_utf8(const char *, gssize);
static char	*mime_trimmed(const char *);
static GMimeHeader *mime_find(GMimeMessage *, const char *);
static char	*mime_addrs(GMimeMessage *, GMimeAddressType, const char *);
static void	 mime_add_header(struct mime_message *, GMimeHeader *);
static void	 mime_add_headers(struct mime_message *, GMimeMessage *);
static size_t	 mime_content_size(GMimePart *);
static char	*mime_part_text(GMimePart *);
static char	*mime_search_text(GMimeObject *, int);
static void	 mime_add_attachment(struct mime_message *, const char *,
		    const char *, GMimeContentType *, size_t);
static void	 mime_walk(struct mime_message *, GMimeObject *, const char *,
		    int);

/*
 * Initialise GMime.  Call once at start; the parsing functions also call
 * it, so tests and tools need not.
 */
void
mime_init(void)
{
	if (mime_ready)
		return;
	g_mime_init();
	mime_fix_b = !g_mime_check_version(3, 2, 14);
	mime_ready = 1;
}

/* Length of the header section: up to and including its blank line. */
static size_t
mime_header_end(const char *data, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return (i + 2);
		if (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
			return (i + 3);
	}
	return (len);
}

/*
 * If a B encoded-word with "=" in its text starts at data[off], return
 * its length, with the charset at *cs (length *cslen) and the text at
 * *text (its length is what remains before the final "?=").  Otherwise 0.
 */
static size_t
mime_b_word(const char *data, size_t len, size_t *cs, size_t *cslen,
    size_t *text)
{
	size_t	 i = 2, pad = 0;

	if (len < 8 || data[0] != '=' || data[1] != '?')
		return (0);
	*cs = i;
	while (i < len && data[i] != '?' && data[i] > ' ' &&
	    (unsigned char)data[i] < 0x7f && i - *cs < MIME_CHARSET_MAX)
		i++;
	*cslen = i - *cs;
	if (*cslen == 0 || i + 2 >= len || data[i] != '?' ||
	    (data[i + 1] != 'B' && data[i + 1] != 'b') || data[i + 2] != '?')
		return (0);
	i += 3;
	*text = i;
	for (; i < len && data[i] != '?'; i++) {
		if (data[i] == '=')
			pad = 1;
		else if (!g_ascii_isalnum(data[i]) && data[i] != '+' &&
		    data[i] != '/')
			return (0);
	}
	if (!pad || i + 1 >= len || data[i + 1] != '=')
		return (0);
	return (i + 2);
}

/*
 * Work around GMime issue 133 (see the top of this file): in the header
 * section, rewrite each B encoded-word with "=" padding as the same
 * octets in a Q encoded-word ("=XX" for every octet), which GMime never
 * joins with a neighbouring B word.  GMime's own base64 decoder, on that
 * one word alone, gives the octets.  Returns a new buffer (length in
 * *outlen; g_free() it), or NULL when nothing needed rewriting.
 */
static char *
mime_fix_words(const char *data, size_t len, size_t *outlen)
{
	GString		*out = NULL;
	unsigned char	*octets;
	size_t		 end, i, done = 0, n, cs, cslen, text, textlen;
	size_t		 nout, k;
	guint32		 save;
	int		 state;

	if (!mime_fix_b)
		return (NULL);
	end = mime_header_end(data, len);
	for (i = 0; i < end; i++) {
		if (data[i] != '=' ||
		    (n = mime_b_word(data + i, end - i, &cs, &cslen,
		    &text)) == 0)
			continue;
		if (out == NULL)
			out = g_string_sized_new(len + 64);
		g_string_append_len(out, data + done, (gssize)(i - done));
		textlen = n - 2 - text;
		octets = g_malloc(textlen + 3);
		state = 0;
		save = 0;
		nout = g_mime_encoding_base64_decode_step(
		    (const unsigned char *)data + i + text, textlen, octets,
		    &state, &save);
		g_string_append(out, "=?");
		g_string_append_len(out, data + i + cs, (gssize)cslen);
		g_string_append(out, "?Q?");
		for (k = 0; k < nout; k++)
			g_string_append_printf(out, "=%02X", octets[k]);
		g_string_append(out, "?=");
		g_free(octets);
		i += n - 1;
		done = i + 1;
	}
	if (out == NULL)
		return (NULL);
	g_string_append_len(out, data + done, (gssize)(len - done));
	*outlen = out->len;
	return (g_string_free(out, FALSE));
}

/* Parse len bytes as a message; NULL when GMime finds no header section. */
static GMimeMessage *
mime_parse_bytes(const char *data, size_t len)
{
	GMimeStream	*stream;
	GMimeParser	*parser;
	GMimeMessage	*msg;

	/* The stream copies the bytes, so data need not outlive it. */
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return (msg);
}

/*
 * Parse len bytes as a message, working around GMime's weaknesses (see
 * the top of this file); NULL when there is no header section at all.
 */
static GMimeMessage *
mime_parse(const char *data, size_t len)
{
	GMimeMessage	*msg;
	char		*fixed;
	size_t		 flen, end;

	mime_init();
	if (len == 0)
		return (NULL);
	if ((fixed = mime_fix_words(data, len, &flen)) != NULL) {
		data = fixed;
		len = flen;
	}
	msg = mime_parse_bytes(data, len);
	if (msg == NULL) {
		/* Once more without the last line, which may be cut short. */
		end = len;
		if (data[end - 1] == '\n')
			end--;
		while (end > 0 && data[end - 1] != '\n')
			end--;
		if (end > 0)
			msg = mime_parse_bytes(data, end);
	}
	g_free(fixed);
	return (msg);
}

/*
 * Copy len bytes of s (-1: up to its NUL) as valid UTF-8, invalid bytes
 * and NULs becoming U+FFFD.  NULL stays NULL.
 */
static char *
mime_utf8(const char *s, gssize len)
{
	gchar	*valid;
	char	*out;

	if (s == NULL)
		return (NULL);
	if (len < 0)
		len = (gssize)strlen(s);
	valid = g_utf8_make_valid(s, len);
	out = xstrdup(valid);
	g_free(valid);
	return (out);
}

/* Copy s as valid UTF-8 without surrounding white space; NULL stays NULL. */
static char *
mime_trimmed(const char *s)
{
	size_t	 len;

	if (s == NULL)
		return (NULL);
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	return (mime_utf8(s, (gssize)len));
}

/*
 * The first header called name, looking at the message's own headers and
 * at its top-level part's (Content-*), whichever comes first in the input.
 */
static GMimeHeader *
mime_find(GMimeMessage *msg, const char *name)
{
	GMimeObject	*part;
	GMimeHeader	*h, *ph;

	h = g_mime_header_list_get_header(
	    g_mime_object_get_header_list(GMIME_OBJECT(msg)), name);
	if ((part = g_mime_message_get_mime_part(msg)) == NULL)
		return (h);
	ph = g_mime_header_list_get_header(
	    g_mime_object_get_header_list(part), name);
	if (h == NULL ||
	    (ph != NULL && g_mime_header_get_offset(ph) <
	    g_mime_header_get_offset(h)))
		return (ph);
	return (h);
}

/*
 * An address header for display: GMime's own rendering of the parsed
 * list (decoded, unencoded), or the decoded text when nothing parsed as
 * an address; NULL when the header is absent.
 */
static char *
mime_addrs(GMimeMessage *msg, GMimeAddressType type, const char *name)
{
	InternetAddressList	*list;
	GMimeHeader		*h;
	char			*s, *out;

	list = g_mime_message_get_addresses(msg, type);
	if (list != NULL && internet_address_list_length(list) > 0) {
		s = internet_address_list_to_string(list, NULL, FALSE);
		if (s != NULL) {
			out = mime_trimmed(s);
			g_free(s);
			return (out);
		}
	}
	if ((h = mime_find(msg, name)) == NULL)
		return (NULL);
	return (mime_trimmed(g_mime_header_get_value(h)));
}

/*
 * Decode the display headers of the message in data (len bytes; the head
 * of the message is enough) into hdrs, which is overwritten: the caller
 * frees it with mime_headers_clear().  Absent headers are NULL.  Input
 * GMime cannot parse leaves every field NULL.
 */
void
mime_headers_parse(const char *data, size_t len, struct mime_headers *hdrs)
{
	GMimeMessage	*msg;
	GMimeHeader	*h;
	const char	*id;

	memset(hdrs, 0, sizeof *hdrs);
	/* The body is not needed here: parsing it would double the cost. */
	if ((msg = mime_parse(data, mime_header_end(data, len))) == NULL)
		return;

	hdrs->subject = mime_trimmed(g_mime_message_get_subject(msg));
	hdrs->from = mime_addrs(msg, GMIME_ADDRESS_TYPE_FROM, "From");
	hdrs->to = mime_addrs(msg, GMIME_ADDRESS_TYPE_TO, "To");
	hdrs->cc = mime_addrs(msg, GMIME_ADDRESS_TYPE_CC, "Cc");
	if ((h = mime_find(msg, "Date")) != NULL)
		hdrs->date = mime_trimmed(g_mime_header_get_value(h));
	/* GMime gives the id without its angle brackets, as Mailpit shows. */
	if ((id = g_mime_message_get_message_id(msg)) != NULL)
		hdrs->message_id = mime_trimmed(id);
	else if ((h = mime_find(msg, "Message-ID")) != NULL)
		hdrs->message_id = mime_trimmed(g_mime_header_get_value(h));

	g_object_unref(msg);
}

/*
 * The text a search should see in the message in data (its head is
 * enough; the caller bounds len): the first text part, decoded to UTF-8,
 * tags stripped from HTML, at most MIME_SEARCH_TEXT_MAX octets.  NULL
 * when there is none.  The caller frees the result.
 */
char *
mime_search_text_get(const char *data, size_t len)
{
	GMimeMessage	*msg;
	char		*text;

	if ((msg = mime_parse(data, len)) == NULL)
		return (NULL);
	text = mime_search_text(g_mime_message_get_mime_part(msg), 0);
	g_object_unref(msg);
	return (text);
}

/* Free the strings in hdrs and set them to NULL. */
void
mime_headers_clear(struct mime_headers *hdrs)
{
	free(hdrs->subject);
	free(hdrs->from);
	free(hdrs->to);
	free(hdrs->cc);
	free(hdrs->date);
	free(hdrs->message_id);
	memset(hdrs, 0, sizeof *hdrs);
}

/*
 * The value of the first header called name (case-insensitive) in the
 * message in data, unfolded and decoded; NULL when absent.  The caller
 * frees the result.  Used by `data` rules ("Subject=*fail*").
 */
char *
mime_header_get(const char *data, size_t len, const char *name)
{
	GMimeMessage	*msg;
	GMimeHeader	*h;
	char		*value = NULL;

	if ((msg = mime_parse(data, len)) == NULL)
		return (NULL);
	if ((h = mime_find(msg, name)) != NULL)
		value = mime_trimmed(g_mime_header_get_value(h));
	g_object_unref(msg);
	return (value);
}

/* Append one header (name and decoded value) to msg. */
static void
mime_add_header(struct mime_message *msg, GMimeHeader *h)
{
	struct mime_header	*mh;
	const char		*value;

	msg->headers = xreallocarray(msg->headers, msg->nheaders + 1,
	    sizeof *msg->headers);
	mh = &msg->headers[msg->nheaders++];
	mh->name = mime_utf8(g_mime_header_get_name(h), -1);
	value = g_mime_header_get_value(h);
	mh->value = mime_trimmed(value != NULL ? value : "");
}

/* Append every header of the message, in input order. */
static void
mime_add_headers(struct mime_message *msg, GMimeMessage *gm)
{
	GMimeHeaderList	*mlist, *plist = NULL;
	GMimeObject	*part;
	GMimeHeader	*mh, *ph;
	int		 mi = 0, pi = 0, mn, pn = 0;

	mlist = g_mime_object_get_header_list(GMIME_OBJECT(gm));
	mn = g_mime_header_list_get_count(mlist);
	if ((part = g_mime_message_get_mime_part(gm)) != NULL) {
		plist = g_mime_object_get_header_list(part);
		pn = g_mime_header_list_get_count(plist);
	}
	/* Both lists are in input order: merge them by offset. */
	while (mi < mn || pi < pn) {
		mh = mi < mn ? g_mime_header_list_get_header_at(mlist, mi) :
		    NULL;
		ph = pi < pn ? g_mime_header_list_get_header_at(plist, pi) :
		    NULL;
		if (ph == NULL || (mh != NULL &&
		    g_mime_header_get_offset(mh) <=
		    g_mime_header_get_offset(ph))) {
			mime_add_header(msg, mh);
			mi++;
		} else {
			mime_add_header(msg, ph);
			pi++;
		}
	}
}

/* Octets of the part's content after transfer decoding. */
static size_t
mime_content_size(GMimePart *part)
{
	GMimeDataWrapper	*content;
	GMimeStream		*null;
	ssize_t			 n;

	if ((content = g_mime_part_get_content(part)) == NULL)
		return (0);
	null = g_mime_stream_null_new();
	n = g_mime_data_wrapper_write_to_stream(content, null);
	g_object_unref(null);
	return (n < 0 ? 0 : (size_t)n);
}

/*
 * The text of a text part as UTF-8.  GMime converts from the part's
 * charset; when it cannot (an unknown charset), the decoded octets are
 * taken as they are, with invalid sequences replaced.
 */
static char *
mime_part_text(GMimePart *part)
{
	GMimeDataWrapper	*content;
	GMimeStream		*mem;
	GByteArray		*bytes;
	char			*text, *out;

	if (GMIME_IS_TEXT_PART(part) &&
	    (text = g_mime_text_part_get_text(GMIME_TEXT_PART(part))) != NULL) {
		out = mime_utf8(text, -1);
		g_free(text);
		return (out);
	}
	if ((content = g_mime_part_get_content(part)) == NULL)
		return (xstrdup(""));
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	out = mime_utf8((const char *)bytes->data, (gssize)bytes->len);
	g_object_unref(mem);
	return (out);
}

/*
 * Cut text to at most max octets without splitting a UTF-8 sequence, and
 * (html != 0) drop what lies between < and >, so the search index holds
 * words, not markup.  Works in place.
 */
static void
mime_search_trim(char *text, size_t max, int html)
{
	char	*r, *w;
	int	 intag = 0;

	if (html) {
		for (r = w = text; *r != '\0'; r++) {
			if (*r == '<')
				intag = 1;
			else if (*r == '>' && intag) {
				intag = 0;
				*w++ = ' ';
			} else if (!intag)
				*w++ = *r;
		}
		*w = '\0';
	}
	if (strlen(text) > max) {
		w = text + max;
		while (w > text && ((unsigned char)*w & 0xc0) == 0x80)
			w--;
		*w = '\0';
	}
}

/*
 * The text a search should see in a message: its first text/plain part
 * (or, failing that, its first text/html part, markup dropped), decoded
 * to UTF-8 and cut to MIME_SEARCH_TEXT_MAX.  NULL when there is none.
 */
static char *
mime_search_text(GMimeObject *obj, int depth)
{
	GMimeContentType	*ct;
	GMimeObject		*html = NULL, *found = NULL;
	GMimePartIter		*it;
	GMimeObject		*cur;
	char			*text;

	if (obj == NULL || depth > MIME_DEPTH_MAX)
		return (NULL);
	if (GMIME_IS_PART(obj)) {
		found = obj;
	} else if (GMIME_IS_MULTIPART(obj)) {
		it = g_mime_part_iter_new(obj);
		do {
			cur = g_mime_part_iter_get_current(it);
			if (cur == NULL || !GMIME_IS_PART(cur) ||
			    g_mime_part_is_attachment(GMIME_PART(cur)))
				continue;
			ct = g_mime_object_get_content_type(cur);
			if (ct == NULL)
				continue;
			if (g_mime_content_type_is_type(ct, "text", "plain")) {
				found = cur;
				break;
			}
			if (html == NULL &&
			    g_mime_content_type_is_type(ct, "text", "html"))
				html = cur;
		} while (g_mime_part_iter_next(it));
		g_mime_part_iter_free(it);
		if (found == NULL)
			found = html;
	}
	if (found == NULL || g_mime_part_is_attachment(GMIME_PART(found)))
		return (NULL);
	ct = g_mime_object_get_content_type(found);
	if (ct != NULL && !g_mime_content_type_is_type(ct, "text", "*"))
		return (NULL);
	text = mime_part_text(GMIME_PART(found));
	mime_search_trim(text, MIME_SEARCH_TEXT_MAX, ct != NULL &&
	    g_mime_content_type_is_type(ct, "text", "html"));
	return (text);
}

/* Append an attachment entry to msg. */
static void
mime_add_attachment(struct mime_message *msg, const char *part_id,
    const char *filename, GMimeContentType *ct, size_t size)
{
	struct mime_attachment	*a;
	char			*type;

	msg->attachments = xreallocarray(msg->attachments,
	    msg->nattachments + 1, sizeof *msg->attachments);
	a = &msg->attachments[msg->nattachments++];
	a->part_id = xstrdup(part_id);
	a->filename = mime_utf8(filename, -1);
	type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = mime_utf8(type != NULL ? type :
	    "application/octet-stream", -1);
	g_free(type);
	a->size = size;
}

/*
 * Walk the MIME tree below obj, whose part number is path (IMAP style:
 * "1", "1.2"; "" for the top of a multipart message).  The first inline
 * text/plain and text/html leaves become the message's text and html;
 * every other leaf, and every attached message, is an attachment.
 */
static void
mime_walk(struct mime_message *msg, GMimeObject *obj, const char *path,
    int depth)
{
	GMimeContentType	*ct;
	GMimeFormatOptions	*opts;
	GMimeStream		*null;
	GMimePart		*part;
	const char		*filename;
	char			*child;
	ssize_t			 n;
	int			 i, count;

	if (obj == NULL || depth > MIME_DEPTH_MAX)
		return;
	ct = g_mime_object_get_content_type(obj);

	if (GMIME_IS_MULTIPART(obj)) {
		count = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < count; i++) {
			if (*path == '\0')
				xasprintf(&child, "%d", i + 1);
			else
				xasprintf(&child, "%s.%d", path, i + 1);
			mime_walk(msg, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), child, depth + 1);
			free(child);
		}
		return;
	}
	if (*path == '\0')
		path = "1";

	if (GMIME_IS_MESSAGE_PART(obj)) {
		/*
		 * An attached message is one attachment, not more parts.
		 * GMime writes it out again rather than keep its octets;
		 * with CRLF line ends, as SMTP carries it, the size is the
		 * one it had in the input.
		 */
		opts = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(opts,
		    GMIME_NEWLINE_FORMAT_DOS);
		null = g_mime_stream_null_new();
		n = g_mime_object_write_content_to_stream(obj, opts, null);
		g_object_unref(null);
		g_mime_format_options_free(opts);
		filename = g_mime_object_get_content_disposition_parameter(obj,
		    "filename");
		mime_add_attachment(msg, path, filename, ct,
		    n < 0 ? 0 : (size_t)n);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	part = GMIME_PART(obj);

	if (!g_mime_part_is_attachment(part) && ct != NULL) {
		if (msg->text == NULL &&
		    g_mime_content_type_is_type(ct, "text", "plain")) {
			msg->text = mime_part_text(part);
			return;
		}
		if (msg->html == NULL &&
		    g_mime_content_type_is_type(ct, "text", "html")) {
			msg->html = mime_part_text(part);
			return;
		}
	}
	mime_add_attachment(msg, path, g_mime_part_get_filename(part), ct,
	    mime_content_size(part));
}

/*
 * Parse the whole message in data (len bytes) into msg, which is
 * overwritten; the caller frees it with mime_message_clear().  Headers
 * come in input order with decoded values; text and html are the first
 * inline text/plain and text/html parts in UTF-8; every other part is an
 * attachment.  Always returns 0: input with no header section at all is
 * shown as it is, the whole of it as the text.
 */
int
mime_message_parse(const char *data, size_t len, struct mime_message *msg)
{
	GMimeMessage	*gm;

	memset(msg, 0, sizeof *msg);
	if ((gm = mime_parse(data, len)) == NULL) {
		msg->text = mime_utf8(data, (gssize)len);
		return (0);
	}
	mime_add_headers(msg, gm);
	mime_walk(msg, g_mime_message_get_mime_part(gm), "", 0);
	g_object_unref(gm);
	return (0);
}

/* Free everything msg holds and empty it. */
void
mime_message_clear(struct mime_message *msg)
{
	size_t	 i;

	for (i = 0; i < msg->nheaders; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	free(msg->text);
	free(msg->html);
	for (i = 0; i < msg->nattachments; i++) {
		free(msg->attachments[i].part_id);
		free(msg->attachments[i].filename);
		free(msg->attachments[i].content_type);
	}
	free(msg->attachments);
	memset(msg, 0, sizeof *msg);
}
