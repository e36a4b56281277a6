/*
 * conn.c - one SMTP connection: moves bytes between a bufferevent and the
 * pure session, and carries out the session's actions.
 *
 * Input handling follows Postfix smtp-sink's flush idea: in one read
 * callback every complete command already buffered is handled in turn and
 * all replies are appended to the output, which libevent then sends in as
 * few writes as the socket allows.  Any action other than CONTINUE stops
 * the loop; what is left stays in the input buffer.
 *
 * DATA bodies never pass through the line framer: the dot decoder sees the
 * raw bytes (including those that came in the same packet as DATA) and
 * hands unstuffed pieces to the spool.  BDAT chunks are counted off the
 * input the same way.  Memory per connection is the framer's 512 bytes,
 * the spool's memory part and libevent's buffers, which are capped by the
 * read high-watermark; a client that does not read its replies is paused
 * once CONN_OUTPUT_MAX is queued for it.
 *
 * The command timeout is a deadline per line, not an idle timer: it is
 * armed when a line starts and re-armed only when a line completes, so a
 * client trickling one byte at a time is still cut (CONTRACT --timeout).
 *
 * This file must never interpret SMTP itself: every decision about what to
 * answer is smtp_session's.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "envelope.h"
#include "log.h"
#include "mime.h"
#include "server.h"
#include "smtp_data.h"
#include "smtp_line.h"
#include "smtp_session.h"
#include "spool.h"
#include "store.h"
#include "tls.h"
#include "transcript.h"
#include "xmalloc.h"

#define CONN_OUTPUT_MAX		(64 * 1024)	/* pause reading past this */
#define CONN_INPUT_MAX		(256 * 1024)	/* read high-watermark */
#define CONN_READ_MAX		(64 * 1024)	/* octets per read(2) */
#define CONN_HEAD_MAX		(64 * 1024)	/* header bytes given to mime */
#define CONN_BDAT_REARM		4096		/* BDAT progress that counts
						   as a line for the timeout */
#define CONN_LINGER_SEC		2		/* wait for the peer's FIN */

enum conn_mode {
	CONN_MODE_LINE = 0,	/* framing command lines */
	CONN_MODE_DOT,		/* DATA body through the dot decoder */
	CONN_MODE_BDAT,		/* counting off a BDAT chunk */
	CONN_MODE_PAUSED,	/* a delay rule is running */
	CONN_MODE_COMMIT,	/* message written, waiting for the group
				   commit before the 250 */
	CONN_MODE_TLS_WAIT,	/* STARTTLS: waiting for the 220 to go out */
	CONN_MODE_HANDSHAKE,	/* TLS handshake under way */
	CONN_MODE_CLOSING,	/* flushing the last replies */
	CONN_MODE_LINGER,	/* replies sent, FIN sent, draining input */
	CONN_MODE_DEAD		/* to be freed when the callback returns */
};

struct conn {
	struct server		*server;	/* not owned */
	struct bufferevent	*bev;		/* owned */
	struct event		*rev;		/* plain socket: reads it
						   (conn_sock_read_cb) */
	int			 reading;	/* rev wanted (conn_reading) */
	int			 peer_eof;	/* the peer sent its FIN with
						   work still pending */
	int			 fd;		/* the socket */
	int			 fd_in_bev;	/* bev closes fd (TLS) */
	struct smtp_session	*session;	/* owned */
	struct smtp_policy	 policy;	/* per-connection copy */
	struct smtp_line	*framer;	/* owned */
	struct smtp_data	*decoder;	/* owned */
	struct spool		*spool;		/* owned */
	struct event		*deadline;	/* command timeout */
	struct event		*pause;		/* delay-rule timer */
	enum conn_mode		 mode;
	uint64_t		 chunk_left;	/* BDAT octets still to read */
	int			 chunk_keep;	/* keep or drop this chunk */
	uint64_t		 since_arm;	/* BDAT octets since re-arm */
	int			 out_paused;	/* reading off for
						   back-pressure */
	int			 in_callback;	/* a callback is on the stack */
	struct buf		 out;		/* replies being built */
	int64_t			 session_id;	/* store row, 0 if none yet */
	char			 sid[17];	/* hex id for logs */
	char			 addr[INET6_ADDRSTRLEN];
	int			 tls;		/* implicit TLS listener */
	char			*tls_protocol;	/* after the handshake */
	char			*tls_cipher;
	char			*header_value;	/* last header_cb result */
	uint64_t		 messages;	/* delivered in this session */
	size_t			 tmark;		/* transcript offset where the
						   current transaction began */
	int64_t			 pending_id;	/* message id awaiting commit */
	char			 started[STORE_TIME_LEN]; /* accept time */
	TAILQ_ENTRY(conn)	 batch_entry;	/* in server->committing */
	TAILQ_ENTRY(conn)	 entry;
};

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_sock_read_cb(evutil_socket_t, short, void *);
static void	conn_reading(struct conn *, int);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_deadline_cb(evutil_socket_t, short, void *);
static void	conn_pause_cb(evutil_socket_t, short, void *);
static void	conn_process(struct conn *);
static void	conn_act(struct conn *, enum smtp_action);
static void	conn_txn_cb(void *, const struct smtp_txn_record *);
static void	conn_batch_ensure(struct server *, int);
static void	conn_run(struct conn *);
static void	conn_start_tls(struct conn *);
static void	conn_tls_done(struct conn *);
static void	conn_echo_cb(void *, char, const char *, size_t);

/* (Re)start the per-line deadline. */
static void
conn_arm(struct conn *c)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)c->server->cfg->timeout;
	tv.tv_usec = 0;
	if (event_add(c->deadline, &tv) == -1)
		log_warnx("%s conn event_add failed", c->sid);
}

/* Create the session row lazily; returns 0 or -1 (logged). */
static int
conn_session_row(struct conn *c)
{
	char	*cause = NULL;

	if (c->session_id != 0)
		return (0);
	conn_batch_ensure(c->server, 0);
	if (store_session_begin(c->server->store, c->addr, c->started,
	    &c->session_id, &cause) == -1) {
		log_warnx("%s store session_begin: %s", c->sid, cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/*
 * Accept a new connection on fd from sa.  tls is 1 on an implicit-TLS
 * listener (not available yet).  Returns NULL and closes fd on failure.
 */
struct conn *
conn_new(struct server *server, int fd, const struct sockaddr *sa,
    int salen, int tls)
{
	struct conn		*c;
	struct smtp_peer	 peer;
	struct timeval		 wtv;
	char			*cause = NULL;
	int			 one = 1;

	c = xcalloc(1, sizeof(*c));
	c->server = server;
	c->tls = tls;
	server_session_id(server, c->sid, sizeof(c->sid));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    c->addr, sizeof(c->addr));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, c->addr,
			    sizeof(c->addr));
	} else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, c->addr, sizeof(c->addr));
	else
		strlcpy(c->addr, "unknown", sizeof(c->addr));

	c->fd = fd;
	/*
	 * Replies are written whole, once per batch of commands, so Nagle's
	 * algorithm only adds latency (a reply held back for the client's
	 * delayed ACK).
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_debug("%s conn TCP_NODELAY: %s", c->sid, strerror(errno));
	if (tls) {
		c->bev = tls_accept_socket(server->tls, server->base, fd,
		    &cause);
		if (c->bev == NULL) {
			log_warnx("%s conn tls: %s", c->sid, cause);
			free(cause);
			close(fd);
			free(c);
			return (NULL);
		}
		c->mode = CONN_MODE_HANDSHAKE;
		c->fd_in_bev = 1;
	} else if ((c->bev = bufferevent_socket_new(server->base, fd, 0)) ==
	    NULL) {
		log_warnx("%s conn bufferevent_socket_new failed", c->sid);
		close(fd);
		free(c);
		return (NULL);
	}
	c->deadline = evtimer_new(server->base, conn_deadline_cb, c);
	c->pause = evtimer_new(server->base, conn_pause_cb, c);
	if (c->deadline == NULL || c->pause == NULL)
		fatalx("conn_new: evtimer_new failed");
	if (!tls && (c->rev = event_new(server->base, fd, EV_READ |
	    EV_PERSIST, conn_sock_read_cb, c)) == NULL)
		fatalx("conn_new: event_new failed");
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	if (tls)
		bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_MAX);
	/* A client that stops reading our replies is dropped in time. */
	wtv.tv_sec = (time_t)server->cfg->timeout;
	wtv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &wtv);

	c->policy = server->policy;
	if (c->policy.starttls != 0 && tls)
		c->policy.starttls = 1;	/* already in TLS: never required */
	c->policy.txn = conn_txn_cb;
	c->policy.txn_arg = c;
	c->framer = smtp_line_new();
	c->decoder = smtp_data_new();
	c->spool = spool_new();
	buf_init(&c->out, 0);

	peer.addr = c->addr;
	peer.tls = tls;
	c->session = smtp_session_new(&c->policy, &peer);
	if (log_transcript_enabled())
		transcript_set_echo(smtp_session_transcript(c->session),
		    conn_echo_cb, c);

	TAILQ_INSERT_TAIL(&server->conns, c, entry);
	server->nconns++;
	log_info("%s smtp connected address=%s%s", c->sid, c->addr,
	    tls ? " tls=implicit" : "");

	/* The session row is written lazily, with its first write. */
	store_now(c->started, sizeof(c->started));

	c->in_callback = 1;
	conn_arm(c);
	conn_act(c, smtp_session_connect(c->session, &c->out));
	/*
	 * A new bufferevent has writing enabled already; enabling it again
	 * would make a plain socket's write event fire once for nothing
	 * (two epoll_ctl calls and a wakeup per connection).
	 */
	if (c->mode == CONN_MODE_HANDSHAKE &&
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		log_warnx("%s conn bufferevent_enable failed", c->sid);
	if (c->mode == CONN_MODE_LINE)
		conn_reading(c, 1);
	c->in_callback = 0;
	if (c->mode == CONN_MODE_DEAD) {
		conn_free(c);
		return (NULL);
	}
	return (c);
}

/* Write the session's end to the store and the log. */
static void
conn_record_end(struct conn *c)
{
	struct store_peer	 peer;
	const char		*text;
	size_t			 len;
	char			*quirks, *cause = NULL;

	if (conn_session_row(c) == -1)
		return;
	conn_batch_ensure(c->server, 0);
	memset(&peer, 0, sizeof(peer));
	peer.client = c->addr;
	peer.helo = smtp_session_helo(c->session);
	peer.user = smtp_session_user(c->session);
	peer.tls_protocol = c->tls_protocol;
	peer.tls_cipher = c->tls_cipher;
	quirks = smtp_session_quirks_text(smtp_session_quirks(c->session));
	text = transcript_text(smtp_session_transcript(c->session), &len);
	if (store_session_end(c->server->store, c->session_id, &peer,
	    smtp_session_outcome(c->session), quirks, text, &cause) == -1) {
		log_warnx("%s store session_end: %s", c->sid, cause);
		free(cause);
	}
	log_info("%s smtp disconnected reason=%s messages=%" PRIu64 "%s%s",
	    c->sid, smtp_session_outcome(c->session), c->messages,
	    quirks != NULL ? " quirks=" : "", quirks != NULL ? quirks : "");
	free(quirks);
}

/*
 * Free a connection: record it, cancel its timers and callbacks, then
 * free the bufferevent (which closes the socket).  The one free path.
 */
void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->mode == CONN_MODE_COMMIT) {
		/*
		 * The client left while its message waited for the group
		 * commit: the message is in the batch and will be stored;
		 * only the 250 cannot be sent.
		 */
		TAILQ_REMOVE(&c->server->committing, c, batch_entry);
		smtp_session_committed(c->session, c->pending_id, &c->out);
		buf_reset(&c->out);
		c->messages++;
	}
	smtp_session_closed(c->session, NULL);
	conn_record_end(c);
	if (c->rev != NULL)
		event_free(c->rev);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(c->bev);
	if (!c->fd_in_bev)
		close(c->fd);
	event_free(c->deadline);
	event_free(c->pause);
	TAILQ_REMOVE(&c->server->conns, c, entry);
	c->server->nconns--;
	smtp_session_free(c->session);
	smtp_line_free(c->framer);
	smtp_data_free(c->decoder);
	spool_free(c->spool);
	buf_clear(&c->out);
	free(c->header_value);
	free(c->tls_protocol);
	free(c->tls_cipher);
	server_conn_closed(c->server, c);
	free(c);
}

/*
 * Send the replies built so far.  On a plain connection with nothing
 * queued, they are written to the socket at once: going through the
 * bufferevent would cost a loop turn and two epoll_ctl calls per reply,
 * and that latency, not CPU, bounds a client that waits for each reply.
 * Whatever the socket does not take goes to the bufferevent.
 */
static void
conn_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	ssize_t		 n = 0;

	if (c->out.len == 0)
		return;
	if (!c->fd_in_bev && evbuffer_get_length(out) == 0) {
		n = write(c->fd, c->out.data, c->out.len);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_debug("%s conn write: %s", c->sid,
				    strerror(errno));
			n = 0;
		}
	}
	if ((size_t)n < c->out.len && bufferevent_write(c->bev,
	    c->out.data + n, c->out.len - (size_t)n) == -1)
		log_warnx("%s conn bufferevent_write failed", c->sid);
	buf_reset(&c->out);
}

/*
 * The last replies are out: end TLS with a close_notify, send our FIN
 * and drain what the peer still sends until it closes too.  Closing a
 * socket with unread input makes the kernel send a reset, which can
 * destroy replies the peer has not read yet (a pipelined "QUIT\r\nNOOP"
 * would lose its 221), so the close lingers, as web servers do.
 */
static void
conn_linger(struct conn *c)
{
	struct timeval	 tv = { CONN_LINGER_SEC, 0 };

	log_debug("%s conn linger out=%zu", c->sid,
	    evbuffer_get_length(bufferevent_get_output(c->bev)));
	tls_shutdown(c->bev);
	if (shutdown(c->fd, SHUT_WR) == -1 || c->peer_eof) {
		/* No peer, or it has closed already: nothing to wait for. */
		c->mode = CONN_MODE_DEAD;
		return;
	}
	c->mode = CONN_MODE_LINGER;
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	conn_reading(c, 1);
	if (event_add(c->deadline, &tv) == -1)
		c->mode = CONN_MODE_DEAD;
}

/* Stop reading and close once the output has been sent. */
static void
conn_close_after_flush(struct conn *c)
{
	conn_flush(c);
	c->mode = CONN_MODE_CLOSING;
	event_del(c->deadline);
	/*
	 * Reading stays on: conn_process takes nothing more in this mode,
	 * what comes waits (up to the read watermark), and conn_linger
	 * drains it.  Turning it off and on again would cost two epoll_ctl
	 * calls per connection.
	 */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_linger(c);
}

/* Header lookup for data-stage rules: from the head of the spooled body. */
static const char *
conn_header_cb(void *arg, const char *name)
{
	struct conn	*c = arg;
	const char	*mem;
	char		*head;
	size_t		 len;
	ssize_t		 n;

	free(c->header_value);
	c->header_value = NULL;
	if ((mem = spool_mem(c->spool, &len)) != NULL) {
		c->header_value = mime_header_get(mem, len, name);
		return (c->header_value);
	}
	head = xmalloc(CONN_HEAD_MAX);
	n = spool_read(c->spool, 0, head, CONN_HEAD_MAX, NULL);
	if (n > 0)
		c->header_value = mime_header_get(head, (size_t)n, name);
	free(head);
	return (c->header_value);
}

/* Store the transaction's message; complete the session's COMMIT. */
static void
conn_commit(struct conn *c)
{
	const struct envelope	*env = smtp_session_envelope(c->session);
	struct mime_headers	 hdrs;
	struct store_peer	 peer;
	const char		*mem, *text;
	char			*head = NULL, *cause = NULL;
	size_t			 len = 0, tlen;
	ssize_t			 n;
	int64_t			 id;

	memset(&hdrs, 0, sizeof(hdrs));
	if ((mem = spool_mem(c->spool, &len)) != NULL)
		mime_headers_parse(mem, len, &hdrs);
	else {
		head = xmalloc(CONN_HEAD_MAX);
		n = spool_read(c->spool, 0, head, CONN_HEAD_MAX, NULL);
		if (n > 0)
			mime_headers_parse(head, (size_t)n, &hdrs);
		free(head);
	}
	memset(&peer, 0, sizeof(peer));
	peer.client = c->addr;
	peer.helo = smtp_session_helo(c->session);
	peer.user = smtp_session_user(c->session);
	peer.tls_protocol = c->tls_protocol;
	peer.tls_cipher = c->tls_cipher;
	conn_session_row(c);
	/* The dialogue that led to this message is stored with it. */
	text = transcript_text(smtp_session_transcript(c->session), &tlen);
	conn_batch_ensure(c->server, 1);
	if (store_message_put(c->server->store, c->session_id, &peer, env,
	    &hdrs, c->spool, c->tmark <= tlen ? text + c->tmark : NULL, &id,
	    &cause) == -1) {
		log_warnx("%s smtp commit failed: %s", c->sid, cause);
		free(cause);
		smtp_session_commit_failed(c->session, &c->out);
		transcript_text(smtp_session_transcript(c->session),
		    &c->tmark);
	} else {
		log_info("%s smtp message id=%" PRId64 " from=<%s> rcpts=%zu"
		    " size=%" PRIu64, c->sid, id, env->mail.addr, env->nrcpts,
		    spool_size(c->spool));
		/* The 250 waits for the group commit (conn_batch_cb). */
		c->pending_id = id;
		c->mode = CONN_MODE_COMMIT;
		/*
		 * Reading stays on: what a pipelining client sends now
		 * waits in the input buffer (conn_process takes nothing in
		 * this mode), and toggling the socket's epoll interest for
		 * every message would cost two system calls.
		 */
		TAILQ_INSERT_TAIL(&c->server->committing, c, batch_entry);
	}
	mime_headers_clear(&hdrs);
	spool_reset(c->spool, c->server->cfg->max_size);
}

/*
 * Make sure a group commit is open for a write.  A message waiting for
 * its 250 (urgent) makes the commit due once the loop has no input left
 * to handle (commit_ev runs below I/O, see server.c), or after
 * commit_wait at the latest: every message and record written until
 * then shares its one transaction.  Sessions waiting for their 250 send
 * nothing, so under load a round of all of them lands in one commit.
 * A record nobody waits for (a session's end, a rejection) only opens
 * the group and rides with the next message's commit, or goes after
 * lazy_wait: one commit per message instead of two per connection.
 */
static void
conn_batch_ensure(struct server *server, int urgent)
{
	char	*cause = NULL;

	if (!store_batch_open(server->store)) {
		if (store_batch_begin(server->store, &cause) == -1) {
			/* One transaction a write: slower, still right. */
			log_warnx("store batch: %s", cause);
			free(cause);
			return;
		}
		server->commit_urgent = 0;
		if (!urgent && evtimer_add(server->commit_timer,
		    &server->lazy_wait) == -1)
			log_warnx("store batch: evtimer_add failed");
	}
	if (urgent && !server->commit_urgent) {
		server->commit_urgent = 1;
		event_active(server->commit_ev, EV_TIMEOUT, 1);
		if (evtimer_add(server->commit_timer,
		    &server->commit_wait) == -1)
			log_warnx("store batch: evtimer_add failed");
	}
}

/*
 * Commit the group and answer every session that waits for it: 250 when
 * the commit made its message durable, 451 when it did not.
 */
void
conn_batch_flush(struct server *server)
{
	TAILQ_HEAD(, conn)	 done;
	struct conn		*c;
	char			*cause = NULL;
	int			 ok = 1, open;

	event_del(server->commit_ev);
	event_del(server->commit_timer);
	server->commit_urgent = 0;
	if ((open = store_batch_open(server->store)) &&
	    store_batch_commit(server->store, &cause) == -1) {
		log_warnx("store commit failed: %s", cause);
		free(cause);
		ok = 0;
	}
	/*
	 * Answer only those whose message was in this commit: a session
	 * resumed below may write its next message into a new batch, and
	 * must wait for that one.
	 */
	TAILQ_INIT(&done);
	TAILQ_CONCAT(&done, &server->committing, batch_entry);
	while ((c = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, c, batch_entry);
		c->mode = CONN_MODE_LINE;
		if (ok) {
			c->messages++;
			smtp_session_committed(c->session, c->pending_id,
			    &c->out);
		} else
			smtp_session_commit_failed(c->session, &c->out);
		transcript_text(smtp_session_transcript(c->session),
		    &c->tmark);
		c->in_callback = 1;
		conn_flush(c);
		/* Reading may be off still after a delay rule at DATA. */
		if (c->mode == CONN_MODE_LINE && !c->out_paused)
			conn_reading(c, 1);
		conn_process(c);
		c->in_callback = 0;
		if (c->mode == CONN_MODE_DEAD)
			conn_free(c);
	}
	if (open && ok)
		server_index_soon(server);
	if (ok && server->cfg->max_messages > 0 &&
	    store_prune(server->store, server->cfg->max_messages,
	    &cause) == -1) {
		log_warnx("store prune: %s", cause);
		free(cause);
	}
}

/* The end of a loop turn: commit what it wrote. */
void
conn_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_batch_flush(arg);
}

/* Start reading a body the way the session asks. */
static void
conn_start_data(struct conn *c)
{
	uint64_t	chunk = 0;

	switch (smtp_session_data_mode(c->session, &chunk)) {
	case SMTP_DATA_MODE_DOT:
		smtp_data_reset(c->decoder);
		spool_reset(c->spool, c->server->cfg->max_size);
		c->mode = CONN_MODE_DOT;
		break;
	case SMTP_DATA_MODE_BDAT:
		/* The first chunk of a transaction starts a new spool. */
		if (smtp_session_bdat_first(c->session))
			spool_reset(c->spool, c->server->cfg->max_size);
		c->chunk_keep = 1;
		c->chunk_left = chunk;
		c->since_arm = 0;
		c->mode = CONN_MODE_BDAT;
		break;
	case SMTP_DATA_MODE_BDAT_DISCARD:
		c->chunk_keep = 0;
		c->chunk_left = chunk;
		c->since_arm = 0;
		c->mode = CONN_MODE_BDAT;
		break;
	case SMTP_DATA_MODE_NONE:
	default:
		fatalx("%s: no data mode", __func__);
	}
}

/* A BDAT chunk has been counted off (or is empty). */
static void
conn_bdat_done(struct conn *c)
{
	struct smtp_data_end	end;

	memset(&end, 0, sizeof(end));
	end.size = spool_size(c->spool);
	end.oversize = spool_oversize(c->spool);
	end.header = conn_header_cb;
	end.harg = c;
	c->mode = CONN_MODE_LINE;
	conn_act(c, smtp_session_bdat_end(c->session, &end, &c->out));
}

/* Carry out what the session returned. */
static void
conn_act(struct conn *c, enum smtp_action act)
{
	struct timeval	tv;
	uint64_t	ms;

	for (;;) {
		switch (act) {
		case SMTP_ACT_CONTINUE:
			conn_flush(c);
			return;
		case SMTP_ACT_PAUSE:
			conn_flush(c);
			c->mode = CONN_MODE_PAUSED;
			conn_reading(c, 0);
			ms = smtp_session_pause_ms(c->session);
			tv.tv_sec = (time_t)(ms / 1000);
			tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
			event_del(c->deadline);
			if (event_add(c->pause, &tv) == -1)
				fatalx("conn_act: event_add failed");
			return;
		case SMTP_ACT_START_TLS:
			/*
			 * Wait for the 220 to leave, then drop whatever was
			 * pipelined after STARTTLS (conn_start_tls).
			 */
			conn_flush(c);
			c->mode = CONN_MODE_TLS_WAIT;
			conn_reading(c, 0);
			/*
			 * If the 220 went out already, start TLS on the next
			 * loop turn, not here: the caller still holds the
			 * plain bufferevent's input, which TLS replaces.
			 */
			if (evbuffer_get_length(bufferevent_get_output(
			    c->bev)) == 0) {
				tv.tv_sec = 0;
				tv.tv_usec = 0;
				if (event_add(c->pause, &tv) == -1)
					fatalx("conn_act: event_add failed");
			}
			return;
		case SMTP_ACT_DATA:
			conn_flush(c);
			conn_start_data(c);
			if (c->mode == CONN_MODE_BDAT && c->chunk_left == 0) {
				conn_bdat_done(c);
				return;
			}
			return;
		case SMTP_ACT_COMMIT:
			c->mode = CONN_MODE_LINE;
			conn_commit(c);
			act = SMTP_ACT_CONTINUE;
			continue;
		case SMTP_ACT_CLOSE_AFTER_FLUSH:
			conn_close_after_flush(c);
			return;
		case SMTP_ACT_CLOSE_NOW:
			buf_reset(&c->out);
			c->mode = CONN_MODE_DEAD;
			return;
		}
		fatalx("%s: action %d", __func__, (int)act);
	}
}

/* The dot decoder's sink: body pieces go to the spool. */
static void
conn_sink_cb(void *arg, const char *p, size_t len)
{
	struct conn	*c = arg;
	char		*cause = NULL;

	if (spool_write(c->spool, p, len, &cause) == -1) {
		log_warnx("%s spool write: %s", c->sid, cause);
		free(cause);
	}
}

/*
 * Handle everything buffered: lines, body bytes, chunks, until the input
 * runs dry or the mode stops taking input.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 vec;
	struct smtp_line_result	 r;
	struct smtp_data_end	 end;
	size_t			 n;
	int			 done;

	while (evbuffer_get_length(in) > 0) {
		if (c->mode != CONN_MODE_LINE && c->mode != CONN_MODE_DOT &&
		    c->mode != CONN_MODE_BDAT)
			break;
		if (c->out_paused)
			break;
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1 ||
		    vec.iov_len == 0)
			break;
		switch (c->mode) {
		case CONN_MODE_LINE:
			n = smtp_line_feed(c->framer, vec.iov_base,
			    vec.iov_len, &r);
			if (r.line != NULL) {
				conn_arm(c);
				conn_act(c, smtp_session_line(c->session,
				    r.line, r.len, r.flags, &c->out));
			}
			evbuffer_drain(in, n);
			break;
		case CONN_MODE_DOT:
			done = 0;
			n = smtp_data_feed(c->decoder, vec.iov_base,
			    vec.iov_len, conn_sink_cb, c, &done);
			if (memchr(vec.iov_base, '\n', n) != NULL)
				conn_arm(c);
			evbuffer_drain(in, n);
			if (done) {
				memset(&end, 0, sizeof(end));
				end.size = smtp_data_size(c->decoder);
				end.flags = smtp_data_flags(c->decoder);
				end.oversize = spool_oversize(c->spool);
				end.header = conn_header_cb;
				end.harg = c;
				c->mode = CONN_MODE_LINE;
				conn_act(c, smtp_session_data_end(c->session,
				    &end, &c->out));
			}
			break;
		case CONN_MODE_BDAT:
			n = vec.iov_len < c->chunk_left ? vec.iov_len :
			    (size_t)c->chunk_left;
			if (c->chunk_keep)
				conn_sink_cb(c, vec.iov_base, n);
			evbuffer_drain(in, n);
			c->chunk_left -= n;
			c->since_arm += n;
			if (c->since_arm >= CONN_BDAT_REARM) {
				c->since_arm = 0;
				conn_arm(c);
			}
			if (c->chunk_left == 0) {
				conn_arm(c);
				conn_bdat_done(c);
			}
			break;
		default:
			fatalx("%s: mode %d", __func__, (int)c->mode);
		}
	}
	conn_flush(c);
	/* Back-pressure: a client that does not read its replies waits. */
	if (c->mode != CONN_MODE_DEAD && c->mode != CONN_MODE_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    CONN_OUTPUT_MAX) {
		c->out_paused = 1;
		conn_reading(c, 0);
	}
	if (c->mode != CONN_MODE_LINE && c->mode != CONN_MODE_DOT &&
	    c->mode != CONN_MODE_BDAT)
		return;
	if (c->peer_eof && evbuffer_get_length(in) == 0) {
		/* Everything the peer sent before its FIN is answered. */
		conn_close_after_flush(c);
		return;
	}
	/* The input drained below the watermark: read again. */
	if (c->reading && !c->out_paused)
		conn_reading(c, 1);
}

/* Run conn_process from a callback and free the conn if it died. */
static void
conn_run(struct conn *c)
{
	c->in_callback = 1;
	conn_process(c);
	c->in_callback = 0;
	if (c->mode == CONN_MODE_DEAD)
		conn_free(c);
}

/*
 * The 220 has gone out: discard everything the client sent after
 * STARTTLS (RFC 3207 4.2; the CVE-2011-0411 injection), then put TLS over
 * the connection.  The session restarts when the handshake completes.
 */
static void
conn_start_tls(struct conn *c)
{
	struct bufferevent	*tbev;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct timeval		 wtv;
	char			*cause = NULL;
	size_t			 dropped;

	dropped = evbuffer_get_length(in) + smtp_line_pending(c->framer);
	if (dropped > 0)
		log_info("%s smtp starttls discarded=%zu", c->sid, dropped);
	evbuffer_drain(in, evbuffer_get_length(in));
	smtp_line_reset(c->framer);
	/*
	 * TLS goes on the socket itself, not as a filter over the plain
	 * bufferevent: the plain one has nothing left to say (its output is
	 * sent, its input discarded), and a socket-level TLS bufferevent
	 * writes straight to the kernel, so a close never strands bytes in
	 * an intermediate buffer.
	 */
	event_free(c->rev);
	c->rev = NULL;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_free(c->bev);
	c->bev = NULL;
	if ((tbev = tls_accept_socket(c->server->tls, c->server->base, c->fd,
	    &cause)) == NULL) {
		log_warnx("%s smtp starttls: %s", c->sid, cause);
		free(cause);
		smtp_session_closed(c->session, "tls-failed");
		/* conn_free needs a bufferevent to free. */
		c->bev = bufferevent_socket_new(c->server->base, c->fd, 0);
		if (c->bev == NULL)
			fatalx("conn_start_tls: bufferevent_socket_new failed");
		c->mode = CONN_MODE_DEAD;
		return;
	}
	c->bev = tbev;
	c->fd_in_bev = 1;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_MAX);
	wtv.tv_sec = (time_t)c->server->cfg->timeout;
	wtv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	c->mode = CONN_MODE_HANDSHAKE;
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		log_warnx("%s conn bufferevent_enable failed", c->sid);
	conn_arm(c);
}

/* The TLS handshake is complete (STARTTLS or implicit). */
static void
conn_tls_done(struct conn *c)
{
	const char	*protocol, *cipher;

	tls_session_info(c->bev, &protocol, &cipher);
	free(c->tls_protocol);
	free(c->tls_cipher);
	c->tls_protocol = protocol != NULL ? xstrdup(protocol) : NULL;
	c->tls_cipher = cipher != NULL ? xstrdup(cipher) : NULL;
	log_info("%s smtp tls protocol=%s cipher=%s", c->sid,
	    protocol != NULL ? protocol : "?", cipher != NULL ? cipher : "?");
	if (c->tls)
		smtp_session_tls_info(c->session, protocol, cipher);
	else
		smtp_session_tls_started(c->session, protocol, cipher);
	if (c->mode == CONN_MODE_HANDSHAKE)
		c->mode = CONN_MODE_LINE;
	conn_arm(c);
	conn_run(c);
}

/*
 * Turn reading on or off.  A plain socket is read by conn_sock_read_cb,
 * not by its bufferevent: libevent 2.1 reads at most 4096 octets a call
 * and asks FIONREAD before each, so a 1 MB message would cost 512 system
 * calls that way and 16 this way.  Reading also stops while the input
 * holds CONN_INPUT_MAX (the high-watermark; conn_process restarts it).
 * A TLS socket is read by its bufferevent, with the same watermark.
 */
static void
conn_reading(struct conn *c, int on)
{
	if (c->rev == NULL) {
		if (on && !c->peer_eof)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
		return;
	}
	c->reading = on;
	if (on && !c->peer_eof &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) <
	    CONN_INPUT_MAX) {
		if (!event_pending(c->rev, EV_READ, NULL) &&
		    event_add(c->rev, NULL) == -1)
			log_warnx("%s conn event_add failed", c->sid);
	} else
		event_del(c->rev);
}

/* A plain socket is readable: read into the input, then handle it. */
static void
conn_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 vec;
	ssize_t			 n;

	if (evbuffer_get_length(in) >= CONN_INPUT_MAX) {
		event_del(c->rev);	/* conn_process reads on again */
		return;
	}
	/* The bufferevent keeps its input's end frozen but for its reads. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, CONN_READ_MAX, &vec, 1) < 1)
		fatalx("conn_sock_read_cb: evbuffer_reserve_space failed");
	if (vec.iov_len > CONN_READ_MAX)
		vec.iov_len = CONN_READ_MAX;
	n = read(fd, vec.iov_base, vec.iov_len);
	if (n > 0) {
		vec.iov_len = (size_t)n;
		if (evbuffer_commit_space(in, &vec, 1) == -1)
			fatalx("conn_sock_read_cb: evbuffer_commit_space "
			    "failed");
	}
	evbuffer_freeze(in, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, c);
		return;
	}
	if (n == 0) {
		event_del(c->rev);
		conn_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_EOF, c);
		return;
	}
	conn_read_cb(c->bev, c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (c->mode == CONN_MODE_LINGER) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	conn_run(c);
}

/* Output drained: finish a close, or lift back-pressure. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	/*
	 * A write callback can be late: a TLS bufferevent may report the
	 * banner written after more replies were queued.  Act only when the
	 * output is really empty.
	 */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->mode == CONN_MODE_CLOSING) {
		conn_linger(c);
		if (c->mode == CONN_MODE_DEAD)
			conn_free(c);
		return;
	}
	if (c->mode == CONN_MODE_LINGER)
		return;
	if (c->mode == CONN_MODE_TLS_WAIT) {
		conn_start_tls(c);
		if (c->mode == CONN_MODE_DEAD)
			conn_free(c);
		return;
	}
	if (c->out_paused) {
		c->out_paused = 0;
		if (c->mode != CONN_MODE_PAUSED)
			conn_reading(c, 1);
		conn_run(c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	char		*why;

	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_done(c);
		return;
	}
	if (c->mode == CONN_MODE_LINGER) {
		conn_free(c);
		return;
	}
	if (c->mode == CONN_MODE_HANDSHAKE &&
	    (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		why = tls_error(bev);
		log_info("%s smtp tls handshake failed: %s", c->sid, why);
		free(why);
		smtp_session_closed(c->session, "tls-failed");
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (c->mode == CONN_MODE_CLOSING || c->mode == CONN_MODE_COMMIT ||
	    c->mode == CONN_MODE_PAUSED || c->out_paused ||
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0)) {
		/*
		 * The peer half-closed with work pending (a message waiting
		 * for its commit, replies not sent, commands not yet read,
		 * as with `nc -N`): finish that, then close.
		 */
		log_debug("%s conn eof, finishing", c->sid);
		c->peer_eof = 1;
		conn_reading(c, 0);
		return;
	}
	if (what & BEV_EVENT_EOF)
		log_debug("%s conn eof", c->sid);
	else if (what & BEV_EVENT_ERROR)
		log_debug("%s conn error: %s", c->sid,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(c);
}

/* The line did not complete in time: 421 4.4.2 and close. */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->mode == CONN_MODE_LINGER) {
		conn_free(c);
		return;
	}
	if (c->mode == CONN_MODE_CLOSING || c->mode == CONN_MODE_PAUSED ||
	    c->mode == CONN_MODE_COMMIT)
		return;
	log_info("%s smtp timeout", c->sid);
	if (c->mode == CONN_MODE_TLS_WAIT || c->mode == CONN_MODE_HANDSHAKE) {
		/* No reply can be sent in the middle of a handshake. */
		smtp_session_closed(c->session, "timeout");
		conn_free(c);
		return;
	}
	smtp_session_timeout(c->session, &c->out);
	conn_close_after_flush(c);
	if (c->mode == CONN_MODE_DEAD)
		conn_free(c);
}

/* A delay rule ended (resume the paused command), or TLS is due to start. */
static void
conn_pause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (c->mode == CONN_MODE_TLS_WAIT) {
		conn_start_tls(c);
		if (c->mode == CONN_MODE_DEAD)
			conn_free(c);
		return;
	}
	c->in_callback = 1;
	c->mode = CONN_MODE_LINE;
	conn_arm(c);
	conn_act(c, smtp_session_resume(c->session, &c->out));
	if (c->mode == CONN_MODE_LINE || c->mode == CONN_MODE_DOT ||
	    c->mode == CONN_MODE_BDAT) {
		conn_reading(c, 1);
		conn_process(c);
	}
	c->in_callback = 0;
	if (c->mode == CONN_MODE_DEAD)
		conn_free(c);
}

/* The session's transaction records go to the store's rejections. */
static void
conn_txn_cb(void *arg, const struct smtp_txn_record *r)
{
	static const char	*outcomes[] = { "rejected", "disconnected",
				    "abandoned" };
	struct conn		*c = arg;
	char			*cause = NULL;

	if (conn_session_row(c) == -1)
		return;
	conn_batch_ensure(c->server, 0);
	if (store_reject_put(c->server->store, c->session_id,
	    smtp_session_stage_name(r->stage), outcomes[r->outcome], r->env,
	    r->rcpt, r->reply, &cause) == -1) {
		log_warnx("%s store reject_put: %s", c->sid, cause);
		free(cause);
	}
}

/* -v: every transcript line goes to the log, already redacted. */
static void
conn_echo_cb(void *arg, char dir, const char *line, size_t len)
{
	struct conn	*c = arg;

	log_transcript(c->sid, dir, line, len);
}

/*
 * Server stopping.  force == 0: idle sessions get 421 and close, busy ones
 * (mid-transaction) are left to finish.  force == 1: everyone goes.
 */
void
conn_shutdown_all(struct server *server, int force)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&server->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->mode == CONN_MODE_CLOSING)
			continue;
		if (!force && (c->mode != CONN_MODE_LINE ||
		    smtp_session_envelope(c->session)->has_mail))
			continue;
		smtp_session_shutdown(c->session, &c->out);
		conn_close_after_flush(c);
		if (c->mode == CONN_MODE_DEAD || force)
			conn_free(c);
	}
}

/* Connections in the middle of a transaction. */
unsigned
conn_count_busy(const struct server *server)
{
	const struct conn	*c;
	unsigned		 n = 0;

	TAILQ_FOREACH(c, &server->conns, entry) {
		if (c->mode == CONN_MODE_CLOSING)
			continue;
		if (c->mode != CONN_MODE_LINE ||
		    smtp_session_envelope(c->session)->has_mail)
			n++;
	}
	return (n);
}
