/*
 * cmd_show.c - `mailsink show`: one message, as a summary, raw octets,
 * decoded headers, JSON, or the SMTP session that delivered it.
 *
 * Shell.  Only --raw writes captured bytes unchanged (it is for piping
 * into other tools); every other view passes each line through
 * cli_sanitise() first, so a message cannot drive the terminal.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "mime.h"
#include "msgjson.h"
#include "store.h"
#include "xmalloc.h"

enum cmd_show_view {
	CMD_SHOW_SUMMARY = 0,
	CMD_SHOW_RAW,
	CMD_SHOW_HEADERS,
	CMD_SHOW_JSON,
	CMD_SHOW_TRANSCRIPT
};

static const char cmd_show_usage[] =
    "usage: mailsink show [--db PATH] [--raw | --headers | --json |"
    " --transcript] ID\n"
    "\n"
    "Show one stored message.  ID is a message id, or 'latest' for the"
    " newest.\n"
    "Without an option: the envelope, the main headers, the text part"
    " and the\nattachments.\n"
    "\n"
    "  --db PATH      the store (default " CLI_DEFAULT_DB ")\n"
    "  --raw          the message exactly as received (binary-safe)\n"
    "  --headers      every header, decoded, in order\n"
    "  --json         the message as a JSON object\n"
    "  --transcript   the SMTP session that delivered the message\n"
    "\n"
    "Exit status: 0 on success, 1 if there is no such message,"
    " 2 on a usage error.\n";

static const struct option cmd_show_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "raw", no_argument, NULL, CMD_SHOW_RAW },
	{ "headers", no_argument, NULL, CMD_SHOW_HEADERS },
	{ "json", no_argument, NULL, CMD_SHOW_JSON },
	{ "transcript", no_argument, NULL, CMD_SHOW_TRANSCRIPT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * Print len bytes of text line by line, each sanitised, with a line
 * ending of CRLF or LF printed as a newline and prefix before each line.
 */
static void
cmd_show_lines(const char *prefix, const char *text, size_t len)
{
	const char	*p, *end, *nl;
	char		*line, *safe;
	size_t		 n, k;

	p = text;
	end = text + len;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		fputs(prefix, stdout);
		/* A NUL would end a C string early: sanitise each piece. */
		for (;;) {
			line = xstrndup(p, n);
			safe = cli_sanitise(line);
			fputs(safe, stdout);
			free(safe);
			k = strlen(line);
			free(line);
			if (k == n)
				break;
			fputs("\\x00", stdout);
			p += k + 1;
			n -= k + 1;
		}
		putchar('\n');
		p = nl + 1;
	}
}

/* Print "Label: value" with the value sanitised, unless value is NULL. */
static void
cmd_show_field(const char *label, const char *value)
{
	char	*safe;

	if (value == NULL)
		return;
	safe = cli_sanitise(value);
	printf("%-11s %s\n", label, safe);
	free(safe);
}

/* The readable view: envelope, main headers, text part, attachments. */
static void
cmd_show_summary(const struct store_msg *msg, const struct mime_message *mm)
{
	const struct mime_attachment	*att;
	char				*s, *t, *u;
	size_t				 i;

	xasprintf(&s, "%" PRId64, msg->id);
	cmd_show_field("Message:", s);
	free(s);
	cmd_show_field("Received:", msg->received);
	if (msg->helo != NULL && *msg->helo != '\0') {
		xasprintf(&s, "%s (helo %s)", msg->client != NULL ?
		    msg->client : "?", msg->helo);
		cmd_show_field("Client:", s);
		free(s);
	} else
		cmd_show_field("Client:", msg->client);
	if (msg->tls_protocol != NULL) {
		xasprintf(&s, "%s %s", msg->tls_protocol, msg->tls_cipher !=
		    NULL ? msg->tls_cipher : "");
		cmd_show_field("TLS:", s);
		free(s);
	} else
		cmd_show_field("TLS:", "none");
	cmd_show_field("User:", msg->user);
	xasprintf(&s, "<%s>", msg->mail_from != NULL ? msg->mail_from : "");
	cmd_show_field("Mail from:", s);
	free(s);
	for (i = 0; i < msg->nrcpt; i++) {
		xasprintf(&s, "<%s>", msg->rcpt_to[i]);
		cmd_show_field(i == 0 ? "Rcpt to:" : "", s);
		free(s);
	}
	xasprintf(&s, "%" PRIu64 " octets", msg->size);
	cmd_show_field("Size:", s);
	free(s);
	putchar('\n');

	cmd_show_field("Subject:", msg->subject);
	cmd_show_field("From:", msg->from);
	cmd_show_field("To:", msg->to);
	cmd_show_field("Cc:", msg->cc);
	cmd_show_field("Date:", msg->date);
	cmd_show_field("Message-ID:", msg->message_id);
	putchar('\n');

	if (mm->text != NULL)
		cmd_show_lines("", mm->text, strlen(mm->text));
	else if (mm->html != NULL)
		printf("(no text part; the HTML part is %zu octets: see"
		    " --json or --raw)\n", strlen(mm->html));
	else
		printf("(no text part)\n");

	if (mm->nattachments == 0)
		return;
	printf("\nAttachments:\n");
	for (i = 0; i < mm->nattachments; i++) {
		att = &mm->attachments[i];
		s = cli_sanitise(att->part_id);
		t = cli_sanitise(att->filename != NULL ? att->filename :
		    "(no name)");
		u = cli_sanitise(att->content_type);
		printf("  %s  %s  %s  %zu octets\n", s, t, u, att->size);
		free(s);
		free(t);
		free(u);
	}
}

/* Every header, decoded, as "Name: value". */
static void
cmd_show_headers(const struct mime_message *mm)
{
	char	*name, *value;
	size_t	 i;

	for (i = 0; i < mm->nheaders; i++) {
		name = cli_sanitise(mm->headers[i].name);
		value = cli_sanitise(mm->headers[i].value);
		printf("%s: %s\n", name, value);
		free(name);
		free(value);
	}
}

/* The session's transcript, or 1 (with a message) if there is none. */
static int
cmd_show_transcript(const char *cmd, struct store *st,
    const struct store_msg *msg)
{
	char	*text = NULL, *cause = NULL;
	int	 r;

	if (msg->session_id == 0) {
		fprintf(stderr, "mailsink %s: message %" PRId64 " has no"
		    " session\n", cmd, msg->id);
		return (CLI_EXIT_NOTFOUND);
	}
	r = store_sess_transcript(st, msg->id, &text, &cause);
	if (r == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		free(cause);
		return (CLI_EXIT_NOTFOUND);
	}
	if (r == 1 || text == NULL) {
		fprintf(stderr, "mailsink %s: no transcript for session %"
		    PRId64 "\n", cmd, msg->session_id);
		free(text);
		return (CLI_EXIT_NOTFOUND);
	}
	cmd_show_lines("", text, strlen(text));
	free(text);
	return (CLI_EXIT_OK);
}

/*
 * `mailsink show [--db PATH] [--raw | --headers | --json | --transcript]
 * ID`.  Exits 0 on success, 1 if there is no such message (or no
 * transcript) or the store cannot be read, 2 on a usage error.
 */
int
cmd_show(int argc, char **argv)
{
	struct store		*st = NULL;
	struct store_msg	*msg = NULL;
	struct mime_message	 mm;
	enum cmd_show_view	 view = CMD_SHOW_SUMMARY;
	const char		*db = CLI_DEFAULT_DB, *cmd = argv[0];
	char			*cause = NULL, *raw = NULL;
	size_t			 rawlen = 0;
	int64_t			 id;
	int			 ch, r, rc = CLI_EXIT_NOTFOUND, parsed = 0;
	json_t			*o;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_show_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case CMD_SHOW_RAW:
		case CMD_SHOW_HEADERS:
		case CMD_SHOW_JSON:
		case CMD_SHOW_TRANSCRIPT:
			if (view != CMD_SHOW_SUMMARY && (int)view != ch) {
				cli_usage_error(cmd, "choose one of --raw,"
				    " --headers, --json and --transcript");
				return (CLI_EXIT_USAGE);
			}
			view = ch;
			break;
		case 'h':
			fputs(cmd_show_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_bad_option(cmd, ch, argv));
		}
	}
	if (argc - optind != 1) {
		cli_usage_error(cmd, argc == optind ? "missing message id" :
		    "one message id only");
		return (CLI_EXIT_USAGE);
	}
	memset(&mm, 0, sizeof(mm));

	if ((st = cli_open_store(db, &rc)) == NULL)
		goto out;
	if ((r = cli_parse_id(st, argv[optind], &id)) != 0) {
		rc = r;
		goto out;
	}
	if ((r = store_msg_get(st, id, &msg, &cause)) == 0 &&
	    view != CMD_SHOW_TRANSCRIPT)
		r = store_msg_raw(st, id, &raw, &rawlen, &cause);
	if (r == 1) {
		/* Deleted between the two lookups. */
		fprintf(stderr, "mailsink %s: no message with id %" PRId64
		    "\n", cmd, id);
		goto out;
	}
	if (r == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		goto out;
	}

	switch (view) {
	case CMD_SHOW_RAW:
		fwrite(raw, 1, rawlen, stdout);
		break;
	case CMD_SHOW_TRANSCRIPT:
		if ((r = cmd_show_transcript(cmd, st, msg)) != CLI_EXIT_OK) {
			rc = r;
			goto out;
		}
		break;
	case CMD_SHOW_SUMMARY:
	case CMD_SHOW_HEADERS:
	case CMD_SHOW_JSON:
		mime_init();
		parsed = mime_message_parse(raw, rawlen, &mm) == 0;
		if (view == CMD_SHOW_JSON) {
			o = msgjson_full(msg, parsed ? &mm : NULL);
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		} else if (view == CMD_SHOW_HEADERS)
			cmd_show_headers(&mm);
		else
			cmd_show_summary(msg, &mm);
		break;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "mailsink %s: write error\n", cmd);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	mime_message_clear(&mm);
	free(raw);
	free(cause);
	store_msg_free(msg);
	store_close(st);
	return (rc);
}
