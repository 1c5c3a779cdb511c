/* Mail routing of a domain: MX, implicit MX, null MX and MX host resolution, shared by two checks. */
#include "checks/domain/mx.h"

#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"
#include "core/net.h"

enum { Q_MX, Q_A, Q_AAAA };

static const uint16_t qtypes[3] = { DNS_T_MX, DNS_T_A, DNS_T_AAAA };
static const char *const qtype_names[3] = { "MX", "A", "AAAA" };

const char *
domain_mail_kind_name(enum domain_mail_kind kind)
{
	switch (kind) {
	case DOMAIN_MAIL_NXDOMAIN:
		return "nxdomain";
	case DOMAIN_MAIL_NONE:
		return "no_mail";
	case DOMAIN_MAIL_NULL_MX:
		return "null_mx";
	case DOMAIN_MAIL_IMPLICIT:
		return "implicit_mx";
	case DOMAIN_MAIL_MX:
		return "mx";
	case DOMAIN_MAIL_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
domain_host_state_name(enum domain_host_state st)
{
	switch (st) {
	case DOMAIN_HOST_OK:
		return "ok";
	case DOMAIN_HOST_CNAME:
		return "cname";
	case DOMAIN_HOST_NXDOMAIN:
		return "nxdomain";
	case DOMAIN_HOST_NOADDR:
		return "no_address";
	case DOMAIN_HOST_IP_LITERAL:
		return "ip_literal";
	case DOMAIN_HOST_ERROR:
		break;
	}
	return "error";
}

void
domain_mail_init(struct domain_mail *dm, struct dns *dns, const char *domain)
{
	size_t i;

	memset(dm, 0, sizeof(*dm));
	dm->domain = xstrdup(domain);
	for (i = 0; i < ARRAY_SIZE(qtypes); i++)
		dm->q[i] = dns_query_submit(dns, domain, qtypes[i]);
}

static int
cmp_host(const void *x, const void *y)
{
	const struct domain_mx_host *a = x, *b = y;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	return strcmp(a->name, b->name);
}

static bool
has_addresses(const struct dns_result *res)
{
	return res != NULL && res->status == DNS_ANSWER && res->nrr > 0;
}

/*
 * An address where RFC 5321 5.1 wants a name: "192.0.2.1", or a whole
 * bracketed literal "[192.0.2.1]"; a name that merely holds a '[' is a
 * (bad) name, looked up like any other.
 */
static bool
is_ip_literal(const char *name)
{
	unsigned char addr[16];
	int family;

	return net_ip_parse(name, &family, addr) == 0 || net_address_literal(name);
}

static enum domain_host_state
host_state(const struct dns_result *a, const struct dns_result *aaaa)
{
	const struct dns_result *found = has_addresses(a) ? a : has_addresses(aaaa) ? aaaa : NULL;

	if (found != NULL)
		return found->ncname > 0 ? DOMAIN_HOST_CNAME : DOMAIN_HOST_OK;
	if (dns_status_is_failure(a->status) || dns_status_is_failure(aaaa->status))
		return DOMAIN_HOST_ERROR;
	if (a->status == DNS_NXDOMAIN || aaaa->status == DNS_NXDOMAIN)
		return DOMAIN_HOST_NXDOMAIN;
	return DOMAIN_HOST_NOADDR;
}

static void
resolve_hosts(struct domain_mail *dm, struct dns *dns, size_t max_hosts)
{
	const char **names;
	uint16_t *types;
	struct dns_result **res;
	size_t i, n = 0, *slot;

	dm->nmx = dm->mx->nrr;
	dm->hosts = xcalloc(dm->nmx, sizeof(*dm->hosts));
	for (i = 0; i < dm->nmx; i++) {
		dm->hosts[i].name = xstrdup(dm->mx->rr[i].u.mx.host);
		dm->hosts[i].pref = dm->mx->rr[i].u.mx.pref;
	}
	qsort(dm->hosts, dm->nmx, sizeof(*dm->hosts), cmp_host);
	dm->nhosts = dm->nmx < max_hosts ? dm->nmx : max_hosts;
	for (i = dm->nhosts; i < dm->nmx; i++)
		free(dm->hosts[i].name);

	names = xcalloc(2 * dm->nhosts + 1, sizeof(*names));
	types = xcalloc(2 * dm->nhosts + 1, sizeof(*types));
	res = xcalloc(2 * dm->nhosts + 1, sizeof(*res));
	slot = xcalloc(dm->nhosts + 1, sizeof(*slot));
	for (i = 0; i < dm->nhosts; i++) {
		if (is_ip_literal(dm->hosts[i].name)) {
			dm->hosts[i].state = DOMAIN_HOST_IP_LITERAL;
			continue;
		}
		slot[i] = n;
		names[n] = dm->hosts[i].name;
		types[n++] = DNS_T_A;
		names[n] = dm->hosts[i].name;
		types[n++] = DNS_T_AAAA;
	}
	/* every host's A and AAAA at once: one round trip for all of them */
	dns_lookup_many(dns, names, types, n, res);
	for (i = 0; i < dm->nhosts; i++) {
		struct domain_mx_host *h = &dm->hosts[i];

		if (h->state == DOMAIN_HOST_IP_LITERAL)
			continue;
		h->a = res[slot[i]];
		h->aaaa = res[slot[i] + 1];
		h->state = host_state(h->a, h->aaaa);
		if (h->state == DOMAIN_HOST_OK || h->state == DOMAIN_HOST_CNAME)
			dm->nresolved++;
		else if (h->state == DOMAIN_HOST_ERROR)
			dm->nfailed++;
	}
	free(slot);
	free(res);
	free(types);
	free(names);
}

void
domain_mail_wait(struct domain_mail *dm, struct dns *dns, size_t max_hosts)
{
	struct dns_result **r[3] = { &dm->mx, &dm->a, &dm->aaaa };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		*r[i] = dns_query_wait(dns, dm->q[i]);
		dns_query_free(dm->q[i]);
		dm->q[i] = NULL;
	}
	switch (dm->mx->status) {
	case DNS_ANSWER:
		for (i = 0; i < dm->mx->nrr; i++) {
			/* RFC 7505 3: the root as the exchange is the null MX */
			if (dm->mx->rr[i].u.mx.host[0] == '\0') {
				dm->kind = DOMAIN_MAIL_NULL_MX;
				dm->nmx = dm->mx->nrr;
				return;
			}
		}
		dm->kind = DOMAIN_MAIL_MX;
		resolve_hosts(dm, dns, max_hosts);
		return;
	case DNS_NXDOMAIN:
		dm->kind = DOMAIN_MAIL_NXDOMAIN;
		return;
	case DNS_NODATA:
		/* RFC 5321 5.1: no MX, so the domain itself is the implicit MX */
		if (has_addresses(dm->a) || has_addresses(dm->aaaa))
			dm->kind = DOMAIN_MAIL_IMPLICIT;
		else if (dns_status_is_failure(dm->a->status) ||
		    dns_status_is_failure(dm->aaaa->status))
			dm->kind = DOMAIN_MAIL_UNKNOWN;
		else
			dm->kind = DOMAIN_MAIL_NONE;
		return;
	default:
		dm->kind = DOMAIN_MAIL_UNKNOWN;
		return;
	}
}

void
domain_mail_release(struct domain_mail *dm)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dm->q); i++)
		dns_query_free(dm->q[i]);
	dns_result_free(dm->mx);
	dns_result_free(dm->a);
	dns_result_free(dm->aaaa);
	for (i = 0; i < dm->nhosts; i++) {
		free(dm->hosts[i].name);
		dns_result_free(dm->hosts[i].a);
		dns_result_free(dm->hosts[i].aaaa);
	}
	free(dm->hosts);
	free(dm->domain);
	memset(dm, 0, sizeof(*dm));
}

static void
append_addresses(json_t *arr, const struct dns_result *res)
{
	size_t i;

	if (res == NULL || res->status != DNS_ANSWER)
		return;
	for (i = 0; i < res->nrr; i++)
		json_array_append_new(arr, json_str(res->rr[i].text));
}

static json_t *
cname_chain(const struct dns_result *res)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; res != NULL && i < res->ncname; i++)
		json_array_append_new(arr, json_str(res->cname[i]));
	return arr;
}

static json_t *
host_json(const struct domain_mx_host *h)
{
	json_t *addrs = json_array();

	append_addresses(addrs, h->a);
	append_addresses(addrs, h->aaaa);
	return json_pack("{s:o,s:i,s:s,s:o,s:o}", "host", json_str(h->name),
	    "preference", (int)h->pref, "status", domain_host_state_name(h->state),
	    "addresses", addrs,
	    "cname", cname_chain(has_addresses(h->a) ? h->a : h->aaaa));
}

static json_t *
exists_json(const struct domain_mail *dm)
{
	switch (dm->kind) {
	case DOMAIN_MAIL_NXDOMAIN:
		return json_false();
	case DOMAIN_MAIL_UNKNOWN:
		return json_null();
	default:
		return json_true();
	}
}

json_t *
domain_mail_json(const struct domain_mail *dm)
{
	json_t *mx = json_array(), *addrs = json_array();
	size_t i;

	for (i = 0; i < dm->nhosts; i++)
		json_array_append_new(mx, host_json(&dm->hosts[i]));
	append_addresses(addrs, dm->a);
	append_addresses(addrs, dm->aaaa);
	return json_pack("{s:o,s:o,s:s,s:o,s:o}", "domain", json_str(dm->domain),
	    "exists", exists_json(dm), "mail", domain_mail_kind_name(dm->kind),
	    "mx", mx, "addresses", addrs);
}

/* The failed lookups of the domain itself, for an error finding. */
static void
report_lookup_failed(const struct domain_mail *dm, struct report *rep, const char *role)
{
	const struct dns_result *r[3] = { dm->mx, dm->a, dm->aaaa };
	const struct dns_result *first = NULL;
	json_t *lookups = json_array();
	bool deadline = false;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		if (!dns_status_is_failure(r[i]->status))
			continue;
		if (first == NULL)
			first = r[i];
		deadline = deadline || r[i]->deadline;
		json_array_append_new(lookups, json_pack("{s:s,s:s}", "type", qtype_names[i],
		    "status", dns_status_name(r[i]->status)));
	}
	report_add(rep, "domain_lookup_failed", SEV_ERROR,
	    json_pack("{s:o,s:o,s:b}", "domain", json_str(dm->domain), "lookups", lookups,
	    "deadline", deadline),
	    "dns: %s lookup for '%s' failed (%s), so whether the %s can receive mail is unknown",
	    first == dm->mx ? "MX" : first == dm->a ? "A" : "AAAA", dm->domain,
	    dns_status_name(first->status), role);
}

static void
report_hosts(const struct domain_mail *dm, struct report *rep, const char *role)
{
	json_t *names = json_array(), *failed = json_array();
	const char *firstfail = NULL;
	bool deadline = false;
	size_t i;

	for (i = 0; i < dm->nhosts; i++) {
		const struct domain_mx_host *h = &dm->hosts[i];

		json_array_append_new(names, json_str(h->name));
		switch (h->state) {
		case DOMAIN_HOST_OK:
			break;
		case DOMAIN_HOST_CNAME:
			report_add(rep, "mx_target_cname", SEV_WARN,
			    json_pack("{s:o,s:o,s:o}", "domain", json_str(dm->domain),
			    "host", json_str(h->name),
			    "cname", cname_chain(has_addresses(h->a) ? h->a : h->aaaa)),
			    "the MX host '%s' of the %s '%s' is an alias (CNAME), which "
			    "RFC 2181 10.3 forbids; some servers will not deliver to it",
			    h->name, role, dm->domain);
			break;
		case DOMAIN_HOST_IP_LITERAL:
			report_add(rep, "mx_target_ip_literal", SEV_WARN,
			    json_pack("{s:o,s:o}", "domain", json_str(dm->domain),
			    "host", json_str(h->name)),
			    "the MX record of the %s '%s' names the IP address '%s' where a "
			    "host name belongs (RFC 5321 5.1): it does not resolve",
			    role, dm->domain, h->name);
			break;
		case DOMAIN_HOST_NXDOMAIN:
		case DOMAIN_HOST_NOADDR:
			report_add(rep, "mx_target_unresolvable", SEV_WARN,
			    json_pack("{s:o,s:o,s:s}", "domain", json_str(dm->domain),
			    "host", json_str(h->name), "status",
			    domain_host_state_name(h->state)),
			    "the MX host '%s' of the %s '%s' %s", h->name, role, dm->domain,
			    h->state == DOMAIN_HOST_NXDOMAIN ? "does not exist" :
			    "has no A or AAAA record");
			break;
		case DOMAIN_HOST_ERROR:
			if (firstfail == NULL)
				firstfail = h->name;
			deadline = deadline || h->a->deadline || h->aaaa->deadline;
			json_array_append_new(failed, json_pack("{s:o,s:s,s:s}",
			    "host", json_str(h->name),
			    "a", dns_status_name(h->a->status),
			    "aaaa", dns_status_name(h->aaaa->status)));
			break;
		}
	}
	if (firstfail != NULL)
		report_add(rep, "mx_host_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:O,s:b}", "domain", json_str(dm->domain),
		    "hosts", failed, "deadline", deadline),
		    "dns: the address lookup of the MX host '%s' of '%s' failed, so "
		    "whether it resolves is unknown", firstfail, dm->domain);
	if (dm->nresolved == 0 && firstfail == NULL)
		report_add(rep, "mx_none_resolve", SEV_FAIL,
		    json_pack("{s:o,s:O}", "domain", json_str(dm->domain), "hosts", names),
		    "none of the MX hosts of the %s '%s' resolves to an address, so it "
		    "cannot receive mail", role, dm->domain);
	else if (dm->nresolved > 0)
		report_add(rep, "mx_found", SEV_INFO,
		    json_pack("{s:o,s:O}", "domain", json_str(dm->domain), "hosts", names),
		    "the %s '%s' receives mail through %zu MX host%s", role, dm->domain,
		    dm->nmx, dm->nmx == 1 ? "" : "s");
	json_decref(failed);
	json_decref(names);
}

void
domain_mail_report(const struct domain_mail *dm, struct report *rep, const char *role)
{
	switch (dm->kind) {
	case DOMAIN_MAIL_UNKNOWN:
		report_lookup_failed(dm, rep, role);
		break;
	case DOMAIN_MAIL_NXDOMAIN:
		report_add(rep, "domain_nxdomain", SEV_FAIL,
		    json_pack("{s:o}", "domain", json_str(dm->domain)),
		    "the %s '%s' does not exist (NXDOMAIN)", role, dm->domain);
		break;
	case DOMAIN_MAIL_NONE:
		report_add(rep, "domain_no_mail", SEV_FAIL,
		    json_pack("{s:o}", "domain", json_str(dm->domain)),
		    "the %s '%s' has no MX and no A or AAAA record, so it cannot receive mail",
		    role, dm->domain);
		break;
	case DOMAIN_MAIL_NULL_MX:
		report_add(rep, "null_mx", SEV_FAIL,
		    json_pack("{s:o,s:b}", "domain", json_str(dm->domain),
		    "only", dm->nmx == 1),
		    "the %s '%s' publishes a null MX (RFC 7505): it declares that it "
		    "accepts no mail", role, dm->domain);
		break;
	case DOMAIN_MAIL_IMPLICIT: {
		json_t *addrs = json_array();

		append_addresses(addrs, dm->a);
		append_addresses(addrs, dm->aaaa);
		report_add(rep, "implicit_mx", SEV_INFO,
		    json_pack("{s:o,s:o}", "domain", json_str(dm->domain), "addresses", addrs),
		    "the %s '%s' has no MX record: mail goes to its own address "
		    "(implicit MX, RFC 5321 5.1)", role, dm->domain);
		break;
	}
	case DOMAIN_MAIL_MX:
		report_hosts(dm, rep, role);
		break;
	}
}
