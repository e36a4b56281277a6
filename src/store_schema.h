/*
 * store_schema.h - the store's schema and its numbered migrations.
 *
 * Shell.  PRAGMA user_version holds the schema version.  Opening a file
 * at an older version migrates it step by step inside one transaction; a
 * file from a newer version is refused, never rewritten.
 */
#ifndef MAILSINK_STORE_SCHEMA_H
#define MAILSINK_STORE_SCHEMA_H

#include <sqlite3.h>

#define STORE_SCHEMA_VERSION	3

int	store_schema_version(sqlite3 *, const char *, int *, char **);
int	store_schema_migrate(sqlite3 *, const char *, char **);

#endif /* MAILSINK_STORE_SCHEMA_H */
