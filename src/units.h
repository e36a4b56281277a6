/*
 * units.h - parsing of sizes ("25M") and durations ("500ms", "5s").
 *
 * Pure core.  Every parser rejects empty input, signs, junk after the
 * unit and values that overflow uint64_t, and returns -1 for them.
 */
#ifndef MAILSINK_UNITS_H
#define MAILSINK_UNITS_H

#include <stdint.h>

int	units_parse_size(const char *, uint64_t *);
int	units_parse_duration_ms(const char *, uint64_t *);
int	units_parse_uint(const char *, uint64_t, uint64_t *);
int	units_parse_double(const char *, double *);

#endif /* MAILSINK_UNITS_H */
