/*
 * cli_config.c - build the effective configuration of `serve` and
 * `check-config`: defaults, then --config FILE, then the other options.
 *
 * Shell: this is where the config file is read and the host name asked
 * for; conf.c does the parsing and validation.  The command line is
 * walked twice with the same rules, first for --config alone and then for
 * everything else, so `--smtp X --config F` still lets X win over F's
 * smtp lines (conf.c ranks values by source as well).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authdb.h"
#include "cli.h"
#include "conf.h"
#include "tls.h"
#include "xmalloc.h"

#define CLI_CONFIG_FILE_MAX	(4 * 1024 * 1024)	/* bytes; a config
							   file is text */
#define CLI_CONFIG_HOST_MAX	256			/* gethostname() */

static int	cli_config_read(const char *, char **, size_t *, char **);
static int	cli_config_scan(struct config *, int, char **, int, char **);

/*
 * Read the whole of path into an allocated buffer (not NUL-terminated).
 * Returns 0, or -1 with *cause "PATH: reason".
 */
static int
cli_config_read(const char *path, char **text, size_t *len, char **cause)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 n = 0, cap = 0, got;
	int	 saved;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		if (cap - n < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > CLI_CONFIG_FILE_MAX) {
			xasprintf(cause, "%s: file too large (over %d bytes)",
			    path, CLI_CONFIG_FILE_MAX);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		saved = errno;
		xasprintf(cause, "%s: %s", path, strerror(saved));
		goto fail;
	}
	fclose(f);
	*text = buf;
	*len = n;
	return (0);
fail:
	fclose(f);
	free(buf);
	return (-1);
}

/*
 * Walk the options.  Pass 0 applies only --config, pass 1 everything
 * else, so both passes reject the same mistakes in the same place.
 * Returns 0, or -1 with *cause set.
 */
static int
cli_config_scan(struct config *cfg, int argc, char **argv, int pass,
    char **cause)
{
	const char	*arg, *value;
	char		*name, *problem, *eq;
	int		 i, seen_config = 0, ret;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 < argc) {
				xasprintf(cause, "unexpected argument '%s'",
				    argv[i + 1]);
				return (-1);
			}
			break;
		}
		if (strcmp(arg, "-v") == 0) {
			name = xstrdup("transcript");
			value = NULL;
		} else if (strncmp(arg, "--", 2) == 0) {
			name = xstrdup(arg + 2);
			if ((eq = strchr(name, '=')) != NULL)
				*eq = '\0';
			if (!conf_is_known(name)) {
				xasprintf(cause, "unknown option '--%s'",
				    name);
				free(name);
				return (-1);
			}
			if (eq != NULL)
				value = arg + 2 + (eq - name) + 1;
			else if (conf_is_flag(name))
				value = NULL;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				xasprintf(cause, "option '--%s' needs a value",
				    name);
				free(name);
				return (-1);
			}
		} else if (arg[0] == '-' && arg[1] != '\0') {
			xasprintf(cause, "unknown option '%s'", arg);
			return (-1);
		} else {
			xasprintf(cause, "unexpected argument '%s'", arg);
			return (-1);
		}

		ret = 0;
		if (strcmp(name, "config") == 0) {
			if (seen_config++) {
				xasprintf(cause, "option '--config' given"
				    " twice");
				ret = -1;
			}
			if (ret == 0 && pass == 0) {
				ret = conf_set(cfg, name, value, CONF_SRC_CLI,
				    &problem);
				if (ret == -1) {
					xasprintf(cause, "--%s", problem);
					free(problem);
				}
			}
		} else if (pass == 1) {
			ret = conf_set(cfg, name, value, CONF_SRC_CLI,
			    &problem);
			if (ret == -1) {
				/* conf_set's message starts "NAME: ". */
				xasprintf(cause, "--%s", problem);
				free(problem);
			}
		}
		free(name);
		if (ret == -1)
			return (-1);
	}
	return (0);
}

/*
 * Build the effective configuration of `serve` from argv (argv[0] is the
 * command name) into cfg, which the caller has conf_init()ed to the
 * defaults: the file named by --config, then every other option in order,
 * then the machine's host name if none was given, then conf_check().
 * The caller conf_clear()s cfg afterwards, whatever the result.  Returns
 * 0, or -1 with *cause (allocated, caller frees) ready to print after
 * "mailsink: ": "FILE:LINE:COL: problem" for the file, "--NAME: problem"
 * or "unknown option '--x'" for the command line.  --help is not handled
 * here: callers look for it first (cli_is_help).
 */
int
cli_config_load(struct config *cfg, int argc, char **argv, char **cause)
{
	char	*text = NULL, host[CLI_CONFIG_HOST_MAX + 1];
	size_t	 len;
	int	 ret = -1;

	*cause = NULL;
	if (cli_config_scan(cfg, argc, argv, 0, cause) == -1)
		goto out;
	if (cfg->config_file != NULL) {
		if (cli_config_read(cfg->config_file, &text, &len,
		    cause) == -1)
			goto out;
		if (conf_parse(cfg, text, len, cfg->config_file, cause) == -1)
			goto out;
	}
	if (cli_config_scan(cfg, argc, argv, 1, cause) == -1)
		goto out;

	/* The contract's default for --hostname is the machine's name. */
	if (cfg->hostname == NULL) {
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) == -1 ||
		    host[0] == '\0')
			strlcpy(host, "localhost", sizeof(host));
		cfg->hostname = xstrdup(host);
	}
	if (conf_check(cfg, cause) == -1)
		goto out;
	ret = 0;
out:
	free(text);
	return (ret);
}

/*
 * What serve checks at start beyond the syntax: the TLS pair loads and
 * matches, the credentials file parses, the user exists.  Returns 0, or
 * -1 with *cause naming the file (caller frees).  Used by check-config
 * and by serve, so both call these configuration errors (exit 2).
 */
int
cli_config_verify(const struct config *cfg, char **cause)
{
	struct authdb	*db;
	struct tls	*t;

	if (cfg->tls_cert != NULL || cfg->tls_key != NULL) {
		if ((t = tls_new(cfg->tls_cert, cfg->tls_key, "localhost",
		    cause)) == NULL)
			return (-1);
		tls_free(t);
	}
	if (cfg->auth != NULL && strcmp(cfg->auth, "off") != 0 &&
	    strcmp(cfg->auth, "any") != 0) {
		if ((db = authdb_load(cfg->auth, cause)) == NULL)
			return (-1);
		authdb_free(db);
	}
	if (cfg->user != NULL && getpwnam(cfg->user) == NULL) {
		xasprintf(cause, "user: unknown user '%s'", cfg->user);
		return (-1);
	}
	return (0);
}
