/*
 * smtp_parse.c - MAIL FROM / RCPT TO arguments: paths and ESMTP parameters.
 *
 * The session hands over everything after the verb; this file splits it
 * into a path and parameters, checks the path against RFC 5321 4.1.2 (with
 * the RFC 6531 3.3 UTF-8 extensions) and checks each parameter's value
 * against the RFC that defines it.  Results go into the fixed-size fields of
 * struct smtp_mail_args / smtp_rcpt_args; nothing is allocated, so a hostile
 * client cannot make this code grow memory, and every length is checked
 * before a byte is copied.
 *
 * Leniency stops at the shape of the command: a space around the colon, a
 * missing pair of angle brackets and a source route are taken and reported
 * as quirks, as Postfix takes them.  What is inside the path must be a valid
 * address; a sink that stored "a..b@" would only hide the sender's bug.
 *
 * This file must never allocate, log or keep state between calls.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "smtp_parse.h"

#define SMTP_PARSE_LABEL_MAX	63	/* RFC 1035 2.3.4 */
#define SMTP_PARSE_SIZE_DIGITS	20	/* RFC 1870: 1*20DIGIT */
#define SMTP_PARSE_LITERAL_MAX	64	/* longest address literal we copy */

/* Which command a path or parameter belongs to. */
enum smtp_parse_cmd {
	SMTP_PARSE_CMD_MAIL,
	SMTP_PARSE_CMD_RCPT
};

/* What the address checks found besides validity. */
struct smtp_parse_path {
	const char	*errmsg;	/* reply text when invalid */
	int		 nonascii;	/* UTF-8 seen in the mailbox */
};

/*
 * One ESMTP parameter.  The checker gets the value (NULL when there was no
 * "=") and its length, and the output structure of the command; it returns
 * 0 or -1 for a bad value.
 */
struct smtp_parse_param {
	const char	*name;		/* keyword, any case matches */
	enum smtp_parse_cmd cmd;	/* MAIL or RCPT */
	int		 (*check)(const char *, size_t, void *);
	const char	*bad;		/* reply text for a bad value */
};

static int	smtp_parse_param_size(const char *, size_t, void *);
static int	smtp_parse_param_body(const char *, size_t, void *);
static int	smtp_parse_param_smtputf8(const char *, size_t, void *);
static int	smtp_parse_param_ret(const char *, size_t, void *);
static int	smtp_parse_param_envid(const char *, size_t, void *);
static int	smtp_parse_param_auth(const char *, size_t, void *);
static int	smtp_parse_param_notify(const char *, size_t, void *);
static int	smtp_parse_param_orcpt(const char *, size_t, void *);

static const struct smtp_parse_param smtp_parse_params[] = {
	{ "SIZE", SMTP_PARSE_CMD_MAIL, smtp_parse_param_size,
	    "Bad SIZE value" },
	{ "BODY", SMTP_PARSE_CMD_MAIL, smtp_parse_param_body,
	    "Bad BODY value" },
	{ "SMTPUTF8", SMTP_PARSE_CMD_MAIL, smtp_parse_param_smtputf8,
	    "SMTPUTF8 takes no value" },
	{ "RET", SMTP_PARSE_CMD_MAIL, smtp_parse_param_ret,
	    "Bad RET value" },
	{ "ENVID", SMTP_PARSE_CMD_MAIL, smtp_parse_param_envid,
	    "Bad ENVID value" },
	{ "AUTH", SMTP_PARSE_CMD_MAIL, smtp_parse_param_auth,
	    "Bad AUTH value" },
	{ "NOTIFY", SMTP_PARSE_CMD_RCPT, smtp_parse_param_notify,
	    "Bad NOTIFY value" },
	{ "ORCPT", SMTP_PARSE_CMD_RCPT, smtp_parse_param_orcpt,
	    "Bad ORCPT value" },
};

/* Space or tab: what separates words on a command line. */
static int
smtp_parse_is_wsp(char c)
{
	return (c == ' ' || c == '\t');
}

/* ASCII letter; isalpha() would follow the locale. */
static int
smtp_parse_is_alpha(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/* ASCII digit. */
static int
smtp_parse_is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

/* An upper-case hex digit, as xtext's hexchar wants (RFC 3461 4). */
static int
smtp_parse_is_hexup(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
}

/* atext, RFC 5322 3.2.3 as used by RFC 5321 4.1.2. */
static int
smtp_parse_is_atext(unsigned char c)
{
	if (smtp_parse_is_alpha(c) || smtp_parse_is_digit(c))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * Return the length (2 to 4) of the well-formed UTF-8 sequence at s, which
 * has n bytes left, or 0 if it is not one: overlong forms, surrogates and
 * code points past U+10FFFF are refused (RFC 3629 4).
 */
static size_t
smtp_parse_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
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
 * Step over one non-ASCII character at s[*i] of an n-byte string: 0 and
 * *i advanced if it is well-formed UTF-8, -1 if not.
 */
static int
smtp_parse_skip_utf8(const char *s, size_t n, size_t *i, int *nonascii)
{
	size_t	len;

	len = smtp_parse_utf8_len((const unsigned char *)s + *i, n - *i);
	if (len == 0)
		return (-1);
	*i += len;
	*nonascii = 1;
	return (0);
}

/*
 * Check a Domain (RFC 5321 4.1.2: sub-domains of letters, digits and
 * inner hyphens, RFC 6531 3.3: or U-labels) of n bytes: 0 or -1.  One-label
 * names such as "localhost" are fine.
 */
static int
smtp_parse_domain_name(const char *s, size_t n, int *nonascii)
{
	size_t		i = 0, start;
	unsigned char	c;

	if (n == 0)
		return (-1);
	for (;;) {
		start = i;
		while (i < n && s[i] != '.') {
			c = (unsigned char)s[i];
			if (c >= 0x80) {
				if (smtp_parse_skip_utf8(s, n, &i,
				    nonascii) == -1)
					return (-1);
				continue;
			}
			if (!smtp_parse_is_alpha(c) &&
			    !smtp_parse_is_digit(c) && c != '-')
				return (-1);
			i++;
		}
		if (i == start || i - start > SMTP_PARSE_LABEL_MAX)
			return (-1);
		if (s[start] == '-' || s[i - 1] == '-')
			return (-1);
		if (i == n)
			return (0);
		i++;		/* the dot; a trailing one leaves "" next */
	}
}

/*
 * Check an address literal without its brackets (RFC 5321 4.1.3): an IPv4
 * dotted quad or "IPv6:" and an IPv6 address.  General literals with other
 * tags are refused: none is registered.
 */
static int
smtp_parse_domain_literal(const char *s, size_t n)
{
	char		 tmp[SMTP_PARSE_LITERAL_MAX];
	unsigned char	 addr[sizeof(struct in6_addr)];
	int		 af = AF_INET;

	if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		af = AF_INET6;
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(tmp))
		return (-1);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return (inet_pton(af, tmp, addr) == 1 ? 0 : -1);
}

/*
 * Check the local part at s (n bytes left) and return its length, or 0 if
 * it is not a Dot-string or Quoted-string (RFC 5321 4.1.2).  Quoted strings
 * may hold spaces and quoted pairs; RFC 6531 3.3 adds UTF-8 to both forms.
 */
static size_t
smtp_parse_local_part(const char *s, size_t n, int *nonascii)
{
	size_t		i = 0, atom;
	unsigned char	c;

	if (n > 0 && s[0] == '"') {
		for (i = 1; i < n; i++) {
			c = (unsigned char)s[i];
			if (c == '"')
				return (i + 1);
			if (c == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				i++;
				if (i == n || s[i] < 32 || s[i] > 126)
					return (0);
			} else if (c >= 0x80) {
				if (smtp_parse_skip_utf8(s, n, &i,
				    nonascii) == -1)
					return (0);
				i--;
			} else if (c < 32 || c > 126)
				return (0);
		}
		return (0);	/* no closing quote */
	}
	for (;;) {
		atom = i;
		while (i < n) {
			c = (unsigned char)s[i];
			if (c >= 0x80) {
				if (smtp_parse_skip_utf8(s, n, &i,
				    nonascii) == -1)
					return (0);
			} else if (smtp_parse_is_atext(c))
				i++;
			else
				break;
		}
		if (i == atom)
			return (0);	/* empty atom: "", ".a", "a..b", "a." */
		if (i == n || s[i] != '.')
			return (i);
		i++;
	}
}

/*
 * Check a path's contents (between the brackets, n bytes) and copy the
 * mailbox, without any source route, to addr.  "" is the null path, valid
 * only for MAIL.  RCPT also takes a bare "postmaster" (RFC 5321 4.1.1.3).
 */
static enum smtp_parse_status
smtp_parse_path(const char *s, size_t n, enum smtp_parse_cmd cmd,
    char *addr, int *quirks, struct smtp_parse_path *pp)
{
	const char	*bad, *p, *route;
	size_t		 i, local, dom;

	bad = cmd == SMTP_PARSE_CMD_MAIL ? "Bad sender address syntax" :
	    "Bad recipient address syntax";
	pp->errmsg = bad;
	pp->nonascii = 0;

	if (n == 0) {
		if (cmd == SMTP_PARSE_CMD_MAIL) {
			addr[0] = '\0';
			return (SMTP_PARSE_OK);
		}
		pp->errmsg = "Null recipient not allowed";
		return (SMTP_PARSE_BAD_ADDR);
	}

	/*
	 * RFC 5321 4.1.1.3 and C: a source route "@a,@b:" is accepted and
	 * ignored.  Its domains must still be domains.
	 */
	route = s;
	if (s[0] == '@') {
		p = memchr(s, ':', n);
		if (p == NULL)
			return (SMTP_PARSE_BAD_ADDR);
		i = 0;
		while (s + i < p) {
			if (s[i] != '@')
				return (SMTP_PARSE_BAD_ADDR);
			i++;
			dom = i;
			while (s + i < p && s[i] != ',')
				i++;
			if (smtp_parse_domain_name(s + dom, i - dom,
			    &pp->nonascii) == -1)
				return (SMTP_PARSE_BAD_ADDR);
			if (s + i < p) {
				i++;	/* ',' must lead to another '@' */
				if (s + i == p)
					return (SMTP_PARSE_BAD_ADDR);
			}
		}
		*quirks |= SMTP_QUIRK_SOURCE_ROUTE;
		n -= (size_t)(p + 1 - s);
		s = p + 1;
	}

	local = smtp_parse_local_part(s, n, &pp->nonascii);
	if (local == 0)
		return (SMTP_PARSE_BAD_ADDR);
	if (local > SMTP_LOCALPART_MAX) {
		pp->errmsg = "Local part too long";
		return (SMTP_PARSE_BAD_ADDR);
	}
	if (local == n) {
		if (cmd == SMTP_PARSE_CMD_RCPT && n == 10 &&
		    strncasecmp(s, "postmaster", n) == 0)
			goto copy;
		return (SMTP_PARSE_BAD_ADDR);	/* "<user>": no domain */
	}
	if (s[local] != '@')
		return (SMTP_PARSE_BAD_ADDR);
	dom = n - local - 1;
	p = s + local + 1;
	if (dom >= 2 && p[0] == '[' && p[dom - 1] == ']') {
		if (smtp_parse_domain_literal(p + 1, dom - 2) == -1)
			return (SMTP_PARSE_BAD_ADDR);
	} else if (smtp_parse_domain_name(p, dom, &pp->nonascii) == -1)
		return (SMTP_PARSE_BAD_ADDR);
	if (dom > SMTP_DOMAIN_MAX) {
		pp->errmsg = "Domain too long";
		return (SMTP_PARSE_BAD_ADDR);
	}

copy:
	/*
	 * RFC 5321 4.5.3.1.3 counts the whole path, "<", route, mailbox and
	 * ">", against 256 octets; a path sent without brackets is counted as
	 * if it had them, so the leniency does not buy a longer address.
	 */
	if ((size_t)(s + n - route) + 2 > SMTP_PATH_MAX) {
		pp->errmsg = "Address too long";
		return (SMTP_PARSE_BAD_ADDR);
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	return (SMTP_PARSE_OK);
}

/*
 * Find the '>' that closes a path starting after its '<', skipping any '>'
 * inside a quoted local part; NULL if there is none.
 */
static const char *
smtp_parse_path_end(const char *p)
{
	int	quoted = 0;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			return (p);
	}
	return (NULL);
}

/*
 * Split "FROM:<path> params" (or TO:) at args.  On success *path and *pathlen
 * give the path contents and *rest the parameters (possibly "").
 */
static enum smtp_parse_status
smtp_parse_split(const char *args, const char *word, const char **path,
    size_t *pathlen, const char **rest, int *quirks, const char **errmsg)
{
	const char	*p = args, *end;
	size_t		 wlen = strlen(word);

	while (smtp_parse_is_wsp(*p))
		p++;
	if (strncasecmp(p, word, wlen) != 0)
		return (SMTP_PARSE_SYNTAX);
	p += wlen;
	if (smtp_parse_is_wsp(*p)) {
		*quirks |= SMTP_QUIRK_SPACE_BEFORE_COLON;
		while (smtp_parse_is_wsp(*p))
			p++;
	}
	if (*p != ':')
		return (SMTP_PARSE_SYNTAX);
	p++;
	if (smtp_parse_is_wsp(*p)) {
		*quirks |= SMTP_QUIRK_SPACE_AFTER_COLON;
		while (smtp_parse_is_wsp(*p))
			p++;
	}

	if (*p == '<') {
		if ((end = smtp_parse_path_end(p + 1)) == NULL) {
			*errmsg = "Missing '>' after address";
			return (SMTP_PARSE_BAD_ADDR);
		}
		*path = p + 1;
		*pathlen = (size_t)(end - p - 1);
		p = end + 1;
	} else {
		/* Postfix-style leniency: the path is the next word. */
		*path = p;
		while (*p != '\0' && !smtp_parse_is_wsp(*p))
			p++;
		*pathlen = (size_t)(p - *path);
		if (*pathlen == 0)
			return (SMTP_PARSE_SYNTAX);
		*quirks |= SMTP_QUIRK_NO_BRACKETS;
	}
	if (*p != '\0' && !smtp_parse_is_wsp(*p)) {
		*errmsg = "Junk after address";
		return (SMTP_PARSE_SYNTAX);
	}
	*rest = p;
	return (SMTP_PARSE_OK);
}

/*
 * Parse the parameters in p for cmd into out.  Keywords are
 * case-insensitive (RFC 5321 4.1.2); each may appear once.
 */
static enum smtp_parse_status
smtp_parse_params_all(const char *p, enum smtp_parse_cmd cmd, void *out,
    const char **errmsg)
{
	const struct smtp_parse_param	*sp;
	const char			*kw, *val;
	size_t				 klen, vlen, i;
	unsigned int			 seen = 0;

	for (;;) {
		while (smtp_parse_is_wsp(*p))
			p++;
		if (*p == '\0')
			return (SMTP_PARSE_OK);

		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		kw = p;
		while (smtp_parse_is_alpha((unsigned char)*p) ||
		    smtp_parse_is_digit((unsigned char)*p) ||
		    (*p == '-' && p != kw))
			p++;
		klen = (size_t)(p - kw);
		val = NULL;
		vlen = 0;
		if (*p == '=') {
			val = ++p;
			while (*p != '\0' && !smtp_parse_is_wsp(*p))
				p++;
			vlen = (size_t)(p - val);
		}
		if (klen == 0 || (*p != '\0' && !smtp_parse_is_wsp(*p))) {
			*errmsg = "Bad parameter syntax";
			return (SMTP_PARSE_SYNTAX);
		}

		sp = NULL;
		for (i = 0; i < MS_NITEMS(smtp_parse_params); i++) {
			if (smtp_parse_params[i].cmd == cmd &&
			    strlen(smtp_parse_params[i].name) == klen &&
			    strncasecmp(smtp_parse_params[i].name, kw,
			    klen) == 0) {
				sp = &smtp_parse_params[i];
				break;
			}
		}
		if (sp == NULL) {
			*errmsg = "Unknown parameter";
			return (SMTP_PARSE_UNKNOWN_PARAM);
		}
		if (seen & (1U << i)) {
			*errmsg = "Duplicate parameter";
			return (SMTP_PARSE_BAD_PARAM);
		}
		seen |= 1U << i;
		if (sp->check(val, vlen, out) == -1) {
			*errmsg = sp->bad;
			return (SMTP_PARSE_BAD_PARAM);
		}
	}
}

/* Compare the n-byte value v with word, ignoring case. */
static int
smtp_parse_value_is(const char *v, size_t n, const char *word)
{
	return (strlen(word) == n && strncasecmp(v, word, n) == 0);
}

/* Check an n-byte xtext (RFC 3461 4) without needing a NUL after it. */
static int
smtp_parse_xtext_check(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			/* hexchar = "+" 2(DIGIT / "A"-"F"): upper case */
			if (n - i < 3 || !smtp_parse_is_hexup(s[i + 1]) ||
			    !smtp_parse_is_hexup(s[i + 2]))
				return (-1);
			i += 2;
		} else if (s[i] < 33 || s[i] > 126 || s[i] == '=')
			return (-1);
	}
	return (0);
}

/* SIZE=1*20DIGIT (RFC 1870 3), fitting uint64_t. */
static int
smtp_parse_param_size(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;
	uint64_t		 size = 0;
	size_t			 i;
	unsigned int		 d;

	if (v == NULL || n == 0 || n > SMTP_PARSE_SIZE_DIGITS)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!smtp_parse_is_digit((unsigned char)v[i]))
			return (-1);
		d = (unsigned int)(v[i] - '0');
		if (size > (UINT64_MAX - d) / 10)
			return (-1);
		size = size * 10 + d;
	}
	m->has_size = 1;
	m->size = size;
	return (0);
}

/* BODY=7BIT|8BITMIME (RFC 6152 2) or BINARYMIME (RFC 3030 3). */
static int
smtp_parse_param_body(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;

	if (v == NULL)
		return (-1);
	if (smtp_parse_value_is(v, n, "7BIT"))
		m->body = SMTP_BODY_7BIT;
	else if (smtp_parse_value_is(v, n, "8BITMIME"))
		m->body = SMTP_BODY_8BITMIME;
	else if (smtp_parse_value_is(v, n, "BINARYMIME"))
		m->body = SMTP_BODY_BINARYMIME;
	else
		return (-1);
	return (0);
}

/* SMTPUTF8, with no value (RFC 6531 3.4). */
static int
smtp_parse_param_smtputf8(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;

	(void)n;
	if (v != NULL)
		return (-1);
	m->smtputf8 = 1;
	return (0);
}

/* RET=FULL|HDRS (RFC 3461 4.3). */
static int
smtp_parse_param_ret(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;

	if (v == NULL)
		return (-1);
	if (smtp_parse_value_is(v, n, "FULL"))
		m->ret = SMTP_RET_FULL;
	else if (smtp_parse_value_is(v, n, "HDRS"))
		m->ret = SMTP_RET_HDRS;
	else
		return (-1);
	return (0);
}

/* ENVID=xtext of at most 100 characters (RFC 3461 4.4). */
static int
smtp_parse_param_envid(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;

	if (v == NULL || n == 0 || n > SMTP_ENVID_MAX ||
	    smtp_parse_xtext_check(v, n) == -1)
		return (-1);
	memcpy(m->envid, v, n);
	m->envid[n] = '\0';
	return (0);
}

/* AUTH=xtext or AUTH=<> (RFC 4954 5). */
static int
smtp_parse_param_auth(const char *v, size_t n, void *out)
{
	struct smtp_mail_args	*m = out;

	if (v == NULL || n == 0 || n > SMTP_PATH_MAX)
		return (-1);
	if (!smtp_parse_value_is(v, n, "<>") &&
	    smtp_parse_xtext_check(v, n) == -1)
		return (-1);
	m->has_auth = 1;
	memcpy(m->auth, v, n);
	m->auth[n] = '\0';
	return (0);
}

/*
 * NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1).
 * NEVER stands alone; a value named twice is refused too.
 */
static int
smtp_parse_param_notify(const char *v, size_t n, void *out)
{
	struct smtp_rcpt_args	*r = out;
	size_t			 i = 0, start;
	int			 bit, notify = 0;

	if (v == NULL || n == 0)
		return (-1);
	for (;;) {
		start = i;
		while (i < n && v[i] != ',')
			i++;
		if (smtp_parse_value_is(v + start, i - start, "NEVER"))
			bit = SMTP_NOTIFY_NEVER;
		else if (smtp_parse_value_is(v + start, i - start, "SUCCESS"))
			bit = SMTP_NOTIFY_SUCCESS;
		else if (smtp_parse_value_is(v + start, i - start, "FAILURE"))
			bit = SMTP_NOTIFY_FAILURE;
		else if (smtp_parse_value_is(v + start, i - start, "DELAY"))
			bit = SMTP_NOTIFY_DELAY;
		else
			return (-1);
		if (notify & bit)
			return (-1);
		notify |= bit;
		if (i == n)
			break;
		i++;		/* the comma; "a," leaves an empty item */
	}
	if ((notify & SMTP_NOTIFY_NEVER) && notify != SMTP_NOTIFY_NEVER)
		return (-1);
	r->notify = notify;
	return (0);
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2), addr-type an atom like rfc822. */
static int
smtp_parse_param_orcpt(const char *v, size_t n, void *out)
{
	struct smtp_rcpt_args	*r = out;
	size_t			 i;

	if (v == NULL || n == 0 || n > SMTP_ORCPT_MAX)
		return (-1);
	for (i = 0; i < n && v[i] != ';'; i++) {
		if (!smtp_parse_is_atext((unsigned char)v[i]))
			return (-1);
	}
	if (i == 0 || i == n || smtp_parse_xtext_check(v + i + 1,
	    n - i - 1) == -1)
		return (-1);
	memcpy(r->orcpt, v, n);
	r->orcpt[n] = '\0';
	return (0);
}

/*
 * Parse the arguments of MAIL (everything after the verb) into *out, which
 * is cleared first.  Returns SMTP_PARSE_OK or the failure; *errmsg (if not
 * NULL) is then set to a short static reply text.  On failure *out holds
 * partial results and must not be used.  Non-ASCII in the path needs
 * SMTPUTF8 among these same parameters (RFC 6531 3.3), otherwise
 * SMTP_PARSE_NEED_UTF8; errors in the path are reported before errors in
 * the parameters.
 */
enum smtp_parse_status
smtp_parse_mail(const char *args, struct smtp_mail_args *out,
    const char **errmsg)
{
	struct smtp_parse_path	 pp;
	enum smtp_parse_status	 st;
	const char		*path, *rest, *msg;
	size_t			 pathlen;

	memset(out, 0, sizeof(*out));
	msg = "Syntax: MAIL FROM:<address>";
	st = smtp_parse_split(args, "FROM", &path, &pathlen, &rest,
	    &out->quirks, &msg);
	if (st == SMTP_PARSE_OK) {
		st = smtp_parse_path(path, pathlen, SMTP_PARSE_CMD_MAIL,
		    out->addr, &out->quirks, &pp);
		if (st != SMTP_PARSE_OK)
			msg = pp.errmsg;
	}
	if (st == SMTP_PARSE_OK)
		st = smtp_parse_params_all(rest, SMTP_PARSE_CMD_MAIL, out,
		    &msg);
	if (st == SMTP_PARSE_OK && pp.nonascii && !out->smtputf8) {
		msg = "Non-ASCII address needs SMTPUTF8";
		st = SMTP_PARSE_NEED_UTF8;
	}
	if (errmsg != NULL)
		*errmsg = st == SMTP_PARSE_OK ? "Ok" : msg;
	return (st);
}

/*
 * Parse the arguments of RCPT (everything after the verb) into *out, which
 * is cleared first; smtputf8 says whether the transaction's MAIL carried
 * SMTPUTF8.  Return values and *errmsg as for smtp_parse_mail().  The null
 * path is refused; "<postmaster>" without a domain is taken.
 */
enum smtp_parse_status
smtp_parse_rcpt(const char *args, int smtputf8, struct smtp_rcpt_args *out,
    const char **errmsg)
{
	struct smtp_parse_path	 pp;
	enum smtp_parse_status	 st;
	const char		*path, *rest, *msg;
	size_t			 pathlen;

	memset(out, 0, sizeof(*out));
	msg = "Syntax: RCPT TO:<address>";
	st = smtp_parse_split(args, "TO", &path, &pathlen, &rest,
	    &out->quirks, &msg);
	if (st == SMTP_PARSE_OK) {
		st = smtp_parse_path(path, pathlen, SMTP_PARSE_CMD_RCPT,
		    out->addr, &out->quirks, &pp);
		if (st != SMTP_PARSE_OK)
			msg = pp.errmsg;
	}
	if (st == SMTP_PARSE_OK)
		st = smtp_parse_params_all(rest, SMTP_PARSE_CMD_RCPT, out,
		    &msg);
	if (st == SMTP_PARSE_OK && pp.nonascii && !smtputf8) {
		msg = "Non-ASCII address needs SMTPUTF8";
		st = SMTP_PARSE_NEED_UTF8;
	}
	if (errmsg != NULL)
		*errmsg = st == SMTP_PARSE_OK ? "Ok" : msg;
	return (st);
}

/*
 * Return 1 if name will do as the argument of EHLO/HELO, else 0.  RFC 5321
 * 4.1.1.1 asks for a domain or an address literal, but real clients send
 * "localhost", bare IPs and names with underscores, and a sink must talk
 * to them: only an empty name or one with spaces or control characters is
 * refused.
 */
int
smtp_parse_helo_name(const char *name)
{
	const unsigned char	*p;

	if (name == NULL || *name == '\0')
		return (0);
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return (0);
	}
	return (1);
}

/*
 * Return 1 if s is valid xtext (RFC 3461 4): characters 33 to 126 except
 * "+" and "=", and "+" followed by two upper-case hex digits.  The empty
 * string is valid, as the grammar (*xchar) says.
 */
int
smtp_parse_xtext_valid(const char *s)
{
	return (smtp_parse_xtext_check(s, strlen(s)) == 0);
}
