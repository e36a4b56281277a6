/*
 * cmd_list.c - `mailsink list`: the stored messages, newest first.
 *
 * Shell.  Without --json the output is a table for people: one line per
 * message, columns aligned and long fields cut to fit, every field passed
 * through cli_sanitise() because all of it came from an SMTP client.
 * Scripts should use --json, whose shape is the contract's; the table's
 * layout may change.
 */
#include <sys/ioctl.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "msgjson.h"
#include "query.h"
#include "store.h"
#include "units.h"
#include "xmalloc.h"

#define CMD_LIST_LIMIT		50	/* default --limit */
#define CMD_LIST_ADDR_MAX	30	/* widest FROM and TO columns */
#define CMD_LIST_SUBJECT_MAX	60	/* widest SUBJECT when not a tty */
#define CMD_LIST_SUBJECT_MIN	10	/* narrowest SUBJECT on a tty */

static const char cmd_list_usage[] =
    "usage: mailsink list [--db PATH] [--json] [--limit N] [QUERY]\n"
    "\n"
    "List stored messages, newest first.  QUERY is zero or more terms,"
    " all of which\nmust match: from:ADDR, to:ADDR, subject:WORD, or a"
    " bare WORD (subject or body).\n"
    "\n"
    "  --db PATH    the store (default " CLI_DEFAULT_DB ")\n"
    "  --json       print a JSON array of message objects\n"
    "  --limit N    show at most N messages (default 50; 0 shows all)\n"
    "\n"
    "Exit status: 0 if a message was listed, 1 if none matched,"
    " 2 on a usage error.\n";

static const struct option cmd_list_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "limit", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The sanitised cells of one table row. */
struct cmd_list_row {
	char	*id;
	char	*received;
	char	*from;
	char	*to;
	char	*subject;
	char	*size;
};

/* Display width of UTF-8 text s, counted in code points. */
static size_t
cmd_list_width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/*
 * Print s in a column w wide: cut with an ellipsis if longer, padded
 * with spaces (on the left if right) if shorter, and followed by two
 * spaces unless last.
 */
static void
cmd_list_cell(const char *s, size_t w, int right, int last)
{
	const char	*p;
	size_t		 n, i;

	n = cmd_list_width(s);
	if (n > w) {
		/* Keep w - 1 code points, then the ellipsis. */
		for (p = s, i = 0; *p != '\0'; p++) {
			if (((unsigned char)*p & 0xc0) != 0x80 && i++ == w - 1)
				break;
		}
		fwrite(s, 1, (size_t)(p - s), stdout);
		fputs("\xe2\x80\xa6", stdout);
		n = w;
	} else {
		if (right)
			for (i = n; i < w; i++)
				putchar(' ');
		fputs(s, stdout);
	}
	if (last)
		return;
	if (!right)
		for (i = n; i < w; i++)
			putchar(' ');
	fputs("  ", stdout);
}

/* "1234", "12.1K", "3.4M": octets in the fewest characters. */
static char *
cmd_list_size(uint64_t size)
{
	char	*s;

	if (size < 1024)
		xasprintf(&s, "%" PRIu64, size);
	else if (size < 1024 * 1024)
		xasprintf(&s, "%.1fK", (double)size / 1024);
	else if (size < (uint64_t)1024 * 1024 * 1024)
		xasprintf(&s, "%.1fM", (double)size / (1024 * 1024));
	else
		xasprintf(&s, "%.1fG", (double)size / (1024 * 1024 * 1024));
	return (s);
}

/* "2026-11-23 16:41:28" from the stored "2026-11-23T16:41:28Z". */
static char *
cmd_list_time(const char *rfc3339)
{
	char	*s;

	s = cli_sanitise(rfc3339);
	if (strlen(s) >= 19 && s[10] == 'T') {
		s[10] = ' ';
		s[19] = '\0';
	}
	return (s);
}

/* Fill row from msg; every cell is a sanitised copy. */
static void
cmd_list_row_init(struct cmd_list_row *row, const struct store_msg *msg)
{
	char	*s;

	xasprintf(&row->id, "%" PRId64, msg->id);
	row->received = cmd_list_time(msg->received);
	if (msg->mail_from == NULL || *msg->mail_from == '\0')
		row->from = xstrdup("<>");
	else
		row->from = cli_sanitise(msg->mail_from);
	if (msg->nrcpt == 0)
		row->to = xstrdup("");
	else if (msg->nrcpt == 1)
		row->to = cli_sanitise(msg->rcpt_to[0]);
	else {
		s = cli_sanitise(msg->rcpt_to[0]);
		xasprintf(&row->to, "%s +%zu", s, msg->nrcpt - 1);
		free(s);
	}
	row->subject = cli_sanitise(msg->subject);
	row->size = cmd_list_size(msg->size);
}

static void
cmd_list_row_clear(struct cmd_list_row *row)
{
	free(row->id);
	free(row->received);
	free(row->from);
	free(row->to);
	free(row->subject);
	free(row->size);
}

/* Grow *w to fit s, up to max. */
static void
cmd_list_fit(size_t *w, const char *s, size_t max)
{
	size_t	n;

	n = cmd_list_width(s);
	if (n > max)
		n = max;
	if (n > *w)
		*w = n;
}

/* Print the messages as an aligned table with a header line. */
static void
cmd_list_table(struct store_msg **msgs, size_t n)
{
	struct cmd_list_row	*rows;
	struct winsize		 ws;
	size_t			 i, wid, wrecv, wfrom, wto, wsubj, wsize, used;

	rows = xcalloc(n, sizeof(*rows));
	wid = strlen("ID");
	wrecv = strlen("RECEIVED");
	wfrom = strlen("FROM");
	wto = strlen("TO");
	wsubj = strlen("SUBJECT");
	wsize = strlen("SIZE");
	for (i = 0; i < n; i++) {
		cmd_list_row_init(&rows[i], msgs[i]);
		cmd_list_fit(&wid, rows[i].id, SIZE_MAX);
		cmd_list_fit(&wrecv, rows[i].received, SIZE_MAX);
		cmd_list_fit(&wfrom, rows[i].from, CMD_LIST_ADDR_MAX);
		cmd_list_fit(&wto, rows[i].to, CMD_LIST_ADDR_MAX);
		cmd_list_fit(&wsubj, rows[i].subject, SIZE_MAX);
		cmd_list_fit(&wsize, rows[i].size, SIZE_MAX);
	}

	/* On a terminal the subject takes what the other columns leave. */
	used = wid + wrecv + wfrom + wto + wsize + 5 * 2;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0) {
		if (used + CMD_LIST_SUBJECT_MIN > ws.ws_col)
			wsubj = CMD_LIST_SUBJECT_MIN;
		else if (wsubj > ws.ws_col - used)
			wsubj = ws.ws_col - used;
	} else if (wsubj > CMD_LIST_SUBJECT_MAX)
		wsubj = CMD_LIST_SUBJECT_MAX;

	cmd_list_cell("ID", wid, 1, 0);
	cmd_list_cell("RECEIVED", wrecv, 0, 0);
	cmd_list_cell("FROM", wfrom, 0, 0);
	cmd_list_cell("TO", wto, 0, 0);
	cmd_list_cell("SUBJECT", wsubj, 0, 0);
	cmd_list_cell("SIZE", wsize, 1, 1);
	putchar('\n');
	for (i = 0; i < n; i++) {
		cmd_list_cell(rows[i].id, wid, 1, 0);
		cmd_list_cell(rows[i].received, wrecv, 0, 0);
		cmd_list_cell(rows[i].from, wfrom, 0, 0);
		cmd_list_cell(rows[i].to, wto, 0, 0);
		cmd_list_cell(rows[i].subject, wsubj, 0, 0);
		cmd_list_cell(rows[i].size, wsize, 1, 1);
		putchar('\n');
		cmd_list_row_clear(&rows[i]);
	}
	free(rows);
}

/* Print the messages as a JSON array of message objects. */
static void
cmd_list_json(struct store_msg **msgs, size_t n)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, msgjson_summary(msgs[i])) != 0)
			fatalx("%s: out of memory", __func__);
	}
	json_dumpf(a, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(a);
}

/*
 * `mailsink list [--db PATH] [--json] [--limit N] [QUERY]`.  Exits 0 when
 * at least one message was listed, 1 when none matched (the JSON form
 * then prints []) or the store cannot be read, 2 on a usage error.
 */
int
cmd_list(int argc, char **argv)
{
	struct store		*st = NULL;
	struct query		*q = NULL;
	struct store_msg	**msgs = NULL;
	const char		*db = CLI_DEFAULT_DB, *cmd = argv[0];
	char			*cause = NULL;
	uint64_t		 limit = CMD_LIST_LIMIT;
	int			 more = 0;
	size_t			 n = 0;
	int			 ch, json = 0, rc = CLI_EXIT_NOTFOUND;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_list_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			if (units_parse_uint(optarg, SIZE_MAX, &limit) == -1) {
				cli_usage_error(cmd, "bad --limit '%s'",
				    optarg);
				return (CLI_EXIT_USAGE);
			}
			break;
		case 'h':
			fputs(cmd_list_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_bad_option(cmd, ch, argv));
		}
	}
	if ((q = query_parse(argc - optind, argv + optind, &cause)) == NULL) {
		cli_usage_error(cmd, "%s", cause);
		free(cause);
		return (CLI_EXIT_USAGE);
	}
	if ((st = cli_open_store(db, &rc)) == NULL)
		goto out;
	/*
	 * Ask for one more than shown to learn whether there are more:
	 * counting every match would cost a scan of a large store.
	 */
	if (store_msg_list(st, q, limit == 0 ? 0 : (size_t)limit + 1, 0,
	    &msgs, &n, &cause) == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		goto out;
	}
	if (limit != 0 && n > limit) {
		store_msg_free(msgs[--n]);
		more = 1;
	}
	if (json)
		cmd_list_json(msgs, n);
	else if (n > 0)
		cmd_list_table(msgs, n);
	if (n == 0)
		fprintf(stderr, "mailsink %s: %s\n", cmd, query_empty(q) ?
		    "no messages in the store" : "no messages matched");
	else if (!json && more)
		fprintf(stderr, "(the newest %zu shown; --limit 0 shows all)\n",
		    n);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "mailsink %s: write error\n", cmd);
		goto out;
	}
	rc = n > 0 ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
out:
	free(cause);
	store_msgs_free(msgs, n);
	store_close(st);
	query_free(q);
	return (rc);
}
