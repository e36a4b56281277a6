/*
 * test_netaddr.c - netaddr.c: address and CIDR parsing, canonical
 * formatting, and matching, including IPv4-mapped IPv6 clients.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compat.h"
#include "netaddr.h"

struct parse_case {
	const char	*in;
	int		 want;		/* 0 or -1 */
	const char	*out;	/* 0: netaddr_format(); -1: why */
};

static const struct parse_case parse_cases[] = {
	{ "127.0.0.1", 0, "127.0.0.1" },
	{ "127.0.0.1/32", 0, "127.0.0.1" },
	{ "10.0.0.0/8", 0, "10.0.0.0/8" },
	{ "0.0.0.0/0", 0, "0.0.0.0/0" },
	{ "192.168.1.128/25", 0, "192.168.1.128/25" },
	{ "255.255.255.255", 0, "255.255.255.255" },
	{ "::1", 0, "::1" },
	{ "::1/128", 0, "::1" },
	{ "0:0:0:0:0:0:0:0001", 0, "::1" },
	{ "2001:db8::/32", 0, "2001:db8::/32" },
	{ "2001:DB8::/32", 0, "2001:db8::/32" },
	{ "fe80::/10", 0, "fe80::/10" },
	{ "::/0", 0, "::/0" },
	{ "::ffff:1.2.3.4", 0, "::ffff:1.2.3.4" },
	{ "::ffff:0:0/96", 0, "::ffff:0.0.0.0/96" },

	{ "", -1, "bad address" },
	{ "localhost", -1, "bad address" },
	{ "1.2.3", -1, "bad address" },
	{ "256.0.0.1", -1, "bad address" },
	{ " 1.2.3.4", -1, "bad address" },
	{ "1.2.3.4 ", -1, "bad address" },
	{ "fe80::1%eth0", -1, "bad address" },
	{ "/8", -1, "bad address" },
	{ "10.*", -1, "bad address" },
	{ "10.0.0.0/", -1, "bad prefix length" },
	{ "10.0.0.0/33", -1, "bad prefix length" },
	{ "10.0.0.0/08", -1, "bad prefix length" },
	{ "10.0.0.0/-1", -1, "bad prefix length" },
	{ "10.0.0.0/+8", -1, "bad prefix length" },
	{ "10.0.0.0/8/8", -1, "bad prefix length" },
	{ "10.0.0.0/0008", -1, "bad prefix length" },
	{ "::1/129", -1, "bad prefix length" },
	{ "10.0.0.1/8", -1, "host bits set past the prefix" },
	{ "192.168.1.129/25", -1, "host bits set past the prefix" },
	{ "2001:db8::1/32", -1, "host bits set past the prefix" },
	{ "::1/0", -1, "host bits set past the prefix" },
};

static void
test_parse(void **state)
{
	struct netaddr	 n;
	char		 got[NETADDR_TEXT_MAX];
	const char	*why;
	size_t		 i;
	int		 r, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];

		why = "(unset)";
		r = netaddr_parse(c->in, &n, &why);
		if (r == 0)
			netaddr_format(&n, got, sizeof(got));
		else
			(void)snprintf(got, sizeof(got), "%s", why);
		if (r != c->want || strcmp(got, c->out) != 0) {
			print_error("netaddr_parse(\"%s\"): got %d \"%s\", "
			    "want %d \"%s\"\n", c->in, r, got, c->want,
			    c->out);
			failed = 1;
		}
	}
	/* why may be NULL. */
	assert_int_equal(netaddr_parse("nope", &n, NULL), -1);
	if (failed)
		fail();
}

struct match_case {
	const char	*net;
	const char	*addr;
	int		 want;
};

static const struct match_case match_cases[] = {
	{ "10.0.0.0/8", "10.1.2.3", 1 },
	{ "10.0.0.0/8", "10.255.255.255", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "10.0.0.0/8", "9.255.255.255", 0 },
	{ "192.168.1.128/25", "192.168.1.200", 1 },
	{ "192.168.1.128/25", "192.168.1.128", 1 },
	{ "192.168.1.128/25", "192.168.1.127", 0 },
	{ "172.16.0.0/12", "172.31.1.1", 1 },
	{ "172.16.0.0/12", "172.32.0.1", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	/* IPv4-mapped IPv6 clients against IPv4 networks */
	{ "127.0.0.1", "::ffff:127.0.0.1", 1 },
	{ "127.0.0.1", "::FFFF:127.0.0.1", 1 },
	{ "10.0.0.0/8", "::ffff:10.9.8.7", 1 },
	{ "10.0.0.0/8", "::ffff:0a09:0807", 1 },
	{ "10.0.0.0/8", "::ffff:11.0.0.1", 0 },
	{ "10.0.0.0/8", "::10.9.8.7", 0 },	/* IPv4-compatible: no */
	{ "10.0.0.0/8", "2001:db8::a09:807", 0 },
	/* IPv4 clients against IPv6 networks: as ::ffff:a.b.c.d */
	{ "::ffff:0:0/96", "1.2.3.4", 1 },
	{ "::ffff:10.0.0.0/104", "10.1.1.1", 1 },
	{ "::ffff:10.0.0.0/104", "11.1.1.1", 0 },
	{ "::1", "127.0.0.1", 0 },
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "::1", "0::0:1", 1 },
	{ "2001:db8::/32", "2001:db8:1::5", 1 },
	{ "2001:db8::/32", "2001:DB8::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "fe80::/10", "fe80::1", 1 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	/* not addresses */
	{ "0.0.0.0/0", "", 0 },
	{ "0.0.0.0/0", "unknown", 0 },
	{ "0.0.0.0/0", "10.0.0.1/32", 0 },
	{ "::/0", "fe80::1%lo", 0 },
};

static void
test_match(void **state)
{
	struct netaddr	net;
	size_t		i;
	int		got, failed = 0;

	(void)state;
	for (i = 0; i < MS_NITEMS(match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		if (netaddr_parse(c->net, &net, NULL) == -1) {
			print_error("case %zu: bad network %s\n", i, c->net);
			failed = 1;
			continue;
		}
		got = netaddr_match(&net, c->addr);
		if (got != c->want) {
			print_error("netaddr_match(%s, \"%s\"): got %d, "
			    "want %d\n", c->net, c->addr, got, c->want);
			failed = 1;
		}
	}
	if (failed)
		fail();
}

/* Every prefix length of an IPv6 /n against the address just outside. */
static void
test_every_prefix(void **state)
{
	struct netaddr	net, in, out;
	unsigned	p, byte;

	(void)state;
	assert_int_equal(netaddr_parse_addr("2001:db8::", &in), 0);
	for (p = 1; p <= 128; p++) {
		net = in;
		net.prefix = p;
		/* Flip the last bit inside the prefix: now outside. */
		out = in;
		byte = (p - 1) / 8;
		out.bytes[byte] ^= (uint8_t)(0x80u >> ((p - 1) % 8));
		if (!netaddr_contains(&net, &in) ||
		    netaddr_contains(&net, &out))
			fail_msg("prefix /%u: in %d out %d, want 1 0", p,
			    netaddr_contains(&net, &in),
			    netaddr_contains(&net, &out));
		/* A bit past the prefix does not matter. */
		if (p < 128) {
			out = in;
			out.bytes[p / 8] ^= (uint8_t)(0x80u >> (p % 8));
			if (!netaddr_contains(&net, &out))
				fail_msg("prefix /%u: host bit mattered", p);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_every_prefix),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
