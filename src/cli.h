/*
 * cli.h - the subcommands and what they share.
 *
 * Shell.  Each command is int cmd_NAME(int argc, char **argv) with argv[0]
 * the command name, returning the process exit code: CLI_EXIT_OK,
 * CLI_EXIT_NOTFOUND (not found / timed out / nothing matched, and for
 * serve a runtime failure at start) or CLI_EXIT_USAGE.
 */
#ifndef MAILSINK_CLI_H
#define MAILSINK_CLI_H

#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_OK		0
#define CLI_EXIT_NOTFOUND	1
#define CLI_EXIT_USAGE		2

#define CLI_DEFAULT_DB		"mailsink.db"

struct config;
struct store;

int	cmd_serve(int, char **);
int	cmd_list(int, char **);
int	cmd_show(int, char **);
int	cmd_wait(int, char **);
int	cmd_delete(int, char **);
int	cmd_sessions(int, char **);
int	cmd_export(int, char **);
int	cmd_check_config(int, char **);

struct store *cli_open_store(const char *, int *);
int	cli_parse_id(struct store *, const char *, int64_t *);
void	cli_usage_error(const char *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
int	cli_bad_option(const char *, int, char **);
char	*cli_sanitise(const char *);
int	cli_is_help(const char *);

/* cli_config.c: defaults, then --config FILE, then the other options. */
int	cli_config_load(struct config *, int, char **, char **);
int	cli_config_verify(const struct config *, char **);

#endif /* MAILSINK_CLI_H */
