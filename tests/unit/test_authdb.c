/*
 * test_authdb.c - unit tests for authdb.c (the --auth credentials).
 *
 * A shell test: it links OpenSSL to compute CRAM-MD5 digests on its own
 * (HMAC-MD5, RFC 2195) and compares the module's verdict with them.
 * Tables cover the file parser (good files with comments, blank lines
 * and CRLF; each bad line's exact "FILE:LINE: problem"), the check in
 * "any" and file mode for PLAIN, LOGIN and CRAM-MD5, the challenge
 * format, and authdb_load on real and missing files.  A failing case
 * prints its label, got and want.
 */
#include <sys/stat.h>

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authdb.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* 256 and 257 octets: at the field cap and one past it. */
#define S16	"abcdefghijklmnop"
#define S256	S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16 S16
#define S257	S256 "q"

/* ------------------------------------------------------------- parsing */

struct cred {
	const char	*user;
	const char	*password;
};

struct parse_case {
	const char	*label;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*cause;		/* want this error, or NULL */
	size_t		 count;		/* want this many entries */
	struct cred	 creds[4];	/* each must check good (PLAIN) */
};

static const struct parse_case parse_cases[] = {
	{ "one line", "alice:secret\n", 0, NULL, 1,
	  { { "alice", "secret" } } },
	{ "no final newline", "alice:secret", 0, NULL, 1,
	  { { "alice", "secret" } } },
	{ "comments, blank lines, CRLF",
	  "# users for the test\r\n\r\nalice:secret\r\n# bob next\n\n"
	  "bob:hunter2\r\n\r\n", 0, NULL, 2,
	  { { "alice", "secret" }, { "bob", "hunter2" } } },
	{ "password with colons and spaces", "carol:a:b c:d\n", 0, NULL, 1,
	  { { "carol", "a:b c:d" } } },
	{ "user with @", "dave@example.test:pw\n", 0, NULL, 1,
	  { { "dave@example.test", "pw" } } },
	{ "CR stripped only at the end", "erin:pw\r\n", 0, NULL, 1,
	  { { "erin", "pw" } } },
	{ "fields at the cap", S256 ":" S256 "\n", 0, NULL, 1,
	  { { S256, S256 } } },

	/* Bad lines, numbered from 1 counting comments and blanks. */
	{ "no colon", "alice:secret\nnocolon\n", 0,
	  "creds.txt:2: expected user:password", 0, { { NULL } } },
	{ "no colon after comments and CRLF",
	  "# c\r\n\r\nalice:pw\r\nbad line\r\n", 0,
	  "creds.txt:4: expected user:password", 0, { { NULL } } },
	{ "empty user", ":secret\n", 0, "creds.txt:1: empty user name", 0,
	  { { NULL } } },
	{ "empty user on line 3", "a:b\n# x\n:pw\n", 0,
	  "creds.txt:3: empty user name", 0, { { NULL } } },
	{ "over-long user", S257 ":pw\n", 0,
	  "creds.txt:1: user or password longer than 256 octets", 0,
	  { { NULL } } },
	{ "over-long password", "alice:" S257 "\n", 0,
	  "creds.txt:1: user or password longer than 256 octets", 0,
	  { { NULL } } },
	{ "NUL in password", "alice:pw\nbob:p\0w\n", 17,
	  "creds.txt:2: NUL byte in line", 0, { { NULL } } },
	{ "NUL in user", "b\0b:pw\n", 7, "creds.txt:1: NUL byte in line", 0,
	  { { NULL } } },
	{ "whitespace-only line", "alice:pw\n   \n", 0,
	  "creds.txt:2: expected user:password", 0, { { NULL } } },

	/* No credentials at all. */
	{ "empty file", "", 0, "creds.txt: no user:password lines", 0,
	  { { NULL } } },
	{ "only comments and blanks", "# nobody\n\n\r\n# yet\n", 0,
	  "creds.txt: no user:password lines", 0, { { NULL } } },
};

static void
test_parse_table(void **state)
{
	const struct parse_case	*c;
	struct authdb		*db;
	char			*cause;
	size_t			 i, k, len;

	(void)state;
	for (i = 0; i < NITEMS(parse_cases); i++) {
		c = &parse_cases[i];
		len = c->len != 0 ? c->len : strlen(c->text);
		cause = NULL;
		db = authdb_parse(c->text, len, "creds.txt", &cause);
		if (c->cause != NULL) {
			if (db != NULL)
				fail_msg("%s: parsed (%zu entries), want"
				    " error \"%s\"", c->label,
				    authdb_count(db), c->cause);
			if (cause == NULL || strcmp(cause, c->cause) != 0)
				fail_msg("%s:\n  got  \"%s\"\n  want \"%s\"",
				    c->label, cause != NULL ? cause : "(null)",
				    c->cause);
			free(cause);
			continue;
		}
		if (db == NULL)
			fail_msg("%s: got error \"%s\", want %zu entries",
			    c->label, cause, c->count);
		if (authdb_count(db) != c->count)
			fail_msg("%s: got %zu entries, want %zu", c->label,
			    authdb_count(db), c->count);
		for (k = 0; k < NITEMS(c->creds) && c->creds[k].user != NULL;
		    k++) {
			if (authdb_check(db, "PLAIN", c->creds[k].user,
			    c->creds[k].password, "") != 1)
				fail_msg("%s: %s:%s does not check", c->label,
				    c->creds[k].user, c->creds[k].password);
		}
		authdb_free(db);
	}
}

/* --------------------------------------------------------------- checks */

/* HMAC-MD5(password, challenge) as hex, computed here independently. */
static void
cram_hex(const char *password, const char *challenge, int upper,
    char hex[33])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	if (HMAC(EVP_md5(), password, (int)strlen(password),
	    (const unsigned char *)challenge, strlen(challenge), md,
	    &mdlen) == NULL || mdlen != 16)
		fail_msg("HMAC-MD5 failed");
	for (i = 0; i < 16; i++)
		snprintf(hex + i * 2, 3, upper ? "%02X" : "%02x", md[i]);
}

#define CREDS	"alice:secret\nbob:hunter2\ntim:tanstaaftanstaaf\n"
#define RFC2195_CHAL	"<1896.697170952@postoffice.reston.mci.net>"

struct check_case {
	const char	*label;
	const char	*mech;
	const char	*user;
	const char	*secret;
	const char	*challenge;
	int		 want_any;	/* verdict in "any" mode */
	int		 want_file;	/* verdict against CREDS */
};

static const struct check_case check_cases[] = {
	{ "PLAIN good", "PLAIN", "alice", "secret", "", 1, 1 },
	{ "PLAIN good, second user", "PLAIN", "bob", "hunter2", "", 1, 1 },
	{ "LOGIN good", "LOGIN", "alice", "secret", "", 1, 1 },
	{ "PLAIN wrong password", "PLAIN", "alice", "wrong", "", 1, 0 },
	{ "PLAIN other user's password", "PLAIN", "alice", "hunter2", "", 1,
	  0 },
	{ "PLAIN password prefix", "PLAIN", "alice", "secre", "", 1, 0 },
	{ "PLAIN password plus one", "PLAIN", "alice", "secrets", "", 1, 0 },
	{ "PLAIN empty password", "PLAIN", "alice", "", "", 1, 0 },
	{ "PLAIN password case", "PLAIN", "alice", "SECRET", "", 1, 0 },
	{ "LOGIN wrong password", "LOGIN", "bob", "secret", "", 1, 0 },
	{ "PLAIN unknown user", "PLAIN", "mallory", "secret", "", 1, 0 },
	{ "PLAIN user prefix", "PLAIN", "alic", "secret", "", 1, 0 },
	{ "PLAIN user case differs", "PLAIN", "ALICE", "secret", "", 1, 0 },
	{ "CRAM-MD5 RFC 2195 example", "CRAM-MD5", "tim",
	  "b913a602c7eda7a495b4e6e7334d3890", RFC2195_CHAL, 1, 1 },
	{ "CRAM-MD5 RFC 2195 example, upper case", "CRAM-MD5", "tim",
	  "B913A602C7EDA7A495B4E6E7334D3890", RFC2195_CHAL, 1, 1 },
	{ "CRAM-MD5 one digit off", "CRAM-MD5", "tim",
	  "b913a602c7eda7a495b4e6e7334d3891", RFC2195_CHAL, 1, 0 },
	{ "CRAM-MD5 other challenge", "CRAM-MD5", "tim",
	  "b913a602c7eda7a495b4e6e7334d3890", "<1.2@mx.test>", 1, 0 },
	{ "CRAM-MD5 short digest", "CRAM-MD5", "tim",
	  "b913a602c7eda7a495b4e6e7334d389", RFC2195_CHAL, 1, 0 },
	{ "CRAM-MD5 password as the secret", "CRAM-MD5", "tim",
	  "tanstaaftanstaaf", RFC2195_CHAL, 1, 0 },
	{ "CRAM-MD5 unknown user", "CRAM-MD5", "nobody",
	  "b913a602c7eda7a495b4e6e7334d3890", RFC2195_CHAL, 1, 0 },
	{ "CRAM-MD5 other user's digest", "CRAM-MD5", "alice",
	  "b913a602c7eda7a495b4e6e7334d3890", RFC2195_CHAL, 1, 0 },
};

static void
test_check_table(void **state)
{
	const struct check_case	*c;
	struct authdb		*any, *file;
	char			*cause = NULL;
	size_t			 i;
	int			 got;

	(void)state;
	any = authdb_any();
	file = authdb_parse(CREDS, strlen(CREDS), "creds.txt", &cause);
	if (file == NULL)
		fail_msg("parse: %s", cause);
	for (i = 0; i < NITEMS(check_cases); i++) {
		c = &check_cases[i];
		got = authdb_check(any, c->mech, c->user, c->secret,
		    c->challenge);
		if (got != c->want_any)
			fail_msg("%s (any): got %d, want %d", c->label, got,
			    c->want_any);
		got = authdb_check(file, c->mech, c->user, c->secret,
		    c->challenge);
		if (got != c->want_file)
			fail_msg("%s (file): got %d, want %d", c->label, got,
			    c->want_file);
	}
	authdb_free(any);
	authdb_free(file);
	authdb_free(NULL);
}

/* CRAM-MD5 against fresh challenges, with digests computed here. */
static void
test_cram_fresh(void **state)
{
	struct authdb	*db;
	char		*cause = NULL, chal[256], hex[33];
	int		 i, got;

	(void)state;
	db = authdb_parse(CREDS, strlen(CREDS), "creds.txt", &cause);
	if (db == NULL)
		fail_msg("parse: %s", cause);
	authdb_set_hostname(db, "mx.test");
	for (i = 0; i < 8; i++) {
		authdb_challenge(db, chal, sizeof(chal));
		cram_hex("hunter2", chal, 0, hex);
		if ((got = authdb_check(db, "CRAM-MD5", "bob", hex, chal)) !=
		    1)
			fail_msg("%s, %s: got %d, want 1", chal, hex, got);
		cram_hex("hunter2", chal, 1, hex);
		if ((got = authdb_check(db, "CRAM-MD5", "bob", hex, chal)) !=
		    1)
			fail_msg("%s, upper %s: got %d, want 1", chal, hex,
			    got);
		cram_hex("hunter3", chal, 0, hex);
		if ((got = authdb_check(db, "CRAM-MD5", "bob", hex, chal)) !=
		    0)
			fail_msg("%s, wrong password: got %d, want 0", chal,
			    got);
		cram_hex("secret", chal, 0, hex);
		if ((got = authdb_check(db, "CRAM-MD5", "bob", hex, chal)) !=
		    0)
			fail_msg("%s, alice's password for bob: got %d,"
			    " want 0", chal, got);
		if ((got = authdb_check(db, "CRAM-MD5", "alice", hex,
		    chal)) != 1)
			fail_msg("%s, alice: got %d, want 1", chal, got);
	}
	authdb_free(db);
}

/* ----------------------------------------------------------- challenges */

static void
test_challenge(void **state)
{
	static const struct {
		const char	*hostname;	/* NULL: never set */
		const char	*pattern;
	} cases[] = {
		{ "mx.test", "^<[0-9]+\\.[0-9]+@mx\\.test>$" },
		{ "mail.example.org",
		    "^<[0-9]+\\.[0-9]+@mail\\.example\\.org>$" },
		{ NULL, "^<[0-9]+\\.[0-9]+@[^@<>]+>$" },
	};
	struct authdb	*db;
	regex_t		 re;
	char		 a[256], b[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (regcomp(&re, cases[i].pattern, REG_EXTENDED | REG_NOSUB) !=
		    0)
			fail_msg("regcomp %s", cases[i].pattern);
		db = authdb_any();
		if (cases[i].hostname != NULL)
			authdb_set_hostname(db, cases[i].hostname);
		authdb_challenge(db, a, sizeof(a));
		authdb_challenge(db, b, sizeof(b));
		if (regexec(&re, a, 0, NULL, 0) != 0)
			fail_msg("host %s: got \"%s\", want /%s/",
			    cases[i].hostname, a, cases[i].pattern);
		if (regexec(&re, b, 0, NULL, 0) != 0)
			fail_msg("host %s: got \"%s\", want /%s/",
			    cases[i].hostname, b, cases[i].pattern);
		/* RFC 2195 2: the challenge must be unique each time. */
		if (strcmp(a, b) == 0)
			fail_msg("host %s: two challenges are both \"%s\"",
			    cases[i].hostname, a);
		regfree(&re);
		authdb_free(db);
	}
}

/* --------------------------------------------------------------- loading */

static char *
write_temp(const char *text)
{
	size_t	 len = strlen(text);
	char	*path;
	FILE	*f;
	int	 fd;

	path = xstrdup("/tmp/test_authdb.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp failed");
	if ((f = fdopen(fd, "w")) == NULL ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0)
		fail_msg("cannot write %s", path);
	return (path);
}

static void
test_load(void **state)
{
	struct authdb	*db;
	char		*path, *cause = NULL, *want;
	char		 dir[] = "/tmp/test_authdb_dir.XXXXXX";
	const char	*missing = "/nonexistent/test_authdb/creds.txt";

	(void)state;

	/* A good file. */
	path = write_temp("# test\nalice:secret\r\nbob:hunter2\n");
	if ((db = authdb_load(path, &cause)) == NULL)
		fail_msg("load %s: %s", path, cause);
	if (authdb_count(db) != 2)
		fail_msg("load: got %zu entries, want 2", authdb_count(db));
	if (authdb_check(db, "PLAIN", "bob", "hunter2", "") != 1 ||
	    authdb_check(db, "PLAIN", "bob", "secret", "") != 0)
		fail_msg("load: checks do not match the file");
	authdb_free(db);
	unlink(path);
	free(path);

	/* A bad line: the message names the file as given and the line. */
	path = write_temp("alice:secret\n\n:nouser\n");
	cause = NULL;
	if ((db = authdb_load(path, &cause)) != NULL)
		fail_msg("load bad file: parsed");
	xasprintf(&want, "%s:3: empty user name", path);
	if (cause == NULL || strcmp(cause, want) != 0)
		fail_msg("load bad file:\n  got  \"%s\"\n  want \"%s\"",
		    cause != NULL ? cause : "(null)", want);
	free(want);
	free(cause);
	unlink(path);
	free(path);

	/* A missing file: the message names it and why. */
	cause = NULL;
	if ((db = authdb_load(missing, &cause)) != NULL)
		fail_msg("load missing: loaded");
	xasprintf(&want, "%s: No such file or directory", missing);
	if (cause == NULL || strcmp(cause, want) != 0)
		fail_msg("load missing:\n  got  \"%s\"\n  want \"%s\"",
		    cause != NULL ? cause : "(null)", want);
	free(want);
	free(cause);

	/* A directory is not a credentials file. */
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp failed");
	cause = NULL;
	if ((db = authdb_load(dir, &cause)) != NULL)
		fail_msg("load directory: loaded");
	if (cause == NULL || strncmp(cause, dir, strlen(dir)) != 0 ||
	    cause[strlen(dir)] != ':')
		fail_msg("load directory: got \"%s\", want \"%s: ...\"",
		    cause != NULL ? cause : "(null)", dir);
	free(cause);
	rmdir(dir);

	/* An empty file. */
	path = write_temp("");
	cause = NULL;
	if ((db = authdb_load(path, &cause)) != NULL)
		fail_msg("load empty file: loaded");
	xasprintf(&want, "%s: no user:password lines", path);
	if (cause == NULL || strcmp(cause, want) != 0)
		fail_msg("load empty file:\n  got  \"%s\"\n  want \"%s\"",
		    cause != NULL ? cause : "(null)", want);
	free(want);
	free(cause);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_cram_fresh),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_load),
	};

	return (cmocka_run_group_tests_name("authdb", tests, NULL, NULL));
}
