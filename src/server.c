/*
 * server.c - the event loop, the listeners, signals and the stop sequence.
 *
 * Startup binds every listener before anything is printed, then prints one
 * "listening:" line per listener on stdout and flushes it at once: tests
 * and scripts read those lines to learn the ports (CONTRACT "Serving").
 *
 * SIGINT/SIGTERM stop accepting, tell idle sessions 421 and let sessions
 * in the middle of a transaction finish for up to SERVER_DRAIN_SEC; then
 * the loop ends and the store is closed cleanly.  SIGHUP reloads the
 * rules from the config file and the command line.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "authdb.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "mime.h"
#include "rules.h"
#include "cli.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "xmalloc.h"

#define SERVER_DRAIN_SEC	5	/* busy sessions get this long
					   at stop */
#define SERVER_DRAIN_POLL_MS	100
/*
 * Event priorities (libevent runs only the most urgent active ones in a
 * loop turn): I/O and timers run at the default; the group commit below
 * them, so it waits until no session has input left to handle and takes
 * every message of the round in one transaction (its deadline timer,
 * at the default, bounds the wait); the indexer lowest, in turns with
 * nothing else to do.
 */
#define SERVER_PRIORITIES	5	/* the default is 5 / 2 = 2 */
#define SERVER_PRIO_COMMIT	3
#define SERVER_PRIO_INDEX	4
#define SERVER_COMMIT_WAIT_MS	10	/* longest wait for the commit */
#define SERVER_LAZY_WAIT_MS	250	/* ... of a record nobody waits for */
#define SERVER_INDEX_MSGS	128	/* per indexer turn: about 10 ms */
#define SERVER_INDEX_DELAY_MS	100	/* after a commit, before indexing */

static void	server_signal_cb(evutil_socket_t, short, void *);
static void	server_drain_cb(evutil_socket_t, short, void *);
static void	server_index_cb(evutil_socket_t, short, void *);
static void	server_signals(struct server *);
static void	server_check_cb(void *, enum smtp_stage, const char *,
		    smtp_header_fn, void *, int *, struct smtp_verdict *);
static struct rules *server_rules_build(struct server *,
		    const struct config *, char **);

/* A 64-bit seed for session ids: from the kernel, else time and pid. */
static uint64_t
server_seed(void)
{
	uint64_t	seed = 0;
	int		fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
			seed = 0;
		close(fd);
	}
	if (seed == 0)
		seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	return (seed);
}

/* Compile cfg's rules; NULL with *cause "FILE:LINE: problem". */
static struct rules *
server_rules_build(struct server *s, const struct config *cfg, char **cause)
{
	struct rules	*rs;
	char		*origin, *why = NULL;
	size_t		 i;

	rs = rules_new(s->rule_seed);
	rules_set_magic(rs, cfg->magic_addresses);
	for (i = 0; i < cfg->nrules; i++) {
		if (cfg->rules[i].line > 0)
			xasprintf(&origin, "%s:%u", cfg->rules[i].file,
			    cfg->rules[i].line);
		else
			origin = xstrdup(cfg->rules[i].file != NULL ?
			    cfg->rules[i].file : "command line");
		if (rules_add(rs, cfg->rules[i].text, origin, &why) == -1) {
			xasprintf(cause, "%s: rule: %s", origin, why);
			free(why);
			free(origin);
			rules_free(rs);
			return (NULL);
		}
		free(origin);
	}
	return (rs);
}

/*
 * The rule hook of every session.  It goes through the server so that a
 * SIGHUP reload (which replaces s->rules) reaches open sessions too.
 */
static void
server_check_cb(void *arg, enum smtp_stage stage, const char *value,
    smtp_header_fn header, void *harg, int *cursor, struct smtp_verdict *out)
{
	struct server	*s = arg;

	rules_check(s->rules, stage, value, header, harg, cursor, out);
}

/*
 * SIGHUP: read the config file and the command line again and swap in
 * the new rules.  A bad file keeps the old rules; counters of rules that
 * did not change carry over (rules_reload).
 */
static void
server_reload(struct server *s)
{
	struct config	 cfg;
	struct rules	*rs;
	char		*cause = NULL;
	int		 kept;

	conf_init(&cfg);
	if (cli_config_load(&cfg, s->argc, s->argv, &cause) == -1 ||
	    (rs = server_rules_build(s, &cfg, &cause)) == NULL) {
		log_warnx("server reload failed, keeping the old rules: %s",
		    cause);
		free(cause);
		conf_clear(&cfg);
		return;
	}
	kept = rules_reload(rs, s->rules);
	rules_free(s->rules);
	s->rules = rs;
	log_info("server reload rules=%zu unchanged=%d magic-addresses=%s",
	    rules_count(rs), kept, cfg.magic_addresses ? "on" : "off");
	conf_clear(&cfg);
}

/*
 * Create the server from cfg: the event base, the store and the policy.
 * Nothing is bound yet.  Returns NULL with *cause on failure.
 */
struct server *
server_new(const struct config *cfg, int argc, char **argv, char **cause)
{
	struct server	*s;

	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->argc = argc;
	s->argv = argv;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->committing);
	s->sid_seed = server_seed();
	if ((s->base = event_base_new()) == NULL) {
		xasprintf(cause, "event_base_new failed");
		free(s);
		return (NULL);
	}
	if (cfg->hostname != NULL)
		strlcpy(s->hostname, cfg->hostname, sizeof(s->hostname));
	else if (gethostname(s->hostname, sizeof(s->hostname)) == -1 ||
	    s->hostname[0] == '\0')
		strlcpy(s->hostname, "localhost", sizeof(s->hostname));
	s->hostname[sizeof(s->hostname) - 1] = '\0';

	if (event_base_priority_init(s->base, SERVER_PRIORITIES) == -1)
		fatalx("server_new: event_base_priority_init failed");
	if ((s->commit_ev = event_new(s->base, -1, 0, conn_batch_cb, s)) ==
	    NULL || (s->commit_timer = evtimer_new(s->base, conn_batch_cb,
	    s)) == NULL || (s->index_ev = evtimer_new(s->base,
	    server_index_cb, s)) == NULL ||
	    event_priority_set(s->commit_ev, SERVER_PRIO_COMMIT) == -1 ||
	    event_priority_set(s->index_ev, SERVER_PRIO_INDEX) == -1)
		fatalx("server_new: event_new failed");
	s->commit_wait.tv_sec = 0;
	s->commit_wait.tv_usec = SERVER_COMMIT_WAIT_MS * 1000;
	s->lazy_wait.tv_sec = 0;
	s->lazy_wait.tv_usec = SERVER_LAZY_WAIT_MS * 1000;
	mime_init();
	if ((s->store = store_open(cfg->db, 0, cause)) == NULL) {
		event_free(s->commit_ev);
		event_free(s->commit_timer);
		event_free(s->index_ev);
		event_base_free(s->base);
		free(s);
		return (NULL);
	}

	s->policy.hostname = s->hostname;
	s->policy.max_size = cfg->max_size;
	s->policy.max_recipients = (unsigned)cfg->max_recipients;

	/* TLS: needed for STARTTLS and for --smtps listeners. */
	s->policy.starttls = cfg->starttls;
	if (cfg->starttls != SMTP_STARTTLS_OFF || cfg->nsmtps > 0) {
		if ((s->tls = tls_new(cfg->tls_cert, cfg->tls_key,
		    s->hostname, cause)) == NULL)
			goto fail;
		log_info("server tls certificate=%s sha256=%s",
		    tls_self_signed(s->tls) ? "self-signed" : cfg->tls_cert,
		    tls_fingerprint(s->tls));
	}

	/* AUTH: off, any credential, or a user:password file. */
	if (cfg->auth == NULL || strcmp(cfg->auth, "off") == 0)
		s->policy.auth = SMTP_AUTH_OFF;
	else {
		if (strcmp(cfg->auth, "any") == 0) {
			s->authdb = authdb_any();
			s->policy.auth = SMTP_AUTH_ANY;
		} else {
			if ((s->authdb = authdb_load(cfg->auth, cause)) ==
			    NULL)
				goto fail;
			s->policy.auth = SMTP_AUTH_FILE;
			log_info("server auth file=%s users=%zu", cfg->auth,
			    authdb_count(s->authdb));
		}
		authdb_set_hostname(s->authdb, s->hostname);
		s->policy.auth_check = authdb_check;
		s->policy.auth_arg = s->authdb;
		s->policy.challenge = authdb_challenge;
		s->policy.challenge_arg = s->authdb;
	}
	if (cfg->auth_required && s->policy.auth == SMTP_AUTH_OFF) {
		xasprintf(cause, "auth-required needs auth any or a file,"
		    " not off");
		goto fail;
	}
	s->policy.auth_required = cfg->auth_required;

	/* Reject rules and magic addresses, reached through the server. */
	s->rule_seed = cfg->has_rule_seed ? cfg->rule_seed : server_seed();
	if ((s->rules = server_rules_build(s, cfg, cause)) == NULL)
		goto fail;
	log_info("server rules count=%zu seed=%llu magic-addresses=%s",
	    rules_count(s->rules), (unsigned long long)s->rule_seed,
	    cfg->magic_addresses ? "on" : "off");
	s->policy.check = server_check_cb;
	s->policy.check_arg = s;
	return (s);
fail:
	server_free(s);
	return (NULL);
}

/* Bind every listener.  -1 with *cause. */
int
server_listen(struct server *s, char **cause)
{
	struct listener	*l;
	size_t		 i, n;

	server_signals(s);
	n = s->cfg->nsmtp + s->cfg->nsmtps;
	s->listeners = xcalloc(n > 0 ? n : 1, sizeof(*s->listeners));
	for (i = 0; i < s->cfg->nsmtp; i++) {
		if ((l = listener_new(s, s->cfg->smtp[i], 0, cause)) == NULL)
			return (-1);
		s->listeners[s->nlisteners++] = l;
	}
	for (i = 0; i < s->cfg->nsmtps; i++) {
		if ((l = listener_new(s, s->cfg->smtps[i], 1, cause)) == NULL)
			return (-1);
		s->listeners[s->nlisteners++] = l;
	}
	return (0);
}

/*
 * Print the listening: lines, once the server is ready for clients
 * (bound, store open, privileges dropped), and flush them at once.
 */
void
server_announce(struct server *s)
{
	size_t	i;

	for (i = 0; i < s->nlisteners; i++) {
		printf("listening: %s %s\n", listener_kind(s->listeners[i]),
		    listener_address(s->listeners[i]));
		log_info("server listening kind=%s address=%s",
		    listener_kind(s->listeners[i]),
		    listener_address(s->listeners[i]));
	}
	fflush(stdout);
}

/*
 * Messages were committed: index them once the loop has time.  The delay
 * lets a burst collect into few index transactions; the low priority
 * keeps the indexer out of turns that have sessions to serve.
 */
void
server_index_soon(struct server *s)
{
	struct timeval	tv = { 0, SERVER_INDEX_DELAY_MS * 1000 };

	if (!evtimer_pending(s->index_ev, NULL) &&
	    evtimer_add(s->index_ev, &tv) == -1)
		log_warnx("server: evtimer_add failed");
}

/* The indexer's turn: one chunk, and another turn while any are left. */
static void
server_index_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	struct timeval	 tv = { 0, 0 };
	char		*cause = NULL;
	int		 rc;

	if (store_batch_open(s->store)) {
		/* A group commit is open: come back after it. */
		tv.tv_usec = SERVER_INDEX_DELAY_MS * 1000;
		rc = 1;
	} else if ((rc = store_index(s->store, SERVER_INDEX_MSGS,
	    &cause)) == -1) {
		/* Readers index for themselves; try again after a commit. */
		log_warnx("store index: %s", cause);
		free(cause);
	}
	if (rc == 1 && evtimer_add(s->index_ev, &tv) == -1)
		log_warnx("server: evtimer_add failed");
}

/* Make a 16-hex-digit session id (unique within this process). */
void
server_session_id(struct server *s, char *out, size_t outsz)
{
	uint64_t	x;

	/* splitmix64 of seed + counter: distinct, and not guessable order. */
	x = s->sid_seed + (++s->sid_counter) * 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	snprintf(out, outsz, "%016llx", (unsigned long long)x);
}

/* A connection went away; during a stop, end the loop once all are gone. */
void
server_conn_closed(struct server *s, struct conn *c)
{
	if (s->stopping && s->nconns == 0)
		event_base_loopexit(s->base, NULL);
}

/* Begin the stop sequence. */
static void
server_stop(struct server *s)
{
	struct timeval	tv = { 0, SERVER_DRAIN_POLL_MS * 1000 };
	size_t		i;

	if (s->stopping) {
		/* A second signal: stop now. */
		conn_shutdown_all(s, 1);
		event_base_loopexit(s->base, NULL);
		return;
	}
	s->stopping = 1;
	for (i = 0; i < s->nlisteners; i++)
		listener_enable(s->listeners[i], 0);
	conn_shutdown_all(s, 0);
	if (s->nconns == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	s->drain_started = time(NULL);
	evtimer_add(s->drain_timer, &tv);
}

static void
server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	struct timeval	 tv = { 0, SERVER_DRAIN_POLL_MS * 1000 };

	/* Sessions that finished their transaction meanwhile go now. */
	conn_shutdown_all(s, 0);
	if (s->nconns == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	if (time(NULL) - s->drain_started >= SERVER_DRAIN_SEC) {
		log_info("server stop: closing %u busy session(s)",
		    conn_count_busy(s));
		conn_shutdown_all(s, 1);
		event_base_loopexit(s->base, NULL);
		return;
	}
	evtimer_add(s->drain_timer, &tv);
}

static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*s = arg;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
		log_info("server stopping signal=%s",
		    sig == SIGINT ? "INT" : "TERM");
		server_stop(s);
		break;
	case SIGHUP:
		server_reload(s);
		break;
	default:
		log_warnx("server unexpected signal %d", (int)sig);
	}
}

/*
 * Install the signal events.  Done before any listening: line is printed,
 * so a script that signals the server as soon as it sees the line never
 * meets the default action (SIGHUP would kill the process).
 */
static void
server_signals(struct server *s)
{
	signal(SIGPIPE, SIG_IGN);
	s->sig_int = evsignal_new(s->base, SIGINT, server_signal_cb, s);
	s->sig_term = evsignal_new(s->base, SIGTERM, server_signal_cb, s);
	s->sig_hup = evsignal_new(s->base, SIGHUP, server_signal_cb, s);
	s->drain_timer = evtimer_new(s->base, server_drain_cb, s);
	if (s->sig_int == NULL || s->sig_term == NULL || s->sig_hup == NULL ||
	    s->drain_timer == NULL)
		fatalx("server_signals: cannot create events");
	if (evsignal_add(s->sig_int, NULL) == -1 ||
	    evsignal_add(s->sig_term, NULL) == -1 ||
	    evsignal_add(s->sig_hup, NULL) == -1)
		fatalx("server_signals: cannot add signal events");
}

/* Run the loop until a stop signal; returns 0 on a clean stop. */
int
server_run(struct server *s)
{
	if (event_base_dispatch(s->base) == -1) {
		log_warnx("server event loop failed");
		return (-1);
	}
	log_info("server stopped");
	return (0);
}

/* Close everything: connections, listeners, store, loop. */
void
server_free(struct server *s)
{
	size_t	i;

	if (s == NULL)
		return;
	/* Whatever the last loop turn wrote is committed before we go. */
	if (s->store != NULL)
		conn_batch_flush(s);
	while (!TAILQ_EMPTY(&s->conns))
		conn_free(TAILQ_FIRST(&s->conns));
	if (s->store != NULL)
		conn_batch_flush(s);
	for (i = 0; i < s->nlisteners; i++)
		listener_free(s->listeners[i]);
	free(s->listeners);
	if (s->sig_int != NULL)
		event_free(s->sig_int);
	if (s->sig_term != NULL)
		event_free(s->sig_term);
	if (s->sig_hup != NULL)
		event_free(s->sig_hup);
	if (s->drain_timer != NULL)
		event_free(s->drain_timer);
	store_close(s->store);
	if (s->commit_ev != NULL)
		event_free(s->commit_ev);
	if (s->commit_timer != NULL)
		event_free(s->commit_timer);
	if (s->index_ev != NULL)
		event_free(s->index_ev);
	tls_free(s->tls);
	authdb_free(s->authdb);
	rules_free(s->rules);
	event_base_free(s->base);
	free(s);
}
