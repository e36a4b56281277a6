/*
 * conf.c - configuration directives: defaults, the config file's lexer,
 * and the merge of command-line options over the file.
 *
 * Pure core: the shell reads the file and hands its bytes to conf_parse();
 * nothing here opens files, looks at the clock or asks for the host name.
 * One table (conf_table) names every directive once; conf_set() validates
 * a value against its entry and stores it, and the file parser and the
 * command line both go through it, so `--max-size 9X` and `max-size 9X`
 * fail the same way.
 *
 * Precedence is by source, not by call order: a value from the command
 * line is never overwritten by one from the file, whichever came first
 * (a SIGHUP reload may parse the file again).  The first command-line
 * `smtp` (or `smtps`) replaces the list that came from the file or the
 * defaults, later ones append.  Rules always append, but file rules sort
 * before command-line rules, as the contract says.
 *
 * The file format is line-based: "name value", '#' starts a comment
 * outside double quotes, and a quoted value may hold spaces with \" and
 * \\ as its only escapes (any other backslash is kept, as in sh(1)).
 * `rule` takes the rest of its line verbatim, quotes included, because the
 * rule grammar (rules_parse.c) reads its own quoted TEXT.  Every error
 * names FILE:LINE:COL and, where there is one, the offending word.  There
 * is no line length limit: words are copied out of the caller's buffer.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "rules_parse.h"
#include "units.h"
#include "xmalloc.h"

#define CONF_DEFAULT_SMTP	"127.0.0.1:1025"
#define CONF_DEFAULT_HTTP	"127.0.0.1:8025"
#define CONF_DEFAULT_DB		"mailsink.db"
#define CONF_DEFAULT_MAX_SIZE	(25ULL * 1024 * 1024)	/* "25M" */
#define CONF_DEFAULT_MAX_RCPT	1000
#define CONF_DEFAULT_MAX_CONN	1000
#define CONF_DEFAULT_TIMEOUT	300			/* seconds */
#define CONF_TIMEOUT_MAX	86400		/* seconds; a day is plenty and
						   keeps ms arithmetic small */
#define CONF_COUNT_MAX		1000000		/* max-recipients and
						   max-connections */
#define CONF_MESSAGES_MAX	((uint64_t)INT64_MAX)	/* SQLite rowids */
#define CONF_HOSTNAME_MAX	255		/* RFC 1035 2.3.4 */
#define CONF_PORT_MAX		65535
#define CONF_SHOW_MAX		60		/* bytes of a word quoted in an
						   error before "..." */
#define CONF_CLI_NAME		"command line"

enum conf_type {
	CONF_T_LISTEN,		/* smtp, smtps: list of ADDR:PORT, or off */
	CONF_T_HTTP,		/* ADDR:PORT or off */
	CONF_T_STRING,		/* a non-empty path or name */
	CONF_T_HOSTNAME,
	CONF_T_SIZE,
	CONF_T_UINT,		/* within [min, max] */
	CONF_T_SECONDS,		/* whole seconds within [min, max] */
	CONF_T_STARTTLS,
	CONF_T_AUTH,
	CONF_T_FLAG,		/* bare, or yes/no/on/off/true/false */
	CONF_T_ONOFF,
	CONF_T_RULE,
	CONF_T_SEED,
	CONF_T_LOGLEVEL,
	CONF_T_CONFIG
};

struct conf_directive {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* field in struct config */
	size_t		 noff;		/* CONF_T_LISTEN: its count field */
	uint64_t	 min;		/* CONF_T_UINT bounds */
	uint64_t	 max;
};

#define CONF_OFF(f)	offsetof(struct config, f)

static const struct conf_directive conf_table[] = {
	{ "smtp", CONF_T_LISTEN, CONF_OFF(smtp), CONF_OFF(nsmtp), 0, 0 },
	{ "smtps", CONF_T_LISTEN, CONF_OFF(smtps), CONF_OFF(nsmtps), 0, 0 },
	{ "http", CONF_T_HTTP, CONF_OFF(http), 0, 0, 0 },
	{ "db", CONF_T_STRING, CONF_OFF(db), 0, 0, 0 },
	{ "hostname", CONF_T_HOSTNAME, CONF_OFF(hostname), 0, 0, 0 },
	{ "max-size", CONF_T_SIZE, CONF_OFF(max_size), 0, 0, 0 },
	{ "max-recipients", CONF_T_UINT, CONF_OFF(max_recipients), 0,
	    1, CONF_COUNT_MAX },
	{ "max-connections", CONF_T_UINT, CONF_OFF(max_connections), 0,
	    1, CONF_COUNT_MAX },
	{ "timeout", CONF_T_SECONDS, CONF_OFF(timeout), 0,
	    1, CONF_TIMEOUT_MAX },
	{ "tls-cert", CONF_T_STRING, CONF_OFF(tls_cert), 0, 0, 0 },
	{ "tls-key", CONF_T_STRING, CONF_OFF(tls_key), 0, 0, 0 },
	{ "starttls", CONF_T_STARTTLS, CONF_OFF(starttls), 0, 0, 0 },
	{ "auth", CONF_T_AUTH, CONF_OFF(auth), 0, 0, 0 },
	{ "auth-required", CONF_T_FLAG, CONF_OFF(auth_required), 0, 0, 0 },
	{ "rule", CONF_T_RULE, 0, 0, 0, 0 },
	{ "rule-seed", CONF_T_SEED, CONF_OFF(rule_seed), 0, 0, 0 },
	{ "max-messages", CONF_T_UINT, CONF_OFF(max_messages), 0,
	    0, CONF_MESSAGES_MAX },
	{ "log-level", CONF_T_LOGLEVEL, CONF_OFF(log_level), 0, 0, 0 },
	{ "transcript", CONF_T_FLAG, CONF_OFF(transcript), 0, 0, 0 },
	{ "magic-addresses", CONF_T_ONOFF, CONF_OFF(magic_addresses), 0,
	    0, 0 },
	{ "user", CONF_T_STRING, CONF_OFF(user), 0, 0, 0 },
	{ "config", CONF_T_CONFIG, CONF_OFF(config_file), 0, 0, 0 },
};

/* conf_directives() hands out this list, in conf_table's order. */
static const char *const conf_names[] = {
	"smtp", "smtps", "http", "db", "hostname", "max-size",
	"max-recipients", "max-connections", "timeout", "tls-cert",
	"tls-key", "starttls", "auth", "auth-required", "rule", "rule-seed",
	"max-messages", "log-level", "transcript", "magic-addresses", "user",
	"config", NULL
};

/* struct config keeps one source byte per directive in src[]. */
_Static_assert(MS_NITEMS(conf_table) <= sizeof(((struct config *)0)->src),
    "struct config src[] too small for conf_table");
_Static_assert(MS_NITEMS(conf_table) + 1 == MS_NITEMS(conf_names),
    "conf_names out of step with conf_table");

/* Where a value came from, for rules and error messages. */
struct conf_where {
	enum conf_source source;
	const char	*file;		/* file name or CONF_CLI_NAME */
	unsigned	 line;		/* 0 outside a file */
};

/* One line of the file being lexed. */
struct conf_lex {
	const char	*p;		/* start of the line */
	size_t		 len;		/* without the LF or CRLF */
	size_t		 pos;		/* next byte to read */
};

static const struct conf_directive *conf_find(const char *);
static char	*conf_show(const char *);
static int	 conf_fail(char **, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static int	 conf_check_addr(const char *, char **);
static int	 conf_check_hostname(const char *);
static int	 conf_parse_bool(const char *, int, int *);
static void	 conf_set_string(char **, const char *);
static void	 conf_add_rule(struct config *, const char *,
		    const struct conf_where *);
static int	 conf_apply(struct config *, const struct conf_directive *,
		    const char *, const struct conf_where *, char **);
static int	 conf_lex_word(struct conf_lex *, char **, size_t *, char **);
static int	 conf_lex_rest(struct conf_lex *, char **, size_t *, char **);
static int	 conf_parse_line(struct config *, struct conf_lex *,
		    const struct conf_where *, size_t *, char **);
static void	 conf_dump_line(char **, size_t *, const char *);
static void	 conf_dump_value(char **, size_t *, const char *, const char *);

/* Find a directive by name, or NULL. */
static const struct conf_directive *
conf_find(const char *name)
{
	size_t	i;

	for (i = 0; i < MS_NITEMS(conf_table); i++) {
		if (strcmp(conf_table[i].name, name) == 0)
			return (&conf_table[i]);
	}
	return (NULL);
}

/*
 * A word as it appears inside an error message: control bytes written as
 * \xNN and long words cut (at a UTF-8 character boundary), so a binary
 * file cannot garble the terminal.  Returns an allocated string.
 */
static char *
conf_show(const char *word)
{
	static const char	 hex[] = "0123456789abcdef";
	char			*out, *q;
	size_t			 len, i;
	unsigned char		 c;

	len = strlen(word);
	if (len > CONF_SHOW_MAX) {
		len = CONF_SHOW_MAX;
		while (len > 0 && ((unsigned char)word[len] & 0xc0) == 0x80)
			len--;
	}
	out = q = xmalloc(len * 4 + sizeof("..."));
	for (i = 0; i < len; i++) {
		c = (unsigned char)word[i];
		if (c < 0x20 || c == 0x7f) {
			*q++ = '\\';
			*q++ = 'x';
			*q++ = hex[c >> 4];
			*q++ = hex[c & 0xf];
		} else
			*q++ = (char)c;
	}
	if (word[len] != '\0') {
		memcpy(q, "...", 3);
		q += 3;
	}
	*q = '\0';
	return (out);
}

/* Set *cause to a formatted message (if cause is not NULL); return -1. */
static int
conf_fail(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		xvasprintf(cause, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * Check "HOST:PORT" or "[IPV6]:PORT".  The host is required: a bare port
 * would leave open whether the user meant loopback or every interface,
 * and a sink must never listen on the network by accident.
 */
static int
conf_check_addr(const char *value, char **cause)
{
	const char	*colon, *host, *end, *p;
	char		*w;
	size_t		 hlen;
	unsigned long	 port;
	int		 ret = -1;

	w = conf_show(value);
	if (value[0] == '[') {
		host = value + 1;
		end = strchr(host, ']');
		if (end == NULL || end[1] != ':') {
			conf_fail(cause, "invalid address '%s' (expected"
			    " [IPV6]:PORT)", w);
			goto out;
		}
		colon = end + 1;
		hlen = end - host;
		if (hlen == 0 || memchr(host, ':', hlen) == NULL) {
			conf_fail(cause, "invalid IPv6 address '%s'", w);
			goto out;
		}
		for (p = host; p < end; p++) {
			if (!(*p >= '0' && *p <= '9') &&
			    !(*p >= 'a' && *p <= 'z') &&
			    !(*p >= 'A' && *p <= 'Z') &&
			    strchr(":.%-_", *p) == NULL) {
				conf_fail(cause, "invalid IPv6 address '%s'",
				    w);
				goto out;
			}
		}
	} else {
		host = value;
		colon = strrchr(value, ':');
		if (colon == NULL) {
			conf_fail(cause, "invalid address '%s' (expected"
			    " HOST:PORT)", w);
			goto out;
		}
		hlen = colon - host;
		if (hlen == 0) {
			conf_fail(cause, "missing host in '%s' (expected"
			    " HOST:PORT, e.g. 127.0.0.1:1025)", w);
			goto out;
		}
		if (memchr(host, ':', hlen) != NULL) {
			conf_fail(cause, "IPv6 address needs brackets '%s'"
			    " (expected [IPV6]:PORT)", w);
			goto out;
		}
		for (p = host; p < colon; p++) {
			if (!(*p >= '0' && *p <= '9') &&
			    !(*p >= 'a' && *p <= 'z') &&
			    !(*p >= 'A' && *p <= 'Z') &&
			    strchr(".-_", *p) == NULL) {
				conf_fail(cause, "invalid host in '%s'", w);
				goto out;
			}
		}
	}
	p = colon + 1;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p)) {
		conf_fail(cause, "invalid port in '%s' (expected HOST:PORT)",
		    w);
		goto out;
	}
	port = 0;
	for (; *p != '\0'; p++) {
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > CONF_PORT_MAX) {
			conf_fail(cause, "port out of range in '%s' (0 to"
			    " %d)", w, CONF_PORT_MAX);
			goto out;
		}
	}
	ret = 0;
out:
	free(w);
	return (ret);
}

/*
 * A host name for the banner: letters, digits, '.', '-', '_', or an
 * address literal in brackets.  Nothing that could break a reply line.
 */
static int
conf_check_hostname(const char *value)
{
	const char	*p;
	size_t		 len;

	len = strlen(value);
	if (len == 0 || len > CONF_HOSTNAME_MAX)
		return (-1);
	for (p = value; *p != '\0'; p++) {
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'a' && *p <= 'z') &&
		    !(*p >= 'A' && *p <= 'Z') && strchr(".-_[]:", *p) == NULL)
			return (-1);
	}
	return (0);
}

/*
 * A boolean word.  With bare set, NULL (a flag written alone) means yes.
 * Returns -1 on anything else.
 */
static int
conf_parse_bool(const char *value, int bare, int *out)
{
	static const char *yes[] = { "yes", "on", "true" };
	static const char *no[] = { "no", "off", "false" };
	size_t	i;

	if (value == NULL) {
		if (!bare)
			return (-1);
		*out = 1;
		return (0);
	}
	for (i = 0; i < MS_NITEMS(yes); i++) {
		if (strcmp(value, yes[i]) == 0) {
			*out = 1;
			return (0);
		}
		if (strcmp(value, no[i]) == 0) {
			*out = 0;
			return (0);
		}
	}
	return (-1);
}

/* Replace *field with a copy of value. */
static void
conf_set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/*
 * Add a rule, keeping file rules before command-line rules whatever the
 * order of the calls.  Rule text is trimmed of surrounding blanks.
 */
static void
conf_add_rule(struct config *cfg, const char *text,
    const struct conf_where *where)
{
	struct conf_rule	*r;
	size_t			 at, len;

	at = cfg->nrules;
	while (at > 0 && cfg->rules[at - 1].source > where->source)
		at--;
	cfg->rules = xreallocarray(cfg->rules, cfg->nrules + 1,
	    sizeof(*cfg->rules));
	memmove(&cfg->rules[at + 1], &cfg->rules[at],
	    (cfg->nrules - at) * sizeof(*cfg->rules));
	cfg->nrules++;

	text += strspn(text, " \t");
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	r = &cfg->rules[at];
	r->text = xstrndup(text, len);
	r->file = xstrdup(where->file);
	r->line = where->line;
	r->source = where->source;
}

/*
 * Validate value for directive d and store it if where->source is at
 * least the source of the current value.  Returns 0, or -1 with *cause
 * set to "NAME: problem".
 */
static int
conf_apply(struct config *cfg, const struct conf_directive *d,
    const char *value, const struct conf_where *where, char **cause)
{
	char		 *base = (char *)cfg, *w = NULL, *problem = NULL;
	char		 *rcause = NULL;
	struct rule	  rule;
	char		***list;
	size_t		 *count, i, idx;
	uint64_t	  u;
	enum log_level	  level;
	const char	 *p;
	int		  b, ival = 0, take, ret = -1;

	idx = d - conf_table;
	take = where->source >= cfg->src[idx];

	if (value == NULL && d->type != CONF_T_FLAG) {
		conf_fail(&problem, "missing value");
		goto fail;
	}
	if (value != NULL) {
		/* A rule's words may be tab-separated, as in the file. */
		for (p = value; *p != '\0'; p++) {
			if (*p == '\t' && d->type == CONF_T_RULE)
				continue;
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				conf_fail(&problem, "control character 0x%02x"
				    " in value", (unsigned char)*p);
				goto fail;
			}
		}
		w = conf_show(value);
	}

	switch (d->type) {
	case CONF_T_LISTEN:
		if (strcmp(value, "off") != 0 &&
		    conf_check_addr(value, &problem) == -1)
			goto fail;
		if (!take)
			break;
		list = (char ***)(base + d->off);
		count = (size_t *)(base + d->noff);
		if (where->source > cfg->src[idx] ||
		    strcmp(value, "off") == 0) {
			for (i = 0; i < *count; i++)
				free((*list)[i]);
			free(*list);
			*list = NULL;
			*count = 0;
		}
		if (strcmp(value, "off") != 0) {
			*list = xreallocarray(*list, *count + 1,
			    sizeof(**list));
			(*list)[(*count)++] = xstrdup(value);
		}
		break;
	case CONF_T_HTTP:
		if (strcmp(value, "off") != 0 &&
		    conf_check_addr(value, &problem) == -1)
			goto fail;
		if (take)
			conf_set_string((char **)(base + d->off), value);
		break;
	case CONF_T_STRING:
	case CONF_T_AUTH:
		if (*value == '\0') {
			conf_fail(&problem, "empty value");
			goto fail;
		}
		if (take)
			conf_set_string((char **)(base + d->off), value);
		break;
	case CONF_T_HOSTNAME:
		if (conf_check_hostname(value) == -1) {
			conf_fail(&problem, "invalid host name '%s'", w);
			goto fail;
		}
		if (take)
			conf_set_string((char **)(base + d->off), value);
		break;
	case CONF_T_SIZE:
		if (units_parse_size(value, &u) == -1) {
			conf_fail(&problem, "invalid size '%s' (expected a"
			    " number with an optional K, M or G)", w);
			goto fail;
		}
		if (take)
			*(uint64_t *)(base + d->off) = u;
		break;
	case CONF_T_UINT:
		if (units_parse_uint(value, d->max, &u) == -1 || u < d->min ||
		    u > d->max) {
			conf_fail(&problem, "invalid number '%s' (expected"
			    " %" PRIu64 " to %" PRIu64 ")", w, d->min, d->max);
			goto fail;
		}
		if (take)
			*(uint64_t *)(base + d->off) = u;
		break;
	case CONF_T_SECONDS:
		/* "300" is seconds; "5m" or "30s" read as well. */
		if (units_parse_duration_ms(value, &u) == -1 ||
		    u % 1000 != 0 || u / 1000 < d->min || u / 1000 > d->max) {
			conf_fail(&problem, "invalid value '%s' (expected"
			    " seconds from %" PRIu64 " to %" PRIu64 ")", w,
			    d->min, d->max);
			goto fail;
		}
		if (take)
			*(uint64_t *)(base + d->off) = u / 1000;
		break;
	case CONF_T_SEED:
		if (units_parse_uint(value, UINT64_MAX, &u) == -1) {
			conf_fail(&problem, "invalid number '%s' (expected"
			    " 0 to %" PRIu64 ")", w, UINT64_MAX);
			goto fail;
		}
		if (take) {
			cfg->rule_seed = u;
			cfg->has_rule_seed = 1;
		}
		break;
	case CONF_T_STARTTLS:
		if (strcmp(value, "off") == 0)
			ival = 0;
		else if (strcmp(value, "on") == 0)
			ival = 1;
		else if (strcmp(value, "required") == 0)
			ival = 2;
		else {
			conf_fail(&problem, "invalid value '%s' (expected"
			    " on, off or required)", w);
			goto fail;
		}
		if (take)
			*(int *)(base + d->off) = ival;
		break;
	case CONF_T_FLAG:
		if (conf_parse_bool(value, 1, &b) == -1) {
			conf_fail(&problem, "invalid value '%s' (expected"
			    " yes or no)", w);
			goto fail;
		}
		if (take)
			*(int *)(base + d->off) = b;
		break;
	case CONF_T_ONOFF:
		if (strcmp(value, "on") == 0)
			ival = 1;
		else if (strcmp(value, "off") == 0)
			ival = 0;
		else {
			conf_fail(&problem, "invalid value '%s' (expected"
			    " on or off)", w);
			goto fail;
		}
		if (take)
			*(int *)(base + d->off) = ival;
		break;
	case CONF_T_LOGLEVEL:
		if (log_level_parse(value, &level) == -1) {
			conf_fail(&problem, "invalid value '%s' (expected"
			    " error, warn, info or debug)", w);
			goto fail;
		}
		if (take)
			cfg->log_level = level;
		break;
	case CONF_T_RULE:
		/* rules_parse.c owns the grammar and its error columns. */
		p = value + strspn(value, " \t");
		if (*p == '\0') {
			conf_fail(&problem, "empty rule");
			goto fail;
		}
		if (rules_parse_line(value, &rule, &rcause) == -1) {
			/* "col N: ..." is fixed up to the line's column. */
			conf_fail(&problem, "%s", rcause);
			free(rcause);
			goto fail;
		}
		rules_parse_clear(&rule);
		conf_add_rule(cfg, value, where);
		break;
	case CONF_T_CONFIG:
		if (where->source != CONF_SRC_CLI) {
			conf_fail(&problem, "only allowed on the command"
			    " line");
			goto fail;
		}
		if (*value == '\0') {
			conf_fail(&problem, "empty value");
			goto fail;
		}
		conf_set_string((char **)(base + d->off), value);
		break;
	default:
		fatalx("%s: type %d", __func__, d->type);
	}
	if (take && where->source > cfg->src[idx])
		cfg->src[idx] = (unsigned char)where->source;
	ret = 0;
fail:
	if (ret == -1) {
		if (cause != NULL)
			xasprintf(cause, "%s: %s", d->name, problem);
		free(problem);
	}
	free(w);
	return (ret);
}

/*
 * Fill cfg with the contract's defaults (CONTRACT "Serving").  The host
 * name stays NULL: the shell asks the system for it.  Free with
 * conf_clear().
 */
void
conf_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->smtp = xcalloc(1, sizeof(*cfg->smtp));
	cfg->smtp[0] = xstrdup(CONF_DEFAULT_SMTP);
	cfg->nsmtp = 1;
	cfg->http = xstrdup(CONF_DEFAULT_HTTP);
	cfg->db = xstrdup(CONF_DEFAULT_DB);
	cfg->max_size = CONF_DEFAULT_MAX_SIZE;
	cfg->max_recipients = CONF_DEFAULT_MAX_RCPT;
	cfg->max_connections = CONF_DEFAULT_MAX_CONN;
	cfg->timeout = CONF_DEFAULT_TIMEOUT;
	cfg->starttls = 1;
	cfg->auth = xstrdup("any");
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->magic_addresses = 1;
}

/* Free everything cfg owns; cfg is zeroed and may be conf_init()ed. */
void
conf_clear(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nsmtp; i++)
		free(cfg->smtp[i]);
	free(cfg->smtp);
	for (i = 0; i < cfg->nsmtps; i++)
		free(cfg->smtps[i]);
	free(cfg->smtps);
	for (i = 0; i < cfg->nrules; i++) {
		free(cfg->rules[i].text);
		free(cfg->rules[i].file);
	}
	free(cfg->rules);
	free(cfg->http);
	free(cfg->db);
	free(cfg->hostname);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->auth);
	free(cfg->user);
	free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * Set directive name (no dashes) to value, which is NULL only for a flag
 * given alone.  A value from a lower source than the current one is
 * checked but not stored (the command line beats the file).  Rules from
 * the command line are recorded as coming from "command line", line 0.
 * Returns 0, or -1 with *cause (allocated, caller frees) set to a message
 * that starts with "NAME: " ("unknown directive 'NAME'" for a bad name).
 */
int
conf_set(struct config *cfg, const char *name, const char *value,
    enum conf_source source, char **cause)
{
	const struct conf_directive	*d;
	struct conf_where		 where;
	char				*w;

	if ((d = conf_find(name)) == NULL) {
		w = conf_show(name);
		conf_fail(cause, "unknown directive '%s'", w);
		free(w);
		return (-1);
	}
	where.source = source;
	where.line = 0;
	if (source == CONF_SRC_FILE && cfg->config_file != NULL)
		where.file = cfg->config_file;
	else
		where.file = CONF_CLI_NAME;
	return (conf_apply(cfg, d, value, &where, cause));
}

/*
 * Read one word at lex->pos: unquoted (up to a blank, '#' or the end) or
 * double-quoted.  Returns 1 with *word allocated and *col its 1-based
 * column, 0 at the end of the line or a comment, -1 with *cause set.
 */
static int
conf_lex_word(struct conf_lex *lex, char **word, size_t *col, char **cause)
{
	const char	*p = lex->p;
	char		*out, *w;
	size_t		 start, n;
	int		 ret;

	while (lex->pos < lex->len && (p[lex->pos] == ' ' ||
	    p[lex->pos] == '\t'))
		lex->pos++;
	if (lex->pos == lex->len || p[lex->pos] == '#')
		return (0);
	start = lex->pos;
	*col = start + 1;

	if (p[start] != '"') {
		while (lex->pos < lex->len && p[lex->pos] != ' ' &&
		    p[lex->pos] != '\t' && p[lex->pos] != '#')
			lex->pos++;
		*word = xstrndup(p + start, lex->pos - start);
		if ((w = strchr(*word, '"')) != NULL) {
			*col = start + (w - *word) + 1;
			out = conf_show(*word);
			free(*word);
			*word = NULL;
			ret = conf_fail(cause, "unexpected quote in '%s'",
			    out);
			free(out);
			return (ret);
		}
		return (1);
	}

	out = xmalloc(lex->len - start);
	n = 0;
	lex->pos++;
	for (;;) {
		if (lex->pos == lex->len) {
			free(out);
			return (conf_fail(cause, "unterminated quoted string"));
		}
		if (p[lex->pos] == '"')
			break;
		if (p[lex->pos] == '\\' && lex->pos + 1 < lex->len &&
		    (p[lex->pos + 1] == '"' || p[lex->pos + 1] == '\\'))
			lex->pos++;
		out[n++] = p[lex->pos++];
	}
	out[n] = '\0';
	lex->pos++;
	if (lex->pos < lex->len && p[lex->pos] != ' ' && p[lex->pos] != '\t' &&
	    p[lex->pos] != '#') {
		free(out);
		*col = lex->pos + 1;
		return (conf_fail(cause, "unexpected character after quoted"
		    " string"));
	}
	*word = out;
	return (1);
}

/*
 * Take the rest of the line as one raw value (for `rule`): up to a '#'
 * outside double quotes, blanks trimmed, quotes and escapes kept as
 * written.  Returns 1 with *text and *col, 0 if nothing is left, -1 with
 * *cause (an unterminated quote; *col points at it).
 */
static int
conf_lex_rest(struct conf_lex *lex, char **text, size_t *col, char **cause)
{
	const char	*p = lex->p;
	size_t		 start, end, quote = 0;
	int		 inq = 0;

	while (lex->pos < lex->len && (p[lex->pos] == ' ' ||
	    p[lex->pos] == '\t'))
		lex->pos++;
	start = lex->pos;
	for (; lex->pos < lex->len; lex->pos++) {
		if (inq) {
			if (p[lex->pos] == '\\' && lex->pos + 1 < lex->len)
				lex->pos++;
			else if (p[lex->pos] == '"')
				inq = 0;
		} else if (p[lex->pos] == '"') {
			inq = 1;
			quote = lex->pos;
		} else if (p[lex->pos] == '#')
			break;
	}
	if (inq) {
		*col = quote + 1;
		return (conf_fail(cause, "unterminated quoted string"));
	}
	end = lex->pos;
	while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	lex->pos = lex->len;
	if (end == start)
		return (0);
	*col = start + 1;
	*text = xstrndup(p + start, end - start);
	return (1);
}

/*
 * A rule error reads "rule: col N: problem", N counted in the rule text.
 * Turn it into the line's column (the rule starts at vcol) so the message
 * is "FILE:LINE:COL: rule: problem" like every other.
 */
static void
conf_rule_column(char **cause, size_t vcol, size_t *col)
{
	const char	*p;
	char		*end, *fixed;
	unsigned long	 n;

	if (strncmp(*cause, "rule: col ", 10) != 0)
		return;
	p = *cause + 10;
	n = strtoul(p, &end, 10);
	if (end == p || strncmp(end, ": ", 2) != 0 || n == 0)
		return;
	*col = vcol + (size_t)n - 1;
	xasprintf(&fixed, "rule: %s", end + 2);
	free(*cause);
	*cause = fixed;
}

/*
 * Parse and apply one line.  Returns 0, or -1 with *cause (without the
 * location) and *col set.
 */
static int
conf_parse_line(struct config *cfg, struct conf_lex *lex,
    const struct conf_where *where, size_t *col, char **cause)
{
	const struct conf_directive	*d;
	char				*name = NULL, *value = NULL;
	char				*extra = NULL, *w;
	size_t				 ncol, vcol = 0, xcol;
	int				 r, ret = -1;

	for (lex->pos = 0; lex->pos < lex->len; lex->pos++) {
		unsigned char c = lex->p[lex->pos];

		if (c == '\0') {
			*col = lex->pos + 1;
			return (conf_fail(cause, "NUL byte in line"));
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*col = lex->pos + 1;
			return (conf_fail(cause, "control character 0x%02x",
			    c));
		}
	}
	lex->pos = 0;

	r = conf_lex_word(lex, &name, &ncol, cause);
	if (r == 0)
		return (0);
	*col = ncol;
	if (r == -1)
		return (-1);
	if ((d = conf_find(name)) == NULL) {
		w = conf_show(name);
		if (name[0] == '-')
			conf_fail(cause, "unknown directive '%s' (write it"
			    " without the dashes)", w);
		else
			conf_fail(cause, "unknown directive '%s'", w);
		free(w);
		goto out;
	}

	if (d->type == CONF_T_RULE)
		r = conf_lex_rest(lex, &value, &vcol, cause);
	else
		r = conf_lex_word(lex, &value, &vcol, cause);
	if (r == -1) {
		*col = vcol;
		goto out;
	}
	if (r == 1 && d->type != CONF_T_RULE) {
		r = conf_lex_word(lex, &extra, &xcol, cause);
		if (r == -1) {
			*col = xcol;
			goto out;
		}
		if (r == 1) {
			*col = xcol;
			w = conf_show(extra);
			conf_fail(cause, "%s: takes one value, got extra word"
			    " '%s'", d->name, w);
			free(w);
			goto out;
		}
	}
	if (value != NULL)
		*col = vcol;
	ret = conf_apply(cfg, d, value, where, cause);
	if (ret == -1 && d->type == CONF_T_RULE && cause != NULL)
		conf_rule_column(cause, vcol, col);
out:
	free(name);
	free(value);
	free(extra);
	return (ret);
}

/*
 * Parse a whole config file's text (len bytes, not NUL-terminated, may
 * hold NULs and CRLF line ends) and apply it with source CONF_SRC_FILE.
 * filename is used in rules and messages.  Stops at the first error and
 * returns -1 with *cause set to "FILE:LINE:COL: problem"; the directives
 * before the bad line are then applied, so callers discard cfg.
 */
int
conf_parse(struct config *cfg, const char *text, size_t len,
    const char *filename, char **cause)
{
	struct conf_lex		 lex;
	struct conf_where	 where;
	const char		*nl, *end = text + len;
	char			*problem = NULL;
	size_t			 col = 1;

	if (filename == NULL)
		filename = "config";
	where.source = CONF_SRC_FILE;
	where.file = filename;
	where.line = 0;

	/* A UTF-8 byte order mark, as some editors write, is not a word. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;

	while (text < end) {
		where.line++;
		nl = memchr(text, '\n', end - text);
		lex.p = text;
		lex.len = (nl != NULL ? nl : end) - text;
		if (lex.len > 0 && text[lex.len - 1] == '\r')
			lex.len--;
		lex.pos = 0;
		if (conf_parse_line(cfg, &lex, &where, &col, &problem) == -1) {
			if (cause != NULL)
				xasprintf(cause, "%s:%u:%zu: %s", filename,
				    where.line, col, problem);
			free(problem);
			return (-1);
		}
		if (nl == NULL)
			break;
		text = nl + 1;
	}
	return (0);
}

/* Return 1 if name is a flag: it may be given without a value. */
int
conf_is_flag(const char *name)
{
	const struct conf_directive	*d;

	d = conf_find(name);
	return (d != NULL && d->type == CONF_T_FLAG);
}

/* Return 1 if name is a directive. */
int
conf_is_known(const char *name)
{
	return (conf_find(name) != NULL);
}

/* Every directive name, in the order of the documentation; NULL ends it. */
const char *const *
conf_directives(void)
{
	return (conf_names);
}

/*
 * Check what single directives cannot: settings that make no sense
 * together.  Returns 0, or -1 with *cause (allocated) naming them.
 */
int
conf_check(const struct config *cfg, char **cause)
{
	if (cfg->tls_cert != NULL && cfg->tls_key == NULL)
		return (conf_fail(cause, "tls-cert is set but tls-key is"
		    " not"));
	if (cfg->tls_key != NULL && cfg->tls_cert == NULL)
		return (conf_fail(cause, "tls-key is set but tls-cert is"
		    " not"));
	if (cfg->auth_required && cfg->auth != NULL &&
	    strcmp(cfg->auth, "off") == 0)
		return (conf_fail(cause, "auth-required needs auth any or a"
		    " file, not auth off"));
	if (cfg->nsmtp == 0 && cfg->nsmtps == 0)
		return (conf_fail(cause, "no SMTP listener: both smtp and"
		    " smtps are off"));
	return (0);
}

/* Append a line of text to *out (length *len). */
static void
conf_dump_line(char **out, size_t *len, const char *line)
{
	size_t	n;

	n = strlen(line);
	*out = xrealloc(*out, *len + n + 1);
	memcpy(*out + *len, line, n + 1);
	*len += n;
}

/*
 * Append "name value\n" to *out (length *len), quoting value when the
 * file lexer would otherwise split or cut it.
 */
static void
conf_dump_value(char **out, size_t *len, const char *name, const char *value)
{
	const char	*p;
	char		*line, *q, *quoted;

	if (*value != '\0' && strpbrk(value, " \t#\"\\") == NULL)
		xasprintf(&line, "%s %s\n", name, value);
	else {
		quoted = xmalloc(2 * strlen(value) + 1);
		for (p = value, q = quoted; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				*q++ = '\\';
			*q++ = *p;
		}
		*q = '\0';
		xasprintf(&line, "%s \"%s\"\n", name, quoted);
		free(quoted);
	}
	conf_dump_line(out, len, line);
	free(line);
}

/*
 * The effective settings as config-file text, one "name value" line per
 * setting in the order of conf_directives(), unset optional settings as
 * comments, rules last.  Parsing the result gives the same settings.
 * Returns an allocated string; the caller frees it.
 */
char *
conf_dump(const struct config *cfg)
{
	static const char *starttls[] = { "off", "on", "required" };
	static const char *levels[] = { "error", "warn", "info", "debug" };
	char		*out = NULL, *rule;
	char		 num[32];
	uint64_t	 size;
	size_t		 len = 0, i;

	out = xstrdup("");
	for (i = 0; i < cfg->nsmtp; i++)
		conf_dump_value(&out, &len, "smtp", cfg->smtp[i]);
	if (cfg->nsmtp == 0)
		conf_dump_value(&out, &len, "smtp", "off");
	for (i = 0; i < cfg->nsmtps; i++)
		conf_dump_value(&out, &len, "smtps", cfg->smtps[i]);
	if (cfg->nsmtps == 0)
		conf_dump_value(&out, &len, "smtps", "off");
	conf_dump_value(&out, &len, "http", cfg->http);
	conf_dump_value(&out, &len, "db", cfg->db);
	if (cfg->hostname != NULL)
		conf_dump_value(&out, &len, "hostname", cfg->hostname);
	else
		conf_dump_line(&out, &len, "# hostname (the system's)\n");

	size = cfg->max_size;
	if (size != 0 && size % (1024 * 1024 * 1024) == 0)
		snprintf(num, sizeof(num), "%" PRIu64 "G", size >> 30);
	else if (size != 0 && size % (1024 * 1024) == 0)
		snprintf(num, sizeof(num), "%" PRIu64 "M", size >> 20);
	else if (size != 0 && size % 1024 == 0)
		snprintf(num, sizeof(num), "%" PRIu64 "K", size >> 10);
	else
		snprintf(num, sizeof(num), "%" PRIu64, size);
	conf_dump_value(&out, &len, "max-size", num);
	snprintf(num, sizeof(num), "%" PRIu64, cfg->max_recipients);
	conf_dump_value(&out, &len, "max-recipients", num);
	snprintf(num, sizeof(num), "%" PRIu64, cfg->max_connections);
	conf_dump_value(&out, &len, "max-connections", num);
	snprintf(num, sizeof(num), "%" PRIu64, cfg->timeout);
	conf_dump_value(&out, &len, "timeout", num);
	if (cfg->tls_cert != NULL)
		conf_dump_value(&out, &len, "tls-cert", cfg->tls_cert);
	else
		conf_dump_line(&out, &len, "# tls-cert (self-signed)\n");
	if (cfg->tls_key != NULL)
		conf_dump_value(&out, &len, "tls-key", cfg->tls_key);
	else
		conf_dump_line(&out, &len, "# tls-key (self-signed)\n");
	if (cfg->starttls < 0 || cfg->starttls > 2)
		fatalx("%s: starttls %d", __func__, cfg->starttls);
	conf_dump_value(&out, &len, "starttls", starttls[cfg->starttls]);
	conf_dump_value(&out, &len, "auth", cfg->auth);
	conf_dump_value(&out, &len, "auth-required",
	    cfg->auth_required ? "yes" : "no");
	if (cfg->has_rule_seed) {
		snprintf(num, sizeof(num), "%" PRIu64, cfg->rule_seed);
		conf_dump_value(&out, &len, "rule-seed", num);
	} else
		conf_dump_line(&out, &len, "# rule-seed (random)\n");
	snprintf(num, sizeof(num), "%" PRIu64, cfg->max_messages);
	conf_dump_value(&out, &len, "max-messages", num);
	if ((size_t)cfg->log_level >= MS_NITEMS(levels))
		fatalx("%s: log level %d", __func__, cfg->log_level);
	conf_dump_value(&out, &len, "log-level", levels[cfg->log_level]);
	conf_dump_value(&out, &len, "transcript",
	    cfg->transcript ? "yes" : "no");
	conf_dump_value(&out, &len, "magic-addresses",
	    cfg->magic_addresses ? "on" : "off");
	if (cfg->user != NULL)
		conf_dump_value(&out, &len, "user", cfg->user);
	else
		conf_dump_line(&out, &len, "# user (none)\n");

	/* Rules go out verbatim: their quotes belong to the rule grammar. */
	for (i = 0; i < cfg->nrules; i++) {
		xasprintf(&rule, "rule %s\n", cfg->rules[i].text);
		conf_dump_line(&out, &len, rule);
		free(rule);
	}
	return (out);
}

/*
 * The options part of `mailsink serve --help` (and check-config's): every
 * option, its default and meaning.  Callers print their usage line first.
 * Kept in step with the contract's table and man/mailsink.1.
 */
const char *
conf_help(void)
{
	return (
"Options (each is also a config file directive, without the dashes):\n"
"  --config FILE            read directives from FILE first (default: none)\n"
"  --smtp ADDR:PORT         plain SMTP listener with STARTTLS; port 0 picks\n"
"                           a free port; repeatable; off for none\n"
"                           (default: 127.0.0.1:1025)\n"
"  --smtps ADDR:PORT        implicit-TLS listener, as on port 465;\n"
"                           repeatable (default: off)\n"
"  --http ADDR:PORT|off     web UI and REST API (default: 127.0.0.1:8025)\n"
"  --db PATH                SQLite store; :memory: for a throwaway one\n"
"                           (default: mailsink.db)\n"
"  --hostname NAME          name in the banner and the EHLO reply\n"
"                           (default: the machine's host name)\n"
"  --max-size SIZE          largest message accepted, suffix K, M or G;\n"
"                           0 for no limit (default: 25M)\n"
"  --max-recipients N       RCPTs per transaction; more get 452 4.5.3\n"
"                           (default: 1000)\n"
"  --max-connections N      open sessions; more get 421 4.3.2\n"
"                           (default: 1000)\n"
"  --timeout SECONDS        each command line and each line of DATA must\n"
"                           arrive within this time, else 421 4.4.2\n"
"                           (default: 300)\n"
"  --tls-cert FILE          PEM certificate chain (default: none, a\n"
"                           self-signed certificate is made at start)\n"
"  --tls-key FILE           PEM private key for --tls-cert (default: none)\n"
"  --starttls on|off|required\n"
"                           offer STARTTLS; required: MAIL before it gets\n"
"                           530 5.7.0 (default: on)\n"
"  --auth off|any|FILE      any: every credential is accepted; FILE holds\n"
"                           user:password lines (default: any)\n"
"  --auth-required          MAIL before a successful AUTH gets 530 5.7.0\n"
"                           (default: off)\n"
"  --rule 'RULE'            a reject rule, see mailsink.conf(5); repeatable,\n"
"                           added after the config file's (default: none)\n"
"  --rule-seed N            seed for `probability` rules, for repeatable\n"
"                           runs (default: random)\n"
"  --max-messages N         keep only the newest N messages; 0 keeps all\n"
"                           (default: 0)\n"
"  --log-level error|warn|info|debug\n"
"                           log lines go to stderr (default: info)\n"
"  --transcript, -v         also log every command and reply (default: off)\n"
"  --magic-addresses on|off  +smtpNNN in an address picks the reply\n"
"                           (default: on)\n"
"  --user NAME              drop privileges to this user after binding\n"
"                           (default: none)\n"
"  --help, -h               show this help and exit\n"
"\n"
"Options take their value as --name VALUE or --name=VALUE; flags may be\n"
"given as --name=yes or --name=no.  Options override the config file.\n");
}
