/*
 * test_query.c - search terms to WHERE fragment and binds.
 *
 * Words go to the full-text index as one MATCH each; a value with no word
 * in it falls back to a LIKE scan with its wildcards escaped.
 *
 * Table-driven: each case gives the terms, the fragment and the binds it
 * must produce, or the error.  Every case also checks that the fragment
 * has exactly as many ? placeholders as there are binds, which is what
 * the store relies on when it binds them in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"

#define LIKE		" LIKE ? ESCAPE '\\'"
#define W_FROM		"(m.mail_from" LIKE " OR m.from_hdr" LIKE ")"
#define W_NULLSENDER	"(m.mail_from = '')"
#define W_TO		"(EXISTS (SELECT 1 FROM recipients r WHERE" \
			" r.message_id = m.id AND r.addr" LIKE ")" \
			" OR m.to_hdr" LIKE " OR m.cc_hdr" LIKE ")"
#define W_SUBJECT	"(m.subject" LIKE ")"
#define W_WORD		"(m.subject" LIKE " OR EXISTS (SELECT 1 FROM bodies b" \
			" WHERE b.message_id = m.id AND CAST(b.raw AS TEXT)" \
			LIKE "))"

#define MAXTERMS	4
#define MAXBINDS	8

struct query_case {
	const char	*label;
	const char	*terms[MAXTERMS];	/* NULL-terminated */
	const char	*want_where;		/* NULL: want an error */
	const char	*want_match;		/* FTS5 expression or NULL */
	const char	*want_binds[MAXBINDS];	/* NULL-terminated */
	const char	*want_error;
};

static const struct query_case query_cases[] = {
	{ "no terms", { NULL }, "1", NULL, { NULL }, NULL },
	{ "empty argument ignored", { "", NULL }, "1", NULL, { NULL }, NULL },
	{ "from", { "from:alice@example.com", NULL }, "1",
	    "(sender : \"alice example com\")", { NULL }, NULL },
	{ "prefix case-insensitive", { "FROM:Alice", NULL }, "1",
	    "(sender : \"Alice\")", { NULL }, NULL },
	{ "from angle brackets", { "from:<a@b.test>", NULL }, "1",
	    "(sender : \"a b test\")", { NULL }, NULL },
	{ "from null sender", { "from:<>", NULL }, W_NULLSENDER, NULL,
	    { NULL }, NULL },
	{ "to", { "to:bob", NULL }, "1", "(recipients : \"bob\")",
	    { NULL }, NULL },
	{ "to angle brackets", { "To:<bob@x.test>", NULL }, "1",
	    "(recipients : \"bob x test\")", { NULL }, NULL },
	{ "subject", { "subject:Invoice", NULL }, "1",
	    "(subject : \"Invoice\")", { NULL }, NULL },
	{ "subject keeps words of brackets", { "subject:<x>", NULL }, "1",
	    "(subject : \"x\")", { NULL }, NULL },
	{ "bare word", { "welcome", NULL }, "1",
	    "({subject body} : \"welcome\")", { NULL }, NULL },
	{ "unknown prefix is a word", { "foo:bar", NULL }, "1",
	    "({subject body} : \"foo bar\")", { NULL }, NULL },
	{ "word with spaces", { "hello   world", NULL }, "1",
	    "({subject body} : \"hello world\")", { NULL }, NULL },
	{ "fts syntax is only text", { "subject:a\"b OR (c) NEAR", NULL },
	    "1", "(subject : \"a b OR c NEAR\")", { NULL }, NULL },
	{ "trailing star: prefix", { "subject:invo*", NULL }, "1",
	    "(subject : \"invo\"*)", { NULL }, NULL },
	{ "star inside is a separator", { "a*b", NULL }, "1",
	    "({subject body} : \"a b\")", { NULL }, NULL },
	{ "utf-8 kept whole", { "caf\xc3\xa9", NULL }, "1",
	    "({subject body} : \"caf\xc3\xa9\")", { NULL }, NULL },
	{ "no word: LIKE, wildcards escaped", { "subject:%_\\", NULL },
	    W_SUBJECT, NULL, { "%\\%\\_\\\\%", NULL }, NULL },
	{ "no word: lone percent", { "%", NULL }, W_WORD, NULL,
	    { "%\\%%", "%\\%%", NULL }, NULL },
	{ "no word: from", { "from:@", NULL }, W_FROM, NULL,
	    { "%@%", "%@%", NULL }, NULL },
	{ "no word: to", { "to:@.", NULL }, W_TO, NULL,
	    { "%@.%", "%@.%", "%@.%", NULL }, NULL },
	{ "all terms AND", { "from:a", "to:b", "subject:c", "d" }, "1",
	    "(sender : \"a\") AND (recipients : \"b\") AND"
	    " (subject : \"c\") AND ({subject body} : \"d\")",
	    { NULL }, NULL },
	{ "words and LIKE together", { "from:<>", "bounce", "to:@", NULL },
	    W_NULLSENDER " AND " W_TO, "({subject body} : \"bounce\")",
	    { "%@%", "%@%", "%@%", NULL }, NULL },
	{ "empty from", { "from:", NULL }, NULL, NULL, { NULL },
	    "empty value for 'from:'" },
	{ "empty to", { "to:", NULL }, NULL, NULL, { NULL },
	    "empty value for 'to:'" },
	{ "empty subject keeps case", { "Subject:", NULL }, NULL, NULL,
	    { NULL }, "empty value for 'Subject:'" },
	{ "empty to brackets", { "to:<>", NULL }, NULL, NULL, { NULL },
	    "empty value for 'to:'" },
	{ "error after a good term", { "from:a", "subject:", NULL }, NULL,
	    NULL, { NULL }, "empty value for 'subject:'" },
};

static size_t
count_qmarks(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (*s == '?')
			n++;
	return (n);
}

static void
test_query_table(void **state)
{
	const struct query_case	*c;
	struct query		*q;
	char			*cause;
	size_t			 i, j, nterms, nwant;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		c = &query_cases[i];
		for (nterms = 0; nterms < MAXTERMS && c->terms[nterms] != NULL;
		    nterms++)
			;
		for (nwant = 0; nwant < MAXBINDS &&
		    c->want_binds[nwant] != NULL; nwant++)
			;
		cause = NULL;
		q = query_parse((int)nterms, (char *const *)c->terms, &cause);
		if (c->want_where == NULL) {
			if (q != NULL) {
				print_error("%s: got where \"%s\", want error"
				    " \"%s\"\n", c->label, query_where(q),
				    c->want_error);
				failed = 1;
			} else if (cause == NULL ||
			    strcmp(cause, c->want_error) != 0) {
				print_error("%s: got error \"%s\","
				    " want \"%s\"\n", c->label,
				    cause ? cause : "(null)",
				    c->want_error);
				failed = 1;
			}
			query_free(q);
			free(cause);
			continue;
		}
		if (q == NULL) {
			print_error("%s: got error \"%s\", want where \"%s\"\n",
			    c->label, cause, c->want_where);
			free(cause);
			failed = 1;
			continue;
		}
		if (strcmp(query_where(q), c->want_where) != 0) {
			print_error("%s: where\n  got  \"%s\"\n  want \"%s\"\n",
			    c->label, query_where(q), c->want_where);
			failed = 1;
		}
		if ((c->want_match == NULL) != (query_match_expr(q) == NULL) ||
		    (c->want_match != NULL &&
		    strcmp(c->want_match, query_match_expr(q)) != 0)) {
			print_error("%s: match\n  got  \"%s\"\n  want \"%s\"\n",
			    c->label, query_match_expr(q) ?
			    query_match_expr(q) : "(null)",
			    c->want_match ? c->want_match : "(null)");
			failed = 1;
		}
		if (query_nbinds(q) != nwant) {
			print_error("%s: got %zu binds, want %zu\n", c->label,
			    query_nbinds(q), nwant);
			failed = 1;
		} else {
			for (j = 0; j < nwant; j++) {
				if (strcmp(query_bind(q, j),
				    c->want_binds[j]) != 0) {
					print_error("%s: bind %zu: got \"%s\","
					    " want \"%s\"\n", c->label, j,
					    query_bind(q, j),
					    c->want_binds[j]);
					failed = 1;
				}
			}
		}
		if (count_qmarks(query_where(q)) != query_nbinds(q)) {
			print_error("%s: %zu placeholders but %zu binds\n",
			    c->label, count_qmarks(query_where(q)),
			    query_nbinds(q));
			failed = 1;
		}
		if (query_empty(q) != (strcmp(c->want_where, "1") == 0 &&
		    c->want_match == NULL)) {
			print_error("%s: query_empty got %d\n", c->label,
			    query_empty(q));
			failed = 1;
		}
		if (query_bind(q, query_nbinds(q)) != NULL) {
			print_error("%s: bind past the end is not NULL\n",
			    c->label);
			failed = 1;
		}
		query_free(q);
	}
	if (failed)
		fail_msg("query cases failed");
}

static void
test_query_free_null(void **state)
{
	(void)state;
	query_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_free_null),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
