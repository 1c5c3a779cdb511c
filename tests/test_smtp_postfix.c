/*
 * The SMTP probe against a real receiving MTA: a private Postfix in a
 * network namespace of its own (tests/postfix.sh), whose restrictions
 * reject_rbl_client, reject_unknown_reverse_client_hostname,
 * reject_unknown_sender_domain and reject_unlisted_recipient act on the
 * fixture zones, and whose own rejection texts why550 must diagnose.
 * Needs root; without it every test fails and says why (CI runs as root).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "core/util.h"

/* The harness's folder, set by the hook before any test runs. */
static char harness_dir[4096];

/* Starts the namespace, NSD and Postfix once for the whole program. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	const char *tmp = getenv("WHY550_TMP"), *root = getenv("WHY550_ROOT");
	char cmd[8192], line[512] = "", ns[256] = "";
	FILE *p;

	(void)set;
	if (tmp == NULL || root == NULL) {
		setenv("WHY550_NETNS_ERROR", "run the tests through tests/run.sh (make check)", 1);
		return;
	}
	snprintf(harness_dir, sizeof(harness_dir), "%s/postfix-%ld", tmp, (long)getpid());
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/postfix.sh' start '%s' %ld 2>&1", root,
	    harness_dir, (long)getpid());
	if ((p = popen(cmd, "r")) == NULL) {
		setenv("WHY550_NETNS_ERROR", "cannot run tests/postfix.sh", 1);
		return;
	}
	while (fgets(line, sizeof(line), p) != NULL)
		if (sscanf(line, "netns %255s", ns) != 1)
			fputs(line, stderr);
	if (pclose(p) != 0 || ns[0] == '\0') {
		setenv("WHY550_NETNS_ERROR", "tests/postfix.sh could not set up Postfix in a "
		    "network namespace (its message is above; it needs root)", 1);
		return;
	}
	setenv("WHY550_NETNS", ns, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *root = getenv("WHY550_ROOT");
	char cmd[8192];

	(void)stats;
	if (harness_dir[0] == '\0' || root == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/postfix.sh' stop '%s'", root, harness_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_smtp_postfix: tests/postfix.sh stop failed\n");
}

/* The namespace the harness made; fails the test, loudly, when there is none. */
static const char *
netns(void)
{
	const char *err = getenv("WHY550_NETNS_ERROR"), *ns = getenv("WHY550_NETNS");

	if (err != NULL)
		cr_assert_fail("no Postfix fixture: %s", err);
	cr_assert_not_null(ns, "no Postfix fixture");
	return ns;
}

/* why550 inside the namespace, its resolver the NSD there, the probe from source (also --ip). */
static json_t *
probe(struct test_proc *p, const char *source, const char *from, const char *to)
{
	/* short connection times, for the port 25 case */
	char *dir = test_config_dir("[smtp]\nconnect_timeout = 1\ncontrol_timeout = 1\n");
	const char *argv[] = { "/usr/sbin/ip", "netns", "exec", netns(), test_env("WHY550_BIN"),
	    "--config-dir", dir, "--resolver", "127.0.0.1:53", "--probe", "--probe-source", source,
	    "--ip", source, "--helo", "mail.example.test", "--from", from, "--to", to,
	    "--timeout", "20", "--format", "json", NULL };
	json_t *doc;

	test_proc_run(p, argv, NULL, 60);
	doc = test_valid_json(p);
	free(dir);
	return doc;
}

static const char *
top_cause(json_t *doc)
{
	const char *c = json_string_value(json_object_get(json_array_get(json_object_get(
	    json_object_get(doc, "verdict"), "causes"), 0), "code"));

	return c != NULL ? c : "(none)";
}

static const char *
smtp_str(json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(test_check(doc, "smtp"), key));

	return s != NULL ? s : "(none)";
}

/* The probe's first finding of code. */
static json_t *
smtp_finding(json_t *doc, const char *code)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(test_check(doc, "smtp"), "findings"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "code")), code) == 0)
			return f;
	cr_assert_fail("no smtp finding %s", code);
	return NULL;
}

/* A probe refused by one of Postfix's restrictions: the result, the stage, the top cause. */
struct refusal {
	const char *name;
	const char *source, *from, *to;
	const char *cause;		/* the classifier's and the verdict's top cause */
	const char *wording;		/* what Postfix's own reply says */
};

static void
expect_refusal(const struct refusal *r)
{
	struct test_proc p;
	json_t *doc = probe(&p, r->source, r->from, r->to), *f, *data;

	cr_expect_eq(p.status, 2, "%s: exit %d (%s)", r->name, p.status, p.err);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(doc, "verdict"),
	    "status")), "blocked_likely", "%s", r->name);
	cr_expect_str_eq(top_cause(doc), r->cause, "%s: %s", r->name, p.out);
	cr_expect_str_eq(smtp_str(doc, "result"), "rejected", "%s", r->name);
	f = smtp_finding(doc, "probe_rejected");
	data = json_object_get(f, "data");
	cr_expect_str_eq(json_string_value(json_object_get(data, "cause")), r->cause, "%s",
	    r->name);
	cr_expect_str_eq(json_string_value(json_object_get(data, "stage")), "rcpt", "%s",
	    r->name);
	cr_expect(strstr(json_string_value(json_object_get(data, "reply")), r->wording) != NULL,
	    "%s: %s", r->name, json_string_value(json_object_get(data, "reply")));
	json_decref(doc);
	test_proc_release(&p);
}

Test(smtp_postfix, listed_ip_is_refused_by_reject_rbl_client_and_confirmed_by_the_list)
{
	static const struct refusal r = { "listed ip", "203.0.113.7", "news@probe.test",
	    "alice@probe.test", "ip_blocklisted", "blocked using zen.spamhaus.org" };

	expect_refusal(&r);
}

Test(smtp_postfix, unknown_recipient_is_refused_by_reject_unlisted_recipient)
{
	static const struct refusal r = { "unknown recipient", "192.0.2.1", "news@probe.test",
	    "bob@probe.test", "recipient_unknown", "User unknown" };

	expect_refusal(&r);
}

Test(smtp_postfix, unknown_sender_domain_is_refused_by_reject_unknown_sender_domain)
{
	static const struct refusal r = { "unknown sender domain", "192.0.2.1",
	    "news@nowhere.probe.test", "alice@probe.test", "sender_domain_invalid",
	    "Domain not found" };

	expect_refusal(&r);
}

Test(smtp_postfix, address_without_ptr_is_refused_by_reject_unknown_reverse_client_hostname)
{
	static const struct refusal r = { "no ptr", "192.0.2.2", "news@probe.test",
	    "alice@probe.test", "rdns_missing", "cannot find your reverse hostname" };

	expect_refusal(&r);
}

Test(smtp_postfix, clean_sender_is_accepted_over_tls_and_the_verdict_is_clean)
{
	struct test_proc p;
	json_t *doc = probe(&p, "192.0.2.1", "news@probe.test", "alice@probe.test"), *tls;

	cr_expect_eq(p.status, 0, "exit %d: %s", p.status, p.out);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(doc, "verdict"),
	    "status")), "clean", "%s", p.out);
	cr_expect_str_eq(smtp_str(doc, "result"), "accepted");
	tls = json_object_get(test_check(doc, "smtp"), "tls");
	cr_expect_str_eq(json_string_value(json_object_get(tls, "starttls")), "ok");
	cr_expect(json_is_true(json_object_get(tls, "name_matches")),
	    "the fixture's certificate names mx.probe.test");
	cr_expect(json_is_false(json_object_get(tls, "chain_verified")),
	    "a self-signed certificate does not chain to the system's roots");
	smtp_finding(doc, "tls_ok");
	json_decref(doc);
	test_proc_release(&p);
}

Test(smtp_postfix, port_25_dropped_while_587_answers_is_port25_blocked)
{
	struct test_proc p;
	json_t *doc = probe(&p, "192.0.2.1", "news@probe.test", "alice@blocked25.probe.test"), *f;

	cr_expect_str_eq(top_cause(doc), "port25_blocked", "%s", p.out);
	cr_expect_str_eq(smtp_str(doc, "result"), "port25_blocked");
	f = smtp_finding(doc, "port25_blocked");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(f, "data"), "port")), 587);
	cr_expect_eq(p.status, 2, "exit %d", p.status);
	json_decref(doc);
	test_proc_release(&p);
}
