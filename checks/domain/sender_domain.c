/* Check sender_domain: the envelope sender's domain exists, is delegated, and can receive mail (bounces, verification). */
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "checks/domain/mx.h"
#include "core/net.h"
#include "core/psl.h"
#include "core/textsafe.h"

struct sender_domain_conf {
	long max_mx_hosts;
	bool check_parent;
	struct psl_service *psl;	/* where the registrable domain ends */
};

static const char *const sender_domain_keys[] = {
	"max_mx_hosts", "check_parent", NULL,
};

static void
sender_domain_free(void *ctx)
{
	struct sender_domain_conf *c = ctx;

	if (c == NULL)
		return;
	psl_service_free(c->psl);
	free(c);
}

static int
sender_domain_configure(void **ctx, const struct conf *conf, struct error *err)
{
	struct sender_domain_conf *c = xcalloc(1, sizeof(*c));
	const struct conf_section *sec = NULL;

	c->max_mx_hosts = 10;
	c->check_parent = true;
	while ((sec = conf_next(conf, sec, "sender_domain")) != NULL) {
		if (sec->label != NULL) {
			conf_error(sec, NULL, err, "[sender_domain] takes no label");
			goto fail;
		}
		if (conf_section_check_keys(sec, sender_domain_keys, err) < 0 ||
		    conf_section_get_int(sec, "max_mx_hosts", 1, 100, &c->max_mx_hosts, err) < 0 ||
		    conf_section_get_bool(sec, "check_parent", &c->check_parent, err) < 0)
			goto fail;
	}
	if ((c->psl = psl_service_new(conf, err)) == NULL)
		goto fail;
	*ctx = c;
	return 0;
fail:
	sender_domain_free(c);
	return -1;
}

static json_t *
names_of(const struct dns_result *res)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; res->status == DNS_ANSWER && i < res->nrr; i++)
		json_array_append_new(arr, json_str(res->rr[i].text));
	return arr;
}

/* NS and SOA of the registrable domain: is it a delegated zone? */
static void
report_zone(struct report *rep, const char *org, const struct dns_result *res,
    const char *type)
{
	if (res->status == DNS_ANSWER || res->status == DNS_NXDOMAIN)
		return;
	if (dns_status_is_failure(res->status)) {
		report_add(rep, "zone_lookup_failed", SEV_ERROR,
		    json_pack("{s:o,s:s,s:s,s:b}", "domain", json_str(org), "type", type,
		    "status", dns_status_name(res->status), "deadline", res->deadline),
		    "dns: %s lookup for '%s' failed (%s)", type, org,
		    dns_status_name(res->status));
		return;
	}
	if (strcmp(type, "NS") == 0)
		report_add(rep, "ns_missing", SEV_WARN,
		    json_pack("{s:o}", "domain", json_str(org)),
		    "the sender's domain '%s' has no NS records: it is not properly delegated",
		    org);
	else
		report_add(rep, "soa_missing", SEV_WARN,
		    json_pack("{s:o}", "domain", json_str(org)),
		    "the sender's domain '%s' has no SOA record: it is not the apex of a zone",
		    org);
}

/* A subdomain without mail routing whose parent has MX: a host name used as the mail domain? */
static void
report_parent(struct report *rep, const struct domain_mail *dm, const char *org,
    const struct dns_result *pmx)
{
	json_t *hosts;
	size_t i;

	if (dm->kind != DOMAIN_MAIL_NXDOMAIN && dm->kind != DOMAIN_MAIL_NONE &&
	    dm->kind != DOMAIN_MAIL_IMPLICIT)
		return;
	if (pmx->status != DNS_ANSWER || pmx->nrr == 0)
		return;
	hosts = json_array();
	for (i = 0; i < pmx->nrr; i++) {
		if (pmx->rr[i].u.mx.host[0] == '\0') {
			json_decref(hosts);
			return;
		}
		json_array_append_new(hosts, json_str(pmx->rr[i].u.mx.host));
	}
	report_add(rep, "subdomain_lacks_mail", SEV_WARN,
	    json_pack("{s:o,s:o,s:o}", "domain", json_str(dm->domain), "parent", json_str(org),
	    "parent_mx", hosts),
	    "the sender domain '%s' %s, while its parent '%s' receives mail: the "
	    "envelope sender may use a host name or a mistyped subdomain",
	    dm->domain, dm->kind == DOMAIN_MAIL_NXDOMAIN ? "does not exist" : "has no MX",
	    org);
}

/* The Unicode form of an A-label domain for display, or NULL if it has none. */
static json_t *
unicode_of(const char *domain)
{
	char *u = NULL;
	json_t *j;

	if (idn2_to_unicode_8z8z(domain, &u, 0) != IDN2_OK || strcmp(u, domain) == 0) {
		idn2_free(u);
		return json_null();
	}
	j = json_str(u);
	idn2_free(u);
	return j;
}

static void
sender_domain_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	const struct sender_domain_conf *c = ctx;
	struct domain_mail dm;
	struct dns_query *qns, *qsoa, *qpmx = NULL;
	struct dns_result *ns, *soa, *pmx = NULL;
	const char *d = t->mail_domain, *org;
	json_t *data, *dj;

	char why[256];

	if (t->null_sender || d == NULL) {
		report_skip(rep, "the null sender has no domain");
		return;
	}
	/* a receiver sees such a sender too; DNS cannot be asked about it */
	if (net_name_check(d, true, why, sizeof(why)) < 0) {
		report_add(rep, "domain_malformed", SEV_FAIL,
		    json_pack("{s:o,s:s}", "domain", json_str(d), "reason", why),
		    "the sender domain '%s' is not a domain name: %s", d, why);
		return;
	}
	/* a public suffix has no registrable part: ask about the name itself */
	if ((org = psl_service_registrable(c->psl, d)) == NULL)
		org = d;
	/* everything that does not depend on an answer goes out at once */
	domain_mail_init(&dm, dns, d);
	qns = dns_query_submit(dns, org, DNS_T_NS);
	qsoa = dns_query_submit(dns, org, DNS_T_SOA);
	if (c->check_parent && strcmp(org, d) != 0)
		qpmx = dns_query_submit(dns, org, DNS_T_MX);
	domain_mail_wait(&dm, dns, (size_t)c->max_mx_hosts);
	ns = dns_query_wait(dns, qns);
	soa = dns_query_wait(dns, qsoa);
	if (qpmx != NULL)
		pmx = dns_query_wait(dns, qpmx);

	data = report_data(rep);
	dj = domain_mail_json(&dm);
	json_object_update(data, dj);
	json_decref(dj);
	json_object_set_new(data, "domain_unicode", unicode_of(d));
	json_object_set_new(data, "organizational_domain", json_str(org));
	json_object_set_new(data, "ns", names_of(ns));
	json_object_set_new(data, "soa", soa->status == DNS_ANSWER ? json_true() :
	    dns_status_is_negative(soa->status) ? json_false() : json_null());

	domain_mail_report(&dm, rep, "sender domain");
	report_zone(rep, org, ns, "NS");
	report_zone(rep, org, soa, "SOA");
	if (pmx != NULL)
		report_parent(rep, &dm, org, pmx);

	dns_result_free(pmx);
	dns_result_free(soa);
	dns_result_free(ns);
	dns_query_free(qpmx);
	dns_query_free(qsoa);
	dns_query_free(qns);
	domain_mail_release(&dm);
}

static void
sender_domain_describe(const void *ctx, struct strbuf *out)
{
	const struct sender_domain_conf *c = ctx;

	strbuf_addf(out, "  MX hosts resolved: at most %ld\n  parent domain compared: %s\n",
	    c->max_mx_hosts, c->check_parent ? "yes" : "no");
}

const struct check_ops check_sender_domain = {
	.name = "sender_domain",
	.summary = "the envelope sender's domain: exists, NS/SOA, MX or implicit MX, null MX, MX hosts",
	.needs = NEED_MAIL_FROM,
	.configure = sender_domain_configure,
	.run = sender_domain_run,
	.describe = sender_domain_describe,
	.free = sender_domain_free,
};
