/* Blocklist configuration from checks.d and the meaning of a list's answers. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/dnsbl/list.h"
#include "dns/dns.h"
#include "core/net.h"

#define URL_MAX	512

static const char *const list_keys[] = {
	"kind", "weight", "policy_weight", "code", "policy_code", "refused_code",
	"delist_url", "refuses_public", "selftest", "test_listed", "test_unlisted",
	"registered_domain", "dqs_zone", "rate", "budget", NULL,
};

/* Parses a dotted-quad IPv4 address of exactly len bytes into host order. */
static int
parse_ip4(const char *s, size_t len, uint32_t *out)
{
	char buf[24];
	unsigned char a[16];
	int family;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strchr(buf, ':') != NULL || net_ip_parse(buf, &family, a) < 0 ||
	    family != AF_INET)
		return -1;
	*out = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	return 0;
}

int
dnsbl_code_parse(const char *text, enum dnsbl_code_class cls,
    struct dnsbl_code *out, char *why, size_t whylen)
{
	const char *p = text, *spec, *dash, *meaning;
	size_t slen;

	memset(out, 0, sizeof(*out));
	out->cls = cls;
	while (*p == ' ' || *p == '\t')
		p++;
	spec = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	slen = (size_t)(p - spec);
	while (*p == ' ' || *p == '\t')
		p++;
	meaning = p;
	if (slen == 0) {
		snprintf(why, whylen, "a code needs an address, a range or bitmask:N");
		return -1;
	}
	if (slen > 8 && strncmp(spec, "bitmask:", 8) == 0) {
		char num[8], *end;
		long v;

		if (slen - 8 >= sizeof(num))
			goto badmask;
		memcpy(num, spec + 8, slen - 8);
		num[slen - 8] = '\0';
		if (!isdigit((unsigned char)num[0]))
			goto badmask;
		errno = 0;
		v = strtol(num, &end, 0);
		if (errno != 0 || *end != '\0' || v < 1 || v > 255)
			goto badmask;
		out->mask = (uint8_t)v;
		out->lo = 0x7f000000;
		out->hi = 0x7f0000ff;
	} else if ((dash = memchr(spec, '-', slen)) != NULL) {
		if (parse_ip4(spec, (size_t)(dash - spec), &out->lo) < 0 ||
		    parse_ip4(dash + 1, slen - (size_t)(dash - spec) - 1, &out->hi) < 0 ||
		    out->lo > out->hi) {
			snprintf(why, whylen, "'%.*s' is not a range of IPv4 addresses "
			    "(LOW-HIGH, low first)", (int)(slen > 64 ? 64 : slen), spec);
			return -1;
		}
	} else {
		if (parse_ip4(spec, slen, &out->lo) < 0) {
			snprintf(why, whylen, "'%.*s' is not an IPv4 address, a range or "
			    "bitmask:N", (int)(slen > 64 ? 64 : slen), spec);
			return -1;
		}
		out->hi = out->lo;
	}
	out->meaning = xstrdup(meaning);
	return 0;
badmask:
	snprintf(why, whylen, "'%.*s' is not bitmask:N with N from 1 to 255",
	    (int)(slen > 64 ? 64 : slen), spec);
	return -1;
}

bool
dnsbl_code_match(const struct dnsbl_code *c, const unsigned char *addr)
{
	uint32_t v = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
	    (uint32_t)addr[2] << 8 | addr[3];

	if (v < c->lo || v > c->hi)
		return false;
	return c->mask == 0 || (addr[3] & c->mask) != 0;
}

void
dnsbl_list_free(struct dnsbl_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->ncodes; i++)
		free(l->codes[i].meaning);
	free(l->codes);
	free(l->zone);
	free(l->delist_url);
	free(l->test_listed);
	free(l->test_unlisted);
	free(l->dqs_zone);
	free(l->query_zone);
	free(l->shown_zone);
	free(l);
}

void
dnsbl_list_set_key(struct dnsbl_list *l, const char *key)
{
	if (l->dqs_zone == NULL)
		return;
	free(l->query_zone);
	free(l->shown_zone);
	l->query_zone = xasprintf("%s.%s", key, l->dqs_zone);
	l->shown_zone = xasprintf("%s.%s", DNSBL_KEY_SHOWN, l->dqs_zone);
	/* the key, not the resolver, is what the operator counts queries by */
	l->refuses_public = false;
}

const char *
dnsbl_list_query_zone(const struct dnsbl_list *l)
{
	return l->query_zone != NULL ? l->query_zone : l->zone;
}

const char *
dnsbl_list_shown_zone(const struct dnsbl_list *l)
{
	return l->shown_zone != NULL ? l->shown_zone : l->zone;
}

bool
dnsbl_list_is_named(const struct dnsbl_list *l, const char *name)
{
	return strcmp(l->zone, name) == 0 ||
	    (l->dqs_zone != NULL && strcmp(l->dqs_zone, name) == 0);
}

static const struct {
	enum dnsbl_kind kind;
	const char *name;
} kind_names[] = {
	{ DNSBL_IP4, "ip4" },
	{ DNSBL_IP6, "ip6" },
	{ DNSBL_DOMAIN, "domain" },
};

const char *
dnsbl_kind_name(enum dnsbl_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (kind_names[i].kind == kind)
			return kind_names[i].name;
	return "domain";
}

int
dnsbl_kind_parse(const char *s, size_t len, enum dnsbl_kind *out)
{
	size_t i;

	for (i = 0; s != NULL && i < ARRAY_SIZE(kind_names); i++) {
		if (strlen(kind_names[i].name) == len && strncmp(s, kind_names[i].name, len) == 0) {
			*out = kind_names[i].kind;
			return 0;
		}
	}
	return -1;
}

static int
parse_kinds(const struct conf_section *sec, const struct conf_entry *e,
    unsigned *kinds, struct error *err)
{
	const char *p = e->value;
	enum dnsbl_kind k;

	*kinds = 0;
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n == 0)
			break;
		if (dnsbl_kind_parse(p, n, &k) < 0)
			return conf_error(sec, e, err, "kind '%.*s' is not ip4, ip6 or domain",
			    (int)(n > 32 ? 32 : n), p);
		*kinds |= k;
		p += n;
	}
	if (*kinds == 0)
		return conf_error(sec, e, err, "kind is empty (want ip4, ip6 or domain)");
	if ((*kinds & DNSBL_DOMAIN) && (*kinds & (DNSBL_IP4 | DNSBL_IP6)))
		return conf_error(sec, e, err, "a list is either for domains or for IPs, not both");
	return 0;
}

static int
check_test_point(const struct conf_section *sec, const struct conf_entry *e,
    unsigned kinds, struct error *err)
{
	char why[128];
	unsigned char a[16];
	int family;

	if (kinds & DNSBL_DOMAIN) {
		if (net_name_check(e->value, true, why, sizeof(why)) < 0)
			return conf_error(sec, e, err, "%s '%s': %s", e->key, e->value, why);
		return 0;
	}
	if (net_ip_parse(e->value, &family, a) < 0 || family != AF_INET)
		return conf_error(sec, e, err, "%s '%s' is not an IPv4 address", e->key, e->value);
	return 0;
}

/* The number before the unit of a rate or budget: decimal digits, with a fraction when frac. */
static int
parse_amount(const char *text, size_t len, bool frac, double *out)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf) || strspn(text, frac ? "0123456789." : "0123456789") < len)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (errno != 0 || *end != '\0' || !(*out > 0) || *out > 1e9)
		return -1;
	return 0;
}

int
dnsbl_rate_parse(const char *text, double *per_sec, char *why, size_t whylen)
{
	static const struct {
		const char *unit;
		double secs;
	} units[] = { { "/s", 1 }, { "/min", 60 }, { "/h", 3600 } };
	const char *slash = strchr(text, '/');
	double n;
	size_t i;

	if (strcmp(text, "none") == 0) {
		*per_sec = 0;
		return 0;
	}
	for (i = 0; slash != NULL && i < ARRAY_SIZE(units); i++) {
		if (strcmp(slash, units[i].unit) != 0)
			continue;
		if (parse_amount(text, (size_t)(slash - text), true, &n) < 0)
			break;
		*per_sec = n / units[i].secs;
		return 0;
	}
	snprintf(why, whylen, "'%.40s' is not a rate: want N/s, N/min or N/h (N above 0), or none",
	    text);
	return -1;
}

int
dnsbl_budget_parse(const char *text, uint64_t *per_day, char *why, size_t whylen)
{
	const char *slash = strchr(text, '/');
	double n;

	if (strcmp(text, "none") == 0) {
		*per_day = 0;
		return 0;
	}
	if (slash == NULL || strcmp(slash, "/day") != 0 ||
	    parse_amount(text, (size_t)(slash - text), false, &n) < 0) {
		snprintf(why, whylen, "'%.40s' is not a daily budget: want N/day (N a whole "
		    "number above 0), or none", text);
		return -1;
	}
	*per_day = (uint64_t)n;
	return 0;
}

/* The rate and budget keys, when present. */
static int
read_caps(struct dnsbl_list *l, const struct conf_section *sec, struct error *err)
{
	char why[160];
	size_t i;

	for (i = 0; i < sec->nentries; i++) {
		const struct conf_entry *e = &sec->entries[i];

		if (strcmp(e->key, "rate") == 0 &&
		    dnsbl_rate_parse(e->value, &l->rate, why, sizeof(why)) < 0)
			return conf_error(sec, e, err, "rate: %s", why);
		if (strcmp(e->key, "budget") == 0 &&
		    dnsbl_budget_parse(e->value, &l->budget, why, sizeof(why)) < 0)
			return conf_error(sec, e, err, "budget: %s", why);
	}
	return 0;
}

/* dqs_zone: a name under which the list answers with a key label in front. */
static int
read_dqs_zone(struct dnsbl_list *l, const struct conf_section *sec, struct error *err)
{
	const char *v = conf_section_get(sec, "dqs_zone");
	char why[160];

	if (v == NULL)
		return 0;
	l->dqs_zone = net_name_canonical(v);
	if (net_name_check(l->dqs_zone, true, why, sizeof(why)) < 0 ||
	    strchr(l->dqs_zone, '.') == NULL) {
		/* the last dqs_zone entry is the one read: name its line */
		size_t i;

		for (i = sec->nentries; i-- > 0;)
			if (strcmp(sec->entries[i].key, "dqs_zone") == 0)
				return conf_error(sec, &sec->entries[i], err,
				    "dqs_zone '%s' is not a domain name", v);
	}
	return 0;
}

/* The list's zone from the section's label, and the settings that are one key each. */
static int
read_settings(struct dnsbl_list *l, const struct conf_section *sec, struct error *err)
{
	char why[160];

	if (sec->label == NULL || sec->label[0] == '\0')
		return conf_error(sec, NULL, err,
		    "a list section needs the zone as its label: [%s \"zone\"]", sec->name);
	l->zone = net_name_canonical(sec->label);
	if (net_name_check(l->zone, true, why, sizeof(why)) < 0)
		return conf_error(sec, NULL, err, "zone '%s': %s", sec->label, why);
	if (conf_section_check_keys(sec, list_keys, err) < 0 ||
	    conf_section_get_int(sec, "weight", -100, 100, &l->weight, err) < 0 ||
	    conf_section_get_int(sec, "policy_weight", -100, 100, &l->policy_weight, err) < 0 ||
	    conf_section_get_bool(sec, "refuses_public", &l->refuses_public, err) < 0 ||
	    conf_section_get_bool(sec, "selftest", &l->selftest, err) < 0 ||
	    conf_section_get_bool(sec, "registered_domain", &l->registered_domain, err) < 0)
		return -1;
	if (l->policy_weight == -1)
		l->policy_weight = l->weight;
	if (read_dqs_zone(l, sec, err) < 0)
		return -1;
	return read_caps(l, sec, err);
}

/* One code, policy_code or refused_code entry appended to the list's codes. */
static int
add_code(struct dnsbl_list *l, const struct conf_section *sec, const struct conf_entry *e,
    enum dnsbl_code_class cls, struct error *err)
{
	char why[160];

	l->codes = xrealloc(l->codes, (l->ncodes + 1) * sizeof(*l->codes));
	if (dnsbl_code_parse(e->value, cls, &l->codes[l->ncodes], why, sizeof(why)) < 0)
		return conf_error(sec, e, err, "%s: %s", e->key, why);
	l->ncodes++;
	return 0;
}

/* One repeatable or kind-dependent entry (kinds are known by now); others are skipped. */
static int
read_entry(struct dnsbl_list *l, const struct conf_section *sec, const struct conf_entry *e,
    struct error *err)
{
	char **slot;

	if (strcmp(e->key, "delist_url") == 0) {
		free(l->delist_url);
		l->delist_url = xstrdup(e->value);
	} else if (strcmp(e->key, "test_listed") == 0 || strcmp(e->key, "test_unlisted") == 0) {
		slot = e->key[5] == 'l' ? &l->test_listed : &l->test_unlisted;
		if (check_test_point(sec, e, l->kinds, err) < 0)
			return -1;
		free(*slot);
		*slot = xstrdup_lower(e->value);
	} else if (strcmp(e->key, "code") == 0) {
		return add_code(l, sec, e, DNSBL_CODE_LISTED, err);
	} else if (strcmp(e->key, "policy_code") == 0) {
		return add_code(l, sec, e, DNSBL_CODE_POLICY, err);
	} else if (strcmp(e->key, "refused_code") == 0) {
		return add_code(l, sec, e, DNSBL_CODE_REFUSED, err);
	}
	return 0;
}

/* True if the list documents a code that is a listing, not only refusals. */
static bool
has_listing_code(const struct dnsbl_list *l)
{
	size_t i;

	for (i = 0; i < l->ncodes; i++)
		if (l->codes[i].cls != DNSBL_CODE_REFUSED)
			return true;
	return false;
}

struct dnsbl_list *
dnsbl_list_from_section(const struct conf_section *sec, unsigned default_kinds,
    struct error *err)
{
	struct dnsbl_list *l = xcalloc(1, sizeof(*l)), *ret = NULL;
	size_t i;

	l->file = sec->file;
	l->line = sec->line;
	l->kinds = default_kinds;
	l->weight = 1;
	l->policy_weight = -1;
	l->selftest = true;
	if (read_settings(l, sec, err) < 0)
		goto out;
	/* the kinds first: what a test point must be depends on them */
	for (i = 0; i < sec->nentries; i++)
		if (strcmp(sec->entries[i].key, "kind") == 0 &&
		    parse_kinds(sec, &sec->entries[i], &l->kinds, err) < 0)
			goto out;
	for (i = 0; i < sec->nentries; i++)
		if (read_entry(l, sec, &sec->entries[i], err) < 0)
			goto out;
	if (!has_listing_code(l)) {
		conf_error(sec, NULL, err, "list '%s' documents no return code "
		    "(add code = 127.0.0.2 meaning)", l->zone);
		goto out;
	}
	ret = l;
	l = NULL;
out:
	dnsbl_list_free(l);
	return ret;
}

enum dnsbl_verdict
dnsbl_classify(const struct dnsbl_list *l, const unsigned char *addrs, size_t n,
    long *matched, bool *policy_only)
{
	bool listed = false, refused = false, outside = false, policy = true;
	size_t i, j;

	if (policy_only != NULL)
		*policy_only = false;
	for (i = 0; i < n; i++) {
		const unsigned char *a = addrs + 4 * i;
		long hit = -1;

		if (matched != NULL)
			matched[i] = -1;
		if (a[0] != 127) {
			outside = true;
			continue;
		}
		/* refused codes first: an answer that is both is not a listing */
		for (j = 0; j < l->ncodes && hit < 0; j++)
			if (l->codes[j].cls == DNSBL_CODE_REFUSED && dnsbl_code_match(&l->codes[j], a))
				hit = (long)j;
		for (j = 0; j < l->ncodes && hit < 0; j++)
			if (l->codes[j].cls != DNSBL_CODE_REFUSED && dnsbl_code_match(&l->codes[j], a))
				hit = (long)j;
		if (matched != NULL)
			matched[i] = hit;
		if (hit < 0)
			continue;
		if (l->codes[hit].cls == DNSBL_CODE_REFUSED) {
			refused = true;
		} else {
			listed = true;
			if (l->codes[hit].cls != DNSBL_CODE_POLICY)
				policy = false;
		}
	}
	if (n == 0)
		return DNSBL_V_NONE;
	if (refused)
		return DNSBL_V_REFUSED;
	if (outside || !listed)
		return DNSBL_V_UNEXPECTED;
	if (policy_only != NULL)
		*policy_only = policy;
	return DNSBL_V_LISTED;
}

char *
dnsbl_txt_url(const char *txt, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		size_t rest = len - i;

		if (rest >= 7 && strncasecmp(txt + i, "http://", 7) == 0)
			n = 7;
		else if (rest >= 8 && strncasecmp(txt + i, "https://", 8) == 0)
			n = 8;
		else
			continue;
		while (i + n < len && n < URL_MAX) {
			unsigned char c = (unsigned char)txt[i + n];

			if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' ||
			    c == '>' || c == '`')
				break;
			n++;
		}
		/* a scheme alone, or a URL cut by the length limit, is no URL */
		if ((n == 7 || n == 8) && strncmp(txt + i + n - 3, "://", 3) == 0)
			continue;
		if (n >= URL_MAX)
			return NULL;
		return xstrndup(txt + i, n);
	}
	return NULL;
}

char *
dnsbl_delist_url(const struct dnsbl_list *l, const char *subject)
{
	static const char mark[] = "{subject}";
	struct strbuf sb;
	const char *p, *q;

	if (l->delist_url == NULL)
		return NULL;
	strbuf_init(&sb);
	for (p = l->delist_url; (q = strstr(p, mark)) != NULL; p = q + sizeof(mark) - 1) {
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_addstr(&sb, subject);
	}
	strbuf_addstr(&sb, p);
	return strbuf_detach(&sb, NULL);
}
