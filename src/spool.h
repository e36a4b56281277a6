/*
 * spool.h - per-transaction body storage with bounded memory.
 *
 * Shell.  Bytes are kept in memory up to SPOOL_MEM_MAX, or up to
 * SPOOL_MEM_BIG while all spools together borrow at most SPOOL_MEM_BUDGET
 * past SPOOL_MEM_MAX; past that the spool moves to an anonymous temporary
 * file (unlinked at creation, so a crash leaves nothing behind) and
 * memory goes back to one SPOOL_MEM_MAX buffer.  Writes past
 * the cap given to spool_reset() are counted but dropped, so an oversize
 * message costs nothing more.
 */
#ifndef MAILSINK_SPOOL_H
#define MAILSINK_SPOOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define SPOOL_MEM_MAX	(64 * 1024)	/* bytes every spool may hold */
#define SPOOL_MEM_BIG	(2 * 1024 * 1024) /* ... and one may borrow up to */
#define SPOOL_MEM_BUDGET (8 * 1024 * 1024) /* borrowed by all at most */

struct spool;

struct spool *spool_new(void);
void	spool_free(struct spool *);
void	spool_reset(struct spool *, uint64_t);
int	spool_write(struct spool *, const void *, size_t, char **);
uint64_t spool_size(const struct spool *);
uint64_t spool_kept(const struct spool *);
int	spool_oversize(const struct spool *);
ssize_t	spool_read(struct spool *, uint64_t, void *, size_t, char **);
const char *spool_mem(const struct spool *, size_t *);

#endif /* MAILSINK_SPOOL_H */
