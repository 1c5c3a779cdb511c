/* The DMARC record parser: the tag list of RFC 7489 6.3 by the grammar of 6.4, every problem kept. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "checks/dmarc/record.h"
#include "dns/dns.h"
#include "core/util.h"
#include "core/net.h"

/* A piece of the record: not NUL-terminated, may hold any byte. */
struct span {
	const char *s;
	size_t len;
};

enum tag_id {
	TAG_V, TAG_P, TAG_SP, TAG_PCT, TAG_ADKIM, TAG_ASPF, TAG_RUA, TAG_RUF,
	TAG_FO, TAG_RF, TAG_RI, TAG_UNKNOWN,
};

static const char *const tag_names[] = {
	"v", "p", "sp", "pct", "adkim", "aspf", "rua", "ruf", "fo", "rf", "ri",
};

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	case DMARC_POLICY_ABSENT:
	case DMARC_POLICY_INVALID:
		break;
	}
	return NULL;
}

/* RFC 5234 WSP: space and horizontal tab. */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static struct span
trim(struct span v)
{
	while (v.len > 0 && is_wsp(v.s[0])) {
		v.s++;
		v.len--;
	}
	while (v.len > 0 && is_wsp(v.s[v.len - 1]))
		v.len--;
	return v;
}

static bool
span_eq(struct span v, const char *lit)
{
	return v.len == strlen(lit) && memcmp(v.s, lit, v.len) == 0;
}

static bool
span_caseeq(struct span v, const char *lit)
{
	return v.len == strlen(lit) && strncasecmp(v.s, lit, v.len) == 0 &&
	    memchr(v.s, '\0', v.len) == NULL;
}

/*
 * Cuts the next piece of *rest up to sep (or the end) into *piece and moves
 * *rest past the separator. False once rest is used up.
 */
static bool
next_piece(struct span *rest, char sep, struct span *piece, bool *more)
{
	const char *p;

	if (rest->s == NULL)
		return false;
	p = memchr(rest->s, sep, rest->len);
	piece->s = rest->s;
	if (p == NULL) {
		piece->len = rest->len;
		rest->s = NULL;
		rest->len = 0;
		*more = false;
	} else {
		piece->len = (size_t)(p - rest->s);
		rest->len -= piece->len + 1;
		rest->s = p + 1;
		*more = true;
	}
	return true;
}

/* Splits "name = value" (WSP around '=' allowed); false without '='. */
static bool
split_tag(struct span part, struct span *name, struct span *value)
{
	const char *eq = memchr(part.s, '=', part.len);

	if (eq == NULL)
		return false;
	name->s = part.s;
	name->len = (size_t)(eq - part.s);
	value->s = eq + 1;
	value->len = part.len - name->len - 1;
	*name = trim(*name);
	*value = trim(*value);
	return true;
}

/* The first tag of the record, trimmed; false when the record is empty. */
static bool
first_tag(const char *text, size_t len, struct span *name, struct span *value)
{
	struct span rest = { text, len }, part;
	bool more;

	if (!next_piece(&rest, ';', &part, &more))
		return false;
	return split_tag(trim(part), name, value);
}

bool
dmarc_record_is_dmarc(const char *text, size_t len)
{
	struct span name, value;

	/* RFC 7489 6.4: dmarc-version = "v" *WSP "=" *WSP %x44.4d.41.52.43.31 */
	if (!first_tag(text, len, &name, &value))
		return false;
	return span_eq(name, "v") && span_eq(value, "DMARC1");
}

bool
dmarc_record_version_misplaced(const char *text, size_t len)
{
	struct span rest = { text, len }, part, name, value;
	bool more;

	if (dmarc_record_is_dmarc(text, len))
		return false;
	while (next_piece(&rest, ';', &part, &more))
		if (split_tag(trim(part), &name, &value) && span_caseeq(name, "v") &&
		    span_caseeq(value, "DMARC1"))
			return true;
	return false;
}

/* A printable copy of a value for messages (JSON output sanitizes it further). */
static char *
show(struct span v)
{
	char buf[4 * 64 + 8];

	text_quote(buf, sizeof(buf), v.s, v.len, 64);
	return xstrdup(buf);
}

void
dmarc_record_add_error(struct dmarc_record *rec, const char *tag, const char *fmt, ...)
{
	struct dmarc_error *e;
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rec->errors = xrealloc(rec->errors, (rec->nerrors + 1) * sizeof(*rec->errors));
	e = &rec->errors[rec->nerrors++];
	e->tag = xstrdup(tag);
	e->message = xstrdup(buf);
}

static enum tag_id
tag_id(struct span name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tag_names); i++)
		if (span_caseeq(name, tag_names[i]))
			return (enum tag_id)i;
	return TAG_UNKNOWN;
}

static enum dmarc_policy
parse_policy(struct dmarc_record *rec, const char *tag, struct span v)
{
	char *shown;

	/* RFC 7489 6.4: dmarc-request = "none" / "quarantine" / "reject" */
	if (span_caseeq(v, "none"))
		return DMARC_POLICY_NONE;
	if (span_caseeq(v, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (span_caseeq(v, "reject"))
		return DMARC_POLICY_REJECT;
	shown = show(v);
	dmarc_record_add_error(rec, tag, "%s= value '%s' is not none, quarantine or reject",
	    tag, shown);
	free(shown);
	return DMARC_POLICY_INVALID;
}

/* Digits only, at most maxdigits of them; -1 otherwise. */
static long
parse_digits(struct span v, size_t maxdigits)
{
	long n = 0;
	size_t i;

	if (v.len == 0 || v.len > maxdigits)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (!isdigit((unsigned char)v.s[i]))
			return -1;
		if (n < 1000000000L)
			n = n * 10 + (v.s[i] - '0');
	}
	return n;
}

static void
parse_pct(struct dmarc_record *rec, struct span v)
{
	long n = parse_digits(v, 3);
	char *shown;

	/* RFC 7489 6.4: dmarc-percent = "pct" *WSP "=" *WSP 1*3DIGIT, 6.3: 0 to 100 */
	if (n >= 0 && n <= 100) {
		rec->pct = n;
		return;
	}
	shown = show(v);
	dmarc_record_add_error(rec, "pct", "pct= value '%s' is not an integer from 0 to 100",
	    shown);
	free(shown);
}

static void
parse_align(struct dmarc_record *rec, const char *tag, struct span v, bool *strict)
{
	char *shown;

	/* RFC 7489 6.4: dmarc-adkim / dmarc-aspf = "r" / "s" */
	if (span_caseeq(v, "r")) {
		*strict = false;
		return;
	}
	if (span_caseeq(v, "s")) {
		*strict = true;
		return;
	}
	shown = show(v);
	dmarc_record_add_error(rec, tag, "%s= value '%s' is not r or s", tag, shown);
	free(shown);
}

static void
parse_fo(struct dmarc_record *rec, struct span v)
{
	struct span rest = v, part;
	bool more, ok = v.len > 0;
	char *shown;

	/* RFC 7489 6.4: dmarc-fo = ("0"/"1"/"d"/"s") *(*WSP ":" *WSP ("0"/"1"/"d"/"s")) */
	while (ok && next_piece(&rest, ':', &part, &more)) {
		part = trim(part);
		if (!(span_eq(part, "0") || span_eq(part, "1") || span_caseeq(part, "d") ||
		    span_caseeq(part, "s")))
			ok = false;
	}
	if (ok) {
		free(rec->fo);
		rec->fo = xstrndup(v.s, v.len);
		return;
	}
	shown = show(v);
	dmarc_record_add_error(rec, "fo", "fo= value '%s' is not a ':' list of 0, 1, d and s",
	    shown);
	free(shown);
}

static void
parse_rf(struct dmarc_record *rec, struct span v)
{
	struct span rest = v, part;
	bool more, ok = v.len > 0;
	size_t i;
	char *shown;

	/* RFC 7489 6.4: dmarc-rfmt = Keyword *(*WSP ":" Keyword) (RFC 5321 Keyword) */
	while (ok && next_piece(&rest, ':', &part, &more)) {
		part = trim(part);
		if (part.len == 0)
			ok = false;
		for (i = 0; ok && i < part.len; i++)
			if (!isalnum((unsigned char)part.s[i]) && part.s[i] != '-')
				ok = false;
	}
	if (ok) {
		free(rec->rf);
		rec->rf = xstrndup(v.s, v.len);
		return;
	}
	shown = show(v);
	dmarc_record_add_error(rec, "rf", "rf= value '%s' is not a ':' list of report formats",
	    shown);
	free(shown);
}

static void
parse_ri(struct dmarc_record *rec, struct span v)
{
	long n = parse_digits(v, 32);
	char *shown;

	/* RFC 7489 6.4: dmarc-ainterval = "ri" *WSP "=" *WSP 1*32DIGIT */
	if (n >= 0) {
		rec->ri = n;
		return;
	}
	shown = show(v);
	dmarc_record_add_error(rec, "ri", "ri= value '%s' is not a number of seconds", shown);
	free(shown);
}

/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static size_t
scheme_len(struct span u)
{
	size_t i;

	if (u.len == 0 || !isalpha((unsigned char)u.s[0]))
		return 0;
	for (i = 1; i < u.len; i++) {
		if (u.s[i] == ':')
			return i;
		if (!isalnum((unsigned char)u.s[i]) && u.s[i] != '+' && u.s[i] != '-' &&
		    u.s[i] != '.')
			return 0;
	}
	return 0;
}

/*
 * Checks one DMARC URI; 0 with *domain (mailto: only, else NULL) or -1
 * with a reason.
 */
static int
check_uri(struct span u, char **domain, const char **why)
{
	struct span body;
	const char *bang, *at, *end;
	size_t slen, i;
	char *dom, dwhy[128];

	*domain = NULL;
	for (i = 0; i < u.len; i++) {
		unsigned char c = (unsigned char)u.s[i];

		/* RFC 3986: a URI is printable US-ASCII without spaces */
		if (c <= 0x20 || c >= 0x7f) {
			*why = "holds a space or a byte that a URI cannot hold";
			return -1;
		}
	}
	/* RFC 7489 6.4: dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] */
	body = u;
	bang = memchr(u.s, '!', u.len);
	if (bang != NULL) {
		struct span size = { bang + 1, u.len - (size_t)(bang + 1 - u.s) };

		if (size.len > 0 && strchr("kmgtKMGT", size.s[size.len - 1]) != NULL)
			size.len--;
		if (parse_digits(size, 20) < 0) {
			*why = "has a '!' not followed by a size (a '!' in a URI must be %-encoded)";
			return -1;
		}
		body.len = (size_t)(bang - u.s);
	}
	slen = scheme_len(body);
	if (slen == 0) {
		*why = "has no scheme (write it as mailto:address)";
		return -1;
	}
	if (slen + 1 == body.len) {
		*why = "has nothing after its scheme";
		return -1;
	}
	if (!(slen == 6 && strncasecmp(body.s, "mailto", 6) == 0))
		return 0;
	/* RFC 6068: mailto:addr[?headers]; the domain follows the last '@' */
	end = memchr(body.s, '?', body.len);
	if (end == NULL)
		end = body.s + body.len;
	at = NULL;
	for (i = slen + 1; body.s + i < end; i++)
		if (body.s[i] == '@')
			at = body.s + i;
	if (at == NULL || at + 1 >= end || at == body.s + slen + 1) {
		*why = "is a mailto: URI without a local@domain address";
		return -1;
	}
	dom = xstrndup(at + 1, (size_t)(end - at - 1));
	str_lower(dom);
	if (dom[0] != '\0' && dom[strlen(dom) - 1] == '.')
		dom[strlen(dom) - 1] = '\0';
	if (net_name_check(dom, false, dwhy, sizeof(dwhy)) < 0 || strchr(dom, '.') == NULL) {
		free(dom);
		*why = "has a mailto: address whose domain is not a valid domain name";
		return -1;
	}
	*domain = dom;
	return 0;
}

static void
parse_uris(struct dmarc_record *rec, const char *tag, struct span v,
    struct dmarc_uri **list, size_t *n)
{
	struct span rest = v, part;
	bool more;
	const char *why;
	char *domain, *shown;

	if (v.len == 0) {
		dmarc_record_add_error(rec, tag, "%s= is empty: it needs at least one URI", tag);
		return;
	}
	/* RFC 7489 6.4: dmarc-urilist = dmarc-uri *(*WSP "," *WSP dmarc-uri) */
	while (next_piece(&rest, ',', &part, &more)) {
		part = trim(part);
		if (check_uri(part, &domain, &why) < 0) {
			shown = show(part);
			dmarc_record_add_error(rec, tag, "%s= URI '%s' %s", tag, shown, why);
			free(shown);
			continue;
		}
		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[*n].uri = xstrndup(part.s, part.len);
		(*list)[*n].mailto_domain = domain;
		(*n)++;
	}
}

static void
parse_tag(struct dmarc_record *rec, enum tag_id id, struct span name, struct span v)
{
	switch (id) {
	case TAG_V:
		break;
	case TAG_P:
		rec->p = parse_policy(rec, "p", v);
		break;
	case TAG_SP:
		rec->sp = parse_policy(rec, "sp", v);
		break;
	case TAG_PCT:
		parse_pct(rec, v);
		break;
	case TAG_ADKIM:
		parse_align(rec, "adkim", v, &rec->adkim_strict);
		break;
	case TAG_ASPF:
		parse_align(rec, "aspf", v, &rec->aspf_strict);
		break;
	case TAG_RUA:
		parse_uris(rec, "rua", v, &rec->rua, &rec->nrua);
		break;
	case TAG_RUF:
		parse_uris(rec, "ruf", v, &rec->ruf, &rec->nruf);
		break;
	case TAG_FO:
		parse_fo(rec, v);
		break;
	case TAG_RF:
		parse_rf(rec, v);
		break;
	case TAG_RI:
		parse_ri(rec, v);
		break;
	case TAG_UNKNOWN:
		/* RFC 7489 6.3: unknown tags MUST be ignored */
		rec->unknown = xrealloc(rec->unknown, (rec->nunknown + 1) * sizeof(*rec->unknown));
		rec->unknown[rec->nunknown++] = show(name);
		break;
	}
}

int
dmarc_record_parse(struct dmarc_record *rec, const char *text, size_t len)
{
	struct span rest = { text, len }, part, name, value;
	bool seen[TAG_UNKNOWN] = { false };
	bool more, first = true;
	enum tag_id id;
	char *shown;

	memset(rec, 0, sizeof(*rec));
	if (!dmarc_record_is_dmarc(text, len))
		return -1;
	rec->pct = 100;
	rec->fo = xstrdup("0");
	rec->rf = xstrdup("afrf");
	rec->ri = 86400;
	while (next_piece(&rest, ';', &part, &more)) {
		part = trim(part);
		if (first) {
			/* the version tag, checked by dmarc_record_is_dmarc() */
			first = false;
			seen[TAG_V] = true;
			continue;
		}
		if (part.len == 0) {
			/* RFC 7489 6.4 allows a final dmarc-sep; empty pieces are harmless */
			continue;
		}
		if (!split_tag(part, &name, &value) || name.len == 0) {
			shown = show(part);
			dmarc_record_add_error(rec, "record", "'%s' is not a tag=value pair", shown);
			free(shown);
			continue;
		}
		id = tag_id(name);
		if (id != TAG_UNKNOWN && seen[id]) {
			dmarc_record_add_error(rec, tag_names[id],
			    "%s= appears more than once (the first one is used)", tag_names[id]);
			continue;
		}
		if (id != TAG_UNKNOWN)
			seen[id] = true;
		parse_tag(rec, id, name, value);
	}
	/* RFC 7489 6.3: p is REQUIRED (for policy records) */
	if (rec->p == DMARC_POLICY_ABSENT)
		dmarc_record_add_error(rec, "p", "p= is missing (it is required)");
	return 0;
}

void
dmarc_record_release(struct dmarc_record *rec)
{
	size_t i;

	if (rec == NULL)
		return;
	for (i = 0; i < rec->nrua; i++) {
		free(rec->rua[i].uri);
		free(rec->rua[i].mailto_domain);
	}
	for (i = 0; i < rec->nruf; i++) {
		free(rec->ruf[i].uri);
		free(rec->ruf[i].mailto_domain);
	}
	for (i = 0; i < rec->nunknown; i++)
		free(rec->unknown[i]);
	for (i = 0; i < rec->nerrors; i++) {
		free(rec->errors[i].tag);
		free(rec->errors[i].message);
	}
	free(rec->rua);
	free(rec->ruf);
	free(rec->unknown);
	free(rec->errors);
	free(rec->fo);
	free(rec->rf);
	memset(rec, 0, sizeof(*rec));
}

bool
dmarc_record_effective(const struct dmarc_record *rec, enum dmarc_policy *p,
    enum dmarc_policy *sp)
{
	bool p_ok = rec->p != DMARC_POLICY_ABSENT && rec->p != DMARC_POLICY_INVALID;
	bool sp_ok = rec->sp != DMARC_POLICY_INVALID;

	if (p_ok && sp_ok) {
		*p = rec->p;
		*sp = rec->sp == DMARC_POLICY_ABSENT ? rec->p : rec->sp;
		return true;
	}
	/* RFC 7489 6.6.3 step 6: a valid rua turns the broken record into p=none */
	if (rec->nrua > 0) {
		*p = DMARC_POLICY_NONE;
		*sp = DMARC_POLICY_NONE;
		return true;
	}
	*p = DMARC_POLICY_ABSENT;
	*sp = DMARC_POLICY_ABSENT;
	return false;
}
