/* End-to-end scenarios: fixture data that reproduces each cause, through the binary, asserting verdict, causes, remedies and exit code. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"
#include "core/cause.h"
#include "core/util.h"

enum via {
	VIA_NSD = 0,
	VIA_FAULT,
	VIA_DEAD,		/* a loopback port where nothing answers */
};

struct scenario {
	const char *name;
	enum via via;
	const char *args[16];
	const char *status;
	int exit_code;
	const char *top_cause;	/* NULL: no cause at all */
	const char *top_confidence;	/* NULL: any */
	const char *evidence[3];	/* checks that each give the top cause evidence */
	const char *summary_has;	/* words the top cause's summary holds, or NULL */
	const char *absent[8];	/* cause codes that must not be among the causes at all */
};

/* The demo's sender (tools/demo.sh): a shop mailing from a dynamic DSL address. */
#define DEMO_BOUNCE "550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using " \
	"zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.7"

/*
 * Every cause code is the top cause of a scenario that produces it, and
 * absent from one that must not produce it (the test after the table
 * checks both); the cases of a near miss come in pairs.
 */
static const struct scenario scenarios[] = {
	{ "listed IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl" },
	    "blocked_likely", 2, "ip_blocklisted", "high", { "dnsbl" }, NULL,
	    { "policy_other", "domain_blocklisted" } },
	/* all.s5h.net alone weighs 1, under the threshold of 3: a risk */
	{ "IPv6 address on all.s5h.net, which lists IPv6 too", VIA_NSD,
	    { "--ip", "2001:db8:5::5", "--checks", "dnsbl" },
	    "at_risk", 0, "ip_blocklisted", "medium", { "dnsbl" }, "all.s5h.net",
	    { "rdns_missing" } },
	{ "botnet controller on Spamhaus BCL (127.0.0.30)", VIA_NSD,
	    { "--ip", "198.51.100.30", "--checks", "dnsbl" },
	    "blocked_likely", 2, "ip_blocklisted", "high", { "dnsbl" }, "BCL", { NULL } },
	{ "IP on no list", VIA_NSD,
	    { "--ip", "192.0.2.1", "--checks", "rdns,dnsbl" },
	    "clean", 0, NULL, NULL, { NULL }, NULL,
	    { "ip_blocklisted", "rdns_missing", "rdns_generic", "record_style" } },
	{ "domain on a domain list", VIA_NSD,
	    { "--from", "bob@dbltest.com", "--checks", "dbl" },
	    "blocked_likely", 2, "domain_blocklisted", "high", { "dbl" }, NULL, { NULL } },
	/* multi.surbl.org weighs 2, under the threshold of 3: a risk, not a block */
	{ "disposable email domain on SURBL (bit 4, DM)", VIA_NSD,
	    { "--from", "bob@throwaway.test", "--checks", "dbl" },
	    "at_risk", 0, "domain_blocklisted", "medium", { "dbl" }, "SURBL DM",
	    { "ip_blocklisted" } },
	{ "domain on no domain list", VIA_NSD,
	    { "--from", "news@shop.test", "--checks", "dbl,sender_domain" },
	    "clean", 0, NULL, NULL, { NULL }, NULL,
	    { "domain_blocklisted", "sender_domain_invalid", "sender_verify_failed" } },
	{ "missing PTR", VIA_NSD,
	    { "--ip", "192.0.2.2", "--checks", "rdns" },
	    "blocked_likely", 2, "rdns_missing", "high", { "rdns" }, NULL, { "rdns_generic" } },
	{ "generic but forward-confirmed PTR is advice, not a missing PTR", VIA_NSD,
	    { "--ip", "192.0.2.4", "--checks", "rdns" },
	    "at_risk", 0, "rdns_generic", "medium", { "rdns" }, "dsl-192-0-2-4.pool.isp.test",
	    { "rdns_missing" } },
	{ "HELO localhost", VIA_NSD,
	    { "--ip", "192.0.2.1", "--helo", "localhost", "--checks", "helo" },
	    "blocked_likely", 2, "helo_invalid", "high", { "helo" }, NULL, { NULL } },
	{ "HELO that is the PTR name and resolves to the IP", VIA_NSD,
	    { "--ip", "192.0.2.1", "--helo", "mail.example.test", "--checks", "helo" },
	    "clean", 0, NULL, NULL, { NULL }, NULL, { "helo_invalid", "record_style" } },
	{ "HELO with characters no name has", VIA_NSD,
	    { "--ip", "192.0.2.1", "--helo", "mail_1.example.test", "--checks", "helo" },
	    "blocked_likely", 2, "helo_invalid", "high", { "helo" }, "not a domain name",
	    { NULL } },
	{ "SPF fail", VIA_NSD,
	    { "--ip", "203.0.113.7", "--from", "news@shop.test", "--checks", "spf" },
	    "blocked_likely", 2, "spf_fail", "high", { "spf" }, NULL,
	    { "spf_lookups_near_limit", "unauthenticated" } },
	{ "SPF pass with 8 of 10 lookups is advice, not an SPF failure", VIA_NSD,
	    { "--ip", "192.0.2.211", "--from", "a@nearpass.spf.test", "--checks", "spf" },
	    "at_risk", 0, "spf_lookups_near_limit", "low", { "spf" }, "8 of 10",
	    { "spf_fail", "unauthenticated" } },
	{ "no SPF record", VIA_NSD,
	    { "--ip", "192.0.2.1", "--from", "a@nospf.spf.test", "--checks", "spf" },
	    "at_risk", 0, "unauthenticated", "medium", { "spf" }, NULL, { "spf_fail" } },
	{ "SPF ending in ?all is a style receivers tolerate", VIA_NSD,
	    { "--ip", "192.0.2.1", "--from", "a@qall.spf.test", "--checks", "spf" },
	    "at_risk", 0, "record_style", "low", { "spf" }, NULL,
	    { "spf_fail", "unauthenticated" } },
	{ "DKIM key under 1024 bits", VIA_NSD,
	    { "--from", "a@mailer.test", "--selector", "sel512", "--checks", "dkim" },
	    "blocked_likely", 2, "dkim_fail", "high", { "dkim" }, NULL, { "dkim_key_weak" } },
	{ "1024-bit DKIM key is advice, not a DKIM failure", VIA_NSD,
	    { "--from", "a@mailer.test", "--selector", "sel1024", "--checks", "dkim" },
	    "at_risk", 0, "dkim_key_weak", "low", { "dkim" }, "1024 bits", { "dkim_fail" } },
	{ "2048-bit DKIM key", VIA_NSD,
	    { "--from", "a@mailer.test", "--selector", "sel2048", "--checks", "dkim" },
	    "clean", 0, NULL, NULL, { NULL }, NULL, { "dkim_fail", "dkim_key_weak" } },
	{ "DMARC reject with DKIM failing", VIA_NSD,
	    { "--ip", "203.0.113.7", "--from", "news@shop.test", "--message",
	    "@tests/data/demo.eml", "--checks", "spf,dkim,dmarc" },
	    "blocked_likely", 2, "dmarc_fail", "high", { "dmarc" }, NULL, { NULL } },
	{ "--from without a message leaves DMARC not evaluated, not failed", VIA_NSD,
	    { "--ip", "203.0.113.7", "--from", "news@shop.test", "--checks", "spf,dkim,dmarc" },
	    "blocked_likely", 2, "spf_fail", "high", { "spf" }, NULL, { "dmarc_fail" } },
	{ "null-MX sender", VIA_NSD,
	    { "--from", "news@dom-nullmx.test", "--checks", "sender_domain" },
	    "blocked_likely", 2, "sender_verify_failed", "high", { "sender_domain" }, NULL,
	    { NULL } },
	{ "sender domain with an empty label is diagnosed, not refused", VIA_NSD,
	    { "--ip", "192.0.2.1", "--from", "lyme.eater@A...example.com", "--checks",
	    "sender_domain,spf" },
	    "blocked_likely", 2, "sender_domain_invalid", "high", { "sender_domain" },
	    "not a domain name", { "spf_fail", "unauthenticated" } },
	{ "MAIL FROM without a local part is checked as postmaster", VIA_NSD,
	    { "--ip", "192.0.2.1", "--from", "@pass.spf.test", "--checks", "spf" },
	    "clean", 0, NULL, NULL, { NULL }, NULL, { "spf_fail", "sender_domain_invalid" } },
	{ "unknown recipient domain", VIA_NSD,
	    { "--to", "bob@missing.dom-nx.test", "--checks", "recipient" },
	    "blocked_likely", 2, "recipient_unknown", "high", { "recipient" }, NULL, { NULL } },
	{ "recipient domain that accepts mail", VIA_NSD,
	    { "--to", "alice@example.test", "--checks", "recipient" },
	    "clean", 0, NULL, NULL, { NULL }, NULL, { "recipient_unknown" } },
	{ "one list refusing the queries, the others answering", VIA_NSD,
	    { "--ip", "198.51.100.254", "--checks", "dnsbl" },
	    "clean", 0, NULL, NULL, { NULL }, NULL, { "ip_blocklisted" } },
	{ "resolver down", VIA_DEAD,
	    { "--ip", "192.0.2.1", "--helo", "mail.example.test", "--from", "bob@example.test",
	    "--timeout", "2" },
	    "inconclusive", 3, NULL, NULL, { NULL }, NULL, { NULL } },
	{ "bounce naming a list that lists the IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce",
	    "550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org" },
	    "blocked_likely", 2, "ip_blocklisted", "high", { "bounce", "dnsbl" },
	    "because of zen.spamhaus.org, and zen.spamhaus.org lists 203.0.113.7 right now",
	    { "policy_other" } },
	{ "temporary bounce raised by the list that lists the IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce",
	    "450 4.7.1 Client host [203.0.113.7] blocked using bl.spamcop.net" },
	    "blocked_likely", 2, "ip_blocklisted", "high", { "bounce", "dnsbl" },
	    "bl.spamcop.net lists 203.0.113.7 right now", { "deferred" } },
	{ "permanent bounce naming a list that does not list the IP now", VIA_NSD,
	    { "--ip", "192.0.2.1", "--checks", "dnsbl,bounce", "--bounce",
	    "554 5.7.1 Client host [192.0.2.1] blocked using bl.spamcop.net" },
	    "blocked_likely", 2, "ip_blocklisted", "medium", { "bounce" },
	    "bl.spamcop.net does not list it now", { NULL } },
	{ "550 Blocked alone: a refusal that gives no reason", VIA_DEAD,
	    { "--bounce", "550 Blocked" },
	    "blocked_likely", 2, "policy_other", NULL, { "bounce" }, "gives no reason",
	    { "deferred", "recipient_unknown", "greylisted", "ip_blocklisted" } },
	{ "550 Blocked from a listed IP: the listing explains it", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce", "550 Blocked" },
	    "blocked_likely", 2, "ip_blocklisted", "high", { "dnsbl" }, NULL, { "deferred" } },
	{ "4xx without a reason is a deferral", VIA_DEAD,
	    { "--bounce", "421 4.3.2 Service not available, closing transmission channel" },
	    "at_risk", 0, "deferred", NULL, { "bounce" }, "not a block",
	    { "policy_other", "rate_limited", "recipient_server_down" } },
	{ "bounce alone: mailbox full", VIA_DEAD,
	    { "--bounce", "552 5.2.2 The email account that you tried to reach is over quota" },
	    "blocked_likely", 2, "mailbox_full", "high", { "bounce" }, NULL,
	    { "recipient_disabled", "recipient_unknown", "message_too_large", "policy_other" } },
	{ "bounce alone: mailbox disabled", VIA_DEAD,
	    { "--bounce", "550 5.2.1 The email account that you tried to reach is disabled" },
	    "blocked_likely", 2, "recipient_disabled", "high", { "bounce" }, NULL,
	    { "mailbox_full", "relay_denied" } },
	{ "bounce alone: relay denied", VIA_DEAD,
	    { "--bounce", "554 5.7.1 <a@example.test>: Relay access denied" },
	    "blocked_likely", 2, "relay_denied", "high", { "bounce" }, NULL,
	    { "content_rejected", "rate_limited" } },
	{ "bounce alone: content refused", VIA_DEAD,
	    { "--bounce", "550 5.7.350 Remote server returned message detected as spam" },
	    "blocked_likely", 2, "content_rejected", "high", { "bounce" }, NULL,
	    { "message_too_large", "greylisted" } },
	{ "bounce alone: message too large", VIA_DEAD,
	    { "--bounce", "552 5.3.4 Message size exceeds fixed limit" },
	    "blocked_likely", 2, "message_too_large", "high", { "bounce" }, NULL,
	    { "mailbox_full", "content_rejected" } },
	{ "bounce alone: rate limited", VIA_DEAD,
	    { "--bounce", "421 4.7.0 Error: too many connections from 192.0.2.2" },
	    "at_risk", 0, "rate_limited", NULL, { "bounce" }, NULL, { "greylisted", "deferred" } },
	{ "bounce alone: greylisted", VIA_DEAD,
	    { "--bounce", "451 4.7.1 Greylisting in action, please come back later" },
	    "at_risk", 0, "greylisted", NULL, { "bounce" }, NULL,
	    { "deferred", "rate_limited", "policy_other" } },
	{ "an MTA's report: every MX refused the connection", VIA_DEAD,
	    { "--bounce", "connect to mx.example.test[192.0.2.25]:25: Connection refused" },
	    "at_risk", 0, "recipient_server_down", "medium", { "bounce" }, NULL,
	    { "port25_blocked", "connection_blocked" } },
	{ "a reply: outbound port 25 blocked", VIA_DEAD,
	    { "--bounce", "550 5.7.1 Outbound port 25 is blocked for this network; use 587" },
	    "blocked_likely", 2, "port25_blocked", NULL, { "bounce" }, NULL,
	    { "recipient_server_down", "connection_blocked" } },
	{ "a greeting that refuses the connection itself", VIA_DEAD,
	    { "--bounce", "554 No SMTP service here" },
	    "blocked_likely", 2, "connection_blocked", "high", { "bounce" }, NULL,
	    { "recipient_server_down", "port25_blocked" } },
};

/* The top cause has evidence from each check the scenario names, and says what it must. */
static void
expect_evidence(const struct scenario *sc, const json_t *top)
{
	const char *summary = json_string_value(json_object_get(top, "summary"));
	const json_t *ev;
	size_t i, k;

	for (k = 0; k < ARRAY_SIZE(sc->evidence) && sc->evidence[k] != NULL; k++) {
		bool found = false;

		json_array_foreach(json_object_get(top, "evidence"), i, ev)
			if (strcmp(json_string_value(json_object_get(ev, "check")),
			    sc->evidence[k]) == 0)
				found = true;
		cr_expect(found, "%s: no evidence from %s", sc->name, sc->evidence[k]);
	}
	if (sc->summary_has != NULL)
		cr_expect(summary != NULL && strstr(summary, sc->summary_has) != NULL,
		    "%s: the summary '%s' does not say '%s'", sc->name, summary ? summary : "",
		    sc->summary_has);
}

/* The cause called code among causes, or NULL. */
static const json_t *
cause_named(const json_t *causes, const char *code)
{
	const json_t *c;
	size_t i;

	json_array_foreach(causes, i, c)
		if (strcmp(json_string_value(json_object_get(c, "code")), code) == 0)
			return c;
	return NULL;
}

/*
 * Runs sc; its JSON document, also added to docs as one line, to validate
 * against the schema at once (one validator run for all: see
 * expect_valid). Arguments "@path" are relative to the source tree.
 */
static json_t *
run(const struct scenario *sc, struct test_proc *p, struct strbuf *docs)
{
	const char *args[16];
	char *owned = NULL, *line;
	json_t *doc;
	size_t i;

	for (i = 0; sc->args[i] != NULL; i++) {
		if (sc->args[i][0] == '@' && strcmp(sc->args[i - 1], "--message") == 0) {
			owned = test_path(sc->args[i] + 1);
			args[i] = owned;
		} else {
			args[i] = sc->args[i];
		}
	}
	args[i] = NULL;
	test_why550(p, sc->via == VIA_NSD ? test_ns() : sc->via == VIA_FAULT ? test_fault() :
	    "127.0.0.1:9", args);
	free(owned);
	doc = test_json(p->out);
	line = json_dumps(doc, JSON_COMPACT);
	strbuf_addf(docs, "%s\n", line);
	free(line);
	return doc;
}

/* Every document of docs (one a line, line N from the Nth scenario of what) validates. */
static void
expect_valid(const char *what, struct strbuf *docs)
{
	char why[8192];

	cr_expect(test_schema_valid(docs->buf != NULL ? docs->buf : "", true, why, sizeof(why)),
	    "%s: a document does not validate (line N: the Nth scenario): %s", what, why);
	strbuf_release(docs);
}

static void
expect_scenario(const struct scenario *sc, const struct test_proc *p, const json_t *doc)
{
	const json_t *verdict = json_object_get(doc, "verdict");
	const json_t *causes = json_object_get(verdict, "causes"), *top;
	size_t k;

	cr_expect_str_eq(json_string_value(json_object_get(verdict, "status")), sc->status,
	    "%s: status", sc->name);
	cr_expect_eq(p->status, sc->exit_code, "%s: exit %d, want %d (stderr: %s)", sc->name,
	    p->status, sc->exit_code, p->err);
	for (k = 0; k < ARRAY_SIZE(sc->absent) && sc->absent[k] != NULL; k++)
		cr_expect_null(cause_named(causes, sc->absent[k]), "%s: a cause %s", sc->name,
		    sc->absent[k]);
	if (sc->top_cause == NULL) {
		cr_expect_eq(json_array_size(causes), 0, "%s: %zu causes, want none", sc->name,
		    json_array_size(causes));
		return;
	}
	top = json_array_get(causes, 0);
	cr_assert_not_null(top, "%s: no cause", sc->name);
	cr_expect_str_eq(json_string_value(json_object_get(top, "code")), sc->top_cause,
	    "%s: top cause", sc->name);
	if (sc->top_confidence != NULL)
		cr_expect_str_eq(json_string_value(json_object_get(top, "confidence")),
		    sc->top_confidence, "%s: confidence", sc->name);
	cr_expect_gt(strlen(json_string_value(json_object_get(top, "remedy"))), 20,
	    "%s: the top cause has no real remedy", sc->name);
	cr_expect_gt(json_array_size(json_object_get(top, "evidence")), 0,
	    "%s: the top cause has no evidence", sc->name);
	expect_evidence(sc, top);
}

/* True if cause has evidence from a finding that puts the sender on the smarthost plan. */
static bool
sets_smarthost_plan(const json_t *cause)
{
	const json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(cause, "evidence"), i, ev) {
		const char *f = json_string_value(json_object_get(ev, "finding"));

		if (strcmp(f, "policy_listed") == 0 || strcmp(f, "ptr_generic") == 0)
			return true;
	}
	return false;
}

/*
 * One plan: when a cause says "do not send from this address, relay
 * through a smarthost", no other cause may tell the user to do something
 * for that same IP (authorise it in SPF, point the HELO or PTR at it).
 */
static void
expect_one_plan(const char *name, const char *ip, const json_t *doc)
{
	const json_t *causes = json_object_get(json_object_get(doc, "verdict"), "causes"), *c;
	bool plan = false;
	size_t i;

	json_array_foreach(causes, i, c)
		if (sets_smarthost_plan(c) && strcmp(json_string_value(json_object_get(c,
		    "confidence")), "low") != 0)
			plan = true;
	if (!plan || ip == NULL)
		return;
	json_array_foreach(causes, i, c) {
		const char *remedy = json_string_value(json_object_get(c, "remedy"));

		if (!sets_smarthost_plan(c))
			cr_expect_null(strstr(remedy, ip), "%s: %s says to act on %s beside the "
			    "smarthost plan: %s", name, json_string_value(json_object_get(c, "code")),
			    ip, remedy);
	}
}

/* The value after --ip in args, or NULL. */
static const char *
ip_of(const char *const *args)
{
	size_t i;

	for (i = 0; args[i] != NULL && args[i + 1] != NULL; i++)
		if (strcmp(args[i], "--ip") == 0)
			return args[i + 1];
	return NULL;
}

/* Runs the n scenarios of list, each checked for what it names and for one plan; all validate. */
static void
run_all(const struct scenario *list, size_t n, const char *what)
{
	struct strbuf docs;
	size_t i;

	strbuf_init(&docs);
	for (i = 0; i < n; i++) {
		struct test_proc p;
		json_t *doc = run(&list[i], &p, &docs);

		expect_scenario(&list[i], &p, doc);
		expect_one_plan(list[i].name, ip_of(list[i].args), doc);
		json_decref(doc);
		test_proc_release(&p);
	}
	expect_valid(what, &docs);
}

Test(scenarios, each_cause_gives_its_verdict_top_cause_exit_code_and_one_plan)
{
	run_all(scenarios, ARRAY_SIZE(scenarios), "the scenario table");
}

Test(scenarios, every_cause_code_has_a_scenario_that_gives_it_and_one_that_must_not)
{
	int c;
	size_t i, k;

	for (c = CAUSE_NONE + 1; c < CAUSE_END; c++) {
		const char *name = cause_name((enum cause_code)c);
		bool gives = false, must_not = false;

		for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
			if (scenarios[i].top_cause != NULL &&
			    strcmp(scenarios[i].top_cause, name) == 0)
				gives = true;
			for (k = 0; k < ARRAY_SIZE(scenarios[i].absent) &&
			    scenarios[i].absent[k] != NULL; k++)
				if (strcmp(scenarios[i].absent[k], name) == 0)
					must_not = true;
		}
		cr_expect(gives, "no scenario gives %s", name);
		cr_expect(must_not, "no scenario must not give %s", name);
	}
}

/* Scenarios whose plan competes with direct-sending fixes (the table above is checked too). */
Test(scenarios, no_remedy_contradicts_a_smarthost_plan)
{
	static const struct scenario more[] = {
		{ "the demo", VIA_NSD,
		    { "--ip", "203.0.113.7", "--helo", "mail.shop.test", "--from", "news@shop.test",
		    "--to", "alice@example.test", "--message", "@tests/data/demo.eml", "--bounce",
		    DEMO_BOUNCE },
		    "blocked_likely", 2, "ip_blocklisted", "high", { "dnsbl", "bounce" },
		    "zen.spamhaus.org lists 203.0.113.7 right now", { NULL } },
		{ "a generic PTR below an SPF failure", VIA_NSD,
		    { "--ip", "203.0.113.7", "--helo", "mail.shop.test", "--from", "news@shop.test",
		    "--checks", "rdns,helo,spf" },
		    "blocked_likely", 2, "spf_fail", "high", { "spf" }, NULL, { NULL } },
		{ "an SPF refusal from an address on a policy list", VIA_NSD,
		    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce",
		    "550 5.7.23 SPF validation failed" },
		    "blocked_likely", 2, "spf_fail", "high", { "bounce" }, NULL, { NULL } },
	};
	run_all(more, ARRAY_SIZE(more), "the plan scenarios");
}

Test(scenarios, the_demo_top_cause_is_the_smarthost_without_authorising_its_ip)
{
	static const char *const args[] = { "--ip", "203.0.113.7", "--helo", "mail.shop.test",
	    "--from", "news@shop.test", "--to", "alice@example.test", "--bounce", DEMO_BOUNCE,
	    "--format", "json", NULL };
	struct test_proc p;
	const json_t *causes, *c;
	json_t *doc;
	size_t i;

	test_why550(&p, test_ns(), args);
	doc = test_valid_json(&p);
	causes = json_object_get(json_object_get(doc, "verdict"), "causes");
	c = json_array_get(causes, 0);
	cr_assert_str_eq(json_string_value(json_object_get(c, "code")), "ip_blocklisted");
	cr_expect_not_null(strstr(json_string_value(json_object_get(c, "remedy")), "smarthost"));
	json_array_foreach(causes, i, c) {
		const char *remedy = json_string_value(json_object_get(c, "remedy"));

		cr_expect_null(strstr(remedy, "ip4:203.0.113.7"), "%s: %s",
		    json_string_value(json_object_get(c, "code")), remedy);
	}
	c = cause_named(causes, "spf_fail");
	cr_assert_not_null(c, "the demo's SPF fails");
	cr_expect_not_null(strstr(json_string_value(json_object_get(c, "remedy")), "smarthost"),
	    "SPF is fixed for the smarthost path");
	cr_expect_eq(p.status, 2);
	json_decref(doc);
	test_proc_release(&p);
}

Test(scenarios, failed_dns_never_reads_as_listed_or_clean)
{
	/* every check runs, the resolver is gone: no cause may come from the silence */
	const char *args[] = { "--ip", "203.0.113.7", "--helo", "mail.shop.test", "--from",
	    "news@shop.test", "--to", "alice@example.test", "--timeout", "2", NULL };
	struct test_proc p;
	json_t *doc, *checks, *c;
	size_t i;

	test_why550(&p, "127.0.0.1:9", args);
	doc = test_json(p.out);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "verdict"),
	    "status")), "inconclusive");
	cr_assert_eq(json_array_size(json_object_get(json_object_get(doc, "verdict"), "causes")), 0);
	checks = json_object_get(doc, "checks");
	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		cr_expect(strcmp(st, "fail") != 0 && strcmp(st, "pass") != 0,
		    "check %s says '%s' with no DNS", json_string_value(json_object_get(c, "name")), st);
	}
	cr_assert_eq(p.status, 3);
	json_decref(doc);
	test_proc_release(&p);
}
