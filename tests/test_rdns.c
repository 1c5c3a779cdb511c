/* Check rdns against the fixture: every finding the reverse-DNS check can make, through the binary. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "core/util.h"

struct rdns_case {
	const char *name;
	const char *ip;
	const char *helo;
	bool via_fault;
	const char *status;		/* the check's status */
	const char *finding;		/* a finding it must have */
	const char *absent;		/* a finding it must not have, or NULL */
	const char *fcrdns;		/* "true", "false", "null" */
};

static const struct rdns_case cases[] = {
	{ "forward-confirmed", "192.0.2.1", NULL, false, "pass", "fcrdns_ok", "ptr_missing", "true" },
	{ "no PTR: nxdomain", "192.0.2.2", NULL, false, "fail", "ptr_missing", "ptr_lookup_failed", "false" },
	{ "no PTR: nodata", "192.0.2.8", NULL, false, "fail", "ptr_missing", NULL, "false" },
	{ "PTR name points elsewhere", "192.0.2.3", NULL, false, "fail", "fcrdns_mismatch", "fcrdns_ok", "false" },
	{ "PTR name does not exist", "192.0.2.6", NULL, false, "fail", "fcrdns_mismatch", NULL, "false" },
	{ "generic name", "192.0.2.4", NULL, false, "warn", "ptr_generic", NULL, "true" },
	{ "several PTRs", "192.0.2.5", NULL, false, "warn", "ptr_multiple", NULL, "true" },
	{ "PTR servfail is an error, not missing", "192.0.2.10", NULL, true, "error", "ptr_lookup_failed", "ptr_missing", "null" },
	{ "PTR timeout is an error, not missing", "192.0.2.11", NULL, true, "error", "ptr_lookup_failed", "ptr_missing", "null" },
	{ "forward lookup timeout is an error", "192.0.2.7", NULL, true, "error", "fcrdns_lookup_failed", "fcrdns_mismatch", "null" },
	{ "IPv6 forward-confirmed", "2001:db8::1", NULL, false, "pass", "fcrdns_ok", NULL, "true" },
	{ "IPv6 name without AAAA", "2001:db8::2", NULL, false, "fail", "fcrdns_mismatch", NULL, "false" },
	{ "IPv4-mapped IPv6 is checked as IPv4", "::ffff:192.0.2.1", NULL, false, "pass", "fcrdns_ok", NULL, "true" },
	{ "HELO differs from the PTR name", "192.0.2.1", "other.example.test", false, "pass", "ptr_helo_mismatch", NULL, "true" },
	{ "HELO equals the PTR name", "192.0.2.1", "mail.example.test", false, "pass", "fcrdns_ok", "ptr_helo_mismatch", "true" },
};

Test(rdns, each_reverse_dns_case_gives_its_finding)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct rdns_case *c = &cases[i];
		const char *args[] = { "--ip", c->ip, "--checks", "rdns", "--timeout", "3",
		    c->helo != NULL ? "--helo" : NULL, c->helo, NULL };
		struct test_proc p;
		json_t *doc, *check, *fc;
		char *got;

		test_why550(&p, c->via_fault ? test_fault() : test_ns(), args);
		doc = test_json(p.out);
		check = test_check(doc, "rdns");
		cr_assert_not_null(check, "%s: no rdns check", c->name);
		cr_expect_str_eq(json_string_value(json_object_get(check, "status")), c->status,
		    "%s: status", c->name);
		cr_expect(test_has_finding(check, c->finding), "%s: no %s", c->name, c->finding);
		if (c->absent != NULL)
			cr_expect(!test_has_finding(check, c->absent), "%s: has %s", c->name, c->absent);
		fc = json_object_get(check, "fcrdns");
		got = json_dumps(fc, JSON_ENCODE_ANY);
		cr_expect_str_eq(got, c->fcrdns, "%s: fcrdns", c->name);
		free(got);
		json_decref(doc);
		test_proc_release(&p);
	}
}

Test(rdns, generic_words_come_from_checks_d)
{
	/* with a config that knows no generic words, the DSL name is not generic by word */
	char *dir = xasprintf("%s/rdns-conf", test_env("WHY550_TMP"));
	char *file = xasprintf("%s/rdns.conf", dir);
	const char *argv[] = { test_env("WHY550_BIN"), "--config-dir", dir, "--resolver",
	    test_ns(), "--ip", "192.0.2.4", "--checks", "rdns", NULL };
	struct test_proc p;
	json_t *doc;
	FILE *fp;

	mkdir(dir, 0700);
	fp = fopen(file, "w");
	cr_assert_not_null(fp);
	fputs("[rdns]\ngeneric_octets = no\n", fp);
	fclose(fp);
	test_proc_run(&p, argv, NULL, 30);
	cr_assert_eq(p.status, 0, "exit %d: %s", p.status, p.err);
	doc = test_json(p.out);
	cr_expect(!test_has_finding(test_check(doc, "rdns"), "ptr_generic"));
	json_decref(doc);
	test_proc_release(&p);
	unlink(file);
	rmdir(dir);
	free(file);
	free(dir);
}
