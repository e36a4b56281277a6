/*
 * listener.c - one listening socket for SMTP, plain or implicit TLS.
 *
 * An evconnlistener per --smtp/--smtps address.  The connection cap is
 * enforced here, before a session exists: a client past --max-connections
 * gets "421 4.3.2" written straight to its fresh socket (a few bytes, which
 * a new socket's send buffer always takes, so this never blocks) and is
 * closed.  When accept() fails for lack of descriptors the listener pauses
 * for a second instead of spinning on a readable socket it cannot accept.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "conf.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

#define LISTENER_BACKLOG	511
#define LISTENER_RETRY_SEC	1	/* pause after EMFILE/ENFILE */

struct listener {
	struct server		*server;	/* not owned */
	struct evconnlistener	*evl;		/* owned */
	struct event		*retry;		/* re-enable after EMFILE */
	int			 tls;		/* implicit TLS */
	char			 address[128];	/* bound "ip:port" */
};

/*
 * Parse "HOST:PORT" or "[V6]:PORT" into a socket address.  Port 0 is
 * allowed (the kernel picks one), so libevent's parser, which refuses it,
 * is not used; HOST may be a name (localhost).
 */
static int
listener_resolve(const char *spec, struct sockaddr_storage *ss, int *sslen,
    char **cause)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256];
	const char	*hstart, *hend, *port;
	int		 error;

	if (spec[0] == '[') {
		hstart = spec + 1;
		if ((hend = strchr(hstart, ']')) == NULL || hend[1] != ':') {
			xasprintf(cause, "%s: expected [ADDRESS]:PORT", spec);
			return (-1);
		}
		port = hend + 2;
	} else {
		hstart = spec;
		if ((hend = strrchr(spec, ':')) == NULL) {
			xasprintf(cause, "%s: expected ADDRESS:PORT", spec);
			return (-1);
		}
		port = hend + 1;
	}
	if (hend == hstart || (size_t)(hend - hstart) >= sizeof(host) ||
	    *port == '\0') {
		xasprintf(cause, "%s: expected ADDRESS:PORT", spec);
		return (-1);
	}
	memcpy(host, hstart, (size_t)(hend - hstart));
	host[hend - hstart] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "%s: %s", spec, gai_strerror(error));
		return (-1);
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = (int)res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* Format a bound address as "127.0.0.1:1025" or "[::1]:1025". */
static void
listener_format(const struct sockaddr *sa, char *out, size_t outsz)
{
	char	ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outsz, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, outsz, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 busy[] = "421 4.3.2 Too many connections,"
				    " try again later\r\n";
	struct listener		*l = arg;
	struct server		*server = l->server;

	if (server->stopping) {
		close(fd);
		return;
	}
	if (server->nconns >= server->cfg->max_connections) {
		/* Best effort: a fresh socket always has room for this. */
		if (write(fd, busy, sizeof(busy) - 1) == -1)
			log_debug("listener 421 write: %s", strerror(errno));
		close(fd);
		log_info("listener refused connection reason=max-connections"
		    " limit=%llu",
		    (unsigned long long)server->cfg->max_connections);
		return;
	}
	conn_new(server, fd, sa, salen, l->tls);
}

static void
listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	if (!l->server->stopping)
		evconnlistener_enable(l->evl);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { LISTENER_RETRY_SEC, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	log_warnx("listener %s accept: %s", l->address,
	    evutil_socket_error_to_string(err));
	/* EMFILE: stop accepting for a moment rather than spin. */
	evconnlistener_disable(l->evl);
	event_add(l->retry, &tv);
}

/*
 * Bind a listener on spec ("ADDR:PORT"); tls marks an implicit-TLS
 * listener.  Returns NULL with *cause set if the address is bad or
 * cannot be bound.
 */
struct listener *
listener_new(struct server *server, const char *spec, int tls, char **cause)
{
	struct listener		*l;
	struct sockaddr_storage	 ss, bound;
	socklen_t		 blen = sizeof(bound);
	int			 sslen;

	if (listener_resolve(spec, &ss, &sslen, cause) == -1)
		return (NULL);
	l = xcalloc(1, sizeof(*l));
	l->server = server;
	l->tls = tls;
	l->evl = evconnlistener_new_bind(server->base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    LISTENER_BACKLOG, (struct sockaddr *)&ss, sslen);
	if (l->evl == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", spec,
		    strerror(errno));
		free(l);
		return (NULL);
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	if ((l->retry = evtimer_new(server->base, listener_retry_cb, l)) ==
	    NULL)
		fatalx("listener_new: evtimer_new failed");
	if (getsockname(evconnlistener_get_fd(l->evl),
	    (struct sockaddr *)&bound, &blen) == -1)
		fatal("listener_new: getsockname");
	listener_format((struct sockaddr *)&bound, l->address,
	    sizeof(l->address));
	return (l);
}

/* Close the socket; NULL is a no-op. */
void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	event_free(l->retry);
	free(l);
}

/* Start (on != 0) or stop accepting. */
void
listener_enable(struct listener *l, int on)
{
	if (on)
		evconnlistener_enable(l->evl);
	else {
		evconnlistener_disable(l->evl);
		event_del(l->retry);
	}
}

/* The bound address, with the real port when 0 was asked. */
const char *
listener_address(const struct listener *l)
{
	return (l->address);
}

/* "smtp" or "smtps", as the listening: lines name them. */
const char *
listener_kind(const struct listener *l)
{
	return (l->tls ? "smtps" : "smtp");
}
