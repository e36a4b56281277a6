/*
 * rules_parse.c - the reject-rule grammar: one line of text to a struct
 * rule, or an error naming the column and the offending word.
 *
 * Pure core: no I/O.  The caller (conf.c's loader, --rule) hands in the
 * text after the "rule" keyword; a fuzzer can drive this file directly.
 *
 *	rule   = STAGE MATCH ACTION *(modifier)
 *	STAGE  = connect | helo | auth | mail | rcpt | data
 *	MATCH  = "*" | glob                    (helo, auth, mail, rcpt)
 *	       | "*" | address | address/len   (connect)
 *	       | "*" | HEADER=glob             (data; HEADER [A-Za-z0-9-]+)
 *	ACTION = reply CODE [X.Y.Z] "TEXT" | disconnect | delay DURATION
 *	       | accept
 *	modifier = probability P | times N     (each at most once, any order)
 *
 * Words are separated by blanks (spaces or tabs).  A double-quoted part of
 * a word may hold blanks, with \" and \\ as its only escapes, and is glued
 * to what touches it as in a shell, so "Subject=*a b*" and Subject="*a b*"
 * are the same word.  Keywords are lower case, like the config file's
 * directives.  MATCH "*", quoted or not, is the match-anything of every
 * stage.  Globs are case-insensitive, so they are stored in lower case;
 * a data rule's header name is kept as written for the header lookup,
 * which must ignore case (RFC 5322 1.2.2).
 *
 * The reply TEXT must be one double-quoted string of printable ASCII (RFC
 * 5321 4.2's textstring), at most RULES_PARSE_TEXT_MAX bytes, and the
 * enhanced code must have the class of the reply code (RFC 3463 2: a 4xx
 * reply carries a 4.X.X code), or a client would see a reply that
 * contradicts itself.
 *
 * Every error is "col N: problem 'word'" with N the 1-based column of the
 * word at fault; for a missing word it is the column of the word it should
 * have followed.  Words in messages are shown escaped and cut short, since
 * they may come from a command line.
 *
 * A parsed rule also carries canonical text, rebuilt from the parsed
 * fields: blanks, quoting, modifier order, the case of globs and the
 * spelling of addresses and durations do not change it.  rules_reload()
 * compares it to decide which rules are unchanged.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compat.h"
#include "log.h"
#include "rules_parse.h"
#include "units.h"
#include "xmalloc.h"

#define RULES_PARSE_SHOW_MAX	40	/* bytes of a word in a message */

/* One word of the rule. */
struct rules_parse_word {
	char		*s;		/* unescaped, NUL-terminated */
	const char	*raw;		/* as written, inside the text */
	size_t		 rawlen;
	size_t		 col;		/* 1-based column of raw */
	int		 quoted;	/* exactly one "..." string */
	int		 anyquote;	/* some part of it was quoted */
};

struct rules_parse_state {
	const char		*text;
	struct rules_parse_word	*w;
	size_t			 nw;
	char			*cause;	/* first error, owned */
};

static const char *rules_parse_stages[] = {
	"connect", "helo", "auth", "mail", "rcpt", "data"
};

static int	rules_parse_fail(struct rules_parse_state *, size_t,
		    const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));
static int	rules_parse_failw(struct rules_parse_state *,
		    const struct rules_parse_word *, const char *);
static char	*rules_parse_show(const char *, size_t);
static int	rules_parse_quoted(struct rules_parse_state *, size_t *,
		    struct buf *);
static int	rules_parse_split(struct rules_parse_state *);
static int	rules_parse_match(struct rules_parse_state *, size_t *,
		    struct rule *);
static int	rules_parse_reply(struct rules_parse_state *, size_t *,
		    struct rule *);
static int	rules_parse_enh(const char *, int *);
static int	rules_parse_action(struct rules_parse_state *, size_t *,
		    struct rule *);
static int	rules_parse_modifiers(struct rules_parse_state *, size_t,
		    struct rule *);
static void	rules_parse_lower(char *);
static void	rules_parse_quote(struct buf *, const char *, int);
static void	rules_parse_canon(struct rule *);

/* Set the state's cause to "col N: ..." (first error wins); returns -1. */
static int
rules_parse_fail(struct rules_parse_state *st, size_t col, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	if (st->cause != NULL)
		return (-1);
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&st->cause, "col %zu: %s", col, msg);
	free(msg);
	return (-1);
}

/* Fail with "col N: problem 'word'" for word w. */
static int
rules_parse_failw(struct rules_parse_state *st,
    const struct rules_parse_word *w, const char *problem)
{
	char	*show;

	show = rules_parse_show(w->raw, w->rawlen);
	(void)rules_parse_fail(st, w->col, "%s '%s'", problem, show);
	free(show);
	return (-1);
}

/*
 * Return len bytes of s for a message: bytes outside printable ASCII as
 * \xNN, and cut to RULES_PARSE_SHOW_MAX with "..." after.  Caller frees.
 */
static char *
rules_parse_show(const char *s, size_t len)
{
	struct buf	b;
	size_t		i;
	unsigned char	c;

	buf_init(&b, 0);
	for (i = 0; i < len && i < RULES_PARSE_SHOW_MAX; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			(void)buf_addf(&b, "\\x%02x", c);
		else
			(void)buf_add(&b, &s[i], 1);
	}
	if (len > RULES_PARSE_SHOW_MAX)
		(void)buf_adds(&b, "...");
	if (b.data == NULL)
		return (xstrdup(""));
	return (b.data);
}

/*
 * Read the quoted string that opens at *pos into b, unescaping \" and
 * \\, and leave *pos after its closing quote.  Returns 0, or -1 for an
 * unterminated string or any other escape.
 */
static int
rules_parse_quoted(struct rules_parse_state *st, size_t *pos, struct buf *b)
{
	const char	*t = st->text;
	size_t		 q = *pos, p = *pos + 1;
	char		*show;
	int		 r;

	for (;;) {
		if (t[p] == '\0' || (t[p] == '\\' && t[p + 1] == '\0'))
			return (rules_parse_fail(st, q + 1,
			    "unterminated string"));
		if (t[p] == '"')
			break;
		if (t[p] == '\\') {
			if (t[p + 1] != '"' && t[p + 1] != '\\') {
				show = rules_parse_show(&t[p], 2);
				r = rules_parse_fail(st, p + 1,
				    "bad escape in string '%s'", show);
				free(show);
				return (r);
			}
			p++;
		}
		(void)buf_add(b, &t[p++], 1);
	}
	*pos = p + 1;
	return (0);
}

/*
 * Split the text into words (the file comment says how quotes work).
 * Returns 0, or -1 for an unterminated string or a bad escape.
 */
static int
rules_parse_split(struct rules_parse_state *st)
{
	const char		*t = st->text;
	size_t			 pos = 0, start, q;
	struct rules_parse_word	*w;
	struct buf		 b;

	for (;;) {
		while (t[pos] == ' ' || t[pos] == '\t')
			pos++;
		if (t[pos] == '\0')
			return (0);
		st->w = xreallocarray(st->w, st->nw + 1, sizeof(*st->w));
		w = &st->w[st->nw++];
		memset(w, 0, sizeof(*w));
		start = pos;
		buf_init(&b, 0);
		while (t[pos] != '\0' && t[pos] != ' ' && t[pos] != '\t') {
			if (t[pos] != '"') {
				(void)buf_add(&b, &t[pos++], 1);
				continue;
			}
			w->anyquote = 1;
			q = pos;
			if (rules_parse_quoted(st, &pos, &b) == -1) {
				buf_clear(&b);
				return (-1);
			}
			/* One quoted string and nothing glued to it. */
			if (q == start && (t[pos] == '\0' || t[pos] == ' ' ||
			    t[pos] == '\t'))
				w->quoted = 1;
		}
		w->s = b.data != NULL ? b.data : xstrdup("");
		w->raw = t + start;
		w->rawlen = pos - start;
		w->col = start + 1;
	}
}

/* ASCII lower case in place (globs and header names are case-blind). */
static void
rules_parse_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Parse the MATCH word after the stage at *i; advance *i past it. */
static int
rules_parse_match(struct rules_parse_state *st, size_t *i, struct rule *r)
{
	const struct rules_parse_word	*w;
	const char			*why, *eq;
	size_t				 n;

	if (*i >= st->nw)
		return (rules_parse_failw(st, &st->w[*i - 1],
		    "missing match after"));
	w = &st->w[(*i)++];
	if (strcmp(w->s, "*") == 0) {
		r->match = RULE_MATCH_ANY;
		return (0);
	}
	switch (r->stage) {
	case SMTP_STAGE_CONNECT:
		if (netaddr_parse(w->s, &r->net, &why) == 0) {
			r->match = RULE_MATCH_NET;
			return (0);
		}
		if (strcmp(why, "bad address") == 0)
			why = "connect match must be *, an address or a CIDR";
		return (rules_parse_failw(st, w, why));
	case SMTP_STAGE_DATA:
		if ((eq = strchr(w->s, '=')) == NULL)
			return (rules_parse_failw(st, w,
			    "data match must be * or HEADER=GLOB"));
		n = (size_t)(eq - w->s);
		if (n == 0 || strspn(w->s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
			return (rules_parse_failw(st, w, "bad header name"));
		r->match = RULE_MATCH_HEADER;
		r->header = xstrndup(w->s, n);
		r->glob = xstrdup(eq + 1);
		rules_parse_lower(r->glob);
		return (0);
	default:
		r->match = RULE_MATCH_GLOB;
		r->glob = xstrdup(w->s);
		rules_parse_lower(r->glob);
		return (0);
	}
}

/*
 * Check an enhanced status code (RFC 3463 2): class 2, 4 or 5, then
 * subject and detail of 1-3 digits without a leading zero.  Sets *class;
 * returns 0 or -1.
 */
static int
rules_parse_enh(const char *s, int *class)
{
	size_t	n;
	int	part;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return (-1);
	*class = s[0] - '0';
	s += 2;
	for (part = 0; part < 2; part++) {
		n = strspn(s, "0123456789");
		if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
			return (-1);
		s += n;
		if (part == 0 && *s++ != '.')
			return (-1);
	}
	return (*s == '\0' ? 0 : -1);
}

/* Parse "CODE [X.Y.Z] TEXT" after "reply" (word *i - 1). */
static int
rules_parse_reply(struct rules_parse_state *st, size_t *i, struct rule *r)
{
	const struct rules_parse_word	*w;
	const char			*s;
	int				 class;

	if (*i >= st->nw)
		return (rules_parse_failw(st, &st->w[*i - 1],
		    "missing reply code after"));
	w = &st->w[(*i)++];
	s = w->s;
	if (strlen(s) != 3 || strspn(s, "0123456789") != 3)
		return (rules_parse_failw(st, w, "bad reply code"));
	r->code = atoi(s);
	if (r->code < 400 || r->code > 599)
		return (rules_parse_failw(st, w,
		    "reply code must be 4xx or 5xx"));

	if (*i >= st->nw)
		return (rules_parse_failw(st, w, "missing reply text after"));
	w = &st->w[(*i)++];
	if (!w->anyquote && isdigit((unsigned char)w->s[0])) {
		if (rules_parse_enh(w->s, &class) == -1)
			return (rules_parse_failw(st, w,
			    "bad enhanced code"));
		if (class != r->code / 100)
			return (rules_parse_fail(st, w->col, "enhanced code %s"
			    " does not match reply code %d", w->s, r->code));
		if (strlcpy(r->enh, w->s, sizeof(r->enh)) >= sizeof(r->enh))
			fatalx("%s: enhanced code %s", __func__, w->s);
		if (*i >= st->nw)
			return (rules_parse_failw(st, w,
			    "missing reply text after"));
		w = &st->w[(*i)++];
	}
	if (!w->quoted)
		return (rules_parse_failw(st, w,
		    "reply text must be double-quoted"));
	if (w->s[0] == '\0')
		return (rules_parse_failw(st, w, "empty reply text"));
	if (strlen(w->s) > RULES_PARSE_TEXT_MAX)
		return (rules_parse_failw(st, w,
		    "reply text longer than 200 characters"));
	for (s = w->s; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return (rules_parse_failw(st, w,
			    "reply text must be printable ASCII"));
	}
	r->text = xstrdup(w->s);
	return (0);
}

/* Parse the ACTION at *i and its arguments; advance *i past them. */
static int
rules_parse_action(struct rules_parse_state *st, size_t *i, struct rule *r)
{
	const struct rules_parse_word	*w;
	uint64_t			 ms;

	if (*i >= st->nw)
		return (rules_parse_failw(st, &st->w[*i - 1],
		    "missing action after"));
	w = &st->w[(*i)++];
	if (strcmp(w->s, "reply") == 0) {
		r->action = RULE_ACT_REPLY;
		return (rules_parse_reply(st, i, r));
	}
	if (strcmp(w->s, "disconnect") == 0) {
		r->action = RULE_ACT_DISCONNECT;
		return (0);
	}
	if (strcmp(w->s, "accept") == 0) {
		r->action = RULE_ACT_ACCEPT;
		return (0);
	}
	if (strcmp(w->s, "delay") == 0) {
		r->action = RULE_ACT_DELAY;
		if (*i >= st->nw)
			return (rules_parse_failw(st, w,
			    "missing duration after"));
		w = &st->w[(*i)++];
		if (units_parse_duration_ms(w->s, &ms) == -1)
			return (rules_parse_failw(st, w, "bad duration"));
		if (ms > RULES_PARSE_DELAY_MAX)
			return (rules_parse_failw(st, w,
			    "delay longer than 10 minutes"));
		r->delay_ms = ms;
		return (0);
	}
	return (rules_parse_failw(st, w, "unknown action"));
}

/* Parse the modifiers from word i to the end. */
static int
rules_parse_modifiers(struct rules_parse_state *st, size_t i, struct rule *r)
{
	const struct rules_parse_word	*w, *v;
	int				 seen_times = 0;
	double				 p;
	uint64_t			 n;

	while (i < st->nw) {
		w = &st->w[i++];
		if (strcmp(w->s, "probability") != 0 &&
		    strcmp(w->s, "times") != 0)
			return (rules_parse_failw(st, w, "unknown modifier"));
		if (w->s[0] == 'p' ? r->has_probability : seen_times)
			return (rules_parse_failw(st, w,
			    "duplicate modifier"));
		if (i >= st->nw)
			return (rules_parse_failw(st, w,
			    "missing value after"));
		v = &st->w[i++];
		if (w->s[0] == 'p') {
			if (units_parse_double(v->s, &p) == -1 || p > 1.0)
				return (rules_parse_failw(st, v,
				    "probability must be from 0 to 1"));
			r->has_probability = 1;
			r->probability = p;
		} else {
			if (units_parse_uint(v->s, RULES_PARSE_TIMES_MAX,
			    &n) == -1 || n == 0)
				return (rules_parse_failw(st, v,
				    "times must be from 1 to 1000000"));
			seen_times = 1;
			r->times = n;
		}
	}
	return (0);
}

/*
 * Append s to b as one word that parses back to s: bare when that is
 * safe, otherwise double-quoted with " and \ escaped.  force quotes it
 * always (the reply text must be quoted).
 */
static void
rules_parse_quote(struct buf *b, const char *s, int force)
{
	if (!force && *s != '\0' && strcmp(s, "*") != 0 &&
	    strpbrk(s, " \t\"\\") == NULL) {
		(void)buf_adds(b, s);
		return;
	}
	(void)buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)buf_add(b, "\\", 1);
		(void)buf_add(b, s, 1);
	}
	(void)buf_add(b, "\"", 1);
}

/* Build r->canon from the parsed fields (see the file comment). */
static void
rules_parse_canon(struct rule *r)
{
	struct buf	 b;
	char		 net[NETADDR_TEXT_MAX], num[32], *hv;
	int		 prec;

	buf_init(&b, 0);
	(void)buf_adds(&b, rules_parse_stages[r->stage]);
	(void)buf_add(&b, " ", 1);
	switch (r->match) {
	case RULE_MATCH_ANY:
		(void)buf_add(&b, "*", 1);
		break;
	case RULE_MATCH_NET:
		netaddr_format(&r->net, net, sizeof(net));
		(void)buf_adds(&b, net);
		break;
	case RULE_MATCH_GLOB:
		rules_parse_quote(&b, r->glob, 0);
		break;
	case RULE_MATCH_HEADER:
		/* RFC 5322 1.2.2: header names are case-insensitive. */
		xasprintf(&hv, "%s=%s", r->header, r->glob);
		rules_parse_lower(hv);
		rules_parse_quote(&b, hv, 0);
		free(hv);
		break;
	}
	switch (r->action) {
	case RULE_ACT_REPLY:
		(void)buf_addf(&b, " reply %d", r->code);
		if (r->enh[0] != '\0')
			(void)buf_addf(&b, " %s", r->enh);
		(void)buf_add(&b, " ", 1);
		rules_parse_quote(&b, r->text, 1);
		break;
	case RULE_ACT_DISCONNECT:
		(void)buf_adds(&b, " disconnect");
		break;
	case RULE_ACT_DELAY:
		(void)buf_addf(&b, " delay %llums",
		    (unsigned long long)r->delay_ms);
		break;
	case RULE_ACT_ACCEPT:
		(void)buf_adds(&b, " accept");
		break;
	}
	if (r->has_probability) {
		/* The shortest text that reads back as the same double. */
		for (prec = 1; prec <= 17; prec++) {
			(void)snprintf(num, sizeof(num), "%.*g", prec,
			    r->probability);
			if (strtod(num, NULL) == r->probability)
				break;
		}
		(void)buf_addf(&b, " probability %s", num);
	}
	if (r->times != 0)
		(void)buf_addf(&b, " times %llu", (unsigned long long)r->times);
	r->canon = b.data;
}

/*
 * Parse one rule (the grammar is in the file comment) into *out.
 * Returns 0 with *out filled (release it with rules_parse_clear), or -1
 * with *out cleared and, when cause is not NULL, *cause set to
 * "col N: problem 'word'" (caller frees).
 */
int
rules_parse_line(const char *text, struct rule *out, char **cause)
{
	struct rules_parse_state	 st;
	const struct rules_parse_word	*w;
	char				*hint;
	size_t				 i, k;
	int				 ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.text = text;

	if (strlen(text) > RULES_PARSE_LINE_MAX) {
		(void)rules_parse_fail(&st, 1, "rule longer than %d bytes",
		    RULES_PARSE_LINE_MAX);
		goto fail;
	}
	if (rules_parse_split(&st) == -1)
		goto fail;
	if (st.nw == 0) {
		(void)rules_parse_fail(&st, 1, "missing stage");
		goto fail;
	}
	w = &st.w[0];
	for (k = 0; k < MS_NITEMS(rules_parse_stages); k++) {
		if (strcmp(w->s, rules_parse_stages[k]) == 0)
			break;
	}
	if (k == MS_NITEMS(rules_parse_stages)) {
		(void)rules_parse_failw(&st, w, "unknown stage");
		/* Say what would have been right. */
		xasprintf(&hint, "%s (expected connect, helo, auth, mail,"
		    " rcpt or data)", st.cause);
		free(st.cause);
		st.cause = hint;
		goto fail;
	}
	out->stage = (enum smtp_stage)k;
	i = 1;
	if (rules_parse_match(&st, &i, out) == -1 ||
	    rules_parse_action(&st, &i, out) == -1 ||
	    rules_parse_modifiers(&st, i, out) == -1)
		goto fail;
	rules_parse_canon(out);
	ret = 0;

fail:
	for (i = 0; i < st.nw; i++)
		free(st.w[i].s);
	free(st.w);
	if (ret == -1) {
		rules_parse_clear(out);
		if (cause != NULL)
			*cause = st.cause;
		else
			free(st.cause);
	}
	return (ret);
}

/* Free what a parsed rule holds and zero it; a zeroed rule is fine. */
void
rules_parse_clear(struct rule *r)
{
	free(r->glob);
	free(r->header);
	free(r->text);
	free(r->canon);
	memset(r, 0, sizeof(*r));
}
