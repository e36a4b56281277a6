/*
 * server.h - the server: event loop, listeners, signals, connection set.
 *
 * Shell.  One process, one libevent loop.  The server owns the store,
 * the listeners and every connection; a connection reaches the server
 * through its back pointer for the store and the shared settings.
 */
#ifndef MAILSINK_SERVER_H
#define MAILSINK_SERVER_H

#include <sys/queue.h>
#include <sys/time.h>

#include <stdint.h>
#include <time.h>

#include "smtp_session.h"

struct config;
struct conn;
struct event;
struct event_base;
struct listener;
struct store;
struct tls;
struct authdb;
struct rules;

struct server {
	struct event_base	*base;
	const struct config	*cfg;		/* not owned */
	struct store		*store;		/* owned */
	struct tls		*tls;		/* owned, NULL if TLS is off */
	struct authdb		*authdb;	/* owned, NULL if AUTH is off */
	struct rules		*rules;		/* owned; swapped on SIGHUP */
	uint64_t		 rule_seed;	/* seed the rules started
						   with */
	int			 argc;		/* serve's arguments,
						   to reload */
	char			**argv;		/* the config the same way */
	struct smtp_policy	 policy;	/* template copied per conn */
	char			 hostname[256];
	struct listener		**listeners;	/* owned */
	size_t			 nlisteners;
	TAILQ_HEAD(, conn)	 conns;		/* open connections */
	TAILQ_HEAD(, conn)	 committing;	/* waiting for the group
						   commit */
	struct event		*commit_ev;	/* runs the group commit */
	struct event		*commit_timer;	/* ... at the latest then */
	struct timeval		 commit_wait;	/* how long a message may
						   wait for its commit */
	struct timeval		 lazy_wait;	/* ... a record nobody
						   waits for */
	int			 commit_urgent;	/* a message waits for the
						   open group commit */
	struct event		*index_ev;	/* runs the indexer */
	unsigned		 nconns;
	struct event		*sig_int;
	struct event		*sig_term;
	struct event		*sig_hup;
	struct event		*drain_timer;	/* shutdown deadline */
	int			 stopping;	/* a stop signal came */
	time_t			 drain_started;	/* when the stop began */
	uint64_t		 sid_seed;	/* session id generator */
	uint64_t		 sid_counter;
};

struct server *server_new(const struct config *, int, char **, char **);
int	server_listen(struct server *, char **);
void	server_announce(struct server *);
int	server_run(struct server *);
void	server_free(struct server *);
void	server_conn_closed(struct server *, struct conn *);
void	server_session_id(struct server *, char *, size_t);
void	server_index_soon(struct server *);

#endif /* MAILSINK_SERVER_H */
