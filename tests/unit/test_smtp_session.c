/*
 * test_smtp_session.c - dialogue scripts replayed through the pure core.
 *
 * Each file in tests/unit/dialogues (*.txt) is a script in the spirit of
 * OpenSMTPD's smtpscript.  The driver plays the shell's part exactly as
 * conn.c does: client bytes go through the line framer, DATA bodies
 * through the dot decoder, BDAT chunks are counted off, and every reply
 * and action the session produces is compared with the script in order.
 *
 * Script lines:
 *   # text              a comment
 *   @policy k=v ...     hostname, max_size, max_recipients, starttls,
 *                       auth, auth_required, records (show txn records),
 *                       password (a stub credential check that takes
 *                       only that secret; without it every one is good)
 *   @check STAGE VALUE ACTION...
 *                       a stub rule: "reply CODE ENH TEXT...",
 *                       "disconnect", or "delay MS"
 *   @commit fail        the next commit fails
 *   @tls                the TLS handshake completes now
 *   @timeout            the shell's timeout fires now
 *   @close              the peer goes away now
 *   C: text             the client sends text CRLF
 *   C< text             the client sends text as is; \r \n \t \0 \\ and
 *                       \xNN escapes; "*N" after a backslash-free word
 *                       is not special
 *   S: line             the next output line must be this line; a line
 *                       ending in '*' matches any line with that prefix.
 *                       Actions appear as [close], [drop], [starttls],
 *                       [pause MS], [commit]; records as [txn ...].
 * At the end of the script, and before every C: line, all output so far
 * must have been matched.
 */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "envelope.h"
#include "smtp_data.h"
#include "smtp_line.h"
#include "smtp_session.h"
#include "transcript.h"
#include "xmalloc.h"

#define MAX_CHECKS	16

struct check_stub {
	enum smtp_stage	 stage;
	char		 value[256];
	struct smtp_verdict verdict;
};

struct driver {
	const char	*file;		/* script name, for messages */
	unsigned	 lineno;	/* script line being run */
	struct smtp_policy policy;
	char		 hostname[64];
	struct smtp_session *s;
	struct smtp_line *framer;
	struct smtp_data *decoder;
	enum { MODE_LINE, MODE_DOT, MODE_BDAT, MODE_CLOSED } mode;
	uint64_t	 chunk_left;	/* BDAT octets still to read */
	int		 chunk_keep;	/* BDAT chunk is kept */
	uint64_t	 body_size;	/* octets of the message so far */
	int		 commit_fail;
	int64_t		 next_id;
	int		 records;	/* print txn records */
	struct buf	 out;		/* replies and markers not
					   yet matched */
	struct check_stub checks[MAX_CHECKS];
	size_t		 nchecks;
	char		 password[128];	/* @policy password= */
};

static const char *stage_names[] = {
	"connect", "helo", "auth", "mail", "rcpt", "data"
};

static void
driver_fail(struct driver *d, const char *fmt, ...)
{
	va_list	ap;
	char	msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_msg("%s:%u: %s", d->file, d->lineno, msg);
}

static void
driver_check_cb(void *arg, enum smtp_stage stage, const char *value,
    smtp_header_fn header, void *harg, int *cursor, struct smtp_verdict *out)
{
	struct driver	*d = arg;
	size_t		 i;

	for (i = (size_t)*cursor; i < d->nchecks; i++) {
		if (d->checks[i].stage != stage)
			continue;
		if (strcmp(d->checks[i].value, "*") != 0 &&
		    strcmp(d->checks[i].value, value) != 0)
			continue;
		*out = d->checks[i].verdict;
		*cursor = (int)i + 1;
		return;
	}
	out->kind = SMTP_VERDICT_PASS;
}

/* The stub credential check: only @policy password= is good. */
static int
driver_auth_cb(void *arg, const char *mech, const char *user,
    const char *secret, const char *challenge)
{
	struct driver	*d = arg;

	return (strcmp(secret, d->password) == 0);
}

static void
driver_txn_cb(void *arg, const struct smtp_txn_record *r)
{
	static const char *outcomes[] = { "rejected", "disconnected",
	    "abandoned" };
	struct driver	*d = arg;

	if (!d->records)
		return;
	buf_addf(&d->out, "[txn %s %s from=%s rcpts=%zu rcpt=%s reply=%s]\r\n",
	    outcomes[r->outcome], stage_names[r->stage],
	    r->env->has_mail ? r->env->mail.addr : "-", r->env->nrcpts,
	    r->rcpt != NULL ? r->rcpt : "-",
	    r->reply != NULL ? r->reply : "-");
}

static void
driver_sink_cb(void *arg, const char *p, size_t len)
{
	struct driver	*d = arg;

	d->body_size += len;
}

/* Carry out an action the way conn.c does. */
static void
driver_act(struct driver *d, enum smtp_action act)
{
	struct smtp_data_end	end;
	uint64_t		chunk = 0;

	for (;;) {
		switch (act) {
		case SMTP_ACT_CONTINUE:
			return;
		case SMTP_ACT_PAUSE:
			buf_addf(&d->out, "[pause %" PRIu64 "]\r\n",
			    smtp_session_pause_ms(d->s));
			act = smtp_session_resume(d->s, &d->out);
			continue;
		case SMTP_ACT_START_TLS:
			buf_addf(&d->out, "[starttls]\r\n");
			/* RFC 3207: what was pipelined after it is dropped. */
			smtp_line_reset(d->framer);
			d->mode = MODE_CLOSED;
			return;
		case SMTP_ACT_DATA:
			switch (smtp_session_data_mode(d->s, &chunk)) {
			case SMTP_DATA_MODE_DOT:
				smtp_data_reset(d->decoder);
				d->body_size = 0;
				d->mode = MODE_DOT;
				break;
			case SMTP_DATA_MODE_BDAT:
			case SMTP_DATA_MODE_BDAT_DISCARD:
				d->chunk_keep = smtp_session_data_mode(d->s,
				    &chunk) == SMTP_DATA_MODE_BDAT;
				d->chunk_left = chunk;
				d->mode = MODE_BDAT;
				if (chunk == 0) {
					memset(&end, 0, sizeof(end));
					end.size = d->body_size;
					end.oversize = d->policy.max_size > 0 &&
					    d->body_size > d->policy.max_size;
					d->mode = MODE_LINE;
					act = smtp_session_bdat_end(d->s, &end,
					    &d->out);
					continue;
				}
				break;
			default:
				driver_fail(d, "DATA action without a mode");
			}
			return;
		case SMTP_ACT_COMMIT:
			buf_addf(&d->out, "[commit]\r\n");
			d->mode = MODE_LINE;
			if (d->commit_fail) {
				d->commit_fail = 0;
				smtp_session_commit_failed(d->s, &d->out);
			} else
				smtp_session_committed(d->s, d->next_id++,
				    &d->out);
			d->body_size = 0;
			return;
		case SMTP_ACT_CLOSE_AFTER_FLUSH:
			buf_addf(&d->out, "[close]\r\n");
			d->mode = MODE_CLOSED;
			return;
		case SMTP_ACT_CLOSE_NOW:
			buf_addf(&d->out, "[drop]\r\n");
			d->mode = MODE_CLOSED;
			return;
		}
		driver_fail(d, "unknown action %d", (int)act);
	}
}

/* Feed client bytes through framer/decoder/session like conn.c. */
static void
driver_feed(struct driver *d, const char *p, size_t len)
{
	struct smtp_line_result	 r;
	struct smtp_data_end	 end;
	size_t			 n;
	int			 done;

	while (len > 0) {
		switch (d->mode) {
		case MODE_CLOSED:
			return;
		case MODE_LINE:
			n = smtp_line_feed(d->framer, p, len, &r);
			p += n;
			len -= n;
			if (r.line != NULL)
				driver_act(d, smtp_session_line(d->s, r.line,
				    r.len, r.flags, &d->out));
			break;
		case MODE_DOT:
			done = 0;
			n = smtp_data_feed(d->decoder, p, len, driver_sink_cb,
			    d, &done);
			p += n;
			len -= n;
			if (done) {
				memset(&end, 0, sizeof(end));
				end.size = smtp_data_size(d->decoder);
				end.flags = smtp_data_flags(d->decoder);
				end.oversize = d->policy.max_size > 0 &&
				    end.size > d->policy.max_size;
				d->mode = MODE_LINE;
				driver_act(d, smtp_session_data_end(d->s, &end,
				    &d->out));
			}
			break;
		case MODE_BDAT:
			n = len < d->chunk_left ? len : (size_t)d->chunk_left;
			if (d->chunk_keep)
				d->body_size += n;
			p += n;
			len -= n;
			d->chunk_left -= n;
			if (d->chunk_left == 0) {
				memset(&end, 0, sizeof(end));
				end.size = d->body_size;
				end.oversize = d->policy.max_size > 0 &&
				    d->body_size > d->policy.max_size;
				d->mode = MODE_LINE;
				if (!d->chunk_keep)
					d->body_size = d->body_size;
				driver_act(d, smtp_session_bdat_end(d->s, &end,
				    &d->out));
				if (d->mode == MODE_LINE &&
				    !smtp_session_envelope(d->s)->has_mail)
					d->body_size = 0;
			}
			break;
		}
	}
}

/* Decode the escapes of a C< line into out; returns the length. */
static size_t
driver_unescape(const char *in, char *out)
{
	size_t	n = 0;
	char	hex[3];

	while (*in != '\0') {
		if (*in != '\\') {
			out[n++] = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'r': out[n++] = '\r'; in++; break;
		case 'n': out[n++] = '\n'; in++; break;
		case 't': out[n++] = '\t'; in++; break;
		case '0': out[n++] = '\0'; in++; break;
		case '\\': out[n++] = '\\'; in++; break;
		case 'x':
			hex[0] = in[1];
			hex[1] = in[2];
			hex[2] = '\0';
			out[n++] = (char)strtoul(hex, NULL, 16);
			in += 3;
			break;
		default:
			out[n++] = '\\';
			break;
		}
	}
	return (n);
}

/* Take the next output line; NULL if none. */
static char *
driver_next_output(struct driver *d)
{
	char	*nl, *line;
	size_t	 n;

	if (d->out.len == 0)
		return (NULL);
	nl = memchr(d->out.data, '\n', d->out.len);
	n = nl != NULL ? (size_t)(nl - d->out.data) + 1 : d->out.len;
	line = xmemdup(d->out.data, n);
	buf_consume(&d->out, n);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return (line);
}

static void
driver_expect(struct driver *d, const char *want)
{
	char	*got;
	size_t	 wl = strlen(want);
	int	 ok;

	got = driver_next_output(d);
	if (got == NULL)
		driver_fail(d, "want '%s', got no more output", want);
	if (wl > 0 && want[wl - 1] == '*')
		ok = strncmp(got, want, wl - 1) == 0;
	else
		ok = strcmp(got, want) == 0;
	if (!ok) {
		print_error("%s:%u: got  '%s'\n%s:%u: want '%s'\n", d->file,
		    d->lineno, got, d->file, d->lineno, want);
		free(got);
		driver_fail(d, "reply mismatch");
	}
	free(got);
}

static void
driver_expect_drained(struct driver *d)
{
	char	*got;

	if ((got = driver_next_output(d)) != NULL) {
		print_error("%s:%u: unexpected output '%s'\n", d->file,
		    d->lineno, got);
		free(got);
		driver_fail(d, "unexpected output");
	}
}

static int
driver_stage(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
		if (strcmp(name, stage_names[i]) == 0)
			return ((int)i);
	return (-1);
}

static void
driver_directive(struct driver *d, char *line)
{
	struct check_stub	*c;
	char			*word, *save = NULL, *rest;
	int			 st;

	word = strtok_r(line, " ", &save);
	if (strcmp(word, "@policy") == 0) {
		while ((word = strtok_r(NULL, " ", &save)) != NULL) {
			char *eq = strchr(word, '=');

			if (eq == NULL)
				driver_fail(d, "bad @policy word '%s'", word);
			*eq++ = '\0';
			if (strcmp(word, "hostname") == 0)
				strlcpy(d->hostname, eq, sizeof(d->hostname));
			else if (strcmp(word, "max_size") == 0)
				d->policy.max_size = strtoull(eq, NULL, 10);
			else if (strcmp(word, "max_recipients") == 0)
				d->policy.max_recipients = (unsigned)atoi(eq);
			else if (strcmp(word, "starttls") == 0)
				d->policy.starttls = atoi(eq);
			else if (strcmp(word, "auth") == 0)
				d->policy.auth = atoi(eq);
			else if (strcmp(word, "auth_required") == 0)
				d->policy.auth_required = atoi(eq);
			else if (strcmp(word, "records") == 0)
				d->records = atoi(eq);
			else if (strcmp(word, "password") == 0) {
				strlcpy(d->password, eq, sizeof(d->password));
				d->policy.auth_check = driver_auth_cb;
				d->policy.auth_arg = d;
			}
			else
				driver_fail(d, "unknown @policy '%s'", word);
		}
	} else if (strcmp(word, "@check") == 0) {
		if (d->nchecks == MAX_CHECKS)
			driver_fail(d, "too many @check lines");
		c = &d->checks[d->nchecks++];
		memset(c, 0, sizeof(*c));
		word = strtok_r(NULL, " ", &save);
		if (word == NULL || (st = driver_stage(word)) == -1)
			driver_fail(d, "bad @check stage");
		c->stage = (enum smtp_stage)st;
		word = strtok_r(NULL, " ", &save);
		strlcpy(c->value, word != NULL ? word : "", sizeof(c->value));
		word = strtok_r(NULL, " ", &save);
		if (word == NULL)
			driver_fail(d, "@check needs an action");
		if (strcmp(word, "reply") == 0) {
			c->verdict.kind = SMTP_VERDICT_REPLY;
			c->verdict.code = atoi(strtok_r(NULL, " ", &save));
			strlcpy(c->verdict.enh, strtok_r(NULL, " ", &save),
			    sizeof(c->verdict.enh));
			rest = strtok_r(NULL, "", &save);
			strlcpy(c->verdict.text, rest != NULL ? rest : "",
			    sizeof(c->verdict.text));
		} else if (strcmp(word, "disconnect") == 0)
			c->verdict.kind = SMTP_VERDICT_DISCONNECT;
		else if (strcmp(word, "delay") == 0) {
			c->verdict.kind = SMTP_VERDICT_DELAY;
			c->verdict.delay_ms = strtoull(strtok_r(NULL, " ",
			    &save), NULL, 10);
		} else
			driver_fail(d, "bad @check action '%s'", word);
	} else if (strcmp(word, "@commit") == 0)
		d->commit_fail = 1;
	else if (strcmp(word, "@tls") == 0) {
		smtp_session_tls_started(d->s, "TLSv1.3", "TLS_AES_256");
		d->mode = MODE_LINE;
	} else if (strcmp(word, "@timeout") == 0) {
		smtp_session_timeout(d->s, &d->out);
		buf_addf(&d->out, "[close]\r\n");
		d->mode = MODE_CLOSED;
	} else if (strcmp(word, "@close") == 0) {
		smtp_session_closed(d->s, NULL);
		d->mode = MODE_CLOSED;
	} else
		driver_fail(d, "unknown directive '%s'", word);
}

/* Run one script; the session starts at the first C: or S: line. */
static void
run_script(const char *path, const char *name)
{
	struct driver	 d;
	struct smtp_peer peer = { "192.0.2.1", 0 };
	FILE		*f;
	char		 line[8192], bytes[8192];
	size_t		 n;
	int		 started = 0;

	memset(&d, 0, sizeof(d));
	d.file = name;
	strlcpy(d.hostname, "mx.test", sizeof(d.hostname));
	d.policy.max_size = 10485760;
	d.policy.max_recipients = 100;
	d.policy.check = driver_check_cb;
	d.policy.check_arg = &d;
	d.policy.txn = driver_txn_cb;
	d.policy.txn_arg = &d;
	d.next_id = 1;
	buf_init(&d.out, 0);
	d.framer = smtp_line_new();
	d.decoder = smtp_data_new();

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		d.lineno++;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (!started && line[0] != '@') {
			d.policy.hostname = d.hostname;
			d.s = smtp_session_new(&d.policy, &peer);
			driver_act(&d, smtp_session_connect(d.s, &d.out));
			if (d.mode == MODE_CLOSED)
				;
			else
				d.mode = MODE_LINE;
			started = 1;
		}
		if (line[0] == '@') {
			if (!started && strcmp(line, "@tls") != 0 &&
			    strncmp(line, "@timeout", 8) != 0 &&
			    strncmp(line, "@close", 6) != 0) {
				driver_directive(&d, line);
				continue;
			}
			driver_directive(&d, line);
		} else if (strncmp(line, "C: ", 3) == 0) {
			driver_expect_drained(&d);
			memcpy(bytes, line + 3, n - 3);
			bytes[n - 3] = '\r';
			bytes[n - 2] = '\n';
			driver_feed(&d, bytes, n - 1);
		} else if (strncmp(line, "C< ", 3) == 0) {
			driver_expect_drained(&d);
			driver_feed(&d, bytes,
			    driver_unescape(line + 3, bytes));
		} else if (strncmp(line, "S: ", 3) == 0)
			driver_expect(&d, line + 3);
		else
			driver_fail(&d, "bad script line '%s'", line);
	}
	fclose(f);
	d.lineno++;
	driver_expect_drained(&d);
	smtp_session_free(d.s);
	smtp_line_free(d.framer);
	smtp_data_free(d.decoder);
	buf_clear(&d.out);
}

static int
script_filter(const struct dirent *e)
{
	size_t	n = strlen(e->d_name);

	return (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0);
}

static struct dirent **scripts;
static int nscripts;

static void
test_script(void **state)
{
	const char	*name = *state;
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/dialogues/%s", TEST_SRCDIR, name);
	run_script(path, name);
}

static void
test_quirks_text(void **state)
{
	char	*t;

	assert_null(smtp_session_quirks_text(0));
	t = smtp_session_quirks_text(SMTP_QUIRK_LOWERCASE_VERB |
	    SMTP_QUIRK_BARE_LF);
	assert_string_equal(t, "lowercase-verb,bare-lf");
	free(t);
}

int
main(void)
{
	struct CMUnitTest	*tests;
	char			 dir[4096];
	int			 i, rc;

	snprintf(dir, sizeof(dir), "%s/dialogues", TEST_SRCDIR);
	nscripts = scandir(dir, &scripts, script_filter, alphasort);
	if (nscripts <= 0) {
		fprintf(stderr, "no dialogue scripts in %s\n", dir);
		return (1);
	}
	tests = xcalloc((size_t)nscripts + 1, sizeof(*tests));
	for (i = 0; i < nscripts; i++) {
		tests[i].name = scripts[i]->d_name;
		tests[i].test_func = test_script;
		tests[i].initial_state = scripts[i]->d_name;
	}
	tests[nscripts].name = "quirks_text";
	tests[nscripts].test_func = test_quirks_text;
	rc = _cmocka_run_group_tests("smtp_session", tests,
	    (size_t)nscripts + 1, NULL, NULL);
	for (i = 0; i < nscripts; i++)
		free(scripts[i]);
	free(scripts);
	free(tests);
	return (rc);
}
