/* The recipient address parser and domain typo suggestions: pure functions from bytes to a result. */
#include "checks/domain/recipient_addr.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"
#include "core/util.h"
#include "core/net.h"

/* The longest string recipient_edit_distance() compares. */
#define DIST_MAX_LEN	255

static const char *const problem_names[RADDR_PROBLEM_COUNT] = {
	[RADDR_OK] = "ok",
	[RADDR_EMPTY] = "empty",
	[RADDR_SPACE_LEADING] = "space_leading",
	[RADDR_SPACE_TRAILING] = "space_trailing",
	[RADDR_SPACE_INNER] = "space_inner",
	[RADDR_CONTROL] = "control_character",
	[RADDR_UTF8_INVALID] = "utf8_invalid",
	[RADDR_BRACKETS] = "brackets_unbalanced",
	[RADDR_NO_AT] = "no_at",
	[RADDR_MULTIPLE_AT] = "multiple_at",
	[RADDR_LOCAL_EMPTY] = "local_empty",
	[RADDR_LOCAL_TOO_LONG] = "local_too_long",
	[RADDR_ADDRESS_TOO_LONG] = "address_too_long",
	[RADDR_DOT_LEADING] = "dot_leading",
	[RADDR_DOT_TRAILING] = "dot_trailing",
	[RADDR_DOT_DOUBLE] = "dot_double",
	[RADDR_NEEDS_QUOTING] = "needs_quoting",
	[RADDR_QUOTE_BAD] = "quote_bad",
	[RADDR_DOMAIN_EMPTY] = "domain_empty",
	[RADDR_DOMAIN_SYNTAX] = "domain_syntax",
	[RADDR_DOMAIN_NOT_FQDN] = "domain_not_fqdn",
	[RADDR_DOMAIN_IDN] = "domain_idn",
	[RADDR_DOMAIN_LITERAL] = "domain_literal",
};

const char *
recipient_addr_problem_name(enum recipient_addr_problem p)
{
	if ((unsigned)p >= RADDR_PROBLEM_COUNT)
		return "unknown";
	return problem_names[p];
}

static int
fail(struct recipient_addr *a, enum recipient_addr_problem p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct recipient_addr *a, enum recipient_addr_problem p, const char *fmt, ...)
{
	va_list ap;

	a->problem = p;
	va_start(ap, fmt);
	vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A character as a message shows it: itself if printable ASCII, else \xHH. */
static void
show_char(unsigned char c, char out[8])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(out, 8, "%c", c);
	else
		snprintf(out, 8, "\\x%02x", c);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* RFC 5322 3.2.3 atext, and UTF-8 for RFC 6531. */
static bool
is_atext(unsigned char c)
{
	static const char special[] = "!#$%&'*+-/=?^_`{|}~";

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 || (c != '\0' && strchr(special, c) != NULL);
}

/* Checks an unquoted local part (RFC 5321 Dot-string). */
static int
check_dot_string(struct recipient_addr *a, const char *l, size_t n)
{
	char shown[8];
	size_t i;

	if (l[0] == '.')
		return fail(a, RADDR_DOT_LEADING, "the local part starts with a dot");
	if (l[n - 1] == '.')
		return fail(a, RADDR_DOT_TRAILING, "the local part ends with a dot");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == '.' && l[i + 1] == '.')
			return fail(a, RADDR_DOT_DOUBLE,
			    "the local part has two dots in a row");
		if (c != '.' && !is_atext(c)) {
			show_char(c, shown);
			return fail(a, RADDR_NEEDS_QUOTING,
			    "the local part has the character '%s', allowed only inside quotes",
			    shown);
		}
	}
	return 0;
}

/* Is the part in brackets an RFC 5321 4.1.3 address literal? */
static bool
literal_ok(const char *d, size_t n, char *addr, size_t addrlen)
{
	unsigned char buf[16];

	if (n < 3 || d[n - 1] != ']' || n - 2 >= addrlen)
		return false;
	memcpy(addr, d + 1, n - 2);
	addr[n - 2] = '\0';
	if (strncasecmp(addr, "IPv6:", 5) == 0) {
		memmove(addr, addr + 5, strlen(addr + 5) + 1);
		return inet_pton(AF_INET6, addr, buf) == 1;
	}
	return inet_pton(AF_INET, addr, buf) == 1;
}

/* Converts and checks a domain name (not a literal): fills domain_ascii and domain_unicode. */
static int
check_domain(struct recipient_addr *a, const char *d)
{
	char why[200];
	char *ascii = NULL, *uni = NULL;
	const char *dot;
	bool eight = false;
	size_t i, n = strlen(d);
	int rc, ret = -1;
	unsigned char buf[4];

	if (d[0] == '.' || strstr(d, "..") != NULL) {
		ret = fail(a, RADDR_DOMAIN_SYNTAX, "the domain has an empty label (%s)",
		    d[0] == '.' ? "it starts with a dot" : "two dots in a row");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80)
			eight = true;
	if (eight) {
		char *conv = NULL;

		rc = idn2_to_ascii_8z(d, &conv, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			ret = fail(a, RADDR_DOMAIN_IDN,
			    "the internationalised domain cannot be converted: %s",
			    idn2_strerror(rc));
			goto out;
		}
		/* libidn2 allocates with its own allocator: keep our own copy */
		ascii = xstrdup_lower(conv);
		idn2_free(conv);
		a->idn = true;
	} else {
		ascii = xstrdup_lower(d);
	}
	if (net_name_check(ascii, false, why, sizeof(why)) == -1) {
		ret = fail(a, RADDR_DOMAIN_SYNTAX, "the domain is not a valid name: %s", why);
		goto out;
	}
	if (inet_pton(AF_INET, ascii, buf) == 1) {
		ret = fail(a, RADDR_DOMAIN_SYNTAX,
		    "the domain is an IP address: it must be written in brackets, as [%s]",
		    ascii);
		goto out;
	}
	if ((dot = strchr(ascii, '.')) == NULL) {
		ret = fail(a, RADDR_DOMAIN_NOT_FQDN,
		    "the domain has one label: receivers need a fully-qualified domain");
		goto out;
	}
	/* A-labels written as such are decoded too: it checks their Punycode. */
	rc = idn2_to_unicode_8z8z(ascii, &uni, 0);
	if (rc != IDN2_OK) {
		uni = NULL;
		ret = fail(a, RADDR_DOMAIN_IDN, "the domain has an invalid A-label: %s",
		    idn2_strerror(rc));
		goto out;
	}
	if (strcmp(uni, ascii) != 0)
		a->idn = true;
	a->domain_unicode = xstrdup(uni);
	a->domain_ascii = ascii;
	ascii = NULL;
	ret = 0;
out:
	free(ascii);
	idn2_free(uni);
	return ret;
}

static int
parse(const char *s, size_t len, struct recipient_addr *a)
{
	char shown[8], addr[64];
	const char *at = NULL;
	size_t i, k, llen, dlen;

	if (len == 0)
		return fail(a, RADDR_EMPTY, "the address is empty");
	for (i = 0; i < len && is_space((unsigned char)s[i]); i++)
		;
	if (i == len)
		return fail(a, RADDR_EMPTY, "the address is only white space");
	if (is_space((unsigned char)s[0]))
		return fail(a, RADDR_SPACE_LEADING, "the address starts with white space");
	if (is_space((unsigned char)s[len - 1]))
		return fail(a, RADDR_SPACE_TRAILING, "the address ends with white space");
	for (i = 0; i < len; i += k) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != ' ') || c == 0x7f) {
			show_char(c, shown);
			return fail(a, RADDR_CONTROL, "the address has the control character %s",
			    shown);
		}
		if ((k = utf8_seq((const unsigned char *)s + i, len - i)) == 0) {
			show_char(c, shown);
			return fail(a, RADDR_UTF8_INVALID,
			    "the address has the byte %s that is not UTF-8", shown);
		}
	}
	if ((s[0] == '<') != (s[len - 1] == '>'))
		return fail(a, RADDR_BRACKETS, "the address has unbalanced angle brackets");
	if (s[0] == '<') {
		s++;
		len = len >= 2 ? len - 2 : 0;
		if (len == 0)
			return fail(a, RADDR_EMPTY, "'<>' is the null address, not a recipient");
		if (is_space((unsigned char)s[0]))
			return fail(a, RADDR_SPACE_LEADING,
			    "the address starts with white space inside its brackets");
		if (is_space((unsigned char)s[len - 1]))
			return fail(a, RADDR_SPACE_TRAILING,
			    "the address ends with white space inside its brackets");
	}

	if (s[0] == '"') {
		a->quoted = true;
		for (i = 1; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\')
				i++;
		}
		if (i >= len)
			return fail(a, RADDR_QUOTE_BAD,
			    "the quoted local part has no closing quote");
		llen = i + 1;
		if (llen == len)
			return fail(a, RADDR_NO_AT, "the address has no '@'");
		if (s[llen] == ' ')
			return fail(a, RADDR_SPACE_INNER,
			    "the address has white space after the quoted local part");
		if (s[llen] != '@')
			return fail(a, RADDR_QUOTE_BAD,
			    "text follows the closing quote of the local part");
		at = s + llen;
	} else {
		for (i = 0; i < len && s[i] != '@'; i++)
			if (s[i] == ' ')
				return fail(a, RADDR_SPACE_INNER,
				    "the local part has a space (outside quotes)");
		if (i == len)
			return fail(a, RADDR_NO_AT, "the address has no '@'");
		at = s + i;
		llen = i;
	}
	dlen = len - llen - 1;
	a->local = xstrndup(s, llen);
	a->domain = xstrndup(at + 1, dlen);
	if (dlen > 0 && a->domain[dlen - 1] == '.') {
		a->domain[--dlen] = '\0';
		a->final_dot = true;
	}

	if (llen == 0)
		return fail(a, RADDR_LOCAL_EMPTY, "the local part before '@' is empty");
	if (strchr(a->domain, ' ') != NULL)
		return fail(a, RADDR_SPACE_INNER, "the domain has a space");
	if (memchr(a->domain, '@', dlen) != NULL)
		return fail(a, RADDR_MULTIPLE_AT,
		    "the address has more than one '@' (outside quotes)");
	if (dlen == 0)
		return fail(a, RADDR_DOMAIN_EMPTY, "the domain after '@' is empty");
	if (len > RECIPIENT_ADDRESS_MAX)
		return fail(a, RADDR_ADDRESS_TOO_LONG,
		    "the address is %zu octets long, over the limit of %d", len,
		    RECIPIENT_ADDRESS_MAX);
	if (llen > RECIPIENT_LOCAL_MAX)
		return fail(a, RADDR_LOCAL_TOO_LONG,
		    "the local part is %zu octets long, over the limit of %d", llen,
		    RECIPIENT_LOCAL_MAX);
	for (i = 0; i < llen; i++)
		if ((unsigned char)s[i] >= 0x80)
			a->utf8_local = true;
	/* a quoted local part may hold anything printable: controls were refused above */
	if (!a->quoted && check_dot_string(a, s, llen) == -1)
		return -1;

	if (a->domain[0] == '[') {
		if (!literal_ok(a->domain, dlen, addr, sizeof(addr)))
			return fail(a, RADDR_DOMAIN_LITERAL,
			    "the domain in brackets is not an IPv4 or IPv6 address literal");
		a->literal = true;
		a->domain_ascii = xstrdup(addr);
		a->domain_unicode = xstrdup(addr);
		return 0;
	}
	return check_domain(a, a->domain);
}

int
recipient_addr_parse(const char *s, size_t len, struct recipient_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (parse(s, len, out) == -1) {
		free(out->domain_ascii);
		free(out->domain_unicode);
		out->domain_ascii = NULL;
		out->domain_unicode = NULL;
		return -1;
	}
	out->problem = RADDR_OK;
	out->detail[0] = '\0';
	return 0;
}

void
recipient_addr_release(struct recipient_addr *a)
{
	free(a->local);
	free(a->domain);
	free(a->domain_ascii);
	free(a->domain_unicode);
	memset(a, 0, sizeof(*a));
}

static int
min3(int a, int b, int c)
{
	int m = a < b ? a : b;

	return m < c ? m : c;
}

int
recipient_edit_distance(const char *a, const char *b, int max)
{
	int rows[3][DIST_MAX_LEN + 1];
	int *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;
	size_t la = strlen(a), lb = strlen(b), i, j;
	int best;

	if (la > DIST_MAX_LEN || lb > DIST_MAX_LEN)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			/* a transposition of neighbours: "gmial" for "gmail" */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
			if (cur[j] < best)
				best = cur[j];
		}
		/* every later row is at least this row's minimum */
		if (best > max)
			return max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > max ? max + 1 : prev[lb];
}

const char *
recipient_typo_suggest(const char *domain, const char *const *common, size_t ncommon,
    int max_distance, int *distance)
{
	const char *best = NULL;
	int bestd = max_distance + 1, d;
	size_t i;

	for (i = 0; i < ncommon; i++)
		if (strcmp(domain, common[i]) == 0)
			return NULL;
	for (i = 0; i < ncommon; i++) {
		d = recipient_edit_distance(domain, common[i], max_distance);
		if (d > max_distance || d == 0)
			continue;
		if (d >= 2 && strlen(common[i]) < 9)
			continue;
		if (d < bestd) {
			bestd = d;
			best = common[i];
		}
	}
	if (best != NULL && distance != NULL)
		*distance = bestd;
	return best;
}
