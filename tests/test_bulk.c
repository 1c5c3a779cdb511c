/*
 * Tests of the bulk check (checks/bulk/bulk.c) through the runner, beside
 * the real spf, dkim, dmarc and rdns checks against the NSD fixture, on
 * messages built and signed (tests/tool_dkimsign.c) by each test: each
 * requirement on a message that meets it and on one that does not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "checks/check.h"
#include "core/conf.h"
#include "core/target.h"
#include "core/util.h"
#include "src/runner.h"

extern const struct check_ops check_spf, check_dkim, check_dmarc, check_rdns, check_bulk;

/* The TLS the probe saw, as this test's stand-in for the smtp check reports it ("" : not run). */
static const char *probe_starttls;

static void
fake_smtp_run(const void *ctx, const struct target *t, struct dns *dns, struct report *rep)
{
	(void)ctx;
	(void)t;
	(void)dns;
	if (probe_starttls == NULL || probe_starttls[0] == '\0') {
		report_skip(rep, "not asked");
		return;
	}
	json_object_set_new(report_data(rep), "tls", json_pack("{s:s,s:s}", "host",
	    "mx.probe.test", "starttls", probe_starttls));
}

static const struct check_ops fake_smtp = {
	.name = "smtp",
	.summary = "the probe's TLS, as the test sets it",
	.run = fake_smtp_run,
};

/* What a test message holds; NULL fields are left out. */
struct msg {
	const char *from, *from2, *date, *message_id, *message_id2, *unsub, *post;
	const char *domain, *selector;	/* sign with d= and s= (NULL: unsigned) */
	const char *signed_headers;	/* the h= list (NULL: every field) */
};

/* A compliant newsletter of probe.test, signed with the fixture's key. */
static const struct msg good = {
	.from = "News <news@probe.test>", .date = "Thu, 04 Dec 2025 10:00:00 +0000",
	.message_id = "<n1@probe.test>",
	.unsub = "<https://probe.test/u?id=1>, <mailto:unsub@probe.test>",
	.post = "List-Unsubscribe=One-Click", .domain = "probe.test", .selector = "default",
};

static char *
build(const struct msg *m)
{
	struct strbuf sb;
	char *key, *bin, *text;
	struct test_proc p;

	strbuf_init(&sb);
	if (m->from != NULL)
		strbuf_addf(&sb, "From: %s\n", m->from);
	if (m->from2 != NULL)
		strbuf_addf(&sb, "From: %s\n", m->from2);
	strbuf_addstr(&sb, "To: alice@example.test\nSubject: December news\n");
	if (m->date != NULL)
		strbuf_addf(&sb, "Date: %s\n", m->date);
	if (m->message_id != NULL)
		strbuf_addf(&sb, "Message-ID: %s\n", m->message_id);
	if (m->message_id2 != NULL)
		strbuf_addf(&sb, "Message-ID: %s\n", m->message_id2);
	if (m->unsub != NULL)
		strbuf_addf(&sb, "List-Unsubscribe: %s\n", m->unsub);
	if (m->post != NULL)
		strbuf_addf(&sb, "List-Unsubscribe-Post: %s\n", m->post);
	strbuf_addstr(&sb, "\nHello, here is our news.\n");
	if (m->domain == NULL)
		return strbuf_detach(&sb, NULL);
	key = test_path("tests/dkim/sel2048.pem");
	bin = xasprintf("%s/tests/dkimsign", test_env("WHY550_BUILD"));
	{
		const char *argv[] = { bin, "--key", key, "--domain", m->domain, "--selector",
		    m->selector, m->signed_headers != NULL ? "--headers" : NULL, m->signed_headers,
		    NULL };

		test_proc_run(&p, argv, sb.buf, 30);
	}
	cr_assert_eq(p.status, 0, "dkimsign: %s", p.err);
	text = xstrdup(p.out);
	test_proc_release(&p);
	strbuf_release(&sb);
	free(key);
	free(bin);
	return text;
}

/* One run of spf, dkim, dmarc, rdns, the stand-in smtp and bulk. */
struct run {
	struct conf *conf;
	struct runner *r;
	struct dns_engine *eng;
	struct target t;
	struct run_result res;
	char *path;
};

static void
run_msg(struct run *x, const struct msg *m, const char *ip, const char *mail_from,
    const char *extra_conf)
{
	static const struct check_ops *const checks[] = {
		&check_spf, &check_dkim, &check_dmarc, &check_rdns, &fake_smtp, &check_bulk,
	};
	static const char *const files[] = { "spf", "dkim", "dmarc", "rdns", "bulk", "psl",
	    "verdict" };
	struct error err = { "" };
	char *text = build(m), *path;
	bool usage;
	size_t i;

	memset(x, 0, sizeof(*x));
	x->conf = conf_new();
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		path = xasprintf("%s/checks.d/%s.conf", getenv("WHY550_ROOT"), files[i]);
		cr_assert_eq(conf_load_file(x->conf, path, NULL, &err), 0, "%s", err.msg);
		free(path);
	}
	if (extra_conf != NULL)
		cr_assert_eq(conf_load_file(x->conf, "test.conf", extra_conf, &err), 0, "%s",
		    err.msg);
	x->r = runner_new_checks(checks, ARRAY_SIZE(checks), x->conf, NULL, &usage, &err);
	cr_assert_not_null(x->r, "%s", err.msg);
	x->eng = test_engine(test_ns(), 500, 2);
	target_init(&x->t);
	x->path = test_temp_file(text, strlen(text));
	cr_assert_eq(target_set_ip(&x->t, "--ip", ip, &err), 0, "%s", err.msg);
	cr_assert_eq(target_set_mail_from(&x->t, "--from", mail_from, &err), 0, "%s", err.msg);
	cr_assert_eq(target_set_message_file(&x->t, "--message", x->path, &err), 0, "%s", err.msg);
	runner_run(x->r, x->eng, &x->t, 10000, &x->res);
	free(text);
}

static void
run_release(struct run *x)
{
	run_result_release(&x->res);
	target_release(&x->t);
	dns_engine_free(x->eng);
	runner_free(x->r);
	conf_free(x->conf);
	unlink(x->path);
	free(x->path);
}

static const struct report *
bulk_report(const struct run *x)
{
	size_t i;

	for (i = 0; i < x->res.nreports; i++)
		if (strcmp(report_name(x->res.reports[i]), "bulk") == 0)
			return x->res.reports[i];
	cr_assert_fail("no bulk report");
	return NULL;
}

/* The status of requirement id ("met", "failed", "not_checked"). */
static const char *
status_of(const struct run *x, const char *id)
{
	const json_t *list = json_object_get(report_data_const(bulk_report(x)), "requirements");
	const json_t *r;
	size_t i;

	json_array_foreach(list, i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			return json_string_value(json_object_get(r, "status"));
	return "(absent)";
}

Test(bulk, compliant_message_meets_every_requirement_it_can_check)
{
	static const char *const ids[] = { "spf", "dkim", "dmarc_record", "dmarc_aligned", "ptr",
	    "rfc5322_from", "rfc5322_date", "rfc5322_message_id", "unsubscribe_https",
	    "unsubscribe_one_click", "unsubscribe_signed" };
	struct run x;
	size_t i;

	probe_starttls = "";
	run_msg(&x, &good, "192.0.2.1", "news@probe.test", NULL);
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		cr_expect_str_eq(status_of(&x, ids[i]), "met", "%s", ids[i]);
	cr_expect_str_eq(status_of(&x, "tls"), "not_checked", "no probe ran");
	test_expect_no_negative(bulk_report(&x));
	cr_expect(strstr(report_find(bulk_report(&x), "requirements_not_checked")->message,
	    "--probe") != NULL, "says how to check TLS");
	run_release(&x);
}

/* A message that fails one requirement: the finding, with its requirement and sources. */
struct fail_case {
	const char *name;
	struct msg m;
	const char *ip;
	const char *mail_from;
	const char *requirement;
	const char *finding;
	const char *detail;		/* the finding's detail mentions this */
};

static void
expect_failure(const struct fail_case *c)
{
	const struct finding *f;
	struct run x;

	probe_starttls = "";
	run_msg(&x, &c->m, c->ip, c->mail_from, NULL);
	cr_expect_str_eq(status_of(&x, c->requirement), "failed", "%s", c->name);
	f = report_find(bulk_report(&x), c->finding);
	cr_assert_not_null(f, "%s: no %s", c->name, c->finding);
	cr_expect_str_eq(json_string_value(json_object_get(f->data, "requirement")),
	    c->requirement, "%s", c->name);
	cr_expect(strstr(json_string_value(json_object_get(f->data, "sources")),
	    "support.google.com") != NULL, "%s: cites Google's page", c->name);
	cr_expect(strstr(json_string_value(json_object_get(f->data, "detail")), c->detail) != NULL,
	    "%s: detail '%s'", c->name, json_string_value(json_object_get(f->data, "detail")));
	run_release(&x);
}

Test(bulk, each_one_click_unsubscribe_fault_is_named)
{
	static const char other[] = "From:To:Subject:Date:Message-ID";
	struct fail_case cases[] = {
		{ "no List-Unsubscribe", good, "192.0.2.1", "news@probe.test",
		  "unsubscribe_https", "unsubscribe_missing", "no List-Unsubscribe" },
		{ "mailto only", good, "192.0.2.1", "news@probe.test", "unsubscribe_https",
		  "unsubscribe_missing", "only mailto:" },
		{ "no List-Unsubscribe-Post", good, "192.0.2.1", "news@probe.test",
		  "unsubscribe_one_click", "unsubscribe_post_missing", "no List-Unsubscribe-Post" },
		{ "post of another value", good, "192.0.2.1", "news@probe.test",
		  "unsubscribe_one_click", "unsubscribe_post_missing", "is not" },
		{ "fields outside h=", good, "192.0.2.1", "news@probe.test", "unsubscribe_signed",
		  "unsubscribe_not_signed", "h= tag" },
	};
	size_t i;

	cases[0].m.unsub = NULL;
	cases[1].m.unsub = "<mailto:unsub@probe.test>";
	cases[2].m.post = NULL;
	cases[3].m.post = "Unsubscribe=Yes";
	cases[4].m.signed_headers = other;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_failure(&cases[i]);
}

Test(bulk, rfc_5322_fields_must_appear_exactly_once)
{
	struct fail_case cases[] = {
		{ "two From", good, "192.0.2.1", "news@probe.test", "rfc5322_from",
		  "from_not_single", "2 From" },
		{ "no Date", good, "192.0.2.1", "news@probe.test", "rfc5322_date",
		  "date_not_single", "0 Date" },
		{ "no Message-ID", good, "192.0.2.1", "news@probe.test", "rfc5322_message_id",
		  "message_id_not_single", "0 Message-ID" },
		{ "two Message-ID", good, "192.0.2.1", "news@probe.test", "rfc5322_message_id",
		  "message_id_not_single", "2 Message-ID" },
	};
	size_t i;

	cases[0].m.from2 = "Other <other@probe.test>";
	cases[1].m.date = NULL;
	cases[2].m.message_id = NULL;
	cases[3].m.message_id2 = "<n2@probe.test>";
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_failure(&cases[i]);
}

Test(bulk, authentication_and_ptr_come_from_the_other_checks)
{
	struct fail_case cases[] = {
		{ "unsigned", good, "192.0.2.1", "news@probe.test", "dkim", "dkim_not_passing",
		  "none" },
		{ "ip outside SPF", good, "192.0.2.3", "news@probe.test", "spf", "spf_not_passing",
		  "fail" },
		{ "no PTR", good, "192.0.2.2", "news@probe.test", "ptr", "ptr_not_confirmed",
		  "PTR" },
		{ "From domain without DMARC", good, "192.0.2.1", "news@mailer.test",
		  "dmarc_record", "dmarc_missing", "no DMARC record" },
		{ "signed and sent for another domain", good, "192.0.2.1", "news@mailer.test",
		  "dmarc_aligned", "dmarc_not_aligned", "DMARC gives" },
	};
	size_t i;

	cases[0].m.domain = NULL;
	cases[3].m.from = "News <news@mailer.test>";
	cases[3].m.domain = "mailer.test";
	cases[3].m.selector = "sel2048";
	cases[4].m.domain = "mailer.test";
	cases[4].m.selector = "sel2048";
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_failure(&cases[i]);
}

Test(bulk, tls_requirement_reads_the_probe)
{
	struct run x;

	probe_starttls = "ok";
	run_msg(&x, &good, "192.0.2.1", "news@probe.test", NULL);
	cr_expect_str_eq(status_of(&x, "tls"), "met");
	run_release(&x);
	probe_starttls = "failed";
	run_msg(&x, &good, "192.0.2.1", "news@probe.test", NULL);
	cr_expect_str_eq(status_of(&x, "tls"), "failed");
	cr_expect_eq(report_find(bulk_report(&x), "tls_unavailable")->severity, SEV_WARN);
	run_release(&x);
}

Test(bulk, transactional_mail_leaves_one_click_unsubscribe_out)
{
	struct msg m = good;
	struct run x;

	m.unsub = NULL;
	m.post = NULL;
	probe_starttls = "";
	run_msg(&x, &m, "192.0.2.1", "news@probe.test", "[bulk]\nmarketing = no\n");
	cr_expect_str_eq(status_of(&x, "unsubscribe_https"), "(absent)");
	cr_expect_null(report_find(bulk_report(&x), "unsubscribe_missing"));
	run_release(&x);
}

Test(bulk, a_failed_requirement_is_a_cause_whose_remedy_says_what_to_add)
{
	struct msg m = good;
	const struct cause *c = NULL;
	struct run x;
	size_t i;

	m.post = NULL;
	probe_starttls = "";
	run_msg(&x, &m, "192.0.2.1", "news@probe.test", NULL);
	for (i = 0; i < x.res.verdict.ncauses && c == NULL; i++) {
		const json_t *ev = json_array_get(x.res.verdict.causes[i].evidence, 0);

		if (strcmp(json_string_value(json_object_get(ev, "check")), "bulk") == 0)
			c = &x.res.verdict.causes[i];
	}
	cr_assert_not_null(c, "no cause from the bulk check");
	cr_expect(strstr(c->remedy, "List-Unsubscribe-Post: List-Unsubscribe=One-Click") != NULL,
	    "%s", c->remedy);
	cr_expect_eq(x.res.verdict.status, VERDICT_AT_RISK, "a requirement, not a rejection");
	run_release(&x);
}

Test(bulk, bad_configuration_names_file_and_line)
{
	struct conf *conf = conf_new();
	struct error err = { "" };
	void *ctx = NULL;

	cr_assert_eq(conf_load_file(conf, "bad.conf", "[bulk]\nmarketing = perhaps\n", &err), 0);
	cr_expect_eq(check_bulk.configure(&ctx, conf, &err), -1);
	cr_expect(strstr(err.msg, "bad.conf:2") != NULL, "%s", err.msg);
	conf_free(conf);
}
