/* Tests of checks/domain/mx.c (MX, implicit MX, null MX, MX hosts that resolve or not) against the fixture zones, through NSD and the fault server. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "support.h"
#include "checks/domain/mx.h"

/* The report the findings go to belongs to a check of this name. */
static const struct check_ops test_ops = { .name = "domain_mx" };

/* One domain looked up, its findings reported as "test domain", and its JSON. */
struct mail_run {
	struct domain_mail dm;
	struct report *rep;
	json_t *json;
};

static void
look_up(struct mail_run *x, const char *server, const char *domain, size_t max_hosts)
{
	struct dns_engine *eng = test_engine(server, 300, 2);
	struct dns *dns = dns_new(eng, now_ms() + 5000);

	domain_mail_init(&x->dm, dns, domain);
	domain_mail_wait(&x->dm, dns, max_hosts);
	dns_free(dns);
	dns_engine_free(eng);
	x->rep = report_new(&test_ops);
	domain_mail_report(&x->dm, x->rep, "test domain");
	x->json = domain_mail_json(&x->dm);
}

static void
release(struct mail_run *x)
{
	json_decref(x->json);
	report_free(x->rep);
	domain_mail_release(&x->dm);
}

/* The finding with code, which must be there with severity sev. */
static const struct finding *
expect_finding(const struct mail_run *x, const char *code, enum finding_severity sev)
{
	const struct finding *f = report_find(x->rep, code);

	cr_assert_not_null(f, "%s: no finding '%s'", x->dm.domain, code);
	cr_expect_eq(f->severity, sev, "%s: severity of '%s'", x->dm.domain, code);
	return f;
}

static size_t
count(const struct mail_run *x, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < report_nfindings(x->rep); i++)
		if (strcmp(report_finding(x->rep, i)->code, code) == 0)
			n++;
	return n;
}

/* A string field of the i-th host in the JSON "mx" array. */
static const char *
host_str(const struct mail_run *x, size_t i, const char *key)
{
	const json_t *h = json_array_get(json_object_get(x->json, "mx"), i);

	cr_assert_not_null(h, "%s: no MX host %zu", x->dm.domain, i);
	return json_string_value(json_object_get(h, key));
}

static const char *
json_str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* How a fixture domain receives mail, and the finding that says so. */
struct routing_case {
	const char *name;
	bool fault;			/* through the fault server, else NSD */
	const char *domain;
	enum domain_mail_kind kind;
	const char *mail;		/* JSON "mail" */
	int exists;			/* JSON "exists": 1 true, 0 false, -1 null */
	const char *code;		/* a finding it must have */
	enum finding_severity sev;
};

static const struct routing_case routing_cases[] = {
	{ "mx", false, "dom-mx.test", DOMAIN_MAIL_MX, "mx", 1, "mx_found", SEV_INFO },
	{ "nxdomain", false, "missing.dom-nx.test", DOMAIN_MAIL_NXDOMAIN, "nxdomain", 0,
	    "domain_nxdomain", SEV_FAIL },
	{ "no_mail", false, "dom-nx.test", DOMAIN_MAIL_NONE, "no_mail", 1, "domain_no_mail",
	    SEV_FAIL },
	{ "implicit_mx", false, "dom-aonly.test", DOMAIN_MAIL_IMPLICIT, "implicit_mx", 1,
	    "implicit_mx", SEV_INFO },
	{ "null_mx", false, "dom-nullmx.test", DOMAIN_MAIL_NULL_MX, "null_mx", 1, "null_mx",
	    SEV_FAIL },
	{ "mx_cname", false, "dom-mxcname.test", DOMAIN_MAIL_MX, "mx", 1, "mx_target_cname",
	    SEV_WARN },
	{ "mx_dead", false, "dom-mxnoaddr.test", DOMAIN_MAIL_MX, "mx", 1, "mx_none_resolve",
	    SEV_FAIL },
	{ "mx_partly_dead", false, "partial.dom-mx.test", DOMAIN_MAIL_MX, "mx", 1,
	    "mx_target_unresolvable", SEV_WARN },
	{ "mx_ip_literal", false, "dom-mxip.test", DOMAIN_MAIL_MX, "mx", 1,
	    "mx_target_ip_literal", SEV_WARN },
	{ "mx_timeout", true, "timeout.dom-mx.test", DOMAIN_MAIL_UNKNOWN, "unknown", -1,
	    "domain_lookup_failed", SEV_ERROR },
};

Test(domain_mx, each_kind_of_routing_gets_its_finding_naming_the_domain_and_role)
{
	size_t i, j;

	for (i = 0; i < sizeof(routing_cases) / sizeof(routing_cases[0]); i++) {
		const struct routing_case *c = &routing_cases[i];
		const json_t *exists;
		struct mail_run x;

		look_up(&x, c->fault ? test_fault() : test_ns(), c->domain, 10);
		cr_expect_eq(x.dm.kind, c->kind, "case %s: kind", c->name);
		cr_expect_str_eq(json_str_of(x.json, "mail"), c->mail, "case %s: mail", c->name);
		exists = json_object_get(x.json, "exists");
		cr_expect(c->exists < 0 ? json_is_null(exists) : c->exists ? json_is_true(exists) :
		    json_is_false(exists), "case %s: exists", c->name);
		cr_expect_not_null(report_find(x.rep, c->code), "case %s: no %s", c->name, c->code);
		if (report_find(x.rep, c->code) != NULL)
			cr_expect_eq(report_find(x.rep, c->code)->severity, c->sev,
			    "case %s: severity", c->name);
		for (j = 0; j < report_nfindings(x.rep); j++) {
			const struct finding *f = report_finding(x.rep, j);

			cr_expect_str_eq(json_str_of(f->data, "domain"), c->domain, "case %s: %s",
			    c->name, f->code);
			cr_expect(strstr(f->message, "test domain") != NULL, "case %s: %s: '%s'",
			    c->name, f->code, f->message);
		}
		release(&x);
	}
}

Test(domain_mx, mx_hosts_are_sorted_by_preference_then_name_and_all_resolved)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "dom-mxmany.test", 10);
	cr_expect_eq(x.dm.kind, DOMAIN_MAIL_MX);
	cr_assert_eq(x.dm.nhosts, 3);
	cr_expect_eq(x.dm.nmx, 3);
	cr_expect_eq(x.dm.nresolved, 3);
	cr_expect_str_eq(x.dm.hosts[0].name, "a.dom-mxmany.test");
	cr_expect_str_eq(x.dm.hosts[1].name, "b.dom-mxmany.test");
	cr_expect_str_eq(x.dm.hosts[2].name, "c.dom-mxmany.test");
	cr_expect_eq(x.dm.hosts[2].pref, 30);
	cr_expect_str_eq(host_str(&x, 0, "status"), "ok");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(
	    json_array_get(json_object_get(x.json, "mx"), 2), "addresses"), 0)), "192.0.2.43");
	cr_expect_str_eq(json_str_of(x.json, "mail"), "mx");
	cr_expect(json_is_true(json_object_get(x.json, "exists")));
	f = expect_finding(&x, "mx_found", SEV_INFO);
	cr_expect_eq(json_array_size(json_object_get(f->data, "hosts")), 3);
	cr_expect_eq(report_nfindings(x.rep), 1, "nothing else to say");
	release(&x);
}

Test(domain_mx, host_with_only_an_aaaa_record_resolves)
{
	struct mail_run x;

	look_up(&x, test_ns(), "dom-mx.test", 10);
	cr_assert_eq(x.dm.nhosts, 2);
	cr_expect_str_eq(x.dm.hosts[1].name, "mx2.dom-mx.test");
	cr_expect_eq(x.dm.hosts[1].state, DOMAIN_HOST_OK);
	cr_expect_str_eq(host_str(&x, 1, "status"), "ok");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(
	    json_array_get(json_object_get(x.json, "mx"), 1), "addresses"), 0)), "2001:db8::25");
	cr_expect_eq(x.dm.nresolved, 2);
	release(&x);
}

Test(domain_mx, max_hosts_bounds_the_hosts_resolved_not_the_mx_count)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "dom-mxmany.test", 2);
	cr_expect_eq(x.dm.nhosts, 2);
	cr_expect_eq(x.dm.nmx, 3);
	cr_expect_eq(json_array_size(json_object_get(x.json, "mx")), 2);
	cr_expect_str_eq(host_str(&x, 1, "host"), "b.dom-mxmany.test", "the lowest preferences");
	f = expect_finding(&x, "mx_found", SEV_INFO);
	cr_expect(strstr(f->message, "3 MX hosts") != NULL, "%s", f->message);
	release(&x);
}

Test(domain_mx, address_without_mx_is_the_implicit_mx)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "dom-aonly.test", 10);
	cr_expect_eq(x.dm.nhosts, 0);
	cr_expect_eq(json_array_size(json_object_get(x.json, "addresses")), 2);
	f = expect_finding(&x, "implicit_mx", SEV_INFO);
	cr_expect_eq(json_array_size(json_object_get(f->data, "addresses")), 2, "A and AAAA");
	release(&x);
}

Test(domain_mx, null_mx_accepts_no_mail_despite_an_address)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "dom-nullmx.test", 10);
	cr_expect_eq(x.dm.nhosts, 0, "the root is not a host to look up");
	f = expect_finding(&x, "null_mx", SEV_FAIL);
	cr_expect(json_is_true(json_object_get(f->data, "only")));
	cr_expect_null(report_find(x.rep, "implicit_mx"), "an A record does not undo a null MX");
	release(&x);
}

Test(domain_mx, null_mx_beside_a_real_mx_still_accepts_no_mail)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "mixed.dom-mxmany.test", 10);
	cr_expect_eq(x.dm.kind, DOMAIN_MAIL_NULL_MX);
	cr_expect_eq(x.dm.nmx, 2);
	f = expect_finding(&x, "null_mx", SEV_FAIL);
	cr_expect(json_is_false(json_object_get(f->data, "only")));
	cr_expect_null(report_find(x.rep, "mx_found"));
	release(&x);
}

Test(domain_mx, mx_host_behind_a_cname_resolves_with_a_warning)
{
	struct mail_run x;
	const struct finding *f;
	const json_t *chain;

	look_up(&x, test_ns(), "dom-mxcname.test", 10);
	cr_assert_eq(x.dm.nhosts, 1);
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_CNAME);
	cr_expect_eq(x.dm.nresolved, 1, "an alias still resolves");
	cr_expect_str_eq(host_str(&x, 0, "status"), "cname");
	chain = json_object_get(json_array_get(json_object_get(x.json, "mx"), 0), "cname");
	cr_expect_eq(json_array_size(chain), 1, "the alias followed");
	f = expect_finding(&x, "mx_target_cname", SEV_WARN);
	cr_expect_str_eq(json_str_of(f->data, "host"), "mail.dom-mxcname.test");
	expect_finding(&x, "mx_found", SEV_INFO);
	cr_expect_null(report_find(x.rep, "mx_none_resolve"));
	release(&x);
}

Test(domain_mx, mx_hosts_that_do_not_resolve_mean_no_mail)
{
	struct mail_run x;

	look_up(&x, test_ns(), "dom-mxnoaddr.test", 10);
	cr_assert_eq(x.dm.nhosts, 2);
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_NXDOMAIN, "nowhere: no such name");
	cr_expect_eq(x.dm.hosts[1].state, DOMAIN_HOST_NOADDR, "noaddr: a name without address");
	cr_expect_str_eq(host_str(&x, 0, "status"), "nxdomain");
	cr_expect_str_eq(host_str(&x, 1, "status"), "no_address");
	cr_expect_eq(x.dm.nresolved, 0);
	cr_expect_eq(count(&x, "mx_target_unresolvable"), 2, "one finding per dead host");
	expect_finding(&x, "mx_none_resolve", SEV_FAIL);
	cr_expect_null(report_find(x.rep, "mx_found"));
	release(&x);
}

Test(domain_mx, one_dead_host_of_two_is_only_a_warning)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "partial.dom-mx.test", 10);
	cr_expect_eq(x.dm.nresolved, 1);
	f = expect_finding(&x, "mx_target_unresolvable", SEV_WARN);
	cr_expect_str_eq(json_str_of(f->data, "host"), "gone.dom-mx.test");
	expect_finding(&x, "mx_found", SEV_INFO);
	cr_expect_null(report_find(x.rep, "mx_none_resolve"));
	release(&x);
}

Test(domain_mx, ip_address_as_mx_host_is_not_looked_up_and_does_not_resolve)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_ns(), "dom-mxip.test", 10);
	cr_assert_eq(x.dm.nhosts, 1);
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_IP_LITERAL);
	cr_expect_null(x.dm.hosts[0].a, "no A lookup for an address");
	cr_expect_str_eq(host_str(&x, 0, "status"), "ip_literal");
	f = expect_finding(&x, "mx_target_ip_literal", SEV_WARN);
	cr_expect_str_eq(json_str_of(f->data, "host"), "192.0.2.30");
	expect_finding(&x, "mx_none_resolve", SEV_FAIL);
	release(&x);
}

Test(domain_mx, only_a_whole_bracketed_address_is_a_literal)
{
	struct mail_run x;

	/* a '[' inside a name does not make an address of it */
	look_up(&x, test_ns(), "brackets.dom-mxip.test", 10);
	cr_assert_eq(x.dm.nhosts, 1);
	cr_expect_str_eq(x.dm.hosts[0].name, "mx[1].dom-mxip.test");
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_OK, "state %s",
	    domain_host_state_name(x.dm.hosts[0].state));
	cr_expect_null(report_find(x.rep, "mx_target_ip_literal"));
	release(&x);
	look_up(&x, test_ns(), "literal.dom-mxip.test", 10);
	cr_assert_eq(x.dm.nhosts, 1);
	cr_expect_str_eq(x.dm.hosts[0].name, "[192.0.2.30]");
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_IP_LITERAL);
	expect_finding(&x, "mx_target_ip_literal", SEV_WARN);
	release(&x);
}

Test(domain_mx, mx_lookup_timeout_is_unknown_never_a_negative_finding)
{
	struct mail_run x;
	const struct finding *f;

	/* the fault server never answers names whose first label is "timeout" */
	look_up(&x, test_fault(), "timeout.dom-mx.test", 10);
	f = expect_finding(&x, "domain_lookup_failed", SEV_ERROR);
	cr_expect_str_eq(json_str_of(json_array_get(json_object_get(f->data, "lookups"), 0),
	    "type"), "MX");
	test_expect_no_negative(x.rep);
	release(&x);
}

Test(domain_mx, mx_host_timeout_is_an_error_not_unresolvable)
{
	struct mail_run x;
	const struct finding *f;

	look_up(&x, test_fault(), "dom-timeout.test", 10);
	cr_expect_eq(x.dm.kind, DOMAIN_MAIL_MX);
	cr_assert_eq(x.dm.nhosts, 1);
	cr_expect_eq(x.dm.hosts[0].state, DOMAIN_HOST_ERROR);
	cr_expect_eq(x.dm.nfailed, 1);
	cr_expect_str_eq(host_str(&x, 0, "status"), "error");
	f = expect_finding(&x, "mx_host_lookup_failed", SEV_ERROR);
	cr_expect_str_eq(json_str_of(json_array_get(json_object_get(f->data, "hosts"), 0), "host"),
	    "timeout.dom-timeout.test");
	cr_expect_null(report_find(x.rep, "mx_none_resolve"));
	cr_expect_null(report_find(x.rep, "mx_target_unresolvable"));
	test_expect_no_negative(x.rep);
	release(&x);
}

Test(domain_mx, every_kind_and_host_state_has_its_own_name)
{
	static const enum domain_mail_kind kinds[] = {
		DOMAIN_MAIL_UNKNOWN, DOMAIN_MAIL_NXDOMAIN, DOMAIN_MAIL_NONE,
		DOMAIN_MAIL_NULL_MX, DOMAIN_MAIL_IMPLICIT, DOMAIN_MAIL_MX,
	};
	static const enum domain_host_state states[] = {
		DOMAIN_HOST_OK, DOMAIN_HOST_CNAME, DOMAIN_HOST_NXDOMAIN, DOMAIN_HOST_NOADDR,
		DOMAIN_HOST_IP_LITERAL, DOMAIN_HOST_ERROR,
	};
	size_t i, j;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		for (j = 0; j < i; j++)
			cr_expect_str_neq(domain_mail_kind_name(kinds[i]),
			    domain_mail_kind_name(kinds[j]), "kinds %zu and %zu", i, j);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		for (j = 0; j < i; j++)
			cr_expect_str_neq(domain_host_state_name(states[i]),
			    domain_host_state_name(states[j]), "states %zu and %zu", i, j);
}
