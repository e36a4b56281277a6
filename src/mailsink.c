/*
 * mailsink.c - main(): the subcommand table and exit codes, nothing else.
 *
 * With no command, or with an option first, mailsink serves
 * (CONTRACT "The program": `mailsink [serve] [OPTIONS]`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compat.h"

struct mailsink_cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*synopsis;
};

static const struct mailsink_cmd mailsink_cmds[] = {
	{ "serve", cmd_serve, "[OPTIONS]" },
	{ "list", cmd_list, "[--db PATH] [--json] [--limit N] [QUERY]" },
	{ "show", cmd_show,
	    "[--db PATH] [--raw | --headers | --json | --transcript] ID" },
	{ "wait", cmd_wait,
	    "[--db PATH] [--timeout SECONDS] [--count N] [QUERY]" },
	{ "delete", cmd_delete, "[--db PATH] (ID... | --all)" },
	{ "sessions", cmd_sessions,
	    "[--db PATH] [--json] [--rejected] [--limit N]" },
	{ "export", cmd_export,
	    "[--db PATH] (--mbox FILE | --dir DIR) [QUERY]" },
	{ "check-config", cmd_check_config, "[--config FILE] [OPTIONS]" },
};

static void
mailsink_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: mailsink [serve] [OPTIONS]\n");
	for (i = 1; i < MS_NITEMS(mailsink_cmds); i++)
		fprintf(f, "       mailsink %s %s\n", mailsink_cmds[i].name,
		    mailsink_cmds[i].synopsis);
	fprintf(f, "       mailsink --help | COMMAND --help | --version\n"
	    "\nA local SMTP sink for development and tests: it accepts mail"
	    " like a real\nserver, stores every message in SQLite and lets"
	    " you inspect it.\nRun `mailsink serve --help` for the server's"
	    " options.\n");
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (argc >= 2) {
		if (strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "-V") == 0) {
			printf("mailsink %s\n", PACKAGE_VERSION);
			return (CLI_EXIT_OK);
		}
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "help") == 0) {
			mailsink_usage(stdout);
			return (CLI_EXIT_OK);
		}
		for (i = 0; i < MS_NITEMS(mailsink_cmds); i++) {
			if (strcmp(argv[1], mailsink_cmds[i].name) == 0)
				return (mailsink_cmds[i].fn(argc - 1,
				    argv + 1));
		}
		if (argv[1][0] != '-') {
			fprintf(stderr, "mailsink: unknown command '%s'"
			    " (try mailsink --help)\n", argv[1]);
			return (CLI_EXIT_USAGE);
		}
	}
	/* No command, or options first: serve with argv[0] as its name. */
	return (cmd_serve(argc, argv));
}
