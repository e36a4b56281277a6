/*
 * store.h - the SQLite store: messages, recipients, sessions, rejections.
 *
 * Shell.  One file in WAL mode; the server is the only writer, the CLI
 * and the HTTP API read at the same time.  All statements are prepared
 * once at open.  Functions return 0 on success and -1 with *cause set
 * (caller frees) on failure; lookups return 1 for "not found".
 * Schema and migrations are in store_schema.c.
 */
#ifndef MAILSINK_STORE_H
#define MAILSINK_STORE_H

#include <stddef.h>
#include <stdint.h>

struct envelope;
struct mime_headers;
struct query;
struct spool;

#define STORE_READONLY	0x01	/* open for reading only (CLI) */
#define STORE_TIME_LEN	32	/* "2026-11-23T16:41:28.123Z" and NUL */
#define STORE_NOCREATE	0x02	/* writer that must not create the file */

struct store;

/* Who and how, for a message or a session; strings may be NULL. */
struct store_peer {
	const char	*client;	/* peer address, "127.0.0.1" */
	const char	*helo;
	const char	*tls_protocol;	/* "TLSv1.3" or NULL */
	const char	*tls_cipher;
	const char	*user;		/* authenticated user or NULL */
};

/* A stored message as read back; every string is owned by the struct. */
struct store_msg {
	int64_t		 id;
	int64_t		 session_id;	/* 0 if none */
	char		*received;	/* RFC 3339 UTC, "...Z" */
	char		*client;
	char		*helo;
	char		*tls_protocol;	/* NULL when not TLS */
	char		*tls_cipher;
	char		*user;		/* NULL when not authenticated */
	char		*mail_from;	/* "" for the null sender */
	char		**rcpt_to;	/* envelope recipients, in order */
	size_t		 nrcpt;
	uint64_t	 size;
	char		*subject;	/* decoded headers, NULL when absent */
	char		*from;
	char		*to;
	char		*cc;
	char		*date;
	char		*message_id;
	char		*params;	/* JSON text of ESMTP/DSN parameters */
};

/* A rejected or abandoned transaction within a session. */
struct store_reject {
	char		*time;		/* RFC 3339 UTC */
	char		*stage;		/* "connect", "mail", "rcpt", ... */
	char		*outcome;	/* "rejected", "disconnected",
					   "abandoned" */
	char		*mail_from;	/* NULL if MAIL was never accepted */
	char		**rcpt_to;	/* recipients accepted so far */
	size_t		 nrcpt;
	char		*rcpt;		/* the refused recipient, or NULL */
	char		*reply;		/* reply line or NULL (disconnect) */
};

/* A session as read back. */
struct store_sess {
	int64_t		 id;
	char		*started;
	char		*ended;		/* NULL while open */
	char		*client;
	char		*helo;
	char		*tls_protocol;
	char		*tls_cipher;
	char		*user;
	char		*outcome;	/* "quit", "timeout", "closed", ... */
	char		*quirks;	/* comma-separated leniencies or NULL */
	int64_t		*messages;	/* ids delivered */
	size_t		 nmessages;
	struct store_reject *rejects;
	size_t		 nrejects;
};

struct store *store_open(const char *, int, char **);
void	store_close(struct store *);
const char *store_path(const struct store *);

/* Writer side (the server). */
void	store_now(char *, size_t);
int	store_batch_begin(struct store *, char **);
int	store_batch_open(const struct store *);
int	store_batch_commit(struct store *, char **);
int	store_session_begin(struct store *, const char *, const char *,
	    int64_t *, char **);
int	store_session_end(struct store *, int64_t, const struct store_peer *,
	    const char *, const char *, const char *, char **);
int	store_message_put(struct store *, int64_t, const struct store_peer *,
	    const struct envelope *, const struct mime_headers *,
	    struct spool *, const char *, int64_t *, char **);
int	store_reject_put(struct store *, int64_t, const char *, const char *,
	    const struct envelope *, const char *, const char *, char **);
int	store_prune(struct store *, uint64_t, char **);
int	store_index(struct store *, size_t, char **);

/* Reader side (CLI, HTTP). */
int	store_msg_list(struct store *, const struct query *, size_t, size_t,
	    struct store_msg ***, size_t *, char **);
int	store_msg_count(struct store *, const struct query *, uint64_t *,
	    char **);
int	store_msg_get(struct store *, int64_t, struct store_msg **, char **);
int	store_msg_latest(struct store *, int64_t *, char **);
int	store_msg_raw(struct store *, int64_t, char **, size_t *, char **);
int	store_msg_delete(struct store *, int64_t, char **);
int	store_msg_delete_all(struct store *, uint64_t *, char **);
int	store_sess_list(struct store *, int, size_t, struct store_sess ***,
	    size_t *, char **);
int	store_sess_transcript(struct store *, int64_t, char **, char **);
void	store_msg_free(struct store_msg *);
void	store_msgs_free(struct store_msg **, size_t);
void	store_sess_free(struct store_sess *);
void	store_sesses_free(struct store_sess **, size_t);

#endif /* MAILSINK_STORE_H */
