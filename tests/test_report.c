/* Tests of checks/report.c: status derivation, overrides, skip, deadline and peer access. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "checks/check.h"
#include "checks/report_set.h"

static const char *const after_spf[] = { "spf", NULL };
static const struct check_ops ops_spf = { .name = "spf" };
static const struct check_ops ops_dkim = { .name = "dkim" };
static const struct check_ops ops_dmarc = { .name = "dmarc", .after = after_spf };

Test(report, names_of_statuses_and_severities)
{
	cr_expect_str_eq(check_status_name(CHECK_PASS), "pass");
	cr_expect_str_eq(check_status_name(CHECK_WARN), "warn");
	cr_expect_str_eq(check_status_name(CHECK_FAIL), "fail");
	cr_expect_str_eq(check_status_name(CHECK_ERROR), "error");
	cr_expect_str_eq(check_status_name(CHECK_SKIPPED), "skipped");
	cr_expect_str_eq(finding_severity_name(SEV_INFO), "info");
	cr_expect_str_eq(finding_severity_name(SEV_WARN), "warn");
	cr_expect_str_eq(finding_severity_name(SEV_FAIL), "fail");
	cr_expect_str_eq(finding_severity_name(SEV_ERROR), "error");
}

Test(report, no_findings_is_pass)
{
	struct report *rep = report_new(&ops_spf);

	cr_expect_eq(report_status(rep), CHECK_PASS);
	cr_expect_null(report_reason(rep));
	cr_expect_str_eq(report_name(rep), "spf");
	cr_expect_eq(report_nfindings(rep), 0);
	report_free(rep);
}

Test(report, info_findings_do_not_change_pass)
{
	struct report *rep = report_new(&ops_spf);

	report_add(rep, "record_found", SEV_INFO, NULL, "found");
	report_add(rep, "lookups", SEV_INFO, NULL, "%d lookups", 3);
	cr_expect_eq(report_status(rep), CHECK_PASS);
	report_free(rep);
}

Test(report, status_order_is_fail_error_warn_pass)
{
	struct report *rep = report_new(&ops_spf);

	report_add(rep, "a", SEV_WARN, NULL, "w");
	cr_expect_eq(report_status(rep), CHECK_WARN);
	report_add(rep, "b", SEV_ERROR, NULL, "e");
	cr_expect_eq(report_status(rep), CHECK_ERROR);
	report_add(rep, "c", SEV_WARN, NULL, "w2");
	cr_expect_eq(report_status(rep), CHECK_ERROR);
	report_add(rep, "d", SEV_FAIL, NULL, "f");
	cr_expect_eq(report_status(rep), CHECK_FAIL);
	report_add(rep, "e", SEV_ERROR, NULL, "e2");
	cr_expect_eq(report_status(rep), CHECK_FAIL);
	report_free(rep);
}

Test(report, derived_error_reason_is_first_error_message)
{
	struct report *rep = report_new(&ops_spf);

	report_add(rep, "w", SEV_WARN, NULL, "a warning");
	report_add(rep, "temperror", SEV_ERROR, NULL, "dns: query for '%s' timed out", "x.example");
	cr_expect_str_eq(report_reason(rep), "dns: query for 'x.example' timed out");
	report_free(rep);
}

Test(report, override_wins_over_findings)
{
	struct report *rep = report_new(&ops_spf);

	report_add(rep, "bad", SEV_FAIL, NULL, "bad");
	report_set_status(rep, CHECK_WARN);
	cr_expect_eq(report_status(rep), CHECK_WARN);
	report_free(rep);
}

Test(report, skip_keeps_findings_and_reason)
{
	struct report *rep = report_new(&ops_dkim);

	report_add(rep, "note", SEV_INFO, NULL, "n");
	report_skip(rep, "no %s given", "message");
	cr_expect_eq(report_status(rep), CHECK_SKIPPED);
	cr_expect_str_eq(report_reason(rep), "no message given");
	cr_expect_eq(report_nfindings(rep), 1);
	report_free(rep);
}

Test(report, deadline_is_error_with_reason_deadline)
{
	struct report *rep = report_new(&ops_spf);

	report_add(rep, "w", SEV_WARN, NULL, "w");
	report_set_deadline(rep);
	cr_expect_eq(report_status(rep), CHECK_ERROR);
	cr_expect_str_eq(report_reason(rep), "deadline");
	report_free(rep);
}

Test(report, add_stores_code_message_and_data)
{
	struct report *rep = report_new(&ops_spf);
	json_t *d = json_object(), *got;
	const struct finding *f;

	json_object_set_new(d, "zone", json_string("zen.example"));
	got = report_add(rep, "listed", SEV_FAIL, d, "listed on %s", "zen.example");
	cr_expect_eq(got, d);
	json_object_set_new(got, "extra", json_integer(2));
	got = report_add(rep, "raw", SEV_WARN, NULL, "bytes \xff\x1b[31m kept");
	cr_assert(json_is_object(got));
	cr_expect_eq(json_object_size(got), 0);
	f = report_find(rep, "listed");
	cr_assert_not_null(f);
	cr_expect_str_eq(f->message, "listed on zen.example");
	cr_expect_eq(f->severity, SEV_FAIL);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "zone")), "zen.example");
	cr_expect_eq(json_integer_value(json_object_get(f->data, "extra")), 2);
	f = report_finding(rep, 1);
	cr_expect_str_eq(f->code, "raw");
	cr_expect_str_eq(f->message, "bytes \xff\x1b[31m kept");
	cr_expect_null(report_find(rep, "absent"));
	cr_expect_null(report_finding(rep, 2));
	report_free(rep);
}

Test(report, data_and_duration)
{
	struct report *rep = report_new(&ops_spf);

	json_object_set_new(report_data(rep), "result", json_string("pass"));
	cr_expect_str_eq(json_string_value(json_object_get(report_data_const(rep), "result")),
	    "pass");
	report_set_duration_ms(rep, 42);
	cr_expect_eq(report_duration_ms(rep), 42);
	report_free(rep);
}

Test(report, peer_only_for_declared_names)
{
	struct report *reps[3];
	struct report_set *set;
	size_t i;

	reps[0] = report_new(&ops_spf);
	reps[1] = report_new(&ops_dkim);
	reps[2] = report_new(&ops_dmarc);
	set = report_set_new(reps, 3);
	for (i = 0; i < 3; i++)
		report_set_peers(reps[i], set);
	cr_expect_eq(report_peer(reps[2], "spf"), reps[0]);
	cr_expect_null(report_peer(reps[2], "dkim"), "dkim is not in dmarc's after list");
	cr_expect_null(report_peer(reps[0], "dmarc"), "spf declared nothing");
	cr_expect_null(report_peer(reps[1], "spf"));
	report_set_free(set);
	for (i = 0; i < 3; i++)
		report_free(reps[i]);
}

Test(report, peer_null_when_declared_check_did_not_run)
{
	struct report *reps[2];
	struct report_set *set;

	reps[0] = report_new(&ops_dmarc);
	set = report_set_new(reps, 1);
	report_set_peers(reps[0], set);
	cr_expect_null(report_peer(reps[0], "spf"), "spf is not in the set");
	report_set_free(set);

	reps[1] = report_new(&ops_spf);
	report_skip(reps[1], "no sender");
	set = report_set_new(reps, 2);
	report_set_peers(reps[0], set);
	cr_expect_null(report_peer(reps[0], "spf"), "a skipped spf did not run");
	report_set_free(set);
	report_free(reps[0]);
	report_free(reps[1]);
}

Test(report, peer_without_set_is_null)
{
	struct report *rep = report_new(&ops_dmarc);

	cr_expect_null(report_peer(rep, "spf"));
	report_free(rep);
}

Test(report, free_null_is_noop)
{
	report_free(NULL);
	report_set_free(NULL);
}

Test(report, findings_past_the_limit_are_counted_in_one_finding)
{
	struct report *rep = report_new(&ops_spf);
	const struct finding *f;
	json_t *got;
	size_t i, n = REPORT_MAX_FINDINGS + 250;

	for (i = 0; i < n; i++)
		report_add(rep, "record_ignored", SEV_INFO,
		    json_pack("{s:I}", "index", (json_int_t)i), "record %zu ignored", i);
	cr_expect_eq(report_nfindings(rep), REPORT_MAX_FINDINGS + 1);
	f = report_find(rep, "too_many_findings");
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_INFO);
	cr_expect_eq(json_integer_value(json_object_get(f->data, "dropped")), 250);
	cr_expect_eq(json_integer_value(json_object_get(f->data, "limit")), REPORT_MAX_FINDINGS);
	cr_expect_not_null(strstr(f->message, "250 more findings"), "%s", f->message);
	/* a finding not kept still hands its caller an object to fill */
	got = report_add(rep, "record_ignored", SEV_INFO, NULL, "one more");
	cr_assert(json_is_object(got));
	json_object_set_new(got, "extra", json_true());
	cr_expect_eq(report_nfindings(rep), REPORT_MAX_FINDINGS + 1);
	report_free(rep);
}

Test(report, past_the_limit_a_new_code_or_severity_is_still_kept)
{
	struct report *rep = report_new(&ops_spf);
	size_t i;

	for (i = 0; i < REPORT_MAX_FINDINGS + 10; i++)
		report_add(rep, "signature_pass", SEV_INFO, NULL, "signature %zu passes", i);
	cr_expect_eq(report_status(rep), CHECK_PASS);
	report_add(rep, "signature_pass", SEV_FAIL, NULL, "the same code, worse");
	report_add(rep, "key_missing", SEV_WARN, NULL, "a code not seen yet");
	report_add(rep, "key_missing", SEV_WARN, NULL, "that code again: left out");
	cr_expect_not_null(report_find(rep, "key_missing"));
	cr_expect_eq(report_status(rep), CHECK_FAIL, "the status sees the fail kept");
	cr_expect_eq(report_nfindings(rep), REPORT_MAX_FINDINGS + 1 + 2);
	cr_expect_eq(json_integer_value(json_object_get(report_find(rep,
	    "too_many_findings")->data, "dropped")), 11);
	report_free(rep);
}
