/*
 * cmd_check_config.c - `mailsink check-config [--config FILE] [OPTIONS]`.
 *
 * Shell.  Builds the configuration exactly as `serve` does
 * (cli_config_load) and then checks what serve would trip over at start
 * without binding anything: that the TLS and credentials files can be
 * read and that the user exists.  On success it prints the effective
 * settings as config-file text, so the output can be kept as a config.
 * Exit codes follow the contract: 0 good, 2 anything wrong, with one line
 * on stderr.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "xmalloc.h"

/*
 * `check-config`: argv[0] is "check-config".  Prints "FILE: ok" (or
 * "configuration ok" without --config) and the effective settings on
 * stdout and returns CLI_EXIT_OK, or prints "mailsink: problem" on stderr
 * and returns CLI_EXIT_USAGE.
 */
int
cmd_check_config(int argc, char **argv)
{
	struct config	 cfg;
	char		*cause = NULL, *dump;
	int		 i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: mailsink check-config [--config FILE]"
			    " [OPTIONS]\n\nLoad the configuration as `mailsink"
			    " serve` would, report the first\nproblem (FILE:"
			    "LINE:COL) and exit 2, or print the effective"
			    " settings\nand exit 0.\n\n%s", conf_help());
			return (CLI_EXIT_OK);
		}
	}

	conf_init(&cfg);
	if (cli_config_load(&cfg, argc, argv, &cause) == -1 ||
	    cli_config_verify(&cfg, &cause) == -1) {
		fprintf(stderr, "mailsink: %s\n", cause);
		free(cause);
		conf_clear(&cfg);
		return (CLI_EXIT_USAGE);
	}

	if (cfg.config_file != NULL)
		printf("%s: ok\n", cfg.config_file);
	else
		printf("configuration ok\n");
	dump = conf_dump(&cfg);
	fputs(dump, stdout);
	free(dump);
	conf_clear(&cfg);
	return (CLI_EXIT_OK);
}
