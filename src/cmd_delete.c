/*
 * cmd_delete.c - `mailsink delete`: remove messages from the store.
 *
 * Shell.  The only CLI command that writes; it may run while the server
 * is writing too (SQLite's busy timeout serialises them).  Every id is
 * checked before anything is deleted, so a typo in the third id is a
 * usage error that deletes nothing; an id that is merely not there (a
 * test cleaning up twice) is reported but does not stop the others.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store.h"
#include "xmalloc.h"

static const char cmd_delete_usage[] =
    "usage: mailsink delete [--db PATH] (ID... | --all)\n"
    "\n"
    "Delete stored messages.  An ID may be 'latest' for the newest.\n"
    "\n"
    "  --db PATH    the store (default " CLI_DEFAULT_DB ")\n"
    "  --all        delete every message\n"
    "\n"
    "Exit status: 0 on success, 1 if an ID was not found (the others are"
    " still\ndeleted), 2 on a usage error.\n";

static const struct option cmd_delete_opts[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * `mailsink delete [--db PATH] (ID... | --all)`.  Prints "deleted N
 * message(s)".  Exits 0 on success, 1 if some id was not found or the
 * store cannot be written, 2 on a usage error.
 */
int
cmd_delete(int argc, char **argv)
{
	struct store	*st = NULL;
	const char	*db = CLI_DEFAULT_DB, *cmd = argv[0];
	char		*cause = NULL;
	int64_t		*ids = NULL;
	uint64_t	 deleted = 0;
	size_t		 nids = 0, i, j;
	int		 ch, all = 0, r, rc = CLI_EXIT_NOTFOUND, missing = 0;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", cmd_delete_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			fputs(cmd_delete_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_bad_option(cmd, ch, argv));
		}
	}
	argc -= optind;
	argv += optind;
	if (all == (argc > 0)) {
		cli_usage_error(cmd, all ? "give ids or --all, not both" :
		    "give the ids to delete, or --all");
		return (CLI_EXIT_USAGE);
	}

	/* Deleting from a store that is not there must not create one. */
	if ((st = store_open(db, STORE_NOCREATE, &cause)) == NULL) {
		fprintf(stderr, "mailsink: %s\n", cause);
		goto out;
	}

	if (all) {
		if (store_msg_delete_all(st, &deleted, &cause) == -1) {
			fprintf(stderr, "mailsink %s: %s\n", cmd, cause);
			goto out;
		}
	} else {
		ids = xreallocarray(NULL, (size_t)argc, sizeof(*ids));
		for (i = 0; i < (size_t)argc; i++) {
			r = cli_parse_id(st, argv[i], &ids[nids]);
			if (r == CLI_EXIT_USAGE) {
				rc = r;
				goto out;
			}
			if (r != 0) {
				missing = 1;
				continue;
			}
			for (j = 0; j < nids; j++)
				if (ids[j] == ids[nids])
					break;
			if (j == nids)
				nids++;
		}
		for (i = 0; i < nids; i++) {
			r = store_msg_delete(st, ids[i], &cause);
			if (r == -1) {
				fprintf(stderr, "mailsink %s: %s\n", cmd,
				    cause);
				free(cause);
				cause = NULL;
				missing = 1;
			} else if (r == 1) {
				fprintf(stderr, "mailsink: no message with id %"
				    PRId64 "\n", ids[i]);
				missing = 1;
			} else
				deleted++;
		}
	}
	printf("deleted %" PRIu64 " message%s\n", deleted,
	    deleted == 1 ? "" : "s");
	rc = missing ? CLI_EXIT_NOTFOUND : CLI_EXIT_OK;
out:
	free(ids);
	free(cause);
	store_close(st);
	return (rc);
}
