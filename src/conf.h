/*
 * conf.h - configuration: directives from the config file and the command
 * line, merged into one struct config.
 *
 * Pure core: the shell reads the file and hands its text here.  Every
 * long option of `mailsink serve` is a directive of the same name without
 * the dashes (CONTRACT "Serving").  A command-line value overrides the
 * file's; for repeatable directives (smtp, smtps) the first command-line
 * value replaces the file's list, except `rule`, whose command-line values
 * are appended after the file's.  Errors name FILE:LINE:COL and the word.
 */
#ifndef MAILSINK_CONF_H
#define MAILSINK_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum conf_source {
	CONF_SRC_DEFAULT = 0,
	CONF_SRC_FILE,
	CONF_SRC_CLI
};

/* A rule line with where it came from, for error messages and reload. */
struct conf_rule {
	char	*text;		/* the rule, without the leading "rule" */
	char	*file;		/* config file, or "command line" */
	unsigned line;		/* line in file (0 for the command line) */
	enum conf_source source; /* file rules sort before CLI rules */
};

struct config {
	char		**smtp;		/* "ADDR:PORT" listeners */
	size_t		  nsmtp;
	char		**smtps;	/* implicit-TLS listeners */
	size_t		  nsmtps;
	char		 *http;		/* "ADDR:PORT" or "off" */
	char		 *db;		/* store path or ":memory:" */
	char		 *hostname;	/* NULL: the machine's host name */
	uint64_t	  max_size;	/* octets */
	uint64_t	  max_recipients;
	uint64_t	  max_connections;
	uint64_t	  timeout;	/* seconds */
	char		 *tls_cert;
	char		 *tls_key;
	int		  starttls;	/* SMTP_STARTTLS_* values: 0 off, 1 on,
					   2 required */
	char		 *auth;		/* "off", "any" or a file path */
	int		  auth_required;
	struct conf_rule *rules;
	size_t		  nrules;
	uint64_t	  max_messages;	/* 0 keeps all */
	enum log_level	  log_level;
	int		  transcript;	/* -v */
	int		  magic_addresses;
	int		  has_rule_seed;
	uint64_t	  rule_seed;
	char		 *user;		/* drop privileges to this user */
	char		 *config_file;	/* --config, or NULL */

	/* Private: where each scalar directive was last set from. */
	unsigned char	  src[64];
};

void	conf_init(struct config *);
void	conf_clear(struct config *);
int	conf_set(struct config *, const char *, const char *,
	    enum conf_source, char **);
int	conf_parse(struct config *, const char *, size_t, const char *,
	    char **);
int	conf_is_flag(const char *);
int	conf_is_known(const char *);
const char *const *conf_directives(void);
int	conf_check(const struct config *, char **);
char	*conf_dump(const struct config *);
const char *conf_help(void);

#endif /* MAILSINK_CONF_H */
