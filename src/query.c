/*
 * query.c - search terms to an SQL WHERE fragment with bind values.
 *
 * Pure core: this file builds text and never touches SQLite.  Each term
 * becomes one parenthesised condition and the conditions are joined with
 * AND.  The user's text only ever travels as a bind value, never inside
 * the SQL, and the LIKE wildcards % and _ (and the escape character \) in
 * it are escaped, so "100%" matches the four characters 1 0 0 %, not
 * everything that starts with "100".
 *
 * Case-insensitivity comes from SQLite's LIKE, which folds ASCII letters
 * only; that is enough for addresses and most subjects.  Bare words are
 * searched in the raw stored octets (headers and body as sent), so a word
 * inside a base64 or quoted-printable part is not found; a full-text
 * index can replace this later without changing the interface.
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
	struct buf	  where;	/* the fragment, "1" when no terms */
	char		**binds;	/* one pattern per ? in where */
	size_t		  nbinds;
	size_t		  nterms;	/* terms that added a condition */
};

/* One kind of term: its prefix, its SQL and how many ? that SQL has. */
struct query_kind {
	const char	*prefix;	/* "from:"; NULL for a bare word */
	const char	*sql;
	size_t		 nbinds;
	int		 addr;		/* value may be written <addr> */
};

static const struct query_kind query_kinds[] = {
	{ "from:", QUERY_SQL_FROM, 2, 1 },
	{ "to:", QUERY_SQL_TO, 3, 1 },
	{ "subject:", QUERY_SQL_SUBJECT, 1, 0 },
};
static const struct query_kind query_word = { NULL, QUERY_SQL_WORD, 2, 0 };

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
	size_t				 i, len, plen;
	int				 n;

	q = xcalloc(1, sizeof(*q));
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
	return (q->nterms == 0);
}
