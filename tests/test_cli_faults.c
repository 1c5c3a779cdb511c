/* A DNS failure is never a finding about the target: every check over a resolver that fails in each way the fault server knows. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "support.h"

#define TIMEOUT_S	"2"

/*
 * The fault server's failures (a word of tests/tool_faultdns.c), each
 * given to every query by one server of its own: no answer, error codes,
 * replies that cannot be used, aliases that loop or never end (in one
 * reply or over several), TCP refused after a truncated reply, and
 * answers that come just after the deadline. Answers that are merely
 * unusual (NXDOMAIN, many records) are not failures and are not here.
 */
struct fault {
	char word[16];		/* criterion copies parameters into the worker: no pointers */
};

static struct fault faults[] = {
	{ "timeout" }, { "servfail" }, { "refused" }, { "malformed" }, { "badid" }, { "badq" },
	{ "wrongsrc" }, { "tcrefuse" }, { "cnameloop" }, { "cnamechain" }, { "cnamerun" },
	{ "cnameping" }, { "late2100" },
};

ParameterizedTestParameters(cli_faults, no_dns_failure_becomes_a_finding_or_a_verdict)
{
	return cr_make_param_array(struct fault, faults, ARRAY_SIZE(faults));
}

/* Every warn or fail finding of every check in doc, as "check/code" lines (fresh string). */
static char *
negative_findings(json_t *doc)
{
	struct strbuf sb;
	json_t *check, *f;
	size_t i, j;

	strbuf_init(&sb);
	strbuf_add(&sb, "", 0);
	json_array_foreach(json_object_get(doc, "checks"), i, check) {
		json_array_foreach(json_object_get(check, "findings"), j, f) {
			const char *sev = json_string_value(json_object_get(f, "severity"));

			if (strcmp(sev, "warn") == 0 || strcmp(sev, "fail") == 0)
				strbuf_addf(&sb, "%s/%s (%s): %s\n",
				    json_string_value(json_object_get(check, "name")),
				    json_string_value(json_object_get(f, "code")), sev,
				    json_string_value(json_object_get(f, "message")));
		}
	}
	return strbuf_detach(&sb, NULL);
}

ParameterizedTest(struct fault *fault, cli_faults, no_dns_failure_becomes_a_finding_or_a_verdict,
    .timeout = 120)
{
	const char *const server[] = { "--all", fault->word, NULL };
	char resolver[64], *message = test_path("tests/dkim/signed-pass.eml"), *bad;
	/*
	 * The sample is a transactional message: the bulk check's one-click
	 * unsubscribe is a fact about the message (it has no List-Unsubscribe),
	 * not about DNS, and not what this test is about.
	 */
	char *conf = test_config_dir("[bulk]\nmarketing = no\n");
	const char *const argv[] = { test_env("WHY550_BIN"), "--config-dir", conf,
	    "--resolver", resolver, "--ip", "203.0.113.7", "--helo", "mail.mailer.test",
	    "--from", "alice@mailer.test", "--to", "bob@example.test", "--message", message,
	    "--selector", "sel2048", "--timeout", TIMEOUT_S, "--format", "json", NULL };
	const char *status;
	struct test_proc p;
	json_t *doc;
	pid_t pid;

	pid = test_faultdns_start(server, resolver, sizeof(resolver));
	test_proc_run(&p, argv, NULL, 60);
	test_faultdns_stop(pid);
	doc = test_valid_json(&p);
	status = json_string_value(json_object_get(json_object_get(doc, "verdict"), "status"));
	bad = negative_findings(doc);
	cr_expect_str_empty(bad, "fault %s: findings about the target from a DNS failure:\n%s",
	    fault->word, bad);
	cr_expect_str_eq(status, "inconclusive", "fault %s: verdict %s", fault->word, status);
	cr_expect_eq(p.status, 3, "fault %s: exit %d", fault->word, p.status);
	free(bad);
	json_decref(doc);
	test_proc_release(&p);
	free(message);
	free(conf);
}
