/*
 * query.c - search terms to an SQL WHERE fragment with bind values.
 *
 * Pure core: this file builds text and never touches SQLite.  Terms are
 * answered by the store's full-text index (the "search" FTS5 table, see
 * store_schema.c): each becomes a phrase on the right columns, and all of
 * them one MATCH expression (query_match_expr).  Matching is by whole
 * words, case- and accent-insensitive: "to:bob" finds bob@x.test and
 * bob.smith@x.test, not jimbob@x.test or bobby@x.test; "to:bob*" finds
 * bobby@x.test too.
 *
 * A value with no word in it ("@") cannot be looked up in the index and
 * becomes a LIKE substring condition in query_where instead (ASCII case
 * folding only), the conditions joined with AND.  The user's text only
 * ever travels as a bind value, never inside the SQL, and the LIKE
 * wildcards % and _ (and the escape character \) in it are escaped, so
 * "%" matches the character %, not everything.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "compat.h"
#include "query.h"
#include "xmalloc.h"

/* The condition each kind of term adds; every ? is the term's pattern. */
#define QUERY_LIKE	" LIKE ? ESCAPE '\\'"
#define QUERY_SQL_FROM \
	"(m.mail_from" QUERY_LIKE " OR m.from_hdr" QUERY_LIKE ")"
#define QUERY_SQL_NULLSENDER \
	"(m.mail_from = '')"
#define QUERY_SQL_TO \
	"(EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id" \
	" AND r.addr" QUERY_LIKE ") OR m.to_hdr" QUERY_LIKE \
	" OR m.cc_hdr" QUERY_LIKE ")"
#define QUERY_SQL_SUBJECT \
	"(m.subject" QUERY_LIKE ")"
#define QUERY_SQL_WORD \
	"(m.subject" QUERY_LIKE " OR EXISTS (SELECT 1 FROM bodies b" \
	" WHERE b.message_id = m.id AND CAST(b.raw AS TEXT)" QUERY_LIKE "))"

struct query {
	struct buf	  match;	/* FTS5 expression, "" when none */
	struct buf	  where;	/* the fragment, "1" when no terms */
	char		**binds;	/* one pattern per ? in where */
	size_t		  nbinds;
	size_t		  nterms;	/* terms that added a condition */
	size_t		  nmatch;	/* terms in match */
};

/*
 * One kind of term: its prefix, the search columns that answer it, and
 * the LIKE condition (with its number of ?) for a value the index cannot
 * look up (one with no letters or digits, such as "@").
 */
struct query_kind {
	const char	*prefix;	/* "from:"; NULL for a bare word */
	const char	*columns;	/* FTS5 column filter */
	const char	*sql;
	size_t		 nbinds;
	int		 addr;		/* value may be written <addr> */
};

static const struct query_kind query_kinds[] = {
	{ "from:", "sender", QUERY_SQL_FROM, 2, 1 },
	{ "to:", "recipients", QUERY_SQL_TO, 3, 1 },
	{ "subject:", "subject", QUERY_SQL_SUBJECT, 1, 0 },
};
static const struct query_kind query_word = {
	NULL, "{subject body}", QUERY_SQL_WORD, 2, 0
};

/*
 * The FTS5 expression for value in columns: its words as one phrase, so
 * "to:bob@example.com" finds the words bob, example and com in that order.
 * A value ending in '*' makes its last word a prefix ("subject:invo*"
 * finds "invoice"); only then, because a prefix cannot be walked newest
 * first without reading every match, and exact words can.  Words are what
 * the index's unicode61 tokenizer keeps: runs of letters and digits (any
 * byte from 0x80 up counts, so UTF-8 text stays whole).  Returns NULL
 * when value has no word at all.
 */
static char *
query_match(const char *columns, const char *value, size_t len)
{
	struct buf	b;
	size_t		i, words = 0;
	int		in = 0;
	unsigned char	c;

	buf_init(&b, 0);
	buf_addf(&b, "%s : \"", columns);
	for (i = 0; i < len; i++) {
		c = (unsigned char)value[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c >= 0x80) {
			if (!in && words++ > 0)
				buf_add(&b, " ", 1);
			buf_add(&b, &value[i], 1);
			in = 1;
		} else
			in = 0;
	}
	if (words == 0) {
		buf_clear(&b);
		return (NULL);
	}
	buf_adds(&b, len > 0 && value[len - 1] == '*' ? "\"*" : "\"");
	return (b.data);
}

/* Return "%value%" with %, _ and \ escaped by a backslash. */
static char *
query_pattern(const char *value, size_t len)
{
	char	*pat, *p;
	size_t	 i;

	pat = p = xmalloc(2 * len + 3);
	*p++ = '%';
	for (i = 0; i < len; i++) {
		if (value[i] == '%' || value[i] == '_' || value[i] == '\\')
			*p++ = '\\';
		*p++ = value[i];
	}
	*p++ = '%';
	*p = '\0';
	return (pat);
}

/* Append one condition and its binds (n copies of pattern, or none). */
static void
query_add(struct query *q, const char *sql, size_t n, const char *value,
    size_t len)
{
	size_t	i;

	if (q->nterms++ > 0)
		buf_adds(&q->where, " AND ");
	buf_adds(&q->where, sql);
	if (n == 0)
		return;
	q->binds = xreallocarray(q->binds, q->nbinds + n, sizeof(*q->binds));
	q->binds[q->nbinds] = query_pattern(value, len);
	for (i = 1; i < n; i++)
		q->binds[q->nbinds + i] = xstrdup(q->binds[q->nbinds]);
	q->nbinds += n;
}

/*
 * Parse argc search terms from argv (CONTRACT "The program": from:ADDR,
 * to:ADDR, subject:WORD, or a bare word); all must match.  The prefixes
 * are case-insensitive.  An unknown prefix ("foo:bar") is a bare word, and
 * an empty argument is ignored, so `mailsink list "$Q"` with Q empty lists
 * everything.  For from: and to: an address may be written in angle
 * brackets, and "from:<>" matches the null sender.  Returns a query the
 * caller frees with query_free, or NULL with *cause set (caller frees)
 * when a prefix has no value ("from:").
 */
struct query *
query_parse(int argc, char *const *argv, char **cause)
{
	struct query			*q;
	const struct query_kind		*k;
	const char			*arg, *value;
	char				*match;
	size_t				 i, len, plen;
	int				 n;

	q = xcalloc(1, sizeof(*q));
	buf_init(&q->match, 0);
	buf_init(&q->where, 0);
	for (n = 0; n < argc; n++) {
		arg = argv[n];
		if (*arg == '\0')
			continue;
		k = &query_word;
		plen = 0;
		for (i = 0; i < MS_NITEMS(query_kinds); i++) {
			if (strncasecmp(arg, query_kinds[i].prefix,
			    strlen(query_kinds[i].prefix)) == 0) {
				k = &query_kinds[i];
				plen = strlen(k->prefix);
				break;
			}
		}
		value = arg + plen;
		len = strlen(value);
		if (k->addr && len >= 2 && value[0] == '<' &&
		    value[len - 1] == '>') {
			value++;
			len -= 2;
			if (len == 0 && k == &query_kinds[0]) {
				query_add(q, QUERY_SQL_NULLSENDER, 0, NULL, 0);
				continue;
			}
		}
		if (len == 0) {
			xasprintf(cause, "empty value for '%.*s'", (int)plen,
			    arg);
			query_free(q);
			return (NULL);
		}
		if ((match = query_match(k->columns, value, len)) != NULL) {
			/* All word terms go into one MATCH, ANDed. */
			buf_addf(&q->match, "%s(%s)", q->match.len > 0 ?
			    " AND " : "", match);
			free(match);
			q->nmatch++;
		} else
			query_add(q, k->sql, k->nbinds, value, len);
	}
	if (q->nterms == 0)
		buf_adds(&q->where, "1");
	return (q);
}

/* Free a query and its binds; NULL is a no-op. */
void
query_free(struct query *q)
{
	size_t	i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nbinds; i++)
		free(q->binds[i]);
	free(q->binds);
	buf_clear(&q->match);
	buf_clear(&q->where);
	free(q);
}

/*
 * The WHERE fragment ("1" for an empty query), referring to the messages
 * table as "m"; valid until query_free.
 */
const char *
query_where(const struct query *q)
{
	return (buf_str(&q->where));
}

/* How many ? placeholders query_where has. */
size_t
query_nbinds(const struct query *q)
{
	return (q->nbinds);
}

/* The text to bind to the i-th ? (0-based); valid until query_free. */
const char *
query_bind(const struct query *q, size_t i)
{
	if (i >= q->nbinds)
		return (NULL);
	return (q->binds[i]);
}

/* 1 if the query has no terms (it matches every message), else 0. */
int
query_empty(const struct query *q)
{
	return (q->nterms == 0 && q->nmatch == 0);
}

/*
 * The FTS5 expression for the store's "search" table that the word terms
 * make (all of them ANDed), or NULL when there is none; valid until
 * query_free.  The store drives the search from it, newest first, so a
 * page of results costs a page of lookups however many messages match.
 */
const char *
query_match_expr(const struct query *q)
{
	return (q->nmatch > 0 ? buf_str(&q->match) : NULL);
}
