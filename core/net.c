/* Address literals and host name syntax: pure functions every layer shares. */
#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/textsafe.h"
#include "core/util.h"

/* RFC 1035 2.3.4: 63 octets a label; 255 on the wire is 253 as text without the final dot. */
#define NAME_MAX_LABEL	63
#define NAME_MAX_TEXT	253

/* How much of a label a message quotes. */
#define NAME_SHOW	32

int
net_ip_parse(const char *ip, int *family, unsigned char addr[16])
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

bool
net_address_literal(const char *s)
{
	unsigned char addr[16];
	char inner[64];
	size_t n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(inner))
		return false;
	memcpy(inner, s + 1, n - 2);
	inner[n - 2] = '\0';
	if (strncasecmp(inner, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, inner + 5, addr) == 1;
	return inet_pton(AF_INET, inner, addr) == 1;
}

void
net_ip_format(int family, const unsigned char *addr, char *buf, size_t len)
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
net_ip_unmap(int family, const unsigned char **addr)
{
	if (family == AF_INET6 && is_v4_mapped(*addr)) {
		*addr += 12;
		return AF_INET;
	}
	return family;
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
net_name_check(const char *name, bool allow_underscore, char *why, size_t whylen)
{
	char shown[TEXT_QUOTE_SIZE(NAME_SHOW)], bad[8];
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

char *
net_name_canonical(const char *name)
{
	char *s = xstrdup_lower(name);
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s;
}
