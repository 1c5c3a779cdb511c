/* SPF record parsing (RFC 7208 sections 4.5, 4.6, 5, 6 and the ABNF of 12): text to terms, every syntax error with its position. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/spf/parse.h"
#include "checks/spf/macro.h"
#include "core/util.h"

static const struct {
	const char *name;
	enum spf_kind kind;
} mechanisms[] = {
	{ "all", SPF_K_ALL },
	{ "include", SPF_K_INCLUDE },
	{ "a", SPF_K_A },
	{ "mx", SPF_K_MX },
	{ "ptr", SPF_K_PTR },
	{ "ip4", SPF_K_IP4 },
	{ "ip6", SPF_K_IP6 },
	{ "exists", SPF_K_EXISTS },
};

const char *
spf_kind_name(enum spf_kind k)
{
	switch (k) {
	case SPF_K_ALL: return "all";
	case SPF_K_INCLUDE: return "include";
	case SPF_K_A: return "a";
	case SPF_K_MX: return "mx";
	case SPF_K_PTR: return "ptr";
	case SPF_K_IP4: return "ip4";
	case SPF_K_IP6: return "ip6";
	case SPF_K_EXISTS: return "exists";
	case SPF_K_REDIRECT: return "redirect";
	case SPF_K_EXP: return "exp";
	case SPF_K_MODIFIER: return "modifier";
	}
	return "?";
}

bool
spf_kind_queries_dns(enum spf_kind k)
{
	/* RFC 7208 4.6.4: include, a, mx, ptr, exists and redirect */
	return k == SPF_K_INCLUDE || k == SPF_K_A || k == SPF_K_MX || k == SPF_K_PTR ||
	    k == SPF_K_EXISTS || k == SPF_K_REDIRECT;
}

bool
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

static int fail(struct spf_syntax *, size_t, const char *, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct spf_syntax *err, size_t pos, const char *fmt, ...)
{
	va_list ap;

	err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Puts "prefix: " before err's message and makes its position absolute (base + pos). */
static int
prefix_error(struct spf_syntax *err, size_t base, const char *prefix)
{
	char buf[2 * sizeof(err->msg)];

	snprintf(buf, sizeof(buf), "%s: %s", prefix, err->msg);
	memcpy(err->msg, buf, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	err->pos += base;
	return -1;
}

/* A prefix length "/N": "0" or no leading zero, at most max. -1 if malformed. */
static int
read_prefix(const char *s, size_t len, int max)
{
	size_t i;
	int v = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Index of the last '/' of s[0..len) whose tail is all digits, or len. */
static size_t
digits_tail(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && isdigit((unsigned char)s[i - 1]))
		i--;
	if (i == len || i == 0 || s[i - 1] != '/')
		return len;
	return i - 1;
}

/*
 * Splits "[/N][//M]" off the end of arg (a, mx) and sets the prefixes. Returns
 * the length left for the domain-spec, or (size_t)-1 on a bad prefix.
 */
static size_t
split_dual_cidr(const char *arg, size_t len, struct spf_term *t, struct spf_syntax *err,
    size_t pos)
{
	size_t cut = digits_tail(arg, len);

	if (cut < len && cut > 0 && arg[cut - 1] == '/') {
		int v = read_prefix(arg + cut + 1, len - cut - 1, 128);

		if (v < 0) {
			fail(err, pos + cut - 1, "invalid IPv6 prefix length '%.*s'",
			    (int)(len - cut - 1), arg + cut + 1);
			return (size_t)-1;
		}
		t->cidr6 = v;
		len = cut - 1;
		cut = digits_tail(arg, len);
	}
	if (cut < len) {
		int v = read_prefix(arg + cut + 1, len - cut - 1, 32);

		if (v < 0) {
			err->pos = pos + cut;
			snprintf(err->msg, sizeof(err->msg), "invalid IPv4 prefix length '%.*s'",
			    (int)(len - cut - 1), arg + cut + 1);
			return (size_t)-1;
		}
		t->cidr4 = v;
		len = cut;
	}
	return len;
}

/* RFC 7208 12 ip4-network: four qnum, each 0..255 without leading zeros. */
static int
read_ip4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;

		while (i < len && isdigit((unsigned char)s[i])) {
			v = v * 10 + (s[i] - '0');
			if (v > 255)
				return -1;
			i++;
		}
		if (i == start || i - start > 3 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

static int
read_ip6(const char *s, size_t len, unsigned char out[16])
{
	char buf[64];
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/* Parses one term of len bytes at offset pos of the record. */
static int
parse_term(const char *s, size_t len, size_t pos, struct spf_term *t, struct spf_syntax *err)
{
	size_t i = 0, n, j, alen;
	const char *arg;
	char qual = 0;

	t->cidr4 = 32;
	t->cidr6 = 128;
	t->text = xstrndup(s, len);
	t->pos = pos;
	if (s[0] == '+' || s[0] == '-' || s[0] == '~' || s[0] == '?')
		qual = s[i++];
	/* RFC 7208 12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	if (i >= len || !isalpha((unsigned char)s[i]))
		return fail(err, pos, "term '%s' does not start with a mechanism or "
		    "modifier name", t->text);
	n = i;
	while (n < len && (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_' ||
	    s[n] == '.'))
		n++;
	if (n < len && s[n] == '=') {
		char *name = xstrndup(s + i, n - i);

		if (qual != 0) {
			fail(err, pos, "modifier '%s' cannot take a qualifier", name);
			free(name);
			return -1;
		}
		t->qual = 0;
		t->spec = xstrndup(s + n + 1, len - n - 1);
		if (strcasecmp(name, "redirect") == 0 || strcasecmp(name, "exp") == 0) {
			t->kind = tolower((unsigned char)name[0]) == 'r' ? SPF_K_REDIRECT : SPF_K_EXP;
			free(name);
			if (spf_domain_spec_check(t->spec, len - n - 1, err) < 0)
				return prefix_error(err, pos + n + 1,
				    t->kind == SPF_K_REDIRECT ? "redirect=" : "exp=");
			return 0;
		}
		t->kind = SPF_K_MODIFIER;
		t->name = name;
		if (spf_macro_check(t->spec, len - n - 1, false, err) < 0)
			return prefix_error(err, pos + n + 1, name);
		return 0;
	}
	/* a mechanism: its name runs to ':', '/' or the end */
	for (n = i; n < len && s[n] != ':' && s[n] != '/'; n++)
		;
	t->qual = qual != 0 ? qual : '+';
	for (j = 0; j < ARRAY_SIZE(mechanisms); j++)
		if (strlen(mechanisms[j].name) == n - i &&
		    strncasecmp(s + i, mechanisms[j].name, n - i) == 0)
			break;
	if (j == ARRAY_SIZE(mechanisms)) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(n - i < 60 ? n - i : 60), s + i);
		return fail(err, pos + i, "unknown mechanism '%s'", name);
	}
	t->kind = mechanisms[j].kind;
	arg = s + n;
	alen = len - n;
	switch (t->kind) {
	case SPF_K_ALL:
		if (alen != 0)
			return fail(err, pos + n, "'all' takes no argument (found '%s')",
			    t->text);
		return 0;
	case SPF_K_INCLUDE:
	case SPF_K_EXISTS:
		if (alen < 2 || arg[0] != ':')
			return fail(err, pos + n, "'%s' needs ':domain'", spf_kind_name(t->kind));
		t->spec = xstrndup(arg + 1, alen - 1);
		break;
	case SPF_K_PTR:
		if (alen == 0)
			return 0;
		if (arg[0] != ':' || alen < 2)
			return fail(err, pos + n, "'ptr' takes only ':domain'");
		t->spec = xstrndup(arg + 1, alen - 1);
		break;
	case SPF_K_A:
	case SPF_K_MX: {
		size_t dlen = split_dual_cidr(arg, alen, t, err, pos + n);

		if (dlen == (size_t)-1)
			return -1;
		if (dlen == 0)
			return 0;
		if (arg[0] != ':' || dlen < 2)
			return fail(err, pos + n, "'%s' takes ':domain' and prefixes '/N' '//N'",
			    spf_kind_name(t->kind));
		t->spec = xstrndup(arg + 1, dlen - 1);
		break;
	}
	case SPF_K_IP4:
	case SPF_K_IP6: {
		bool v4 = t->kind == SPF_K_IP4;
		size_t cut;

		if (alen < 2 || arg[0] != ':')
			return fail(err, pos + n, "'%s' needs ':address'", spf_kind_name(t->kind));
		arg++;
		alen--;
		cut = digits_tail(arg, alen);
		if (cut < alen) {
			int v = read_prefix(arg + cut + 1, alen - cut - 1, v4 ? 32 : 128);

			if (v < 0) {
				err->pos = pos + n + 1 + cut;
				snprintf(err->msg, sizeof(err->msg), "invalid %s prefix length '%.*s'",
				    v4 ? "IPv4" : "IPv6", (int)(alen - cut - 1), arg + cut + 1);
				return -1;
			}
			if (v4)
				t->cidr4 = v;
			else
				t->cidr6 = v;
			alen = cut;
		}
		if ((v4 ? read_ip4(arg, alen, t->net) : read_ip6(arg, alen, t->net)) < 0) {
			err->pos = pos + n + 1;
			snprintf(err->msg, sizeof(err->msg), "'%.*s' is not an %s address",
			    (int)(alen < 80 ? alen : 80), arg, v4 ? "IPv4" : "IPv6");
			return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
	if (spf_domain_spec_check(t->spec, strlen(t->spec), err) < 0)
		return prefix_error(err, pos + n + 1, spf_kind_name(t->kind));
	return 0;
}

int
spf_record_parse(struct spf_record *rec, const char *txt, size_t len, struct spf_syntax *err)
{
	size_t i;

	memset(rec, 0, sizeof(*rec));
	rec->redirect = -1;
	rec->exp = -1;
	rec->text = xstrndup(txt, len);
	if (memchr(txt, '\0', len) != NULL) {
		fail(err, (size_t)((const char *)memchr(txt, '\0', len) - txt),
		    "NUL byte in the record");
		goto fail;
	}
	if (!spf_is_record(txt, len)) {
		fail(err, 0, "record does not start with 'v=spf1'");
		goto fail;
	}
	i = 6;
	for (;;) {
		size_t start, tlen;
		struct spf_term *t;

		/* RFC 7208 12: terms = *( 1*SP ( directive / modifier ) ), record ends in *SP */
		while (i < len && txt[i] == ' ')
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		tlen = i - start;
		rec->terms = xrealloc(rec->terms, (rec->nterms + 1) * sizeof(*rec->terms));
		t = &rec->terms[rec->nterms++];
		memset(t, 0, sizeof(*t));
		if (parse_term(txt + start, tlen, start, t, err) < 0)
			goto fail;
		if (t->kind == SPF_K_REDIRECT || t->kind == SPF_K_EXP) {
			int *slot = t->kind == SPF_K_REDIRECT ? &rec->redirect : &rec->exp;

			/* RFC 7208 6: redirect and exp each at most once */
			if (*slot >= 0) {
				fail(err, start, "'%s' appears more than once",
				    spf_kind_name(t->kind));
				goto fail;
			}
			*slot = (int)(rec->nterms - 1);
		}
		if (t->kind == SPF_K_ALL)
			rec->has_all = true;
		if (spf_kind_queries_dns(t->kind))
			rec->ndns++;
	}
	return 0;
fail:
	spf_record_release(rec);
	return -1;
}

void
spf_record_release(struct spf_record *rec)
{
	size_t i;

	for (i = 0; i < rec->nterms; i++) {
		free(rec->terms[i].text);
		free(rec->terms[i].spec);
		free(rec->terms[i].name);
	}
	free(rec->terms);
	free(rec->text);
	memset(rec, 0, sizeof(*rec));
	rec->redirect = -1;
	rec->exp = -1;
}
