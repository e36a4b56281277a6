/*
 * tls.h - TLS with OpenSSL 3: the server context, certificates, and
 * wrapping a bufferevent for STARTTLS or implicit TLS.
 *
 * Shell.  TLS 1.2 and 1.3 only.  With no --tls-cert/--tls-key, a
 * self-signed certificate for the host name (subjectAltName: the host
 * name, localhost, 127.0.0.1, ::1) is made in memory at start, so STARTTLS
 * works out of the box; its SHA-256 fingerprint is logged.
 */
#ifndef MAILSINK_TLS_H
#define MAILSINK_TLS_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct tls;

struct tls *tls_new(const char *, const char *, const char *, char **);
void	tls_free(struct tls *);
const char *tls_fingerprint(const struct tls *);
int	tls_self_signed(const struct tls *);
struct bufferevent *tls_accept_socket(struct tls *, struct event_base *,
	    int, char **);
void	tls_shutdown(struct bufferevent *);
void	tls_session_info(struct bufferevent *, const char **, const char **);
char	*tls_error(struct bufferevent *);

#endif /* MAILSINK_TLS_H */
