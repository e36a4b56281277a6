/*
 * cmd_sessions.c - `mailsink sessions`: SMTP sessions, newest first, with
 * what each delivered and what was rejected.
 *
 * Shell.  This is how a test checks that its sender retried after a 451
 * or gave up after a 550: rejected transactions are stored with their
 * stage, envelope and reply.  Human output is one header line per session
 * and an indented line per delivery list and per rejection, all
 * sanitised; --json gives the same as objects.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "msgjson.h"
#include "store.h"
#include "units.h"
#include "xmalloc.h"

#define CMD_SESSIONS_LIMIT	20	/* default --limit */

static const char cmd_sessions_usage[] =
    "usage: mailsink sessions [--db PATH] [--json] [--rejected]"
    " [--limit N]\n"
    "\n"
    "List SMTP sessions, newest first: client, HELO, TLS, user, outcome,"
    " the ids of\nthe messages delivered, and each rejected transaction"
    " with its stage, envelope\nand reply.\n"
    "\n"
    "  --db PATH    the store (default " CLI_DEFAULT_DB ")\n"
    "  --json       print a JSON array of session objects\n"
    "  --rejected   only sessions in which something was rejected\n"
    "  --limit N    show at most N sessions (default 20; 0 shows all)\n"
    "\n"
    "Exit status: 0 if a session was listed, 1 if none matched,"
    " 2 on a usage error.\n";

static const struct option cmd_sessions_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "rejected", no_argument, NULL, 'r' },
	{ "limit", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Print " key=VALUE", sanitised, with "-" for NULL. */
static void
cmd_sessions_kv(const char *key, const char *value)
{
	char	*safe;

	safe = cli_sanitise(value != NULL && *value != '\0' ? value : "-");
	printf(" %s=%s", key, safe);
	free(safe);
}

/* Print s sanitised, with before and after around it. */
static void
cmd_sessions_put(const char *before, const char *s, const char *after)
{
	char	*safe;

	safe = cli_sanitise(s);
	printf("%s%s%s", before, safe, after);
	free(safe);
}

/*
 * "  rejected at rcpt: <from> -> <rcpt>: 550 5.1.1 ...": the outcome, the
 * stage, the envelope as far as it got and the reply (if one was sent).
 */
static void
cmd_sessions_reject(const struct store_reject *rj)
{
	size_t	i;

	cmd_sessions_put("  ", rj->outcome != NULL ? rj->outcome : "rejected",
	    "");
	cmd_sessions_put(" at ", rj->stage, ":");
	if (rj->mail_from != NULL)
		cmd_sessions_put(" <", rj->mail_from, ">");
	if (rj->rcpt != NULL)
		cmd_sessions_put(" -> <", rj->rcpt, ">");
	else if (rj->nrcpt > 0) {
		for (i = 0; i < rj->nrcpt; i++)
			cmd_sessions_put(i == 0 ? " -> <" : ", <",
			    rj->rcpt_to[i], ">");
	}
	if (rj->reply != NULL)
		cmd_sessions_put(rj->mail_from != NULL || rj->rcpt != NULL ||
		    rj->nrcpt > 0 ? ": " : " ", rj->reply, "");
	putchar('\n');
}

/* One session: a header line, then what it delivered and rejected. */
static void
cmd_sessions_print(const struct store_sess *ss)
{
	char	*s, *tls = NULL;
	size_t	 i;

	s = cli_sanitise(ss->started);
	if (strlen(s) >= 19 && s[10] == 'T') {
		s[10] = ' ';
		s[19] = '\0';
	}
	printf("#%" PRId64 " %s", ss->id, s);
	free(s);
	cmd_sessions_put(" ", ss->client != NULL ? ss->client : "?", "");
	cmd_sessions_kv("helo", ss->helo);
	if (ss->tls_protocol != NULL)
		xasprintf(&tls, "%s/%s", ss->tls_protocol,
		    ss->tls_cipher != NULL ? ss->tls_cipher : "?");
	cmd_sessions_kv("tls", tls);
	free(tls);
	cmd_sessions_kv("user", ss->user);
	cmd_sessions_kv("outcome", ss->ended == NULL && ss->outcome == NULL ?
	    "open" : ss->outcome);
	cmd_sessions_kv("quirks", ss->quirks);
	putchar('\n');
	if (ss->nmessages > 0) {
		printf("  delivered:");
		for (i = 0; i < ss->nmessages; i++)
			printf("%s %" PRId64, i == 0 ? "" : ",",
			    ss->messages[i]);
		putchar('\n');
	}
	for (i = 0; i < ss->nrejects; i++)
		cmd_sessions_reject(&ss->rejects[i]);
}

/*
 * `mailsink sessions [--db PATH] [--json] [--rejected] [--limit N]`.
 * Exits 0 if a session was listed, 1 if none (the JSON form then prints
 * []) or the store cannot be read, 2 on a usage error.
 */
int
cmd_sessions(int argc, char **argv)
{
	struct store		*st = NULL;
	struct store_sess	**ss = NULL;
	const char		*db = CLI_DEFAULT_DB, *cmd = argv[0];
	char			*cause = NULL;
	uint64_t		 limit = CMD_SESSIONS_LIMIT;
	size_t			 n = 0, i;
	int			 ch, json = 0, rejected = 0;
	int			 rc = CLI_EXIT_NOTFOUND;
	json_t			*a;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_sessions_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			rejected = 1;
			break;
		case 'n':
			if (units_parse_uint(optarg, SIZE_MAX, &limit) == -1) {
				cli_usage_error(cmd, "bad --limit '%s'",
				    optarg);
				return (CLI_EXIT_USAGE);
			}
			break;
		case 'h':
			fputs(cmd_sessions_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_bad_option(cmd, ch, argv));
		}
	}
	if (optind < argc) {
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return (CLI_EXIT_USAGE);
	}

	if ((st = cli_open_store(db, &rc)) == NULL)
		goto out;
	if (store_sess_list(st, rejected, (size_t)limit, &ss, &n,
	    &cause) == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		goto out;
	}
	if (json) {
		if ((a = json_array()) == NULL)
			fatalx("%s: out of memory", __func__);
		for (i = 0; i < n; i++)
			if (json_array_append_new(a,
			    msgjson_session(ss[i])) != 0)
				fatalx("%s: out of memory", __func__);
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(a);
	} else {
		for (i = 0; i < n; i++)
			cmd_sessions_print(ss[i]);
	}
	if (n == 0)
		fprintf(stderr, "mailsink %s: no %ssessions\n", cmd,
		    rejected ? "rejected " : "");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "mailsink %s: write error\n", cmd);
		goto out;
	}
	rc = n > 0 ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
out:
	free(cause);
	store_sesses_free(ss, n);
	store_close(st);
	return (rc);
}
