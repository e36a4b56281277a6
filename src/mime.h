/*
 * mime.h - MIME parsing with GMime: display headers and message parts.
 *
 * Shell.  Header values are decoded (RFC 2047 encoded-words, folded lines
 * unfolded) into UTF-8 for display.  Nothing here decodes MIME by hand:
 * GMime does it.  Input is untrusted; a malformed message yields what
 * GMime can recover, never an error that loses the message.
 */
#ifndef MAILSINK_MIME_H
#define MAILSINK_MIME_H

#include <stddef.h>

/* The headers stored beside each message, decoded; NULL when absent. */
struct mime_headers {
	char	*subject;
	char	*from;
	char	*to;
	char	*cc;
	char	*date;
	char	*message_id;
};

#define MIME_SEARCH_TEXT_MAX	(16 * 1024)

struct mime_header {
	char	*name;
	char	*value;		/* decoded */
};

struct mime_attachment {
	char	*part_id;	/* "1.2" style path in the MIME tree */
	char	*filename;	/* may be NULL */
	char	*content_type;	/* "image/png" */
	size_t	 size;		/* decoded octets */
};

/* A whole message, parsed for `show`. */
struct mime_message {
	struct mime_header	*headers;	/* in order */
	size_t			 nheaders;
	char			*text;		/* first text/plain, or NULL */
	char			*html;		/* first text/html, or NULL */
	struct mime_attachment	*attachments;
	size_t			 nattachments;
};

void	mime_init(void);
void	mime_headers_parse(const char *, size_t, struct mime_headers *);
void	mime_headers_clear(struct mime_headers *);
char	*mime_search_text_get(const char *, size_t);
char	*mime_header_get(const char *, size_t, const char *);
int	mime_message_parse(const char *, size_t, struct mime_message *);
void	mime_message_clear(struct mime_message *);

#endif /* MAILSINK_MIME_H */
