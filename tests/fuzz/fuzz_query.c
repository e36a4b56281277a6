/*
 * fuzz_query.c - libFuzzer target for the search query parser (query).
 *
 * Input: search terms, one per line (LF), as `mailsink list` gets them in
 * argv or the HTTP API in its query string.  query_parse() must either
 * fail with a cause or build a WHERE fragment in which the user's text
 * appears only as bind values: the fragment has exactly one "?" per bind
 * value, balanced parentheses and quotes, and nothing but the fixed SQL
 * of the term kinds, so no term can change the statement's shape.  The
 * bind values must not let the text change the shape of what they feed
 * either: a LIKE pattern has no unescaped wildcard, a full-text MATCH
 * expression keeps the text inside one quoted phrase.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "query.h"

#define FUZZ_QUERY_ARGS_MAX	64	/* terms looked at per input */

/*
 * A LIKE pattern "%text%" may hold wildcards only at its two ends: every
 * %, _ and \ of the user's text is escaped with \.
 */
static void
fuzz_query_like(const char *b)
{
	size_t	len, i;

	len = strlen(b);
	FUZZ_ASSERT(len >= 3 && b[0] == '%' && b[len - 1] == '%',
	    "bind '%s' is not %%text%%", b);
	for (i = 1; i < len - 1; i++) {
		if (b[i] == '\\') {
			i++;
			FUZZ_ASSERT(i < len - 1, "bind '%s' ends in an escape",
			    b);
			continue;
		}
		FUZZ_ASSERT(b[i] != '%' && b[i] != '_', "unescaped wildcard"
		    " in bind '%s'", b);
	}
}

/*
 * A full-text MATCH expression must be a column filter of fixed words
 * and one double-quoted phrase, optionally a prefix ("*"), with no quote
 * inside the phrase: a quote would let the user's text out of the phrase
 * and into FTS5's query syntax (OR, NEAR, column filters).
 */
static void
fuzz_query_match(const char *b)
{
	const char	*sep, *phrase, *close;

	FUZZ_ASSERT((sep = strstr(b, " : \"")) != NULL, "bind '%s' is"
	    " neither a LIKE pattern nor a MATCH phrase", b);
	FUZZ_ASSERT(strspn(b, "abcdefghijklmnopqrstuvwxyz_{} ") >=
	    (size_t)(sep - b), "column filter of bind '%s'", b);
	phrase = sep + 4;
	close = strchr(phrase, '"');
	FUZZ_ASSERT(close != NULL && close > phrase && (strcmp(close,
	    "\"") == 0 || strcmp(close, "\"*") == 0), "bind '%s' is not one"
	    " quoted phrase", b);
}

/* A bind value is a LIKE pattern or a full-text MATCH expression. */
static void
fuzz_query_pattern(const char *b)
{
	FUZZ_ASSERT(b != NULL, "NULL bind value");
	if (b[0] == '%')
		fuzz_query_like(b);
	else
		fuzz_query_match(b);
}

/* The fragment must be fixed SQL with one "?" per bind value. */
static void
fuzz_query_check(const struct query *q)
{
	const char	*w, *p;
	size_t		 marks = 0, i;
	int		 depth = 0, inq = 0;

	w = query_where(q);
	FUZZ_ASSERT(w != NULL && *w != '\0', "empty WHERE");
	for (p = w; *p != '\0'; p++) {
		if (inq) {
			if (*p == '\'')
				inq = 0;
			continue;
		}
		switch (*p) {
		case '\'':
			inq = 1;
			break;
		case '?':
			marks++;
			break;
		case '(':
			depth++;
			break;
		case ')':
			FUZZ_ASSERT(--depth >= 0, "unbalanced ')' in %s", w);
			break;
		case ';':
		case '"':
		case '-':
			FUZZ_ASSERT(0, "'%c' in WHERE %s", *p, w);
			break;
		default:
			break;
		}
	}
	FUZZ_ASSERT(!inq && depth == 0, "unbalanced WHERE %s", w);
	FUZZ_ASSERT(marks == query_nbinds(q), "%zu placeholders, %zu binds:"
	    " %s", marks, query_nbinds(q), w);
	for (i = 0; i < query_nbinds(q); i++)
		fuzz_query_pattern(query_bind(q, i));
	if (query_empty(q))
		FUZZ_ASSERT(query_nbinds(q) == 0, "empty query with binds");
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
	struct query	*q;
	char		*text, *p, *nl, *argv[FUZZ_QUERY_ARGS_MAX + 1];
	char		*cause = NULL;
	int		 argc = 0;

	text = fuzz_strdup(data, size);
	for (p = text; p != NULL && argc < FUZZ_QUERY_ARGS_MAX; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		argv[argc++] = p;
	}
	argv[argc] = NULL;

	if ((q = query_parse(argc, argv, &cause)) == NULL)
		FUZZ_ASSERT(cause != NULL, "query_parse failed without a"
		    " cause");
	else {
		FUZZ_ASSERT(cause == NULL, "cause '%s' with a query", cause);
		fuzz_query_check(q);
		query_free(q);
	}
	free(cause);
	free(text);
	return (0);
}
