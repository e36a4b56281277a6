/*
 * store_checkpoint.c - WAL checkpoints on a thread of their own.
 *
 * In WAL mode every commit appends pages to the -wal file, and a
 * checkpoint copies them back into the database file and syncs both.
 * SQLite's automatic checkpoint runs inside the commit that crosses
 * 1000 pages, on the writer's thread: here that is the event loop, which
 * then stops serving every session for the copy and two fsyncs (a 1 MB
 * message is 256 pages).  So the writer's WAL hook only kicks this
 * thread, which checkpoints PASSIVE through its own connection while the
 * loop goes on committing: SQLite lets a checkpoint run beside a writer,
 * copying the frames committed before it started.
 *
 * A PASSIVE checkpoint never waits for locks, so it may stop short of
 * the end of the WAL; a later kick copies the rest.  Should the thread
 * fall far behind, the writer checkpoints itself (store.c), so the WAL
 * stays bounded whatever the load.
 *
 * Nothing here touches the writer's connection: each connection is used
 * by one thread only, as SQLite's threading model asks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_checkpoint.h"
#include "xmalloc.h"

struct store_checkpointer {
	sqlite3		*db;		/* owned; this thread's only */
	char		*path;		/* for log lines */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 kicked;	/* under lock: a checkpoint is due */
	int		 stop;		/* under lock: leave the loop */
};

static void	*store_checkpoint_main(void *);

/* The thread: wait for a kick, checkpoint, until told to stop. */
static void *
store_checkpoint_main(void *arg)
{
	struct store_checkpointer	*ck = arg;
	int				 rc, nlog, nckpt;

	pthread_mutex_lock(&ck->lock);
	for (;;) {
		while (!ck->kicked && !ck->stop)
			pthread_cond_wait(&ck->cond, &ck->lock);
		if (ck->stop)
			break;
		ck->kicked = 0;
		pthread_mutex_unlock(&ck->lock);
		rc = sqlite3_wal_checkpoint_v2(ck->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warnx("%s: checkpoint: %s", ck->path,
			    sqlite3_errmsg(ck->db));
		pthread_mutex_lock(&ck->lock);
	}
	pthread_mutex_unlock(&ck->lock);
	return (NULL);
}

/*
 * Start a checkpointer for the WAL database at path, which the caller
 * has open already.  Returns it, or NULL with *cause set (caller frees).
 */
struct store_checkpointer *
store_checkpointer_start(const char *path, char **cause)
{
	struct store_checkpointer	*ck;
	sqlite3_stmt			*stmt = NULL;
	const char			*mode;

	ck = xcalloc(1, sizeof *ck);
	ck->path = xstrdup(path);
	if (sqlite3_open_v2(path, &ck->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: checkpointer: %s", path, ck->db != NULL ?
		    sqlite3_errmsg(ck->db) : "out of memory");
		goto fail;
	}
	/* Its connection must never checkpoint on its own either. */
	sqlite3_wal_autocheckpoint(ck->db, 0);
	/*
	 * A connection learns that the file is in WAL mode when it first
	 * reads it; until then a checkpoint through it silently does
	 * nothing.  Asking for the journal mode makes it read.
	 */
	if (sqlite3_prepare_v2(ck->db, "PRAGMA journal_mode", -1, &stmt,
	    NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW ||
	    (mode = (const char *)sqlite3_column_text(stmt, 0)) == NULL ||
	    strcmp(mode, "wal") != 0) {
		xasprintf(cause, "%s: checkpointer: the store is not in WAL "
		    "mode (%s)", path, sqlite3_errmsg(ck->db));
		sqlite3_finalize(stmt);
		goto fail;
	}
	sqlite3_finalize(stmt);
	pthread_mutex_init(&ck->lock, NULL);
	pthread_cond_init(&ck->cond, NULL);
	if (pthread_create(&ck->thread, NULL, store_checkpoint_main, ck) !=
	    0) {
		xasprintf(cause, "%s: checkpointer: cannot start a thread",
		    path);
		pthread_mutex_destroy(&ck->lock);
		pthread_cond_destroy(&ck->cond);
		goto fail;
	}
	return (ck);

fail:
	sqlite3_close(ck->db);
	free(ck->path);
	free(ck);
	return (NULL);
}

/* Ask for a checkpoint soon; never blocks for long (a mutex, no I/O). */
void
store_checkpointer_kick(struct store_checkpointer *ck)
{
	pthread_mutex_lock(&ck->lock);
	ck->kicked = 1;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
}

/* Stop the thread (after the checkpoint under way) and free it. */
void
store_checkpointer_stop(struct store_checkpointer *ck)
{
	if (ck == NULL)
		return;
	pthread_mutex_lock(&ck->lock);
	ck->stop = 1;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
	pthread_join(ck->thread, NULL);
	pthread_mutex_destroy(&ck->lock);
	pthread_cond_destroy(&ck->cond);
	if (sqlite3_close(ck->db) != SQLITE_OK)
		log_warnx("%s: checkpointer close: %s", ck->path,
		    sqlite3_errmsg(ck->db));
	free(ck->path);
	free(ck);
}
