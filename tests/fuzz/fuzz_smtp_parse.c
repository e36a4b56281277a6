/*
 * fuzz_smtp_parse.c - libFuzzer target for MAIL/RCPT argument parsing
 * (smtp_parse) and the magic +smtpNNN addresses (magic).
 *
 * Input: byte 0 says whether the transaction has SMTPUTF8 (bit 0); the
 * rest, cut at the first NUL (the framer hands the session C strings), is
 * the argument text after the verb, as in "FROM:<a@b> SIZE=10".  It goes
 * through smtp_parse_mail(), smtp_parse_rcpt(), smtp_parse_helo_name()
 * and smtp_parse_xtext_valid().  An accepted path must fit its field and
 * must read back the same: "FROM:<addr>" built from what was parsed gives
 * OK and the same addr again, or the envelope would store an address the
 * parser itself would refuse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "magic.h"
#include "smtp_parse.h"
#include "smtp_session.h"

/* The reply text must be a short printable string. */
static void
fuzz_parse_errmsg(const char *msg)
{
	const char	*p;

	FUZZ_ASSERT(msg != NULL, "no error message");
	FUZZ_ASSERT(strlen(msg) < 200, "error message of %zu bytes",
	    strlen(msg));
	for (p = msg; *p != '\0'; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f, "control byte %#x in"
		    " error message", (unsigned char)*p);
}

/* Magic addresses must give a sane verdict for whatever was accepted. */
static void
fuzz_parse_magic(enum smtp_stage stage, const char *addr)
{
	struct smtp_verdict	v;
	int			code;

	code = magic_code(addr);
	FUZZ_ASSERT(code == 0 || (code >= 400 && code <= 599),
	    "magic code %d", code);
	memset(&v, 0, sizeof(v));
	if (magic_check(stage, addr, &v)) {
		FUZZ_ASSERT(v.kind == SMTP_VERDICT_REPLY && v.code == code,
		    "magic verdict %d code %d for %d", (int)v.kind, v.code,
		    code);
		FUZZ_ASSERT(memchr(v.enh, '\0', sizeof(v.enh)) != NULL &&
		    memchr(v.text, '\0', sizeof(v.text)) != NULL,
		    "magic verdict strings not terminated");
		FUZZ_ASSERT(v.enh[0] == (char)('0' + code / 100),
		    "enhanced code %s for reply %d", v.enh, code);
	} else
		FUZZ_ASSERT(code == 0 || (stage != SMTP_STAGE_MAIL &&
		    stage != SMTP_STAGE_RCPT), "code %d but no verdict",
		    code);
}

static void
fuzz_parse_mail(const char *args)
{
	struct smtp_mail_args	 m, again;
	enum smtp_parse_status	 st;
	const char		*msg = NULL;
	char			*line;

	st = smtp_parse_mail(args, &m, &msg);
	fuzz_parse_errmsg(msg);
	if (st != SMTP_PARSE_OK)
		return;
	FUZZ_ASSERT(strlen(m.addr) <= SMTP_PATH_MAX, "addr of %zu bytes",
	    strlen(m.addr));
	FUZZ_ASSERT(strlen(m.envid) <= SMTP_ENVID_MAX, "envid too long");
	FUZZ_ASSERT(strlen(m.auth) <= SMTP_PATH_MAX, "auth too long");
	fuzz_parse_magic(SMTP_STAGE_MAIL, m.addr);

	if (asprintf(&line, "FROM:<%s>%s", m.addr,
	    m.smtputf8 ? " SMTPUTF8" : "") == -1)
		abort();
	st = smtp_parse_mail(line, &again, &msg);
	FUZZ_ASSERT(st == SMTP_PARSE_OK, "MAIL address <%s> does not read"
	    " back: status %d (%s)", m.addr, (int)st, msg);
	FUZZ_ASSERT(strcmp(m.addr, again.addr) == 0, "MAIL address <%s>"
	    " reads back as <%s>", m.addr, again.addr);
	free(line);
}

static void
fuzz_parse_rcpt(const char *args, int smtputf8)
{
	struct smtp_rcpt_args	 r, again;
	enum smtp_parse_status	 st;
	const char		*msg = NULL;
	char			*line;

	st = smtp_parse_rcpt(args, smtputf8, &r, &msg);
	fuzz_parse_errmsg(msg);
	if (st != SMTP_PARSE_OK)
		return;
	FUZZ_ASSERT(r.addr[0] != '\0', "empty RCPT address accepted");
	FUZZ_ASSERT(strlen(r.addr) <= SMTP_PATH_MAX, "addr of %zu bytes",
	    strlen(r.addr));
	FUZZ_ASSERT(strlen(r.orcpt) <= SMTP_ORCPT_MAX, "orcpt too long");
	fuzz_parse_magic(SMTP_STAGE_RCPT, r.addr);

	if (asprintf(&line, "TO:<%s>", r.addr) == -1)
		abort();
	st = smtp_parse_rcpt(line, smtputf8, &again, &msg);
	FUZZ_ASSERT(st == SMTP_PARSE_OK, "RCPT address <%s> does not read"
	    " back: status %d (%s)", r.addr, (int)st, msg);
	FUZZ_ASSERT(strcmp(r.addr, again.addr) == 0, "RCPT address <%s>"
	    " reads back as <%s>", r.addr, again.addr);
	free(line);
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
	char	*args;
	int	 smtputf8;

	if (size < 1)
		return (0);
	smtputf8 = data[0] & 1;
	args = fuzz_strdup(data + 1, size - 1);

	fuzz_parse_mail(args);
	fuzz_parse_rcpt(args, smtputf8);
	(void)smtp_parse_helo_name(args);
	(void)smtp_parse_xtext_valid(args);
	fuzz_parse_magic(SMTP_STAGE_MAIL, args);
	fuzz_parse_magic(SMTP_STAGE_RCPT, args);
	free(args);
	return (0);
}
