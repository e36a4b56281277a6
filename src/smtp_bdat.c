/*
 * smtp_bdat.c - CHUNKING (RFC 3030): BDAT argument parsing.
 *
 * "BDAT" SP chunk-size [ SP end-marker ], where chunk-size is 1*DIGIT and
 * end-marker is "LAST" (RFC 3030 2).  The size says how many octets follow
 * the command line, so a wrong parse here desynchronises the whole
 * session: the parser is strict about what follows the number and refuses
 * anything that does not fit in uint64_t rather than wrapping.  This file
 * must never consume the chunk itself; the session counts those octets.
 */
#include <stdint.h>
#include <strings.h>

#include "smtp_bdat.h"

/* RFC 3030 does not bound the digits; 20 is what uint64_t can need. */
#define SMTP_BDAT_DIGITS_MAX	20

/* Return whether c separates the BDAT arguments. */
static int
smtp_bdat_space(char c)
{
	return (c == ' ' || c == '\t');
}

/*
 * Parse the arguments of a BDAT command: args is the text after the verb
 * (leading blanks allowed), a decimal chunk size of 1 to 20 digits with no
 * sign that fits uint64_t, optionally blanks and "LAST" in any case, and
 * optional trailing blanks.  On success set *size and *last (1 if LAST was
 * given, else 0) and return 0; otherwise return -1 and leave both alone.
 */
int
smtp_bdat_parse(const char *args, uint64_t *size, int *last)
{
	const char	*p = args;
	uint64_t	 v = 0;
	size_t		 ndigits = 0;
	int		 d, islast = 0;

	while (smtp_bdat_space(*p))
		p++;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++ndigits > SMTP_BDAT_DIGITS_MAX)
			return (-1);
		d = *p - '0';
		if (v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	if (ndigits == 0)
		return (-1);

	if (smtp_bdat_space(*p)) {
		while (smtp_bdat_space(*p))
			p++;
		if (strncasecmp(p, "LAST", 4) == 0) {
			islast = 1;
			p += 4;
			while (smtp_bdat_space(*p))
				p++;
		}
	}
	if (*p != '\0')
		return (-1);

	*size = v;
	*last = islast;
	return (0);
}
