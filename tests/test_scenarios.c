/* End-to-end scenarios: fixture data that reproduces each cause, through the binary, asserting verdict, top cause and exit code. */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"
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
	const char *top_cause;	/* NULL: no cause at all */
	const char *top_confidence;
	int exit_code;
	const char *evidence[3];	/* checks that each give the top cause evidence */
	const char *summary_has;	/* words the top cause's summary holds, or NULL */
};

static const struct scenario scenarios[] = {
	{ "listed IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl" },
	    "blocked_likely", "ip_blocklisted", "high", 2, { "dnsbl" }, NULL },
	{ "missing PTR", VIA_NSD,
	    { "--ip", "192.0.2.2", "--checks", "rdns" },
	    "blocked_likely", "rdns_missing", "high", 2, { NULL }, NULL },
	{ "generic PTR only puts the sender at risk", VIA_NSD,
	    { "--ip", "192.0.2.4", "--checks", "rdns" },
	    "at_risk", "rdns_missing", "medium", 0, { NULL }, NULL },
	{ "SPF fail", VIA_NSD,
	    { "--ip", "203.0.113.7", "--from", "news@shop.test", "--checks", "spf" },
	    "blocked_likely", "spf_fail", "high", 2, { NULL }, NULL },
	{ "DMARC reject with DKIM failing", VIA_NSD,
	    { "--ip", "203.0.113.7", "--from", "news@shop.test", "--message",
	    "@tests/data/demo.eml", "--checks", "spf,dkim,dmarc" },
	    "blocked_likely", "dmarc_fail", "high", 2, { NULL }, NULL },
	{ "null-MX sender", VIA_NSD,
	    { "--from", "news@dom-nullmx.test", "--checks", "sender_domain" },
	    "blocked_likely", "sender_verify_failed", "high", 2, { NULL }, NULL },
	{ "unknown recipient domain", VIA_NSD,
	    { "--to", "bob@missing.dom-nx.test", "--checks", "recipient" },
	    "blocked_likely", "recipient_unknown", "high", 2, { NULL }, NULL },
	{ "one list refusing the queries, the others answering", VIA_NSD,
	    { "--ip", "198.51.100.254", "--checks", "dnsbl" },
	    "clean", NULL, NULL, 0, { NULL }, NULL },
	{ "resolver down", VIA_DEAD,
	    { "--ip", "192.0.2.1", "--helo", "mail.example.test", "--from", "bob@example.test",
	    "--timeout", "2" },
	    "inconclusive", NULL, NULL, 3, { NULL }, NULL },
	{ "clean sender", VIA_NSD,
	    { "--ip", "192.0.2.1", "--checks", "rdns,dnsbl" },
	    "clean", NULL, NULL, 0, { NULL }, NULL },
	{ "bounce naming a list that lists the IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce",
	    "550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org" },
	    "blocked_likely", "ip_blocklisted", "high", 2, { "bounce", "dnsbl" },
	    "because of zen.spamhaus.org, and zen.spamhaus.org lists 203.0.113.7 right now" },
	{ "temporary bounce raised by the list that lists the IP", VIA_NSD,
	    { "--ip", "203.0.113.7", "--checks", "dnsbl,bounce", "--bounce",
	    "450 4.7.1 Client host [203.0.113.7] blocked using bl.spamcop.net" },
	    "blocked_likely", "ip_blocklisted", "high", 2, { "bounce", "dnsbl" },
	    "bl.spamcop.net lists 203.0.113.7 right now" },
	{ "bounce naming a list that does not list the IP now", VIA_NSD,
	    { "--ip", "192.0.2.1", "--checks", "dnsbl,bounce", "--bounce",
	    "554 5.7.1 Client host [192.0.2.1] blocked using bl.spamcop.net" },
	    "at_risk", "ip_blocklisted", "medium", 0, { "bounce" },
	    "bl.spamcop.net does not list it now" },
	{ "bounce alone: mailbox full", VIA_DEAD,
	    { "--bounce", "552 5.2.2 The email account that you tried to reach is over quota" },
	    "blocked_likely", "mailbox_full", "high", 2, { NULL }, NULL },
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

/* Arguments naming a file as "@path" are relative to the source tree. */
static void
run(const struct scenario *sc, struct test_proc *p, char **owned)
{
	const char *args[16];
	size_t i;

	for (i = 0; sc->args[i] != NULL; i++) {
		if (sc->args[i][0] == '@' && strcmp(sc->args[i - 1], "--message") == 0) {
			*owned = test_path(sc->args[i] + 1);
			args[i] = *owned;
		} else {
			args[i] = sc->args[i];
		}
	}
	args[i] = NULL;
	test_why550(p, sc->via == VIA_NSD ? test_ns() : sc->via == VIA_FAULT ? test_fault() :
	    "127.0.0.1:9", args);
}

Test(scenarios, each_cause_gives_its_verdict_top_cause_and_exit_code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct test_proc p;
		char *owned = NULL;
		char why[4096];
		json_t *doc, *verdict, *causes, *top;

		run(sc, &p, &owned);
		cr_expect(test_schema_valid(p.out, false, why, sizeof(why)),
		    "%s: output does not validate: %s", sc->name, why);
		doc = test_json(p.out);
		verdict = json_object_get(doc, "verdict");
		causes = json_object_get(verdict, "causes");
		cr_expect_str_eq(json_string_value(json_object_get(verdict, "status")), sc->status,
		    "%s: status", sc->name);
		cr_expect_eq(p.status, sc->exit_code, "%s: exit %d, want %d (stderr: %s)", sc->name,
		    p.status, sc->exit_code, p.err);
		if (sc->top_cause == NULL) {
			cr_expect_eq(json_array_size(causes), 0, "%s: %zu causes, want none",
			    sc->name, json_array_size(causes));
		} else {
			top = json_array_get(causes, 0);
			cr_expect_not_null(top, "%s: no cause", sc->name);
			cr_expect_str_eq(json_string_value(json_object_get(top, "code")), sc->top_cause,
			    "%s: top cause", sc->name);
			cr_expect_str_eq(json_string_value(json_object_get(top, "confidence")),
			    sc->top_confidence, "%s: confidence", sc->name);
			cr_expect_gt(strlen(json_string_value(json_object_get(top, "remedy"))), 20,
			    "%s: the top cause has no real remedy", sc->name);
			cr_expect_gt(json_array_size(json_object_get(top, "evidence")), 0,
			    "%s: the top cause has no evidence", sc->name);
			expect_evidence(sc, top);
		}
		json_decref(doc);
		test_proc_release(&p);
		free(owned);
	}
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
