/*
 * store_index.c - the search index, filled after the 250.
 *
 * Decoding a body for its text (GMime) and adding it to the FTS5 index
 * cost more than everything else mailsink does for a message, and no
 * client waits for either: a sender waits for its 250, a search only for
 * the index to be complete when it runs.  So a message is stored without
 * them, and indexed later, in chunks of many messages per transaction
 * (FTS5 writes its segments once per transaction, so a big chunk costs
 * far less per message than one transaction each):
 *
 *  - by the server, when its loop has time (server.c arms the timer);
 *  - by every reader, before it runs a search (store.c calls
 *    store_index_run until nothing is left), so a search never misses a
 *    stored message, whether or not the server got round to it.
 *
 * Messages are indexed in id order, and ids only grow (AUTOINCREMENT,
 * one writer at a time), so "indexed.upto" alone says what is done.  A
 * chunk is one BEGIN IMMEDIATE transaction: the server and a reader
 * indexing at the same moment take turns on the write lock, and the one
 * that comes second finds the work done.
 *
 * The text of a message is taken from its first STORE_INDEX_HEAD octets,
 * read through the blob API so a 50 MB message costs 64 KiB of memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "mime.h"
#include "store_index.h"
#include "xmalloc.h"

#define STORE_INDEX_HEAD	(64 * 1024)	/* octets decoded for text */

/* The messages after upto, oldest first, with what the index holds. */
static const char store_index_select[] =
	"SELECT m.id, coalesce(m.subject, ''), m.mail_from, "
	"coalesce(m.from_hdr, ''), coalesce(m.to_hdr, ''), "
	"coalesce(m.cc_hdr, ''), "
	"(SELECT group_concat(addr, ' ') FROM (SELECT addr FROM recipients "
	"WHERE message_id = m.id ORDER BY pos)) "
	"FROM messages m WHERE m.id > ? ORDER BY m.id LIMIT ?";

static const char store_index_insert[] =
	"INSERT INTO search (rowid, subject, sender, recipients, body) "
	"VALUES (?, ?, ?, ?, ?)";

static int	store_index_fail(sqlite3 *, const char *, const char *,
		    char **);
static int64_t	store_index_upto(sqlite3 *);
static char	*store_index_text(sqlite3 *, int64_t, char *);
static const char *store_index_col(sqlite3_stmt *, int);

/* Set *cause from db's last error; returns -1. */
static int
store_index_fail(sqlite3 *db, const char *path, const char *what,
    char **cause)
{
	xasprintf(cause, "%s: %s: %s", path, what, sqlite3_errmsg(db));
	return (-1);
}

/* indexed.upto, or -1 when it cannot be read. */
static int64_t
store_index_upto(sqlite3 *db)
{
	sqlite3_stmt	*stmt;
	int64_t		 upto = -1;

	if (sqlite3_prepare_v2(db, "SELECT upto FROM indexed", -1, &stmt,
	    NULL) != SQLITE_OK)
		return (-1);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		upto = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return (upto);
}

/*
 * The search text of message id, from the head of its body read into
 * head (STORE_INDEX_HEAD octets); NULL when it has none or no body.
 */
static char *
store_index_text(sqlite3 *db, int64_t id, char *head)
{
	sqlite3_blob	*blob;
	int		 len;

	if (sqlite3_blob_open(db, "main", "bodies", "raw", id, 0, &blob) !=
	    SQLITE_OK) {
		sqlite3_blob_close(blob);
		return (NULL);
	}
	len = sqlite3_blob_bytes(blob);
	if (len > STORE_INDEX_HEAD)
		len = STORE_INDEX_HEAD;
	if (len <= 0 || sqlite3_blob_read(blob, head, len, 0) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		return (NULL);
	}
	sqlite3_blob_close(blob);
	return (mime_search_text_get(head, (size_t)len));
}

/* Column i of stmt as text, "" for NULL. */
static const char *
store_index_col(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*s = sqlite3_column_text(stmt, i);

	return (s != NULL ? (const char *)s : "");
}

/*
 * Index at most max of the messages not yet in the search index of db
 * (opened from path, named in messages), in one transaction.  The
 * caller holds no transaction.  Returns 0 when none is left unindexed,
 * 1 when more are, or -1 with *cause set (caller frees): nothing of the
 * chunk is kept then.
 */
int
store_index_run(sqlite3 *db, const char *path, size_t max, char **cause)
{
	sqlite3_stmt	*sel = NULL, *ins = NULL;
	struct buf	 sender, rcpts;
	char		*head, *text;
	int64_t		 upto, id;
	size_t		 n = 0;
	int		 rc;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return (store_index_fail(db, path, "index", cause));
	if ((upto = store_index_upto(db)) == -1) {
		store_index_fail(db, path, "index state", cause);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	if (sqlite3_prepare_v2(db, store_index_select, -1, &sel, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, store_index_insert, -1, &ins,
	    NULL) != SQLITE_OK) {
		store_index_fail(db, path, "index", cause);
		goto fail;
	}
	sqlite3_bind_int64(sel, 1, upto);
	sqlite3_bind_int64(sel, 2, (sqlite3_int64)max);

	head = xmalloc(STORE_INDEX_HEAD);
	buf_init(&sender, 0);
	buf_init(&rcpts, 0);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		id = sqlite3_column_int64(sel, 0);
		buf_reset(&sender);
		buf_reset(&rcpts);
		buf_addf(&sender, "%s %s", store_index_col(sel, 2),
		    store_index_col(sel, 3));
		buf_addf(&rcpts, "%s %s %s", store_index_col(sel, 6),
		    store_index_col(sel, 4), store_index_col(sel, 5));
		text = store_index_text(db, id, head);
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_text(ins, 2, store_index_col(sel, 1), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, buf_str(&sender), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, buf_str(&rcpts), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 5, text != NULL ? text : "", -1,
		    SQLITE_TRANSIENT);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		free(text);
		if (rc != SQLITE_DONE)
			break;
		upto = id;
		n++;
	}
	free(head);
	buf_clear(&sender);
	buf_clear(&rcpts);
	if (rc != SQLITE_DONE) {
		store_index_fail(db, path, "index message", cause);
		goto fail;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sel = ins = NULL;
	if (n > 0 && (sqlite3_prepare_v2(db, "UPDATE indexed SET upto = ?",
	    -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(ins, 1, upto) != SQLITE_OK ||
	    sqlite3_step(ins) != SQLITE_DONE)) {
		store_index_fail(db, path, "index state", cause);
		goto fail;
	}
	sqlite3_finalize(ins);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_index_fail(db, path, "index commit", cause);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	return (n == max ? 1 : 0);

fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/*
 * Whether db holds messages the search index does not have yet.  Returns
 * 1 or 0, or -1 with *cause set.
 */
int
store_index_behind(sqlite3 *db, const char *path, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 behind;

	if (sqlite3_prepare_v2(db, "SELECT (SELECT coalesce(max(id), 0) "
	    "FROM messages) > (SELECT upto FROM indexed)", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return (store_index_fail(db, path, "index state", cause));
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		store_index_fail(db, path, "index state", cause);
		sqlite3_finalize(stmt);
		return (-1);
	}
	behind = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return (behind);
}
