/* Tests of the dnsbl and dbl checks against the fixture lists, through the real engine and runner. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "checks/dnsbl/list.h"
#include "output/output.h"
#include "core/conf.h"
#include "src/runner.h"
#include "core/target.h"
#include "core/util.h"

/* The test lists; each test loads the ones it needs. */
#define MULTI \
	"[dnsbl \"multi.bl.test\"]\n" \
	"kind = ip4 ip6\n" \
	"weight = 2\n" \
	"policy_weight = 1\n" \
	"code = 127.0.0.2 spam source\n" \
	"code = 127.0.0.3 snowshoe source\n" \
	"code = 127.0.0.4-127.0.0.7 exploited host\n" \
	"policy_code = 127.0.0.10-127.0.0.11 end-user address space\n" \
	"refused_code = 127.255.255.254 public resolver\n" \
	"delist_url = https://multi.bl.test/remove?ip={subject}\n"
#define SIMPLE(zone) \
	"[dnsbl \"" zone "\"]\n" \
	"weight = 1\n" \
	"code = 127.0.0.2 listed\n" \
	"refused_code = 127.255.255.252-127.255.255.255 refused\n"
#define DOMLIST \
	"[dbl \"dom.bl.test\"]\n" \
	"weight = 2\n" \
	"code = bitmask:2 black\n" \
	"code = bitmask:4 grey\n" \
	"code = bitmask:8 red\n" \
	"refused_code = 127.0.0.1 refused\n"

struct run {
	struct conf *conf;
	struct runner *r;
	struct dns_engine *eng;
	struct target t;
	struct run_result res;
	int64_t ms;
};

/* A sample message for the next run_full (a path under tests/), or NULL. */
static const char *next_message;
/* The next run_full's engine spares queries (batch mode): TXT only where an entry shows it. */
static bool next_spare;

/* An engine on server as test_engine() gives, sparing queries when spare. */
static struct dns_engine *
engine_for(const char *server, bool spare)
{
	struct dns_config cfg;

	test_dns_config(&cfg, server, 400, 2);
	cfg.spare_queries = spare;
	return test_engine_of(&cfg);
}

/* Runs checks (comma list) with conf text (NULL: the shipped checks.d) against server. */
static void
run_full(struct run *x, const char *text, const char *checks, const char *server,
    const char *ip, const char *helo, const char *from)
{
	struct error err;
	bool usage;
	int64_t start;

	memset(x, 0, sizeof(*x));
	x->conf = conf_new();
	if (text != NULL) {
		cr_assert_eq(conf_load_file(x->conf, "test.conf", text, &err), 0, "%s", err.msg);
	} else {
		char *dir = test_path("checks.d");

		cr_assert_eq(conf_load_dir(x->conf, dir, &err), 0, "%s", err.msg);
		free(dir);
	}
	x->r = runner_new(x->conf, checks, &usage, &err);
	cr_assert_not_null(x->r, "%s", err.msg);
	x->eng = engine_for(server, next_spare);
	next_spare = false;
	target_init(&x->t);
	if (ip != NULL)
		cr_assert_eq(target_set_ip(&x->t, "--ip", ip, &err), 0, "%s", err.msg);
	if (helo != NULL)
		cr_assert_eq(target_set_helo(&x->t, "--helo", helo, &err), 0, "%s", err.msg);
	if (from != NULL)
		cr_assert_eq(target_set_mail_from(&x->t, "--from", from, &err), 0, "%s", err.msg);
	if (next_message != NULL) {
		char *path = test_path(next_message);

		cr_assert_eq(target_set_message_file(&x->t, "--message", path, &err), 0, "%s",
		    err.msg);
		free(path);
		next_message = NULL;
	}
	start = now_ms();
	runner_run(x->r, x->eng, &x->t, 20000, &x->res);
	x->ms = now_ms() - start;
}

static void
run_ip(struct run *x, const char *text, const char *ip)
{
	run_full(x, text, "dnsbl", test_fault(), ip, NULL, NULL);
}

static void
run_release(struct run *x)
{
	run_result_release(&x->res);
	target_release(&x->t);
	dns_engine_free(x->eng);
	runner_free(x->r);
	conf_free(x->conf);
}

static const struct report *
rep_of(struct run *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->res.nreports; i++)
		if (strcmp(report_name(x->res.reports[i]), name) == 0)
			return x->res.reports[i];
	cr_assert_fail("no report of check '%s'", name);
	return NULL;
}

/* The "lists" entry of zone (and subject when not NULL); fails the test when absent. */
static const json_t *
entry(const struct report *rep, const char *zone, const char *subject)
{
	const json_t *lists = json_object_get(report_data_const(rep), "lists"), *e;
	size_t i;

	json_array_foreach(lists, i, e)
		if (strcmp(json_string_value(json_object_get(e, "zone")), zone) == 0 &&
		    (subject == NULL ||
		    strcmp(json_string_value(json_object_get(e, "subject")), subject) == 0))
			return e;
	cr_assert_fail("no list entry for '%s' / '%s'", zone, subject ? subject : "*");
	return NULL;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(null)";
}

static bool
has_code(const json_t *e, const char *code)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(e, "codes"), i, v)
		if (strcmp(json_string_value(v), code) == 0)
			return true;
	return false;
}

static size_t
count_findings(const struct report *rep, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < report_nfindings(rep); i++)
		if (strcmp(report_finding(rep, i)->code, code) == 0)
			n++;
	return n;
}

static void
assert_schema(struct run *x)
{
	json_t *doc = output_json_document(&x->res);
	char *text = json_dumps(doc, 0), why[512];

	cr_assert(test_schema_valid(text, false, why, sizeof(why)), "schema: %s", why);
	free(text);
	json_decref(doc);
}

Test(dnsbl, ipv4_query_uses_reversed_octets_and_reports_codes_txt_and_delist_url)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	const struct finding *f;

	run_ip(&x, MULTI, "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "multi.bl.test", NULL);
	cr_assert_str_eq(str(e, "query"), "10.100.51.198.multi.bl.test");
	cr_assert_str_eq(str(e, "kind"), "ip4");
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert(has_code(e, "127.0.0.2") && has_code(e, "127.0.0.4"));
	cr_assert_eq(json_array_size(json_object_get(e, "meanings")), 2);
	cr_assert(strstr(str(e, "txt"), "Spam source") != NULL, "txt %s", str(e, "txt"));
	cr_assert_str_eq(str(e, "txt_url"), "https://multi.bl.test/lookup?ip=198.51.100.10");
	cr_assert_str_eq(str(e, "delist_url"), "https://multi.bl.test/remove?ip=198.51.100.10");
	cr_assert_str_eq(str(e, "selftest"), "ok");
	f = report_find(rep, "listed");
	cr_assert_not_null(f);
	cr_assert_str_eq(str(f->data, "zone"), "multi.bl.test");
	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "score")), 2);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, ipv6_query_uses_32_reversed_nibbles)
{
	struct run x;
	const json_t *e;

	run_ip(&x, MULTI, "2001:db8::10");
	e = entry(rep_of(&x, "dnsbl"), "multi.bl.test", NULL);
	cr_assert_str_eq(str(e, "query"),
	    "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.multi.bl.test");
	cr_assert_str_eq(str(e, "kind"), "ip6");
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert(has_code(e, "127.0.0.3"));
	cr_assert_str_eq(str(e, "selftest"), "ok", "the ::FFFF:7F00:2 test point");
	run_release(&x);
}

Test(dnsbl, ipv4_mapped_ipv6_is_asked_as_ipv4)
{
	struct run x;
	const json_t *e;

	run_ip(&x, MULTI, "::ffff:198.51.100.10");
	e = entry(rep_of(&x, "dnsbl"), "multi.bl.test", NULL);
	cr_assert_str_eq(str(e, "query"), "10.100.51.198.multi.bl.test");
	cr_assert_str_eq(str(e, "subject"), "198.51.100.10");
	cr_assert_str_eq(str(e, "status"), "listed");
	run_release(&x);
}

Test(dnsbl, ip4_only_list_is_not_asked_about_ipv6)
{
	struct run x;
	const struct report *rep;

	run_ip(&x, SIMPLE("bl.spamcop.net"), "2001:db8::10");
	rep = rep_of(&x, "dnsbl");
	cr_assert_eq(report_status(rep), CHECK_SKIPPED);
	cr_assert(strstr(report_reason(rep), "IPv6") != NULL, "%s", report_reason(rep));
	run_release(&x);
}

Test(dnsbl, policy_code_is_a_policy_listing_with_its_own_weight)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	const struct finding *f;

	run_ip(&x, MULTI, "198.51.100.11");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "multi.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert(json_is_true(json_object_get(e, "policy")));
	cr_assert_eq(json_integer_value(json_object_get(e, "weight")), 1);
	f = report_find(rep, "policy_listed");
	cr_assert_not_null(f);
	cr_assert_null(report_find(rep, "listed"));
	cr_assert_str_eq(str(f->data, "meaning"), "end-user address space");
	run_release(&x);
}

Test(dnsbl, unlisted_ip_is_not_listed_and_passes)
{
	struct run x;
	const struct report *rep;

	run_ip(&x, MULTI SIMPLE("bl.spamcop.net"), "192.0.2.1");
	rep = rep_of(&x, "dnsbl");
	cr_assert_str_eq(str(entry(rep, "multi.bl.test", NULL), "status"), "not_listed");
	cr_assert_str_eq(str(entry(rep, "bl.spamcop.net", NULL), "status"), "not_listed");
	cr_assert_not_null(report_find(rep, "not_listed"));
	cr_assert_eq(report_status(rep), CHECK_PASS);
	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "score")), 0);
	run_release(&x);
}

Test(dnsbl, score_below_threshold_warns_and_at_threshold_fails)
{
	struct run x;
	const struct report *rep;

	/* multi.bl.test alone: weight 2 < threshold 3 */
	run_ip(&x, "[dnsbl]\nthreshold = 3\n" MULTI, "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	cr_assert_eq(report_find(rep, "listed")->severity, SEV_WARN);
	cr_assert_eq(report_status(rep), CHECK_WARN);
	run_release(&x);

	/* with a threshold of 2 the same listing fails the check */
	run_ip(&x, "[dnsbl]\nthreshold = 2\n" MULTI, "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	cr_assert_eq(report_find(rep, "listed")->severity, SEV_FAIL);
	cr_assert_eq(report_status(rep), CHECK_FAIL);
	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "threshold")), 2);
	run_release(&x);
}

Test(dnsbl, list_that_lists_the_world_is_ignored_with_a_warning)
{
	struct run x;
	const struct report *rep;
	const json_t *e;

	run_ip(&x, MULTI SIMPLE("world.bl.test"), "198.51.100.99");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "world.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "ignored");
	cr_assert_str_eq(str(e, "selftest"), "lists_everything");
	cr_assert_eq(report_find(rep, "lists_everything")->severity, SEV_WARN);
	cr_assert_null(report_find(rep, "listed"));
	cr_assert_eq(json_integer_value(json_object_get(report_data_const(rep), "score")), 0);
	cr_assert_str_eq(str(entry(rep, "multi.bl.test", NULL), "status"), "not_listed");
	run_release(&x);
}

/* The "not_checked" entry of zone in rep's data, or NULL. */
static const json_t *
unchecked(const struct report *rep, const char *zone)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(report_data_const(rep), "not_checked"), i, e)
		if (strcmp(str(e, "zone"), zone) == 0)
			return e;
	return NULL;
}

Test(dnsbl, refused_list_counts_for_that_list_only_while_others_answer)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	const struct finding *f;

	run_ip(&x, SIMPLE("refusing.bl.test") SIMPLE("bl.spamcop.net"), "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "refusing.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "refused");
	cr_assert(has_code(e, "127.255.255.254"));
	cr_assert_null(report_find(rep, "listed"), "a refused code is never a listing");
	cr_assert_str_eq(str(entry(rep, "bl.spamcop.net", NULL), "status"), "not_listed");
	f = report_find(rep, "query_refused");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, SEV_WARN, "another list answered: a warning");
	cr_assert(strstr(f->message, "your own resolver") != NULL, "%s", f->message);
	cr_assert_eq(count_findings(rep, "query_refused"), 1, "said once");
	cr_assert_eq(report_status(rep), CHECK_WARN);
	/* the list is named with how to have it checked */
	e = unchecked(rep, "refusing.bl.test");
	cr_assert_not_null(e);
	cr_assert_str_eq(str(e, "status"), "refused");
	cr_assert_str_eq(str(e, "reason"), "refused");
	cr_assert(strstr(str(e, "fix"), "resolver of your own") != NULL, "%s", str(e, "fix"));
	cr_assert_null(unchecked(rep, "bl.spamcop.net"));
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN, "the answering list decides");
	cr_assert_not_null(x.res.verdict.note);
	cr_expect(strstr(x.res.verdict.note, "refusing.bl.test") != NULL &&
	    strstr(x.res.verdict.note, "--skip-list") != NULL, "%s", x.res.verdict.note);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, refusal_by_every_list_that_matters_is_an_error_and_inconclusive)
{
	struct run x;
	const struct report *rep;

	/* a list of weight 0 that answers carries nothing */
	run_ip(&x, SIMPLE("refusing.bl.test")
	    "[dnsbl \"bl.spamcop.net\"]\nweight = 0\ncode = 127.0.0.2 listed\n", "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	cr_assert_str_eq(str(entry(rep, "bl.spamcop.net", NULL), "status"), "not_listed");
	cr_assert_eq(report_find(rep, "query_refused")->severity, SEV_ERROR);
	cr_assert_eq(report_status(rep), CHECK_ERROR);
	cr_assert_eq(x.res.verdict.status, VERDICT_INCONCLUSIVE);
	cr_expect(strstr(x.res.verdict.note, "dnsbl") != NULL &&
	    strstr(x.res.verdict.note, "lists not checked: refusing.bl.test") != NULL, "%s",
	    x.res.verdict.note);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, public_resolver_answer_of_zen_leaves_the_other_shipped_lists_standing)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	size_t i;

	/* the fixture's zen answers 127.255.255.254 for 198.51.100.254, as Spamhaus does through public resolvers */
	run_full(&x, NULL, "dnsbl", test_ns(), "198.51.100.254", NULL, NULL);
	rep = rep_of(&x, "dnsbl");
	json_array_foreach(json_object_get(report_data_const(rep), "lists"), i, e)
		cr_expect_str_eq(str(e, "status"), strcmp(str(e, "zone"), "zen.spamhaus.org") == 0 ?
		    "refused" : "not_listed", "list %s", str(e, "zone"));
	cr_assert_eq(report_status(rep), CHECK_WARN);
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN);
	e = unchecked(rep, "zen.spamhaus.org");
	cr_assert_not_null(e);
	cr_expect_str_eq(str(e, "reason"), "the query came through a public or open resolver");
	cr_expect(strstr(str(e, "fix"), "--dqs-key") != NULL, "%s", str(e, "fix"));
	cr_expect(strstr(x.res.verdict.note, "zen.spamhaus.org") != NULL, "%s",
	    x.res.verdict.note);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, refused_rcode_is_refused)
{
	struct run x;
	const json_t *e;

	/* NSD serves no zone unserved.bl.test: it answers REFUSED */
	run_ip(&x, SIMPLE("unserved.bl.test"), "198.51.100.10");
	e = entry(rep_of(&x, "dnsbl"), "unserved.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "refused");
	cr_assert_str_eq(str(e, "dns_status"), "refused");
	cr_assert_not_null(report_find(rep_of(&x, "dnsbl"), "query_refused"));
	run_release(&x);
}

Test(dnsbl, undocumented_code_is_unexpected_not_listed)
{
	struct run x;
	const struct report *rep;
	const json_t *e;

	run_ip(&x, SIMPLE("oddcode.bl.test"), "198.51.100.20");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "oddcode.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "unexpected");
	cr_assert(has_code(e, "127.0.0.99"));
	cr_assert_str_eq(str(e, "selftest"), "ok");
	cr_assert_eq(report_find(rep, "unexpected_answer")->severity, SEV_ERROR);
	cr_assert_null(report_find(rep, "listed"));
	run_release(&x);
}

Test(dnsbl, answer_outside_127_is_unexpected_tampering)
{
	struct run x;
	const struct report *rep;
	const json_t *e;

	run_ip(&x, SIMPLE("tamper.bl.test"), "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "tamper.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "unexpected");
	cr_assert(has_code(e, "198.51.100.250"));
	cr_assert(strstr(str(e, "reason"), "127.0.0.0/8") != NULL, "%s", str(e, "reason"));
	cr_assert_null(report_find(rep, "listed"));
	cr_assert_null(report_find(rep, "lists_everything"), "tampering is not world-listing");
	run_release(&x);
}

Test(dnsbl, list_that_never_answers_is_an_error_and_others_still_answer)
{
	static const char text[] = MULTI SIMPLE("never.bl.test")
	    "[verdict \"dnsbl/listed\"]\ncause = ip_blocklisted\nconfidence = high\n"
	    "summary = {subject} is listed on {zone}.\nremedy = Ask {zone} for removal.\n";
	struct run x;
	const struct report *rep;
	const struct cause *c;
	const json_t *e;

	run_ip(&x, text, "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "never.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "error");
	cr_assert_str_eq(str(e, "dns_status"), "timeout");
	cr_assert_eq(report_find(rep, "lookup_failed")->severity, SEV_ERROR);
	cr_assert_str_eq(str(entry(rep, "multi.bl.test", NULL), "status"), "listed");
	cr_assert_eq(report_status(rep), CHECK_ERROR);
	/* the listing is real: the verdict is not hidden by the dead list */
	cr_assert_eq(x.res.verdict.ncauses, 1, "the listing is a cause");
	c = &x.res.verdict.causes[0];
	cr_expect_eq(c->code, CAUSE_IP_BLOCKLISTED);
	cr_expect_str_eq(c->summary, "198.51.100.10 is listed on multi.bl.test.");
	/* weight 2 under the threshold of 3: medium, and one level less for the check's error */
	cr_expect_eq(c->confidence, CONF_LOW, "medium, one level less for the check's error");
	/* nor does the dead list read as an answer: no honest "blocked" without it */
	cr_expect_eq(x.res.verdict.status, VERDICT_INCONCLUSIVE);
	cr_assert_not_null(x.res.verdict.note);
	cr_expect_not_null(strstr(x.res.verdict.note, "dnsbl"), "%s", x.res.verdict.note);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, list_that_servfails_is_an_error)
{
	struct run x;
	const json_t *e;

	run_ip(&x, SIMPLE("broken.bl.test"), "198.51.100.10");
	e = entry(rep_of(&x, "dnsbl"), "broken.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "error");
	cr_assert_str_eq(str(e, "dns_status"), "servfail");
	cr_assert_not_null(report_find(rep_of(&x, "dnsbl"), "lookup_failed"));
	run_release(&x);
}

Test(dnsbl, list_that_does_not_list_its_test_point_is_not_answering_properly)
{
	struct run x;
	const struct report *rep;
	const json_t *e;

	run_ip(&x, SIMPLE("dead.bl.test"), "198.51.100.10");
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "dead.bl.test", NULL);
	cr_assert_str_eq(str(e, "status"), "ignored");
	cr_assert_str_eq(str(e, "selftest"), "not_listing_test_point");
	cr_assert_not_null(report_find(rep, "selftest_failed"));
	cr_assert_null(report_find(rep, "not_listed"), "a dead list's silence is no answer");
	run_release(&x);
}

Test(dnsbl, public_resolver_is_a_setup_error_for_lists_that_refuse_it)
{
	struct run x;
	const struct report *rep;
	const struct finding *f;

	/* the table is data: pretend the loopback proxy is a public resolver */
	run_ip(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n" MULTI "refuses_public = yes\n",
	    "198.51.100.99");
	rep = rep_of(&x, "dnsbl");
	f = report_find(rep, "public_resolver");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, SEV_ERROR);
	cr_assert_eq(count_findings(rep, "public_resolver"), 1);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(f->data, "lists"), 0)),
	    "multi.bl.test");
	cr_assert(json_is_true(json_object_get(report_data_const(rep), "public_resolver")));
	cr_assert_eq(x.res.verdict.status, VERDICT_INCONCLUSIVE);
	run_release(&x);

	/* no list refuses it: only a note */
	run_ip(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n" MULTI, "198.51.100.99");
	f = report_find(rep_of(&x, "dnsbl"), "public_resolver");
	cr_assert_not_null(f);
	cr_assert_eq(f->severity, SEV_INFO);
	run_release(&x);

	/* another resolver: nothing said */
	run_ip(&x, "[dnsbl]\npublic_resolver = 9.9.9.9\n" MULTI, "198.51.100.99");
	cr_assert_null(report_find(rep_of(&x, "dnsbl"), "public_resolver"));
	run_release(&x);
}

Test(dnsbl, self_test_and_txt_are_asked_with_the_real_query)
{
	struct run x;
	struct dns_counters c;

	run_ip(&x, MULTI, "198.51.100.10");
	dns_engine_stats(x.eng, &c, NULL, 0, NULL);
	/* A + TXT for the IP, A for 127.0.0.2 and 127.0.0.1: four questions */
	cr_assert_eq(c.queries, 4, "queries %llu", (unsigned long long)c.queries);
	cr_assert_str_eq(str(entry(rep_of(&x, "dnsbl"), "multi.bl.test", NULL), "selftest"), "ok");
	run_release(&x);
}

/* Starts build/tests/faultdns delaying every answer by ms in front of NSD; returns its pid. */
static pid_t
delayed_proxy(int ms, char *addr, size_t len)
{
	char *bin = xasprintf("%s/tests/faultdns", test_env("WHY550_BUILD"));
	char delay[16], port[32] = "";
	int fds[2];
	pid_t pid;
	FILE *fp;

	snprintf(delay, sizeof(delay), "%d", ms);
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(bin, bin, "--port", "0", "--delay", delay, "--upstream", test_ns(),
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	cr_assert(fgets(port, sizeof(port), fp) != NULL, "faultdns printed no port");
	fclose(fp);
	cr_assert_eq(strncmp(port, "port ", 5), 0, "%s", port);
	snprintf(addr, len, "127.0.0.1:%d", atoi(port + 5));
	free(bin);
	return pid;
}

Test(dnsbl, default_lists_are_asked_in_one_round_trip)
{
	char addr[64];
	pid_t pid = delayed_proxy(150, addr, sizeof(addr));
	struct run x;
	const struct report *rep;
	int st;

	/* nine lists, 36 questions, each answer 150 ms late: one round, not nine */
	run_full(&x, NULL, "dnsbl", addr, "203.0.113.7", NULL, NULL);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	rep = rep_of(&x, "dnsbl");
	cr_assert_eq(json_array_size(json_object_get(report_data_const(rep), "lists")), 9);
	cr_assert_str_eq(str(entry(rep, "zen.spamhaus.org", NULL), "status"), "listed");
	cr_assert(x.ms >= 150 && x.ms < 1000, "took %lld ms", (long long)x.ms);
	run_release(&x);
}

Test(dnsbl, shipped_lists_pass_their_self_tests_and_the_demo_ip_is_listed)
{
	struct run x;
	const struct report *rep;
	const json_t *lists, *e;
	size_t i;

	run_full(&x, NULL, "dnsbl", test_ns(), "203.0.113.7", NULL, NULL);
	rep = rep_of(&x, "dnsbl");
	lists = json_object_get(report_data_const(rep), "lists");
	cr_assert_geq(json_array_size(lists), 8);
	json_array_foreach(lists, i, e)
		cr_expect_str_eq(str(e, "selftest"), "ok", "list %s", str(e, "zone"));
	e = entry(rep, "zen.spamhaus.org", NULL);
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert(json_is_true(json_object_get(e, "policy")), "the PBL");
	e = entry(rep, "bl.spamcop.net", NULL);
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert(strstr(str(e, "txt"), "203.0.113.7") != NULL);
	cr_assert_str_eq(str(e, "delist_url"), "https://www.spamcop.net/bl.shtml?203.0.113.7");
	cr_assert_eq(report_status(rep), CHECK_FAIL);
	run_release(&x);

	/* the demo's clean server is on no list, and the IPv6 lists pass too */
	run_full(&x, NULL, "dnsbl", test_ns(), "192.0.2.1", NULL, NULL);
	cr_assert_eq(report_status(rep_of(&x, "dnsbl")), CHECK_PASS);
	run_release(&x);
	run_full(&x, NULL, "dnsbl", test_ns(), "2001:db8::1", NULL, NULL);
	rep = rep_of(&x, "dnsbl");
	cr_assert_eq(report_status(rep), CHECK_PASS);
	json_array_foreach(json_object_get(report_data_const(rep), "lists"), i, e)
		cr_expect_str_eq(str(e, "selftest"), "ok", "list %s", str(e, "zone"));
	run_release(&x);
}

Test(dnsbl, binary_output_validates_and_list_checks_prints_the_lists)
{
	struct test_proc p;
	const char *args[] = { "--ip", "203.0.113.7", "--checks", "dnsbl,dbl,rdns",
	    "--from", "bob@shop.test", "--format", "json", NULL };
	const char *list[] = { "--list-checks", NULL };
	json_t *doc, *c;

	test_why550(&p, test_ns(), args);
	cr_assert_eq(p.status, 2, "exit %d: %s", p.status, p.err);
	doc = test_valid_json(&p);
	c = test_check(doc, "dnsbl");
	cr_assert(test_has_finding(c, "policy_listed"));
	cr_assert(test_has_finding(c, "listed"));
	cr_assert_str_eq(json_string_value(json_object_get(test_check(doc, "dbl"), "status")), "pass",
	    "shop.test is on no domain list");
	json_decref(doc);
	test_proc_release(&p);

	test_why550(&p, NULL, list);
	cr_assert_eq(p.status, 0, "%s", p.err);
	cr_assert(strstr(p.out, "zen.spamhaus.org") != NULL);
	cr_assert(strstr(p.out, "127.255.255.254") != NULL);
	cr_assert(strstr(p.out, "dbl.spamhaus.org") != NULL);
	test_proc_release(&p);
}

/* Configuration */

static int
configure_text(const char *text, const char *check, struct error *err)
{
	struct conf *conf = conf_new();
	const struct check_ops *ops = check_find(check);
	void *ctx = NULL;
	int ret;

	cr_assert_eq(conf_load_file(conf, "t.conf", text, err), 0, "%s", err->msg);
	ret = ops->configure(&ctx, conf, err);
	if (ret == 0)
		ops->free(ctx);
	conf_free(conf);
	return ret;
}

Test(dnsbl, bad_list_configuration_names_file_and_line)
{
	static const struct {
		const char *name, *text, *mentions;
	} cases[] = {
		{ "bad code", "[dnsbl \"a.test\"]\ncode = 127.0.0 x\n", "t.conf:2" },
		{ "reversed range", "[dnsbl \"a.test\"]\ncode = 127.0.0.5-127.0.0.2 x\n", "t.conf:2" },
		{ "bitmask zero", "[dnsbl \"a.test\"]\ncode = bitmask:0 x\n", "bitmask" },
		{ "bitmask too big", "[dnsbl \"a.test\"]\ncode = bitmask:256 x\n", "bitmask" },
		{ "no codes", "[dnsbl \"a.test\"]\nweight = 1\n", "no return code" },
		{ "only refused codes", "[dnsbl \"a.test\"]\nrefused_code = 127.0.0.1 x\n", "no return code" },
		{ "unknown kind", "[dnsbl \"a.test\"]\nkind = ip5\ncode = 127.0.0.2 x\n", "ip5" },
		{ "domain kind in dnsbl", "[dnsbl \"a.test\"]\nkind = domain\ncode = 127.0.0.2 x\n", "kind" },
		{ "unknown key", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\ncolour = red\n", "colour" },
		{ "duplicate zone", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\n[dnsbl \"A.test.\"]\ncode = 127.0.0.2 x\n", "already" },
		{ "bad public resolver", "[dnsbl]\npublic_resolver = dns.google\n", "dns.google" },
		{ "weight not a number", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nweight = lots\n", "t.conf:3" },
		{ "bad zone", "[dnsbl \"a..test\"]\ncode = 127.0.0.2 x\n", "zone" },
		{ "ip test point", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\ntest_listed = 127.0.0.300\n", "test_listed" },
		{ "rate without unit", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nrate = 5\n", "t.conf:3: rate" },
		{ "rate of zero", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nrate = 0/s\n", "t.conf:3: rate" },
		{ "rate per day", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nrate = 5/day\n", "rate" },
		{ "budget per second", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nbudget = 10/s\n", "t.conf:3: budget" },
		{ "fractional budget", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\nbudget = 1.5/day\n", "budget" },
		{ "dqs zone not a name", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\ndqs_zone = a..dq.test\n", "t.conf:3" },
		{ "skip of no list", "[dnsbl \"a.test\"]\ncode = 127.0.0.2 x\n[dnsbl]\nskip_list = b.test\n", "t.conf:4" },
		{ "dqs key with a dot", "[dnsbl]\ndqs_key = sec.ret\n", "t.conf:2" },
	};
	struct error err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&err, 0, sizeof(err));
		cr_expect_eq(configure_text(cases[i].text, "dnsbl", &err), -1, "case '%s' accepted",
		    cases[i].name);
		cr_expect(strstr(err.msg, cases[i].mentions) != NULL, "case '%s': '%s' lacks '%s'",
		    cases[i].name, err.msg, cases[i].mentions);
	}
	cr_expect_eq(configure_text("[dbl \"d.test\"]\nkind = ip4\ncode = 127.0.0.2 x\n", "dbl", &err),
	    -1, "an IP list in [dbl]");
	/* a bad key is a secret all the same: the message never shows it */
	cr_expect_eq(configure_text("[dnsbl]\ndqs_key = t0psecr3t-key\n", "dnsbl", &err), -1);
	cr_expect_null(strstr(err.msg, "t0psecr3t"), "%s", err.msg);
}

Test(dnsbl, shipped_configuration_loads)
{
	struct conf *conf = conf_new();
	char *dir = test_path("checks.d");
	struct error err;
	void *ctx = NULL;

	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(check_find("dnsbl")->configure(&ctx, conf, &err), 0, "%s", err.msg);
	check_find("dnsbl")->free(ctx);
	cr_assert_eq(check_find("dbl")->configure(&ctx, conf, &err), 0, "%s", err.msg);
	check_find("dbl")->free(ctx);
	conf_free(conf);
	free(dir);
}

Test(dnsbl, codes_match_exact_ranges_and_bitmasks)
{
	static const unsigned char a2[4] = { 127, 0, 0, 2 }, a5[4] = { 127, 0, 0, 5 },
	    a10[4] = { 127, 0, 0, 10 }, o10[4] = { 127, 0, 1, 10 };
	struct dnsbl_code c;
	char why[128];

	cr_assert_eq(dnsbl_code_parse("127.0.0.2 spam", DNSBL_CODE_LISTED, &c, why, sizeof(why)), 0);
	cr_assert(dnsbl_code_match(&c, a2));
	cr_assert_not(dnsbl_code_match(&c, a5));
	cr_assert_str_eq(c.meaning, "spam");
	free(c.meaning);
	cr_assert_eq(dnsbl_code_parse("127.0.0.4-127.0.0.7", DNSBL_CODE_LISTED, &c, why, sizeof(why)), 0);
	cr_assert(dnsbl_code_match(&c, a5));
	cr_assert_not(dnsbl_code_match(&c, a2));
	cr_assert_str_eq(c.meaning, "");
	free(c.meaning);
	cr_assert_eq(dnsbl_code_parse("bitmask:0x08 red", DNSBL_CODE_LISTED, &c, why, sizeof(why)), 0);
	cr_assert(dnsbl_code_match(&c, a10), "10 has bit 8");
	cr_assert_not(dnsbl_code_match(&c, a2));
	cr_assert_not(dnsbl_code_match(&c, o10), "bitmasks hold only in 127.0.0.0/24");
	free(c.meaning);
	cr_assert_eq(dnsbl_code_parse("127.0.0.2/32 x", DNSBL_CODE_LISTED, &c, why, sizeof(why)), -1);
}

Test(dnsbl, refused_code_wins_over_a_listing_code_in_one_answer)
{
	struct dnsbl_list l;
	struct dnsbl_code codes[2];
	char why[128];
	unsigned char both[8] = { 127, 0, 0, 2, 127, 0, 0, 1 }, outside[8] = { 127, 0, 0, 2, 10, 0, 0, 1 };
	long matched[2];
	bool policy;

	memset(&l, 0, sizeof(l));
	cr_assert_eq(dnsbl_code_parse("bitmask:2 black", DNSBL_CODE_LISTED, &codes[0], why, sizeof(why)), 0);
	cr_assert_eq(dnsbl_code_parse("bitmask:1 blocked", DNSBL_CODE_REFUSED, &codes[1], why, sizeof(why)), 0);
	l.codes = codes;
	l.ncodes = 2;
	cr_assert_eq(dnsbl_classify(&l, both, 2, matched, &policy), DNSBL_V_REFUSED);
	cr_assert_eq(matched[0], 0);
	cr_assert_eq(matched[1], 1);
	cr_assert_eq(dnsbl_classify(&l, both, 1, matched, &policy), DNSBL_V_LISTED);
	cr_assert_eq(dnsbl_classify(&l, outside, 2, matched, &policy), DNSBL_V_UNEXPECTED);
	cr_assert_eq(dnsbl_classify(&l, both, 0, matched, &policy), DNSBL_V_NONE);
	free(codes[0].meaning);
	free(codes[1].meaning);
}

Test(dnsbl, txt_url_is_found_and_hostile_bytes_end_it)
{
	static const char with_nul[] = "see https://a.test/x\0evil";
	char *u;

	u = dnsbl_txt_url("Blocked - see https://www.spamcop.net/bl.shtml?1.2.3.4 now", 57);
	cr_assert_str_eq(u, "https://www.spamcop.net/bl.shtml?1.2.3.4");
	free(u);
	u = dnsbl_txt_url(with_nul, sizeof(with_nul) - 1);
	cr_assert_str_eq(u, "https://a.test/x");
	free(u);
	cr_assert_null(dnsbl_txt_url("no link here", 12));
	cr_assert_null(dnsbl_txt_url("http://", 7));
	u = dnsbl_txt_url("\"HTTP://A.TEST/\x1b[31m\"", 21);
	cr_assert_str_eq(u, "HTTP://A.TEST/");
	free(u);
}

/* dbl */

static void
run_dbl(struct run *x, const char *text, const char *checks, const char *ip, const char *helo,
    const char *from)
{
	run_full(x, text, checks, test_fault(), ip, helo, from);
}

Test(dnsbl, dbl_sender_domain_listed_with_bitmask_meanings)
{
	struct run x;
	const struct report *rep;
	const json_t *e, *m;
	const struct finding *f;

	run_dbl(&x, DOMLIST, "dbl", NULL, NULL, "bob@badshop.test");
	rep = rep_of(&x, "dbl");
	e = entry(rep, "dom.bl.test", "badshop.test");
	cr_assert_str_eq(str(e, "query"), "badshop.test.dom.bl.test");
	cr_assert_str_eq(str(e, "kind"), "domain");
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert_str_eq(str(e, "source"), "mail_from");
	m = json_object_get(e, "meanings");
	cr_assert_eq(json_array_size(m), 1, "one answer, one meaning");
	f = report_find(rep, "listed");
	cr_assert_not_null(f);
	cr_assert_str_eq(str(f->data, "selftest"), "ok", "TEST listed, INVALID not");
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, dbl_every_domain_is_asked_once_from_sender_helo_and_ptr)
{
	struct run x;
	const struct report *rep;
	const json_t *doms, *e;
	size_t i, nptr = 0;

	/* HELO and PTR are the same name: asked once */
	run_dbl(&x, DOMLIST, "rdns,dbl", "203.0.113.7", "DSL-203-0-113-7.pool.isp.test.",
	    "bob@shop.test");
	rep = rep_of(&x, "dbl");
	doms = json_object_get(report_data_const(rep), "domains");
	cr_assert_eq(json_array_size(doms), 2, "%s", json_dumps(doms, 0));
	cr_assert_str_eq(str(entry(rep, "dom.bl.test", "shop.test"), "status"), "not_listed");
	e = entry(rep, "dom.bl.test", "dsl-203-0-113-7.pool.isp.test");
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "meanings"), 0)), "grey");
	json_array_foreach(json_object_get(report_data_const(rep), "lists"), i, e)
		if (strcmp(str(e, "subject"), "dsl-203-0-113-7.pool.isp.test") == 0)
			nptr++;
	cr_assert_eq(nptr, 1);
	run_release(&x);

	/* the PTR name alone, from the rdns report */
	run_dbl(&x, DOMLIST, "rdns,dbl", "203.0.113.7", NULL, NULL);
	e = entry(rep_of(&x, "dbl"), "dom.bl.test", "dsl-203-0-113-7.pool.isp.test");
	cr_assert_str_eq(str(e, "source"), "ptr");
	run_release(&x);
}

Test(dnsbl, dbl_registered_domain_lists_are_asked_for_the_registered_domain_once)
{
	struct run x;
	const struct report *rep;
	const json_t *lists;

	run_dbl(&x, DOMLIST "registered_domain = yes\n", "dbl", NULL, "mx1.badshop.test",
	    "bob@badshop.test");
	rep = rep_of(&x, "dbl");
	lists = json_object_get(report_data_const(rep), "lists");
	cr_assert_eq(json_array_size(lists), 1, "mx1.badshop.test and badshop.test share it");
	cr_assert_str_eq(str(json_array_get(lists, 0), "status"), "listed");
	run_release(&x);
}

Test(dnsbl, dbl_refused_code_of_a_domain_list_is_refused)
{
	struct run x;
	const struct report *rep;

	run_dbl(&x, DOMLIST, "dbl", NULL, "refusedname.test", NULL);
	rep = rep_of(&x, "dbl");
	cr_assert_str_eq(str(entry(rep, "dom.bl.test", NULL), "status"), "refused");
	cr_assert_not_null(report_find(rep, "query_refused"));
	cr_assert_null(report_find(rep, "listed"));
	run_release(&x);
}

Test(dnsbl, dbl_address_literal_helo_and_null_sender_give_nothing_to_check)
{
	struct run x;
	const struct report *rep;

	run_dbl(&x, DOMLIST, "dbl", NULL, "[192.0.2.1]", "<>");
	rep = rep_of(&x, "dbl");
	cr_assert_eq(report_status(rep), CHECK_SKIPPED);
	run_release(&x);
}

Test(dnsbl, dbl_shipped_domain_lists_pass_self_tests_and_shop_test_is_clean)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	size_t i;

	run_full(&x, NULL, "dbl", test_ns(), NULL, "mail.example.test", "bob@shop.test");
	rep = rep_of(&x, "dbl");
	cr_assert_eq(report_status(rep), CHECK_PASS);
	json_array_foreach(json_object_get(report_data_const(rep), "lists"), i, e) {
		cr_expect_str_eq(str(e, "selftest"), "ok", "list %s", str(e, "zone"));
		cr_expect_str_eq(str(e, "status"), "not_listed", "%s on %s", str(e, "subject"),
		    str(e, "zone"));
	}
	run_release(&x);
}

Test(dnsbl, dbl_public_resolver_is_said_once_per_target)
{
	struct run x;

	/* both checks have a list that answers: dnsbl says it, as a warning */
	run_full(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n" MULTI "refuses_public = yes\n"
	    DOMLIST "refuses_public = yes\n" SIMPLE("bl.spamcop.net")
	    "[dbl \"dbl.spamhaus.org\"]\ncode = 127.0.1.2 spam\ntest_listed = dbltest.com\n",
	    "dnsbl,dbl", test_fault(), "198.51.100.99", NULL, "bob@shop.test");
	cr_assert_eq(count_findings(rep_of(&x, "dnsbl"), "public_resolver"), 1);
	cr_assert_eq(report_find(rep_of(&x, "dnsbl"), "public_resolver")->severity, SEV_WARN);
	cr_assert_eq(count_findings(rep_of(&x, "dbl"), "public_resolver"), 0);
	cr_assert(json_is_true(json_object_get(report_data_const(rep_of(&x, "dbl")),
	    "public_resolver")));
	cr_assert_not_null(unchecked(rep_of(&x, "dbl"), "dom.bl.test"), "still named");
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN);
	run_release(&x);

	/* no domain list answered: dbl says it too, as its error */
	run_full(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n" MULTI "refuses_public = yes\n"
	    DOMLIST "refuses_public = yes\n" SIMPLE("bl.spamcop.net"), "dnsbl,dbl", test_fault(),
	    "198.51.100.99", NULL, "bob@shop.test");
	cr_assert_eq(report_find(rep_of(&x, "dbl"), "public_resolver")->severity, SEV_ERROR);
	cr_assert_eq(report_status(rep_of(&x, "dbl")), CHECK_ERROR);
	run_release(&x);

	/* dbl alone says it itself */
	run_full(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n" DOMLIST "refuses_public = yes\n",
	    "dbl", test_fault(), NULL, NULL, "bob@shop.test");
	cr_assert_eq(report_find(rep_of(&x, "dbl"), "public_resolver")->severity, SEV_ERROR);
	run_release(&x);
}

Test(dnsbl, dbl_dkim_signing_domains_are_checked)
{
	struct run x;
	const json_t *doms, *d;
	size_t i;
	bool seen = false;

	next_message = "tests/dkim/signed-pass.eml";
	run_full(&x, DOMLIST, "dkim,dbl", test_fault(), NULL, NULL, "bob@shop.test");
	doms = json_object_get(report_data_const(rep_of(&x, "dbl")), "domains");
	json_array_foreach(doms, i, d)
		if (strcmp(str(d, "domain"), "mailer.test") == 0 &&
		    strcmp(str(d, "source"), "dkim") == 0)
			seen = true;
	cr_assert(seen, "domains: %s", json_dumps(doms, 0));
	cr_assert_str_eq(str(entry(rep_of(&x, "dbl"), "dom.bl.test", "mailer.test"), "status"),
	    "not_listed");
	run_release(&x);
}

Test(dnsbl, rate_and_budget_parse_into_per_second_and_per_day)
{
	static const struct {
		const char *text;
		double per_sec;
	} rates[] = {
		{ "20/s", 20 }, { "0.5/s", 0.5 }, { "30/min", 0.5 }, { "7200/h", 2 }, { "none", 0 },
	};
	static const char *const bad[] = { "", "/s", "5", "5/", "-1/s", "1e3/s", "5 /s", "x/s" };
	char why[160];
	double r;
	uint64_t b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rates); i++) {
		cr_assert_eq(dnsbl_rate_parse(rates[i].text, &r, why, sizeof(why)), 0, "'%s': %s",
		    rates[i].text, why);
		cr_expect_float_eq(r, rates[i].per_sec, 1e-9, "'%s' gave %g", rates[i].text, r);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_expect_eq(dnsbl_rate_parse(bad[i], &r, why, sizeof(why)), -1, "'%s' accepted",
		    bad[i]);
	cr_assert_eq(dnsbl_budget_parse("300000/day", &b, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(b, 300000);
	cr_assert_eq(dnsbl_budget_parse("none", &b, why, sizeof(why)), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(dnsbl_budget_parse("0/day", &b, why, sizeof(why)), -1);
	cr_expect_eq(dnsbl_budget_parse("100/h", &b, why, sizeof(why)), -1);
}

Test(dnsbl, a_lists_rate_and_budget_become_the_caps_of_its_zone)
{
	struct run x;
	struct dns_cap_info caps[4];

	run_ip(&x, MULTI "rate = 5/s\nbudget = 1000/day\n" SIMPLE("never.bl.test"), "198.51.100.10");
	cr_assert_eq(dns_engine_caps(x.eng, caps, 4), 1, "only the capped list has a cap");
	cr_assert_str_eq(caps[0].zone, "multi.bl.test");
	cr_expect_eq(caps[0].rate, 5);
	cr_expect_eq(caps[0].budget, 1000);
	/* the self-test points, the A and the TXT of the listed IP */
	cr_expect_eq(caps[0].used, 4, "questions under the cap: %llu",
	    (unsigned long long)caps[0].used);
	run_release(&x);
}

/* The "lists" entries of the dnsbl report of run x, as a fresh JSON array without the timing. */
static json_t *
lists_of(struct run *x, const char *check)
{
	return json_deep_copy(json_object_get(report_data_const(rep_of(x, check)), "lists"));
}

Test(dnsbl, sparing_queries_asks_txt_only_for_entries_that_show_it_and_changes_nothing_else)
{
	const char *args[] = { "--upstream", test_ns(), NULL };
	struct test_faultdns f;
	struct test_question *q;
	struct run all, spare;
	json_t *la, *ls, *e;
	size_t n, i, shown = 0;

	/* the demo IP and sender: listed on zen (PBL), the rest not; sender domains on the dbl */
	run_full(&all, NULL, "rdns,dnsbl,dbl", test_ns(), "203.0.113.7", "mail.shop.test",
	    "news@shop.test");
	test_logged_start(&f, args);
	next_spare = true;
	run_full(&spare, NULL, "rdns,dnsbl,dbl", f.addr, "203.0.113.7", "mail.shop.test",
	    "news@shop.test");
	q = test_faultdns_questions(&f, &n);
	for (i = 0; i < 2; i++) {
		const char *check = i == 0 ? "dnsbl" : "dbl";
		size_t k;

		la = lists_of(&all, check);
		ls = lists_of(&spare, check);
		cr_assert(json_equal(la, ls), "%s: the entries differ:\n%s\n%s", check,
		    json_dumps(la, JSON_COMPACT), json_dumps(ls, JSON_COMPACT));
		json_array_foreach(ls, k, e) {
			bool show = strcmp(str(e, "status"), "not_listed") != 0;

			shown += show;
			cr_expect_eq(test_questions_count(q, n, str(e, "query"), "TXT"), show ? 1 : 0,
			    "%s: TXT of %s (%s)", check, str(e, "query"), str(e, "status"));
			cr_expect_eq(test_questions_count(q, n, str(e, "query"), "A"), 1);
		}
		json_decref(la);
		json_decref(ls);
	}
	cr_assert_gt(shown, 0, "the fixture lists the demo IP somewhere");
	cr_assert_str_eq(verdict_status_name(all.res.verdict.status),
	    verdict_status_name(spare.res.verdict.status));
	free(q);
	run_release(&all);
	run_release(&spare);
	test_logged_stop(&f);
}

Test(dnsbl, answer_of_thousands_of_codes_keeps_a_small_result, .timeout = 60)
{
	const char *const many[] = { "--all", "many", NULL };
	const char *const args[] = { "--ip", "203.0.113.7", "--checks", "dnsbl", "--format",
	    "json", NULL };
	char resolver[64];
	struct test_proc p;
	json_t *doc, *lists, *l;
	size_t i;
	pid_t pid;

	/* every list answers 3,000 A records */
	pid = test_faultdns_start(many, resolver, sizeof(resolver));
	test_why550(&p, resolver, args);
	test_faultdns_stop(pid);
	doc = test_valid_json(&p);
	lists = json_object_get(test_check(doc, "dnsbl"), "lists");
	cr_assert_gt(json_array_size(lists), 0);
	json_array_foreach(lists, i, l)
		cr_expect_leq(json_array_size(json_object_get(l, "codes")), DNS_MAX_RR);
	cr_expect_lt(strlen(p.out), 200 * 1024, "a result of %zu bytes", strlen(p.out));
	json_decref(doc);
	test_proc_release(&p);
}

/* The shipped checks.d with extra text read after it (a local override). */
static void
run_shipped(struct run *x, const char *extra, const char *checks, const char *ip,
    const char *from)
{
	struct error err;
	char *dir = test_path("checks.d");
	struct conf *conf = conf_new();
	bool usage;

	cr_assert_eq(conf_load_dir(conf, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(conf_load_file(conf, "extra.conf", extra, &err), 0, "%s", err.msg);
	free(dir);
	memset(x, 0, sizeof(*x));
	x->conf = conf;
	x->r = runner_new(x->conf, checks, &usage, &err);
	cr_assert_not_null(x->r, "%s", err.msg);
	x->eng = test_engine(test_ns(), 400, 2);
	target_init(&x->t);
	if (ip != NULL)
		cr_assert_eq(target_set_ip(&x->t, "--ip", ip, &err), 0, "%s", err.msg);
	if (from != NULL)
		cr_assert_eq(target_set_mail_from(&x->t, "--from", from, &err), 0, "%s", err.msg);
	runner_run(x->r, x->eng, &x->t, 20000, &x->res);
}

/* Everything a user may see of a run: the JSON document, the verbose text report, --list-checks. */
static char *
everything_shown(struct run *x)
{
	struct text_options opt = { .verbose = true, .width = 80 };
	json_t *doc = output_json_document(&x->res), *desc = runner_describe_json(x->r);
	char *json = json_dumps(doc, 0), *djson = json_dumps(desc, 0), *text = NULL, *all;
	struct strbuf sb;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(output_text_write(fp, &x->res, &opt), 0);
	fclose(fp);
	strbuf_init(&sb);
	runner_describe(x->r, &sb);
	all = xasprintf("%s\n%s\n%s\n%s", json, djson, text, sb.buf);
	strbuf_release(&sb);
	free(json);
	free(djson);
	free(text);
	json_decref(doc);
	json_decref(desc);
	return all;
}

#define DQS_KEY		"t3stdqskey4fixture0000000q"
#define DQS_REJECTED	"r3jectedkey000000000000000"

Test(dnsbl, dqs_key_asks_the_spamhaus_lists_under_the_key_and_never_shows_it)
{
	struct run x;
	const json_t *e;
	char *all;

	run_shipped(&x, "[dnsbl]\ndqs_key = " DQS_KEY "\n", "dnsbl,dbl", "203.0.113.7",
	    "bob@shop.test");
	/* the fixture lists the demo IP under the key in dq.spamhaus.net */
	e = entry(rep_of(&x, "dnsbl"), "zen.spamhaus.org", NULL);
	cr_assert_str_eq(str(e, "status"), "listed");
	cr_assert_str_eq(str(e, "query"), "7.113.0.203." DNSBL_KEY_SHOWN ".zen.dq.spamhaus.net");
	cr_assert_str_eq(str(e, "selftest"), "ok", "the test point is asked under the key too");
	e = entry(rep_of(&x, "dbl"), "dbl.spamhaus.org", NULL);
	cr_assert_str_eq(str(e, "query"), "shop.test." DNSBL_KEY_SHOWN ".dbl.dq.spamhaus.net");
	cr_assert_str_eq(str(e, "status"), "not_listed");
	cr_assert_str_eq(str(e, "selftest"), "ok");
	all = everything_shown(&x);
	cr_assert_null(strstr(all, DQS_KEY), "the key is shown: %s", all);
	cr_assert_not_null(strstr(all, "Data Query Service key is set"));
	free(all);
	run_release(&x);
}

Test(dnsbl, dqs_key_is_not_refused_through_a_public_resolver)
{
	struct run x;
	const struct report *rep;

	/* the loopback server plays a public resolver, which zen refuses without a key */
	run_shipped(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\n", "dnsbl", "198.51.100.99", NULL);
	rep = rep_of(&x, "dnsbl");
	cr_assert_str_eq(str(entry(rep, "zen.spamhaus.org", NULL), "status"), "refused");
	cr_assert_not_null(unchecked(rep, "zen.spamhaus.org"));
	run_release(&x);

	run_shipped(&x, "[dnsbl]\npublic_resolver = 127.0.0.1\ndqs_key = " DQS_KEY "\n",
	    "dnsbl", "198.51.100.99", NULL);
	rep = rep_of(&x, "dnsbl");
	cr_assert_str_eq(str(entry(rep, "zen.spamhaus.org", NULL), "status"), "not_listed");
	cr_assert_null(unchecked(rep, "zen.spamhaus.org"));
	/* Barracuda has no key form: it stays unchecked, the others carry the check */
	cr_assert_str_eq(str(entry(rep, "b.barracudacentral.org", NULL), "status"), "refused");
	cr_assert_eq(report_find(rep, "public_resolver")->severity, SEV_WARN);
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN);
	run_release(&x);
}

Test(dnsbl, dqs_key_the_service_rejects_is_refused_with_a_fix_for_the_key)
{
	struct run x;
	const struct report *rep;
	const json_t *e;
	char *all;

	run_shipped(&x, "[dnsbl]\ndqs_key = " DQS_REJECTED "\n", "dnsbl", "198.51.100.99", NULL);
	rep = rep_of(&x, "dnsbl");
	e = entry(rep, "zen.spamhaus.org", NULL);
	cr_assert_str_eq(str(e, "status"), "refused");
	cr_assert(has_code(e, "127.255.255.250"));
	e = unchecked(rep, "zen.spamhaus.org");
	cr_assert_not_null(e);
	cr_assert_str_eq(str(e, "reason"), "the Data Query Service did not accept the key");
	cr_assert(strstr(str(e, "fix"), "check the Data Query Service key") != NULL, "%s",
	    str(e, "fix"));
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN, "the other lists answered");
	all = everything_shown(&x);
	cr_assert_null(strstr(all, DQS_REJECTED), "a rejected key is shown");
	free(all);
	run_release(&x);
}

Test(dnsbl, skip_list_leaves_a_list_out_and_names_it)
{
	struct run x;
	struct dns_counters c;
	const struct report *rep;
	const json_t *e;
	size_t i;

	/* by its zone, or by its DQS zone, in any case */
	run_shipped(&x, "[dnsbl]\nskip_list = ZEN.dq.spamhaus.net.\nskip_list = bl.spamcop.net\n",
	    "dnsbl", "198.51.100.254", NULL);
	rep = rep_of(&x, "dnsbl");
	json_array_foreach(json_object_get(report_data_const(rep), "lists"), i, e) {
		cr_expect_str_neq(str(e, "zone"), "zen.spamhaus.org");
		cr_expect_str_neq(str(e, "zone"), "bl.spamcop.net");
	}
	dns_engine_stats(x.eng, &c, NULL, 0, NULL);
	/* 7 lists left, each: A and TXT, and two test points */
	cr_expect_eq(c.queries, 7 * 4, "queries %llu", (unsigned long long)c.queries);
	e = unchecked(rep, "zen.spamhaus.org");
	cr_assert_not_null(e);
	cr_assert_str_eq(str(e, "status"), "skipped");
	cr_assert_not_null(unchecked(rep, "bl.spamcop.net"));
	cr_assert_eq(report_status(rep), CHECK_PASS, "zen's refusal is never asked for");
	cr_assert_eq(x.res.verdict.status, VERDICT_CLEAN);
	cr_expect(strstr(x.res.verdict.note, "zen.spamhaus.org, bl.spamcop.net (skipped") != NULL,
	    "%s", x.res.verdict.note);
	assert_schema(&x);
	run_release(&x);
}

Test(dnsbl, skip_list_of_every_list_skips_the_check)
{
	struct run x;

	run_full(&x, SIMPLE("bl.spamcop.net") "[dnsbl]\nskip_list = bl.spamcop.net\n", "dnsbl",
	    test_ns(), "198.51.100.10", NULL, NULL);
	cr_assert_eq(report_status(rep_of(&x, "dnsbl")), CHECK_SKIPPED);
	cr_assert(strstr(report_reason(rep_of(&x, "dnsbl")), "--skip-list") != NULL);
	cr_assert_not_null(unchecked(rep_of(&x, "dnsbl"), "bl.spamcop.net"));
	run_release(&x);
}
