/*
 * test_smtp_bdat.c - unit tests for BDAT argument parsing (RFC 3030).
 *
 * The chunk size decides how many octets the session reads as message
 * data, so every malformed or overflowing size must be refused rather
 * than read as something else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat.h"
#include "smtp_bdat.h"

struct t_case {
	const char	*label;
	const char	*args;		/* text after "BDAT" */
	int		 ret;		/* wanted return */
	uint64_t	 size;		/* wanted *size when ret is 0 */
	int		 last;		/* wanted *last if ret is 0 */
};

static const struct t_case t_cases[] = {
	{ "size", "1", 0, 1, 0 },
	{ "zero", "0", 0, 0, 0 },
	{ "zero last", "0 LAST", 0, 0, 1 },
	{ "leading space", " 100", 0, 100, 0 },
	{ "leading spaces", "   100", 0, 100, 0 },
	{ "last", "100 LAST", 0, 100, 1 },
	{ "last lower", "100 last", 0, 100, 1 },
	{ "last mixed tab", "100\tLaSt", 0, 100, 1 },
	{ "last trailing", "100 LAST  ", 0, 100, 1 },
	{ "trailing spaces", "100  ", 0, 100, 0 },
	{ "spaces around", "  7   LAST ", 0, 7, 1 },
	{ "leading zeros", "00000000000000000001", 0, 1, 0 },
	{ "max", "18446744073709551615", 0, UINT64_MAX, 0 },
	{ "max last", " 18446744073709551615 LAST", 0, UINT64_MAX, 1 },
	{ "big", "1000000000000", 0, UINT64_C(1000000000000), 0 },

	{ "empty", "", -1, 0, 0 },
	{ "only space", " ", -1, 0, 0 },
	{ "no size", "LAST", -1, 0, 0 },
	{ "no size spaced", " LAST", -1, 0, 0 },
	{ "negative", "-1", -1, 0, 0 },
	{ "plus", "+1", -1, 0, 0 },
	{ "hex", "0x10", -1, 0, 0 },
	{ "junk after size", "1x", -1, 0, 0 },
	{ "last glued", "1LAST", -1, 0, 0 },
	{ "last longer", "1 LASTX", -1, 0, 0 },
	{ "last short", "1 LAS", -1, 0, 0 },
	{ "junk after last", "1 LAST x", -1, 0, 0 },
	{ "last twice", "1 LAST LAST", -1, 0, 0 },
	{ "two sizes", "1 2", -1, 0, 0 },
	{ "comma", "1,2", -1, 0, 0 },
	{ "decimal point", "1.5", -1, 0, 0 },
	{ "max plus one", "18446744073709551616", -1, 0, 0 },
	{ "20 nines", "99999999999999999999", -1, 0, 0 },
	{ "21 digits", "000000000000000000001", -1, 0, 0 },
	{ "crlf left in", "1\r\n", -1, 0, 0 },
	{ "nbsp", "1\xa0LAST", -1, 0, 0 },
};

static void
test_bdat_table(void **state)
{
	const struct t_case	*tc;
	uint64_t		 size;
	size_t			 i;
	int			 ret, last;

	for (i = 0; i < MS_NITEMS(t_cases); i++) {
		tc = &t_cases[i];
		size = UINT64_C(0xdeadbeef);
		last = 42;
		ret = smtp_bdat_parse(tc->args, &size, &last);
		if (ret != tc->ret)
			fail_msg("%s: \"%s\": got %d, want %d", tc->label,
			    tc->args, ret, tc->ret);
		if (ret == 0 && (size != tc->size || last != tc->last))
			fail_msg("%s: \"%s\": got size %llu last %d, want "
			    "size %llu last %d", tc->label, tc->args,
			    (unsigned long long)size, last,
			    (unsigned long long)tc->size, tc->last);
		if (ret != 0 && (size != UINT64_C(0xdeadbeef) || last != 42))
			fail_msg("%s: \"%s\": outputs changed on failure",
			    tc->label, tc->args);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdat_table),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
