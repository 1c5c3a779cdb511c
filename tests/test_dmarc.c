/* Tests of the dmarc check against NSD (tests/zones/dmarc.test.zone), with fake spf and dkim peer reports. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks/check.h"
#include "checks/report_set.h"
#include "core/conf.h"
#include "core/target.h"
#include "support.h"

static const struct check_ops fake_spf = { .name = "spf", .summary = "fake" };
static const struct check_ops fake_dkim = { .name = "dkim", .summary = "fake" };

/*
 * Runs the dmarc check for envelope sender from (or NULL) and message (or
 * NULL) against server; spf (an object with "result" and "domain") and sigs
 * (the dkim "signatures" array) become finished peer reports when not NULL
 * (both stolen). Returns the dmarc report.
 */
static struct report *
run_dmarc(const char *server, const char *from, const char *message, json_t *spf, json_t *sigs)
{
	const struct check_ops *ops = check_find("dmarc");
	struct conf *conf = conf_new();
	struct dns_engine *eng = test_engine(server, 300, 2);
	struct dns *dns = dns_new(eng, 0);
	struct report *peers[3], *rep, *sp = NULL, *dk = NULL;
	struct report_set *set;
	struct error err;
	struct target t;
	void *ctx = NULL;
	size_t n = 0;

	cr_assert_not_null(ops, "the dmarc check is not registered");
	cr_assert_eq(ops->configure(&ctx, conf, &err), 0, "%s", err.msg);
	rep = report_new(ops);
	target_init(&t);
	if (from != NULL)
		cr_assert_eq(target_set_mail_from(&t, "--from", from, &err), 0, "%s", err.msg);
	if (message != NULL) {
		t.message = xstrdup(message);
		t.message_len = strlen(message);
	}
	if (spf != NULL) {
		sp = report_new(&fake_spf);
		json_object_update(report_data(sp), spf);
		json_decref(spf);
		peers[n++] = sp;
	}
	if (sigs != NULL) {
		dk = report_new(&fake_dkim);
		json_object_set_new(report_data(dk), "signatures", sigs);
		peers[n++] = dk;
	}
	peers[n++] = rep;
	set = report_set_new(peers, n);
	report_set_peers(rep, set);
	ops->run(ctx, &t, dns, rep);
	report_set_peers(rep, NULL);
	report_set_free(set);
	report_free(sp);
	report_free(dk);
	target_release(&t);
	dns_free(dns);
	dns_engine_free(eng);
	ops->free(ctx);
	conf_free(conf);
	return rep;
}

static const char *
field(const struct report *rep, const char *key)
{
	return json_string_value(json_object_get(report_data_const(rep), key));
}

static json_t *
spf_result(const char *result, const char *domain)
{
	return json_pack("{s:s,s:s}", "result", result, "domain", domain);
}

static json_t *
one_sig(const char *d, const char *result)
{
	return json_pack("[{s:i,s:s,s:s,s:s,s:s}]", "index", 0, "d", d, "s", "sel",
	    "a", "rsa-sha256", "result", result);
}

/*
 * The dmarc check for a message from "from" that carries no DKIM signature
 * (both mechanisms evaluated: DKIM is known to give no pass), with spf.
 */
static struct report *
run_unsigned(const char *from, json_t *spf)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "From: %s\n\nbody\n", from);
	return run_dmarc(test_ns(), from, msg, spf, json_array());
}

static void
expect_finding(const struct report *rep, const char *code, enum finding_severity sev)
{
	const struct finding *f = report_find(rep, code);

	cr_assert_not_null(f, "no finding '%s'", code);
	cr_assert_eq(f->severity, sev, "finding '%s' has severity %s", code,
	    finding_severity_name(f->severity));
}

Test(dmarc, reject_policy_with_unaligned_spf_is_a_failing_reject)
{
	struct report *rep = run_unsigned("u@reject.dmarc.test",
	    spf_result("pass", "bounce.other.test"));

	cr_assert_str_eq(field(rep, "policy_domain"), "reject.dmarc.test");
	cr_assert_str_eq(field(rep, "p"), "reject");
	cr_assert_str_eq(field(rep, "result"), "fail");
	cr_assert_str_eq(field(rep, "disposition"), "reject");
	cr_assert(json_is_false(json_object_get(report_data_const(rep), "spf_aligned")));
	cr_assert(json_is_false(json_object_get(report_data_const(rep), "dkim_aligned")));
	expect_finding(rep, "dmarc_fail", SEV_FAIL);
	cr_assert_eq(report_status(rep), CHECK_FAIL);
	report_free(rep);
}

Test(dmarc, without_a_message_unaligned_spf_is_not_evaluated_not_a_fail)
{
	/* an aligned DKIM signature the message may carry would still pass it (RFC 7489 4.2) */
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", NULL,
	    spf_result("fail", "reject.dmarc.test"), NULL);
	const struct finding *f = report_find(rep, "alignment_unknown");

	cr_assert_str_eq(field(rep, "result"), "not_evaluated");
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "disposition")),
	    "what a receiver does is unknown");
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "dkim_aligned")),
	    "no message: DKIM is unknown, not false");
	cr_assert_null(report_find(rep, "dmarc_fail"));
	expect_finding(rep, "alignment_unknown", SEV_INFO);
	cr_assert_not_null(strstr(f->message, "no DKIM signature was checked"), "%s", f->message);
	cr_assert_neq(report_status(rep), CHECK_FAIL);
	report_free(rep);
}

Test(dmarc, non_dmarc_txt_beside_the_record_is_discarded)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", NULL, NULL, NULL);
	const json_t *rua = json_object_get(report_data_const(rep), "rua");

	cr_assert_str_eq(field(rep, "record"), "v=DMARC1; p=reject; rua=mailto:dmarc@dmarc.test");
	cr_assert_eq(json_array_size(rua), 1);
	cr_assert_str_eq(json_string_value(json_array_get(rua, 0)), "mailto:dmarc@dmarc.test");
	cr_assert_null(report_find(rep, "record_multiple"));
	report_free(rep);
}

Test(dmarc, relaxed_spf_alignment_passes_for_a_subdomain)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", NULL,
	    spf_result("pass", "bounce.reject.dmarc.test"), NULL);

	cr_assert_str_eq(field(rep, "result"), "pass");
	cr_assert_str_eq(field(rep, "disposition"), "none");
	cr_assert(json_is_true(json_object_get(report_data_const(rep), "spf_aligned")));
	expect_finding(rep, "dmarc_pass", SEV_INFO);
	cr_assert_eq(report_status(rep), CHECK_PASS);
	report_free(rep);
}

Test(dmarc, strict_spf_alignment_needs_the_exact_domain)
{
	struct report *rep = run_unsigned("u@strict.dmarc.test",
	    spf_result("pass", "bounce.strict.dmarc.test"));

	cr_assert_str_eq(field(rep, "aspf"), "s");
	cr_assert_str_eq(field(rep, "result"), "fail");
	expect_finding(rep, "dmarc_fail", SEV_FAIL);
	report_free(rep);
	rep = run_dmarc(test_ns(), "u@strict.dmarc.test", NULL,
	    spf_result("pass", "strict.dmarc.test"), NULL);
	cr_assert_str_eq(field(rep, "result"), "pass");
	report_free(rep);
}

Test(dmarc, aligned_passing_dkim_signature_passes_despite_spf_fail)
{
	struct report *rep = run_dmarc(test_ns(), "bounce@other.test",
	    "From: Shop <news@reject.dmarc.test>\r\nSubject: x\r\n\r\nbody\r\n",
	    spf_result("fail", "other.test"), one_sig("mail.reject.dmarc.test", "pass"));

	cr_assert_str_eq(field(rep, "domain"), "reject.dmarc.test");
	cr_assert_str_eq(field(rep, "domain_source"), "header_from");
	cr_assert_str_eq(field(rep, "result"), "pass");
	cr_assert(json_is_true(json_object_get(report_data_const(rep), "dkim_aligned")));
	cr_assert(json_is_false(json_object_get(report_data_const(rep), "spf_aligned")));
	report_free(rep);
}

Test(dmarc, passing_dkim_with_an_unaligned_d_fails)
{
	struct report *rep = run_dmarc(test_ns(), NULL,
	    "From: news@reject.dmarc.test\n\n", spf_result("softfail", "reject.dmarc.test"),
	    one_sig("esp.other.test", "pass"));

	cr_assert_str_eq(field(rep, "result"), "fail");
	cr_assert(json_is_false(json_object_get(report_data_const(rep), "dkim_aligned")));
	expect_finding(rep, "dmarc_fail", SEV_FAIL);
	report_free(rep);
}

Test(dmarc, aligned_signature_failing_by_policy_does_not_pass)
{
	/* rsa-sha1 (RFC 8301): the dkim check reports "policy", which is no pass */
	struct report *rep = run_dmarc(test_ns(), NULL, "From: news@reject.dmarc.test\n\n",
	    spf_result("fail", "reject.dmarc.test"), one_sig("reject.dmarc.test", "policy"));

	cr_assert_str_eq(field(rep, "result"), "fail");
	report_free(rep);
}

Test(dmarc, message_without_signatures_fails_with_dkim_false)
{
	struct report *rep = run_dmarc(test_ns(), NULL, "From: news@reject.dmarc.test\n\n",
	    spf_result("none", "reject.dmarc.test"), json_array());

	cr_assert(json_is_false(json_object_get(report_data_const(rep), "dkim_aligned")));
	cr_assert_str_eq(field(rep, "result"), "fail");
	report_free(rep);
}

Test(dmarc, aligned_temperror_without_a_pass_is_temperror)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", NULL,
	    spf_result("temperror", "reject.dmarc.test"), NULL);

	cr_assert_str_eq(field(rep, "result"), "temperror");
	cr_assert_str_eq(field(rep, "disposition"), "none");
	expect_finding(rep, "alignment_temperror", SEV_ERROR);
	cr_assert_null(report_find(rep, "dmarc_fail"));
	report_free(rep);
}

Test(dmarc, no_spf_or_dkim_results_is_reported_as_unknown_not_fail)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", NULL, NULL, NULL);

	expect_finding(rep, "alignment_unknown", SEV_INFO);
	cr_assert_null(report_find(rep, "dmarc_fail"));
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "spf_aligned")));
	report_free(rep);
}

Test(dmarc, subdomain_falls_back_to_org_domain_and_gets_sp)
{
	struct report *rep = run_unsigned("u@a.b.dmarc.test",
	    spf_result("fail", "a.b.dmarc.test"));

	cr_assert_str_eq(field(rep, "org_domain"), "dmarc.test");
	cr_assert_str_eq(field(rep, "policy_domain"), "dmarc.test");
	cr_assert_str_eq(field(rep, "p"), "quarantine");
	cr_assert_str_eq(field(rep, "sp"), "reject");
	cr_assert_str_eq(field(rep, "applied_policy"), "reject");
	cr_assert_str_eq(field(rep, "disposition"), "reject");
	report_free(rep);
}

Test(dmarc, org_domain_itself_gets_p_not_sp)
{
	struct report *rep = run_unsigned("u@dmarc.test",
	    spf_result("fail", "dmarc.test"));

	cr_assert_str_eq(field(rep, "applied_policy"), "quarantine");
	cr_assert_str_eq(field(rep, "disposition"), "quarantine");
	expect_finding(rep, "dmarc_fail", SEV_WARN);
	report_free(rep);
}

Test(dmarc, missing_record_at_domain_and_org_domain)
{
	struct report *rep = run_dmarc(test_ns(), "u@other.nodmarc.test", NULL,
	    spf_result("pass", "other.nodmarc.test"), NULL);

	cr_assert_str_eq(field(rep, "org_domain"), "nodmarc.test");
	cr_assert_str_eq(field(rep, "discovery"), "none");
	cr_assert_str_eq(field(rep, "result"), "none");
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "policy_domain")));
	expect_finding(rep, "record_missing", SEV_WARN);
	report_free(rep);
}

Test(dmarc, several_records_mean_no_policy)
{
	struct report *rep = run_dmarc(test_ns(), "u@multi.dmarc.test", NULL, NULL, NULL);

	cr_assert_str_eq(field(rep, "result"), "none");
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "p")));
	expect_finding(rep, "record_multiple", SEV_WARN);
	cr_assert_eq(json_integer_value(json_object_get(report_find(rep, "record_multiple")->data,
	    "count")), 2);
	report_free(rep);
}

Test(dmarc, bad_p_without_rua_is_permerror)
{
	struct report *rep = run_dmarc(test_ns(), "u@badp.dmarc.test", NULL, NULL, NULL);
	const json_t *errs = json_object_get(report_data_const(rep), "errors");

	cr_assert_str_eq(field(rep, "discovery"), "invalid");
	cr_assert_str_eq(field(rep, "result"), "permerror");
	cr_assert_eq(json_array_size(errs), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "tag")), "p");
	expect_finding(rep, "record_invalid", SEV_WARN);
	report_free(rep);
}

Test(dmarc, bad_p_with_rua_acts_as_none)
{
	struct report *rep = run_unsigned("u@badprua.dmarc.test",
	    spf_result("fail", "badprua.dmarc.test"));

	cr_assert_str_eq(field(rep, "discovery"), "record");
	cr_assert_str_eq(field(rep, "effective_p"), "none");
	cr_assert_str_eq(field(rep, "result"), "fail");
	cr_assert_str_eq(field(rep, "disposition"), "none");
	expect_finding(rep, "record_syntax", SEV_WARN);
	expect_finding(rep, "dmarc_fail", SEV_INFO);
	report_free(rep);
}

Test(dmarc, syntax_errors_are_listed_with_their_tags)
{
	struct report *rep = run_dmarc(test_ns(), "u@syntax.dmarc.test", NULL, NULL, NULL);
	const json_t *errs = json_object_get(report_data_const(rep), "errors");
	const json_t *unk = json_object_get(report_data_const(rep), "unknown_tags");

	cr_assert_eq(json_array_size(errs), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "tag")), "pct");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 1), "tag")), "rua");
	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "pct")), 100);
	cr_assert_str_eq(json_string_value(json_array_get(unk, 0)), "foo");
	cr_assert_str_eq(field(rep, "p"), "reject");
	report_free(rep);
}

Test(dmarc, pct_below_100_gives_the_milder_policy_for_the_rest)
{
	struct report *rep = run_unsigned("u@pct.dmarc.test",
	    spf_result("fail", "pct.dmarc.test"));

	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "pct")), 25);
	cr_assert_str_eq(field(rep, "disposition"), "reject");
	cr_assert_str_eq(field(rep, "disposition_unsampled"), "quarantine");
	report_free(rep);
}

Test(dmarc, misplaced_version_is_ignored_and_reported)
{
	struct report *rep = run_dmarc(test_ns(), "u@vlate.dmarc.test", NULL, NULL, NULL);
	const json_t *errs = json_object_get(report_data_const(rep), "errors");

	cr_assert_str_eq(field(rep, "policy_domain"), "dmarc.test");
	cr_assert_eq(json_array_size(errs), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "tag")), "v");
	report_free(rep);
}

Test(dmarc, record_in_several_strings_is_joined)
{
	struct report *rep = run_dmarc(test_ns(), "u@split.dmarc.test", NULL, NULL, NULL);

	cr_assert_str_eq(field(rep, "record"), "v=DMARC1; p=reject; rua=mailto:a@dmarc.test");
	cr_assert_str_eq(field(rep, "p"), "reject");
	report_free(rep);
}

/* The report_destinations entry for domain, or NULL. */
static const json_t *
destination(const struct report *rep, const char *domain)
{
	const json_t *list = json_object_get(report_data_const(rep), "report_destinations");
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "domain")),
		    domain) == 0)
			return json_array_get(list, i);
	return NULL;
}

Test(dmarc, external_report_destination_without_authorisation_is_reported)
{
	struct report *rep = run_dmarc(test_ns(), "u@ext.dmarc.test", NULL, NULL, NULL);
	const json_t *d = destination(rep, "nodmarc.test");

	cr_assert_not_null(d);
	cr_assert(json_is_true(json_object_get(d, "external")));
	cr_assert(json_is_false(json_object_get(d, "authorized")));
	cr_assert_str_eq(json_string_value(json_object_get(d, "query")),
	    "ext.dmarc.test._report._dmarc.nodmarc.test");
	expect_finding(rep, "report_destination_unauthorized", SEV_INFO);
	report_free(rep);
}

Test(dmarc, authorised_external_destination_and_own_domain_pass)
{
	struct report *rep = run_dmarc(test_ns(), "u@auth.dmarc.test", NULL, NULL, NULL);
	const json_t *ext = destination(rep, "nodmarc.test"), *own = destination(rep, "dmarc.test");

	cr_assert_not_null(ext);
	cr_assert_not_null(own);
	cr_assert(json_is_true(json_object_get(ext, "authorized")));
	cr_assert(json_is_false(json_object_get(own, "external")));
	cr_assert_null(report_find(rep, "report_destination_unauthorized"));
	report_free(rep);
}

/* A loopback UDP port that never answers: every query to it times out. */
static int
silent_server(char *spec, size_t len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(spec, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

Test(dmarc, lookup_failure_is_an_error_not_a_missing_record)
{
	char spec[64];
	int fd = silent_server(spec, sizeof(spec));
	struct report *rep = run_dmarc(spec, "u@reject.dmarc.test", NULL, NULL, NULL);
	const json_t *errs = json_object_get(report_data_const(rep), "errors");

	cr_assert_str_eq(field(rep, "result"), "temperror");
	cr_assert_str_eq(field(rep, "discovery"), "temperror");
	expect_finding(rep, "lookup_failed", SEV_ERROR);
	cr_assert_null(report_find(rep, "record_missing"));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "tag")), "dns");
	cr_assert_eq(report_status(rep), CHECK_ERROR);
	report_free(rep);
	close(fd);
}

Test(dmarc, message_from_wins_over_the_envelope_sender)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test",
	    "From: \"News\" <n@none.dmarc.test>\n\n", NULL, NULL);

	cr_assert_str_eq(field(rep, "domain"), "none.dmarc.test");
	cr_assert_str_eq(field(rep, "from"), "n@none.dmarc.test");
	cr_assert_str_eq(field(rep, "p"), "none");
	report_free(rep);
}

Test(dmarc, from_with_two_addresses_fails_without_lookups)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test",
	    "From: a@reject.dmarc.test, b@none.dmarc.test\n\n", NULL, NULL);

	expect_finding(rep, "from_multiple", SEV_FAIL);
	cr_assert_str_eq(field(rep, "result"), "permerror");
	cr_assert(json_is_null(json_object_get(report_data_const(rep), "record")));
	report_free(rep);
}

Test(dmarc, message_without_from_is_reported)
{
	struct report *rep = run_dmarc(test_ns(), "u@reject.dmarc.test", "Subject: x\n\nbody\n",
	    NULL, NULL);

	expect_finding(rep, "from_missing", SEV_FAIL);
	report_free(rep);
}

Test(dmarc, null_sender_without_message_is_skipped)
{
	struct report *rep = run_dmarc(test_ns(), "<>", NULL, NULL, NULL);

	cr_assert_eq(report_status(rep), CHECK_SKIPPED);
	report_free(rep);
}

Test(dmarc, bad_configuration_names_file_and_line)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[dmarc]\ncheck_report_authorization = maybe\n", "dm.conf:2:" },
		{ "[dmarc \"x\"]\n", "dm.conf:1:" },
		/* the list is every check's: the old key says where it went */
		{ "[dmarc]\npsl_file = /x.dat\n", "[psl]" },
		{ "[psl]\nfile = /nonexistent/psl.dat\n", "dm.conf:1:" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf *conf = conf_new();
		struct error err = { "" };
		void *ctx = NULL;

		cr_assert_eq(conf_load_file(conf, "dm.conf", bad[i].text, &err), 0, "%s", err.msg);
		cr_expect_eq(check_find("dmarc")->configure(&ctx, conf, &err), -1, "case %zu", i);
		cr_expect(strstr(err.msg, bad[i].want) != NULL, "case %zu: '%s'", i, err.msg);
		conf_free(conf);
	}
}

Test(dmarc, cli_output_carries_the_contract_fields_and_validates)
{
	const char *args[] = { "--from", "u@reject.dmarc.test", "--checks", "dmarc",
	    "--format", "json", NULL };
	static const char *const keys[] = {
		"domain", "policy_domain", "record", "p", "sp", "pct", "adkim", "aspf",
		"result", "spf_aligned", "dkim_aligned", "disposition", "rua", "ruf", "fo",
		"errors",
	};
	struct test_proc p;
	json_t *doc, *c;
	size_t i;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	c = test_check(doc, "dmarc");
	cr_assert_not_null(c);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		cr_assert_not_null(json_object_get(c, keys[i]), "no '%s' in the dmarc check", keys[i]);
	cr_assert_str_eq(json_string_value(json_object_get(c, "p")), "reject");
	cr_assert(test_has_finding(c, "record_found"));
	json_decref(doc);
	test_proc_release(&p);
}

Test(dmarc, cli_reads_the_from_of_a_message_file)
{
	char *path = xasprintf("%s/dmarc-msg-%d.eml", test_env("WHY550_TMP"), (int)getpid());
	const char *args[] = { "--from", "u@reject.dmarc.test", "--message", path,
	    "--checks", "dmarc", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *c;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs("From: Sub <x@a.b.dmarc.test>\r\nTo: y@example.test\r\n\r\nhello\r\n", f);
	fclose(f);
	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	c = test_check(doc, "dmarc");
	cr_assert_str_eq(json_string_value(json_object_get(c, "domain")), "a.b.dmarc.test");
	cr_assert_str_eq(json_string_value(json_object_get(c, "policy_domain")), "dmarc.test");
	json_decref(doc);
	test_proc_release(&p);
	unlink(path);
	free(path);
}
