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
	if (cfg->user != NULL)
		log_warnx("serve: user %s: dropping privileges is not"
		    " available yet", cfg->user);
	else if (geteuid() == 0)
		log_warnx("serve: running as root; a later release drops"
		    " privileges with --user NAME");
}

int
cmd_serve(int argc, char **argv)
{
	struct config	 cfg;
	struct server	*server;
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
	if (cli_config_load(&cfg, argc, argv, &cause) == -1) {
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		conf_clear(&cfg);
		return (CLI_EXIT_USAGE);
	}
	log_init(cfg.log_level, cfg.transcript);
	cmd_serve_not_yet(&cfg);

	if ((server = server_new(&cfg, argc, argv, &cause)) == NULL) {
		log_error("serve: %s", cause);
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		conf_clear(&cfg);
		return (CLI_EXIT_NOTFOUND);
	}
	if (server_listen(server, &cause) == -1) {
		log_error("serve: %s", cause);
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		server_free(server);
		conf_clear(&cfg);
		return (CLI_EXIT_NOTFOUND);
	}
	rc = server_run(server) == 0 ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
	server_free(server);
	conf_clear(&cfg);
	return (rc);
}
