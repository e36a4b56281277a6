/*
 * cmd_export.c - `mailsink export`: messages to an mbox file or to a
 * directory of .eml files.
 *
 * Shell.  Messages go out oldest first.  The mbox is mboxrd: each message
 * starts with a "From " line, and every line of the message that matches
 * ^>*From  gets one more '>', so readers that undo the quoting get the
 * message back exactly; CRLF line endings become LF, as mbox readers
 * expect.  The .eml files hold the exact stored octets.  File names come
 * from the message ids only, never from anything in a message, so an
 * export cannot be steered into writing outside DIR.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "query.h"
#include "store.h"
#include "xmalloc.h"

static const char cmd_export_usage[] =
    "usage: mailsink export [--db PATH] (--mbox FILE | --dir DIR)"
    " [QUERY]\n"
    "\n"
    "Write the messages matching QUERY (all of them without one), oldest"
    " first, to\nan mbox file (mboxrd; '-' is standard output) or to"
    " DIR/ID.eml files holding\nthe exact octets received.  QUERY is as"
    " for `mailsink list`.\n"
    "\n"
    "  --db PATH    the store (default " CLI_DEFAULT_DB ")\n"
    "  --mbox FILE  write one mbox file (replaced if it exists)\n"
    "  --dir DIR    write one .eml file per message (DIR is created if"
    " missing)\n"
    "\n"
    "Exit status: 0 on success, 1 if no message matched or a write"
    " failed,\n2 on a usage error.\n";

static const struct option cmd_export_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "mbox", required_argument, NULL, 'm' },
	{ "dir", required_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The mbox "From " line: the envelope sender (MAILER-DAEMON for the null
 * sender, blanks and controls replaced, since the line is split at the
 * first blank) and the received time in asctime form.
 */
static void
cmd_export_from_line(FILE *f, const struct store_msg *msg)
{
	struct tm	 tm;
	char		 date[64], *sender, *p;
	const char	*end;

	if (msg->mail_from == NULL || *msg->mail_from == '\0')
		sender = xstrdup("MAILER-DAEMON");
	else
		sender = xstrdup(msg->mail_from);
	for (p = sender; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			*p = '_';

	memset(&tm, 0, sizeof(tm));
	end = msg->received != NULL ? strptime(msg->received,
	    "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end == NULL || strftime(date, sizeof(date),
	    "%a %b %e %H:%M:%S %Y", &tm) == 0)
		strlcpy(date, "Thu Jan  1 00:00:00 1970", sizeof(date));
	fprintf(f, "From %s %s\n", sender, date);
	free(sender);
}

/* Write one message in mboxrd form: From line, quoted body, blank line. */
static void
cmd_export_mbox_msg(FILE *f, const struct store_msg *msg, const char *raw,
    size_t len)
{
	const char	*p, *end, *nl, *q;
	size_t		 n;

	cmd_export_from_line(f, msg);
	p = raw;
	end = raw + len;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r' && nl < end)
			n--;
		for (q = p; q < p + n && *q == '>'; q++)
			;
		if ((size_t)(p + n - q) >= 5 && memcmp(q, "From ", 5) == 0)
			fputc('>', f);
		fwrite(p, 1, n, f);
		fputc('\n', f);
		p = nl + 1;
	}
	fputc('\n', f);
}

/* Write len octets to DIR/ID.eml; 0, or -1 with *cause set. */
static int
cmd_export_eml(const char *dir, int64_t id, const char *raw, size_t len,
    char **cause)
{
	char	*path;
	ssize_t	 w;
	size_t	 off = 0;
	int	 fd, saved;

	xasprintf(&path, "%s/%" PRId64 ".eml", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1)
		goto fail;
	while (off < len) {
		w = write(fd, raw + off, len - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	free(path);
	return (0);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	xasprintf(cause, "%s: %s", path, strerror(saved));
	free(path);
	return (-1);
}

/*
 * `mailsink export [--db PATH] (--mbox FILE | --dir DIR) [QUERY]`.
 * Prints "exported N message(s)" (on stderr when the mbox is stdout).
 * Exits 0 on success, 1 when nothing matched or a write failed, 2 on a
 * usage error.
 */
int
cmd_export(int argc, char **argv)
{
	struct store		*st = NULL;
	struct query		*q = NULL;
	struct store_msg	**msgs = NULL;
	struct stat		 sb;
	const char		*db = CLI_DEFAULT_DB, *cmd = argv[0];
	const char		*mbox = NULL, *dir = NULL;
	char			*cause = NULL, *raw = NULL;
	size_t			 n = 0, i, len, done = 0;
	int			 ch, r, rc = CLI_EXIT_NOTFOUND;
	FILE			*f = NULL;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_export_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'm':
			mbox = optarg;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'h':
			fputs(cmd_export_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_bad_option(cmd, ch, argv));
		}
	}
	if ((mbox == NULL) == (dir == NULL)) {
		cli_usage_error(cmd, "give one of --mbox FILE and --dir DIR");
		return (CLI_EXIT_USAGE);
	}
	if ((mbox != NULL && *mbox == '\0') || (dir != NULL && *dir == '\0')) {
		cli_usage_error(cmd, "empty file name");
		return (CLI_EXIT_USAGE);
	}
	if ((q = query_parse(argc - optind, argv + optind, &cause)) == NULL) {
		cli_usage_error(cmd, "%s", cause);
		free(cause);
		return (CLI_EXIT_USAGE);
	}

	if ((st = cli_open_store(db, &rc)) == NULL)
		goto out;
	if (store_msg_list(st, q, 0, 0, &msgs, &n, &cause) == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		goto out;
	}
	if (n == 0) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, query_empty(q) ?
		    "no messages in the store" : "no messages matched");
		goto out;
	}

	if (dir != NULL) {
		if (mkdir(dir, 0777) == -1 && (errno != EEXIST ||
		    stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode))) {
			fprintf(stderr, "mailsink %s: %s: %s\n", cmd, dir,
			    errno == EEXIST ? "not a directory" :
			    strerror(errno));
			goto out;
		}
	} else if (strcmp(mbox, "-") == 0)
		f = stdout;
	else if ((f = fopen(mbox, "we")) == NULL) {
		fprintf(stderr, "mailsink %s: %s: %s\n", cmd, mbox,
		    strerror(errno));
		goto out;
	}

	/* The list is newest first; write oldest first. */
	for (i = n; i > 0; i--) {
		r = store_msg_raw(st, msgs[i - 1]->id, &raw, &len, &cause);
		if (r == 1)
			continue;	/* deleted since the list */
		if (r == -1) {
			fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
			goto out;
		}
		if (f != NULL)
			cmd_export_mbox_msg(f, msgs[i - 1], raw, len);
		else if (cmd_export_eml(dir, msgs[i - 1]->id, raw, len,
		    &cause) == -1) {
			fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
			goto out;
		}
		free(raw);
		raw = NULL;
		done++;
	}
	if (f != NULL && (fflush(f) == EOF || ferror(f))) {
		fprintf(stderr, "mailsink %s: %s: write error\n", cmd,
		    f == stdout ? "standard output" : mbox);
		goto out;
	}
	if (f != NULL && f != stdout) {
		r = fclose(f);
		f = NULL;
		if (r == EOF) {
			fprintf(stderr, "mailsink %s: %s: %s\n", cmd, mbox,
			    strerror(errno));
			goto out;
		}
	}
	fprintf(mbox != NULL && strcmp(mbox, "-") == 0 ? stderr : stdout,
	    "exported %zu message%s\n", done, done == 1 ? "" : "s");
	rc = done > 0 ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
out:
	if (f != NULL && f != stdout)
		fclose(f);
	free(raw);
	free(cause);
	store_msgs_free(msgs, n);
	store_close(st);
	query_free(q);
	return (rc);
}
