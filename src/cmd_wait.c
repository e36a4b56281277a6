/*
 * cmd_wait.c - `mailsink wait`: block until N messages match, or time out.
 *
 * Shell.  This is what tests use instead of sleeping (STYLE 34), so it
 * must return as soon as the messages are there and must never oversleep
 * its deadline: it polls the store every CMD_WAIT_POLL_MS against a
 * CLOCK_MONOTONIC deadline, and the last sleep is cut to what is left.
 * A store that does not exist yet (or is not yet initialised) is waited
 * for too, because a test may start the server and the wait together.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "query.h"
#include "store.h"
#include "units.h"
#include "xmalloc.h"

#define CMD_WAIT_POLL_MS	50	/* time between two looks */
#define CMD_WAIT_TIMEOUT	10.0	/* default --timeout, seconds */
#define CMD_WAIT_TIMEOUT_MAX	(7.0 * 24 * 3600) /* a week is plenty */
#define CMD_WAIT_COUNT_MAX	1000000	/* ids printed at most */

static const char cmd_wait_usage[] =
    "usage: mailsink wait [--db PATH] [--timeout SECONDS] [--count N]"
    " [QUERY]\n"
    "\n"
    "Wait until at least N stored messages match QUERY, then print the"
    " ids of the\nnewest N of them, oldest first, one a line.  QUERY is"
    " as for `mailsink list`.\nThe store may not exist yet: wait waits"
    " for it too.\n"
    "\n"
    "  --db PATH          the store (default " CLI_DEFAULT_DB ")\n"
    "  --timeout SECONDS  give up after this long (default 10;"
    " fractions allowed)\n"
    "  --count N          how many messages to wait for (default 1)\n"
    "\n"
    "Exit status: 0 when the messages are there, 1 on timeout,"
    " 2 on a usage error.\n";

static const struct option cmd_wait_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "timeout", required_argument, NULL, 't' },
	{ "count", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Now on the monotonic clock, in nanoseconds. */
static int64_t
cmd_wait_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/* Sleep for ns nanoseconds, resuming after a signal. */
static void
cmd_wait_sleep(int64_t ns)
{
	struct timespec	ts, rem;

	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/*
 * Print the ids of the newest count messages matching q, oldest first.
 * Returns 0, or -1 with *cause set.
 */
static int
cmd_wait_print(struct store *st, const struct query *q, uint64_t count,
    char **cause)
{
	struct store_msg	**msgs;
	size_t			  n, i;

	if (store_msg_list(st, q, (size_t)count, 0, &msgs, &n, cause) == -1)
		return (-1);
	for (i = n; i > 0; i--)
		printf("%" PRId64 "\n", msgs[i - 1]->id);
	store_msgs_free(msgs, n);
	return (0);
}

/*
 * `mailsink wait [--db PATH] [--timeout SECONDS] [--count N] [QUERY]`.
 * Exits 0 (printing the ids) once at least N messages match, 1 when the
 * timeout passes first, 2 on a usage error.
 */
int
cmd_wait(int argc, char **argv)
{
	struct store	*st = NULL;
	struct query	*q = NULL;
	struct stat	 sb;
	const char	*db = CLI_DEFAULT_DB, *cmd = argv[0];
	char		*cause = NULL, *last = NULL;
	double		 timeout = CMD_WAIT_TIMEOUT;
	uint64_t	 count = 1, matched = 0;
	int64_t		 deadline, now, left;
	int		 ch, rc = CLI_EXIT_NOTFOUND;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_wait_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 't':
			if (units_parse_double(optarg, &timeout) == -1 ||
			    !isfinite(timeout) || timeout < 0 ||
			    timeout > CMD_WAIT_TIMEOUT_MAX) {
				cli_usage_error(cmd, "bad --timeout '%s'",
				    optarg);
				return (CLI_EXIT_USAGE);
			}
			break;
		case 'c':
			if (units_parse_uint(optarg, CMD_WAIT_COUNT_MAX,
			    &count) == -1 || count == 0) {
				cli_usage_error(cmd, "bad --count '%s'",
				    optarg);
				return (CLI_EXIT_USAGE);
			}
			break;
		case 'h':
			fputs(cmd_wait_usage, stdout);
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

	deadline = cmd_wait_now() + (int64_t)(timeout * 1e9);
	for (;;) {
		/*
		 * Until the server has created the store there is nothing to
		 * open; once it has, an error (a half-initialised file, a
		 * busy lock) is retried until the deadline and reported only
		 * if it is still there then.
		 */
		if (st == NULL && (strcmp(db, ":memory:") == 0 ||
		    stat(db, &sb) == 0)) {
			st = store_open(db, STORE_READONLY, &cause);
			if (st == NULL) {
				free(last);
				last = cause;
				cause = NULL;
			}
		}
		if (st != NULL) {
			if (store_msg_count(st, q, &matched, &cause) == 0) {
				free(last);
				last = NULL;
				if (matched >= count)
					break;
			} else {
				free(last);
				last = cause;
				cause = NULL;
			}
		}
		now = cmd_wait_now();
		if (now >= deadline)
			goto timeout;
		left = deadline - now;
		if (left > (int64_t)CMD_WAIT_POLL_MS * 1000000)
			left = (int64_t)CMD_WAIT_POLL_MS * 1000000;
		cmd_wait_sleep(left);
	}

	if (cmd_wait_print(st, q, count, &cause) == -1) {
		fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
		goto out;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "mailsink %s: write error\n", cmd);
		goto out;
	}
	rc = CLI_EXIT_OK;
	goto out;

timeout:
	if (st == NULL && last == NULL)
		fprintf(stderr, "mailsink %s: timed out after %gs: no store at"
		    " %s\n", cmd, timeout, db);
	else if (last != NULL)
		fprintf(stderr, "mailsink %s: timed out after %gs: %s\n", cmd,
		    timeout, last);
	else
		fprintf(stderr, "mailsink %s: timed out after %gs: %" PRIu64
		    " of %" PRIu64 " messages matched\n", cmd, timeout,
		    matched, count);
out:
	free(last);
	free(cause);
	store_close(st);
	query_free(q);
	return (rc);
}
