/*
 * conn.h - one SMTP connection: bytes between a bufferevent and a session.
 *
 * Shell.  The only module that sees both a bufferevent and a session
 * (STYLE 10).  It frames input, feeds the session, writes its replies,
 * carries out its actions (pause, TLS, commit, close) and records the
 * session in the store when it ends.
 */
#ifndef MAILSINK_CONN_H
#define MAILSINK_CONN_H

#include <sys/queue.h>
#include <sys/socket.h>

struct server;
struct conn;

struct conn *conn_new(struct server *, int, const struct sockaddr *, int,
	    int);
void	conn_free(struct conn *);
void	conn_shutdown_all(struct server *, int);
unsigned conn_count_busy(const struct server *);
void	conn_batch_flush(struct server *);
void	conn_batch_cb(int, short, void *);

#endif /* MAILSINK_CONN_H */
