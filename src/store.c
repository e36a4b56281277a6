/*
 * store.c - the SQLite store: messages, recipients, sessions, rejections.
 *
 * One database file in WAL mode.  The server is the writer; the CLI and
 * the HTTP API read at the same time, which WAL allows without either
 * side blocking the other.  Every write that belongs together (a message,
 * its body and its recipients; a delete and its dependants) is one
 * BEGIN IMMEDIATE transaction, so a reader never sees half a message and
 * a crash never leaves one.  BEGIN IMMEDIATE rather than a deferred
 * BEGIN takes the write lock at the start, so a busy store makes the
 * transaction wait (busy_timeout) instead of failing half way through.
 *
 * synchronous=NORMAL under WAL, with group commit (store_batch_*): the
 * messages of one event-loop turn share one transaction, and each 250 is
 * sent after that transaction commits.  A committed message survives a
 * crash or SIGKILL of mailsink; a power cut may lose the last commits,
 * which a development sink accepts for an fsync-free commit path.
 *
 * Statements are prepared once at open (those with a search fragment from
 * query.c, whose text varies, are prepared per call), and every statement
 * is reset as soon as it has been used: a statement left mid-step holds a
 * read snapshot open, and a reader polling the store would then never see
 * new messages.
 *
 * A read-only open of a file the server has only just created finds
 * schema version 0 (no tables yet).  That store is "empty" until the
 * version appears; every reader checks again, so `mailsink wait` started
 * before the server still sees the first message.
 *
 * This file must never hold a transaction open across calls, and never
 * store part of a message.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "envelope.h"
#include "log.h"
#include "mime.h"
#include "query.h"
#include "spool.h"
#include "store.h"
#include "store_checkpoint.h"
#include "store_index.h"
#include "store_schema.h"
#include "xmalloc.h"

#define STORE_BUSY_MS		5000		/* wait for a lock, ms */
#define STORE_BLOB_CHUNK	(64 * 1024)	/* spool to blob copy size */
#define STORE_CHECK_SEC		2		/* budget of the check
						   at open */
#define STORE_CKPT_FRAMES	1000		/* WAL pages that make a
						   checkpoint due */
#define STORE_CKPT_MAX_FRAMES	65536		/* ... that the writer
						   checkpoints itself */

/* The statements prepared at open, by index into store_sql[]. */
enum store_sql_id {
	STORE_BEGIN,
	STORE_COMMIT,
	STORE_ROLLBACK,
	STORE_SAVEPOINT,
	STORE_RELEASE,
	STORE_ROLLBACK_TO,
	STORE_SESS_BEGIN,
	STORE_SESS_END,
	STORE_MSG_INSERT,
	STORE_BODY_INSERT,
	STORE_RCPT_INSERT,
	STORE_REJECT_INSERT,
	STORE_PRUNE_CUTOFF,
	STORE_PRUNE_BODIES,
	STORE_PRUNE_RCPTS,
	STORE_PRUNE_MSGS,
	STORE_PRUNE_SEARCH,
	STORE_SEARCH_DEL,
	STORE_ALL_DEL_SEARCH,
	STORE_MSG_LIST,
	STORE_MSG_COUNT,
	STORE_MSG_GET,
	STORE_MSG_LATEST,
	STORE_MSG_RAW,
	STORE_MSG_DEL,
	STORE_BODY_DEL,
	STORE_RCPT_DEL,
	STORE_ALL_DEL_MSGS,
	STORE_ALL_DEL_BODIES,
	STORE_ALL_DEL_RCPTS,
	STORE_SESS_LIST,
	STORE_SESS_LIST_REJ,
	STORE_SESS_MSGS,
	STORE_SESS_REJECTS,
	STORE_SESS_TRANSCRIPT,
	STORE_NSQL
};

/* The columns of a struct store_msg, in store_msg_row() order. */
#define STORE_MSG_COLS							\
	"m.id, m.session_id, m.received, m.client, m.helo, "		\
	"m.tls_protocol, m.tls_cipher, m.user, m.mail_from, m.size, "	\
	"m.subject, m.from_hdr, m.to_hdr, m.cc_hdr, m.date_hdr, "	\
	"m.message_id, m.params"
#define STORE_MSG_NCOLS	17	/* then r.addr, the recipient */

/*
 * A page of messages with their recipients in one query: the inner
 * select picks the page (the search fragment calls the table "m"), the
 * join adds one row per recipient, in RCPT order.
 */
#define STORE_LIST_SQL(where)						\
	"SELECT " STORE_MSG_COLS ", r.addr FROM "			\
	"(SELECT * FROM messages m WHERE " where			\
	" ORDER BY m.id DESC LIMIT ? OFFSET ?) m "			\
	"LEFT JOIN recipients r ON r.message_id = m.id "		\
	"ORDER BY m.id DESC, r.pos"
#define STORE_COUNT_SQL(where)						\
	"SELECT count(*) FROM messages m WHERE " where
/*
 * The same when the query has words: the full-text index drives, newest
 * first (FTS5 walks its rowids backwards and stops at the page), so a
 * page costs a page of lookups however many messages match.
 */
#define STORE_LIST_FTS_SQL(where)					\
	"SELECT " STORE_MSG_COLS ", r.addr FROM "			\
	"(SELECT m.* FROM search s JOIN messages m ON m.id = s.rowid "	\
	"WHERE s.search MATCH ? AND " where				\
	" ORDER BY s.rowid DESC LIMIT ? OFFSET ?) m "			\
	"LEFT JOIN recipients r ON r.message_id = m.id "		\
	"ORDER BY m.id DESC, r.pos"
#define STORE_COUNT_FTS_SQL(where)					\
	"SELECT count(*) FROM search s JOIN messages m ON m.id = s.rowid " \
	"WHERE s.search MATCH ? AND " where

#define STORE_SESS_COLS							\
	"s.id, s.started, s.ended, s.client, s.helo, s.tls_protocol, "	\
	"s.tls_cipher, s.user, s.outcome, s.quirks"

static const char *const store_sql[STORE_NSQL] = {
	[STORE_BEGIN] = "BEGIN IMMEDIATE",
	[STORE_COMMIT] = "COMMIT",
	[STORE_ROLLBACK] = "ROLLBACK",
	[STORE_SAVEPOINT] = "SAVEPOINT one",
	[STORE_RELEASE] = "RELEASE one",
	[STORE_ROLLBACK_TO] = "ROLLBACK TO one",
	[STORE_SESS_BEGIN] =
	    "INSERT INTO sessions (started, client) VALUES (?, ?)",
	[STORE_SESS_END] =
	    "UPDATE sessions SET ended = ?, helo = ?, tls_protocol = ?, "
	    "tls_cipher = ?, user = ?, outcome = ?, quirks = ?, "
	    "transcript = ? WHERE id = ?",
	[STORE_MSG_INSERT] =
	    "INSERT INTO messages (session_id, received, client, helo, "
	    "tls_protocol, tls_cipher, user, mail_from, size, subject, "
	    "from_hdr, to_hdr, cc_hdr, date_hdr, message_id, params, "
	    "transcript) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[STORE_BODY_INSERT] =
	    "INSERT INTO bodies (message_id, raw) VALUES (?, ?)",
	[STORE_RCPT_INSERT] =
	    "INSERT INTO recipients (message_id, pos, addr, notify, orcpt) "
	    "VALUES (?, ?, ?, ?, ?)",
	[STORE_REJECT_INSERT] =
	    "INSERT INTO rejections (session_id, time, stage, outcome, "
	    "mail_from, rcpt_to, rcpt, reply) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[STORE_PRUNE_CUTOFF] =
	    "SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET ?",
	[STORE_PRUNE_BODIES] = "DELETE FROM bodies WHERE message_id <= ?",
	[STORE_PRUNE_RCPTS] = "DELETE FROM recipients WHERE message_id <= ?",
	[STORE_PRUNE_MSGS] = "DELETE FROM messages WHERE id <= ?",
	[STORE_PRUNE_SEARCH] = "DELETE FROM search WHERE rowid <= ?",
	[STORE_SEARCH_DEL] = "DELETE FROM search WHERE rowid = ?",
	[STORE_ALL_DEL_SEARCH] = "DELETE FROM search",
	[STORE_MSG_LIST] = STORE_LIST_SQL("1"),
	[STORE_MSG_COUNT] = STORE_COUNT_SQL("1"),
	[STORE_MSG_GET] =
	    "SELECT " STORE_MSG_COLS ", r.addr FROM messages m "
	    "LEFT JOIN recipients r ON r.message_id = m.id "
	    "WHERE m.id = ? ORDER BY r.pos",
	[STORE_MSG_LATEST] = "SELECT max(id) FROM messages",
	[STORE_MSG_RAW] = "SELECT raw FROM bodies WHERE message_id = ?",
	[STORE_MSG_DEL] = "DELETE FROM messages WHERE id = ?",
	[STORE_BODY_DEL] = "DELETE FROM bodies WHERE message_id = ?",
	[STORE_RCPT_DEL] = "DELETE FROM recipients WHERE message_id = ?",
	[STORE_ALL_DEL_MSGS] = "DELETE FROM messages",
	[STORE_ALL_DEL_BODIES] = "DELETE FROM bodies",
	[STORE_ALL_DEL_RCPTS] = "DELETE FROM recipients",
	[STORE_SESS_LIST] =
	    "SELECT " STORE_SESS_COLS " FROM sessions s "
	    "ORDER BY s.id DESC LIMIT ?",
	[STORE_SESS_LIST_REJ] =
	    "SELECT " STORE_SESS_COLS " FROM sessions s "
	    "WHERE EXISTS (SELECT 1 FROM rejections j "
	    "WHERE j.session_id = s.id) "
	    "ORDER BY s.id DESC LIMIT ?",
	[STORE_SESS_MSGS] =
	    "SELECT id FROM messages WHERE session_id = ? ORDER BY id",
	[STORE_SESS_REJECTS] =
	    "SELECT time, stage, outcome, mail_from, rcpt_to, rcpt, reply "
	    "FROM rejections WHERE session_id = ? ORDER BY id",
	[STORE_SESS_TRANSCRIPT] =
	    "SELECT coalesce(s.transcript, m.transcript) FROM messages m "
	    "LEFT JOIN sessions s ON s.id = m.session_id WHERE m.id = ?",
};

struct store {
	sqlite3		*db;
	char		*path;		/* as given to store_open() */
	int		 flags;		/* STORE_* */
	int		 empty;		/* read-only, no schema yet */
	int		 bindrc;	/* first failed bind since last run */
	sqlite3_stmt	*stmt[STORE_NSQL];	/* prepared, or NULL */
	int		 batch;		/* a group commit is open */
	int		 warned;	/* said the index cannot catch up */
	struct store_checkpointer *ckpt; /* WAL writer's, or NULL */
	int		 ckpt_mark;	/* WAL pages at the last kick */
};

static int	store_prepare(struct store *, char **);
static int	store_ready(struct store *, char **);
static void	store_bind_text(struct store *, sqlite3_stmt *, int,
		    const char *);
static void	store_bind_int64(struct store *, sqlite3_stmt *, int, int64_t);
static void	store_bind_id(struct store *, sqlite3_stmt *, int, int64_t);
static void	store_bind_limit(struct store *, sqlite3_stmt *, int,
		    uint64_t);
static void	store_done(struct store *, sqlite3_stmt *);
static int	store_bound(struct store *, sqlite3_stmt *, const char *,
		    char **);
static int	store_run(struct store *, sqlite3_stmt *, const char *,
		    char **);
static int	store_begin(struct store *, char **);
static int	store_commit(struct store *, char **);
static void	store_rollback(struct store *);
static char	*store_col_str(sqlite3_stmt *, int);
static const char *store_notify(int, char *, size_t);
static char	*store_json_array(const struct envelope *);
static char	**store_json_parse(const char *, size_t *);
static int	store_body_put(struct store *, int64_t, struct spool *,
		    char **);
static int	store_msg_rows(struct store *, sqlite3_stmt *,
		    struct store_msg ***, size_t *, const char *, char **);
static int	store_sess_fill(struct store *, struct store_sess *, char **);

/* Format the current time as RFC 3339 UTC with milliseconds. */
void
store_now(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	if (gmtime_r(&ts.tv_sec, &tm) == NULL)
		fatalx("%s: gmtime_r failed", __func__);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || (size_t)snprintf(buf + n, len - n, ".%03ldZ",
	    ts.tv_nsec / 1000000) >= len - n)
		fatalx("%s: buffer too small", __func__);
}

/* Prepare every statement once; -1 with *cause on error. */
static int
store_prepare(struct store *st, char **cause)
{
	int	 i;

	for (i = 0; i < STORE_NSQL; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			xasprintf(cause, "%s: preparing statement %d: %s",
			    st->path, i, sqlite3_errmsg(st->db));
			return (-1);
		}
	}
	return (0);
}

/*
 * Readers call this first.  Returns 0 when the schema is there, 1 when a
 * read-only store still has none (treat it as holding nothing), -1 with
 * *cause on error.
 */
static int
store_ready(struct store *st, char **cause)
{
	int	 version;

	if (!st->empty)
		return (0);
	if (store_schema_version(st->db, st->path, &version, cause) == -1)
		return (-1);
	if (version == 0)
		return (1);
	if (version != STORE_SCHEMA_VERSION) {
		xasprintf(cause, "%s: schema version %d is not %d", st->path,
		    version, STORE_SCHEMA_VERSION);
		return (-1);
	}
	if (store_prepare(st, cause) == -1)
		return (-1);
	st->empty = 0;
	return (0);
}

/* Progress handler: nonzero (stop) once the deadline has passed. */
static int
store_check_progress(void *arg)
{
	const struct timespec	*deadline = arg;
	struct timespec		 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec &&
	    now.tv_nsec >= deadline->tv_nsec));
}

/*
 * Before the server writes to an existing store, check it: a damaged file
 * must be refused, not written over (a write would spread the damage and
 * lose what a recovery could still save).  quick_check reads every page,
 * so on a very large store it is given STORE_CHECK_SEC and then skipped
 * with a log line: a slow start would be worse than a check left undone,
 * and SQLite still refuses damaged pages when it meets them.
 */
static int
store_check(struct store *st, char **cause)
{
	sqlite3_stmt	*stmt = NULL;
	struct timespec	 deadline;
	char		*first = NULL, *p;
	int		 rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += STORE_CHECK_SEC;
	sqlite3_progress_handler(st->db, 10000, store_check_progress,
	    &deadline);
	rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(3)", -1, &stmt,
	    NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (first == NULL)
			first = xstrdup((const char *)sqlite3_column_text(stmt,
			    0) != NULL ? (const char *)sqlite3_column_text(
			    stmt, 0) : "?");
		rc = SQLITE_OK;
	}
	sqlite3_progress_handler(st->db, 0, NULL, NULL);
	if ((rc & 0xff) == SQLITE_INTERRUPT) {
		log_warnx("%s: store check skipped after %d s (large store)",
		    st->path, STORE_CHECK_SEC);
		rc = SQLITE_DONE;
	} else if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: store is corrupt (%s); refusing to write"
		    " to it (sqlite3 %s .recover can save what is left)",
		    st->path, sqlite3_errmsg(st->db), st->path);
	} else if (first != NULL && strcmp(first, "ok") != 0) {
		/* quick_check's report spans lines; a log line must not. */
		for (p = first; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		xasprintf(cause, "%s: store is corrupt (%s); refusing to write"
		    " to it (sqlite3 %s .recover can save what is left)",
		    st->path, first, st->path);
		rc = SQLITE_CORRUPT;
	}
	sqlite3_finalize(stmt);
	free(first);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/*
 * After each commit of the writer: hand the checkpoint to the
 * checkpointer thread each time the WAL has grown by STORE_CKPT_FRAMES
 * pages; if it has fallen far behind, checkpoint here, so the WAL stays
 * bounded.
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store	*st = arg;

	if (frames < st->ckpt_mark)
		st->ckpt_mark = 0;	/* the WAL started over */
	if (frames >= STORE_CKPT_MAX_FRAMES) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		st->ckpt_mark = frames;
	} else if (frames - st->ckpt_mark >= STORE_CKPT_FRAMES) {
		/* Once per STORE_CKPT_FRAMES new pages, as SQLite would. */
		store_checkpointer_kick(st->ckpt);
		st->ckpt_mark = frames;
	}
	return (SQLITE_OK);
}

/*
 * Open the store at path (":memory:" for a private in-memory one).  The
 * writer (flags 0) creates and migrates it; STORE_READONLY opens an
 * existing file for reading only.  Returns the store, or NULL with *cause
 * set (caller frees).
 */
struct store *
store_open(const char *path, int flags, char **cause)
{
	struct store	*st;
	struct stat	 sb;
	sqlite3_stmt	*stmt = NULL;
	const char	*mode;
	int		 memory, oflags, rc, version, saved, wal = 0;

	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	st->flags = flags;
	memory = strcmp(path, ":memory:") == 0;

	if (!memory && (flags & (STORE_READONLY | STORE_NOCREATE)) &&
	    stat(path, &sb) == -1) {
		saved = errno;
		if (saved == ENOENT)
			xasprintf(cause, "%s: no such store", path);
		else
			xasprintf(cause, "%s: %s", path, strerror(saved));
		goto fail;
	}
	if (flags & STORE_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else if (flags & STORE_NOCREATE)
		oflags = SQLITE_OPEN_READWRITE;
	else
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if ((rc = sqlite3_open_v2(path, &st->db, oflags, NULL)) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}

	/*
	 * Look at the version before changing anything: a file from a
	 * newer mailsink must not even be switched to WAL, and this first
	 * read is where a file that is not a database shows itself.
	 */
	if (store_schema_version(st->db, path, &version, cause) == -1) {
		if (sqlite3_errcode(st->db) == SQLITE_NOTADB) {
			free(*cause);
			xasprintf(cause, "%s: not a mailsink store (%s)", path,
			    sqlite3_errmsg(st->db));
		}
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		xasprintf(cause, "%s: schema version %d is newer than this "
		    "mailsink (%d)", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}

	if (!(flags & STORE_READONLY) && !memory && version > 0 &&
	    store_check(st, cause) == -1)
		goto fail;

	if (flags & STORE_READONLY) {
		if (version == 0) {
			st->empty = 1;
			return (st);
		}
		if (version < STORE_SCHEMA_VERSION) {
			xasprintf(cause, "%s: schema version %d is older than "
			    "this mailsink (%d); start the server once to "
			    "migrate it", path, version, STORE_SCHEMA_VERSION);
			goto fail;
		}
		if (store_prepare(st, cause) == -1)
			goto fail;
		return (st);
	}

	if (!memory) {
		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1,
		    &stmt, NULL) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_ROW) {
			xasprintf(cause, "%s: journal_mode: %s", path,
			    sqlite3_errmsg(st->db));
			goto fail;
		}
		mode = (const char *)sqlite3_column_text(stmt, 0);
		/* Not fatal: the store works, readers just wait more. */
		wal = mode != NULL && strcmp(mode, "wal") == 0;
		if (!wal)
			log_warnx("%s: WAL journal not available, using %s",
			    path, mode != NULL ? mode : "?");
		sqlite3_finalize(stmt);
		stmt = NULL;
	}
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL; "
	    "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (store_schema_migrate(st->db, path, cause) == -1) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	if (store_prepare(st, cause) == -1)
		goto fail;
	if (wal) {
		if ((st->ckpt = store_checkpointer_start(path, cause)) == NULL)
			goto fail;
		sqlite3_wal_hook(st->db, store_wal_hook, st);
	}
	return (st);

fail:
	sqlite3_finalize(stmt);
	store_close(st);
	return (NULL);
}

/* Finalize every statement and close the database.  NULL is a no-op. */
void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	store_checkpointer_stop(st->ckpt);
	for (i = 0; i < STORE_NSQL; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("%s: close: %s", st->path, sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

/* The path the store was opened with; valid until store_close(). */
const char *
store_path(const struct store *st)
{
	return (st->path);
}

/* Bind text, or NULL for a NULL pointer; a failure shows at store_run. */
static void
store_bind_text(struct store *st, sqlite3_stmt *stmt, int i, const char *s)
{
	int	 rc;

	if (s == NULL)
		rc = sqlite3_bind_null(stmt, i);
	else
		rc = sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK && st->bindrc == SQLITE_OK)
		st->bindrc = rc;
}

/* Bind an integer. */
static void
store_bind_int64(struct store *st, sqlite3_stmt *stmt, int i, int64_t v)
{
	int	 rc;

	rc = sqlite3_bind_int64(stmt, i, v);
	if (rc != SQLITE_OK && st->bindrc == SQLITE_OK)
		st->bindrc = rc;
}

/* Bind a row id, 0 meaning none (NULL). */
static void
store_bind_id(struct store *st, sqlite3_stmt *stmt, int i, int64_t id)
{
	int	 rc;

	if (id == 0)
		rc = sqlite3_bind_null(stmt, i);
	else
		rc = sqlite3_bind_int64(stmt, i, id);
	if (rc != SQLITE_OK && st->bindrc == SQLITE_OK)
		st->bindrc = rc;
}

/* Bind a LIMIT or OFFSET: 0 as a limit means none, which SQLite spells -1. */
static void
store_bind_limit(struct store *st, sqlite3_stmt *stmt, int i, uint64_t v)
{
	store_bind_int64(st, stmt, i, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* Reset a statement after use, releasing its snapshot and bindings. */
static void
store_done(struct store *st, sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	st->bindrc = SQLITE_OK;
}

/* Check that every bind succeeded; -1 with *cause (and reset) if not. */
static int
store_bound(struct store *st, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	if (st->bindrc == SQLITE_OK)
		return (0);
	xasprintf(cause, "%s: %s: %s", st->path, what,
	    sqlite3_errstr(st->bindrc));
	store_done(st, stmt);
	return (-1);
}

/*
 * Run a statement that returns no rows, then reset it.  Returns 0, or -1
 * with *cause naming what failed.
 */
static int
store_run(struct store *st, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	if (store_bound(st, stmt, what, cause) == -1)
		return (-1);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		xasprintf(cause, "%s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		return (-1);
	}
	store_done(st, stmt);
	return (0);
}

/* Start a write transaction, waiting up to the busy timeout for it. */
static int
store_begin(struct store *st, char **cause)
{
	/* Inside a group commit, each write is a savepoint of its own. */
	if (st->batch)
		return (store_run(st, st->stmt[STORE_SAVEPOINT], "savepoint",
		    cause));
	return (store_run(st, st->stmt[STORE_BEGIN], "begin", cause));
}

/* Commit; on failure the transaction is still open for store_rollback. */
static int
store_commit(struct store *st, char **cause)
{
	if (st->batch)
		return (store_run(st, st->stmt[STORE_RELEASE], "release",
		    cause));
	return (store_run(st, st->stmt[STORE_COMMIT], "commit", cause));
}

/*
 * Roll back the open transaction, if any.  SQLite may already have
 * rolled it back itself (after some errors); then there is nothing to do.
 */
static void
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite gave up the whole transaction, batch and all. */
		st->batch = 0;
		return;
	}
	if (st->batch) {
		/* Undo this write only; the batch goes on. */
		if (sqlite3_step(st->stmt[STORE_ROLLBACK_TO]) != SQLITE_DONE)
			log_warnx("%s: rollback to: %s", st->path,
			    sqlite3_errmsg(st->db));
		store_done(st, st->stmt[STORE_ROLLBACK_TO]);
		if (sqlite3_step(st->stmt[STORE_RELEASE]) != SQLITE_DONE)
			log_warnx("%s: release: %s", st->path,
			    sqlite3_errmsg(st->db));
		store_done(st, st->stmt[STORE_RELEASE]);
		return;
	}
	if (sqlite3_step(st->stmt[STORE_ROLLBACK]) != SQLITE_DONE)
		log_warnx("%s: rollback: %s", st->path,
		    sqlite3_errmsg(st->db));
	store_done(st, st->stmt[STORE_ROLLBACK]);
}

/* A copy of a text column, NULL for SQL NULL. */
static char *
store_col_str(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*s;

	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return (NULL);
	if ((s = sqlite3_column_text(stmt, i)) == NULL)
		return (xstrdup(""));
	return (xstrdup((const char *)s));
}

/* NOTIFY= as text ("SUCCESS,FAILURE", "NEVER") in buf; NULL if not given. */
static const char *
store_notify(int notify, char *buf, size_t len)
{
	if (notify == 0)
		return (NULL);
	buf[0] = '\0';
	if (notify & SMTP_NOTIFY_NEVER)
		strlcat(buf, ",NEVER", len);
	if (notify & SMTP_NOTIFY_SUCCESS)
		strlcat(buf, ",SUCCESS", len);
	if (notify & SMTP_NOTIFY_FAILURE)
		strlcat(buf, ",FAILURE", len);
	if (notify & SMTP_NOTIFY_DELAY)
		strlcat(buf, ",DELAY", len);
	return (buf[0] == ',' ? buf + 1 : NULL);
}

/*
 * The envelope's recipients as a JSON array.  An address that is not
 * valid UTF-8 (possible only from a client ignoring SMTPUTF8 rules) is
 * kept with its non-ASCII bytes as '?', since JSON cannot hold it.
 */
static char *
store_json_array(const struct envelope *env)
{
	json_t	*a, *s;
	char	*text, *copy, *p;
	size_t	 i;

	a = json_array();
	for (i = 0; i < env->nrcpts; i++) {
		if ((s = json_string(env->rcpts[i].addr)) == NULL) {
			copy = xstrdup(env->rcpts[i].addr);
			for (p = copy; *p != '\0'; p++) {
				if ((unsigned char)*p >= 0x80)
					*p = '?';
			}
			s = json_string(copy);
			free(copy);
		}
		if (s == NULL || json_array_append_new(a, s) == -1)
			fatalx("%s: json_array_append_new", __func__);
	}
	if ((text = json_dumps(a, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(a);
	p = xstrdup(text);
	free(text);
	return (p);
}

/* Parse a JSON array of strings; anything else yields none. */
static char **
store_json_parse(const char *text, size_t *n)
{
	json_t		*a, *v;
	json_error_t	 error;
	char		**out = NULL;
	size_t		 i;

	*n = 0;
	if (text == NULL || (a = json_loads(text, 0, &error)) == NULL)
		return (NULL);
	if (json_is_array(a) && json_array_size(a) > 0) {
		out = xcalloc(json_array_size(a), sizeof *out);
		json_array_foreach(a, i, v) {
			if (json_is_string(v))
				out[(*n)++] = xstrdup(json_string_value(v));
		}
	}
	json_decref(a);
	return (out);
}

/*
 * Insert the body row for message id from the spool.  A spool still in
 * memory is bound directly; a spilled one is copied into a zeroblob in
 * STORE_BLOB_CHUNK pieces, so a large message never sits in memory.
 */
static int
store_body_put(struct store *st, int64_t id, struct spool *sp, char **cause)
{
	sqlite3_stmt	*stmt = st->stmt[STORE_BODY_INSERT];
	sqlite3_blob	*blob = NULL;
	const char	*mem;
	char		*buf = NULL;
	size_t		 memlen;
	uint64_t	 kept, off;
	ssize_t		 n;
	int		 rc;

	kept = spool_kept(sp);
	if (kept > INT_MAX) {
		xasprintf(cause, "%s: message of %llu bytes is too large to "
		    "store", st->path, (unsigned long long)kept);
		return (-1);
	}
	store_bind_int64(st, stmt, 1, id);
	if ((mem = spool_mem(sp, &memlen)) != NULL)
		rc = sqlite3_bind_blob64(stmt, 2, mem, memlen, SQLITE_STATIC);
	else
		rc = sqlite3_bind_zeroblob64(stmt, 2, kept);
	if (rc != SQLITE_OK && st->bindrc == SQLITE_OK)
		st->bindrc = rc;
	if (store_run(st, stmt, "insert body", cause) == -1)
		return (-1);
	if (mem != NULL)
		return (0);

	if (sqlite3_blob_open(st->db, "main", "bodies", "raw", id, 1,
	    &blob) != SQLITE_OK) {
		xasprintf(cause, "%s: open body: %s", st->path,
		    sqlite3_errmsg(st->db));
		return (-1);
	}
	buf = xmalloc(STORE_BLOB_CHUNK);
	for (off = 0; off < kept; off += (uint64_t)n) {
		if ((n = spool_read(sp, off, buf, STORE_BLOB_CHUNK,
		    cause)) == -1)
			goto fail;
		if (n == 0) {
			xasprintf(cause, "%s: spool ended at %llu of %llu "
			    "bytes", st->path, (unsigned long long)off,
			    (unsigned long long)kept);
			goto fail;
		}
		if (sqlite3_blob_write(blob, buf, (int)n, (int)off) !=
		    SQLITE_OK) {
			xasprintf(cause, "%s: write body: %s", st->path,
			    sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	free(buf);
	if (sqlite3_blob_close(blob) != SQLITE_OK) {
		xasprintf(cause, "%s: close body: %s", st->path,
		    sqlite3_errmsg(st->db));
		return (-1);
	}
	return (0);

fail:
	free(buf);
	sqlite3_blob_close(blob);
	return (-1);
}

/*
 * Store one message: its envelope from env, who sent it from peer, its
 * decoded headers from hdrs (may be NULL) and its octets from sp, with
 * the session that delivered it (0: none) and the transcript of the
 * transaction (may be NULL).  Everything goes in one
 * transaction: on any failure nothing is stored.  The search index gets
 * the message later (store_index).  Returns 0 with the new message id in
 * *id, or -1 with *cause set (caller frees).
 */
int
store_message_put(struct store *st, int64_t session_id,
    const struct store_peer *peer, const struct envelope *env,
    const struct mime_headers *hdrs, struct spool *sp,
    const char *transcript, int64_t *id, char **cause)
{
	static const struct mime_headers	 nohdrs;
	static const struct store_peer		 nopeer;
	const struct envelope_rcpt		*r;
	sqlite3_stmt	*stmt;
	char		 now[STORE_TIME_LEN], notify[64];
	char		*params = NULL;
	int64_t		 rowid;
	size_t		 i;

	if (spool_oversize(sp)) {
		xasprintf(cause, "%s: message of %llu bytes went past the "
		    "size cap and was not kept", st->path,
		    (unsigned long long)spool_size(sp));
		return (-1);
	}
	if (spool_kept(sp) != spool_size(sp)) {
		/* A failed spool write lost bytes: never store a torso. */
		xasprintf(cause, "%s: spool kept %llu of %llu bytes", st->path,
		    (unsigned long long)spool_kept(sp),
		    (unsigned long long)spool_size(sp));
		return (-1);
	}
	if (hdrs == NULL)
		hdrs = &nohdrs;
	if (peer == NULL)
		peer = &nopeer;
	if (store_begin(st, cause) == -1)
		return (-1);

	store_now(now, sizeof now);
	params = envelope_params_json(env);
	stmt = st->stmt[STORE_MSG_INSERT];
	store_bind_id(st, stmt, 1, session_id);
	store_bind_text(st, stmt, 2, now);
	store_bind_text(st, stmt, 3, peer->client != NULL ? peer->client : "");
	store_bind_text(st, stmt, 4, peer->helo);
	store_bind_text(st, stmt, 5, peer->tls_protocol);
	store_bind_text(st, stmt, 6, peer->tls_cipher);
	store_bind_text(st, stmt, 7, peer->user);
	store_bind_text(st, stmt, 8, env->mail.addr);
	store_bind_int64(st, stmt, 9, (int64_t)spool_size(sp));
	store_bind_text(st, stmt, 10, hdrs->subject);
	store_bind_text(st, stmt, 11, hdrs->from);
	store_bind_text(st, stmt, 12, hdrs->to);
	store_bind_text(st, stmt, 13, hdrs->cc);
	store_bind_text(st, stmt, 14, hdrs->date);
	store_bind_text(st, stmt, 15, hdrs->message_id);
	store_bind_text(st, stmt, 16, params);
	store_bind_text(st, stmt, 17, transcript);
	if (store_run(st, stmt, "insert message", cause) == -1)
		goto fail;
	rowid = sqlite3_last_insert_rowid(st->db);

	if (store_body_put(st, rowid, sp, cause) == -1)
		goto fail;

	stmt = st->stmt[STORE_RCPT_INSERT];
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		store_bind_int64(st, stmt, 1, rowid);
		store_bind_int64(st, stmt, 2, (int64_t)i);
		store_bind_text(st, stmt, 3, r->addr);
		store_bind_text(st, stmt, 4, store_notify(r->notify, notify,
		    sizeof notify));
		store_bind_text(st, stmt, 5, r->orcpt);
		if (store_run(st, stmt, "insert recipient", cause) == -1)
			goto fail;
	}
	if (store_commit(st, cause) == -1)
		goto fail;
	free(params);
	*id = rowid;
	return (0);

fail:
	store_rollback(st);
	free(params);
	return (-1);
}

/*
 * Open a group commit: every write until store_batch_commit() goes into
 * one transaction (each its own savepoint, so one failed message does not
 * undo the others).  One commit, one WAL sync, many messages.  Returns 0,
 * or -1 with *cause set.
 */
int
store_batch_begin(struct store *st, char **cause)
{
	if (st->batch)
		fatalx("%s: batch already open", __func__);
	if (store_run(st, st->stmt[STORE_BEGIN], "begin", cause) == -1)
		return (-1);
	st->batch = 1;
	return (0);
}

/* Whether a group commit is open. */
int
store_batch_open(const struct store *st)
{
	return (st->batch);
}

/*
 * Commit the group.  Returns 0 when everything written since
 * store_batch_begin() is durable, or -1 with *cause set when none of it
 * is (the transaction is rolled back).
 */
int
store_batch_commit(struct store *st, char **cause)
{
	if (!st->batch)
		fatalx("%s: no batch open", __func__);
	st->batch = 0;
	if (sqlite3_get_autocommit(st->db)) {
		xasprintf(cause, "%s: the batch was rolled back", st->path);
		return (-1);
	}
	if (store_commit(st, cause) == -1) {
		store_rollback(st);
		return (-1);
	}
	return (0);
}

/*
 * Add up to max stored messages to the search index (the writer, when it
 * has time).  Must not be called while a group commit is open.  Returns
 * 0 when the index is complete, 1 when messages are left for another
 * call, or -1 with *cause set.
 */
int
store_index(struct store *st, size_t max, char **cause)
{
	if (st->batch)
		fatalx("%s: a batch is open", __func__);
	return (store_index_run(st->db, st->path, max, cause));
}

/*
 * Before a search: index whatever the writer has not indexed yet, so the
 * search sees every stored message.  A read-only store does it through
 * a second, writable connection; when the file cannot be written (another
 * user's store), the search runs on what is indexed and says so once.
 * Returns 0, or -1 with *cause set.
 */
static int
store_catch_up(struct store *st, char **cause)
{
	sqlite3		*db = st->db;
	int		 rc;

	if ((rc = store_index_behind(st->db, st->path, cause)) != 1)
		return (rc);
	if (st->flags & STORE_READONLY) {
		db = NULL;
		if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE,
		    NULL) != SQLITE_OK ||
		    sqlite3_busy_timeout(db, STORE_BUSY_MS) != SQLITE_OK) {
			if (!st->warned)
				log_warnx("%s: cannot index the newest "
				    "messages, a search may miss them: %s",
				    st->path, db != NULL ?
				    sqlite3_errmsg(db) : "out of memory");
			st->warned = 1;
			sqlite3_close(db);
			return (0);
		}
	}
	while ((rc = store_index_run(db, st->path, STORE_INDEX_CHUNK,
	    cause)) == 1)
		continue;
	if (db != st->db)
		sqlite3_close(db);
	if (rc == -1 && (st->flags & STORE_READONLY) &&
	    strstr(*cause, "readonly") != NULL) {
		/* A read-only file or directory: search what is indexed. */
		if (!st->warned)
			log_warnx("%s", *cause);
		st->warned = 1;
		free(*cause);
		*cause = NULL;
		return (0);
	}
	return (rc);
}

/*
 * Record the start of a session from client (address text).  Returns 0
 * with the session id in *id, or -1 with *cause set.
 */
int
store_session_begin(struct store *st, const char *client,
    const char *started, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt = st->stmt[STORE_SESS_BEGIN];
	char		 now[STORE_TIME_LEN];

	if (started == NULL) {
		store_now(now, sizeof now);
		started = now;
	}
	store_bind_text(st, stmt, 1, started);
	store_bind_text(st, stmt, 2, client != NULL ? client : "");
	if (store_run(st, stmt, "insert session", cause) == -1)
		return (-1);
	*id = sqlite3_last_insert_rowid(st->db);
	return (0);
}

/*
 * Record the end of session id: its final HELO/TLS/user from peer (the
 * client address was stored at the start and is not changed), how it
 * ended (outcome), the leniencies seen (quirks, comma-separated, or NULL)
 * and its transcript (or NULL).  Returns 0, or -1 with *cause set (also
 * when there is no such session).
 */
int
store_session_end(struct store *st, int64_t id,
    const struct store_peer *peer, const char *outcome, const char *quirks,
    const char *transcript, char **cause)
{
	static const struct store_peer	 nopeer;
	sqlite3_stmt	*stmt = st->stmt[STORE_SESS_END];
	char		 now[STORE_TIME_LEN];

	if (peer == NULL)
		peer = &nopeer;
	store_now(now, sizeof now);
	store_bind_text(st, stmt, 1, now);
	store_bind_text(st, stmt, 2, peer->helo);
	store_bind_text(st, stmt, 3, peer->tls_protocol);
	store_bind_text(st, stmt, 4, peer->tls_cipher);
	store_bind_text(st, stmt, 5, peer->user);
	store_bind_text(st, stmt, 6, outcome);
	store_bind_text(st, stmt, 7, quirks);
	store_bind_text(st, stmt, 8, transcript);
	store_bind_int64(st, stmt, 9, id);
	if (store_run(st, stmt, "update session", cause) == -1)
		return (-1);
	if (sqlite3_changes(st->db) == 0) {
		xasprintf(cause, "%s: no session %lld", st->path,
		    (long long)id);
		return (-1);
	}
	return (0);
}

/*
 * Record a transaction that did not deliver: in session session_id (0:
 * none), at stage, with outcome ("rejected", "disconnected",
 * "abandoned"), the envelope so far (env, may be NULL or without MAIL),
 * the refused recipient (rcpt, or NULL) and the reply sent (or NULL).
 * Returns 0, or -1 with *cause set.
 */
int
store_reject_put(struct store *st, int64_t session_id, const char *stage,
    const char *outcome, const struct envelope *env, const char *rcpt,
    const char *reply, char **cause)
{
	sqlite3_stmt	*stmt = st->stmt[STORE_REJECT_INSERT];
	char		 now[STORE_TIME_LEN];
	char		*rcpts = NULL;
	int		 rc;

	store_now(now, sizeof now);
	if (env != NULL)
		rcpts = store_json_array(env);
	store_bind_id(st, stmt, 1, session_id);
	store_bind_text(st, stmt, 2, now);
	store_bind_text(st, stmt, 3, stage);
	store_bind_text(st, stmt, 4, outcome);
	store_bind_text(st, stmt, 5, env != NULL && env->has_mail ?
	    env->mail.addr : NULL);
	store_bind_text(st, stmt, 6, rcpts);
	store_bind_text(st, stmt, 7, rcpt);
	store_bind_text(st, stmt, 8, reply);
	rc = store_run(st, stmt, "insert rejection", cause);
	free(rcpts);
	return (rc);
}

/*
 * Keep only the newest max messages (0: keep all), deleting the others
 * with their bodies and recipients in one transaction.  Returns 0, or -1
 * with *cause set.
 */
int
store_prune(struct store *st, uint64_t max, char **cause)
{
	static const enum store_sql_id	 dels[] = {
		STORE_PRUNE_BODIES, STORE_PRUNE_RCPTS, STORE_PRUNE_SEARCH,
		STORE_PRUNE_MSGS
	};
	sqlite3_stmt	*stmt = st->stmt[STORE_PRUNE_CUTOFF];
	int64_t		 cutoff;
	size_t		 i;
	int		 rc;

	if (max == 0)
		return (0);
	/* The newest message beyond the first max, if there is one. */
	store_bind_limit(st, stmt, 1, max);
	if (store_bound(st, stmt, "prune", cause) == -1)
		return (-1);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		xasprintf(cause, "%s: prune: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		return (-1);
	}
	cutoff = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	store_done(st, stmt);
	if (cutoff == 0)
		return (0);

	if (store_begin(st, cause) == -1)
		return (-1);
	for (i = 0; i < MS_NITEMS(dels); i++) {
		stmt = st->stmt[dels[i]];
		store_bind_int64(st, stmt, 1, cutoff);
		if (store_run(st, stmt, "prune", cause) == -1)
			goto fail;
	}
	if (store_commit(st, cause) == -1)
		goto fail;
	return (0);

fail:
	store_rollback(st);
	return (-1);
}

/*
 * Read the rows of a message query (STORE_MSG_COLS then r.addr, one row
 * per recipient, a message's rows together) into a new array.  The
 * statement is bound and is reset here.  Returns 0, or -1 with *cause.
 */
static int
store_msg_rows(struct store *st, sqlite3_stmt *stmt,
    struct store_msg ***array, size_t *n, const char *what, char **cause)
{
	struct store_msg	**a = NULL, *m = NULL;
	size_t			 na = 0;
	int64_t			 id;
	int			 rc;

	*array = NULL;
	*n = 0;
	if (store_bound(st, stmt, what, cause) == -1)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		if (m == NULL || m->id != id) {
			m = xcalloc(1, sizeof *m);
			a = xreallocarray(a, na + 1, sizeof *a);
			a[na++] = m;
			m->id = id;
			m->session_id = sqlite3_column_int64(stmt, 1);
			m->received = store_col_str(stmt, 2);
			m->client = store_col_str(stmt, 3);
			m->helo = store_col_str(stmt, 4);
			m->tls_protocol = store_col_str(stmt, 5);
			m->tls_cipher = store_col_str(stmt, 6);
			m->user = store_col_str(stmt, 7);
			m->mail_from = store_col_str(stmt, 8);
			m->size = (uint64_t)sqlite3_column_int64(stmt, 9);
			m->subject = store_col_str(stmt, 10);
			m->from = store_col_str(stmt, 11);
			m->to = store_col_str(stmt, 12);
			m->cc = store_col_str(stmt, 13);
			m->date = store_col_str(stmt, 14);
			m->message_id = store_col_str(stmt, 15);
			m->params = store_col_str(stmt, 16);
		}
		if (sqlite3_column_type(stmt, STORE_MSG_NCOLS) != SQLITE_NULL) {
			m->rcpt_to = xreallocarray(m->rcpt_to, m->nrcpt + 1,
			    sizeof *m->rcpt_to);
			m->rcpt_to[m->nrcpt++] = store_col_str(stmt,
			    STORE_MSG_NCOLS);
		}
	}
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		store_msgs_free(a, na);
		return (-1);
	}
	store_done(st, stmt);
	*array = a;
	*n = na;
	return (0);
}

/*
 * Bind a search's values to stmt: the MATCH expression first when there
 * is one, then query_where's values.  Returns how many were bound.
 */
static size_t
store_bind_query(struct store *st, sqlite3_stmt *stmt, const struct query *q)
{
	size_t	i, nb = 0;

	if (query_match_expr(q) != NULL)
		store_bind_text(st, stmt, (int)++nb, query_match_expr(q));
	for (i = 0; i < query_nbinds(q); i++)
		store_bind_text(st, stmt, (int)++nb, query_bind(q, i));
	return (nb);
}

/*
 * The messages matching q (NULL or empty: all), newest first, skipping
 * offset and returning at most limit (0: no limit), each with its
 * recipients.  Returns 0 with a new array of *n messages in *array (NULL
 * when none; free with store_msgs_free()), or -1 with *cause set.
 */
int
store_msg_list(struct store *st, const struct query *q, size_t limit,
    size_t offset, struct store_msg ***array, size_t *n, char **cause)
{
	sqlite3_stmt	*stmt;
	char		*sql;
	size_t		 nb = 0;
	int		 rc;

	*array = NULL;
	*n = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc == 1 ? 0 : -1);
	if (q == NULL || query_empty(q))
		stmt = st->stmt[STORE_MSG_LIST];
	else {
		if (query_match_expr(q) != NULL &&
		    store_catch_up(st, cause) == -1)
			return (-1);
		if (query_match_expr(q) != NULL)
			xasprintf(&sql, STORE_LIST_FTS_SQL("%s"),
			    query_where(q));
		else
			xasprintf(&sql, STORE_LIST_SQL("%s"), query_where(q));
		rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
		free(sql);
		if (rc != SQLITE_OK) {
			xasprintf(cause, "%s: search: %s", st->path,
			    sqlite3_errmsg(st->db));
			return (-1);
		}
		nb = store_bind_query(st, stmt, q);
	}
	store_bind_limit(st, stmt, (int)nb + 1, limit == 0 ? INT64_MAX : limit);
	store_bind_limit(st, stmt, (int)nb + 2, offset);
	rc = store_msg_rows(st, stmt, array, n, "list", cause);
	if (stmt != st->stmt[STORE_MSG_LIST])
		sqlite3_finalize(stmt);
	return (rc);
}

/*
 * Count the messages matching q (NULL or empty: all) into *count.
 * Returns 0, or -1 with *cause set.
 */
int
store_msg_count(struct store *st, const struct query *q, uint64_t *count,
    char **cause)
{
	sqlite3_stmt	*stmt;
	char		*sql;
	int		 rc;

	*count = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc == 1 ? 0 : -1);
	if (q == NULL || query_empty(q))
		stmt = st->stmt[STORE_MSG_COUNT];
	else {
		if (query_match_expr(q) != NULL &&
		    store_catch_up(st, cause) == -1)
			return (-1);
		if (query_match_expr(q) != NULL)
			xasprintf(&sql, STORE_COUNT_FTS_SQL("%s"),
			    query_where(q));
		else
			xasprintf(&sql, STORE_COUNT_SQL("%s"), query_where(q));
		rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
		free(sql);
		if (rc != SQLITE_OK) {
			xasprintf(cause, "%s: search: %s", st->path,
			    sqlite3_errmsg(st->db));
			return (-1);
		}
		(void)store_bind_query(st, stmt, q);
	}
	rc = -1;
	if (store_bound(st, stmt, "count", cause) == -1)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		xasprintf(cause, "%s: count: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		goto out;
	}
	*count = (uint64_t)sqlite3_column_int64(stmt, 0);
	store_done(st, stmt);
	rc = 0;
out:
	if (stmt != st->stmt[STORE_MSG_COUNT])
		sqlite3_finalize(stmt);
	return (rc);
}

/*
 * Read message id into a new *msg (free with store_msg_free()).  Returns
 * 0, 1 when there is no such message, or -1 with *cause set.
 */
int
store_msg_get(struct store *st, int64_t id, struct store_msg **msg,
    char **cause)
{
	sqlite3_stmt		 *stmt;
	struct store_msg	**a;
	size_t			  n;
	int			  rc;

	*msg = NULL;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc);
	stmt = st->stmt[STORE_MSG_GET];
	store_bind_int64(st, stmt, 1, id);
	if (store_msg_rows(st, stmt, &a, &n, "get", cause) == -1)
		return (-1);
	if (n == 0)
		return (1);
	*msg = a[0];
	free(a);
	return (0);
}

/*
 * The id of the newest message in *id.  Returns 0, 1 when the store is
 * empty, or -1 with *cause set.
 */
int
store_msg_latest(struct store *st, int64_t *id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*id = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc);
	stmt = st->stmt[STORE_MSG_LATEST];
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		xasprintf(cause, "%s: latest: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		return (-1);
	}
	rc = 1;
	if (sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		*id = sqlite3_column_int64(stmt, 0);
		rc = 0;
	}
	store_done(st, stmt);
	return (rc);
}

/*
 * The raw octets of message id in a new buffer *data (len in *len, and a
 * NUL after them for convenience; caller frees).  Returns 0, 1 when there
 * is no such message, or -1 with *cause set.
 */
int
store_msg_raw(struct store *st, int64_t id, char **data, size_t *len,
    char **cause)
{
	sqlite3_stmt	*stmt;
	const void	*p;
	int		 rc, n;

	*data = NULL;
	*len = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc);
	stmt = st->stmt[STORE_MSG_RAW];
	store_bind_int64(st, stmt, 1, id);
	if (store_bound(st, stmt, "raw", cause) == -1)
		return (-1);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		store_done(st, stmt);
		return (1);
	}
	if (rc != SQLITE_ROW) {
		xasprintf(cause, "%s: raw: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		return (-1);
	}
	p = sqlite3_column_blob(stmt, 0);
	n = sqlite3_column_bytes(stmt, 0);
	*data = xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(*data, p, (size_t)n);
	(*data)[n] = '\0';
	*len = (size_t)n;
	store_done(st, stmt);
	return (0);
}

/*
 * Delete message id with its body and recipients, in one transaction.
 * Returns 0, 1 when there is no such message, or -1 with *cause set.
 */
int
store_msg_delete(struct store *st, int64_t id, char **cause)
{
	static const enum store_sql_id	 dels[] = {
		STORE_BODY_DEL, STORE_RCPT_DEL, STORE_SEARCH_DEL
	};
	sqlite3_stmt	*stmt;
	size_t		 i;
	int		 rc;

	if ((rc = store_ready(st, cause)) != 0)
		return (rc);
	if (store_begin(st, cause) == -1)
		return (-1);
	stmt = st->stmt[STORE_MSG_DEL];
	store_bind_int64(st, stmt, 1, id);
	if (store_run(st, stmt, "delete", cause) == -1)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		store_rollback(st);
		return (1);
	}
	for (i = 0; i < MS_NITEMS(dels); i++) {
		stmt = st->stmt[dels[i]];
		store_bind_int64(st, stmt, 1, id);
		if (store_run(st, stmt, "delete", cause) == -1)
			goto fail;
	}
	if (store_commit(st, cause) == -1)
		goto fail;
	return (0);

fail:
	store_rollback(st);
	return (-1);
}

/*
 * Delete every message, body and recipient, in one transaction; ids are
 * not reused afterwards.  Returns 0 with the number of messages deleted
 * in *count, or -1 with *cause set.
 */
int
store_msg_delete_all(struct store *st, uint64_t *count, char **cause)
{
	int	 rc;

	*count = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc == 1 ? 0 : -1);
	if (store_begin(st, cause) == -1)
		return (-1);
	if (store_run(st, st->stmt[STORE_ALL_DEL_MSGS], "delete", cause) == -1)
		goto fail;
	*count = (uint64_t)sqlite3_changes(st->db);
	if (store_run(st, st->stmt[STORE_ALL_DEL_BODIES], "delete",
	    cause) == -1 ||
	    store_run(st, st->stmt[STORE_ALL_DEL_RCPTS], "delete",
	    cause) == -1 ||
	    store_run(st, st->stmt[STORE_ALL_DEL_SEARCH], "delete",
	    cause) == -1)
		goto fail;
	if (store_commit(st, cause) == -1)
		goto fail;
	return (0);

fail:
	*count = 0;
	store_rollback(st);
	return (-1);
}

/* Fill in the messages delivered and the rejections of session ss. */
static int
store_sess_fill(struct store *st, struct store_sess *ss, char **cause)
{
	struct store_reject	*r;
	sqlite3_stmt		*stmt;
	char			*json;
	int			 rc;

	stmt = st->stmt[STORE_SESS_MSGS];
	store_bind_int64(st, stmt, 1, ss->id);
	if (store_bound(st, stmt, "sessions", cause) == -1)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ss->messages = xreallocarray(ss->messages, ss->nmessages + 1,
		    sizeof *ss->messages);
		ss->messages[ss->nmessages++] = sqlite3_column_int64(stmt, 0);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	store_done(st, stmt);

	stmt = st->stmt[STORE_SESS_REJECTS];
	store_bind_int64(st, stmt, 1, ss->id);
	if (store_bound(st, stmt, "sessions", cause) == -1)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ss->rejects = xreallocarray(ss->rejects, ss->nrejects + 1,
		    sizeof *ss->rejects);
		r = &ss->rejects[ss->nrejects++];
		memset(r, 0, sizeof *r);
		r->time = store_col_str(stmt, 0);
		r->stage = store_col_str(stmt, 1);
		r->outcome = store_col_str(stmt, 2);
		r->mail_from = store_col_str(stmt, 3);
		json = store_col_str(stmt, 4);
		r->rcpt_to = store_json_parse(json, &r->nrcpt);
		free(json);
		r->rcpt = store_col_str(stmt, 5);
		r->reply = store_col_str(stmt, 6);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	store_done(st, stmt);
	return (0);

fail:
	xasprintf(cause, "%s: sessions: %s", st->path, sqlite3_errmsg(st->db));
	store_done(st, stmt);
	return (-1);
}

/*
 * The sessions, newest first, at most limit (0: no limit); with
 * rejected_only, only those with a recorded rejection (or abandoned
 * transaction).  Each comes with the ids it delivered and its
 * rejections.  Returns 0 with a new array of *n sessions in *array (NULL
 * when none; free with store_sesses_free()), or -1 with *cause set.
 */
int
store_sess_list(struct store *st, int rejected_only, size_t limit,
    struct store_sess ***array, size_t *n, char **cause)
{
	struct store_sess	**a = NULL, *ss;
	sqlite3_stmt		 *stmt;
	size_t			  na = 0, i;
	int			  rc;

	*array = NULL;
	*n = 0;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc == 1 ? 0 : -1);
	stmt = st->stmt[rejected_only ? STORE_SESS_LIST_REJ : STORE_SESS_LIST];
	store_bind_limit(st, stmt, 1, limit == 0 ? INT64_MAX : limit);
	if (store_bound(st, stmt, "sessions", cause) == -1)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ss = xcalloc(1, sizeof *ss);
		a = xreallocarray(a, na + 1, sizeof *a);
		a[na++] = ss;
		ss->id = sqlite3_column_int64(stmt, 0);
		ss->started = store_col_str(stmt, 1);
		ss->ended = store_col_str(stmt, 2);
		ss->client = store_col_str(stmt, 3);
		ss->helo = store_col_str(stmt, 4);
		ss->tls_protocol = store_col_str(stmt, 5);
		ss->tls_cipher = store_col_str(stmt, 6);
		ss->user = store_col_str(stmt, 7);
		ss->outcome = store_col_str(stmt, 8);
		ss->quirks = store_col_str(stmt, 9);
	}
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: sessions: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		goto fail;
	}
	store_done(st, stmt);
	/* The list statement is reset, so these see the same state. */
	for (i = 0; i < na; i++) {
		if (store_sess_fill(st, a[i], cause) == -1)
			goto fail;
	}
	*array = a;
	*n = na;
	return (0);

fail:
	store_sesses_free(a, na);
	return (-1);
}

/*
 * The transcript of the session that delivered message id, in a new
 * string *text (caller frees).  While that session is still open, the
 * part of it that led to this message (stored with the message) stands
 * in for it.
 * Returns 0, 1 when there is no such message or it has no session, or -1
 * with *cause set.
 */
int
store_sess_transcript(struct store *st, int64_t id, char **text,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*text = NULL;
	if ((rc = store_ready(st, cause)) != 0)
		return (rc);
	stmt = st->stmt[STORE_SESS_TRANSCRIPT];
	store_bind_int64(st, stmt, 1, id);
	if (store_bound(st, stmt, "transcript", cause) == -1)
		return (-1);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		store_done(st, stmt);
		return (1);
	}
	if (rc != SQLITE_ROW) {
		xasprintf(cause, "%s: transcript: %s", st->path,
		    sqlite3_errmsg(st->db));
		store_done(st, stmt);
		return (-1);
	}
	*text = store_col_str(stmt, 0);
	if (*text == NULL)
		*text = xstrdup("");
	store_done(st, stmt);
	return (0);
}

/* Free a message read back.  NULL is a no-op. */
void
store_msg_free(struct store_msg *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	free(m->received);
	free(m->client);
	free(m->helo);
	free(m->tls_protocol);
	free(m->tls_cipher);
	free(m->user);
	free(m->mail_from);
	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt_to[i]);
	free(m->rcpt_to);
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->date);
	free(m->message_id);
	free(m->params);
	free(m);
}

/* Free an array of n messages from store_msg_list(). */
void
store_msgs_free(struct store_msg **a, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		store_msg_free(a[i]);
	free(a);
}

/* Free a session read back.  NULL is a no-op. */
void
store_sess_free(struct store_sess *ss)
{
	struct store_reject	*r;
	size_t			 i, j;

	if (ss == NULL)
		return;
	free(ss->started);
	free(ss->ended);
	free(ss->client);
	free(ss->helo);
	free(ss->tls_protocol);
	free(ss->tls_cipher);
	free(ss->user);
	free(ss->outcome);
	free(ss->quirks);
	free(ss->messages);
	for (i = 0; i < ss->nrejects; i++) {
		r = &ss->rejects[i];
		free(r->time);
		free(r->stage);
		free(r->outcome);
		free(r->mail_from);
		for (j = 0; j < r->nrcpt; j++)
			free(r->rcpt_to[j]);
		free(r->rcpt_to);
		free(r->rcpt);
		free(r->reply);
	}
	free(ss->rejects);
	free(ss);
}

/* Free an array of n sessions from store_sess_list(). */
void
store_sesses_free(struct store_sess **a, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		store_sess_free(a[i]);
	free(a);
}
