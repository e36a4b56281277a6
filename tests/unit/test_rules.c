/*
 * test_rules.c - rules.c: evaluation of reject rules.
 *
 * Most behaviour is checked by scenarios: a list of rules, then a series
 * of checks, each with the stage, the value, the cursor passed in, and
 * the verdict and cursor wanted, the verdict written as text ("REPLY 550
 * 5.1.1 No such user", "DELAY 500", "DISCONNECT", "PASS").  Order matters
 * within a scenario, since `times` counters carry from one check to the
 * next.  Probability, bounded counters and reload have tests of their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "compat.h"
#include "rules.h"

#define CONNECT	SMTP_STAGE_CONNECT
#define HELO	SMTP_STAGE_HELO
#define AUTH	SMTP_STAGE_AUTH
#define MAIL	SMTP_STAGE_MAIL
#define RCPT	SMTP_STAGE_RCPT
#define DATA	SMTP_STAGE_DATA

#define MAGIC_550 "REPLY 550 5.1.1 <bob+smtp550@example.com>: Mailbox " \
	"unavailable (mailsink magic address)"

struct step {
	enum smtp_stage	 stage;
	const char	*value;
	int		 cursor;	/* passed in */
	const char	*want;		/* verdict as text */
	int		 cursor_out;	/* wanted after the call */
	const char	*headers;	/* DATA: "Name=value|Name=value" */
};

struct scenario {
	const char	*label;
	const char	*rules[8];	/* NULL-terminated */
	int		 no_magic;
	struct step	 steps[16];	/* up to a step with want NULL */
};

static const struct scenario scenarios[] = {
	{ "first match wins", {
	    "rcpt a@* reply 550 5.1.1 \"A\"",
	    "rcpt * reply 450 4.2.1 \"B\"",
	    "rcpt a@* reply 552 \"never\"",
	    NULL }, 0, {
	    { RCPT, "a@example.com", 0, "REPLY 550 5.1.1 A", 0, NULL },
	    { RCPT, "b@example.com", 0, "REPLY 450 4.2.1 B", 0, NULL },
	    { RCPT, "", 0, "REPLY 450 4.2.1 B", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "stage filtering", {
	    "connect * reply 554 5.7.1 \"connect\"",
	    "helo * reply 550 \"helo\"",
	    "auth * reply 535 5.7.8 \"auth\"",
	    "mail * reply 553 5.1.7 \"mail\"",
	    "rcpt * reply 550 5.1.1 \"rcpt\"",
	    "data * reply 554 5.6.0 \"data\"",
	    NULL }, 0, {
	    { CONNECT, "127.0.0.1", 0, "REPLY 554 5.7.1 connect", 0, NULL },
	    { HELO, "client.example", 0, "REPLY 550 helo", 0, NULL },
	    { AUTH, "alice", 0, "REPLY 535 5.7.8 auth", 0, NULL },
	    { MAIL, "a@example.com", 0, "REPLY 553 5.1.7 mail", 0, NULL },
	    { RCPT, "b@example.com", 0, "REPLY 550 5.1.1 rcpt", 0, NULL },
	    { DATA, "", 0, "REPLY 554 5.6.0 data", 0, "" },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "a stage without rules passes", {
	    "mail *@blocked.test reply 553 5.7.1 \"Blocked\"",
	    NULL }, 0, {
	    { RCPT, "x@blocked.test", 0, "PASS", 0, NULL },
	    { HELO, "x@blocked.test", 0, "PASS", 0, NULL },
	    { MAIL, "x@blocked.test", 0, "REPLY 553 5.7.1 Blocked", 0,
		NULL },
	    { MAIL, "x@blocked.test.org", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "globs are case-insensitive", {
	    "rcpt *@Example.COM reply 550 \"ex\"",
	    "helo MAIL.*.test reply 554 \"helo\"",
	    "auth ?dmin disconnect",
	    NULL }, 0, {
	    { RCPT, "BOB@example.com", 0, "REPLY 550 ex", 0, NULL },
	    { RCPT, "bob@EXAMPLE.COM", 0, "REPLY 550 ex", 0, NULL },
	    { RCPT, "bob@example.org", 0, "PASS", 0, NULL },
	    { RCPT, "bob@sub.example.com", 0, "PASS", 0, NULL },
	    { HELO, "mail.foo.TEST", 0, "REPLY 554 helo", 0, NULL },
	    { HELO, "smtp.foo.test", 0, "PASS", 0, NULL },
	    { AUTH, "Admin", 0, "DISCONNECT", 0, NULL },
	    { AUTH, "admin2", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "null sender", {
	    "mail \"\" reply 550 5.7.1 \"No bounces\"",
	    NULL }, 0, {
	    { MAIL, "", 0, "REPLY 550 5.7.1 No bounces", 0, NULL },
	    { MAIL, "a@b.c", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "connect CIDR", {
	    "connect 10.0.0.0/8 disconnect",
	    "connect ::1 reply 421 4.3.2 \"Too busy\"",
	    "connect 2001:db8::/32 delay 2s",
	    NULL }, 0, {
	    { CONNECT, "10.1.2.3", 0, "DISCONNECT", 0, NULL },
	    { CONNECT, "::ffff:10.1.2.3", 0, "DISCONNECT", 0, NULL },
	    { CONNECT, "::1", 0, "REPLY 421 4.3.2 Too busy", 0, NULL },
	    { CONNECT, "127.0.0.1", 0, "PASS", 0, NULL },
	    { CONNECT, "2001:db8:5::1", 0, "DELAY 2000", 3, NULL },
	    { CONNECT, "2001:db8:5::1", 3, "PASS", 0, NULL },
	    { CONNECT, "unknown", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "data HEADER=GLOB", {
	    "data Subject=*fail* reply 554 5.6.0 \"Content rejected\"",
	    "data X-Test=yes disconnect",
	    "data \"Subject=slow down*\" delay 1500ms",
	    NULL }, 0, {
	    { DATA, "", 0, "REPLY 554 5.6.0 Content rejected", 0,
		"Subject=This will FAIL now" },
	    { DATA, "", 0, "DISCONNECT", 0, "Subject=hello|X-Test=YES" },
	    { DATA, "", 0, "PASS", 0, "Subject=hello|X-Test=no" },
	    { DATA, "", 0, "DELAY 1500", 3, "Subject=Slow down please" },
	    { DATA, "", 3, "PASS", 0, "Subject=Slow down please" },
	    { DATA, "", 0, "PASS", 0, "" },		/* no headers */
	    { DATA, "", 0, "PASS", 0, NULL },		/* no header fn */
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "delay, then the cursor goes on with the next rule", {
	    "rcpt * delay 500ms",
	    "rcpt slow@* delay 1s",
	    "rcpt *@reject.test reply 451 4.3.0 \"after\"",
	    "rcpt * delay 10m",
	    NULL }, 0, {
	    { RCPT, "bob@reject.test", 0, "DELAY 500", 1, NULL },
	    { RCPT, "bob@reject.test", 1, "REPLY 451 4.3.0 after", 0, NULL },
	    { RCPT, "slow@reject.test", 0, "DELAY 500", 1, NULL },
	    { RCPT, "slow@reject.test", 1, "DELAY 1000", 2, NULL },
	    { RCPT, "slow@reject.test", 2, "REPLY 451 4.3.0 after", 0,
		NULL },
	    { RCPT, "bob@example.com", 0, "DELAY 500", 1, NULL },
	    { RCPT, "bob@example.com", 1, "DELAY 600000", 4, NULL },
	    { RCPT, "bob@example.com", 4, "PASS", 0, NULL },
	    /* after a delay, the magic addresses still apply */
	    { RCPT, "bob+smtp550@example.com", 4, MAGIC_550, 0, NULL },
	    /* a cursor past the end (rules reloaded meanwhile) */
	    { RCPT, "bob@example.com", 99, "PASS", 0, NULL },
	    { RCPT, "bob@example.com", -3, "DELAY 500", 1, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "accept stops and skips magic", {
	    "rcpt vip* accept",
	    "rcpt *@blocked.test reply 550 5.7.1 \"no\"",
	    NULL }, 0, {
	    { RCPT, "vip+smtp550@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "vip@blocked.test", 0, "PASS", 0, NULL },
	    { RCPT, "bob@blocked.test", 0, "REPLY 550 5.7.1 no", 0, NULL },
	    /* rules are checked before magic */
	    { RCPT, "bob+smtp451@blocked.test", 0, "REPLY 550 5.7.1 no", 0,
		NULL },
	    { RCPT, "bob+smtp550@example.com", 0, MAGIC_550, 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "magic at MAIL and RCPT only", {
	    NULL }, 0, {
	    { RCPT, "bob+smtp550@example.com", 0, MAGIC_550, 0, NULL },
	    { MAIL, "app+smtp451@example.com", 0, "REPLY 451 4.3.0 "
		"<app+smtp451@example.com>: Local error in processing "
		"(mailsink magic address)", 0, NULL },
	    { HELO, "bob+smtp550@example.com", 0, "PASS", 0, NULL },
	    { AUTH, "bob+smtp550@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "bob@example.com", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "magic off", {
	    NULL }, 1, {
	    { RCPT, "bob+smtp550@example.com", 0, "PASS", 0, NULL },
	    { MAIL, "bob+smtp550@example.com", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "greylisting: times 1 per recipient", {
	    "rcpt * reply 451 4.7.1 \"Greylisted\" times 1",
	    NULL }, 0, {
	    { RCPT, "a@example.com", 0, "REPLY 451 4.7.1 Greylisted", 0,
		NULL },
	    { RCPT, "a@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "A@EXAMPLE.COM", 0, "PASS", 0, NULL },
	    { RCPT, "b@example.com", 0, "REPLY 451 4.7.1 Greylisted", 0,
		NULL },
	    { RCPT, "b@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "a@example.com", 0, "PASS", 0, NULL },
	    /* the counter is per rule and value, not per stage only */
	    { MAIL, "c@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "c@example.com", 0, "REPLY 451 4.7.1 Greylisted", 0,
		NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "times 2, then the next rule", {
	    "helo * reply 450 \"twice\" times 2",
	    "helo * reply 550 \"after\"",
	    NULL }, 0, {
	    { HELO, "x", 0, "REPLY 450 twice", 0, NULL },
	    { HELO, "y", 0, "REPLY 450 twice", 0, NULL },
	    { HELO, "x", 0, "REPLY 450 twice", 0, NULL },
	    { HELO, "x", 0, "REPLY 550 after", 0, NULL },
	    { HELO, "x", 0, "REPLY 550 after", 0, NULL },
	    { HELO, "y", 0, "REPLY 450 twice", 0, NULL },
	    { HELO, "y", 0, "REPLY 550 after", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "times counts only matching attempts", {
	    "rcpt grey@* reply 451 \"g\" times 1",
	    NULL }, 0, {
	    { RCPT, "other@example.com", 0, "PASS", 0, NULL },
	    { RCPT, "grey@example.com", 0, "REPLY 451 g", 0, NULL },
	    { RCPT, "grey@example.com", 0, "PASS", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "delay with times: slow only the first time", {
	    "connect * delay 5s times 1",
	    "connect * reply 554 \"after delay\"",
	    NULL }, 0, {
	    { CONNECT, "127.0.0.1", 0, "DELAY 5000", 1, NULL },
	    { CONNECT, "127.0.0.1", 1, "REPLY 554 after delay", 0, NULL },
	    { CONNECT, "127.0.0.1", 0, "REPLY 554 after delay", 0, NULL },
	    { CONNECT, "::1", 0, "DELAY 5000", 1, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "data * with times counts messages", {
	    "data * reply 452 4.3.1 \"once\" times 1",
	    NULL }, 0, {
	    { DATA, "", 0, "REPLY 452 4.3.1 once", 0, "Subject=a" },
	    { DATA, "", 0, "PASS", 0, "Subject=b" },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "data header times per header value", {
	    "data subject=* reply 451 \"grey\" times 1",
	    NULL }, 0, {
	    { DATA, "", 0, "REPLY 451 grey", 0, "Subject=one" },
	    { DATA, "", 0, "PASS", 0, "Subject=ONE" },
	    { DATA, "", 0, "REPLY 451 grey", 0, "Subject=two" },
	    { 0, NULL, 0, NULL, 0, NULL } } },

	{ "probability 0 and 1", {
	    "rcpt never@* reply 550 \"never\" probability 0",
	    "rcpt * reply 551 \"always\" probability 1",
	    NULL }, 0, {
	    { RCPT, "never@x", 0, "REPLY 551 always", 0, NULL },
	    { RCPT, "never@x", 0, "REPLY 551 always", 0, NULL },
	    { RCPT, "a@x", 0, "REPLY 551 always", 0, NULL },
	    { 0, NULL, 0, NULL, 0, NULL } } },
};

/* Stub header lookup: harg is "Name=value|Name=value", names any case. */
static const char *
stub_header(void *harg, const char *name)
{
	static char	 value[256];
	const char	*p = harg, *eq, *bar;
	size_t		 n;

	while (p != NULL && *p != '\0') {
		eq = strchr(p, '=');
		bar = strchr(p, '|');
		if (eq == NULL)
			return (NULL);
		if ((size_t)(eq - p) == strlen(name) &&
		    strncasecmp(p, name, strlen(name)) == 0) {
			n = bar != NULL ? (size_t)(bar - eq - 1) :
			    strlen(eq + 1);
			if (n >= sizeof(value))
				n = sizeof(value) - 1;
			memcpy(value, eq + 1, n);
			value[n] = '\0';
			return (value);
		}
		p = bar != NULL ? bar + 1 : NULL;
	}
	return (NULL);
}

/* A verdict as text, for comparing and printing. */
static void
verdict_text(const struct smtp_verdict *v, char *buf, size_t len)
{
	switch (v->kind) {
	case SMTP_VERDICT_PASS:
		(void)snprintf(buf, len, "PASS");
		return;
	case SMTP_VERDICT_DISCONNECT:
		(void)snprintf(buf, len, "DISCONNECT");
		return;
	case SMTP_VERDICT_DELAY:
		(void)snprintf(buf, len, "DELAY %llu",
		    (unsigned long long)v->delay_ms);
		return;
	case SMTP_VERDICT_REPLY:
		if (v->enh[0] != '\0')
			(void)snprintf(buf, len, "REPLY %d %s %s", v->code,
			    v->enh, v->text);
		else
			(void)snprintf(buf, len, "REPLY %d %s", v->code,
			    v->text);
		return;
	}
	(void)snprintf(buf, len, "kind %d?", (int)v->kind);
}

/* Run one check and return the verdict as text in buf. */
static void
check(struct rules *rs, enum smtp_stage stage, const char *value,
    const char *headers, int *cursor, char *buf, size_t len)
{
	struct smtp_verdict	v;

	memset(&v, 0xa5, sizeof(v));	/* every field must be set */
	rules_check(rs, stage, value, headers != NULL ? stub_header : NULL,
	    (void *)(uintptr_t)headers, cursor, &v);
	verdict_text(&v, buf, len);
}

static struct rules *
make_rules(const char *const *texts, uint64_t seed)
{
	struct rules	*rs;
	char		*cause = NULL;
	size_t		 i;

	rs = rules_new(seed);
	for (i = 0; texts[i] != NULL; i++) {
		if (rules_add(rs, texts[i], "test", &cause) == -1)
			fail_msg("rule \"%s\": %s", texts[i], cause);
	}
	return (rs);
}

static void
test_scenarios(void **state)
{
	struct rules		*rs;
	const struct step	*st;
	char			 got[512];
	size_t			 i, k;
	int			 cursor, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];

		rs = make_rules(sc->rules, 42);
		if (sc->no_magic)
			rules_set_magic(rs, 0);
		for (k = 0; sc->steps[k].want != NULL; k++) {
			st = &sc->steps[k];
			cursor = st->cursor;
			check(rs, st->stage, st->value, st->headers, &cursor,
			    got, sizeof(got));
			if (strcmp(got, st->want) != 0 ||
			    cursor != st->cursor_out) {
				print_error("%s, step %zu (stage %d \"%s\", "
				    "cursor %d):\n  got  \"%s\" cursor %d\n"
				    "  want \"%s\" cursor %d\n", sc->label, k,
				    (int)st->stage, st->value, st->cursor, got,
				    cursor, st->want, st->cursor_out);
				failed = 1;
			}
		}
		rules_free(rs);
	}
	if (failed)
		fail();
}

struct glob_case {
	const char	*pattern;
	const char	*value;
	int		 want;
};

static const struct glob_case glob_cases[] = {
	{ "*", "", 1 },
	{ "*", "anything", 1 },
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "abc", "abc", 1 },
	{ "abc", "ABC", 1 },
	{ "ABC", "abc", 1 },
	{ "abc", "abcd", 0 },
	{ "abcd", "abc", 0 },
	{ "a?c", "abc", 1 },
	{ "a?c", "ac", 0 },
	{ "a?c", "abbc", 0 },
	{ "*@bounce.test", "x@bounce.test", 1 },
	{ "*@bounce.test", "x@bounce.test.org", 0 },
	{ "*@bounce.test", "@bounce.test", 1 },
	{ "greylist-*@*", "greylist-1@example.com", 1 },
	{ "greylist-*@*", "greylist@example.com", 0 },
	{ "*fail*", "this will fail", 1 },
	{ "*fail*", "fai", 0 },
	{ "a*b*c", "aXXbYYc", 1 },
	{ "a*b*c", "aXXbYY", 0 },
	{ "a*b*c", "abcbc", 1 },
	{ "**", "x", 1 },
	{ "*?", "", 0 },
	{ "*?", "x", 1 },
	{ "?*", "x", 1 },
	{ "*a", "bbba", 1 },
	{ "*ab", "aab", 1 },
	{ "*aab", "aaab", 1 },
	{ "*.example.com", "mail.example.com", 1 },
	{ "*.example.com", "example.com", 0 },
	/* '?' is one UTF-8 character */
	{ "j?rg@*", "j\xc3\xb6rg@example.com", 1 },
	{ "j??rg@*", "j\xc3\xb6rg@example.com", 0 },
	{ "*\xc3\xb6*", "j\xc3\xb6rg", 1 },
	{ "\xe2\x82\xac?", "\xe2\x82\xac\xe2\x82\xac", 1 },
	/* backtracking stays cheap */
	{ "*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
};

static void
test_glob(void **state)
{
	size_t	i;
	int	got, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(glob_cases); i++) {
		got = rules_glob(glob_cases[i].pattern, glob_cases[i].value);
		if (got != glob_cases[i].want) {
			print_error("rules_glob(\"%s\", \"%s\"): got %d, "
			    "want %d\n", glob_cases[i].pattern,
			    glob_cases[i].value, got, glob_cases[i].want);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

/* Fire pattern of n checks of rule set rs into out ('1' fired). */
static void
fire_pattern(struct rules *rs, char *out, size_t n)
{
	char	got[512], addr[64];
	size_t	i;
	int	cursor;

	for (i = 0; i < n; i++) {
		cursor = 0;
		(void)snprintf(addr, sizeof(addr), "r%zu@example.com", i);
		check(rs, RCPT, addr, NULL, &cursor, got, sizeof(got));
		out[i] = strcmp(got, "PASS") == 0 ? '0' : '1';
	}
	out[n] = '\0';
}

static void
test_probability(void **state)
{
	const char	*texts[] = {
	    "rcpt * reply 451 4.3.0 \"Flaky\" probability 0.3", NULL
	};
	struct rules	*a, *b, *c;
	char		 pa[1001], pb[1001], pc[1001];
	size_t		 i, fired = 0;

	(void)state;
	a = make_rules(texts, 12345);
	b = make_rules(texts, 12345);
	c = make_rules(texts, 54321);
	fire_pattern(a, pa, 1000);
	fire_pattern(b, pb, 1000);
	fire_pattern(c, pc, 1000);
	for (i = 0; i < 1000; i++)
		fired += pa[i] == '1';
	if (fired < 250 || fired > 350)
		fail_msg("probability 0.3: fired %zu of 1000, want 250..350",
		    fired);
	if (strcmp(pa, pb) != 0)
		fail_msg("same seed, different results:\n%s\n%s", pa, pb);
	if (strcmp(pa, pc) == 0)
		fail_msg("different seeds, same results");
	rules_free(a);
	rules_free(b);
	rules_free(c);
}

/*
 * A rule without probability draws nothing: adding one in front of a
 * probability rule leaves its sequence as it was.
 */
static void
test_probability_independent(void **state)
{
	const char	*one[] = {
	    "rcpt * reply 451 \"Flaky\" probability 0.5", NULL
	};
	const char	*two[] = {
	    "rcpt nobody@* reply 550 \"x\"",
	    "rcpt * delay 1s times 1",
	    "rcpt * reply 451 \"Flaky\" probability 0.5", NULL
	};
	struct rules	*a, *b;
	char		 pa[201], pb[201];

	(void)state;
	a = make_rules(one, 7);
	b = make_rules(two, 7);
	fire_pattern(a, pa, 200);
	/* b's delay rule fires first for each new address: skip it. */
	{
		char	got[512], addr[64];
		size_t	i;
		int	cursor;

		for (i = 0; i < 200; i++) {
			(void)snprintf(addr, sizeof(addr), "r%zu@example.com",
			    i);
			cursor = 0;
			check(b, RCPT, addr, NULL, &cursor, got, sizeof(got));
			if (strcmp(got, "DELAY 1000") != 0 || cursor != 2)
				fail_msg("%s: got %s cursor %d", addr, got,
				    cursor);
			check(b, RCPT, addr, NULL, &cursor, got, sizeof(got));
			pb[i] = strcmp(got, "PASS") == 0 ? '0' : '1';
		}
		pb[200] = '\0';
	}
	if (strcmp(pa, pb) != 0)
		fail_msg("sequences differ:\n%s\n%s", pa, pb);
	rules_free(a);
	rules_free(b);
}

/*
 * times and probability together: every matching attempt counts, fired
 * or not.  With seed 99 some of the first 4 attempts do not fire; had
 * only firings been counted, the rule would go on firing after the 4th.
 */
static void
test_times_with_probability(void **state)
{
	const char	*texts[] = {
	    "rcpt * reply 451 \"p\" probability 0.5 times 4",
	    NULL
	};
	struct rules	*rs;
	char		 got[512];
	int		 cursor, i, fired = 0, total = 0;

	(void)state;
	rs = make_rules(texts, 99);
	for (i = 0; i < 50; i++) {
		cursor = 0;
		check(rs, RCPT, "same@example.com", NULL, &cursor, got,
		    sizeof(got));
		if (strcmp(got, "PASS") != 0) {
			fired++;
			if (i >= 4)
				fail_msg("fired at attempt %d, past times 4",
				    i + 1);
		}
		total++;
	}
	if (fired < 1 || fired > 3)
		fail_msg("seed 99: fired %d of the first 4, want 1..3", fired);
	assert_int_equal(total, 50);
	assert_int_equal(rules_counters(rs), 1);
	rules_free(rs);
}

/* The counter table never holds more than its limit; oldest go first. */
static void
test_counters_bounded(void **state)
{
	const char	*texts[] = {
	    "rcpt * reply 451 4.7.1 \"Greylisted\" times 1", NULL
	};
	struct rules	*rs;
	char		 got[512], addr[64];
	int		 cursor;
	size_t		 i;

	(void)state;
	rs = make_rules(texts, 1);
	rules_set_counters_max(rs, 10);
	for (i = 0; i < 25; i++) {
		(void)snprintf(addr, sizeof(addr), "u%zu@example.com", i);
		cursor = 0;
		check(rs, RCPT, addr, NULL, &cursor, got, sizeof(got));
		assert_string_equal(got, "REPLY 451 4.7.1 Greylisted");
		assert_true(rules_counters(rs) <= 10);
	}
	assert_int_equal(rules_counters(rs), 10);
	/* u24 is recent: its retry passes.  u0 was evicted: greylisted. */
	cursor = 0;
	check(rs, RCPT, "u24@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	cursor = 0;
	check(rs, RCPT, "u0@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 4.7.1 Greylisted");
	assert_int_equal(rules_counters(rs), 10);
	/* Lowering the limit drops the oldest at once. */
	rules_set_counters_max(rs, 3);
	assert_int_equal(rules_counters(rs), 3);
	cursor = 0;
	check(rs, RCPT, "u0@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	rules_free(rs);

	/* The default limit, one past it and more. */
	rs = make_rules(texts, 1);
	for (i = 0; i < RULES_COUNTERS_MAX + 5; i++) {
		(void)snprintf(addr, sizeof(addr), "v%zu@example.com", i);
		cursor = 0;
		check(rs, RCPT, addr, NULL, &cursor, got, sizeof(got));
		if (strcmp(got, "REPLY 451 4.7.1 Greylisted") != 0)
			fail_msg("%s: got \"%s\"", addr, got);
	}
	assert_int_equal(rules_counters(rs), RULES_COUNTERS_MAX);
	cursor = 0;
	check(rs, RCPT, "v5@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	cursor = 0;
	check(rs, RCPT, "v4@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 4.7.1 Greylisted");
	rules_free(rs);
}

/* Reload keeps the counters of unchanged rules and the generator state. */
static void
test_reload(void **state)
{
	const char	*old_texts[] = {
	    "rcpt * reply 451 4.7.1 \"Greylisted\" times 1",
	    "mail * reply 451 \"M\" times 1",
	    "helo * reply 450 \"H\" times 1",
	    "auth * reply 454 \"flaky\" probability 0.5",
	    NULL
	};
	const char	*new_texts[] = {
	    "rcpt\t*   reply 451 4.7.1 \"Greylisted\"   times 1", /* same */
	    "mail * reply 451 \"M\" times 2",		/* changed */
	    "connect * accept",					/* new */
	    "auth * reply 454 \"flaky\" probability .5",	/* same */
	    NULL
	};
	struct rules	*old, *twin, *nw;
	char		 got[512], pa[101], pb[101];
	int		 cursor, i;

	(void)state;
	old = make_rules(old_texts, 5);
	twin = make_rules(old_texts, 5);
	cursor = 0;
	check(old, RCPT, "a@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 4.7.1 Greylisted");
	check(old, MAIL, "s@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 M");
	check(old, HELO, "h.example", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 450 H");
	assert_int_equal(rules_counters(old), 3);
	/* Advance both generators alike. */
	for (i = 0; i < 17; i++) {
		check(old, AUTH, "u", NULL, &cursor, got, sizeof(got));
		check(twin, AUTH, "u", NULL, &cursor, got, sizeof(got));
	}

	nw = make_rules(new_texts, 999);	/* its own seed is replaced */
	assert_int_equal(rules_reload(nw, old), 2);
	rules_free(old);
	assert_int_equal(rules_counters(nw), 1);

	/* The unchanged greylisting rule remembers a@example.com. */
	cursor = 0;
	check(nw, RCPT, "a@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	check(nw, RCPT, "b@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 4.7.1 Greylisted");
	/* The changed rule starts afresh. */
	check(nw, MAIL, "s@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 M");
	check(nw, MAIL, "s@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 M");
	check(nw, MAIL, "s@example.com", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	/* The removed helo rule is gone. */
	check(nw, HELO, "h.example", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");

	/* The generator goes on where old left off, as twin does. */
	for (i = 0; i < 100; i++) {
		check(nw, AUTH, "u", NULL, &cursor, got, sizeof(got));
		pa[i] = strcmp(got, "PASS") == 0 ? '0' : '1';
		check(twin, AUTH, "u", NULL, &cursor, got, sizeof(got));
		pb[i] = strcmp(got, "PASS") == 0 ? '0' : '1';
	}
	pa[100] = pb[100] = '\0';
	if (strcmp(pa, pb) != 0)
		fail_msg("generator not carried over:\n%s\n%s", pa, pb);
	rules_free(nw);
	rules_free(twin);
}

/* Duplicated identical rules pair up one to one on reload. */
static void
test_reload_duplicates(void **state)
{
	const char	*texts[] = {
	    "rcpt * reply 451 \"first\" times 1",
	    "rcpt * reply 451 \"first\" times 1",
	    NULL
	};
	const char	*one[] = {
	    "rcpt * reply 451 \"first\" times 1",
	    NULL
	};
	struct rules	*old, *nw, *empty;
	char		 got[512];
	int		 cursor = 0;

	(void)state;
	old = make_rules(texts, 1);
	/* First attempt: rule 0 fires; second: rule 1 fires; third: pass. */
	check(old, RCPT, "a@x", NULL, &cursor, got, sizeof(got));
	check(old, RCPT, "a@x", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "REPLY 451 first");
	check(old, RCPT, "a@x", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");

	nw = make_rules(one, 1);
	assert_int_equal(rules_reload(nw, old), 1);
	check(nw, RCPT, "a@x", NULL, &cursor, got, sizeof(got));
	assert_string_equal(got, "PASS");
	rules_free(nw);

	/* Reloading into an empty set, and from one. */
	empty = rules_new(1);
	assert_int_equal(rules_reload(empty, old), 0);
	assert_int_equal(rules_counters(empty), 0);
	nw = make_rules(texts, 1);
	assert_int_equal(rules_reload(nw, empty), 0);
	rules_free(empty);
	rules_free(nw);
	rules_free(old);
}

static void
test_add(void **state)
{
	struct rules		*rs;
	const struct rule	*r;
	char			*cause = NULL;

	(void)state;
	rs = rules_new(0);
	assert_int_equal(rules_count(rs), 0);
	assert_int_equal(rules_add(rs, "rcpt * accept", "a.conf:3", &cause),
	    0);
	assert_int_equal(rules_add(rs, "mail  *  disconnect", NULL, &cause),
	    0);
	assert_int_equal(rules_add(rs, "rcpt * reply 250 \"x\"", "a.conf:5",
	    &cause), -1);
	assert_string_equal(cause,
	    "col 14: reply code must be 4xx or 5xx '250'");
	free(cause);
	assert_int_equal(rules_count(rs), 2);
	assert_string_equal(rules_origin(rs, 0), "a.conf:3");
	assert_null(rules_origin(rs, 1));
	r = rules_get(rs, 1);
	assert_int_equal(r->stage, SMTP_STAGE_MAIL);
	assert_string_equal(r->canon, "mail * disconnect");
	rules_free(rs);
	rules_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_probability),
		cmocka_unit_test(test_probability_independent),
		cmocka_unit_test(test_times_with_probability),
		cmocka_unit_test(test_counters_bounded),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_duplicates),
		cmocka_unit_test(test_add),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
