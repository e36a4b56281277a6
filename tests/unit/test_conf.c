/*
 * test_conf.c - tables for conf.c: defaults, every directive good and bad,
 * the file lexer (quotes, comments, CRLF, NULs, long lines), the exact
 * FILE:LINE:COL messages, and command line over file precedence.
 *
 * Stored values are checked through conf_dump(), which is itself checked
 * by a round trip, so one "name value" line says what a case wants.
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
#include "conf.h"

/* Fail unless the dump of cfg holds the whole line want. */
static void
want_line(const char *label, const struct config *cfg, const char *want)
{
	char	*dump, *framed, *needle;

	dump = conf_dump(cfg);
	if (asprintf(&framed, "\n%s", dump) == -1 ||
	    asprintf(&needle, "\n%s\n", want) == -1)
		fail_msg("asprintf");
	if (strstr(framed, needle) == NULL)
		fail_msg("%s: line '%s' not in dump:\n%s", label, want, dump);
	free(dump);
	free(framed);
	free(needle);
}

/* Fail unless got equals want (both may be NULL). */
static void
want_str(const char *label, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s:\n  got  '%s'\n  want '%s'", label,
		    got ? got : "(null)", want ? want : "(null)");
}

static void
test_defaults(void **state)
{
	struct config	cfg;
	static const char *lines[] = {
		"smtp 127.0.0.1:1025", "smtps off", "http 127.0.0.1:8025",
		"db mailsink.db", "# hostname (the system's)", "max-size 25M",
		"max-recipients 1000", "max-connections 1000", "timeout 300",
		"# tls-cert (self-signed)", "# tls-key (self-signed)",
		"starttls on", "auth any", "auth-required no",
		"# rule-seed (random)", "max-messages 0", "log-level info",
		"transcript no", "magic-addresses on", "# user (none)",
	};
	size_t	i;

	(void)state;
	conf_init(&cfg);
	assert_int_equal(cfg.nsmtp, 1);
	assert_string_equal(cfg.smtp[0], "127.0.0.1:1025");
	assert_int_equal(cfg.nsmtps, 0);
	assert_string_equal(cfg.http, "127.0.0.1:8025");
	assert_string_equal(cfg.db, "mailsink.db");
	assert_null(cfg.hostname);
	assert_true(cfg.max_size == 26214400);
	assert_true(cfg.max_recipients == 1000);
	assert_true(cfg.max_connections == 1000);
	assert_true(cfg.timeout == 300);
	assert_null(cfg.tls_cert);
	assert_null(cfg.tls_key);
	assert_int_equal(cfg.starttls, 1);
	assert_string_equal(cfg.auth, "any");
	assert_int_equal(cfg.auth_required, 0);
	assert_int_equal(cfg.nrules, 0);
	assert_true(cfg.max_messages == 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.transcript, 0);
	assert_int_equal(cfg.magic_addresses, 1);
	assert_int_equal(cfg.has_rule_seed, 0);
	assert_null(cfg.user);
	assert_null(cfg.config_file);
	for (i = 0; i < MS_NITEMS(lines); i++)
		want_line("defaults", &cfg, lines[i]);
	conf_clear(&cfg);
	/* conf_clear leaves a zeroed struct; clearing again is harmless. */
	conf_clear(&cfg);
	assert_null(cfg.smtp);
}

struct set_case {
	const char	*name;
	const char	*value;		/* NULL: a bare flag */
	const char	*want;		/* dump line, or the exact cause */
	int		 ok;
};

static const struct set_case set_cases[] = {
	{ "smtp", "0.0.0.0:25", "smtp 0.0.0.0:25", 1 },
	{ "smtp", "localhost:0", "smtp localhost:0", 1 },
	{ "smtp", "[::1]:2525", "smtp [::1]:2525", 1 },
	{ "smtp", "[fe80::1%eth0]:25", "smtp [fe80::1%eth0]:25", 1 },
	{ "smtp", "127.0.0.1:65535", "smtp 127.0.0.1:65535", 1 },
	{ "smtp", "off", "smtp off", 1 },
	{ "smtp", "1025", "smtp: invalid address '1025' (expected"
	    " HOST:PORT)", 0 },
	{ "smtp", ":1025", "smtp: missing host in ':1025' (expected"
	    " HOST:PORT, e.g. 127.0.0.1:1025)", 0 },
	{ "smtp", "::1:25", "smtp: IPv6 address needs brackets '::1:25'"
	    " (expected [IPV6]:PORT)", 0 },
	{ "smtp", "1.2.3.4:65536", "smtp: port out of range in"
	    " '1.2.3.4:65536' (0 to 65535)", 0 },
	{ "smtp", "1.2.3.4:99999999999999999999", "smtp: port out of range"
	    " in '1.2.3.4:99999999999999999999' (0 to 65535)", 0 },
	{ "smtp", "1.2.3.4:", "smtp: invalid port in '1.2.3.4:' (expected"
	    " HOST:PORT)", 0 },
	{ "smtp", "1.2.3.4:-1", "smtp: invalid port in '1.2.3.4:-1'"
	    " (expected HOST:PORT)", 0 },
	{ "smtp", "[::1]25", "smtp: invalid address '[::1]25' (expected"
	    " [IPV6]:PORT)", 0 },
	{ "smtp", "[]:25", "smtp: invalid IPv6 address '[]:25'", 0 },
	{ "smtp", "a/b:25", "smtp: invalid host in 'a/b:25'", 0 },
	{ "smtp", "", "smtp: invalid address '' (expected HOST:PORT)", 0 },
	{ "smtp", NULL, "smtp: missing value", 0 },
	{ "smtps", "127.0.0.1:465", "smtps 127.0.0.1:465", 1 },
	{ "smtps", "465", "smtps: invalid address '465' (expected"
	    " HOST:PORT)", 0 },
	{ "http", "off", "http off", 1 },
	{ "http", "[::]:8025", "http [::]:8025", 1 },
	{ "http", "on", "http: invalid address 'on' (expected HOST:PORT)",
	    0 },
	{ "db", ":memory:", "db :memory:", 1 },
	{ "db", "/var/tmp/my mail.db", "db \"/var/tmp/my mail.db\"", 1 },
	{ "db", "", "db: empty value", 0 },
	{ "db", "a\tb", "db: control character 0x09 in value", 0 },
	{ "hostname", "mx.example.test", "hostname mx.example.test", 1 },
	{ "hostname", "[127.0.0.1]", "hostname [127.0.0.1]", 1 },
	{ "hostname", "two words", "hostname: invalid host name 'two"
	    " words'", 0 },
	{ "hostname", "", "hostname: invalid host name ''", 0 },
	{ "max-size", "10M", "max-size 10M", 1 },
	{ "max-size", "1G", "max-size 1G", 1 },
	{ "max-size", "512k", "max-size 512K", 1 },
	{ "max-size", "1000", "max-size 1000", 1 },
	{ "max-size", "0", "max-size 0", 1 },
	{ "max-size", "12X", "max-size: invalid size '12X' (expected a"
	    " number with an optional K, M or G)", 0 },
	{ "max-size", "-1", "max-size: invalid size '-1' (expected a number"
	    " with an optional K, M or G)", 0 },
	{ "max-size", "99999999999G", "max-size: invalid size"
	    " '99999999999G' (expected a number with an optional K, M or G)",
	    0 },
	{ "max-recipients", "1", "max-recipients 1", 1 },
	{ "max-recipients", "1000000", "max-recipients 1000000", 1 },
	{ "max-recipients", "0", "max-recipients: invalid number '0'"
	    " (expected 1 to 1000000)", 0 },
	{ "max-recipients", "1000001", "max-recipients: invalid number"
	    " '1000001' (expected 1 to 1000000)", 0 },
	{ "max-recipients", "ten", "max-recipients: invalid number 'ten'"
	    " (expected 1 to 1000000)", 0 },
	{ "max-connections", "5", "max-connections 5", 1 },
	{ "max-connections", " 5", "max-connections: invalid number ' 5'"
	    " (expected 1 to 1000000)", 0 },
	{ "timeout", "1", "timeout 1", 1 },
	{ "timeout", "5m", "timeout 300", 1 },
	{ "timeout", "30s", "timeout 30", 1 },
	{ "timeout", "86400", "timeout 86400", 1 },
	{ "timeout", "0", "timeout: invalid value '0' (expected seconds"
	    " from 1 to 86400)", 0 },
	{ "timeout", "86401", "timeout: invalid value '86401' (expected"
	    " seconds from 1 to 86400)", 0 },
	{ "timeout", "1500ms", "timeout: invalid value '1500ms' (expected"
	    " seconds from 1 to 86400)", 0 },
	{ "tls-cert", "/etc/ssl/c.pem", "tls-cert /etc/ssl/c.pem", 1 },
	{ "tls-key", "k.pem", "tls-key k.pem", 1 },
	{ "tls-key", "", "tls-key: empty value", 0 },
	{ "starttls", "off", "starttls off", 1 },
	{ "starttls", "required", "starttls required", 1 },
	{ "starttls", "on", "starttls on", 1 },
	{ "starttls", "yes", "starttls: invalid value 'yes' (expected on,"
	    " off or required)", 0 },
	{ "auth", "off", "auth off", 1 },
	{ "auth", "/etc/mailsink/users", "auth /etc/mailsink/users", 1 },
	{ "auth", "", "auth: empty value", 0 },
	{ "auth-required", NULL, "auth-required yes", 1 },
	{ "auth-required", "true", "auth-required yes", 1 },
	{ "auth-required", "off", "auth-required no", 1 },
	{ "auth-required", "maybe", "auth-required: invalid value 'maybe'"
	    " (expected yes or no)", 0 },
	{ "rule", "rcpt * reply 451 4.7.1 \"Greylisted\" times 1",
	    "rule rcpt * reply 451 4.7.1 \"Greylisted\" times 1", 1 },
	{ "rule", "  connect 10.0.0.0/8 disconnect  ",
	    "rule connect 10.0.0.0/8 disconnect", 1 },
	{ "rule", "data", "rule: col 1: missing match after 'data'", 0 },
	{ "rule", "data\t*\taccept", "rule data\t*\taccept", 1 },
	{ "rule", "data * reply 554 \"a\nb\"", "rule: control character"
	    " 0x0a in value", 0 },
	{ "rule", "", "rule: empty rule", 0 },
	{ "rule", "   ", "rule: empty rule", 0 },
	{ "rule", "rcptx * disconnect", "rule: col 1: unknown stage 'rcptx'"
	    " (expected connect, helo, auth, mail, rcpt or data)",
	    0 },
	{ "rule", "RCPT * disconnect", "rule: col 1: unknown stage 'RCPT'"
	    " (expected connect, helo, auth, mail, rcpt or data)",
	    0 },
	{ "rule-seed", "18446744073709551615",
	    "rule-seed 18446744073709551615", 1 },
	{ "rule-seed", "18446744073709551616", "rule-seed: invalid number"
	    " '18446744073709551616' (expected 0 to 18446744073709551615)",
	    0 },
	{ "max-messages", "0", "max-messages 0", 1 },
	{ "max-messages", "500", "max-messages 500", 1 },
	{ "max-messages", "1e3", "max-messages: invalid number '1e3'"
	    " (expected 0 to 9223372036854775807)", 0 },
	{ "log-level", "debug", "log-level debug", 1 },
	{ "log-level", "error", "log-level error", 1 },
	{ "log-level", "verbose", "log-level: invalid value 'verbose'"
	    " (expected error, warn, info or debug)", 0 },
	{ "transcript", NULL, "transcript yes", 1 },
	{ "transcript", "no", "transcript no", 1 },
	{ "transcript", "1", "transcript: invalid value '1' (expected yes"
	    " or no)", 0 },
	{ "magic-addresses", "off", "magic-addresses off", 1 },
	{ "magic-addresses", "no", "magic-addresses: invalid value 'no'"
	    " (expected on or off)", 0 },
	{ "user", "nobody", "user nobody", 1 },
	{ "user", "", "user: empty value", 0 },
	{ "bogus", "x", "unknown directive 'bogus'", 0 },
	{ "max_size", "1", "unknown directive 'max_size'", 0 },
	{ "", "1", "unknown directive ''", 0 },
};

static void
test_set_table(void **state)
{
	const struct set_case	*tc;
	struct config		 cfg;
	char			*cause, label[128];
	size_t			 i;
	int			 r;

	(void)state;
	for (i = 0; i < MS_NITEMS(set_cases); i++) {
		tc = &set_cases[i];
		snprintf(label, sizeof(label), "case %zu: %s %s", i, tc->name,
		    tc->value ? tc->value : "(none)");
		conf_init(&cfg);
		cause = NULL;
		r = conf_set(&cfg, tc->name, tc->value, CONF_SRC_CLI, &cause);
		if (tc->ok) {
			if (r != 0)
				fail_msg("%s: failed: %s", label, cause);
			want_line(label, &cfg, tc->want);
		} else {
			if (r != -1)
				fail_msg("%s: accepted, want '%s'", label,
				    tc->want);
			want_str(label, cause, tc->want);
		}
		free(cause);
		conf_clear(&cfg);
	}
}

/* A bad value leaves the old one in place. */
static void
test_set_bad_keeps_old(void **state)
{
	struct config	 cfg;
	char		*cause = NULL;

	(void)state;
	conf_init(&cfg);
	assert_int_equal(conf_set(&cfg, "max-size", "1M", CONF_SRC_CLI,
	    &cause), 0);
	assert_int_equal(conf_set(&cfg, "max-size", "1Q", CONF_SRC_CLI,
	    &cause), -1);
	free(cause);
	assert_true(cfg.max_size == 1024 * 1024);
	/* A NULL cause pointer is allowed. */
	assert_int_equal(conf_set(&cfg, "nope", "x", CONF_SRC_CLI, NULL), -1);
	assert_int_equal(conf_set(&cfg, "db", "", CONF_SRC_CLI, NULL), -1);
	assert_string_equal(cfg.db, "mailsink.db");
	conf_clear(&cfg);
}

/* Good files: what the lexer makes of quotes, comments and line ends. */
struct parse_case {
	const char	*label;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want[4];	/* dump lines */
};

static const struct parse_case parse_good[] = {
	{ "empty file", "", 0, { "db mailsink.db" } },
	{ "only comments and blanks",
	    "# a comment\n\n   \t\n  # indented comment\n", 0,
	    { "db mailsink.db" } },
	{ "simple", "db x.db\nmax-size 1M\n", 0,
	    { "db x.db", "max-size 1M" } },
	{ "no final newline", "db x.db\nmax-size 1M", 0,
	    { "db x.db", "max-size 1M" } },
	{ "CRLF", "db x.db\r\nmax-size 1M\r\n", 0,
	    { "db x.db", "max-size 1M" } },
	{ "CRLF no final newline", "db x.db\r\nmax-size 1M\r", 0,
	    { "db x.db", "max-size 1M" } },
	{ "tabs and blanks", "\t db \t x.db \t\n", 0, { "db x.db" } },
	{ "trailing comment", "db x.db # the store\n", 0, { "db x.db" } },
	{ "comment glued to value", "db x.db#c\n", 0, { "db x.db" } },
	{ "quoted with space", "db \"my mail.db\"\n", 0,
	    { "db \"my mail.db\"" } },
	{ "quoted hash", "db \"a#b\" # c\n", 0, { "db \"a#b\"" } },
	{ "quoted escapes", "db \"a\\\"b\\\\c\"\n", 0,
	    { "db \"a\\\"b\\\\c\"" } },
	{ "other backslash kept", "db \"C:\\tmp\"\n", 0,
	    { "db \"C:\\\\tmp\"" } },
	{ "unquoted backslash kept", "db a\\b\n", 0, { "db \"a\\\\b\"" } },
	{ "quoted then comment", "db \"x\"# c\n", 0, { "db x" } },
	{ "quoted empty hostname?", "user \"nobody\"\n", 0,
	    { "user nobody" } },
	{ "bare flags", "auth-required\ntranscript\n", 0,
	    { "auth-required yes", "transcript yes" } },
	{ "flag with value", "auth-required no\ntranscript off\n", 0,
	    { "auth-required no", "transcript no" } },
	{ "later scalar wins", "db a\ndb b\n", 0, { "db b" } },
	{ "smtp list", "smtp 127.0.0.1:1\nsmtp [::1]:2\n", 0,
	    { "smtp 127.0.0.1:1", "smtp [::1]:2" } },
	{ "smtp off", "smtp off\nsmtps 127.0.0.1:465\n", 0,
	    { "smtp off", "smtps 127.0.0.1:465" } },
	{ "rule keeps quotes", "rule rcpt * reply 451 4.7.1 \"Grey # no\""
	    " times 1 # yes\n", 0,
	    { "rule rcpt * reply 451 4.7.1 \"Grey # no\" times 1" } },
	{ "rule escaped quote", "rule data * reply 554 \"a \\\" # b\"\n", 0,
	    { "rule data * reply 554 \"a \\\" # b\"" } },
	{ "rule with tabs", "rule\trcpt\t*\tdisconnect\t\n", 0,
	    { "rule rcpt\t*\tdisconnect" } },
	{ "byte order mark", "\xef\xbb\xbf" "db x.db\n", 0, { "db x.db" } },
	{ "utf-8 value", "db \xc3\xa9t\xc3\xa9.db\n", 0,
	    { "db \xc3\xa9t\xc3\xa9.db" } },
};

static void
test_parse_good(void **state)
{
	const struct parse_case	*tc;
	struct config		 cfg;
	char			*cause;
	size_t			 i, j, len;

	(void)state;
	for (i = 0; i < MS_NITEMS(parse_good); i++) {
		tc = &parse_good[i];
		len = tc->len ? tc->len : strlen(tc->text);
		conf_init(&cfg);
		cause = NULL;
		if (conf_parse(&cfg, tc->text, len, "t.conf", &cause) != 0)
			fail_msg("%s: failed: %s", tc->label, cause);
		for (j = 0; j < MS_NITEMS(tc->want) && tc->want[j]; j++)
			want_line(tc->label, &cfg, tc->want[j]);
		conf_clear(&cfg);
	}
}

/* Bad files: the exact message, FILE:LINE:COL and the word. */
struct bad_case {
	const char	*label;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want;
};

static const struct bad_case parse_bad[] = {
	{ "unknown directive", "db x\nfoo bar\n", 0,
	    "f.conf:2:1: unknown directive 'foo'" },
	{ "unknown indented", "  \tsmtpd 1.2.3.4:25\n", 0,
	    "f.conf:1:4: unknown directive 'smtpd'" },
	{ "dashes", "--smtp 1.2.3.4:25\n", 0,
	    "f.conf:1:1: unknown directive '--smtp' (write it without the"
	    " dashes)" },
	{ "missing value", "# c\n\ndb\n", 0, "f.conf:3:1: db: missing value" },
	{ "missing value before comment", "db   # none\n", 0,
	    "f.conf:1:1: db: missing value" },
	{ "extra word", "max-size 10M 20M\n", 0,
	    "f.conf:1:14: max-size: takes one value, got extra word '20M'" },
	{ "extra word on flag", "transcript yes please\n", 0,
	    "f.conf:1:16: transcript: takes one value, got extra word"
	    " 'please'" },
	{ "unquoted path with space", "db my mail.db\n", 0,
	    "f.conf:1:7: db: takes one value, got extra word 'mail.db'" },
	{ "bad value column", "max-size    12X\n", 0,
	    "f.conf:1:13: max-size: invalid size '12X' (expected a number"
	    " with an optional K, M or G)" },
	{ "bad port", "smtp 127.0.0.1:1025\nsmtp 127.0.0.1:70000\n", 0,
	    "f.conf:2:6: smtp: port out of range in '127.0.0.1:70000' (0 to"
	    " 65535)" },
	{ "unterminated quote", "db \"abc\n", 0,
	    "f.conf:1:4: unterminated quoted string" },
	{ "unterminated quote CRLF", "db x\r\ndb \"abc\r\n", 0,
	    "f.conf:2:4: unterminated quoted string" },
	{ "escaped final quote", "db \"abc\\\"\n", 0,
	    "f.conf:1:4: unterminated quoted string" },
	{ "junk after quote", "db \"abc\"def\n", 0,
	    "f.conf:1:9: unexpected character after quoted string" },
	{ "quote inside word", "db ab\"cd\"\n", 0,
	    "f.conf:1:6: unexpected quote in 'ab\"cd\"'" },
	{ "NUL byte", "db x\ndb a\0b\n", 11, "f.conf:2:5: NUL byte in line" },
	{ "NUL in comment", "# a\0\n", 5, "f.conf:1:4: NUL byte in line" },
	{ "bare CR inside", "db a\rb\n", 0,
	    "f.conf:1:5: control character 0x0d" },
	{ "escape char", "db \x1b[31m\n", 0,
	    "f.conf:1:4: control character 0x1b" },
	{ "rule bad stage", "rule  recipient * disconnect\n", 0,
	    "f.conf:1:7: rule: unknown stage 'recipient'"
	    " (expected connect, helo, auth, mail, rcpt or data)" },
	{ "rule empty", "rule   # nothing\n", 0,
	    "f.conf:1:1: rule: missing value" },
	{ "rule unterminated", "rule data * reply 554 \"oops\n", 0,
	    "f.conf:1:23: unterminated quoted string" },
	{ "config in file", "config other.conf\n", 0,
	    "f.conf:1:8: config: only allowed on the command line" },
	{ "starttls word", "starttls maybe\n", 0,
	    "f.conf:1:10: starttls: invalid value 'maybe' (expected on, off"
	    " or required)" },
	{ "error on last line, no newline", "db x\ntimeout 0", 0,
	    "f.conf:2:9: timeout: invalid value '0' (expected seconds from 1"
	    " to 86400)" },
	{ "empty quoted", "db \"\"\n", 0, "f.conf:1:4: db: empty value" },
};

static void
test_parse_bad(void **state)
{
	const struct bad_case	*tc;
	struct config		 cfg;
	char			*cause, label[128];
	size_t			 i, len;

	(void)state;
	for (i = 0; i < MS_NITEMS(parse_bad); i++) {
		tc = &parse_bad[i];
		len = tc->len ? tc->len : strlen(tc->text);
		conf_init(&cfg);
		cause = NULL;
		snprintf(label, sizeof(label), "bad %zu (%s)", i, tc->label);
		if (conf_parse(&cfg, tc->text, len, "f.conf", &cause) != -1)
			fail_msg("%s: accepted, want '%s'", label, tc->want);
		want_str(label, cause, tc->want);
		free(cause);
		conf_clear(&cfg);
	}
}

/* Lines and words of any length; error messages cut long words. */
static void
test_parse_long(void **state)
{
	struct config	 cfg;
	char		*text, *cause = NULL;
	size_t		 n = 100000, i;

	(void)state;
	text = malloc(n + 16);
	assert_non_null(text);
	memcpy(text, "db ", 3);
	for (i = 3; i < n; i++)
		text[i] = 'a' + i % 26;
	text[n] = '\n';
	conf_init(&cfg);
	assert_int_equal(conf_parse(&cfg, text, n + 1, "l.conf", &cause), 0);
	assert_int_equal(strlen(cfg.db), n - 3);
	conf_clear(&cfg);

	/* The same long word as an unknown directive: cut to 60 + "...". */
	conf_init(&cfg);
	assert_int_equal(conf_parse(&cfg, text + 3, n - 3, "l.conf", &cause),
	    -1);
	assert_non_null(cause);
	assert_true(strlen(cause) < 120);
	want_str("long word", cause, "l.conf:1:1: unknown directive"
	    " 'defghijklmnopqrstuvwxyz"
	    "abcdefghijklmnopqrstuvwxyz"
	    "abcdefghijk...'");
	free(cause);
	conf_clear(&cfg);

	/* 10,000 lines of comments then an error: the line count holds. */
	free(text);
	text = malloc(10000 * 4 + 16);
	assert_non_null(text);
	for (i = 0; i < 10000; i++)
		memcpy(text + i * 4, "# x\n", 4);
	memcpy(text + 40000, "bad 1\n", 6);
	conf_init(&cfg);
	cause = NULL;
	assert_int_equal(conf_parse(&cfg, text, 40006, "l.conf", &cause), -1);
	want_str("line count", cause,
	    "l.conf:10001:1: unknown directive 'bad'");
	free(cause);
	conf_clear(&cfg);
	free(text);
}

/* The file is not NUL-terminated: nothing may read past len. */
static void
test_parse_not_terminated(void **state)
{
	struct config	 cfg;
	char		*buf, *cause = NULL;
	const char	*src = "db \"abc";

	(void)state;
	buf = malloc(strlen(src));
	assert_non_null(buf);
	memcpy(buf, src, strlen(src));
	conf_init(&cfg);
	assert_int_equal(conf_parse(&cfg, buf, strlen(src), "u.conf", &cause),
	    -1);
	want_str("unterminated at end", cause,
	    "u.conf:1:4: unterminated quoted string");
	free(cause);
	cause = NULL;
	memcpy(buf, "db ab\"c", 7);
	assert_int_equal(conf_parse(&cfg, buf, 7, "u.conf", &cause), -1);
	want_str("quote at end", cause,
	    "u.conf:1:6: unexpected quote in 'ab\"c'");
	free(cause);
	cause = NULL;
	memcpy(buf, "db abcd", 7);
	assert_int_equal(conf_parse(&cfg, buf, 7, "u.conf", &cause), 0);
	assert_string_equal(cfg.db, "abcd");
	conf_clear(&cfg);
	free(buf);
}

static const char precedence_file[] =
    "smtp 127.0.0.1:2001\n"
    "smtp 127.0.0.1:2002\n"
    "smtps 127.0.0.1:4651\n"
    "db file.db\n"
    "max-size 1M\n"
    "timeout 60\n"
    "rule rcpt a@x reply 550 5.1.1 \"file one\"\n"
    "rule mail * accept\n";

static void
check_precedence(const struct config *cfg)
{
	assert_int_equal(cfg->nsmtp, 2);
	assert_string_equal(cfg->smtp[0], "127.0.0.1:3001");
	assert_string_equal(cfg->smtp[1], "[::1]:3002");
	/* smtps was not given on the command line: the file's list stays. */
	assert_int_equal(cfg->nsmtps, 1);
	assert_string_equal(cfg->smtps[0], "127.0.0.1:4651");
	assert_string_equal(cfg->db, "cli.db");
	assert_true(cfg->max_size == 1024 * 1024);
	assert_true(cfg->timeout == 5);

	assert_int_equal(cfg->nrules, 3);
	assert_string_equal(cfg->rules[0].text,
	    "rcpt a@x reply 550 5.1.1 \"file one\"");
	assert_string_equal(cfg->rules[0].file, "p.conf");
	assert_int_equal(cfg->rules[0].line, 7);
	assert_int_equal(cfg->rules[0].source, CONF_SRC_FILE);
	assert_string_equal(cfg->rules[1].text, "mail * accept");
	assert_int_equal(cfg->rules[1].line, 8);
	assert_string_equal(cfg->rules[2].text, "data * disconnect");
	assert_string_equal(cfg->rules[2].file, "command line");
	assert_int_equal(cfg->rules[2].line, 0);
	assert_int_equal(cfg->rules[2].source, CONF_SRC_CLI);
}

/* Command line over file, whichever is applied first. */
static void
test_precedence(void **state)
{
	struct config	 cfg;
	char		*cause = NULL;
	int		 order;

	(void)state;
	for (order = 0; order < 2; order++) {
		conf_init(&cfg);
		if (order == 0)
			assert_int_equal(conf_parse(&cfg, precedence_file,
			    strlen(precedence_file), "p.conf", &cause), 0);
		assert_int_equal(conf_set(&cfg, "smtp", "127.0.0.1:3001",
		    CONF_SRC_CLI, &cause), 0);
		assert_int_equal(conf_set(&cfg, "db", "cli.db", CONF_SRC_CLI,
		    &cause), 0);
		assert_int_equal(conf_set(&cfg, "rule", "data * disconnect",
		    CONF_SRC_CLI, &cause), 0);
		assert_int_equal(conf_set(&cfg, "smtp", "[::1]:3002",
		    CONF_SRC_CLI, &cause), 0);
		assert_int_equal(conf_set(&cfg, "timeout", "5", CONF_SRC_CLI,
		    &cause), 0);
		if (order == 1)
			assert_int_equal(conf_parse(&cfg, precedence_file,
			    strlen(precedence_file), "p.conf", &cause), 0);
		check_precedence(&cfg);
		conf_clear(&cfg);
	}
}

/* The first file smtp replaces the default; the first CLI one the file's. */
static void
test_smtp_lists(void **state)
{
	struct config	 cfg;
	const char	*f = "smtp 127.0.0.1:1\n";

	(void)state;
	conf_init(&cfg);
	assert_int_equal(conf_parse(&cfg, f, strlen(f), "s.conf", NULL), 0);
	assert_int_equal(cfg.nsmtp, 1);
	assert_string_equal(cfg.smtp[0], "127.0.0.1:1");
	conf_clear(&cfg);

	/* Without a CLI smtp, CLI smtps still leaves smtp alone. */
	conf_init(&cfg);
	assert_int_equal(conf_set(&cfg, "smtps", "127.0.0.1:465",
	    CONF_SRC_CLI, NULL), 0);
	assert_int_equal(cfg.nsmtp, 1);
	assert_string_equal(cfg.smtp[0], "127.0.0.1:1025");
	assert_int_equal(cfg.nsmtps, 1);
	/* "off" empties the list; a later value at the same source adds. */
	assert_int_equal(conf_set(&cfg, "smtp", "off", CONF_SRC_CLI, NULL), 0);
	assert_int_equal(cfg.nsmtp, 0);
	assert_int_equal(conf_set(&cfg, "smtp", "127.0.0.1:7", CONF_SRC_CLI,
	    NULL), 0);
	assert_int_equal(cfg.nsmtp, 1);
	assert_string_equal(cfg.smtp[0], "127.0.0.1:7");
	/* A file value after the command line is checked but ignored. */
	assert_int_equal(conf_parse(&cfg, f, strlen(f), "s.conf", NULL), 0);
	assert_int_equal(cfg.nsmtp, 1);
	assert_string_equal(cfg.smtp[0], "127.0.0.1:7");
	assert_int_equal(conf_parse(&cfg, "smtp 1", 6, "s.conf", NULL), -1);
	conf_clear(&cfg);
}

/* Rules keep their order within a source, file before command line. */
static void
test_rules_order(void **state)
{
	struct config	 cfg;
	const char	*f = "rule helo a disconnect\n# x\nrule helo b"
	    " disconnect\n";
	static const char *want[] = {
		"helo a disconnect", "helo b disconnect", "rcpt e disconnect",
		"mail c disconnect", "mail d disconnect"
	};
	size_t		 i;

	(void)state;
	conf_init(&cfg);
	assert_int_equal(conf_set(&cfg, "rule", "mail c disconnect",
	    CONF_SRC_CLI, NULL), 0);
	assert_int_equal(conf_parse(&cfg, f, strlen(f), "r.conf", NULL), 0);
	assert_int_equal(conf_set(&cfg, "rule", "mail d disconnect",
	    CONF_SRC_CLI, NULL), 0);
	assert_int_equal(conf_parse(&cfg, "rule rcpt e disconnect", 22,
	    "r2.conf", NULL), 0);
	assert_int_equal(cfg.nrules, MS_NITEMS(want));
	for (i = 0; i < cfg.nrules; i++)
		want_str("rule order", cfg.rules[i].text, want[i]);
	assert_string_equal(cfg.rules[1].file, "r.conf");
	assert_int_equal(cfg.rules[1].line, 3);
	assert_string_equal(cfg.rules[2].file, "r2.conf");
	assert_int_equal(cfg.rules[2].line, 1);
	conf_clear(&cfg);
}

/* conf_dump output parses back to the same settings. */
static void
test_dump_round_trip(void **state)
{
	struct config	 a, b;
	char		*d1, *d2, *cause = NULL;
	const char	*f =
	    "smtp 0.0.0.0:25\nsmtp [::]:25\nsmtps 127.0.0.1:465\nhttp off\n"
	    "db \"/tmp/a b\\\\c\\\"d.db\"\nhostname mx.test\nmax-size 1000\n"
	    "max-recipients 7\nmax-connections 8\ntimeout 9\n"
	    "tls-cert c.pem\ntls-key k.pem\nstarttls required\n"
	    "auth users.txt\nauth-required\nrule-seed 42\nmax-messages 3\n"
	    "log-level debug\ntranscript\nmagic-addresses off\nuser nobody\n"
	    "rule rcpt * reply 451 4.7.1 \"Greylisted\" times 1\n";

	(void)state;
	conf_init(&a);
	if (conf_parse(&a, f, strlen(f), "d.conf", &cause) != 0)
		fail_msg("parse: %s", cause);
	d1 = conf_dump(&a);
	conf_init(&b);
	if (conf_parse(&b, d1, strlen(d1), "dump", &cause) != 0)
		fail_msg("reparse: %s\n%s", cause, d1);
	d2 = conf_dump(&b);
	want_str("round trip", d2, d1);
	want_line("quoted db", &a, "db \"/tmp/a b\\\\c\\\"d.db\"");
	assert_string_equal(a.db, "/tmp/a b\\c\"d.db");
	assert_int_equal(a.starttls, 2);
	assert_int_equal(a.has_rule_seed, 1);
	assert_true(a.rule_seed == 42);
	assert_int_equal(a.log_level, LOG_LEVEL_DEBUG);
	free(d1);
	free(d2);
	conf_clear(&a);
	conf_clear(&b);
}

/* Every directive is known, documented in the help and dumped. */
static void
test_directives(void **state)
{
	const char *const	*names;
	struct config		 cfg;
	const char		*help, *p;
	char			*dump, opt[64];
	size_t			 n;

	(void)state;
	names = conf_directives();
	help = conf_help();
	conf_init(&cfg);
	dump = conf_dump(&cfg);
	for (n = 0; names[n] != NULL; n++) {
		assert_true(conf_is_known(names[n]));
		/* An option is followed by its argument, a blank or ",". */
		snprintf(opt, sizeof(opt), "  --%s", names[n]);
		p = strstr(help, opt);
		if (p == NULL || strchr(" ,", p[strlen(opt)]) == NULL)
			fail_msg("--%s not in conf_help()", names[n]);
		if (strcmp(names[n], "config") != 0 &&
		    strcmp(names[n], "rule") != 0 &&
		    strstr(dump, names[n]) == NULL)
			fail_msg("%s not in conf_dump()", names[n]);
	}
	assert_int_equal(n, 22);
	assert_non_null(strstr(help, "-v"));
	assert_non_null(strstr(help, "-h"));
	assert_true(conf_is_flag("auth-required"));
	assert_true(conf_is_flag("transcript"));
	assert_false(conf_is_flag("magic-addresses"));
	assert_false(conf_is_flag("smtp"));
	assert_false(conf_is_flag("nope"));
	assert_false(conf_is_known("nope"));
	assert_false(conf_is_known("--smtp"));
	free(dump);
	conf_clear(&cfg);
}

struct check_case {
	const char	*label;
	const char	*text;
	const char	*want;		/* NULL: passes */
};

static const struct check_case check_cases[] = {
	{ "defaults", "", NULL },
	{ "cert and key", "tls-cert c\ntls-key k\n", NULL },
	{ "cert only", "tls-cert c\n",
	    "tls-cert is set but tls-key is not" },
	{ "key only", "tls-key k\n", "tls-key is set but tls-cert is not" },
	{ "auth-required, auth off", "auth off\nauth-required\n",
	    "auth-required needs auth any or a file, not auth off" },
	{ "auth-required, auth any", "auth-required\n", NULL },
	{ "no listener", "smtp off\n",
	    "no SMTP listener: both smtp and smtps are off" },
	{ "smtps only", "smtp off\nsmtps 127.0.0.1:465\n", NULL },
};

static void
test_check(void **state)
{
	const struct check_case	*tc;
	struct config		 cfg;
	char			*cause;
	size_t			 i;
	int			 r;

	(void)state;
	for (i = 0; i < MS_NITEMS(check_cases); i++) {
		tc = &check_cases[i];
		conf_init(&cfg);
		cause = NULL;
		assert_int_equal(conf_parse(&cfg, tc->text, strlen(tc->text),
		    "c.conf", NULL), 0);
		r = conf_check(&cfg, &cause);
		if (r != (tc->want == NULL ? 0 : -1))
			fail_msg("%s: returned %d (%s)", tc->label, r, cause);
		want_str(tc->label, cause, tc->want);
		free(cause);
		conf_clear(&cfg);
	}
}

/* The shipped conf/mailsink.conf loads cleanly and changes nothing. */
static void
test_shipped_conf(void **state)
{
	struct config	 a, b;
	FILE		*f;
	char		*text, *cause = NULL, *d1, *d2;
	size_t		 len;
	long		 size;

	(void)state;
	f = fopen(TEST_SRCDIR "/../../conf/mailsink.conf", "r");
	if (f == NULL)
		fail_msg("conf/mailsink.conf: cannot open");
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	text = malloc((size_t)size);
	assert_non_null(text);
	len = fread(text, 1, (size_t)size, f);
	fclose(f);
	assert_int_equal(len, (size_t)size);
	conf_init(&a);
	if (conf_parse(&a, text, len, "mailsink.conf", &cause) != 0)
		fail_msg("%s", cause);
	conf_init(&b);
	d1 = conf_dump(&a);
	d2 = conf_dump(&b);
	want_str("shipped conf is all defaults", d1, d2);
	free(d1);
	free(d2);
	free(text);
	conf_clear(&a);
	conf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_table),
		cmocka_unit_test(test_set_bad_keeps_old),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_not_terminated),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_smtp_lists),
		cmocka_unit_test(test_rules_order),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_shipped_conf),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
