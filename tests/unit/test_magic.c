/*
 * test_magic.c - magic.c: which addresses are magic, and the code,
 * enhanced code and text each gets at MAIL and RCPT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "magic.h"

#define RCPT	SMTP_STAGE_RCPT
#define MAIL	SMTP_STAGE_MAIL

struct code_case {
	const char	*addr;
	int		 want;		/* 0: not magic */
};

static const struct code_case code_cases[] = {
	{ "bob+smtp550@example.com", 550 },
	{ "bob+smtp451@example.com", 451 },
	{ "bob+smtp421@example.com", 421 },
	{ "bob+SMTP552@example.com", 552 },
	{ "+smtp400@example.com", 400 },
	{ "bob+smtp599@example.com", 599 },
	{ "bob+smtp550-whatever@example.com", 550 },
	{ "bob+smtp550+tag@example.com", 550 },
	{ "bob+tag+smtp553@example.com", 553 },
	{ "bob+smtp250+smtp554@example.com", 554 },	/* first valid one */
	{ "bob+smtp550", 550 },				/* no domain */
	{ "\"bob+smtp550\"@example.com", 550 },
	{ "\"a@b+smtp551\"@example.com", 551 },
	{ "bob+smtp550@xn--bcher-kva.example", 550 },
	{ "bob+smtp550@b+smtp551.example", 550 },

	{ "bob@example.com", 0 },
	{ "", 0 },
	{ "bob+smtp250@example.com", 0 },
	{ "bob+smtp399@example.com", 0 },
	{ "bob+smtp600@example.com", 0 },
	{ "bob+smtp5500@example.com", 0 },
	{ "bob+smtp55@example.com", 0 },
	{ "bob+smtp5@example.com", 0 },
	{ "bob+smtp@example.com", 0 },
	{ "bob+smtpabc@example.com", 0 },
	{ "bob-smtp550@example.com", 0 },
	{ "bobsmtp550@example.com", 0 },
	{ "bob@smtp550.example.com", 0 },
	{ "bob@example+smtp550.com", 0 },	/* domain, not local part */
	{ "bob+smtp 550@example.com", 0 },
	{ "+smtp55", 0 },
};

static void
test_code(void **state)
{
	size_t	i;
	int	got, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(code_cases); i++) {
		got = magic_code(code_cases[i].addr);
		if (got != code_cases[i].want) {
			print_error("magic_code(\"%s\"): got %d, want %d\n",
			    code_cases[i].addr, got, code_cases[i].want);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

struct check_case {
	enum smtp_stage	 stage;
	const char	*addr;
	int		 want;		/* return value */
	int		 code;
	const char	*enh;
	const char	*text;
};

static const struct check_case check_cases[] = {
	{ RCPT, "bob+smtp550@example.com", 1, 550, "5.1.1",
	    "<bob+smtp550@example.com>: Mailbox unavailable "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp551@example.com", 1, 551, "5.1.6",
	    "<bob+smtp551@example.com>: User not local "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp552@example.com", 1, 552, "5.2.2",
	    "<bob+smtp552@example.com>: Mailbox full "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp553@example.com", 1, 553, "5.1.3",
	    "<bob+smtp553@example.com>: Mailbox name not allowed "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp554@example.com", 1, 554, "5.7.1",
	    "<bob+smtp554@example.com>: Delivery not authorized "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp450@example.com", 1, 450, "4.2.1",
	    "<bob+smtp450@example.com>: Mailbox temporarily unavailable "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp451@example.com", 1, 451, "4.3.0",
	    "<bob+smtp451@example.com>: Local error in processing "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp452@example.com", 1, 452, "4.2.2",
	    "<bob+smtp452@example.com>: Mailbox full, try again later "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp421@example.com", 1, 421, "4.3.2",
	    "<bob+smtp421@example.com>: Service not available, closing "
	    "transmission channel (mailsink magic address)" },
	{ RCPT, "bob+smtp499@example.com", 1, 499, "4.0.0",
	    "<bob+smtp499@example.com>: Temporary failure "
	    "(mailsink magic address)" },
	{ RCPT, "bob+smtp500@example.com", 1, 500, "5.0.0",
	    "<bob+smtp500@example.com>: Permanent failure "
	    "(mailsink magic address)" },
	{ RCPT, "Bob+SMTP550-x@Example.COM", 1, 550, "5.1.1",
	    "<Bob+SMTP550-x@Example.COM>: Mailbox unavailable "
	    "(mailsink magic address)" },

	{ MAIL, "app+smtp550@example.com", 1, 550, "5.1.8",
	    "<app+smtp550@example.com>: Sender address rejected "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp553@example.com", 1, 553, "5.1.7",
	    "<app+smtp553@example.com>: Sender address invalid "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp451@example.com", 1, 451, "4.3.0",
	    "<app+smtp451@example.com>: Local error in processing "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp452@example.com", 1, 452, "4.3.1",
	    "<app+smtp452@example.com>: Insufficient system storage "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp450@example.com", 1, 450, "4.1.8",
	    "<app+smtp450@example.com>: Sender address rejected: domain not "
	    "found (mailsink magic address)" },
	{ MAIL, "app+smtp552@example.com", 1, 552, "5.3.4",
	    "<app+smtp552@example.com>: Message size exceeds fixed limit "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp554@example.com", 1, 554, "5.7.1",
	    "<app+smtp554@example.com>: Sender rejected: access denied "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp421@example.com", 1, 421, "4.3.2",
	    "<app+smtp421@example.com>: Service not available, closing "
	    "transmission channel (mailsink magic address)" },
	{ MAIL, "app+smtp551@example.com", 1, 551, "5.0.0",
	    "<app+smtp551@example.com>: Permanent failure "
	    "(mailsink magic address)" },
	{ MAIL, "app+smtp471@example.com", 1, 471, "4.0.0",
	    "<app+smtp471@example.com>: Temporary failure "
	    "(mailsink magic address)" },

	/* not magic, or not a magic stage */
	{ RCPT, "bob@example.com", 0, 0, NULL, NULL },
	{ MAIL, "", 0, 0, NULL, NULL },
	{ SMTP_STAGE_CONNECT, "bob+smtp550@example.com", 0, 0, NULL, NULL },
	{ SMTP_STAGE_HELO, "bob+smtp550@example.com", 0, 0, NULL, NULL },
	{ SMTP_STAGE_AUTH, "bob+smtp550@example.com", 0, 0, NULL, NULL },
	{ SMTP_STAGE_DATA, "bob+smtp550@example.com", 0, 0, NULL, NULL },
};

static void
test_check(void **state)
{
	struct smtp_verdict	v;
	size_t			i;
	int			r, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(check_cases); i++) {
		const struct check_case *c = &check_cases[i];

		memset(&v, 0, sizeof(v));
		v.code = -1;		/* untouched when not magic */
		r = magic_check(c->stage, c->addr, &v);
		if (r != c->want) {
			print_error("magic_check(%d, \"%s\"): got %d, "
			    "want %d\n", (int)c->stage, c->addr, r, c->want);
			failed = 1;
			continue;
		}
		if (r == 0) {
			if (v.code != -1) {
				print_error("magic_check(\"%s\"): verdict "
				    "touched\n", c->addr);
				failed = 1;
			}
			continue;
		}
		if (v.kind != SMTP_VERDICT_REPLY || v.code != c->code ||
		    strcmp(v.enh, c->enh) != 0 ||
		    strcmp(v.text, c->text) != 0) {
			print_error("magic_check(%d, \"%s\"):\n"
			    "  got  %d %d %s \"%s\"\n  want %d %d %s \"%s\"\n",
			    (int)c->stage, c->addr, (int)v.kind, v.code,
			    v.enh, v.text, (int)SMTP_VERDICT_REPLY, c->code,
			    c->enh, c->text);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

/* An address too long for the reply text is left out, not cut. */
static void
test_long_address(void **state)
{
	struct smtp_verdict	v;
	char			addr[400];
	const char		*want = "Mailbox unavailable (mailsink magic "
				    "address)";

	(void)state;
	memset(addr, 'a', sizeof(addr));
	memcpy(addr, "bob+smtp550@", 12);
	addr[sizeof(addr) - 1] = '\0';
	assert_int_equal(magic_check(RCPT, addr, &v), 1);
	assert_int_equal(v.code, 550);
	if (strcmp(v.text, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", v.text, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_long_address),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
