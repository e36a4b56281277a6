/*
 * fuzz_smtp_session.c - libFuzzer target for the whole pure SMTP core:
 * the command framer, the DATA decoder and the session state machine,
 * with the real rule engine behind the policy hook.
 *
 * The input is what a client sends on one connection, read in chunks of
 * fuzzer-chosen sizes (the points where TCP happened to split it).  The
 * driver plays the shell's part exactly as conn.c does and as
 * tests/unit/test_smtp_session.c's driver does: lines through smtp_line,
 * DATA bodies through smtp_data (bytes after the end go back to the
 * framer), BDAT chunks counted off, and every action carried out: a
 * PAUSE is resumed at once, START_TLS drops whatever else was buffered
 * (RFC 3207 4.2) and restarts the session in TLS, COMMIT is completed
 * with committed() or commit_failed(), and a close stops the input.  At
 * the end the connection times out, is shut down or just goes away.
 *
 * Input layout (4 header bytes, then the client's bytes):
 *   byte 0  bits 0-1 starttls (0 off, 1 on, 2 required, 3 on)
 *           bits 2-3 auth (0 off, 1 any, 2 checked, 3 checked+required)
 *           bit 4 rules hook on, bit 5 magic addresses on,
 *           bit 6 implicit-TLS listener, bit 7 max-size 1000 (else 10M)
 *   byte 1  bits 0-1 split style (fuzz.h), bit 2 every other commit
 *           fails, bits 3-4 the end (0 close, 1 timeout, 2 shutdown,
 *           3 close), bit 5 a 600-byte transcript, bit 6 max-recipients
 *           3, bit 7 the client is 203.0.113.7 (a connect rule delays it)
 *   bytes 2-3  seed of the split points and of the rules' generator
 *
 * Properties: no crash, leak or undefined behaviour; every reply is a
 * well-formed SMTP reply line (RFC 5321 4.2: three digits 2xx-5xx, '-' or
 * ' ', printable ASCII, CRLF, at most 512 octets, multi-line replies with
 * one code); one command never produces more than a few KB of replies;
 * the session asks for a data mode whenever it says DATA; delays end; a
 * message is acknowledged ("queued as") only once the shell committed it;
 * a COMMIT has a sender and recipients; the transcript stays within its
 * cap and never shows a SASL response (what followed a 334, or an AUTH
 * initial response) as the client sent it.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "envelope.h"
#include "fuzz.h"
#include "log.h"
#include "rules.h"
#include "sasl.h"
#include "smtp_data.h"
#include "smtp_line.h"
#include "smtp_session.h"
#include "transcript.h"

#define FUZZ_SESSION_HEAD_MAX	4096	/* body bytes kept for headers */
#define FUZZ_SESSION_REPLY_MAX	512	/* RFC 5321 4.5.3.1.5, with CRLF */
#define FUZZ_SESSION_OUT_MAX	8192	/* replies to one event */
#define FUZZ_SESSION_PAUSES_MAX	64	/* delays in a row */
#define FUZZ_SESSION_TRANSCRIPT	600	/* the small transcript cap */
#define FUZZ_SESSION_PASSWORD	"secret" /* the good PLAIN/LOGIN secret */
#define FUZZ_SESSION_CHALLENGE	"<1896.697170952@mx.test>"
#define FUZZ_SESSION_LINES_MAX	256	/* lines kept for the redaction check */

/* The rules behind the policy hook when it is on. */
static const char *const fuzz_session_rules[] = {
	"connect 203.0.113.0/24 delay 10ms",
	"helo *.spam.test reply 550 5.7.1 \"No spam\"",
	"helo drop.test disconnect",
	"auth baduser reply 535 5.7.8 \"Bad user\"",
	"mail *@blocked.test reply 550 5.7.1 \"Sender blocked\"",
	"mail * reply 451 4.3.0 \"Try again\" probability 0.1",
	"rcpt grey@* reply 451 4.7.1 \"Greylisted\" times 1",
	"rcpt slow@* delay 1s",
	"rcpt drop@* disconnect",
	"rcpt ok@* accept",
	"data Subject=*spam* reply 554 5.7.1 \"Spam\"",
	"data X-Drop=* disconnect",
	"data X-Delay=* delay 5ms",
};

enum fuzz_session_mode {
	FUZZ_MODE_LINE = 0,
	FUZZ_MODE_DOT,
	FUZZ_MODE_BDAT,
	FUZZ_MODE_CLOSED
};

struct fuzz_session {
	struct smtp_policy	 policy;
	struct smtp_session	*s;
	struct smtp_line	*framer;
	struct smtp_data	*decoder;
	struct rules		*rules;
	enum fuzz_session_mode	 mode;
	int			 tls_reset;	/* STARTTLS: drop the chunk */
	uint64_t		 chunk_left;	/* BDAT octets still to read */
	int			 chunk_keep;	/* BDAT chunk is kept */
	uint64_t		 body_size;	/* the "spool": octets kept */
	char			 head[FUZZ_SESSION_HEAD_MAX];
	size_t			 headlen;	/* body bytes in head */
	char			 hval[1024];	/* last header lookup */
	int			 commit_fail;	/* every other commit fails */
	int			 commits;
	int			 committing;	/* inside committed() */
	int			 sasl_next;	/* last reply was a 334 */
	char			*sasl[FUZZ_SESSION_LINES_MAX]; /* responses */
	size_t			 nsasl;
	char			*plain[FUZZ_SESSION_LINES_MAX]; /* commands */
	size_t			 nplain;
	int			 lines_lost;	/* a list was full */
	struct buf		 out;		/* replies not yet checked */
};

/* Check the replies to one event: well formed, bounded; then "send". */
static void
fuzz_session_replies(struct fuzz_session *f)
{
	const char	*p, *end, *crlf;
	size_t		 len, i;
	int		 code = 0, open = 0;

	if (f->out.len == 0)
		return;		/* the buffer may not even be allocated */
	FUZZ_ASSERT(f->out.len <= FUZZ_SESSION_OUT_MAX, "%zu bytes of replies"
	    " to one event", f->out.len);
	FUZZ_ASSERT(f->committing || strstr(f->out.data, "queued as") == NULL,
	    "acknowledged before the commit: %s", f->out.data);
	p = f->out.data;
	end = p + f->out.len;
	while (p < end) {
		crlf = memchr(p, '\n', (size_t)(end - p));
		FUZZ_ASSERT(crlf != NULL && crlf > p && crlf[-1] == '\r',
		    "reply not ended by CRLF: '%.*s'", (int)(end - p), p);
		len = (size_t)(crlf - 1 - p);
		FUZZ_ASSERT(len + 2 <= FUZZ_SESSION_REPLY_MAX, "reply line of"
		    " %zu octets", len + 2);
		FUZZ_ASSERT(len >= 3 && p[0] >= '2' && p[0] <= '5' &&
		    isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]), "bad reply code: '%.*s'",
		    (int)len, p);
		FUZZ_ASSERT(len == 3 || p[3] == ' ' || p[3] == '-',
		    "bad reply separator: '%.*s'", (int)len, p);
		for (i = 3; i < len; i++)
			FUZZ_ASSERT(p[i] >= 0x20 && p[i] <= 0x7e, "byte %#x in"
			    " reply '%.*s'", (unsigned char)p[i], (int)len, p);
		code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		FUZZ_ASSERT(open == 0 || open == code, "multi-line reply %d"
		    " continued with %d", open, code);
		open = len > 3 && p[3] == '-' ? code : 0;
		p = crlf + 1;
	}
	FUZZ_ASSERT(open == 0, "multi-line reply %d never ended", open);
	f->sasl_next = code == 334;
	buf_reset(&f->out);
}

/* Keep a body piece: count it and keep the start for header lookups. */
static void
fuzz_session_keep(struct fuzz_session *f, const char *p, size_t len)
{
	size_t	n;

	f->body_size += len;
	n = sizeof(f->head) - f->headlen;
	if (n > len)
		n = len;
	memcpy(f->head + f->headlen, p, n);
	f->headlen += n;
}

static void
fuzz_session_sink_cb(void *arg, const char *p, size_t len)
{
	fuzz_session_keep(arg, p, len);
}

/* A new message: the shell's spool_reset(). */
static void
fuzz_session_spool_reset(struct fuzz_session *f)
{
	f->body_size = 0;
	f->headlen = 0;
}

/*
 * Header lookup for data rules, from the kept start of the body, as
 * conn.c does it through mime.c: the first "Name: value" line of the
 * header block, name without regard to case.
 */
static const char *
fuzz_session_header_cb(void *arg, const char *name)
{
	struct fuzz_session	*f = arg;
	const char		*p = f->head, *end = f->head + f->headlen;
	const char		*eol, *v;
	size_t			 nlen = strlen(name), vlen;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break;		/* the empty line ends the header */
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			vlen = (size_t)(eol - v);
			if (vlen > 0 && v[vlen - 1] == '\r')
				vlen--;
			if (vlen >= sizeof(f->hval))
				vlen = sizeof(f->hval) - 1;
			memcpy(f->hval, v, vlen);
			f->hval[vlen] = '\0';
			return (f->hval);
		}
		p = eol + 1;
	}
	return (NULL);
}

/* The credential check: only FUZZ_SESSION_PASSWORD is good. */
static int
fuzz_session_auth_cb(void *arg, const char *mech, const char *user,
    const char *secret, const char *challenge)
{
	FUZZ_ASSERT(mech != NULL && user != NULL && secret != NULL,
	    "credential check without mech, user or secret");
	FUZZ_ASSERT(strlen(user) <= SASL_FIELD_MAX &&
	    strlen(secret) <= SASL_FIELD_MAX, "credential fields too long");
	if (strcasecmp(mech, "CRAM-MD5") == 0) {
		FUZZ_ASSERT(challenge != NULL, "CRAM-MD5 without challenge");
		return (strlen(secret) == 32 && secret[0] == '0');
	}
	return (strcmp(secret, FUZZ_SESSION_PASSWORD) == 0);
}

static void
fuzz_session_challenge_cb(void *arg, char *buf, size_t size)
{
	snprintf(buf, size, "%s", FUZZ_SESSION_CHALLENGE);
}

/* Rejected-transaction records: every field must be readable. */
static void
fuzz_session_txn_cb(void *arg, const struct smtp_txn_record *r)
{
	size_t	i;

	FUZZ_ASSERT(r->env != NULL, "record without envelope");
	FUZZ_ASSERT(r->stage >= SMTP_STAGE_CONNECT &&
	    r->stage <= SMTP_STAGE_DATA, "record stage %d", (int)r->stage);
	FUZZ_ASSERT(r->outcome >= SMTP_TXN_REJECTED &&
	    r->outcome <= SMTP_TXN_ABANDONED, "record outcome %d",
	    (int)r->outcome);
	(void)strlen(r->env->mail.addr);
	for (i = 0; i < r->env->nrcpts; i++)
		(void)strlen(r->env->rcpts[i].addr);
	if (r->rcpt != NULL)
		(void)strlen(r->rcpt);
	if (r->reply != NULL)
		FUZZ_ASSERT(strpbrk(r->reply, "\r\n") == NULL, "record reply"
		    " holds CR or LF");
}

/* Keep a copy of a line in list (of *n entries) for the redaction check. */
static void
fuzz_session_remember(struct fuzz_session *f, char **list, size_t *n,
    const char *line, size_t len)
{
	char	*copy;

	if (*n == FUZZ_SESSION_LINES_MAX) {
		f->lines_lost = 1;
		return;
	}
	if ((copy = malloc(len + 1)) == NULL)
		abort();
	memcpy(copy, line, len);
	copy[len] = '\0';
	list[(*n)++] = copy;
}

/*
 * Note a command line before the session sees it: a SASL response (the
 * line after a 334, or the initial response of "AUTH MECH RESPONSE") or
 * an ordinary command.  Responses that could not be told apart from a
 * command in the transcript (short, non-printable) are not kept.
 */
static void
fuzz_session_note_line(struct fuzz_session *f, const char *line, size_t len)
{
	const char	*sp;
	size_t		 i;

	if (!f->sasl_next)
		fuzz_session_remember(f, f->plain, &f->nplain, line, len);
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] <= 0x20 ||
		    (unsigned char)line[i] >= 0x7f) {
			if (line[i] != ' ')
				return;
		}
	}
	if (f->sasl_next) {
		if (len >= 4 && memchr(line, ' ', len) == NULL)
			fuzz_session_remember(f, f->sasl, &f->nsasl, line, len);
		return;
	}
	if (len > 5 && strncasecmp(line, "AUTH ", 5) == 0 &&
	    (sp = memchr(line + 5, ' ', len - 5)) != NULL &&
	    (size_t)(line + len - (sp + 1)) >= 4 &&
	    memchr(sp + 1, ' ', (size_t)(line + len - (sp + 1))) == NULL)
		fuzz_session_remember(f, f->sasl, &f->nsasl, sp + 1,
		    (size_t)(line + len - (sp + 1)));
}

/* No SASL response may appear in the transcript as a client line. */
static void
fuzz_session_redacted(struct fuzz_session *f, const char *text)
{
	char	*want;
	size_t	 i, j;

	if (f->lines_lost || text == NULL)
		return;
	for (i = 0; i < f->nsasl; i++) {
		/*
		 * Sent as (part of) an ordinary command too: the transcript
		 * may show that, with a trailing CR or blanks trimmed.
		 */
		for (j = 0; j < f->nplain; j++) {
			if (strstr(f->plain[j], f->sasl[i]) != NULL)
				break;
		}
		if (j < f->nplain)
			continue;
		/*
		 * A whole transcript line, not a substring: client text
		 * may itself contain "C: " ("...AGJvYgBC: czNjcjN0").
		 */
		if (asprintf(&want, "\nC: %s\n", f->sasl[i]) == -1)
			abort();
		FUZZ_ASSERT(strstr(text, want) == NULL &&
		    strncmp(text, want + 1, strlen(want + 1)) != 0,
		    "SASL response '%s' in the transcript:\n%s", f->sasl[i],
		    text);
		free(want);
	}
}

/* Store the message, as conn_commit() does, and complete the COMMIT. */
static void
fuzz_session_commit(struct fuzz_session *f)
{
	const struct envelope	*env = smtp_session_envelope(f->s);
	const char		*text;
	char			*json;
	size_t			 tlen, i;
	int			 n;

	FUZZ_ASSERT(env->has_mail && env->nrcpts > 0, "commit without a"
	    " sender (%d) or recipients (%zu)", env->has_mail, env->nrcpts);
	FUZZ_ASSERT(env->nrcpts <= f->policy.max_recipients, "%zu recipients"
	    " over the limit of %u", env->nrcpts, f->policy.max_recipients);
	for (i = 0; i < env->nrcpts; i++)
		FUZZ_ASSERT(env->rcpts[i].addr != NULL &&
		    strlen(env->rcpts[i].addr) <= SMTP_PATH_MAX,
		    "recipient %zu", i);
	json = envelope_params_json(env);
	free(json);
	text = transcript_text(smtp_session_transcript(f->s), &tlen);
	FUZZ_ASSERT(text != NULL || tlen == 0, "transcript text NULL");
	(void)smtp_session_helo(f->s);
	(void)smtp_session_user(f->s);

	f->mode = FUZZ_MODE_LINE;
	n = f->commits++;
	if (f->commit_fail && n % 2 == 1)
		smtp_session_commit_failed(f->s, &f->out);
	else {
		smtp_session_committed(f->s, n + 1, &f->out);
		f->committing = 1;
		fuzz_session_replies(f);
		f->committing = 0;
	}
	fuzz_session_spool_reset(f);
}

static void	fuzz_session_bdat_done(struct fuzz_session *);

/* Carry out an action the way conn_act() does. */
static void
fuzz_session_act(struct fuzz_session *f, enum smtp_action act)
{
	enum smtp_data_mode	dm;
	uint64_t		chunk = 0;
	int			pauses = 0;

	for (;;) {
		fuzz_session_replies(f);
		switch (act) {
		case SMTP_ACT_CONTINUE:
			return;
		case SMTP_ACT_PAUSE:
			/* The delay is over at once. */
			FUZZ_ASSERT(++pauses <= FUZZ_SESSION_PAUSES_MAX,
			    "delays never end");
			FUZZ_ASSERT(smtp_session_pause_ms(f->s) <=
			    RULES_PARSE_DELAY_MAX, "pause of %llu ms",
			    (unsigned long long)smtp_session_pause_ms(f->s));
			act = smtp_session_resume(f->s, &f->out);
			continue;
		case SMTP_ACT_START_TLS:
			/* RFC 3207 4.2: nothing pipelined after it counts. */
			smtp_line_reset(f->framer);
			f->tls_reset = 1;
			smtp_session_tls_started(f->s, "TLSv1.3",
			    "TLS_AES_256_GCM_SHA384");
			f->mode = FUZZ_MODE_LINE;
			return;
		case SMTP_ACT_DATA:
			dm = smtp_session_data_mode(f->s, &chunk);
			switch (dm) {
			case SMTP_DATA_MODE_DOT:
				smtp_data_reset(f->decoder);
				fuzz_session_spool_reset(f);
				f->mode = FUZZ_MODE_DOT;
				return;
			case SMTP_DATA_MODE_BDAT:
			case SMTP_DATA_MODE_BDAT_DISCARD:
				if (dm == SMTP_DATA_MODE_BDAT &&
				    smtp_session_bdat_first(f->s))
					fuzz_session_spool_reset(f);
				f->chunk_keep = dm == SMTP_DATA_MODE_BDAT;
				f->chunk_left = chunk;
				f->mode = FUZZ_MODE_BDAT;
				if (chunk == 0)
					fuzz_session_bdat_done(f);
				return;
			default:
				FUZZ_ASSERT(0, "DATA action with data mode %d",
				    (int)dm);
			}
			return;
		case SMTP_ACT_COMMIT:
			fuzz_session_commit(f);
			act = SMTP_ACT_CONTINUE;
			continue;
		case SMTP_ACT_CLOSE_AFTER_FLUSH:
			f->mode = FUZZ_MODE_CLOSED;
			return;
		case SMTP_ACT_CLOSE_NOW:
			buf_reset(&f->out);
			f->mode = FUZZ_MODE_CLOSED;
			return;
		}
		FUZZ_ASSERT(0, "unknown action %d", (int)act);
	}
}

/* A BDAT chunk has been counted off (or was empty). */
static void
fuzz_session_bdat_done(struct fuzz_session *f)
{
	struct smtp_data_end	end;

	memset(&end, 0, sizeof(end));
	end.size = f->body_size;
	end.oversize = f->policy.max_size > 0 &&
	    f->body_size > f->policy.max_size;
	end.header = fuzz_session_header_cb;
	end.harg = f;
	f->mode = FUZZ_MODE_LINE;
	fuzz_session_act(f, smtp_session_bdat_end(f->s, &end, &f->out));
}

/* Feed one chunk of client bytes, as conn_process() does. */
static void
fuzz_session_feed(struct fuzz_session *f, const char *p, size_t len)
{
	struct smtp_line_result	 r;
	struct smtp_data_end	 end;
	size_t			 n;
	int			 done;

	f->tls_reset = 0;
	while (len > 0 && !f->tls_reset) {
		switch (f->mode) {
		case FUZZ_MODE_CLOSED:
			return;
		case FUZZ_MODE_LINE:
			n = smtp_line_feed(f->framer, p, len, &r);
			p += n;
			len -= n;
			if (r.line != NULL) {
				fuzz_session_note_line(f, r.line, r.len);
				fuzz_session_act(f, smtp_session_line(f->s,
				    r.line, r.len, r.flags, &f->out));
			}
			break;
		case FUZZ_MODE_DOT:
			done = 0;
			n = smtp_data_feed(f->decoder, p, len,
			    fuzz_session_sink_cb, f, &done);
			p += n;
			len -= n;
			if (done) {
				memset(&end, 0, sizeof(end));
				end.size = smtp_data_size(f->decoder);
				end.flags = smtp_data_flags(f->decoder);
				end.oversize = f->policy.max_size > 0 &&
				    f->body_size > f->policy.max_size;
				end.header = fuzz_session_header_cb;
				end.harg = f;
				f->mode = FUZZ_MODE_LINE;
				fuzz_session_act(f, smtp_session_data_end(f->s,
				    &end, &f->out));
			}
			break;
		case FUZZ_MODE_BDAT:
			n = len < f->chunk_left ? len : (size_t)f->chunk_left;
			if (f->chunk_keep)
				fuzz_session_keep(f, p, n);
			p += n;
			len -= n;
			f->chunk_left -= n;
			if (f->chunk_left == 0)
				fuzz_session_bdat_done(f);
			break;
		}
	}
}

/* Build the policy and rules from the header bytes. */
static void
fuzz_session_setup(struct fuzz_session *f, const uint8_t *h)
{
	static const int	 starttls[] = { SMTP_STARTTLS_OFF,
	    SMTP_STARTTLS_ON, SMTP_STARTTLS_REQUIRED, SMTP_STARTTLS_ON };
	char			*cause = NULL;
	size_t			 i;

	memset(f, 0, sizeof(*f));
	f->policy.hostname = "mx.test";
	f->policy.max_size = (h[0] & 0x80) ? 1000 : 10485760;
	f->policy.max_recipients = (h[1] & 0x40) ? 3 : 100;
	f->policy.starttls = starttls[h[0] & 3];
	switch ((h[0] >> 2) & 3) {
	case 0:
		f->policy.auth = SMTP_AUTH_OFF;
		break;
	case 1:
		f->policy.auth = SMTP_AUTH_ANY;
		break;
	default:
		f->policy.auth = SMTP_AUTH_FILE;
		f->policy.auth_check = fuzz_session_auth_cb;
		f->policy.auth_required = ((h[0] >> 2) & 3) == 3;
		break;
	}
	f->policy.challenge = fuzz_session_challenge_cb;
	f->policy.transcript_max = (h[1] & 0x20) ? FUZZ_SESSION_TRANSCRIPT : 0;
	f->policy.txn = fuzz_session_txn_cb;
	f->policy.txn_arg = f;
	if (h[0] & 0x10) {
		f->rules = rules_new((uint64_t)h[2] << 8 | h[3]);
		rules_set_magic(f->rules, (h[0] & 0x20) != 0);
		for (i = 0; i < sizeof(fuzz_session_rules) /
		    sizeof(fuzz_session_rules[0]); i++) {
			if (rules_add(f->rules, fuzz_session_rules[i], NULL,
			    &cause) == -1)
				FUZZ_ASSERT(0, "rule '%s': %s",
				    fuzz_session_rules[i], cause);
		}
		f->policy.check = rules_check;
		f->policy.check_arg = f->rules;
	}
	f->commit_fail = (h[1] & 0x04) != 0;
	buf_init(&f->out, 0);
	f->framer = smtp_line_new();
	f->decoder = smtp_data_new();
}

/* The connection ends; check what the session kept, then free it all. */
static void
fuzz_session_end(struct fuzz_session *f, unsigned how)
{
	const char	*text;
	char		*quirks;
	size_t		 tlen, max;

	if (f->mode != FUZZ_MODE_CLOSED) {
		if (how == 1)
			smtp_session_timeout(f->s, &f->out);
		else if (how == 2)
			smtp_session_shutdown(f->s, &f->out);
		fuzz_session_replies(f);
	}
	smtp_session_closed(f->s, NULL);	/* conn_free() always does */
	fuzz_session_replies(f);

	(void)smtp_session_outcome(f->s);
	quirks = smtp_session_quirks_text(smtp_session_quirks(f->s));
	free(quirks);
	text = transcript_text(smtp_session_transcript(f->s), &tlen);
	max = f->policy.transcript_max != 0 ? f->policy.transcript_max :
	    TRANSCRIPT_MAX_DEFAULT;
	FUZZ_ASSERT(tlen <= max + sizeof("[transcript truncated]\n"),
	    "transcript of %zu bytes, cap %zu", tlen, max);
	FUZZ_ASSERT(tlen == 0 || strlen(text) == tlen, "transcript holds a"
	    " NUL");
	fuzz_session_redacted(f, text);
	while (f->nsasl > 0)
		free(f->sasl[--f->nsasl]);
	while (f->nplain > 0)
		free(f->plain[--f->nplain]);

	smtp_session_free(f->s);
	smtp_line_free(f->framer);
	smtp_data_free(f->decoder);
	rules_free(f->rules);
	buf_clear(&f->out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_session	 f;
	struct smtp_peer	 peer;
	struct fuzz_rng		 rng;
	const char		*p;
	size_t			 left, chunk;

	if (size < 4)
		return (0);
	fuzz_session_setup(&f, data);
	fuzz_rng_init(&rng, (uint32_t)data[2] << 8 | data[3]);
	peer.addr = (data[1] & 0x80) ? "203.0.113.7" : "192.0.2.1";
	peer.tls = (data[0] & 0x40) != 0;

	f.s = smtp_session_new(&f.policy, &peer);
	f.mode = FUZZ_MODE_LINE;
	fuzz_session_act(&f, smtp_session_connect(f.s, &f.out));
	if (peer.tls && f.mode != FUZZ_MODE_CLOSED)
		smtp_session_tls_info(f.s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");

	p = (const char *)data + 4;
	left = size - 4;
	while (left > 0 && f.mode != FUZZ_MODE_CLOSED) {
		chunk = fuzz_chunk(&rng, left, data[1] & 3);
		fuzz_session_feed(&f, p, chunk);
		p += chunk;
		left -= chunk;
	}
	fuzz_session_end(&f, (data[1] >> 3) & 3);
	return (0);
}
