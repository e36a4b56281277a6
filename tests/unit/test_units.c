/*
 * test_units.c - tables for units.c: sizes, durations, counts, fractions.
 *
 * Every case checks the return value and, on success, the value; on
 * failure it checks that the output was left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "units.h"

#define SENTINEL	UINT64_C(0x5a5a5a5a5a5a5a5a)

struct units_case {
	const char	*in;
	int		 want;		/* 0 or -1 */
	uint64_t	 value;		/* when want == 0 */
};

/* Run one uint64_t parser over a table; print every mismatch, then fail. */
static void
run_table(const char *name, int (*parse)(const char *, uint64_t *),
    const struct units_case *tc, size_t n)
{
	uint64_t	got;
	size_t		i;
	int		r, failed = 0;

	for (i = 0; i < n; i++) {
		got = SENTINEL;
		r = parse(tc[i].in, &got);
		if (r != tc[i].want) {
			print_error("%s(\"%s\"): got %d want %d\n", name,
			    tc[i].in, r, tc[i].want);
			failed = 1;
		} else if (r == 0 && got != tc[i].value) {
			print_error("%s(\"%s\"): got %llu want %llu\n", name,
			    tc[i].in, (unsigned long long)got,
			    (unsigned long long)tc[i].value);
			failed = 1;
		} else if (r == -1 && got != SENTINEL) {
			print_error("%s(\"%s\"): output changed on failure\n",
			    name, tc[i].in);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

static void
test_size(void **state)
{
	static const struct units_case tc[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1 },
		{ "1000", 0, 1000 },
		{ "007", 0, 7 },
		{ "100B", 0, 100 },
		{ "100b", 0, 100 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "512KB", 0, 512 * 1024 },
		{ "512kb", 0, 512 * 1024 },
		{ "25M", 0, 25 * 1024 * 1024 },
		{ "25MB", 0, 25 * 1024 * 1024 },
		{ "25mB", 0, 25 * 1024 * 1024 },
		{ "1G", 0, UINT64_C(1) << 30 },
		{ "4GB", 0, UINT64_C(4) << 30 },
		{ "0G", 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "17179869183G", 0, UINT64_C(17179869183) << 30 },
		{ "17592186044415K", 0, UINT64_C(17592186044415) << 10 },
		{ "18446744073709551616", -1, 0 },	/* 2^64 */
		{ "99999999999999999999999", -1, 0 },
		{ "17179869184G", -1, 0 },		/* 2^34 GiB = 2^64 */
		{ "17592186044416M", -1, 0 },		/* 2^44 MiB = 2^64 */
		{ "18014398509481984K", -1, 0 },	/* 2^54 KiB = 2^64 */
		{ "", -1, 0 },
		{ "K", -1, 0 },
		{ "B", -1, 0 },
		{ "MB", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "1 M", -1, 0 },
		{ "1.5M", -1, 0 },
		{ "25MiB", -1, 0 },
		{ "25MBB", -1, 0 },
		{ "25BM", -1, 0 },
		{ "1T", -1, 0 },
		{ "0x10", -1, 0 },
		{ "12abc", -1, 0 },
	};

	(void)state;
	run_table("units_parse_size", units_parse_size, tc, MS_NITEMS(tc));
}

static void
test_duration(void **state)
{
	static const struct units_case tc[] = {
		{ "0", 0, 0 },
		{ "5", 0, 5000 },
		{ "300", 0, 300000 },
		{ "5s", 0, 5000 },
		{ "5S", 0, 5000 },
		{ "500ms", 0, 500 },
		{ "500MS", 0, 500 },
		{ "500Ms", 0, 500 },
		{ "0ms", 0, 0 },
		{ "2m", 0, 120000 },
		{ "2M", 0, 120000 },
		{ "1h", 0, 3600000 },
		{ "24h", 0, UINT64_C(86400000) },
		{ "18446744073709551615ms", 0, UINT64_MAX },
		{ "18446744073709551s", 0, UINT64_C(18446744073709551000) },
		{ "18446744073709552s", -1, 0 },
		{ "18446744073709552", -1, 0 },		/* seconds */
		{ "18446744073709551616ms", -1, 0 },
		{ "5124095576030432h", -1, 0 },
		{ "", -1, 0 },
		{ "ms", -1, 0 },
		{ "s", -1, 0 },
		{ "-1s", -1, 0 },
		{ "+1s", -1, 0 },
		{ " 5s", -1, 0 },
		{ "5s ", -1, 0 },
		{ "5 s", -1, 0 },
		{ "1.5s", -1, 0 },
		{ "5sec", -1, 0 },
		{ "5d", -1, 0 },
		{ "5mss", -1, 0 },
		{ "5sm", -1, 0 },
	};

	(void)state;
	run_table("units_parse_duration_ms", units_parse_duration_ms, tc,
	    MS_NITEMS(tc));
}

static void
test_uint(void **state)
{
	static const struct {
		const char	*in;
		uint64_t	 max;
		int		 want;
		uint64_t	 value;
	} tc[] = {
		{ "0", 10, 0, 0 },
		{ "10", 10, 0, 10 },
		{ "007", 10, 0, 7 },
		{ "11", 10, -1, 0 },
		{ "0", 0, 0, 0 },
		{ "1", 0, -1, 0 },
		{ "1000", 1000, 0, 1000 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -1, 0 },
		{ "", 10, -1, 0 },
		{ "-1", UINT64_MAX, -1, 0 },
		{ "+1", 10, -1, 0 },
		{ " 1", 10, -1, 0 },
		{ "1 ", 10, -1, 0 },
		{ "1x", 10, -1, 0 },
		{ "0x1", 10, -1, 0 },
		{ "1K", UINT64_MAX, -1, 0 },
	};
	uint64_t	got;
	size_t		i;
	int		r, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		got = SENTINEL;
		r = units_parse_uint(tc[i].in, tc[i].max, &got);
		if (r != tc[i].want || (r == 0 && got != tc[i].value) ||
		    (r == -1 && got != SENTINEL)) {
			print_error("units_parse_uint(\"%s\", %llu): "
			    "got %d/%llu want %d/%llu\n", tc[i].in,
			    (unsigned long long)tc[i].max, r,
			    (unsigned long long)got, tc[i].want,
			    (unsigned long long)tc[i].value);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

static void
test_double(void **state)
{
	static const struct {
		const char	*in;
		int		 want;
		double		 value;
	} tc[] = {
		{ "0", 0, 0.0 },
		{ "1", 0, 1.0 },
		{ "0.3", 0, 0.3 },
		{ "0.25", 0, 0.25 },
		{ ".5", 0, 0.5 },
		{ "1.", 0, 1.0 },
		{ "1e-1", 0, 0.1 },
		{ "2.5E-1", 0, 0.25 },
		{ "1e+2", 0, 100.0 },
		{ "", -1, 0 },
		{ ".", -1, 0 },
		{ "-0.5", -1, 0 },
		{ "+1", -1, 0 },
		{ " 1", -1, 0 },
		{ "1 ", -1, 0 },
		{ "inf", -1, 0 },
		{ "infinity", -1, 0 },
		{ "nan", -1, 0 },
		{ "0x1p3", -1, 0 },
		{ "1e400", -1, 0 },
		{ "e5", -1, 0 },
		{ "1.2.3", -1, 0 },
		{ "0,5", -1, 0 },
		{ "abc", -1, 0 },
		{ "1e", -1, 0 },
	};
	double	got;
	size_t	i;
	int	r, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		got = -42.0;
		r = units_parse_double(tc[i].in, &got);
		if (r != tc[i].want || (r == 0 && got != tc[i].value) ||
		    (r == -1 && got != -42.0)) {
			print_error("units_parse_double(\"%s\"): got %d/%g "
			    "want %d/%g\n", tc[i].in, r, got, tc[i].want,
			    tc[i].value);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_double),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
