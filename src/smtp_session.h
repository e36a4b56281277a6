/*
 * smtp_session.h - the SMTP server dialogue as a pure state machine.
 *
 * Pure core: command lines and DATA/BDAT events in, replies and one action
 * out.  It never does I/O, never reads the clock and never sleeps; rule
 * and credential checks reach it through the hooks in struct smtp_policy.
 * The shell (conn.c) feeds it and executes the returned action.
 *
 * Lifecycle: smtp_session_new(), smtp_session_connect() for the greeting,
 * then smtp_session_line() for each framed command line.  When the session
 * answers DATA or BDAT it returns SMTP_ACT_DATA and the shell switches its
 * input to the DATA decoder or to reading a BDAT chunk; at the end it calls
 * smtp_session_data_end() (or smtp_session_bdat_end() per chunk), which may
 * return SMTP_ACT_COMMIT; the shell stores the message and completes with
 * smtp_session_committed() or smtp_session_commit_failed().
 */
#ifndef MAILSINK_SMTP_SESSION_H
#define MAILSINK_SMTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "envelope.h"

struct transcript;

/* What the shell must do after a call. */
enum smtp_action {
	SMTP_ACT_CONTINUE = 0,	/* send replies, keep reading lines */
	SMTP_ACT_PAUSE,		/* send replies, stop reading for pause_ms,
				   then call smtp_session_resume() */
	SMTP_ACT_START_TLS,	/* send the 220, discard buffered input,
				   then start the TLS handshake */
	SMTP_ACT_DATA,		/* send replies, feed the body: see
				   smtp_session_data_mode() */
	SMTP_ACT_COMMIT,	/* store the envelope and the spooled body,
				   then call committed()/commit_failed() */
	SMTP_ACT_CLOSE_AFTER_FLUSH, /* send replies, then close */
	SMTP_ACT_CLOSE_NOW	/* close without sending anything more */
};

/* Stages at which rules are consulted (CONTRACT "Reject rules"). */
enum smtp_stage {
	SMTP_STAGE_CONNECT = 0,
	SMTP_STAGE_HELO,
	SMTP_STAGE_AUTH,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA
};

enum smtp_verdict_kind {
	SMTP_VERDICT_PASS = 0,	/* no rule fired: take the normal path */
	SMTP_VERDICT_REPLY,	/* answer code/enh/text instead */
	SMTP_VERDICT_DISCONNECT,/* close without a reply */
	SMTP_VERDICT_DELAY	/* pause delay_ms, then ask again */
};

struct smtp_verdict {
	enum smtp_verdict_kind	 kind;
	int			 code;		/* 4xx/5xx for REPLY */
	char			 enh[16];	/* "5.1.1" or "" */
	char			 text[256];	/* reply text */
	uint64_t		 delay_ms;	/* for DELAY */
};

/*
 * A rule check.  value is the stage's subject (client address, HELO
 * name, user, sender, recipient; for DATA the empty string).  *cursor is
 * where to resume evaluation (0 the first time; the hook advances it past
 * a DELAY rule so the next call goes on after it).  header looks up a
 * header of the message at the DATA stage (NULL elsewhere).
 */
typedef const char *(*smtp_header_fn)(void *harg, const char *name);
typedef void (*smtp_check_fn)(void *arg, enum smtp_stage stage,
    const char *value, smtp_header_fn header, void *harg, int *cursor,
    struct smtp_verdict *out);

/* Credential check for AUTH (issue 3); returns 1 if good, 0 if not. */
typedef int (*smtp_auth_fn)(void *arg, const char *mech, const char *user,
    const char *secret, const char *challenge);

/* Make a fresh CRAM-MD5 challenge, "<random.time@host>", into buf. */
typedef void (*smtp_challenge_fn)(void *arg, char *buf, size_t size);

/* Where a transaction ended, for the rejected-attempts record. */
enum smtp_txn_outcome {
	SMTP_TXN_REJECTED = 0,	/* a reply of 4xx/5xx ended or refused it */
	SMTP_TXN_DISCONNECTED,	/* a rule dropped the connection */
	SMTP_TXN_ABANDONED	/* the client left mid-transaction */
};

struct smtp_txn_record {
	enum smtp_txn_outcome	 outcome;
	enum smtp_stage		 stage;		/* stage it ended at */
	const struct envelope	*env;		/* envelope so far */
	const char		*rcpt;		/* refused recipient or NULL */
	const char		*reply;		/* reply line sent, no CRLF,
						   or NULL (disconnect) */
};
typedef void (*smtp_txn_fn)(void *arg, const struct smtp_txn_record *);

#define SMTP_STARTTLS_OFF	0
#define SMTP_STARTTLS_ON	1
#define SMTP_STARTTLS_REQUIRED	2

#define SMTP_AUTH_OFF		0
#define SMTP_AUTH_ANY		1
#define SMTP_AUTH_FILE		2

/* Server-wide settings and hooks; must outlive every session using it. */
struct smtp_policy {
	const char	*hostname;	/* banner and EHLO name */
	uint64_t	 max_size;	/* SIZE limit in octets; 0: none */
	unsigned	 max_recipients;/* RCPTs per transaction */
	int		 starttls;	/* SMTP_STARTTLS_* (0 until issue 3) */
	int		 auth;		/* SMTP_AUTH_* (0 until issue 3) */
	int		 auth_required;	/* MAIL needs AUTH first */
	size_t		 transcript_max;/* bytes; 0: TRANSCRIPT_MAX_DEFAULT */
	smtp_check_fn	 check;		/* rule hook, or NULL */
	void		*check_arg;
	smtp_auth_fn	 auth_check;	/* credential hook; NULL accepts
					   every credential ("any") */
	void		*auth_arg;
	smtp_challenge_fn challenge;	/* CRAM-MD5 challenge, or NULL */
	void		*challenge_arg;
	smtp_txn_fn	 txn;		/* rejected-transaction hook, or NULL */
	void		*txn_arg;
};

/* What the session knows of its peer at connect time. */
struct smtp_peer {
	const char	*addr;		/* "127.0.0.1" or "::1" */
	int		 tls;		/* 1 on an implicit-TLS listener */
};

enum smtp_data_mode {
	SMTP_DATA_MODE_NONE = 0,
	SMTP_DATA_MODE_DOT,		/* DATA: feed the dot decoder */
	SMTP_DATA_MODE_BDAT,		/* BDAT: read exactly chunk bytes */
	SMTP_DATA_MODE_BDAT_DISCARD	/* BDAT refused: read and drop them */
};

/* The result of reading a DATA body or a BDAT chunk. */
struct smtp_data_end {
	uint64_t	 size;		/* octets of the message so far */
	int		 oversize;	/* passed policy max_size */
	int		 flags;		/* SMTP_DATA_* */
	smtp_header_fn	 header;	/* header lookup for data rules */
	void		*harg;
};

struct smtp_session;

struct smtp_session *smtp_session_new(const struct smtp_policy *,
	    const struct smtp_peer *);
void	smtp_session_free(struct smtp_session *);

enum smtp_action smtp_session_connect(struct smtp_session *, struct buf *);
enum smtp_action smtp_session_line(struct smtp_session *, const char *,
	    size_t, int, struct buf *);
enum smtp_action smtp_session_resume(struct smtp_session *, struct buf *);
enum smtp_data_mode smtp_session_data_mode(const struct smtp_session *,
	    uint64_t *);
int	smtp_session_bdat_first(const struct smtp_session *);
enum smtp_action smtp_session_data_end(struct smtp_session *,
	    const struct smtp_data_end *, struct buf *);
enum smtp_action smtp_session_bdat_end(struct smtp_session *,
	    const struct smtp_data_end *, struct buf *);
void	smtp_session_committed(struct smtp_session *, int64_t, struct buf *);
void	smtp_session_commit_failed(struct smtp_session *, struct buf *);
void	smtp_session_tls_started(struct smtp_session *, const char *,
	    const char *);
void	smtp_session_tls_info(struct smtp_session *, const char *,
	    const char *);
void	smtp_session_timeout(struct smtp_session *, struct buf *);
void	smtp_session_shutdown(struct smtp_session *, struct buf *);
void	smtp_session_closed(struct smtp_session *, const char *);

uint64_t smtp_session_pause_ms(const struct smtp_session *);
const struct envelope *smtp_session_envelope(const struct smtp_session *);
const char *smtp_session_helo(const struct smtp_session *);
const char *smtp_session_user(const struct smtp_session *);
int	smtp_session_quirks(const struct smtp_session *);
const char *smtp_session_outcome(const struct smtp_session *);
struct transcript *smtp_session_transcript(struct smtp_session *);
char	*smtp_session_quirks_text(int);
const char *smtp_session_stage_name(enum smtp_stage);

#endif /* MAILSINK_SMTP_SESSION_H */
