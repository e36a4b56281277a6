/*
 * authdb.h - SMTP AUTH credentials: the `--auth FILE` file and the check.
 *
 * Shell (CRAM-MD5 needs OpenSSL's HMAC).  The file holds one
 * "user:password" a line; '#' starts a comment line; blank lines are
 * skipped.  In "any" mode every credential is good (CONTRACT --auth).
 */
#ifndef MAILSINK_AUTHDB_H
#define MAILSINK_AUTHDB_H

#include <stddef.h>

struct authdb;

struct authdb *authdb_any(void);
struct authdb *authdb_load(const char *, char **);
struct authdb *authdb_parse(const char *, size_t, const char *, char **);
void	authdb_free(struct authdb *);
void	authdb_set_hostname(struct authdb *, const char *);
size_t	authdb_count(const struct authdb *);
int	authdb_check(void *, const char *, const char *, const char *,
	    const char *);
void	authdb_challenge(void *, char *, size_t);

#endif /* MAILSINK_AUTHDB_H */
