/* Tests of checks/helo.c: the form of the name, its addresses against the fixture, the PTR peer, timeouts. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "support.h"
#include "checks/check.h"
#include "core/target.h"

extern const struct check_ops check_helo;

/* Runs the check for helo and ip (NULL: none) through server. */
static struct report *
run_helo(const char *server, const char *helo, const char *ip)
{
	struct error err = { "" };
	struct target t;
	struct dns_engine *eng;
	struct dns *dns;
	struct report *rep;

	target_init(&t);
	cr_assert_eq(target_set_helo(&t, "--helo", helo, &err), 0, "%s", err.msg);
	if (ip != NULL)
		cr_assert_eq(target_set_ip(&t, "--ip", ip, &err), 0, "%s", err.msg);
	rep = report_new(&check_helo);
	eng = test_engine(server, 300, 2);
	dns = dns_new(eng, now_ms() + 5000);
	check_helo.run(NULL, &t, dns, rep);
	dns_free(dns);
	dns_engine_free(eng);
	target_release(&t);
	return rep;
}

struct helo_case {
	const char *name;
	const char *helo;
	const char *ip;
	const char *code;		/* a finding it must have */
	enum finding_severity sev;
	enum check_status status;
	int matches_ip;			/* 1 true, 0 false, -1 null */
};

static const struct helo_case cases[] = {
	{ "bare_word", "mailserver", "192.0.2.40", "helo_not_fqdn", SEV_FAIL, CHECK_FAIL, -1 },
	{ "bare_word_final_dot", "mailserver.", "192.0.2.40", "helo_not_fqdn", SEV_FAIL,
	    CHECK_FAIL, -1 },
	{ "localhost", "localhost", "192.0.2.40", "helo_localhost", SEV_FAIL, CHECK_FAIL, -1 },
	{ "localhost_localdomain", "localhost.localdomain", NULL, "helo_localhost", SEV_FAIL,
	    CHECK_FAIL, -1 },
	{ "under_localhost", "mx.localhost", NULL, "helo_localhost", SEV_FAIL, CHECK_FAIL, -1 },
	{ "bare_ip", "192.0.2.40", "192.0.2.40", "helo_bare_ip", SEV_FAIL, CHECK_FAIL, -1 },
	{ "literal_match", "[192.0.2.40]", "192.0.2.40", "helo_literal", SEV_INFO, CHECK_PASS, 1 },
	{ "literal_v6_match", "[IPv6:2001:db8::40]", "2001:db8::40", "helo_literal", SEV_INFO,
	    CHECK_PASS, 1 },
	{ "literal_mismatch", "[192.0.2.41]", "192.0.2.40", "helo_literal_mismatch", SEV_WARN,
	    CHECK_WARN, 0 },
	{ "literal_no_ip", "[192.0.2.41]", NULL, "helo_literal", SEV_INFO, CHECK_PASS, -1 },
	{ "resolves_to_ip", "mail.dom-helo.test", "192.0.2.40", "helo_matches_ip", SEV_INFO,
	    CHECK_PASS, 1 },
	{ "resolves_to_ip6", "mail.dom-helo.test", "2001:db8::40", "helo_matches_ip", SEV_INFO,
	    CHECK_PASS, 1 },
	{ "resolves_to_mapped_ip", "mail.dom-helo.test", "::ffff:192.0.2.40", "helo_matches_ip",
	    SEV_INFO, CHECK_PASS, 1 },
	{ "resolves_elsewhere", "other.dom-helo.test", "192.0.2.40", "helo_ip_mismatch",
	    SEV_WARN, CHECK_WARN, 0 },
	{ "resolves_without_ip", "mail.dom-helo.test", NULL, "helo_resolves", SEV_INFO,
	    CHECK_PASS, -1 },
	{ "nxdomain", "nosuch.dom-helo.test", "192.0.2.40", "helo_nxdomain", SEV_FAIL,
	    CHECK_FAIL, -1 },
	{ "no_address", "noaddr.dom-helo.test", "192.0.2.40", "helo_no_address", SEV_WARN,
	    CHECK_WARN, -1 },
};

Test(helo, cases_against_the_fixture)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct helo_case *c = &cases[i];
		struct report *rep = run_helo(test_ns(), c->helo, c->ip);
		const struct finding *f = report_find(rep, c->code);
		const json_t *m = json_object_get(report_data_const(rep), "matches_ip");

		cr_expect_not_null(f, "case %s: no finding %s", c->name, c->code);
		if (f != NULL)
			cr_expect_eq(f->severity, c->sev, "case %s: severity", c->name);
		cr_expect_eq(report_status(rep), c->status, "case %s: status %s", c->name,
		    check_status_name(report_status(rep)));
		if (c->matches_ip == 1)
			cr_expect(json_is_true(m), "case %s: matches_ip", c->name);
		else if (c->matches_ip == 0)
			cr_expect(json_is_false(m), "case %s: matches_ip", c->name);
		else
			cr_expect(m == NULL || json_is_null(m), "case %s: matches_ip", c->name);
		report_free(rep);
	}
}

Test(helo, addresses_are_reported)
{
	struct report *rep = run_helo(test_ns(), "mail.dom-helo.test", "192.0.2.40");
	const json_t *a = json_object_get(report_data_const(rep), "addresses");

	cr_assert_eq(json_array_size(a), 2);
	cr_expect_str_eq(json_string_value(json_array_get(a, 0)), "192.0.2.40");
	cr_expect_str_eq(json_string_value(json_array_get(a, 1)), "2001:db8::40");
	cr_expect(json_is_true(json_object_get(report_data_const(rep), "resolves")));
	report_free(rep);
}

Test(helo, ptr_match_is_informational)
{
	/* 192.0.2.1 has PTR mail.example.test; the HELO is the same name in other case */
	struct report *rep = run_helo(test_ns(), "Mail.Example.Test.", "192.0.2.1");
	const struct finding *f = report_find(rep, "helo_matches_ptr");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_INFO);
	cr_expect(json_is_true(json_object_get(report_data_const(rep), "matches_ptr")));
	report_free(rep);
}

Test(helo, ptr_mismatch_is_informational_only)
{
	/* 192.0.2.40 has PTR dsl-192-0-2-40.pool.isp.test; the HELO resolves to it */
	struct report *rep = run_helo(test_ns(), "mail.dom-helo.test", "192.0.2.40");
	const struct finding *f = report_find(rep, "helo_ptr_mismatch");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_INFO);
	cr_expect_eq(report_status(rep), CHECK_PASS);
	cr_expect(json_is_false(json_object_get(report_data_const(rep), "matches_ptr")));
	report_free(rep);
}

Test(helo, no_ptr_leaves_ptr_match_unknown)
{
	/* 192.0.2.2 has no PTR: that is rdns's finding, not helo's */
	struct report *rep = run_helo(test_ns(), "mail.dom-helo.test", "192.0.2.2");

	cr_expect_null(report_find(rep, "helo_matches_ptr"));
	cr_expect_null(report_find(rep, "helo_ptr_mismatch"));
	cr_expect(json_is_null(json_object_get(report_data_const(rep), "matches_ptr")));
	report_free(rep);
}

Test(helo, lookup_timeout_is_an_error_not_a_missing_name)
{
	struct report *rep = run_helo(test_fault(), "timeout.dom-helo.test", "192.0.2.40");
	const struct finding *f = report_find(rep, "helo_lookup_failed");
	size_t i;

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_ERROR);
	cr_expect_eq(report_status(rep), CHECK_ERROR);
	cr_expect(json_is_null(json_object_get(report_data_const(rep), "resolves")));
	for (i = 0; i < report_nfindings(rep); i++)
		cr_expect(report_finding(rep, i)->severity == SEV_ERROR ||
		    report_finding(rep, i)->severity == SEV_INFO,
		    "negative finding '%s'", report_finding(rep, i)->code);
	report_free(rep);
}

Test(helo, cli_json_validates_and_matches_ptr_of_real_rdns)
{
	const char *args[] = { "--checks", "rdns,helo", "--ip", "192.0.2.1", "--helo",
	    "mail.example.test", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *chk;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	chk = test_check(doc, "helo");
	cr_assert_not_null(chk);
	cr_expect_str_eq(json_string_value(json_object_get(chk, "status")), "pass");
	cr_expect(test_has_finding(chk, "helo_matches_ip"));
	cr_expect(test_has_finding(chk, "helo_matches_ptr"));
	cr_expect(json_is_true(json_object_get(chk, "matches_ptr")));
	json_decref(doc);
	test_proc_release(&p);
}

Test(helo, cli_bare_word_fails)
{
	const char *args[] = { "--checks", "helo", "--ip", "192.0.2.1", "--helo", "mailserver",
	    "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *chk;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	chk = test_check(doc, "helo");
	cr_assert_not_null(chk);
	cr_expect_str_eq(json_string_value(json_object_get(chk, "status")), "fail");
	cr_expect(test_has_finding(chk, "helo_not_fqdn"));
	json_decref(doc);
	test_proc_release(&p);
}
