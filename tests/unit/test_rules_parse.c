/*
 * test_rules_parse.c - rules_parse.c: the rule grammar.
 *
 * Good rules are checked through their canonical text, which is rebuilt
 * from every parsed field, and the canonical text must parse back to
 * itself; a second table checks the fields directly.  Malformed rules are
 * checked against their exact error messages, columns included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "rules_parse.h"

struct text_case {
	const char	*label;
	const char	*in;
	const char	*want;	/* good: canonical text; bad: cause */
};

static const struct text_case good_cases[] = {
	{ "unknown user", "rcpt * reply 550 5.1.1 \"No such user\"",
	    "rcpt * reply 550 5.1.1 \"No such user\"" },
	{ "domain glob, no enhanced code",
	    "rcpt *@bounce.test reply 550 \"Bounce\"",
	    "rcpt *@bounce.test reply 550 \"Bounce\"" },
	{ "greylisting", "rcpt greylist-*@* reply 451 4.7.1 \"Greylisted\" "
	    "times 1",
	    "rcpt greylist-*@* reply 451 4.7.1 \"Greylisted\" times 1" },
	{ "blocked sender", "mail *@blocked.test reply 553 5.7.1 \"Blocked\"",
	    "mail *@blocked.test reply 553 5.7.1 \"Blocked\"" },
	{ "helo glob", "helo *.bad reply 554 \"Go away\"",
	    "helo *.bad reply 554 \"Go away\"" },
	{ "auth user", "auth root reply 535 5.7.8 \"No root\"",
	    "auth root reply 535 5.7.8 \"No root\"" },
	{ "connect CIDR disconnect", "connect 10.0.0.0/8 disconnect",
	    "connect 10.0.0.0/8 disconnect" },
	{ "connect IPv6 421", "connect ::1 reply 421 4.3.2 \"Too busy\"",
	    "connect ::1 reply 421 4.3.2 \"Too busy\"" },
	{ "connect IPv6 CIDR, upper case, delay in s",
	    "connect 2001:DB8::/32 delay 5s",
	    "connect 2001:db8::/32 delay 5000ms" },
	{ "connect /32 is the address", "connect 127.0.0.1/32 accept",
	    "connect 127.0.0.1 accept" },
	{ "connect quoted", "connect \"::ffff:10.0.0.0/104\" accept",
	    "connect ::ffff:10.0.0.0/104 accept" },
	{ "connect any, delay ms", "connect * delay 500ms",
	    "connect * delay 500ms" },
	{ "data header glob", "data Subject=*fail* reply 554 5.6.0 \"No\"",
	    "data subject=*fail* reply 554 5.6.0 \"No\"" },
	{ "data any, probability", "data * reply 452 4.3.1 \"Disk full\" "
	    "probability 0.3",
	    "data * reply 452 4.3.1 \"Disk full\" probability 0.3" },
	{ "data quoted header glob with blank",
	    "data \"Subject=*hello World*\" reply 550 \"Spam\"",
	    "data \"subject=*hello world*\" reply 550 \"Spam\"" },
	{ "data header, quote inside the word",
	    "data X-Spam-Flag=\"YES please\" disconnect",
	    "data \"x-spam-flag=yes please\" disconnect" },
	{ "probability then times", "rcpt * reply 451 4.3.0 \"Later\" "
	    "probability 0.3 times 5",
	    "rcpt * reply 451 4.3.0 \"Later\" probability 0.3 times 5" },
	{ "times then probability", "rcpt * reply 451 4.3.0 \"Later\" "
	    "times 5 probability .30",
	    "rcpt * reply 451 4.3.0 \"Later\" probability 0.3 times 5" },
	{ "tabs", "rcpt\t*\taccept", "rcpt * accept" },
	{ "blanks around", "   mail  *   accept  ", "mail * accept" },
	{ "quoted match with a blank", "helo \"my host\" accept",
	    "helo \"my host\" accept" },
	{ "escapes in text", "rcpt * reply 550 \"say \\\"no\\\" \\\\ ok\"",
	    "rcpt * reply 550 \"say \\\"no\\\" \\\\ ok\"" },
	{ "glob in lower case", "rcpt *@EXAMPLE.com accept",
	    "rcpt *@example.com accept" },
	{ "delay at the limit", "rcpt * delay 10m",
	    "rcpt * delay 600000ms" },
	{ "delay 0", "rcpt * delay 0s", "rcpt * delay 0ms" },
	{ "empty glob: null sender", "mail \"\" reply 550 \"No bounces\"",
	    "mail \"\" reply 550 \"No bounces\"" },
	{ "quoted star", "rcpt \"*\" accept", "rcpt * accept" },
	{ "probability 1", "rcpt * disconnect probability 1",
	    "rcpt * disconnect probability 1" },
	{ "probability 0", "rcpt * disconnect probability 0",
	    "rcpt * disconnect probability 0" },
	{ "probability exponent", "rcpt * disconnect probability 2.5e-1",
	    "rcpt * disconnect probability 0.25" },
	{ "times at the limit", "rcpt * disconnect times 1000000",
	    "rcpt * disconnect times 1000000" },
	{ "highest codes", "rcpt * reply 599 5.999.999 \"Max\"",
	    "rcpt * reply 599 5.999.999 \"Max\"" },
	{ "lowest codes", "rcpt * reply 400 4.0.0 \"Min\"",
	    "rcpt * reply 400 4.0.0 \"Min\"" },
	{ "question mark glob", "helo a?c accept", "helo a?c accept" },
	{ "glued quotes", "rcpt a\"b c\"d accept", "rcpt \"ab cd\" accept" },
	{ "backslash outside quotes is literal", "rcpt a\\b accept",
	    "rcpt \"a\\\\b\" accept" },
	{ "punctuation in text", "rcpt * reply 550 \"~!@#$%^&*()_+`'\"",
	    "rcpt * reply 550 \"~!@#$%^&*()_+`'\"" },
	{ "'=' in a non-data glob", "rcpt a=b@* accept",
	    "rcpt a=b@* accept" },
	{ "UTF-8 glob", "rcpt J\xc3\xb6rg@* accept",
	    "rcpt j\xc3\xb6rg@* accept" },
};

static const struct text_case bad_cases[] = {
	{ "empty", "", "col 1: missing stage" },
	{ "blanks only", "  \t ", "col 1: missing stage" },
	{ "bad stage", "rpct * accept", "col 1: unknown stage 'rpct'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
	{ "stage in upper case", "RCPT * accept",
	    "col 1: unknown stage 'RCPT'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
	{ "stage after blanks", "   rpct * accept",
	    "col 4: unknown stage 'rpct'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
	{ "missing match", "rcpt", "col 1: missing match after 'rcpt'" },
	{ "missing action", "rcpt *", "col 6: missing action after '*'" },
	{ "bad action", "rcpt * bounce", "col 8: unknown action 'bounce'" },
	{ "action in upper case", "rcpt * ACCEPT",
	    "col 8: unknown action 'ACCEPT'" },
	{ "missing code", "rcpt * reply",
	    "col 8: missing reply code after 'reply'" },
	{ "code 250", "rcpt * reply 250 \"Ok\"",
	    "col 14: reply code must be 4xx or 5xx '250'" },
	{ "code 600", "rcpt * reply 600 \"x\"",
	    "col 14: reply code must be 4xx or 5xx '600'" },
	{ "code 399", "rcpt * reply 399 \"x\"",
	    "col 14: reply code must be 4xx or 5xx '399'" },
	{ "code two digits", "rcpt * reply 55 \"x\"",
	    "col 14: bad reply code '55'" },
	{ "code four digits", "rcpt * reply 5500 \"x\"",
	    "col 14: bad reply code '5500'" },
	{ "code not a number", "rcpt * reply abc \"x\"",
	    "col 14: bad reply code 'abc'" },
	{ "missing text", "rcpt * reply 550",
	    "col 14: missing reply text after '550'" },
	{ "missing text after enhanced code", "rcpt * reply 550 5.1.1",
	    "col 18: missing reply text after '5.1.1'" },
	{ "enhanced code short", "rcpt * reply 550 5.1 \"x\"",
	    "col 18: bad enhanced code '5.1'" },
	{ "enhanced code class 3", "rcpt * reply 550 3.1.1 \"x\"",
	    "col 18: bad enhanced code '3.1.1'" },
	{ "enhanced code leading zero", "rcpt * reply 550 5.01.1 \"x\"",
	    "col 18: bad enhanced code '5.01.1'" },
	{ "enhanced code detail too long",
	    "rcpt * reply 550 5.1.1000 \"x\"",
	    "col 18: bad enhanced code '5.1.1000'" },
	{ "enhanced code trailing dot", "rcpt * reply 550 5.1.1. \"x\"",
	    "col 18: bad enhanced code '5.1.1.'" },
	{ "class mismatch 5 for 451", "rcpt * reply 451 5.1.1 \"x\"",
	    "col 18: enhanced code 5.1.1 does not match reply code 451" },
	{ "class mismatch 2 for 550", "rcpt * reply 550 2.0.0 \"x\"",
	    "col 18: enhanced code 2.0.0 does not match reply code 550" },
	{ "unterminated text", "rcpt * reply 550 5.1.1 \"unterminated",
	    "col 24: unterminated string" },
	{ "unterminated after a backslash", "rcpt * reply 550 \"x\\",
	    "col 18: unterminated string" },
	{ "unterminated escaped quote", "rcpt * reply 550 \"x\\\"",
	    "col 18: unterminated string" },
	{ "unterminated match", "rcpt \"abc accept",
	    "col 6: unterminated string" },
	{ "bad escape", "rcpt * reply 550 \"bad \\n escape\"",
	    "col 23: bad escape in string '\\n'" },
	{ "text not quoted", "rcpt * reply 550 No",
	    "col 18: reply text must be double-quoted 'No'" },
	{ "text partly quoted", "rcpt * reply 550 5.1.1 x\"y\"",
	    "col 24: reply text must be double-quoted 'x\"y\"'" },
	{ "text quoted then glued", "rcpt * reply 550 \"y\"x",
	    "col 18: reply text must be double-quoted '\"y\"x'" },
	{ "text of two glued strings", "rcpt * reply 550 \"a\"\"b\"",
	    "col 18: reply text must be double-quoted '\"a\"\"b\"'" },
	{ "empty text", "rcpt * reply 550 \"\"",
	    "col 18: empty reply text '\"\"'" },
	{ "non-ASCII text", "rcpt * reply 550 \"caf\xc3\xa9\"",
	    "col 18: reply text must be printable ASCII "
	    "'\"caf\\xc3\\xa9\"'" },
	{ "tab in text", "rcpt * reply 550 \"a\tb\"",
	    "col 18: reply text must be printable ASCII '\"a\\x09b\"'" },
	{ "missing duration", "rcpt * delay",
	    "col 8: missing duration after 'delay'" },
	{ "bad duration", "rcpt * delay 5x", "col 14: bad duration '5x'" },
	{ "negative duration", "rcpt * delay -5s",
	    "col 14: bad duration '-5s'" },
	{ "delay too long", "rcpt * delay 11m",
	    "col 14: delay longer than 10 minutes '11m'" },
	{ "delay 600001ms", "rcpt * delay 600001ms",
	    "col 14: delay longer than 10 minutes '600001ms'" },
	{ "probability 1.5", "rcpt * accept probability 1.5",
	    "col 27: probability must be from 0 to 1 '1.5'" },
	{ "probability negative", "rcpt * accept probability -0.1",
	    "col 27: probability must be from 0 to 1 '-0.1'" },
	{ "probability word", "rcpt * accept probability half",
	    "col 27: probability must be from 0 to 1 'half'" },
	{ "times 0", "rcpt * accept times 0",
	    "col 21: times must be from 1 to 1000000 '0'" },
	{ "times too many", "rcpt * accept times 1000001",
	    "col 21: times must be from 1 to 1000000 '1000001'" },
	{ "times not a number", "rcpt * accept times 1.5",
	    "col 21: times must be from 1 to 1000000 '1.5'" },
	{ "duplicate times", "rcpt * accept times 1 times 2",
	    "col 23: duplicate modifier 'times'" },
	{ "duplicate probability",
	    "rcpt * accept probability 0.5 probability 0.5",
	    "col 31: duplicate modifier 'probability'" },
	{ "modifier without value", "rcpt * accept times",
	    "col 15: missing value after 'times'" },
	{ "junk at end", "rcpt * disconnect now",
	    "col 19: unknown modifier 'now'" },
	{ "junk after text", "rcpt * reply 550 \"x\" extra",
	    "col 22: unknown modifier 'extra'" },
	{ "junk after modifiers", "rcpt * accept times 2 x",
	    "col 23: unknown modifier 'x'" },
	{ "bad CIDR prefix", "connect 10.0.0.0/33 disconnect",
	    "col 9: bad prefix length '10.0.0.0/33'" },
	{ "CIDR host bits", "connect 10.0.0.1/8 disconnect",
	    "col 9: host bits set past the prefix '10.0.0.1/8'" },
	{ "connect host name", "connect localhost disconnect",
	    "col 9: connect match must be *, an address or a CIDR "
	    "'localhost'" },
	{ "connect glob", "connect 10.* disconnect",
	    "col 9: connect match must be *, an address or a CIDR '10.*'" },
	{ "data without '='", "data Subject disconnect",
	    "col 6: data match must be * or HEADER=GLOB 'Subject'" },
	{ "data empty header name", "data =x disconnect",
	    "col 6: bad header name '=x'" },
	{ "data bad header name", "data Sub_ject=x disconnect",
	    "col 6: bad header name 'Sub_ject=x'" },
	{ "data header name with colon", "data Subject:=x disconnect",
	    "col 6: bad header name 'Subject:=x'" },
	{ "long word cut in the message",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx * accept",
	    "col 1: unknown stage "
	    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
	{ "control byte escaped in the message", "rc\x01pt * accept",
	    "col 1: unknown stage 'rc\\x01pt'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
};

static void
test_good(void **state)
{
	struct rule	 r, again;
	char		*cause;
	size_t		 i;
	int		 failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(good_cases); i++) {
		const struct text_case *c = &good_cases[i];

		cause = NULL;
		if (rules_parse_line(c->in, &r, &cause) == -1) {
			print_error("%s: \"%s\": got error \"%s\", "
			    "want \"%s\"\n", c->label, c->in, cause, c->want);
			free(cause);
			failed = 1;
			continue;
		}
		if (strcmp(r.canon, c->want) != 0) {
			print_error("%s: \"%s\":\n  got  \"%s\"\n"
			    "  want \"%s\"\n",
			    c->label, c->in, r.canon, c->want);
			failed = 1;
		}
		/* The canonical text reads back as itself. */
		if (rules_parse_line(r.canon, &again, &cause) == -1) {
			print_error("%s: canon \"%s\" fails: %s\n", c->label,
			    r.canon, cause);
			free(cause);
			failed = 1;
		} else {
			if (strcmp(again.canon, r.canon) != 0) {
				print_error("%s: canon \"%s\" reads back as "
				    "\"%s\"\n", c->label, r.canon,
				    again.canon);
				failed = 1;
			}
			rules_parse_clear(&again);
		}
		rules_parse_clear(&r);
	}
	if (failed)
		fail();
}

static void
test_bad(void **state)
{
	struct rule	 r;
	char		*cause;
	size_t		 i;
	int		 ret, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(bad_cases); i++) {
		const struct text_case *c = &bad_cases[i];

		cause = NULL;
		ret = rules_parse_line(c->in, &r, &cause);
		if (ret != -1) {
			print_error("%s: \"%s\": parsed as \"%s\", want "
			    "\"%s\"\n", c->label, c->in, r.canon, c->want);
			rules_parse_clear(&r);
			failed = 1;
			continue;
		}
		if (cause == NULL || strcmp(cause, c->want) != 0) {
			print_error("%s: \"%s\":\n  got  \"%s\"\n"
			    "  want \"%s\"\n",
			    c->label, c->in, cause != NULL ? cause : "(null)",
			    c->want);
			failed = 1;
		}
		/* *out is left cleared: nothing to free, nothing stale. */
		if (r.canon != NULL || r.glob != NULL || r.text != NULL ||
		    r.header != NULL || r.code != 0) {
			print_error("%s: rule not cleared\n", c->label);
			failed = 1;
		}
		free(cause);
	}
	if (failed)
		fail();
}

/* Fields of parsed rules, beyond what the canonical text shows. */
static void
test_fields(void **state)
{
	struct rule	 r;
	char		*cause = NULL;

	(void)state;
	assert_int_equal(rules_parse_line("rcpt greylist-*@* reply 451 4.7.1 "
	    "\"Greylisted\" times 1", &r, &cause), 0);
	assert_int_equal(r.stage, SMTP_STAGE_RCPT);
	assert_int_equal(r.match, RULE_MATCH_GLOB);
	assert_string_equal(r.glob, "greylist-*@*");
	assert_int_equal(r.action, RULE_ACT_REPLY);
	assert_int_equal(r.code, 451);
	assert_string_equal(r.enh, "4.7.1");
	assert_string_equal(r.text, "Greylisted");
	assert_int_equal(r.times, 1);
	assert_int_equal(r.has_probability, 0);
	rules_parse_clear(&r);

	assert_int_equal(rules_parse_line("data Subject=*FAIL* delay 1500ms "
	    "probability 0.25", &r, &cause), 0);
	assert_int_equal(r.stage, SMTP_STAGE_DATA);
	assert_int_equal(r.match, RULE_MATCH_HEADER);
	assert_string_equal(r.header, "Subject");
	assert_string_equal(r.glob, "*fail*");
	assert_int_equal(r.action, RULE_ACT_DELAY);
	assert_int_equal(r.delay_ms, 1500);
	assert_int_equal(r.has_probability, 1);
	assert_true(r.probability == 0.25);
	assert_int_equal(r.times, 0);
	rules_parse_clear(&r);

	assert_int_equal(rules_parse_line("connect 192.0.2.0/24 disconnect",
	    &r, &cause), 0);
	assert_int_equal(r.stage, SMTP_STAGE_CONNECT);
	assert_int_equal(r.match, RULE_MATCH_NET);
	assert_int_equal(r.net.family, NETADDR_V4);
	assert_int_equal(r.net.prefix, 24);
	assert_int_equal(r.action, RULE_ACT_DISCONNECT);
	rules_parse_clear(&r);

	assert_int_equal(rules_parse_line("rcpt * reply 550 "
	    "\"say \\\"no\\\" \\\\ ok\"", &r, &cause), 0);
	assert_string_equal(r.text, "say \"no\" \\ ok");
	assert_string_equal(r.enh, "");
	rules_parse_clear(&r);

	assert_int_equal(rules_parse_line("auth * accept", &r, &cause), 0);
	assert_int_equal(r.stage, SMTP_STAGE_AUTH);
	assert_int_equal(r.match, RULE_MATCH_ANY);
	assert_int_equal(r.action, RULE_ACT_ACCEPT);
	assert_null(r.glob);
	rules_parse_clear(&r);

	/* A zeroed rule may be cleared, twice. */
	rules_parse_clear(&r);
	assert_null(cause);
}

/* The reply text limit, exactly at and one past it. */
static void
test_text_limit(void **state)
{
	char	 text[RULES_PARSE_TEXT_MAX + 64];
	char	*cause = NULL;
	struct rule r;
	size_t	 n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "rcpt * reply 550 \"");
	memset(text + n, 'a', RULES_PARSE_TEXT_MAX);
	memcpy(text + n + RULES_PARSE_TEXT_MAX, "\"", 2);
	assert_int_equal(rules_parse_line(text, &r, &cause), 0);
	assert_int_equal(strlen(r.text), RULES_PARSE_TEXT_MAX);
	rules_parse_clear(&r);

	memset(text + n, 'a', RULES_PARSE_TEXT_MAX + 1);
	memcpy(text + n + RULES_PARSE_TEXT_MAX + 1, "\"", 2);
	assert_int_equal(rules_parse_line(text, &r, &cause), -1);
	assert_non_null(cause);
	if (strncmp(cause, "col 18: reply text longer than 200 "
	    "characters '\"aaa", 51) != 0)
		fail_msg("got \"%s\"", cause);
	free(cause);
}

/* The whole-line limit, and a NULL cause. */
static void
test_line_limit(void **state)
{
	char		*text, *cause = NULL;
	struct rule	 r;
	size_t		 n;

	(void)state;
	text = malloc(RULES_PARSE_LINE_MAX + 2);
	assert_non_null(text);
	n = (size_t)snprintf(text, RULES_PARSE_LINE_MAX, "rcpt ");
	memset(text + n, 'a', RULES_PARSE_LINE_MAX - n - 7);
	memcpy(text + RULES_PARSE_LINE_MAX - 7, " accept", 8);
	assert_int_equal(strlen(text), RULES_PARSE_LINE_MAX);
	assert_int_equal(rules_parse_line(text, &r, &cause), 0);
	rules_parse_clear(&r);

	memcpy(text + RULES_PARSE_LINE_MAX - 7, "a accept", 9);
	assert_int_equal(rules_parse_line(text, &r, &cause), -1);
	assert_string_equal(cause, "col 1: rule longer than 4096 bytes");
	free(cause);

	assert_int_equal(rules_parse_line("nope", &r, NULL), -1);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_text_limit),
		cmocka_unit_test(test_line_limit),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
