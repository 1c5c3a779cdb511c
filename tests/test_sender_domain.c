/*
 * Tests of checks/domain/sender_domain.c against the fixture zones: what
 * the check adds to the shared mail routing of checks/domain/mx.c (tested
 * in test_domain_mx.c): NS and SOA, the parent domain, IDN, configuration.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "support.h"
#include "checks/check.h"
#include "core/conf.h"
#include "core/target.h"

extern const struct check_ops check_sender_domain;

/* Runs the check for --from FROM through server; conf_text (NULL: none) is its checks.d. */
static struct report *
run_from(const char *server, const char *from, const char *conf_text)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	struct target t;
	struct dns_engine *eng;
	struct dns *dns;
	struct report *rep;
	void *ctx = NULL;

	if (conf_text != NULL)
		cr_assert_eq(conf_load_file(conf, "test.conf", conf_text, &err), 0, "%s", err.msg);
	cr_assert_eq(check_sender_domain.configure(&ctx, conf, &err), 0, "%s", err.msg);
	target_init(&t);
	cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), 0, "%s", err.msg);
	eng = test_engine(server, 300, 2);
	dns = dns_new(eng, now_ms() + 5000);
	rep = report_new(&check_sender_domain);
	check_sender_domain.run(ctx, &t, dns, rep);
	dns_free(dns);
	dns_engine_free(eng);
	check_sender_domain.free(ctx);
	target_release(&t);
	conf_free(conf);
	return rep;
}

static enum finding_severity
severity_of(const struct report *rep, const char *code)
{
	const struct finding *f = report_find(rep, code);

	cr_assert_not_null(f, "no finding '%s'", code);
	return f->severity;
}

Test(sender_domain, delegated_domain_with_mx_passes_with_its_routing_ns_and_soa)
{
	struct report *rep = run_from(test_ns(), "news@dom-mx.test", NULL);
	const struct finding *f;

	cr_expect_eq(report_status(rep), CHECK_PASS);
	f = report_find(rep, "mx_found");
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "sender domain 'dom-mx.test'") != NULL, "%s", f->message);
	cr_expect_str_eq(test_data_str(rep, "mail"), "mx", "the routing is in the check's data");
	cr_expect_eq(json_array_size(json_object_get(report_data_const(rep), "mx")), 2);
	cr_expect_str_eq(test_data_str(rep, "organizational_domain"), "dom-mx.test");
	cr_expect_eq(json_array_size(json_object_get(report_data_const(rep), "ns")), 1);
	cr_expect(json_is_true(json_object_get(report_data_const(rep), "soa")));
	report_free(rep);
}

Test(sender_domain, nxdomain_domain_fails)
{
	struct report *rep = run_from(test_ns(), "news@missing.dom-nx.test", NULL);

	cr_expect_eq(report_status(rep), CHECK_FAIL);
	cr_expect_eq(severity_of(rep, "domain_nxdomain"), SEV_FAIL);
	cr_expect(json_is_false(json_object_get(report_data_const(rep), "exists")));
	cr_expect_null(report_find(rep, "subdomain_lacks_mail"),
	    "the parent dom-nx.test receives no mail either");
	report_free(rep);
}

Test(sender_domain, mx_lookup_timeout_is_an_error_and_does_not_point_at_the_parent)
{
	/* the fault server never answers names whose first label is "timeout" */
	struct report *rep = run_from(test_fault(), "news@timeout.dom-mx.test", NULL);
	const struct finding *f = report_find(rep, "domain_lookup_failed");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_ERROR);
	cr_expect_eq(report_status(rep), CHECK_ERROR);
	cr_expect(json_is_null(json_object_get(report_data_const(rep), "exists")));
	cr_expect_str_eq(test_data_str(rep, "mail"), "unknown");
	cr_expect_null(report_find(rep, "subdomain_lacks_mail"),
	    "the parent receives mail, but whether the subdomain does is unknown");
	test_expect_no_negative(rep);
	report_free(rep);
}

Test(sender_domain, host_name_as_sender_domain_points_at_the_parent)
{
	struct report *rep = run_from(test_ns(), "news@host.dom-mx.test", NULL);
	const struct finding *f = report_find(rep, "subdomain_lacks_mail");

	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_WARN);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "parent")), "dom-mx.test");
	cr_expect_eq(json_array_size(json_object_get(f->data, "parent_mx")), 2);
	cr_expect_str_eq(test_data_str(rep, "organizational_domain"), "dom-mx.test");
	report_free(rep);
}

Test(sender_domain, missing_subdomain_of_a_mail_domain_points_at_the_parent)
{
	struct report *rep = run_from(test_ns(), "news@newz.dom-mx.test", NULL);

	cr_expect_not_null(report_find(rep, "domain_nxdomain"));
	cr_expect_not_null(report_find(rep, "subdomain_lacks_mail"));
	report_free(rep);
}

Test(sender_domain, parent_comparison_can_be_turned_off)
{
	struct report *rep = run_from(test_ns(), "news@host.dom-mx.test",
	    "[sender_domain]\ncheck_parent = no\n");

	cr_expect_null(report_find(rep, "subdomain_lacks_mail"));
	cr_expect_not_null(report_find(rep, "implicit_mx"));
	report_free(rep);
}

Test(sender_domain, zone_without_ns_warns)
{
	struct report *rep = run_from(test_ns(), "news@dom-nons.test", NULL);

	cr_expect_eq(severity_of(rep, "ns_missing"), SEV_WARN);
	cr_expect_null(report_find(rep, "soa_missing"));
	cr_expect_not_null(report_find(rep, "mx_found"));
	report_free(rep);
}

Test(sender_domain, unicode_sender_domain_is_looked_up_as_alabel)
{
	struct report *rep = run_from(test_ns(), "news@B\xc3\xbc" "cher.test", NULL);

	cr_expect_str_eq(test_data_str(rep, "domain"), "xn--bcher-kva.test");
	cr_expect_str_eq(test_data_str(rep, "domain_unicode"), "b\xc3\xbc" "cher.test");
	cr_expect_not_null(report_find(rep, "mx_found"));
	cr_expect_eq(report_status(rep), CHECK_PASS);
	report_free(rep);
}

Test(sender_domain, null_sender_is_skipped)
{
	struct report *rep = run_from(test_ns(), "<>", NULL);

	cr_expect_eq(report_status(rep), CHECK_SKIPPED);
	cr_expect_eq(report_nfindings(rep), 0);
	report_free(rep);
}

Test(sender_domain, bad_configuration_names_file_and_line)
{
	static const char *const bad[] = {
		"[sender_domain]\nmax_mx = 3\n",
		"[sender_domain]\nmax_mx_hosts = 0\n",
		"[sender_domain]\ncheck_parent = maybe\n",
		"[sender_domain \"x\"]\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf *conf = conf_new();
		struct error err = { "" };
		void *ctx = NULL;

		cr_assert_eq(conf_load_file(conf, "sd.conf", bad[i], &err), 0);
		cr_expect_eq(check_sender_domain.configure(&ctx, conf, &err), -1, "case %zu", i);
		cr_expect(strncmp(err.msg, "sd.conf:", 8) == 0, "case %zu: '%s'", i, err.msg);
		conf_free(conf);
	}
}

Test(sender_domain, cli_json_validates_and_reports_null_mx)
{
	const char *args[] = { "--checks", "sender_domain", "--from", "news@dom-nullmx.test",
	    "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *chk;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	chk = test_check(doc, "sender_domain");
	cr_assert_not_null(chk);
	cr_expect_str_eq(json_string_value(json_object_get(chk, "status")), "fail");
	cr_expect(test_has_finding(chk, "null_mx"));
	cr_expect_str_eq(json_string_value(json_object_get(chk, "mail")), "null_mx");
	json_decref(doc);
	test_proc_release(&p);
}
