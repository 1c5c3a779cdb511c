/* Tests of the dkim check through the real engine: key records from NSD (tests/zones/mailer.test.zone), faults, and message verification with libopendkim. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "checks/dkim/sig.h"
#include "core/conf.h"
#include "core/target.h"
#include "core/util.h"

struct outcome {
	struct report *rep;
	struct dns_counters counters;
	int64_t ms;
};

/* Runs the dkim check (configured from checks.d/dkim.conf) for t against server. */
static struct outcome
run_dkim(const char *server, struct target *t)
{
	const struct check_ops *ops = check_find("dkim");
	struct conf *conf = conf_new();
	char *path = test_path("checks.d/dkim.conf");
	struct dns_engine *eng;
	struct dns *dns;
	struct outcome o;
	struct error err;
	void *ctx = NULL;
	int64_t start;

	cr_assert_not_null(ops, "the dkim check is not registered");
	cr_assert_eq(conf_load_file(conf, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(ops->configure(&ctx, conf, &err), 0, "%s", err.msg);
	eng = test_engine(server, 1000, 2);
	dns = dns_new(eng, now_ms() + 10000);
	o.rep = report_new(ops);
	start = now_ms();
	ops->run(ctx, t, dns, o.rep);
	o.ms = now_ms() - start;
	dns_counters_get(dns, &o.counters);
	dns_free(dns);
	dns_engine_free(eng);
	ops->free(ctx);
	conf_free(conf);
	free(path);
	return o;
}

static void
set_from(struct target *t, const char *from)
{
	struct error err;

	cr_assert_eq(target_set_mail_from(t, "--from", from, &err), 0, "%s", err.msg);
}

static void
add_sel(struct target *t, const char *sel)
{
	struct error err;

	cr_assert_eq(target_add_selector(t, "--selector", sel, &err), 0, "%s", err.msg);
}

static void
set_message(struct target *t, const char *name)
{
	char *path, *rel = xasprintf("tests/dkim/%s", name);
	struct error err;

	path = test_path(rel);
	cr_assert_eq(target_set_message_file(t, "--message", path, &err), 0, "%s", err.msg);
	free(path);
	free(rel);
}

/* The selectors entry for sel, or NULL. */
static const json_t *
selector(const struct report *rep, const char *sel)
{
	const json_t *arr = json_object_get(report_data_const(rep), "selectors"), *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(json_object_get(v, "selector")), sel) == 0)
			return v;
	return NULL;
}

static const char *
field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "(null)";
}

static const json_t *
signature(const struct report *rep, size_t i)
{
	return json_array_get(json_object_get(report_data_const(rep), "signatures"), i);
}

static const struct finding *
finding(const struct report *rep, const char *code)
{
	const struct finding *f = report_find(rep, code);

	cr_assert_not_null(f, "no finding '%s'", code);
	return f;
}

Test(dkim, key_records_report_type_size_and_severity)
{
	static const struct {
		const char *sel;
		const char *status;
		const char *verdict;
		int bits;
	} cases[] = {
		{ "sel2048", "found", "valid", 2048 },
		{ "sel1024", "found", "valid", 1024 },
		{ "sel512", "found", "too-short", 512 },
		{ "ed", "found", "valid", 256 },
		{ "testing", "found", "valid-testing", 1024 },
		{ "revoked", "found", "revoked", 0 },
		{ "broken", "found", "syntax", 0 },
		{ "mismatch", "found", "syntax", 0 },
		{ "hosted", "found", "valid", 2048 },
		{ "absent", "missing", "missing", 0 },
	};
	struct target t;
	struct outcome o;
	size_t i;

	target_init(&t);
	set_from(&t, "alice@mailer.test");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		add_sel(&t, cases[i].sel);
	o = run_dkim(test_ns(), &t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const json_t *s = selector(o.rep, cases[i].sel);
		const json_t *bits;

		cr_assert_not_null(s, "%s: not reported", cases[i].sel);
		cr_assert_str_eq(field(s, "status"), cases[i].status, "%s", cases[i].sel);
		cr_assert_str_eq(field(s, "verdict"), cases[i].verdict, "%s", cases[i].sel);
		bits = json_object_get(s, "key_bits");
		cr_assert_eq(json_is_integer(bits) ? json_integer_value(bits) : 0, cases[i].bits,
		    "%s: bits", cases[i].sel);
	}
	/* RFC 8301: under 1024 fails, 1024 warns */
	cr_assert_eq(finding(o.rep, "key_too_short")->severity, SEV_FAIL);
	cr_assert_eq(finding(o.rep, "key_weak")->severity, SEV_WARN);
	cr_assert_eq(finding(o.rep, "key_revoked")->severity, SEV_FAIL);
	cr_assert_eq(finding(o.rep, "key_missing")->severity, SEV_FAIL);
	cr_assert_str_eq(field(finding(o.rep, "key_syntax")->data, "tag"), "p");
	cr_assert_str_eq(field(finding(o.rep, "key_type_mismatch")->data, "tag"), "k");
	cr_assert_not_null(report_find(o.rep, "key_testing"));
	cr_assert_eq(report_status(o.rep), CHECK_FAIL);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, restrictive_and_duplicate_records_are_reported)
{
	struct target t;
	struct outcome o;

	target_init(&t);
	set_from(&t, "alice@mailer.test");
	add_sel(&t, "sha1only");
	add_sel(&t, "notemail");
	add_sel(&t, "multi");
	o = run_dkim(test_ns(), &t);
	cr_assert_eq(finding(o.rep, "key_sha1_only")->severity, SEV_WARN);
	cr_assert_eq(finding(o.rep, "key_not_for_email")->severity, SEV_FAIL);
	cr_assert_eq(json_integer_value(json_object_get(finding(o.rep, "key_multiple_records")->data,
	    "records")), 2);
	cr_assert_str_eq(field(selector(o.rep, "sha1only"), "hash_algorithms"), "sha1");
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, lookup_failure_is_an_error_not_a_missing_key)
{
	struct target t;
	struct outcome o;
	const json_t *s;

	target_init(&t);
	set_from(&t, "alice@mailer.test");
	add_sel(&t, "servfail");
	o = run_dkim(test_fault(), &t);
	s = selector(o.rep, "servfail");
	cr_assert_str_eq(field(s, "status"), "error");
	cr_assert_str_eq(field(s, "verdict"), "temperror");
	cr_assert_eq(finding(o.rep, "key_lookup_failed")->severity, SEV_ERROR);
	cr_assert_null(report_find(o.rep, "key_missing"));
	cr_assert_eq(report_status(o.rep), CHECK_ERROR);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, probe_finds_the_default_selector_or_reports_none)
{
	struct target t;
	struct outcome o;

	target_init(&t);
	set_from(&t, "alice@mailer.test");
	o = run_dkim(test_ns(), &t);
	cr_assert_str_eq(field(selector(o.rep, "default"), "source"), "probe");
	cr_assert_str_eq(field(selector(o.rep, "default"), "status"), "found");
	cr_assert_null(selector(o.rep, "google"), "probes that find nothing are not listed");
	cr_assert_null(report_find(o.rep, "no_key_found"));
	cr_assert_eq(o.counters.queries,
	    (uint64_t)json_integer_value(json_object_get(report_data_const(o.rep), "probed")));
	report_free(o.rep);
	target_release(&t);

	target_init(&t);
	set_from(&t, "alice@nokeys.mailer.test");
	o = run_dkim(test_ns(), &t);
	cr_assert_eq(finding(o.rep, "no_key_found")->severity, SEV_WARN);
	cr_assert_eq(json_array_size(json_object_get(report_data_const(o.rep), "selectors")), 0);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, key_lookups_are_in_flight_at_once)
{
	struct target t;
	struct outcome o;
	char sel[16];
	int i;

	/* five selectors, each answered 400 ms late: in turn that is 2 s, together 0.4 s */
	target_init(&t);
	set_from(&t, "alice@mailer.test");
	for (i = 0; i < 5; i++) {
		snprintf(sel, sizeof(sel), "late%d", 400 + i);
		add_sel(&t, sel);
	}
	o = run_dkim(test_fault(), &t);
	cr_assert_eq(o.counters.queries, 5);
	cr_assert_lt(o.ms, 1200, "took %lld ms", (long long)o.ms);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, signed_message_passes_and_libopendkim_asks_nothing_twice)
{
	struct target t;
	struct outcome o;
	const json_t *s;

	target_init(&t);
	set_message(&t, "signed-pass.eml");
	o = run_dkim(test_ns(), &t);
	s = signature(o.rep, 0);
	cr_assert_str_eq(field(s, "result"), "pass");
	cr_assert_str_eq(field(s, "d"), "mailer.test");
	cr_assert_str_eq(field(s, "s"), "sel2048");
	cr_assert_str_eq(field(s, "a"), "rsa-sha256");
	cr_assert_str_eq(field(s, "canonicalization"), "relaxed/relaxed");
	cr_assert_eq(json_integer_value(json_object_get(s, "key_bits")), 2048);
	cr_assert_str_eq(field(report_data_const(o.rep), "result"), "pass");
	cr_assert_str_eq(field(selector(o.rep, "sel2048"), "source"), "signature");
	/* the key query was asked once: libopendkim's hook joined ours */
	cr_assert_eq(o.counters.sent, 1);
	cr_assert_eq(report_status(o.rep), CHECK_PASS);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, each_signature_failure_gets_its_class)
{
	static const struct {
		const char *file;
		const char *result;
		const char *code;
		enum finding_severity sev;
	} cases[] = {
		{ "signed-body.eml", "fail", "signature_body_hash_mismatch", SEV_FAIL },
		{ "signed-sha1.eml", "policy", "signature_rsa_sha1", SEV_FAIL },
		{ "signed-revoked.eml", "permerror", "signature_key_revoked", SEV_FAIL },
		{ "signed-nokey.eml", "permerror", "signature_key_missing", SEV_FAIL },
		{ "signed-hosted.eml", "pass", "signature_pass", SEV_INFO },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;
		struct outcome o;
		const struct finding *f;

		target_init(&t);
		set_message(&t, cases[i].file);
		o = run_dkim(test_ns(), &t);
		cr_assert_str_eq(field(signature(o.rep, 0), "result"), cases[i].result, "%s",
		    cases[i].file);
		f = report_find(o.rep, cases[i].code);
		cr_assert_not_null(f, "%s: no %s", cases[i].file, cases[i].code);
		cr_assert_eq(f->severity, cases[i].sev, "%s", cases[i].file);
		report_free(o.rep);
		target_release(&t);
	}
}

Test(dkim, key_dns_failure_makes_a_temperror)
{
	struct target t;
	struct outcome o;

	target_init(&t);
	set_message(&t, "signed-servfail.eml");
	o = run_dkim(test_fault(), &t);
	cr_assert_str_eq(field(signature(o.rep, 0), "result"), "temperror");
	cr_assert_eq(finding(o.rep, "signature_dns_error")->severity, SEV_ERROR);
	cr_assert_str_eq(field(report_data_const(o.rep), "result"), "temperror");
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, two_signatures_keys_are_fetched_together)
{
	struct target t;
	struct outcome o;

	/* both keys answer 400 ms late (and are not real keys): one wait, not two */
	target_init(&t);
	set_message(&t, "signed-two-late.eml");
	o = run_dkim(test_fault(), &t);
	cr_assert_eq(json_array_size(json_object_get(report_data_const(o.rep), "signatures")), 2);
	cr_assert_str_eq(field(signature(o.rep, 0), "s"), "late401", "header order");
	cr_assert_str_eq(field(signature(o.rep, 1), "s"), "late400");
	cr_assert_str_eq(field(signature(o.rep, 0), "result"), "permerror");
	cr_assert_eq(o.counters.sent, 2);
	cr_assert_lt(o.ms, 700, "took %lld ms", (long long)o.ms);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, unsigned_message_is_reported_and_from_domain_wins)
{
	struct target t;
	struct outcome o;

	target_init(&t);
	set_message(&t, "unsigned.eml");
	set_from(&t, "bounces@nokeys.mailer.test");
	o = run_dkim(test_ns(), &t);
	cr_assert_eq(finding(o.rep, "no_signature")->severity, SEV_WARN);
	cr_assert_str_eq(field(report_data_const(o.rep), "result"), "none");
	cr_assert_str_eq(field(report_data_const(o.rep), "domain"), "mailer.test");
	cr_assert_not_null(selector(o.rep, "default"), "probed under the From domain");
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, cli_json_carries_signatures_and_validates)
{
	char *msg = test_path("tests/dkim/signed-body.eml");
	const char *args[] = { "--message", msg, "--checks", "dkim", "--format", "json", NULL };
	struct test_proc p;
	json_t *doc, *c, *s;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	c = test_check(doc, "dkim");
	cr_assert_not_null(c);
	cr_assert_str_eq(field(c, "status"), "fail");
	s = json_array_get(json_object_get(c, "signatures"), 0);
	cr_assert_eq(json_integer_value(json_object_get(s, "index")), 0);
	cr_assert_str_eq(field(s, "result"), "fail");
	cr_assert_str_eq(field(s, "reason"), "body hash mismatch");
	cr_assert(test_has_finding(c, "signature_body_hash_mismatch"));
	cr_assert_eq(p.status, 2, "a failing DKIM signature makes the verdict 'blocked likely'");
	json_decref(doc);
	test_proc_release(&p);
	free(msg);
}

Test(dkim, a_broken_extra_signature_only_warns_when_another_passes)
{
	struct target t;
	struct outcome o;

	target_init(&t);
	set_message(&t, "signed-pass-and-revoked.eml");
	o = run_dkim(test_ns(), &t);
	cr_assert_str_eq(field(signature(o.rep, 0), "s"), "revoked");
	cr_assert_str_eq(field(signature(o.rep, 0), "result"), "permerror");
	cr_assert_str_eq(field(signature(o.rep, 1), "result"), "pass");
	cr_assert_eq(finding(o.rep, "other_signature_failed")->severity, SEV_WARN);
	cr_assert_null(report_find(o.rep, "signature_key_revoked"));
	cr_assert_str_eq(field(report_data_const(o.rep), "result"), "pass");
	cr_assert_eq(report_status(o.rep), CHECK_WARN);
	report_free(o.rep);
	target_release(&t);
}

Test(dkim, probe_lookup_failures_are_one_error)
{
	struct target t;
	struct outcome o;

	/* nothing listens on loopback port 1: every probe fails at once */
	target_init(&t);
	set_from(&t, "alice@mailer.test");
	o = run_dkim("127.0.0.1:1", &t);
	cr_assert_null(report_find(o.rep, "no_key_found"), "a failed probe is not 'no key'");
	cr_assert_eq(finding(o.rep, "probe_lookup_failed")->severity, SEV_ERROR);
	cr_assert_eq(report_nfindings(o.rep), 1);
	report_free(o.rep);
	target_release(&t);
}

/*
 * A message whose header holds n copies of the signature of signed-pass.eml,
 * copy i with s=sel<i> (so every key name is distinct), in a fresh temp file.
 */
static char *
many_signatures(size_t n)
{
	char *path = test_path("tests/dkim/signed-pass.eml"), *text, *from, *out;
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	size_t len, i, siglen;
	const char *sel;

	cr_assert_not_null(f);
	text = xmalloc(65536);
	len = fread(text, 1, 65535, f);
	text[len] = '\0';
	fclose(f);
	from = strstr(text, "\r\nFrom:");
	sel = strstr(text, "s=sel2048");
	cr_assert(from != NULL && sel != NULL && sel < from);
	siglen = (size_t)(from + 2 - text);
	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		strbuf_add(&sb, text, (size_t)(sel - text));
		strbuf_addf(&sb, "s=sel%zu", i);
		strbuf_add(&sb, sel + 9, siglen - (size_t)(sel + 9 - text));
	}
	strbuf_add(&sb, from + 2, len - siglen);
	out = test_temp_file(sb.buf, sb.len);
	strbuf_release(&sb);
	free(text);
	free(path);
	return out;
}

Test(dkim, signatures_past_the_limit_are_counted_not_checked)
{
	char *path = many_signatures(DKIM_MAX_SIGNATURES + 10);
	struct target t;
	struct error err;
	struct outcome o;
	const struct finding *f;
	json_t *sigs;

	target_init(&t);
	cr_assert_eq(target_set_message_file(&t, "--message", path, &err), 0, "%s", err.msg);
	o = run_dkim(test_ns(), &t);
	sigs = json_object_get(report_data_const(o.rep), "signatures");
	cr_expect_eq(json_array_size(sigs), DKIM_MAX_SIGNATURES);
	f = report_find(o.rep, "too_many_signatures");
	cr_assert_not_null(f);
	cr_expect_eq(f->severity, SEV_WARN);
	cr_expect_eq(json_integer_value(json_object_get(f->data, "signatures")),
	    DKIM_MAX_SIGNATURES + 10);
	cr_expect_eq(json_integer_value(json_object_get(f->data, "checked")), DKIM_MAX_SIGNATURES);
	/* the keys of the signatures left out are not looked up, by us or by libopendkim */
	cr_expect_leq(o.counters.sent, DKIM_MAX_SIGNATURES + 2, "sent %llu",
	    (unsigned long long)o.counters.sent);
	report_free(o.rep);
	target_release(&t);
	unlink(path);
	free(path);
}

Test(dkim, thousands_of_signatures_keep_the_deadline_and_a_small_document, .timeout = 120)
{
	const char *const slow[] = { "--all", "late300", NULL };
	char *path = many_signatures(5000), resolver[64];
	const char *const args[] = { "--from", "alice@mailer.test", "--message", path,
	    "--checks", "dkim", "--timeout", "2", "--format", "json", NULL };
	const char *san = getenv("WHY550_SANITIZER");
	struct test_proc p;
	int64_t start, ms;
	json_t *doc;
	pid_t pid;

	pid = test_faultdns_start(slow, resolver, sizeof(resolver));
	start = now_ms();
	test_why550(&p, resolver, args);
	ms = now_ms() - start;
	test_faultdns_stop(pid);
	doc = test_valid_json(&p);
	cr_expect(test_has_finding(test_check(doc, "dkim"), "too_many_signatures"));
	cr_expect_lt(strlen(p.out), 300 * 1024, "a document of %zu bytes", strlen(p.out));
	/* memcheck runs the parsing many times slower: only the size counts there */
	if (san == NULL || strcmp(san, "valgrind") != 0)
		cr_expect_lt(ms, 3500, "took %lld ms with --timeout 2", (long long)ms);
	json_decref(doc);
	test_proc_release(&p);
	unlink(path);
	free(path);
}
