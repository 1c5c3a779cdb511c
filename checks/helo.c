/* Check helo: the HELO/EHLO name is a fully-qualified name or an address literal, resolves, and fits the sending IP. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "checks/check.h"
#include "core/textsafe.h"
#include "core/net.h"


/* True if family/addr is the sending IP (an IPv4-mapped address is its IPv4 host). */
static bool
same_ip(const struct target *t, int family, const unsigned char *addr)
{
	const unsigned char *mine = t->ip_addr;
	int fam = net_ip_unmap(t->ip_family, &mine);

	family = net_ip_unmap(family, &addr);
	return fam == family && memcmp(mine, addr, family == AF_INET ? 4 : 16) == 0;
}

/* "name" and "name." are the same name; case does not matter. */
static bool
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool
is_localhost(const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	/* RFC 6761 6.3: localhost and every name under it */
	if ((n == 9 && strncasecmp(name, "localhost", 9) == 0) ||
	    (n > 10 && strncasecmp(name + n - 10, ".localhost", 10) == 0))
		return true;
	return n >= 10 && strncasecmp(name, "localhost.", 10) == 0;
}

static void
check_literal(const struct target *t, struct report *rep)
{
	json_t *data = report_data(rep);
	unsigned char addr[16];
	char inner[64];
	size_t n = strlen(t->helo);
	int family = AF_INET;
	bool ok = false;

	json_object_set_new(data, "kind", json_string("literal"));
	if (n >= 3 && n - 2 < sizeof(inner)) {
		memcpy(inner, t->helo + 1, n - 2);
		inner[n - 2] = '\0';
		if (strncasecmp(inner, "IPv6:", 5) == 0) {
			family = AF_INET6;
			ok = inet_pton(AF_INET6, inner + 5, addr) == 1;
		} else {
			ok = inet_pton(AF_INET, inner, addr) == 1;
		}
	}
	if (!ok) {
		report_add(rep, "helo_invalid_literal", SEV_FAIL,
		    json_pack("{s:o}", "helo", json_str(t->helo)),
		    "the HELO '%s' is not a valid address literal", t->helo);
		return;
	}
	if (t->ip == NULL) {
		json_object_set_new(data, "matches_ip", json_null());
		report_add(rep, "helo_literal", SEV_INFO,
		    json_pack("{s:o}", "helo", json_str(t->helo)),
		    "the HELO is an address literal; many receivers prefer a host name");
		return;
	}
	if (same_ip(t, family, addr)) {
		json_object_set_new(data, "matches_ip", json_true());
		report_add(rep, "helo_literal", SEV_INFO,
		    json_pack("{s:o,s:o}", "helo", json_str(t->helo), "ip", json_str(t->ip)),
		    "the HELO is an address literal of the sending IP %s; many receivers "
		    "prefer a host name", t->ip);
		return;
	}
	json_object_set_new(data, "matches_ip", json_false());
	report_add(rep, "helo_literal_mismatch", SEV_WARN,
	    json_pack("{s:o,s:o}", "helo", json_str(t->helo), "ip", json_str(t->ip)),
	    "the HELO address literal '%s' is not the sending IP %s", t->helo, t->ip);
}

/* Fails the name for its form alone; true when it was. */
static bool
check_form(const struct target *t, struct report *rep)
{
	char why[256];
	unsigned char addr[16];
	int family;

	if (net_ip_parse(t->helo, &family, addr) == 0) {
		/* RFC 5321 4.1.3: an address goes in brackets */
		report_add(rep, "helo_bare_ip", SEV_FAIL,
		    json_pack("{s:o}", "helo", json_str(t->helo)),
		    "the HELO '%s' is an IP address without brackets: RFC 5321 wants a "
		    "host name or a literal like [%s]", t->helo, t->helo);
		return true;
	}
	if (is_localhost(t->helo)) {
		report_add(rep, "helo_localhost", SEV_FAIL,
		    json_pack("{s:o}", "helo", json_str(t->helo)),
		    "the HELO '%s' is a name of the local host, not of the sending server",
		    t->helo);
		return true;
	}
	if (strchr(t->helo, '.') == NULL || strcmp(strchr(t->helo, '.'), ".") == 0) {
		/* RFC 5321 4.1.1.1: the domain of EHLO is the client's fully-qualified name */
		report_add(rep, "helo_not_fqdn", SEV_FAIL,
		    json_pack("{s:o}", "helo", json_str(t->helo)),
		    "the HELO '%s' is a bare word, not a fully-qualified domain name",
		    t->helo);
		return true;
	}
	/* RFC 5321 4.1.2, RFC 1123 2.1: letters, digits and hyphens in labels of 1-63 octets */
	if (net_name_check(t->helo, false, why, sizeof(why)) < 0) {
		report_add(rep, "helo_invalid_name", SEV_FAIL,
		    json_pack("{s:o,s:s}", "helo", json_str(t->helo), "reason", why),
		    "the HELO '%s' is not a domain name: %s", t->helo, why);
		return true;
	}
	return false;
}

static bool
answered(const struct dns_result *r)
{
	return r->status == DNS_ANSWER && r->nrr > 0;
}

static bool
result_has_ip(const struct target *t, const struct dns_result *r)
{
	return dns_result_has_addr(r, t->ip_family, t->ip_addr);
}

/* The PTR answer is the one rdns reads too (asked at once, answered once); its failures are rdns's to report. */
static void
check_ptr(const struct target *t, struct report *rep, const struct dns_result *ptr)
{
	json_t *names;
	size_t i;

	if (ptr == NULL || ptr->status != DNS_ANSWER || ptr->nrr == 0)
		return;
	names = json_array();
	for (i = 0; i < ptr->nrr; i++)
		json_array_append_new(names, json_str(ptr->rr[i].u.name.target));
	for (i = 0; i < ptr->nrr; i++) {
		const char *p = ptr->rr[i].u.name.target;

		if (same_name(p, t->helo)) {
			json_object_set_new(report_data(rep), "matches_ptr", json_true());
			report_add(rep, "helo_matches_ptr", SEV_INFO,
			    json_pack("{s:o,s:o}", "helo", json_str(t->helo), "ptr", names),
			    "the HELO '%s' is the PTR name of %s", t->helo, t->ip);
			return;
		}
	}
	json_object_set_new(report_data(rep), "matches_ptr", json_false());
	report_add(rep, "helo_ptr_mismatch", SEV_INFO,
	    json_pack("{s:o,s:o,s:o}", "helo", json_str(t->helo), "ip", json_str(t->ip),
	    "ptr", names),
	    "the HELO '%s' is not the PTR name of %s", t->helo, t->ip);
}

static void
check_addresses(const struct target *t, struct report *rep, const struct dns_result *a,
    const struct dns_result *aaaa)
{
	json_t *data = report_data(rep), *addrs = json_array();
	const struct dns_result *mine = NULL;
	const unsigned char *ip;
	size_t i;

	for (i = 0; answered(a) && i < a->nrr; i++)
		json_array_append_new(addrs, json_str(a->rr[i].text));
	for (i = 0; answered(aaaa) && i < aaaa->nrr; i++)
		json_array_append_new(addrs, json_str(aaaa->rr[i].text));
	json_object_set_new(data, "addresses", addrs);

	if (!answered(a) && !answered(aaaa)) {
		const struct dns_result *bad = dns_status_is_failure(a->status) ? a :
		    dns_status_is_failure(aaaa->status) ? aaaa : NULL;

		if (bad != NULL) {
			json_object_set_new(data, "resolves", json_null());
			report_add(rep, "helo_lookup_failed", SEV_ERROR,
			    json_pack("{s:o,s:s,s:s,s:b}", "helo", json_str(t->helo),
			    "a", dns_status_name(a->status),
			    "aaaa", dns_status_name(aaaa->status),
			    "deadline", a->deadline || aaaa->deadline),
			    "dns: %s lookup for '%s' failed (%s), so whether the HELO resolves "
			    "is unknown", bad == a ? "A" : "AAAA", t->helo,
			    dns_status_name(bad->status));
			return;
		}
		json_object_set_new(data, "resolves", json_false());
		if (a->status == DNS_NXDOMAIN || aaaa->status == DNS_NXDOMAIN)
			report_add(rep, "helo_nxdomain", SEV_FAIL,
			    json_pack("{s:o}", "helo", json_str(t->helo)),
			    "the HELO name '%s' does not exist in DNS", t->helo);
		else
			report_add(rep, "helo_no_address", SEV_WARN,
			    json_pack("{s:o}", "helo", json_str(t->helo)),
			    "the HELO name '%s' has no A or AAAA record", t->helo);
		return;
	}
	json_object_set_new(data, "resolves", json_true());
	report_add(rep, "helo_resolves", SEV_INFO,
	    json_pack("{s:o,s:O}", "helo", json_str(t->helo), "addresses", addrs),
	    "the HELO name '%s' resolves", t->helo);
	if (t->ip == NULL)
		return;
	if (result_has_ip(t, a) || result_has_ip(t, aaaa)) {
		json_object_set_new(data, "matches_ip", json_true());
		report_add(rep, "helo_matches_ip", SEV_INFO,
		    json_pack("{s:o,s:o}", "helo", json_str(t->helo), "ip", json_str(t->ip)),
		    "the HELO name '%s' resolves to the sending IP %s", t->helo, t->ip);
		return;
	}
	ip = t->ip_addr;
	mine = net_ip_unmap(t->ip_family, &ip) == AF_INET ? a : aaaa;
	if (dns_status_is_failure(mine->status)) {
		json_object_set_new(data, "matches_ip", json_null());
		report_add(rep, "helo_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:s,s:s,s:b}", "helo", json_str(t->helo),
		    "a", dns_status_name(a->status), "aaaa", dns_status_name(aaaa->status),
		    "deadline", mine->deadline),
		    "dns: %s lookup for '%s' failed (%s), so whether it resolves to %s is unknown",
		    mine == a ? "A" : "AAAA", t->helo, dns_status_name(mine->status), t->ip);
		return;
	}
	json_object_set_new(data, "matches_ip", json_false());
	report_add(rep, "helo_ip_mismatch", SEV_WARN,
	    json_pack("{s:o,s:o,s:O}", "helo", json_str(t->helo), "ip", json_str(t->ip),
	    "addresses", addrs),
	    "the HELO name '%s' does not resolve to the sending IP %s", t->helo, t->ip);
}

static void
helo_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const char *names[3];
	const uint16_t types[3] = { DNS_T_A, DNS_T_AAAA, DNS_T_PTR };
	struct dns_result *res[3] = { NULL, NULL, NULL };
	json_t *data = report_data(rep);
	char rev[128];
	size_t n = 2, i;

	(void)ctx;
	json_object_set_new(data, "helo", json_str(t->helo));
	json_object_set_new(data, "matches_ptr", json_null());
	if (t->helo[0] == '[') {
		check_literal(t, rep);
		return;
	}
	json_object_set_new(data, "kind", json_string("name"));
	json_object_set_new(data, "resolves", json_null());
	json_object_set_new(data, "matches_ip", json_null());
	if (check_form(t, rep))
		return;
	names[0] = names[1] = t->helo;
	if (t->ip != NULL && dns_reverse_name(t->ip, NULL, true, rev, sizeof(rev)) == 0)
		names[n++] = rev;
	/* the name's addresses and the IP's PTR in one round trip */
	dns_lookup_many(dns, names, types, n, res);
	check_addresses(t, rep, res[0], res[1]);
	if (t->ip != NULL)
		check_ptr(t, rep, res[2]);
	for (i = 0; i < n; i++)
		dns_result_free(res[i]);
}

const struct check_ops check_helo = {
	.name = "helo",
	.summary = "the HELO name: fully-qualified or a literal, resolves, matches the IP and PTR",
	.needs = NEED_HELO,
	.run = helo_run,
};
