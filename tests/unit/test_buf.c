/*
 * test_buf.c - buf.c: growth, the hard cap, printf appends, consume, reset.
 *
 * The cap is the point of this module (STYLE 25), so every append path is
 * driven past it and must fail whole, leaving bytes, length and storage as
 * they were.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "buf.h"

/* Check the invariants every buffer keeps: NUL after len, len < cap. */
static void
check_invariants(const char *label, const struct buf *b)
{
	if (b->data == NULL) {
		if (b->len != 0 || b->cap != 0)
			fail_msg("%s: NULL data with len %zu cap %zu", label,
			    b->len, b->cap);
		return;
	}
	if (b->len >= b->cap)
		fail_msg("%s: len %zu not below cap %zu", label, b->len,
		    b->cap);
	if (b->data[b->len] != '\0')
		fail_msg("%s: no NUL after %zu bytes", label, b->len);
	if (b->max != 0 && b->len > b->max)
		fail_msg("%s: len %zu past max %zu", label, b->len, b->max);
}

/* Fail with got/want if the contents are not exactly want (wlen bytes). */
static void
check_contents(const char *label, const struct buf *b, const char *want,
    size_t wlen)
{
	check_invariants(label, b);
	if (b->len != wlen || memcmp(buf_str(b), want, wlen) != 0)
		fail_msg("%s: got %zu \"%.*s\" want %zu \"%.*s\"", label,
		    b->len, (int)b->len, buf_str(b), wlen, (int)wlen, want);
}

static void
test_init_empty(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.max, 100);
	assert_string_equal(buf_str(&b), "");
	check_contents("init", &b, "", 0);
	buf_consume(&b, 5);		/* must not touch NULL data */
	buf_reset(&b);
	check_contents("consume/reset empty", &b, "", 0);
	buf_clear(&b);
	buf_clear(&b);			/* twice is fine */
	assert_null(b.data);
}

static void
test_growth(void **state)
{
	struct buf	b;
	char		want[5000];
	size_t		i, lastcap = 0, regrows = 0;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < sizeof(want); i++) {
		want[i] = (char)('a' + i % 26);
		assert_int_equal(buf_add(&b, &want[i], 1), 0);
		if (b.cap != lastcap) {
			regrows++;
			if (lastcap != 0 && b.cap < 2 * lastcap)
				fail_msg("cap grew %zu -> %zu, not doubling",
				    lastcap, b.cap);
			lastcap = b.cap;
		}
	}
	check_contents("5000 single adds", &b, want, sizeof(want));
	/* 64 doubled up to 8192: 8 allocations for 5000 bytes. */
	if (regrows > 8)
		fail_msg("%zu reallocations for 5000 bytes", regrows);

	/* One large add, and bytes that are not text (NUL inside). */
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	check_contents("embedded NUL", &b, "a\0b", 3);
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	check_contents("add nothing", &b, "a\0b", 3);
	buf_clear(&b);

	buf_init(&b, 0);
	assert_int_equal(buf_add(&b, "", 0), 0);
	assert_non_null(b.data);	/* always a C string once touched */
	check_contents("add nothing to empty", &b, "", 0);
	buf_clear(&b);
}

static void
test_cap(void **state)
{
	static const struct {
		const char	*label;
		size_t		 max;
		const char	*prefill;
		size_t		 add;		/* bytes of 'x' to add */
		int		 want;		/* buf_add result */
	} tc[] = {
		{ "empty, add up to cap", 10, "", 10, 0 },
		{ "empty, add cap+1", 10, "", 11, -1 },
		{ "half, add to cap", 10, "abcde", 5, 0 },
		{ "half, add one past", 10, "abcde", 6, -1 },
		{ "full, add zero", 10, "abcdefghij", 0, 0 },
		{ "full, add one", 10, "abcdefghij", 1, -1 },
		{ "cap 1, add 1", 1, "", 1, 0 },
		{ "cap 1, add 2", 1, "", 2, -1 },
		{ "cap 64, add 64", 64, "", 64, 0 },
		{ "cap 64, add 65", 64, "", 65, -1 },
		{ "no cap, add 100000", 0, "", 100000, 0 },
		{ "no cap, huge add", 0, "abc", (size_t)-1 / 2, -1 },
	};
	static char	 xs[100000];
	struct buf	 b;
	char		*olddata, want[100];
	size_t		 i, oldcap, plen;
	int		 r;

	(void)state;
	memset(xs, 'x', sizeof(xs));
	for (i = 0; i < MS_NITEMS(tc); i++) {
		buf_init(&b, tc[i].max);
		plen = strlen(tc[i].prefill);
		if (plen > 0)
			assert_int_equal(buf_adds(&b, tc[i].prefill), 0);
		olddata = b.data;
		oldcap = b.cap;
		/* a huge add must fail before anything reads xs */
		r = buf_add(&b, xs, tc[i].add);
		if (r != tc[i].want)
			fail_msg("%s: buf_add got %d want %d", tc[i].label, r,
			    tc[i].want);
		if (r == 0) {
			check_invariants(tc[i].label, &b);
			assert_int_equal(b.len, plen + tc[i].add);
			assert_memory_equal(b.data, tc[i].prefill, plen);
			assert_memory_equal(b.data + plen, xs, tc[i].add);
		} else {
			/* failed whole: same bytes, same storage */
			check_contents(tc[i].label, &b, tc[i].prefill, plen);
			assert_ptr_equal(b.data, olddata);
			assert_int_equal(b.cap, oldcap);

			/* the printf paths refuse the same way */
			if (tc[i].max != 0) {
				snprintf(want, sizeof(want), "%.*s",
				    (int)(tc[i].max - plen + 1), xs);
				assert_int_equal(buf_addf(&b, "%s", want), -1);
				assert_int_equal(buf_adds(&b, want), -1);
				check_contents(tc[i].label, &b, tc[i].prefill,
				    plen);
			}
		}
		buf_clear(&b);
		assert_int_equal(b.max, tc[i].max);	/* clear keeps cap */
	}
}

static void
test_addf(void **state)
{
	struct buf	 b;
	char		 want[300];

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_addf(&b, "%d-%s", 42, "x"), 0);
	check_contents("addf", &b, "42-x", 4);
	assert_int_equal(buf_addf(&b, "%s", ""), 0);
	check_contents("addf empty", &b, "42-x", 4);
	assert_int_equal(buf_adds(&b, "|"), 0);
	/* longer than the first allocation, so vsnprintf runs after growth */
	memset(want, 'y', 200);
	want[200] = '\0';
	assert_int_equal(buf_addf(&b, "%s%c", want, '!'), 0);
	memcpy(want, "42-x|", 5);
	memset(want + 5, 'y', 200);
	memcpy(want + 205, "!", 2);
	check_contents("addf after growth", &b, want, strlen(want));
	buf_clear(&b);

	/* exactly to the cap, then one more byte */
	buf_init(&b, 6);
	assert_int_equal(buf_addf(&b, "%03d", 7), 0);
	assert_int_equal(buf_addf(&b, "%s", "abc"), 0);
	check_contents("addf to cap", &b, "007abc", 6);
	assert_int_equal(buf_addf(&b, "%c", 'z'), -1);
	check_contents("addf past cap", &b, "007abc", 6);
	buf_clear(&b);

	/* an empty format on a fresh buffer still yields a C string */
	buf_init(&b, 0);
	assert_int_equal(buf_addf(&b, "%s", ""), 0);
	assert_non_null(b.data);
	check_contents("addf empty fresh", &b, "", 0);
	buf_clear(&b);
}

static void
test_consume(void **state)
{
	static const struct {
		const char	*label;
		size_t		 n;
		const char	*want;
	} tc[] = {
		{ "nothing", 0, "hello world" },
		{ "one", 1, "ello world" },
		{ "word", 6, "world" },
		{ "all but one", 10, "d" },
		{ "all", 11, "" },
		{ "more than all", 100, "" },
		{ "SIZE_MAX", (size_t)-1, "" },
	};
	struct buf	 b;
	char		*olddata;
	size_t		 i;

	(void)state;
	for (i = 0; i < MS_NITEMS(tc); i++) {
		buf_init(&b, 11);
		assert_int_equal(buf_adds(&b, "hello world"), 0);
		olddata = b.data;
		buf_consume(&b, tc[i].n);
		check_contents(tc[i].label, &b, tc[i].want,
		    strlen(tc[i].want));
		assert_ptr_equal(b.data, olddata);	/* no reallocation */
		/* room freed by consume can be used up to the cap again */
		assert_int_equal(buf_add(&b, "0123456789a", tc[i].n > 11 ?
		    11 : tc[i].n), 0);
		assert_int_equal(b.len, 11);
		assert_int_equal(buf_add(&b, "z", 1), -1);
		buf_clear(&b);
	}
}

static void
test_reset_clear(void **state)
{
	struct buf	 b;
	char		*olddata;
	size_t		 oldcap;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(buf_adds(&b, "some text"), 0);
	olddata = b.data;
	oldcap = b.cap;
	buf_reset(&b);
	check_contents("reset", &b, "", 0);
	assert_ptr_equal(b.data, olddata);	/* storage kept */
	assert_int_equal(b.cap, oldcap);
	assert_int_equal(b.max, 1000);
	assert_int_equal(buf_adds(&b, "again"), 0);
	check_contents("after reset", &b, "again", 5);

	buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1000);		/* the cap survives */
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_adds(&b, "reused"), 0);
	check_contents("after clear", &b, "reused", 6);
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_reset_clear),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
