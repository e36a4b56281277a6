/*
 * netaddr.h - IPv4/IPv6 addresses and CIDR networks for connect rules.
 *
 * Pure core: parsing goes through inet_pton(), nothing here touches a
 * socket.  An IPv4-mapped IPv6 address (::ffff:192.0.2.1), which is how a
 * dual-stack listener reports an IPv4 client, matches IPv4 networks.
 */
#ifndef MAILSINK_NETADDR_H
#define MAILSINK_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#define NETADDR_V4	4		/* family: IPv4, bytes[0..3] used */
#define NETADDR_V6	6		/* family: IPv6, bytes[0..15] used */

/* Longest netaddr_format() output: an IPv6 text, "/128" and the NUL. */
#define NETADDR_TEXT_MAX	(46 + 4 + 1)

/* An address, or a network when prefix is shorter than the address. */
struct netaddr {
	int		family;	/* NETADDR_V4 or NETADDR_V6 */
	uint8_t		bytes[16]; /* network order; 0 past prefix */
	unsigned	prefix;	/* 0..32 or 0..128 */
};

int	netaddr_parse(const char *, struct netaddr *, const char **);
int	netaddr_parse_addr(const char *, struct netaddr *);
int	netaddr_contains(const struct netaddr *, const struct netaddr *);
int	netaddr_match(const struct netaddr *, const char *);
void	netaddr_format(const struct netaddr *, char *, size_t);

#endif /* MAILSINK_NETADDR_H */
