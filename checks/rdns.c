/* Check rdns: the sending IP's PTR records, their forward confirmation, and names that look generic. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/check.h"
#include "core/textsafe.h"
#include "core/net.h"

struct rdns_conf {
	char **words;
	size_t nwords;
	bool octets;
	long max_names;
};


static const char *const rdns_keys[] = {
	"generic_word", "generic_octets", "max_names", NULL,
};

static void
rdns_free(void *ctx)
{
	struct rdns_conf *c = ctx;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nwords; i++)
		free(c->words[i]);
	free(c->words);
	free(c);
}

static int
rdns_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct rdns_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;
	size_t i;

	c->octets = true;
	c->max_names = 10;
	while ((sec = conf_next(conf, sec, "rdns")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[rdns] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, rdns_keys, err) < 0 ||
		    conf_section_get_bool(sec, "generic_octets", &c->octets, err) < 0 ||
		    conf_section_get_int(sec, "max_names", 1, 100, &c->max_names, err) < 0)
			goto fail;
		for (i = 0; i < sec->nentries; i++) {
			const struct conf_entry *e = &sec->entries[i];
			const char *p;

			if (strcmp(e->key, "generic_word") != 0)
				continue;
			for (p = e->value; *p != '\0' && isalpha((unsigned char)*p); p++)
				;
			if (*p != '\0' || e->value[0] == '\0') {
				conf_error(sec, e, err, "generic_word '%s' must be letters only",
				    e->value);
				goto fail;
			}
			c->words = xrealloc(c->words, (c->nwords + 1) * sizeof(*c->words));
			c->words[c->nwords++] = xstrdup_lower(e->value);
		}
	}
	*ctx = c;
	return 0;
fail:
	rdns_free(c);
	return -1;
}

/* A whole word (a run of letters) of name that is a generic word, or NULL. */
static const char *
generic_word(const struct rdns_conf *c, const char *name)
{
	const char *p = name;
	size_t i, len;

	while (*p != '\0') {
		if (!isalpha((unsigned char)*p)) {
			p++;
			continue;
		}
		for (len = 0; isalpha((unsigned char)p[len]); len++)
			;
		for (i = 0; i < c->nwords; i++)
			if (strlen(c->words[i]) == len && strncasecmp(p, c->words[i], len) == 0)
				return c->words[i];
		p += len;
	}
	return NULL;
}

/* Does name, lowered, contain needle (already lower case)? */
static bool
contains_lower(const char *name, const char *needle)
{
	char *low = xstrdup_lower(name);
	bool found = strstr(low, needle) != NULL;

	free(low);
	return found;
}

/*
 * Does name embed the IPv4 address: its four octets as consecutive numbers
 * (either order), or its eight hex digits?
 */
static bool
embeds_ip4(const char *name, const unsigned char *a)
{
	long nums[64];
	size_t n = 0, i;
	const char *p = name;
	char hex[9];

	while (*p != '\0' && n < ARRAY_SIZE(nums)) {
		if (isdigit((unsigned char)*p)) {
			char *end;

			nums[n++] = strtol(p, &end, 10);
			p = end;
		} else {
			p++;
		}
	}
	for (i = 0; i + 4 <= n; i++) {
		if (nums[i] == a[0] && nums[i + 1] == a[1] && nums[i + 2] == a[2] &&
		    nums[i + 3] == a[3])
			return true;
		if (nums[i] == a[3] && nums[i + 1] == a[2] && nums[i + 2] == a[1] &&
		    nums[i + 3] == a[0])
			return true;
	}
	snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", a[0], a[1], a[2], a[3]);
	return contains_lower(name, hex);
}

/* The low 64 bits of an IPv6 address as 16 hex digits inside the name. */
static bool
embeds_ip6(const char *name, const unsigned char *a)
{
	char hex[17];
	size_t i;

	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", a[8 + i]);
	return contains_lower(name, hex);
}

static json_t *
addresses(const struct dns_result *res)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < res->nrr; i++)
		json_array_append_new(arr, json_str(res->rr[i].text));
	return arr;
}

/* The forward lookups of the PTR names: is one of them the IP again (FCrDNS)? */
static void
report_fcrdns(const struct target *t, struct report *rep, const char **names,
    struct dns_result **fwd, size_t n, int family, const unsigned char *addr)
{
	const char *confirmed = NULL;
	bool failed = false;
	json_t *d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (fwd[i]->status == DNS_ANSWER && dns_result_has_addr(fwd[i], family, addr)) {
			if (confirmed == NULL)
				confirmed = names[i];
		} else if (dns_status_is_failure(fwd[i]->status)) {
			failed = true;
		}
	}
	if (confirmed != NULL) {
		report_add(rep, "fcrdns_ok", SEV_INFO,
		    json_pack("{s:o,s:o}", "ptr", json_str(confirmed), "ip", json_str(t->ip)),
		    "PTR name '%s' resolves back to %s (forward-confirmed)", confirmed, t->ip);
		json_object_set_new(report_data(rep), "fcrdns", json_true());
	} else if (failed) {
		d = json_pack("{s:o,s:[]}", "ip", json_str(t->ip), "lookups");
		for (i = 0; i < n; i++)
			json_array_append_new(json_object_get(d, "lookups"),
			    json_pack("{s:o,s:s,s:s}", "name", json_str(names[i]),
			    "type", family == AF_INET ? "A" : "AAAA",
			    "status", dns_status_name(fwd[i]->status)));
		report_add(rep, "fcrdns_lookup_failed", SEV_ERROR, d,
		    "could not confirm the PTR name of %s: the forward lookup of '%s' failed (%s)",
		    t->ip, names[0], dns_status_name(fwd[0]->status));
		json_object_set_new(report_data(rep), "fcrdns", json_null());
	} else {
		d = json_pack("{s:o,s:[]}", "ip", json_str(t->ip), "names");
		for (i = 0; i < n; i++)
			json_array_append_new(json_object_get(d, "names"),
			    json_pack("{s:o,s:s,s:o}", "name", json_str(names[i]),
			    "status", dns_status_name(fwd[i]->status),
			    "addresses", addresses(fwd[i])));
		report_add(rep, "fcrdns_mismatch", SEV_FAIL, d,
		    "PTR name '%s' does not resolve back to %s (not forward-confirmed)",
		    names[0], t->ip);
		json_object_set_new(report_data(rep), "fcrdns", json_false());
	}
}

/* PTR names that look like those of end-user pools: a generic word, the IP in the name. */
static void
report_generic(const struct rdns_conf *c, struct report *rep, const char **names, size_t n,
    int family, const unsigned char *addr)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *word = generic_word(c, names[i]);
		bool octets = c->octets && (family == AF_INET ?
		    embeds_ip4(names[i], addr) : embeds_ip6(names[i], addr));

		if (word == NULL && !octets)
			continue;
		report_add(rep, "ptr_generic", SEV_WARN,
		    json_pack("{s:o,s:o,s:b}", "ptr", json_str(names[i]),
		    "word", json_str(word), "embeds_ip", octets),
		    "PTR name '%s' looks like a generic end-user name (%s%s%s)", names[i],
		    word != NULL ? "word '" : "", word != NULL ? word : "",
		    word != NULL ? (octets ? "', embeds the IP" : "'") : "embeds the IP");
	}
}

/* The HELO name is ptr, ignoring case and a final dot on the HELO name. */
static bool
helo_is(const char *helo, const char *ptr)
{
	size_t n = strlen(ptr);

	return strcasecmp(ptr, helo) == 0 ||
	    (strlen(helo) == n + 1 && helo[n] == '.' && strncasecmp(ptr, helo, n) == 0);
}

/* A HELO name that is none of the PTR names (an address literal is not compared). */
static void
report_helo(const struct target *t, struct report *rep, const struct dns_result *ptr)
{
	const char *first = ptr->rr[0].u.name.target;
	size_t i;

	if (t->helo == NULL || t->helo[0] == '[')
		return;
	for (i = 0; i < ptr->nrr; i++)
		if (helo_is(t->helo, ptr->rr[i].u.name.target))
			return;
	report_add(rep, "ptr_helo_mismatch", SEV_INFO,
	    json_pack("{s:o,s:o}", "ptr", json_str(first), "helo", json_str(t->helo)),
	    "the PTR name '%s' differs from the HELO name '%s'", first, t->helo);
}

static void
check_names(const struct rdns_conf *c, const struct target *t, struct dns *dns,
    struct report *rep, const struct dns_result *ptr, int family,
    const unsigned char *addr)
{
	size_t n = ptr->nrr < (size_t)c->max_names ? ptr->nrr : (size_t)c->max_names;
	const char **names = xcalloc(n, sizeof(*names));
	uint16_t *types = xcalloc(n, sizeof(*types));
	struct dns_result **fwd = xcalloc(n, sizeof(*fwd));
	size_t i;

	for (i = 0; i < n; i++) {
		names[i] = ptr->rr[i].u.name.target;
		types[i] = family == AF_INET ? DNS_T_A : DNS_T_AAAA;
	}
	/* all forward lookups at once: one round trip, not one per name */
	dns_lookup_many(dns, names, types, n, fwd);
	report_fcrdns(t, rep, names, fwd, n, family, addr);
	report_generic(c, rep, names, n, family, addr);
	report_helo(t, rep, ptr);
	for (i = 0; i < n; i++)
		dns_result_free(fwd[i]);
	free(fwd);
	free(types);
	free(names);
}

static void
rdns_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct rdns_conf *c = ctx;
	struct dns_result *ptr = NULL;
	const unsigned char *addr;
	char rev[128];
	json_t *names;
	int family;
	size_t i;

	if (dns_reverse_name(t->ip, NULL, true, rev, sizeof(rev)) < 0) {
		report_skip(rep, "'%s' has no reverse name", t->ip);
		return;
	}
	json_object_set_new(report_data(rep), "reverse_name", json_str(rev));
	ptr = dns_lookup(dns, rev, DNS_T_PTR);
	names = json_array();
	for (i = 0; i < ptr->nrr; i++)
		json_array_append_new(names, json_str(ptr->rr[i].u.name.target));
	json_object_set_new(report_data(rep), "ptr", names);

	if (dns_status_is_negative(ptr->status)) {
		report_add(rep, "ptr_missing", SEV_FAIL,
		    json_pack("{s:o,s:o,s:s}", "ip", json_str(t->ip), "name", json_str(rev),
		    "status", dns_status_name(ptr->status)),
		    "%s has no PTR record (%s for '%s')", t->ip,
		    dns_status_name(ptr->status), rev);
		json_object_set_new(report_data(rep), "fcrdns", json_false());
		goto out;
	}
	if (ptr->status != DNS_ANSWER) {
		report_add(rep, "ptr_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:o,s:s,s:b}", "ip", json_str(t->ip), "name", json_str(rev),
		    "status", dns_status_name(ptr->status), "deadline", ptr->deadline),
		    "the PTR lookup for %s failed (%s), so reverse DNS could not be checked",
		    t->ip, dns_status_name(ptr->status));
		json_object_set_new(report_data(rep), "fcrdns", json_null());
		goto out;
	}
	report_add(rep, "ptr_found", SEV_INFO,
	    json_pack("{s:o,s:O}", "ip", json_str(t->ip), "ptr", names),
	    "%s has PTR '%s'", t->ip, ptr->rr[0].u.name.target);
	if (ptr->nrr > 1)
		report_add(rep, "ptr_multiple", SEV_WARN,
		    json_pack("{s:o,s:O}", "ip", json_str(t->ip), "ptr", names),
		    "%s has %zu PTR records; receivers may check only one of them",
		    t->ip, ptr->nrr);
	addr = t->ip_addr;
	family = net_ip_unmap(t->ip_family, &addr);
	check_names(c, t, dns, rep, ptr, family, addr);
out:
	dns_result_free(ptr);
}

static void
rdns_describe(const void *ctx, struct strbuf *out)
{
	const struct rdns_conf *c = ctx;
	size_t i, col;

	strbuf_addf(out, "  generic words:");
	col = 16;
	for (i = 0; i < c->nwords; i++) {
		/* wrapped for an 80-column terminal */
		if (col + 1 + strlen(c->words[i]) > 78) {
			strbuf_addf(out, "\n   ");
			col = 3;
		}
		strbuf_addf(out, " %s", c->words[i]);
		col += 1 + strlen(c->words[i]);
	}
	strbuf_addf(out, "\n  embedded IP detection: %s\n", c->octets ? "on" : "off");
}

const struct check_ops check_rdns = {
	.name = "rdns",
	.summary = "reverse DNS of the IP: PTR, forward confirmation, generic names",
	.needs = NEED_IP,
	.configure = rdns_configure,
	.run = rdns_run,
	.describe = rdns_describe,
	.free = rdns_free,
};
