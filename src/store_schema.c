/*
 * store_schema.c - the store's schema and its numbered migrations.
 *
 * PRAGMA user_version is the schema version.  Migration N->N+1 is the Nth
 * entry of store_schema_steps[]; a fresh file (version 0) runs them all.
 * The caller holds a write transaction (BEGIN IMMEDIATE) around
 * store_schema_migrate(), so a crash or a failed step leaves the file as
 * it was, and two servers opening one new file cannot both migrate it.
 * A file written by a newer mailsink is refused and never touched: its
 * schema may mean things this code does not know.
 *
 * The schema at version 1 (times are RFC 3339 UTC text with
 * milliseconds, "2026-11-23T16:41:28.123Z"):
 *
 *   sessions(id INTEGER PRIMARY KEY, started TEXT NOT NULL, ended TEXT,
 *       client TEXT NOT NULL, helo TEXT, tls_protocol TEXT,
 *       tls_cipher TEXT, user TEXT, outcome TEXT,
 *       quirks TEXT,                   -- comma-separated leniencies
 *       transcript TEXT)
 *
 *   messages(id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
 *       session_id INTEGER,            -- sessions.id, NULL if none
 *       received TEXT NOT NULL, client TEXT NOT NULL, helo TEXT,
 *       tls_protocol TEXT, tls_cipher TEXT, user TEXT,
 *       mail_from TEXT NOT NULL,       -- "" for the null sender
 *       size INTEGER NOT NULL,         -- octets of the raw message
 *       subject TEXT, from_hdr TEXT, to_hdr TEXT, cc_hdr TEXT,
 *       date_hdr TEXT, message_id TEXT, -- decoded headers, NULL if absent
 *       params TEXT)                   -- JSON object of ESMTP parameters
 *     index messages_session(session_id), messages_received(received)
 *
 *   bodies(message_id INTEGER PRIMARY KEY,  -- messages.id
 *       raw BLOB NOT NULL)             -- the octets, apart so that
 *                                      -- listing never reads them
 *
 *   recipients(message_id INTEGER NOT NULL,  -- messages.id
 *       pos INTEGER NOT NULL,          -- 0, 1, ... in RCPT order
 *       addr TEXT NOT NULL COLLATE NOCASE,
 *       notify TEXT,                   -- "SUCCESS,FAILURE", "NEVER"
 *       orcpt TEXT,                    -- ORCPT= as sent
 *       PRIMARY KEY(message_id, pos))
 *     index recipients_addr(addr)
 *
 *   rejections(id INTEGER PRIMARY KEY,
 *       session_id INTEGER,            -- sessions.id
 *       time TEXT NOT NULL,
 *       stage TEXT NOT NULL,           -- "connect", "mail", "rcpt", ...
 *       outcome TEXT NOT NULL,         -- "rejected", "disconnected", ...
 *       mail_from TEXT,                -- NULL if MAIL was not accepted
 *       rcpt_to TEXT,                  -- JSON array of accepted rcpts
 *       rcpt TEXT,                     -- the refused recipient
 *       reply TEXT)                    -- reply line, NULL if none
 *     index rejections_session(session_id)
 *
 * Version 2 adds the full-text index searched by QUERY terms:
 *
 *   search USING fts5(subject, sender, recipients, body,
 *       tokenize = 'unicode61 remove_diacritics 2')
 *       -- rowid = messages.id; sender = MAIL FROM and From; recipients
 *       -- = RCPT TOs, To and Cc; body = the first text part, decoded,
 *       -- at most 16 KiB
 *
 * Version 3 takes the index off the path of the 250: a message is
 * indexed after it is stored, by the server when it has time and by any
 * reader about to search (store_index.c).  Messages are indexed in id
 * order, so one number says how far the index goes:
 *
 *   indexed(upto INTEGER NOT NULL)     -- one row: every message with
 *                                      -- id <= upto is in search
 *
 * There are no foreign keys: deleting a message deletes its bodies,
 * recipients and search rows explicitly, in the same transaction
 * (store.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_schema.h"
#include "xmalloc.h"

/* Migration N->N+1 is store_schema_steps[N]. */
static const char *const store_schema_steps[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  started TEXT NOT NULL,"
	"  ended TEXT,"
	"  client TEXT NOT NULL,"
	"  helo TEXT,"
	"  tls_protocol TEXT,"
	"  tls_cipher TEXT,"
	"  user TEXT,"
	"  outcome TEXT,"
	"  quirks TEXT,"
	"  transcript TEXT);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  session_id INTEGER,"
	"  received TEXT NOT NULL,"
	"  client TEXT NOT NULL,"
	"  helo TEXT,"
	"  tls_protocol TEXT,"
	"  tls_cipher TEXT,"
	"  user TEXT,"
	"  mail_from TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  subject TEXT,"
	"  from_hdr TEXT,"
	"  to_hdr TEXT,"
	"  cc_hdr TEXT,"
	"  date_hdr TEXT,"
	"  message_id TEXT,"
	"  params TEXT,"
	"  transcript TEXT);"
	"CREATE INDEX messages_session ON messages(session_id);"
	"CREATE INDEX messages_received ON messages(received);"
	"CREATE TABLE bodies ("
	"  message_id INTEGER PRIMARY KEY,"
	"  raw BLOB NOT NULL);"
	"CREATE TABLE recipients ("
	"  message_id INTEGER NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  addr TEXT NOT NULL COLLATE NOCASE,"
	"  notify TEXT,"
	"  orcpt TEXT,"
	"  PRIMARY KEY (message_id, pos));"
	"CREATE INDEX recipients_addr ON recipients(addr);"
	"CREATE TABLE rejections ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER,"
	"  time TEXT NOT NULL,"
	"  stage TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  mail_from TEXT,"
	"  rcpt_to TEXT,"
	"  rcpt TEXT,"
	"  reply TEXT);"
	"CREATE INDEX rejections_session ON rejections(session_id);",

	/*
	 * 1 -> 2: the full-text index behind QUERY words.  Existing
	 * messages are indexed from what the store has: the raw octets
	 * stand in for the body text that new messages get from GMime.
	 */
	"CREATE VIRTUAL TABLE search USING fts5(subject, sender, recipients,"
	"  body, tokenize = 'unicode61 remove_diacritics 2');"
	"INSERT INTO search (rowid, subject, sender, recipients, body)"
	"  SELECT m.id, coalesce(m.subject, ''),"
	"    m.mail_from || ' ' || coalesce(m.from_hdr, ''),"
	"    coalesce((SELECT group_concat(r.addr, ' ') FROM recipients r"
	"      WHERE r.message_id = m.id), '') || ' ' ||"
	"      coalesce(m.to_hdr, '') || ' ' || coalesce(m.cc_hdr, ''),"
	"    coalesce((SELECT substr(CAST(b.raw AS TEXT), 1, 16384)"
	"      FROM bodies b WHERE b.message_id = m.id), '')"
	"  FROM messages m;",

	/*
	 * 2 -> 3: messages are indexed after their 250, not before it
	 * (store_index.c); everything up to here already is.
	 */
	"CREATE TABLE indexed (upto INTEGER NOT NULL);"
	"INSERT INTO indexed (upto) SELECT coalesce(max(id), 0) FROM messages;"
};

/*
 * Read the schema version of db (opened from path, named in messages)
 * into *version.  Returns 0, or -1 with *cause set (caller frees); a file
 * that is not a database fails here, on the first read.
 */
int
store_schema_version(sqlite3 *db, const char *path, int *version,
    char **cause)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		return (-1);
	}
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return (-1);
	}
	*version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return (0);
}

/*
 * Bring the database db (opened from path, named in messages) up to
 * STORE_SCHEMA_VERSION.  The caller must hold a write transaction and
 * roll it back on failure.  Returns 0, or -1 with *cause set (caller
 * frees) when a step fails or the file is from a newer mailsink.
 */
int
store_schema_migrate(sqlite3 *db, const char *path, char **cause)
{
	char	*sql;
	int	 version, rc;

	if (store_schema_version(db, path, &version, cause) == -1)
		return (-1);
	if (version > STORE_SCHEMA_VERSION) {
		xasprintf(cause, "%s: schema version %d is newer than this "
		    "mailsink (%d)", path, version, STORE_SCHEMA_VERSION);
		return (-1);
	}
	if (version < 0) {
		xasprintf(cause, "%s: bad schema version %d", path, version);
		return (-1);
	}
	for (; version < STORE_SCHEMA_VERSION; version++) {
		if (sqlite3_exec(db, store_schema_steps[version], NULL, NULL,
		    NULL) != SQLITE_OK) {
			xasprintf(cause, "%s: migrating schema %d to %d: %s",
			    path, version, version + 1, sqlite3_errmsg(db));
			return (-1);
		}
		/* A PRAGMA takes no bound parameters: format the number. */
		xasprintf(&sql, "PRAGMA user_version = %d", version + 1);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		free(sql);
		if (rc != SQLITE_OK) {
			xasprintf(cause, "%s: setting schema version %d: %s",
			    path, version + 1, sqlite3_errmsg(db));
			return (-1);
		}
	}
	return (0);
}
