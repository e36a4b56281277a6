/*
 * smtp_session.c - the SMTP server dialogue as a pure state machine.
 *
 * This file implements RFC 5321's server side with the extensions the
 * contract lists (PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 * CHUNKING, DSN, STARTTLS and AUTH hooks).  It is fed one framed command
 * line at a time and DATA/BDAT results; it appends replies to a buffer and
 * returns one action for the shell to carry out.
 *
 * It must never do I/O, read the clock, sleep or allocate in proportion to
 * what the peer sends beyond the capped envelope and transcript.  Delays
 * asked for by rules come back as SMTP_ACT_PAUSE; the shell waits and
 * calls smtp_session_resume(), which re-runs the command that paused with
 * the rule cursor kept, so evaluation goes on after the delay rule.
 *
 * Commands are a table of (verb, handler).  Each handler checks order
 * first, then syntax, then limits, then rules, and only then changes
 * state, so a refused command never leaves the session half-changed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "log.h"
#include "sasl.h"
#include "smtp_bdat.h"
#include "smtp_data.h"
#include "smtp_line.h"
#include "smtp_parse.h"
#include "smtp_reply.h"
#include "smtp_session.h"
#include "transcript.h"
#include "xmalloc.h"

/*
 * After this many refused commands in one session the client is not an
 * SMTP client (binary garbage, a confused script): say so and close, as
 * Postfix does with smtpd_hard_error_limit.
 */
#define SMTP_SESSION_ERRORS_MAX	20

enum smtp_state {
	SMTP_STATE_INIT = 0,	/* before smtp_session_connect() */
	SMTP_STATE_GREETED,	/* banner sent, waiting for EHLO/HELO */
	SMTP_STATE_READY,	/* HELO done, no transaction */
	SMTP_STATE_MAIL,	/* MAIL accepted */
	SMTP_STATE_RCPT,	/* at least one RCPT accepted */
	SMTP_STATE_DATA,	/* reading the DATA body */
	SMTP_STATE_BDAT,	/* reading a BDAT chunk */
	SMTP_STATE_COMMIT,	/* waiting for the store */
	SMTP_STATE_AUTH,	/* in a SASL exchange */
	SMTP_STATE_CLOSED	/* no more input is taken */
};

/* What a paused command was doing, so resume() can redo it. */
enum smtp_pending {
	SMTP_PENDING_NONE = 0,
	SMTP_PENDING_CONNECT,
	SMTP_PENDING_LINE,
	SMTP_PENDING_DATA_END,
	SMTP_PENDING_BDAT_END,
	SMTP_PENDING_AUTH
};

struct smtp_session {
	const struct smtp_policy *policy;	/* not owned */
	char		*peer_addr;		/* owned copy */
	enum smtp_state	 state;
	int		 esmtp;			/* EHLO (not HELO) was used */
	int		 tls;			/* the session is in TLS */
	char		*tls_protocol;		/* owned, or NULL */
	char		*tls_cipher;		/* owned, or NULL */
	char		*helo;			/* owned, or NULL */
	char		*user;			/* owned, or NULL */
	struct envelope	 env;			/* the transaction */
	int		 rcpt_tried;		/* RCPTs seen in this txn */
	int		 bdat;			/* txn uses BDAT */
	int		 bdat_first;		/* current chunk is the
						   txn's first */
	int		 bdat_last;		/* current chunk is LAST */
	uint64_t	 bdat_chunk;		/* size of current chunk */
	int		 bdat_discard;		/* current chunk is refused */
	int		 bdat_refuse_code;	/* reply for a refused chunk */
	char		 bdat_refuse_enh[16];
	char		 bdat_refuse_text[128];
	int		 errors;		/* refused commands so far */
	int		 quirks;		/* SMTP_QUIRK_* seen */
	const char	*outcome;		/* static string, or NULL */
	struct transcript *transcript;		/* owned */
	struct sasl	*sasl;			/* AUTH exchange, or NULL */
	enum sasl_mech	 auth_mech;		/* mechanism of that exchange */

	/* A command paused by a delay rule. */
	enum smtp_pending pending;
	char		 pending_line[SMTP_LINE_MAX + 1];
	size_t		 pending_len;
	int		 pending_flags;
	struct smtp_data_end pending_end;
	int		 cursor;		/* rule cursor of that
						   command */
	uint64_t	 pause_ms;		/* for SMTP_ACT_PAUSE */
};

/* The outcome of a rule check, for handlers. */
enum smtp_check_result {
	SMTP_CHECK_PASS = 0,	/* go on with the normal reply */
	SMTP_CHECK_DONE		/* a reply or action was produced */
};

typedef enum smtp_action (*smtp_cmd_fn)(struct smtp_session *, const char *,
    struct buf *);

struct smtp_cmd {
	const char	*verb;
	smtp_cmd_fn	 fn;
};

static enum smtp_action	smtp_session_ehlo(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_helo_cmd(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_mail(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_rcpt(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_data_cmd(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_bdat_cmd(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_rset(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_noop(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_vrfy(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_expn(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_help(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_quit(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_starttls(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_auth(struct smtp_session *,
			    const char *, struct buf *);
static enum smtp_action	smtp_session_auth_line(struct smtp_session *,
			    const char *, size_t, int, struct buf *);
static enum smtp_action	smtp_session_auth_finish(struct smtp_session *,
			    struct buf *);

static const struct smtp_cmd smtp_session_cmds[] = {
	{ "EHLO", smtp_session_ehlo },
	{ "HELO", smtp_session_helo_cmd },
	{ "MAIL", smtp_session_mail },
	{ "RCPT", smtp_session_rcpt },
	{ "DATA", smtp_session_data_cmd },
	{ "BDAT", smtp_session_bdat_cmd },
	{ "RSET", smtp_session_rset },
	{ "NOOP", smtp_session_noop },
	{ "VRFY", smtp_session_vrfy },
	{ "EXPN", smtp_session_expn },
	{ "HELP", smtp_session_help },
	{ "QUIT", smtp_session_quit },
	{ "STARTTLS", smtp_session_starttls },
	{ "AUTH", smtp_session_auth },
};

static const char *smtp_session_stage_names[] = {
	"connect", "helo", "auth", "mail", "rcpt", "data"
};

/* Create a session for one connection; the policy must outlive it. */
struct smtp_session *
smtp_session_new(const struct smtp_policy *policy,
    const struct smtp_peer *peer)
{
	struct smtp_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->policy = policy;
	s->peer_addr = xstrdup(peer->addr != NULL ? peer->addr : "unknown");
	s->tls = peer->tls;
	s->state = SMTP_STATE_INIT;
	envelope_init(&s->env);
	s->transcript = transcript_new(policy->transcript_max);
	return (s);
}

/* Free a session and everything it owns; NULL is a no-op. */
void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	envelope_clear(&s->env);
	transcript_free(s->transcript);
	sasl_free(s->sasl);
	free(s->peer_addr);
	free(s->tls_protocol);
	free(s->tls_cipher);
	free(s->helo);
	free(s->user);
	free(s);
}

/*
 * Record in the transcript the replies appended to out since start.  out
 * may still be unallocated when nothing was appended (a delayed
 * greeting), so nothing is computed from its data then.
 */
static void
smtp_session_said(struct smtp_session *s, const struct buf *out,
    size_t start)
{
	if (out->len > start)
		transcript_server(s->transcript, out->data + start,
		    out->len - start);
}

/* Forget the transaction (RSET semantics, RFC 5321 4.1.1.5). */
static void
smtp_session_reset_txn(struct smtp_session *s)
{
	envelope_clear(&s->env);
	s->rcpt_tried = 0;
	s->bdat = 0;
	s->bdat_last = 0;
	s->bdat_chunk = 0;
	s->bdat_discard = 0;
	if (s->state == SMTP_STATE_MAIL || s->state == SMTP_STATE_RCPT ||
	    s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT ||
	    s->state == SMTP_STATE_COMMIT)
		s->state = SMTP_STATE_READY;
}

/* The stage a transaction is at, for the abandoned-transaction record. */
static enum smtp_stage
smtp_session_txn_stage(const struct smtp_session *s)
{
	switch (s->state) {
	case SMTP_STATE_DATA:
	case SMTP_STATE_BDAT:
	case SMTP_STATE_COMMIT:
		return (SMTP_STAGE_DATA);
	case SMTP_STATE_RCPT:
		return (s->bdat ? SMTP_STAGE_DATA : SMTP_STAGE_RCPT);
	case SMTP_STATE_MAIL:
		return (SMTP_STAGE_MAIL);
	default:
		return (SMTP_STAGE_HELO);
	}
}

/* Tell the shell about a transaction that did not end in a message. */
static void
smtp_session_record(struct smtp_session *s, enum smtp_txn_outcome outcome,
    enum smtp_stage stage, const char *rcpt, const struct buf *out,
    size_t start)
{
	struct smtp_txn_record	 rec;
	char			 line[SMTP_REPLY_TEXT_MAX + 32];
	size_t			 n;

	if (s->policy->txn == NULL)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.outcome = outcome;
	rec.stage = stage;
	rec.env = &s->env;
	rec.rcpt = rcpt;
	if (out != NULL && out->len > start) {
		/* The last reply line appended, without its CRLF. */
		n = out->len - start;
		while (n > 0 && (out->data[start + n - 1] == '\n' ||
		    out->data[start + n - 1] == '\r'))
			n--;
		while (n > 0 && memchr(out->data + start, '\n', n) != NULL) {
			const char *nl = memchr(out->data + start, '\n', n);
			size_t skip = (size_t)(nl - (out->data + start)) + 1;

			start += skip;
			n -= skip;
		}
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, out->data + start, n);
		line[n] = '\0';
		rec.reply = line;
	}
	s->policy->txn(s->policy->txn_arg, &rec);
}

/*
 * Count a refused command; past the limit, close with 421.  Returns the
 * action for the caller to return.
 */
static enum smtp_action
smtp_session_error(struct smtp_session *s, struct buf *out)
{
	if (++s->errors < SMTP_SESSION_ERRORS_MAX)
		return (SMTP_ACT_CONTINUE);
	smtp_reply(out, 421, "4.7.0", "%s Error: too many errors",
	    s->policy->hostname);
	if (s->env.has_mail)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	s->outcome = "errors";
	s->state = SMTP_STATE_CLOSED;
	return (SMTP_ACT_CLOSE_AFTER_FLUSH);
}

/*
 * Ask the rules about stage/value.  On PASS the caller goes on.  On DONE
 * *act holds what to return: a rule's reply (421 closes), a drop, or a
 * pause (the caller must have set s->pending first).
 */
static enum smtp_check_result
smtp_session_check(struct smtp_session *s, enum smtp_stage stage,
    const char *value, smtp_header_fn header, void *harg, struct buf *out,
    enum smtp_action *act)
{
	struct smtp_verdict	v;

	if (s->policy->check == NULL)
		return (SMTP_CHECK_PASS);
	memset(&v, 0, sizeof(v));
	s->policy->check(s->policy->check_arg, stage, value, header, harg,
	    &s->cursor, &v);
	switch (v.kind) {
	case SMTP_VERDICT_PASS:
		s->cursor = 0;
		return (SMTP_CHECK_PASS);
	case SMTP_VERDICT_DELAY:
		s->pause_ms = v.delay_ms;
		*act = SMTP_ACT_PAUSE;
		return (SMTP_CHECK_DONE);
	case SMTP_VERDICT_DISCONNECT:
		s->cursor = 0;
		s->pending = SMTP_PENDING_NONE;
		s->outcome = "dropped";
		if (s->env.has_mail || stage == SMTP_STAGE_MAIL)
			smtp_session_record(s, SMTP_TXN_DISCONNECTED, stage,
			    stage == SMTP_STAGE_RCPT ? value : NULL, NULL, 0);
		s->state = SMTP_STATE_CLOSED;
		*act = SMTP_ACT_CLOSE_NOW;
		return (SMTP_CHECK_DONE);
	case SMTP_VERDICT_REPLY:
		s->cursor = 0;
		s->pending = SMTP_PENDING_NONE;
		smtp_reply(out, v.code, v.enh[0] != '\0' ? v.enh : NULL, "%s",
		    v.text);
		if (v.code == 421) {
			s->outcome = "closed";
			s->state = SMTP_STATE_CLOSED;
			*act = SMTP_ACT_CLOSE_AFTER_FLUSH;
		} else
			*act = SMTP_ACT_CONTINUE;
		return (SMTP_CHECK_DONE);
	}
	fatalx("%s: verdict %d", __func__, (int)v.kind);
}

/* Send the greeting, or what a connect rule says instead. */
enum smtp_action
smtp_session_connect(struct smtp_session *s, struct buf *out)
{
	enum smtp_action	act;
	size_t			start = out->len;

	s->pending = SMTP_PENDING_CONNECT;
	if (smtp_session_check(s, SMTP_STAGE_CONNECT, s->peer_addr, NULL,
	    NULL, out, &act) == SMTP_CHECK_DONE) {
		if (act == SMTP_ACT_CONTINUE) {
			/* RFC 5321 3.1: a refused connection gets one reply. */
			if (s->outcome == NULL)
				s->outcome = "rejected";
			s->state = SMTP_STATE_CLOSED;
			act = SMTP_ACT_CLOSE_AFTER_FLUSH;
		}
		goto done;
	}
	s->pending = SMTP_PENDING_NONE;
	smtp_reply(out, 220, NULL, "%s ESMTP mailsink", s->policy->hostname);
	s->state = SMTP_STATE_GREETED;
	act = SMTP_ACT_CONTINUE;
done:
	smtp_session_said(s, out, start);
	return (act);
}

/* Find the command-table entry for a verb (case-insensitive). */
static const struct smtp_cmd *
smtp_session_find(const char *verb, size_t len)
{
	size_t	i;

	for (i = 0; i < MS_NITEMS(smtp_session_cmds); i++) {
		if (strlen(smtp_session_cmds[i].verb) == len &&
		    strncasecmp(smtp_session_cmds[i].verb, verb, len) == 0)
			return (&smtp_session_cmds[i]);
	}
	return (NULL);
}

/* Run one command line (already checked for framing errors). */
static enum smtp_action
smtp_session_dispatch(struct smtp_session *s, const char *line, size_t len,
    struct buf *out)
{
	const struct smtp_cmd	*cmd;
	const char		*args;
	size_t			 vlen, i;
	char			 text[SMTP_LINE_MAX + 1];

	/* Trailing blanks are a telnet habit; drop them. */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	memcpy(text, line, len);
	text[len] = '\0';

	for (vlen = 0; vlen < len && text[vlen] != ' ' && text[vlen] != '\t';
	    vlen++)
		;
	if (vlen == 0) {
		smtp_reply(out, 500, "5.5.2", "Error: empty command");
		return (smtp_session_error(s, out));
	}
	if ((cmd = smtp_session_find(text, vlen)) == NULL) {
		smtp_reply(out, 500, "5.5.2", "Error: command not recognized");
		return (smtp_session_error(s, out));
	}
	for (i = 0; i < vlen; i++) {
		if (islower((unsigned char)text[i])) {
			s->quirks |= SMTP_QUIRK_LOWERCASE_VERB;
			break;
		}
	}
	args = text + vlen;
	return (cmd->fn(s, args, out));
}

/*
 * Handle one framed command line.  flags are the SMTP_LINE_* flags from
 * the framer.  Replies are appended to out.
 */
enum smtp_action
smtp_session_line(struct smtp_session *s, const char *line, size_t len,
    int flags, struct buf *out)
{
	enum smtp_action	act;
	size_t			start = out->len;

	switch (s->state) {
	case SMTP_STATE_GREETED:
	case SMTP_STATE_READY:
	case SMTP_STATE_MAIL:
	case SMTP_STATE_RCPT:
		break;
	case SMTP_STATE_AUTH:
		return (smtp_session_auth_line(s, line, len, flags, out));
	case SMTP_STATE_CLOSED:
		return (SMTP_ACT_CLOSE_NOW);
	case SMTP_STATE_INIT:
	case SMTP_STATE_DATA:
	case SMTP_STATE_BDAT:
	case SMTP_STATE_COMMIT:
		fatalx("%s: line in state %d", __func__, (int)s->state);
	default:
		fatalx("%s: state %d", __func__, (int)s->state);
	}

	if (flags & SMTP_LINE_TOO_LONG) {
		transcript_client(s->transcript, "[line too long]", 15, 0);
		smtp_reply(out, 500, "5.5.6", "Error: line too long (limit %d"
		    " octets)", SMTP_LINE_MAX);
		act = smtp_session_error(s, out);
		goto done;
	}
	transcript_client(s->transcript, line, len, 0);
	if (flags & SMTP_LINE_NUL) {
		smtp_reply(out, 500, "5.5.2",
		    "Error: NUL character in command");
		act = smtp_session_error(s, out);
		goto done;
	}
	if (flags & SMTP_LINE_BARE_CR) {
		smtp_reply(out, 500, "5.5.2", "Error: bare CR in command");
		act = smtp_session_error(s, out);
		goto done;
	}
	if (flags & SMTP_LINE_BARE_LF)
		s->quirks |= SMTP_QUIRK_BARE_LF;

	s->cursor = 0;
	s->pending = SMTP_PENDING_LINE;
	memcpy(s->pending_line, line, len);
	s->pending_line[len] = '\0';
	s->pending_len = len;
	s->pending_flags = flags;
	act = smtp_session_dispatch(s, line, len, out);
	if (act != SMTP_ACT_PAUSE)
		s->pending = SMTP_PENDING_NONE;
done:
	smtp_session_said(s, out, start);
	return (act);
}

/* Go on with the command that a delay rule paused. */
enum smtp_action
smtp_session_resume(struct smtp_session *s, struct buf *out)
{
	enum smtp_action	 act;
	enum smtp_pending	 p = s->pending;
	struct smtp_data_end	 end;
	size_t			 start = out->len;

	switch (p) {
	case SMTP_PENDING_CONNECT:
		/* connect() records its own transcript. */
		return (smtp_session_connect(s, out));
	case SMTP_PENDING_LINE:
		act = smtp_session_dispatch(s, s->pending_line,
		    s->pending_len, out);
		if (act != SMTP_ACT_PAUSE)
			s->pending = SMTP_PENDING_NONE;
		break;
	case SMTP_PENDING_DATA_END:
		end = s->pending_end;
		return (smtp_session_data_end(s, &end, out));
	case SMTP_PENDING_BDAT_END:
		end = s->pending_end;
		return (smtp_session_bdat_end(s, &end, out));
	case SMTP_PENDING_AUTH:
		act = smtp_session_auth_finish(s, out);
		break;
	case SMTP_PENDING_NONE:
	default:
		fatalx("%s: nothing pending (%d)", __func__, (int)p);
	}
	smtp_session_said(s, out, start);
	return (act);
}

/* Skip the blanks at the start of a command argument. */
static const char *
smtp_session_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

/* The EHLO keywords, in the order they are advertised. */
static size_t
smtp_session_ehlo_lines(struct smtp_session *s, char lines[][64],
    size_t max)
{
	size_t	n = 0;

	snprintf(lines[n++], 64, "%s", s->policy->hostname);
	snprintf(lines[n++], 64, "PIPELINING");
	if (s->policy->max_size > 0)
		snprintf(lines[n++], 64, "SIZE %" PRIu64, s->policy->max_size);
	else
		snprintf(lines[n++], 64, "SIZE");
	snprintf(lines[n++], 64, "8BITMIME");
	snprintf(lines[n++], 64, "SMTPUTF8");
	snprintf(lines[n++], 64, "ENHANCEDSTATUSCODES");
	snprintf(lines[n++], 64, "CHUNKING");
	snprintf(lines[n++], 64, "BINARYMIME");
	snprintf(lines[n++], 64, "DSN");
	if (s->policy->starttls != SMTP_STARTTLS_OFF && !s->tls)
		snprintf(lines[n++], 64, "STARTTLS");
	if (s->policy->auth != SMTP_AUTH_OFF && s->user == NULL)
		snprintf(lines[n++], 64, "AUTH PLAIN LOGIN CRAM-MD5");
	if (n > max)
		fatalx("%s: %zu lines", __func__, n);
	return (n);
}

/* Common part of EHLO and HELO: check the name, run helo rules. */
static int
smtp_session_greet(struct smtp_session *s, const char *args, int esmtp,
    struct buf *out, enum smtp_action *act)
{
	const char	*name = smtp_session_skip(args);

	if (*name == '\0') {
		smtp_reply(out, 501, "5.5.4", "Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		*act = smtp_session_error(s, out);
		return (-1);
	}
	if (!smtp_parse_helo_name(name)) {
		smtp_reply(out, 501, "5.5.4", "Error: invalid %s name",
		    esmtp ? "EHLO" : "HELO");
		*act = smtp_session_error(s, out);
		return (-1);
	}
	if (smtp_session_check(s, SMTP_STAGE_HELO, name, NULL, NULL, out,
	    act) == SMTP_CHECK_DONE)
		return (-1);
	/* RFC 5321 4.1.4: EHLO/HELO in a session resets the transaction. */
	if (s->env.has_mail)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	smtp_session_reset_txn(s);
	free(s->helo);
	s->helo = xstrdup(name);
	s->esmtp = esmtp;
	s->state = SMTP_STATE_READY;
	return (0);
}

static enum smtp_action
smtp_session_ehlo(struct smtp_session *s, const char *args, struct buf *out)
{
	enum smtp_action	 act = SMTP_ACT_CONTINUE;
	char			 lines[16][64];
	const char		*ptrs[16];
	size_t			 n, i;

	if (smtp_session_greet(s, args, 1, out, &act) == -1)
		return (act);
	n = smtp_session_ehlo_lines(s, lines, MS_NITEMS(lines));
	for (i = 0; i < n; i++)
		ptrs[i] = lines[i];
	smtp_reply_lines(out, 250, ptrs, n);
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_helo_cmd(struct smtp_session *s, const char *args,
    struct buf *out)
{
	enum smtp_action	act = SMTP_ACT_CONTINUE;

	if (smtp_session_greet(s, args, 0, out, &act) == -1)
		return (act);
	smtp_reply(out, 250, NULL, "%s", s->policy->hostname);
	return (SMTP_ACT_CONTINUE);
}

/* Reply for a parse failure of MAIL (rcpt == 0) or RCPT (rcpt == 1). */
static void
smtp_session_parse_error(struct buf *out, enum smtp_parse_status st,
    const char *msg, int rcpt)
{
	if (msg == NULL)
		msg = "Syntax error";
	switch (st) {
	case SMTP_PARSE_SYNTAX:
		smtp_reply(out, 501, "5.5.4", "Syntax: %s (%s)",
		    rcpt ? "RCPT TO:<address>" : "MAIL FROM:<address>", msg);
		break;
	case SMTP_PARSE_BAD_ADDR:
		smtp_reply(out, 501, rcpt ? "5.1.3" : "5.1.7", "%s", msg);
		break;
	case SMTP_PARSE_BAD_PARAM:
		smtp_reply(out, 501, "5.5.4", "%s", msg);
		break;
	case SMTP_PARSE_UNKNOWN_PARAM:
		smtp_reply(out, 555, "5.5.4", "%s", msg);
		break;
	case SMTP_PARSE_NEED_UTF8:
		smtp_reply(out, 553, "5.6.7", "%s", msg);
		break;
	case SMTP_PARSE_OK:
	default:
		fatalx("%s: status %d", __func__, (int)st);
	}
}

static enum smtp_action
smtp_session_mail(struct smtp_session *s, const char *args, struct buf *out)
{
	struct smtp_mail_args	 m;
	enum smtp_parse_status	 st;
	enum smtp_action	 act = SMTP_ACT_CONTINUE;
	const char		*msg = NULL;
	size_t			 start = out->len;

	if (s->state == SMTP_STATE_GREETED) {
		smtp_reply(out, 503, "5.5.1", "Error: send HELO/EHLO first");
		return (smtp_session_error(s, out));
	}
	if (s->state != SMTP_STATE_READY) {
		smtp_reply(out, 503, "5.5.1", "Error: nested MAIL command");
		return (smtp_session_error(s, out));
	}
	if (s->policy->starttls == SMTP_STARTTLS_REQUIRED && !s->tls) {
		smtp_reply(out, 530, "5.7.0",
		    "Must issue a STARTTLS command first");
		return (smtp_session_error(s, out));
	}
	if (s->policy->auth_required && s->user == NULL) {
		smtp_reply(out, 530, "5.7.0", "Authentication required");
		return (smtp_session_error(s, out));
	}
	if ((st = smtp_parse_mail(args, &m, &msg)) != SMTP_PARSE_OK) {
		smtp_session_parse_error(out, st, msg, 0);
		smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_MAIL,
		    NULL, out, start);
		return (smtp_session_error(s, out));
	}
	s->quirks |= m.quirks;
	if (m.body == SMTP_BODY_BINARYMIME && !s->esmtp) {
		smtp_reply(out, 555, "5.5.4", "BODY=BINARYMIME needs EHLO");
		return (smtp_session_error(s, out));
	}
	if (m.has_size && s->policy->max_size > 0 &&
	    m.size > s->policy->max_size) {
		smtp_reply(out, 552, "5.3.4", "Message size exceeds fixed"
		    " maximum message size (%" PRIu64 ")",
		    s->policy->max_size);
		smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_MAIL,
		    NULL, out, start);
		return (SMTP_ACT_CONTINUE);
	}
	/* Rules see the envelope so far, so set it before asking. */
	envelope_set_mail(&s->env, &m);
	if (smtp_session_check(s, SMTP_STAGE_MAIL, m.addr, NULL, NULL, out,
	    &act) == SMTP_CHECK_DONE) {
		if (act != SMTP_ACT_PAUSE && act != SMTP_ACT_CLOSE_NOW)
			smtp_session_record(s, SMTP_TXN_REJECTED,
			    SMTP_STAGE_MAIL, NULL, out, start);
		envelope_clear(&s->env);
		return (act);
	}
	s->state = SMTP_STATE_MAIL;
	s->rcpt_tried = 0;
	smtp_reply(out, 250, "2.1.0", "Sender <%s> ok", m.addr);
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_rcpt(struct smtp_session *s, const char *args, struct buf *out)
{
	struct smtp_rcpt_args	 r;
	enum smtp_parse_status	 st;
	enum smtp_action	 act = SMTP_ACT_CONTINUE;
	const char		*msg = NULL;
	size_t			 start = out->len;

	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT) {
		smtp_reply(out, 503, "5.5.1", "Error: need MAIL command");
		return (smtp_session_error(s, out));
	}
	if (s->bdat) {
		smtp_reply(out, 503, "5.5.1", "Error: RCPT after BDAT");
		return (smtp_session_error(s, out));
	}
	if (s->cursor == 0)	/* not when resuming after a delay */
		s->rcpt_tried++;
	if ((st = smtp_parse_rcpt(args, s->env.mail.smtputf8, &r, &msg)) !=
	    SMTP_PARSE_OK) {
		smtp_session_parse_error(out, st, msg, 1);
		smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_RCPT,
		    NULL, out, start);
		return (smtp_session_error(s, out));
	}
	s->quirks |= r.quirks;
	if (s->env.nrcpts >= s->policy->max_recipients) {
		/* RFC 5321 4.5.3.1.10: 452 and the client retries later. */
		smtp_reply(out, 452, "4.5.3", "Error: too many recipients");
		smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_RCPT,
		    r.addr, out, start);
		return (SMTP_ACT_CONTINUE);
	}
	if (smtp_session_check(s, SMTP_STAGE_RCPT, r.addr, NULL, NULL, out,
	    &act) == SMTP_CHECK_DONE) {
		if (act != SMTP_ACT_PAUSE && act != SMTP_ACT_CLOSE_NOW)
			smtp_session_record(s, SMTP_TXN_REJECTED,
			    SMTP_STAGE_RCPT, r.addr, out, start);
		return (act);
	}
	envelope_add_rcpt(&s->env, &r);
	s->state = SMTP_STATE_RCPT;
	smtp_reply(out, 250, "2.1.5", "Recipient <%s> ok", r.addr);
	return (SMTP_ACT_CONTINUE);
}

/* Refuse DATA/BDAT when the transaction is not ready for it. */
static int
smtp_session_data_ready(struct smtp_session *s, struct buf *out)
{
	if (s->state == SMTP_STATE_GREETED || s->state == SMTP_STATE_READY) {
		smtp_reply(out, 503, "5.5.1", "Error: need MAIL command");
		return (0);
	}
	if (s->state == SMTP_STATE_MAIL) {
		if (s->rcpt_tried > 0)
			smtp_reply(out, 554, "5.5.1",
			    "Error: no valid recipients");
		else
			smtp_reply(out, 503, "5.5.1",
			    "Error: need RCPT command");
		return (0);
	}
	return (1);
}

static enum smtp_action
smtp_session_data_cmd(struct smtp_session *s, const char *args,
    struct buf *out)
{
	if (*smtp_session_skip(args) != '\0') {
		smtp_reply(out, 501, "5.5.4", "Syntax: DATA");
		return (smtp_session_error(s, out));
	}
	if (!smtp_session_data_ready(s, out))
		return (smtp_session_error(s, out));
	if (s->bdat) {
		smtp_reply(out, 503, "5.5.1", "Error: DATA after BDAT");
		return (smtp_session_error(s, out));
	}
	if (s->env.mail.body == SMTP_BODY_BINARYMIME) {
		/* RFC 3030 3: BINARYMIME content must use BDAT. */
		smtp_reply(out, 503, "5.5.1", "Error: BODY=BINARYMIME needs"
		    " BDAT");
		return (smtp_session_error(s, out));
	}
	smtp_reply(out, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	s->state = SMTP_STATE_DATA;
	return (SMTP_ACT_DATA);
}

/*
 * BDAT: the chunk follows the command on the wire whatever we answer, so
 * even a refused BDAT reads its chunk (and drops it) before replying
 * (RFC 3030 2).  Only a size we cannot parse forces a close: we would
 * not know where the next command starts.
 */
static enum smtp_action
smtp_session_bdat_cmd(struct smtp_session *s, const char *args,
    struct buf *out)
{
	uint64_t	size;
	int		last;

	if (smtp_bdat_parse(args, &size, &last) == -1) {
		smtp_reply(out, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		s->outcome = "closed";
		s->state = SMTP_STATE_CLOSED;
		return (SMTP_ACT_CLOSE_AFTER_FLUSH);
	}
	s->bdat_chunk = size;
	s->bdat_last = last;
	s->bdat_discard = 0;
	if (s->state == SMTP_STATE_GREETED || s->state == SMTP_STATE_READY) {
		s->bdat_discard = 1;
		s->bdat_refuse_code = 503;
		strlcpy(s->bdat_refuse_enh, "5.5.1",
		    sizeof(s->bdat_refuse_enh));
		strlcpy(s->bdat_refuse_text, "Error: need MAIL command",
		    sizeof(s->bdat_refuse_text));
	} else if (s->state == SMTP_STATE_MAIL) {
		s->bdat_discard = 1;
		s->bdat_refuse_code = s->rcpt_tried > 0 ? 554 : 503;
		strlcpy(s->bdat_refuse_enh, "5.5.1",
		    sizeof(s->bdat_refuse_enh));
		strlcpy(s->bdat_refuse_text, s->rcpt_tried > 0 ?
		    "Error: no valid recipients" : "Error: need RCPT command",
		    sizeof(s->bdat_refuse_text));
	}
	if (!s->bdat_discard) {
		s->bdat_first = !s->bdat;
		s->bdat = 1;
		s->state = SMTP_STATE_BDAT;
	}
	return (SMTP_ACT_DATA);
}

static enum smtp_action
smtp_session_rset(struct smtp_session *s, const char *args, struct buf *out)
{
	if (*smtp_session_skip(args) != '\0') {
		smtp_reply(out, 501, "5.5.4", "Syntax: RSET");
		return (smtp_session_error(s, out));
	}
	smtp_session_reset_txn(s);
	smtp_reply(out, 250, "2.0.0", "Ok");
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_noop(struct smtp_session *s, const char *args, struct buf *out)
{
	/* RFC 5321 4.1.1.9: NOOP may carry a string, which is ignored. */
	smtp_reply(out, 250, "2.0.0", "Ok");
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_vrfy(struct smtp_session *s, const char *args, struct buf *out)
{
	if (*smtp_session_skip(args) == '\0') {
		smtp_reply(out, 501, "5.5.4", "Syntax: VRFY address");
		return (smtp_session_error(s, out));
	}
	smtp_reply(out, 252, "2.5.0", "Cannot VRFY user, but will accept"
	    " message and attempt delivery");
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_expn(struct smtp_session *s, const char *args, struct buf *out)
{
	smtp_reply(out, 502, "5.5.1", "Error: EXPN not supported");
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_help(struct smtp_session *s, const char *args, struct buf *out)
{
	smtp_reply(out, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA"
	    " BDAT RSET NOOP VRFY HELP QUIT%s%s",
	    s->policy->starttls != SMTP_STARTTLS_OFF ? " STARTTLS" : "",
	    s->policy->auth != SMTP_AUTH_OFF ? " AUTH" : "");
	return (SMTP_ACT_CONTINUE);
}

static enum smtp_action
smtp_session_quit(struct smtp_session *s, const char *args, struct buf *out)
{
	if (s->env.has_mail)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	smtp_session_reset_txn(s);
	smtp_reply(out, 221, "2.0.0", "Bye");
	s->outcome = "quit";
	s->state = SMTP_STATE_CLOSED;
	return (SMTP_ACT_CLOSE_AFTER_FLUSH);
}

static enum smtp_action
smtp_session_starttls(struct smtp_session *s, const char *args,
    struct buf *out)
{
	if (s->policy->starttls == SMTP_STARTTLS_OFF) {
		smtp_reply(out, 502, "5.5.1", "Error: STARTTLS not available");
		return (smtp_session_error(s, out));
	}
	if (s->tls) {
		smtp_reply(out, 503, "5.5.1", "Error: TLS already active");
		return (smtp_session_error(s, out));
	}
	if (*smtp_session_skip(args) != '\0') {
		smtp_reply(out, 501, "5.5.4", "Syntax: STARTTLS");
		return (smtp_session_error(s, out));
	}
	if (s->state == SMTP_STATE_GREETED) {
		smtp_reply(out, 503, "5.5.1", "Error: send HELO/EHLO first");
		return (smtp_session_error(s, out));
	}
	smtp_reply(out, 220, "2.0.0", "Ready to start TLS");
	return (SMTP_ACT_START_TLS);
}

/* Answer a SASL status other than CONTINUE/DONE and end the exchange. */
static enum smtp_action
smtp_session_auth_fail(struct smtp_session *s, enum sasl_status st,
    struct buf *out)
{
	switch (st) {
	case SASL_CANCELLED:
		smtp_reply(out, 501, "5.0.0", "Authentication cancelled");
		break;
	case SASL_BAD_BASE64:
		smtp_reply(out, 501, "5.5.2", "Invalid base64 data");
		break;
	case SASL_MALFORMED:
		smtp_reply(out, 501, "5.5.2", "Malformed authentication"
		    " data");
		break;
	case SASL_CONTINUE:
	case SASL_DONE:
	default:
		fatalx("%s: status %d", __func__, (int)st);
	}
	sasl_free(s->sasl);
	s->sasl = NULL;
	s->state = SMTP_STATE_READY;
	return (smtp_session_error(s, out));
}

/* Go on with a SASL status: a challenge, the end, or a failure. */
static enum smtp_action
smtp_session_auth_status(struct smtp_session *s, enum sasl_status st,
    const char *chal, struct buf *out)
{
	switch (st) {
	case SASL_CONTINUE:
		/*
		 * RFC 4954 4: "334 " then the base64 challenge (maybe
		 * empty).
		 */
		buf_addf(out, "334 %s\r\n", chal);
		s->state = SMTP_STATE_AUTH;
		return (SMTP_ACT_CONTINUE);
	case SASL_DONE:
		s->cursor = 0;
		s->pending = SMTP_PENDING_AUTH;
		return (smtp_session_auth_finish(s, out));
	default:
		return (smtp_session_auth_fail(s, st, out));
	}
}

/* The exchange is complete: auth rules, then the credential check. */
static enum smtp_action
smtp_session_auth_finish(struct smtp_session *s, struct buf *out)
{
	enum smtp_action	 act;
	const char		*user = sasl_user(s->sasl);
	int			 ok;

	s->state = SMTP_STATE_AUTH;
	if (smtp_session_check(s, SMTP_STAGE_AUTH, user, NULL, NULL, out,
	    &act) == SMTP_CHECK_DONE) {
		if (act == SMTP_ACT_PAUSE)
			return (act);
		sasl_free(s->sasl);
		s->sasl = NULL;
		if (s->state == SMTP_STATE_AUTH)
			s->state = SMTP_STATE_READY;
		return (act);
	}
	s->pending = SMTP_PENDING_NONE;
	if (s->policy->auth_check == NULL)
		ok = 1;
	else
		ok = s->policy->auth_check(s->policy->auth_arg,
		    sasl_mech_name(s->auth_mech), user, sasl_secret(s->sasl),
		    sasl_challenge(s->sasl));
	s->state = SMTP_STATE_READY;
	if (ok) {
		free(s->user);
		s->user = xstrdup(user);
		smtp_reply(out, 235, "2.7.0", "Authentication successful");
		act = SMTP_ACT_CONTINUE;
	} else {
		smtp_reply(out, 535, "5.7.8", "Authentication credentials"
		    " invalid");
		act = smtp_session_error(s, out);
	}
	sasl_free(s->sasl);
	s->sasl = NULL;
	return (act);
}

static enum smtp_action
smtp_session_auth(struct smtp_session *s, const char *args, struct buf *out)
{
	enum sasl_mech	 mech;
	enum sasl_status st;
	char		 word[32], chal[SASL_CHALLENGE_MAX * 2];
	char		 challenge[SASL_CHALLENGE_MAX];
	const char	*p, *initial;
	size_t		 n;

	if (s->policy->auth == SMTP_AUTH_OFF) {
		smtp_reply(out, 502, "5.5.1", "Error: AUTH not available");
		return (smtp_session_error(s, out));
	}
	if (s->state == SMTP_STATE_GREETED || !s->esmtp) {
		smtp_reply(out, 503, "5.5.1", "Error: send EHLO first");
		return (smtp_session_error(s, out));
	}
	if (s->user != NULL) {
		smtp_reply(out, 503, "5.5.1", "Error: already authenticated");
		return (smtp_session_error(s, out));
	}
	if (s->state != SMTP_STATE_READY) {
		smtp_reply(out, 503, "5.5.1", "Error: AUTH not allowed during"
		    " a mail transaction");
		return (smtp_session_error(s, out));
	}
	p = smtp_session_skip(args);
	n = strcspn(p, " \t");
	if (n == 0 || n >= sizeof(word)) {
		smtp_reply(out, 501, "5.5.4", "Syntax: AUTH mechanism"
		    " [initial-response]");
		return (smtp_session_error(s, out));
	}
	memcpy(word, p, n);
	word[n] = '\0';
	if (sasl_mech_parse(word, &mech) == -1) {
		smtp_reply(out, 504, "5.5.4", "Unrecognized authentication"
		    " type");
		return (smtp_session_error(s, out));
	}
	initial = smtp_session_skip(p + n);
	if (*initial == '\0')
		initial = NULL;
	challenge[0] = '\0';
	if (mech == SASL_MECH_CRAM_MD5) {
		if (s->policy->challenge != NULL)
			s->policy->challenge(s->policy->challenge_arg,
			    challenge, sizeof(challenge));
		else
			snprintf(challenge, sizeof(challenge), "<%u.0@%s>",
			    (unsigned)s->errors, s->policy->hostname);
	}
	s->auth_mech = mech;
	sasl_free(s->sasl);
	s->sasl = sasl_new(mech, challenge);
	st = sasl_start(s->sasl, initial, chal, sizeof(chal));
	return (smtp_session_auth_status(s, st, chal, out));
}

/* A line inside a SASL exchange: never recorded or logged in clear. */
static enum smtp_action
smtp_session_auth_line(struct smtp_session *s, const char *line, size_t len,
    int flags, struct buf *out)
{
	enum smtp_action act;
	enum sasl_status st;
	char		 chal[SASL_CHALLENGE_MAX * 2];
	size_t		 start = out->len;

	transcript_client(s->transcript, line, len, 1);
	if (flags & (SMTP_LINE_TOO_LONG | SMTP_LINE_NUL | SMTP_LINE_BARE_CR))
		st = SASL_MALFORMED;
	else
		st = sasl_step(s->sasl, line, chal, sizeof(chal));
	act = smtp_session_auth_status(s, st, chal, out);
	if (act != SMTP_ACT_PAUSE && s->pending == SMTP_PENDING_AUTH)
		s->pending = SMTP_PENDING_NONE;
	smtp_session_said(s, out, start);
	return (act);
}

/*
 * How the shell must read the body: the dot decoder after DATA, or a BDAT
 * chunk of *chunk octets (kept or dropped).
 */
enum smtp_data_mode
smtp_session_data_mode(const struct smtp_session *s, uint64_t *chunk)
{
	if (s->state == SMTP_STATE_DATA)
		return (SMTP_DATA_MODE_DOT);
	if (s->bdat_discard) {
		*chunk = s->bdat_chunk;
		return (SMTP_DATA_MODE_BDAT_DISCARD);
	}
	if (s->state == SMTP_STATE_BDAT) {
		*chunk = s->bdat_chunk;
		return (SMTP_DATA_MODE_BDAT);
	}
	return (SMTP_DATA_MODE_NONE);
}

/* Whether the BDAT chunk being read is the first of its transaction. */
int
smtp_session_bdat_first(const struct smtp_session *s)
{
	return (s->bdat_first);
}

/* The common end of a message (DATA or the last BDAT chunk). */
static enum smtp_action
smtp_session_message_end(struct smtp_session *s,
    const struct smtp_data_end *end, enum smtp_pending kind,
    struct buf *out)
{
	enum smtp_action	act;
	size_t			start = out->len;

	s->env.size = end->size;
	s->env.data_flags = end->flags;
	if (end->oversize) {
		smtp_reply(out, 552, "5.3.4", "Message size exceeds fixed"
		    " maximum message size (%" PRIu64 ")",
		    s->policy->max_size);
		smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_DATA,
		    NULL, out, start);
		smtp_session_reset_txn(s);
		return (SMTP_ACT_CONTINUE);
	}
	s->pending = kind;
	s->pending_end = *end;
	s->state = SMTP_STATE_COMMIT;
	if (smtp_session_check(s, SMTP_STAGE_DATA, "", end->header, end->harg,
	    out, &act) == SMTP_CHECK_DONE) {
		if (act == SMTP_ACT_PAUSE)
			return (act);
		if (act != SMTP_ACT_CLOSE_NOW)
			smtp_session_record(s, SMTP_TXN_REJECTED,
			    SMTP_STAGE_DATA, NULL, out, start);
		smtp_session_reset_txn(s);
		return (act);
	}
	s->pending = SMTP_PENDING_NONE;
	return (SMTP_ACT_COMMIT);
}

/* The dot decoder saw CRLF.CRLF: end of the DATA body. */
enum smtp_action
smtp_session_data_end(struct smtp_session *s, const struct smtp_data_end *end,
    struct buf *out)
{
	enum smtp_action	act;
	size_t			start = out->len;
	char			note[64];

	if (s->state != SMTP_STATE_DATA && s->state != SMTP_STATE_COMMIT)
		fatalx("%s: state %d", __func__, (int)s->state);
	if (s->pending != SMTP_PENDING_DATA_END) {
		snprintf(note, sizeof(note), "DATA %" PRIu64 " octets",
		    end->size);
		transcript_note(s->transcript, note);
	}
	act = smtp_session_message_end(s, end, SMTP_PENDING_DATA_END, out);
	smtp_session_said(s, out, start);
	return (act);
}

/* A BDAT chunk has been read (or dropped). */
enum smtp_action
smtp_session_bdat_end(struct smtp_session *s, const struct smtp_data_end *end,
    struct buf *out)
{
	enum smtp_action	act = SMTP_ACT_CONTINUE;
	size_t			start = out->len;
	char			note[64];

	if (s->pending != SMTP_PENDING_BDAT_END) {
		snprintf(note, sizeof(note), "BDAT chunk %" PRIu64 " octets",
		    s->bdat_chunk);
		transcript_note(s->transcript, note);
	}
	if (s->bdat_discard) {
		smtp_reply(out, s->bdat_refuse_code, s->bdat_refuse_enh, "%s",
		    s->bdat_refuse_text);
		s->bdat_discard = 0;
		act = smtp_session_error(s, out);
	} else if (s->state != SMTP_STATE_BDAT &&
	    s->state != SMTP_STATE_COMMIT) {
		fatalx("%s: state %d", __func__, (int)s->state);
	} else if (!s->bdat_last) {
		s->state = SMTP_STATE_RCPT;
		if (end->oversize) {
			act = smtp_session_message_end(s, end,
			    SMTP_PENDING_BDAT_END, out);
		} else
			smtp_reply(out, 250, "2.0.0", "%" PRIu64 " octets"
			    " received", s->bdat_chunk);
	} else
		act = smtp_session_message_end(s, end, SMTP_PENDING_BDAT_END,
		    out);
	smtp_session_said(s, out, start);
	return (act);
}

/* The store committed the message as row id: acknowledge it. */
void
smtp_session_committed(struct smtp_session *s, int64_t id, struct buf *out)
{
	size_t	start = out->len;

	if (s->state != SMTP_STATE_COMMIT)
		fatalx("%s: state %d", __func__, (int)s->state);
	smtp_reply(out, 250, "2.0.0", "Ok: queued as %" PRId64, id);
	smtp_session_reset_txn(s);
	smtp_session_said(s, out, start);
}

/* The store failed: a temporary failure, so the client retries. */
void
smtp_session_commit_failed(struct smtp_session *s, struct buf *out)
{
	size_t	start = out->len;

	if (s->state != SMTP_STATE_COMMIT)
		fatalx("%s: state %d", __func__, (int)s->state);
	smtp_reply(out, 451, "4.3.0", "Error: could not store the message,"
	    " try again later");
	smtp_session_record(s, SMTP_TXN_REJECTED, SMTP_STAGE_DATA, NULL, out,
	    start);
	smtp_session_reset_txn(s);
	smtp_session_said(s, out, start);
}

/*
 * The TLS handshake finished: RFC 3207 4.2, the session starts afresh.
 * The client must say EHLO again; nothing from before is kept.
 */
void
smtp_session_tls_started(struct smtp_session *s, const char *protocol,
    const char *cipher)
{
	char	note[160];

	smtp_session_reset_txn(s);
	free(s->helo);
	s->helo = NULL;
	/* An AUTH done in the clear is knowledge from before TLS, too. */
	free(s->user);
	s->user = NULL;
	s->esmtp = 0;
	s->tls = 1;
	free(s->tls_protocol);
	free(s->tls_cipher);
	s->tls_protocol = protocol != NULL ? xstrdup(protocol) : NULL;
	s->tls_cipher = cipher != NULL ? xstrdup(cipher) : NULL;
	s->state = SMTP_STATE_GREETED;
	snprintf(note, sizeof(note), "TLS started %s %s",
	    protocol != NULL ? protocol : "?", cipher != NULL ? cipher : "?");
	transcript_note(s->transcript, note);
}

/*
 * Record the TLS parameters of an implicit-TLS session (--smtps), whose
 * handshake completes before any command: nothing is reset.
 */
void
smtp_session_tls_info(struct smtp_session *s, const char *protocol,
    const char *cipher)
{
	char	note[160];

	s->tls = 1;
	free(s->tls_protocol);
	free(s->tls_cipher);
	s->tls_protocol = protocol != NULL ? xstrdup(protocol) : NULL;
	s->tls_cipher = cipher != NULL ? xstrdup(cipher) : NULL;
	snprintf(note, sizeof(note), "TLS %s %s",
	    protocol != NULL ? protocol : "?", cipher != NULL ? cipher : "?");
	transcript_note(s->transcript, note);
}

/* The shell's command timeout fired: RFC 5321 4.5.3.2, 421 and close. */
void
smtp_session_timeout(struct smtp_session *s, struct buf *out)
{
	size_t	start = out->len;

	smtp_reply(out, 421, "4.4.2", "%s Error: timeout exceeded",
	    s->policy->hostname);
	smtp_session_said(s, out, start);
	if (s->env.has_mail)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	smtp_session_reset_txn(s);
	s->outcome = "timeout";
	s->state = SMTP_STATE_CLOSED;
}

/* The server is stopping: tell the client to come back later. */
void
smtp_session_shutdown(struct smtp_session *s, struct buf *out)
{
	size_t	start = out->len;

	smtp_reply(out, 421, "4.3.2", "%s Service shutting down",
	    s->policy->hostname);
	smtp_session_said(s, out, start);
	if (s->env.has_mail)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	smtp_session_reset_txn(s);
	s->outcome = "shutdown";
	s->state = SMTP_STATE_CLOSED;
}

/*
 * The connection is gone.  reason is the shell's word for why ("tls",
 * "error") or NULL when the peer went away; a transaction still open was
 * abandoned.
 */
void
smtp_session_closed(struct smtp_session *s, const char *reason)
{
	/*
	 * Only a client that went away abandoned its transaction; when the
	 * server closed (a rule's 421 or drop), that was recorded already.
	 */
	if (s->env.has_mail && s->outcome == NULL)
		smtp_session_record(s, SMTP_TXN_ABANDONED,
		    smtp_session_txn_stage(s), NULL, NULL, 0);
	smtp_session_reset_txn(s);
	if (s->outcome == NULL)
		s->outcome = reason != NULL ? reason : "disconnected";
	s->state = SMTP_STATE_CLOSED;
}

uint64_t
smtp_session_pause_ms(const struct smtp_session *s)
{
	return (s->pause_ms);
}

const struct envelope *
smtp_session_envelope(const struct smtp_session *s)
{
	return (&s->env);
}

const char *
smtp_session_helo(const struct smtp_session *s)
{
	return (s->helo);
}

const char *
smtp_session_user(const struct smtp_session *s)
{
	return (s->user);
}

int
smtp_session_quirks(const struct smtp_session *s)
{
	return (s->quirks);
}

/* How the session ended ("quit", "timeout", ...), or NULL while open. */
const char *
smtp_session_outcome(const struct smtp_session *s)
{
	return (s->outcome);
}

/* The session's transcript; owned by the session. */
struct transcript *
smtp_session_transcript(struct smtp_session *s)
{
	return (s->transcript);
}

/* The name of a stage, for records and logs. */
const char *
smtp_session_stage_name(enum smtp_stage stage)
{
	if ((size_t)stage >= MS_NITEMS(smtp_session_stage_names))
		fatalx("%s: stage %d", __func__, (int)stage);
	return (smtp_session_stage_names[stage]);
}

/* Quirk flags as "lowercase-verb,bare-lf,..."; NULL if none.  Caller frees. */
char *
smtp_session_quirks_text(int quirks)
{
	static const struct {
		int		 flag;
		const char	*name;
	} names[] = {
		{ SMTP_QUIRK_LOWERCASE_VERB, "lowercase-verb" },
		{ SMTP_QUIRK_BARE_LF, "bare-lf" },
		{ SMTP_QUIRK_SPACE_AFTER_COLON, "space-after-colon" },
		{ SMTP_QUIRK_SPACE_BEFORE_COLON, "space-before-colon" },
		{ SMTP_QUIRK_NO_BRACKETS, "no-brackets" },
		{ SMTP_QUIRK_SOURCE_ROUTE, "source-route" },
	};
	struct buf	b;
	size_t		i;

	if (quirks == 0)
		return (NULL);
	buf_init(&b, 0);
	for (i = 0; i < MS_NITEMS(names); i++) {
		if (quirks & names[i].flag)
			buf_addf(&b, "%s%s", b.len > 0 ? "," : "",
			    names[i].name);
	}
	return (b.data);
}
