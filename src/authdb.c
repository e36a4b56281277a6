/*
 * authdb.c - the credentials behind SMTP AUTH.
 *
 * `--auth any` takes every credential (a sink should not stand between a
 * developer and their app); `--auth FILE` holds "user:password" lines and
 * judges PLAIN and LOGIN passwords by comparison and CRAM-MD5 digests by
 * recomputing HMAC-MD5(password, challenge) (RFC 2195).  Comparisons do
 * not stop at the first differing byte.  Passwords live only in this
 * module's memory and are wiped when it is freed; they are never logged.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "authdb.h"
#include "compat.h"
#include "xmalloc.h"

#define AUTHDB_FILE_MAX	(1024 * 1024)	/* a credentials file, octets */
#define AUTHDB_FIELD_MAX 256		/* as SASL_FIELD_MAX */

struct authdb_entry {
	char	*user;
	char	*password;
};

struct authdb {
	int			 any;		/* accept everything */
	struct authdb_entry	*entries;
	size_t			 nentries;
	char			 hostname[256];	/* for challenges */
	uint64_t		 counter;	/* challenge uniqueness */
};

/* The "any" database: every credential is good. */
struct authdb *
authdb_any(void)
{
	struct authdb	*db;

	db = xcalloc(1, sizeof(*db));
	db->any = 1;
	return (db);
}

/*
 * Parse credentials text (name is the file name for messages).  Returns
 * NULL with *cause "FILE:LINE: problem" for a bad line.
 */
struct authdb *
authdb_parse(const char *text, size_t len, const char *name, char **cause)
{
	struct authdb	*db;
	const char	*p = text, *end = text + len, *nl, *colon;
	size_t		 n, ulen, plen;
	unsigned	 lineno = 0;

	db = xcalloc(1, sizeof(*db));
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 || p[0] == '#')
			goto next;
		if (memchr(p, '\0', n) != NULL) {
			xasprintf(cause, "%s:%u: NUL byte in line", name,
			    lineno);
			goto fail;
		}
		if ((colon = memchr(p, ':', n)) == NULL) {
			xasprintf(cause, "%s:%u: expected user:password", name,
			    lineno);
			goto fail;
		}
		ulen = (size_t)(colon - p);
		plen = n - ulen - 1;
		if (ulen == 0) {
			xasprintf(cause, "%s:%u: empty user name", name,
			    lineno);
			goto fail;
		}
		if (ulen > AUTHDB_FIELD_MAX || plen > AUTHDB_FIELD_MAX) {
			xasprintf(cause, "%s:%u: user or password longer than"
			    " %d octets", name, lineno, AUTHDB_FIELD_MAX);
			goto fail;
		}
		db->entries = xreallocarray(db->entries, db->nentries + 1,
		    sizeof(*db->entries));
		db->entries[db->nentries].user = xstrndup(p, ulen);
		db->entries[db->nentries].password = xstrndup(colon + 1, plen);
		db->nentries++;
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (db->nentries == 0) {
		xasprintf(cause, "%s: no user:password lines", name);
		goto fail;
	}
	return (db);
fail:
	authdb_free(db);
	return (NULL);
}

/* Load a credentials file; NULL with *cause naming the file. */
struct authdb *
authdb_load(const char *path, char **cause)
{
	struct authdb	*db;
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > AUTHDB_FILE_MAX) {
		saved = errno;
		close(fd);
		xasprintf(cause, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : st.st_size > AUTHDB_FILE_MAX ?
		    "file too large" : strerror(saved));
		return (NULL);
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n <= 0) {
			saved = errno;
			close(fd);
			free(text);
			xasprintf(cause, "%s: %s", path, n == 0 ?
			    "short read" : strerror(saved));
			return (NULL);
		}
		got += (size_t)n;
	}
	close(fd);
	db = authdb_parse(text, got, path, cause);
	explicit_bzero(text, got);
	free(text);
	return (db);
}

/* Wipe and free; NULL is a no-op. */
void
authdb_free(struct authdb *db)
{
	size_t	i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nentries; i++) {
		explicit_bzero(db->entries[i].password,
		    strlen(db->entries[i].password));
		free(db->entries[i].password);
		free(db->entries[i].user);
	}
	free(db->entries);
	free(db);
}

/* The host name that goes into CRAM-MD5 challenges. */
void
authdb_set_hostname(struct authdb *db, const char *hostname)
{
	strlcpy(db->hostname, hostname, sizeof(db->hostname));
}

size_t
authdb_count(const struct authdb *db)
{
	return (db->nentries);
}

/* Compare two strings without stopping at the first difference. */
static int
authdb_equal(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b), i;
	unsigned char	 diff = (unsigned char)(la != lb);

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return (diff == 0);
}

/* HMAC-MD5(password, challenge) as lower-case hex (RFC 2195). */
static int
authdb_cram_digest(const char *password, const char *challenge,
    char hex[33])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 i;

	if (HMAC(EVP_md5(), password, (int)strlen(password),
	    (const unsigned char *)challenge, strlen(challenge), md,
	    &mdlen) == NULL || mdlen != 16)
		return (-1);
	for (i = 0; i < 16; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	return (0);
}

/*
 * The smtp_auth_fn hook: 1 if the credential is good.  secret is the
 * password (PLAIN, LOGIN) or the client's hex digest (CRAM-MD5).
 */
int
authdb_check(void *arg, const char *mech, const char *user,
    const char *secret, const char *challenge)
{
	struct authdb	*db = arg;
	char		 hex[33], lower[33];
	size_t		 i;

	if (db->any)
		return (1);
	for (i = 0; i < db->nentries; i++) {
		if (strcmp(db->entries[i].user, user) != 0)
			continue;
		if (strcasecmp(mech, "CRAM-MD5") == 0) {
			if (strlen(secret) != 32 || authdb_cram_digest(
			    db->entries[i].password, challenge, hex) == -1)
				return (0);
			for (i = 0; i < 32; i++)
				lower[i] = (char)(secret[i] >= 'A' &&
				    secret[i] <= 'F' ? secret[i] + 32 :
				    secret[i]);
			lower[32] = '\0';
			return (authdb_equal(hex, lower));
		}
		return (authdb_equal(db->entries[i].password, secret));
	}
	return (0);
}

/*
 * The smtp_challenge_fn hook: "<random.seconds@host>" (RFC 2195 2), fresh
 * each time.
 */
void
authdb_challenge(void *arg, char *buf, size_t size)
{
	struct authdb	*db = arg;
	uint64_t	 r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = ++db->counter ^ (uint64_t)time(NULL);
	snprintf(buf, size, "<%llu.%lld@%s>", (unsigned long long)r,
	    (long long)time(NULL), db->hostname[0] != '\0' ? db->hostname :
	    "mailsink");
}
