/*
 * netaddr.c - IPv4/IPv6 address and CIDR parsing and matching.
 *
 * Pure core: inet_pton()/inet_ntop() only, no sockets, no name lookups (a
 * connect rule names addresses, never host names, so a rule can never make
 * the server wait on DNS).
 *
 * A network is written ADDR or ADDR/PREFIX.  The prefix is plain decimal
 * without a leading zero, and the address must have no bits set past the
 * prefix: "10.0.0.1/8" is refused rather than silently widened, because
 * it is far more often a typo for a /32 (or for 10.0.0.0/8) than meant.
 *
 * A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d, so an
 * IPv4-mapped IPv6 address is compared as the IPv4 address it carries when
 * the network is IPv4, and an IPv4 address is compared as ::ffff:a.b.c.d
 * when the network is IPv6 (so ::ffff:0:0/96 holds every IPv4 client).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "netaddr.h"

/* Longest address text inet_pton() can take (INET6_ADDRSTRLEN - 1). */
#define NETADDR_ADDR_MAX	45

static const uint8_t netaddr_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	netaddr_pton(const char *, size_t, struct netaddr *);
static int	netaddr_prefix(const char *, unsigned, unsigned *);
static void	netaddr_to_v4(const struct netaddr *, struct netaddr *);
static void	netaddr_to_v6(const struct netaddr *, struct netaddr *);

/* Parse len bytes of s as a bare IPv4 or IPv6 address; 0 or -1. */
static int
netaddr_pton(const char *s, size_t len, struct netaddr *out)
{
	char	tmp[NETADDR_ADDR_MAX + 1];

	if (len == 0 || len > NETADDR_ADDR_MAX)
		return (-1);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, tmp, out->bytes) == 1) {
		out->family = NETADDR_V4;
		out->prefix = 32;
		return (0);
	}
	if (inet_pton(AF_INET6, tmp, out->bytes) == 1) {
		out->family = NETADDR_V6;
		out->prefix = 128;
		return (0);
	}
	return (-1);
}

/* Parse a prefix length: 1-3 digits, no leading zero, at most max. */
static int
netaddr_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned	v = 0;
	size_t		n;

	n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || s[n] != '\0' || (s[0] == '0' && n > 1))
		return (-1);
	for (; *s != '\0'; s++)
		v = v * 10 + (unsigned)(*s - '0');
	if (v > max)
		return (-1);
	*out = v;
	return (0);
}

/*
 * Parse text as an address ("192.0.2.1", "::1") or a network
 * ("10.0.0.0/8", "2001:db8::/32") into *out.  Returns 0, or -1 with *why
 * (when why is not NULL) set to a static reason: "bad address", "bad
 * prefix length" or "host bits set past the prefix".
 */
int
netaddr_parse(const char *text, struct netaddr *out, const char **why)
{
	const char	*slash;
	const char	*dummy;
	struct netaddr	 n;
	unsigned	 prefix, max, i, bit;

	if (why == NULL)
		why = &dummy;
	slash = strchr(text, '/');
	if (netaddr_pton(text, slash != NULL ? (size_t)(slash - text) :
	    strlen(text), &n) == -1) {
		*why = "bad address";
		return (-1);
	}
	if (slash != NULL) {
		max = n.family == NETADDR_V4 ? 32 : 128;
		if (netaddr_prefix(slash + 1, max, &prefix) == -1) {
			*why = "bad prefix length";
			return (-1);
		}
		for (i = prefix; i < max; i++) {
			bit = 0x80u >> (i % 8);
			if (n.bytes[i / 8] & bit) {
				*why = "host bits set past the prefix";
				return (-1);
			}
		}
		n.prefix = prefix;
	}
	*out = n;
	return (0);
}

/*
 * Parse text as a bare address (no prefix) into *out, as a client address
 * is reported.  Returns 0 or -1.
 */
int
netaddr_parse_addr(const char *text, struct netaddr *out)
{
	return (netaddr_pton(text, strlen(text), out));
}

/* The IPv4 address inside an IPv4-mapped IPv6 one (caller checked). */
static void
netaddr_to_v4(const struct netaddr *a, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = NETADDR_V4;
	memcpy(out->bytes, a->bytes + 12, 4);
	out->prefix = 32;
}

/* An IPv4 address as ::ffff:a.b.c.d. */
static void
netaddr_to_v6(const struct netaddr *a, struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = NETADDR_V6;
	memcpy(out->bytes, netaddr_mapped_prefix,
	    sizeof(netaddr_mapped_prefix));
	memcpy(out->bytes + 12, a->bytes, 4);
	out->prefix = 128;
}

/*
 * Return 1 if the address addr (its prefix is ignored) lies inside the
 * network net, 0 if not.  IPv4 and IPv4-mapped IPv6 are interchangeable
 * as the file comment says; any other IPv6 address never matches an IPv4
 * network.
 */
int
netaddr_contains(const struct netaddr *net, const struct netaddr *addr)
{
	struct netaddr	 conv;
	unsigned	 full, rest;
	uint8_t		 mask;

	if (net->family == NETADDR_V4 && addr->family == NETADDR_V6) {
		if (memcmp(addr->bytes, netaddr_mapped_prefix,
		    sizeof(netaddr_mapped_prefix)) != 0)
			return (0);
		netaddr_to_v4(addr, &conv);
		addr = &conv;
	} else if (net->family == NETADDR_V6 && addr->family == NETADDR_V4) {
		netaddr_to_v6(addr, &conv);
		addr = &conv;
	}
	full = net->prefix / 8;
	rest = net->prefix % 8;
	if (memcmp(net->bytes, addr->bytes, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xffu << (8 - rest));
	return ((net->bytes[full] & mask) == (addr->bytes[full] & mask));
}

/*
 * Return 1 if the address text (a client address as the listener reports
 * it) lies inside net, 0 if not or if text is not an address.
 */
int
netaddr_match(const struct netaddr *net, const char *text)
{
	struct netaddr	addr;

	if (netaddr_parse_addr(text, &addr) == -1)
		return (0);
	return (netaddr_contains(net, &addr));
}

/*
 * Write n as text into buf (len bytes, at least NETADDR_TEXT_MAX): the
 * address in inet_ntop()'s canonical form, then "/PREFIX" unless the
 * prefix covers the whole address.  "::0001/128" comes out as "::1".
 */
void
netaddr_format(const struct netaddr *n, char *buf, size_t len)
{
	char	addr[NETADDR_ADDR_MAX + 1];
	int	r;

	if (inet_ntop(n->family == NETADDR_V4 ? AF_INET : AF_INET6, n->bytes,
	    addr, sizeof(addr)) == NULL)
		fatalx("%s: inet_ntop family %d", __func__, n->family);
	if (n->prefix == (n->family == NETADDR_V4 ? 32u : 128u))
		r = snprintf(buf, len, "%s", addr);
	else
		r = snprintf(buf, len, "%s/%u", addr, n->prefix);
	if (r < 0 || (size_t)r >= len)
		fatalx("%s: buffer of %zu too small", __func__, len);
}
