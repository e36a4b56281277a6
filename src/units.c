/*
 * units.c - sizes ("25M", "512KB"), durations ("500ms", "5s"), counts and
 * probabilities as written in the config file and on the command line.
 *
 * strtoull() is not used for the integers: it takes leading blanks, signs
 * ("-1" becomes 2^64 - 1) and hex, and a typo there would silently become a
 * huge limit.  Each parser accepts plain decimal digits and its suffixes,
 * checks every multiplication for overflow and returns -1 for anything
 * else, leaving *out untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "units.h"

/*
 * Read the leading decimal digits of s into *out and return the first byte
 * after them; NULL if there are none or the value passes UINT64_MAX.
 */
static const char *
units_digits(const char *s, uint64_t *out)
{
	uint64_t	v = 0;
	unsigned int	d;
	const char	*p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		d = (unsigned int)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (NULL);
		v = v * 10 + d;
	}
	if (p == s)
		return (NULL);
	*out = v;
	return (p);
}

/* *v *= mul, or -1 if that overflows. */
static int
units_mul(uint64_t *v, uint64_t mul)
{
	if (mul != 0 && *v > UINT64_MAX / mul)
		return (-1);
	*v *= mul;
	return (0);
}

/*
 * Parse a size in bytes: decimal digits, then optionally K, M or G (any
 * case, powers of 1024 as --max-size documents), then optionally "B":
 * "1000", "512K", "25MB", "100B".  0 and *out set, or -1.
 */
int
units_parse_size(const char *s, uint64_t *out)
{
	const char	*p;
	uint64_t	 v, mul = 1;

	if ((p = units_digits(s, &v)) == NULL)
		return (-1);
	switch (*p) {
	case 'k':
	case 'K':
		mul = UINT64_C(1) << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mul = UINT64_C(1) << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mul = UINT64_C(1) << 30;
		p++;
		break;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0' || units_mul(&v, mul) == -1)
		return (-1);
	*out = v;
	return (0);
}

/*
 * Parse a duration into milliseconds: decimal digits, then "ms", "s", "m"
 * or "h" (any case); bare digits are seconds, as --timeout takes them.
 * 0 and *out set, or -1.
 */
int
units_parse_duration_ms(const char *s, uint64_t *out)
{
	const char	*p;
	uint64_t	 v, mul;

	if ((p = units_digits(s, &v)) == NULL)
		return (-1);
	if (*p == '\0' || strcasecmp(p, "s") == 0)
		mul = 1000;
	else if (strcasecmp(p, "ms") == 0)
		mul = 1;
	else if (strcasecmp(p, "m") == 0)
		mul = 60 * 1000;
	else if (strcasecmp(p, "h") == 0)
		mul = 60 * 60 * 1000;
	else
		return (-1);
	if (units_mul(&v, mul) == -1)
		return (-1);
	*out = v;
	return (0);
}

/*
 * Parse a plain decimal number from 0 to max, digits only.  0 and *out
 * set, or -1.
 */
int
units_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	const char	*p;
	uint64_t	 v;

	if ((p = units_digits(s, &v)) == NULL || *p != '\0' || v > max)
		return (-1);
	*out = v;
	return (0);
}

/*
 * Parse a finite, non-negative decimal number such as "0.3", "1" or
 * "2.5e-1".  strtod() alone would also take blanks, signs, hex floats,
 * "inf" and "nan", so the first byte must be a digit or a dot, only digits,
 * ".", "e" and exponent signs may appear, and strtod() must consume the
 * whole string.  strtod() follows LC_NUMERIC; mailsink never sets it, so
 * the decimal point is ".".  0 and *out set, or -1.
 */
int
units_parse_double(const char *s, double *out)
{
	char	*end;
	double	 d;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return (-1);
	if (s[strspn(s, "0123456789.eE+-")] != '\0')	/* "0x1p3", blanks */
		return (-1);
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d))
		return (-1);
	*out = d;
	return (0);
}
