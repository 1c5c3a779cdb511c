/* DNS helpers that need no network: address literals, reverse names, name syntax, server specs. */
#include "dns/dns.h"
#include "core/textsafe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1035 2.3.4: 63 octets a label; 255 on the wire is 253 as text without the final dot. */
#define NAME_MAX_LABEL	63
#define NAME_MAX_TEXT	253

/* How much of a label a message quotes. */
#define NAME_SHOW	32

int
dns_ip_parse(const char *ip, int *family, unsigned char addr[16])
{
	unsigned char buf[16];

	if (ip == NULL)
		return -1;
	if (inet_pton(AF_INET, ip, buf) == 1) {
		*family = AF_INET;
		memset(addr, 0, 16);
		memcpy(addr, buf, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, buf) == 1) {
		*family = AF_INET6;
		memcpy(addr, buf, 16);
		return 0;
	}
	return -1;
}

void
dns_ip_format(int family, const unsigned char *addr, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (inet_ntop(family, addr, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
}

static bool
is_v4_mapped(const unsigned char *a)
{
	static const unsigned char prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

int
dns_ip_unmap(int family, const unsigned char **addr)
{
	if (family == AF_INET6 && is_v4_mapped(*addr)) {
		*addr += 12;
		return AF_INET;
	}
	return family;
}

bool
dns_result_has_addr(const struct dns_result *res, int family, const unsigned char *addr)
{
	size_t i;

	family = dns_ip_unmap(family, &addr);
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

	if (out == NULL || outlen == 0 || dns_ip_parse(ip, &family, a) == -1)
		return -1;
	if (family == AF_INET6 && map4 && is_v4_mapped(a)) {
		memmove(a, a + 12, 4);
		family = AF_INET;
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

/* A printable excerpt for messages: other bytes as \xHH, long text cut with "...". */
static void
show(char *dst, size_t dstlen, const char *s, size_t n)
{
	text_quote(dst, dstlen, s, n, NAME_SHOW);
}

static int
why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_ldh(unsigned char c, bool allow_underscore)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || (allow_underscore && c == '_');
}

int
dns_name_check(const char *name, bool allow_underscore, char *why, size_t whylen)
{
	char shown[4 * NAME_SHOW + 8], bad[8];
	size_t len, start, end, i;

	if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0)
		return why_set(why, whylen, "name is empty");
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	if (len > NAME_MAX_TEXT)
		return why_set(why, whylen, "name is over %d octets", NAME_MAX_TEXT);
	for (start = 0; start <= len; start = end + 1) {
		end = start;
		while (end < len && name[end] != '.')
			end++;
		show(shown, sizeof(shown), name + start, end - start);
		if (end == start) {
			show(shown, sizeof(shown), name, len);
			return why_set(why, whylen, "name '%s' has an empty label", shown);
		}
		if (end - start > NAME_MAX_LABEL)
			return why_set(why, whylen, "label '%s' is over %d octets",
			    shown, NAME_MAX_LABEL);
		for (i = start; i < end; i++) {
			if (!is_ldh((unsigned char)name[i], allow_underscore)) {
				show(bad, sizeof(bad), name + i, 1);
				return why_set(why, whylen,
				    "label '%s' has the character '%s': only letters, digits, hyphens%s are allowed",
				    shown, bad, allow_underscore ? " and underscores" : "");
			}
		}
		if (name[start] == '-')
			return why_set(why, whylen, "label '%s' starts with a hyphen", shown);
		if (name[end - 1] == '-')
			return why_set(why, whylen, "label '%s' ends with a hyphen", shown);
	}
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
	dns_ip_format(family, addr, text, sizeof(text));
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
		} else if (dns_ip_parse(spec, &family, addr) == -1) {
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
	if (dns_ip_parse(host, &family, addr) == -1)
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
