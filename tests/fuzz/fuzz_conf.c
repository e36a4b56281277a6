/*
 * fuzz_conf.c - libFuzzer target for the config file parser (conf).
 *
 * Input: the whole text of a config file, NULs and CRLFs included, given
 * to conf_parse() as the shell gives it the file's bytes.  Whether or not
 * it parses (the directives before a bad line are applied), the result is
 * dumped with conf_dump() (what `mailsink check-config` prints), the dump
 * is parsed into a fresh config, and that is dumped again.  conf_dump()
 * promises that "parsing the result gives the same settings", so the dump
 * must parse without error and the two dumps must be identical.  An error
 * must read "FILE:LINE:COL: problem" with LINE within the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "log.h"

#define FUZZ_CONF_FILE	"fuzz.conf"

/* An error must name the file, a line of the input and a column. */
static void
fuzz_conf_cause(const char *cause, const uint8_t *data, size_t size)
{
	const char	*p;
	char		*end;
	unsigned long	 line, col, lines;
	size_t		 i;

	FUZZ_ASSERT(cause != NULL, "conf_parse failed without a cause");
	FUZZ_ASSERT(strncmp(cause, FUZZ_CONF_FILE ":",
	    sizeof(FUZZ_CONF_FILE)) == 0, "cause '%s'", cause);
	p = cause + sizeof(FUZZ_CONF_FILE);
	line = strtoul(p, &end, 10);
	FUZZ_ASSERT(end != p && *end == ':', "cause '%s'", cause);
	p = end + 1;
	col = strtoul(p, &end, 10);
	FUZZ_ASSERT(end != p && strncmp(end, ": ", 2) == 0, "cause '%s'",
	    cause);
	for (lines = 1, i = 0; i < size; i++) {
		if (data[i] == '\n')
			lines++;
	}
	FUZZ_ASSERT(line >= 1 && line <= lines && col >= 1, "cause '%s' for"
	    " %lu lines", cause, lines);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, 0);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg, again;
	char		*cause = NULL, *dump, *dump2;
	int		 r;

	conf_init(&cfg);
	r = conf_parse(&cfg, (const char *)data, size, FUZZ_CONF_FILE, &cause);
	if (r == -1)
		fuzz_conf_cause(cause, data, size);
	else
		FUZZ_ASSERT(r == 0 && cause == NULL, "returned %d", r);
	free(cause);
	cause = NULL;
	if (conf_check(&cfg, &cause) == -1)
		FUZZ_ASSERT(cause != NULL, "conf_check failed without a cause");
	free(cause);
	cause = NULL;

	dump = conf_dump(&cfg);
	conf_init(&again);
	r = conf_parse(&again, dump, strlen(dump), FUZZ_CONF_FILE, &cause);
	FUZZ_ASSERT(r == 0, "the dump does not parse: %s\n--- dump:\n%s",
	    cause, dump);
	dump2 = conf_dump(&again);
	FUZZ_ASSERT(strcmp(dump, dump2) == 0, "the dump changes when read"
	    " back\n--- first:\n%s--- second:\n%s", dump, dump2);

	free(dump);
	free(dump2);
	conf_clear(&again);
	conf_clear(&cfg);
	return (0);
}
