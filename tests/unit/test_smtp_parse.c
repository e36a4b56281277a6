/*
 * test_smtp_parse.c - smtp_parse.c (MAIL/RCPT arguments, EHLO names, xtext)
 * and envelope.c (recipient storage and the parameter JSON).
 *
 * The MAIL and RCPT tables check every output field of every accepted case,
 * so a parameter that leaks into the wrong field is caught, and the status
 * and reply text of every refused one.  Length limits are generated at run
 * time, exactly at and one past each limit.
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
#include "envelope.h"
#include "smtp_parse.h"

#define OK		SMTP_PARSE_OK
#define SYNTAX		SMTP_PARSE_SYNTAX
#define BAD_ADDR	SMTP_PARSE_BAD_ADDR
#define BAD_PARAM	SMTP_PARSE_BAD_PARAM
#define UNKNOWN		SMTP_PARSE_UNKNOWN_PARAM
#define NEED_UTF8	SMTP_PARSE_NEED_UTF8

#define Q_AFTER		SMTP_QUIRK_SPACE_AFTER_COLON
#define Q_BEFORE	SMTP_QUIRK_SPACE_BEFORE_COLON
#define Q_NOBR		SMTP_QUIRK_NO_BRACKETS
#define Q_ROUTE		SMTP_QUIRK_SOURCE_ROUTE

static const char *
status_name(enum smtp_parse_status st)
{
	switch (st) {
	case SMTP_PARSE_OK:
		return ("OK");
	case SMTP_PARSE_SYNTAX:
		return ("SYNTAX");
	case SMTP_PARSE_BAD_ADDR:
		return ("BAD_ADDR");
	case SMTP_PARSE_BAD_PARAM:
		return ("BAD_PARAM");
	case SMTP_PARSE_UNKNOWN_PARAM:
		return ("UNKNOWN_PARAM");
	case SMTP_PARSE_NEED_UTF8:
		return ("NEED_UTF8");
	}
	return ("?");
}

/* NULL in a table means "" (or "not given") for strings. */
static const char *
nz(const char *s)
{
	return (s != NULL ? s : "");
}

/* ---------------------------------------------------------------- MAIL */

struct mail_case {
	const char		*label;
	const char		*args;		/* after "MAIL" */
	enum smtp_parse_status	 want;
	const char		*errmsg;	/* checked when not NULL */
	const char		*addr;		/* OK: the path */
	int			 quirks;
	int			 has_size;
	uint64_t		 size;
	enum smtp_body		 body;
	int			 smtputf8;
	enum smtp_ret		 ret;
	const char		*envid;
	const char		*auth;		/* NULL: no AUTH= */
};

static const struct mail_case mail_cases[] = {
	/* good, strict */
	{ .label = "plain", .args = " FROM:<a@b.c>", .want = OK,
	    .addr = "a@b.c" },
	{ .label = "no leading space", .args = "FROM:<a@b.c>", .want = OK,
	    .addr = "a@b.c" },
	{ .label = "lower-case FROM, case kept", .args =
	    " from:<John.Doe@Example.COM>", .want = OK,
	    .addr = "John.Doe@Example.COM" },
	{ .label = "null sender", .args = " FROM:<>", .want = OK,
	    .addr = "" },
	{ .label = "null sender, trailing spaces", .args = " FROM:<>   ",
	    .want = OK, .addr = "" },
	{ .label = "dotless domain", .args = " FROM:<user@localhost>",
	    .want = OK, .addr = "user@localhost" },
	{ .label = "hyphen and digits in domain", .args =
	    " FROM:<a@mail-1.ex-ample.123>", .want = OK,
	    .addr = "a@mail-1.ex-ample.123" },
	{ .label = "every atext char", .args =
	    " FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", .want = OK,
	    .addr = "!#$%&'*+-/=?^_`{|}~@example.com" },
	{ .label = "quoted local part with space", .args =
	    " FROM:<\"john doe\"@example.com>", .want = OK,
	    .addr = "\"john doe\"@example.com" },
	{ .label = "quoted pair", .args =
	    " FROM:<\"a\\\"b\\\\c\"@example.com>", .want = OK,
	    .addr = "\"a\\\"b\\\\c\"@example.com" },
	{ .label = "'>' inside quotes", .args =
	    " FROM:<\"a>b\"@example.com> SIZE=1", .want = OK,
	    .addr = "\"a>b\"@example.com", .has_size = 1, .size = 1 },
	{ .label = "empty quoted string", .args = " FROM:<\"\"@example.com>",
	    .want = OK, .addr = "\"\"@example.com" },
	{ .label = "IPv4 literal", .args = " FROM:<a@[192.0.2.1]>",
	    .want = OK, .addr = "a@[192.0.2.1]" },
	{ .label = "IPv6 literal", .args = " FROM:<a@[IPv6:2001:db8::1]>",
	    .want = OK, .addr = "a@[IPv6:2001:db8::1]" },
	{ .label = "IPv6 literal, tag in lower case", .args =
	    " FROM:<a@[ipv6:::1]>", .want = OK, .addr = "a@[ipv6:::1]" },
	{ .label = "IPv6 literal with IPv4 tail", .args =
	    " FROM:<a@[IPv6:::ffff:192.0.2.1]>", .want = OK,
	    .addr = "a@[IPv6:::ffff:192.0.2.1]" },

	/* good, parameters */
	{ .label = "SIZE", .args = " FROM:<a@b.c> SIZE=100", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = 100 },
	{ .label = "SIZE=0", .args = " FROM:<a@b.c> SIZE=0", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = 0 },
	{ .label = "SIZE max uint64", .args =
	    " FROM:<a@b.c> SIZE=18446744073709551615", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = UINT64_MAX },
	{ .label = "SIZE 20 digits with zeros", .args =
	    " FROM:<a@b.c> SIZE=00000000000000000001", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = 1 },
	{ .label = "BODY=7BIT", .args = " FROM:<a@b.c> BODY=7BIT",
	    .want = OK, .addr = "a@b.c", .body = SMTP_BODY_7BIT },
	{ .label = "BODY=8BITMIME", .args = " FROM:<a@b.c> BODY=8BITMIME",
	    .want = OK, .addr = "a@b.c", .body = SMTP_BODY_8BITMIME },
	{ .label = "BODY=BINARYMIME", .args =
	    " FROM:<a@b.c> BODY=BINARYMIME", .want = OK, .addr = "a@b.c",
	    .body = SMTP_BODY_BINARYMIME },
	{ .label = "SMTPUTF8", .args = " FROM:<a@b.c> SMTPUTF8", .want = OK,
	    .addr = "a@b.c", .smtputf8 = 1 },
	{ .label = "RET=FULL", .args = " FROM:<a@b.c> RET=FULL", .want = OK,
	    .addr = "a@b.c", .ret = SMTP_RET_FULL },
	{ .label = "RET=HDRS", .args = " FROM:<a@b.c> RET=HDRS", .want = OK,
	    .addr = "a@b.c", .ret = SMTP_RET_HDRS },
	{ .label = "ENVID", .args = " FROM:<a@b.c> ENVID=QQ314159",
	    .want = OK, .addr = "a@b.c", .envid = "QQ314159" },
	{ .label = "ENVID with hexchar", .args =
	    " FROM:<a@b.c> ENVID=a+2Bb+3Dc", .want = OK, .addr = "a@b.c",
	    .envid = "a+2Bb+3Dc" },
	{ .label = "AUTH=<>", .args = " FROM:<a@b.c> AUTH=<>", .want = OK,
	    .addr = "a@b.c", .auth = "<>" },
	{ .label = "AUTH=xtext", .args =
	    " FROM:<a@b.c> AUTH=joe+40example.com", .want = OK,
	    .addr = "a@b.c", .auth = "joe+40example.com" },
	{ .label = "all parameters", .args = " FROM:<a@b.c> SIZE=123 "
	    "BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc AUTH=<>", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = 123,
	    .body = SMTP_BODY_8BITMIME, .smtputf8 = 1, .ret = SMTP_RET_HDRS,
	    .envid = "abc", .auth = "<>" },
	{ .label = "keywords and values in any case", .args =
	    " FROM:<a@b.c> size=5 Body=8bitmime ret=hdrs smtputf8 "
	    "envid=x auth=<>", .want = OK, .addr = "a@b.c", .has_size = 1,
	    .size = 5, .body = SMTP_BODY_8BITMIME, .smtputf8 = 1,
	    .ret = SMTP_RET_HDRS, .envid = "x", .auth = "<>" },
	{ .label = "several spaces and a tab between params", .args =
	    " FROM:<a@b.c>   SIZE=1 \tBODY=7BIT  ", .want = OK,
	    .addr = "a@b.c", .has_size = 1, .size = 1,
	    .body = SMTP_BODY_7BIT },

	/* lenient forms, each with its quirk */
	{ .label = "space after colon", .args = " FROM: <a@b.c>", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER },
	{ .label = "tab after colon", .args = "\tFROM:\t<a@b.c>", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER },
	{ .label = "space before colon", .args = " FROM :<a@b.c>",
	    .want = OK, .addr = "a@b.c", .quirks = Q_BEFORE },
	{ .label = "spaces around colon", .args = " FROM  :  <a@b.c>",
	    .want = OK, .addr = "a@b.c", .quirks = Q_BEFORE | Q_AFTER },
	{ .label = "no brackets", .args = " FROM:a@b.c", .want = OK,
	    .addr = "a@b.c", .quirks = Q_NOBR },
	{ .label = "telnet style", .args = " FROM: a@b.c", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER | Q_NOBR },
	{ .label = "no brackets, then params", .args =
	    " FROM: a@b.c SIZE=10 BODY=8BITMIME", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER | Q_NOBR, .has_size = 1,
	    .size = 10, .body = SMTP_BODY_8BITMIME },
	{ .label = "source route", .args = " FROM:<@a,@b:user@dom>",
	    .want = OK, .addr = "user@dom", .quirks = Q_ROUTE },
	{ .label = "one-hop source route", .args =
	    " FROM:<@relay.example:user@dom.example>", .want = OK,
	    .addr = "user@dom.example", .quirks = Q_ROUTE },

	/* SYNTAX */
	{ .label = "empty", .args = "", .want = SYNTAX,
	    .errmsg = "Syntax: MAIL FROM:<address>" },
	{ .label = "TO: on MAIL", .args = " TO:<a@b.c>", .want = SYNTAX,
	    .errmsg = "Syntax: MAIL FROM:<address>" },
	{ .label = "no colon", .args = " FROM<a@b.c>", .want = SYNTAX },
	{ .label = "FROM glued to a word", .args = " FROMX:<a@b.c>",
	    .want = SYNTAX },
	{ .label = "FROM alone", .args = " FROM", .want = SYNTAX },
	{ .label = "nothing after colon", .args = " FROM:", .want = SYNTAX },
	{ .label = "only spaces after colon", .args = " FROM:  ",
	    .want = SYNTAX },
	{ .label = "junk after path", .args = " FROM:<a@b.c>x",
	    .want = SYNTAX, .errmsg = "Junk after address" },
	{ .label = "param glued to path", .args = " FROM:<a@b.c>SIZE=1",
	    .want = SYNTAX, .errmsg = "Junk after address" },
	{ .label = "empty keyword", .args = " FROM:<a@b.c> =5",
	    .want = SYNTAX, .errmsg = "Bad parameter syntax" },
	{ .label = "bad keyword char", .args = " FROM:<a@b.c> SI_ZE=1",
	    .want = SYNTAX, .errmsg = "Bad parameter syntax" },
	{ .label = "keyword starting with hyphen", .args =
	    " FROM:<a@b.c> -X=1", .want = SYNTAX,
	    .errmsg = "Bad parameter syntax" },

	/* BAD_ADDR */
	{ .label = "missing '>'", .args = " FROM:<a@b.c", .want = BAD_ADDR,
	    .errmsg = "Missing '>' after address" },
	{ .label = "unterminated quote", .args = " FROM:<\"a@b.c>",
	    .want = BAD_ADDR, .errmsg = "Missing '>' after address" },
	{ .label = "no domain", .args = " FROM:<user>", .want = BAD_ADDR,
	    .errmsg = "Bad sender address syntax" },
	{ .label = "postmaster is for RCPT only", .args =
	    " FROM:<postmaster>", .want = BAD_ADDR },
	{ .label = "space in local part", .args = " FROM:<a b@c.d>",
	    .want = BAD_ADDR },
	{ .label = "space before '>'", .args = " FROM:<a@b.c >",
	    .want = BAD_ADDR },
	{ .label = "space after '<'", .args = " FROM:< a@b.c>",
	    .want = BAD_ADDR },
	{ .label = "control char", .args = " FROM:<a\x01@b.c>",
	    .want = BAD_ADDR },
	{ .label = "DEL", .args = " FROM:<a\x7f@b.c>", .want = BAD_ADDR },
	{ .label = "control char in quotes", .args =
	    " FROM:<\"a\x01\"@b.c>", .want = BAD_ADDR },
	{ .label = "double dot", .args = " FROM:<a..b@c.d>",
	    .want = BAD_ADDR },
	{ .label = "leading dot", .args = " FROM:<.a@c.d>",
	    .want = BAD_ADDR },
	{ .label = "trailing dot in local part", .args = " FROM:<a.@c.d>",
	    .want = BAD_ADDR },
	{ .label = "empty local part", .args = " FROM:<@c.d>",
	    .want = BAD_ADDR },
	{ .label = "empty domain", .args = " FROM:<a@>", .want = BAD_ADDR },
	{ .label = "two @", .args = " FROM:<a@b@c.d>", .want = BAD_ADDR },
	{ .label = "empty label", .args = " FROM:<a@b..c>",
	    .want = BAD_ADDR },
	{ .label = "trailing dot in domain", .args = " FROM:<a@b.c.>",
	    .want = BAD_ADDR },
	{ .label = "leading hyphen in label", .args = " FROM:<a@-b.c>",
	    .want = BAD_ADDR },
	{ .label = "trailing hyphen in label", .args = " FROM:<a@b-.c>",
	    .want = BAD_ADDR },
	{ .label = "underscore in domain", .args = " FROM:<a@b_c.d>",
	    .want = BAD_ADDR },
	{ .label = "IPv4 literal out of range", .args =
	    " FROM:<a@[300.1.1.1]>", .want = BAD_ADDR },
	{ .label = "IPv4 literal too short", .args = " FROM:<a@[1.2.3]>",
	    .want = BAD_ADDR },
	{ .label = "bad IPv6 literal", .args = " FROM:<a@[IPv6:zz::1]>",
	    .want = BAD_ADDR },
	{ .label = "IPv6 without tag", .args = " FROM:<a@[::1]>",
	    .want = BAD_ADDR },
	{ .label = "general literal", .args = " FROM:<a@[x-tag:abc]>",
	    .want = BAD_ADDR },
	{ .label = "unclosed literal", .args = " FROM:<a@[1.2.3.4>",
	    .want = BAD_ADDR },
	{ .label = "route with empty hop", .args = " FROM:<@a,:u@d.e>",
	    .want = BAD_ADDR },
	{ .label = "route hop without @", .args = " FROM:<@a,b:u@d.e>",
	    .want = BAD_ADDR },
	{ .label = "route with empty domain", .args = " FROM:<@:u@d.e>",
	    .want = BAD_ADDR },
	{ .label = "route without mailbox", .args = " FROM:<@a:>",
	    .want = BAD_ADDR },
	{ .label = "no brackets, junk address", .args = " FROM:a@b>",
	    .want = BAD_ADDR },
	{ .label = "address error wins over param error", .args =
	    " FROM:<user> FOO=1", .want = BAD_ADDR },

	/* UNKNOWN_PARAM */
	{ .label = "unknown keyword", .args = " FROM:<a@b.c> FOO=bar",
	    .want = UNKNOWN, .errmsg = "Unknown parameter" },
	{ .label = "unknown keyword without value", .args =
	    " FROM:<a@b.c> XYZZY", .want = UNKNOWN },
	{ .label = "NOTIFY belongs to RCPT", .args =
	    " FROM:<a@b.c> NOTIFY=NEVER", .want = UNKNOWN },
	{ .label = "ORCPT belongs to RCPT", .args =
	    " FROM:<a@b.c> ORCPT=rfc822;a@b", .want = UNKNOWN },
	{ .label = "unknown after good ones", .args =
	    " FROM:<a@b.c> SIZE=1 BODY=7BIT X-FOO", .want = UNKNOWN },

	/* BAD_PARAM */
	{ .label = "SIZE without value", .args = " FROM:<a@b.c> SIZE",
	    .want = BAD_PARAM, .errmsg = "Bad SIZE value" },
	{ .label = "SIZE empty", .args = " FROM:<a@b.c> SIZE=",
	    .want = BAD_PARAM, .errmsg = "Bad SIZE value" },
	{ .label = "SIZE junk", .args = " FROM:<a@b.c> SIZE=12a",
	    .want = BAD_PARAM, .errmsg = "Bad SIZE value" },
	{ .label = "SIZE negative", .args = " FROM:<a@b.c> SIZE=-1",
	    .want = BAD_PARAM, .errmsg = "Bad SIZE value" },
	{ .label = "SIZE 2^64", .args =
	    " FROM:<a@b.c> SIZE=18446744073709551616", .want = BAD_PARAM,
	    .errmsg = "Bad SIZE value" },
	{ .label = "SIZE 21 digits", .args =
	    " FROM:<a@b.c> SIZE=000000000000000000001", .want = BAD_PARAM,
	    .errmsg = "Bad SIZE value" },
	{ .label = "SIZE twice", .args = " FROM:<a@b.c> SIZE=1 SIZE=2",
	    .want = BAD_PARAM, .errmsg = "Duplicate parameter" },
	{ .label = "SIZE twice, different case", .args =
	    " FROM:<a@b.c> size=1 SIZE=1", .want = BAD_PARAM,
	    .errmsg = "Duplicate parameter" },
	{ .label = "BODY unknown", .args = " FROM:<a@b.c> BODY=8BIT",
	    .want = BAD_PARAM, .errmsg = "Bad BODY value" },
	{ .label = "BODY without value", .args = " FROM:<a@b.c> BODY",
	    .want = BAD_PARAM, .errmsg = "Bad BODY value" },
	{ .label = "SMTPUTF8 with value", .args =
	    " FROM:<a@b.c> SMTPUTF8=yes", .want = BAD_PARAM,
	    .errmsg = "SMTPUTF8 takes no value" },
	{ .label = "SMTPUTF8 with empty value", .args =
	    " FROM:<a@b.c> SMTPUTF8=", .want = BAD_PARAM },
	{ .label = "SMTPUTF8 twice", .args =
	    " FROM:<a@b.c> SMTPUTF8 smtputf8", .want = BAD_PARAM,
	    .errmsg = "Duplicate parameter" },
	{ .label = "RET unknown", .args = " FROM:<a@b.c> RET=NONE",
	    .want = BAD_PARAM, .errmsg = "Bad RET value" },
	{ .label = "RET without value", .args = " FROM:<a@b.c> RET",
	    .want = BAD_PARAM, .errmsg = "Bad RET value" },
	{ .label = "RET twice", .args = " FROM:<a@b.c> RET=FULL RET=HDRS",
	    .want = BAD_PARAM, .errmsg = "Duplicate parameter" },
	{ .label = "ENVID empty", .args = " FROM:<a@b.c> ENVID=",
	    .want = BAD_PARAM, .errmsg = "Bad ENVID value" },
	{ .label = "ENVID without value", .args = " FROM:<a@b.c> ENVID",
	    .want = BAD_PARAM, .errmsg = "Bad ENVID value" },
	{ .label = "ENVID lower-case hex", .args =
	    " FROM:<a@b.c> ENVID=a+2b", .want = BAD_PARAM,
	    .errmsg = "Bad ENVID value" },
	{ .label = "ENVID short hexchar", .args = " FROM:<a@b.c> ENVID=a+4",
	    .want = BAD_PARAM, .errmsg = "Bad ENVID value" },
	{ .label = "ENVID with '='", .args = " FROM:<a@b.c> ENVID=a=b",
	    .want = BAD_PARAM, .errmsg = "Bad ENVID value" },
	{ .label = "ENVID with control char", .args =
	    " FROM:<a@b.c> ENVID=a\x01", .want = BAD_PARAM },
	{ .label = "ENVID with UTF-8", .args =
	    " FROM:<a@b.c> SMTPUTF8 ENVID=\xc3\xa9", .want = BAD_PARAM },
	{ .label = "ENVID twice", .args = " FROM:<a@b.c> ENVID=a ENVID=a",
	    .want = BAD_PARAM, .errmsg = "Duplicate parameter" },
	{ .label = "AUTH empty", .args = " FROM:<a@b.c> AUTH=",
	    .want = BAD_PARAM, .errmsg = "Bad AUTH value" },
	{ .label = "AUTH without value", .args = " FROM:<a@b.c> AUTH",
	    .want = BAD_PARAM, .errmsg = "Bad AUTH value" },
	{ .label = "AUTH bad hexchar", .args = " FROM:<a@b.c> AUTH=a+zz",
	    .want = BAD_PARAM, .errmsg = "Bad AUTH value" },
	{ .label = "AUTH=< is plain xtext", .args = " FROM:<a@b.c> AUTH=<",
	    .want = OK, .addr = "a@b.c", .auth = "<" },
	{ .label = "AUTH twice", .args = " FROM:<a@b.c> AUTH=<> AUTH=<>",
	    .want = BAD_PARAM, .errmsg = "Duplicate parameter" },

	/* RFC 6531: UTF-8 needs SMTPUTF8 on this same MAIL */
	{ .label = "UTF-8 with SMTPUTF8", .args =
	    " FROM:<\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1.example> "
	    "SMTPUTF8", .want = OK,
	    .addr = "\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1.example",
	    .smtputf8 = 1 },
	{ .label = "UTF-8 without SMTPUTF8", .args =
	    " FROM:<\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1.example>",
	    .want = NEED_UTF8,
	    .errmsg = "Non-ASCII address needs SMTPUTF8" },
	{ .label = "UTF-8 domain only, no SMTPUTF8", .args =
	    " FROM:<a@b\xc3\xbc.example> BODY=8BITMIME", .want = NEED_UTF8 },
	{ .label = "UTF-8 in quoted local part", .args =
	    " FROM:<\"j\xc3\xb6 d\"@b.c> SMTPUTF8", .want = OK,
	    .addr = "\"j\xc3\xb6 d\"@b.c", .smtputf8 = 1 },
	{ .label = "4-byte UTF-8", .args =
	    " FROM:<\xf0\x9f\x93\xa7@b.c> SMTPUTF8", .want = OK,
	    .addr = "\xf0\x9f\x93\xa7@b.c", .smtputf8 = 1 },
	{ .label = "UTF-8 without brackets", .args =
	    " FROM: \xc3\xa9@b.c SMTPUTF8", .want = OK,
	    .addr = "\xc3\xa9@b.c", .quirks = Q_AFTER | Q_NOBR,
	    .smtputf8 = 1 },
	{ .label = "invalid byte even with SMTPUTF8", .args =
	    " FROM:<a\xff@b.c> SMTPUTF8", .want = BAD_ADDR },
	{ .label = "overlong '/'", .args =
	    " FROM:<a\xc0\xaf@b.c> SMTPUTF8", .want = BAD_ADDR },
	{ .label = "UTF-16 surrogate", .args =
	    " FROM:<a\xed\xa0\x80@b.c> SMTPUTF8", .want = BAD_ADDR },
	{ .label = "past U+10FFFF", .args =
	    " FROM:<a\xf4\x90\x80\x80@b.c> SMTPUTF8", .want = BAD_ADDR },
	{ .label = "truncated sequence", .args =
	    " FROM:<a@b\xe2\x82> SMTPUTF8", .want = BAD_ADDR },
	{ .label = "invalid UTF-8 without SMTPUTF8", .args =
	    " FROM:<a\x80@b.c>", .want = BAD_ADDR },
	{ .label = "unknown param wins over NEED_UTF8", .args =
	    " FROM:<\xc3\xa9@b.c> FOO", .want = UNKNOWN },
};

static int
check_mail(const struct mail_case *tc)
{
	struct smtp_mail_args	 m;
	enum smtp_parse_status	 st;
	const char		*errmsg = NULL;
	int			 bad = 0;

	memset(&m, 0xa5, sizeof(m));	/* the parser must clear it */
	st = smtp_parse_mail(tc->args, &m, &errmsg);
	if (st != tc->want) {
		print_error("MAIL %s: status got %s want %s (%s)\n",
		    tc->label, status_name(st), status_name(tc->want),
		    errmsg);
		return (1);
	}
	if (errmsg == NULL) {
		print_error("MAIL %s: errmsg not set\n", tc->label);
		return (1);
	}
	if (tc->errmsg != NULL && strcmp(errmsg, tc->errmsg) != 0) {
		print_error("MAIL %s: errmsg got \"%s\" want \"%s\"\n",
		    tc->label, errmsg, tc->errmsg);
		bad = 1;
	}
	if (st != SMTP_PARSE_OK)
		return (bad);

#define CHECK_INT(f, want) do {						\
	if ((long long)m.f != (long long)(want)) {			\
		print_error("MAIL %s: " #f " got %lld want %lld\n",	\
		    tc->label, (long long)m.f, (long long)(want));	\
		bad = 1;						\
	}								\
} while (0)
#define CHECK_STR(f, want) do {						\
	if (strcmp(m.f, nz(want)) != 0) {				\
		print_error("MAIL %s: " #f " got \"%s\" want \"%s\"\n",	\
		    tc->label, m.f, nz(want));				\
		bad = 1;						\
	}								\
} while (0)
	CHECK_STR(addr, tc->addr);
	CHECK_INT(quirks, tc->quirks);
	CHECK_INT(has_size, tc->has_size);
	if (m.size != tc->size) {
		print_error("MAIL %s: size got %llu want %llu\n", tc->label,
		    (unsigned long long)m.size, (unsigned long long)tc->size);
		bad = 1;
	}
	CHECK_INT(body, tc->body);
	CHECK_INT(smtputf8, tc->smtputf8);
	CHECK_INT(ret, tc->ret);
	CHECK_STR(envid, tc->envid);
	CHECK_INT(has_auth, tc->auth != NULL);
	CHECK_STR(auth, tc->auth);
#undef CHECK_INT
#undef CHECK_STR
	return (bad);
}

static void
test_mail_table(void **state)
{
	size_t	i;
	int	failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(mail_cases); i++)
		failed |= check_mail(&mail_cases[i]);
	if (failed)
		fail();
}

/* ---------------------------------------------------------------- RCPT */

struct rcpt_case {
	const char		*label;
	const char		*args;		/* after "RCPT" */
	int			 smtputf8;	/* MAIL had SMTPUTF8 */
	enum smtp_parse_status	 want;
	const char		*errmsg;	/* checked when not NULL */
	const char		*addr;
	int			 quirks;
	int			 notify;
	const char		*orcpt;
};

static const struct rcpt_case rcpt_cases[] = {
	/* good */
	{ .label = "plain", .args = " TO:<a@b.c>", .want = OK,
	    .addr = "a@b.c" },
	{ .label = "lower-case to", .args = "to:<a@b.c>", .want = OK,
	    .addr = "a@b.c" },
	{ .label = "postmaster without domain", .args = " TO:<postmaster>",
	    .want = OK, .addr = "postmaster" },
	{ .label = "Postmaster, any case", .args = " TO:<PostMaster>",
	    .want = OK, .addr = "PostMaster" },
	{ .label = "postmaster at a domain", .args =
	    " TO:<postmaster@example.com>", .want = OK,
	    .addr = "postmaster@example.com" },
	{ .label = "address literal", .args = " TO:<a@[127.0.0.1]>",
	    .want = OK, .addr = "a@[127.0.0.1]" },
	{ .label = "space after colon", .args = " TO: <a@b.c>", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER },
	{ .label = "space before colon", .args = " TO :<a@b.c>", .want = OK,
	    .addr = "a@b.c", .quirks = Q_BEFORE },
	{ .label = "telnet style", .args = " TO: a@b.c", .want = OK,
	    .addr = "a@b.c", .quirks = Q_AFTER | Q_NOBR },
	{ .label = "no brackets, postmaster", .args = " TO:postmaster",
	    .want = OK, .addr = "postmaster", .quirks = Q_NOBR },
	{ .label = "source route", .args = " TO:<@hop1,@hop2:a@b.c>",
	    .want = OK, .addr = "a@b.c", .quirks = Q_ROUTE },
	{ .label = "NOTIFY=NEVER", .args = " TO:<a@b.c> NOTIFY=NEVER",
	    .want = OK, .addr = "a@b.c", .notify = SMTP_NOTIFY_NEVER },
	{ .label = "NOTIFY=SUCCESS", .args = " TO:<a@b.c> NOTIFY=SUCCESS",
	    .want = OK, .addr = "a@b.c", .notify = SMTP_NOTIFY_SUCCESS },
	{ .label = "NOTIFY list", .args =
	    " TO:<a@b.c> NOTIFY=SUCCESS,FAILURE,DELAY", .want = OK,
	    .addr = "a@b.c", .notify = SMTP_NOTIFY_SUCCESS |
	    SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY },
	{ .label = "NOTIFY lower case, any order", .args =
	    " TO:<a@b.c> notify=delay,failure", .want = OK,
	    .addr = "a@b.c", .notify = SMTP_NOTIFY_FAILURE |
	    SMTP_NOTIFY_DELAY },
	{ .label = "ORCPT", .args = " TO:<a@b.c> ORCPT=rfc822;a@b.c",
	    .want = OK, .addr = "a@b.c", .orcpt = "rfc822;a@b.c" },
	{ .label = "ORCPT with hexchar", .args =
	    " TO:<a@b.c> ORCPT=rfc822;a+2Bb@c.d", .want = OK,
	    .addr = "a@b.c", .orcpt = "rfc822;a+2Bb@c.d" },
	{ .label = "ORCPT utf-8 type", .args =
	    " TO:<a@b.c> orcpt=utf-8;\\x{E9}@b.c", .want = OK,
	    .addr = "a@b.c", .orcpt = "utf-8;\\x{E9}@b.c" },
	{ .label = "ORCPT with empty xtext", .args =
	    " TO:<a@b.c> ORCPT=rfc822;", .want = OK, .addr = "a@b.c",
	    .orcpt = "rfc822;" },
	{ .label = "NOTIFY and ORCPT", .args =
	    " TO:<a@b.c> NOTIFY=FAILURE ORCPT=rfc822;x@y.z", .want = OK,
	    .addr = "a@b.c", .notify = SMTP_NOTIFY_FAILURE,
	    .orcpt = "rfc822;x@y.z" },
	{ .label = "UTF-8, transaction has SMTPUTF8", .args =
	    " TO:<\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.example>", .smtputf8 = 1,
	    .want = OK, .addr = "\xc3\xa9l\xc3\xa8ve@\xc3\xa9" "cole.example" },

	/* refused */
	{ .label = "null path", .args = " TO:<>", .want = BAD_ADDR,
	    .errmsg = "Null recipient not allowed" },
	{ .label = "FROM: on RCPT", .args = " FROM:<a@b.c>", .want = SYNTAX,
	    .errmsg = "Syntax: RCPT TO:<address>" },
	{ .label = "no colon", .args = " TO<a@b.c>", .want = SYNTAX },
	{ .label = "empty", .args = "", .want = SYNTAX },
	{ .label = "no domain", .args = " TO:<user>", .want = BAD_ADDR,
	    .errmsg = "Bad recipient address syntax" },
	{ .label = "postmasters is not postmaster", .args =
	    " TO:<postmasters>", .want = BAD_ADDR },
	{ .label = "quoted postmaster", .args = " TO:<\"postmaster\">",
	    .want = BAD_ADDR },
	{ .label = "bad domain", .args = " TO:<a@b..c>", .want = BAD_ADDR },
	{ .label = "UTF-8 without SMTPUTF8", .args =
	    " TO:<\xc3\xa9@b.c>", .want = NEED_UTF8,
	    .errmsg = "Non-ASCII address needs SMTPUTF8" },
	{ .label = "invalid UTF-8 with SMTPUTF8", .args = " TO:<\xc3@b.c>",
	    .smtputf8 = 1, .want = BAD_ADDR },
	{ .label = "SIZE is MAIL-only", .args = " TO:<a@b.c> SIZE=1",
	    .want = UNKNOWN, .errmsg = "Unknown parameter" },
	{ .label = "SMTPUTF8 is MAIL-only", .args = " TO:<a@b.c> SMTPUTF8",
	    .want = UNKNOWN },
	{ .label = "unknown", .args = " TO:<a@b.c> X-FOO=1",
	    .want = UNKNOWN },
	{ .label = "NEVER combined", .args =
	    " TO:<a@b.c> NOTIFY=NEVER,SUCCESS", .want = BAD_PARAM,
	    .errmsg = "Bad NOTIFY value" },
	{ .label = "NEVER combined, last", .args =
	    " TO:<a@b.c> NOTIFY=DELAY,NEVER", .want = BAD_PARAM },
	{ .label = "NOTIFY value twice", .args =
	    " TO:<a@b.c> NOTIFY=SUCCESS,SUCCESS", .want = BAD_PARAM },
	{ .label = "NOTIFY empty", .args = " TO:<a@b.c> NOTIFY=",
	    .want = BAD_PARAM },
	{ .label = "NOTIFY without value", .args = " TO:<a@b.c> NOTIFY",
	    .want = BAD_PARAM },
	{ .label = "NOTIFY trailing comma", .args =
	    " TO:<a@b.c> NOTIFY=SUCCESS,", .want = BAD_PARAM },
	{ .label = "NOTIFY leading comma", .args =
	    " TO:<a@b.c> NOTIFY=,SUCCESS", .want = BAD_PARAM },
	{ .label = "NOTIFY unknown word", .args =
	    " TO:<a@b.c> NOTIFY=ALWAYS", .want = BAD_PARAM },
	{ .label = "NOTIFY twice", .args =
	    " TO:<a@b.c> NOTIFY=NEVER NOTIFY=NEVER", .want = BAD_PARAM,
	    .errmsg = "Duplicate parameter" },
	{ .label = "ORCPT without type", .args = " TO:<a@b.c> ORCPT=a@b",
	    .want = BAD_PARAM, .errmsg = "Bad ORCPT value" },
	{ .label = "ORCPT empty type", .args = " TO:<a@b.c> ORCPT=;a@b",
	    .want = BAD_PARAM },
	{ .label = "ORCPT bad type char", .args =
	    " TO:<a@b.c> ORCPT=rf(c;a@b", .want = BAD_PARAM },
	{ .label = "ORCPT bad xtext", .args =
	    " TO:<a@b.c> ORCPT=rfc822;a+zzb", .want = BAD_PARAM },
	{ .label = "ORCPT xtext with '='", .args =
	    " TO:<a@b.c> ORCPT=rfc822;a=b", .want = BAD_PARAM },
	{ .label = "ORCPT empty", .args = " TO:<a@b.c> ORCPT=",
	    .want = BAD_PARAM },
	{ .label = "ORCPT twice", .args =
	    " TO:<a@b.c> ORCPT=rfc822;a ORCPT=rfc822;a", .want = BAD_PARAM,
	    .errmsg = "Duplicate parameter" },
};

static int
check_rcpt(const struct rcpt_case *tc)
{
	struct smtp_rcpt_args	 r;
	enum smtp_parse_status	 st;
	const char		*errmsg = NULL;
	int			 bad = 0;

	memset(&r, 0xa5, sizeof(r));
	st = smtp_parse_rcpt(tc->args, tc->smtputf8, &r, &errmsg);
	if (st != tc->want) {
		print_error("RCPT %s: status got %s want %s (%s)\n",
		    tc->label, status_name(st), status_name(tc->want),
		    errmsg);
		return (1);
	}
	if (errmsg == NULL) {
		print_error("RCPT %s: errmsg not set\n", tc->label);
		return (1);
	}
	if (tc->errmsg != NULL && strcmp(errmsg, tc->errmsg) != 0) {
		print_error("RCPT %s: errmsg got \"%s\" want \"%s\"\n",
		    tc->label, errmsg, tc->errmsg);
		bad = 1;
	}
	if (st != SMTP_PARSE_OK)
		return (bad);
	if (strcmp(r.addr, nz(tc->addr)) != 0) {
		print_error("RCPT %s: addr got \"%s\" want \"%s\"\n",
		    tc->label, r.addr, nz(tc->addr));
		bad = 1;
	}
	if (r.quirks != tc->quirks) {
		print_error("RCPT %s: quirks got %#x want %#x\n", tc->label,
		    (unsigned int)r.quirks, (unsigned int)tc->quirks);
		bad = 1;
	}
	if (r.notify != tc->notify) {
		print_error("RCPT %s: notify got %#x want %#x\n", tc->label,
		    (unsigned int)r.notify, (unsigned int)tc->notify);
		bad = 1;
	}
	if (strcmp(r.orcpt, nz(tc->orcpt)) != 0) {
		print_error("RCPT %s: orcpt got \"%s\" want \"%s\"\n",
		    tc->label, r.orcpt, nz(tc->orcpt));
		bad = 1;
	}
	return (bad);
}

static void
test_rcpt_table(void **state)
{
	size_t	i;
	int	failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(rcpt_cases); i++)
		failed |= check_rcpt(&rcpt_cases[i]);
	if (failed)
		fail();
}

/* ------------------------------------------------------------- limits */

/* Append n copies of c at *p. */
static void
fill(char **p, char c, size_t n)
{
	memset(*p, c, n);
	*p += n;
}

/*
 * Append a valid domain of exactly n octets (n >= 1) at *p: labels of at
 * most 63 letters, never leaving an empty last label.
 */
static void
fill_domain(char **p, size_t n)
{
	size_t	take;

	while (n > 63) {
		take = n - 2 < 63 ? n - 2 : 63;
		fill(p, 'd', take);
		fill(p, '.', 1);
		n -= take + 1;
	}
	fill(p, 'e', n);
}

static void
test_limits(void **state)
{
	static const struct {
		const char		*label;
		int			 rcpt;	  /* RCPT, else MAIL */
		int			 brackets;
		size_t			 route;	  /* "@r...:" octets, 0 none */
		size_t			 local;
		size_t			 domain;
		enum smtp_parse_status	 want;
		const char		*errmsg;
	} tc[] = {
		{ "local 64", 0, 1, 0, 64, 10, OK, NULL },
		{ "local 65", 0, 1, 0, 65, 10, BAD_ADDR,
		    "Local part too long" },
		{ "RCPT local 64", 1, 1, 0, 64, 10, OK, NULL },
		{ "RCPT local 65", 1, 1, 0, 65, 10, BAD_ADDR,
		    "Local part too long" },
		{ "label 63", 0, 1, 0, 1, 63, OK, NULL },
		/* 255 fits the domain limit but not the path: 1+1+255+2 */
		{ "domain 255", 0, 1, 0, 1, 255, BAD_ADDR,
		    "Address too long" },
		{ "domain 256", 0, 1, 0, 1, 256, BAD_ADDR,
		    "Domain too long" },
		{ "RCPT domain 256", 1, 1, 0, 1, 256, BAD_ADDR,
		    "Domain too long" },
		/* <64@189> is 256 octets with the brackets */
		{ "path 256", 0, 1, 0, 64, 189, OK, NULL },
		{ "path 257", 0, 1, 0, 64, 190, BAD_ADDR,
		    "Address too long" },
		{ "RCPT path 256", 1, 1, 0, 64, 189, OK, NULL },
		{ "RCPT path 257", 1, 1, 0, 64, 190, BAD_ADDR,
		    "Address too long" },
		{ "no brackets, path 256", 0, 0, 0, 64, 189, OK, NULL },
		{ "no brackets, path 257", 0, 0, 0, 64, 190, BAD_ADDR,
		    "Address too long" },
		{ "route counts, 256", 0, 1, 10, 64, 179, OK, NULL },
		{ "route counts, 257", 0, 1, 10, 64, 180, BAD_ADDR,
		    "Address too long" },
	};
	struct smtp_mail_args	 m;
	struct smtp_rcpt_args	 r;
	enum smtp_parse_status	 st;
	char			 args[1024], *p, *addr;
	const char		*errmsg, *got;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		p = args;
		memcpy(p, tc[i].rcpt ? " TO:" : " FROM:", tc[i].rcpt ? 4 : 6);
		p += tc[i].rcpt ? 4 : 6;
		if (tc[i].brackets)
			fill(&p, '<', 1);
		if (tc[i].route > 0) {
			fill(&p, '@', 1);
			fill_domain(&p, tc[i].route - 2);
			fill(&p, ':', 1);
		}
		addr = p;
		fill(&p, 'l', tc[i].local);
		fill(&p, '@', 1);
		fill_domain(&p, tc[i].domain);
		*p = '\0';
		if (tc[i].brackets) {
			*p++ = '>';
			*p = '\0';
		}
		errmsg = NULL;
		if (tc[i].rcpt) {
			st = smtp_parse_rcpt(args, 0, &r, &errmsg);
			got = r.addr;
		} else {
			st = smtp_parse_mail(args, &m, &errmsg);
			got = m.addr;
		}
		if (st != tc[i].want) {
			print_error("%s: status got %s want %s (%s)\n",
			    tc[i].label, status_name(st),
			    status_name(tc[i].want), errmsg);
			failed = 1;
		} else if (tc[i].errmsg != NULL &&
		    strcmp(errmsg, tc[i].errmsg) != 0) {
			print_error("%s: errmsg got \"%s\" want \"%s\"\n",
			    tc[i].label, errmsg, tc[i].errmsg);
			failed = 1;
		} else if (st == OK && (strlen(got) != tc[i].local + 1 +
		    tc[i].domain || strncmp(got, addr, strlen(got)) != 0)) {
			print_error("%s: addr got \"%s\"\n", tc[i].label, got);
			failed = 1;
		}
	}

	/* a 64-octet label is one too many (RFC 1035 2.3.4) */
	p = args;
	memcpy(p, " FROM:<a@", 9);
	p += 9;
	fill(&p, 'd', 64);
	memcpy(p, ".com>", 6);
	if ((st = smtp_parse_mail(args, &m, NULL)) != BAD_ADDR) {
		print_error("label 64: got %s want BAD_ADDR\n",
		    status_name(st));
		failed = 1;
	}
	if (failed)
		fail();
}

/* ENVID (100), ORCPT (500), AUTH (256) and SIZE (20 digits) lengths. */
static void
test_param_limits(void **state)
{
	static const struct {
		const char		*label;
		const char		*prefix;  /* args up to the value */
		int			 rcpt;
		char			 c;	  /* the value is c repeated */
		size_t			 n;
		enum smtp_parse_status	 want;
	} tc[] = {
		{ "ENVID 100", " FROM:<a@b.c> ENVID=", 0, 'e', 100, OK },
		{ "ENVID 101", " FROM:<a@b.c> ENVID=", 0, 'e', 101, BAD_PARAM },
		{ "AUTH 256", " FROM:<a@b.c> AUTH=", 0, 'u', 256, OK },
		{ "AUTH 257", " FROM:<a@b.c> AUTH=", 0, 'u', 257, BAD_PARAM },
		{ "SIZE 20 ones", " FROM:<a@b.c> SIZE=", 0, '1', 20, OK },
		{ "SIZE 20 nines", " FROM:<a@b.c> SIZE=", 0, '9', 20,
		    BAD_PARAM },
		{ "SIZE 21 ones", " FROM:<a@b.c> SIZE=", 0, '1', 21,
		    BAD_PARAM },
		{ "ORCPT 500", " TO:<a@b.c> ORCPT=rfc822;", 1, 'o', 493, OK },
		{ "ORCPT 501", " TO:<a@b.c> ORCPT=rfc822;", 1, 'o', 494,
		    BAD_PARAM },
	};
	struct smtp_mail_args	 m;
	struct smtp_rcpt_args	 r;
	enum smtp_parse_status	 st;
	char			 args[1024], *p;
	size_t			 i, plen;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		plen = strlen(tc[i].prefix);
		memcpy(args, tc[i].prefix, plen);
		p = args + plen;
		fill(&p, tc[i].c, tc[i].n);
		*p = '\0';
		if (tc[i].rcpt)
			st = smtp_parse_rcpt(args, 0, &r, NULL);
		else
			st = smtp_parse_mail(args, &m, NULL);
		if (st != tc[i].want) {
			print_error("%s: got %s want %s\n", tc[i].label,
			    status_name(st), status_name(tc[i].want));
			failed = 1;
			continue;
		}
		if (st != OK)
			continue;
		if ((strncmp(tc[i].label, "ENVID", 5) == 0 &&
		    strlen(m.envid) != tc[i].n) ||
		    (strncmp(tc[i].label, "AUTH", 4) == 0 &&
		    strlen(m.auth) != tc[i].n) ||
		    (tc[i].rcpt && strlen(r.orcpt) != tc[i].n + 7)) {
			print_error("%s: value not stored whole\n",
			    tc[i].label);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

/* -------------------------------------------------- HELO name, xtext */

static void
test_helo_name(void **state)
{
	static const struct {
		const char	*name;
		int		 want;
	} tc[] = {
		{ "mail.example.com", 1 },
		{ "localhost", 1 },
		{ "[127.0.0.1]", 1 },
		{ "[IPv6:::1]", 1 },
		{ "127.0.0.1", 1 },
		{ "my_host", 1 },
		{ "UPPER.Case-host", 1 },
		{ "h\xc3\xb4te", 1 },
		{ "", 0 },
		{ " ", 0 },
		{ "two words", 0 },
		{ "tab\there", 0 },
		{ "nul\x01", 0 },
		{ "cr\r", 0 },
		{ "del\x7f", 0 },
	};
	size_t	i;
	int	got, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		got = smtp_parse_helo_name(tc[i].name);
		if (got != tc[i].want) {
			print_error("helo \"%s\": got %d want %d\n",
			    tc[i].name, got, tc[i].want);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

static void
test_xtext(void **state)
{
	static const struct {
		const char	*s;
		int		 want;
	} tc[] = {
		{ "", 1 },
		{ "abc", 1 },
		{ "a+2Bb", 1 },
		{ "+00+FF+9A", 1 },
		{ "!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~", 1 },
		{ "a+2b", 0 },
		{ "a+", 0 },
		{ "a+2", 0 },
		{ "a+G0", 0 },
		{ "a=b", 0 },
		{ "a b", 0 },
		{ "a\tb", 0 },
		{ "a\x7f", 0 },
		{ "\xc3\xa9", 0 },
	};
	size_t	i;
	int	got, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		got = smtp_parse_xtext_valid(tc[i].s);
		if (got != tc[i].want) {
			print_error("xtext \"%s\": got %d want %d\n", tc[i].s,
			    got, tc[i].want);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

/* ----------------------------------------------------------- envelope */

static void
test_envelope_rcpts(void **state)
{
	struct envelope		env;
	struct smtp_mail_args	m;
	struct smtp_rcpt_args	r;
	char			args[64], want[64];
	size_t			i;

	(void)state;
	envelope_init(&env);
	assert_int_equal(env.has_mail, 0);
	assert_null(env.rcpts);
	envelope_clear(&env);			/* clear of empty is fine */

	assert_int_equal(smtp_parse_mail(" FROM:<s@x.y> SIZE=9", &m, NULL),
	    OK);
	envelope_set_mail(&env, &m);
	assert_int_equal(env.has_mail, 1);
	assert_string_equal(env.mail.addr, "s@x.y");
	assert_int_equal(env.mail.size, 9);

	/* 37 recipients: grows past 8, 16 and 32 */
	for (i = 0; i < 37; i++) {
		snprintf(args, sizeof(args), " TO:<r%zu@x.y>%s", i,
		    i % 3 == 0 ? " ORCPT=rfc822;o@x.y NOTIFY=DELAY" : "");
		assert_int_equal(smtp_parse_rcpt(args, 0, &r, NULL), OK);
		envelope_add_rcpt(&env, &r);
		memset(&r, 'z', sizeof(r) - 1);	/* the envelope copied */
	}
	assert_int_equal(env.nrcpts, 37);
	assert_true(env.rcpts_cap >= 37);
	for (i = 0; i < 37; i++) {
		snprintf(want, sizeof(want), "r%zu@x.y", i);
		assert_string_equal(env.rcpts[i].addr, want);
		if (i % 3 == 0) {
			assert_string_equal(env.rcpts[i].orcpt, "rfc822;o@x.y");
			assert_int_equal(env.rcpts[i].notify,
			    SMTP_NOTIFY_DELAY);
		} else {
			assert_null(env.rcpts[i].orcpt);
			assert_int_equal(env.rcpts[i].notify, 0);
		}
	}

	/* RSET: everything goes, and the envelope is reusable */
	envelope_clear(&env);
	assert_int_equal(env.has_mail, 0);
	assert_int_equal(env.nrcpts, 0);
	assert_int_equal(env.rcpts_cap, 0);
	assert_null(env.rcpts);
	assert_string_equal(env.mail.addr, "");
	assert_int_equal(env.mail.has_size, 0);
	assert_int_equal(smtp_parse_rcpt(" TO:<again@x.y>", 0, &r, NULL), OK);
	envelope_add_rcpt(&env, &r);
	assert_int_equal(env.nrcpts, 1);
	assert_string_equal(env.rcpts[0].addr, "again@x.y");
	envelope_clear(&env);
}

static void
test_envelope_json(void **state)
{
	static const struct {
		const char	*label;
		const char	*mail;		/* NULL: no MAIL */
		const char	*rcpt[3];	/* NULL-terminated */
		const char	*want;
	} tc[] = {
		{ "empty envelope", NULL, { NULL }, "{}" },
		{ "no parameters", " FROM:<a@b.c>", { " TO:<x@y.z>", NULL },
		    "{}" },
		{ "size only", " FROM:<a@b.c> SIZE=123", { NULL },
		    "{\"size\":123}" },
		{ "max size", " FROM:<a@b.c> SIZE=18446744073709551615",
		    { NULL }, "{\"size\":18446744073709551615}" },
		{ "body only", " FROM:<a@b.c> BODY=binarymime", { NULL },
		    "{\"body\":\"BINARYMIME\"}" },
		{ "7bit, ret full", " FROM:<a@b.c> RET=full BODY=7bit",
		    { NULL }, "{\"body\":\"7BIT\",\"ret\":\"FULL\"}" },
		{ "everything", " FROM:<a@b.c> AUTH=<> ENVID=abc RET=HDRS "
		    "SMTPUTF8 BODY=8BITMIME SIZE=123",
		    { " TO:<x@y.z> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b",
		    " TO:<p@q.r>", NULL },
		    "{\"size\":123,\"body\":\"8BITMIME\",\"smtputf8\":true,"
		    "\"ret\":\"HDRS\",\"envid\":\"abc\",\"auth\":\"<>\","
		    "\"rcpt\":[{\"notify\":[\"SUCCESS\",\"FAILURE\"],"
		    "\"orcpt\":\"rfc822;a@b\"},null]}" },
		{ "rcpt params only", " FROM:<a@b.c>",
		    { " TO:<x@y.z>", " TO:<p@q.r> NOTIFY=NEVER", NULL },
		    "{\"rcpt\":[null,{\"notify\":[\"NEVER\"]}]}" },
		{ "orcpt only, notify order fixed", " FROM:<a@b.c>",
		    { " TO:<x@y.z> ORCPT=rfc822;x+2By@y.z",
		    " TO:<p@q.r> NOTIFY=DELAY,FAILURE,SUCCESS", NULL },
		    "{\"rcpt\":[{\"orcpt\":\"rfc822;x+2By@y.z\"},"
		    "{\"notify\":[\"SUCCESS\",\"FAILURE\",\"DELAY\"]}]}" },
		{ "quote and backslash escaped", " FROM:<a@b.c> "
		    "ENVID=a\"b\\c AUTH=x\\\"", { NULL },
		    "{\"envid\":\"a\\\"b\\\\c\",\"auth\":\"x\\\\\\\"\"}" },
	};
	struct envelope		 env;
	struct smtp_mail_args	 m;
	struct smtp_rcpt_args	 r;
	char			*got;
	size_t			 i, j;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		envelope_init(&env);
		if (tc[i].mail != NULL) {
			assert_int_equal(smtp_parse_mail(tc[i].mail, &m, NULL),
			    OK);
			envelope_set_mail(&env, &m);
		}
		for (j = 0; tc[i].rcpt[j] != NULL; j++) {
			assert_int_equal(smtp_parse_rcpt(tc[i].rcpt[j], 0, &r,
			    NULL), OK);
			envelope_add_rcpt(&env, &r);
		}
		got = envelope_params_json(&env);
		if (strcmp(got, tc[i].want) != 0) {
			print_error("json %s:\n  got  %s\n  want %s\n",
			    tc[i].label, got, tc[i].want);
			failed = 1;
		}
		free(got);
		envelope_clear(&env);
	}
	if (failed)
		fail();
}

/* Bytes the parser never lets through must still give valid JSON. */
static void
test_envelope_json_escape(void **state)
{
	struct envelope		 env;
	struct smtp_mail_args	 m;
	char			*got;
	const char		*want;

	(void)state;
	memset(&m, 0, sizeof(m));
	strlcpy(m.envid, "\x01\t\n\x1f\x7f \xc3\xa9\xf0\x9f\x93\xa7 \xff"
	    "\xc3 \xed\xa0\x80/", sizeof(m.envid));
	envelope_init(&env);
	envelope_set_mail(&env, &m);
	got = envelope_params_json(&env);
	want = "{\"envid\":\"\\u0001\\u0009\\u000a\\u001f\\u007f "
	    "\xc3\xa9\xf0\x9f\x93\xa7 \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd/\"}";
	if (strcmp(got, want) != 0)
		fail_msg("escape:\n  got  %s\n  want %s", got, want);
	free(got);
	envelope_clear(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_table),
		cmocka_unit_test(test_rcpt_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_param_limits),
		cmocka_unit_test(test_helo_name),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_envelope_rcpts),
		cmocka_unit_test(test_envelope_json),
		cmocka_unit_test(test_envelope_json_escape),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
