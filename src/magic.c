/*
 * magic.c - the built-in "+smtpNNN" addresses.
 *
 * Pure core.  The local part of an address (everything before its last
 * '@', or all of it when there is none) is searched, case-insensitively,
 * for "+smtp" followed by exactly three digits that form a code from 400
 * to 599 and are followed by the end of the local part or a non-digit:
 * bob+smtp550@example.com and bob+smtp451-retry@example.com are magic,
 * bob+smtp5500@example.com and bob+smtp250@example.com are not.
 *
 * The reply carries the enhanced status code (RFC 3463) that a real
 * server would send for that code at that stage, so a client's handling
 * of, say, 5.1.1 versus 5.2.2 can be tested.  Codes without a natural
 * meaning get the class's generic X.0.0.  A 421 reply makes the session
 * close the connection, as RFC 5321 3.8 has it.  Only the MAIL and RCPT
 * stages are magic; a helper that is asked about any other stage says no.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "log.h"
#include "magic.h"

#define MAGIC_TAG	"+smtp"
#define MAGIC_TAG_LEN	5

struct magic_reply {
	int		 code;
	const char	*enh;	/* RFC 3463 enhanced status code */
	const char	*text;	/* what a real server would say */
};

/* RCPT: the recipient's mailbox is what the reply is about. */
static const struct magic_reply magic_rcpt[] = {
	{ 421, "4.3.2", "Service not available, closing transmission channel" },
	{ 450, "4.2.1", "Mailbox temporarily unavailable" },
	{ 451, "4.3.0", "Local error in processing" },
	{ 452, "4.2.2", "Mailbox full, try again later" },
	{ 550, "5.1.1", "Mailbox unavailable" },
	{ 551, "5.1.6", "User not local" },
	{ 552, "5.2.2", "Mailbox full" },
	{ 553, "5.1.3", "Mailbox name not allowed" },
	{ 554, "5.7.1", "Delivery not authorized" },
};

/* MAIL: the sender is what the reply is about (RFC 3463 X.1.7, X.1.8). */
static const struct magic_reply magic_mail[] = {
	{ 421, "4.3.2", "Service not available, closing transmission channel" },
	{ 450, "4.1.8", "Sender address rejected: domain not found" },
	{ 451, "4.3.0", "Local error in processing" },
	{ 452, "4.3.1", "Insufficient system storage" },
	{ 550, "5.1.8", "Sender address rejected" },
	{ 552, "5.3.4", "Message size exceeds fixed limit" },
	{ 553, "5.1.7", "Sender address invalid" },
	{ 554, "5.7.1", "Sender rejected: access denied" },
};

static const struct magic_reply magic_generic[] = {
	{ 400, "4.0.0", "Temporary failure" },
	{ 500, "5.0.0", "Permanent failure" },
};

/*
 * Return the magic reply code (400..599) in addr's local part, or 0 when
 * there is none.
 */
int
magic_code(const char *addr)
{
	const char	*end, *p, *d;
	int		 code;

	if ((end = strrchr(addr, '@')) == NULL)
		end = addr + strlen(addr);
	for (p = addr; end - p >= MAGIC_TAG_LEN + 3; p++) {
		if (strncasecmp(p, MAGIC_TAG, MAGIC_TAG_LEN) != 0)
			continue;
		d = p + MAGIC_TAG_LEN;
		if (!isdigit((unsigned char)d[0]) ||
		    !isdigit((unsigned char)d[1]) ||
		    !isdigit((unsigned char)d[2]))
			continue;
		if (d + 3 < end && isdigit((unsigned char)d[3]))
			continue;
		code = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
		if (code >= 400 && code <= 599)
			return (code);
	}
	return (0);
}

/*
 * If stage is MAIL or RCPT and addr is a magic address, fill *out with
 * its REPLY verdict and return 1; otherwise return 0 and leave *out
 * alone.  The text names the address and says it is magic, so nobody
 * mistakes the reply for a real server's; an address too long for
 * out->text is left out of it rather than cut.
 */
int
magic_check(enum smtp_stage stage, const char *addr, struct smtp_verdict *out)
{
	const struct magic_reply	*tab, *m = NULL;
	size_t				 n, i;
	int				 code, r;

	switch (stage) {
	case SMTP_STAGE_MAIL:
		tab = magic_mail;
		n = MS_NITEMS(magic_mail);
		break;
	case SMTP_STAGE_RCPT:
		tab = magic_rcpt;
		n = MS_NITEMS(magic_rcpt);
		break;
	default:
		return (0);
	}
	if ((code = magic_code(addr)) == 0)
		return (0);
	for (i = 0; i < n && m == NULL; i++) {
		if (tab[i].code == code)
			m = &tab[i];
	}
	if (m == NULL)
		m = &magic_generic[code < 500 ? 0 : 1];

	memset(out, 0, sizeof(*out));
	out->kind = SMTP_VERDICT_REPLY;
	out->code = code;
	if (strlcpy(out->enh, m->enh, sizeof(out->enh)) >= sizeof(out->enh))
		fatalx("%s: enhanced code %s", __func__, m->enh);
	r = snprintf(out->text, sizeof(out->text),
	    "<%s>: %s (mailsink magic address)", addr, m->text);
	if (r < 0 || (size_t)r >= sizeof(out->text))
		(void)snprintf(out->text, sizeof(out->text),
		    "%s (mailsink magic address)", m->text);
	return (1);
}
