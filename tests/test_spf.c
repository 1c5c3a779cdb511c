/* Tests of the spf check through the binary against the fixture: both views in JSON and text, the analysis, lint, identities. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"
#include "checks/check.h"
#include "dns/dns.h"
#include "dns/spf_adapter.h"
#include "core/util.h"

/* Runs why550 --checks spf with args; returns the spf check object (doc in *docp). */
static json_t *
run_spf(const char *resolver, const char *const *extra, json_t **docp)
{
	const char *args[24] = { "--checks", "spf", "--format", "json" };
	struct test_proc p;
	size_t n = 4, i;
	json_t *check;

	for (i = 0; extra[i] != NULL; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	test_why550(&p, resolver, args);
	cr_assert(p.status >= 0 && p.status <= 3, "exit %d: %s", p.status, p.err);
	*docp = test_valid_json(&p);
	check = test_check(*docp, "spf");
	cr_assert_not_null(check);
	test_proc_release(&p);
	return check;
}

static const char *
field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "(null)";
}

Test(spf, demo_sender_fails_with_both_views_and_the_nearest_miss)
{
	const char *extra[] = { "--ip", "203.0.113.7", "--helo", "mail.shop.test", "--from",
	    "news@shop.test", NULL };
	json_t *doc, *c, *cause;

	c = run_spf(test_ns(), extra, &doc);
	cr_expect_str_eq(field(c, "status"), "fail");
	cr_expect_str_eq(field(c, "result"), "fail");
	cr_expect_str_eq(field(c, "receiver_result"), "fail");
	cr_expect_str_eq(field(c, "domain"), "shop.test");
	cr_expect_str_eq(field(c, "identity"), "mail_from");
	cr_expect_str_eq(field(c, "record"),
	    "v=spf1 ip4:198.51.100.0/24 include:_spf.mailer.test -all");
	cr_expect_str_eq(field(c, "explanation"),
	    "203.0.113.7 is not one of shop.test's designated mail servers.");
	cr_expect_eq(json_integer_value(json_object_get(c, "lookups")), 1);
	cr_expect_eq(json_integer_value(json_object_get(c, "void_lookups")), 0);
	cr_expect_str_eq(field(c, "helo_result"), "fail");
	cr_expect(test_has_finding(c, "spf_fail"));
	cr_expect(test_has_finding(c, "spf_not_authorised"));
	cr_expect(test_has_finding(c, "spf_helo_fail"));
	cr_expect(strstr(field(c, "analysis"), "203.0.113.7 is in none of") != NULL, "%s",
	    field(c, "analysis"));
	cr_expect(strstr(field(c, "analysis"),
	    "include:_spf.mailer.test \u2192 ip4:192.0.2.0/25") != NULL, "%s",
	    field(c, "analysis"));
	cr_expect(strstr(field(c, "analysis"), "nearest: ip4:198.51.100.0/24") != NULL, "%s",
	    field(c, "analysis"));
	cause = json_array_get(json_object_get(json_object_get(doc, "verdict"), "causes"), 0);
	cr_expect_str_eq(field(cause, "code"), "spf_fail");
	cr_expect(strstr(field(cause, "remedy"), "SPF record of shop.test") != NULL, "%s",
	    field(cause, "remedy"));
	json_decref(doc);
}

Test(spf, text_report_shows_both_views_and_the_analysis)
{
	const char *args[] = { "--checks", "spf", "--format", "text", "--ip", "203.0.113.7",
	    "--from", "news@shop.test", NULL };
	struct test_proc p;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 2, "exit %d: %s", p.status, p.err);
	cr_expect(strstr(p.out, "SPF fail for mail_from 'shop.test'") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "libspf2 compute fail") != NULL, "%s", p.out);
	cr_expect(strstr(p.out, "nearest:") != NULL, "%s", p.out);
	test_proc_release(&p);
}

Test(spf, authorised_ip_passes)
{
	const char *extra[] = { "--ip", "192.0.2.4", "--from", "a@pass.spf.test", NULL };
	json_t *doc, *c;

	c = run_spf(test_ns(), extra, &doc);
	cr_expect_str_eq(field(c, "status"), "pass");
	cr_expect_str_eq(field(c, "result"), "pass");
	cr_expect_str_eq(field(c, "receiver_result"), "pass");
	cr_expect(test_has_finding(c, "spf_pass"));
	cr_expect(json_is_null(json_object_get(c, "helo_result")));
	json_decref(doc);
}

Test(spf, null_sender_checks_the_helo_identity)
{
	const char *extra[] = { "--ip", "192.0.2.9", "--helo", "mailhost.spf.test", "--from", "<>",
	    NULL };
	json_t *doc, *c;

	c = run_spf(test_ns(), extra, &doc);
	cr_expect_str_eq(field(c, "identity"), "helo");
	cr_expect_str_eq(field(c, "domain"), "mailhost.spf.test");
	cr_expect_str_eq(field(c, "result"), "pass");
	json_decref(doc);
}

Test(spf, views_differ_is_reported_when_libspf2_disagrees)
{
	const char *extra[] = { "--ip", "192.0.2.4", "--from", "a@slash0.spf.test", NULL };
	json_t *doc, *c;

	c = run_spf(test_ns(), extra, &doc);
	cr_expect_str_eq(field(c, "result"), "pass");
	cr_expect_str_neq(field(c, "receiver_result"), "pass");
	cr_expect(test_has_finding(c, "spf_views_differ"));
	json_decref(doc);
}

Test(spf, dns_timeout_is_an_error_never_a_fail)
{
	const char *extra[] = { "--ip", "198.51.100.4", "--from", "a@tmp.spf.test", "--timeout",
	    "3", NULL };
	json_t *doc, *c;

	c = run_spf(test_fault(), extra, &doc);
	cr_expect_str_eq(field(c, "result"), "temperror");
	cr_expect(test_has_finding(c, "spf_temperror"));
	cr_expect_str_eq(field(c, "status"), "error");
	cr_expect_str_neq(field(json_object_get(doc, "verdict"), "status"), "blocked_likely");
	json_decref(doc);
}

Test(spf, lint_findings_reach_the_report)
{
	static const char *const cases[][2] = {
		{ "a@syntax.spf.test", "spf_syntax_error" },
		{ "a@two.spf.test", "spf_multiple_records" },
		{ "a@plusall.spf.test", "spf_all_pass" },
		{ "a@qall.spf.test", "spf_all_neutral" },
		{ "a@ptr.spf.test", "spf_ptr_used" },
		{ "a@redirall.spf.test", "spf_redirect_with_all" },
		{ "a@incnone.spf.test", "spf_include_no_record" },
		{ "a@long.spf.test", "spf_record_too_long" },
		{ "a@near.spf.test", "spf_lookups_near_limit" },
		{ "a@over.spf.test", "spf_lookups_over_limit" },
		{ "a@nospf.spf.test", "spf_none" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *extra[] = { "--ip", "198.51.100.4", "--from", cases[i][0], NULL };
		json_t *doc, *c;

		c = run_spf(test_ns(), extra, &doc);
		cr_expect(test_has_finding(c, cases[i][1]), "%s: no %s", cases[i][0], cases[i][1]);
		json_decref(doc);
	}
}

Test(spf, check_is_skipped_without_sender_or_helo)
{
	const char *extra[] = { "--ip", "192.0.2.4", NULL };
	json_t *doc, *c;

	c = run_spf(test_ns(), extra, &doc);
	cr_expect_str_eq(field(c, "status"), "skipped");
	json_decref(doc);
}

Test(spf, receiver_view_asks_through_the_engine)
{
	struct dns_engine *eng = test_engine(test_ns(), 1000, 2);
	struct dns *dns = dns_new(eng, 0);
	struct spf_receiver_view rv;
	struct dns_counters cnt;

	spf_receiver_evaluate(dns, "198.51.100.4", "a@soft.spf.test", NULL, NULL, &rv);
	cr_expect_str_eq(rv.result, "softfail");
	cr_expect_str_eq(rv.raw, "softfail");
	cr_expect_geq(rv.lookups, 1);
	dns_counters_get(dns, &cnt);
	cr_expect_geq(cnt.queries, (uint64_t)rv.lookups);
	spf_receiver_view_release(&rv);
	spf_receiver_evaluate(dns, "198.51.100.4", "a@two.spf.test", NULL, NULL, &rv);
	cr_expect_str_eq(rv.result, "permerror", "raw %s", rv.raw);
	spf_receiver_view_release(&rv);
	dns_free(dns);
	dns_engine_free(eng);
}

extern const struct check_ops check_spf;

static int
configure_text(const char *text, struct error *err)
{
	struct conf *conf = conf_new();
	void *ctx = NULL;
	int rc;

	cr_assert_eq(conf_load_file(conf, "spf.conf", text, err), 0, "%s", err->msg);
	rc = check_spf.configure(&ctx, conf, err);
	if (rc == 0)
		check_spf.free(ctx);
	conf_free(conf);
	return rc;
}

Test(spf, configuration_errors_name_file_and_line)
{
	struct error err;

	cr_expect_eq(configure_text("[spf]\nreceiver = mx.example.test\nlookups_warn = 7\n", &err),
	    0);
	cr_expect_eq(configure_text("[spf]\nlookups_warn = 11\n", &err), -1);
	cr_expect(strstr(err.msg, "spf.conf:2") != NULL, "%s", err.msg);
	cr_expect_eq(configure_text("[spf]\ndefault_explanation = %{x} bad\n", &err), -1);
	cr_expect(strstr(err.msg, "invalid macro letter") != NULL, "%s", err.msg);
	cr_expect_eq(configure_text("[spf]\nreceiver = bad..name\n", &err), -1);
	cr_expect_eq(configure_text("[spf]\ncolour = red\n", &err), -1);
	cr_expect(strstr(err.msg, "colour") != NULL, "%s", err.msg);
	cr_expect_eq(configure_text("[spf \"x\"]\n", &err), -1);
}
