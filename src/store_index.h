/*
 * store_index.h - the search index, filled after the 250.
 *
 * Shell, used by store.c only: messages are stored unindexed and indexed
 * in chunks later (see store_index.c for when and why).
 */
#ifndef MAILSINK_STORE_INDEX_H
#define MAILSINK_STORE_INDEX_H

#include <stddef.h>

#include <sqlite3.h>

#define STORE_INDEX_CHUNK	512	/* messages per index transaction */

int	store_index_run(sqlite3 *, const char *, size_t, char **);
int	store_index_behind(sqlite3 *, const char *, char **);

#endif /* MAILSINK_STORE_INDEX_H */
