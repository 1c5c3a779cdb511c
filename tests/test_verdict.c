/* Tests of src/verdict.c: rules from checks.d, confidence, errors, the bounce combined with live checks, ranking, status. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/bounce/classify.h"
#include "checks/check.h"
#include "checks/dnsbl/dnsbl.h"
#include "checks/dnsbl/list.h"
#include "core/conf.h"
#include "src/gate.h"
#include "src/verdict.h"
#include "support.h"

extern const struct check_ops check_bounce;
extern const struct check_ops check_dnsbl;

static const struct check_ops ops_dnsbl = { .name = "dnsbl" };
static const struct check_ops ops_rdns = { .name = "rdns" };
static const struct check_ops ops_spf = { .name = "spf" };
static const struct check_ops ops_dkim = { .name = "dkim" };
static const struct check_ops ops_recipient = { .name = "recipient" };
static const struct check_ops ops_smtp = { .name = "smtp" };

static const char test_rules[] =
    "[verdict \"dnsbl/listed\"]\n"
    "cause = ip_blocklisted\n"
    "confidence = high\n"
    "summary = {subject} is listed on {zone} ({codes}).\n"
    "remedy = Ask for removal at {delist_url|the list's website}.\n"
    "[verdict \"rdns/ptr_missing\"]\n"
    "cause = rdns_missing\n"
    "confidence = high\n"
    "summary = {ip} has no PTR, seen at {when}.\n"
    "remedy = Ask the owner of {ip} for a PTR.\n"
    "[verdict \"rdns/ptr_generic\"]\n"
    "cause = rdns_missing\n"
    "confidence = medium\n"
    "summary = generic PTR {ptr}.\n"
    "remedy = Use a smarthost.\n"
    "[verdict \"spf/softfail\"]\n"
    "cause = spf_fail\n"
    "confidence = low\n"
    "summary = softfail.\n"
    "remedy = Fix SPF.\n"
    "[verdict \"spf/fail\"]\n"
    "cause = spf_fail\n"
    "confidence = high\n"
    "summary = SPF fails for {ip}.\n"
    "remedy = Add {ip} to SPF.\n"
    "[verdict \"spf/none\"]\n"
    "cause = unauthenticated\n"
    "confidence = low\n"
    "summary = no SPF.\n"
    "remedy = Publish SPF.\n"
    "[verdict \"dkim/none\"]\n"
    "cause = unauthenticated\n"
    "confidence = low\n"
    "summary = no DKIM.\n"
    "remedy = Sign with DKIM.\n"
    "[verdict \"dkim/maybe\"]\n"
    "cause = dkim_fail\n"
    "confidence = high\n"
    "summary = maybe.\n"
    "remedy = Check.\n";

struct fx {
	struct conf *conf;
	struct verdict_rules *rules;
	struct target t;
	struct report *reps[16];
	size_t n;
	struct verdict v;
	void *bctx;
};

/* Rules: the shipped bounce.conf (for the bounce check and its rules) plus extra. */
static void
fx_init(struct fx *f, const char *extra)
{
	char *path = test_path("checks.d/bounce.conf");
	struct error err;

	memset(f, 0, sizeof(*f));
	f->conf = conf_new();
	cr_assert_eq(conf_load_file(f->conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(conf_load_file(f->conf, "test.conf", test_rules, &err), 0, "%s", err.msg);
	if (extra != NULL)
		cr_assert_eq(conf_load_file(f->conf, "extra.conf", extra, &err), 0, "%s", err.msg);
	f->rules = verdict_rules_load(f->conf, &err);
	cr_assert_not_null(f->rules, "%s", err.msg);
	cr_assert_eq(check_bounce.configure(&f->bctx, f->conf, &err), 0, "%s", err.msg);
	target_init(&f->t);
	free(path);
}

/* Rules: every shipped checks.d file, as the program reads them. */
static void
fx_init_shipped(struct fx *f)
{
	char *dir = test_path("checks.d");
	struct error err;

	memset(f, 0, sizeof(*f));
	f->conf = conf_new();
	cr_assert_eq(conf_load_dir(f->conf, dir, &err), 0, "%s", err.msg);
	f->rules = verdict_rules_load(f->conf, &err);
	cr_assert_not_null(f->rules, "%s", err.msg);
	cr_assert_eq(check_bounce.configure(&f->bctx, f->conf, &err), 0, "%s", err.msg);
	target_init(&f->t);
	free(dir);
}

static struct report *
fx_report(struct fx *f, const struct check_ops *ops)
{
	struct report *rep;

	cr_assert_lt(f->n, ARRAY_SIZE(f->reps), "too many reports for the fixture");
	rep = report_new(ops);

	f->reps[f->n++] = rep;
	return rep;
}

/* Runs the real bounce check on text. */
static void
fx_bounce(struct fx *f, const char *text)
{
	struct error err;

	cr_assert_eq(target_set_bounce(&f->t, "--bounce", text, &err), 0, "%s", err.msg);
	check_bounce.run(f->bctx, &f->t, NULL, fx_report(f, &check_bounce));
}

static void
fx_build(struct fx *f)
{
	verdict_release(&f->v);
	verdict_build_rules(&f->v, f->rules, &f->t, f->reps, f->n);
}

static void
fx_release(struct fx *f)
{
	size_t i;

	verdict_release(&f->v);
	for (i = 0; i < f->n; i++)
		report_free(f->reps[i]);
	check_bounce.free(f->bctx);
	verdict_rules_free(f->rules);
	conf_free(f->conf);
	target_release(&f->t);
}

static const struct cause *
find_cause(const struct verdict *v, const char *code)
{
	size_t i;

	for (i = 0; i < v->ncauses; i++)
		if (strcmp(cause_name(v->causes[i].code), code) == 0)
			return &v->causes[i];
	return NULL;
}

/* The name of the ith cause, "" past the last. */
static const char *
code_of(const struct verdict *v, size_t i)
{
	return i < v->ncauses ? cause_name(v->causes[i].code) : "";
}

/*
 * dnsbl report data: one list entry with status, in the names of the
 * producer's contract (checks/dnsbl/dnsbl.h).
 */
static void
dnsbl_list(struct report *rep, const char *zone, enum dnsbl_status status, const char *url)
{
	json_t *lists = json_object_get(report_data(rep), "lists");

	if (lists == NULL) {
		lists = json_array();
		json_object_set_new(report_data(rep), "lists", lists);
	}
	json_array_append_new(lists, json_pack("{s:s,s:s,s:s,s:s,s:[s],s:s?}", "zone", zone,
	    "kind", dnsbl_kind_name(DNSBL_IP4), "subject", "192.0.2.2",
	    "status", dnsbl_status_name(status), "codes", "127.0.0.2", "delist_url", url));
}

static bool
evidence_has(const struct cause *c, const char *check)
{
	size_t i;

	for (i = 0; i < json_array_size(c->evidence); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(c->evidence, i),
		    "check")), check) == 0)
			return true;
	return false;
}

/* The "note" of the bounce's evidence item, or "". */
static const char *
bounce_note(const struct cause *c)
{
	size_t i;

	for (i = 0; i < json_array_size(c->evidence); i++) {
		const json_t *ev = json_array_get(c->evidence, i);

		if (strcmp(json_string_value(json_object_get(ev, "check")), "bounce") == 0 &&
		    json_is_string(json_object_get(ev, "note")))
			return json_string_value(json_object_get(ev, "note"));
	}
	return "";
}

/*
 * The real dnsbl check against the fixture lists (tests/zones) for the
 * demo's IP, its report into the verdict: the contract of
 * checks/dnsbl/dnsbl.h (zone, kind, status, subject, policy, delist_url)
 * as the producer writes it and the verdict reads it.
 */
static void
fx_dnsbl(struct fx *f, const char *ip)
{
	char *path = test_path("checks.d/dnsbl.conf");
	struct conf *conf = conf_new();
	struct dns_engine *eng = test_engine(test_ns(), 400, 2);
	struct dns *dns = dns_new(eng, now_ms() + 10000);
	struct error err;
	void *ctx = NULL;

	cr_assert_eq(conf_load_file(conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(check_dnsbl.configure(&ctx, conf, &err), 0, "%s", err.msg);
	cr_assert_eq(target_set_ip(&f->t, "--ip", ip, &err), 0, "%s", err.msg);
	check_dnsbl.run(ctx, &f->t, dns, fx_report(f, &check_dnsbl));
	check_dnsbl.free(ctx);
	dns_free(dns);
	dns_engine_free(eng);
	conf_free(conf);
	free(path);
}

/* The evidence item of check c whose data names zone, or NULL. */
static const json_t *
evidence_of_zone(const struct cause *c, const char *check, const char *zone)
{
	const json_t *ev;
	size_t i;

	json_array_foreach(c->evidence, i, ev) {
		const char *z = json_string_value(json_object_get(json_object_get(ev, "data"),
		    "zone"));

		if (strcmp(json_string_value(json_object_get(ev, "check")), check) == 0 &&
		    z != NULL && strcmp(z, zone) == 0)
			return ev;
	}
	return NULL;
}

Test(verdict, shipped_checks_d_rules_load)
{
	char *dir = test_path("checks.d");
	struct conf *conf = conf_new();
	struct verdict_rules *rules;
	struct error err;

	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	rules = verdict_rules_load(conf, &err);
	cr_assert_not_null(rules, "%s", err.msg);
	/* the bounce rules alone: one per cause plus two */
	cr_expect_geq(verdict_rules_count(rules), 21);
	verdict_rules_free(rules);
	conf_free(conf);
	free(dir);
}

Test(verdict, bad_rules_name_the_file_and_line)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[verdict \"rdns/x\"]\ncause = blocked\nconfidence = high\nsummary = s\n"
		  "remedy = r\n", "r.conf:1: cause 'blocked' is not a cause code" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = sure\nsummary = s\n"
		  "remedy = r\n", "confidence 'sure'" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = high\nsummary = s\n",
		  "needs remedy" },
		{ "[verdict \"rdns/\"]\ncause = rdns_missing\nconfidence = high\nsummary = s\n"
		  "remedy = r\n", "check/finding_code" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = high\nsummary = s\n"
		  "remedy =\n", "needs remedy" },
		{ "[verdict \"rdns/x/not_a_cause\"]\ncause = rdns_missing\nconfidence = high\n"
		  "summary = s\nremedy = r\n", "check/finding_code/cause_code" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = high\nsummary = s\n"
		  "remedy = r\nweight = 3\n", "r.conf:6:" },
		{ "[verdict]\ncombine_low = many\n", "r.conf:2:" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct conf *conf = conf_new();
		struct error err;

		cr_assert_eq(conf_load_file(conf, "r.conf", bad[i].text, &err), 0, "%s", err.msg);
		cr_expect_null(verdict_rules_load(conf, &err), "case %zu loaded", i);
		cr_expect_not_null(strstr(err.msg, bad[i].want), "case %zu: '%s'", i, err.msg);
		conf_free(conf);
	}
}

Test(verdict, rule_maps_finding_with_placeholders)
{
	struct fx f;
	struct report *rep;
	const struct cause *c;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	rep = fx_report(&f, &ops_dnsbl);
	report_add(rep, "listed", SEV_FAIL, json_pack("{s:s,s:s,s:[s,s]}", "zone", "zen.example",
	    "subject", "192.0.2.2", "codes", "127.0.0.2", "127.0.0.4"), "listed");
	rep = fx_report(&f, &ops_rdns);
	report_add(rep, "ptr_missing", SEV_FAIL, NULL, "no ptr");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_HIGH);
	cr_expect_str_eq(c->summary, "192.0.2.2 is listed on zen.example (127.0.0.2, 127.0.0.4).");
	cr_expect_str_eq(c->remedy, "Ask for removal at the list's website.", "the default");
	c = find_cause(&f.v, "rdns_missing");
	cr_assert_not_null(c);
	cr_expect_str_eq(c->summary, "192.0.2.2 has no PTR, seen at (unknown).",
	    "{ip} from the target, an unknown field said so");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(c->evidence, 0),
	    "finding")), "ptr_missing");
	fx_release(&f);
}

Test(verdict, later_rule_with_the_same_label_replaces)
{
	static const char extra[] =
	    "[verdict \"rdns/ptr_missing\"]\ncause = policy_other\nconfidence = low\n"
	    "summary = local.\nremedy = local.\n";
	struct fx f;

	fx_init(&f, extra);
	report_add(fx_report(&f, &ops_rdns), "ptr_missing", SEV_FAIL, NULL, "no ptr");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 1);
	cr_expect_str_eq(code_of(&f.v, 0), "policy_other");
	cr_expect_eq(f.v.status, VERDICT_AT_RISK);
	fx_release(&f);
}

Test(verdict, finding_confidence_lowers_never_raises)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_report(&f, &ops_dkim);
	report_add(rep, "maybe", SEV_FAIL, json_pack("{s:s}", "confidence", "low"), "maybe");
	rep = fx_report(&f, &ops_spf);
	report_add(rep, "softfail", SEV_WARN, json_pack("{s:s}", "confidence", "high"), "sf");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "dkim_fail")->confidence, CONF_LOW);
	cr_expect_eq(find_cause(&f.v, "spf_fail")->confidence, CONF_LOW);
	cr_expect_eq(f.v.status, VERDICT_AT_RISK);
	fx_release(&f);
}

Test(verdict, several_weak_signals_make_a_medium_cause)
{
	struct fx f;
	const struct cause *c;

	fx_init(&f, NULL);
	report_add(fx_report(&f, &ops_spf), "none", SEV_WARN, NULL, "no spf");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "unauthenticated")->confidence, CONF_LOW, "one alone");
	report_add(f.reps[0], "none", SEV_WARN, NULL, "the same signal again");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "unauthenticated")->confidence, CONF_LOW,
	    "the same finding twice is one signal");
	report_add(fx_report(&f, &ops_dkim), "none", SEV_WARN, NULL, "no dkim");
	fx_build(&f);
	c = find_cause(&f.v, "unauthenticated");
	cr_expect_eq(c->confidence, CONF_MEDIUM, "two distinct weak signals");
	cr_expect_eq(json_array_size(c->evidence), 3);
	cr_expect_eq(f.v.status, VERDICT_AT_RISK, "medium is still only at risk");
	fx_release(&f);

	fx_init(&f, "[verdict]\ncombine_low = 0\n");
	report_add(fx_report(&f, &ops_spf), "none", SEV_WARN, NULL, "no spf");
	report_add(fx_report(&f, &ops_dkim), "none", SEV_WARN, NULL, "no dkim");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "unauthenticated")->confidence, CONF_LOW, "disabled");
	fx_release(&f);
}

Test(verdict, errored_check_lowers_and_makes_inconclusive)
{
	struct fx f;
	struct report *rep;
	const struct cause *c;

	fx_init(&f, NULL);
	rep = fx_report(&f, &ops_rdns);
	report_add(rep, "ptr_generic", SEV_WARN, json_pack("{s:s}", "ptr", "dsl-1.isp.test"),
	    "generic");
	report_add(rep, "fcrdns_lookup_failed", SEV_ERROR, NULL, "the A lookup timed out");
	fx_build(&f);
	c = find_cause(&f.v, "rdns_missing");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_LOW, "medium lowered by the error");
	cr_expect(json_is_string(json_object_get(json_array_get(c->evidence, 0), "note")));
	cr_expect_eq(f.v.status, VERDICT_INCONCLUSIVE);
	cr_assert_not_null(f.v.note);
	cr_expect_not_null(strstr(f.v.note, "rdns (the A lookup timed out)"), "%s", f.v.note);
	cr_expect_eq(gate_exit_code(f.v.status, FAIL_ON_INCONCLUSIVE), 3);
	fx_release(&f);
}

Test(verdict, refused_lists_are_never_a_listing_nor_clean)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	rep = fx_report(&f, &ops_dnsbl);
	report_add(rep, "query_refused", SEV_ERROR, json_pack("{s:s}", "zone", "zen.example"),
	    "zen.example refuses queries from this resolver");
	dnsbl_list(rep, "zen.example", DNSBL_STATUS_REFUSED, NULL);
	report_add(fx_report(&f, &ops_spf), "pass", SEV_INFO, NULL, "pass");
	fx_build(&f);
	cr_expect_eq(f.v.ncauses, 0, "an error is not evidence");
	cr_expect_eq(f.v.status, VERDICT_INCONCLUSIVE);
	cr_expect_neq(gate_exit_code(f.v.status, FAIL_ON_INCONCLUSIVE), 0);
	cr_expect_neq(gate_exit_code(f.v.status, FAIL_ON_INCONCLUSIVE), 2);
	fx_release(&f);
}

/* A "not_checked" entry in rep's data. */
static void
not_checked(struct report *rep, const char *zone, const char *status, const char *reason,
    const char *fix)
{
	json_t *arr = json_object_get(report_data(rep), "not_checked");

	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(report_data(rep), "not_checked", arr);
	}
	json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "zone", zone, "status", status,
	    "reason", reason, "fix", fix));
}

Test(verdict, lists_not_checked_are_named_with_their_fix_whatever_the_status)
{
	struct fx f;
	struct report *dnsbl, *dbl;

	fx_init(&f, NULL);
	dnsbl = fx_report(&f, &ops_dnsbl);
	report_add(dnsbl, "query_refused", SEV_WARN, NULL, "refused");
	not_checked(dnsbl, "zen.example", "refused", "public resolver", "use your own");
	not_checked(dnsbl, "b.example", "refused", "over quota", "wait");
	dbl = fx_report(&f, &ops_dkim);
	not_checked(dbl, "dbl.example", "refused", "public resolver", "use your own");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_CLEAN, "a warning of a list not checked is no cause");
	cr_assert_not_null(f.v.note);
	/* one reason and fix, one group: the zones together */
	cr_expect_str_eq(f.v.note, "lists not checked: zen.example, dbl.example (refused: "
	    "public resolver; to check them: use your own); b.example (refused: over quota; "
	    "to check them: wait)");
	fx_release(&f);

	/* inconclusive for another reason: both said */
	fx_init(&f, NULL);
	dnsbl = fx_report(&f, &ops_dnsbl);
	not_checked(dnsbl, "zen.example", "skipped", "--skip-list", "drop it");
	report_set_deadline(fx_report(&f, &ops_rdns));
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_INCONCLUSIVE);
	cr_expect_str_eq(f.v.note, "checks that could not finish: rdns (deadline); lists not "
	    "checked: zen.example (skipped: --skip-list; to check them: drop it)");
	fx_release(&f);
}

Test(verdict, high_cause_stays_blocked_despite_errors_and_ignore_error)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	report_add(fx_report(&f, &ops_rdns), "ptr_missing", SEV_FAIL, NULL, "no ptr");
	rep = fx_report(&f, &ops_spf);
	report_add(rep, "lookup_failed", SEV_ERROR, NULL, "timeout");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	cr_expect_null(f.v.note);
	fx_release(&f);

	fx_init(&f, "[verdict]\nignore_error = spf\n");
	report_add(fx_report(&f, &ops_spf), "lookup_failed", SEV_ERROR, NULL, "timeout");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_CLEAN, "an ignored check's error");
	fx_release(&f);
}

Test(verdict, bounce_list_confirmed_by_dnsbl_is_high_with_delist_url)
{
	struct fx f;
	struct report *rep;
	const struct cause *c;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	/* a 4xx bounce is at most medium by itself */
	fx_bounce(&f, "450 4.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "ip_blocklisted")->confidence, CONF_MEDIUM);
	rep = fx_report(&f, &ops_dnsbl);
	dnsbl_list(rep, "zen.spamhaus.org", DNSBL_STATUS_LISTED,
	    "https://check.spamhaus.example/192.0.2.2");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_HIGH);
	cr_expect(evidence_has(c, "bounce") && evidence_has(c, "dnsbl"));
	cr_expect_not_null(strstr(c->remedy, "https://check.spamhaus.example/192.0.2.2"), "%s",
	    c->remedy);
	cr_expect_not_null(strstr(c->summary, "lists 192.0.2.2"), "%s", c->summary);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	fx_release(&f);
}

Test(verdict, bounce_list_same_operator_counts_as_confirmed)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_bounce(&f, "451 4.7.1 Client host [192.0.2.2] blocked using sbl.spamhaus.org");
	dnsbl_list(fx_report(&f, &ops_dnsbl), "zen.spamhaus.org", DNSBL_STATUS_LISTED, NULL);
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "ip_blocklisted")->confidence, CONF_HIGH);
	fx_release(&f);
}

Test(verdict, an_ip_listing_does_not_confirm_a_domain_list_of_the_same_operator)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_bounce(&f, "554 5.7.1 Service unavailable; Sender address [a@example.test] blocked "
	    "using dbl.spamhaus.org");
	dnsbl_list(fx_report(&f, &ops_dnsbl), "zen.spamhaus.org", DNSBL_STATUS_LISTED, NULL);
	fx_build(&f);
	cr_expect_null(find_cause(&f.v, "ip_blocklisted"), "zen lists the IP, not the domain");
	cr_expect_not_null(find_cause(&f.v, "domain_blocklisted"));
	fx_release(&f);
}

/* The bounce named list, which does not list the IP now: delisted since, or a private list. */
static void
expect_not_listed_now(const struct verdict *v, const char *list)
{
	const struct cause *c = find_cause(v, "ip_blocklisted");
	char *said = xasprintf("%s does not list it now", list);

	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_MEDIUM, "high from the bounce, not confirmed now");
	cr_expect_not_null(strstr(c->summary, said), "%s", c->summary);
	cr_expect_not_null(strstr(c->summary, "private list"), "%s", c->summary);
	cr_expect_not_null(strstr(bounce_note(c), said), "%s", bounce_note(c));
	cr_expect_eq(v->status, VERDICT_BLOCKED_LIKELY, "the 554 itself is a fact");
	free(said);
}

Test(verdict, bounce_list_not_listing_now_says_delisted_or_private)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_bounce(&f, "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using "
	    "bl.spamcop.net");
	dnsbl_list(fx_report(&f, &ops_dnsbl), "bl.spamcop.net", DNSBL_STATUS_NOT_LISTED, NULL);
	fx_build(&f);
	expect_not_listed_now(&f.v, "bl.spamcop.net");
	fx_release(&f);

	/* the same from the real check's report: its not_listed status is read */
	fx_init(&f, NULL);
	fx_bounce(&f, "554 5.7.1 Client host [192.0.2.1] blocked using bl.spamcop.net");
	fx_dnsbl(&f, "192.0.2.1");
	fx_build(&f);
	expect_not_listed_now(&f.v, "bl.spamcop.net");
	fx_release(&f);
}

Test(verdict, bounce_list_refused_or_unchecked_is_noted_not_raised)
{
	struct fx f;
	const struct cause *c;

	fx_init(&f, NULL);
	fx_bounce(&f, "451 4.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org");
	dnsbl_list(fx_report(&f, &ops_dnsbl), "zen.spamhaus.org", DNSBL_STATUS_REFUSED, NULL);
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_expect_eq(c->confidence, CONF_MEDIUM);
	cr_expect_not_null(strstr(bounce_note(c), "could not be asked"), "%s", bounce_note(c));
	fx_release(&f);

	fx_init(&f, NULL);
	fx_bounce(&f, "554 5.7.1 Client host [192.0.2.2] blocked using bl.private.test");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_expect_not_null(strstr(bounce_note(c), "give --ip"), "%s", bounce_note(c));
	fx_release(&f);
}

Test(verdict, user_unknown_points_at_recipient_not_at_ip)
{
	struct fx f;
	struct report *rep;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.4", &(struct error){ "" }), 0);
	rep = fx_report(&f, &ops_rdns);
	report_add(rep, "ptr_missing", SEV_FAIL, NULL, "no ptr");
	fx_bounce(&f, "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown "
	    "in virtual mailbox table");
	fx_build(&f);
	cr_assert_geq(f.v.ncauses, 2);
	cr_expect_str_eq(code_of(&f.v, 0), "recipient_unknown", "the bounce explains this 550");
	cr_expect_str_eq(code_of(&f.v, 1), "rdns_missing");
	cr_expect_not_null(strstr(bounce_note(&f.v.causes[0]), "--to"));
	cr_expect_not_null(strstr(f.v.causes[0].summary, "not about your IP"), "%s",
	    f.v.causes[0].summary);

	/* the recipient check ran and found the domain fine: it is the mailbox */
	report_add(fx_report(&f, &ops_recipient), "domain_ok", SEV_INFO, NULL, "accepts mail");
	fx_build(&f);
	cr_expect_not_null(strstr(bounce_note(find_cause(&f.v, "recipient_unknown")),
	    "this mailbox"));
	fx_release(&f);
}

Test(verdict, a_refusal_corroborated_by_a_live_check_is_raised)
{
	static const char extra[] =
	    "[verdict \"spf/fail_weak\"]\ncause = spf_fail\nconfidence = medium\n"
	    "summary = s.\nremedy = r.\n"
	    "[verdict \"bounce/bounce_classified/spf_fail\"]\ncause = spf_fail\n"
	    "confidence = medium\nsummary = s.\nremedy = r.\n";
	struct fx f;

	fx_init(&f, extra);
	fx_bounce(&f, "550 5.7.23 SPF validation failed");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "spf_fail")->confidence, CONF_MEDIUM);
	report_add(fx_report(&f, &ops_spf), "fail_weak", SEV_FAIL, NULL, "spf fails");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "spf_fail")->confidence, CONF_HIGH,
	    "the receiver refused for it and the check sees it");
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	fx_release(&f);
}

Test(verdict, transient_bounce_is_at_risk_not_blocked)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_bounce(&f, "450 4.2.0 <a@example.test>: Recipient address rejected: Greylisted, see "
	    "http://postgrey.example.test/help/example.test.html");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 1);
	cr_expect_str_eq(code_of(&f.v, 0), "greylisted");
	cr_expect_eq(f.v.status, VERDICT_AT_RISK);
	cr_expect_eq(gate_exit_code(f.v.status, FAIL_ON_INCONCLUSIVE), 0);
	cr_expect_eq(gate_exit_code(f.v.status, FAIL_ON_AT_RISK), 1);
	fx_release(&f);
}

Test(verdict, unrecognized_bounce_is_a_low_cause_and_success_is_clean)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_bounce(&f, "something went wrong");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 1);
	cr_expect_str_eq(code_of(&f.v, 0), "policy_other");
	cr_expect_eq(f.v.causes[0].confidence, CONF_LOW);
	fx_release(&f);

	fx_init(&f, NULL);
	fx_bounce(&f, "250 2.0.0 Ok: queued as ABC123");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_CLEAN);
	fx_release(&f);
}

/* Input for one cause: a receiver's reply, or a finding of a check that a shipped rule maps. */
struct cause_input {
	const char *cause;
	const char *bounce;	/* NULL: the finding below */
	const char *check;
	const char *finding;
	enum finding_severity sev;
	const char *data;	/* the finding's data, JSON */
};

static const struct cause_input cause_inputs[] = {
	{ .cause = "ip_blocklisted",
	  .bounce = "554 5.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org" },
	{ .cause = "domain_blocklisted",
	  .bounce = "554 5.7.1 Service unavailable; Sender address "
	  "[a@example.test] blocked using dbl.spamhaus.org" },
	{ .cause = "rdns_missing",
	  .bounce = "550 5.7.25 Client host rejected: cannot find your reverse hostname" },
	{ .cause = "helo_invalid",
	  .bounce = "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified "
	  "hostname" },
	{ .cause = "spf_fail",
	  .bounce = "550 5.7.23 SPF validation failed for 192.0.2.2" },
	{ .cause = "dkim_fail",
	  .bounce = "550 5.7.20 No passing DKIM signature found" },
	{ .cause = "dmarc_fail",
	  .bounce = "550 5.7.1 rejected by DMARC policy for example.test" },
	{ .cause = "unauthenticated",
	  .bounce = "550 5.7.26 This mail is unauthenticated" },
	{ .cause = "sender_domain_invalid",
	  .bounce = "553 5.1.8 <a@nx.test>... Domain of sender address "
	  "a@nx.test does not exist" },
	{ .cause = "sender_verify_failed",
	  .bounce = "550 Sender verify failed" },
	{ .cause = "recipient_unknown",
	  .bounce = "550 5.1.1 <a@example.test>: user unknown" },
	{ .cause = "recipient_disabled",
	  .bounce = "550 5.2.1 The email account that you tried to reach is "
	  "disabled" },
	{ .cause = "mailbox_full",
	  .bounce = "552 5.2.2 Mailbox full" },
	{ .cause = "relay_denied",
	  .bounce = "554 5.7.1 <a@example.test>: Relay access denied" },
	{ .cause = "content_rejected",
	  .bounce = "550 5.7.350 Remote server returned message detected as spam" },
	{ .cause = "message_too_large",
	  .bounce = "552 5.3.4 Message size exceeds fixed limit" },
	{ .cause = "rate_limited",
	  .bounce = "421 4.7.0 Error: too many connections from 192.0.2.2" },
	{ .cause = "greylisted",
	  .bounce = "451 4.7.1 Greylisting in action, please come back later" },
	{ .cause = "policy_other",
	  .bounce = "550 5.7.1 Message rejected due to local policy" },
	{ .cause = "deferred",
	  .bounce = "421 4.3.2 Service not available, closing transmission channel" },
	{ .cause = "spf_lookups_near_limit",
	  .check = "spf", .finding = "spf_lookups_near_limit", .sev = SEV_WARN,
	  .data = 	  "{\"domain\": \"near.spf.test\", \"lookups\": 8, \"limit\": 10}" },
	{ .cause = "dkim_key_weak",
	  .check = "dkim", .finding = "key_weak", .sev = SEV_WARN,
	  .data = 	  "{\"name\": \"sel1024._domainkey.mailer.test\", \"key_bits\": 1024, "
	  "\"recommended\": 2048}" },
	{ .cause = "rdns_generic",
	  .check = "rdns", .finding = "ptr_generic", .sev = SEV_WARN,
	  .data = 	  "{\"ptr\": \"dsl-192-0-2-4.pool.isp.test\"}" },
	{ .cause = "record_style",
	  .check = "spf", .finding = "spf_ptr_used", .sev = SEV_WARN,
	  .data = 	  "{\"domain\": \"ptr.spf.test\"}" },	{ .cause = "recipient_server_down",
	  .bounce = "connect to mx.example.test[192.0.2.25]:25: Connection refused" },
	{ .cause = "port25_blocked",
	  .bounce = "550 5.7.1 Outbound port 25 is blocked for this network" },
	{ .cause = "connection_blocked",
	  .bounce = "554 No SMTP service here" },
};

/* Every cause code from some input, through the shipped rules, in words without holes. */
Test(verdict, every_cause_code_is_producible)
{
	size_t j;
	int i;

	for (i = CAUSE_NONE + 1; i < CAUSE_END; i++) {
		bool found = false;

		for (j = 0; j < ARRAY_SIZE(cause_inputs); j++) {
			const struct cause_input *in = &cause_inputs[j];
			struct fx f;

			if (strcmp(in->cause, cause_name(i)) != 0)
				continue;
			found = true;
			fx_init_shipped(&f);
			cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
			if (in->bounce != NULL)
				fx_bounce(&f, in->bounce);
			else
				report_add(fx_report(&f, check_find(in->check)), in->finding, in->sev,
				    test_json(in->data), "%s", in->finding);
			fx_build(&f);
			cr_assert_geq(f.v.ncauses, 1, "%s: no cause", in->cause);
			cr_expect_str_eq(code_of(&f.v, 0), in->cause);
			cr_expect_neq(f.v.status, VERDICT_CLEAN, "%s", in->cause);
			cr_expect_neq(f.v.status, VERDICT_INCONCLUSIVE, "%s", in->cause);
			if (cause_is_advice((enum cause_code)i))
				cr_expect_leq(f.v.causes[0].confidence, CONF_MEDIUM, "%s", in->cause);
			cr_expect(strlen(f.v.causes[0].summary) > 20 &&
			    strstr(f.v.causes[0].summary, "{") == NULL &&
			    strstr(f.v.causes[0].summary, "(unknown)") == NULL, "%s: summary '%s'",
			    in->cause, f.v.causes[0].summary);
			cr_expect(strlen(f.v.causes[0].remedy) > 20 &&
			    strstr(f.v.causes[0].remedy, "{") == NULL &&
			    strstr(f.v.causes[0].remedy, "(unknown)") == NULL, "%s: remedy '%s'",
			    in->cause, f.v.causes[0].remedy);
			fx_release(&f);
		}
		cr_expect(found, "no input for cause %s", cause_name(i));
	}
}

/* Each reply alone: a 5xx is blocked (exit 2), a 4xx never is. */
Test(verdict, a_permanent_refusal_is_blocked_and_a_temporary_one_never)
{
	static const struct {
		const char *reply;
		enum verdict_status status;
	} each[] = {
		{ "550 Blocked", VERDICT_BLOCKED_LIKELY },
		{ "554 5.7.1 Service unavailable", VERDICT_BLOCKED_LIKELY },
		{ "550 sorry, no", VERDICT_BLOCKED_LIKELY },
		{ "552 5.2.2 Mailbox full", VERDICT_BLOCKED_LIKELY },
		{ "451 4.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org",
		  VERDICT_AT_RISK },
		{ "450 4.7.1 Blocked", VERDICT_AT_RISK },
		{ "421 4.3.2 Service not available, closing transmission channel", VERDICT_AT_RISK },
		{ "451 4.7.1 Greylisting in action, please come back later", VERDICT_AT_RISK },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(each); i++) {
		struct fx f;

		fx_init_shipped(&f);
		fx_bounce(&f, each[i].reply);
		fx_build(&f);
		cr_expect_eq(f.v.status, each[i].status, "'%s': %s", each[i].reply,
		    verdict_status_name(f.v.status));
		cr_expect_eq(gate_exit_code(f.v.status, FAIL_ON_INCONCLUSIVE),
		    each[i].status == VERDICT_BLOCKED_LIKELY ? 2 : 0, "'%s'", each[i].reply);
		if (each[i].status == VERDICT_AT_RISK)
			cr_expect_leq(f.v.causes[0].confidence, CONF_MEDIUM, "'%s'", each[i].reply);
		fx_release(&f);
	}
}

/* Skipped reports for every registered check but the bounce, as the runner makes them. */
static void
fx_skip_all(struct fx *f)
{
	size_t i;

	for (i = 0; i < check_registry_len; i++) {
		const char *missing = check_missing_input(check_registry[i], &f->t);

		if (strcmp(check_registry[i]->name, "bounce") != 0 && missing != NULL)
			report_skip(fx_report(f, check_registry[i]), "needs %s", missing);
	}
}

Test(verdict, a_refusal_without_reason_says_so_and_what_would_run)
{
	struct fx f;
	const struct cause *c;

	fx_init_shipped(&f);
	fx_bounce(&f, "550 Blocked");
	fx_skip_all(&f);
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 1);
	c = &f.v.causes[0];
	cr_expect_str_eq(code_of(&f.v, 0), "policy_other");
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	cr_expect_not_null(strstr(c->summary, "gives no reason"), "%s", c->summary);
	cr_expect_not_null(strstr(c->summary, "\"550 Blocked\""), "%s", c->summary);
	/* the checks that could not run, by the option that runs them */
	cr_expect_not_null(strstr(c->summary, "--ip (rdns, dnsbl"), "%s", c->summary);
	cr_expect_not_null(strstr(c->summary, "--from ("), "%s", c->summary);
	cr_expect_not_null(strstr(c->summary, "--helo ("), "%s", c->summary);
	cr_expect_not_null(strstr(c->summary, "--message ("), "%s", c->summary);
	cr_expect_not_null(strstr(c->remedy, "--ip, --helo, --from, --message"), "%s", c->remedy);
	fx_release(&f);

	/* with every input given and nothing found, no input is asked for */
	fx_init_shipped(&f);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.1", &(struct error){ "" }), 0);
	fx_bounce(&f, "550 Blocked");
	report_add(fx_report(&f, &ops_rdns), "fcrdns_ok", SEV_INFO, NULL, "ok");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	cr_expect_null(strstr(f.v.causes[0].summary, "--ip"), "%s", f.v.causes[0].summary);
	fx_release(&f);
}

Test(verdict, a_refusal_without_reason_ranks_after_what_explains_it)
{
	struct fx f;

	fx_init_shipped(&f);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.4", &(struct error){ "" }), 0);
	fx_bounce(&f, "550 Blocked");
	report_add(fx_report(&f, &ops_rdns), "ptr_generic", SEV_WARN,
	    json_pack("{s:s}", "ptr", "dsl-192-0-2-4.pool.isp.test"), "generic");
	fx_build(&f);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY, "the refusal is a fact");
	cr_assert_eq(f.v.ncauses, 2);
	cr_expect_str_eq(code_of(&f.v, 0), "rdns_generic", "what the checks see explains it");
	cr_expect_str_eq(code_of(&f.v, 1), "policy_other");
	cr_expect_null(strstr(f.v.causes[1].summary, "no check that ran"), "%s",
	    f.v.causes[1].summary);
	cr_expect_not_null(strstr(bounce_note(&f.v.causes[1]), "gives no reason"));
	fx_release(&f);
}

Test(verdict, a_temporary_reply_is_not_raised_by_a_live_check)
{
	static const char extra[] =
	    "[verdict \"spf/fail_weak\"]\ncause = spf_fail\nconfidence = medium\n"
	    "summary = s.\nremedy = r.\n";
	struct fx f;

	fx_init(&f, extra);
	fx_bounce(&f, "450 4.7.23 SPF validation failed");
	report_add(fx_report(&f, &ops_spf), "fail_weak", SEV_FAIL, NULL, "spf fails");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "spf_fail")->confidence, CONF_MEDIUM);
	cr_expect_eq(f.v.status, VERDICT_AT_RISK, "a retry may succeed");
	fx_release(&f);
}

Test(verdict, a_plan_rewords_the_other_causes_remedies)
{
	static const char plan[] =
	    "[verdict \"rdns/relay\"]\ncause = ip_blocklisted\nconfidence = high\n"
	    "summary = end-user space.\nremedy = Relay through the smarthost.\nplan = smarthost\n"
	    "[verdict \"spf/direct\"]\ncause = spf_fail\nconfidence = medium\n"
	    "summary = s.\nremedy = Add ip4:{ip} to SPF.\n"
	    "remedy_under = smarthost Authorise the smarthost's include for {ip|you}.\n"
	    "[verdict \"dkim/other\"]\ncause = dkim_fail\nconfidence = medium\n"
	    "summary = d.\nremedy = Fix the key.\n";
	struct fx f;

	fx_init(&f, plan);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.7", &(struct error){ "" }), 0);
	report_add(fx_report(&f, &ops_spf), "direct", SEV_FAIL, NULL, "spf");
	report_add(fx_report(&f, &ops_dkim), "other", SEV_FAIL, NULL, "dkim");
	fx_build(&f);
	cr_expect_str_eq(find_cause(&f.v, "spf_fail")->remedy, "Add ip4:192.0.2.7 to SPF.",
	    "no plan: the cause's own remedy");

	report_add(fx_report(&f, &ops_rdns), "relay", SEV_FAIL, NULL, "relay");
	fx_build(&f);
	cr_expect_str_eq(code_of(&f.v, 0), "ip_blocklisted");
	cr_expect_str_eq(find_cause(&f.v, "spf_fail")->remedy,
	    "Authorise the smarthost's include for 192.0.2.7.");
	cr_expect_str_eq(find_cause(&f.v, "dkim_fail")->remedy, "Fix the key.",
	    "a cause with nothing under the plan keeps its remedy");
	fx_release(&f);
}

Test(verdict, a_plan_of_a_low_cause_is_no_plan)
{
	static const char plan[] =
	    "[verdict \"rdns/relay\"]\ncause = rdns_generic\nconfidence = low\n"
	    "summary = maybe end-user space.\nremedy = Relay.\nplan = smarthost\n"
	    "[verdict \"spf/direct\"]\ncause = spf_fail\nconfidence = high\n"
	    "summary = s.\nremedy = Add ip4:{ip} to SPF.\n"
	    "remedy_under = smarthost Authorise the smarthost.\n";
	struct fx f;

	fx_init(&f, plan);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.7", &(struct error){ "" }), 0);
	report_add(fx_report(&f, &ops_spf), "direct", SEV_FAIL, NULL, "spf");
	report_add(fx_report(&f, &ops_rdns), "relay", SEV_WARN, NULL, "relay");
	fx_build(&f);
	cr_expect_str_eq(find_cause(&f.v, "spf_fail")->remedy, "Add ip4:192.0.2.7 to SPF.");
	fx_release(&f);
}

Test(verdict, advice_never_goes_above_medium)
{
	/* a refusal for it and a live check seeing it would raise any other cause to high */
	static const char extra[] =
	    "[verdict \"bounce/bounce_classified/helo_invalid\"]\ncause = record_style\n"
	    "confidence = medium\nsummary = s.\nremedy = r.\n"
	    "[verdict \"spf/style\"]\ncause = record_style\nconfidence = medium\n"
	    "summary = s.\nremedy = r.\n";
	struct fx f;

	fx_init(&f, extra);
	fx_bounce(&f, "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified "
	    "hostname");
	report_add(fx_report(&f, &ops_spf), "style", SEV_WARN, NULL, "style");
	fx_build(&f);
	cr_expect_eq(find_cause(&f.v, "record_style")->confidence, CONF_MEDIUM);
	fx_release(&f);
}

Test(verdict, bad_plan_reply_and_advice_rules_name_the_file_and_line)
{
	static const struct {
		const char *text;
		const char *says;
	} each[] = {
		{ "[verdict \"rdns/x\"]\ncause = rdns_generic\nconfidence = high\nremedy = r\n",
		  "rdns_generic is advice" },
		{ "[verdict \"reply/refused\"]\ncause = policy_other\nconfidence = low\n"
		  "remedy = r\n", "reply/refused_unexplained and reply/deferred" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = low\nremedy = r\n"
		  "remedy_under = smarthost\n", "remedy_under is a plan's name and the remedy" },
		{ "[verdict \"rdns/x\"]\ncause = rdns_missing\nconfidence = low\nremedy = r\n"
		  "plan = smart host\n", "plan 'smart host' is not one word" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(each); i++) {
		struct conf *conf = conf_new();
		struct error err = { "" };

		cr_assert_eq(conf_load_file(conf, "bad.conf", each[i].text, &err), 0, "%s", err.msg);
		cr_expect_null(verdict_rules_load(conf, &err), "case %zu loaded", i);
		cr_expect_not_null(strstr(err.msg, "bad.conf:"), "case %zu: %s", i, err.msg);
		cr_expect_not_null(strstr(err.msg, each[i].says), "case %zu: %s", i, err.msg);
		conf_free(conf);
	}
}

Test(verdict, ranking_is_confidence_then_the_receivers_word)
{
	struct fx f;

	fx_init(&f, NULL);
	report_add(fx_report(&f, &ops_rdns), "ptr_generic", SEV_WARN, NULL, "generic");
	fx_bounce(&f, "552 5.2.2");
	report_add(fx_report(&f, &ops_spf), "fail", SEV_FAIL, NULL, "spf fails");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 3);
	cr_expect_str_eq(code_of(&f.v, 0), "spf_fail", "high first");
	cr_expect_str_eq(code_of(&f.v, 1), "mailbox_full", "medium, said by the receiver");
	cr_expect_str_eq(code_of(&f.v, 2), "rdns_missing");
	fx_release(&f);
}

Test(verdict, failure_without_a_rule_counts_by_its_checks_default)
{
	static const char extra[] =
	    "[verdict \"dnsbl\"]\ncause = ip_blocklisted\nconfidence = high\n"
	    "remedy = Ask {ip} to be delisted.\n"
	    "[verdict \"*\"]\ncause = policy_other\nconfidence = medium\nremedy = Read on.\n";
	struct fx f;
	const struct cause *c;

	fx_init(&f, extra);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	report_add(fx_report(&f, &ops_dnsbl), "something", SEV_FAIL, NULL, "listed somewhere");
	report_add(fx_report(&f, &ops_rdns), "odd_ptr", SEV_FAIL, NULL, "an odd PTR");
	report_add(fx_report(&f, &ops_spf), "odd_record", SEV_WARN, NULL, "an odd record");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 2, "the warning without a rule is no cause");
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c, "the dnsbl check's own default");
	cr_expect_eq(c->confidence, CONF_HIGH);
	cr_expect_str_eq(c->summary, "listed somewhere", "no summary: the finding's message");
	cr_expect_str_eq(c->remedy, "Ask 192.0.2.2 to be delisted.");
	c = find_cause(&f.v, "policy_other");
	cr_assert_not_null(c, "rdns has no default here: the one for every check");
	cr_expect_eq(c->confidence, CONF_MEDIUM);
	cr_expect_str_eq(c->summary, "an odd PTR");
	cr_expect_str_eq(c->remedy, "Read on.");
	fx_release(&f);
}

Test(verdict, without_rules_a_failure_is_policy_other_in_its_own_words)
{
	struct report *reps[2] = { report_new(&ops_dnsbl), report_new(&ops_spf) };
	struct verdict v;

	report_add(reps[0], "something", SEV_FAIL, NULL, "listed somewhere");
	report_add(reps[1], "softfail", SEV_WARN, NULL, "spf softfails");
	verdict_build_rules(&v, NULL, NULL, reps, 2);
	cr_assert_eq(v.ncauses, 1);
	cr_expect_str_eq(code_of(&v, 0), "policy_other");
	cr_expect_eq(v.causes[0].confidence, CONF_HIGH);
	cr_expect_str_eq(v.causes[0].summary, "listed somewhere");
	cr_expect_gt(strlen(v.causes[0].remedy), 0);
	cr_expect_eq(v.status, VERDICT_BLOCKED_LIKELY);
	verdict_release(&v);
	verdict_release(&v);
	report_free(reps[0]);
	report_free(reps[1]);
}

Test(verdict, warning_without_a_rule_is_not_a_cause)
{
	struct fx f;

	fx_init(&f, NULL);
	report_add(fx_report(&f, &ops_dnsbl), "selftest_failed", SEV_WARN, NULL,
	    "the list does not list its test point");
	fx_build(&f);
	cr_expect_eq(f.v.ncauses, 0, "a list's broken self-test is no blocklisting");
	cr_expect_eq(f.v.status, VERDICT_CLEAN);
	fx_release(&f);
}

Test(verdict, precedence_puts_the_enforced_cause_before_its_explanations)
{
	static const char extra[] =
	    "[verdict]\nprecedence = dmarc_fail\nprecedence = spf_fail\n"
	    "[verdict \"dmarc/dmarc_fail\"]\ncause = dmarc_fail\nconfidence = high\n"
	    "summary = dmarc.\nremedy = Align.\n";
	static const struct check_ops ops_dmarc = { .name = "dmarc" };
	struct fx f;

	fx_init(&f, extra);
	report_add(fx_report(&f, &ops_spf), "fail", SEV_FAIL, NULL, "spf fails");
	report_add(fx_report(&f, &ops_dmarc), "dmarc_fail", SEV_FAIL, NULL, "dmarc fails");
	fx_build(&f);
	cr_assert_eq(f.v.ncauses, 2);
	cr_expect_str_eq(code_of(&f.v, 0), "dmarc_fail");
	cr_expect_str_eq(code_of(&f.v, 1), "spf_fail");
	fx_release(&f);
}

Test(verdict, precedence_of_an_unknown_cause_is_a_config_error)
{
	struct conf *conf = conf_new();
	struct error err;

	cr_assert_eq(conf_load_file(conf, "x.conf", "[verdict]\nprecedence = spf_failed\n", &err), 0);
	cr_assert_null(verdict_rules_load(conf, &err));
	cr_expect(strstr(err.msg, "x.conf:2") != NULL, "%s", err.msg);
	conf_free(conf);
}

Test(verdict, bounce_confirmed_policy_listing_points_at_the_smarthost)
{
	struct fx f;
	struct report *rep;
	const struct cause *c;
	json_t *lists;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	fx_bounce(&f, "550 5.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org");
	rep = fx_report(&f, &ops_dnsbl);
	dnsbl_list(rep, "zen.spamhaus.org", DNSBL_STATUS_LISTED,
	    "https://check.spamhaus.example/192.0.2.2");
	lists = json_object_get(report_data(rep), "lists");
	json_object_set_new(json_array_get(lists, 0), "policy", json_true());
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_not_null(strstr(c->remedy, "port 587"), "%s", c->remedy);
	cr_expect_null(strstr(c->remedy, "stop what sent spam"), "%s", c->remedy);
	fx_release(&f);
}

Test(verdict, rule_for_an_unknown_check_is_a_config_error)
{
	struct conf *conf = conf_new();
	struct error err;

	cr_assert_eq(conf_load_file(conf, "typo.conf",
	    "[verdict \"rnds/ptr_missing\"]\ncause = rdns_missing\nconfidence = high\n"
	    "summary = s.\nremedy = r.\n", &err), 0);
	cr_assert_null(verdict_rules_load(conf, &err));
	cr_expect(strstr(err.msg, "typo.conf:1") != NULL && strstr(err.msg, "'rnds'") != NULL,
	    "%s", err.msg);
	conf_free(conf);
}

Test(verdict, the_real_dnsbl_report_confirms_the_list_a_bounce_names)
{
	struct fx f;
	const struct cause *c;
	const json_t *ev;
	size_t i, nzen = 0;

	fx_init(&f, NULL);
	/* a temporary reply is medium by itself: only the live listing makes it high */
	fx_bounce(&f, "450 4.7.1 Client host [203.0.113.7] blocked using zen.spamhaus.org");
	fx_dnsbl(&f, "203.0.113.7");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_HIGH, "the status and zone of the entry were read");
	cr_expect(evidence_has(c, "bounce"));
	json_array_foreach(c->evidence, i, ev)
		if (strstr(json_string_value(json_object_get(ev, "message")),
		    "the receiver named zen.spamhaus.org") != NULL)
			nzen++;
	cr_expect_eq(nzen, 1, "one confirmation, from the list the bounce named");
	ev = evidence_of_zone(c, "dnsbl", "zen.spamhaus.org");
	cr_assert_not_null(ev, "the list's entry is the evidence");
	cr_expect_str_eq(json_string_value(json_object_get(ev, "finding")), "policy_listed");
	cr_expect_not_null(strstr(c->summary, "zen.spamhaus.org lists 203.0.113.7"),
	    "the subject was read: %s", c->summary);
	cr_expect_not_null(strstr(c->remedy, "port 587"), "the PBL's policy flag was read: %s",
	    c->remedy);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	fx_release(&f);
}

Test(verdict, a_note_after_a_confirmed_list_lands_on_the_bounces_own_cause)
{
	struct fx f;
	const struct cause *c;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	/* the bounce's cause is the recipient; the lists it names are checked all the same */
	fx_bounce(&f, "550 5.1.1 <a@example.test>: user unknown; (your IP is in spamhaus sbl "
	    "and spamcop)");
	dnsbl_list(fx_report(&f, &ops_dnsbl), "zen.spamhaus.org", DNSBL_STATUS_LISTED, NULL);
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c, "zen.spamhaus.org lists the IP now");
	cr_expect_eq(c->confidence, CONF_HIGH);
	c = find_cause(&f.v, "recipient_unknown");
	cr_assert_not_null(c);
	cr_expect_not_null(strstr(bounce_note(c), "bl.spamcop.net is not among the lists"),
	    "the note after the confirmation: '%s'", bounce_note(c));
	fx_release(&f);
}

/* The SMTP probe's answer as the smtp check reports it: the classifier's data, the host asked. */
static void
fx_probe_answer(struct fx *f, const char *code, enum finding_severity sev, const char *reply)
{
	struct bounce_class cls;
	json_t *data;

	bounce_classify(f->bctx, reply, strlen(reply), &cls);
	data = bounce_class_json(&cls);
	json_object_set_new(data, "host", json_string("mx.example.test"));
	json_object_set_new(data, "stage", json_string("rcpt"));
	report_add(fx_report(f, &ops_smtp), code, sev, data, "mx.example.test answered: %s", reply);
	bounce_class_release(&cls);
}

Test(verdict, the_probes_answer_is_read_as_a_pasted_bounce_and_checked_against_the_lists)
{
	const struct cause *c;
	struct fx f;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	fx_probe_answer(&f, "probe_rejected", SEV_FAIL,
	    "554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using zen.spamhaus.org");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c, "the bounce's rules word the probe's answer");
	cr_expect_not_null(strstr(c->summary, "mx.example.test"), "%s", c->summary);
	cr_expect(evidence_has(c, "smtp"));
	dnsbl_list(fx_report(&f, &ops_dnsbl), "zen.spamhaus.org", DNSBL_STATUS_LISTED,
	    "https://check.spamhaus.example/192.0.2.2");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_HIGH);
	cr_expect(evidence_has(c, "smtp") && evidence_has(c, "dnsbl"),
	    "the named list confirmed by the live list check");
	cr_expect_not_null(strstr(c->summary, "lists 192.0.2.2"), "%s", c->summary);
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY);
	fx_release(&f);
}

Test(verdict, the_probes_temporary_answer_is_at_risk_not_blocked)
{
	struct fx f;

	fx_init(&f, NULL);
	fx_probe_answer(&f, "probe_deferred", SEV_WARN,
	    "450 4.2.0 <a@example.test>: Recipient address rejected: Greylisted");
	fx_build(&f);
	cr_expect_str_eq(code_of(&f.v, 0), "greylisted");
	cr_expect_eq(f.v.status, VERDICT_AT_RISK);
	fx_release(&f);
}

Test(verdict, a_refusal_of_another_client_than_the_sender_is_no_fact)
{
	struct fx f;

	fx_init(&f, NULL);
	cr_assert_eq(target_set_ip(&f.t, "--ip", "192.0.2.2", &(struct error){ "" }), 0);
	fx_probe_answer(&f, "probe_rejected", SEV_FAIL,
	    "554 5.7.1 Service unavailable; Client host [198.51.100.9] blocked using "
	    "zen.spamhaus.org");
	/* the smtp check marks an answer about the probe's own address so */
	json_object_set_new(report_finding(f.reps[0], 0)->data, "source_differs", json_true());
	json_object_set_new(report_finding(f.reps[0], 0)->data, "confidence", json_string("low"));
	fx_build(&f);
	cr_expect_str_eq(code_of(&f.v, 0), "ip_blocklisted");
	cr_expect_eq(f.v.causes[0].confidence, CONF_LOW);
	cr_expect_neq(f.v.status, VERDICT_BLOCKED_LIKELY, "the sender's own IP was not refused");
	fx_release(&f);
}

Test(verdict, listing_below_the_threshold_is_a_risk_not_a_block)
{
	struct fx f;
	const struct cause *c;

	/* 2001:db8:5::5 is on all.s5h.net only: weight 1, threshold 3 */
	fx_init(&f, NULL);
	fx_dnsbl(&f, "2001:db8:5::5");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_MEDIUM, "confidence %s", confidence_name(c->confidence));
	cr_expect_eq(f.v.status, VERDICT_AT_RISK, "status %s", verdict_status_name(f.v.status));
	fx_release(&f);

	/* 203.0.113.7 is on zen.spamhaus.org (weight 3): a block */
	fx_init(&f, NULL);
	fx_dnsbl(&f, "203.0.113.7");
	fx_build(&f);
	c = find_cause(&f.v, "ip_blocklisted");
	cr_assert_not_null(c);
	cr_expect_eq(c->confidence, CONF_HIGH, "confidence %s", confidence_name(c->confidence));
	cr_expect_eq(f.v.status, VERDICT_BLOCKED_LIKELY, "status %s",
	    verdict_status_name(f.v.status));
	fx_release(&f);
}

Test(verdict, a_temporary_reply_without_a_reason_is_a_deferral_at_the_rules_confidence)
{
	static const char *const replies[] = {
		"451 4.7.1 Try again later",
		"421 Service temporarily unavailable",
		"450 please retry",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(replies); i++) {
		struct fx f;
		const struct cause *c;

		fx_init_shipped(&f);
		fx_bounce(&f, replies[i]);
		fx_build(&f);
		c = find_cause(&f.v, "deferred");
		cr_assert_not_null(c, "%s: no deferred cause", replies[i]);
		/* checks.d/verdict.conf gives reply/deferred medium: the classifier's doubt is not the deferral's */
		cr_expect_eq(c->confidence, CONF_MEDIUM, "%s: %s", replies[i],
		    confidence_name(c->confidence));
		cr_expect_eq(f.v.status, VERDICT_AT_RISK, "%s: %s", replies[i],
		    verdict_status_name(f.v.status));
		fx_release(&f);
	}
}
