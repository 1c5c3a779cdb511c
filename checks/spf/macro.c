/* SPF macro strings (RFC 7208 section 7): syntax checks and expansion. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "core/util.h"

#define MAX_PARTS	128	/* RFC 7208 7.1 puts no bound on DIGIT; more parts than this never exist */

static int syntax(struct spf_syntax *, size_t, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static int
syntax(struct spf_syntax *err, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->pos = pos;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
is_letter(int c, bool exp)
{
	switch (tolower(c)) {
	case 's': case 'l': case 'o': case 'd': case 'i': case 'p': case 'h': case 'v':
		return true;
	case 'c': case 'r': case 't':
		/* RFC 7208 7.2: c, r and t only in the explanation string */
		return exp;
	}
	return false;
}

static bool
is_delim(int c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/*
 * Reads one "%{...}" starting at s[i] == '%' and s[i + 1] == '{'. Fills the
 * letter, the digit count (0 when absent), reverse, and the delimiters span;
 * returns the offset after '}' or 0 on a syntax error (err set).
 */
static size_t
read_expand(const char *s, size_t len, size_t i, bool exp, char *letter, long *digits,
    bool *reverse, size_t *dstart, size_t *dlen, struct spf_syntax *err)
{
	size_t start = i;

	i += 2;
	if (i >= len || !is_letter((unsigned char)s[i], exp)) {
		char bad[8];

		if (i >= len)
			snprintf(bad, sizeof(bad), "end");
		else if (isprint((unsigned char)s[i]))
			snprintf(bad, sizeof(bad), "'%c'", s[i]);
		else
			snprintf(bad, sizeof(bad), "\\x%02x", (unsigned char)s[i]);
		syntax(err, i, "invalid macro letter %s", bad);
		return 0;
	}
	*letter = s[i++];
	*digits = 0;
	if (i < len && isdigit((unsigned char)s[i])) {
		long n = 0;

		while (i < len && isdigit((unsigned char)s[i])) {
			if (n < 100000)
				n = n * 10 + (s[i] - '0');
			i++;
		}
		if (n == 0) {
			/* RFC 7208 7.1: "If a DIGIT is specified, the value MUST be nonzero" */
			syntax(err, i - 1, "macro transformer digit must not be zero");
			return 0;
		}
		*digits = n;
	}
	*reverse = false;
	if (i < len && (s[i] == 'r' || s[i] == 'R')) {
		*reverse = true;
		i++;
	}
	*dstart = i;
	while (i < len && is_delim((unsigned char)s[i]))
		i++;
	*dlen = i - *dstart;
	if (i >= len || s[i] != '}') {
		syntax(err, start, "unterminated or malformed macro '%%{...}'");
		return 0;
	}
	return i + 1;
}

int
spf_macro_check(const char *s, size_t len, bool exp, struct spf_syntax *err)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			char letter;
			long digits;
			bool rev;
			size_t ds, dl, next;

			if (i + 1 >= len)
				return syntax(err, i, "'%%' at the end of a macro string");
			if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
				i += 2;
				continue;
			}
			if (s[i + 1] != '{')
				return syntax(err, i,
				    "'%%' must be followed by '{', '%%', '_' or '-'");
			next = read_expand(s, len, i, exp, &letter, &digits, &rev, &ds, &dl, err);
			if (next == 0)
				return -1;
			i = next;
			continue;
		}
		/* RFC 7208 7.1: macro-literal = %x21-24 / %x26-7E; SP only in explanations */
		if ((c >= 0x21 && c <= 0x7e) || (exp && c == ' ')) {
			i++;
			continue;
		}
		if (c == ' ')
			return syntax(err, i, "space inside a term");
		return syntax(err, i, "character outside printable ASCII");
	}
	return 0;
}

bool
spf_toplabel_ok(const char *s, size_t len)
{
	size_t i;
	bool alpha = false, dash = false;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (isalpha((unsigned char)s[i]))
			alpha = true;
		else if (s[i] == '-')
			dash = true;
		else if (!isdigit((unsigned char)s[i]))
			return false;
	}
	/* RFC 7208 7.1: toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
	if (dash)
		return s[0] != '-' && s[len - 1] != '-';
	return alpha;
}

int
spf_domain_spec_check(const char *s, size_t len, struct spf_syntax *err)
{
	size_t i = 0, lit = 0, end;
	bool last_macro = false;

	if (len == 0)
		return syntax(err, 0, "empty domain");
	if (spf_macro_check(s, len, false, err) < 0)
		return -1;
	/* find where the literal tail after the last macro starts */
	while (i < len) {
		if (s[i] == '%') {
			if (s[i + 1] == '{')
				i = (size_t)((const char *)memchr(s + i, '}', len - i) - s) + 1;
			else
				i += 2;
			last_macro = true;
			lit = i;
		} else {
			i++;
			last_macro = false;
		}
	}
	if (last_macro)
		return 0;
	end = len;
	if (end > lit && s[end - 1] == '.')
		end--;
	for (i = end; i > lit && s[i - 1] != '.'; i--)
		;
	if (i == lit || !spf_toplabel_ok(s + i, end - i))
		return syntax(err, i, "domain must end in a top label with a letter "
		    "(like '.example') or in a macro");
	return 0;
}

/* Appends value transformed: split on delims, reversed, rightmost digits parts, joined with '.'. */
static void
transform(struct strbuf *out, const char *value, long digits, bool reverse,
    const char *delims, size_t ndelims, bool escape)
{
	const char *parts[MAX_PARTS];
	size_t plen[MAX_PARTS], n = 0, i, first;
	const char *p = value, *q;
	char dset[8] = ".";
	struct strbuf tmp;

	if (ndelims > 0) {
		memcpy(dset, delims, ndelims < 7 ? ndelims : 7);
		dset[ndelims < 7 ? ndelims : 7] = '\0';
	}
	for (;;) {
		q = p + strcspn(p, dset);
		if (n < MAX_PARTS) {
			parts[n] = p;
			plen[n] = (size_t)(q - p);
			n++;
		} else {
			/* join what does not fit into the last part */
			plen[n - 1] = (size_t)(q - parts[n - 1]);
		}
		if (*q == '\0')
			break;
		p = q + 1;
	}
	if (reverse) {
		for (i = 0; i < n / 2; i++) {
			const char *tp = parts[i];
			size_t tl = plen[i];

			parts[i] = parts[n - 1 - i];
			plen[i] = plen[n - 1 - i];
			parts[n - 1 - i] = tp;
			plen[n - 1 - i] = tl;
		}
	}
	first = digits > 0 && (size_t)digits < n ? n - (size_t)digits : 0;
	strbuf_init(&tmp);
	for (i = first; i < n; i++) {
		if (i > first)
			strbuf_add(&tmp, ".", 1);
		strbuf_add(&tmp, parts[i], plen[i]);
	}
	if (!escape) {
		strbuf_add(out, tmp.buf != NULL ? tmp.buf : "", tmp.len);
	} else {
		/* RFC 7208 7.3: uppercase macros are URL-escaped outside RFC 3986 unreserved */
		for (i = 0; i < tmp.len; i++) {
			unsigned char c = (unsigned char)tmp.buf[i];

			if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
				strbuf_add(out, &tmp.buf[i], 1);
			else
				strbuf_addf(out, "%%%02X", c);
		}
	}
	strbuf_release(&tmp);
}

static char *
ip_dotted(const struct spf_macro_env *env)
{
	struct strbuf sb;
	int i;

	if (env->family == AF_INET)
		return xasprintf("%u.%u.%u.%u", env->addr[0], env->addr[1], env->addr[2],
		    env->addr[3]);
	/*
	 * RFC 7208 7.3: IPv6 "i" is dot-separated nibbles; upper case, as the
	 * RFC 7208 test suite expects in explanations (DNS ignores the case)
	 */
	strbuf_init(&sb);
	for (i = 0; i < 16; i++)
		strbuf_addf(&sb, "%s%X.%X", i > 0 ? "." : "", env->addr[i] >> 4,
		    env->addr[i] & 15);
	return strbuf_detach(&sb, NULL);
}

static char *
letter_value(const struct spf_macro_env *env, char letter, char **pvalue)
{
	char buf[INET6_ADDRSTRLEN];

	switch (tolower((unsigned char)letter)) {
	case 's':
		return xstrdup(env->sender ? env->sender : "");
	case 'l':
		return xstrdup(env->local ? env->local : "postmaster");
	case 'o':
		return xstrdup(env->sender_domain ? env->sender_domain : "");
	case 'd':
		return xstrdup(env->domain ? env->domain : "");
	case 'i':
		return ip_dotted(env);
	case 'c':
		if (env->family == AF_INET)
			return ip_dotted(env);
		inet_ntop(AF_INET6, env->addr, buf, sizeof(buf));
		return xstrdup(buf);
	case 'v':
		return xstrdup(env->family == AF_INET ? "in-addr" : "ip6");
	case 'h':
		return xstrdup(env->helo ? env->helo : "");
	case 'r':
		return xstrdup(env->receiver ? env->receiver : "unknown");
	case 't':
		return xasprintf("%lld", (long long)env->timestamp);
	case 'p':
		if (*pvalue == NULL)
			*pvalue = env->validated != NULL ? env->validated(env->arg) : NULL;
		if (*pvalue == NULL)
			*pvalue = xstrdup("unknown");
		return xstrdup(*pvalue);
	}
	return xstrdup("");
}

char *
spf_macro_expand(const char *s, size_t len, const struct spf_macro_env *env, bool exp)
{
	struct strbuf out;
	char *pvalue = NULL;
	size_t i = 0;

	if (spf_macro_check(s, len, exp, NULL) < 0)
		return NULL;
	strbuf_init(&out);
	strbuf_add(&out, "", 0);
	while (i < len) {
		char letter, *value;
		long digits;
		bool rev;
		size_t ds, dl;

		if (s[i] != '%') {
			const char *pct = memchr(s + i, '%', len - i);
			size_t n = pct != NULL ? (size_t)(pct - (s + i)) : len - i;

			strbuf_add(&out, s + i, n);
			i += n;
			continue;
		}
		switch (s[i + 1]) {
		case '%':
			strbuf_add(&out, "%", 1);
			i += 2;
			continue;
		case '_':
			strbuf_add(&out, " ", 1);
			i += 2;
			continue;
		case '-':
			strbuf_add(&out, "%20", 3);
			i += 2;
			continue;
		}
		i = read_expand(s, len, i, exp, &letter, &digits, &rev, &ds, &dl, NULL);
		value = letter_value(env, letter, &pvalue);
		transform(&out, value, digits, rev, s + ds, dl, isupper((unsigned char)letter));
		free(value);
	}
	free(pvalue);
	return strbuf_detach(&out, NULL);
}

void
spf_domain_trim(char *name)
{
	size_t len = strlen(name);
	char *p = name;

	if (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	while (len > 253) {
		char *dot = strchr(p, '.');

		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (p != name)
		memmove(name, p, len + 1);
}
