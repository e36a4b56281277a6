/*
 * listener.h - one listening socket for SMTP (plain or implicit TLS).
 *
 * Shell.  Wraps an evconnlistener.  Past --max-connections a new client
 * gets "421 4.3.2" written straight to its socket and is closed; it never
 * gets a session.  Accept errors (EMFILE) pause accepting for a moment
 * instead of spinning.
 */
#ifndef MAILSINK_LISTENER_H
#define MAILSINK_LISTENER_H

#include <stddef.h>

struct server;
struct listener;

struct listener *listener_new(struct server *, const char *, int, char **);
void	listener_free(struct listener *);
void	listener_enable(struct listener *, int);
const char *listener_address(const struct listener *);
const char *listener_kind(const struct listener *);

#endif /* MAILSINK_LISTENER_H */
