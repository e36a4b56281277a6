/*
 * store_checkpoint.h - WAL checkpoints on a thread of their own.
 *
 * Shell, used by store.c only (see store_checkpoint.c for why).
 */
#ifndef MAILSINK_STORE_CHECKPOINT_H
#define MAILSINK_STORE_CHECKPOINT_H

struct store_checkpointer;

struct store_checkpointer *store_checkpointer_start(const char *, char **);
void	store_checkpointer_kick(struct store_checkpointer *);
void	store_checkpointer_stop(struct store_checkpointer *);

#endif /* MAILSINK_STORE_CHECKPOINT_H */
