/* Address literals and host name syntax: pure functions every layer shares. */
#ifndef WHY550_NET_H
#define WHY550_NET_H

#include <stdbool.h>
#include <stddef.h>

/* Parses an IP literal: family AF_INET/AF_INET6 and 4/16 bytes in addr. -1 if not an address. */
int net_ip_parse(const char *ip, int *family, unsigned char addr[16]);

/*
 * RFC 5321 4.1.3: true if s is a whole address literal, "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]" (the tag in any case), and nothing else.
 */
bool net_address_literal(const char *s);

/* Formats an address of family into buf (INET6_ADDRSTRLEN is enough). */
void net_ip_format(int family, const unsigned char *addr, char *buf, size_t len);

/*
 * RFC 4291 2.5.5.2: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4
 * host it maps. Returns the family the address is seen as, and points
 * *addr at its 4 or 16 bytes (inside the array it pointed at before).
 */
int net_ip_unmap(int family, const unsigned char **addr);

/*
 * Validates a host or domain name: total length at most 253 octets, labels 1..63,
 * LDH characters (underscore allowed when allow_underscore). 0 ok, -1 with a
 * reason ("label 'x' is over 63 octets") written to why.
 */
int net_name_check(const char *name, bool allow_underscore, char *why, size_t whylen);

/* name in lower case without its final dot, as names are compared (fresh string). */
char *net_name_canonical(const char *name);

#endif
