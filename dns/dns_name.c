/* DNS helpers that need no network: address literals, reverse names, name syntax, server specs. */
#include "dns/dns.h"
#include "core/textsafe.h"
#include "core/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
dns_result_has_addr(const struct dns_result *res, int family, const unsigned char *addr)
{
	size_t i;

	family = net_ip_unmap(family, &addr);
	for (i = 0; res->status == DNS_ANSWER && i < res->nrr; i++) {
		if (family == AF_INET && res->rr[i].type == DNS_T_A &&
		    memcmp(res->rr[i].u.a.addr, addr, 4) == 0)
			return true;
		if (family == AF_INET6 && res->rr[i].type == DNS_T_AAAA &&
		    memcmp(res->rr[i].u.aaaa.addr, addr, 16) == 0)
			return true;
	}
	return false;
}
/*
 * A zone of "" gives the reversed part alone; a final dot on the zone is
 * dropped so that the output never ends in one.
 */
int
dns_reverse_name(const char *ip, const char *zone, bool map4, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	char rev[80];
	size_t zlen, o = 0;
	int family, i, n;

	if (out == NULL || outlen == 0 || net_ip_parse(ip, &family, a) == -1)
		return -1;
	if (map4) {
		const unsigned char *p = a;

		if ((family = net_ip_unmap(family, &p)) == AF_INET)
			memmove(a, p, 4);
	}
	if (zone == NULL)
		zone = family == AF_INET ? "in-addr.arpa" : "ip6.arpa";
	zlen = strlen(zone);
	if (zlen > 0 && zone[zlen - 1] == '.')
		zlen--;
	if (family == AF_INET) {
		n = snprintf(rev, sizeof(rev), "%u.%u.%u.%u",
		    a[3], a[2], a[1], a[0]);
		o = (size_t)n;
	} else {
		/* RFC 3596 2.5 and RFC 5782 2.4: nibbles, least significant first. */
		for (i = 15; i >= 0; i--) {
			rev[o++] = hex[a[i] & 0x0f];
			rev[o++] = '.';
			rev[o++] = hex[a[i] >> 4];
			rev[o++] = '.';
		}
		rev[--o] = '\0';
	}
	if (zlen == 0)
		n = snprintf(out, outlen, "%s", rev);
	else
		n = snprintf(out, outlen, "%s.%.*s", rev, (int)zlen, zone);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

/* A decimal port 1..65535, digits only. */
static int
parse_port(const char *s, unsigned *port)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static void
server_fill(struct dns_server *out, int family, const unsigned char *addr,
    unsigned port, uint32_t scope)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char text[INET6_ADDRSTRLEN];

	memset(out, 0, sizeof(*out));
	net_ip_format(family, addr, text, sizeof(text));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)&out->addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, addr, 4);
		out->addrlen = sizeof(*sin);
		snprintf(out->label, sizeof(out->label), "%s:%u", text, port);
	} else {
		sin6 = (struct sockaddr_in6 *)&out->addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_scope_id = scope;
		memcpy(&sin6->sin6_addr, addr, 16);
		out->addrlen = sizeof(*sin6);
		snprintf(out->label, sizeof(out->label), "[%s]:%u", text, port);
	}
}

int
dns_server_parse(const char *spec, struct dns_server *out)
{
	unsigned char addr[16];
	char host[INET6_ADDRSTRLEN + 1];
	const char *close, *colon, *portstr = NULL;
	size_t hlen;
	unsigned port = 53;
	int family;

	if (spec == NULL || spec[0] == '\0')
		return -1;
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL)
			return -1;
		hlen = (size_t)(close - spec - 1);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			return -1;
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -1;
		family = AF_INET6;
	} else {
		colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* One colon: IPv4 with a port; more: a bare IPv6 address. */
			hlen = (size_t)(colon - spec);
			portstr = colon + 1;
			if (hlen >= sizeof(host))
				return -1;
			memcpy(host, spec, hlen);
			host[hlen] = '\0';
			if (inet_pton(AF_INET, host, addr) != 1)
				return -1;
			family = AF_INET;
		} else if (net_ip_parse(spec, &family, addr) == -1) {
			return -1;
		}
	}
	if (portstr != NULL && parse_port(portstr, &port) == -1)
		return -1;
	server_fill(out, family, addr, port, 0);
	return 0;
}

/*
 * One "nameserver" address: resolv.conf(5) takes no port. A link-local IPv6
 * address may carry "%scope" (an interface name or number); the scope is
 * applied and left out of the label, and an unknown interface skips the line.
 */
static int
resolv_server(const char *tok, struct dns_server *out)
{
	unsigned char addr[16];
	char host[INET6_ADDRSTRLEN + 1];
	const char *pct;
	char *end;
	unsigned long scope = 0;
	size_t hlen;
	int family;

	pct = strchr(tok, '%');
	hlen = pct != NULL ? (size_t)(pct - tok) : strlen(tok);
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, tok, hlen);
	host[hlen] = '\0';
	if (net_ip_parse(host, &family, addr) == -1)
		return -1;
	if (pct != NULL) {
		if (family != AF_INET6 || pct[1] == '\0')
			return -1;
		errno = 0;
		scope = strtoul(pct + 1, &end, 10);
		if (*end != '\0' || errno != 0 || scope > UINT32_MAX)
			scope = if_nametoindex(pct + 1);
		if (scope == 0)
			return -1;
	}
	server_fill(out, family, addr, 53, (uint32_t)scope);
	return 0;
}

int
dns_servers_from_resolv_conf(const char *path, struct dns_server *out, size_t max)
{
	FILE *f;
	char *line = NULL, *tok, *save = NULL;
	size_t cap = 0, n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (n < max && getline(&line, &cap, f) != -1) {
		tok = strtok_r(line, " \t\r\n", &save);
		if (tok == NULL || strcmp(tok, "nameserver") != 0)
			continue;
		tok = strtok_r(NULL, " \t\r\n", &save);
		if (tok != NULL && resolv_server(tok, &out[n]) == 0)
			n++;
	}
	free(line);
	fclose(f);
	return (int)n;
}
