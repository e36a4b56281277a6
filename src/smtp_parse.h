/*
 * smtp_parse.h - MAIL/RCPT argument, address and ESMTP parameter parsing.
 *
 * Pure core, no allocation: results go into fixed-size fields whose limits
 * come from RFC 5321 4.5.3.1, so hostile input cannot grow memory.
 *
 * Syntax accepted (RFC 5321 4.1.2, RFC 6531 3.3):
 *   MAIL FROM:<reverse-path> [SP param...]
 *   RCPT TO:<forward-path> [SP param...]
 * The verb has already been removed; the argument string starts at the
 * first byte after the verb ("FROM:<a@b> SIZE=10", usually with a leading
 * space).  Lenient forms real servers take are accepted and reported in
 * quirks: a space after the colon ("FROM: <a@b>"), a path without angle
 * brackets ("FROM:a@b", the path ends at the first space), and source
 * routes ("<@x,@y:a@b>", dropped as RFC 5321 4.1.1.3 allows).
 */
#ifndef MAILSINK_SMTP_PARSE_H
#define MAILSINK_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_PATH_MAX		256	/* RFC 5321 4.5.3.1.3 */
#define SMTP_LOCALPART_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2: xtext of a path */

/* Leniencies noted while parsing (bitwise or); stored with the session. */
#define SMTP_QUIRK_SPACE_AFTER_COLON	0x0001	/* "FROM: <a>" */
#define SMTP_QUIRK_NO_BRACKETS		0x0002	/* "FROM:a@b" */
#define SMTP_QUIRK_SOURCE_ROUTE		0x0004	/* "<@x:a@b>" */
#define SMTP_QUIRK_LOWERCASE_VERB	0x0008	/* "mail from:" (set by
						   session) */
#define SMTP_QUIRK_BARE_LF		0x0010	/* command ended by bare LF
						   (session) */
#define SMTP_QUIRK_SPACE_BEFORE_COLON	0x0020	/* "FROM :<a>" */

enum smtp_parse_status {
	SMTP_PARSE_OK = 0,
	SMTP_PARSE_SYNTAX,	/* no FROM:/TO:, junk: 501 5.5.4 */
	SMTP_PARSE_BAD_ADDR,	/* path syntax: 501 5.1.7 (MAIL) /
				   5.1.3 (RCPT) */
	SMTP_PARSE_BAD_PARAM,	/* known parameter, bad value: 501 5.5.4 */
	SMTP_PARSE_UNKNOWN_PARAM, /* parameter not supported: 555 5.5.4 */
	SMTP_PARSE_NEED_UTF8	/* non-ASCII path without SMTPUTF8: 553 5.6.7 */
};

enum smtp_body {
	SMTP_BODY_NONE = 0,	/* no BODY= given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME	/* only valid with BDAT (RFC 3030) */
};

enum smtp_ret {
	SMTP_RET_NONE = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS
};

/* NOTIFY= values (RFC 3461 4.1), bitwise or; 0 means not given. */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

struct smtp_mail_args {
	char		 addr[SMTP_PATH_MAX + 1];   /* "" for the null
						       path <> */
	int		 has_size;		    /* SIZE= given */
	uint64_t	 size;			    /* SIZE= value */
	enum smtp_body	 body;			    /* BODY= */
	int		 smtputf8;		    /* SMTPUTF8 given */
	enum smtp_ret	 ret;			    /* RET= */
	char		 envid[SMTP_ENVID_MAX + 1]; /* ENVID=, xtext as sent */
	int		 has_auth;		    /* AUTH= given */
	char		 auth[SMTP_PATH_MAX + 1];   /* AUTH= value as sent */
	int		 quirks;		    /* SMTP_QUIRK_* */
};

struct smtp_rcpt_args {
	char		 addr[SMTP_PATH_MAX + 1];   /* forward-path, no
						       brackets */
	int		 notify;		    /* SMTP_NOTIFY_* or 0 */
	char		 orcpt[SMTP_ORCPT_MAX + 1]; /* ORCPT= as sent */
	int		 quirks;		    /* SMTP_QUIRK_* */
};

enum smtp_parse_status smtp_parse_mail(const char *, struct smtp_mail_args *,
	    const char **);
enum smtp_parse_status smtp_parse_rcpt(const char *, int,
	    struct smtp_rcpt_args *, const char **);
int	smtp_parse_helo_name(const char *);
int	smtp_parse_xtext_valid(const char *);

#endif /* MAILSINK_SMTP_PARSE_H */
