/*
 * query.h - search terms to an SQL WHERE fragment with bind values.
 *
 * Pure core: it builds text, it never touches SQLite.  Terms (CONTRACT
 * "The program"), all of which must match:
 *   from:ADDR     envelope sender or From header contains ADDR
 *   to:ADDR       any envelope recipient, or the To or Cc header, contains ADDR
 *   subject:WORD  Subject contains WORD
 *   WORD          Subject or body contains WORD
 * Words are matched through the full-text index (query_match_expr: an
 * FTS5 expression for the "search" table, by whole words; a value ending
 * in '*' makes its last word a prefix);
 * a value with no letter or digit becomes a LIKE substring condition in
 * query_where, with LIKE wildcards escaped.  The fragment refers to the
 * messages table as "m" (see store_schema.c) and uses only "?"
 * placeholders.
 */
#ifndef MAILSINK_QUERY_H
#define MAILSINK_QUERY_H

#include <stddef.h>

struct query;

struct query *query_parse(int, char *const *, char **);
void	query_free(struct query *);
const char *query_where(const struct query *);
size_t	query_nbinds(const struct query *);
const char *query_bind(const struct query *, size_t);
int	query_empty(const struct query *);
const char *query_match_expr(const struct query *);

#endif /* MAILSINK_QUERY_H */
