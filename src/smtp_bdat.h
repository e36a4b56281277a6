/*
 * smtp_bdat.h - CHUNKING (RFC 3030): BDAT argument parsing.
 *
 * Pure core.  "BDAT <chunk-size> [LAST]": the size is a decimal of at most
 * 20 digits that must fit in uint64_t; LAST is case-insensitive.
 */
#ifndef MAILSINK_SMTP_BDAT_H
#define MAILSINK_SMTP_BDAT_H

#include <stdint.h>

int	smtp_bdat_parse(const char *, uint64_t *, int *);

#endif /* MAILSINK_SMTP_BDAT_H */
