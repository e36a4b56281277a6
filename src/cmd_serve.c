/*
 * cmd_serve.c - `mailsink [serve] [OPTIONS]`: load the configuration, open
 * the store, bind the listeners and run the loop.
 *
 * Exit codes (CONTRACT): 2 for a usage or configuration error, 1 when the
 * server cannot start (port in use, store unusable), 0 after a clean stop.
 * Options whose feature arrives with a later issue are accepted so that
 * scripts written against the contract keep working; each gets one log
 * line saying it is not available yet.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "server.h"
#include "xmalloc.h"

/* Log one line for each option whose feature has not landed yet. */
static void
cmd_serve_not_yet(const struct config *cfg)
{
	if (cfg->http != NULL && strcmp(cfg->http, "off") != 0)
		log_info("serve: http %s: the web UI and REST API are not"
		    " available yet", cfg->http);
	if (cfg->user == NULL && geteuid() == 0)
		log_warnx("serve: running as root; add --user NAME to drop"
		    " privileges after binding the ports");
}

/*
 * --user: after the ports are bound and the store is open, and before any
 * client byte is read, become that user and its groups.  The store's files
 * are handed over first so the user can keep writing them.
 */
static int
cmd_serve_drop(const char *user, const char *db, char **cause)
{
	static const char	*suffixes[] = { "", "-wal", "-shm" };
	struct passwd		*pw;
	char			*path;
	size_t			 i;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		xasprintf(cause, "--user %s: %s", user, errno != 0 ?
		    strerror(errno) : "no such user");
		return (-1);
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return (0);
		xasprintf(cause, "--user %s: only root can change user", user);
		return (-1);
	}
	if (strcmp(db, ":memory:") != 0) {
		for (i = 0; i < MS_NITEMS(suffixes); i++) {
			xasprintf(&path, "%s%s", db, suffixes[i]);
			if (chown(path, pw->pw_uid, pw->pw_gid) == -1 &&
			    errno != ENOENT) {
				xasprintf(cause, "--user %s: chown %s: %s",
				    user, path, strerror(errno));
				free(path);
				return (-1);
			}
			free(path);
		}
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		xasprintf(cause, "--user %s: %s", user, strerror(errno));
		return (-1);
	}
	/* Make sure there is no way back. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		xasprintf(cause, "--user %s: could regain root", user);
		return (-1);
	}
	log_info("serve: running as user=%s uid=%u gid=%u", pw->pw_name,
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return (0);
}

int
cmd_serve(int argc, char **argv)
{
	struct config	 cfg;
	struct server	*server = NULL;
	char		*cause = NULL;
	int		 i, rc;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: mailsink [serve] [OPTIONS]\n\n"
			    "Run the SMTP sink in the foreground.\n\n");
			fputs(conf_help(), stdout);
			return (CLI_EXIT_OK);
		}
	}
	conf_init(&cfg);
	/* Configuration errors are usage errors (2); start failures, 1. */
	rc = CLI_EXIT_USAGE;
	if (cli_config_load(&cfg, argc, argv, &cause) == -1 ||
	    cli_config_verify(&cfg, &cause) == -1)
		goto fail;
	log_init(cfg.log_level, cfg.transcript);
	cmd_serve_not_yet(&cfg);

	rc = CLI_EXIT_NOTFOUND;
	if ((server = server_new(&cfg, argc, argv, &cause)) == NULL ||
	    server_listen(server, &cause) == -1 ||
	    (cfg.user != NULL &&
	    cmd_serve_drop(cfg.user, cfg.db, &cause) == -1)) {
		log_error("serve: %s", cause);
		goto fail;
	}
	server_announce(server);
	rc = server_run(server) == 0 ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
	server_free(server);
	conf_clear(&cfg);
	return (rc);

fail:
	fprintf(stderr, "mailsink: %s\n", cause);
	free(cause);
	server_free(server);
	conf_clear(&cfg);
	return (rc);
}
